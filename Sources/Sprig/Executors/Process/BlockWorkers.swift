import Foundation
import Logging
import Synchronization

/// The two-hop data path of a local block: the engine writes tasks to the block's workers and
/// reads their results itself, over the pipes the manager handed it on the control socket
/// (`python/sprig/PROTOCOL.md`, "Two-hop local blocks"); the manager keeps supervising them.
///
/// Decisions are a ``WorkerDispatch`` (tasks per worker, prefetch, RECALL, KILL_TASK, a worker's
/// end); this class performs them: one reader thread polls the control socket and every worker's
/// result pipe, and each worker's input goes through a ``BlockWriter`` of its own.
///
/// Threading: ``enqueue(_:)``, ``kill(_:)``, ``checkSilence(threshold:)`` and ``finish()`` from any
/// thread; ``stop()`` once, from the block's reader when the manager's stream is over. The state
/// lock is held while frames are queued on a worker's writer (a non-blocking write at most), so
/// that a worker gets its frames in the order they were decided.
final class BlockWorkers: Sendable {
    private struct Worker {
        let pid: Int32
        let writer: BlockWriter
        var lastHeard: ContinuousClock.Instant
        var silenceReported: ContinuousClock.Instant? = nil
    }

    private struct State {
        var dispatch: WorkerDispatch
        /// The tasks queued or on a worker, by id: sent again when a worker ends before starting them.
        var tasks: [UInt64: WireTask] = [:]
        var workers: [Int: Worker] = [:]
        var finishing = false
    }

    /// The result entries a worker sent, to handle as the manager's RESULTS are (STARTED, RESOURCE,
    /// OK, FAILED, and WORKER_LOST for a task whose worker died).
    typealias Deliver = @Sendable ([ResultEntry]) -> Void

    private let socket: Int32
    /// Wakes the reader when a sender makes a RECALL due earlier than the reader's poll would end.
    private let wake: (read: Int32, write: Int32)
    private let state: Mutex<State>
    private let thread = Mutex<JoinableThread?>(nil)
    private let deliver: Deliver
    private let host: String
    private let logger: Logger

