// The seed article's `local_htex` configuration: one block from a LocalProvider (initBlocks 1,
// maxBlocks 1), one core per worker, strategy none; runs multiply(5, 9) and the five generate apps
// in worker processes.
import Foundation
import Sprig

// Ctrl-C and SIGTERM stop every block before the program exits (the library leaves signals to the program).
ProgramSignals.stopOnInterrupt()

let pythonFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../python/examples").standardizedFileURL.path

let localHTEX = Config(
    executors: [HighThroughputExecutor(label: "htex_Local", coresPerWorker: 1, workerDebug: true,
                                       provider: LocalProvider(initBlocks: 1, maxBlocks: 1))],
    strategy: .none,
    python: PythonConfiguration(searchPaths: [pythonFolder]))
let dfk = try DataFlowKernel(config: localHTEX)
let multiply = try dfk.pythonApp(module: "apps", function: "multiply")
let generate = try dfk.pythonApp(module: "apps", function: "generate")

print(try multiply(5, 9).result(as: Int.self))
let start = ContinuousClock.now
let numbers = (0..<5).map { generate(10, $0) }
for number in numbers { print(try number.result(as: Int.self)) }
let elapsed = ContinuousClock.now - start
let workers = (dfk.config.executors[0] as! HighThroughputExecutor).workersPerBlock
print(String(format: "5 generate apps on %d workers in %.1f s", workers,
             Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
dfk.shutdown()
