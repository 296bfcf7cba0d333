/// A Swift closure made into an app, with typed inputs and output.
///
/// Each argument is a value or a future of the closure's parameter type (`AppFuture<Int>` for an
/// `Int`, `[AppFuture<Int>]` for an `[Int]`); the call returns an `AppFuture<Output>` at once, and
/// the closure runs on an executor thread once the futures have succeeded.
public struct SwiftApp<each Input: Sendable, Output: Sendable>: Sendable {
    /// The app's name in errors and logs.
    public let name: String
    let kernel: DataFlowKernel
    let options: DataFlowKernel.ResolvedOptions
    let body: @Sendable (repeat each Input) throws -> Output

    /// Calls the app. `inputs` are extra futures to wait for; `walltime` overrides the app's (a
    /// walltime that is not positive fails the future at once with a ``ConfigError``).
    public func callAsFunction<each Argument: Resolvable>(
        _ arguments: repeat each Argument, inputs: [any TaskFuture] = [], walltime: Duration? = nil
    ) -> AppFuture<Output> where repeat (each Argument).Resolved == each Input {
        if let refused = kernel.refusedCall(app: options.app, walltime: walltime) { return AppFuture(core: refused) }
        var dependencies = inputs
        repeat (each arguments).collectFutures(into: &dependencies)
        let captured = (repeat each arguments)
        let body = self.body
        let memo = AppCaching.swift(app: options.app, policy: options.cache, output: Output.self) {
            let values = (repeat try (each captured).resolve())
            var list: [any Sendable] = []
            repeat list.append(each values)
            return list
        }
        let core = kernel.submit(options.with(walltime: walltime), dependencies: dependencies, memo: memo) { _ in
            let values = (repeat try (each captured).resolve())
            return .swift { try body(repeat each values) }
        }
        return AppFuture(core: core)
    }
}

/// A bash app whose command a Swift closure builds from typed inputs. The future's value is 0 when
/// the command exits 0; otherwise it fails with the exit code.
public struct BashApp<each Input: Sendable>: Sendable {
    /// The app's name in errors and logs.
    public let name: String
    let kernel: DataFlowKernel
    let options: DataFlowKernel.ResolvedOptions
    let command: @Sendable (repeat each Input) throws -> String

    /// Calls the app.
    /// - Parameters:
    ///   - stdout: where the command's standard output goes (appended to; ``Redirect/truncate(_:)`` truncates).
    ///   - stderr: likewise for standard error.
    ///   - inputs: extra futures to wait for.
    ///   - outputs: files the command writes; each becomes a ``DataFuture`` in the future's `outputs`,
    ///     and the app fails if one is missing after the command succeeded.
    ///   - walltime: overrides the app's; one that is not positive fails the future at once with a ``ConfigError``.
    public func callAsFunction<each Argument: Resolvable>(
        _ arguments: repeat each Argument, stdout: Redirect? = nil, stderr: Redirect? = nil,
        inputs: [any TaskFuture] = [], outputs: [File] = [], walltime: Duration? = nil
    ) -> AppFuture<Int> where repeat (each Argument).Resolved == each Input {
        if let refused = kernel.refusedCall(app: options.app, walltime: walltime) { return AppFuture(core: refused) }
        var dependencies = inputs
        repeat (each arguments).collectFutures(into: &dependencies)
        let captured = (repeat each arguments)
        let command = self.command
        let runDirectory = kernel.runFolder
        let chooser = kernel.config.stdAutopath
        let app = options.app
        let memo = AppCaching.swift(app: app, kind: "bash", policy: options.cache, output: Int.self) {
            let values = (repeat try (each captured).resolve())
            var list: [any Sendable] = []
            repeat list.append(each values)
            return list
        }
        let core = kernel.submit(options.with(walltime: walltime), dependencies: dependencies, outputs: outputs, memo: memo) { id in
            let values = (repeat try (each captured).resolve())
            return .bash(BashCall(command: .swift { try command(repeat each values) },
                                  stdout: try stdout?.resolved(task: id, app: app, runDirectory: runDirectory, stream: "stdout", chooser: chooser),
                                  stderr: try stderr?.resolved(task: id, app: app, runDirectory: runDirectory, stream: "stderr", chooser: chooser),
                                  outputs: outputs))
        }
        return AppFuture(core: core)
    }
}

extension DataFlowKernel {
    /// A failed call when a per-call `walltime` is not positive, refused as ``resolve(_:app:)``
    /// refuses an app's: with a ``ConfigError``.
    func refusedCall(app: String, walltime: Duration?) -> TaskCore? {
        guard let walltime, walltime <= .zero else { return nil }
        return failedCall(app: app) { id in
            ConfigError(message: "task \(id) (app \(app)) has walltime \(walltime); it must be positive")
        }
    }
}

extension DataFlowKernel.ResolvedOptions {
    func with(walltime: Duration?) -> Self {
        guard let walltime else { return self }
        return Self(app: app, executors: executors, retries: retries, walltime: walltime, cache: cache, ignoreForCache: ignoreForCache)
    }
}
