/// One executor of a ``ConfigSpec``, told apart by its `kind` key.
enum ExecutorSpec: Codable, Equatable, Sendable {
    /// `"threads"`: a ``ThreadPoolExecutor``.
    case threads(ThreadPoolSpec)
    /// `"htex"`: a ``HighThroughputExecutor``.
    case htex(HighThroughputSpec)

    var label: String {
        switch self {
        case .threads(let spec): spec.label
        case .htex(let spec): spec.label
        }
    }

    init(from decoder: any Decoder) throws {
        switch try SpecKind.read(decoder, known: ["threads", "htex"], of: "executors") {
        case "threads": self = .threads(try ThreadPoolSpec(from: decoder))
        default: self = .htex(try HighThroughputSpec(from: decoder))
        }
    }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .threads(let spec): try spec.encode(to: encoder)
        case .htex(let spec): try spec.encode(to: encoder)
        }
    }

    /// The executor it describes.
    func makeDescription() -> any ExecutorDescription {
        switch self {
        case .threads(let spec):
            return ThreadPoolExecutor(label: spec.label, maxThreads: spec.maxThreads)
        case .htex(let spec):
            return HighThroughputExecutor(
                label: spec.label, maxWorkers: spec.maxWorkers ?? .max, coresPerWorker: spec.coresPerWorker,
                workerDebug: spec.workerDebug, provider: spec.provider.makeProvider(),
                heartbeatPeriod: .seconds(saturating: spec.heartbeatPeriod),
                heartbeatThreshold: .seconds(saturating: spec.heartbeatThreshold),
                prefetch: spec.prefetch,
                workerLogDirectory: spec.workerLogDirectory, cpuAffinity: spec.cpuAffinity,
                memoryPerWorker: spec.memoryPerWorker, availableAccelerators: spec.availableAccelerators,
                drainPeriod: spec.drainPeriod.map { .seconds(saturating: $0) }, launchCommand: spec.launchCommand,
                address: spec.address, workerPortRange: spec.workerPortRange[0]...spec.workerPortRange[1])
        }
    }
}

/// `{"kind": "threads", "label": …, "max_threads": …}`.
struct ThreadPoolSpec: Codable, Equatable, Sendable {
    var label: String
    var maxThreads: Int

    enum CodingKeys: String, CodingKey { case kind, label, maxThreads = "max_threads" }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        label = try keys.decode(String.self, forKey: .label)
        maxThreads = try keys.value(.maxThreads, default: ThreadPoolExecutor.defaultMaxThreads, atLeast: 1)
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode("threads", forKey: .kind)
        try keys.encode(label, forKey: .label)
        try keys.encode(maxThreads, forKey: .maxThreads)
    }
}

/// `{"kind": "htex", "label": …, "max_workers": …, …, "provider": {…}}`.
struct HighThroughputSpec: Codable, Equatable, Sendable {
    /// What `cpu_affinity` is when the spec leaves it out (Parsl's default: no pinning).
    static let defaultCPUAffinity = HighThroughputExecutor.defaultCPUAffinity

    var label: String
    /// Workers per block at most; `nil`: no limit.
    var maxWorkers: Int?
    var coresPerWorker: Double
    var workerDebug: Bool
    var prefetch: Int
    /// Seconds.
    var heartbeatPeriod: Double
    /// Seconds.
    var heartbeatThreshold: Double
    var workerLogDirectory: String?
    /// Parsl's `cpu_affinity` (`"none"`, `"block"`, `"alternating"`, …), kept for the executor.
    var cpuAffinity: String
    /// Parsl's `mem_per_worker` (GB); `nil`: memory does not limit workers.
    var memoryPerWorker: Double?
    /// Parsl's `available_accelerators`, as names.
    var availableAccelerators: [String]
    /// Parsl's `drain_period` (seconds); `nil`: blocks never drain.
    var drainPeriod: Double?
    /// Parsl's `launch_cmd`; `nil`: Sprig's manager.
    var launchCommand: String?
    /// Parsl's `address` (where connect-back managers reach this process); `nil`: this host's.
    var address: String?
    /// Parsl's `worker_port_range`: `[low, high]`.
    var workerPortRange: [Int]
    var provider: ProviderSpec

