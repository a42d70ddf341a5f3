/*
 * wordnet.c - loads WordNet's first-sense synonyms into one immutable hash table.
 *
 * Layout of a loaded handle: every distinct word (lemma or synonym) is interned once in a
 * string arena and owns one node; a node's synonyms are a run of `const char *` in one
 * shared array. Interning keeps the whole of WordNet 3.0 to a few megabytes, since each
 * synonym is itself a lemma. The index files are read line by line, and for each lemma only
 * the synset at its first offset is parsed from the (mmapped) data file, so loading touches
 * little more than the index files.
 */
#include "lib/wordnet.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engram.h"

#define LEMMA_MAX 128 /* longer lemmas (none in WordNet 3.0 exceed ~70 bytes) are skipped */

struct node {
    uint32_t str;       /* offset of the NUL-terminated word in the arena */
    uint32_t len;       /* its length */
    uint32_t hash;      /* FNV-1a of the word */
    uint32_t syn_first; /* first synonym in wn->syns */
    uint32_t syn_n;     /* number of synonyms (0: the word is only someone's synonym) */
    uint16_t pos_n[4];  /* how many came from the noun, verb, adjective first sense; [3] pads */
};

/* A hash slot keeps the hash beside the node index, so a probe rarely leaves the table. */
struct slot {
    uint32_t hash;
    uint32_t node; /* node index + 1; 0 = empty */
};

struct eg_wordnet {
    char *arena;
    size_t arena_len, arena_cap;
    struct node *nodes;
    size_t nnodes, nodes_cap;
    struct slot *slots; /* open addressing, linear probing */
    size_t nslots;      /* a power of two */
    const char **syns;
    size_t nsyns;
    size_t nlemmas; /* nodes with synonyms */
    void *block;    /* loaded from a cache: nodes, slots and arena live in this one block */
};

/* A (lemma node, synonym node) pair gathered while reading; grouped by lemma at the end. */
struct pair {
    uint32_t lemma, syn;
    uint32_t pos; /* 0 noun, 1 verb, 2 adjective */
};

struct builder {
    struct pair *pairs;
    size_t npairs, cap;
    uint32_t pos; /* the part of speech being read */
};

