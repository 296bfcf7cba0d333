import Foundation
import Synchronization

/// One run's Slurm jobs, as a ``SlurmProvider`` keeps them: the run's credentials, every job it
/// submitted, and a thread that polls their states (`squeue`, every ``SlurmProvider/statusPeriod``).
///
/// What the scheduler says reaches the block: a pending job says so in the block's log; a running
/// one gets its drain deadline (walltime minus the margin); a job that ended ends its blocks'
/// streams, with the job's final state (`sacct`, else `scontrol`) as their end reason ("slurm job
/// 12 ended: TIMEOUT"), which a block whose connection ended first also gets. Once every block of a job has
/// ended, for any reason, the job is cancelled; ``close()`` cancels every job of the run and waits until
/// `squeue` lists none of them.
///
/// Threading: ``join(_:walltime:nodes:runDirectory:)`` and ``blockEnded(block:cleanly:)`` from any thread; the poller thread runs the commands.
final class SlurmSession: Sendable {
    struct Job: Sendable {
        let id: String
        let members: [SlurmJobMember]
        let walltime: Duration
        var state: SlurmJobState = .pending(reason: "submitted")
        var lastNote: ContinuousClock.Instant? = nil
        var runningSince: ContinuousClock.Instant? = nil
        /// Blocks of the job whose streams have ended.
        var endedBlocks: Set<Int> = []
        /// Every block of the job ended: cancel it (once).
        var cancel = false
    }

    /// Blocks waiting for the rest of their job's nodes.
    private struct Forming {
        var members: [SlurmJobMember] = []
        var since: ContinuousClock.Instant? = nil
        var walltime: Duration = .zero
        var runDirectory = ""
    }

    private struct State {
        var jobs: [String: Job] = [:]
        var forming = Forming()
        var thread: JoinableThread? = nil
        var closed = false
    }

    let credentials: RunCredentials
    /// The run's TLS identity, which every block's stream serves.
    let tls: TLSServerContext
    private let settings: SlurmProvider
    private let state = Mutex(State())
    private let kicker = Kicker()
    /// How long a job of several nodes waits for the executor to ask for all of its blocks.
    static let formingGrace: Duration = .seconds(1)

    init(runDirectory: String, settings: SlurmProvider) throws {
        self.credentials = try RunCredentials.make(runDirectory: runDirectory, timeout: .seconds(settings.cmdTimeout))
        self.tls = try TLSServerContext(certificate: credentials.certificate, key: credentials.key)
        self.settings = settings
    }

    /// Adds a block to the job being formed; submits the job when it has `nodes` blocks (at once
    /// for one node; else the poller submits it after ``formingGrace``).
    /// - Throws: ``ProviderError`` when this call submitted the job and that failed (the other
    ///   blocks of the job are ended then).
    func join(_ member: SlurmJobMember, walltime: Duration, nodes: Int, runDirectory: String) throws {
        let full: [SlurmJobMember]? = try state.withLock { state in
            guard !state.closed else { throw ProviderError(message: "block \(member.block): the provider is closed") }
            if state.forming.members.isEmpty {
                state.forming = Forming(members: [], since: .now, walltime: walltime, runDirectory: runDirectory)
            }
            state.forming.members.append(member)
            guard state.forming.members.count >= nodes else { return nil }
            defer { state.forming = Forming() }
            return state.forming.members
        }
        try startPolling()
        guard let full else {
            kicker.kick()
            return
        }
        do {
            try submit(full, walltime: walltime, runDirectory: runDirectory)
        } catch {
            // The others were handed to the executor already: they end, as their job never will run.
            for other in full where other.block != member.block { other.process.signal(SIGTERM) }
            throw error
        }
    }

    private func submit(_ members: [SlurmJobMember], walltime: Duration, runDirectory: String) throws {
        let id = try settings.submit(members, session: self, runDirectory: runDirectory)
        state.withLock { $0.jobs[id] = Job(id: id, members: members, walltime: walltime) }
        kicker.kick()
    }

    private func startPolling() throws {
        // Made under the lock, so that only one is; it waits for the lock before doing anything.
        try state.withLock { state in
            guard state.thread == nil, !state.closed else { return }
            state.thread = try JoinableThread(name: "sprig-slurm") { [self] in poll() }
        }
    }

    /// Block `block`'s stream ended (`cleanly`: as the engine asked): once every block of its job
    /// has ended, the job is cancelled. A block whose connection ended by itself first gets its
    /// job's final state as its end reason, when the scheduler gives one within
    /// ``finalStateWait`` (a job killed by its walltime, `scancel`, a failed node).
    func blockEnded(block: Int, cleanly: Bool) {
        let found = state.withLock { state -> (String, SlurmJobMember)? in
            state.forming.members.removeAll { $0.block == block }
            guard let id = state.jobs.first(where: { $0.value.members.contains { $0.block == block } })?.key,
                  let member = state.jobs[id]?.members.first(where: { $0.block == block }) else { return nil }
            state.jobs[id]?.endedBlocks.insert(block)
            return (id, member)
        }
        if !cleanly, let (id, member) = found, member.process.endReason.withLock({ $0 }) == nil {
            let deadline = ContinuousClock.now + Self.finalStateWait
            while true {
                if let how = finalState(id) {
                    member.process.endReason.withLock { $0 = $0 ?? "slurm job \(id) ended: \(how)" }
                    note(member, "slurm job \(id) ended: \(how)")
                    break
                }
                if ContinuousClock.now >= deadline { break }
                Thread.sleep(forTimeInterval: 0.2)  // the scheduler's next word, not a hand-off between our threads
            }
        }
        if let (id, _) = found {
            state.withLock { state in
                if let job = state.jobs[id], job.endedBlocks.count == job.members.count { state.jobs[id]?.cancel = true }
            }
        }
        kicker.kick()
    }

