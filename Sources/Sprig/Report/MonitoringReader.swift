/// Reads runs out of a monitoring database in Parsl's schema (``MonitoringSchema``), read-only.
///
/// Reads only what the report shows, one query per table, filtered by run. Accepts any database
/// with Parsl's tables, whoever wrote it (Parsl itself or Sprig); tables other than `workflow`
/// may be missing (an older Parsl, a run without blocks) and then read as empty.
///
/// Threading: a reader owns its connection; use it on one thread at a time.
package final class MonitoringReader {
    /// One run, as the `workflow` table lists it.
    package struct Listing: Sendable, Equatable {
        package var runID: String
        package var name: String?
        package var began: Double
        package var runDirectory: String
    }

    package let path: String
    let database: SQLiteDatabase
    let tables: Set<String>

    /// Opens the database at `path` read-only.
    ///
    /// - Throws: ``StorageError`` when SQLite cannot open or read it; ``ReportError`` when it has
    ///   no `workflow` table.
    package init(path: String) throws {
        self.path = path
        database = try SQLiteDatabase(path: path, mode: .readOnly)
        var names: Set<String> = []
        try database.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").forEachRow { row in
            if let name = row.string(at: 0) { names.insert(name) }
        }
        guard names.contains("workflow") else { throw ReportError.notMonitoring(path) }
        tables = names
    }

    /// Every run in the database, oldest first.
    package func runs() throws -> [Listing] {
        var listings: [Listing] = []
        let query = try database.prepare("SELECT run_id, workflow_name, time_began, rundir FROM workflow")
        try query.forEachRow { row in
            listings.append(Listing(runID: row.string(at: 0) ?? "", name: row.string(at: 1),
                                    began: Self.time(row, 2) ?? 0, runDirectory: row.string(at: 3) ?? ""))
        }
        return listings.sorted { ($0.began, $0.runID) < ($1.began, $1.runID) }
    }

    /// Everything the report needs about run `runID`.
    ///
    /// - Throws: ``ReportError`` when there is no such run; ``StorageError`` when a table cannot
    ///   be read.
    package func read(runID: String) throws -> RunData {
        guard let workflow = try readWorkflow(runID) else {
            throw ReportError.unknownRun(runID, in: path, known: try runs().map(\.runID))
        }
        let states = try readStates(runID)
        return RunData(workflow: workflow, tasks: try readTasks(runID, states: states), tries: try readTries(runID),
                       blockStates: try readBlockStates(runID), nodes: try readNodes(runID),
                       resources: try readResources(runID))
    }

    // MARK: One table each

    private func readWorkflow(_ runID: String) throws -> RunData.Workflow? {
        let query = try database.prepare("""
            SELECT run_id, workflow_name, workflow_version, time_began, time_completed, host, user, rundir
            FROM workflow WHERE run_id = ?
            """)
        try query.bind(runID, at: 1)
        guard try query.step() else { return nil }
        return RunData.Workflow(runID: runID, name: query.string(at: 1), version: query.string(at: 2),
                                began: Self.time(query, 3) ?? 0, completed: Self.time(query, 4),
                                host: query.string(at: 5) ?? "", user: query.string(at: 6) ?? "",
                                runDirectory: query.string(at: 7) ?? "")
    }

    /// Each task's final state (the latest final one), or its latest state when it has none yet.
    private func readStates(_ runID: String) throws -> [Int: TaskState] {
        var latest: [Int: (state: TaskState, time: Double)] = [:]
        try rows("SELECT task_id, task_status_name, timestamp FROM status WHERE run_id = ?", runID, table: "status") { row in
            let id = row.int(at: 0) ?? -1, state = TaskState(row.string(at: 1) ?? ""), time = Self.time(row, 2) ?? 0
            if let seen = latest[id] {
                // A final state wins over any other; between two of a kind, the later one.
                let replaces = state.isFinal != seen.state.isFinal ? state.isFinal : time >= seen.time
                guard replaces else { return }
            }
            latest[id] = (state, time)
        }
        return latest.mapValues(\.state)
    }

    private func readTasks(_ runID: String, states: [Int: TaskState]) throws -> [RunData.Task] {
        var tasks: [RunData.Task] = []
        try rows("""
            SELECT task_id, task_func_name, task_depends, task_time_invoked, task_time_returned, task_fail_count
            FROM task WHERE run_id = ? ORDER BY task_id
            """, runID, table: "task") { row in
            let id = row.int(at: 0) ?? -1
            let depends = (row.string(at: 2) ?? "").split(separator: ",").compactMap { Int($0.trimmingSpaces) }
            tasks.append(RunData.Task(id: id, app: row.string(at: 1) ?? "?", dependencies: depends,
                                      invoked: Self.time(row, 3), returned: Self.time(row, 4),
                                      failCount: row.int(at: 5) ?? 0, state: states[id] ?? .pending))
        }
        return tasks
    }

    private func readTries(_ runID: String) throws -> [RunData.Try] {
        var tries: [RunData.Try] = []
        try rows("""
            SELECT task_id, try_id, task_executor, block_id, hostname, task_try_time_launched,
                   task_try_time_running, task_try_time_returned, task_fail_history
            FROM try WHERE run_id = ? ORDER BY task_id, try_id
            """, runID, table: "try") { row in
            let failure = row.string(at: 8)
            tries.append(RunData.Try(taskID: row.int(at: 0) ?? -1, tryID: row.int(at: 1) ?? 0,
                                     executor: row.string(at: 2) ?? "", blockID: row.string(at: 3).flatMap(Self.nonEmpty),
                                     hostname: row.string(at: 4).flatMap(Self.nonEmpty), launched: Self.time(row, 5),
                                     running: Self.time(row, 6), returned: Self.time(row, 7),
                                     failure: failure.flatMap(Self.nonEmpty)))
        }
        return tries
    }

    private func readBlockStates(_ runID: String) throws -> [RunData.BlockState] {
        var states: [RunData.BlockState] = []
        try rows("SELECT executor_label, block_id, job_id, timestamp, status FROM block WHERE run_id = ?", runID, table: "block") { row in
            states.append(RunData.BlockState(executor: row.string(at: 0) ?? "", blockID: row.string(at: 1) ?? "",
                                             jobID: row.string(at: 2), time: Self.time(row, 3) ?? 0,
                                             status: row.string(at: 4) ?? "UNKNOWN"))
        }
        return states.sorted { $0.time < $1.time }
    }

    private func readNodes(_ runID: String) throws -> [RunData.Node] {
        var nodes: [RunData.Node] = []
        try rows("""
            SELECT hostname, uid, block_id, cpu_count, total_memory, worker_count, timestamp
            FROM node WHERE run_id = ?
            """, runID, table: "node") { row in
            nodes.append(RunData.Node(hostname: row.string(at: 0) ?? "", uid: row.string(at: 1) ?? "",
                                      blockID: row.string(at: 2) ?? "", cpuCount: row.int(at: 3) ?? 0,
                                      totalMemory: row.int64(at: 4) ?? 0, workerCount: row.int(at: 5) ?? 0,
                                      time: Self.time(row, 6) ?? 0))
        }
        return nodes
    }

    private func readResources(_ runID: String) throws -> [RunData.ResourceSample] {
        var samples: [RunData.ResourceSample] = []
        try rows("""
            SELECT task_id, try_id, timestamp, psutil_process_pid, psutil_process_time_user,
                   psutil_process_time_system, psutil_process_memory_resident
            FROM resource WHERE run_id = ?
            """, runID, table: "resource") { row in
            let user = row.double(at: 4), system = row.double(at: 5)
            samples.append(RunData.ResourceSample(taskID: row.int(at: 0) ?? -1, tryID: row.int(at: 1) ?? 0,
                                                  time: Self.time(row, 2) ?? 0, pid: row.int(at: 3),
                                                  cpuSeconds: user.map { $0 + (system ?? 0) } ?? system,
                                                  residentBytes: row.double(at: 6)))
        }
        return samples.sorted { $0.time < $1.time }
    }

    // MARK: Helpers

    /// Runs `sql` with the run id bound and calls `body` per row; a missing table reads as empty.
    private func rows(_ sql: String, _ runID: String, table: String, _ body: (SQLiteStatement) throws -> Void) throws {
        guard tables.contains(table) else { return }
        let query = try database.prepare(sql)
        try query.bind(runID, at: 1)
        try query.forEachRow(body)
    }

    /// A time column: Parsl's DATETIME text, or a number of seconds.
    static func time(_ row: SQLiteStatement, _ column: Int) -> Double? {
        switch row.value(at: column) {
        case .text(let text): MonitoringTimestamp.seconds(text)
        case .real(let seconds): seconds
        case .integer(let seconds): Double(seconds)
        default: nil
        }
    }

    static func nonEmpty(_ text: String) -> String? { text.isEmpty ? nil : text }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var text = self
        while text.first == " " { text.removeFirst() }
        while text.last == " " { text.removeLast() }
        return text
    }
}
