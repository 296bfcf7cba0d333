import Foundation
import Logging
import PythonBridge
import Synchronization

/// What a block tells its executor.
struct BlockEvents: Sendable {
    /// The block said hello and can take tasks, or started or finished some: dispatch more, on
    /// the reader thread (no hand-off to another thread on the way from a result to the next task).
    let capacityChanged: @Sendable () -> Void
    /// The block said hello and matched.
    let ready: @Sendable (ManagerBlock) -> Void
    /// A task came back after this long in the block.
    let taskReturned: @Sendable (Duration) -> Void
    /// Attempts that ended (results, or the tasks of a lost block), finished on the reader thread.
    let finished: @Sendable ([(Attempt, Outcome)]) -> Void
    /// A worker's resource sample for a try it runs (monitoring on).
    let sampled: @Sendable (ResourceSample) -> Void
    /// The block's stream ended; `startFailure` is set when it never became ready.
    let ended: @Sendable (ManagerBlock, _ startFailure: String?, _ permanent: Bool) -> Void
}

/// What the local side expects a manager to be: checked against its HELLO.
struct ExpectedManager: Sendable {
    let pythonVersion: String
    let serializer: String
    let serializerVersion: String
}

/// One block: a manager process and the stream to it, with the tasks it holds.
///
/// Threading: a reader thread of its own reads every frame the manager sends and finishes the
/// attempts whose results come (``BlockEvents/finished``: kernel code, which releases dependents
/// and dispatches them, but never user callbacks, which the kernel runs on its callback thread).
/// Any thread may send: frames go through the block's ``BlockWriter``, so no sender waits on a
/// stalled pipe. Bookkeeping is a ``BlockLedger`` behind a lock, never held while writing.
/// On a local block whose manager hands its workers over (the two-hop path), tasks go to the
/// workers and results come from them through ``BlockWorkers``, whose own reader thread delivers
/// the results here as the manager's RESULTS would be.
final class ManagerBlock: Sendable {
    typealias Phase = BlockLedger.Phase

    private struct Extra {
        var lastHeard = ContinuousClock.now
        var workerPIDs: [Int32] = []
        var managerPID: Int32? = nil
        /// The manager's full Python version, from its HELLO.
        var pythonVersion: String? = nil
        /// Its host's name (`os.uname().nodename`), from its HELLO.
        var nodeName: String? = nil
        /// Whether its workers share this machine's `/dev/shm` (HELLO's `shared_memory`).
        var sharesMemory = false
        /// Whether this side asked it to stop (scaling in, draining, shutdown).
        var stopRequested = false
        /// Why it ended, once it has.
        var endReason: String? = nil
    }

    let number: Int
    /// The provider's slot (the host, for the ad-hoc provider).
    let slot: Int
    let process: BlockProcess
    /// Where the block's stderr goes on this machine: quoted in start failures.
    let stderrPath: String
    /// The block's workers.
    let workers: Int
    private let ledger = Mutex(BlockLedger())
    private let extra = Mutex(Extra())
    private let writer: BlockWriter
    private let reader = Mutex<JoinableThread?>(nil)
    private let logger: Logger
    /// The executor's shared-memory segments: results' segments are leased from here.
    private let segments: PayloadSegments?
    /// A local block's control socket (the engine's end), until its manager says whether it hands
    /// its workers over; then owned by ``twoHop``, or closed.
    private let workerSocket: Int32?
    /// The two-hop path, once the manager's HELLO said it hands its workers over: tasks go straight
    /// to the workers, results come straight from them.
    private let twoHop = Mutex<BlockWorkers?>(nil)
    /// Each worker's prefetch (`--prefetch`), for the two-hop path's dispatch.
    private let prefetch: Int
    /// How long a worker may be silent before the manager is told (the heartbeat threshold).
    private let silenceThreshold: Duration

    init(number: Int, slot: Int, process: BlockProcess, workers: Int, stderrPath: String, logger: Logger,
         segments: PayloadSegments? = nil, workerSocket: Int32? = nil, prefetch: Int = 0,
         silenceThreshold: Duration = HighThroughputExecutor.defaultHeartbeatThreshold) throws {
        self.segments = segments
        self.workerSocket = workerSocket
        self.prefetch = prefetch
        self.silenceThreshold = silenceThreshold
        self.number = number
        self.slot = slot
        self.process = process
        self.stderrPath = stderrPath
        self.workers = workers
        var logger = logger
        logger[metadataKey: "sprig.block"] = "\(number)"
        logger[metadataKey: "sprig.host"] = .string(process.host)
        self.logger = logger
        self.writer = try BlockWriter(fd: process.input, name: "sprig-w\(number)")
    }

