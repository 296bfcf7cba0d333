import Foundation
import PythonBridge
@testable import Sprig
import Testing

/// A config is a description: every kernel made from it starts executors of its own.
@Suite(.timeLimit(.minutes(2))) struct KernelConfigTests {
    private func scratch() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func oneThreadConfigStartsTwoKernelsThatOutliveEachOther() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = Config(executors: [ThreadPoolExecutor(label: "shared", maxThreads: 2)], runDirectory: folder,
                            python: PythonConfiguration(searchPaths: [samplesFolder]))
        let first = try DataFlowKernel(config: config)
        let second = try DataFlowKernel(config: config)
        let one = try first.pythonApp(module: "engine_samples", function: "add")
        let two = try second.pythonApp(module: "engine_samples", function: "add")
        #expect(try one(1, 2).result(as: Int.self) == 3)
        first.shutdown()
        #expect(try two(2, 3).result(as: Int.self) == 5, "the second kernel's executor is its own")
        second.shutdown()
    }

    @Test func oneProcessConfigStartsTwoKernelsWithBlocksOfTheirOwn() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = Config(executors: [HighThroughputExecutor(label: "pool", maxWorkers: 1, provider: LocalProvider(initBlocks: 1, maxBlocks: 1))],
                            runDirectory: folder, strategy: .none, python: PythonConfiguration(searchPaths: [samplesFolder]))
        let first = try DataFlowKernel(config: config)
        let second = try DataFlowKernel(config: config)
        let one = try first.pythonApp(module: "engine_samples", function: "add")
        let two = try second.pythonApp(module: "engine_samples", function: "add")
        #expect(try one(1, 2).result(as: Int.self) == 3)
        #expect(try two(2, 3).result(as: Int.self) == 5)
        // A manager and its one worker each, once the managers have reported them.
        #expect(eventually { first.executorStatus("pool")?.processIDs.count == 2 && second.executorStatus("pool")?.processIDs.count == 2 })
        let firstProcesses = try #require(first.executorStatus("pool")).processIDs
        let secondProcesses = try #require(second.executorStatus("pool")).processIDs
        #expect(Set(firstProcesses).isDisjoint(with: secondProcesses), "each kernel started its own block")
        first.shutdown()
        #expect(eventually { firstProcesses.allSatisfy { !processExists($0) } })
        #expect(secondProcesses.allSatisfy(processExists), "shutting one kernel down left the other's block alone")
        #expect(try two(4, 5).result(as: Int.self) == 9)
        second.shutdown()
        #expect(eventually { secondProcesses.allSatisfy { !processExists($0) } }, "left: \(secondProcesses.filter(processExists))")
    }

    @Test func executorStatusDescribesReadyBlocks() throws {
        let h = try ProcessHarness(workers: 2)
        defer { h.close() }
        #expect(h.waitForWorkers(2))
        let status = try #require(h.dfk.executorStatus("htex"))
        let block = try #require(status.readyBlocks.first)
        #expect(block.workers == 2 && block.host == "localhost" && block.phase == .ready)
        #expect(block.processIDs.count == 3, "the manager and its two workers")
        #expect(status.processIDs == block.processIDs)
        #expect(h.dfk.executorStatus("nonesuch") == nil)
    }

    private struct ForeignExecutor: ExecutorDescription { let label = "mine" }

    @Test func aConfigWithAnExecutorSprigCannotStartIsRefusedNamingIt() throws {
        let error = try #require(throws: ConfigError.self) {
            _ = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(), ForeignExecutor()]))
        }
        #expect(error.message.contains("\"mine\"") && error.message.contains("ForeignExecutor"), "\(error)")
    }

    @Test func asyncShutdownWaitsForRunningTasksAndLeavesNoThread() async throws {
        let h = try Harness(threads: 2)
        let slow = try h.python("sleep_then")
        let futures = (0..<2).map { slow(0.2, $0) }
        await h.dfk.shutdown()
        #expect(futures.allSatisfy { $0.isDone })
        #expect(try futures[1].result(as: Int.self) == 1)
        #expect(eventually { !threadNames().contains("sprig-shutdown") })
        h.close()
    }

    @Test func aSecondShutdownWaitsForTheFirstToFinish() throws {
        let h = try Harness(threads: 1)
        let slow = try h.python("sleep_then")(0.5, 1)
        let noop = try h.python("noop")
        let first = try JoinableThread(name: "first-stop") { h.dfk.shutdown() }
        // The first call is draining once new calls are refused.
        #expect(eventually {
            do { _ = try noop().result() } catch let error as TaskError {
                if case .kernelShutDown = error.reason { return true }
            } catch {}
            return false
        })
        h.dfk.shutdown()
        #expect(slow.isDone, "the second call returned before the first had finished")
        first.join()
        h.close()
    }

    @Test func aJoinAppCalledAfterShutdownCountsAsFailed() throws {
        let h = try Harness()
        let square = try h.dfk.swiftApp(name: "square") { (x: Int) in x * x }
        let twice = try h.dfk.joinApp(name: "twice") { (x: Int) in square(x) }
        // A join app counts as its body's task and its own (the futures it returns count as theirs).
        #expect(try twice(3).result() == 9)
        h.dfk.waitForCurrentTasks()
        let perJoin = h.dfk.taskCounts.done - 1
        h.dfk.shutdown()
        let late = twice(3)
        #expect(throws: TaskError.self) { try late.result() }
        #expect(h.dfk.taskCounts.failed == perJoin, "\(h.dfk.taskCounts)")
        h.close()
    }
}
