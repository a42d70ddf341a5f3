/*
 * ingest.c - recording turns, with group commit.
 *
 * A turn, its extraction, its audit entry and its idempotency record commit in one
 * transaction, and engram_turn_add returns only after that commit is durable
 * (synchronous=FULL on SQLite). One fsync per turn would cap ingest at a few hundred
 * turns a second, so concurrent callers share commits: each call queues its request;
 * the first caller to find no leader becomes the leader, takes the whole queue (up to
 * BATCH_MAX), runs every request in one transaction and commits once; then every
 * caller in the batch wakes with its own answer and error. While a leader runs, the next
 * batch gathers behind it (PostgreSQL's and InnoDB's group commit). On SQLite the fsync
 * itself is taken off the leader: it commits without waiting for the disk (commit_async)
 * and hands the batch to the syncer thread, which fsyncs the log and only then answers the
 * batch's callers, while the next leader already writes (see syncer_main).
 *
 * Everything that needs no store runs on the caller's thread before it queues: parsing and
 * validating the body, the request digest, rule extraction, and the retrieval vectors of
 * each turn and extracted value (word vectors, and the embedding provider's round trip when
 * one is configured, which must never be made while holding the write lock). The leader's serial work is
 * only what must see the store (scope, idempotency, writes, resolving facts against current
 * attributes) and the answer text, which is written inside the transaction so that a
 * failure to write it (out of memory) still leaves nothing stored.
 *
 * A request that fails before writing anything (bad JSON, unknown session, a reused
 * idempotency key) fails alone and the batch goes on. A failure after writing (the store
 * refusing an insert) rolls the batch back, and each request then runs in a transaction of
 * its own, so one bad request never takes the others down with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/api_int.h"
#include "lib/extract.h"
#include "lib/internal.h"
#include "lib/stem.h"
#include "util/buf.h"

#define BATCH_MAX 256    /* requests per commit */
#define BATCH_TURNS 2048 /* a leader stops taking requests once it holds this many turns
                          * (one request may still bring up to EG_TURN_BATCH_MAX more) */

/* One queued call. Lives on the caller's stack until the caller returns, which it does
 * only after a leader has set done. */
struct eg_pend {
    const engram_call *call;
    const char *context;
    const char *session_id;
    const char *idem;       /* idempotency key or NULL */
    /* prepared on the caller's thread (prepare) */
    json_t *req;
    struct eg_turn *ts;     /* n validated turns, ids and scope filled in by the leader */
    struct eg_facts *facts; /* n extractions (empty for non-user and async turns) */
    struct eg_item_vecs *tvecs; /* n turn vectors */
    struct eg_item_vecs **fvecs; /* n arrays of 2 per fact: value, previous value */
    struct eg_buf *tails;        /* n answers' eg_turn_write_tail text */
    struct eg_fts_doc *docs;     /* n contents' full-text tokens, or NULL (store.h fts_tokens) */
    char *scope;                 /* a session-less request's scope, checked against the floor */
    size_t n;
    int batch;
    int async;
    char hash[33]; /* request digest, when idem */
    /* set by the leader */
    pthread_cond_t cv; /* signalled when done, or when it is at the head to lead */
    int done;
    int rc;
    int queued; /* an extraction job was queued: wake the worker after the commit */
    char *out;
    char errname[48];
    char errmsg[512];
    struct eg_pend *next;
};

#define EG_TURN_MAX_CONTENT (1024 * 1024)
#define EG_TURN_BATCH_MAX 1000

static int check_role(engram *db, const char *role)
{
    static const char *const roles[] = {"user", "assistant", "system", "tool"};

    for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
        if (strcmp(role, roles[i]) == 0)
            return ENGRAM_OK;
    }
    return eg_err(db, ENGRAM_INVALID, "invalid_field",
                  "field 'role' must be one of user, assistant, system, tool");
}

/* A stable digest of what a request means, to tell a retry from a different request
 * that reuses an idempotency key. */
