/*
 * http.c - the libmicrohttpd side of engram serve: the life of one request, responses,
 * listening, and the draining shutdown.
 *
 * A request goes through MHD's access handler several times:
 *   1. headers complete: match the route, check method, content type, Content-Length
 *      against the limit, the API key and the in-flight bound. A refusal is remembered,
 *      not sent, unless the declared body is over the limit: a client that is mid-way
 *      through sending a body and sees the connection close under it often gets ECONNRESET
 *      instead of our answer, so we read (and drop) small bodies first.
 *   2. body pieces: appended to a bounded buffer, or dropped once over the limit.
 *   3. body complete: answer the refusal, or validate the JSON and run the handler.
 * MHD's completion callback then records metrics, writes the access-log line and
 * releases the in-flight slot, whether the answer was sent or the client went away.
 *
 * Threading mode, chosen by measurement (bench/load.c, 64 keep-alive connections, the
 * 1,000,000-turn store, 2 shared cores; bench/RESULTS.md "HTTP server" has the runs):
 *   - a bare MHD handler is ~30-40k req/s either way: MHD is not what limits us;
 *   - reads (profile) are CPU-bound in the library: per-connection 2,400-2,600/s, p99
 *     80-98 ms; an epoll pool of 4 (2x cores) 2,000-3,200/s, p99 60-150 ms: a wash;
 *   - durable ingest waits on fsync: per-connection 470-570 turns/s, pool of 4 250-320,
 *     with p99 0.3 s vs 0.5-0.9 s, because a pool worker blocked in a commit also stalls
 *     every other connection it multiplexes (and a 100+ ms context query does the same).
 * So the default is thread per connection (threads = 0): blocking library calls only ever
 * stall their own client, and MHD_OPTION_CONNECTION_LIMIT bounds the thread count.
 * --threads N switches to MHD_USE_EPOLL_INTERNAL_THREAD with a pool of N workers.
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

/* Oversized bodies up to this size are read and dropped before the 413 (see req_begin). */
#define DRAIN_MAX (8u << 20)

void srv_config_defaults(struct srv_config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    cfg->listen = "127.0.0.1:8420";
    cfg->max_body = 1u << 20;
    cfg->max_import = 64u << 20;
    cfg->max_inflight = 256;
    cfg->max_connections = 1024;
    cfg->threads = 0;
    cfg->timeout_s = 60;
    cfg->drain_s = 30;
    {
        /* One read handle per core: reads are CPU-bound once the pages are cached. */
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        cfg->readers = n < 1 ? 1 : n > 16 ? 16 : (unsigned)n;
    }
    cfg->access_log = 1;
}

/* ---- Small helpers ----------------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    /* splitmix64's finaliser: a bijection, so distinct counters give distinct ids. */
    x += 0x9e3779b97f4a7c15ull;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* x as 16 lower-case hex digits and a NUL: a request id, once per request. */
static void hex16(char *out, uint64_t x)
{
    static const char hex[] = "0123456789abcdef";
    int i;

    for (i = 15; i >= 0; i--, x >>= 4)
        out[i] = hex[x & 15];
    out[16] = '\0';
}

/* A client's X-Request-Id is echoed only when it is short and plain, so it can go into
 * logs and headers without escaping or splitting anything. */
static int sane_request_id(const char *s)
{
    size_t n = 0;

    if (!s)
        return 0;
    for (; s[n]; n++) {
        unsigned char c = (unsigned char)s[n];
        if (n >= 64)
            return 0;
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              c == '-' || c == '_' || c == '.' || c == ':'))
            return 0;
    }
    return n > 0;
}

/* Is `ctype` (a Content-Type header value) one of the media types in `want`? Parameters
 * such as "; charset=utf-8" are ignored; comparison is case-insensitive (RFC 9110). */
static int media_type_is(const char *ctype, const char *const *want)
{
    size_t n;

    if (!ctype)
        return 0;
    while (*ctype == ' ' || *ctype == '\t')
        ctype++;
    n = strcspn(ctype, "; \t");
    for (; *want; want++)
        if (strlen(*want) == n && strncasecmp(ctype, *want, n) == 0)
            return 1;
    return 0;
}

