import Foundation
import PythonBridge
import Synchronization

/// The engine as Python scripts see it: the `_sprig_engine` module, whose functions load configs,
/// submit apps and complete the scripts' futures. `python/sprig/api.py` wraps it; ``ScriptRunner``
/// installs it and runs a script.
///
/// One engine serves one interpreter: install it once. A script may load a config, clean it up and
/// load another; each load starts a new ``DataFlowKernel``.
///
/// Threading: the module's functions run on the script's thread, holding the GIL; waits release
/// it. Futures are completed in the order their tasks ended, holding the GIL, by one thread at a
/// time (``CompletionQueue``): the kernel's callback thread, or a script thread that waited for a
/// result (`_sprig_engine.wait`, from `future.result()`). The Swift members may be called from
/// any thread, without the GIL.
public final class ScriptEngine: Sendable {
    struct State {
        var kernel: DataFlowKernel?
        /// Set by ``load(_:)`` (`sprig run --config`): a script's own `load()` is then ignored.
        var forcedConfig: String?
        /// Tasks whose Python futures may still be passed to apps. Succeeded tasks leave once their
        /// future holds the value; failed ones stay while their Python future lives, so that a
        /// dependent can name them (a finalizer on the future calls `forget`).
        var tasks: [Int: TaskCore] = [:]
        /// The futures not yet completed, by task id: who completes each (``ScriptCompletion``).
        var completions: [Int: ScriptCompletion] = [:]
        /// Counts loads: a finalizer of an earlier kernel's future must not forget a task of this one.
        var generation = 0
        var policies: [Int: (KeywordPolicy, PythonObject)] = [:]
        /// The label of the thread executor that runs join apps and lifted items.
        var internalThreads: String?
        /// The config's own executors: apps that name none run on these (never on an added internal one).
        var userLabels: [String] = []
        /// Tasks no executor runs, ended by `settle` from Python: join apps' outer tasks (ended when
        /// the futures their function returned end) and plain `concurrent.futures.Future`s passed
        /// as arguments (ended when they end).
        /// Each keeps its kernel: a settlement may come while `cleanup()` waits for it, after
        /// the kernel has left `kernel`.
        var external: [Int: (core: TaskCore, kind: ExternalKind, kernel: DataFlowKernel)] = [:]
        /// `concurrent.futures.Future`, the settle function and the watch helpers, once imported.
        var helpers: Helpers?
    }

    enum ExternalKind { case join, plainFuture }

    struct Helpers: @unchecked Sendable {  // Python objects, used only inside GIL scopes
        let futureClass: PythonObject
        /// `(set, frozenset)`, and `list` to read their items.
        let setClasses: PythonObject
        let list: PythonObject
        let settle: PythonObject
        let watchFutures: PythonObject
        let watchFuture: PythonObject
        let forgetWhenCollected: PythonObject
    }

    let state = Mutex(State())
    /// Futures whose tasks have ended, to complete in that order.
    let readyCompletions = CompletionQueue()
    /// The futures script threads wait for in the engine now (``waitForTask(_:future:timeout:)``).
    let waiting = Mutex<[ScriptCompletion]>([])
    /// `set_file_logger` and `set_stream_logger` targets: each loaded kernel's lines go there too.
    let logTargets = ScriptLogTargets()
    private let finishedCounts = Mutex(TaskCounts())

    /// An engine with no config loaded; ``install()`` makes it visible to Python.
    public init() {}

