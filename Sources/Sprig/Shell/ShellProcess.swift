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
        var childDescriptors: [Int32: Int32] = [:]
        for (redirect, target) in [(stdout, STDOUT_FILENO), (stderr, STDERR_FILENO)] {
            guard let redirect else { continue }
            let fd = try Self.open(redirect)
            descriptors.append(fd)
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
        return Spawn.exitCode(status)
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

