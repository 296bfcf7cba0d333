import Foundation
@testable import Sprig
import Testing

@Suite("The Slurm provider", .serialized, .timeLimit(.minutes(3)))
struct SlurmTests {
    @Test func appsRunInABlockOnTheSingleNodeCluster() throws {
        let h = try SlurmHarness("local")
        defer { h.close() }
        let started = ContinuousClock.now
        #expect(try h.python("add")(2, 3).result(as: Int.self) == 5)
        let firstResult = ContinuousClock.now - started
        #expect(h.status.readyBlocks.count == 1)
        #expect(h.cluster.jobs(named: h.jobPrefix).count == 1)
        let results = try (0..<20).map { try h.python("add")($0, 1) }.map { try $0.result(as: Int.self) }
        #expect(results == Array(1...20))
        // The submit script is private: it holds the run's secret.
        var info = stat()
        #expect(stat("\(h.runDirectory)/submit_scripts/block-0.sbatch", &info) == 0 && info.st_mode & 0o077 == 0)
        print("slurm: sbatch to first result \(firstResult)")
    }

    @Test(arguments: [SlurmLauncher.singleNode(), .simple(), .srun(overrides: "--quiet", debug: false)])
    func everyLauncherStartsTheBlock(launcher: SlurmLauncher) throws {
        let h = try SlurmHarness("local", launcher: launcher)
        defer { h.close() }
        #expect(try h.python("add")(40, 2).result(as: Int.self) == 42)
        let script = try h.submitScript(0)
        #expect(script.contains("srun ") == (launcher.name == "SrunLauncher"))
        #expect(script.contains("--quiet") == (launcher.name == "SrunLauncher"))
    }

    @Test func threeBlocksSpreadOverTheThreeNodeClusterAndConnectBackAcrossTheBridge() throws {
        let h = try SlurmHarness("netns", blocks: 3, exclusive: true)
        defer { h.close() }
        #expect(eventually(timeout: .seconds(30)) { h.status.readyBlocks.count == 3 })
        let hosts = try (0..<9).map { _ in try h.python("host_after")(0.3) }.map { try $0.result(as: String.self) }
        #expect(Set(hosts) == Set(h.cluster.nodes), "tasks ran on \(Set(hosts))")
        #expect(h.blockLog(0).contains("manager connected from 10.200."), "\(h.blockLog(0))")
    }

    @Test func aJobCancelledMidTaskLosesItsTaskWhichIsRetriedInTheOtherBlock() throws {
        let h = try SlurmHarness("netns", blocks: 2, retries: 1, exclusive: true)
        defer { h.close() }
        #expect(eventually(timeout: .seconds(30)) { h.status.readyBlocks.count == 2 })
        let future = try h.python("host_after")(3.0)
        try #require(eventually(timeout: .seconds(10)) { h.status.blocks.contains { $0.outstanding > 0 } })
        let victim = try #require(h.status.blocks.first { $0.outstanding > 0 }).number
        let job = try #require(h.cluster.jobs(named: h.jobPrefix + "\(victim)").first)
        let cancelled = ContinuousClock.now
        try h.cluster.run(["scancel", job])
        #expect(eventually(timeout: .seconds(10)) { h.status.ended.contains { $0.number == victim } })
        let noticed = ContinuousClock.now - cancelled
        let ended = try #require(h.status.ended.first { $0.number == victim })
        #expect(ended.failure != nil, "the lost block counts as a failure")
        #expect(ended.failure?.contains("slurm job \(job) ended: CANCELLED") == true, "the scheduler's word: \(ended.failure ?? "")")
        #expect(try future.result(as: String.self).hasPrefix("node"))
        print("slurm: scancel noticed after \(noticed)")
    }

