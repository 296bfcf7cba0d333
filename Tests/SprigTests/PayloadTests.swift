import Foundation
import PythonBridge
@testable import Sprig
import Testing

/// Large buffers between the engine and a local block's workers: pickle protocol 5, out of band,
/// through shared-memory segments (`python/sprig/PROTOCOL.md`, "Payloads").
@Suite("Large payloads", .serialized, .timeLimit(.minutes(2)))
struct PayloadTests {
    static let mebibyte = 1 << 20

    /// The run prefix the block's manager was given (read from its command line), once it runs.
    static func prefix(of h: ProcessHarness) throws -> String {
        #expect(h.waitForWorkers(1))
        let manager = try #require(h.status.processIDs.first)
        let words = try String(contentsOfFile: "/proc/\(manager)/cmdline", encoding: .utf8).split(separator: "\0").map(String.init)
        let index = try #require(words.firstIndex(of: "--shared-memory"), "the local block's manager got no --shared-memory")
        return words[index + 1]
    }

    /// The files of `prefix` in /dev/shm (segments and the probe).
    static func files(of prefix: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: PayloadSegments.folder)) ?? []).filter { $0.hasPrefix(prefix + "-") }.sorted()
    }

    static func segments(of prefix: String) -> [String] { files(of: prefix).filter { !$0.hasSuffix("-probe") } }

    @Test func largeBytesBytearrayAndMemoryviewRoundTripThroughSegments() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        let prefix = try Self.prefix(of: h)
        let big = try Python.importModule("engine_samples").attribute("make_payload").call(Self.mebibyte)
        let values = try withGIL {
            try PythonTuple(elements: [big, try PythonSide.builtin("bytearray").call([big]),
                                       try PythonSide.builtin("memoryview").call([big]), try "small".toPython()]).toPython()
        }
        let echoed = try h.python("identity")(values)
        guard case .pickled(let pickled) = try echoed.result() else { Issue.record("the result should stay pickled"); return }
        // The pipe carried names, not megabytes; the result's buffers wait in segments of this run.
        #expect(pickled.bytes.count < 4096)
        let names = try #require(pickled.lease?.names)
        #expect(names.count == 3 && names.allSatisfy { $0.hasPrefix(prefix + "-") })
        #expect(Set(Self.segments(of: prefix)) == Set(names))  // the arguments' were consumed
        let kinds = try h.python("payload_kinds")(echoed)
        let described = try kinds.result(as: PythonObject.self).description
        #expect(described == "[('tuple', 4)]")
        let check = try Python.runMain("""
            def check_echo(value, big):
                return (type(value[0]) is bytes and value[0] == big and type(value[1]) is bytearray and value[1] == big
                        and type(value[2]) is memoryview and bytes(value[2]) == big and value[3] == "small")
            """).attribute("check_echo")
        #expect(try withGIL { try Bool(python: check.call([try pickled.load(), big])) })
        #expect(Set(Self.segments(of: prefix)) == Set(names))  // reading it here and in a worker consumed nothing
    }

    @Test func aReleasedResultUnlinksItsSegmentsAndShutdownSweepsTheRest() throws {
        let h = try ProcessHarness()
        let prefix = try Self.prefix(of: h)
        do {
            let payload = try h.python("make_payload")
            let results = (0..<4).map { _ in payload(Self.mebibyte) }
            for result in results { _ = try result.result() }
            #expect(Self.segments(of: prefix).count == 4)
            let small = try payload(1024).result()
            guard case .pickled(let plain) = small else { Issue.record("expected a pickled result"); return }
            #expect(plain.lease == nil && plain.bytes.first == 0x80)  // small: a plain pickle
        }
        // The futures are gone: so is everything that could read the segments, and so are they.
        #expect(eventually { Self.segments(of: prefix).isEmpty }, "left: \(Self.segments(of: prefix))")
        let held = try h.python("make_payload")(2 * Self.mebibyte)
        _ = try held.result()
        #expect(Self.segments(of: prefix).count == 1)
        h.close()
        #expect(Self.files(of: prefix).isEmpty, "left after shutdown: \(Self.files(of: prefix))")
        // A result still held after shutdown is still readable: its bytes were kept inline.
        guard case .pickled(let kept) = try held.result() else { Issue.record("expected a pickled result"); return }
        #expect(kept.lease != nil)
        #expect(try withGIL { try Int(python: try PythonSide.builtin("len").call([try kept.load()])) } == 2 * Self.mebibyte)
    }

    @Test func aWorkerKilledMidTaskLeavesNoSegmentBehind() throws {
        let h = try ProcessHarness(retries: 0)
        let prefix = try Self.prefix(of: h)
        let marker = h.path("pid")
        let big = try Python.importModule("engine_samples").attribute("make_payload").call(Self.mebibyte)
        let held = try h.python("pid_then_hold")(marker, big, 60.0)
        #expect(eventually { FileManager.default.fileExists(atPath: marker) })
        h.rememberProcesses()
        kill(try #require(Int32(String(contentsOfFile: marker, encoding: .utf8))), SIGKILL)
        let error = try #require(throws: TaskError.self) { try held.result() }
        guard case .workerLost = error.reason else { Issue.record("expected workerLost, got \(error)"); return }
        // Its argument segment was taken when the task started: what is left is the dead worker's spare.
        #expect(Self.segments(of: prefix).count <= 1, "left: \(Self.segments(of: prefix))")
        // A worker killed after writing a result segment it never reported: the sweep at shutdown removes it.
        let orphan = "\(prefix)-1-deadbeefdeadbeef"
        #expect(FileManager.default.createFile(atPath: PayloadSegments.folder + "/" + orphan, contents: Data(count: 10)))
        h.close()
        #expect(Self.files(of: prefix).isEmpty, "left after shutdown: \(Self.files(of: prefix))")
    }

    @Test func aTaskWhoseSegmentVanishedFailsNamingTheTaskAndTheSegment() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        let prefix = try Self.prefix(of: h)
        let made = try h.python("make_payload")(Self.mebibyte)
        _ = try made.result()
        let names = Self.segments(of: prefix)
        #expect(names.count == 1)
        for name in names { unlink(PayloadSegments.folder + "/" + name) }  // gone before anyone read it
        // The task it is forwarded to fails (no hang), naming itself and the segment.
        let victim = try h.python("identity")(made)
        let error = try #require(throws: TaskError.self) { try victim.result() }
        guard case .serialization(let message) = error.reason else { Issue.record("expected a serialization error, got \(error)"); return }
        #expect(message.contains("task \(victim.taskID)") && message.contains(names[0]) && message.contains("cannot be opened"))
        // Read here, it is a Python error naming the segment; the engine goes on.
        let local = try #require(throws: PythonError.self) { try made.result(as: PythonObject.self) }
        #expect(local.message.contains(names[0]))
        #expect(try h.python("add")(2, 3).result(as: Int.self) == 5)
    }

    @Test func probesOfEnginesThatAreGoneAreRemovedAtStart() throws {
        var dead: Int32 = 4_000_000
        while kill(dead, 0) == 0 || errno != ESRCH { dead -= 1 }
        let stale = PayloadSegments.folder + "/sprig-\(dead)-0123456789ab-probe"
        let alive = PayloadSegments.folder + "/sprig-1-0123456789ab-probe"  // pid 1 runs
        for path in [stale, alive] { #expect(FileManager.default.createFile(atPath: path, contents: nil)) }
        defer { unlink(alive) }
        let h = try ProcessHarness()
        defer { h.close() }
        #expect(try h.python("add")(1, 2).result(as: Int.self) == 3)
        #expect(!FileManager.default.fileExists(atPath: stale) && FileManager.default.fileExists(atPath: alive))
    }

    @Test func aCheckpointedLargeResultIsReadableAfterItsSegmentsAreGone() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-payload-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func run() throws -> (Int, Bool) {
            var config = Config(executors: [HighThroughputExecutor(label: "htex", maxWorkers: 1,
                                                                   provider: LocalProvider(initBlocks: 1, maxBlocks: 1))],
                                runDirectory: "\(folder)/runinfo", python: PythonConfiguration(searchPaths: [samplesFolder]))
            config.checkpoints = Checkpoints(mode: .taskExit)
            let dfk = try DataFlowKernel(config: config)
            defer { dfk.shutdown() }
            let made = try dfk.pythonApp(module: "engine_samples", function: "make_payload", options: AppOptions(cache: .arguments))(2 * Self.mebibyte)
            guard case .pickled(let pickled) = try made.result() else { throw ConversionError(message: "not pickled") }
            let size = try withGIL { try Int(python: try PythonSide.builtin("len").call([try pickled.load()])) }
            return (size, pickled.lease != nil)
        }
        let first = try run()
        #expect(first == (2 * Self.mebibyte, true))  // from a worker, through a segment
        let again = try run()
        #expect(again == (2 * Self.mebibyte, false))  // from the checkpoint: the bytes inline, no segment
    }

    /// The engine leases exactly the segments each vector of `contracts/payloads/` names.
    @Test func segmentNamesOfTheContractVectors() throws {
        let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../contracts/payloads").standardizedFileURL
        let cases = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".json") }.sorted()
        #expect(cases.count >= 2)
        for name in cases {
            let meaning = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent(name))) as! [String: Any]
            let bytes = [UInt8](try Data(contentsOf: folder.appendingPathComponent(String(name.dropLast(5)) + ".bin")))
            let buffers = meaning["buffers"] as! [[String: Any]]
            let expected = buffers.filter { $0["place"] as? String == "segment" }.map { $0["name"] as! String }
            #expect(PayloadSegments.segmentNames(in: bytes) == expected, "\(name)")
            #expect(meaning["protocol"] as? Int == managerProtocolVersion)
        }
        #expect(PayloadSegments.segmentNames(in: [0x80, 0x05, 0x4B, 0x05, 0x2E]).isEmpty)  // a plain pickle
        #expect(PayloadSegments.segmentNames(in: Array("SPRO".utf8) + [1, 0, 0, 0, 1, 2]).isEmpty)  // truncated
        #expect(!SegmentLease.isSprigName("sprig-../../etc/passwd") && SegmentLease.isSprigName("sprig-1-ab_c"))
    }
}

