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
