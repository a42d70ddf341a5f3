/*
 * buf.c - growable, bounded byte buffer. See buf.h.
 */
#include "util/buf.h"

#include <stdint.h>
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
    const unsigned char *p = (const unsigned char *)s, *end = p + n, *run;
    size_t start = b->len;
    int rc = eg_buf_append(b, "\"", 1);

    while (p < end && rc == ENGRAM_OK) {
        for (run = p; p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\'; p++)
            ;
        if (p > run)
            rc = eg_buf_append(b, (const char *)run, (size_t)(p - run));
        if (p == end || rc != ENGRAM_OK)
            break;
        if (*p >= 0x80) {
            /* One UTF-8 sequence, copied whole; an invalid or cut one (a text cut at a byte
             * limit) becomes U+FFFD, so the answer is always valid JSON. */
            size_t len = 0;
            uint32_t c = *p;

            if (c >= 0xC2 && c <= 0xDF)
                len = 2, c &= 0x1F;
            else if (c >= 0xE0 && c <= 0xEF)
                len = 3, c &= 0x0F;
            else if (c >= 0xF0 && c <= 0xF4)
                len = 4, c &= 0x07;
            if ((size_t)(end - p) < len)
                len = 0;
            for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xC0) != 0x80) {
                    len = 0;
                    break;
                }
                c = (c << 6) | (p[i] & 0x3F);
            }
            if (len == 0 || (len == 3 && c < 0x800) ||
                (len == 4 && (c < 0x10000 || c > 0x10FFFF)) || (c >= 0xD800 && c <= 0xDFFF)) {
                rc = eg_buf_append(b, "\\uFFFD", 6);
                p++;
            } else {
                rc = eg_buf_append(b, (const char *)p, len);
                p += len;
            }
            continue;
        }
        switch (*p) {
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
        default: {
            char esc[8];
            snprintf(esc, sizeof(esc), "\\u%04X", (unsigned)*p);
            rc = eg_buf_append(b, esc, 6);
        }
        }
        p++;
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
