/*
 * test_memory.c - the memory model through the public API: supersession chains,
 * unchanged repeats, multi-valued keys, negation, hedges, other people's facts, forget
 * (with dry_run), profile (summary, as_of), the durable async queue, and the audit trail.
 */
#include "testutil.h"
#include "lib/internal.h"
#include "util/buf.h"

static struct tstore ts;

static int setup(void **state)
{
    (void)state;
    memset(&ts, 0, sizeof(ts));
    tstore_open(&ts);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    tstore_close(&ts);
    return 0;
}

/* Say something as alice at a given time; returns the diff (caller frees). */
static json_t *say(const char *content, const char *at)
{
    json_t *req = json_pack("{s:s, s:s, s:s}", "scope", "user/alice", "role", "user", "content",
                            content);
    char *text, *out = NULL;
    json_t *j, *diff;

    if (at)
        json_object_set_new(req, "created_at", json_string(at));
    text = json_dumps(req, 0);
    j = ok_json(ts.db, engram_turn_add(ts.db, NULL, "assistant", NULL, text, &out), &out, content);
    diff = json_incref(json_object_get(j, "diff"));
    free(text);
    json_decref(req);
    json_decref(j);
    return diff;
}

/* The first diff entry with this key, or fail. */
static json_t *change(json_t *diff, const char *key)
{
    size_t i;
    json_t *d;

    json_array_foreach(diff, i, d)
    {
        if (strcmp(jstr(d, "key"), key) == 0)
            return d;
    }
    fail_msg("no change to '%s' in diff %s", key, json_dumps(diff, 0));
    return NULL;
}

static json_t *call(int (*op)(engram *, const engram_call *, const char *, const char *, char **),
                    const char *req)
{
    char *out = NULL;
    return ok_json(ts.db, op(ts.db, NULL, "assistant", req, &out), &out, req);
}

static void test_supersession_chain(void **state)
{
    json_t *diff, *attrs, *a, *p;

    (void)state;
    diff = say("I live in Berlin", "2024-01-10T09:00:00Z");
    assert_string_equal(jstr(change(diff, "location"), "action"), "added");
    json_decref(diff);
    diff = say("I just moved from Berlin to London", "2024-11-15T10:25:00Z");
    a = change(diff, "location");
    assert_string_equal(jstr(a, "action"), "updated");
    assert_string_equal(jstr(a, "value"), "London");
    assert_string_equal(jstr(a, "previous_value"), "Berlin");
    assert_string_equal(json_string_value(json_array_get(json_object_get(a, "entity"), 1)), "alice");
    json_decref(diff);

    attrs = call(engram_attributes_list, "{\"scope\":\"user/alice\",\"key\":\"location\"}");
    assert_int_equal(json_array_size(json_object_get(attrs, "attributes")), 1);
    a = json_array_get(json_object_get(attrs, "attributes"), 0);
    assert_string_equal(jstr(a, "value"), "London");
    assert_string_equal(jstr(a, "valid_from"), "2024-11-15T10:25:00.000Z");
    assert_true(json_is_null(json_object_get(a, "valid_until")));
    assert_int_equal(json_array_size(json_object_get(a, "chain")), 1);
    assert_string_equal(jstr(json_array_get(json_object_get(a, "chain"), 0), "value"), "Berlin");
    assert_string_equal(jstr(json_array_get(json_object_get(a, "chain"), 0), "valid_until"),
                        "2024-11-15T10:25:00.000Z");
    json_decref(attrs);

    attrs = call(engram_attributes_list,
                 "{\"scope\":\"user/alice\",\"key\":\"location\",\"include_expired\":true}");
    assert_int_equal(json_array_size(json_object_get(attrs, "attributes")), 2);
    json_decref(attrs);

    p = call(engram_profile_get, "{\"scope\":\"user/alice\"}");
    assert_non_null(strstr(jstr(p, "summary"), "London"));
    assert_null(strstr(jstr(p, "summary"), "Berlin"));
    json_decref(p);
    /* What did we know in the summer? */
    p = call(engram_profile_get, "{\"scope\":\"user/alice\",\"as_of\":\"2024-07-01T00:00:00Z\"}");
    assert_non_null(strstr(jstr(p, "summary"), "Berlin"));
    assert_null(strstr(jstr(p, "summary"), "London"));
    json_decref(p);
}

