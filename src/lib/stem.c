/*
 * stem.c - the word scanner, the Snowball English stemmer wrapper, the stopword list and
 * the FTS5 tokenizer "engram" built from them. See stem.h for the contract.
 *
 * The scanner decodes UTF-8 by hand: it needs only "is this a letter-ish code point" and a
 * small case fold, and a full Unicode table would cost more than the rest of the module.
 * Invalid UTF-8 never reaches the stemmer: a bad byte is a separator, so the index only
 * ever holds valid UTF-8 terms.
 */
#include "lib/stem.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <libstemmer.h>

#include "engram.h"

/*
 * Stemming a word costs libstemmer about half a microsecond, and a context query stems the
 * same few hundred words (the scope's attribute texts, its turns, the query) on every
 * call. So each stemmer keeps a small direct-mapped cache of word -> stem: Porter2 is a
 * pure function of the word, so a hit gives exactly what libstemmer would. Words longer
 * than STEM_SLOT_LEN bytes (rare) are always stemmed. 64 KB per stemmer, allocated on first
 * use; without it (out of memory) every word is stemmed, as before.
 */
#define STEM_SLOTS    1024 /* a power of two */
#define STEM_SLOT_LEN 30

struct stem_slot {
    unsigned char wn, sn; /* word and stem lengths; wn 0 = empty */
    char w[STEM_SLOT_LEN], s[STEM_SLOT_LEN];
};

struct eg_stemmer {
    struct sb_stemmer *sb;
    struct stem_slot *cache; /* STEM_SLOTS, or NULL */
    int cache_failed;        /* calloc failed once: do not retry on every word */
};

/* The stem of the folded word w[0..n): *out (*out_n bytes) points into the cache or into
 * libstemmer and stays valid until the stemmer's next use. ENGRAM_NOMEM from libstemmer. */
static int stem_cached(struct eg_stemmer *st, const char *w, size_t n, const char **out,
                       size_t *out_n)
{
    struct stem_slot *slot = NULL;
    const sb_symbol *s;
    size_t sn;

    if (n > 0 && n <= STEM_SLOT_LEN) {
        if (!st->cache && !st->cache_failed &&
            !(st->cache = calloc(STEM_SLOTS, sizeof(*st->cache))))
            st->cache_failed = 1;
        if (st->cache) {
            uint32_t h = 2166136261u;
            for (size_t i = 0; i < n; i++)
                h = (h ^ (unsigned char)w[i]) * 16777619u;
            slot = &st->cache[h & (STEM_SLOTS - 1)];
            if (slot->wn == n && !memcmp(slot->w, w, n)) {
                *out = slot->s;
                *out_n = slot->sn;
                return ENGRAM_OK;
            }
        }
    }
    s = sb_stemmer_stem(st->sb, (const sb_symbol *)w, (int)n);
    if (s == NULL)
        return ENGRAM_NOMEM;
    sn = (size_t)sb_stemmer_length(st->sb);
    if (slot && sn <= STEM_SLOT_LEN) {
        slot->wn = (unsigned char)n;
        slot->sn = (unsigned char)sn;
        memcpy(slot->w, w, n);
        memcpy(slot->s, s, sn);
    }
    *out = (const char *)s;
    *out_n = sn;
    return ENGRAM_OK;
}

/* Decodes one UTF-8 code point at s[0..n). Returns its length (1-4) and sets *cp, or 0 for
 * an invalid, overlong or truncated sequence and surrogates. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
    uint32_t c = s[0];
    size_t len, i;

    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        c &= 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        c &= 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        c &= 0x07;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if ((len == 3 && c < 0x800) || (len == 4 && (c < 0x10000 || c > 0x10FFFF)) ||
        (c >= 0xD800 && c <= 0xDFFF))
        return 0;
    *cp = c;
    return len;
}

static size_t utf8_encode(uint32_t c, char *out)
{
    if (c < 0x80) {
        out[0] = (char)c;
        return 1;
    }
    if (c < 0x800) {
        out[0] = (char)(0xC0 | (c >> 6));
        out[1] = (char)(0x80 | (c & 0x3F));
        return 2;
    }
    if (c < 0x10000) {
        out[0] = (char)(0xE0 | (c >> 12));
        out[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        out[2] = (char)(0x80 | (c & 0x3F));
        return 3;
    }
    out[0] = (char)(0xF0 | (c >> 18));
    out[1] = (char)(0x80 | ((c >> 12) & 0x3F));
    out[2] = (char)(0x80 | ((c >> 6) & 0x3F));
    out[3] = (char)(0x80 | (c & 0x3F));
    return 4;
}

/* Whether a non-ASCII code point is part of a word. Rather than a letter table, this lists
 * the blocks that are punctuation, symbols or spaces; everything else (letters of any
 * script, combining marks, CJK ideographs) joins the word around it. */
