import Foundation
@testable import Sprig
import Logging
import Testing

/// The lines of `parsl.log` about one task: what `grep 'task N ' parsl.log` prints.
func logLines(of task: TaskID, in runFolder: String) throws -> [String] {
    let text = try String(contentsOfFile: runFolder + "/parsl.log", encoding: .utf8)
    return text.split(separator: "\n").map(String.init).filter { $0.contains("task \(task) ") }
}

/// The tasks a run-log test submits, and what the log must say of each.
private struct LoggedTasks {
    let ok: TaskID, failed: TaskID, retried: TaskID, dependent: TaskID

    /// Runs them on `kernel`: ok, failed, retried once then ok, and a dependent of the failed one.
    static func run(add: PythonApp, fail: PythonApp, failUntil: PythonApp, marker: String) throws -> LoggedTasks {
        let ok = add(2, 3)
        let failed = fail("broken on purpose")
        let retried = failUntil(marker, 1)
        let dependent = add(failed, 1)
        #expect(try ok.result(as: Int.self) == 5)
        #expect(throws: TaskError.self) { try failed.result() }
        #expect(try retried.result(as: Int.self) == 2)
        #expect(throws: DependencyError.self) { try dependent.result() }
        return LoggedTasks(ok: ok.taskID, failed: failed.taskID, retried: retried.taskID, dependent: dependent.taskID)
    }

    func check(in folder: String, executor: String) throws {
        let ok = try logLines(of: self.ok, in: folder)
        #expect(ok.count == 4, "\(ok)")
        #expect(ok.first?.contains("task \(self.ok) submitted: app ") == true && ok.first?.contains("add, no dependencies") == true, "\(ok)")
        #expect(ok.contains { $0.contains("task \(self.ok) launched: try 0 on executor \(executor)") }, "\(ok)")
        #expect(ok.contains { $0.contains("task \(self.ok) running: try 0 on executor \(executor)") }, "\(ok)")
        #expect(ok.last?.contains("task \(self.ok) ended: ok") == true, "\(ok)")

        let failed = try logLines(of: self.failed, in: folder)
        #expect(failed.last?.contains("task \(self.failed) ended: failed with ValueError: broken on purpose") == true, "\(failed)")

        let retried = try logLines(of: self.retried, in: folder)
        #expect(retried.contains { $0.contains("task \(self.retried) retried: try 0 failed with RuntimeError: run 1 fails on purpose; try 1 follows") },
                "\(retried)")
        #expect(retried.contains { $0.contains("task \(self.retried) running: try 1 ") }, "\(retried)")
        #expect(retried.last?.contains("task \(self.retried) ended: ok after 2 tries") == true, "\(retried)")

        let dependent = try logLines(of: self.dependent, in: folder)
        #expect(dependent.first?.contains("add, depends on [\(self.failed)]") == true, "\(dependent)")
        #expect(dependent.last?.contains("task \(self.dependent) ended: dependency failure: dependencies [\(self.failed)] failed") == true,
                "\(dependent)")
        // Every line starts with the time as seconds since 1970 (Parsl's `%(created)f`, which tools
        // and Parsl's tests read with `float(line.partition(" ")[0])`), then the same time as a
        // local date and time.
        for line in ok + failed + retried + dependent {
            #expect(line.range(of: #"^\d{10}\.\d{6} \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} INFO "#, options: .regularExpression) != nil,
                    "\(line)")
            let fields = line.split(separator: " ", maxSplits: 3).map(String.init)
            guard fields.count == 4, let created = Double(fields[0]), let local = MonitoringTimestamp.seconds(fields[1] + " " + fields[2]) else {
                continue
            }
            let wallClock = MonitoringTimestamp.wallClock(Date(timeIntervalSince1970: created))
            #expect(abs(wallClock - local) < 0.002, "\(line): \(created) is not \(fields[1]) \(fields[2])")
        }
    }
}