static uint32_t fnv1a(const char *s, size_t n)
{
    uint32_t h = 2166136261u;
    size_t i;

    for (i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

/* Lower-cases ASCII and turns WordNet's '_' into ' ' (the two spellings are one lemma).
 * Returns the length written to out (at most cap), or 0 when the word does not fit. */
static size_t normalize(const char *s, size_t n, char *out, size_t cap)
{
    size_t i;

    if (n == 0 || n > cap)
        return 0;
    for (i = 0; i < n; i++) {
        char c = s[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c + ('a' - 'A'));
        else if (c == '_')
            c = ' ';
        out[i] = c;
    }
    return n;
}

/* The node of word w (already normalized), or -1. */
static long find(const struct eg_wordnet *wn, const char *w, size_t n)
{
    uint32_t h = fnv1a(w, n);
    size_t mask = wn->nslots - 1, i = h & mask;

    if (wn->nslots == 0)
        return -1;
    for (;; i = (i + 1) & mask) {
        const struct slot *s = &wn->slots[i];
        const struct node *nd;

        if (s->node == 0)
            return -1;
        if (s->hash != h)
            continue;
        nd = &wn->nodes[s->node - 1];
        if (nd->len == n && memcmp(wn->arena + nd->str, w, n) == 0)
            return (long)(s->node - 1);
    }
}

/* Resizes the table to at least want slots (a power of two, load kept under one half). */
static int grow_slots(struct eg_wordnet *wn, size_t want)
{
    size_t ns = 1024, i;
    struct slot *slots;

    while (ns < want)
        ns *= 2;
    slots = calloc(ns, sizeof(*slots));
    if (slots == NULL)
        return ENGRAM_NOMEM;
    for (i = 0; i < wn->nnodes; i++) {
        size_t j = wn->nodes[i].hash & (ns - 1);

        while (slots[j].node != 0)
            j = (j + 1) & (ns - 1);
        slots[j].hash = wn->nodes[i].hash;
        slots[j].node = (uint32_t)(i + 1);
    }
    free(wn->slots);
    wn->slots = slots;
    wn->nslots = ns;
    return ENGRAM_OK;
}

/* Interns w[0..n) (normalized) and sets *out to its node index. */
static int intern(struct eg_wordnet *wn, const char *w, size_t n, uint32_t *out)
{
    long found = find(wn, w, n);
    struct node *nd;
    size_t j;
    int rc;

    if (found >= 0) {
        *out = (uint32_t)found;
        return ENGRAM_OK;
    }
    if ((wn->nnodes + 1) * 4 > wn->nslots * 3 && (rc = grow_slots(wn, wn->nslots * 2)) != ENGRAM_OK)
        return rc;
    if (wn->nnodes == wn->nodes_cap) {
        size_t cap = wn->nodes_cap ? wn->nodes_cap * 2 : 4096;
        struct node *p = realloc(wn->nodes, cap * sizeof(*p));

        if (p == NULL)
            return ENGRAM_NOMEM;
        wn->nodes = p;
        wn->nodes_cap = cap;
    }
    if (wn->arena_len + n + 1 > wn->arena_cap) {
        size_t cap = wn->arena_cap ? wn->arena_cap * 2 : 65536;
        char *p;

        while (cap < wn->arena_len + n + 1)
            cap *= 2;
        if (cap > UINT32_MAX)
            return ENGRAM_NOMEM;
        p = realloc(wn->arena, cap);
        if (p == NULL)
            return ENGRAM_NOMEM;
        wn->arena = p;
        wn->arena_cap = cap;
    }
    nd = &wn->nodes[wn->nnodes];
    nd->str = (uint32_t)wn->arena_len;
    nd->len = (uint32_t)n;
    nd->hash = fnv1a(w, n);
    nd->syn_first = 0;
    nd->syn_n = 0;
    memset(nd->pos_n, 0, sizeof(nd->pos_n));
    memcpy(wn->arena + wn->arena_len, w, n);
    wn->arena[wn->arena_len + n] = '\0';
    wn->arena_len += n + 1;
    for (j = nd->hash & (wn->nslots - 1); wn->slots[j].node != 0; j = (j + 1) & (wn->nslots - 1))
        ;
    wn->slots[j].hash = nd->hash;
    wn->slots[j].node = (uint32_t)(wn->nnodes + 1);
    *out = (uint32_t)wn->nnodes++;
    return ENGRAM_OK;
}

static int add_pair(struct builder *b, uint32_t lemma, uint32_t syn)
{
    if (lemma == syn)
        return ENGRAM_OK;
    if (b->npairs == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 16384;
        struct pair *p = realloc(b->pairs, cap * sizeof(*p));

        if (p == NULL)
            return ENGRAM_NOMEM;
        b->pairs = p;
        b->cap = cap;
    }
    b->pairs[b->npairs].lemma = lemma;
    b->pairs[b->npairs].syn = syn;
    b->pairs[b->npairs].pos = b->pos;
    b->npairs++;
    return ENGRAM_OK;
}

/* A read-only mapping of a whole file; an empty file maps to {NULL, 0}. */
struct map {
    const char *p;
    size_t n;
};

/* ENGRAM_OK, ENGRAM_NOTFOUND when the file does not exist, or ENGRAM_ERROR. */
static int map_file(const char *dir, const char *name, struct map *m)
{
    char path[4096];
    struct stat sb;
    void *p;
    int fd, w;

    m->p = NULL;
    m->n = 0;
    w = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (w < 0 || (size_t)w >= sizeof(path))
        return ENGRAM_ERROR;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? ENGRAM_NOTFOUND : ENGRAM_ERROR;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        close(fd);
        return ENGRAM_ERROR;
    }
    if (sb.st_size > 0) {
        p = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (p == MAP_FAILED) {
            close(fd);
            return ENGRAM_ERROR;
        }
        m->p = p;
        m->n = (size_t)sb.st_size;
    }
    close(fd);
    return ENGRAM_OK;
}

static void unmap(struct map *m)
{
    if (m->p != NULL)
        munmap((void *)m->p, m->n);
    m->p = NULL;
    m->n = 0;
}

/* Field scanner over one line [p, end): fields are separated by spaces; a newline ends the
 * line early, so a data line need not be measured first. */
struct fields {
    const char *p, *end;
};

static int next_field(struct fields *f, const char **out, size_t *out_n)
{
    const char *s;

    while (f->p < f->end && *f->p == ' ')
        f->p++;
    if (f->p >= f->end || *f->p == '\n')
        return 0;
    s = f->p;
    while (f->p < f->end && *f->p != ' ' && *f->p != '\n')
        f->p++;
    *out = s;
    *out_n = (size_t)(f->p - s);
    return 1;
}

static int parse_num(const char *s, size_t n, int base, unsigned long *out)
{
    unsigned long v = 0;
    size_t i;

    if (n == 0 || n > 10)
        return 0;
    for (i = 0; i < n; i++) {
        int d;

        if (s[i] >= '0' && s[i] <= '9')
            d = s[i] - '0';
        else if (base == 16 && s[i] >= 'a' && s[i] <= 'f')
            d = s[i] - 'a' + 10;
        else if (base == 16 && s[i] >= 'A' && s[i] <= 'F')
            d = s[i] - 'A' + 10;
        else
            return 0;
        v = v * (unsigned long)base + (unsigned long)d;
    }
    *out = v;
    return 1;
}

/* Adds the words of the synset at byte offset off of data as synonyms of lemma[0..ll). A
 * line that does not start with its own offset is a corrupt or mismatched file: skipped.
 * The lemma is interned only when the synset holds another word, so the many lemmas whose
 * first sense is a synset of one cost nothing. */
static int add_synset(struct eg_wordnet *wn, struct builder *b, const struct map *data,
                      unsigned long off, const char *lemma, size_t ll)
{
    struct fields f;
    const char *s;
    size_t n, i;
    unsigned long check, wcnt;
    uint32_t lid = 0;
    int have_lemma = 0, rc;

    if (off >= data->n)
        return ENGRAM_OK;
    f.p = data->p + off;
    f.end = data->p + data->n;
    if (!next_field(&f, &s, &n) || !parse_num(s, n, 10, &check) || check != off)
        return ENGRAM_OK;
    if (!next_field(&f, &s, &n) || !next_field(&f, &s, &n)) /* lex_filenum, ss_type */
        return ENGRAM_OK;
    if (!next_field(&f, &s, &n) || !parse_num(s, n, 16, &wcnt))
        return ENGRAM_OK;
    for (i = 0; i < wcnt; i++) {
        char w[LEMMA_MAX];
        size_t wl;
        uint32_t id;

        if (!next_field(&f, &s, &n))
            break;
        /* Adjectives may carry a syntactic marker: "galore(ip)", "outback(a)". */
        if (n > 3 && s[n - 1] == ')') {
            const char *lp = memchr(s, '(', n);

            if (lp != NULL)
                n = (size_t)(lp - s);
        }
        wl = normalize(s, n, w, sizeof(w));
        if (wl > 0 && !(wl == ll && memcmp(w, lemma, ll) == 0)) {
            if (!have_lemma) {
                if ((rc = intern(wn, lemma, ll, &lid)) != ENGRAM_OK)
                    return rc;
                have_lemma = 1;
            }
            if ((rc = intern(wn, w, wl, &id)) != ENGRAM_OK)
                return rc;
            if ((rc = add_pair(b, lid, id)) != ENGRAM_OK)
                return rc;
        }
        if (!next_field(&f, &s, &n)) /* lex_id */
            break;
    }
    return ENGRAM_OK;
}

/* Reads one index file: for each lemma, its first synset from the matching data file. */
static int load_pos(struct eg_wordnet *wn, struct builder *b, const struct map *index,
                    const struct map *data)
{
    const char *p = index->p, *end = index->p + index->n;
    int rc;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *eol = nl ? nl : end;
        struct fields f = {p, eol};
        const char *s;
        size_t n, i;
        unsigned long pcnt, off;
        char lemma[LEMMA_MAX];
        size_t ll;

        p = nl ? nl + 1 : end;
        if (eol == f.p || *f.p == ' ') /* the license header lines start with spaces */
            continue;
        if (!next_field(&f, &s, &n) || (ll = normalize(s, n, lemma, sizeof(lemma))) == 0)
            continue;
        /* pos synset_cnt p_cnt [ptr_symbol]*p_cnt sense_cnt tagsense_cnt offset... */
        if (!next_field(&f, &s, &n) || !next_field(&f, &s, &n) || !next_field(&f, &s, &n) ||
            !parse_num(s, n, 10, &pcnt))
            continue;
        for (i = 0; i < pcnt + 2; i++)
            if (!next_field(&f, &s, &n))
                break;
        if (i < pcnt + 2 || !next_field(&f, &s, &n) || !parse_num(s, n, 10, &off))
            continue;
        if ((rc = add_synset(wn, b, data, off, lemma, ll)) != ENGRAM_OK)
            return rc;
    }
    return ENGRAM_OK;
}

