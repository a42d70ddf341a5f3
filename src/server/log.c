/*
 * log.c - the access log and lifecycle events: one JSON object per line on stderr.
 *
 * Each line is formatted into one buffer and written with a single write(2), so lines
 * from concurrent requests never interleave (stdio's buffering would split long ones).
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

void srv_log_request(const struct srv_req *rq, double ms)
{
    struct eg_buf b = {0};
    char ts[48];
    int rc;

    b.limit = 8192; /* a hostile path is cut short rather than logged whole */
    timestamp(ts, sizeof(ts));
    rc =
        eg_buf_printf(&b, "{\"ts\":\"%s\",\"request_id\":\"%s\",\"method\":\"", ts, rq->request_id);
    if (rc == ENGRAM_OK)
        rc = srv_json_escape(&b, rq->method);
    if (rc == ENGRAM_OK)
        rc = eg_buf_puts(&b, "\",\"path\":\"");
    if (rc == ENGRAM_OK) {
        char cut[1024];
        snprintf(cut, sizeof(cut), "%s", rq->path ? rq->path : "");
        rc = srv_json_escape(&b, cut);
    }
    if (rc == ENGRAM_OK)
        rc = eg_buf_printf(&b, "\",\"route\":\"%s\",\"status\":%d,\"ms\":%.3f,\"bytes\":%zu",
                           srv_routes[rq->route].name, rq->status, ms, rq->sent_bytes);
    if (rc == ENGRAM_OK && rq->key_id) {
        rc = eg_buf_puts(&b, ",\"key\":\"");
        if (rc == ENGRAM_OK)
            rc = srv_json_escape(&b, rq->key_id);
        if (rc == ENGRAM_OK)
            rc = eg_buf_puts(&b, "\"");
    }
    if (rc == ENGRAM_OK && rq->err_status) {
        rc = eg_buf_puts(&b, ",\"error\":\"");
        if (rc == ENGRAM_OK)
            rc = srv_json_escape(&b, rq->err_msg);
        if (rc == ENGRAM_OK)
            rc = eg_buf_puts(&b, "\"");
    }
    if (rc == ENGRAM_OK)
        emit(&b);
    eg_buf_reset(&b);
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
