import Foundation
import Testing

/// Providers defined in Python (Parsl's `submit`/`status`/`cancel`), driven by the engine through
/// `sprig run`: their blocks' managers connect back over TLS.
@Suite("Providers defined in Python", .serialized, .timeLimit(.minutes(2)))
struct PythonProviderTests {
    @Test func aLocalProviderSubclassRunsTasksInTwoBlocksAndShutdownCancelsThem() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try runSprig(["run", "\(scriptsFolder)/python_provider.py", folder + "/runs"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        let lines = run.stdout.split(separator: "\n").map(String.init)
        #expect(Array(lines.prefix(4)) == ["submitted 2", "tasks ran in both jobs True", "cancelled each once True",
                                           "no secret in the commands True"], "\(run.stdout)\n\(run.stderr)")
        let jobs = lines.last.map { $0.split(separator: " ").dropFirst().compactMap { Int32($0) } } ?? []
        #expect(jobs.count == 2, "\(run.stdout)")
        #expect(processes(inGroups: Set(jobs)).isEmpty, "left running: \(processes(inGroups: Set(jobs)))")
        // The connect-back details (the secret) were read and removed by each job.
        let privateFolder = folder + "/runs/000/python_provider"
        let left = (try? FileManager.default.contentsOfDirectory(atPath: privateFolder)) ?? []
        #expect(!left.contains { $0.hasSuffix(".connect") }, "\(left)")
        let mode = (try FileManager.default.attributesOfItem(atPath: privateFolder)[.posixPermissions] as? Int) ?? 0
        #expect(mode == 0o700)
        // The provider had no script_dir: its job scripts went into the run's folder, as in Parsl.
        let scripts = (try? FileManager.default.contentsOfDirectory(atPath: folder + "/runs/000/submit_scripts")) ?? []
        #expect(scripts.filter { $0.hasSuffix(".sh") }.count == 2, "\(scripts)")
    }

    @Test func aProviderWhoseSubmitRaisesFailsTheTaskWithItsErrorAndLeavesNothing() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let before = Set(Self.connectors())
        let run = try runSprig(["run", "\(scriptsFolder)/python_provider_fails.py", folder + "/runs"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "BadStateException True\nstatus ['MISSING']\nconnected []\nsubmit calls 1\n", "\(run.stdout)\n\(run.stderr)")
        #expect(Set(Self.connectors()).subtracting(before).isEmpty)
    }

    @Test func aJobThatEndsBeforeItsManagerConnectsEndsItsBlockWithTheJobsState() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try runSprig(["run", "\(scriptsFolder)/python_provider_job_fails.py", folder + "/runs"], in: folder)
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == "BadStateException True\nstatus ['MISSING']\n", "\(run.stdout)\n\(run.stderr)")
    }

    /// Processes running the shipped connector from a scratch folder of these tests.
    private static func connectors() -> [Int32] {
        livingProcesses().filter { $0.command.contains("python_provider/connector.py") }.map(\.pid)
    }
}

/// The processes (not zombies) of these process groups.
func processes(inGroups groups: Set<Int32>) -> [Int32] {
    livingProcesses().filter { groups.contains($0.group) }.map(\.pid)
}

/// Every process of this machine that is not a zombie: its id, process group and command line.
func livingProcesses() -> [(pid: Int32, group: Int32, command: String)] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap { entry in
        guard let pid = Int32(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 2, fields[0] != "Z", let group = Int32(fields[2]) else { return nil }
        let command = (try? String(contentsOfFile: "/proc/\(entry)/cmdline", encoding: .utf8))?
            .replacingOccurrences(of: "\u{0}", with: " ") ?? ""
        return (pid, group, command)
    }
}
