/*
 * resolve.c - what an extracted fact does to memory. For each fact of a user turn:
 *   assert, single-valued key: same value -> unchanged (confidence rises); a different
 *     value -> the old record is closed (valid_until) and a new one opens pointing back
 *     (supersedes), "updated"; a low-confidence contradiction is flagged into unknowns
 *     instead of overwriting a confident fact;
 *   assert, multi-valued key: a new value is added beside the others; a repeat is unchanged;
 *   negate: the matching active record(s) are closed, "expired";
 *   hedge: recorded under category unknowns for review, "flagged".
 * Nothing is ever overwritten in place, so every value keeps its chain. Runs inside the
 * caller's transaction; the caller audits the changes (in its turn's or job's entry).
 */
#include <stdlib.h>
#include <string.h>

#include "lib/extract.h"
#include "lib/internal.h"
#include "lib/vocab.h"
#include "util/buf.h"

/* Below this, a new value does not displace a confident existing one. */
#define CONTRADICTION_FLOOR 0.5

/* Equal ignoring ASCII case only, as SQLite's lower() compares; strcasecmp would also
 * fold other bytes under a single-byte locale an embedding application may set. */
static int ascii_caseeq(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char x = (unsigned char)*a, y = (unsigned char)*b;

        if (x >= 'A' && x <= 'Z')
            x = (unsigned char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (unsigned char)(y - 'A' + 'a');
        if (x != y)
            return 0;
        if (!x)
            return 1;
    }
}

struct ctx {
    engram *db;
    const struct eg_turn *turn;
    struct eg_buf *diff;    /* the diff's objects as JSON text, comma-separated */
    struct eg_buf *changes; /* the objects of those that changed the store, likewise */
    const struct eg_item_vecs *vecs; /* the applied fact's precomputed vectors (value,
                                      * previous value), or NULL */
};

/* Record one fact's outcome: its object in the diff and, when it changed the store, in the
 * changes the caller audits (one audit entry per turn or job, not per fact: each entry cost
 * an index descent and a row in the ingest leader's serial section). Written as JSON text
 * directly, as jansson would write it. */
static int note(struct ctx *c, const char *action, const char *etype, const char *ename,
                const char *category, const char *key, const char *value, const char *prev,
                const char *attr_id, int changed)
{
    struct eg_buf *out[2] = {c->diff, changed ? c->changes : NULL};
    size_t start = c->diff->len + (c->diff->len ? 1 : 0);
    int rc;

    if ((c->diff->len && (rc = eg_buf_puts(c->diff, ",")) != ENGRAM_OK) ||
        (rc = eg_buf_puts(c->diff, "{\"action\":")) != ENGRAM_OK ||
        (rc = eg_buf_json_str(c->diff, action)) != ENGRAM_OK ||
        (rc = eg_buf_puts(c->diff, ",\"entity\":[")) != ENGRAM_OK ||
        (rc = eg_buf_json_str(c->diff, etype)) != ENGRAM_OK ||
        (rc = eg_buf_puts(c->diff, ",")) != ENGRAM_OK ||
        (rc = eg_buf_json_str(c->diff, ename)) != ENGRAM_OK ||
        (rc = eg_buf_puts(c->diff, "],\"category\":")) != ENGRAM_OK ||
        (rc = eg_buf_json_str(c->diff, category)) != ENGRAM_OK ||
        (rc = eg_buf_puts(c->diff, ",\"key\":")) != ENGRAM_OK ||
        (rc = eg_buf_json_str(c->diff, key)) != ENGRAM_OK ||
        (rc = eg_buf_puts(c->diff, ",\"value\":")) != ENGRAM_OK ||
        (rc = eg_buf_json_str(c->diff, value)) != ENGRAM_OK ||
        (rc = eg_buf_puts(c->diff, ",\"previous_value\":")) != ENGRAM_OK ||
        (rc = eg_buf_json_str(c->diff, prev)) != ENGRAM_OK ||
        (rc = eg_buf_puts(c->diff, ",\"attribute_id\":")) != ENGRAM_OK ||
        (rc = eg_buf_json_str(c->diff, attr_id)) != ENGRAM_OK ||
        (rc = eg_buf_puts(c->diff, "}")) != ENGRAM_OK ||
        (out[1] && ((out[1]->len && (rc = eg_buf_puts(out[1], ",")) != ENGRAM_OK) ||
                    (rc = eg_buf_append(out[1], c->diff->p + start, c->diff->len - start)) !=
                        ENGRAM_OK)))
        return eg_err(c->db, ENGRAM_NOMEM, NULL, "out of memory writing the diff");
    return ENGRAM_OK;
}

