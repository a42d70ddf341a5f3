/*
 * retrieve.c - context: rank what the scope floor remembers against a message and pack
 * the best into a token budget.
 *
 * Candidates are current attributes (all of them: a user has tens to hundreds) and past
 * turns found by the store's full-text index. Each candidate gets named signal scores in
 * [0,1] that are fused by fixed weights into one score; the parts are returned in
 * "scores" so a caller can see why an item was chosen. A relevance floor on the query
 * match keeps unrelated memories out: with nothing relevant, items is [] and formatted is
 * "", so the caller's prompt is left unchanged.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/api_int.h"
#include "lib/stem.h"
#include "util/buf.h"

#define MAX_QUERY_TERMS   32
#define TURN_CANDIDATES   64
#define DEFAULT_TOP_K     10
#define DEFAULT_MAX_TOKENS 1000
#define RELEVANCE_FLOOR   0.15 /* share of the query's terms an item must match */
#define HALF_LIFE_DAYS    30.0

struct eg_retrieval {
    struct eg_stemmer *stem; /* used under db->mu only */
};

int eg_retrieval_init(engram *db)
{
    db->retr = calloc(1, sizeof(*db->retr));
    if (!db->retr || !(db->retr->stem = eg_stemmer_new())) {
        free(db->retr);
        db->retr = NULL;
        return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
    }
    return ENGRAM_OK;
}

void eg_retrieval_free(engram *db)
{
    if (!db->retr)
        return;
    eg_stemmer_free(db->retr->stem);
    free(db->retr);
    db->retr = NULL;
}

/* ---- query terms ------------------------------------------------------------------------- */

struct terms {
    char word[MAX_QUERY_TERMS][EG_WORD_MAX + 1]; /* folded words, for the store's index */
    char stem[MAX_QUERY_TERMS][EG_WORD_MAX + 1]; /* their stems, for matching attributes */
    size_t n;
    struct eg_stemmer *st;
};

static int add_term(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    struct terms *t = arg;
    const char *stem;
    size_t sn;

    (void)start, (void)end;
    if (t->n == MAX_QUERY_TERMS || eg_is_stopword(tok, n))
        return 0;
    if (eg_stem_word(t->st, tok, n, &stem, &sn) != ENGRAM_OK)
        return ENGRAM_NOMEM;
    for (size_t i = 0; i < t->n; i++) {
        if (strlen(t->stem[i]) == sn && !memcmp(t->stem[i], stem, sn))
            return 0;
    }
    memcpy(t->word[t->n], tok, n);
    t->word[t->n][n] = '\0';
    memcpy(t->stem[t->n], stem, sn);
    t->stem[t->n][sn] = '\0';
    t->n++;
    return 0;
}

struct match {
    const struct terms *q;
    unsigned hit; /* bit i: query term i seen */
};

static int match_stem(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    struct match *m = arg;

    (void)start, (void)end;
    for (size_t i = 0; i < m->q->n; i++) {
        if (strlen(m->q->stem[i]) == n && !memcmp(m->q->stem[i], tok, n))
            m->hit |= 1u << i;
    }
    return 0;
}

/* Share of the query's terms that occur in text, by stem. */
static double overlap(struct eg_stemmer *st, const struct terms *q, const char *text)
{
    struct match m = {q, 0};
    int hits = 0;

    if (q->n == 0)
        return 0;
    eg_stem_tokens(st, text, strlen(text), match_stem, &m);
    for (size_t i = 0; i < q->n; i++)
        hits += (m.hit >> i) & 1;
    return (double)hits / (double)q->n;
}

/* ---- candidates -------------------------------------------------------------------------- */

struct cand {
    json_t *item; /* the answer object, without score fields yet */
    double lexical, recency, importance, score;
    int tokens;
    char *text;
};

struct cands {
    struct cand *v;
    size_t n, cap;
    engram *db;
    const struct terms *q;
    int64_t now;
    double max_bm25;
};

/* A conservative token estimate: about 4 characters a token in English; we count 3 so a
 * budget is never overrun by a tokenizer that splits more finely than average. */
static int estimate_tokens(const char *text)
{
    return (int)(strlen(text) / 3) + 1;
}

static double recency(int64_t now, int64_t at)
{
    double days = (double)(now - at) / 86400000.0;
    return days <= 0 ? 1.0 : pow(0.5, days / HALF_LIFE_DAYS);
}

static struct cand *push(struct cands *c)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        struct cand *v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        c->v = v;
        c->cap = cap;
    }
    memset(&c->v[c->n], 0, sizeof(c->v[0]));
    return &c->v[c->n++];
}

