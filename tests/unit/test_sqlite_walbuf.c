/*
 * test_sqlite_walbuf.c - the WAL-buffering VFS (src/lib/sqlite_walbuf.c): a commit of many
 * pages takes a few writes instead of two per page; a reader on the plain VFS sees every
 * commit whole while they are written; a commit is whole on disk when the process dies
 * right after it, even when SQLite rewrote frames of the transaction at commit; frames of a
 * rolled-back transaction never land on another writer's; a write that fails rolls the
 * whole transaction back, and a failed re-checksum at commit fails the commit;
 * locking_mode=EXCLUSIVE recovers from a failed write; no padded commit (psow=0) is ever
 * read torn; spills, rewrites and rollbacks leave a store that passes SQLite's integrity
 * check with exactly the committed rows. Most of these cases come from two reviews, which
 * found each of them broken in an earlier version.
 *
 * Every test runs over "faulty", a VFS between walbuf and the default one that fails WAL
 * writes on demand (registered as the default before walbuf, which sits over the default).
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include "testutil.h"

#include "lib/sqlite_walbuf.h"

struct fixture {
    char dir[64];
    char path[96];
};

/* ---- "faulty": the default VFS, but WAL writes fail on demand ------------------------- */

static sqlite3_vfs *plain_vfs;
static sqlite3_vfs faulty_vfs;
static atomic_int fail_writes;     /* every WAL write fails */
static atomic_int fail_rewrites;   /* a rewrite of a commit frame's header fails */
static atomic_int rewrites_failed; /* how many did */

struct faulty_file {
    sqlite3_file base;
    sqlite3_file *real;
    sqlite3_int64 end; /* the end of what was written to the file */
};

#define FREAL(f) (((struct faulty_file *)(f))->real)

static int ff_close(sqlite3_file *f)
{
    return FREAL(f)->pMethods->xClose(FREAL(f));
}

static int ff_read(sqlite3_file *f, void *p, int n, sqlite3_int64 off)
{
    return FREAL(f)->pMethods->xRead(FREAL(f), p, n, off);
}

/* A 24-byte write inside what was written, with a database size: SQLite re-checksumming a
 * commit frame's header at the end of a transaction (walRewriteChecksums). */
static int ff_write(sqlite3_file *f, const void *p, int n, sqlite3_int64 off)
{
    struct faulty_file *w = (struct faulty_file *)f;
    const unsigned char *b = p;

    if (atomic_load(&fail_writes))
        return SQLITE_FULL;
    if (atomic_load(&fail_rewrites) && n == 24 && off + n <= w->end &&
        (b[4] | b[5] | b[6] | b[7]) != 0) {
        atomic_fetch_add(&rewrites_failed, 1);
        return SQLITE_IOERR_WRITE;
    }
    if (off + n > w->end)
        w->end = off + n;
    return w->real->pMethods->xWrite(w->real, p, n, off);
}

static int ff_truncate(sqlite3_file *f, sqlite3_int64 size)
{
    ((struct faulty_file *)f)->end = size;
    return FREAL(f)->pMethods->xTruncate(FREAL(f), size);
}

static int ff_sync(sqlite3_file *f, int flags)
{
    return FREAL(f)->pMethods->xSync(FREAL(f), flags);
}

static int ff_file_size(sqlite3_file *f, sqlite3_int64 *size)
{
    return FREAL(f)->pMethods->xFileSize(FREAL(f), size);
}

static int ff_lock(sqlite3_file *f, int level)
{
    return FREAL(f)->pMethods->xLock(FREAL(f), level);
}

static int ff_unlock(sqlite3_file *f, int level)
{
    return FREAL(f)->pMethods->xUnlock(FREAL(f), level);
}

static int ff_check_reserved(sqlite3_file *f, int *out)
{
    return FREAL(f)->pMethods->xCheckReservedLock(FREAL(f), out);
}

static int ff_file_control(sqlite3_file *f, int op, void *arg)
{
    return FREAL(f)->pMethods->xFileControl(FREAL(f), op, arg);
}

static int ff_sector_size(sqlite3_file *f)
{
    return FREAL(f)->pMethods->xSectorSize(FREAL(f));
}

static int ff_device_characteristics(sqlite3_file *f)
{
    return FREAL(f)->pMethods->xDeviceCharacteristics(FREAL(f));
}

