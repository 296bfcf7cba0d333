import Foundation
import PythonBridge

/// Where a bash app's `stdout` or `stderr` goes: a path, appended to by default (as Parsl does),
/// or truncated first with mode `w`.
///
/// Written as a string (`"out.txt"`), `Redirect("out.txt", mode: .truncate)`, or, from dynamic
/// arguments, the Parsl form `Tuple("out.txt", "w")`.
public struct Redirect: Sendable, Hashable, ExpressibleByStringLiteral, AppArgument {
    /// How the file is opened.
    public enum Mode: String, Sendable {
        /// Open for appending, creating the file (Parsl's default `a+`).
        case append = "a"
        /// Truncate first (`w`).
        case truncate = "w"
    }

    /// The file's path; empty for ``automatic``.
    public let path: String
    /// Append or truncate.
    public let mode: Mode
    /// Parsl's `AUTO_LOGNAME`: the path is chosen per task when it runs (``resolved(task:app:label:runDirectory:stream:chooser:)``).
    public let isAutomatic: Bool

    /// A redirect to `path`, appended to unless `mode` is `.truncate`.
    public init(_ path: String, mode: Mode = .append) {
        self.path = path
        self.mode = mode
        self.isAutomatic = false
    }

    private init(automaticWithMode mode: Mode) {
        self.path = ""
        self.mode = mode
        self.isAutomatic = true
    }

    /// One file per task and stream under the run directory (Parsl's `AUTO_LOGNAME`):
    /// `<run directory>/task_logs/0000/task_0042_<function>[_<label>].stdout`, where the function is
    /// the last part of the app's name and the label the call's `label=` keyword, if any.
    public static let automatic = Redirect(automaticWithMode: .append)

    /// The redirect with an automatic path made concrete for one task.
    package func resolved(task: TaskID, app: String, label: String? = nil, runDirectory: String, stream: String,
                          chooser: (@Sendable (TaskID, String, String) throws -> Redirect)? = nil) throws -> Redirect {
        guard isAutomatic else { return self }
        if let chooser { return try chooser(task, app, stream) }
        return Redirect(Self.automaticPath(task: task, app: app, label: label, runDirectory: runDirectory, stream: stream), mode: mode)
    }

    /// Where ``automatic`` puts one task's stream.
    package static func automaticPath(task: TaskID, app: String, label: String?, runDirectory: String, stream: String) -> String {
        let id = task.rawValue
        let function = app.split(separator: ".").last.map(String.init) ?? app
        let suffix = label.map { "_\($0)" } ?? ""
        let name = "task_\(String(format: "%04d", id))_\(function)\(suffix).\(stream)".replacingOccurrences(of: "/", with: "_")
        return "\(runDirectory)/task_logs/\(String(format: "%04d", id / 10000))/\(name)"
    }

    /// `"out.txt"`: appended to.
    public init(stringLiteral path: String) { self.init(path) }

    /// `Redirect.truncate("out.txt")`.
    public static func truncate(_ path: String) -> Redirect { Redirect(path, mode: .truncate) }

    /// Parsl's `(path, mode)` tuple; for ``automatic``, Parsl's `AUTO_LOGNAME` (-1), so that a
    /// dynamic call resolves the path per task.
    public func appValue() throws -> Value {
        isAutomatic ? .int(-1) : .tuple([.string(path), .string(mode.rawValue)])
    }

    /// Reads Parsl's forms: a path (a string, a ``File`` or any `os.PathLike`), or a `(path, mode)`
    /// tuple whose mode is one of `a`, `a+`, `w`, `w+`; `None` means no redirection.
    ///
    /// - Throws: ``CallRejection`` with ``TaskError/Reason/badStdStreamSpec(_:)`` for a spec of the
    ///   wrong shape or types (Parsl's type check: a list, a 1- or 3-tuple, a `None` mode), and
    ///   ``TaskError/Reason/badStdStream(path:detail:)`` for an unknown mode (Parsl's `BadStdStreamFile`).
    package static func parse(_ value: Value, stream: String) throws(CallRejection) -> Redirect? {
        func wrongShape(_ what: String) -> CallRejection {
            CallRejection(reason: .badStdStreamSpec("\(stream) must be a path or a (path, mode) tuple, not \(what)"))
        }
        func text(_ value: Value) -> String? {
            switch value {
            case .string(let text): return text
            case .python(let object): return try? String(python: object)
            default: return nil
            }
        }
        func path(_ value: Value) -> String? {
            switch value {
            case .string(let text): return text
            case .file(let file): return file.path
            case .python(let object):
                if let text = try? String(python: object) { return text }
                if object.hasAttribute("__fspath__"), let text = try? String(python: object.callMethod("__fspath__")) { return text }
                return nil
            default: return nil
            }
        }
        switch value {
        case .none:
            return nil
        case .python(let object) where object.isNone:
            return nil
        case .int(-1):
            return .automatic
        case .python(let object) where object.typeName == "int" && (try? Int(python: object)) == -1:
            return .automatic  // parsl.AUTO_LOGNAME
        case .tuple(let items):
            guard items.count == 2 else { throw wrongShape("a tuple of \(items.count)") }
            guard let file = path(items[0]) else { throw wrongShape("a tuple whose path is \(items[0])") }
            guard let modeText = text(items[1]) else { throw wrongShape("a tuple whose mode is \(items[1])") }
            guard let mode = modes[modeText] else {
                throw CallRejection(reason: .badStdStream(path: file, detail: "mode \(modeText.debugDescription) is not one of a, a+, w, w+"))
            }
            return Redirect(file, mode: mode)
        case .python(let object) where object.containerKind == .tuple:
            return try parse(.tuple((try? object.items().map { $0.isNone ? Value.none : .python($0) }) ?? []), stream: stream)
        case .list:
            throw wrongShape("a list")
        case .python(let object) where object.containerKind == .list:
            throw wrongShape("a list")
        default:
            guard let file = path(value) else { throw wrongShape("\(value)") }
            return Redirect(file)
        }
    }

    private static let modes: [String: Mode] = ["a": .append, "a+": .append, "w": .truncate, "w+": .truncate]
}
