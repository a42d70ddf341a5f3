/*
 * load.c - HTTP load generator for engram serve (bench/RESULTS.md, "HTTP server").
 *
 * One thread drives N keep-alive connections with libcurl's multi interface, in one of two
 * ways:
 *   - closed loop (the default): every connection always has exactly one request
 *     outstanding, so the offered load is "N clients as fast as the server answers". It
 *     finds the saturated rate; its latencies are mostly queueing (Little's law: with N
 *     requests always in flight, mean latency = N / rate).
 *   - open loop (--rate R, as wrk2 does): R requests/s in total, each connection sending
 *     on its own fixed schedule (R/N per second, staggered). A request's latency runs from
 *     the time it was *meant* to be sent, not from when a free connection picked it up,
 *     so a server that stalls is charged for every request the stall held back (no
 *     coordinated omission). This gives latency at a stated load below saturation.
 * Latencies are kept in full and sorted for percentiles.
 *
 *   load --url http://127.0.0.1:8420 --mode ingest|context|profile|healthz
 *        [--connections 64] [--requests N | --seconds S] [--scopes 100000]
 *        [--rate R] [--batch N] [--conversations PATH] [--context assistant] [--key KEY]
 *        [--warmup SECONDS (1)]
 *   load --mode hello [--hello-threads T] ...
 *        starts a bare libmicrohttpd "hello" handler in this process (same MHD flags as
 *        engram serve: thread per connection when T is 0, else an epoll pool of T) and
 *        loads it: the floor that the server's own overhead is measured against.
 *
 * --batch N (ingest only) sends N turns per request, {"scope", "turns": [...]} to
 * POST /api/v1/{ctx}/turns, and reports turns/s as well as requests/s.
 *
 * By default every ingested turn is a synthetic user sentence stating a fact: the worst case
 * for the rule extractor, which has something to extract from every turn. Real traffic is a
 * conversation: about half the turns are the assistant's, and only some user turns carry a
 * fact. --conversations PATH (ingest only) replays that mix from LoCoMo's locomo10.json
 * (read at run time; no dataset text lives in this repository). Each conversation's sessions
 * are flattened in order; speaker_a's turns are sent as "user", speaker_b's as "assistant".
 * Each connection picks a conversation at random and a random scope u<k>, sends its turns in
 * order (one per request, or --batch N consecutive ones; a conversation's last batch may be
 * shorter, and turns/s counts the turns actually sent), then picks the next conversation and
 * a new scope. Two connections can land on the same scope at once and interleave, which is
 * rare with the default 100000 scopes.
 *
 * Prints one human line and one JSON line per run.
 */
#include <curl/curl.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct conn {
    CURL *easy;
    double t0;   /* when the request was handed to curl (closed loop) or due (open loop) */
    double next; /* open loop: when this connection's next request is due */
    int busy;    /* a request is outstanding */
    char *body;  /* owned; bodycap bytes */
    size_t bodycap;
    long scope;
    long nturns; /* turns in the request outstanding */
    size_t at;   /* --conversations: index in corpus.turns of the next turn to send */
    size_t left; /* --conversations: turns of the current conversation not yet sent */
};

/* One replayed turn, already a JSON object {"role":...,"content":...}, so the hot loop only
 * copies bytes and the escaping is jansson's. */
struct turn {
    char *json; /* owned (json_dumps); begins with '{' */
    size_t len;
};

/* --conversations: every conversation's turns back to back, in order. */
struct corpus {
    struct turn *turns; /* owned; nturns of them */
    size_t nturns;
    size_t *first; /* owned; conversation i is turns[first[i]] .. turns[first[i+1]-1] */
    size_t nconvs; /* first has nconvs + 1 entries */
};

struct opts {
    const char *url;
    const char *mode;
    const char *ctx;
    const char *key;
    long connections;
    long requests;
    double seconds;
    long scopes;
    double warmup;
    long hello_threads;
    double rate; /* open loop: requests/s over all connections; 0 = closed loop */
    long batch;  /* ingest: turns per request; 0 = the single-turn body */
    const char *conversations; /* ingest: LoCoMo file to replay; NULL = synthetic turns */
};

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint64_t rng(void)
{
    /* xorshift64*: cheap and good enough to spread requests over scopes. */
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1dull;
}

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
    return size * n;
}

