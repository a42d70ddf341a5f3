/*
 * test_store.c - the foundation's promises: turns survive close/reopen, idempotent
 * retries, export/import round trip, erase completeness, migrations, bad input.
 */
#include <pthread.h>
#include <sqlite3.h>

#include "testutil.h"
#include "util/isotime.h"

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

static char *session(engram *db, const char *scope_json)
{
    char req[512], *out, *id;
    json_t *j;

    snprintf(req, sizeof(req), "{\"scope\":%s,\"metadata\":{\"channel\":\"test\"}}", scope_json);
    j = ok_json(db, engram_session_create(db, NULL, "assistant", req, &out), &out, "session");
    id = strdup(jstr(j, "id"));
    json_decref(j);
    return id;
}

static json_t *turn(engram *db, const char *sid, const char *role, const char *content,
                    const char *at)
{
    char *out = NULL;
    json_t *req = json_pack("{s:s, s:s}", "role", role, "content", content), *j;
    char *text;

    if (at)
        json_object_set_new(req, "created_at", json_string(at));
    text = json_dumps(req, 0);
    j = ok_json(db, engram_turn_add(db, NULL, "assistant", sid, text, &out), &out, "turn");
    free(text);
    json_decref(req);
    return j;
}

static void test_turns_survive_reopen(void **state)
{
    char *sid, *out;
    json_t *j;

    (void)state;
    sid = session(ts.db, "{\"user\":\"alice\"}");
    json_decref(turn(ts.db, sid, "user", "hello from the past", "2023-03-01T09:30:00Z"));
    json_decref(turn(ts.db, sid, "assistant", "hi!", NULL));
    tstore_reopen(&ts);
    j = ok_json(ts.db, engram_session_get(ts.db, NULL, "assistant", sid, &out), &out, "get");
    assert_int_equal(json_integer_value(json_object_get(j, "turn_count")), 2);
    assert_string_equal(jstr(j, "scope.user"), "alice");
    assert_string_equal(jstr(j, "metadata.channel"), "test");
    json_decref(j);
    j = ok_json(ts.db, engram_context_query(ts.db, NULL, "assistant", sid,
                                            "{\"query\":\"hello past\"}", &out), &out, "ctx");
    assert_int_equal(json_array_size(json_object_get(j, "items")), 1);
    assert_string_equal(jstr(json_array_get(json_object_get(j, "items"), 0), "created_at"),
                        "2023-03-01T09:30:00.000Z");
    json_decref(j);
    free(sid);
}

static void test_idempotent_retry(void **state)
{
    engram_call call = {sizeof(call), "test", NULL, "retry-1", NULL};
    const char *req = "{\"scope\":\"user/alice\",\"role\":\"user\",\"content\":\"I live in Paris\"}";
    char *a = NULL, *b = NULL, *c = NULL, *out;
    json_t *j;

    (void)state;
    assert_int_equal(engram_turn_add(ts.db, &call, "assistant", NULL, req, &a), ENGRAM_OK);
    assert_int_equal(engram_turn_add(ts.db, &call, "assistant", NULL, req, &b), ENGRAM_OK);
    assert_string_equal(a, b); /* the same answer, the same turn id */
    want_rc(ts.db,
            engram_turn_add(ts.db, &call, "assistant", NULL,
                            "{\"scope\":\"user/alice\",\"role\":\"user\",\"content\":\"other\"}",
                            &c),
            ENGRAM_CONFLICT, "reused key");
    assert_null(c);
    j = ok_json(ts.db, engram_audit_list(ts.db, NULL, "assistant", "{\"scope\":\"user/alice\"}",
                                         &out), &out, "audit");
    {
        size_t i, turns = 0;
        json_t *e;
        json_array_foreach(json_object_get(j, "entries"), i, e) turns +=
            strcmp(jstr(e, "action"), "turn") == 0;
        assert_int_equal(turns, 1);
    }
    json_decref(j);
    engram_free(a);
    engram_free(b);
}

struct sink {
    char *buf;
    size_t len;
};

static int sink_write(void *arg, const char *line, size_t len)
{
    struct sink *s = arg;
    char *p = realloc(s->buf, s->len + len + 1);

    if (!p)
        return -1;
    memcpy(p + s->len, line, len);
    s->len += len;
    p[s->len] = '\0';
    s->buf = p;
    return 0;
}

