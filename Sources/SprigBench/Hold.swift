import Foundation
import Sprig

func holdBlocks(exitAtOnce: Bool) throws {
    ProgramSignals.stopOnInterrupt()
    let dfk = try localBlockKernel(label: "hold", runDirectory: NSTemporaryDirectory() + "sprig-hold-\(getpid())")
    let generate = try dfk.pythonApp(module: "apps", function: "generate")
    let running = (0..<2).map { _ in generate(10, 600) }
    let deadline = ContinuousClock.now + .seconds(30)
    func processIDs() -> [Int32] { dfk.executorStatus("hold")?.processIDs ?? [] }
    while processIDs().count < 3 && ContinuousClock.now < deadline { usleep(5_000) }
    FileHandle.standardOutput.write(Data(("pids=" + processIDs().map(String.init).joined(separator: ",") + "\n").utf8))
    if exitAtOnce { exit(0) }
    _ = running.map { try? $0.result() }
}

/// A kernel with one process executor `label` (one local block of 2 workers, no scaling) whose
/// Python apps come from `python/examples`.
func localBlockKernel(label: String, runDirectory: String) throws -> DataFlowKernel {
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../python/examples").standardizedFileURL.path
    let htex = HighThroughputExecutor(label: label, maxWorkers: 2, provider: LocalProvider(initBlocks: 1, maxBlocks: 1))
    return try DataFlowKernel(config: Config(executors: [htex], runDirectory: runDirectory, strategy: .none,
                                             python: PythonConfiguration(searchPaths: [folder])))
}
