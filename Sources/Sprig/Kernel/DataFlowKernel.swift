import Dispatch
import Foundation
import Logging
import PythonBridge
import Synchronization

/// The engine: takes app calls, tracks their dependencies, runs them on executors, retries
/// failures and completes their futures (Parsl's `DataFlowKernel`).
///
/// Make one with a ``Config``, make apps from it, call them, and ``shutdown()`` when done. Nothing is
/// global: several kernels may live in one process (they share the one embedded interpreter).
/// Threading: every member may be called from any thread. Completing a task, releasing its
/// dependents and choosing an executor never take the GIL.
public final class DataFlowKernel: Sendable {
    /// The config the kernel was made from.
    public let config: Config
    /// This run's folder, `<config.runDirectory>/NNN` (Parsl's `runinfo/000`), claimed when the
    /// kernel starts: the next number after the highest existing one. Everything the run writes
    /// goes under it: `parsl.log`, each block's logs (`<label>/block-N/`, unless the executor sets
    /// its own `workerLogDirectory`), `task_logs/` for ``Redirect/automatic``.
    public let runFolder: String
    /// This run's id, a lowercase UUID (Parsl's `dfk.run_id`): the `run_id` of its rows in the
    /// monitoring database.
    public let runID = UUID().uuidString.lowercased()
    /// The logger the kernel's parts use: its lines go through the recorder to `parsl.log` and to
    /// the program's logger.
    let logger: Logger
    /// Writes the run log (and the monitoring database) from the events the kernel and executors record.
    let recorder: RunRecorder
    /// The executors of the moment: the config's, then those ``addExecutors(_:)`` started.
    private var executors: [any Executor] { lifecycle.withLock { $0.executors } }
    /// What executors start with; kept for those added later.
    private let executorContext: ExecutorContext
    private let nextID = Atomic<Int>(0)
    private let records = TaskRecordCount()
    private let graph = Mutex(DependencyGraph<PendingTask>())
    private let lifecycle = Mutex(Lifecycle())
    private let counts = Mutex(TaskCounts())
    private let callbacks: CallbackRunner
    /// The app cache and checkpoint writer (`nil` when the config turns caching off).
    let memoizer: Memoizer?

    private struct Lifecycle {
        /// `waiting`: a shutdown waits for the tasks in flight and still accepts new ones (a join
        /// app's inner tasks, a callback's follow-up), as Parsl accepts them while it waits for
        /// current tasks before its cleanup; `draining`: it stops the executors and refuses them.
        enum Phase { case running, waiting, draining, shutDown }
        var phase = Phase.running
        var live = 0
        /// Changed only under the lock that orders it with the phase: a shutdown stops every
        /// executor added before it began, and none is added after.
        var executors: [any Executor] = []
        var drainWaiters: [DispatchSemaphore] = []
        /// Later ``shutdown()`` calls, waiting for the first to finish.
        var stopWaiters: [DispatchSemaphore] = []
    }