    /// How long a block whose connection ended waits for its job's final state.
    static let finalStateWait: Duration = .milliseconds(1500)

    /// The job's final state as `sacct` gives it, else `scontrol show job` (which keeps a job for
    /// `MinJobAge` after it ended); `nil` while it runs or when neither knows it.
    func finalState(_ id: String) -> String? {
        var clusters: [String] = []
        if let names = settings.clusters, !names.isEmpty { clusters = ["--clusters=" + names] }
        let timeout = Duration.seconds(settings.cmdTimeout)
        if let said = try? SchedulerCommand.run(["sacct", "--noheader", "--allocations", "--parsable2", "--format=State", "--jobs=" + id] + clusters,
                                                environment: settings.environment, timeout: timeout),
           said.status == 0, let line = said.output.split(separator: "\n").first {
            let state = String(line.split(separator: " ").first ?? "")
            if !state.isEmpty { return SlurmJobState(name: state).isEnded ? String(line) : nil }
        }
        if let said = try? SchedulerCommand.run(["scontrol", "show", "job", id] + clusters, environment: settings.environment, timeout: timeout),
           said.status == 0, let field = said.output.split(whereSeparator: { $0 == " " || $0 == "\n" }).first(where: { $0.hasPrefix("JobState=") }) {
            let state = String(field.dropFirst("JobState=".count))
            if SlurmJobState(name: state).isEnded {
                let reason = said.output.split(whereSeparator: { $0 == " " || $0 == "\n" }).first { $0.hasPrefix("Reason=") }
                    .map { String($0.dropFirst("Reason=".count)) }
                return reason.map { $0 == "None" ? state : "\(state) (\($0))" } ?? state
            }
        }
        return nil
    }

    /// Cancels every job of the run, stops polling, and waits (up to 10 s) until `squeue` lists none of them.
    func close() {
        let (thread, ids, forming) = state.withLock { state -> (JoinableThread?, [String], [SlurmJobMember]) in
            state.closed = true
            defer {
                state.thread = nil
                state.forming = Forming()
            }
            return (state.thread, Array(state.jobs.keys), state.forming.members)
        }
        kicker.kick()
        thread?.join()
        for member in forming { member.process.signal(SIGTERM) }
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
            _ = kicker.wait(timeout: min(settings.statusPeriod, Self.formingGrace))
            let now = ContinuousClock.now
            let (closed, jobs, formed) = state.withLock { state -> (Bool, [Job], Forming?) in
                var formed: Forming? = nil
                if let since = state.forming.since, now - since >= Self.formingGrace, !state.forming.members.isEmpty {
                    formed = state.forming
                    state.forming = Forming()
                }
                return (state.closed, Array(state.jobs.values), formed)
            }
            if closed { return }
            if let formed {
                do { try submit(formed.members, walltime: formed.walltime, runDirectory: formed.runDirectory) } catch {
                    for member in formed.members {
                        note(member, "could not submit its job: \(error)")
                        member.process.signal(SIGTERM)
                    }
                }
            }
            let cancels = jobs.filter { $0.cancel && !$0.state.isEnded }
            if !cancels.isEmpty {
                scancel(cancels.map(\.id))
                state.withLock { state in for job in cancels { state.jobs[job.id]?.state = .ended("CANCELLED by Sprig") } }
            }
            let live = jobs.filter { !$0.cancel && !$0.state.isEnded }
            guard !live.isEmpty, let listed = queued(live.map(\.id)) else { continue }
            for job in live { update(job, to: listed[job.id] ?? .ended(finalState(job.id) ?? "gone from squeue"), at: now) }
        }
    }

    private func update(_ job: Job, to new: SlurmJobState, at now: ContinuousClock.Instant) {
        var job = job
        let changed = job.state != new
        job.state = new
        switch new {
        case .pending(let reason):
            let why = reason.isEmpty ? "no reason given" : reason
            for member in job.members { member.process.waitingFor.withLock { $0 = "slurm job \(job.id) pending: \(why)" } }
            // Said when it changes, and every 30 s while it lasts.
            if changed || job.lastNote.map({ now - $0 >= .seconds(30) }) ?? true {
                for member in job.members { note(member, "slurm job \(job.id) is pending (\(why))") }
                job.lastNote = now
            }
        case .running:
            if job.runningSince == nil {
                job.runningSince = now
                let left = job.walltime - settings.drainMargin(walltime: job.walltime)
                for member in job.members {
                    member.process.waitingFor.withLock { $0 = "slurm job \(job.id) running; its manager is connecting" }
                    member.process.drainDeadline.withLock { $0 = now + left }
                    note(member, "slurm job \(job.id) is running; the block drains \(left.seconds) s from now")
                }
            }
        case .ended(let how):
            for member in job.members {
                note(member, "slurm job \(job.id) ended: \(how)")
                // Its manager is gone, or never came: the stream has nothing left to wait for.
                member.process.endReason.withLock { $0 = $0 ?? "slurm job \(job.id) ended: \(how)" }
                member.process.signal(SIGTERM)
            }
        }
        let updated = job
        state.withLock { $0.jobs[updated.id] = updated }
    }

    private func note(_ member: SlurmJobMember, _ message: String) {
        let stamp = ISO8601DateFormatter().string(from: Date())
        guard let handle = FileHandle(forWritingAtPath: member.logPath) else { return }
        defer { try? handle.close() }
        _ = try? handle.seekToEnd()
        try? handle.write(contentsOf: Data("sprig: \(stamp) block \(member.block): \(message)\n".utf8))
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
