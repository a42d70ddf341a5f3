/*
 * retrieve.c - context: rank what the scope floor remembers against a message and pack
 * the best into a token budget.
 *
 * Candidates: every current attribute of the floor (a user has tens to hundreds), the turns
 * the store's full-text index finds for the query's words (together, and each word alone so a
 * common one cannot crowd out a rare one) and, separately, for their
 * WordNet synonyms (for a floor of at most SCAN_MAX turns: the same turns, found by reading
 * the floor and matching it in memory, floor_scan()), the turns nearest to the query by
 * stored word vector (and provider embedding, when configured), and the session neighbours
 * of the best turns. Each candidate
 * gets named signals in [0,1]:
 *
 *   lexical     Snowball-stemmed term match: half bm25 (normalised by the best turn), half
 *               the share of the query's terms present; attributes by share only, matched
 *               through their key, value and the vocabulary's phrase ("They live in %s.")
 *   synonym     share of query terms matched only through a first-sense WordNet synonym
 *   vector      cosine of the averaged GloVe word vectors (vectors.h)
 *   embedding   cosine of the provider's embeddings (only when engram_options.embed_url)
 *   recency     half-life decay from the item's time to now (or as_of)
 *   importance  the attribute's importance x confidence; a turn's by role
 *   session     adjacency to a strong turn hit in the same session, or membership of the
 *               calling session's recent turns
 *
 * relevance = weighted sum of the match signals; an item counts only when one of them
 * clears its own floor (or it neighbours a relevant turn). Synonym weight is well under
 * the exact-match weight, so a synonym-only match never outranks the same match made with
 * the query's own word. score = relevance mostly, plus small recency, importance and
 * session terms. A long turn is shown as an excerpt of its matching sentences (excerpt()).
 * Then near-duplicates are dropped (word-overlap of whole turns), and the rest is packed
 * greedily into max_tokens by a conservative estimate (eg_tokens_estimate in util/tokens.c + framing). With nothing
 * relevant, items is [] and formatted is "", so the caller's prompt is left unchanged.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/api_int.h"
#include "lib/retrieve_int.h"
#include "lib/stem.h"
#include "lib/vectors.h"
#include "lib/wordnet.h"
#include "util/buf.h"
#include "util/tokens.h"

/* Constants guarded by #ifndef can be set at build time (-DNEIGHBOUR_SPAN=3) to tune with
 * `engram eval locomo` without editing this file. */
#define MAX_QUERY_TERMS    32
#define MAX_SYNONYMS       48
#define SYN_PER_WORD       3
#ifndef TURN_CANDIDATES
#define TURN_CANDIDATES    100 /* full-text hits read per query */
#endif
#define SYN_CANDIDATES     24  /* full-text hits read for the synonyms */
#ifndef PER_TERM_CANDIDATES
/* Full-text hits read per query term, besides the TURN_CANDIDATES for all terms together
 * (LoCoMo: 15 0.760, 30 0.761, 60 0.759, none 0.757; eval/RESULTS.md). */
#define PER_TERM_CANDIDATES 30
#endif
#define ATTR_MAX           2000 /* current attributes of the floor read per query */
#ifndef SCAN_MAX
/* A floor holding at most this many turns is read whole and matched in memory instead of
 * through the full-text index (floor_scan()); the answer is the same either way. */
#define SCAN_MAX           64
#endif
#ifndef VEC_CANDIDATES
#define VEC_CANDIDATES     40  /* nearest turns by vector added per query */
#endif
#ifndef NEIGHBOUR_SEEDS
#define NEIGHBOUR_SEEDS    10  /* strongest turns whose session neighbours are boosted */
#endif
#ifndef NEIGHBOUR_SPAN
#define NEIGHBOUR_SPAN     2   /* turns either side of a seed */
#endif
#define SESSION_RECENT     6   /* the calling session's last turns that get a boost */
/* Share of a seed's relevance its session neighbours inherit: the turn after a hit is
 * often the answer to it ("how long have you been married?" -> "5 years already!"). */
#ifndef NB_NEXT
#define NB_NEXT 0.7
#define NB_PREV 0.5
#endif
#define DEFAULT_TOP_K      10
#define DEFAULT_MAX_TOKENS 1000
#define HALF_LIFE_DAYS     30.0

/* Floors: an item is relevant when one of its signals clears its floor. */
#define LEX_FLOOR 0.15 /* share of query terms (after bm25 blending) */
#define SYN_FLOOR 0.50 /* share of query terms matched through synonyms only */
#define VEC_FLOOR 0.22 /* word-vector cosine: a clear match is ~0.25-0.5, unrelated < 0.15 */
#define VEC_SHORT_FLOOR 0.55
#define EMB_FLOOR 0.45 /* provider cosine; modern embedders put unrelated text near 0.1-0.3 */

/* Fusion weights (tuned on LoCoMo and the semantic set; see eval/RESULTS.md). */
#define W_LEX     0.60
#ifndef W_BM25
#define W_BM25    0.50 /* lexical = W_BM25 * bm25 / best + (1 - W_BM25) * weighted term share */
#endif
#ifndef BM25_B
#define BM25_B    0.75 /* BM25 length normalisation (0.4 and 0.2 tried: no gain) */
#endif
#define W_SYN     0.40 /* of a full lexical match: synonym evidence counts 0.4 of exact */
#ifndef UNSEEN_WEIGHT
#define UNSEEN_WEIGHT 0.5 /* a query word found in no candidate: share of its weight kept */
#endif
#ifndef W_VEC
#define W_VEC     0.40
#endif
#define W_EMB     0.50
#define W_REL     0.80 /* score = W_REL*relevance + W_REC*recency + W_IMP*importance + ... */
#define W_REC     0.06
#define W_IMP     0.06
#ifndef W_SES
/* x session x relevance: a turn next to a strong hit (or among the calling session's last
 * turns) gains up to its own relevance again. With excerpts ~36 turns fit in 1,000 tokens,
 * and evidence clusters around the first hits: 0.25 gave LoCoMo 0.736, 1.0 0.751 (0.45 0.740,
 * 0.7 0.749, 1.5 0.754, 2.5 0.752; eval/RESULTS.md). */
#define W_SES     1.00
#endif
#define VEC_LO    0.15 /* vector cosine mapped linearly from [VEC_LO, VEC_HI] to [0, 1] */
#define VEC_HI    0.60
#define EMB_LO    0.25
#define EMB_HI    0.75
#define NEAR_DUP  0.80 /* word-set Jaccard above which a turn repeats one already chosen */

/* Framing, by the same estimate: a fact's "- ", a turn's "- speaker: " (counted per turn),
 * one "5 Jan 2024" line per distinct date (5), and the two section headers (reserved). */
#define ATTR_FRAMING   1
#define DATE_HEADER    5
#define HEADER_RESERVE 12

/* ---- query terms ------------------------------------------------------------------------- */

struct terms {
    char word[MAX_QUERY_TERMS][EG_WORD_MAX + 1]; /* folded words, for the store's index */
    char stem[MAX_QUERY_TERMS][EG_WORD_MAX + 1]; /* their stems, for matching items */
    size_t n;
    char syn[MAX_SYNONYMS][EG_WORD_MAX + 1]; /* single-word synonyms, folded */
    char synstem[MAX_SYNONYMS][EG_WORD_MAX + 1];
    unsigned char synof[MAX_SYNONYMS]; /* the query term each one expands */
    size_t nsyn;
    double w[MAX_QUERY_TERMS]; /* term weights for the share (1 until candidates are in) */
    /* strlen of stem[] and synstem[]: match_stem() runs for every word of every candidate */
    unsigned char stemlen[MAX_QUERY_TERMS], synlen[MAX_SYNONYMS];
    struct eg_stemmer *st;
};

/* Words that say what kind of answer is wanted, not what it is about ("recommend a
 * restaurant", "any tips for my trip"); as query terms they match other requests. Sorted
 * for bsearch. Used for queries only: a memory's words are all kept. */
static const char *const request_words[] = {
    "also",   "anything", "can",      "could",     "find",  "get",   "give",
    "help",   "idea",     "ideas",    "know",      "let",   "ok",    "please",
    "really", "recommend", "remember", "something", "suggest", "tell", "think",
    "tips",   "want",     "would",
};

