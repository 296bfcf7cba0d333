import Foundation
import PythonBridge
@testable import Sprig
import Testing

/// A kernel whose only executor is a process executor with one local block, in a scratch folder.
final class ProcessHarness: @unchecked Sendable {  // immutable after init
    let dfk: DataFlowKernel
    let htex: HighThroughputExecutor
    let folder: String
    private let seen = LockedValue<Set<Int32>>([])

    init(workers: Int = 2, retries: Int = 0, provider: LocalProvider = LocalProvider(initBlocks: 1, maxBlocks: 1),
         strategy: Strategy = .none, heartbeatPeriod: Duration = .seconds(2), heartbeatThreshold: Duration = .seconds(30),
         others: [any ExecutorDescription] = [], monitoring: MonitoringOptions? = nil, relay: Bool = false) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-htex-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var htex = HighThroughputExecutor(label: "htex", maxWorkers: workers, provider: provider,
                                          heartbeatPeriod: heartbeatPeriod, heartbeatThreshold: heartbeatThreshold)
        htex.relayLocalWorkers = relay
        self.htex = htex
        dfk = try DataFlowKernel(config: Config(executors: [htex] + others, retries: retries, runDirectory: folder + "/runinfo",
                                                strategy: strategy, python: PythonConfiguration(searchPaths: [samplesFolder]),
                                                monitoring: monitoring))
    }

    /// What the executor is doing now.
    var status: ExecutorStatus { dfk.executorStatus(htex.label)! }

    func python(_ function: String, options: AppOptions = .init()) throws -> PythonApp {
        try dfk.pythonApp(module: "engine_samples", function: function, options: options)
    }

    func path(_ name: String) -> String { "\(folder)/\(name)" }

    /// Notes the block's current processes, to check later that none survived.
    func rememberProcesses() {
        let pids = status.processIDs
        seen.set(seen.get().union(pids))
    }

    /// Waits until the block reported its workers (its STATS frame).
    func waitForWorkers(_ count: Int) -> Bool {
        eventually { status.processIDs.count >= count + 1 }
    }

    /// Shuts down and checks that no manager or worker it ever saw is still running.
    func close() {
        rememberProcesses()
        dfk.shutdown()
        let pids = seen.get()
        #expect(!pids.isEmpty, "the test saw no block processes")
        #expect(eventually { pids.allSatisfy { !processExists($0) } }, "processes left behind: \(pids.filter(processExists))")
        try? FileManager.default.removeItem(atPath: folder)
    }
}

