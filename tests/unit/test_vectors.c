/*
 * test_vectors.c - the EGVEC1 reader: a tiny file in the real format, written here by a
 * small C writer (so the test needs no node), checks look-up, embedding, cosine order and
 * the rejection of damaged files; and, when data/vectors.bin has been made (`make data`),
 * the semantic sanity of the real GloVe file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "engram.h"
#include "lib/vectors.h"

#define DIM 4

/* Axes: 0 food, 1 computers, 2 places, 3 family. Sorted by bytes, as the format requires. */
static const struct {
    const char *word;
    uint32_t rank;
    float v[DIM];
} fixture[] = {
    {"broken", 900, {0.0f, 0.8f, 0.0f, 0.2f}},      {"caf\xc3\xa9", 5000, {0.7f, 0.0f, 0.7f, 0.0f}},
    {"daughter", 800, {0.0f, 0.0f, 0.1f, 1.0f}},    {"food", 300, {1.0f, 0.0f, 0.1f, 0.0f}},
    {"italian", 1200, {0.7f, 0.0f, 0.4f, 0.0f}},    {"laptop", 4000, {0.0f, 1.0f, 0.0f, 0.0f}},
    {"loves", 700, {0.2f, 0.1f, 0.1f, 0.5f}},       {"pasta", 6000, {0.95f, 0.0f, 0.1f, 0.0f}},
    {"restaurant", 2000, {0.8f, 0.0f, 0.5f, 0.0f}}, {"the", 0, {0.5f, 0.5f, 0.5f, 0.5f}},
};
#define NWORDS (sizeof(fixture) / sizeof(fixture[0]))

static void put32(unsigned char *p, uint32_t x)
{
    p[0] = (unsigned char)x;
    p[1] = (unsigned char)(x >> 8);
    p[2] = (unsigned char)(x >> 16);
    p[3] = (unsigned char)(x >> 24);
}

/* Builds the file image of the fixture: the same layout tools/convert-vectors.mjs writes. */
static unsigned char *build_image(size_t *out_len)
{
    size_t strings = 0, i, off = 0, matrix_off, len;
    unsigned char *img;

    for (i = 0; i < NWORDS; i++) {
        strings += strlen(fixture[i].word) + 1;
        if (i > 0)
            assert_true(strcmp(fixture[i - 1].word, fixture[i].word) < 0);
    }
    matrix_off = (32 + 16 * NWORDS + strings + 7) / 8 * 8;
    len = matrix_off + NWORDS * DIM;
    img = calloc(1, len);
    assert_non_null(img);
    memcpy(img, "EGVEC1\0\0", 8);
    put32(img + 8, DIM);
    put32(img + 12, (uint32_t)NWORDS);
    put32(img + 16, (uint32_t)strings);
    put32(img + 20, (uint32_t)matrix_off);
    for (i = 0; i < NWORDS; i++) {
        unsigned char *e = img + 32 + 16 * i;
        size_t wl = strlen(fixture[i].word), d;
        float unit[DIM], norm = 0, max = 0, scale;
        uint32_t bits;

        for (d = 0; d < DIM; d++)
            norm += fixture[i].v[d] * fixture[i].v[d];
        for (d = 0; d < DIM; d++) {
            unit[d] = fixture[i].v[d] / sqrtf(norm);
            max = fabsf(unit[d]) > max ? fabsf(unit[d]) : max;
        }
        scale = max / 127.0f;
        put32(e, (uint32_t)off);
        e[4] = (unsigned char)wl;
        put32(e + 8, fixture[i].rank);
        memcpy(&bits, &scale, sizeof(bits));
        put32(e + 12, bits);
        memcpy(img + 32 + 16 * NWORDS + off, fixture[i].word, wl);
        off += wl + 1;
        for (d = 0; d < DIM; d++)
            img[matrix_off + i * DIM + d] = (unsigned char)(int8_t)lroundf(unit[d] / scale);
    }
    *out_len = len;
    return img;
}

static char path[256];

