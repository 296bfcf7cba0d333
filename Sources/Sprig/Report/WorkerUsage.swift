/// CPU and memory of each worker process over time, from the `resource` table's samples.
///
/// A worker is a process (a pid on a host) that ran tries; its samples across tries form one
/// series. CPU is the growth of its user + system time between two samples, over their interval,
/// in percent of one core; memory is its resident set.
struct WorkerUsage {
    struct Point {
        var time: Double
        var value: Double
    }

    struct Series {
        var label: String
        var cpuPercent: [Point] = []
        var residentBytes: [Point] = []
        var samples = 0
    }

    private(set) var series: [Series] = []
    var isEmpty: Bool { series.isEmpty }

    init(_ data: RunData) {
        var hostOfTry: [Int: [Int: String]] = [:]
        for attempt in data.tries { hostOfTry[attempt.taskID, default: [:]][attempt.tryID] = attempt.hostname }
        struct Key: Hashable { var host: String, pid: Int }
        var byWorker: [Key: Series] = [:]
        var last: [Key: (time: Double, cpu: Double)] = [:]
        for sample in data.resources {  // in time order
            let host = hostOfTry[sample.taskID]?[sample.tryID] ?? "?"
            let key = Key(host: host, pid: sample.pid ?? -1)
            var entry = byWorker[key] ?? Series(label: "pid \(key.pid) on \(host)")
            entry.samples += 1
            if let bytes = sample.residentBytes { entry.residentBytes.append(Point(time: sample.time, value: bytes)) }
            if let cpu = sample.cpuSeconds {
                if let previous = last[key], sample.time > previous.time, cpu >= previous.cpu {
                    entry.cpuPercent.append(Point(time: sample.time, value: (cpu - previous.cpu) / (sample.time - previous.time) * 100))
                }
                last[key] = (sample.time, cpu)
            }
            byWorker[key] = entry
        }
        series = byWorker.sorted { ($0.key.host, $0.key.pid) < ($1.key.host, $1.key.pid) }.map(\.value)
    }
}
