import Foundation

/// A run's time on a chart's x axis: where a second falls, and the ticks to label it with.
struct TimeAxis {
    /// The run's first and last second (the axis shows offsets from `start`).
    let start: Double
    let end: Double
    /// The plot's left edge and width, in SVG units.
    let left: Double
    let width: Double

    init(start: Double, end: Double, left: Double, width: Double) {
        self.start = start
        self.end = end > start ? end : start + 1
        self.left = left
        self.width = width
    }

    func x(_ time: Double) -> Double {
        left + (time - start) / (end - start) * width
    }

    /// A step of 1, 2 or 5 times a power of ten (or whole minutes and hours) giving 5–10 ticks.
    var step: Double {
        let span = end - start, raw = span / 8
        if raw >= 45 {
            return [60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400].first { $0 >= raw } ?? 86400
        }
        let magnitude = pow(10, floor(log10(raw)))
        return [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= raw } ?? 10 * magnitude
    }

    /// Vertical grid lines from `top` to `bottom` and their labels below `bottom`.
    func render(into svg: inout String, top: Double, bottom: Double) {
        let step = self.step
        svg += "<g class=\"axis\">"
        var tick = 0
        while Double(tick) * step <= (end - start) * (1 + 1e-9) {
            let offset = Double(tick) * step
            tick += 1
            let x = ReportFormat.number(self.x(start + offset))
            svg += "<line class=\"grid\" x1=\"\(x)\" x2=\"\(x)\" y1=\"\(ReportFormat.number(top))\" y2=\"\(ReportFormat.number(bottom))\"/>"
            svg += "<text x=\"\(x)\" y=\"\(ReportFormat.number(bottom + 14))\" text-anchor=\"middle\">\(ReportFormat.offset(offset, step: step))</text>"
        }
        svg += "</g>"
    }
}
