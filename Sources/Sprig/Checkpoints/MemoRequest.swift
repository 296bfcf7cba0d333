import Synchronization

/// What a cached call gives the kernel: how to key it once its dependencies have succeeded, and
/// how its result is stored and read back. Made by the app layer (``AppOptions/cache``).
package struct MemoRequest: Sendable {
    /// A call's key, and whether to look it up (a script's memoizer may say not to; the result
    /// is recorded under the key either way).
    package struct Key: Sendable {
        package let value: String
        package var lookUp = true
    }

    package let app: String
    /// `python`, `bash`, `swift` or `join`: the `kind` column of the store.
    package let kind: String
    /// Whether ``key`` runs Python: the memoizer then takes the GIL once for a batch.
    package let usesPython: Bool
    /// Computes the key from the resolved arguments; runs on the memoizer's thread. Throws when
    /// an argument has no key (the task fails with that error).
    package let key: @Sendable (TaskID) throws -> Key
    /// The key computed without Python when the call allows it (``PlainCallKey``), else `nil` and
    /// ``key`` computes it. Runs on the thread that launches the task, without the GIL.
    package var plainKey: (@Sendable () -> Key?)? = nil
    /// Whether ``encode`` runs Python for this value (the memoizer then takes the GIL for the batch).
    package var encodeUsesPython: @Sendable (any Sendable) -> Bool = { _ in false }
    /// The stored form of a successful result; `nil` when it cannot be stored (it is then reused
    /// in this run only). Runs on the memoizer's thread.
    package let encode: @Sendable (any Sendable) throws -> StoredResult?
    /// A stored result as the task's value.
    package let decode: @Sendable (StoredResult) throws -> any Sendable
    /// The call is a join app's body (Parsl caches a join app's final value): a hit ends the body's
    /// task with a ``CachedJoinValue``, so that the join app ends with it and the body never runs;
    /// the join app's outcome is recorded when the join app ends (``DataFlowKernel/join``), not the body's.
    package var joins = false
}

/// What a cached join app's body task ends with when the cache answers: the join app's final value.
package struct CachedJoinValue: Sendable {
    package let value: any Sendable
}

/// One task's cache request and, once computed, its key. Shared by the task's launch and its end,
/// and held by its ``TaskCore`` (a join app's outer task shares its body's), so that the run log,
/// the monitoring database and a script's future can tell the key and whether the cache answered.
package final class MemoTicket: Sendable {
    package let request: MemoRequest
    private let computed = Mutex<MemoRequest.Key?>(nil)
    private let answered = Atomic<Bool>(false)
    private let named = Atomic<Int>(0)

    package init(_ request: MemoRequest, task: TaskID) {
        self.request = request
        named.store(task.rawValue, ordering: .relaxed)
    }

    /// The task the cache names for this call: the one whose result it stores, whose failure it
    /// hands to later calls. A cached join app's body task names its join app's task instead, once
    /// that exists (``DataFlowKernel/join``), since the join app's outcome is what is cached.
    package var task: TaskID {
        get { TaskID(named.load(ordering: .acquiring)) }
        set { named.store(newValue.rawValue, ordering: .releasing) }
    }

    /// The key, once the memoizer has computed it.
    package var key: MemoRequest.Key? {
        get { computed.withLock { $0 } }
        set { computed.withLock { $0 = newValue } }
    }

    /// Whether the call was answered from the cache (Parsl's `from_memo`): set before the task ends.
    package var hit: Bool {
        get { answered.load(ordering: .acquiring) }
        set { answered.store(newValue, ordering: .releasing) }
    }
}

/// What the memoizer found for a task about to launch.
package enum MemoVerdict: Sendable {
    /// A finished call with the same key: its outcome (a failure only from this run).
    case hit(Outcome)
    /// Nothing: the task runs.
    case miss
    /// The key could not be computed: the task fails with this.
    case unkeyable(any Error)
}

/// A memoized failure handed to another call with the same key: the original error, and the task
/// that raised it (so a script's future gets the very exception object the first call got).
package struct MemoizedFailure: Error, Sendable, CustomStringConvertible {
    package let original: any Error
    package let originalTask: TaskID
    package var description: String { "\(original)" }
}
