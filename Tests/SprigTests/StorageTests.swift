import Foundation
import Sprig
import Testing

/// The SQLite wrapper under the monitoring database and checkpoints, on real files.
@Suite("Storage")
struct StorageTests {
    static func scratchPath() -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("sprig-storage-\(UUID().uuidString).db").path
    }

    @Test func valuesComeBackWithTheirTypes() throws {
        let path = Self.scratchPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try SQLiteDatabase(path: path)
        try database.enableWriteAheadLog()
        try database.execute("CREATE TABLE t (i INTEGER, r REAL, s TEXT, b BLOB, n TEXT)")
        let insert = try database.prepare("INSERT INTO t VALUES (?, ?, ?, ?, ?)")
        try insert.run([.integer(Int64.max), .real(-2.5), .text("ünïcode <&>\u{0}tail"), .blob(Data([0, 1, 255])), .null])
        try insert.run([.integer(1), .real(0), .text(""), .blob(Data()), .text("x")])
        #expect(database.changes == 1)
        let select = try database.prepare("SELECT i, r, s, b, n FROM t ORDER BY i DESC")
        #expect(try select.step())
        #expect(select.int64(at: 0) == Int64.max)
        #expect(select.double(at: 1) == -2.5)
        #expect(select.string(at: 2) == "ünïcode <&>\u{0}tail")
        #expect(select.data(at: 3) == Data([0, 1, 255]))
        #expect(select.string(at: 4) == nil && select.isNull(at: 4))
        #expect(try select.step())
        #expect(select.string(at: 2) == "")
        #expect(select.data(at: 3) == Data(), "an empty blob is not NULL")
        #expect(select.value(at: 4) == .text("x"))
        #expect(try !select.step())
        #expect(select.columnName(at: 2) == "s")
    }

    @Test func aTransactionThatThrowsLeavesNothing() throws {
        let path = Self.scratchPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let database = try SQLiteDatabase(path: path)
        try database.execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
        struct Stop: Error {}
        #expect(throws: Stop.self) {
            try database.transaction {
                try database.execute("INSERT INTO t VALUES (1)")
                throw Stop()
            }
        }
        try database.transaction { try database.execute("INSERT INTO t VALUES (2)") }
        let count = try database.prepare("SELECT group_concat(k) FROM t")
        #expect(try count.step())
        #expect(count.string(at: 0) == "2")
    }

    @Test func errorsNameTheFileAndSayWhatSQLiteSaid() throws {
        let missing = "/nonexistent-\(UUID().uuidString)/monitoring.db"
        let openError = #expect(throws: StorageError.self) { try SQLiteDatabase(path: missing, mode: .readOnly) }
        #expect(openError?.path == missing)
        #expect(openError?.description.contains(missing) == true)

        let path = Self.scratchPath()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try SQLiteDatabase(path: path).execute("CREATE TABLE t (k INTEGER PRIMARY KEY)")
        let readOnly = try SQLiteDatabase(path: path, mode: .readOnly)
        let writeError = #expect(throws: StorageError.self) { try readOnly.execute("INSERT INTO t VALUES (1)") }
        #expect(writeError?.message.contains("readonly") == true)
        let prepareError = #expect(throws: StorageError.self) { try readOnly.prepare("SELECT nope FROM t") }
        #expect(prepareError?.description.contains("no such column: nope") == true)
        #expect(prepareError?.description.contains(path) == true)
    }
}
