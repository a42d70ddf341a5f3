/*
 * api.c - the handle and the entry points that are not a module of their own: open and
 * close, per-thread errors, the status table, request-field helpers, the JSON shapes of
 * records, sessions and turn ingest. Every engram_* entry checks the handle, takes the
 * handle's lock, calls into a module and leaves an error for engram_errmsg() (SQLite's
 * main.c plays this role).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/api_int.h"
#include "lib/internal.h"
#include "util/buf.h"

/* ---- status table ---------------------------------------------------------------------- */

struct status_row {
    int code;
    const char *name;
    int http;
    const char *text;
};

static const struct status_row status_rows[] = {
#define ROW(sym, val, name, http, text) {val, name, http, text},
    ENGRAM_STATUS_MAP(ROW)
#undef ROW
};

static const struct status_row *status_row(int rc)
{
    for (size_t i = 0; i < sizeof(status_rows) / sizeof(status_rows[0]); i++) {
        if (status_rows[i].code == rc)
            return &status_rows[i];
    }
    return &status_rows[ENGRAM_ERROR];
}

const char *engram_errstr(int rc)
{
    return status_row(rc)->text;
}

const char *engram_status_name(int rc)
{
    return status_row(rc)->name;
}

int engram_status_http(int rc)
{
    return status_row(rc)->http;
}

const char *engram_libversion(void)
{
    return ENGRAM_VERSION;
}

int engram_libversion_number(void)
{
    return ENGRAM_VERSION_NUMBER;
}

void engram_free(void *p)
{
    free(p);
}

/* ---- per-thread errors ------------------------------------------------------------------- */

/* This thread's error slot, created on first use; NULL only when out of memory. */
static struct eg_err *err_slot(engram *db)
{
    pthread_t self = pthread_self();
    struct eg_err *e;

    pthread_mutex_lock(&db->err_mu);
    for (e = db->errs; e; e = e->next) {
        if (pthread_equal(e->thread, self))
            break;
    }
    if (!e && (e = calloc(1, sizeof(*e)))) {
        e->thread = self;
        e->next = db->errs;
        db->errs = e;
    }
    pthread_mutex_unlock(&db->err_mu);
    return e;
}

int eg_err(engram *db, int rc, const char *name, const char *fmt, ...)
{
    struct eg_err *e = err_slot(db);
    va_list ap;

    if (!e)
        return rc;
    e->code = rc;
    snprintf(e->name, sizeof(e->name), "%s", name ? name : engram_status_name(rc));
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
    return rc;
}

int eg_err_store(engram *db, int rc, const char *what)
{
    return eg_err(db, rc, NULL, "%s: %s", what, db->ops->errmsg(db->store));
}

void eg_err_clear(engram *db)
{
    struct eg_err *e = err_slot(db);

    if (e) {
        e->code = ENGRAM_OK;
        e->name[0] = '\0';
        e->msg[0] = '\0';
    }
}

static int usable(engram *db)
{
    return db && db->magic == EG_MAGIC_OPEN;
}

int engram_errcode(engram *db)
{
    struct eg_err *e;

    if (!db)
        return ENGRAM_NOMEM;
    e = err_slot(db);
    return e ? e->code : ENGRAM_NOMEM;
}

const char *engram_errmsg(engram *db)
{
    struct eg_err *e;

    if (!db)
        return "out of memory";
    e = err_slot(db);
    if (!e)
        return "out of memory";
    return e->msg[0] ? e->msg : engram_errstr(e->code);
}

const char *engram_errname(engram *db)
{
    struct eg_err *e;

    if (!db)
        return "out_of_memory";
    e = err_slot(db);
    if (!e)
        return "out_of_memory";
    return e->name[0] ? e->name : engram_status_name(e->code);
}

static void log_stderr(void *arg, const char *line)
{
    (void)arg;
    fprintf(stderr, "%s\n", line);
}

void engram_set_log(engram *db, engram_log_fn fn, void *arg)
{
    if (!usable(db))
        return;
    db->log = fn ? fn : log_stderr;
    db->log_arg = arg;
}

