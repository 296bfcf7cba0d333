import Foundation
import PythonBridge
@testable import Sprig
import Testing

@Suite("Run folders", .serialized, .timeLimit(.minutes(2)))
struct RunFolderTests {
    private func scratch() throws -> String {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-runs-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        return folder
    }

    @Test func twoKernelsWithTheSameBaseGetNumberedFolders() throws {
        let base = try scratch() + "/runinfo"
        defer { try? FileManager.default.removeItem(atPath: (base as NSString).deletingLastPathComponent) }
        let first = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "t")], runDirectory: base))
        let second = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "t")], runDirectory: base))
        first.shutdown()
        second.shutdown()
        #expect(first.runFolder == base + "/000")
        #expect(second.runFolder == base + "/001")
        var isFolder: ObjCBool = false
        #expect(FileManager.default.fileExists(atPath: second.runFolder, isDirectory: &isFolder) && isFolder.boolValue)
    }

    @Test func theNextNumberFollowsTheHighestAndIgnoresOtherNames() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        for name in ["004", "monitoring.db", "17x"] {
            _ = FileManager.default.createFile(atPath: base + "/" + name, contents: nil)
        }
        #expect(try RunFolder.claim(base: base) == base + "/005")
    }

    @Test func concurrentClaimsNeverShareAFolder() throws {
        let base = try scratch()
        defer { try? FileManager.default.removeItem(atPath: base) }
        let claimed = LockedValue<[String]>([])
        DispatchQueue.concurrentPerform(iterations: 16) { _ in
            if let folder = try? RunFolder.claim(base: base) { claimed.set(claimed.get() + [folder]) }
        }
        let folders = claimed.get()
        #expect(folders.count == 16)
        #expect(Set(folders).count == 16)
        #expect(Set(folders) == Set((0..<16).map { base + String(format: "/%03d", $0) }))
    }

    @Test func automaticStreamsGoUnderTheRunFolder() throws {
        let h = try Harness()
        defer { h.close() }
        let echo = try h.dfk.bashApp(name: "swift_echo") { (word: String) in "echo \(word)" }
        #expect(try echo("hi", stdout: .automatic).result() == 0)
        let logs = try FileManager.default.subpathsOfDirectory(atPath: h.dfk.runFolder + "/task_logs")
        #expect(logs.contains { $0.hasSuffix(".stdout") }, "\(logs)")
    }

    /// Each run's blocks log into that run's folder: a second run with the same base does not
    /// append to the first run's block logs.
    @Test func blockLogsNoLongerAppendAcrossRuns() throws {
        let folder = try scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        var folders: [String] = []
        for run in 0..<2 {
            let htex = HighThroughputExecutor(label: "htex", maxWorkers: 1, provider: LocalProvider(initBlocks: 1, maxBlocks: 1))
            let dfk = try DataFlowKernel(config: Config(executors: [htex], runDirectory: folder + "/runinfo", strategy: .none,
                                                        python: PythonConfiguration(searchPaths: [samplesFolder])))
            let chatty = try dfk.pythonApp(module: "engine_samples", function: "chatty")
            #expect(try chatty(100 + run).result(as: Int.self) == 2 * (100 + run))
            let pids = dfk.executorStatus("htex")!.processIDs
            dfk.shutdown()
            #expect(eventually { pids.allSatisfy { !processExists($0) } }, "processes left behind")
            folders.append(dfk.runFolder)
        }
        #expect(folders == [folder + "/runinfo/000", folder + "/runinfo/001"])
        for (run, runFolder) in folders.enumerated() {
            let logs = try FileManager.default.subpathsOfDirectory(atPath: runFolder + "/htex/block-0").filter { $0.hasSuffix(".log") }
            let text = try logs.map { try String(contentsOfFile: runFolder + "/htex/block-0/" + $0, encoding: .utf8) }.joined()
            #expect(text.contains("hello from an app \(100 + run)"))
            #expect(!text.contains("hello from an app \(100 + 1 - run)"))
        }
    }
}
