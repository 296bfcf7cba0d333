import Foundation

/// The `monitoring` part of a script's config spec: a `MonitoringHub`'s settings
/// (`docs/SCRIPTING-CONTRACT.md`), decoded into ``MonitoringOptions``.
struct MonitoringSpec: Codable, Equatable, Sendable {
    /// The database file (`logging_endpoint`'s path); `nil`: `<run_dir>/monitoring.db`.
    var database: String?
    var resourceMonitoringEnabled: Bool
    /// Seconds between a longer try's resource samples.
    var resourceMonitoringInterval: Double
    var workflowName: String?
    var workflowVersion: String?

    enum CodingKeys: String, CodingKey {
        case database
        case resourceMonitoringEnabled = "resource_monitoring_enabled"
        case resourceMonitoringInterval = "resource_monitoring_interval"
        case workflowName = "workflow_name", workflowVersion = "workflow_version"
    }

    init(from decoder: any Decoder) throws {
        let keys = try decoder.container(keyedBy: CodingKeys.self)
        database = try keys.decodeIfPresent(String.self, forKey: .database)
        if database?.isEmpty == true {
            throw DecodingError.dataCorruptedError(forKey: .database, in: keys, debugDescription: "is empty; give a file name")
        }
        resourceMonitoringEnabled = try keys.value(.resourceMonitoringEnabled, default: true)
        resourceMonitoringInterval = try keys.value(.resourceMonitoringInterval,
                                                    default: MonitoringOptions.defaultResourceInterval.seconds, atLeast: 0)
        workflowName = try keys.decodeIfPresent(String.self, forKey: .workflowName)
        workflowVersion = try keys.decodeIfPresent(String.self, forKey: .workflowVersion)
    }

    func encode(to encoder: any Encoder) throws {
        var keys = encoder.container(keyedBy: CodingKeys.self)
        try keys.encode(database, forKey: .database)
        try keys.encode(resourceMonitoringEnabled, forKey: .resourceMonitoringEnabled)
        try keys.encode(resourceMonitoringInterval, forKey: .resourceMonitoringInterval)
        try keys.encode(workflowName, forKey: .workflowName)
        try keys.encode(workflowVersion, forKey: .workflowVersion)
    }

    /// The Swift options these settings mean.
    var options: MonitoringOptions {
        MonitoringOptions(databasePath: database, resourceInterval: .milliseconds(Int64((resourceMonitoringInterval * 1000).rounded())),
                          resourceMonitoring: resourceMonitoringEnabled, workflowName: workflowName, workflowVersion: workflowVersion)
    }
}