void eg_log(engram *db, const char *fmt, ...)
{
    char line[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    db->log(db->log_arg, line);
}

/* ---- lock helpers (api_int.h) ------------------------------------------------------------ */

int eg_enter(engram *db)
{
    if (!usable(db))
        return ENGRAM_MISUSE;
    pthread_mutex_lock(&db->mu);
    eg_err_clear(db);
    return ENGRAM_OK;
}

int eg_leave(engram *db, int rc)
{
    pthread_mutex_unlock(&db->mu);
    return rc;
}

/* ---- open / close ------------------------------------------------------------------------ */

static char *dup_opt(const char *s)
{
    return s ? strdup(s) : NULL;
}

int engram_open(const char *uri, const engram_options *opt, engram **out)
{
    engram *db;
    char err[512] = "";
    int rc;

    if (!out)
        return ENGRAM_MISUSE;
    *out = NULL;
    db = calloc(1, sizeof(*db));
    if (!db)
        return ENGRAM_NOMEM;
    db->magic = EG_MAGIC_CLOSED; /* not usable until the store is open */
    pthread_mutex_init(&db->mu, NULL);
    pthread_mutex_init(&db->err_mu, NULL);
    pthread_cond_init(&db->worker_cv, NULL);
    pthread_mutex_init(&db->ingest_mu, NULL);
    pthread_mutex_init(&db->stem_mu, NULL);
    db->ingest_tail = &db->ingest_head;
    pthread_cond_init(&db->syncer_cv, NULL);
    db->sync_tail = &db->sync_head;
    db->log = log_stderr;
    *out = db;
    if (opt) {
        size_t n = opt->size < sizeof(db->opt) ? opt->size : sizeof(db->opt);
        memcpy(&db->opt, opt, n);
    }
    db->opt.size = sizeof(db->opt);
    /* Keep our own copies: the caller's strings are only borrowed for this call. */
    db->opt.embed_url = dup_opt(db->opt.embed_url);
    db->opt.embed_model = dup_opt(db->opt.embed_model);
    db->opt.embed_api_key = dup_opt(db->opt.embed_api_key);
    db->data_dir = dup_opt(db->opt.data_dir ? db->opt.data_dir : getenv("ENGRAM_DATA"));
    db->opt.data_dir = NULL;
    if (db->opt.busy_timeout_ms <= 0)
        db->opt.busy_timeout_ms = 5000;
    if (sodium_init() < 0)
        return eg_err(db, ENGRAM_ERROR, NULL, "libsodium failed to initialise");
    if (!uri || !*uri)
        return eg_err(db, ENGRAM_INVALID, NULL, "no store given (a SQLite path or postgresql:// URI)");
    db->ops = eg_store_for_uri(uri);
    if (!db->ops)
        return eg_err(db, ENGRAM_INVALID, NULL, "no backend accepts store '%s'", uri);
    rc = db->ops->open(uri, db->opt.busy_timeout_ms, &db->store, err, sizeof(err));
    if (rc != ENGRAM_OK)
        return eg_err(db, rc, NULL, "%s", err);
    db->magic = EG_MAGIC_OPEN;
    rc = eg_retrieval_init(db);
    if (rc == ENGRAM_OK && !db->opt.no_worker)
        rc = eg_worker_start(db);
    if (rc != ENGRAM_OK) {
        db->magic = EG_MAGIC_CLOSED;
        return eg_err(db, rc, NULL, "cannot start: %s", engram_errstr(rc));
    }
    return ENGRAM_OK;
}

int engram_close(engram *db)
{
    struct eg_err *e, *next;

    if (!db)
        return ENGRAM_OK;
    if (db->magic == EG_MAGIC_OPEN) {
        eg_worker_stop(db);
        eg_syncer_stop(db);
    }
    pthread_mutex_lock(&db->mu);
    db->magic = EG_MAGIC_CLOSED;
    if (db->store)
        db->ops->close(db->store);
    db->store = NULL;
    eg_retrieval_free(db);
    eg_stemmers_free(db);
    pthread_mutex_unlock(&db->mu);
    for (e = db->errs; e; e = next) {
        next = e->next;
        free(e);
    }
    free((char *)db->opt.embed_url);
    free((char *)db->opt.embed_model);
    free((char *)db->opt.embed_api_key);
    free(db->data_dir);
    pthread_cond_destroy(&db->worker_cv);
    pthread_cond_destroy(&db->syncer_cv);
    pthread_mutex_destroy(&db->ingest_mu);
    pthread_mutex_destroy(&db->stem_mu);
    pthread_mutex_destroy(&db->err_mu);
    pthread_mutex_destroy(&db->mu);
    free(db);
    return ENGRAM_OK;
}

const char *engram_backend(engram *db)
{
    return usable(db) ? db->ops->name : "closed";
}

/* ---- request helpers --------------------------------------------------------------------- */

int eg_req_parse(engram *db, const char *req_json, json_t **out)
{
    json_error_t jerr;
    json_t *v;

    *out = NULL;
    if (!req_json)
        req_json = "{}";
    v = json_loads(req_json, JSON_REJECT_DUPLICATES, &jerr);
    if (!v)
        return eg_err(db, ENGRAM_INVALID, "invalid_json",
                      "request is not valid JSON: %s (line %d, column %d)", jerr.text,
                      jerr.line, jerr.column);
    if (!json_is_object(v)) {
        json_decref(v);
        return eg_err(db, ENGRAM_INVALID, "invalid_json", "request must be a JSON object");
    }
    *out = v;
    return ENGRAM_OK;
}

int eg_req_str(engram *db, const json_t *req, const char *field, int required,
               const char **out)
{
    json_t *v = json_object_get(req, field);

    *out = NULL;
    if (!v || json_is_null(v)) {
        if (required)
            return eg_err(db, ENGRAM_INVALID, "invalid_field", "field '%s' is required", field);
        return ENGRAM_OK;
    }
    if (!json_is_string(v))
        return eg_err(db, ENGRAM_INVALID, "invalid_field", "field '%s' must be a string",
                      field);
    if (memchr(json_string_value(v), '\0', json_string_length(v)))
        return eg_err(db, ENGRAM_INVALID, "invalid_field",
                      "field '%s' must not contain NUL characters", field);
    *out = json_string_value(v);
    return ENGRAM_OK;
}

int eg_req_int(engram *db, const json_t *req, const char *field, int64_t lo, int64_t hi,
               int64_t dflt, int64_t *out)
{
    json_t *v = json_object_get(req, field);

    *out = dflt;
    if (!v || json_is_null(v))
        return ENGRAM_OK;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return eg_err(db, ENGRAM_INVALID, "invalid_field",
                      "field '%s' must be an integer from %lld to %lld", field, (long long)lo,
                      (long long)hi);
    *out = json_integer_value(v);
    return ENGRAM_OK;
}

int eg_req_bool(engram *db, const json_t *req, const char *field, int dflt, int *out)
{
    json_t *v = json_object_get(req, field);

    *out = dflt;
    if (!v || json_is_null(v))
        return ENGRAM_OK;
    if (!json_is_boolean(v))
        return eg_err(db, ENGRAM_INVALID, "invalid_field", "field '%s' must be true or false",
                      field);
    *out = json_is_true(v);
    return ENGRAM_OK;
}

int eg_req_time(engram *db, const json_t *req, const char *field, int64_t *out)
{
    const char *s;
    int rc = eg_req_str(db, req, field, 0, &s);

    *out = 0;
    if (rc != ENGRAM_OK || !s)
        return rc;
    if (eg_iso_parse(s, out) != 0)
        return eg_err(db, ENGRAM_INVALID, "invalid_field",
                      "field '%s' must be an ISO-8601 time like 2024-11-15T10:23:00Z", field);
    return ENGRAM_OK;
}

int eg_json_out(engram *db, json_t *v, char **out_json)
{
    *out_json = v ? json_dumps(v, EG_JSON_ANSWER) : NULL;
    json_decref(v);
    if (!*out_json)
        return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory writing the answer");
    return ENGRAM_OK;
}

json_t *eg_json_time(int64_t ms)
{
    char iso[EG_ISO_LEN];

    if (!ms)
        return json_null();
    eg_iso_format(ms, iso);
    return json_string(iso);
}

/* ---- JSON shapes ------------------------------------------------------------------------- */

static json_t *json_meta(const char *text)
{
    json_t *v = text && *text ? json_loads(text, 0, NULL) : NULL;
    return v ? v : json_object();
}

static json_t *json_id(const char *id)
{
    return id && *id ? json_string(id) : json_null();
}

json_t *eg_session_json(const struct eg_session *s, int64_t turn_count)
{
    json_t *o = json_pack("{s:s, s:s, s:o, s:o, s:o}", "id", s->id, "context", s->context,
                          "scope", eg_scope_to_json(s->scope), "created_at",
                          eg_json_time(s->created_at), "metadata", json_meta(s->metadata));
    if (o && turn_count >= 0 && json_object_set_new(o, "turn_count", json_integer(turn_count))) {
        json_decref(o);
        return NULL;
    }
    return o;
}

json_t *eg_turn_json(const struct eg_turn *t)
{
    return json_pack("{s:s, s:o, s:s, s:o, s:s, s:s, s:o, s:o}", "id", t->id, "session_id",
                     json_id(t->session_id), "context", t->context, "scope",
                     eg_scope_to_json(t->scope), "role", t->role, "content", t->content,
                     "created_at", eg_json_time(t->created_at), "metadata",
                     json_meta(t->metadata));
}

int eg_meta_write(struct eg_buf *b, const char *text)
{
    json_t *m;
    char *d;
    int rc;

    if (!text || !*text || strcmp(text, "{}") == 0) /* nearly every record */
        return eg_buf_puts(b, "{}");
    /* Re-dumped as answers write reals (6 significant digits). */
    m = json_meta(text);
    d = m ? json_dumps(m, EG_JSON_ANSWER) : NULL;
    rc = d ? eg_buf_puts(b, d) : ENGRAM_NOMEM;
    free(d);
    json_decref(m);
    return rc;
}

int eg_turn_write_head(struct eg_buf *b, const struct eg_turn *t)
{
    int rc;

    if ((rc = eg_buf_puts(b, "{\"id\":")) != ENGRAM_OK || (rc = eg_buf_json_str(b, t->id)) ||
        (rc = eg_buf_puts(b, ",\"session_id\":")) ||
        (rc = eg_buf_json_str(b, t->session_id[0] ? t->session_id : NULL)) ||
        (rc = eg_buf_puts(b, ",\"context\":")) || (rc = eg_buf_json_str(b, t->context)) ||
        (rc = eg_buf_puts(b, ",\"scope\":")) || (rc = eg_scope_write(b, t->scope)))
        return rc;
    return ENGRAM_OK;
}

int eg_turn_write_tail(struct eg_buf *b, const struct eg_turn *t)
{
    int rc;

    if ((rc = eg_buf_puts(b, ",\"role\":")) || (rc = eg_buf_json_str(b, t->role)) ||
        (rc = eg_buf_puts(b, ",\"content\":")) || (rc = eg_buf_json_str(b, t->content)) ||
        (rc = eg_buf_puts(b, ",\"created_at\":")) ||
        (rc = eg_buf_json_time(b, t->created_at)) ||
        (rc = eg_buf_puts(b, ",\"metadata\":")) || (rc = eg_meta_write(b, t->metadata)))
        return rc;
    return eg_buf_puts(b, "}");
}

int eg_turn_write(struct eg_buf *b, const struct eg_turn *t)
{
    int rc = eg_turn_write_head(b, t);

    return rc == ENGRAM_OK ? eg_turn_write_tail(b, t) : rc;
}

json_t *eg_attr_json(const struct eg_attr *a)
{
    return json_pack("{s:s, s:[s,s], s:s, s:s, s:s, s:f, s:f, s:o, s:o, s:o, s:o, s:o, s:o}",
                     "id", a->id, "entity", a->entity_type ? a->entity_type : "",
                     a->entity_name ? a->entity_name : "", "category", a->category, "key",
                     a->key, "value", a->value, "confidence", a->confidence, "importance",
                     a->importance, "source_turn", json_id(a->source_turn), "valid_from",
                     eg_json_time(a->valid_from), "valid_until", eg_json_time(a->valid_until),
                     "recorded_at", eg_json_time(a->recorded_at), "supersedes",
                     json_id(a->supersedes), "scope", eg_scope_to_json(a->scope));
}

int eg_attr_write(struct eg_buf *b, const struct eg_attr *a)
{
    int rc;

    if ((rc = eg_buf_puts(b, "{\"id\":")) || (rc = eg_buf_json_str(b, a->id)) ||
        (rc = eg_buf_puts(b, ",\"entity\":[")) ||
        (rc = eg_buf_json_str(b, a->entity_type ? a->entity_type : "")) ||
        (rc = eg_buf_puts(b, ",")) ||
        (rc = eg_buf_json_str(b, a->entity_name ? a->entity_name : "")) ||
        (rc = eg_buf_puts(b, "],\"category\":")) || (rc = eg_buf_json_str(b, a->category)) ||
        (rc = eg_buf_puts(b, ",\"key\":")) || (rc = eg_buf_json_str(b, a->key)) ||
        (rc = eg_buf_puts(b, ",\"value\":")) || (rc = eg_buf_json_str(b, a->value)) ||
        (rc = eg_buf_puts(b, ",\"confidence\":")) || (rc = eg_buf_json_real(b, a->confidence)) ||
        (rc = eg_buf_puts(b, ",\"importance\":")) || (rc = eg_buf_json_real(b, a->importance)) ||
        (rc = eg_buf_puts(b, ",\"source_turn\":")) ||
        (rc = eg_buf_json_str(b, a->source_turn[0] ? a->source_turn : NULL)) ||
        (rc = eg_buf_puts(b, ",\"valid_from\":")) || (rc = eg_buf_json_time(b, a->valid_from)) ||
        (rc = eg_buf_puts(b, ",\"valid_until\":")) ||
        (rc = eg_buf_json_time(b, a->valid_until)) ||
        (rc = eg_buf_puts(b, ",\"recorded_at\":")) ||
        (rc = eg_buf_json_time(b, a->recorded_at)) ||
        (rc = eg_buf_puts(b, ",\"supersedes\":")) ||
        (rc = eg_buf_json_str(b, a->supersedes[0] ? a->supersedes : NULL)) ||
        (rc = eg_buf_puts(b, ",\"scope\":")) || (rc = eg_scope_write(b, a->scope)))
        return rc;
    return eg_buf_puts(b, "}");
}

json_t *eg_audit_json(const struct eg_audit *a)
{
    return json_pack("{s:s, s:o, s:s, s:s, s:o, s:s, s:o, s:o}", "id", a->id, "at",
                     eg_json_time(a->at), "actor", a->actor, "action", a->action, "scope",
                     eg_scope_to_json(a->scope), "target", a->target, "detail",
                     json_meta(a->detail), "request_id", json_id(a->request_id));
}

/* ---- calls, floors, audit ---------------------------------------------------------------- */

static const engram_call local_call = {sizeof(engram_call), "local", NULL, NULL, NULL};

const engram_call *eg_call(const engram_call *call)
{
    return call && call->size >= sizeof(engram_call) ? call : &local_call;
}

int eg_check_floor(engram *db, const engram_call *call, const char *scope)
{
    const char *floor = eg_call(call)->scope_floor;

    if (!floor || !*floor)
        return ENGRAM_OK;
    if (engram_scope_within(floor, scope) != 1)
        return eg_err(db, ENGRAM_FORBIDDEN, "outside_scope_floor",
                      "scope '%s' is outside this caller's scope floor '%s'", scope, floor);
    return ENGRAM_OK;
}

int eg_audit_text(engram *db, const engram_call *call, const char *context, const char *scope,
                  const char *action, const char *target, const char *detail)
{
    struct eg_audit a = {0};
    int rc;

    call = eg_call(call);
    eg_id_new(db, "aud", a.id);
    a.context = (char *)context;
    a.scope = (char *)scope;
    a.at = eg_now_ms();
    a.actor = (char *)(call->actor ? call->actor : "local");
    a.action = (char *)action;
    a.target = (char *)(target ? target : "");
    a.detail = (char *)detail;
    a.request_id = (char *)call->request_id;
    rc = db->ops->audit_put(db->store, &a);
    return rc == ENGRAM_OK ? rc : eg_err_store(db, rc, "audit");
}

int eg_audit(engram *db, const engram_call *call, const char *context, const char *scope,
             const char *action, const char *target, json_t *detail)
{
    char *text = detail ? json_dumps(detail, JSON_COMPACT) : NULL;
    int rc;

    json_decref(detail);
    if (detail && !text)
        return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory writing the audit log");
    rc = eg_audit_text(db, call, context, scope, action, target, text);
    free(text);
    return rc;
}

int eg_check_context(engram *db, const char *context)
{
    size_t n;

    if (!context || !*context)
        return eg_err(db, ENGRAM_INVALID, "invalid_context", "a context name is required");
    n = strlen(context);
    if (n > 64)
        return eg_err(db, ENGRAM_INVALID, "invalid_context",
                      "context name must be at most 64 characters");
    for (size_t i = 0; i < n; i++) {
        char c = context[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.'))
            return eg_err(db, ENGRAM_INVALID, "invalid_context",
                          "context name may use letters, digits, '_', '-' and '.' only");
    }
    return ENGRAM_OK;
}

/* Resolve the scope of a request: from a session (checked against the floor) or from the
 * "scope" field. *out_path is malloc'd. */
int eg_req_scope(engram *db, const engram_call *call, const char *context,
                 const char *session_id, const json_t *req, char **out_path,
                 struct eg_session *out_session)
{
    int rc;

    *out_path = NULL;
    if (session_id) {
        struct eg_session s;
        rc = db->ops->session_get(db->store, context, session_id, &s, NULL);
        if (rc != ENGRAM_OK)
            return eg_err(db, rc, rc == ENGRAM_NOTFOUND ? "session_not_found" : NULL, "%s",
                          db->ops->errmsg(db->store));
        rc = eg_check_floor(db, call, s.scope);
        if (rc == ENGRAM_OK && !(*out_path = strdup(s.scope)))
            rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        if (rc == ENGRAM_OK && out_session)
            *out_session = s;
        else
            eg_session_clear(&s);
        return rc;
    }
    rc = eg_scope_from_json(db, json_object_get(req, "scope"), out_path);
    if (rc == ENGRAM_OK && (rc = eg_check_floor(db, call, *out_path)) != ENGRAM_OK) {
        free(*out_path);
        *out_path = NULL;
    }
    return rc;
}

int eg_req_open(engram *db, const engram_call *call, const char *context,
                const char *session_id, const char *req_json, json_t **out_req,
                char **out_scope, char ***out_scopes, size_t *out_nscopes)
{
    int rc;

    *out_req = NULL;
    *out_scope = NULL;
    if (out_scopes) {
        *out_scopes = NULL;
        *out_nscopes = 0;
    }
    if ((rc = eg_check_context(db, context)) != ENGRAM_OK ||
        (rc = eg_req_parse(db, req_json, out_req)) != ENGRAM_OK ||
        (rc = eg_req_scope(db, call, context, session_id, *out_req, out_scope, NULL)) !=
            ENGRAM_OK)
        goto fail;
    if (out_scopes && (rc = eg_scope_floor_list(*out_scope, eg_call(call)->scope_floor,
                                                out_scopes, out_nscopes)) != ENGRAM_OK) {
        rc = eg_err(db, rc, NULL, "out of memory");
        goto fail;
    }
    return ENGRAM_OK;
fail:
    json_decref(*out_req);
    *out_req = NULL;
    free(*out_scope);
    *out_scope = NULL;
    return rc;
}

int eg_tx_begin(engram *db, int write)
{
    int rc = db->ops->begin(db->store, write);
    return rc == ENGRAM_OK ? rc : eg_err_store(db, rc, "begin");
}

int eg_tx_commit(engram *db)
{
    int rc = db->ops->commit(db->store);
    return rc == ENGRAM_OK ? rc : eg_err_store(db, rc, "commit");
}

/* ---- scopes ------------------------------------------------------------------------------ */

int engram_scope_canonical(engram *db, const char *scope, char **out_path)
{
    int rc;

    if (!out_path)
        return ENGRAM_MISUSE;
    *out_path = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    rc = eg_scope_from_text(db, scope, out_path);
    return eg_leave(db, rc);
}

/* ---- sessions ---------------------------------------------------------------------------- */

int eg_req_metadata(engram *db, const json_t *req, char **out)
{
    json_t *m = json_object_get(req, "metadata");

    *out = NULL;
    if (!m || json_is_null(m))
        return ENGRAM_OK;
    if (!json_is_object(m))
        return eg_err(db, ENGRAM_INVALID, "invalid_field", "field 'metadata' must be an object");
    *out = json_dumps(m, JSON_COMPACT);
    return *out ? ENGRAM_OK : eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
}

static int check_id(engram *db, const char *field, const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n >= EG_ID_MAX)
        return eg_err(db, ENGRAM_INVALID, "invalid_field",
                      "field '%s' must be 1-%d characters", field, EG_ID_MAX - 1);
    for (size_t i = 0; i < n; i++) {
        char c = id[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == ':' || c == '.'))
            return eg_err(db, ENGRAM_INVALID, "invalid_field",
                          "field '%s' may use letters, digits, '_', '-', ':' and '.' only",
                          field);
    }
    return ENGRAM_OK;
}

