import PythonBridge
import Synchronization

/// The cache key of a Python or bash app's call whose arguments are all plain values, computed in
/// Swift without the GIL: byte for byte the key `sprig.memo_keys.task_key` gives the same call.
///
/// Plain values: `None`, `bool`, `int` (64 bits: ``Value/int(_:)``), `float`, `str`, `bytes`, and
/// lists, tuples and dicts of those (a dict whose keys are such scalars, no two equal in Python).
/// Anything else — a Python object, a pickled result, a ``File``, a set, a future, nesting deeper
/// than ``maximumDepth`` — gives `nil`, and the memoizer computes the key in Python instead. So does
/// every call once a script has registered its own `id_for_memo` rule for one of the plain types
/// (`sprig.memo_keys.watch_plain_rules` reports that here).
///
/// The encoding mirrors `sprig.memo_keys` (`framed`, the type tags, dicts sorted by their pairs'
/// encodings, keywords by name); `CacheKeyTests` checks the two agree over a spread of values.
/// Threading: pure functions, callable from any thread; only ``shape(of:app:ignoreForCache:bash:)``
/// takes the GIL.
package enum PlainCallKey {
    /// What a key needs to know about an app, read from Python once when the app is made.
    package struct Shape: Sendable {
        /// The app's name (module and qualified name), part of every key.
        let app: String
        /// The names of the parameters the function takes by position (`positional_parameters`).
        let positionalNames: [String]
        /// The app's `ignore_for_cache`.
        let ignored: Set<String>
    }

    /// Containers nested deeper than this go to Python, which encodes them without recursion.
    static let maximumDepth = 64

    /// The keywords' value that leaves `stdout`/`stderr` out of a key: Parsl's `AUTO_LOGNAME`.
    private static let automaticLogName = -1

    /// The shape of `function`'s calls, or `nil` when its keys must come from Python: a bash app
    /// whose function has parameter defaults (Parsl hashes them as if passed), or a script's
    /// memoizer that overrides `check_memo`. Takes the GIL; installs the rules watcher on first use.
    static func shape(of function: PythonObject, app: String, ignoreForCache: [String], bash: Bool) -> Shape? {
        do {
            return try withGIL {
                try Rules.install()
                let answer = try PythonSide.memoHelper("plain_call_shape").call([function, try bash.toPython()])
                if answer.isNone { return nil }
                return Shape(app: app, positionalNames: try [String](python: answer), ignored: Set(ignoreForCache))
            }
        } catch {
            return nil  // (the Python path computes every key, and reports what fails there)
        }
    }

    /// The call's key, or `nil` when an argument is not plain or a script changed a plain type's rule.
    /// - Parameters:
    ///   - arguments: the positional arguments, futures already replaced by their values.
    ///   - keywords: every keyword as given (Parsl's special ones among them), futures replaced.
    static func key(_ shape: Shape, arguments: [Value], keywords: [(String, Value)]) -> String? {
        guard Rules.intact else { return nil }
        var ignored = shape.ignored
        for (name, value) in keywords where name == "stdout" || name == "stderr" {
            if case .int(automaticLogName) = value { ignored.insert(name) }  // the engine picks the file
        }
        var positional: [[UInt8]] = []
        positional.reserveCapacity(arguments.count)
        for (index, value) in arguments.enumerated() {
            if index < shape.positionalNames.count, ignored.contains(shape.positionalNames[index]) {
                positional.append(Array("I".utf8))
                continue
            }
            guard let encoding = encode(value, depth: 0) else { return nil }
            positional.append(encoding)
        }
        var named: [(name: [UInt8], encoding: [UInt8])] = []
        var seen = Set<[UInt8]>()
        for (name, value) in keywords {
            let utf8 = Array(name.utf8)
            guard seen.insert(utf8).inserted else { return nil }  // (Python would keep the last one)
            if ignored.contains(name) { continue }
            guard let encoding = encode(value, depth: 0) else { return nil }
            named.append((utf8, framed("k", [utf8, encoding])))
        }
        // Python sorts keyword names as str, by code point: the order of their UTF-8 bytes.
        named.sort { $0.name.lexicographicallyPrecedes($1.name) }
        let material = framed("K", [Array("sprig-memo-key/1".utf8), Array(shape.app.utf8), Array("N".utf8),
                                    framed("A", positional), framed("W", named.map(\.encoding))])
        return SHA256.hex(material)
    }

    /// `id_for_memo(value)` of a plain value, or `nil`.
    static func encode(_ value: Value, depth: Int) -> [UInt8]? {
        switch value {
        case .none: return Array("N".utf8)
        case .bool(let flag): return Array((flag ? "T" : "F").utf8)
        case .int(let number): return integer(number)
        case .double(let number):
            let bits = number.bitPattern  // (struct.pack(">d") keeps a NaN's payload and -0.0's sign)
            return [UInt8(ascii: "f")] + (0..<8).map { UInt8(truncatingIfNeeded: bits >> UInt64(56 - 8 * $0)) }
        case .string(let text): return [UInt8(ascii: "s")] + Array(text.utf8)
        case .bytes(let bytes): return [UInt8(ascii: "b")] + bytes
        case .list(let items), .tuple(let items):
            guard depth < maximumDepth else { return nil }
            var parts: [[UInt8]] = []
            parts.reserveCapacity(items.count)
            for item in items {
                guard let part = encode(item, depth: depth + 1) else { return nil }
                parts.append(part)
            }
            if case .list = value { return framed("L", parts) }
            return framed("U", parts)
        case .dict(let pairs):
            guard depth < maximumDepth else { return nil }
            var keys = Set<DictKey>()
            var parts: [[UInt8]] = []
            parts.reserveCapacity(pairs.count)
            for pair in pairs {
                guard let key = DictKey(pair.key), keys.insert(key).inserted,
                      let keyEncoding = encode(pair.key, depth: depth + 1),
                      let valueEncoding = encode(pair.value, depth: depth + 1) else { return nil }
                parts.append(framed("p", [keyEncoding, valueEncoding]))
            }
            // Sorted by the pairs' encodings: insertion order is not part of a dict's key.
            return framed("D", parts.sorted { $0.lexicographicallyPrecedes($1) })
        case .set, .file, .python, .pickled, .future:
            return nil
        }
    }

    /// `b"i"` and the integer in the fewest whole bytes that hold it with a sign bit, big-endian
    /// (`int.to_bytes(bit_length // 8 + 1, "big", signed=True)`).
    private static func integer(_ number: Int) -> [UInt8] {
        let bitLength = Int.bitWidth - number.magnitude.leadingZeroBitCount
        let size = bitLength / 8 + 1
        var bytes: [UInt8] = [UInt8(ascii: "i")]
        bytes.reserveCapacity(size + 1)
        for index in (0..<size).reversed() {
            let shift = 8 * index
            bytes.append(shift >= Int.bitWidth ? (number < 0 ? 0xff : 0) : UInt8(truncatingIfNeeded: number >> shift))
        }
        return bytes
    }

    /// `tag`, the number of parts, then each part after its length (8 bytes, big-endian each):
    /// `sprig.memo_keys.framed`.
    static func framed(_ tag: Unicode.Scalar, _ parts: [[UInt8]]) -> [UInt8] {
        var bytes: [UInt8] = [UInt8(ascii: tag)]
        bytes.reserveCapacity(9 + parts.reduce(0) { $0 + 8 + $1.count })
        appendLength(parts.count, to: &bytes)
        for part in parts {
            appendLength(part.count, to: &bytes)
            bytes.append(contentsOf: part)
        }
        return bytes
    }

    private static func appendLength(_ length: Int, to bytes: inout [UInt8]) {
        let value = UInt64(length)
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }

    /// A dict key as Python compares it, so that keys Python would merge into one (`1`, `1.0`,
    /// `True`) are seen as one and the call goes to Python. `nil` for a key kind left to Python.
    private enum DictKey: Hashable {
        case none
        case number(Int)
        case fraction(UInt64)
        case text([UInt8])
        case bytes([UInt8])

        init?(_ value: Value) {
            switch value {
            case .none: self = .none
            case .bool(let flag): self = .number(flag ? 1 : 0)
            case .int(let number): self = .number(number)
            case .double(let number):
                guard !number.isNaN else { return nil }
                if let whole = Int(exactly: number) { self = .number(whole) } else { self = .fraction(number.bitPattern) }
            case .string(let text): self = .text(Array(text.utf8))
            case .bytes(let bytes): self = .bytes(bytes)
            default: return nil
            }
        }
    }

    /// Whether `id_for_memo`'s rules for the plain types are still Sprig's own: set by Python through
    /// `sprig.memo_keys.watch_plain_rules` whenever a rule is registered.
    enum Rules {
        private static let state = Atomic<Bool>(false)
        private static let installed = Mutex<Bool>(false)

        /// Whether a key may be computed here.
        static var intact: Bool { state.load(ordering: .acquiring) }

        /// Asks `sprig.memo_keys` to report the rules' state now and after every registration.
        /// Call with the GIL held; once per process does it.
        static func install() throws {
            guard !installed.withLock({ $0 }) else { return }
            let module = try Python.registerModule("_sprig_plain_rules", functions: [
                "changed": { arguments, _ in
                    state.store(try arguments.first.map { try Bool(python: $0) } ?? false, ordering: .releasing)
                    return .none
                },
            ])
            _ = try Python.importModule("sprig.memo_keys").attribute("watch_plain_rules").call([try module.attribute("changed")])
            installed.withLock { $0 = true }
        }
    }
}
