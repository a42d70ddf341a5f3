/*
 * test_wordnet.c - the WordNet loader on a tiny fixture in real wndb(5) format, written into
 * a temp directory by the test (offsets are real byte offsets), and, when Debian's
 * wordnet-base is installed, a sanity check on the real files.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "engram.h"
#include "lib/wordnet.h"

static char fixture_dir[256];

static FILE *open_in(const char *name, const char *mode)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", fixture_dir, name);
    f = fopen(path, mode);
    assert_non_null(f);
    return f;
}

/* Appends a synset line "OFFSET body" to a data file; returns the line's byte offset. */
static long synset(FILE *data, const char *body)
{
    long off = ftell(data);

    assert_true(off >= 0);
    fprintf(data, "%08ld %s\n", off, body);
    return off;
}

static const char license[] = "  1 This software and database is being provided to you, the "
                              "LICENSEE, by  \n  2 Princeton University under the following "
                              "license.  \n";

static int setup_fixture(void **state)
{
    FILE *dn, *in, *dv, *iv, *da, *ia, *ex;
    long car1, car2, mouse_n, ice, allergy, goose, restaurant, run1, mouse_v, abound, italian;

    (void)state;
    snprintf(fixture_dir, sizeof(fixture_dir), "/tmp/engram-wn-XXXXXX");
    assert_non_null(mkdtemp(fixture_dir));

    dn = open_in("data.noun", "w");
    fputs(license, dn);
    car1 = synset(dn, "06 n 03 car 0 auto 0 automobile 0 001 @ 00000000 n 0000 | a motor vehicle");
    car2 = synset(dn, "06 n 02 car 1 railcar 0 000 | a wheeled vehicle adapted to the rails");
    mouse_n = synset(dn, "05 n 01 mouse 0 000 | a small rodent");
    ice = synset(dn, "13 n 02 ice_cream 0 icecream 0 000 | frozen dessert");
    allergy = synset(dn, "26 n 02 allergy 0 allergic_reaction 0 000 | hypersensitivity");
    goose = synset(dn, "05 n 02 goose 0 greylag 0 000 | web-footed bird");
    restaurant = synset(dn, "06 n 04 restaurant 0 eating_house 0 eating_place 0 eatery 0 000 "
                            "| a building where people go to eat");
    fclose(dn);

    in = open_in("index.noun", "w");
    fputs(license, in);
    fprintf(in, "allergic_reaction n 1 0 1 0 %08ld  \n", allergy);
    fprintf(in, "allergy n 1 0 1 0 %08ld  \n", allergy);
    fprintf(in, "auto n 1 1 @ 1 0 %08ld  \n", car1);
    fprintf(in, "car n 2 2 @ ~ 2 1 %08ld %08ld  \n", car1, car2);
    fprintf(in, "broken n 1 0 1 0 %08ld  \n", car1 + 3); /* points mid-line: skipped */
    fprintf(in, "goose n 1 0 1 0 %08ld  \n", goose);
    fprintf(in, "ice_cream n 1 0 1 0 %08ld  \n", ice);
    fprintf(in, "mouse n 1 0 1 0 %08ld  \n", mouse_n);
    fprintf(in, "railcar n 1 0 1 0 %08ld  \n", car2);
    fprintf(in, "restaurant n 1 0 1 0 %08ld  \n", restaurant);
    fprintf(in, "truncated n 1 5 @ ~\n");
    fprintf(in, "beyond n 1 0 1 0 99999999  \n");
    fclose(in);

    dv = open_in("data.verb", "w");
    run1 = synset(dv, "38 v 03 run 0 scat 0 scarper 0 000 | flee; take to one's heels");
    mouse_v = synset(dv, "38 v 02 mouse 0 sneak 1 000 | to go stealthily");
    fclose(dv);
    iv = open_in("index.verb", "w");
    fprintf(iv, "mouse v 1 0 1 0 %08ld  \n", mouse_v);
    fprintf(iv, "run v 1 1 @ 1 1 %08ld  \n", run1);
    fclose(iv);

    da = open_in("data.adj", "w");
    abound = synset(da, "00 s 02 abounding 0 galore(ip) 0 000 | existing in abundance");
    italian = synset(da, "01 a 02 Italian 0 Italic 0 000 | of or relating to Italy");
    fclose(da);
    ia = open_in("index.adj", "w");
    fprintf(ia, "abounding a 1 1 & 1 0 %08ld  \n", abound);
    fprintf(ia, "italian a 1 0 1 0 %08ld  \n", italian);
    fclose(ia);

    ex = open_in("noun.exc", "w");
    fputs("geese goose\nmice mouse\nwolves\n", ex);
    fclose(ex);
    return 0;
}

