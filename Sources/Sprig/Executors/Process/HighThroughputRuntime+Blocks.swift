import Foundation
import Logging
import PythonBridge
import Synchronization

/// Starting blocks, their room for tasks, and what their end means.
extension HighThroughputRuntime {

    /// Starts a block in the lowest free slot that is not waiting out a failure; returns whether it tried.
    @discardableResult
    func startBlock() -> Bool {
        let now = ContinuousClock.now
        let picked: (Int, Int, ExecutorContext)? = state.withLock { state in
            guard let context = state.context else { return nil }
            guard let slot = state.slots.freeSlot(used: Set(state.blocks.values.map(\.slot)), now: now) else { return nil }
            defer { state.nextBlock += 1 }
            return (slot, state.nextBlock, context)
        }
        guard let (slot, number, context) = picked, let expected = expected.withLock({ $0 }) else { return false }
        var logger = context.logger
        logger[metadataKey: "sprig.executor"] = .string(label)
        do {
            var command = try managerCommand(block: number, slot: slot, context: context)
            // A local block: the two-hop path, its workers' pipes handed to this process.
            let control = usesTwoHop ? try ControlSocket.pair() : nil
            command.workerSocket = control?.manager
            let process: BlockProcess
            do {
                defer { control.map { _ = close($0.manager) } }
                process = try provider.launch(slot: slot, block: number, command: command)
            } catch {
                control.map { _ = close($0.engine) }
                throw error
            }
            let block: ManagerBlock
            do {
                block = try ManagerBlock(number: number, slot: slot, process: process, workers: workers(slot: slot),
                                         stderrPath: command.logFolder + "/block.stderr", logger: logger,
                                         segments: useSegments.withLock { $0 } ? segments : nil,
                                         workerSocket: control?.engine, prefetch: prefetch, silenceThreshold: heartbeatThreshold)
            } catch {
                control.map { _ = close($0.engine) }
                process.kill()
                process.reap()
                process.closeStream()
                throw error
            }
            state.withLock { $0.blocks[number] = block }
            try block.startReading(expected: expected, events: BlockEvents(
                capacityChanged: { [weak self] in self?.dispatchNow() },
                ready: { [weak self, label] block in
                    self?.state.withLock { $0.slots.ready(block.slot) }
                    context.recorder.record(.blockReady(executor: label, block: block.number, host: block.host, workers: block.workers))
                },
                taskReturned: { [weak self] duration in self?.noteTaskDuration(duration) },
                finished: { [weak self] batch in self?.deliver(batch) },
                sampled: { sample in context.recorder.record(.resources(sample)) },
                ended: { [weak self] block, failure, permanent in self?.blockEnded(block, startFailure: failure, permanent: permanent) }))
            context.recorder.record(.blockStarted(executor: label, block: number, host: process.host, jobID: "\(process.pid)"))
        } catch {
            state.withLock { $0.blocks[number] = nil }
            blockStartFailed(slot: slot, "block \(number) could not start: \(error)", permanent: false)
        }
        return true
    }

    func managerCommand(block: Int, slot: Int, context: ExecutorContext) throws -> ManagerCommand {
        let root = workerLogDirectory ?? (context.runDirectory as NSString).appendingPathComponent(label)
        let folder = URL(fileURLWithPath: (root as NSString).appendingPathComponent("block-\(block)")).standardizedFileURL.path
        // Workers see what the embedded interpreter sees: the sprig package and the same sys.path.
        let searchPath = try withGIL { try [String](python: Python.importModule("sys").attribute("path")) }
        let pythonPath = ([PythonSide.packageRoot] + searchPath.filter { !$0.isEmpty }).joined(separator: ":")
        var arguments = ["--workers", "\(workers(slot: slot))", "--block-id", "\(block)",
                         "--heartbeat-period", "\(heartbeatPeriod.seconds)", "--heartbeat-threshold", "\(heartbeatThreshold.seconds)",
                         "--prefetch", "\(prefetch)"]
        if workerDebug { arguments.append("--worker-debug") }
        if cpuAffinity != "none" { arguments += ["--cpu-affinity", cpuAffinity] }
        if !settings.availableAccelerators.isEmpty {
            arguments += ["--accelerators", settings.availableAccelerators.joined(separator: ",")]
        }
        if expected.withLock({ $0?.serializer }) == "pickle" { arguments.append("--pickle-only") }
        // Monitoring: workers sample each try at its end and this often while it runs.
        if let interval = context.resourceInterval { arguments += ["--resource-interval", "\(interval.seconds)"] }
        // A local block: large buffers through shared memory (its manager checks it sees the probe).
        if useSegments.withLock({ $0 }) { arguments += ["--shared-memory", segments.prefix] }
        // A local block: its manager hands its workers' pipes over the control socket, its fd 3.
        if usesTwoHop { arguments += ["--worker-socket", "3"] }
        let info = Python.info!
        var command = ManagerCommand(block: block, arguments: arguments, environment: ["PYTHONPATH": pythonPath], logFolder: folder,
                                     pythonVersion: "\(info.version.major).\(info.version.minor)", launchCommand: settings.launchCommand)
        command.runDirectory = context.runDirectory
        command.address = settings.address
        command.portRange = settings.workerPortRange
        command.heartbeatPeriod = heartbeatPeriod
        return command
    }

