/*
 * sqlite_walbuf.c - WAL commits in a few large writes, not two small ones per page.
 *
 * SQLite appends a commit to the WAL one frame at a time, and each frame as two writes: its
 * 24-byte header, then the page. A commit of 300 pages is 600 pwrite() calls, and on the
 * virtual machines engram runs on a system call is dear: they were a large part of the
 * ingest leader's commit. This VFS sits over the default one. It wraps a connection's
 * database file (to see its shared-memory calls) and WAL file, and gathers the WAL's
 * appends in a buffer, written with one pwrite() per 124 KB. The rules, which keep every
 * reader, the checkpointer and a crash seeing the file exactly as SQLite wrote it:
 *
 *   - Only appends are buffered: a write below the end of what the transaction has
 *     written, or not continuing the buffer (SQLite rewriting a frame it spilled earlier
 *     in the transaction, or re-checksumming frames at commit), empties the buffer and goes
 *     straight to the file, as does everything else the transaction writes to the log
 *     after it.
 *   - The buffer is written when the commit frame's page is (a frame header whose
 *     "database size" field is not zero marks the commit frame: the WAL format,
 *     sqlite.org/fileformat.html), so a failed write fails the commit in xWrite, where
 *     SQLite expects it, before anything is published.
 *   - It is written before any other call on the WAL file (read, sync, truncate, size,
 *     file control, close), before the commit is published in the shared WAL index
 *     (xShmBarrier on the database file, which SQLite calls between writing the index
 *     header's two copies) and before the WAL write lock is released (so frames of a
 *     rolled-back transaction never land after another writer's).
 *   - A failed write of the buffer poisons the WAL file until the write lock is released:
 *     every call fails, so SQLite rolls the whole transaction back; the buffer, which held
 *     only that transaction's frames, is then dropped. (A write that goes straight to the
 *     file fails as it would without this VFS: nothing was buffered before it.)
 *   - Nothing is buffered without shared memory (heap-memory WAL mode: no barrier to flush
 *     at), while the database file is locked EXCLUSIVE (locking_mode=EXCLUSIVE: no write
 *     lock is taken or released in shared memory, so transactions cannot be told apart),
 *     or on a device without power-safe overwrite (SQLite then pads and syncs inside a
 *     commit).
 *
 * A crash with frames in the buffer loses only an unpublished, unacknowledged commit, as a
 * crash between two of SQLite's own writes would.
 */
#include "lib/sqlite_walbuf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* 30 frames of 4 KB pages per write. Not more than 128 KB: the unix VFS writes at most
 * that per call (seekAndWriteFd keeps the low 17 bits of the length), and a larger write
 * came back short, as "database or disk is full". */
#define WALBUF_CAP (124 * 1024)
#define WAL_FRAME_HDR 24
#define WAL_WRITE_LOCK 0 /* the WAL index's writer lock slot (wal.c, the WAL-index format) */

struct walbuf;

/* A database file: the default VFS's, with the WAL file of the same connection. */
struct dbfile {
    sqlite3_file base;   /* pMethods = &dbfile_io */
    sqlite3_file *real;  /* the default VFS's file, just after this struct */
    struct walbuf *wal;  /* open WAL file of this connection, or NULL */
    int shm;             /* xShmMap was called: the WAL index is in shared memory */
    int excl;            /* an EXCLUSIVE lock is held: locking_mode=EXCLUSIVE, or closing */
};

struct walbuf {
    sqlite3_file base;    /* pMethods = &walbuf_io */
    sqlite3_file *real;   /* the default VFS's file, just after this struct */
    struct dbfile *db;    /* the database file of the same connection, or NULL */
    unsigned char *buf;   /* WALBUF_CAP bytes, allocated at the first buffered write */
    sqlite3_int64 off;    /* the file offset of buf[0] */
    sqlite3_int64 end;    /* the end of what the transaction wrote: a write below is a rewrite */
    int len;              /* bytes in buf */
    int flush_after_page; /* the last header buffered was a commit frame's */
    int psow;             /* the device has power-safe overwrite: SQLite pads nothing */
    int through;          /* write through until the write lock is released */
    int failed;           /* a write failed: fail every call until the write lock is released */
};

