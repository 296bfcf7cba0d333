import CPython
import Foundation

/// A Swift value that can become a Python object (Swift → Python).
public protocol PythonConvertible {
    /// A new Python object for this value. Takes the GIL.
    func toPython() throws -> PythonObject
}

/// A Swift value that can be made from a Python object (Python → Swift).
public protocol ConvertibleFromPython {
    /// Converts `python`, throwing a ``PythonError`` of kind `.conversion` that names both types
    /// when it is of the wrong type or out of range. Takes the GIL.
    init(python: PythonObject) throws
}

extension PythonObject: PythonConvertible, ConvertibleFromPython {
    /// The object itself.
    public func toPython() throws -> PythonObject { self }
    /// Another reference to the same object.
    public convenience init(python: PythonObject) throws { self.init(borrowing: python.pointer) }
}

extension PythonObject {
    /// Converts a Swift value (`PythonObject(5)`, `PythonObject(["a": 1])`).
    public static func from(_ value: any PythonConvertible) throws -> PythonObject { try value.toPython() }

    /// Converts this object to a Swift value of the given type.
    public func converted<T: ConvertibleFromPython>(to type: T.Type = T.self) throws -> T { try T(python: self) }
}

extension Int: PythonConvertible, ConvertibleFromPython {
    /// A Python `int`. Takes the GIL.
    public func toPython() throws -> PythonObject { try withGIL { try PythonObject(owning: PyLong_FromLongLong(Int64(self))) } }
    /// Accepts `int` but not `bool`; an `int` beyond 64 bits throws a `.conversion` error. Takes the GIL.
    public init(python: PythonObject) throws {
        self = try withGIL {
            guard sprig_long_check(python.pointer) != 0 else { throw PythonError.conversion(python.typeName, to: "Int") }
            var overflow: Int32 = 0
            let value = PyLong_AsLongLongAndOverflow(python.pointer, &overflow)
            if overflow != 0 {
                throw PythonError.conversion("int \(python.description)", to: "Int", detail: "it does not fit in 64 bits")
            }
            if value == -1, PyErr_Occurred() != nil { throw PythonError.fetch() }
            return Int(value)
        }
    }
}

extension Double: PythonConvertible, ConvertibleFromPython {
    /// A Python `float`. Takes the GIL.
    public func toPython() throws -> PythonObject { try withGIL { try PythonObject(owning: PyFloat_FromDouble(self)) } }
    /// Accepts `float` and `int` (as Python's own arithmetic would).
    public init(python: PythonObject) throws {
        self = try withGIL {
            guard sprig_float_check(python.pointer) != 0 || sprig_long_check(python.pointer) != 0 else {
                throw PythonError.conversion(python.typeName, to: "Double")
            }
            let value = PyFloat_AsDouble(python.pointer)
            if value == -1, PyErr_Occurred() != nil { throw PythonError.fetch() }
            return value
        }
    }
}

extension Bool: PythonConvertible, ConvertibleFromPython {
    /// `True` or `False`.
    public func toPython() throws -> PythonObject {
        withGIL { PythonObject(borrowing: self ? sprig_true() : sprig_false()) }
    }
    /// Accepts only `bool`: Python's truthiness is not a conversion.
    public init(python: PythonObject) throws {
        self = try withGIL {
            guard sprig_bool_check(python.pointer) != 0 else { throw PythonError.conversion(python.typeName, to: "Bool") }
            return python.pointer == sprig_true()
        }
    }
}

extension String: PythonConvertible, ConvertibleFromPython {
    /// A Python `str`. Takes the GIL.
    public func toPython() throws -> PythonObject {
        try withGIL {
            var copy = self
            return try copy.withUTF8 { utf8 in
                try PythonObject(owning: PyUnicode_DecodeUTF8(utf8.baseAddress.map { UnsafeRawPointer($0).assumingMemoryBound(to: CChar.self) },
                                                              utf8.count, "surrogatepass"))
            }
        }
    }
    /// Accepts only `str` (one holding lone surrogates throws `UnicodeEncodeError`). Takes the GIL.
    public init(python: PythonObject) throws {
        self = try withGIL {
            guard sprig_unicode_check(python.pointer) != 0 else { throw PythonError.conversion(python.typeName, to: "String") }
            var size = 0
            guard let utf8 = PyUnicode_AsUTF8AndSize(python.pointer, &size) else { throw PythonError.fetch() }
            return String(decoding: UnsafeRawBufferPointer(start: utf8, count: size), as: UTF8.self)
        }
    }
}