static int is_request_word(const char *w, size_t n)
{
    size_t lo = 0, hi = sizeof(request_words) / sizeof(request_words[0]);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, ml = strlen(request_words[mid]);
        int c = memcmp(w, request_words[mid], n < ml ? n : ml);
        if (c == 0)
            c = (n > ml) - (n < ml);
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

static int has_stem(const struct terms *t, const char *s, size_t n)
{
    for (size_t i = 0; i < t->n; i++) {
        if (t->stemlen[i] == n && !memcmp(t->stem[i], s, n))
            return 1;
    }
    for (size_t i = 0; i < t->nsyn; i++) {
        if (t->synlen[i] == n && !memcmp(t->synstem[i], s, n))
            return 1;
    }
    return 0;
}

static int add_term(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    struct terms *t = arg;
    const char *stem;
    size_t sn;

    (void)start, (void)end;
    if (t->n == MAX_QUERY_TERMS || eg_is_stopword(tok, n) || is_request_word(tok, n))
        return 0;
    if (eg_stem_word(t->st, tok, n, &stem, &sn) != ENGRAM_OK)
        return ENGRAM_NOMEM;
    if (has_stem(t, stem, sn))
        return 0;
    memcpy(t->word[t->n], tok, n);
    t->word[t->n][n] = '\0';
    memcpy(t->stem[t->n], stem, sn);
    t->stem[t->n][sn] = '\0';
    t->stemlen[t->n] = (unsigned char)sn;
    t->n++;
    return 0;
}

/* First-sense WordNet synonyms of each query word: single words only (a multi-word lemma
 * would need a phrase match to mean anything), at most SYN_PER_WORD each, and never one
 * whose stem is already a query term. */
static int expand(const struct eg_wordnet *wn, struct terms *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const char *const *syn;
        size_t nsyn, used = 0;

        if (eg_wordnet_synonyms(wn, t->word[i], strlen(t->word[i]), &syn, &nsyn) != ENGRAM_OK)
            continue;
        for (size_t k = 0; k < nsyn && used < SYN_PER_WORD && t->nsyn < MAX_SYNONYMS; k++) {
            size_t n = strlen(syn[k]), sn;
            const char *stem;

            if (n == 0 || n > EG_WORD_MAX || strchr(syn[k], ' ') || strchr(syn[k], '-') ||
                eg_is_stopword(syn[k], n))
                continue;
            if (eg_stem_word(t->st, syn[k], n, &stem, &sn) != ENGRAM_OK)
                return ENGRAM_NOMEM;
            if (has_stem(t, stem, sn))
                continue;
            memcpy(t->syn[t->nsyn], syn[k], n + 1);
            memcpy(t->synstem[t->nsyn], stem, sn);
            t->synstem[t->nsyn][sn] = '\0';
            t->synlen[t->nsyn] = (unsigned char)sn;
            t->synof[t->nsyn] = (unsigned char)i;
            t->nsyn++;
            used++;
        }
    }
    return ENGRAM_OK;
}

struct match {
    const struct terms *q;
    uint32_t hit, synhit; /* bit i: query term i seen, exactly / through a synonym */
    int words;            /* content words seen */
    int tokens;           /* all words seen (the length BM25 normalises by) */
    unsigned char tf[MAX_QUERY_TERMS]; /* occurrences of each query term, capped at 255 */
};

static int match_stem(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    struct match *m = arg;

    (void)start, (void)end;
    m->words += !eg_is_stopword(tok, n);
    m->tokens++;
    for (size_t i = 0; i < m->q->n; i++) {
        if (m->q->stemlen[i] == n && m->q->stem[i][0] == tok[0] &&
            !memcmp(m->q->stem[i], tok, n)) {
            m->hit |= 1u << i;
            m->tf[i] += m->tf[i] < 255;
        }
    }
    for (size_t i = 0; i < m->q->nsyn; i++) {
        if (m->q->synlen[i] == n && m->q->synstem[i][0] == tok[0] &&
            !memcmp(m->q->synstem[i], tok, n))
            m->synhit |= 1u << m->q->synof[i];
    }
    return 0;
}

/* Weighted share of the query's terms in a hit mask. */
static double share(const struct terms *q, uint32_t mask)
{
    double got = 0, all = 0;

    for (size_t i = 0; i < q->n; i++) {
        all += q->w[i];
        if ((mask >> i) & 1)
            got += q->w[i];
    }
    return all > 0 ? got / all : 0;
}

/* Share of the query's terms in text, exactly and through synonyms only, by the current term
 * weights; *hit and *synhit (optional) receive the masks. Returns the number of content
 * words in text. */
static int overlap_masks(const struct terms *q, const char *text, double *lex, double *syn,
                         uint32_t *hit, uint32_t *synhit)
{
    struct match m;

    memset(&m, 0, sizeof(m));
    m.q = q;
    eg_stem_tokens(q->st, text, strlen(text), match_stem, &m);
    *lex = share(q, m.hit);
    *syn = share(q, m.synhit & ~m.hit);
    if (hit)
        *hit = m.hit;
    if (synhit)
        *synhit = m.synhit & ~m.hit;
    return m.words;
}

/* ---- candidates -------------------------------------------------------------------------- */

enum { K_ATTR, K_TURN };

struct cand {
    int kind;
    char id[EG_ID_MAX];
    char session_id[EG_ID_MAX];
    char *text;   /* what is shown */
    char *match;  /* what is matched and embedded (attributes: key, value, phrase) */
    int64_t at;
    double bm25, lexical, synonym, vector, embedding, recency, importance, session;
    double relevance, score;
    int has_vec, has_emb, relevant, tokens;
    int words; /* content words: a vector of one or two words is a noisy signal */
    uint32_t hit, synhit; /* query terms matched, exactly / through synonyms only */
    unsigned char tf[MAX_QUERY_TERMS]; /* turns: occurrences of each query term */
    int dl;                            /* turns: words in the text */
    double inherited; /* relevance passed on by a neighbouring strong turn */
    /* What the answer object is built from (item_json()), only for the few candidates that
     * are packed: building and freeing JSON for every candidate cost more than ranking. */
    char *info; /* owned. Attributes: the strings below point into it; turns: metadata */
    const char *etype, *ename, *category, *key, *value, *source;
    int64_t recorded_at;
    double confidence;
    char role[16];
    char *who; /* a turn's speaker from its metadata, owned; NULL: its role speaks */
};

/* A small floor's turns, read whole by floor_scan(). */
struct floor {
    struct eg_turn *v; /* SCAN_MAX slots; copies, owned */
    size_t n;
    int over; /* the floor holds more than SCAN_MAX turns: v is incomplete, unused */
};

struct cands {
    struct cand *v;
    size_t n, cap;
    int *slot; /* open-addressing index of v by id: slot holds index + 1, 0 = empty */
    size_t nslot;
    engram *db;
    const struct terms *q;
    int64_t now;
    double max_bm25, avgdl;
    int origin_syn; /* turns being added came from the synonym search */
    struct floor floor; /* the floor's turns when it is small (floor_scan) */
};

static const struct eg_turn *floor_find(const struct floor *f, const char *id);

static uint32_t hash_id(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

static int rehash(struct cands *c, size_t nslot)
{
    int *slot = calloc(nslot, sizeof(*slot));

    if (!slot)
        return ENGRAM_NOMEM;
    for (size_t i = 0; i < c->n; i++) {
        size_t h = hash_id(c->v[i].id) & (nslot - 1);
        while (slot[h])
            h = (h + 1) & (nslot - 1);
        slot[h] = (int)i + 1;
    }
    free(c->slot);
    c->slot = slot;
    c->nslot = nslot;
    return ENGRAM_OK;
}

static struct cand *find(const struct cands *c, const char *id)
{
    size_t h;

    if (!c->nslot)
        return NULL;
    for (h = hash_id(id) & (c->nslot - 1); c->slot[h]; h = (h + 1) & (c->nslot - 1)) {
        struct cand *x = &c->v[c->slot[h] - 1];
        if (strcmp(x->id, id) == 0)
            return x;
    }
    return NULL;
}

/* A new zeroed candidate with this id, indexed; NULL on NOMEM. */
static struct cand *push(struct cands *c, int kind, const char *id)
{
    struct cand *x;
    size_t h;

    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        struct cand *v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return NULL;
        c->v = v;
        c->cap = cap;
    }
    if ((c->n + 1) * 2 > c->nslot && rehash(c, c->nslot ? c->nslot * 2 : 256) != ENGRAM_OK)
        return NULL;
    x = &c->v[c->n];
    memset(x, 0, sizeof(*x));
    x->kind = kind;
    {
        size_t n = strlen(id);
        if (n >= sizeof(x->id))
            n = sizeof(x->id) - 1; /* as snprintf would cut it, without its cost */
        memcpy(x->id, id, n);
        x->id[n] = '\0';
    }
    for (h = hash_id(id) & (c->nslot - 1); c->slot[h]; h = (h + 1) & (c->nslot - 1))
        ;
    c->slot[h] = (int)c->n + 1;
    c->n++;
    return x;
}


static double recency(int64_t now, int64_t at)
{
    double days = (double)(now - at) / 86400000.0;
    return days <= 0 ? 1.0 : pow(0.5, days / HALF_LIFE_DAYS);
}

