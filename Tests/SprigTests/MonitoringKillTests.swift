import Foundation
@testable import Sprig
import Testing

/// A `sprig run` killed with SIGKILL leaves a monitoring database that opens, holds every task
/// the run log says had ended (the recorder commits a batch to the database before it writes the
/// batch's lines to `parsl.log`), and nothing half-written; its blocks and workers go too.
@Suite("The monitoring database after SIGKILL", .serialized, .timeLimit(.minutes(2)))
struct MonitoringKillTests {
    @Test func aKilledRunLeavesEveryEndedTaskInTheDatabase() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let process = try launchSprig(["run", "\(scriptsFolder)/monitored_until_killed.py"], in: folder)
        let log = folder + "/runinfo/000/parsl.log"
        // The 30 quick tasks ended and both sleepers run (their pids are there): a run in full swing.
        let busy = eventually(timeout: .seconds(60)) {
            endedTasks(in: log).count >= 30 && ((try? FileManager.default.contentsOfDirectory(atPath: folder + "/pids"))?.count ?? 0) >= 2
        }
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try #require(busy, "the run did not get going: \((try? String(contentsOfFile: log, encoding: .utf8)) ?? "no log")")
        let ended = endedTasks(in: log)

        let db = folder + "/monitoring.db"
        #expect(try count("SELECT COUNT(*) FROM pragma_integrity_check WHERE integrity_check = 'ok'", in: db) == 1)
        #expect(try count("SELECT COUNT(*) FROM workflow WHERE time_completed IS NULL", in: db) == 1)
        let inTable = try taskIDs("SELECT task_id FROM task WHERE task_time_returned IS NOT NULL", in: db)
        #expect(ended.isSubset(of: inTable), "ended per parsl.log but missing: \(ended.subtracting(inTable).sorted())")
        // Each task's rows come in one transaction: no task without its try and final status.
        #expect(try count("""
            SELECT COUNT(*) FROM task WHERE NOT EXISTS (SELECT 1 FROM try WHERE try.task_id = task.task_id AND try.run_id = task.run_id)
            OR NOT EXISTS (SELECT 1 FROM status WHERE status.task_id = task.task_id AND status.run_id = task.run_id
                           AND status.task_status_name = 'exec_done')
            """, in: db) == 0)

        // The block's manager (its pid is the block's job id) and every worker that ran a task end.
        var pids = Set(try taskIDs("SELECT job_id FROM block WHERE job_id IS NOT NULL", in: db).map { Int32($0) })
        for name in try FileManager.default.contentsOfDirectory(atPath: folder + "/pids") { if let pid = Int32(name) { pids.insert(pid) } }
        #expect(pids.count >= 2)
        let gone = eventually(timeout: .seconds(20)) { pids.allSatisfy { !processExists($0) } }
        for pid in pids where processExists(pid) { kill(pid, SIGKILL) }
        #expect(gone, "left behind: \(pids.filter(processExists).sorted())")
    }

    /// The ids of the tasks `parsl.log` says ended.
    private func endedTasks(in log: String) -> Set<Int> {
        guard let text = try? String(contentsOfFile: log, encoding: .utf8) else { return [] }
        var ids: Set<Int> = []
        for line in text.split(separator: "\n") {
            guard let range = line.range(of: " task "), line.contains(" ended: ") else { continue }
            if let id = Int(line[range.upperBound...].prefix { $0.isNumber }) { ids.insert(id) }
        }
        return ids
    }

    private func taskIDs(_ sql: String, in path: String) throws -> Set<Int> {
        let database = try SQLiteDatabase(path: path, mode: .readOnly)
        var ids: Set<Int> = []
        try database.prepare(sql).forEachRow { row in
            if let id = row.int(at: 0) ?? row.string(at: 0).flatMap({ Int($0) }) { ids.insert(id) }
        }
        return ids
    }
}