/// Bytes: `[UInt8]` and `Data` become `bytes`; `bytes` and `bytearray` convert back.
enum PythonBytes {
    static func make(_ buffer: UnsafeRawBufferPointer) throws -> PythonObject {
        try withGIL {
            try PythonObject(owning: PyBytes_FromStringAndSize(buffer.baseAddress?.assumingMemoryBound(to: CChar.self), buffer.count))
        }
    }

    static func read<T>(_ python: PythonObject, as swiftType: String, _ body: (UnsafeRawBufferPointer) -> T) throws -> T {
        try withGIL {
            if sprig_bytes_check(python.pointer) != 0 {
                var data: UnsafeMutablePointer<CChar>?
                var size = 0
                guard PyBytes_AsStringAndSize(python.pointer, &data, &size) == 0 else { throw PythonError.fetch() }
                return body(UnsafeRawBufferPointer(start: data, count: size))
            }
            if sprig_bytearray_check(python.pointer) != 0 {
                return body(UnsafeRawBufferPointer(start: PyByteArray_AsString(python.pointer), count: PyByteArray_Size(python.pointer)))
            }
            throw PythonError.conversion(python.typeName, to: swiftType)
        }
    }
}

extension Data: PythonConvertible, ConvertibleFromPython {
    /// A Python `bytes`. Takes the GIL.
    public func toPython() throws -> PythonObject { try withUnsafeBytes { try PythonBytes.make($0) } }
    /// Accepts `bytes` and `bytearray`. Takes the GIL.
    public init(python: PythonObject) throws { self = try PythonBytes.read(python, as: "Data") { Data($0) } }
}

/// Arrays become lists, except `[UInt8]`, which becomes `bytes`.
extension Array: PythonConvertible where Element: PythonConvertible {
    /// A new `list` of the converted elements (`bytes` for `[UInt8]`). Takes the GIL.
    public func toPython() throws -> PythonObject {
        if Element.self == UInt8.self {
            // A dynamic `as? [UInt8]` would check every element; the type is already known.
            return try unsafeBitCast(self, to: [UInt8].self).withUnsafeBytes { try PythonBytes.make($0) }
        }
        return try withGIL {
            let list = try PythonObject(owning: PyList_New(count))
            for (index, element) in enumerated() {
                let item = try element.toPython()
                Py_IncRef(item.pointer)
                PyList_SetItem(list.pointer, index, item.pointer)  // steals the reference taken above
            }
            return list
        }
    }
}

/// Lists and tuples become arrays; `[UInt8]` also takes `bytes` and `bytearray`.
extension Array: ConvertibleFromPython where Element: ConvertibleFromPython {
    /// Accepts a `list` or `tuple` whose elements all convert (a failure names the element's index);
    /// `[UInt8]` also accepts `bytes` and `bytearray`. Takes the GIL.
    public init(python: PythonObject) throws {
        if Element.self == UInt8.self,
           let bytes = try? PythonBytes.read(python, as: "[UInt8]", { [UInt8]($0) }) {
            self = unsafeBitCast(bytes, to: [Element].self)  // Element is UInt8, checked above
            return
        }
        self = try withGIL {
            let isList = sprig_list_check(python.pointer) != 0
            guard isList || sprig_tuple_check(python.pointer) != 0 else {
                throw PythonError.conversion(python.typeName, to: "Array<\(Element.self)>")
            }
            let count = isList ? PyList_Size(python.pointer) : PyTuple_Size(python.pointer)
            var result: [Element] = []
            result.reserveCapacity(count)
            for index in 0..<count {
                let borrowed = isList ? PyList_GetItem(python.pointer, index)! : PyTuple_GetItem(python.pointer, index)!
                do {
                    result.append(try Element(python: PythonObject(borrowing: borrowed)))
                } catch let error as PythonError where error.kind == .conversion {
                    throw PythonError(kind: .conversion, message: "element \(index): \(error.message)")
                }
            }
            return result
        }
    }
}

extension UInt8: PythonConvertible, ConvertibleFromPython {
    /// A Python `int`.
    public func toPython() throws -> PythonObject { try Int(self).toPython() }
    /// Accepts an `int` from 0 to 255.
    public init(python: PythonObject) throws {
        let value = try Int(python: python)
        guard let byte = UInt8(exactly: value) else { throw PythonError.conversion("int \(value)", to: "UInt8", detail: "out of range") }
        self = byte
    }
}