/// A `sprig run` killed with SIGKILL while large payloads are in flight (arguments waiting and
/// taken, results held) leaves nothing of its run in `/dev/shm` once its block's processes end.
@Suite("Payload segments after SIGKILL", .serialized, .timeLimit(.minutes(2)))
struct PayloadKillTests {
    @Test func aKilledEngineLeavesNoSegmentOnceItsWorkersEnd() throws {
        let folder = try scratchFolder()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let process = try launchSprig(["run", "\(scriptsFolder)/payloads_until_killed.py"], in: folder)
        let prefix = "sprig-\(process.processIdentifier)-"
        let run = { (try? FileManager.default.contentsOfDirectory(atPath: PayloadSegments.folder))?.filter { $0.hasPrefix(prefix) } ?? [] }
        let pidsFolder = folder + "/pids"
        let busy = eventually(timeout: .seconds(60)) {
            FileManager.default.fileExists(atPath: folder + "/ready")
                && ((try? FileManager.default.contentsOfDirectory(atPath: pidsFolder))?.count ?? 0) >= 2
        }
        let before = run()
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try #require(busy, "the run did not get going")
        // The probe and the two arguments the workers took (their spares now) at least; under
        // `sprig run` a result is read into Python and its segment unlinked at once.
        #expect(before.count >= 3, "\(before)")

        var pids: Set<Int32> = []
        for name in try FileManager.default.contentsOfDirectory(atPath: pidsFolder) {
            let text = (try? String(contentsOfFile: pidsFolder + "/" + name, encoding: .utf8)) ?? ""
            for word in text.split(whereSeparator: { $0 == " " || $0 == "\n" }) { if let pid = Int32(word) { pids.insert(pid) } }
        }
        #expect(pids.count >= 3)  // two workers and their manager
        let gone = eventually(timeout: .seconds(30)) { pids.allSatisfy { !processExists($0) } }
        for pid in pids where processExists(pid) { kill(pid, SIGKILL) }
        #expect(gone, "left behind: \(pids.filter(processExists).sorted())")
        let left = run()
        for name in left { unlink(PayloadSegments.folder + "/" + name) }
        #expect(left.isEmpty, "left in /dev/shm: \(left)")
    }
}

