import Foundation
import Logging
import PythonBridge
import Synchronization

/// The blocks, queue and threads of one kernel's ``HighThroughputExecutor``.
final class HighThroughputRuntime: Executor {
    let settings: HighThroughputExecutor

    struct State {
        var phase = Phase.created
        var queue: [Attempt] = []
        var blocks: [Int: ManagerBlock] = [:]
        var nextBlock = 0
        var slots: SlotSupervisor
        var context: ExecutorContext? = nil
        /// Blocks that have ended, oldest first.
        var ended: [EndedBlock] = []
        /// Blocks ended on purpose (drained, scaled in): the `none` strategy does not replace them.
        var retired = 0
        var stopping: DispatchSemaphore? = nil

        enum Phase { case created, running, stopping, stopped }
    }

    let state: Mutex<State>
    /// Who sends now: tasks are dispatched on the thread that made room or work for them (a block's
    /// reader after results, a submitter), one thread at a time, with no hand-off to another thread.
    private let turn = Mutex(DispatchTurn())
    private let encoder = TaskEncoder()
    /// Shared-memory segments for large buffers to and from local blocks.
    let segments = PayloadSegments()
    /// Whether local blocks get segments (the provider starts blocks here and `/dev/shm` works).
    let useSegments = Mutex(false)
    let dispatchKicker = Kicker()
    let maintenanceKicker = Kicker()
    private let threads = Mutex<[JoinableThread]>([])
    private let local: ThreadPoolRuntime
    let expected = Mutex<ExpectedManager?>(nil)
    /// A moving average of how long tasks spend in blocks; `nil` until one has come back.
    let typicalTask = Mutex<Duration?>(nil)

    init(_ settings: HighThroughputExecutor) {
        self.settings = settings
        self.local = ThreadPoolRuntime(label: "\(settings.label)-swift", maxThreads: 2)
        self.state = Mutex(State(slots: SlotSupervisor(slots: max(settings.provider.initBlocks, settings.provider.maxBlocks),
                                                                threshold: settings.provider.failedStartsBeforeBroken)))
    }

    var label: String { settings.label }
    var provider: any ExecutionProvider { settings.provider }
    var maxWorkers: Int { settings.maxWorkers }
    var heartbeatPeriod: Duration { settings.heartbeatPeriod }
    var heartbeatThreshold: Duration { settings.heartbeatThreshold }
    var prefetch: Int { settings.prefetch }
    var shortTask: Duration { settings.shortTask }
    var workerDebug: Bool { settings.workerDebug }
    var workerLogDirectory: String? { settings.workerLogDirectory }
    var cpuAffinity: String { settings.cpuAffinity }
    var workersPerBlock: Int { settings.workersPerBlock }
    func workers(slot: Int) -> Int { settings.workers(slot: slot) }

    var outstanding: Int {
        state.withLock { $0.queue.count + $0.blocks.values.reduce(0) { $0 + $1.outstanding } } + local.outstanding
    }

    var status: ExecutorStatus {
        let (blocks, failures, broken, ended) = state.withLock { ($0.blocks.values.sorted { $0.number < $1.number },
                                                                 $0.slots.failureMessages, $0.slots.broken, $0.ended) }
        let now = ContinuousClock.now
        let live: [BlockStatus] = blocks.compactMap { block in
            let phase: BlockStatus.Phase
            switch block.phase {
            case .starting: phase = .starting
            case .ready: phase = .ready
            case .draining: phase = .draining
            case .stopping: phase = .stopping
            case .dead: return nil
            }
            return BlockStatus(number: block.number, slot: block.slot, host: block.process.host, phase: phase,
                               workers: block.workers, outstanding: block.outstanding, processIDs: block.processIDs,
                               idle: block.idleSince.map { now - $0 }, pythonVersion: block.pythonVersion,
                               waitingFor: phase == .starting ? block.process.waitingFor.withLock { $0 } : nil)
        }
        return ExecutorStatus(label: label, outstanding: outstanding, blocks: live, startFailures: failures,
                              broken: broken, ended: ended, workersPerBlock: workersPerBlock,
                              workerLimit: settings.workerLimit(cores: provider.declaredCoresPerNode, memory: provider.declaredMemoryPerNode))
    }

