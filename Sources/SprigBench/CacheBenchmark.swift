import Foundation
import Sprig

/// `sprig-bench cache [--tasks N] [--resume N] [--runs R]`: what app caching costs on the process
/// executor (one local block of 2 workers): no-op throughput (`inc(i)`, every call new) with
/// caching off and with `cache` plus `task_exit` checkpoints on (a lookup and a committed write per
/// task); then resuming N cached calls in a new kernel (every call a hit from the store). Figures
/// are medians over runs; nothing is asserted.
func runCacheBenchmark(_ arguments: [String]) throws {
    func option(_ name: String, _ fallback: Int) -> Int { arguments.firstIndex(of: name).flatMap { Int(arguments[$0 + 1]) } ?? fallback }
    let tasks = option("--tasks", 20_000)
    let resumed = option("--resume", 100_000)
    let runs = option("--runs", 3)
    if let rows = arguments.firstIndex(of: "--store").flatMap({ Int(arguments[$0 + 1]) }) {
        return try runStoreBenchmark(rows: rows, batch: option("--batch", 10), runs: runs)
    }
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../python/examples").standardizedFileURL.path
    let base = NSTemporaryDirectory() + "sprig-bench-cache-\(UUID().uuidString)"
    defer { try? FileManager.default.removeItem(atPath: base) }

    func kernel(_ runDirectory: String, checkpoints: Checkpoints) throws -> DataFlowKernel {
        var config = Config(executors: [HighThroughputExecutor(label: "htex", maxWorkers: 2, provider: LocalProvider(initBlocks: 1, maxBlocks: 1))],
                            runDirectory: runDirectory, strategy: .none, python: PythonConfiguration(searchPaths: [folder]))
        config.checkpoints = checkpoints
        return try DataFlowKernel(config: config)
    }

    /// Tasks per second of `count` calls `inc(offset + i)`, the kernel warm; and the engine's CPU
    /// time per task (every thread of this process, user + system; the workers are not in it).
    func throughput(cached: Bool, run: Int) throws -> (rate: Double, cpu: Double) {
        let dfk = try kernel("\(base)/throughput-\(cached)-\(run)", checkpoints: Checkpoints(mode: cached ? .taskExit : nil))
        defer { dfk.shutdown() }
        let inc = try dfk.pythonApp(module: "bench_apps", function: "inc", options: AppOptions(cache: cached ? .arguments : nil))
        for future in (0..<500).map({ inc(-1 - $0) }) { _ = try future.result() }
        let (started, cpuBefore) = (ContinuousClock.now, processCPUTime())
        let futures = (0..<tasks).map { inc($0) }
        for future in futures { _ = try future.result() }
        return (Double(tasks) / (ContinuousClock.now - started).seconds, (processCPUTime() - cpuBefore) / Double(tasks) * 1e6)
    }

    var plain: [Double] = [], cached: [Double] = [], plainCPU: [Double] = [], cachedCPU: [Double] = []
    for run in 0..<runs {
        let off = try throughput(cached: false, run: run)
        let on = try throughput(cached: true, run: run)
        (plain, plainCPU, cached, cachedCPU) = (plain + [off.rate], plainCPU + [off.cpu], cached + [on.rate], cachedCPU + [on.cpu])
    }
    let (plainMedian, cachedMedian) = (median(plain), median(cached))
    print(String(format: "no-op throughput, process executor, caching off: %8.0f tasks/s  (%@)", plainMedian, figures(plain)))
    print(String(format: "no-op throughput, process executor, caching on:  %8.0f tasks/s  (%@)", cachedMedian, figures(cached)))
    print(String(format: "cost of lookups + task_exit writes: %.1f%% of throughput", (1 - cachedMedian / plainMedian) * 100))
    print(String(format: "engine CPU per task, caching off: %.1f us  (%@); on: %.1f us  (%@)",
                 median(plainCPU), figures(plainCPU), median(cachedCPU), figures(cachedCPU)))

    // Resume: fill a store with `resumed` results, then a new kernel of the same run directory gets them all.
    let resumeDirectory = "\(base)/resume"
    do {
        let dfk = try kernel(resumeDirectory, checkpoints: Checkpoints(mode: .taskExit))
        let inc = try dfk.pythonApp(module: "bench_apps", function: "inc", options: AppOptions(cache: .arguments))
        let futures = (0..<resumed).map { inc($0) }
        for future in futures { _ = try future.result() }
        dfk.shutdown()
    }
    var times: [Double] = []
    for _ in 0..<runs {
        let started = ContinuousClock.now
        let dfk = try kernel(resumeDirectory, checkpoints: Checkpoints(mode: .taskExit, source: .folders(CheckpointFolders.first(in: resumeDirectory))))
        let inc = try dfk.pythonApp(module: "bench_apps", function: "inc", options: AppOptions(cache: .arguments))
        let futures = (0..<resumed).map { inc($0) }
        for future in futures { _ = try future.result() }
        let elapsed = (ContinuousClock.now - started).seconds
        dfk.shutdown()
        times.append(elapsed)
    }
    print(String(format: "resume %d cached tasks (new kernel, load + submit + every result): %.2f s  (%@)", resumed, median(times), figures(times)))
}

