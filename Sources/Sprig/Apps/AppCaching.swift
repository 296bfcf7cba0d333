import Foundation
import PythonBridge

/// The cache requests apps give the kernel (``AppOptions/cache``): keys and stored forms of
/// Python, bash and Swift apps' calls.
enum AppCaching {
    /// A Python or bash app's call, keyed by `sprig.memo_calls.call_key` (Parsl's rules,
    /// `id_for_memo`) from the arguments with their futures' values and the keywords as given.
    /// Results: a Python app's pickled value (as a worker returned it, or pickled here from a
    /// thread executor's object); a bash app's exit code. `join`: the function is a join app's
    /// body, and its result the join app's final value (``MemoRequest/joins``).
    /// With `plain` (the app's ``PlainCallKey/Shape``), a call whose arguments are plain values is
    /// keyed in Swift, without the GIL; any other call still goes to Python.
    static func python(_ function: PythonObject, call: DynamicCall, options: DataFlowKernel.ResolvedOptions,
                       bash: Bool, join: Bool = false, plain: PlainCallKey.Shape? = nil) -> MemoRequest? {
        guard let policy = options.cache else { return nil }
        let (app, ignored) = (options.app, options.ignoreForCache)
        let byCode = if case .code = policy { true } else { false }
        var request = MemoRequest(
            app: app, kind: bash ? "bash" : join ? "join" : "python", usesPython: true,
            key: { task in
                let arguments = try call.arguments.map { try $0.substitutingFutures() }
                let keywords = try call.given.map { ($0.0, try $0.1.substitutingFutures()) }
                return try withGIL {
                    let answer = try PythonSide.memoHelper("call_key").call([
                        function, try app.toPython(), try Value.tuple(arguments).toPython(),
                        try Value.dict(keywords.map { (key: Value.string($0.0), value: $0.1) }).toPython(),
                        try bash.toPython(), try ignored.toPython(), try byCode.toPython(), try task.rawValue.toPython(),
                    ])
                    return MemoRequest.Key(value: try String(python: answer[0]), lookUp: try Bool(python: answer[1]))
                }
            },
            encode: { value in
                if bash { return StoredResult(encoding: .exitCode, bytes: Array("\(value as? Int ?? 0)".utf8)) }
                switch value as? Value {
                case .pickled(let pickled)?: return StoredResult(encoding: .pickle, bytes: try pickled.standaloneBytes())
                case let other?:
                    return try withGIL {
                        StoredResult(encoding: .pickle, bytes: try [UInt8](python: PythonSide.serializer("dumps_result").call([other.toPython()])))
                    }
                case nil: return nil
                }
            },
            decode: { stored in
                if bash { return Int(String(decoding: stored.bytes, as: UTF8.self)) ?? 0 }
                return Value.pickled(PickledValue(bytes: stored.bytes))
            })
        request.joins = join
        request.encodeUsesPython = { value in
            guard !bash, let value = value as? Value else { return false }
            if case .pickled = value { return false }
            return true
        }
        if let plain, !byCode {
            request.plainKey = {
                guard let arguments = try? call.arguments.map({ try $0.substitutingFutures() }),
                      let keywords = try? call.given.map({ ($0.0, try $0.1.substitutingFutures()) }),
                      let key = PlainCallKey.key(plain, arguments: arguments, keywords: keywords) else { return nil }
                return MemoRequest.Key(value: key)
            }
        }
        return request
    }

    /// The ``PlainCallKey/Shape`` of a cached Python or bash app's calls (`nil` for an app not
    /// cached, cached by code, or whose keys need Python). Takes the GIL; call once per app.
    static func plainShape(_ function: PythonObject, options: DataFlowKernel.ResolvedOptions, bash: Bool) -> PlainCallKey.Shape? {
        guard options.cache == .arguments else { return nil }
        return PlainCallKey.shape(of: function, app: options.app, ignoreForCache: options.ignoreForCache, bash: bash)
    }

    /// A Swift app's call, keyed by the JSON of its `Encodable` arguments (an argument that is not
    /// fails the call); its `Codable` result is stored as JSON. Kind `join`: a join app's body,
    /// whose `Output` is the join app's final value (``MemoRequest/joins``).
    static func swift<Output: Sendable>(app: String, kind: String = "swift", policy: CachePolicy?, output: Output.Type,
                                        arguments: @escaping @Sendable () throws -> [any Sendable]) -> MemoRequest? {
        guard let policy, Output.self is any Decodable.Type else { return nil }
        let version = if case .code(let version) = policy { version } else { "" }
        var request = MemoRequest(
            app: app, kind: kind, usesPython: false,
            key: { _ in
                let encoder = JSONEncoder()
                encoder.outputFormatting = [.sortedKeys]
                var material = Array("sprig-swift-key/1\u{0}\(app)\u{0}\(version)\u{0}".utf8)
                for (index, argument) in try arguments().enumerated() {
                    guard let encodable = argument as? any Encodable else {
                        throw ConversionError(message: "cannot cache a call of app \(app): argument \(index + 1) has type "
                                              + "\(type(of: argument)), which is not Encodable")
                    }
                    let json = try encoder.encode(encodable)
                    material += Array("\(json.count):".utf8) + [UInt8](json)
                }
                return MemoRequest.Key(value: SHA256.hex(material))
            },
            encode: { value in
                guard let encodable = value as? any Encodable else { return nil }
                return StoredResult(encoding: .json, bytes: [UInt8](try JSONEncoder().encode(encodable)))
            },
            decode: { stored in
                func read<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(type, from: Data(stored.bytes)) }
                guard let decodable = Output.self as? any Decodable.Type, let value = try read(decodable) as? Output else {
                    throw ConversionError(message: "a cached result of app \(app) cannot be read as \(Output.self)")
                }
                return value
            })
        request.joins = kind == "join"
        return request
    }

    /// Refuses to make a cached Swift app whose result cannot be stored.
    static func checkSwift<Output>(app: String, policy: CachePolicy?, output: Output.Type) throws(ConfigError) {
        guard policy != nil, !(Output.self is any Codable.Type) else { return }
        throw ConfigError(message: "app \(app) asks for caching, but its result type \(Output.self) is not Codable; "
                          + "make it Codable or leave AppOptions.cache unset")
    }
}
