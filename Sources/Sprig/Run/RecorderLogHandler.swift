import Logging

/// The handler of the logger the kernel gives its parts: it puts each line on the recorder's
/// queue, and the recorder passes it to the run log and to the program's own logger. Logging from
/// an engine thread therefore never formats or writes anything there.
struct RecorderLogHandler: LogHandler {
    let recorder: RunRecorder
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    var metadataProvider: Logger.MetadataProvider?

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var event = event
        if !metadata.isEmpty { event.metadata = metadata.merging(event.metadata ?? [:]) { $1 } }
        recorder.record(.log(event))
    }
}
