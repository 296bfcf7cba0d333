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

    /// This machine's active cores, for every slot.
    public func coresPerNode(slot: Int) -> Int { ProcessInfo.processInfo.activeProcessorCount }

    /// Starts the block with `/bin/bash -c`: `workerInit`, then the manager; its stderr goes to
    /// `block.stderr` in the command's log folder.
    public func launch(slot: Int, block: Int, command: ManagerCommand) throws -> BlockProcess {
        let line = command.shellLine(python: channel.python, shipped: false, scriptDir: "")
        let script = (workerInitLines(workerInit) + [line]).joined(separator: "\n")
        do {
            return try channel.start(script: script, stderrPath: command.logFolder + "/block.stderr", environment: command.environment)
        } catch let error as ProviderError {
            throw ProviderError(message: "block \(block): \(error.message)")
        }
    }
}