static sqlite3_vfs *base_vfs;
static sqlite3_vfs walbuf_vfs;

/* Write the buffer. On failure the file is poisoned (see the header comment). */
static int flush(struct walbuf *w)
{
    int rc;

    if (w->failed)
        return SQLITE_IOERR_WRITE;
    if (w->len == 0)
        return SQLITE_OK;
    rc = w->real->pMethods->xWrite(w->real, w->buf, w->len, w->off);
    if (rc != SQLITE_OK) {
        w->failed = 1;
        /* A short write is "disk full" to SQLite (and to us, from the unix VFS): keep that
         * meaning; anything else is a write error. */
        return rc == SQLITE_FULL ? rc : SQLITE_IOERR_WRITE;
    }
    w->len = 0;
    return SQLITE_OK;
}

/* The write lock is being released: the transaction is over. What is still buffered (a
 * rolled-back transaction's spilled frames) is written as SQLite would have written it; a
 * poisoned file drops its buffer, which held only the failed transaction's frames. */
static void end_transaction(struct walbuf *w)
{
    if (!w->failed)
        flush(w);
    w->len = 0;
    w->end = 0;
    w->flush_after_page = 0;
    w->through = 0;
    w->failed = 0;
}

static int buffering(const struct walbuf *w)
{
    return !w->through && w->psow && w->db && w->db->shm && !w->db->excl;
}

/* ---- the WAL file -------------------------------------------------------------------- */

static int wb_close(sqlite3_file *f)
{
    struct walbuf *w = (struct walbuf *)f;
    int rc = flush(w), rc2;

    if (w->db)
        w->db->wal = NULL;
    rc2 = w->real->pMethods->xClose(w->real);
    free(w->buf);
    w->buf = NULL;
    return rc != SQLITE_OK ? rc : rc2;
}

static int wb_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    struct walbuf *w = (struct walbuf *)f;
    int rc = flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xRead(w->real, p, n, off);
}

static int wb_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    struct walbuf *w = (struct walbuf *)f;
    const unsigned char *b = p;
    int rc, commit_page = w->flush_after_page; /* this is the commit frame's page */

    if (w->failed)
        return SQLITE_IOERR_WRITE;
    w->flush_after_page = 0;
    /* Not an append: a rewrite of this transaction's frames. From here to the end of the
     * transaction nothing more is buffered. */
    if ((w->len && off != w->off + w->len) || off < w->end)
        w->through = 1;
    if (off + n > w->end)
        w->end = off + n;
    if (w->len && (w->through || w->len + n > WALBUF_CAP) && (rc = flush(w)) != SQLITE_OK)
        return rc;
    if (!buffering(w) || n > WALBUF_CAP ||
        (!w->buf && !(w->buf = malloc(WALBUF_CAP)))) { /* no memory: unbuffered, still right */
        /* The buffer is empty here: a failure loses nothing SQLite is not told of. */
        return w->real->pMethods->xWrite(w->real, p, n, off);
    }
    if (w->len == 0)
        w->off = off;
    memcpy(w->buf + w->len, p, (size_t)n);
    w->len += n;
    if (commit_page)
        return flush(w);
    /* A frame header: bytes 4-7 hold the database size in pages after a commit, and zero in
     * every other frame. Its page is the next write. */
    if (n == WAL_FRAME_HDR && (b[4] | b[5] | b[6] | b[7]) != 0)
        w->flush_after_page = 1;
    return SQLITE_OK;
}

static int wb_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    struct walbuf *w = (struct walbuf *)f;
    int rc = flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xTruncate(w->real, size);
}

static int wb_sync(sqlite3_file *f, int flags)
{
    struct walbuf *w = (struct walbuf *)f;
    int rc = flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xSync(w->real, flags);
}

static int wb_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    struct walbuf *w = (struct walbuf *)f;
    int rc = flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xFileSize(w->real, size);
}