/* Groups the pairs by lemma (a stable counting sort, so part-of-speech order is kept) into
 * per-node runs, dropping duplicate synonyms. Stores node indices for now: the arena may
 * still move while the .exc files are read. */
static int group_pairs(struct eg_wordnet *wn, struct builder *b, uint32_t **out_ids)
{
    uint32_t *start = NULL, *ids = NULL;
    size_t i;
    int rc = ENGRAM_NOMEM;

    *out_ids = NULL;
    start = calloc(wn->nnodes + 1, sizeof(*start));
    ids = calloc(b->npairs ? b->npairs : 1, sizeof(*ids));
    if (start == NULL || ids == NULL)
        goto cleanup;
    for (i = 0; i < b->npairs; i++)
        start[b->pairs[i].lemma + 1]++;
    for (i = 0; i < wn->nnodes; i++)
        start[i + 1] += start[i];
    for (i = 0; i < wn->nnodes; i++) {
        wn->nodes[i].syn_first = start[i];
        wn->nodes[i].syn_n = 0;
    }
    for (i = 0; i < b->npairs; i++) {
        struct node *nd = &wn->nodes[b->pairs[i].lemma];
        uint32_t syn = b->pairs[i].syn, k;

        for (k = 0; k < nd->syn_n; k++)
            if (ids[nd->syn_first + k] == syn)
                break;
        if (k == nd->syn_n) {
            ids[nd->syn_first + nd->syn_n++] = syn;
            nd->pos_n[b->pairs[i].pos]++;
        }
    }
    *out_ids = ids;
    ids = NULL;
    rc = ENGRAM_OK;

cleanup:
    free(start);
    free(ids);
    return rc;
}

