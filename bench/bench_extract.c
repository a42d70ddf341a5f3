/*
 * bench_extract.c - turns per second through the rule extractor alone (no store, no HTTP).
 *
 * The mix is what a chat assistant sees: about a third of turns state facts (often several,
 * casually written), the rest are questions, requests, chit-chat and assistant replies that
 * must yield nothing, plus a few long turns. Usage: bench_extract [seconds] (default 3).
 * Prints turns/s, microseconds per turn and facts per turn; see bench/RESULTS.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engram.h"
#include "lib/extract.h"

struct turn {
    const char *role;
    const char *text;
};

static const struct turn mix[] = {
    {"user", "I just moved from Berlin to London"},
    {"user", "Hi, I'm Alice Chen, Head of Platform at Acme Corp."},
    {"user", "I prefer TypeScript over JavaScript"},
    {"user", "I prefer bullet-point responses"},
    {"user", "btw im a nurse and i live in leeds"},
    {"user", "Can you help me write a cover letter for a product manager role?"},
    {"user", "What's the best way to learn Rust?"},
    {"user", "thanks, that's really helpful!"},
    {"user", "I'm working on a migration from CommonJS to ESM and it's taking forever"},
    {"user", "We shipped the migration last week, it's done."},
    {"user", "I'm going to Japan next Friday for two weeks, any tips?"},
    {"user", "keep answers short and use bullet points"},
    {"user", "My sister lives in Paris and works at a bank."},
    {"user", "I might move to Lisbon next year, not sure yet."},
    {"user", "If I lived in Paris I'd eat croissants every day"},
    {"user", "I'm allergic to peanuts and shellfish, so please keep that in mind for recipes."},
    {"user", "Tell me a joke about programmers"},
    {"user", "I left Google and joined Meta as a staff engineer."},
    {"user", "ok"},
    {"user", "Could you summarize the article I pasted above in three sentences?"},
    {"user",
     "So here's the thing. I have been trying to get my sourdough to rise properly for weeks, "
     "and no matter what I do the loaf comes out flat. I feed the starter twice a day, keep "
     "the kitchen warm, and use bread flour. What am I doing wrong? Should I try a different "
     "hydration or a longer proof?"},
    {"user", "i use vim and tmux for everything lol"},
    {"user", "I have a dentist appointment tomorrow at 3pm"},
    {"user", "Don't talk about politics please."},
    {"assistant",
     "Sure! Here are a few options for your trip to Japan: visit Kyoto in the morning, take "
     "the train to Nara, and spend the evening in Osaka. Let me know if you'd like more."},
    {"assistant", "You mentioned you live in London, so here are some restaurants nearby."},
    {"user", "How do I reverse a linked list in C?"},
    {"user", "My goal this year is to run a marathon."},
    {"user", "I'm no longer vegan, I started eating fish again."},
    {"user", "Explain the difference between TCP and UDP like I'm five."},
    {"system", "You are a helpful assistant."},
    {"user", "I speak English, French and a little Spanish."},
};

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    const size_t nmix = sizeof(mix) / sizeof(mix[0]);
    size_t lens[sizeof(mix) / sizeof(mix[0])];
    double secs = 3.0, t0, c0, el, cpu;
    unsigned long long turns = 0, facts = 0;
    int64_t turn_ms = 1731664800000LL;
    size_t i;

    if (argc > 1) {
        char *end = NULL;
        secs = strtod(argv[1], &end);
        if (!end || *end || secs <= 0) {
            fprintf(stderr, "usage: %s [seconds]\n", argv[0]);
            return 1;
        }
    }
    for (i = 0; i < nmix; i++)
        lens[i] = strlen(mix[i].text);
    /* Per-core speed is CPU time: on a shared, loaded machine wall time also counts the
     * time other processes held our core. Both are printed. */
    t0 = clock_s(CLOCK_MONOTONIC);
    c0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
    do {
        /* Check the clock once per pass over the mix: a clock call per turn would be a
         * visible share of a microsecond-scale operation. */
        for (i = 0; i < nmix; i++) {
            struct eg_facts f = {0};
            if (eg_extract_rules(mix[i].text, lens[i], mix[i].role, turn_ms, &f) != ENGRAM_OK) {
                fprintf(stderr, "extract failed\n");
                return 2;
            }
            facts += f.n;
            eg_facts_free(&f);
        }
        turns += nmix;
        el = clock_s(CLOCK_MONOTONIC) - t0;
    } while (el < secs);
    cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - c0;
    printf("extractor: %llu turns, %.2f s CPU = %.0f turns/s per core (%.2f us/turn); "
           "wall %.2f s = %.0f turns/s; %.2f facts/turn; %zu-turn mix\n",
           turns, cpu, (double)turns / cpu, cpu * 1e6 / (double)turns, el,
           (double)turns / el, (double)facts / (double)turns, nmix);
    return 0;
}
