import CPOSIX
import Foundation

/// Starts a program with `posix_spawn`: the file descriptors it should get as 0, 1 and 2, its own
/// process group when asked, no blocked signals, and default handlers for the signals this
/// process ignores or blocks (an ignored SIGPIPE would otherwise survive `exec`).
enum Spawn {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    /// - Parameters:
    ///   - descriptors: child fd → parent fd to give it (`dup2`); every other descriptor this process
    ///     opened with `O_CLOEXEC` (all of Sprig's) stays out of the child.
    ///   - environment: `nil` for this process's environment.
    static func start(_ argv: [String], descriptors: [Int32: Int32], newProcessGroup: Bool = true,
                      environment: [String: String]? = nil) throws(Failure) -> pid_t {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        for (child, parent) in descriptors.sorted(by: { $0.key < $1.key }) {
            posix_spawn_file_actions_adddup2(&actions, parent, child)
        }

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t(), defaults = sigset_t()
        sigemptyset(&emptyMask)
        sigemptyset(&defaults)
        for signal in [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD] { sigaddset(&defaults, signal) }
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setsigdefault(&attributes, &defaults)
        var flags = POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF
        if newProcessGroup {
            posix_spawnattr_setpgroup(&attributes, 0)
            flags |= POSIX_SPAWN_SETPGROUP
        }
        posix_spawnattr_setflags(&attributes, Int16(flags))

        let arguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in arguments { free(pointer) } }
        var pid: pid_t = 0
        let status: Int32
        if let environment {
            let variables = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer { for pointer in variables { free(pointer) } }
            status = posix_spawn(&pid, argv[0], &actions, &attributes, arguments, variables)
        } else {
            // This process's environment as it is now (with what a script set through os.environ),
            // read in place: copying it into a dictionary and back cost more than the spawn itself.
            status = posix_spawn(&pid, argv[0], &actions, &attributes, arguments, Glibc.environ)
        }
        guard status == 0 else { throw Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(status)))") }
        return pid
    }

    /// A pipe whose two ends are closed on `exec`; `dup2` into a child clears that for the child's copy.
    /// Made close-on-exec atomically (`pipe2`): a child spawned by another thread between `pipe` and
    /// `fcntl` would keep an end open, and the reader would never see the end of the stream.
    static func pipe() throws(Failure) -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard sprig_pipe_cloexec(&fds) == 0 else { throw Failure(description: "pipe failed: \(String(cString: strerror(errno)))") }
        // A 1 MiB buffer lets large payloads cross in a few writes instead of sixteen 64 KiB round
        // trips. Best effort: the system's limit may be lower.
        _ = sprig_set_pipe_size(fds[1], 1 << 20)
        return (fds[0], fds[1])
    }

    /// Decodes a `waitpid` status: the exit code, or 128 + N for death by signal N.
    static func exitCode(_ status: Int32) -> Int32 {
        let signal = status & 0x7f
        return signal == 0 ? (status >> 8) & 0xff : 128 + signal
    }
}