/* "inflected base [base...]" lines of pos's .exc file: an inflected form without synonyms
 * of its own borrows those that its first base got from the same part of speech ("mice"
 * takes the nouns of "mouse", not the verbs). The pairs were grouped stably, so a node's
 * run holds its noun synonyms, then its verb ones, then its adjective ones. */
static int load_exc(struct eg_wordnet *wn, const struct map *exc, uint32_t pos)
{
    const char *p = exc->p, *end = exc->p + exc->n;
    int rc;

    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        struct fields f = {p, nl ? nl : end};
        const char *s;
        size_t n, il, bl;
        char infl[LEMMA_MAX], base[LEMMA_MAX];
        long inode, bnode = -1;
        uint32_t id, k, skip = 0;

        p = nl ? nl + 1 : end;
        if (!next_field(&f, &s, &n) || (il = normalize(s, n, infl, sizeof(infl))) == 0)
            continue;
        inode = find(wn, infl, il);
        if (inode >= 0 && wn->nodes[inode].syn_n > 0)
            continue;
        while (bnode < 0 && next_field(&f, &s, &n)) {
            if ((bl = normalize(s, n, base, sizeof(base))) == 0)
                continue;
            bnode = find(wn, base, bl);
            if (bnode >= 0 && wn->nodes[bnode].pos_n[pos] == 0)
                bnode = -1;
        }
        if (bnode < 0)
            continue;
        if ((rc = intern(wn, infl, il, &id)) != ENGRAM_OK)
            return rc;
        for (k = 0; k < pos; k++)
            skip += wn->nodes[bnode].pos_n[k];
        wn->nodes[id].syn_first = wn->nodes[bnode].syn_first + skip;
        wn->nodes[id].syn_n = wn->nodes[bnode].pos_n[pos];
        wn->nodes[id].pos_n[pos] = wn->nodes[bnode].pos_n[pos];
    }
    return ENGRAM_OK;
}

