/*
 * h_sessions.c - the session routes: create, get, and the session-scoped turn and
 * context calls. Each forwards the request body to one engram_* call; the session's
 * scope (and so the key's floor) is checked by the library, which knows it.
 */
#include "server/server.h"

int h_session_create(struct srv_req *rq)
{
    char *out = NULL;
    int rc = engram_session_create(rq->db, &rq->call, rq->ctx, rq->body.p, &out);

    if (rc == ENGRAM_OK)
        srv_answer_json(rq, out);
    return rc;
}

int h_session_get(struct srv_req *rq)
{
    char *out = NULL;
    int rc = engram_session_get(rq->db, &rq->call, rq->ctx, rq->id, &out);

    if (rc == ENGRAM_OK)
        srv_answer_json(rq, out);
    return rc;
}

int h_session_turns(struct srv_req *rq)
{
    char *out = NULL;
    int rc = engram_turn_add(rq->db, &rq->call, rq->ctx, rq->id, rq->body.p, &out);

    if (rc == ENGRAM_OK)
        srv_answer_json(rq, out);
    return rc;
}

int h_session_context(struct srv_req *rq)
{
    char *out = NULL;
    int rc = engram_context_query(rq->db, &rq->call, rq->ctx, rq->id, rq->body.p, &out);

    if (rc == ENGRAM_OK)
        srv_answer_json(rq, out);
    return rc;
}
