/*
 * test_scope.c - scope parsing, canonical form and floor matching, including hostile
 * input (DESIGN.md section 2).
 */
#include "testutil.h"

static engram *db;
static struct tstore ts;

static int setup(void **state)
{
    (void)state;
    memset(&ts, 0, sizeof(ts));
    tstore_open(&ts);
    db = ts.db;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tstore_close(&ts);
    return 0;
}

static void canon_ok(const char *in, const char *want)
{
    char *out = NULL;
    int rc = engram_scope_canonical(db, in, &out);

    if (rc != ENGRAM_OK)
        fail_msg("scope %s: rc=%d %s", in, rc, engram_errmsg(db));
    assert_string_equal(out, want);
    engram_free(out);
}

static void canon_bad(const char *in, const char *needle)
{
    char *out = (char *)1;
    int rc = engram_scope_canonical(db, in, &out);

    if (rc != ENGRAM_INVALID)
        fail_msg("scope '%s' should be invalid, got rc=%d out=%s", in, rc, out ? out : "(null)");
    assert_null(out);
    assert_string_equal(engram_errname(db), "invalid_scope");
    if (needle && !strstr(engram_errmsg(db), needle))
        fail_msg("message '%s' should mention '%s'", engram_errmsg(db), needle);
}

static void test_canonical_forms(void **state)
{
    (void)state;
    canon_ok("user/alice", "user/alice");
    canon_ok("user/alice/org/acme", "org/acme/user/alice");
    canon_ok("{\"user\":\"alice\",\"org\":\"acme\"}", "org/acme/user/alice");
    canon_ok("{\"user\":\"Zoë O'Brien; DROP TABLE turns;--\"}",
             "user/Zoë O'Brien; DROP TABLE turns;--");
    canon_ok("a/1/b/2/c/3/d/4/e/5/f/6/g/7/h/8", "a/1/b/2/c/3/d/4/e/5/f/6/g/7/h/8");
}

static void test_hostile_scopes(void **state)
{
    char big[400], nine[200];

    (void)state;
    canon_bad("", "empty");
    canon_bad("{}", "empty");
    canon_bad("user", "no value");
    canon_bad("user/", "'user'");
    canon_bad("User/alice", "'User'");
    canon_bad("us-er/alice", "'us-er'");
    canon_bad("a/1/b/2/c/3/d/4/e/5/f/6/g/7/h/8/i/9", "8");
    snprintf(nine, sizeof(nine), "{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\",\"d\":\"4\",\"e\":\"5\","
                                 "\"f\":\"6\",\"g\":\"7\",\"h\":\"8\",\"i\":\"9\"}");
    canon_bad(nine, "at most 8");
    memset(big, 'x', 300);
    memcpy(big, "user/", 5);
    big[300] = '\0';
    canon_bad(big, "'user'");
    canon_bad("{\"user\":\"a/b\"}", "'/'");
    canon_bad("{\"user\":\"\"}", "1-256");
    canon_bad("{\"user\":\"tab\\there\"}", "control");
    canon_bad("{\"user\":\"nul\\u0000x\"}", NULL); /* jansson refuses \\u0000 */
    canon_bad("user/\xff\xfe", "UTF-8");
    canon_bad("user/\xc0\xaf", "UTF-8"); /* overlong '/' */
    canon_bad("user/\xed\xa0\x80", "UTF-8"); /* a surrogate */
    canon_bad("user/alice/user/bob", "twice");
    canon_bad("{\"user\":42}", "string");
    canon_bad("[\"user\",\"alice\"]", NULL);
    canon_bad("{\"user\": ", NULL);
    canon_bad("{\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\":\"x\"}", "1-32");
}

static void test_floor_matching(void **state)
{
    (void)state;
    assert_int_equal(engram_scope_within("org/acme", "org/acme/user/alice"), 1);
    assert_int_equal(engram_scope_within("org/acme/user/alice", "org/acme/user/alice"), 1);
    assert_int_equal(engram_scope_within("user/alice", "org/acme/user/alice"), 1);
    assert_int_equal(engram_scope_within("org/acme/user/bob", "org/acme/user/alice"), 0);
    assert_int_equal(engram_scope_within("org/acme/user/alice", "org/acme"), 0);
    assert_int_equal(engram_scope_within("org/acm", "org/acme"), 0);
    assert_int_equal(engram_scope_within("user/al", "user/alice"), 0);
    assert_int_equal(engram_scope_within("", "user/alice"), -1);
    assert_int_equal(engram_scope_within("user", "user/alice"), -1);
    assert_int_equal(engram_scope_within(NULL, "user/alice"), -1);
}

/* What a read sees, end to end: facts at the org floor and the user, never a sibling. */
static void test_floor_reads(void **state)
{
    char *out = NULL;
    json_t *j, *ids;

    (void)state;
    j = ok_json(db, engram_turn_add(db, NULL, "c", NULL,
                                    "{\"scope\":\"org/acme\",\"role\":\"user\","
                                    "\"content\":\"the quarterly roadmap review is on friday\"}",
                                    &out), &out, "turn org");
    json_decref(j);
    j = ok_json(db, engram_turn_add(db, NULL, "c", NULL,
                                    "{\"scope\":\"org/acme/user/bob\",\"role\":\"user\","
                                    "\"content\":\"bob's secret roadmap notes\"}",
                                    &out), &out, "turn bob");
    json_decref(j);
    j = ok_json(db, engram_context_query(db, NULL, "c", NULL,
                                         "{\"scope\":\"org/acme/user/alice\",\"query\":\"roadmap\"}",
                                         &out), &out, "context alice");
    ids = json_object_get(j, "items");
    assert_int_equal(json_array_size(ids), 1);
    assert_non_null(strstr(jstr(json_array_get(ids, 0), "text"), "quarterly"));
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_canonical_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(test_hostile_scopes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_floor_matching, setup, teardown),
        cmocka_unit_test_setup_teardown(test_floor_reads, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