    enum CodingKeys: String, CodingKey {
        case kind, label, prefetch, provider
        case maxWorkers = "max_workers", coresPerWorker = "cores_per_worker", workerDebug = "worker_debug"
        case heartbeatPeriod = "heartbeat_period", heartbeatThreshold = "heartbeat_threshold"
        case workerLogDirectory = "worker_logdir_root", cpuAffinity = "cpu_affinity"
        case memoryPerWorker = "mem_per_worker", availableAccelerators = "available_accelerators"
        case drainPeriod = "drain_period", launchCommand = "launch_cmd"
        case address, workerPortRange = "worker_port_range"
    }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        label = try keys.decode(String.self, forKey: .label)
        maxWorkers = try keys.decodeIfPresent(Int.self, forKey: .maxWorkers)
        if let maxWorkers, maxWorkers < 1 {
            throw DecodingError.dataCorruptedError(forKey: .maxWorkers, in: keys, debugDescription: "is \(maxWorkers); it must be 1 or more (null: no limit)")
        }
        coresPerWorker = try keys.positive(.coresPerWorker, default: HighThroughputExecutor.defaultCoresPerWorker)
        workerDebug = try keys.value(.workerDebug, default: false)
        prefetch = try keys.value(.prefetch, default: HighThroughputExecutor.defaultPrefetch, atLeast: 0)
        heartbeatPeriod = try keys.positive(.heartbeatPeriod, default: HighThroughputExecutor.defaultHeartbeatPeriod.seconds)
        heartbeatThreshold = try keys.positive(.heartbeatThreshold, default: HighThroughputExecutor.defaultHeartbeatThreshold.seconds)
        workerLogDirectory = try keys.decodeIfPresent(String.self, forKey: .workerLogDirectory)
        cpuAffinity = try keys.value(.cpuAffinity, default: Self.defaultCPUAffinity)
        memoryPerWorker = try keys.decodeIfPresent(Double.self, forKey: .memoryPerWorker)
        if let memory = memoryPerWorker, memory <= 0 {
            throw DecodingError.dataCorruptedError(forKey: .memoryPerWorker, in: keys, debugDescription: "is \(memory); it must be more than 0")
        }
        availableAccelerators = try keys.value(.availableAccelerators, default: [])
        drainPeriod = try keys.decodeIfPresent(Double.self, forKey: .drainPeriod)
        if let period = drainPeriod, period <= 0 {
            throw DecodingError.dataCorruptedError(forKey: .drainPeriod, in: keys, debugDescription: "is \(period); it must be more than 0")
        }
        launchCommand = try keys.decodeIfPresent(String.self, forKey: .launchCommand)
        address = try keys.decodeIfPresent(String.self, forKey: .address)
        let range = HighThroughputExecutor.defaultWorkerPortRange
        workerPortRange = try keys.value(.workerPortRange, default: [range.lowerBound, range.upperBound])
        guard workerPortRange.count == 2, 1 <= workerPortRange[0], workerPortRange[0] <= workerPortRange[1], workerPortRange[1] <= 65535 else {
            throw DecodingError.dataCorruptedError(forKey: .workerPortRange, in: keys,
                                                   debugDescription: "is \(workerPortRange); give [low, high] with 1 <= low <= high <= 65535")
        }
        provider = try keys.decodeIfPresent(ProviderSpec.self, forKey: .provider) ?? .local(LocalProviderSpec())
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode("htex", forKey: .kind)
        try keys.encode(label, forKey: .label)
        try keys.encode(maxWorkers, forKey: .maxWorkers)
        try keys.encode(coresPerWorker, forKey: .coresPerWorker)
        try keys.encode(workerDebug, forKey: .workerDebug)
        try keys.encode(prefetch, forKey: .prefetch)
        try keys.encode(heartbeatPeriod, forKey: .heartbeatPeriod)
        try keys.encode(heartbeatThreshold, forKey: .heartbeatThreshold)
        try keys.encode(workerLogDirectory, forKey: .workerLogDirectory)
        try keys.encode(cpuAffinity, forKey: .cpuAffinity)
        try keys.encode(memoryPerWorker, forKey: .memoryPerWorker)
        try keys.encode(availableAccelerators, forKey: .availableAccelerators)
        try keys.encode(drainPeriod, forKey: .drainPeriod)
        try keys.encode(launchCommand, forKey: .launchCommand)
        try keys.encode(address, forKey: .address)
        try keys.encode(workerPortRange, forKey: .workerPortRange)
        try keys.encode(provider, forKey: .provider)
    }
}