static int teardown_fixture(void **state)
{
    static const char *const files[] = {"data.noun", "index.noun", "data.verb", "index.verb",
                                        "data.adj",  "index.adj",  "noun.exc",  "wn.cache"};
    char path[512];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", fixture_dir, files[i]);
        unlink(path);
    }
    rmdir(fixture_dir);
    return 0;
}

/* The synonyms of word joined as "a|b|c", or "-" when there are none. */
static const char *syns(const struct eg_wordnet *wn, const char *word, char *buf, size_t cap)
{
    const char *const *s;
    size_t n, i, at = 0;
    int rc = eg_wordnet_synonyms(wn, word, strlen(word), &s, &n);

    if (rc == ENGRAM_NOTFOUND) {
        assert_null(s);
        assert_int_equal(n, 0);
        snprintf(buf, cap, "-");
        return buf;
    }
    assert_int_equal(rc, ENGRAM_OK);
    assert_true(n > 0);
    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        int w = snprintf(buf + at, cap - at, "%s%s", i ? "|" : "", s[i]);

        assert_true(w > 0 && (size_t)w < cap - at);
        at += (size_t)w;
    }
    return buf;
}

static void test_fixture(void **state)
{
    struct eg_wordnet *wn = NULL;
    char b[256];

    (void)state;
    assert_int_equal(eg_wordnet_open(fixture_dir, &wn), ENGRAM_OK);
    assert_non_null(wn);
    /* First sense only: "railcar" (car's second sense) is not a synonym of car. */
    assert_string_equal(syns(wn, "car", b, sizeof(b)), "auto|automobile");
    assert_string_equal(syns(wn, "CAR", b, sizeof(b)), "auto|automobile");
    assert_string_equal(syns(wn, "auto", b, sizeof(b)), "car|automobile");
    assert_string_equal(syns(wn, "railcar", b, sizeof(b)), "car");
    /* Multi-word lemmas: '_' and ' ' are one spelling; synonyms come back with spaces. */
    assert_string_equal(syns(wn, "ice cream", b, sizeof(b)), "icecream");
    assert_string_equal(syns(wn, "ice_cream", b, sizeof(b)), "icecream");
    assert_string_equal(syns(wn, "restaurant", b, sizeof(b)), "eating house|eating place|eatery");
    /* Regular inflections through morphy's rules, irregular ones through noun.exc. */
    assert_string_equal(syns(wn, "cars", b, sizeof(b)), "auto|automobile");
    assert_string_equal(syns(wn, "allergies", b, sizeof(b)), "allergic reaction");
    assert_string_equal(syns(wn, "geese", b, sizeof(b)), "greylag");
    assert_string_equal(syns(wn, "running", b, sizeof(b)), "scat|scarper");
    /* "mice" borrows only the NOUN synonyms of mouse, and the noun sense has none. */
    assert_string_equal(syns(wn, "mice", b, sizeof(b)), "-");
    assert_string_equal(syns(wn, "mouse", b, sizeof(b)), "sneak");
    /* Adjective markers are stripped; capitals in data files are folded. */
    assert_string_equal(syns(wn, "abounding", b, sizeof(b)), "galore");
    assert_string_equal(syns(wn, "italian", b, sizeof(b)), "italic");
    /* Corrupt lines are skipped; unknown, empty and oversized words are not found. */
    assert_string_equal(syns(wn, "broken", b, sizeof(b)), "-");
    assert_string_equal(syns(wn, "beyond", b, sizeof(b)), "-");
    assert_string_equal(syns(wn, "zebra", b, sizeof(b)), "-");
    assert_string_equal(syns(wn, "", b, sizeof(b)), "-");
    {
        char big[300];

        memset(big, 'a', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        assert_string_equal(syns(wn, big, b, sizeof(b)), "-");
    }
    eg_wordnet_close(wn);
    eg_wordnet_close(NULL);
}

static ino_t inode_of(const char *path)
{
    struct stat sb;

    assert_int_equal(stat(path, &sb), 0);
    return sb.st_ino;
}

static void check_fixture_answers(const struct eg_wordnet *wn)
{
    char b[256];

    assert_string_equal(syns(wn, "car", b, sizeof(b)), "auto|automobile");
    assert_string_equal(syns(wn, "ice cream", b, sizeof(b)), "icecream");
    assert_string_equal(syns(wn, "geese", b, sizeof(b)), "greylag");
    assert_string_equal(syns(wn, "mice", b, sizeof(b)), "-");
    assert_string_equal(syns(wn, "mouse", b, sizeof(b)), "sneak");
    assert_string_equal(syns(wn, "zebra", b, sizeof(b)), "-");
}

/* The cache reads back what a parse gives, is reused while the sources are unchanged, and
 * is rebuilt when it is damaged or the sources change. */
static void test_cache(void **state)
{
    struct eg_wordnet *wn = NULL;
    char cache[512];
    ino_t ino;
    FILE *f;

    (void)state;
    snprintf(cache, sizeof(cache), "%s/wn.cache", fixture_dir);
    unlink(cache);
    assert_int_equal(eg_wordnet_open_cached(fixture_dir, cache, &wn), ENGRAM_OK);
    check_fixture_answers(wn);
    eg_wordnet_close(wn);
    ino = inode_of(cache);

    assert_int_equal(eg_wordnet_open_cached(fixture_dir, cache, &wn), ENGRAM_OK);
    assert_true(inode_of(cache) == ino); /* read back, not rewritten */
    check_fixture_answers(wn);
    assert_int_equal(eg_wordnet_count(wn), 13);
    eg_wordnet_close(wn);

    /* Damage the body: the loader must notice, re-parse and replace the file. */
    f = fopen(cache, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 220, SEEK_SET), 0);
    fputs("\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", f);
    fclose(f);
    assert_int_equal(eg_wordnet_open_cached(fixture_dir, cache, &wn), ENGRAM_OK);
    check_fixture_answers(wn);
    eg_wordnet_close(wn);
    assert_true(inode_of(cache) != ino);
    ino = inode_of(cache);

    /* A truncated cache too. */
    assert_int_equal(truncate(cache, 100), 0);
    assert_int_equal(eg_wordnet_open_cached(fixture_dir, cache, &wn), ENGRAM_OK);
    check_fixture_answers(wn);
    eg_wordnet_close(wn);
    ino = inode_of(cache);

    /* A changed source file invalidates the cache. */
    f = fopen(cache, "rb"); /* (cache exists) */
    assert_non_null(f);
    fclose(f);
    {
        char exc[512];

        snprintf(exc, sizeof(exc), "%s/noun.exc", fixture_dir);
        f = fopen(exc, "ab");
        assert_non_null(f);
        fputs("autos auto\n", f);
        fclose(f);
    }
    assert_int_equal(eg_wordnet_open_cached(fixture_dir, cache, &wn), ENGRAM_OK);
    assert_true(inode_of(cache) != ino);
    check_fixture_answers(wn);
    eg_wordnet_close(wn);

    /* No sources: not found, whatever the cache holds; an unwritable cache path is fine. */
    assert_int_equal(eg_wordnet_open_cached("/nonexistent/engram-wordnet", cache, &wn),
                     ENGRAM_NOTFOUND);
    assert_null(wn);
    assert_int_equal(eg_wordnet_open_cached(fixture_dir, "/nonexistent/dir/wn.cache", &wn),
                     ENGRAM_OK);
    check_fixture_answers(wn);
    eg_wordnet_close(wn);
}

