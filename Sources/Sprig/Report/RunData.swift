/// What the monitoring database says about one run, as plain values: what a report is made from.
///
/// ``MonitoringReader`` fills it from a database; tests and benchmarks may build one directly.
/// Times are seconds on the database's wall-clock scale (``MonitoringTimestamp``); `nil` where the
/// database has none (a try that never started, a run still going).
package struct RunData: Sendable {
    /// The run itself (a `workflow` row).
    package struct Workflow: Sendable {
        package var runID: String
        package var name: String?
        package var version: String?
        package var began: Double
        package var completed: Double?
        package var host: String
        package var user: String
        package var runDirectory: String
    }

    /// One task (a `task` row, with its last state from `status`).
    package struct Task: Sendable {
        package var id: Int
        package var app: String
        /// The tasks it depended on.
        package var dependencies: [Int]
        package var invoked: Double?
        package var returned: Double?
        package var failCount: Int
        /// Its final state, or its latest one while the run goes on.
        package var state: TaskState
    }

    /// One try of a task (a `try` row).
    package struct Try: Sendable {
        package var taskID: Int
        package var tryID: Int
        package var executor: String
        package var blockID: String?
        package var hostname: String?
        /// Handed to the executor.
        package var launched: Double?
        /// Started by a worker.
        package var running: Double?
        /// Its outcome came back.
        package var returned: Double?
        /// What it failed with (Parsl's `task_fail_history`); `nil` when it did not fail.
        package var failure: String?

        /// The line of the failure that names it: its last non-empty line (a traceback ends with
        /// the exception; Parsl's `repr` of it is one line).
        var failureHeadline: String? {
            guard let failure else { return nil }
            return failure.split(whereSeparator: \.isNewline).last { !$0.allSatisfy(\.isWhitespace) }.map(String.init) ?? failure
        }
    }

    /// One observed state of a block (a `block` row).
    package struct BlockState: Sendable {
        package var executor: String
        package var blockID: String
        package var jobID: String?
        package var time: Double
        /// Parsl's `JobState` name: `PENDING`, `RUNNING`, `FAILED`, `MISSING`, `SCALED_IN`, ….
        package var status: String
    }

    /// One report of a manager (a `node` row).
    package struct Node: Sendable {
        package var hostname: String
        package var uid: String
        package var blockID: String
        package var cpuCount: Int
        package var totalMemory: Int64
        package var workerCount: Int
        package var time: Double
    }

    /// One sample of a worker process (a `resource` row).
    package struct ResourceSample: Sendable {
        package var taskID: Int
        package var tryID: Int
        package var time: Double
        package var pid: Int?
        /// User plus system CPU time so far, in seconds.
        package var cpuSeconds: Double?
        /// Resident memory in bytes.
        package var residentBytes: Double?
    }

    package var workflow: Workflow
    /// Ordered by id.
    package var tasks: [Task]
    /// Ordered by task, then try.
    package var tries: [Try]
    /// Ordered by time.
    package var blockStates: [BlockState]
    package var nodes: [Node]
    /// Ordered by time.
    package var resources: [ResourceSample]
}

/// A task's state, by Parsl's `States` names as the `status` table holds them.
package struct TaskState: Sendable, Hashable, Comparable {
    package let name: String

    package init(_ name: String) { self.name = name }

    package static let pending = TaskState("pending")
    package static let launched = TaskState("launched")
    package static let running = TaskState("running")
    package static let runningEnded = TaskState("running_ended")
    package static let execDone = TaskState("exec_done")
    package static let failRetryable = TaskState("fail_retryable")
    package static let failed = TaskState("failed")
    package static let depFail = TaskState("dep_fail")
    package static let memoDone = TaskState("memo_done")
    package static let joining = TaskState("joining")

    /// States a task never leaves.
    package var isFinal: Bool { [Self.execDone, .memoDone, .failed, .depFail].contains(self) }

    /// Finished with a value (ran, or was found in the cache).
    package var succeeded: Bool { self == .execDone || self == .memoDone }

    /// How the report names the state: Parsl's name, with `memo_done` marked as answered from the
    /// app cache (`memo_done (cached)`), since the name alone does not say so to most readers.
    package var label: String { self == .memoDone ? "memo_done (cached)" : name }

    /// The order states are listed in: the happy path first, then failures, then the rest.
    private var rank: Int {
        [Self.execDone, .memoDone, .failed, .depFail, .running, .runningEnded, .launched, .joining, .failRetryable, .pending]
            .firstIndex(of: self) ?? 99
    }

    package static func < (a: TaskState, b: TaskState) -> Bool {
        (a.rank, a.name) < (b.rank, b.name)
    }
}