/// The first run's checkpoint folder of a run directory (what the resume runs load).
private enum CheckpointFolders {
    static func first(in runDirectory: String) -> [String] { ["\(runDirectory)/000/checkpoint"] }
}

private func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    return sorted.isEmpty ? 0 : sorted[sorted.count / 2]
}

private func figures(_ values: [Double]) -> String {
    values.map { String(format: $0 >= 100 ? "%.0f" : "%.2f", $0) }.joined(separator: ", ")
}

/// `sprig-bench cache --store N [--batch B] [--runs R]`: the checkpoint store alone, as `task_exit`
/// uses it — N entries with distinct results (keys and result hashes as random as real ones),
/// committed B at a time — then every result read back by hash, as a resumed run does. Figures are
/// CPU time of this thread (user + system, so file writes count) per entry: what the writes take
/// from the workers on a busy machine, and much less noisy there than wall time.
private func runStoreBenchmark(rows: Int, batch: Int, runs: Int) throws {
    var writes: [Double] = [], reads: [Double] = []
    for run in 0..<runs {
        let folder = NSTemporaryDirectory() + "sprig-bench-store-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try CheckpointStore(folder: folder, create: true)
        let all = (0..<rows).map { index -> (StoredEntry, StoredResult) in
            let result = StoredResult(encoding: .pickle, bytes: [0x80, 0x05, 0x4b, UInt8(truncatingIfNeeded: index), 0x2e] + Array("\(run)-\(index)".utf8))
            return (StoredEntry(key: (0..<32).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined(), resultHash: result.hash, app: "bench_apps.inc",
                                kind: "python", task: index, time: 0), result)
        }
        var started = threadCPUTime()
        for start in stride(from: 0, to: rows, by: batch) { try store.write(Array(all[start..<min(start + batch, rows)])) }
        writes.append((threadCPUTime() - started) / Double(rows) * 1e6)
        let reader = try CheckpointStore(folder: folder, create: false)
        started = threadCPUTime()
        for (entry, _) in all.shuffled() { _ = try reader.result(hash: entry.resultHash) }
        reads.append((threadCPUTime() - started) / Double(rows) * 1e6)
    }
    print(String(format: "checkpoint store, %d entries committed %d at a time: %.1f us CPU per entry  (%@)", rows, batch, median(writes), figures(writes)))
    print(String(format: "checkpoint store, every result read back by hash:  %.1f us CPU per entry  (%@)", median(reads), figures(reads)))
}

/// CPU time of the calling thread, user and system, in seconds.
private func threadCPUTime() -> Double {
    var time = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
    return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
}

/// CPU time of this process (every thread), user and system, in seconds.
private func processCPUTime() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec) + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
}
