import Foundation

/// Starts blocks on this machine (Parsl's `LocalProvider`): each block is `/bin/bash -c` running
/// `workerInit`, then exec'ing the manager, in a process group of its own.
public struct LocalProvider: ExecutionProvider {
    public var initBlocks: Int
    public var minBlocks: Int
    public var maxBlocks: Int
    public var workerInit: String

    public init(initBlocks: Int = 1, minBlocks: Int = 0, maxBlocks: Int = 1, workerInit: String = "") {
        self.initBlocks = initBlocks
        self.minBlocks = minBlocks
        self.maxBlocks = maxBlocks
        self.workerInit = workerInit
    }

    public func coresPerNode(block: Int) -> Int { ProcessInfo.processInfo.activeProcessorCount }

    public func launch(block: Int, command: ManagerCommand) throws -> BlockProcess {
        do {
            try FileManager.default.createDirectory(atPath: command.logFolder, withIntermediateDirectories: true)
        } catch {
            throw ProviderError(message: "block \(block): cannot create its log folder \(command.logFolder): \(error.localizedDescription)")
        }
        let stderrPath = command.logFolder + "/block.stderr"
        let errorFD = open(stderrPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard errorFD >= 0 else { throw ProviderError(message: "block \(block): cannot open \(stderrPath): \(String(cString: strerror(errno)))") }
        defer { close(errorFD) }
        do {
            let toManager = try Spawn.pipe(), fromManager = try Spawn.pipe()
            var environment = ProcessInfo.processInfo.environment
            environment.merge(command.environment) { $1 }
            let script = workerInit.isEmpty ? command.shellLine : workerInit + "\n" + command.shellLine
            let pid: pid_t
            do {
                pid = try Spawn.start(["/bin/bash", "-c", script],
                                      descriptors: [0: toManager.read, 1: fromManager.write, 2: errorFD],
                                      environment: environment)
            } catch {
                for fd in [toManager.read, toManager.write, fromManager.read, fromManager.write] { close(fd) }
                throw error
            }
            close(toManager.read)
            close(fromManager.write)
            return BlockProcess(pid: pid, input: toManager.write, output: fromManager.read, host: "localhost")
        } catch let failure as Spawn.Failure {
            throw ProviderError(message: "block \(block): \(failure.description)")
        }
    }
}
