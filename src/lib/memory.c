/*
 * memory.c - reading and retiring what engram knows: the profile (current attributes of
 * the scope floor by category, plus a dense prose summary made without an LLM), the
 * attribute list with supersession chains, forget (retire, never delete) and the audit
 * log. Reads at scope S see every record stored at a subset of S (scope.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lib/api_int.h"
#include "lib/vocab.h"
#include "util/buf.h"

static const char *const categories[] = {"identity", "knowledge", "context", "instructions",
                                         "unknowns"};
#define NCATEGORIES 5

/* ---- attribute arrays -------------------------------------------------------------------- */

struct attrs {
    json_t *arr; /* attribute objects */
};

static int to_json_cb(void *arg, const struct eg_attr *a)
{
    struct attrs *x = arg;
    json_t *o = eg_attr_json(a);

    if (!o || json_array_append_new(x->arr, o))
        return ENGRAM_NOMEM;
    return ENGRAM_OK;
}

static int query_json(engram *db, const struct eg_attr_filter *f, json_t **out)
{
    struct attrs x = {json_array()};
    int rc;

    *out = NULL;
    if (!x.arr)
        return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
    rc = db->ops->attrs_query(db->store, f, to_json_cb, &x);
    if (rc != ENGRAM_OK) {
        json_decref(x.arr);
        return rc == ENGRAM_NOMEM ? eg_err(db, rc, NULL, "out of memory")
                                  : eg_err_store(db, rc, "attributes");
    }
    *out = x.arr;
    return ENGRAM_OK;
}

static const char *str_of(json_t *a, const char *k)
{
    const char *s = json_string_value(json_object_get(a, k));
    return s ? s : "";
}

/* ---- profile summary --------------------------------------------------------------------- */

/* Is this attribute about the scope's user (entity ["Person", user])? */
static int about_user(const struct eg_attr *a, const char *user)
{
    return strcmp(a->entity_type, "Person") == 0 && strcmp(a->entity_name, user) == 0;
}

/* Join up to max values of one key for one entity: "a, b and c". */
static int join_values(struct eg_buf *b, const struct eg_attrs *attrs, const char *key,
                       const char *user, int max)
{
    const char *vals[8];
    int n = 0, rc = ENGRAM_OK;

    for (size_t i = 0; i < attrs->n; i++) {
        const struct eg_attr *a = &attrs->v[i];
        if (n < max && n < 8 && about_user(a, user) && strcmp(a->key, key) == 0) {
            int dup = 0;
            for (int k = 0; k < n; k++)
                dup |= strcasecmp(vals[k], a->value) == 0;
            if (!dup)
                vals[n++] = a->value;
        }
    }
    for (int k = 0; k < n && rc == ENGRAM_OK; k++) {
        if (k)
            rc = eg_buf_puts(b, k == n - 1 ? " and " : ", ");
        if (rc == ENGRAM_OK)
            rc = eg_buf_puts(b, vals[k]);
    }
    return n ? rc : -1;
}

/* Put one phrase ("They live in %s.") with its values; skip when there are none. */
static int phrase(struct eg_buf *out, const struct eg_attrs *attrs,
                  const struct eg_vocab_key *vk, const char *user)
{
    struct eg_buf vals = {0};
    const char *pct = strstr(vk->phrase, "%s");
    int rc = join_values(&vals, attrs, vk->key, user, vk->multi ? 5 : 1);

    if (rc == -1)
        return ENGRAM_OK;
    if (rc == ENGRAM_OK && out->len)
        rc = eg_buf_puts(out, " ");
    if (rc == ENGRAM_OK && pct) {
        rc = eg_buf_append(out, vk->phrase, (size_t)(pct - vk->phrase));
        if (rc == ENGRAM_OK)
            rc = eg_buf_puts(out, vals.p);
        if (rc == ENGRAM_OK)
            rc = eg_buf_puts(out, pct + 2);
    }
    eg_buf_reset(&vals);
    return rc;
}

/*
 * "The user is Alice Chen, Head of Platform at Acme Corp. They prefer TypeScript over
 * JavaScript. They live in London. ..." Identity's name, role and employer fold into the
 * opening sentence; other keys follow in vocabulary order, one sentence each; other
 * people's facts close it; unknowns are for review and stay out of the summary.
 */