/* Appends the strings up to NULL to b (printf's cost, without its parsing). */
static int cat(struct eg_buf *b, ...)
{
    va_list ap;
    const char *p;
    int rc = ENGRAM_OK;

    va_start(ap, b);
    while (rc == ENGRAM_OK && (p = va_arg(ap, const char *)) != NULL)
        rc = eg_buf_puts(b, p);
    va_end(ap);
    return rc;
}

/* Copies the attribute's fields that its answer object shows into one allocation. */
static int attr_info(struct cand *x, const struct eg_attr *a)
{
    const char *src[6] = {a->entity_type, a->entity_name, a->category, a->key, a->value,
                          a->source_turn};
    const char **dst[6] = {&x->etype, &x->ename, &x->category, &x->key, &x->value, &x->source};
    size_t len[6], total = 0;
    char *p;

    for (int i = 0; i < 6; i++)
        total += (len[i] = strlen(src[i] ? src[i] : "")) + 1;
    if (!(x->info = p = malloc(total)))
        return ENGRAM_NOMEM;
    for (int i = 0; i < 6; i++) {
        memcpy(p, src[i] ? src[i] : "", len[i] + 1);
        *dst[i] = p;
        p += len[i] + 1;
    }
    x->recorded_at = a->recorded_at;
    x->confidence = a->confidence;
    return ENGRAM_OK;
}

static int attr_cand(void *arg, const struct eg_attr *a)
{
    struct cands *c = arg;
    struct eg_buf text = {0}, match = {0};
    struct cand *x;
    char key[64];
    int rc;

    snprintf(key, sizeof(key), "%s", a->key);
    for (char *p = key; *p; p++)
        *p = *p == '_' ? ' ' : *p;
    rc = cat(&text, key, ": ", a->value, NULL);
    if (rc == ENGRAM_OK && strcmp(a->entity_type, "Person") == 0 && a->entity_name[0]) {
        char *user = eg_scope_dim(a->scope, "user");
        if (!user || strcmp(user, a->entity_name)) {
            eg_buf_reset(&text);
            rc = cat(&text, a->entity_name, "'s ", key, ": ", a->value, NULL);
        }
        free(user);
    } else if (rc == ENGRAM_OK && strcmp(a->entity_type, "Person") != 0 && a->entity_name[0]) {
        /* A fact about a pet, a project, a place: say which. */
        eg_buf_reset(&text);
        rc = cat(&text, a->entity_type, " ", a->entity_name, "'s ", key, ": ", a->value, NULL);
    }
    if (rc == ENGRAM_OK)
        rc = cat(&match, text.p, " ", NULL);
    if (rc == ENGRAM_OK)
        rc = eg_retr_attr_match_text(a->key, a->value, &match);
    if (rc != ENGRAM_OK || !(x = push(c, K_ATTR, a->id))) {
        eg_buf_reset(&text);
        eg_buf_reset(&match);
        return ENGRAM_NOMEM;
    }
    x->text = eg_buf_detach(&text);
    x->match = eg_buf_detach(&match);
    if (!x->text || !x->match || attr_info(x, a) != ENGRAM_OK)
        return ENGRAM_NOMEM;
    x->at = a->valid_from;
    overlap_masks(c->q, x->match, &x->lexical, &x->synonym, &x->hit, &x->synhit);
    x->words = 3; /* key + value + phrase: always a full vector */
    x->recency = recency(c->now, a->valid_from);
    x->importance = a->importance * a->confidence;
    return ENGRAM_OK;
}

/* Adds a turn as a candidate (once); *out (optional) receives it, new or existing. */
static int turn_add(struct cands *c, const struct eg_turn *t, struct cand **out)
{
    struct cand *x = find(c, t->id);
    if (out)
        *out = x;
    if (x)
        return ENGRAM_OK;
    if (!(x = push(c, K_TURN, t->id)))
        return ENGRAM_NOMEM;
    if (out)
        *out = x;
    snprintf(x->session_id, sizeof(x->session_id), "%s", t->session_id);
    x->text = strdup(t->content);
    if (!x->text)
        return ENGRAM_NOMEM;
    x->at = t->created_at;
    x->recency = recency(c->now, t->created_at);
    x->importance = strcmp(t->role, "user") == 0 ? 0.5 : 0.3;
    snprintf(x->role, sizeof(x->role), "%s", t->role);
    /* Most turns' metadata is "{}": parse only what can name a speaker. */
    if (t->metadata && *t->metadata && strcmp(t->metadata, "{}") != 0) {
        /* A multi-party transcript names its speakers in metadata: "what did Caroline say
         * about X" should count "Caroline" as matched by her own turns. */
        json_t *meta = json_loads(t->metadata, 0, NULL);
        const char *who = json_string_value(json_object_get(meta, "speaker"));
        struct eg_buf m = {0};
        int rc = ENGRAM_OK;

        if (!(x->info = strdup(t->metadata)))
            rc = ENGRAM_NOMEM;
        if (rc == ENGRAM_OK && who && *who) {
            if (!(x->who = strdup(who)) ||
                eg_buf_printf(&m, "%s: %s", who, t->content) != ENGRAM_OK)
                rc = ENGRAM_NOMEM;
            else
                x->match = eg_buf_detach(&m);
        }
        json_decref(meta);
        return rc;
    }
    return ENGRAM_OK;
}

static int fts_cand(void *arg, const struct eg_turn *t, double bm25)
{
    struct cands *c = arg;
    struct cand *x;
    int rc = turn_add(c, t, &x);

    if (rc == ENGRAM_OK && !c->origin_syn) {
        /* Kept raw until all hits are in; normalised by the best bm25 below. */
        x->bm25 = bm25;
        if (bm25 > c->max_bm25)
            c->max_bm25 = bm25;
    }
    return rc;
}

/* ---- vector scans ------------------------------------------------------------------------ */

struct vhit {
    char id[EG_ID_MAX];
    float cos;
};

struct vscan {
    struct cands *c;
    const float *q;
    int dim;
    int emb; /* filling embedding (1) or vector (0) */
    struct vhit top[VEC_CANDIDATES];
    size_t ntop;
    float floor;
};

static int vec_row(void *arg, const char *id, const int8_t *v, int dim, float scale)
{
    struct vscan *s = arg;
    struct cand *x;
    float dot = 0, cos;

    if (dim != s->dim)
        return ENGRAM_OK; /* another model's vector: never compared */
    for (int i = 0; i < dim; i++)
        dot += (float)v[i] * s->q[i];
    cos = dot * scale;
    if ((x = find(s->c, id)) != NULL) {
        if (s->emb) {
            x->embedding = cos;
            x->has_emb = 1;
        } else {
            x->vector = cos;
            x->has_vec = 1;
        }
        return ENGRAM_OK;
    }
    if (cos < s->floor)
        return ENGRAM_OK;
    /* Keep the VEC_CANDIDATES best unseen items: replace the weakest when full. */
    if (s->ntop < VEC_CANDIDATES) {
        snprintf(s->top[s->ntop].id, EG_ID_MAX, "%s", id);
        s->top[s->ntop++].cos = cos;
    } else {
        size_t w = 0;
        for (size_t i = 1; i < s->ntop; i++)
            if (s->top[i].cos < s->top[w].cos)
                w = i;
        if (cos > s->top[w].cos) {
            snprintf(s->top[w].id, EG_ID_MAX, "%s", id);
            s->top[w].cos = cos;
        }
    }
    return ENGRAM_OK;
}

/* Reads the stored vectors of kind (turns or attributes) in the floor: fills the signal of
 * known candidates and, for turns, adds the nearest unseen ones. */
static int vec_pass(struct cands *c, const char *context, char **scopes, size_t nscopes,
                    int64_t as_of, const char *kind, int is_turn, int emb, const float *q,
                    int dim, float floor)
{
    engram *db = c->db;
    struct vscan *s = calloc(1, sizeof(*s));
    int rc;

    if (!s)
        return ENGRAM_NOMEM;
    s->c = c;
    s->q = q;
    s->dim = dim;
    s->emb = emb;
    s->floor = is_turn ? floor : 2.0f; /* attributes are all candidates already */
    rc = db->ops->vec_scan(db->store, context, (const char *const *)scopes, nscopes, kind, as_of,
                           vec_row, s);
    for (size_t i = 0; rc == ENGRAM_OK && i < s->ntop; i++) {
        struct eg_turn t;
        struct cand *x = NULL;

        const struct eg_turn *ft = floor_find(&c->floor, s->top[i].id);

        if (ft) { /* read already (floor_scan): the same row turn_get would read */
            rc = turn_add(c, ft, &x);
        } else {
            rc = db->ops->turn_get(db->store, context, s->top[i].id, &t);
            if (rc == ENGRAM_NOTFOUND) { /* a vector without its turn: ignore it */
                rc = ENGRAM_OK;
                continue;
            }
            if (rc == ENGRAM_OK) {
                rc = turn_add(c, &t, &x);
                eg_turn_clear(&t);
            }
        }
        if (rc == ENGRAM_OK && x) {
            if (emb) {
                x->embedding = s->top[i].cos;
                x->has_emb = 1;
            } else {
                x->vector = s->top[i].cos;
                x->has_vec = 1;
            }
        }
    }
    free(s);
    return rc;
}

