import Foundation

/// A local block's control socket (the two-hop path, `python/sprig/PROTOCOL.md`, "Two-hop local
/// blocks"): a Unix `SOCK_SEQPACKET` pair, one frame a message; the manager's WORKER_READY frames
/// carry a worker's two pipe ends as `SCM_RIGHTS`.
///
/// Threading: the block's worker reader receives; any thread may send (a message is written whole
/// or not at all).
enum ControlSocket {
    /// The control frames' types (after the manager protocol's own, 1–9).
    enum Kind: UInt8 {
        case workerReady = 10, workerEnded = 11, killWorker = 12, workerSilent = 13
    }

    /// WORKER_READY's body: the worker's index and pid (its pipes come with the message).
    struct WorkerReady: Decodable, Equatable {
        let worker: Int
        let pid: Int32
    }

    /// WORKER_ENDED's body: the manager reaped the worker, and how it ended.
    struct WorkerEnded: Decodable, Equatable {
        let worker: Int
        let pid: Int32
        let signal: Int?
        let exitCode: Int?
        /// How it ended, in words (`died (signal 9)`, `exited (exit code 1)`).
        let words: String?
        /// Why the manager killed it, when it took it for hung.
        let lostReason: String?

        enum CodingKeys: String, CodingKey {
            case worker, pid, signal, words
            case exitCode = "exit_code"
            case lostReason = "lost_reason"
        }
    }

    /// KILL_WORKER's body (`reason`) or WORKER_SILENT's (`silence`, seconds), naming the worker by
    /// index and pid (a request for an older worker of the index changes nothing).
    struct Notice: Encodable, Equatable {
        let worker: Int
        let pid: Int32
        let silence: Double?
        let reason: String?
    }

    /// A socket pair whose ends close on exec (the manager's end is dup'ed to its fd 3 by the
    /// spawn, which clears that).
    static func pair() throws -> (engine: Int32, manager: Int32) {
        var fds: [Int32] = [-1, -1]
        guard socketpair(AF_UNIX, Int32(SOCK_SEQPACKET.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0, &fds) == 0 else {
            throw ProviderError(message: "cannot make a block's control socket: \(String(cString: strerror(errno)))")
        }
        return (fds[0], fds[1])
    }

    /// The frame of `kind` with a JSON `body`.
    static func frame(_ kind: Kind, _ body: some Encodable) -> [UInt8] {
        let json = (try? JSONEncoder().encode(body)).map { [UInt8]($0) } ?? Array("{}".utf8)
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt32(json.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(kind.rawValue)
        return out + json
    }

    /// Sends one frame; `false` when the manager is gone.
    @discardableResult
    static func send(_ frame: [UInt8], on fd: Int32) -> Bool {
        while true {
            let sent = frame.withUnsafeBytes { raw in Glibc.send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) }
            if sent < 0 && errno == EINTR { continue }
            return sent == frame.count
        }
    }

    /// One message received: a frame's type, its JSON body, and the descriptors that came with it
    /// (close-on-exec).
    struct Message {
        let type: UInt8
        let body: [UInt8]
        let descriptors: [Int32]
    }

    /// The next message, `nil` at end of stream (the manager closed its end or died).
    /// - Throws: ``FrameError`` when a message is not one whole frame.
    static func receive(on fd: Int32) throws -> Message? {
        var data = [UInt8](repeating: 0, count: 65536)
        // Room for a cmsghdr (16 bytes on 64-bit Linux) and up to 8 descriptors.
        var control = [UInt8](repeating: 0, count: 16 + 8 * 4)
        let (got, controlLength): (Int, Int) = data.withUnsafeMutableBytes { dataRaw in
            control.withUnsafeMutableBytes { controlRaw in
                var vector = iovec(iov_base: dataRaw.baseAddress, iov_len: dataRaw.count)
                return withUnsafeMutablePointer(to: &vector) { vectorPointer in
                    var message = msghdr()
                    message.msg_iov = vectorPointer
                    message.msg_iovlen = 1
                    message.msg_control = controlRaw.baseAddress
                    message.msg_controllen = controlRaw.count
                    while true {
                        let got = recvmsg(fd, &message, Int32(MSG_CMSG_CLOEXEC))
                        if got < 0 && errno == EINTR { continue }
                        return (got, got >= 0 ? Int(message.msg_controllen) : 0)
                    }
                }
            }
        }
        guard got > 0 else {
            if got < 0 && errno != ECONNRESET { throw FrameError(message: "control socket: \(String(cString: strerror(errno)))") }
            return nil
        }
        let descriptors = rights(in: control, length: controlLength)
        guard got >= 5 else {
            descriptors.forEach { close($0) }
            throw FrameError(message: "control frame of \(got) bytes, shorter than a header")
        }
        let length = Int(UInt32(data[0]) | UInt32(data[1]) << 8 | UInt32(data[2]) << 16 | UInt32(data[3]) << 24)
        guard length == got - 5 else {
            descriptors.forEach { close($0) }
            throw FrameError(message: "control frame says \(length) bytes of body, has \(got - 5)")
        }
        return Message(type: data[4], body: Array(data[5..<got]), descriptors: descriptors)
    }

    /// The `SCM_RIGHTS` descriptors in a control buffer (`cmsghdr`: `size_t` length, `int` level,
    /// `int` type, then the data, each header aligned to 8 bytes).
    private static func rights(in control: [UInt8], length: Int) -> [Int32] {
        var found: [Int32] = []
        var offset = 0
        control.withUnsafeBytes { raw in
            while offset + 16 <= min(length, raw.count) {
                let size = Int(raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                let level = raw.loadUnaligned(fromByteOffset: offset + 8, as: Int32.self)
                let type = raw.loadUnaligned(fromByteOffset: offset + 12, as: Int32.self)
                guard size >= 16, offset + size <= raw.count else { break }
                if level == SOL_SOCKET && type == Int32(SCM_RIGHTS) {
                    for at in stride(from: offset + 16, to: offset + size - 3, by: 4) {
                        found.append(raw.loadUnaligned(fromByteOffset: at, as: Int32.self))
                    }
                }
                offset += (size + 7) & ~7
            }
        }
        return found
    }
}
