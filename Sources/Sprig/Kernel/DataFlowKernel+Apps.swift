import PythonBridge

extension DataFlowKernel {
    /// Starts the embedded interpreter (once per process) with the config's Python settings, and
    /// makes the `sprig` Python package importable.
    @discardableResult
    public func startPython() throws -> PythonRuntimeInfo {
        let info = try Python.start(config.python)
        try Python.addSearchPath(PythonSide.packageRoot)
        return info
    }

    /// Imports a module of the user's, putting `folder` (if given) at the front of `sys.path` first.
    /// - Throws: ``PythonBridge/PythonError`` (`ModuleNotFoundError`, or what the module raised).
    public func importModule(_ name: String, from folder: String? = nil) throws -> PythonObject {
        try startPython()
        if let folder { try Python.addSearchPath(folder) }
        return try Python.importModule(name)
    }

    /// Makes a Python app from any Python callable: a function, a lambda, a bound method.
    /// - Throws: ``ConfigError`` when it is not callable or names an unknown executor.
    public func pythonApp(_ function: PythonObject, name: String? = nil, options: AppOptions = .init()) throws -> PythonApp {
        let (appName, policy) = try describe(function, name: name)
        let resolved = try resolve(options, app: appName)
        return PythonApp(name: appName, kernel: self, function: function, options: resolved, keywords: policy,
                         plainKeys: AppCaching.plainShape(function, options: resolved, bash: false))
    }

    /// Makes a Python app from `function` in `module` (imported from `folder` if given).
    /// - Throws: ``PythonBridge/PythonError`` when the module cannot be imported; ``ConfigError`` when it
    ///   has no such function.
    public func pythonApp(module: String, function: String, from folder: String? = nil, options: AppOptions = .init()) throws -> PythonApp {
        try pythonApp(try lookUp(function, in: module, from: folder), name: "\(module).\(function)", options: options)
    }

    /// Makes a bash app from a Python function that returns the command line (Parsl's `@bash_app`).
    public func bashApp(_ function: PythonObject, name: String? = nil, options: AppOptions = .init()) throws -> PythonBashApp {
        let (appName, policy) = try describe(function, name: name)
        let resolved = try resolve(options, app: appName)
        return PythonBashApp(name: appName, kernel: self, function: function, options: resolved, keywords: policy,
                             plainKeys: AppCaching.plainShape(function, options: resolved, bash: true))
    }

    /// Makes a bash app from `function` in `module`, which returns the command line.
    public func bashApp(module: String, function: String, from folder: String? = nil, options: AppOptions = .init()) throws -> PythonBashApp {
        try bashApp(try lookUp(function, in: module, from: folder), name: "\(module).\(function)", options: options)
    }

    /// Makes a bash app whose command a Swift closure builds: `dfk.bashApp(name: "greet") { (who: String) in "echo hi \(who)" }`.
    public func bashApp<each Input: Sendable>(name: String, options: AppOptions = .init(),
                                              command: @escaping @Sendable (repeat each Input) throws -> String) throws -> BashApp<repeat each Input> {
        BashApp(name: name, kernel: self, options: try resolve(options, app: name), command: command)
    }

    /// Makes a Swift app from a closure: `dfk.swiftApp(name: "double") { (x: Int) in x * 2 }`.
    /// - Throws: ``ConfigError`` when `options` name an unknown executor, or ask for caching
    ///   (``AppOptions/cache``) of an app whose `Output` is not `Codable`.
    public func swiftApp<each Input: Sendable, Output: Sendable>(
        name: String, options: AppOptions = .init(), _ body: @escaping @Sendable (repeat each Input) throws -> Output
    ) throws -> SwiftApp<repeat each Input, Output> {
        try AppCaching.checkSwift(app: name, policy: options.cache, output: Output.self)
        return SwiftApp(name: name, kernel: self, options: try resolve(options, app: name), body: body)
    }

    /// Makes a join app from a closure that calls apps and returns one of their futures (Parsl's
    /// `@join_app`): the join app's future ends with that future's value.
    ///
    ///     let total = try dfk.joinApp(name: "total") { (n: Int) in sum(n > 0 ? n : 1) }
    ///
    /// - Throws: ``ConfigError`` when `options` name an unknown executor, or ask for caching
    ///   (``AppOptions/cache``) of a join app whose `Output` is not `Codable`.
    public func joinApp<each Input: Sendable, Output: Sendable>(
        name: String, options: AppOptions = .init(), _ body: @escaping @Sendable (repeat each Input) throws -> AppFuture<Output>
    ) throws -> JoinApp<repeat each Input, Output> {
        try AppCaching.checkSwift(app: name, policy: options.cache, output: Output.self)
        return JoinApp(name: name, kernel: self, options: try resolve(options, app: name)) { (input: repeat each Input) in
            JoinedFutures(try body(repeat each input))
        }
    }

    /// Makes a join app from a closure that calls apps and returns a list of their futures: the
    /// join app's future ends with the list of their values, in order (``JoinError`` if any failed).
    /// - Throws: ``ConfigError`` when `options` name an unknown executor, or ask for caching
    ///   (``AppOptions/cache``) of a join app whose `[Element]` is not `Codable`.
    public func joinApp<each Input: Sendable, Element: Sendable>(
        name: String, options: AppOptions = .init(), _ body: @escaping @Sendable (repeat each Input) throws -> [AppFuture<Element>]
    ) throws -> JoinApp<repeat each Input, [Element]> {
        try AppCaching.checkSwift(app: name, policy: options.cache, output: [Element].self)
        return JoinApp(name: name, kernel: self, options: try resolve(options, app: name)) { (input: repeat each Input) in
            JoinedFutures(try body(repeat each input))
        }
    }

    private func lookUp(_ function: String, in module: String, from folder: String?) throws -> PythonObject {
        let imported = try importModule(module, from: folder)
        guard imported.hasAttribute(function) else {
            throw ConfigError(message: "Python module \(module) (\(try String(python: imported.attribute("__file__")))) has no function \(function)")
        }
        return try imported.attribute(function)
    }

    private func describe(_ function: PythonObject, name: String?) throws -> (String, KeywordPolicy) {
        try startPython()
        let appName = try name ?? String(python: PythonSide.appsHelper("app_name").call(function))
        guard function.isCallable else {
            throw ConfigError(message: "\(appName) is a Python \(function.typeName), not a callable; an app needs a function")
        }
        return (appName, try KeywordPolicy(function: function))
    }
}

extension AppFuture where T == Value {
    /// Blocks until the task ends and reads its value as `type` (see ``Value/decode(_:)``).
    public func result<U>(as type: U.Type) throws -> U { try result().decode(type) }

    /// Awaits the task and reads its value as `type`.
    public func value<U>(as type: U.Type) async throws -> U { try await value.decode(type) }

    /// A future of the same task whose value is read as `type`, for typed Swift apps.
    public func `as`<U: Sendable>(_ type: U.Type) -> AppFuture<U> { map { try $0.decode(type) } }
}