    /// Whether blocks take the two-hop path: local blocks do, unless `SPRIG_LOCAL_RELAY=1` in the
    /// environment keeps the manager's relay (to compare the two; PERFORMANCE.md, issue 15).
    var usesTwoHop: Bool {
        provider is LocalProvider && !settings.relayLocalWorkers && ProcessInfo.processInfo.environment["SPRIG_LOCAL_RELAY"] != "1"
    }

    func noteTaskDuration(_ duration: Duration) {
        typicalTask.withLock { average in
            average = average.map { $0 * 0.9 + duration * 0.1 } ?? duration
        }
    }

    /// How many more tasks a block may take now. While tasks are short, each worker may have the
    /// prefetch plus one waiting, and running tasks do not count: a long one, or a worker that
    /// stopped answering with tasks it holds, never keeps the block's other workers from getting
    /// more (the manager gives each worker only what it can start soon and takes back what a busy
    /// one holds). Longer tasks go one per worker, nothing waiting: a task not yet started stays
    /// here, where a new block or another host can take it (the `simple` strategy starts blocks
    /// for tasks that wait here).
    func room(in block: ManagerBlock) -> Int {
        let short = typicalTask.withLock { $0.map { $0 < shortTask } ?? false }
        return short ? block.freeSlots(waiting: block.workers * (prefetch + 1)) : block.freeSlots(capacity: block.workers)
    }

    func blockEnded(_ block: ManagerBlock, startFailure: String?, permanent: Bool) {
        let (stopRequested, reason) = block.ending
        let record = EndedBlock(number: block.number, slot: block.slot, host: block.process.host, connected: startFailure == nil,
                                failure: startFailure ?? (stopRequested ? nil : reason))
        let (stopping, recorder) = state.withLock { state -> (DispatchSemaphore?, RunRecorder?) in
            state.blocks[block.number] = nil
            state.ended.append(record)
            if stopRequested && state.phase == .running { state.retired += 1 }
            return (state.stopping, state.context?.recorder)
        }
        stopping?.signal()
        recorder?.record(.blockEnded(executor: label, block: block.number, host: block.host,
                                     reason: record.failure))
        if let startFailure { blockStartFailed(slot: block.slot, startFailure, permanent: permanent) }
        maintenanceKicker.kick()
        dispatchKicker.kick()
    }

    /// A block of `slot` did not become ready. The slot is tried again after a growing pause; the
    /// executor gives up (and fails what waits) on a permanent failure such as a version mismatch,
    /// or when no block is alive and every slot has failed three times in a row.
    func blockStartFailed(slot: Int, _ message: String, permanent: Bool) {
        let (stranded, report): ([Attempt], Bool) = state.withLock { state in
            let verdict = state.slots.failed(slot, message: message, permanent: permanent, liveBlocks: state.blocks.count, now: .now)
            // No task waits forever: with no block left and none that can start, the queue fails.
            guard verdict.failWaiting else { return ([], verdict.report) }
            defer { state.queue = [] }
            return (state.queue, verdict.report)
        }
        let logger = state.withLock { $0.context }?.logger
        if report {
            logger?.info("block failed", metadata: ["sprig.executor": .string(label), "error": .string(message)])
        } else {
            logger?.debug("block failed again", metadata: ["sprig.executor": .string(label), "error": .string(message)])
        }
        for attempt in stranded {
            attempt.finish(.failure(TaskError(taskID: attempt.taskID, app: attempt.app,
                                              reason: .badState("executor \(label) has no working block: \(message)"))))
        }
    }
}
