import Foundation
import PythonBridge
import Sprig
import Testing

@Suite("Dependencies, failure propagation and retries", .timeLimit(.minutes(1)))
struct DependencyTests {
    @Test func futuresAnywhereInTheArgumentsAreWaitedForAndSubstituted() throws {
        let h = try Harness()
        defer { h.close() }
        let add = try h.python("add"), describe = try h.python("describe")
        let a = add(1, 2), b = add(10, 20)
        let result = try describe(a, [b, 5], ["key": a], Tuple(b, [a]), keyword: b, inputs: [a, b]).result(as: PythonObject.self)
        #expect(result.description == "{'args': [3, [30, 5], {'key': 3}, (30, [3])], 'kwargs': {'keyword': 30, 'inputs': [3, 30]}}")
        #expect(try h.python("with_inputs")(inputs: [a, b]).result(as: [Int].self) == [3, 30])
    }

    @Test func swiftPythonAndSwiftAgainPassValues() throws {
        let h = try Harness()
        defer { h.close() }
        let numbers = try h.dfk.swiftApp(name: "numbers") { (n: Int) in Array(1...n) }
        let double = try h.dfk.swiftApp(name: "double") { (xs: [Int]) in xs.map { $0 * 2 } }
        let sum = try h.dfk.swiftApp(name: "sum") { (parts: [Int], offset: Int) in parts.reduce(offset, +) }
        let total = try h.python("total")
        let fromPython = total(double(numbers(4)))                         // Swift → Swift → Python: 20
        let parts = [fromPython.as(Int.self), numbers(1).map { $0[0] }]  // Python → Swift
        #expect(try sum(parts, 100).result() == 121)
    }

    @Test func aFailedDependencyFailsTheDependentWithoutRunningIt() throws {
        let h = try Harness()
        defer { h.close() }
        let failing = try h.python("fail")("root problem")
        let fine = try h.python("add")(1, 1)
        let dependent = try h.python("touch")(h.path("never"), inputs: [failing, fine])
        let error = try #require(throws: DependencyError.self) { try dependent.result() }
        #expect(error.taskID == dependent.taskID)
        #expect(error.failedDependencies == [failing.taskID])
        let root = try #require(error.rootCause as? TaskError)
        #expect(root.taskID == failing.taskID)
        #expect(root.pythonError?.message == "root problem")
        #expect(error.description.contains("tasks \(failing.taskID)"))
        h.dfk.waitForCurrentTasks()
        #expect(!FileManager.default.fileExists(atPath: h.path("never")))
    }

    @Test func dependencyFailuresCascadeKeepingTheRootCause() throws {
        let h = try Harness()
        defer { h.close() }
        let identity = try h.python("identity")
        let root = try h.python("fail")("deep")
        var last = identity(root)
        for _ in 0..<2_000 { last = identity(last) }  // long enough to overflow a recursive cascade
        let error = try #require(throws: DependencyError.self) { try last.result() }
        #expect((error.rootCause as? TaskError)?.taskID == root.taskID)
        #expect(error.failedDependencies.count == 1)
    }

    @Test func aLongChainOfSuccessesCompletes() throws {
        let h = try Harness()
        defer { h.close() }
        let increment = try h.dfk.swiftApp(name: "inc") { (x: Int) in x + 1 }
        var future = increment(0)
        for _ in 1..<2_000 { future = increment(future) }
        #expect(try future.result() == 2_000)
    }

    @Test func retriesRunAFailingAppAgain() throws {
        let h = try Harness(retries: 2)
        defer { h.close() }
        let flaky = try h.python("fail_until")
        #expect(try flaky(h.path("twice"), 2).result(as: Int.self) == 3)  // fails twice, succeeds on the third run
        let error = try #require(throws: TaskError.self) { try flaky(h.path("thrice"), 3).result() }
        #expect(error.pythonError?.message == "run 3 fails on purpose")
        #expect(try h.read("thrice").split(separator: "\n").count == 3)
    }

    @Test func perAppRetriesOverrideTheConfig() throws {
        let h = try Harness(retries: 0)
        defer { h.close() }
        let flaky = try h.python("fail_until", options: AppOptions(retries: 1))
        #expect(try flaky(h.path("once"), 1).result(as: Int.self) == 2)
    }

    @Test func aDependencyErrorIsNeverRetried() throws {
        let h = try Harness(retries: 3)
        defer { h.close() }
        let root = try h.python("record_and_fail")(h.path("root"), "no")
        let dependent = try h.python("record_and_fail")(h.path("dependent"), "never", inputs: [root])
        #expect(throws: DependencyError.self) { try dependent.result() }
        #expect(try h.read("root").split(separator: "\n").count == 4)  // 1 run + 3 retries
        #expect(!FileManager.default.fileExists(atPath: h.path("dependent")))
    }

    @Test func outputsBecomeDataFutures() throws {
        let h = try Harness()
        defer { h.close() }
        let out = File(h.path("out.txt"))
        let written = try h.python("with_outputs")("payload", outputs: [out])
        #expect(written.outputs.count == 1)
        #expect(try written.outputs[0].result() == out)
        let info = try h.python("file_info")(written.outputs[0]).result(as: [String].self)
        #expect(info[1] == out.path)
        #expect(try h.read("out.txt") == "payload")
    }

    @Test func awaitingAndCallbacksSeeTheResult() async throws {
        let h = try Harness()
        defer { h.close() }
        let future = try h.python("add")(20, 22)
        let seen = LockedValue<Result<Value, any Error>?>(nil)
        let called = DispatchSemaphore(value: 0)
        future.onComplete { seen.set($0); called.signal() }
        #expect(try await future.value(as: Int.self) == 42)
        #expect(called.wait(timeout: .now() + 10) == .success)
        #expect(try seen.get()?.get().decode(Int.self) == 42)
        #expect(future.isDone && future.error == nil)
    }

    @Test func taskIDsCountUpInSubmissionOrder() throws {
        let h = try Harness()
        defer { h.close() }
        let noop = try h.python("noop")
        let ids = (0..<5).map { _ in noop().taskID.rawValue }
        #expect(ids == Array(ids[0]..<(ids[0] + 5)))
    }
}

final class LockedValue<T>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ value: T) { self.value = value }
    func set(_ newValue: T) { lock.withLock { value = newValue } }
    func get() -> T { lock.withLock { value } }
}
