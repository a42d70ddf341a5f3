/*
 * test_fault_sync.c - the ingest syncer (ingest.c) when the WAL fsync fails. Our code's
 * fdatasync (store_sqlite.c's sq_log_sync) is redirected here at link time; SQLite's own
 * fsyncs stay real. A turn is answered only after the fsync that followed its commit, so a
 * failed fsync must fail the turn, and every later one on the handle (what reached the
 * disk is then unknown), until the store is reopened.
 */
#include <setjmp.h>
#include <stdarg.h>
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

static int fail_sync; /* the next fdatasync calls fail */
static int syncs;     /* fdatasync calls that reached us */

int __wrap_fdatasync(int fd)
{
    syncs++;
    return fail_sync ? -1 : __real_fdatasync(fd);
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
    syncs = 0;
    assert_int_equal(add(db, "I live in Lisbon"), ENGRAM_OK);
    assert_true(syncs > 0);
    /* The fsync fails: the turn is not acknowledged. */
    fail_sync = 1;
    assert_int_equal(add(db, "I work at Initech"), ENGRAM_ERROR);
    assert_string_equal(engram_errname(db), "not_durable");
    /* The disk works again, but the handle cannot know what it lost: it refuses. */
    fail_sync = 0;
    assert_int_equal(add(db, "I like tea"), ENGRAM_ERROR);
    assert_non_null(strstr(engram_errmsg(db), "reopened"));
    engram_close(db);
    /* A new handle starts clean. */
    db = open_db();
    assert_int_equal(add(db, "I like coffee"), ENGRAM_OK);
    engram_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_failed_fsync_fails_the_turn_and_the_handle),
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