static int is_word_cp(uint32_t c)
{
    if (c < 0xC0) /* C1 controls, Latin-1 punctuation and symbols */
        return c == 0xAA || c == 0xB5 || c == 0xBA;
    if (c == 0xD7 || c == 0xF7) /* multiplication and division signs */
        return 0;
    if (c >= 0x2000 && c <= 0x2BFF) /* punctuation, currency, arrows, maths, shapes */
        return 0;
    if (c >= 0x2E00 && c <= 0x2E7F) /* supplemental punctuation */
        return 0;
    if (c >= 0x3000 && c <= 0x303F) /* CJK punctuation and the ideographic space */
        return 0;
    if (c >= 0xE000 && c <= 0xF8FF) /* private use */
        return 0;
    if (c >= 0xFE10 && c <= 0xFE6F) /* vertical and small forms */
        return 0;
    if (c == 0xFEFF || (c >= 0xFFF0 && c <= 0xFFFF)) /* BOM, specials */
        return 0;
    if ((c >= 0xFF00 && c <= 0xFF0F) || (c >= 0xFF1A && c <= 0xFF20) ||
        (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65)) /* fullwidth punct. */
        return 0;
    if (c >= 0x1F000 && c <= 0x1FAFF) /* emoji and pictographs */
        return 0;
    return 1;
}

/* Lower-cases the capitals of Latin-1, Latin Extended-A, Greek and Cyrillic. Each mapping
 * keeps the UTF-8 length, so a folded word never outgrows its source. */
static uint32_t fold_cp(uint32_t c)
{
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 0x20;
    if (c >= 0x100 && c <= 0x17F) {
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1) ? c + 1 : c;
        if (c == 0x178)
            return 0xFF;
        if (c != 0x130 && c != 0x131 && c != 0x138 && c != 0x149 && c != 0x17F)
            return (c & 1) ? c : c + 1;
        return c;
    }
    if (c >= 0x391 && c <= 0x3A9 && c != 0x3A2)
        return c + 0x20;
    if (c >= 0x410 && c <= 0x42F)
        return c + 0x20;
    if (c >= 0x400 && c <= 0x40F)
        return c + 0x50;
    return c;
}

/* One word at a time: scan() calls emit for each folded word; emit stems (or not) and calls
 * the user's callback. */
struct scan_ctx {
    struct eg_stemmer *st; /* NULL: do not stem */
    int nomem_rc;          /* what to return when libstemmer fails (engram's or SQLite's) */
    eg_token_fn fn;
    void *arg;
};

static int emit(struct scan_ctx *cx, const char *w, size_t n, size_t start, size_t end, int stem)
{
    const char *s;
    size_t sn;

    if (cx->st == NULL || !stem)
        return cx->fn(cx->arg, w, n, start, end);
    if (stem_cached(cx->st, w, n, &s, &sn) != ENGRAM_OK)
        return cx->nomem_rc;
    return cx->fn(cx->arg, s, sn, start, end);
}

static int scan(struct scan_ctx *cx, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    char word[EG_WORD_MAX + 4];
    size_t i = 0, wn = 0, wstart = 0, wend = 0;
    int inword = 0, cut = 0, rc;

    while (i <= len) {
        uint32_t c = 0;
        size_t cl = 0;
        int isword = 0;

        if (i < len) {
            if (s[i] < 0x80) {
                c = s[i];
                cl = 1;
                isword = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z');
                if (c >= 'A' && c <= 'Z')
                    c += 'a' - 'A';
            } else {
                cl = utf8_decode(s + i, len - i, &c);
                if (cl == 0)
                    cl = 1; /* invalid byte: a separator */
                else if ((isword = is_word_cp(c)) != 0)
                    c = fold_cp(c);
            }
        }
        if (isword) {
            if (!inword) {
                inword = 1;
                cut = 0;
                wn = 0;
                wstart = i;
            }
            if (wn + cl <= EG_WORD_MAX)
                wn += utf8_encode(c, word + wn);
            else
                cut = 1;
            wend = i + cl;
        } else if (inword) {
            inword = 0;
            rc = emit(cx, word, wn, wstart, wend, !cut);
            if (rc != 0)
                return rc;
        }
        i += cl ? cl : 1;
    }
    return ENGRAM_OK;
}

struct eg_stemmer *eg_stemmer_new(void)
{
    struct eg_stemmer *st = calloc(1, sizeof(*st));

    if (st == NULL)
        return NULL;
    st->sb = sb_stemmer_new("english", "UTF_8");
    if (st->sb == NULL) {
        free(st);
        return NULL;
    }
    return st;
}

void eg_stemmer_free(struct eg_stemmer *st)
{
    if (st == NULL)
        return;
    sb_stemmer_delete(st->sb);
    free(st->cache);
    free(st);
}

