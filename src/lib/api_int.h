/*
 * api_int.h - entry-point plumbing shared by the modules that implement engram_* calls
 * (api.c, memory.c, porting.c, retrieve.c, keys.c).
 */
#ifndef EG_API_INT_H
#define EG_API_INT_H

#include "lib/internal.h"

/* Check the handle, take its lock, clear this thread's error. ENGRAM_MISUSE on a bad or
 * closed handle (the lock is then not taken). */
int eg_enter(engram *db);
/* Release the lock; returns rc. */
int eg_leave(engram *db, int rc);
/* The call to use: the caller's, or the local owner's when NULL or too small. */
const engram_call *eg_call(const engram_call *call);
int eg_check_context(engram *db, const char *context);
/* The scope of a request: the session's (when session_id) or the "scope" field; checked
 * against the caller's floor. *out_path is malloc'd; *out_session (optional) receives the
 * session row, the caller's to clear. */
int eg_req_scope(engram *db, const engram_call *call, const char *context,
                 const char *session_id, const json_t *req, char **out_path,
                 struct eg_session *out_session);
/*
 * The front half every scoped call shares: check the context name, parse the request,
 * resolve its scope (the session's, or the "scope" field) inside the caller's floor and,
 * when out_scopes is given, list the scopes a read there sees (eg_scope_floor_list). On
 * success the outputs are the caller's (json_decref, free, eg_scope_list_free); on error
 * they are NULL and the error is set.
 */
int eg_req_open(engram *db, const engram_call *call, const char *context,
                const char *session_id, const char *req_json, json_t **out_req,
                char **out_scope, char ***out_scopes, size_t *out_nscopes);
/* Optional "metadata" object of a request as compact JSON text (*out malloc'd, or NULL). */
int eg_req_metadata(engram *db, const json_t *req, char **out);
/* Begin / commit a store transaction, recording the store's message on failure. */
int eg_tx_begin(engram *db, int write);
int eg_tx_commit(engram *db);
/* Run one queued extraction job with the lock held; ENGRAM_NOTFOUND when none. */
int eg_job_run_one(engram *db);

#endif