int srv_fail(struct srv_req *rq, int status, const char *code, const char *fmt, ...)
{
    va_list ap;

    /* First refusal wins: the earliest check is the one the client should fix first. */
    if (rq->err_status)
        return SRV_HANDLED;
    rq->err_status = status;
    rq->err_code = code;
    va_start(ap, fmt);
    vsnprintf(rq->err_msg, sizeof(rq->err_msg), fmt, ap);
    va_end(ap);
    return SRV_HANDLED;
}

void srv_answer_json(struct srv_req *rq, char *json)
{
    rq->out = json;
    rq->out_len = strlen(json);
    rq->out_type = "application/json";
    rq->out_free = engram_free;
}

const char *srv_query_arg(struct srv_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
}

const char *srv_header(struct srv_req *rq, const char *name)
{
    return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

/* ---- Responses ----------------------------------------------------------------------------- */

static enum MHD_Result queue(struct srv_req *rq, unsigned status, struct MHD_Response *resp,
                             const char *ctype, size_t len)
{
    enum MHD_Result ret;

    if (!resp)
        return MHD_NO; /* out of memory: MHD closes the connection, the log shows it */
    MHD_add_response_header(resp, "X-Request-Id", rq->request_id);
    if (ctype)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, ctype);
    if (status == 405 && rq->allow)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, rq->allow);
    if (status == 401)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer");
    if (status == 429 || status == 503)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_RETRY_AFTER, "1");
    /* While draining, tell keep-alive clients to reconnect (to the next instance). */
    if (atomic_load(&rq->srv->draining))
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(rq->conn, status, resp);
    MHD_destroy_response(resp);
    if (ret == MHD_YES) {
        rq->status = (int)status;
        rq->sent_bytes = len;
    }
    return ret;
}

static enum MHD_Result send_error(struct srv_req *rq, unsigned status, const char *code,
                                  const char *msg)
{
    json_t *j;
    char *text = NULL;

    j = json_pack("{s:{s:s,s:s}}", "error", "code", code ? code : "internal", "message",
                  msg ? msg : "");
    if (j)
        text = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (!text)
        return MHD_NO;
    return queue(rq, status,
                 MHD_create_response_from_buffer_with_free_callback(strlen(text), text, free),
                 "application/json", strlen(text));
}

/* Answer a library failure with the status, machine name and message of engram.h. */
static enum MHD_Result send_lib_error(struct srv_req *rq, int rc)
{
    engram *db = rq->db;
    const char *code = engram_errname(db);
    const char *msg = engram_errmsg(db);

    if (!code || !*code)
        code = engram_status_name(rc);
    if (!msg || !*msg)
        msg = engram_errstr(rc);
    return send_error(rq, (unsigned)engram_status_http(rc), code, msg);
}

static enum MHD_Result send_output(struct srv_req *rq)
{
    struct MHD_Response *resp;
    size_t len = rq->out_len;

    resp = MHD_create_response_from_buffer_with_free_callback(len, rq->out, rq->out_free);
    if (!resp)
        return MHD_NO; /* rq->out is still ours; req_free releases it */
    rq->out = NULL;    /* the response owns it now */
    return queue(rq, 200, resp, rq->out_type, len);
}

/* ---- Store handles ------------------------------------------------------------------------ */

engram *srv_db_acquire(struct server *srv, int write)
{
    struct srv_pool *p = &srv->pool;
    engram *db;

    if (write || !p->free)
        return srv->db;
    pthread_mutex_lock(&p->mu);
    while (p->nfree == 0)
        pthread_cond_wait(&p->cv, &p->mu);
    db = p->free[--p->nfree];
    pthread_mutex_unlock(&p->mu);
    return db;
}

void srv_db_release(struct server *srv, engram *db)
{
    struct srv_pool *p = &srv->pool;

    if (!db || db == srv->db)
        return;
    pthread_mutex_lock(&p->mu);
    p->free[p->nfree++] = db;
    pthread_cond_signal(&p->cv);
    pthread_mutex_unlock(&p->mu);
}