static int request_hash(const char *session_id, const json_t *req, char *hex)
{
    unsigned char h[16];
    char *canon = json_dumps(req, JSON_COMPACT | JSON_SORT_KEYS);
    crypto_generichash_state st;

    if (!canon)
        return ENGRAM_NOMEM;
    crypto_generichash_init(&st, NULL, 0, sizeof(h));
    if (session_id)
        crypto_generichash_update(&st, (const unsigned char *)session_id, strlen(session_id));
    crypto_generichash_update(&st, (const unsigned char *)"\n", 1);
    crypto_generichash_update(&st, (const unsigned char *)canon, strlen(canon));
    crypto_generichash_final(&st, h, sizeof(h));
    sodium_bin2hex(hex, 33, h, sizeof(h));
    free(canon);
    return ENGRAM_OK;
}

/* Build one turn row from a turn object (the request itself, or one element of a batch's
 * "turns"); strings point into the object, metadata is malloc'd into t->metadata. */
static int turn_from_req(engram *db, const json_t *req, struct eg_turn *t)
{
    const char *role, *content;
    int rc;

    if ((rc = eg_req_str(db, req, "role", 1, &role)) != ENGRAM_OK ||
        (rc = check_role(db, role)) != ENGRAM_OK ||
        (rc = eg_req_str(db, req, "content", 1, &content)) != ENGRAM_OK ||
        (rc = eg_req_time(db, req, "created_at", &t->created_at)) != ENGRAM_OK ||
        (rc = eg_req_metadata(db, req, &t->metadata)) != ENGRAM_OK)
        return rc;
    if (content[0] == '\0')
        return eg_err(db, ENGRAM_INVALID, "invalid_field", "field 'content' must not be empty");
    if (strlen(content) > EG_TURN_MAX_CONTENT)
        return eg_err(db, ENGRAM_TOOBIG, "content_too_large",
                      "field 'content' is over %d bytes", EG_TURN_MAX_CONTENT);
    snprintf(t->role, sizeof(t->role), "%s", role);
    t->content = (char *)content;
    t->recorded_at = eg_now_ms();
    if (!t->created_at)
        t->created_at = t->recorded_at;
    return ENGRAM_OK;
}

/* The turns of a request: the request itself, or each element of a batch's "turns", all
 * validated before anything is written (a batch is all or nothing). Errors in an element
 * name it: "field 'turns[3].role' ...". */
static int turns_from_req(engram *db, const json_t *req, struct eg_turn **out, size_t *out_n)
{
    const json_t *list = json_object_get(req, "turns");
    struct eg_turn *ts;
    size_t n, i;
    int rc = ENGRAM_OK;

    *out = NULL;
    *out_n = 0;
    if (list) {
        if (!json_is_array(list) || json_array_size(list) == 0)
            return eg_err(db, ENGRAM_INVALID, "invalid_field",
                          "field 'turns' must be a non-empty array of turns");
        if (json_array_size(list) > EG_TURN_BATCH_MAX)
            return eg_err(db, ENGRAM_INVALID, "too_many_turns",
                          "field 'turns' holds %zu turns; at most %d per request",
                          json_array_size(list), EG_TURN_BATCH_MAX);
        if (json_object_get(req, "role") || json_object_get(req, "content"))
            return eg_err(db, ENGRAM_INVALID, "invalid_field",
                          "a request has either 'turns' or one turn's 'role' and 'content'");
    }
    n = list ? json_array_size(list) : 1;
    if (!(ts = calloc(n, sizeof(*ts))))
        return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
    for (i = 0; i < n && rc == ENGRAM_OK; i++) {
        const json_t *one = list ? json_array_get(list, i) : req;

        if (!json_is_object(one))
            rc = eg_err(db, ENGRAM_INVALID, "invalid_field",
                        "field 'turns[%zu]' must be an object", i);
        else if ((rc = turn_from_req(db, one, &ts[i])) != ENGRAM_OK && list) {
            char msg[sizeof(((struct eg_pend *)0)->errmsg)], name[48];
            const char *m = engram_errmsg(db);

            snprintf(name, sizeof(name), "%s", engram_errname(db));
            if (strncmp(m, "field '", 7) == 0)
                snprintf(msg, sizeof(msg), "field 'turns[%zu].%s", i, m + 7);
            else
                snprintf(msg, sizeof(msg), "turns[%zu]: %s", i, m);
            eg_err(db, rc, name, "%s", msg);
        }
    }
    if (rc != ENGRAM_OK) {
        for (i = 0; i < n; i++)
            free(ts[i].metadata);
        free(ts);
        return rc;
    }
    *out = ts;
    *out_n = n;
    return ENGRAM_OK;
}

