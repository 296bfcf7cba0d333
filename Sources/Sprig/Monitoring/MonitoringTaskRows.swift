import Foundation

/// Writes what the monitoring database holds of ended tasks — their `task`, `try` and `status`
/// rows — at as little cost per task as SQLite allows, since it shares the machine with the run.
///
/// What makes it cheap (measured in docs/PERFORMANCE.md, "Monitoring on vs off"): the statements
/// are prepared once per run; the run's id is bound once (SQLite keeps a binding across resets,
/// and every statement numbers it `?1`); times are formatted into a buffer of this object and
/// bound from there, with no `String` made; `status` rows wait in a small buffer and go into the
/// table `statusRowsPerStatement` at a time, in one multi-row INSERT.
///
/// Threading: the monitoring writer's (the recorder's thread), like its connection. Call
/// ``flush()`` before the transaction holding the rows commits.
final class MonitoringTaskRows {
    /// One row of `status`: a task passed a state (Parsl's names) at a time, in a try.
    struct Status {
        let name: StaticString
        let time: Date
        let tryID: Int
    }

    /// How many `status` rows one INSERT writes.
    static let statusRowsPerStatement = 16

    private let database: SQLiteDatabase
    private let task: SQLiteStatement
    private let attempt: SQLiteStatement
    private var statusStatements: [Int: SQLiteStatement] = [:]
    private var pendingStatuses: [(TaskID, Status)] = []
    private let runID: String
    private let timeText = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: MonitoringTimestamp.length)

    /// Prepares the statements for run `runID`.
    /// - Throws: ``StorageError`` when a statement does not compile (a database without Parsl's tables).
    init(database: SQLiteDatabase, runID: String) throws(StorageError) {
        self.database = database
        self.runID = runID
        task = try database.prepare("""
            INSERT OR REPLACE INTO task (task_id, run_id, task_depends, task_func_name, task_memoize, task_hashsum, task_inputs,
                task_outputs, task_stdin, task_stdout, task_stderr, task_time_invoked, task_time_returned, task_fail_count, task_fail_cost)
            VALUES (?2, ?1, ?3, ?4, ?9, ?10, NULL, NULL, NULL, NULL, NULL, ?5, ?6, ?7, ?8)
            """)
        attempt = try database.prepare("""
            INSERT OR REPLACE INTO try (try_id, task_id, run_id, block_id, hostname, task_executor, task_try_time_launched,
                task_try_time_running, task_try_time_returned, task_fail_history, task_joins)
            VALUES (?2, ?3, ?1, ?4, ?5, ?6, ?7, ?8, ?9, ?10, NULL)
            """)
        try task.bind(runID, at: 1)
        try attempt.bind(runID, at: 1)
        pendingStatuses.reserveCapacity(Self.statusRowsPerStatement)
    }

    deinit { timeText.deallocate() }

    /// Writes the `task` row of task `id`. `cache`: for a task of a cached app, its cache key if
    /// one was computed (`task_memoize` is then `True`, `task_hashsum` the key), else `nil` (`False`, NULL).
    func writeTask(_ id: TaskID, app: String, dependencies: [TaskID], invoked: Date, returned: Date, failCount: Int,
                   cache: String?? = nil) throws(StorageError) {
        try task.bind(Int64(id.rawValue), at: 2)
        try task.bind(dependencies.isEmpty ? "" : dependencies.map(\.description).joined(separator: ","), at: 3)
        try task.bind(app, at: 4)
        try bind(time: invoked, to: task, at: 5)
        try bind(time: returned, to: task, at: 6)
        try task.bind(Int64(failCount), at: 7)
        try task.bind(Double(failCount), at: 8)
        try task.bind(cache == nil ? "False" : "True", at: 9)
        try task.bind(cache ?? nil, at: 10)
        try task.run()
    }

    /// Writes the `try` row of try `tryID` of task `id`.
    func writeTry(_ tryID: Int, of id: TaskID, executor: String, placement: Placement?, launched: Date, running: Date?,
                  returned: Date?, failure: String?) throws(StorageError) {
        try attempt.bind(Int64(tryID), at: 2)
        try attempt.bind(Int64(id.rawValue), at: 3)
        try attempt.bind(placement?.block.map { String($0) }, at: 4)
        try attempt.bind(placement?.host, at: 5)
        try attempt.bind(executor, at: 6)
        try bind(time: launched, to: attempt, at: 7)
        try bind(time: running, to: attempt, at: 8)
        try bind(time: returned, to: attempt, at: 9)
        try attempt.bind(failure ?? "", at: 10)
        try attempt.run()
    }

    /// Queues the `status` rows of task `id`; they are written in groups, at the latest by ``flush()``.
    func writeStatuses(_ statuses: [Status], of id: TaskID) throws(StorageError) {
        for status in statuses {
            pendingStatuses.append((id, status))
            if pendingStatuses.count == Self.statusRowsPerStatement { try flush() }
        }
    }

    /// Writes the queued `status` rows.
    func flush() throws(StorageError) {
        guard !pendingStatuses.isEmpty else { return }
        let statement = try statusStatement(rows: pendingStatuses.count)
        for (row, (id, status)) in pendingStatuses.enumerated() {
            let base = 2 + row * 4
            try statement.bind(Int64(id.rawValue), at: base)
            try statement.bind(utf8: UnsafeBufferPointer(start: status.name.utf8Start, count: status.name.utf8CodeUnitCount), at: base + 1)
            try bind(time: status.time, to: statement, at: base + 2)
            try statement.bind(Int64(status.tryID), at: base + 3)
        }
        pendingStatuses.removeAll(keepingCapacity: true)
        try statement.run()
    }

    /// `INSERT OR IGNORE INTO status` of `rows` rows, prepared on first use.
    private func statusStatement(rows: Int) throws(StorageError) -> SQLiteStatement {
        if let statement = statusStatements[rows] { return statement }
        let values = (0..<rows).map { row in
            let base = 2 + row * 4
            return "(?\(base), ?\(base + 1), ?\(base + 2), ?1, ?\(base + 3))"
        }
        let statement = try database.prepare("INSERT OR IGNORE INTO status (task_id, task_status_name, timestamp, run_id, try_id) VALUES "
                                             + values.joined(separator: ", "))
        try statement.bind(runID, at: 1)
        statusStatements[rows] = statement
        return statement
    }

    /// Binds `date` as the database's local-time text (``MonitoringTimestamp``), or NULL.
    private func bind(time date: Date?, to statement: SQLiteStatement, at index: Int) throws(StorageError) {
        guard let date else { return try statement.bindNull(at: index) }
        let count = MonitoringTimestamp.write(MonitoringTimestamp.wallClock(date), into: timeText)
        try statement.bind(utf8: UnsafeBufferPointer(rebasing: timeText[..<count]), at: index)
    }
}
