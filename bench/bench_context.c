/*
 * bench_context.c - in-process latency of engram_context_query (bench/RESULTS.md, section
 * "Context (in-process)"), and the load time of the retrieval data files.
 *
 *   bench_context --db bench.db [--scopes 100000] [--queries 20000] [--context assistant]
 *                 [--data DIR] [--dump FILE] [--as-of ISO]
 *
 * The store is one gen_store made (user/u0 .. user/u<scopes-1>). Each query picks a random
 * scope and one of a fixed mix of messages: ones that share words with the stored facts,
 * ones that only relate by meaning, and unrelated ones (the relevance floor's path), with
 * max_tokens 1000 and top_k 10. After a warm-up (the first call loads WordNet and the word
 * vectors), every call is timed with CLOCK_MONOTONIC (wall) and CLOCK_THREAD_CPUTIME_ID
 * (CPU); p50, p90, p99, p99.9 and max of both are printed. Then the vector file and the WordNet cache are opened 20 times each and the
 * median and worst open times printed.
 *
 * --dump FILE writes every timed answer to FILE, one per line, and --as-of fixes the time
 * the ranking's recency is measured from: two builds then give byte-identical files when
 * a change to the code is meant not to change any answer (diff them).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engram.h"
#include "lib/vectors.h"
#include "lib/wordnet.h"

static const char *const queries[] = {
    "where do I live",
    "what is my job",
    "recommend a restaurant for dinner",
    "which programming language should I use for this",
    "any ideas for a weekend hobby",
    "what should I cook tonight",
    "plan a trip for me",
    "tell me about my pets",
    "how do I fix a flat bicycle tyre",
    "zebra quantum chromodynamics",
    "who do I work for",
    "what languages do I speak",
};
#define NQ (sizeof(queries) / sizeof(queries[0]))

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static double cpu_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double pct(const double *v, size_t n, double p)
{
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

static unsigned long long rng = 88172645463325252ull;

static unsigned long long next_rand(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static void time_opens(const char *data)
{
    char path[1024], cache[1100];
    double t[20];
    int i;

    snprintf(path, sizeof(path), "%s/vectors.bin", data);
    for (i = 0; i < 20; i++) {
        struct eg_vectors *v = NULL;
        double a = now_us();
        int rc = eg_vectors_open(path, &v);
        t[i] = now_us() - a;
        eg_vectors_close(v);
        if (rc != ENGRAM_OK) {
            printf("vectors: %s not loadable (%s)\n", path, engram_errstr(rc));
            break;
        }
    }
    if (i == 20) {
        qsort(t, 20, sizeof(t[0]), cmp_double);
        printf("vector file open (%s): median %.2f ms, max %.2f ms over 20 opens\n", path,
               t[10] / 1e3, t[19] / 1e3);
    }
    snprintf(cache, sizeof(cache), "%s/wordnet.cache", data);
    for (i = 0; i < 20; i++) {
        struct eg_wordnet *wn = NULL;
        double a = now_us();
        int rc = eg_wordnet_open_cached("/usr/share/wordnet", cache, &wn);
        t[i] = now_us() - a;
        eg_wordnet_close(wn);
        if (rc != ENGRAM_OK) {
            printf("wordnet: not loadable (%s)\n", engram_errstr(rc));
            return;
        }
    }
    qsort(t, 20, sizeof(t[0]), cmp_double);
    printf("WordNet open through %s: median %.2f ms, max %.2f ms over 20 opens\n", cache,
           t[10] / 1e3, t[19] / 1e3);
}

int main(int argc, char **argv)
{
    const char *db_path = NULL, *context = "assistant", *data = getenv("ENGRAM_DATA");
    const char *dump_path = NULL, *as_of = NULL;
    FILE *dump = NULL;
    long scopes = 100000, nq = 20000, warm = 500, items = 0, empty = 0;
    engram_options opt = {0};
    engram *db = NULL;
    double *lat, *cpu, sum = 0, csum = 0, per_q[NQ] = {0}, per_n[NQ] = {0};
    int i, rc;

    for (i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--db") && i + 1 < argc)
            db_path = argv[++i];
        else if (!strcmp(argv[i], "--scopes") && i + 1 < argc)
            scopes = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--queries") && i + 1 < argc)
            nq = strtol(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--context") && i + 1 < argc)
            context = argv[++i];
        else if (!strcmp(argv[i], "--data") && i + 1 < argc)
            data = argv[++i];
        else if (!strcmp(argv[i], "--dump") && i + 1 < argc)
            dump_path = argv[++i];
        else if (!strcmp(argv[i], "--as-of") && i + 1 < argc)
            as_of = argv[++i];
        else {
            fprintf(stderr, "usage: bench_context --db PATH [--scopes N] [--queries N] "
                            "[--context C] [--data DIR] [--dump FILE] [--as-of ISO]\n");
            return 1;
        }
    }
    if (!db_path || scopes < 1 || nq < 1) {
        fprintf(stderr, "bench_context: --db is required\n");
        return 1;
    }
    if (!data)
        data = "data";
    opt.size = sizeof(opt);
    opt.no_worker = 1;
    opt.data_dir = data;
    if ((rc = engram_open(db_path, &opt, &db)) != ENGRAM_OK) {
        fprintf(stderr, "bench_context: %s\n", db ? engram_errmsg(db) : "out of memory");
        engram_close(db);
        return 1;
    }
    if (dump_path && !(dump = fopen(dump_path, "w"))) {
        perror(dump_path);
        return 1;
    }
    if (!(lat = malloc(sizeof(*lat) * (size_t)nq)) || !(cpu = malloc(sizeof(*cpu) * (size_t)nq)))
        return 1;
    for (long k = -warm; k < nq; k++) {
        char req[256], *out = NULL;
        long s = (long)(next_rand() % (unsigned long long)scopes);
        size_t which = (size_t)(next_rand() % NQ);
        double a, b, ca, cb;

        snprintf(req, sizeof(req),
                 "{\"scope\":\"user/u%ld\",\"query\":\"%s\",\"max_tokens\":1000,\"top_k\":10%s%s%s}",
                 s, queries[which], as_of ? ",\"as_of\":\"" : "", as_of ? as_of : "",
                 as_of ? "\"" : "");
        ca = cpu_us();
        a = now_us();
        rc = engram_context_query(db, NULL, context, NULL, req, &out);
        b = now_us();
        cb = cpu_us();
        if (rc != ENGRAM_OK) {
            fprintf(stderr, "bench_context: %s\n", engram_errmsg(db));
            return 1;
        }
        if (k >= 0) {
            lat[k] = b - a;
            sum += b - a;
            cpu[k] = cb - ca;
            csum += cb - ca;
            per_q[which] += cb - ca;
            per_n[which]++;
            if (dump)
                fprintf(dump, "%s\n", out);
            if (strstr(out, "\"items\":[]"))
                empty++;
            else
                items++;
        }
        engram_free(out);
    }
    qsort(lat, (size_t)nq, sizeof(*lat), cmp_double);
    printf("context: %ld queries over %ld scopes of %s: mean %.1f us, p50 %.1f us, p90 %.1f us, "
           "p99 %.1f us, p99.9 %.1f us, max %.1f us; %ld with items, %ld empty\n",
           nq, scopes, db_path, sum / (double)nq, pct(lat, (size_t)nq, 0.50),
           pct(lat, (size_t)nq, 0.90), pct(lat, (size_t)nq, 0.99), pct(lat, (size_t)nq, 0.999),
           lat[nq - 1], items, empty);
    /* CPU time of the calling thread: what a call costs when the machine is shared (the
     * wall-clock figures include time other processes held the core). */
    qsort(cpu, (size_t)nq, sizeof(*cpu), cmp_double);
    printf("context CPU time: mean %.1f us, p50 %.1f us, p90 %.1f us, p99 %.1f us, p99.9 %.1f us, "
           "max %.1f us\n",
           csum / (double)nq, pct(cpu, (size_t)nq, 0.50), pct(cpu, (size_t)nq, 0.90),
           pct(cpu, (size_t)nq, 0.99), pct(cpu, (size_t)nq, 0.999), cpu[nq - 1]);
    for (size_t q = 0; q < NQ; q++)
        printf("  mean CPU %8.1f us  \"%s\"\n", per_n[q] > 0 ? per_q[q] / per_n[q] : 0, queries[q]);
    if (dump)
        fclose(dump);
    free(cpu);
    free(lat);
    engram_close(db);
    time_opens(data);
    return 0;
}
