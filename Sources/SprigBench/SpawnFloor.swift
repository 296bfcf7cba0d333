import Foundation
import Sprig

/// The ways `sprig-bench spawn` runs `/bin/bash -c true`, from the bare floor up to a bash app.
enum SpawnPath: String, CaseIterable {
    /// `posix_spawn` with no file actions and no attributes, this process's environment, and a
    /// `waitpid`: the least a program can do to run the command.
    case bare
    /// The spawn a bash app makes (``ShellProcess``: stdin `/dev/null`, a process group of its own,
    /// the signal mask and dispositions reset, `waitid` without reaping, then `waitpid`), on plain
    /// threads, without an engine: the floor under a bash app.
    case sameSpawn = "same-spawn"
    /// Thread-executor bash apps (a Swift-built app), submitted at once and awaited in order.
    case apps
}

/// What one pass of `count` commands cost.
struct SpawnMeasure {
    /// Commands per second of wall time.
    var rate: Double
    /// CPU of this process (every thread) per command, µs.
    var ownMicroseconds: Double
    /// CPU of the reaped children (bash) per command, µs.
    var childMicroseconds: Double
}

/// Runs `body` and measures the wall time and the CPU it took, here and in reaped children.
func measureSpawns(count: Int, _ body: () throws -> Void) rethrows -> SpawnMeasure {
    func cpu(_ who: __rusage_who) -> Double {
        var usage = rusage()
        getrusage(__rusage_who_t(who.rawValue), &usage)
        let time = { (t: timeval) in Double(t.tv_sec) * 1e6 + Double(t.tv_usec) }
        return time(usage.ru_utime) + time(usage.ru_stime)
    }
    let own = cpu(RUSAGE_SELF), children = cpu(RUSAGE_CHILDREN)
    let clock = ContinuousClock.now
    try body()
    let wall = (ContinuousClock.now - clock).seconds
    return SpawnMeasure(rate: Double(count) / wall, ownMicroseconds: (cpu(RUSAGE_SELF) - own) / Double(count),
                        childMicroseconds: (cpu(RUSAGE_CHILDREN) - children) / Double(count))
}

/// The floor under a bash app on this machine: `count` runs of `/bin/bash -c true`, each a bare
/// `posix_spawn` (no file actions, no attributes, this process's environment) and a `waitpid`,
/// shared by `threads` threads spawning at once (the thread executor's concurrency). Returns
/// spawns per second.
func bareSpawnRate(count: Int, threads: Int) -> Double {
    spawnLoop(count: count, threads: threads, path: .bare)
}

/// The same loop through the spawn a bash app makes (``SpawnPath/sameSpawn``). Returns spawns per second.
func sameSpawnRate(count: Int, threads: Int) -> Double {
    spawnLoop(count: count, threads: threads, path: .sameSpawn)
}

private func spawnLoop(count: Int, threads: Int, path: SpawnPath) -> Double {
    precondition(path != .apps, "the apps run through an engine")
    let next = NextIndex(count)
    let clock = ContinuousClock.now
    let workers = (0..<threads).map { _ in
        Thread {
            let arguments: [UnsafeMutablePointer<CChar>?] = ["/bin/bash", "-c", "true"].map { (word: String) in strdup(word) } + [nil]
            defer { for pointer in arguments { free(pointer) } }
            let shell = ShellProcess(command: "true", stdout: nil, stderr: nil)
            while next.take() {
                if path == .sameSpawn {
                    _ = try? shell.run(register: { _ in }, unregister: {})
                    continue
                }
                var pid: pid_t = 0
                guard posix_spawn(&pid, "/bin/bash", nil, nil, arguments, Glibc.environ) == 0 else { continue }
                var status: Int32 = 0
                while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
            }
            next.finished()
        }
    }
    for worker in workers { worker.start() }
    next.waitForAll(threads)
    return Double(count) / (ContinuousClock.now - clock).seconds
}

/// Hands out `count` turns to the spawning threads and waits for them to end.
private final class NextIndex: @unchecked Sendable {  // every member is guarded by `condition`
    private let condition = NSCondition()
    private var left: Int
    private var done = 0

    init(_ count: Int) { left = count }

    func take() -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard left > 0 else { return false }
        left -= 1
        return true
    }

    func finished() {
        condition.lock()
        done += 1
        condition.broadcast()
        condition.unlock()
    }

    func waitForAll(_ threads: Int) {
        condition.lock()
        while done < threads { condition.wait() }
        condition.unlock()
    }
}