/* ---- The request life cycle ---------------------------------------------------------------- */

static void req_free(struct srv_req *rq)
{
    if (!rq)
        return;
    if (rq->out && rq->out_free)
        rq->out_free(rq->out);
    eg_buf_reset(&rq->body);
    free(rq->path);
    free(rq->scratch);
    free(rq->key_id);
    free(rq->scope_floor);
    free(rq);
}

static struct srv_req *req_new(struct server *srv, struct MHD_Connection *conn, const char *url,
                               const char *method)
{
    struct srv_req *rq = calloc(1, sizeof(*rq));
    const char *rid;

    if (!rq)
        return NULL;
    clock_gettime(CLOCK_MONOTONIC, &rq->t0);
    rq->srv = srv;
    rq->conn = conn;
    rq->path = strdup(url);
    rq->scratch = strdup(url);
    if (!rq->path || !rq->scratch) {
        req_free(rq);
        return NULL;
    }
    snprintf(rq->method, sizeof(rq->method), "%s", method);
    rid = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Request-Id");
    if (sane_request_id(rid))
        snprintf(rq->request_id, sizeof(rq->request_id), "%s", rid);
    else
        hex16(rq->request_id, mix64(srv->id_seed + atomic_fetch_add_explicit(
                                                      &srv->next_id, 1, memory_order_relaxed)));
    rq->call.size = sizeof(rq->call);
    rq->call.actor = "local";
    rq->call.request_id = rq->request_id;
    return rq;
}

/* Methods allowed on a path that matched some route, for 405's Allow header. */
static void check_method(struct srv_req *rq)
{
    const struct srv_route_def *def = &srv_routes[rq->route];

    if (strcmp(rq->method, def->method) == 0)
        return;
    /* HEAD is GET without the body (RFC 9110); MHD drops the body for us. */
    if (strcmp(def->method, "GET") == 0 && strcmp(rq->method, "HEAD") == 0)
        return;
    rq->allow = strcmp(def->method, "GET") == 0 ? "GET, HEAD" : def->method;
    srv_fail(rq, 405, "method_not_allowed", "%s is not allowed on %s; use %s", rq->method, rq->path,
             def->method);
}

/* The checks that need only the headers. Returns MHD_YES to go on reading the body, or
 * the result of queueing an immediate refusal. */
static enum MHD_Result req_begin(struct srv_req *rq)
{
    struct server *srv = rq->srv;
    const struct srv_route_def *def;
    const char *clen;
    size_t limit;

    rq->route = srv_route_match(rq->scratch, &rq->ctx, &rq->id);
    if (rq->route == R_UNMATCHED) {
        srv_fail(rq, 404, "not_found", "no route for %s", rq->path);
        return MHD_YES;
    }
    def = &srv_routes[rq->route];
    check_method(rq);
    if (rq->err_status)
        return MHD_YES;

    /* Body limit. A declared length over it is refused: a moderately oversized body is
     * read and dropped first (as a chunked one is), because a client still sending when
     * the connection closes sees a broken pipe instead of our 413; beyond DRAIN_MAX the
     * answer comes at once, without reading a byte. */
    limit = def->body == B_JSONL ? srv->cfg->max_import : srv->cfg->max_body;
    if (def->body == B_NONE)
        limit = 64u << 10; /* GETs have no body; do not buffer one */
    rq->body.limit = limit;
    clen = srv_header(rq, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (clen) {
        char *end;
        unsigned long long n;
        errno = 0;
        n = strtoull(clen, &end, 10);
        if (errno == 0 && end != clen && n > limit && n <= DRAIN_MAX) {
            rq->too_big = 1; /* req_finish answers 413 once the body is read */
        } else if (errno == 0 && end != clen && n > limit) {
            srv_fail(rq, 413, "too_large", "request body of %llu bytes is over the %zu-byte limit",
                     n, limit);
            return send_error(rq, 413, rq->err_code, rq->err_msg);
        }
    }

    if (def->body != B_NONE) {
        static const char *const json_types[] = {"application/json", NULL};
        static const char *const jsonl_types[] = {"application/x-ndjson", "application/jsonl",
                                                  "application/json", NULL};
        const char *ctype = srv_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!media_type_is(ctype, def->body == B_JSONL ? jsonl_types : json_types)) {
            srv_fail(rq, 415, "unsupported_media_type", "Content-Type must be %s (got %s)",
                     def->body == B_JSONL ? "application/x-ndjson, application/jsonl or "
                                            "application/json"
                                          : "application/json",
                     ctype ? ctype : "none");
            return MHD_YES;
        }
    }

