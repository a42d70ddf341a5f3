/*
 * vectors.c - the EGVEC1 word-vector file: mmap, validation, word look-up by binary search,
 * and text embedding by weighted averaging. See vectors.h for the format and contract.
 *
 * Nothing is copied out of the mapping: the entry table, the string pool and the int8
 * matrix are read in place, so opening is O(count) checks and no allocation beyond the
 * handle, and the page cache shares the file between processes.
 */
#include "lib/vectors.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engram.h"
#include "lib/stem.h"

#define HEADER_SIZE 32
#define ENTRY_SIZE  16
#define DIM_MAX     1024

/* One entry of the file, as laid out on disk (little-endian, naturally aligned). */
struct entry {
    uint32_t str_off;
    uint16_t len;
    uint16_t reserved;
    uint32_t rank;
    float scale;
};

struct eg_vectors {
    const unsigned char *map;
    size_t map_len;
    uint32_t dim, count;
    const struct entry *entries;
    const char *strings;
    uint32_t strings_size;
    const int8_t *matrix;
};

static uint32_t le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* The entries are read through a struct, which matches the file only on a little-endian
 * host with IEEE floats; engram builds for no other, and this says so rather than misread. */
static int host_matches_format(void)
{
    const uint32_t one = 1;
    const float f = 1.0f;
    uint32_t bits;

    memcpy(&bits, &f, sizeof(bits));
    return *(const unsigned char *)&one == 1 && bits == 0x3F800000u &&
           sizeof(struct entry) == ENTRY_SIZE;
}

/* Checks the header and every entry against the file size. */
static int validate(struct eg_vectors *v)
{
    const unsigned char *h = v->map;
    uint32_t matrix_off, i;
    uint64_t end;

    if (v->map_len < HEADER_SIZE || memcmp(h, "EGVEC1\0\0", 8) != 0)
        return ENGRAM_INVALID;
    v->dim = le32(h + 8);
    v->count = le32(h + 12);
    v->strings_size = le32(h + 16);
    matrix_off = le32(h + 20);
    if (v->dim == 0 || v->dim > DIM_MAX || v->count == 0 || matrix_off % 8 != 0)
        return ENGRAM_INVALID;
    end = (uint64_t)HEADER_SIZE + (uint64_t)ENTRY_SIZE * v->count + v->strings_size;
    if (end > matrix_off || (uint64_t)matrix_off + (uint64_t)v->count * v->dim != v->map_len)
        return ENGRAM_INVALID;
    v->entries = (const struct entry *)(h + HEADER_SIZE);
    v->strings = (const char *)(h + HEADER_SIZE + (size_t)ENTRY_SIZE * v->count);
    v->matrix = (const int8_t *)(h + matrix_off);
    for (i = 0; i < v->count; i++) {
        const struct entry *e = &v->entries[i];

        if (e->len == 0 || (uint64_t)e->str_off + e->len >= v->strings_size ||
            v->strings[e->str_off + e->len] != '\0' || !(e->scale > 0.0f) || !isfinite(e->scale))
            return ENGRAM_INVALID;
    }
    return ENGRAM_OK;
}

int eg_vectors_open(const char *path, struct eg_vectors **out)
{
    struct eg_vectors *v = NULL;
    struct stat sb;
    void *map;
    int fd = -1, rc;

    *out = NULL;
    if (!host_matches_format())
        return ENGRAM_ERROR;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? ENGRAM_NOTFOUND : ENGRAM_ERROR;
    if (fstat(fd, &sb) != 0) {
        rc = ENGRAM_ERROR;
        goto cleanup;
    }
    if (!S_ISREG(sb.st_mode) || sb.st_size < HEADER_SIZE) {
        rc = ENGRAM_INVALID;
        goto cleanup;
    }
    v = calloc(1, sizeof(*v));
    if (v == NULL) {
        rc = ENGRAM_NOMEM;
        goto cleanup;
    }
    map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) {
        rc = errno == ENOMEM ? ENGRAM_NOMEM : ENGRAM_ERROR;
        goto cleanup;
    }
    v->map = map;
    v->map_len = (size_t)sb.st_size;
    if ((rc = validate(v)) != ENGRAM_OK)
        goto cleanup;
    *out = v;
    v = NULL;

cleanup:
    if (fd >= 0)
        close(fd); /* the mapping stays valid without the descriptor */
    eg_vectors_close(v);
    return rc;
}

void eg_vectors_close(struct eg_vectors *v)
{
    if (v == NULL)
        return;
    if (v->map != NULL)
        munmap((void *)v->map, v->map_len);
    free(v);
}

int eg_vectors_dim(const struct eg_vectors *v)
{
    return (int)v->dim;
}

size_t eg_vectors_count(const struct eg_vectors *v)
{
    return v->count;
}

/* Index of word in the sorted entries, or -1. */
static long find(const struct eg_vectors *v, const char *w, size_t n)
{
    size_t lo = 0, hi = v->count;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct entry *e = &v->entries[mid];
        int c = memcmp(w, v->strings + e->str_off, n < e->len ? n : e->len);

        if (c == 0)
            c = (n > e->len) - (n < e->len);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return -1;
}

