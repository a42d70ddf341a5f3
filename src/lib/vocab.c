/*
 * vocab.c - the one key vocabulary (see vocab.h).
 *
 * This table is the single source of truth for attribute keys: the extractors only emit keys
 * listed here, resolution reads `multi` to decide between supersede and accumulate, and the
 * profile summary reads `phrase`. docs/VOCABULARY.md documents the same list; change both
 * together. Entries are in summary order: who the user is, what they know, what they are
 * doing, how they want to be answered.
 */
#include <stddef.h>
#include <string.h>

#include "lib/vocab.h"

static const struct eg_vocab_key vocab[] = {
    /* identity: who the user is */
    {"name", "identity", 0, 1.00, "The user is %s."},
    {"role", "identity", 0, 0.90, "They work as %s."},
    {"employer", "identity", 0, 0.90, "They work at %s."},
    {"team", "identity", 0, 0.70, "They are on the %s team."},
    {"location", "identity", 0, 0.90, "They live in %s."},
    {"hometown", "identity", 0, 0.50, "They are originally from %s."},
    {"nationality", "identity", 0, 0.50, "They are %s."},
    {"age", "identity", 0, 0.60, "They are %s years old."},
    {"birthday", "identity", 0, 0.60, "Their birthday is %s."},
    {"pronouns", "identity", 0, 0.80, "Their pronouns are %s."},
    {"education", "identity", 0, 0.50, "They studied %s."},
    {"family", "identity", 1, 0.60, "Family: %s."},
    {"pets", "identity", 1, 0.50, "They have a %s."},
    {"diet", "identity", 0, 0.70, "Their diet: %s."},
    {"allergies", "identity", 1, 0.90, "They are allergic to %s."},
    {"languages", "identity", 1, 0.60, "They speak %s."},
    /* knowledge: what the user knows and likes */
    {"expertise", "knowledge", 1, 0.70, "They have expertise in %s."},
    {"programming_languages", "knowledge", 1, 0.70, "They program in %s."},
    {"tools", "knowledge", 1, 0.60, "They use %s."},
    {"preferences", "knowledge", 1, 0.80, "They prefer %s."},
    {"likes", "knowledge", 1, 0.50, "They like %s."},
    {"dislikes", "knowledge", 1, 0.50, "They dislike %s."},
    {"learning", "knowledge", 1, 0.60, "They are learning %s."},
    /* context: what the user is doing now */
    {"projects", "context", 1, 0.80, "They are currently working on %s."},
    {"goals", "context", 1, 0.60, "They want to %s."},
    {"plans", "context", 1, 0.60, "They plan to %s."},
    {"trips", "context", 1, 0.50, "Travel: %s."},
    {"events", "context", 1, 0.40, "Recently: %s."},
    {"tasks", "context", 1, 0.60, "They need to %s."},
    /* instructions: how the user wants to be answered */
    {"response_format", "instructions", 0, 0.90, "They want responses as %s."},
    {"response_length", "instructions", 0, 0.90, "They want %s responses."},
    {"tone", "instructions", 0, 0.80, "They want a %s tone."},
    {"response_language", "instructions", 0, 0.90, "They want answers in %s."},
    {"code_language", "instructions", 0, 0.80, "They want code examples in %s."},
    {"avoid_topics", "instructions", 1, 0.90, "Do not bring up %s."},
};

const struct eg_vocab_key *eg_vocab_find(const char *key)
{
    size_t i;

    if (!key)
        return NULL;
    for (i = 0; i < sizeof(vocab) / sizeof(vocab[0]); i++)
        if (strcmp(vocab[i].key, key) == 0)
            return &vocab[i];
    return NULL;
}

const struct eg_vocab_key *eg_vocab_all(size_t *out_n)
{
    if (out_n)
        *out_n = sizeof(vocab) / sizeof(vocab[0]);
    return vocab;
}
