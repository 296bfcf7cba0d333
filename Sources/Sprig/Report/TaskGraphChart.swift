import Foundation

/// The task graph, coloured by each task's state. Up to ``detailLimit`` tasks it draws every task
/// and dependency, in layers by depth (a task sits one layer below its deepest dependency); a
/// larger graph is collapsed into one box per app, with its tasks' states as a bar and the
/// dependencies between apps as arrows, so that 10,000 tasks stay readable.
struct TaskGraphChart {
    let model: ReportModel

    static let detailLimit = 250
    static let width = 1200.0

    func render(into html: inout String) {
        let tasks = model.data.tasks
        guard !tasks.isEmpty else {
            html += "<p class=\"empty\">No task in this run.</p>"
            return
        }
        let depths = depths()
        if tasks.count <= Self.detailLimit {
            html += "<p class=\"note\">Every task, one circle each, in layers by dependency depth; lines are dependencies.</p>"
            renderTasks(into: &html, depths: depths)
        } else {
            html += "<p class=\"note\">\(tasks.count) tasks, collapsed into one box per app (graphs over \(Self.detailLimit) tasks are); "
            html += "a box's bar shows its tasks' states, an arrow the dependencies between two apps.</p>"
            renderApps(into: &html, depths: depths)
        }
        html += "<p class=\"legend\">"
        for (state, count) in model.stateCounts {
            html += "<span><i class=\"swatch \(ReportStyle.stateClass(state))\"></i>\(HTML.escape(state.label)) (\(count))</span>"
        }
        html += "</p>"
    }

    /// Each task's depth: 0 without dependencies, else one more than its deepest dependency.
    private func depths() -> [Int] {
        var depths = [Int](repeating: 0, count: model.data.tasks.count)
        for (index, task) in model.data.tasks.enumerated() {  // by id: dependencies come first
            for dependency in task.dependencies {
                if let parent = model.taskIndex[dependency], parent < index { depths[index] = max(depths[index], depths[parent] + 1) }
            }
        }
        return depths
    }

    private func renderTasks(into html: inout String, depths: [Int]) {
        let tasks = model.data.tasks
        let perRow = 48, dx = 24.0, rowHeight = 30.0, layerGap = 14.0
        var layers: [[Int]] = Array(repeating: [], count: (depths.max() ?? 0) + 1)
        for index in tasks.indices { layers[depths[index]].append(index) }
        var position = [(x: Double, y: Double)](repeating: (0, 0), count: tasks.count)
        var y = 18.0
        for layer in layers where !layer.isEmpty {
            for rowStart in stride(from: 0, to: layer.count, by: perRow) {
                let row = layer[rowStart..<min(rowStart + perRow, layer.count)]
                let left = (Self.width - Double(row.count - 1) * dx) / 2
                for (offset, index) in row.enumerated() { position[index] = (left + Double(offset) * dx, y) }
                y += rowHeight
            }
            y += layerGap
        }
        html += "<svg class=\"chart graph\" viewBox=\"0 0 \(Self.width) \(ReportFormat.number(y))\" role=\"img\" aria-label=\"task graph\"><g class=\"edges\">"
        for (index, task) in tasks.enumerated() {
            for dependency in task.dependencies {
                guard let parent = model.taskIndex[dependency] else { continue }
                html += "<line x1=\"\(ReportFormat.number(position[parent].x))\" y1=\"\(ReportFormat.number(position[parent].y))\" "
                html += "x2=\"\(ReportFormat.number(position[index].x))\" y2=\"\(ReportFormat.number(position[index].y))\"/>"
            }
        }
        html += "</g>"
        for (index, task) in tasks.enumerated() {
            html += "<circle cx=\"\(ReportFormat.number(position[index].x))\" cy=\"\(ReportFormat.number(position[index].y))\" r=\"7\" "
            html += "class=\"\(ReportStyle.stateClass(task.state))\"><title>task \(task.id) · \(HTML.escape(task.app)) · \(HTML.escape(task.state.label))"
            if !task.dependencies.isEmpty { html += "\nafter " + task.dependencies.map(String.init).joined(separator: ", ") }
            html += "</title></circle>"
        }
        html += "</svg>"
    }

