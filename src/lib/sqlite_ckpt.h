/*
 * sqlite_ckpt.h - WAL checkpoints for the SQLite store on a thread of their own.
 */
#ifndef ENGRAM_SQLITE_CKPT_H
#define ENGRAM_SQLITE_CKPT_H

#include <sqlite3.h>

struct eg_sqlite_ckpt;

/*
 * Take over db's automatic checkpoints (its WAL hook). Once the log holds wake_frames
 * frames, a thread with a connection of its own copies them into the database file while
 * db goes on committing; once it holds restart_frames, db's committing thread copies the
 * few frames the thread has not yet copied, so that its next transaction starts the log
 * again from the beginning. The thread starts at the first wake; while it cannot start or
 * open its connection, db's committing thread checkpoints at each wake, as SQLite would.
 * db must be a file in WAL mode. Returns NULL when out of memory or db has no file; db then
 * keeps SQLite's own automatic checkpoint. Ownership: the caller keeps db, and calls
 * eg_sqlite_ckpt_stop before closing it.
 */
struct eg_sqlite_ckpt *eg_sqlite_ckpt_start(sqlite3 *db, int wake_frames, int restart_frames);

/* Remove db's WAL hook (db then has no automatic checkpoint: call this just before closing
 * db), let the thread finish a checkpoint in progress, join it, close its connection and
 * free c. NULL is a no-op. */
void eg_sqlite_ckpt_stop(struct eg_sqlite_ckpt *c);

#endif
