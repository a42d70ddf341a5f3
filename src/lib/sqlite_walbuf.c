/*
 * sqlite_walbuf.c - WAL commits in a few large writes, not two small ones per page.
 *
 * SQLite appends a commit to the WAL one frame at a time, and each frame as two writes: its
 * 24-byte header, then the page. A commit of 300 pages is 600 pwrite() calls, and on the
 * virtual machines engram runs on a system call is dear: they were a large part of the
 * ingest leader's commit. This VFS sits over the default one and, for WAL files only, gathers
 * consecutive writes in a buffer and writes it with one pwrite() (so 300 pages take 10)
 * when:
 *   - the commit frame's page has been written (a frame header whose "database size"
 *     field is not zero marks the commit frame: the WAL format, sqlite.org/fileformat.html);
 *     SQLite publishes a commit in the WAL index only after writing its frames, so no
 *     other connection ever looks for frames still in the buffer;
 *   - the next write does not follow the last one, or would overfill the buffer, or the
 *     file is read, synced, truncated, sized, asked anything, or closed: whatever this
 *     connection does next sees the file as SQLite wrote it.
 * Nothing else changes: every other file, and every other call, goes straight through. A
 * crash with frames in the buffer loses only an unfinished commit, as a crash between two
 * of SQLite's own writes would; such a commit was never acknowledged.
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

struct walbuf {
    sqlite3_file base;    /* pMethods = &walbuf_io */
    sqlite3_file *real;   /* the default VFS's file, just after this struct */
    unsigned char *buf;   /* WALBUF_CAP bytes, allocated at the first write */
    sqlite3_int64 off;    /* the file offset of buf[0] */
    int len;              /* bytes in buf */
    int flush_after_page; /* the last header written was a commit frame's */
};

static sqlite3_vfs *base_vfs;
static sqlite3_vfs walbuf_vfs;

static int flush(struct walbuf *w)
{
    int rc;

    if (w->len == 0)
        return SQLITE_OK;
    rc = w->real->pMethods->xWrite(w->real, w->buf, w->len, w->off);
    w->len = 0;
    return rc;
}

static int wb_close(sqlite3_file *f)
{
    struct walbuf *w = (struct walbuf *)f;
    int rc = flush(w), rc2 = w->real->pMethods->xClose(w->real);

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
    int rc = SQLITE_OK, commit_header;

    if (w->len && (off != w->off + w->len || w->len + n > WALBUF_CAP))
        rc = flush(w);
    if (rc != SQLITE_OK)
        return rc;
    if (!w->buf && !(w->buf = malloc(WALBUF_CAP)))
        return w->real->pMethods->xWrite(w->real, p, n, off); /* unbuffered: still correct */
    if (n > WALBUF_CAP)
        return w->real->pMethods->xWrite(w->real, p, n, off);
    /* A frame header: bytes 4-7 hold the database size in pages after a commit, and zero
     * in every other frame. Its page is the next write. */
    commit_header = n == WAL_FRAME_HDR && off >= 32 &&
                    (((const unsigned char *)p)[4] | ((const unsigned char *)p)[5] |
                     ((const unsigned char *)p)[6] | ((const unsigned char *)p)[7]) != 0;
    if (w->len == 0)
        w->off = off;
    memcpy(w->buf + w->len, p, (size_t)n);
    w->len += n;
    if (commit_header) {
        w->flush_after_page = 1;
        return SQLITE_OK;
    }
    if (w->flush_after_page) {
        w->flush_after_page = 0;
        return flush(w);
    }
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

/* Version 1 methods only: SQLite asks a WAL file for nothing newer (no shared memory, no
 * memory mapping: those are the database file's), and a version-1 file never gets them. */
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

/* Every file but a WAL is the default VFS's own, opened in place (the space SQLite gives
 * each file is large enough for either). A WAL is a walbuf with the real file after it. */
static int wb_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                   int *out_flags)
{
    struct walbuf *w = (struct walbuf *)f;
    int rc;

    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL))
        return base_vfs->xOpen(base_vfs, name, f, flags, out_flags);
    memset(w, 0, sizeof(*w));
    w->real = (sqlite3_file *)(w + 1);
    rc = base_vfs->xOpen(base_vfs, name, w->real, flags, out_flags);
    /* SQLite calls xClose even after a failed open when pMethods is set; the real file's
     * methods are set only if its open got far enough to need a close. */
    w->base.pMethods = w->real->pMethods ? &walbuf_io : NULL;
    return rc;
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
    if (!(base_vfs = sqlite3_vfs_find(NULL)))
        return;
    walbuf_vfs = (sqlite3_vfs){
        .iVersion = 2,
        .szOsFile = (int)sizeof(struct walbuf) + base_vfs->szOsFile,
        .mxPathname = base_vfs->mxPathname,
        .zName = EG_WALBUF_VFS,
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

int eg_walbuf_register(void)
{
    pthread_once(&register_once, register_vfs);
    return register_rc;
}
