// One graph of three kinds of app: a Swift app makes numbers, a Python app scales them and writes a
// report file, and a bash app counts the report's lines into another file.
import Foundation
import Sprig

// Ctrl-C and SIGTERM stop every block before the program exits (the library leaves signals to the program).
ProgramSignals.stopOnInterrupt()

let pythonFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .appendingPathComponent("../../python/examples").standardizedFileURL.path
let work = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-mixed-\(getpid())").path
try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)

let dfk = try DataFlowKernel()
let makeNumbers = try dfk.swiftApp(name: "make_numbers") { (count: Int) in Array(1...count) }
let scale = try dfk.pythonApp(module: "apps", function: "scale", from: pythonFolder)
let report = try dfk.pythonApp(module: "apps", function: "render_report", from: pythonFolder)
let countLines = try dfk.bashApp(name: "count_lines") { (report: File, into: File) in
    "wc -l < '\(report.path)' > '\(into.path)'"
}

let numbers = makeNumbers(5)                                   // Swift: [1, 2, 3, 4, 5]
let scaled = scale(numbers, 10)                                // Python: [10, 20, 30, 40, 50]
let reportFile = File("\(work)/report.txt")
let total = report(scaled, outputs: [reportFile])              // Python: writes the file, returns 150
let countFile = File("\(work)/count.txt")
let counted = countLines(total.outputs[0], File(countFile.path), outputs: [countFile])  // bash

print("scaled:", try scaled.result(as: [Int].self))
print("total:", try total.result(as: Int.self))
_ = try counted.result()
print("lines in report:", try String(contentsOfFile: countFile.path, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines))
dfk.shutdown()
try? FileManager.default.removeItem(atPath: work)
