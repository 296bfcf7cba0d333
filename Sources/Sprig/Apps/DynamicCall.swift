/// The keywords Parsl gives a special meaning in app calls.
enum SpecialKeyword: String, CaseIterable {
    case inputs, outputs, stdout, stderr, walltime
}

/// A call refused before it runs, for a reason of its own (a bad `stdout` spec, say), rather than
/// an argument that could not be converted.
package struct CallRejection: Error {
    package let reason: TaskError.Reason
}

/// An app call's arguments in dynamic form, with Parsl's special keywords taken out.
struct DynamicCall {
    var arguments: [Value]
    var keywords: [(String, Value)]
    var inputs: Value?
    var outputs: [File]
    var stdout: Redirect?
    var stderr: Redirect?
    var walltime: Duration?
    var dependencies: [any TaskFuture]
    /// Every keyword as given, special ones included (what a cache key covers).
    var given: [(String, Value)] = []

    /// Lowers the call's Swift arguments; throws ``ConversionError`` naming the argument that cannot be passed.
    init(arguments: [any AppArgument], keywords: [(String, any AppArgument)]) throws {
        self.arguments = try arguments.enumerated().map { index, argument in
            do { return try argument.appValue() } catch let error as ConversionError {
                throw ConversionError(message: "argument \(index + 1): \(error.message)")
            }
        }
        self.keywords = []
        self.outputs = []
        self.dependencies = []
        for (name, argument) in keywords {
            let value: Value
            do { value = try argument.appValue() } catch let error as ConversionError {
                throw ConversionError(message: "argument \(name): \(error.message)")
            }
            given.append((name, value))
            switch SpecialKeyword(rawValue: name) {
            case .inputs?: inputs = value
            case .outputs?: outputs = try Self.files(value)
            case .stdout?: stdout = try Redirect.parse(value, stream: "stdout")
            case .stderr?: stderr = try Redirect.parse(value, stream: "stderr")
            case .walltime?: walltime = try Self.duration(value)
            case nil: self.keywords.append((name, value))
            }
        }
        for value in self.arguments { value.gatherFutures(into: &dependencies) }
        for (_, value) in self.keywords { value.gatherFutures(into: &dependencies) }
        inputs?.gatherFutures(into: &dependencies)
    }

    private static func files(_ value: Value) throws -> [File] {
        let items: [Value]
        switch value {
        case .list(let list), .tuple(let list): items = list
        case .none: items = []
        case .python(let object) where object.containerKind == .list || object.containerKind == .tuple:
            items = try object.items().map(Value.python)
        default: throw ConversionError(message: "outputs must be a list of files, not \(value)")
        }
        return try items.map { item in
            switch item {
            case .file(let file): return file
            case .string(let path): return File(path)
            case .future(let future as DataFuture): return future.file
            case .python(let object):
                if let path = try? String(python: object) { return File(path) }
                if object.hasAttribute("__fspath__"), let path = try? String(python: object.callMethod("__fspath__")) { return File(path) }
                fallthrough
            default: throw ConversionError(message: "outputs holds \(item), which is not a File or a path")
            }
        }
    }

    private static func duration(_ value: Value) throws -> Duration {
        switch value {
        case .int(let seconds) where seconds > 0: return .seconds(seconds)
        case .double(let seconds) where seconds > 0: return walltime(seconds: seconds)
        case .python(let object) where !object.isNone && object.typeName != "bool":
            // A number from a script: an int, a float, or anything with __float__.
            if let seconds = try? Double(python: object), seconds > 0 { return walltime(seconds: seconds) }
            fallthrough
        default: throw ConversionError(message: "walltime must be a positive number of seconds, not \(value)")
        }
    }

    /// Positive `seconds` rounded up to the millisecond; past what a `Duration` holds (infinity,
    /// `1e300`, `10**30`), ``Swift/Duration/forever``, which no walltime timer waits for: no walltime,
    /// as in Parsl, whose timer thread fails on such a walltime and lets the app run to its end.
    private static func walltime(seconds: Double) -> Duration {
        let milliseconds = (seconds * 1000).rounded(.up)
        return milliseconds < 0x1p63 ? .milliseconds(Int64(milliseconds)) : .forever
    }
}
