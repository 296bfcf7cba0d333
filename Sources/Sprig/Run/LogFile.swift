import Foundation
import Synchronization

/// A file (or an open stream such as standard error) that log lines are appended to.
///
/// Lines are buffered and written in large pieces: by ``flush()``, which the run's recorder calls
/// after each batch of events, and whenever the buffer passes 64 KiB. A file is opened with
/// `O_APPEND`, so other writers of the same file (Python's `logging` handler that
/// `set_file_logger` adds) interleave whole lines with it.
///
/// Threading: any thread; the buffer is behind a lock, and the write happens outside the lock
/// only for a descriptor this object does not share (one writer: the recorder).
final class LogFile: Sendable {
    let path: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let buffer = Mutex<[UInt8]>([])

    /// Opens (creating) `path` for appending.
    /// - Throws: ``ConfigError`` naming the file when it cannot be opened.
    init(path: String) throws(ConfigError) {
        let folder = (path as NSString).deletingLastPathComponent
        if !folder.isEmpty { try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw ConfigError(message: "cannot open the log file \(path): \(String(cString: strerror(errno)))")
        }
        self.path = path
        descriptor = fd
        ownsDescriptor = true
    }

    /// Writes to an open descriptor (1 or 2), which stays open when this object goes.
    init(descriptor: Int32, name: String) {
        path = name
        self.descriptor = descriptor
        ownsDescriptor = false
    }

    deinit {
        flush()
        if ownsDescriptor { close(descriptor) }
    }

    /// Appends one line (a newline is added).
    func append(_ line: String) {
        let full: [UInt8]? = buffer.withLock { buffer in
            buffer.append(contentsOf: line.utf8)
            buffer.append(0x0A)
            guard buffer.count >= 1 << 16 else { return nil }
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if let full { write(full) }
    }

    /// Writes what is buffered.
    func flush() {
        let pending: [UInt8] = buffer.withLock { buffer in
            defer { buffer.removeAll(keepingCapacity: true) }
            return buffer
        }
        if !pending.isEmpty { write(pending) }
    }

    private func write(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = Glibc.write(descriptor, raw.baseAddress! + offset, raw.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }  // a full disk or a closed stream: the log is best effort
                offset += written
            }
        }
    }
}
