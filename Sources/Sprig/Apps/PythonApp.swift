import PythonBridge

/// A Python callable made into an app: each call returns an ``AppFuture`` at once, and the callable
/// runs when the futures among its arguments have succeeded.
///
/// Call it like a function: `multiply(5, 9)`, `process(data, scale: 2, inputs: [other])`.
/// Parsl's special keywords work as in Parsl: `inputs` (extra dependencies; passed on if the function
/// takes `inputs`), `outputs` (files, which become the future's ``AppFuture/outputs``), `walltime`
/// (seconds). The result is the Python object itself, as ``Value/python(_:)``: read it with
/// `future.result(as: Int.self)` or pass the future to another app.
@dynamicCallable
public struct PythonApp: Sendable {
    /// The app's name in errors and logs (`module.function`).
    public let name: String
    let kernel: DataFlowKernel
    let function: PythonObject
    let options: DataFlowKernel.ResolvedOptions
    let keywords: KeywordPolicy
    /// How plain calls are keyed without Python, when the app is cached (``AppCaching/plainShape(_:options:bash:)``).
    let plainKeys: PlainCallKey.Shape?

    /// `app(a, b)`: calls the app with positional arguments.
    public func dynamicallyCall(withArguments arguments: [any AppArgument]) -> AppFuture<Value> {
        call(arguments, keywords: [])
    }

    /// `app(a, scale: 2)`: calls the app; unlabelled arguments are positional, labelled ones keywords
    /// (Parsl's special keywords among them).
    public func dynamicallyCall(withKeywordArguments arguments: KeyValuePairs<String, any AppArgument>) -> AppFuture<Value> {
        call(arguments.filter { $0.key.isEmpty }.map(\.value), keywords: arguments.filter { !$0.key.isEmpty }.map { ($0.key, $0.value) })
    }

    /// Calls the app with positional and keyword arguments.
    public func call(_ arguments: [any AppArgument], keywords: [(String, any AppArgument)]) -> AppFuture<Value> {
        AppFuture(core: kernel.submitPython(function, options: options, keywordPolicy: self.keywords, arguments: arguments,
                                            keywords: keywords, bash: false, plainKeys: plainKeys))
    }
}

/// A bash app whose command comes from a Python function returning a string (Parsl's `@bash_app`).
/// The future's value is 0 when the command exits 0; otherwise it fails with the exit code.
/// `stdout=` and `stderr=` redirect the command's output (appending; `Tuple(path, "w")` truncates).
@dynamicCallable
public struct PythonBashApp: Sendable {
    /// The app's name in errors and logs (`module.function`).
    public let name: String
    let kernel: DataFlowKernel
    let function: PythonObject
    let options: DataFlowKernel.ResolvedOptions
    let keywords: KeywordPolicy
    /// How plain calls are keyed without Python, when the app is cached (``AppCaching/plainShape(_:options:bash:)``).
    let plainKeys: PlainCallKey.Shape?

    /// `app(a, b)`: calls the app with positional arguments.
    public func dynamicallyCall(withArguments arguments: [any AppArgument]) -> AppFuture<Int> {
        call(arguments, keywords: [])
    }

    /// `app(a, stdout: "out.txt")`: calls the app; unlabelled arguments are positional, labelled ones
    /// keywords (Parsl's special keywords among them).
    public func dynamicallyCall(withKeywordArguments arguments: KeyValuePairs<String, any AppArgument>) -> AppFuture<Int> {
        call(arguments.filter { $0.key.isEmpty }.map(\.value), keywords: arguments.filter { !$0.key.isEmpty }.map { ($0.key, $0.value) })
    }

    /// Calls the app with positional and keyword arguments.
    public func call(_ arguments: [any AppArgument], keywords: [(String, any AppArgument)]) -> AppFuture<Int> {
        AppFuture(core: kernel.submitPython(function, options: options, keywordPolicy: self.keywords, arguments: arguments,
                                            keywords: keywords, bash: true, plainKeys: plainKeys))
    }
}

/// Which of Parsl's special keywords a Python function takes.
package struct KeywordPolicy: Sendable {
    let acceptsAny: Bool
    let names: Set<String>

    func accepts(_ name: String) -> Bool { acceptsAny || names.contains(name) }

    package init(function: PythonObject) throws {
        let answer = try PythonSide.appsHelper("accepted_keywords").call(function)
        acceptsAny = try Bool(python: answer[0])
        names = Set(try [String](python: answer[1]))
    }
}