@Suite("The process executor", .serialized, .timeLimit(.minutes(2)))
struct ProcessExecutorTests {
    @Test func resultsAndRemoteTracebacksComeBack() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        #expect(try h.python("add")(5, 9).result(as: Int.self) == 14)
        let failed = try h.python("fail")("remote problem")
        let error = try #require(throws: TaskError.self) { try failed.result() }
        let python = try #require(error.pythonError)
        #expect(python.typeName == "ValueError")
        #expect(python.message == "remote problem")
        #expect(python.traceback.contains("engine_samples.py") && python.traceback.contains("in fail"))
        #expect(h.waitForWorkers(2))
        h.rememberProcesses()
    }

    @Test func mainLambdaAndClosureAppsTravelByValue() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        let main = try Python.runMain("def tripled(x):\n    return x * 3\n")
        #expect(try h.dfk.pythonApp(main.attribute("tripled"))(5).result(as: Int.self) == 15)
        #expect(try h.dfk.pythonApp(Python.evaluate("lambda x: x + 100"))(1).result(as: Int.self) == 101)
        let closure = try Python.importModule("engine_samples").attribute("make_scaler").call(7)
        #expect(try h.dfk.pythonApp(closure)(6).result(as: Int.self) == 42)
    }

    @Test func aModuleImportedAfterTheWorkersStartedIsFoundByThem() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        #expect(try h.python("add")(1, 1).result(as: Int.self) == 2)  // the workers are up
        let module = "late_apps_\(UInt32.random(in: 0..<UInt32.max))"
        try FileManager.default.createDirectory(atPath: h.path("late"), withIntermediateDirectories: true)
        try "def shout(word):\n    return word.upper() + '!'\n".write(toFile: h.path("late/\(module).py"), atomically: true, encoding: .utf8)
        let shout = try h.dfk.pythonApp(module: module, function: "shout", from: h.path("late"))
        #expect(try shout("late").result(as: String.self) == "LATE!")
    }

    @Test func resultsStayPickledAndFlowBetweenTasks() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        let numbers = try h.python("numbers")(4)
        guard case .pickled = try numbers.result() else { Issue.record("a worker's result should stay pickled"); return }
        #expect(try h.python("total")(numbers).result(as: Int.self) == 6)
        #expect(try h.python("describe")([numbers], key: Tuple(numbers)).result(as: PythonObject.self).description
                == "{'args': [[[0, 1, 2, 3]]], 'kwargs': {'key': ([0, 1, 2, 3],)}}")
    }

    @Test func pickledResultsInSetsAndDictKeysReachTheWorkerStillPickled() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        let (a, b) = (try h.python("make_marker")("a"), try h.python("make_marker")("b"))
        let names = try h.python("marker_names")
        #expect(try names(Value.set([.future(a), .future(b)])).result(as: [String].self) == ["a", "b"])
        #expect(try names(Value.dict([(key: .future(a), value: .int(1)), (key: .future(b), value: .int(2))])).result(as: [String].self) == ["a=1", "b=2"])
        let loadedHere = try Python.importModule("engine_samples").attribute("markers_loaded_here").call()
        #expect(try Int(python: loadedHere) == 0, "the workers' results were unpickled in this process")
        #expect(h.waitForWorkers(2))
        h.rememberProcesses()
    }

    @Test func anUnpicklableArgumentFailsOnlyItsTask() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        let generator = try Python.importModule("engine_samples").attribute("generator_of").call(3)
        let bad = try h.python("identity")(generator)
        let good = try h.python("identity")(1)
        let error = try #require(throws: TaskError.self) { try bad.result() }
        guard case .serialization(let detail) = error.reason else { Issue.record("expected serialization, got \(error)"); return }
        #expect(detail.contains("generator"))
        #expect(try good.result(as: Int.self) == 1)
        let unpicklableResult = try #require(throws: TaskError.self) { try h.python("generator_of")(2).result() }
        guard case .serialization = unpicklableResult.reason else { Issue.record("expected serialization, got \(unpicklableResult)"); return }
    }

    @Test func printInsideAppsGoesToTheWorkerLogs() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        let results = try (0..<20).map { try h.python("chatty")($0) }.map { try $0.result(as: Int.self) }
        #expect(results == (0..<20).map { $0 * 2 })
        let logs = try FileManager.default.subpathsOfDirectory(atPath: h.path("runinfo")).filter { $0.hasSuffix(".log") }
        let text = try logs.map { try String(contentsOfFile: h.path("runinfo/\($0)"), encoding: .utf8) }.joined()
        #expect(text.contains("hello from an app 7"))
        #expect(text.contains("to stderr too"))
    }

    @Test func aKilledWorkerFailsItsTaskAndRetriesSucceed() throws {
        let h = try ProcessHarness(retries: 1)
        defer { h.close() }
        let (future, _) = try killWorkerOfSleeper(h)
        #expect(try future.result(as: String.self) == "second run")

        let once = try ProcessHarness(retries: 0)
        defer { once.close() }
        let (lost, _) = try killWorkerOfSleeper(once)
        let error = try #require(throws: TaskError.self) { try lost.result() }
        guard case .workerLost(let detail) = error.reason else { Issue.record("expected workerLost, got \(error)"); return }
        #expect(detail.contains("\(lost.taskID)"))
        #expect(try once.python("add")(1, 1).result(as: Int.self) == 2)  // a replacement worker runs the next task
    }

    /// A local block takes the two-hop path (its manager hands its workers over), unless told to
    /// keep the relay; on both a worker's death is told the same way (the two-hop path writes the
    /// manager's WORKER_LOST words itself).
    @Test func aLocalBlockTakesTheTwoHopPathAndADeadWorkerIsToldAsOnTheRelay() throws {
        for relay in [false, true] {
            let h = try ProcessHarness(relay: relay)
            defer { h.close() }
            let (lost, pid) = try killWorkerOfSleeper(h)
            let error = try #require(throws: TaskError.self) { try lost.result() }
            guard case .workerLost(let detail) = error.reason else { Issue.record("expected workerLost, got \(error)"); return }
            #expect(detail.contains("(pid \(pid)) on host ") && detail.hasSuffix("died (signal 9) while running task \(lost.taskID)"),
                    "relay: \(relay): \(detail)")
            let logs = FileManager.default.enumerator(atPath: h.folder)?.compactMap { $0 as? String }.filter { $0.hasSuffix("manager.log") } ?? []
            let text = try logs.map { try String(contentsOfFile: h.folder + "/" + $0, encoding: .utf8) }.joined()
            #expect(text.contains("handed worker") == !relay, "relay: \(relay)")
        }
    }

    /// On the two-hop path a worker's heartbeats come to the engine: a stopped (SIGSTOP) worker is
    /// reported silent to its manager, which takes it for hung and kills it; its task is lost with
    /// the reason, and a replacement runs the next task.
    @Test func aStoppedWorkerIsTakenForHungThroughItsManagerOnTheTwoHopPath() throws {
        let h = try ProcessHarness(workers: 1, heartbeatPeriod: .milliseconds(200), heartbeatThreshold: .seconds(2))
        defer { h.close() }
        let (future, pid) = try killWorkerOfSleeper(h, with: SIGSTOP)
        let error = try #require(throws: TaskError.self) { try future.result(timeout: .seconds(20)) }
        guard case .workerLost(let detail) = error.reason else { Issue.record("expected workerLost, got \(error)"); return }
        #expect(detail.contains("(pid \(pid))") && detail.contains("stopped answering (stopped (SIGSTOP)"), "\(detail)")
        #expect(try h.python("add")(1, 1).result(as: Int.self) == 2)
    }

    /// Starts a task that writes its worker's PID and sleeps, waits until it runs, and sends that
    /// worker `signal`; returns the task and the worker's PID.
    private func killWorkerOfSleeper(_ h: ProcessHarness, with signal: Int32 = SIGKILL) throws -> (AppFuture<Value>, Int32) {
        let marker = h.path("pid")
        let future = try h.python("pid_then_sleep")(marker, 60.0)
        #expect(eventually { FileManager.default.fileExists(atPath: marker) })
        h.rememberProcesses()
        let pid = try #require(Int32(String(contentsOfFile: marker, encoding: .utf8)))
        kill(pid, signal)
        return (future, pid)
    }

    /// Starts a task that sleeps in a worker and waits until it runs; returns it and the manager's PID.
    private func startSleeper(_ h: ProcessHarness) throws -> (AppFuture<Value>, Int32) {
        let marker = h.path("pid")
        let future = try h.python("pid_then_sleep")(marker, 60.0)
        #expect(eventually { FileManager.default.fileExists(atPath: marker) })
        #expect(h.waitForWorkers(2))
        h.rememberProcesses()
        return (future, try #require(h.status.processIDs.first))
    }

    @Test func aKilledManagerFailsItsTasksAndTheBlockIsReplaced() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        let (future, manager) = try startSleeper(h)
        kill(manager, SIGKILL)
        let error = try #require(throws: TaskError.self) { try future.result() }
        guard case .managerLost = error.reason else { Issue.record("expected managerLost, got \(error)"); return }
        #expect(try h.python("add")(2, 2).result(as: Int.self) == 4)
        h.rememberProcesses()
    }

    @Test func aSilentManagerIsDeclaredLostAfterTheHeartbeatThreshold() throws {
        let h = try ProcessHarness(heartbeatPeriod: .milliseconds(200), heartbeatThreshold: .seconds(1))
        defer { h.close() }
        let (future, manager) = try startSleeper(h)
        kill(manager, SIGSTOP)  // alive, but silent
        let error = try #require(throws: TaskError.self) { try future.result() }
        guard case .managerLost(let detail) = error.reason else { Issue.record("expected managerLost, got \(error)"); return }
        #expect(detail.contains("silent"))
    }

    @Test func aWalltimeKillsTheWorkerAndTheNextTaskRuns() throws {
        let h = try ProcessHarness(workers: 1)
        defer { h.close() }
        #expect(h.waitForWorkers(1))
        h.rememberProcesses()
        let slow = try h.python("sleep_then", options: AppOptions(walltime: .milliseconds(300)))
        #expect(try #require(throws: TaskError.self) { try slow(60.0, 1).result() }.isTimeout)
        #expect(try h.python("add")(3, 4).result(as: Int.self) == 7)
        h.rememberProcesses()
    }

    @Test func bashAndSwiftAppsRunWithOnlyAProcessExecutor() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        let echo = try h.dfk.bashApp(module: "engine_samples", function: "echo_command")
        _ = try echo("one", stdout: h.path("out.txt")).result()
        _ = try echo("two", stdout: h.path("out.txt")).result()
        #expect(try String(contentsOfFile: h.path("out.txt"), encoding: .utf8) == "one\ntwo\n")
        let exit = try h.dfk.bashApp(name: "exit") { (code: Int) in "exit \(code)" }
        #expect(try #require(throws: TaskError.self) { try exit(15).result() }.exitCode == 15)
        let square = try h.dfk.swiftApp(name: "square") { (x: Int) in x * x }
        #expect(try square(h.python("add")(2, 3).as(Int.self)).result() == 25)
    }

    @Test func simpleStrategyScalesOutAndIn() throws {
        let provider = LocalProvider(initBlocks: 0, minBlocks: 0, maxBlocks: 2)
        let h = try ProcessHarness(workers: 1, provider: provider, strategy: .simple(idleTime: .milliseconds(300)))
        defer { h.close() }
        let meeting = h.path("meeting")
        try FileManager.default.createDirectory(atPath: meeting, withIntermediateDirectories: true)
        let rendezvous = try h.python("rendezvous")
        // One worker per block: two calls can only meet if a second block was started for them.
        let calls = ["a", "b"].map { rendezvous(meeting, $0, 2, 60.0) }
        #expect(eventually(timeout: .seconds(30)) { h.status.readyBlocks.count == 2 })
        h.rememberProcesses()
        for call in calls { #expect(try call.result(as: Bool.self) == true) }
        #expect(eventually(timeout: .seconds(30)) { h.status.blocks.count == 0 })
    }

    @Test func aSerializerMismatchIsRefusedNamingBothSides() throws {
        // The block's Python sees a cloudpickle that reports another version than this process's.
        let fake = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-fakecp-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: fake + "/cloudpickle", withIntermediateDirectories: true)
        try "from pickle import *\n__version__ = '0.0.1'\n".write(toFile: fake + "/cloudpickle/__init__.py", atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: fake) }
        let provider = LocalProvider(initBlocks: 1, maxBlocks: 1, workerInit: "export PYTHONPATH=\(shellQuote(fake)):$PYTHONPATH")
        let h = try ProcessHarness(provider: provider)
        defer { h.dfk.shutdown(); try? FileManager.default.removeItem(atPath: h.folder) }
        let error = try #require(throws: TaskError.self) { try h.python("add")(1, 2).result() }
        guard case .badState(let detail) = error.reason else { Issue.record("expected a bad-state error, got \(error)"); return }
        #expect(detail.contains("0.0.1") && detail.contains("cloudpickle"))
    }

    @Test func theHandshakeNamesAPythonVersionMismatch() {
        let expected = ExpectedManager(pythonVersion: "3.11", serializer: "cloudpickle", serializerVersion: "2.2.0")
        let hello = #"{"protocol": 4, "python": "3.9", "serializer": "cloudpickle", "serializer_version": "2.2.0", "host": "node7", "executable": "/usr/bin/python3.9"}"#
        let problem = ManagerBlock.checkHello(Array(hello.utf8), expected: expected, host: "x")
        #expect(problem?.contains("Python 3.9") == true && problem?.contains("3.11") == true && problem?.contains("node7") == true)
        let good = #"{"protocol": 4, "python": "3.11", "serializer": "cloudpickle", "serializer_version": "2.2.0"}"#
        #expect(ManagerBlock.checkHello(Array(good.utf8), expected: expected, host: "x") == nil)
        let oldProtocol = #"{"protocol": 0, "python": "3.11"}"#
        #expect(ManagerBlock.checkHello(Array(oldProtocol.utf8), expected: expected, host: "x")?.contains("protocol 0") == true)
    }
}
