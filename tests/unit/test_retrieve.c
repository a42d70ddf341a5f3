/*
 * test_retrieve.c - engram_context_query on a fresh store per test: the relevance floor,
 * the token budget, top_k, as_of, floor isolation, diversity, score parts, synonyms never
 * outranking exact matches, and the word-vector signal. The WordNet and word-vector files
 * are tiny fixtures written here (so the test runs on a machine where `make data` never
 * ran); the semantic-recall check on tests/data/semantic uses the real data/vectors.bin
 * and is skipped, saying so, when that file is absent.
 */
#include <math.h>
#include <sys/stat.h>

#include "testutil.h"
#include "util/tokens.h"

#include "lib/retrieve_int.h"
#include "lib/stem.h"

/* ---- fixtures ---------------------------------------------------------------------------- */

static char fixdir[256];

/* Word vectors, 4 dimensions: food, computers, vehicles, other. Sorted by bytes. */
#define DIM 4
static const struct {
    const char *word;
    uint32_t rank;
    float v[DIM];
} words[] = {
    {"automobile", 3000, {0.0f, 0.0f, 1.0f, 0.1f}}, {"car", 900, {0.0f, 0.0f, 1.0f, 0.05f}},
    {"computer", 800, {0.0f, 1.0f, 0.0f, 0.1f}},    {"dinner", 1500, {0.9f, 0.0f, 0.0f, 0.2f}},
    {"food", 300, {1.0f, 0.0f, 0.0f, 0.0f}},        {"italian", 1200, {0.7f, 0.0f, 0.0f, 0.4f}},
    {"laptop", 4000, {0.0f, 1.0f, 0.0f, 0.0f}},     {"pasta", 6000, {0.95f, 0.0f, 0.0f, 0.1f}},
    {"red", 700, {0.1f, 0.1f, 0.2f, 1.0f}},         {"restaurant", 2000, {0.8f, 0.0f, 0.0f, 0.3f}},
    {"slow", 1100, {0.0f, 0.3f, 0.3f, 0.9f}},
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static void put32(unsigned char *p, uint32_t x)
{
    p[0] = (unsigned char)x;
    p[1] = (unsigned char)(x >> 8);
    p[2] = (unsigned char)(x >> 16);
    p[3] = (unsigned char)(x >> 24);
}

/* An EGVEC1 file (vectors.h) of the fixture words. */
static void write_vectors(const char *path)
{
    size_t strings = 0, off = 0, matrix_off, len, i, d;
    unsigned char *img;
    FILE *f;

    for (i = 0; i < NWORDS; i++)
        strings += strlen(words[i].word) + 1;
    matrix_off = (32 + 16 * NWORDS + strings + 7) / 8 * 8;
    len = matrix_off + NWORDS * DIM;
    img = calloc(1, len);
    assert_non_null(img);
    memcpy(img, "EGVEC1\0\0", 8);
    put32(img + 8, DIM);
    put32(img + 12, (uint32_t)NWORDS);
    put32(img + 16, (uint32_t)strings);
    put32(img + 20, (uint32_t)matrix_off);
    for (i = 0; i < NWORDS; i++) {
        unsigned char *e = img + 32 + 16 * i;
        size_t wl = strlen(words[i].word);
        float unit[DIM], norm = 0, max = 0, scale;
        uint32_t bits;

        if (i)
            assert_true(strcmp(words[i - 1].word, words[i].word) < 0);
        for (d = 0; d < DIM; d++)
            norm += words[i].v[d] * words[i].v[d];
        for (d = 0; d < DIM; d++) {
            unit[d] = words[i].v[d] / sqrtf(norm);
            max = fabsf(unit[d]) > max ? fabsf(unit[d]) : max;
        }
        scale = max / 127.0f;
        put32(e, (uint32_t)off);
        e[4] = (unsigned char)wl;
        put32(e + 8, words[i].rank);
        memcpy(&bits, &scale, 4);
        put32(e + 12, bits);
        memcpy(img + 32 + 16 * NWORDS + off, words[i].word, wl);
        off += wl + 1;
        for (d = 0; d < DIM; d++)
            img[matrix_off + i * DIM + d] = (unsigned char)(int8_t)lrintf(unit[d] / scale);
    }
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, len, f), len);
    fclose(f);
    free(img);
}

