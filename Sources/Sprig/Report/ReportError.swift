/// A report that cannot be made: no monitoring database where one was looked for, a database
/// without Parsl's tables, or no run of the given id. (A file SQLite cannot read is a
/// ``StorageError``.)
public struct ReportError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What went wrong and what to do about it.
    public let description: String

    init(_ description: String) { self.description = description }

    static func noDatabase(at path: String) -> ReportError {
        ReportError("\(path): no monitoring database here; give a run directory (runinfo/000), a runinfo folder or a monitoring.db file")
    }

    static func notMonitoring(_ path: String) -> ReportError {
        ReportError("\(path): not a monitoring database (it has no workflow table)")
    }

    static func noRuns(_ path: String) -> ReportError {
        ReportError("\(path): the monitoring database holds no run yet")
    }

    static func unknownRun(_ runID: String, in path: String, known: [String]) -> ReportError {
        let listed = known.suffix(5).joined(separator: ", ")
        return ReportError("\(path): no run \(runID.debugDescription); the latest runs are: \(listed)")
    }

    static func noRunFor(directory: String, in path: String) -> ReportError {
        ReportError("\(path): no run was recorded with run directory \(directory); give --run RUN_ID")
    }
}
