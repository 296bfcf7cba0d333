import Foundation
import Sprig
import Testing

/// App caching and checkpoints, end to end: real `sprig run` processes killed with SIGKILL, real
/// SQLite stores, real Swift kernels.
@Suite(.serialized)
struct CheckpointTests {
    static let scripts = "\(scriptsFolder)/checkpoints"

    private static func scratch() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-ckpt-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    /// How many times each call ran: side-effect files named `<app>-<i>-<id>` counted by `<app>-<i>`
    /// (`parts` 2), or `<app>-<id>` by app (`parts` 1).
    private static func executions(in folder: String, parts: Int = 2) -> [String: Int] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: "\(folder)/side")) ?? []
        var counts: [String: Int] = [:]
        for name in names { counts[name.split(separator: "-").prefix(parts).joined(separator: "-"), default: 0] += 1 }
        return counts
    }

    /// Processes whose environment holds `SPRIG_TEST_MARK=<mark>`: the engine and every manager
    /// and worker it started (they inherit it).
    private static func marked(_ mark: String) -> [Int32] {
        let needle = Array("SPRIG_TEST_MARK=\(mark)".utf8)
        return ((try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []).compactMap { entry -> Int32? in
            guard let pid = Int32(entry), let environ = FileManager.default.contents(atPath: "/proc/\(entry)/environ") else { return nil }
            let bytes = [UInt8](environ)
            guard bytes.count >= needle.count else { return nil }
            for start in 0...(bytes.count - needle.count) where bytes[start] == needle[0] && Array(bytes[start..<start + needle.count]) == needle {
                return pid
            }
            return nil
        }
    }

    @Test(.timeLimit(.minutes(3)))
    func killedWorkflowResumesAndEachTaskRunsOnceUnlessItWasRunning() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let count = 500  // 1,000 tasks: square(i), then plus_one(square(i))
        let mark = UUID().uuidString
        var lostAtKills = 0
        // Three kills at random points of the whole workflow's executions (told when a check fails).
        let first = Int.random(in: 50...300), second = first + Int.random(in: 100...300)
        let killPoints = [first, second, second + Int.random(in: 100...300)]
        for (run, killAt) in killPoints.enumerated() {
            let before = Self.executions(in: folder).values.reduce(0, +)
            let committed = try AppCache.entries(in: "\(folder)/runinfo").map(\.key)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: try builtBinary("sprig"))
            process.arguments = ["run", "\(Self.scripts)/resume.py", folder, "\(count)"]
            process.environment = ProcessInfo.processInfo.environment.merging(["SPRIG_TEST_MARK": mark]) { $1 }
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            let reached = eventually(timeout: .seconds(60)) { Self.executions(in: folder).values.reduce(0, +) >= killAt }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            try #require(reached, "run \(run) never reached \(killAt) executions (kills at \(killPoints))")
            #expect(process.terminationReason == .uncaughtSignal)
            // Managers and workers end when the engine's pipe closes: nothing is left.
            #expect(eventually(timeout: .seconds(20)) { Self.marked(mark).isEmpty }, "left: \(Self.marked(mark))")
            let stored = Set(try AppCache.entries(in: "\(folder)/runinfo").map(\.key))
            // What ran in this run and was not committed before the kill ran twice (at most what was running).
            let ranNow = Self.executions(in: folder).values.reduce(0, +) - before
            let newlyStored = stored.subtracting(committed).count
            lostAtKills += ranNow - newlyStored
            #expect(ranNow - newlyStored >= 0)
            // Every task whose future had completed is in the store: only unfinished ones run again.
            let finished = Set((try? FileManager.default.contentsOfDirectory(atPath: "\(folder)/done")) ?? [])
            #expect(finished.subtracting(stored).isEmpty, "run \(run) (kills at \(killPoints)): finished but not stored: \(finished.subtracting(stored).count)")
        }
        let final = try runSprig(["run", "\(Self.scripts)/resume.py", folder, "\(count)"], timeout: .seconds(120),
                                 environment: ["SPRIG_TEST_MARK": mark])
        #expect(final.status == 0, "\(final.stderr)")
        let answer = (0..<count).map { $0 * $0 + 1 }.reduce(0, +)  // what an uninterrupted run gives
        #expect(try String(contentsOfFile: "\(folder)/answer.txt", encoding: .utf8) == "\(answer)\n")
        let counts = Self.executions(in: folder)
        #expect(counts.count == 2 * count, "every task ran")
        #expect(counts.values.reduce(0, +) == 2 * count + lostAtKills, "no task ran again once its result was committed")
        #expect(eventually(timeout: .seconds(20)) { Self.marked(mark).isEmpty })
        // A fifth run runs nothing: every result comes from the store.
        let again = try runSprig(["run", "\(Self.scripts)/resume.py", folder, "\(count)"], timeout: .seconds(60))
        #expect(again.status == 0)
        #expect(Self.executions(in: folder) == counts)
    }

    /// A rerun after `kill -9` skips every task that had finished: in `task_exit` mode a result is
    /// committed to the store before its future completes, so a done callback always finds it.
    @Test(.timeLimit(.minutes(1)))
    func aTaskExitResultIsInTheStoreWhenItsFutureIsDone() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let count = 400
        let run = try runSprig(["run", "\(Self.scripts)/committed_when_done.py", folder, "\(count)"], timeout: .seconds(50))
        #expect(run.status == 0, "\(run.stderr)")
        let total = (0..<count).map { $0 * $0 }.reduce(0, +)
        #expect(run.stdout == "checked \(count) missing 0 total \(total)\n")
    }

    @Test(.timeLimit(.minutes(1)))
    func codeAwareCacheRerunsAnEditedAppNotAnUnchangedOneAndAnUnhashableArgumentFailsOnlyItsCall() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try runSprig(["run", "\(Self.scripts)/code_aware.py", folder, "1"])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("edited 2 unchanged 10 by_name 1"))
        #expect(first.stdout.contains("bad UnmemoizableError cannot cache a call of app 'by_name': argument 'x' (positional 0) has type NoRule"))
        #expect(first.stdout.contains("others [2, 3, 4]"))
        let same = try runSprig(["run", "\(Self.scripts)/code_aware.py", folder, "1"])
        #expect(same.status == 0)
        #expect(Self.executions(in: folder, parts: 1) == ["edited": 1, "unchanged": 1, "by_name": 4])
        let edited = try runSprig(["run", "\(Self.scripts)/code_aware.py", folder, "2"])
        #expect(edited.stdout.contains("edited 3 unchanged 10 by_name 1"), "\(edited.stdout)")
        #expect(Self.executions(in: folder, parts: 1) == ["edited": 2, "unchanged": 1, "by_name": 4])
    }

    /// Parsl's task record of a cached call: `hashsum` (its key), `from_memo`, state `memo_done`.
    @Test(.timeLimit(.minutes(1)))
    func aScriptsFutureTellsItsCacheKeyAndWhetherTheCacheAnswered() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let run = try runSprig(["run", "\(Self.scripts)/memo_record.py", folder])
        #expect(run.status == 0, "\(run.stderr)")
        #expect(run.stdout == """
            hashsums True True True
            from_memo [False, True, False] ['exec_done', 'memo_done', 'exec_done'] [False, True, False]
            plain False None False True
            counts 1 3

            """, "\(run.stderr)")
    }

    /// Parsl's `test_memoize_joinapp.py`: a cached join app's final value is what is cached; a call
    /// equal to an earlier one gets it without running the function, in the run and from the checkpoint.
    @Test(.timeLimit(.minutes(1)))
    func aCachedJoinAppsFinalValueIsReusedWithoutRunningItsFunction() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let first = try runSprig(["run", "\(Self.scripts)/join_cache.py", folder])
        #expect(first.status == 0, "\(first.stderr)")
        let lines = first.stdout.split(separator: "\n").map(String.init)
        #expect(lines.count == 5, "\(first.stdout)\(first.stderr)")
        #expect(lines.dropFirst(3).first == "failure JoinError True", "a failure is reused within the run, as the very exception")
        #expect(lines.first == "same True other differs True")
        #expect(lines.dropFirst(2).first == "pair [[5, 6], [5, 6]]")
        #expect(lines.last == "from_memo False [True, True] ['memo_done', 'memo_done'] True")
        #expect(Self.executions(in: folder, parts: 1) == ["random_uuid": 2, "pair": 1, "const": 4])
        let second = try runSprig(["run", "\(Self.scripts)/join_cache.py", folder])
        #expect(second.status == 0, "\(second.stderr)")
        let again = second.stdout.split(separator: "\n").map(String.init)
        #expect(again.dropFirst().first == lines.dropFirst().first, "the value comes from the first run's checkpoint")
        #expect(again.last == "from_memo True [True, True] ['memo_done', 'memo_done'] True")
        #expect(Self.executions(in: folder, parts: 1) == ["random_uuid": 2, "pair": 1, "const": 4], "nothing ran again")
    }

    @Test(.timeLimit(.minutes(1)))
    func swiftJoinAppsAreCachedAcrossKernelsAndANonCodableValueIsRefused() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var config = Config(executors: [ThreadPoolExecutor(label: "t", maxThreads: 2)], runDirectory: "\(folder)/runinfo")
        config.checkpoints = Checkpoints(mode: .taskExit)
        let (bodies, doubles) = (Counter(), Counter())
        func run() throws -> [Int] {
            let dfk = try DataFlowKernel(config: config)
            defer { dfk.shutdown() }
            let double = try dfk.swiftApp(name: "double") { (x: Int) -> Int in
                doubles.add()
                return x * 2
            }
            let total = try dfk.joinApp(name: "total", options: AppOptions(cache: .arguments)) { (n: Int) -> AppFuture<Int> in
                bodies.add()
                return double(n)
            }
            let both = try dfk.joinApp(name: "both", options: AppOptions(cache: .arguments)) { (n: Int) -> [AppFuture<Int>] in
                bodies.add()
                return [double(n), double(n + 1)]
            }
            var values = [try total(3).result(), try total(3).result(), try total(4).result()]
            values += try both(1).result() + both(1).result()
            return values
        }
        #expect(try run() == [6, 6, 8, 2, 4, 2, 4])
        #expect(bodies.value == 3 && doubles.value == 4, "bodies \(bodies.value), doubles \(doubles.value)")
        #expect(try run() == [6, 6, 8, 2, 4, 2, 4])
        #expect(bodies.value == 3 && doubles.value == 4, "a second kernel reuses every stored value")
        struct Opaque: Sendable {}
        let dfk = try DataFlowKernel(config: config)
        defer { dfk.shutdown() }
        let opaque = try dfk.swiftApp(name: "opaque") { (_: Int) in Opaque() }
        #expect(throws: ConfigError.self) {
            try dfk.joinApp(name: "opaque_join", options: AppOptions(cache: .arguments)) { (n: Int) in opaque(n) }
        }
    }

    @Test(.timeLimit(.minutes(1)))
    func swiftAppsAreCachedAcrossKernelsAndANonCodableResultIsRefused() throws {
        let folder = try Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var config = Config(executors: [ThreadPoolExecutor(label: "t", maxThreads: 2)], runDirectory: "\(folder)/runinfo")
        config.checkpoints = Checkpoints(mode: .taskExit)
        let runs = Counter()
        func run(version: String) throws -> [Int] {
            let dfk = try DataFlowKernel(config: config)
            defer { dfk.shutdown() }
            let double = try dfk.swiftApp(name: "double", options: AppOptions(cache: .code(version: version))) { (x: Int, label: String) -> Int in
                runs.add()
                return x * 2
            }
            let futures = (0..<20).map { double($0, "n\($0 % 3)") } + [double(0, "n0")]
            return try futures.map { try $0.result() }
        }
        let expected = (0..<20).map { $0 * 2 } + [0]
        #expect(try run(version: "1") == expected)
        #expect(runs.value <= 21 && runs.value >= 20)  // the repeated call is a hit once the first ended
        let afterFirst = runs.value
        #expect(try run(version: "1") == expected)
        #expect(runs.value == afterFirst, "a second kernel reuses every stored result")
        #expect(try run(version: "2") == expected)
        // (the repeated call may run too, as in the first run, if it starts before its twin ends)
        #expect(runs.value >= afterFirst + 20 && runs.value <= afterFirst + 21, "a new code version runs again")
        struct Opaque: Sendable {}
        let dfk = try DataFlowKernel(config: config)
        defer { dfk.shutdown() }
        #expect(throws: ConfigError.self) { try dfk.swiftApp(name: "opaque", options: AppOptions(cache: .arguments)) { (_: Int) in Opaque() } }
    }
}

private final class Counter: @unchecked Sendable {  // guarded by its lock
    private let lock = NSLock()
    private var count = 0
    func add() { lock.withLock { count += 1 } }
    var value: Int { lock.withLock { count } }
}
