/// Per-app options, given when an app is made.
public struct AppOptions: Sendable {
    /// The labels of the executors the app may run on; empty means any.
    public var executors: [String]
    /// How long one run may take; past it the future fails with ``TaskError/Reason/timeout(walltime:)``
    /// (a bash app's processes are killed; Python code gets `TimeoutError` at its next bytecode).
    public var walltime: Duration?
    /// Overrides the config's `retries` for this app.
    public var retries: Int?
    /// Whether calls are cached (Parsl's `cache=True`): a call whose app and argument values match
    /// a finished call's gets its result without running (see ``Checkpoints``). A Swift app's
    /// result must be `Codable` to be cached (``DataFlowKernel/swiftApp(name:options:_:)`` says so).
    public var cache: CachePolicy?
    /// Keyword arguments left out of the cache key (Parsl's `ignore_for_cache`).
    public var ignoreForCache: [String]

    /// By default the app may run on any executor, with no walltime, the config's retries and no caching.
    public init(executors: [String] = [], walltime: Duration? = nil, retries: Int? = nil,
                cache: CachePolicy? = nil, ignoreForCache: [String] = []) {
        self.executors = executors
        self.walltime = walltime
        self.retries = retries
        self.cache = cache
        self.ignoreForCache = ignoreForCache
    }
}