static void write_file(const unsigned char *img, size_t len)
{
    FILE *f = fopen(path, "wb");

    assert_non_null(f);
    assert_int_equal(fwrite(img, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
}

static int setup(void **state)
{
    unsigned char *img;
    size_t len;
    int fd;

    (void)state;
    snprintf(path, sizeof(path), "/tmp/engram-vec-XXXXXX");
    fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    img = build_image(&len);
    write_file(img, len);
    free(img);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    unlink(path);
    return 0;
}

static float embed_cos(const struct eg_vectors *v, const char *a, const char *b)
{
    float va[DIM], vb[DIM];

    assert_int_equal(eg_vectors_embed(v, a, strlen(a), va), ENGRAM_OK);
    assert_int_equal(eg_vectors_embed(v, b, strlen(b), vb), ENGRAM_OK);
    return eg_vec_cosine(va, vb, DIM);
}

static void test_lookup(void **state)
{
    struct eg_vectors *v = NULL;
    float out[DIM];
    uint32_t rank = 7;
    size_t d;

    (void)state;
    assert_int_equal(eg_vectors_open(path, &v), ENGRAM_OK);
    assert_int_equal(eg_vectors_dim(v), DIM);
    assert_int_equal(eg_vectors_count(v), NWORDS);
    assert_int_equal(eg_vectors_word(v, "laptop", 6, out, &rank), ENGRAM_OK);
    assert_int_equal(rank, 4000);
    assert_true(fabsf(out[1] - 1.0f) < 0.01f && fabsf(out[0]) < 0.01f);
    assert_int_equal(eg_vectors_word(v, "caf\xc3\xa9", 5, out, NULL), ENGRAM_OK);
    assert_true(fabsf(out[0] - 0.7071f) < 0.01f);
    /* Every word of the fixture is found (first, last, middle of the binary search). */
    for (d = 0; d < NWORDS; d++)
        assert_int_equal(eg_vectors_word(v, fixture[d].word, strlen(fixture[d].word), out, NULL),
                         ENGRAM_OK);
    assert_int_equal(eg_vectors_word(v, "lap", 3, out, &rank), ENGRAM_NOTFOUND);
    assert_int_equal(rank, 0);
    for (d = 0; d < DIM; d++)
        assert_true(out[d] == 0.0f);
    assert_int_equal(eg_vectors_word(v, "zzz", 3, out, NULL), ENGRAM_NOTFOUND);
    assert_int_equal(eg_vectors_word(v, "aaa", 3, out, NULL), ENGRAM_NOTFOUND);
    eg_vectors_close(v);
    eg_vectors_close(NULL);
}

static void test_embed(void **state)
{
    struct eg_vectors *v = NULL;
    float out[DIM], norm = 0;
    size_t d;

    (void)state;
    assert_int_equal(eg_vectors_open(path, &v), ENGRAM_OK);
    assert_int_equal(eg_vectors_embed(v, "Loves ITALIAN food!", 19, out), ENGRAM_OK);
    for (d = 0; d < DIM; d++)
        norm += out[d] * out[d];
    assert_true(fabsf(norm - 1.0f) < 1e-4f);
    /* Folding reaches the vectors too: "CAFÉ" is the word "café". */
    assert_int_equal(eg_vectors_embed(v, "CAF\xc3\x89", 6, out), ENGRAM_OK);
    assert_true(embed_cos(v, "a restaurant", "loves italian food") >
                embed_cos(v, "a restaurant", "my laptop is broken"));
    assert_true(embed_cos(v, "pasta", "food") > embed_cos(v, "pasta", "daughter"));
    /* Stopwords ("the" is in the file) and request words carry no topic. */
    assert_int_equal(eg_vectors_embed(v, "the the the", 11, out), ENGRAM_NOTFOUND);
    assert_true(fabsf(embed_cos(v, "recommend a restaurant", "restaurant") - 1.0f) < 1e-5f);
    /* A plural the file lacks falls back to its singular. */
    assert_true(fabsf(embed_cos(v, "pastas", "pasta") - 1.0f) < 1e-5f);
    assert_int_equal(eg_vectors_embed(v, "", 0, out), ENGRAM_NOTFOUND);
    assert_int_equal(eg_vectors_embed(v, "qwerty zzz", 10, out), ENGRAM_NOTFOUND);
    for (d = 0; d < DIM; d++)
        assert_true(out[d] == 0.0f);
    assert_int_equal(eg_vectors_embed(v, "\xff\xfe pasta \xc0", 10, out), ENGRAM_OK);
    eg_vectors_close(v);
}

static void test_cosine_and_quantize(void **state)
{
    const float a[3] = {1, 0, 0}, b[3] = {1, 1, 0}, z[3] = {0, 0, 0};
    float in[5] = {0.5f, -0.25f, 0.125f, 0.0f, -1.0f}, back[5], scale;
    int8_t q[5];
    size_t i;

    (void)state;
    assert_true(fabsf(eg_vec_cosine(a, b, 3) - 0.70710678f) < 1e-6f);
    assert_true(eg_vec_cosine(a, z, 3) == 0.0f);
    eg_vec_quantize(in, 5, q, &scale);
    assert_int_equal(q[4], -127);
    eg_vec_dequantize(q, scale, 5, back);
    for (i = 0; i < 5; i++)
        assert_true(fabsf(back[i] - in[i]) <= scale / 2 + 1e-6f);
    eg_vec_quantize(z, 3, q, &scale);
    assert_true(q[0] == 0 && scale > 0);
}

/* Damaged files are refused, never read out of bounds. */
static void test_bad_files(void **state)
{
    struct eg_vectors *v = (struct eg_vectors *)&v;
    unsigned char *img;
    size_t len;

    (void)state;
    assert_int_equal(eg_vectors_open("/nonexistent/vectors.bin", &v), ENGRAM_NOTFOUND);
    assert_null(v);
    img = build_image(&len);

    img[0] = 'X'; /* magic */
    write_file(img, len);
    assert_int_equal(eg_vectors_open(path, &v), ENGRAM_INVALID);
    assert_null(v);
    img[0] = 'E';

    write_file(img, len - 1); /* truncated matrix */
    assert_int_equal(eg_vectors_open(path, &v), ENGRAM_INVALID);

    write_file(img, 20); /* truncated header */
    assert_int_equal(eg_vectors_open(path, &v), ENGRAM_INVALID);

    put32(img + 32 + 16 * 3, 100000); /* a string offset past the pool */
    write_file(img, len);
    assert_int_equal(eg_vectors_open(path, &v), ENGRAM_INVALID);
    put32(img + 32 + 16 * 3, 0);

    put32(img + 12, 0xFFFFFFFFu); /* a count that would overflow 32-bit sizes */
    write_file(img, len);
    assert_int_equal(eg_vectors_open(path, &v), ENGRAM_INVALID);
    free(img);

    img = build_image(&len); /* restore the good file for any later test */
    write_file(img, len);
    free(img);
    assert_int_equal(eg_vectors_open(path, &v), ENGRAM_OK);
    eg_vectors_close(v);
}

/* The real file, when `make data` has made it. */
static void test_real_vectors(void **state)
{
    const char *root = getenv("ENGRAM_SOURCE_DIR");
    char real[1024];
    struct eg_vectors *v = NULL;
    struct timespec t0, t1;
    float q[512], food[512], laptop[512], shellfish[512];

    (void)state;
    if (root == NULL)
        root = ".";
    snprintf(real, sizeof(real), "%s/data/vectors.bin", root);
    if (access(real, R_OK) != 0) {
        skip();
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(eg_vectors_open(real, &v), ENGRAM_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Printed for the record, never asserted: tests do not time (DESIGN.md section 7). */
    print_message("vectors: %zu words x %d loaded in %.2f ms\n", eg_vectors_count(v),
                  eg_vectors_dim(v),
                  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    assert_true(eg_vectors_dim(v) <= 512);
    assert_int_equal(eg_vectors_embed(v, "recommend a restaurant", 22, q), ENGRAM_OK);
    assert_int_equal(eg_vectors_embed(v, "loves Italian food", 18, food), ENGRAM_OK);
    assert_int_equal(eg_vectors_embed(v, "my laptop is broken", 19, laptop), ENGRAM_OK);
    assert_int_equal(eg_vectors_embed(v, "allergic to shellfish", 21, shellfish), ENGRAM_OK);
    print_message("vectors: restaurant~food %.3f, ~shellfish %.3f, ~laptop %.3f\n",
                  eg_vec_cosine(q, food, eg_vectors_dim(v)),
                  eg_vec_cosine(q, shellfish, eg_vectors_dim(v)),
                  eg_vec_cosine(q, laptop, eg_vectors_dim(v)));
    assert_true(eg_vec_cosine(q, food, eg_vectors_dim(v)) >
                eg_vec_cosine(q, laptop, eg_vectors_dim(v)));
    assert_true(eg_vec_cosine(q, shellfish, eg_vectors_dim(v)) >
                eg_vec_cosine(q, laptop, eg_vectors_dim(v)));
    eg_vectors_close(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookup),
        cmocka_unit_test(test_embed),
        cmocka_unit_test(test_cosine_and_quantize),
        cmocka_unit_test(test_bad_files),
        cmocka_unit_test(test_real_vectors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
