// CPU-bound Python: the same apps on the thread executor (one GIL: no speed-up) and on the
// process executor (one worker per core). Prints both times and the speed-up.
import Foundation
import Sprig

// Ctrl-C and SIGTERM stop every block before the program exits (the library leaves signals to the program).
ProgramSignals.stopOnInterrupt()

let pythonFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../python/examples").standardizedFileURL.path
let cores = ProcessInfo.processInfo.activeProcessorCount
let apps = cores * 2
let size = 3_000_000

func time(_ label: String, _ executor: any ExecutorDescription) throws -> Double {
    let dfk = try DataFlowKernel(config: Config(executors: [executor], strategy: .none,
                                                python: PythonConfiguration(searchPaths: [pythonFolder])))
    defer { dfk.shutdown() }
    let burn = try dfk.pythonApp(module: "apps", function: "burn")
    _ = try burn(10).result()  // warm-up: blocks and threads are up
    let start = ContinuousClock.now
    let futures = (0..<apps).map { _ in burn(size) }
    for future in futures { _ = try future.result() }
    let elapsed = ContinuousClock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    print(String(format: "%@: %d × burn(%d) in %.2f s", label, apps, size, seconds))
    return seconds
}

let threads = try time("thread executor, \(cores) threads", ThreadPoolExecutor(label: "threads", maxThreads: cores))
let processes = try time("process executor, \(cores) workers", HighThroughputExecutor(label: "htex", maxWorkers: cores))
print(String(format: "speed-up: %.1f× on %d cores", threads / processes, cores))
