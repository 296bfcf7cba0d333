import Foundation
import Sprig

/// Writes runs into a real SQLite monitoring database made with `MonitoringSchema`, row by row in
/// Parsl's shapes (times as DATETIME text, `block_id` text, a `status` row per state), as an
/// engine would. Used by the report tests.
final class MonitoringFixture {
    /// One try of a task to record.
    struct Try {
        var executor: String
        var block: String?
        var host: String?
        var launched: Double
        var running: Double
        var returned: Double
        var failure: String?
    }

    let path: String
    let runID: String
    let began: Double
    let database: SQLiteDatabase
    private let insertTask, insertTry, insertStatus, insertResource: SQLiteStatement
    private(set) var failedTasks = 0, completedTasks = 0

    /// A database at `path` (created, or added to) with a new run that began at `began`.
    init(path: String, runID: String = UUID().uuidString, name: String?, began: Double, runDirectory: String) throws {
        self.path = path
        self.runID = runID
        self.began = began
        database = try SQLiteDatabase(path: path)
        try database.enableWriteAheadLog()
        try MonitoringSchema.create(in: database)
        try database.prepare("""
            INSERT INTO workflow (run_id, workflow_name, workflow_version, time_began, host, user, rundir,
                                  tasks_failed_count, tasks_completed_count) VALUES (?, ?, ?, ?, 'node-a', 'tester', ?, 0, 0)
            """).run([.text(runID), name.map(SQLiteValue.text) ?? .null, .text(MonitoringTimestamp.text(began)),
                      .text(MonitoringTimestamp.text(began)), .text(runDirectory)])
        insertTask = try database.prepare("""
            INSERT INTO task (task_id, run_id, task_depends, task_func_name, task_memoize, task_inputs, task_outputs,
                              task_stdin, task_stdout, task_stderr, task_time_invoked, task_time_returned,
                              task_fail_count, task_fail_cost)
            VALUES (?, ?, ?, ?, '0', 'None', 'None', NULL, '', '', ?, ?, ?, ?)
            """)
        insertTry = try database.prepare("""
            INSERT INTO try (try_id, task_id, run_id, block_id, hostname, task_executor, task_try_time_launched,
                             task_try_time_running, task_try_time_returned, task_fail_history, task_joins)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)
            """)
        insertStatus = try database.prepare("INSERT INTO status (task_id, task_status_name, timestamp, run_id, try_id) VALUES (?, ?, ?, ?, ?)")
        insertResource = try database.prepare("""
            INSERT INTO resource (try_id, task_id, run_id, timestamp, resource_monitoring_interval, psutil_process_pid,
                                  psutil_process_memory_percent, psutil_process_children_count, psutil_process_time_user,
                                  psutil_process_time_system, psutil_process_memory_virtual, psutil_process_memory_resident,
                                  psutil_process_disk_read, psutil_process_disk_write, psutil_process_status, psutil_cpu_num,
                                  psutil_process_num_ctx_switches_voluntary, psutil_process_num_ctx_switches_involuntary)
            VALUES (?, ?, ?, ?, 0.2, ?, 0.5, 0, ?, ?, ?, ?, 0, 0, 'running', '0', 1, 1)
            """)
    }

    /// Records a task that ran these tries (the last one's outcome is the task's), or, without
    /// tries and with `dependencyFailure`, a task that failed because a dependency did.
    func task(_ id: Int, app: String, depends: [Int] = [], invoked: Double, tries: [Try], dependencyFailure: String? = nil) throws {
        let failures = tries.filter { $0.failure != nil }.count + (dependencyFailure == nil ? 0 : 1)
        let returned = tries.last?.returned ?? invoked + 0.001
        try insertTask.run([.integer(Int64(id)), .text(runID), depends.isEmpty ? .text("") : .text(depends.map(String.init).joined(separator: ",")),
                            .text(app), time(invoked), time(returned), .integer(Int64(failures)), .real(Double(failures))])
        try status(id, "pending", invoked, try: 0)
        for (number, attempt) in tries.enumerated() {
            try insertTry.run([.integer(Int64(number)), .integer(Int64(id)), .text(runID), attempt.block.map(SQLiteValue.text) ?? .null,
                               attempt.host.map(SQLiteValue.text) ?? .null, .text(attempt.executor), time(attempt.launched),
                               time(attempt.running), time(attempt.returned), .text(attempt.failure ?? "")])
            try status(id, "launched", attempt.launched, try: number)
            try status(id, "running", attempt.running, try: number)
            try status(id, "running_ended", attempt.returned - 0.0005, try: number)
            let last = number == tries.count - 1
            try status(id, attempt.failure == nil ? "exec_done" : last ? "failed" : "fail_retryable", attempt.returned, try: number)
            if number > 0 { try status(id, "pending", tries[number - 1].returned + 0.0001, try: number) }
        }
        if let dependencyFailure {
            try insertTry.run([.integer(0), .integer(Int64(id)), .text(runID), .null, .null, .text(tries.first?.executor ?? "threads"),
                               .null, .null, time(returned), .text(dependencyFailure)])
            try status(id, "dep_fail", returned, try: 0)
        }
        if dependencyFailure != nil || tries.last?.failure != nil { failedTasks += 1 } else { completedTasks += 1 }
    }

