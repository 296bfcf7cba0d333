/// The tasks that wait for dependencies, as a value-type state machine.
///
/// It knows nothing of Python, executors or futures: the kernel tells it how many of a task's
/// dependencies are still running when the task is added, then reports each dependency's end; each
/// transition returns what the kernel must do next, which it does after releasing its lock.
/// A task leaves the graph when it is launched or failed.
struct DependencyGraph<Payload> {
    enum Action {
        /// Every dependency succeeded: run the task.
        case launch(TaskID, Payload)
        /// Every dependency ended and these failed: fail the task without running it.
        case failDependencies(TaskID, Payload, failed: [TaskID])
    }

    private struct Waiting {
        var remaining: Int
        var failed: [TaskID]
        var payload: Payload
        /// Cancelled: it stays only until its dependencies have reported, and then leaves silently.
        var cancelled = false
    }

    private var waiting: [TaskID: Waiting] = [:]

    /// How many tasks wait.
    var count: Int { waiting.count }

    func isWaiting(_ id: TaskID) -> Bool { waiting[id].map { !$0.cancelled } ?? false }

    /// Adds a task whose `running` dependencies have not ended yet and whose `failed` ones already failed.
    /// Returns an action at once when nothing is left to wait for.
    mutating func add(_ id: TaskID, payload: Payload, running: Int, failed: [TaskID]) -> Action? {
        precondition(waiting[id] == nil, "task \(id) added to the dependency graph twice")
        if running == 0 { return decide(id, Waiting(remaining: 0, failed: failed, payload: payload)) }
        waiting[id] = Waiting(remaining: running, failed: failed, payload: payload)
        return nil
    }

    /// Reports that one dependency of `dependent` ended. A dependency that `dependent` names twice is
    /// reported twice, once for each time it was counted in `add`.
    mutating func dependencyEnded(_ dependency: TaskID, of dependent: TaskID, failed: Bool) -> Action? {
        guard var entry = waiting[dependent] else {
            preconditionFailure("task \(dependent) is not waiting, but its dependency \(dependency) reported")
        }
        entry.remaining -= 1
        if failed && !entry.failed.contains(dependency) { entry.failed.append(dependency) }
        if entry.remaining > 0 {
            waiting[dependent] = entry
            return nil
        }
        waiting[dependent] = nil
        return entry.cancelled ? nil : decide(dependent, entry)
    }

    /// Cancels a waiting task: returns its payload (the kernel fails it), or `nil` when it is not
    /// waiting (launched, ended, or cancelled already). Its dependencies' later reports do nothing.
    mutating func cancel(_ id: TaskID) -> Payload? {
        guard var entry = waiting[id], !entry.cancelled else { return nil }
        entry.cancelled = true
        waiting[id] = entry
        return entry.payload
    }

    private func decide(_ id: TaskID, _ entry: Waiting) -> Action {
        entry.failed.isEmpty ? .launch(id, entry.payload) : .failDependencies(id, entry.payload, failed: entry.failed.sorted())
    }
}
