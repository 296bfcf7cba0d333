import Foundation
import Synchronization

/// One run's Slurm jobs, as a ``SlurmProvider`` keeps them: the run's credentials, every job it
/// submitted, and a thread that polls their states (`squeue`, every ``SlurmProvider/statusPeriod``).
///
/// What the scheduler says reaches the block: a pending job says so in the block's log; a running
/// one gets its drain deadline (walltime minus the margin); a job that ended while its relay still
/// waits ends the relay (the executor sees the block's stream end). A block that ends, for any
/// reason, has its job cancelled; ``close()`` cancels every job of the run and waits until
/// `squeue` lists none of them.
///
/// Threading: ``track(_:)`` and ``blockEnded(_:)`` from any thread; the poller thread runs the commands.
final class SlurmSession: Sendable {
    struct Job: Sendable {
        let block: Int
        let id: String
        let process: BlockProcess
        /// The block's log (the relay's stderr), where scheduler news is written.
        let logPath: String
        let walltime: Duration
        var state: SlurmJobState = .pending(reason: "submitted")
        var lastNote: ContinuousClock.Instant? = nil
        var runningSince: ContinuousClock.Instant? = nil
        /// The block ended: cancel the job (once).
        var cancel = false
    }

    private struct State {
        var jobs: [String: Job] = [:]
        var thread: JoinableThread? = nil
        var closed = false
    }

    let credentials: RunCredentials
    private let settings: SlurmProvider
    private let state = Mutex(State())
    private let kicker = Kicker()

    init(runDirectory: String, settings: SlurmProvider) throws {
        self.credentials = try RunCredentials.make(runDirectory: runDirectory, timeout: .seconds(settings.cmdTimeout))
        self.settings = settings
    }

    /// Starts following `job` (the poller starts with the first one).
    func track(_ job: Job) throws {
        let start = try state.withLock { state -> Bool in
            guard !state.closed else { throw ProviderError(message: "block \(job.block): the provider is closed") }
            state.jobs[job.id] = job
            return state.thread == nil
        }
        if start {
            let thread = try JoinableThread(name: "sprig-slurm") { [self] in poll() }
            state.withLock { $0.thread = thread }
        }
        kicker.kick()
    }

    /// The block of job `id` ended (its relay was reaped): its job is cancelled.
    func blockEnded(job id: String) {
        state.withLock { $0.jobs[id]?.cancel = true }
        kicker.kick()
    }

    /// Cancels every job of the run, stops polling, and waits (up to 10 s) until `squeue` lists none of them.
    func close() {
        let (thread, ids) = state.withLock { state -> (JoinableThread?, [String]) in
            state.closed = true
            defer { state.thread = nil }
            return (state.thread, Array(state.jobs.keys))
        }
        kicker.kick()
        thread?.join()
        guard !ids.isEmpty else { return }
        // Every job, even one this side saw end: a cancelled job stays COMPLETING until its processes are gone.
        scancel(ids)
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline {
            if let listed = queued(ids), !listed.values.contains(where: { !$0.isEnded }) { return }
            _ = kicker.wait(timeout: .milliseconds(200))
        }
    }

    private func poll() {
        while true {
            _ = kicker.wait(timeout: settings.statusPeriod)
            let (closed, jobs) = state.withLock { ($0.closed, Array($0.jobs.values)) }
            if closed { return }
            let cancels = jobs.filter { $0.cancel && !$0.state.isEnded }
            if !cancels.isEmpty {
                scancel(cancels.map(\.id))
                state.withLock { state in for job in cancels { state.jobs[job.id]?.state = .ended("CANCELLED by Sprig") } }
            }
            let live = jobs.filter { !$0.cancel && !$0.state.isEnded }
            guard !live.isEmpty, let listed = queued(live.map(\.id)) else { continue }
            let now = ContinuousClock.now
            for job in live { update(job, to: listed[job.id] ?? .ended("gone from squeue"), at: now) }
        }
    }

    private func update(_ job: Job, to new: SlurmJobState, at now: ContinuousClock.Instant) {
        var job = job
        let changed = job.state != new
        job.state = new
        switch new {
        case .pending(let reason):
            // Said when it changes, and every 30 s while it lasts.
            job.process.waitingFor.withLock { $0 = "slurm job \(job.id) pending: \(reason.isEmpty ? "no reason given" : reason)" }
            if changed || job.lastNote.map({ now - $0 >= .seconds(30) }) ?? true {
                note(job, "slurm job \(job.id) is pending (\(reason.isEmpty ? "no reason given" : reason))")
                job.lastNote = now
            }
        case .running:
            if job.runningSince == nil {
                job.runningSince = now
                job.process.waitingFor.withLock { $0 = "slurm job \(job.id) running; its manager is connecting" }
                let deadline = now + job.walltime - settings.drainMargin(walltime: job.walltime)
                job.process.drainDeadline.withLock { $0 = deadline }
                note(job, "slurm job \(job.id) is running; the block drains \((job.walltime - settings.drainMargin(walltime: job.walltime)).seconds) s from now")
            }
        case .ended(let how):
            note(job, "slurm job \(job.id) ended: \(how)")
            // Its manager is gone, or never came: the relay has nothing left to wait for.
            job.process.signal(SIGTERM)
        }
        let updated = job
        state.withLock { $0.jobs[updated.id] = updated }
    }

    private func note(_ job: Job, _ message: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        guard let handle = FileHandle(forWritingAtPath: job.logPath) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data("sprig: \(stamp) block \(job.block): \(message)\n".utf8))
    }

    /// The states `squeue` gives for `ids` (a job it does not list has ended); `nil` when squeue failed.
    private func queued(_ ids: [String]) -> [String: SlurmJobState]? {
        var argv = ["squeue", "--noheader", "--format=%i %t %r", "--states=all", "--jobs=" + ids.joined(separator: ",")]
        if let clusters = settings.clusters, !clusters.isEmpty { argv.append("--clusters=" + clusters) }
        guard let result = try? SchedulerCommand.run(argv, environment: settings.environment, timeout: .seconds(settings.cmdTimeout)) else {
            return nil
        }
        // squeue refuses a list naming a job it has forgotten ("Invalid job id specified"): all have ended.
        if result.status != 0 { return result.errors.contains("Invalid job id") ? [:] : nil }
        return SlurmJobState.parse(squeue: result.output)
    }

    private func scancel(_ ids: [String]) {
        var argv = ["scancel"]
        if let clusters = settings.clusters, !clusters.isEmpty { argv.append("--clusters=" + clusters) }
        _ = try? SchedulerCommand.run(argv + ids, environment: settings.environment, timeout: .seconds(settings.cmdTimeout))
    }
}

/// The sessions of one ``SlurmProvider`` value, by run directory: a config used by several
/// kernels keeps each run's jobs apart.
final class SlurmRuns: Sendable {
    private let sessions = Mutex<[String: SlurmSession]>([:])

    func session(runDirectory: String, settings: SlurmProvider) throws -> SlurmSession {
        if let existing = sessions.withLock({ $0[runDirectory] }) { return existing }
        let made = try SlurmSession(runDirectory: runDirectory, settings: settings)
        return sessions.withLock { sessions in
            if let existing = sessions[runDirectory] { return existing }
            sessions[runDirectory] = made
            return made
        }
    }

    func closeAll() {
        let all = sessions.withLock { sessions in
            defer { sessions = [:] }
            return Array(sessions.values)
        }
        for session in all { session.close() }
    }
}
