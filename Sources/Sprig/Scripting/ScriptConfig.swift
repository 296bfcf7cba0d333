import PythonBridge

/// The config a script's spec (`sprig.config.Config.to_spec()`) describes.
enum ScriptConfig {
    /// The thread executor added for join apps when a config has none (Parsl adds its own the same way).
    static let internalLabel = "_sprig_internal"
    static let internalThreads = 4

    /// The config a spec describes, plus the label of a thread executor for join apps (added when
    /// the spec has none, as Parsl adds its internal one).
    static func config(from spec: PythonObject) throws -> (Config, String) {
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
            executors.append(ThreadPoolExecutor(label: internalLabel, maxThreads: Self.internalThreads))
            internalThreads = internalLabel
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
                let exception = try Python.importModule("sprig.errors").attribute("exception_from_failure").call([ScriptEngine.failure(error)])
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
}