/*
 * Stemmers for tokenizing turns before the lock, kept between calls on the handle: each has
 * a stem cache (64 KB) that pays off only warm. One per thread preparing at once, up to
 * EG_STEMMERS kept; beyond that a caller makes its own and frees it.
 */
static struct eg_stemmer *stemmer_take(engram *db)
{
    struct eg_stemmer *st = NULL;

    pthread_mutex_lock(&db->stem_mu);
    if (db->nstemmers)
        st = db->stemmers[--db->nstemmers];
    pthread_mutex_unlock(&db->stem_mu);
    return st ? st : eg_stemmer_new();
}

static void stemmer_give(engram *db, struct eg_stemmer *st)
{
    pthread_mutex_lock(&db->stem_mu);
    if (db->nstemmers < EG_STEMMERS) {
        db->stemmers[db->nstemmers++] = st;
        st = NULL;
    }
    pthread_mutex_unlock(&db->stem_mu);
    eg_stemmer_free(st);
}

void eg_stemmers_free(engram *db)
{
    while (db->nstemmers)
        eg_stemmer_free(db->stemmers[--db->nstemmers]);
}

/* The full-text tokens of p's turns, for a store that indexes with them (a fifth of the
 * leader's work on conversation turns was scanning and stemming them). Out of memory
 * leaves a turn without, and the store's tokenizer does it under the lock as before. */
static void fts_docs_make(engram *db, struct eg_pend *p)
{
    struct eg_stemmer *st = stemmer_take(db);

    for (size_t i = 0; st && i < p->n; i++) {
        const char *c = p->ts[i].content;

        if (eg_fts_doc_make(st, c, strlen(c), &p->docs[i]) == ENGRAM_OK)
            p->ts[i].fts = &p->docs[i];
    }
    if (st)
        stemmer_give(db, st);
}

/* Parse, validate, digest and extract on the caller's thread, without the handle's lock:
 * none of it reads the store. Errors are this thread's own. */