/* Statements the rule extractor turns into attributes, so ingest does real work. */
static const char *const facts[] = {
    "I live in %s.",
    "I work at %s as an engineer.",
    "My favourite language is %s.",
    "I moved to %s last year.",
    "I prefer %s over everything else.",
    "I am learning %s.",
};
static const char *const nouns[] = {"London",     "Paris", "Berlin", "Acme Corp", "Globex",
                                    "TypeScript", "Rust",  "Go",     "Lisbon",    "Initech"};

/* One fact sentence, so that ingest does real extraction work. */
static void make_sentence(char *out, size_t n)
{
    const char *f = facts[rng() % (sizeof(facts) / sizeof(facts[0]))];
    const char *noun = nouns[rng() % (sizeof(nouns) / sizeof(nouns[0]))];
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
#endif
    snprintf(out, n, f, noun);
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
}

/* Bytes a body needs at most: a turn element is under 160 bytes. */
static size_t body_cap(const struct opts *o)
{
    return 512 + (size_t)(o->batch > 0 ? o->batch : 1) * 160;
}

static void corpus_free(struct corpus *cp)
{
    size_t i;

    for (i = 0; i < cp->nturns; i++)
        free(cp->turns[i].json);
    free(cp->turns);
    free(cp->first);
    memset(cp, 0, sizeof(*cp));
}

