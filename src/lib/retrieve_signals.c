/*
 * retrieve_signals.c - the handle's retrieval state and the work done at write time.
 *
 * Owns struct eg_retrieval: the Snowball stemmer, WordNet (synonyms), the offline word
 * vectors and the optional embedding provider. Data files are found as follows, and loaded
 * on first use so that engram_open() costs nothing for callers that never ask for context:
 *
 *   data dir   engram_options.data_dir, else $ENGRAM_DATA, else ./data (relative to the
 *              working directory, where `make data` puts it)
 *   vectors    <data dir>/vectors.bin (scripts/data.sh makes it)
 *   WordNet    <data dir>/wordnet/ when it holds index.noun, else /usr/share/wordnet
 *              (Debian wordnet-base); parsed once into <data dir>/wordnet.cache
 *
 * A missing file is said once in the handle's log and its signal is simply off.
 *
 * At write time (a turn ingested or imported, an attribute written) the item's word-vector
 * and, when configured, provider embedding are stored through the store's vec_put, so a
 * context query reads vectors instead of computing them. Backends without vec_put skip
 * this; retrieve.c then embeds candidates at query time.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/retrieve_int.h"
#include "lib/stem.h"
#include "lib/vectors.h"
#include "lib/vocab.h"
#include "lib/wordnet.h"
#include "util/buf.h"

#define SYSTEM_WORDNET "/usr/share/wordnet"

int eg_retrieval_init(engram *db)
{
    db->retr = calloc(1, sizeof(*db->retr));
    if (!db->retr || !(db->retr->stem = eg_stemmer_new())) {
        free(db->retr);
        db->retr = NULL;
        return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
    }
    if (db->opt.embed_url && *db->opt.embed_url) {
        db->retr->emb = eg_embedder_new(db->opt.embed_url, db->opt.embed_model,
                                        db->opt.embed_api_key, db->opt.embed_dim);
        if (!db->retr->emb)
            eg_log(db, "engram: cannot set up the embedding client for %s; embeddings off",
                   db->opt.embed_url);
    }
    return ENGRAM_OK;
}

void eg_retrieval_free(engram *db)
{
    if (!db->retr)
        return;
    eg_stemmer_free(db->retr->stem);
    eg_wordnet_close(db->retr->wn);
    eg_vectors_close(db->retr->vec);
    eg_embedder_free(db->retr->emb);
    free(db->retr);
    db->retr = NULL;
}

static const char *data_dir(engram *db)
{
    return db->data_dir && *db->data_dir ? db->data_dir : "data";
}

struct eg_vectors *eg_retr_vectors(engram *db)
{
    struct eg_retrieval *r = db->retr;
    char path[1024];
    int rc;

    if (r->vec_tried)
        return r->vec;
    r->vec_tried = 1;
    snprintf(path, sizeof(path), "%s/vectors.bin", data_dir(db));
    rc = eg_vectors_open(path, &r->vec);
    if (rc == ENGRAM_OK) {
        r->dim = eg_vectors_dim(r->vec);
    } else {
        r->vec = NULL;
        eg_log(db, "engram: word vectors %s (%s); vector signal off (run `make data`)", path,
               rc == ENGRAM_NOTFOUND ? "not found" : engram_errstr(rc));
    }
    atomic_store_explicit(&r->vec_ready, 1, memory_order_release);
    return r->vec;
}

/* The word vectors from a thread that does not hold db->mu (ingest's callers): the first
 * load happens under db->mu like every other; afterwards vec and dim never change. */
static struct eg_vectors *vectors_unlocked(engram *db)
{
    struct eg_retrieval *r = db->retr;

    if (!atomic_load_explicit(&r->vec_ready, memory_order_acquire)) {
        pthread_mutex_lock(&db->mu);
        eg_retr_vectors(db);
        pthread_mutex_unlock(&db->mu);
    }
    return r->vec;
}

struct eg_wordnet *eg_retr_wordnet(engram *db)
{
    struct eg_retrieval *r = db->retr;
    char dir[1024], probe[1100], cache[1100];
    int rc;

