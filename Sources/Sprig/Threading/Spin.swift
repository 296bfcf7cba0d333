import Foundation
import Synchronization

/// The spin-before-park policy shared by every thread that waits for a short event (a result, a
/// task to run): a parked thread takes ~40 µs to wake on this kind of VM, longer than many tasks
/// run, so short waits spin first — but only while someone waits in a hot loop, so that idle
/// threads leave the cores to the threads doing the work.
enum Spin {
    /// How long a waiting thread spins before it parks.
    static let time = Duration.microseconds(100)

    /// Threads spinning for a result now, and when the last one stopped.
    static let waiters = Atomic<Int>(0)
    static let lastEnded = Atomic<UInt64>(0)

    /// Whether some thread waits for results in a hot loop (it spins now, or did within 200 µs):
    /// executor threads then spin for work too. Otherwise they park at once (a Python script
    /// waiting on its own futures, say, needs the core more).
    static var waitersAreHot: Bool {
        waiters.load(ordering: .relaxed) > 0
            || monotonicNanoseconds() &- lastEnded.load(ordering: .relaxed) < 200_000
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
