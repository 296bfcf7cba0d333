/// A database file that could not be opened, read or written.
///
/// Carries the file, what was being done, and SQLite's own message and result code, so that the
/// message alone says where to look. Plain values only: no SQLite handle travels with it.
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The database file (as given when it was opened).
    public let path: String
    /// What was being done: `open`, `prepare "SELECT …"`, `step`, `begin a transaction`, ….
    public let operation: String
    /// SQLite's extended result code (`SQLITE_BUSY` is 5, `SQLITE_CANTOPEN` 14, …), or 0 when the
    /// error is ours rather than SQLite's (a pragma that did not take effect).
    public let code: Int32
    /// SQLite's message for the error.
    public let message: String

    /// An error with these parts.
    public init(path: String, operation: String, code: Int32, message: String) {
        self.path = path
        self.operation = operation
        self.code = code
        self.message = message
    }

    public var description: String {
        var text = "\(path): \(operation) failed: \(message)"
        if code != 0 { text += " (SQLite code \(code))" }
        switch code & 0xff {
        case 5, 6: text += "; another program holds the database locked: wait for it or close it"
        case 14: text += "; check that the file exists (or its folder, to create it) and that you may read it"
        case 26: text += "; this file is not an SQLite database"
        default: break
        }
        return text
    }
}
