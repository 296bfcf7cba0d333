import Logging
import Synchronization

/// Where a script asked the engine's lines to go besides `parsl.log`: the files and streams of
/// `parsl.set_file_logger` and `parsl.set_stream_logger`, each with its level. Kernels a script
/// loads get a logger whose handler (``ScriptLogHandler``) writes to the targets of the moment.
///
/// Threading: any thread; targets are added and removed from the script's thread, lines written
/// from the kernels' recorder threads.
final class ScriptLogTargets: Sendable {
    private struct State {
        var targets: [Int: FileLogHandler] = [:]
        var nextID = 0
    }

    private let state = Mutex(State())

    /// Adds a target; returns its id, for ``remove(_:)``.
    func add(_ file: LogFile, level: Logger.Level) -> Int {
        state.withLock { state in
            defer { state.nextID += 1 }
            state.targets[state.nextID] = FileLogHandler(file: file, level: level)
            return state.nextID
        }
    }

    func remove(_ id: Int) {
        let removed = state.withLock { $0.targets.removeValue(forKey: id) }
        removed?.file.flush()
    }

    var current: [FileLogHandler] { state.withLock { Array($0.targets.values) } }

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
            target.log(event: event)
            target.file.flush()  // a script may read its log while the run goes on
        }
    }
}
