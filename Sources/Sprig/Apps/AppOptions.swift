/// Per-app options, given when an app is made.
public struct AppOptions: Sendable {
    /// The labels of the executors the app may run on; empty means any.
    public var executors: [String]
    /// How long one run may take; past it the future fails with ``TaskError/Reason/timeout(walltime:)``
    /// (a bash app's processes are killed; Python code gets `TimeoutError` at its next bytecode).
    public var walltime: Duration?
    /// Overrides the config's `retries` for this app.
    public var retries: Int?

    /// By default the app may run on any executor, with no walltime and the config's retries.
    public init(executors: [String] = [], walltime: Duration? = nil, retries: Int? = nil) {
        self.executors = executors
        self.walltime = walltime
        self.retries = retries
    }
}
