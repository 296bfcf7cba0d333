import Dispatch
import Foundation
import Synchronization

/// What a task ended with: its value (of the app's result type) or its error.
public typealias Outcome = Result<any Sendable, any Error>

/// The shared, untyped completion state of one task; every future of the task is a view on it.
///
/// Threading: all members may be used from any thread. Completion happens once: it stores the
/// outcome under a small lock, wakes the threads and tasks waiting for it (at once, on the
/// completing thread: waking never blocks), and hands back the dependents and the callbacks; the
/// kernel releases the dependents and runs the callbacks on its callback thread, never on an
/// executor's thread, so that a callback may block or wait on another future.
package final class TaskCore: Sendable {
    package typealias Callback = @Sendable (Outcome) -> Void

    private enum State {
        case pending(dependents: [TaskID], callbacks: [Callback], wakers: [UInt64: Callback])
        case done(Outcome)
    }

    package let id: TaskID
    package let appName: String
    /// The files the task declared as outputs, in order.
    package let outputs: [File]
    /// How the task is cached, when its app is (``AppOptions/cache``).
    package let memo: MemoTicket?
    private let state = Mutex<State>(.pending(dependents: [], callbacks: [], wakers: [:]))
    private let finished = Atomic<Bool>(false)
    private let currentAttempt = Mutex<Attempt?>(nil)
    private let nextWaker = Atomic<UInt64>(0)

    package init(id: TaskID, appName: String, outputs: [File] = [], memo: MemoTicket? = nil) {
        self.id = id
        self.appName = appName
        self.outputs = outputs
        self.memo = memo
    }

    /// The attempt an executor holds now, if any (so that a task not yet started can be cancelled).
    package var attempt: Attempt? { currentAttempt.withLock { $0 } }
    package func setAttempt(_ attempt: Attempt?) { currentAttempt.withLock { $0 = attempt } }

    /// Whether the outcome is known.
    package var isDone: Bool { finished.load(ordering: .acquiring) }

    /// The outcome, or `nil` while the task runs.
    package var outcome: Outcome? {
        state.withLock { if case .done(let outcome) = $0 { outcome } else { nil } }
    }

    /// Records that `dependent` waits for this task. Returns `nil` when it will be told of the end
    /// through ``complete(_:)``'s result, or the outcome when the task has already ended.
    package func register(dependent: TaskID) -> Outcome? {
        state.withLock { state in
            switch state {
            case .pending(var dependents, let callbacks, let wakers):
                dependents.append(dependent)
                state = .pending(dependents: dependents, callbacks: callbacks, wakers: wakers)
                return nil
            case .done(let outcome):
                return outcome
            }
        }
    }

    /// Runs `callback` with the outcome: at once on this thread if the task has ended, else on
    /// the kernel's callback thread once it ends.
    package func onComplete(_ callback: @escaping Callback) {
        let ready: Outcome? = state.withLock { state in
            switch state {
            case .pending(let dependents, var callbacks, let wakers):
                callbacks.append(callback)
                state = .pending(dependents: dependents, callbacks: callbacks, wakers: wakers)
                return nil
            case .done(let outcome):
                return outcome
            }
        }
        if let ready { callback(ready) }
    }

    /// Registers `wake` to run on the completing thread the moment the task ends; it must not
    /// block (signal a semaphore, resume a continuation). Returns a token for ``removeWaker(_:)``,
    /// or `nil` — without calling `wake` — when the task has already ended.
    package func addWaker(_ wake: @escaping Callback) -> UInt64? {
        let token = nextWaker.wrappingAdd(1, ordering: .relaxed).oldValue
        return state.withLock { state in
            guard case .pending(let dependents, let callbacks, var wakers) = state else { return nil }
            wakers[token] = wake
            state = .pending(dependents: dependents, callbacks: callbacks, wakers: wakers)
            return token
        }
    }

    /// Unregisters a waker; returns `false` when it has run (or is running) already.
    package func removeWaker(_ token: UInt64) -> Bool {
        state.withLock { state in
            guard case .pending(let dependents, let callbacks, var wakers) = state,
                  wakers.removeValue(forKey: token) != nil else { return false }
            state = .pending(dependents: dependents, callbacks: callbacks, wakers: wakers)
            return true
        }
    }

    /// Stores the outcome once and wakes the waiters. Returns the dependents to release and the
    /// callbacks to run (the caller does both, outside its locks), or `nil` when the task had
    /// already ended.
    package func complete(_ outcome: Outcome) -> (dependents: [TaskID], callbacks: [Callback])? {
        let taken: (dependents: [TaskID], callbacks: [Callback], wakers: [UInt64: Callback])? = state.withLock { state in
            guard case .pending(let dependents, let callbacks, let wakers) = state else { return nil }
            state = .done(outcome)
            return (dependents, callbacks, wakers)
        }
        guard let taken else { return nil }
        finished.store(true, ordering: .releasing)
        for wake in taken.wakers.values { wake(outcome) }
        return (taken.dependents, taken.callbacks)
    }

    /// Blocks the calling thread until the task ends, or until `timeout` passes (then `nil`).
    ///
    /// Spins briefly first while spinning pays (``SpinVerdict``): a parked thread takes ~40 µs to
    /// wake on this kind of VM, longer than many tasks run, so short waits never park.
    package func wait(timeout: Duration? = nil) -> Outcome? {
        if let outcome = spinUntilDone() { return outcome }
        let semaphore = DispatchSemaphore(value: 0)
        guard let token = addWaker({ _ in semaphore.signal() }) else { return outcome }
        if let timeout {
            guard semaphore.wait(timeout: .now() + timeout.dispatchInterval) == .success else {
                _ = removeWaker(token)
                return outcome
            }
        } else {
            semaphore.wait()
        }
        return outcome
    }

    private func spinUntilDone() -> Outcome? {
        if isDone { return outcome }
        guard Spin.verdict.withLock({ $0.shouldSpin() }) else { return nil }
        Spin.waiters.add(1, ordering: .relaxed)
        defer {
            Spin.waiters.subtract(1, ordering: .relaxed)
            Spin.lastEnded.store(monotonicNanoseconds(), ordering: .relaxed)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: Spin.time)
        var found = false
        repeat {
            for _ in 0..<64 where isDone {
                found = true
                break
            }
        } while !found && clock.now < deadline
        found = found || isDone
        Spin.verdict.withLock { $0.spun(found: found) }
        return found ? outcome : nil
    }
}

