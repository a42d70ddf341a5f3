/*
 * test_fault_sync.c - the ingest syncer (ingest.c) when the WAL fsync fails. Our code's
 * fdatasync (store_sqlite.c's sq_log_sync) is redirected here at link time; SQLite's own
 * fsyncs stay real. A turn is answered only after the fsync that followed its commit, so a
 * failed fsync must fail the turn, and every later one on the handle (what reached the
 * disk is then unknown), until the store is reopened.
 */
#include <setjmp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "engram.h"

int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);

/* Set by the test thread, read on the syncer's: atomics. */
static atomic_int fail_sync; /* fdatasync calls fail */
static atomic_int slow_fail; /* the next fdatasync fails, after 300 ms */
static atomic_int syncs;     /* fdatasync calls that reached us */

int __wrap_fdatasync(int fd)
{
    atomic_fetch_add(&syncs, 1);
    if (atomic_exchange(&slow_fail, 0)) {
        usleep(300 * 1000);
        return -1;
    }
    return atomic_load(&fail_sync) ? -1 : __real_fdatasync(fd);
}

static char dir[256], path[300];

static engram *open_db(void)
{
    engram_options opt = {0};
    engram *db = NULL;

    opt.size = sizeof(opt);
    opt.no_worker = 1;
    if (engram_open(path, &opt, &db) != ENGRAM_OK)
        fail_msg("open: %s", engram_errmsg(db));
    return db;
}

static int add(engram *db, const char *content)
{
    char body[256], *out = NULL;
    int rc;

    snprintf(body, sizeof(body), "{\"scope\":\"user/alice\",\"role\":\"user\",\"content\":\"%s\"}",
             content);
    rc = engram_turn_add(db, NULL, "assistant", NULL, body, &out);
    engram_free(out);
    return rc;
}

static void test_failed_fsync_fails_the_turn_and_the_handle(void **state)
{
    engram *db = open_db();

    (void)state;
    /* Turns are answered after our fsync of the WAL: the syncer path is the one in use. */
    atomic_store(&syncs, 0);
    assert_int_equal(add(db, "I live in Lisbon"), ENGRAM_OK);
    assert_true(atomic_load(&syncs) > 0);
    /* The fsync fails: the turn is not acknowledged. */
    atomic_store(&fail_sync, 1);
    assert_int_equal(add(db, "I work at Initech"), ENGRAM_ERROR);
    assert_string_equal(engram_errname(db), "not_durable");
    /* The disk works again, but the handle cannot know what it lost: it refuses. */
    atomic_store(&fail_sync, 0);
    assert_int_equal(add(db, "I like tea"), ENGRAM_ERROR);
    assert_non_null(strstr(engram_errmsg(db), "reopened"));
    engram_close(db);
    /* A new handle starts clean, and syncs the WAL it found at open. */
    db = open_db();
    atomic_store(&syncs, 0);
    assert_int_equal(add(db, "I like coffee"), ENGRAM_OK);
    assert_true(atomic_load(&syncs) > 0);
    engram_close(db);
}

struct adder {
    engram *db;
    int rc;
};

static void *add_b(void *arg)
{
    struct adder *a = arg;

    a->rc = add(a->db, "I work at Initech");
    return NULL;
}

/* A turn committed while a failing fsync is under way is written after frames the disk may
 * have lost: it fails too, even though its own fsync succeeds. */
static void test_turns_behind_a_failed_fsync_fail(void **state)
{
    struct adder b = {0};
    pthread_t t;

    (void)state;
    b.db = open_db();
    assert_int_equal(add(b.db, "I live in Lisbon"), ENGRAM_OK);
    atomic_store(&slow_fail, 1);
    assert_int_equal(pthread_create(&t, NULL, add_b, &b), 0);
    usleep(100 * 1000); /* b is committed and its fsync is failing, slowly */
    assert_int_equal(add(b.db, "I like tea"), ENGRAM_ERROR);
    pthread_join(t, NULL);
    assert_int_equal(b.rc, ENGRAM_ERROR);
    engram_close(b.db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_fsync_fails_the_turn_and_the_handle),
        cmocka_unit_test(test_turns_behind_a_failed_fsync_fail),
    };
    char cmd[400];
    int rc;

    snprintf(dir, sizeof(dir), "/tmp/engram-sync-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/sync.db", dir);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
