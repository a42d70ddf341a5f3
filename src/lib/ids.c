/*
 * ids.c - record ids: a type prefix and a ULID (48-bit millisecond time + 80 random bits,
 * Crockford base32, lower case). Time-ordered ids keep B-tree inserts at the right edge in
 * both stores and sort the way people expect; the prefix makes a pasted id self-describing.
 */
#include <string.h>
#include <sys/random.h>

#include "lib/internal.h"

static const char b32[] = "0123456789abcdefghjkmnpqrstvwxyz";

void eg_id_new(engram *db, const char *prefix, char *out)
{
    uint64_t ms = (uint64_t)eg_now_ms();
    unsigned char r[10];
    char u[27];
    unsigned __int128 hi;

    if (ms <= db->ulid_last_ms) {
        /* Same (or a backwards) millisecond: increment the last random part, so ids made
         * by one handle are strictly increasing. */
        ms = db->ulid_last_ms;
        memcpy(r, db->ulid_last_rand, sizeof(r));
        for (int i = 9; i >= 0 && ++r[i] == 0; i--)
            ;
    } else if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
        /* getrandom cannot fail for 10 bytes once the pool is ready; stay unique anyway. */
        memset(r, 0, sizeof(r));
        memcpy(r, &ms, sizeof(ms) < sizeof(r) ? sizeof(ms) : sizeof(r));
    }
    db->ulid_last_ms = ms;
    memcpy(db->ulid_last_rand, r, sizeof(r));
    hi = ms & 0xffffffffffffULL;
    for (int i = 0; i < 10; i++)
        hi = (hi << 8) | r[i];
    /* 128 bits -> 26 base32 digits (the top digit holds 3 bits). */
    for (int i = 25; i >= 0; i--) {
        u[i] = b32[(unsigned)(hi & 31)];
        hi >>= 5;
    }
    u[26] = '\0';
    /* prefix "_" u, without snprintf: several ids per ingested turn. */
    {
        size_t n = strlen(prefix);

        if (n > EG_ID_MAX - 28)
            n = EG_ID_MAX - 28;
        memcpy(out, prefix, n);
        out[n] = '_';
        memcpy(out + n + 1, u, 27);
    }
}
