import Foundation
import PythonBridge
import Sprig
import Testing

struct Boom: Error, CustomStringConvertible {
    let text: String
    var description: String { "boom: \(text)" }
}

@Suite("Join apps for Swift", .timeLimit(.minutes(2)))
struct JoinAppTests {
    @Test func aJoinAppEndsWithTheValueOfTheFutureItReturned() throws {
        let h = try Harness()
        defer { h.close() }
        let double = try h.dfk.swiftApp(name: "double") { (x: Int) in x * 2 }
        let twiceDoubled = try h.dfk.joinApp(name: "twice") { (x: Int) in double(double(x)) }
        let future = twiceDoubled(5)
        #expect(try future.result(timeout: .seconds(30)) == 20)
        #expect(future.appName == "twice")
    }

    @Test func aJoinAppReturningAListEndsWithTheirValuesInOrder() async throws {
        let h = try Harness()
        defer { h.close() }
        let square = try h.dfk.swiftApp(name: "square") { (x: Int) in x * x }
        let squares = try h.dfk.joinApp(name: "squares") { (n: Int) in (0..<n).map { square($0) } }
        #expect(try await squares(5).value == [0, 1, 4, 9, 16])
        #expect(try await squares(0).value == [])
    }

    @Test func joinAppsNestAndTakeFuturesAsArguments() throws {
        let h = try Harness()
        defer { h.close() }
        let add = try h.dfk.swiftApp(name: "add") { (a: Int, b: Int) in a + b }
        let inner = try h.dfk.joinApp(name: "inner") { (x: Int) in add(x, 1) }
        let outer = try h.dfk.joinApp(name: "outer") { (x: Int) in inner(add(x, 10)) }
        #expect(try outer(inner(1)).result(timeout: .seconds(30)) == 13)
    }

    @Test func aFailedInnerFutureFailsTheJoinAppWithJoinError() throws {
        let h = try Harness()
        defer { h.close() }
        let fail = try h.dfk.swiftApp(name: "fail") { (x: Int) -> Int in throw Boom(text: "\(x)") }
        let ok = try h.dfk.swiftApp(name: "ok") { (x: Int) in x }
        let gather = try h.dfk.joinApp(name: "gather") { (n: Int) in [ok(n), fail(n), fail(n + 1)] }
        let future = gather(7)
        let error = try #require(throws: JoinError.self) { try future.result(timeout: .seconds(30)) }
        #expect(error.taskID == future.taskID)
        #expect(error.app == "gather")
        #expect(error.failures.count == 2)
        let first = try #require(error.failures.first as? TaskError)
        #expect(first.app == "fail")
        #expect("\(error)".contains("join app gather") && "\(error)".contains("boom: 7") && "\(error)".contains("boom: 8"))
        let single = try h.dfk.joinApp(name: "single") { (x: Int) in fail(x) }
        #expect(throws: JoinError.self) { try single(1).result(timeout: .seconds(30)) }
    }

    @Test func aThrowingBodyFailsTheJoinAppWithItsOwnError() throws {
        let h = try Harness()
        defer { h.close() }
        let ok = try h.dfk.swiftApp(name: "ok") { (x: Int) in x }
        let refuse = try h.dfk.joinApp(name: "refuse") { (x: Int) -> AppFuture<Int> in
            if x < 0 { throw Boom(text: "negative") }
            return ok(x)
        }
        let error = try #require(throws: TaskError.self) { try refuse(-1).result(timeout: .seconds(30)) }
        guard case .swift(let thrown) = error.reason else {
            Issue.record("expected the body's own error, got \(error)")
            return
        }
        #expect(thrown is Boom)
        #expect(try refuse(3).result(timeout: .seconds(30)) == 3)
    }

    @Test func aFailedArgumentFailsTheJoinAppWithoutRunningIt() throws {
        let h = try Harness()
        defer { h.close() }
        let fail = try h.dfk.swiftApp(name: "fail") { (x: Int) -> Int in throw Boom(text: "\(x)") }
        let ran = LockedValue(false)
        let ok = try h.dfk.swiftApp(name: "ok") { (x: Int) in x }
        let join = try h.dfk.joinApp(name: "join") { (x: Int) -> AppFuture<Int> in
            ran.set(true)
            return ok(x)
        }
        #expect(throws: DependencyError.self) { try join(fail(1)).result(timeout: .seconds(30)) }
        #expect(!ran.get())
    }

    @Test func shutdownWaitsForJoinAppsAndTheirInnerTasks() throws {
        let h = try Harness()
        let release = DispatchSemaphore(value: 0)
        let slow = try h.dfk.swiftApp(name: "slow") { (x: Int) -> Int in
            release.wait()
            return x
        }
        let join = try h.dfk.joinApp(name: "join") { (x: Int) in slow(x) }
        let future = join(4)
        #expect(eventually { h.dfk.taskCounts.running >= 2 })  // the join app and the slow task
        #expect(!future.isDone)
        release.signal()
        h.close()
        #expect(future.isDone)
        #expect(try future.result() == 4)
        #expect(h.dfk.taskCounts.done == 3)  // the body, the join app, the slow task
    }

    @Test func aJoinAppMaySubmitItsInnerTasksWhileShutdownWaits() throws {
        let h = try Harness()
        let started = DispatchSemaphore(value: 0)
        let goOn = DispatchSemaphore(value: 0)
        let double = try h.dfk.swiftApp(name: "double") { (x: Int) in x * 2 }
        let join = try h.dfk.joinApp(name: "join") { (x: Int) -> AppFuture<Int> in
            started.signal()
            goOn.wait()
            return double(x)
        }
        let future = join(4)
        #expect(started.wait(timeout: .now() + 30) == .success)
        let closed = DispatchSemaphore(value: 0)
        DispatchQueue.global().async {
            h.close()
            closed.signal()
        }
        let log = h.dfk.runFolder + "/parsl.log"
        #expect(eventually(timeout: .seconds(30)) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").contains("shutdown: waiting for the tasks in flight")
        })
        goOn.signal()  // the body submits its inner task only now, while the shutdown waits
        #expect(closed.wait(timeout: .now() + 30) == .success)
        #expect(try future.result(timeout: .seconds(1)) == 8)
    }

    @Test func aJoinAppOnTheProcessExecutorJoinsPythonApps() throws {
        let h = try ProcessHarness()
        defer { h.close() }
        let add = try h.python("add")
        let sum = try h.dfk.joinApp(name: "sum") { (n: Int) in (1...n).map { add($0, 100) } }
        let values = try sum(3).result(timeout: .seconds(60)).map { try $0.decode(Int.self) }
        #expect(values == [101, 102, 103])
        let failing = try h.python("fail")
        let join = try h.dfk.joinApp(name: "failing") { (text: String) in failing(text) }
        let error = try #require(throws: JoinError.self) { try join("remote").result(timeout: .seconds(60)) }
        let inner = try #require(error.failures.first as? TaskError)
        #expect(inner.pythonError?.typeName == "ValueError")
        h.rememberProcesses()
    }
}
