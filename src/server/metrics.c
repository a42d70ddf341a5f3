/*
 * metrics.c - Prometheus text for /metrics, and /healthz.
 *
 * Counters are fixed arrays of atomics indexed by route and by a small table of status
 * codes, so recording costs two relaxed increments and no lock, and the label set is
 * bounded (unknown paths all count as route="unmatched"). Store gauges come from
 * engram_stats() at scrape time: every numeric field it answers becomes a gauge, so a
 * field the library adds later shows up without a change here.
 */
#include "server/server.h"

#include <jansson.h>
#include <microhttpd.h>
#include <stdlib.h>
#include <string.h>

/* Status codes we count individually; anything else counts under its class (2xx, ...). */
static const int tracked[SRV_NSTATUS] = {200, 400, 401, 403, 404, 405, 409, 413,
                                         415, 429, 499, 500, 503, 0,   0,   0};
static const char *const klass[] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
#define N_TRACKED 13 /* entries of tracked[] in use; the last 3 slots are 2xx/4xx/5xx others */

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const uint64_t bucket_us[SRV_NBUCKETS - 1] = {
    100, 250, 500, 1000, 2000, 5000, 10000, 25000, 50000, 100000, 250000, 1000000, 5000000};

static int status_slot(int status)
{
    int i;

    for (i = 0; i < N_TRACKED; i++)
        if (tracked[i] == status)
            return i;
    if (status >= 500)
        return N_TRACKED + 2;
    if (status >= 400)
        return N_TRACKED + 1;
    return N_TRACKED;
}

