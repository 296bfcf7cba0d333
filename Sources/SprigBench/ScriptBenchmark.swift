import Foundation

/// `sprig-bench script [--runs N]`: `sprig run` of a Python workflow script, measured from outside
/// (process start to first result) and inside (no-op apps submitted from Python).
func runScriptBenchmark(runs: Int) throws {
    let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    let script = here.appendingPathComponent("../../python/examples/bench_script.py").standardizedFileURL.path
    let sprig = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("sprig").path
    guard FileManager.default.isExecutableFile(atPath: sprig) else {
        print("sprig-bench script: \(sprig) is not built; run swift build -c release first")
        exit(2)
    }
    var figures: [String: [Double]] = [:]
    for _ in 0..<runs {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: sprig)
        process.arguments = ["run", script]
        let pipe = Pipe()
        process.standardOutput = pipe
        let started = Date().timeIntervalSince1970
        try process.run()
        let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        for line in output.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let value = Double(parts[1]) else { continue }
            if parts[0] == "first_result_epoch" {
                figures["startup: sprig run start → first result (s)", default: []].append(value - started)
            } else {
                figures[String(parts[0]), default: []].append(value)
            }
        }
    }
    print("sprig run, thread executor (2 threads), \(runs) run(s); \(machineDescription())")
    print("| figure | median (min–max) |")
    print("|---|---|")
    for (name, values) in figures.sorted(by: { $0.key < $1.key }) {
        let sorted = values.sorted()
        print("| \(name) | \(String(format: "%.3f", sorted[sorted.count / 2])) (\(String(format: "%.3f", sorted.first!))–\(String(format: "%.3f", sorted.last!))) |")
    }
}
