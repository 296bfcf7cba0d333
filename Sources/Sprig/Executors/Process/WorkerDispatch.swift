/// The tasks of one local block's workers, for the two-hop data path (the engine writes to each
/// worker's pipes itself; the manager only supervises, see `python/sprig/PROTOCOL.md`, "Two-hop
/// local blocks"): the engine's half of what `sprig.dispatch` does inside a manager, as a value
/// whose mutating methods return the actions the caller must perform. No I/O, no clock of its own:
/// callers pass `now`. Tests drive it directly.
///
/// Rules (the same as the manager's, PROTOCOL.md "Giving tasks to workers"): a worker runs the
/// tasks it holds in the order it was sent them; it holds at most one beside the one it runs (or
/// `prefetch` while the block's tasks average under ``deepBelow``) and none while its running task
/// is long (it ran more than ``busyAfter`` — ``slowFactor`` times the recent average, between
/// ``slowFloor`` and ``slowCap``); a worker that turns busy while it holds unstarted tasks is sent
/// one RECALL and gives them back to be queued first again; KILL_TASK of a queued task drops it, of
/// a prefetched one has its worker skip it, of a running one kills its worker; when a worker ends
/// its running task is lost (WORKER_LOST) unless the engine had it killed, and the others are
/// queued again, first, in order.
///
/// Threading: a plain value; the caller serialises access (``ManagerBlock`` keeps it with the
/// block's ledger).
struct WorkerDispatch {
    /// What the dispatch needs of a task: its id and the key of its function (0 for a bash task
    /// with its command ready, which has none).
    struct Task: Equatable, Sendable {
        let id: UInt64
        let functionKey: UInt64
    }

    /// A task in a TASKS frame to a worker, with whether its function's bytes go with it (the
    /// worker has not had them).
    struct Sent: Equatable, Sendable {
        let id: UInt64
        let includeFunction: Bool
    }

    /// A worker's result entry, as far as the dispatch cares.
    enum Entry: Equatable, Sendable {
        /// STARTED: it runs the task now.
        case started
        /// RESOURCE: a sample of its running task.
        case resource
        /// OK or FAILED: the task's result.
        case result
        /// SKIPPED: it dropped the task after a KILL_TASK.
        case skipped
        /// RECALLED: it gives the task back unstarted after a RECALL.
        case recalled
    }

    /// What the caller must do.
    enum Action: Equatable, Sendable {
        /// Write one TASKS frame of these tasks to worker `worker`.
        case send(worker: Int, tasks: [Sent])
        /// Write RECALL to worker `worker`.
        case recall(worker: Int)
        /// Write KILL_TASK of `task` to worker `worker` (it holds the task unstarted).
        case skip(worker: Int, task: UInt64)
        /// Have the manager kill worker `worker` (it runs a killed task).
        case killWorker(Int)
        /// Hand the entry just read on to the block's result handling, as if the manager had
        /// forwarded it (STARTED, RESOURCE, OK, FAILED).
        case forward(UInt64)
        /// Task `task` was running on worker `worker` when it ended: report it WORKER_LOST.
        case lost(UInt64, worker: Int)
        /// KILL_TASK of a task no worker had: it is dropped from the queue, nothing will come back.
        case dropped(UInt64)
    }

    /// Why the engine asked for a worker's kill: decides the fate of the task it was running.
    enum KillCause: Equatable, Sendable {
        /// It ran a task that was killed (KILL_TASK): another task it had only begun is queued again.
        case killedTask
        /// It stopped answering: the task it ran is lost.
        case silent
    }

    private struct Worker {
        let pid: Int32
        var inFlight: [Task] = []
        var running: UInt64? = nil
        var startedAt: ContinuousClock.Instant? = nil
        var recalled: UInt64? = nil
        var knownFunctions: Set<UInt64> = []
        var killing: KillCause? = nil
    }

    static let slowCap = 0.05
    static let slowFloor = 0.002
    static let slowFactor = 10.0
    static let maxAhead = 1
    static let deepBelow = 0.001
    static let averageWeight = 0.1

