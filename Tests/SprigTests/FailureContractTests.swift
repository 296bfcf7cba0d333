import Foundation
import PythonBridge
@testable import Sprig
import Testing

/// A Swift error whose description is given (a Swift app's own error, or one that is not the engine's).
struct DescribedError: Error, CustomStringConvertible {
    let description: String
}

@Suite("The failure-dict contract (contracts/failures)", .timeLimit(.minutes(1)))
struct FailureContractTests {
    static let cases = contractCases("failures")

    /// The Swift error a case's `error` describes.
    static func swiftError(_ spec: [String: Any]) throws -> any Error {
        let taskID = (spec["task_id"] as? Int).map(TaskID.init)
        let app = spec["app"] as? String ?? "?"
        let detail = spec["detail"] as? String ?? ""
        switch spec["type"] as? String {
        case "TaskError":
            let reason: TaskError.Reason
            switch spec["reason"] as? String {
            case "python":
                let python = try #require(spec["python"] as? [String: Any])
                reason = .python(PythonError(kind: .exception, typeName: python["type"] as? String, message: python["message"] as? String ?? "",
                                             traceback: python["traceback"] as? String ?? "",
                                             pickledException: (python["pickled_base64"] as? String).flatMap { Data(base64Encoded: $0) }.map { [UInt8]($0) }))
            case "bash_exit": reason = .bashExit(code: Int32(try #require(spec["code"] as? Int)))
            case "timeout": reason = .timeout(walltime: .seconds(try #require(spec["walltime"] as? Double)))
            case "bad_std_stream": reason = .badStdStream(path: try #require(spec["path"] as? String), detail: detail)
            case "bad_std_spec": reason = .badStdStreamSpec(detail)
            case "missing_outputs": reason = .missingOutputs(try #require(spec["paths"] as? [String]).map { File($0) })
            case "bad_command": reason = .badCommand(detail)
            case "conversion": reason = .conversion(detail)
            case "swift": reason = .swift(DescribedError(description: detail))
            case "executor": reason = .executor(detail)
            case "bad_state": reason = .badState(detail)
            case "shutdown": reason = .kernelShutDown
            case "cancelled": reason = .cancelled
            case "worker_lost": reason = .workerLost(detail)
            case "manager_lost": reason = .managerLost(detail)
            case "serialization": reason = .serialization(detail)
            case let other: throw DescribedError(description: "unknown reason \(other ?? "nil") in a case")
            }
            return TaskError(taskID: try #require(taskID), app: app, reason: reason)
        case "DependencyError":
            return DependencyError(taskID: try #require(taskID), app: app,
                                   failedDependencies: try #require(spec["failed"] as? [Int]).map(TaskID.init),
                                   rootCause: try swiftError(try #require(spec["root"] as? [String: Any])))
        case "JoinError":
            if let detail = spec["not_a_future"] as? String {
                return JoinError(taskID: try #require(taskID), app: app, reason: .notAFuture(detail))
            }
            let failures = try #require(spec["failures"] as? [[String: Any]]).map(swiftError)
            return JoinError(taskID: try #require(taskID), app: app, reason: .innerFailed(failures))
        case "PythonObjectFailure":
            let exception = try #require(spec["exception"] as? [String])
            let object = try withGIL { try Python.evaluate(exception[0]).call(try Python.evaluate(exception[1])) }
            return PythonObjectFailure(exception: object, taskID: spec["task_id"] as? Int, app: app)
        default:
            return DescribedError(description: spec["description"] as? String ?? "?")
        }
    }

    /// The dict as JSON, with live exceptions and bytes written as the cases write them.
    static func json(of dict: PythonObject) throws -> Any {
        let dumps = try Python.evaluate("""
            lambda d: __import__('json').dumps(d, default=lambda v: {'bytes_base64': __import__('base64').b64encode(v).decode()} \
            if isinstance(v, bytes) else {'python_exception': [type(v).__qualname__, str(v)]} if isinstance(v, BaseException) \
            else repr(v))
            """)
        let text = try String(python: dumps.call([dict]))
        return try JSONSerialization.jsonObject(with: Data(text.utf8))
    }

    @Test func theFolderCoversEveryKind() throws {
        var kinds = Set<String>()
        for name in Self.cases {
            let dict = try #require(try contractCase("failures", name)["dict"] as? [String: Any])
            kinds.insert(try #require(dict["kind"] as? String))
        }
        #expect(kinds == Set(ScriptFailure.Kind.allCases.map(\.rawValue)))
    }

    @Test(arguments: cases)
    func swiftEncodesTheFailureAsTheCaseSays(name: String) throws {
        try Python.start()
        let file = try contractCase("failures", name)
        let error = try Self.swiftError(try #require(file["error"] as? [String: Any]))
        let encoded = try withGIL { try Self.json(of: try ScriptFailure(error).toPython()) }
        #expect(try canonicalJSON(encoded) == canonicalJSON(try #require(file["dict"])), "\(name)")
    }
}
