import CPOSIX
import Foundation

/// Starts a program as `posix_spawn` would (``sprig_spawn`` in `CPOSIX`: a child sharing this
/// process's memory until it execs, on a stack each thread keeps for its spawns): the file
/// descriptors it should get as 0, 1 and 2, its own process group when asked, no blocked signals,
/// and default handlers for the signals this process handles, and for those it ignores or blocks
/// that a program expects at their default (an ignored SIGPIPE would otherwise survive `exec`).
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
        let pairs = descriptors.sorted(by: { $0.key < $1.key })
        let from = pairs.map(\.value), to = pairs.map(\.key)
        let defaults: [Int32] = [SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD]
        let arguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in arguments { free(pointer) } }
        let variables = environment.map { $0.map { strdup("\($0.key)=\($0.value)") } + [nil] }
        defer { for pointer in variables ?? [] { free(pointer) } }
        var error: Int32 = 0
        let pid: pid_t = argv[0].withCString { path in
            arguments.withUnsafeBufferPointer { argumentList in
                from.withUnsafeBufferPointer { from in
                    to.withUnsafeBufferPointer { to in
                        defaults.withUnsafeBufferPointer { defaults in
                            func spawn(_ environment: UnsafePointer<UnsafeMutablePointer<CChar>?>?) -> pid_t {
                                var plan = sprig_spawn_plan(path: path, argv: argumentList.baseAddress, envp: environment,
                                                            from: from.baseAddress, to: to.baseAddress, count: Int32(from.count),
                                                            new_group: newProcessGroup ? 1 : 0, defaults: defaults.baseAddress,
                                                            default_count: Int32(defaults.count), error: 0)
                                return sprig_spawn(&plan, &error)
                            }
                            // Without `environment`: this process's environment as it is now (with
                            // what a script set through os.environ), read in place: copying it into a
                            // dictionary and back cost more than the spawn itself.
                            guard let variables else { return spawn(UnsafePointer(Glibc.environ)) }
                            return variables.withUnsafeBufferPointer { spawn($0.baseAddress) }
                        }
                    }
                }
            }
        }
        guard pid > 0 else { throw Failure(description: "cannot start \(argv[0]): \(String(cString: strerror(error)))") }
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
