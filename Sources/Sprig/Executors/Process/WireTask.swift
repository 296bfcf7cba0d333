import Foundation
import PythonBridge
import Synchronization

/// A task as the manager protocol carries it (see `python/sprig/PROTOCOL.md`).
struct WireTask {
    enum Kind: UInt8 {
        case python = 0
        /// A bash app whose Python function returns the command line.
        case pythonBash = 1
        /// A bash app with its command line ready.
        case bash = 2
    }

    let attempt: Attempt
    let kind: Kind
    let functionKey: UInt64
    let function: [UInt8]
    let options: [UInt8]
    let payload: [UInt8]
    /// The payload's shared-memory segments, unlinked when the task leaves its block (if no worker
    /// consumed them first).
    let argumentSegments: SegmentLease?

    init(attempt: Attempt, kind: Kind, functionKey: UInt64, function: [UInt8], options: [UInt8], payload: [UInt8]) {
        self.attempt = attempt
        self.kind = kind
        self.functionKey = functionKey
        self.function = function
        self.options = options
        self.payload = payload
        self.argumentSegments = PayloadSegments.argumentLease(for: payload)
    }

    /// Appends this task to a TASKS body; the function's bytes only if the block has not had them.
    func write(to writer: inout ByteWriter, includeFunction: Bool) {
        writer.u64(UInt64(attempt.taskID.rawValue))
        writer.u8(kind.rawValue)
        writer.u64(functionKey)
        writer.blob(includeFunction ? function : [])
        writer.blob(options)
        writer.blob(payload)
    }
}

/// Options of a bash task, as JSON.
private struct BashOptions: Encodable {
    let command: String?
    let stdout: [String]?
    let stderr: [String]?
    let outputs: [String]
}

/// Turns attempts into wire tasks: pickles each app's function once (by the identity of its
/// `PythonObject`) and each call's arguments, holding the GIL once for a whole batch.
final class TaskEncoder: Sendable {
    private struct CachedFunction: @unchecked Sendable {  // the object is only kept alive, never touched
        let key: UInt64
        let bytes: [UInt8]
        let object: PythonObject
    }

    /// Keyed by the Python object's identity (not the Swift wrapper's: callers may wrap the same
    /// function anew for every call); the entry keeps the object alive, so the identity stays its own.
    private let functions = Mutex<[Int: CachedFunction]>([:])
    private let nextKey = Atomic<UInt64>(1)

    /// Encodes a batch; an attempt that cannot be encoded gets its error instead. With
    /// `sharedMemory` (the run's segment prefix, for a local block) large buffers go to segments,
    /// else inline.
    func encode(_ attempts: [Attempt], sharedMemory: String? = nil) -> [(Attempt, Result<WireTask, TaskError>)] {
        // Swift-built bash commands run user code: do that before taking the GIL.
        let commands: [String?] = attempts.map { attempt in
            guard case .bash(let call) = attempt.work, case .swift(let body) = call.command else { return nil }
            return try? body()
        }
        return withGIL {
            zip(attempts, commands).map { attempt, command in
                (attempt, Result { try encode(attempt, command: command, sharedMemory: sharedMemory) }.mapError { error in
                    error as? TaskError ?? TaskError(taskID: attempt.taskID, app: attempt.app, reason: Self.reason(for: error))
                })
            }
        }
    }

    private func encode(_ attempt: Attempt, command: String?, sharedMemory: String?) throws -> WireTask {
        switch attempt.work {
        case .python(let call):
            let (key, bytes) = try function(call.callable)
            return WireTask(attempt: attempt, kind: .python, functionKey: key, function: bytes, options: [],
                            payload: try arguments(call, sharedMemory: sharedMemory))
        case .bash(let call):
            let options = try JSONEncoder().encode(BashOptions(
                command: command,
                stdout: call.stdout.map { [$0.path, $0.mode.rawValue] },
                stderr: call.stderr.map { [$0.path, $0.mode.rawValue] },
                outputs: call.outputs.map(\.path)))
            switch call.command {
            case .python(let pythonCall):
                let (key, bytes) = try function(pythonCall.callable)
                return WireTask(attempt: attempt, kind: .pythonBash, functionKey: key, function: bytes,
                                options: [UInt8](options), payload: try arguments(pythonCall, sharedMemory: sharedMemory))
            case .swift(let body):
                guard command != nil else {
                    do { _ = try body() } catch {
                        throw TaskError(taskID: attempt.taskID, app: attempt.app, reason: .badCommand("its command closure threw \(error)"))
                    }
                    throw TaskError(taskID: attempt.taskID, app: attempt.app, reason: .badCommand("its command closure failed"))
                }
                return WireTask(attempt: attempt, kind: .bash, functionKey: 0, function: [], options: [UInt8](options), payload: [])
            }
        case .swift:
            preconditionFailure("Swift apps run in this process, not in workers")
        }
    }

