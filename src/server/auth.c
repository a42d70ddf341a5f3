/*
 * auth.c - who is calling: API keys, their context, grants and scope floor.
 *
 * The store keeps keys hashed and compares them in constant time (engram_key_verify);
 * this file only maps a verified key onto the request. A key's scope floor is not
 * checked here: it is handed to the library in engram_call.scope_floor, which checks
 * every scope a call touches (ENGRAM_FORBIDDEN -> 403), because only the library knows
 * which scopes a session or an import touches.
 *
 * Auth is off only while the store has no keys and the server listens on loopback (the
 * local owner, like a SQLite file); from the first key on, every request but /healthz
 * needs one.
 *
 * "Does the store have any keys?" is asked by every keyless request, and counting keys is
 * a read transaction (a network round trip on PostgreSQL), so the answer is cached for
 * SRV_KEYS_TTL_NS (1 s): a key created by `engram keys create` in another process switches
 * auth on within that second. Only that yes/no is cached. A presented key is verified
 * against the store on every request, so revocation takes effect on the next request.
 */
#include "server/server.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *grant_name(int grant)
{
    switch (grant) {
    case G_READ:
        return "read";
    case G_WRITE:
        return "write";
    case G_FORGET:
        return "forget";
    case G_ERASE:
        return "erase";
    default:
        return NULL;
    }
}

static int has_grant(json_t *grants, const char *want)
{
    size_t i;
    json_t *g;

    json_array_foreach(grants, i, g)
    {
        if (json_is_string(g) && strcmp(json_string_value(g), want) == 0)
            return 1;
    }
    return 0;
}

/* Pull the secret out of "Bearer <secret>". NULL for any other shape. */
static const char *bearer_secret(const char *h)
{
    while (*h == ' ')
        h++;
    if (strncasecmp(h, "Bearer", 6) != 0 || (h[6] != ' ' && h[6] != '\t'))
        return NULL;
    h += 6;
    while (*h == ' ' || *h == '\t')
        h++;
    return *h ? h : NULL;
}

int64_t srv_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int srv_keys_cached(struct server *srv, int *out_count)
{
    /* The count is stored before the time (both seq_cst), so a fresh time is never
     * read with an older count than the one it was stamped for. Two threads refreshing
     * at once may store their counts in either order: both are answers from the last
     * second, which is all the TTL promises. */
    int64_t at = atomic_load(&srv->keys_checked_ns);

    if (at == 0 || srv_now_ns() - at >= SRV_KEYS_TTL_NS)
        return 0;
    *out_count = atomic_load(&srv->keys_active);
    return 1;
}

int srv_keys_active(struct server *srv, engram *db, int *out_count)
{
    int64_t now = srv_now_ns();
    int rc, n = 0;

    *out_count = 0;
    if (srv_keys_cached(srv, out_count))
        return ENGRAM_OK;
    rc = engram_key_count(db, &n);
    if (rc != ENGRAM_OK)
        return rc; /* not cached: the next request asks the store again */
    atomic_store(&srv->keys_active, n);
    atomic_store(&srv->keys_checked_ns, now > 0 ? now : 1);
    *out_count = n;
    return ENGRAM_OK;
}

/* A request without Authorization: the local owner while no key exists on loopback. */
static int auth_keyless(struct srv_req *rq)
{
    static const char need_key[] = "an API key is required: Authorization: Bearer KEY";
    struct server *srv = rq->srv;
    engram *db;
    int rc, count = 0;

    if (srv->auth_required)
        return srv_fail(rq, 401, "unauthorized", "%s", need_key);
    if (!srv_keys_cached(srv, &count)) {
        /* Key checks are reads: they never wait behind the writer. */
        db = srv_db_acquire(srv, 0);
        rc = srv_keys_active(srv, db, &count);
        if (rc != ENGRAM_OK)
            srv_fail(rq, engram_status_http(rc), engram_status_name(rc),
                     "cannot check API keys: %s", engram_errmsg(db));
        srv_db_release(srv, db);
        if (rc != ENGRAM_OK)
            return SRV_HANDLED;
    }
    if (count > 0)
        return srv_fail(rq, 401, "unauthorized", "%s", need_key);
    return 0; /* the local owner: actor "local", no floor, every grant */
}

/* The checks of srv_auth for a presented key, on a borrowed handle. */
static int auth_with(struct srv_req *rq, engram *db, const char *hdr)
{
    const struct srv_route_def *def = &srv_routes[rq->route];
    const char *secret, *want;
    json_t *key = NULL;
    char *answer = NULL;
    int rc, ret = SRV_HANDLED;

    secret = bearer_secret(hdr);
    if (!secret)
        return srv_fail(rq, 401, "unauthorized", "Authorization must be 'Bearer KEY'");

    rc = engram_key_verify(db, secret, &answer);
    if (rc == ENGRAM_NOTFOUND || rc == ENGRAM_INVALID || rc == ENGRAM_FORBIDDEN)
        return srv_fail(rq, 401, "unauthorized", "unknown or revoked API key");
    if (rc != ENGRAM_OK)
        return srv_fail(rq, engram_status_http(rc), engram_status_name(rc),
                        "cannot verify the API key: %s", engram_errmsg(db));
    key = json_loads(answer, 0, NULL);
    if (!json_is_object(key)) {
        srv_fail(rq, 500, "internal", "engram_key_verify answered something unreadable");
        goto cleanup;
    }

    /* Any valid key may read /metrics: a scraper holds one key, of whatever context. */
    if (def->api) {
        const char *kctx = json_string_value(json_object_get(key, "context"));
        if (!kctx || strcmp(kctx, rq->ctx) != 0) {
            srv_fail(rq, 403, "forbidden", "this API key is for context '%s', not '%s'",
                     kctx ? kctx : "?", rq->ctx);
            goto cleanup;
        }
        want = grant_name(def->grant);
        if (want && !has_grant(json_object_get(key, "grants"), want)) {
            srv_fail(rq, 403, "forbidden", "this API key lacks the '%s' grant needed by %s %s",
                     want, rq->method, def->name);
            goto cleanup;
        }
    }

    {
        const char *id = json_string_value(json_object_get(key, "id"));
        const char *floor = json_string_value(json_object_get(key, "scope_floor"));
        rq->key_id = strdup(id ? id : "key");
        if (floor && *floor)
            rq->scope_floor = strdup(floor);
        if (!rq->key_id || (floor && *floor && !rq->scope_floor)) {
            srv_fail(rq, 503, "out_of_memory", "out of memory");
            goto cleanup;
        }
    }
    rq->call.actor = rq->key_id;
    rq->call.scope_floor = rq->scope_floor;
    ret = 0;
cleanup:
    json_decref(key);
    engram_free(answer);
    return ret;
}

int srv_auth(struct srv_req *rq)
{
    const char *hdr;
    engram *db;
    int ret;

    if (srv_routes[rq->route].grant == G_NONE)
        return 0;
    hdr = srv_header(rq, "Authorization");
    if (!hdr)
        return auth_keyless(rq);
    /* Key checks are reads: they never wait behind the writer. */
    db = srv_db_acquire(rq->srv, 0);
    ret = auth_with(rq, db, hdr);
    srv_db_release(rq->srv, db);
    return ret;
}
