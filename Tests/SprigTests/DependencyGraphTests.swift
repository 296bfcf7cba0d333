@testable import Sprig
import Testing

@Suite("The dependency graph state machine")
struct DependencyGraphTests {
    private func id(_ n: Int) -> TaskID { TaskID(n) }

    @Test func aTaskWithNothingToWaitForLaunchesAtOnce() {
        var graph = DependencyGraph<String>()
        guard case .launch(let task, let payload)? = graph.add(id(1), payload: "a", running: 0, failed: []) else {
            Issue.record("expected launch"); return
        }
        #expect(task == id(1) && payload == "a")
        #expect(graph.count == 0)
    }

    @Test func aTaskLaunchesWhenItsLastDependencyEnds() {
        var graph = DependencyGraph<String>()
        #expect(graph.add(id(3), payload: "c", running: 2, failed: []) == nil)
        #expect(graph.dependencyEnded(id(1), of: id(3), failed: false) == nil)
        #expect(graph.isWaiting(id(3)))
        guard case .launch(let task, _)? = graph.dependencyEnded(id(2), of: id(3), failed: false) else {
            Issue.record("expected launch"); return
        }
        #expect(task == id(3))
        #expect(!graph.isWaiting(id(3)))
    }

    @Test func aFailedDependencyFailsTheTaskOnlyAfterAllEnded() {
        var graph = DependencyGraph<String>()
        #expect(graph.add(id(9), payload: "x", running: 2, failed: [id(5)]) == nil)
        #expect(graph.dependencyEnded(id(7), of: id(9), failed: true) == nil)
        guard case .failDependencies(let task, _, let failed)? = graph.dependencyEnded(id(6), of: id(9), failed: false) else {
            Issue.record("expected failDependencies"); return
        }
        #expect(task == id(9))
        #expect(failed == [id(5), id(7)])
    }

    @Test func aDependencyNamedTwiceIsCountedTwiceAndListedOnce() {
        var graph = DependencyGraph<Int>()
        #expect(graph.add(id(2), payload: 0, running: 2, failed: []) == nil)
        #expect(graph.dependencyEnded(id(1), of: id(2), failed: true) == nil)
        guard case .failDependencies(_, _, let failed)? = graph.dependencyEnded(id(1), of: id(2), failed: true) else {
            Issue.record("expected failDependencies"); return
        }
        #expect(failed == [id(1)])
    }
}

extension DependencyGraph.Action: Equatable where Payload: Equatable {
    public static func == (a: Self, b: Self) -> Bool {
        switch (a, b) {
        case (.launch(let x, let p), .launch(let y, let q)): x == y && p == q
        case (.failDependencies(let x, let p, let f), .failDependencies(let y, let q, let g)): x == y && p == q && f == g
        default: false
        }
    }
}