static int put_attr(struct ctx *c, const char *entity_id, const struct eg_fact *f,
                    const char *category, const char *value, double importance,
                    int64_t valid_from, int64_t valid_until, const char *supersedes,
                    char *out_id)
{
    struct eg_attr a = {0};
    int rc;

    eg_id_new(c->db, "attr", a.id);
    a.context = c->turn->context;
    a.scope = c->turn->scope;
    snprintf(a.entity_id, sizeof(a.entity_id), "%s", entity_id);
    a.category = (char *)category;
    a.key = (char *)f->key;
    a.value = (char *)value;
    a.confidence = f->confidence > 0 ? f->confidence : 0.7;
    a.importance = importance;
    snprintf(a.source_turn, sizeof(a.source_turn), "%s", c->turn->id);
    a.valid_from = valid_from;
    a.valid_until = valid_until;
    a.recorded_at = eg_now_ms();
    if (supersedes)
        snprintf(a.supersedes, sizeof(a.supersedes), "%s", supersedes);
    rc = c->db->ops->attr_put(c->db->store, &a);
    if (rc != ENGRAM_OK)
        return eg_err_store(c->db, rc, "attribute");
    /* Vectors made before the write lock (ingest) are for the fact's value and previous
     * value, which is all an attribute of this fact can hold. */
    if (c->vecs && value == f->value)
        rc = eg_retrieval_put_attr(c->db, &a, &c->vecs[0]);
    else if (c->vecs && value == f->previous_value)
        rc = eg_retrieval_put_attr(c->db, &a, &c->vecs[1]);
    else
        rc = eg_retrieval_index_attr(c->db, &a);
    if (rc != ENGRAM_OK)
        return rc;
    memcpy(out_id, a.id, EG_ID_MAX);
    return ENGRAM_OK;
}

static int active(struct ctx *c, const char *entity_id, const char *key, const char *category,
                  const char *value, struct eg_attrs *out)
{
    const char *scope = c->turn->scope;
    struct eg_attr_filter f = {0};
    int rc;

    f.context = c->turn->context;
    f.scopes = &scope;
    f.nscopes = 1;
    f.entity_id = entity_id;
    f.key = key;
    f.category = category;
    f.value = value;
    /* Sorted here: the store's ORDER BY (a temporary b-tree) cost 40% of this read, which
     * runs once per fact inside the ingest leader's serial section. */
    f.unordered = 1;
    rc = c->db->ops->attrs_query(c->db->store, &f, eg_attrs_keep, out);
    if (rc == ENGRAM_OK)
        eg_attrs_sort(out);
    if (rc == ENGRAM_NOMEM)
        return eg_err(c->db, rc, NULL, "out of memory");
    return rc == ENGRAM_OK ? rc : eg_err_store(c->db, rc, "attributes");
}

void eg_ent_memo_reset(struct eg_ent_memo *m)
{
    for (unsigned i = 0; i < EG_ENT_MEMO; i++)
        free(m->v[i].key);
    memset(m, 0, sizeof(*m));
}

/* The entity's id: from db->ent_memo when the ingest leader has one, else from the store
 * (and remembered). */
static int entity_id_for(struct ctx *c, struct eg_entity *e, char *out_id)
{
    struct eg_ent_memo *m = c->db->ent_memo;
    char *key = NULL;
    int rc;

    if (m) {
        size_t lc = strlen(e->context), ls = strlen(e->scope), lt = strlen(e->type),
               ln = strlen(e->name);

        /* Out of memory only skips the memo. */
        if ((key = malloc(lc + ls + lt + ln + 4))) {
            char *p = key;
            memcpy(p, e->context, lc), p += lc, *p++ = '\x1f';
            memcpy(p, e->scope, ls), p += ls, *p++ = '\x1f';
            memcpy(p, e->type, lt), p += lt, *p++ = '\x1f';
            memcpy(p, e->name, ln + 1);
            for (unsigned i = 0; i < EG_ENT_MEMO; i++) {
                if (m->v[i].key && strcmp(m->v[i].key, key) == 0) {
                    memcpy(out_id, m->v[i].id, EG_ID_MAX);
                    free(key);
                    return ENGRAM_OK;
                }
            }
        }
    }
    eg_id_new(c->db, "ent", e->id);
    rc = c->db->ops->entity_ensure(c->db->store, e, out_id);
    if (rc == ENGRAM_OK && key) {
        unsigned slot = m->next++ % EG_ENT_MEMO;

        free(m->v[slot].key);
        m->v[slot].key = key;
        memcpy(m->v[slot].id, out_id, EG_ID_MAX);
        key = NULL;
    }
    free(key);
    return rc;
}

