import Foundation

/// A host reached with the system OpenSSH client (Parsl's `SSHChannel`, kept after Parsl removed it).
///
/// Because it runs `ssh`, everything users already set up works: `~/.ssh/config`, agents,
/// `ProxyJump`, known-hosts policy. Connections are multiplexed (`ControlMaster`/`ControlPersist`)
/// so that later commands to the same host skip the handshake. The block's stream rides the ssh
/// session's stdin and stdout: no port is opened on either side.
public struct SSHChannel: Channel {
    /// The host, as `ssh` takes it (a `Host` of `~/.ssh/config` works).
    public let hostname: String
    /// The remote user (`ssh -l`); `nil`: ssh's choice.
    public let username: String?
    /// The port (`ssh -p`); `nil`: ssh's choice.
    public let port: Int?
    /// The folder on the host a block works in, holding its shipped code and logs (`~/.sprig` when `nil`).
    public let scriptDir: String?
    /// A private key (`ssh -i`).
    public let keyFilename: String?
    /// A known-hosts file (`UserKnownHostsFile`).
    public let hostKeysFilename: String?
    /// An ssh config file (`ssh -F`); when nil, `$SPRIG_SSH_CONFIG` if set, else ssh's own defaults.
    public let configFile: String?
    /// More `ssh` arguments, placed before the host (`["-o", "ConnectTimeout=3"]`).
    public let extraOptions: [String]
    /// The interpreter on the host (`python3` on its PATH by default); it must be the same Python
    /// minor version as the one Sprig embeds.
    public let python: String
    /// Share one connection per host between commands.
    public let multiplex: Bool

    /// The defaults, in one place: scripts that leave a setting unset get these too.
    /// `python3` on the host's PATH.
    public static let defaultPython = "python3"
    /// Connections are shared.
    public static let defaultMultiplex = true

    /// Only `hostname` is needed; every other setting defaults to ssh's own behaviour, with
    /// connections shared.
    public init(hostname: String, username: String? = nil, port: Int? = nil, scriptDir: String? = nil,
                keyFilename: String? = nil, hostKeysFilename: String? = nil, configFile: String? = nil,
                extraOptions: [String] = [], python: String = defaultPython, multiplex: Bool = defaultMultiplex) {
        self.hostname = hostname
        self.username = username
        self.port = port
        self.scriptDir = scriptDir
        self.keyFilename = keyFilename
        self.hostKeysFilename = hostKeysFilename
        self.configFile = configFile
        self.extraOptions = extraOptions
        self.python = python
        self.multiplex = multiplex
    }

    /// The ``hostname``.
    public var host: String { hostname }
    /// `true`: Sprig's Python code travels with each block, so the host needs none installed.
    public var shipsCode: Bool { true }

    /// Where multiplexed connections keep their sockets: a folder only this user can enter.
    static let controlFolder: String = privateControlFolder(
        shared: NSTemporaryDirectory() + "sprig-ssh-\(getuid())",
        runtime: ProcessInfo.processInfo.environment["XDG_RUNTIME_DIR"])

    /// `shared` (created mode 0700) when it is this user's own folder that no one else may write;
    /// else `$XDG_RUNTIME_DIR/sprig-ssh` under the same rule; else a new private folder of this
    /// process. A socket folder another user owns, or may write to, could hand this process
    /// someone else's connection: it is never used.
    static func privateControlFolder(shared: String, runtime: String?) -> String {
        for candidate in [shared, runtime.map { $0 + "/sprig-ssh" }].compactMap({ $0 }) {
            _ = mkdir(candidate, 0o700)
            var info = stat()
            guard lstat(candidate, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR,
                  info.st_uid == getuid(), info.st_mode & 0o077 == 0 else { continue }
            return candidate
        }
        var template = Array((NSTemporaryDirectory() + "sprig-ssh-XXXXXX").utf8CString)
        if let made = mkdtemp(&template) { return String(cString: made) }
        return shared  // mkdtemp failed: ssh will refuse an unusable folder and say so
    }

    /// The `ssh` argument vector that runs `remoteCommand` (one shell command line) on the host.
    /// Every value is its own argument: nothing here goes through a local shell.
    public func arguments(remoteCommand: String) -> [String] {
        var argv = ["ssh", "-T", "-o", "BatchMode=yes", "-o", "ServerAliveInterval=5", "-o", "ServerAliveCountMax=3"]
        if let file = configFile ?? ProcessInfo.processInfo.environment["SPRIG_SSH_CONFIG"].flatMap({ $0.isEmpty ? nil : $0 }) {
            argv += ["-F", file]
        }
        if let keyFilename { argv += ["-i", keyFilename, "-o", "IdentitiesOnly=yes"] }
        if let hostKeysFilename { argv += ["-o", "UserKnownHostsFile=\(hostKeysFilename)"] }
        if let port { argv += ["-p", String(port)] }
        if let username { argv += ["-l", username] }
        if multiplex {
            argv += ["-o", "ControlMaster=auto", "-o", "ControlPath=\(Self.controlFolder)/%C", "-o", "ControlPersist=60"]
        }
        argv += extraOptions
        argv += ["--", hostname, remoteCommand]
        return argv
    }

    /// Runs `script` under `/bin/bash` on the host through `ssh` (quoted once, here); `environment`
    /// reaches the local `ssh` process only.
    public func start(script: String, stderrPath: String, environment: [String: String]) throws -> BlockProcess {
        // The remote side gets one command line: `bash -c SCRIPT` (worker_init lines are usually
        // written for bash: `source`, `module load`), quoted once, here.
        let remote = "exec /bin/bash -c " + shellQuote(script)
        return try startProcess(arguments(remoteCommand: remote).resolvingExecutable(), stderrPath: stderrPath,
                                environment: environment, host: hostname)
    }

    /// Ends the shared connection, if one is open.
    public func close() {
        guard multiplex else { return }
        var argv = arguments(remoteCommand: "true")
        argv.removeLast(3)  // "--", host, command
        argv += ["-O", "exit", hostname]
        let quiet = open("/dev/null", O_RDWR | O_CLOEXEC)
        defer { if quiet >= 0 { Glibc.close(quiet) } }
        let silence: [Int32: Int32] = quiet >= 0 ? [0: quiet, 1: quiet, 2: quiet] : [:]
        guard let pid = try? Spawn.start(argv.resolvingExecutable(), descriptors: silence, newProcessGroup: true) else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
    }
}

extension Array where Element == String {
    /// The first word as an absolute path found on PATH (posix_spawn does not search it).
    func resolvingExecutable() throws -> [String] {
        guard let first, !first.contains("/") else { return self }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"
        for folder in path.split(separator: ":") where FileManager.default.isExecutableFile(atPath: "\(folder)/\(first)") {
            return ["\(folder)/\(first)"] + dropFirst()
        }
        throw ProviderError(message: "\(first) was not found on PATH; install the OpenSSH client (Debian: openssh-client)")
    }
}
