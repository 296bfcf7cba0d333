import Foundation
import Sprig

func holdBlocks(exitAtOnce: Bool) throws {
    ProgramSignals.stopOnInterrupt()
    let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../python/examples").standardizedFileURL.path
    let htex = HighThroughputExecutor(label: "hold", maxWorkers: 2, provider: LocalProvider(initBlocks: 1, maxBlocks: 1))
    let dfk = try DataFlowKernel(config: Config(executors: [htex], runDirectory: NSTemporaryDirectory() + "sprig-hold-\(getpid())",
                                                strategy: .none, python: PythonConfiguration(searchPaths: [folder])))
    let generate = try dfk.pythonApp(module: "apps", function: "generate")
    let running = (0..<2).map { _ in generate(10, 600) }
    let deadline = ContinuousClock.now + .seconds(30)
    func processIDs() -> [Int32] { dfk.executorStatus(htex.label)?.processIDs ?? [] }
    while processIDs().count < 3 && ContinuousClock.now < deadline { usleep(5_000) }
    FileHandle.standardOutput.write(Data(("pids=" + processIDs().map(String.init).joined(separator: ",") + "\n").utf8))
    if exitAtOnce { exit(0) }
    _ = running.map { try? $0.result() }
}
