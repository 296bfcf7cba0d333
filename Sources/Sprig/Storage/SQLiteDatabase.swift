internal import CSQLite
import Foundation

/// One connection to an SQLite database file, through the system libsqlite3.
///
/// Small on purpose: open, a few settings (WAL, busy timeout), `execute` for statements without
/// results, `prepare` for the rest (``SQLiteStatement``), and `transaction`. Every failure is a
/// ``StorageError`` naming the file and carrying SQLite's message.
///
/// Threading: a connection and its statements belong to one thread at a time (the type is not
/// `Sendable`). The monitoring writer keeps its connection on its writer thread; readers open their
/// own. SQLite itself is built thread-safe on Debian, so two connections to one file in one process
/// are fine; WAL mode lets readers read while a writer writes.
package final class SQLiteDatabase {
    /// How to open the file.
    package enum Mode: Sendable {
        /// Read only; the file must exist. Nothing this connection does can change it.
        case readOnly
        /// Read and write; the file is created when it does not exist.
        case readWriteCreate
    }

    /// The file, as given.
    package let path: String
    let handle: OpaquePointer

    /// Opens (or, with `.readWriteCreate`, creates) the database at `path`.
    ///
    /// - Parameters:
    ///   - path: the database file.
    ///   - mode: read only, or read-write creating the file if needed.
    ///   - busyTimeout: how long a statement waits for another connection's lock before it fails
    ///     with `SQLITE_BUSY`.
    /// - Throws: ``StorageError`` when SQLite cannot open the file.
    package init(path: String, mode: Mode = .readWriteCreate, busyTimeout: Duration = .seconds(5)) throws(StorageError) {
        self.path = path
        var opened: OpaquePointer?
        let flags = (mode == .readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        guard let opened else {
            throw StorageError(path: path, operation: "open", code: code, message: String(cString: sqlite3_errstr(code)))
        }
        guard code == SQLITE_OK else {
            let error = StorageError(path: path, operation: "open", code: code, message: String(cString: sqlite3_errmsg(opened)))
            sqlite3_close_v2(opened)
            throw error
        }
        handle = opened
        sqlite3_extended_result_codes(handle, 1)
        let milliseconds = busyTimeout.components.seconds * 1000 + busyTimeout.components.attoseconds / 1_000_000_000_000_000
        sqlite3_busy_timeout(handle, Int32(clamping: milliseconds))
    }

    deinit {
        // Statements hold their connection, so none is left unfinalized here.
        sqlite3_close_v2(handle)
    }

    /// Switches the file to write-ahead logging, so readers never block the writer nor it them.
    /// The setting stays with the file. Needs a read-write connection.
    ///
    /// - Throws: ``StorageError`` when SQLite refuses (a read-only connection, a file system
    ///   without shared memory).
    package func enableWriteAheadLog() throws(StorageError) {
        let statement = try prepare("PRAGMA journal_mode=WAL")
        let mode = try statement.step() ? statement.string(at: 0) : nil
        guard mode?.lowercased() == "wal" else {
            throw StorageError(path: path, operation: "PRAGMA journal_mode=WAL", code: 0,
                               message: "the journal mode stayed \(mode ?? "unknown")")
        }
    }

    /// Runs one or more SQL statements separated by semicolons, none of which returns rows worth
    /// reading (DDL, `PRAGMA` settings, `BEGIN`/`COMMIT`). For values, use ``prepare(_:)``.
    ///
    /// - Throws: ``StorageError`` naming the first statement that failed.
    package func execute(_ sql: String) throws(StorageError) {
        var message: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &message)
        guard code == SQLITE_OK else {
            let text = message.map { String(cString: $0) } ?? String(cString: sqlite3_errmsg(handle))
            sqlite3_free(message)
            throw StorageError(path: path, operation: "execute \(Self.abbreviated(sql))", code: code, message: text)
        }
    }

    /// Compiles one SQL statement (`?` marks its parameters, numbered from 1).
    ///
    /// - Throws: ``StorageError`` when the SQL does not compile (a syntax error, an unknown table
    ///   or column).
    package func prepare(_ sql: String) throws(StorageError) -> SQLiteStatement {
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v2(handle, sql, -1, &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw error(code, "prepare \(Self.abbreviated(sql))")
        }
        return SQLiteStatement(database: self, handle: statement, sql: sql)
    }

    /// Runs `body` inside one transaction: committed when it returns, rolled back when it throws.
    /// Not reentrant: `body` must not start another transaction on this connection.
    ///
    /// - Parameter immediate: take the write lock at once (`BEGIN IMMEDIATE`), so a writer never
    ///   fails half-way with `SQLITE_BUSY` on a lock a reader upgraded first.
    /// - Throws: what `body` throws, or ``StorageError`` when beginning or committing fails.
    package func transaction<Result>(immediate: Bool = true, _ body: () throws -> Result) throws -> Result {
        try execute(immediate ? "BEGIN IMMEDIATE" : "BEGIN")
        let result: Result
        do {
            result = try body()
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
        do {
            try execute("COMMIT")
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
        return result
    }

    /// The rowid of the last row this connection inserted.
    package var lastInsertedRowID: Int64 { sqlite3_last_insert_rowid(handle) }

    /// Rows changed by the last INSERT, UPDATE or DELETE on this connection.
    package var changes: Int { Int(sqlite3_changes(handle)) }

    /// The error SQLite reports for `code` on this connection.
    func error(_ code: Int32, _ operation: String) -> StorageError {
        StorageError(path: path, operation: operation, code: code, message: String(cString: sqlite3_errmsg(handle)))
    }

    /// SQL short enough for an error message.
    static func abbreviated(_ sql: String) -> String {
        let line = sql.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
        return "\"" + (line.count > 80 ? line.prefix(77) + "…" : line) + "\""
    }
}
