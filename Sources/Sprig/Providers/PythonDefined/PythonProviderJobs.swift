import Foundation
import PythonBridge
import Synchronization

/// The jobs a ``PythonDefinedProvider`` had its Python object start, the run's connect-back
/// credentials, and the thread (`sprig-pyprov`) that reads the jobs' states and cancels the jobs
/// of blocks that ended.
///
/// Threading: any thread. Every call of the provider object takes the GIL inside a scope of its
/// own and never while the lock is held; ``close()`` joins the thread.
final class PythonProviderJobs: Sendable {
    let key: String
    let className: String
    let statusPeriod: Duration
    private let state = Mutex(State())
    private let kicker = Kicker()

    /// A run's connect-back credentials and the private folder for its jobs' files.
    struct Session: Sendable {
        let credentials: RunCredentials
        let tls: TLSServerContext
        /// `<run>/python_provider`, mode 0700: the connector's source, the connect-back details of
        /// each block (0600, removed by the job when it reads them), Sprig's shipped code.
        let folder: String
        var connectorPath: String { folder + "/connector.py" }
    }

    private struct Job {
        let id: String
        let process: BlockProcess
        let detailsPath: String
        var ended = false
        var cancelled = false
        var blockEnded = false
    }

    private struct State {
        var sessions: [String: Session] = [:]
        var jobs: [Int: Job] = [:]
        var thread: JoinableThread? = nil
        var closed = false
    }

    init(key: String, className: String, statusPeriod: Duration) {
        self.key = key
        self.className = className
        self.statusPeriod = max(statusPeriod, .milliseconds(100))
    }