/// `sprig-bench spawn [--count N] [--rounds R] [--only bare,same-spawn,apps] [--per-thread] [--json]`: bash `true` as
/// thread-executor bash apps (2 threads, a Swift-built app), against the same spawn on 2 plain
/// threads and against a bare `posix_spawn` loop (``SpawnPath``), in one process, R rounds of N
/// each; each round runs every path once, in an order rotated from round to round. Prints each
/// round, then per path the median rate, the median CPU per command here and in bash, and each
/// path's rate as a share of the others; `--per-thread` adds each thread's CPU per command, `--json`
/// prints every round's figures as one JSON object instead.
func runSpawnBenchmark(_ arguments: [String]) throws {
    func option(_ name: String) -> String? {
        arguments.firstIndex(of: name).flatMap { arguments.index(after: $0) < arguments.endIndex ? arguments[$0 + 1] : nil }
    }
    let count = option("--count").flatMap(Int.init) ?? 500, rounds = option("--rounds").flatMap(Int.init) ?? 6
    let paths = option("--only").map { $0.split(separator: ",").compactMap { SpawnPath(rawValue: String($0)) } } ?? SpawnPath.allCases
    // An engine only when its apps are measured: the floors alone run in a process without one.
    let dfk = paths.contains(.apps)
        ? try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "threads", maxThreads: 2)],
                                            runDirectory: NSTemporaryDirectory() + "sprig-bench-spawn", strategy: .none))
        : nil
    defer { dfk?.shutdown() }
    let bashTrue = try dfk?.bashApp(name: "true") { () in "true" }
    if let bashTrue { for future in (0..<20).map({ _ in bashTrue() }) { _ = try future.result() } }  // warm-up
    _ = sameSpawnRate(count: 20, threads: 2)
    var measures: [SpawnPath: [SpawnMeasure]] = [:]
    func run(_ path: SpawnPath) throws -> SpawnMeasure {
        try measureSpawns(count: count) {
            switch path {
            case .apps: if let bashTrue { for future in (0..<count).map({ _ in bashTrue() }) { _ = try future.result() } }
            case .bare: _ = bareSpawnRate(count: count, threads: 2)
            case .sameSpawn: _ = sameSpawnRate(count: count, threads: 2)
            }
        }
    }
    func describe(_ measure: SpawnMeasure) -> String {
        "\(Int(measure.rate))/s (CPU per command: \(Int(measure.ownMicroseconds)) µs here, \(Int(measure.childMicroseconds)) µs in bash)"
    }
    let perThread = arguments.contains("--per-thread")
    for round in 0..<rounds {
        let order = (0..<paths.count).map { paths[($0 + round) % paths.count] }
        var line: [String] = []
        for path in order {
            let before = perThread ? threadTimes() : [:]
            let measure = try run(path)
            if perThread {
                let spent = threadTimes().compactMap { id, now -> String? in
                    let used = now.microseconds - (before[id]?.microseconds ?? 0)
                    return used > 0 ? "\(now.name) \(Int(used / Double(count))) µs" : nil
                }
                print("  \(path.rawValue), CPU per command by thread: " + spent.sorted().joined(separator: ", "))
            }
            measures[path, default: []].append(measure)
            line.append("\(path.rawValue) \(describe(measure))")
        }
        if !arguments.contains("--json") { print("round \(round + 1) [load \(loadAverage())]: " + line.joined(separator: "; ")) }
    }
    let median = { (values: [Double]) in values.sorted()[values.count / 2] }
    if arguments.contains("--json") {
        // One line per path: every round's rate and CPU per command, for benchmarks/bash_floor.py.
        var object: [String: Any] = ["load": loadAverage(), "count": count]
        for path in paths {
            object[path.rawValue] = (measures[path] ?? []).map {
                ["rate": $0.rate, "own_us": $0.ownMicroseconds, "child_us": $0.childMicroseconds]
            }
        }
        let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
        FileHandle.standardOutput.write(data + Data("\n".utf8))
        return
    }
    var medians: [SpawnPath: SpawnMeasure] = [:]
    for path in paths {
        let all = measures[path] ?? []
        medians[path] = SpawnMeasure(rate: median(all.map(\.rate)), ownMicroseconds: median(all.map(\.ownMicroseconds)),
                                     childMicroseconds: median(all.map(\.childMicroseconds)))
        print("median of \(rounds) rounds of \(count), \(path.rawValue): \(describe(medians[path]!))")
    }
    for (index, path) in paths.enumerated() {
        for other in paths[..<index] {
            // A share per round (both measured within seconds of each other), then the median share.
            let shares = zip(measures[path] ?? [], measures[other] ?? []).map { $0.rate / $1.rate }
            print("\(path.rawValue) / \(other.rawValue): \(Int((median(shares) * 100).rounded()))% (median of the rounds' ratios; "
                  + "range \(Int(((shares.min() ?? 0) * 100).rounded()))–\(Int(((shares.max() ?? 0) * 100).rounded()))%)")
        }
    }
    print("\(machineDescription()); load average now \(loadAverage())")
}

/// CPU time (µs: schedstat's run time, else user + system ticks) of each thread of this process now, by thread id, with its name.
func threadTimes() -> [Int: (name: String, microseconds: Double)] {
    let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
    var times: [Int: (String, Double)] = [:]
    for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? [] {
        guard let id = Int(entry), let stat = try? String(contentsOfFile: "/proc/self/task/\(entry)/stat", encoding: .utf8),
              let open = stat.firstIndex(of: "("), let close = stat.lastIndex(of: ")") else { continue }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
        // schedstat's first field is the thread's run time in ns; clock ticks are 10 ms.
        let nanoseconds = (try? String(contentsOfFile: "/proc/self/task/\(entry)/schedstat", encoding: .utf8))
            .flatMap { $0.split(separator: " ").first.flatMap { Double($0) } }
        times[id] = (String(stat[stat.index(after: open)..<close]), nanoseconds.map { $0 / 1e3 } ?? (user + system) / ticks * 1e6)
    }
    return times
}

/// The 1-, 5- and 15-minute load averages, as `/proc/loadavg` gives them.
func loadAverage() -> String {
    let text = (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8)) ?? ""
    return text.split(separator: " ").prefix(3).joined(separator: " ")
}