/* The text alone dates the old value: a chain back to Berlin with nothing known before. */
static void test_move_from_unknown_place(void **state)
{
    json_t *diff, *attrs, *a;

    (void)state;
    diff = say("I just moved from Berlin to London", "2024-11-15T10:25:00Z");
    a = change(diff, "location");
    assert_string_equal(jstr(a, "action"), "updated");
    assert_string_equal(jstr(a, "value"), "London");
    assert_string_equal(jstr(a, "previous_value"), "Berlin");
    json_decref(diff);
    attrs = call(engram_attributes_list, "{\"scope\":\"user/alice\",\"key\":\"location\"}");
    assert_int_equal(json_array_size(json_object_get(attrs, "attributes")), 1);
    a = json_array_get(json_object_get(attrs, "attributes"), 0);
    assert_string_equal(jstr(json_array_get(json_object_get(a, "chain"), 0), "value"), "Berlin");
    json_decref(attrs);
}

static void test_repeat_and_multi(void **state)
{
    json_t *diff, *attrs;
    size_t i, likes = 0;
    json_t *a;

    (void)state;
    json_decref(say("I'm allergic to peanuts", NULL));
    diff = say("i'm allergic to peanuts btw", NULL);
    assert_string_equal(jstr(change(diff, "allergies"), "action"), "unchanged");
    json_decref(diff);
    json_decref(say("I like hiking", NULL));
    json_decref(say("I also like chess", NULL));
    attrs = call(engram_attributes_list, "{\"scope\":\"user/alice\"}");
    json_array_foreach(json_object_get(attrs, "attributes"), i, a) likes +=
        strcmp(jstr(a, "key"), "likes") == 0;
    assert_int_equal(likes, 2);
    json_decref(attrs);
}

/* The changes user/alice's audit entries record (a turn's entry lists what its inline
 * extraction changed; a queued job's "extract" entry what it changed later). */
static size_t audited_changes(void)
{
    json_t *j = call(engram_audit_list, "{\"scope\":\"user/alice\",\"limit\":1000}"), *e;
    size_t i, n = 0;

    json_array_foreach(json_object_get(j, "entries"), i, e) n +=
        json_array_size(json_object_get(json_object_get(e, "detail"), "changes"));
    json_decref(j);
    return n;
}

/* A repeat raises the fact's confidence (a change, audited) until the ceiling; past it a
 * repeat changes nothing: still "unchanged" in the diff, but no write and no audit entry. */
static void test_repeat_at_the_ceiling(void **state)
{
    json_t *diff, *attrs;
    double conf = 0, last = -1;
    size_t before;
    int i;

    (void)state;
    for (i = 0; i < 12 && conf != last; i++) {
        last = conf;
        json_decref(say("I'm allergic to peanuts", NULL));
        attrs = call(engram_attributes_list, "{\"scope\":\"user/alice\",\"key\":\"allergies\"}");
        conf = json_real_value(json_object_get(json_array_get(json_object_get(attrs, "attributes"), 0),
                                               "confidence"));
        json_decref(attrs);
    }
    assert_true(conf > 0.98 && conf < 1.0); /* reached the ceiling and stayed there */
    before = audited_changes();
    diff = say("I'm allergic to peanuts", NULL);
    assert_string_equal(jstr(change(diff, "allergies"), "action"), "unchanged");
    json_decref(diff);
    assert_int_equal(audited_changes(), before);
}

static void test_not_the_users_facts(void **state)
{
    json_t *diff, *attrs;
    size_t i;
    json_t *a;
    char *out = NULL;

    (void)state;
    json_decref(say("my sister lives in Paris", NULL));
    json_decref(say("what's the weather like in Rome?", NULL));
    json_decref(say("if I lived in Madrid I would learn flamenco", NULL));
    /* Assistant turns never carry the user's facts. */
    json_decref(ok_json(ts.db,
                        engram_turn_add(ts.db, NULL, "assistant", NULL,
                                        "{\"scope\":\"user/alice\",\"role\":\"assistant\","
                                        "\"content\":\"I live in Lisbon and I love it\"}",
                                        &out),
                        &out, "assistant turn"));
    diff = say("I might move to Tokyo next year", NULL);
    assert_string_equal(jstr(change(diff, "location"), "action"), "flagged");
    assert_string_equal(jstr(change(diff, "location"), "category"), "unknowns");
    json_decref(diff);
    attrs = call(engram_attributes_list, "{\"scope\":\"user/alice\",\"key\":\"location\"}");
    json_array_foreach(json_object_get(attrs, "attributes"), i, a)
    {
        const char *who = json_string_value(json_array_get(json_object_get(a, "entity"), 1));
        if (strcmp(who, "alice") == 0 && strcmp(jstr(a, "category"), "unknowns") != 0)
            fail_msg("alice got a location from someone else's words: %s", jstr(a, "value"));
    }
    json_decref(attrs);
}