/* ---- session neighbourhood --------------------------------------------------------------- */

struct near {
    struct cands *c;
    double seed_rel;
    int recent;
};

static int near_cand(void *arg, const struct eg_turn *t, double offset)
{
    struct near *nb = arg;
    struct cand *x;
    double boost;
    int rc = turn_add(nb->c, t, &x);

    if (rc != ENGRAM_OK || !x)
        return rc;
    if (nb->recent) {
        /* The calling session's recent turns: a boost, not a reason to be relevant. */
        boost = 0.5 * (1.0 - (fabs(offset) - 1.0) / SESSION_RECENT);
    } else {
        /* A neighbour of a strong hit shares its topic (LoCoMo's answers often sit one
         * turn after the question that names the topic). */
        double inherit = nb->seed_rel * (offset > 0 ? NB_NEXT : NB_PREV) / fabs(offset);
        boost = nb->seed_rel / fabs(offset);
        if (inherit > x->inherited)
            x->inherited = inherit;
        if (!x->relevant && x->words >= 3) {
            x->relevant = 1;
            if (x->relevance < inherit)
                x->relevance = inherit;
        }
    }
    if (boost > x->session)
        x->session = boost;
    return ENGRAM_OK;
}

/* ---- scoring ----------------------------------------------------------------------------- */

static double ramp(double x, double lo, double hi)
{
    return x <= lo ? 0 : x >= hi ? 1 : (x - lo) / (hi - lo);
}

static void relevance(struct cand *x, const struct terms *q, double max_bm25, int have_emb)
{
    double lex = x->lexical, v, e;

    if (x->kind == K_TURN) {
        double share = lex;
        /* bm25 has no fixed scale: normalise against the best turn, then temper by the share
         * of query terms present, so one rare word cannot carry an item alone. */
        lex = max_bm25 > 0 ? W_BM25 * (x->bm25 / max_bm25) + (1 - W_BM25) * share : share;
        if (share < LEX_FLOOR)
            lex = 0;
        x->lexical = lex;
    }
    v = ramp(x->vector, VEC_LO, VEC_HI);
    e = have_emb ? ramp(x->embedding, EMB_LO, EMB_HI) : 0;
    x->relevance = W_LEX * lex + W_LEX * W_SYN * x->synonym + W_VEC * v + W_EMB * e;
    /* A text of one or two content words ("hi!", "ok thanks") has a vector that is nearly
     * one word's, close to many queries: it needs a clearly higher cosine. */
    x->relevant = (lex >= LEX_FLOOR && q->n > 0) || (x->synonym >= SYN_FLOOR && x->words >= 3) ||
                  x->vector >= (x->words >= 3 ? VEC_FLOOR : VEC_SHORT_FLOOR) ||
                  (have_emb && x->embedding >= EMB_FLOOR);
}

static int by_score(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    return (x->score < y->score) - (x->score > y->score);
}

static int by_relevance(const void *a, const void *b)
{
    const struct cand *x = *(const struct cand *const *)a, *y = *(const struct cand *const *)b;
    return (x->relevance < y->relevance) - (x->relevance > y->relevance);
}

/* ---- diversity --------------------------------------------------------------------------- */

#define SIG_WORDS 64

struct sig {
    uint32_t h[SIG_WORDS]; /* hashes of distinct stems, unsorted */
    int n;
};

static int sig_word(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    struct sig *s = arg;
    uint32_t h = 2166136261u;

    (void)start, (void)end;
    if (eg_is_stopword(tok, n) || s->n == SIG_WORDS)
        return 0;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)tok[i]) * 16777619u;
    for (int i = 0; i < s->n; i++)
        if (s->h[i] == h)
            return 0;
    s->h[s->n++] = h;
    return 0;
}

static double jaccard(const struct sig *a, const struct sig *b)
{
    int both = 0;

    if (a->n == 0 || b->n == 0)
        return 0;
    for (int i = 0; i < a->n; i++)
        for (int k = 0; k < b->n; k++)
            if (a->h[i] == b->h[k]) {
                both++;
                break;
            }
    return (double)both / (double)(a->n + b->n - both);
}

/* ---- formatting -------------------------------------------------------------------------- */

/*
 * The line that dates the excerpts under it: "5 Jan 2024". A context of 30-40 excerpts spans
 * 10-20 dates, and "[2024-01-05]\n" is 8 cl100k tokens (9 by our estimate) where "5 Jan
 * 2024\n" is 6 (5 by the estimate, which counts no newlines; whole contexts stay under it):
 * the saving goes to one or two more excerpts in the same budget (LoCoMo 0.751 -> 0.757,
 * eval/RESULTS.md), and the date reads as plainly.
 */
static int date_line(struct eg_buf *b, const char *ymd)
{
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    int y = 0, m = 0, d = 0;

    if (sscanf(ymd, "%d-%d-%d", &y, &m, &d) == 3 && m >= 1 && m <= 12)
        return eg_buf_printf(b, "%d %s %d\n", d, mon[m - 1], y);
    return eg_buf_printf(b, "[%s]\n", ymd); /* never from eg_iso_format; kept safe */
}

/* An item's date, as its answer shows it ("2024-01-05T..."), or "" when it has none. */
struct packed {
    struct cand *x;
    char iso[EG_ISO_LEN];
};

static int by_created(const void *a, const void *b)
{
    return strcmp(((const struct packed *)a)->iso, ((const struct packed *)b)->iso);
}

/* "Known facts" first, then the excerpts in time order under one line per date, each with
 * its speaker (its metadata's "speaker" in imported multi-party chats, else its role): read
 * like a conversation, and a date costs its tokens once. p is reordered. */
static int format(struct packed *p, size_t n, char **out)
{
    struct eg_buf b = {0};
    char date[16] = "";
    size_t i, nturns = 0;
    int rc = ENGRAM_OK, facts = 0;

    for (i = 0; i < n && rc == ENGRAM_OK; i++) {
        if (p[i].x->kind != K_ATTR)
            continue;
        if (!facts++)
            rc = eg_buf_puts(&b, "Known facts about the user:\n");
        if (rc == ENGRAM_OK)
            rc = eg_buf_printf(&b, "- %s\n", p[i].x->text);
    }
    /* The turns, in their packing order, after the facts; then by time (a stable sort). */
    for (i = 0; i < n; i++)
        if (p[i].x->kind == K_TURN) {
            struct packed t = p[i];
            memmove(&p[nturns + 1], &p[nturns], sizeof(*p) * (i - nturns));
            p[nturns++] = t;
        }
    if (nturns) /* qsort's base must not be NULL, even for zero items */
        qsort(p, nturns, sizeof(*p), by_created);
    for (i = 0; i < nturns && rc == ENGRAM_OK; i++) {
        const struct cand *x = p[i].x;
        if (i == 0)
            rc = eg_buf_puts(&b, facts ? "\nFrom past conversations:\n"
                                       : "From past conversations:\n");
        if (rc == ENGRAM_OK && x->at && strncmp(date, p[i].iso, 10) != 0) {
            snprintf(date, sizeof(date), "%.10s", p[i].iso);
            rc = date_line(&b, date);
        }
        if (rc == ENGRAM_OK)
            rc = eg_buf_printf(&b, "- %s: %s\n", x->who ? x->who : x->role, x->text);
    }
    if (rc != ENGRAM_OK) {
        eg_buf_reset(&b);
        return rc;
    }
    *out = b.p ? eg_buf_detach(&b) : strdup("");
    return *out ? ENGRAM_OK : ENGRAM_NOMEM;
}

/* ---- the answer's JSON ------------------------------------------------------------------- */

/*
 * The answer is written here rather than built as jansson objects and dumped: building,
 * dumping and freeing a dozen objects of ten fields cost more than a fifth of a context
 * call. The bytes are exactly what json_dumps(EG_JSON_ANSWER) wrote before (the tests
 * re-dump answers through jansson and compare): compact, keys in the same order, UTF-8
 * kept as is, reals as "%.6g" with ".0" added to whole numbers and exponents without "+"
 * or leading zeros (jansson's jsonp_dtostr).
 */

