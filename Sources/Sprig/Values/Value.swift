import PythonBridge

/// A dynamically typed value passed to Python and bash apps, or returned by Python apps.
///
/// Python apps' results are ``python(_:)``: the object itself, never converted until someone reads
/// it as a Swift type, and passed on as the same object to the next Python app.
public indirect enum Value: Sendable {
    /// Python's `None`.
    case none
    /// `bool`.
    case bool(Bool)
    /// `int` (64 bits here).
    case int(Int)
    /// `float`.
    case double(Double)
    /// `str`.
    case string(String)
    /// `bytes` in Python.
    case bytes([UInt8])
    /// `list`.
    case list([Value])
    /// `tuple`.
    case tuple([Value])
    /// `dict`, as its pairs in order.
    case dict([(key: Value, value: Value)])
    /// A Python `set` (from scripts): futures inside are dependencies too, as in Parsl's deep resolver.
    case set([Value])
    /// A ``File``; a `sprig.File` in Python apps.
    case file(File)
    /// A live Python object, passed on as itself.
    case python(PythonObject)
    /// A pickled Python object, as a process executor's worker returned it: unpickled only when read
    /// in this process, passed on as the same bytes to other worker tasks.
    case pickled(PickledValue)
    /// A dependency, replaced by its task's value before the app runs.
    case future(any TaskFuture)
}

extension Value: CustomStringConvertible {
    /// A Python-like rendering, for messages and logs.
    public var description: String {
        switch self {
        case .none: "None"
        case .bool(let b): b ? "True" : "False"
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .string(let s): s.debugDescription
        case .bytes(let b): "bytes(\(b.count))"
        case .list(let items): "[" + items.map(\.description).joined(separator: ", ") + "]"
        case .tuple(let items): "(" + items.map(\.description).joined(separator: ", ") + (items.count == 1 ? ",)" : ")")
        case .dict(let pairs): "{" + pairs.map { "\($0.key): \($0.value)" }.joined(separator: ", ") + "}"
        case .set(let items): "{" + items.map(\.description).joined(separator: ", ") + "}"
        case .file(let f): "File(\(f.path.debugDescription))"
        case .python(let o): o.debugDescription
        case .pickled(let p): "<pickled, \(p.bytes.count) bytes>"
        case .future(let f): "<future of task \(f.taskID)>"
        }
    }
}

/// A value could not be converted between Swift, the engine and Python.
public struct ConversionError: Error, Sendable, CustomStringConvertible {
    /// What could not be converted, naming the value or argument.
    public let message: String
    /// An error saying `message`.
    public init(message: String) { self.message = message }
    /// The message.
    public var description: String { message }
}

/// Something that can be an argument of a Python or bash app: a plain value, a future (which makes
/// the call wait for it), a ``File``, a Python object, or a list, tuple or dictionary of these.
///
/// Arrays, dictionaries and optionals conform whatever their elements are, and check the elements
/// when the app is called: an element that cannot be passed fails that call's future with a
/// ``ConversionError`` naming its type.
public protocol AppArgument {
    /// The dynamic form of this argument, with futures left in place.
    func appValue() throws -> Value
}

extension Value: AppArgument { public func appValue() throws -> Value { self } }
extension Int: AppArgument { public func appValue() throws -> Value { .int(self) } }
extension Double: AppArgument { public func appValue() throws -> Value { .double(self) } }
extension Bool: AppArgument { public func appValue() throws -> Value { .bool(self) } }
extension String: AppArgument { public func appValue() throws -> Value { .string(self) } }
extension Substring: AppArgument { public func appValue() throws -> Value { .string(String(self)) } }
extension File: AppArgument { public func appValue() throws -> Value { .file(self) } }
extension PythonObject: AppArgument { public func appValue() throws -> Value { .python(self) } }
extension AppFuture: AppArgument { public func appValue() throws -> Value { .future(self) } }
extension DataFuture: AppArgument { public func appValue() throws -> Value { .future(self) } }