    var name: String { "\(number) on \(process.host)" }

    func startReading(expected: ExpectedManager, events: BlockEvents) throws {
        let thread = try JoinableThread(name: "sprig-block\(number)") { [self] in
            readLoop(expected: expected, events: events)
            // Finishing attempts and sending what they released takes the GIL here, which gave this
            // thread a Python thread state of its own: it goes with the thread.
            unprimeCurrentThreadForPython()
        }
        reader.withLock { $0 = thread }
    }

    /// Waits for the reader thread, which ends when the stream does.
    func joinReader() {
        let thread = reader.withLock { $0 }
        thread?.join()
    }

    var phase: Phase { ledger.withLock { $0.phase } }
    var outstanding: Int { ledger.withLock { $0.outstanding } }
    /// How many more tasks the block may take when it may hold `capacity` at once.
    func freeSlots(capacity: Int) -> Int { ledger.withLock { $0.freeSlots(capacity: capacity) } }
    /// How many more tasks the block may take when it may hold `waiting` unstarted ones.
    func freeSlots(waiting: Int) -> Int { ledger.withLock { $0.freeSlots(waiting: waiting) } }
    var lastHeard: ContinuousClock.Instant { extra.withLock { $0.lastHeard } }
    var idleSince: ContinuousClock.Instant? { ledger.withLock { $0.idleSince } }
    /// Whether tasks for this block may carry large buffers in shared-memory segments: its manager
    /// said it sees this machine's `/dev/shm` (a local block).
    var sharesMemory: Bool { segments != nil && extra.withLock { $0.sharesMemory } }
    /// When the block was launched.
    let launchedAt = ContinuousClock.now
    /// The manager's full Python version (`3.11.2`), once it said hello.
    var pythonVersion: String? { extra.withLock { $0.pythonVersion } }
    /// The name of the block's host as it knows itself (what Parsl records for a try and a node),
    /// once its manager said hello; until then the provider's name for it.
    var host: String { extra.withLock { $0.nodeName } ?? process.host }
    /// The manager's and its workers' PIDs, as the manager last reported them.
    var processIDs: [Int32] { extra.withLock { ($0.managerPID.map { [$0] } ?? []) + $0.workerPIDs } }

    /// Sends tasks; returns the ones it could not send (the block is not ready), whose attempts the caller requeues.
    func send(_ tasks: [WireTask]) -> [WireTask] {
        guard let includeFunction = ledger.withLock({ $0.take(tasks, at: .now) }) else { return tasks }
        if let workers = twoHop.withLock({ $0 }) {
            workers.enqueue(tasks)
            return []
        }
        var body = ByteWriter()
        body.u32(UInt32(tasks.count))
        for (task, include) in zip(tasks, includeFunction) { task.write(to: &body, includeFunction: include) }
        if !writer.send(body.frame(.tasks)) {
            // The reader sees the end of the stream and reports these as lost with the rest.
            logger.debug("sending tasks failed; the block is ending")
        }
        return []
    }

    /// Asks the manager to kill whatever runs task `id` (its walltime passed); no result will come.
    func killTask(_ id: UInt64) {
        _ = ledger.withLock { $0.remove(id, at: .now) }
        if let workers = twoHop.withLock({ $0 }) {
            workers.kill(id)
            return
        }
        var body = ByteWriter()
        body.u64(id)
        writer.send(body.frame(.killTask))
    }

    func sendHeartbeat() {
        writer.send(ByteWriter().frame(.heartbeat))
        twoHop.withLock { $0 }?.checkSilence(threshold: silenceThreshold)
    }

    /// Whether this side asked the block to stop, and why it ended (once it has).
    var ending: (stopRequested: Bool, reason: String?) { extra.withLock { ($0.stopRequested, $0.endReason) } }

    /// Takes no more tasks (its drain period passed); stops the block as soon as it holds none.
    /// Returns whether it was stopped.
    @discardableResult
    func drain() -> Bool {
        guard ledger.withLock({ $0.drain() }) else { return false }
        requestShutdown()
        return true
    }

    /// Asks the manager to stop its workers and exit, and closes our end of its input once the
    /// frames before it are out.
    func requestShutdown() {
        extra.withLock { $0.stopRequested = true }
        ledger.withLock { $0.stop() }
        writer.send(ByteWriter().frame(.shutdown))
        writer.finish()
        twoHop.withLock { $0 }?.finish()
    }

