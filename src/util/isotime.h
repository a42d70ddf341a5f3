/*
 * isotime.h - ISO-8601 times <-> int64 milliseconds since the epoch, UTC. Our wire format
 * is "2024-11-15T10:23:00.000Z"; we accept dates, optional seconds and fractions, and
 * "Z" or a +hh:mm offset, and reject everything else rather than guess.
 */
#ifndef EG_ISOTIME_H
#define EG_ISOTIME_H

#include <stddef.h>
#include <stdint.h>

#define EG_ISO_LEN 40 /* "2024-11-15T10:23:00.000Z" + NUL, with room for odd years */

/* 0 on success with *out_ms set; -1 when text is not a time we accept. */
int eg_iso_parse(const char *text, int64_t *out_ms);
/* Format ms into out (at least EG_ISO_LEN bytes). */
void eg_iso_format(int64_t ms, char *out);
/* Days since 1970-01-01 for a civil date, and back (Howard Hinnant's algorithms). */
int64_t eg_days_from_civil(int64_t y, int64_t m, int64_t d);
void eg_civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d);
int64_t eg_now_ms(void);

#endif
