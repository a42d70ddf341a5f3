/*
 * embed_http.c - the optional embedding provider: any OpenAI-compatible /v1/embeddings
 * endpoint (OpenAI, vLLM, llama.cpp server, Ollama's /v1, ...), reached with libcurl.
 *
 * Owns one curl easy handle (reused, so connections are kept alive) and the provider's
 * dimension, which is either configured (engram_options.embed_dim) or fixed by the first
 * answer; any later answer of another size is refused, because vectors of different models
 * or sizes must never be compared. Thread-safe: ingest embeds on its callers' threads,
 * outside the write lock, so a call that finds the kept handle busy uses a handle of its own
 * rather than wait (provider round trips overlap instead of queueing). Requests are bounded
 * by a short timeout: retrieval falls back to the offline signals when the provider is slow
 * or down.
 */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "lib/retrieve_int.h"
#include "util/buf.h"

#define EMBED_TIMEOUT_MS   5000
#define EMBED_MAX_ANSWER   (8u << 20)
#define EMBED_MAX_INPUT    32768 /* bytes of text sent; long turns are cut (providers cap too) */

struct eg_embedder {
    pthread_mutex_t mu; /* held while curl is in use */
    CURL *curl;
    char *url;
    char *model;
    struct curl_slist *headers;
    atomic_int dim;
};

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

struct eg_embedder *eg_embedder_new(const char *url, const char *model, const char *key,
                                    int dim)
{
    struct eg_embedder *e = calloc(1, sizeof(*e));
    struct eg_buf u = {0}, auth = {0};
    int rc;

    if (!e)
        return NULL;
    pthread_mutex_init(&e->mu, NULL);
    /* Accept a base URL (".../v1", "http://host") or the full endpoint. */
    rc = eg_buf_puts(&u, url);
    while (rc == ENGRAM_OK && u.len && u.p[u.len - 1] == '/')
        u.p[--u.len] = '\0';
    if (rc == ENGRAM_OK && !ends_with(u.p, "/embeddings"))
        rc = eg_buf_puts(&u, ends_with(u.p, "/v1") ? "/embeddings" : "/v1/embeddings");
    e->url = rc == ENGRAM_OK ? eg_buf_detach(&u) : NULL;
    e->model = strdup(model ? model : "text-embedding-3-small");
    e->dim = dim > 0 && dim <= EG_EMBED_MAX_DIM ? dim : 0;
    e->curl = curl_easy_init();
    e->headers = curl_slist_append(NULL, "Content-Type: application/json");
    if (key && *key && e->headers && eg_buf_printf(&auth, "Authorization: Bearer %s", key) == 0) {
        struct curl_slist *h = curl_slist_append(e->headers, auth.p);
        if (h)
            e->headers = h;
        else
            rc = ENGRAM_NOMEM;
    }
    eg_buf_reset(&auth);
    eg_buf_reset(&u);
    if (rc != ENGRAM_OK || !e->url || !e->model || !e->curl || !e->headers) {
        eg_embedder_free(e);
        return NULL;
    }
    return e;
}

void eg_embedder_free(struct eg_embedder *e)
{
    if (!e)
        return;
    if (e->curl)
        curl_easy_cleanup(e->curl);
    curl_slist_free_all(e->headers);
    free(e->url);
    free(e->model);
    pthread_mutex_destroy(&e->mu);
    free(e);
}

int eg_embedder_dim(struct eg_embedder *e)
{
    return e ? atomic_load(&e->dim) : 0;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct eg_buf *b = arg;

    if (size && n > EMBED_MAX_ANSWER / size)
        return 0;
    return eg_buf_append(b, p, size * n) == ENGRAM_OK ? size * n : 0;
}