    func scaleIn(_ count: Int) -> [Int] {
        let chosen: [ManagerBlock] = state.withLock { state in
            guard state.phase == .running else { return [] }
            let candidates = state.blocks.values.filter { $0.phase != .stopping && $0.phase != .dead }
                .sorted { ($0.outstanding, -$0.number) < ($1.outstanding, -$1.number) }
            return Array(candidates.prefix(max(0, count)))
        }
        for block in chosen { block.requestShutdown() }
        maintenanceKicker.kick()
        return chosen.map(\.number)
    }

    func scaleOut(_ count: Int) -> [Int] {
        var started: [Int] = []
        for _ in 0..<max(0, count) {
            let before = state.withLock { $0.nextBlock }
            guard startBlock() else { break }
            if state.withLock({ $0.blocks[before] != nil }) { started.append(before) }
        }
        return started
    }

    // MARK: Lifecycle

    func start(_ context: ExecutorContext) throws {
        guard provider.minBlocks >= 0, provider.initBlocks >= 0, provider.minBlocks <= provider.maxBlocks else {
            throw ExecutorError(label: label, message: "the provider's blocks must satisfy 0 ≤ minBlocks ≤ maxBlocks and initBlocks ≥ 0")
        }
        try Python.start(context.python)
        try Python.addSearchPath(PythonSide.packageRoot)
        let info = Python.info!
        let serializer = try withGIL {
            (try String(python: PythonSide.serializer("serializer_name").call()),
             try String(python: PythonSide.serializer("serializer_version").call()))
        }
        expected.withLock { $0 = ExpectedManager(pythonVersion: "\(info.version.major).\(info.version.minor)",
                                                 serializer: serializer.0, serializerVersion: serializer.1) }
        if serializer.0 != "cloudpickle" {
            // Said once, here, rather than by every task that cannot travel.
            context.logger.info("\(Self.noCloudpickleNote(executable: info.executable))", metadata: ["sprig.executor": .string(label)])
        }
        try local.start(context)
        if provider is LocalProvider && segments.makeProbe() { useSegments.withLock { $0 = true } }
        state.withLock {
            $0.context = context
            $0.phase = .running
        }
        for _ in 0..<provider.initBlocks { startBlock() }
        let dispatcher = try JoinableThread(name: "sprig-dispatch") { [self] in dispatchLoop() }
        let maintenance = try JoinableThread(name: "sprig-maintain") { [self] in maintenanceLoop() }
        threads.withLock { $0 = [dispatcher, maintenance] }
        EmergencyStop.register(self) { [weak self] in self?.killAllBlocks() }
    }

    func submit(_ attempt: Attempt) {
        if case .swift = attempt.work {
            local.submit(attempt)
            return
        }
        let refusal: TaskError.Reason? = state.withLock { state in
            if let broken = state.slots.broken, state.blocks.isEmpty { return .badState(broken) }
            guard state.phase == .running else { return .executor("executor \(label) is shut down") }
            state.queue.append(attempt)
            return nil
        }
        if let refusal {
            attempt.finish(.failure(TaskError(taskID: attempt.taskID, app: attempt.app, reason: refusal)))
            return
        }
        if isDeliveringHere {
            return  // released by a result this thread is finishing: its reader dispatches next
        }
        if JoinableThread.isCurrentEngineThread {
            // The memoizer's, the callback thread, a thread executor's: they have their own work
            // to get back to (a memoizer thread that sends tasks commits results later).
            dispatchKicker.kick()
        } else {
            dispatchNow()  // the program's own thread: sent from here, with no wake-up of another
        }
    }

