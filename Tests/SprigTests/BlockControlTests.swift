import Foundation
import PythonBridge
@testable import Sprig
import Testing

/// Parsl's block controls on the process executor: how many workers a block gets, blocks past
/// `max_blocks` at start, draining, scaling in by hand, launch commands and accelerators.
@Suite(.timeLimit(.minutes(2))) struct BlockControlTests {
    /// A kernel with one process executor `executor`, in a scratch folder; `close()` checks that
    /// no process it saw is left.
    final class Run: @unchecked Sendable {  // immutable after init
        let dfk: DataFlowKernel
        let folder: String
        private let seen = LockedValue<Set<Int32>>([])

        init(_ executor: HighThroughputExecutor, strategy: Strategy = .none) throws {
            folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-blocks-\(UUID().uuidString)").path
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            dfk = try DataFlowKernel(config: Config(executors: [executor], runDirectory: folder + "/runinfo", strategy: strategy,
                                                    python: PythonConfiguration(searchPaths: [samplesFolder])))
        }

        var status: ExecutorStatus {
            let status = dfk.executorStatus(dfk.executorLabels[0])!
            seen.set(seen.get().union(status.processIDs))
            return status
        }

        func python(_ function: String) throws -> PythonApp { try dfk.pythonApp(module: "engine_samples", function: function) }

        func close() {
            _ = status
            dfk.shutdown()
            let pids = seen.get()
            #expect(eventually { pids.allSatisfy { !processExists($0) } }, "processes left behind: \(pids.filter(processExists))")
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    @Test func workersPerBlockIsTheTightestOfCoresMemoryAndAccelerators() {
        var provider = LocalProvider()
        provider.declaredCores = 8
        provider.declaredMemory = 16
        // Parsl's test_maxworker_computation_executor, case by case.
        #expect(HighThroughputExecutor(maxWorkers: 5, provider: provider).workersPerBlock == 5)
        #expect(HighThroughputExecutor(maxWorkers: 16, coresPerWorker: 4, provider: provider).workersPerBlock == 2)
        #expect(HighThroughputExecutor(maxWorkers: 16, coresPerWorker: 4, provider: provider, memoryPerWorker: 16).workersPerBlock == 1)
        provider.declaredCores = 16
        #expect(HighThroughputExecutor(maxWorkers: 16, coresPerWorker: 4, provider: provider, memoryPerWorker: 2,
                                       availableAccelerators: ["0", "1", "2"]).workersPerBlock == 3)
        // What Parsl reports as workers_per_node: the settings' bound, without this machine's cores.
        #expect(HighThroughputExecutor(maxWorkers: 7).workerLimit(cores: nil, memory: nil) == 7)
        #expect(HighThroughputExecutor().workerLimit(cores: nil, memory: nil) == nil)
        #expect(HighThroughputExecutor(coresPerWorker: 2).workerLimit(cores: 8, memory: nil) == 4)
    }

    @Test func aLaunchCommandInParslsFormWrapsTheManager() {
        func line(_ launch: String?) -> String {
            ManagerCommand(block: 0, arguments: ["--workers", "1"], environment: [:], logFolder: "/tmp/l", pythonVersion: "3.11",
                           launchCommand: launch).shellLine(python: "python3", shipped: false, scriptDir: "")
        }
        #expect(line(nil).hasPrefix("exec python3 -X utf8 -m sprig.manager --workers 1"))
        #expect(line("singularity exec img.sif /opt/bin/process_worker_pool.py {debug} --max_workers_per_node=2")
            .hasPrefix("exec singularity exec img.sif python3 -X utf8 -m sprig.manager --workers 1"))
        #expect(line("process_worker_pool.py -d") == line(nil))
        #expect(line("my-own-pool --fast") == "my-own-pool --fast")
    }

    @Test func theWrappedManagerRunsInsideTheLaunchCommand() throws {
        let run = try Run(HighThroughputExecutor(label: "wrapped", maxWorkers: 1, provider: LocalProvider(initBlocks: 1, maxBlocks: 1),
                                                 launchCommand: "env SPRIG_WRAPPED=yes process_worker_pool.py {debug}"))
        defer { run.close() }
        #expect(try run.python("environment_value")("SPRIG_WRAPPED").result(as: String.self) == "yes")
    }

    @Test func aLaunchCommandThatIsNoManagerFailsTasksAsABadState() throws {
        let run = try Run(HighThroughputExecutor(label: "bogus", maxWorkers: 1, provider: LocalProvider(initBlocks: 1, maxBlocks: 1),
                                                 launchCommand: "executable_that_hopefully_does_not_exist_1030509.py"))
        defer { run.close() }
        let error = try #require(throws: TaskError.self) { try run.python("noop")().result(timeout: .seconds(60)) }
        guard case .badState(let detail) = error.reason else { Issue.record("expected a bad state, got \(error)"); return }
        #expect(detail.contains("EXIT CODE: 127"), "\(detail)")
        #expect(run.status.broken != nil)
        #expect(run.status.ended.allSatisfy { !$0.connected && $0.failure != nil })
    }

    @Test func initialBlocksMayExceedMaxBlocksAndScalingInByHandIsNotUndone() throws {
        let run = try Run(HighThroughputExecutor(label: "two", maxWorkers: 1, provider: LocalProvider(initBlocks: 2, maxBlocks: 1)))
        defer { run.close() }
        #expect(eventually(timeout: .seconds(30)) { run.status.readyBlocks.count == 2 }, "\(run.status)")
        let stopped = run.dfk.scaleIn("two", blocks: 1)
        #expect(stopped.count == 1)
        #expect(eventually(timeout: .seconds(10)) { run.status.blocks.count == 1 && run.status.ended.count == 1 })
        let ended = try #require(run.status.ended.first)
        #expect(ended.number == stopped[0] && ended.connected && ended.failure == nil)
        #expect(try run.python("add")(1, 2).result(as: Int.self) == 3)
        // The `none` strategy replaces lost blocks, not ones stopped on purpose.
        #expect(!eventually(timeout: .seconds(1)) { run.status.blocks.count > 1 })
        #expect(run.status.connectedBlocks.count == 2, "ended blocks count as connected ones")
    }

    @Test func aBlockPastItsDrainPeriodFinishesWhatItRunsThenEnds() throws {
        let run = try Run(HighThroughputExecutor(label: "drain", maxWorkers: 1, provider: LocalProvider(initBlocks: 1, maxBlocks: 1),
                                                 drainPeriod: .seconds(1)))
        defer { run.close() }
        let long = try run.python("sleep_then")(3.0, 7)
        #expect(eventually(timeout: .seconds(10)) { run.status.blocks.first?.phase == .draining }, "\(run.status)")
        #expect(!long.isDone, "draining does not stop the task it runs")
        #expect(try long.result(as: Int.self) == 7)
        #expect(eventually(timeout: .seconds(10)) { run.status.blocks.isEmpty }, "\(run.status)")
        #expect(run.status.ended.first?.failure == nil)
    }

    @Test func eachWorkerSeesOnlyItsOwnAccelerator() throws {
        let run = try Run(HighThroughputExecutor(label: "gpus", maxWorkers: 4, provider: LocalProvider(initBlocks: 1, maxBlocks: 1),
                                                 availableAccelerators: ["gpu-a", "gpu-b"]))
        defer { run.close() }
        let meeting = run.folder + "/meet"
        try FileManager.default.createDirectory(atPath: meeting, withIntermediateDirectories: true)
        let app = try run.python("accelerator_after_meeting")
        let devices = try [app(meeting, "one", 2, 20.0), app(meeting, "two", 2, 20.0)].map { try $0.result(as: [String].self) }
        #expect(run.status.blocks.first?.workers == 2, "two accelerators: two workers, whatever the cores")
        #expect(devices.allSatisfy { $0[0] == "True" && $0[1] == $0[2] }, "\(devices)")
        #expect(Set(devices.map { $0[1] }) == ["gpu-a", "gpu-b"], "\(devices)")
    }
}
