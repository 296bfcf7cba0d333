import Foundation
import PythonBridge

/// The failure dict a script's future fails with: `sprig.errors.exception_from_failure` turns it
/// into a Parsl-shaped exception. `docs/SCRIPTING-CONTRACT.md` is its spec; `contracts/failures/`
/// holds cases both sides check.
///
/// Every dict has `kind` and `message`; the other keys depend on the kind and are left out when
/// they do not apply.
struct ScriptFailure: Encodable {
    /// What failed, as `errors.py` tells its exception classes apart.
    enum Kind: String, Encodable, CaseIterable {
        case python, dependency, join, cancelled, timeout, conversion, swift, executor, serialization, shutdown
        case bashExit = "bash_exit", badStdStream = "bad_std_stream", badStdSpec = "bad_std_spec"
        case missingOutputs = "missing_outputs", badCommand = "bad_command"
        case workerLost = "worker_lost", managerLost = "manager_lost", badState = "bad_state"
    }

    var kind: Kind
    /// The Swift error's description: what the script's exception says.
    var message: String
    var taskID: Int?
    var app: String?
    /// `python`: the exception's type (`module.Qualname`, builtins bare), its message, its formatted traceback.
    var type: String?
    var excMessage: String?
    var traceback: String?
    /// `python`: the exception object itself, when the engine holds one.
    var exception: PythonExceptionObject?
    /// `python`: the pickled exception from a worker, when it could be pickled.
    var pickledException: PickledBytes?
    /// `bash_exit`.
    var exitCode: Int?
    /// `timeout`: seconds.
    var walltime: Double?
    /// `bad_std_stream`: the target that could not be opened.
    var path: String?
    /// `missing_outputs`: the paths of the outputs not written.
    var missing: [String]?
    /// `dependency`: the failed dependencies' task ids, and the failure at the bottom of the chain.
    var failed: [Int]?
    var root: [ScriptFailure]?
    /// `join`: one failure per returned future that failed.
    var failures: [ScriptFailure]?
    /// A failure reused from the app cache: the task that failed first (its future's exception
    /// is the one this future gets, as in Parsl).
    var memoTaskID: Int?

    enum CodingKeys: String, CodingKey {
        case kind, message, app, type, traceback, exception, walltime, path, missing, failed, root, failures
        case taskID = "task_id", excMessage = "exc_message", pickledException = "pickled_exception", exitCode = "exit_code"
        case memoTaskID = "memo_task_id"
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode(kind, forKey: .kind)
        try keys.encode(message, forKey: .message)
        try keys.encodeIfPresent(taskID, forKey: .taskID)
        try keys.encodeIfPresent(app, forKey: .app)
        try keys.encodeIfPresent(type, forKey: .type)
        try keys.encodeIfPresent(excMessage, forKey: .excMessage)
        try keys.encodeIfPresent(traceback, forKey: .traceback)
        try keys.encodeIfPresent(exception, forKey: .exception)
        try keys.encodeIfPresent(pickledException, forKey: .pickledException)
        try keys.encodeIfPresent(exitCode, forKey: .exitCode)
        try keys.encodeIfPresent(walltime, forKey: .walltime)
        try keys.encodeIfPresent(path, forKey: .path)
        try keys.encodeIfPresent(missing, forKey: .missing)
        try keys.encodeIfPresent(failed, forKey: .failed)
        try keys.encodeIfPresent(root?.first, forKey: .root)
        try keys.encodeIfPresent(failures, forKey: .failures)
        try keys.encodeIfPresent(memoTaskID, forKey: .memoTaskID)
    }

    /// The failure dict for `error`, the error a task's future holds.
    init(_ error: any Error) {
        guard let memoized = error as? MemoizedFailure else {
            self.init(plain: error)
            return
        }
        self.init(plain: memoized.original)
        memoTaskID = memoized.originalTask.rawValue
    }

