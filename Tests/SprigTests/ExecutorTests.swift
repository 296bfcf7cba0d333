import Foundation
import PythonBridge
@testable import Sprig
import Testing

@Suite("The thread executor and the kernel's lifecycle", .timeLimit(.minutes(1)))
struct ExecutorTests {
    @Test func sleepingPythonAppsOverlap() throws {
        let h = try Harness(threads: 4)
        defer { h.close() }
        let meet = try h.python("meet")
        // Four calls meet at a barrier: they pass only if all four run at the same time.
        let calls = (0..<4).map { _ in meet(4, 20.0) }
        for call in calls { #expect(try call.result(as: Bool.self) == true) }
    }

    @Test func appsRunOnlyOnTheExecutorsTheyArepinnedTo() throws {
        let a = ThreadPoolExecutor(label: "pin\(UInt16.random(in: 0...9999))a", maxThreads: 1)
        let b = ThreadPoolExecutor(label: "pin\(UInt16.random(in: 0...9999))b", maxThreads: 1)
        let h = try Harness(executors: [a, b])
        defer { h.close() }
        let where_ = try h.dfk.swiftApp(name: "where", options: AppOptions(executors: [b.label])) { () in Thread.current.name ?? "" }
        for _ in 0..<5 { #expect(try where_().result() == ThreadPoolRuntime.threadName(label: b.label, index: 0)) }
        let unknown = try #require(throws: ConfigError.self) { try h.python("noop", options: AppOptions(executors: ["gpu"])) }
        #expect(unknown.message.contains("\"gpu\"") && unknown.message.contains(a.label))
    }

    @Test func duplicateLabelsAreRefused() throws {
        let error = try #require(throws: ConfigError.self) {
            try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "x"), ThreadPoolExecutor(label: "x")]))
        }
        #expect(error.message.contains("\"x\""))
    }

    @Test func aPythonWalltimeInterruptsTheAppAndFreesTheThread() throws {
        let h = try Harness(threads: 1)
        defer { h.close() }
        let spin = try h.python("spin_forever", options: AppOptions(walltime: .milliseconds(200)))
        let error = try #require(throws: TaskError.self) { try spin().result() }
        #expect(error.isTimeout)
        // The only thread must be free again: the spinning Python code was interrupted.
        #expect(try h.python("add")(2, 3).result(as: Int.self) == 5)
    }

    @Test func aWalltimeGivenAtCallTimeWorksToo() throws {
        let h = try Harness()
        defer { h.close() }
        let sleepy = try h.python("sleep_then")
        let error = try #require(throws: TaskError.self) { try sleepy(1.5, 1, walltime: 0.1).result() }
        #expect(error.isTimeout)
        #expect(try sleepy(0.0, 7, walltime: 30).result(as: Int.self) == 7)
    }

    @Test func aWalltimeTooLongForAnyClockIsNoWalltimeAsInParsl() throws {
        // Parsl's timer thread fails on such a walltime (OverflowError) and the app runs to its end.
        let h = try Harness()
        defer { h.close() }
        let sleepy = try h.python("sleep_then")
        for walltime in [Double.infinity, 1e300, 1e12] {
            #expect(try sleepy(0.0, 7, walltime: walltime).result(as: Int.self) == 7, "walltime \(walltime)")
        }
        let one = try h.dfk.swiftApp(name: "one", options: AppOptions(walltime: .seconds(Int64.max))) { () in 1 }
        #expect(try one().result() == 1)
        #expect(try one(walltime: .seconds(1e15)).result(timeout: .seconds(Int64.max)) == 1)
        let succeeds = try h.dfk.bashApp(name: "succeeds") { () in "true" }
        #expect(try succeeds(walltime: .seconds(Int64.max)).result() == 0)
    }

    @Test func aCallTimeWalltimeMustBePositiveLikeTheAppsOwn() throws {
        let h = try Harness()
        defer { h.close() }
        let one = try h.dfk.swiftApp(name: "one") { () in 1 }
        let succeeds = try h.dfk.bashApp(name: "succeeds") { () in "true" }
        for walltime in [Duration.zero, .seconds(-1)] {
            let swift = try #require(throws: ConfigError.self) { try one(walltime: walltime).result() }
            #expect(swift.message.contains("(app one) has walltime \(walltime); it must be positive"), "\(swift)")
            let bash = try #require(throws: ConfigError.self) { try succeeds(walltime: walltime).result() }
            #expect(bash.message.contains("(app succeeds) has walltime \(walltime); it must be positive"), "\(bash)")
        }
    }

    @Test func aSwiftAppPastItsWalltimeFails() throws {
        let h = try Harness()
        defer { h.close() }
        let gate = DispatchSemaphore(value: 0)
        let waiting = try h.dfk.swiftApp(name: "waits", options: AppOptions(walltime: .milliseconds(100))) { () in
            _ = gate.wait(timeout: .now() + 20)
            return 1
        }
        #expect(try #require(throws: TaskError.self) { try waiting().result() }.isTimeout)
        gate.signal()
    }

    @Test func shutdownWaitsForRunningTasksAndStopsItsThreads() throws {
        let h = try Harness(threads: 3)
        let slow = try h.python("sleep_then")
        let futures = (0..<3).map { slow(0.2, $0) }
        h.dfk.shutdown()
        for (index, future) in futures.enumerated() {
            #expect(future.isDone)
            #expect(try future.result(as: Int.self) == index)
        }
        let prefix = ThreadPoolRuntime.threadName(label: h.label, index: 0).dropLast(2)
        #expect(eventually { !threadNames().contains { $0.hasPrefix(prefix) } })
        let late = try h.python("noop")()
        let error = try #require(throws: TaskError.self) { try late.result() }
        guard case .kernelShutDown = error.reason else { Issue.record("expected kernelShutDown, got \(error)"); return }
        h.close()
    }

    @Test func manyTasksAllComplete() throws {
        let h = try Harness()
        defer { h.close() }
        let add = try h.python("add")
        let futures = (0..<3_000).map { add($0, 1) }
        h.dfk.waitForCurrentTasks()
        #expect(try futures.enumerated().allSatisfy { try $0.element.result(as: Int.self) == $0.offset + 1 })
        #expect(h.dfk.tasksInFlight == 0)
    }
}
