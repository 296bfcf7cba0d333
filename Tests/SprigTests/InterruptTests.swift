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

    /// Starts `sprig-bench hold`, which keeps a block busy, and reads the PIDs of its manager and workers.
    private func startHolder(_ extra: [String]) throws -> (Process, [Int32]) {
        let (process, text) = try startAndReadUntil("\n", try builtBinary("sprig-bench"), ["hold"] + extra)
        let line = try #require(text.split(separator: "\n").first { $0.hasPrefix("pids=") })
        let pids = line.dropFirst("pids=".count).split(separator: ",").compactMap { Int32($0) }
        try #require(pids.count == 3, "expected a manager and two workers, got \(line)")
        return (process, pids)
    }
}

