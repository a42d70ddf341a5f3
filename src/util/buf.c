/*
 * buf.c - growable, bounded byte buffer. See buf.h.
 */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engram.h"

int eg_buf_append(struct eg_buf *b, const char *s, size_t n)
{
    size_t need;

    if (n > SIZE_MAX / 2 - b->len)
        return ENGRAM_TOOBIG;
    need = b->len + n + 1;
    if (b->limit && need - 1 > b->limit)
        return ENGRAM_TOOBIG;
    if (need > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        char *p;
        while (cap < need)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p)
            return ENGRAM_NOMEM;
        b->p = p;
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
    return ENGRAM_OK;
}

int eg_buf_puts(struct eg_buf *b, const char *s)
{
    return eg_buf_append(b, s, strlen(s));
}

int eg_buf_json_strn(struct eg_buf *b, const char *s, size_t n)
{
    const char *end = s + n;
    size_t start = b->len, run;
    int rc = eg_buf_append(b, "\"", 1);

    while (rc == ENGRAM_OK && s < end) {
        unsigned char c = (unsigned char)*s;
        char esc[8];

        for (run = 0; s + run < end && (unsigned char)s[run] >= 0x20 && s[run] != '"' &&
                      s[run] != '\\';
             run++)
            ;
        if (run) {
            rc = eg_buf_append(b, s, run);
            s += run;
            continue;
        }
        switch (c) {
        case '"':
            rc = eg_buf_append(b, "\\\"", 2);
            break;
        case '\\':
            rc = eg_buf_append(b, "\\\\", 2);
            break;
        case '\b':
            rc = eg_buf_append(b, "\\b", 2);
            break;
        case '\f':
            rc = eg_buf_append(b, "\\f", 2);
            break;
        case '\n':
            rc = eg_buf_append(b, "\\n", 2);
            break;
        case '\r':
            rc = eg_buf_append(b, "\\r", 2);
            break;
        case '\t':
            rc = eg_buf_append(b, "\\t", 2);
            break;
        default:
            snprintf(esc, sizeof(esc), "\\u%04X", c);
            rc = eg_buf_append(b, esc, 6);
        }
        s++;
    }
    if (rc == ENGRAM_OK)
        rc = eg_buf_append(b, "\"", 1);
    if (rc != ENGRAM_OK) { /* leave b as it was */
        b->len = start;
        if (b->p)
            b->p[start] = '\0';
    }
    return rc;
}

int eg_buf_json_str(struct eg_buf *b, const char *s)
{
    return s ? eg_buf_json_strn(b, s, strlen(s)) : eg_buf_append(b, "null", 4);
}

int eg_buf_printf(struct eg_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return ENGRAM_ERROR;
    if ((size_t)n < sizeof(small))
        return eg_buf_append(b, small, (size_t)n);
    {
        char *big = malloc((size_t)n + 1);
        int rc;
        if (!big)
            return ENGRAM_NOMEM;
        va_start(ap, fmt);
        vsnprintf(big, (size_t)n + 1, fmt, ap);
        va_end(ap);
        rc = eg_buf_append(b, big, (size_t)n);
        free(big);
        return rc;
    }
}

char *eg_buf_detach(struct eg_buf *b)
{
    char *p = b->p;

    if (!p) {
        p = malloc(1);
        if (p)
            p[0] = '\0';
    }
    b->p = NULL;
    b->len = b->cap = 0;
    return p;
}

void eg_buf_reset(struct eg_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}
