/*
 * extract_int.h - internals shared by the rule extractor's files (extract_rules.c drives,
 * extract_match.c holds the phrase tables and value cutting, extract_date.c resolves
 * relative dates). Nothing here is visible outside src/lib/extract_*.c.
 *
 * The extractor works on lowercase word tokens of one sentence at a time. A token keeps the
 * byte span it came from in the normalised copy of the input, so values are cut from the
 * text as the user wrote it (proper-noun capitalisation kept) while matching ignores case.
 */
#ifndef EG_EXTRACT_INT_H
#define EG_EXTRACT_INT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "lib/extract.h"

#define EG_TOK_W         24  /* longer words are kept truncated and never match a table */
#define EG_SENT_MAX_TOK  96  /* longer sentences are processed in chunks of this many tokens */
#define EG_MAX_FACTS     64  /* per turn: a hostile turn cannot make the output unbounded */
#define EG_VALUE_MAX     160 /* bytes; longer values are not facts, they are paragraphs */

enum {
    TF_CAP = 1,   /* first letter upper case in the source */
    TF_NUM = 2,   /* all digits */
    TF_PUNCT = 4, /* a clause mark: , : ( ) - */
    TF_POSS = 8,  /* followed by a possessive 's ("sister's") */
    TF_SYN = 16,  /* second half of an expanded contraction ("i'm" -> i am) */
    TF_LONG = 32  /* longer than EG_TOK_W - 1 */
};

struct eg_tok {
    uint32_t s, e;        /* byte span in the normalised text */
    uint32_t known, member; /* word-list membership cache (extract_match.c) */
    uint8_t len;   /* strlen(w) */
    uint8_t flags;
    char w[EG_TOK_W]; /* lower case */
};

/* A resolved date: ms at 00:00 UTC of the first day, and how precise the text was. */
enum { EG_PREC_NONE = 0, EG_PREC_YEAR = 1, EG_PREC_MONTH = 2, EG_PREC_DAY = 3 };
struct eg_when {
    int64_t ms;
    int prec;
    int kind; /* 0 plain, 1 "since", 2 "until", 3 "by"/"due" (a deadline) */
};

/* Per-call state: everything the extractor mutates lives here, on the caller's stack. */
struct eg_xs {
    const char *text; /* normalised copy of the input */
    int64_t turn_ms;
    struct eg_facts *out;
    int rc;                /* first error (ENGRAM_NOMEM); once set, nothing more is emitted */
    const struct eg_tok *t; /* the current sentence */
    int n;
    int question; /* the sentence ends in '?' */
    int caps;     /* the sentence capitalises some word other than "I" and its first */
};

/* extract_rules.c */
static inline int eg_x_is(const struct eg_tok *t, const char *w)
{
    return t->w[0] == w[0] && strcmp(t->w, w) == 0;
}
int eg_x_in(const struct eg_tok *t, const char *const *list);
int eg_x_emit(struct eg_xs *x, int op, const char *key, const char *entity_type,
              const char *entity_name, const char *val, size_t vlen, const char *prev,
              size_t plen, double conf, int64_t valid_from, int64_t valid_until);

/* extract_match.c: find facts in tokens [0, x->n) of the current sentence. */
void eg_x_sentence(struct eg_xs *x);
/* extract_match.c: 1 when the phrase tables are consistent, else 0 with a reason in msg. */
int eg_x_selftest(char *msg, size_t cap);

/*
 * extract_date.c: when tokens t[i..] start a time expression ("next friday", "in march",
 * "3 days ago", "last week"), fill *w and return how many tokens it spans; else 0. past
 * says the sentence looks back, so a bare "march" or "friday" is the last one, not the next.
 */
int eg_x_date(const struct eg_tok *t, int i, int n, int64_t turn_ms, int past,
              struct eg_when *w);
/* "2024-12-06", "2024-12" or "2024" into buf (at least 11 bytes); returns the length. */
int eg_x_date_fmt(const struct eg_when *w, char *buf, size_t cap);

#endif