static int summarise(const struct eg_attrs *attrs, const char *user, struct eg_buf *b)
{
    struct eg_buf name = {0}, role = {0}, employer = {0};
    const struct eg_vocab_key *all;
    size_t n, i;
    int rc = ENGRAM_OK, have_name, have_role, have_emp;

    have_name = join_values(&name, attrs, "name", user, 1) == ENGRAM_OK;
    have_role = join_values(&role, attrs, "role", user, 1) == ENGRAM_OK;
    have_emp = join_values(&employer, attrs, "employer", user, 1) == ENGRAM_OK;
    if (have_name || have_role || have_emp) {
        if (have_name)
            rc = eg_buf_printf(b, "The user is %s", name.p);
        else if (have_role)
            rc = eg_buf_printf(b, "The user works as %s", role.p);
        else
            rc = eg_buf_printf(b, "The user works at %s", employer.p);
        if (rc == ENGRAM_OK && have_name && have_role)
            rc = eg_buf_printf(b, ", %s", role.p);
        if (rc == ENGRAM_OK && have_emp && (have_name || have_role))
            rc = eg_buf_printf(b, "%s%s", have_role ? " at " : ", who works at ", employer.p);
        if (rc == ENGRAM_OK)
            rc = eg_buf_puts(b, ".");
    }
    eg_buf_reset(&name);
    eg_buf_reset(&role);
    eg_buf_reset(&employer);
    all = eg_vocab_all(&n);
    for (i = 0; rc == ENGRAM_OK && i < n; i++) {
        if (!strcmp(all[i].key, "name") || !strcmp(all[i].key, "role") ||
            !strcmp(all[i].key, "employer") || !strcmp(all[i].category, "unknowns"))
            continue;
        rc = phrase(b, attrs, &all[i], user);
    }
    for (i = 0; rc == ENGRAM_OK && i < attrs->n; i++) {
        const struct eg_attr *a = &attrs->v[i];
        char key[64];

        if (about_user(a, user) || !strcmp(a->category, "unknowns") || !a->entity_name[0])
            continue;
        /* Other people's facts: "Their sister: location Paris." Keys read as words. */
        snprintf(key, sizeof(key), "%s", a->key);
        for (char *p = key; *p; p++)
            *p = *p == '_' ? ' ' : *p;
        rc = eg_buf_printf(b, "%sTheir %s: %s %s.", b->len ? " " : "", a->entity_name, key,
                           a->value);
    }
    return rc;
}

/*
 * The answer {"summary", "attributes": {category: [...]}, "scope", "as_of"}, written as
 * text: a profile is read before every LLM call, and building and dumping a json_t per
 * attribute was most of its cost. The bytes are those json_dumps wrote (tests/unit
 * test_memory compares the attribute objects).
 */
static int profile_answer(const struct eg_attrs *attrs, const char *scope, int64_t as_of,
                          const char *user, char **out)
{
    struct eg_buf b = {0}, summary = {0};
    int rc = summarise(attrs, user, &summary);

    if (rc == ENGRAM_OK && (rc = eg_buf_puts(&b, "{\"summary\":")) == ENGRAM_OK)
        rc = eg_buf_json_strn(&b, summary.p ? summary.p : "", summary.len);
    if (rc == ENGRAM_OK)
        rc = eg_buf_puts(&b, ",\"attributes\":{");
    for (size_t c = 0; rc == ENGRAM_OK && c < NCATEGORIES; c++) {
        int first = 1;

        if ((c && (rc = eg_buf_puts(&b, ",")) != ENGRAM_OK) ||
            (rc = eg_buf_json_str(&b, categories[c])) != ENGRAM_OK ||
            (rc = eg_buf_puts(&b, ":[")) != ENGRAM_OK)
            break;
        for (size_t i = 0; rc == ENGRAM_OK && i < attrs->n; i++) {
            if (strcmp(attrs->v[i].category, categories[c]) != 0)
                continue;
            if (!first)
                rc = eg_buf_puts(&b, ",");
            if (rc == ENGRAM_OK)
                rc = eg_attr_write(&b, &attrs->v[i]);
            first = 0;
        }
        if (rc == ENGRAM_OK)
            rc = eg_buf_puts(&b, "]");
    }
    if (rc == ENGRAM_OK && (rc = eg_buf_puts(&b, "},\"scope\":")) == ENGRAM_OK &&
        (rc = eg_scope_write(&b, scope)) == ENGRAM_OK &&
        (rc = eg_buf_puts(&b, ",\"as_of\":")) == ENGRAM_OK &&
        (rc = eg_buf_json_time(&b, as_of)) == ENGRAM_OK)
        rc = eg_buf_puts(&b, "}");
    eg_buf_reset(&summary);
    *out = rc == ENGRAM_OK ? eg_buf_detach(&b) : NULL;
    eg_buf_reset(&b);
    return rc == ENGRAM_OK && !*out ? ENGRAM_NOMEM : rc;
}