static int attr_cand(void *arg, const struct eg_attr *a)
{
    struct cands *c = arg;
    struct eg_buf text = {0};
    struct cand *x;
    char key[64];
    int rc;

    snprintf(key, sizeof(key), "%s", a->key);
    for (char *p = key; *p; p++)
        *p = *p == '_' ? ' ' : *p;
    rc = eg_buf_printf(&text, "%s: %s", key, a->value);
    if (rc == ENGRAM_OK && strcmp(a->entity_type, "Person") == 0 && a->entity_name[0]) {
        char *user = eg_scope_dim(a->scope, "user");
        if (!user || strcmp(user, a->entity_name)) {
            eg_buf_reset(&text);
            rc = eg_buf_printf(&text, "%s's %s: %s", a->entity_name, key, a->value);
        }
        free(user);
    }
    if (rc != ENGRAM_OK || !(x = push(c))) {
        eg_buf_reset(&text);
        return ENGRAM_NOMEM;
    }
    x->text = eg_buf_detach(&text);
    x->lexical = overlap(c->db->retr->stem, c->q, x->text);
    x->recency = recency(c->now, a->valid_from);
    x->importance = a->importance * a->confidence;
    x->item = json_pack("{s:s, s:s, s:s, s:[s,s], s:s, s:s, s:s, s:o, s:o, s:o, s:f}", "kind",
                        "attribute", "id", a->id, "text", x->text, "entity", a->entity_type,
                        a->entity_name, "category", a->category, "key", a->key, "value",
                        a->value, "valid_from", eg_json_time(a->valid_from), "created_at",
                        eg_json_time(a->recorded_at), "source_turn",
                        a->source_turn[0] ? json_string(a->source_turn) : json_null(),
                        "confidence", a->confidence);
    return x->item ? ENGRAM_OK : ENGRAM_NOMEM;
}

static int turn_cand(void *arg, const struct eg_turn *t, double bm25)
{
    struct cands *c = arg;
    struct cand *x = push(c);
    json_t *meta;

    if (!x)
        return ENGRAM_NOMEM;
    x->text = strdup(t->content);
    if (!x->text)
        return ENGRAM_NOMEM;
    /* Kept raw until all turns are in; normalised by the best bm25 below. */
    x->lexical = bm25;
    if (bm25 > c->max_bm25)
        c->max_bm25 = bm25;
    x->recency = recency(c->now, t->created_at);
    x->importance = strcmp(t->role, "user") == 0 ? 0.5 : 0.3;
    meta = t->metadata && *t->metadata ? json_loads(t->metadata, 0, NULL) : NULL;
    x->item = json_pack("{s:s, s:s, s:s, s:o, s:s, s:o, s:o}", "kind", "turn", "id", t->id,
                        "text", t->content, "session_id",
                        t->session_id[0] ? json_string(t->session_id) : json_null(), "role",
                        t->role, "created_at", eg_json_time(t->created_at), "metadata",
                        meta ? meta : json_object());
    return x->item ? ENGRAM_OK : ENGRAM_NOMEM;
}

static int by_score(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return (x->score < y->score) - (x->score > y->score);
}

/* ---- formatting -------------------------------------------------------------------------- */

/* "Known facts" first, then dated excerpts with their speaker. */
static int format(json_t *items, char **out)
{
    struct eg_buf b = {0};
    size_t i;
    json_t *it;
    int rc = ENGRAM_OK, facts = 0, turns = 0;

    json_array_foreach(items, i, it)
    {
        if (strcmp(json_string_value(json_object_get(it, "kind")), "attribute"))
            continue;
        if (!facts++)
            rc = eg_buf_puts(&b, "Known facts about the user:\n");
        if (rc == ENGRAM_OK)
            rc = eg_buf_printf(&b, "- %s\n", json_string_value(json_object_get(it, "text")));
        if (rc != ENGRAM_OK)
            break;
    }
    json_array_foreach(items, i, it)
    {
        const char *at = json_string_value(json_object_get(it, "created_at"));
        if (rc != ENGRAM_OK || !strcmp(json_string_value(json_object_get(it, "kind")), "attribute"))
            continue;
        if (!turns++)
            rc = eg_buf_puts(&b, facts ? "\nFrom past conversations:\n"
                                       : "From past conversations:\n");
        if (rc == ENGRAM_OK)
            rc = eg_buf_printf(&b, "- [%.10s] %s: %s\n", at ? at : "",
                               json_string_value(json_object_get(it, "role")),
                               json_string_value(json_object_get(it, "text")));
    }
    if (rc != ENGRAM_OK) {
        eg_buf_reset(&b);
        return rc;
    }
    *out = eg_buf_detach(&b);
    return *out ? ENGRAM_OK : ENGRAM_NOMEM;
}

/* ---- entry ------------------------------------------------------------------------------- */

