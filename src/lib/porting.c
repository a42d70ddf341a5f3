/*
 * porting.c - moving a scope's memory in and out: export as JSON Lines, import of that
 * format (ids kept, all or nothing), and erase (everything at the scope and every
 * narrower scope, leaving one tombstone in the audit log).
 *
 * "Narrower" is the reverse of floor matching: erase or export at S covers each stored
 * scope T with S a subset of T ("user/alice" covers "org/acme/user/alice"), which is what
 * a person asking to be forgotten expects.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/api_int.h"

#define IMPORT_MAX_LINE (2 * 1024 * 1024)

/* ---- scopes covered ---------------------------------------------------------------------- */

struct covered {
    const char *scope;
    char **v;
    size_t n, cap;
};

static int cover_cb(void *arg, const char *t)
{
    struct covered *c = arg;

    if (engram_scope_within(c->scope, t) != 1)
        return ENGRAM_OK;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        char **v = realloc(c->v, cap * sizeof(*v));
        if (!v)
            return ENGRAM_NOMEM;
        c->v = v;
        c->cap = cap;
    }
    if (!(c->v[c->n] = strdup(t)))
        return ENGRAM_NOMEM;
    c->n++;
    return ENGRAM_OK;
}

static int covered_scopes(engram *db, const char *context, const char *scope,
                          struct covered *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    out->scope = scope;
    rc = db->ops->scopes_list(db->store, context, cover_cb, out);
    if (rc != ENGRAM_OK) {
        eg_scope_list_free(out->v, out->n);
        memset(out, 0, sizeof(*out));
        return rc == ENGRAM_NOMEM ? eg_err(db, rc, NULL, "out of memory")
                                  : eg_err_store(db, rc, "scopes");
    }
    return ENGRAM_OK;
}

/* ---- export ------------------------------------------------------------------------------ */

struct exporter {
    engram *db;
    engram_write_fn write;
    void *arg;
    int failed; /* the writer said stop */
};

static int emit(struct exporter *x, const char *type, json_t *o)
{
    char *line;
    int rc = ENGRAM_OK;

    if (!o)
        return ENGRAM_NOMEM;
    json_object_set_new(o, "type", json_string(type));
    line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(o);
    if (!line)
        return ENGRAM_NOMEM;
    {
        size_t n = strlen(line);
        char *with_nl = realloc(line, n + 2);
        if (!with_nl) {
            free(line);
            return ENGRAM_NOMEM;
        }
        line = with_nl;
        line[n] = '\n';
        line[n + 1] = '\0';
        if (x->write(x->arg, line, n + 1) != 0) {
            x->failed = 1;
            rc = ENGRAM_ERROR;
        }
    }
    free(line);
    return rc;
}

static int ex_session(void *arg, const struct eg_session *s)
{
    return emit(arg, "session", eg_session_json(s, -1));
}

static int ex_entity(void *arg, const struct eg_entity *e)
{
    return emit(arg, "entity",
                json_pack("{s:s, s:o, s:s, s:s, s:o}", "id", e->id, "scope",
                          eg_scope_to_json(e->scope), "entity_type", e->type, "name", e->name,
                          "created_at", eg_json_time(e->created_at)));
}

static int ex_turn(void *arg, const struct eg_turn *t, double score)
{
    json_t *o = eg_turn_json(t);

    (void)score;
    if (o) {
        json_object_set_new(o, "recorded_at", eg_json_time(t->recorded_at));
        json_object_del(o, "context");
    }
    return emit(arg, "turn", o);
}

static int ex_attr(void *arg, const struct eg_attr *a)
{
    json_t *o = eg_attr_json(a);

    if (o)
        json_object_set_new(o, "entity_id", json_string(a->entity_id));
    return emit(arg, "attribute", o);
}

static int ex_audit(void *arg, const struct eg_audit *a)
{
    return emit(arg, "audit", eg_audit_json(a));
}

