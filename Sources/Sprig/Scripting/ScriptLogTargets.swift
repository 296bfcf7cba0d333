import Foundation
import Logging
import PythonBridge
import Synchronization

/// Where a script asked the engine's lines to go besides `parsl.log`: the files and streams of
/// `parsl.set_file_logger` and `parsl.set_stream_logger`, each with its level. Kernels a script
/// loads get a logger whose handler (``ScriptLogHandler``) writes to the targets of the moment.
///
/// Threading: any thread; targets are added and removed from the script's thread, lines written
/// from the kernels' recorder threads.
final class ScriptLogTargets: Sendable {
    private struct State {
        var targets: [Int: any ScriptLogTarget] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// Adds a file or stream target; returns its id, for ``remove(_:)``.
    func add(_ file: LogFile, level: Logger.Level) -> Int {
        add(FileLogTarget(handler: FileLogHandler(file: file, level: level)))
    }

    /// Adds a target that hands each line to Python's `logging` through `emit(levelno, message,
    /// created)` (a log config of the script's receives the engine's lines); returns its id.
    func add(python emit: PythonObject, level: Logger.Level) -> Int {
        add(PythonLogTarget(emit: emit, logLevel: level))
    }

    private func add(_ target: any ScriptLogTarget) -> Int {
        state.withLock { state in
            defer { state.nextID += 1 }
            state.targets[state.nextID] = target
            return state.nextID
        }
    }

    func remove(_ id: Int) {
        let removed = state.withLock { $0.targets.removeValue(forKey: id) }
        removed?.flush()
    }

    var current: [any ScriptLogTarget] { state.withLock { Array($0.targets.values) } }

    /// A logger for a kernel: lines at or above each target's level go to it.
    func logger() -> Logger { Logger(label: "parsl") { _ in ScriptLogHandler(targets: self) } }

    /// Python's `logging` level number as swift-log's level (10 DEBUG, 20 INFO, 30 WARNING, …).
    static func level(python: Int) -> Logger.Level {
        switch python {
        case ..<10: .trace
        case 10..<20: .debug
        case 20..<30: .info
        case 30..<40: .warning
        case 40..<50: .error
        default: .critical
        }
    }
}

/// The handler of ``ScriptLogTargets/logger()``.
struct ScriptLogHandler: LogHandler {
    let targets: ScriptLogTargets
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    /// The lowest level of the targets of the moment (`critical` with none: nothing is formatted).
    var logLevel: Logger.Level {
        get { targets.current.map(\.logLevel).min() ?? .critical }
        set {}  // each target keeps the level the script gave it
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        for target in targets.current where target.logLevel <= event.level {
            target.write(event)
            target.flush()  // a script may read its log while the run goes on
        }
    }
}

/// One place a script's log targets write the engine's lines to.
protocol ScriptLogTarget: Sendable {
    var logLevel: Logger.Level { get }
    func write(_ event: LogEvent)
    func flush()
}

/// A file or stream (`set_file_logger`, `set_stream_logger`): the lines as in `parsl.log`.
struct FileLogTarget: ScriptLogTarget {
    let handler: FileLogHandler
    var logLevel: Logger.Level { handler.logLevel }
    func write(_ event: LogEvent) { handler.log(event: event) }
    func flush() { handler.file.flush() }
}

/// Python's `logging` (a script's `Config(initialize_logging=FileLogging(...))` or another log
/// config): each line is one call of `emit(levelno, message, created)` under the GIL, from the
/// kernel's recorder thread; `emit` formats, filters and never raises (a failure is dropped there).
struct PythonLogTarget: ScriptLogTarget {
    let emit: PythonObject
    let logLevel: Logger.Level

    func write(_ event: LogEvent) {
        var message = event.message.description
        if let metadata = event.metadata {
            for key in metadata.keys.sorted() { message += " \(key)=\(metadata[key]!)" }
        }
        let created = (RunRecorder.eventTime ?? Date()).timeIntervalSince1970
        withGIL {
            do {
                _ = try emit.call([try Self.pythonLevel(event.level).toPython(), try message.toPython(), try created.toPython()])
            } catch {
                // emit catches what it raises itself; a conversion failure loses this one line only
            }
        }
    }

    func flush() {}

    /// swift-log's level as Python's `logging` number.
    static func pythonLevel(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 10
        case .info, .notice: 20
        case .warning: 30
        case .error: 40
        case .critical: 50
        }
    }
}
