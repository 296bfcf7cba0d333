import Foundation
import Testing

/// The execution contract of bash apps, the same on both executors: stdin is `/dev/null`, one
/// file named for both streams is opened once, and no command outlives its run.
@Suite("Bash apps' execution contract", .serialized, .timeLimit(.minutes(3)))
struct BashContractTests {
    static let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scripts/contract/bash_commands.py").path

    /// A command reads nothing of the program's input. (On the thread executor it inherited the
    /// host's stdin.)
    @Test(arguments: [["--config", "threads"], ["--config", "htex"]])
    func aCommandsStdinIsDevNull(config: [String]) throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try builtBinary("sprig"))
        process.arguments = ["run"] + config + [Self.script, folder, "stdin"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input  // held open: a command reading it would see a pipe
        process.standardOutput = output
        try process.run()
        try waitBounded(process)
        let printed = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(process.terminationStatus == 0)
        #expect(printed == "/dev/null\n")
    }

    /// stdout and stderr naming one file in `w` mode both land in it. (The thread executor opened
    /// it twice, each truncating, so one stream overwrote the other.)
    @Test(arguments: [["--config", "threads"], ["--config", "htex"]])
    func oneFileForBothStreamsKeepsBoth(config: [String]) throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let result = try runSprig(["run"] + config + [Self.script, folder, "shared"])
        #expect(result.status == 0, "\(result.stderr)")
        #expect(result.stdout == "['to-stderr', 'to-stdout']\n", "\(result.stderr)")
    }

    /// Ctrl-C or SIGTERM of `sprig run` ends every running command's process group, on both
    /// executors. (The commands ran on, `sleep 100` included: 7 of 7 runs on the thread executor,
    /// 7 of 10 and 9 of 10 on the process executor.)
    @Test(arguments: [(["--config", "threads"], SIGINT), (["--config", "threads"], SIGTERM),
                      (["--config", "htex"], SIGINT), (["--config", "htex"], SIGTERM)])
    func stoppingTheRunEndsEveryCommand(config: [String], signal: Int32) throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let (process, _) = try startAndReadUntil("started", try builtBinary("sprig"), ["run"] + config + [Self.script, folder, "hold"])
        let groups = try (0..<2).map { index -> pid_t in
            let text = try String(contentsOfFile: "\(folder)/group-\(index)", encoding: .utf8)
            return try #require(pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)))
        }
        kill(process.processIdentifier, signal)
        try waitBounded(process)
        #expect(process.terminationStatus == 128 + signal)
        #expect(eventually { groups.allSatisfy { !groupExists($0) } }, "commands left running in groups \(groups.filter(groupExists))")
        for group in groups where groupExists(group) { kill(-group, SIGKILL) }  // ours: the test started them
    }
}

/// Whether any process of group `group` is alive (zombies aside).
func groupExists(_ group: pid_t) -> Bool {
    guard kill(-group, 0) == 0 else { return false }
    let members = ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { Int32($0) }
    return members.contains { pid in
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return false }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        return fields.count > 3 && fields[0] != "Z" && Int32(fields[3]) == group
    }
}