static int apply(struct ctx *c, const struct eg_fact *f, const char *user)
{
    const struct eg_vocab_key *vk = eg_vocab_find(f->key);
    const char *etype = f->entity_type ? f->entity_type : "Person";
    const char *ename = f->entity_name ? f->entity_name : user;
    const char *category = f->op == EG_FACT_HEDGE ? "unknowns"
                           : f->category          ? f->category
                           : vk                   ? vk->category
                                                  : "unknowns";
    double importance = vk ? vk->importance : 0.5;
    int multi = vk ? vk->multi : 1;
    int64_t from = f->valid_from ? f->valid_from : c->turn->created_at;
    struct eg_entity e = {0};
    struct eg_attrs same = {0}, cur = {0};
    char entity_id[EG_ID_MAX], id[EG_ID_MAX];
    int rc;

    if (!f->key || (f->op != EG_FACT_NEGATE && (!f->value || !*f->value)))
        return ENGRAM_OK; /* an extractor bug must not become a bad record */
    e.context = c->turn->context;
    e.scope = c->turn->scope;
    e.type = (char *)etype;
    e.name = (char *)ename;
    e.created_at = c->turn->created_at;
    rc = entity_id_for(c, &e, entity_id);
    if (rc != ENGRAM_OK)
        return eg_err_store(c->db, rc, "entity");

    if (f->op == EG_FACT_NEGATE) {
        rc = active(c, entity_id, f->key, NULL, f->value, &cur);
        for (size_t i = 0; rc == ENGRAM_OK && i < cur.n; i++) {
            if (strcmp(cur.v[i].category, "unknowns") == 0)
                continue;
            rc = c->db->ops->attr_close(c->db->store, cur.v[i].id, from);
            if (rc != ENGRAM_OK)
                rc = eg_err_store(c->db, rc, "attribute");
            else
                rc = note(c, "expired", etype, ename, cur.v[i].category, f->key, cur.v[i].value,
                          NULL, cur.v[i].id, 1);
        }
        goto cleanup;
    }

    /* A repeat of what is already known (in this category) is "unchanged". For a
     * single-valued key one read of its active values answers both that and what a new
     * value supersedes, in the store's order (most confident and most recent first); the
     * value comparison is ASCII case-insensitive like the store's lower(). A multi-valued
     * key can hold many values, so it asks the store for this one only. */
    if (multi) {
        rc = active(c, entity_id, f->key, category, f->value, &same);
    } else {
        rc = active(c, entity_id, f->key, category, NULL, &cur);
        for (size_t i = 0; rc == ENGRAM_OK && i < cur.n; i++) {
            if (ascii_caseeq(cur.v[i].value, f->value) && eg_attrs_keep(&same, &cur.v[i]) != ENGRAM_OK)
                rc = eg_err(c->db, ENGRAM_NOMEM, NULL, "out of memory");
        }
    }
    if (rc != ENGRAM_OK)
        goto cleanup;
    if (same.n) {
        struct eg_attr *a = &same.v[0];
        double conf = a->confidence > f->confidence ? a->confidence : f->confidence;
        conf = conf + 0.05 > 0.99 ? 0.99 : conf + 0.05;
        /* At the ceiling a repeat changes nothing: the diff still says "unchanged", but
         * there is no mutation to write or to audit (a user restating a fact every turn
         * cost a row update and an audit entry each time). */
        if (conf <= a->confidence) { /* (an imported 1.0 is not lowered either) */
            rc = note(c, "unchanged", etype, ename, category, f->key, a->value, NULL, a->id, 0);
            goto cleanup;
        }
        rc = c->db->ops->attr_set_confidence(c->db->store, a->id, conf);
        if (rc != ENGRAM_OK)
            rc = eg_err_store(c->db, rc, "attribute");
        else
            rc = note(c, "unchanged", etype, ename, category, f->key, a->value, NULL, a->id, 1);
        goto cleanup;
    }
    if (f->op == EG_FACT_HEDGE) {
        rc = put_attr(c, entity_id, f, "unknowns", f->value, importance * 0.5, from,
                      f->valid_until, NULL, id);
        if (rc == ENGRAM_OK)
            rc = note(c, "flagged", etype, ename, "unknowns", f->key, f->value, NULL, id, 1);
        goto cleanup;
    }
    if (multi) {
        rc = put_attr(c, entity_id, f, category, f->value, importance, from, f->valid_until,
                      NULL, id);
        if (rc == ENGRAM_OK)
            rc = note(c, "added", etype, ename, category, f->key, f->value, NULL, id, 1);
        goto cleanup;
    }
    if (cur.n == 0 && f->previous_value && *f->previous_value &&
        !ascii_caseeq(f->previous_value, f->value)) {
        /* "I just moved from Berlin to London" about a user we knew nothing of: the text
         * itself dates Berlin's end, so record it closed and chain London to it. Its start
         * is unknown; the record spans no time, so as_of reads never claim it. */
        char prev[EG_ID_MAX];
        rc = put_attr(c, entity_id, f, category, f->previous_value, importance, from, from, NULL,
                      prev);
        if (rc == ENGRAM_OK)
            rc = put_attr(c, entity_id, f, category, f->value, importance, from, f->valid_until,
                          prev, id);
        if (rc == ENGRAM_OK)
            rc = note(c, "updated", etype, ename, category, f->key, f->value, f->previous_value,
                      id, 1);
        goto cleanup;
    }
    if (cur.n == 0) {
        rc = put_attr(c, entity_id, f, category, f->value, importance, from, f->valid_until,
                      NULL, id);
        if (rc == ENGRAM_OK)
            rc = note(c, "added", etype, ename, category, f->key, f->value, NULL, id, 1);
        goto cleanup;
    }
    if (f->confidence < CONTRADICTION_FLOOR && cur.v[0].confidence >= CONTRADICTION_FLOOR) {
        /* A weak statement against a confident fact: keep the fact, flag the doubt. */
        rc = put_attr(c, entity_id, f, "unknowns", f->value, importance * 0.5, from, 0, NULL, id);
        if (rc == ENGRAM_OK)
            rc = note(c, "flagged", etype, ename, "unknowns", f->key, f->value, cur.v[0].value,
                      id, 1);
        goto cleanup;
    }
    if (from < cur.v[0].valid_from) {
        /* An older statement arriving late (history import): it is history, not news. */
        rc = put_attr(c, entity_id, f, category, f->value, importance, from,
                      cur.v[0].valid_from, NULL, id);
        if (rc == ENGRAM_OK)
            rc = note(c, "expired", etype, ename, category, f->key, f->value, NULL, id, 1);
        goto cleanup;
    }
    /* The supersession: close every active value (normally one), open the new one. */
    for (size_t i = 0; rc == ENGRAM_OK && i < cur.n; i++) {
        rc = c->db->ops->attr_close(c->db->store, cur.v[i].id, from);
        if (rc != ENGRAM_OK)
            rc = eg_err_store(c->db, rc, "attribute");
    }
    if (rc == ENGRAM_OK)
        rc = put_attr(c, entity_id, f, category, f->value, importance, from, f->valid_until,
                      cur.v[0].id, id);
    if (rc == ENGRAM_OK)
        rc = note(c, "updated", etype, ename, category, f->key, f->value, cur.v[0].value, id, 1);
cleanup:
    eg_attrs_free(&same);
    eg_attrs_free(&cur);
    return rc;
}