    /// Asks the block's processes to stop now (SIGTERM to its group): managers and workers end
    /// the commands they run and exit. The reader reports the end as usual.
    func terminate(reason: String) {
        ledger.withLock { $0.noteEnd(reason) }
        process.signal(SIGTERM)
    }

    /// Kills the block's process group (a silent or hung manager); the reader then reports the loss.
    func kill(reason: String) {
        ledger.withLock { $0.noteEnd(reason) }
        process.kill()
    }

    private func readLoop(expected: ExpectedManager, events: BlockEvents) {
        let reader = FrameReader(fd: process.output)
        var host = process.host
        var startFailure: String? = nil
        var permanent = false
        loop: while true {
            let frame: Frame?
            do { frame = try reader.next() } catch {
                ledger.withLock { $0.noteEnd("its stream broke: \(error)") }
                break
            }
            guard let frame else { break }
            extra.withLock { $0.lastHeard = .now }
            switch frame.type {
            case .hello:
                if let problem = verifyHello(frame.body, expected: expected) {
                    startFailure = "block \(name): \(problem)"
                    permanent = true
                    var ack = ByteWriter()
                    ack.bytes = HelloAck(ok: false, error: problem).body
                    writer.send(ack.frame(.helloAck))
                    process.kill()
                    break loop
                }
                host = self.host
                startTwoHop(if: ManagerHello.parse(frame.body)?.handsOffWorkers == true, host: host, events: events)
                var ack = ByteWriter()
                ack.bytes = HelloAck(ok: true, error: nil).body
                writer.send(ack.frame(.helloAck))
                ledger.withLock { $0.becameReady(at: .now) }
                logger.debug("block ready")
                events.ready(self)
                events.capacityChanged()
            case .results:
                for duration in receiveResults(frame.body, host: host, events: events) { events.taskReturned(duration) }
                events.capacityChanged()
            case .stats:
                if let stats = ManagerStats.parse(frame.body) {
                    extra.withLock { $0.workerPIDs = stats.workerPIDs }
                }
            case .heartbeat, .helloAck, .tasks, .shutdown, .killTask:
                break
            }
        }
        // The stream ended: make sure nothing of the block survives, then report what was lost.
        process.kill()
        let exitCode = process.reap()
        if let workers = twoHop.withLock({ $0 }) {
            workers.stop()
            twoHop.withLock { $0 = nil }  // it holds this block (its delivery closure): let both go
        } else if let workerSocket {
            close(workerSocket)
        }
        // The provider's word on how it ended (the scheduler's final job state) beats the stream's.
        if let said = process.endReason.withLock({ $0 }) {
            ledger.withLock { $0.noteEnd(said, overriding: true) }
        }
        close(process.output)
        writer.terminate()
        let ending = ledger.withLock { $0.end(exitCode: exitCode) }
        let (lost, reason, wasReady) = (ending.lost, ending.reason, ending.wasReady)
        extra.withLock { $0.endReason = reason }
        if startFailure == nil && !wasReady {
            let said = Self.lastLines(of: stderrPath)
            startFailure = "block \(name) ended before it was ready: \(reason)" + (said.isEmpty ? "" : ": \(said)") + " (see \(stderrPath))"
        }
        events.finished(lost.map { item in
            (item.attempt, .failure(TaskError(taskID: item.attempt.taskID, app: item.attempt.app,
                                              reason: .managerLost("block \(name) was lost: \(reason)"))))
        })
        if !lost.isEmpty { logger.info("block lost with tasks", metadata: ["sprig.tasks": "\(lost.count)", "reason": .string(reason)]) }
        events.ended(self, startFailure, permanent)
    }

    /// The last few non-empty lines a block wrote to its stderr, for error messages.
    private static func lastLines(of path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return text.split(separator: "\n").suffix(3).joined(separator: " / ")
    }

    /// Handles a RESULTS frame from the block on `host` (its own name); returns how long each
    /// finished task ran.
    private func receiveResults(_ body: [UInt8], host: String, events: BlockEvents) -> [Duration] {
        guard let entries = try? ResultEntry.parse(body) else {
            kill(reason: "it sent a RESULTS frame that ends inside an entry")
            return []
        }
        return take(entries, host: host, events: events)
    }

