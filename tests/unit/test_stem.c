/*
 * test_stem.c - the word scanner, the Snowball stems and the FTS5 tokenizer "engram":
 * stems match across inflections, bm25 ranks, odd input (UTF-8, empty, invalid) is safe.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engram.h"
#include "lib/stem.h"

/* Collects the words of a scan joined by spaces, with their offsets checked. */
struct joined {
    char buf[1024];
    size_t n;
    const char *text;
    size_t textlen;
};

static int join_cb(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    struct joined *j = arg;

    assert_true(start < end);
    assert_true(end <= j->textlen);
    assert_true(n > 0);
    if (j->n + n + 2 > sizeof(j->buf))
        return 99;
    if (j->n)
        j->buf[j->n++] = ' ';
    memcpy(j->buf + j->n, tok, n);
    j->n += n;
    j->buf[j->n] = '\0';
    return 0;
}

static const char *stems(struct eg_stemmer *st, struct joined *j, const char *text, size_t len)
{
    memset(j, 0, sizeof(*j));
    j->text = text;
    j->textlen = len;
    assert_int_equal(eg_stem_tokens(st, text, len, join_cb, j), ENGRAM_OK);
    return j->buf;
}

static const char *words(struct joined *j, const char *text, size_t len)
{
    memset(j, 0, sizeof(*j));
    j->text = text;
    j->textlen = len;
    assert_int_equal(eg_words(text, len, join_cb, j), ENGRAM_OK);
    return j->buf;
}

#define S(st, j, lit) stems((st), (j), (lit), sizeof(lit) - 1)
#define W(j, lit)     words((j), (lit), sizeof(lit) - 1)

static void test_plain_api(void **state)
{
    struct eg_stemmer *st = eg_stemmer_new();
    struct joined j;
    const char *out;
    size_t n;

    (void)state;
    assert_non_null(st);
    assert_string_equal(S(st, &j, "Running runs, RAN!"), "run run ran");
    assert_string_equal(S(st, &j, "allergic allergies allergy"), "allerg allergi allergi");
    assert_string_equal(S(st, &j, "I'm moving to London-based startups"),
                        "i m move to london base startup");
    assert_string_equal(S(st, &j, ""), "");
    assert_string_equal(S(st, &j, "  ...  !!"), "");
    assert_string_equal(S(st, &j, "v2.0 and 42"), "v2 0 and 42");
    assert_int_equal(eg_stem_word(st, "generously", 10, &out, &n), ENGRAM_OK);
    assert_int_equal(n, 8);
    assert_memory_equal(out, "generous", 8);
    eg_stemmer_free(st);
    eg_stemmer_free(NULL);
}

static void test_utf8(void **state)
{
    struct eg_stemmer *st = eg_stemmer_new();
    struct joined j;

    (void)state;
    /* Capitals of Latin-1 and Cyrillic fold; accents stay (as in PostgreSQL's english). */
    assert_string_equal(W(&j, "CAFÉ Ärger МОСКВА"), "café ärger москва");
    /* Curly quotes, dashes, emoji and the no-break space separate words. */
    assert_string_equal(W(&j, "don\xe2\x80\x99t\xe2\x80\x94stop\xc2\xa0now \xf0\x9f\x98\x80ok"),
                        "don t stop now ok");
    assert_string_equal(W(&j, "東京 tower"), "東京 tower");
    /* Invalid bytes (a lone continuation, an overlong '/', a truncated sequence) separate. */
    assert_string_equal(W(&j, "ab\x80\x63\x64 \xc0\xafx y\xe2\x82"), "ab cd x y");
    assert_string_equal(S(st, &j, "na\xc3\xafve caf\xc3\xa9s"), "na\xc3\xafv caf\xc3\xa9");
    eg_stemmer_free(st);
}

