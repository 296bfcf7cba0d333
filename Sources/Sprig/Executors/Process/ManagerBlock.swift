import Foundation
import Logging
import Synchronization

/// What a block tells its executor.
struct BlockEvents: Sendable {
    /// The block said hello and can take tasks, or finished some: dispatch more.
    let capacityChanged: @Sendable () -> Void
    /// The block said hello and matched.
    let ready: @Sendable (ManagerBlock) -> Void
    /// A task came back after this long in the block.
    let taskReturned: @Sendable (Duration) -> Void
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
/// Threading: a reader thread of its own reads every frame the manager sends and ends the attempts
/// it reports; any thread may send. Writes are serialized by a lock and never made holding the GIL.
final class ManagerBlock: Sendable {
    enum Phase: Equatable { case starting, ready, stopping, dead }

    private struct InFlight {
        let attempt: Attempt
        let kind: WireTask.Kind
        let sent: ContinuousClock.Instant
    }

    private struct State {
        var phase = Phase.starting
        var inFlight: [UInt64: InFlight] = [:]
        var sentFunctions: Set<UInt64> = []
        var lastHeard = ContinuousClock.now
        var idleSince: ContinuousClock.Instant? = nil
        var workerPIDs: [Int32] = []
        var managerPID: Int32? = nil
        var deathReason: String? = nil
    }

    let number: Int
    /// The provider's slot (the host, for the ad-hoc provider).
    let slot: Int
    let process: BlockProcess
    /// Where the block's stderr goes on this machine: quoted in start failures.
    let stderrPath: String
    /// The block's workers.
    let workers: Int
    private let state = Mutex(State())
    /// Serializes writes; true once our end of the manager's input is closed.
    private let writing = Mutex(false)
    private let reader = Mutex<JoinableThread?>(nil)
    private let logger: Logger

    init(number: Int, slot: Int, process: BlockProcess, workers: Int, stderrPath: String, logger: Logger) {
        self.number = number
        self.slot = slot
        self.process = process
        self.stderrPath = stderrPath
        self.workers = workers
        var logger = logger
        logger[metadataKey: "sprig.block"] = "\(number)"
        logger[metadataKey: "sprig.host"] = .string(process.host)
        self.logger = logger
    }

    var name: String { "\(number) on \(process.host)" }

    func startReading(expected: ExpectedManager, events: BlockEvents) throws {
        let thread = try JoinableThread(name: "sprig-block\(number)") { [self] in readLoop(expected: expected, events: events) }
        reader.withLock { $0 = thread }
    }

    /// Waits for the reader thread, which ends when the stream does.
    func joinReader() {
        let thread = reader.withLock { $0 }
        thread?.join()
    }

    var phase: Phase { state.withLock { $0.phase } }
    var outstanding: Int { state.withLock { $0.inFlight.count } }
    /// How many more tasks the block may take when it may hold `capacity` at once.
    func freeSlots(capacity: Int) -> Int { state.withLock { $0.phase == .ready ? max(0, capacity - $0.inFlight.count) : 0 } }
    var lastHeard: ContinuousClock.Instant { state.withLock { $0.lastHeard } }
    var idleSince: ContinuousClock.Instant? { state.withLock { $0.inFlight.isEmpty ? $0.idleSince : nil } }
    /// The manager's and its workers' PIDs, as the manager last reported them.
    var processIDs: [Int32] { state.withLock { ($0.managerPID.map { [$0] } ?? []) + $0.workerPIDs } }

    /// Sends tasks; returns the ones it could not send (the block is gone), whose attempts the caller ends.
    func send(_ tasks: [WireTask]) -> [WireTask] {
        var writer = ByteWriter()
        let now = ContinuousClock.now
        let accepted: Bool = state.withLock { state in
            guard state.phase == .ready else { return false }
            writer.u32(UInt32(tasks.count))
            for task in tasks {
                let key = task.functionKey
                let include = key != 0 && state.sentFunctions.insert(key).inserted
                task.write(to: &writer, includeFunction: include)
                state.inFlight[UInt64(task.attempt.taskID.rawValue)] = InFlight(attempt: task.attempt, kind: task.kind, sent: now)
            }
            state.idleSince = nil
            return true
        }
        guard accepted else { return tasks }
        if !write(writer.frame(.tasks)) {
            // The reader sees the end of the stream and reports these as lost with the rest.
            logger.debug("sending tasks failed; the block is ending")
        }
        return []
    }