    if (srv_auth(rq) != 0)
        return MHD_YES;

    /* Shed load before doing work: a bounded number of API requests is admitted at once,
     * so a burst queues in clients' retry loops instead of in our memory and in SQLite's
     * lock queue. /healthz and /metrics stay answerable under overload. */
    if (def->api) {
        unsigned now = atomic_fetch_add(&srv->inflight, 1) + 1;
        if (now > srv->cfg->max_inflight) {
            atomic_fetch_sub(&srv->inflight, 1);
            atomic_fetch_add(&srv->metrics.rejected_overload, 1);
            srv_fail(rq, 429, "overloaded", "%u requests in flight; retry shortly",
                     srv->cfg->max_inflight);
            return MHD_YES;
        }
        rq->admitted = 1;
    }

    if (rq->route == R_SESSION_TURNS || rq->route == R_TURNS) {
        const char *ik = srv_header(rq, "Idempotency-Key");
        if (ik) {
            if (strlen(ik) == 0 || strlen(ik) >= sizeof(rq->idem_key)) {
                srv_fail(rq, 400, "invalid_request", "Idempotency-Key must be 1 to %zu bytes",
                         sizeof(rq->idem_key) - 1);
                return MHD_YES;
            }
            snprintf(rq->idem_key, sizeof(rq->idem_key), "%s", ik);
            rq->call.idempotency_key = rq->idem_key;
        }
    }
    return MHD_YES;
}

/* The body is complete: validate it and run the route's handler. */
static enum MHD_Result req_finish(struct srv_req *rq)
{
    const struct srv_route_def *def = &srv_routes[rq->route];
    enum MHD_Result ret;
    int rc;

    if (rq->err_status)
        return send_error(rq, (unsigned)rq->err_status, rq->err_code, rq->err_msg);
    if (rq->too_big) {
        char msg[96];
        snprintf(msg, sizeof(msg), "request body is over the %zu-byte limit", rq->body.limit);
        return send_error(rq, 413, "too_large", msg);
    }

    /* JSON bodies are parsed once, by the library, which names a malformed body or one
     * that is not an object with code invalid_json, as this server would. What only the
     * server can see is checked here: that there is a body at all (the library reads a
     * NULL request as {}) and that it has no NUL byte, which would cut the C string the
     * library parses short of what was sent. */
    if (def->body == B_JSON) {
        if (rq->body.len == 0)
            return send_error(rq, 400, "invalid_json",
                              "request body is empty; expected a JSON object");
        if (memchr(rq->body.p, '\0', rq->body.len))
            return send_error(rq, 400, "invalid_json",
                              "request body is not valid JSON: it contains a NUL byte");
    }

    /* The handle is held for the handler and for reading its error, which is per thread
     * and per handle; it goes back before the answer is sent. /healthz borrows one only
     * when it has to ask the store, so it stays answerable while every reader is busy. */
    if (rq->route != R_HEALTHZ)
        rq->db = srv_db_acquire(rq->srv, def->write);
    rc = def->handler(rq);
    if (rc == SRV_HANDLED)
        ret = send_error(rq, (unsigned)rq->err_status, rq->err_code, rq->err_msg);
    else if (rc != ENGRAM_OK)
        ret = send_lib_error(rq, rc);
    else
        ret = send_output(rq);
    srv_db_release(rq->srv, rq->db);
    rq->db = NULL;
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    struct srv_req *rq = *con_cls;

