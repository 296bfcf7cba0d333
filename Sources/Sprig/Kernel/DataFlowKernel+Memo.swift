import Logging

/// The kernel's side of app caching: the memoizer's verdict on a task about to launch.
extension DataFlowKernel {
    static func makeMemoizer(_ config: Config, runFolder: String, logger: Logger) throws -> Memoizer? {
        guard config.checkpoints.memoize else { return nil }
        return try Memoizer(settings: config.checkpoints, runDirectory: config.runDirectory, runFolder: runFolder, logger: logger)
    }

    /// A cached task's dependencies have succeeded and the memoizer has looked it up: a hit ends
    /// the task with the stored outcome without an executor (Parsl's `memo_done`); a miss runs it.
    /// Runs on the memoizer's thread, or for a plain call that misses, on the thread that launched it.
    func memoChecked(_ pending: PendingTask, work: Work, _ verdict: MemoVerdict) {
        switch verdict {
        case .miss:
            dispatch(pending, work: work, attempt: 1)
        case .hit(let outcome):
            pending.memo?.hit = true
            // A join app's body ends with the join app's value, which ends the join app (``join``).
            let joins = pending.memo?.request.joins == true
            finish(pending.core, joins ? outcome.map { CachedJoinValue(value: $0) } : outcome, stage: .pending)
        case .unkeyable(let error):
            finish(pending.core, .failure(Self.preparationError(error, pending)), stage: .pending)
        }
    }

    /// Writes every result of this run not yet in its checkpoint store, and returns once they are
    /// written (Parsl's `dfk().checkpoint()`; what ``Checkpoints/Mode/manual`` waits for). Does
    /// nothing when the config writes no checkpoints.
    public func checkpoint() {
        guard config.checkpoints.mode != nil else { return }
        memoizer?.checkpoint()
    }
}
