@testable import Sprig
import Testing

/// The engine's dispatch to a local block's workers (the two-hop path) as a value: no process,
/// pipe or clock; every test reads the actions returned.
@Suite("Worker dispatch")
struct WorkerDispatchTests {
    typealias Task = WorkerDispatch.Task
    typealias Sent = WorkerDispatch.Sent

    let start = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    func tasks(_ ids: ClosedRange<UInt64>, function: UInt64 = 7) -> [Task] {
        ids.map { Task(id: $0, functionKey: function) }
    }

    /// Two workers joined, prefetch 3.
    func twoWorkers() -> WorkerDispatch {
        var dispatch = WorkerDispatch(prefetch: 3)
        #expect(dispatch.workerJoined(0, pid: 100, at: start).isEmpty)
        #expect(dispatch.workerJoined(1, pid: 101, at: start).isEmpty)
        return dispatch
    }

    @Test func tasksGoToTheLeastLoadedWorkersOneAheadEachWithEachFunctionOnce() {
        var dispatch = twoWorkers()
        let actions = dispatch.enqueue(tasks(1...5), at: start)
        // Before any task has finished a worker holds one beside the one it runs: 2 each, in turn.
        #expect(actions == [.send(worker: 0, tasks: [Sent(id: 1, includeFunction: true), Sent(id: 3, includeFunction: false)]),
                            .send(worker: 1, tasks: [Sent(id: 2, includeFunction: true), Sent(id: 4, includeFunction: false)])])
        #expect(dispatch.queue.map(\.id) == [5])
        #expect(dispatch.inFlight(0) == [1, 3])
        // A bash task with its command ready has no function to send.
        var bash = WorkerDispatch(prefetch: 0)
        _ = bash.workerJoined(0, pid: 9, at: start)
        #expect(bash.enqueue([Task(id: 1, functionKey: 0)], at: start) == [.send(worker: 0, tasks: [Sent(id: 1, includeFunction: false)])])
    }

    @Test func startedAndResultsAreForwardedAndAResultMakesRoomForTheNext() {
        var dispatch = twoWorkers()
        _ = dispatch.enqueue(tasks(1...5), at: start)
        let actions = dispatch.received([(.started, 1), (.result, 1), (.started, 3)], from: 0, at: at(1))
        #expect(actions == [.forward(1), .forward(1), .forward(3), .send(worker: 0, tasks: [Sent(id: 5, includeFunction: false)])])
        #expect(dispatch.inFlight(0) == [3, 5])
        #expect(dispatch.averageTask != nil)
    }

    @Test func shortTasksLetWorkersHoldThePrefetchDepth() {
        var dispatch = twoWorkers()
        _ = dispatch.enqueue(tasks(1...2), at: start)
        // Task 1 took 0.5 ms: under the 1 ms below which the prefetch depth applies.
        _ = dispatch.received([(.started, 1)], from: 0, at: start)
        _ = dispatch.received([(.result, 1)], from: 0, at: start + .microseconds(500))
        #expect(dispatch.ahead == 3)
        let actions = dispatch.enqueue(tasks(10...20), at: at(1))
        // Worker 0 is empty, worker 1 holds task 2: each fills to 1 + 3, the less loaded first
        // (the lower index on a tie).
        #expect(actions == [.send(worker: 0, tasks: [10, 11, 13, 15].map { Sent(id: $0, includeFunction: false) }),
                            .send(worker: 1, tasks: [12, 14, 16].map { Sent(id: $0, includeFunction: false) })])
        // Prefetch 0 means one task per worker, however short.
        var single = WorkerDispatch(prefetch: 0)
        _ = single.workerJoined(0, pid: 9, at: start)
        #expect(single.enqueue(tasks(1...3), at: start) == [.send(worker: 0, tasks: [Sent(id: 1, includeFunction: true)])])
    }

    @Test func aWorkerBusyWithALongTaskIsRecalledOnceAndItsTasksGoFirstElsewhere() {
        var dispatch = WorkerDispatch(prefetch: 3)
        _ = dispatch.workerJoined(0, pid: 100, at: start)
        _ = dispatch.enqueue(tasks(1...3), at: start)  // worker 0: 1, 2; queue: 3
        _ = dispatch.received([(.started, 1)], from: 0, at: start)
        // Not yet busy: the recall is due at 50 ms (no average yet).
        #expect(dispatch.dispatch(at: at(10)).isEmpty)
        #expect(dispatch.nextRecall == start + .milliseconds(50))
        #expect(dispatch.dispatch(at: at(60)) == [.recall(worker: 0)])
        #expect(dispatch.dispatch(at: at(70)).isEmpty)  // once per running task
        // A second worker joins; the recalled task comes back and goes to it before task 3.
        #expect(dispatch.workerJoined(1, pid: 101, at: at(71)) == [.send(worker: 1, tasks: [Sent(id: 3, includeFunction: true)])])
        let actions = dispatch.received([(.recalled, 2)], from: 0, at: at(72))
        #expect(actions == [.send(worker: 1, tasks: [Sent(id: 2, includeFunction: false)])])
        #expect(dispatch.inFlight(1) == [3, 2])
        #expect(dispatch.inFlight(0) == [1])
    }

    @Test func recalledTasksAreQueuedFirstInTheOrderTheyCameBack() {
        var dispatch = WorkerDispatch(prefetch: 3)
        _ = dispatch.workerJoined(0, pid: 100, at: start)
        _ = dispatch.received([(.started, 90), (.result, 90)], from: 0, at: start)  // average 0: deep prefetch
        _ = dispatch.enqueue(tasks(1...6), at: start)  // worker 0: 1–4; queue: 5, 6
        _ = dispatch.received([(.started, 1)], from: 0, at: start)
        #expect(dispatch.dispatch(at: at(3)) == [.recall(worker: 0)])
        #expect(dispatch.received([(.recalled, 2), (.recalled, 3), (.recalled, 4)], from: 0, at: at(3)).isEmpty)
        #expect(dispatch.queue.map(\.id) == [2, 3, 4, 5, 6])
    }

    @Test func killingATaskDropsItSkipsItOrKillsItsWorker() {
        var dispatch = twoWorkers()
        _ = dispatch.enqueue(tasks(1...5), at: start)  // 0: 1, 3; 1: 2, 4; queue: 5
        _ = dispatch.received([(.started, 1)], from: 0, at: start)
        #expect(dispatch.kill(5) == [.dropped(5)])
        #expect(dispatch.kill(3) == [.skip(worker: 0, task: 3)])
        #expect(dispatch.kill(1) == [.killWorker(0)])
        #expect(dispatch.kill(99).isEmpty)
        // What comes back of killed tasks is dropped; a killed worker gets no more tasks.
        #expect(dispatch.received([(.skipped, 3)], from: 0, at: at(1)).isEmpty)
        _ = dispatch.enqueue(tasks(6...6), at: at(1))
        #expect(dispatch.inFlight(0) == [1])
        // Its end reports nothing for the killed task it ran.
        #expect(dispatch.workerEnded(0, pid: 100, at: at(2)).isEmpty)
        #expect(dispatch.workerIndexes == [1])
    }

    @Test func aKilledTaskThatStartsKillsItsWorker() {
        var dispatch = twoWorkers()
        _ = dispatch.enqueue(tasks(1...4), at: start)
        #expect(dispatch.kill(3) == [.skip(worker: 0, task: 3)])
        // The worker started it before it read the KILL_TASK.
        #expect(dispatch.received([(.started, 1), (.result, 1), (.started, 3)], from: 0, at: at(1))
                    == [.forward(1), .forward(1), .killWorker(0)])
    }

    @Test func aDeadWorkersRunningTaskIsLostAndTheOthersAreQueuedAgainInOrder() {
        var dispatch = WorkerDispatch(prefetch: 3)
        _ = dispatch.workerJoined(0, pid: 100, at: start)
        _ = dispatch.received([(.started, 90), (.result, 90)], from: 0, at: start)
        _ = dispatch.enqueue(tasks(1...6), at: start)  // 0: 1–4; queue: 5, 6
        _ = dispatch.received([(.started, 1)], from: 0, at: start)
        // News of an older worker with the same index changes nothing.
        #expect(dispatch.workerEnded(0, pid: 55, at: at(1)).isEmpty)
        #expect(dispatch.workerEnded(0, pid: 100, at: at(1)) == [.lost(1, worker: 0)])
        #expect(dispatch.queue.map(\.id) == [2, 3, 4, 5, 6])
        // Its replacement gets them first, and the function again (a new process).
        #expect(dispatch.workerJoined(0, pid: 102, at: at(2))
                    == [.send(worker: 0, tasks: [Sent(id: 2, includeFunction: true)] + [3, 4, 5].map { Sent(id: $0, includeFunction: false) })])
    }

    @Test func aTaskBegunAsItsWorkerWasKilledForAnotherIsQueuedAgain() {
        var dispatch = twoWorkers()
        _ = dispatch.enqueue(tasks(1...2), at: start)
        _ = dispatch.enqueue(tasks(3...3), at: start)  // 0: 1, 3; 1: 2
        _ = dispatch.received([(.started, 1)], from: 0, at: start)
        #expect(dispatch.kill(1) == [.killWorker(0)])
        // Task 1 finished anyway and task 3 began before the kill landed.
        #expect(dispatch.received([(.result, 1), (.started, 3)], from: 0, at: at(1)) == [.forward(3)])
        // Nothing is lost: task 3 goes to the other worker.
        #expect(dispatch.workerEnded(0, pid: 100, at: at(2)) == [.send(worker: 1, tasks: [Sent(id: 3, includeFunction: false)])])
    }

    @Test func aSilentWorkersRunningTaskIsLost() {
        var dispatch = twoWorkers()
        _ = dispatch.enqueue(tasks(1...1), at: start)
        _ = dispatch.received([(.started, 1)], from: 0, at: start)
        #expect(dispatch.killing(0, because: .silent) == [.killWorker(0)])
        #expect(dispatch.killing(0, because: .silent).isEmpty)  // asked once
        #expect(dispatch.workerEnded(0, pid: 100, at: at(2)) == [.lost(1, worker: 0)])
    }

    @Test func resourceSamplesAreForwardedUnlessTheirTaskWasKilled() {
        var dispatch = twoWorkers()
        _ = dispatch.enqueue(tasks(1...4), at: start)
        _ = dispatch.received([(.started, 1)], from: 0, at: start)
        #expect(dispatch.received([(.resource, 1)], from: 0, at: at(1)) == [.forward(1)])
        _ = dispatch.kill(1)
        #expect(dispatch.received([(.resource, 1)], from: 0, at: at(2)).isEmpty)
        // Entries from a worker that is not known (ended) are ignored.
        #expect(dispatch.received([(.result, 2)], from: 7, at: at(2)).isEmpty)
    }
}
