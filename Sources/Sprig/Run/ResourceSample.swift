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
/// `resource` table (named beside each field), with their meanings — the worker's, plus its live
/// descendants' where the worker looked for them (samples taken while a try runs). Read from a
/// RESOURCE entry of the manager protocol.
struct ResourceUsage: Sendable, Equatable {
    /// `psutil_process_pid`: the worker's pid.
    let pid: Int32
    /// `psutil_process_time_user`, `…_time_system`: CPU seconds, the worker's since it started
    /// plus its descendants' during this try.
    let userTime: Double
    let systemTime: Double
    /// `psutil_process_memory_resident`, `…_virtual`: bytes.
    let residentBytes: Int64
    let virtualBytes: Int64
    /// `psutil_process_memory_percent`: resident memory as a percent of the host's.
    let memoryPercent: Double
    /// `psutil_process_num_threads`.
    let threads: Int
    /// `psutil_process_disk_read`, `…_write`: bytes read and written (`rchar`, `wchar` of `/proc/PID/io`); 0 when unreadable.
    let readBytes: Int64
    let writeBytes: Int64
    /// `psutil_process_children_count`: the worker's live descendants (a bash app's command and what that started).
    let children: Int
    /// `psutil_process_status`: psutil's name of the worker's state (`running`, `sleeping`, …).
    let status: String
    /// `psutil_cpu_num`: the CPU the worker last ran on.
    let cpu: Int
    /// `psutil_process_num_ctx_switches_voluntary`, `…_involuntary`.
    let voluntarySwitches: Int64
    let involuntarySwitches: Int64
    /// `timestamp`: when it was taken, in seconds since the Unix epoch, by the worker's clock.
    let timestamp: Double

    var time: Date { Date(timeIntervalSince1970: timestamp) }
}