    func shutdown() {
        let blocks: [ManagerBlock] = state.withLock { state in
            guard state.phase == .running else { return [] }
            state.phase = .stopping
            state.stopping = DispatchSemaphore(value: 0)
            return Array(state.blocks.values)
        }
        dispatchKicker.kick()
        maintenanceKicker.kick()
        for thread in threads.withLock({ $0 }) { thread.join() }
        for block in blocks { block.requestShutdown() }
        // Managers stop their workers and exit at once; one that does not within the grace period is killed.
        let deadline = ContinuousClock.now + .seconds(5)
        for block in blocks {
            while block.phase != .dead && ContinuousClock.now < deadline {
                _ = state.withLock { $0.stopping }?.wait(timeout: .now() + .milliseconds(100))
            }
            if block.phase != .dead { block.kill(reason: "it did not stop within 5 s of shutdown") }
            block.joinReader()
        }
        let leftover = state.withLock { state in
            state.phase = .stopped
            defer { state.queue = [] }
            return state.queue
        }
        for attempt in leftover {
            attempt.finish(.failure(TaskError(taskID: attempt.taskID, app: attempt.app, reason: .executor("executor \(label) shut down"))))
        }
        local.shutdown()
        provider.close()
        // No block is left: results still held keep their buffers inline, every segment goes.
        segments.shutdown()
        EmergencyStop.unregister(self)
    }

    /// Stops every block at once, for Ctrl-C and SIGTERM: SIGTERM to each block's process group
    /// (managers and workers end the commands they run, then exit), SIGKILL to what is left after
    /// a second; then the provider's shared connections are closed.
    func killAllBlocks() {
        let blocks = state.withLock { Array($0.blocks.values) }
        for block in blocks { block.terminate(reason: "the program is stopping") }
        let deadline = ContinuousClock.now + .seconds(1)
        while ContinuousClock.now < deadline && blocks.contains(where: { $0.phase != .dead }) { usleep(5_000) }
        for block in blocks where block.phase != .dead { block.kill(reason: "the program is stopping") }
        provider.close()
        segments.sweep()  // the program ends: no segment of this run outlives it
    }

    // MARK: Loops

    /// The dispatch thread: sends what waits when kicked by what happens off the hot path (a block
    /// ended, shutdown) and every second; results and submissions dispatch on their own threads.
    func dispatchLoop() {
        while true {
            dispatchKicker.wait(timeout: .seconds(1))
            if state.withLock({ $0.phase != .running }) { return }
            dispatchNow()
        }
    }

    /// Finishes attempts a block reported ended, on the block's reader thread (kernel code runs
    /// there: dependents are released and, through ``submit(_:)``, sent at once); the reader then
    /// dispatches the room their results made (``BlockEvents/capacityChanged``).
    func deliver(_ batch: [(Attempt, Outcome)]) {
        let outer: UnsafeMutableRawPointer? = pthread_getspecific(deliveringKey)
        pthread_setspecific(deliveringKey, Unmanaged.passUnretained(self).toOpaque())
        defer { pthread_setspecific(deliveringKey, outer) }
        for (attempt, outcome) in batch { attempt.finish(outcome) }
    }

    /// Whether the calling thread is finishing attempts of this executor (``deliver(_:)``).
    private var isDeliveringHere: Bool {
        let current: UnsafeMutableRawPointer? = pthread_getspecific(deliveringKey)
        return current == Unmanaged.passUnretained(self).toOpaque()
    }

    /// Sends what waits to the blocks with room, on the calling thread. One thread sends at a
    /// time; a call that finds another sending leaves it a note, and that one goes round again,
    /// so nothing queued meanwhile waits for a later event.
    func dispatchNow() {
        guard turn.withLock({ $0.claim() }) else { return }
        repeat {
            if state.withLock({ $0.phase == .running }) { dispatchReadyTasks() }
        } while turn.withLock { $0.passOn() }
    }

