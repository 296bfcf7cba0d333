import Foundation
import Logging

/// The run log: each event as one line a person can grep, written through swift-log handlers —
/// `<run folder>/parsl.log` (a ``FileLogHandler``) and the handler of the logger the program gave
/// the kernel, if any.
///
/// Every line about a task starts `task N ` (`grep 'task 17 ' parsl.log` is task 17's life); other
/// task ids in a line are written as a list (`[3, 4]`), so they do not match. Lines about a block
/// start `block N of executor L `.
final class RunLog: RunSink {
    private let outputs: [any LogHandler]
    private let files: [LogFile]

    /// - Parameters:
    ///   - outputs: the handlers each line goes to (each filters by its own level).
    ///   - files: the files those handlers write, flushed after each batch.
    init(outputs: [any LogHandler], files: [LogFile]) {
        self.outputs = outputs
        self.files = files
    }

    func write(_ events: [RunEvent]) {
        let debug = outputs.contains { $0.logLevel <= .debug }
        for event in events {
            // Resource samples (one per try) and cache keys are debug lines: not even formatted when nobody takes those.
            switch event.kind {
            case .resources, .taskCached: if !debug { continue }
            default: break
            }
            let logEvent: LogEvent
            if case .log(let line) = event.kind {
                logEvent = line
            } else {
                let (level, message, metadata) = Self.line(for: event.kind)
                logEvent = LogEvent(level: level, message: "\(message)", metadata: metadata, source: "Sprig",
                                    file: #fileID, function: #function, line: #line)
            }
            RunRecorder.$eventTime.withValue(event.time) {
                for output in outputs where output.logLevel <= logEvent.level { output.log(event: logEvent) }
            }
        }
        for file in files { file.flush() }
    }

    func close() {
        for file in files { file.flush() }
    }

    /// The level, text and metadata of an event's line.
    static func line(for kind: RunEvent.Kind) -> (Logger.Level, String, Logger.Metadata?) {
        switch kind {
        case .taskSubmitted(let id, let app, let dependencies):
            let waits = dependencies.isEmpty ? "no dependencies" : "depends on " + FailureSummary.ids(dependencies)
            return (.info, "task \(id) submitted: app \(app), \(waits)", ["sprig.task.id": "\(id)", "sprig.app": .string(app)])
        case .taskLaunched(let id, let tryID, let executor):
            return (.info, "task \(id) launched: try \(tryID) on executor \(executor)", ["sprig.task.id": "\(id)", "sprig.executor": .string(executor)])
        case .taskRunning(let id, let tryID, let executor, let placement):
            var place = "executor \(executor)"
            if let block = placement.block { place += ", block \(block)" }
            place += ", host \(placement.host)"
            if let thread = placement.thread { place += ", thread \(thread)" }
            if let pid = placement.workerPID, placement.thread == nil { place += ", worker pid \(pid)" }
            return (.info, "task \(id) running: try \(tryID) on \(place)", ["sprig.task.id": "\(id)", "sprig.host": .string(placement.host)])
        case .taskRetried(let id, let tryID, let error):
            return (.info, "task \(id) retried: try \(tryID) failed with \(FailureSummary(error).line); try \(tryID + 1) follows",
                    ["sprig.task.id": "\(id)"])
        case .taskCached(let id, let key):
            return (.debug, "task \(id) cache key: \(key ?? "none")", ["sprig.task.id": "\(id)"])
        case .taskEnded(let id, let app, let tryID, let ending):
            let tries = tryID.map { $0 == 0 ? "" : " after \($0 + 1) tries" } ?? ""
            let text: String
            switch ending {
            case .ok: text = "ok" + tries
            case .cached: text = "ok (from the cache)"
            case .failed(let error): text = "failed with \(FailureSummary(error).line)" + tries
            case .dependencyFailed(let failed): text = "dependency failure: dependencies \(FailureSummary.ids(failed)) failed"
            case .cancelled: text = "cancelled"
            }
            return (.info, "task \(id) ended: \(text)", ["sprig.task.id": "\(id)", "sprig.app": .string(app)])
        case .blockStarted(let executor, let block, let host, let jobID):
            return (.info, "block \(block) of executor \(executor) started: host \(host), job \(jobID)", ["sprig.executor": .string(executor)])
        case .blockReady(let executor, let block, let host, let workers):
            return (.info, "block \(block) of executor \(executor) ready: host \(host), \(workers) workers", ["sprig.executor": .string(executor)])
        case .blockEnded(let executor, let block, let host, let reason):
            let why = reason.map { "lost: \(FailureSummary.oneLine($0))" } ?? "stopped"
            return (.info, "block \(block) of executor \(executor) \(why) (host \(host))", ["sprig.executor": .string(executor)])
        case .resources(let sample):
            let usage = sample.usage
            return (.debug, "task \(sample.taskID) resources: try \(sample.tryID), worker pid \(usage.pid), user \(usage.userTime) s, "
                    + "system \(usage.systemTime) s, rss \(usage.residentBytes) B, \(usage.children) children", ["sprig.task.id": "\(sample.taskID)"])
        case .log(let event):
            return (event.level, event.message.description, event.metadata)
        }
    }
}