    /// Starts executors of its own from the config's descriptions, in a new run folder
    /// (``runFolder``) whose `parsl.log` records each task's life.
    /// - Parameter logger: where the run's lines go besides `parsl.log` (each line at or above the
    ///   logger's level; tasks' lines are `info`); `nil`: `parsl.log` only, so nothing is printed.
    /// - Throws: ``ConfigError`` for a config that cannot work or a run folder that cannot be made;
    ///   ``ExecutorError`` when an executor cannot start.
    public init(config: Config = Config(), logger: Logger? = nil) throws {
        try config.validate()
        self.config = config
        self.runFolder = try RunFolder.claim(base: config.runDirectory)
        let logFile = config.writesRunLog ? try LogFile(path: (runFolder as NSString).appendingPathComponent("parsl.log")) : nil
        let runLog: [any LogHandler] = logFile.map { [FileLogHandler(file: $0, level: Self.runLogLevel)] } ?? []
        let outputs = runLog + (logger.map { [$0.handler] } ?? [])
        // The database first: a batch's lines reach parsl.log only once the batch is committed, so
        // a task the log says ended is in the database, even if the engine is killed right after.
        var sinks: [any RunSink] = []
        if let monitoring = config.monitoring {
            let path = monitoring.database(runDirectory: config.runDirectory)
            do {
                sinks.append(try MonitoringWriter(options: monitoring, path: path, runFolder: runFolder, runID: runID) { message in
                    if let logFile {
                        logFile.append(FileLogHandler.prefix(Date()) + " WARNING sprig: " + message)
                    } else {
                        logger?.warning("\(message)")
                    }
                })
            } catch {
                throw ConfigError(message: "cannot open the monitoring database \(path): \(error)")
            }
        }
        sinks.append(RunLog(outputs: outputs, files: logFile.map { [$0] } ?? []))
        let recorder = try RunRecorder(sinks: sinks)
        self.recorder = recorder
        let level = outputs.map(\.logLevel).min() ?? Self.runLogLevel
        var engineLogger = Logger(label: logger?.label ?? "sprig") { _ in RecorderLogHandler(recorder: recorder, logLevel: level) }
        for (key, value) in logger?.handler.metadata ?? [:] { engineLogger[metadataKey: key] = value }
        self.logger = engineLogger
        let executors = config.executors.compactMap { ($0 as? any RunnableExecutor)?.makeExecutor() }
        lifecycle.withLock { $0.executors = executors }
        do {
            self.memoizer = try Self.makeMemoizer(config, runFolder: runFolder, logger: engineLogger)
        } catch {
            recorder.stop()
            throw error
        }
        do {
            self.callbacks = try CallbackRunner(name: "sprig-callbacks")
        } catch {
            memoizer?.close()
            recorder.stop()
            throw error
        }
        // As in Parsl, an interval of 0 means no resource samples.
        let resourceInterval = config.monitoring.flatMap { $0.resourceMonitoring && $0.resourceInterval > .zero ? $0.resourceInterval : nil }
        let context = ExecutorContext(logger: engineLogger, recorder: recorder, runDirectory: runFolder, python: config.python,
                                      strategy: config.strategy, resourceInterval: resourceInterval)
        self.executorContext = context
        do {
            try Self.start(executors, context)
        } catch {
            callbacks.stop(wait: true)
            memoizer?.close()
            recorder.stop()
            throw error
        }
        engineLogger.info("run \(runFolder) started", metadata: ["sprig.executors": .string(executors.map(\.label).joined(separator: ","))])
    }

    deinit {
        let wasRunning = lifecycle.withLock { state in
            defer { state.phase = .shutDown }
            return state.phase != .shutDown
        }
        if wasRunning { for executor in executors { executor.shutdown() } }
        memoizer?.close()
        callbacks.stop(wait: false)  // the last reference may go on the callback thread itself
        recorder.stop()
    }

    /// Waits for every task submitted so far (and those they wait for), then stops the executors'
    /// threads and processes. Calls made while it waits (a join app's inner tasks, a callback's
    /// follow-up) are accepted and waited for too; later ones fail at once with
    /// ``TaskError/Reason/kernelShutDown``.
    /// Calling it again waits for the first call to finish (at once, from a callback or an app,
    /// which the first call may be waiting for), then does nothing.
    public func shutdown() { shutdown(waitingForTasks: true) }

    /// ``shutdown()``; with `waitingForTasks: false` it waits only for what executors already run
    /// or hold (Parsl's `cleanup`, which scripts get when they leave `with parsl.load(…)` on an
    /// exception): tasks still waiting for their dependencies are left unfinished, and one whose
    /// dependencies end later fails as the executors are shut down. The log says how many were left.
    public func shutdown(waitingForTasks: Bool) {
        let waiter = DispatchSemaphore(value: 0)
        let shouldStop: Bool? = lifecycle.withLock { state in
            switch state.phase {
            case .running:
                state.phase = waitingForTasks ? .waiting : .draining
                return true
            case .waiting, .draining:
                guard !JoinableThread.isCurrentEngineThread else { return nil }
                state.stopWaiters.append(waiter)
                return false
            case .shutDown: return nil
            }
        }
        guard let shouldStop else { return }
        guard shouldStop else {
            waiter.wait()
            return
        }
        if waitingForTasks {
            logger.info("shutdown: waiting for the tasks in flight", metadata: ["sprig.tasks": "\(tasksInFlight)"])
            waitForTheLastTask()
        }
        for executor in executors { executor.shutdown() }
        memoizer?.close()
        callbacks.stop(wait: true)
        let (left, waiting) = lifecycle.withLock { state in
            state.phase = .shutDown
            defer { state.stopWaiters = [] }
            return (state.live, state.stopWaiters)
        }
        for other in waiting { other.signal() }
        if left > 0 { logger.info("kernel shut down leaving tasks unfinished", metadata: ["sprig.tasks": "\(left)"]) }
        Python.flushStandardStreams()
        logger.info("run \(runFolder) ended", metadata: ["sprig.tasks": "\(nextID.load(ordering: .relaxed))"])
        recorder.stop()
    }

