import Foundation

/// One run of a scheduler command (`sbatch`, `squeue`, `scancel`, `openssl`): its exit code and
/// what it printed. A non-zero exit is a result, not a throw; only a command that cannot start,
/// or that outlives its timeout (it is killed then), throws.
struct SchedulerCommand {
    let status: Int32
    let output: String
    let errors: String

    /// Runs `argv` (its first word found on PATH) with `environment` added to this process's,
    /// `input` on its stdin, for `timeout` at most.
    /// - Throws: ``ProviderError`` naming the command when it cannot start or times out.
    static func run(_ argv: [String], environment: [String: String] = [:], input: String = "",
                    timeout: Duration) throws -> SchedulerCommand {
        let resolved: [String]
        do { resolved = try argv.resolvingExecutable() } catch {
            throw ProviderError(message: "\(argv[0]) was not found on PATH; install it (Debian: \(packageHint(argv[0])))")
        }
        var merged = ProcessInfo.processInfo.environment
        merged.merge(environment) { $1 }
        let toChild: (read: Int32, write: Int32), fromChild: (read: Int32, write: Int32), errChild: (read: Int32, write: Int32)
        let pid: pid_t
        do {
            toChild = try Spawn.pipe()
            fromChild = try Spawn.pipe()
            errChild = try Spawn.pipe()
            pid = try Spawn.start(resolved, descriptors: [0: toChild.read, 1: fromChild.write, 2: errChild.write], environment: merged)
        } catch {
            throw ProviderError(message: "cannot run \(argv[0]): \(error)")
        }
        close(toChild.read)
        close(fromChild.write)
        close(errChild.write)
        try? writeAll(toChild.write, Array(input.utf8))
        close(toChild.write)
        var out: [UInt8] = [], err: [UInt8] = []
        var streams: [(Int32, Bool)] = [(fromChild.read, true), (errChild.read, false)]
        let deadline = ContinuousClock.now + timeout
        var timedOut = false
        var buffer = [UInt8](repeating: 0, count: 65536)
        while !streams.isEmpty {
            let left = deadline - ContinuousClock.now
            if left <= .zero { timedOut = true; break }
            var fds = streams.map { pollfd(fd: $0.0, events: Int16(POLLIN), revents: 0) }
            let millis = Int32(min(Double(left.components.seconds) * 1000 + Double(left.components.attoseconds) / 1e15, 60_000))
            if poll(&fds, nfds_t(fds.count), max(1, millis)) < 0 && errno != EINTR { break }
            for (index, entry) in fds.enumerated().reversed() where entry.revents != 0 {
                let count = read(entry.fd, &buffer, buffer.count)
                if count <= 0 {
                    close(entry.fd)
                    streams.remove(at: index)
                } else if streams[index].1 {
                    out += buffer[0..<count]
                } else {
                    err += buffer[0..<count]
                }
            }
        }
        for (fd, _) in streams { close(fd) }
        if timedOut { kill(-pid, SIGKILL) }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        if timedOut {
            throw ProviderError(message: "\(argv.joined(separator: " ")) did not finish within \(timeout.seconds) s (cmd_timeout)")
        }
        return SchedulerCommand(status: Spawn.exitCode(status), output: String(decoding: out, as: UTF8.self),
                                errors: String(decoding: err, as: UTF8.self))
    }

    /// What a failed run said, for messages.
    var said: String {
        let text = (errors.isEmpty ? output : errors).trimmingCharacters(in: .whitespacesAndNewlines)
        return text.isEmpty ? "exit code \(status)" : "exit code \(status): \(text)"
    }

    private static func packageHint(_ tool: String) -> String {
        tool == "openssl" ? "openssl" : "slurm-client"
    }
}
