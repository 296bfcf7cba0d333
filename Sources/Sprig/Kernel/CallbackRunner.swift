import PythonBridge
import Synchronization

/// The kernel's callback thread: runs the callbacks of ended tasks (``AppFuture/onComplete(_:)``,
/// the completion of a script's Python futures) in the order the tasks ended, away from the
/// executors' threads. A callback that blocks — waiting on another future, say — delays only
/// later callbacks: tasks keep completing, blocks keep reading, dependents keep launching.
///
/// Threading: ``enqueue(_:)`` from any thread; ``stop()`` once, from any thread but the callback
/// thread itself.
final class CallbackRunner: Sendable {
    /// Parks at once when empty: spinning for callbacks would take a core from the threads and
    /// processes producing results (a script's futures are mostly completed by the script's own
    /// waiting thread, so the callback thread often has nothing to do).
    private let queue = WorkQueue<@Sendable () -> Void>(spins: false)
    private let thread = Mutex<JoinableThread?>(nil)

    init(name: String) throws {
        let runner = try JoinableThread(name: name) { [queue] in
            while let job = queue.pop() {
                primeCurrentThreadForPython()  // callbacks often take the GIL; a primed thread takes it cheaply
                job()
            }
            unprimeCurrentThreadForPython()
        }
        thread.withLock { $0 = runner }
    }

    /// Runs `job` on the callback thread; returns `false` once the runner has stopped.
    @discardableResult
    func enqueue(_ job: @escaping @Sendable () -> Void) -> Bool { queue.push(job) }

    /// Runs what is queued, then ends the thread; waits for it unless called on it.
    func stop(wait: Bool) {
        queue.close()
        if wait { thread.withLock { $0 }?.join() }
    }
}
