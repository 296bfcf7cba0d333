import CPython

/// A failure on the Python side: a Python exception, a failed conversion, or an interpreter that
/// could not start. Holds only Swift values (never a live Python object), so it can cross threads
/// and outlive the GIL scope that made it.
public struct PythonError: Error, Sendable, CustomStringConvertible {
    /// The kinds of failure on the Python side.
    public enum Kind: Sendable, Equatable {
        /// Python raised an exception.
        case exception
        /// A value could not be converted between Swift and Python.
        case conversion
        /// The interpreter could not start.
        case initialization
        /// Python was used before ``Python/start(_:)``.
        case notStarted
    }

    /// Which kind of failure this is.
    public let kind: Kind
    /// The exception's qualified type name (`ZeroDivisionError`, `mymodule.MyError`); for other
    /// kinds a short label (`ConversionError`).
    public let typeName: String
    /// `str(exception)`, or what went wrong.
    public let message: String
    /// The formatted traceback, as Python prints it; empty when there is none.
    public let traceback: String
    /// The exception object itself, pickled, when it could be: so that Python code receiving this
    /// error (a script's future) can raise the original type again. Never a live object.
    public let pickledException: [UInt8]?

    /// A failure made on the Swift side; `typeName` defaults to a label for `kind` (`Exception`,
    /// `ConversionError`, `InitializationError`, `NotStarted`).
    public init(kind: Kind, typeName: String? = nil, message: String, traceback: String = "", pickledException: [UInt8]? = nil) {
        self.kind = kind
        self.typeName = typeName ?? {
            switch kind {
            case .exception: "Exception"
            case .conversion: "ConversionError"
            case .initialization: "InitializationError"
            case .notStarted: "NotStarted"
            }
        }()
        self.message = message
        self.traceback = traceback
        self.pickledException = pickledException
    }

    init(initializationStatus status: PyStatus, executable: String) {
        let function = status.func.map { String(cString: $0) } ?? "Py_InitializeFromConfig"
        let detail = status.err_msg.map { String(cString: $0) } ?? "unknown error"
        self.init(kind: .initialization,
                  message: "Python failed to start with executable \(executable): \(function): \(detail)")
    }

    /// `TypeName: message`, or the type name alone when there is no message.
    public var description: String {
        message.isEmpty ? typeName : "\(typeName): \(message)"
    }

    /// Takes the pending Python exception (clearing it) and formats it; call inside a GIL scope.
    /// With no exception pending, says that a call failed without setting one.
    static func fetch() -> PythonError {
        var type: UnsafeMutablePointer<PyObject>?
        var value: UnsafeMutablePointer<PyObject>?
        var trace: UnsafeMutablePointer<PyObject>?
        PyErr_Fetch(&type, &value, &trace)
        guard type != nil else {
            return PythonError(kind: .exception, typeName: "SystemError", message: "a Python call failed without setting an exception")
        }
        PyErr_NormalizeException(&type, &value, &trace)
        defer { Py_DecRef(type); Py_DecRef(value); Py_DecRef(trace) }
        if let value, let trace { PyException_SetTraceback(value, trace) }
        let name = type.map(qualifiedTypeName) ?? "Exception"
        let message = value.map(safeString) ?? ""
        let formatted = value.map(formatException) ?? ""
        return PythonError(kind: .exception, typeName: name, message: message, traceback: formatted,
                           pickledException: value.flatMap(pickle))
    }

    /// `module.QualName`, or just `QualName` for builtins.
    static func qualifiedTypeName(_ type: UnsafeMutablePointer<PyObject>) -> String {
        let qualname = attributeString(type, "__qualname__") ?? String(cString: sprig_type_name(type))
        guard let module = attributeString(type, "__module__"), module != "builtins" else { return qualname }
        return "\(module).\(qualname)"
    }

    private static func attributeString(_ object: UnsafeMutablePointer<PyObject>, _ name: String) -> String? {
        guard let attribute = PyObject_GetAttrString(object, name) else { PyErr_Clear(); return nil }
        defer { Py_DecRef(attribute) }
        guard sprig_unicode_check(attribute) != 0, let utf8 = PyUnicode_AsUTF8(attribute) else { PyErr_Clear(); return nil }
        return String(cString: utf8)
    }

    /// `str(object)`, never failing.
    static func safeString(_ object: UnsafeMutablePointer<PyObject>) -> String {
        guard let text = PyObject_Str(object) else { PyErr_Clear(); return "<unprintable \(String(cString: sprig_type_name(object)))>" }
        defer { Py_DecRef(text) }
        guard let utf8 = PyUnicode_AsUTF8(text) else { PyErr_Clear(); return "<unprintable>" }
        return String(cString: utf8)
    }

    /// `pickle.dumps(exception)`, or nil when it cannot be pickled.
    private static func pickle(_ exception: UnsafeMutablePointer<PyObject>) -> [UInt8]? {
        guard let module = PyImport_ImportModule("pickle") else { PyErr_Clear(); return nil }
        defer { Py_DecRef(module) }
        guard let dumps = PyObject_GetAttrString(module, "dumps") else { PyErr_Clear(); return nil }
        defer { Py_DecRef(dumps) }
        guard let data = PyObject_CallOneArg(dumps, exception) else { PyErr_Clear(); return nil }
        defer { Py_DecRef(data) }
        var bytes: UnsafeMutablePointer<CChar>?
        var size = 0
        guard PyBytes_AsStringAndSize(data, &bytes, &size) == 0, let bytes else { PyErr_Clear(); return nil }
        return [UInt8](UnsafeRawBufferPointer(start: bytes, count: size))
    }

    private static func formatException(_ value: UnsafeMutablePointer<PyObject>) -> String {
        guard let module = PyImport_ImportModule("traceback") else { PyErr_Clear(); return "" }
        defer { Py_DecRef(module) }
        guard let format = PyObject_GetAttrString(module, "format_exception") else { PyErr_Clear(); return "" }
        defer { Py_DecRef(format) }
        guard let lines = PyObject_CallOneArg(format, value) else { PyErr_Clear(); return "" }
        defer { Py_DecRef(lines) }
        guard let empty = PyUnicode_FromString(""), let joined = PyUnicode_Join(empty, lines) else { PyErr_Clear(); return "" }
        defer { Py_DecRef(empty); Py_DecRef(joined) }
        return PyUnicode_AsUTF8(joined).map { String(cString: $0) } ?? ""
    }

    static func conversion(_ pythonType: String, to swiftType: String, detail: String = "") -> PythonError {
        PythonError(kind: .conversion,
                    message: "cannot convert Python \(pythonType) to Swift \(swiftType)" + (detail.isEmpty ? "" : ": \(detail)"))
    }
}
