import Foundation
@testable import Sprig
import Testing

/// The process executor's decisions as values: dispatch shares, block bookkeeping, start backoff.
/// No process, thread or pipe.
@Suite("Process executor state")
struct ExecutorStateTests {
    typealias Room = DispatchPlan.Room

    @Test func idleWorkersComeFirstOnEveryBlockThenPrefetchRoundRobin() {
        // Two blocks with 2 idle workers each and room for 6: 4 go to idle workers, the rest alternate.
        #expect(DispatchPlan.share(waiting: 7, rooms: [Room(free: 6, idle: 2), Room(free: 6, idle: 2)]) == [4, 3])
        // Fewer tasks than idle workers: dealt one per block in turn, not all to the first.
        #expect(DispatchPlan.share(waiting: 3, rooms: [Room(free: 6, idle: 2), Room(free: 6, idle: 2)]) == [2, 1])
        // Never more than a block's room, never more than what waits.
        #expect(DispatchPlan.share(waiting: 100, rooms: [Room(free: 3, idle: 1), Room(free: 1, idle: 1)]) == [3, 1])
        #expect(DispatchPlan.share(waiting: 0, rooms: [Room(free: 3, idle: 3)]) == [0])
        // A block without room gets nothing, its neighbour everything it can take.
        #expect(DispatchPlan.share(waiting: 5, rooms: [Room(free: 0, idle: 0), Room(free: 4, idle: 2)]) == [0, 4])
    }

    /// Tasks are sent by whichever thread made work or room for them, one thread at a time: a
    /// thread that finds the turn taken leaves a note, and the holder goes round once more, so
    /// nothing queued meanwhile waits for a later event.
    @Test func oneThreadDispatchesAtATimeAndGoesRoundAgainWhenAsked() {
        var turn = DispatchTurn()
        let answers = [turn.claim(),
                       turn.claim(),  // taken: the note is left
                       turn.claim(),  // two notes are one more round, not two
                       turn.passOn(),  // the holder goes round again
                       turn.passOn(),  // and then lets go
                       turn.claim(),  // free again
                       turn.passOn()]
        #expect(answers == [true, false, false, true, false, true, false])
    }

    @Test func aBlockTakesTasksOnlyWhenReadyAndSendsEachFunctionOnce() throws {
        var ledger = BlockLedger()
        let now = ContinuousClock.now
        let tasks = [Self.task(1, function: 9), Self.task(2, function: 9), Self.task(3, function: 0)]
        #expect(ledger.take(tasks, at: now) == nil)  // starting: no HELLO yet
        #expect(ledger.freeSlots(capacity: 4) == 0)
        ledger.becameReady(at: now)
        #expect(ledger.idleSince == now)
        #expect(ledger.take(tasks, at: now) == [true, false, false])  // function 9 travels once; 0 never
        #expect(ledger.freeSlots(capacity: 4) == 1)
        #expect(ledger.idleSince == nil)
        #expect(ledger.starting(2)?.taskID == TaskID(2))
        #expect(ledger.remove(2, at: now)?.attempt.taskID == TaskID(2))
        #expect(ledger.remove(2, at: now) == nil)  // a result for a task no longer held is ignored
    }

    /// Running tasks do not take the room of waiting ones: a block whose worker runs (or hangs in)
    /// a task still takes tasks for its other workers. (The block's room counted every task it
    /// held: a worker stopped with two tasks idled its neighbour — 0 completions for 10 s.)
    @Test func runningTasksDoNotTakeTheRoomOfWaitingOnes() {
        var ledger = BlockLedger()
        let now = ContinuousClock.now
        ledger.becameReady(at: now)
        _ = ledger.take([Self.task(1, function: 1), Self.task(2, function: 1)], at: now)
        #expect(ledger.freeSlots(waiting: 2) == 0)
        _ = ledger.starting(1)
        #expect(ledger.freeSlots(waiting: 2) == 1)
        _ = ledger.starting(2)
        #expect(ledger.freeSlots(waiting: 2) == 2)
        _ = ledger.remove(1, at: now)
        #expect(ledger.freeSlots(waiting: 2) == 2 && ledger.outstanding == 1)
    }

