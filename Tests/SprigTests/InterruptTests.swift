import Foundation
import Testing

@Suite("No block outlives its program", .serialized, .timeLimit(.minutes(1)))
struct InterruptTests {
    @Test(arguments: [(SIGINT, Int32(130)), (SIGTERM, Int32(143))])
    func aSignalStopsEveryBlockAndExitsWithItsCode(signal: Int32, status: Int32) throws {
        let (process, pids) = try startHolder([])
        kill(process.processIdentifier, signal)
        try waitBounded(process)
        #expect(process.terminationStatus == status)
        #expect(eventually { pids.allSatisfy { !processExists($0) } }, "left behind: \(pids.filter(processExists))")
    }

    @Test func exitingWithoutShutdownLeavesNoBlockBehind() throws {
        let (process, pids) = try startHolder(["--exit"])
        try waitBounded(process)
        #expect(process.terminationStatus == 0)
        #expect(eventually { pids.allSatisfy { !processExists($0) } }, "left behind: \(pids.filter(processExists))")
    }

    /// Waits at most 20 s for the program to end; kills it (and fails) if it does not.
    private func waitBounded(_ process: Process) throws {
        let ended = eventually(timeout: .seconds(20)) { !process.isRunning }
        if !ended { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        try #require(ended, "the program did not end")
    }

    /// Starts `sprig-bench hold`, which keeps a block busy, and reads the PIDs of its manager and workers.
    private func startHolder(_ extra: [String]) throws -> (Process, [Int32]) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try benchBinary())
        process.arguments = ["hold"] + extra
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        var text = ""
        while !text.contains("\n") {
            let chunk = pipe.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            text += String(decoding: chunk, as: UTF8.self)
        }
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("pids=") })
        let pids = line.dropFirst("pids=".count).split(separator: ",").compactMap { Int32($0) }
        try #require(pids.count == 3, "expected a manager and two workers, got \(line)")
        return (process, pids)
    }
}

/// The `sprig-bench` binary built beside the tests.
func benchBinary() throws -> String {
    var folder = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).standardizedFileURL.deletingLastPathComponent()
    for _ in 0..<4 {
        let candidate = folder.appendingPathComponent("sprig-bench").path
        if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        folder.deleteLastPathComponent()
    }
    return URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../.build/debug/sprig-bench").standardizedFileURL.path
}
