import Foundation

/// `{"kind": "slurm", "partition": …, …, "launcher": {"kind": "srun", …}}`: a ``SlurmProvider``,
/// by Parsl's parameter names.
struct SlurmProviderSpec: Codable, Equatable, Sendable {
    var partition: String?
    var account: String?
    var qos: String?
    var constraint: String?
    var clusters: String?
    var nodesPerBlock = 1
    var coresPerNode: Int?
    var memoryPerNode: Double?
    var exclusive = true
    var initBlocks = 1
    var minBlocks = 0
    var maxBlocks = 1
    var parallelism = 1.0
    var walltime = SlurmProvider.defaultWalltime
    var schedulerOptions = ""
    var regexJobID = SlurmProvider.defaultRegexJobID
    var workerInit = ""
    var cmdTimeout = 10
    var launcher = LauncherSpec.srun(overrides: "", debug: true)

    enum CodingKeys: String, CodingKey {
        case kind, partition, account, qos, constraint, clusters, exclusive, parallelism, walltime, launcher
        case nodesPerBlock = "nodes_per_block", coresPerNode = "cores_per_node", memoryPerNode = "mem_per_node"
        case initBlocks = "init_blocks", minBlocks = "min_blocks", maxBlocks = "max_blocks"
        case schedulerOptions = "scheduler_options", regexJobID = "regex_job_id", workerInit = "worker_init", cmdTimeout = "cmd_timeout"
    }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        partition = try keys.decodeIfPresent(String.self, forKey: .partition)
        account = try keys.decodeIfPresent(String.self, forKey: .account)
        qos = try keys.decodeIfPresent(String.self, forKey: .qos)
        constraint = try keys.decodeIfPresent(String.self, forKey: .constraint)
        clusters = try keys.decodeIfPresent(String.self, forKey: .clusters)
        nodesPerBlock = try keys.value(.nodesPerBlock, default: nodesPerBlock, atLeast: 1)
        coresPerNode = try keys.decodeIfPresent(Int.self, forKey: .coresPerNode)
        memoryPerNode = try keys.decodeIfPresent(Double.self, forKey: .memoryPerNode)
        exclusive = try keys.value(.exclusive, default: exclusive)
        initBlocks = try keys.value(.initBlocks, default: initBlocks, atLeast: 0)
        minBlocks = try keys.value(.minBlocks, default: minBlocks, atLeast: 0)
        maxBlocks = try keys.value(.maxBlocks, default: maxBlocks, atLeast: 0)
        parallelism = try keys.value(.parallelism, default: parallelism)
        walltime = try keys.value(.walltime, default: walltime)
        do { _ = try SubmitScript.minutes(walltime) } catch let error as ProviderError {
            throw DecodingError.dataCorruptedError(forKey: .walltime, in: keys, debugDescription: error.message)
        }
        schedulerOptions = try keys.value(.schedulerOptions, default: schedulerOptions)
        regexJobID = try keys.value(.regexJobID, default: regexJobID)
        workerInit = try keys.value(.workerInit, default: workerInit)
        cmdTimeout = try keys.value(.cmdTimeout, default: cmdTimeout, atLeast: 1)
        launcher = try keys.decodeIfPresent(LauncherSpec.self, forKey: .launcher) ?? launcher
        if let cores = coresPerNode, cores < 1 {
            throw DecodingError.dataCorruptedError(forKey: .coresPerNode, in: keys, debugDescription: "is \(cores); it must be 1 or more")
        }
        if minBlocks > maxBlocks {
            throw DecodingError.dataCorruptedError(forKey: .minBlocks, in: keys, debugDescription: "is \(minBlocks), more than max_blocks (\(maxBlocks))")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode("slurm", forKey: .kind)
        try keys.encode(partition, forKey: .partition)
        try keys.encode(account, forKey: .account)
        try keys.encode(qos, forKey: .qos)
        try keys.encode(constraint, forKey: .constraint)
        try keys.encode(clusters, forKey: .clusters)
        try keys.encode(nodesPerBlock, forKey: .nodesPerBlock)
        try keys.encode(coresPerNode, forKey: .coresPerNode)
        try keys.encode(memoryPerNode, forKey: .memoryPerNode)
        try keys.encode(exclusive, forKey: .exclusive)
        try keys.encode(initBlocks, forKey: .initBlocks)
        try keys.encode(minBlocks, forKey: .minBlocks)
        try keys.encode(maxBlocks, forKey: .maxBlocks)
        try keys.encode(parallelism, forKey: .parallelism)
        try keys.encode(walltime, forKey: .walltime)
        try keys.encode(schedulerOptions, forKey: .schedulerOptions)
        try keys.encode(regexJobID, forKey: .regexJobID)
        try keys.encode(workerInit, forKey: .workerInit)
        try keys.encode(cmdTimeout, forKey: .cmdTimeout)
        try keys.encode(launcher, forKey: .launcher)
    }

    func makeProvider() -> SlurmProvider {
        SlurmProvider(partition: partition, account: account, qos: qos, constraint: constraint, clusters: clusters,
                      nodesPerBlock: nodesPerBlock, coresPerNode: coresPerNode, memoryPerNode: memoryPerNode, exclusive: exclusive,
                      initBlocks: initBlocks, minBlocks: minBlocks, maxBlocks: maxBlocks, parallelism: parallelism, walltime: walltime,
                      schedulerOptions: schedulerOptions, regexJobID: regexJobID, workerInit: workerInit, cmdTimeout: cmdTimeout,
                      launcher: launcher.launcher)
    }
}

/// A Slurm launcher: `{"kind": "srun", "overrides": …, "debug": …}`, `{"kind": "single_node", …}`, `{"kind": "simple", …}`.
enum LauncherSpec: Codable, Equatable, Sendable {
    case srun(overrides: String, debug: Bool)
    case singleNode(debug: Bool, failOnAny: Bool)
    case simple(debug: Bool)

    private enum CodingKeys: String, CodingKey { case kind, overrides, debug, failOnAny = "fail_on_any" }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        let debug = try keys.value(.debug, default: true)
        switch try SpecKind.read(decoder, default: "srun", known: ["srun", "single_node", "simple"], of: "launchers") {
        case "single_node": self = .singleNode(debug: debug, failOnAny: try keys.value(.failOnAny, default: false))
        case "simple": self = .simple(debug: debug)
        default: self = .srun(overrides: try keys.value(.overrides, default: ""), debug: debug)
        }
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .srun(let overrides, let debug):
            try keys.encode("srun", forKey: .kind)
            try keys.encode(debug, forKey: .debug)
            try keys.encode(overrides, forKey: .overrides)
        case .singleNode(let debug, let failOnAny):
            try keys.encode("single_node", forKey: .kind)
            try keys.encode(debug, forKey: .debug)
            try keys.encode(failOnAny, forKey: .failOnAny)
        case .simple(let debug):
            try keys.encode("simple", forKey: .kind)
            try keys.encode(debug, forKey: .debug)
        }
    }

    var launcher: SlurmLauncher {
        switch self {
        case .srun(let overrides, let debug): .srun(overrides: overrides, debug: debug)
        case .singleNode(let debug, let failOnAny): .singleNode(debug: debug, failOnAny: failOnAny)
        case .simple(let debug): .simple(debug: debug)
        }
    }
}
