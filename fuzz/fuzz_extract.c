/*
 * fuzz_extract.c - libFuzzer target for the rule extractor (src/lib/extract_*.c).
 *
 * The first byte picks the role and the turn time, the rest is the turn's text, so the
 * fuzzer explores both the role gate and date arithmetic around odd epochs. Every result
 * must be bounded and well formed: at most 64 facts, keys from the vocabulary, values that
 * are valid UTF-8 and never longer than the input allows. Any violation aborts, which the
 * fuzzer reports as a crash; fuzz/replay.c runs the saved corpus in every build.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engram.h"
#include "lib/extract.h"
#include "lib/vocab.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int valid_utf8(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s;
        size_t n = c < 0x80 ? 0 : (c >= 0xc2 && c <= 0xdf) ? 1 : (c >= 0xe0 && c <= 0xef) ? 2
                : (c >= 0xf0 && c <= 0xf4) ? 3 : 99;
        size_t k;
        if (n == 99)
            return 0;
        for (k = 1; k <= n; k++)
            if ((s[k] & 0xc0) != 0x80)
                return 0;
        s += n + 1;
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const roles[] = {"user", "user", "user", "assistant", "system", "tool"};
    static const int64_t times[] = {1731664800000LL, 0, -86400000LL * 365 * 3000,
                                    86400000LL * 365 * 8000, 951782400000LL /* 2000-02-29 */,
                                    1735603200000LL /* 2024-12-31 */, INT64_MAX / 2,
                                    INT64_MIN / 2};
    struct eg_facts f;
    const char *role;
    int64_t at;
    size_t i;
    int rc;

    if (size == 0)
        return 0;
    role = roles[data[0] % 6];
    at = times[(data[0] >> 3) % 8];
    memset(&f, 0, sizeof(f));
    rc = eg_extract_rules((const char *)data + 1, size - 1, role, at, &f);
    if (rc != ENGRAM_OK && rc != ENGRAM_NOMEM)
        abort();
    if (f.n > 64 || (f.n && strcmp(role, "user") != 0))
        abort();
    for (i = 0; i < f.n; i++) {
        const struct eg_fact *x = &f.v[i];
        const struct eg_vocab_key *k = eg_vocab_find(x->key);
        if (!k || !x->category || !x->entity_type)
            abort();
        if (x->op != EG_FACT_NEGATE && !x->value)
            abort();
        if (x->value && (!valid_utf8((const unsigned char *)x->value) ||
                         strlen(x->value) > 256 || strlen(x->value) == 0))
            abort();
        if (x->previous_value && !valid_utf8((const unsigned char *)x->previous_value))
            abort();
        if (x->confidence <= 0.0 || x->confidence > 1.0)
            abort();
    }
    eg_facts_free(&f);
    if (f.n || f.v)
        abort();
    return 0;
}
