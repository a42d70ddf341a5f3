/*
 * extract_rules.c - the rule extractor's driver: input hygiene, tokenising, sentence
 * splitting, and the one place facts are appended (eg_x_emit). What counts as a fact lives
 * in extract_match.c; dates in extract_date.c.
 *
 * Why hand-written: the extractor runs inline on every ingested turn (DESIGN.md section 3),
 * so it must do well over 100,000 turns a second. A regex engine compiled per pattern and run
 * per sentence cannot; one linear pass over the bytes into lowercase word tokens, then table
 * look-ups over a few dozen tokens per sentence, can. All state is on the caller's stack.
 */
#include <stdlib.h>
#include <string.h>

#include "engram.h"
#include "lib/extract_int.h"
#include "lib/vocab.h"

int eg_x_in(const struct eg_tok *t, const char *const *list)
{
    for (; *list; list++)
        if (t->w[0] == (*list)[0] && strcmp(t->w, *list) == 0)
            return 1;
    return 0;
}

/*
 * Copy the input into a buffer the rest of the extractor can trust: valid UTF-8 only (a bad
 * byte becomes a space, so every value we hand out can go into JSON), no control bytes,
 * typographic quotes and apostrophes folded to ASCII. Cut at EG_EXTRACT_MAX_INPUT, at the
 * last sentence end before it when there is one.
 */
