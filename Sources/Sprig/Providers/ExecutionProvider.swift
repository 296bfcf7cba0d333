import Foundation

/// Starts blocks of workers somewhere (Parsl's providers): on this machine, over SSH, on a cluster.
///
/// A block is one process (the manager, or a channel such as `ssh` carrying its stream) whose
/// stdin and stdout carry the manager protocol. A provider only starts blocks; the executor owns
/// them from then on.
public protocol ExecutionProvider: Sendable {
    /// Blocks started when the executor starts.
    var initBlocks: Int { get }
    /// The fewest blocks the `simple` strategy keeps.
    var minBlocks: Int { get }
    /// The most blocks at once.
    var maxBlocks: Int { get }
    /// Shell lines run before the manager starts (activating an environment, say).
    var workerInit: String { get }
    /// How many cores a block's node has; the executor divides it by `coresPerWorker`.
    func coresPerNode(slot: Int) -> Int
    /// How much memory (GB) a block's node has for workers, where known; the executor divides it
    /// by `memoryPerWorker` when that is set.
    func memoryPerNode(slot: Int) -> Double?
    /// The cores per node the user declared (Parsl's `cores_per_node`), if any.
    var declaredCoresPerNode: Int? { get }
    /// The memory per node (GB) the user declared (Parsl's `mem_per_node`), if any.
    var declaredMemoryPerNode: Double? { get }
    /// Task slots the `simple` strategy provisions per active task (Parsl's `parallelism`, 0…1).
    var parallelism: Double { get }
    /// Starts block number `block` in `slot` (0 ..< maxBlocks; for the ad-hoc provider, the host)
    /// running `command` (the manager) after `workerInit`.
    /// - Throws: ``ProviderError`` when it cannot start.
    func launch(slot: Int, block: Int, command: ManagerCommand) throws -> BlockProcess
    /// Releases what the provider keeps open (shared SSH connections); called at shutdown.
    func close()
    /// Failed block starts in a row after which, with no block alive, the executor gives up
    /// (its tasks fail with `BadStateException`); `nil`: when every slot has failed three times.
    var failedStartsBeforeBroken: Int? { get }
}

extension ExecutionProvider {
    /// Does nothing: for providers that keep nothing open.
    public func close() {}
    /// Not known: a memory per worker does not limit the workers.
    public func memoryPerNode(slot: Int) -> Double? { nil }
    /// None declared.
    public var declaredCoresPerNode: Int? { nil }
    /// None declared.
    public var declaredMemoryPerNode: Double? { nil }
    /// 1: a slot for every active task (Parsl's default).
    public var parallelism: Double { 1 }
    /// `nil`: Sprig's rule (every slot three times in a row).
    public var failedStartsBeforeBroken: Int? { nil }
}

/// The shell lines that run a provider's `worker_init` before the manager: whatever it prints goes
/// to the block's log (stderr) and it reads nothing — the block's stdin and stdout carry frames
/// (a profile that prints a line used to break every block with "unknown frame type").
func workerInitLines(_ workerInit: String) -> [String] {
    guard !workerInit.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { return [] }
    // A group, not a subshell: what it exports and `cd`s stays for the manager. The newline
    // before `}` keeps a trailing comment in the init from swallowing it.
    return ["{", workerInit, "} </dev/null >&2"]
}

/// How to start a manager: the arguments, the environment additions, and where its logs go.
public struct ManagerCommand: Sendable {
    /// The block's number.
    public let block: Int
    /// The manager's arguments, after `python -m sprig.manager`.
    public let arguments: [String]
    /// Variables for the manager's environment on this machine (`PYTHONPATH` for Sprig's code).
    public let environment: [String: String]
    /// Where the block's own logs go on this machine (the channel's stderr capture, say).
    public let logFolder: String
    /// The Python `major.minor` the manager must run.
    public let pythonVersion: String
    /// The executor's launch command (Parsl's `launch_cmd`), when set: see ``shellLine(python:shipped:scriptDir:)``.
    public var launchCommand: String? = nil
    /// The run's folder (`runinfo/NNN`), for what a provider keeps per run (submit scripts).
    public var runDirectory: String = ""
    /// Where managers that connect back reach this process (Parsl's `address`); `nil`: this host's address.
    public var address: String? = nil
    /// The ports a connect-back listener may use (Parsl's `worker_port_range`).
    public var portRange: ClosedRange<Int> = HighThroughputExecutor.defaultWorkerPortRange
    /// How often the executor expects to hear from a block (its heartbeat period).
    public var heartbeatPeriod: Duration = HighThroughputExecutor.defaultHeartbeatPeriod
    /// A local block's control socket (the manager's end), passed to it as fd 3 (`--worker-socket
    /// 3`): its workers' pipes come to the engine over it (the two-hop path).
    var workerSocket: Int32? = nil

    /// The shell line that starts the manager with `python`, installed (`-m sprig.manager`) or,
    /// for a host that gets Sprig's code through the stream, through the bootstrap.
    ///
    /// With a ``launchCommand`` in Parsl's form (one naming `process_worker_pool.py`), what comes
    /// before the pool (a container runtime, `numactl`, …) wraps the manager; any other launch
    /// command runs as given — it is not a manager, so the block fails to start, showing what it said.
    func shellLine(python: String, shipped: Bool, scriptDir: String) -> String {
        let line = managerLine(python: python, shipped: shipped, scriptDir: scriptDir)
        guard let launch = launchCommand?.trimmingCharacters(in: .whitespacesAndNewlines), !launch.isEmpty else {
            return "exec " + line
        }
        guard let pool = launch.range(of: "process_worker_pool.py") else { return launch }
        // Drop the pool's own path (`/opt/bin/process_worker_pool.py`) and everything after it.
        var wrapper = launch[..<pool.lowerBound]
        while let last = wrapper.last, !last.isWhitespace { wrapper.removeLast() }
        let prefix = wrapper.trimmingCharacters(in: .whitespaces)
        return "exec " + (prefix.isEmpty ? "" : prefix + " ") + line
    }

    private func managerLine(python: String, shipped: Bool, scriptDir: String) -> String {
        // Managers and their workers use UTF-8 for text, as the embedded interpreter does.
        let utf8Flag = ["-X", "utf8"]
        let words: [String]
        if shipped {
            // Remote logs stay on the host, under the script dir.
            words = [python] + utf8Flag + ["-c", Bootstrap.source, "--expect-python", pythonVersion, "--script-dir", scriptDir, "--"]
                + arguments + ["--logdir", "logs/block-\(block)"]
        } else {
            words = [python] + utf8Flag + ["-m", "sprig.manager"] + arguments + ["--logdir", logFolder]
        }
        return words.map(shellQuote).joined(separator: " ")
    }
}

/// A provider could not start a block.
public struct ProviderError: Error, Sendable, CustomStringConvertible {
    /// What failed, naming the block and host where known.
    public let message: String
    /// An error saying `message`.
    public init(message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// Quotes a word for POSIX shells: left bare when it is plainly safe, else in single quotes.
public func shellQuote(_ word: String) -> String {
    let safe = Set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%")
    if !word.isEmpty && word.allSatisfy({ safe.contains($0) }) { return word }
    return "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