extension TaskCore {
    /// The outcome, awaited without blocking a thread; throws `CancellationError` as soon as the
    /// awaiting Swift task is cancelled (the task itself goes on).
    package func awaitOutcome() async throws -> Outcome {
        if let outcome { return outcome }
        let wait = AwaitState()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Outcome, any Error>) in
                guard wait.begin(continuation) else {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                if let token = addWaker({ outcome in wait.resume(with: .success(outcome)) }) {
                    wait.registered(token, core: self)
                } else {
                    wait.resume(with: .success(self.outcome!))
                }
            }
        } onCancel: {
            wait.cancel(core: self)
        }
    }
}

/// One `await` of a task's outcome: resumes its continuation exactly once, with the outcome or
/// with `CancellationError`, whichever comes first.
private final class AwaitState: Sendable {
    private struct State {
        var continuation: CheckedContinuation<Outcome, any Error>?
        var token: UInt64?
        var cancelled = false
    }
    private let state = Mutex(State())

    /// Returns `false` when the wait was cancelled before it began.
    func begin(_ continuation: CheckedContinuation<Outcome, any Error>) -> Bool {
        state.withLock { state in
            guard !state.cancelled else { return false }
            state.continuation = continuation
            return true
        }
    }

    func registered(_ token: UInt64, core: TaskCore) {
        let cancelledMeanwhile = state.withLock { state in
            state.token = token
            return state.cancelled
        }
        if cancelledMeanwhile { cancel(core: core) }
    }

    func resume(with result: Result<Outcome, any Error>) {
        let continuation = state.withLock { state in
            defer { state.continuation = nil }
            return state.continuation
        }
        continuation?.resume(with: result)
    }

    func cancel(core: TaskCore) {
        let token = state.withLock { state in
            state.cancelled = true
            return state.token
        }
        // Only a waker still registered may be beaten: one already running resumes with the outcome.
        if let token, core.removeWaker(token) { resume(with: .failure(CancellationError())) }
        else if token == nil { resume(with: .failure(CancellationError())) }
    }
}
