import CPOSIX
import Foundation
import Synchronization

/// One connect-back block's stream, terminated in this process: a listener on the executor's
/// `address` (one port of `worker_port_range`) for that block's manager alone, and once the
/// manager has connected over TLS and proved the run's secret, the connection itself. To the
/// executor it is an ordinary block (a descriptor to write frames to, and a ``ByteSource`` the
/// block's reader takes frames from) carried by no process: it stands for one as the block's
/// ``BlockCarrier``.
///
/// No thread of its own moves the bytes: the block's reader thread does, inside ``read(into:)``.
/// Until the manager connects, a read keeps what the engine sends (the zero-install bundle, the
/// first frames), gives a HEARTBEAT frame every `heartbeat` (the block waits on its scheduler; it
/// is not lost), and accepts peers, each checked on a thread of its own (at most ``maxCheckers`` at
/// once) and dropped within ``ConnectProof/peerDeadline`` when it does not finish TLS and prove the
/// secret: a stranger never holds up the manager. Then it stops listening, and a read sends what the
/// engine's pipe holds (everything at once: one `SSL_write`, a record per 16 KiB, not one per frame)
/// and decrypts what the connection holds straight into the reader's buffer (`SSL_read`): no pipe
/// and no thread hand-off between the connection and the frame decoder.
///
/// Threading: ``end()`` from any thread; ``read(into:)`` and ``waitEnded()`` from one thread at a
/// time: the block's reader, which reaps the block after its last read (or the thread that gives a
/// block up before any reader started). The SSL object is only ever used by that thread.
final class ConnectBackStream: BlockCarrier, @unchecked Sendable {  // the reader's state below is used by one thread at a time; `ended` is atomic
    private let block: Int
    private let address: String
    private let listener: Int32
    /// The engine's frames come out here (the read end of the pipe whose write end is the block's input).
    private let fromEngine: Int32
    private let wake: (read: Int32, write: Int32)
    private let context: TLSServerContext
    private let proof: ConnectProof
    private let heartbeat: Duration
    private let logPath: String
    private let ended = Atomic<Bool>(false)
    /// Peers being checked, each on a thread of its own, and the first that passed.
    private let admission = Mutex(Admission())
    /// Written when a peer has passed: wakes the reader.
    private let admitted: (read: Int32, write: Int32)
    /// The port it listens on.
    let port: Int

    // The reader's state (see Threading).
    private enum Phase {
        case waiting
        case relaying(TLSConnection)
        case over
    }
    private var phase = Phase.waiting
    /// Bytes for the manager not yet written: the bundle and what the engine sent before it connected, then what the pipe gave.
    private var outgoing: [UInt8]
    private var engineOpen = true
    private var lingerUntil: ContinuousClock.Instant? = nil
    private var wantsWrite = false
    private var nextBeat: ContinuousClock.Instant
    /// Whether this side ended the stream (the engine closed it or ended the block) rather than the connection ending by itself.
    private var clean = true
    private var cleanedUp = false
    private var chunk = [UInt8](repeating: 0, count: 1 << 18)

    static let heartbeatFrame: [UInt8] = [0, 0, 0, 0, 5]
    /// Peers checked at once; more are dropped at once (a flood cannot pile up threads).
    static let maxCheckers = 16

    private struct Admission {
        var checkers: [JoinableThread] = []
        var checking = 0
        var passed: TLSConnection? = nil
        /// The wait is over: a peer that passes now is dropped.
        var over = false
    }
    /// How long the connection may stay open after the engine closed its input (the manager was asked to stop).
    static let linger: Duration = .seconds(10)

