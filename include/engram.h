/*
 * engram.h - the public API of libengram, and its reference manual.
 *
 * libengram is persistent memory for LLM applications: it records conversation turns,
 * extracts durable facts about each user into dated supersession chains, and answers
 * profile and context queries inside a scope floor. It is embeddable like SQLite: one
 * opaque, thread-safe handle per store, no global state, and every failure is a status
 * code plus engram_errmsg().
 *
 * Shape of the API. Operations take their request as a JSON object (the same body the
 * HTTP API takes, see DESIGN.md section 4) and return their answer as JSON text, so the
 * CLI, the HTTP server and an embedding application see byte-identical answers and the
 * validation of every field lives in one place, here. Per-call facts that must not come
 * from a request body (who is calling, which scope floor confines them, an idempotency
 * key) travel in an engram_call.
 *
 * Ownership, for every function below unless it says otherwise:
 *   - inputs are borrowed for the duration of the call; nothing is retained;
 *   - a returned `char *` (out_json) is the caller's and is released with engram_free();
 *   - a returned `const char *` belongs to the handle, valid until this thread's next call.
 * On failure every out-pointer is set to NULL (or 0) before returning.
 */
#ifndef ENGRAM_H
#define ENGRAM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && defined(ENGRAM_BUILDING)
#define ENGRAM_API __attribute__((visibility("default")))
#else
#define ENGRAM_API
#endif

#define ENGRAM_VERSION        "0.1.0"
#define ENGRAM_VERSION_NUMBER 1000 /* X*1000000 + Y*1000 + Z */

/*
 * Status codes: {code, value, machine name, HTTP status, text}. One table feeds
 * engram_errstr(), the CLI's exit codes and the HTTP server's status lines (libuv's
 * UV_ERRNO_MAP). Append only: never renumber or reuse a value (curl's CURLcode rule).
 */
#define ENGRAM_STATUS_MAP(X)                                                                     \
    X(ENGRAM_OK, 0, "ok", 200, "not an error")                                                   \
    X(ENGRAM_ERROR, 1, "internal", 500, "internal error")                                        \
    X(ENGRAM_NOMEM, 2, "out_of_memory", 503, "out of memory")                                    \
    X(ENGRAM_INVALID, 3, "invalid_request", 400, "invalid argument")                             \
    X(ENGRAM_NOTFOUND, 4, "not_found", 404, "not found")                                         \
    X(ENGRAM_BUSY, 5, "busy", 503, "store is busy; safe to retry")                               \
    X(ENGRAM_MISUSE, 6, "misuse", 500, "library used incorrectly")                               \
    X(ENGRAM_CONFLICT, 7, "conflict", 409, "conflicts with an earlier request")                  \
    X(ENGRAM_FORBIDDEN, 8, "forbidden", 403, "outside the caller's scope floor or grants")       \
    X(ENGRAM_UNAVAILABLE, 9, "unavailable", 503, "store unavailable; retry later")               \
    X(ENGRAM_TOOBIG, 10, "too_large", 413, "input too large")

enum {
#define ENGRAM_STATUS_ENUM(sym, val, name, http, text) sym = val,
    ENGRAM_STATUS_MAP(ENGRAM_STATUS_ENUM)
#undef ENGRAM_STATUS_ENUM
};

typedef struct engram engram; /* opaque; one per store; safe to share across threads */

/* Options for engram_open(). Zero-initialise, set size = sizeof(engram_options). */
typedef struct engram_options {
    size_t size;             /* sizeof(engram_options): lets the struct grow compatibly */
    const char *data_dir;    /* WordNet / word-vector files; NULL = $ENGRAM_DATA or defaults */
    int busy_timeout_ms;     /* how long a locked store is waited for; 0 = 5000 */
    int no_worker;           /* nonzero: do not start the background job worker thread */
    const char *embed_url;   /* optional OpenAI-compatible base URL for /v1/embeddings */
    const char *embed_model; /* model name for embeddings */
    const char *embed_api_key;
    int embed_dim; /* expected embedding dimension; 0 = take it from the first answer */
} engram_options;

/*
 * Per-call facts that the request body must not be able to forge. Pass NULL for "the
 * local owner": actor "local", no floor, all grants.
 */
