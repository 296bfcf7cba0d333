import PythonBridge

/// A value that goes into Python as an object of its own when ``PythonEncoder`` meets it
/// (a live exception, `bytes`), whatever its `Encodable` form for other encoders.
protocol PythonObjectEncodable {
    /// The Python object. Called holding the GIL.
    func pythonObject() throws -> PythonObject
}

/// Encodes an `Encodable` value as Python objects: keyed containers become `dict`s, unkeyed ones
/// `list`s, numbers, strings, bools and nil `int`, `float`, `str`, `bool` and `None`;
/// ``PythonObjectEncodable`` values go in as their own objects.
///
/// Threading: call ``encode(_:)`` holding the GIL; the encoder keeps no state between calls.
struct PythonEncoder {
    func encode(_ value: some Encodable) throws -> PythonObject {
        let root = Slot()
        try root.store(value, path: [])
        return try root.toPython()
    }
}

/// One place in the tree being encoded; containers fill their slots after they were handed out.
private final class Slot {
    enum Node {
        case none, bool(Bool), int(Int), double(Double), string(String), object(PythonObject)
        case list([Slot]), dict([(String, Slot)])
    }

    var node = Node.none

    func store(_ value: some Encodable, path: [any CodingKey]) throws {
        switch value {
        case let direct as any PythonObjectEncodable: node = .object(try direct.pythonObject())
        case let flag as Bool: node = .bool(flag)
        case let text as String: node = .string(text)
        case let number as Double: node = .double(number)
        case let number as Float: node = .double(Double(number))
        case let number as any BinaryInteger:
            guard let exact = Int(exactly: number) else {
                throw EncodingError.invalidValue(value, .init(codingPath: path, debugDescription: "\(number) does not fit in an Int"))
            }
            node = .int(exact)
        default: try value.encode(to: TreeEncoder(slot: self, codingPath: path))
        }
    }

    func toPython() throws -> PythonObject {
        switch node {
        case .none: return PythonObject.none
        case .bool(let flag): return try flag.toPython()
        case .int(let number): return try number.toPython()
        case .double(let number): return try number.toPython()
        case .string(let text): return try text.toPython()
        case .object(let object): return object
        case .list(let slots): return try slots.map { try $0.toPython() }.toPython()
        case .dict(let pairs): return try PythonObject.dict(pairs.map { (try $0.0.toPython(), try $0.1.toPython()) })
        }
    }

    func child(key: String) -> Slot {
        let slot = Slot()
        if case .dict(var pairs) = node {
            pairs.append((key, slot))
            node = .dict(pairs)
        } else {
            node = .dict([(key, slot)])
        }
        return slot
    }

    func appended() -> Slot {
        let slot = Slot()
        if case .list(var slots) = node {
            slots.append(slot)
            node = .list(slots)
        } else {
            node = .list([slot])
        }
        return slot
    }
}

private struct TreeEncoder: Encoder {
    let slot: Slot
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if case .dict = slot.node {} else { slot.node = .dict([]) }
        return KeyedEncodingContainer(Keyed(slot: slot, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if case .list = slot.node {} else { slot.node = .list([]) }
        return Unkeyed(slot: slot, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(slot: slot, codingPath: codingPath) }
}

private struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let slot: Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { _ = slot.child(key: key.stringValue) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try slot.child(key: key.stringValue).store(value, path: codingPath + [key])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(slot: slot.child(key: key.stringValue), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        TreeEncoder(slot: slot.child(key: key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { TreeEncoder(slot: slot.child(key: "super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder {
        TreeEncoder(slot: slot.child(key: key.stringValue), codingPath: codingPath + [key])
    }
}

private struct Unkeyed: UnkeyedEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]
    var count: Int {
        if case .list(let slots) = slot.node { return slots.count }
        return 0
    }

    mutating func encodeNil() throws { _ = slot.appended() }
    mutating func encode<T: Encodable>(_ value: T) throws { try slot.appended().store(value, path: codingPath) }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        TreeEncoder(slot: slot.appended(), codingPath: codingPath).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        TreeEncoder(slot: slot.appended(), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { TreeEncoder(slot: slot.appended(), codingPath: codingPath) }
}

private struct Single: SingleValueEncodingContainer {
    let slot: Slot
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { slot.node = .none }
    mutating func encode<T: Encodable>(_ value: T) throws { try slot.store(value, path: codingPath) }
}