static const sqlite3_io_methods faulty_io = {
    .iVersion = 1,
    .xClose = ff_close,
    .xRead = ff_read,
    .xWrite = ff_write,
    .xTruncate = ff_truncate,
    .xSync = ff_sync,
    .xFileSize = ff_file_size,
    .xLock = ff_lock,
    .xUnlock = ff_unlock,
    .xCheckReservedLock = ff_check_reserved,
    .xFileControl = ff_file_control,
    .xSectorSize = ff_sector_size,
    .xDeviceCharacteristics = ff_device_characteristics,
};

/* Only WAL files are wrapped; the rest are the plain VFS's own, opened in place. */
static int ff_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags,
                   int *out_flags)
{
    struct faulty_file *w = (struct faulty_file *)f;
    int rc;

    (void)vfs;
    if (!(flags & SQLITE_OPEN_WAL))
        return plain_vfs->xOpen(plain_vfs, name, f, flags, out_flags);
    w->real = (sqlite3_file *)(w + 1);
    w->end = 0;
    rc = plain_vfs->xOpen(plain_vfs, name, w->real, flags, out_flags);
    w->base.pMethods = w->real->pMethods ? &faulty_io : NULL;
    if (rc == SQLITE_OK && w->real->pMethods->xFileSize(w->real, &w->end) != SQLITE_OK)
        w->end = 0;
    return rc;
}

static void faulty_register(void)
{
    plain_vfs = sqlite3_vfs_find(NULL);
    faulty_vfs = *plain_vfs;
    faulty_vfs.pNext = NULL;
    faulty_vfs.zName = "faulty";
    faulty_vfs.szOsFile = plain_vfs->szOsFile + (int)sizeof(struct faulty_file);
    faulty_vfs.xOpen = ff_open;
    assert_int_equal(sqlite3_vfs_register(&faulty_vfs, 1), SQLITE_OK);
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/engram-walbuf.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    const char *suffix[] = {"", "-wal", "-shm"};
    char p[128];

    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof(p), "%s%s", f->path, suffix[i]);
        unlink(p);
    }
    rmdir(f->dir);
    free(f);
    return 0;
}

static sqlite3 *open_db(const char *path, const char *vfs)
{
    sqlite3 *db = NULL;

    assert_int_equal(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, vfs),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                                      "PRAGMA wal_autocheckpoint=0; PRAGMA busy_timeout=5000",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    return db;
}

static void exec_ok(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    int rc = sqlite3_exec(db, sql, NULL, NULL, &err);

    if (rc != SQLITE_OK)
        print_message("%s: %s\n", sql, err ? err : sqlite3_errstr(rc));
    sqlite3_free(err);
    assert_int_equal(rc, SQLITE_OK);
}

/* A temporary view n(x) of the numbers 1 to 2000. */
static void numbers(sqlite3 *db)
{
    exec_ok(db, "CREATE TEMP VIEW IF NOT EXISTS n(x) AS WITH RECURSIVE c(x) AS"
                " (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 2000) SELECT x FROM c");
}

/* This process's write() and pwrite() calls so far (Linux). */
static long long write_calls(void)
{
    FILE *io = fopen("/proc/self/io", "r");
    char line[128];
    long long n = -1;

    assert_non_null(io);
    while (fgets(line, sizeof(line), io))
        if (sscanf(line, "syscw: %lld", &n) == 1)
            break;
    fclose(io);
    assert_true(n >= 0);
    return n;
}

/* The write calls of one commit of 120 rows of 3 KB (a page each). */
static long long commit_writes(const char *path, const char *vfs)
{
    sqlite3 *db = open_db(path, vfs);
    long long before;

    exec_ok(db, "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, v BLOB)");
    numbers(db);
    before = write_calls();
    exec_ok(db, "INSERT INTO t(v) SELECT randomblob(3000) FROM n WHERE x <= 120");
    before = write_calls() - before;
    sqlite3_close(db);
    return before;
}

static void test_a_commit_takes_few_writes(void **state)
{
    struct fixture *f = *state;
    long long plain, buffered;

    plain = commit_writes(f->path, NULL);
    buffered = commit_writes(f->path, EG_SQLITE_WALBUF_VFS);
    print_message("write calls for a 120-page commit: %lld plain, %lld buffered\n", plain,
                  buffered);
    assert_true(plain >= 240);         /* two per frame: the measure works */
    assert_true(buffered * 8 <= plain); /* 6 to 244 here (valgrind's own writes add some) */
}

/* A writer commits batches of rows tagged with the batch number; a reader on the plain VFS
 * checks that the last batches it sees are whole. Batch sizes cross the buffer's size. */
struct reader_arg {
    const char *path;
    atomic_int stop;
    int torn;
    atomic_int reads;
};

