import Foundation

/// Runs Python apps in pools of Python worker processes (Parsl's `HighThroughputExecutor`), so
/// CPU-bound Python uses every core.
///
/// The provider starts *blocks*; each block is one Python manager (`python -m sprig.manager`) which
/// starts the block's workers and speaks a framed protocol with this process over its stdin and
/// stdout — a pipe here, the same bytes through `ssh` for remote hosts. No port is opened. This
/// process is the interchange: it queues tasks, hands them to blocks with free slots in batches,
/// and completes futures from the results, which stay pickled bytes until read.
///
/// Bash apps run in the workers too. Swift apps cannot travel to a Python worker: they run in this
/// process, on a small thread pool of the executor's own.
///
/// A description: each kernel made from a config holding it starts blocks of its own
/// (``DataFlowKernel/executorStatus(_:)`` tells what they are doing).
public struct HighThroughputExecutor: ExecutorDescription {
    /// The unique label apps use to pin themselves to this executor.
    public let label: String
    /// Workers per block at most (Parsl's `max_workers_per_node`).
    public let maxWorkers: Int
    /// Cores each worker is given: a block runs `cores / coresPerWorker` workers, at most `maxWorkers`.
    public let coresPerWorker: Double
    /// More logging from managers and workers.
    public let workerDebug: Bool
    /// Where blocks start: this machine (``LocalProvider``) or a set of SSH hosts (``AdHocProvider``).
    public let provider: any ExecutionProvider
    /// How often heartbeats go both ways.
    public let heartbeatPeriod: Duration
    /// Silence after which a manager is declared lost (and its tasks fail with `managerLost`).
    public let heartbeatThreshold: Duration
    /// Tasks each worker may have waiting beside the one it runs, while tasks are short (they come
    /// back within ``shortTask``): that is what makes no-op throughput high; tasks that run do not
    /// count then, so a long one, or a worker that stopped answering, never starves the block's
    /// other workers. Longer tasks get no prefetch (Parsl's default), so that new blocks and
    /// other hosts get their share of the work.
    public let prefetch: Int
    /// Tasks that run faster than this on a worker, on average (time waiting in a block not counted), are prefetched.
    public let shortTask: Duration = .milliseconds(20)
    /// Where block logs go; default `<run directory>/<label>`.
    public let workerLogDirectory: String?
    /// How workers are pinned to CPUs (Parsl's `cpu_affinity`): `none`, `block`, `block-reverse`,
    /// `alternating`, or `list:0,1:2,3` (one CPU list per worker). Pinned workers get
    /// `OMP_NUM_THREADS`, `GOMP_CPU_AFFINITY` and `KMP_AFFINITY` as Parsl sets them; every worker
    /// gets `PARSL_WORKER_RANK`, `PARSL_WORKER_COUNT`, `PARSL_WORKER_POOL_ID`, `PARSL_WORKER_BLOCK_ID`.
    public let cpuAffinity: String
    /// Memory (GB) each worker needs (Parsl's `mem_per_worker`): a block runs at most the node's
    /// memory over this many workers. `nil`: memory does not limit them.
    public let memoryPerWorker: Double?
    /// Accelerators to share among a block's workers (Parsl's `available_accelerators`): at most
    /// one worker per entry, each seeing only its own (`CUDA_VISIBLE_DEVICES`, `ROCR_VISIBLE_DEVICES`
    /// and `ZE_AFFINITY_MASK` set to it, as Parsl sets them). Empty: none.
    public let availableAccelerators: [String]
    /// How long a block takes tasks (Parsl's `drain_period`): from its launch; then it finishes
    /// what it holds and stops. `nil`: as long as it runs.
    public let drainPeriod: Duration?
    /// What starts a block's manager (Parsl's `launch_cmd`); `nil`: Sprig's manager. See
    /// ``ManagerCommand/launchCommand``.
    public let launchCommand: String?
    /// Where managers that connect back (``SlurmProvider``) reach this process (Parsl's `address`):
    /// the only address a block's listener binds. `nil`: this host's own address. Unused by
    /// providers whose blocks talk over pipes.
    public let address: String?
    /// The ports a block's listener may use (Parsl's `worker_port_range`).
    public let workerPortRange: ClosedRange<Int>
    /// Whether local blocks keep the manager's relay (tasks and results through the manager, four
    /// hops) instead of the two-hop path (the engine drives the workers itself). For tests and
    /// comparisons; `SPRIG_LOCAL_RELAY=1` in the environment does the same.
    var relayLocalWorkers = false