    private func function(_ callable: PythonObject) throws -> (UInt64, [UInt8]) {
        let id = callable.identity
        if let cached = functions.withLock({ $0[id] }), cached.object.isIdentical(to: callable) { return (cached.key, cached.bytes) }
        // With the embedded sys.path, so that a module imported from a folder added after the
        // workers started can still be found by them.
        let searchPath = try Python.importModule("sys").attribute("path")
        let bytes = try [UInt8](python: PythonSide.serializer("dumps_function").call([callable, searchPath]))
        let entry = CachedFunction(key: nextKey.wrappingAdd(1, ordering: .relaxed).oldValue, bytes: bytes, object: callable)
        let stored = functions.withLock { table in
            if let existing = table[id], existing.object.isIdentical(to: callable) { return existing }
            table[id] = entry
            return entry
        }
        return (stored.key, stored.bytes)
    }

    private func arguments(_ call: PythonCall, sharedMemory: String?) throws -> [UInt8] {
        let positional = try PythonTuple(elements: call.arguments.map { try $0.toPythonForWorker() }).toPython()
        let keywords = try PythonObject.dict(call.keywords.map { (try $0.0.toPython(), try $0.1.toPythonForWorker()) })
        let prefix = try sharedMemory.map { try $0.toPython() } ?? PythonObject.none
        return try [UInt8](python: PythonSide.serializer("dumps_call").call([positional, keywords, prefix]))
    }

    private static func reason(for error: any Error) -> TaskError.Reason {
        if let python = error as? PythonError {
            return python.typeName.hasSuffix("SerializationError") || python.typeName.contains("Pickl")
                ? .serialization(python.message) : (python.kind == .exception ? .python(python) : .conversion(python.message))
        }
        return .conversion("\(error)")
    }
}

/// What a RESULTS entry means for its task.
enum WireResult {
    static func outcome(status: UInt8, bytes: [UInt8], kind: WireTask.Kind, attempt: Attempt, block: String,
                        segments: PayloadSegments? = nil) -> Outcome {
        let fail = { (reason: TaskError.Reason) -> Outcome in .failure(TaskError(taskID: attempt.taskID, app: attempt.app, reason: reason)) }
        switch ResultStatus(rawValue: status) {
        case .ok?:
            guard kind == .python else { return .success(0) }
            // The result's segments (if any) are leased: unlinked when nothing can read it any more.
            return .success(Value.pickled(PickledValue(bytes: bytes, lease: segments?.resultLease(for: bytes))))
        case .failed?:
            guard let report = FailureReport.parse(bytes) else {
                return fail(.executor("block \(block) sent an unreadable failure report"))
            }
            return fail(reason(for: report, walltime: attempt.walltime))
        case .workerLost?:
            return fail(.workerLost(WorkerLostReport.parse(bytes)?.message ?? "a worker of block \(block) died"))
        case .skipped?, .started?, .resource?, nil:
            return fail(.executor("block \(block) sent result status \(status), which does not end a task"))
        }
    }

    /// The error reason a failure report stands for.
    static func reason(for report: FailureReport, walltime: Duration?) -> TaskError.Reason {
        let message = report.message ?? ""
        switch report.knownKind {
        case .bashExit: return .bashExit(code: report.exitCode ?? -1)
        case .badStdStream: return .badStdStream(path: report.path ?? "?", detail: message)
        case .missingOutputs: return .missingOutputs((report.missing ?? []).map(File.init))
        case .badCommand: return .badCommand(message)
        case .serialization: return .serialization(message)
        case .walltime: return .timeout(walltime: walltime ?? .zero)
        case .python:
            let pickled = report.pickledException.flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }
            return .python(PythonError(kind: .exception, typeName: report.type ?? "Exception", message: message,
                                       traceback: report.traceback ?? "", pickledException: pickled))
        }
    }
}