    func status(_ task: Int, _ name: String, _ at: Double, try number: Int) throws {
        try insertStatus.run([.integer(Int64(task)), .text(name), time(at), .text(runID), .integer(Int64(number))])
    }

    /// Records a block's states, `(seconds after the start, state)`.
    func block(executor: String, id: String, job: String, states: [(Double, String)]) throws {
        let insert = try database.prepare("INSERT INTO block (run_id, executor_label, block_id, job_id, timestamp, status) VALUES (?, ?, ?, ?, ?, ?)")
        for (offset, state) in states {
            try insert.run([.text(runID), .text(executor), .text(id), .text(job), time(began + offset), .text(state)])
        }
    }

    /// Records a manager of block `blockID`.
    func node(blockID: String, uid: String, host: String, workers: Int, at offset: Double) throws {
        try database.prepare("""
            INSERT INTO node (run_id, hostname, uid, block_id, cpu_count, total_memory, active, worker_count, python_v,
                              timestamp, last_heartbeat) VALUES (?, ?, ?, ?, 2, 25276059648, 1, ?, '3.11.2', ?, ?)
            """).run([.text(runID), .text(host), .text(uid), .text(blockID), .integer(Int64(workers)),
                      time(began + offset), time(began + offset)])
    }

    /// Records a sample of worker `pid` running a try.
    func resource(task: Int, try number: Int, at: Double, pid: Int, cpuSeconds: Double, residentBytes: Double) throws {
        try insertResource.run([.integer(Int64(number)), .integer(Int64(task)), .text(runID), time(at), .integer(Int64(pid)),
                                .real(cpuSeconds * 0.8), .real(cpuSeconds * 0.2), .real(residentBytes * 1.3), .real(residentBytes)])
    }

    /// Marks the run completed at `offset` seconds after its start.
    func finish(at offset: Double) throws {
        try database.prepare("UPDATE workflow SET time_completed = ?, tasks_failed_count = ?, tasks_completed_count = ? WHERE run_id = ?")
            .run([time(began + offset), .integer(Int64(failedTasks)), .integer(Int64(completedTasks)), .text(runID)])
    }

    private func time(_ seconds: Double) -> SQLiteValue { .text(MonitoringTimestamp.text(seconds)) }
}

extension MonitoringFixture {
    static let start = MonitoringTimestamp.seconds("2026-03-01 10:00:00")!
    static let hostileApp = "<script>alert('app')</script>"
    static let hostileTraceback = """
        Traceback (most recent call last):
          File "/work/apps.py", line 12, in hostile
            raise ValueError('<script>alert("tb")</script> & more')
        ValueError: <script>alert("tb")</script> & more
        """