    /// The defaults, in one place: scripts that leave a setting unset get these too.
    /// Heartbeats every 2 seconds.
    public static let defaultHeartbeatPeriod: Duration = .seconds(2)
    /// A manager silent for 30 seconds is lost.
    public static let defaultHeartbeatThreshold: Duration = .seconds(30)
    /// Up to 16 waiting tasks per worker while tasks are short (see ``prefetch``).
    public static let defaultPrefetch = 16
    /// Workers are not pinned to CPUs.
    public static let defaultCPUAffinity = "none"
    /// Cores each worker is given when a script or caller does not say.
    public static let defaultCoresPerWorker: Double = 1
    /// Parsl's default `worker_port_range`.
    public static let defaultWorkerPortRange = 54000...55000

    /// Each parameter sets the property of the same name. By default blocks start on this machine
    /// (``LocalProvider``: one block) with a worker per core.
    public init(label: String = "htex", maxWorkers: Int = .max, coresPerWorker: Double = defaultCoresPerWorker,
                workerDebug: Bool = false, provider: any ExecutionProvider = LocalProvider(),
                heartbeatPeriod: Duration = defaultHeartbeatPeriod,
                heartbeatThreshold: Duration = defaultHeartbeatThreshold, prefetch: Int = defaultPrefetch,
                workerLogDirectory: String? = nil, cpuAffinity: String = defaultCPUAffinity,
                memoryPerWorker: Double? = nil, availableAccelerators: [String] = [], drainPeriod: Duration? = nil,
                launchCommand: String? = nil, address: String? = nil, workerPortRange: ClosedRange<Int> = defaultWorkerPortRange) {
        self.address = address
        self.workerPortRange = workerPortRange
        self.label = label
        self.maxWorkers = maxWorkers
        self.coresPerWorker = coresPerWorker
        self.workerDebug = workerDebug
        self.provider = provider
        self.heartbeatPeriod = heartbeatPeriod
        self.heartbeatThreshold = heartbeatThreshold
        self.prefetch = prefetch
        self.workerLogDirectory = workerLogDirectory
        self.cpuAffinity = cpuAffinity
        self.memoryPerWorker = memoryPerWorker
        self.availableAccelerators = availableAccelerators
        self.drainPeriod = drainPeriod
        self.launchCommand = launchCommand
    }

    /// Workers in one block (of the provider's first slot, for providers whose hosts differ).
    public var workersPerBlock: Int { workers(slot: 0) }

    /// Workers in a block of `slot` (Parsl's `workers_per_node`): the fewest of ``maxWorkers``, the
    /// node's cores over ``coresPerWorker``, its memory over ``memoryPerWorker`` and the number of
    /// ``availableAccelerators`` (those set), at least 1.
    func workers(slot: Int) -> Int {
        max(1, workerLimit(cores: provider.coresPerNode(slot: slot), memory: provider.memoryPerNode(slot: slot)) ?? .max)
    }

    /// The workers a node with `cores` and `memory` (GB; either unknown) may run, by these
    /// settings; `nil` when nothing limits them.
    func workerLimit(cores: Int?, memory: Double?) -> Int? {
        var limits: [Int] = maxWorkers == .max ? [] : [maxWorkers]
        if let cores { limits.append(Self.whole(Double(cores) / max(coresPerWorker, 0.01))) }
        if let perWorker = memoryPerWorker, perWorker > 0, let memory { limits.append(Self.whole(memory / perWorker)) }
        if !availableAccelerators.isEmpty { limits.append(availableAccelerators.count) }
        return limits.min().map { max(1, $0) }
    }

    /// `quotient` rounded down, held to what an `Int` counts (a tiny share of a node is no limit).
    private static func whole(_ quotient: Double) -> Int {
        quotient < 0x1p63 ? Int(max(quotient, 0)) : .max
    }
}

extension HighThroughputExecutor: RunnableExecutor {
    func makeExecutor() -> any Executor { HighThroughputRuntime(self) }
}
