import PythonBridge

/// The config a script's spec (`sprig.config.Config.to_spec()`) describes.
enum ScriptConfig {
    /// The thread executor added for join apps when a config has none (Parsl adds its own the same way).
    static let internalLabel = "_sprig_internal"
    static let internalThreads = 4

    /// The config a spec describes, plus the label of the thread executor for join apps (added
    /// when the spec has none, as Parsl adds its internal one). Call holding the GIL.
    /// - Throws: `ValueError` or `TypeError` (as ``PythonBridge/PythonException``) naming what is wrong.
    static func config(from object: PythonObject) throws -> (Config, String) {
        let (spec, handler): (ConfigSpec, PythonObject?)
        do {
            (spec, handler) = try ConfigSpec.read(object)
        } catch let error as ConfigError {
            throw PythonException("ValueError", error.message)
        }
        return try config(from: spec, retryHandler: handler)
    }

    /// The config `spec` describes, with the script's retry handler (a Python callable).
    static func config(from spec: ConfigSpec, retryHandler handler: PythonObject?) throws -> (Config, String) {
        var executors = spec.executors.map { $0.makeDescription() }
        if spec.joinExecutor == internalLabel {
            executors.append(ThreadPoolExecutor(label: internalLabel, maxThreads: internalThreads))
        }
        let config = Config(executors: executors, retries: spec.retries, runDirectory: spec.runDirectory,
                            strategy: spec.strategy == .none ? .none : .simple(idleTime: .seconds(saturating: spec.maxIdleTime)),
                            retryHandler: try retryHandler(from: handler), monitoring: spec.monitoring?.options)
        var withAutopath = config
        withAutopath.checkpoints = spec.checkpoints.checkpoints
        withAutopath.writesRunLog = spec.runLog
        if spec.stdAutopath {
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
        return (withAutopath, spec.joinExecutor)
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
}