static int prepare(engram *db, struct eg_pend *p, const char *req_json)
{
    const engram_call *call = eg_call(p->call);
    int rc;

    eg_err_clear(db);
    p->idem = call->idempotency_key && *call->idempotency_key ? call->idempotency_key : NULL;
    if (p->idem && strlen(p->idem) > 200)
        return eg_err(db, ENGRAM_INVALID, "invalid_idempotency_key",
                      "idempotency key must be at most 200 characters");
    if ((rc = eg_check_context(db, p->context)) != ENGRAM_OK ||
        (rc = eg_req_parse(db, req_json, &p->req)) != ENGRAM_OK ||
        (rc = turns_from_req(db, p->req, &p->ts, &p->n)) != ENGRAM_OK ||
        (rc = eg_req_bool(db, p->req, "async", 0, &p->async)) != ENGRAM_OK)
        return rc;
    p->batch = json_object_get(p->req, "turns") != NULL;
    /* Without a session the scope is in the body: parse it and check the floor now. */
    if (!p->session_id &&
        (rc = eg_req_scope(db, call, p->context, NULL, p->req, &p->scope, NULL)) != ENGRAM_OK)
        return rc;
    if (p->idem && request_hash(p->session_id, p->req, p->hash) != ENGRAM_OK)
        return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
    if (!(p->facts = calloc(p->n, sizeof(*p->facts))) ||
        !(p->tvecs = calloc(p->n, sizeof(*p->tvecs))) ||
        !(p->fvecs = calloc(p->n, sizeof(*p->fvecs))) ||
        !(p->tails = calloc(p->n, sizeof(*p->tails))) ||
        (db->ops->fts_tokens && !(p->docs = calloc(p->n, sizeof(*p->docs)))))
        return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
    if (p->docs)
        fts_docs_make(db, p);
    for (size_t i = 0; i < p->n; i++) {
        const struct eg_facts *f = &p->facts[i];

        if (eg_turn_write_tail(&p->tails[i], &p->ts[i]) != ENGRAM_OK)
            return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        if ((rc = eg_retrieval_vecs(db, p->ts[i].content, &p->tvecs[i])) != ENGRAM_OK)
            return rc;
        if (p->async)
            continue; /* the worker extracts queued turns */
        if ((rc = eg_extract_turn(db, &p->ts[i], &p->facts[i])) != ENGRAM_OK)
            return rc;
        if (f->n && !(p->fvecs[i] = calloc(2 * f->n, sizeof(*p->fvecs[i]))))
            return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        for (size_t k = 0; k < f->n; k++) {
            const struct eg_fact *x = &f->v[k];

            if ((x->value && (rc = eg_retrieval_vecs_attr(db, x->key, x->value,
                                                          &p->fvecs[i][2 * k])) != ENGRAM_OK) ||
                (x->previous_value &&
                 (rc = eg_retrieval_vecs_attr(db, x->key, x->previous_value,
                                              &p->fvecs[i][2 * k + 1])) != ENGRAM_OK))
                return rc;
        }
    }
    return ENGRAM_OK;
}

static void pend_clear(struct eg_pend *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->docs)
            eg_fts_doc_clear(&p->docs[i]);
        free(p->ts[i].metadata);
        if (p->tvecs)
            eg_item_vecs_clear(&p->tvecs[i]);
        if (p->fvecs && p->fvecs[i]) {
            for (size_t k = 0; k < 2 * p->facts[i].n; k++)
                eg_item_vecs_clear(&p->fvecs[i][k]);
            free(p->fvecs[i]);
        }
        if (p->facts)
            eg_facts_free(&p->facts[i]);
        if (p->tails)
            eg_buf_reset(&p->tails[i]);
    }
    free(p->scope);
    free(p->ts);
    free(p->tvecs);
    free(p->fvecs);
    free(p->facts);
    free(p->tails);
    free(p->docs);
    json_decref(p->req);
}

/* Write one validated turn and its extraction (or its queued job), and append its answer
 * object {"turn", "diff", "queued"} to out as JSON text (tail: the turn's eg_turn_write_tail,
 * written by prepare). */
static int write_turn(engram *db, const engram_call *call, struct eg_turn *t,
                      const struct eg_facts *facts, const struct eg_item_vecs *tvec,
                      const struct eg_item_vecs *fvecs, const struct eg_buf *tail, int async,
                      struct eg_buf *out)
{
    struct eg_buf detail = {0}, diff = {0}, changes = {0};
    int rc;