static void test_negation_closes(void **state)
{
    json_t *diff;

    (void)state;
    json_decref(say("I work at Acme Corp", "2024-01-01T00:00:00Z"));
    diff = say("I no longer work at Acme Corp", "2024-05-01T00:00:00Z");
    assert_string_equal(jstr(change(diff, "employer"), "action"), "expired");
    json_decref(diff);
    diff = call(engram_attributes_list, "{\"scope\":\"user/alice\",\"key\":\"employer\"}");
    assert_int_equal(json_array_size(json_object_get(diff, "attributes")), 0);
    json_decref(diff);
}

static void test_forget(void **state)
{
    json_t *r, *attrs;

    (void)state;
    json_decref(say("I work at Acme Corp", NULL));
    json_decref(say("I'm working on the billing migration", NULL));
    r = call(engram_forget, "{\"scope\":{\"user\":\"alice\"},\"entity_type\":\"Person\","
                            "\"entity_name\":\"alice\",\"attribute_key\":\"employer\","
                            "\"dry_run\":true}");
    assert_int_equal(json_integer_value(json_object_get(r, "expired")), 1);
    assert_true(json_is_true(json_object_get(r, "dry_run")));
    json_decref(r);
    attrs = call(engram_attributes_list, "{\"scope\":\"user/alice\",\"key\":\"employer\"}");
    assert_int_equal(json_array_size(json_object_get(attrs, "attributes")), 1);
    json_decref(attrs);
    r = call(engram_forget, "{\"scope\":{\"user\":\"alice\"},\"entity_type\":\"Person\","
                            "\"entity_name\":\"alice\",\"attribute_key\":\"employer\"}");
    assert_int_equal(json_integer_value(json_object_get(r, "expired")), 1);
    json_decref(r);
    attrs = call(engram_attributes_list, "{\"scope\":\"user/alice\",\"key\":\"employer\"}");
    assert_int_equal(json_array_size(json_object_get(attrs, "attributes")), 0);
    json_decref(attrs);
    attrs = call(engram_attributes_list,
                 "{\"scope\":\"user/alice\",\"key\":\"employer\",\"include_expired\":true}");
    assert_int_equal(json_array_size(json_object_get(attrs, "attributes")), 1);
    json_decref(attrs);
    r = call(engram_forget, "{\"scope\":\"user/alice\",\"category\":\"context\"}");
    assert_true(json_integer_value(json_object_get(r, "expired")) >= 1);
    json_decref(r);
    r = call(engram_profile_get, "{\"scope\":\"user/alice\"}");
    assert_int_equal(json_array_size(json_object_get(json_object_get(r, "attributes"), "context")), 0);
    json_decref(r);
    {
        char *out = NULL;
        want_rc(ts.db, engram_forget(ts.db, NULL, "assistant", "{\"scope\":\"user/alice\"}", &out),
                ENGRAM_INVALID, "forget without selector");
        want_rc(ts.db, engram_forget(ts.db, NULL, "assistant",
                                     "{\"scope\":\"user/alice\",\"category\":\"nope\"}", &out),
                ENGRAM_INVALID, "bad category");
    }
}

static void test_profile_summary(void **state)
{
    json_t *p;
    const char *s;

    (void)state;
    json_decref(say("My name is Alice Chen", NULL));
    json_decref(say("I'm Head of Platform at Acme Corp", NULL));
    json_decref(say("I prefer TypeScript over JavaScript", NULL));
    json_decref(say("I live in London", NULL));
    json_decref(say("I prefer bullet-point responses", NULL));
    p = call(engram_profile_get, "{\"scope\":\"user/alice\"}");
    s = jstr(p, "summary");
    if (!strstr(s, "The user is Alice Chen") || !strstr(s, "Acme Corp") ||
        !strstr(s, "TypeScript over JavaScript") || !strstr(s, "London") || !strstr(s, "bullet"))
        fail_msg("summary misses facts: %s", s);
    assert_true(json_array_size(json_object_get(json_object_get(p, "attributes"), "identity")) >= 3);
    json_decref(p);
    /* An empty profile has an empty summary, so callers' "if profile.summary" works. */
    p = call(engram_profile_get, "{\"scope\":\"user/nobody\"}");
    assert_string_equal(jstr(p, "summary"), "");
    json_decref(p);
}

