/*
 * server.h - engram serve: the HTTP/JSON front of libengram (DESIGN.md section 4).
 *
 * The server is a thin shell over engram.h, like SQLite's shell or curl's tool: every
 * route forwards its JSON body to one engram_* call and sends back the JSON it answers.
 * What lives here is only what HTTP adds: routing, body limits, content types, API keys
 * and grants, request ids, the access log, metrics, overload shedding and a draining
 * shutdown. Files:
 *   http.c      libmicrohttpd glue: the request life cycle, responses, start and stop
 *   router.c    path -> route table, method checks, dispatch
 *   auth.c      Authorization: Bearer -> engram_key_verify -> context, grant, scope floor
 *   h_sessions.c h_memory.c   one small handler per route
 *   metrics.c   Prometheus counters and histograms, /metrics and /healthz
 *   log.c       one JSON line per request (and per lifecycle event) on stderr
 */
#ifndef EG_SERVER_H
#define EG_SERVER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "engram.h"
#include "util/buf.h"

struct MHD_Connection;
struct MHD_Daemon;

/* ---- Configuration (filled by src/cli/cmd_serve.c) ---------------------------------- */

struct srv_config {
    const char *listen;       /* "HOST:PORT" or "[V6]:PORT"; port 0 picks a free one */
    size_t max_body;          /* JSON request bodies; over it is 413 */
    size_t max_import;        /* JSON Lines bodies on /import, which carry whole exports */
    unsigned max_inflight;    /* requests admitted at once; more get 429 */
    unsigned max_connections; /* MHD_OPTION_CONNECTION_LIMIT */
    unsigned threads;         /* 0 = one thread per connection, N = epoll pool of N threads */
    unsigned timeout_s;       /* idle keep-alive connections are closed after this */
    unsigned drain_s;         /* SIGTERM waits this long for in-flight requests */
    unsigned readers;         /* extra read-only store handles (see srv_run) */
    int access_log;           /* nonzero: one JSON line per request on stderr */
};

/* Defaults: 127.0.0.1:8420, 1 MiB bodies, 64 MiB imports, 256 in flight, ... */
void srv_config_defaults(struct srv_config *cfg);

/*
 * Serve until SIGTERM or SIGINT, then stop accepting, drain in-flight requests and stop.
 * Returns a process exit code: 0 after a clean shutdown, 1 for a bad configuration (an
 * unparsable --listen, a non-loopback address without API keys), 2 when the socket or
 * the daemon could not be set up. The caller still owns every handle and closes them
 * afterwards.
 *
 * db takes every write (and runs the job worker); readers[0..nreaders) are more handles
 * on the same store that serve reads. An engram handle runs one call at a time (it holds
 * a mutex for the call), so with one handle a 100 ms context query stalls every other
 * request; SQLite in WAL mode lets several connections read at once, so reads spread over
 * the readers. Writes stay on the one handle: two writer connections would only meet in
 * SQLite's busy handler, which backs off by sleeping.
 */
int srv_run(engram *db, engram *const *readers, unsigned nreaders, const struct srv_config *cfg);

/* ---- Routes --------------------------------------------------------------------------- */

enum srv_route {
    R_UNMATCHED = 0, /* metrics label for 404s, so a scanner cannot mint label values */
    R_HEALTHZ,
    R_METRICS,
    R_SESSIONS,
    R_SESSION_GET,
    R_SESSION_TURNS,
    R_SESSION_CONTEXT,
    R_TURNS,
    R_CONTEXT,
    R_PROFILE,
    R_FORGET,
    R_ATTRIBUTES,
    R_AUDIT,
    R_EXPORT,
    R_IMPORT,
    R_ERASE,
    R_COUNT
};

/* What a key must be granted to use a route. */
enum srv_grant { G_NONE = 0, G_ANYKEY, G_READ, G_WRITE, G_FORGET, G_ERASE };

/* What a route's body must be. */
enum srv_body { B_NONE = 0, B_JSON, B_JSONL };

struct srv_req;
typedef int (*srv_handler)(struct srv_req *rq);

struct srv_route_def {
    const char *name;   /* metrics label and log field */
    const char *method; /* the one method the route answers */
    int grant;          /* enum srv_grant */
    int body;           /* enum srv_body */
    int api;            /* 1 for /api/v1/{ctx}/...: counted in flight, needs the context */
    int write;          /* 1 when it changes the store: served by the writer handle */
    srv_handler handler;
};

extern const struct srv_route_def srv_routes[R_COUNT];

/*
 * Match a decoded path. Returns the route, or R_UNMATCHED. *out_ctx and *out_id point
 * into `scratch` (a copy of the path the caller owns, cut into segments in place).
 */
int srv_route_match(char *scratch, const char **out_ctx, const char **out_id);

/* ---- Metrics ---------------------------------------------------------------------------- */

#define SRV_NSTATUS  16 /* tracked status codes, see metrics.c */
#define SRV_NBUCKETS 14 /* latency histogram buckets, +Inf included */

struct srv_metrics {
    atomic_ulong requests[R_COUNT][SRV_NSTATUS];
    atomic_ulong buckets[R_COUNT][SRV_NBUCKETS];
    atomic_ullong sum_us[R_COUNT];
    atomic_ulong count[R_COUNT];
    atomic_ulong rejected_overload;
};

/* Record one finished request; safe from any thread. */
void srv_metrics_observe(struct srv_metrics *m, int route, int status, uint64_t us);

/* ---- The server and one request --------------------------------------------------------- */

