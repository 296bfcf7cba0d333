import Logging
import PythonBridge

/// Where a config says apps run: Sprig's ``ThreadPoolExecutor`` and ``HighThroughputExecutor``.
///
/// A description holds settings only. Each ``DataFlowKernel`` made from a ``Config`` starts
/// executors of its own from the descriptions, so one config can start several kernels, one after
/// another or side by side. Executors of other kinds cannot be written outside Sprig yet: a config
/// holding another conforming type is refused by ``Config/validate()``.
public protocol ExecutorDescription: Sendable {
    /// The unique label apps use to pin themselves to this executor.
    var label: String { get }
}

/// A description the kernel knows how to start.
protocol RunnableExecutor: ExecutorDescription {
    /// A new executor for one kernel, not yet started.
    func makeExecutor() -> any Executor
}

/// Runs the tasks the kernel hands it (Parsl's executors).
///
/// Threading: the kernel calls `start` once, then `submit` from any thread, then `shutdown` once,
/// after every task it submitted has ended. `submit` must not block.
protocol Executor: AnyObject, Sendable {
    /// The unique label apps use to pin themselves to this executor.
    var label: String { get }
    /// Starts threads or processes. - Throws: ``ExecutorError`` when it cannot.
    func start(_ context: ExecutorContext) throws
    /// Queues one attempt of a task; the executor ends it with ``Attempt/finish(_:)``.
    func submit(_ attempt: Attempt)
    /// Stops and joins everything the executor started.
    func shutdown()
    /// Tasks submitted and not yet finished; the kernel prefers the least loaded executor.
    var outstanding: Int { get }
    /// What it is doing now.
    var status: ExecutorStatus { get }
    /// Stops up to `count` blocks, idle ones first; returns their numbers. Nothing for executors without blocks.
    func scaleIn(_ count: Int) -> [Int]
    /// Starts up to `count` more blocks; returns their numbers. Nothing for executors without blocks.
    func scaleOut(_ count: Int) -> [Int]
}

extension Executor {
    func scaleIn(_ count: Int) -> [Int] { [] }
    func scaleOut(_ count: Int) -> [Int] { [] }
}

/// What an executor gets from its kernel.
struct ExecutorContext: Sendable {
    let logger: Logger
    /// Where the executor reports what happens to tasks and blocks (the queue only: it never calls back).
    let recorder: RunRecorder
    /// The kernel's run folder (``DataFlowKernel/runFolder``): where the executor's logs go.
    let runDirectory: String
    /// How to start the embedded interpreter, for executors that need it.
    let python: PythonConfiguration
    /// How blocks scale.
    let strategy: Strategy
    /// How often workers sample a running try's resource use (they also sample each try at its
    /// end); `nil`: they sample nothing (monitoring or its resource sampling is off).
    let resourceInterval: Duration?
}

/// What one executor of a kernel is doing (``DataFlowKernel/executorStatus(_:)``).
public struct ExecutorStatus: Sendable {
    /// The executor's label.
    public let label: String
    /// Tasks handed to it and not yet ended.
    public let outstanding: Int
    /// Its blocks that have started and not yet ended, by number; none for a thread executor.
    public let blocks: [BlockStatus]
    /// Why blocks failed to start, by provider slot (for the ad-hoc provider, by host), while they keep failing.
    public let startFailures: [Int: String]
    /// Why the executor refuses tasks, when it gave up starting blocks (`nil` while it works).
    public var broken: String? = nil
    /// Blocks of this kernel's run that have ended, in the order they ended.
    public var ended: [EndedBlock] = []
    /// Workers in one block (of the provider's first slot); `nil` for a thread executor.
    public var workersPerBlock: Int? = nil
    /// The most workers a block may run by the settings alone (Parsl's `workers_per_node`): `nil`
    /// when nothing but each node's own cores limits them, and for a thread executor.
    public var workerLimit: Int? = nil

    /// Blocks that said hello and take tasks.
    public var readyBlocks: [BlockStatus] { blocks.filter { $0.phase == .ready } }
    /// The numbers of every block that connected in this run, ended ones included (Parsl's `connected_blocks()`).
    public var connectedBlocks: [Int] {
        (ended.filter(\.connected).map(\.number) + blocks.filter { $0.phase != .starting }.map(\.number)).sorted()
    }
    /// The PIDs of every manager and worker, as their managers last reported them.
    public var processIDs: [Int32] { blocks.flatMap(\.processIDs) }
}

/// One block of a process executor: a manager and its workers on one host.
public struct BlockStatus: Sendable, Equatable {
    /// Where a block is in its life.
    public enum Phase: Sendable, Equatable {
        /// Started; its manager has not said hello yet.
        case starting
        /// Connected: it takes tasks.
        case ready
        /// Connected, past its drain period: it finishes what it holds and takes nothing more.
        case draining
        /// Told to stop (scaling in, or shutdown); it takes no more tasks.
        case stopping
    }

    /// The block's number in this kernel's run (Parsl's block id).
    public let number: Int
    /// The provider's slot it runs in (for the ad-hoc provider, the index of its host).
    public let slot: Int
    /// The host it runs on, as the provider names it.
    public let host: String
    /// Where the block is in its life.
    public let phase: Phase
    /// How many workers it runs.
    public let workers: Int
    /// Tasks sent to it and not yet back.
    public let outstanding: Int
    /// Its manager's PID then its workers', as the manager last reported them (empty until it says hello).
    public let processIDs: [Int32]
    /// How long it has held no task (`nil` while it holds some, or before it connected).
    public var idle: Duration? = nil
    /// Its manager's full Python version (`3.11.2`), once it said hello.
    public var pythonVersion: String? = nil
    /// What it waits on before its manager can connect, as its provider says (a pending batch
    /// job and the scheduler's reason); `nil` otherwise.
    public var waitingFor: String? = nil
}

/// A block that has ended.
public struct EndedBlock: Sendable, Equatable {
    /// The block's number in this kernel's run.
    public let number: Int
    /// The provider's slot it ran in.
    public let slot: Int
    /// The host it ran on.
    public let host: String
    /// Whether it ever said hello.
    public let connected: Bool
    /// Why it ended, when that was a failure (never connected, lost); `nil` when it was stopped.
    public let failure: String?
}

/// An executor could not start or run a task.
public struct ExecutorError: Error, Sendable, CustomStringConvertible {
    /// The executor's label.
    public let label: String
    /// What went wrong.
    public let message: String
    /// An error of the executor labelled `label`.
    public init(label: String, message: String) {
        self.label = label
        self.message = message
    }
    /// `executor <label>: <message>`.
    public var description: String { "executor \(label): \(message)" }
}
