import Foundation
import PythonBridge
@testable import Sprig
import Testing

/// What a block's stream must survive: a manager that stops reading, callbacks that wait, and
/// process handles that outlive their process.
@Suite("Block streams", .serialized, .timeLimit(.minutes(2)))
struct BlockStreamTests {
    /// A manager that stops reading while its pipe is full must not stall the executor: the silence
    /// check still runs, ends the block, and fails what it held — then shutdown finishes. (The
    /// block's writes held a lock across a blocking write; heartbeats then waited behind it, and
    /// the silence check never ran.) On the manager's relay: on the two-hop path tasks do not pass
    /// through the manager, so a stopped one stalls none (the next test).
    @Test func aManagerThatStopsReadingIsEndedByTheSilenceCheck() throws {
        let h = try ProcessHarness(workers: 1, heartbeatPeriod: .milliseconds(200), heartbeatThreshold: .seconds(2), relay: true)
        defer { h.close() }
        #expect(try h.python("add")(1, 2).result(as: Int.self) == 3)
        #expect(h.waitForWorkers(1))
        h.rememberProcesses()
        let manager = try #require(h.status.processIDs.first)
        kill(manager, SIGSTOP)
        defer { kill(manager, SIGCONT) }
        // Several MiB that the stopped manager never reads: the pipe fills and stays full.
        let big = String(repeating: "x", count: 4 << 20)
        let stuck = (0..<3).map { _ in (try? h.python("identity")(big)) }
        let futures = try stuck.map { try #require($0) }
        // The block holding them is declared lost; what it held fails as lost (or, sent to the
        // replacement block, succeeds there) — nothing hangs.
        let first = try #require(throws: TaskError.self) { try futures[0].result(timeout: .seconds(20)) }
        guard case .managerLost = first.reason else {
            Issue.record("expected the block to be declared lost, got \(first)")
            return
        }
        for future in futures.dropFirst() {
            _ = try? future.result(timeout: .seconds(20))
            #expect(future.isDone)
        }
    }

    /// On the two-hop path a stopped manager stalls no task: large tasks go to the worker and
    /// come back while it is stopped; then the silence check ends the block (its workers with it),
    /// and a replacement block runs the next task.
    @Test func aStoppedManagerStallsNoTaskOnTheTwoHopPathAndIsEndedBySilence() throws {
        let h = try ProcessHarness(workers: 1, heartbeatPeriod: .milliseconds(200), heartbeatThreshold: .seconds(2))
        defer { h.close() }
        #expect(try h.python("add")(1, 2).result(as: Int.self) == 3)
        #expect(h.waitForWorkers(1))
        h.rememberProcesses()
        let manager = try #require(h.status.processIDs.first)
        kill(manager, SIGSTOP)
        defer { kill(manager, SIGCONT) }
        let big = String(repeating: "x", count: 4 << 20)
        for _ in 0..<3 { #expect(try h.python("identity")(big).result(timeout: .seconds(20)).decode(String.self).utf8.count == big.utf8.count) }
        #expect(eventually(timeout: .seconds(20)) { h.status.ended.contains { $0.failure != nil } }, "\(h.status)")
        #expect(try h.python("add")(2, 3).result(timeout: .seconds(20)).decode(Int.self) == 5)
    }

    /// A large result reaches its future and does not silence its block: reading a frame costs its
    /// size. (A frame body was read into a buffer regrown for every read — quadratic: 8 MiB took
    /// 14 s in a debug build, and a 2 s heartbeat threshold declared the block lost.)
    @Test func aLargeResultComesBackWithoutSilencingItsBlock() throws {
        let h = try ProcessHarness(workers: 1, heartbeatPeriod: .milliseconds(200), heartbeatThreshold: .seconds(2))
        defer { h.close() }
        #expect(h.waitForWorkers(1))
        h.rememberProcesses()
        let size = 24 << 20
        #expect(try h.python("text_of_size")(size).result(as: String.self).utf8.count == size)
        #expect(try h.python("add")(1, 2).result(as: Int.self) == 3)
        #expect(h.status.blocks.count == 1, "the block was replaced")
    }

    /// A callback that waits for another task of the same block gets its value: callbacks do not
    /// run on the block's reader thread, which must go on reading. (It ran them there, so the
    /// second result was never read until the heartbeat threshold killed the block.)
    @Test func aCallbackMayWaitForAnotherTaskOfTheSameBlock() throws {
        let h = try ProcessHarness(workers: 2)
        defer { h.close() }
        let slow = try h.python("sleep_then")(0.5, "slow")
        let quick = try h.python("add")(1, 1)
        let seen = LockedValue<String?>(nil)
        let done = DispatchSemaphore(value: 0)
        quick.onComplete { _ in
            let value = (try? slow.result(timeout: .seconds(20)).decode(String.self)) ?? "timed out"
            seen.set(value)
            done.signal()
        }
        #expect(done.wait(timeout: .now() + 30) == .success)
        #expect(seen.get()?.contains("slow") == true, "the callback saw \(seen.get() ?? "nothing")")
        #expect(h.status.blocks.count == 1, "the block was replaced")
    }

    /// Killing a block after its process was reaped signals nothing (the group id may be reused).
    @Test func aReapedBlockProcessIsNeverSignalled() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-reap-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let process = try LocalChannel().start(script: "exit 3", stderrPath: folder + "/block.stderr", environment: [:])
        defer { process.closeStream() }
        #expect(process.reap() == 3)
        #expect(process.reap() == 3)
        #expect(process.kill() == false)
    }
}

@Suite("Signals belong to the program", .timeLimit(.minutes(1)))
struct SignalOwnershipTests {
    /// A kernel leaves the program's signal dispositions as they were: no SIGINT or SIGTERM handler,
    /// SIGPIPE not ignored. (It installed handlers that call `exit()`, and ignored SIGPIPE.)
    @Test func aKernelInstallsNoSignalHandler() throws {
        let before = [SIGINT, SIGTERM, SIGPIPE].map(Self.handler)
        let h = try ProcessHarness(workers: 1)
        defer { h.close() }
        #expect(try h.python("add")(2, 3).result(as: Int.self) == 5)
        h.rememberProcesses()
        #expect([SIGINT, SIGTERM, SIGPIPE].map(Self.handler) == before)
        #expect(Self.handler(SIGINT) == 0, "SIGINT has a handler")
    }

    /// The handler's address (0 for SIG_DFL, 1 for SIG_IGN).
    private static func handler(_ signal: Int32) -> UInt {
        var action = sigaction()
        sigaction(signal, nil, &action)
        return unsafeBitCast(action.__sigaction_handler.sa_handler, to: UInt.self)
    }
}

@Suite("Swift concurrency", .timeLimit(.minutes(1)))
struct ConcurrencyTests {
    /// Cancelling a Swift task that awaits a future ends the await with `CancellationError`; the
    /// app's task goes on. (The await ignored cancellation and waited for the app.)
    @Test func cancellingAnAwaitStopsWaiting() async throws {
        let h = try Harness(threads: 1)
        defer { h.close() }
        let release = DispatchSemaphore(value: 0)
        let held = try h.dfk.swiftApp(name: "held") { () -> Int in
            release.wait()
            return 7
        }
        let gate = held()
        let waiter = Task { try await gate.value }
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(!gate.isDone)  // only the await was cancelled: the app goes on
        release.signal()
        #expect(try await gate.value == 7)
    }
}
