/*
 * cmd_eval.c - engram eval locomo FILE: the retrieval benchmark, run through the public API.
 *
 * LoCoMo (Maharana et al., ACL 2024; ../shared/datasets/locomo) is ten long two-person
 * conversations with questions whose evidence is a list of dialogue ids. Each conversation
 * becomes one scope (user/<sample_id>), each session one engram session, each turn one
 * engram_turn_add() with its session's date as created_at (plus one second per position, so
 * turns keep their order) and metadata {dia_id, speaker}. speaker_a's turns are role "user"
 * (so the rule extractor learns facts from them), speaker_b's "assistant". A turn that shares
 * an image gets the caption appended as " [shares <caption>]", the way the LoCoMo authors
 * feed images to text-only models; the baseline sees the same text.
 *
 * Every question then goes through engram_context_query() with max_tokens (default 1000)
 * and top_k 100, so the budget is what limits the answer. Evidence recall is the share of
 * evidence dia_ids whose turn, or an attribute sourced from that turn, is among the returned
 * items, overall and per category. The baseline, in the same run, is plain BM25 over the
 * same raw turns (SQLite FTS5, tokenizer porter unicode61, the question's words OR-ed),
 * packed greedily into the same budget with the same token estimate.
 *
 * The store is a temporary file, removed afterwards. Answer: one JSON object on stdout; a
 * readable table on stderr.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "cli/args.h"
#include "util/tokens.h"
#include "util/buf.h"

#define NCAT 6 /* categories 1..5; 0 collects anything else */

static const char *const cat_names[NCAT] = {"other",       "multi-hop",   "temporal",
                                            "open-domain", "single-hop",  "adversarial"};

struct tally {
    double found[NCAT], total[NCAT]; /* evidence ids */
    double qrecall[NCAT], nq[NCAT];  /* per-question recall sums */
    double tokens, queries, ms;
};

/* "1:56 pm on 8 May, 2023" -> ms since the epoch (UTC); 0 when it does not parse. */
static int64_t locomo_time(const char *s)
{
    static const char *const months[] = {"january", "february", "march",     "april",
                                         "may",     "june",     "july",      "august",
                                         "september", "october", "november", "december"};
    char ampm[8] = "", month[32] = "";
    int h = 0, mi = 0, day = 0, year = 0;
    struct tm tm = {0};

    if (sscanf(s, "%d:%d %7s on %d %31[A-Za-z], %d", &h, &mi, ampm, &day, month, &year) != 6)
        return 0;
    tm.tm_mon = -1;
    for (int i = 0; i < 12; i++)
        if (strcasecmp(month, months[i]) == 0)
            tm.tm_mon = i;
    if (tm.tm_mon < 0)
        return 0;
    if (strcasecmp(ampm, "pm") == 0 && h < 12)
        h += 12;
    if (strcasecmp(ampm, "am") == 0 && h == 12)
        h = 0;
    tm.tm_year = year - 1900;
    tm.tm_mday = day;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return (int64_t)timegm(&tm) * 1000;
}

