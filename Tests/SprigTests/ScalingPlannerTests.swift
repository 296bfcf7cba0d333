@testable import Sprig
import Foundation
import Testing

@Suite("The scaling planner")
struct ScalingPlannerTests {
    private let now = ContinuousClock.now
    private func planner(_ strategy: Strategy, initBlocks: Int = 1, minBlocks: Int = 0, maxBlocks: Int = 4, slots: Int = 2,
                         parallelism: Double = 1) -> ScalingPlanner {
        ScalingPlanner(strategy: strategy, initBlocks: initBlocks, minBlocks: minBlocks, maxBlocks: maxBlocks, slotsPerBlock: slots,
                       parallelism: parallelism)
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

    @Test func simpleProvisionsSlotsForTasksTimesParallelism() {
        // Parsl's rule: slots for ceil(active tasks × parallelism), blocks of 2 slots here, at most 4.
        let half = planner(.simple(idleTime: .seconds(10)), maxBlocks: 8, parallelism: 0.5)
        #expect(half.decide(blocks: [], waiting: 8, now: now) == [.start(count: 2)])  // 4 slots
        #expect(half.decide(blocks: [], waiting: 5, now: now) == [.start(count: 2)])  // ceil(2.5) = 3 slots
        let busy = [ScalingPlanner.BlockLoad(block: 0, outstanding: 2, idleSince: nil)]
        #expect(half.decide(blocks: busy, waiting: 6, now: now) == [.start(count: 1)])  // 8 tasks: 4 slots, 2 blocks
        #expect(half.decide(blocks: busy, waiting: 2, now: now).isEmpty)  // 4 tasks: the block's 2 slots are enough
        // Nothing but one block while tasks are active, at parallelism 0.
        let lazy = planner(.simple(idleTime: .seconds(10)), parallelism: 0)
        #expect(lazy.decide(blocks: [], waiting: 100, now: now) == [.start(count: 1)])
        #expect(lazy.decide(blocks: busy, waiting: 100, now: now).isEmpty)
        // 1, the default, is a slot per task, as before.
        #expect(planner(.simple(idleTime: .seconds(10)), maxBlocks: 8).decide(blocks: [], waiting: 8, now: now) == [.start(count: 4)])
        // An idle block beyond what the tasks need is removed, down to the need.
        let idle = busy + [ScalingPlanner.BlockLoad(block: 1, outstanding: 0, idleSince: now - .seconds(30))]
        #expect(half.decide(blocks: idle, waiting: 0, now: now) == [.stop(block: 1)])
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
