import Foundation
import Sprig

/// `sprig-bench [threads|htex] [--runs N] [--quick] [--json] [--monitoring]`: workloads on the thread executor
/// (2 threads) or the process executor (one local block of 2 workers), printed as median (min–max)
/// over runs. Figures, not assertions. `--json` prints one JSON object instead of the table (every
/// run's figures, with the same keys as `benchmarks/workloads.py`, and each workload's wall-clock
/// window), for `scripts/bench-vs-parsl`.
func runBenchmarks(_ arguments: [String]) throws {
    let kind = arguments.first { !$0.hasPrefix("-") && Int($0) == nil } ?? "threads"
    guard kind == "threads" || kind == "htex" else {
        print("usage: sprig-bench [threads|htex] [--runs N] [--quick] [--json] | script | ssh | python-info [MODULE]")
        exit(2)
    }
    let quick = arguments.contains("--quick")
    // With monitoring on, each run's kernel writes the monitoring database as well as parsl.log.
    let monitoring = arguments.contains("--monitoring") ? MonitoringOptions() : nil
    let json = arguments.contains("--json")
    let runs = arguments.firstIndex(of: "--runs").flatMap { Int(arguments[$0 + 1]) } ?? (quick ? 1 : 5)
    let scale = quick ? 10 : 1
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../python/examples").standardizedFileURL.path

    let startup = secondsSinceProcessStart()
    let sampler = MemorySampler()
    var rows: [(String, String, [Double])] = []
    var runRecords: [[String: Any]] = []

    for run in 0..<runs {
        var figures: [String: Double] = [:]
        var phases: [String: [Double]] = [:]
        func record(_ key: String, _ name: String, _ value: Double) {
            figures[key] = value
            if let index = rows.firstIndex(where: { $0.0 == name }) { rows[index].2.append(value) } else { rows.append((name, key, [value])) }
        }
        var phaseStarted = 0.0
        func begin(_ phase: String) {
            sampler.begin(phase)
            phaseStarted = Date().timeIntervalSince1970
        }
        func end(_ phase: String) {
            phases[phase] = [phaseStarted, Date().timeIntervalSince1970]
            sampler.end()
        }

        let executor: any ExecutorDescription = kind == "htex"
            ? HighThroughputExecutor(label: "htex", maxWorkers: 2, provider: LocalProvider(initBlocks: 1, maxBlocks: 1))
            : ThreadPoolExecutor(label: "threads", maxThreads: 2)
        let loadStarted = ContinuousClock.now
        let dfk = try DataFlowKernel(config: Config(executors: [executor], runDirectory: NSTemporaryDirectory() + "sprig-bench",
                                                    strategy: .none, python: PythonConfiguration(searchPaths: [folder]),
                                                    monitoring: monitoring))
        let noop = try dfk.pythonApp(module: "bench_apps", function: "noop")
        let inc = try dfk.pythonApp(module: "bench_apps", function: "inc")
        let total = try dfk.pythonApp(module: "bench_apps", function: "total")
        let echo = try dfk.pythonApp(module: "bench_apps", function: "echo")
        let generate = try dfk.pythonApp(module: "apps", function: "generate")
        let bashTrue = try dfk.bashApp(name: "true") { () in "true" }

        var clock = ContinuousClock.now
        _ = try noop().result()
        if run == 0 {
            record("startup_s", "startup: process start → first result (s)", startup + (ContinuousClock.now - clock).seconds)
            figures["first_result_epoch"] = Date().timeIntervalSince1970
        }
        figures["load_to_first_result_s"] = (ContinuousClock.now - loadStarted).seconds

        // Warm-up, excluded.
        for future in (0..<200).map({ _ in noop() }) { _ = try future.result() }

        let count = 5_000 / scale
        begin("noop")
        clock = .now
        let futures = (0..<count).map { _ in noop() }
        let submitted = ContinuousClock.now - clock
        for future in futures { _ = try future.result() }
        let ended = ContinuousClock.now - clock
        end("noop")
        record("noop_submit_rate", "noop ×\(count): submit rate (tasks/s)", Double(count) / submitted.seconds)
        record("noop_end_to_end_rate", "noop ×\(count): end-to-end (tasks/s)", Double(count) / ended.seconds)
        if kind == "htex", let status = dfk.executorStatus(executor.label) {
            record("worker_rss_after_noop_mb", "RSS of manager + workers after no-ops (MB)",
                   status.processIDs.map(residentMegabytes).reduce(0, +))
        }

        var latencies: [Double] = []
        begin("latency")
        for _ in 0..<(200 / scale) {
            clock = .now
            _ = try noop().result()
            latencies.append((ContinuousClock.now - clock).seconds * 1e6)
        }
        end("latency")
        latencies.sort()
        record("latency_median_us", "latency ×\(latencies.count): median (µs)", latencies[latencies.count / 2])
        record("latency_p99_us", "latency ×\(latencies.count): p99 (µs)", latencies[min(latencies.count - 1, latencies.count * 99 / 100)])

        let links = 1_000 / scale
        begin("chain")
        clock = .now
        var link = inc(0)
        for _ in 1..<links { link = inc(link) }
        _ = try link.result()
        let chained = (ContinuousClock.now - clock).seconds
        end("chain")
        record("chain_link_ms", "chain ×\(links): per link (ms)", chained * 1e3 / Double(links))
        figures["chain_s"] = chained

        begin("fan")
        clock = .now
        let parts = (0..<(1_000 / scale)).map { inc($0) }
        _ = try total(parts).result()
        record("fan_s", "fan-out \(parts.count) + fan-in 1: total (s)", (ContinuousClock.now - clock).seconds)
        end("fan")

        let shells = 500 / scale
        // The floors under the thread executor's bash apps, at the same concurrency (2 threads), on
        // either side of them (floor, apps, floor): the spawn a bash app makes, and a bare posix_spawn.
        var sameSpawn: [Double] = [], bare: [Double] = []
        if kind == "threads" {
            sameSpawn.append(sameSpawnRate(count: shells, threads: 2))
            bare.append(bareSpawnRate(count: shells, threads: 2))
        }
        begin("bash")
        clock = .now
        let bashFutures = (0..<shells).map { _ in bashTrue() }
        for future in bashFutures { _ = try future.result() }
        record("bash_rate", "bash `true` ×\(shells) (tasks/s)", Double(shells) / (ContinuousClock.now - clock).seconds)
        end("bash")
        if kind == "threads" {
            bare.append(bareSpawnRate(count: shells, threads: 2))
            sameSpawn.append(sameSpawnRate(count: shells, threads: 2))
            record("bash_spawn_floor_rate", "bash `true` ×\(shells), the spawn a bash app makes on 2 plain threads, "
                   + "mean of before and after the apps (spawns/s)", (sameSpawn[0] + sameSpawn[1]) / 2)
            record("bash_floor_rate", "bash `true` ×\(shells), bare posix_spawn + waitpid on 2 threads, "
                   + "mean of before and after the apps (spawns/s)", (bare[0] + bare[1]) / 2)
        }

        // The seed article's five generate(10, i): app i sleeps i s (i/10 s with --quick); on two
        // threads or workers the schedule's bound is 6 s (0.6 s).
        begin("generate")
        clock = .now
        let numbers = (0..<5).map { generate(10, Double($0) / Double(scale)) }
        for future in numbers { _ = try future.result() }
        record("generate_s", "seed: generate(10, i) ×5, sleep i\(quick ? "/10" : "") s, wall (s)", (ContinuousClock.now - clock).seconds)
        end("generate")

        let payload = [UInt8](repeating: 7, count: 1 << 20)
        let echoes = 200 / scale
        begin("payload")
        clock = .now
        let echoFutures = (0..<echoes).map { _ in echo(payload) }
        for future in echoFutures { _ = try future.result() }
        record("payload_mib_s", "payload 1 MiB echo ×\(echoes) (MiB/s one way)", Double(echoes) / (ContinuousClock.now - clock).seconds)
        end("payload")

        if kind == "htex", let status = dfk.executorStatus(executor.label) {
            record("worker_rss_after_payload_mb", "RSS of manager + workers after 1 MiB payloads (MB)",
                   status.processIDs.map(residentMegabytes).reduce(0, +))
        }
        clock = .now
        dfk.shutdown()
        figures["cleanup_s"] = (ContinuousClock.now - clock).seconds
        figures["latency_median_ms"] = figures["latency_median_us"].map { $0 / 1e3 }
        figures["latency_p99_ms"] = figures["latency_p99_us"].map { $0 / 1e3 }
        figures["noop_count"] = Double(count)
        figures["latency_rounds"] = Double(latencies.count)
        figures["chain_links"] = Double(links)
        figures["fan_count"] = Double(parts.count)
        figures["bash_count"] = Double(shells)
        figures["payload_count"] = Double(echoes)
        figures["generate_bound_s"] = 6 / Double(scale)
        runRecords.append(["figures": figures, "phases": phases])
    }
    sampler.stop()
    let overall = sampler.overall
    let noopPeaks = sampler.peaks("noop")
    var memory: [String: Double] = ["own_peak_rss_mb": peakResidentMegabytes()]
    rows.append(("peak RSS of this process (MB)", "own_peak_rss_mb", [memory["own_peak_rss_mb"]!]))
    if kind == "htex" || overall.descendants > 0 {
        memory["worker_peak_rss_mb"] = overall.descendants
        memory["worker_noop_peak_rss_mb"] = noopPeaks.descendants
        rows.append(("peak RSS of all child processes during no-ops, sampled every 20 ms (MB)", "worker_noop_peak_rss_mb",
                     [noopPeaks.descendants]))
        rows.append(("peak RSS of all child processes over the run, sampled every 20 ms (MB)", "worker_peak_rss_mb",
                     [overall.descendants]))
    }

    let title = kind == "htex" ? "process executor (1 local block, 2 workers)" : "thread executor (2 threads)"
    if json {
        let object: [String: Any] = [
            "system": "sprig-swift", "executor": kind, "quick": quick, "pid": Int(getpid()),
            "machine": machineDescription(), "python": Python.info.map { "\($0.version.major).\($0.version.minor)" } ?? "?",
            "runs": runRecords, "memory": memory,
        ]
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
        return
    }
    print("Sprig \(title), \(runs) run(s); \(machineDescription())")
    print("| workload | median (min–max) |")
    print("|---|---|")
    for (name, _, values) in rows {
        let sorted = values.sorted()
        let median = sorted[sorted.count / 2]
        print("| \(name) | \(format(median)) (\(format(sorted.first!))–\(format(sorted.last!))) |")
    }
}

