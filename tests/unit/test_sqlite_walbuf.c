/*
 * test_sqlite_walbuf.c - the WAL-buffering VFS (src/lib/sqlite_walbuf.c): a commit of many
 * pages takes a few writes instead of two per page; a reader on the plain VFS sees every
 * commit whole while they are written; transactions that spill pages to the log before
 * committing, roll back, or rewrite a page already in the log leave a store that passes
 * SQLite's integrity check and holds exactly the committed rows.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>
#include <cmocka.h>

#include "lib/sqlite_walbuf.h"

struct fixture {
    char dir[64];
    char path[96];
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/engram-walbuf.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    assert_int_equal(eg_walbuf_register(), SQLITE_OK);
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

static sqlite3_int64 one_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    sqlite3_int64 v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
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
    buffered = commit_writes(f->path, EG_WALBUF_VFS);
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
    sqlite3 *db = open_db(f->path, EG_WALBUF_VFS);
    struct reader_arg r = {.path = f->path, .stop = 0, .reads = 0};
    sqlite3_stmt *ins;
    pthread_t th;
    sqlite3_int64 rows = 0;

    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, batch INT, size INT, v BLOB);"
                "CREATE INDEX t_batch ON t(batch)");
    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(batch, size, v) VALUES (?, ?, randomblob(?))",
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
    assert_int_equal(one_int(db, "SELECT count(*) FROM t"), rows);
    assert_int_equal(one_int(db, "SELECT count(*) FROM pragma_integrity_check"
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
    sqlite3 *db = open_db(f->path, EG_WALBUF_VFS);

    numbers(db);
    exec_ok(db, "PRAGMA cache_size=10");
    exec_ok(db, "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB);"
                "CREATE INDEX t_v ON t(v)");
    exec_ok(db, "BEGIN");
    exec_ok(db, "INSERT INTO t(v) SELECT randomblob(500) FROM n WHERE x <= 2000");
    exec_ok(db, "UPDATE t SET v = randomblob(400) WHERE id % 3 = 0");
    exec_ok(db, "ROLLBACK");
    assert_int_equal(one_int(db, "SELECT count(*) FROM t"), 0);
    exec_ok(db, "BEGIN");
    exec_ok(db, "INSERT INTO t(v) SELECT randomblob(500) FROM n WHERE x <= 2000");
    exec_ok(db, "UPDATE t SET v = randomblob(400) WHERE id % 3 = 0");
    exec_ok(db, "DELETE FROM t WHERE id % 7 = 0");
    exec_ok(db, "COMMIT");
    exec_ok(db, "INSERT INTO t(v) VALUES (randomblob(10))");
    sqlite3_close(db);
    db = open_db(f->path, NULL);
    assert_int_equal(one_int(db, "SELECT count(*) FROM t"), 2000 - 2000 / 7 + 1);
    assert_int_equal(one_int(db, "SELECT count(*) FROM pragma_integrity_check"
                                 " WHERE integrity_check != 'ok'"),
                     0);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_a_commit_takes_few_writes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reader_sees_whole_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_spills_rewrites_and_rollback, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
