import Foundation
import Sprig

/// `sprig-bench [threads|htex] [--runs N] [--quick]`: workloads on the thread executor (2 threads)
/// or the process executor (one local block of 2 workers), printed as median (min–max) over runs.
/// Figures, not assertions.
func runBenchmarks(_ arguments: [String]) throws {
    let kind = arguments.first { !$0.hasPrefix("-") && Int($0) == nil } ?? "threads"
    guard kind == "threads" || kind == "htex" else {
        print("usage: sprig-bench [threads|htex] [--runs N] [--quick] | python-info [MODULE]")
        exit(2)
    }
    let quick = arguments.contains("--quick")
    let runs = arguments.firstIndex(of: "--runs").flatMap { Int(arguments[$0 + 1]) } ?? (quick ? 1 : 5)
    let scale = quick ? 10 : 1
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../python/examples").standardizedFileURL.path

    let startup = secondsSinceProcessStart()
    var rows: [(String, String, [Double])] = []
    func record(_ name: String, _ unit: String, _ value: Double) {
        if let index = rows.firstIndex(where: { $0.0 == name }) { rows[index].2.append(value) } else { rows.append((name, unit, [value])) }
    }

    for run in 0..<runs {
        let executor: any Executor = kind == "htex"
            ? HighThroughputExecutor(label: "htex", maxWorkers: 2, provider: LocalProvider(initBlocks: 1, maxBlocks: 1))
            : ThreadPoolExecutor(label: "threads", maxThreads: 2)
        let dfk = try DataFlowKernel(config: Config(executors: [executor], runDirectory: NSTemporaryDirectory() + "sprig-bench",
                                                    strategy: .none, python: PythonConfiguration(searchPaths: [folder])))
        let noop = try dfk.pythonApp(module: "bench_apps", function: "noop")
        let inc = try dfk.pythonApp(module: "bench_apps", function: "inc")
        let total = try dfk.pythonApp(module: "bench_apps", function: "total")
        let echo = try dfk.pythonApp(module: "bench_apps", function: "echo")
        let bashTrue = try dfk.bashApp(name: "true") { () in "true" }

        var clock = ContinuousClock.now
        _ = try noop().result()
        if run == 0 { record("startup: process start → first result (s)", "s", startup + (ContinuousClock.now - clock).seconds) }

        // Warm-up, excluded.
        for future in (0..<200).map({ _ in noop() }) { _ = try future.result() }

        let count = 5_000 / scale
        clock = .now
        let futures = (0..<count).map { _ in noop() }
        let submitted = ContinuousClock.now - clock
        for future in futures { _ = try future.result() }
        let ended = ContinuousClock.now - clock
        record("noop ×\(count): submit rate (tasks/s)", "/s", Double(count) / submitted.seconds)
        record("noop ×\(count): end-to-end (tasks/s)", "/s", Double(count) / ended.seconds)
        if let htex = executor as? HighThroughputExecutor {
            record("RSS of manager + workers after no-ops (MB)", "MB", htex.processIDs.map(residentMegabytes).reduce(0, +))
        }

        var latencies: [Double] = []
        for _ in 0..<(200 / scale) {
            clock = .now
            _ = try noop().result()
            latencies.append((ContinuousClock.now - clock).seconds * 1e6)
        }
        latencies.sort()
        record("latency ×\(latencies.count): median (µs)", "µs", latencies[latencies.count / 2])
        record("latency ×\(latencies.count): p99 (µs)", "µs", latencies[min(latencies.count - 1, latencies.count * 99 / 100)])

        let links = 1_000 / scale
        clock = .now
        var link = inc(0)
        for _ in 1..<links { link = inc(link) }
        _ = try link.result()
        record("chain ×\(links): per link (ms)", "ms", (ContinuousClock.now - clock).seconds * 1e3 / Double(links))

        clock = .now
        let parts = (0..<(1_000 / scale)).map { inc($0) }
        _ = try total(parts).result()
        record("fan-out \(parts.count) + fan-in 1: total (s)", "s", (ContinuousClock.now - clock).seconds)

        let shells = 500 / scale
        clock = .now
        let bashFutures = (0..<shells).map { _ in bashTrue() }
        for future in bashFutures { _ = try future.result() }
        record("bash `true` ×\(shells) (tasks/s)", "/s", Double(shells) / (ContinuousClock.now - clock).seconds)

        let payload = [UInt8](repeating: 7, count: 1 << 20)
        let echoes = 200 / scale
        clock = .now
        let echoFutures = (0..<echoes).map { _ in echo(payload) }
        for future in echoFutures { _ = try future.result() }
        record("payload 1 MiB echo ×\(echoes) (MiB/s one way)", "MiB/s", Double(echoes) / (ContinuousClock.now - clock).seconds)

        if let htex = executor as? HighThroughputExecutor {
            record("RSS of manager + workers after 1 MiB payloads (MB)", "MB", htex.processIDs.map(residentMegabytes).reduce(0, +))
        }
        dfk.shutdown()
    }
    record("peak RSS of this process (MB)", "MB", peakResidentMegabytes())

    let title = kind == "htex" ? "process executor (1 local block, 2 workers)" : "thread executor (2 threads)"
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

private func residentMegabytes(_ pid: Int32) -> Double {
    let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
    let line = status.split(separator: "\n").first { $0.hasPrefix("VmRSS:") } ?? ""
    return (Double(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) / 1024
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

extension Duration {
    var seconds: Double {
        let (s, atto) = components
        return Double(s) + Double(atto) / 1e18
    }
}
