// The seed article's first example: multiply(5, 9), a function from a .py file, run as a Python app.
import Foundation
import Sprig

let pythonFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../python/examples").standardizedFileURL.path

let dfk = try DataFlowKernel(config: Config(executors: [ThreadPoolExecutor(label: "threads", maxThreads: 2)]))
let multiply = try dfk.pythonApp(module: "apps", function: "multiply", from: pythonFolder)

let product = multiply(5, 9)
print(try product.result(as: Int.self))
dfk.shutdown()