int eg_wordnet_open(const char *dir, struct eg_wordnet **out)
{
    static const char *const pos[] = {"noun", "verb", "adj"};
    struct eg_wordnet *wn = NULL;
    struct builder b = {NULL, 0, 0, 0};
    struct map index = {NULL, 0}, data = {NULL, 0};
    uint32_t *ids = NULL;
    size_t i, loaded = 0;
    char name[32];
    int rc;

    *out = NULL;
    wn = calloc(1, sizeof(*wn));
    if (wn == NULL)
        return ENGRAM_NOMEM;
    for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
        snprintf(name, sizeof(name), "index.%s", pos[i]);
        rc = map_file(dir, name, &index);
        if (rc == ENGRAM_OK) {
            snprintf(name, sizeof(name), "data.%s", pos[i]);
            rc = map_file(dir, name, &data);
        }
        if (rc == ENGRAM_OK && wn->nslots == 0) {
            /* Size the table once from the index, about 40 bytes a lemma, so that loading
             * WordNet never rehashes. */
            rc = grow_slots(wn, index.n / 20);
        }
        if (rc == ENGRAM_OK) {
            b.pos = (uint32_t)i;
            rc = load_pos(wn, &b, &index, &data);
            loaded++;
        }
        unmap(&index);
        unmap(&data);
        if (rc == ENGRAM_NOTFOUND)
            continue;
        if (rc != ENGRAM_OK)
            goto cleanup;
    }
    if (loaded == 0) {
        rc = ENGRAM_NOTFOUND;
        goto cleanup;
    }
    if ((rc = group_pairs(wn, &b, &ids)) != ENGRAM_OK)
        goto cleanup;
    wn->nsyns = b.npairs;
    for (i = 0; i < sizeof(pos) / sizeof(pos[0]); i++) {
        snprintf(name, sizeof(name), "%s.exc", pos[i]);
        rc = map_file(dir, name, &index);
        if (rc == ENGRAM_OK)
            rc = load_exc(wn, &index, (uint32_t)i);
        unmap(&index);
        if (rc != ENGRAM_OK && rc != ENGRAM_NOTFOUND)
            goto cleanup;
    }
    /* The arena is final: turn synonym node indices into string pointers. */
    wn->syns = malloc((wn->nsyns ? wn->nsyns : 1) * sizeof(*wn->syns));
    if (wn->syns == NULL) {
        rc = ENGRAM_NOMEM;
        goto cleanup;
    }
    for (i = 0; i < wn->nsyns; i++)
        wn->syns[i] = wn->arena + wn->nodes[ids[i]].str;
    for (i = 0; i < wn->nnodes; i++)
        wn->nlemmas += wn->nodes[i].syn_n > 0;
    *out = wn;
    wn = NULL;
    rc = ENGRAM_OK;