int engram_context_query(engram *db, const engram_call *call, const char *context,
                         const char *session_id, const char *req_json, char **out_json)
{
    struct terms *q = NULL;
    struct cands c = {0};
    struct eg_attr_filter f = {0};
    json_t *req = NULL, *items = NULL;
    char *scope = NULL, **scopes = NULL, *formatted = NULL;
    const char *query;
    const char *words[MAX_QUERY_TERMS];
    size_t nscopes = 0;
    int64_t top_k, max_tokens, as_of = 0;
    int rc, used = 0;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    if ((rc = eg_check_context(db, context)) != ENGRAM_OK ||
        (rc = eg_req_parse(db, req_json, &req)) != ENGRAM_OK ||
        (rc = eg_req_scope(db, call, context, session_id, req, &scope, NULL)) != ENGRAM_OK ||
        (rc = eg_req_str(db, req, "query", 1, &query)) != ENGRAM_OK ||
        (rc = eg_req_int(db, req, "top_k", 1, 100, DEFAULT_TOP_K, &top_k)) != ENGRAM_OK ||
        (rc = eg_req_int(db, req, "max_tokens", 1, 100000, DEFAULT_MAX_TOKENS, &max_tokens)) !=
            ENGRAM_OK ||
        (rc = eg_req_time(db, req, "as_of", &as_of)) != ENGRAM_OK)
        goto cleanup;
    rc = eg_scope_floor_list(scope, eg_call(call)->scope_floor, &scopes, &nscopes);
    if (rc != ENGRAM_OK || !(q = calloc(1, sizeof(*q))) || !(items = json_array())) {
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    q->st = db->retr->stem;
    if ((rc = eg_words(query, strlen(query), add_term, q)) != ENGRAM_OK) {
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    c.db = db;
    c.q = q;
    c.now = as_of ? as_of : eg_now_ms();
    if (q->n == 0)
        goto answer; /* nothing to match: no memory is relevant */

    f.context = context;
    f.scopes = (const char *const *)scopes;
    f.nscopes = nscopes;
    f.as_of = as_of;
    f.limit = 2000;
    rc = db->ops->attrs_query(db->store, &f, attr_cand, &c);
    if (rc == ENGRAM_OK) {
        size_t first_turn = c.n;
        for (size_t i = 0; i < q->n; i++)
            words[i] = q->word[i];
        rc = db->ops->turns_search(db->store, context, (const char *const *)scopes, nscopes,
                                   words, q->n, as_of, TURN_CANDIDATES, turn_cand, &c);
        /* bm25 has no fixed scale: normalise against the best turn, then temper by the
         * share of query terms present, so one rare word cannot carry an item alone. */
        for (size_t i = first_turn; rc == ENGRAM_OK && i < c.n; i++) {
            double share = overlap(db->retr->stem, q, c.v[i].text);
            c.v[i].lexical = c.max_bm25 > 0 ? 0.5 * (c.v[i].lexical / c.max_bm25) + 0.5 * share
                                            : share;
            if (share < RELEVANCE_FLOOR)
                c.v[i].lexical = 0;
        }
    }
    if (rc != ENGRAM_OK) {
        rc = rc == ENGRAM_NOMEM ? eg_err(db, rc, NULL, "out of memory")
                                : eg_err_store(db, rc, "context");
        goto cleanup;
    }
    for (size_t i = 0; i < c.n; i++) {
        struct cand *x = &c.v[i];
        x->score = x->lexical < RELEVANCE_FLOOR
                       ? 0
                       : 0.70 * x->lexical + 0.15 * x->recency + 0.15 * x->importance;
        x->tokens = estimate_tokens(x->text) + 8; /* + the date/speaker framing */
    }
    if (c.n) /* qsort's base must not be NULL, even for zero items */
        qsort(c.v, c.n, sizeof(c.v[0]), by_score);
    /* Greedy packing: best first, skip what does not fit, stop at top_k. */
    for (size_t i = 0; i < c.n && (int64_t)json_array_size(items) < top_k; i++) {
        struct cand *x = &c.v[i];
        if (x->score <= 0)
            break;
        if (used + x->tokens > max_tokens)
            continue;
        used += x->tokens;
        json_object_set_new(x->item, "score", json_real(x->score));
        json_object_set_new(x->item, "tokens", json_integer(x->tokens));
        json_object_set_new(x->item, "scores",
                            json_pack("{s:f, s:f, s:f}", "lexical", x->lexical, "recency",
                                      x->recency, "importance", x->importance));
        json_array_append(items, x->item);
    }
answer:
    if (format(items, &formatted) != ENGRAM_OK) {
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    rc = eg_json_out(db, json_pack("{s:O, s:s}", "items", items, "formatted", formatted),
                     out_json);
cleanup:
    for (size_t i = 0; i < c.n; i++) {
        json_decref(c.v[i].item);
        free(c.v[i].text);
    }
    free(c.v);
    free(formatted);
    json_decref(items);
    free(q);
    eg_scope_list_free(scopes, nscopes);
    free(scope);
    json_decref(req);
    return eg_leave(db, rc);
}