/* No cmocka asserts on this thread (they jump back to the test's own stack): a failure
 * to open or to prepare counts as a torn read. */
static void *reader_main(void *arg)
{
    struct reader_arg *r = arg;
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;

    if (sqlite3_open_v2(r->path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_busy_timeout(db, 5000) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT count(*) FROM (SELECT batch, count(*) AS n,"
                           " max(size) AS size FROM t WHERE batch >="
                           " (SELECT max(batch) FROM t) - 2 GROUP BY batch)"
                           " WHERE n != size",
                           -1, &st, NULL) != SQLITE_OK) {
        r->torn++;
        goto done;
    }
    while (!atomic_load(&r->stop)) {
        /* A frame read before it was written would be a malformed page: an error. */
        if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 0) != 0)
            r->torn++;
        sqlite3_reset(st);
        atomic_fetch_add(&r->reads, 1);
    }
done:
    sqlite3_finalize(st);
    sqlite3_close(db);
    return NULL;
}

static void test_reader_sees_whole_commits(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = open_db(f->path, EG_SQLITE_WALBUF_VFS);
    struct reader_arg r = {.path = f->path, .stop = 0, .reads = 0};
    sqlite3_stmt *ins;
    pthread_t th;
    sqlite3_int64 rows = 0;

    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, batch INT, size INT, v BLOB);"
                "CREATE INDEX t_batch ON t(batch)");
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO t(batch, size, v)"
                                        " VALUES (?, ?, randomblob(?))",
                                        -1, &ins, NULL),
                     SQLITE_OK);
    assert_int_equal(pthread_create(&th, NULL, reader_main, &r), 0);
    for (int b = 0; b < 300; b++) {
        int size = 1 + (b * 37) % 90; /* 1 to 90 rows of up to ~3 KB: up to ~70 pages */

        exec_ok(db, "BEGIN");
        for (int i = 0; i < size; i++) {
            sqlite3_bind_int(ins, 1, b);
            sqlite3_bind_int(ins, 2, size);
            sqlite3_bind_int(ins, 3, 100 + (i * 131) % 2900);
            assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
            sqlite3_reset(ins);
        }
        exec_ok(db, "COMMIT");
        rows += size;
        /* Let the reader look at this commit before the next one (up to 100 ms). */
        for (int seen = atomic_load(&r.reads) + 1, k = 0; atomic_load(&r.reads) < seen && k < 1000;
             k++)
            usleep(100);
    }
    atomic_store(&r.stop, 1);
    pthread_join(th, NULL);
    sqlite3_finalize(ins);
    print_message("%d reads, %d saw a torn batch\n", atomic_load(&r.reads), r.torn);
    assert_int_equal(r.torn, 0);
    assert_true(atomic_load(&r.reads) >= 300);
    sqlite3_close(db);
    /* The plain VFS reads back every row, and SQLite finds nothing wrong. */
    db = open_db(f->path, NULL);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM t"), rows);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM pragma_integrity_check"
                                 " WHERE integrity_check != 'ok'"),
                     0);
    sqlite3_close(db);
}

/* A page cache of 10 pages makes SQLite write frames to the log before the commit (a
 * spill), and rewrite frames already in the log when it changes those pages again; the
 * rolled-back transaction leaves nothing, the committed ones everything. */
static void test_spills_rewrites_and_rollback(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = open_db(f->path, EG_SQLITE_WALBUF_VFS);

    numbers(db);
    exec_ok(db, "PRAGMA cache_size=10");
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);"
                "CREATE INDEX t_v ON t(v)");
    exec_ok(db, "BEGIN");
    exec_ok(db, "INSERT INTO t(v) SELECT randomblob(500) FROM n WHERE x <= 2000");
    exec_ok(db, "UPDATE t SET v = randomblob(400) WHERE id % 3 = 0");
    exec_ok(db, "ROLLBACK");
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM t"), 0);
    exec_ok(db, "BEGIN");
    exec_ok(db, "INSERT INTO t(v) SELECT randomblob(500) FROM n WHERE x <= 2000");
    exec_ok(db, "UPDATE t SET v = randomblob(400) WHERE id % 3 = 0");
    exec_ok(db, "DELETE FROM t WHERE id % 7 = 0");
    exec_ok(db, "COMMIT");
    exec_ok(db, "INSERT INTO t(v) VALUES (randomblob(10))");
    sqlite3_close(db);
    db = open_db(f->path, NULL);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM t"), 2000 - 2000 / 7 + 1);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM pragma_integrity_check"
                                 " WHERE integrity_check != 'ok'"),
                     0);
    sqlite3_close(db);
}