    private func renderApps(into html: inout String, depths: [Int]) {
        let apps = model.apps
        var layerOfApp = [Int](repeating: Int.max, count: apps.count)
        var states = [[TaskState: Int]](repeating: [:], count: apps.count)
        var links: [Int: [Int: Int]] = [:]  // from app, to app: dependencies
        for (index, task) in model.data.tasks.enumerated() {
            let app = model.appIndex[task.app]!
            layerOfApp[app] = min(layerOfApp[app], depths[index])
            states[app][task.state, default: 0] += 1
            for dependency in task.dependencies {
                guard let parent = model.taskIndex[dependency] else { continue }
                links[model.appIndex[model.data.tasks[parent].app]!, default: [:]][app, default: 0] += 1
            }
        }
        let boxWidth = 176.0, boxHeight = 60.0, perRow = 6, gapX = 18.0, rowHeight = 96.0
        var position = [(x: Double, y: Double)](repeating: (0, 0), count: apps.count)
        var y = 12.0
        for layer in Set(layerOfApp).sorted() {
            let members = apps.indices.filter { layerOfApp[$0] == layer }
            for rowStart in stride(from: 0, to: members.count, by: perRow) {
                let row = members[rowStart..<min(rowStart + perRow, members.count)]
                let left = (Self.width - Double(row.count) * boxWidth - Double(row.count - 1) * gapX) / 2
                for (offset, app) in row.enumerated() { position[app] = (left + Double(offset) * (boxWidth + gapX), y) }
                y += rowHeight
            }
        }
        html += "<svg class=\"chart graph\" viewBox=\"0 0 \(Self.width) \(ReportFormat.number(y))\" role=\"img\" aria-label=\"task graph by app\">"
        html += "<defs><marker id=\"arrow\" viewBox=\"0 0 8 8\" refX=\"7\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">"
        html += "<path d=\"M0,0 L8,4 L0,8 z\" class=\"arrowhead\"/></marker></defs><g class=\"edges\">"
        for (from, targets) in links.sorted(by: { $0.key < $1.key }) {
            for (to, count) in targets.sorted(by: { $0.key < $1.key }) where to != from {
                let x1 = position[from].x + boxWidth / 2, y1 = position[from].y + boxHeight
                let x2 = position[to].x + boxWidth / 2, y2 = position[to].y
                let bend = max(30, abs(y2 - y1) / 2)
                let stroke = min(4, 1 + log2(Double(count)) / 3)
                html += "<path d=\"M\(ReportFormat.number(x1)),\(ReportFormat.number(y1)) C\(ReportFormat.number(x1)),\(ReportFormat.number(y1 + bend)) "
                html += "\(ReportFormat.number(x2)),\(ReportFormat.number(y2 - bend)) \(ReportFormat.number(x2)),\(ReportFormat.number(y2))\" "
                html += "stroke-width=\"\(ReportFormat.number(stroke))\" marker-end=\"url(#arrow)\"><title>"
                html += "\(ReportFormat.count(count, "dependency", "dependencies")) of \(HTML.escape(apps[to])) on \(HTML.escape(apps[from]))</title></path>"
            }
        }
        html += "</g>"
        for (app, name) in apps.enumerated() {
            let (x, y) = position[app]
            let total = states[app].values.reduce(0, +)
            html += "<g class=\"app-box\"><title>\(HTML.escape(name)): \(ReportFormat.count(total, "task"))</title><rect x=\"\(ReportFormat.number(x))\" y=\"\(ReportFormat.number(y))\" width=\"\(boxWidth)\" height=\"\(boxHeight)\" rx=\"6\" "
            html += "class=\"box a\(app % ReportStyle.appColours.count)\"/>"
            html += "<text x=\"\(ReportFormat.number(x + 8))\" y=\"\(ReportFormat.number(y + 18))\" class=\"app-name\">\(HTML.escape(HTML.truncated(name, 22)))</text>"
            var detail = ReportFormat.count(total, "task")
            if let within = links[app]?[app] { detail += " · \(within) inside" }
            html += "<text x=\"\(ReportFormat.number(x + 8))\" y=\"\(ReportFormat.number(y + 34))\">\(detail)</text>"
            var barX = x + 8
            for (state, count) in states[app].sorted(by: { $0.key < $1.key }) {
                let w = (boxWidth - 16) * Double(count) / Double(total)
                html += "<rect x=\"\(ReportFormat.number(barX))\" y=\"\(ReportFormat.number(y + 42))\" width=\"\(ReportFormat.number(w))\" height=\"10\" "
                html += "class=\"\(ReportStyle.stateClass(state))\"><title>\(HTML.escape(name)): \(count) \(HTML.escape(state.label))</title></rect>"
                barX += w
            }
            html += "</g>"
        }
        html += "</svg>"
    }
}