int eg_stem_tokens(struct eg_stemmer *st, const char *text, size_t len, eg_token_fn fn, void *arg)
{
    struct scan_ctx cx = {st, ENGRAM_NOMEM, fn, arg};

    return scan(&cx, text, len);
}

int eg_stem_word(struct eg_stemmer *st, const char *word, size_t n, const char **out, size_t *out_n)
{
    *out = NULL;
    *out_n = 0;
    if (n > EG_WORD_MAX) { /* the scanner never stems such a run either */
        *out = word;
        *out_n = n;
        return ENGRAM_OK;
    }
    return stem_cached(st, word, n, out, out_n);
}

int eg_words(const char *text, size_t len, eg_token_fn fn, void *arg)
{
    struct scan_ctx cx = {NULL, ENGRAM_NOMEM, fn, arg};

    return scan(&cx, text, len);
}

/* Function words that carry no topic, sorted for bsearch. Close to PostgreSQL's
 * english.stop, plus the contraction tails the scanner leaves behind ("don't" -> don, t). */
static const char *const stopwords[] = {
    "a",       "about",     "above",    "after",      "again",   "against",    "all",   "am",
    "an",      "and",       "any",      "are",        "aren",    "as",         "at",    "be",
    "because", "been",      "before",   "being",      "below",   "between",    "both",  "but",
    "by",      "can",       "couldn",   "d",          "did",     "didn",       "do",    "does",
    "doesn",   "doing",     "don",      "down",       "during",  "each",       "few",   "for",
    "from",    "further",   "had",      "hadn",       "has",     "hasn",       "have",  "haven",
    "having",  "he",        "her",      "here",       "hers",    "herself",    "him",   "himself",
    "his",     "how",       "i",        "if",         "in",      "into",       "is",    "isn",
    "it",      "its",       "itself",   "just",       "ll",      "m",          "me",    "more",
    "most",    "my",        "myself",   "no",         "nor",     "not",        "now",   "o",
    "of",      "off",       "on",       "once",       "only",    "or",         "other", "our",
    "ours",    "ourselves", "out",      "over",       "own",     "re",         "s",     "same",
    "she",     "should",    "shouldn",  "so",         "some",    "such",       "t",     "than",
    "that",    "the",       "their",    "theirs",     "them",    "themselves", "then",  "there",
    "these",   "they",      "this",     "those",      "through", "to",         "too",   "under",
    "until",   "up",        "ve",       "very",       "was",     "wasn",       "we",    "were",
    "weren",   "what",      "when",     "where",      "which",   "while",      "who",   "whom",
    "why",     "will",      "with",     "won",        "would",   "wouldn",     "y",     "you",
    "your",    "yours",     "yourself", "yourselves",
};

int eg_is_stopword(const char *tok, size_t n)
{
    size_t lo = 0, hi = sizeof(stopwords) / sizeof(stopwords[0]);

    if (n == 0 || n > 12)
        return 0;
    /* Compared byte by byte, without strlen: this runs for every word of every text a
     * context query matches, and most comparisons end at the first byte. */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, i = 0;
        const unsigned char *w = (const unsigned char *)stopwords[mid];
        const unsigned char *t = (const unsigned char *)tok;
        int c;

        while (i < n && w[i] && t[i] == w[i])
            i++;
        if (i < n)
            c = w[i] ? (int)t[i] - (int)w[i] : 1; /* tok is longer than w */
        else
            c = w[i] ? -1 : 0;
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

/* ---- FTS5 tokenizer ---------------------------------------------------------------- */

struct fts_tok {
    struct eg_stemmer *st;    /* one per instance: libstemmer objects are not thread-safe */
    struct eg_fts_docs *pre;  /* documents tokenized ahead of time, or NULL */
};

struct fts_call {
    void *ctx;
    int (*xToken)(void *, int, const char *, int, int, int);
};

static int fts_token(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    struct fts_call *fc = arg;

    return fc->xToken(fc->ctx, 0, tok, (int)n, (int)start, (int)end);
}

/* ---- documents tokenized ahead of time (stem.h) ---- */

static int doc_token(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    struct eg_fts_doc *d = arg;
    int32_t head[3] = {(int32_t)start, (int32_t)end, (int32_t)n};
    size_t need = d->nrec + sizeof(head) + n;

    if (need > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        char *p;

        while (cap < need)
            cap *= 2;
        if (!(p = realloc(d->rec, cap)))
            return ENGRAM_NOMEM;
        d->rec = p;
        d->cap = cap;
    }
    memcpy(d->rec + d->nrec, head, sizeof(head));
    memcpy(d->rec + d->nrec + sizeof(head), tok, n);
    d->nrec = need;
    return 0;
}

int eg_fts_doc_make(struct eg_stemmer *st, const char *text, size_t len, struct eg_fts_doc *out)
{
    struct scan_ctx cx = {st, ENGRAM_NOMEM, doc_token, out};
    int rc;

    out->text = text;
    out->len = len;
    if ((rc = scan(&cx, text, len)) != ENGRAM_OK)
        eg_fts_doc_clear(out);
    return rc;
}

void eg_fts_doc_clear(struct eg_fts_doc *d)
{
    free(d->rec);
    memset(d, 0, sizeof(*d));
}

int eg_fts_docs_push(struct eg_fts_docs *q, const struct eg_fts_doc *d)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
        const struct eg_fts_doc **v = realloc(q->v, cap * sizeof(*v));

        if (!v)
            return ENGRAM_NOMEM;
        q->v = v;
        q->cap = cap;
    }
    q->v[q->n++] = d;
    return ENGRAM_OK;
}