static void iso(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* The text of a turn as both systems see it. */
static char *turn_text(json_t *turn)
{
    const char *text = json_string_value(json_object_get(turn, "text"));
    const char *cap = json_string_value(json_object_get(turn, "blip_caption"));
    struct eg_buf b = {0};

    if (eg_buf_puts(&b, text ? text : "") != 0 ||
        (cap && *cap && eg_buf_printf(&b, " [shares %s]", cap) != 0)) {
        eg_buf_reset(&b);
        return NULL;
    }
    return b.p ? eg_buf_detach(&b) : strdup("");
}

/* ---- ingest ------------------------------------------------------------------------------ */

struct conv {
    char scope[96];
    json_t *turn_dia; /* engram turn id -> dia_id */
};

static int ingest(engram *db, json_t *sample, struct conv *cv, sqlite3 *bm, int conv_no,
                  int64_t *nturns)
{
    json_t *c = json_object_get(sample, "conversation");
    const char *sa = json_string_value(json_object_get(c, "speaker_a"));
    const char *sid = json_string_value(json_object_get(sample, "sample_id"));
    sqlite3_stmt *ins = NULL;
    int rc = ENGRAM_OK;

    snprintf(cv->scope, sizeof(cv->scope), "user/%s", sid ? sid : "conv");
    if (sqlite3_prepare_v2(bm, "INSERT INTO docs(content, conv, dia, speaker, day) VALUES (?,?,?,?,?)", -1, &ins,
                           NULL) != SQLITE_OK)
        return ENGRAM_ERROR;
    for (int s = 1; rc == ENGRAM_OK; s++) {
        char key[64], *out = NULL, *req;
        json_t *turns, *session, *t;
        const char *ses_id;
        int64_t at;
        size_t i;

        snprintf(key, sizeof(key), "session_%d", s);
        if (!(turns = json_object_get(c, key)))
            break;
        snprintf(key, sizeof(key), "session_%d_date_time", s);
        at = json_string_value(json_object_get(c, key))
                 ? locomo_time(json_string_value(json_object_get(c, key)))
                 : 0;
        session = json_pack("{s:s, s:{s:s, s:i}}", "scope", cv->scope, "metadata",
                            "locomo_session", key, "n", s);
        req = session ? json_dumps(session, JSON_COMPACT) : NULL;
        json_decref(session);
        rc = req ? engram_session_create(db, NULL, "locomo", req, &out) : ENGRAM_NOMEM;
        free(req);
        if (rc != ENGRAM_OK)
            break;
        session = json_loads(out, 0, NULL);
        engram_free(out);
        ses_id = json_string_value(json_object_get(session, "id"));
        json_array_foreach(turns, i, t)
        {
            const char *speaker = json_string_value(json_object_get(t, "speaker"));
            const char *dia = json_string_value(json_object_get(t, "dia_id"));
            char when[32], *text = turn_text(t);
            json_t *r, *ans;

            if (!text || !dia || !speaker) {
                free(text);
                continue;
            }
            iso(at + (int64_t)i * 1000, when);
            r = json_pack("{s:s, s:s, s:s, s:{s:s, s:s}}", "role",
                          sa && !strcmp(speaker, sa) ? "user" : "assistant", "content", text,
                          "created_at", when, "metadata", "dia_id", dia, "speaker", speaker);
            req = r ? json_dumps(r, JSON_COMPACT) : NULL;
            json_decref(r);
            rc = req ? engram_turn_add(db, NULL, "locomo", ses_id, req, &out) : ENGRAM_NOMEM;
            free(req);
            if (rc == ENGRAM_OK) {
                ans = json_loads(out, 0, NULL);
                engram_free(out);
                json_object_set_new(cv->turn_dia,
                                    json_string_value(json_object_get(json_object_get(ans, "turn"),
                                                                      "id")),
                                    json_string(dia));
                json_decref(ans);
                (*nturns)++;
                sqlite3_bind_text(ins, 1, text, -1, SQLITE_TRANSIENT);
                sqlite3_bind_int(ins, 2, conv_no);
                sqlite3_bind_text(ins, 3, dia, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(ins, 4, speaker, -1, SQLITE_TRANSIENT);
                sqlite3_bind_text(ins, 5, when, 10, SQLITE_TRANSIENT);
                if (sqlite3_step(ins) != SQLITE_DONE)
                    rc = ENGRAM_ERROR;
                sqlite3_reset(ins);
            }
            free(text);
            if (rc != ENGRAM_OK)
                break;
        }
        json_decref(session);
    }
    sqlite3_finalize(ins);
    return rc;
}

/* ---- scoring ----------------------------------------------------------------------------- */

/* Splits a LoCoMo evidence entry ("D1:3", sometimes "D8:6; D9:17") into ids. */
static size_t evidence_ids(json_t *ev, char ids[][16], size_t max)
{
    size_t n = 0, i;
    json_t *e;

    json_array_foreach(ev, i, e)
    {
        const char *s = json_string_value(e);
        while (s && *s && n < max) {
            size_t k = 0;
            while (*s == ' ' || *s == ';' || *s == ',')
                s++;
            while (s[k] && s[k] != ' ' && s[k] != ';' && s[k] != ',')
                k++;
            if (k > 0 && k < 16) {
                int dup = 0;
                memcpy(ids[n], s, k);
                ids[n][k] = '\0';
                for (size_t m = 0; m < n; m++)
                    dup |= !strcmp(ids[m], ids[n]);
                n += !dup;
            }
            s += k;
        }
    }
    return n;
}

static void count(struct tally *t, int cat, char ids[][16], size_t n, json_t *got)
{
    size_t hit = 0;

    for (size_t i = 0; i < n; i++)
        hit += json_object_get(got, ids[i]) != NULL;
    t->found[cat] += (double)hit;
    t->total[cat] += (double)n;
    t->qrecall[cat] += (double)hit / (double)n;
    t->nq[cat] += 1;
}

/* The dia_ids engram returned: turns by metadata, attributes by their source turn. */
static int engram_ask(engram *db, const struct conv *cv, const char *question, int max_tokens,
                      json_t *got, struct tally *t, FILE *contexts)
{
    json_t *req = json_pack("{s:s, s:s, s:i, s:i}", "scope", cv->scope, "query", question,
                            "max_tokens", max_tokens, "top_k", 100);
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL, *out = NULL;
    struct timespec a, b;
    json_t *ans, *it;
    size_t i;
    int rc;

    json_decref(req);
    if (!text)
        return ENGRAM_NOMEM;
    clock_gettime(CLOCK_MONOTONIC, &a);
    rc = engram_context_query(db, NULL, "locomo", NULL, text, &out);
    clock_gettime(CLOCK_MONOTONIC, &b);
    free(text);
    if (rc != ENGRAM_OK)
        return rc;
    t->ms += (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
    ans = json_loads(out, 0, NULL);
    engram_free(out);
    if (contexts) { /* the injected text, to check the token estimate against a tokenizer */
        json_t *f = json_pack("{s:O}", "formatted", json_object_get(ans, "formatted"));
        char *line = f ? json_dumps(f, JSON_COMPACT) : NULL;
        json_decref(f);
        if (line)
            fprintf(contexts, "%s\n", line);
        free(line);
    }
    t->tokens += eg_tokens_estimate(json_string_value(json_object_get(ans, "formatted"))
                                ? json_string_value(json_object_get(ans, "formatted"))
                                : "");
    json_array_foreach(json_object_get(ans, "items"), i, it)
    {
        const char *kind = json_string_value(json_object_get(it, "kind"));
        const char *dia = NULL;
        if (kind && !strcmp(kind, "turn"))
            dia = json_string_value(json_object_get(json_object_get(it, "metadata"), "dia_id"));
        else if (json_string_value(json_object_get(it, "source_turn")))
            dia = json_string_value(json_object_get(
                cv->turn_dia, json_string_value(json_object_get(it, "source_turn"))));
        if (dia)
            json_object_set_new(got, dia, json_true());
    }
    json_decref(ans);
    return ENGRAM_OK;
}

/* Plain BM25 over the raw turns of one conversation, packed into the same budget. */
static int bm25_ask(sqlite3 *bm, int conv_no, const char *question, int max_tokens, json_t *got,
                    struct tally *t)
{
    struct eg_buf match = {0};
    sqlite3_stmt *st = NULL;
    json_t *days;
    int used = 12, rc = ENGRAM_OK; /* the same header reserve as engram */

    for (const char *p = question; *p;) {
        size_t k = 0;
        while (*p && !((unsigned char)*p >= 0x80 || (*p >= '0' && *p <= '9') ||
                       ((*p | 32) >= 'a' && (*p | 32) <= 'z')))
            p++;
        while (p[k] && ((unsigned char)p[k] >= 0x80 || (p[k] >= '0' && p[k] <= '9') ||
                        ((p[k] | 32) >= 'a' && (p[k] | 32) <= 'z')))
            k++;
        if (k && (eg_buf_puts(&match, match.len ? " OR \"" : "\"") ||
                  eg_buf_append(&match, p, k) || eg_buf_puts(&match, "\"")))
            rc = ENGRAM_NOMEM;
        p += k;
    }
    if (rc != ENGRAM_OK || !match.p) {
        eg_buf_reset(&match);
        return rc;
    }
    if (sqlite3_prepare_v2(bm, "SELECT content, dia, speaker, day FROM docs WHERE docs MATCH ?"
                               " AND conv = ? ORDER BY bm25(docs) LIMIT 300",
                           -1, &st, NULL) != SQLITE_OK) {
        eg_buf_reset(&match);
        return ENGRAM_ERROR;
    }
    sqlite3_bind_text(st, 1, match.p, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, conv_no);
    /* The same cost model as engram's packing: "- speaker: text" per turn, one 9-token date
     * line per distinct date, 12 tokens of section header. */
    days = json_object();
    for (int n = 0; days && sqlite3_step(st) == SQLITE_ROW && n < 100;) {
        const char *day = (const char *)sqlite3_column_text(st, 3);
        int tok = eg_tokens_estimate((const char *)sqlite3_column_text(st, 0)) + 2 +
                  eg_tokens_estimate((const char *)sqlite3_column_text(st, 2));
        int extra = json_object_get(days, day) ? 0 : 9;
        if (used + tok + extra > max_tokens)
            continue;
        used += tok + extra;
        n++;
        json_object_set_new(days, day, json_true());
        json_object_set_new(got, (const char *)sqlite3_column_text(st, 1), json_true());
    }
    t->tokens += used;
    json_decref(days);
    sqlite3_finalize(st);
    eg_buf_reset(&match);
    return ENGRAM_OK;
}

static json_t *report(const struct tally *t, const char *name)
{
    double f = 0, n = 0, qr = 0, nq = 0;
    json_t *cats = json_object(), *o;

    fprintf(stderr, "%-8s", name);
    for (int c = 1; c < NCAT; c++) {
        double r = t->total[c] > 0 ? t->found[c] / t->total[c] : 0;
        f += t->found[c];
        n += t->total[c];
        qr += t->qrecall[c];
        nq += t->nq[c];
        json_object_set_new(cats, cat_names[c],
                            json_pack("{s:f, s:i, s:i}", "recall", r, "evidence",
                                      (int)t->total[c], "questions", (int)t->nq[c]));
        fprintf(stderr, "  %s %.3f", cat_names[c], r);
    }
    o = json_pack("{s:f, s:f, s:f, s:o}", "recall", n > 0 ? f / n : 0, "question_recall",
                  nq > 0 ? qr / nq : 0, "mean_tokens", t->queries > 0 ? t->tokens / t->queries : 0,
                  "categories", cats);
    fprintf(stderr, "  | overall %.3f (per question %.3f), mean %.0f tokens\n",
            n > 0 ? f / n : 0, nq > 0 ? qr / nq : 0, t->queries > 0 ? t->tokens / t->queries : 0);
    if (o && t->ms > 0)
        json_object_set_new(o, "mean_query_ms", json_real(t->ms / t->queries));
    return o;
}

int cmd_eval(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--max-tokens", 0, NULL},
                          {"--limit-conversations", 0, NULL},
                          {"--misses", 0, NULL},
                          {"--contexts", 0, NULL}};
    FILE *misses = NULL, *contexts = NULL;
    const char *pos[2];
    char dir[] = "/tmp/engram-eval-XXXXXX", path[64], cmd[96];
    struct tally te = {0}, tb = {0};
    struct conv *cv = NULL;
    engram_options opt;
    engram *db = NULL;
    sqlite3 *bm = NULL;
    json_t *data = NULL, *sample, *out;
    json_error_t jerr;
    int64_t max_tokens = 1000, limit = 1000, nturns = 0;
    size_t npos, nconv, ci;
    int rc = ENGRAM_OK, code = CLI_EXIT_FAILURE;

    (void)cli;
    if (cli_args("eval", argc, argv, o, 4, pos, 2, &npos))
        return CLI_EXIT_INVALID;
    if (npos != 2 || strcmp(pos[0], "locomo") != 0)
        return cli_usage("eval: use 'eval locomo FILE [--max-tokens N] [--limit-conversations N]'");
    if ((o[0].value && cli_int("eval", "--max-tokens", o[0].value, 50, 100000, &max_tokens)) ||
        (o[1].value && cli_int("eval", "--limit-conversations", o[1].value, 1, 1000, &limit)))
        return CLI_EXIT_INVALID;
    if (o[2].value && !(misses = fopen(o[2].value, "w")))
        return cli_usage("eval: cannot write %s", o[2].value);
    if (o[3].value && !(contexts = fopen(o[3].value, "w"))) {
        if (misses)
            fclose(misses);
        return cli_usage("eval: cannot write %s", o[3].value);
    }
    if (!(data = json_load_file(pos[1], 0, &jerr)) || !json_is_array(data)) {
        json_decref(data);
        return cli_usage("eval: cannot read %s: %s", pos[1], jerr.text);
    }
    if (!mkdtemp(dir)) {
        json_decref(data);
        return cli_usage("eval: cannot make a temporary directory");
    }
    snprintf(path, sizeof(path), "%s/eval.db", dir);
    cli_options(&opt, 0);
    nconv = json_array_size(data) < (size_t)limit ? json_array_size(data) : (size_t)limit;
    if (engram_open(path, &opt, &db) != ENGRAM_OK) {
        fprintf(stderr, "engram: eval: %s\n", db ? engram_errmsg(db) : "out of memory");
        goto cleanup;
    }
    if (sqlite3_open(":memory:", &bm) != SQLITE_OK ||
        sqlite3_exec(bm, "CREATE VIRTUAL TABLE docs USING fts5(content, conv UNINDEXED,"
                         " dia UNINDEXED, speaker UNINDEXED, day UNINDEXED,"
                         " tokenize='porter unicode61')",
                     NULL, NULL, NULL) != SQLITE_OK) {
        fprintf(stderr, "engram: eval: SQLite FTS5 unavailable\n");
        goto cleanup;
    }
    if (!(cv = calloc(nconv, sizeof(*cv))))
        goto cleanup;
    for (ci = 0; ci < nconv && rc == ENGRAM_OK; ci++) {
        cv[ci].turn_dia = json_object();
        rc = ingest(db, json_array_get(data, ci), &cv[ci], bm, (int)ci, &nturns);
    }
    if (rc != ENGRAM_OK) {
        fprintf(stderr, "engram: eval: ingest: %s\n", engram_errmsg(db));
        goto cleanup;
    }
    fprintf(stderr, "eval: %zu conversations, %lld turns ingested\n", nconv, (long long)nturns);
    for (ci = 0; ci < nconv && rc == ENGRAM_OK; ci++) {
        json_t *qa;
        size_t i;
        sample = json_array_get(data, ci);
        json_array_foreach(json_object_get(sample, "qa"), i, qa)
        {
            const char *question = json_string_value(json_object_get(qa, "question"));
            int cat = (int)json_integer_value(json_object_get(qa, "category"));
            char ids[32][16];
            size_t n = evidence_ids(json_object_get(qa, "evidence"), ids, 32);
            json_t *g1, *g2;

            if (!question || n == 0)
                continue;
            if (cat < 1 || cat >= NCAT)
                cat = 0;
            g1 = json_object();
            g2 = json_object();
            rc = engram_ask(db, &cv[ci], question, (int)max_tokens, g1, &te, contexts);
            if (rc == ENGRAM_OK)
                rc = bm25_ask(bm, (int)ci, question, (int)max_tokens, g2, &tb);
            if (rc == ENGRAM_OK) {
                count(&te, cat, ids, n, g1);
                for (size_t k = 0; misses && k < n; k++) {
                    /* One line per evidence id engram missed, for error analysis. */
                    int ds = 0, dn = 0, near = 0;
                    char adj[32];
                    if (json_object_get(g1, ids[k]))
                        continue;
                    if (sscanf(ids[k], "D%d:%d", &ds, &dn) == 2) {
                        for (int d = -2; d <= 2; d++) {
                            snprintf(adj, sizeof(adj), "D%d:%d", ds, dn + d);
                            if (d && !near && json_object_get(g1, adj))
                                near = d;
                        }
                    }
                    fprintf(misses,
                            "{\"conv\":%zu,\"q\":%d,\"cat\":%d,\"dia\":\"%s\",\"bm25\":%d,"
                            "\"near\":%d,\"returned\":%zu}\n",
                            ci, (int)i, cat, ids[k], json_object_get(g2, ids[k]) != NULL, near,
                            json_object_size(g1));
                }
                count(&tb, cat, ids, n, g2);
                te.queries++;
                tb.queries++;
            }
            json_decref(g1);
            json_decref(g2);
            if (rc != ENGRAM_OK)
                break;
        }
    }
    if (rc != ENGRAM_OK) {
        fprintf(stderr, "engram: eval: query: %s\n", engram_errmsg(db));
        goto cleanup;
    }
    fprintf(stderr, "%.0f questions, max_tokens %lld\n", te.queries, (long long)max_tokens);
    out = json_pack("{s:s, s:i, s:I, s:i, s:I, s:o, s:o}", "dataset", "locomo",
                    "conversations", (int)nconv, "turns", (json_int_t)nturns, "questions",
                    (int)te.queries, "max_tokens", (json_int_t)max_tokens, "engram",
                    report(&te, "engram"), "bm25", report(&tb, "bm25"));
    code = out ? cli_print_json(json_dumps(out, JSON_COMPACT | JSON_REAL_PRECISION(4)))
               : CLI_EXIT_FAILURE;
    json_decref(out);
cleanup:
    for (ci = 0; cv && ci < nconv; ci++)
        json_decref(cv[ci].turn_dia);
    free(cv);
    sqlite3_close(bm);
    engram_close(db);
    json_decref(data);
    if (misses)
        fclose(misses);
    if (contexts)
        fclose(contexts);
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "engram: eval: could not remove %s\n", dir);
    return code;
}