    if (r->wn_tried)
        return r->wn;
    r->wn_tried = 1;
    snprintf(dir, sizeof(dir), "%s/wordnet", data_dir(db));
    snprintf(probe, sizeof(probe), "%s/index.noun", dir);
    if (access(probe, R_OK) != 0)
        snprintf(dir, sizeof(dir), "%s", SYSTEM_WORDNET);
    /* The cache lives beside the vectors; a data dir that does not exist (or is read-only)
     * only means WordNet is parsed on every open. */
    snprintf(cache, sizeof(cache), "%s/wordnet.cache", data_dir(db));
    rc = eg_wordnet_open_cached(dir, access(data_dir(db), W_OK) == 0 ? cache : NULL, &r->wn);
    if (rc != ENGRAM_OK) {
        r->wn = NULL;
        eg_log(db, "engram: WordNet in %s (%s); synonym signal off (apt-get install "
                   "wordnet-base)",
               dir, rc == ENGRAM_NOTFOUND ? "not found" : engram_errstr(rc));
    }
    return r->wn;
}

/*
 * Topic words per vocabulary key: the situations in which a fact of that kind matters,
 * so that "recommend a restaurant" reaches "allergies: shellfish" and "what's the weather
 * like" reaches "location: Seattle" even when no word of the query is in the fact. They
 * are matched lexically and embedded with the attribute. Keys not listed have none.
 */
static const struct {
    const char *key, *topics;
} key_topics[] = {
    {"role", "job work career profession occupation colleagues"},
    {"employer", "job work company office career colleagues"},
    {"team", "work job colleagues"},
    {"location", "home city area local nearby neighborhood weather climate"},
    {"hometown", "grew up childhood origin"},
    {"age", "old birthday"},
    {"birthday", "celebrate party"},
    {"education", "school university degree studies"},
    {"family", "family relatives kids children spouse gift"},
    {"pets", "pet animal vet"},
    {"diet", "food eat meal cook recipe restaurant dinner lunch snack"},
    {"allergies", "allergy food eat meal cook recipe restaurant dinner lunch snack health"},
    {"languages", "language speak"},
    {"expertise", "skills work"},
    {"programming_languages", "code programming software"},
    {"tools", "software app computer"},
    {"learning", "study course lessons practice"},
    {"projects", "work project"},
    {"trips", "travel trip vacation holiday"},
    {"tasks", "todo remind"},
};

int eg_retr_attr_match_text(const char *key, const char *value, struct eg_buf *b)
{
    const struct eg_vocab_key *vk = eg_vocab_find(key);
    int rc = ENGRAM_OK;

    for (size_t i = 0; i < sizeof(key_topics) / sizeof(key_topics[0]); i++) {
        if (strcmp(key_topics[i].key, key) == 0) {
            rc = eg_buf_puts(b, key_topics[i].topics);
            if (rc == ENGRAM_OK)
                rc = eg_buf_append(b, " ", 1);
            break;
        }
    }

    for (const char *p = key; *p && rc == ENGRAM_OK; p++)
        rc = eg_buf_append(b, *p == '_' ? " " : p, 1);
    if (rc == ENGRAM_OK)
        rc = eg_buf_append(b, " ", 1);
    if (rc == ENGRAM_OK)
        rc = eg_buf_puts(b, value);
    if (rc == ENGRAM_OK && vk && vk->phrase) {
        /* The phrase is a trusted "%s" template from vocab.c; fill it by hand so no
         * format string ever comes from data. */
        const char *s = strstr(vk->phrase, "%s");
        rc = eg_buf_puts(b, " ");
        if (rc == ENGRAM_OK && s) {
            rc = eg_buf_append(b, vk->phrase, (size_t)(s - vk->phrase));
            if (rc == ENGRAM_OK)
                rc = eg_buf_puts(b, value);
            if (rc == ENGRAM_OK)
                rc = eg_buf_puts(b, s + 2);
        } else if (rc == ENGRAM_OK) {
            rc = eg_buf_puts(b, vk->phrase);
        }
    }
    return rc;
}

void eg_item_vecs_clear(struct eg_item_vecs *v)
{
    free(v->wv);
    free(v->em);
    memset(v, 0, sizeof(*v));
}

