import Foundation
import PythonBridge

/// Blocks as Slurm batch jobs (Parsl's `SlurmProvider`, by its parameters' names), whose managers
/// connect back to this process, authenticated and encrypted.
///
/// Each block is a listener in this process (a ``ConnectBackStream``: TLS terminated here, with
/// the system OpenSSL) on the executor's `address` for that block's manager alone, and an `sbatch`
/// job whose script (kept, mode 0600, in `<run>/submit_scripts/`) runs a small connector through
/// the ``launcher``. The connector pins the run's certificate, proves the run's secret, receives
/// Sprig's code through the connection (nothing is installed on the nodes) and runs the manager
/// with its stdio relayed. To the executor the stream is the block: no local process carries it.
///
/// Job states come from `squeue` every ``statusPeriod``; a block whose job ends (walltime, `scancel`,
/// node failure) ends as soon as the scheduler or the connection says so, its tasks failing with
/// `ManagerLost` (retries move them); a running block drains ``drainMargin(walltime:)`` before its
/// walltime; a block that ends has its job cancelled, and ``close()`` cancels every job of the run.
public struct SlurmProvider: ExecutionProvider {
    /// Parsl's `partition`, `account`, `qos`, `constraint` and `clusters` (`#SBATCH --<name>=`); `nil`: not given.
    public var partition: String?
    /// See ``partition``.
    public var account: String?
    /// See ``partition``.
    public var qos: String?
    /// See ``partition``.
    public var constraint: String?
    /// See ``partition``; also passed to `squeue` and `scancel`.
    public var clusters: String?
    /// Nodes per job (Parsl's `nodes_per_block`): each node runs one manager, which the executor
    /// sees as a block of its own.
    public var nodesPerBlock: Int
    /// Cores per node (Parsl's `cores_per_node`; `--cpus-per-task`); `nil`: this machine's count is assumed for workers.
    public var declaredCores: Int?
    /// Memory per node in GB (Parsl's `mem_per_node`; `--mem=<n>g`); `nil`: not limited.
    public var declaredMemory: Double?
    /// `#SBATCH --exclusive` (Parsl's `exclusive`).
    public var exclusive: Bool
    /// Jobs at start, at least (for the `simple` strategy) and at most: Parsl's `init_blocks`,
    /// `min_blocks`, `max_blocks`, where a block is a job.
    public var initJobs: Int
    /// See ``initJobs``.
    public var minJobs: Int
    /// See ``initJobs``.
    public var maxJobs: Int
    /// Parsl's `parallelism`: task slots the `simple` strategy provisions per active task (0…1;
    /// 1, the default: a slot for every task; 0.5: half as many; 0: one block while tasks are active).
    public var parallelism: Double
    /// Each job's time limit, `"HH:MM:SS"` (Parsl's `walltime`), given to sbatch in minutes rounded up.
    public var walltime: String
    /// More `#SBATCH` lines, as they are (Parsl's `scheduler_options`).
    public var schedulerOptions: String
    /// How the job id is found in sbatch's output (Parsl's `regex_job_id`; a group named `id`).
    public var regexJobID: String
    /// Shell lines the job runs before the connector (Parsl's `worker_init`).
    public var workerInit: String
    /// Seconds any scheduler command may take (Parsl's `cmd_timeout`).
    public var cmdTimeout: Int
    /// How the connector starts on the job's nodes (Parsl's `launcher`).
    public var launcher: SlurmLauncher
    /// The interpreter on the nodes (same minor version as the one Sprig embeds).
    public var python: String
    /// The folder on the nodes for Sprig's shipped code and the managers' logs.
    public var scriptDir: String
    /// Variables for the scheduler commands (`SLURM_CONF`, say), added to this process's environment.
    public var environment: [String: String]
    /// How often job states are read from `squeue`.
    public var statusPeriod: Duration
    /// How long before its walltime a running block stops taking tasks; `nil`: a tenth of the
    /// walltime, between 10 s and 5 minutes.
    public var drainBeforeWalltime: Duration?
    let runs = SlurmRuns()

    /// The defaults, in one place (Parsl's, except the launcher): one block of one node for ten minutes.
    public static let defaultWalltime = "00:10:00"
    /// Parsl's `regex_job_id`.
    public static let defaultRegexJobID = #"Submitted batch job (?P<id>\S*)"#

    /// Each parameter sets the property of the same name.
    public init(partition: String? = nil, account: String? = nil, qos: String? = nil, constraint: String? = nil,
                clusters: String? = nil, nodesPerBlock: Int = 1, coresPerNode: Int? = nil, memoryPerNode: Double? = nil,
                exclusive: Bool = true, initBlocks: Int = 1, minBlocks: Int = 0, maxBlocks: Int = 1, parallelism: Double = 1,
                walltime: String = defaultWalltime, schedulerOptions: String = "", regexJobID: String = defaultRegexJobID,
                workerInit: String = "", cmdTimeout: Int = 10, launcher: SlurmLauncher = .srun(),
                python: String = "python3", scriptDir: String = "~/.sprig", environment: [String: String] = [:],
                statusPeriod: Duration = .seconds(2), drainBeforeWalltime: Duration? = nil) {
        self.partition = partition
        self.account = account
        self.qos = qos
        self.constraint = constraint
        self.clusters = clusters
        self.nodesPerBlock = nodesPerBlock
        self.declaredCores = coresPerNode
        self.declaredMemory = memoryPerNode
        self.exclusive = exclusive
        self.initJobs = initBlocks
        self.minJobs = minBlocks
        self.maxJobs = maxBlocks
        self.parallelism = parallelism
        self.walltime = walltime
        self.schedulerOptions = schedulerOptions
        self.regexJobID = regexJobID
        self.workerInit = workerInit
        self.cmdTimeout = cmdTimeout
        self.launcher = launcher
        self.python = python
        self.scriptDir = scriptDir
        self.environment = environment
        self.statusPeriod = statusPeriod
        self.drainBeforeWalltime = drainBeforeWalltime
    }

