import Foundation
import PythonBridge

/// The recorder's sink that writes Parsl's monitoring database (``MonitoringSchema``).
///
/// What it writes, with Parsl's meanings: one `workflow` row per run (counts updated as tasks end,
/// `time_completed` at the end); for each task, when it ends, its `task` row, a `try` row per try
/// and a `status` row per state it passed (`pending`, `launched`, `running`, `fail_retryable`,
/// then `exec_done`, `failed` or `dep_fail`; `memo_done` for a call answered from the app cache,
/// which has no try; a cached app's tasks have `task_memoize` `True` and their key in `task_hashsum`); `block` rows as blocks are started (`PENDING`),
/// answer (`RUNNING`) and end (`SCALED_IN`, or `FAILED` when lost); `node` rows when a block's
/// manager registers (active), starts or stops having work, and goes (inactive), as Parsl's
/// interchange reports each change of a manager; `resource` rows as samples come.
/// Each batch of events is one transaction.
///
/// Threading: the recorder's thread only (made on the kernel's, which opens the file so that a
/// bad path fails the kernel's start, naming the file).
final class MonitoringWriter: RunSink {
    private let database: SQLiteDatabase
    private let runID: String
    private let options: MonitoringOptions
    private var tasks: [TaskID: TaskRecord] = [:]
    /// Each ready block's host, workers and tries running, by executor and block: a `node` row is
    /// written whenever a block starts or stops having work, as Parsl's interchange sends one
    /// whenever a manager's state changes (registered, busy, idle, gone).
    private var blocks: [BlockKey: (host: String, workers: Int, running: Int)] = [:]

    private struct BlockKey: Hashable {
        let executor: String
        let block: Int
    }
    private var completed = 0
    private var failed = 0
    private var failedWrites = 0
    private let onError: (String) -> Void
    private let rows: MonitoringTaskRows

    /// What is known of a task until it ends and is written.
    private struct TaskRecord {
        var app: String
        var dependencies: [TaskID]
        var invoked: Date
        var tries: [TryRecord] = []
        var statuses: [MonitoringTaskRows.Status] = []
        /// `nil` for a task of an app that is not cached; else its cache key, if one was computed.
        var cacheKey: String?? = nil
    }

    private struct TryRecord {
        var executor: String
        var launched: Date
        var running: Date?
        var returned: Date?
        var placement: Placement?
        var failure: String?
    }

    /// Opens (creating) the database, adds the tables that are missing and the `workflow` row of
    /// run `runID` (the kernel's).
    /// - Throws: ``StorageError`` naming the file.
    init(options: MonitoringOptions, path: String, runFolder: String, runID: String, onError: @escaping (String) -> Void) throws {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        database = try SQLiteDatabase(path: path)
        try database.enableWriteAheadLog()
        // With WAL, NORMAL syncs at checkpoints, not at every commit: a killed engine still leaves
        // every committed batch (only a power cut can lose the last ones), at no fsync per batch.
        try database.execute("PRAGMA synchronous=NORMAL")
        try MonitoringSchema.create(in: database)
        self.runID = runID
        rows = try MonitoringTaskRows(database: database, runID: runID)
        self.options = options
        self.onError = onError
        let began = Date()
        let name = options.workflowName ?? (CommandLine.arguments.first.map { ($0 as NSString).lastPathComponent } ?? "sprig")
        try database.prepare("""
            INSERT INTO workflow (run_id, workflow_name, workflow_version, time_began, time_completed, host, user, rundir,
                                  tasks_failed_count, tasks_completed_count) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, 0, 0)
            """).run([.text(runID), .text(name), .text(options.workflowVersion ?? MonitoringTimestamp.text(began)),
                      .text(MonitoringTimestamp.text(began)), .text(Placement.localHost), .text(NSUserName()),
                      .text((runFolder as NSString).standardizingPath)])
    }

    func write(_ events: [RunEvent]) {
        do {
            try database.transaction {
                for event in events { try apply(event) }
                try rows.flush()
                try updateCounts(completedAt: nil)
            }
        } catch {
            failedWrites += 1
            if failedWrites <= 3 { onError("the monitoring database \(database.path) could not be written: \(error)") }
        }
    }

