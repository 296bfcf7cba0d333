/// Which provider slots may start a block, and when the executor gives up: the start backoff and
/// the broken state of the process executor, as a value whose transitions say what to do.
///
/// A slot whose block failed to start is tried again after a pause that doubles from 1 s up to
/// 30 s. The executor is *broken* — it fails what waits and refuses new tasks while no block is
/// alive — on a permanent failure (a version mismatch, say), or when no block is alive and every
/// slot has failed three times in a row (or, with a ``threshold``, when that many starts have
/// failed in a row in all, as Parsl's `simple_error_handler` decides).
struct SlotSupervisor {
    private struct Failure {
        var count: Int
        var retryAt: ContinuousClock.Instant
        var message: String
    }

    let slots: Int
    private var failures: [Int: Failure] = [:]
    /// Why the executor gave up, once it has.
    private(set) var broken: String? = nil

    /// Failed starts in a row (all slots together) after which, with no block alive, the executor
    /// is broken; `nil`: every slot three times.
    let threshold: Int?

    init(slots: Int, threshold: Int? = nil) {
        self.slots = slots
        self.threshold = threshold
    }

    /// Why blocks failed to start, by slot, while they keep failing.
    var failureMessages: [Int: String] { failures.mapValues(\.message) }

    /// The lowest slot not in `used` that is not waiting out a failure.
    func freeSlot(used: Set<Int>, now: ContinuousClock.Instant) -> Int? {
        (0..<slots).first { slot in !used.contains(slot) && (failures[slot].map { $0.retryAt <= now } ?? true) }
    }

    /// A block of `slot` became ready: its failures are forgotten.
    mutating func ready(_ slot: Int) { failures[slot] = nil }

    /// What a start failure means.
    struct Verdict: Equatable {
        /// The first failure of the slot in a row (or a permanent one): worth an error line.
        let report: Bool
        /// The executor is broken and no block is alive: fail every waiting task.
        let failWaiting: Bool
    }

    /// A block of `slot` did not become ready; `liveBlocks` are still alive.
    mutating func failed(_ slot: Int, message: String, permanent: Bool, liveBlocks: Int,
                         now: ContinuousClock.Instant) -> Verdict {
        let count = (failures[slot]?.count ?? 0) + 1
        let pause = Duration.milliseconds(min(30_000, 500 << min(count, 6)))
        failures[slot] = Failure(count: count, retryAt: now + pause, message: message)
        let allFailing = threshold.map { failures.values.reduce(0) { $0 + $1.count } >= $0 }
            ?? (0..<slots).allSatisfy { (failures[$0]?.count ?? 0) >= 3 }
        if permanent {
            broken = message
        } else if liveBlocks == 0 && allFailing {
            // Every slot (every host) says why, not only the last one to fail.
            broken = (0..<slots).compactMap { failures[$0]?.message }.joined(separator: "; ")
        }
        return Verdict(report: count == 1 || permanent, failWaiting: broken != nil && liveBlocks == 0)
    }
}
