import Foundation
import PythonBridge

/// An error in one line: the exception type scripts would see and its message, for the run log
/// and the monitoring database (Parsl's `fail_history`).
struct FailureSummary: Sendable, Equatable {
    let type: String
    let message: String

    init(type: String, message: String) {
        self.type = type
        self.message = message
    }

    init(_ error: any Error) {
        switch error {
        case let error as TaskError:
            self.init(task: error)
        case let error as DependencyError:
            self.init(type: "DependencyError", message: "dependencies failed: " + Self.ids(error.failedDependencies))
        case let error as PythonError:
            self.init(type: error.typeName, message: Self.oneLine(error.message))
        default:
            self.init(type: String(describing: Swift.type(of: error)), message: Self.oneLine("\(error)"))
        }
    }

    private init(task error: TaskError) {
        let name: String
        switch error.reason {
        case .python(let python):
            type = python.typeName
            message = Self.oneLine(python.message)
            return
        case .bashExit: name = "BashExitFailure"
        case .timeout: name = "AppTimeout"
        case .badStdStream: name = "BadStdStreamFile"
        case .badStdStreamSpec: name = "StdStreamSpecError"
        case .missingOutputs: name = "MissingOutputs"
        case .badCommand: name = "BashAppNoReturn"
        case .conversion: name = "TaskConversionError"
        case .swift(let inner): name = String(describing: Swift.type(of: inner))
        case .executor, .badState: name = "ExecutorError"
        case .kernelShutDown: name = "KernelShutdownError"
        case .cancelled: name = "CancelledError"
        case .workerLost: name = "WorkerLost"
        case .managerLost: name = "ManagerLost"
        case .serialization: name = "SerializationError"
        }
        type = name
        let head = "task \(error.taskID) (app \(error.app))"
        var text = error.description
        if text.hasPrefix(head) { text = String(text.dropFirst(head.count)).trimmingCharacters(in: .whitespaces) }
        if text.hasPrefix(":") { text = String(text.dropFirst()).trimmingCharacters(in: .whitespaces) }
        message = Self.oneLine(text)
    }

    /// `Type: message`, or the type alone.
    var line: String { message.isEmpty ? type : "\(type): \(message)" }

    /// Task ids as `[3, 4]`: never `task N`, so that `grep 'task N '` finds only task N's own lines.
    static func ids(_ ids: [TaskID]) -> String { "[" + ids.map(\.description).joined(separator: ", ") + "]" }

    /// The first line of `text`, at most 300 characters.
    static func oneLine(_ text: String) -> String {
        let first = text.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
        return first.count > 300 ? String(first.prefix(297)) + "..." : first
    }
}