    /// Registers the `_sprig_engine` module in the interpreter (start it first, with
    /// `Python.start()`). Scripts reach it through `sprig`'s (and Parsl's) import names.
    /// - Throws: ``PythonBridge/PythonError`` when the module cannot be registered.
    public func install() throws {
        _ = try Python.registerModule("_sprig_engine", functions: [
            "load": { [self] arguments, _ in
                try load(spec: arguments.first ?? .none, forced: nil)
                return .none
            },
            "loaded": { [self] _, _ in try state.withLock { $0.kernel != nil }.toPython() },
            "submit": { [self] arguments, _ in
                guard arguments.count == 7 || arguments.count == 8 else { throw PythonException("TypeError", "submit takes 7 or 8 arguments") }
                return try submit(kind: String(python: arguments[0]), function: arguments[1], arguments: arguments[2],
                                  keywords: arguments[3], executors: arguments[4], future: arguments[5],
                                  app: String(python: arguments[6]), cache: arguments.count == 8 ? arguments[7] : .none).toPython()
            },
            "wait": { [self] arguments, _ in
                guard arguments.count == 3 else { throw PythonException("TypeError", "wait takes a task id, its future and a timeout") }
                let timeout = arguments[2].isNone ? nil : try Double(python: arguments[2])
                return try waitForTask(Int(python: arguments[0]), future: arguments[1], timeout: timeout).map { try $0.toPython() } ?? .none
            },
            "checkpoint": { [self] _, _ in
                let kernel = state.withLock { $0.kernel }
                withoutGIL { kernel?.checkpoint() }
                return .none
            },
            "wait_for_current_tasks": { [self] _, _ in
                let kernel = state.withLock { $0.kernel }
                withoutGIL { kernel?.waitForCurrentTasks() }
                return .none
            },
            "cleanup": { [self] arguments, _ in
                let wait = try arguments.first.map { try Bool(python: $0) } ?? true
                withoutGIL { cleanup(waitingForTasks: wait) }
                return .none
            },
            "settle": { [self] arguments, _ in
                guard arguments.count == 3 else { throw PythonException("TypeError", "settle takes 3 arguments") }
                try settle(id: Int(python: arguments[0]), ok: Bool(python: arguments[1]), payload: arguments[2])
                return .none
            },
            "cancel": { [self] arguments, _ in
                guard let first = arguments.first else { throw PythonException("TypeError", "cancel takes a task id") }
                let id = try Int(python: first)
                guard let (kernel, core) = state.withLock({ state in state.kernel.flatMap { k in state.tasks[id].map { (k, $0) } } }) else {
                    return try false.toPython()
                }
                return try withoutGIL { kernel.cancel(core) }.toPython()
            },
            "auto_logname": { [self] arguments, _ in
                guard arguments.count == 4 else { throw PythonException("TypeError", "auto_logname takes 4 arguments") }
                let runDirectory = state.withLock { $0.kernel?.runFolder } ?? Config.defaultRunDirectory
                return try Redirect.automaticPath(task: TaskID(try Int(python: arguments[0])), app: String(python: arguments[1]),
                                                  label: arguments[2].isNone ? nil : try String(python: arguments[2]),
                                                  runDirectory: runDirectory, stream: String(python: arguments[3])).toPython()
            },
            "executor_status": { [self] arguments, _ in
                guard let first = arguments.first else { throw PythonException("TypeError", "executor_status takes a label") }
                let label = try String(python: first)
                guard let status = state.withLock({ $0.kernel })?.executorStatus(label) else { return .none }
                return try ScriptExecutorStatus.dictionary(status)
            },
            "scale": { [self] arguments, _ in
                guard arguments.count == 3 else { throw PythonException("TypeError", "scale takes a label, 'in' or 'out', and a count") }
                let (label, direction, count) = (try String(python: arguments[0]), try String(python: arguments[1]), try Int(python: arguments[2]))
                guard let kernel = state.withLock({ $0.kernel }) else { return try [Int]().toPython() }
                let numbers = withoutGIL { direction == "in" ? kernel.scaleIn(label, blocks: count) : kernel.scaleOut(label, blocks: count) }
                return try numbers.toPython()
            },
            "forget": { [self] arguments, _ in
                guard arguments.count == 2 else { throw PythonException("TypeError", "forget takes a task id and a generation") }
                let (id, generation) = (try Int(python: arguments[0]), try Int(python: arguments[1]))
                state.withLock { if $0.generation == generation { $0.tasks[id] = nil } }
                return .none
            },
            "tracked_tasks": { [self] _, _ in try state.withLock { $0.tasks.keys.sorted() }.toPython() },
            "add_log_file": { [self] arguments, _ in
                guard arguments.count == 2 else { throw PythonException("TypeError", "add_log_file takes a path and a level") }
                let path = try String(python: arguments[0])
                let file: LogFile
                do { file = try LogFile(path: path) } catch { throw PythonException("OSError", "\(error)") }
                return try logTargets.add(file, level: ScriptLogTargets.level(python: Int(python: arguments[1]))).toPython()
            },
            "add_log_stream": { [self] arguments, _ in
                guard arguments.count == 2 else { throw PythonException("TypeError", "add_log_stream takes a descriptor and a level") }
                let descriptor = try Int32(Int(python: arguments[0]))
                return try logTargets.add(LogFile(descriptor: descriptor, name: "fd \(descriptor)"),
                                          level: ScriptLogTargets.level(python: Int(python: arguments[1]))).toPython()
            },
            "add_executors": { [self] arguments, _ in
                guard let first = arguments.first else { throw PythonException("TypeError", "add_executors takes a list of executor specs") }
                let specs: [ExecutorSpec]
                do { specs = try ConfigSpec.readExecutors(first) } catch let error as ConfigError { throw PythonException("ValueError", error.message) }
                guard let kernel = state.withLock({ $0.kernel }) else {
                    throw PythonException("RuntimeError", "no config is loaded: call parsl.load(config) before add_executors")
                }
                do {
                    try kernel.addExecutors(specs.map { $0.makeDescription() })
                } catch let error as ConfigError {
                    throw PythonException("ValueError", error.message)
                }
                state.withLock { $0.userLabels += specs.map(\.label) }
                return .none
            },
            "add_log_python": { [self] arguments, _ in
                guard arguments.count == 2 else { throw PythonException("TypeError", "add_log_python takes a callable and a level") }
                return try logTargets.add(python: arguments[0], level: ScriptLogTargets.level(python: Int(python: arguments[1]))).toPython()
            },
            "remove_log_target": { [self] arguments, _ in
                guard let first = arguments.first else { throw PythonException("TypeError", "remove_log_target takes an id") }
                logTargets.remove(try Int(python: first))
                return .none
            },
            "run_dir": { [self] _, _ in
                guard let folder = state.withLock({ $0.kernel?.runFolder }) else { return .none }
                return try folder.toPython()
            },
            "run_id": { [self] _, _ in
                guard let runID = state.withLock({ $0.kernel?.runID }) else { return .none }
                return try runID.toPython()
            },
            "task_counts": { [self] _, _ in
                let counts = currentCounts
                return try ["pending": counts.pending, "queued": counts.queued, "running": counts.running, "done": counts.done, "failed": counts.failed].toPython()
            },
        ])
    }

