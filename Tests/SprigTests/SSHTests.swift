import Foundation
@testable import Sprig
import Testing

/// The SSH test hosts that `scripts/testbed/ssh/up.sh` started (scripts/test starts them).
struct TestHosts {
    let values: [String: String]
    var config: String { values["SPRIG_SSH_CONFIG"] ?? "" }
    var names: [String] { (values["SPRIG_SSH_HOSTS"] ?? "").split(separator: " ").map(String.init) }
    var node: String { values["SPRIG_SSH_NODE"] ?? "" }

    static func load() throws -> TestHosts {
        let folder = ProcessInfo.processInfo.environment["SPRIG_TESTBED_DIR"] ?? "/tmp/sprig-testbed"
        guard let text = try? String(contentsOfFile: folder + "/env.sh", encoding: .utf8) else {
            throw TestHostsMissing(folder: folder)
        }
        return TestHosts(values: exportedValues(text))
    }

    /// Runs `node.sh ACTION HOST` (failure injection) and waits for it.
    func node(_ action: String, _ host: String) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [node, action, host]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return output
    }

    func channel(_ host: String, scriptDir: String) -> SSHChannel {
        SSHChannel(hostname: host, scriptDir: scriptDir, configFile: config)
    }
}

/// The `export NAME=value` lines of a test bed's env.sh.
func exportedValues(_ text: String) -> [String: String] {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where line.hasPrefix("export ") {
            let assignment = line.dropFirst("export ".count).split(separator: "=", maxSplits: 1)
            guard assignment.count == 2 else { continue }
            var value = String(assignment[1].split(separator: "#", maxSplits: 1).first ?? "").trimmingCharacters(in: .whitespaces)
            if value.hasPrefix("\"") && value.hasSuffix("\"") { value = String(value.dropFirst().dropLast()) }
            values[String(assignment[0])] = value
        }
    return values
}

struct TestHostsMissing: Error, CustomStringConvertible {
    let folder: String
    var description: String { "no SSH test hosts in \(folder): run scripts/test, or scripts/testbed/ssh/up.sh 3 first" }
}

/// A kernel with one process executor whose blocks are the SSH test hosts.
final class SSHHarness: @unchecked Sendable {  // immutable after init
    let hosts: TestHosts
    let dfk: DataFlowKernel
    let htex: HighThroughputExecutor
    let folder: String
    private let seen = LockedValue<Set<Int32>>([])

    init(hosts names: [String]? = nil, workers: Int = 1, retries: Int = 0, heartbeatThreshold: Duration = .seconds(3),
         workerInit: String = "", channel: ((TestHosts, String, String) -> SSHChannel)? = nil) throws {
        let testHosts = try TestHosts.load()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-ssh-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
        hosts = testHosts
        folder = scratch
        let channels: [any Channel] = (names ?? testHosts.names).map { host in
            channel?(testHosts, host, "\(scratch)/\(host)") ?? testHosts.channel(host, scriptDir: "\(scratch)/\(host)")
        }
        htex = HighThroughputExecutor(label: "ssh", maxWorkers: workers, provider: AdHocProvider(channels: channels, workerInit: workerInit),
                                      heartbeatPeriod: .milliseconds(500), heartbeatThreshold: heartbeatThreshold)
        dfk = try DataFlowKernel(config: Config(executors: [htex], retries: retries, runDirectory: folder + "/runinfo",
                                                strategy: .none, python: PythonConfiguration(searchPaths: [samplesFolder])))
    }

    /// What the executor is doing now.
    var status: ExecutorStatus { dfk.executorStatus(htex.label)! }

    func python(_ function: String) throws -> PythonApp {
        try dfk.pythonApp(module: "engine_samples", function: function)
    }

    func rememberProcesses() { seen.set(seen.get().union(status.processIDs)) }

    /// Shuts down; checks that no manager or worker survived, on any host.
    func close() {
        rememberProcesses()
        dfk.shutdown()
        let pids = seen.get()
        #expect(eventually { pids.allSatisfy { !processExists($0) } }, "left behind: \(pids.filter(processExists))")
        for host in hosts.names {
            let left = (try? hosts.node("pids", host)) ?? ""
            #expect(!left.contains("sprig"), "left on \(host): \(left)")
        }
        try? FileManager.default.removeItem(atPath: folder)
    }
}

