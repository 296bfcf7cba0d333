import Foundation

/// Monitoring settings (Parsl's `MonitoringHub`): a kernel with these writes Parsl's monitoring
/// database — tables `workflow`, `task`, `try`, `status`, `block`, `node`, `resource` — that
/// `parsl-visualize`, `sprig report` and users' own SQL read.
///
/// The database is written off the hot path, by the kernel's recorder thread, in WAL mode; each
/// task's rows are committed in the batch in which it ends, so an engine killed at any moment
/// leaves a database that opens and holds every task that had ended.
public struct MonitoringOptions: Sendable, Equatable {
    /// The database file; `nil`: `monitoring.db` in the config's `runDirectory` (shared by every
    /// run there, as Parsl's `runinfo/monitoring.db` is; runs are told apart by `run_id`).
    public var databasePath: String?
    /// How often a worker samples a longer try's resource use (every try gets one sample at its
    /// end); Parsl's `resource_monitoring_interval`. Zero: no samples, as in Parsl.
    public var resourceInterval: Duration
    /// Whether workers sample resources at all (Parsl's `resource_monitoring_enabled`).
    public var resourceMonitoring: Bool
    /// The `workflow_name` column; `nil`: the program's (script's) file name.
    public var workflowName: String?
    /// The `workflow_version` column; `nil`: the run's start time, as Parsl writes.
    public var workflowVersion: String?

    /// Workers sample every 30 s (Parsl's default).
    public static let defaultResourceInterval = Duration.seconds(30)

    /// Settings with Parsl's defaults: `monitoring.db` in the run directory, resource samples every 30 s.
    /// - Parameters:
    ///   - resourceInterval: how often a running try is sampled; zero or less: no samples at all, as in Parsl.
    ///   - resourceMonitoring: whether process-executor workers sample resources (the thread executor never does).
    public init(databasePath: String? = nil, resourceInterval: Duration = defaultResourceInterval, resourceMonitoring: Bool = true,
                workflowName: String? = nil, workflowVersion: String? = nil) {
        self.databasePath = databasePath
        self.resourceInterval = resourceInterval
        self.resourceMonitoring = resourceMonitoring
        self.workflowName = workflowName
        self.workflowVersion = workflowVersion
    }

    /// The database file for a config whose run directory is `runDirectory`.
    func database(runDirectory: String) -> String {
        databasePath ?? (runDirectory as NSString).appendingPathComponent("monitoring.db")
    }
}
