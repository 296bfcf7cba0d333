import Foundation
import PythonBridge
@testable import Sprig
import Testing

/// `SELECT COUNT(*)` answers from a monitoring database, opened read-only as a reader would.
func count(_ sql: String, in path: String) throws -> Int {
    let database = try SQLiteDatabase(path: path, mode: .readOnly)
    let statement = try database.prepare(sql)
    var value = -1
    try statement.forEachRow { value = $0.int(at: 0) ?? -1 }
    return value
}

@Suite("The monitoring database", .serialized, .timeLimit(.minutes(2)))
struct MonitoringTests {
    /// Parsl's `test_monitoring/test_basic.py` checks, for one task.
    private func checkParslRowCounts(_ db: String, blocks: Bool) throws {
        #expect(try count("SELECT COUNT(*) FROM workflow", in: db) == 1)
        #expect(try count("SELECT COUNT(*) FROM task", in: db) == 1)
        #expect(try count("SELECT COUNT(*) FROM try", in: db) == 1)
        #expect(try count("""
            SELECT COUNT(*) FROM status, try WHERE status.task_id = try.task_id AND status.task_status_name='exec_done'
            AND task_try_time_running is NULL
            """, in: db) == 0)
        #expect(try count("SELECT COUNT(*) FROM workflow WHERE time_began IS NOT NULL AND time_completed IS NOT NULL", in: db) == 1)
        if blocks {
            #expect(try count("SELECT COUNT(*) FROM block", in: db) >= 2)
            // Parsl's exact count: the manager registered, busy, idle, gone.
            #expect(try count("SELECT COUNT(*) FROM node", in: db) == 4)
            #expect(try count("SELECT COUNT(*) FROM resource", in: db) >= 1)
        } else {
            #expect(try count("SELECT COUNT(*) FROM resource", in: db) == 0)
        }
    }

    @Test func aThreadExecutorRunHasParslsRowCounts() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dfk = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "t")], runDirectory: folder + "/runinfo",
                                                    monitoring: MonitoringOptions()))
        let app = try dfk.swiftApp(name: "this_app") { () in 5 }
        #expect(try app().result() == 5)
        dfk.shutdown()
        try checkParslRowCounts(folder + "/runinfo/monitoring.db", blocks: false)
        #expect(try count("SELECT COUNT(*) FROM task WHERE task_func_name = 'this_app' AND task_time_returned IS NOT NULL",
                          in: folder + "/runinfo/monitoring.db") == 1)
    }

    @Test func aProcessExecutorRunHasParslsRowCounts() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let htex = HighThroughputExecutor(label: "htex", maxWorkers: 1, provider: LocalProvider(initBlocks: 1, maxBlocks: 1))
        let db = folder + "/mon/db.sqlite"
        let dfk = try DataFlowKernel(config: Config(executors: [htex], runDirectory: folder + "/runinfo", strategy: .none,
                                                    python: PythonConfiguration(searchPaths: [samplesFolder]),
                                                    monitoring: MonitoringOptions(databasePath: db)))
        let add = try dfk.pythonApp(module: "engine_samples", function: "add")
        #expect(try add(2, 3).result(as: Int.self) == 5)
        let pids = dfk.executorStatus("htex")!.processIDs
        dfk.shutdown()
        #expect(eventually { pids.allSatisfy { !processExists($0) } }, "processes left behind")
        try checkParslRowCounts(db, blocks: true)
        #expect(try count("SELECT COUNT(*) FROM try WHERE block_id = '0' AND hostname IS NOT NULL AND task_executor = 'htex'", in: db) == 1)
    }

    /// Parsl's `test_monitoring/test_memoization_representation.py`: each call of a cached app has
    /// its cache key in `task_hashsum`; a call answered from the cache ends `memo_done` and has no
    /// try; the run log says so.
    @Test func aCallAnsweredFromTheCacheIsRecordedAsMemoDoneWithItsKey() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let dfk = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "t")], runDirectory: folder + "/runinfo",
                                                    monitoring: MonitoringOptions()))
        let app = try dfk.swiftApp(name: "this_app", options: AppOptions(cache: .arguments)) { (x: Int) in x + 1 }
        let plain = try dfk.swiftApp(name: "plain") { (x: Int) in x }
        let futures = [4, 17, 4, 4].map { x in
            let future = app(x)
            _ = try? future.result()
            return future
        }
        #expect(try futures.map { try $0.result() } == [5, 18, 5, 5])
        #expect(try plain(1).result() == 1)
        dfk.shutdown()
        let db = folder + "/runinfo/monitoring.db"
        #expect(try count("SELECT COUNT(*) FROM task WHERE task_func_name = 'this_app'", in: db) == 4)
        #expect(try count("SELECT COUNT(DISTINCT task_hashsum) FROM task WHERE task_func_name = 'this_app'", in: db) == 2)
        #expect(try count("""
            SELECT COUNT(*) FROM task WHERE task_hashsum = (SELECT task_hashsum FROM task WHERE task_id = \(futures[0].taskID))
            """, in: db) == 3)
        #expect(try count("SELECT COUNT(*) FROM task WHERE task_memoize = 'True' AND task_hashsum IS NOT NULL", in: db) == 4)
        #expect(try count("SELECT COUNT(*) FROM task WHERE task_memoize = 'False' AND task_hashsum IS NULL AND task_func_name = 'plain'",
                          in: db) == 1)
        #expect(try count("SELECT COUNT(*) FROM status WHERE task_status_name = 'exec_done'", in: db) == 3)
        #expect(try count("SELECT COUNT(*) FROM status WHERE task_status_name = 'memo_done'", in: db) == 2)
        for hit in [futures[2], futures[3]] {
            #expect(try count("SELECT COUNT(*) FROM status WHERE task_id = \(hit.taskID) AND task_status_name = 'memo_done'", in: db) == 1)
            #expect(try count("SELECT COUNT(*) FROM try WHERE task_id = \(hit.taskID)", in: db) == 0, "a cached call never ran")
        }
        let hitLines = try logLines(of: futures[3].taskID, in: dfk.runFolder)
        #expect(hitLines.last?.contains("task \(futures[3].taskID) ended: ok (from the cache)") == true, "\(hitLines)")
        let missLines = try logLines(of: futures[1].taskID, in: dfk.runFolder)
        #expect(missLines.last?.contains("ended: ok") == true && missLines.last?.contains("from the cache") == false, "\(missLines)")
    }

    /// Runs share the database; each has its own workflow row, and failures, retries and
    /// dependency failures have Parsl's states and counts.
    @Test func runsShareTheDatabaseAndFailuresAreRecorded() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        for _ in 0..<2 {
            let h = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "t")], retries: 1,
                                                      runDirectory: folder + "/runinfo", monitoring: MonitoringOptions()))
            let fail = try h.swiftApp(name: "fail") { () throws -> Int in throw ConfigError(message: "no") }
            let next = try h.swiftApp(name: "next") { (x: Int) in x }
            _ = try? next(fail()).result()
            h.shutdown()
        }
        let db = folder + "/runinfo/monitoring.db"
        #expect(try count("SELECT COUNT(*) FROM workflow WHERE tasks_failed_count = 2 AND tasks_completed_count = 0", in: db) == 2)
        #expect(try count("SELECT COUNT(*) FROM try WHERE task_fail_history LIKE 'ConfigError%'", in: db) == 4)
        #expect(try count("SELECT COUNT(*) FROM status WHERE task_status_name = 'fail_retryable'", in: db) == 2)
        #expect(try count("SELECT COUNT(*) FROM status WHERE task_status_name = 'dep_fail'", in: db) == 2)
        #expect(try count("SELECT COUNT(*) FROM task WHERE task_func_name = 'fail' AND task_fail_count = 2", in: db) == 2)
    }
}
