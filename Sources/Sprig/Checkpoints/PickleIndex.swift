import Foundation

/// `checkpoint/tasks.pkl`: the store's entries as Parsl's checkpoint records, one pickle after
/// another (`{'hash': key, 'exception': None, 'sprig_result': result hash}`), so that tools and
/// tests that count Parsl's records (`pickle.load` until `EOFError`) count Sprig's. The results
/// themselves live in `cache.db` only: Parsl cannot load these records (they have no `result`).
enum PickleIndex {
    /// Appends one record per entry to the file at `path`, creating it.
    static func append(_ entries: [StoredEntry], to path: String) throws {
        var bytes: [UInt8] = []
        for entry in entries { bytes += record(entry) }
        if !FileManager.default.fileExists(atPath: path) { _ = FileManager.default.createFile(atPath: path, contents: nil) }
        guard let handle = FileHandle(forWritingAtPath: path) else {
            throw ConfigError(message: "cannot write the checkpoint index \(path)")
        }
        defer { try? handle.close() }
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(bytes))
    }

    /// One pickle (protocol 2) of the record's dict.
    static func record(_ entry: StoredEntry) -> [UInt8] {
        var out: [UInt8] = [0x80, 2, UInt8(ascii: "}"), UInt8(ascii: "(")]  // PROTO 2, EMPTY_DICT, MARK
        for (name, value) in [("hash", entry.key as String?), ("exception", nil), ("sprig_result", entry.resultHash)] {
            out += unicode(name)
            if let value { out += unicode(value) } else { out.append(UInt8(ascii: "N")) }
        }
        out += [UInt8(ascii: "u"), UInt8(ascii: ".")]  // SETITEMS, STOP
        return out
    }

    private static func unicode(_ text: String) -> [UInt8] {
        let utf8 = Array(text.utf8)
        let count = UInt32(utf8.count)
        return [UInt8(ascii: "X")] + (0..<4).map { UInt8(truncatingIfNeeded: count >> (8 * UInt32($0))) } + utf8  // BINUNICODE
    }
}
