/// The failed tries with what they failed with (a traceback, or Parsl's one-line `repr`), most
/// common failures first; tasks that failed because a dependency did are counted apart, since
/// one failure can fail thousands of dependents.
struct FailureTable {
    let model: ReportModel

    static let maxRows = 300

    func render(into html: inout String) {
        var failed: [RunData.Try] = [], dependencyFailed: [Int] = []
        for attempt in model.data.tries where attempt.failure != nil {
            let state = model.taskIndex[attempt.taskID].map { model.data.tasks[$0].state }
            if state == .depFail, attempt.launched == nil, attempt.running == nil {
                dependencyFailed.append(attempt.taskID)
            } else {
                failed.append(attempt)
            }
        }
        guard !failed.isEmpty || !dependencyFailed.isEmpty else {
            html += "<p class=\"empty\">No try failed.</p>"
            return
        }
        var kinds: [String: Int] = [:]
        for attempt in failed { kinds[attempt.failureHeadline ?? "", default: 0] += 1 }
        if kinds.count > 1 {
            html += "<p class=\"note\">Most common:</p><ul class=\"kinds\">"
            for (headline, count) in kinds.sorted(by: { ($1.value, $0.key) < ($0.value, $1.key) }).prefix(8) {
                html += "<li>\(count) × <code>\(HTML.escape(HTML.truncated(headline, 160)))</code></li>"
            }
            html += "</ul>"
        }
        if !failed.isEmpty {
            html += "<table class=\"failures\"><thead><tr><th>task</th><th>app</th><th>try</th><th>where</th><th>at</th><th>failure</th></tr></thead><tbody>"
            for attempt in failed.prefix(Self.maxRows) { renderRow(attempt, into: &html) }
            html += "</tbody></table>"
            if failed.count > Self.maxRows { html += "<p class=\"note\">\(failed.count - Self.maxRows) more failed tries are not listed.</p>" }
        }
        if !dependencyFailed.isEmpty {
            let ids = dependencyFailed.prefix(500).map(String.init).joined(separator: ", ")
            html += "<details class=\"dependents\"><summary>\(ReportFormat.count(dependencyFailed.count, "task")) failed because a dependency failed</summary>"
            html += "<p>\(ids)\(dependencyFailed.count > 500 ? ", …" : "")</p></details>"
        }
    }

    private func renderRow(_ attempt: RunData.Try, into html: inout String) {
        let place = [attempt.executor, attempt.blockID.map { "block \($0)" }, attempt.hostname].compactMap { $0 }.joined(separator: " · ")
        let at = (attempt.returned ?? attempt.running ?? attempt.launched).map { ReportFormat.offset($0 - model.start, step: 0.1) } ?? "–"
        let failure = attempt.failure ?? ""
        html += "<tr><td>\(attempt.taskID)</td><td>\(HTML.escape(model.app(ofTask: attempt.taskID)))</td><td>\(attempt.tryID)</td>"
        html += "<td>\(HTML.escape(place))</td><td>\(at)</td><td>"
        if failure.contains("\n") {
            html += "<details><summary><code>\(HTML.escape(HTML.truncated(attempt.failureHeadline ?? "", 160)))</code></summary>"
            html += "<pre>\(HTML.escape(failure))</pre></details>"
        } else {
            html += "<code>\(HTML.escape(failure))</code>"
        }
        html += "</td></tr>"
    }
}