static void test_async_queue_survives_restart(void **state)
{
    char *out = NULL;
    json_t *j, *p;
    int done = 0;

    (void)state;
    j = ok_json(ts.db, engram_turn_add(ts.db, NULL, "assistant", NULL,
                                       "{\"scope\":\"user/alice\",\"role\":\"user\","
                                       "\"content\":\"I live in Oslo\",\"async\":true}",
                                       &out),
                &out, "async turn");
    assert_true(json_is_true(json_object_get(j, "queued")));
    assert_int_equal(json_array_size(json_object_get(j, "diff")), 0);
    json_decref(j);
    /* "Crash" before the worker ran: the job is in the store, and runs after reopen. */
    tstore_reopen(&ts);
    p = call(engram_profile_get, "{\"scope\":\"user/alice\"}");
    assert_null(strstr(jstr(p, "summary"), "Oslo"));
    json_decref(p);
    assert_int_equal(engram_jobs_run(ts.db, 10, &done), ENGRAM_OK);
    assert_int_equal(done, 1);
    p = call(engram_profile_get, "{\"scope\":\"user/alice\"}");
    assert_non_null(strstr(jstr(p, "summary"), "Oslo"));
    json_decref(p);
    assert_int_equal(engram_jobs_run(ts.db, 10, &done), ENGRAM_OK);
    assert_int_equal(done, 0);
}

/* One audit entry per write: a turn's lists what its extraction changed, a queued turn's
 * job writes its own "extract" entry, a forget one entry. */
static void test_audit_trail(void **state)
{
    json_t *a, *e, *j;
    size_t i, turns = 0, extract = 0, forget = 0;
    char *out = NULL, queued[64] = "";
    int done = 0;

    (void)state;
    json_decref(say("I live in Berlin", NULL));
    json_decref(say("hello there", NULL));
    j = ok_json(ts.db, engram_turn_add(ts.db, NULL, "assistant", NULL,
                                       "{\"scope\":\"user/alice\",\"role\":\"user\","
                                       "\"content\":\"I work at Acme\",\"async\":true}",
                                       &out),
                &out, "async turn");
    snprintf(queued, sizeof(queued), "%s", jstr(j, "turn.id"));
    json_decref(j);
    assert_int_equal(engram_jobs_run(ts.db, 10, &done), ENGRAM_OK);
    assert_int_equal(done, 1);
    json_decref(call(engram_forget, "{\"scope\":\"user/alice\",\"attribute_key\":\"location\"}"));
    a = call(engram_audit_list, "{\"scope\":\"user/alice\"}");
    json_array_foreach(json_object_get(a, "entries"), i, e)
    {
        json_t *changes = json_object_get(json_object_get(e, "detail"), "changes");

        if (strcmp(jstr(e, "action"), "turn") == 0) {
            turns++;
            assert_string_equal(jstr(e, "detail.role"), "user");
            if (strcmp(jstr(e, "target"), queued) == 0) {
                assert_true(json_is_true(json_object_get(json_object_get(e, "detail"), "queued")));
                assert_null(changes);
            } else if (json_array_size(changes)) {
                assert_int_equal(json_array_size(changes), 1);
                assert_string_equal(jstr(e, "detail.changes.0.action"), "added");
                assert_string_equal(jstr(e, "detail.changes.0.value"), "Berlin");
                assert_non_null(strstr(jstr(e, "detail.changes.0.attribute_id"), "attr_"));
            } else {
                assert_true(json_is_array(changes)); /* "hello there" changed nothing */
            }
        } else if (strcmp(jstr(e, "action"), "extract") == 0) {
            extract++;
            assert_string_equal(jstr(e, "target"), queued);
            assert_int_equal(json_array_size(changes), 1);
            assert_string_equal(jstr(e, "detail.changes.0.key"), "employer");
        }
        forget += strcmp(jstr(e, "action"), "forget") == 0;
    }
    assert_int_equal(turns, 3);
    assert_int_equal(extract, 1);
    assert_int_equal(forget, 1);
    json_decref(a);
}

/* Audit details are written as text on the ingest path; they must read as jansson would
 * have written them, for any value a user can send. */
