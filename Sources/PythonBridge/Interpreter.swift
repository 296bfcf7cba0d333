import CPython
import Foundation
import Synchronization

/// How the embedded interpreter is started.
public struct PythonConfiguration: Sendable, Equatable {
    /// The Python interpreter whose environment to use (a venv's `bin/python`, say). `nil` picks one:
    /// `$SPRIG_PYTHON`, then `$VIRTUAL_ENV/bin/python`, then the `python3.X` matching the linked libpython.
    public var executable: String?
    /// Folders put at the front of `sys.path`, in this order.
    public var searchPaths: [String]

    /// By default the interpreter is chosen from the environment (see ``executable``) and `sys.path` gets nothing.
    public init(executable: String? = nil, searchPaths: [String] = []) {
        self.executable = executable
        self.searchPaths = searchPaths
    }
}

/// What the running interpreter is.
public struct PythonRuntimeInfo: Sendable, Equatable {
    /// `sys.executable`: the interpreter worker processes must run.
    public let executable: String
    /// Where that choice came from: `configuration`, `SPRIG_PYTHON`, `VIRTUAL_ENV` or `libpython`.
    public let executableSource: String
    /// `sys.version_info[:2]`.
    public let version: (major: Int, minor: Int)
    /// `sys.prefix`: the venv when one is used.
    public let prefix: String

    /// Equal when the executable, version and prefix are; ``executableSource`` is not compared.
    public static func == (a: Self, b: Self) -> Bool {
        a.executable == b.executable && a.version == b.version && a.prefix == b.prefix
    }
}

/// The one embedded CPython interpreter of this process.
///
/// Threading: every member may be called from any thread. `start` runs once; later calls only add
/// search paths (and fail if they ask for another interpreter). The interpreter is never finalized:
/// a process that embeds it flushes `sys.stdout`/`sys.stderr` (``flushStandardStreams()``) and exits.
public enum Python {
    private struct Started: @unchecked Sendable {  // the info is immutable once set
        let info: PythonRuntimeInfo
        let requestedExecutable: String
    }
    private static let state = Mutex<Started?>(nil)

    /// The linked libpython's version, known before the interpreter starts.
    public static let linkedVersion = (major: Int(sprig_py_major_version()), minor: Int(sprig_py_minor_version()))

    /// Whether ``start(_:)`` has run.
    public static var isStarted: Bool { state.withLock { $0 != nil } }

    /// The running interpreter, or `nil` before ``start(_:)``.
    public static var info: PythonRuntimeInfo? { state.withLock { $0?.info } }

    /// Starts the interpreter once; later calls add `configuration.searchPaths` to `sys.path`.
    ///
    /// - Throws: ``PythonError`` when the interpreter cannot start, the chosen executable does not exist or
    ///   belongs to another Python version, or a later call asks for a different executable.
    @discardableResult
    public static func start(_ configuration: PythonConfiguration = .init()) throws -> PythonRuntimeInfo {
        let (path, source) = try resolveExecutable(explicit: configuration.executable,
                                                   environment: ProcessInfo.processInfo.environment)
        let info: PythonRuntimeInfo = try state.withLock { started in
            if let started {
                if configuration.executable != nil && started.requestedExecutable != path {
                    throw PythonError(kind: .initialization,
                                      message: "the interpreter already runs \(started.info.executable); "
                                          + "it cannot switch to \(path) in the same process")
                }
                return started.info
            }
            let info = try initialize(executable: path, source: source)
            started = Started(info: info, requestedExecutable: path)
            return info
        }
        for folder in configuration.searchPaths.reversed() { try addSearchPath(folder) }
        return info
    }

    /// Chooses the interpreter: `explicit` → `$SPRIG_PYTHON` → `$VIRTUAL_ENV/bin/python` → the
    /// `python3.X` matching the linked libpython. The path is checked for existence and version.
    public static func resolveExecutable(explicit: String?, environment: [String: String]) throws -> (path: String, source: String) {
        try resolveExecutable(explicit: explicit, environment: environment, folders: libpythonFolders)
    }

    /// Where the `python3.X` matching the linked libpython is looked for, in this order.
    package static let libpythonFolders = ["/usr/bin", "/usr/local/bin", "/bin"]

