import Foundation
import Sprig
import Synchronization

/// The engine as Python scripts see it: the `_sprig_engine` module, whose functions load configs,
/// submit apps and complete the scripts' futures. `python/sprig/api.py` wraps it.
///
/// Threading: the module's functions run on the script's thread, holding the GIL; waits release
/// it. Futures are completed from whichever thread ends their task, holding the GIL.
final class ScriptEngine: Sendable {
    private struct State {
        var kernel: DataFlowKernel?
        /// Set by `sprig run --config`: a script's own `load()` is then ignored.
        var forcedConfig: String?
        /// Tasks whose Python futures may still be passed to apps. Succeeded tasks leave once their
        /// future holds the value; failed ones stay, so that a dependent can name them.
        var tasks: [Int: TaskCore] = [:]
        var policies: [Int: (KeywordPolicy, PythonObject)] = [:]
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
    }

    private let state = Mutex(State())
    let started = ContinuousClock.now

    /// Registers `_sprig_engine` in the interpreter.
    func install() throws {
        try Python.registerModule("_sprig_engine", functions: [
            "load": { [self] arguments, _ in
                try load(spec: arguments.first ?? .none, forced: nil)
                return .none
            },
            "loaded": { [self] _, _ in try state.withLock { $0.kernel != nil }.toPython() },
            "submit": { [self] arguments, _ in
                guard arguments.count == 7 else { throw PythonException("TypeError", "submit takes 7 arguments") }
                return try submit(kind: String(python: arguments[0]), function: arguments[1], arguments: arguments[2],
                                  keywords: arguments[3], executors: arguments[4], future: arguments[5],
                                  app: String(python: arguments[6])).toPython()
            },
            "wait_for_current_tasks": { [self] _, _ in
                let kernel = state.withLock { $0.kernel }
                withoutGIL { kernel?.waitForCurrentTasks() }
                return .none
            },
            "cleanup": { [self] _, _ in
                withoutGIL { cleanup() }
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
                let runDirectory = state.withLock { $0.kernel?.config.runDirectory } ?? "runinfo"
                return try Redirect.automaticPath(task: TaskID(try Int(python: arguments[0])), app: String(python: arguments[1]),
                                                  label: arguments[2].isNone ? nil : try String(python: arguments[2]),
                                                  runDirectory: runDirectory, stream: String(python: arguments[3])).toPython()
            },
            "task_counts": { [self] _, _ in
                let counts = self.counts
                return try ["pending": counts.pending, "queued": counts.queued, "running": counts.running, "done": counts.done, "failed": counts.failed].toPython()
            },
        ])
    }

    var counts: TaskCounts { state.withLock { $0.kernel }?.taskCounts ?? TaskCounts() }
    private let finishedCounts = Mutex(TaskCounts())

    /// Counts over every kernel this run has had.
    var totalCounts: TaskCounts {
        let current = counts
        let earlier = finishedCounts.withLock { $0 }
        return TaskCounts(pending: current.pending, queued: current.queued, running: current.running,
                          done: current.done + earlier.done, failed: current.failed + earlier.failed)
    }

    /// Waits for every task and stops the kernel; a later `load()` starts a new one.
    func cleanup() {
        // First wait with the config still loaded: running join apps may still call apps (and
        // their settlements find their kernel), as in Parsl, whose cleanup waits the same way.
        state.withLock { $0.kernel }?.waitForCurrentTasks()
        let kernel = state.withLock { state -> DataFlowKernel? in
            defer { state.kernel = nil; state.tasks = [:]; state.forcedConfig = nil }
            return state.kernel
        }
        guard let kernel else { return }
        kernel.shutdown()
        let counts = kernel.taskCounts
        finishedCounts.withLock { $0.done += counts.done; $0.failed += counts.failed }
    }