private func format(_ value: Double) -> String {
    if value >= 1000 {
        let digits = Array(String(format: "%.0f", value))
        return String(digits.enumerated().flatMap { index, digit in
            index > 0 && (digits.count - index) % 3 == 0 ? [",", digit] : [digit]
        })
    }
    if value >= 10 { return String(format: "%.1f", value) }
    return String(format: "%.3f", value)
}

/// Seconds from the kernel starting this process to now.
private func secondsSinceProcessStart() -> Double {
    guard let stat = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
          let uptime = try? String(contentsOfFile: "/proc/uptime", encoding: .utf8),
          let close = stat.lastIndex(of: ")") else { return 0 }
    let fields = stat[stat.index(after: close)...].split(separator: " ")
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    guard fields.count > 19, let start = Double(fields[19]), let now = Double(uptime.split(separator: " ")[0]) else { return 0 }
    return max(0, now - start / ticks)
}

private func peakResidentMegabytes() -> Double {
    let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
}

func machineDescription() -> String {
    let cpu = ((try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? "").split(separator: "\n")
        .first { $0.hasPrefix("model name") }.map { $0.split(separator: ":", maxSplits: 1)[1].trimmingCharacters(in: .whitespaces) } ?? "unknown CPU"
    return "\(ProcessInfo.processInfo.activeProcessorCount) cores, \(cpu), Python \(Python.info.map { "\($0.version.major).\($0.version.minor)" } ?? "?")"
}