    func close() {
        do {
            try database.transaction { try updateCounts(completedAt: Date()) }
        } catch {
            onError("the monitoring database \(database.path) could not be completed: \(error)")
        }
    }

    private func apply(_ event: RunEvent) throws {
        let time = event.time
        switch event.kind {
        case .taskSubmitted(let id, let app, let dependencies):
            tasks[id] = TaskRecord(app: app, dependencies: dependencies, invoked: time, statuses: [.init(name: "pending", time: time, tryID: 0)])
        case .taskLaunched(let id, let tryID, let executor):
            tasks[id]?.tries.append(TryRecord(executor: executor, launched: time))
            tasks[id]?.statuses.append(.init(name: "launched", time: time, tryID: tryID))
        case .taskRunning(let id, let tryID, let executor, let placement):
            guard tasks[id]?.tries.indices.contains(tryID) == true else { return }
            tasks[id]?.tries[tryID].running = time
            tasks[id]?.tries[tryID].placement = placement
            tasks[id]?.statuses.append(.init(name: "running", time: time, tryID: tryID))
            try noteWork(executor: executor, placement: placement, change: 1, at: time)
        case .taskRetried(let id, let tryID, let error):
            guard tasks[id]?.tries.indices.contains(tryID) == true else { return }
            if let attempt = tasks[id]?.tries[tryID], attempt.running != nil {
                try noteWork(executor: attempt.executor, placement: attempt.placement, change: -1, at: time)
            }
            tasks[id]?.tries[tryID].returned = time
            tasks[id]?.tries[tryID].failure = FailureSummary(error).line
            tasks[id]?.statuses.append(.init(name: "fail_retryable", time: time, tryID: tryID))
        case .taskCached(let id, let key):
            tasks[id]?.cacheKey = .some(key)
        case .taskEnded(let id, _, let tryID, let ending):
            guard var record = tasks.removeValue(forKey: id) else { return }
            let state: StaticString
            switch ending {
            case .ok: state = "exec_done"; completed += 1
            case .cached: state = "memo_done"
            case .failed(let error):
                state = "failed"; failed += 1
                if let tryID, record.tries.indices.contains(tryID) { record.tries[tryID].failure = FailureSummary(error).line }
            case .dependencyFailed: state = "dep_fail"; failed += 1
            case .cancelled: state = "failed"; failed += 1
            }
            if let tryID, record.tries.indices.contains(tryID) {
                record.tries[tryID].returned = time
                if record.tries[tryID].running != nil {
                    try noteWork(executor: record.tries[tryID].executor, placement: record.tries[tryID].placement, change: -1, at: time)
                }
            }
            record.statuses.append(.init(name: state, time: time, tryID: tryID ?? 0))
            try writeTask(id, record, returned: time)
        case .blockStarted(let executor, let block, _, let jobID):
            try writeBlock(executor, block, jobID: jobID, status: "PENDING", at: time)
        case .blockReady(let executor, let block, let host, let workers):
            try writeBlock(executor, block, jobID: nil, status: "RUNNING", at: time)
            try writeNode(executor, block, host: host, workers: workers, active: true, at: time)
            blocks[BlockKey(executor: executor, block: block)] = (host, workers, 0)
        case .blockEnded(let executor, let block, let host, let reason):
            blocks[BlockKey(executor: executor, block: block)] = nil
            try writeBlock(executor, block, jobID: nil, status: reason == nil ? "SCALED_IN" : "FAILED", at: time)
            try writeNode(executor, block, host: host, workers: 0, active: false, at: time)
        case .resources(let sample):
            try writeResource(sample)
        case .log:
            break
        }
    }

    private func writeTask(_ id: TaskID, _ record: TaskRecord, returned: Date) throws {
        try rows.writeTask(id, app: record.app, dependencies: record.dependencies, invoked: record.invoked, returned: returned,
                           failCount: record.tries.count { $0.failure != nil }, cache: record.cacheKey)
        for (tryID, attempt) in record.tries.enumerated() {
            try rows.writeTry(tryID, of: id, executor: attempt.executor, placement: attempt.placement, launched: attempt.launched,
                              running: attempt.running, returned: attempt.returned, failure: attempt.failure)
        }
        try rows.writeStatuses(record.statuses, of: id)
    }

