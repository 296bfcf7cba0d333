import Foundation

/// `checkpoint/tasks.pkl`: the store's entries as Parsl's checkpoint records, one pickle after
/// another (`{'hash': key, 'exception': None, 'sprig_result': result hash}`), so that tools and
/// tests that count Parsl's records (`pickle.load` until `EOFError`) count Sprig's. The results
/// themselves live in `cache.db` only: Parsl cannot load these records (they have no `result`).
enum PickleIndex {
    /// Appends one record per entry to the file at `path`, creating it.
    static func append(_ entries: [StoredEntry], to path: String) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.count * 192)
        for entry in entries { record(entry, into: &bytes) }
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
        var out: [UInt8] = []
        record(entry, into: &out)
        return out
    }

    private static func record(_ entry: StoredEntry, into out: inout [UInt8]) {
        out += [0x80, 2, UInt8(ascii: "}"), UInt8(ascii: "(")]  // PROTO 2, EMPTY_DICT, MARK
        unicode("hash", into: &out)
        unicode(entry.key, into: &out)
        unicode("exception", into: &out)
        out.append(UInt8(ascii: "N"))
        unicode("sprig_result", into: &out)
        unicode(entry.resultHash, into: &out)
        out += [UInt8(ascii: "u"), UInt8(ascii: ".")]  // SETITEMS, STOP
    }

    private static func unicode(_ text: String, into out: inout [UInt8]) {
        let count = UInt32(text.utf8.count)
        out.append(UInt8(ascii: "X"))  // BINUNICODE: a 4-byte little-endian length, then UTF-8
        for shift in stride(from: 0, to: 32, by: 8) { out.append(UInt8(truncatingIfNeeded: count >> UInt32(shift))) }
        out += text.utf8
    }
}