int engram_session_create(engram *db, const engram_call *call, const char *context,
                          const char *req_json, char **out_json)
{
    struct eg_session s = {0};
    json_t *req = NULL;
    const char *id = NULL;
    int rc;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    if ((rc = eg_req_open(db, call, context, NULL, req_json, &req, &s.scope, NULL, NULL)) !=
            ENGRAM_OK ||
        (rc = eg_req_metadata(db, req, &s.metadata)) != ENGRAM_OK ||
        (rc = eg_req_str(db, req, "id", 0, &id)) != ENGRAM_OK)
        goto cleanup;
    if (id && (rc = check_id(db, "id", id)) != ENGRAM_OK)
        goto cleanup;
    if (id)
        snprintf(s.id, sizeof(s.id), "%s", id);
    else
        eg_id_new(db, "ses", s.id);
    s.context = (char *)context;
    s.created_at = eg_now_ms();
    if ((rc = eg_tx_begin(db, 1)) != ENGRAM_OK)
        goto cleanup;
    rc = db->ops->session_put(db->store, &s);
    if (rc == ENGRAM_CONFLICT)
        rc = eg_err(db, ENGRAM_CONFLICT, "session_exists", "session '%s' already exists", s.id);
    else if (rc != ENGRAM_OK)
        rc = eg_err_store(db, rc, "session");
    if (rc == ENGRAM_OK)
        rc = eg_audit(db, call, context, s.scope, "session_create", s.id, NULL);
    if (rc == ENGRAM_OK)
        rc = eg_tx_commit(db);
    if (rc != ENGRAM_OK) {
        db->ops->rollback(db->store);
        goto cleanup;
    }
    rc = eg_json_out(db, eg_session_json(&s, 0), out_json);
cleanup:
    free(s.scope);
    free(s.metadata);
    json_decref(req);
    return eg_leave(db, rc);
}