int engram_export(engram *db, const engram_call *call, const char *context,
                  const char *req_json, engram_write_fn write, void *arg)
{
    struct exporter x = {db, write, arg, 0};
    struct covered cov = {0};
    json_t *req = NULL;
    char *scope = NULL;
    int rc, in_tx = 0;

    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    if (!write)
        return eg_leave(db, eg_err(db, ENGRAM_MISUSE, NULL, "export needs a write function"));
    if ((rc = eg_req_open(db, call, context, NULL, req_json, &req, &scope, NULL, NULL)) !=
            ENGRAM_OK)
        goto cleanup;
    /* One read transaction: the export is a consistent snapshot. */
    if ((rc = eg_tx_begin(db, 0)) != ENGRAM_OK)
        goto cleanup;
    in_tx = 1;
    if ((rc = covered_scopes(db, context, scope, &cov)) != ENGRAM_OK)
        goto cleanup;
    for (size_t i = 0; rc == ENGRAM_OK && i < cov.n; i++) {
        const char *t = cov.v[i];
        struct eg_attr_filter f = {0};
        f.context = context;
        f.scopes = &t;
        f.nscopes = 1;
        f.include_expired = 1;
        rc = db->ops->sessions_in_scope(db->store, context, t, ex_session, &x);
        if (rc == ENGRAM_OK)
            rc = db->ops->entities_in_scope(db->store, context, t, ex_entity, &x);
        if (rc == ENGRAM_OK)
            rc = db->ops->turns_list(db->store, context, NULL, t, INT64_MIN, 0, ex_turn, &x);
        if (rc == ENGRAM_OK)
            rc = db->ops->attrs_query(db->store, &f, ex_attr, &x);
        if (rc == ENGRAM_OK)
            rc = db->ops->audit_in_scope(db->store, context, t, ex_audit, &x);
    }
    if (rc != ENGRAM_OK)
        rc = x.failed ? eg_err(db, ENGRAM_ERROR, NULL, "export stopped: the writer failed")
             : rc == ENGRAM_NOMEM ? eg_err(db, rc, NULL, "out of memory")
                                  : eg_err_store(db, rc, "export");
cleanup:
    if (in_tx)
        db->ops->rollback(db->store); /* read-only: nothing to keep */
    eg_scope_list_free(cov.v, cov.n);
    free(scope);
    json_decref(req);
    return eg_leave(db, rc);
}

/* ---- import ------------------------------------------------------------------------------ */

struct importer {
    engram *db;
    const engram_call *call;
    const char *context;
    json_t *entity_ids; /* exported entity id -> id in this store */
    int64_t sessions, turns, entities, attributes, audit;
    size_t line;
};

static int line_err(struct importer *im, int rc, const char *fmt, const char *what)
{
    return eg_err(im->db, rc, "invalid_import", "line %zu: %s%s", im->line, fmt, what ? what : "");
}

static int need_str(struct importer *im, json_t *o, const char *field, const char **out)
{
    *out = json_string_value(json_object_get(o, field));
    if (!*out)
        return line_err(im, ENGRAM_INVALID, "missing string field ", field);
    return ENGRAM_OK;
}

static int need_time(struct importer *im, json_t *o, const char *field, int required,
                     int64_t *out)
{
    json_t *v = json_object_get(o, field);

    *out = 0;
    if (!v || json_is_null(v))
        return required ? line_err(im, ENGRAM_INVALID, "missing time field ", field) : ENGRAM_OK;
    if (!json_is_string(v) || eg_iso_parse(json_string_value(v), out) != 0)
        return line_err(im, ENGRAM_INVALID, "bad ISO-8601 time in ", field);
    return ENGRAM_OK;
}

static int need_id(struct importer *im, json_t *o, const char *field, int required, char *out)
{
    json_t *v = json_object_get(o, field);

    out[0] = '\0';
    if (!v || json_is_null(v))
        return required ? line_err(im, ENGRAM_INVALID, "missing id field ", field) : ENGRAM_OK;
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= EG_ID_MAX)
        return line_err(im, ENGRAM_INVALID, "bad id in ", field);
    memcpy(out, json_string_value(v), json_string_length(v) + 1);
    return ENGRAM_OK;
}

