import CPOSIX
import Foundation
import Synchronization

/// One connect-back block's stream, terminated in this process: a listener on the executor's
/// `address` (one port of `worker_port_range`) for that block's manager alone, and once the
/// manager has connected over TLS and proved the run's secret, the connection itself. To the
/// executor it is an ordinary block stream (two pipe ends) carried by no process: it stands for
/// one as the block's ``BlockCarrier``.
///
/// A pump thread of the block's own moves the bytes. Until the manager connects it keeps what the
/// engine sends (the zero-install bundle, the first frames), writes a HEARTBEAT frame every
/// `heartbeat` (the block waits on its scheduler; it is not lost), and checks each peer on a thread
/// of its own (at most ``maxCheckers`` at once), dropping within ``ConnectProof/peerDeadline`` any
/// that does not finish TLS and prove the secret: a stranger never holds up the manager. Then it
/// stops listening and relays both ways: everything the engine's pipe holds goes out in one
/// `SSL_write` (a record per 16 KiB, not one per frame), everything the connection holds goes to
/// the engine in one write.
///
/// Threading: ``end()`` from any thread; ``waitEnded()`` once, from the thread that reaps the block.
final class ConnectBackStream: BlockCarrier, @unchecked Sendable {  // the descriptors below are the pump's; `ended` is atomic
    private let block: Int
    private let address: String
    private let listener: Int32
    /// The engine's frames come out here (the read end of the pipe whose write end is the block's input).
    private let fromEngine: Int32
    /// Frames for the engine go in here (the write end of the pipe whose read end is the block's output).
    private let toEngine: Int32
    private let wake: (read: Int32, write: Int32)
    private let context: TLSServerContext
    private let proof: ConnectProof
    private let heartbeat: Duration
    private let logPath: String
    private let ended = Atomic<Bool>(false)
    private let exitCode = Mutex<Int32>(0)
    private let thread = Mutex<JoinableThread?>(nil)
    /// Peers being checked, each on a thread of its own, and the first that passed.
    private let admission = Mutex(Admission())
    /// Written when a peer has passed: wakes the pump.
    private let admitted: (read: Int32, write: Int32)
    /// The port it listens on.
    let port: Int

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

    /// ``start(block:address:ports:context:secret:heartbeat:logPath:host:onReap:)`` for a block
    /// whose connector boots from Sprig's bundle: the bundle is queued as the first bytes the
    /// manager's connection carries. `forWhat` ends the error when the bundle cannot be made
    /// (`"the nodes"`, `"the job"`).
    /// - Throws: ``ProviderError`` naming the block; nothing of the block is left then.
    static func startBooting(block: Int, address: String, command: ManagerCommand, context: TLSServerContext, secret: [UInt8],
                             host: String, forWhat: String, blockName: String,
                             onReap: @escaping @Sendable (Int32) -> Void) throws -> (process: BlockProcess, stream: ConnectBackStream) {
        let bundle: [UInt8]
        do {
            bundle = try Bootstrap.bundle()
        } catch {
            throw ProviderError(message: "\(blockName): cannot prepare Sprig's code for \(forWhat): \(error)")
        }
        let started = try start(block: block, address: address, ports: command.portRange, context: context, secret: secret,
                                heartbeat: command.heartbeatPeriod, logPath: command.logFolder + "/block.stderr", host: host,
                                onReap: onReap)
        do {
            try writeAll(started.process.input, bundle)  // the connector reads it from the connection first
        } catch {
            started.process.kill()
            started.process.reap()
            started.process.closeStream()
            throw ProviderError(message: "\(blockName): \(error)")
        }
        return started
    }

