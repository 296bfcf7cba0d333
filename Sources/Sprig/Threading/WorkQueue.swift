import Dispatch
import Synchronization

/// A many-producer, many-consumer FIFO for dedicated threads.
///
/// Consumers spin briefly before they park: waking a parked thread costs ~40 µs on this kind of
/// VM, more than a short task takes, so a busy pool keeps its threads warm.
final class WorkQueue<Element: Sendable>: Sendable {
    private struct State {
        var items: [Element?] = []
        var head = 0
        var parked: [DispatchSemaphore] = []
        var closed = false

        var isEmpty: Bool { head == items.count }

        mutating func take() -> Element? {
            guard head < items.count else { return nil }
            let item = items[head]
            items[head] = nil
            head += 1
            if head == items.count {
                items.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 1024 && head * 2 > items.count {
                items.removeFirst(head)
                head = 0
            }
            return item
        }
    }

    private let state = Mutex(State())
    private let available = Atomic<Int>(0)
    private let spins: Bool

    /// A queue whose consumers spin before they park while waiters are hot (`spins`), or park at once.
    init(spins: Bool = true) {
        self.spins = spins
    }

    /// Adds an item; returns false once the queue is closed.
    func push(_ item: Element) -> Bool {
        let wake: DispatchSemaphore?? = state.withLock { state in
            guard !state.closed else { return .none }
            state.items.append(item)
            return .some(state.parked.popLast())
        }
        guard case .some(let sleeper) = wake else { return false }
        available.add(1, ordering: .releasing)
        sleeper?.signal()
        return true
    }

    /// Takes the next item, waiting for one; `nil` once the queue is closed and empty.
    func pop() -> Element? {
        let semaphore = DispatchSemaphore(value: 0)
        while true {
            if let item = takeNow() { return item }
            if spins, spinForWork() { continue }
            let mustWait: Bool? = state.withLock { state in
                if !state.isEmpty { return false }
                if state.closed { return nil }
                state.parked.append(semaphore)
                return true
            }
            switch mustWait {
            case nil: return nil
            case true?: semaphore.wait()
            case false?: continue
            }
        }
    }

    /// Closes the queue: what is in it is still handed out; parked consumers wake.
    func close() {
        let sleepers = state.withLock { state in
            state.closed = true
            defer { state.parked = [] }
            return state.parked
        }
        for sleeper in sleepers { sleeper.signal() }
    }

    private func takeNow() -> Element? {
        guard available.load(ordering: .acquiring) > 0 || state.withLock({ $0.closed }) else { return nil }
        let item = state.withLock { $0.take() }
        if item != nil { available.subtract(1, ordering: .relaxed) }
        return item
    }

    /// Spins only while some thread spins waiting for a result (``TaskCore/wait(timeout:)``): then a
    /// hot submit-and-wait loop never pays a wake-up. Otherwise (a Python script waiting on its own
    /// futures, say) spinning consumers would only take the cores that thread needs.
    private func spinForWork() -> Bool {
        guard Spin.waitersAreHot else { return false }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: Spin.time)
        repeat {
            for _ in 0..<64 where available.load(ordering: .relaxed) > 0 { return true }
        } while clock.now < deadline && Spin.waitersAreHot
        return false
    }
}
