import Foundation
import Sprig

/// `sprig-bench wakeups [--rounds N]`: what a wake-up costs the engine on this machine, the floors
/// under each hand-off in a process-executor round trip. Medians of N round trips, each a pair of
/// wake-ups, one key=value line per figure (read by `benchmarks/hops.py`):
///
/// - `semaphore_us`: two threads, a `DispatchSemaphore` each way (how a waiting caller, or a
///   parked dispatch thread, is woken);
/// - `pipe_threads_us`: two threads, 1 byte through a pipe each way, blocking reads (how a block's
///   reader wakes when its manager writes).
func runWakeupBenchmark(rounds: Int) throws {
    print("semaphore_us=\(String(format: "%.1f", semaphoreRoundTrip(rounds: rounds)))")
    print("pipe_threads_us=\(String(format: "%.1f", try pipeRoundTrip(rounds: rounds)))")
}

/// `sprig-bench roundtrips [--rounds N]`: only sequential no-op round trips on the process
/// executor (one local block, 2 workers), median and p90 in µs — a short run to profile.
func runRoundTripBenchmark(rounds: Int) throws {
    let dfk = try localBlockKernel(label: "htex", runDirectory: NSTemporaryDirectory() + "sprig-bench")
    let noop = try dfk.pythonApp(module: "bench_apps", function: "noop")
    for _ in 0..<200 { _ = try noop().result() }
    var times: [Double] = []
    for _ in 0..<rounds {
        let started = ContinuousClock.now
        _ = try noop().result()
        times.append((ContinuousClock.now - started).seconds * 1e6)
    }
    times.sort()
    print("roundtrip_median_us=\(String(format: "%.1f", times[times.count / 2]))")
    print("roundtrip_p90_us=\(String(format: "%.1f", times[times.count * 9 / 10]))")
    dfk.shutdown()
}

private func semaphoreRoundTrip(rounds: Int) -> Double {
    let there = DispatchSemaphore(value: 0), back = DispatchSemaphore(value: 0)
    let other = Thread {
        for _ in 0..<rounds {
            there.wait()
            back.signal()
        }
    }
    other.start()
    var times: [Double] = []
    for _ in 0..<rounds {
        let started = ContinuousClock.now
        there.signal()
        back.wait()
        times.append((ContinuousClock.now - started).seconds * 1e6)
    }
    return median(times)
}

private func pipeRoundTrip(rounds: Int) throws -> Double {
    var there: [Int32] = [0, 0], back: [Int32] = [0, 0]
    guard pipe(&there) == 0, pipe(&back) == 0 else { throw POSIXError(.EMFILE) }
    defer { for fd in there + back { close(fd) } }
    let (thereRead, backWrite) = (there[0], back[1])
    let done = DispatchSemaphore(value: 0)
    let other = Thread {
        var byte: UInt8 = 0
        for _ in 0..<rounds {
            guard read(thereRead, &byte, 1) == 1, write(backWrite, &byte, 1) == 1 else { break }
        }
        done.signal()
    }
    other.start()
    var times: [Double] = []
    var byte: UInt8 = 1
    for _ in 0..<rounds {
        let started = ContinuousClock.now
        guard write(there[1], &byte, 1) == 1, read(back[0], &byte, 1) == 1 else { break }
        times.append((ContinuousClock.now - started).seconds * 1e6)
    }
    done.wait()
    return median(times)
}

private func median(_ values: [Double]) -> Double {
    guard !values.isEmpty else { return .nan }
    return values.sorted()[values.count / 2]
}