    private func dispatchReadyTasks() {
        while true {
            let assignments: [(ManagerBlock, [Attempt])] = state.withLock { state in
                guard !state.queue.isEmpty else { return [] }
                let ready = state.blocks.values.sorted { $0.number < $1.number }
                    .map { block in (block, room(in: block), block.freeSlots(capacity: block.workers)) }
                    .filter { $0.1 > 0 }
                guard !ready.isEmpty else { return [] }
                let counts = DispatchPlan.share(waiting: state.queue.count,
                                                rooms: ready.map { DispatchPlan.Room(free: $0.1, idle: min($0.2, $0.1)) })
                var result: [(ManagerBlock, [Attempt])] = []
                for (index, entry) in ready.enumerated() where counts[index] > 0 {
                    // An attempt cancelled while it waited here has ended: it is not sent.
                    result.append((entry.0, state.queue.prefix(counts[index]).filter { !$0.isEnded }))
                    state.queue.removeFirst(counts[index])
                }
                return result
            }
            if assignments.isEmpty { return }
            for (block, attempts) in assignments {
                var tasks: [WireTask] = []
                let sharedMemory = block.sharesMemory ? segments.prefix : nil
                for (attempt, encoded) in encoder.encode(attempts.filter { !$0.isEnded }, sharedMemory: sharedMemory) {
                    switch encoded {
                    case .success(let task): tasks.append(task)
                    case .failure(let error): attempt.finish(.failure(error))
                    }
                }
                let unsent = block.send(tasks)
                if !unsent.isEmpty {
                    state.withLock { $0.queue.insert(contentsOf: unsent.map(\.attempt), at: 0) }
                }
            }
        }
    }

    func maintenanceLoop() {
        var lastHeartbeat = ContinuousClock.now
        guard let strategy = state.withLock({ $0.context?.strategy }) else { return }
        let planner = ScalingPlanner(strategy: strategy, initBlocks: provider.initBlocks, minBlocks: provider.minBlocks,
                                     maxBlocks: provider.maxBlocks, slotsPerBlock: workersPerBlock, parallelism: provider.parallelism)
        while true {
            maintenanceKicker.wait(timeout: .milliseconds(100))
            let (phase, blocks, waiting, broken, retired) = state.withLock {
                ($0.phase, Array($0.blocks.values), $0.queue.count, $0.slots.broken, $0.retired)
            }
            guard phase == .running else { return }
            let now = ContinuousClock.now
            if now - lastHeartbeat >= heartbeatPeriod {
                lastHeartbeat = now
                for block in blocks where block.phase == .ready || block.phase == .draining { block.sendHeartbeat() }
            }
            for block in blocks where block.phase == .ready || block.phase == .draining {
                // Its drain period passed, or its provider says its time is nearly up (a batch job's walltime).
                if settings.drainPeriod.map({ now - block.launchedAt >= $0 }) ?? false || block.process.shouldDrain(at: now) {
                    block.drain()
                }
            }
            for block in blocks where now - block.lastHeard > heartbeatThreshold {
                block.kill(reason: block.phase == .starting
                    ? "it did not answer within \(heartbeatThreshold.seconds) s of starting (host unreachable or too slow?)"
                    : "its manager was silent for more than \(heartbeatThreshold.seconds) s (the heartbeat threshold)")
            }
            guard broken == nil else { continue }
            let loads = blocks.map { ScalingPlanner.BlockLoad(block: $0.number, outstanding: $0.outstanding, idleSince: $0.idleSince) }
            for decision in planner.decide(blocks: loads, waiting: waiting, now: now, retired: retired) {
                switch decision {
                case .start(let count):
                    for _ in 0..<count where !startBlock() { break }
                case .stop(let number): blocks.first { $0.number == number }?.requestShutdown()
                }
            }
        }
    }
}

/// The executor whose block reader finishes attempts on this thread now, if any.
private let deliveringKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Whose turn it is to send tasks to blocks (``HighThroughputRuntime/dispatchNow()``).
struct DispatchTurn {
    private var busy = false
    private var again = false

    /// Takes the turn; `false` (and a note to go round again) when another thread has it.
    mutating func claim() -> Bool {
        if busy {
            again = true
            return false
        }
        busy = true
        return true
    }

    /// Ends a round: `true` when someone asked meanwhile (the holder goes round again), else the turn is free.
    mutating func passOn() -> Bool {
        if again {
            again = false
            return true
        }
        busy = false
        return false
    }
}

extension HighThroughputRuntime {
    /// What a process executor without cloudpickle cannot do (logged once per executor; `sprig run` prints it once).
    static func noCloudpickleNote(executable: String) -> String {
        """
        cloudpickle is not importable by \(executable): functions defined in __main__, lambdas and closures \
        cannot travel to workers (functions from importable modules can); install cloudpickle \
        (Debian: python3-cloudpickle) to send them
        """
    }
}