    /// ``shutdown()`` without blocking a thread of the caller's executor: the waiting and joining
    /// happen on a thread the kernel starts and joins before this returns.
    public func shutdown() async {
        let stopper = Mutex<JoinableThread?>(nil)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            do {
                let thread = try JoinableThread(name: "sprig-shutdown") { [self] in
                    shutdown()
                    continuation.resume()
                }
                stopper.withLock { $0 = thread }
            } catch {
                shutdown()  // no thread to be had: wait here rather than not at all
                continuation.resume()
            }
        }
        stopper.withLock { $0 }?.join()
    }

    /// Blocks until every task submitted so far has ended (Parsl's `wait_for_current_tasks`).
    public func waitForCurrentTasks() {
        let semaphore = DispatchSemaphore(value: 0)
        let mustWait = lifecycle.withLock { state in
            guard state.live > 0 else { return false }
            state.drainWaiters.append(semaphore)
            return true
        }
        if mustWait { semaphore.wait() }
    }

    /// Waits until no task is in flight, then refuses new ones in the same step, so that a task
    /// submitted while waiting (from a running join app or a callback) is waited for too.
    private func waitForTheLastTask() {
        while true {
            let semaphore = DispatchSemaphore(value: 0)
            let done = lifecycle.withLock { state in
                guard state.live > 0 else {
                    state.phase = .draining
                    return true
                }
                state.drainWaiters.append(semaphore)
                return false
            }
            if done { return }
            semaphore.wait()
        }
    }

    /// How many submitted tasks have not ended.
    public var tasksInFlight: Int { lifecycle.withLock { $0.live } }

    /// Tasks by state, for progress displays.
    public var taskCounts: TaskCounts { counts.withLock { $0 } }

    /// The labels of the executors, in config order.
    public var executorLabels: [String] { executors.map(\.label) }

    /// What the executor labelled `label` is doing now: its outstanding tasks and blocks; `nil` if
    /// the config has no such executor.
    public func executorStatus(_ label: String) -> ExecutorStatus? {
        executors.first { $0.label == label }?.status
    }

    /// Asks the executor labelled `label` to stop up to `count` of its blocks, idle ones first
    /// (Parsl's `scale_in`); they finish nothing more and end. Returns their numbers.
    /// The `none` strategy does not replace them; `simple` may start others when tasks wait.
    @discardableResult
    public func scaleIn(_ label: String, blocks count: Int) -> [Int] {
        executors.first { $0.label == label }?.scaleIn(count) ?? []
    }

    /// Starts up to `count` more blocks of the executor labelled `label` (Parsl's `scale_out`),
    /// within its provider's slots. Returns their numbers.
    @discardableResult
    public func scaleOut(_ label: String, blocks count: Int) -> [Int] {
        executors.first { $0.label == label }?.scaleOut(count) ?? []
    }

    /// Starts more executors in this running kernel (Parsl's `dfk.add_executors`); apps made
    /// afterwards may name them. Their labels must differ from every executor's so far.
    /// - Throws: ``ConfigError`` for a label in use, twice in `descriptions` or empty, or a kernel
    ///   that is shutting down; ``ExecutorError`` when one cannot start (none of them is added then).
    public func addExecutors(_ descriptions: [any ExecutorDescription]) throws {
        var labels = Set(executorLabels)
        for description in descriptions {
            guard !description.label.isEmpty else { throw ConfigError(message: "an executor to add has an empty label") }
            guard labels.insert(description.label).inserted else {
                throw ConfigError(message: "an executor labelled \"\(description.label)\" exists already; labels must be unique")
            }
        }
        let added = descriptions.compactMap { ($0 as? any RunnableExecutor)?.makeExecutor() }
        try Self.start(added, executorContext)
        let accepted = lifecycle.withLock { state in
            guard state.phase == .running || state.phase == .waiting else { return false }
            guard state.executors.allSatisfy({ existing in !added.contains { $0.label == existing.label } }) else { return false }
            state.executors += added
            return true
        }
        guard accepted else {
            for executor in added { executor.shutdown() }
            throw ConfigError(message: "executors \(added.map(\.label)) were not added: the kernel is shutting down, or another call added those labels")
        }
        for executor in added {
            logger.info("executor \(executor.label) added", metadata: ["sprig.executor": .string(executor.label)])
        }
    }

    /// Starts each executor; if one cannot start, shuts down those it started and throws.
    private static func start(_ executors: [any Executor], _ context: ExecutorContext) throws {
        var started: [any Executor] = []
        do {
            for executor in executors {
                try executor.start(context)
                started.append(executor)
            }
        } catch {
            for executor in started { executor.shutdown() }
            throw error
        }
    }

    // MARK: Submission

    /// One submitted call, waiting for its dependencies.
    package struct PendingTask: Sendable {
        let core: TaskCore
        let options: ResolvedOptions
        /// The tasks it waits for; their errors explain a dependency failure.
        let dependencies: [TaskCore]
        /// Builds the work, given the task's id, once every dependency has succeeded (substituting their values).
        let prepare: @Sendable (TaskID) throws -> Work
        /// How the task is cached, when its app is.
        var memo: MemoTicket? = nil
        /// Counts this record in ``liveTaskRecords`` while any copy of it is held.
        let token: TaskRecordCount.Token
    }

    /// How many task records (a submitted call's options, arguments and dependencies) something
    /// still holds: the graph, an executor, a retry. It returns to 0 once every submitted task
    /// has ended and its callbacks have run: an ended task keeps only its future's outcome.
    public var liveTaskRecords: Int { records.live }

    /// An app's options with its executors looked up.
    package struct ResolvedOptions: Sendable {
        let app: String
        let executors: [any Executor]
        let retries: Int
        let walltime: Duration?
        /// How calls are cached (``AppOptions/cache``), when they are and the config memoizes.
        var cache: CachePolicy? = nil
        var ignoreForCache: [String] = []
    }

    package func resolve(_ options: AppOptions, app: String) throws(ConfigError) -> ResolvedOptions {
        let executors = self.executors  // one look under the lock: scripts resolve on every call
        var chosen: [any Executor] = []
        for label in options.executors {
            guard let executor = executors.first(where: { $0.label == label }) else {
                throw ConfigError(message: "app \(app) asks for executor \"\(label)\", but the config has only "
                                  + executors.map { "\"\($0.label)\"" }.joined(separator: ", "))
            }
            chosen.append(executor)
        }
        if let retries = options.retries, retries < 0 {
            throw ConfigError(message: "app \(app) has retries \(retries); it must be 0 or more")
        }
        if let walltime = options.walltime, walltime <= .zero {
            throw ConfigError(message: "app \(app) has walltime \(walltime); it must be positive")
        }
        return ResolvedOptions(app: app, executors: chosen.isEmpty ? executors : chosen,
                               retries: options.retries ?? config.retries, walltime: options.walltime,
                               cache: memoizer == nil ? nil : options.cache, ignoreForCache: options.ignoreForCache)
    }

    /// Records a call and returns its core at once; it runs when its dependencies have succeeded.
    func submit(_ options: ResolvedOptions, dependencies: [any TaskFuture], outputs: [File] = [], memo: MemoRequest? = nil,
                prepare: @escaping @Sendable (TaskID) throws -> Work) -> TaskCore {
        let core = newCore(app: options.app, outputs: outputs, memo: memo)
        guard accept() else {
            _ = core.complete(.failure(TaskError(taskID: core.id, app: options.app, reason: .kernelShutDown)))
            counts.withLock { $0.failed += 1 }
            return core
        }
        let cores = dependencies.compactMap { ($0 as? any CoreBacked)?.core }
        recorder.record(.taskSubmitted(core.id, app: options.app, dependencies: cores.map(\.id)))
        let pending = PendingTask(core: core, options: options, dependencies: cores, prepare: prepare,
                                  memo: core.memo, token: records.token())
        let action: DependencyGraph<PendingTask>.Action? = graph.withLock { graph in
            var running = 0
            var failed: [TaskID] = []
            for dependency in cores {
                switch dependency.register(dependent: core.id) {
                case nil: running += 1
                case .failure?: failed.append(dependency.id)
                case .success?: break
                }
            }
            return graph.add(core.id, payload: pending, running: running, failed: failed)
        }
        if let action { apply(action) }
        return core
    }

    /// Records a call that failed before it could be submitted (an argument that cannot be converted,
    /// say): it gets a task id and a failed future, and the rest of the workflow carries on.
    package func failedCall(app: String, reason: TaskError.Reason) -> TaskCore {
        failedCall(app: app) { TaskError(taskID: $0, app: app, reason: reason) }
    }

    /// ``failedCall(app:reason:)`` failing with `error(task id)`: a ``ConfigError`` for a setting of the call, say.
    package func failedCall(app: String, error: (TaskID) -> any Error) -> TaskCore {
        let core = newCore(app: app)
        let failure = error(core.id)
        _ = core.complete(.failure(failure))
        counts.withLock { $0.failed += 1 }
        recorder.record(.taskSubmitted(core.id, app: app, dependencies: []))
        recorder.record(.taskEnded(core.id, app: app, try: nil, ending: .failed(failure)))
        return core
    }

    /// A new task's core, with the next task id (and its cache ticket, for a cached call).
    private func newCore(app: String, outputs: [File] = [], memo: MemoRequest? = nil) -> TaskCore {
        let id = nextTaskID()
        return TaskCore(id: id, appName: app, outputs: outputs, memo: memo.map { MemoTicket($0, task: id) })
    }

    private func nextTaskID() -> TaskID { TaskID(nextID.wrappingAdd(1, ordering: .relaxed).oldValue) }

    private func accept() -> Bool {
        let accepted = lifecycle.withLock { state in
            guard state.phase == .running || state.phase == .waiting else { return false }
            state.live += 1
            return true
        }
        if accepted { counts.withLock { $0.pending += 1 } }
        return accepted
    }

    /// A task that no executor runs: the caller completes it with ``completeExternal(_:_:)``
    /// (a join app's outer future, which ends when the futures its function returned end).
    /// `memo`: the cache ticket it shares (a cached join app's outer task shares its body's).
    package func makeExternalTask(app: String, memo: MemoTicket? = nil) -> TaskCore {
        let core = TaskCore(id: nextTaskID(), appName: app, memo: memo)
        recorder.record(.taskSubmitted(core.id, app: app, dependencies: []))
        if accept() {
            counts.withLock { $0.pending -= 1; $0.running += 1 }
        } else {
            _ = core.complete(.failure(TaskError(taskID: core.id, app: app, reason: .kernelShutDown)))
            counts.withLock { $0.failed += 1 }
        }
        return core
    }

    /// Ends a task made by ``makeExternalTask(app:memo:)``. A cached join app's outcome is recorded
    /// in the cache first (unless the cache gave it), so that a call made once it has ended finds it.
    package func completeExternal(_ core: TaskCore, _ outcome: Outcome) {
        if let ticket = core.memo, !ticket.hit, !core.isDone, !(outcome.failureValue.map(Self.isCancellation) ?? false) {
            memoizer?.record(ticket, outcome)
        }
        finish(core, outcome, stage: .running)
    }

    // MARK: Running

    private func apply(_ action: DependencyGraph<PendingTask>.Action) {
        switch action {
        case .launch(_, let pending):
            launch(pending, attempt: 1)
        case .failDependencies(_, let pending, let failed):
            finish(pending.core, .failure(dependencyError(pending, failed: failed)), stage: .pending)
        }
    }

    private func dependencyError(_ pending: PendingTask, failed: [TaskID]) -> DependencyError {
        let causes = failed.compactMap { id in pending.dependencies.first { $0.id == id }?.outcome?.failureValue }
        let first = causes.first
        let root: any Error = (first as? DependencyError)?.rootCause ?? first
            ?? TaskError(taskID: pending.core.id, app: pending.options.app, reason: .executor("a dependency failed"))
        return DependencyError(taskID: pending.core.id, app: pending.options.app, failedDependencies: failed, rootCause: root)
    }

    private func launch(_ pending: PendingTask, attempt number: Int, failCost: Double = 0) {
        let work: Work
        do {
            work = try pending.prepare(pending.core.id)
        } catch {
            finish(pending.core, .failure(Self.preparationError(error, pending)), stage: .pending)
            return
        }
        if number == 1, let ticket = pending.memo, let memoizer {
            memoizer.check(ticket) { [self] verdict in memoChecked(pending, work: work, verdict) }
            return
        }
        dispatch(pending, work: work, attempt: number, failCost: failCost)
    }

    static func preparationError(_ error: any Error, _ pending: PendingTask) -> TaskError {
        let reason: TaskError.Reason = (error as? PythonError).map { $0.kind == .exception ? .python($0) : .conversion($0.message) }
            ?? .conversion("\(error)")
        return TaskError(taskID: pending.core.id, app: pending.options.app, reason: reason)
    }

    /// Hands a prepared try of a task to the least loaded of its executors.
    func dispatch(_ pending: PendingTask, work: Work, attempt number: Int, failCost: Double = 0) {
        counts.withLock { $0.pending -= 1; $0.queued += 1 }
        let executor = pending.options.executors.min { $0.outstanding < $1.outstanding }!
        let started = Atomic<Bool>(false)
        let (id, label) = (pending.core.id, executor.label)
        recorder.record(.taskLaunched(id, try: number - 1, executor: label))
        let attempt = Attempt(taskID: pending.core.id, app: pending.options.app, number: number, work: work,
                              walltime: pending.options.walltime,
                              onStart: { [self] placement in
                                  started.store(true, ordering: .releasing)
                                  counts.withLock { $0.queued -= 1; $0.running += 1 }
                                  if let placement { recorder.record(.taskRunning(id, try: number - 1, executor: label, placement: placement)) }
                              },
                              onEnd: { [self] outcome in
                                  attemptEnded(pending, number: number, failCost: failCost, outcome: outcome,
                                               stage: started.load(ordering: .acquiring) ? .running : .queued)
                              })
        pending.core.setAttempt(attempt)
        executor.submit(attempt)
    }

    static func isCancellation(_ error: any Error) -> Bool {
        if let error = error as? TaskError, case .cancelled = error.reason { return true }
        return false
    }

    /// Cancels a task that has not started: one waiting for its dependencies, or handed to an
    /// executor that has not begun it. Its future fails with ``TaskError/Reason/cancelled`` and its
    /// dependents with a ``DependencyError``. Returns `false` for a task that runs or has ended.
    @discardableResult
    public func cancel(_ future: any TaskFuture) -> Bool {
        guard let core = (future as? any CoreBacked)?.core else { return false }
        return cancel(core)
    }

    @discardableResult
    package func cancel(_ core: TaskCore) -> Bool {
        let cancelled = TaskError(taskID: core.id, app: core.appName, reason: .cancelled)
        if let pending = graph.withLock({ $0.cancel(core.id) }) {
            finish(pending.core, .failure(cancelled), stage: .pending)
            return true
        }
        guard let attempt = core.attempt, !attempt.hasStarted else { return false }
        return attempt.finish(.failure(cancelled))
    }

    /// Where a task is counted in ``TaskCounts`` while it has not ended.
    enum Stage { case pending, queued, running }

    private func attemptEnded(_ pending: PendingTask, number: Int, failCost: Double, outcome: Outcome, stage: Stage) {
        pending.core.setAttempt(nil)
        guard case .failure(let error) = outcome, !Self.isCancellation(error) else {
            if case .success = outcome, let ticket = pending.memo, !ticket.request.joins, let memoizer {
                memoizer.record(ticket, outcome) { [self] in finish(pending.core, outcome, stage: stage, try: number - 1) }
            } else {
                finish(pending.core, outcome, stage: stage, try: number - 1)
            }
            return
        }
        let cost: Double
        if let handler = config.retryHandler {
            do {
                cost = try handler(error, RetryContext(taskID: pending.core.id, app: pending.options.app, failCount: number,
                                                       failCost: failCost, retries: pending.options.retries))
            } catch {
                let reason: TaskError.Reason = (error as? PythonError).map { .python($0) } ?? .swift(error)
                finish(pending.core, .failure(TaskError(taskID: pending.core.id, app: pending.options.app, reason: reason)), stage: stage,
                       try: number - 1)
                return
            }
        } else {
            cost = 1
        }
        if failCost + cost <= Double(pending.options.retries) {
            counts.withLock { counts in
                if stage == .running { counts.running -= 1 } else { counts.queued -= 1 }
                counts.pending += 1  // launch() counts it again
            }
            recorder.record(.taskRetried(pending.core.id, try: number - 1, error: error))
            launch(pending, attempt: number + 1, failCost: failCost + cost)
            return
        }
        if let ticket = pending.memo, !ticket.request.joins { memoizer?.record(ticket, outcome) }
        finish(pending.core, outcome, stage: stage, try: number - 1)
    }

    /// Completes a task, releases its dependents and runs its callbacks; dependency failures that
    /// follow are handled in this loop, not by recursion, so long chains cannot exhaust the stack.
    func finish(_ core: TaskCore, _ outcome: Outcome, stage: Stage, try tryID: Int? = nil) {
        var work: [(TaskCore, Outcome, Stage, Int?)] = [(core, outcome, stage, tryID)]
        while let (core, outcome, stage, tryID) = work.popLast() {
            guard let (dependents, callbacks) = core.complete(outcome) else { continue }
            let failed = outcome.failureValue != nil
            var ending = Self.ending(of: outcome)
            if let ticket = core.memo {
                recorder.record(.taskCached(core.id, key: ticket.key?.value))
                if ticket.hit, !failed { ending = .cached }
            }
            recorder.record(.taskEnded(core.id, app: core.appName, try: tryID, ending: ending))
            counts.withLock { counts in
                switch stage {
                case .pending: counts.pending -= 1
                case .queued: counts.queued -= 1
                case .running: counts.running -= 1
                }
                if failed { counts.failed += 1 } else { counts.done += 1 }
            }
            let actions = graph.withLock { graph in
                dependents.compactMap { graph.dependencyEnded(core.id, of: $0, failed: failed) }
            }
            // Callbacks never run on the engine's threads (an executor's, a block reader's): they go
            // to the callback thread. Ended from the program's own thread (cancel, a join app
            // settled by a script), they run at once, so the program sees their effect on return.
            if callbacks.isEmpty {
                taskEnded()
            } else {
                // A task counts as in flight until its callbacks have run.
                let settle: @Sendable () -> Void = { [self] in
                    for callback in callbacks { callback(outcome) }
                    taskEnded()
                }
                if !JoinableThread.isCurrentEngineThread || !self.callbacks.enqueue(settle) { settle() }
            }
            for action in actions {
                switch action {
                case .launch(_, let pending):
                    launch(pending, attempt: 1)
                case .failDependencies(_, let pending, let failedIDs):
                    work.append((pending.core, .failure(dependencyError(pending, failed: failedIDs)), .pending, nil))
                }
            }
        }
    }

    /// How the run log and the database name an outcome.
    private static func ending(of outcome: Outcome) -> TaskEnding {
        guard let error = outcome.failureValue else { return .ok }
        if let dependency = error as? DependencyError { return .dependencyFailed(dependency.failedDependencies) }
        if isCancellation(error) { return .cancelled }
        return .failed(error)
    }

    /// The level of `parsl.log`.
    static let runLogLevel = Logger.Level.info

    private func taskEnded() {
        let waiters: [DispatchSemaphore] = lifecycle.withLock { state in
            state.live -= 1
            guard state.live == 0 else { return [] }
            defer { state.drainWaiters = [] }
            return state.drainWaiters
        }
        for waiter in waiters { waiter.signal() }
    }
}