int eg_vectors_word(const struct eg_vectors *v, const char *word, size_t n, float *out,
                    uint32_t *out_rank)
{
    long i = find(v, word, n);
    const int8_t *row;
    float scale;
    uint32_t d;

    if (out_rank != NULL)
        *out_rank = 0;
    if (i < 0) {
        memset(out, 0, sizeof(*out) * v->dim);
        return ENGRAM_NOTFOUND;
    }
    row = v->matrix + (size_t)i * v->dim;
    scale = v->entries[i].scale;
    for (d = 0; d < v->dim; d++)
        out[d] = (float)row[d] * scale;
    if (out_rank != NULL)
        *out_rank = v->entries[i].rank;
    return ENGRAM_OK;
}

/* Words that say what kind of answer is wanted, not what it is about ("recommend a
 * restaurant", "any tips for my trip"). Averaged in, they pull every query toward every
 * other request; skipping them raised top-3 hits on a small set of everyday queries whose
 * relevant memory shares no word with them from 11 to 14 of 24. Sorted for bsearch. */
static const char *const request_words[] = {
    "also",   "best",   "can",       "could",  "do",      "find",  "get",   "give",
    "go",     "good",   "got",       "help",   "idea",    "ideas", "just",  "know",
    "let",    "like",   "lot",       "make",   "many",    "much",  "need",  "ok",
    "please", "really", "recommend", "should", "suggest", "tell",  "thing", "things",
    "think",  "tips",   "want",      "way",    "well",    "would",
};

static int is_request_word(const char *w, size_t n)
{
    size_t lo = 0, hi = sizeof(request_words) / sizeof(request_words[0]);

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2, ml = strlen(request_words[mid]);
        int c = memcmp(w, request_words[mid], n < ml ? n : ml);

        if (c == 0)
            c = (n > ml) - (n < ml);
        if (c == 0)
            return 1;
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return 0;
}

struct embed_ctx {
    const struct eg_vectors *v;
    float *acc;
    size_t known;
};

static int embed_word(void *arg, const char *tok, size_t n, size_t start, size_t end)
{
    struct embed_ctx *cx = arg;
    const struct eg_vectors *v = cx->v;
    const int8_t *row;
    float w;
    long i;
    uint32_t d;

    (void)start;
    (void)end;
    if (eg_is_stopword(tok, n) || is_request_word(tok, n))
        return 0;
    i = find(v, tok, n);
    /* A plural the vocabulary lacks still means its singular ("kombuchas"). */
    if (i < 0 && n > 3 && tok[n - 1] == 's' && tok[n - 2] != 's')
        i = find(v, tok, n - 1);
    if (i < 0)
        return 0;
    /* Smooth inverse frequency: a/(a + p(w)) with Zipf's p(w) ~ 1/rank is
     * rank/(rank + c), so "the"-like words fade and content words count fully. */
    w = (float)v->entries[i].rank;
    w = (w + 1.0f) / (w + 1.0f + EG_VECTORS_WEIGHT_RANK) * v->entries[i].scale;
    row = v->matrix + (size_t)i * v->dim;
    for (d = 0; d < v->dim; d++)
        cx->acc[d] += w * (float)row[d];
    cx->known++;
    return 0;
}

int eg_vectors_embed(const struct eg_vectors *v, const char *text, size_t len, float *out)
{
    struct embed_ctx cx = {v, out, 0};
    double norm = 0;
    uint32_t d;

    memset(out, 0, sizeof(*out) * v->dim);
    if (text == NULL || len == 0)
        return ENGRAM_NOTFOUND;
    eg_words(text, len, embed_word, &cx);
    for (d = 0; d < v->dim; d++)
        norm += (double)out[d] * out[d];
    if (cx.known == 0 || norm <= 0) {
        memset(out, 0, sizeof(*out) * v->dim);
        return ENGRAM_NOTFOUND;
    }
    norm = sqrt(norm);
    for (d = 0; d < v->dim; d++)
        out[d] = (float)(out[d] / norm);
    return ENGRAM_OK;
}

float eg_vec_cosine(const float *a, const float *b, int dim)
{
    double dot = 0, na = 0, nb = 0;
    int i;

    for (i = 0; i < dim; i++) {
        dot += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    if (na <= 0 || nb <= 0)
        return 0.0f;
    return (float)(dot / sqrt(na * nb));
}

void eg_vec_quantize(const float *in, int dim, int8_t *out, float *out_scale)
{
    float max = 0, scale;
    int i;

    for (i = 0; i < dim; i++)
        if (fabsf(in[i]) > max)
            max = fabsf(in[i]);
    scale = max > 0 ? max / 127.0f : 1.0f;
    for (i = 0; i < dim; i++) {
        float q = roundf(in[i] / scale);

        if (!isfinite(q)) /* a NaN input must not reach the int8 cast (undefined) */
            q = 0.0f;
        out[i] = (int8_t)(q > 127.0f ? 127 : q < -127.0f ? -127 : q);
    }
    *out_scale = scale;
}

void eg_vec_dequantize(const int8_t *in, float scale, int dim, float *out)
{
    int i;

    for (i = 0; i < dim; i++)
        out[i] = (float)in[i] * scale;
}