static const char license[] = "  1 This software and database is being provided to you, the "
                              "LICENSEE, by  \n  2 Princeton University under the following "
                              "license.  \n";

/* A WordNet (wndb(5)) with one synset: car, auto, automobile. */
static void write_wordnet(const char *dir)
{
    char path[512];
    FILE *f;
    long car;

    snprintf(path, sizeof(path), "%s/data.noun", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(license, f);
    car = ftell(f);
    fprintf(f, "%08ld 06 n 03 car 0 auto 0 automobile 0 000 | a motor vehicle\n", car);
    fclose(f);
    snprintf(path, sizeof(path), "%s/index.noun", dir);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(license, f);
    fprintf(f, "auto n 1 0 1 0 %08ld  \n", car);
    fprintf(f, "automobile n 1 0 1 0 %08ld  \n", car);
    fprintf(f, "car n 1 0 1 0 %08ld  \n", car);
    fclose(f);
}

static int setup_fixtures(void **state)
{
    char path[400];

    (void)state;
    snprintf(fixdir, sizeof(fixdir), "/tmp/engram-retr-XXXXXX");
    assert_non_null(mkdtemp(fixdir));
    snprintf(path, sizeof(path), "%s/vectors.bin", fixdir);
    write_vectors(path);
    snprintf(path, sizeof(path), "%s/wordnet", fixdir);
    assert_int_equal(mkdir(path, 0700), 0);
    write_wordnet(path);
    return 0;
}

static int teardown_fixtures(void **state)
{
    char cmd[400];

    (void)state;
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fixdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* ---- helpers ----------------------------------------------------------------------------- */

struct tdb {
    char dir[256], path[300];
    engram *db;
    int logged;
};

static void quiet(void *arg, const char *line)
{
    struct tdb *t = arg;
    (void)line;
    t->logged++;
}

static void open_with(struct tdb *t, const char *data_dir)
{
    engram_options opt = {0};

    memset(t, 0, sizeof(*t));
    snprintf(t->dir, sizeof(t->dir), "/tmp/engram-rt-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/test.db", t->dir);
    opt.size = sizeof(opt);
    opt.no_worker = 1;
    opt.data_dir = data_dir;
    if (engram_open(t->path, &opt, &t->db) != ENGRAM_OK)
        fail_msg("engram_open: %s", engram_errmsg(t->db));
    engram_set_log(t->db, quiet, t);
}

static void close_db(struct tdb *t)
{
    char cmd[400];

    engram_close(t->db);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    assert_int_equal(system(cmd), 0);
}

/* Adds a turn; returns its id (caller frees). */
static char *turn(engram *db, const char *scope, const char *role, const char *content,
                  const char *at)
{
    json_t *req = json_pack("{s:s, s:s, s:s}", "scope", scope, "role", role, "content", content);
    char *text, *out, *id;
    json_t *j;

    if (at)
        json_object_set_new(req, "created_at", json_string(at));
    text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    j = ok_json(db, engram_turn_add(db, NULL, "c", NULL, text, &out), &out, "turn");
    free(text);
    id = strdup(jstr(j, "turn.id"));
    json_decref(j);
    return id;
}

static json_t *ctx(engram *db, const char *scope, const char *query, int top_k, int max_tokens,
                   const char *as_of)
{
    json_t *req = json_pack("{s:s, s:s, s:i, s:i}", "scope", scope, "query", query, "top_k",
                            top_k, "max_tokens", max_tokens);
    char *text, *out;
    json_t *j;

    if (as_of)
        json_object_set_new(req, "as_of", json_string(as_of));
    text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    j = ok_json(db, engram_context_query(db, NULL, "c", NULL, text, &out), &out, "context");
    free(text);
    return j;
}

static json_t *items(json_t *j)
{
    return json_object_get(j, "items");
}

/* Index of the first item whose text contains s, or -1. */
static int find_text(json_t *j, const char *s)
{
    size_t i;
    json_t *it;

    json_array_foreach(items(j), i, it)
    {
        if (strstr(json_string_value(json_object_get(it, "text")), s))
            return (int)i;
    }
    return -1;
}

static double score_part(json_t *it, const char *name)
{
    return json_number_value(json_object_get(json_object_get(it, "scores"), name));
}

/* ---- tests ------------------------------------------------------------------------------- */

static void test_relevance_floor(void **state)
{
    struct tdb t;
    json_t *j;

    (void)state;
    open_with(&t, fixdir);
    free(turn(t.db, "user/alice", "user", "I love pasta and Italian food", NULL));
    free(turn(t.db, "user/alice", "user", "My laptop is slow", NULL));
    j = ctx(t.db, "user/alice", "zebra quantum chromodynamics", 10, 1000, NULL);
    assert_int_equal(json_array_size(items(j)), 0);
    assert_string_equal(jstr(j, "formatted"), "");
    json_decref(j);
    j = ctx(t.db, "user/alice", "the of and", 10, 1000, NULL); /* stopwords only */
    assert_int_equal(json_array_size(items(j)), 0);
    assert_string_equal(jstr(j, "formatted"), "");
    json_decref(j);
    close_db(&t);
}

static void test_budget_and_top_k(void **state)
{
    struct tdb t;
    json_t *j, *it;
    size_t i;
    int sum = 0;

    (void)state;
    open_with(&t, fixdir);
    static const char *const topics[] = {"travel", "hardware", "salaries", "marketing",
                                         "rent", "training", "software", "catering",
                                         "insurance", "legal"};
    static const char *const moods[] = {"calmly", "loudly", "briefly", "endlessly", "politely"};
    for (int k = 0; k < 30; k++) {
        char text[200];
        snprintf(text, sizeof(text), "The budget for %s was discussed %s on day %d",
                 topics[k % 10], moods[k % 5], k);
        free(turn(t.db, "user/alice", "user", text, NULL));
    }
    j = ctx(t.db, "user/alice", "budget", 100, 80, NULL);
    assert_true(json_array_size(items(j)) >= 1);
    json_array_foreach(items(j), i, it) sum += (int)json_integer_value(json_object_get(it, "tokens"));
    if (sum > 80 || eg_tokens_estimate(jstr(j, "formatted")) > 80)
        fail_msg("budget 80 overrun: items %d, formatted %d tokens", sum,
                 eg_tokens_estimate(jstr(j, "formatted")));
    json_decref(j);
    j = ctx(t.db, "user/alice", "budget", 3, 1000, NULL);
    assert_int_equal(json_array_size(items(j)), 3);
    json_decref(j);
    close_db(&t);
}

static void test_as_of(void **state)
{
    struct tdb t;
    json_t *j;

    (void)state;
    open_with(&t, fixdir);
    free(turn(t.db, "user/alice", "user", "The kitchen renovation started", "2024-01-10T10:00:00Z"));
    free(turn(t.db, "user/alice", "user", "The kitchen renovation is finished",
              "2024-06-10T10:00:00Z"));
    j = ctx(t.db, "user/alice", "kitchen renovation", 10, 1000, "2024-03-01T00:00:00Z");
    assert_int_equal(json_array_size(items(j)), 1);
    assert_true(find_text(j, "started") >= 0);
    json_decref(j);
    j = ctx(t.db, "user/alice", "kitchen renovation", 10, 1000, NULL);
    assert_int_equal(json_array_size(items(j)), 2);
    json_decref(j);
    close_db(&t);
}

/* A floor of a few turns is matched in memory, a larger one through the full-text index
 * (retrieve.c floor_scan): the same memories must come back, in the same order, with the
 * same scores, whichever way the floor was read. */
static void test_small_and_large_floor_agree(void **state)
{
    static const char *const mine[] = {
        "I love pasta and Italian food", "The restaurant near work has great pasta",
        "My laptop is slow when I cook dinner", "Pasta again for dinner, sorry",
        "Red car for the trip to the restaurant"};
    struct tdb t;
    json_t *small, *large;
    size_t i;

    (void)state;
    open_with(&t, fixdir);
    for (i = 0; i < 5; i++) {
        char at[32];
        snprintf(at, sizeof(at), "2024-02-%02zuT10:00:00Z", i + 1);
        free(turn(t.db, "user/small", "user", mine[i], at));
        free(turn(t.db, "user/large", "user", mine[i], at));
    }
    for (i = 0; i < 100; i++) { /* words no query here uses, and no word vectors */
        char text[64];
        snprintf(text, sizeof(text), "zzfiller%zu qqnote%zu", i, i % 7);
        free(turn(t.db, "user/large", "user", text, "2023-01-01T10:00:00Z"));
    }
    small = ctx(t.db, "user/small", "pasta for dinner at a restaurant", 10, 1000, NULL);
    large = ctx(t.db, "user/large", "pasta for dinner at a restaurant", 10, 1000, NULL);
    assert_true(json_array_size(items(small)) >= 3);
    assert_int_equal(json_array_size(items(small)), json_array_size(items(large)));
    for (i = 0; i < json_array_size(items(small)); i++) {
        json_t *a = json_array_get(items(small), i), *b = json_array_get(items(large), i);
        assert_string_equal(json_string_value(json_object_get(a, "text")),
                            json_string_value(json_object_get(b, "text")));
        assert_true(fabs(json_number_value(json_object_get(a, "score")) -
                         json_number_value(json_object_get(b, "score"))) < 1e-9);
    }
    json_decref(small);
    json_decref(large);
    close_db(&t);
}

/* The answer is written by hand (retrieve.c put_item): it must be exactly what jansson
 * writes for the same values, so re-dumping the parsed answer gives the same bytes, for
 * escapes, non-ASCII text, metadata objects, nulls and reals alike. */
static void test_answer_is_canonical_json(void **state)
{
    static const char *const req =
        "{\"scope\":\"user/alice\",\"query\":\"pasta quote tab caf\u00e9 restaurant\","
        "\"top_k\":20,\"max_tokens\":2000}";
    struct tdb t;
    json_t *in, *parsed;
    char *text, *out = NULL, *again;

    (void)state;
    open_with(&t, fixdir);
    free(turn(t.db, "user/alice", "user", "I live in London and love pasta", NULL));
    free(turn(t.db, "user/alice", "user", "A \"quote\", a back\\slash, a tab\there and\nnew line: pasta",
              NULL));
    free(turn(t.db, "user/alice", "user", "Caf\u00e9 cr\u00e8me \u2014 \U0001F35D pasta at the restaurant",
              NULL));
    in = json_pack("{s:s, s:s, s:s, s:{s:s, s:f, s:[i, s], s:n}}", "scope", "user/alice", "role",
                   "user", "content", "Ctrl \x01 char \x7f and pasta with \xc3\xa9 at the restaurant",
                   "metadata", "speaker", "Zo\xc3\xab", "x", 1.5e-7, "list", 3, "a\"b/c", "none");
    text = json_dumps(in, JSON_COMPACT);
    json_decref(in);
    json_decref(ok_json(t.db, engram_turn_add(t.db, NULL, "c", NULL, text, &out), &out, "turn"));
    free(text);
    assert_int_equal(engram_context_query(t.db, NULL, "c", NULL, req, &out), ENGRAM_OK);
    parsed = json_loads(out, 0, NULL);
    assert_non_null(parsed);
    assert_true(json_array_size(json_object_get(parsed, "items")) >= 4);
    again = json_dumps(parsed, JSON_COMPACT | JSON_REAL_PRECISION(6));
    assert_string_equal(out, again);
    free(again);
    json_decref(parsed);
    engram_free(out);
    close_db(&t);
}

/* Excerpts are grouped under one plain date line per day ("5 Jan 2024"), priced in the
 * budget like any other text. */
static void test_date_lines(void **state)
{
    struct tdb t;
    json_t *j;
    const char *f;

    (void)state;
    open_with(&t, fixdir);
    free(turn(t.db, "user/alice", "user", "The pasta place was closed", "2024-01-05T10:00:00Z"));
    free(turn(t.db, "user/alice", "user", "We found another pasta place", "2024-01-05T11:00:00Z"));
    free(turn(t.db, "user/alice", "user", "More pasta at home tonight", "2024-11-23T09:00:00Z"));
    j = ctx(t.db, "user/alice", "pasta", 10, 1000, NULL);
    f = jstr(j, "formatted");
    assert_non_null(strstr(f, "\n5 Jan 2024\n- user: The pasta place was closed\n"));
    assert_non_null(strstr(f, "\n23 Nov 2024\n- user: More pasta at home tonight\n"));
    assert_null(strstr(strstr(f, "5 Jan 2024") + 1, "5 Jan 2024")); /* once per day */
    json_decref(j);
    close_db(&t);
}

/* A rare query word's turn is found even when a common query word has more hits than the
 * search reads: the common word's hits must not crowd it out of the candidates. */
static void test_rare_word_not_crowded_out(void **state)
{
    struct tdb t;
    json_t *j;

    (void)state;
    open_with(&t, fixdir);
    for (int i = 0; i < 130; i++) {
        char text[64];
        snprintf(text, sizeof(text), "Pasta night %d", i);
        free(turn(t.db, "user/alice", "user", text, "2024-01-05T10:00:00Z"));
    }
    free(turn(t.db, "user/alice", "user",
              "We talked for a long while about the garden, the weather, the neighbours, the "
              "new bakery on the corner and, at the very end, about saffron",
              "2024-01-06T10:00:00Z"));
    j = ctx(t.db, "user/alice", "pasta with saffron", 100, 4000, NULL);
    assert_true(find_text(j, "saffron") >= 0);
    json_decref(j);
    close_db(&t);
}

/* Query words that nothing in memory contains do not drown a partial match: "saffron
 * cake" matches one word of four, but the two words no candidate has keep only half their
 * weight, so its share clears the lexical floor (at full weight it would not). */
static void test_unseen_words_half_weight(void **state)
{
    struct tdb t;
    json_t *j;

    (void)state;
    open_with(&t, fixdir);
    free(turn(t.db, "user/alice", "user", "saffron cake", NULL));
    free(turn(t.db, "user/alice", "user", "saffron tea with rice", NULL));
    free(turn(t.db, "user/alice", "user", "rice again", NULL));
    free(turn(t.db, "user/alice", "user", "more rice", NULL));
    j = ctx(t.db, "user/alice", "saffron rice zorblax quuxer", 10, 1000, NULL);
    assert_true(find_text(j, "saffron cake") >= 0);
    json_decref(j);
    close_db(&t);
}

static void test_floor_isolation(void **state)
{
    struct tdb t;
    json_t *j;

    (void)state;
    open_with(&t, fixdir);
    free(turn(t.db, "org/acme/user/bob", "user", "I'm allergic to shellfish and love pasta", NULL));
    free(turn(t.db, "org/acme/user/alice", "user", "My laptop is slow", NULL));
    free(turn(t.db, "org/acme", "user", "The office cafeteria serves pasta on Fridays", NULL));
    j = ctx(t.db, "org/acme/user/alice", "pasta shellfish restaurant dinner", 10, 1000, NULL);
    assert_int_equal(find_text(j, "shellfish"), -1); /* bob's: never */
    assert_true(find_text(j, "cafeteria") >= 0);     /* the org floor: yes */
    json_decref(j);
    close_db(&t);
}

static void test_diversity(void **state)
{
    struct tdb t;
    json_t *j;
    size_t i;
    json_t *it;
    int same = 0;

    (void)state;
    open_with(&t, fixdir);
    for (int k = 0; k < 5; k++)
        free(turn(t.db, "user/alice", "user", "Remind me to water the tomato plants tomorrow",
                  NULL));
    free(turn(t.db, "user/alice", "user", "The tomato plants got blight last summer", NULL));
    j = ctx(t.db, "user/alice", "tomato plants", 10, 1000, NULL);
    json_array_foreach(items(j), i, it)
    {
        same += strstr(json_string_value(json_object_get(it, "text")), "Remind me") != NULL;
    }
    if (same != 1)
        fail_msg("near-duplicates: %d copies returned, want 1", same);
    assert_true(find_text(j, "blight") >= 0);
    json_decref(j);
    close_db(&t);
}

static void test_score_parts(void **state)
{
    static const char *const parts[] = {"lexical", "synonym",  "vector",   "recency",
                                        "importance", "session", "relevance"};
    struct tdb t;
    json_t *j, *it;
    size_t i;

    (void)state;
    open_with(&t, fixdir);
    free(turn(t.db, "user/alice", "user", "I live in London and love Italian food", NULL));
    j = ctx(t.db, "user/alice", "where does she live", 10, 1000, NULL);
    assert_true(json_array_size(items(j)) >= 1);
    json_array_foreach(items(j), i, it)
    {
        assert_true(json_is_number(json_object_get(it, "score")));
        for (size_t k = 0; k < sizeof(parts) / sizeof(parts[0]); k++)
            if (!json_is_number(json_object_get(json_object_get(it, "scores"), parts[k])))
                fail_msg("item %zu has no scores.%s", i, parts[k]);
    }
    /* The attribute (location: London) is reached through its vocabulary phrase. */
    assert_true(find_text(j, "location: London") >= 0);
    json_decref(j);
    close_db(&t);
}

static void test_synonym_below_exact(void **state)
{
    struct tdb t;
    json_t *j;
    int exact, syn;

    (void)state;
    open_with(&t, fixdir);
    free(turn(t.db, "user/alice", "user", "The automobile in the driveway is red", NULL));
    free(turn(t.db, "user/alice", "user", "The car in the driveway is red", NULL));
    j = ctx(t.db, "user/alice", "car driveway", 10, 1000, NULL);
    exact = find_text(j, "The car");
    syn = find_text(j, "automobile");
    if (exact < 0 || syn < 0 || exact > syn)
        fail_msg("exact at %d, synonym at %d: want both, exact first", exact, syn);
    assert_true(score_part(json_array_get(items(j), (size_t)syn), "synonym") > 0);
    assert_true(score_part(json_array_get(items(j), (size_t)exact), "synonym") == 0);
    json_decref(j);
    close_db(&t);
}

static void test_vector_signal(void **state)
{
    struct tdb t;
    json_t *j;
    int i;

    (void)state;
    open_with(&t, fixdir);
    free(turn(t.db, "user/alice", "user", "Honestly I could eat pasta every single day", NULL));
    free(turn(t.db, "user/alice", "user", "My laptop keeps freezing", NULL));
    j = ctx(t.db, "user/alice", "restaurant", 10, 1000, NULL);
    i = find_text(j, "pasta");
    if (i < 0)
        fail_msg("vector match missing: %s", jstr(j, "formatted"));
    assert_true(score_part(json_array_get(items(j), (size_t)i), "vector") > 0.3);
    assert_int_equal(find_text(j, "laptop"), -1);
    json_decref(j);
    close_db(&t);
}

static void test_missing_data_logged_once(void **state)
{
    struct tdb t;
    json_t *j;

    (void)state;
    open_with(&t, "/nonexistent/engram-data");
    free(turn(t.db, "user/alice", "user", "I love pasta", NULL));
    j = ctx(t.db, "user/alice", "pasta", 10, 1000, NULL);
    assert_true(find_text(j, "I love pasta") >= 0); /* lexical still works */
    json_decref(j);
    j = ctx(t.db, "user/alice", "pasta", 10, 1000, NULL);
    json_decref(j);
    /* One line for the vectors, at most one for WordNet (absent only if the system has none
     * either), never one per call. */
    assert_true(t.logged >= 1 && t.logged <= 2);
    close_db(&t);
}

/* ---- semantic recall (real vectors) ------------------------------------------------------ */

struct stems {
    char s[64][EG_WORD_MAX + 1];
    int n;
    struct eg_stemmer *st;
};

static int collect_stem(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    struct stems *x = arg;
    const char *stem;
    size_t sn;

    (void)start, (void)end;
    if (eg_is_stopword(tok, n) || x->n == 64 || eg_stem_word(x->st, tok, n, &stem, &sn))
        return 0;
    memcpy(x->s[x->n], stem, sn);
    x->s[x->n++][sn] = '\0';
    return 0;
}

static int share_word(struct eg_stemmer *st, const char *a, const char *b)
{
    struct stems x = {.st = st}, y = {.st = st};

    eg_words(a, strlen(a), collect_stem, &x);
    eg_words(b, strlen(b), collect_stem, &y);
    for (int i = 0; i < x.n; i++)
        for (int k = 0; k < y.n; k++)
            if (!strcmp(x.s[i], y.s[k]))
                return 1;
    return 0;
}

static void test_semantic_recall(void **state)
{
    const char *src = getenv("ENGRAM_SOURCE_DIR");
    char data[512], setdir[512], path[1024];
    static const char *const users[] = {"alice", "bob", "carol", "dan"};
    struct eg_stemmer *st = eg_stemmer_new();
    int found = 0, total = 0;
    struct tdb t;

    (void)state;
    snprintf(data, sizeof(data), "%s/data", src ? src : "..");
    snprintf(setdir, sizeof(setdir), "%s/tests/data/semantic", src ? src : "..");
    snprintf(path, sizeof(path), "%s/vectors.bin", data);
    if (access(path, R_OK) != 0) {
        printf("semantic recall: skipped (no %s; run `make data`)\n", path);
        eg_stemmer_free(st);
        skip();
    }
    open_with(&t, data);
    for (size_t u = 0; u < sizeof(users) / sizeof(users[0]); u++) {
        char scope[64], line[2048];
        json_t *tags = json_object(); /* turn id -> tag */
        json_t *texts = json_object(); /* tag -> text */
        FILE *f;

        snprintf(scope, sizeof(scope), "user/%s", users[u]);
        snprintf(path, sizeof(path), "%s/%s.jsonl", setdir, users[u]);
        f = fopen(path, "r");
        if (!f)
            fail_msg("cannot open %s", path);
        while (fgets(line, sizeof(line), f)) {
            json_t *o = json_loads(line, 0, NULL), *j, *it, *rel;
            const char *q;
            size_t i, k;

            if (!o)
                continue;
            if (json_object_get(o, "turn")) {
                const char *text = jstr(o, "turn");
                char *id = turn(t.db, scope, "user", text, NULL);
                if (jstr(o, "id")) {
                    json_object_set_new(tags, id, json_string(jstr(o, "id")));
                    json_object_set_new(texts, jstr(o, "id"), json_string(text));
                }
                free(id);
                json_decref(o);
                continue;
            }
            q = jstr(o, "query");
            rel = json_object_get(o, "relevant");
            j = ctx(t.db, scope, q, 10, 300, NULL);
            json_array_foreach(rel, k, it)
            {
                const char *tag = json_string_value(it);
                json_t *item;
                int hit = 0;
                size_t n;

                if (share_word(st, q, jstr(texts, tag)))
                    fail_msg("query '%s' shares a word with memory '%s'", q, jstr(texts, tag));
                json_array_foreach(items(j), n, item)
                {
                    const char *id = jstr(item, "id"), *src_turn = jstr(item, "source_turn");
                    const char *got = json_string_value(json_object_get(tags, id));
                    if (!got && src_turn)
                        got = json_string_value(json_object_get(tags, src_turn));
                    hit |= got && !strcmp(got, tag);
                }
                total++;
                found += hit;
                if (!hit)
                    printf("semantic miss: '%s' -> '%s'\n", q, jstr(texts, tag));
            }
            (void)i;
            json_decref(j);
            json_decref(o);
        }
        fclose(f);
        json_decref(tags);
        json_decref(texts);
    }
    printf("semantic recall: %d/%d = %.2f of relevant memories in a 300-token context\n", found,
           total, total ? (double)found / total : 0);
    close_db(&t);
    eg_stemmer_free(st);
    assert_true(total > 0 && found * 5 >= total * 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relevance_floor),  cmocka_unit_test(test_budget_and_top_k),
        cmocka_unit_test(test_as_of),            cmocka_unit_test(test_floor_isolation),
        cmocka_unit_test(test_small_and_large_floor_agree),
        cmocka_unit_test(test_answer_is_canonical_json), cmocka_unit_test(test_date_lines),
        cmocka_unit_test(test_rare_word_not_crowded_out),
        cmocka_unit_test(test_unseen_words_half_weight),
        cmocka_unit_test(test_diversity),        cmocka_unit_test(test_score_parts),
        cmocka_unit_test(test_synonym_below_exact), cmocka_unit_test(test_vector_signal),
        cmocka_unit_test(test_missing_data_logged_once), cmocka_unit_test(test_semantic_recall),
    };
    return cmocka_run_group_tests(tests, setup_fixtures, teardown_fixtures);
}
