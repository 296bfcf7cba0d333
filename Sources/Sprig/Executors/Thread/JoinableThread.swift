import Foundation
import Synchronization

/// An OS thread that runs one closure and can be joined: the executors' own threads, which must
/// all be gone when an executor has shut down.
final class JoinableThread: @unchecked Sendable {  // `thread` is written once in init, read in join
    private var thread = pthread_t()
    private var joined = false

    /// Starts `body` on a new thread named `name` (at most 15 bytes are kept).
    init(name: String, _ body: @escaping @Sendable () -> Void) throws {
        let box = Unmanaged.passRetained(Box(name: name, body: body))
        let status = pthread_create(&thread, nil, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            Thread.current.name = String(box.name.utf8.prefix(15)) ?? "sprig"
            box.body()
            return nil
        }, box.toOpaque())
        guard status == 0 else {
            box.release()
            throw ExecutorError(label: name, message: "cannot start a thread: \(String(cString: strerror(status)))")
        }
    }

    /// Waits for the thread to end; later calls return at once. Never call from the thread itself.
    func join() {
        guard !joined else { return }
        joined = true
        pthread_join(thread, nil)
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

/// Wakes one waiting thread when there is something to do; kicks while it is busy merge into one.
/// The waiter spins briefly before it parks, as ``WorkQueue`` consumers do. The flags use sequentially
/// consistent ordering: "set mine, then read yours" on two atomics needs it, or a wake-up is lost.
final class Kicker: Sendable {
    private let pending = Atomic<Bool>(false)
    private let semaphore = DispatchSemaphore(value: 0)
    private let parked = Atomic<Bool>(false)

    func kick() {
        guard !pending.exchange(true, ordering: .sequentiallyConsistent) else { return }
        if parked.load(ordering: .sequentiallyConsistent) { semaphore.signal() }
    }

    /// Returns once kicked (or after `timeout`); returns whether it was kicked.
    @discardableResult
    func wait(timeout: Duration) -> Bool {
        let clock = ContinuousClock()
        let spinUntil = clock.now.advanced(by: TaskCore.spinTime)
        repeat {
            for _ in 0..<64 where pending.load(ordering: .relaxed) {
                return pending.exchange(false, ordering: .sequentiallyConsistent)
            }
        } while clock.now < spinUntil
        parked.store(true, ordering: .sequentiallyConsistent)
        if pending.load(ordering: .sequentiallyConsistent) {
            parked.store(false, ordering: .sequentiallyConsistent)
            return pending.exchange(false, ordering: .sequentiallyConsistent)
        }
        _ = semaphore.wait(timeout: .now() + timeout.dispatchInterval)
        parked.store(false, ordering: .sequentiallyConsistent)
        // Drain a signal that raced with the timeout, so the next wait does not return early for nothing.
        while semaphore.wait(timeout: .now()) == .success {}
        return pending.exchange(false, ordering: .sequentiallyConsistent)
    }
}
