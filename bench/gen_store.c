/*
 * gen_store.c - write the benchmark store through the library (bench/RESULTS.md).
 *
 *   gen_store --db bench.db [--scopes 100000] [--turns 10] [--threads 2]
 *             [--context assistant] [--from 0]
 *
 * Every scope user/u<N> gets --turns first-person statements, each about a different key
 * of the vocabulary (name, location, employer, role, ...), so the rule extractor makes
 * about one attribute per turn: 100,000 scopes x 10 turns gives 1,000,000 turns and about
 * 1,000,000 attributes. Turns go through engram_turn_add, the same path as HTTP ingest,
 * so the store is what production would hold; threads split the scopes between them.
 * --from lets a run continue where an earlier one stopped. Prints progress, and the
 * engram_stats() of the finished store.
 */
#include "engram.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const names[] = {"Alice", "Bob", "Carol", "Dmitri", "Eve", "Farah",
                                    "Gustavo", "Hana", "Ivan", "Jun", "Kemi", "Lars"};
static const char *const cities[] = {"London", "Paris", "Berlin", "Lisbon", "Madrid",
                                     "Tokyo", "Nairobi", "Toronto", "Oslo", "Sydney"};
static const char *const companies[] = {"Acme Corp", "Globex", "Initech", "Umbrella",
                                        "Hooli", "Stark Industries", "Wayne Enterprises"};
static const char *const roles[] = {"a software engineer", "a data scientist", "a designer",
                                    "a product manager", "a teacher", "a nurse"};
static const char *const langs[] = {"TypeScript", "Rust", "Go", "Python", "Kotlin",
                                    "Haskell", "Elixir", "Swift"};
static const char *const tools[] = {"Vim", "Emacs", "VS Code", "Docker", "Kubernetes",
                                    "Postgres", "Figma"};
static const char *const pets[] = {"dog", "cat", "parrot", "rabbit", "hamster"};
static const char *const foods[] = {"peanuts", "shellfish", "gluten", "dairy", "eggs"};
static const char *const hobbies[] = {"climbing", "chess", "jazz", "gardening", "cycling",
                                      "photography", "baking"};

#define PICK(arr, n) arr[(n) % (sizeof(arr) / sizeof(arr[0]))]

struct job {
    engram *db;
    const char *ctx;
    long from, to, turns;
    atomic_long *done;
    atomic_long *failed;
};

static void statement(long scope, long k, char *out, size_t n)
{
    long h = scope * 7919 + k * 104729;

    switch (k % 10) {
    case 0:
        snprintf(out, n, "My name is %s.", PICK(names, h));
        break;
    case 1:
        snprintf(out, n, "I live in %s.", PICK(cities, h));
        break;
    case 2:
        snprintf(out, n, "I work at %s.", PICK(companies, h));
        break;
    case 3:
        snprintf(out, n, "I work as %s.", PICK(roles, h));
        break;
    case 4:
        snprintf(out, n, "I am learning %s.", PICK(langs, h));
        break;
    case 5:
        snprintf(out, n, "I use %s every day.", PICK(tools, h));
        break;
    case 6:
        snprintf(out, n, "I have a %s.", PICK(pets, h));
        break;
    case 7:
        snprintf(out, n, "I am allergic to %s.", PICK(foods, h));
        break;
    case 8:
        snprintf(out, n, "I like %s.", PICK(hobbies, h));
        break;
    default:
        snprintf(out, n, "I prefer %s over JavaScript.", PICK(langs, h + 1));
        break;
    }
}

