import Foundation
import PythonBridge
import Synchronization

extension Value: PythonConvertible {
    /// The Python object for this value; futures must have been substituted first. Takes the GIL.
    public func toPython() throws -> PythonObject {
        switch self {
        case .none: return PythonObject.none
        case .bool(let b): return try b.toPython()
        case .int(let i): return try i.toPython()
        case .double(let d): return try d.toPython()
        case .string(let s): return try s.toPython()
        case .bytes(let b): return try b.toPython()
        case .list(let items): return try items.toPython()
        case .tuple(let items): return try PythonTuple(elements: items).toPython()
        case .set(let items): return try PythonSide.builtin("set").call([try items.toPython()])
        case .dict(let pairs):
            return try withGIL { try PythonObject.dict(pairs.map { (try $0.key.toPython(), try $0.value.toPython()) }) }
        case .file(let file): return try PythonSide.fileClass().call(file.path)
        case .python(let object): return object
        case .pickled(let pickled): return try pickled.load()
        case .future(let future):
            throw ConversionError(message: "the future of task \(future.taskID) was not replaced by its value")
        }
    }
}

extension Value {
    /// Reads this value as a Swift type: `Int`, `Double`, `String`, `[UInt8]`, `[String: Int]`,
    /// `PythonObject`, `Value`, or anything ``ConvertibleFromPython``.
    ///
    /// - Throws: ``ConversionError`` or ``PythonBridge/PythonError`` naming both types when it does not fit.
    public func decode<T>(_ type: T.Type = T.self) throws -> T {
        if let same = self as? T { return same }
        switch self {
        case .pickled(let pickled):
            return try Value.python(pickled.load()).decode(type)
        case .python(let object):
            if let same = object as? T { return same }
            guard let convertible = T.self as? any ConvertibleFromPython.Type else {
                throw ConversionError(message: "a Python \(object.typeName) cannot be read as \(T.self): it is not ConvertibleFromPython")
            }
            return try convertible.init(python: object) as! T  // init(python:) of T.self returns a T
        case .none: if let value = Optional<Any>.none as? T { return value }
        case .bool(let b): if let value = b as? T { return value }
        case .int(let i):
            if let value = i as? T { return value }
            if let value = Double(i) as? T { return value }
        case .double(let d): if let value = d as? T { return value }
        case .string(let s): if let value = s as? T { return value }
        case .bytes(let b):
            if let value = b as? T { return value }
            if let value = Data(b) as? T { return value }
        case .file(let f): if let value = f as? T { return value }
        case .list, .tuple, .dict, .set, .future: break
        }
        // Containers and mismatches go through Python, whose conversions name both types.
        guard Python.isStarted, let convertible = T.self as? any ConvertibleFromPython.Type else {
            throw ConversionError(message: "the value \(self) cannot be read as \(T.self)")
        }
        return try convertible.init(python: toPython()) as! T
    }
}

/// The bytes of a pickled Python object, kept as bytes until someone reads them here.
///
/// From a local block's worker, the bytes may be an envelope naming shared-memory segments that
/// hold the object's large buffers (`python/sprig/PROTOCOL.md`, "Payloads"): the value then holds
/// a lease on them, which unlinks them once no copy of the value is left.
public struct PickledValue: Sendable {
    private let stored: [UInt8]
    /// The segments the bytes name, if any.
    let lease: SegmentLease?

    /// The pickle (or envelope), as this process can read it now.
    public var bytes: [UInt8] { lease?.payload(stored) ?? stored }

    /// Pickled bytes, kept as they are.
    public init(bytes: [UInt8]) { self.init(bytes: bytes, lease: nil) }

    init(bytes: [UInt8], lease: SegmentLease?) {
        self.stored = bytes
        self.lease = lease
    }

    /// `sprig.serialize.loads(bytes)`. Takes the GIL.
    public func load() throws -> PythonObject {
        try PythonSide.serializer("loads").call([bytes.toPython()])
    }

    /// The bytes with every buffer inline, readable without the segments (for a checkpoint, which
    /// outlives them). Takes the GIL when there are segments.
    func standaloneBytes() throws -> [UInt8] {
        guard lease != nil else { return bytes }
        let current = bytes
        return try withGIL { try [UInt8](python: PythonSide.serializer("inline").call([current.toPython()])) }
    }
}

extension Value {
    /// The Python object a worker should receive: like ``toPython()``, but pickled results stay
    /// pickled, wrapped in `sprig.serialize.Pickled`, for the worker to load. Takes the GIL.
    func toPythonForWorker() throws -> PythonObject {
        switch self {
        case .pickled(let pickled): return try PythonSide.serializer("Pickled").call([pickled.bytes.toPython()])
        case .list(let items) where items.contains(where: \.holdsPickled):
            return try items.map { try $0.toPythonForWorker() }.toPython()
        case .tuple(let items) where items.contains(where: \.holdsPickled):
            return try PythonTuple(elements: items.map { try $0.toPythonForWorker() }).toPython()
        case .set(let items) where items.contains(where: \.holdsPickled):
            return try PythonSide.builtin("set").call([try items.map { try $0.toPythonForWorker() }.toPython()])
        case .dict(let pairs) where pairs.contains(where: { $0.key.holdsPickled || $0.value.holdsPickled }):
            return try PythonObject.dict(pairs.map { (try $0.key.toPythonForWorker(), try $0.value.toPythonForWorker()) })
        default: return try toPython()
        }
    }

    var holdsPickled: Bool {
        switch self {
        case .pickled: true
        case .list(let items), .tuple(let items), .set(let items): items.contains { $0.holdsPickled }
        case .dict(let pairs): pairs.contains { $0.key.holdsPickled || $0.value.holdsPickled }
        default: false
        }
    }
}