    /// Listens for block `block`'s manager, which is sent `first` (Sprig's bundle) before any frame;
    /// returns the block's process.
    /// - Throws: ``ProviderError`` naming the block and the address when it cannot listen.
    static func start(block: Int, address: String, ports: ClosedRange<Int>, context: TLSServerContext, secret: [UInt8],
                      heartbeat: Duration, logPath: String, host: String, first: [UInt8],
                      onReap: @escaping @Sendable (Int32) -> Void) throws -> (process: BlockProcess, stream: ConnectBackStream) {
        let folder = (logPath as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw ProviderError(message: "block \(block): cannot create its log folder \(folder): \(error.localizedDescription)")
        }
        let (listener, port) = try listen(on: address, ports: ports, block: block)
        var pipes: [(read: Int32, write: Int32)] = []
        do {
            for _ in 0..<3 { pipes.append(try Spawn.pipe()) }
        } catch {
            for pipe in pipes { close(pipe.read); close(pipe.write) }
            close(listener)
            throw ProviderError(message: "block \(block): \(error)")
        }
        let fromEngine = pipes[0]
        _ = fcntl(fromEngine.read, F_SETFL, fcntl(fromEngine.read, F_GETFL) | O_NONBLOCK)
        let stream = ConnectBackStream(block: block, address: address, listener: listener, port: port, fromEngine: fromEngine.read,
                                       wake: pipes[1], admitted: pipes[2], context: context,
                                       proof: ConnectProof(secret: secret, block: block), heartbeat: heartbeat, logPath: logPath,
                                       first: first)
        // No descriptor carries the manager's bytes: the block's reader reads them from the stream.
        let process = BlockProcess(carrier: stream, input: fromEngine.write, output: -1, host: host, onReap: onReap)
        stream.log("listening on \(address):\(port)")
        return (process, stream)
    }

    private init(block: Int, address: String, listener: Int32, port: Int, fromEngine: Int32,
                 wake: (read: Int32, write: Int32), admitted: (read: Int32, write: Int32), context: TLSServerContext, proof: ConnectProof,
                 heartbeat: Duration, logPath: String, first: [UInt8]) {
        self.admitted = admitted
        self.block = block
        self.address = address
        self.listener = listener
        self.port = port
        self.fromEngine = fromEngine
        self.wake = wake
        self.context = context
        self.proof = proof
        self.heartbeat = max(heartbeat, .milliseconds(100))
        self.logPath = logPath
        self.outgoing = first
        self.nextBeat = .now + self.heartbeat
    }

    deinit { close(wake.write) }

