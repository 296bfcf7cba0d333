/// The run at a glance: tasks by state, tries and retries, wall time, how busy the workers were,
/// blocks, and where and by whom it ran.
struct SummarySection {
    let model: ReportModel

    func render(into html: inout String) {
        let data = model.data, workflow = data.workflow
        let failed = model.stateCounts.filter { !$0.state.succeeded && $0.state.isFinal }.map(\.count).reduce(0, +)
        html += "<div class=\"cards\">"
        card("tasks", "\(data.tasks.count)", model.stateCounts.map { "\($0.count) \(HTML.escape($0.state.label))" }.joined(separator: " · "), into: &html)
        card("failed", "\(failed)", "tasks that ended failed or dependency-failed", alert: failed > 0, into: &html)
        card("tries", "\(data.tries.count)", ReportFormat.count(model.retries, "retry", "retries"), into: &html)
        card("wall time", ReportFormat.duration(model.wallSeconds), workflow.completed == nil ? "not completed" : "start to end", into: &html)
        card("workers busy", model.busyFraction.map(ReportFormat.percent) ?? "–",
             "running time over \(ReportFormat.count(model.lanes.laneCount, "worker slot")) × wall time", into: &html)
        let lost = model.blocks.filter(\.isLost).count
        card("blocks", "\(model.blocks.count)", "\(lost) lost", alert: lost > 0, into: &html)
        card("apps", "\(model.apps.count)", Set(data.tries.map(\.executor)).sorted().map(HTML.escape).joined(separator: ", "), into: &html)
        html += "</div><dl class=\"facts\">"
        let rows: [(String, String?)] = [
            ("run id", workflow.runID), ("workflow", workflow.name), ("version", workflow.version),
            ("began", MonitoringTimestamp.text(workflow.began)), ("completed", workflow.completed.map(MonitoringTimestamp.text)),
            ("host", workflow.host), ("user", workflow.user), ("run directory", workflow.runDirectory),
        ]
        for (name, value) in rows {
            guard let value, !value.isEmpty else { continue }
            html += "<dt>\(name)</dt><dd>\(HTML.escape(value))</dd>"
        }
        html += "</dl>"
    }

    private func card(_ title: String, _ value: String, _ detail: String, alert: Bool = false, into html: inout String) {
        html += "<div class=\"card\(alert ? " alert" : "")\"><div class=\"card-title\">\(title)</div>"
        html += "<div class=\"card-value\">\(value)</div><div class=\"card-detail\">\(detail)</div></div>"
    }
}