typedef struct engram_call {
    size_t size;                 /* sizeof(engram_call) */
    const char *actor;           /* recorded in the audit log: an API key id, "cli", ... */
    const char *scope_floor;     /* path form; every scope touched must contain it; NULL = none */
    const char *idempotency_key; /* makes a turn ingest safe to retry; NULL = none */
    const char *request_id;      /* optional, recorded in the audit log */
} engram_call;

/* ---- Handle --------------------------------------------------------------------------- */

/*
 * Open (creating and migrating if needed) the store at uri: a SQLite file path, or a
 * postgresql:// / postgres:// URI or libpq "key=value" string. opt may be NULL.
 * *out is set even on failure, so engram_errmsg(*out) can say why; close it either way.
 * *out is NULL only when memory for the handle itself could not be had (ENGRAM_NOMEM).
 */
ENGRAM_API int engram_open(const char *uri, const engram_options *opt, engram **out);

/* Stop the worker, finish in-flight calls' transactions, close the store. NULL is a no-op. */
ENGRAM_API int engram_close(engram *db);

ENGRAM_API int engram_errcode(engram *db);           /* last status of this thread on db */
ENGRAM_API const char *engram_errmsg(engram *db);    /* human text; owned by db */
ENGRAM_API const char *engram_errname(engram *db);   /* machine code, e.g. "invalid_scope" */
ENGRAM_API const char *engram_errstr(int rc);        /* static text for a status code */
ENGRAM_API const char *engram_status_name(int rc);   /* static "invalid_request", ... */
ENGRAM_API int engram_status_http(int rc);           /* 400, 404, ... for a status code */
ENGRAM_API const char *engram_libversion(void);      /* ENGRAM_VERSION */
ENGRAM_API int engram_libversion_number(void);       /* ENGRAM_VERSION_NUMBER */
ENGRAM_API const char *engram_backend(engram *db);   /* "sqlite" or "postgresql" */
ENGRAM_API void engram_free(void *p);                /* frees any out_json; NULL is a no-op */

/*
 * Write a one-line message to the handle's log sink (stderr unless set). Used for the
 * once-only notices such as "WordNet not found; synonyms off".
 */
typedef void (*engram_log_fn)(void *arg, const char *line);
ENGRAM_API void engram_set_log(engram *db, engram_log_fn fn, void *arg);

/* ---- Scopes ---------------------------------------------------------------------------- */

/*
 * Validate a scope given as a JSON object text ({"user":"alice"}) or as a path
 * ("org/acme/user/alice") and return its canonical path (dimensions sorted by name).
 * ENGRAM_INVALID names the offending dimension in engram_errmsg(db).
 */
ENGRAM_API int engram_scope_canonical(engram *db, const char *scope, char **out_path);

/* 1 when every dimension of `inner` is also in `outer` with the same value (inner ⊆ outer),
 * 0 when not, -1 when either is not a valid canonical path. Reads at outer see inner. */
ENGRAM_API int engram_scope_within(const char *inner, const char *outer);

/* ---- Sessions and turns --------------------------------------------------------------- */

/* req: {"scope": obj|path, "metadata"?: obj, "id"?: str}. Answer: the session object. */
ENGRAM_API int engram_session_create(engram *db, const engram_call *call, const char *context,
                                     const char *req_json, char **out_json);

/* Answer: the session object with "turn_count". ENGRAM_NOTFOUND when absent. */
ENGRAM_API int engram_session_get(engram *db, const engram_call *call, const char *context,
                                  const char *session_id, char **out_json);

/*
 * Record one turn; run rule extraction inline and answer {"turn", "diff", "queued"}.
 * session_id NULL means a session-less turn: the request then carries "scope".
 * req: {"role", "content", "created_at"?, "metadata"?, "async"?, "scope"?}.
 * The turn and its extraction are committed in one transaction: once this returns
 * ENGRAM_OK the turn is durable. With call->idempotency_key, a retry returns the first
 * answer; the same key with a different body is ENGRAM_CONFLICT.
 * A batch, {"turns": [{"role", "content", "created_at"?, "metadata"?}, ...], "async"?,
 * "scope"?} with 1 to 1,000 turns, records them in order, all or none (an invalid element
 * fails the request naming it, 'turns[3].role'), and answers {"turns": [{"turn", "diff",
 * "queued"}, ...]}; the idempotency key covers the whole batch.
 */