static char *normalise(const char *in, size_t len, size_t *out_len)
{
    const unsigned char *s = (const unsigned char *)in;
    char *o;
    size_t i = 0, j = 0, last_end = 0;

    if (len > EG_EXTRACT_MAX_INPUT) {
        size_t k;
        len = EG_EXTRACT_MAX_INPUT;
        for (k = len; k > len / 2; k--)
            if (s[k - 1] == '.' || s[k - 1] == '\n' || s[k - 1] == '!' || s[k - 1] == '?') {
                last_end = k;
                break;
            }
        if (last_end)
            len = last_end;
    }
    o = malloc(len + 1);
    if (!o)
        return NULL;
    while (i < len) {
        unsigned c = s[i];
        size_t need = 0;
        uint32_t cp = 0;

        if (c < 0x80) {
            if (c == '\n')
                o[j++] = '\n';
            else if (c < 0x20 || c == 0x7f)
                o[j++] = ' ';
            else
                o[j++] = (char)c;
            i++;
            continue;
        }
        if (c >= 0xc2 && c <= 0xdf)
            need = 1, cp = c & 0x1f;
        else if (c >= 0xe0 && c <= 0xef)
            need = 2, cp = c & 0x0f;
        else if (c >= 0xf0 && c <= 0xf4)
            need = 3, cp = c & 0x07;
        if (need == 0 || i + need >= len) {
            o[j++] = ' ';
            i++;
            continue;
        }
        {
            size_t k;
            int ok = 1;
            for (k = 1; k <= need; k++) {
                if ((s[i + k] & 0xc0) != 0x80) {
                    ok = 0;
                    break;
                }
                cp = (cp << 6) | (s[i + k] & 0x3f);
            }
            /* Reject overlong forms, surrogates and code points past U+10FFFF. */
            if (ok && ((need == 2 && cp < 0x800) || (need == 3 && cp < 0x10000) ||
                       (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff))
                ok = 0;
            if (!ok) {
                o[j++] = ' ';
                i++;
                continue;
            }
        }
        if (cp == 0x2018 || cp == 0x2019 || cp == 0x02bc) {
            o[j++] = '\'';
        } else if (cp == 0x201c || cp == 0x201d || cp == 0x00ab || cp == 0x00bb) {
            o[j++] = '"';
        } else if (cp == 0x2013 || cp == 0x2014) {
            o[j++] = '-';
        } else if (cp == 0x2026) {
            o[j++] = '.';
        } else if (cp == 0x00a0 || (cp >= 0x2000 && cp <= 0x200b) || cp == 0x2028 ||
                   cp == 0x2029 || cp == 0x3000 || cp == 0xfeff || (cp >= 0x80 && cp < 0xa0)) {
            o[j++] = ' ';
        } else {
            memcpy(o + j, s + i, need + 1);
            j += need + 1;
        }
        i += need + 1;
    }
    o[j] = '\0';
    *out_len = j;
    return o;
}

/* --- tokens --------------------------------------------------------------------------- */

struct sent {
    struct eg_tok t[EG_SENT_MAX_TOK];
    int n;
};

static int is_alnum(unsigned c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c >= 0x80;
}

static void push(struct sent *st, uint32_t s, uint32_t e, const char *w, size_t wl,
                 unsigned flags)
{
    struct eg_tok *t;

    if (st->n >= EG_SENT_MAX_TOK)
        return;
    t = &st->t[st->n++];
    t->s = s;
    t->e = e;
    if (wl >= EG_TOK_W) {
        wl = EG_TOK_W - 1;
        flags |= TF_LONG;
    }
    memcpy(t->w, w, wl);
    t->w[wl] = '\0';
    t->len = (uint8_t)wl;
    t->flags = (uint8_t)flags;
    t->known = t->member = 0;
}

/* Casual spellings and apostrophe-less contractions, expanded to the words they stand for. */
static const char *const casual[][2] = {
    {"ain't", "am not"}, {"arent", "are not"}, {"bc", "because"}, {"cannot", "can not"},
    {"cant", "can not"}, {"couldnt", "could not"}, {"coz", "because"}, {"cuz", "because"},
    {"didnt", "did not"}, {"doesnt", "does not"}, {"dont", "do not"}, {"fav", "favorite"},
    {"fave", "favorite"}, {"favourite", "favorite"}, {"gonna", "going to"}, {"gotta", "got to"},
    {"hadnt", "had not"}, {"hasnt", "has not"}, {"havent", "have not"}, {"id", NULL},
    {"idk", "i do not know"}, {"im", "i am"}, {"ima", "i am going to"}, {"imma", "i am going to"},
    {"isnt", "is not"}, {"ive", "i have"}, {"kinda", "kind of"}, {"lemme", "let me"},
    {"pls", "please"}, {"plz", "please"}, {"rn", "right now"}, {"shouldnt", "should not"},
    {"sorta", "sort of"}, {"thats", "that is"}, {"tho", "though"}, {"thru", "through"},
    {"u", "you"}, {"ur", "your"}, {"w/", "with"}, {"wanna", "want to"}, {"wasnt", "was not"},
    {"werent", "were not"}, {"whats", "what is"}, {"wont", "will not"}, {"wouldnt", "would not"},
    {"y'all", "you"}, {"ya", "you"}, {"youre", "you are"},
};

/* Words after which "'s" means "is", not a possessive. */
static const char *const s_is[] = {"it", "that", "he", "she", "what", "there", "who", "where",
                                   "here", "name", "how", "this", "everything", "nothing",
                                   "birthday", "job", "title", "role", "team", "one", NULL};

static void push_words(struct sent *st, uint32_t s, uint32_t e, const char *words, unsigned f)
{
    const char *p = words;
    int first = 1;

    while (*p) {
        const char *q = p;
        while (*q && *q != ' ')
            q++;
        push(st, s, e, p, (size_t)(q - p), first ? f : (f & ~(unsigned)TF_CAP) | TF_SYN);
        first = 0;
        p = *q ? q + 1 : q;
    }
}

/* One word of the source (bytes [s, e) of txt) into one or more tokens. */
static void push_word(struct sent *st, const char *txt, uint32_t s, uint32_t e)
{
    char w[64];
    size_t wl = e - s, k, ap = 0;
    unsigned f = 0;
    int digits = 1;

    if (wl >= sizeof(w)) {
        /* Too long to be a word we know; keep its span so values can still end at it. */
        push(st, s, e, txt + s, EG_TOK_W - 1, TF_LONG);
        return;
    }
    for (k = 0; k < wl; k++) {
        unsigned char c = (unsigned char)txt[s + k];
        if (c >= 'A' && c <= 'Z')
            c = (unsigned char)(c + 32);
        if (c < '0' || c > '9')
            digits = 0;
        if (c == '\'' && !ap)
            ap = k;
        w[k] = (char)c;
    }
    w[wl] = '\0';
    if ((unsigned char)txt[s] >= 'A' && (unsigned char)txt[s] <= 'Z')
        f |= TF_CAP;
    if (digits)
        f |= TF_NUM;

    if (ap) {
        const char *suf = w + ap + 1;
        char base[64];
        memcpy(base, w, ap);
        base[ap] = '\0';
        if (strcmp(suf, "t") == 0 && ap > 1 && base[ap - 1] == 'n') {
            base[ap - 1] = '\0';
            if (strcmp(base, "ca") == 0)
                push_words(st, s, e, "can not", f);
            else if (strcmp(base, "wo") == 0)
                push_words(st, s, e, "will not", f);
            else if (strcmp(base, "ai") == 0)
                push_words(st, s, e, "am not", f);
            else {
                push(st, s, e, base, ap - 1, f);
                push(st, s, e, "not", 3, TF_SYN);
            }
            return;
        }
        if (strcmp(suf, "m") == 0 || strcmp(suf, "re") == 0 || strcmp(suf, "ve") == 0 ||
            strcmp(suf, "ll") == 0 || strcmp(suf, "d") == 0) {
            const char *x = suf[0] == 'm' ? "am" : suf[0] == 'r' ? "are" : suf[0] == 'v'
                            ? "have" : suf[0] == 'l' ? "will" : "would";
            push(st, s, e, base, ap, f);
            push(st, s, e, x, strlen(x), TF_SYN);
            return;
        }
        if (strcmp(suf, "s") == 0) {
            struct eg_tok probe;
            memcpy(probe.w, base, ap + 1 < EG_TOK_W ? ap + 1 : EG_TOK_W);
            probe.w[EG_TOK_W - 1] = '\0';
            push(st, s, e, base, ap, f);
            if (ap < EG_TOK_W && eg_x_in(&probe, s_is))
                push(st, s, e, "is", 2, TF_SYN);
            else if (st->n > 0)
                st->t[st->n - 1].flags |= TF_POSS;
            return;
        }
    }
    /* "RN" (a nurse) is not "rn" (right now): casual spellings are lower case */
    if (wl <= 10 && !(wl >= 2 && txt[s] >= 'A' && txt[s] <= 'Z' && txt[s + 1] >= 'A' &&
                      txt[s + 1] <= 'Z')) { /* binary search: casual[] is sorted bytewise */
        size_t lo = 0, hi = sizeof(casual) / sizeof(casual[0]);
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int d = strcmp(casual[mid][0], w);
            if (d == 0) {
                if (casual[mid][1])
                    push_words(st, s, e, casual[mid][1], f);
                else
                    push(st, s, e, w, wl, f);
                return;
            }
            if (d < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    /* "i" written as "I" is not a proper noun. */
    push(st, s, e, w, wl, f);
}

/* Titles and abbreviations whose period does not end a sentence. */
static int is_abbrev(const struct eg_tok *t)
{
    static const char *const ab[] = {"dr", "mr", "mrs", "ms", "st", "prof", "jr", "sr",
                                     "mt", "vs", "inc", "ltd", "co", "corp", "dept", "univ",
                                     "ave", "rd", "approx", "no", NULL};
    return t->len <= 6 && eg_x_in(t, ab);
}

static void flush(struct eg_xs *x, struct sent *st, int question)
{
    if (st->n > 0 && x->rc == ENGRAM_OK && x->out->n < EG_MAX_FACTS) {
        int i;
        x->t = st->t;
        x->n = st->n;
        x->question = question;
        x->caps = 0;
        for (i = 1; i < st->n; i++)
            if ((st->t[i].flags & TF_CAP) && !(st->t[i].len == 1 && st->t[i].w[0] == 'i') &&
                !(st->t[i - 1].flags & TF_PUNCT))
                x->caps = 1;
        eg_x_sentence(x);
    }
    st->n = 0;
}

/* Does s start with a subject word ("i", "im", "i'm", "my", "we") and then a non-letter? */
static int starts_subject(const char *s, size_t n)
{
    static const char *const subj[] = {"i ", "i'", "im ", "my ", "we ", NULL};
    size_t k, m;

    for (k = 0; subj[k]; k++) {
        m = strlen(subj[k]);
        if (n >= m && (s[0] == subj[k][0] || s[0] == subj[k][0] - 32) &&
            strncmp(s + 1, subj[k] + 1, m - 1) == 0)
            return 1;
    }
    return 0;
}

/*
 * Is there a closing single quote (after a word, before a non-letter) on this line, within
 * a short distance? Bounded, so scanning stays linear in the input.
 */
static int quote_closes(const char *txt, size_t i, size_t len)
{
    size_t k, end = i + 400 < len ? i + 400 : len;

    for (k = i; k < end && txt[k] != '\n'; k++)
        if (txt[k] == '\'' && k > i && is_alnum((unsigned char)txt[k - 1]) &&
            (k + 1 >= len || !is_alnum((unsigned char)txt[k + 1])))
            return 1;
    return 0;
}

static void scan(struct eg_xs *x, const char *txt, size_t len, struct sent *st)
{
    size_t i = 0;
    int in_quote = 0, in_code = 0, line_start = 1, skip_line = 0;

    while (i < len && x->rc == ENGRAM_OK && x->out->n < EG_MAX_FACTS) {
        unsigned char c = (unsigned char)txt[i];

        if (c == '\n') {
            flush(x, st, 0);
            in_quote = 0;
            skip_line = 0;
            line_start = 1;
            i++;
            continue;
        }
        if (c == ' ') {
            i++;
            continue;
        }
        if (line_start) {
            line_start = 0;
            /* Quoted mail ("> ...") and fenced code are someone else's words. */
            if (c == '>')
                skip_line = 1;
            if (c == '`' && i + 2 < len && txt[i + 1] == '`' && txt[i + 2] == '`') {
                in_code = !in_code;
                skip_line = 1;
            }
        }
        if (skip_line || in_code) {
            i++;
            continue;
        }
        if (c == '.' && st->n > 0 && !(st->t[st->n - 1].flags & TF_PUNCT) &&
            st->t[st->n - 1].e == i && is_abbrev(&st->t[st->n - 1])) {
            i++; /* "Dr. Smith", "St. Mary's": not the end of a sentence */
            continue;
        }
        if (c == '.' || c == '!' || c == '?' || c == ';') {
            int q = 0;
            while (i < len && (txt[i] == '.' || txt[i] == '!' || txt[i] == '?' ||
                               txt[i] == ';')) {
                if (txt[i] == '?')
                    q = 1;
                i++;
            }
            if (!in_quote)
                flush(x, st, q);
            continue;
        }
        if (c == '"' || c == '`') {
            /* Quoted words are not the user's statements; leave a mark so the clause knows. */
            if (!in_quote)
                push(st, (uint32_t)i, (uint32_t)i + 1, "\"", 1, TF_PUNCT);
            if (in_quote != 2)
                in_quote = !in_quote;
            i++;
            continue;
        }
        if (c == '\'') {
            /* 'single quotes' around words quote them too; an apostrophe inside or at the
             * end of a word ("don't", "James'") never gets here or has no opener. */
            if (in_quote == 2) {
                in_quote = 0;
            } else if (!in_quote && (i == 0 || txt[i - 1] == ' ' || txt[i - 1] == '(' ||
                                     txt[i - 1] == ':' || txt[i - 1] == '\n') &&
                       quote_closes(txt, i + 1, len)) {
                push(st, (uint32_t)i, (uint32_t)i + 1, "\"", 1, TF_PUNCT);
                in_quote = 2;
            }
            i++;
            continue;
        }
        if (is_alnum(c) || c == '_' || c == '@' || c == '\'' ||
            (c == '$' && i + 1 < len && txt[i + 1] >= '0' && txt[i + 1] <= '9')) {
            size_t j = i + (c == '$'); /* "$10k": the sign is part of the word */
            if (c == '\'') { /* a leading apostrophe is a quote mark */
                i++;
                continue;
            }
            while (j < len) {
                unsigned char d = (unsigned char)txt[j];
                if (is_alnum(d) || d == '_' || d == '@')
                    j++;
                else if (d == '.' && starts_subject(txt + j + 1, len - j - 1))
                    break; /* "i'm a nurse.i live in leeds": a missing space */
                else if ((d == '-' || d == '/' || d == '&' || d == '.' || d == '\'') &&
                         j + 1 < len && is_alnum((unsigned char)txt[j + 1]))
                    j++;
                else if (d == '+' || d == '#')
                    j++;
                else
                    break;
            }
            if (!in_quote) {
                if (st->n >= EG_SENT_MAX_TOK)
                    flush(x, st, 0);
                push_word(st, txt, (uint32_t)i, (uint32_t)j);
            }
            i = j;
            continue;
        }
        if (c == '&' && !in_quote) {
            push(st, (uint32_t)i, (uint32_t)i + 1, "&", 1, 0); /* "McKinsey & Company" */
            i++;
            continue;
        }
        if (c == ',' || c == ':' || c == '(' || c == ')' || c == '-' || c == '[' ||
            c == ']' || c == '|' || c == '*') {
            if (!in_quote && st->n > 0 && !(st->t[st->n - 1].flags & TF_PUNCT)) {
                char pw[2] = {(char)(c == '-' || c == '*' || c == '|' ? ',' : c), 0};
                push(st, (uint32_t)i, (uint32_t)i + 1, pw, 1, TF_PUNCT);
            }
            i++;
            continue;
        }
        i++; /* any other symbol separates words */
    }
    flush(x, st, 0);
}

/* --- facts ---------------------------------------------------------------------------- */

static char *dupn(const char *s, size_t n)
{
    char *p = malloc(n + 1);
    if (p) {
        memcpy(p, s, n);
        p[n] = '\0';
    }
    return p;
}

static int same(const char *a, const char *b, size_t bl)
{
    if (!a)
        return b == NULL;
    if (!b)
        return 0;
    return strlen(a) == bl && strncmp(a, b, bl) == 0;
}

int eg_x_emit(struct eg_xs *x, int op, const char *key, const char *entity_type,
              const char *entity_name, const char *val, size_t vlen, const char *prev,
              size_t plen, double conf, int64_t valid_from, int64_t valid_until)
{
    const struct eg_vocab_key *vk = eg_vocab_find(key);
    struct eg_facts *o = x->out;
    struct eg_fact *f;
    char *owned_prev = NULL;
    size_t i;

    if (!vk || x->rc != ENGRAM_OK || o->n >= EG_MAX_FACTS)
        return x->rc;
    if (val && (vlen == 0 || vlen > EG_VALUE_MAX))
        return ENGRAM_OK;
    if (!val && op != EG_FACT_NEGATE)
        return ENGRAM_OK;
    if (prev && (plen == 0 || plen > EG_VALUE_MAX))
        prev = NULL;
    for (i = 0; i < o->n; i++) {
        f = &o->v[i];
        if (f->key == vk->key && (int)f->op == op && same(f->value, val, vlen) &&
            same(f->entity_name, entity_name, entity_name ? strlen(entity_name) : 0))
            return ENGRAM_OK;
        /*
         * "I left Acme and joined Initech": one update carrying the previous value reads
         * better in the diff than a close followed by an add, and resolves the same way.
         */
        if (op == EG_FACT_ASSERT && !vk->multi && f->op == EG_FACT_NEGATE &&
            f->key == vk->key && !f->entity_name && !entity_name && f->value && !prev) {
            owned_prev = f->value;
            free(f->entity_type);
            free(f->previous_value);
            memmove(f, f + 1, (o->n - i - 1) * sizeof(*f));
            o->n--;
            break;
        }
    }
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 8;
        struct eg_fact *v = realloc(o->v, cap * sizeof(*v));
        if (!v) {
            free(owned_prev);
            x->rc = ENGRAM_NOMEM;
            return x->rc;
        }
        o->v = v;
        o->cap = cap;
    }
    f = &o->v[o->n];
    memset(f, 0, sizeof(*f));
    f->previous_value = owned_prev;
    if (!owned_prev && prev && !(f->previous_value = dupn(prev, plen)))
        goto nomem;
    f->op = (enum eg_fact_op)op;
    f->category = op == EG_FACT_HEDGE ? "unknowns" : vk->category;
    f->key = vk->key;
    f->confidence = conf;
    f->valid_from = valid_from;
    f->valid_until = valid_until;
    if (!(f->entity_type = dupn(entity_type, strlen(entity_type))))
        goto nomem;
    if (entity_name && !(f->entity_name = dupn(entity_name, strlen(entity_name))))
        goto nomem;
    if (val && !(f->value = dupn(val, vlen)))
        goto nomem;
    o->n++;
    return ENGRAM_OK;

nomem:
    free(f->previous_value);
    free(f->entity_type);
    free(f->entity_name);
    free(f->value);
    memset(f, 0, sizeof(*f));
    x->rc = ENGRAM_NOMEM;
    return x->rc;
}

int eg_extract_rules(const char *text, size_t len, const char *role, int64_t turn_ms,
                     struct eg_facts *out)
{
    struct eg_xs x;
    struct sent *st = NULL;
    char *norm = NULL;
    size_t nlen = 0;

    if (!out)
        return ENGRAM_MISUSE;
    /* Only the user speaks for the user: assistant, system and tool text never yields facts. */
    if (!text || len == 0 || !role || strcmp(role, "user") != 0)
        return ENGRAM_OK;
    memset(&x, 0, sizeof(x));
    x.turn_ms = turn_ms;
    x.out = out;
    x.rc = ENGRAM_OK;
    norm = normalise(text, len, &nlen);
    st = malloc(sizeof(*st));
    if (!norm || !st) {
        x.rc = ENGRAM_NOMEM;
        goto cleanup;
    }
    st->n = 0;
    x.text = norm;
    scan(&x, norm, nlen, st);

cleanup:
    free(st);
    free(norm);
    return x.rc;
}

void eg_facts_free(struct eg_facts *f)
{
    size_t i;

    if (!f)
        return;
    for (i = 0; i < f->n; i++) {
        free(f->v[i].entity_type);
        free(f->v[i].entity_name);
        free(f->v[i].value);
        free(f->v[i].previous_value);
    }
    free(f->v);
    f->v = NULL;
    f->n = f->cap = 0;
}
