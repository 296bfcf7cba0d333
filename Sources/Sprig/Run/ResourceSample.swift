import Foundation

/// One sample of a worker's resource use for one try of one task: Parsl's `resource` row.
struct ResourceSample: Sendable, Equatable {
    let taskID: TaskID
    let tryID: Int
    let block: Int?
    /// The host's name as it knows itself.
    let host: String
    let usage: ResourceUsage
}

/// What a worker measured (`python/sprig/resources.py`, from /proc): the columns of Parsl's
/// `resource` table, by their names and with their meanings — the worker's, plus its live
/// descendants' where the worker looked for them (samples taken while a try runs). Decoded from
/// a RESOURCE entry of the manager protocol.
struct ResourceUsage: Sendable, Equatable, Decodable {
    /// The worker's pid.
    let pid: Int32
    /// CPU seconds in user and in system mode: the worker's since it started, plus its descendants' during this try.
    let userTime: Double
    let systemTime: Double
    /// Resident and virtual memory, bytes.
    let residentBytes: Int64
    let virtualBytes: Int64
    /// Resident memory as a percent of the host's memory.
    let memoryPercent: Double
    /// Threads.
    let threads: Int
    /// Bytes read and written (`rchar`, `wchar` of `/proc/PID/io`); 0 when unreadable.
    let readBytes: Int64
    let writeBytes: Int64
    /// The worker's live descendants (a bash app's command and what that started).
    let children: Int
    /// psutil's name of the worker's state (`running`, `sleeping`, …).
    let status: String
    /// The CPU the worker last ran on.
    let cpu: Int
    /// Context switches, voluntary and not.
    let voluntarySwitches: Int64
    let involuntarySwitches: Int64
    /// When it was taken: seconds since the Unix epoch, by the worker's clock.
    let timestamp: Double

    var time: Date { Date(timeIntervalSince1970: timestamp) }

    enum CodingKeys: String, CodingKey {
        case pid = "psutil_process_pid", userTime = "psutil_process_time_user", systemTime = "psutil_process_time_system"
        case residentBytes = "psutil_process_memory_resident", virtualBytes = "psutil_process_memory_virtual"
        case memoryPercent = "psutil_process_memory_percent", threads = "psutil_process_num_threads"
        case readBytes = "psutil_process_disk_read", writeBytes = "psutil_process_disk_write"
        case children = "psutil_process_children_count", status = "psutil_process_status", cpu = "psutil_cpu_num"
        case voluntarySwitches = "psutil_process_num_ctx_switches_voluntary"
        case involuntarySwitches = "psutil_process_num_ctx_switches_involuntary"
        case timestamp
    }
}