    /// The most tasks a worker may hold beside the one it runs, when the block's tasks are short.
    let prefetch: Int
    private(set) var queue: [Task] = []
    private var workers: [Int: Worker] = [:]
    /// Killed by the engine while on a worker: what comes back of them is dropped.
    private var killed: Set<UInt64> = []
    /// Seconds from STARTED to result, recent tasks (a running average).
    private(set) var averageTask: Double? = nil
    /// When a worker holding unstarted tasks may next turn busy (a RECALL may be due then).
    private(set) var nextRecall: ContinuousClock.Instant? = nil

    init(prefetch: Int) { self.prefetch = max(0, prefetch) }

    /// The indexes of the workers known, in order.
    var workerIndexes: [Int] { workers.keys.sorted() }

    /// The tasks worker `index` holds, in the order sent.
    func inFlight(_ index: Int) -> [UInt64] { workers[index]?.inFlight.map(\.id) ?? [] }

    /// Seconds after which a running task makes its worker busy.
    var busyAfter: Double {
        guard let average = averageTask else { return Self.slowCap }
        return max(Self.slowFloor, min(Self.slowCap, Self.slowFactor * average))
    }

    /// Tasks a worker that is not busy may hold beside the one it runs.
    var ahead: Int {
        if let average = averageTask, average < Self.deepBelow { return prefetch }
        return min(prefetch, Self.maxAhead)
    }

    // MARK: workers

    /// The manager handed over worker `index` (process `pid`); a worker of the same index before it
    /// must have ended (``workerEnded(_:pid:)``). Returns the tasks it gets at once.
    mutating func workerJoined(_ index: Int, pid: Int32, at now: ContinuousClock.Instant) -> [Action] {
        workers[index] = Worker(pid: pid)
        return dispatch(at: now)
    }

    /// The engine asks the manager to kill worker `index` (its heartbeats stopped, say).
    mutating func killing(_ index: Int, because cause: KillCause) -> [Action] {
        guard workers[index] != nil, workers[index]?.killing == nil else { return [] }
        workers[index]?.killing = cause
        return [.killWorker(index)]
    }

    /// The manager says worker `index` (process `pid`) ended. Its running task is lost unless it
    /// was killed; the others are queued again, first, in the order they were sent. A `pid` that is
    /// not the worker's (an old one's news) changes nothing.
    mutating func workerEnded(_ index: Int, pid: Int32, at now: ContinuousClock.Instant) -> [Action] {
        guard let worker = workers[index], worker.pid == pid else { return [] }
        workers[index] = nil
        var actions: [Action] = []
        var requeued: [Task] = []
        for task in worker.inFlight {
            if killed.remove(task.id) != nil { continue }
            if task.id == worker.running && worker.killing != .killedTask {
                actions.append(.lost(task.id, worker: index))
            } else {
                // Not started, or begun just as its worker was killed for a task that had finished.
                requeued.append(task)
            }
        }
        queue.insert(contentsOf: requeued, at: 0)
        return actions + dispatch(at: now)
    }

    // MARK: tasks

    /// Tasks to run, in order; returns what to send now.
    mutating func enqueue(_ tasks: [Task], at now: ContinuousClock.Instant) -> [Action] {
        queue.append(contentsOf: tasks)
        return dispatch(at: now)
    }

    /// Moves queued tasks to the least loaded workers that can start them soon, one TASKS frame
    /// per worker, then recalls unstarted tasks from workers that turned busy.
    mutating func dispatch(at now: ContinuousClock.Instant) -> [Action] {
        var actions: [Action] = []
        if !queue.isEmpty {
            let busyAfter = self.busyAfter
            let limitWhenFree = 1 + ahead
            var room: [Int: Int] = [:]
            for (index, worker) in workers where worker.killing == nil {
                let limit = isBusy(worker, now: now, busyAfter: busyAfter) ? 1 : limitWhenFree
                if worker.inFlight.count < limit { room[index] = limit }
            }
            var batches: [Int: [Sent]] = [:]
            var taken = 0
            while taken < queue.count, !room.isEmpty {
                let index = room.keys.min { a, b in
                    let (la, lb) = (workers[a]!.inFlight.count, workers[b]!.inFlight.count)
                    return la != lb ? la < lb : a < b
                }!
                let task = queue[taken]
                taken += 1
                let fresh = task.functionKey != 0 && workers[index]!.knownFunctions.insert(task.functionKey).inserted
                workers[index]!.inFlight.append(task)
                batches[index, default: []].append(Sent(id: task.id, includeFunction: fresh))
                if workers[index]!.inFlight.count >= room[index]! { room[index] = nil }
            }
            queue.removeFirst(taken)
            for index in batches.keys.sorted() { actions.append(.send(worker: index, tasks: batches[index]!)) }
        }
        return actions + recallFromBusy(at: now)
    }