    /// The credentials and folder of the run in `runDirectory`, made on first use.
    /// - Throws: ``ProviderError`` when the folder or the certificate cannot be made, or after ``close()``.
    func session(runDirectory: String) throws -> Session {
        if let session = try state.withLock({ state -> Session? in
            guard !state.closed else { throw ProviderError(message: "\(className): the provider is closed") }
            return state.sessions[runDirectory]
        }) { return session }
        let folder = (runDirectory as NSString).appendingPathComponent("python_provider")
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw ProviderError(message: "\(className): cannot create \(folder): \(error.localizedDescription)")
        }
        chmod(folder, 0o700)
        let credentials = try RunCredentials.make(runDirectory: runDirectory, timeout: .seconds(10))
        let tls: TLSServerContext
        do { tls = try TLSServerContext(certificate: credentials.certificate, key: credentials.key) } catch {
            throw ProviderError(message: "\(className): cannot load the run's certificate from \(credentials.folder): \(error)")
        }
        let made = Session(credentials: credentials, tls: tls, folder: folder)
        return state.withLock { state in
            if let first = state.sessions[runDirectory] { return first }
            state.sessions[runDirectory] = made
            return made
        }
    }

    /// Calls the object's `submit(command, 1, jobName)` under the GIL (giving it `<run>/submit_scripts`
    /// as its `script_dir` when it has none, as Parsl does); returns the job id (as text).
    /// - Throws: ``ProviderError`` with what `submit` raised, naming the class and the block.
    func submit(block: Int, command: String, jobName: String, runDirectory: String) throws -> String {
        let answer: [String]
        do {
            answer = try withGIL {
                try [String](python: Self.module().attribute("submit").call(key, command, 1, jobName, runDirectory))
            }
        } catch {
            throw ProviderError(message: "block \(block): cannot call \(className).submit: \(error)")
        }
        guard answer.count == 2, answer[0] == "ok" else {
            throw ProviderError(message: answer.last ?? "\(className).submit failed")
        }
        return answer[1]
    }

    /// Records block `block`'s job and starts reading states if that is not under way yet.
    func started(block: Int, jobID: String, process: BlockProcess, detailsPath: String) {
        let start = state.withLock { state -> Bool in
            state.jobs[block] = Job(id: jobID, process: process, detailsPath: detailsPath)
            return state.thread == nil && !state.closed
        }
        guard start else { return }
        let thread = try? JoinableThread(name: "sprig-pyprov") { [self] in poll() }
        let orphan = state.withLock { state -> JoinableThread? in
            guard state.thread == nil, !state.closed else { return thread }
            state.thread = thread
            return nil
        }
        if let orphan {
            kicker.kick()
            orphan.join()
        }
    }

    /// Block `block`'s stream ended: its job is cancelled (on the polling thread, or by ``close()``).
    func blockEnded(block: Int) {
        state.withLock { $0.jobs[block]?.blockEnded = true }
        kicker.kick()
    }

    /// Cancels the jobs not cancelled yet, stops the polling thread and returns when both are done.
    func close() {
        let thread = state.withLock { state -> JoinableThread? in
            state.closed = true
            defer { state.thread = nil }
            return state.thread
        }
        kicker.kick()
        thread?.join()
        cancel(all: true)
    }

    private func poll() {
        while true {
            _ = kicker.wait(timeout: statusPeriod)
            if state.withLock({ $0.closed }) { return }
            cancel(all: false)
            readStates()
        }
    }

    /// Cancels the jobs whose blocks ended (`all`: every job not cancelled yet), once each.
    private func cancel(all: Bool) {
        let due = state.withLock { state -> [(Int, Job)] in
            let due = state.jobs.filter { !$0.value.cancelled && (all || $0.value.blockEnded) }
            for block in due.keys { state.jobs[block]?.cancelled = true }
            return due.sorted { $0.key < $1.key }
        }
        guard !due.isEmpty else { return }
        for (_, job) in due { unlink(job.detailsPath) }
        let said = try? withGIL { try String(python: Self.module().attribute("cancel").call(key, due.map(\.1.id))) }
        if let said, !said.isEmpty {
            for (_, job) in due { Self.note(job, said) }
        }
    }

    /// Reads the states of the jobs still running; a job that ended ends its block, with its state as the reason.
    private func readStates() {
        let live = state.withLock { state in
            state.jobs.filter { !$0.value.ended && !$0.value.cancelled }.sorted { $0.key < $1.key }
        }
        guard !live.isEmpty else { return }
        let ids = live.map(\.1.id)
        let answer: PythonStatusAnswer
        do {
            answer = try withGIL {
                let result = try Self.module().attribute("status").call(key, ids)
                if let text = try? String(python: result) { return .failed(text) }
                return .states(try [String](python: result))
            }
        } catch {
            answer = .failed("cannot call \(className).status: \(error)")
        }
        switch answer {
        case .failed(let message):
            for (_, job) in live { Self.note(job, message) }
        case .states(let states):
            for ((block, job), ended) in zip(live, states) where !ended.isEmpty {
                state.withLock { $0.jobs[block]?.ended = true }
                let reason = "\(className) job \(job.id) ended: \(ended)"
                job.process.endReason.withLock { $0 = $0 ?? reason }
                Self.note(job, reason)
                job.process.signal(SIGTERM)
            }
        }
    }

    private enum PythonStatusAnswer {
        case states([String])
        case failed(String)
    }

    private static func module() throws -> PythonObject { try Python.importModule("sprig.python_providers") }

    /// A line for the block's log (its status shows the end reason; the log keeps the rest).
    private static func note(_ job: Job, _ message: String) {
        job.process.waitingFor.withLock { $0 = message }
    }
}

/// Writing a file only this user may read.
enum PrivateFile {
    /// Writes `bytes` to `path` (created or truncated), mode 0600.
    /// - Throws: ``ProviderError`` naming the file.
    static func write(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw ProviderError(message: "cannot write \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        fchmod(fd, 0o600)
        do { try writeAll(fd, bytes) } catch {
            throw ProviderError(message: "cannot write \(path): \(error)")
        }
    }
}