/* locked: the caller holds db->mu (index_*), else it must not (ingest's prepare). */
static int item_vecs(engram *db, const char *text, int locked, struct eg_item_vecs *out)
{
    struct eg_retrieval *r = db->retr;
    struct eg_vectors *v;

    memset(out, 0, sizeof(*out));
    if (!r || !db->ops->vec_put)
        return ENGRAM_OK;
    v = locked ? eg_retr_vectors(db) : vectors_unlocked(db);
    if (v && r->dim <= EG_EMBED_MAX_DIM / 4) {
        float f[EG_EMBED_MAX_DIM / 4];

        if (eg_vectors_embed(v, text, strlen(text), f) == ENGRAM_OK) {
            if (!(out->wv = malloc((size_t)r->dim)))
                return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
            eg_vec_quantize(f, r->dim, out->wv, &out->wv_scale);
            out->wv_dim = r->dim;
        }
    }
    if (r->emb) {
        char err[256] = "";
        float *e = NULL;
        int dim = 0;
        int erc = eg_embedder_embed(r->emb, text, &e, &dim, err, sizeof(err));

        if (erc == ENGRAM_OK) {
            if (!(out->em = malloc((size_t)dim))) {
                free(e);
                eg_item_vecs_clear(out);
                return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
            }
            eg_vec_quantize(e, dim, out->em, &out->em_scale);
            out->em_dim = dim;
            free(e);
        } else if (erc == ENGRAM_NOMEM) {
            eg_item_vecs_clear(out);
            return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        } else if (!atomic_exchange(&r->emb_failed_logged, 1)) {
            /* The write still succeeds: embeddings are an optional signal, and a turn must
             * never be lost because a remote model is down. */
            eg_log(db, "engram: %s; items written now have no provider embedding", err);
        }
    }
    return ENGRAM_OK;
}

static int attr_vecs(engram *db, const char *key, const char *value, int locked,
                     struct eg_item_vecs *out)
{
    struct eg_buf b = {0};
    int rc = eg_retr_attr_match_text(key, value, &b);

    if (rc == ENGRAM_OK)
        rc = item_vecs(db, b.p ? b.p : "", locked, out);
    else
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
    eg_buf_reset(&b);
    return rc;
}

int eg_retrieval_vecs(engram *db, const char *text, struct eg_item_vecs *out)
{
    return item_vecs(db, text, 0, out);
}

int eg_retrieval_vecs_attr(engram *db, const char *key, const char *value,
                           struct eg_item_vecs *out)
{
    return attr_vecs(db, key, value, 0, out);
}

/* Store an item's vectors, in the caller's transaction. */
static int put_vecs(engram *db, const char *context, const char *scope, const char *id,
                    const char *wv_kind, const char *em_kind, int64_t at,
                    const struct eg_item_vecs *v)
{
    int rc;

    if (v->wv && (rc = db->ops->vec_put(db->store, context, scope, id, wv_kind, at, v->wv,
                                        v->wv_dim, v->wv_scale)) != ENGRAM_OK)
        return eg_err_store(db, rc, "item vector");
    if (v->em && (rc = db->ops->vec_put(db->store, context, scope, id, em_kind, at, v->em,
                                        v->em_dim, v->em_scale)) != ENGRAM_OK)
        return eg_err_store(db, rc, "item embedding");
    return ENGRAM_OK;
}

int eg_retrieval_put_turn(engram *db, const struct eg_turn *t, const struct eg_item_vecs *v)
{
    return put_vecs(db, t->context, t->scope, t->id, EG_VK_WV_TURN, EG_VK_EM_TURN,
                    t->created_at, v);
}

int eg_retrieval_put_attr(engram *db, const struct eg_attr *a, const struct eg_item_vecs *v)
{
    return put_vecs(db, a->context, a->scope, a->id, EG_VK_WV_ATTR, EG_VK_EM_ATTR,
                    a->valid_from, v);
}

int eg_retrieval_index_turn(engram *db, const struct eg_turn *t)
{
    struct eg_item_vecs v;
    int rc = item_vecs(db, t->content, 1, &v);

    if (rc == ENGRAM_OK)
        rc = eg_retrieval_put_turn(db, t, &v);
    eg_item_vecs_clear(&v);
    return rc;
}

int eg_retrieval_index_attr(engram *db, const struct eg_attr *a)
{
    struct eg_item_vecs v;
    int rc = attr_vecs(db, a->key, a->value, 1, &v);

    if (rc == ENGRAM_OK)
        rc = eg_retrieval_put_attr(db, a, &v);
    eg_item_vecs_clear(&v);
    return rc;
}
