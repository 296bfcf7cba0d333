/// Anything that stands for a task's eventual result: ``AppFuture`` and ``DataFuture``.
public protocol TaskFuture: Sendable {
    /// The task that produces it.
    var taskID: TaskID { get }
    /// Whether the task has ended.
    var isDone: Bool { get }
}

/// What the engine needs of a future it finds among a task's arguments.
package protocol CoreBacked: TaskFuture {
    var core: TaskCore { get }
    /// The value a dependent receives; called only after the task succeeded.
    func dependencyValue(from value: any Sendable) throws -> any Sendable
}

/// The eventual result of one app call, returned at once by the call.
///
/// Read it with `try await future.value`, or block with `try future.result()` in synchronous code.
/// Pass it to other apps to make them wait for it. Threading: any thread may use it; callbacks run
/// on the kernel's callback thread, in order (or at once, on the caller's thread, if the task has
/// ended), never on an executor's thread: a callback may wait on another future.
public struct AppFuture<T: Sendable>: CoreBacked {
    package let core: TaskCore
    private let transform: @Sendable (any Sendable) throws -> T

    package init(core: TaskCore) {
        self.core = core
        self.transform = { value in
            guard let typed = value as? T else {
                throw ConversionError(message: "task \(core.id) (app \(core.appName)) produced \(type(of: value)), not \(T.self)")
            }
            return typed
        }
    }

    /// A view whose value is the task's value in dynamic form, whatever the app's type.
    package static func dynamic(core: TaskCore) -> AppFuture<Value> {
        AppFuture<Value>(core: core) { try Value(swiftValue: $0, from: core.id) }
    }

    package init(core: TaskCore, transform: @escaping @Sendable (any Sendable) throws -> T) {
        self.core = core
        self.transform = transform
    }

    /// The task that produces it.
    public var taskID: TaskID { core.id }
    /// The name of the app that produces it.
    public var appName: String { core.appName }
    /// Whether the task has ended, with a value or an error.
    public var isDone: Bool { core.isDone }

    /// The error the task ended with; `nil` while it runs or after it succeeded.
    public var error: (any Error)? {
        guard let outcome = core.outcome else { return nil }
        return convert(outcome).failureValue
    }

    /// One ``DataFuture`` per file the call declared in `outputs:`, in order.
    public var outputs: [DataFuture] { core.outputs.map { DataFuture(core: core, file: $0) } }

    /// Blocks until the task ends; returns its value or throws its error.
    public func result() throws -> T {
        try convert(core.wait()!).get()
    }

    /// Blocks at most `timeout`; throws ``FutureTimeoutError`` if the task has not ended by then.
    public func result(timeout: Duration) throws -> T {
        guard let outcome = core.wait(timeout: timeout) else { throw FutureTimeoutError(taskID: taskID, timeout: timeout) }
        return try convert(outcome).get()
    }

    /// The task's value, awaited without blocking a thread.
    ///
    /// Cancelling the awaiting Swift task stops the wait at once with `CancellationError`; the
    /// app's task itself goes on (other futures may depend on it — see ``DataFlowKernel/cancel(_:)``).
    public var value: T {
        get async throws {
            try convert(try await core.awaitOutcome()).get()
        }
    }

    /// Runs `callback` once the task ends (at once if it has).
    public func onComplete(_ callback: @escaping @Sendable (Result<T, any Error>) -> Void) {
        core.onComplete { [transform] outcome in
            callback(outcome.flatMap { value in Result { try transform(value) } })
        }
    }

    package func dependencyValue(from value: any Sendable) throws -> any Sendable { try transform(value) }

    private func convert(_ outcome: Outcome) -> Result<T, any Error> {
        outcome.flatMap { value in Result { try transform(value) } }
    }

    /// A view of the same task whose value is converted by `body` when read.
    package func map<U: Sendable>(_ body: @escaping @Sendable (T) throws -> U) -> AppFuture<U> {
        let transform = self.transform
        return AppFuture<U>(core: core) { try body(transform($0)) }
    }
}

/// A file an app declared in `outputs:`; ready when that app succeeds, failed when it fails.
public struct DataFuture: CoreBacked {
    package let core: TaskCore
    /// The file itself.
    public let file: File

    package init(core: TaskCore, file: File) {
        self.core = core
        self.file = file
    }

    /// The task that writes the file.
    public var taskID: TaskID { core.id }
    /// Whether that task has ended, with a value or an error.
    public var isDone: Bool { core.isDone }

    /// The error of the producing task; `nil` while it runs or after it succeeded.
    public var error: (any Error)? {
        if case .failure(let error) = core.outcome { return error }
        return nil
    }

    /// Blocks until the producing task ends; returns the file or throws the task's error.
    public func result() throws -> File {
        _ = try core.wait()!.get()
        return file
    }

    /// The file, once the producing task has succeeded.
    public var value: File {
        get async throws {
            _ = try await AppFuture<any Sendable>(core: core, transform: { $0 }).value
            return file
        }
    }

    package func dependencyValue(from value: any Sendable) throws -> any Sendable { file }
}

/// ``AppFuture/result(timeout:)`` ran out of time; the task goes on.
public struct FutureTimeoutError: Error, CustomStringConvertible {
    /// The task that had not ended.
    public let taskID: TaskID
    /// How long the caller waited.
    public let timeout: Duration
    /// Names the task and the timeout.
    public var description: String { "task \(taskID) did not finish within \(timeout)" }
}

extension Result {
    package var failureValue: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