#define PUT(expr)                                                                              \
    do {                                                                                       \
        if (rc == ENGRAM_OK)                                                                   \
            rc = (expr);                                                                       \
    } while (0)

/* One item of the answer: the fields an attribute or a turn shows, then its score parts
 * (embedding only when the provider is on). */
static int put_item(struct eg_buf *b, const struct cand *x, int with_emb)
{
    static const char *const part[] = {
        "\"lexical\":", ",\"synonym\":",   ",\"vector\":",    ",\"recency\":",
        ",\"importance\":", ",\"session\":", ",\"relevance\":", ",\"embedding\":"};
    const double v[] = {x->lexical,    x->synonym, x->vector,    x->recency,
                        x->importance, x->session, x->relevance, x->embedding};
    int rc = ENGRAM_OK;

    if (x->kind == K_ATTR) {
        PUT(eg_buf_puts(b, "{\"kind\":\"attribute\",\"id\":"));
        PUT(eg_buf_json_str(b, x->id));
        PUT(eg_buf_puts(b, ",\"text\":"));
        PUT(eg_buf_json_str(b, x->text));
        PUT(eg_buf_puts(b, ",\"entity\":["));
        PUT(eg_buf_json_str(b, x->etype));
        PUT(eg_buf_puts(b, ","));
        PUT(eg_buf_json_str(b, x->ename));
        PUT(eg_buf_puts(b, "],\"category\":"));
        PUT(eg_buf_json_str(b, x->category));
        PUT(eg_buf_puts(b, ",\"key\":"));
        PUT(eg_buf_json_str(b, x->key));
        PUT(eg_buf_puts(b, ",\"value\":"));
        PUT(eg_buf_json_str(b, x->value));
        PUT(eg_buf_puts(b, ",\"valid_from\":"));
        PUT(eg_buf_json_time(b, x->at));
        PUT(eg_buf_puts(b, ",\"created_at\":"));
        PUT(eg_buf_json_time(b, x->recorded_at));
        PUT(eg_buf_puts(b, ",\"source_turn\":"));
        PUT(x->source[0] ? eg_buf_json_str(b, x->source) : eg_buf_puts(b, "null"));
        PUT(eg_buf_puts(b, ",\"confidence\":"));
        PUT(eg_buf_json_real(b, x->confidence));
    } else {
        PUT(eg_buf_puts(b, "{\"kind\":\"turn\",\"id\":"));
        PUT(eg_buf_json_str(b, x->id));
        PUT(eg_buf_puts(b, ",\"text\":"));
        PUT(eg_buf_json_str(b, x->text));
        PUT(eg_buf_puts(b, ",\"session_id\":"));
        PUT(x->session_id[0] ? eg_buf_json_str(b, x->session_id) : eg_buf_puts(b, "null"));
        PUT(eg_buf_puts(b, ",\"role\":"));
        PUT(eg_buf_json_str(b, x->role));
        PUT(eg_buf_puts(b, ",\"created_at\":"));
        PUT(eg_buf_json_time(b, x->at));
        PUT(eg_buf_puts(b, ",\"metadata\":"));
        PUT(eg_meta_write(b, x->info));
    }
    PUT(eg_buf_puts(b, ",\"score\":"));
    PUT(eg_buf_json_real(b, x->score));
    PUT(eg_buf_printf(b, ",\"tokens\":%d,\"scores\":{", x->tokens));
    for (size_t i = 0; i < sizeof(part) / sizeof(part[0]) - !with_emb; i++) {
        PUT(eg_buf_puts(b, part[i]));
        PUT(eg_buf_json_real(b, v[i]));
    }
    PUT(eg_buf_puts(b, "}}"));
    return rc;
}

/* The answer, {"items":[...],"formatted":"..."}, malloc'd into *out. p is reordered. */
static int answer_json(struct packed *p, size_t n, int with_emb, char **out)
{
    struct eg_buf b = {0};
    char *formatted = NULL;
    int rc = eg_buf_puts(&b, "{\"items\":[");

    for (size_t i = 0; i < n; i++) {
        if (i)
            PUT(eg_buf_append(&b, ",", 1));
        PUT(put_item(&b, p[i].x, with_emb));
    }
    PUT(eg_buf_puts(&b, "],\"formatted\":"));
    PUT(format(p, n, &formatted));
    PUT(eg_buf_json_str(&b, formatted));
    PUT(eg_buf_append(&b, "}", 1));
    free(formatted);
    if (rc != ENGRAM_OK) {
        eg_buf_reset(&b);
        return rc;
    }
    *out = eg_buf_detach(&b);
    return ENGRAM_OK;
}

#undef PUT

/* ---- the query --------------------------------------------------------------------------- */

struct query {
    const char *context, *session_id;
    char **scopes;
    size_t nscopes;
    int64_t as_of;
    float *qv, *qe; /* query word vector / provider embedding (NULL when off) */
    int dim, edim;
};

/* ---- small floors ------------------------------------------------------------------------ */

/*
 * Most scopes hold few turns, and for them the full-text index is the expensive way in: a
 * search walks every index segment for each query term and for the floor's scope token
 * (150-300 us on a 1,000,000-turn store), while reading a small floor's turns is one
 * index range of the turns table (about 10 us). So floor_scan() first reads up to
 * SCAN_MAX + 1 turns of the floor; when the floor is small, it matches them in memory with
 * the same tokenizer and stems the index uses and adds the turns the search would have
 * returned. That is every turn containing a query term when they number at most
 * TURN_CANDIDATES (the search's LIMIT), and every turn containing a synonym when they
 * number at most SYN_CANDIDATES; when more match, the search's own ranking must choose
 * (it ranks by index-wide statistics), so that search still runs. The floor's turns are
 * kept (struct floor) for vec_pass, which then needs no turn_get per vector hit.
 */
struct scan_done {
    int words, syns; /* the query-word / synonym search was answered from the floor */
};

static int floor_turn(void *arg, const struct eg_turn *t, double unused)
{
    struct floor *f = arg;
    struct eg_turn *x;

    (void)unused;
    if (f->n == SCAN_MAX) {
        f->over = 1;
        return ENGRAM_OK;
    }
    x = &f->v[f->n];
    *x = *t;
    x->context = x->scope = NULL; /* not needed, not copied */
    x->content = strdup(t->content ? t->content : "");
    x->metadata = t->metadata ? strdup(t->metadata) : NULL;
    if (!x->content || (t->metadata && !x->metadata)) {
        free(x->content);
        free(x->metadata);
        return ENGRAM_NOMEM;
    }
    f->n++;
    return ENGRAM_OK;
}

static void floor_free(struct floor *f)
{
    for (size_t i = 0; i < f->n; i++)
        eg_turn_clear(&f->v[i]);
    free(f->v);
    f->v = NULL;
    f->n = 0;
}

/* The floor's copy of turn id, or NULL. */
static const struct eg_turn *floor_find(const struct floor *f, const char *id)
{
    for (size_t i = 0; f->v && !f->over && i < f->n; i++)
        if (strcmp(f->v[i].id, id) == 0)
            return &f->v[i];
    return NULL;
}

/* 1 when word is one token of the index's tokenizer, spelled as the tokenizer folds it:
 * only then does matching its stem in memory find what an FTS5 query for it finds (a
 * WordNet lemma such as "o'clock" is a two-word phrase to FTS5). */
struct one_token {
    const char *w;
    size_t n;
    int count, same;
};

static int one_token_cb(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    struct one_token *o = arg;

    (void)start, (void)end;
    o->count++;
    o->same = n == o->n && !memcmp(tok, o->w, n);
    return 0;
}

static int is_one_token(const char *w)
{
    struct one_token o = {w, strlen(w), 0, 0};

    eg_words(w, o.n, one_token_cb, &o);
    return o.count == 1 && o.same;
}

static int floor_scan(engram *db, struct query *qq, const struct terms *q, struct cands *c,
                      struct scan_done *done)
{
    struct floor *f = &c->floor;
    struct match m[SCAN_MAX];
    size_t nword = 0, nsyn = 0;
    int rc = ENGRAM_OK, syn_ok = 1;

