/// What one block holds and where it is in its life, as a value: every transition is a mutating
/// method whose result says what the caller must do. ``ManagerBlock`` keeps one behind a lock and
/// performs the results outside it; tests drive it without processes.
///
/// Phases: `starting` (launched, no HELLO yet) → `ready` → `draining` (takes no more tasks; its
/// drain period passed) → `stopping` (asked to stop) → `dead` (stream over). Any phase may go
/// straight to `stopping` or `dead`.
struct BlockLedger {
    enum Phase: Equatable, Sendable { case starting, ready, draining, stopping, dead }

    /// A task sent to the block and not yet back.
    struct InFlight {
        let attempt: Attempt
        let kind: WireTask.Kind
        let sent: ContinuousClock.Instant
        /// Its argument segments: unlinked when it leaves the block, if no worker consumed them.
        var argumentSegments: SegmentLease? = nil
        /// When a worker started it (its STARTED came), if it has.
        var startedAt: ContinuousClock.Instant? = nil

        /// How long it ran: from its start on a worker (or, without one reported, from when it was
        /// sent) to `end`. Time spent waiting in the block is not counted, so a deep queue never
        /// makes short tasks look long.
        func ran(until end: ContinuousClock.Instant) -> Duration { end - (startedAt ?? sent) }
    }

    private(set) var phase = Phase.starting
    private(set) var inFlight: [UInt64: InFlight] = [:]
    /// Tasks a worker has started (STARTED came, the result has not).
    private var started: Set<UInt64> = []
    private var sentFunctions: Set<UInt64> = []
    /// Since when the block holds nothing (`nil` while it holds tasks or is not ready).
    private var emptySince: ContinuousClock.Instant? = nil
    /// The first reason given for the block's end.
    private(set) var deathReason: String? = nil

    var outstanding: Int { inFlight.count }
    var idleSince: ContinuousClock.Instant? { inFlight.isEmpty ? emptySince : nil }

    /// How many more tasks the block may take when it may hold `capacity` at once.
    func freeSlots(capacity: Int) -> Int { phase == .ready ? max(0, capacity - inFlight.count) : 0 }

    /// How many more tasks the block may take when it may hold `waiting` tasks that no worker has
    /// started, besides those running. Tasks a worker runs — however long, or on a worker that
    /// stopped answering — then never keep the block's free workers from getting more.
    func freeSlots(waiting: Int) -> Int { phase == .ready ? max(0, waiting - (inFlight.count - started.count)) : 0 }

    /// The manager's HELLO matched: the block takes tasks.
    mutating func becameReady(at now: ContinuousClock.Instant) {
        if phase == .starting { phase = .ready }
        emptySince = now
    }

    /// Takes `tasks` into the block. Returns, per task, whether its function's bytes must travel
    /// (the block has not had them), or `nil` when the block cannot take tasks.
    mutating func take(_ tasks: [WireTask], at now: ContinuousClock.Instant) -> [Bool]? {
        guard phase == .ready else { return nil }
        emptySince = nil
        return tasks.map { task in
            inFlight[UInt64(task.attempt.taskID.rawValue)] = InFlight(attempt: task.attempt, kind: task.kind, sent: now,
                                                                      argumentSegments: task.argumentSegments)
            return task.functionKey != 0 && sentFunctions.insert(task.functionKey).inserted
        }
    }

    /// A worker starts task `id`: its attempt, if the block still holds it.
    mutating func starting(_ id: UInt64, at now: ContinuousClock.Instant = .now) -> Attempt? {
        guard let attempt = inFlight[id]?.attempt else { return nil }
        started.insert(id)
        inFlight[id]?.startedAt = now
        return attempt
    }

    /// Task `id` came back (or will not: it was killed); the block no longer holds it.
    mutating func remove(_ id: UInt64, at now: ContinuousClock.Instant) -> InFlight? {
        let item = inFlight.removeValue(forKey: id)
        started.remove(id)
        if item != nil && inFlight.isEmpty { emptySince = now }
        return item
    }

    /// The block is asked to stop (scaling in, or shutdown).
    mutating func stop() { if phase != .dead { phase = .stopping } }

    /// The block takes no more tasks and finishes those it holds. Returns whether it holds none,
    /// so that it can be stopped now.
    mutating func drain() -> Bool {
        if phase == .ready { phase = .draining }
        return phase == .draining && inFlight.isEmpty
    }

    /// Records why the block is being ended; the first reason given is the one reported, unless
    /// `overriding` (the provider knows how it ended).
    mutating func noteEnd(_ reason: String, overriding: Bool = false) { if deathReason == nil || overriding { deathReason = reason } }

    /// What the block's end means for its tasks and its slot.
    struct Ending {
        /// Tasks the block held: they are lost.
        let lost: [InFlight]
        let reason: String
        /// Whether it had become ready (else it failed to start).
        let wasReady: Bool
    }

    /// The stream is over and the process reaped with `exitCode`.
    mutating func end(exitCode: Int32) -> Ending {
        let wasReady = phase == .ready || phase == .draining || phase == .stopping
        phase = .dead
        defer {
            inFlight = [:]
            started = []
        }
        return Ending(lost: Array(inFlight.values), reason: deathReason ?? "its manager exited, EXIT CODE: \(exitCode)",
                      wasReady: wasReady)
    }
}
