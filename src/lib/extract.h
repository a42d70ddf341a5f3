/*
 * extract.h - the extractor interface: turn text in, candidate facts out.
 *
 * An extractor only reads text; it never touches the store. Resolution (resolve.c) decides
 * what each fact does to the user's memory: add, supersede, close, flag. So an extractor is
 * a pure function that can be unit-tested, fuzzed and benchmarked alone, and a second
 * extractor (extract_llm.c) is one more function of the same shape.
 */
#ifndef EG_EXTRACT_H
#define EG_EXTRACT_H

#include <stddef.h>
#include <stdint.h>

/* What a fact does to the key it names. */
enum eg_fact_op {
    EG_FACT_ASSERT = 0, /* the value holds now (adds, or supersedes a single-valued key) */
    EG_FACT_NEGATE = 1, /* the value no longer holds: close it (value NULL = any value) */
    EG_FACT_HEDGE = 2   /* uncertain: goes to category "unknowns", never to the fact itself */
};

struct eg_fact {
    enum eg_fact_op op;
    char *entity_type;    /* "Person", "Organization", "Place", "Project", "Pet", "Topic" */
    char *entity_name;    /* NULL = the scope's user; else e.g. "sister", "Anna", "Rex" */
    const char *category; /* static string from the vocabulary: "identity", ... */
    const char *key;      /* static string from the vocabulary: "location", ... */
    char *value;          /* clean value ("London", "Acme Corp"); NULL only for NEGATE-any */
    char *previous_value; /* hint from the text ("moved from Berlin to London"): "Berlin" */
    double confidence;    /* 0..1 */
    int64_t valid_from;   /* ms since epoch when the text dates the fact; 0 = the turn time */
    int64_t valid_until;  /* ms since epoch for facts with an end ("until Friday"); 0 = open */
};

struct eg_facts {
    struct eg_fact *v;
    size_t n, cap;
};

/* Upper bound on input; longer text is cut at a sentence boundary before this. */
#define EG_EXTRACT_MAX_INPUT (256 * 1024)

/*
 * The rule extractor for English. role is "user", "assistant", "system" or "tool": only
 * user turns yield facts. turn_ms is the turn's created_at (ms since epoch, UTC), used to
 * resolve relative dates. Appends to out (which the caller zero-initialises); returns
 * ENGRAM_OK, or ENGRAM_NOMEM with out holding what was found so far. Deterministic; no I/O.
 * Thread-safe: no shared mutable state.
 */
int eg_extract_rules(const char *text, size_t len, const char *role, int64_t turn_ms,
                     struct eg_facts *out);

/* Free every fact's strings and the array; leaves *f zeroed. NULL is a no-op. */
void eg_facts_free(struct eg_facts *f);

#endif
