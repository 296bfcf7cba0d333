import Foundation
import Synchronization

/// A bash app's command run by `/bin/bash -c` on this machine, by the thread executor (a process
/// executor's bash apps, Swift-built ones included, run in its workers).
///
/// The execution contract, the same as in workers (`python/sprig/PROTOCOL.md`, "Bash apps"):
/// - stdin is `/dev/null`: a command never reads the host's input;
/// - stdout and stderr go to their redirect targets (folders made as needed); when both name the
///   same file it is opened once and shared, so `w` for both does not clobber;
/// - the command leads a process group of its own, and the whole group is killed (SIGKILL) when
///   the task ends early — by its walltime, or because the program is stopping
///   (``ProgramSignals``): no command outlives its task.
///
/// Threading: ``run(register:unregister:)`` blocks its calling thread (never hold the GIL around
/// it); kills may come from any thread and never reach a reaped group (the process is waited for
/// without reaping first, and taken out of every kill list before it is reaped).
package struct ShellProcess {
    package let command: String
    package let stdout: Redirect?
    package let stderr: Redirect?

    /// A command and where its output goes (`nil`: this process's own stdout or stderr).
    package init(command: String, stdout: Redirect?, stderr: Redirect?) {
        self.command = command
        self.stdout = stdout
        self.stderr = stderr
    }

    /// Why a command did not start.
    package enum Failure: Error {
        case badStdStream(path: String, detail: String)
        case spawn(String)
    }

    /// Runs the command and returns its exit code (128 + N when signal N killed it).
    /// `register` receives a closure that kills the process group, before the process is waited
    /// for; `unregister` is called once it has ended, before it is reaped.
    package func run(register: (@escaping @Sendable () -> Void) -> Void, unregister: () -> Void) throws(Failure) -> Int32 {
        var descriptors: [Int32] = []
        defer { for fd in descriptors { close(fd) } }
        guard let input = Self.devNull else { throw .spawn("cannot open /dev/null: \(String(cString: strerror(errno)))") }
        var childDescriptors: [Int32: Int32] = [STDIN_FILENO: input]
        var opened: [String: Int32] = [:]
        for (redirect, target) in [(stdout, STDOUT_FILENO), (stderr, STDERR_FILENO)] {
            guard let redirect else { continue }
            let key = URL(fileURLWithPath: redirect.path).standardizedFileURL.path
            if let shared = opened[key] {
                childDescriptors[target] = shared
                continue
            }
            let fd = try Self.open(redirect)
            descriptors.append(fd)
            opened[key] = fd
            childDescriptors[target] = fd
        }
        let pid: pid_t
        do {
            pid = try Spawn.start(["/bin/bash", "-c", command], descriptors: childDescriptors)
        } catch {
            throw .spawn(error.description)
        }
        for fd in descriptors { close(fd) }
        descriptors = []

        RunningCommands.shared.add(pid)
        register { RunningCommands.shared.kill(pid) }
        // Wait without reaping, so the PID (and group) stays ours while a kill may still come.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        unregister()
        RunningCommands.shared.remove(pid)
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return Spawn.exitCode(status)
    }

    /// `/dev/null` for every command's stdin, opened once for the process (close-on-exec; each child
    /// gets its own copy as fd 0): an `open` and a `close` per command cost ~8 µs of the spawning
    /// thread here (`perf`), about a tenth of the spawn's own share. `nil` if it cannot be opened.
    private static let devNull: Int32? = {
        let fd = Glibc.open("/dev/null", O_RDONLY | O_CLOEXEC)
        return fd >= 0 ? fd : nil
    }()

    private static func open(_ redirect: Redirect) throws(Failure) -> Int32 {
        let folder = (redirect.path as NSString).deletingLastPathComponent
        if !folder.isEmpty && !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            } catch {
                throw .badStdStream(path: redirect.path, detail: "cannot create folder \(folder): \(error.localizedDescription)")
            }
        }
        let flags = O_WRONLY | O_CREAT | O_CLOEXEC | (redirect.mode == .append ? O_APPEND : O_TRUNC)
        let fd = Glibc.open(redirect.path, flags, 0o644)
        guard fd >= 0 else { throw .badStdStream(path: redirect.path, detail: String(cString: strerror(errno))) }
        return fd
    }
}

/// The process groups of the commands running on this machine, so that a stopping program kills
/// them all (``ProgramSignals``). A group leaves the list before its leader is reaped, under the
/// same lock as every kill: a kill never reaches a reused id.
final class RunningCommands: Sendable {
    static let shared = RunningCommands()

    private let groups = Mutex<Set<pid_t>>([])

    private init() {
        EmergencyStop.register(self) { [self] in killAll() }
    }

    func add(_ group: pid_t) { _ = groups.withLock { $0.insert(group) } }

    func remove(_ group: pid_t) { _ = groups.withLock { $0.remove(group) } }

    /// Kills one group if it still runs.
    func kill(_ group: pid_t) {
        groups.withLock { groups in
            if groups.contains(group) { _ = Glibc.kill(-group, SIGKILL) }
        }
    }

    func killAll() {
        groups.withLock { groups in
            for group in groups { _ = Glibc.kill(-group, SIGKILL) }
        }
    }

    /// How many commands run now.
    var count: Int { groups.withLock { $0.count } }
}