void srv_metrics_observe(struct srv_metrics *m, int route, int status, uint64_t us)
{
    int b = 0;

    if (route < 0 || route >= R_COUNT)
        route = R_UNMATCHED;
    atomic_fetch_add_explicit(&m->requests[route][status_slot(status)], 1, memory_order_relaxed);
    while (b < SRV_NBUCKETS - 1 && us > bucket_us[b])
        b++;
    /* Buckets are stored non-cumulative and summed at scrape time. */
    atomic_fetch_add_explicit(&m->buckets[route][b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->sum_us[route], us, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->count[route], 1, memory_order_relaxed);
}

static int render_requests(struct srv_metrics *m, struct eg_buf *b)
{
    int r, s,
        rc = eg_buf_puts(b, "# HELP engram_http_requests_total HTTP requests answered, "
                            "by route and status.\n"
                            "# TYPE engram_http_requests_total counter\n");

    for (r = 0; r < R_COUNT && rc == ENGRAM_OK; r++) {
        for (s = 0; s < SRV_NSTATUS && rc == ENGRAM_OK; s++) {
            unsigned long n = atomic_load_explicit(&m->requests[r][s], memory_order_relaxed);
            char st[8];
            if (!n)
                continue;
            if (s < N_TRACKED)
                snprintf(st, sizeof(st), "%d", tracked[s]);
            else
                snprintf(st, sizeof(st), "%s", klass[s - N_TRACKED + 1]);
            rc = eg_buf_printf(b, "engram_http_requests_total{route=\"%s\",status=\"%s\"} %lu\n",
                               srv_routes[r].name, st, n);
        }
    }
    return rc;
}

static int render_latency(struct srv_metrics *m, struct eg_buf *b)
{
    int r, i,
        rc = eg_buf_puts(b, "# HELP engram_http_request_duration_seconds Time from "
                            "request headers to the end of the response, by route.\n"
                            "# TYPE engram_http_request_duration_seconds histogram\n");

    for (r = 0; r < R_COUNT && rc == ENGRAM_OK; r++) {
        unsigned long cum = 0, count = atomic_load(&m->count[r]);
        const char *name = srv_routes[r].name;
        if (!count)
            continue; /* a route never called has nothing to say */
        for (i = 0; i < SRV_NBUCKETS && rc == ENGRAM_OK; i++) {
            cum += atomic_load_explicit(&m->buckets[r][i], memory_order_relaxed);
            if (i < SRV_NBUCKETS - 1)
                rc = eg_buf_printf(b,
                                   "engram_http_request_duration_seconds_bucket{route=\"%s\","
                                   "le=\"%g\"} %lu\n",
                                   name, (double)bucket_us[i] / 1e6, cum);
            else
                rc = eg_buf_printf(b,
                                   "engram_http_request_duration_seconds_bucket{route=\"%s\","
                                   "le=\"+Inf\"} %lu\n",
                                   name, cum);
        }
        if (rc == ENGRAM_OK)
            rc = eg_buf_printf(b,
                               "engram_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n"
                               "engram_http_request_duration_seconds_count{route=\"%s\"} %lu\n",
                               name, (double)atomic_load(&m->sum_us[r]) / 1e6, name, count);
    }
    return rc;
}

/* Gauges from engram_stats(): {"turns": n, ...} -> engram_store_turns n. */
static int render_store(engram *db, struct eg_buf *b)
{
    char *stats = NULL;
    json_t *j = NULL, *v;
    const char *k;
    int rc;

    rc = engram_stats(db, &stats);
    if (rc != ENGRAM_OK)
        return eg_buf_printf(b, "# engram_stats failed: %s\nengram_store_up 0\n",
                             engram_status_name(rc));
    j = json_loads(stats, 0, NULL);
    rc = eg_buf_puts(b, "# HELP engram_store_up 1 when engram_stats() answered.\n"
                        "# TYPE engram_store_up gauge\nengram_store_up 1\n");
    json_object_foreach(j, k, v)
    {
        double x;
        if (rc != ENGRAM_OK)
            break;
        if (json_is_integer(v))
            x = (double)json_integer_value(v);
        else if (json_is_real(v))
            x = json_real_value(v);
        else if (json_is_boolean(v))
            x = json_is_true(v) ? 1 : 0;
        else
            continue;
        /* Metric names allow [a-zA-Z0-9_:]; the library's keys are snake_case already. */
        if (strspn(k, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(k))
            continue;
        rc = eg_buf_printf(b, "# TYPE engram_store_%s gauge\nengram_store_%s %.17g\n", k, k, x);
        /* The extraction queue gets a stable name of its own for alerting. */
        if (rc == ENGRAM_OK && strcmp(k, "jobs_pending") == 0)
            rc = eg_buf_printf(b,
                               "# HELP engram_queue_jobs_pending Extraction jobs waiting.\n"
                               "# TYPE engram_queue_jobs_pending gauge\n"
                               "engram_queue_jobs_pending %.17g\n",
                               x);
    }
    if (rc == ENGRAM_OK) {
        const char *backend = json_string_value(json_object_get(j, "backend"));
        rc = eg_buf_printf(b,
                           "# TYPE engram_build_info gauge\n"
                           "engram_build_info{version=\"%s\",backend=\"%s\"} 1\n",
                           engram_libversion(), backend ? backend : engram_backend(db));
    }
    json_decref(j);
    engram_free(stats);
    return rc;
}

int h_metrics(struct srv_req *rq)
{
    struct server *srv = rq->srv;
    struct eg_buf b = {0};
    const union MHD_DaemonInfo *info;
    struct timespec now;
    int rc;

    clock_gettime(CLOCK_MONOTONIC, &now);
    rc = render_requests(&srv->metrics, &b);
    if (rc == ENGRAM_OK)
        rc = render_latency(&srv->metrics, &b);
    if (rc == ENGRAM_OK)
        rc = eg_buf_printf(&b,
                           "# HELP engram_http_inflight_requests API requests being served.\n"
                           "# TYPE engram_http_inflight_requests gauge\n"
                           "engram_http_inflight_requests %u\n"
                           "# HELP engram_http_max_inflight_requests Admission bound (429 "
                           "above it).\n"
                           "# TYPE engram_http_max_inflight_requests gauge\n"
                           "engram_http_max_inflight_requests %u\n"
                           "# TYPE engram_http_overload_rejections_total counter\n"
                           "engram_http_overload_rejections_total %lu\n"
                           "# TYPE engram_process_uptime_seconds gauge\n"
                           "engram_process_uptime_seconds %.3f\n",
                           atomic_load(&srv->inflight), srv->cfg->max_inflight,
                           atomic_load(&srv->metrics.rejected_overload),
                           (double)(now.tv_sec - srv->started.tv_sec) +
                               (double)(now.tv_nsec - srv->started.tv_nsec) / 1e9);
    /* The daemon comes from the connection, not srv->daemon: a request can be served
     * before MHD_start_daemon() has returned and the main thread has stored it. */
    {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_DAEMON);
        info = ci ? MHD_get_daemon_info(ci->daemon, MHD_DAEMON_INFO_CURRENT_CONNECTIONS) : NULL;
    }
    if (rc == ENGRAM_OK && info)
        rc = eg_buf_printf(&b,
                           "# TYPE engram_http_open_connections gauge\n"
                           "engram_http_open_connections %u\n",
                           info->num_connections);
    if (rc == ENGRAM_OK)
        rc = render_store(rq->db, &b);
    if (rc != ENGRAM_OK) {
        eg_buf_reset(&b);
        return srv_fail(rq, 503, "out_of_memory", "out of memory rendering metrics");
    }
    rq->out_len = b.len;
    rq->out = eg_buf_detach(&b);
    if (!rq->out)
        return srv_fail(rq, 503, "out_of_memory", "out of memory");
    rq->out_type = "text/plain; version=0.0.4; charset=utf-8";
    rq->out_free = free;
    return ENGRAM_OK;
}

/*
 * /healthz answers 200 only when the store answers: the API-key count (srv_keys_active)
 * is a cheap read through the same handles and locks as real traffic, so a wedged store
 * shows as 503. The count is shared with the auth check and trusted for SRV_KEYS_TTL_NS,
 * so "healthy" means "the store answered within the last second", and a load balancer
 * polling hard costs the store one read a second, not one per poll. The body never
 * changes; it is built once by srv_run.
 */
int h_healthz(struct srv_req *rq)
{
    struct server *srv = rq->srv;
    engram *db;
    int rc, count = 0;

    if (!srv_keys_cached(srv, &count)) {
        db = srv_db_acquire(srv, 0);
        rc = srv_keys_active(srv, db, &count);
        if (rc != ENGRAM_OK)
            srv_fail(rq, 503, "unavailable", "store is not answering: %s", engram_errmsg(db));
        srv_db_release(srv, db);
        if (rc != ENGRAM_OK)
            return SRV_HANDLED;
    }
    rq->out = srv->healthz_body;
    rq->out_len = strlen(srv->healthz_body);
    rq->out_type = "application/json";
    rq->out_free = NULL; /* owned by srv */
    return ENGRAM_OK;
}
