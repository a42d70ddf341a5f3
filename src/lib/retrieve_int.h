/*
 * retrieve_int.h - shared by the retrieval files: retrieve.c (the context query: candidates,
 * fusion, diversity, packing), retrieve_signals.c (the handle's retrieval state: stemmer,
 * WordNet, word vectors, the optional embedding provider, and item vectors written at
 * ingest) and embed_http.c (the OpenAI-compatible /v1/embeddings client).
 */
#ifndef EG_RETRIEVE_INT_H
#define EG_RETRIEVE_INT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/internal.h"

/* Kinds of stored item vectors (store.h vec_put/vec_scan). "wv" = offline word vectors,
 * "em" = the embedding provider's vectors. */
#define EG_VK_WV_TURN "wv:turn"
#define EG_VK_WV_ATTR "wv:attr"
#define EG_VK_EM_TURN "em:turn"
#define EG_VK_EM_ATTR "em:attr"

#define EG_EMBED_MAX_DIM 4096

struct eg_embedder; /* embed_http.c */
struct eg_wordnet;
struct eg_vectors;
struct eg_stemmer;

/* The handle's retrieval state (db->retr). Everything here is used under db->mu. Data
 * files are loaded on first use, so engram_open() stays fast for callers that never ask
 * for context, and a missing file is logged once per handle. */
struct eg_retrieval {
    struct eg_stemmer *stem;
    int wn_tried, vec_tried;
    atomic_int vec_ready; /* set (release) once vec/dim are final: readable without db->mu */
    struct eg_wordnet *wn;  /* NULL: synonyms off */
    struct eg_vectors *vec; /* NULL: word vectors off */
    int dim;                /* word-vector dimensions (0 when off) */
    struct eg_embedder *emb; /* NULL unless engram_options.embed_url */
    atomic_int emb_failed_logged;
};

/* The word vectors, loading them on first use; NULL when absent (logged once). */
struct eg_vectors *eg_retr_vectors(engram *db);
/* WordNet, loading it on first use; NULL when absent (logged once). */
struct eg_wordnet *eg_retr_wordnet(engram *db);

/*
 * The text an attribute is matched and embedded by: its key in words, its value and the
 * vocabulary's phrase ("location London They live in London."), so natural phrasing
 * ("where does she live") reaches it. Appends to b; ENGRAM_OK or ENGRAM_NOMEM.
 */
struct eg_buf;
int eg_retr_attr_match_text(const char *key, const char *value, struct eg_buf *b);

/* ---- embedding provider (embed_http.c) ---- */

/* A client for url (a base like http://host/v1, or the full .../embeddings URL), model and
 * key (either may be NULL); dim 0 = take the dimension from the first answer. NULL on
 * NOMEM or when curl cannot start. */
struct eg_embedder *eg_embedder_new(const char *url, const char *model, const char *key,
                                    int dim);
void eg_embedder_free(struct eg_embedder *e);
/* The provider's dimension, 0 until known. */
int eg_embedder_dim(struct eg_embedder *e);
/*
 * Embeds one text into a malloc'd unit vector *out of *out_dim floats. ENGRAM_OK;
 * ENGRAM_UNAVAILABLE when the endpoint fails or times out; ENGRAM_INVALID when the answer is
 * malformed or its dimension differs from the configured/first one (err says which).
 */
int eg_embedder_embed(struct eg_embedder *e, const char *text, float **out, int *out_dim,
                      char *err, size_t errlen);

#endif