    /// The result entries of one read from worker `index`, in order; then dispatches once.
    /// Tasks it gives back (RECALLED) are queued first, in the order they came.
    mutating func received(_ entries: [(entry: Entry, task: UInt64)], from index: Int,
                           at now: ContinuousClock.Instant) -> [Action] {
        guard workers[index] != nil else { return [] }
        var actions: [Action] = []
        var recalled: [Task] = []
        for (entry, id) in entries where workers[index] != nil {
            actions += take(entry, task: id, from: index, at: now, recalled: &recalled)
        }
        queue.insert(contentsOf: recalled, at: 0)
        return actions + dispatch(at: now)
    }

    private mutating func take(_ entry: Entry, task id: UInt64, from index: Int, at now: ContinuousClock.Instant,
                               recalled: inout [Task]) -> [Action] {
        switch entry {
        case .started:
            workers[index]!.running = id
            workers[index]!.startedAt = now
            if killed.contains(id) { return killing(index, because: .killedTask) }
            // The engine's ledger counts walltimes and tells running from queued from here.
            return [.forward(id)]
        case .resource:
            return killed.contains(id) ? [] : [.forward(id)]
        case .result, .skipped, .recalled:
            break
        }
        if workers[index]!.running == id {
            workers[index]!.running = nil
            if let startedAt = workers[index]!.startedAt {
                let took = (now - startedAt).seconds
                averageTask = averageTask.map { $0 + Self.averageWeight * (took - $0) } ?? took
            }
        }
        guard let position = workers[index]!.inFlight.firstIndex(where: { $0.id == id }) else { return [] }
        let task = workers[index]!.inFlight.remove(at: position)
        if killed.remove(id) != nil { return [] }
        switch entry {
        case .recalled:
            recalled.append(task)
            return []
        case .skipped:
            return []
        default:
            return [.forward(id)]
        }
    }

    /// KILL_TASK from the engine (a walltime, a cancel): drop it from the queue, have its worker
    /// skip it, or kill the worker that runs it.
    mutating func kill(_ id: UInt64) -> [Action] {
        if let position = queue.firstIndex(where: { $0.id == id }) {
            queue.remove(at: position)
            return [.dropped(id)]
        }
        for index in workerIndexes {
            let worker = workers[index]!
            guard worker.inFlight.contains(where: { $0.id == id }) else { continue }
            killed.insert(id)
            if worker.running == id { return killing(index, because: .killedTask) }
            return [.skip(worker: index, task: id)]
        }
        return []
    }

    // MARK: private

    private func isBusy(_ worker: Worker, now: ContinuousClock.Instant, busyAfter: Double) -> Bool {
        guard worker.running != nil, let startedAt = worker.startedAt else { return false }
        return (now - startedAt).seconds > busyAfter
    }

    private mutating func recallFromBusy(at now: ContinuousClock.Instant) -> [Action] {
        let busyAfter = self.busyAfter
        var due: ContinuousClock.Instant? = nil
        var actions: [Action] = []
        for index in workerIndexes {
            let worker = workers[index]!
            guard worker.killing == nil, let running = worker.running, let startedAt = worker.startedAt,
                  worker.inFlight.count >= 2, worker.recalled != running else { continue }
            let at = startedAt + .seconds(busyAfter)
            if now >= at {
                workers[index]!.recalled = running
                actions.append(.recall(worker: index))
            } else if due.map({ at < $0 }) ?? true {
                due = at
            }
        }
        nextRecall = due
        return actions
    }
}
