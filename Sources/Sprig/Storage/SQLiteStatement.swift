internal import CSQLite
import Foundation

/// One value as SQLite stores it: its five storage classes.
package enum SQLiteValue: Sendable, Hashable {
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob(Data)
    case null
}

/// A compiled SQL statement of one ``SQLiteDatabase``: bind its parameters, step through its
/// rows, read their columns by type, reset it and run it again.
///
/// Parameters (`?`) and columns are both numbered as SQLite numbers them: parameters from 1,
/// columns from 0. Reading a NULL column gives `nil`; reading a column as another type than it
/// holds converts as SQLite does (`sqlite3_column_*`), which is how Parsl's DATETIME text and
/// FLOAT columns are read.
///
/// Threading: the statement belongs to its connection's thread (not `Sendable`). It keeps its
/// connection open while it exists.
package final class SQLiteStatement {
    /// The connection, kept alive as long as the statement is.
    let database: SQLiteDatabase
    let handle: OpaquePointer
    /// The SQL, for error messages.
    package let sql: String

    init(database: SQLiteDatabase, handle: OpaquePointer, sql: String) {
        self.database = database
        self.handle = handle
        self.sql = sql
    }

    deinit { sqlite3_finalize(handle) }

    // MARK: Binding

    /// Binds a 64-bit integer (or NULL) to parameter `index` (from 1).
    package func bind(_ value: Int64?, at index: Int) throws(StorageError) {
        guard let value else { return try bindNull(at: index) }
        try check(sqlite3_bind_int64(handle, Int32(index), value), "bind parameter \(index)")
    }

    /// Binds an integer (or NULL) to parameter `index` (from 1).
    package func bind(_ value: Int?, at index: Int) throws(StorageError) {
        try bind(value.map(Int64.init), at: index)
    }

    /// Binds a double (or NULL) to parameter `index` (from 1).
    package func bind(_ value: Double?, at index: Int) throws(StorageError) {
        guard let value else { return try bindNull(at: index) }
        try check(sqlite3_bind_double(handle, Int32(index), value), "bind parameter \(index)")
    }

    /// Binds UTF-8 text (or NULL) to parameter `index` (from 1). SQLite copies the text.
    package func bind(_ value: String?, at index: Int) throws(StorageError) {
        guard let value else { return try bindNull(at: index) }
        var text = value
        let code = text.withUTF8 { bytes in
            guard let start = bytes.baseAddress, !bytes.isEmpty else { return sprig_sqlite3_bind_text(handle, Int32(index), "", 0) }
            return start.withMemoryRebound(to: CChar.self, capacity: bytes.count) {
                sprig_sqlite3_bind_text(handle, Int32(index), $0, Int32(bytes.count))
            }
        }
        try check(code, "bind parameter \(index)")
    }

    /// Binds bytes (or NULL) to parameter `index` (from 1). SQLite copies the bytes; empty data is
    /// a zero-length blob, not NULL.
    package func bind(_ value: Data?, at index: Int) throws(StorageError) {
        guard let value else { return try bindNull(at: index) }
        let code = value.withUnsafeBytes { bytes in
            guard let start = bytes.baseAddress, !bytes.isEmpty else { return sqlite3_bind_zeroblob(handle, Int32(index), 0) }
            return sprig_sqlite3_bind_blob(handle, Int32(index), start, Int32(bytes.count))
        }
        try check(code, "bind parameter \(index)")
    }

    /// Binds NULL to parameter `index` (from 1).
    package func bindNull(at index: Int) throws(StorageError) {
        try check(sqlite3_bind_null(handle, Int32(index)), "bind parameter \(index)")
    }

    /// Binds `value` to parameter `index` (from 1), by its storage class.
    package func bind(_ value: SQLiteValue, at index: Int) throws(StorageError) {
        switch value {
        case .integer(let number): try bind(number, at: index)
        case .real(let number): try bind(number, at: index)
        case .text(let text): try bind(text, at: index)
        case .blob(let bytes): try bind(bytes, at: index)
        case .null: try bindNull(at: index)
        }
    }

    /// Binds `values` to parameters 1, 2, … in order.
    package func bind(_ values: [SQLiteValue]) throws(StorageError) {
        for (offset, value) in values.enumerated() { try bind(value, at: offset + 1) }
    }

    // MARK: Running

    /// Runs the statement to its next row.
    ///
    /// - Returns: `true` when a row is ready to read, `false` when the statement is done.
    /// - Throws: ``StorageError`` (a constraint violated, the database busy past the timeout, …).
    @discardableResult
    package func step() throws(StorageError) -> Bool {
        switch sqlite3_step(handle) {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        case let code: throw database.error(code, "run \(SQLiteDatabase.abbreviated(sql))")
        }
    }

    /// Makes the statement ready to run again; bound values stay bound.
    package func reset() {
        sqlite3_reset(handle)
    }

    /// Binds `values`, runs the statement to its end (an INSERT, UPDATE, DELETE) and resets it.
    package func run(_ values: [SQLiteValue] = []) throws(StorageError) {
        defer { reset() }
        try bind(values)
        while try step() {}
    }

    /// Calls `body` once per row, with the statement positioned on that row; resets at the end.
    package func forEachRow(_ body: (SQLiteStatement) throws -> Void) throws {
        defer { reset() }
        while try step() { try body(self) }
    }

    // MARK: Reading the current row

    /// The number of columns in a row.
    package var columnCount: Int { Int(sqlite3_column_count(handle)) }

    /// The name of column `index` (from 0).
    package func columnName(at index: Int) -> String {
        sqlite3_column_name(handle, Int32(index)).map { String(cString: $0) } ?? ""
    }

    /// Whether column `index` (from 0) of the current row is NULL.
    package func isNull(at index: Int) -> Bool {
        sqlite3_column_type(handle, Int32(index)) == SQLITE_NULL
    }

    /// Column `index` (from 0) as an integer; `nil` when NULL.
    package func int64(at index: Int) -> Int64? {
        isNull(at: index) ? nil : sqlite3_column_int64(handle, Int32(index))
    }

    /// Column `index` (from 0) as an `Int`; `nil` when NULL.
    package func int(at index: Int) -> Int? {
        int64(at: index).map { Int($0) }
    }

    /// Column `index` (from 0) as a double; `nil` when NULL.
    package func double(at index: Int) -> Double? {
        isNull(at: index) ? nil : sqlite3_column_double(handle, Int32(index))
    }

    /// Column `index` (from 0) as text; `nil` when NULL.
    package func string(at index: Int) -> String? {
        guard !isNull(at: index), let text = sqlite3_column_text(handle, Int32(index)) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        return String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self)
    }

    /// Column `index` (from 0) as bytes; `nil` when NULL.
    package func data(at index: Int) -> Data? {
        guard !isNull(at: index) else { return nil }
        let count = Int(sqlite3_column_bytes(handle, Int32(index)))
        guard count > 0, let bytes = sqlite3_column_blob(handle, Int32(index)) else { return Data() }
        return Data(bytes: bytes, count: count)
    }

    /// Column `index` (from 0) in its own storage class.
    package func value(at index: Int) -> SQLiteValue {
        switch sqlite3_column_type(handle, Int32(index)) {
        case SQLITE_INTEGER: .integer(sqlite3_column_int64(handle, Int32(index)))
        case SQLITE_FLOAT: .real(sqlite3_column_double(handle, Int32(index)))
        case SQLITE_TEXT: .text(string(at: index) ?? "")
        case SQLITE_BLOB: .blob(data(at: index) ?? Data())
        default: .null
        }
    }

    private func check(_ code: Int32, _ operation: String) throws(StorageError) {
        guard code == SQLITE_OK else { throw database.error(code, "\(operation) of \(SQLiteDatabase.abbreviated(sql))") }
    }
}

extension SQLiteStatement {
    /// Binds UTF-8 text from `bytes` to parameter `index` (from 1); SQLite copies it. For text made
    /// in a buffer on the stack, with no `String` in between.
    package func bind(utf8 bytes: UnsafeBufferPointer<UInt8>, at index: Int) throws(StorageError) {
        let code = bytes.isEmpty ? sprig_sqlite3_bind_text(handle, Int32(index), "", 0) : bytes.withMemoryRebound(to: CChar.self) {
            sprig_sqlite3_bind_text(handle, Int32(index), $0.baseAddress!, Int32($0.count))
        }
        guard code == SQLITE_OK else { throw database.error(code, "bind parameter \(index) of \(SQLiteDatabase.abbreviated(sql))") }
    }
}
