import Dispatch
import Foundation
import Synchronization

/// An OS thread that runs one closure and can be joined: the executors' own threads, which must
/// all be gone when an executor has shut down.
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