    /// Takes over `socket` (the engine's end of the control socket; closed by ``stop()``) and starts
    /// reading it.
    init(socket: Int32, prefetch: Int, host: String, number: Int, logger: Logger, deliver: @escaping Deliver) throws {
        self.socket = socket
        do { wake = try Spawn.pipe() } catch { throw ProviderError(message: "cannot make a block's wake-up pipe: \(error)") }
        for fd in [wake.read, wake.write] { _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) }
        self.state = Mutex(State(dispatch: WorkerDispatch(prefetch: prefetch)))
        self.deliver = deliver
        self.host = host
        self.logger = logger
        let reader = try JoinableThread(name: "sprig-workers\(number)") { [self] in readLoop() }
        thread.withLock { $0 = reader }
    }

    /// Tasks the block took (its ledger holds them): they go to its workers as they have room.
    func enqueue(_ tasks: [WireTask]) {
        let now = ContinuousClock.now
        let (actions, recallSooner) = state.withLock { state -> ([WorkerDispatch.Action], Bool) in
            for task in tasks { state.tasks[UInt64(task.attempt.taskID.rawValue)] = task }
            let queued = tasks.map { WorkerDispatch.Task(id: UInt64($0.attempt.taskID.rawValue), functionKey: $0.functionKey) }
            let before = state.dispatch.nextRecall
            let actions = Self.write(state.dispatch.enqueue(queued, at: now), &state)
            let after = state.dispatch.nextRecall
            return (actions, after.map { due in before.map { due < $0 } ?? true } ?? false)
        }
        if recallSooner {
            var byte: UInt8 = 1
            _ = Glibc.write(wake.write, &byte, 1)
        }
        perform(actions, entries: [])
    }

    /// KILL_TASK (a walltime): no result will be delivered for task `id`.
    func kill(_ id: UInt64) {
        let actions = state.withLock { state -> [WorkerDispatch.Action] in
            state.tasks[id] = nil
            return Self.write(state.dispatch.kill(id), &state)
        }
        perform(actions, entries: [])
    }

    /// Tells the manager of each worker silent for more than `threshold`, once a `threshold` (the
    /// manager kills it if it is hung, not busy).
    func checkSilence(threshold: Duration) {
        let now = ContinuousClock.now
        let silent = state.withLock { state -> [(Int, Int32, Duration)] in
            var found: [(Int, Int32, Duration)] = []
            for (index, worker) in state.workers where now - worker.lastHeard > threshold {
                if let reported = worker.silenceReported, now - reported < threshold / 2 { continue }
                state.workers[index]?.silenceReported = now
                found.append((index, worker.pid, now - worker.lastHeard))
            }
            return found
        }
        for (index, pid, silence) in silent {
            ControlSocket.send(ControlSocket.frame(.workerSilent, ControlSocket.Notice(worker: index, pid: pid, silence: silence.seconds, reason: nil)),
                               on: socket)
        }
    }

    /// The block is shutting down: workers see the end of their input once what was queued is out.
    func finish() {
        let writers = state.withLock { state -> [BlockWriter] in
            state.finishing = true
            return state.workers.values.map(\.writer)
        }
        writers.forEach { $0.finish() }
    }

    /// The manager's stream is over: stops the reader, closes every pipe and the socket.
    func stop() {
        // Wakes the reader if the manager's end is still open; the descriptor stays ours until the
        // reader is gone, so no other file can take its number meanwhile.
        Glibc.shutdown(socket, Int32(SHUT_RDWR))
        thread.withLock { $0 }?.join()
        close(socket)
        close(wake.read)
        close(wake.write)
    }

    // MARK: the reader

    private struct LostReport: Encodable {
        let message: String
        let worker: Int
        let pid: Int32
        let signal: Int?
        let exitCode: Int?

        enum CodingKeys: String, CodingKey {
            case message, worker, pid, signal
            case exitCode = "exit_code"
        }
    }

    /// What the reader knows of a worker's result pipe.
    private struct Pipe {
        let fd: Int32
        let pid: Int32
        var buffer = FrameBuffer()
    }

    private func readLoop() {
        var pipes: [Int: Pipe] = [:]
        defer {
            for pipe in pipes.values { close(pipe.fd) }
            let writers = state.withLock { state -> [BlockWriter] in
                defer { state.workers = [:] }
                return state.workers.values.map(\.writer)
            }
            writers.forEach { $0.terminate() }
        }
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let indexes = pipes.keys.sorted()
            var polled = [pollfd(fd: socket, events: Int16(POLLIN), revents: 0), pollfd(fd: wake.read, events: Int16(POLLIN), revents: 0)]
                + indexes.map { pollfd(fd: pipes[$0]!.fd, events: Int16(POLLIN), revents: 0) }
            // A worker that turns busy while it holds unstarted tasks is due a RECALL then.
            let recallAt = state.withLock { $0.dispatch.nextRecall }
            let timeout = recallAt.map { Self.milliseconds(until: $0) } ?? -1
            let ready = poll(&polled, nfds_t(polled.count), timeout)
            if ready < 0 {
                if errno == EINTR { continue }
                logger.error("polling a block's workers failed", metadata: ["error": .string(String(cString: strerror(errno)))])
                return
            }
            if let recallAt, ContinuousClock.now >= recallAt {
                let now = ContinuousClock.now
                let actions = state.withLock { state in Self.write(state.dispatch.dispatch(at: now), &state) }
                perform(actions, entries: [])
            }
            if polled[1].revents != 0 {
                var drained = [UInt8](repeating: 0, count: 64)
                while Glibc.read(wake.read, &drained, drained.count) > 0 {}
            }
            for (position, index) in indexes.enumerated() where polled[position + 2].revents != 0 {
                if readWorker(index, &pipes, chunk: &chunk) == .end, let pipe = pipes.removeValue(forKey: index) { close(pipe.fd) }
            }
            if polled[0].revents != 0 {
                let message: ControlSocket.Message?
                do { message = try ControlSocket.receive(on: socket) } catch {
                    logger.error("a block's control socket broke", metadata: ["error": .string("\(error)")])
                    return
                }
                guard let message else { return }
                onControl(message, &pipes, chunk: &chunk)
            }
        }
    }

    private enum Read { case data, empty, end }

    /// One read from worker `index`'s result pipe (non-blocking): whether it gave bytes, none for
    /// now, or its end.
    private func readWorker(_ index: Int, _ pipes: inout [Int: Pipe], chunk: inout [UInt8]) -> Read {
        guard var pipe = pipes[index] else { return .end }
        let got = chunk.withUnsafeMutableBytes { Glibc.read(pipe.fd, $0.baseAddress, $0.count) }
        if got < 0 { return errno == EINTR || errno == EAGAIN ? .empty : .end }
        if got == 0 { return .end }
        pipe.buffer.append(chunk[0..<got])
        var entries: [(WorkerDispatch.Entry, UInt64)] = []
        var raw: [ResultEntry] = []
        let now = ContinuousClock.now
        while let frame = pipe.buffer.next() {
            guard frame.type == FrameType.results.rawValue, let parsed = try? ResultEntry.parse(frame.body) else { continue }
            for entry in parsed {
                guard let kind = Self.entry(entry.status) else { continue }
                entries.append((kind, entry.taskID))
                raw.append(entry)
            }
        }
        pipes[index] = pipe
        let actions = state.withLock { state -> [WorkerDispatch.Action] in
            guard state.workers[index]?.pid == pipe.pid else { return [] }
            state.workers[index]?.lastHeard = now
            state.workers[index]?.silenceReported = nil
            guard !entries.isEmpty else { return [] }
            let actions = Self.write(state.dispatch.received(entries.map { (entry: $0.0, task: $0.1) }, from: index, at: now), &state)
            let finals = Set(raw.lazy.filter { Self.isFinal($0.status) }.map(\.taskID))
            for case .forward(let id) in actions where finals.contains(id) { state.tasks[id] = nil }
            return actions
        }
        perform(actions, entries: raw)
        return .data
    }

    private func onControl(_ message: ControlSocket.Message, _ pipes: inout [Int: Pipe], chunk: inout [UInt8]) {
        let now = ContinuousClock.now
        switch ControlSocket.Kind(rawValue: message.type) {
        case .workerReady?:
            guard message.descriptors.count == 2, let ready = try? JSONDecoder().decode(ControlSocket.WorkerReady.self, from: Data(message.body)),
                  let writer = try? BlockWriter(fd: message.descriptors[0], name: "sprig-wk\(ready.worker)") else {
                message.descriptors.forEach { close($0) }
                logger.error("unreadable WORKER_READY from a manager")
                return
            }
            if let old = pipes[ready.worker] { close(old.fd) }
            let resultFD = message.descriptors[1]
            _ = fcntl(resultFD, F_SETFL, fcntl(resultFD, F_GETFL) | O_NONBLOCK)
            pipes[ready.worker] = Pipe(fd: resultFD, pid: ready.pid)
            let (actions, replaced) = state.withLock { state -> ([WorkerDispatch.Action], BlockWriter?) in
                let replaced = state.workers[ready.worker]?.writer
                state.workers[ready.worker] = Worker(pid: ready.pid, writer: writer, lastHeard: now)
                if state.finishing { writer.finish() }
                return (Self.write(state.dispatch.workerJoined(ready.worker, pid: ready.pid, at: now), &state), replaced)
            }
            replaced?.terminate()
            logger.debug("worker handed over", metadata: ["sprig.worker": "\(ready.worker)", "pid": "\(ready.pid)"])
            perform(actions, entries: [])
        case .workerEnded?:
            message.descriptors.forEach { close($0) }
            guard let ended = try? JSONDecoder().decode(ControlSocket.WorkerEnded.self, from: Data(message.body)) else {
                logger.error("unreadable WORKER_ENDED from a manager")
                return
            }
            // What it wrote before it died counts first.
            if pipes[ended.worker]?.pid == ended.pid {
                while readWorker(ended.worker, &pipes, chunk: &chunk) == .data {}
                if let pipe = pipes.removeValue(forKey: ended.worker) { close(pipe.fd) }
            }
            let (actions, writer) = state.withLock { state -> ([WorkerDispatch.Action], BlockWriter?) in
                guard state.workers[ended.worker]?.pid == ended.pid else { return ([], nil) }
                let writer = state.workers.removeValue(forKey: ended.worker)?.writer
                let actions = Self.write(state.dispatch.workerEnded(ended.worker, pid: ended.pid, at: now), &state)
                for case .lost(let id, _) in actions { state.tasks[id] = nil }
                return (actions, writer)
            }
            writer?.terminate()
            let lost: [ResultEntry] = actions.compactMap { action in
                guard case .lost(let id, let worker) = action else { return nil }
                var words = ended.words ?? "ended"
                if let reason = ended.lostReason { words = "\(reason) and was killed (signal \(ended.signal.map(String.init) ?? "?"))" }
                let report = LostReport(message: "worker \(worker) (pid \(ended.pid)) on host \(host) \(words) while running task \(id)",
                                        worker: worker, pid: ended.pid, signal: ended.signal, exitCode: ended.exitCode)
                let data = (try? JSONEncoder().encode(report)).map { [UInt8]($0) } ?? []
                return ResultEntry(taskID: id, status: ResultStatus.workerLost.rawValue, data: data)
            }
            perform(actions.filter { if case .lost = $0 { return false } else { return true } }, entries: [])
            if !lost.isEmpty { deliver(lost) }
        default:
            message.descriptors.forEach { close($0) }
            logger.debug("ignoring control frame", metadata: ["type": "\(message.type)"])
        }
    }

    // MARK: actions

    /// Queues the frames the actions ask for on the workers' writers (under the state lock, so a
    /// worker gets them in the order decided); returns the actions.
    private static func write(_ actions: [WorkerDispatch.Action], _ state: inout State) -> [WorkerDispatch.Action] {
        for action in actions {
            switch action {
            case .send(let index, let sent):
                guard let writer = state.workers[index]?.writer else { continue }
                var body = ByteWriter()
                body.u32(UInt32(sent.count))
                for item in sent {
                    state.tasks[item.id]?.write(to: &body, includeFunction: item.includeFunction)
                }
                writer.send(body.frame(.tasks))
            case .recall(let index):
                state.workers[index]?.writer.send(recallFrame)
            case .skip(let index, let id):
                var body = ByteWriter()
                body.u64(id)
                state.workers[index]?.writer.send(body.frame(.killTask))
            case .killWorker, .forward, .lost, .dropped:
                break
            }
        }
        return actions
    }

    /// What is left after the writes: kills to ask of the manager, entries to deliver.
    private func perform(_ actions: [WorkerDispatch.Action], entries: [ResultEntry]) {
        var forwarded: [ResultEntry] = []
        var next = 0
        for action in actions {
            switch action {
            case .forward(let id):
                // Forwards come in the order of the entries they stand for, one each at most.
                while next < entries.count, entries[next].taskID != id { next += 1 }
                if next < entries.count {
                    forwarded.append(entries[next])
                    next += 1
                }
            case .killWorker(let index):
                let pid = state.withLock { $0.workers[index]?.pid } ?? 0
                ControlSocket.send(ControlSocket.frame(.killWorker, ControlSocket.Notice(worker: index, pid: pid, silence: nil, reason: "it runs a killed task")),
                                   on: socket)
            case .send, .recall, .skip, .lost, .dropped:
                break
            }
        }
        if !forwarded.isEmpty { deliver(forwarded) }
    }

    private static let recallFrame: [UInt8] = [0, 0, 0, 0, 9]

    /// A `poll` timeout that ends at `instant` (rounded up; 0 when it has passed).
    private static func milliseconds(until instant: ContinuousClock.Instant) -> Int32 {
        let left = instant - .now
        guard left > .zero else { return 0 }
        return Int32(min(Double(Int32.max), (left.seconds * 1000).rounded(.up)))
    }

    private static func entry(_ status: UInt8) -> WorkerDispatch.Entry? {
        switch status {
        case ResultStatus.started.rawValue: return .started
        case ResultStatus.resource.rawValue: return .resource
        case ResultStatus.ok.rawValue, ResultStatus.failed.rawValue: return .result
        case ResultStatus.skipped.rawValue: return .skipped
        case 5: return .recalled  // worker -> manager only: a task given back after RECALL
        default: return nil
        }
    }

    private static func isFinal(_ status: UInt8) -> Bool {
        status == ResultStatus.ok.rawValue || status == ResultStatus.failed.rawValue
    }
}

/// Frames from a non-blocking stream, as its bytes come: whole frames out, the rest kept.
struct FrameBuffer {
    private var bytes: [UInt8] = []
    private var start = 0

    mutating func append(_ chunk: ArraySlice<UInt8>) {
        if start > 0 && start == bytes.count {
            bytes.removeAll(keepingCapacity: true)
            start = 0
        }
        bytes.append(contentsOf: chunk)
    }

    /// The next whole frame (its raw type byte and body), or `nil` until more bytes come.
    mutating func next() -> (type: UInt8, body: [UInt8])? {
        guard bytes.count - start >= 5 else { return nil }
        let length = Int(UInt32(bytes[start]) | UInt32(bytes[start + 1]) << 8 | UInt32(bytes[start + 2]) << 16
                         | UInt32(bytes[start + 3]) << 24)
        guard bytes.count - start - 5 >= length else { return nil }
        let type = bytes[start + 4]
        let body = Array(bytes[(start + 5)..<(start + 5 + length)])
        start += 5 + length
        if start > 1 << 20 {
            bytes.removeFirst(start)
            start = 0
        }
        return (type, body)
    }
}