int engram_profile_get(engram *db, const engram_call *call, const char *context,
                       const char *req_json, char **out_json)
{
    struct eg_attr_filter f = {0};
    struct eg_attrs attrs = {0};
    json_t *req = NULL;
    char *scope = NULL, **scopes = NULL, *user = NULL;
    size_t nscopes = 0;
    int64_t as_of = 0;
    int rc;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    if ((rc = eg_req_open(db, call, context, NULL, req_json, &req, &scope, &scopes,
                            &nscopes)) != ENGRAM_OK ||
        (rc = eg_req_time(db, req, "as_of", &as_of)) != ENGRAM_OK)
        goto cleanup;
    f.context = context;
    f.scopes = (const char *const *)scopes;
    f.nscopes = nscopes;
    f.as_of = as_of;
    f.limit = 500; /* a profile is a prompt fragment, not an export */
    rc = db->ops->attrs_query(db->store, &f, eg_attrs_keep, &attrs);
    if (rc != ENGRAM_OK) {
        rc = rc == ENGRAM_NOMEM ? eg_err(db, rc, NULL, "out of memory")
                                : eg_err_store(db, rc, "attributes");
        goto cleanup;
    }
    user = eg_scope_dim(scope, "user");
    if (profile_answer(&attrs, scope, as_of, user ? user : "user", out_json) != ENGRAM_OK)
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
cleanup:
    free(user);
    eg_attrs_free(&attrs);
    eg_scope_list_free(scopes, nscopes);
    free(scope);
    json_decref(req);
    return eg_leave(db, rc);
}

/* ---- attributes with chains -------------------------------------------------------------- */

