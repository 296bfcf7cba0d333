import Foundation
import PythonBridge
import Sprig
import Testing

/// An ended task keeps nothing of its record: the memory of a long run stays flat.
@Suite("Task records are released once tasks end", .serialized, .timeLimit(.minutes(2)))
struct TaskRecordTests {
    /// Successes, a chain, a fan-in, a failure and what depends on it, a retry and a cancellation.
    private func runMixedWorkload(_ dfk: DataFlowKernel, python: (String) throws -> PythonApp, folder: String) throws {
        let add = try python("add"), identity = try python("identity")
        let parts = (0..<50).map { add($0, 1) }
        var link = identity(parts[0])
        for _ in 0..<50 { link = identity(link) }
        #expect(try python("total")(parts).result(as: Int.self) == (1...50).reduce(0, +))
        #expect(try link.result(as: Int.self) == 1)
        let failed = try python("fail")("on purpose")
        let dependent = identity(failed)
        _ = try? dependent.result()
        let flaky = try python("fail_until")
        _ = try? flaky("\(folder)/flaky", 1).result()
        dfk.waitForCurrentTasks()
        #expect(dfk.tasksInFlight == 0)
    }

    @Test func threadExecutorRecordsReturnToZero() throws {
        let h = try Harness(retries: 1)
        defer { h.close() }
        try runMixedWorkload(h.dfk, python: { try h.python($0) }, folder: h.folder)
        #expect(eventually { h.dfk.liveTaskRecords == 0 }, "records still held: \(h.dfk.liveTaskRecords)")
    }

    @Test func processExecutorRecordsReturnToZero() throws {
        let h = try ProcessHarness(retries: 1)
        defer { h.close() }
        #expect(h.waitForWorkers(2))
        h.rememberProcesses()
        try runMixedWorkload(h.dfk, python: { try h.python($0) }, folder: h.folder)
        #expect(eventually { h.dfk.liveTaskRecords == 0 }, "records still held: \(h.dfk.liveTaskRecords)")
    }

    @Test func recordsAreCountedWhileTasksWait() throws {
        let h = try Harness()
        defer { h.close() }
        let open = DispatchSemaphore(value: 0)
        let gate = try h.dfk.swiftApp(name: "gate") { () -> Int in
            open.wait()
            return 1
        }
        let inc = try h.dfk.swiftApp(name: "inc") { (x: Int) in x + 1 }
        let first = gate()
        let waiting = (0..<10).map { _ in inc(first) }
        #expect(h.dfk.liveTaskRecords == 11)  // the gate runs; its dependents wait in the graph
        open.signal()
        for future in waiting { #expect(try future.result() == 2) }
        #expect(eventually { h.dfk.liveTaskRecords == 0 })
    }
}
