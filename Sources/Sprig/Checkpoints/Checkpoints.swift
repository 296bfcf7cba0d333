/// App caching and checkpoints, as a ``Config`` sets them (Parsl's `BasicMemoizer` and the older
/// `Config(checkpoint_mode:…, checkpoint_files:…, checkpoint_period:…, app_cache:…)`).
///
/// A call of an app made with ``AppOptions/cache`` set is looked up, once its dependencies have
/// succeeded, by a key of its app and argument values; a finished call with the same key gives its
/// result without running again. Results of this run are kept in memory; with a ``mode`` they are
/// also written to `<run folder>/checkpoint/cache.db` (SQLite), which later runs load.
/// Failures are reused within the run only, never written (as in Parsl).
public struct Checkpoints: Sendable, Equatable {
    /// When results are written to this run's store.
    public enum Mode: Sendable, Equatable {
        /// Each successful task's result is committed as the task ends, so a killed engine loses
        /// at most the tasks that were running (Parsl's `task_exit`).
        case taskExit
        /// Every `period`, and when the kernel shuts down (Parsl's `periodic`).
        case periodic(Duration)
        /// When the kernel shuts down (Parsl's `dfk_exit`).
        case kernelExit
        /// When the program calls ``DataFlowKernel/checkpoint()``, and at shutdown (Parsl's `manual`).
        case manual
    }

    /// Which earlier results a run starts with.
    public enum Source: Sendable, Equatable {
        /// Every earlier run of the same ``Config/runDirectory`` that has a checkpoint folder,
        /// without naming them (Parsl's default once a mode is set: `get_all_checkpoints()`).
        case allEarlierRuns
        /// The checkpoint folders given (`<run folder>/checkpoint`, Parsl's `checkpoint_files`).
        case folders([String])
    }

    /// Whether apps with ``AppOptions/cache`` are looked up at all (Parsl's `memoize`/`app_cache`);
    /// `false` turns caching off for every app.
    public var memoize: Bool
    /// When this run's results are written; `nil`: never (the cache lives for this run only).
    public var mode: Mode?
    /// Which earlier results to load; `nil`: ``Source/allEarlierRuns`` when a ``mode`` is set,
    /// none otherwise (Parsl's rule).
    public var source: Source?

    /// Caching on, nothing written, nothing loaded: Parsl's defaults.
    public init(memoize: Bool = true, mode: Mode? = nil, source: Source? = nil) {
        self.memoize = memoize
        self.mode = mode
        self.source = source
    }

    /// The folders to load, given the run directory and this run's folder.
    func foldersToLoad(runDirectory: String, runFolder: String) -> [String] {
        switch source ?? (mode == nil ? .folders([]) : .allEarlierRuns) {
        case .folders(let folders): return folders
        case .allEarlierRuns:
            return CheckpointStore.checkpointFolders(in: runDirectory).filter { !$0.hasPrefix(runFolder + "/") }
        }
    }
}

/// How an app's calls are cached (``AppOptions/cache``).
public enum CachePolicy: Sendable, Equatable {
    /// By the app's name and its argument values (Parsl's `cache=True`).
    case arguments
    /// By the app's name, its argument values and its code: for a Python or bash app made from a
    /// Python function, Sprig's fingerprint of its bytecode (`cache="code"`); for a Swift app,
    /// `version`, which the program changes when it changes the closure.
    case code(version: String = "")
}
