/*
 * sqlite_walbuf.h - a SQLite VFS that writes WAL commits in a few large writes.
 */
#ifndef ENGRAM_SQLITE_WALBUF_H
#define ENGRAM_SQLITE_WALBUF_H

#include <sqlite3.h>

/* The VFS's name, for sqlite3_open_v2. */
#define EG_SQLITE_WALBUF_VFS "engram-walbuf"

/* Register the VFS (once per process; later calls return the first one's result), over
 * the default VFS and not as the default. SQLITE_OK, or SQLite's error: then open
 * without it. */
int eg_sqlite_walbuf_register(void);

#endif