int engram_attributes_list(engram *db, const engram_call *call, const char *context,
                           const char *req_json, char **out_json)
{
    struct eg_attr_filter f = {0};
    json_t *req = NULL, *all = NULL, *byid = NULL, *out = NULL, *a;
    char *scope = NULL, **scopes = NULL;
    const char *key, *category;
    size_t nscopes = 0, i;
    int64_t as_of = 0;
    int rc, include_expired;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    if ((rc = eg_req_open(db, call, context, NULL, req_json, &req, &scope, &scopes,
                            &nscopes)) != ENGRAM_OK ||
        (rc = eg_req_bool(db, req, "include_expired", 0, &include_expired)) != ENGRAM_OK ||
        (rc = eg_req_str(db, req, "key", 0, &key)) != ENGRAM_OK ||
        (rc = eg_req_str(db, req, "category", 0, &category)) != ENGRAM_OK ||
        (rc = eg_req_time(db, req, "as_of", &as_of)) != ENGRAM_OK)
        goto cleanup;
    /* Read the whole history once; chains are walked in memory through "supersedes". */
    f.context = context;
    f.scopes = (const char *const *)scopes;
    f.nscopes = nscopes;
    f.key = key;
    f.category = category;
    f.include_expired = 1;
    if ((rc = query_json(db, &f, &all)) != ENGRAM_OK)
        goto cleanup;
    byid = json_object();
    out = json_array();
    if (!byid || !out) {
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    json_array_foreach(all, i, a) json_object_set(byid, str_of(a, "id"), a);
    json_array_foreach(all, i, a)
    {
        json_t *chain, *o, *prev;
        const char *until = json_string_value(json_object_get(a, "valid_until"));
        const char *from = str_of(a, "valid_from");
        int show;
        if (as_of) {
            int64_t f_ms = 0, u_ms = 0;
            eg_iso_parse(from, &f_ms);
            if (until)
                eg_iso_parse(until, &u_ms);
            show = f_ms <= as_of && (!until || u_ms > as_of);
        } else {
            show = include_expired || !until;
        }
        if (!show)
            continue;
        chain = json_array();
        o = json_deep_copy(a);
        if (!chain || !o) {
            json_decref(chain);
            json_decref(o);
            rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
            goto cleanup;
        }
        /* Walk back; the length bound guards against a cycle in imported data. */
        prev = json_object_get(byid, str_of(a, "supersedes"));
        for (int hops = 0; prev && hops < 1000; hops++) {
            json_array_append(chain, prev);
            prev = json_object_get(byid, str_of(prev, "supersedes"));
        }
        json_object_set_new(o, "chain", chain);
        json_array_append_new(out, o);
    }
    rc = eg_json_out(db, json_pack("{s:O}", "attributes", out), out_json);
cleanup:
    json_decref(out);
    json_decref(byid);
    json_decref(all);
    eg_scope_list_free(scopes, nscopes);
    free(scope);
    json_decref(req);
    return eg_leave(db, rc);
}

/* ---- forget ------------------------------------------------------------------------------ */

static int is_category(const char *c)
{
    for (int i = 0; i < NCATEGORIES; i++) {
        if (strcmp(c, categories[i]) == 0)
            return 1;
    }
    return 0;
}

int engram_forget(engram *db, const engram_call *call, const char *context,
                  const char *req_json, char **out_json)
{
    struct eg_attr_filter f = {0};
    json_t *req = NULL, *hits = NULL, *a;
    char *scope = NULL, **scopes = NULL;
    const char *etype, *ename, *key, *category;
    size_t nscopes = 0, i;
    int rc, dry_run, in_tx = 0;
    int64_t now = eg_now_ms();

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    /* Forget acts on what a read at this scope sees: what the caller can see here is what
     * they can retire. */
    if ((rc = eg_req_open(db, call, context, NULL, req_json, &req, &scope, &scopes,
                          &nscopes)) != ENGRAM_OK ||
        (rc = eg_req_str(db, req, "entity_type", 0, &etype)) != ENGRAM_OK ||
        (rc = eg_req_str(db, req, "entity_name", 0, &ename)) != ENGRAM_OK ||
        (rc = eg_req_str(db, req, "attribute_key", 0, &key)) != ENGRAM_OK ||
        (rc = eg_req_str(db, req, "category", 0, &category)) != ENGRAM_OK ||
        (rc = eg_req_bool(db, req, "dry_run", 0, &dry_run)) != ENGRAM_OK)
        goto cleanup;
    if (!etype && !ename && !key && !category) {
        rc = eg_err(db, ENGRAM_INVALID, "invalid_field",
                    "forget needs a selector: entity_type/entity_name, attribute_key or "
                    "category (use erase to delete a whole scope)");
        goto cleanup;
    }
    if (category && !is_category(category)) {
        rc = eg_err(db, ENGRAM_INVALID, "invalid_field",
                    "field 'category' must be identity, knowledge, context, instructions or "
                    "unknowns");
        goto cleanup;
    }
    f.context = context;
    f.scopes = (const char *const *)scopes;
    f.nscopes = nscopes;
    f.entity_type = etype;
    f.entity_name = ename;
    f.key = key;
    f.category = category;
    if (!dry_run) {
        if ((rc = eg_tx_begin(db, 1)) != ENGRAM_OK)
        goto cleanup;
        in_tx = 1;
    }
    if ((rc = query_json(db, &f, &hits)) != ENGRAM_OK)
        goto cleanup;
    json_array_foreach(hits, i, a)
    {
        if (dry_run)
            continue;
        rc = db->ops->attr_close(db->store, str_of(a, "id"), now);
        if (rc != ENGRAM_OK) {
            rc = eg_err_store(db, rc, "forget");
            goto cleanup;
        }
        json_object_set_new(a, "valid_until", eg_json_time(now));
    }
    if (!dry_run) {
        rc = eg_audit(db, call, context, scope, "forget", "",
                      json_pack("{s:o, s:o, s:o, s:o, s:I}", "entity_type",
                                etype ? json_string(etype) : json_null(), "entity_name",
                                ename ? json_string(ename) : json_null(), "attribute_key",
                                key ? json_string(key) : json_null(), "category",
                                category ? json_string(category) : json_null(), "expired",
                                (json_int_t)json_array_size(hits)));
        if (rc == ENGRAM_OK)
            rc = eg_tx_commit(db);
        if (rc != ENGRAM_OK)
            goto cleanup;
        in_tx = 0;
    }
    rc = eg_json_out(db,
                     json_pack("{s:I, s:b, s:O}", "expired", (json_int_t)json_array_size(hits),
                               "dry_run", dry_run, "attributes", hits),
                     out_json);
cleanup:
    if (in_tx)
        db->ops->rollback(db->store);
    json_decref(hits);
    eg_scope_list_free(scopes, nscopes);
    free(scope);
    json_decref(req);
    return eg_leave(db, rc);
}

/* ---- audit ------------------------------------------------------------------------------- */

static int audit_cb(void *arg, const struct eg_audit *a)
{
    json_t *o = eg_audit_json(a);
    return o && !json_array_append_new(arg, o) ? ENGRAM_OK : ENGRAM_NOMEM;
}

int engram_audit_list(engram *db, const engram_call *call, const char *context,
                      const char *req_json, char **out_json)
{
    json_t *req = NULL, *entries = NULL;
    char *scope = NULL, **scopes = NULL;
    size_t nscopes = 0;
    int64_t limit;
    int rc;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    if ((rc = eg_req_open(db, call, context, NULL, req_json, &req, &scope, &scopes,
                            &nscopes)) != ENGRAM_OK ||
        (rc = eg_req_int(db, req, "limit", 1, 10000, 100, &limit)) != ENGRAM_OK)
        goto cleanup;
    if (!(entries = json_array())) {
        rc = eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        goto cleanup;
    }
    rc = db->ops->audit_list(db->store, context, (const char *const *)scopes, nscopes,
                             (int)limit, audit_cb, entries);
    if (rc != ENGRAM_OK) {
        rc = eg_err_store(db, rc, "audit");
        goto cleanup;
    }
    rc = eg_json_out(db, json_pack("{s:O}", "entries", entries), out_json);
cleanup:
    json_decref(entries);
    eg_scope_list_free(scopes, nscopes);
    free(scope);
    json_decref(req);
    return eg_leave(db, rc);
}
