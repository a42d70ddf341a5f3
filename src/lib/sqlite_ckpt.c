/*
 * sqlite_ckpt.c - WAL checkpoints on a thread of their own.
 *
 * SQLite's automatic checkpoint runs on the connection that commits, right after its
 * commit: for engram that is the ingest leader, the one thread every write waits for. On a
 * large store a checkpoint copies thousands of scattered pages into the database file and
 * fsyncs it; at 1,000,000 turns that was about a sixth of the leader's time, and ingest ran
 * 24% faster with no checkpoints at all (bench/RESULTS.md, "Ingest").
 *
 * So the writer's WAL hook only wakes a thread, which runs PASSIVE checkpoints on its own
 * connection while the writer goes on: SQLite lets one checkpointer copy frames beside one
 * writer appending them. A passive checkpoint never waits for the writer or for readers; it
 * fsyncs the log before copying and the database after, as the writer's own would.
 *
 * What the thread cannot do is restart the log. SQLite writes from the start of the WAL
 * again only when a write transaction begins with every frame already copied, and under a
 * steady load the writer begins its next transaction almost as soon as it commits, before
 * any concurrent copy can finish. Left alone the file would grow without bound. So once the
 * log holds restart_frames, the writer itself checkpoints after its commit, as SQLite's
 * automatic checkpoint would; by then the thread has copied all but the last commits'
 * frames, so this costs the writer a few pages and two fsyncs rather than the whole copy,
 * and its next transaction restarts the log. If the thread is mid-copy the writer's attempt
 * returns at once (SQLITE_BUSY) and the next commit tries again; the thread is not woken
 * past that mark, so the log overshoots it by at most what commits during one copy.
 */
#include "lib/sqlite_ckpt.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct eg_sqlite_ckpt {
    sqlite3 *db;        /* the writer's connection (borrowed) */
    char *path;         /* its database file, for the thread's own connection */
    int wake_frames;    /* wake the thread at this many frames in the log */
    int restart_frames; /* the writer catches up at this many */
    pthread_mutex_t mu; /* guards the fields below */
    pthread_cond_t cv;  /* signalled on wake and stop */
    pthread_t thread;
    int started;        /* thread is running (joined by eg_sqlite_ckpt_stop) */
    int unopened;       /* the thread has no connection yet: the writer checkpoints */
    int pending;        /* a wake not yet acted on */
    int stop;
};

/* The thread's connection. NOMUTEX: only this thread uses it. A connection learns that the
 * file is in WAL mode at its first read; until then a checkpoint does nothing. The busy
 * timeout covers that read meeting another connection's WAL recovery. */
static sqlite3 *ckpt_open(const char *path)
{
    sqlite3 *db = NULL;

    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(db, 1000) != SQLITE_OK ||
        sqlite3_exec(db, "SELECT 1 FROM sqlite_schema LIMIT 1", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_close_v2(db);
        return NULL;
    }
    return db;
}

static void *ckpt_main(void *arg)
{
    struct eg_sqlite_ckpt *c = arg;
    sqlite3 *db = NULL;

    pthread_mutex_lock(&c->mu);
    while (!c->stop) {
        if (!c->pending) {
            pthread_cond_wait(&c->cv, &c->mu);
            continue;
        }
        c->pending = 0;
        pthread_mutex_unlock(&c->mu);
        /* Until the connection opens (it is tried again at each wake: a file-descriptor
         * shortage passes) the writer checkpoints, as SQLite would. */
        if (!db)
            db = ckpt_open(c->path);
        /* Errors (SQLITE_BUSY beside the writer's own catch-up, an I/O error) leave the
         * frames in the log, where the next wake or the writer's catch-up finds them. */
        if (db)
            sqlite3_wal_checkpoint_v2(db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        pthread_mutex_lock(&c->mu);
        c->unopened = db == NULL;
    }
    pthread_mutex_unlock(&c->mu);
    sqlite3_close_v2(db);
    return NULL;
}

/* The writer's WAL hook: runs on the committing thread after each commit, outside its
 * transaction, with the log's frame count. Never fails the commit (SQLite's own automatic
 * checkpoint ignores errors too). */
static int wal_hook(void *arg, sqlite3 *db, const char *name, int frames)
{
    struct eg_sqlite_ckpt *c = arg;
    int inline_ckpt;

    if (frames < c->wake_frames)
        return SQLITE_OK;
    pthread_mutex_lock(&c->mu);
    if (!c->started && pthread_create(&c->thread, NULL, ckpt_main, c) == 0)
        c->started = 1; /* a failure is tried again at the next wake */
    /* At the restart mark the thread is not woken again, so that once its pass in progress
     * ends, the writer's own finds the checkpoint lock free. */
    inline_ckpt = !c->started || c->unopened || frames >= c->restart_frames;
    if (c->started && frames < c->restart_frames) {
        c->pending = 1;
        pthread_cond_signal(&c->cv);
    }
    pthread_mutex_unlock(&c->mu);
    if (inline_ckpt)
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    return SQLITE_OK;
}

struct eg_sqlite_ckpt *eg_sqlite_ckpt_start(sqlite3 *db, int wake_frames, int restart_frames)
{
    const char *path = sqlite3_db_filename(db, "main");
    struct eg_sqlite_ckpt *c;

    if (!path || !*path || !(c = calloc(1, sizeof(*c))))
        return NULL;
    if (!(c->path = strdup(path))) {
        free(c);
        return NULL;
    }
    c->db = db;
    c->wake_frames = wake_frames;
    c->restart_frames = restart_frames;
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    sqlite3_wal_hook(db, wal_hook, c);
    return c;
}

void eg_sqlite_ckpt_stop(struct eg_sqlite_ckpt *c)
{
    int started;

    if (!c)
        return;
    sqlite3_wal_hook(c->db, NULL, NULL);
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    started = c->started;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    if (started)
        pthread_join(c->thread, NULL);
    pthread_cond_destroy(&c->cv);
    pthread_mutex_destroy(&c->mu);
    free(c->path);
    free(c);
}