/* Commit a transaction that spills (a 10-page cache) and changes spilled pages again (so
 * SQLite rewrites frames and re-checksums them at commit), in a child that then dies
 * without closing: the commit is whole on disk. */
static void test_commit_whole_when_the_process_dies(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = open_db(f->path, EG_SQLITE_WALBUF_VFS);
    pid_t pid;
    int status;

    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB); CREATE INDEX t_v ON t(v);"
                "INSERT INTO t(v) VALUES (1)");
    sqlite3_close(db);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        db = open_db(f->path, EG_SQLITE_WALBUF_VFS);
        numbers(db);
        exec_ok(db, "PRAGMA cache_size=10");
        exec_ok(db, "BEGIN; INSERT INTO t(v) SELECT randomblob(500) FROM n;"
                    "UPDATE t SET v = randomblob(400) WHERE id % 3 = 0; COMMIT");
        _exit(0); /* no close, no more writes: as kill -9 right after the commit */
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    db = open_db(f->path, NULL);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM t"), 2001);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM pragma_integrity_check"
                                 " WHERE integrity_check != 'ok'"),
                     0);
    sqlite3_close(db);
}

/* A spills frames and rolls back; B then commits pages at the same place in the log; A
 * reads. A's spilled frames must not land over B's. */
static void test_rollback_then_another_writer(void **state)
{
    struct fixture *f = *state;
    sqlite3 *a = open_db(f->path, EG_SQLITE_WALBUF_VFS);
    sqlite3 *b = open_db(f->path, EG_SQLITE_WALBUF_VFS), *c;

    numbers(a);
    exec_ok(a, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);"
               "CREATE TABLE u(id INTEGER PRIMARY KEY, v BLOB)");
    exec_ok(a, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA cache_size=10");
    exec_ok(a, "BEGIN; INSERT INTO t(v) SELECT randomblob(3000) FROM n WHERE x <= 14");
    exec_ok(a, "ROLLBACK");
    for (int i = 0; i < 20; i++)
        exec_ok(b, "INSERT INTO u(v) VALUES (zeroblob(3000))");
    assert_int_equal(sqlite_int(a, "SELECT count(*) FROM u"), 20);
    c = open_db(f->path, NULL);
    assert_int_equal(sqlite_int(c, "SELECT count(*) FROM u WHERE v = zeroblob(3000)"), 20);
    assert_int_equal(sqlite_int(c, "SELECT count(*) FROM pragma_integrity_check"
                                 " WHERE integrity_check != 'ok'"),
                     0);
    sqlite3_close(c);
    sqlite3_close(b);
    sqlite3_close(a);
}

static int exec_rc(sqlite3 *db, const char *sql)
{
    return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* The disk is full for one statement of a transaction whose earlier frames were spilled
 * to the log: the whole transaction is rolled back, as with the plain VFS, and nothing it
 * wrote survives (a first version dropped the buffered frames and let the commit go on). */
static void test_failed_write_rolls_back(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = open_db(f->path, EG_SQLITE_WALBUF_VFS);

    numbers(db);
    exec_ok(db, "PRAGMA cache_size=10;"
                "CREATE TABLE t(id INTEGER PRIMARY KEY, k INT UNIQUE, v BLOB)");
    exec_ok(db, "BEGIN; INSERT INTO t(k, v) SELECT x, randomblob(600) FROM n WHERE x <= 300");
    atomic_store(&fail_writes, 1);
    assert_int_not_equal(exec_rc(db, "UPDATE t SET k = k + 100000 WHERE id <= 5"), SQLITE_OK);
    atomic_store(&fail_writes, 0);
    exec_rc(db, "INSERT INTO t(k, v) SELECT x + 1000000, randomblob(600) FROM n WHERE x <= 10");
    exec_rc(db, "COMMIT");
    assert_int_equal(sqlite3_get_autocommit(db), 1);
    exec_ok(db, "INSERT INTO t(k, v) VALUES (-1, 'after')"); /* the store still takes writes */
    sqlite3_close(db);
    db = open_db(f->path, NULL);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM t"), 1);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM pragma_integrity_check"
                                 " WHERE integrity_check != 'ok'"),
                     0);
    sqlite3_close(db);
}

/* Transactions that spill (an 8-page cache) and change spilled pages again, so that SQLite
 * re-checksums frames at commit and rewrites the commit frame's header last. When that
 * rewrite fails, the commit must fail, as with the plain VFS: a first fix buffered the
 * rewrite and wrote it only when publishing the commit, where a failure cannot be
 * reported, so the commit was acknowledged and then lost in a crash. */