    /// Listens for block `block`'s manager and starts its pump; returns the block's process.
    /// - Throws: ``ProviderError`` naming the block and the address when it cannot listen.
    static func start(block: Int, address: String, ports: ClosedRange<Int>, context: TLSServerContext, secret: [UInt8],
                      heartbeat: Duration, logPath: String, host: String,
                      onReap: @escaping @Sendable (Int32) -> Void) throws -> (process: BlockProcess, stream: ConnectBackStream) {
        let folder = (logPath as NSString).deletingLastPathComponent
        do { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) } catch {
            throw ProviderError(message: "block \(block): cannot create its log folder \(folder): \(error.localizedDescription)")
        }
        let (listener, port) = try listen(on: address, ports: ports, block: block)
        var pipes: [(read: Int32, write: Int32)] = []
        do {
            for _ in 0..<4 { pipes.append(try Spawn.pipe()) }
        } catch {
            for pipe in pipes { close(pipe.read); close(pipe.write) }
            close(listener)
            throw ProviderError(message: "block \(block): \(error)")
        }
        let (toEngine, fromEngine) = (pipes[0], pipes[1])
        let stream = ConnectBackStream(block: block, address: address, listener: listener, port: port, fromEngine: fromEngine.read,
                                       toEngine: toEngine.write, wake: pipes[2], admitted: pipes[3], context: context,
                                       proof: ConnectProof(secret: secret, block: block), heartbeat: heartbeat, logPath: logPath)
        let process = BlockProcess(carrier: stream, input: fromEngine.write, output: toEngine.read, host: host, onReap: onReap)
        stream.log("listening on \(address):\(port)")
        do {
            let pump = try JoinableThread(name: "sprig-cb\(block)") { stream.run() }
            stream.thread.withLock { $0 = pump }
        } catch {
            stream.closeAll()
            process.closeStream()
            throw ProviderError(message: "block \(block): \(error)")
        }
        return (process, stream)
    }

    private init(block: Int, address: String, listener: Int32, port: Int, fromEngine: Int32, toEngine: Int32,
                 wake: (read: Int32, write: Int32), admitted: (read: Int32, write: Int32), context: TLSServerContext, proof: ConnectProof,
                 heartbeat: Duration, logPath: String) {
        self.admitted = admitted
        self.block = block
        self.address = address
        self.listener = listener
        self.port = port
        self.fromEngine = fromEngine
        self.toEngine = toEngine
        self.wake = wake
        self.context = context
        self.proof = proof
        self.heartbeat = max(heartbeat, .milliseconds(100))
        self.logPath = logPath
    }

    deinit { close(wake.write) }

    func end() {
        guard !ended.exchange(true, ordering: .acquiringAndReleasing) else { return }
        var byte: UInt8 = 1
        _ = write(wake.write, &byte, 1)
    }

    func waitEnded() -> Int32 {
        let pump = thread.withLock { $0 }
        pump?.join()
        return exitCode.withLock { $0 }
    }

    private func closeAll() {
        for fd in [listener, fromEngine, toEngine, wake.read, admitted.read, admitted.write] { close(fd) }
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

    // MARK: The pump

    private func run() {
        var buffered: [UInt8] = []
        let code: Int32
        if let connection = waitForManager(&buffered) {
            log("manager connected from \(Self.peerAddress(connection.fd)); no longer listening")
            let (reason, clean) = relay(connection, first: buffered)
            log(reason)
            close(connection.fd)
            code = clean ? 0 : 1
        } else {
            code = 0
        }
        close(fromEngine)
        close(toEngine)
        close(wake.read)
        // Each checker ends within the peer deadline.
        for checker in admission.withLock({ $0.checkers }) { checker.join() }
        close(admitted.read)
        close(admitted.write)
        exitCode.withLock { $0 = code }
    }

    /// Waits for a peer that proves the secret, keeping what the engine sends meanwhile in
    /// `buffered`; `nil` when the engine ended the block first. The listener is closed on return.
    private func waitForManager(_ buffered: inout [UInt8]) -> TLSConnection? {
        defer {
            close(listener)
            // A peer that passes from now on is dropped by its checker.
            if let late = admission.withLock({ state -> TLSConnection? in
                state.over = true
                defer { state.passed = nil }
                return state.passed
            }) { close(late.fd) }
        }
        var nextBeat = ContinuousClock.now + heartbeat
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        while !ended.load(ordering: .acquiring) {
            var fds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0), pollfd(fd: fromEngine, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: listener, events: Int16(POLLIN), revents: 0), pollfd(fd: admitted.read, events: Int16(POLLIN), revents: 0)]
            let left = nextBeat - ContinuousClock.now
            let millis = Int32(max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
            if poll(&fds, nfds_t(fds.count), millis) < 0 && errno != EINTR { break }
            if fds[0].revents != 0 { break }
            if fds[1].revents != 0 {
                let got = chunk.withUnsafeMutableBytes { Glibc.read(fromEngine, $0.baseAddress, $0.count) }
                if got == 0 || (got < 0 && errno != EINTR && errno != EAGAIN) {
                    log("the engine ended the block before its manager connected")
                    return nil
                }
                if got > 0 { buffered += chunk[0..<got] }
            }
            if fds[2].revents != 0 { admit() }
            if fds[3].revents != 0, let connection = admission.withLock({ state -> TLSConnection? in
                defer { state.passed = nil }
                return state.passed
            }) {
                return connection
            }
            if ContinuousClock.now >= nextBeat {
                try? writeAll(toEngine, Self.heartbeatFrame)
                nextBeat = ContinuousClock.now + heartbeat
            }
        }
        return nil
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
    /// passes is handed to the pump, any other is closed.
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

    /// Relays between the connection and the engine's pipes until one ends; returns why, and
    /// whether this side ended it (the engine closed the stream or ended the block) rather than
    /// the connection ending by itself (a job killed, a node gone), which the scheduler explains.
    private func relay(_ connection: TLSConnection, first: [UInt8]) -> (String, Bool) {
        var outgoing = first
        var engineOpen = true
        _ = fcntl(fromEngine, F_SETFL, fcntl(fromEngine, F_GETFL) | O_NONBLOCK)
        var lingerUntil: ContinuousClock.Instant? = nil
        var wantsWrite = false
        var chunk = [UInt8](repeating: 0, count: 1 << 18)
        return withPipeSignalBlocked {
            while true {
                if ended.load(ordering: .acquiring) { return ("the engine ended the block", true) }
                if let lingerUntil, ContinuousClock.now >= lingerUntil {
                    return ("the engine closed the stream \(Self.linger.seconds) s ago and the manager did not close", true)
                }
                // Whatever is waiting goes out first, in as few records as the bytes need.
                while !outgoing.isEmpty {
                    let result = outgoing.withUnsafeBytes { connection.write($0) }
                    switch result {
                    case .wrote(let count): outgoing.removeFirst(count)
                    case .wouldBlock: wantsWrite = true
                    case .broken(let why): return ("the connection broke: \(why)", false)
                    }
                    if wantsWrite { break }
                }
                if outgoing.isEmpty { wantsWrite = false }
                var socketEvents = Int32(POLLIN)
                if wantsWrite { socketEvents |= Int32(POLLOUT) }
                var fds = [pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0),
                           pollfd(fd: connection.fd, events: Int16(socketEvents), revents: 0),
                           pollfd(fd: engineOpen && outgoing.count < (1 << 20) ? fromEngine : -1, events: Int16(POLLIN), revents: 0)]
                var millis: Int32 = -1
                if let lingerUntil {
                    let left = lingerUntil - ContinuousClock.now
                    millis = Int32(max(0, left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000))
                }
                if connection.pending > 0 { millis = 0 }
                if poll(&fds, nfds_t(fds.count), millis) < 0 && errno != EINTR { return ("poll failed: \(String(cString: strerror(errno)))", false) }
                if fds[0].revents != 0 { continue }
                if fds[1].revents & Int16(POLLOUT) != 0 { wantsWrite = false }
                if fds[1].revents & Int16(POLLIN | POLLHUP | POLLERR) != 0 || connection.pending > 0 {
                    // Every record the socket holds now, decrypted, reaches the engine in one write.
                    var incoming: [UInt8] = []
                    var closedBecause: String? = nil
                    readLoop: while incoming.count < (1 << 20) {
                        let result = chunk.withUnsafeMutableBytes { connection.read(into: $0) }
                        switch result {
                        case .data(let count):
                            incoming += chunk[0..<count]
                        case .wouldBlock(let wants):
                            if wants { wantsWrite = true }
                            break readLoop
                        case .closed(let why):
                            closedBecause = why
                            break readLoop
                        }
                    }
                    if !incoming.isEmpty {
                        do { try writeAll(toEngine, incoming) } catch { return ("the engine's end closed", true) }
                    }
                    if let closedBecause { return (closedBecause, !engineOpen) }
                }
                if fds[2].revents != 0 {
                    // Everything the engine's pipe holds now goes out in one SSL_write at the top of the loop.
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
            }
        }
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
