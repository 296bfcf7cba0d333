import Foundation

/// Where a block's manager runs and how its stream reaches it (Parsl's channels).
public protocol Channel: Sendable {
    /// The host, for messages and logs.
    var host: String { get }
    /// Folder for the block's scripts, logs and (for remote hosts) Sprig's shipped code.
    var scriptDir: String? { get }
    /// Starts `script` (a POSIX shell script) on the host, its stdin and stdout carrying the block's
    /// stream; its stderr goes to `stderrPath` on this machine. Returns the local process.
    func start(script: String, stderrPath: String, environment: [String: String]) throws -> BlockProcess
    /// Whether Sprig's Python code must travel with the block (a remote host may not have it).
    var shipsCode: Bool { get }
    /// The interpreter to run there.
    var python: String { get }
    /// Ends anything the channel keeps open (a multiplexed SSH connection).
    func close()
}

/// This machine (Parsl's `LocalChannel`): the manager is a child process.
public struct LocalChannel: Channel {
    /// The folder a block starts in when this channel is a host of an ``AdHocProvider`` (`~/.sprig`
    /// when `nil`); ``LocalProvider`` does not use it.
    public let scriptDir: String?
    /// `localhost`.
    public var host: String { "localhost" }
    /// `false`: this machine has Sprig's Python code.
    public var shipsCode: Bool { false }
    /// The interpreter Sprig embeds (`sys.executable`), or `python3` before it starts.
    public var python: String { Python.info?.executable ?? "python3" }

    /// This machine, with an optional ``scriptDir``.
    public init(scriptDir: String? = nil) { self.scriptDir = scriptDir }

    /// Runs `script` with `/bin/bash -c` as a child process leading a process group of its own.
    public func start(script: String, stderrPath: String, environment: [String: String]) throws -> BlockProcess {
        try startProcess(["/bin/bash", "-c", script], stderrPath: stderrPath, environment: environment, host: host)
    }

    /// ``start(script:stderrPath:environment:)`` with more descriptors for the child (child's
    /// number: this process's descriptor).
    func start(script: String, stderrPath: String, environment: [String: String], passing: [Int32: Int32]) throws -> BlockProcess {
        try startProcess(["/bin/bash", "-c", script], stderrPath: stderrPath, environment: environment, host: host, passing: passing)
    }

    /// Nothing to close.
    public func close() {}
}

/// Starts `argv` with pipes for its stdin and stdout and its stderr appended to `stderrPath`, in a
/// process group of its own. `onReap` runs once the process has been reaped (see ``BlockProcess``).
func startProcess(_ argv: [String], stderrPath: String, environment: [String: String], host: String,
                  onReap: (@Sendable (Int32) -> Void)? = nil, passing: [Int32: Int32] = [:]) throws -> BlockProcess {
    let folder = (stderrPath as NSString).deletingLastPathComponent
    do {
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    } catch {
        throw ProviderError(message: "cannot create the log folder \(folder): \(error.localizedDescription)")
    }
    let errorFD = open(stderrPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
    guard errorFD >= 0 else { throw ProviderError(message: "cannot open \(stderrPath): \(String(cString: strerror(errno)))") }
    defer { close(errorFD) }
    do {
        let toChild = try Spawn.pipe(), fromChild = try Spawn.pipe()
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { $1 }
        let pid: pid_t
        do {
            let descriptors = [0: toChild.read, 1: fromChild.write, 2: errorFD].merging(passing) { standard, _ in standard }
            pid = try Spawn.start(argv, descriptors: descriptors, environment: merged)
        } catch {
            for fd in [toChild.read, toChild.write, fromChild.read, fromChild.write] { close(fd) }
            throw error
        }
        close(toChild.read)
        close(fromChild.write)
        return BlockProcess(pid: pid, input: toChild.write, output: fromChild.read, host: host, onReap: onReap)
    } catch let failure as Spawn.Failure {
        throw ProviderError(message: failure.description)
    }
}