    eg_id_new(db, "turn", t->id);
    if ((rc = db->ops->turn_put(db->store, t)) != ENGRAM_OK)
        return eg_err_store(db, rc, "turn");
    if ((rc = eg_retrieval_put_turn(db, t, tvec)) != ENGRAM_OK)
        return rc;
    /* Only user turns can carry the user's facts; queue nothing for the others. */
    if (async && strcmp(t->role, "user") == 0) {
        if ((rc = db->ops->job_put(db->store, t->context, t->id, t->recorded_at)) != ENGRAM_OK)
            rc = eg_err_store(db, rc, "job");
    } else {
        async = 0;
        rc = eg_resolve_facts(db, t, facts, fvecs, &diff, &changes);
    }
    /* The turn's one audit entry, {"role", "session_id", "changes": [...]} ("queued": true
     * instead when the extraction waits for the worker, which audits its own), written
     * directly: this is per turn. */
    if (rc == ENGRAM_OK) {
        if ((rc = eg_buf_puts(&detail, "{\"role\":")) != ENGRAM_OK ||
            (rc = eg_buf_json_str(&detail, t->role)) != ENGRAM_OK ||
            (rc = eg_buf_puts(&detail, ",\"session_id\":")) != ENGRAM_OK ||
            (rc = eg_buf_json_str(&detail, t->session_id[0] ? t->session_id : NULL)) !=
                ENGRAM_OK ||
            (rc = eg_buf_puts(&detail, async ? ",\"queued\":true}" : ",\"changes\":[")) !=
                ENGRAM_OK ||
            (!async && ((changes.len &&
                         (rc = eg_buf_append(&detail, changes.p, changes.len)) != ENGRAM_OK) ||
                        (rc = eg_buf_puts(&detail, "]}")) != ENGRAM_OK)))
            rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory writing the audit log");
        else
            rc = eg_audit_text(db, call, t->context, t->scope, "turn", t->id, detail.p);
    }
    eg_buf_reset(&detail);
    eg_buf_reset(&changes);
    if (rc == ENGRAM_OK &&
        ((rc = eg_buf_puts(out, "{\"turn\":")) != ENGRAM_OK ||
         (rc = eg_turn_write_head(out, t)) != ENGRAM_OK ||
         (rc = eg_buf_append(out, tail->p, tail->len)) != ENGRAM_OK ||
         (rc = eg_buf_puts(out, ",\"diff\":[")) != ENGRAM_OK ||
         (diff.len && (rc = eg_buf_append(out, diff.p, diff.len)) != ENGRAM_OK) ||
         (rc = eg_buf_puts(out, async ? "],\"queued\":true}" : "],\"queued\":false}")) !=
             ENGRAM_OK))
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory writing the answer");
    eg_buf_reset(&diff);
    return rc;
}

/*
 * Write one prepared request (one turn or a batch) inside the leader's open transaction.
 * *wrote says whether anything reached the store before a failure (then the transaction
 * must be rolled back). Safe to run again after a rollback (run_alone).
 */
