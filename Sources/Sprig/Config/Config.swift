import Foundation
import PythonBridge

/// Where and how a kernel runs apps (Parsl's `Config`).
public struct Config: Sendable {
    /// The executors, each with a unique label. Apps run on any of them unless pinned by label.
    /// Descriptions only: each kernel made from this config starts executors of its own.
    public var executors: [any ExecutorDescription]
    /// How many more times a failing app is run before its future fails (0: once only).
    public var retries: Int
    /// The folder for run records and logs; relative paths are under the working directory.
    public var runDirectory: String
    /// How the embedded interpreter starts: when the first Python app is made, or when a kernel
    /// starts a ``HighThroughputExecutor`` (its workers run the same Python).
    public var python: PythonConfiguration
    /// How executors with providers scale their blocks (Parsl's `strategy`; `.none` is Parsl's `None`).
    public var strategy: Strategy
    /// What a failure costs against `retries` (Parsl's `retry_handler`): a task is retried while
    /// the costs of its failures add up to no more than its retries. `nil`: each failure costs 1.
    /// If the handler throws, the task fails with that error. Never called for dependency failures.
    public var retryHandler: (@Sendable (_ error: any Error, _ task: RetryContext) throws -> Double)?
    /// Where ``Redirect/automatic`` puts a task's stream (Parsl's `std_autopath`), given the task,
    /// its app and `"stdout"` or `"stderr"`; `nil`: `<run directory>/task_logs/…`. If it throws,
    /// the task fails with that error.
    public var stdAutopath: (@Sendable (_ task: TaskID, _ app: String, _ stream: String) throws -> Redirect)?
    /// Writes Parsl's monitoring database when set (Parsl's `monitoring=MonitoringHub(...)`); `nil`: no database.
    public var monitoring: MonitoringOptions?
    /// App caching and checkpoints: on for apps made with ``AppOptions/cache``, nothing written
    /// by default (see ``Checkpoints``).
    public var checkpoints = Checkpoints()
    /// Whether the kernel writes its run log, `<run folder>/parsl.log` (Parsl's
    /// `initialize_logging`); `false`: the run's lines go only to the logger given to the kernel,
    /// and no `parsl.log` is made. The monitoring database and the run folder are kept either way.
    public var writesRunLog = true

    /// The defaults, in one place: scripts that leave a setting unset get these too.
    /// Each failing app runs once only.
    public static let defaultRetries = 0
    /// Run records go under `runinfo` in the working directory.
    public static let defaultRunDirectory = "runinfo"
    /// Blocks scale with the load (Parsl's `simple`).
    public static let defaultStrategy = Strategy.simple()

    /// By default one ``ThreadPoolExecutor`` (labelled `threads`), no retries, run records under
    /// `runinfo` and the `simple` strategy; ``stdAutopath`` is set afterwards, if at all.
    public init(executors: [any ExecutorDescription] = [ThreadPoolExecutor()],
                retries: Int = defaultRetries,
                runDirectory: String = defaultRunDirectory,
                strategy: Strategy = defaultStrategy,
                python: PythonConfiguration = .init(),
                retryHandler: (@Sendable (_ error: any Error, _ task: RetryContext) throws -> Double)? = nil,
                monitoring: MonitoringOptions? = nil) {
        self.retryHandler = retryHandler
        self.monitoring = monitoring
        self.executors = executors
        self.retries = retries
        self.runDirectory = runDirectory
        self.strategy = strategy
        self.python = python
    }

    /// Checks the configuration; the kernel calls this before it starts anything.
    public func validate() throws(ConfigError) {
        if executors.isEmpty { throw ConfigError(message: "the config has no executors; add a ThreadPoolExecutor at least") }
        var seen = Set<String>()
        for executor in executors {
            if executor.label.isEmpty { throw ConfigError(message: "an executor has an empty label") }
            if !(executor is any RunnableExecutor) {
                throw ConfigError(message: "executor \"\(executor.label)\" is a \(type(of: executor)), which Sprig cannot start; "
                                  + "use a ThreadPoolExecutor or a HighThroughputExecutor")
            }
            if !seen.insert(executor.label).inserted {
                throw ConfigError(message: "two executors are labelled \"\(executor.label)\"; labels must be unique")
            }
        }
        if retries < 0 { throw ConfigError(message: "retries is \(retries); it must be 0 or more") }
        if case .periodic(let period)? = checkpoints.mode, period <= .zero {
            throw ConfigError(message: "the checkpoint period is \(period); it must be positive")
        }
    }
}

/// What a retry handler learns of the task whose attempt failed.
public struct RetryContext: Sendable {
    /// The task whose attempt failed.
    public let taskID: TaskID
    /// Its app's name.
    public let app: String
    /// Failed attempts so far, this one included.
    public let failCount: Int
    /// The cost of the earlier failures, before this one.
    public let failCost: Double
    /// The task's retries: it is retried while the total cost stays at or below this.
    public let retries: Int
}

/// A configuration, or an app's options, cannot work.
public struct ConfigError: Error, Sendable, CustomStringConvertible {
    /// What is wrong, naming the setting or the app.
    public let message: String
    /// An error saying `message`.
    public init(message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}