static void test_missing(void **state)
{
    struct eg_wordnet *wn = (struct eg_wordnet *)&wn; /* must be reset to NULL */

    (void)state;
    assert_int_equal(eg_wordnet_open("/nonexistent/engram-wordnet", &wn), ENGRAM_NOTFOUND);
    assert_null(wn);
    wn = (struct eg_wordnet *)&wn;
    assert_int_equal(eg_wordnet_open("/", &wn), ENGRAM_NOTFOUND);
    assert_null(wn);
}

static void test_real_wordnet(void **state)
{
    struct eg_wordnet *wn = NULL;
    struct timespec t0, t1;
    char b[512];

    (void)state;
    if (access("/usr/share/wordnet/index.noun", R_OK) != 0) {
        skip();
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_int_equal(eg_wordnet_open("/usr/share/wordnet", &wn), ENGRAM_OK);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* Printed for the record, never asserted: tests do not time (DESIGN.md section 7). */
    print_message("wordnet: %zu lemmas loaded in %.1f ms\n", eg_wordnet_count(wn),
                  (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6);
    assert_true(eg_wordnet_count(wn) > 50000);
    assert_string_equal(syns(wn, "car", b, sizeof(b)), "auto|automobile|machine|motorcar");
    assert_non_null(strstr(syns(wn, "restaurant", b, sizeof(b)), "eatery"));
    assert_string_equal(syns(wn, "allergies", b, sizeof(b)), "allergic reaction");
    assert_non_null(strstr(syns(wn, "job", b, sizeof(b)), "occupation"));
    eg_wordnet_close(wn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixture),
        cmocka_unit_test(test_cache),
        cmocka_unit_test(test_missing),
        cmocka_unit_test(test_real_wordnet),
    };
    return cmocka_run_group_tests(tests, setup_fixture, teardown_fixture);
}
