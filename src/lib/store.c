/*
 * store.c - the table of storage backends and the row helpers every backend shares.
 * Adding a backend is one file (store_<name>.c) and one row here.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"

static const struct eg_store_ops *const backends[] = {
    &eg_store_pg,     /* postgresql://, postgres:// or a libpq key=value string */
    &eg_store_sqlite, /* last: it accepts any path */
};

const struct eg_store_ops *eg_store_for_uri(const char *uri)
{
    for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
        if (backends[i]->accepts(uri))
            return backends[i];
    }
    return NULL;
}

void eg_session_clear(struct eg_session *s)
{
    free(s->context);
    free(s->scope);
    free(s->metadata);
    memset(s, 0, sizeof(*s));
}

void eg_turn_clear(struct eg_turn *t)
{
    free(t->context);
    free(t->scope);
    free(t->content);
    free(t->metadata);
    memset(t, 0, sizeof(*t));
}

void eg_attr_clear(struct eg_attr *a)
{
    free(a->context);
    free(a->scope);
    free(a->entity_type);
    free(a->entity_name);
    free(a->category);
    free(a->key);
    free(a->value);
    memset(a, 0, sizeof(*a));
}

int eg_attr_copy(struct eg_attr *dst, const struct eg_attr *src)
{
    *dst = *src;
    dst->context = strdup(src->context);
    dst->scope = strdup(src->scope);
    dst->entity_type = strdup(src->entity_type ? src->entity_type : "");
    dst->entity_name = strdup(src->entity_name ? src->entity_name : "");
    dst->category = strdup(src->category);
    dst->key = strdup(src->key);
    dst->value = strdup(src->value);
    if (!dst->context || !dst->scope || !dst->entity_type || !dst->entity_name ||
        !dst->category || !dst->key || !dst->value) {
        eg_attr_clear(dst);
        return ENGRAM_NOMEM;
    }
    return ENGRAM_OK;
}

int eg_attrs_keep(void *arg, const struct eg_attr *a)
{
    struct eg_attrs *l = arg;

    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 8;
        struct eg_attr *v = realloc(l->v, cap * sizeof(*v));
        if (!v)
            return ENGRAM_NOMEM;
        l->v = v;
        l->cap = cap;
    }
    if (eg_attr_copy(&l->v[l->n], a) != ENGRAM_OK)
        return ENGRAM_NOMEM;
    l->n++;
    return ENGRAM_OK;
}

static int category_rank(const char *category)
{
    static const char *const order[] = {"identity", "knowledge", "context", "instructions"};

    for (int i = 0; i < 4; i++)
        if (strcmp(category, order[i]) == 0)
            return i;
    return 4;
}

int eg_attr_key_cmp(const struct eg_attr_key *x, const struct eg_attr_key *y)
{
    int rx = category_rank(x->category), ry = category_rank(y->category), c;

    if (rx != ry)
        return rx < ry ? -1 : 1;
    if (x->confidence != y->confidence)
        return x->confidence > y->confidence ? -1 : 1;
    if (x->valid_from != y->valid_from)
        return x->valid_from > y->valid_from ? -1 : 1;
    c = strcmp(x->id, y->id);
    return c > 0 ? -1 : c < 0;
}

static int attr_order(const void *a, const void *b)
{
    const struct eg_attr *x = a, *y = b;
    struct eg_attr_key kx = {x->category, x->confidence, x->valid_from, x->id},
                       ky = {y->category, y->confidence, y->valid_from, y->id};

    return eg_attr_key_cmp(&kx, &ky);
}

void eg_attrs_sort(struct eg_attrs *l)
{
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(l->v[0]), attr_order);
}

void eg_attrs_free(struct eg_attrs *l)
{
    for (size_t i = 0; i < l->n; i++)
        eg_attr_clear(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

void eg_key_clear(struct eg_key *k)
{
    free(k->context);
    free(k->scope_floor);
    free(k->grants);
    memset(k, 0, sizeof(*k));
}

void eg_job_clear(struct eg_job *j)
{
    free(j->context);
    memset(j, 0, sizeof(*j));
}