    /// Managers at start: ``initJobs`` × ``nodesPerBlock`` (the executor's blocks are managers, one per node).
    public var initBlocks: Int { initJobs * max(1, nodesPerBlock) }
    /// ``minJobs`` × ``nodesPerBlock``.
    public var minBlocks: Int { minJobs * max(1, nodesPerBlock) }
    /// ``maxJobs`` × ``nodesPerBlock``.
    public var maxBlocks: Int { maxJobs * max(1, nodesPerBlock) }

    /// ``declaredCores``, else this machine's count (a node's is not known before its job runs).
    public func coresPerNode(slot: Int) -> Int { declaredCores ?? ProcessInfo.processInfo.activeProcessorCount }
    /// ``declaredMemory``.
    public func memoryPerNode(slot: Int) -> Double? { declaredMemory }
    /// ``declaredCores``.
    public var declaredCoresPerNode: Int? { declaredCores }
    /// ``declaredMemory``.
    public var declaredMemoryPerNode: Double? { declaredMemory }

    /// How long before `walltime` a running block drains: ``drainBeforeWalltime`` (at most the
    /// walltime), else a tenth of it, between 10 s and 5 minutes, and at most half of it.
    public func drainMargin(walltime: Duration) -> Duration {
        if let drainBeforeWalltime { return min(drainBeforeWalltime, walltime) }
        return min(min(max(walltime / 10, .seconds(10)), .seconds(300)), walltime / 2)
    }

    /// Starts the block's listener; once the job has a listener for each of its nodes (at once for one
    /// node; otherwise when ``nodesPerBlock`` blocks have joined, or a second after the first),
    /// writes its batch script and submits it.
    /// - Throws: ``ProviderError`` naming the block (and the file or command) when any step fails;
    ///   nothing of the block is left then.
    public func launch(slot: Int, block: Int, command: ManagerCommand) throws -> BlockProcess {
        if nodesPerBlock > 1, case .simple = launcher {
            throw ProviderError(message: "block \(block): SimpleLauncher starts one manager, but nodes_per_block is \(nodesPerBlock); "
                                + "use SrunLauncher (one per node)")
        }
        let minutes = try SubmitScript.minutes(walltime)
        let session = try runs.session(runDirectory: command.runDirectory, settings: self)
        let address = try command.address ?? Self.hostAddress()
        let logPath = command.logFolder + "/block.stderr"
        let (process, stream) = try ConnectBackStream.startBooting(
            block: block, address: address, command: command, context: session.tls, secret: session.credentials.secretBytes,
            host: "slurm", forWhat: "the nodes", blockName: "block \(block)",
            onReap: { code in session.blockEnded(block: block, cleanly: code == 0) })
        do {
            // The loader runs inside the connector (it reads the bundle from the connection).
            let loader = ["--expect-python", command.pythonVersion, "--script-dir", ".", "--"]
                + command.arguments + ["--logdir", "logs/block-\(block)"]
            let member = SlurmJobMember(block: block, process: process, logPath: logPath,
                                        port: stream.port, fingerprint: session.tls.fingerprint, address: address, loader: loader)
            try session.join(member, walltime: .seconds(minutes * 60), nodes: max(1, nodesPerBlock), runDirectory: command.runDirectory)
            return process
        } catch {
            process.kill()
            process.reap()
            process.closeStream()
            if let error = error as? ProviderError { throw error }
            throw ProviderError(message: "block \(block): \(error)")
        }
    }

    /// Cancels every job this provider submitted for its runs and waits until `squeue` lists none.
    public func close() { runs.closeAll() }

    /// The connector's source, for the nodes (it runs the loader itself, from the bundle it reads).
    static func connectorSource() throws -> String {
        try withGIL { try String(python: Python.importModule("sprig.connector").attribute("source").call()) }
    }

    /// This host's address as its name resolves (not a loopback one), for managers to connect back to.
    static func hostAddress() throws -> String {
        var name = [CChar](repeating: 0, count: 256)
        gethostname(&name, name.count)
        let host = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>? = nil
        defer { if let list { freeaddrinfo(list) } }
        if getaddrinfo(host, nil, &hints, &list) == 0 {
            var entry = list
            while let current = entry {
                var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
                if getnameinfo(current.pointee.ai_addr, current.pointee.ai_addrlen, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) == 0 {
                    let address = String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                    if !address.hasPrefix("127.") { return address }
                }
                entry = current.pointee.ai_next
            }
        }
        throw ProviderError(message: "cannot tell which address of \(host) the compute nodes reach; "
                            + "set HighThroughputExecutor(address=...) to the submit host's address on the cluster network")
    }
}
