import Foundation
import Sprig

/// `sprig-bench ssh [--runs N]`: the process executor over the SSH test hosts (one worker each)
/// against one local block with as many workers: no-op throughput, and load → first result.
func runSSHBenchmark(runs: Int) throws {
    let environment = ProcessInfo.processInfo.environment
    let hosts = (environment["SPRIG_SSH_HOSTS"] ?? "").split(separator: " ").map(String.init)
    guard !hosts.isEmpty, environment["SPRIG_SSH_CONFIG"] != nil else {
        print("sprig-bench ssh: start the SSH test hosts first: scripts/testbed/ssh/up.sh 3 && . /tmp/sprig-testbed/env.sh")
        exit(2)
    }
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../python/examples").standardizedFileURL.path
    var figures: [(String, [Double])] = []
    func record(_ name: String, _ value: Double) {
        if let index = figures.firstIndex(where: { $0.0 == name }) { figures[index].1.append(value) } else { figures.append((name, [value])) }
    }
    for _ in 0..<runs {
        for remote in [false, true] {
            let provider: any ExecutionProvider = remote
                ? AdHocProvider(channels: hosts.map { SSHChannel(hostname: $0, scriptDir: "/tmp/sprig-bench-ssh") })
                : LocalProvider(initBlocks: 1, maxBlocks: 1)
            let executor = HighThroughputExecutor(label: "htex", maxWorkers: remote ? 1 : hosts.count, provider: provider)
            let started = ContinuousClock.now
            let dfk = try DataFlowKernel(config: Config(executors: [executor], runDirectory: NSTemporaryDirectory() + "sprig-bench-ssh",
                                                        strategy: .none, python: PythonConfiguration(searchPaths: [folder])))
            let noop = try dfk.pythonApp(module: "bench_apps", function: "noop")
            _ = try noop().result()
            let name = remote ? "\(hosts.count) SSH hosts × 1 worker" : "1 local block × \(hosts.count) workers"
            record("\(name): load → first result (s)", (ContinuousClock.now - started).seconds)
            let deadline = ContinuousClock.now + .seconds(10)
            while (dfk.executorStatus(executor.label)?.readyBlocks.count ?? 0) < (remote ? hosts.count : 1) && ContinuousClock.now < deadline { usleep(10_000) }
            for future in (0..<500).map({ _ in noop() }) { _ = try future.result() }
            let clock = ContinuousClock.now
            let futures = (0..<5_000).map { _ in noop() }
            for future in futures { _ = try future.result() }
            record("\(name): noop ×5000 end-to-end (tasks/s)", 5_000 / (ContinuousClock.now - clock).seconds)
            dfk.shutdown()
        }
    }
    print("Sprig process executor over SSH test hosts (network namespaces on this machine), \(runs) run(s); \(machineDescription())")
    print("| figure | median (min–max) |")
    print("|---|---|")
    for (name, values) in figures {
        let sorted = values.sorted()
        print("| \(name) | \(String(format: "%.3f", sorted[sorted.count / 2])) (\(String(format: "%.3f", sorted.first!))–\(String(format: "%.3f", sorted.last!))) |")
    }
}
