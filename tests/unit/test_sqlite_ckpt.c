/*
 * test_sqlite_ckpt.c - WAL checkpoints on their own thread (src/lib/sqlite_ckpt.c): the
 * thread copies committed frames into the database file without the writer checkpointing,
 * the writer's catch-up makes the log start over so it stays bounded, also with the writer
 * on the WAL-buffering VFS as in the store, and stopping joins the thread with the store
 * intact. Plain SQLite files in a temporary directory.
 */
#include <sys/stat.h>
#include <time.h>

#include "testutil.h"

#include "lib/sqlite_ckpt.h"
#include "lib/sqlite_walbuf.h"

struct fixture {
    char dir[64];
    char path[96];
    char wal[100];
    sqlite3 *db;
};

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof(*f));

    assert_non_null(f);
    snprintf(f->dir, sizeof(f->dir), "/tmp/engram-ckpt.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
    snprintf(f->wal, sizeof(f->wal), "%s-wal", f->path);
    assert_int_equal(sqlite3_open(f->path, &f->db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(f->db,
                                  "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
                                  "PRAGMA busy_timeout=5000;" /* as the store's */
                                  "CREATE TABLE t(id INTEGER PRIMARY KEY, v BLOB)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    char p[128];

    sqlite3_close(f->db);
    unlink(f->path);
    unlink(f->wal);
    snprintf(p, sizeof(p), "%s-shm", f->path);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

static long long file_size(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 ? (long long)st.st_size : -1;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* n commits of one 3 KB row each: about one page of log per commit, plus the b-tree's. A
 * pause every 20 commits: without fsyncs these commit hundreds of times faster than ingest
 * does, and the log may overshoot the restart mark by whatever commits during one of the
 * thread's passes (a pass of its own fsyncs; slower still under valgrind). */
static void commit_rows(sqlite3 *db, int n)
{
    sqlite3_stmt *st;

    assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO t(v) VALUES (randomblob(3000))", -1,
                                        &st, NULL),
                     SQLITE_OK);
    for (int i = 0; i < n; i++) {
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_reset(st);
        if (i % 20 == 19)
            sleep_ms(2);
    }
    sqlite3_finalize(st);
}

/* With the writer's catch-up out of reach, only the thread can have copied pages into the
 * database file, which in WAL mode grows by nothing else. */
static void test_thread_copies_frames(void **state)
{
    struct fixture *f = *state;
    long long before = file_size(f->path), after = before;
    struct eg_sqlite_ckpt *c = eg_sqlite_ckpt_start(f->db, 20, 1000000);

    assert_non_null(c);
    commit_rows(f->db, 200);
    for (int i = 0; i < 200 && after < before + 200 * 3000; i++) {
        sleep_ms(10);
        commit_rows(f->db, 1); /* each commit over the wake mark wakes the thread */
        after = file_size(f->path);
    }
    print_message("database file %lld -> %lld bytes\n", before, after);
    assert_true(after >= before + 200 * 3000);
    eg_sqlite_ckpt_stop(c);
}

/* Steady commits: the log starts over every ~restart frames instead of growing. Without the
 * writer's catch-up it would hold all 3,000 commits' pages (over 12 MB). */
static void test_log_stays_bounded(void **state)
{
    struct fixture *f = *state;
    struct eg_sqlite_ckpt *c = eg_sqlite_ckpt_start(f->db, 50, 200);
    long long wal;

    assert_non_null(c);
    commit_rows(f->db, 3000);
    wal = file_size(f->wal);
    print_message("log after 3000 commits: %lld bytes\n", wal);
    assert_true(wal > 0);
    assert_true(wal < 2000 * 4200LL);
    eg_sqlite_ckpt_stop(c);
    /* Everything is there, after the stop too. */
    commit_rows(f->db, 1);
    assert_int_equal(sqlite_int(f->db, "SELECT count(*) FROM t"), 3001);
}

/* The store's own setup: the writer on the WAL-buffering VFS (sqlite_walbuf.c), the
 * checkpointer on the default one. The log stays bounded, a reader on the default VFS
 * sees every row, and SQLite finds nothing wrong. */
static void test_with_the_buffered_writer(void **state)
{
    struct fixture *f = *state;
    struct eg_sqlite_ckpt *c;
    sqlite3 *r;
    long long wal;

    sqlite3_close(f->db);
    assert_int_equal(eg_sqlite_walbuf_register(), SQLITE_OK);
    assert_int_equal(sqlite3_open_v2(f->path, &f->db, SQLITE_OPEN_READWRITE,
                                     EG_SQLITE_WALBUF_VFS),
                     SQLITE_OK);
    assert_int_equal(sqlite3_exec(f->db, "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    c = eg_sqlite_ckpt_start(f->db, 50, 200);
    assert_non_null(c);
    commit_rows(f->db, 3000);
    wal = file_size(f->wal);
    print_message("log after 3000 commits: %lld bytes\n", wal);
    assert_true(wal > 0 && wal < 2000 * 4200LL);
    eg_sqlite_ckpt_stop(c);
    assert_int_equal(sqlite3_open(f->path, &r), SQLITE_OK);
    assert_int_equal(sqlite_int(r, "SELECT count(*) FROM t"), 3000);
    assert_int_equal(sqlite_int(r, "SELECT count(*) FROM pragma_integrity_check"
                                 " WHERE integrity_check != 'ok'"),
                     0);
    sqlite3_close(r);
}

/* A store that never reaches the wake mark never starts the thread; stop is then only a
 * free, and NULL is a no-op. */
static void test_stop_without_thread(void **state)
{
    struct fixture *f = *state;
    struct eg_sqlite_ckpt *c = eg_sqlite_ckpt_start(f->db, 1000000, 2000000);

    assert_non_null(c);
    commit_rows(f->db, 5);
    eg_sqlite_ckpt_stop(c);
    eg_sqlite_ckpt_stop(NULL);
}

/* A database without a file (":memory:") gets no checkpointer. */
static void test_memory_store_refused(void **state)
{
    sqlite3 *db;

    (void)state;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_null(eg_sqlite_ckpt_start(db, 10, 20));
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_thread_copies_frames, setup, teardown),
        cmocka_unit_test_setup_teardown(test_log_stays_bounded, setup, teardown),
        cmocka_unit_test_setup_teardown(test_with_the_buffered_writer, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_without_thread, setup, teardown),
        cmocka_unit_test(test_memory_store_refused),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