void eg_fts_docs_reset(struct eg_fts_docs *q)
{
    q->n = q->head = 0;
}

void eg_fts_docs_free(struct eg_fts_docs *q)
{
    free(q->v);
    memset(q, 0, sizeof(*q));
}

/* Hands FTS5 a document's recorded tokens, exactly as fts_token would have. */
static int replay(const struct eg_fts_doc *d, void *ctx,
                  int (*xToken)(void *, int, const char *, int, int, int))
{
    for (size_t at = 0; at < d->nrec;) {
        int32_t head[3];
        int rc;

        memcpy(head, d->rec + at, sizeof(head));
        at += sizeof(head);
        if ((rc = xToken(ctx, 0, d->rec + at, head[2], head[0], head[1])) != SQLITE_OK)
            return rc;
        at += (size_t)head[2];
    }
    return SQLITE_OK;
}

static int fts_create(void *pre, const char **argv, int argc, Fts5Tokenizer **out)
{
    struct fts_tok *t;

    (void)argv;
    *out = NULL;
    if (argc != 0) /* "engram" takes no options; a typo should not be silently ignored */
        return SQLITE_ERROR;
    t = calloc(1, sizeof(*t));
    if (t == NULL)
        return SQLITE_NOMEM;
    t->st = eg_stemmer_new();
    if (t->st == NULL) {
        free(t);
        return SQLITE_NOMEM;
    }
    t->pre = pre;
    *out = (Fts5Tokenizer *)t;
    return SQLITE_OK;
}

static void fts_delete(Fts5Tokenizer *p)
{
    struct fts_tok *t = (struct fts_tok *)p;

    if (t == NULL)
        return;
    eg_stemmer_free(t->st);
    free(t);
}

static int fts_tokenize(Fts5Tokenizer *p, void *ctx, int flags, const char *text, int ntext,
                        int (*xToken)(void *, int, const char *, int, int, int))
{
    struct fts_tok *t = (struct fts_tok *)p;
    struct fts_call fc = {ctx, xToken};
    struct scan_ctx cx = {t->st, SQLITE_NOMEM, fts_token, &fc};

    /* A prefix query ("allerg*") must not be stemmed: its stem could be shorter or differ
     * from the stems in the index that it should prefix-match. */
    if (flags & FTS5_TOKENIZE_PREFIX)
        cx.st = NULL;
    if (text == NULL || ntext <= 0)
        return SQLITE_OK;
    if (flags == FTS5_TOKENIZE_DOCUMENT && t->pre && t->pre->head < t->pre->n) {
        const struct eg_fts_doc *d = t->pre->v[t->pre->head];

        if (d->len == (size_t)ntext && memcmp(d->text, text, d->len) == 0) {
            t->pre->head++;
            return replay(d, ctx, xToken);
        }
    }
    return scan(&cx, text, (size_t)ntext);
}

/* The fts5_api of db, through the documented `SELECT fts5(?1)` pointer handshake. */
static fts5_api *fts5_api_of(sqlite3 *db)
{
    fts5_api *api = NULL;
    sqlite3_stmt *stmt = NULL;

    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &stmt, NULL) != SQLITE_OK)
        return NULL;
    sqlite3_bind_pointer(stmt, 1, (void *)&api, "fts5_api_ptr", NULL);
    sqlite3_step(stmt);
    sqlite3_finalize(stmt);
    return api;
}

int eg_stem_register_fts5(sqlite3 *db, struct eg_fts_docs *pre)
{
    fts5_tokenizer tok = {fts_create, fts_delete, fts_tokenize};
    fts5_api *api = fts5_api_of(db);
    int rc;

    if (api == NULL || api->iVersion < 2)
        return ENGRAM_ERROR;
    rc = api->xCreateTokenizer(api, "engram", pre, &tok, NULL);
    if (rc == SQLITE_NOMEM)
        return ENGRAM_NOMEM;
    return rc == SQLITE_OK ? ENGRAM_OK : ENGRAM_ERROR;
}