ENGRAM_API int engram_turn_add(engram *db, const engram_call *call, const char *context,
                               const char *session_id, const char *req_json, char **out_json);

/* ---- Memory reads ----------------------------------------------------------------------- */

/*
 * Rank current attributes and past turns inside the scope floor for a query and pack
 * them into max_tokens. req: {"scope" (unless session_id), "query", "top_k"?,
 * "max_tokens"?, "as_of"?}. Answer {"items", "formatted"}; nothing relevant gives
 * items [] and formatted "".
 */
ENGRAM_API int engram_context_query(engram *db, const engram_call *call, const char *context,
                                    const char *session_id, const char *req_json,
                                    char **out_json);

/* req: {"scope", "as_of"?}. Answer {"summary", "attributes": {category: [...]}}. */
ENGRAM_API int engram_profile_get(engram *db, const engram_call *call, const char *context,
                                  const char *req_json, char **out_json);

/* req: {"scope", "include_expired"?, "key"?, "category"?, "as_of"?}.
 * Answer {"attributes": [... each with "chain"]}. */
ENGRAM_API int engram_attributes_list(engram *db, const engram_call *call, const char *context,
                                      const char *req_json, char **out_json);

/* req: {"scope", "limit"?}. Answer {"entries": [...]}, newest first, inside the floor. */
ENGRAM_API int engram_audit_list(engram *db, const engram_call *call, const char *context,
                                 const char *req_json, char **out_json);

/* ---- Memory changes --------------------------------------------------------------------- */

/* req: {"scope", "entity_type"?, "entity_name"?, "attribute_key"?, "category"?,
 * "dry_run"?}. At least one selector. Retires (sets valid_until), never deletes.
 * Answer {"expired": n, "dry_run": bool, "attributes": [...]}. */
ENGRAM_API int engram_forget(engram *db, const engram_call *call, const char *context,
                             const char *req_json, char **out_json);

/* req: {"scope"}. Deletes everything at the scope and every narrower scope; leaves a
 * tombstone in the audit log. Answer: counts per kind. */
ENGRAM_API int engram_erase(engram *db, const engram_call *call, const char *context,
                            const char *req_json, char **out_json);

/*
 * Export everything at the scope and narrower scopes as JSON Lines, one write() per line
 * (each line ends with '\n'). A nonzero return from write stops the export with
 * ENGRAM_ERROR. req: {"scope"}.
 */
typedef int (*engram_write_fn)(void *arg, const char *line, size_t len);
ENGRAM_API int engram_export(engram *db, const engram_call *call, const char *context,
                             const char *req_json, engram_write_fn write, void *arg);

/* Import JSON Lines in export's format, keeping ids; all or nothing. Answer: counts. */
ENGRAM_API int engram_import(engram *db, const engram_call *call, const char *context,
                             const char *jsonl, size_t len, char **out_json);

/* ---- Background work -------------------------------------------------------------------- */

/* Run up to max queued extraction jobs now, in this thread. *out_done = jobs finished. */
ENGRAM_API int engram_jobs_run(engram *db, int max, int *out_done);

/* Store gauges for /metrics: {"backend", "turns", "attributes", "sessions",
 * "jobs_pending", ...}. */
ENGRAM_API int engram_stats(engram *db, char **out_json);

/* ---- API keys (used by engram serve; stored hashed in the store) ------------------------ */

/* req: {"context", "scope_floor"?, "grants"?: ["read","write","forget","erase"]}.
 * Answer {"id", "key", "context", "scope_floor", "grants", "created_at"}: the only time
 * the secret is shown. */
ENGRAM_API int engram_key_create(engram *db, const engram_call *call, const char *req_json,
                                 char **out_json);
/* Answer {"keys": [... without secrets]}. */
ENGRAM_API int engram_key_list(engram *db, char **out_json);
ENGRAM_API int engram_key_revoke(engram *db, const engram_call *call, const char *key_id);
/* Check a presented secret in constant time. Answer {"id", "context", "scope_floor",
 * "grants"}; ENGRAM_NOTFOUND for an unknown or revoked key. */
ENGRAM_API int engram_key_verify(engram *db, const char *secret, char **out_json);
/* Number of active keys: zero means auth is off and the server binds only to loopback. */
ENGRAM_API int engram_key_count(engram *db, int *out_count);

#ifdef __cplusplus
}
#endif
#endif /* ENGRAM_H */