static void test_long_word(void **state)
{
    char big[600];
    struct joined j;

    (void)state;
    memset(big, 'a', sizeof(big));
    memcpy(big + 300, " bc ", 4);
    words(&j, big, sizeof(big));
    assert_int_equal(strlen(j.buf), EG_WORD_MAX + 1 + 2 + 1 + EG_WORD_MAX);
    assert_memory_equal(j.buf + EG_WORD_MAX, " bc ", 4);
}

static int stop_after_two(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    int *count = arg;

    (void)tok;
    (void)n;
    (void)start;
    (void)end;
    return ++*count == 2 ? 77 : 0;
}

/* The stem cache gives exactly what libstemmer gives: the same words stemmed before and
 * after thousands of other words have evicted and refilled the cache's slots, and by a
 * fresh stemmer, agree. */
static void test_stem_cache(void **state)
{
    static const char *const words[] = {"running", "runs", "ran", "allergies", "allergic",
                                        "restaurants", "generously", "flies", "dying",
                                        "abcdefghijklmnopqrstuvwxyzabcdef", "a"};
    struct eg_stemmer *st = eg_stemmer_new(), *fresh = eg_stemmer_new();
    char first[11][64];

    (void)state;
    assert_non_null(st);
    assert_non_null(fresh);
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
            const char *s, *f;
            size_t n, fn;
            assert_int_equal(eg_stem_word(st, words[i], strlen(words[i]), &s, &n), ENGRAM_OK);
            assert_true(n < sizeof(first[0]));
            if (round == 0) {
                memcpy(first[i], s, n);
                first[i][n] = '\0';
                assert_int_equal(eg_stem_word(fresh, words[i], strlen(words[i]), &f, &fn),
                                 ENGRAM_OK);
                assert_int_equal(fn, n);
                assert_memory_equal(f, s, n);
            } else {
                assert_int_equal(strlen(first[i]), n);
                assert_memory_equal(first[i], s, n);
            }
        }
        for (int k = 0; k < 5000; k++) { /* fill every slot with other words */
            char w[16];
            const char *s;
            size_t n;
            int len = snprintf(w, sizeof(w), "w%dings", k * 7919 + round);
            assert_int_equal(eg_stem_word(st, w, (size_t)len, &s, &n), ENGRAM_OK);
            assert_true(n > 0 && n <= (size_t)len);
        }
    }
    eg_stemmer_free(st);
    eg_stemmer_free(fresh);
}

static void test_callback_stops(void **state)
{
    int count = 0;

    (void)state;
    assert_int_equal(eg_words("a b c d", 7, stop_after_two, &count), 77);
    assert_int_equal(count, 2);
}

static void test_stopwords(void **state)
{
    (void)state;
    assert_true(eg_is_stopword("the", 3));
    assert_true(eg_is_stopword("a", 1));
    assert_true(eg_is_stopword("yourselves", 10));
    assert_true(eg_is_stopword("t", 1));
    assert_false(eg_is_stopword("restaurant", 10));
    assert_false(eg_is_stopword("th", 2));
    assert_false(eg_is_stopword("", 0));
    assert_false(eg_is_stopword("zzz", 3));
}

/* ---- FTS5 ---------------------------------------------------------------------------- */

static sqlite3 *open_fts(void)
{
    static const char *docs[] = {
        "I am allergic to shellfish",              /* 1 */
        "She keeps running marathons",             /* 2 */
        "My laptop is broken again",               /* 3 */
        "Her allergies flare up every spring",     /* 4 */
        "He runs the Caf\xc3\xa9 on Main Street",  /* 5 */
        "running running running, always running", /* 6 */
    };
    sqlite3 *db = NULL;
    char *err = NULL;
    size_t i;

    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(eg_stem_register_fts5(db, NULL), ENGRAM_OK);
    assert_int_equal(sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='engram')",
                                  NULL, NULL, &err),
                     SQLITE_OK);
    for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
        sqlite3_stmt *st;

        assert_int_equal(
            sqlite3_prepare_v2(db, "INSERT INTO t(rowid, x) VALUES (?1, ?2)", -1, &st, NULL),
            SQLITE_OK);
        sqlite3_bind_int64(st, 1, (sqlite3_int64)(i + 1));
        sqlite3_bind_text(st, 2, docs[i], -1, SQLITE_STATIC);
        assert_int_equal(sqlite3_step(st), SQLITE_DONE);
        sqlite3_finalize(st);
    }
    /* Empty and invalid UTF-8 documents index without trouble. */
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO t(rowid, x) VALUES (7, ''), (8, NULL),"
                                  " (9, CAST(X'FF80C0AF41' AS TEXT))",
                                  NULL, NULL, &err),
                     SQLITE_OK);
    return db;
}