    /// ``resolveExecutable(explicit:environment:)``, looking for the libpython's `python3.X` in `folders`.
    package static func resolveExecutable(explicit: String?, environment: [String: String],
                                          folders: [String]) throws -> (path: String, source: String) {
        let candidates: [(String?, String)] = [
            (explicit, "configuration"),
            (environment["SPRIG_PYTHON"], "SPRIG_PYTHON"),
            (environment["VIRTUAL_ENV"].map { $0 + "/bin/python" }, "VIRTUAL_ENV"),
        ]
        for case let (path?, source) in candidates where !path.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw PythonError(kind: .initialization,
                                  message: "the Python interpreter \(path) (from \(source)) does not exist or is not executable")
            }
            try checkVenvVersion(executable: path, source: source)
            return (path, source)
        }
        let versioned = "python\(linkedVersion.major).\(linkedVersion.minor)"
        for folder in folders where FileManager.default.isExecutableFile(atPath: "\(folder)/\(versioned)") {
            return ("\(folder)/\(versioned)", "libpython")
        }
        let searched = folders.count > 1 ? folders.dropLast().joined(separator: ", ") + " or " + folders[folders.count - 1]
                                         : folders.first ?? "no folder"
        throw PythonError(kind: .initialization,
                          message: "no \(versioned) interpreter matching the linked libpython was found in \(searched); "
                              + "install it or set SPRIG_PYTHON")
    }

    /// A venv made from another Python minor version cannot run on this libpython: say so before starting.
    private static func checkVenvVersion(executable: String, source: String) throws {
        let binFolder = (executable as NSString).deletingLastPathComponent
        let cfg = ((binFolder as NSString).deletingLastPathComponent as NSString).appendingPathComponent("pyvenv.cfg")
        guard let text = try? String(contentsOfFile: cfg, encoding: .utf8) else { return }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
            guard parts.count == 2, parts[0] == "version" || parts[0] == "version_info" else { continue }
            let numbers = parts[1].split(separator: ".").compactMap { Int($0) }
            if numbers.count >= 2 && (numbers[0], numbers[1]) != (linkedVersion.major, linkedVersion.minor) {
                throw PythonError(kind: .initialization,
                                  message: "the venv of \(executable) (from \(source)) is Python \(numbers[0]).\(numbers[1]), "
                                      + "but Sprig embeds libpython \(linkedVersion.major).\(linkedVersion.minor); "
                                      + "make the venv with python\(linkedVersion.major).\(linkedVersion.minor) -m venv")
            }
            return
        }
    }

    private static func initialize(executable: String, source: String) throws -> PythonRuntimeInfo {
        // Text is UTF-8 (`print("café")`, `open()` without an encoding, the standard streams), as for a
        // `python3` started on a C or UTF-8 locale: an isolated config would otherwise leave the C
        // locale's ASCII in force. `PYTHONUTF8=0` opts out, as it does for `python3`.
        var preconfig = PyPreConfig()
        PyPreConfig_InitIsolatedConfig(&preconfig)
        preconfig.utf8_mode = ProcessInfo.processInfo.environment["PYTHONUTF8"] == "0" ? 0 : 1
        let preStatus = Py_PreInitialize(&preconfig)
        if PyStatus_Exception(preStatus) != 0 { throw PythonError(initializationStatus: preStatus, executable: executable) }
        // Heap-allocated: taking `&config` and `&config.executable` together is an overlapping access.
        let config = UnsafeMutablePointer<PyConfig>.allocate(capacity: 1)
        defer { PyConfig_Clear(config); config.deallocate() }
        PyConfig_InitIsolatedConfig(config)
        config.pointee.install_signal_handlers = 0
        config.pointee.parse_argv = 0
        config.pointee.buffered_stdio = 0  // app output reaches its file at once, as it would from python3 -u
        // `executable` is how a venv becomes visible: getpath finds pyvenv.cfg beside it and site adds
        // the venv's site-packages. `home` would abort (a venv has no stdlib) and VIRTUAL_ENV is ignored.
        let status = PyConfig_SetBytesString(config, config.pointer(to: \.executable)!, executable)
        if PyStatus_Exception(status) != 0 { throw PythonError(initializationStatus: status, executable: executable) }
        let initStatus = Py_InitializeFromConfig(config)
        if PyStatus_Exception(initStatus) != 0 { throw PythonError(initializationStatus: initStatus, executable: executable) }
        // Py_InitializeFromConfig leaves this thread holding the GIL with the main thread state.
        let runtime: PythonRuntimeInfo
        do {
            let sys = try PythonObject.importModule("sys")
            let versionInfo = try sys.attribute("version_info")
            runtime = PythonRuntimeInfo(
                executable: try String(python: sys.attribute("executable")),
                executableSource: source,
                version: (try Int(python: versionInfo[0]), try Int(python: versionInfo[1])),
                prefix: try String(python: sys.attribute("prefix")))
        } catch {
            _ = PyEval_SaveThread()
            throw error
        }
        _ = PyEval_SaveThread()  // drop the GIL: any thread may take it from now on
        return runtime
    }

    /// Puts `folder` at the front of `sys.path` (once), so that modules in it can be imported.
    public static func addSearchPath(_ folder: String) throws {
        try requireStarted()
        let absolute = URL(fileURLWithPath: folder).standardizedFileURL.path
        try withGIL {
            let path = try PythonObject.importModule("sys").attribute("path")
            let entry = try absolute.toPython()
            if PySequence_Contains(path.pointer, entry.pointer) == 1 { return }
            guard PyList_Insert(path.pointer, 0, entry.pointer) == 0 else { throw PythonError.fetch() }
        }
    }

    /// Imports a module by its dotted name.
    /// - Throws: ``PythonError`` with the `ModuleNotFoundError` (or whatever the import raised).
    public static func importModule(_ name: String) throws -> PythonObject {
        try requireStarted()
        return try withGIL { try PythonObject.importModule(name) }
    }

    /// Evaluates one Python expression in a fresh namespace (`lambda x: x * 2`, say).
    public static func evaluate(_ expression: String) throws -> PythonObject {
        try requireStarted()
        return try withGIL {
            let globals = try PythonObject(owning: PyDict_New())
            let builtins = try PythonObject.importModule("builtins")
            guard PyDict_SetItemString(globals.pointer, "__builtins__", builtins.pointer) == 0 else { throw PythonError.fetch() }
            return try PythonObject(owning: PyRun_StringFlags(expression, Py_eval_input, globals.pointer, globals.pointer, nil))
        }
    }

    /// Runs Python statements as the body of a new module named `name` and returns that module.
    public static func module(named name: String, source: String) throws -> PythonObject {
        try requireStarted()
        return try withGIL {
            let code = try PythonObject(owning: Py_CompileString(source, "<\(name)>", Py_file_input))
            return try PythonObject(owning: PyImport_ExecCodeModule(name, code.pointer))
        }
    }

    /// Runs Python statements in the `__main__` module, as a script's top level would, and returns
    /// that module. Functions defined this way live in `__main__`.
    @discardableResult
    public static func runMain(_ statements: String) throws -> PythonObject {
        try requireStarted()
        return try withGIL {
            let main = try PythonObject.importModule("__main__")
            let globals = try main.attribute("__dict__")
            if PyDict_GetItemString(globals.pointer, "__builtins__") == nil {
                let builtins = try PythonObject.importModule("builtins")
                guard PyDict_SetItemString(globals.pointer, "__builtins__", builtins.pointer) == 0 else { throw PythonError.fetch() }
            }
            _ = try PythonObject(owning: PyRun_StringFlags(statements, Py_file_input, globals.pointer, globals.pointer, nil))
            return main
        }
    }

    /// Flushes `sys.stdout` and `sys.stderr`. Call before the process exits: the interpreter is never finalized.
    public static func flushStandardStreams() {
        guard isStarted else { return }
        withGIL {
            for name in ["stdout", "stderr"] {
                guard let stream = PySys_GetObject(name), sprig_is_none(stream) == 0 else { continue }
                guard let flush = PyObject_GetAttrString(stream, "flush") else { PyErr_Clear(); continue }
                if let result = PyObject_CallNoArgs(flush) { Py_DecRef(result) } else { PyErr_Clear() }
                Py_DecRef(flush)
            }
        }
    }

    static func requireStarted() throws {
        guard isStarted else {
            throw PythonError(kind: .notStarted, message: "the Python interpreter is not started; call Python.start() first")
        }
    }
}
