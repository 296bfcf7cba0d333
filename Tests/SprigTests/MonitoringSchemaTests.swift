import Foundation
import Sprig
import Testing

/// `MonitoringSchema` against what SQLite reports for a database Parsl itself created
/// (`contracts/monitoring/parsl-schema.json`; see contracts/README.md to regenerate it).
@Suite("Monitoring schema")
struct MonitoringSchemaTests {
    static let folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../contracts/monitoring").standardizedFileURL

    /// One table as the PRAGMAs describe it, in the golden file's terms.
    struct TableShape: Equatable, CustomStringConvertible {
        var columns: [String] = []
        var indexes: [String] = []
        var foreignKeys: [String] = []
        var description: String { "columns \(columns), indexes \(indexes), foreign keys \(foreignKeys)" }
    }

    static func golden() throws -> [String: TableShape] {
        let json = try JSONSerialization.jsonObject(with: Data(contentsOf: folder.appendingPathComponent("parsl-schema.json"))) as! [String: Any]
        let tables = json["tables"] as! [String: [String: [[String: Any]]]]
        return tables.mapValues { table in
            TableShape(
                columns: table["columns"]!.map { "\($0["name"]!) \($0["type"]!) notnull=\($0["notnull"] as! Bool) pk=\($0["pk"]!)" },
                indexes: table["indexes"]!.map { "\($0["name"]!) unique=\($0["unique"] as! Bool) \(($0["columns"] as! [String]).joined(separator: ","))" },
                foreignKeys: table["foreign_keys"]!.map { "\($0["column"]!) -> \($0["table"]!).\($0["to"]!)" })
        }
    }

    static func shape(of table: String, in database: SQLiteDatabase) throws -> TableShape {
        var shape = TableShape()
        try database.prepare("PRAGMA table_info(\"\(table)\")").forEachRow { row in
            shape.columns.append("\(row.string(at: 1)!) \(row.string(at: 2)!) notnull=\(row.int(at: 3)! != 0) pk=\(row.int(at: 5)!)")
        }
        try database.prepare("PRAGMA index_list(\"\(table)\")").forEachRow { row in
            guard row.string(at: 3) == "c", let name = row.string(at: 1) else { return }
            var columns: [String] = []
            try database.prepare("PRAGMA index_info(\"\(name)\")").forEachRow { columns.append($0.string(at: 2)!) }
            shape.indexes.append("\(name) unique=\(row.int(at: 2)! != 0) \(columns.joined(separator: ","))")
        }
        try database.prepare("PRAGMA foreign_key_list(\"\(table)\")").forEachRow { row in
            shape.foreignKeys.append("\(row.string(at: 3)!) -> \(row.string(at: 2)!).\(row.string(at: 4)!)")
        }
        return shape
    }

    static func scratchDatabase() throws -> (SQLiteDatabase, String) {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("sprig-schema-\(UUID().uuidString).db").path
        return (try SQLiteDatabase(path: path), path)
    }

    @Test func tablesMatchWhatParslCreates() throws {
        let golden = try Self.golden()
        let (database, path) = try Self.scratchDatabase()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try MonitoringSchema.create(in: database)
        #expect(Set(MonitoringSchema.tables.map(\.name)) == Set(golden.keys))
        for (table, expected) in golden.sorted(by: { $0.key < $1.key }) {
            let actual = try Self.shape(of: table, in: database)
            #expect(actual.columns == expected.columns, "table \(table)")
            #expect(actual.indexes == expected.indexes, "table \(table)")
            #expect(actual.foreignKeys == expected.foreignKeys, "table \(table)")
        }
    }

    @Test func parslsOwnDatabaseStillHasThatShape() throws {
        let database = try SQLiteDatabase(path: Self.folder.appendingPathComponent("parsl-reference.db").path, mode: .readOnly)
        for (table, expected) in try Self.golden() {
            #expect(try Self.shape(of: table, in: database) == expected, "table \(table)")
        }
    }

    @Test func creatingAgainKeepsEarlierRuns() throws {
        let (database, path) = try Self.scratchDatabase()
        defer { try? FileManager.default.removeItem(atPath: path) }
        try MonitoringSchema.create(in: database)
        try database.execute("""
            INSERT INTO workflow (run_id, time_began, host, user, rundir, tasks_failed_count, tasks_completed_count)
            VALUES ('run-1', '2026-01-02 03:04:05.000006', 'host', 'user', '/tmp/runinfo/000', 0, 0)
            """)
        try MonitoringSchema.create(in: database)
        let count = try database.prepare("SELECT count(*) FROM workflow")
        #expect(try count.step())
        #expect(count.int(at: 0) == 1)
    }

    @Test func timestampsReadAndWriteParslsText() {
        let text = "2026-12-02 04:32:09.927601"
        let seconds = MonitoringTimestamp.seconds(text)
        #expect(seconds.map(MonitoringTimestamp.text) == text)
        #expect(MonitoringTimestamp.seconds("2026-12-02 04:32:09") == seconds.map { ($0 - 0.927601).rounded() })
        #expect(MonitoringTimestamp.seconds("1970-01-01T00:01:00.5") == 60.5)
        #expect(MonitoringTimestamp.seconds("2026-13-02 04:32:09") == nil)
        #expect(MonitoringTimestamp.seconds("yesterday") == nil)
        #expect(MonitoringTimestamp.text(Date(timeIntervalSince1970: 86_400.25), in: TimeZone(identifier: "UTC")!) == "1970-01-02 00:00:00.250000")
    }
}