    private init(plain error: any Error) {
        message = "\(error)"
        switch error {
        case let error as TaskError:
            kind = Self.kind(of: error.reason)
            taskID = error.taskID.rawValue
            app = error.app
            switch error.reason {
            case .python(let python):
                type = python.typeName
                excMessage = python.message
                traceback = python.traceback
                pickledException = python.pickledException.map(PickledBytes.init)
            case .bashExit(let code): exitCode = Int(code)
            case .timeout(let limit): walltime = limit.seconds
            case .badStdStream(let target, _): path = target
            case .missingOutputs(let files): missing = files.map(\.path)
            default: break
            }
        case let error as DependencyError:
            kind = .dependency
            taskID = error.taskID.rawValue
            app = error.app
            failed = error.failedDependencies.map(\.rawValue)
            root = [ScriptFailure(error.rootCause)]
        case let error as PythonObjectFailure:
            kind = .python
            taskID = error.taskID
            app = error.app
            exception = PythonExceptionObject(object: error.exception)
            type = error.exception.typeName
        case let error as JoinError:
            taskID = error.taskID.rawValue
            app = error.app
            switch error.reason {
            case .innerFailed(let inner):
                kind = .join
                failures = inner.map { ScriptFailure($0) }
            case .notAFuture(let detail):  // Parsl's TypeError
                kind = .python
                type = "TypeError"
                excMessage = detail
                traceback = ""
                exception = PythonExceptionObject(typeName: "TypeError", message: detail)
            }
        default:
            kind = .swift
        }
    }

    private static func kind(of reason: TaskError.Reason) -> Kind {
        switch reason {
        case .python: .python
        case .bashExit: .bashExit
        case .timeout: .timeout
        case .badStdStream: .badStdStream
        case .badStdStreamSpec: .badStdSpec
        case .missingOutputs: .missingOutputs
        case .badCommand: .badCommand
        case .conversion: .conversion
        case .swift: .swift
        case .executor: .executor
        case .badState: .badState
        case .kernelShutDown: .shutdown
        case .cancelled: .cancelled
        case .workerLost: .workerLost
        case .managerLost: .managerLost
        case .serialization: .serialization
        }
    }

    /// The dict itself. Call holding the GIL.
    func toPython() throws -> PythonObject { try PythonEncoder().encode(self) }
}

/// A Python exception object in a failure dict. Other encoders than ``PythonEncoder`` write
/// `{"python_exception": [type, str(exception)]}`, as the contract cases do.
struct PythonExceptionObject: Encodable, PythonObjectEncodable, @unchecked Sendable {  // the object is only touched holding the GIL
    private let make: () throws -> PythonObject

    /// An exception the engine holds.
    init(object: PythonObject) { make = { object } }

    /// A new exception of a builtin type, made when the dict is.
    init(typeName: String, message: String) { make = { try Python.evaluate(typeName).call(message) } }

    func pythonObject() throws -> PythonObject { try make() }

    func encode(to encoder: any Encoder) throws {
        let (name, text) = try withGIL { () throws -> (String, String) in
            let object = try make()
            return (object.typeName, "\(object)")
        }
        var keys = encoder.container(keyedBy: MarkerKey.self)
        try keys.encode([name, text], forKey: .pythonException)
    }
}

/// Pickled bytes in a failure dict: `bytes` for ``PythonEncoder``, `{"bytes_base64": …}` otherwise.
struct PickledBytes: Encodable, PythonObjectEncodable, Sendable {
    let bytes: [UInt8]

    func pythonObject() throws -> PythonObject { try bytes.toPython() }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: MarkerKey.self)
        try keys.encode(Data(bytes).base64EncodedString(), forKey: .bytesBase64)
    }
}

/// How the contract cases write what JSON cannot carry.
private enum MarkerKey: String, CodingKey {
    case pythonException = "python_exception", bytesBase64 = "bytes_base64"
}

extension ScriptEngine {
    /// The failure dict `sprig.futures` turns into Parsl-shaped exceptions (call holding the GIL);
    /// `None` if it cannot be made.
    static func failure(_ error: any Error) -> PythonObject {
        (try? ScriptFailure(error).toPython()) ?? .none
    }
}
