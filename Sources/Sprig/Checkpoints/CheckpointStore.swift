import Foundation

/// A result as the checkpoint store keeps it: bytes and how to read them.
package struct StoredResult: Sendable, Equatable {
    /// How the bytes encode the value.
    package enum Encoding: String, Sendable {
        /// A pickled Python object, as a worker returned it (Python apps).
        case pickle
        /// A bash app's exit code, as decimal text.
        case exitCode = "exit_code"
        /// JSON of a Swift app's `Codable` result.
        case json
    }

    package let encoding: Encoding
    package let bytes: [UInt8]
    /// The SHA-256 of `bytes`, in hex: the result's key in the store (equal results are stored once).
    package let hash: String

    /// A result to store: its hash is computed here.
    package init(encoding: Encoding, bytes: [UInt8]) {
        self.init(encoding: encoding, bytes: bytes, hash: SHA256.hex(bytes))
    }

    /// A result read from a store by its `hash`.
    init(encoding: Encoding, bytes: [UInt8], hash: String) {
        self.encoding = encoding
        self.bytes = bytes
        self.hash = hash
    }
}

/// One cached call, as written to and read from a store.
package struct StoredEntry: Sendable {
    /// The call's cache key (`sprig.memo_keys.task_key`, or a Swift app's key).
    package let key: String
    /// The SHA-256 of its result's bytes.
    package let resultHash: String
    package let app: String
    /// `python`, `bash` or `swift`.
    package let kind: String
    package let task: Int
    /// Seconds since 1970, when the task ended.
    package let time: Double
    /// The result's size in bytes (read from the store).
    package var size: Int = 0

    /// An entry to write (or as read, with its result's `size`).
    package init(key: String, resultHash: String, app: String, kind: String, task: Int, time: Double, size: Int = 0) {
        (self.key, self.resultHash, self.app, self.kind, self.task, self.time, self.size) = (key, resultHash, app, kind, task, time, size)
    }
}