static void test_export_import_roundtrip(void **state)
{
    struct tstore other = {0};
    struct sink first = {0}, second = {0};
    char *sid, *out;
    json_t *j;

    (void)state;
    sid = session(ts.db, "{\"org\":\"acme\",\"user\":\"alice\"}");
    json_decref(turn(ts.db, sid, "user", "I live in Berlin", "2024-01-01T10:00:00Z"));
    json_decref(turn(ts.db, sid, "user", "I just moved from Berlin to London",
                     "2024-06-01T10:00:00Z"));
    json_decref(turn(ts.db, sid, "assistant", "Welcome to London!", "2024-06-01T10:00:05Z"));
    assert_int_equal(engram_export(ts.db, NULL, "assistant", "{\"scope\":\"user/alice\"}",
                                   sink_write, &first), ENGRAM_OK);
    assert_non_null(first.buf);
    assert_non_null(strstr(first.buf, "\"type\":\"session\""));
    assert_non_null(strstr(first.buf, "\"type\":\"turn\""));
    tstore_open(&other);
    j = ok_json(other.db, engram_import(other.db, NULL, "assistant", first.buf, first.len, &out), &out, "import");
    assert_int_equal(json_integer_value(json_object_get(j, "sessions")), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "turns")), 3);
    json_decref(j);
    assert_int_equal(engram_export(other.db, NULL, "assistant", "{\"scope\":\"user/alice\"}",
                                   sink_write, &second), ENGRAM_OK);
    assert_string_equal(first.buf, second.buf);
    /* Importing the same file again conflicts and changes nothing. */
    want_rc(other.db, engram_import(other.db, NULL, "assistant", first.buf, first.len, &out),
            ENGRAM_CONFLICT, "re-import");
    /* Bad lines name their line number. */
    want_rc(other.db, engram_import(other.db, NULL, "assistant", "{\"type\":\"turn\"}\n", 16, &out),
            ENGRAM_INVALID, "bad line");
    assert_non_null(strstr(engram_errmsg(other.db), "line 1"));
    want_rc(other.db, engram_import(other.db, NULL, "assistant", "not json\n", 9, &out),
            ENGRAM_INVALID, "junk");
    tstore_close(&other);
    free(first.buf);
    free(second.buf);
    free(sid);
}

static void test_erase_complete(void **state)
{
    char *alice, *bob, *out;
    struct sink s = {0};
    json_t *j;

    (void)state;
    alice = session(ts.db, "{\"org\":\"acme\",\"user\":\"alice\"}");
    bob = session(ts.db, "{\"org\":\"acme\",\"user\":\"bob\"}");
    json_decref(turn(ts.db, alice, "user", "I work at Acme Corp and I live in Oslo", NULL));
    json_decref(turn(ts.db, bob, "user", "I live in Rome", NULL));
    json_decref(ok_json(ts.db, engram_turn_add(ts.db, NULL, "assistant", NULL,
                                              "{\"scope\":\"user/alice\",\"role\":\"user\","
                                              "\"content\":\"my dog is called Rex\"}",
                                              &out), &out, "turn"));
    /* erase user/alice covers org/acme/user/alice too (narrower), never bob. */
    j = ok_json(ts.db, engram_erase(ts.db, NULL, "assistant", "{\"scope\":\"user/alice\"}", &out), &out, "erase");
    assert_int_equal(json_integer_value(json_object_get(j, "scopes")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "turns")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "sessions")), 1);
    json_decref(j);
    assert_int_equal(engram_export(ts.db, NULL, "assistant", "{\"scope\":\"user/alice\"}",
                                   sink_write, &s), ENGRAM_OK);
    /* Only the tombstone is left. */
    assert_non_null(s.buf);
    assert_non_null(strstr(s.buf, "\"action\":\"erase\""));
    assert_null(strstr(s.buf, "Oslo"));
    assert_null(strstr(s.buf, "Rex"));
    assert_null(strstr(s.buf, "\"type\":\"turn\""));
    free(s.buf);
    want_rc(ts.db, engram_session_get(ts.db, NULL, "assistant", alice, &out), ENGRAM_NOTFOUND,
            "erased session");
    j = ok_json(ts.db, engram_session_get(ts.db, NULL, "assistant", bob, &out), &out, "bob");
    assert_int_equal(json_integer_value(json_object_get(j, "turn_count")), 1);
    json_decref(j);
    free(alice);
    free(bob);
}