    if (!rq) {
        rq = req_new(cls, conn, url, method);
        if (!rq)
            return MHD_NO;
        *con_cls = rq;
        return req_begin(rq);
    }
    if (*upload_data_size) {
        /* Refused requests and oversized bodies are read and dropped, never buffered. */
        if (!rq->err_status && !rq->too_big) {
            int rc = eg_buf_append(&rq->body, upload_data, *upload_data_size);
            if (rc == ENGRAM_TOOBIG)
                rq->too_big = 1;
            else if (rc != ENGRAM_OK)
                srv_fail(rq, 503, "out_of_memory", "out of memory reading the request body");
        }
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (rq->status)
        return MHD_YES; /* already answered (an early 413) */
    return req_finish(rq);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct server *srv = cls;
    struct srv_req *rq = *con_cls;
    struct timespec t1;
    uint64_t us;

    if (!rq)
        return;
    *con_cls = NULL;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    us = (uint64_t)(t1.tv_sec - rq->t0.tv_sec) * 1000000u +
         (uint64_t)((t1.tv_nsec - rq->t0.tv_nsec) / 1000);
    if (!rq->status)
        rq->status = 499; /* the client went away before an answer (nginx's convention) */
    srv_metrics_observe(&srv->metrics, rq->route, rq->status, us);
    if (srv->cfg->access_log)
        srv_log_request(rq, us);
    if (rq->admitted)
        atomic_fetch_sub(&srv->inflight, 1);
    req_free(rq);
}

/* MHD's format strings are its own, so -Wformat-nonliteral cannot see them. */
#if defined(__clang__) || defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
static void mhd_logger(void *cls, const char *fmt, va_list ap)
{
    char line[512];
    size_t n;

    vsnprintf(line, sizeof(line), fmt, ap);
    n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    srv_log_event("warn", "libmicrohttpd", "detail", line);
}
#if defined(__clang__) || defined(__GNUC__)
#pragma GCC diagnostic pop
#endif

static void lib_log(void *arg, const char *line)
{
    srv_log_event("notice", line, NULL, NULL);
}

/* ---- Listening --------------------------------------------------------------------------------
 */

static int is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return (ntohl(in->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        const uint8_t *b = in6->sin6_addr.s6_addr;
        if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
            return 1;
        return IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr) && b[12] == 127;
    }
    return 0;
}

/* Split "host:port" / "[v6]:port" / ":port". Returns 0, or -1 with a message printed. */
static int split_listen(const char *listen, char *host, size_t hostsz, char *port, size_t portsz)
{
    const char *colon;
    size_t hl;

    if (listen[0] == '[') {
        const char *close = strchr(listen, ']');
        if (!close || close[1] != ':')
            goto bad;
        hl = (size_t)(close - listen - 1);
        if (hl == 0 || hl >= hostsz)
            goto bad;
        memcpy(host, listen + 1, hl);
        host[hl] = '\0';
        colon = close + 1;
    } else {
        colon = strrchr(listen, ':');
        if (!colon)
            goto bad;
        hl = (size_t)(colon - listen);
        if (hl >= hostsz)
            goto bad;
        memcpy(host, listen, hl);
        host[hl] = '\0';
        if (hl == 0)
            snprintf(host, hostsz, "127.0.0.1"); /* ":8420" means loopback, the safe one */
    }
    if (!colon[1] || strlen(colon + 1) >= portsz ||
        strspn(colon + 1, "0123456789") != strlen(colon + 1))
        goto bad;
    snprintf(port, portsz, "%s", colon + 1);
    return 0;
bad:
    fprintf(stderr, "engram: serve: --listen wants HOST:PORT or [V6]:PORT, got '%s'\n", listen);
    return -1;
}

/*
 * Resolve and bind the listening socket ourselves (rather than MHD's port option) so
 * that names and IPv6 work, so that the loopback rule is checked on the address actually
 * bound, and so that port 0 can be reported. Returns the fd, or -1 with *exit_code set.
 */
