import Logging
import PythonBridge

/// Runs the tasks the kernel hands it (Parsl's executors).
///
/// Threading: the kernel calls `start` once, then `submit` from any thread, then `shutdown` once,
/// after every task it submitted has ended. `submit` must not block.
public protocol Executor: AnyObject, Sendable {
    /// The unique label apps use to pin themselves to this executor.
    var label: String { get }
    /// Starts threads or processes. - Throws: ``ExecutorError`` when it cannot.
    func start(_ context: ExecutorContext) throws
    /// Queues one attempt of a task; the executor ends it with ``Attempt/finish(_:)``.
    func submit(_ attempt: Attempt)
    /// Stops and joins everything the executor started.
    func shutdown()
    /// Tasks submitted and not yet finished; the kernel prefers the least loaded executor.
    var outstanding: Int { get }
}

/// What an executor gets from its kernel.
public struct ExecutorContext: Sendable {
    public let logger: Logger
    public let runDirectory: String
    /// How to start the embedded interpreter, for executors that need it.
    public let python: PythonConfiguration
    /// How blocks scale.
    public let strategy: Strategy
}

/// An executor could not start or run a task.
public struct ExecutorError: Error, Sendable, CustomStringConvertible {
    public let label: String
    public let message: String
    public init(label: String, message: String) {
        self.label = label
        self.message = message
    }
    public var description: String { "executor \(label): \(message)" }
}