int engram_session_get(engram *db, const engram_call *call, const char *context,
                       const char *session_id, char **out_json)
{
    struct eg_session s;
    int64_t turns = 0;
    int rc;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    if ((rc = eg_check_context(db, context)) != ENGRAM_OK)
        return eg_leave(db, rc);
    if (!session_id)
        return eg_leave(db, eg_err(db, ENGRAM_INVALID, "invalid_field", "session id required"));
    rc = db->ops->session_get(db->store, context, session_id, &s, &turns);
    if (rc != ENGRAM_OK)
        return eg_leave(db, eg_err(db, rc, rc == ENGRAM_NOTFOUND ? "session_not_found" : NULL,
                                   "%s", db->ops->errmsg(db->store)));
    rc = eg_check_floor(db, call, s.scope);
    if (rc == ENGRAM_OK)
        rc = eg_json_out(db, eg_session_json(&s, turns), out_json);
    eg_session_clear(&s);
    return eg_leave(db, rc);
}

/* ---- jobs and stats ---------------------------------------------------------------------- */

/* Run one queued job with the lock held. ENGRAM_NOTFOUND when the queue is empty. */
int eg_job_run_one(engram *db)
{
    struct eg_job job;
    struct eg_turn t;
    struct eg_buf diff = {0}, changes = {0}, detail = {0}; /* nobody waits for the diff */
    int rc;

    if ((rc = db->ops->begin(db->store, 1)) != ENGRAM_OK)
        return eg_err_store(db, rc, "begin");
    rc = db->ops->job_claim(db->store, eg_now_ms(), &job);
    if (rc != ENGRAM_OK) {
        db->ops->rollback(db->store);
        return rc == ENGRAM_NOTFOUND ? rc : eg_err_store(db, rc, "job");
    }
    rc = db->ops->turn_get(db->store, job.context, job.turn_id, &t);
    if (rc == ENGRAM_OK) {
        rc = eg_resolve_turn(db, &t, &diff, &changes);
        /* The job's one audit entry, {"changes": [...]}, when its extraction changed
         * anything (the turn's own entry said it was queued). */
        if (rc == ENGRAM_OK && changes.len) {
            if (eg_buf_puts(&detail, "{\"changes\":[") != ENGRAM_OK ||
                eg_buf_append(&detail, changes.p, changes.len) != ENGRAM_OK ||
                eg_buf_puts(&detail, "]}") != ENGRAM_OK)
                rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory writing the audit log");
            else
                rc = eg_audit_text(db, NULL, t.context, t.scope, "extract", t.id, detail.p);
        }
        eg_turn_clear(&t);
    } else if (rc == ENGRAM_NOTFOUND) {
        rc = ENGRAM_OK; /* the turn was erased since: nothing left to do */
    }
    if (rc == ENGRAM_OK)
        rc = db->ops->job_done(db->store, job.rid);
    if (rc == ENGRAM_OK)
        rc = db->ops->commit(db->store);
    if (rc != ENGRAM_OK) {
        /* Undo the partial extraction, then record the failure in its own transaction so
         * the job is retried rather than lost. */
        char why[256];
        snprintf(why, sizeof(why), "%.250s", engram_errmsg(db));
        db->ops->rollback(db->store);
        if (db->ops->begin(db->store, 1) == ENGRAM_OK &&
            (db->ops->job_fail(db->store, job.rid, why, eg_now_ms()) != ENGRAM_OK ||
             db->ops->commit(db->store) != ENGRAM_OK))
            db->ops->rollback(db->store); /* never leave a transaction open on the handle */
    }
    eg_buf_reset(&diff);
    eg_buf_reset(&changes);
    eg_buf_reset(&detail);
    eg_job_clear(&job);
    return rc;
}

int engram_jobs_run(engram *db, int max, int *out_done)
{
    int rc = ENGRAM_OK, done = 0;

    if (!out_done)
        return ENGRAM_MISUSE;
    *out_done = 0;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    while (done < max && (rc = eg_job_run_one(db)) == ENGRAM_OK)
        done++;
    if (rc == ENGRAM_NOTFOUND)
        rc = ENGRAM_OK;
    *out_done = done;
    return eg_leave(db, rc);
}

int engram_stats(engram *db, char **out_json)
{
    int rc;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    rc = db->ops->stats(db->store, out_json);
    if (rc != ENGRAM_OK)
        rc = eg_err_store(db, rc, "stats");
    return eg_leave(db, rc);
}
