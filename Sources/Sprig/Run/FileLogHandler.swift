import Foundation
import Logging

/// A swift-log handler that appends lines to a ``LogFile``:
/// `1764651555.123456 2026-12-02 04:59:15.123 INFO sprig: task 17 ended: ok key=value …`: the
/// time in seconds since 1970 (what Parsl's log lines start with, its `%(created)f`, so tools and
/// tests written for Parsl's `parsl.log` read the times), then the same time as a local date and time.
///
/// The run's log (`<run folder>/parsl.log`) is one; `parsl.set_file_logger` and
/// `set_stream_logger` in scripts add others. The kernel's recorder is the only caller (every line
/// of a kernel goes through its queue), so lines of one kernel keep their order.
struct FileLogHandler: LogHandler {
    let file: LogFile
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    init(file: LogFile, level: Logger.Level = .info) {
        self.file = file
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var line = Self.prefix(RunRecorder.eventTime ?? Date()) + " " + event.level.rawValue.uppercased() + " " + "sprig: " + event.message.description
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let own = event.metadata { all.merge(own) { $1 } }
        for key in all.keys.sorted() { line += " \(key)=\(all[key]!)" }
        file.append(line)
    }

    /// What a line starts with: `SSSSSSSSSS.uuuuuu YYYY-MM-DD HH:MM:SS.mmm`, the seconds since 1970
    /// with six decimals as Python's `"%f" % record.created` writes them, then ``timestamp(_:)``.
    /// Written as digits into one string, without formatting (the run log writes several lines per task).
    static func prefix(_ date: Date) -> String {
        String(unsafeUninitializedCapacity: createdCapacity + 1 + MonitoringTimestamp.length) { buffer in
            let count = writeCreated(date, into: buffer)
            buffer[count] = UInt8(ascii: " ")
            let seconds = MonitoringTimestamp.wallClock(date)
            let rest = UnsafeMutableBufferPointer(rebasing: buffer[(count + 1)...])
            return count + 1 + MonitoringTimestamp.write((seconds * 1000).rounded(.down) / 1000, into: rest) - 3
        }
    }

    /// The most bytes ``writeCreated(_:into:)`` writes: 19 digits of an `Int64` and the point.
    private static let createdCapacity = 20

    /// Writes the seconds since 1970 (0 for earlier times), with six decimals; returns the count.
    private static func writeCreated(_ date: Date, into buffer: UnsafeMutableBufferPointer<UInt8>) -> Int {
        let micros = Int64(exactly: max(0, (date.timeIntervalSince1970 * 1_000_000).rounded(.down))) ?? 0
        var digits = 0
        var rest = micros
        repeat { digits += 1; rest /= 10 } while rest > 0
        digits = max(digits, 7)  // at least 0.000000
        rest = micros
        var index = digits  // the point takes one place
        for position in 0..<digits {
            if position == 6 {
                buffer[index] = UInt8(ascii: ".")
                index -= 1
            }
            buffer[index] = UInt8(truncatingIfNeeded: 48 + rest % 10)
            rest /= 10
            index -= 1
        }
        return digits + 1
    }

    /// `YYYY-MM-DD HH:MM:SS.mmm` in local time: the monitoring database's text
    /// (``MonitoringTimestamp``, made without Foundation's formatting) cut to milliseconds.
    static func timestamp(_ date: Date) -> String {
        String(unsafeUninitializedCapacity: MonitoringTimestamp.length) { buffer in
            let seconds = MonitoringTimestamp.wallClock(date)
            return MonitoringTimestamp.write((seconds * 1000).rounded(.down) / 1000, into: buffer) - 3
        }
    }
}