static void *worker(void *arg)
{
    struct job *j = arg;
    char text[160], req[512];
    long s, k;

    for (s = j->from; s < j->to; s++) {
        for (k = 0; k < j->turns; k++) {
            char *out = NULL;
            int rc;
            statement(s, k, text, sizeof(text));
            /* Spread created_at over the past so recency scoring has something to do. */
            snprintf(req, sizeof(req),
                     "{\"scope\":{\"user\":\"u%ld\"},\"role\":\"user\",\"content\":\"%s\","
                     "\"created_at\":\"2026-%02ld-%02ldT%02ld:00:00Z\"}",
                     s, text, 1 + (k % 10), 1 + (s % 28), k % 24);
            rc = engram_turn_add(j->db, NULL, j->ctx, NULL, req, &out);
            if (rc != ENGRAM_OK) {
                if (atomic_fetch_add(j->failed, 1) < 5)
                    fprintf(stderr, "gen_store: turn_add: %s: %s\n", engram_errname(j->db),
                            engram_errmsg(j->db));
            }
            engram_free(out);
            atomic_fetch_add(j->done, 1);
        }
    }
    return NULL;
}

static long num(const char *s)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 0) {
        fprintf(stderr, "gen_store: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    const char *path = NULL, *ctx = "assistant";
    long scopes = 100000, turns = 10, threads = 2, from = 0, i, total, last = 0;
    engram_options opt;
    engram *db = NULL;
    pthread_t tid[64];
    struct job jobs[64];
    atomic_long done = 0, failed = 0;
    struct timespec t0, t1;
    char *stats = NULL;
    int rc;

    for (i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--db") == 0)
            path = argv[i + 1];
        else if (strcmp(argv[i], "--context") == 0)
            ctx = argv[i + 1];
        else if (strcmp(argv[i], "--scopes") == 0)
            scopes = num(argv[i + 1]);
        else if (strcmp(argv[i], "--turns") == 0)
            turns = num(argv[i + 1]);
        else if (strcmp(argv[i], "--threads") == 0)
            threads = num(argv[i + 1]);
        else if (strcmp(argv[i], "--from") == 0)
            from = num(argv[i + 1]);
        else
            break;
    }
    if (!path || i != argc || threads < 1 || threads > 64 || from > scopes) {
        fprintf(stderr, "usage: gen_store --db PATH [--scopes N] [--turns N] [--threads N] "
                        "[--context C] [--from N]\n");
        return 2;
    }

    memset(&opt, 0, sizeof(opt));
    opt.size = sizeof(opt);
    opt.no_worker = 1; /* extraction runs inline; nothing should be queued */
    rc = engram_open(path, &opt, &db);
    if (rc != ENGRAM_OK) {
        fprintf(stderr, "gen_store: open %s: %s\n", path, db ? engram_errmsg(db) : "no memory");
        engram_close(db);
        return 1;
    }

    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (i = 0; i < threads; i++) {
        long per = (scopes - from + threads - 1) / threads;
        jobs[i] = (struct job){db, ctx, from + i * per, from + (i + 1) * per, turns, &done,
                               &failed};
        if (jobs[i].to > scopes)
            jobs[i].to = scopes;
        if (jobs[i].from > scopes)
            jobs[i].from = scopes;
        pthread_create(&tid[i], NULL, worker, &jobs[i]);
    }
    total = (scopes - from) * turns;
    while (atomic_load(&done) < total) {
        struct timespec nap = {1, 0};
        long d;
        double s;
        nanosleep(&nap, NULL);
        d = atomic_load(&done);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        if (d - last >= 50000 || d >= total) {
            fprintf(stderr, "gen_store: %ld/%ld turns, %.0f turns/s, %ld failed\n", d, total,
                    (double)d / s, atomic_load(&failed));
            last = d;
        }
    }
    for (i = 0; i < threads; i++)
        pthread_join(tid[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    fprintf(stderr, "gen_store: done: %ld turns in %.1fs (%ld failed)\n", total,
            (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
            atomic_load(&failed));
    if (engram_stats(db, &stats) == ENGRAM_OK)
        printf("%s\n", stats);
    engram_free(stats);
    engram_close(db);
    return atomic_load(&failed) ? 1 : 0;
}