/* Read handles lent to one request at a time. */
struct srv_pool {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    engram **free; /* stack of idle handles */
    unsigned nfree;
};

struct server {
    engram *db; /* the writer, and the fallback reader */
    struct srv_pool pool;
    const struct srv_config *cfg;
    struct MHD_Daemon *daemon;
    int auth_required;     /* bound off loopback: no key is never enough */
    /* The count of active API keys as of keys_checked_ns (CLOCK_MONOTONIC; 0 = never),
     * shared by every request for SRV_KEYS_TTL_NS: see srv_keys_active() in auth.c. */
    atomic_int keys_active;
    atomic_llong keys_checked_ns;
    char healthz_body[160]; /* /healthz's answer, which never changes */
    atomic_uint inflight;  /* admitted API requests not yet completed */
    atomic_int draining;   /* set by the signal: answer with Connection: close */
    atomic_ullong next_id; /* request id counter, mixed with id_seed */
    uint64_t id_seed;
    struct timespec started;
    struct srv_metrics metrics;
};

struct srv_req {
    struct server *srv;
    struct MHD_Connection *conn;
    int route; /* enum srv_route */
    char method[16];
    char *path;      /* the decoded path, for the log; owned */
    char *scratch;   /* the path cut into segments; ctx and id point here; owned */
    const char *ctx; /* {context_id} */
    const char *id;  /* {session id} */
    engram *db;      /* the handle lent to this request's handler, or NULL */
    char request_id[72];
    struct timespec t0;
    int admitted; /* counted in srv->inflight */

    /* Who is calling, from auth.c: handed to every engram_* call. */
    engram_call call;
    char *key_id;      /* owned */
    char *scope_floor; /* owned */
    char idem_key[257];

    /* The body, bounded by the route's limit; over it we keep reading but drop bytes. */
    struct eg_buf body;
    int too_big;

    /* A refusal decided before the body arrived (auth, content type, overload, method);
     * it is answered once the body has been drained so the client can read it. */
    int err_status;
    const char *err_code;
    char err_msg[256];
    const char *allow; /* Allow: for a 405 */

    /* The answer a handler produced: owned until the response takes it. */
    char *out;
    size_t out_len;
    const char *out_type;
    void (*out_free)(void *);

    int status; /* what was sent, for the log and metrics; 0 = nothing yet */
    size_t sent_bytes;
};

/* Returned by a handler that already set rq->err_* itself (not a library failure). */
#define SRV_HANDLED (-1)

/* Record a refusal on rq; the message is printf-formatted. Returns SRV_HANDLED. */
int srv_fail(struct srv_req *rq, int status, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Set rq->out to a library answer (freed with engram_free) as application/json. */
void srv_answer_json(struct srv_req *rq, char *json);

/* A query-string argument of the request, or NULL. */
const char *srv_query_arg(struct srv_req *rq, const char *name);

/* A request header, or NULL. */
const char *srv_header(struct srv_req *rq, const char *name);

/* Borrow a handle: the writer for writes (or when there are no readers), else an idle
 * reader, waiting for one if all are busy. Give it back with srv_db_release(). */
engram *srv_db_acquire(struct server *srv, int write);
void srv_db_release(struct server *srv, engram *db);

/* ---- auth.c ------------------------------------------------------------------------------ */

/* How long a count of active API keys is trusted: keys created in another process (engram
 * keys create) switch auth on within this long. Validity of a presented key is never
 * cached. */
#define SRV_KEYS_TTL_NS 1000000000LL

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t srv_now_ns(void);

/*
 * The number of active API keys, from the cache while it is younger than SRV_KEYS_TTL_NS,
 * else counted on db (which must be a handle the caller holds) and cached. On failure
 * returns the engram status and engram_errmsg(db) says why; *out_count is 0.
 */
int srv_keys_active(struct server *srv, engram *db, int *out_count);

/* 1 when the cached count is fresh and says whether keys are in use (*out_count set),
 * 0 when it must be counted again with srv_keys_active(). Never touches the store. */
int srv_keys_cached(struct server *srv, int *out_count);

/*
 * Decide who is calling: fill rq->call from the Bearer key, or refuse with 401/403 on rq.
 * Returns 0 when the request may proceed, SRV_HANDLED when it was refused.
 */
int srv_auth(struct srv_req *rq);

/* ---- Handlers ---------------------------------------------------------------------------- */

int h_healthz(struct srv_req *rq);
int h_metrics(struct srv_req *rq);
int h_session_create(struct srv_req *rq);
int h_session_get(struct srv_req *rq);
int h_session_turns(struct srv_req *rq);
int h_session_context(struct srv_req *rq);
int h_turns(struct srv_req *rq);
int h_context(struct srv_req *rq);
int h_profile(struct srv_req *rq);
int h_forget(struct srv_req *rq);
int h_attributes(struct srv_req *rq);
int h_audit(struct srv_req *rq);
int h_export(struct srv_req *rq);
int h_import(struct srv_req *rq);
int h_erase(struct srv_req *rq);

/* ---- log.c ------------------------------------------------------------------------------- */

/* One access-log line for a finished request that took `us` microseconds. */
void srv_log_request(const struct srv_req *rq, uint64_t us);

/* One lifecycle line: {"ts","level","msg", key: value}; key may be NULL. */
void srv_log_event(const char *level, const char *msg, const char *key, const char *value);

/* Append s to b as a JSON string body (no quotes), escaping as RFC 8259 requires. */
int srv_json_escape(struct eg_buf *b, const char *s);

#endif