static void test_json_str_matches_jansson(void **state)
{
    static const char *const cases[] = {
        "", "plain", "quote \" and backslash \\", "tab\tnew\nline\rcr\bbs\fff",
        "\x01\x1f control", "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "slash / and \x7f del",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct eg_buf b = {0};
        json_t *j = json_string(cases[i]);
        char *want = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);

        assert_int_equal(eg_buf_json_str(&b, cases[i]), ENGRAM_OK);
        assert_string_equal(b.p, want);
        free(want);
        json_decref(j);
        eg_buf_reset(&b);
    }
    {
        struct eg_buf b = {0};
        assert_int_equal(eg_buf_json_str(&b, NULL), ENGRAM_OK);
        assert_string_equal(b.p, "null");
        eg_buf_reset(&b);
        /* Invalid or cut UTF-8 (jansson never holds it) becomes U+FFFD, one per bad byte. */
        assert_int_equal(eg_buf_json_str(&b, "a\xff b\xc3"), ENGRAM_OK);
        assert_string_equal(b.p, "\"a\\uFFFD b\\uFFFD\"");
        eg_buf_reset(&b);
        assert_int_equal(eg_buf_json_strn(&b, "caf\xc3\xa9", 4), ENGRAM_OK); /* cut inside */
        assert_string_equal(b.p, "\"caf\\uFFFD\"");
        eg_buf_reset(&b);
    }
}

/* Ingest writes each turn of its answer as text; it must be what jansson wrote before. */
static void test_turn_write_matches_jansson(void **state)
{
    static const char *const metas[] = {NULL, "{}", "{\"a\":1.5,\"b\":[1,2.25,true,null],"
                                                    "\"c\":\"x\\ny\",\"d\":0.1,\"e\":{\"f\":1e-7}}"};
    static const char *const scopes[] = {"user/alice", "org/acme/team/caf\xc3\xa9/user/bob"};
    static const char *const contents[] = {"I live in Paris", "quote \" tab\t nl\n \x01 \\ end"};
    (void)state;
    for (size_t m = 0; m < 3; m++) {
        for (size_t k = 0; k < 2; k++) {
            struct eg_turn t = {0};
            struct eg_buf b = {0};
            json_t *j;
            char *want;

            snprintf(t.id, sizeof(t.id), "turn_01abc");
            snprintf(t.session_id, sizeof(t.session_id), "%s", k ? "sess_01xyz" : "");
            t.context = "assistant";
            t.scope = (char *)scopes[k];
            snprintf(t.role, sizeof(t.role), "%s", k ? "assistant" : "user");
            t.content = (char *)contents[k];
            t.created_at = k ? 1700000000123 : 0;
            t.metadata = (char *)metas[m];
            j = eg_turn_json(&t);
            want = json_dumps(j, EG_JSON_ANSWER);
            assert_int_equal(eg_turn_write(&b, &t), ENGRAM_OK);
            assert_string_equal(b.p, want);
            free(want);
            json_decref(j);
            eg_buf_reset(&b);
        }
    }
}

/* The profile writes attributes as text; they must be what jansson wrote before. */
static void test_attr_write_matches_jansson(void **state)
{
    static const double reals[] = {0.9, 0.7, 0.95, 1, 0.05, 0.123456789, 1e-7, 0};
    (void)state;
    for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++) {
        struct eg_attr a = {0};
        struct eg_buf b = {0};
        json_t *j;
        char *want;

        snprintf(a.id, sizeof(a.id), "attr_01abc%zu", i);
        a.context = "assistant";
        a.scope = (char *)(i % 2 ? "user/alice" : "org/acme/user/b\xc3\xb8" "b");
        a.entity_type = i == 3 ? NULL : "Person";
        a.entity_name = "alice \"A\"";
        a.category = "identity";
        a.key = "location";
        a.value = i % 3 ? "London" : "tab\there";
        a.confidence = reals[i];
        a.importance = reals[(i + 3) % 8];
        snprintf(a.source_turn, sizeof(a.source_turn), "%s", i % 2 ? "turn_01x" : "");
        a.valid_from = 1700000000000 + (int64_t)i;
        a.valid_until = i % 2 ? 1700000001000 : 0;
        a.recorded_at = 1700000000500;
        snprintf(a.supersedes, sizeof(a.supersedes), "%s", i % 3 ? "" : "attr_01prev");
        j = eg_attr_json(&a);
        want = json_dumps(j, EG_JSON_ANSWER);
        assert_int_equal(eg_attr_write(&b, &a), ENGRAM_OK);
        assert_string_equal(b.p, want);
        free(want);
        json_decref(j);
        eg_buf_reset(&b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_supersession_chain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_move_from_unknown_place, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_and_multi, setup, teardown),
        cmocka_unit_test_setup_teardown(test_repeat_at_the_ceiling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_not_the_users_facts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_negation_closes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_summary, setup, teardown),
        cmocka_unit_test_setup_teardown(test_async_queue_survives_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_audit_trail, setup, teardown),
        cmocka_unit_test(test_json_str_matches_jansson),
        cmocka_unit_test(test_turn_write_matches_jansson),
        cmocka_unit_test(test_attr_write_matches_jansson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
