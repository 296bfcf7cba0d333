// The seed article's loop: five generate(10, i) apps, app i sleeping i seconds, on four threads.
// They overlap, so the whole run takes about 4 s (the longest sleep), not 0+1+2+3+4 = 10 s.
import Foundation
import Sprig

let pythonFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../python/examples").standardizedFileURL.path

let dfk = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "threads", maxThreads: 4)]))
let generate = try dfk.pythonApp(module: "apps", function: "generate", from: pythonFolder)

let start = ContinuousClock.now
let futures = (0..<5).map { i in generate(10, i) }
for future in futures { print(try future.result(as: Int.self)) }
let elapsed = ContinuousClock.now - start
print(String(format: "5 apps in %.1f s", Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18))
dfk.shutdown()
