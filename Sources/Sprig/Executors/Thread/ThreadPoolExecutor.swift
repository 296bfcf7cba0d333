import Foundation
import Logging
import PythonBridge
import Synchronization

/// Runs apps on dedicated threads of this process (Parsl's `ThreadPoolExecutor`).
///
/// Python apps run in the embedded interpreter; they overlap while they wait (sleep, I/O, C code
/// that drops the GIL), not while they compute: CPU-bound Python belongs on a process executor.
/// Each thread is primed for Python once, so a call costs ~100 ns of GIL handling instead of ~10 µs.
/// Bash apps run `/bin/bash` from these threads; Swift apps run on them directly.
///
/// A description: each kernel made from a config holding it starts threads of its own.
public struct ThreadPoolExecutor: ExecutorDescription {
    /// The unique label apps use to pin themselves to this executor.
    public let label: String
    /// How many apps may run at once.
    public let maxThreads: Int

    /// Parsl's default `max_threads` (scripts that leave it unset get it too).
    public static let defaultMaxThreads = 2

    /// - Parameters:
    ///   - label: unique among the config's executors.
    ///   - maxThreads: how many apps may run at once (Parsl's `max_threads`, default 2).
    public init(label: String = "threads", maxThreads: Int = defaultMaxThreads) {
        self.label = label
        self.maxThreads = maxThreads
    }
}

extension ThreadPoolExecutor: RunnableExecutor {
    func makeExecutor() -> any Executor { ThreadPoolRuntime(label: label, maxThreads: maxThreads) }
}

/// The threads of one kernel's ``ThreadPoolExecutor``.
final class ThreadPoolRuntime: Executor {
    let label: String
    let maxThreads: Int
    private let queue = WorkQueue<Attempt>()
    private let threads = Mutex<[JoinableThread]>([])
    private let running = Atomic<Int>(0)

    init(label: String, maxThreads: Int) {
        self.label = label
        self.maxThreads = maxThreads
    }

    var outstanding: Int { running.load(ordering: .relaxed) }

    var status: ExecutorStatus { ExecutorStatus(label: label, outstanding: outstanding, blocks: [], startFailures: [:]) }

    func start(_ context: ExecutorContext) throws {
        guard maxThreads > 0 else { throw ExecutorError(label: label, message: "maxThreads is \(maxThreads); it must be at least 1") }
        var started: [JoinableThread] = []
        do {
            for index in 0..<maxThreads {
                started.append(try JoinableThread(name: Self.threadName(label: label, index: index)) { [self] in workerLoop(index: index) })
            }
        } catch {
            queue.close()
            for thread in started { thread.join() }
            throw error
        }
        threads.withLock { $0 = started }
    }

    func submit(_ attempt: Attempt) {
        running.add(1, ordering: .relaxed)
        if !queue.push(attempt) {
            running.subtract(1, ordering: .relaxed)
            attempt.finish(.failure(TaskError(taskID: attempt.taskID, app: attempt.app, reason: .executor("executor \(label) is shut down"))))
        }
    }

    func shutdown() {
        queue.close()
        let joining = threads.withLock { threads in
            defer { threads = [] }
            return threads
        }
        for thread in joining { thread.join() }
    }

    private func workerLoop(index: Int) {
        primeCurrentThreadForPython()
        let placement = Placement(host: Placement.localHost, workerPID: getpid(), thread: Self.threadName(label: label, index: index))
        while let attempt = queue.pop() {
            if !attempt.isEnded {
                attempt.markStarted(on: placement)
                let outcome = InProcessRunner.run(attempt)
                attempt.finish(outcome)
            }
            running.subtract(1, ordering: .relaxed)
        }
        unprimeCurrentThreadForPython()
    }

    /// The OS name of worker thread `index` (at most 15 bytes, as Linux allows), seen in debuggers and `/proc`.
    package static func threadName(label: String, index: Int) -> String {
        let suffix = "#\(index)"
        return String(label.utf8.prefix(15 - suffix.utf8.count)).map { $0 + suffix } ?? suffix
    }
}
