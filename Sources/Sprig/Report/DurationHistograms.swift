/// How long each app's tries ran (start to outcome): one small histogram per app, successful
/// tries in the app's colour with failed ones stacked on them in red.
struct DurationHistograms {
    let model: ReportModel

    static let maxApps = 12, bins = 24
    static let width = 380.0, height = 150.0, left = 34.0, right = 8.0, top = 10.0, bottom = 118.0

    func render(into html: inout String) {
        var byApp: [Int: (ok: [Double], failed: [Double])] = [:]
        for attempt in model.data.tries {
            guard let start = attempt.running ?? attempt.launched, let end = attempt.returned else { continue }
            let app = model.appIndex[model.app(ofTask: attempt.taskID)] ?? 0
            if attempt.failure == nil { byApp[app, default: ([], [])].ok.append(end - start) } else { byApp[app, default: ([], [])].failed.append(end - start) }
        }
        guard !byApp.isEmpty else {
            html += "<p class=\"empty\">No try finished in this run.</p>"
            return
        }
        let ranked = byApp.sorted { ($1.value.ok.count + $1.value.failed.count, $0.key) < ($0.value.ok.count + $0.value.failed.count, $1.key) }
        html += "<div class=\"small-multiples\">"
        for (app, durations) in ranked.prefix(Self.maxApps) {
            renderApp(app, ok: durations.ok, failed: durations.failed, into: &html)
        }
        html += "</div>"
        if ranked.count > Self.maxApps {
            html += "<p class=\"note\">\(ranked.count - Self.maxApps) apps with fewer tries are not shown.</p>"
        }
    }

    private func renderApp(_ app: Int, ok: [Double], failed: [Double], into html: inout String) {
        let all = (ok + failed).sorted()
        let longest = max(all.last ?? 0, 1e-6)
        var counts = [(ok: Int, failed: Int)](repeating: (0, 0), count: Self.bins)
        func bin(_ duration: Double) -> Int { min(Self.bins - 1, Int(duration / longest * Double(Self.bins))) }
        for duration in ok { counts[bin(duration)].ok += 1 }
        for duration in failed { counts[bin(duration)].failed += 1 }
        let tallest = Double(counts.map { $0.ok + $0.failed }.max() ?? 1)
        let name = model.apps[app]
        let binWidth = (Self.width - Self.left - Self.right) / Double(Self.bins)
        func percentile(_ p: Double) -> Double { all[min(all.count - 1, Int(Double(all.count - 1) * p))] }

        html += "<figure><figcaption>\(HTML.escape(HTML.truncated(name, 48)))</figcaption>"
        html += "<svg class=\"chart histogram\" viewBox=\"0 0 \(Self.width) \(Self.height)\" role=\"img\" aria-label=\"durations of \(HTML.escape(name))\">"
        html += "<line class=\"baseline\" x1=\"\(Self.left)\" x2=\"\(Self.width - Self.right)\" y1=\"\(Self.bottom)\" y2=\"\(Self.bottom)\"/>"
        for (index, count) in counts.enumerated() where count.ok + count.failed > 0 {
            let x = ReportFormat.number(Self.left + Double(index) * binWidth + 0.5)
            let w = ReportFormat.number(max(0.5, binWidth - 1))
            let from = longest * Double(index) / Double(Self.bins), to = longest * Double(index + 1) / Double(Self.bins)
            let range = "\(ReportFormat.duration(from))–\(ReportFormat.duration(to))"
            var y = Self.bottom
            for (kind, n) in [("a\(app % ReportStyle.appColours.count)", count.ok), ("o-failed", count.failed)] where n > 0 {
                let h = (Self.bottom - Self.top) * Double(n) / tallest
                y -= h
                html += "<rect x=\"\(x)\" y=\"\(ReportFormat.number(y))\" width=\"\(w)\" height=\"\(ReportFormat.number(h))\" class=\"\(kind)\">"
                html += "<title>\(range): \(ReportFormat.count(n, kind == "o-failed" ? "failed try" : "try", kind == "o-failed" ? "failed tries" : "tries"))</title></rect>"
            }
        }
        html += "<g class=\"axis\"><text x=\"\(Self.left)\" y=\"\(Self.bottom + 14)\" text-anchor=\"start\">0</text>"
        html += "<text x=\"\(Self.width - Self.right)\" y=\"\(Self.bottom + 14)\" text-anchor=\"end\">\(ReportFormat.duration(longest))</text>"
        html += "<text x=\"\(Self.left - 4)\" y=\"\(Self.top + 8)\" text-anchor=\"end\">\(Int(tallest))</text>"
        html += "<text x=\"\(Self.left - 4)\" y=\"\(Self.bottom)\" text-anchor=\"end\">0</text></g></svg>"
        html += "<p class=\"stats\">\(ReportFormat.count(all.count, "try", "tries"))"
        if !failed.isEmpty { html += " (\(failed.count) failed)" }
        html += " · median \(ReportFormat.duration(percentile(0.5))) · p95 \(ReportFormat.duration(percentile(0.95))) · max \(ReportFormat.duration(longest))</p></figure>"
    }
}