static int wb_lock(sqlite3_file *f, int level)
{
    struct walbuf *w = (struct walbuf *)f;

    return w->real->pMethods->xLock(w->real, level);
}

static int wb_unlock(sqlite3_file *f, int level)
{
    struct walbuf *w = (struct walbuf *)f;

    return w->real->pMethods->xUnlock(w->real, level);
}

static int wb_check_reserved(sqlite3_file *f, int *out)
{
    struct walbuf *w = (struct walbuf *)f;

    return w->real->pMethods->xCheckReservedLock(w->real, out);
}

static int wb_file_control(sqlite3_file *f, int op, void *arg)
{
    struct walbuf *w = (struct walbuf *)f;
    int rc = flush(w);

    return rc != SQLITE_OK ? rc : w->real->pMethods->xFileControl(w->real, op, arg);
}

static int wb_sector_size(sqlite3_file *f)
{
    struct walbuf *w = (struct walbuf *)f;

    return w->real->pMethods->xSectorSize(w->real);
}

static int wb_device_characteristics(sqlite3_file *f)
{
    struct walbuf *w = (struct walbuf *)f;

    return w->real->pMethods->xDeviceCharacteristics(w->real);
}

/* Version 1 methods only: SQLite asks a WAL file for nothing newer (shared memory and
 * memory mapping are the database file's), and a version-1 file never gets them. */
static const sqlite3_io_methods walbuf_io = {
    .iVersion = 1,
    .xClose = wb_close,
    .xRead = wb_read,
    .xWrite = wb_write,
    .xTruncate = wb_truncate,
    .xSync = wb_sync,
    .xFileSize = wb_file_size,
    .xLock = wb_lock,
    .xUnlock = wb_unlock,
    .xCheckReservedLock = wb_check_reserved,
    .xFileControl = wb_file_control,
    .xSectorSize = wb_sector_size,
    .xDeviceCharacteristics = wb_device_characteristics,
};

/* ---- the database file: the default VFS's, watched at the shared-memory calls ---------- */

#define REAL(f) (((struct dbfile *)(f))->real)

static int db_close(sqlite3_file *f)
{
    struct dbfile *d = (struct dbfile *)f;

    if (d->wal)
        d->wal->db = NULL;
    return d->real->pMethods->xClose(d->real);
}

static int db_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xRead(REAL(f), p, n, off);
}

static int db_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    return REAL(f)->pMethods->xWrite(REAL(f), p, n, off);
}

static int db_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    return REAL(f)->pMethods->xTruncate(REAL(f), size);
}

static int db_sync(sqlite3_file *f, int flags)
{
    return REAL(f)->pMethods->xSync(REAL(f), flags);
}

static int db_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return REAL(f)->pMethods->xFileSize(REAL(f), size);
}

static int db_lock(sqlite3_file *f, int level)
{
    struct dbfile *d = (struct dbfile *)f;
    int rc = REAL(f)->pMethods->xLock(REAL(f), level);

    if (rc == SQLITE_OK && level == SQLITE_LOCK_EXCLUSIVE && !d->excl) {
        d->excl = 1; /* no xShmLock will mark transaction ends: stop buffering */
        if (d->wal)
            flush(d->wal);
    }
    return rc;
}

static int db_unlock(sqlite3_file *f, int level)
{
    struct dbfile *d = (struct dbfile *)f;

    if (level < SQLITE_LOCK_EXCLUSIVE && d->excl) {
        if (d->wal)
            end_transaction(d->wal);
        d->excl = 0;
    }
    return REAL(f)->pMethods->xUnlock(REAL(f), level);
}

static int db_check_reserved(sqlite3_file *f, int *out)
{
    return REAL(f)->pMethods->xCheckReservedLock(REAL(f), out);
}

static int db_file_control(sqlite3_file *f, int op, void *arg)
{
    return REAL(f)->pMethods->xFileControl(REAL(f), op, arg);
}

static int db_sector_size(sqlite3_file *f)
{
    return REAL(f)->pMethods->xSectorSize(REAL(f));
}

