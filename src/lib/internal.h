/*
 * internal.h - types shared inside libengram: the handle, per-thread error state, and the
 * helpers every module uses to set errors, make ids and read request fields.
 */
#ifndef EG_INTERNAL_H
#define EG_INTERNAL_H

#include <pthread.h>
#include <stdint.h>

#include <jansson.h>

#include "engram.h"
#include "lib/store.h"
#include "util/isotime.h"

#define EG_MAGIC_OPEN   0x656e6772u /* "engr" */
#define EG_MAGIC_CLOSED 0x64656164u /* "dead" */

/* The last error of one thread on one handle (engram_errmsg is per thread). */
struct eg_err {
    pthread_t thread;
    int code;
    char name[48];
    char msg[512];
    struct eg_err *next;
};

struct eg_pend;      /* ingest.c: one queued turn */
struct eg_stemmer;   /* stem.h */
#define EG_STEMMERS 16
struct eg_retrieval; /* retrieve.c: word vectors, WordNet, stemmer settings */

struct engram {
    unsigned magic;
    pthread_mutex_t mu;     /* serialises store access: one connection, one writer */
    pthread_mutex_t err_mu; /* guards the errs list only */
    struct eg_err *errs;
    const struct eg_store_ops *ops;
    struct eg_store *store;
    engram_options opt;
    char *data_dir;
    engram_log_fn log;
    void *log_arg;
    uint64_t ulid_last_ms; /* monotonic ids within a millisecond */
    unsigned char ulid_last_rand[10];
    struct eg_retrieval *retr;
    /* the background worker draining async extraction jobs */
    pthread_t worker;
    int worker_running;
    int worker_stop;
    pthread_cond_t worker_cv;
    /* group commit of turn ingest (ingest.c) */
    pthread_mutex_t ingest_mu;
    struct eg_pend *ingest_head, **ingest_tail;
    int ingest_leader;
    struct eg_ent_memo *ent_memo; /* set while the ingest leader's transaction is open */
    /* the syncer: fsyncs the log of commit_async batches and answers their callers */
    pthread_t syncer;
    int syncer_running, syncer_stop;
    pthread_cond_t syncer_cv;
    struct eg_pend *sync_head, **sync_tail; /* requests committed, awaiting the fsync */
    int sync_failed; /* a log_sync failed: no more ingest on this handle */
    /* stemmers that ingest tokenizes turns with before the lock (ingest.c) */
    pthread_mutex_t stem_mu;
    struct eg_stemmer *stemmers[EG_STEMMERS];
    int nstemmers;
};

/*
 * Entities resolve found or created in the ingest leader's open transaction: a batch names
 * the same few entities (its users) once per fact, and each lookup was a B-tree descent in
 * the serial section. Only ingest writes run in that transaction and none deletes an
 * entity, so an entry holds until the transaction ends; ingest resets the memo at every
 * begin (a rollback may have removed an entity it created).
 */
#define EG_ENT_MEMO 32
struct eg_ent_memo {
    unsigned next; /* the slot to fill next (round robin) */
    struct {
        char *key; /* context \x1f scope \x1f type \x1f name; NULL when empty */
        char id[EG_ID_MAX];
    } v[EG_ENT_MEMO];
};
void eg_ent_memo_reset(struct eg_ent_memo *m);

/* Record an error for this thread and return rc (so: `return eg_err(db, rc, ...)`). name
 * NULL uses the status name. */