    @Test func anEndingReportsWhatWasLostWithTheFirstReasonGiven() {
        var ledger = BlockLedger()
        let now = ContinuousClock.now
        ledger.becameReady(at: now)
        _ = ledger.take([Self.task(1, function: 1), Self.task(2, function: 1)], at: now)
        ledger.noteEnd("its manager was silent")
        ledger.noteEnd("its stream broke")
        let ending = ledger.end(exitCode: 137)
        #expect(ending.wasReady)
        #expect(Set(ending.lost.map(\.attempt.taskID)) == [TaskID(1), TaskID(2)])
        #expect(ending.reason == "its manager was silent")
        #expect(ledger.phase == .dead && ledger.outstanding == 0)

        var neverReady = BlockLedger()
        let failed = neverReady.end(exitCode: 3)
        #expect(!failed.wasReady && failed.lost.isEmpty && failed.reason == "its manager exited, EXIT CODE: 3")
    }

    @Test func aFailingSlotBacksOffAndTheExecutorGivesUpOnlyWhenNothingCanRun() {
        var slots = SlotSupervisor(slots: 2)
        let now = ContinuousClock.now
        #expect(slots.freeSlot(used: [], now: now) == 0)
        let first = slots.failed(0, message: "host a down", permanent: false, liveBlocks: 1, now: now)
        #expect(first == .init(report: true, failWaiting: false))
        #expect(slots.freeSlot(used: [1], now: now) == nil)  // slot 0 waits out its pause
        #expect(slots.freeSlot(used: [1], now: now + .seconds(31)) == 0)
        #expect(slots.failed(0, message: "host a down", permanent: false, liveBlocks: 1, now: now).report == false)
        // Every slot failing three times in a row, with nothing alive: broken, waiting tasks fail.
        for _ in 0..<3 { _ = slots.failed(1, message: "host b down", permanent: false, liveBlocks: 0, now: now) }
        let last = slots.failed(0, message: "host a down", permanent: false, liveBlocks: 0, now: now)
        // The reason names every slot's failure, not only the last (it named only the last host).
        #expect(last.failWaiting && slots.broken == "host a down; host b down")
        #expect(slots.failureMessages == [0: "host a down", 1: "host b down"])
        slots.ready(0)
        #expect(slots.failureMessages == [1: "host b down"])
    }

    @Test func withAThresholdTheExecutorGivesUpAfterThatManyFailedStartsInAllAsParslDoes() {
        // A provider defined in Python: Parsl's simple_error_handler, max(1, init_blocks) failures.
        var slots = SlotSupervisor(slots: 2, threshold: 2)
        let now = ContinuousClock.now
        #expect(slots.failed(0, message: "submit raised", permanent: false, liveBlocks: 0, now: now) == .init(report: true, failWaiting: false))
        // A live block keeps the executor working whatever the count.
        #expect(slots.failed(1, message: "submit raised", permanent: false, liveBlocks: 1, now: now).failWaiting == false)
        #expect(slots.broken == nil)
        #expect(slots.failed(1, message: "submit raised again", permanent: false, liveBlocks: 0, now: now).failWaiting)
        #expect(slots.broken == "submit raised; submit raised again")
    }

    @Test func aPermanentFailureBreaksTheExecutorAtOnce() {
        var slots = SlotSupervisor(slots: 3)
        let verdict = slots.failed(2, message: "Python 3.12 on the host", permanent: true, liveBlocks: 0, now: .now)
        #expect(verdict == .init(report: true, failWaiting: true))
        #expect(slots.broken == "Python 3.12 on the host")
    }

    private static func task(_ id: Int, function: UInt64) -> WireTask {
        let attempt = Attempt(taskID: TaskID(id), app: "app", number: 1, work: .swift({ 0 }), walltime: nil, onEnd: { _ in })
        return WireTask(attempt: attempt, kind: .python, functionKey: function, function: [1], options: [], payload: [])
    }
}