static int db_device_characteristics(sqlite3_file *f)
{
    return REAL(f)->pMethods->xDeviceCharacteristics(REAL(f));
}

static int db_shm_map(sqlite3_file *f, int page, int size, int extend, void volatile **out)
{
    struct dbfile *d = (struct dbfile *)f;
    int rc = d->real->pMethods->xShmMap(d->real, page, size, extend, out);

    if (rc == SQLITE_OK || rc == SQLITE_READONLY)
        d->shm = 1;
    return rc;
}

static int db_shm_lock(sqlite3_file *f, int offset, int n, int flags)
{
    struct dbfile *d = (struct dbfile *)f;

    if (d->wal && offset == WAL_WRITE_LOCK && (flags & SQLITE_SHM_UNLOCK) &&
        (flags & SQLITE_SHM_EXCLUSIVE))
        end_transaction(d->wal);
    return d->real->pMethods->xShmLock(d->real, offset, n, flags);
}

/* SQLite calls this between writing the two copies of the WAL index header: a commit is
 * published after it. The buffer is empty here by the rules above (a commit's last append
 * is flushed with the commit frame, and rewrites are not buffered); this makes sure. */
static void db_shm_barrier(sqlite3_file *f)
{
    struct dbfile *d = (struct dbfile *)f;

    if (d->wal)
        flush(d->wal);
    d->real->pMethods->xShmBarrier(d->real);
}

static int db_shm_unmap(sqlite3_file *f, int delete_flag)
{
    ((struct dbfile *)f)->shm = 0;
    return REAL(f)->pMethods->xShmUnmap(REAL(f), delete_flag);
}

static int db_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **out)
{
    return REAL(f)->pMethods->xFetch(REAL(f), off, n, out);
}

static int db_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
    return REAL(f)->pMethods->xUnfetch(REAL(f), off, p);
}

static const sqlite3_io_methods dbfile_io = {
    .iVersion = 3,
    .xClose = db_close,
    .xRead = db_read,
    .xWrite = db_write,
    .xTruncate = db_truncate,
    .xSync = db_sync,
    .xFileSize = db_file_size,
    .xLock = db_lock,
    .xUnlock = db_unlock,
    .xCheckReservedLock = db_check_reserved,
    .xFileControl = db_file_control,
    .xSectorSize = db_sector_size,
    .xDeviceCharacteristics = db_device_characteristics,
    .xShmMap = db_shm_map,
    .xShmLock = db_shm_lock,
    .xShmBarrier = db_shm_barrier,
    .xShmUnmap = db_shm_unmap,
    .xFetch = db_fetch,
    .xUnfetch = db_unfetch,
};

/* ---- the VFS ------------------------------------------------------------------------- */

/* A main database is a dbfile and a WAL a walbuf, each with the default VFS's file after
 * it; any other file (journals, temporary files) is the default VFS's own, opened in place
 * (the space SQLite gives each file is large enough for any of the three). */
static int wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                   int *out_flags)
{
    int rc;

    (void)vfs;
    if (flags & SQLITE_OPEN_MAIN_DB) {
        struct dbfile *d = (struct dbfile *)f;

        memset(d, 0, sizeof(*d));
        d->real = (sqlite3_file *)(d + 1);
        rc = base_vfs->xOpen(base_vfs, name, d->real, flags, out_flags);
        /* SQLite calls xClose even after a failed open when pMethods is set; the real
         * file's is set only if its open got far enough to need one. */
        d->base.pMethods = d->real->pMethods ? &dbfile_io : NULL;
        return rc;
    }
    if (flags & SQLITE_OPEN_WAL) {
        struct walbuf *w = (struct walbuf *)f;
        sqlite3_file *main;

        memset(w, 0, sizeof(*w));
        w->real = (sqlite3_file *)(w + 1);
        rc = base_vfs->xOpen(base_vfs, name, w->real, flags, out_flags);
        w->base.pMethods = w->real->pMethods ? &walbuf_io : NULL;
        if (rc == SQLITE_OK)
            w->psow = (w->real->pMethods->xDeviceCharacteristics(w->real) &
                       SQLITE_IOCAP_POWERSAFE_OVERWRITE) != 0;
        /* Its database was opened through this VFS too, so it is a dbfile. */
        main = name ? sqlite3_database_file_object(name) : NULL;
        if (rc == SQLITE_OK && main && main->pMethods == &dbfile_io) {
            w->db = (struct dbfile *)main;
            w->db->wal = w;
        }
        return rc;
    }
    return base_vfs->xOpen(base_vfs, name, f, flags, out_flags);
}