/// Counts the task records alive (``DataFlowKernel/liveTaskRecords``): each record holds a
/// ``Token``, which counts itself while it lives. Threading: any thread.
final class TaskRecordCount: Sendable {
    private let count = Atomic<Int>(0)

    /// One record's share of the count, taken back when the last copy of the record goes.
    final class Token: Sendable {
        private let owner: TaskRecordCount

        fileprivate init(_ owner: TaskRecordCount) {
            self.owner = owner
            owner.count.add(1, ordering: .relaxed)
        }

        deinit { owner.count.subtract(1, ordering: .relaxed) }
    }

    func token() -> Token { Token(self) }

    var live: Int { count.load(ordering: .relaxed) }
}

/// How many tasks a kernel has in each state.
public struct TaskCounts: Sendable, Equatable {
    /// Submitted, waiting for dependencies or for their first run.
    public var pending = 0
    /// Handed to an executor, waiting there for a thread or a worker.
    public var queued = 0
    /// Running on an executor's thread or worker (a join app: waiting for the futures it returned).
    public var running = 0
    /// Ended with a value.
    public var done = 0
    /// Ended with an error: dependency failures and calls refused at submission count too.
    public var failed = 0

    /// Counts as given; zero by default.
    public init(pending: Int = 0, queued: Int = 0, running: Int = 0, done: Int = 0, failed: Int = 0) {
        self.pending = pending
        self.queued = queued
        self.running = running
        self.done = done
        self.failed = failed
    }
}
