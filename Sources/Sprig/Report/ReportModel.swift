/// A run and what the report's sections derive from it, worked out once before rendering.
struct ReportModel {
    let data: RunData
    /// The run's timeline: from its start to its end, or to the latest time seen while it runs.
    let start: Double
    let end: Double
    /// App names in order of first call; an app's colour is its position here.
    let apps: [String]
    let appIndex: [String: Int]
    /// A task's position in `data.tasks`, by task id.
    let taskIndex: [Int: Int]
    let lanes: TryLanes
    let blocks: [BlockHistory]
    let workers: WorkerUsage
    /// Tasks per state, most common first.
    let stateCounts: [(state: TaskState, count: Int)]
    /// Tries beyond the first of each task.
    let retries: Int

    init(_ data: RunData) {
        self.data = data
        var latest = data.workflow.began
        for task in data.tasks { latest = max(latest, task.returned ?? task.invoked ?? latest) }
        for attempt in data.tries { latest = max(latest, attempt.returned ?? attempt.running ?? attempt.launched ?? latest) }
        for state in data.blockStates { latest = max(latest, state.time) }
        start = data.workflow.began
        end = max(data.workflow.completed ?? latest, latest)

        var apps: [String] = [], appIndex: [String: Int] = [:], taskIndex: [Int: Int] = [:]
        var counts: [TaskState: Int] = [:]
        for (index, task) in data.tasks.enumerated() {
            if appIndex[task.app] == nil {
                appIndex[task.app] = apps.count
                apps.append(task.app)
            }
            taskIndex[task.id] = index
            counts[task.state, default: 0] += 1
        }
        self.apps = apps
        self.appIndex = appIndex
        self.taskIndex = taskIndex
        stateCounts = counts.map { ($0.key, $0.value) }.sorted { ($1.count, $0.state) < ($0.count, $1.state) }
        retries = data.tries.count - Set(data.tries.map(\.taskID)).count
        lanes = TryLanes(data, end: end)
        blocks = BlockHistory.all(in: data)
        workers = WorkerUsage(data)
    }

    var wallSeconds: Double { max(0, end - start) }

    /// Running time over what the lanes could have run in the run's time: how busy the worker
    /// slots that ran something were. `nil` when nothing ran.
    var busyFraction: Double? {
        guard lanes.laneCount > 0, wallSeconds > 0 else { return nil }
        return min(1, lanes.busySeconds / (Double(lanes.laneCount) * wallSeconds))
    }

    /// The app of a try.
    func app(ofTask id: Int) -> String {
        taskIndex[id].map { data.tasks[$0].app } ?? "?"
    }
}
