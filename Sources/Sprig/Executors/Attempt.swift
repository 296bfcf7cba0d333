import Dispatch
import PythonBridge
import Synchronization

/// One try of one task, as handed to an executor.
///
/// Threading: `finish` may be called from any thread, any number of times; the first call wins and
/// the rest are ignored. That is how a walltime and the executor race safely: whichever ends the
/// attempt first decides its outcome, and the walltime then cancels what still runs.
public final class Attempt: Sendable {
    /// The task this is a try of.
    public let taskID: TaskID
    /// The task's app name.
    public let app: String
    /// 1 for the first try, 2 for the first retry, …
    public let number: Int
    package let work: Work
    let walltime: Duration?
    private let ended = Atomic<Bool>(false)
    private let cancellation = Mutex<Cancellation>(Cancellation())
    private let onEnd: @Sendable (Outcome) -> Void
    private let onStart: (@Sendable (Placement?) -> Void)?
    private let started = Atomic<Bool>(false)

    private struct Cancellation {
        var cancel: (@Sendable () -> Void)?
        var timedOut = false
    }

    package init(taskID: TaskID, app: String, number: Int, work: Work, walltime: Duration?,
                 onStart: (@Sendable (Placement?) -> Void)? = nil, onEnd: @escaping @Sendable (Outcome) -> Void) {
        self.onStart = onStart
        self.taskID = taskID
        self.app = app
        self.number = number
        self.work = work
        self.walltime = walltime
        self.onEnd = onEnd
    }

    /// Whether the attempt has ended (by its executor or by its walltime).
    public var isEnded: Bool { ended.load(ordering: .acquiring) }

    /// Ends the attempt with its outcome; later calls are ignored. Returns whether this call ended it.
    @discardableResult
    public func finish(_ outcome: Outcome) -> Bool {
        // A stopping program (``ProgramSignals``) exits with the signal's status: the tasks its
        // stop killed must not end first and let it return normally.
        guard !EmergencyStop.inProgress.load(ordering: .acquiring) else { return false }
        guard ended.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return false }
        onEnd(outcome)
        return true
    }

    /// Whether the executor has started the attempt (``markStarted()``).
    public var hasStarted: Bool { started.load(ordering: .acquiring) }

    /// Called by the executor when the attempt starts running: the walltime counts from here.
    /// Only the first call counts.
    public func markStarted() { markStarted(on: nil) }

    /// ``markStarted()``, saying where it runs (for the run log and the monitoring database).
    func markStarted(on placement: Placement?) {
        guard started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else { return }
        onStart?(placement)
        guard let walltime else { return }
        DispatchQueue.global().asyncAfter(deadline: .now() + walltime.dispatchInterval) { [self] in
            guard finish(.failure(TaskError(taskID: taskID, app: app, reason: .timeout(walltime: walltime)))) else { return }
            let cancel = cancellation.withLock { state in
                state.timedOut = true
                defer { state.cancel = nil }
                return state.cancel
            }
            cancel?()
        }
    }

    /// Registers how to stop the running work if the walltime passes; `nil` clears it. When the
    /// walltime has already passed, `cancel` runs at once, on this thread.
    public func setCanceller(_ cancel: (@Sendable () -> Void)?) {
        let runNow = cancellation.withLock { state in
            if state.timedOut { return true }
            state.cancel = cancel
            return false
        }
        if runNow { cancel?() }
    }
}

extension Duration {
    var dispatchInterval: DispatchTimeInterval {
        let (seconds, attoseconds) = components
        return .nanoseconds(Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000))
    }

    /// The duration in seconds, as a Double (for figures and messages).
    package var seconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