    func end() {
        guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    func waitEnded() -> Int32 {
        if !cleanedUp {
            cleanedUp = true
            switch phase {
            case .waiting: stopListening()
            case .relaying(let connection): close(connection.fd)
            case .over: break
            }
            phase = .over
            close(fromEngine)
            close(wake.read)
            // Each checker ends within the peer deadline.
            for checker in admission.withLock({ $0.checkers }) { checker.join() }
            close(admitted.read)
            close(admitted.write)
        }
        return clean ? 0 : 1
    }

    /// Appends a line to the block's log.
    func log(_ message: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        let line = Array("sprig: \(stamp) block \(block): \(message)\n".utf8)
        let fd = open(logPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { return }
        _ = line.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        close(fd)
    }

    // MARK: Reading (the block's reader thread)

    /// Waits until the manager has sent something, moving the engine's bytes to it meanwhile;
    /// returns how many bytes it put in `buffer`, 0 when the stream is over.
    func read(into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            switch phase {
            case .over:
                return 0
            case .waiting:
                if let got = waitForManager(into: buffer) { return got }
            case .relaying(let connection):
                // (On the block's reader, a JoinableThread: SIGPIPE is blocked, a write to a closed socket is EPIPE.)
                return relay(connection, into: buffer)
            }
        }
    }

    /// Waits for a peer that proves the secret, keeping what the engine sends meanwhile in
    /// `outgoing`; `nil` once one has (the stream relays from then on), else the bytes it put in
    /// `buffer` (a heartbeat), 0 when the engine ended the block first.
    private func waitForManager(into buffer: UnsafeMutableRawBufferPointer) -> Int? {
        while !ended.load(ordering: .acquiring) {
            var fds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0), pollfd(fd: fromEngine, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: admitted.read, events: Int16(POLLIN), revents: 0)]
            if poll(&fds, nfds_t(fds.count), Self.millis(until: nextBeat)) < 0 && errno != EINTR { break }
            if fds[0].revents != 0 { break }
            if fds[1].revents != 0 {
                let got = chunk.withUnsafeMutableBytes { Glibc.read(fromEngine, $0.baseAddress, $0.count) }
                if got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN) {
                    log("the engine ended the block before its manager connected")
                    break
                }
                if got > 0 { outgoing += chunk[0..<got] }
            }
            if fds[2].revents != 0 { admit() }
            if fds[3].revents != 0, let connection = admission.withLock({ state -> TLSConnection? in
                defer { state.passed = nil }
                return state.passed
            }) {
                stopListening()
                log("manager connected from \(Self.peerAddress(connection.fd)); no longer listening")
                phase = .relaying(connection)
                return nil
            }
            if ContinuousClock.now >= nextBeat, buffer.count >= Self.heartbeatFrame.count {
                nextBeat = ContinuousClock.now + heartbeat
                Self.heartbeatFrame.withUnsafeBytes { buffer.copyMemory(from: $0) }
                return Self.heartbeatFrame.count
            }
        }
        stopListening()
        phase = .over
        return 0
    }

    /// Closes the listener; a peer that passes from now on is dropped by its checker.
    private func stopListening() {
        close(listener)
        if let late = admission.withLock({ state -> TLSConnection? in
            state.over = true
            defer { state.passed = nil }
            return state.passed
        }) { close(late.fd) }
    }

    /// Accepts one peer and checks it on a thread of its own, so that a slow or silent stranger
    /// never holds up the block's manager or its heartbeats.
    private func admit() {
        let fd = sprig_accept_cloexec(listener)
        guard fd >= 0 else { return }
        let peer = Self.peerAddress(fd)
        let room = admission.withLock { state -> Bool in
            guard state.checking < Self.maxCheckers else { return false }
            state.checking += 1
            return true
        }
        guard room else {
            log("dropped a connection from \(peer): \(Self.maxCheckers) others are being checked")
            close(fd)
            return
        }
        do {
            let checker = try JoinableThread(name: "sprig-cbp\(block)") { [self] in check(fd, peer: peer) }
            admission.withLock { $0.checkers.append(checker) }
        } catch {
            admission.withLock { $0.checking -= 1 }
            log("dropped a connection from \(peer): \(error)")
            close(fd)
        }
    }

    /// Runs the handshake with one peer within ``ConnectProof/peerDeadline``; the first that
    /// passes is handed to the reader, any other is closed.
    private func check(_ fd: Int32, peer: String) {
        var on: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &on, socklen_t(MemoryLayout<Int32>.size))  // small frames, answered at once
        do {
            let connection = try TLSConnection(fd: fd, context: context)
            try proof.verify(connection, by: .now + ConnectProof.peerDeadline)
            let taken = admission.withLock { state -> Bool in
                state.checking -= 1
                guard !state.over, state.passed == nil else { return false }
                state.passed = connection
                return true
            }
            if taken {
                var byte: UInt8 = 1
                _ = write(admitted.write, &byte, 1)
            } else {
                close(fd)
            }
        } catch {
            admission.withLock { $0.checking -= 1 }
            log("dropped a connection from \(peer): \(error)")
            close(fd)
        }
    }

    /// Sends what the engine gave, then waits for the manager's bytes and decrypts them into
    /// `buffer`; returns how many, or 0 when the stream is over: the engine ended the block or
    /// closed its input long enough ago, or the connection ended (by itself: a job killed, a node
    /// gone, which the scheduler explains).
    private func relay(_ connection: TLSConnection, into buffer: UnsafeMutableRawBufferPointer) -> Int {
        while true {
            if ended.load(ordering: .acquiring) { return over(connection, "the engine ended the block", clean: true) }
            if let lingerUntil, ContinuousClock.now >= lingerUntil {
                return over(connection, "the engine closed the stream \(Self.linger.seconds) s ago and the manager did not close", clean: true)
            }
            if let broken = send(connection) { return over(connection, "the connection broke: \(broken)", clean: false) }
            if connection.pending == 0 {
                var socketEvents = Int32(POLLIN)
                if wantsWrite { socketEvents |= Int32(POLLOUT) }
                var fds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: connection.fd, events: Int16(socketEvents), revents: 0),
                           pollfd(fd: engineOpen && outgoing.count < (1 << 20) ? fromEngine : -1, events: Int16(POLLIN), revents: 0)]
                let millis = lingerUntil.map { Self.millis(until: $0) } ?? -1
                if poll(&fds, nfds_t(fds.count), millis) < 0 && errno != EINTR {
                    return over(connection, "poll failed: \(String(cString: strerror(errno)))", clean: false)
                }
                if fds[0].revents != 0 { continue }
                if fds[1].revents & Int16(POLLOUT) != 0 { wantsWrite = false }
                if fds[2].revents != 0 {
                    takeFromEngine()
                    if let broken = send(connection) { return over(connection, "the connection broke: \(broken)", clean: false) }
                }
                guard fds[1].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 else { continue }
            }
            switch connection.read(into: buffer) {
            case .data(let count):
                return count
            case .wouldBlock(let wants):
                if wants { wantsWrite = true }
            case .closed(let why):
                return over(connection, why, clean: !engineOpen)
            }
        }
    }

    /// Everything the engine's pipe holds now, into `outgoing` (it goes out in one SSL_write).
    private func takeFromEngine() {
        while engineOpen && outgoing.count < (1 << 20) {
            let got = chunk.withUnsafeMutableBytes { Glibc.read(fromEngine, $0.baseAddress, $0.count) }
            if got > 0 {
                outgoing += chunk[0..<got]
                if got < chunk.count { break }
            } else if got < 0 && (errno == EINTR || errno == EAGAIN) {
                break
            } else {
                // The manager was sent SHUTDOWN; it closes the connection when it has stopped.
                engineOpen = false
                lingerUntil = .now + Self.linger
            }
        }
    }

    /// Writes what is waiting, in as few records as the bytes need, as far as the socket takes it;
    /// why the connection broke, if it did.
    private func send(_ connection: TLSConnection) -> String? {
        while !outgoing.isEmpty && !wantsWrite {
            switch outgoing.withUnsafeBytes({ connection.write($0) }) {
            case .wrote(let count): outgoing.removeFirst(count)
            case .wouldBlock: wantsWrite = true
            case .broken(let why): return why
            }
        }
        return nil
    }

    /// Ends the relay: logs why, closes the connection; returns 0 (the end of the stream).
    private func over(_ connection: TLSConnection, _ reason: String, clean: Bool) -> Int {
        log(reason)
        close(connection.fd)
        self.clean = clean
        phase = .over
        return 0
    }

    private static func millis(until instant: ContinuousClock.Instant) -> Int32 {
        let left = instant - ContinuousClock.now
        return Int32(max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
    }

    /// Binds `address` on the first free port of `ports` and listens.
    private static func listen(on address: String, ports: ClosedRange<Int>, block: Int) throws -> (Int32, Int) {
        var v4 = sockaddr_in(), v6 = sockaddr_in6()
        let isV6 = address.contains(":")
        let parsed = isV6 ? inet_pton(AF_INET6, address, &v6.sin6_addr) : inet_pton(AF_INET, address, &v4.sin_addr)
        guard parsed == 1 else {
            throw ProviderError(message: "block \(block): cannot listen on \(address): not a numeric IP address (HighThroughputExecutor(address=...))")
        }
        var last = "no port in the range"
        for port in ports {
            let fd = socket(isV6 ? AF_INET6 : AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else { throw ProviderError(message: "block \(block): cannot listen on \(address): \(String(cString: strerror(errno)))") }
            var on: Int32 = 1
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, socklen_t(MemoryLayout<Int32>.size))
            let bound: Int32
            if isV6 {
                v6.sin6_family = sa_family_t(AF_INET6)
                v6.sin6_port = in_port_t(UInt16(port).bigEndian)
                bound = withUnsafePointer(to: &v6) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in6>.size)) } }
            } else {
                v4.sin_family = sa_family_t(AF_INET)
                v4.sin_port = in_port_t(UInt16(port).bigEndian)
                bound = withUnsafePointer(to: &v4) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            }
            if bound == 0 && Glibc.listen(fd, 8) == 0 {
                _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
                return (fd, port)
            }
            let number = errno
            last = String(cString: strerror(number))
            close(fd)
            if number == EADDRNOTAVAIL { break }  // no port will do: the address is not this machine's
        }
        throw ProviderError(message: "block \(block): cannot listen on \(address) in \(ports.lowerBound)-\(ports.upperBound): \(last)")
    }

    private static func peerAddress(_ fd: Int32) -> String {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let got = withUnsafeMutablePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getpeername(fd, $0, &length) } }
        guard got == 0 else { return "?" }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        let named = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getnameinfo($0, length, &text, socklen_t(text.count), nil, 0, NI_NUMERICHOST) }
        }
        return named == 0 ? String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "?"
    }
}
