import Foundation
import Sprig
import Testing

/// Executors added to a running kernel (Parsl's `dfk.add_executors`).
@Suite("Executors added while a kernel runs", .serialized, .timeLimit(.minutes(2)))
struct AddExecutorsTests {
    @Test func anAddedThreadExecutorRunsTheAppsPinnedToItAndTakenLabelsAreRefused() throws {
        let h = try Harness()
        defer { h.close() }
        #expect(throws: ConfigError.self) { try h.dfk.swiftApp(name: "early", options: AppOptions(executors: ["more"])) { (x: Int) in x } }
        try h.dfk.addExecutors([ThreadPoolExecutor(label: "more", maxThreads: 3)])
        #expect(h.dfk.executorLabels == [h.label, "more"])
        let whereRun = try h.dfk.swiftApp(name: "where", options: AppOptions(executors: ["more"])) { (_: Int) in
            (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? ""
        }
        let names = try (0..<6).map { whereRun($0) }.map { (future: AppFuture<String>) in try future.result(timeout: .seconds(30)) }
        #expect(names.allSatisfy { $0.contains("more") }, "\(names)")
        #expect(throws: ConfigError.self) { try h.dfk.addExecutors([ThreadPoolExecutor(label: "more")]) }
        #expect(throws: ConfigError.self) { try h.dfk.addExecutors([ThreadPoolExecutor(label: h.label)]) }
        #expect(throws: ConfigError.self) {
            try h.dfk.addExecutors([ThreadPoolExecutor(label: "twice"), ThreadPoolExecutor(label: "twice")])
        }
        #expect(h.dfk.executorLabels == [h.label, "more"])
    }

    @Test func anAddedProcessExecutorsBlockEndsWithTheKernelAndAfterShutdownNoneIsAdded() throws {
        let h = try Harness()
        let htex = HighThroughputExecutor(label: "added", maxWorkers: 1, provider: LocalProvider(initBlocks: 1, maxBlocks: 1))
        try h.dfk.addExecutors([htex])
        let add = try h.dfk.pythonApp(module: "engine_samples", function: "add", options: AppOptions(executors: ["added"]))
        #expect(try add(2, 3).result(timeout: .seconds(60)).decode(Int.self) == 5)
        let pids = h.dfk.executorStatus("added")?.processIDs ?? []
        #expect(!pids.isEmpty)
        h.close()
        #expect(eventually { pids.allSatisfy { !processExists($0) } }, "processes left behind: \(pids.filter(processExists))")
        #expect(throws: ConfigError.self) { try h.dfk.addExecutors([ThreadPoolExecutor(label: "late")]) }
    }
}
