import Foundation
import PythonBridge

/// Blocks started by a provider object defined in Python (Parsl's provider interface: `submit`,
/// `status`, `cancel`), such as a `LocalProvider` subclass that counts its submits, or a provider
/// for a scheduler Sprig does not know.
///
/// Each block is a listener in this process (a ``ConnectBackStream``, as for a Slurm block: TLS
/// terminated here, the run's certificate pinned, the run's secret proved both ways) and a job the
/// provider starts: `provider.submit(command, 1, job_name)` is called under the GIL with a shell
/// command that runs the connector, which dials the listener, receives Sprig's code and runs the
/// manager. The connect-back details (the secret among them) are in a file of mode 0600 in a folder
/// of mode 0700 under the run directory, which the command reads on its stdin and removes before
/// the connector starts: the secret is never on a command line. The job therefore needs this
/// machine's file system (a provider whose jobs run elsewhere needs a shared one).
///
/// A `submit` that raises fails that block with a ``ProviderError`` naming the provider's class and
/// the exception (the executor retries the slot and reports it broken when blocks keep failing);
/// `provider.status` is read every ``statusPeriod`` and a job that ended ends its block with the
/// job's state as the reason; `provider.cancel` is called once for each job when its block ends
/// (scale-in, a lost manager, shutdown), and ``close()`` cancels what is left before it returns.
public struct PythonDefinedProvider: ExecutionProvider {
    /// The key under which `sprig.python_providers` keeps the provider object.
    public let key: String
    /// The provider's class name, for messages.
    public let className: String
    /// Parsl's `init_blocks`.
    public let initBlocks: Int
    /// Parsl's `min_blocks`.
    public let minBlocks: Int
    /// Parsl's `max_blocks`.
    public let maxBlocks: Int
    /// Parsl's `parallelism`.
    public let parallelism: Double
    /// How often job states are read (Parsl's `status_polling_interval`).
    public let statusPeriod: Duration
    /// Parsl's `cores_per_node`, if the object has one.
    public let declaredCoresPerNode: Int?
    /// Parsl's `mem_per_node` (GB), if the object has one.
    public let declaredMemoryPerNode: Double?
    /// Parsl's rule for providers (its `simple_error_handler`): the executor gives up once
    /// `max(1, init_blocks)` blocks have failed with none alive.
    public var failedStartsBeforeBroken: Int? { max(1, initBlocks) }
    /// The provider runs `worker_init` itself (it is part of its job script, as in Parsl).
    public var workerInit: String { "" }
    let jobs: PythonProviderJobs

    /// A provider for the object kept under `key`; the other parameters are its attributes' values.
    public init(key: String, className: String, initBlocks: Int = 1, minBlocks: Int = 0, maxBlocks: Int = 1,
                parallelism: Double = 1, statusPeriod: Duration = .seconds(5), coresPerNode: Int? = nil, memoryPerNode: Double? = nil) {
        self.key = key
        self.className = className
        self.initBlocks = initBlocks
        self.minBlocks = minBlocks
        self.maxBlocks = maxBlocks
        self.parallelism = parallelism
        self.statusPeriod = statusPeriod
        self.declaredCoresPerNode = coresPerNode
        self.declaredMemoryPerNode = memoryPerNode
        self.jobs = PythonProviderJobs(key: key, className: className, statusPeriod: statusPeriod)
    }

    /// ``declaredCoresPerNode``, else this machine's count (a job's node is not known before it runs).
    public func coresPerNode(slot: Int) -> Int { declaredCoresPerNode ?? ProcessInfo.processInfo.activeProcessorCount }
    /// ``declaredMemoryPerNode``.
    public func memoryPerNode(slot: Int) -> Double? { declaredMemoryPerNode }

    /// Starts the block's listener, writes its connect-back details and calls the provider's `submit`
    /// (taking the GIL) with the command that runs the connector.
    /// - Throws: ``ProviderError`` naming the block and the provider's class when a step fails (the
    ///   message of what `submit` raised among them); nothing of the block is left then.
    public func launch(slot: Int, block: Int, command: ManagerCommand) throws -> BlockProcess {
        let session = try jobs.session(runDirectory: command.runDirectory)
        let address = command.address ?? (try? SlurmProvider.hostAddress()) ?? "127.0.0.1"
        let connector: String
        do {
            connector = try SlurmProvider.connectorSource()
        } catch {
            throw ProviderError(message: "block \(block) (\(className)): cannot prepare Sprig's code for the job: \(error)")
        }
        let (process, stream) = try ConnectBackStream.startBooting(
            block: block, address: address, command: command, context: session.tls, secret: session.credentials.secretBytes,
            host: className, forWhat: "the job", blockName: "block \(block) (\(className))",
            onReap: { [jobs] _ in jobs.blockEnded(block: block) })
        let loader = ["--expect-python", command.pythonVersion, "--script-dir", session.folder, "--"]
            + command.arguments + ["--logdir", command.logFolder]
        let details: [String: Any] = ["address": address, "fingerprint": session.tls.fingerprint, "secret": session.credentials.secret,
                                      "nodes": [["block": block, "port": stream.port, "boot": loader] as [String: Any]]]
        let detailsPath = "\(session.folder)/block-\(block).connect"
        do {
            let line = try JSONSerialization.data(withJSONObject: details, options: [.sortedKeys, .withoutEscapingSlashes])
            try PrivateFile.write(Array(line) + [10], to: detailsPath)
            try PrivateFile.write(Array(connector.utf8), to: session.connectorPath)
            let shell = Self.jobCommand(python: LocalChannel().python, connector: session.connectorPath, details: detailsPath)
            let run = (command.runDirectory as NSString).lastPathComponent
            let jobID = try jobs.submit(block: block, command: shell, jobName: "sprig.\(run).block-\(block)",
                                         runDirectory: command.runDirectory)
            jobs.started(block: block, jobID: jobID, process: process, detailsPath: detailsPath)
            return process
        } catch {
            unlink(detailsPath)
            process.kill()
            process.reap()
            process.closeStream()
            if let error = error as? ProviderError { throw error }
            throw ProviderError(message: "block \(block) (\(className)): \(error)")
        }
    }

    /// The job's shell command: the connector, reading the connect-back details on its stdin from
    /// a file the command removes before the connector starts (the shell has opened it by then).
    /// The connector replaces the job's shell (`exec`), so that the manager it becomes stays in
    /// the job's process group, with its workers, and the provider's `cancel` of the job reaches them.
    static func jobCommand(python: String, connector: String, details: String) -> String {
        "{ rm -f \(shellQuote(details)); SPRIG_NODE_INDEX=0 exec \(shellQuote(python)) -X utf8 \(shellQuote(connector)); } < \(shellQuote(details))"
    }

    /// Cancels every job not cancelled yet (calling the provider's `cancel`, under the GIL) and
    /// stops reading states; returns once done. Call it without holding the GIL on another thread's behalf.
    public func close() { jobs.close() }
}
