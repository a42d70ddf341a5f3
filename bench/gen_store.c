/*
 * gen_store.c - write the benchmark store through the library (bench/RESULTS.md).
 *
 *   gen_store --db bench.db [--scopes 100000] [--turns 10] [--threads 2]
 *             [--context assistant] [--from 0] [--via import|turns|batch]
 *
 * Every scope user/u<N> gets --turns first-person statements, each about a different key
 * of the vocabulary (name, location, employer, role, ...): 100,000 scopes x 10 turns is
 * 1,000,000 turns and 1,000,000 attributes.
 *
 * --via import (default) writes each batch of scopes as export-format JSON Lines (entity,
 * turns, and the attribute each turn states, pointing back at it as source_turn) through
 * engram_import, one transaction per batch: the whole store in a few minutes.
 * --via turns sends every statement through engram_turn_add instead, the same path as
 * HTTP ingest with inline rule extraction and one durable commit per turn: the realistic
 * store, but about 3,000 turns/s on the bench machine, so 1,000,000 turns take ~6 minutes.
 * --via batch sends each scope's turns as one batched request ({"turns": [...]}), the
 * path of a conversation backfill: extraction inline, one transaction per group commit.
 * --from lets a run continue where an earlier one stopped. Prints progress, and the
 * engram_stats() of the finished store.
 */
#include "engram.h"
#include "util/buf.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const names[] = {"Alice",   "Bob",  "Carol", "Dmitri", "Eve",  "Farah",
                                    "Gustavo", "Hana", "Ivan",  "Jun",    "Kemi", "Lars"};
static const char *const cities[] = {"London", "Paris",   "Berlin",  "Lisbon", "Madrid",
                                     "Tokyo",  "Nairobi", "Toronto", "Oslo",   "Sydney"};
static const char *const companies[] = {
    "Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries", "Wayne Enterprises"};
static const char *const roles[] = {"software engineer", "data scientist", "designer",
                                    "product manager",   "teacher",        "nurse"};
static const char *const langs[] = {"TypeScript", "Rust",    "Go",     "Python",
                                    "Kotlin",     "Haskell", "Elixir", "Swift"};
static const char *const pets[] = {"dog", "cat", "parrot", "rabbit", "hamster"};
static const char *const foods[] = {"peanuts", "shellfish", "gluten", "dairy", "eggs"};
static const char *const spoken[] = {"French",  "Spanish",    "German",  "Japanese",
                                     "Swahili", "Portuguese", "Mandarin"};
static const char *const hobbies[] = {"climbing", "chess",       "jazz",  "gardening",
                                      "cycling",  "photography", "baking"};

#define PICK(arr, n) arr[(size_t)(n) % (sizeof(arr) / sizeof(arr[0]))]

struct job {
    engram *db;
    const char *ctx;
    long from, to, turns;
    int via_import;
    int via_batch;
    atomic_long *done;
    atomic_long *failed;
};

/* One statement, and the attribute the rule extractor makes of it. */
struct fact {
    char text[160];
    const char *key, *category;
    double importance;
    char value[96];
};

static void statement(long scope, long k, struct fact *f)
{
    long h = scope * 7919 + k * 104729;
    const char *v;

#define SAY(tmpl, k_, cat, imp, val)                                                               \
    do {                                                                                           \
        v = (val);                                                                                 \
        snprintf(f->text, sizeof(f->text), tmpl, v);                                               \
        snprintf(f->value, sizeof(f->value), "%s", v);                                             \
        f->key = k_;                                                                               \
        f->category = cat;                                                                         \
        f->importance = imp;                                                                       \
    } while (0)
    switch (k % 10) {
    case 0:
        SAY("My name is %s.", "name", "identity", 1.0, PICK(names, h));
        break;
    case 1:
        SAY("I live in %s.", "location", "identity", 0.9, PICK(cities, h));
        break;
    case 2:
        SAY("I work at %s.", "employer", "identity", 0.9, PICK(companies, h));
        break;
    case 3:
        SAY("I work as a %s.", "role", "identity", 0.9, PICK(roles, h));
        break;
    case 4:
        SAY("I am learning %s.", "learning", "knowledge", 0.6, PICK(langs, h));
        break;
    case 5:
        SAY("I speak %s.", "languages", "identity", 0.6, PICK(spoken, h));
        break;
    case 6:
        SAY("I have a %s.", "pets", "identity", 0.5, PICK(pets, h));
        break;
    case 7:
        SAY("I am allergic to %s.", "allergies", "identity", 0.9, PICK(foods, h));
        break;
    case 8:
        SAY("I like %s.", "likes", "knowledge", 0.5, PICK(hobbies, h));
        break;
    default:
        SAY("I prefer %s.", "preferences", "knowledge", 0.8, PICK(langs, h + 1));
        break;
    }
#undef SAY
}

static void timestamp(long scope, long k, char *out, size_t n)
{
    /* Spread created_at over the past so recency scoring has something to do. */
    snprintf(out, n, "2026-%02ld-%02ldT%02ld:%02ld:00.000Z", 1 + (k % 10), 1 + (scope % 28), k % 24,
             scope % 60);
}