static int turn_one(engram *db, struct eg_pend *p, int *wrote)
{
    const engram_call *call = eg_call(p->call);
    const char *context = p->context, *session_id = p->session_id;
    struct eg_buf answer = {0};
    char *prev_hash = NULL, *prev = NULL, *scope = p->scope, *own = NULL;
    int rc;

    *wrote = 0;
    p->queued = 0;
    /* A session's scope is the session's: read here, under the lock. */
    if (!scope) {
        if ((rc = eg_req_scope(db, call, context, session_id, p->req, &own, NULL)) != ENGRAM_OK)
            goto cleanup;
        scope = own;
    }
    if (p->idem) {
        /* Looked up inside the write transaction, so two racing retries cannot both
         * ingest: the second finds the first's record (in this batch or committed). */
        rc = db->ops->idem_get(db->store, context, p->idem, &prev_hash, &prev);
        if (rc == ENGRAM_OK) {
            if (strcmp(prev_hash, p->hash) != 0) {
                rc = eg_err(db, ENGRAM_CONFLICT, "idempotency_key_reused",
                            "idempotency key '%s' was used for a different request", p->idem);
                goto cleanup;
            }
            p->out = prev; /* a retry: the first answer, nothing written */
            prev = NULL;
            goto cleanup;
        }
        if (rc != ENGRAM_NOTFOUND) {
            rc = eg_err_store(db, rc, "idempotency");
            goto cleanup;
        }
    }
    /* The answer is written as text as the turns are (see eg_turn_write); it is complete
     * before the commit, so running out of memory writing it still leaves nothing stored. */
    if (p->batch && (rc = eg_buf_puts(&answer, "{\"turns\":[")) != ENGRAM_OK) {
        rc = eg_err(db, rc, NULL, "out of memory writing the answer");
        goto cleanup;
    }
    *wrote = 1;
    for (size_t i = 0; i < p->n; i++) {
        struct eg_turn *t = &p->ts[i];

        t->context = (char *)context;
        t->scope = scope;
        if (session_id)
            snprintf(t->session_id, sizeof(t->session_id), "%s", session_id);
        if (i && (rc = eg_buf_puts(&answer, ",")) != ENGRAM_OK) {
            rc = eg_err(db, rc, NULL, "out of memory writing the answer");
            goto cleanup;
        }
        rc = write_turn(db, call, t, &p->facts[i], &p->tvecs[i], p->fvecs[i], &p->tails[i],
                        p->async, &answer);
        t->scope = NULL; /* freed below */
        if (rc != ENGRAM_OK)
            goto cleanup;
        p->queued |= p->async && strcmp(t->role, "user") == 0;
    }
    if (p->batch && (rc = eg_buf_puts(&answer, "]}")) != ENGRAM_OK) {
        rc = eg_err(db, rc, NULL, "out of memory writing the answer");
        goto cleanup;
    }
    if (p->idem && (rc = db->ops->idem_put(db->store, context, scope, p->idem, p->hash,
                                           answer.p, p->ts[0].recorded_at)) != ENGRAM_OK) {
        rc = eg_err_store(db, rc, "idempotency");
        goto cleanup;
    }
    p->out = eg_buf_detach(&answer);
cleanup:
    eg_buf_reset(&answer);
    free(prev);
    free(prev_hash);
    free(own);
    return rc;
}

/* Record p's outcome; on error copy the leader's message into p for its caller. */
static void settle(engram *db, struct eg_pend *p, int rc)
{
    p->rc = rc;
    if (rc == ENGRAM_OK)
        return;
    free(p->out);
    p->out = NULL;
    snprintf(p->errname, sizeof(p->errname), "%s", engram_errname(db));
    snprintf(p->errmsg, sizeof(p->errmsg), "%s", engram_errmsg(db));
}

/* Each request in a transaction of its own: the slow path after a batch failed. */
static void run_alone(engram *db, struct eg_pend *p)
{
    int rc, wrote;

    if (db->ent_memo)
        eg_ent_memo_reset(db->ent_memo); /* the rollback may have removed its entities */
    if ((rc = eg_tx_begin(db, 1)) == ENGRAM_OK) {
        rc = turn_one(db, p, &wrote);
        if (rc == ENGRAM_OK)
            rc = eg_tx_commit(db);
        if (rc != ENGRAM_OK)
            db->ops->rollback(db->store);
    }
    settle(db, p, rc);
}

/* Every request of batch fails with rc and msg, before the leader wrote anything. */
static void fail_batch(struct eg_pend *batch, int rc, const char *msg)
{
    for (struct eg_pend *p = batch; p; p = p->next) {
        p->rc = rc;
        snprintf(p->errmsg, sizeof(p->errmsg), "%s", msg);
    }
}

/*
 * The leader's work: all of batch in one transaction, under the handle's lock. With async
 * (the syncer runs) it commits with commit_async and returns 1: the syncer answers the
 * batch's callers after the next log_sync. 0: every outcome in the batch is final.
 */
