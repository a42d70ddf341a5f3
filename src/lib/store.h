/*
 * store.h - the storage interface: one struct eg_store_ops per backend (sqlite3_vfs,
 * curl's struct Curl_ssl). Everything above it (api.c, resolve.c, retrieve.c, profile.c,
 * porting.c) speaks only these operations, so a second backend is one more file plus a
 * row in eg_store_backends[], never #ifdefs in the modules.
 *
 * Conventions for every operation:
 *   - return ENGRAM_OK or a status code, with a message written through eg_store_err();
 *   - scopes are canonical paths (scope.c); times are int64 ms since the epoch (UTC);
 *     0 in valid_until means "still active";
 *   - row structs passed to callbacks are borrowed for the callback only; rows returned
 *     through out-params are the caller's, released with the matching eg_*_clear();
 *   - a store handle is used by one thread at a time (api.c serialises calls); the
 *     backend needs no locking of its own.
 */
#ifndef EG_STORE_H
#define EG_STORE_H

#include <stddef.h>
#include <stdint.h>

#define EG_ID_MAX 48 /* "turn_" + 26-char ULID, or an imported id up to 47 bytes */

struct eg_store; /* backend-private */

struct eg_session {
    char id[EG_ID_MAX];
    char *context;
    char *scope;
    int64_t created_at;
    char *metadata; /* JSON object text */
};

struct eg_fts_doc;

struct eg_turn {
    char id[EG_ID_MAX];
    char session_id[EG_ID_MAX]; /* "" for a session-less turn */
    char *context;
    char *scope;
    char role[16];
    char *content;
    int64_t created_at;
    int64_t recorded_at;
    char *metadata; /* JSON object text */
    /* Optional, for turn_put: content's full-text tokens made before the write lock, when
     * the backend's fts_tokens says it uses them (stem.h); must live until the commit. */
    const struct eg_fts_doc *fts;
};

struct eg_entity {
    char id[EG_ID_MAX];
    char *context;
    char *scope;
    char *type;
    char *name;
    int64_t created_at;
};

struct eg_attr {
    char id[EG_ID_MAX];
    char *context;
    char *scope;
    char entity_id[EG_ID_MAX];
    char *entity_type; /* filled by reads (joined from entities) */
    char *entity_name;
    char *category;
    char *key;
    char *value;
    double confidence;
    double importance;
    char source_turn[EG_ID_MAX];
    int64_t valid_from;
    int64_t valid_until; /* 0 = active */
    int64_t recorded_at;
    char supersedes[EG_ID_MAX];
};

struct eg_audit {
    char id[EG_ID_MAX];
    char *context;
    char *scope;
    int64_t at;
    char *actor;
    char *action; /* "turn", "extract", "forget", "erase", "import", "key_create", ... */
    char *target; /* the id acted on, or "" */
    char *detail; /* JSON object text */
    char *request_id;
};

struct eg_job {
    int64_t rid;
    char *context;
    char turn_id[EG_ID_MAX];
    int attempts;
};

struct eg_key {
    char id[EG_ID_MAX];
    char *context;
    char *scope_floor; /* "" = none */
    char *grants;      /* comma list */
    unsigned char hash[32];
    int64_t created_at;
    int64_t revoked_at;
};

/* Which attributes a read wants. NULL/0 fields do not filter. */
struct eg_attr_filter {
    const char *context;
    const char *const *scopes; /* the read's floor: exact scope paths to include */
    size_t nscopes;
    const char *entity_id; /* set: the rows' entity_type and entity_name may be empty */
    const char *entity_type;
    const char *entity_name;
    const char *key;
    const char *category;
    const char *value; /* exact, case-insensitive */
    int include_expired;
    int64_t as_of; /* nonzero: valid_from <= as_of < valid_until (or active) */
    const char *id;
    int limit;     /* 0 = no limit */
    int unordered; /* rows in any order (the caller sorts): spares the store a sort */
};

#define EG_TX_ASYNC 2

/* Counts of what an erase removed. */
struct eg_counts {
    int64_t sessions, turns, entities, attributes, audit, jobs;
};