/* Append one turn to cp, growing cp->turns (*cap entries); 0, or -1 out of memory. */
static int corpus_add(struct corpus *cp, size_t *cap, const char *role, const char *text)
{
    json_t *obj;
    char *js;

    if (cp->nturns == *cap) {
        size_t ncap = *cap ? 2 * *cap : 1024;
        struct turn *n = realloc(cp->turns, ncap * sizeof(*n));

        if (!n)
            return -1;
        cp->turns = n;
        *cap = ncap;
    }
    /* jansson escapes quotes, backslashes and control characters and passes UTF-8
     * through; insertion order keeps "role" before "content", as the synthetic body has. */
    obj = json_pack("{s:s,s:s}", "role", role, "content", text);
    js = obj ? json_dumps(obj, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(obj);
    if (!js)
        return -1;
    cp->turns[cp->nturns].json = js;
    cp->turns[cp->nturns].len = strlen(js);
    cp->nturns++;
    return 0;
}

/* Read LoCoMo's conversations from path into *out (the caller's, freed by corpus_free).
 * 0, or -1 after saying why on stderr, with *out left empty. */
static int corpus_load(const char *path, struct corpus *out)
{
    json_error_t jerr;
    json_t *root;
    size_t cap = 0, i;
    int rc = -1;

    memset(out, 0, sizeof(*out));
    root = json_load_file(path, 0, &jerr);
    if (!root) {
        if (jerr.line > 0)
            fprintf(stderr, "load: %s:%d: %s\n", path, jerr.line, jerr.text);
        else
            fprintf(stderr, "load: %s: %s\n", path, jerr.text); /* jansson names the file */
        return -1;
    }
    if (!json_is_array(root)) {
        fprintf(stderr, "load: %s: not a JSON array of conversations\n", path);
        goto cleanup;
    }
    out->first = malloc((json_array_size(root) + 1) * sizeof(*out->first));
    if (!out->first) {
        fprintf(stderr, "load: %s: out of memory\n", path);
        goto cleanup;
    }
    for (i = 0; i < json_array_size(root); i++) {
        const json_t *conv = json_object_get(json_array_get(root, i), "conversation");
        const char *a = json_string_value(json_object_get(conv, "speaker_a"));
        const char *b = json_string_value(json_object_get(conv, "speaker_b"));
        size_t start = out->nturns;
        const json_t *sess;
        char key[32];
        int n = 1;

        if (!a || !b) {
            fprintf(stderr, "load: %s: conversation %zu has no speaker_a and speaker_b\n", path,
                    i);
            goto cleanup;
        }
        /* session_1, session_2, ... up to the first one missing. The session_N_date_time
         * keys do not count them: some conversations have dates for sessions with no turns. */
        for (;;) {
            size_t j;
            const json_t *t;

            snprintf(key, sizeof(key), "session_%d", n++);
            if (!(sess = json_object_get(conv, key)))
                break;
            json_array_foreach(sess, j, t)
            {
                const char *who = json_string_value(json_object_get(t, "speaker"));
                const char *text = json_string_value(json_object_get(t, "text"));
                const char *role;

                if (who && strcmp(who, a) == 0)
                    role = "user";
                else if (who && strcmp(who, b) == 0)
                    role = "assistant";
                else
                    role = NULL;
                if (!role || !text) {
                    fprintf(stderr,
                            "load: %s: conversation %zu, %s[%zu]: needs \"text\" and a "
                            "\"speaker\" who is speaker_a or speaker_b\n",
                            path, i, key, j);
                    goto cleanup;
                }
                if (text[0] == '\0')
                    continue; /* the server refuses empty content, and it says nothing */
                if (corpus_add(out, &cap, role, text) != 0) {
                    fprintf(stderr, "load: %s: out of memory\n", path);
                    goto cleanup;
                }
            }
        }
        if (out->nturns > start)
            out->first[out->nconvs++] = start;
    }
    if (out->nconvs == 0) {
        fprintf(stderr, "load: %s: no conversation has any turns\n", path);
        goto cleanup;
    }
    out->first[out->nconvs] = out->nturns;
    rc = 0;

cleanup:
    json_decref(root);
    if (rc != 0)
        corpus_free(out);
    return rc;
}

/* c's next request in a replay: the next turn of its conversation, or the next --batch of
 * them, starting a new conversation on a new random scope when the last one is done.
 * 0, or -1 when the body cannot grow to fit. */
static int replay_body(const struct opts *o, const struct corpus *cp, struct conn *c)
{
    size_t n = o->batch > 0 ? (size_t)o->batch : 1, need, len, i;

    if (c->left == 0) {
        size_t conv = (size_t)(rng() % (uint64_t)cp->nconvs);

        c->at = cp->first[conv];
        c->left = cp->first[conv + 1] - c->at;
        c->scope = (long)(rng() % (uint64_t)o->scopes);
    }
    if (n > c->left)
        n = c->left;
    /* 96 covers the scope prefix with any long, "]}" and the NUL; a comma per turn. */
    need = 96;
    for (i = 0; i < n; i++)
        need += cp->turns[c->at + i].len + 1;
    if (need > c->bodycap) {
        size_t cap = c->bodycap;
        char *b;

        while (cap < need)
            cap *= 2;
        if (!(b = realloc(c->body, cap)))
            return -1;
        c->body = b;
        c->bodycap = cap;
    }
    if (o->batch > 0) {
        len = (size_t)snprintf(c->body, c->bodycap, "{\"scope\":{\"user\":\"u%ld\"},\"turns\":[",
                               c->scope);
        for (i = 0; i < n; i++) {
            const struct turn *t = &cp->turns[c->at + i];

            if (i)
                c->body[len++] = ',';
            memcpy(c->body + len, t->json, t->len);
            len += t->len;
        }
        memcpy(c->body + len, "]}", 3);
    } else {
        /* The single-turn shape: the turn's members beside the scope, so past its '{';
         * t->len bytes from there include the NUL. */
        const struct turn *t = &cp->turns[c->at];

        len = (size_t)snprintf(c->body, c->bodycap, "{\"scope\":{\"user\":\"u%ld\"},", c->scope);
        memcpy(c->body + len, t->json + 1, t->len);
    }
    c->at += n;
    c->left -= n;
    c->nturns = (long)n;
    return 0;
}

/* c's next request body (cp is NULL without --conversations); 0, or -1 out of memory. */
static int make_body(const struct opts *o, const struct corpus *cp, struct conn *c)
{
    char sentence[160];
    size_t len = 0;
    long i;

    if (cp)
        return replay_body(o, cp, c);
    c->nturns = o->batch > 0 ? o->batch : 1;
    c->scope = (long)(rng() % (uint64_t)o->scopes);
    if (strcmp(o->mode, "ingest") == 0 && o->batch > 0) {
        len = (size_t)snprintf(c->body, c->bodycap, "{\"scope\":{\"user\":\"u%ld\"},\"turns\":[",
                               c->scope);
        for (i = 0; i < o->batch; i++) {
            make_sentence(sentence, sizeof(sentence));
            len += (size_t)snprintf(c->body + len, c->bodycap - len,
                                    "%s{\"role\":\"user\",\"content\":\"%s\"}", i ? "," : "",
                                    sentence);
        }
        snprintf(c->body + len, c->bodycap - len, "]}");
    } else if (strcmp(o->mode, "ingest") == 0) {
        make_sentence(sentence, sizeof(sentence));
        snprintf(c->body, c->bodycap,
                 "{\"scope\":{\"user\":\"u%ld\"},\"role\":\"user\",\"content\":\"%s\"}", c->scope,
                 sentence);
    } else if (strcmp(o->mode, "context") == 0) {
        snprintf(c->body, c->bodycap,
                 "{\"scope\":{\"user\":\"u%ld\"},\"query\":\"where do I live and what language "
                 "do I prefer\",\"max_tokens\":300}",
                 c->scope);
    } else if (strcmp(o->mode, "profile") == 0) {
        snprintf(c->body, c->bodycap, "{\"scope\":{\"user\":\"u%ld\"}}", c->scope);
    } else {
        c->body[0] = '\0';
    }
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* ---- The bare MHD handler (the floor) ------------------------------------------------ */

static enum MHD_Result hello(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload,
                             size_t *upload_size, void **con_cls)
{
    static const char msg[] = "{\"hello\":true}";
    struct MHD_Response *r;
    enum MHD_Result ret;

    if (!*con_cls) {
        *con_cls = conn;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;
        return MHD_YES;
    }
    r = MHD_create_response_from_buffer(sizeof(msg) - 1, (void *)msg, MHD_RESPMEM_PERSISTENT);
    MHD_add_response_header(r, "Content-Type", "application/json");
    ret = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return ret;
}

static struct MHD_Daemon *start_hello(long threads, char *url, size_t urlsz)
{
    struct MHD_Daemon *d;
    const union MHD_DaemonInfo *info;

    if (threads > 0)
        d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL, NULL, hello,
                             NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)threads,
                             MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_END);
    else
        d = MHD_start_daemon(
            MHD_USE_THREAD_PER_CONNECTION | MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ITC, 0, NULL,
            NULL, hello, NULL, MHD_OPTION_CONNECTION_LIMIT, 1024u, MHD_OPTION_END);
    if (!d)
        return NULL;
    info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(url, urlsz, "http://127.0.0.1:%u", info ? info->port : 0);
    return d;
}

