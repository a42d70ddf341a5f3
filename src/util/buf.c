/*
 * buf.c - growable, bounded byte buffer. See buf.h.
 */
#include "util/buf.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engram.h"
#include "util/isotime.h"

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

/*
 * "%.6g" of v, for the scores' usual range (1e-4 <= v < 999999.5), without printf: 26 reals
 * per answer went through glibc's exact decimal conversion, 7% of a context call. The six
 * digits are v scaled by a power of ten (exact for these powers) and rounded; a product
 * within 1e-6 of a rounding tie, where the product's own rounding could decide, is left
 * to snprintf, as is everything outside the range. Checked against snprintf on 20 million
 * values of several distributions, with no difference. Returns the length, or -1.
 */
static int fast_g6(double v, char *s)
{
    static const double p10[] = {1e-4, 1e-3, 1e-2, 1e-1, 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
    static const double scale[] = {1e9, 1e8, 1e7, 1e6, 1e5, 1e4, 1e3, 1e2, 1e1, 1};
    double x, f;
    long r;
    int e, n = 0, ndig, point;
    char d[8];

    if (v == 0 && !signbit(v)) {
        s[0] = '0';
        s[1] = '\0';
        return 1;
    }
    if (!(v >= 1e-4 && v < 999999.5))
        return -1;
    for (e = 0; e < 10 && v >= p10[e + 1]; e++)
        ;
    /* v in [10^(e-4), 10^(e-3)): six significant digits are v * 10^(9-e) */
    x = v * scale[e];
    f = x - floor(x);
    if (fabs(f - 0.5) < 1e-6)
        return -1; /* too close to a rounding tie to trust the product */
    r = (long)floor(x + 0.5);
    if (r >= 1000000) { /* rounded up to the next power of ten */
        if (++e > 9)
            return -1;
        r = 100000;
    }
    if (r < 100000)
        return -1;
    /* exponent X = e - 4; %g style f with P-1-X = 9-e decimals when -4 <= X < 6 */
    for (int i = 5; i >= 0; i--) {
        d[i] = (char)('0' + r % 10);
        r /= 10;
    }
    ndig = 6;
    while (ndig > 1 && d[ndig - 1] == '0')
        ndig--; /* %g drops trailing zeros */
    point = e - 4 + 1; /* digits before the point */
    if (point <= 0) {
        s[n++] = '0';
        s[n++] = '.';
        for (int i = 0; i < -point; i++)
            s[n++] = '0';
        for (int i = 0; i < ndig; i++)
            s[n++] = d[i];
    } else {
        for (int i = 0; i < point; i++)
            s[n++] = d[i];
        if (ndig > point) {
            s[n++] = '.';
            for (int i = point; i < ndig; i++)
                s[n++] = d[i];
        }
    }
    s[n] = '\0';
    return n;
}

int eg_buf_json_real(struct eg_buf *b, double v)
{
    char s[48], *e;
    int n;

    if (!isfinite(v)) /* jansson has no such number either; never produced by the ranking */
        v = 0;
    if ((n = fast_g6(v, s)) < 0)
        n = snprintf(s, sizeof(s) - 3, "%.6g", v);
    if (n < 0 || n >= (int)sizeof(s) - 3)
        return ENGRAM_NOMEM;
    if (!strchr(s, '.') && !strchr(s, 'e')) {
        memcpy(s + n, ".0", 3);
        n += 2;
    }
    if ((e = strchr(s, 'e')) != NULL) {
        char *start = e + 1, *end = start + 1;
        if (*start == '-')
            start++;
        while (*end == '0')
            end++;
        if (end != start) {
            memmove(start, end, (size_t)(s + n + 1 - end));
            n -= (int)(end - start);
        }
    }
    return eg_buf_append(b, s, (size_t)n);
}

int eg_buf_json_time(struct eg_buf *b, int64_t ms)
{
    char iso[EG_ISO_LEN];

    if (!ms)
        return eg_buf_append(b, "null", 4);
    eg_iso_format(ms, iso);
    return eg_buf_json_str(b, iso);
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
