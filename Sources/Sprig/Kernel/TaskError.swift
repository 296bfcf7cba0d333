import PythonBridge

/// Why one task failed, naming the task and its app. Dependency failures are ``DependencyError``.
public struct TaskError: Error, CustomStringConvertible {
    /// Why the task failed.
    public enum Reason: Sendable {
        /// The Python app raised; the error keeps the type, message and traceback.
        case python(PythonError)
        /// The bash command exited non-zero (a command that was not found exits 127; one killed by
        /// signal N, 128 + N).
        case bashExit(code: Int32)
        /// The app ran past its walltime; a bash app's processes were killed.
        case timeout(walltime: Duration)
        /// A `stdout`/`stderr` target could not be opened.
        case badStdStream(path: String, detail: String)
        /// A `stdout`/`stderr` spec has the wrong shape or types (a list, a 1- or 3-tuple, a `None`
        /// mode): Parsl's type check, `TypeError` in scripts.
        case badStdStreamSpec(String)
        /// The bash app succeeded but did not write these declared outputs.
        case missingOutputs([File])
        /// The command of a bash app could not be made (its function raised or returned a non-string).
        case badCommand(String)
        /// An argument or result could not be converted.
        case conversion(String)
        /// A Swift app threw.
        case swift(any Error)
        /// The app asked for executors the kernel does not have, or the executor refused the task.
        case executor(String)
        /// The executor gave up: none of its blocks could start, again and again, or one could
        /// never work (a Python version mismatch). Parsl's `BadStateException`.
        case badState(String)
        /// The task was submitted after the kernel shut down.
        case kernelShutDown
        /// ``DataFlowKernel/cancel(_:)`` cancelled the task before it started.
        case cancelled
        /// The worker process running the task died (killed, out of memory, …); the manager replaced it.
        case workerLost(String)
        /// The block's manager died, fell silent past the heartbeat threshold, or its host was lost.
        case managerLost(String)
        /// An argument, the function or the result could not be pickled or unpickled.
        case serialization(String)
    }

    /// The task that failed.
    public let taskID: TaskID
    /// Its app's name.
    public let app: String
    /// Why it failed.
    public let reason: Reason

    /// A failure of task `taskID` of `app`.
    public init(taskID: TaskID, app: String, reason: Reason) {
        self.taskID = taskID
        self.app = app
        self.reason = reason
    }

    /// The Python exception, when the app raised one.
    public var pythonError: PythonError? {
        if case .python(let error) = reason { return error }
        return nil
    }

    /// The exit code, when a bash command failed.
    public var exitCode: Int32? {
        if case .bashExit(let code) = reason { return code }
        return nil
    }

    /// Whether the task ran past its walltime.
    public var isTimeout: Bool {
        if case .timeout = reason { return true }
        return false
    }

    /// Names the task and its app and says what failed; a Python failure adds its traceback.
    public var description: String {
        let head = "task \(taskID) (app \(app))"
        switch reason {
        case .python(let error):
            return "\(head) raised \(error)" + (error.traceback.isEmpty ? "" : "\n\(error.traceback)")
        case .bashExit(let code): return "\(head) failed with unix exit code \(code)"
        case .timeout(let walltime): return "\(head) exceeded its walltime of \(walltime)"
        case .badStdStream(let path, let detail): return "\(head) cannot redirect output to \(path): \(detail)"
        case .badStdStreamSpec(let detail): return "\(head): \(detail)"
        case .missingOutputs(let files): return "\(head) did not write its outputs: " + files.map(\.path).joined(separator: ", ")
        case .badCommand(let detail): return "\(head) has no command to run: \(detail)"
        case .conversion(let detail): return "\(head): \(detail)"
        case .swift(let error): return "\(head) threw \(error)"
        case .executor(let detail), .badState(let detail): return "\(head) cannot run: \(detail)"
        case .cancelled: return "\(head) was cancelled before it started"
        case .kernelShutDown: return "\(head) was submitted after the kernel shut down; make a new DataFlowKernel"
        case .workerLost(let detail): return "\(head) lost its worker: \(detail)"
        case .managerLost(let detail): return "\(head) lost its manager: \(detail)"
        case .serialization(let detail): return "\(head) cannot be serialized: \(detail)"
        }
    }
}

/// A task did not run because tasks it depends on failed (Parsl's `DependencyError`). Never retried.
public struct DependencyError: Error, CustomStringConvertible {
    /// The task that did not run.
    public let taskID: TaskID
    /// Its app's name.
    public let app: String
    /// The dependencies that failed, by task id.
    public let failedDependencies: [TaskID]
    /// The first failure at the bottom of the chain: a ``TaskError`` (or another error) of a task that ran.
    public let rootCause: any Error

    /// Names the task, the dependencies that failed and the root cause.
    public var description: String {
        "task \(taskID) (app \(app)) did not run: its dependencies failed (tasks "
            + failedDependencies.map(\.description).joined(separator: ", ") + "); root cause: \(rootCause)"
    }
}