    /// Starts the two-hop path when the manager hands its workers over and this block has a control
    /// socket; else closes the socket (the manager relays).
    private func startTwoHop(if handsOff: Bool, host: String, events: BlockEvents) {
        guard let workerSocket else { return }
        guard handsOff else { return }
        do {
            let workers = try BlockWorkers(socket: workerSocket, prefetch: prefetch, host: host, number: number, logger: logger) {
                [self] entries in
                for duration in take(entries, host: host, events: events) { events.taskReturned(duration) }
                events.capacityChanged()
            }
            twoHop.withLock { $0 = workers }
            logger.debug("two-hop path: the engine drives the block's workers")
        } catch {
            logger.info("two-hop path unavailable; the manager relays", metadata: ["error": .string("\(error)")])
        }
    }

    /// Handles result entries of the block on `host` (from its manager's RESULTS, or read from its
    /// workers on the two-hop path); returns how long each finished task ran.
    private func take(_ entries: [ResultEntry], host: String, events: BlockEvents) -> [Duration] {
        let now = ContinuousClock.now
        var finished: [(BlockLedger.InFlight, UInt8, [UInt8])] = []
        var started: [(UInt64, Attempt, Int32?)] = []
        var samples: [(Attempt, [UInt8])] = []
        ledger.withLock { ledger in
            for entry in entries {
                let (id, status, bytes) = (entry.taskID, entry.status, entry.data)
                if status == ResultStatus.started.rawValue {
                    if let attempt = ledger.starting(id, at: now) { started.append((id, attempt, entry.workerPID)) }
                } else if status == ResultStatus.resource.rawValue {
                    // A sample of a try still running here (the last one comes before its result).
                    if let attempt = ledger.inFlight[id]?.attempt { samples.append((attempt, bytes)) }
                } else if let item = ledger.remove(id, at: now) {
                    finished.append((item, status, bytes))
                } else if status == ResultStatus.ok.rawValue {
                    PayloadSegments.discard(bytes)  // a result nobody will read (its task ended): its segments go now
                }
            }
        }
        // A task's walltime counts from when its worker starts it, not from when it was queued there.
        for (id, attempt, pid) in started {
            attempt.markStarted(on: Placement(block: number, host: host, workerPID: pid))
            if attempt.walltime != nil { attempt.setCanceller { [self] in killTask(id) } }
        }
        for (attempt, bytes) in samples {
            guard let usage = ResourceUsage(wire: bytes) else {
                logger.debug("unreadable resource sample", metadata: ["sprig.task.id": "\(attempt.taskID)"])
                continue
            }
            events.sampled(ResourceSample(taskID: attempt.taskID, tryID: attempt.number - 1, block: number, host: host, usage: usage))
        }
        events.finished(finished.map { item, status, bytes in
            (item.attempt, WireResult.outcome(status: status, bytes: bytes, kind: item.kind, attempt: item.attempt, block: name,
                                              segments: segments))
        })
        return finished.map { $0.0.ran(until: now) }
    }

    private func verifyHello(_ body: [UInt8], expected: ExpectedManager) -> String? {
        let hello = ManagerHello.parse(body)
        extra.withLock {
            $0.managerPID = hello?.pid
            $0.pythonVersion = hello?.pythonFull
            $0.nodeName = hello?.host.flatMap { $0.isEmpty ? nil : $0 }
            $0.sharesMemory = hello?.sharedMemory ?? false
        }
        return Self.checkHello(body, expected: expected, host: process.host)
    }

    /// What is wrong with a manager's HELLO, or `nil` when it matches this side.
    static func checkHello(_ body: [UInt8], expected: ExpectedManager, host fallbackHost: String) -> String? {
        guard let hello = ManagerHello.parse(body) else { return "its manager sent an unreadable hello" }
        let host = hello.host ?? fallbackHost
        let protocolVersion = hello.protocol ?? -1
        if protocolVersion != managerProtocolVersion {
            return "the manager on \(host) speaks protocol \(protocolVersion), this Sprig speaks \(managerProtocolVersion); use the same Sprig version on both sides"
        }
        let python = hello.python ?? "?"
        if python != expected.pythonVersion {
            return "the manager on \(host) runs Python \(python) (\(hello.executable ?? "?")), "
                + "but this process embeds Python \(expected.pythonVersion); workers need the same minor version"
        }
        let serializer = "\(hello.serializer ?? "?") \(hello.serializerVersion ?? "")".trimmingCharacters(in: .whitespaces)
        let local = "\(expected.serializer) \(expected.serializerVersion)".trimmingCharacters(in: .whitespaces)
        if serializer != local {
            return "the manager on \(host) serializes with \(serializer), this process with \(local); install the same cloudpickle on both sides"
        }
        return nil
    }
}