    /// A small run with what the report must show: four apps (one named like markup) on a thread
    /// executor and two blocks of a process executor (one lost), retries, failures with tracebacks,
    /// a dependency failure and resource samples. 14 tasks, 17 tries (16 started), 4 failed tries.
    static func realistic(at path: String, runDirectory: String = "/tmp/runinfo/000") throws -> MonitoringFixture {
        let run = try MonitoringFixture(path: path, name: "fixture-run", began: start, runDirectory: runDirectory)
        let t0 = start
        func threads(_ at: Double, _ length: Double) -> Try {
            Try(executor: "threads", block: nil, host: "node-a", launched: t0 + at, running: t0 + at + 0.001, returned: t0 + at + length)
        }
        func htex(_ block: String, _ at: Double, _ length: Double, failure: String? = nil) -> Try {
            Try(executor: "htex", block: block, host: block == "0" ? "node-b" : "node-c", launched: t0 + at - 0.1,
                running: t0 + at, returned: t0 + at + length, failure: failure)
        }
        let traceback = """
            Traceback (most recent call last):
              File "/work/apps.py", line 7, in simulate
                raise RuntimeError("diverged at step 3")
            RuntimeError: diverged at step 3
            """
        for id in 0..<4 { try run.task(id, app: "load", invoked: t0 + 0.05, tries: [threads(0.1 + Double(id / 2) * 0.2, 0.2)]) }
        for id in 4..<10 {
            let slot = Double((id - 4) % 2), block = (id - 4) < 4 ? "0" : "1", at = 0.8 + Double((id - 4) / 2) * 0.6 + slot * 0.05
            var tries = [htex(block, at, 0.5)]
            if id == 6 { tries = [htex("0", at, 0.3, failure: traceback), htex("0", 3.0, 0.5)] }
            if id == 8 { tries = [htex("1", at, 0.4, failure: "WorkerLost: worker 2 of block 1 on node-c died (SIGKILL)"), htex("0", 3.2, 0.5)] }
            try run.task(id, app: "simulate", depends: [(id - 4) % 4], invoked: t0 + 0.06, tries: tries)
            for (number, attempt) in tries.enumerated() {
                var at = attempt.running
                while at < attempt.returned {
                    try run.resource(task: id, try: number, at: at, pid: 4000 + (id - 4) % 2 + (attempt.block == "1" ? 10 : 0),
                                     cpuSeconds: (at - t0) * 0.9, residentBytes: 80_000_000 + (at - t0) * 1_000_000)
                    at += 0.2
                }
            }
        }
        try run.task(10, app: hostileApp, invoked: t0 + 0.07, tries: [htex("0", 3.8, 0.2)])
        try run.task(11, app: hostileApp, invoked: t0 + 0.07, tries: [htex("0", 3.9, 0.1, failure: hostileTraceback), htex("0", 4.1, 0.1, failure: hostileTraceback)])
        try run.task(12, app: "summarise", depends: Array(4..<10), invoked: t0 + 0.08, tries: [threads(3.8, 0.3)])
        try run.task(13, app: "publish", depends: [11], invoked: t0 + 0.08, tries: [],
                     dependencyFailure: "DependencyError([(ValueError('…'), 'task 11')], 13)")
        try run.block(executor: "htex", id: "0", job: "5001", states: [(0.1, "PENDING"), (0.5, "RUNNING"), (1.0, "RUNNING"), (4.5, "SCALED_IN")])
        try run.block(executor: "htex", id: "1", job: "5002", states: [(0.1, "PENDING"), (0.6, "RUNNING"), (2.6, "MISSING")])
        try run.node(blockID: "0", uid: "m0", host: "node-b", workers: 2, at: 0.6)
        try run.node(blockID: "0", uid: "m0", host: "node-b", workers: 2, at: 2.0)
        try run.node(blockID: "1", uid: "m1", host: "node-c", workers: 2, at: 0.7)
        try run.finish(at: 4.6)
        return run
    }

    /// A run of `count` tasks of eight apps on two blocks of four workers, each task after one or
    /// two earlier ones, about 2 % failing once with a traceback (and retried), one resource sample
    /// per try. Deterministic.
    static func large(at path: String, tasks count: Int) throws -> MonitoringFixture {
        let run = try MonitoringFixture(path: path, name: "large-run", began: start, runDirectory: "/tmp/runinfo/001")
        let apps = ["fetch", "parse", "clean", "align", "score", "merge", "plot", "archive"]
        var seed: UInt64 = 42
        func next(_ bound: Int) -> Int {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return Int((seed >> 33) % UInt64(bound))
        }
        var laneFree = [Double](repeating: start + 0.5, count: 8)
        try run.database.transaction {
            for id in 0..<count {
                let depends = id < 8 ? [] : Array(Set((0..<(1 + next(2))).map { _ in max(0, id - 1 - next(64)) })).sorted()
                var tries: [Try] = []
                let attempts = id % 50 == 7 ? 2 : 1
                for number in 0..<attempts {
                    let lane = laneFree.indices.min { laneFree[$0] < laneFree[$1] }!
                    let length = 0.02 + Double(next(1000)) / 4000, at = laneFree[lane] + 0.001
                    laneFree[lane] = at + length
                    let failure = number < attempts - 1 ? "Traceback (most recent call last):\n  File \"apps.py\", line 3\nOSError: disk quota exceeded (task \(id))" : nil
                    tries.append(Try(executor: "htex", block: lane < 4 ? "0" : "1", host: lane < 4 ? "node-b" : "node-c",
                                     launched: at - 0.01, running: at, returned: at + length, failure: failure))
                }
                try run.task(id, app: apps[next(apps.count)], depends: depends, invoked: start + Double(id) * 0.0001, tries: tries)
                for (number, attempt) in tries.enumerated() {
                    try run.resource(task: id, try: number, at: attempt.running + 0.01, pid: 5000 + (attempt.block == "0" ? 0 : 4),
                                     cpuSeconds: attempt.running - start, residentBytes: 100_000_000)
                }
            }
        }
        try run.block(executor: "htex", id: "0", job: "7001", states: [(0.1, "PENDING"), (0.4, "RUNNING")])
        try run.block(executor: "htex", id: "1", job: "7002", states: [(0.1, "PENDING"), (0.4, "RUNNING")])
        try run.node(blockID: "0", uid: "m0", host: "node-b", workers: 4, at: 0.4)
        try run.node(blockID: "1", uid: "m1", host: "node-c", workers: 4, at: 0.4)
        try run.finish(at: (laneFree.max() ?? start) - start + 0.1)
        return run
    }
}
