/*
 * buf.h - a growable byte buffer (curl's dynbuf, Redis' sds) with a hard size limit, so a
 * hostile input can never make us allocate without bound. Always NUL-terminated.
 */
#ifndef EG_BUF_H
#define EG_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

struct eg_buf {
    char *p;      /* NUL-terminated contents, or NULL while empty */
    size_t len;   /* bytes used, excluding the NUL */
    size_t cap;   /* bytes allocated */
    size_t limit; /* 0 = no limit; else appends past it fail with ENGRAM_TOOBIG */
};

/* Each append returns ENGRAM_OK, ENGRAM_NOMEM or ENGRAM_TOOBIG; on error buf is unchanged. */
int eg_buf_append(struct eg_buf *b, const char *s, size_t n);
int eg_buf_puts(struct eg_buf *b, const char *s);
int eg_buf_printf(struct eg_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Append s as a JSON string literal, quoted and escaped as jansson writes it (", \\ and
 * control characters; valid UTF-8 passes through, an invalid sequence becomes \uFFFD).
 * NULL appends null. */
int eg_buf_json_str(struct eg_buf *b, const char *s);
int eg_buf_json_strn(struct eg_buf *b, const char *s, size_t n); /* n bytes of s */
/* A real as answers write it (jansson's JSON_REAL_PRECISION(6): "%.6g", ".0" added to an
 * integral value, exponent without leading zeros); not finite writes 0.0. */
int eg_buf_json_real(struct eg_buf *b, double v);
/* An ISO-8601 UTC time string of ms since the epoch, or null for 0. */
int eg_buf_json_time(struct eg_buf *b, int64_t ms);
/* Hand the contents to the caller (free() it); leaves b empty. Never NULL on success. */
char *eg_buf_detach(struct eg_buf *b);
void eg_buf_reset(struct eg_buf *b); /* frees and zeroes; keeps the limit */

#endif
