import Foundation

/// Starts blocks on this machine (Parsl's `LocalProvider`): each block is `/bin/bash -c` running
/// `workerInit`, then exec'ing the manager, in a process group of its own.
public struct LocalProvider: ExecutionProvider {
    public var initBlocks: Int
    public var minBlocks: Int
    public var maxBlocks: Int
    public var workerInit: String
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

    public init(channel: LocalChannel = LocalChannel(), initBlocks: Int = defaultInitBlocks, minBlocks: Int = defaultMinBlocks,
                maxBlocks: Int = defaultMaxBlocks, workerInit: String = "") {
        self.channel = channel
        self.initBlocks = initBlocks
        self.minBlocks = minBlocks
        self.maxBlocks = maxBlocks
        self.workerInit = workerInit
    }

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