    /// Counts a try starting (`change` 1) or ending (-1) on its block; writes a `node` row when
    /// the block goes from idle to busy or back.
    private func noteWork(executor: String, placement: Placement?, change: Int, at time: Date) throws {
        guard let block = placement?.block, var entry = blocks[BlockKey(executor: executor, block: block)] else { return }
        let before = entry.running
        entry.running = max(0, entry.running + change)
        blocks[BlockKey(executor: executor, block: block)] = entry
        if (before == 0) != (entry.running == 0) {
            try writeNode(executor, block, host: entry.host, workers: entry.workers, active: true, at: time)
        }
    }

    private func writeBlock(_ executor: String, _ block: Int, jobID: String?, status: String, at time: Date) throws {
        try statement("""
            INSERT OR IGNORE INTO block (run_id, executor_label, block_id, job_id, timestamp, status) VALUES (?, ?, ?, ?, ?, ?)
            """).run([.text(runID), .text(executor), .text(String(block)), jobID.map { .text($0) } ?? .null, .text(Self.text(time)), .text(status)])
    }

    private func writeNode(_ executor: String, _ block: Int, host: String, workers: Int, active: Bool, at time: Date) throws {
        let info = ProcessInfo.processInfo
        let python = Python.info.map { "\($0.version.major).\($0.version.minor)" } ?? ""
        try statement("""
            INSERT INTO node (run_id, hostname, uid, block_id, cpu_count, total_memory, active, worker_count, python_v, timestamp,
                last_heartbeat) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).run([.text(runID), .text(host), .text("\(executor)-block-\(block)"), .text(String(block)),
                      .integer(Int64(info.activeProcessorCount)), .integer(Int64(info.physicalMemory)), .integer(active ? 1 : 0),
                      .integer(Int64(workers)), .text(python), .text(Self.text(time)), .text(Self.text(time))])
    }

    private func writeResource(_ sample: ResourceSample) throws {
        let usage = sample.usage
        try statement("""
            INSERT OR IGNORE INTO resource (try_id, task_id, run_id, timestamp, resource_monitoring_interval, psutil_process_pid,
                psutil_process_memory_percent, psutil_process_children_count, psutil_process_time_user, psutil_process_time_system,
                psutil_process_memory_virtual, psutil_process_memory_resident, psutil_process_disk_read, psutil_process_disk_write,
                psutil_process_status, psutil_cpu_num, psutil_process_num_ctx_switches_voluntary,
                psutil_process_num_ctx_switches_involuntary) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).run([.integer(Int64(sample.tryID)), .integer(Int64(sample.taskID.rawValue)), .text(runID), .text(Self.text(usage.time)),
                      .real(options.resourceInterval.seconds), .integer(Int64(usage.pid)), .real(usage.memoryPercent),
                      .real(Double(usage.children)), .real(usage.userTime), .real(usage.systemTime), .real(Double(usage.virtualBytes)),
                      .real(Double(usage.residentBytes)), .real(Double(usage.readBytes)), .real(Double(usage.writeBytes)),
                      .text(usage.status), .text(String(usage.cpu)), .real(Double(usage.voluntarySwitches)),
                      .real(Double(usage.involuntarySwitches))])
    }

    private func updateCounts(completedAt end: Date?) throws {
        try statement(end == nil
            ? "UPDATE workflow SET tasks_completed_count = ?, tasks_failed_count = ? WHERE run_id = ?"
            : "UPDATE workflow SET tasks_completed_count = ?, tasks_failed_count = ?, time_completed = ? WHERE run_id = ?")
            .run([.integer(Int64(completed)), .integer(Int64(failed))] + (end.map { [.text(Self.text($0))] } ?? []) + [.text(runID)])
    }

    /// Prepared statements, kept for the run.
    private var prepared: [String: SQLiteStatement] = [:]

    private func statement(_ sql: String) throws -> SQLiteStatement {
        if let statement = prepared[sql] { return statement }
        let statement = try database.prepare(sql)
        prepared[sql] = statement
        return statement
    }

    private static func text(_ date: Date) -> String { MonitoringTimestamp.text(date) }
}
