import Foundation
import PythonBridge
import Sprig
import Testing

/// The folder holding the Python apps of these tests.
let samplesFolder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("PythonModules").path

/// A kernel with one thread executor under a unique label, and a scratch folder; both go away with `close()`.
final class Harness: @unchecked Sendable {  // immutable after init
    let dfk: DataFlowKernel
    let label: String
    let folder: String

    init(threads: Int = 2, retries: Int = 0, executors: [any ExecutorDescription]? = nil) throws {
        label = "t\(UInt32.random(in: 0..<UInt32.max))"
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-test-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        dfk = try DataFlowKernel(config: Config(executors: executors ?? [ThreadPoolExecutor(label: label, maxThreads: threads)],
                                                retries: retries, runDirectory: folder + "/runinfo"))
        _ = try dfk.importModule("engine_samples", from: samplesFolder)
    }

    func python(_ function: String, options: AppOptions = .init()) throws -> PythonApp {
        try dfk.pythonApp(module: "engine_samples", function: function, options: options)
    }

    func bash(_ function: String, options: AppOptions = .init()) throws -> PythonBashApp {
        try dfk.bashApp(module: "engine_samples", function: function, options: options)
    }

    func path(_ name: String) -> String { "\(folder)/\(name)" }

    func read(_ name: String) throws -> String { try String(contentsOfFile: path(name), encoding: .utf8) }

    func close() {
        dfk.shutdown()
        try? FileManager.default.removeItem(atPath: folder)
    }
}

/// Names of this process's threads, from /proc.
func threadNames() -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.compactMap { try? String(contentsOfFile: "/proc/self/task/\($0)/comm", encoding: .utf8) }
        .map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
}

/// Polls `condition` until it holds or `timeout` passes; returns whether it held.
func eventually(timeout: Duration = .seconds(10), _ condition: () -> Bool) -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        usleep(2_000)
    }
    return condition()
}

/// Whether a process with this PID exists (and is not a zombie of ours).
func processExists(_ pid: Int32) -> Bool {
    guard kill(pid, 0) == 0 else { return false }
    let status = (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8)) ?? ""
    return !status.contains(") Z ")
}

/// Starts `sprig` (built beside the tests) with `arguments` in `folder`, its output discarded;
/// the caller ends and waits for it.
func launchSprig(_ arguments: [String], in folder: String) throws -> Process {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: try builtBinary("sprig"))
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: folder)
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    return process
}