static int run_batch(engram *db, struct eg_pend *batch, int sync_failed, int async)
{
    struct eg_ent_memo memo = {0};
    struct eg_pend *p;
    int rc, wrote = 0, failed = 0, wake = 0, deferred = 0;

    if (sync_failed) {
        fail_batch(batch, ENGRAM_ERROR,
                   "an earlier commit could not be made durable (fsync failed); the store "
                   "takes no more turns until it is reopened");
        return 0;
    }
    if ((rc = eg_enter(db)) != ENGRAM_OK) {
        fail_batch(batch, rc, engram_errstr(rc));
        return 0;
    }
    if ((rc = eg_tx_begin(db, async ? EG_TX_ASYNC : 1)) != ENGRAM_OK) {
        for (p = batch; p; p = p->next)
            settle(db, p, rc);
        eg_leave(db, rc);
        return 0;
    }
    db->ent_memo = &memo;
    for (p = batch; p && !failed; p = p->next) {
        rc = turn_one(db, p, &wrote);
        settle(db, p, rc);
        /* A request's own fault before writing (unknown session, floor, a reused key)
         * leaves the batch's transaction as it was; anything else (a store error, even
         * on a read) might not, so the batch is rolled back and replayed one by one. */
        failed = rc != ENGRAM_OK && (wrote || !(rc == ENGRAM_INVALID || rc == ENGRAM_NOTFOUND ||
                                                rc == ENGRAM_FORBIDDEN || rc == ENGRAM_CONFLICT));
    }
    if (!failed && async) {
        if ((rc = db->ops->commit_async(db->store)) != ENGRAM_OK) {
            eg_err_store(db, rc, "commit");
            failed = 1;
        } else {
            deferred = 1;
        }
    } else if (!failed && (rc = eg_tx_commit(db)) != ENGRAM_OK) {
        failed = 1;
    }
    if (failed) {
        db->ops->rollback(db->store);
        for (p = batch; p; p = p->next) {
            free(p->out);
            p->out = NULL;
            run_alone(db, p);
        }
        /* The replays commit durably, but one that found its idempotency record (written
         * by a batch still awaiting the syncer) wrote nothing and synced nothing: answer
         * them all through the syncer too. */
        deferred = async;
    }
    eg_ent_memo_reset(&memo);
    db->ent_memo = NULL;
    for (p = batch; p; p = p->next)
        wake |= p->rc == ENGRAM_OK && p->queued;
    if (wake)
        eg_worker_wake(db);
    eg_leave(db, ENGRAM_OK);
    return deferred;
}

/*
 * The syncer: fsyncs the log behind commit_async batches, then answers their callers, while
 * the leader already runs the next batch (the fsync no longer stalls the serial section).
 * Every request in the list was committed before log_sync began, so the fsync covers it.
 * A failed fsync fails those requests and every later batch on this handle: the kernel may
 * have dropped the unwritten pages, and what is durable is then unknown (PostgreSQL stops
 * for the same reason).
 */
static void *syncer_main(void *arg)
{
    engram *db = arg;
    struct eg_pend *list, *p, *next;
    int rc;

    pthread_mutex_lock(&db->ingest_mu);
    while (db->sync_head || !db->syncer_stop) {
        if (!db->sync_head) {
            pthread_cond_wait(&db->syncer_cv, &db->ingest_mu);
            continue;
        }
        list = db->sync_head;
        db->sync_head = NULL;
        db->sync_tail = &db->sync_head;
        pthread_mutex_unlock(&db->ingest_mu);
        rc = db->ops->log_sync(db->store);
        pthread_mutex_lock(&db->ingest_mu);
        /* After a failure, later commits fail too even when their own fsync succeeds:
         * their frames follow frames the kernel may have dropped, and recovery stops at
         * the first bad frame (WAL checksums are cumulative). */
        if (rc != ENGRAM_OK || db->sync_failed) {
            db->sync_failed = 1;
            rc = ENGRAM_ERROR;
        }
        for (p = list; p; p = next) {
            next = p->next; /* p may return (and vanish) once done is set */
            if (rc != ENGRAM_OK && p->rc == ENGRAM_OK) {
                free(p->out);
                p->out = NULL;
                p->rc = ENGRAM_ERROR;
                snprintf(p->errname, sizeof(p->errname), "not_durable");
                snprintf(p->errmsg, sizeof(p->errmsg),
                         "the turn was written but could not be made durable (fsync failed)");
            }
            p->done = 1;
            pthread_cond_signal(&p->cv);
        }
    }
    pthread_mutex_unlock(&db->ingest_mu);
    return NULL;
}

