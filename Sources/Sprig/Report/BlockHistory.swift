/// One block's life as the `block` table and the managers' `node` rows tell it.
struct BlockHistory {
    var executor: String
    var blockID: String
    var jobID: String?
    /// Its states in time order, repeats of the same state folded into the first.
    var states: [(time: Double, status: String)]
    /// Workers its managers reported (the largest count seen per manager, added up).
    var workers: Int
    var hosts: [String]

    /// States after which a block is gone without being asked to go.
    static let lostStates: Set<String> = ["FAILED", "MISSING"]
    /// States a block does not leave.
    static let terminalStates: Set<String> = ["CANCELLED", "COMPLETED", "FAILED", "TIMEOUT", "MISSING", "SCALED_IN"]

    var lastStatus: String { states.last?.status ?? "UNKNOWN" }
    var isLost: Bool { Self.lostStates.contains(lastStatus) }
    var hasEnded: Bool { Self.terminalStates.contains(lastStatus) }

    /// Every block of the run, by executor and then block number.
    static func all(in data: RunData) -> [BlockHistory] {
        struct Key: Hashable { var executor: String, blockID: String }
        var blocks: [Key: BlockHistory] = [:]
        var order: [Key] = []
        for state in data.blockStates {
            let key = Key(executor: state.executor, blockID: state.blockID)
            if blocks[key] == nil {
                order.append(key)
                blocks[key] = BlockHistory(executor: state.executor, blockID: state.blockID, jobID: nil, states: [], workers: 0, hosts: [])
            }
            if let job = state.jobID, !job.isEmpty { blocks[key]!.jobID = job }
            if blocks[key]!.states.last?.status != state.status { blocks[key]!.states.append((state.time, state.status)) }
        }
        // The node table names blocks but not executors: a block id shared by two executors
        // gets the workers of both.
        var workersByManager: [String: [String: Int]] = [:]
        var hostsByBlock: [String: Set<String>] = [:]
        for node in data.nodes {
            workersByManager[node.blockID, default: [:]][node.uid] = max(workersByManager[node.blockID]?[node.uid] ?? 0, node.workerCount)
            hostsByBlock[node.blockID, default: []].insert(node.hostname)
        }
        return order.map { key in
            var block = blocks[key]!
            block.workers = workersByManager[key.blockID]?.values.reduce(0, +) ?? 0
            block.hosts = hostsByBlock[key.blockID].map { $0.sorted() } ?? []
            return block
        }.sorted { ($0.executor, Int($0.blockID) ?? Int.max, $0.blockID) < ($1.executor, Int($1.blockID) ?? Int.max, $1.blockID) }
    }
}
