/*
 * h_memory.c - the scope-level routes: turns without a session, context, profile,
 * forget, attributes, audit, export, import and erase. Bodies were checked to be JSON
 * objects by http.c; the library validates their fields and names the bad one.
 */
#include "server/server.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

/* The shape shared by the plain JSON-in, JSON-out routes. */
typedef int (*json_call)(engram *db, const engram_call *call, const char *context,
                         const char *req_json, char **out_json);

static int forward(struct srv_req *rq, json_call fn)
{
    char *out = NULL;
    int rc = fn(rq->db, &rq->call, rq->ctx, rq->body.p, &out);

    if (rc == ENGRAM_OK)
        srv_answer_json(rq, out);
    return rc;
}

int h_turns(struct srv_req *rq)
{
    char *out = NULL;
    int rc = engram_turn_add(rq->db, &rq->call, rq->ctx, NULL, rq->body.p, &out);

    if (rc == ENGRAM_OK)
        srv_answer_json(rq, out);
    return rc;
}

int h_context(struct srv_req *rq)
{
    char *out = NULL;
    int rc = engram_context_query(rq->db, &rq->call, rq->ctx, NULL, rq->body.p, &out);

    if (rc == ENGRAM_OK)
        srv_answer_json(rq, out);
    return rc;
}

int h_profile(struct srv_req *rq)
{
    return forward(rq, engram_profile_get);
}

int h_forget(struct srv_req *rq)
{
    return forward(rq, engram_forget);
}

int h_attributes(struct srv_req *rq)
{
    return forward(rq, engram_attributes_list);
}

int h_erase(struct srv_req *rq)
{
    return forward(rq, engram_erase);
}

/* GET /audit?scope=PATH[&limit=N]: the query string becomes the library's JSON request.
 * A missing scope is left for the library to name, like any other missing field. */
int h_audit(struct srv_req *rq)
{
    const char *scope = srv_query_arg(rq, "scope");
    const char *limit = srv_query_arg(rq, "limit");
    json_t *req = json_object();
    char *text = NULL, *out = NULL;
    int rc;

    if (!req)
        return srv_fail(rq, 503, "out_of_memory", "out of memory");
    if (scope)
        json_object_set_new(req, "scope", json_string(scope));
    if (limit) {
        char *end;
        long long n;
        errno = 0;
        n = strtoll(limit, &end, 10);
        if (errno || end == limit || *end || n < 1 || n > 100000) {
            json_decref(req);
            return srv_fail(rq, 400, "invalid_request",
                            "limit must be an integer from 1 to 100000");
        }
        json_object_set_new(req, "limit", json_integer(n));
    }
    text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    if (!text)
        return srv_fail(rq, 503, "out_of_memory", "out of memory");
    rc = engram_audit_list(rq->db, &rq->call, rq->ctx, text, &out);
    free(text);
    if (rc == ENGRAM_OK)
        srv_answer_json(rq, out);
    return rc;
}

static int export_line(void *arg, const char *line, size_t len)
{
    return eg_buf_append(arg, line, len) == ENGRAM_OK ? 0 : 1;
}

/*
 * POST /export answers JSON Lines. It is buffered, not streamed: an export is one scope
 * (a user, an org), and buffering means a failure half-way is still a proper error
 * status instead of a 200 cut short, which a client would take for a complete export.
 */
int h_export(struct srv_req *rq)
{
    struct eg_buf out = {0};
    int rc;

    rc = engram_export(rq->db, &rq->call, rq->ctx, rq->body.p, export_line, &out);
    if (rc != ENGRAM_OK) {
        eg_buf_reset(&out);
        return rc;
    }
    rq->out_len = out.len;
    rq->out = eg_buf_detach(&out);
    if (!rq->out)
        return srv_fail(rq, 503, "out_of_memory", "out of memory");
    rq->out_type = "application/x-ndjson";
    rq->out_free = free;
    return ENGRAM_OK;
}

int h_import(struct srv_req *rq)
{
    char *out = NULL;
    int rc =
        engram_import(rq->db, &rq->call, rq->ctx, rq->body.p ? rq->body.p : "", rq->body.len, &out);

    if (rc == ENGRAM_OK)
        srv_answer_json(rq, out);
    return rc;
}