/// An engine that starts removes what killed runs left in `/dev/shm` when their managers died too,
/// and only theirs: a run is removed when its probe names a process of this PID namespace that
/// has ended; a probe naming a live process or another namespace keeps its run.
@Suite("Payload segments of killed runs", .serialized, .timeLimit(.minutes(1)))
struct StaleRunTests {
    @Test func aStartingEngineRemovesTheRunsOfEnginesThatAreGone() throws {
        let ended = Process()
        ended.executableURL = URL(fileURLWithPath: "/bin/true")
        try ended.run()
        ended.waitUntilExit()
        let me = try #require(ProcessIdentity.current)
        let runs: [(prefix: String, owner: String, removed: Bool)] = [
            ("sprig-\(ended.processIdentifier)-aaaaaaaaaaa1", "\(ended.processIdentifier) \(me.startTime) \(me.namespace)", true),
            ("sprig-\(ended.processIdentifier)-aaaaaaaaaaa2", "\(me.pid) \(me.startTime) \(me.namespace)", false),  // alive
            ("sprig-\(ended.processIdentifier)-aaaaaaaaaaa3", "\(ended.processIdentifier) 1 pid:[1]", false),  // another namespace
        ]
        var files: [String] = []
        defer { for file in files { unlink(file) } }
        for run in runs {
            for (suffix, content) in [("probe", run.owner + "\n"), ("\(ended.processIdentifier)-0123456789abcdef", "payload")] {
                let path = "\(PayloadSegments.folder)/\(run.prefix)-\(suffix)"
                try #require(FileManager.default.createFile(atPath: path, contents: Data(content.utf8), attributes: [.posixPermissions: 0o600]))
                files.append(path)
            }
        }
        let segments = PayloadSegments()
        try #require(segments.makeProbe())
        defer { segments.sweep() }
        #expect(try String(contentsOfFile: "\(PayloadSegments.folder)/\(segments.prefix)-probe", encoding: .utf8) == me.text + "\n")
        for run in runs {
            let left = (try FileManager.default.contentsOfDirectory(atPath: PayloadSegments.folder)).filter { $0.hasPrefix(run.prefix + "-") }
            #expect(left.count == (run.removed ? 0 : 2), "\(run.prefix): \(left)")
        }
    }
}
