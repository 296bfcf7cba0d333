/// Numbers as a report shows them. Plain arithmetic rather than `String(format:)`: a 10,000-task
/// report formats some 100,000 numbers.
enum ReportFormat {
    /// `value` rounded to `decimals` (0 to 3) places, without trailing zeros: `12.5`, `3`, `-0.25`.
    static func number(_ value: Double, decimals: Int = 1) -> String {
        guard value.isFinite else { return "0" }
        let scale = [1.0, 10, 100, 1000][max(0, min(decimals, 3))]
        let scaled = Int64((value * scale).rounded())
        guard scale > 1, scaled % Int64(scale) != 0 else { return String(scaled / Int64(scale)) }
        let magnitude = scaled.magnitude, whole = magnitude / UInt64(scale)
        var fraction = String(magnitude % UInt64(scale))
        fraction = String(repeating: "0", count: max(0, min(decimals, 3) - fraction.count)) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        return (scaled < 0 ? "-" : "") + "\(whole).\(fraction)"
    }

    /// A duration for people: `850 ms`, `12.3 s`, `4 min 05 s`, `2 h 03 min`.
    static func duration(_ seconds: Double) -> String {
        guard seconds.isFinite, seconds >= 0 else { return "–" }
        if seconds < 1 { return number(seconds * 1000, decimals: seconds < 0.01 ? 2 : 0) + " ms" }
        if seconds < 60 { return number(seconds, decimals: seconds < 10 ? 2 : 1) + " s" }
        let whole = Int(seconds.rounded())
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        if whole < 3600 { return "\(whole / 60) min \(two(whole % 60)) s" }
        return "\(whole / 3600) h \(two(whole / 60 % 60)) min"
    }

    /// A time offset on an axis: `0`, `1.5 s`, `2:30`, `1:02:00`.
    static func offset(_ seconds: Double, step: Double) -> String {
        if seconds < 60 || step < 1 { return number(seconds, decimals: step < 0.1 ? 2 : step < 1 ? 1 : 0) + " s" }
        let whole = Int(seconds.rounded())
        func two(_ n: Int) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return whole < 3600 ? "\(whole / 60):\(two(whole % 60))" : "\(whole / 3600):\(two(whole / 60 % 60)):\(two(whole % 60))"
    }

    /// Bytes for people: `512 B`, `1.5 MB`, `24 GB` (powers of 1024, as `free` shows them).
    static func bytes(_ count: Double) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = count, unit = 0
        while value >= 1024, unit < units.count - 1 { value /= 1024; unit += 1 }
        return number(value, decimals: value < 10 && unit > 0 ? 1 : 0) + " " + units[unit]
    }

    /// A fraction as a percentage: `87 %`, `4.5 %`.
    static func percent(_ fraction: Double) -> String {
        number(fraction * 100, decimals: fraction < 0.1 ? 1 : 0) + " %"
    }

    /// `1 task`, `3 tasks`.
    static func count(_ n: Int, _ singular: String, _ plural: String? = nil) -> String {
        "\(n) " + (n == 1 ? singular : plural ?? singular + "s")
    }
}
