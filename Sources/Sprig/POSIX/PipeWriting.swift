import Foundation

/// Runs `body` with SIGPIPE blocked on this thread; a SIGPIPE it raised (a write to a pipe whose
/// reader died) is taken before the mask is restored, so the write fails with `EPIPE` instead of
/// ending the process. The library thus needs no process-wide `SIG_IGN`: signal dispositions
/// belong to the program.
func withPipeSignalBlocked<T>(_ body: () throws -> T) rethrows -> T {
    var pipeSignal = sigset_t(), previous = sigset_t()
    sigemptyset(&pipeSignal)
    sigaddset(&pipeSignal, SIGPIPE)
    pthread_sigmask(SIG_BLOCK, &pipeSignal, &previous)
    defer {
        if sigismember(&previous, SIGPIPE) == 0 {
            var pending = sigset_t()
            sigpending(&pending)
            if sigismember(&pending, SIGPIPE) == 1 {
                var none = timespec()
                _ = sigtimedwait(&pipeSignal, nil, &none)
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
    }
    return try body()
}

/// Blocks SIGPIPE on the calling thread for good (a thread that only writes pipes).
func blockPipeSignal() {
    var mask = sigset_t()
    sigemptyset(&mask)
    sigaddset(&mask, SIGPIPE)
    pthread_sigmask(SIG_BLOCK, &mask, nil)
}

/// Writes all of `bytes` to the blocking descriptor `fd`, retrying partial writes and
/// interruptions; a reader that went away is an error, never a signal (``withPipeSignalBlocked(_:)``).
/// - Throws: ``FrameError`` when the write fails.
func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws {
    try withPipeSignalBlocked {
        var offset = 0
        while offset < bytes.count {
            let wrote = bytes.withUnsafeBytes { raw in Glibc.write(fd, raw.baseAddress! + offset, raw.count - offset) }
            if wrote < 0 {
                if errno == EINTR { continue }
                throw FrameError(message: "write failed: \(String(cString: strerror(errno)))")
            }
            offset += wrote
        }
    }
}