int eg_err(engram *db, int rc, const char *name, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Record a store failure: the backend's message with a prefix. */
int eg_err_store(engram *db, int rc, const char *what);
void eg_err_clear(engram *db);
void eg_log(engram *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- ids (ids.c) ---- */
/* Write prefix + "_" + a ULID (26 chars, lower-case Crockford base32) into out
 * (EG_ID_MAX bytes). Monotonic per handle; call with db->mu held. */
void eg_id_new(engram *db, const char *prefix, char *out);


/* ---- scopes (scope.c) ---- */
#define EG_SCOPE_MAX_DIMS 8
/* Parse a scope from a JSON value (object or path string) into its canonical path
 * (malloc'd). On error sets db's error (name "invalid_scope") and returns ENGRAM_INVALID. */
int eg_scope_from_json(engram *db, const json_t *v, char **out_path);
/* Parse from text: a JSON object text or a path. */
int eg_scope_from_text(engram *db, const char *text, char **out_path);
/* {"org":"acme","user":"alice"} for a canonical path; NULL on NOMEM. */
json_t *eg_scope_to_json(const char *path);
/* The same object written as text (as json_dumps would write it) onto b. */
struct eg_buf;
int eg_scope_write(struct eg_buf *b, const char *path);
/* The scopes a read at path sees (every non-empty subset of its dimensions) that also
 * contain floor (NULL = no floor). *out is an array of malloc'd paths, free with
 * eg_scope_list_free. */
int eg_scope_floor_list(const char *path, const char *floor, char ***out, size_t *out_n);
void eg_scope_list_free(char **list, size_t n);
/* The value of one dimension in a canonical path (malloc'd), or NULL. */
char *eg_scope_dim(const char *path, const char *name);

/* ---- request helpers (api.c) ---- */
/* Parse a request body; must be a JSON object. */
int eg_req_parse(engram *db, const char *req_json, json_t **out);
/* Optional string field: *out NULL when absent; error when present and not a string. */
int eg_req_str(engram *db, const json_t *req, const char *field, int required,
               const char **out);
int eg_req_int(engram *db, const json_t *req, const char *field, int64_t lo, int64_t hi,
               int64_t dflt, int64_t *out);
int eg_req_bool(engram *db, const json_t *req, const char *field, int dflt, int *out);
/* Optional ISO-8601 time field. */
int eg_req_time(engram *db, const json_t *req, const char *field, int64_t *out);
/* How answers are written: compact, and reals with 6 significant digits (a confidence of
 * 0.9 reads "0.9", not "0.90000000000000002"). Exports keep full precision instead, so an
 * import reproduces every stored double exactly. */
#define EG_JSON_ANSWER (JSON_COMPACT | JSON_REAL_PRECISION(6))
/* Dump a JSON value to a malloc'd string (compact, UTF-8). Steals the reference. */
int eg_json_out(engram *db, json_t *v, char **out_json);
/* ISO-8601 string of ms (json string), or json null for 0. */
json_t *eg_json_time(int64_t ms);

/* ---- JSON shapes shared by modules ---- */
json_t *eg_session_json(const struct eg_session *s, int64_t turn_count);
json_t *eg_turn_json(const struct eg_turn *t);
/* eg_turn_json's object written as text, byte for byte what json_dumps(..., EG_JSON_ANSWER)
 * writes for it (ingest answers every turn; building and dumping a json_t cost a third of
 * the write lock's time per turn). */
int eg_turn_write(struct eg_buf *b, const struct eg_turn *t);
/* Its two halves: the members the store assigns (id, session_id, context, scope), and the
 * rest, closing brace included (ingest writes the rest before taking the write lock). */
int eg_turn_write_head(struct eg_buf *b, const struct eg_turn *t);
int eg_turn_write_tail(struct eg_buf *b, const struct eg_turn *t);
/* A record's stored metadata text as answers write it: compact, reals with 6 significant
 * digits; "{}" when absent or unreadable. */
int eg_meta_write(struct eg_buf *b, const char *text);
json_t *eg_attr_json(const struct eg_attr *a);
/* eg_attr_json's object written as text, the bytes json_dumps(..., EG_JSON_ANSWER) writes. */
int eg_attr_write(struct eg_buf *b, const struct eg_attr *a);
json_t *eg_audit_json(const struct eg_audit *a);

/* ---- audit ---- */
/* Append one audit entry in the current transaction. detail is stolen (may be NULL). */
int eg_audit(engram *db, const engram_call *call, const char *context, const char *scope,
             const char *action, const char *target, json_t *detail);
/* The same with the detail already written as compact JSON text (may be NULL): the hot
 * paths of ingest write theirs with eg_buf instead of building and dumping a json_t. */
int eg_audit_text(engram *db, const engram_call *call, const char *context, const char *scope,
                  const char *action, const char *target, const char *detail);

/* ---- checks on the caller's floor (api.c) ---- */
int eg_check_floor(engram *db, const engram_call *call, const char *scope);

/* ---- memory model (resolve.c) ---- */
/* Extract and resolve one stored turn, inside the caller's transaction. Appends one
 * object per fact to diff, as JSON text separated by commas (the inside of an array), and
 * the objects of the facts that changed the store to changes, likewise: the caller writes
 * them into one audit entry (its turn's, or its job's). */
int eg_resolve_turn(engram *db, const struct eg_turn *turn, struct eg_buf *diff,
                    struct eg_buf *changes);
/* The two halves of eg_resolve_turn. Extraction reads only the turn, so ingest runs it on
 * the caller's thread before the write lock (empty facts for non-user turns); resolving
 * reads and writes the store inside the transaction. */
struct eg_facts;
int eg_extract_turn(engram *db, const struct eg_turn *turn, struct eg_facts *out);
struct eg_item_vecs;
/* vecs: NULL, or two per fact (its value's and its previous value's attribute vectors, from
 * eg_retrieval_vecs_attr), computed before the lock. */
int eg_resolve_facts(engram *db, const struct eg_turn *turn, const struct eg_facts *facts,
                     const struct eg_item_vecs *vecs, struct eg_buf *diff,
                     struct eg_buf *changes);

/* ---- ingest (ingest.c) ---- */
/* Stop the syncer thread, if one started; no ingest call may be in flight. */
void eg_syncer_stop(engram *db);
/* Free the handle's pooled stemmers (at close). */
void eg_stemmers_free(engram *db);

/* ---- worker (worker.c) ---- */
int eg_worker_start(engram *db);
void eg_worker_stop(engram *db);
void eg_worker_wake(engram *db);

/* ---- retrieval (retrieve.c) ---- */
int eg_retrieval_init(engram *db);
void eg_retrieval_free(engram *db);
/* Store the retrieval vectors of a turn or attribute just written, in the caller's
 * transaction (retrieve_signals.c). A no-op when the backend has no vec_put or no vector
 * source is configured; a failing embedding provider is logged, not an error. */
int eg_retrieval_index_turn(engram *db, const struct eg_turn *t);
int eg_retrieval_index_attr(engram *db, const struct eg_attr *a);
/* The same in two halves, so ingest can compute vectors on its callers' threads, outside the
 * write lock (the embedding provider is a network round trip), and only store them inside.
 * eg_retrieval_vecs* need no store and must be called WITHOUT db->mu (they take it once to
 * load the vector file); eg_retrieval_index_* are called with it. An absent signal leaves
 * its part NULL. */
struct eg_item_vecs {
    int8_t *wv; /* offline word vector (wv_dim int8), NULL when off */
    int wv_dim;
    float wv_scale;
    int8_t *em; /* provider embedding, NULL when off or failed */
    int em_dim;
    float em_scale;
};
int eg_retrieval_vecs(engram *db, const char *text, struct eg_item_vecs *out);
int eg_retrieval_vecs_attr(engram *db, const char *key, const char *value,
                           struct eg_item_vecs *out);
void eg_item_vecs_clear(struct eg_item_vecs *v);
int eg_retrieval_put_turn(engram *db, const struct eg_turn *t, const struct eg_item_vecs *v);
int eg_retrieval_put_attr(engram *db, const struct eg_attr *a, const struct eg_item_vecs *v);

#endif