/* ---- The driver ---------------------------------------------------------------------- */

/* Hand c's next request to curl; t0 is when its latency starts. 0, or -1 when its body
 * cannot be made (out of memory), with nothing handed over. */
static int issue(const struct opts *o, const struct corpus *cp, CURLM *multi, struct conn *c,
                 struct curl_slist *hdrs, const char *url, double t0)
{
    if (make_body(o, cp, c) != 0) {
        fprintf(stderr, "load: out of memory for a request body\n");
        return -1;
    }
    curl_easy_setopt(c->easy, CURLOPT_URL, url);
    curl_easy_setopt(c->easy, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c->easy, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c->easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c->easy, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(c->easy, CURLOPT_PRIVATE, c);
    if (c->body[0]) {
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDS, c->body);
        curl_easy_setopt(c->easy, CURLOPT_POSTFIELDSIZE, (long)strlen(c->body));
    } else {
        curl_easy_setopt(c->easy, CURLOPT_HTTPGET, 1L);
    }
    c->t0 = t0;
    c->busy = 1;
    curl_multi_add_handle(multi, c->easy);
    return 0;
}

static long parse_long(const char *s)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v < 0) {
        fprintf(stderr, "load: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

static double parse_double(const char *s)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || *end || !(v >= 0)) {
        fprintf(stderr, "load: bad number '%s'\n", s);
        exit(2);
    }
    return v;
}

