import Foundation

/// A report of one run, made from its monitoring database: a single self-contained HTML page
/// with the run's summary, a timeline of every try per worker slot, the task graph, durations per
/// app, worker CPU and memory, blocks, and the failures with their tracebacks.
///
/// The database may be one Sprig wrote or one Parsl wrote (the schema is Parsl's). Reading it is
/// done once, in `init`; `html()` only renders. A 10,000-task run renders in well under a second.
///
/// ```swift
/// let report = try RunReport(path: "runinfo")          // the latest run there
/// try report.write(to: "report.html")
/// ```
///
/// Threading: a `RunReport` is an immutable value; use it from any thread. Making one opens the
/// database read-only on the caller's thread and never touches the engine or Python.
public struct RunReport: Sendable {
    let data: RunData

    /// The run's id (`workflow.run_id`).
    public var runID: String { data.workflow.runID }

    /// The run's workflow name, when it has one.
    public var workflowName: String? { data.workflow.name }

    /// The number of tasks in the run.
    public var taskCount: Int { data.tasks.count }

    /// Reads a run for a report.
    ///
    /// - Parameters:
    ///   - path: a `monitoring.db` file; a folder holding one (`runinfo`); or a run directory
    ///     (`runinfo/003`), whose run is the one recorded with that directory, read from the
    ///     `monitoring.db` beside it.
    ///   - runID: the run to report; by default the one `path` names, else the latest.
    /// - Throws: ``ReportError`` when there is no database there or no such run;
    ///   ``StorageError`` when the file cannot be read as SQLite.
    public init(path: String = "runinfo", runID: String? = nil) throws {
        let (database, directory) = try Self.locate(path)
        let reader = try MonitoringReader(path: database)
        let runs = try reader.runs()
        guard let latest = runs.last else { throw ReportError.noRuns(database) }
        var chosen = runID ?? latest.runID
        if runID == nil, let directory {
            guard let run = runs.last(where: { Self.sameFolder($0.runDirectory, directory) }) else {
                throw ReportError.noRunFor(directory: directory, in: database)
            }
            chosen = run.runID
        }
        data = try reader.read(runID: chosen)
    }

    /// The page, as HTML text.
    public func html() -> String {
        ReportPage(model: ReportModel(data)).render()
    }

    /// Writes the page to `path` (replacing a file there).
    ///
    /// - Throws: Foundation's error when the file cannot be written.
    public func write(to path: String) throws {
        try Data(html().utf8).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// The database for `path`, and the run directory it names, if it names one.
    static func locate(_ path: String) throws -> (database: String, runDirectory: String?) {
        let files = FileManager.default
        var isFolder: ObjCBool = false
        guard files.fileExists(atPath: path, isDirectory: &isFolder) else { throw ReportError.noDatabase(at: path) }
        guard isFolder.boolValue else { return (path, nil) }
        let folder = URL(fileURLWithPath: path).standardizedFileURL
        let inside = folder.appendingPathComponent("monitoring.db").path
        if files.fileExists(atPath: inside) { return (inside, nil) }
        let beside = folder.deletingLastPathComponent().appendingPathComponent("monitoring.db").path
        if folder.path != "/", files.fileExists(atPath: beside) { return (beside, folder.path) }
        throw ReportError.noDatabase(at: path)
    }

    /// Whether two paths name the same folder (as recorded, or after resolving links).
    static func sameFolder(_ recorded: String, _ given: String) -> Bool {
        func resolved(_ path: String) -> String {
            URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        }
        return recorded == given || resolved(recorded) == resolved(given)
    }
}