typedef int (*eg_session_cb)(void *arg, const struct eg_session *s);
typedef int (*eg_turn_cb)(void *arg, const struct eg_turn *t, double score);
typedef int (*eg_attr_cb)(void *arg, const struct eg_attr *a);
typedef int (*eg_entity_cb)(void *arg, const struct eg_entity *e);
typedef int (*eg_audit_cb)(void *arg, const struct eg_audit *a);
typedef int (*eg_key_cb)(void *arg, const struct eg_key *k);
typedef int (*eg_scope_cb)(void *arg, const char *scope);
/* One stored item vector: v[dim] * scale approximates the item's unit vector. */
typedef int (*eg_vec_cb)(void *arg, const char *item_id, const int8_t *v, int dim, float scale);

struct eg_store_ops {
    const char *name;                 /* "sqlite", "postgresql" */
    int (*accepts)(const char *uri);  /* 1 when this backend opens uri */
    int (*open)(const char *uri, int busy_timeout_ms, struct eg_store **out, char *err,
                size_t errlen);
    void (*close)(struct eg_store *s);
    const char *(*errmsg)(struct eg_store *s); /* text of the last failure */

    /* write: 0 a read transaction, 1 a write, EG_TX_ASYNC a write to be committed with
     * commit_async (as 1 where there is none). */
    int (*begin)(struct eg_store *s, int write);
    int (*commit)(struct eg_store *s);
    void (*rollback)(struct eg_store *s); /* safe when no transaction is open */
    /* Optional (NULL: commit is always durable). commit_async commits without waiting for
     * its log to reach the disk; log_sync makes every commit before it durable and may run
     * on another thread while the handle is in use (ingest.c overlaps it with the next
     * batch). A commit_async is acknowledged to nobody until a later log_sync returned. */
    int (*commit_async)(struct eg_store *s);
    int (*log_sync)(struct eg_store *s);

    int (*session_put)(struct eg_store *s, const struct eg_session *in);
    int (*session_get)(struct eg_store *s, const char *context, const char *id,
                       struct eg_session *out, int64_t *out_turns);
    int (*sessions_in_scope)(struct eg_store *s, const char *context, const char *scope,
                             eg_session_cb cb, void *arg);

    int (*turn_put)(struct eg_store *s, const struct eg_turn *in);
    int fts_tokens; /* 1: turn_put indexes with eg_turn.fts when given (SQLite's tokenizer
                     * runs in this process; PostgreSQL's runs in the server) */
    int (*turn_get)(struct eg_store *s, const char *context, const char *id,
                    struct eg_turn *out);
    /* Full-text search of turns in the given scopes; terms are stemmed by the backend's
     * English Snowball configuration and OR-ed; score is higher-is-better. */
    int (*turns_search)(struct eg_store *s, const char *context, const char *const *scopes,
                        size_t nscopes, const char *const *terms, size_t nterms,
                        int64_t as_of, int limit, eg_turn_cb cb, void *arg);
    /* Turns of one session (or of exact scope when session_id is NULL), oldest first. */
    int (*turns_list)(struct eg_store *s, const char *context, const char *session_id,
                      const char *scope, int64_t after, int limit, eg_turn_cb cb, void *arg);

    int (*idem_get)(struct eg_store *s, const char *context, const char *key,
                    char **out_hash, char **out_response);
    int (*idem_put)(struct eg_store *s, const char *context, const char *scope,
                    const char *key, const char *hash, const char *response, int64_t at);

    /* Find or create the entity (context, scope, type, name); out_id receives its id. */
    int (*entity_ensure)(struct eg_store *s, const struct eg_entity *in, char *out_id);
    int (*entities_in_scope)(struct eg_store *s, const char *context, const char *scope,
                             eg_entity_cb cb, void *arg);

    int (*attr_put)(struct eg_store *s, const struct eg_attr *in);
    int (*attr_close)(struct eg_store *s, const char *id, int64_t valid_until);
    int (*attr_set_confidence)(struct eg_store *s, const char *id, double confidence);
    /* Ordered by category, then confidence desc, then valid_from desc. */
    int (*attrs_query)(struct eg_store *s, const struct eg_attr_filter *f, eg_attr_cb cb,
                       void *arg);

    int (*audit_put)(struct eg_store *s, const struct eg_audit *in);
    int (*audit_list)(struct eg_store *s, const char *context, const char *const *scopes,
                      size_t nscopes, int limit, eg_audit_cb cb, void *arg);

