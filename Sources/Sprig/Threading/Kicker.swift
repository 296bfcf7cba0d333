import Dispatch
import Synchronization

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
        let spinUntil = clock.now.advanced(by: Spin.time)
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