    if (!db->ops->turns_list)
        return ENGRAM_OK;
    if (!(f->v = malloc(SCAN_MAX * sizeof(*f->v)))) /* floor_turn fills each slot whole */
        return ENGRAM_NOMEM;
    for (size_t i = 0; i < qq->nscopes && rc == ENGRAM_OK && !f->over; i++)
        rc = db->ops->turns_list(db->store, qq->context, NULL, qq->scopes[i], INT64_MIN,
                                 SCAN_MAX + 1, floor_turn, f);
    if (rc != ENGRAM_OK || f->over)
        return rc;
    for (size_t i = 0; i < q->nsyn && syn_ok; i++)
        syn_ok = is_one_token(q->syn[i]);
    for (size_t i = 0; i < f->n; i++) {
        const struct eg_turn *t = &f->v[i];
        memset(&m[i], 0, sizeof(m[i]));
        m[i].q = q;
        if (qq->as_of && t->created_at > qq->as_of)
            continue; /* the search's "created_at <= as_of" */
        /* Content only, as the index holds it (not the speaker prefix of cand.match). */
        if ((rc = eg_stem_tokens(q->st, t->content, strlen(t->content), match_stem, &m[i])) !=
            ENGRAM_OK)
            return rc;
        nword += m[i].hit != 0;
        nsyn += m[i].synhit != 0;
    }
    done->words = nword <= TURN_CANDIDATES;
    done->syns = syn_ok && nsyn <= SYN_CANDIDATES;
    /* In the search's order as far as it matters: query-word hits, then synonym hits. */
    for (size_t i = 0; i < f->n && rc == ENGRAM_OK && done->words && q->n; i++)
        if (m[i].hit)
            rc = fts_cand(c, &f->v[i], 1.0);
    c->origin_syn = 1;
    for (size_t i = 0; i < f->n && rc == ENGRAM_OK && done->syns && q->nsyn; i++)
        if (m[i].synhit)
            rc = fts_cand(c, &f->v[i], 0);
    c->origin_syn = 0;
    return rc;
}

/* eg_attrs_sort's order, over candidates (at is the attribute's valid_from). */
static int by_attr_order(const void *a, const void *b)
{
    const struct cand *x = a, *y = b;
    struct eg_attr_key kx = {x->category, x->confidence, x->at, x->id},
                       ky = {y->category, y->confidence, y->at, y->id};

    return eg_attr_key_cmp(&kx, &ky);
}

/* Frees every candidate's fields and empties the list (its arrays are kept). */
static void cands_clear(struct cands *c)
{
    for (size_t i = 0; i < c->n; i++) {
        free(c->v[i].text);
        free(c->v[i].match);
        free(c->v[i].info);
        free(c->v[i].who);
    }
    c->n = 0;
    if (c->slot)
        memset(c->slot, 0, c->nslot * sizeof(*c->slot));
}

static int gather(engram *db, struct query *qq, struct terms *q, struct cands *c)
{
    struct eg_attr_filter f = {0};
    const char *words[MAX_QUERY_TERMS > MAX_SYNONYMS ? MAX_QUERY_TERMS : MAX_SYNONYMS];
    struct scan_done done = {0, 0};
    int rc;

    f.context = qq->context;
    f.scopes = (const char *const *)qq->scopes;
    f.nscopes = qq->nscopes;
    f.as_of = qq->as_of;
    /* The store's sort (category, confidence, ...) was a tenth of a context call on a
     * 1,000,000-attribute store, for the dozen rows a floor usually holds: sort them here
     * instead, the same way, unless there are more than ATTR_MAX, when the store's order
     * must choose which ATTR_MAX to keep. */
    f.unordered = 1;
    f.limit = ATTR_MAX + 1;
    rc = db->ops->attrs_query(db->store, &f, attr_cand, c);
    if (rc == ENGRAM_OK && c->n > ATTR_MAX) {
        cands_clear(c);
        f.unordered = 0;
        f.limit = ATTR_MAX;
        rc = db->ops->attrs_query(db->store, &f, attr_cand, c);
    } else if (rc == ENGRAM_OK && c->n > 1) {
        qsort(c->v, c->n, sizeof(c->v[0]), by_attr_order);
        rc = rehash(c, c->nslot); /* the id index points at the old positions */
    }
    if (rc == ENGRAM_OK && (q->n || q->nsyn))
        rc = floor_scan(db, qq, q, c, &done);
    if (rc == ENGRAM_OK && q->n && !done.words) {
        for (size_t i = 0; i < q->n; i++)
            words[i] = q->word[i];
        rc = db->ops->turns_search(db->store, qq->context, (const char *const *)qq->scopes,
                                   qq->nscopes, words, q->n, qq->as_of, TURN_CANDIDATES,
                                   fts_cand, c);
        /* The search above ranks by term frequency without rarity (fts_tf in
         * store_sqlite.c), so a common query word's hits can fill its LIMIT and crowd out
         * the few turns with the rare word that says what the question is about. Each term
         * also gets its own best PER_TERM_CANDIDATES. (A small floor needs none of this:
         * floor_scan found every hit of every term.) */
        for (size_t i = 0; rc == ENGRAM_OK && PER_TERM_CANDIDATES > 0 && q->n > 1 && i < q->n;
             i++)
            rc = db->ops->turns_search(db->store, qq->context, (const char *const *)qq->scopes,
                                       qq->nscopes, &words[i], 1, qq->as_of,
                                       PER_TERM_CANDIDATES, fts_cand, c);
    }
    if (rc == ENGRAM_OK && q->nsyn && !done.syns) {
        for (size_t i = 0; i < q->nsyn; i++)
            words[i] = q->syn[i];
        c->origin_syn = 1;
        rc = db->ops->turns_search(db->store, qq->context, (const char *const *)qq->scopes,
                                   qq->nscopes, words, q->nsyn, qq->as_of, SYN_CANDIDATES,
                                   fts_cand, c);
        c->origin_syn = 0;
    }
    if (rc == ENGRAM_OK && qq->qv && db->ops->vec_scan) {
        rc = vec_pass(c, qq->context, qq->scopes, qq->nscopes, qq->as_of, EG_VK_WV_ATTR, 0, 0,
                      qq->qv, qq->dim, VEC_FLOOR);
        if (rc == ENGRAM_OK)
            rc = vec_pass(c, qq->context, qq->scopes, qq->nscopes, qq->as_of, EG_VK_WV_TURN, 1,
                          0, qq->qv, qq->dim, VEC_FLOOR);
    }
    if (rc == ENGRAM_OK && qq->qe && db->ops->vec_scan) {
        rc = vec_pass(c, qq->context, qq->scopes, qq->nscopes, qq->as_of, EG_VK_EM_ATTR, 0, 1,
                      qq->qe, qq->edim, EMB_FLOOR);
        if (rc == ENGRAM_OK)
            rc = vec_pass(c, qq->context, qq->scopes, qq->nscopes, qq->as_of, EG_VK_EM_TURN, 1,
                          1, qq->qe, qq->edim, EMB_FLOOR);
    }
    /* The calling session's recent turns (they may add context to a terse follow-up). */
    if (rc == ENGRAM_OK && qq->session_id && db->ops->turns_near) {
        struct near nb = {c, 0, 1};
        rc = db->ops->turns_near(db->store, qq->context, qq->session_id, NULL, SESSION_RECENT,
                                 0, near_cand, &nb);
    }
    return rc;
}

/* overlap_masks for a turn candidate, also keeping its term counts and length for BM25. */
static int overlap_turn(const struct terms *q, struct cand *x)
{
    const char *text = x->match ? x->match : x->text;
    struct match m;

    memset(&m, 0, sizeof(m));
    m.q = q;
    eg_stem_tokens(q->st, text, strlen(text), match_stem, &m);
    x->hit = m.hit;
    x->synhit = m.synhit & ~m.hit;
    x->lexical = share(q, x->hit);
    x->synonym = share(q, x->synhit);
    memcpy(x->tf, m.tf, sizeof(x->tf));
    x->dl = m.tokens;
    x->words = m.words;
    return m.words;
}

/* Signals of every candidate that the scans did not fill (items written before vectors
 * existed, or a backend without stored vectors), then relevance. */
