import Foundation
import Synchronization

/// What carries a block that has no local process of its own: a connect-back connection this
/// process terminates itself (a Slurm block's TLS stream). ``BlockProcess`` ends it where it would
/// signal a process, and waits for it where it would reap one; the block's reader reads the
/// manager's bytes from it (a ``ByteSource``) where it would read a descriptor.
protocol BlockCarrier: ByteSource {
    /// Ends the block's stream now; later calls do nothing. Any thread.
    func end()
    /// Waits until the stream is over; returns the block's exit code (0: it ended as asked). Once.
    func waitEnded() -> Int32
}

/// A started block: its local process (the manager, or a channel such as `ssh` carrying its
/// stream) or the ``BlockCarrier`` standing for one, and the two ends of its stream.
///
/// Threading: any thread may ``kill()``; one thread ``reap()``s. A kill never reaches a process
/// group after its leader was reaped (its id may belong to someone else by then): the two take the
/// same lock, and the leader is waited for without reaping first.
public final class BlockProcess: Sendable {
    /// The local process carrying the block; it leads its own process group. 0 when no local
    /// process carries it (a connect-back block: its ``BlockCarrier`` is ended instead).
    public let pid: pid_t
    /// What stands for the process, when no local process carries the block.
    private let carrier: (any BlockCarrier)?
    /// Writes reach the manager's stdin.
    let input: Int32
    /// Reads come from the manager's stdout; -1 when a ``BlockCarrier`` gives them (``source``).
    let output: Int32
    /// Where this block ran, for messages (`localhost`, a host name).
    public let host: String
    /// Whether the leader has been reaped, and its exit code then.
    private let reaped = Mutex<Int32?>(nil)
    /// Called once, with the exit code, when the leader has been reaped: what the provider must
    /// undo when the block ends (a batch job to cancel). Runs on the reaping thread.
    private let onReap: (@Sendable (Int32) -> Void)?
    /// When the block should stop taking tasks, if its provider knows (a batch job nearing its
    /// walltime); the executor drains the block from then on.
    let drainDeadline = Mutex<ContinuousClock.Instant?>(nil)
    /// What the block waits on before its manager can connect, when its provider knows (a
    /// pending batch job: "slurm job 12 pending: Resources"); shown in the block's status.
    let waitingFor = Mutex<String?>(nil)
    /// How the block ended, when its provider knows better than the stream ("slurm job 12 ended:
    /// TIMEOUT"): the executor gives it as the block's end reason. Set before the block is reaped.
    let endReason = Mutex<String?>(nil)

    init(pid: pid_t, input: Int32, output: Int32, host: String, onReap: (@Sendable (Int32) -> Void)? = nil) {
        self.pid = pid
        self.carrier = nil
        self.input = input
        self.output = output
        self.host = host
        self.onReap = onReap
    }

    /// A block without a local process: `carrier` is ended where a process would be signalled.
    init(carrier: any BlockCarrier, input: Int32, output: Int32, host: String, onReap: (@Sendable (Int32) -> Void)? = nil) {
        self.pid = 0
        self.carrier = carrier
        self.input = input
        self.output = output
        self.host = host
        self.onReap = onReap
    }

    /// Where the block's reader reads the manager's bytes when no descriptor carries them.
    var source: (any ByteSource)? { carrier }

    /// Whether the block's drain deadline has passed at `now`.
    func shouldDrain(at now: ContinuousClock.Instant) -> Bool { drainDeadline.withLock { $0.map { now >= $0 } ?? false } }

    /// Kills the block's whole process group at once; returns `false` when the process had
    /// already been reaped (nothing is signalled then).
    @discardableResult
    func kill() -> Bool { signal(SIGKILL) }

    /// Sends `signal` to the block's whole process group, unless the process has been reaped.
    @discardableResult
    func signal(_ signal: Int32) -> Bool {
        reaped.withLock { code in
            guard code == nil else { return false }
            if let carrier { carrier.end() } else { _ = Glibc.kill(-pid, signal) }
            return true
        }
    }

    /// Waits for the process to exit and reaps it; returns its exit code (128 + N for signal N).
    /// Later calls return the same code at once.
    @discardableResult
    func reap() -> Int32 {
        if let code = reaped.withLock({ $0 }) { return code }
        if let carrier {
            let ended = carrier.waitEnded()
            let (exit, first) = reaped.withLock { code -> (Int32, Bool) in
                if let code { return (code, false) }
                code = ended
                return (ended, true)
            }
            if first { onReap?(exit) }
            return exit
        }
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        let (exit, first) = reaped.withLock { code -> (Int32, Bool) in
            if let code { return (code, false) }
            var status: Int32 = 0
            var result: Int32
            repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
            let exit = result < 0 ? -1 : Spawn.exitCode(status)
            code = exit
            return (exit, true)
        }
        if first { onReap?(exit) }
        return exit
    }

    /// Closes the stream ends; the manager sees end of input and stops.
    func closeStream() {
        close(input)
        if output >= 0 { close(output) }
    }
}