cleanup:
    free(ids);
    free(b.pairs);
    eg_wordnet_close(wn);
    return rc;
}

void eg_wordnet_close(struct eg_wordnet *wn)
{
    if (wn == NULL)
        return;
    if (wn->block != NULL) {
        free(wn->block);
    } else {
        free(wn->arena);
        free(wn->nodes);
        free(wn->slots);
    }
    free(wn->syns);
    free(wn);
}

/* ---- cache ----------------------------------------------------------------------------
 *
 * Parsing WordNet's text files costs well over 100 ms; the cache is a private image of a
 * loaded handle that reads back in a few. It is native-endian and keyed by the size and
 * mtime of every source file, so an upgraded wordnet-base is re-read and a cache from
 * another machine is refused rather than misread. Layout: header, nodes, slots, synonyms
 * (arena offsets, uint32), arena.
 */
#define NSOURCES 9

struct cache_header {
    char magic[8];       /* "EGWNC1\0\0" */
    uint32_t byte_order; /* 0x01020304 as written */
    uint32_t node_size;  /* sizeof(struct node) */
    uint64_t sig[2 * NSOURCES];
    uint64_t arena_len, nnodes, nslots, nsyns, nlemmas;
};

static void source_signature(const char *dir, uint64_t sig[2 * NSOURCES])
{
    static const char *const names[NSOURCES] = {
        "index.noun", "data.noun", "noun.exc", "index.verb", "data.verb",
        "verb.exc",   "index.adj", "data.adj", "adj.exc",
    };
    char path[4096];
    struct stat sb;
    size_t i;

    for (i = 0; i < NSOURCES; i++) {
        int w = snprintf(path, sizeof(path), "%s/%s", dir, names[i]);

        sig[2 * i] = UINT64_MAX;
        sig[2 * i + 1] = UINT64_MAX;
        if (w > 0 && (size_t)w < sizeof(path) && stat(path, &sb) == 0) {
            sig[2 * i] = (uint64_t)sb.st_size;
            sig[2 * i + 1] =
                (uint64_t)sb.st_mtim.tv_sec * 1000000000u + (uint64_t)sb.st_mtim.tv_nsec;
        }
    }
}

