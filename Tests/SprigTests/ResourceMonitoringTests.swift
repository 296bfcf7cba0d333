import Foundation
@testable import Sprig
import Testing

/// Resource rows in the monitoring database come from the process executor's workers: one at
/// the end of every try and one every interval while it runs, with plausible values and the pid
/// of the worker the run log names; a thread executor's tries get none.
@Suite("Resource samples from workers", .serialized, .timeLimit(.minutes(2)))
struct ResourceMonitoringTests {
    static let interval = Duration.milliseconds(200)

    /// One resource row, as read back from the database.
    struct Row {
        let tryID: Int
        let pid: Int32
        let cpu: Double
        let resident: Double
        let children: Int
        let status: String
        let interval: Double
    }

    static func rows(of task: TaskID, in path: String) throws -> [Row] {
        let database = try SQLiteDatabase(path: path, mode: .readOnly)
        let statement = try database.prepare("""
            SELECT try_id, psutil_process_pid, psutil_process_time_user + psutil_process_time_system, psutil_process_memory_resident,
                   psutil_process_children_count, psutil_process_status, resource_monitoring_interval
            FROM resource WHERE task_id = ? ORDER BY timestamp
            """)
        try statement.bind(task.rawValue, at: 1)
        var rows: [Row] = []
        try statement.forEachRow { row in
            rows.append(Row(tryID: row.int(at: 0) ?? -1, pid: Int32(row.int(at: 1) ?? -1), cpu: row.double(at: 2) ?? -1,
                            resident: row.double(at: 3) ?? -1, children: row.int(at: 4) ?? -1, status: row.string(at: 5) ?? "",
                            interval: row.double(at: 6) ?? -1))
        }
        return rows
    }

    /// The worker pids that the run log's `running` lines of `task` name.
    static func loggedWorkerPIDs(_ task: TaskID, in log: [Substring]) -> Set<Int32> {
        Set(log.filter { $0.contains("task \(task) running: try 0 on executor htex, block 0, host \(Placement.localHost), ") }
            .compactMap { line in line.range(of: "worker pid ").flatMap { Int32(line[$0.upperBound...].prefix(while: \.isNumber)) } })
    }

    @Test func processExecutorTriesHaveResourceRowsAndThreadTriesNone() throws {
        let db = try scratchFolder() + "/monitoring.db"
        defer { try? FileManager.default.removeItem(atPath: (db as NSString).deletingLastPathComponent) }
        let h = try ProcessHarness(others: [ThreadPoolExecutor(label: "threads", maxThreads: 1)],
                                   monitoring: MonitoringOptions(databasePath: db, resourceInterval: Self.interval))
        defer { h.close() }
        let onWorkers = AppOptions(executors: ["htex"])
        let burn = try h.python("burn", options: onWorkers)(0.3)
        let long = try h.python("sleep_then", options: onWorkers)(0.7, 1)  // 3.5× the interval
        let short = try (0..<3).map { try h.python("add", options: onWorkers)($0, 1) }
        let bash = try h.dfk.bashApp(module: "engine_samples", function: "busy_command", options: onWorkers)(0.3)
        let onThreads = try h.python("add", options: AppOptions(executors: ["threads"]))(2, 2)
        let burner = Int32(try burn.result(as: Int.self))
        #expect(try long.result(as: Int.self) == 1 && onThreads.result(as: Int.self) == 4)
        for future in short { _ = try future.result(as: Int.self) }
        #expect(try bash.result() == 0)
        h.rememberProcesses()
        h.dfk.shutdown()

        // Every try on a worker that ran 10 ms or more has one row at least, from the worker the
        // run log says ran it; a no-op right after a sample of its worker has none (so a burst of
        // them costs a row per worker per interval, not one each); a thread's, none.
        let log = try String(contentsOfFile: h.dfk.runFolder + "/parsl.log", encoding: .utf8).split(separator: "\n")
        for task in short.map(\.taskID) {
            let rows = try Self.rows(of: task, in: db)
            #expect(rows.count <= 1 && rows.allSatisfy { Self.loggedWorkerPIDs(task, in: log).contains($0.pid) }, "task \(task): \(rows)")
        }
        for task in [burn.taskID, long.taskID, bash.taskID] {
            let rows = try Self.rows(of: task, in: db)
            #expect(!rows.isEmpty, "task \(task) has no resource rows")
            #expect(rows.allSatisfy { $0.tryID == 0 && $0.resident > 0 && $0.interval == 0.2 && !$0.status.isEmpty }, "\(rows)")
            #expect(Self.loggedWorkerPIDs(task, in: log) == Set(rows.map(\.pid)), "task \(task): \(rows)")
        }
        #expect(try Self.rows(of: onThreads.taskID, in: db).isEmpty)
        #expect(try count("SELECT COUNT(*) FROM resource", in: db) >= 5)
        // A try of 3.5× the interval is sampled while it runs (at 1×, 2×, 3×), and at its end.
        #expect(try Self.rows(of: long.taskID, in: db).count >= 3)
        // The busy try's worker used its 0.3 s of CPU; the sample names the worker that ran it.
        let burnRows = try Self.rows(of: burn.taskID, in: db)
        #expect(burnRows.last!.cpu >= 0.25 && burnRows.last!.pid == burner, "\(burnRows)")
        // A bash app's command counts: its child while it runs, its CPU time at the end.
        let bashRows = try Self.rows(of: bash.taskID, in: db)
        #expect(bashRows.dropLast().contains { $0.children >= 1 } && bashRows.last!.cpu >= 0.25, "\(bashRows)")

        // The try records say where: the block and the host's own name; the run log names the worker.
        #expect(try count("SELECT COUNT(*) FROM try WHERE task_executor = 'htex' AND block_id = '0' AND hostname = '\(Placement.localHost)'",
                          in: db) == 6)
        #expect(Self.loggedWorkerPIDs(burn.taskID, in: log) == [burner])
    }

    @Test func withoutResourceMonitoringWorkersSendNoSamples() throws {
        let db = try scratchFolder() + "/monitoring.db"
        defer { try? FileManager.default.removeItem(atPath: (db as NSString).deletingLastPathComponent) }
        let h = try ProcessHarness(monitoring: MonitoringOptions(databasePath: db, resourceInterval: Self.interval,
                                                                 resourceMonitoring: false))
        defer { h.close() }
        let pid = try h.python("worker_pid")().result(as: Int.self)
        h.rememberProcesses()
        h.dfk.shutdown()
        #expect(try count("SELECT COUNT(*) FROM resource", in: db) == 0)
        #expect(try count("SELECT COUNT(*) FROM try WHERE hostname = '\(Placement.localHost)'", in: db) == 1)
        let log = try String(contentsOfFile: h.dfk.runFolder + "/parsl.log", encoding: .utf8)
        #expect(log.contains("worker pid \(pid)"))
    }
}
