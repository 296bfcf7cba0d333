import Foundation
import PythonBridge

/// A script's config as `sprig.config.Config.to_spec()` hands it over, with every default filled
/// in. `docs/SCRIPTING-CONTRACT.md` is its spec; `contracts/config-spec/` holds cases both sides check.
///
/// Keys the script side leaves out (or sets to `None`) get the Swift types' defaults
/// (``Config/defaultRetries``, ``HighThroughputExecutor/defaultPrefetch``, …), so a default lives
/// in one place. Keys Swift does not know are ignored. Encoding writes every key, defaults included:
/// that is the "decoded" side of a contract case.
struct ConfigSpec: Codable, Equatable, Sendable {
    var executors: [ExecutorSpec]
    var retries: Int
    var runDirectory: String
    var strategy: StrategyName
    /// Seconds a block may stay idle under the `simple` strategy.
    var maxIdleTime: Double
    /// Whether the script gave `std_autopath`: the function itself is read from `sprig.api`.
    var stdAutopath: Bool
    /// The `MonitoringHub`'s settings; `nil`: no monitoring database.
    var monitoring: MonitoringSpec?
    /// App caching and checkpoints.
    var checkpoints: CheckpointsSpec
    /// Whether the engine writes `<run>/parsl.log` (False when the script's `initialize_logging` is
    /// False or a log config of Python's, which then receives the engine's lines).
    var runLog: Bool

    enum StrategyName: String, Codable, Sendable { case simple, none }

    enum CodingKeys: String, CodingKey {
        case executors, retries, strategy
        case runDirectory = "run_dir", maxIdleTime = "max_idletime", stdAutopath = "std_autopath"
        case joinExecutor = "join_executor", monitoring, checkpoints, runLog = "run_log"
    }

    /// The executor join apps (and lifted items) run on: the first thread executor, else one the
    /// engine adds (``ScriptConfig/internalLabel``), as Parsl adds its internal one.
    var joinExecutor: String {
        for case .threads(let threads) in executors { return threads.label }
        return ScriptConfig.internalLabel
    }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        executors = try keys.decode([ExecutorSpec].self, forKey: .executors)
        guard !executors.isEmpty else {
            throw DecodingError.dataCorruptedError(forKey: .executors, in: keys, debugDescription: "is empty; a config needs an executor")
        }
        var labels = Set<String>()
        for executor in executors where !labels.insert(executor.label).inserted {
            throw DecodingError.dataCorruptedError(forKey: .executors, in: keys,
                                                   debugDescription: "two executors are labelled \(executor.label.debugDescription)")
        }
        retries = try keys.value(.retries, default: Config.defaultRetries, atLeast: 0)
        runDirectory = try keys.value(.runDirectory, default: Config.defaultRunDirectory)
        strategy = try keys.value(.strategy, default: Config.defaultStrategy == .none ? .none : .simple)
        maxIdleTime = try keys.value(.maxIdleTime, default: Strategy.defaultIdleTime.seconds, atLeast: 0)
        stdAutopath = try keys.value(.stdAutopath, default: false)
        monitoring = try keys.decodeIfPresent(MonitoringSpec.self, forKey: .monitoring)
        checkpoints = try keys.value(.checkpoints, default: CheckpointsSpec())
        runLog = try keys.value(.runLog, default: true)
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode(executors, forKey: .executors)
        try keys.encode(retries, forKey: .retries)
        try keys.encode(runDirectory, forKey: .runDirectory)
        try keys.encode(strategy, forKey: .strategy)
        try keys.encode(maxIdleTime, forKey: .maxIdleTime)
        try keys.encode(stdAutopath, forKey: .stdAutopath)
        try keys.encode(joinExecutor, forKey: .joinExecutor)
        try keys.encode(monitoring, forKey: .monitoring)
        try keys.encode(checkpoints, forKey: .checkpoints)
        try keys.encode(runLog, forKey: .runLog)
    }

    /// Decodes a spec from its JSON text.
    /// - Throws: ``ConfigError`` naming the key that is missing or wrong.
    static func decode(json: Data) throws(ConfigError) -> ConfigSpec {
        try decoded(ConfigSpec.self, from: json, what: "the config spec")
    }

    /// `what` (a config spec's part) decoded from its JSON text; errors start with `what`.
    private static func decoded<T: Decodable>(_ type: T.Type, from json: Data, what: String) throws(ConfigError) -> T {
        do {
            return try JSONDecoder().decode(type, from: json)
        } catch let error as DecodingError {
            throw ConfigError(message: "\(what) is not valid: " + describe(error))
        } catch {
            throw ConfigError(message: "\(what) is not valid: \(error)")
        }
    }

    /// A Python value as JSON text (call holding the GIL); the error starts with `what`.
    private static func json(of object: PythonObject, what: String) throws -> Data {
        do {
            return Data(try String(python: Python.importModule("json").attribute("dumps").call([object])).utf8)
        } catch let error as PythonError {
            throw ConfigError(message: "\(what) holds a value that is not a number, string, bool, list or dict: \(error.message)")
        }
    }

    /// Reads the dict `Config.to_spec()` returned (call holding the GIL). `retry_handler`, a
    /// function, is handed back as it is; every other value must be what JSON can carry.
    /// - Throws: ``ConfigError`` naming what is wrong; ``PythonBridge/PythonError`` if Python fails.
    static func read(_ object: PythonObject) throws -> (spec: ConfigSpec, retryHandler: PythonObject?) {
        guard object.containerKind == .dict else {
            throw ConfigError(message: "the config spec must be a dict, from Config.to_spec(), not a \(object.typeName)")
        }
        var handler: PythonObject?
        var rest: [(PythonObject, PythonObject)] = []
        for pair in try object.items() {
            let key = try pair[0], value = try pair[1]
            if (try? String(python: key)) == "retry_handler" {
                handler = value.isNone ? nil : value
            } else {
                rest.append((key, value))
            }
        }
        return (try decode(json: json(of: try PythonObject.dict(rest), what: "the config spec")), handler)
    }

    /// Executor specs (`Executor.to_spec()` of each) from a Python list, for executors added to a
    /// loaded config; their labels must differ from each other.
    /// - Throws: ``ConfigError`` naming what is wrong.
    static func readExecutors(_ object: PythonObject) throws -> [ExecutorSpec] {
        let what = "the list of executor specs"
        let specs = try decoded([ExecutorSpec].self, from: json(of: object, what: what), what: what)
        var labels = Set<String>()
        for spec in specs where !labels.insert(spec.label).inserted {
            throw ConfigError(message: "two executors to add are labelled \(spec.label.debugDescription)")
        }
        return specs
    }

    /// `executors[0].provider.max_blocks: …`, from a decoding error.
    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context, _ last: (any CodingKey)? = nil) -> String {
            let keys = context.codingPath + (last.map { [$0] } ?? [])
            let text = keys.reduce("") { text, key in
                if let index = key.intValue { return text + "[\(index)]" }
                return text.isEmpty ? key.stringValue : text + "." + key.stringValue
            }
            return text.isEmpty ? "the spec" : text
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context, key)) is missing"
        case .typeMismatch(let type, let context): return "\(path(context)) must be \(jsonName(type)) (\(context.debugDescription))"
        case .valueNotFound(let type, let context): return "\(path(context)) must be \(jsonName(type)), not null"
        case .dataCorrupted(let context): return "\(path(context)) \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    private static func jsonName(_ type: Any.Type) -> String {
        switch type {
        case is Int.Type: "an int"
        case is Double.Type: "a number"
        case is String.Type: "a string"
        case is Bool.Type: "True or False"
        default: "\(type)"
        }
    }
}