/* The rowids matching q, in bm25 order, as "1,4". */
static const char *match(sqlite3 *db, const char *q, char *buf, size_t cap)
{
    sqlite3_stmt *st;
    size_t n = 0;
    int rc;

    buf[0] = '\0';
    assert_int_equal(sqlite3_prepare_v2(db, "SELECT rowid FROM t WHERE t MATCH ?1 ORDER BY bm25(t)",
                                        -1, &st, NULL),
                     SQLITE_OK);
    sqlite3_bind_text(st, 1, q, -1, SQLITE_STATIC);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int w = snprintf(buf + n, cap - n, "%s%lld", n ? "," : "",
                         (long long)sqlite3_column_int64(st, 0));
        assert_true(w > 0 && (size_t)w < cap - n);
        n += (size_t)w;
    }
    assert_int_equal(rc, SQLITE_DONE);
    sqlite3_finalize(st);
    return buf;
}

static void test_fts5(void **state)
{
    sqlite3 *db = open_fts();
    char buf[128];

    (void)state;
    assert_string_equal(match(db, "runs", buf, sizeof(buf)), "6,2,5");
    assert_string_equal(match(db, "RUNNING", buf, sizeof(buf)), "6,2,5");
    assert_string_equal(match(db, "allergies", buf, sizeof(buf)), "4");
    assert_string_equal(match(db, "allergy", buf, sizeof(buf)), "4");
    assert_string_equal(match(db, "allergic", buf, sizeof(buf)), "1");
    assert_string_equal(match(db, "allerg*", buf, sizeof(buf)), "1,4");
    assert_string_equal(match(db, "caf\xc3\x89", buf, sizeof(buf)), "5");
    assert_string_equal(match(db, "\"laptop is broken\"", buf, sizeof(buf)), "3");
    assert_string_equal(match(db, "\"laptops are broken\"", buf, sizeof(buf)), "");
    assert_string_equal(match(db, "marathon", buf, sizeof(buf)), "2");
    assert_string_equal(match(db, "a", buf, sizeof(buf)), "9");
    sqlite3_close(db);
}

static void test_fts5_bad_args(void **state)
{
    sqlite3 *db = NULL;

    (void)state;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(eg_stem_register_fts5(db, NULL), ENGRAM_OK);
    assert_int_not_equal(
        sqlite3_exec(db, "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='engram nope')", NULL, NULL,
                     NULL),
        SQLITE_OK);
    sqlite3_close(db);
}

/* Every (term, doc, col, offset) of FTS5 table t, one per line. */
static char *vocab(sqlite3 *db, const char *t)
{
    char sql[160], *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    sqlite3_stmt *st;

    assert_non_null(f);
    snprintf(sql, sizeof(sql), "CREATE VIRTUAL TABLE %s_v USING fts5vocab(%s, 'instance')", t, t);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    snprintf(sql, sizeof(sql), "SELECT term, doc, col, offset FROM %s_v ORDER BY 1, 2, 3, 4", t);
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW)
        fprintf(f, "%s %lld %s %d\n", (const char *)sqlite3_column_text(st, 0),
                (long long)sqlite3_column_int64(st, 1), (const char *)sqlite3_column_text(st, 2),
                sqlite3_column_int(st, 3));
    sqlite3_finalize(st);
    fclose(f);
    return out;
}

