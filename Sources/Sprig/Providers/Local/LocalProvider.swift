import Foundation

/// Starts blocks on this machine (Parsl's `LocalProvider`): each block is `/bin/bash -c` running
/// `workerInit`, then exec'ing the manager, in a process group of its own.
public struct LocalProvider: ExecutionProvider {
    /// Blocks started when the executor starts (Parsl's `init_blocks`).
    public var initBlocks: Int
    /// The fewest blocks the `simple` strategy keeps (Parsl's `min_blocks`).
    public var minBlocks: Int
    /// The most blocks at once (Parsl's `max_blocks`).
    public var maxBlocks: Int
    /// Shell lines run before each manager starts (Parsl's `worker_init`).
    public var workerInit: String
    /// How blocks start: as child processes of this one.
    public var channel: LocalChannel
    /// The cores a block may use (Parsl's `cores_per_node`); `nil`: this machine's.
    public var declaredCores: Int? = nil
    /// The memory (GB) a block may use (Parsl's `mem_per_node`); `nil`: what this machine has available.
    public var declaredMemory: Double? = nil

    /// The defaults, in one place: scripts that leave a setting unset get these too.
    /// One block starts at once.
    public static let defaultInitBlocks = 1
    /// Scaling may remove every block.
    public static let defaultMinBlocks = 0
    /// One block at most.
    public static let defaultMaxBlocks = 1

    /// By default one block, started at once, which the `simple` strategy may remove when idle.
    public init(channel: LocalChannel = LocalChannel(), initBlocks: Int = defaultInitBlocks, minBlocks: Int = defaultMinBlocks,
                maxBlocks: Int = defaultMaxBlocks, workerInit: String = "") {
        self.channel = channel
        self.initBlocks = initBlocks
        self.minBlocks = minBlocks
        self.maxBlocks = maxBlocks
        self.workerInit = workerInit
    }

    /// ``declaredCores``, or this machine's active cores, for every slot.
    public func coresPerNode(slot: Int) -> Int { declaredCores ?? ProcessInfo.processInfo.activeProcessorCount }

    /// ``declaredCores``.
    public var declaredCoresPerNode: Int? { declaredCores }
    /// ``declaredMemory``.
    public var declaredMemoryPerNode: Double? { declaredMemory }

    /// ``declaredMemory``, or this machine's available memory (`MemAvailable` of `/proc/meminfo`).
    public func memoryPerNode(slot: Int) -> Double? { declaredMemory ?? Self.availableMemory() }

    /// This machine's available memory in GB, from `/proc/meminfo`.
    static func availableMemory() -> Double? {
        guard let text = try? String(contentsOfFile: "/proc/meminfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("MemAvailable:") }),
              let kilobytes = line.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return nil }
        return kilobytes / 1_048_576
    }

    /// Starts the block with `/bin/bash -c`: `workerInit`, then the manager; its stderr goes to
    /// `block.stderr` in the command's log folder.
    public func launch(slot: Int, block: Int, command: ManagerCommand) throws -> BlockProcess {
        let line = command.shellLine(python: channel.python, shipped: false, scriptDir: "")
        let script = (workerInitLines(workerInit) + [line]).joined(separator: "\n")
        do {
            if let socket = command.workerSocket {
                // The two-hop path: the manager's end of the control socket is its fd 3.
                return try channel.start(script: script, stderrPath: command.logFolder + "/block.stderr", environment: command.environment,
                                         passing: [3: socket])
            }
            return try channel.start(script: script, stderrPath: command.logFolder + "/block.stderr", environment: command.environment)
        } catch let error as ProviderError {
            throw ProviderError(message: "block \(block): \(error.message)")
        }
    }
}
