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

    /// Whether waits for results spin lately (``SpinVerdict``), shared by every waiting thread.
    static let verdict = Mutex(SpinVerdict())
}

/// Whether a thread waiting for a result should spin first, learnt from the last waits.
///
/// A spin pays only when the result comes within it (a thread-executor task from Swift: ~2 µs).
/// When results take longer (a process-executor round trip: 100 µs and more here), the spin only
/// takes a core from the processes that produce the result — on 2 cores it made the round trip
/// 176–178 µs against 76–128 µs without it. So after ``giveUpAfter`` spins in a row that missed,
/// waits park at once, except every ``probeEvery``-th, which spins to notice quick results again.
struct SpinVerdict {
    static let giveUpAfter = 4
    static let probeEvery = 16

    private var misses = 0
    private var skipped = 0

    /// Whether the next wait spins.
    mutating func shouldSpin() -> Bool {
        guard misses >= Self.giveUpAfter else { return true }
        skipped += 1
        if skipped >= Self.probeEvery {
            skipped = 0
            return true
        }
        return false
    }

    /// A spin ended: it found its result (`true`) or parked after all.
    mutating func spun(found: Bool) {
        misses = found ? 0 : misses + 1
    }
}

/// CLOCK_MONOTONIC in nanoseconds.
func monotonicNanoseconds() -> UInt64 {
    var time = timespec()
    clock_gettime(CLOCK_MONOTONIC, &time)
    return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
}
