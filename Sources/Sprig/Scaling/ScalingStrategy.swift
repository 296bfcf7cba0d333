/// How an executor with a provider decides how many blocks to run (Parsl's `strategy`).
public enum Strategy: Sendable, Equatable {
    /// Start the provider's `initBlocks` (even past `maxBlocks`, as Parsl does) and keep that many:
    /// a lost block is replaced, nothing more.
    case none
    /// Also add blocks while tasks wait, up to `maxBlocks`, and remove blocks idle for `idleTime`,
    /// down to `minBlocks`. The provider's `parallelism` (Parsl's: task slots wanted per active
    /// task, 0…1) says how many: enough blocks for `ceil(tasks × parallelism)` slots, and at least
    /// one while any task is active.
    case simple(idleTime: Duration = defaultIdleTime)

    /// How long a block may stay idle before `.simple` removes it (Parsl's `max_idletime`).
    public static let defaultIdleTime: Duration = .seconds(120)
}

/// The scaling decision as a value-type state machine: given the blocks and the load now, what to
/// start and what to stop. It does no I/O and reads no clock, so it is tested directly.
struct ScalingPlanner: Equatable {
    struct BlockLoad: Equatable {
        let block: Int
        /// Tasks given to the block and not ended.
        let outstanding: Int
        /// Since when the block has had nothing to do; `nil` while busy or starting.
        let idleSince: ContinuousClock.Instant?
    }

    enum Decision: Equatable {
        case start(count: Int)
        case stop(block: Int)
    }

    let strategy: Strategy
    let initBlocks: Int
    let minBlocks: Int
    let maxBlocks: Int
    /// Tasks one block runs at once (its workers).
    let slotsPerBlock: Int
    /// Slots wanted per active task (the provider's `parallelism`; 1: one slot for every task).
    var parallelism: Double = 1

    /// - Parameter retired: blocks ended on purpose (drained, scaled in by the user), which the
    ///   `none` strategy does not replace.
    func decide(blocks: [BlockLoad], waiting: Int, now: ContinuousClock.Instant, retired: Int = 0) -> [Decision] {
        let live = blocks.count
        switch strategy {
        case .none:
            let wanted = initBlocks - retired
            return live < wanted ? [.start(count: wanted - live)] : []
        case .simple(let idleTime):
            let demand = waiting + blocks.reduce(0) { $0 + $1.outstanding }
            let slots = Int((Double(demand) * max(0, parallelism)).rounded(.up))
            // Tasks but no slot wanted (a parallelism of 0): one block still runs them.
            let needed = demand == 0 ? 0 : max(1, (slots + slotsPerBlock - 1) / max(1, slotsPerBlock))
            let target = min(maxBlocks, max(minBlocks, needed))
            if live < target { return [.start(count: target - live)] }
            guard waiting == 0 else { return [] }
            var remaining = live
            var decisions: [Decision] = []
            for block in blocks.sorted(by: { $0.block > $1.block }) where remaining > max(minBlocks, needed) {
                guard block.outstanding == 0, let since = block.idleSince, now - since >= idleTime else { continue }
                decisions.append(.stop(block: block.block))
                remaining -= 1
            }
            return decisions
        }
    }
}