/* Append one scope's entity, turns and attributes as export-format JSON Lines. */
static int scope_lines(struct eg_buf *b, long s, long turns)
{
    char ts[40];
    long k;
    int rc;

    timestamp(s, 0, ts, sizeof(ts));
    rc = eg_buf_printf(b,
                       "{\"type\":\"entity\",\"id\":\"ent_g%ld\",\"entity_type\":\"Person\","
                       "\"name\":\"u%ld\",\"scope\":{\"user\":\"u%ld\"},\"created_at\":\"%s\"}\n",
                       s, s, s, ts);
    for (k = 0; k < turns && rc == ENGRAM_OK; k++) {
        struct fact f;
        statement(s, k, &f);
        timestamp(s, k, ts, sizeof(ts));
        rc = eg_buf_printf(b,
                           "{\"type\":\"turn\",\"id\":\"turn_g%ld_%ld\",\"scope\":{\"user\":"
                           "\"u%ld\"},\"role\":\"user\",\"content\":\"%s\",\"created_at\":\"%s\","
                           "\"metadata\":{},\"session_id\":null}\n",
                           s, k, s, f.text, ts);
        if (rc == ENGRAM_OK)
            rc = eg_buf_printf(
                b,
                "{\"type\":\"attribute\",\"id\":\"attr_g%ld_%ld\",\"entity\":[\"Person\","
                "\"u%ld\"],\"entity_id\":\"ent_g%ld\",\"scope\":{\"user\":\"u%ld\"},"
                "\"category\":\"%s\",\"key\":\"%s\",\"value\":\"%s\",\"confidence\":0.9,"
                "\"importance\":%.1f,\"source_turn\":\"turn_g%ld_%ld\",\"supersedes\":null,"
                "\"valid_from\":\"%s\",\"valid_until\":null}\n",
                s, k, s, s, s, f.category, f.key, f.value, f.importance, s, k, ts);
    }
    return rc;
}

static void import_range(struct job *j)
{
    const long batch = 500; /* scopes per transaction: ~10 MB of JSON Lines */
    struct eg_buf b = {0};
    long s, n;

    for (s = j->from; s < j->to; s += batch) {
        char *out = NULL;
        int rc = ENGRAM_OK;
        long end = s + batch < j->to ? s + batch : j->to;
        for (n = s; n < end && rc == ENGRAM_OK; n++)
            rc = scope_lines(&b, n, j->turns);
        if (rc == ENGRAM_OK)
            rc = engram_import(j->db, NULL, j->ctx, b.p, b.len, &out);
        if (rc != ENGRAM_OK && atomic_fetch_add(j->failed, end - s) < 5)
            fprintf(stderr, "gen_store: import: %s: %s\n", engram_errname(j->db),
                    engram_errmsg(j->db));
        engram_free(out);
        eg_buf_reset(&b);
        atomic_fetch_add(j->done, (end - s) * j->turns);
    }
}

/* --via batch: each scope's turns as one batched request, {"scope", "turns": [...]}. */
static void batch_range(struct job *j)
{
    struct eg_buf b = {0};
    char ts[40];
    long s, k;

    for (s = j->from; s < j->to; s++) {
        char *out = NULL;
        int rc = eg_buf_printf(&b, "{\"scope\":{\"user\":\"u%ld\"},\"turns\":[", s);
        for (k = 0; k < j->turns && rc == ENGRAM_OK; k++) {
            struct fact f;
            statement(s, k, &f);
            timestamp(s, k, ts, sizeof(ts));
            rc = eg_buf_printf(&b, "%s{\"role\":\"user\",\"content\":\"%s\",\"created_at\":\"%s\"}",
                               k ? "," : "", f.text, ts);
        }
        if (rc == ENGRAM_OK && (rc = eg_buf_puts(&b, "]}")) == ENGRAM_OK)
            rc = engram_turn_add(j->db, NULL, j->ctx, NULL, b.p, &out);
        if (rc != ENGRAM_OK && atomic_fetch_add(j->failed, j->turns) < 5)
            fprintf(stderr, "gen_store: turn_add: %s: %s\n", engram_errname(j->db),
                    engram_errmsg(j->db));
        engram_free(out);
        eg_buf_reset(&b);
        atomic_fetch_add(j->done, j->turns);
    }
}

static void *worker(void *arg)
{
    struct job *j = arg;
    char ts[40], req[512];
    long s, k;

    if (j->via_import) {
        import_range(j);
        return NULL;
    }
    if (j->via_batch) {
        batch_range(j);
        return NULL;
    }
    for (s = j->from; s < j->to; s++) {
        for (k = 0; k < j->turns; k++) {
            char *out = NULL;
            struct fact f;
            int rc;
            statement(s, k, &f);
            timestamp(s, k, ts, sizeof(ts));
            snprintf(req, sizeof(req),
                     "{\"scope\":{\"user\":\"u%ld\"},\"role\":\"user\",\"content\":\"%s\","
                     "\"created_at\":\"%s\"}",
                     s, f.text, ts);
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
    const char *path = NULL, *ctx = "assistant", *via = "import";
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
        else if (strcmp(argv[i], "--via") == 0)
            via = argv[i + 1];
        else if (strcmp(argv[i], "--from") == 0)
            from = num(argv[i + 1]);
        else
            break;
    }
    if (!path || i != argc || threads < 1 || threads > 64 || from > scopes ||
        (strcmp(via, "import") != 0 && strcmp(via, "turns") != 0 && strcmp(via, "batch") != 0)) {
        fprintf(stderr, "usage: gen_store --db PATH [--scopes N] [--turns N] [--threads N] "
                        "[--context C] [--from N] [--via import|turns|batch]\n");
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
        jobs[i] = (struct job){
            .db = db,
            .ctx = ctx,
            .from = from + i * per,
            .to = from + (i + 1) * per,
            .turns = turns,
            .via_import = strcmp(via, "import") == 0,
            .via_batch = strcmp(via, "batch") == 0,
            .done = &done,
            .failed = &failed};
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
