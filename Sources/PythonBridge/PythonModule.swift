import CPython
import Synchronization

/// A Swift closure callable from Python: positional arguments and keyword arguments in, a Python
/// object out. It runs on the calling Python thread, holding the GIL; to wait, wrap the wait in
/// ``withoutGIL(_:)``. Throwing ``PythonException`` raises that Python exception; any other error
/// raises `RuntimeError` with the error's description.
public typealias PythonFunction = @Sendable (_ arguments: [PythonObject], _ keywords: [String: PythonObject]) throws -> PythonObject

/// A Python exception to raise from a ``PythonFunction``: `PythonException("TypeError", "…")`.
public struct PythonException: Error, Sendable {
    /// A built-in exception type's name (`TypeError`, `ValueError`); an unknown name raises `RuntimeError`.
    public let typeName: String
    /// The exception's message, `str(exception)` in Python.
    public let message: String
    /// An exception of the built-in type `typeName` carrying `message`.
    public init(_ typeName: String, _ message: String) {
        self.typeName = typeName
        self.message = message
    }
}

extension Python {
    /// Makes a module whose functions are Swift closures and registers it in `sys.modules`, so
    /// `import name` finds it. Module functions live as long as the process.
    @discardableResult
    public static func registerModule(_ name: String, functions: [String: PythonFunction]) throws -> PythonObject {
        try requireStarted()
        return try withGIL {
            let module = try PythonObject(owning: PyModule_New(name))
            for (functionName, body) in functions.sorted(by: { $0.key < $1.key }) {
                let function = try makeFunction(name: functionName, module: name, body: body)
                guard PyObject_SetAttrString(module.pointer, functionName, function.pointer) == 0 else { throw PythonError.fetch() }
            }
            let modules = try PythonObject.importModule("sys").attribute("modules")
            guard PyDict_SetItemString(modules.pointer, name, module.pointer) == 0 else { throw PythonError.fetch() }
            return module
        }
    }

    private static func makeFunction(name: String, module: String, body: @escaping PythonFunction) throws -> PythonObject {
        // The definition and the closure's box must outlive the function object: both are kept for
        // the life of the process (modules made here are never torn down).
        let definition = UnsafeMutablePointer<PyMethodDef>.allocate(capacity: 1)
        let box = Unmanaged.passRetained(FunctionBox(body: body, name: "\(module).\(name)"))
        let trampoline: PyCFunctionWithKeywords = { capsule, arguments, keywords in
            guard let capsule, let raw = PyCapsule_GetPointer(capsule, capsuleName) else { return nil }
            let box = Unmanaged<FunctionBox>.fromOpaque(raw).takeUnretainedValue()
            return box.invoke(arguments: arguments, keywords: keywords)
        }
        definition.initialize(to: PyMethodDef(
            ml_name: UnsafePointer(strdup(name)),
            ml_meth: unsafeBitCast(trampoline, to: PyCFunction.self),
            ml_flags: METH_VARARGS | METH_KEYWORDS,
            ml_doc: nil))
        let capsule = try PythonObject(owning: PyCapsule_New(box.toOpaque(), capsuleName, nil))
        let moduleName = try module.toPython()
        return try PythonObject(owning: PyCFunction_NewEx(definition, capsule.pointer, moduleName.pointer))
    }
}

private final class FunctionBox: Sendable {
    let body: PythonFunction
    let name: String

    init(body: @escaping PythonFunction, name: String) {
        self.body = body
        self.name = name
    }

    /// Runs the closure with the GIL held (Python called us); returns a new reference, or nil with
    /// a Python exception set.
    func invoke(arguments: UnsafeMutablePointer<PyObject>?, keywords: UnsafeMutablePointer<PyObject>?) -> UnsafeMutablePointer<PyObject>? {
        var positional: [PythonObject] = []
        if let arguments {
            for index in 0..<PyTuple_Size(arguments) { positional.append(PythonObject(borrowing: PyTuple_GetItem(arguments, index)!)) }
        }
        var named: [String: PythonObject] = [:]
        if let keywords {
            var position = 0
            var key: UnsafeMutablePointer<PyObject>?
            var value: UnsafeMutablePointer<PyObject>?
            while PyDict_Next(keywords, &position, &key, &value) != 0 {
                if let utf8 = PyUnicode_AsUTF8(key) { named[String(cString: utf8)] = PythonObject(borrowing: value!) }
            }
        }
        do {
            let result = try body(positional, named)
            Py_IncRef(result.pointer)
            return result.pointer
        } catch let exception as PythonException {
            raise(exception.typeName, exception.message)
        } catch let error as PythonError where error.kind == .exception {
            raise(error.typeName, error.message)
        } catch {
            raise("RuntimeError", "\(error)")
        }
        return nil
    }

    private func raise(_ typeName: String, _ message: String) {
        let builtins = PyImport_ImportModule("builtins")
        defer { Py_DecRef(builtins) }
        var type = builtins.flatMap { PyObject_GetAttrString($0, typeName) }
        if type == nil {
            PyErr_Clear()
            type = PyObject_GetAttrString(builtins, "RuntimeError")
        }
        defer { Py_DecRef(type) }
        PyErr_SetString(type, message)
    }
}

/// The capsules' name: CPython keeps the pointer, so it must live as long as the process.
nonisolated(unsafe) private let capsuleName: UnsafePointer<CChar> = UnsafePointer(strdup("sprig.function")!)  // written once, never changed