static int wb_delete(sqlite3_vfs *vfs, const char *name, int sync_dir)
{
    (void)vfs;
    return base_vfs->xDelete(base_vfs, name, sync_dir);
}

static int wb_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
    (void)vfs;
    return base_vfs->xAccess(base_vfs, name, flags, out);
}

static int wb_full_pathname(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
    (void)vfs;
    return base_vfs->xFullPathname(base_vfs, name, n, out);
}

/* The rest is the default VFS's, called with its own handle (the unix VFS ignores the
 * handle in these, but another default might not). */
static void *wb_dlopen(sqlite3_vfs *vfs, const char *name)
{
    (void)vfs;
    return base_vfs->xDlOpen(base_vfs, name);
}

static void wb_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    base_vfs->xDlError(base_vfs, n, out);
}

static void (*wb_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
    (void)vfs;
    return base_vfs->xDlSym(base_vfs, h, sym);
}

static void wb_dlclose(sqlite3_vfs *vfs, void *h)
{
    (void)vfs;
    base_vfs->xDlClose(base_vfs, h);
}

static int wb_randomness(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return base_vfs->xRandomness(base_vfs, n, out);
}

static int wb_sleep(sqlite3_vfs *vfs, int us)
{
    (void)vfs;
    return base_vfs->xSleep(base_vfs, us);
}

static int wb_current_time(sqlite3_vfs *vfs, double *out)
{
    (void)vfs;
    return base_vfs->xCurrentTime(base_vfs, out);
}

static int wb_get_last_error(sqlite3_vfs *vfs, int n, char *out)
{
    (void)vfs;
    return base_vfs->xGetLastError ? base_vfs->xGetLastError(base_vfs, n, out) : 0;
}

static int wb_current_time_int64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
    double d;
    int rc;

    (void)vfs;
    if (base_vfs->iVersion >= 2 && base_vfs->xCurrentTimeInt64)
        return base_vfs->xCurrentTimeInt64(base_vfs, out);
    rc = base_vfs->xCurrentTime(base_vfs, &d);
    *out = (sqlite3_int64)(d * 86400000.0);
    return rc;
}

static pthread_once_t register_once = PTHREAD_ONCE_INIT;
static int register_rc = SQLITE_ERROR;

static void register_vfs(void)
{
    int size;

    if (!(base_vfs = sqlite3_vfs_find(NULL)))
        return;
    size = (int)(sizeof(struct walbuf) > sizeof(struct dbfile) ? sizeof(struct walbuf)
                                                                : sizeof(struct dbfile));
    walbuf_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = size + base_vfs->szOsFile,
        .mxPathname = base_vfs->mxPathname,
        .zName = EG_SQLITE_WALBUF_VFS,
        .xOpen = wb_open,
        .xDelete = wb_delete,
        .xAccess = wb_access,
        .xFullPathname = wb_full_pathname,
        .xDlOpen = wb_dlopen,
        .xDlError = wb_dlerror,
        .xDlSym = wb_dlsym,
        .xDlClose = wb_dlclose,
        .xRandomness = wb_randomness,
        .xSleep = wb_sleep,
        .xCurrentTime = wb_current_time,
        .xGetLastError = wb_get_last_error,
        .xCurrentTimeInt64 = wb_current_time_int64,
    };
    register_rc = sqlite3_vfs_register(&walbuf_vfs, 0);
}

int eg_sqlite_walbuf_register(void)
{
    pthread_once(&register_once, register_vfs);
    return register_rc;
}
