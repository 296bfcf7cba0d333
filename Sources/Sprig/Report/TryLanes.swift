/// How a try ended, as the report colours it.
enum TryOutcome: String, CaseIterable {
    case ok, failed
    /// No outcome came back: still running, or the run ended without one.
    case unfinished
}

/// Tries placed on the lanes of the Gantt chart.
///
/// One group per place tries ran (executor, block, host). The database does not name workers, so
/// within a group each try takes the first lane free at its start: a group gets as many lanes as
/// tries ran there at once, and a lane stands for one worker slot. Tries that never started (a
/// dependency failed) have no bar.
struct TryLanes {
    struct Group {
        var executor: String
        var blockID: String?
        var host: String?
        var firstLane: Int
        var laneCount: Int

        var label: String {
            var text = executor.isEmpty ? "?" : executor
            if let blockID { text += " · block \(blockID)" }
            if let host { text += " · \(host)" }
            return text
        }
    }

    struct Bar {
        /// The try's position in `RunData.tries`.
        var tryIndex: Int
        var lane: Int
        /// Handed to the executor, when that was before it started.
        var queued: Double?
        var start: Double
        var end: Double
        var outcome: TryOutcome
    }

    private(set) var groups: [Group] = []
    private(set) var bars: [Bar] = []
    var laneCount: Int { groups.last.map { $0.firstLane + $0.laneCount } ?? 0 }
    /// Seconds tries spent running (from start to outcome), all lanes together.
    private(set) var busySeconds = 0.0

    /// Places the tries of `data`; a try without an outcome runs until `end`.
    init(_ data: RunData, end: Double) {
        struct Key: Hashable { var executor: String, blockID: String?, host: String? }
        var placed: [Key: [Bar]] = [:]
        for (index, attempt) in data.tries.enumerated() {
            guard let start = attempt.running ?? attempt.launched else { continue }
            let finish = max(start, attempt.returned ?? end)
            let outcome: TryOutcome = attempt.failure != nil ? .failed : attempt.returned == nil ? .unfinished : .ok
            let queued = attempt.launched.flatMap { $0 < start ? $0 : nil }
            placed[Key(executor: attempt.executor, blockID: attempt.blockID, host: attempt.hostname), default: []]
                .append(Bar(tryIndex: index, lane: 0, queued: queued, start: start, end: finish, outcome: outcome))
            busySeconds += finish - start
        }
        let keys = placed.keys.sorted {
            ($0.executor, Self.blockOrder($0.blockID), $0.host ?? "") < ($1.executor, Self.blockOrder($1.blockID), $1.host ?? "")
        }
        for key in keys {
            var groupBars = placed[key]!.sorted { ($0.start, $0.tryIndex) < ($1.start, $1.tryIndex) }
            var laneEnds: [Double] = []
            for index in groupBars.indices {
                let bar = groupBars[index]
                if let free = laneEnds.firstIndex(where: { $0 <= bar.start }) {
                    laneEnds[free] = bar.end
                    groupBars[index].lane = free
                } else {
                    groupBars[index].lane = laneEnds.count
                    laneEnds.append(bar.end)
                }
            }
            let first = laneCount
            groups.append(Group(executor: key.executor, blockID: key.blockID, host: key.host, firstLane: first, laneCount: laneEnds.count))
            bars += groupBars.map { var bar = $0; bar.lane += first; return bar }
        }
    }

    /// Blocks in number order ("2" before "10"), names after numbers.
    private static func blockOrder(_ id: String?) -> String {
        guard let id else { return "" }
        guard let number = Int(id) else { return "~" + id }
        let digits = String(number)
        return String(repeating: "0", count: max(0, 12 - digits.count)) + digits
    }
}
