import PythonBridge

/// Where a bash app's `stdout` or `stderr` goes: a path, appended to by default (as Parsl does),
/// or truncated first with mode `w`.
///
/// Written as a string (`"out.txt"`), `Redirect("out.txt", mode: .truncate)`, or, from dynamic
/// arguments, the Parsl form `Tuple("out.txt", "w")`.
public struct Redirect: Sendable, Hashable, ExpressibleByStringLiteral, AppArgument {
    public enum Mode: String, Sendable {
        /// Open for appending, creating the file (Parsl's default `a+`).
        case append = "a"
        /// Truncate first (`w`).
        case truncate = "w"
    }

    public let path: String
    public let mode: Mode

    public init(_ path: String, mode: Mode = .append) {
        self.path = path
        self.mode = mode
    }

    public init(stringLiteral path: String) { self.init(path) }

    /// `Redirect.truncate("out.txt")`.
    public static func truncate(_ path: String) -> Redirect { Redirect(path, mode: .truncate) }

    public func appValue() throws -> Value { .tuple([.string(path), .string(mode.rawValue)]) }

    /// Reads Parsl's forms: a path, a `File`, or a `(path, mode)` tuple or list whose mode is one of
    /// `a`, `a+`, `w`, `w+`.
    init(value: Value, stream: String) throws {
        func path(_ value: Value) throws -> String {
            switch value {
            case .string(let text): return text
            case .file(let file): return file.path
            case .python(let object):
                if let text = try? String(python: object) { return text }
                if let file = try? String(python: object.attribute("filepath")) { return file }
            default: break
            }
            throw ConversionError(message: "\(stream) must be a path or a (path, mode) tuple, not \(value)")
        }
        switch value {
        case .tuple(let items) where items.count == 2, .list(let items) where items.count == 2:
            let modeText = try path(items[1])
            guard let mode = Self.modes[modeText] else {
                throw ConversionError(message: "\(stream) mode \(modeText.debugDescription) is not one of a, a+, w, w+")
            }
            self.init(try path(items[0]), mode: mode)
        case .python(let object) where object.containerKind == .tuple || object.containerKind == .list:
            try self.init(value: .tuple(object.items().map(Value.python)), stream: stream)
        default:
            self.init(try path(value))
        }
    }

    private static let modes: [String: Mode] = ["a": .append, "a+": .append, "w": .truncate, "w+": .truncate]
}