/* Scope of a line: validated, and inside the caller's floor. */
static int line_scope(struct importer *im, json_t *o, char **out)
{
    int rc = eg_scope_from_json(im->db, json_object_get(o, "scope"), out);

    if (rc != ENGRAM_OK) {
        char msg[400];
        snprintf(msg, sizeof(msg), "%s", engram_errmsg(im->db));
        return line_err(im, rc, "", msg);
    }
    rc = eg_check_floor(im->db, im->call, *out);
    if (rc != ENGRAM_OK) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

static char *meta_text(json_t *o)
{
    json_t *m = json_object_get(o, "metadata");
    return json_is_object(m) ? json_dumps(m, JSON_COMPACT) : strdup("{}");
}

static int store_rc(struct importer *im, int rc, const char *what)
{
    if (rc == ENGRAM_CONFLICT)
        return line_err(im, rc, "already in the store: ", what);
    return eg_err(im->db, rc, NULL, "line %zu: %s", im->line, im->db->ops->errmsg(im->db->store));
}

static int im_session(struct importer *im, json_t *o)
{
    struct eg_session s = {0};
    int rc;

    if ((rc = need_id(im, o, "id", 1, s.id)) != ENGRAM_OK ||
        (rc = line_scope(im, o, &s.scope)) != ENGRAM_OK ||
        (rc = need_time(im, o, "created_at", 1, &s.created_at)) != ENGRAM_OK)
        goto cleanup;
    s.context = (char *)im->context;
    if (!(s.metadata = meta_text(o))) {
        rc = eg_err(im->db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    rc = im->db->ops->session_put(im->db->store, &s);
    if (rc != ENGRAM_OK)
        rc = store_rc(im, rc, s.id);
    else
        im->sessions++;
cleanup:
    free(s.scope);
    free(s.metadata);
    return rc;
}

static int im_turn(struct importer *im, json_t *o)
{
    struct eg_turn t = {0};
    const char *role, *content;
    int rc;

    if ((rc = need_id(im, o, "id", 1, t.id)) != ENGRAM_OK ||
        (rc = need_id(im, o, "session_id", 0, t.session_id)) != ENGRAM_OK ||
        (rc = line_scope(im, o, &t.scope)) != ENGRAM_OK ||
        (rc = need_str(im, o, "role", &role)) != ENGRAM_OK ||
        (rc = need_str(im, o, "content", &content)) != ENGRAM_OK ||
        (rc = need_time(im, o, "created_at", 1, &t.created_at)) != ENGRAM_OK ||
        (rc = need_time(im, o, "recorded_at", 0, &t.recorded_at)) != ENGRAM_OK)
        goto cleanup;
    if (strcmp(role, "user") && strcmp(role, "assistant") && strcmp(role, "system") &&
        strcmp(role, "tool")) {
        rc = line_err(im, ENGRAM_INVALID, "bad role ", role);
        goto cleanup;
    }
    snprintf(t.role, sizeof(t.role), "%s", role);
    t.content = (char *)content;
    t.context = (char *)im->context;
    if (!t.recorded_at)
        t.recorded_at = t.created_at;
    if (!(t.metadata = meta_text(o))) {
        rc = eg_err(im->db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    rc = im->db->ops->turn_put(im->db->store, &t);
    if (rc != ENGRAM_OK)
        rc = store_rc(im, rc, t.id);
    else if ((rc = eg_retrieval_index_turn(im->db, &t)) == ENGRAM_OK)
        im->turns++;
cleanup:
    free(t.scope);
    free(t.metadata);
    return rc;
}

static int im_entity(struct importer *im, json_t *o)
{
    struct eg_entity e = {0};
    const char *type, *name;
    char actual[EG_ID_MAX];
    int rc;

    if ((rc = need_id(im, o, "id", 1, e.id)) != ENGRAM_OK ||
        (rc = line_scope(im, o, &e.scope)) != ENGRAM_OK ||
        (rc = need_str(im, o, "entity_type", &type)) != ENGRAM_OK ||
        (rc = need_str(im, o, "name", &name)) != ENGRAM_OK ||
        (rc = need_time(im, o, "created_at", 1, &e.created_at)) != ENGRAM_OK)
        goto cleanup;
    e.context = (char *)im->context;
    e.type = (char *)type;
    e.name = (char *)name;
    rc = im->db->ops->entity_ensure(im->db->store, &e, actual);
    if (rc != ENGRAM_OK) {
        rc = store_rc(im, rc, e.id);
        goto cleanup;
    }
    if (json_object_set_new(im->entity_ids, e.id, json_string(actual))) {
        rc = eg_err(im->db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    im->entities++;
cleanup:
    free(e.scope);
    return rc;
}

static int im_attr(struct importer *im, json_t *o)
{
    struct eg_attr a = {0};
    const char *category, *key, *value, *ent;
    json_t *conf = json_object_get(o, "confidence"), *imp = json_object_get(o, "importance");
    char given[EG_ID_MAX];
    int rc;

    if ((rc = need_id(im, o, "id", 1, a.id)) != ENGRAM_OK ||
        (rc = line_scope(im, o, &a.scope)) != ENGRAM_OK ||
        (rc = need_id(im, o, "entity_id", 1, given)) != ENGRAM_OK ||
        (rc = need_str(im, o, "category", &category)) != ENGRAM_OK ||
        (rc = need_str(im, o, "key", &key)) != ENGRAM_OK ||
        (rc = need_str(im, o, "value", &value)) != ENGRAM_OK ||
        (rc = need_id(im, o, "source_turn", 0, a.source_turn)) != ENGRAM_OK ||
        (rc = need_id(im, o, "supersedes", 0, a.supersedes)) != ENGRAM_OK ||
        (rc = need_time(im, o, "valid_from", 1, &a.valid_from)) != ENGRAM_OK ||
        (rc = need_time(im, o, "valid_until", 0, &a.valid_until)) != ENGRAM_OK ||
        (rc = need_time(im, o, "recorded_at", 0, &a.recorded_at)) != ENGRAM_OK)
        goto cleanup;
    ent = json_string_value(json_object_get(im->entity_ids, given));
    if (!ent) {
        rc = line_err(im, ENGRAM_INVALID, "attribute before its entity line: ", given);
        goto cleanup;
    }
    if (!json_is_number(conf) || !json_is_number(imp)) {
        rc = line_err(im, ENGRAM_INVALID, "confidence and importance must be numbers", NULL);
        goto cleanup;
    }
    snprintf(a.entity_id, sizeof(a.entity_id), "%s", ent);
    a.context = (char *)im->context;
    a.category = (char *)category;
    a.key = (char *)key;
    a.value = (char *)value;
    a.confidence = json_number_value(conf);
    a.importance = json_number_value(imp);
    if (!a.recorded_at)
        a.recorded_at = a.valid_from;
    rc = im->db->ops->attr_put(im->db->store, &a);
    if (rc != ENGRAM_OK)
        rc = store_rc(im, rc, a.id);
    else if ((rc = eg_retrieval_index_attr(im->db, &a)) == ENGRAM_OK)
        im->attributes++;
cleanup:
    free(a.scope);
    return rc;
}

static int im_audit(struct importer *im, json_t *o)
{
    struct eg_audit a = {0};
    const char *actor, *action, *target;
    json_t *detail = json_object_get(o, "detail");
    int rc;

    if ((rc = need_id(im, o, "id", 1, a.id)) != ENGRAM_OK ||
        (rc = line_scope(im, o, &a.scope)) != ENGRAM_OK ||
        (rc = need_time(im, o, "at", 1, &a.at)) != ENGRAM_OK ||
        (rc = need_str(im, o, "actor", &actor)) != ENGRAM_OK ||
        (rc = need_str(im, o, "action", &action)) != ENGRAM_OK ||
        (rc = need_str(im, o, "target", &target)) != ENGRAM_OK)
        goto cleanup;
    a.context = (char *)im->context;
    a.actor = (char *)actor;
    a.action = (char *)action;
    a.target = (char *)target;
    a.request_id = (char *)json_string_value(json_object_get(o, "request_id"));
    a.detail = json_is_object(detail) ? json_dumps(detail, JSON_COMPACT) : strdup("{}");
    if (!a.detail) {
        rc = eg_err(im->db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    rc = im->db->ops->audit_put(im->db->store, &a);
    if (rc != ENGRAM_OK)
        rc = store_rc(im, rc, a.id);
    else
        im->audit++;
cleanup:
    free(a.detail);
    free(a.scope);
    return rc;
}

static int im_line(struct importer *im, const char *text, size_t len)
{
    json_error_t jerr;
    json_t *o = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    const char *type;
    int rc;

    if (!o)
        return line_err(im, ENGRAM_INVALID, "not valid JSON: ", jerr.text);
    type = json_string_value(json_object_get(o, "type"));
    if (!json_is_object(o) || !type)
        rc = line_err(im, ENGRAM_INVALID, "each line must be an object with a \"type\"", NULL);
    else if (!strcmp(type, "session"))
        rc = im_session(im, o);
    else if (!strcmp(type, "turn"))
        rc = im_turn(im, o);
    else if (!strcmp(type, "entity"))
        rc = im_entity(im, o);
    else if (!strcmp(type, "attribute"))
        rc = im_attr(im, o);
    else if (!strcmp(type, "audit"))
        rc = im_audit(im, o);
    else
        rc = line_err(im, ENGRAM_INVALID, "unknown type ", type);
    json_decref(o);
    return rc;
}

int engram_import(engram *db, const engram_call *call, const char *context, const char *jsonl,
                  size_t len, char **out_json)
{
    struct importer im = {0};
    const char *p, *end;
    int rc, in_tx = 0;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    if ((rc = eg_check_context(db, context)) != ENGRAM_OK)
        return eg_leave(db, rc);
    if (!jsonl && len)
        return eg_leave(db, eg_err(db, ENGRAM_MISUSE, NULL, "import: NULL data"));
    im.db = db;
    im.call = eg_call(call);
    im.context = context;
    if (!(im.entity_ids = json_object())) {
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    if ((rc = eg_tx_begin(db, 1)) != ENGRAM_OK)
        goto cleanup;
    in_tx = 1;
    for (p = jsonl, end = jsonl + len; rc == ENGRAM_OK && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        im.line++;
        if (n > IMPORT_MAX_LINE)
            rc = line_err(&im, ENGRAM_TOOBIG, "line too long", NULL);
        else if (n && !(n == 1 && p[0] == '\r'))
            rc = im_line(&im, p, n);
        p += n + 1;
    }
    /* No audit entry of its own: the export carries the scope's audit lines, and adding
     * one would make import(export(S)) differ from S. The lines imported are the record. */
    if (rc == ENGRAM_OK)
        rc = eg_tx_commit(db);
    if (rc != ENGRAM_OK)
        goto cleanup;
    in_tx = 0;
    rc = eg_json_out(db,
                     json_pack("{s:I, s:I, s:I, s:I, s:I}", "sessions", (json_int_t)im.sessions,
                               "turns", (json_int_t)im.turns, "entities",
                               (json_int_t)im.entities, "attributes",
                               (json_int_t)im.attributes, "audit", (json_int_t)im.audit),
                     out_json);
cleanup:
    if (in_tx)
        db->ops->rollback(db->store);
    json_decref(im.entity_ids);
    return eg_leave(db, rc);
}

/* ---- erase ------------------------------------------------------------------------------- */

int engram_erase(engram *db, const engram_call *call, const char *context, const char *req_json,
                 char **out_json)
{
    struct eg_counts counts = {0};
    struct covered cov = {0};
    json_t *req = NULL, *answer = NULL;
    char *scope = NULL;
    int rc, in_tx = 0;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    if ((rc = eg_req_open(db, call, context, NULL, req_json, &req, &scope, NULL, NULL)) !=
            ENGRAM_OK)
        goto cleanup;
    if ((rc = eg_tx_begin(db, 1)) != ENGRAM_OK)
        goto cleanup;
    in_tx = 1;
    if ((rc = covered_scopes(db, context, scope, &cov)) != ENGRAM_OK)
        goto cleanup;
    for (size_t i = 0; rc == ENGRAM_OK && i < cov.n; i++) {
        rc = db->ops->erase_scope(db->store, context, cov.v[i], &counts);
        if (rc != ENGRAM_OK)
            rc = eg_err_store(db, rc, "erase");
    }
    answer = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "scopes", (json_int_t)cov.n, "sessions",
                       (json_int_t)counts.sessions, "turns", (json_int_t)counts.turns,
                       "entities", (json_int_t)counts.entities, "attributes",
                       (json_int_t)counts.attributes, "audit", (json_int_t)counts.audit);
    if (rc == ENGRAM_OK && !answer)
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
    /* The tombstone: who erased what and how much, never the content. */
    if (rc == ENGRAM_OK)
        rc = eg_audit(db, call, context, scope, "erase", "", json_deep_copy(answer));
    if (rc == ENGRAM_OK)
        rc = eg_tx_commit(db);
    if (rc != ENGRAM_OK)
        goto cleanup;
    in_tx = 0;
    rc = eg_json_out(db, answer, out_json);
    answer = NULL;
cleanup:
    if (in_tx)
        db->ops->rollback(db->store);
    json_decref(answer);
    eg_scope_list_free(cov.v, cov.n);
    free(scope);
    json_decref(req);
    return eg_leave(db, rc);
}