static int read_all(int fd, void *buf, size_t n)
{
    char *p = buf;

    while (n > 0) {
        ssize_t r = read(fd, p, n);

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;

    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Checks every index of a cache image, so that a damaged file can cost a re-parse but
 * never an out-of-bounds read or an endless probe. */
static int cache_valid(const struct eg_wordnet *wn, const uint32_t *syn_off)
{
    size_t i, empty = 0;

    if (wn->arena_len == 0 || wn->arena[wn->arena_len - 1] != '\0')
        return 0;
    for (i = 0; i < wn->nnodes; i++) {
        const struct node *nd = &wn->nodes[i];

        if ((uint64_t)nd->str + nd->len >= wn->arena_len || wn->arena[nd->str + nd->len] != '\0' ||
            (uint64_t)nd->syn_first + nd->syn_n > wn->nsyns)
            return 0;
    }
    for (i = 0; i < wn->nslots; i++) {
        if (wn->slots[i].node > wn->nnodes)
            return 0;
        empty += wn->slots[i].node == 0;
    }
    for (i = 0; i < wn->nsyns; i++)
        if (syn_off[i] >= wn->arena_len)
            return 0;
    return empty > 0;
}

/* The handle stored at path if it matches sig; NULL otherwise (any failure: re-parse). */
static struct eg_wordnet *cache_load(const char *path, const uint64_t sig[2 * NSOURCES])
{
    struct cache_header h;
    struct eg_wordnet *wn = NULL;
    struct stat sb;
    uint32_t *syn_off;
    char *block = NULL;
    size_t body, i, nodes_sz, slots_sz, syns_sz;
    int fd;

    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, &sb) != 0 || (size_t)sb.st_size < sizeof(h) || read_all(fd, &h, sizeof(h)) != 0)
        goto fail;
    if (memcmp(h.magic, "EGWNC1\0\0", 8) != 0 || h.byte_order != 0x01020304u ||
        h.node_size != sizeof(struct node) || memcmp(h.sig, sig, sizeof(h.sig)) != 0)
        goto fail;
    if (h.nnodes > UINT32_MAX || h.nsyns > UINT32_MAX || h.arena_len > UINT32_MAX ||
        h.nslots > ((uint64_t)1 << 31) || h.nslots == 0 || (h.nslots & (h.nslots - 1)) != 0)
        goto fail;
    nodes_sz = (size_t)h.nnodes * sizeof(struct node);
    slots_sz = (size_t)h.nslots * sizeof(struct slot);
    syns_sz = (size_t)h.nsyns * sizeof(uint32_t);
    body = nodes_sz + slots_sz + syns_sz + (size_t)h.arena_len;
    if ((uint64_t)sb.st_size != sizeof(h) + (uint64_t)body)
        goto fail;
    wn = calloc(1, sizeof(*wn));
    block = malloc(body);
    if (wn == NULL || block == NULL || read_all(fd, block, body) != 0)
        goto fail;
    wn->block = block;
    wn->nodes = (struct node *)block;
    wn->slots = (struct slot *)(block + nodes_sz);
    syn_off = (uint32_t *)(block + nodes_sz + slots_sz);
    wn->arena = block + nodes_sz + slots_sz + syns_sz;
    block = NULL;
    wn->nnodes = wn->nodes_cap = (size_t)h.nnodes;
    wn->nslots = (size_t)h.nslots;
    wn->nsyns = (size_t)h.nsyns;
    wn->arena_len = wn->arena_cap = (size_t)h.arena_len;
    wn->nlemmas = (size_t)h.nlemmas;
    if (!cache_valid(wn, syn_off))
        goto fail;
    wn->syns = malloc((wn->nsyns ? wn->nsyns : 1) * sizeof(*wn->syns));
    if (wn->syns == NULL)
        goto fail;
    for (i = 0; i < wn->nsyns; i++)
        wn->syns[i] = wn->arena + syn_off[i];
    close(fd);
    return wn;

fail:
    close(fd);
    free(block);
    eg_wordnet_close(wn);
    return NULL;
}

/* Writes wn to path through a temporary file and a rename, so that readers never see half
 * a cache. Best effort: the cache only saves time, so a failure is silently dropped. */
static void cache_save(const struct eg_wordnet *wn, const char *path,
                       const uint64_t sig[2 * NSOURCES])
{
    struct cache_header h;
    char tmp[4096];
    uint32_t *syn_off = NULL;
    size_t i;
    int fd, w, ok;

    w = snprintf(tmp, sizeof(tmp), "%s.tmp.%ld.%p", path, (long)getpid(), (const void *)wn);
    if (w < 0 || (size_t)w >= sizeof(tmp))
        return;
    syn_off = malloc((wn->nsyns ? wn->nsyns : 1) * sizeof(*syn_off));
    if (syn_off == NULL)
        return;
    for (i = 0; i < wn->nsyns; i++)
        syn_off[i] = (uint32_t)(wn->syns[i] - wn->arena);
    memset(&h, 0, sizeof(h));
    memcpy(h.magic, "EGWNC1\0\0", 8);
    h.byte_order = 0x01020304u;
    h.node_size = sizeof(struct node);
    memcpy(h.sig, sig, sizeof(h.sig));
    h.arena_len = wn->arena_len;
    h.nnodes = wn->nnodes;
    h.nslots = wn->nslots;
    h.nsyns = wn->nsyns;
    h.nlemmas = wn->nlemmas;
    fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        free(syn_off);
        return;
    }
    ok = write_all(fd, &h, sizeof(h)) == 0 &&
         write_all(fd, wn->nodes, wn->nnodes * sizeof(struct node)) == 0 &&
         write_all(fd, wn->slots, wn->nslots * sizeof(struct slot)) == 0 &&
         write_all(fd, syn_off, wn->nsyns * sizeof(*syn_off)) == 0 &&
         write_all(fd, wn->arena, wn->arena_len) == 0;
    ok = close(fd) == 0 && ok;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
    free(syn_off);
}

