// The system SQLite (Debian's libsqlite3-dev), for Sources/Sprig/Storage.
#ifndef SPRIG_CSQLITE_SHIM_H
#define SPRIG_CSQLITE_SHIM_H
#include <sqlite3.h>

/// sqlite3_bind_text with SQLITE_TRANSIENT: SQLite copies the bytes before returning, so the
/// caller's buffer may go away at once. (Swift cannot import the SQLITE_TRANSIENT macro.)
static inline int sprig_sqlite3_bind_text(sqlite3_stmt *statement, int index, const char *text, int length) {
    return sqlite3_bind_text(statement, index, text, length, SQLITE_TRANSIENT);
}

/// sqlite3_bind_blob with SQLITE_TRANSIENT (see above).
static inline int sprig_sqlite3_bind_blob(sqlite3_stmt *statement, int index, const void *bytes, int length) {
    return sqlite3_bind_blob(statement, index, bytes, length, SQLITE_TRANSIENT);
}

#endif
