/// Blocks started and lost: a timeline of each block's states (``BlockHistory``) and a table of
/// the blocks with their job ids, workers and how they ended.
struct BlockSection {
    let model: ReportModel

    static let width = 1200.0, left = 200.0, right = 12.0, rowHeight = 18.0

    func render(into html: inout String) {
        let blocks = model.blocks
        guard !blocks.isEmpty else {
            html += "<p class=\"empty\">No blocks in this run (the thread executor runs tasks inside the engine).</p>"
            return
        }
        let lost = blocks.filter(\.isLost).count
        html += "<p class=\"note\">\(ReportFormat.count(blocks.count, "block")) started, \(lost) lost "
        html += "(ended \(BlockHistory.lostStates.sorted().joined(separator: " or ")) without being scaled in).</p>"
        renderTimeline(blocks, into: &html)
        html += "<table><thead><tr><th>executor</th><th>block</th><th>job</th><th>workers</th><th>hosts</th><th>states</th><th>ended</th></tr></thead><tbody>"
        for block in blocks {
            html += "<tr\(block.isLost ? " class=\"lost\"" : "")><td>\(HTML.escape(block.executor))</td><td>\(HTML.escape(block.blockID))</td>"
            html += "<td>\(HTML.escape(block.jobID ?? "–"))</td><td>\(block.workers)</td><td>\(HTML.escape(block.hosts.joined(separator: ", ")))</td><td>"
            html += block.states.map { "\(HTML.escape($0.status)) at \(ReportFormat.offset($0.time - model.start, step: 0.1))" }.joined(separator: " → ")
            html += "</td><td>\(block.isLost ? "lost" : block.hasEnded ? HTML.escape(block.lastStatus) : "still running")</td></tr>"
        }
        html += "</tbody></table>"
    }

    private func renderTimeline(_ blocks: [BlockHistory], into html: inout String) {
        let axis = TimeAxis(start: model.start, end: model.end, left: Self.left, width: Self.width - Self.left - Self.right)
        let bottom = 6 + Double(blocks.count) * Self.rowHeight
        html += "<svg class=\"chart blocks\" viewBox=\"0 0 \(Self.width) \(ReportFormat.number(bottom + 24))\" role=\"img\" aria-label=\"block states over time\">"
        axis.render(into: &html, top: 6, bottom: bottom)
        for (row, block) in blocks.enumerated() {
            let y = 6 + Double(row) * Self.rowHeight
            html += "<text class=\"lane-label\" x=\"4\" y=\"\(ReportFormat.number(y + 13))\">\(HTML.escape(HTML.truncated("\(block.executor) · block \(block.blockID)", 30)))</text>"
            for (index, state) in block.states.enumerated() {
                let next = index + 1 < block.states.count ? block.states[index + 1].time : nil
                let final = next == nil && BlockHistory.terminalStates.contains(state.status)
                let from = axis.x(state.time), to = final ? from + 3 : axis.x(next ?? model.end)
                html += "<rect x=\"\(ReportFormat.number(from))\" y=\"\(ReportFormat.number(y + 3))\" width=\"\(ReportFormat.number(max(2, to - from)))\" "
                html += "height=\"\(Self.rowHeight - 6)\" class=\"\(ReportStyle.blockClass(state.status))\"><title>block \(HTML.escape(block.blockID)): "
                html += "\(HTML.escape(state.status)) at \(ReportFormat.offset(state.time - model.start, step: 0.1))</title></rect>"
            }
        }
        html += "</svg><p class=\"legend\">"
        for status in ["PENDING", "RUNNING", "SCALED_IN", "COMPLETED", "FAILED", "MISSING"] {
            html += "<span><i class=\"swatch \(ReportStyle.blockClass(status))\"></i>\(status)</span>"
        }
        html += "</p>"
    }
}
