import COpenSSL
import Foundation

/// The server end of one TLS connection on a non-blocking socket, as OpenSSL keeps it.
///
/// Threading: one thread at a time (an SSL object is not shared between threads): the thread
/// that checks the peer, then the connect-back stream's pump, to which it is handed over through a lock.
final class TLSConnection: @unchecked Sendable {  // used by one thread at a time, handed over under a lock
    /// What a read gave.
    enum ReadResult {
        case data(Int)
        /// Nothing now; wait for the socket to be readable (or writable, when `wantsWrite`).
        case wouldBlock(wantsWrite: Bool)
        /// The peer closed, or the connection failed (why).
        case closed(String)
    }

    /// What a write took.
    enum WriteResult {
        case wrote(Int)
        case wouldBlock
        case broken(String)
    }

    let fd: Int32
    private let ssl: OpaquePointer

    /// Wraps the accepted socket `fd` (it is made non-blocking; closing it is the caller's).
    init(fd: Int32, context: TLSServerContext) throws {
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        guard let made = SSL_new(context.context) else {
            throw ProviderError(message: "OpenSSL cannot make a connection: \(TLSServerContext.lastError())")
        }
        SSL_set_fd(made, fd)
        _ = sprig_ssl_partial_writes(made)
        self.fd = fd
        self.ssl = made
    }

    deinit { SSL_free(ssl) }

    /// Completes the TLS handshake by `deadline`.
    /// - Throws: ``ProviderError`` saying why it failed (not TLS, too slow, closed).
    func accept(by deadline: ContinuousClock.Instant) throws {
        while true {
            let result = SSL_accept(ssl)
            if result == 1 { return }
            try wait(for: SSL_get_error(ssl, result), by: deadline, doing: "the TLS handshake")
        }
    }

    /// Writes all of `bytes` by `deadline` (the authentication's few bytes).
    func writeAll(_ bytes: [UInt8], by deadline: ContinuousClock.Instant) throws {
        var offset = 0
        while offset < bytes.count {
            let result = bytes.withUnsafeBytes { raw in SSL_write(ssl, raw.baseAddress! + offset, Int32(raw.count - offset)) }
            if result > 0 { offset += Int(result); continue }
            try wait(for: SSL_get_error(ssl, result), by: deadline, doing: "writing")
        }
    }

    /// Exactly `count` bytes, by `deadline`.
    func readExact(_ count: Int, by deadline: ContinuousClock.Instant) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var filled = 0
        while filled < count {
            let result = out.withUnsafeMutableBytes { raw in SSL_read(ssl, raw.baseAddress! + filled, Int32(count - filled)) }
            if result > 0 { filled += Int(result); continue }
            try wait(for: SSL_get_error(ssl, result), by: deadline, doing: "reading")
        }
        return out
    }

    /// Decrypted bytes the connection holds already (read them before polling the socket).
    var pending: Int { Int(SSL_pending(ssl)) }

    /// Reads what is there into `buffer`, without waiting.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> ReadResult {
        let (count, code) = attempt { SSL_read(ssl, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max)))) }
        if code == SSL_ERROR_NONE { return .data(count) }
        if code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE { return .wouldBlock(wantsWrite: code == SSL_ERROR_WANT_WRITE) }
        return .closed(code == SSL_ERROR_ZERO_RETURN ? "the connection was closed" : failure(code))
    }

    /// Writes as much of `bytes` as the socket takes now (one TLS record per 16 KiB).
    func write(_ bytes: UnsafeRawBufferPointer) -> WriteResult {
        let (count, code) = attempt { SSL_write(ssl, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max)))) }
        if code == SSL_ERROR_NONE { return .wrote(count) }
        return code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE ? .wouldBlock : .broken(failure(code))
    }

    /// Runs one SSL call; returns what it moved, or OpenSSL's error code for it (`SSL_ERROR_NONE` when it moved bytes).
    private func attempt(_ call: () -> Int32) -> (Int, Int32) {
        ERR_clear_error()
        let result = call()
        return result > 0 ? (Int(result), SSL_ERROR_NONE) : (0, SSL_get_error(ssl, result))
    }

    private func wait(for code: Int32, by deadline: ContinuousClock.Instant, doing what: String) throws {
        let events: Int32
        switch code {
        case SSL_ERROR_WANT_READ: events = POLLIN
        case SSL_ERROR_WANT_WRITE: events = POLLOUT
        case SSL_ERROR_ZERO_RETURN: throw ProviderError(message: "the peer closed the connection during \(what)")
        default: throw ProviderError(message: "\(what) failed: \(failure(code))")
        }
        let left = deadline - ContinuousClock.now
        guard left > .zero else { throw ProviderError(message: "it did not finish \(what) in time") }
        var entry = pollfd(fd: fd, events: Int16(events), revents: 0)
        let millis = Int32(max(1, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
        if poll(&entry, 1, millis) == 0 { throw ProviderError(message: "it did not finish \(what) in time") }
    }

    private func failure(_ code: Int32) -> String {
        if code == SSL_ERROR_SYSCALL {
            let number = errno
            let said = TLSServerContext.lastError()
            return number == 0 ? "the peer closed the connection (\(said))" : String(cString: strerror(number))
        }
        return "TLS error \(code): \(TLSServerContext.lastError())"
    }
}
