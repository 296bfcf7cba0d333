import Foundation

/// One block on each of a fixed set of hosts (Parsl's `AdHocProvider`, kept after Parsl removed it),
/// all feeding one executor, so tasks balance across the hosts by their free worker slots.
///
/// Hosts that do not have Sprig get its Python code through the SSH stream itself ("zero install"):
/// they need only a `python3` of the same minor version and whatever the apps import. A host that
/// cannot be reached is reported by name and tried again later; the others carry on.
public struct AdHocProvider: ExecutionProvider {
    /// The hosts, one block each; a block's slot is its host's index.
    public let channels: [any Channel]
    /// Shell lines run on each host before its manager starts (Parsl's `worker_init`).
    public let workerInit: String
    /// Cores per host, when known; else this machine's count is assumed.
    public let coresPerHost: Int?

    /// One block on each of `channels`.
    public init(channels: [any Channel], workerInit: String = "", coresPerHost: Int? = nil) {
        self.channels = channels
        self.workerInit = workerInit
        self.coresPerHost = coresPerHost
    }

    /// One block per host, all started at once.
    public var initBlocks: Int { channels.count }
    /// One block per host: scaling never removes one.
    public var minBlocks: Int { channels.count }
    /// One block per host.
    public var maxBlocks: Int { channels.count }

    /// ``coresPerHost``, else this machine's count.
    public func coresPerNode(slot: Int) -> Int { coresPerHost ?? ProcessInfo.processInfo.activeProcessorCount }
    /// ``coresPerHost``.
    public var declaredCoresPerNode: Int? { coresPerHost }

    /// Starts the block on host `slot`, in its ``Channel/scriptDir`` (`~/.sprig` when `nil`), after
    /// `workerInit`; when the channel ships code, Sprig's Python code goes first, through the stream.
    public func launch(slot: Int, block: Int, command: ManagerCommand) throws -> BlockProcess {
        let channel = channels[slot]
        // Sprig's code for the host, made (once) before anything starts, so that a failure here
        // is reported as itself rather than as a remote command with no loader.
        let bundle: [UInt8]?
        do {
            bundle = channel.shipsCode ? try Bootstrap.bundle() : nil
        } catch {
            throw ProviderError(message: "block \(block) on \(channel.host): cannot prepare Sprig's code for the host: \(error)")
        }
        let scriptDir = channel.scriptDir ?? "~/.sprig"
        // `~` must reach the remote shell unquoted to expand there.
        let folder = scriptDir.hasPrefix("~/") ? "\"$HOME\"/" + shellQuote(String(scriptDir.dropFirst(2))) : shellQuote(scriptDir)
        var lines = ["mkdir -p \(folder) && cd \(folder) || exit 111"]
        lines += workerInitLines(workerInit)
        lines.append(command.shellLine(python: channel.python, shipped: channel.shipsCode, scriptDir: "."))
        let process: BlockProcess
        do {
            process = try channel.start(script: lines.joined(separator: "\n"), stderrPath: command.logFolder + "/block.stderr",
                                        environment: channel.shipsCode ? [:] : command.environment)
        } catch let error as ProviderError {
            throw ProviderError(message: "block \(block) on \(channel.host): \(error.message)")
        }
        if let bundle {
            do {
                try writeAll(process.input, bundle)
            } catch {
                process.kill()
                process.reap()
                process.closeStream()
                throw ProviderError(message: "block \(block) on \(channel.host): cannot send Sprig's code: \(error)")
            }
        }
        return process
    }

    /// Closes every channel (ending shared SSH connections).
    public func close() {
        for channel in channels { channel.close() }
    }
}
