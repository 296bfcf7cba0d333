import Foundation
import Sprig

/// The floor under a bash app on this machine: `count` runs of `/bin/bash -c true`, each a bare
/// `posix_spawn` (no file actions, no attributes, this process's environment) and a `waitpid`,
/// shared by `threads` threads spawning at once (the thread executor's concurrency). Returns
/// spawns per second.
func bareSpawnRate(count: Int, threads: Int) -> Double {
    let next = NextIndex(count)
    let clock = ContinuousClock.now
    let workers = (0..<threads).map { _ in
        Thread {
            let arguments: [UnsafeMutablePointer<CChar>?] = ["/bin/bash", "-c", "true"].map { (word: String) in strdup(word) } + [nil]
            defer { for pointer in arguments { free(pointer) } }
            while next.take() {
                var pid: pid_t = 0
                guard posix_spawn(&pid, "/bin/bash", nil, nil, arguments, Glibc.environ) == 0 else { continue }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
            next.finished()
        }
    }
    for worker in workers { worker.start() }
    next.waitForAll(threads)
    return Double(count) / (ContinuousClock.now - clock).seconds
}

/// Hands out `count` turns to the spawning threads and waits for them to end.
private final class NextIndex: @unchecked Sendable {  // every member is guarded by `condition`
    private let condition = NSCondition()
    private var left: Int
    private var done = 0

    init(_ count: Int) { left = count }

    func take() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard left > 0 else { return false }
        left -= 1
        return true
    }

    func finished() {
        condition.lock()
        done += 1
        condition.broadcast()
        condition.unlock()
    }

    func waitForAll(_ threads: Int) {
        condition.lock()
        while done < threads { condition.wait() }
        condition.unlock()
    }
}

/// `sprig-bench spawn [--count N] [--rounds R]`: bash `true` as thread-executor bash apps (2
/// threads, a Swift-built app) against the bare spawn floor (``bareSpawnRate(count:threads:)``),
/// alternating in one process, R rounds of N each; prints each round and the medians.
func runSpawnBenchmark(_ arguments: [String]) throws {
    func option(_ name: String, _ fallback: Int) -> Int {
        arguments.firstIndex(of: name).flatMap { arguments.index(after: $0) < arguments.endIndex ? Int(arguments[$0 + 1]) : nil } ?? fallback
    }
    let count = option("--count", 500), rounds = option("--rounds", 5)
    let dfk = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "threads", maxThreads: 2)],
                                                runDirectory: NSTemporaryDirectory() + "sprig-bench-spawn", strategy: .none))
    defer { dfk.shutdown() }
    let bashTrue = try dfk.bashApp(name: "true") { () in "true" }
    for future in (0..<20).map({ _ in bashTrue() }) { _ = try future.result() }  // warm-up
    var apps: [Double] = [], floors: [Double] = []
    for round in 0..<rounds {
        func appsRate() throws -> Double {
            let clock = ContinuousClock.now
            for future in (0..<count).map({ _ in bashTrue() }) { _ = try future.result() }
            return Double(count) / (ContinuousClock.now - clock).seconds
        }
        if round % 2 == 0 {
            apps.append(try appsRate())
            floors.append(bareSpawnRate(count: count, threads: 2))
        } else {
            floors.append(bareSpawnRate(count: count, threads: 2))
            apps.append(try appsRate())
        }
        print("round \(round + 1): bash apps \(Int(apps.last!))/s, bare spawn \(Int(floors.last!))/s")
    }
    let median = { (values: [Double]) in values.sorted()[values.count / 2] }
    print("median of \(rounds) rounds of \(count): bash apps \(Int(median(apps)))/s, bare spawn \(Int(median(floors)))/s, "
          + "apps / floor \(Int((median(apps) / median(floors) * 100).rounded()))%; \(machineDescription())")
}