    // MARK: Configs

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
        let (config, internalThreads) = try Self.config(from: spec)
        let kernel = try DataFlowKernel(config: config)
        state.withLock {
            $0.kernel = kernel
            $0.forcedConfig = forced
            $0.internalThreads = internalThreads
            $0.userLabels = config.executors.map(\.label).filter { $0 != "_sprig_internal" }
        }
    }

    /// The config a spec describes, plus the label of a thread executor for join apps (added when
    /// the spec has none, as Parsl adds its internal one).
    private static func config(from spec: PythonObject) throws -> (Config, String) {
        let fields = try [String: PythonObject](python: spec)
        func number(_ object: PythonObject?, _ fallback: Double) throws -> Double {
            guard let object, !object.isNone else { return fallback }
            return try Double(python: object)
        }
        var executors: [any Executor] = []
        for entry in try [PythonObject](python: fields["executors"] ?? PythonObject.from([PythonObject]())) {
            let executor = try [String: PythonObject](python: entry)
            let kind = try String(python: executor["kind"] ?? PythonObject.from("?"))
            let label = try String(python: executor["label"] ?? PythonObject.from(kind))
            switch kind {
            case "threads":
                executors.append(ThreadPoolExecutor(label: label, maxThreads: Int(try number(executor["max_threads"], 2))))
            case "htex":
                executors.append(HighThroughputExecutor(
                    label: label,
                    maxWorkers: executor["max_workers"].flatMap { $0.isNone ? nil : try? Int(python: $0) } ?? .max,
                    coresPerWorker: try number(executor["cores_per_worker"], 1),
                    workerDebug: (try? Bool(python: executor["worker_debug"] ?? .none)) ?? false,
                    provider: try provider(from: executor["provider"]),
                    heartbeatPeriod: .milliseconds(Int64(try number(executor["heartbeat_period"],
                                                                    HighThroughputExecutor.defaultHeartbeatPeriod.seconds) * 1000)),
                    heartbeatThreshold: .milliseconds(Int64(try number(executor["heartbeat_threshold"],
                                                                       HighThroughputExecutor.defaultHeartbeatThreshold.seconds) * 1000)),
                    prefetch: Int(try number(executor["prefetch"], Double(HighThroughputExecutor.defaultPrefetch))),
                    workerLogDirectory: executor["worker_logdir_root"].flatMap { $0.isNone ? nil : try? String(python: $0) }))
            default:
                throw PythonException("ValueError", "unknown executor kind \(kind.debugDescription) in the config")
            }
        }
        var internalThreads = executors.first { $0 is ThreadPoolExecutor }?.label
        if internalThreads == nil {
            executors.append(ThreadPoolExecutor(label: "_sprig_internal", maxThreads: 4))
            internalThreads = "_sprig_internal"
        }
        let strategyName = (try? String(python: fields["strategy"] ?? .none)) ?? "simple"
        let strategy: Strategy = strategyName == "none" ? .none
            : .simple(idleTime: .milliseconds(Int64(try number(fields["max_idletime"], 120) * 1000)))
        let config = Config(executors: executors,
                            retries: Int(try number(fields["retries"], 0)),
                            runDirectory: (try? String(python: fields["run_dir"] ?? .none)) ?? "runinfo",
                            strategy: strategy,
                            retryHandler: try retryHandler(from: fields["retry_handler"]))
        var withAutopath = config
        if let flag = fields["std_autopath"], (try? Bool(python: flag)) == true {
            withAutopath.stdAutopath = { task, app, stream in
                try withGIL {
                    let target = try Python.importModule("sprig.api").attribute("_autopath")
                        .call([try task.rawValue.toPython(), try app.toPython(), try stream.toPython()])
                    do {
                        guard let redirect = try Redirect.parse(target.isNone ? .none : .python(target), stream: stream) else {
                            throw PythonException("TypeError", "std_autopath returned None for \(stream)")
                        }
                        return redirect
                    } catch let rejection as CallRejection {
                        throw PythonException("TypeError", "std_autopath gave a bad \(stream) target: \(rejection.reason)")
                    }
                }
            }
        }
        return (withAutopath, internalThreads!)
    }

    /// A script's `retry_handler(exception, task_record) -> float`, called with the exception the
    /// script would see and a task record (`id`, `func_name`, `fail_count`, `fail_cost`, ...).
    private static func retryHandler(from object: PythonObject?) throws -> (@Sendable (any Error, RetryContext) throws -> Double)? {
        guard let handler = object, !handler.isNone else { return nil }
        guard handler.isCallable else { throw PythonException("TypeError", "retry_handler must be a function") }
        return { error, task in
            try withGIL {
                let exception = try Python.importModule("sprig.errors").attribute("exception_from_failure").call([failure(error)])
                let fields: [(String, any PythonConvertible)] = [
                    ("id", task.taskID.rawValue), ("func_name", task.app), ("app_name", task.app),
                    ("fail_count", task.failCount), ("fail_cost", task.failCost), ("try_id", task.failCount - 1),
                ]
                let record = try PythonObject.dict(fields.map { (try $0.0.toPython(), try $0.1.toPython()) })
                return try Double(python: handler.call([exception, record]))
            }
        }
    }

    private static func provider(from object: PythonObject?) throws -> any ExecutionProvider {
        guard let object, !object.isNone else { return LocalProvider() }
        let fields = try [String: PythonObject](python: object)
        let kind = (try? String(python: fields["kind"] ?? .none)) ?? "local"
        func int(_ key: String, _ fallback: Int) -> Int { fields[key].flatMap { try? Int(python: $0) } ?? fallback }
        let workerInit = fields["worker_init"].flatMap { try? String(python: $0) } ?? ""
        switch kind {
        case "local":
            return LocalProvider(initBlocks: int("init_blocks", 1), minBlocks: int("min_blocks", 0), maxBlocks: int("max_blocks", 1),
                                 workerInit: workerInit)
        case "adhoc":
            let channels = try [PythonObject](python: fields["channels"] ?? PythonObject.from([PythonObject]())).map(channel(from:))
            return AdHocProvider(channels: channels, workerInit: workerInit,
                                 coresPerHost: fields["cores_per_host"].flatMap { $0.isNone ? nil : try? Int(python: $0) })
        default:
            throw PythonException("ValueError", "provider kind \(kind.debugDescription) is not supported")
        }
    }

    private static func channel(from object: PythonObject) throws -> any Channel {
        let fields = try [String: PythonObject](python: object)
        func text(_ key: String) -> String? { fields[key].flatMap { $0.isNone ? nil : try? String(python: $0) } }
        guard text("kind") == "ssh", let hostname = text("hostname") else { return LocalChannel(scriptDir: text("script_dir")) }
        return SSHChannel(hostname: hostname, username: text("username"),
                          port: fields["port"].flatMap { $0.isNone ? nil : try? Int(python: $0) },
                          scriptDir: text("script_dir"), keyFilename: text("key_filename"),
                          hostKeysFilename: text("host_keys_filename"), configFile: text("config_file"),
                          extraOptions: fields["ssh_options"].flatMap { try? [String](python: $0) } ?? [],
                          python: text("python") ?? "python3",
                          multiplex: fields["multiplex"].flatMap { try? Bool(python: $0) } ?? true)
    }

    // MARK: Submitting

    private func submit(kind: String, function: PythonObject, arguments: PythonObject, keywords: PythonObject,
                        executors: PythonObject, future: PythonObject, app: String) throws -> Int {
        guard let (kernel, internalThreads, userLabels) = state.withLock({ state in
            state.kernel.map { ($0, state.internalThreads ?? "", state.userLabels) }
        }) else {
            throw PythonException("RuntimeError", "no config is loaded: call parsl.load(config) first, or run with sprig run --config threads")
        }
        let named = executors.isNone ? [] : try [String](python: executors)
        let labels = named.isEmpty || named == ["all"] ? userLabels : named
        let options: DataFlowKernel.ResolvedOptions
        do {
            options = try kernel.resolve(AppOptions(executors: kind == "join" || kind == "lift" ? [internalThreads] : labels), app: app)
        } catch {
            throw PythonException("ValueError", error.message)
        }
        let policy = try keywordPolicy(for: function)
        let positional: [any AppArgument] = try arguments.items().map { try value(of: $0) }
        let keywordArguments: [(String, any AppArgument)] = try [String: PythonObject](python: keywords).map { ($0.key, try value(of: $0.value)) }
        let core: TaskCore
        switch kind {
        case "python", "bash", "lift":  // lift: a lifted future's item or attribute, read on an internal thread
            core = kernel.submitPython(function, options: options, keywordPolicy: policy, arguments: positional,
                                       keywords: keywordArguments, bash: kind == "bash")
        case "join":
            core = submitJoin(kernel, function: function, options: options, policy: policy, arguments: positional, keywords: keywordArguments, app: app)
        default:
            throw PythonException("ValueError", "unknown app kind \(kind.debugDescription)")
        }
        let id = core.id.rawValue
        state.withLock { $0.tasks[id] = core }
        try future.setAttribute("_sprig_tid", id)
        core.onComplete { [self] outcome in complete(future, id: id, with: outcome) }
        return id
    }

    /// Runs the join function on a thread executor; its future ends when the futures it returned
    /// end, however far along they already are (`sprig.apps.watch_futures` watches them).
    private func submitJoin(_ kernel: DataFlowKernel, function: PythonObject, options: DataFlowKernel.ResolvedOptions,
                            policy: KeywordPolicy, arguments: [any AppArgument], keywords: [(String, any AppArgument)], app: String) -> TaskCore {
        let inner = kernel.submitPython(function, options: options, keywordPolicy: policy, arguments: arguments, keywords: keywords, bash: false)
        let outer = kernel.makeExternalTask(app: app)
        state.withLock { $0.external[outer.id.rawValue] = (outer, .join, kernel) }
        inner.onComplete { [self] outcome in
            switch outcome {
            case .failure(let error):
                finishExternal(outer.id.rawValue, .failure(error))
            case .success(let result):
                do {
                    guard case .python(let returned) = result as? Value else {
                        throw PythonException("TypeError", "a join app must return a future or a list of futures")
                    }
                    try withGIL {
                        let helpers = try self.helpers()
                        _ = try helpers.watchFutures.call([returned, helpers.settle, try outer.id.rawValue.toPython()])
                    }
                } catch {
                    let reason: TaskError.Reason = (error as? PythonError).map(TaskError.Reason.python) ?? .conversion("\(error)")
                    finishExternal(outer.id.rawValue, .failure(TaskError(taskID: outer.id, app: app, reason: reason)))
                }
            }
        }
        return outer
    }

    /// Ends an external task from Python: a join app's futures ended (`payload`: the value, or the
    /// `(exception, future)` pairs of those that failed), or a plain future did (its result or exception).
    private func settle(id: Int, ok: Bool, payload: PythonObject) throws {
        guard let (core, kind, _) = state.withLock({ $0.external[id] }) else { return }
        if ok {
            finishExternal(id, .success(Value.python(payload)))
            return
        }
        switch kind {
        case .plainFuture:
            finishExternal(id, .failure(PythonObjectFailure(exception: payload, taskID: nil, app: core.appName)))
        case .join:
            let failures = try payload.items().map { pair -> any Error in
                let future = try pair[1]
                let tid = future.hasAttribute("_sprig_tid") ? try? Int(python: future.attribute("_sprig_tid")) : nil
                return PythonObjectFailure(exception: try pair[0], taskID: tid, app: future.hasAttribute("app_name")
                                           ? (try? String(python: future.attribute("app_name"))) ?? "?" : "?")
            }
            finishExternal(id, .failure(JoinFailure(taskID: core.id, app: core.appName, failures: failures)))
        }
    }

    private func finishExternal(_ id: Int, _ outcome: Outcome) {
        guard let (core, _, kernel) = state.withLock({ $0.external.removeValue(forKey: id) }) else { return }
        kernel.completeExternal(core, outcome)
    }

    /// The Python objects the engine calls, imported once (inside a GIL scope).
    private func helpers() throws -> Helpers {
        if let helpers = state.withLock({ $0.helpers }) { return helpers }
        let apps = try Python.importModule("sprig.apps")

        let helpers = Helpers(futureClass: try Python.importModule("concurrent.futures").attribute("Future"),
                              setClasses: try Python.evaluate("(set, frozenset)"),
                              list: try Python.evaluate("list"),
                              settle: try Python.importModule("_sprig_engine").attribute("settle"),
                              watchFutures: try apps.attribute("watch_futures"),
                              watchFuture: try apps.attribute("watch_future"))
        state.withLock { $0.helpers = helpers }
        return helpers
    }

    /// Which of Parsl's special keywords a function takes, worked out once per function.
    private func keywordPolicy(for function: PythonObject) throws -> KeywordPolicy {
        if let cached = state.withLock({ $0.policies[function.identity] }), cached.1.isIdentical(to: function) { return cached.0 }
        let policy = try KeywordPolicy(function: function)
        state.withLock { $0.policies[function.identity] = (policy, function) }
        return policy
    }

    /// A script's argument in the engine's form: its futures (anywhere in lists, tuples and dict
    /// values) become dependencies, `sprig.File`s become files, everything else stays the Python object.
    private func value(of object: PythonObject) throws -> Value {
        if object.hasAttribute("_sprig_tid") { return try futureValue(object) }
        switch object.containerKind {
        case .list?: return .list(try object.items().map(value(of:)))
        case .tuple?: return .tuple(try object.items().map(value(of:)))
        case .dict?:
            return .dict(try object.items().map { pair in (try value(of: pair[0]), try value(of: pair[1])) })
        case nil:
            if object.typeName == "sprig.files.File" { return .file(File(try String(python: object.attribute("filepath")))) }
            if object.isInstance(of: try helpers().setClasses) {
                // Kept a set (or frozenset: its items are hashable) unless a future is inside.
                let items = try helpers().list.call([object]).items().map(value(of:))
                return items.contains(where: \.containsFuture) ? .set(items) : .python(object)
            }
            if object.isInstance(of: try helpers().futureClass) { return try plainFutureValue(object) }
            return .python(object)
        }
    }

    /// A `concurrent.futures.Future` that is not an app's: a dependency all the same, through a task
    /// that ends when the future does.
    private func plainFutureValue(_ object: PythonObject) throws -> Value {
        guard let kernel = state.withLock({ $0.kernel }) else { return .python(object) }
        let core = kernel.makeExternalTask(app: "concurrent.futures.Future")
        state.withLock { $0.external[core.id.rawValue] = (core, .plainFuture, kernel) }
        let helpers = try helpers()
        _ = try helpers.watchFuture.call([object, helpers.settle, try core.id.rawValue.toPython()])
        return .future(AppFuture<Value>.dynamic(core: core))
    }

    private func futureValue(_ object: PythonObject) throws -> Value {
        let id = try Int(python: object.attribute("_sprig_tid"))
        let file = object.hasAttribute("_sprig_file") ? File(try String(python: object.attribute("_sprig_file").attribute("filepath"))) : nil
        if let core = state.withLock({ $0.tasks[id] }) {
            return .future(file.map { DataFuture(core: core, file: $0) as any TaskFuture } ?? AppFuture<Value>.dynamic(core: core))
        }
        // Not tracked any more: it succeeded, and its Python future holds the value.
        if let file { return .file(file) }
        return .python(try object.callMethod("result", 0))
    }

    // MARK: Completing futures

    private func complete(_ future: PythonObject, id: Int, with outcome: Outcome) {
        withGIL {
            do {
                switch outcome {
                case .success(let value):
                    let object: PythonObject
                    if let dynamic = value as? Value { object = try dynamic.toPython() }
                    else if let convertible = value as? any PythonConvertible { object = try convertible.toPython() }
                    else { object = try Value(swiftValue: value, from: TaskID(id)).toPython() }
                    _ = try future.callMethod("_sprig_set_result", object)
                case .failure(let error):
                    _ = try future.callMethod("_sprig_set_failure", Self.failure(error))
                }
            } catch {
                let reason = TaskError(taskID: TaskID(id), app: "?", reason: .conversion("its result could not be handed to Python: \(error)"))
                _ = try? future.callMethod("_sprig_set_failure", Self.failure(reason))
            }
            if case .success = outcome { state.withLock { $0.tasks[id] = nil } }
        }
    }

    /// The failure dict `sprig.futures` turns into Parsl-shaped exceptions.
    static func failure(_ error: any Error) -> PythonObject {
        var fields: [(String, PythonObject)] = []
        func put(_ key: String, _ value: any PythonConvertible) {
            if let object = try? value.toPython() { fields.append((key, object)) }
        }
        put("message", "\(error)")
        switch error {
        case let error as TaskError:
            put("task_id", error.taskID.rawValue)
            put("app", error.app)
            switch error.reason {
            case .python(let python):
                put("kind", "python")
                put("type", python.typeName)
                put("exc_message", python.message)
                put("traceback", python.traceback)
                put("exception", PythonObject.none)
                put("pickled_exception", python.pickledException.flatMap { try? PythonObject.from($0) } ?? PythonObject.none)
            case .bashExit(let code): put("kind", "bash_exit"); put("exit_code", Int(code))
            case .timeout(let walltime): put("kind", "timeout"); put("walltime", walltime.seconds)
            case .badStdStream(let path, _): put("kind", "bad_std_stream"); put("path", path)
            case .badStdStreamSpec: put("kind", "bad_std_spec")
            case .missingOutputs(let files): put("kind", "missing_outputs"); put("missing", files.map(\.path))
            case .badCommand: put("kind", "bad_command")
            case .conversion: put("kind", "conversion")
            case .swift: put("kind", "swift")
            case .executor: put("kind", "executor")
            case .kernelShutDown: put("kind", "shutdown")
            case .cancelled: put("kind", "cancelled")
            case .workerLost: put("kind", "worker_lost")
            case .managerLost: put("kind", "manager_lost")
            case .serialization: put("kind", "serialization")
            }
        case let error as DependencyError:
            put("kind", "dependency")
            put("task_id", error.taskID.rawValue)
            put("app", error.app)
            put("failed", error.failedDependencies.map(\.rawValue))
            put("root", failure(error.rootCause))
        case let error as PythonObjectFailure:
            put("kind", "python")
            if let taskID = error.taskID { put("task_id", taskID) }
            put("app", error.app)
            put("exception", error.exception)
            put("type", error.exception.typeName)
        case let error as JoinFailure:
            put("kind", "join")
            put("task_id", error.taskID.rawValue)
            put("app", error.app)
            put("failures", error.failures.map { failure($0) })
        default:
            put("kind", "swift")
        }
        return (try? PythonObject.dict(fields.map { (try $0.0.toPython(), $0.1) })) ?? .none
    }
}

/// A failure that Python code handed the engine as an exception object (a join app's future, a
/// plain `concurrent.futures.Future`): scripts get that same object back.
struct PythonObjectFailure: Error, CustomStringConvertible, @unchecked Sendable {  // the object is only touched holding the GIL
    let exception: PythonObject
    let taskID: Int?
    let app: String
    var description: String {
        let text = withGIL { "\(exception.typeName): \(exception)" }
        return taskID.map { "task \($0) (app \(app)) raised \(text)" } ?? "a future failed with \(text)"
    }
}

/// A join app's inner futures failed.
struct JoinFailure: Error, CustomStringConvertible {
    let taskID: TaskID
    let app: String
    let failures: [any Error]
    var description: String {
        "task \(taskID) (join app \(app)): \(failures.count) inner task(s) failed: " + failures.map { "\($0)" }.joined(separator: "; ")
    }
}