/* Documents tokenized ahead of time index exactly as the tokenizer would have indexed them,
 * and a queued document whose text differs is not used. */
static void test_fts5_docs_ahead(void **state)
{
    static const char *docs[] = {
        "I am allergic to shellfish, and my sister's running a Caf\xc3\xa9!",
        "", "running running running, always running",
        "\xff\x80 broken UTF-8 \xc3 then words",
        ("a word past EG_WORD_MAX: Pneumonoultramicroscopicsilicovolcanoconiosis"
         "PneumonoultramicroscopicsilicovolcanoconiosisPneumonoultramicroscopicsilicovolcano"
         "coniosisPneumonoultramicroscopicsilicovolcanoconiosis ends"),
    };
    struct eg_stemmer *st = eg_stemmer_new();
    struct eg_fts_docs q = {0};
    struct eg_fts_doc d[5] = {{0}}, other = {0};
    sqlite3 *db = NULL;
    char *a, *b;

    (void)state;
    assert_non_null(st);
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    assert_int_equal(eg_stem_register_fts5(db, &q), ENGRAM_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "CREATE VIRTUAL TABLE a USING fts5(x, y, tokenize='engram');"
                                  "CREATE VIRTUAL TABLE b USING fts5(x, y, tokenize='engram');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    for (size_t i = 0; i < 5; i++) {
        sqlite3_stmt *ins;

        assert_int_equal(eg_fts_doc_make(st, docs[i], strlen(docs[i]), &d[i]), ENGRAM_OK);
        for (int t = 0; t < 2; t++) {
            assert_int_equal(sqlite3_prepare_v2(db,
                                                t ? "INSERT INTO b(rowid, x, y) VALUES (?1, ?2, 'scope x')"
                                                  : "INSERT INTO a(rowid, x, y) VALUES (?1, ?2, 'scope x')",
                                                -1, &ins, NULL),
                             SQLITE_OK);
            sqlite3_bind_int64(ins, 1, (sqlite3_int64)(i + 1));
            sqlite3_bind_text(ins, 2, docs[i], -1, SQLITE_STATIC);
            if (t == 0)
                assert_int_equal(eg_fts_docs_push(&q, &d[i]), ENGRAM_OK);
            assert_int_equal(sqlite3_step(ins), SQLITE_DONE);
            sqlite3_finalize(ins);
            /* a's document was replayed (an empty one never reaches the tokenizer) */
            assert_int_equal(q.head, t == 0 && docs[i][0] ? 1u : 0u);
            eg_fts_docs_reset(&q);
        }
    }
    /* A queued document made from other text is passed over, not replayed. */
    assert_int_equal(eg_fts_doc_make(st, "completely different", 20, &other), ENGRAM_OK);
    assert_int_equal(eg_fts_docs_push(&q, &other), ENGRAM_OK);
    assert_int_equal(sqlite3_exec(db,
                                  "INSERT INTO a(rowid, x, y) VALUES (6, 'walking home', 'z');"
                                  "INSERT INTO b(rowid, x, y) VALUES (6, 'walking home', 'z');",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(q.head, 0);
    a = vocab(db, "a");
    b = vocab(db, "b");
    assert_non_null(strstr(a, "allerg 1 x 2"));
    assert_non_null(strstr(a, "walk 6 x 0"));
    assert_string_equal(a, b);
    free(a);
    free(b);
    for (size_t i = 0; i < 5; i++)
        eg_fts_doc_clear(&d[i]);
    eg_fts_doc_clear(&other);
    eg_fts_docs_free(&q);
    sqlite3_close(db);
    eg_stemmer_free(st);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_api),     cmocka_unit_test(test_utf8),
        cmocka_unit_test(test_long_word),     cmocka_unit_test(test_callback_stops),
        cmocka_unit_test(test_stopwords),     cmocka_unit_test(test_fts5),
        cmocka_unit_test(test_fts5_bad_args), cmocka_unit_test(test_stem_cache),
        cmocka_unit_test(test_fts5_docs_ahead),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
