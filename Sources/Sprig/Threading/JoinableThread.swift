import Dispatch
import Foundation
import Synchronization

/// An OS thread that runs one closure and can be joined: the executors' own threads, which must
/// all be gone when an executor has shut down.
///
/// The thread starts with SIGPIPE blocked: a write to a pipe whose reader died — by Sprig, or by
/// a Python app on this thread — fails with `EPIPE` instead of ending the program, without
/// touching the program's own signal dispositions.
///
/// Threading: ``join()`` may be called from any number of threads, at once or later; each call
/// returns only once the closure has returned and the thread has been joined.
final class JoinableThread: Sendable {
    /// The pthread handle, written once before `init` returns; `nil` once joined.
    private let handle = Mutex<pthread_t?>(nil)
    /// Left when the closure returns: what every joiner waits for.
    private let finished = DispatchGroup()

    /// Starts `body` on a new thread named `name` (at most 15 bytes are kept).
    init(name: String, _ body: @escaping @Sendable () -> Void) throws {
        finished.enter()
        let group = finished
        let box = Unmanaged.passRetained(Box(name: name) {
            body()
            group.leave()
        })
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            Thread.current.name = String(box.name.utf8.prefix(15)) ?? "sprig"
            blockPipeSignal()
            pthread_setspecific(engineThreadKey, UnsafeRawPointer(bitPattern: 1))
            box.body()
            return nil
        }, box.toOpaque())
        guard status == 0 else {
            box.release()
            finished.leave()
            throw ExecutorError(label: name, message: "cannot start a thread: \(String(cString: strerror(status)))")
        }
        handle.withLock { $0 = thread }
    }

    /// Waits for the thread to end. Never call from the thread itself.
    func join() {
        finished.wait()
        // The closure has returned; the thread is leaving, so this lock is held only a moment.
        handle.withLock { thread in
            if let joinable = thread { pthread_join(joinable, nil) }
            thread = nil
        }
    }

    private final class Box {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }
}

/// Marks the threads ``JoinableThread`` starts — the engine's own — so that work which must not
/// run on them (user callbacks) can tell.
private let engineThreadKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

extension JoinableThread {
    /// Whether the calling thread is one of the engine's own (an executor's, a block's, the
    /// callback thread).
    static var isCurrentEngineThread: Bool { pthread_getspecific(engineThreadKey) != nil }
}
