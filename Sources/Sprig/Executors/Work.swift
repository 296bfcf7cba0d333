import PythonBridge

/// What an attempt runs.
package enum Work: Sendable {
    /// A Swift closure, run on the executor's thread.
    case swift(@Sendable () throws -> any Sendable)
    /// A Python callable with converted arguments.
    case python(PythonCall)
    /// A shell command.
    case bash(BashCall)
}

/// A Python call whose arguments have had their futures replaced by values.
package struct PythonCall: Sendable {
    package let callable: PythonObject
    package let arguments: [Value]
    package let keywords: [(String, Value)]
}

/// A bash app's call: where its command comes from, and its redirections and declared outputs.
package struct BashCall: Sendable {
    package enum Command: Sendable {
        case swift(@Sendable () throws -> String)
        case python(PythonCall)
    }
    package let command: Command
    package let stdout: Redirect?
    package let stderr: Redirect?
    package let outputs: [File]
}
