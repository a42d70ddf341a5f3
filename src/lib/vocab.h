/*
 * vocab.h - the one key vocabulary: every attribute key engram knows, its category,
 * whether it holds one value or many, and its base importance. The README's table is
 * generated from the same list (vocab.c); resolution and profile read it from here.
 */
#ifndef EG_VOCAB_H
#define EG_VOCAB_H

struct eg_vocab_key {
    const char *key;      /* "location" */
    const char *category; /* "identity" | "knowledge" | "context" | "instructions" | "unknowns" */
    int multi;            /* 0 = single-valued (a new value supersedes), 1 = values accumulate */
    double importance;    /* 0..1, base weight in retrieval and profile order */
    const char *phrase;   /* how the profile summary says it, e.g. "They live in %s." */
};

/* The entry for key, or NULL when the key is not in the vocabulary. */
const struct eg_vocab_key *eg_vocab_find(const char *key);

/* All entries, in summary order; *out_n receives the count. */
const struct eg_vocab_key *eg_vocab_all(size_t *out_n);

#endif
