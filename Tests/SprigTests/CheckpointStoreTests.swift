import Foundation
import PythonBridge
import Sprig
import Testing

/// The checkpoint store on real SQLite files: each result and each key kept once, results read
/// back by hash by a later run, stores written by the first layout still read and written.
@Suite("Checkpoint store")
struct CheckpointStoreTests {
    private static func scratch() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sprig-store-\(UUID().uuidString)").path
    }

    private static func row(_ key: String, _ text: String, task: Int) -> (StoredEntry, StoredResult) {
        let result = StoredResult(encoding: .json, bytes: Array(text.utf8))
        return (StoredEntry(key: key, resultHash: result.hash, app: "samples.f", kind: "swift", task: task, time: Double(task)), result)
    }

    @Test func eachResultAndEachKeyIsStoredOnceAndALaterReaderFindsThemByHash() throws {
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try CheckpointStore(folder: folder, create: true)
        try store.write([Self.row("k1", "1", task: 1), Self.row("k2", "1", task: 2)])  // one result, two keys
        try store.write([Self.row("k1", "other", task: 3), Self.row("k3", "3", task: 4)])  // k1 again: the first is kept
        let reader = try CheckpointStore(folder: folder, create: false)
        let keys = try reader.keys()
        #expect(keys.map(\.key).sorted() == ["k1", "k2", "k3"])
        #expect(try reader.result(hash: Self.row("", "1", task: 0).1.hash)?.bytes == Array("1".utf8))
        #expect(try reader.result(hash: Self.row("", "3", task: 0).1.hash)?.bytes == Array("3".utf8))
        #expect(try reader.result(hash: Self.row("", "other", task: 0).1.hash) == nil, "nothing refers to it: not stored")
        #expect(try reader.result(hash: String(repeating: "0", count: 64)) == nil)
        let entries = try reader.entries()
        #expect(entries.map(\.task) == [1, 2, 4])
        #expect(entries.map(\.size) == [1, 1, 1])
        // Reopened for writing (as `sprig cache clear` does), it still keeps each once.
        let again = try CheckpointStore(folder: folder, create: true)
        try again.write([Self.row("k2", "1", task: 5), Self.row("k4", "3", task: 6)])
        #expect(try CheckpointStore(folder: folder, create: false).entries().map(\.task) == [1, 2, 4, 6])
        #expect(try again.clear(app: "samples.f") == 4)
        #expect(try CheckpointStore(folder: folder, create: false).keys().isEmpty)
        try again.write([Self.row("k1", "1", task: 7)])
        #expect(try CheckpointStore(folder: folder, create: false).result(hash: Self.row("", "1", task: 0).1.hash) != nil)
    }

    @Test func theIndexHoldsOneParslRecordPerEntryWritten() throws {
        let h = try Harness()
        defer { h.close() }
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try CheckpointStore(folder: folder, create: true)
        try store.write([Self.row("k1", "1", task: 1), Self.row("k2", "2", task: 2)])
        try store.write([Self.row("k1", "1", task: 3), Self.row("kë", "3", task: 4)])  // (k1 is not written twice)
        let records = try withGIL {
            let code = """
                import pickle
                def _records(path):
                    out = []
                    with open(path, 'rb') as f:
                        while True:
                            try:
                                out.append(pickle.load(f))
                            except EOFError:
                                return repr(out)
                """
            let namespace = try Python.evaluate("{}")
            _ = try Python.evaluate("exec").call([try code.toPython(), namespace])
            return try String(python: namespace.callMethod("__getitem__", "_records").call([try "\(folder)/\(CheckpointStore.indexName)".toPython()]))
        }
        let hashes = ["1", "2", "3"].map { Self.row("", $0, task: 0).1.hash }
        #expect(records == "[{'hash': 'k1', 'exception': None, 'sprig_result': '\(hashes[0])'}, "
                + "{'hash': 'k2', 'exception': None, 'sprig_result': '\(hashes[1])'}, "
                + "{'hash': 'kë', 'exception': None, 'sprig_result': '\(hashes[2])'}]")
    }

    @Test func aStoreOfTheFirstLayoutIsStillReadAndWritten() throws {
        let folder = Self.scratch()
        defer { try? FileManager.default.removeItem(atPath: folder) }
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let database = try SQLiteDatabase(path: "\(folder)/\(CheckpointStore.fileName)")
        try database.enableWriteAheadLog()
        try database.execute("""
            CREATE TABLE result (hash TEXT PRIMARY KEY, encoding TEXT NOT NULL, bytes BLOB NOT NULL) WITHOUT ROWID;
            CREATE TABLE entry (key TEXT PRIMARY KEY, result TEXT NOT NULL REFERENCES result(hash),
                app TEXT NOT NULL, kind TEXT NOT NULL, task INTEGER NOT NULL, time REAL NOT NULL) WITHOUT ROWID;
            """)
        let (entry, result) = Self.row("old", "41", task: 1)
        try database.prepare("INSERT INTO result VALUES (?, ?, ?)").run([.text(result.hash), .text("json"), .blob(Data(result.bytes))])
        try database.prepare("INSERT INTO entry VALUES (?, ?, ?, ?, ?, ?)").run([.text(entry.key), .text(result.hash), .text(entry.app),
                                                                                  .text(entry.kind), .integer(1), .real(1)])
        let reader = try CheckpointStore(folder: folder, create: false)
        #expect(try reader.keys().map(\.key) == ["old"])
        #expect(try reader.result(hash: result.hash)?.bytes == Array("41".utf8))
        let writer = try CheckpointStore(folder: folder, create: true)
        try writer.write([Self.row("new", "41", task: 2), Self.row("old", "42", task: 3)])
        let entries = try CheckpointStore(folder: folder, create: false).entries()
        #expect(entries.map(\.key) == ["new", "old"])
        #expect(entries.map(\.task) == [2, 3], "(a key written again replaces its entry there, as it always did)")
    }
}
