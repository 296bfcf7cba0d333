/// The provider of a ``HighThroughputSpec``, told apart by its `kind` key; a spec without one
/// gets a local provider with the defaults.
enum ProviderSpec: Codable, Equatable, Sendable {
    /// `"local"`: a ``LocalProvider``.
    case local(LocalProviderSpec)
    /// `"adhoc"`: an ``AdHocProvider`` over a fixed list of hosts.
    case adhoc(AdHocProviderSpec)
    /// `"slurm"`: a ``SlurmProvider``.
    case slurm(SlurmProviderSpec)
    /// `"python"`: a provider object defined in Python, driven through its `submit`/`status`/`cancel`.
    case python(PythonProviderSpec)

    init(from decoder: any Decoder) throws {
        switch try SpecKind.read(decoder, default: "local", known: ["local", "adhoc", "slurm", "python"], of: "providers") {
        case "local": self = .local(try LocalProviderSpec(from: decoder))
        case "slurm": self = .slurm(try SlurmProviderSpec(from: decoder))
        case "python": self = .python(try PythonProviderSpec(from: decoder))
        default: self = .adhoc(try AdHocProviderSpec(from: decoder))
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .local(let spec): try spec.encode(to: encoder)
        case .adhoc(let spec): try spec.encode(to: encoder)
        case .slurm(let spec): try spec.encode(to: encoder)
        case .python(let spec): try spec.encode(to: encoder)
        }
    }

    func makeProvider() -> any ExecutionProvider {
        switch self {
        case .local(let spec):
            {
                var provider = LocalProvider(initBlocks: spec.initBlocks, minBlocks: spec.minBlocks, maxBlocks: spec.maxBlocks,
                                             workerInit: spec.workerInit)
                provider.declaredCores = spec.coresPerNode
                provider.declaredMemory = spec.memoryPerNode
                return provider
            }()
        case .adhoc(let spec):
            AdHocProvider(channels: spec.channels.map { $0.makeChannel() }, workerInit: spec.workerInit, coresPerHost: spec.coresPerHost)
        case .slurm(let spec):
            spec.makeProvider()
        case .python(let spec):
            spec.makeProvider()
        }
    }
}

/// `{"kind": "local", "init_blocks": …, "min_blocks": …, "max_blocks": …, "worker_init": …,
/// "cores_per_node": …, "mem_per_node": …}`.
struct LocalProviderSpec: Codable, Equatable, Sendable {
    var initBlocks = LocalProvider.defaultInitBlocks
    var minBlocks = LocalProvider.defaultMinBlocks
    var maxBlocks = LocalProvider.defaultMaxBlocks
    var workerInit = ""
    /// Parsl's `cores_per_node`; `nil`: this machine's.
    var coresPerNode: Int? = nil
    /// Parsl's `mem_per_node` (GB); `nil`: this machine's available memory.
    var memoryPerNode: Double? = nil

    enum CodingKeys: String, CodingKey {
        case kind, initBlocks = "init_blocks", minBlocks = "min_blocks", maxBlocks = "max_blocks", workerInit = "worker_init"
        case coresPerNode = "cores_per_node", memoryPerNode = "mem_per_node"
    }

    init() {}

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        initBlocks = try keys.value(.initBlocks, default: initBlocks, atLeast: 0)
        minBlocks = try keys.value(.minBlocks, default: minBlocks, atLeast: 0)
        maxBlocks = try keys.value(.maxBlocks, default: maxBlocks, atLeast: 0)
        workerInit = try keys.value(.workerInit, default: workerInit)
        coresPerNode = try keys.decodeIfPresent(Int.self, forKey: .coresPerNode)
        memoryPerNode = try keys.decodeIfPresent(Double.self, forKey: .memoryPerNode)
        if let cores = coresPerNode, cores < 1 {
            throw DecodingError.dataCorruptedError(forKey: .coresPerNode, in: keys, debugDescription: "is \(cores); it must be 1 or more")
        }
        if let memory = memoryPerNode, memory <= 0 {
            throw DecodingError.dataCorruptedError(forKey: .memoryPerNode, in: keys, debugDescription: "is \(memory); it must be more than 0")
        }
        for (key, value) in [(CodingKeys.minBlocks, minBlocks)] where value > maxBlocks {
            throw DecodingError.dataCorruptedError(forKey: key, in: keys, debugDescription: "is \(value), more than max_blocks (\(maxBlocks))")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode("local", forKey: .kind)
        try keys.encode(initBlocks, forKey: .initBlocks)
        try keys.encode(minBlocks, forKey: .minBlocks)
        try keys.encode(maxBlocks, forKey: .maxBlocks)
        try keys.encode(workerInit, forKey: .workerInit)
        try keys.encode(coresPerNode, forKey: .coresPerNode)
        try keys.encode(memoryPerNode, forKey: .memoryPerNode)
    }
}