int eg_resolve_facts(engram *db, const struct eg_turn *turn, const struct eg_facts *facts,
                     const struct eg_item_vecs *vecs, struct eg_buf *diff,
                     struct eg_buf *changes)
{
    struct ctx c = {db, turn, diff, changes, NULL};
    char *user;
    int rc = ENGRAM_OK;

    /* The user entity is named by the scope's "user" dimension, as the seeds show
     * (entity ["Person","alice"] for scope {"user":"alice"}). */
    user = eg_scope_dim(turn->scope, "user");
    for (size_t i = 0; rc == ENGRAM_OK && i < facts->n; i++) {
        c.vecs = vecs ? &vecs[2 * i] : NULL;
        rc = apply(&c, &facts->v[i], user ? user : "user");
    }
    free(user);
    return rc;
}

int eg_extract_turn(engram *db, const struct eg_turn *turn, struct eg_facts *out)
{
    int rc;

    memset(out, 0, sizeof(*out));
    if (strcmp(turn->role, "user") != 0)
        return ENGRAM_OK; /* assistant, system and tool turns never carry the user's facts */
    rc = eg_extract_rules(turn->content, strlen(turn->content), turn->role, turn->created_at,
                          out);
    if (rc != ENGRAM_OK) {
        eg_facts_free(out);
        return eg_err(db, rc, NULL, "extraction failed: %s", engram_errstr(rc));
    }
    return ENGRAM_OK;
}

int eg_resolve_turn(engram *db, const struct eg_turn *turn, struct eg_buf *diff,
                    struct eg_buf *changes)
{
    struct eg_facts facts;
    int rc = eg_extract_turn(db, turn, &facts);

    if (rc == ENGRAM_OK)
        rc = eg_resolve_facts(db, turn, &facts, NULL, diff, changes);
    eg_facts_free(&facts);
    return rc;
}