extension DataFlowKernel {
    package func submitPython(_ function: PythonObject, options: ResolvedOptions, keywordPolicy: KeywordPolicy,
                      arguments: [any AppArgument], keywords: [(String, any AppArgument)], bash: Bool,
                      join: Bool = false, plainKeys: PlainCallKey.Shape? = nil) -> TaskCore {
        let call: DynamicCall
        do {
            call = try DynamicCall(arguments: arguments, keywords: keywords)
        } catch let rejection as CallRejection {
            return failedCall(app: options.app, reason: rejection.reason)
        } catch {
            return failedCall(app: options.app, reason: .conversion("\(error)"))
        }
        var options = options
        if let walltime = call.walltime {
            options = options.with(walltime: walltime)
        }
        let runDirectory = runFolder
        let chooser = config.stdAutopath
        let app = options.app
        let label = call.keywords.first { $0.0 == "label" }.flatMap { keyword -> String? in
            switch keyword.1 {
            case .string(let text): text
            case .python(let object): try? String(python: object)
            default: nil
            }
        }
        let memo = AppCaching.python(function, call: call, options: options, bash: bash, join: join, plain: plainKeys)
        return submit(options, dependencies: call.dependencies, outputs: call.outputs, memo: memo) { id in
            let stdout = try call.stdout?.resolved(task: id, app: app, label: label, runDirectory: runDirectory, stream: "stdout", chooser: chooser)
            let stderr = try call.stderr?.resolved(task: id, app: app, label: label, runDirectory: runDirectory, stream: "stderr", chooser: chooser)
            var keywords = try call.keywords.map { ($0.0, try $0.1.substitutingFutures()) }
            if let inputs = call.inputs, keywordPolicy.accepts("inputs") { keywords.append(("inputs", try inputs.substitutingFutures())) }
            if !call.outputs.isEmpty, keywordPolicy.accepts("outputs") { keywords.append(("outputs", .list(call.outputs.map(Value.file)))) }
            if bash {
                for (name, redirect) in [("stdout", stdout), ("stderr", stderr)] {
                    if let redirect, keywordPolicy.accepts(name) { keywords.append((name, .string(redirect.path))) }
                }
            }
            let pythonCall = PythonCall(callable: function, arguments: try call.arguments.map { try $0.substitutingFutures() }, keywords: keywords)
            guard bash else { return .python(pythonCall) }
            return .bash(BashCall(command: .python(pythonCall), stdout: stdout, stderr: stderr, outputs: call.outputs))
        }
    }
}

extension PythonApp {
    /// The same app with its result read as `type` when the future is read: calls return
    /// `AppFuture<R>`. A result that is not an `R` fails the read with a ``ConversionError``
    /// naming the task and app.
    ///
    ///     let add = try dfk.pythonApp(module: "maths", function: "add").returning(Int.self)
    ///     let sum: Int = try add(2, 3).result()
    public func returning<R: Sendable>(_ type: R.Type) -> TypedPythonApp<R> { TypedPythonApp(app: self) }
}

/// A ``PythonApp`` whose result type is known: see ``PythonApp/returning(_:)``.
@dynamicCallable
public struct TypedPythonApp<R: Sendable>: Sendable {
    /// The untyped app.
    public let app: PythonApp

    /// `app(a, b)`: calls the app with positional arguments.
    public func dynamicallyCall(withArguments arguments: [any AppArgument]) -> AppFuture<R> {
        typed(app.dynamicallyCall(withArguments: arguments))
    }

    /// `app(a, scale: 2)`: calls the app; unlabelled arguments are positional, labelled ones keywords.
    public func dynamicallyCall(withKeywordArguments arguments: KeyValuePairs<String, any AppArgument>) -> AppFuture<R> {
        typed(app.dynamicallyCall(withKeywordArguments: arguments))
    }

    /// Calls the app with positional and keyword arguments.
    public func call(_ arguments: [any AppArgument], keywords: [(String, any AppArgument)]) -> AppFuture<R> {
        typed(app.call(arguments, keywords: keywords))
    }

    private func typed(_ future: AppFuture<Value>) -> AppFuture<R> {
        let (task, name) = (future.taskID, app.name)
        return future.map { value in
            do {
                return try value.decode(R.self)
            } catch {
                throw ConversionError(message: "task \(task) (app \(name)) returned a value that is not \(R.self): \(error)")
            }
        }
    }
}