    int (*job_put)(struct eg_store *s, const char *context, const char *turn_id, int64_t at);
    /* Claim the oldest pending job (marks it running); ENGRAM_NOTFOUND when none. */
    int (*job_claim)(struct eg_store *s, int64_t now, struct eg_job *out);
    int (*job_done)(struct eg_store *s, int64_t rid);
    int (*job_fail)(struct eg_store *s, int64_t rid, const char *err, int64_t now);
    int (*jobs_pending)(struct eg_store *s, int64_t *out_n);

    int (*key_put)(struct eg_store *s, const struct eg_key *in);
    int (*key_get)(struct eg_store *s, const char *id, struct eg_key *out);
    int (*keys_list)(struct eg_store *s, eg_key_cb cb, void *arg);
    int (*key_revoke)(struct eg_store *s, const char *id, int64_t at);

    /* Every distinct scope holding anything in the context (for erase/export). */
    int (*scopes_list)(struct eg_store *s, const char *context, eg_scope_cb cb, void *arg);
    /* Delete every row at exactly this scope; add to *counts. */
    int (*erase_scope)(struct eg_store *s, const char *context, const char *scope,
                       struct eg_counts *counts);
    /* Audit rows at exactly this scope, oldest first (for export). */
    int (*audit_in_scope)(struct eg_store *s, const char *context, const char *scope,
                          eg_audit_cb cb, void *arg);

    /*
     * Item vectors for retrieval (retrieve.c). kind is an opaque short tag chosen by the
     * retriever ("wv:turn", "em:attr", ...); at is the item's time (a turn's created_at).
     * vec_put inserts or replaces the (context, scope, kind, item_id) row; vec_scan calls cb
     * for every row of kind in the given scopes with at <= as_of (as_of 0 = all). erase_scope
     * must delete a scope's vectors with the rest. Optional: retrieve.c embeds candidates at
     * query time when these are NULL.
     */
    int (*vec_put)(struct eg_store *s, const char *context, const char *scope,
                   const char *item_id, const char *kind, int64_t at, const int8_t *v, int dim,
                   float scale);
    int (*vec_scan)(struct eg_store *s, const char *context, const char *const *scopes,
                    size_t nscopes, const char *kind, int64_t as_of, eg_vec_cb cb, void *arg);
    /*
     * The neighbourhood of a turn in its session, in (created_at, rid) order: up to `before`
     * turns just before turn_id and up to `after` just after it (the turn itself excluded);
     * cb's score is the signed position offset (-1 = the turn just before). With turn_id
     * NULL: the session's last `before` turns, newest first, offsets -1, -2, ...
     * Optional: without it, retrieve.c gives no neighbourhood boost.
     */
    int (*turns_near)(struct eg_store *s, const char *context, const char *session_id,
                      const char *turn_id, int before, int after, eg_turn_cb cb, void *arg);

    /* Row counts for /metrics: {"turns":..,"attributes":..,...} as JSON text (caller frees). */
    int (*stats)(struct eg_store *s, char **out_json);
};

/* Backends, tried in order by eg_store_open(); store.c holds the table. */
extern const struct eg_store_ops eg_store_sqlite;
extern const struct eg_store_ops eg_store_pg;

const struct eg_store_ops *eg_store_for_uri(const char *uri);

void eg_session_clear(struct eg_session *s);
void eg_turn_clear(struct eg_turn *t);
void eg_attr_clear(struct eg_attr *a);
/* A deep copy of src (reads hand out rows that live only during the callback). */
int eg_attr_copy(struct eg_attr *dst, const struct eg_attr *src);
/* A growable array of attribute copies; eg_attrs_keep is an attrs_query callback. */
struct eg_attrs {
    struct eg_attr *v;
    size_t n, cap;
};
int eg_attrs_keep(void *arg, const struct eg_attr *a);
void eg_attrs_free(struct eg_attrs *l);
/* The stores' attribute order (what attrs_query returns unless unordered): identity,
 * knowledge, context, instructions, then the rest; within each the most confident, the
 * latest valid_from, the greatest id (SQL's BINARY text order is strcmp's). eg_attr_key_cmp
 * is that order over the four fields, for lists of other shapes (retrieve.c's candidates). */
struct eg_attr_key {
    const char *category;
    double confidence;
    int64_t valid_from;
    const char *id;
};
int eg_attr_key_cmp(const struct eg_attr_key *x, const struct eg_attr_key *y);
void eg_attrs_sort(struct eg_attrs *l);
void eg_key_clear(struct eg_key *k);
void eg_job_clear(struct eg_job *j);

#endif