void eg_syncer_stop(engram *db)
{
    pthread_mutex_lock(&db->ingest_mu);
    db->syncer_stop = 1;
    pthread_cond_signal(&db->syncer_cv);
    pthread_mutex_unlock(&db->ingest_mu);
    if (db->syncer_running)
        pthread_join(db->syncer, NULL);
    db->syncer_running = 0;
}

int engram_turn_add(engram *db, const engram_call *call, const char *context,
                    const char *session_id, const char *req_json, char **out_json)
{
    struct eg_pend me = {0};
    int rc;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if (!db || db->magic != EG_MAGIC_OPEN)
        return ENGRAM_MISUSE;
    me.call = call;
    me.context = context;
    me.session_id = session_id;
    if ((rc = prepare(db, &me, req_json)) != ENGRAM_OK) {
        pend_clear(&me);
        return rc;
    }
    /* Each waiter sleeps on its own condition: a finished leader wakes exactly the callers
     * it answered and the new head of the queue (the next leader), not every waiter. */
    pthread_cond_init(&me.cv, NULL);
    pthread_mutex_lock(&db->ingest_mu);
    *db->ingest_tail = &me;
    db->ingest_tail = &me.next;
    while (!me.done) {
        struct eg_pend *batch, *p, **cut;
        size_t n = 0, turns = 0;
        int deferred, sync_failed, async;

        /* Lead only when there is a queue: a caller whose request awaits the syncer just
         * waits for its answer. */
        if (db->ingest_leader || !db->ingest_head) {
            pthread_cond_wait(&me.cv, &db->ingest_mu);
            continue;
        }
        /* Lead: take up to BATCH_MAX requests (or BATCH_TURNS turns) from the head of
         * the queue, at least one. */
        db->ingest_leader = 1;
        batch = db->ingest_head;
        for (cut = &db->ingest_head; *cut && n < BATCH_MAX && turns < BATCH_TURNS;
             cut = &(*cut)->next) {
            n++;
            turns += (*cut)->n;
        }
        db->ingest_head = *cut;
        *cut = NULL;
        if (!db->ingest_head)
            db->ingest_tail = &db->ingest_head;
        /* The syncer starts with the first batch that needs it; without it, commit. */
        if (db->ops->commit_async && db->ops->log_sync && !db->syncer_running &&
            !db->syncer_stop && pthread_create(&db->syncer, NULL, syncer_main, db) == 0)
            db->syncer_running = 1;
        sync_failed = db->sync_failed;
        async = db->syncer_running;
        pthread_mutex_unlock(&db->ingest_mu);
        deferred = run_batch(db, batch, sync_failed, async);
        pthread_mutex_lock(&db->ingest_mu);
        if (deferred) {
            *db->sync_tail = batch;
            for (p = batch; p->next; p = p->next)
                ;
            db->sync_tail = &p->next;
            pthread_cond_signal(&db->syncer_cv);
        } else {
            for (p = batch; p; p = p->next) {
                p->done = 1; /* p stays valid: its caller needs ingest_mu to return */
                pthread_cond_signal(&p->cv);
            }
        }
        db->ingest_leader = 0;
        if (db->ingest_head)
            pthread_cond_signal(&db->ingest_head->cv);
    }
    pthread_mutex_unlock(&db->ingest_mu);
    pthread_cond_destroy(&me.cv);
    /* The leader ran our request on its thread; the error is ours to report. */
    rc = me.rc;
    if (rc != ENGRAM_OK)
        eg_err(db, rc, me.errname[0] ? me.errname : NULL, "%s", me.errmsg);
    else
        eg_err_clear(db);
    *out_json = me.out;
    pend_clear(&me);
    return rc;
}