    /// What blocks of the loaded kernel wait on before they connect (pending batch jobs), one line each.
    public var blocksWaiting: [String] {
        guard let kernel = state.withLock({ $0.kernel }) else { return [] }
        return kernel.executorLabels.compactMap { kernel.executorStatus($0) }.flatMap { status in
            status.blocks.compactMap { block in block.waitingFor.map { "\(status.label) block \(block.number): \($0)" } }
        }
    }

    /// The loaded kernel's counts (what a script's `task_counts()` reports).
    private var currentCounts: TaskCounts { state.withLock { $0.kernel }?.taskCounts ?? TaskCounts() }

    /// Tasks by state over every kernel this engine has had: ended tasks of kernels already
    /// cleaned up count as done or failed.
    public var taskCounts: TaskCounts {
        let current = currentCounts
        let earlier = finishedCounts.withLock { $0 }
        return TaskCounts(pending: current.pending, queued: current.queued, running: current.running,
                          done: current.done + earlier.done, failed: current.failed + earlier.failed)
    }

    /// Waits for every task and stops the kernel; a later load starts a new one. Does nothing
    /// when no config is loaded. Blocks: call it without the GIL. With `waitingForTasks: false`
    /// (a script leaving `with parsl.load(…)` on an exception), tasks still waiting for
    /// dependencies are left unfinished (``DataFlowKernel/shutdown(waitingForTasks:)``).
    public func cleanup(waitingForTasks: Bool = true) {
        // First wait with the config still loaded: running join apps may still call apps (and
        // their settlements find their kernel).
        if waitingForTasks { state.withLock { $0.kernel }?.waitForCurrentTasks() }
        let (kernel, unfinished) = state.withLock { state -> (DataFlowKernel?, [Int: ScriptCompletion]) in
            defer { state.kernel = nil; state.tasks = [:]; state.completions = [:]; state.forcedConfig = nil }
            return (state.kernel, state.completions)
        }
        _ = consume unfinished  // (their futures are Python objects: released here, not under the lock)
        guard let kernel else { return }
        kernel.shutdown(waitingForTasks: waitingForTasks)
        let counts = kernel.taskCounts
        finishedCounts.withLock { $0.done += counts.done; $0.failed += counts.failed }
    }

