import Foundation
import Logging

/// One thing that happened in a run, as the kernel and the executors report it to the run's
/// ``RunRecorder``. The run log (`parsl.log`) and the monitoring database are both written from
/// these values, on the recorder's thread; making one costs a clock read and a few references.
///
/// Tries count from 0, as Parsl's `try_id` does: try 0 is the first run, try 1 the first retry.
/// Times are wall-clock (Parsl stores datetimes).
struct RunEvent: Sendable {
    let time: Date
    let kind: Kind

    init(_ kind: Kind, at time: Date = Date()) {
        self.time = time
        self.kind = kind
    }

    enum Kind: Sendable {
        /// A call of `app` became a task; it waits for `dependencies` (task ids).
        case taskSubmitted(TaskID, app: String, dependencies: [TaskID])
        /// Try `try` was handed to executor `executor`.
        case taskLaunched(TaskID, try: Int, executor: String)
        /// The executor started try `try` on a thread or worker.
        case taskRunning(TaskID, try: Int, executor: String, placement: Placement)
        /// Try `try` failed with `error`; another try follows.
        case taskRetried(TaskID, try: Int, error: any Error)
        /// The task's app is cached and the task is about to end (its ``taskEnded`` follows): its
        /// cache key (Parsl's `hashsum`; `nil` when none was computed: its dependencies failed, say).
        case taskCached(TaskID, key: String?)
        /// The task ended for good, after try `try` (`nil`: it never ran).
        case taskEnded(TaskID, app: String, try: Int?, ending: TaskEnding)
        /// Block `block` of `executor` was started on `host` (`jobID`: what the provider knows it by, a PID).
        case blockStarted(executor: String, block: Int, host: String, jobID: String)
        /// The block's manager answered: it runs `workers` workers.
        case blockReady(executor: String, block: Int, host: String, workers: Int)
        /// The block ended: stopped (`reason` nil), lost or failed to start.
        case blockEnded(executor: String, block: Int, host: String, reason: String?)
        /// A worker's resource sample for one try of a task (boxed: the largest payload would
        /// otherwise make every event as large).
        indirect case resources(ResourceSample)
        /// A line the library logged through the kernel's logger, passed on by the recorder.
        case log(LogEvent)
    }
}

/// Where a try runs.
package struct Placement: Sendable, Equatable {
    /// The block (process executor); `nil` on a thread executor.
    var block: Int?
    var host: String
    /// The worker process, where known (a process executor's worker; the engine for threads).
    var workerPID: Int32?
    /// The thread's name, on a thread executor.
    var thread: String?

    init(block: Int? = nil, host: String, workerPID: Int32? = nil, thread: String? = nil) {
        self.block = block
        self.host = host
        self.workerPID = workerPID
        self.thread = thread
    }

    /// This machine's host name (`gethostname`).
    static let localHost: String = {
        var name = [CChar](repeating: 0, count: 256)
        guard gethostname(&name, name.count) == 0 else { return "localhost" }
        return String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }()
}

/// How a task ended.
enum TaskEnding: Sendable {
    case ok
    /// An earlier call with the same cache key gave its value; this one did not run (Parsl's `memo_done`).
    case cached
    /// The app failed (or could not run) with this error.
    case failed(any Error)
    /// Its dependencies (these task ids) failed, so it never ran.
    case dependencyFailed([TaskID])
    /// ``DataFlowKernel/cancel(_:)`` cancelled it before it started.
    case cancelled
}
