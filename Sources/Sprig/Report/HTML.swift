/// Escaping for text a report puts into HTML and inline SVG: app names, hosts, tracebacks — all
/// of it may hold `<`, `&` or quotes, and none of it may become markup.
enum HTML {
    /// `text` safe inside an element or a quoted attribute value: `& < > " '` become entities and
    /// NUL becomes U+FFFD (HTML parsers drop it, XML ones refuse it).
    static func escape(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0x26 || $0 == 0x3C || $0 == 0x3E || $0 == 0x22 || $0 == 0x27 || $0 == 0 }) else {
            return text
        }
        var escaped = ""
        escaped.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            case "'": escaped += "&#39;"
            case "\u{0}": escaped += "\u{FFFD}"
            default: escaped.unicodeScalars.append(scalar)
            }
        }
        return escaped
    }

    /// At most `limit` characters of `text`, with an ellipsis when cut (not yet escaped).
    static func truncated(_ text: String, _ limit: Int) -> String {
        text.count <= limit ? text : String(text.prefix(limit - 1)) + "…"
    }

    /// A name usable in a CSS class: letters, digits, `_` and `-` kept, anything else `_`.
    static func className(_ text: String) -> String {
        String(text.unicodeScalars.map { scalar -> Character in
            switch scalar {
            case "a"..."z", "A"..."Z", "0"..."9", "_", "-": Character(scalar)
            default: "_"
            }
        })
    }
}