static void score_all(engram *db, struct query *qq, struct terms *q, struct cands *c)
{
    float *tmp = qq->qv ? malloc(sizeof(float) * (size_t)qq->dim) : NULL;
    double df[MAX_QUERY_TERMS] = {0}, nturns = 0, avgdl = 0;

    for (size_t i = 0; i < c->n; i++) {
        struct cand *x = &c->v[i];
        const char *m = x->match ? x->match : x->text;

        (void)m;
        if (x->kind != K_TURN)
            continue;
        overlap_turn(q, x);
        nturns++;
        avgdl += x->dl;
        for (size_t t = 0; t < q->n; t++)
            df[t] += (x->hit >> t) & 1;
    }
    /* Weight each query term by how rare it is among the turns found (an IDF over the
     * candidates): a word in every hit, such as the name of the person the whole history is
     * about, says little about which turn answers; the rare word says most. */
    for (size_t t = 0; t < q->n && nturns > 0; t++)
        q->w[t] = log((nturns + 1.0) / (df[t] + 0.5));
    for (size_t t = 0; t < q->n; t++)
        if (q->w[t] < 0.1)
            q->w[t] = 0.1;
    /* A word no candidate contains has the highest rarity weight of all, yet it tells no
     * candidate from another: at full weight it only lowers every share and pushes partial
     * matches under the floor. At half weight a question about something memory lacks
     * ("what is Melanie's zorblax") still leaves turns that only name Melanie below the
     * floor. (LoCoMo by this factor: 0 0.764, 0.1 0.764, 0.3 0.768, 0.5 0.767, 0.6 0.764,
     * 1 0.761; eval/RESULTS.md.) */
    for (size_t t = 0; t < q->n && nturns > 0; t++)
        if (df[t] == 0)
            q->w[t] *= UNSEEN_WEIGHT;
    /* BM25 (k1 1.2, b 0.75) of every turn candidate with those weights as IDF, computed
     * here rather than by the store so that turns found by vector or as neighbours are
     * scored on the same scale as full-text hits. */
    avgdl = nturns > 0 && avgdl > 0 ? avgdl / nturns : 20;
    c->avgdl = avgdl;
    c->max_bm25 = 0;
    for (size_t i = 0; i < c->n; i++) {
        struct cand *x = &c->v[i];
        double b = 0;
        if (x->kind != K_TURN)
            continue;
        for (size_t t = 0; t < q->n; t++)
            if (x->tf[t])
                b += q->w[t] * x->tf[t] * 2.2 /
                     (x->tf[t] + 1.2 * ((1 - BM25_B) + BM25_B * x->dl / avgdl));
        x->bm25 = b;
        if (b > c->max_bm25)
            c->max_bm25 = b;
    }
    for (size_t i = 0; i < c->n; i++) {
        struct cand *x = &c->v[i];
        const char *m = x->match ? x->match : x->text;

        x->lexical = share(q, x->hit);
        x->synonym = share(q, x->synhit);
        if (tmp && !x->has_vec && eg_vectors_embed(db->retr->vec, m, strlen(m), tmp) == ENGRAM_OK) {
            x->vector = eg_vec_cosine(qq->qv, tmp, qq->dim);
            x->has_vec = 1;
        }
        relevance(x, q, c->max_bm25, qq->qe != NULL);
    }
    free(tmp);
}

/* ---- excerpts ---------------------------------------------------------------------------- */

/*
 * A long turn is shown by its sentences that match the query (plus the sentence after a
 * very short one, so "Yes!" keeps what it says yes to), not whole: chat turns run to 40-100
 * tokens, and a 1,000-token context of whole turns holds ~25 of them, fewer than a question
 * spread over many sessions needs. The item still stands for the whole turn (same id, kind
 * "turn", created_at, metadata; engram_turns_get has the rest); only its "text" becomes the
 * excerpt, with "..." where sentences were left out. A turn that matched by vector or as a
 * neighbour, without any query word, keeps its opening sentences: an answer leads its reply.
 */
#ifndef EXCERPT_OVER
#define EXCERPT_OVER  30 /* turns estimated above this many tokens are cut */
#endif
#ifndef EXCERPT_MAX
#define EXCERPT_MAX   20 /* what the kept sentences may cost together, by the same estimate */
#endif
#ifndef EXCERPT_SHORT
#define EXCERPT_SHORT 8  /* a kept sentence under this also keeps the next one */
#endif
#define MAX_SENTENCES 64

static int span_tokens(const char *p, size_t n)
{
    char buf[1024];

    if (n >= sizeof(buf))
        return EXCERPT_MAX + 1; /* more than any excerpt budget: never split finer */
    memcpy(buf, p, n);
    buf[n] = '\0';
    return eg_tokens_estimate(buf);
}

/* Sentence spans of text: ends at a run of . ! ? followed by a space or the end, or at a
 * line break. Leading spaces are skipped. The last span takes whatever is left. */
