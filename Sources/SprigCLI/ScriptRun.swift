import Foundation
import Sprig
import Synchronization

/// One `sprig run`: the interpreter, the engine module, the script, the progress line, the summary.
struct ScriptRun {
    let script: String
    let arguments: [String]
    let config: String?
    let progress: Bool

    func run() throws -> Int32 {
        try Python.start()
        let root = PythonSide.packageRoot
        try Python.addSearchPath(root)
        // Parsl's names exist only here, under `sprig run`: a real Parsl elsewhere is never shadowed.
        try Python.addSearchPath(root + "/sprig/compat")
        let engine = ScriptEngine()
        try engine.install()
        if let config {
            let spec = try withGIL { try Python.importModule("sprig.config").attribute(ConfigNames.pythonName(config)).call().callMethod("to_spec") }
            try engine.load(spec: spec, forced: config)
        }
        let display = ProgressDisplay(engine: engine, forced: progress)
        EmergencyStop.register(engine) { display.stop(interrupted: true) }
        try display.start()
        let status = try withGIL {
            Int32(truncatingIfNeeded: try Int(python: Python.importModule("sprig.runner").attribute("run_script").call(script, arguments)))
        }
        engine.cleanup()
        display.stop(interrupted: false)
        EmergencyStop.unregister(engine)
        Python.flushStandardStreams()
        return status
    }
}

/// The live progress line on a terminal (or, with `--progress`, a line a second), and the summary.
final class ProgressDisplay: Sendable {
    private let engine: ScriptEngine
    private let onTerminal: Bool
    private let enabled: Bool
    private let line = Mutex<PythonObject?>(nil)
    private let stopped = Mutex(false)
    private let wake = DispatchSemaphore(value: 0)

    init(engine: ScriptEngine, forced: Bool) {
        self.engine = engine
        onTerminal = isatty(STDERR_FILENO) == 1
        enabled = onTerminal || forced
    }

    func start() throws {
        guard enabled else { return }
        if onTerminal {
            let guarded = try withGIL {
                let sys = try Python.importModule("sys")
                return try Python.importModule("sprig.runner").attribute("ProgressLine").call([sys.attribute("__stderr__")])
            }
            line.withLock { $0 = guarded }
        }
        Thread.detachNewThread { [self] in
            Thread.current.name = "sprig-progress"
            loop()
        }
    }

    private func loop() {
        var lastLine = ""
        var lastPrinted = ContinuousClock.now - .seconds(10)
        while wake.wait(timeout: .now() + .milliseconds(200)) == .timedOut {
            if stopped.withLock({ $0 }) { return }
            let text = status()
            if let guarded = line.withLock({ $0 }) {
                withGIL { _ = try? guarded.callMethod("draw", text) }
            } else if text != lastLine && ContinuousClock.now - lastPrinted >= .seconds(1) {
                FileHandle.standardError.write(Data((text + "\n").utf8))
                lastLine = text
                lastPrinted = .now
            }
        }
    }

    private func status() -> String {
        let counts = engine.totalCounts
        return String(format: "sprig: %d pending, %d queued, %d running, %d done, %d failed, %.1f s",
                      counts.pending, counts.queued, counts.running, counts.done, counts.failed, elapsed())
    }

    private func elapsed() -> Double { (ContinuousClock.now - engine.started).seconds }

    /// Ends the display and prints the summary line (when the display was on).
    func stop(interrupted: Bool) {
        let first = stopped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first, enabled else { return }
        wake.signal()
        let counts = engine.totalCounts
        let unfinished = counts.pending + counts.queued + counts.running
        let total = counts.done + counts.failed + unfinished
        let summary = String(format: "sprig: %d task%@: %d done, %d failed%@ in %.2f s%@", total, total == 1 ? "" : "s",
                             counts.done, counts.failed,
                             unfinished > 0 ? ", \(unfinished) unfinished" : "",
                             elapsed(), interrupted ? " (interrupted)" : "")
        if let guarded = line.withLock({ $0 }) {
            withGIL { _ = try? guarded.callMethod("finish", summary) }
        } else {
            FileHandle.standardError.write(Data((summary + "\n").utf8))
        }
    }
}
