import Foundation
import PythonBridge
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
         launcher: SlurmLauncher = .srun(), exclusive: Bool = false, workers: Int = 1, schedulerOptions: String = "",
         heartbeatThreshold: Duration = .seconds(10), nodesPerBlock: Int = 1, python: String = "python3") throws {
        cluster = try TestCluster.load(kind)
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-slurm-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let provider = SlurmProvider(nodesPerBlock: nodesPerBlock, exclusive: exclusive, initBlocks: blocks, minBlocks: strategy == .none ? 0 : blocks,
                                     maxBlocks: maxBlocks ?? blocks, walltime: walltime, schedulerOptions: schedulerOptions,
                                     workerInit: workerInit, launcher: launcher, python: python,
                                     scriptDir: folder + "/node", environment: ["SLURM_CONF": cluster.conf, "PYTHONPATH": samplesFolder],
                                     statusPeriod: .milliseconds(500), drainBeforeWalltime: drainBefore)
        htex = HighThroughputExecutor(label: "slurm", maxWorkers: workers, provider: provider, heartbeatPeriod: .milliseconds(500),
                                      heartbeatThreshold: heartbeatThreshold, address: cluster.submitAddress)
        dfk = try DataFlowKernel(config: Config(executors: [htex], retries: retries, runDirectory: folder + "/runinfo",
                                                strategy: strategy, python: PythonConfiguration(searchPaths: [samplesFolder])))
        runDirectory = dfk.runFolder  // the run's own folder, runinfo/000: submit scripts and block logs are under it
    }

    /// The interpreter this process embeds (what a local block's manager and workers run), for
    /// figures that compare a Slurm block with a local one: `python3` on the test bed's `PATH` may be
    /// another build (pyenv's here ran Python code ~25% slower than Debian's).
    static func embeddedPython() throws -> String {
        try Python.start(PythonConfiguration(searchPaths: [samplesFolder])).executable
    }

    var status: ExecutorStatus { dfk.executorStatus(htex.label)! }
    var jobPrefix: String { "sprig.\((runDirectory as NSString).lastPathComponent).block-" }

    func python(_ function: String) throws -> PythonApp { try dfk.pythonApp(module: "engine_samples", function: function) }

    /// This process's connect-back pump threads (one per block whose stream is open).
    static func streamThreads() -> [String] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
        return tasks.compactMap { task in
            let name = ((try? String(contentsOfFile: "/proc/self/task/\(task)/comm", encoding: .utf8)) ?? "")
                .trimmingCharacters(in: .whitespacesAndNewlines)
            return name.hasPrefix("sprig-cb") ? name : nil
        }
    }

    /// Shuts down; checks that no job of the run is left in squeue, no stream thread here and no
    /// manager or worker on any node, and that nothing listens on the worker ports.
    func close() {
        dfk.shutdown()
        #expect(cluster.jobs(named: jobPrefix).isEmpty, "jobs left: \(cluster.jobs(named: jobPrefix))")
        #expect(Self.streamThreads().isEmpty, "stream threads left: \(Self.streamThreads())")
        #expect(eventually(timeout: .seconds(5)) { managersOnNodes().isEmpty }, "left on the nodes: \(managersOnNodes())")
        #expect(listeningPorts(in: htex.workerPortRange, thisProcess: true).isEmpty,
                "still listening: \(listeningPorts(in: htex.workerPortRange, thisProcess: true))")
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Processes of this run's managers, workers or connectors, wherever they run.
    func managersOnNodes() -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            let line = (try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8)) ?? ""
            // A connector outside a Slurm job (another checkout's tests on this machine) is not ours.
            let environment = (try? String(contentsOfFile: "/proc/\(pid)/environ", encoding: .utf8)) ?? ""
            return line.contains(folder + "/node") || (line.contains("sprig connector") && environment.contains("SLURM_JOB_ID=") && processExists(pid))
        }.filter(processExists)
    }

    /// The CPU time (user + system, seconds) the live processes of this run's jobs have used so
    /// far: the manager and workers on the node (and whatever else carries the block there), told
    /// by their environment's `SLURM_JOB_ID`.
    func jobCPUSeconds() -> Double {
        let jobs = Set(cluster.jobs(named: jobPrefix).map { "SLURM_JOB_ID=\($0)" })
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).reduce(0.0) { total, pid in
            guard let environment = try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")),
                  environment.split(separator: 0).contains(where: { jobs.contains(String(decoding: $0, as: UTF8.self)) }),
                  let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return total }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            // Fields 14 and 15 of stat (utime, stime) are the 12th and 13th after the name.
            guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else { return total }
            return total + (user + system) / ticks
        }
    }

    /// The submit script of block `number`.
    func submitScript(_ number: Int) throws -> String {
        try String(contentsOfFile: "\(runDirectory)/submit_scripts/block-\(number).sbatch", encoding: .utf8)
    }

    /// The block's log on this machine (what its stream and the scheduler said).
    func blockLog(_ number: Int) -> String {
        (try? String(contentsOfFile: "\(runDirectory)/slurm/block-\(number)/block.stderr", encoding: .utf8)) ?? ""
    }
}

/// The TCP ports of `range` something on this machine listens on (`/proc/net/tcp`, `tcp6`); with
/// `thisProcess`, only sockets this process holds (other programs on the machine may use the range).
func listeningPorts(in range: ClosedRange<Int>, thisProcess: Bool = false) -> [Int] {
    var ours: Set<Substring> = []
    if thisProcess {
        for fd in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? [] {
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(fd)"),
                  target.hasPrefix("socket:[") else { continue }
            ours.insert(Substring(target.dropFirst("socket:[".count).dropLast()))
        }
    }
    return ["/proc/net/tcp", "/proc/net/tcp6"].flatMap { path -> [Int] in
        let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 9, fields[3] == "0A", let port = fields[1].split(separator: ":").last.flatMap({ Int($0, radix: 16) }) else { return nil }
            if thisProcess && !ours.contains(fields[9]) { return nil }
            return range.contains(port) ? port : nil
        }
    }
}

/// `text` as a Python string literal.
func pythonLiteral(_ text: String) -> String {
    "'" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'") + "'"
}