static int open_listener(struct server *srv, int *exit_code, char *url, size_t urlsz)
{
    char host[256], port[16], addr[INET6_ADDRSTRLEN];
    struct addrinfo hints, *res = NULL, *ai;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    int fd = -1, rc, keys = 0, one = 1, loopback = 1;

    *exit_code = 1;
    if (split_listen(srv->cfg->listen, host, sizeof(host), port, sizeof(port)) != 0)
        return -1;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, "engram: serve: cannot resolve '%s': %s\n", host, gai_strerror(rc));
        return -1;
    }
    for (ai = res; ai; ai = ai->ai_next)
        loopback &= is_loopback(ai->ai_addr);

    rc = srv_keys_active(srv, srv->db, &keys); /* also the first entry of the cache */
    if (rc != ENGRAM_OK) {
        fprintf(stderr, "engram: serve: cannot count API keys: %s\n", engram_errmsg(srv->db));
        *exit_code = 2;
        goto done;
    }
    if (!loopback && keys == 0) {
        fprintf(stderr,
                "engram: serve: refusing to listen on %s without API keys: anyone who can "
                "reach it could read and erase every memory. Create a key first "
                "(engram keys create --context C) or listen on 127.0.0.1.\n",
                srv->cfg->listen);
        goto done;
    }
    /* Off loopback, a request without a key is refused even if every key is later
     * revoked: the check above must not be undone at run time. */
    srv->auth_required = !loopback;

    *exit_code = 2;
    for (ai = res; ai; ai = ai->ai_next) {
        fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
        if (fd < 0)
            continue;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(fd, ai->ai_addr, ai->ai_addrlen) == 0 && listen(fd, 1024) == 0)
            break;
        close(fd);
        fd = -1;
    }
    if (fd < 0) {
        fprintf(stderr, "engram: serve: cannot listen on %s: %s\n", srv->cfg->listen,
                strerror(errno));
        goto done;
    }
    /* Several pool workers accept on the one socket; a blocking accept would park all
     * but the winner. */
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    getsockname(fd, (struct sockaddr *)&ss, &sl);
    if (ss.ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)&ss;
        inet_ntop(AF_INET6, &in6->sin6_addr, addr, sizeof(addr));
        snprintf(url, urlsz, "http://[%s]:%u", addr, ntohs(in6->sin6_port));
    } else {
        const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
        inet_ntop(AF_INET, &in->sin_addr, addr, sizeof(addr));
        snprintf(url, urlsz, "http://%s:%u", addr, ntohs(in->sin_port));
    }
    *exit_code = 0;
done:
    freeaddrinfo(res);
    return fd;
}

/* ---- Run and drain ------------------------------------------------------------------------------
 */

static uint64_t random_seed(void)
{
    uint64_t seed = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    struct timespec ts;

    if (fd >= 0) {
        if (read(fd, &seed, sizeof(seed)) != (ssize_t)sizeof(seed))
            seed = 0;
        close(fd);
    }
    clock_gettime(CLOCK_REALTIME, &ts);
    return seed ^ ((uint64_t)ts.tv_nsec << 20) ^ (uint64_t)getpid();
}