/// The `kind` key of the spec objects that come in kinds (executors, providers, channels).
enum SpecKind {
    private enum Key: String, CodingKey { case kind }

    /// The object's `kind` (`fallback` when it has none), which must be one of `known`.
    static func read(_ decoder: any Decoder, default fallback: String? = nil, known: [String], of what: String) throws -> String {
        let keys = try decoder.container(keyedBy: Key.self)
        let kind = try fallback.map { try keys.value(.kind, default: $0) } ?? keys.decode(String.self, forKey: .kind)
        guard known.contains(kind) else {
            throw DecodingError.dataCorruptedError(forKey: .kind, in: keys, debugDescription: "is \(kind.debugDescription); Sprig has "
                                                   + known.map(\.debugDescription).joined(separator: " and ") + " \(what)")
        }
        return kind
    }
}

extension KeyedDecodingContainer {
    /// The value at `key`, or `fallback` when the key is absent or null.
    func value<T: Decodable>(_ key: Key, default fallback: T) throws -> T {
        try decodeIfPresent(T.self, forKey: key) ?? fallback
    }

    /// The value at `key` (or `fallback`), which must be at least `minimum`.
    func value<T: Decodable & Comparable>(_ key: Key, default fallback: T, atLeast minimum: T) throws -> T {
        let value = try value(key, default: fallback)
        guard value >= minimum else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "is \(value); it must be \(minimum) or more")
        }
        return value
    }

    /// The number of seconds at `key` (or `fallback`), which must be more than 0.
    func positive(_ key: Key, default fallback: Double) throws -> Double {
        let value = try value(key, default: fallback)
        guard value > 0 else {
            throw DecodingError.dataCorruptedError(forKey: key, in: self, debugDescription: "is \(value); it must be more than 0")
        }
        return value
    }
}
