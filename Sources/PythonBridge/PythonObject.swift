import CPython

/// A strong (owned) reference to a Python object.
///
/// Threading: every method takes the GIL itself (nested scopes are cheap), so a `PythonObject` may be
/// used and released from any thread; the pointer is only touched under the GIL, which is why the
/// `@unchecked Sendable` holds. Releasing the last Swift reference decrements the Python reference
/// count under the GIL.
public final class PythonObject: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<PyObject>

    /// Takes ownership of a new reference; a `nil` pointer means the call that produced it failed,
    /// and the pending Python exception is thrown. Call inside a GIL scope.
    init(owning pointer: UnsafeMutablePointer<PyObject>?) throws(PythonError) {
        guard let pointer else { throw PythonError.fetch() }
        self.pointer = pointer
    }

    /// Takes a new reference to a borrowed pointer. Call inside a GIL scope.
    init(borrowing pointer: UnsafeMutablePointer<PyObject>) {
        Py_IncRef(pointer)
        self.pointer = pointer
    }

    deinit {
        let pointer = self.pointer
        withGIL { Py_DecRef(pointer) }
    }

    /// Runs `body` with the raw pointer, keeping `self` alive across it: Swift may otherwise end
    /// this object's life right after reading `pointer`, before a C call uses it.
    @inline(__always)
    func withPointer<R, E: Error>(_ body: (UnsafeMutablePointer<PyObject>) throws(E) -> R) throws(E) -> R {
        defer { withExtendedLifetime(self) {} }
        return try body(pointer)
    }

    static func importModule(_ name: String) throws(PythonError) -> PythonObject {
        try withGIL { () throws(PythonError) in try PythonObject(owning: PyImport_ImportModule(name)) }
    }

    /// Python's `None`.
    public static var none: PythonObject { withGIL { PythonObject(borrowing: sprig_none()) } }

    /// Whether this is `None`.
    public var isNone: Bool { sprig_is_none(pointer) != 0 }

    /// Whether this can be called.
    public var isCallable: Bool { withGIL { sprig_callable_check(pointer) != 0 } }

    /// The type's qualified name (`int`, `mymodule.Point`).
    public var typeName: String { withGIL { PythonError.qualifiedTypeName(sprig_type_of(pointer)) } }

    /// `getattr(self, name)`.
    public func attribute(_ name: String) throws(PythonError) -> PythonObject {
        try withGIL { () throws(PythonError) in try PythonObject(owning: PyObject_GetAttrString(pointer, name)) }
    }

    /// `hasattr(self, name)`.
    public func hasAttribute(_ name: String) -> Bool {
        withGIL { PyObject_HasAttrString(pointer, name) == 1 }
    }

    /// `setattr(self, name, value)`.
    public func setAttribute(_ name: String, _ value: any PythonConvertible) throws {
        try withGIL {
            let object = try value.toPython()
            guard object.withPointer({ PyObject_SetAttrString(pointer, name, $0) }) == 0 else { throw PythonError.fetch() }
        }
    }

    /// `self[index]` for a sequence or mapping with integer keys.
    public subscript(index: Int) -> PythonObject {
        get throws(PythonError) {
            try withGIL { () throws(PythonError) in
                guard let key = PyLong_FromLong(index) else { throw PythonError.fetch() }
                defer { Py_DecRef(key) }
                return try PythonObject(owning: PyObject_GetItem(pointer, key))
            }
        }
    }

    /// `len(self)`.
    public func count() throws(PythonError) -> Int {
        try withGIL { () throws(PythonError) in
            let n = PyObject_Length(pointer)
            if n < 0 { throw PythonError.fetch() }
            return n
        }
    }

    /// Calls this object with already-converted arguments. Takes the GIL.
    public func call(_ arguments: [PythonObject], keywords: [(String, PythonObject)] = []) throws(PythonError) -> PythonObject {
        try withGIL { () throws(PythonError) in
            let result: UnsafeMutablePointer<PyObject>?
            if keywords.isEmpty {
                result = arguments.withUnsafeBufferPointer { buffer in
                    var pointers = buffer.map { Optional($0.pointer) }
                    return PyObject_Vectorcall(pointer, &pointers, arguments.count, nil)
                }
            } else {
                guard let names = PyTuple_New(keywords.count) else { throw PythonError.fetch() }
                defer { Py_DecRef(names) }
                for (index, (name, _)) in keywords.enumerated() {
                    guard let key = PyUnicode_FromString(name) else { throw PythonError.fetch() }
                    PyTuple_SetItem(names, index, key)  // steals key
                }
                var pointers = arguments.map { Optional($0.pointer) } + keywords.map { Optional($0.1.pointer) }
                result = PyObject_Vectorcall(pointer, &pointers, arguments.count, names)
            }
            withExtendedLifetime(arguments) {}
            withExtendedLifetime(keywords.map(\.1)) {}
            return try PythonObject(owning: result)
        }
    }

    /// Calls this object, converting Swift arguments: `f.call(5, 9)`, `f.call("x", keywords: ["sep": ","])`.
    public func call(_ arguments: any PythonConvertible..., keywords: KeyValuePairs<String, any PythonConvertible> = [:]) throws -> PythonObject {
        try withGIL {
            let positional = try arguments.map { try $0.toPython() }
            let named = try keywords.map { ($0.key, try $0.value.toPython()) }
            return try call(positional, keywords: named)
        }
    }

    /// `self.name(arguments…)`.
    public func callMethod(_ name: String, _ arguments: any PythonConvertible...) throws -> PythonObject {
        try withGIL {
            let positional = try arguments.map { try $0.toPython() }
            return try attribute(name).call(positional)
        }
    }

    /// `id(self)`: equal for two references to the same object while it lives.
    public var identity: Int { Int(bitPattern: pointer) }

    /// `self is other`.
    public func isIdentical(to other: PythonObject) -> Bool { pointer == other.pointer }

    /// The current reference count; for tests of ownership.
    public var referenceCount: Int { withGIL { pointer.pointee.ob_refcnt } }
}

extension PythonObject: CustomStringConvertible, CustomDebugStringConvertible {
    /// `str(self)`.
    public var description: String { withGIL { PythonError.safeString(pointer) } }

    /// `repr(self)`.
    public var debugDescription: String {
        withGIL {
            guard let text = PyObject_Repr(pointer) else { PyErr_Clear(); return "<unrepresentable>" }
            defer { Py_DecRef(text) }
            return PyUnicode_AsUTF8(text).map { String(cString: $0) } ?? "<unrepresentable>"
        }
    }
}
