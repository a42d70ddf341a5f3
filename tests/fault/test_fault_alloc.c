/*
 * test_fault_alloc.c - out-of-memory torture (curl's torture tests, SQLite's faultsim):
 * the Nth allocation fails, for N = 1, 2, ... until an operation completes without
 * meeting the failure. Each failing run must return an error (never crash), leave the
 * store consistent (a turn is there with all its extraction, or not at all) and leak
 * nothing (LeakSanitizer checks at exit in the sanitized build).
 *
 * Our code's malloc/calloc/realloc/strdup/strndup are redirected here at link time
 * (-Wl,--wrap, see CMakeLists.txt), and jansson's through json_set_alloc_funcs. SQLite
 * keeps its own allocator: it has its own fault simulation upstream.
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
#include <jansson.h>

#include "engram.h"

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t m);
void *__real_realloc(void *p, size_t n);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void *__wrap_malloc(size_t n);
void *__wrap_calloc(size_t n, size_t m);
void *__wrap_realloc(void *p, size_t n);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);

static long countdown = -1; /* fail when it reaches 0; -1 = never */
static int failed;          /* a failure was injected in this run */

static int fail_now(void)
{
    if (countdown < 0)
        return 0;
    if (countdown-- == 0) {
        failed = 1;
        return 1;
    }
    return 0;
}

void *__wrap_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t m)
{
    return fail_now() ? NULL : __real_calloc(n, m);
}

void *__wrap_realloc(void *p, size_t n)
{
    return fail_now() ? NULL : __real_realloc(p, n);
}

char *__wrap_strdup(const char *s)
{
    return fail_now() ? NULL : __real_strdup(s);
}

char *__wrap_strndup(const char *s, size_t n)
{
    return fail_now() ? NULL : __real_strndup(s, n);
}

static void *json_malloc(size_t n)
{
    return fail_now() ? NULL : __real_malloc(n);
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

/* Count turns and location attributes of user/alice, with failures off. */
static void census(engram *db, long *turns, long *attrs)
{
    char *out = NULL;
    json_t *j;

    assert_int_equal(engram_stats(db, &out), ENGRAM_OK);
    j = json_loads(out, 0, NULL);
    *turns = (long)json_integer_value(json_object_get(j, "turns"));
    json_decref(j);
    engram_free(out);
    assert_int_equal(engram_attributes_list(db, NULL, "c", "{\"scope\":\"user/alice\"}", &out),
                     ENGRAM_OK);
    j = json_loads(out, 0, NULL);
    *attrs = (long)json_array_size(json_object_get(j, "attributes"));
    json_decref(j);
    engram_free(out);
}

/* Run op under allocation failure N = 1.. until it succeeds untouched. */
static void torture(const char *what, int (*op)(engram *db, char **out))
{
    engram *db = open_db();
    long n, base_turns, base_attrs;

    census(db, &base_turns, &base_attrs);
    for (n = 0; n < 5000; n++) {
        char *out = NULL;
        long turns, attrs;
        int rc;

        failed = 0;
        countdown = n;
        rc = op(db, &out);
        countdown = -1;
        census(db, &turns, &attrs);
        if (!failed) { /* the whole operation ran without meeting the failure */
            if (rc != ENGRAM_OK)
                fail_msg("%s: no failure injected but rc=%d: %s", what, rc, engram_errmsg(db));
            engram_free(out);
            break;
        }
        if (rc == ENGRAM_OK) {
            /* A failure in an optional step may be absorbed; then the answer must be there
             * and the write complete. */
            assert_non_null(out);
            engram_free(out);
            assert_true(turns >= base_turns);
        } else {
            assert_null(out);
            if (turns != base_turns || attrs != base_attrs)
                fail_msg("%s: allocation %ld failed (rc=%d) but the store changed: turns %ld->%ld, "
                         "attributes %ld->%ld",
                         what, n + 1, rc, base_turns, turns, base_attrs, attrs);
        }
        base_turns = turns;
        base_attrs = attrs;
    }
    printf("%s: %ld allocation failure points survived\n", what, n);
    engram_close(db);
}

static int op_turn(engram *db, char **out)
{
    return engram_turn_add(db, NULL, "c", NULL,
                           "{\"scope\":\"user/alice\",\"role\":\"user\",\"content\":\"I just moved "
                           "from Berlin to London and I work at Acme Corp\"}",
                           out);
}

static int op_profile(engram *db, char **out)
{
    return engram_profile_get(db, NULL, "c", "{\"scope\":\"user/alice\"}", out);
}

static int op_context(engram *db, char **out)
{
    return engram_context_query(db, NULL, "c", NULL,
                                "{\"scope\":\"user/alice\",\"query\":\"where do I live\"}", out);
}

static int op_forget_dry(engram *db, char **out)
{
    return engram_forget(db, NULL, "c",
                         "{\"scope\":\"user/alice\",\"attribute_key\":\"location\",\"dry_run\":true}",
                         out);
}

static void test_turn_under_oom(void **state)
{
    (void)state;
    torture("turn_add", op_turn);
}

static void test_reads_under_oom(void **state)
{
    (void)state;
    torture("profile", op_profile);
    torture("context", op_context);
    torture("forget dry_run", op_forget_dry);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_turn_under_oom),
        cmocka_unit_test(test_reads_under_oom),
    };
    char cmd[400];
    int rc;

    json_set_alloc_funcs(json_malloc, free);
    snprintf(dir, sizeof(dir), "/tmp/engram-fault-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    snprintf(path, sizeof(path), "%s/fault.db", dir);
    rc = cmocka_run_group_tests(tests, NULL, NULL);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
    return rc;
}