    // MARK: Configs

    /// Loads one of the ready configs (`sprig run --config`); the scripts' own `load()` calls are
    /// then ignored, with a note on standard error, until ``cleanup()``.
    /// - Throws: ``PythonBridge/PythonError`` when the Python side cannot make it; ``ConfigError``
    ///   or ``ExecutorError`` when the kernel cannot start.
    public func load(_ config: ReadyConfig) throws {
        let spec = try withGIL { try Python.importModule("sprig.config").attribute(config.pythonFunction).call().callMethod("to_spec") }
        try load(spec: spec, forced: config.rawValue)
    }

    /// Loads `spec` (a config dict from `sprig.config`); with `forced`, remembers that this config
    /// came from `--config NAME` and that scripts' own configs are to be ignored.
    func load(spec: PythonObject, forced: String?) throws {
        let already = state.withLock { ($0.kernel != nil, $0.forcedConfig) }
        if already.0 {
            if let name = already.1 {
                FileHandle.standardError.write(Data("sprig: --config \(name) is in force; the script's own config is not loaded\n".utf8))
                return
            }
            throw PythonException("RuntimeError", "a config is already loaded; call clear() (or dfk().cleanup()) first")
        }
        let (config, internalThreads) = try ScriptConfig.config(from: spec)
        let kernel = try DataFlowKernel(config: config, logger: logTargets.logger())
        if config.executors.contains(where: { $0 is HighThroughputExecutor }), let info = Python.info,
           (try? withGIL({ try String(python: PythonSide.serializer("serializer_name").call()) })) != "cloudpickle" {
            // A script's user should hear this once, not find it in the log after the failures.
            FileHandle.standardError.write(Data("sprig: \(HighThroughputRuntime.noCloudpickleNote(executable: info.executable))\n".utf8))
        }
        state.withLock {
            $0.kernel = kernel
            $0.generation += 1
            $0.forcedConfig = forced
            $0.internalThreads = internalThreads
            $0.userLabels = config.executors.map(\.label).filter { $0 != ScriptConfig.internalLabel }
        }
    }
}

/// The ready configs `sprig run --config NAME` loads, as the Python side (`sprig.config`) defines them.
public enum ReadyConfig: String, CaseIterable, Sendable {
    /// Parsl's `local_threads`: one thread executor, 2 threads.
    case threads
    /// Parsl's `htex_local`: one process executor with one local block.
    case htex

    /// The `sprig.config` function that makes it.
    var pythonFunction: String {
        switch self {
        case .threads: "local_threads"
        case .htex: "htex_local"
        }
    }
}
