import Foundation
@testable import Sprig
import Testing

/// `Spawn.start`: what a started program gets (descriptors, process group, signals), and a
/// program that cannot start is an error naming it (its child reaped by `sprig_spawn`).
@Suite("Spawning programs", .timeLimit(.minutes(1)))
struct SpawnTests {
    /// Runs `script` under /bin/sh with its stdout on a pipe; returns what it printed and its exit code.
    private func run(_ script: String, newProcessGroup: Bool = true) throws -> (output: String, code: Int32, pid: pid_t) {
        let pipe = try Spawn.pipe()
        let null = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(null) }
        let pid: pid_t
        do {
            pid = try Spawn.start(["/bin/sh", "-c", script], descriptors: [0: null, 1: pipe.write, 2: pipe.write],
                                  newProcessGroup: newProcessGroup)
        } catch {
            close(pipe.read)
            close(pipe.write)
            throw error
        }
        close(pipe.write)
        let output = FileHandle(fileDescriptor: pipe.read, closeOnDealloc: true).readDataToEndOfFile()
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        return (String(decoding: output, as: UTF8.self), Spawn.exitCode(status), pid)
    }

    @Test func aProgramStartsWithNoBlockedSignalsDefaultHandlersAndItsOwnGroup() throws {
        // This thread blocks and ignores signals a program expects at their default.
        var blocked = sigset_t(), previous = sigset_t()
        sigemptyset(&blocked)
        sigaddset(&blocked, SIGTERM)
        sigaddset(&blocked, SIGUSR1)
        pthread_sigmask(SIG_BLOCK, &blocked, &previous)
        let ignored = signal(SIGINT, SIG_IGN)
        defer {
            signal(SIGINT, ignored)
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        let status = try run("grep -E '^(SigBlk|SigIgn):' /proc/self/status; echo \"group $(ps -o pgid= -p $$) self $$\"")
        #expect(status.code == 0)
        let lines = status.output.split(separator: "\n").map(String.init)
        #expect(lines.contains { $0.hasPrefix("SigBlk:") && $0.hasSuffix("0000000000000000") }, "\(lines)")
        // SIGINT (bit 2), SIGPIPE (13), SIGTERM (15) are not ignored.
        let ignoredMask = lines.first { $0.hasPrefix("SigIgn:") }.flatMap { UInt64($0.split(separator: "\t").last ?? "", radix: 16) } ?? .max
        for number in [SIGINT, SIGPIPE, SIGTERM] { #expect(ignoredMask & (1 << (UInt64(number) - 1)) == 0, "\(lines)") }
        let words = (lines.last ?? "").split(separator: " ")
        #expect(words.count == 4 && words[1] == words[3], "a group of its own: \(lines)")
    }

    @Test func aProgramThatCannotStartIsAnErrorNamingIt() throws {
        let error = try #require(throws: Spawn.Failure.self) {
            _ = try Spawn.start(["/nonexistent/program"], descriptors: [:])
        }
        #expect(error.description == "cannot start /nonexistent/program: No such file or directory")
    }

    @Test func descriptorsGoWhereTheyAreAskedAndNoOthersFollow() throws {
        let leaked = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer { close(leaked) }
        let status = try run("ls /proc/self/fd | sort -n | tr '\\n' ' '")
        #expect(status.code == 0)
        // 0, 1, 2, and the descriptor ls reads /proc/self/fd through: nothing of this process's.
        let descriptors = status.output.split(separator: " ").compactMap { Int32($0) }
        #expect(!descriptors.contains(leaked), "\(status.output)")
        #expect(Array(descriptors.prefix(3)) == [0, 1, 2], "\(status.output)")
    }
}