    /// Asks the manager to kill whatever runs task `id` (its walltime passed); no result will come.
    func killTask(_ id: UInt64) {
        _ = state.withLock { $0.inFlight.removeValue(forKey: id) }
        var writer = ByteWriter()
        writer.u64(id)
        _ = write(writer.frame(.killTask))
    }

    func sendHeartbeat() { _ = write(ByteWriter().frame(.heartbeat)) }

    /// Asks the manager to stop its workers and exit, and closes our end of its input.
    func requestShutdown() {
        state.withLock { if $0.phase != .dead { $0.phase = .stopping } }
        _ = write(ByteWriter().frame(.shutdown))
        closeInput()
    }

    /// Kills the block's process group (a silent or hung manager); the reader then reports the loss.
    func kill(reason: String) {
        state.withLock { state in
            if state.deathReason == nil { state.deathReason = reason }
            return ()
        }
        process.kill()
    }

    private func closeInput() {
        writing.withLock { closed in
            if !closed { close(process.input) }
            closed = true
        }
    }

    private func write(_ frame: [UInt8]) -> Bool {
        writing.withLock { closed in
            guard !closed else { return false }
            do {
                try writeAll(process.input, frame)
                return true
            } catch {
                return false
            }
        }
    }

    private func readLoop(expected: ExpectedManager, events: BlockEvents) {
        let reader = FrameReader(fd: process.output)
        var startFailure: String? = nil
        var permanent = false
        loop: while true {
            let frame: Frame?
            do { frame = try reader.next() } catch {
                state.withLock { if $0.deathReason == nil { $0.deathReason = "its stream broke: \(error)" } }
                break
            }
            guard let frame else { break }
            state.withLock { $0.lastHeard = .now }
            switch frame.type {
            case .hello:
                if let problem = verifyHello(frame.body, expected: expected) {
                    startFailure = "block \(name): \(problem)"
                    permanent = true
                    var ack = ByteWriter()
                    ack.bytes = Array(#"{"ok": false, "error": "#.utf8) + Array(jsonString(problem).utf8) + Array("}".utf8)
                    _ = write(ack.frame(.helloAck))
                    process.kill()
                    break loop
                }
                var ack = ByteWriter()
                ack.bytes = Array(#"{"ok": true}"#.utf8)
                _ = write(ack.frame(.helloAck))
                state.withLock { state in
                    if state.phase == .starting { state.phase = .ready }
                    state.idleSince = .now
                }
                logger.debug("block ready")
                events.ready(self)
                events.capacityChanged()
            case .results:
                for duration in receiveResults(frame.body) { events.taskReturned(duration) }
                events.capacityChanged()
            case .stats:
                if let object = try? JSONSerialization.jsonObject(with: Data(frame.body)) as? [String: Any] {
                    let pids = (object["worker_pids"] as? [Int] ?? []).map { Int32($0) }
                    state.withLock { $0.workerPIDs = pids }
                }
            case .heartbeat, .helloAck, .tasks, .shutdown, .killTask:
                break
            }
        }
        // The stream ended: make sure nothing of the block survives, then report what was lost.
        process.kill()  // the group leader is not reaped yet, so its group id cannot have been reused
        let exitCode = process.reap()
        close(process.output)
        closeInput()
        let (lost, reason, wasReady) = state.withLock { state -> ([InFlight], String, Bool) in
            let wasReady = state.phase == .ready || state.phase == .stopping
            state.phase = .dead
            let lost = Array(state.inFlight.values)
            state.inFlight = [:]
            return (lost, state.deathReason ?? "its manager exited with status \(exitCode)", wasReady)
        }
        if startFailure == nil && !wasReady {
            let said = Self.lastLines(of: stderrPath)
            startFailure = "block \(name) ended before it was ready: \(reason)" + (said.isEmpty ? "" : ": \(said)") + " (see \(stderrPath))"
        }
        for item in lost {
            item.attempt.finish(.failure(TaskError(taskID: item.attempt.taskID, app: item.attempt.app,
                                                   reason: .managerLost("block \(name) was lost: \(reason)"))))
        }
        if !lost.isEmpty { logger.info("block lost with tasks", metadata: ["sprig.tasks": "\(lost.count)", "reason": .string(reason)]) }
        events.ended(self, startFailure, permanent)
    }

    /// Ends the reported attempts; returns how long each spent in the block.
    /// The last few non-empty lines a block wrote to its stderr, for error messages.
    private static func lastLines(of path: String) -> String {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { return "" }
        return text.split(separator: "\n").suffix(3).joined(separator: " / ")
    }

    private func receiveResults(_ body: [UInt8]) -> [Duration] {
        var reader = ByteReader(body)
        guard let count = try? reader.u32() else { return [] }
        var finished: [(InFlight, UInt8, [UInt8])] = []
        var started: [(UInt64, Attempt)] = []
        for _ in 0..<count {
            guard let id = try? reader.u64(), let status = try? reader.u8(), let bytes = try? reader.blob() else { break }
            if status == resultStatusStarted {
                if let item = state.withLock({ $0.inFlight[id] }) { started.append((id, item.attempt)) }
            } else if let item = state.withLock({ $0.inFlight.removeValue(forKey: id) }) {
                finished.append((item, status, bytes))
            }
        }
        // A task's walltime counts from when its worker starts it, not from when it was queued there.
        for (id, attempt) in started {
            attempt.markStarted()
            if attempt.walltime != nil { attempt.setCanceller { [self] in killTask(id) } }
        }
        state.withLock { if $0.inFlight.isEmpty { $0.idleSince = .now } }
        let now = ContinuousClock.now
        for (item, status, bytes) in finished {
            item.attempt.finish(WireResult.outcome(status: status, bytes: bytes, kind: item.kind, attempt: item.attempt, block: name))
        }
        return finished.map { now - $0.0.sent }
    }

    private func verifyHello(_ body: [UInt8], expected: ExpectedManager) -> String? {
        let hello = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        state.withLock { $0.managerPID = (hello?["pid"] as? Int).map { Int32($0) } }
        return Self.checkHello(body, expected: expected, host: process.host)
    }

    /// What is wrong with a manager's HELLO, or `nil` when it matches this side.
    static func checkHello(_ body: [UInt8], expected: ExpectedManager, host fallbackHost: String) -> String? {
        guard let hello = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] else {
            return "its manager sent an unreadable hello"
        }
        let host = hello["host"] as? String ?? fallbackHost
        let protocolVersion = hello["protocol"] as? Int ?? -1
        if protocolVersion != managerProtocolVersion {
            return "the manager on \(host) speaks protocol \(protocolVersion), this Sprig speaks \(managerProtocolVersion); use the same Sprig version on both sides"
        }
        let python = hello["python"] as? String ?? "?"
        if python != expected.pythonVersion {
            return "the manager on \(host) runs Python \(python) (\(hello["executable"] as? String ?? "?")), "
                + "but this process embeds Python \(expected.pythonVersion); workers need the same minor version"
        }
        let serializer = "\(hello["serializer"] as? String ?? "?") \(hello["serializer_version"] as? String ?? "")"
            .trimmingCharacters(in: .whitespaces)
        let local = "\(expected.serializer) \(expected.serializerVersion)".trimmingCharacters(in: .whitespaces)
        if serializer != local {
            return "the manager on \(host) serializes with \(serializer), this process with \(local); install the same cloudpickle on both sides"
        }
        return nil
    }
}

/// A JSON string literal for `text`.
func jsonString(_ text: String) -> String {
    let data = (try? JSONSerialization.data(withJSONObject: [text])) ?? Data("[\"\"]".utf8)
    return String(decoding: data.dropFirst().dropLast(), as: UTF8.self)
}
