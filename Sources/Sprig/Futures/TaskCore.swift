import Dispatch
import Foundation
import Synchronization

/// What a task ended with: its value (of the app's result type) or its error.
public typealias Outcome = Result<any Sendable, any Error>

/// The shared, untyped completion state of one task; every future of the task is a view on it.
///
/// Threading: all members may be used from any thread. Completion happens once: it stores the
/// outcome under a small lock, and the caller then releases the dependents and runs the callbacks
/// it got back, outside every lock, so that callbacks may submit tasks or wait on other futures.
package final class TaskCore: Sendable {
    package typealias Callback = @Sendable (Outcome) -> Void

    private enum State {
        case pending(dependents: [TaskID], callbacks: [Callback])
        case done(Outcome)
    }

    package let id: TaskID
    package let appName: String
    /// The files the task declared as outputs, in order.
    package let outputs: [File]
    private let state = Mutex<State>(.pending(dependents: [], callbacks: []))
    private let finished = Atomic<Bool>(false)
    private let currentAttempt = Mutex<Attempt?>(nil)

    package init(id: TaskID, appName: String, outputs: [File] = []) {
        self.id = id
        self.appName = appName
        self.outputs = outputs
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
            case .pending(var dependents, let callbacks):
                dependents.append(dependent)
                state = .pending(dependents: dependents, callbacks: callbacks)
                return nil
            case .done(let outcome):
                return outcome
            }
        }
    }

    /// Runs `callback` with the outcome: at once on this thread if the task has ended, else on the
    /// thread that completes it.
    package func onComplete(_ callback: @escaping Callback) {
        let ready: Outcome? = state.withLock { state in
            switch state {
            case .pending(let dependents, var callbacks):
                callbacks.append(callback)
                state = .pending(dependents: dependents, callbacks: callbacks)
                return nil
            case .done(let outcome):
                return outcome
            }
        }
        if let ready { callback(ready) }
    }

    /// Stores the outcome once. Returns the dependents to release and the callbacks to run (the
    /// caller does both, outside its locks), or `nil` when the task had already ended.
    package func complete(_ outcome: Outcome) -> (dependents: [TaskID], callbacks: [Callback])? {
        let taken: (dependents: [TaskID], callbacks: [Callback])? = state.withLock { state in
            guard case .pending(let dependents, let callbacks) = state else { return nil }
            state = .done(outcome)
            return (dependents, callbacks)
        }
        if taken != nil { finished.store(true, ordering: .releasing) }
        return taken
    }

    /// Blocks the calling thread until the task ends, or until `timeout` passes (then `nil`).
    ///
    /// Spins briefly first: a parked thread takes ~40 µs to wake on this kind of VM, longer than
    /// many tasks run, so short waits never park.
    package func wait(timeout: Duration? = nil) -> Outcome? {
        if let outcome = spinUntilDone() { return outcome }
        let semaphore = DispatchSemaphore(value: 0)
        onComplete { _ in semaphore.signal() }
        if let timeout {
            guard semaphore.wait(timeout: .now() + timeout.dispatchInterval) == .success else { return outcome }
        } else {
            semaphore.wait()
        }
        return outcome
    }

    private func spinUntilDone() -> Outcome? {
        Spin.waiters.add(1, ordering: .relaxed)
        defer {
            Spin.waiters.subtract(1, ordering: .relaxed)
            Spin.lastEnded.store(monotonicNanoseconds(), ordering: .relaxed)
        }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: Spin.time)
        repeat {
            for _ in 0..<64 where isDone { return outcome }
        } while clock.now < deadline
        return isDone ? outcome : nil
    }
}
