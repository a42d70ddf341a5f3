/*
 * log.c - the access log and lifecycle events: one JSON object per line on stderr.
 *
 * Each line is formatted into one buffer and written with a single write(2), so lines
 * from concurrent requests never interleave (stdio's buffering would split long ones).
 * The access log runs once per request, so its line is built by hand in a stack buffer:
 * no allocation, no printf, and the "YYYY-MM-DDTHH:MM:SS" part of the timestamp is
 * formatted once a second per thread (printf, strftime and malloc were ~10% of a /healthz
 * request under perf).
 */
#include "server/server.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int srv_json_escape(struct eg_buf *b, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    const char *run = s;
    int rc = ENGRAM_OK;

    for (; *s && rc == ENGRAM_OK; s++) {
        unsigned char c = (unsigned char)*s;
        char esc[7] = {'\\', 'u', '0', '0', 0, 0, 0};
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        rc = eg_buf_append(b, run, (size_t)(s - run));
        run = s + 1;
        if (rc != ENGRAM_OK)
            break;
        if (c == '"' || c == '\\') {
            esc[1] = (char)c;
            rc = eg_buf_append(b, esc, 2);
        } else {
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            rc = eg_buf_append(b, esc, 6);
        }
    }
    if (rc == ENGRAM_OK)
        rc = eg_buf_append(b, run, strlen(run));
    return rc;
}

static void timestamp(char *out, size_t n)
{
    struct timespec ts;
    struct tm tm;
    char base[32];

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, n, "%s.%03ldZ", base, ts.tv_nsec / 1000000);
}

static void emit(struct eg_buf *b)
{
    size_t off = 0;

    if (eg_buf_append(b, "}\n", 2) != ENGRAM_OK)
        return;
    while (off < b->len) {
        ssize_t w = write(STDERR_FILENO, b->p + off, b->len - off);
        if (w <= 0)
            break; /* a closed stderr must not stop the server */
        off += (size_t)w;
    }
}

/* A fixed buffer that truncates instead of failing: a hostile path is cut short rather
 * than logged whole, and the line still ends as valid JSON. */
struct line {
    char p[8192];
    size_t len;
};

#define LINE_TAIL 64 /* kept free for the fields after the path and the closing "}\n" */

static void put(struct line *l, const char *s, size_t n)
{
    if (n > sizeof(l->p) - l->len)
        n = sizeof(l->p) - l->len;
    memcpy(l->p + l->len, s, n);
    l->len += n;
}

static void puts_(struct line *l, const char *s)
{
    put(l, s, strlen(s));
}

/* Append s as a JSON string body, stopping (between characters) once `room` bytes are
 * left, so an escape is never cut in half. */
static void put_escaped(struct line *l, const char *s, size_t room)
{
    static const char hex[] = "0123456789abcdef";

    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (l->len + 6 + room > sizeof(l->p))
            break;
        if (c >= 0x20 && c != '"' && c != '\\') {
            l->p[l->len++] = (char)c;
        } else if (c == '"' || c == '\\') {
            l->p[l->len++] = '\\';
            l->p[l->len++] = (char)c;
        } else {
            memcpy(l->p + l->len, "\\u00", 4);
            l->p[l->len + 4] = hex[c >> 4];
            l->p[l->len + 5] = hex[c & 15];
            l->len += 6;
        }
    }
}

static void put_u64(struct line *l, uint64_t v, int min_digits)
{
    char d[24];
    int n = 0;

    do {
        d[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v || n < min_digits);
    while (n && l->len < sizeof(l->p))
        l->p[l->len++] = d[--n];
}

/* "2026-11-21T10:28:12.345Z", the seconds part formatted once a second per thread. */
static void put_timestamp(struct line *l)
{
    static _Thread_local time_t cached_sec = -1;
    static _Thread_local char cached[24];
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    if (ts.tv_sec != cached_sec) {
        struct tm tm;
        gmtime_r(&ts.tv_sec, &tm);
        strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm);
        cached_sec = ts.tv_sec;
    }
    puts_(l, cached);
    put(l, ".", 1);
    put_u64(l, (uint64_t)(ts.tv_nsec / 1000000), 3);
    put(l, "Z", 1);
}

void srv_log_request(const struct srv_req *rq, uint64_t us)
{
    struct line l;
    size_t off = 0;

    l.len = 0;
    puts_(&l, "{\"ts\":\"");
    put_timestamp(&l);
    puts_(&l, "\",\"request_id\":\"");
    puts_(&l, rq->request_id); /* ours or checked by sane_request_id: nothing to escape */
    puts_(&l, "\",\"method\":\"");
    put_escaped(&l, rq->method, LINE_TAIL);
    puts_(&l, "\",\"path\":\"");
    put_escaped(&l, rq->path ? rq->path : "", 1024 + LINE_TAIL);
    puts_(&l, "\",\"route\":\"");
    puts_(&l, srv_routes[rq->route].name);
    puts_(&l, "\",\"status\":");
    put_u64(&l, (uint64_t)(rq->status > 0 ? rq->status : 0), 1);
    puts_(&l, ",\"ms\":");
    put_u64(&l, us / 1000, 1);
    put(&l, ".", 1);
    put_u64(&l, us % 1000, 3);
    puts_(&l, ",\"bytes\":");
    put_u64(&l, rq->sent_bytes, 1);
    if (rq->key_id) {
        puts_(&l, ",\"key\":\"");
        put_escaped(&l, rq->key_id, 512 + LINE_TAIL);
        put(&l, "\"", 1);
    }
    if (rq->err_status) {
        puts_(&l, ",\"error\":\"");
        put_escaped(&l, rq->err_msg, LINE_TAIL);
        put(&l, "\"", 1);
    }
    /* The reserved tail guarantees room for the closing brace. */
    if (l.len > sizeof(l.p) - 2)
        l.len = sizeof(l.p) - 2;
    put(&l, "}\n", 2);
    while (off < l.len) {
        ssize_t w = write(STDERR_FILENO, l.p + off, l.len - off);
        if (w <= 0)
            break; /* a closed stderr must not stop the server */
        off += (size_t)w;
    }
}

void srv_log_event(const char *level, const char *msg, const char *key, const char *value)
{
    struct eg_buf b = {0};
    char ts[48];
    int rc;

    timestamp(ts, sizeof(ts));
    rc = eg_buf_printf(&b, "{\"ts\":\"%s\",\"level\":\"%s\",\"msg\":\"", ts, level);
    if (rc == ENGRAM_OK)
        rc = srv_json_escape(&b, msg);
    if (rc == ENGRAM_OK)
        rc = eg_buf_puts(&b, "\"");
    if (rc == ENGRAM_OK && key && value) {
        rc = eg_buf_printf(&b, ",\"%s\":\"", key);
        if (rc == ENGRAM_OK)
            rc = srv_json_escape(&b, value);
        if (rc == ENGRAM_OK)
            rc = eg_buf_puts(&b, "\"");
    }
    if (rc == ENGRAM_OK)
        emit(&b);
    eg_buf_reset(&b);
}