int eg_wordnet_open_cached(const char *dir, const char *cache_path, struct eg_wordnet **out)
{
    uint64_t sig[2 * NSOURCES];
    int rc;

    *out = NULL;
    if (cache_path == NULL)
        return eg_wordnet_open(dir, out);
    source_signature(dir, sig);
    if (sig[0] == UINT64_MAX && sig[6] == UINT64_MAX && sig[12] == UINT64_MAX)
        return ENGRAM_NOTFOUND; /* no index file at all: WordNet is gone, whatever cached */
    *out = cache_load(cache_path, sig);
    if (*out != NULL)
        return ENGRAM_OK;
    rc = eg_wordnet_open(dir, out);
    if (rc == ENGRAM_OK)
        cache_save(*out, cache_path, sig);
    return rc;
}

size_t eg_wordnet_count(const struct eg_wordnet *wn)
{
    return wn->nlemmas;
}

/* The node for w if it has synonyms, else -1. */
static long lookup(const struct eg_wordnet *wn, const char *w, size_t n)
{
    long id = find(wn, w, n);

    return id >= 0 && wn->nodes[id].syn_n > 0 ? id : -1;
}

/* WordNet's regular detachment rules (morphy), nouns, then verbs, then adjectives. */
static const struct {
    const char *suffix, *ending;
} detach[] = {
    {"ies", "y"},   {"ses", "s"}, {"xes", "x"}, {"zes", "z"}, {"ches", "ch"}, {"shes", "sh"},
    {"men", "man"}, {"s", ""},    {"es", "e"},  {"es", ""},   {"ed", "e"},    {"ed", ""},
    {"ing", "e"},   {"ing", ""},  {"er", ""},   {"est", ""},  {"er", "e"},    {"est", "e"},
};

int eg_wordnet_synonyms(const struct eg_wordnet *wn, const char *lemma, size_t n,
                        const char *const **out, size_t *out_n)
{
    char w[LEMMA_MAX + 8];
    size_t wl, i;
    long id;

    *out = NULL;
    *out_n = 0;
    wl = normalize(lemma, n, w, LEMMA_MAX);
    if (wl == 0)
        return ENGRAM_NOTFOUND;
    id = lookup(wn, w, wl);
    for (i = 0; id < 0 && i < sizeof(detach) / sizeof(detach[0]); i++) {
        size_t sl = strlen(detach[i].suffix), el = strlen(detach[i].ending);
        char base[LEMMA_MAX + 8];

        if (wl <= sl + 1 || memcmp(w + wl - sl, detach[i].suffix, sl) != 0)
            continue;
        memcpy(base, w, wl - sl);
        memcpy(base + wl - sl, detach[i].ending, el);
        id = lookup(wn, base, wl - sl + el);
        /* "running" -> "runn" -> "run": morphy leaves doubled consonants to verb.exc,
         * which lists only the irregular ones. */
        if (id < 0 && el == 0 && wl - sl >= 3 && base[wl - sl - 1] == base[wl - sl - 2] &&
            strchr("aeiouy", base[wl - sl - 1]) == NULL)
            id = lookup(wn, base, wl - sl - 1);
    }
    if (id < 0)
        return ENGRAM_NOTFOUND;
    *out = wn->syns + wn->nodes[id].syn_first;
    *out_n = wn->nodes[id].syn_n;
    return ENGRAM_OK;
}