@Suite("The SSH ad-hoc provider", .serialized, .timeLimit(.minutes(3)))
struct SSHTests {
    @Test func aWorkflowSpreadsOverAllThreeHosts() throws {
        let h = try SSHHarness()
        defer { h.close() }
        #expect(eventually(timeout: .seconds(20)) { h.status.readyBlocks.count == 3 })
        h.rememberProcesses()
        let hostOf = try h.python("host_after")
        let hosts = try (0..<12).map { _ in hostOf(0.2) }.map { try $0.result(as: String.self) }
        #expect(Set(hosts).count == 3, "tasks ran on \(Set(hosts))")
        // Zero install: the code arrived through the stream and was unpacked in each host's script dir.
        for host in h.hosts.names {
            let unpacked = try FileManager.default.contentsOfDirectory(atPath: "\(h.folder)/\(host)").filter { $0.hasPrefix("sprig-") }
            #expect(unpacked.count == 1 && FileManager.default.fileExists(atPath: "\(h.folder)/\(host)/\(unpacked[0])/sprig/manager.py"))
        }
    }

    @Test func hostileScriptDirsAndWorkerInitSurviveTheSSHBoundary() throws {
        let hostile = "dir with 'quotes' $HOME; `x` and \"more\""
        let marker = "init ran: $SPRIG_TESTBED_HOST 'q' ;"
        let hosts = try TestHosts.load()
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-hostile-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: scratch) }
        let channel = SSHChannel(hostname: hosts.names[0], scriptDir: "\(scratch)/\(hostile)", configFile: hosts.config)
        let initLine = "echo \(shellQuote(marker)) > \(shellQuote(scratch + "/init.txt"))"
        let htex = HighThroughputExecutor(label: "hostile", maxWorkers: 1,
                                          provider: AdHocProvider(channels: [channel], workerInit: initLine))
        let dfk = try DataFlowKernel(config: Config(executors: [htex], runDirectory: scratch + "/runinfo", strategy: .none,
                                                    python: PythonConfiguration(searchPaths: [samplesFolder])))
        defer { dfk.shutdown() }
        #expect(try dfk.pythonApp(module: "engine_samples", function: "add")(2, 3).result(as: Int.self) == 5)
        #expect(FileManager.default.fileExists(atPath: "\(scratch)/\(hostile)"))
        #expect(try String(contentsOfFile: scratch + "/init.txt", encoding: .utf8) == marker + "\n")
    }

    @Test func sprigIsNotInstalledOnTheHosts() throws {
        let hosts = try TestHosts.load()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/ssh")
        process.arguments = ["-F", hosts.config, hosts.names[0], "python3 -c 'import sprig'"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus != 0)
    }

    @Test func aHostKilledMidRunLosesItsTasksToTheOthers() throws {
        let h = try SSHHarness(retries: 1)
        defer { h.close() }
        defer { _ = try? h.hosts.node("start", "hostB") }
        #expect(eventually(timeout: .seconds(20)) { h.status.readyBlocks.count == 3 })
        h.rememberProcesses()
        let hostOf = try h.python("host_after")
        let futures = (0..<9).map { _ in hostOf(1.0) }
        #expect(eventually { h.status.outstanding >= 3 })
        _ = try h.hosts.node("kill", "hostB")
        let ran = try futures.map { try $0.result(as: String.self) }
        #expect(ran.count == 9)
        #expect(!ran.contains("hostB") || ran.filter { $0 == "hostB" }.count < 3)
    }

    @Test func aHostUnreachableAtStartIsNamedAndTheOthersWork() throws {
        _ = try TestHosts.load().node("down", "hostC")
        defer { _ = try? TestHosts.load().node("up", "hostC") }
        let h = try SSHHarness()
        defer { h.close() }
        let hostOf = try h.python("host_after")
        let hosts = try (0..<6).map { _ in hostOf(0.05) }.map { try $0.result(as: String.self) }
        #expect(!hosts.contains("hostC"))
        #expect(eventually(timeout: .seconds(30)) { h.status.startFailures.values.contains { $0.contains("hostC") } },
                "failures: \(h.status.startFailures)")
    }

    /// A host whose profile prints (the article's `source ~/.profile`) still runs its block; the
    /// output is in the block's log. (It broke every block: "unknown frame type 105".)
    @Test func aChattyWorkerInitDoesNotBreakTheHost() throws {
        let h = try SSHHarness(hosts: ["hostA"], workerInit: "echo welcome to hostA; printf 'no newline'")
        defer { h.close() }
        #expect(try h.python("add")(2, 2).result(timeout: .seconds(30)).decode(Int.self) == 4)
        h.rememberProcesses()
        let log = try String(contentsOfFile: h.dfk.runFolder + "/ssh/block-0/block.stderr", encoding: .utf8)
        #expect(log.contains("welcome to hostA"), "\(log)")
    }

    /// Ctrl-C of a run over SSH closes its shared connection at once. (The multiplex master
    /// outlived the interrupted run by its 60 s ControlPersist.)
    @Test func anInterruptedRunLeavesNoSSHMaster() throws {
        let hosts = try TestHosts.load()
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Scripts/faults/ssh_hold.py").path
        setenv("SPRIG_SSH_CONFIG", hosts.config, 1)  // read by the child's SSHChannel
        let (process, _) = try startAndReadUntil("started", try builtBinary("sprig"), ["run", script, "hostA", folder + "/remote"])
        let masters = { Self.muxProcesses(in: SSHChannel.controlFolder) }
        #expect(!masters().isEmpty, "the run opened no shared connection")
        kill(process.processIdentifier, SIGINT)
        try waitBounded(process)
        #expect(process.terminationStatus == 130)
        #expect(eventually(timeout: .seconds(10)) { masters().isEmpty }, "masters left: \(masters())")
        for pid in masters() { kill(pid, SIGTERM) }  // the run's, started by this test
    }

    /// The ssh multiplex masters whose socket is in `folder` (their title is `ssh: <path> [mux]`).
    static func muxProcesses(in folder: String) -> [pid_t] {
        ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { name -> pid_t? in
            guard let pid = pid_t(name),
                  let line = try? String(contentsOfFile: "/proc/\(pid)/cmdline", encoding: .utf8) else { return nil }
            return line.contains(folder + "/") && line.contains("[mux]") ? pid : nil
        }
    }

    @Test func hostsWithAnotherCloudpickleOrNoneRunTheEnginesShippedCopy() throws {
        // hostA's python3 finds a cloudpickle of another version first, hostB's finds none at all.
        let fakes = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-fake-cloudpickle-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: fakes) }
        for (name, module) in [("other", "__version__ = '0.0.1'\n"), ("none", "raise ImportError('no cloudpickle on this host')\n")] {
            try FileManager.default.createDirectory(atPath: "\(fakes)/\(name)/cloudpickle", withIntermediateDirectories: true)
            try module.write(toFile: "\(fakes)/\(name)/cloudpickle/__init__.py", atomically: true, encoding: .utf8)
            let wrapper = "#!/bin/sh\nPYTHONPATH=\(fakes)/\(name)${PYTHONPATH:+:$PYTHONPATH} exec python3 \"$@\"\n"
            try wrapper.write(toFile: "\(fakes)/python-\(name)", atomically: true, encoding: .utf8)
            chmod("\(fakes)/python-\(name)", 0o755)
        }
        let wrappers = ["hostA": "\(fakes)/python-other", "hostB": "\(fakes)/python-none"]
        let h = try SSHHarness(hosts: ["hostA", "hostB"], workers: 1) { hosts, host, scriptDir in
            SSHChannel(hostname: host, scriptDir: scriptDir, configFile: hosts.config, python: wrappers[host]!)
        }
        defer { h.close() }
        // Both must have started (the point is that each runs the shipped copy), before the tasks,
        // which are quick enough for one host to take them all.
        #expect(eventually(timeout: .seconds(30)) { h.status.readyBlocks.count == 2 }, "failures: \(h.status.startFailures)")
        let triple = try h.dfk.pythonApp(Python.evaluate("lambda x: (x * 3, __import__('socket').gethostname())"))
        let results = try (0..<8).map { triple($0) }.map { try $0.result() }
        let hosts = Set(try results.map { try String(python: $0.toPython()[1]) })
        #expect(try results.map { try Int(python: $0.toPython()[0]) } == (0..<8).map { $0 * 3 })
        #expect(hosts == ["hostA", "hostB"], "ran on \(hosts)")
    }

    @Test func aHostWithAnotherPythonIsRefusedNamingBothVersions() throws {
        let hosts = try TestHosts.load()
        let other = try #require(hosts.values["SPRIG_SSH_OTHER_PYTHON"].flatMap { $0.isEmpty ? nil : $0 },
                                 "this machine has no python3 of another minor version for the test")
        let bin = try #require(hosts.values["SPRIG_SSH_HOST_BIN_hostC"])
        try? FileManager.default.removeItem(atPath: bin + "/python3")
        try FileManager.default.createSymbolicLink(atPath: bin + "/python3", withDestinationPath: other)
        defer { try? FileManager.default.removeItem(atPath: bin + "/python3") }
        let h = try SSHHarness(hosts: ["hostC"])
        defer { h.dfk.shutdown(); try? FileManager.default.removeItem(atPath: h.folder) }
        let error = try #require(throws: TaskError.self) { try h.python("add")(1, 2).result() }
        let version = hosts.values["SPRIG_SSH_OTHER_PYTHON_VERSION"] ?? "?"
        #expect(error.description.contains("hostC") && error.description.contains("Python \(version)") && error.description.contains("3.11"),
                "\(error)")
    }
}
