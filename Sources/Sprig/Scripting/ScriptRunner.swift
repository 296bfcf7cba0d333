import PythonBridge

/// Runs a Python workflow script on the engine, as `sprig run script.py` does: the script runs as
/// `__main__` in the embedded interpreter with `sys.argv` set, its folder first on the import path,
/// and Parsl's import names (`import parsl`, `from parsl import python_app`, …) provided by Sprig;
/// its apps run on ``DataFlowKernel``s the ``ScriptEngine`` starts.
///
/// Signals stay the program's: call ``ProgramSignals/stopOnInterrupt()`` before ``run(onStart:onEnd:)``
/// (as the `sprig` command does, before Python starts — Python's `signal` module would otherwise take
/// SIGINT over) for Ctrl-C and SIGTERM to stop every block and exit with 128 + the signal number.
/// Run one script at a time per process (they share the one interpreter and its `_sprig_engine`).
public struct ScriptRunner: Sendable {
    /// The script's path.
    public let script: String
    /// The script's `sys.argv[1:]`.
    public let arguments: [String]
    /// A ready config loaded before the script runs; the script's own `load()` is then ignored.
    public let readyConfig: ReadyConfig?
    /// The engine the script's apps run on; read its ``ScriptEngine/taskCounts`` for progress.
    public let engine: ScriptEngine

    /// - Parameters:
    ///   - script: the path of the Python script.
    ///   - arguments: its `sys.argv[1:]`.
    ///   - readyConfig: a config to load first (`sprig run --config`), or `nil` for the script's own.
    ///   - engine: the engine to install; a new one by default.
    public init(script: String, arguments: [String] = [], readyConfig: ReadyConfig? = nil, engine: ScriptEngine = ScriptEngine()) {
        self.script = script
        self.arguments = arguments
        self.readyConfig = readyConfig
        self.engine = engine
    }

    /// Starts the interpreter, installs the engine, runs the script and waits for its tasks.
    ///
    /// A Python exception the script does not catch is printed as Python prints it (exit status 1);
    /// it never throws out of here.
    /// - Parameters:
    ///   - onStart: called once the engine is ready (and the ready config loaded), before the script runs.
    ///   - onEnd: called once: after the last task ended and the kernel stopped (`false`), or, when
    ///     the program is interrupted, from the signal thread before it exits (`true`).
    /// - Returns: the script's exit status (0, its `SystemExit` code, or 1 after an uncaught exception).
    /// - Throws: ``PythonBridge/PythonError`` when the interpreter or the engine cannot start;
    ///   ``ConfigError`` or ``ExecutorError`` when the ready config cannot.
    public func run(onStart: () throws -> Void = {},
                    onEnd: @escaping @Sendable (_ interrupted: Bool) -> Void = { _ in }) throws -> Int32 {
        try Python.start()
        let root = PythonSide.packageRoot
        try Python.addSearchPath(root)
        // Parsl's names exist only here, under a script run: a real Parsl elsewhere is never shadowed.
        try Python.addSearchPath(root + "/sprig/compat")
        try engine.install()
        if let readyConfig { try engine.load(readyConfig) }
        EmergencyStop.register(engine) { onEnd(true) }
        defer { EmergencyStop.unregister(engine) }
        try onStart()
        let status = try withGIL {
            Int32(truncatingIfNeeded: try Int(python: Python.importModule("sprig.runner").attribute("run_script").call(script, arguments)))
        }
        engine.cleanup()
        onEnd(false)
        Python.flushStandardStreams()
        return status
    }
}