    @Test func aNodeKilledMidTaskIsNoticedFromTheConnectionAndTheTaskRunsElsewhere() throws {
        let h = try SlurmHarness("netns", blocks: 2, retries: 1, exclusive: true)
        defer { h.close() }
        #expect(eventually(timeout: .seconds(30)) { h.status.readyBlocks.count == 2 })
        let future = try h.python("host_after")(3.0)
        try #require(eventually(timeout: .seconds(10)) { h.status.blocks.contains { $0.outstanding > 0 } })
        let victim = try #require(h.status.blocks.first { $0.outstanding > 0 }).number
        let job = try #require(h.cluster.jobs(named: h.jobPrefix + "\(victim)").first)
        let node = try h.cluster.run(["squeue", "--noheader", "--format=%N", "--jobs=" + job]).trimmingCharacters(in: .whitespacesAndNewlines)
        try #require(h.cluster.nodes.contains(node), "job \(job) runs on '\(node)'")
        let killed = ContinuousClock.now
        try h.cluster.run(["/bin/bash", h.cluster.nodeScript, "netns", "kill", node])
        defer { _ = try? h.cluster.run(["/bin/bash", h.cluster.nodeScript, "netns", "start", node]) }
        #expect(eventually(timeout: .seconds(10)) { h.status.ended.contains { $0.number == victim } })
        let noticed = ContinuousClock.now - killed
        let survivor = try future.result(as: String.self)
        #expect(survivor != node && survivor.hasPrefix("node"))
        _ = try h.cluster.run(["/bin/bash", h.cluster.nodeScript, "netns", "start", node])
        print("slurm: node kill noticed after \(noticed)")
    }

    @Test func twoNodesPerBlockMakeOneJobWhoseNodesEachRunAManager() throws {
        let h = try SlurmHarness("netns", blocks: 1, exclusive: true, nodesPerBlock: 2)
        defer { h.close() }
        #expect(eventually(timeout: .seconds(30)) { h.status.readyBlocks.count == 2 })
        let jobs = h.cluster.jobs(named: h.jobPrefix)
        #expect(jobs.count == 1, "\(jobs)")
        let nodes = try h.cluster.run(["squeue", "--noheader", "--format=%D", "--jobs=" + (jobs.first ?? "0")])
        #expect(nodes.trimmingCharacters(in: .whitespacesAndNewlines) == "2")
        let hosts = try (0..<6).map { _ in try h.python("host_after")(0.3) }.map { try $0.result(as: String.self) }
        #expect(Set(hosts).count == 2, "tasks ran on \(Set(hosts))")
    }

    @Test(.timeLimit(.minutes(3)))
    func aJobKilledByItsWalltimeLosesItsTaskWhichARetryInANewBlockFinishes() throws {
        // No drain: the task outlives the job's minute; Slurm kills the job (its time-limit check
        // runs every 30 s), the block is lost, the `simple` strategy starts another, the retry runs there.
        let h = try SlurmHarness("local", retries: 1, strategy: .simple(idleTime: .seconds(120)), walltime: "00:01:00",
                                 drainBefore: .zero)
        defer { h.close() }
        let marker = h.folder + "/first-try"
        let future = try h.python("slow_the_first_time")(marker, 300.0)
        #expect(try future.result(as: String.self).isEmpty == false)
        let lost = try #require(h.status.ended.first { $0.number == 0 })
        #expect(lost.failure != nil, "block 0 was lost, not stopped")
        #expect(lost.failure?.contains("ended: TIMEOUT") == true, "the block's error has the job's final state: \(lost.failure ?? "")")
        #expect(h.blockLog(0).contains("ended: TIMEOUT"), "\(h.blockLog(0))")
        #expect(h.status.readyBlocks.contains { $0.number >= 1 })
    }