@Suite("The run log", .serialized, .timeLimit(.minutes(2)))
struct RunLogTests {
    @Test func oneGrepTellsWhatHappenedToATaskOnTheThreadExecutor() throws {
        let h = try Harness(retries: 1)
        defer { h.close() }
        let tasks = try LoggedTasks.run(add: h.python("add"), fail: h.python("fail", options: AppOptions(retries: 0)),
                                        failUntil: h.python("fail_until"), marker: h.path("marker"))
        h.dfk.shutdown()
        try tasks.check(in: h.dfk.runFolder, executor: h.label)
        let running = try logLines(of: tasks.ok, in: h.dfk.runFolder).first { $0.contains("running") } ?? ""
        #expect(running.contains("host \(Placement.localHost)") && running.contains("thread \(h.label)#"), "\(running)")
    }

    @Test func oneGrepTellsWhatHappenedToATaskOnTheProcessExecutor() throws {
        let h = try ProcessHarness(retries: 1)
        defer { h.close() }
        let tasks = try LoggedTasks.run(add: h.python("add"), fail: h.python("fail", options: AppOptions(retries: 0)),
                                        failUntil: h.python("fail_until"), marker: h.path("marker"))
        h.rememberProcesses()
        h.dfk.shutdown()
        try tasks.check(in: h.dfk.runFolder, executor: "htex")
        let running = try logLines(of: tasks.ok, in: h.dfk.runFolder).first { $0.contains("running") } ?? ""
        #expect(running.contains("block 0, host "), "\(running)")
        let text = try String(contentsOfFile: h.dfk.runFolder + "/parsl.log", encoding: .utf8)
        #expect(text.contains("block 0 of executor htex started: host "), "\(text)")
        #expect(text.contains("block 0 of executor htex ready: host "), "\(text)")
        #expect(text.contains("block 0 of executor htex stopped"), "\(text)")
    }

    /// A line's time as Python's `%(created)f` writes it: seconds since 1970, six decimals.
    @Test func aLineStartsWithTheSecondsSince1970() {
        for (seconds, text) in [(1_796_187_846.015625, "1796187846.015625"), (0.25, "0.250000"), (-3.0, "0.000000"), (7.5, "7.500000")] {
            let prefix = FileLogHandler.prefix(Date(timeIntervalSince1970: seconds))
            #expect(prefix.hasPrefix(text + " ") && prefix.count == text.count + 1 + 23, "\(prefix)")
        }
    }

    /// The program's own logger gets the run's lines too, at its level.
    @Test func theProgramsLoggerGetsTheLinesAtItsLevel() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = try LogFile(path: folder + "/mine.log")
        var mine = Logger(label: "mine") { _ in FileLogHandler(file: file, level: .info) }
        mine[metadataKey: "who"] = "test"
        let dfk = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "t")], runDirectory: folder + "/runinfo"), logger: mine)
        let app = try dfk.swiftApp(name: "twice") { (x: Int) in 2 * x }
        #expect(try app(21).result() == 42)
        dfk.shutdown()
        file.flush()
        let text = try String(contentsOfFile: folder + "/mine.log", encoding: .utf8)
        #expect(text.contains("task 0 ended: ok") && text.contains("who=test"), "\(text)")
    }

    /// Without a run log (Parsl's `initialize_logging=False`), no `parsl.log` is made and the
    /// program's logger still gets every line.
    @Test func withoutARunLogThereIsNoParslLogAndTheLoggerStillHearsEverything() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-log-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let file = try LogFile(path: folder + "/mine.log")
        let mine = Logger(label: "mine") { _ in FileLogHandler(file: file, level: .info) }
        var config = Config(executors: [ThreadPoolExecutor(label: "t")], runDirectory: folder + "/runinfo")
        config.writesRunLog = false
        let dfk = try DataFlowKernel(config: config, logger: mine)
        let app = try dfk.swiftApp(name: "twice") { (x: Int) in 2 * x }
        #expect(try app(21).result() == 42)
        dfk.shutdown()
        file.flush()
        #expect(FileManager.default.fileExists(atPath: dfk.runFolder))
        #expect(!FileManager.default.fileExists(atPath: dfk.runFolder + "/parsl.log"))
        let text = try String(contentsOfFile: folder + "/mine.log", encoding: .utf8)
        #expect(text.contains("task 0 ended: ok"), "\(text)")
    }
}