/// `{"kind": "adhoc", "channels": […], "worker_init": …, "cores_per_host": …}`.
struct AdHocProviderSpec: Codable, Equatable, Sendable {
    var channels: [ChannelSpec]
    var workerInit: String
    /// Cores to count on each host; `nil`: as many as the host has.
    var coresPerHost: Int?

    enum CodingKeys: String, CodingKey { case kind, channels, workerInit = "worker_init", coresPerHost = "cores_per_host" }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        channels = try keys.decode([ChannelSpec].self, forKey: .channels)
        guard !channels.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .channels, in: keys, debugDescription: "is empty; give one channel per host")
        }
        workerInit = try keys.value(.workerInit, default: "")
        coresPerHost = try keys.decodeIfPresent(Int.self, forKey: .coresPerHost)
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode("adhoc", forKey: .kind)
        try keys.encode(channels, forKey: .channels)
        try keys.encode(workerInit, forKey: .workerInit)
        try keys.encode(coresPerHost, forKey: .coresPerHost)
    }
}

/// A host of an ad-hoc provider: `{"kind": "ssh", "hostname": …, …}`, or `{"kind": "local"}`
/// (also what a channel without a kind is).
enum ChannelSpec: Codable, Equatable, Sendable {
    case local(scriptDir: String?)
    case ssh(SSHChannelSpec)

    private enum CodingKeys: String, CodingKey { case kind, scriptDir = "script_dir" }

    init(from decoder: any Decoder) throws {
        switch try SpecKind.read(decoder, default: "local", known: ["ssh", "local"], of: "channels") {
        case "ssh": self = .ssh(try SSHChannelSpec(from: decoder))
        default:
            let keys = try decoder.container(keyedBy: CodingKeys.self)
            self = .local(scriptDir: try keys.decodeIfPresent(String.self, forKey: .scriptDir))
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .local(let scriptDir):
            var keys = encoder.container(keyedBy: CodingKeys.self)
            try keys.encode("local", forKey: .kind)
            try keys.encode(scriptDir, forKey: .scriptDir)
        case .ssh(let spec): try spec.encode(to: encoder)
        }
    }

    func makeChannel() -> any Channel {
        switch self {
        case .local(let scriptDir):
            LocalChannel(scriptDir: scriptDir)
        case .ssh(let spec):
            SSHChannel(hostname: spec.hostname, username: spec.username, port: spec.port, scriptDir: spec.scriptDir,
                       keyFilename: spec.keyFilename, hostKeysFilename: spec.hostKeysFilename, configFile: spec.configFile,
                       extraOptions: spec.sshOptions, python: spec.python, multiplex: spec.multiplex)
        }
    }
}

/// `{"kind": "ssh", "hostname": …, "username": …, "port": …, …}`.
struct SSHChannelSpec: Codable, Equatable, Sendable {
    var hostname: String
    var username: String?
    var port: Int?
    var scriptDir: String?
    var keyFilename: String?
    var hostKeysFilename: String?
    var configFile: String?
    var sshOptions: [String]
    var python: String
    var multiplex: Bool

    enum CodingKeys: String, CodingKey {
        case kind, hostname, username, port, python, multiplex
        case scriptDir = "script_dir", keyFilename = "key_filename", hostKeysFilename = "host_keys_filename"
        case configFile = "config_file", sshOptions = "ssh_options"
    }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        hostname = try keys.decode(String.self, forKey: .hostname)
        guard !hostname.isEmpty else { throw DecodingError.dataCorruptedError(forKey: .hostname, in: keys, debugDescription: "is empty") }
        username = try keys.decodeIfPresent(String.self, forKey: .username)
        port = try keys.decodeIfPresent(Int.self, forKey: .port)
        scriptDir = try keys.decodeIfPresent(String.self, forKey: .scriptDir)
        keyFilename = try keys.decodeIfPresent(String.self, forKey: .keyFilename)
        hostKeysFilename = try keys.decodeIfPresent(String.self, forKey: .hostKeysFilename)
        configFile = try keys.decodeIfPresent(String.self, forKey: .configFile)
        sshOptions = try keys.value(.sshOptions, default: [])
        python = try keys.value(.python, default: SSHChannel.defaultPython)
        multiplex = try keys.value(.multiplex, default: SSHChannel.defaultMultiplex)
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode("ssh", forKey: .kind)
        try keys.encode(hostname, forKey: .hostname)
        try keys.encode(username, forKey: .username)
        try keys.encode(port, forKey: .port)
        try keys.encode(scriptDir, forKey: .scriptDir)
        try keys.encode(keyFilename, forKey: .keyFilename)
        try keys.encode(hostKeysFilename, forKey: .hostKeysFilename)
        try keys.encode(configFile, forKey: .configFile)
        try keys.encode(sshOptions, forKey: .sshOptions)
        try keys.encode(python, forKey: .python)
        try keys.encode(multiplex, forKey: .multiplex)
    }
}