/// The checkpoint store of one run: `<run folder>/checkpoint/cache.db`, SQLite in WAL mode.
///
/// Two tables: `result` (`hash`, `encoding`, `bytes`: each distinct result once, by the SHA-256 of
/// its bytes) and `entry` (`key`, `result` (the hash), `app`, `kind`, `task`, `time`: each key
/// once). Rows are appended in the order tasks end and carry no index, so a commit writes the few
/// pages at the tables' ends, not a page per row at random places of two keyed B-trees (what the
/// first stores did: `WITHOUT ROWID` tables keyed by hash and key, still read and written here).
/// Each-once holds because one store has one writer, this run's, which remembers what it wrote;
/// a reader that wants results by hash maps hashes to rows once, on its first read. Beside it,
/// `tasks.pkl` lists the entries as Parsl's checkpoint records (`{'hash': key, 'exception': None,
/// 'sprig_result': hash}`, pickled one after another) for tools that count them; the results are
/// in the database only. Threading: one thread at a time (a connection is not shared).
package final class CheckpointStore {
    package static let folderName = "checkpoint"
    package static let fileName = "cache.db"
    package static let indexName = "tasks.pkl"

    /// How a store's tables are laid out.
    private enum Layout {
        /// Rows appended, no index (stores made now).
        case appended
        /// `WITHOUT ROWID` tables keyed by `hash` and `key` (the first stores).
        case keyed
    }

    package let folder: String
    private let database: SQLiteDatabase
    private let layout: Layout
    private var insertResult: SQLiteStatement?
    private var insertEntry: SQLiteStatement?
    private var selectResult: SQLiteStatement?
    /// ``Layout/appended``, writing: the results and keys the store holds.
    private var storedResults: Set<String> = []
    private var storedKeys: Set<String> = []
    /// ``Layout/appended``, reading: each result's row, by hash (read on the first ``result(hash:)``).
    private var resultRows: [String: Int64]?

    /// Opens the store in `folder`, a run's `checkpoint` folder: creating it (`create`), for
    /// changes (`writable`), or read-only.
    /// - Throws: ``StorageError`` naming the file.
    package init(folder: String, create: Bool, writable: Bool = false) throws {
        self.folder = folder
        if create { try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true) }
        let path = (folder as NSString).appendingPathComponent(Self.fileName)
        database = try SQLiteDatabase(path: path, mode: create || writable ? .readWriteCreate : .readOnly)
        // 16 MiB of pages in memory (SQLite's default is 2 MiB). Writers commit with
        // synchronous=NORMAL, which in WAL mode is durable when the process is killed (only a power
        // loss can take the last commits); readers map the file rather than read it page by page.
        try database.execute("PRAGMA cache_size=-16384")
        try database.execute(create || writable ? "PRAGMA synchronous=NORMAL" : "PRAGMA mmap_size=268435456")
        if create {
            try database.enableWriteAheadLog()
            try database.execute("""
                CREATE TABLE IF NOT EXISTS result (hash TEXT NOT NULL, encoding TEXT NOT NULL, bytes BLOB NOT NULL);
                CREATE TABLE IF NOT EXISTS entry (key TEXT NOT NULL, result TEXT NOT NULL, app TEXT NOT NULL, kind TEXT NOT NULL,
                    task INTEGER NOT NULL, time REAL NOT NULL);
                """)
        }
        let schema = try database.prepare("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'result'")
        let sql = try schema.step() ? schema.string(at: 0) ?? "" : ""
        layout = sql.uppercased().contains("WITHOUT ROWID") ? .keyed : .appended
        if create || writable { try readWhatIsStored() }
    }

    /// ``Layout/appended``: reads the hashes and keys the store holds, for a writer to keep them once.
    private func readWhatIsStored() throws {
        (storedResults, storedKeys, resultRows) = ([], [], nil)
        guard layout == .appended else { return }
        try database.prepare("SELECT hash FROM result").forEachRow { row in storedResults.insert(row.string(at: 0) ?? "") }
        try database.prepare("SELECT key FROM entry").forEachRow { row in storedKeys.insert(row.string(at: 0) ?? "") }
    }

    /// Whether `folder` holds a store.
    package static func exists(in folder: String) -> Bool {
        FileManager.default.fileExists(atPath: (folder as NSString).appendingPathComponent(fileName))
    }

    /// The `checkpoint` folders holding a store, of every run in `runDirectory`, oldest run first
    /// (by number, so `1000` comes after `999`).
    package static func checkpointFolders(in runDirectory: String) -> [String] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: runDirectory)) ?? []
        return names.filter { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
            .sorted { (Int($0) ?? 0, $0) < (Int($1) ?? 0, $1) }
            .map { ((runDirectory as NSString).appendingPathComponent($0) as NSString).appendingPathComponent(folderName) }
            .filter(exists(in:))
    }

    /// Writes entries and their results in one transaction; a result already stored is not
    /// written again, nor an entry whose key is (the first result of a key is kept). Appends the
    /// entries written to `tasks.pkl`.
    package func write(_ rows: [(StoredEntry, StoredResult)]) throws {
        guard !rows.isEmpty else { return }
        if insertResult == nil {
            switch layout {
            case .appended:
                insertResult = try database.prepare("INSERT INTO result (hash, encoding, bytes) VALUES (?, ?, ?)")
                insertEntry = try database.prepare("INSERT INTO entry (key, result, app, kind, task, time) VALUES (?, ?, ?, ?, ?, ?)")
            case .keyed:
                insertResult = try database.prepare("INSERT OR IGNORE INTO result (hash, encoding, bytes) VALUES (?, ?, ?)")
                insertEntry = try database.prepare("INSERT OR REPLACE INTO entry (key, result, app, kind, task, time) VALUES (?, ?, ?, ?, ?, ?)")
            }
        }
        let (results, entries) = (insertResult!, insertEntry!)
        var written: [StoredEntry] = []
        var newResults: [String] = []
        written.reserveCapacity(rows.count)
        do {
            try database.transaction {
                for (entry, result) in rows {
                    guard layout == .keyed || storedKeys.insert(entry.key).inserted else { continue }
                    written.append(entry)
                    if layout == .keyed || storedResults.insert(entry.resultHash).inserted {
                        newResults.append(entry.resultHash)
                        try results.run([.text(entry.resultHash), .text(result.encoding.rawValue), .blob(Data(result.bytes))])
                    }
                    try entries.run([.text(entry.key), .text(entry.resultHash), .text(entry.app), .text(entry.kind),
                                     .integer(Int64(entry.task)), .real(entry.time)])
                }
            }
        } catch {
            // Rolled back: none of them is stored.
            if layout == .appended {
                for entry in written { storedKeys.remove(entry.key) }
                for hash in newResults { storedResults.remove(hash) }
            }
            throw error
        }
        try PickleIndex.append(written, to: (folder as NSString).appendingPathComponent(Self.indexName))
    }

    /// Every entry, with its result's size.
    package func entries() throws -> [StoredEntry] {
        let query = try database.prepare("""
            SELECT entry.key, entry.result, entry.app, entry.kind, entry.task, entry.time, length(result.bytes)
            FROM entry JOIN result ON result.hash = entry.result ORDER BY entry.time
            """)
        var found: [StoredEntry] = []
        try query.forEachRow { row in
            found.append(StoredEntry(key: row.string(at: 0) ?? "", resultHash: row.string(at: 1) ?? "", app: row.string(at: 2) ?? "",
                                     kind: row.string(at: 3) ?? "", task: row.int(at: 4) ?? 0, time: row.double(at: 5) ?? 0,
                                     size: row.int(at: 6) ?? 0))
        }
        return found
    }

    /// The keys and result hashes of every entry (what a run loads at start: no result bytes).
    package func keys() throws -> [(key: String, result: String)] {
        let query = try database.prepare("SELECT key, result FROM entry")
        var found: [(String, String)] = []
        try query.forEachRow { row in found.append((row.string(at: 0) ?? "", row.string(at: 1) ?? "")) }
        return found
    }

    /// The result stored under `hash`, if any.
    package func result(hash: String) throws -> StoredResult? {
        let query: SQLiteStatement
        switch layout {
        case .keyed:
            if selectResult == nil { selectResult = try database.prepare("SELECT encoding, bytes FROM result WHERE hash = ?") }
            query = selectResult!
            try query.bind(hash, at: 1)
        case .appended:
            if resultRows == nil {
                var rows: [String: Int64] = [:]
                try database.prepare("SELECT hash, rowid FROM result").forEachRow { row in rows[row.string(at: 0) ?? ""] = row.int64(at: 1) }
                resultRows = rows
            }
            guard let row = resultRows?[hash] else { return nil }
            if selectResult == nil { selectResult = try database.prepare("SELECT encoding, bytes FROM result WHERE rowid = ?") }
            query = selectResult!
            try query.bind(row, at: 1)
        }
        defer { query.reset() }
        guard try query.step(), let encoding = query.string(at: 0).flatMap(StoredResult.Encoding.init(rawValue:)) else { return nil }
        return StoredResult(encoding: encoding, bytes: [UInt8](query.data(at: 1) ?? Data()), hash: hash)
    }

    /// Deletes the entries of `app` (every entry when `nil`) and the results no entry uses.
    /// - Returns: how many entries were deleted.
    @discardableResult
    package func clear(app: String? = nil) throws -> Int {
        try database.transaction {
            if let app {
                try database.prepare("DELETE FROM entry WHERE app = ?").run([.text(app)])
            } else {
                try database.execute("DELETE FROM entry")
            }
            let deleted = database.changes
            try database.execute("DELETE FROM result WHERE hash NOT IN (SELECT result FROM entry)")
            try readWhatIsStored()
            return deleted
        }
    }
}