static size_t sentences(const char *text, size_t *s0, size_t *s1)
{
    size_t n = strlen(text), ns = 0, i = 0;

    while (i < n && ns < MAX_SENTENCES) {
        size_t b, e;
        while (i < n && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t'))
            i++;
        if (i == n)
            break;
        b = i;
        if (ns == MAX_SENTENCES - 1) {
            e = n;
        } else {
            for (e = b; e < n; e++) {
                if (text[e] == '\n')
                    break;
                if (strchr(".!?", text[e])) {
                    while (e + 1 < n && strchr(".!?", text[e + 1]))
                        e++;
                    if (e + 1 == n || text[e + 1] == ' ') {
                        e++;
                        break;
                    }
                }
            }
        }
        while (e > b && (text[e - 1] == ' ' || text[e - 1] == '\t'))
            e--;
        s0[ns] = b;
        s1[ns++] = e;
        i = e;
    }
    return ns;
}

/* The excerpt of text for the query, malloc'd; NULL when the whole text is kept (short, one
 * sentence, or every sentence chosen) or on NOMEM (the whole text is then shown: a longer
 * context, never a wrong one). */
static char *excerpt(const struct terms *q, const char *text)
{
    size_t s0[MAX_SENTENCES], s1[MAX_SENTENCES], ns, order[MAX_SENTENCES], nkeep = 0;
    double sc[MAX_SENTENCES];
    int tok[MAX_SENTENCES], keep[MAX_SENTENCES] = {0}, used = 0;
    struct eg_buf b = {0};

    if (eg_tokens_estimate(text) <= EXCERPT_OVER)
        return NULL;
    ns = sentences(text, s0, s1);
    if (ns < 2)
        return NULL;
    for (size_t i = 0; i < ns; i++) {
        struct match m;
        memset(&m, 0, sizeof(m));
        m.q = q;
        eg_stem_tokens(q->st, text + s0[i], s1[i] - s0[i], match_stem, &m);
        /* Exact words by their rarity weight; a synonym counts W_SYN of one, as in ranking. */
        sc[i] = share(q, m.hit) + W_SYN * share(q, m.synhit & ~m.hit);
        tok[i] = span_tokens(text + s0[i], s1[i] - s0[i]);
        order[i] = i;
    }
    /* Best sentences first (insertion sort: a turn has a handful); ties keep text order. */
    for (size_t i = 1; i < ns; i++)
        for (size_t k = i; k > 0 && sc[order[k]] > sc[order[k - 1]]; k--) {
            size_t t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    if (sc[order[0]] > 0) {
        for (size_t k = 0; k < ns && sc[order[k]] > 0; k++) {
            size_t i = order[k];
            if (nkeep && used + tok[i] > EXCERPT_MAX)
                continue;
            keep[i] = 1, used += tok[i], nkeep++;
        }
    } else {
        for (size_t i = 0; i < ns && (!nkeep || used + tok[i] <= EXCERPT_MAX); i++)
            keep[i] = 1, used += tok[i], nkeep++;
    }
    for (size_t i = 0; i + 1 < ns; i++)
        if (keep[i] && tok[i] < EXCERPT_SHORT && !keep[i + 1] && used + tok[i + 1] <= EXCERPT_MAX)
            keep[i + 1] = 1, used += tok[i + 1], nkeep++;
    if (nkeep == ns)
        return NULL;
    for (size_t i = 0; i < ns; i++) {
        int rc = ENGRAM_OK;
        if (!keep[i])
            continue;
        if (i > 0 && !keep[i - 1])
            rc = eg_buf_puts(&b, b.p ? " ... " : "... ");
        else if (b.p)
            rc = eg_buf_puts(&b, " ");
        if (rc == ENGRAM_OK)
            rc = eg_buf_printf(&b, "%.*s", (int)(s1[i] - s0[i]), text + s0[i]);
        if (rc != ENGRAM_OK) {
            eg_buf_reset(&b);
            return NULL;
        }
    }
    if (!keep[ns - 1] && eg_buf_puts(&b, " ...") != ENGRAM_OK) {
        eg_buf_reset(&b);
        return NULL;
    }
    return eg_buf_detach(&b);
}

static void final_scores(struct cands *c)
{
    for (size_t i = 0; i < c->n; i++) {
        struct cand *x = &c->v[i];
        char *ex;

        if (x->kind == K_TURN && x->relevant && (ex = excerpt(c->q, x->text)) != NULL) {
            /* match keeps the whole turn (it is the turn's text when it has no speaker
             * prefix): the near-duplicate check below compares whole turns. */
            if (x->match)
                free(x->text);
            else
                x->match = x->text;
            x->text = ex;
        }
        x->score = x->relevant ? W_REL * x->relevance + W_REC * x->recency +
                                     W_IMP * x->importance + W_SES * x->session * x->relevance
                               : 0;
        x->tokens = eg_tokens_estimate(x->text) + ATTR_FRAMING;
        if (x->kind == K_TURN)
            x->tokens += 1 + eg_tokens_estimate(x->who ? x->who : x->role); /* ": " */
    }
}

/* Boost the session neighbours of the strongest turns. */
static int neighbours(engram *db, struct query *qq, struct cands *c)
{
    struct cand **all;
    size_t nseed = 0, nall = 0;
    int rc = ENGRAM_OK;

    if (!db->ops->turns_near || !c->n)
        return ENGRAM_OK;
    if (!(all = malloc(sizeof(*all) * c->n)))
        return ENGRAM_NOMEM;
    for (size_t i = 0; i < c->n; i++)
        if (c->v[i].kind == K_TURN && c->v[i].relevant && c->v[i].session_id[0])
            all[nall++] = &c->v[i];
    if (nall) /* qsort's base must not be NULL, even for zero items */
        qsort(all, nall, sizeof(*all), by_relevance);
    /* Copy the seeds' ids first: adding neighbours may move the candidate array. */
    struct {
        char id[EG_ID_MAX], session[EG_ID_MAX];
        double rel;
    } s[32];
    for (size_t i = 0; i < nall && nseed < NEIGHBOUR_SEEDS && nseed < 32; i++) {
        memcpy(s[nseed].id, all[i]->id, EG_ID_MAX);
        memcpy(s[nseed].session, all[i]->session_id, EG_ID_MAX);
        s[nseed++].rel = all[i]->relevance;
    }
    free(all);
    for (size_t i = 0; i < nseed && rc == ENGRAM_OK; i++) {
        struct near nb = {c, s[i].rel, 0};
        rc = db->ops->turns_near(db->store, qq->context, s[i].session, s[i].id, NEIGHBOUR_SPAN,
                                 NEIGHBOUR_SPAN, near_cand, &nb);
    }
    return rc;
}

int engram_context_query(engram *db, const engram_call *call, const char *context,
                         const char *session_id, const char *req_json, char **out_json)
{
    struct terms *q = NULL;
    struct cands c = {0};
    struct query qq = {0};
    struct sig *sigs = NULL;
    json_t *req = NULL;
    struct packed *pk = NULL; /* what is packed, best first */
    size_t npk = 0;
    char *scope = NULL;
    const char *query;
    int64_t top_k, max_tokens;
    size_t nsig = 0, ndates = 0;
    char(*dates)[16] = NULL;
    int rc, used = HEADER_RESERVE;

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
        (rc = eg_req_time(db, req, "as_of", &qq.as_of)) != ENGRAM_OK)
        goto cleanup;
    qq.context = context;
    qq.session_id = session_id;
    rc = eg_scope_floor_list(scope, eg_call(call)->scope_floor, &qq.scopes, &qq.nscopes);
    /* malloc, not calloc: the term arrays are 20 KB and only their first n rows are read. */
    if (rc != ENGRAM_OK || !(q = malloc(sizeof(*q)))) {
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    q->st = db->retr->stem;
    q->n = q->nsyn = 0;
    for (size_t t = 0; t < MAX_QUERY_TERMS; t++)
        q->w[t] = 1.0;
    if ((rc = eg_words(query, strlen(query), add_term, q)) != ENGRAM_OK ||
        (eg_retr_wordnet(db) && (rc = expand(db->retr->wn, q)) != ENGRAM_OK)) {
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    c.db = db;
    c.q = q;
    c.now = qq.as_of ? qq.as_of : eg_now_ms();
    if (eg_retr_vectors(db)) {
        qq.dim = db->retr->dim;
        if (!(qq.qv = malloc(sizeof(float) * (size_t)qq.dim))) {
            rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
            goto cleanup;
        }
        if (eg_vectors_embed(db->retr->vec, query, strlen(query), qq.qv) != ENGRAM_OK) {
            free(qq.qv);
            qq.qv = NULL;
        }
    }
    if (db->retr->emb) {
        char err[256];
        if (eg_embedder_embed(db->retr->emb, query, &qq.qe, &qq.edim, err, sizeof(err)) !=
                ENGRAM_OK &&
            !db->retr->emb_failed_logged) {
            db->retr->emb_failed_logged = 1;
            eg_log(db, "engram: %s; context runs without provider embeddings", err);
        }
    }
    if (q->n == 0 && !qq.qv && !qq.qe)
        goto answer; /* nothing to match: no memory is relevant */

    rc = gather(db, &qq, q, &c);
    if (rc == ENGRAM_OK) {
        score_all(db, &qq, q, &c);
        rc = neighbours(db, &qq, &c);
        /* Neighbours just added have no signals yet: score them like the rest (this keeps
         * the relevance they inherited from their seed when it is higher). */
        for (size_t i = 0; rc == ENGRAM_OK && i < c.n; i++) {
            struct cand *x = &c.v[i];
            if (x->kind == K_TURN && x->lexical == 0 && x->synonym == 0 && !x->has_vec &&
                x->session > 0) {
                overlap_turn(q, x);
                x->bm25 = 0;
                for (size_t t = 0; t < q->n; t++)
                    if (x->tf[t])
                        x->bm25 += q->w[t] * x->tf[t] * 2.2 /
                                   (x->tf[t] + 1.2 * ((1 - BM25_B) + BM25_B * x->dl / c.avgdl));
                if (qq.qv && db->retr->vec) {
                    float tmp[EG_EMBED_MAX_DIM / 4];
                    if (qq.dim <= (int)(sizeof(tmp) / sizeof(tmp[0])) &&
                        eg_vectors_embed(db->retr->vec, x->text, strlen(x->text), tmp) ==
                            ENGRAM_OK) {
                        x->vector = eg_vec_cosine(qq.qv, tmp, qq.dim);
                        x->has_vec = 1;
                    }
                }
                relevance(x, q, c.max_bm25, qq.qe != NULL);
                /* A neighbour with some content of its own shares its seed's topic; a bare
                 * "ok!" or "hi" does not earn a place. */
                if (x->words >= 3 && x->inherited > 0) {
                    x->relevant = 1;
                    if (x->relevance < x->inherited)
                        x->relevance = x->inherited;
                }
            }
        }
    }
    if (rc != ENGRAM_OK) {
        rc = rc == ENGRAM_NOMEM ? eg_err(db, rc, NULL, "out of memory")
                                : eg_err_store(db, rc, "context");
        goto cleanup;
    }
    final_scores(&c);
    if (c.n) /* qsort's base must not be NULL, even for zero items */
        qsort(c.v, c.n, sizeof(c.v[0]), by_score); /* the id index is stale from here on */
    if (!(sigs = calloc((size_t)top_k, sizeof(*sigs))) ||
        !(dates = calloc((size_t)top_k, sizeof(*dates))) ||
        !(pk = calloc((size_t)top_k, sizeof(*pk)))) {
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    /* Greedy packing, best first: skip near-duplicates of what is in, skip what does not
     * fit, stop at top_k. */
    for (size_t i = 0; i < c.n && (int64_t)npk < top_k; i++) {
        struct cand *x = &c.v[i];
        struct sig *s = &sigs[nsig];
        const char *whole;
        int dup = 0;

        char iso[EG_ISO_LEN] = "";
        const char *at = NULL;
        int extra = 0;

        if (x->score <= 0)
            break;
        /* A turn on a date not yet shown also pays for that date's line. */
        if (x->kind == K_TURN && x->at) {
            eg_iso_format(x->at, iso);
            at = iso;
            extra = DATE_HEADER;
            for (size_t k = 0; k < ndates && extra; k++)
                if (!strncmp(dates[k], at, 10))
                    extra = 0;
        }
        if (used + x->tokens + extra > max_tokens)
            continue;
        s->n = 0;
        /* A turn is judged whole (match), not by its excerpt: two different turns can cut
         * to look-alike excerpts and are still two pieces of evidence. */
        whole = x->kind == K_TURN && x->match ? x->match : x->text;
        eg_stem_tokens(q->st, whole, strlen(whole), sig_word, s);
        for (size_t k = 0; k < nsig && !dup; k++)
            dup = jaccard(s, &sigs[k]) >= NEAR_DUP;
        if (dup)
            continue;
        nsig++;
        used += x->tokens + extra;
        if (extra)
            snprintf(dates[ndates++], sizeof(dates[0]), "%.10s", at);
        pk[npk].x = x;
        memcpy(pk[npk++].iso, iso, sizeof(iso));
    }
answer:
    if (answer_json(pk, npk, qq.qe != NULL, out_json) != ENGRAM_OK)
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory writing the answer");
cleanup:
    cands_clear(&c);
    free(c.v);
    free(c.slot);
    floor_free(&c.floor);
    free(sigs);
    free(dates);
    free(pk);
    free(qq.qv);
    free(qq.qe);
    free(q);
    eg_scope_list_free(qq.scopes, qq.nscopes);
    free(scope);
    json_decref(req);
    return eg_leave(db, rc);
}
