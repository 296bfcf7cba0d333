import Foundation
import Synchronization

/// A command run by `/bin/bash -c`, in a process group of its own so that a walltime kills all it started.
///
/// Threading: ``run(cancelOn:)`` blocks its calling thread (never hold the GIL around it); the kill
/// may come from any thread and is safe against PID reuse: the process is reaped only after the
/// kill side has been told it ended.
struct ShellProcess {
    let command: String
    let stdout: Redirect?
    let stderr: Redirect?

    enum Failure: Error {
        case badStdStream(path: String, detail: String)
        case spawn(String)
    }

    /// Runs the command and returns its exit code (128 + N when signal N killed it).
    /// `register` receives a closure that kills the process group; it is called before the process
    /// starts waiting and again with `nil` once the process ended.
    func run(register: (@escaping @Sendable () -> Void) -> Void, unregister: () -> Void) throws(Failure) -> Int32 {
        var descriptors: [Int32] = []
        defer { for fd in descriptors { close(fd) } }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (redirect, target) in [(stdout, STDOUT_FILENO), (stderr, STDERR_FILENO)] {
            guard let redirect else { continue }
            let fd = try Self.open(redirect)
            descriptors.append(fd)
            posix_spawn_file_actions_adddup2(&actions, fd, target)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // Own process group (so a kill reaches everything it starts), no blocked signals, and default
        // handlers for the signals the host ignores or blocks (an ignored SIGPIPE would survive exec).
        var emptyMask = sigset_t(), defaults = sigset_t()
        sigemptyset(&emptyMask)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))

        let words: [String] = ["/bin/bash", "-c", command]
        let argv = words.map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = Environment.withCurrent { envp in posix_spawn(&pid, "/bin/bash", &actions, &attributes, argv, envp) }
        guard spawned == 0 else { throw .spawn("cannot start /bin/bash: \(String(cString: strerror(spawned)))") }
        for fd in descriptors { close(fd) }
        descriptors = []

        let exited = Mutex(false)
        let child = pid
        register {
            exited.withLock { done in
                if !done { kill(-child, SIGKILL) }
            }
        }
        // Wait without reaping, so the PID (and group) stays ours while a kill may still come.
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        exited.withLock { $0 = true }
        unregister()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS / WTERMSIG, written out: the macros do not import.
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }

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

/// The environment children get: the process's environment when the first child starts.
private enum Environment {
    private static let snapshot: [String] = ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" }

    static func withCurrent<R>(_ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        let pointers = snapshot.map { strdup($0) } + [nil]
        defer { for pointer in pointers { free(pointer) } }
        return body(pointers)
    }
}
