import Foundation
@testable import Sprig
import Testing

/// A Slurm test cluster that `scripts/testbed/slurm/up.sh local|netns` started (scripts/test starts both).
struct TestCluster {
    let kind: String
    let values: [String: String]
    var conf: String { values["SLURM_CONF"] ?? "" }
    var nodes: [String] { (values["SPRIG_SLURM_NODES"] ?? "").split(separator: " ").map(String.init) }
    var submitAddress: String { values["SPRIG_SLURM_SUBMIT_ADDR"] ?? "127.0.0.1" }
    var nodeScript: String { values["SPRIG_SLURM_NODE_SH"] ?? "" }

    static func load(_ kind: String) throws -> TestCluster {
        let root = ProcessInfo.processInfo.environment["SPRIG_TESTBED_DIR"] ?? "/tmp/sprig-testbed"
        let path = "\(root)/slurm-\(kind)/env.sh"
        guard let text = try? String(contentsOfFile: path, encoding: .utf8),
              FileManager.default.fileExists(atPath: "\(root)/slurm-\(kind)/nodes.tsv") else {
            throw TestClusterMissing(path: path, kind: kind)
        }
        return TestCluster(kind: kind, values: exportedValues(text))
    }

    /// Runs a command with this cluster's SLURM_CONF; returns its stdout.
    @discardableResult
    func run(_ argv: [String]) throws -> String {
        try SchedulerCommand.run(argv, environment: ["SLURM_CONF": conf], timeout: .seconds(20)).output
    }

    /// The ids of the jobs squeue lists whose name starts with `prefix`, in any live state.
    func jobs(named prefix: String) -> [String] {
        let listed = (try? run(["squeue", "--noheader", "--format=%i %j %t"])) ?? ""
        return listed.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            return words.count >= 3 && words[1].hasPrefix(prefix) && !["CD", "CA", "F", "TO", "NF"].contains(String(words[2]))
                ? String(words[0]) : nil
        }
    }
}

struct TestClusterMissing: Error, CustomStringConvertible {
    let path: String
    let kind: String
    var description: String { "no Slurm test cluster at \(path): run scripts/test, or scripts/testbed/slurm/up.sh \(kind) first" }
}

/// A kernel with one process executor whose blocks are Slurm jobs on a test cluster.
final class SlurmHarness: @unchecked Sendable {  // immutable after init
    let cluster: TestCluster
    let dfk: DataFlowKernel
    let htex: HighThroughputExecutor
    let folder: String
    let runDirectory: String

    init(_ kind: String, blocks: Int = 1, maxBlocks: Int? = nil, retries: Int = 0, strategy: Strategy = .none,
         walltime: String = "00:10:00", drainBefore: Duration? = nil, workerInit: String = "",
         launcher: SlurmLauncher = .srun()) throws {
        cluster = try TestCluster.load(kind)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-slurm-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let provider = SlurmProvider(exclusive: false, initBlocks: blocks, minBlocks: strategy == .none ? 0 : blocks,
                                     maxBlocks: maxBlocks ?? blocks, walltime: walltime, workerInit: workerInit, launcher: launcher,
                                     scriptDir: folder + "/node", environment: ["SLURM_CONF": cluster.conf, "PYTHONPATH": samplesFolder],
                                     statusPeriod: .milliseconds(500), drainBeforeWalltime: drainBefore)
        htex = HighThroughputExecutor(label: "slurm", maxWorkers: 1, provider: provider, heartbeatPeriod: .milliseconds(500),
                                      heartbeatThreshold: .seconds(10), address: cluster.submitAddress)
        dfk = try DataFlowKernel(config: Config(executors: [htex], retries: retries, runDirectory: folder + "/runinfo",
                                                strategy: strategy, python: PythonConfiguration(searchPaths: [samplesFolder])))
        runDirectory = folder + "/runinfo"
    }

    var status: ExecutorStatus { dfk.executorStatus(htex.label)! }
    var jobPrefix: String { "sprig.\((runDirectory as NSString).lastPathComponent).block-" }

    func python(_ function: String) throws -> PythonApp { try dfk.pythonApp(module: "engine_samples", function: function) }

    /// The relays of this run (the block processes on this machine).
    func relayPIDs() -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            let line = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return line.contains("sprig.connect_relay") && line.contains(runDirectory) && processExists(pid)
        }
    }

    /// Shuts down; checks that no job of the run is left in squeue and no relay, manager or worker on any node.
    func close() {
        dfk.shutdown()
        #expect(cluster.jobs(named: jobPrefix).isEmpty, "jobs left: \(cluster.jobs(named: jobPrefix))")
        #expect(eventually(timeout: .seconds(5)) { relayPIDs().isEmpty }, "relays left: \(relayPIDs())")
        #expect(eventually(timeout: .seconds(5)) { managersOnNodes().isEmpty }, "left on the nodes: \(managersOnNodes())")
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Processes of this run's managers, workers or connectors, wherever they run.
    func managersOnNodes() -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            let line = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            return line.contains(folder + "/node") || (line.contains("sprig connector") && processExists(pid))
        }.filter(processExists)
    }

    /// The submit script of block `number`.
    func submitScript(_ number: Int) throws -> String {
        try String(contentsOfFile: "\(runDirectory)/submit_scripts/block-\(number).sbatch", encoding: .utf8)
    }

    /// The block's log on this machine (the relay's stderr and the scheduler's news).
    func blockLog(_ number: Int) -> String {
        (try? String(contentsOfFile: "\(runDirectory)/slurm/block-\(number)/block.stderr", encoding: .utf8)) ?? ""
    }
}

@Suite("The Slurm provider", .serialized, .timeLimit(.minutes(3)))
struct SlurmTests {
    @Test func appsRunInABlockOnTheSingleNodeCluster() throws {
        let h = try SlurmHarness("local")
        defer { h.close() }
        let started = ContinuousClock.now
        #expect(try h.python("add")(2, 3).result(as: Int.self) == 5)
        let firstResult = ContinuousClock.now - started
        #expect(h.status.readyBlocks.count == 1)
        #expect(h.cluster.jobs(named: h.jobPrefix).count == 1)
        let results = try (0..<20).map { try h.python("add")($0, 1) }.map { try $0.result(as: Int.self) }
        #expect(results == Array(1...20))
        // The submit script is private: it holds the run's secret.
        var info = stat()
        #expect(stat("\(h.runDirectory)/submit_scripts/block-0.sbatch", &info) == 0 && info.st_mode & 0o077 == 0)
        print("slurm: sbatch to first result \(firstResult)")
    }
}
