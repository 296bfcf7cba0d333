import Glibc
import PythonBridge
import Synchronization

/// One script future to complete when its task ends (``ScriptEngine``'s `track`).
///
/// Threading: any thread. The future is read and handed over only holding the GIL (which is why
/// the `@unchecked Sendable` holds); once handed over, this object holds no Python object, so it
/// may be released anywhere, under any lock.
final class ScriptCompletion: @unchecked Sendable {
    /// The task's core (waited on without the GIL).
    let core: TaskCore
    private var future: PythonObject?
    private let done = Atomic<Bool>(false)

    init(core: TaskCore, future: PythonObject) {
        self.core = core
        self.future = future
    }

    /// Whether the future has been handed over to be completed (by the callback thread or by a
    /// waiting script thread).
    var completed: Bool { done.load(ordering: .acquiring) }

    /// Hands the future over to the one who completes it; `nil` when it was handed over before.
    /// Call holding the GIL.
    func claim() -> PythonObject? {
        guard !done.exchange(true, ordering: .acquiringAndReleasing) else { return nil }
        defer { future = nil }
        return future
    }

    /// Whether `object` is this future, still to complete. Call holding the GIL.
    func holds(_ object: PythonObject) -> Bool { !completed && future?.isIdentical(to: object) == true }
}

/// The script futures whose tasks have ended and that are not completed yet, in the order the
/// tasks ended: a task's completion pushes its future here on the thread that ends it (without
/// the GIL: a push never blocks), and one thread at a time drains them, in that order, holding the
/// GIL — the callback thread, all that are ready in one GIL scope, or a script thread returning
/// from a wait (``ScriptEngine/waitForTask(_:future:timeout:)``). So a dependent's future is never
/// completed before those of the tasks it depended on (its failure names their exceptions), even
/// when Python switches threads in the middle of a completion.
///
/// Threading: ``push(_:)`` from any thread; ``drain(including:_:)`` holding the GIL.
final class CompletionQueue: Sendable {
    private struct State {
        var items: [ScriptCompletion?] = []
        var head = 0
        /// The thread draining now (`pthread_self`), if any.
        var drainer: pthread_t?
        /// A drain was asked for while another thread drained: that thread drains once more.
        var asked = false
    }
    private let state = Mutex(State())

    func push(_ completion: ScriptCompletion) {
        state.withLock { $0.items.append(completion) }
    }

    /// Whether nothing waits to be completed (a hint: a push may come at any moment).
    var isEmpty: Bool { state.withLock { $0.head == $0.items.count } }

    /// Completes (`complete`) every queued future in order, then `own` if nobody has yet (a waiting
    /// thread's future, which may not be queued yet: every task it depended on has been). Returns
    /// `false`, completing nothing, when another thread drains now: that thread then drains once
    /// more, so everything queued by now is completed by it. A drain may nest on its own thread
    /// (a done callback waiting for another future). Call holding the GIL.
    func drain(including own: ScriptCompletion? = nil, _ complete: (ScriptCompletion, PythonObject) -> Void) -> Bool {
        let me = pthread_self()
        let nested: Bool? = state.withLock { state in
            if let drainer = state.drainer {
                if pthread_equal(drainer, me) != 0 { return true }
                state.asked = true
                return nil
            }
            state.drainer = me
            return false
        }
        guard let nested else { return false }
        repeat {
            while let next = next() {
                if let future = next.claim() { complete(next, future) }
            }
            if let own, let future = own.claim() { complete(own, future) }
        } while !nested && !finishDrain()
        return true
    }

    /// Ends this thread's drain, unless a drain was asked for meanwhile (then `false`: drain again).
    private func finishDrain() -> Bool {
        state.withLock { state in
            if state.asked {
                state.asked = false
                return false
            }
            state.drainer = nil
            return true
        }
    }

    /// The first ended future not completed yet (those completed meanwhile are dropped), or `nil`.
    private func next() -> ScriptCompletion? {
        state.withLock { state in
            while state.head < state.items.count {
                let first = state.items[state.head]!
                state.items[state.head] = nil
                state.head += 1
                if state.head > 1024 && state.head * 2 > state.items.count {
                    state.items.removeFirst(state.head)
                    state.head = 0
                }
                if !first.completed { return first }
            }
            state.items.removeAll(keepingCapacity: true)
            state.head = 0
            return nil
        }
    }
}
