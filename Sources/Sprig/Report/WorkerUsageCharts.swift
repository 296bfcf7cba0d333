/// Worker CPU and memory over the run (``WorkerUsage``): two line charts, one line per worker
/// process, on the run's time axis.
struct WorkerUsageCharts {
    let model: ReportModel

    static let maxWorkers = 12, maxPoints = 400
    static let width = 1200.0, left = 70.0, right = 12.0, top = 10.0, plotHeight = 170.0

    func render(into html: inout String) {
        let usage = model.workers
        guard !usage.isEmpty else {
            html += "<p class=\"empty\">No resource samples in this run. Workers are sampled only on executors that "
            html += "run tasks in worker processes with resource monitoring on; the thread executor runs them inside "
            html += "the engine and samples none.</p>"
            return
        }
        let shown = usage.series.sorted { $0.samples > $1.samples }.prefix(Self.maxWorkers)
        html += "<p class=\"note\">\(ReportFormat.count(usage.series.count, "worker process", "worker processes")) sampled"
        if usage.series.count > Self.maxWorkers { html += "; the \(Self.maxWorkers) with the most samples are drawn" }
        html += ".</p>"
        renderChart("CPU (% of one core)", shown.map { ($0.label, $0.cpuPercent) }, format: { ReportFormat.number($0, decimals: 0) + " %" }, into: &html)
        renderChart("resident memory", shown.map { ($0.label, $0.residentBytes) }, format: ReportFormat.bytes, into: &html)
        html += "<p class=\"legend\">"
        for (index, series) in shown.enumerated() {
            html += "<span><i class=\"swatch a\(index % ReportStyle.appColours.count)\"></i>\(HTML.escape(series.label)) (\(series.samples) samples)</span>"
        }
        html += "</p>"
    }

    private func renderChart(_ title: String, _ lines: [(label: String, points: [WorkerUsage.Point])], format: (Double) -> String, into html: inout String) {
        let highest = max(lines.flatMap { $0.points.map(\.value) }.max() ?? 1, 1e-9)
        let axis = TimeAxis(start: model.start, end: model.end, left: Self.left, width: Self.width - Self.left - Self.right)
        let bottom = Self.top + Self.plotHeight
        html += "<figure class=\"wide\"><figcaption>\(title)</figcaption>"
        html += "<svg class=\"chart usage\" viewBox=\"0 0 \(Self.width) \(ReportFormat.number(bottom + 24))\" role=\"img\" aria-label=\"\(title) per worker\">"
        axis.render(into: &html, top: Self.top, bottom: bottom)
        html += "<g class=\"axis\"><text x=\"\(Self.left - 6)\" y=\"\(Self.top + 8)\" text-anchor=\"end\">\(format(highest))</text>"
        html += "<text x=\"\(Self.left - 6)\" y=\"\(bottom)\" text-anchor=\"end\">0</text></g>"
        for (index, (label, points)) in lines.enumerated() where !points.isEmpty {
            let stride = max(1, points.count / Self.maxPoints)
            var path = ""
            for offset in Swift.stride(from: 0, to: points.count, by: stride) {
                let point = points[offset]
                path += (path.isEmpty ? "M" : " L") + ReportFormat.number(axis.x(point.time)) + ","
                path += ReportFormat.number(bottom - point.value / highest * Self.plotHeight)
            }
            let peak = points.map(\.value).max() ?? 0
            html += "<path class=\"line c\(index % ReportStyle.appColours.count)\" d=\"\(path)\"><title>\(HTML.escape(label)): up to \(format(peak))</title></path>"
        }
        html += "</svg></figure>"
    }
}
