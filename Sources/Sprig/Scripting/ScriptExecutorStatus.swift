import PythonBridge

/// What `_sprig_engine.executor_status(label)` hands a script: an ``ExecutorStatus`` as plain
/// Python values, from which the Python side builds Parsl's `connected_blocks()`,
/// `connected_managers()`, `status()` and `workers_per_node` (docs/SCRIPTING-CONTRACT.md).
struct ScriptExecutorStatus: Encodable {
    struct Block: Encodable {
        let number: Int
        let slot: Int
        let host: String
        /// `"starting"`, `"ready"`, `"draining"` or `"stopping"`.
        let phase: String
        let workers: Int
        let outstanding: Int
        let pids: [Int32]
        /// Seconds without a task; `nil` while it holds some or before it connected.
        let idle: Double?
        let pythonVersion: String?

        enum CodingKeys: String, CodingKey {
            case number, slot, host, phase, workers, outstanding, pids, idle
            case pythonVersion = "python_version"
        }
    }

    struct Ended: Encodable {
        let number: Int
        let slot: Int
        let host: String
        let connected: Bool
        let failure: String?
    }

    let label: String
    let outstanding: Int
    let broken: String?
    let workersPerNode: Int?
    /// ``ExecutorStatus/workerLimit``.
    let workerLimit: Int?
    let startFailures: [String: String]
    let blocks: [Block]
    let ended: [Ended]
    /// ``ExecutorStatus/connectedBlocks``.
    let connected: [Int]

    enum CodingKeys: String, CodingKey {
        case label, outstanding, broken, blocks, ended, connected
        case workersPerNode = "workers_per_node", startFailures = "start_failures", workerLimit = "worker_limit"
    }

    init(_ status: ExecutorStatus) {
        label = status.label
        outstanding = status.outstanding
        broken = status.broken
        workersPerNode = status.workersPerBlock
        workerLimit = status.workerLimit
        startFailures = Dictionary(uniqueKeysWithValues: status.startFailures.map { (String($0.key), $0.value) })
        blocks = status.blocks.map { block in
            let phase = switch block.phase {
            case .starting: "starting"
            case .ready: "ready"
            case .draining: "draining"
            case .stopping: "stopping"
            }
            return Block(number: block.number, slot: block.slot, host: block.host, phase: phase, workers: block.workers,
                         outstanding: block.outstanding, pids: block.processIDs, idle: block.idle?.seconds,
                         pythonVersion: block.pythonVersion)
        }
        connected = status.connectedBlocks
        ended = status.ended.map { Ended(number: $0.number, slot: $0.slot, host: $0.host, connected: $0.connected, failure: $0.failure) }
    }

    /// The dict. Call holding the GIL.
    static func dictionary(_ status: ExecutorStatus) throws -> PythonObject {
        try PythonEncoder().encode(ScriptExecutorStatus(status))
    }
}
