/// The timeline: every try as a bar on its lane (``TryLanes``), from start to outcome, with a thin
/// line before it while it waited in its executor. Coloured by app or by outcome (a button
/// switches; failures keep a red outline either way).
struct GanttChart {
    let model: ReportModel

    static let width = 1200.0, left = 200.0, right = 12.0, top = 8.0

    func render(into html: inout String) {
        let lanes = model.lanes
        guard !lanes.bars.isEmpty else {
            html += "<p class=\"empty\">No try started in this run.</p>"
            return
        }
        let count = Double(lanes.laneCount)
        let laneHeight = count <= 16 ? 20 : count <= 40 ? 14 : count <= 120 ? 8 : max(2, 960 / count)
        let plotBottom = Self.top + count * laneHeight
        let height = plotBottom + 26
        let axis = TimeAxis(start: model.start, end: model.end, left: Self.left, width: Self.width - Self.left - Self.right)
        html += """
            <p class="controls">Colour by <button type="button" class="on" data-colour-by="app" data-target="gantt">app</button>\
            <button type="button" data-colour-by="outcome" data-target="gantt">outcome</button></p>
            <svg id="gantt" class="chart gantt by-app" viewBox="0 0 \(Self.width) \(ReportFormat.number(height))" \
            role="img" aria-label="tries over time, one lane per worker slot">
            """
        axis.render(into: &html, top: Self.top, bottom: plotBottom)
        renderGroups(into: &html, laneHeight: laneHeight)
        let barHeight = max(1.5, laneHeight - (laneHeight >= 6 ? 2 : 0.5))
        for bar in lanes.bars {
            let attempt = model.data.tries[bar.tryIndex]
            let y = ReportFormat.number(Self.top + Double(bar.lane) * laneHeight + (laneHeight - barHeight) / 2)
            if let queued = bar.queued, axis.x(bar.start) - axis.x(queued) >= 1 {
                let middle = ReportFormat.number(Self.top + (Double(bar.lane) + 0.5) * laneHeight)
                html += "<line class=\"queued\" x1=\"\(ReportFormat.number(axis.x(queued)))\" x2=\"\(ReportFormat.number(axis.x(bar.start)))\" y1=\"\(middle)\" y2=\"\(middle)\"/>"
            }
            let app = model.app(ofTask: attempt.taskID)
            let x = axis.x(bar.start), w = max(0.6, axis.x(bar.end) - x)
            html += "<rect x=\"\(ReportFormat.number(x))\" y=\"\(y)\" width=\"\(ReportFormat.number(w))\" height=\"\(ReportFormat.number(barHeight))\" "
            html += "class=\"a\((model.appIndex[app] ?? 0) % ReportStyle.appColours.count) o-\(bar.outcome.rawValue)\"><title>"
            html += "task \(attempt.taskID) · \(HTML.escape(app)) · try \(attempt.tryID)\n"
            html += "\(bar.outcome == .unfinished ? "no outcome after" : "ran") \(ReportFormat.duration(bar.end - bar.start))"
            if let queued = bar.queued { html += ", waited \(ReportFormat.duration(bar.start - queued))" }
            html += " · \(bar.outcome.rawValue)"
            if let headline = attempt.failureHeadline { html += "\n" + HTML.escape(HTML.truncated(headline, 200)) }
            html += "</title></rect>"
        }
        html += "</svg>"
        renderLegend(into: &html)
    }

    private func renderGroups(into html: inout String, laneHeight: Double) {
        for (index, group) in model.lanes.groups.enumerated() {
            let top = Self.top + Double(group.firstLane) * laneHeight
            let bottom = top + Double(group.laneCount) * laneHeight
            if index % 2 == 1 {
                html += "<rect class=\"band\" x=\"0\" y=\"\(ReportFormat.number(top))\" width=\"\(Self.width)\" height=\"\(ReportFormat.number(bottom - top))\"/>"
            }
            let slots = ReportFormat.count(group.laneCount, "slot")
            let labelY = ReportFormat.number(top + min(bottom - top, 14) / 2 + 4)
            html += "<text class=\"lane-label\" x=\"4\" y=\"\(labelY)\">\(HTML.escape(HTML.truncated(group.label, 30)))"
            html += "<title>\(HTML.escape(group.label)): \(slots) (tries that ran at once)</title></text>"
        }
    }

    private func renderLegend(into html: inout String) {
        html += "<p class=\"legend\">"
        for (index, app) in model.apps.prefix(24).enumerated() {
            html += "<span><i class=\"swatch a\(index % ReportStyle.appColours.count)\"></i>\(HTML.escape(HTML.truncated(app, 40)))</span>"
        }
        if model.apps.count > 24 { html += "<span>… \(model.apps.count - 24) more apps</span>" }
        html += "<span class=\"sep\">outcome:</span>"
        for outcome in TryOutcome.allCases {
            html += "<span><i class=\"swatch o-\(outcome.rawValue)\"></i>\(outcome.rawValue)</span>"
        }
        html += "<span><i class=\"swatch queued\"></i>waiting in the executor</span></p>"
    }
}