extension Dictionary: PythonConvertible where Key: PythonConvertible, Value: PythonConvertible {
    /// A new `dict` of the converted keys and values. Takes the GIL.
    public func toPython() throws -> PythonObject {
        try withGIL {
            let dict = try PythonObject(owning: PyDict_New())
            for (key, value) in self {
                let k = try key.toPython(), v = try value.toPython()
                guard PyDict_SetItem(dict.pointer, k.pointer, v.pointer) == 0 else { throw PythonError.fetch() }
            }
            return dict
        }
    }
}

extension Dictionary: ConvertibleFromPython where Key: ConvertibleFromPython, Value: ConvertibleFromPython {
    /// Accepts only a `dict` whose keys and values all convert. Takes the GIL.
    public init(python: PythonObject) throws {
        self = try withGIL {
            guard sprig_dict_check(python.pointer) != 0 else {
                throw PythonError.conversion(python.typeName, to: "Dictionary<\(Key.self), \(Value.self)>")
            }
            var result: [Key: Value] = [:]
            var position = 0
            var key: UnsafeMutablePointer<PyObject>?
            var value: UnsafeMutablePointer<PyObject>?
            while PyDict_Next(python.pointer, &position, &key, &value) != 0 {
                let k = try Key(python: PythonObject(borrowing: key!))
                result[k] = try Value(python: PythonObject(borrowing: value!))
            }
            return result
        }
    }
}

/// `nil` becomes `None`, and `None` becomes `nil`.
extension Optional: PythonConvertible where Wrapped: PythonConvertible {
    /// `None` for `nil`, else the wrapped value's object.
    public func toPython() throws -> PythonObject {
        switch self {
        case .some(let value): try value.toPython()
        case .none: PythonObject.none
        }
    }
}

extension Optional: ConvertibleFromPython where Wrapped: ConvertibleFromPython {
    /// `nil` for `None`, else the wrapped type's conversion.
    public init(python: PythonObject) throws {
        self = python.isNone ? nil : try Wrapped(python: python)
    }
}

/// A Python tuple built from Swift values: `PythonTuple(1, "a")` becomes `(1, 'a')`.
public struct PythonTuple: PythonConvertible {
    /// The elements, in order.
    public var elements: [any PythonConvertible]
    /// A tuple of these elements.
    public init(_ elements: any PythonConvertible...) { self.elements = elements }
    /// A tuple of the array's elements.
    public init(elements: [any PythonConvertible]) { self.elements = elements }

    /// A new `tuple` of the converted elements. Takes the GIL.
    public func toPython() throws -> PythonObject {
        try withGIL {
            let tuple = try PythonObject(owning: PyTuple_New(elements.count))
            for (index, element) in elements.enumerated() {
                let item = try element.toPython()
                Py_IncRef(item.pointer)
                PyTuple_SetItem(tuple.pointer, index, item.pointer)  // steals
            }
            return tuple
        }
    }
}

extension PythonObject {
    /// Whether this is a `list`, a `tuple` or a `dict`: containers whose items Sprig looks into.
    public var containerKind: ContainerKind? {
        withGIL {
            if sprig_list_check(pointer) != 0 { return .list }
            if sprig_tuple_check(pointer) != 0 { return .tuple }
            if sprig_dict_check(pointer) != 0 { return .dict }
            return nil
        }
    }

    /// The containers ``containerKind`` tells apart.
    public enum ContainerKind: Sendable { case list, tuple, dict }

    /// The items of a list or tuple, or the (key, value) pairs of a dict.
    public func items() throws -> [PythonObject] {
        try withGIL {
            switch containerKind {
            case .list, .tuple:
                let n = try count()
                return try (0..<n).map { try self[$0] }
            case .dict:
                return try PythonObject(owning: PyDict_Items(pointer)).items()
            case nil:
                throw PythonError.conversion(typeName, to: "a list of items")
            }
        }
    }
}

extension PythonObject {
    /// A new `dict` holding these pairs, in order.
    public static func dict(_ pairs: [(PythonObject, PythonObject)]) throws -> PythonObject {
        try withGIL {
            let dict = try PythonObject(owning: PyDict_New())
            for (key, value) in pairs {
                guard PyDict_SetItem(dict.pointer, key.pointer, value.pointer) == 0 else { throw PythonError.fetch() }
            }
            return dict
        }
    }
}

extension PythonObject {
    /// Whether this object is an instance of `type` (a class, or a tuple of classes), as `isinstance`.
    public func isInstance(of type: PythonObject) -> Bool {
        withGIL {
            let answer = PyObject_IsInstance(pointer, type.pointer)
            if answer < 0 { PyErr_Clear() }
            return answer == 1
        }
    }
}
