@testable import Sprig
import Foundation
import Testing

@Suite("The scaling planner")
struct ScalingPlannerTests {
    private let now = ContinuousClock.now
    private func planner(_ strategy: Strategy, initBlocks: Int = 1, minBlocks: Int = 0, maxBlocks: Int = 4, slots: Int = 2) -> ScalingPlanner {
        ScalingPlanner(strategy: strategy, initBlocks: initBlocks, minBlocks: minBlocks, maxBlocks: maxBlocks, slotsPerBlock: slots)
    }

    @Test func noneKeepsInitBlocksAndNothingMore() {
        let none = planner(.none, initBlocks: 2)
        #expect(none.decide(blocks: [], waiting: 100, now: now) == [.start(count: 2)])
        let one = [ScalingPlanner.BlockLoad(block: 0, outstanding: 4, idleSince: nil)]
        #expect(none.decide(blocks: one, waiting: 100, now: now) == [.start(count: 1)])  // a lost block is replaced
        let two = one + [ScalingPlanner.BlockLoad(block: 1, outstanding: 0, idleSince: now - .seconds(999))]
        #expect(none.decide(blocks: two, waiting: 100, now: now).isEmpty)
    }

    @Test func simpleAddsBlocksWhileTasksWaitUpToMax() {
        let simple = planner(.simple(idleTime: .seconds(10)))
        #expect(simple.decide(blocks: [], waiting: 3, now: now) == [.start(count: 2)])
        #expect(simple.decide(blocks: [], waiting: 100, now: now) == [.start(count: 4)])
        #expect(simple.decide(blocks: [], waiting: 0, now: now).isEmpty)
    }

    @Test func simpleRemovesBlocksIdleLongEnoughDownToMin() {
        let simple = planner(.simple(idleTime: .seconds(10)), minBlocks: 1)
        let blocks = [
            ScalingPlanner.BlockLoad(block: 0, outstanding: 0, idleSince: now - .seconds(30)),
            ScalingPlanner.BlockLoad(block: 1, outstanding: 0, idleSince: now - .seconds(30)),
            ScalingPlanner.BlockLoad(block: 2, outstanding: 0, idleSince: now - .seconds(2)),
        ]
        #expect(simple.decide(blocks: blocks, waiting: 0, now: now) == [.stop(block: 1), .stop(block: 0)])
        let keepTwo = planner(.simple(idleTime: .seconds(10)), minBlocks: 2)
        #expect(keepTwo.decide(blocks: blocks, waiting: 0, now: now) == [.stop(block: 1)])
        #expect(simple.decide(blocks: blocks, waiting: 5, now: now).isEmpty)  // never while tasks wait
    }
}

@Suite("Protocol bytes and shell quoting")
struct WireFormatTests {
    @Test func framesRoundTrip() throws {
        var writer = ByteWriter()
        writer.u32(7)
        writer.u64(UInt64.max - 1)
        writer.u8(2)
        writer.blob([1, 2, 3])
        let frame = writer.frame(.tasks)
        #expect(Array(frame.prefix(5)) == [UInt8(frame.count - 5), 0, 0, 0, FrameType.tasks.rawValue])
        var reader = ByteReader(Array(frame.dropFirst(5)))
        #expect(try reader.u32() == 7)
        #expect(try reader.u64() == UInt64.max - 1)
        #expect(try reader.u8() == 2)
        #expect(try reader.blob() == [1, 2, 3])
        #expect(throws: ByteReader.Truncated.self) { try reader.u8() }
    }

    @Test func hostileWordsSurviveAShell() throws {
        let words = ["plain", "two words", "it's", "$HOME", "a;b", "back\\slash", "new\nline", "\"quoted\"", "", "*", "`cmd`", "-n"]
        let line = "printf '%s\\0' " + words.map(shellQuote).joined(separator: " ")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", line]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let echoed = data.split(separator: 0, omittingEmptySubsequences: false).dropLast().map { String(decoding: $0, as: UTF8.self) }
        #expect(echoed == words)
    }
}