int eg_embedder_embed(struct eg_embedder *e, const char *text, float **out, int *out_dim,
                      char *err, size_t errlen)
{
    struct eg_buf body = {0};
    json_t *req = NULL, *ans = NULL, *vec;
    char *payload = NULL;
    float *v = NULL;
    long status = 0;
    size_t len = strlen(text), i;
    double norm = 0;
    int rc = ENGRAM_OK, n, want, own = 0;
    CURL *curl = NULL;
    CURLcode cc;

    *out = NULL;
    *out_dim = 0;
    body.limit = EMBED_MAX_ANSWER;
    if (len > EMBED_MAX_INPUT)
        len = EMBED_MAX_INPUT;
    req = json_pack("{s:s, s:s%}", "model", e->model, "input", text, len);
    payload = req ? json_dumps(req, JSON_COMPACT) : NULL;
    if (!payload) {
        /* json_pack refuses text cut inside a UTF-8 sequence: send the whole text then. */
        json_decref(req);
        req = json_pack("{s:s, s:s}", "model", e->model, "input", text);
        payload = req ? json_dumps(req, JSON_COMPACT) : NULL;
        if (!payload) {
            rc = ENGRAM_NOMEM;
            goto cleanup;
        }
    }
    if (pthread_mutex_trylock(&e->mu) == 0) {
        curl = e->curl;
        curl_easy_reset(curl);
    } else if ((curl = curl_easy_init()) != NULL) {
        own = 1;
    } else {
        rc = ENGRAM_NOMEM;
        goto cleanup;
    }
    curl_easy_setopt(curl, CURLOPT_URL, e->url);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, e->headers);
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)EMBED_TIMEOUT_MS);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
    cc = curl_easy_perform(curl);
    if (cc == CURLE_OK)
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    if (own)
        curl_easy_cleanup(curl);
    else
        pthread_mutex_unlock(&e->mu);
    if (cc != CURLE_OK) {
        snprintf(err, errlen, "embeddings endpoint %s: %s", e->url, curl_easy_strerror(cc));
        rc = ENGRAM_UNAVAILABLE;
        goto cleanup;
    }
    if (status != 200) {
        snprintf(err, errlen, "embeddings endpoint %s answered HTTP %ld", e->url, status);
        rc = ENGRAM_UNAVAILABLE;
        goto cleanup;
    }
    ans = body.p ? json_loadb(body.p, body.len, 0, NULL) : NULL;
    vec = json_object_get(json_array_get(json_object_get(ans, "data"), 0), "embedding");
    n = json_is_array(vec) ? (int)json_array_size(vec) : 0;
    if (n <= 0 || n > EG_EMBED_MAX_DIM) {
        snprintf(err, errlen, "embeddings endpoint %s: no data[0].embedding in the answer",
                 e->url);
        rc = ENGRAM_INVALID;
        goto cleanup;
    }
    if ((want = atomic_load(&e->dim)) != 0 && n != want) {
        snprintf(err, errlen, "embeddings endpoint %s: dimension %d, expected %d", e->url, n,
                 want);
        rc = ENGRAM_INVALID;
        goto cleanup;
    }
    if (!(v = malloc(sizeof(*v) * (size_t)n))) {
        rc = ENGRAM_NOMEM;
        goto cleanup;
    }
    for (i = 0; i < (size_t)n; i++) {
        json_t *x = json_array_get(vec, i);
        if (!json_is_number(x) || !isfinite(json_number_value(x))) {
            snprintf(err, errlen, "embeddings endpoint %s: non-numeric embedding", e->url);
            rc = ENGRAM_INVALID;
            goto cleanup;
        }
        v[i] = (float)json_number_value(x);
        norm += (double)v[i] * v[i];
    }
    if (norm <= 0) {
        snprintf(err, errlen, "embeddings endpoint %s: zero vector", e->url);
        rc = ENGRAM_INVALID;
        goto cleanup;
    }
    norm = sqrt(norm);
    for (i = 0; i < (size_t)n; i++)
        v[i] = (float)(v[i] / norm);
    /* The first good answer fixes the dimension when none was configured; a concurrent
     * first answer of another size loses. */
    want = 0;
    if (!atomic_compare_exchange_strong(&e->dim, &want, n) && want != n) {
        snprintf(err, errlen, "embeddings endpoint %s: dimension %d, expected %d", e->url, n,
                 want);
        rc = ENGRAM_INVALID;
        goto cleanup;
    }
    *out = v;
    *out_dim = n;
    v = NULL;
cleanup:
    free(v);
    json_decref(ans);
    json_decref(req);
    free(payload);
    eg_buf_reset(&body);
    return rc;
}