    @Test func aCaptureOfTheTrafficOnTheClusterNetworkHoldsNoPlaintext() throws {
        let h = try SlurmHarness("netns", exclusive: true)
        defer { h.close() }
        #expect(eventually(timeout: .seconds(30)) { h.status.readyBlocks.count == 1 })
        // Every frame crossing the cluster's bridge, read with a raw socket until stdin closes.
        let sniffer = """
            import select, socket, sys
            raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.ntohs(3))
            raw.bind(("sprig-sbr0", 0))
            print("ready", flush=True)
            seen = bytearray()
            while True:
                ready, _, _ = select.select([raw, sys.stdin], [], [], 10)
                if raw in ready:  # (drained first: frames still queued when stdin closes count)
                    seen += raw.recv(65536)
                elif sys.stdin in ready or not ready:
                    break
            marker = sys.argv[1].encode()
            print(len(seen), marker in seen, b"cloudpickle" in seen, flush=True)
            """
        let marker = "sprig-plaintext-marker-\(UUID().uuidString)"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", sniffer, marker]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let reader = output.fileHandleForReading
        #expect(String(decoding: reader.availableData, as: UTF8.self).hasPrefix("ready"))
        #expect(try h.python("identity")(String(repeating: marker, count: 20)).result(as: String.self).count == marker.count * 20)
        try input.fileHandleForWriting.close()
        let said = String(decoding: reader.readDataToEndOfFile(), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
            .split(separator: " ")
        process.waitUntilExit()
        #expect(said.count == 3 && (Int(said[0]) ?? 0) > marker.count * 40, "captured \(said)")
        #expect(said.count == 3 && said[1] == "False" && said[2] == "False", "plaintext on the wire: \(said)")
    }

    @Test func aPendingJobSaysWhyAndIsNotTakenForASilentManagerAndShutdownCancelsIt() throws {
        let h = try SlurmHarness("local", schedulerOptions: "#SBATCH --begin=now+1hour", heartbeatThreshold: .seconds(2))
        defer { h.close() }
        #expect(eventually(timeout: .seconds(10)) { h.blockLog(0).contains("is pending (BeginTime)") }, "\(h.blockLog(0))")
        #expect(h.status.blocks.first?.waitingFor?.contains("pending: BeginTime") == true)
        // Past the heartbeat threshold the block still waits: its stream speaks for it.
        #expect(!eventually(timeout: .seconds(3)) { !h.status.ended.isEmpty }, "\(h.status.ended)")
        #expect(h.cluster.jobs(named: h.jobPrefix).count == 1)
    }

    @Test func aBlockNearItsWalltimeDrainsAndFinishesItsTaskFirst() throws {
        // A 1-minute job drains 50 s before its end: 10 s after it runs.
        let h = try SlurmHarness("local", walltime: "00:01:00", drainBefore: .seconds(50))
        defer { h.close() }
        let long = try h.python("sleep_then")(12.0, "done")
        #expect(try long.result(as: String.self) == "done")
        #expect(eventually(timeout: .seconds(15)) { h.status.ended.contains { $0.number == 0 } })
        #expect(h.status.ended.first { $0.number == 0 }?.failure == nil, "drained, not lost")
        #expect(h.blockLog(0).contains("the block drains"))
        #expect(eventually(timeout: .seconds(10)) { h.cluster.jobs(named: h.jobPrefix).isEmpty })
    }

    @Test func peersWithoutTLSOrWithAWrongSecretAreDroppedAndTheRunCarriesOn() throws {
        // The job waits 3 s before its connector starts, so the strangers come first.
        let h = try SlurmHarness("local", workerInit: "sleep 3")
        defer { h.close() }
        var port = 0
        try #require(eventually(timeout: .seconds(10)) {
            guard let line = h.blockLog(0).split(separator: "\n").first(where: { $0.contains("listening on") }),
                  let value = line.split(separator: ":").last.flatMap({ Int($0) }) else { return false }
            port = value
            return true
        })
        let script = try h.submitScript(0)
        let details = try #require(script.split(separator: "\n").first { $0.hasPrefix("{\"") })
        let stranger = """
            import json, socket, ssl, sys, time
            sys.path.insert(0, \(pythonLiteral(packageFolder + "/python")))
            from sprig import connector
            config = json.loads(sys.stdin.readline())
            # A silent stranger first: it is checked on its own, so it holds up none of the others.
            silent = socket.create_connection((config["address"], config["port"]))
            started = time.monotonic()
            plain = socket.create_connection((config["address"], config["port"]))
            plain.sendall(b"\\x00" * 64)
            plain.settimeout(5)
            try:
                while plain.recv(100): pass
            except OSError: pass
            print("plain dropped after %.2f s" % (time.monotonic() - started))
            silent.settimeout(5)
            try:
                while silent.recv(100): pass
            except OSError: pass
            print("silent dropped after %.2f s" % (time.monotonic() - started))
            def attempt(what, **wrong):
                try:
                    connector.connect(dict(config, **wrong))
                    print(what + " accepted")
                except (OSError, ConnectionError) as exc:
                    print(what + " refused: %s" % exc)
            attempt("wrong certificate", fingerprint="00" * 32)
            attempt("wrong secret", secret="00" * 32)
            """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", stranger]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var fields = try #require(try JSONSerialization.jsonObject(with: Data(details.utf8)) as? [String: Any])
        fields["port"] = port
        fields["block"] = 0
        input.fileHandleForWriting.write(try JSONSerialization.data(withJSONObject: fields) + Data("\n".utf8))
        try input.fileHandleForWriting.close()
        let said = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        #expect(said.contains("plain dropped after"), "\(said)")
        let seconds = said.split(separator: "\n").first.flatMap { $0.split(separator: " ").dropFirst(3).first }.flatMap { Double($0) }
        #expect((seconds ?? 9) < 0.8, "the plain peer waited for the silent one: \(said)")
        let silent = said.split(separator: "\n").first { $0.hasPrefix("silent dropped after") }
            .flatMap { $0.split(separator: " ").dropFirst(3).first }.flatMap { Double($0) }
        #expect((silent ?? 9) < 2.5, "\(said)")
        #expect(said.contains("wrong certificate refused"), "\(said)")
        #expect(said.contains("wrong secret refused"), "\(said)")
        #expect(try h.python("add")(1, 2).result(as: Int.self) == 3)
        #expect(h.blockLog(0).contains("dropped a connection"))
    }

    @Test func theSecretIsInNoProcessArgumentsAndNoFileOthersMayRead() throws {
        let h = try SlurmHarness("local")
        defer { h.close() }
        #expect(try h.python("add")(1, 1).result(as: Int.self) == 2)
        let script = try h.submitScript(0)
        let details = try #require(script.split(separator: "\n").first { $0.hasPrefix("{\"") })
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(details.utf8)) as? [String: Any])
        let secret = try #require(fields["secret"] as? String)
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let carrying = entries.compactMap(Int32.init).filter { pid in
            let data = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline") ?? Data()
            return String(decoding: data, as: UTF8.self).contains(secret)
        }
        #expect(carrying.isEmpty, "the secret is in the arguments of \(carrying)")
        // Every file of the run and of the cluster's spool holding it is private to its owner.
        for root in [h.folder, h.cluster.values["SPRIG_SLURM_DIR"] ?? ""] where !root.isEmpty {
            let walker = FileManager.default.enumerator(atPath: root)
            while let relative = walker?.nextObject() as? String {
                let path = root + "/" + relative
                var info = stat()
                guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG, info.st_size < 4_000_000,
                      let text = FileManager.default.contents(atPath: path), String(decoding: text, as: UTF8.self).contains(secret) else { continue }
                #expect(info.st_mode & 0o044 == 0, "\(path) holds the secret and others may read it")
            }
        }
    }

    @Test func anAddressThisMachineDoesNotHaveFailsTheBlockNamingIt() throws {
        let cluster = try TestCluster.load("local")
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let htex = HighThroughputExecutor(label: "far", maxWorkers: 1, provider: SlurmProvider(
            environment: ["SLURM_CONF": cluster.conf]), address: "192.0.2.1")
        let dfk = try DataFlowKernel(config: Config(executors: [htex], runDirectory: folder, strategy: .none))
        defer { dfk.shutdown() }
        #expect(eventually(timeout: .seconds(10)) { !(dfk.executorStatus("far")?.startFailures.isEmpty ?? true) })
        let message = dfk.executorStatus("far")?.startFailures.values.joined(separator: " / ") ?? ""
        #expect(message.contains("block 0") && message.contains("192.0.2.1") && message.contains("cannot listen"), "\(message)")
        #expect(cluster.jobs(named: "sprig.").isEmpty, "nothing was submitted")
    }

    @Test func squeueLinesBecomeJobStatesAndClusterHeadersAreSkipped() {
        let states = SlurmJobState.parse(squeue: "CLUSTER: one\n12 PD Resources\n13 R None\n14 TO None\n15 CG None\n16 NF None\n")
        #expect(states["12"] == .pending(reason: "Resources"))
        #expect(states["13"] == .running && states["15"] == .running)
        #expect(states["14"] == .ended("TIMEOUT") && states["16"] == .ended("NODE_FAIL"))
        #expect(states.count == 5)
    }

    @Test func theReadmesSwiftConfigBuildsTheSbatchLinesItNames() throws {
        let cluster = HighThroughputExecutor(label: "cluster", maxWorkers: 16, provider: SlurmProvider(
            partition: "compute", account: "proj42", maxBlocks: 8, walltime: "01:00:00",
            schedulerOptions: "#SBATCH --gres=gpu:1", workerInit: "module load python/3.11", launcher: .srun()),
            address: "10.1.0.5")
        let provider = try #require(cluster.provider as? SlurmProvider)
        let text = try SubmitScript(provider: provider, block: 3, jobName: "sprig.000.block-3", outputPath: "/o", errorPath: "/e",
                                    connectLine: "{\"secret\": \"s\"}", connectorSource: "pass").text()
        for line in ["#SBATCH --partition=compute", "#SBATCH --account=proj42", "#SBATCH --time=60", "#SBATCH --exclusive",
                     "#SBATCH --gres=gpu:1", "#SBATCH --nodes=1", "module load python/3.11"] {
            #expect(text.contains(line + "\n"), "no \(line) in\n\(text)")
        }
        #expect(text.contains("| srun --ntasks=1 --ntasks-per-node=1 --nodes=1 python3 -X utf8 -c pass"))
        #expect(throws: ProviderError.self) { try SubmitScript.minutes("ten minutes") }
        #expect(try SubmitScript.minutes("1-00:00:30") == 1441)
    }

    /// Prints figures, asserts none: no-op tasks through a Slurm block and through a local block
    /// with the same workers, and one-task round trips through each.
    @Test func noOpRateThroughASlurmBlockAgainstALocalBlock() throws {
        func measure(_ dfk: DataFlowKernel) throws -> (rate: Double, latency: Duration) {
            let noop = try dfk.pythonApp(module: "engine_samples", function: "noop")
            _ = try noop().result(as: Int?.self)
            let count = 3000
            let started = ContinuousClock.now
            let futures = (0..<count).map { _ in noop() }
            for future in futures { _ = try future.result(as: Int?.self) }
            let rate = Double(count) / (ContinuousClock.now - started).seconds
            let one = ContinuousClock.now
            for _ in 0..<200 { _ = try noop().result(as: Int?.self) }
            return (rate, (ContinuousClock.now - one) / 200)
        }
        let h = try SlurmHarness("local", workers: 2, python: try SlurmHarness.embeddedPython())
        defer { h.close() }
        let slurm = try measure(h.dfk)
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let local = try DataFlowKernel(config: Config(executors: [HighThroughputExecutor(label: "local", maxWorkers: 2)],
                                                      runDirectory: folder, strategy: .none,
                                                      python: PythonConfiguration(searchPaths: [samplesFolder])))
        defer { local.shutdown() }
        let here = try measure(local)
        print(String(format: "slurm: no-op %.0f tasks/s through a Slurm block, %.0f through a local block (%.0f%%); round trip %.0f µs against %.0f µs",
                     slurm.rate, here.rate, 100 * slurm.rate / here.rate, slurm.latency.seconds * 1e6, here.latency.seconds * 1e6))
    }

    /// Prints figures, asserts none: the CPU time this process and its reaped children spend per
    /// no-op task through a Slurm block (a burst, then one at a time), which a loaded machine
    /// disturbs far less than rates; and this process's alone through a local block; and the
    /// Slurm job's processes' (the node's side: manager, workers, whatever carries the stream). Measured until
    /// the block is gone, so that a relay process, where there is one, is counted (the Slurm
    /// block's manager and workers are not this process's children; a local block's are, and are
    /// left out).
    @Test func submitSideCPUPerNoOpTaskThroughASlurmBlock() throws {
        func cpuSeconds(children counted: Bool) -> Double {
            var own = rusage(), children = rusage()
            getrusage(RUSAGE_SELF.rawValue, &own)
            getrusage(RUSAGE_CHILDREN.rawValue, &children)
            return (counted ? [own.ru_utime, own.ru_stime, children.ru_utime, children.ru_stime] : [own.ru_utime, own.ru_stime])
                .reduce(0) { $0 + Double($1.tv_sec) + Double($1.tv_usec) / 1e6 }
        }
        func perTask(_ dfk: DataFlowKernel, children: Bool, before: () -> Void = {}, until done: () -> Void) throws -> Double {
            let noop = try dfk.pythonApp(module: "engine_samples", function: "noop")
            _ = try noop().result(as: Int?.self)
            before()
            let (burst, serial) = (3000, 500)
            let started = cpuSeconds(children: children)
            let futures = (0..<burst).map { _ in noop() }
            for future in futures { _ = try future.result(as: Int?.self) }
            for _ in 0..<serial { _ = try noop().result(as: Int?.self) }
            done()
            return (cpuSeconds(children: children) - started) / Double(burst + serial)
        }
        let h = try SlurmHarness("local", workers: 2, python: try SlurmHarness.embeddedPython())
        var node = (start: 0.0, end: 0.0)
        let slurm = try perTask(h.dfk, children: true, before: { node.start = h.jobCPUSeconds() }) {
            node.end = h.jobCPUSeconds()
            h.close()
        }
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let local = try DataFlowKernel(config: Config(executors: [HighThroughputExecutor(label: "local", maxWorkers: 2)],
                                                      runDirectory: folder, strategy: .none,
                                                      python: PythonConfiguration(searchPaths: [samplesFolder])))
        // Without children: a local block's manager and workers are this process's children.
        let here = try perTask(local, children: false) { local.shutdown() }
        print(String(format: "slurm: submit-side CPU per no-op task %.0f µs through a Slurm block, %.0f µs through a local block "
                     + "(3000 in a burst, 500 one at a time); the Slurm job's processes %.0f µs", slurm * 1e6, here * 1e6,
                     (node.end - node.start) / 3500 * 1e6))
    }

    @Test func theParslSlurmExampleRunsUnderTheSprigCommand() throws {
        let cluster = try TestCluster.load("local")
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try runSprig(["run", packageFolder + "/Examples/parsl/slurm.py"], in: folder,
                               environment: ["SLURM_CONF": cluster.conf, "SPRIG_SLURM_SUBMIT_ADDR": cluster.submitAddress])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout.split(separator: "\n").last == "285")
        #expect(cluster.jobs(named: "sprig.").isEmpty)
        #expect(listeningPorts(in: HighThroughputExecutor.defaultWorkerPortRange).isEmpty)
    }
}