int srv_run(engram *db, engram *const *readers, unsigned nreaders, const struct srv_config *cfg)
{
    struct server *srv;
    struct MHD_OptionItem opts[8];
    sigset_t sigs;
    char url[128];
    unsigned flags, nopt = 0;
    int fd, exit_code, sig = 0;
    struct timespec tick = {0, 10 * 1000 * 1000};
    unsigned waited_ms = 0;

    srv = calloc(1, sizeof(*srv));
    if (!srv) {
        fprintf(stderr, "engram: serve: out of memory\n");
        return 2;
    }
    srv->db = db;
    srv->cfg = cfg;
    pthread_mutex_init(&srv->pool.mu, NULL);
    pthread_cond_init(&srv->pool.cv, NULL);
    if (nreaders > 0) {
        unsigned i;
        srv->pool.free = calloc(nreaders, sizeof(*srv->pool.free));
        if (!srv->pool.free) {
            fprintf(stderr, "engram: serve: out of memory\n");
            exit_code = 2;
            goto out;
        }
        for (i = 0; i < nreaders; i++)
            srv->pool.free[srv->pool.nfree++] = readers[i];
    }
    snprintf(srv->healthz_body, sizeof(srv->healthz_body),
             "{\"status\":\"ok\",\"version\":\"%s\",\"backend\":\"%s\"}", engram_libversion(),
             engram_backend(db));
    srv->id_seed = random_seed();
    clock_gettime(CLOCK_MONOTONIC, &srv->started);
    json_object_seed(0); /* seed jansson's hash once, before worker threads race to */

    /* The library's notices ("WordNet not found; synonyms off") join the JSON log. */
    engram_set_log(db, lib_log, NULL);
    for (unsigned i = 0; i < nreaders; i++)
        engram_set_log(readers[i], lib_log, NULL);
    fd = open_listener(srv, &exit_code, url, sizeof(url));
    if (fd < 0)
        goto out;

    /* Signals go to this thread's sigwait() only: block them before MHD starts its
     * threads, which inherit the mask. A write to a closed socket must not kill us. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    /* The logger goes first: MHD reports problems with later options through it. */
    opts[nopt++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER, (intptr_t)mhd_logger, srv};
    opts[nopt++] = (struct MHD_OptionItem){MHD_OPTION_LISTEN_SOCKET, fd, NULL};
    opts[nopt++] =
        (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED, (intptr_t)on_completed, srv};
    opts[nopt++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_LIMIT, (intptr_t)cfg->max_connections, NULL};
    opts[nopt++] =
        (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT, (intptr_t)cfg->timeout_s, NULL};
    if (cfg->threads > 0) {
        /* epoll pool: MHD_USE_EPOLL_INTERNAL_THREAD is Linux's epoll; MHD falls back to
         * poll where it is missing only if we ask for AUTO, which we do not, so a build
         * elsewhere fails loudly here rather than quietly running on select(). */
        flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC | MHD_USE_ERROR_LOG;
        opts[nopt++] =
            (struct MHD_OptionItem){MHD_OPTION_THREAD_POOL_SIZE, (intptr_t)cfg->threads, NULL};
    } else {
        /* Thread per connection: MHD does not combine it with epoll; poll() it is. */
        flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC |
                MHD_USE_ERROR_LOG;
    }
    opts[nopt++] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

    srv->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, srv, MHD_OPTION_ARRAY, opts,
                                   MHD_OPTION_END);
    if (!srv->daemon) {
        fprintf(stderr, "engram: serve: libmicrohttpd failed to start on %s\n", url);
        close(fd);
        exit_code = 2;
        goto out;
    }
    srv_log_event("info", "listening", "url", url);

    while (sigwait(&sigs, &sig) != 0)
        ;
    atomic_store(&srv->draining, 1);

    /* Stop accepting: MHD hands the listening socket back and we close it, so a new
     * connection is refused at once instead of waiting in the backlog. Logged after, so
     * whoever sees "draining" can count on the refusal (tests/http waits for the line). */
    fd = MHD_quiesce_daemon(srv->daemon);
    if (fd >= 0)
        close(fd);
    srv_log_event("info", "draining", "signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    /* Wait for in-flight requests, up to --drain-timeout; a second signal (the operator
     * pressing Ctrl-C again) stops waiting at once. */
    while (atomic_load(&srv->inflight) > 0 && waited_ms < cfg->drain_s * 1000u) {
        if (sigtimedwait(&sigs, NULL, &tick) >= 0) {
            srv_log_event("warn", "second signal; not waiting for in-flight requests", NULL,
                          NULL);
            break;
        }
        waited_ms += 10;
    }
    if (atomic_load(&srv->inflight) > 0 && waited_ms >= cfg->drain_s * 1000u)
        srv_log_event("warn", "drain timed out; closing open requests", NULL, NULL);
    MHD_stop_daemon(srv->daemon);
    srv_log_event("info", "stopped", NULL, NULL);
    exit_code = 0;
out:
    free(srv->pool.free);
    pthread_cond_destroy(&srv->pool.cv);
    pthread_mutex_destroy(&srv->pool.mu);
    free(srv);
    return exit_code;
}
