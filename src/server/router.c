/*
 * router.c - the route table of DESIGN.md section 4 and the path matcher.
 *
 * Paths are few and fixed, so matching is a split into segments and a handful of string
 * compares rather than a pattern engine: /api/v1/{ctx}/{collection}[/{id}[/{sub}]].
 * The table says, per route, its one method, the grant a key needs, what its body must
 * be, and the handler; http.c enforces all of it before a handler runs.
 */
#include "server/server.h"

#include <string.h>

const struct srv_route_def srv_routes[R_COUNT] = {
    [R_UNMATCHED] = {"unmatched", NULL, G_NONE, B_NONE, 0, 0, NULL},
    [R_HEALTHZ] = {"healthz", "GET", G_NONE, B_NONE, 0, 0, h_healthz},
    [R_METRICS] = {"metrics", "GET", G_ANYKEY, B_NONE, 0, 0, h_metrics},
    [R_SESSIONS] = {"sessions", "POST", G_WRITE, B_JSON, 1, 1, h_session_create},
    [R_SESSION_GET] = {"session_get", "GET", G_READ, B_NONE, 1, 0, h_session_get},
    [R_SESSION_TURNS] = {"session_turns", "POST", G_WRITE, B_JSON, 1, 1, h_session_turns},
    [R_SESSION_CONTEXT] = {"session_context", "POST", G_READ, B_JSON, 1, 0, h_session_context},
    [R_TURNS] = {"turns", "POST", G_WRITE, B_JSON, 1, 1, h_turns},
    [R_CONTEXT] = {"context", "POST", G_READ, B_JSON, 1, 0, h_context},
    [R_PROFILE] = {"profile", "POST", G_READ, B_JSON, 1, 0, h_profile},
    [R_FORGET] = {"forget", "POST", G_FORGET, B_JSON, 1, 1, h_forget},
    [R_ATTRIBUTES] = {"attributes", "POST", G_READ, B_JSON, 1, 0, h_attributes},
    [R_AUDIT] = {"audit", "GET", G_READ, B_NONE, 1, 0, h_audit},
    [R_EXPORT] = {"export", "POST", G_READ, B_JSON, 1, 0, h_export},
    [R_IMPORT] = {"import", "POST", G_WRITE, B_JSONL, 1, 1, h_import},
    [R_ERASE] = {"erase", "POST", G_ERASE, B_JSON, 1, 1, h_erase},
};

/* Collections directly under /api/v1/{ctx}/ and the route each one is. */
static const struct {
    const char *seg;
    int route;
} top_level[] = {
    {"sessions", R_SESSIONS}, {"turns", R_TURNS},   {"context", R_CONTEXT},
    {"profile", R_PROFILE},   {"forget", R_FORGET}, {"attributes", R_ATTRIBUTES},
    {"audit", R_AUDIT},       {"export", R_EXPORT}, {"import", R_IMPORT},
    {"erase", R_ERASE},
};

#define MAX_SEGS 4

int srv_route_match(char *scratch, const char **out_ctx, const char **out_id)
{
    static const char prefix[] = "/api/v1/";
    char *seg[MAX_SEGS];
    size_t nseg = 0, i;
    char *p;

    *out_ctx = NULL;
    *out_id = NULL;
    if (strcmp(scratch, "/healthz") == 0)
        return R_HEALTHZ;
    if (strcmp(scratch, "/metrics") == 0)
        return R_METRICS;
    if (strncmp(scratch, prefix, sizeof(prefix) - 1) != 0)
        return R_UNMATCHED;

    /* Cut the rest into segments in place. Empty segments ("//", a trailing "/") do not
     * match anything: one spelling per resource keeps ids and caches unambiguous. */
    p = scratch + sizeof(prefix) - 1;
    for (;;) {
        char *slash = strchr(p, '/');
        if (nseg == MAX_SEGS || *p == '\0' || p == slash)
            return R_UNMATCHED;
        seg[nseg++] = p;
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }

    *out_ctx = seg[0];
    if (nseg < 2) /* "/api/v1/{ctx}" alone names no resource */
        return R_UNMATCHED;
    if (nseg == 2) {
        for (i = 0; i < sizeof(top_level) / sizeof(top_level[0]); i++)
            if (strcmp(seg[1], top_level[i].seg) == 0)
                return top_level[i].route;
        return R_UNMATCHED;
    }
    if (strcmp(seg[1], "sessions") != 0)
        return R_UNMATCHED;
    *out_id = seg[2];
    if (nseg == 3)
        return R_SESSION_GET;
    if (strcmp(seg[3], "turns") == 0)
        return R_SESSION_TURNS;
    if (strcmp(seg[3], "context") == 0)
        return R_SESSION_CONTEXT;
    return R_UNMATCHED;
}