/* Arm tfd to fire at monotonic time t (seconds), or disarm it when t is 0. */
static void arm(int tfd, double t)
{
    struct itimerspec its;

    memset(&its, 0, sizeof(its));
    if (t > 0) {
        its.it_value.tv_sec = (time_t)t;
        its.it_value.tv_nsec = (long)((t - (double)(time_t)t) * 1e9);
        if (its.it_value.tv_sec == 0 && its.it_value.tv_nsec == 0)
            its.it_value.tv_nsec = 1; /* all zero would disarm */
    }
    timerfd_settime(tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

int main(int argc, char **argv)
{
    struct opts o = {"http://127.0.0.1:8420", "context", "assistant", NULL, 64, 0, 10.0, 100000,
                     1.0, 0, 0.0, 0, NULL};
    struct corpus corpus = {0};
    const struct corpus *cp = NULL; /* &corpus with --conversations */
    struct MHD_Daemon *hello_d = NULL;
    struct curl_slist *hdrs = NULL;
    struct conn *conns = NULL;
    CURLM *multi = NULL;
    double *lat = NULL, t_start, t_end, t_warm, elapsed, interval = 0;
    int measuring = 0, open_loop, tfd = -1;
    size_t nlat = 0, caplat = 1 << 20, sent = 0; /* sent: turns in measured requests */
    long errors = 0, active = 0, late = 0, i;
    char url[512], base[256], auth[600];
    int running, rc = 1;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v) {
            fprintf(stderr, "load: %s needs a value\n", a);
            return 2;
        }
        i++;
        if (strcmp(a, "--url") == 0)
            o.url = v;
        else if (strcmp(a, "--mode") == 0)
            o.mode = v;
        else if (strcmp(a, "--context") == 0)
            o.ctx = v;
        else if (strcmp(a, "--key") == 0)
            o.key = v;
        else if (strcmp(a, "--connections") == 0)
            o.connections = parse_long(v);
        else if (strcmp(a, "--requests") == 0)
            o.requests = parse_long(v);
        else if (strcmp(a, "--seconds") == 0)
            o.seconds = parse_double(v);
        else if (strcmp(a, "--scopes") == 0)
            o.scopes = parse_long(v);
        else if (strcmp(a, "--warmup") == 0)
            o.warmup = parse_double(v);
        else if (strcmp(a, "--hello-threads") == 0)
            o.hello_threads = parse_long(v);
        else if (strcmp(a, "--rate") == 0)
            o.rate = parse_double(v);
        else if (strcmp(a, "--batch") == 0)
            o.batch = parse_long(v);
        else if (strcmp(a, "--conversations") == 0)
            o.conversations = v;
        else {
            fprintf(stderr, "load: unknown option %s\n", a);
            return 2;
        }
    }
    if (o.connections < 1 || o.scopes < 1) {
        fprintf(stderr, "load: --connections and --scopes must be positive\n");
        return 2;
    }
    if (o.batch > 0 && strcmp(o.mode, "ingest") != 0) {
        fprintf(stderr, "load: --batch goes with --mode ingest\n");
        return 2;
    }
    if (o.conversations && strcmp(o.mode, "ingest") != 0) {
        fprintf(stderr, "load: --conversations goes with --mode ingest\n");
        return 2;
    }
    if (o.rate > 0 && o.requests) {
        fprintf(stderr, "load: --rate runs for --seconds, not --requests\n");
        return 2;
    }
    open_loop = o.rate > 0;

    snprintf(base, sizeof(base), "%s", o.url);
    if (strcmp(o.mode, "hello") == 0) {
        hello_d = start_hello(o.hello_threads, base, sizeof(base));
        if (!hello_d) {
            fprintf(stderr, "load: cannot start the hello server\n");
            return 2;
        }
        snprintf(url, sizeof(url), "%s/", base);
    } else if (strcmp(o.mode, "healthz") == 0) {
        snprintf(url, sizeof(url), "%s/healthz", base);
    } else if (strcmp(o.mode, "ingest") == 0) {
        snprintf(url, sizeof(url), "%s/api/v1/%s/turns", base, o.ctx);
    } else if (strcmp(o.mode, "context") == 0 || strcmp(o.mode, "profile") == 0) {
        snprintf(url, sizeof(url), "%s/api/v1/%s/%s", base, o.ctx, o.mode);
    } else {
        fprintf(stderr, "load: --mode is ingest, context, profile, healthz or hello\n");
        return 2;
    }

    /* Loaded before the clock starts: parsing the file is no part of the server's time. */
    if (o.conversations) {
        if (corpus_load(o.conversations, &corpus) != 0)
            return 2;
        cp = &corpus;
    }

    curl_global_init(CURL_GLOBAL_DEFAULT);
    hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Expect:"); /* no 100-continue round trip */
    if (o.key) {
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", o.key);
        hdrs = curl_slist_append(hdrs, auth);
    }
    multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_TOTAL_CONNECTIONS, o.connections);
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, o.connections);
    conns = calloc((size_t)o.connections, sizeof(*conns));
    lat = malloc(caplat * sizeof(*lat));
    /* The open loop sleeps until the next request is due on a timerfd, which curl_multi_poll
     * watches beside the sockets: its own timeout is whole milliseconds, and a millisecond
     * of lateness would be charged to the server as latency. */
    if (open_loop)
        tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (!conns || !lat || !multi || (open_loop && tfd < 0))
        goto cleanup;
    for (i = 0; i < o.connections; i++) {
        conns[i].bodycap = body_cap(&o);
        conns[i].body = malloc(conns[i].bodycap);
        conns[i].easy = curl_easy_init();
        if (!conns[i].body || !conns[i].easy)
            goto cleanup;
    }

    /* The first --warmup seconds (connects, cold caches) are not measured. Closed loop: the
     * clock for --seconds starts at the first completion after them. Open loop: requests
     * due in [t_warm, t_end) are measured, and the run ends when they have all answered. */
    t_start = now_s();
    t_warm = t_start + o.warmup;
    t_end = t_warm + o.seconds;
    if (open_loop) {
        /* Each connection sends every connections/rate seconds, the connections staggered
         * evenly, so the total is `rate` requests/s arriving at a steady pace. */
        interval = (double)o.connections / o.rate;
        for (i = 0; i < o.connections; i++)
            conns[i].next = t_start + interval * (double)i / (double)o.connections;
    } else {
        for (i = 0; i < o.connections; i++) {
            if (issue(&o, cp, multi, &conns[i], hdrs, url, now_s()) != 0)
                goto cleanup;
            active++;
        }
    }
    for (;;) {
        CURLMsg *msg;
        int left;
        double due = 0;
        int freed = 0;
        struct curl_waitfd wfd = {tfd, CURL_WAIT_POLLIN, 0};

        if (open_loop) {
            /* Send whatever is due on an idle connection; its latency starts at the time
             * it was due. A connection still busy past its due time sends as soon as it
             * is free, and that request is charged the wait (`late` counts those more
             * than one interval behind). */
            double now = now_s();
            for (i = 0; i < o.connections; i++) {
                struct conn *c = &conns[i];
                if (c->busy || c->next >= t_end)
                    continue;
                if (c->next <= now) {
                    if (now - c->next > interval)
                        late++;
                    if (issue(&o, cp, multi, c, hdrs, url, c->next) != 0)
                        goto cleanup;
                    active++;
                    c->next += interval;
                } else if (due == 0 || c->next < due) {
                    due = c->next;
                }
            }
            arm(tfd, due);
        }
        curl_multi_perform(multi, &running);
        while ((msg = curl_multi_info_read(multi, &left))) {
            struct conn *c;
            long code = 0;
            double t1, ms;
            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&c);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &code);
            t1 = now_s();
            ms = (t1 - c->t0) * 1e3;
            if (msg->data.result != CURLE_OK || code != 200) {
                if (measuring || (open_loop && c->t0 >= t_warm))
                    errors++;
                if (errors <= 5)
                    fprintf(stderr, "load: request failed: %s, HTTP %ld\n",
                            curl_easy_strerror(msg->data.result), code);
            }
            if (open_loop) {
                measuring = c->t0 >= t_warm && c->t0 < t_end;
            } else if (!measuring && t1 >= t_warm) {
                measuring = 1;
                t_start = t1;
                t_end = t_start + o.seconds;
            }
            if (measuring) {
                if (nlat == caplat) {
                    double *n = realloc(lat, 2 * caplat * sizeof(*lat));
                    if (!n)
                        goto cleanup;
                    lat = n;
                    caplat *= 2;
                }
                lat[nlat++] = ms;
                sent += (size_t)c->nturns;
            }
            curl_multi_remove_handle(multi, c->easy);
            c->busy = 0;
            freed = 1;
            active--;
            if (!open_loop &&
                ((o.requests && (!measuring || (long)nlat + o.connections <= o.requests)) ||
                 (!o.requests && t1 < t_end))) {
                if (issue(&o, cp, multi, c, hdrs, url, now_s()) != 0)
                    goto cleanup;
                active++;
            }
        }
        if (open_loop) {
            int pending = 0;
            for (i = 0; i < o.connections && !pending; i++)
                pending = conns[i].next < t_end;
            if (active == 0 && !pending)
                break;
            if (freed)
                continue; /* a freed connection may be overdue: send before sleeping */
            curl_multi_poll(multi, &wfd, 1, 100, NULL);
            if (wfd.revents) {
                uint64_t ticks;
                if (read(tfd, &ticks, sizeof(ticks)) < 0)
                    ticks = 0; /* EAGAIN: it was re-armed under us; nothing to do */
            }
        } else {
            /* `running` is stale once handles are re-added; our own count is not. */
            if (active == 0)
                break;
            curl_multi_poll(multi, NULL, 0, 100, NULL);
        }
    }
    elapsed = open_loop ? o.seconds : now_s() - t_start;

    qsort(lat, nlat, sizeof(*lat), cmp_double);
    {
        double p50 = nlat ? lat[nlat / 2] : 0, p90 = nlat ? lat[nlat * 9 / 10] : 0;
        double p99 = nlat ? lat[nlat * 99 / 100] : 0, max = nlat ? lat[nlat - 1] : 0;
        double rate = (double)nlat / elapsed;
        long per = o.batch > 0 ? o.batch : 1;
        /* A replay's last batch of a conversation is short, so count what was sent; the
         * synthetic bodies always hold `per` turns (kept as it was, so its output is too). */
        double tps = cp ? (double)sent / elapsed : rate * (double)per;
        char extra[128] = "", convjson[64] = "";
        if (o.batch > 0)
            snprintf(extra, sizeof(extra), " batch=%ld turns=%.0f/s", o.batch, tps);
        if (cp) {
            snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra), " conversations=%zu",
                     cp->nconvs);
            snprintf(convjson, sizeof(convjson), ",\"conversations\":%zu", cp->nconvs);
        }
        if (open_loop)
            snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
                     " offered=%.0f/s late=%ld", o.rate, late);
        printf("%-8s conns=%ld requests=%zu errors=%ld time=%.2fs rate=%.0f/s%s "
               "p50=%.3fms p90=%.3fms p99=%.3fms max=%.3fms\n",
               o.mode, o.connections, nlat, errors, elapsed, rate, extra, p50, p90, p99, max);
        printf("{\"mode\":\"%s\",\"connections\":%ld,\"requests\":%zu,\"errors\":%ld,"
               "\"seconds\":%.3f,\"rate\":%.1f,\"batch\":%ld,\"turns_per_s\":%.1f,"
               "\"offered_rate\":%.1f,\"late\":%ld,\"p50_ms\":%.3f,\"p90_ms\":%.3f,"
               "\"p99_ms\":%.3f,\"max_ms\":%.3f%s}\n",
               o.mode, o.connections, nlat, errors, elapsed, rate, o.batch, tps, o.rate, late, p50,
               p90, p99, max, convjson);
    }
    rc = errors ? 1 : 0;

cleanup:
    if (conns) {
        for (i = 0; i < o.connections; i++) {
            if (conns[i].easy) {
                if (conns[i].busy)
                    curl_multi_remove_handle(multi, conns[i].easy);
                curl_easy_cleanup(conns[i].easy);
            }
            free(conns[i].body);
        }
    }
    free(conns);
    free(lat);
    if (tfd >= 0)
        close(tfd);
    if (multi)
        curl_multi_cleanup(multi);
    curl_slist_free_all(hdrs);
    curl_global_cleanup();
    corpus_free(&corpus);
    if (hello_d)
        MHD_stop_daemon(hello_d);
    return rc;
}
