import Foundation

/// `{"kind": "python", "key": …, "class": …, "init_blocks": …, "min_blocks": …, "max_blocks": …,
/// "parallelism": …, "status_polling_interval": …, "cores_per_node": …, "mem_per_node": …}`: a
/// provider object defined in Python (Parsl's interface), kept by `sprig.python_providers` under
/// `key`, which a ``PythonDefinedProvider`` drives.
struct PythonProviderSpec: Codable, Equatable, Sendable {
    var key: String
    var className: String
    var initBlocks = 1
    var minBlocks = 0
    var maxBlocks = 1
    var parallelism = 1.0
    var statusPollingInterval = 5.0
    var coresPerNode: Int?
    var memoryPerNode: Double?

    enum CodingKeys: String, CodingKey {
        case kind, key, parallelism
        case className = "class", initBlocks = "init_blocks", minBlocks = "min_blocks", maxBlocks = "max_blocks"
        case statusPollingInterval = "status_polling_interval", coresPerNode = "cores_per_node", memoryPerNode = "mem_per_node"
    }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        key = try keys.decode(String.self, forKey: .key)
        className = try keys.value(.className, default: "provider")
        initBlocks = try keys.value(.initBlocks, default: initBlocks, atLeast: 0)
        minBlocks = try keys.value(.minBlocks, default: minBlocks, atLeast: 0)
        maxBlocks = try keys.value(.maxBlocks, default: maxBlocks, atLeast: 0)
        parallelism = try keys.value(.parallelism, default: parallelism, atLeast: 0)
        statusPollingInterval = try keys.value(.statusPollingInterval, default: statusPollingInterval, atLeast: 0)
        coresPerNode = try keys.decodeIfPresent(Int.self, forKey: .coresPerNode)
        memoryPerNode = try keys.decodeIfPresent(Double.self, forKey: .memoryPerNode)
        if minBlocks > maxBlocks {
            throw DecodingError.dataCorruptedError(forKey: .minBlocks, in: keys, debugDescription: "is \(minBlocks), more than max_blocks (\(maxBlocks))")
        }
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode("python", forKey: .kind)
        try keys.encode(key, forKey: .key)
        try keys.encode(className, forKey: .className)
        try keys.encode(initBlocks, forKey: .initBlocks)
        try keys.encode(minBlocks, forKey: .minBlocks)
        try keys.encode(maxBlocks, forKey: .maxBlocks)
        try keys.encode(parallelism, forKey: .parallelism)
        try keys.encode(statusPollingInterval, forKey: .statusPollingInterval)
        try keys.encode(coresPerNode, forKey: .coresPerNode)
        try keys.encode(memoryPerNode, forKey: .memoryPerNode)
    }

    func makeProvider() -> PythonDefinedProvider {
        PythonDefinedProvider(key: key, className: className, initBlocks: initBlocks, minBlocks: minBlocks, maxBlocks: maxBlocks,
                              parallelism: parallelism, statusPeriod: .milliseconds(Int64(statusPollingInterval * 1000)),
                              coresPerNode: coresPerNode, memoryPerNode: memoryPerNode)
    }
}