static void test_failed_rewrite_fails_the_commit(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = open_db(f->path, EG_SQLITE_WALBUF_VFS);
    int failed_commits = 0;

    numbers(db);
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, tx INT, v BLOB);"
                "INSERT INTO t(tx, v) SELECT 0, zeroblob(1000) FROM n");
    exec_ok(db, "PRAGMA cache_size=8");
    srand(1);
    for (int tx = 1; tx <= 200 && failed_commits < 5; tx++) {
        int before = atomic_load(&rewrites_failed), ops = 1 + rand() % 40, rc;
        char sql[128];

        exec_ok(db, "BEGIN");
        for (int i = 0; i < ops; i++) {
            snprintf(sql, sizeof(sql), "UPDATE t SET tx = %d, v = zeroblob(1000) WHERE id = %d",
                     tx, 1 + rand() % 2000);
            exec_ok(db, sql);
        }
        atomic_store(&fail_rewrites, 1);
        rc = exec_rc(db, "COMMIT");
        atomic_store(&fail_rewrites, 0);
        if (atomic_load(&rewrites_failed) != before) {
            assert_int_not_equal(rc, SQLITE_OK);
            failed_commits++;
        }
        if (rc != SQLITE_OK)
            exec_rc(db, "ROLLBACK");
    }
    print_message("%d commits met a failed header rewrite and failed\n", failed_commits);
    assert_true(failed_commits > 0);
    sqlite3_close(db);
    db = open_db(f->path, NULL);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM pragma_integrity_check"
                                 " WHERE integrity_check != 'ok'"),
                     0);
    sqlite3_close(db);
}

/* locking_mode=EXCLUSIVE takes no write lock in shared memory, so walbuf cannot see where
 * a transaction ends and buffers nothing: after a failed write, later transactions go on
 * as with the plain VFS (a first fix kept failing every call for the connection's life). */
static void test_exclusive_locking_mode(void **state)
{
    struct fixture *f = *state;
    sqlite3 *db = open_db(f->path, EG_SQLITE_WALBUF_VFS);
    int ok = 0;

    numbers(db);
    exec_ok(db, "PRAGMA locking_mode=EXCLUSIVE; CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)");
    atomic_store(&fail_writes, 1);
    assert_int_not_equal(exec_rc(db, "INSERT INTO t(v) SELECT randomblob(500) FROM n"),
                         SQLITE_OK);
    atomic_store(&fail_writes, 0);
    for (int i = 0; i < 5; i++)
        ok += exec_rc(db, "INSERT INTO t(v) VALUES (randomblob(100))") == SQLITE_OK;
    assert_int_equal(ok, 5);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM t"), 5);
    sqlite3_close(db);
    db = open_db(f->path, NULL);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM t"), 5);
    assert_int_equal(sqlite_int(db, "SELECT count(*) FROM pragma_integrity_check"
                                 " WHERE integrity_check != 'ok'"),
                     0);
    sqlite3_close(db);
}

/* Without power-safe overwrite SQLite pads a commit at synchronous=FULL and syncs inside
 * it; walbuf then buffers nothing, and a reader never sees a commit torn. */
static void test_no_psow_commits_read_whole(void **state)
{
    struct fixture *f = *state;
    char uri[160];
    sqlite3 *w = NULL, *r;

    snprintf(uri, sizeof(uri), "file:%s?psow=0", f->path);
    assert_int_equal(sqlite3_open_v2(uri, &w,
                                     SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI,
                                     EG_SQLITE_WALBUF_VFS),
                     SQLITE_OK);
    exec_ok(w, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA wal_autocheckpoint=0;"
               "CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT)");
    r = open_db(f->path, NULL);
    for (int i = 1; i <= 50; i++) {
        exec_ok(w, "INSERT INTO t(v) VALUES (printf('%084d', 7))");
        assert_int_equal(sqlite_int(r, "SELECT count(*) FROM t WHERE length(v) = 84"), i);
    }
    sqlite3_close(r);
    sqlite3_close(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_commit_takes_few_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_sees_whole_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spills_rewrites_and_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_commit_whole_when_the_process_dies, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_rollback_then_another_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_rolls_back, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_rewrite_fails_the_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exclusive_locking_mode, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_psow_commits_read_whole, setup, teardown),
    };

    faulty_register();
    if (eg_sqlite_walbuf_register() != SQLITE_OK)
        return 1;

    return cmocka_run_group_tests(tests, NULL, NULL);
}
