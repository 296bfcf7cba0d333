/// The report as one self-contained HTML page: inline CSS, inline SVG charts, a few lines of
/// inline script; nothing fetched when it is viewed, so it opens offline and can be mailed.
struct ReportPage {
    let model: ReportModel

    /// The sections, in page order: anchor, title, and what draws it.
    private var sections: [(id: String, title: String, render: (inout String) -> Void)] {
        [
            ("summary", "Summary", SummarySection(model: model).render),
            ("timeline", "Tries over time", GanttChart(model: model).render),
            ("graph", "Task graph", TaskGraphChart(model: model).render),
            ("durations", "Durations per app", DurationHistograms(model: model).render),
            ("workers", "Worker CPU and memory", WorkerUsageCharts(model: model).render),
            ("blocks", "Blocks", BlockSection(model: model).render),
            ("failures", "Failures", FailureTable(model: model).render),
        ]
    }

    func render() -> String {
        let workflow = model.data.workflow
        let name = workflow.name.flatMap { $0.isEmpty ? nil : $0 } ?? "run"
        var html = """
            <!DOCTYPE html>
            <html lang="en" data-sprig-report="loading">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="sprig report">
            <title>\(HTML.escape(name)) · \(HTML.escape(workflow.runID)) · Sprig report</title>
            <script>\(ReportStyle.errorRecorder)</script>
            <style>
            \(ReportStyle.css)</style>
            </head>
            <body>
            <header><h1>\(HTML.escape(name))</h1><p>run \(HTML.escape(workflow.runID)) · began \(MonitoringTimestamp.text(workflow.began)) · \
            \(ReportFormat.count(model.data.tasks.count, "task")) · \(ReportFormat.duration(model.wallSeconds))</p></header>
            <nav>
            """
        let sections = self.sections
        for section in sections { html += "<a href=\"#\(section.id)\">\(section.title)</a>" }
        html += "</nav>\n<main>\n"
        for section in sections {
            html += "<details class=\"section\" id=\"\(section.id)\" open><summary><h2>\(section.title)</h2></summary>\n"
            section.render(&html)
            html += "\n</details>\n"
        }
        html += "</main>\n<script>\n\(ReportStyle.script)</script>\n</body>\n</html>\n"
        return html
    }
}