/// An argument given as `any AppArgument`, or one of the few Swift types handled by inspection.
func appValue(of item: Any, at place: @autoclosure () -> String) throws -> Value {
    if let argument = item as? any AppArgument { return try argument.appValue() }
    if let number = item as? Float { return .double(Double(number)) }
    if let number = item as? any BinaryInteger, let int = Int(exactly: number) { return .int(int) }
    throw ConversionError(message: "\(place()) is a \(type(of: item)), which cannot be passed to an app; "
                          + "conform it to AppArgument or pass a Value")
}

/// Arrays become Python lists, except `[UInt8]`, which becomes `bytes`.
extension Array: AppArgument {
    /// A `.list` of the elements (each an app argument), or `.bytes` for `[UInt8]`.
    public func appValue() throws -> Value {
        if Element.self == UInt8.self { return .bytes(unsafeBitCast(self, to: [UInt8].self)) }  // no per-element cast
        return .list(try enumerated().map { try Sprig.appValue(of: $0.element, at: "list item \($0.offset)") })
    }
}

extension Dictionary: AppArgument {
    /// A `.dict` of the keys and values (each an app argument).
    public func appValue() throws -> Sprig.Value {
        .dict(try map { (try Sprig.appValue(of: $0.key, at: "a dictionary key"), try Sprig.appValue(of: $0.value, at: "the value for key \($0.key)")) })
    }
}

extension Optional: AppArgument {
    /// `.none` for `nil`, else the wrapped value's form.
    public func appValue() throws -> Value {
        switch self {
        case .none: .none
        case .some(let wrapped): try Sprig.appValue(of: wrapped, at: "an optional's value")
        }
    }
}

/// A Python tuple of app arguments: `Tuple(future, 2)` arrives as `(value, 2)`.
public struct Tuple: AppArgument {
    /// The items, in order: app arguments, or Swift numbers.
    public let items: [Any]
    /// A tuple of these items.
    public init(_ items: Any...) { self.items = items }
    /// A `.tuple` of the items' forms.
    public func appValue() throws -> Value {
        .tuple(try items.enumerated().map { try Sprig.appValue(of: $0.element, at: "tuple item \($0.offset)") })
    }
}

extension Value {
    /// Every future inside, depth first.
    func gatherFutures(into futures: inout [any TaskFuture]) {
        switch self {
        case .future(let f): futures.append(f)
        case .list(let items), .tuple(let items), .set(let items): for item in items { item.gatherFutures(into: &futures) }
        case .dict(let pairs):
            for pair in pairs {
                pair.key.gatherFutures(into: &futures)
                pair.value.gatherFutures(into: &futures)
            }
        default: break
        }
    }

    package var containsFuture: Bool {
        switch self {
        case .future: true
        case .list(let items), .tuple(let items), .set(let items): items.contains { $0.containsFuture }
        case .dict(let pairs): pairs.contains { $0.key.containsFuture || $0.value.containsFuture }
        default: false
        }
    }

    /// This value with every future replaced by its task's value; call only once all have succeeded.
    func substitutingFutures() throws -> Value {
        guard containsFuture else { return self }
        switch self {
        case .future(let f):
            guard let backed = f as? any CoreBacked, let outcome = backed.core.outcome else {
                throw ConversionError(message: "task \(f.taskID) has not ended")
            }
            return try Value(swiftValue: backed.dependencyValue(from: outcome.get()), from: f.taskID)
        case .list(let items): return .list(try items.map { try $0.substitutingFutures() })
        case .tuple(let items): return .tuple(try items.map { try $0.substitutingFutures() })
        case .set(let items): return .set(try items.map { try $0.substitutingFutures() })
        case .dict(let pairs): return .dict(try pairs.map { (try $0.key.substitutingFutures(), try $0.value.substitutingFutures()) })
        default: return self
        }
    }

    /// A task's result as a value for a Python or bash app.
    package init(swiftValue: any Sendable, from task: TaskID) throws {
        if let value = swiftValue as? Value { self = value; return }
        do {
            self = try Sprig.appValue(of: swiftValue, at: "the result of task \(task)")
        } catch let error as ConversionError {
            throw ConversionError(message: error.message)
        }
    }
}
