// The system's SQLite (Debian: libsqlite3-dev), the only SQLite library in the process
// (docs/decisions.md §21): two copies opening one file would not see each other's POSIX locks.
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a macro casting -1 to a function pointer, which Swift cannot import.
static inline sqlite3_destructor_type joinin_sqlite_transient(void) {
    return SQLITE_TRANSIENT;
}