static void test_migrations(void **state)
{
    char path[400], *out;
    engram *db = NULL;
    sqlite3 *raw;
    FILE *f;

    (void)state;
    /* An empty file is a new store. */
    snprintf(path, sizeof(path), "%s/empty.db", ts.dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(engram_open(path, NULL, &db), ENGRAM_OK);
    json_decref(ok_json(db, engram_session_create(db, NULL, "c", "{\"scope\":\"user/x\"}", &out), &out, "session"));
    engram_close(db);
    /* A store from a newer engram is refused, not damaged. */
    assert_int_equal(sqlite3_open(path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "PRAGMA user_version=999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(raw);
    assert_int_not_equal(engram_open(path, NULL, &db), ENGRAM_OK);
    assert_non_null(strstr(engram_errmsg(db), "newer"));
    engram_close(db);
    /* Not a database at all. */
    snprintf(path, sizeof(path), "%s/junk.db", ts.dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs("this is not a database file, not even close...........................", f);
    fclose(f);
    assert_int_not_equal(engram_open(path, NULL, &db), ENGRAM_OK);
    assert_non_null(engram_errmsg(db));
    engram_close(db);
}

static void test_bad_input(void **state)
{
    engram *db = ts.db;
    char *out = NULL, *big;
    size_t n = 1024 * 1024 + 10;

    (void)state;
    want_rc(db, engram_turn_add(db, NULL, "assistant", NULL, "{", &out), ENGRAM_INVALID, "json");
    assert_string_equal(engram_errname(db), "invalid_json");
    want_rc(db, engram_turn_add(db, NULL, "assistant", NULL, "[]", &out), ENGRAM_INVALID, "array");
    want_rc(db, engram_turn_add(db, NULL, "assistant", NULL,
                                "{\"scope\":\"user/a\",\"role\":\"robot\",\"content\":\"x\"}", &out),
            ENGRAM_INVALID, "role");
    assert_non_null(strstr(engram_errmsg(db), "role"));
    want_rc(db, engram_turn_add(db, NULL, "assistant", NULL,
                                "{\"scope\":\"user/a\",\"role\":\"user\",\"content\":\"\"}", &out),
            ENGRAM_INVALID, "empty");
    want_rc(db, engram_turn_add(db, NULL, "assistant", NULL,
                                "{\"scope\":\"user/a\",\"role\":\"user\",\"content\":\"x\","
                                "\"created_at\":\"yesterday\"}", &out),
            ENGRAM_INVALID, "time");
    assert_non_null(strstr(engram_errmsg(db), "created_at"));
    want_rc(db, engram_turn_add(db, NULL, "assistant", "ses_nope",
                                "{\"role\":\"user\",\"content\":\"x\"}", &out),
            ENGRAM_NOTFOUND, "session");
    want_rc(db, engram_turn_add(db, NULL, "bad context!", NULL,
                                "{\"scope\":\"user/a\",\"role\":\"user\",\"content\":\"x\"}", &out),
            ENGRAM_INVALID, "context");
    big = malloc(n + 100);
    assert_non_null(big);
    {
        const char *head = "{\"scope\":\"user/a\",\"role\":\"user\",\"content\":\"";
        size_t h = strlen(head);
        memcpy(big, head, h);
        memset(big + h, 'a', n);
        memcpy(big + h + n, "\"}", 3);
    }
    want_rc(db, engram_turn_add(db, NULL, "assistant", NULL, big, &out), ENGRAM_TOOBIG, "1MB");
    free(big);
    assert_null(out);
    /* Misuse never crashes. */
    assert_int_equal(engram_turn_add(NULL, NULL, "a", NULL, "{}", &out), ENGRAM_MISUSE);
    assert_int_equal(engram_turn_add(db, NULL, "a", NULL, "{}", NULL), ENGRAM_MISUSE);
    assert_int_equal(engram_close(NULL), ENGRAM_OK);
}

/* A floor-confined caller reads and writes only inside its floor. */
static void test_call_floor(void **state)
{
    engram_call alice = {sizeof(alice), "key_a", "user/alice", NULL, NULL};
    char *out = NULL, *sid;

    (void)state;
    sid = session(ts.db, "{\"user\":\"bob\"}");
    want_rc(ts.db, engram_session_get(ts.db, &alice, "assistant", sid, &out), ENGRAM_FORBIDDEN,
            "other's session");
    want_rc(ts.db, engram_profile_get(ts.db, &alice, "assistant", "{\"scope\":\"user/bob\"}", &out),
            ENGRAM_FORBIDDEN, "other's profile");
    json_decref(ok_json(ts.db, engram_profile_get(ts.db, &alice, "assistant",
                                                 "{\"scope\":\"org/x/user/alice\"}", &out), &out, "own profile"));
    free(sid);
}

/* One handle shared by several threads: every turn lands, errors stay per thread. */
struct worker_arg {
    int n;
    int failures;
};

static void *writer(void *p)
{
    struct worker_arg *w = p;
    char req[160], *out = NULL;

    for (int i = 0; i < 40; i++) {
        snprintf(req, sizeof(req),
                 "{\"scope\":\"user/u%d\",\"role\":\"user\",\"content\":\"note %d from %d\"}",
                 w->n, i, w->n);
        if (engram_turn_add(ts.db, NULL, "assistant", NULL, req, &out) != ENGRAM_OK)
            w->failures++;
        engram_free(out);
        out = NULL;
        /* A bad call on this thread must not disturb the others' error state. */
        if (engram_turn_add(ts.db, NULL, "assistant", NULL, "{", &out) != ENGRAM_INVALID ||
            strcmp(engram_errname(ts.db), "invalid_json") != 0)
            w->failures++;
    }
    return NULL;
}

static void test_threads_share_a_handle(void **state)
{
    pthread_t t[4];
    struct worker_arg w[4];
    char *out = NULL;
    json_t *j;

    (void)state;
    for (int i = 0; i < 4; i++) {
        w[i].n = i;
        w[i].failures = 0;
        assert_int_equal(pthread_create(&t[i], NULL, writer, &w[i]), 0);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].failures, 0);
    }
    j = ok_json(ts.db, engram_stats(ts.db, &out), &out, "stats");
    assert_int_equal(json_integer_value(json_object_get(j, "turns")), 160);
    json_decref(j);
}

/* Group commit under contention: batches mix good turns, bad ones (which must fail
 * alone, with their own message) and the same idempotency key from several threads (one
 * turn, one answer for all). */
struct mixed_arg {
    int n;
    int boom;      /* a trigger makes 'boom' turns fail after writing (SQLite only) */
    int bad_ok;    /* invalid requests answered INVALID naming the field */
    int nf_ok;     /* turns for an unknown session answered NOTFOUND */
    int boom_ok;   /* turns failing after their write answered with the store's error */
    int good;      /* valid turns acknowledged */
    char idem_answer[128];
};

/*
 * Three ways to fail, each at another stage of group commit: a bad role on the caller's
 * thread before queueing; an unknown session in the leader before anything is written (the
 * batch goes on); and a store error after the turn's write (the leader rolls the batch back
 * and replays each request alone). Valid turns around them must all be acknowledged.
 */
static void *mixed_writer(void *p)
{
    struct mixed_arg *w = p;
    engram_call call = {sizeof(call), "test", NULL, "shared-key", NULL};
    char req[200], *out = NULL;

    for (int i = 0; i < 30; i++) {
        int kind = i % 5, rc;
        const char *session = kind == 1 ? "sess_01nosuchsession0000000000" : NULL;

        snprintf(req, sizeof(req),
                 "{\"scope\":\"user/m%d\",\"role\":\"%s\",\"content\":\"%s %d\"}", w->n,
                 kind == 0 ? "robot" : "user", kind == 2 && w->boom ? "boom" : "msg", i);
        rc = engram_turn_add(ts.db, NULL, "assistant", session, req, &out);
        if (kind == 0 && rc == ENGRAM_INVALID && strstr(engram_errmsg(ts.db), "role"))
            w->bad_ok++;
        else if (kind == 1 && rc == ENGRAM_NOTFOUND)
            w->nf_ok++;
        else if (kind == 2 && w->boom && rc != ENGRAM_OK && strstr(engram_errmsg(ts.db), "boom"))
            w->boom_ok++;
        else if (rc == ENGRAM_OK && out)
            w->good++;
        engram_free(out);
        out = NULL;
    }
    if (engram_turn_add(ts.db, &call, "assistant", NULL,
                        "{\"scope\":\"user/shared\",\"role\":\"user\",\"content\":\"once\"}",
                        &out) == ENGRAM_OK) {
        const char *id = strstr(out, "\"id\":\"turn_");
        snprintf(w->idem_answer, sizeof(w->idem_answer), "%.40s", id ? id : "?");
    }
    engram_free(out);
    return NULL;
}

static void test_group_commit_isolates_failures(void **state)
{
    pthread_t t[8];
    struct mixed_arg w[8];
    char *out = NULL;
    json_t *j;
    int boom = ts.pgdb[0] == '\0', good;

    (void)state;
    if (boom) { /* a write that fails inside the transaction, after the turn row */
        sqlite3 *raw;
        assert_int_equal(sqlite3_open(ts.path, &raw), SQLITE_OK);
        assert_int_equal(sqlite3_exec(raw,
                                      "CREATE TRIGGER boom BEFORE INSERT ON audit"
                                      " WHEN new.action = 'turn' AND EXISTS (SELECT 1 FROM turns"
                                      "  WHERE id = new.target AND content LIKE 'boom %')"
                                      " BEGIN SELECT RAISE(ABORT, 'boom'); END",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
        sqlite3_close(raw);
    }
    memset(w, 0, sizeof(w));
    for (int i = 0; i < 8; i++) {
        w[i].n = i;
        w[i].boom = boom;
        assert_int_equal(pthread_create(&t[i], NULL, mixed_writer, &w[i]), 0);
    }
    good = boom ? 12 : 18;
    for (int i = 0; i < 8; i++) {
        pthread_join(t[i], NULL);
        assert_int_equal(w[i].bad_ok, 6);
        assert_int_equal(w[i].nf_ok, 6);
        assert_int_equal(w[i].boom_ok, boom ? 6 : 0);
        assert_int_equal(w[i].good, good);
        assert_string_equal(w[i].idem_answer, w[0].idem_answer);
    }
    j = ok_json(ts.db, engram_stats(ts.db, &out), &out, "stats");
    assert_int_equal(json_integer_value(json_object_get(j, "turns")), 8 * good + 1);
    json_decref(j);
}

static int64_t turn_count(void)
{
    char *out = NULL;
    json_t *j = ok_json(ts.db, engram_stats(ts.db, &out), &out, "stats");
    int64_t n = json_integer_value(json_object_get(j, "turns"));

    json_decref(j);
    return n;
}

/* A batch records its turns in order in one transaction, each extracted and searchable;
 * an invalid element, an empty or oversized batch writes nothing; a retried batch with its
 * idempotency key answers the same without writing. */
static void test_batch_turns(void **state)
{
    engram_call idem = {sizeof(idem), "test", NULL, "batch-1", NULL};
    const char *batch =
        "{\"scope\":\"user/alice\",\"turns\":["
        "{\"role\":\"user\",\"content\":\"I live in Paris\"},"
        "{\"role\":\"assistant\",\"content\":\"Zanzibar sounds lovely for a holiday\"},"
        "{\"role\":\"user\",\"content\":\"I work at Acme Corp\","
        "\"created_at\":\"2024-05-01T10:00:00Z\",\"metadata\":{\"k\":1}}]}";
    char *out = NULL, *again = NULL, *big;
    json_t *ans, *j, *turns, *ctx;
    size_t i, at, cap = 64 + 1001 * 40, found = 0;

    (void)state;
    ans = ok_json(ts.db, engram_turn_add(ts.db, &idem, "assistant", NULL, batch, &out), &out,
                  "batch");
    turns = json_object_get(ans, "turns");
    assert_int_equal(json_array_size(turns), 3);
    assert_string_equal(jstr(json_array_get(turns, 0), "diff.0.key"), "location");
    assert_string_equal(jstr(json_array_get(turns, 0), "diff.0.value"), "Paris");
    assert_string_equal(jstr(json_array_get(turns, 1), "turn.role"), "assistant");
    assert_int_equal(json_array_size(json_object_get(json_array_get(turns, 1), "diff")), 0);
    assert_string_equal(jstr(json_array_get(turns, 2), "turn.created_at"),
                        "2024-05-01T10:00:00.000Z");
    assert_int_equal(turn_count(), 3);

    /* The turns are in the full-text index (written at commit, not per statement). */
    ctx = ok_json(ts.db,
                  engram_context_query(ts.db, NULL, "assistant", NULL,
                                       "{\"scope\":\"user/alice\",\"query\":\"Zanzibar\"}",
                                       &out),
                  &out, "context");
    json_array_foreach(json_object_get(ctx, "items"), i, j) found +=
        strcmp(jstr(j, "id"), jstr(json_array_get(turns, 1), "turn.id")) == 0;
    assert_int_equal(found, 1);
    json_decref(ctx);

    /* A batch large enough that the scope's turns are searched through the full-text index
     * (small floors are read whole): each turn is found by its own word. */
    {
        static const char cons[] = "bcdfghjklmnpqrstvwxz"; /* stems leave these words be */
        size_t cap2 = 128 + 100 * 80, at2;
        char *many = malloc(cap2), w[8], q[96], *o = NULL;
        json_t *mans, *mturns, *it;

        assert_non_null(many);
        at2 = (size_t)snprintf(many, cap2, "{\"scope\":\"user/bob\",\"turns\":[");
        for (i = 0; i < 100; i++) {
            snprintf(w, sizeof(w), "zq%c%c", cons[i / 20], cons[i % 20]);
            at2 += (size_t)snprintf(many + at2, cap2 - at2,
                                    "%s{\"role\":\"assistant\",\"content\":\"noted %s\"}",
                                    i ? "," : "", w);
        }
        snprintf(many + at2, cap2 - at2, "]}");
        mans = ok_json(ts.db, engram_turn_add(ts.db, NULL, "assistant", NULL, many, &o), &o,
                       "batch of 100");
        mturns = json_object_get(mans, "turns");
        assert_int_equal(json_array_size(mturns), 100);
        for (i = 0; i < 100; i += 33) {
            snprintf(w, sizeof(w), "zq%c%c", cons[i / 20], cons[i % 20]);
            snprintf(q, sizeof(q), "{\"scope\":\"user/bob\",\"query\":\"%s\"}", w);
            ctx = ok_json(ts.db, engram_context_query(ts.db, NULL, "assistant", NULL, q, &o), &o,
                          "context by word");
            found = 0;
            json_array_foreach(json_object_get(ctx, "items"), at2, it) found +=
                strcmp(jstr(it, "id"), jstr(json_array_get(mturns, i), "turn.id")) == 0;
            assert_int_equal(found, 1);
            json_decref(ctx);
        }
        json_decref(mans);
        free(many);
    }
    assert_int_equal(turn_count(), 103);

    /* The same key and body: the first answer again, nothing written. */
    assert_int_equal(engram_turn_add(ts.db, &idem, "assistant", NULL, batch, &again),
                     ENGRAM_OK);
    j = json_loads(again, 0, NULL);
    assert_string_equal(jstr(json_array_get(json_object_get(j, "turns"), 2), "turn.id"),
                        jstr(json_array_get(turns, 2), "turn.id"));
    json_decref(j);
    engram_free(again);
    assert_int_equal(turn_count(), 103);

    /* One bad element: the request fails naming it, and no turn of it is written. */
    want_rc(ts.db,
            engram_turn_add(ts.db, NULL, "assistant", NULL,
                            "{\"scope\":\"user/alice\",\"turns\":["
                            "{\"role\":\"user\",\"content\":\"I live in Rome\"},"
                            "{\"role\":\"robot\",\"content\":\"beep\"}]}",
                            &out),
            ENGRAM_INVALID, "bad element");
    assert_non_null(strstr(engram_errmsg(ts.db), "turns[1].role"));
    want_rc(ts.db,
            engram_turn_add(ts.db, NULL, "assistant", NULL,
                            "{\"scope\":\"user/alice\",\"turns\":[{\"role\":\"user\"}]}", &out),
            ENGRAM_INVALID, "missing content");
    assert_non_null(strstr(engram_errmsg(ts.db), "turns[0].content"));
    want_rc(ts.db,
            engram_turn_add(ts.db, NULL, "assistant", NULL,
                            "{\"scope\":\"user/alice\",\"turns\":[]}", &out),
            ENGRAM_INVALID, "empty batch");
    want_rc(ts.db,
            engram_turn_add(ts.db, NULL, "assistant", NULL,
                            "{\"scope\":\"user/alice\",\"turns\":[1]}", &out),
            ENGRAM_INVALID, "element not an object");
    want_rc(ts.db,
            engram_turn_add(ts.db, NULL, "assistant", NULL,
                            "{\"scope\":\"user/alice\",\"role\":\"user\",\"content\":\"x\","
                            "\"turns\":[{\"role\":\"user\",\"content\":\"y\"}]}",
                            &out),
            ENGRAM_INVALID, "both shapes");
    /* 1,001 turns: over the limit. */
    assert_non_null(big = malloc(cap));
    at = (size_t)snprintf(big, cap, "{\"scope\":\"user/alice\",\"turns\":[");
    for (i = 0; i < 1001; i++)
        at += (size_t)snprintf(big + at, cap - at, "%s{\"role\":\"user\",\"content\":\"hi\"}",
                               i ? "," : "");
    snprintf(big + at, cap - at, "]}");
    want_rc(ts.db, engram_turn_add(ts.db, NULL, "assistant", NULL, big, &out), ENGRAM_INVALID,
            "too many");
    assert_string_equal(engram_errname(ts.db), "too_many_turns");
    free(big);
    assert_int_equal(turn_count(), 103);
    json_decref(ans);
}

/* A turn written by a process from before schema 5 (no full-text row: its insert relied on
 * the dropped trigger) is indexed when the store is next opened. SQLite only. */
static void test_unindexed_turns_indexed_at_open(void **state)
{
    sqlite3 *raw;
    char *out = NULL;
    json_t *ctx, *it;
    size_t i, found = 0;

    (void)state;
    if (ts.pgdb[0])
        skip();
    json_decref(ok_json(ts.db,
                        engram_turn_add(ts.db, NULL, "assistant", NULL,
                                        "{\"scope\":\"user/old\",\"role\":\"user\","
                                        "\"content\":\"indexed as usual\"}",
                                        &out),
                        &out, "turn"));
    assert_int_equal(sqlite3_open(ts.path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw,
                                  "INSERT INTO turns(id, context, scope, role, content,"
                                  " created_at, recorded_at) VALUES ('turn_01oldprocess',"
                                  " 'assistant', 'user/old', 'user', 'my zqxvb note', 1, 1)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(raw);
    tstore_reopen(&ts);
    ctx = ok_json(ts.db,
                  engram_context_query(ts.db, NULL, "assistant", NULL,
                                       "{\"scope\":\"user/old\",\"query\":\"zqxvb\"}", &out),
                  &out, "context");
    json_array_foreach(json_object_get(ctx, "items"), i, it) found +=
        strcmp(jstr(it, "id"), "turn_01oldprocess") == 0;
    assert_int_equal(found, 1);
    json_decref(ctx);
    /* Every turn has its full-text row, once. */
    assert_int_equal(sqlite3_open(ts.path, &raw), SQLITE_OK);
    assert_int_equal(sqlite_int(raw, "SELECT count(*) FROM turns"), 2);
    assert_int_equal(sqlite_int(raw, "SELECT count(*) FROM turns_fts2_docsize"), 2);
    sqlite3_close(raw);
}

/* A schema-5 store (audit ids with an index of their own, every turn in turns_by_session)
 * is rebuilt at open with its audit log intact and in order. SQLite only. */
static void test_migration_6_keeps_audit(void **state)
{
    sqlite3 *raw;
    char *out = NULL;
    json_t *j, *e;
    size_t i;
    int64_t last = 0;

    (void)state;
    if (ts.pgdb[0])
        skip();
    for (i = 0; i < 3; i++)
        json_decref(ok_json(ts.db,
                            engram_turn_add(ts.db, NULL, "assistant", NULL,
                                            "{\"scope\":\"user/m\",\"role\":\"user\","
                                            "\"content\":\"I live in Lisbon\"}",
                                            &out),
                            &out, "turn"));
    /* Put the schema back the way version 5 had it, near enough. */
    assert_int_equal(sqlite3_open(ts.path, &raw), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(raw,
                     "BEGIN;"
                     /* (v5 had the id UNIQUE in the column; an index is the same to the
                      * migration, and renaming a table here would need our tokenizer) */
                     "DROP INDEX audit_by_scope;"
                     "CREATE UNIQUE INDEX audit_id ON audit(id);"
                     "CREATE INDEX audit_by_scope ON audit(context, scope, at);"
                     "DROP INDEX turns_by_session;"
                     "CREATE INDEX turns_by_session ON turns(session_id, created_at);"
                     "PRAGMA user_version=5;"
                     "COMMIT;",
                     NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(raw);
    tstore_reopen(&ts);
    j = ok_json(ts.db, engram_audit_list(ts.db, NULL, "assistant", "{\"scope\":\"user/m\"}", &out),
                &out, "audit");
    /* One entry per turn (the first adding the fact, the others raising its confidence):
     * newest first. */
    assert_int_equal(json_array_size(json_object_get(j, "entries")), 3);
    json_array_foreach(json_object_get(j, "entries"), i, e)
    {
        int64_t at = 0;
        assert_int_equal(eg_iso_parse(jstr(e, "at"), &at), 0);
        assert_true(i == 0 || at <= last);
        last = at;
    }
    json_decref(j);
    /* The rebuilt table takes new entries; its scope index keeps ids unique. */
    json_decref(ok_json(ts.db,
                        engram_turn_add(ts.db, NULL, "assistant", NULL,
                                        "{\"scope\":\"user/m\",\"role\":\"user\","
                                        "\"content\":\"hello again\"}",
                                        &out),
                        &out, "turn"));
    assert_int_equal(sqlite3_open(ts.path, &raw), SQLITE_OK);
    assert_int_not_equal(sqlite3_exec(raw,
                                      "INSERT INTO audit(id, context, scope, at, actor, action,"
                                      " target) SELECT id, context, scope, at, actor, action,"
                                      " target FROM audit LIMIT 1",
                                      NULL, NULL, NULL),
                         SQLITE_OK);
    assert_int_equal(sqlite_int(raw, "PRAGMA user_version"), 6);
    sqlite3_close(raw);
}

/* A job a crash left 'running' is claimable again after the store is reopened. SQLite
 * only (PostgreSQL leases its jobs instead). */
static void test_running_job_resumed_at_open(void **state)
{
    sqlite3 *raw;
    char *out = NULL;
    int done = 0;
    json_t *prof;

    (void)state;
    if (ts.pgdb[0])
        skip();
    json_decref(ok_json(ts.db,
                        engram_turn_add(ts.db, NULL, "assistant", NULL,
                                        "{\"scope\":\"user/job\",\"role\":\"user\","
                                        "\"content\":\"I live in Oslo\",\"async\":true}",
                                        &out),
                        &out, "async turn"));
    engram_close(ts.db); /* tests run without the worker: the job waits, pending */
    ts.db = NULL;
    assert_int_equal(sqlite3_open(ts.path, &raw), SQLITE_OK);
    assert_int_equal(sqlite3_exec(raw, "UPDATE jobs SET state = 'running'", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_changes(raw), 1);
    sqlite3_close(raw);
    tstore_reopen(&ts);
    assert_int_equal(engram_jobs_run(ts.db, 10, &done), ENGRAM_OK);
    assert_int_equal(done, 1);
    prof = ok_json(ts.db, engram_profile_get(ts.db, NULL, "assistant", "{\"scope\":\"user/job\"}",
                                             &out),
                   &out, "profile");
    assert_non_null(strstr(jstr(prof, "summary"), "Oslo"));
    json_decref(prof);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_turns_survive_reopen, setup, teardown),
        cmocka_unit_test_setup_teardown(test_idempotent_retry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_export_import_roundtrip, setup, teardown),
        cmocka_unit_test_setup_teardown(test_erase_complete, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migrations, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_input, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_floor, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_share_a_handle, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit_isolates_failures, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_turns, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unindexed_turns_indexed_at_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_running_job_resumed_at_open, setup, teardown),
        cmocka_unit_test_setup_teardown(test_migration_6_keeps_audit, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
