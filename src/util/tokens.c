/*
 * tokens.c - the stated, conservative token estimate behind every budget: retrieve.c packs
 * context with it and `engram eval` reports context sizes with it, so both count alike.
 */
#include "util/tokens.h"

#include <stddef.h>

int eg_tokens_estimate(const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    int n = 0;

    while (*p) {
        size_t k = 0;
        if ((*p | 32) >= 'a' && (*p | 32) <= 'z') {
            while ((p[k] | 32) >= 'a' && (p[k] | 32) <= 'z')
                k++;
            n += 1 + (int)((k - 1) / 7);
        } else if (*p >= '0' && *p <= '9') {
            while (p[k] >= '0' && p[k] <= '9')
                k++;
            n += (int)((k + 2) / 3);
        } else if (*p >= 0x80) {
            while (p[k] >= 0x80)
                k++;
            n += (int)((k + 1) / 2);
        } else {
            k = 1;
            n += !(*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r');
        }
        p += k;
    }
    return n + (n + 9) / 10;
}

