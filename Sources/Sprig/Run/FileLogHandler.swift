import Foundation
import Logging

/// A swift-log handler that appends lines to a ``LogFile``:
/// `2026-12-02 04:59:15.123 INFO sprig: task 17 ended: ok key=value …`, local time.
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
        var line = Self.timestamp(RunRecorder.eventTime ?? Date()) + " " + event.level.rawValue.uppercased() + " " + "sprig: " + event.message.description
        var all = metadata
        if let provided = metadataProvider?.get() { all.merge(provided) { $1 } }
        if let own = event.metadata { all.merge(own) { $1 } }
        for key in all.keys.sorted() { line += " \(key)=\(all[key]!)" }
        file.append(line)
    }

    /// `YYYY-MM-DD HH:MM:SS.mmm` in local time.
    static func timestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var whole = time_t(seconds.rounded(.down))
        var parts = tm()
        localtime_r(&whole, &parts)
        let millis = Int((seconds - seconds.rounded(.down)) * 1000)
        return String(format: "%04d-%02d-%02d %02d:%02d:%02d.%03d", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1, Int(parts.tm_mday),
                      Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
    }
}
