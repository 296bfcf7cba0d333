import PythonBridge

extension ScriptEngine {
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
        case let error as JoinError:
            put("task_id", error.taskID.rawValue)
            put("app", error.app)
            switch error.reason {
            case .innerFailed(let failures):
                put("kind", "join")
                put("failures", failures.map { failure($0) })
            case .notAFuture(let detail):  // Parsl's TypeError
                put("kind", "python")
                put("type", "TypeError")
                put("exc_message", detail)
                put("traceback", "")
                put("exception", (try? Python.evaluate("TypeError").call(detail)) ?? PythonObject.none)
            }
        default:
            put("kind", "swift")
        }
        return (try? PythonObject.dict(fields.map { (try $0.0.toPython(), $0.1) })) ?? .none
    }
}
