import Foundation
import Sprig
import Synchronization

/// The live progress line on a terminal (or, with `--progress`, a line a second), and the summary.
final class ProgressDisplay: Sendable {
    private let engine: ScriptEngine
    private let started = ContinuousClock.now
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
        let counts = engine.taskCounts
        let line = String(format: "sprig: %d pending, %d queued, %d running, %d done, %d failed, %.1f s",
                          counts.pending, counts.queued, counts.running, counts.done, counts.failed, elapsed())
        // A block waiting on its scheduler says so (the first one; "+N more" for the rest).
        let waiting = engine.blocksWaiting
        guard let first = waiting.first else { return line }
        return line + "; " + first + (waiting.count > 1 ? " (+\(waiting.count - 1) more)" : "")
    }

    private func elapsed() -> Double { (ContinuousClock.now - started).seconds }

    /// Ends the display and prints the summary line (when the display was on).
    func stop(interrupted: Bool) {
        let first = stopped.withLock { done in
            defer { done = true }
            return !done
        }
        guard first, enabled else { return }
        wake.signal()
        let counts = engine.taskCounts
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
