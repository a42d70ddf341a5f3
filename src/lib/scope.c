/*
 * scope.c - scopes: parsing the object and path forms, the canonical path, and floor
 * matching (DESIGN.md section 2).
 *
 * A scope is 1-8 dimensions name=value. Names are [a-z0-9_]{1,32}; values are 1-256 bytes
 * of UTF-8 without '/' or control characters. The canonical form is the path with the
 * dimensions sorted by name ("org/acme/user/alice"); since neither names nor values hold
 * '/', the path splits back unambiguously. A read at S sees what was stored at T when
 * T is a subset of S, so the read enumerates S's non-empty subsets (at most 255) and the
 * store matches them exactly: an index lookup per subset instead of a scan.
 */
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"
#include "util/buf.h"

struct dim {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
};

/* Length of one valid UTF-8 sequence at p (max n bytes), or 0 when invalid. Rejects
 * overlong forms, surrogates and code points above U+10FFFF. */
static size_t utf8_seq(const unsigned char *p, size_t n, unsigned *out_cp)
{
    unsigned cp;
    size_t len;

    if (p[0] < 0x80) {
        *out_cp = p[0];
        return 1;
    }
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        len = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        len = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        len = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    *out_cp = cp;
    return len;
}

/* Printable excerpt of untrusted bytes for an error message. */
static void excerpt(const char *s, size_t n, char *out, size_t outlen)
{
    size_t j = 0;

    for (size_t i = 0; i < n && j + 4 < outlen; i++) {
        unsigned char c = (unsigned char)s[i];
        out[j++] = (c >= 0x20 && c < 0x7f && c != '\'') ? (char)c : '?';
    }
    if (n > outlen - 4 && j + 4 <= outlen) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    out[j] = '\0';
}

static int check_dim(engram *db, const struct dim *d)
{
    char shown[40];
    const unsigned char *v = (const unsigned char *)d->value;

    excerpt(d->name, d->name_len, shown, sizeof(shown));
    if (d->name_len < 1 || d->name_len > 32)
        return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                      "scope dimension name '%s': use 1-32 characters of a-z, 0-9 and _",
                      shown);
    for (size_t i = 0; i < d->name_len; i++) {
        char c = d->name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                          "scope dimension name '%s': use 1-32 characters of a-z, 0-9 and _",
                          shown);
    }
    if (d->value_len < 1 || d->value_len > 256)
        return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                      "scope dimension '%s': value must be 1-256 bytes (got %zu)", shown,
                      d->value_len);
    for (size_t i = 0; i < d->value_len;) {
        unsigned cp;
        size_t n = utf8_seq(v + i, d->value_len - i, &cp);
        if (n == 0)
            return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                          "scope dimension '%s': value is not valid UTF-8", shown);
        if (cp == '/')
            return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                          "scope dimension '%s': value must not contain '/'", shown);
        if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
            return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                          "scope dimension '%s': value must not contain control characters",
                          shown);
        i += n;
    }
    return ENGRAM_OK;
}

static int dim_cmp(const void *a, const void *b)
{
    const struct dim *x = a, *y = b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    int c = memcmp(x->name, y->name, n);

    if (c)
        return c;
    return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/* Validate, sort and join dims into a canonical path. */
static int canonical(engram *db, struct dim *dims, size_t n, char **out_path)
{
    struct eg_buf b = {0};
    int rc;

    if (n == 0)
        return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                      "scope is empty; give 1 to 8 dimensions, e.g. {\"user\":\"alice\"}");
    if (n > EG_SCOPE_MAX_DIMS)
        return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                      "scope has %zu dimensions; at most 8 are allowed", n);
    for (size_t i = 0; i < n; i++) {
        rc = check_dim(db, &dims[i]);
        if (rc != ENGRAM_OK)
            return rc;
    }
    qsort(dims, n, sizeof(*dims), dim_cmp);
    for (size_t i = 1; i < n; i++) {
        if (dim_cmp(&dims[i - 1], &dims[i]) == 0) {
            char shown[40];
            excerpt(dims[i].name, dims[i].name_len, shown, sizeof(shown));
            return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                          "scope dimension '%s' is given twice", shown);
        }
    }
    for (size_t i = 0; i < n; i++) {
        if ((i && (rc = eg_buf_append(&b, "/", 1))) ||
            (rc = eg_buf_append(&b, dims[i].name, dims[i].name_len)) ||
            (rc = eg_buf_append(&b, "/", 1)) ||
            (rc = eg_buf_append(&b, dims[i].value, dims[i].value_len))) {
            eg_buf_reset(&b);
            return eg_err(db, rc, NULL, "out of memory building a scope");
        }
    }
    *out_path = eg_buf_detach(&b);
    return *out_path ? ENGRAM_OK : eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
}

static int parse_path(engram *db, const char *path, char **out_path)
{
    struct dim dims[EG_SCOPE_MAX_DIMS + 1];
    size_t n = 0, parts = 0;
    const char *p = path;

    if (*p == '\0')
        return canonical(db, dims, 0, out_path);
    for (;;) {
        const char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (parts % 2 == 0) {
            if (n == EG_SCOPE_MAX_DIMS + 1) /* count them all before failing */
                return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                              "scope has more than 8 dimensions");
            dims[n].name = p;
            dims[n].name_len = len;
            dims[n].value = NULL;
            dims[n].value_len = 0;
        } else {
            dims[n].value = p;
            dims[n].value_len = len;
            n++;
        }
        parts++;
        if (!slash)
            break;
        p = slash + 1;
    }
    if (parts % 2) {
        char shown[40];
        excerpt(dims[n].name, dims[n].name_len, shown, sizeof(shown));
        return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                      "scope path: dimension '%s' has no value (use name/value pairs, "
                      "e.g. org/acme/user/alice)",
                      shown);
    }
    return canonical(db, dims, n, out_path);
}

int eg_scope_from_json(engram *db, const json_t *v, char **out_path)
{
    struct dim dims[EG_SCOPE_MAX_DIMS];
    const char *name;
    json_t *val;
    size_t n = 0;

    *out_path = NULL;
    if (!v)
        return eg_err(db, ENGRAM_INVALID, "invalid_scope", "field 'scope' is required");
    if (json_is_string(v))
        return parse_path(db, json_string_value(v), out_path);
    if (!json_is_object(v))
        return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                      "field 'scope' must be an object like {\"user\":\"alice\"} or a path");
    if (json_object_size(v) > EG_SCOPE_MAX_DIMS)
        return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                      "scope has %zu dimensions; at most 8 are allowed", json_object_size(v));
    json_object_foreach((json_t *)v, name, val)
    {
        if (!json_is_string(val)) {
            char shown[40];
            excerpt(name, strlen(name), shown, sizeof(shown));
            return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                          "scope dimension '%s': value must be a string", shown);
        }
        dims[n].name = name;
        dims[n].name_len = strlen(name);
        dims[n].value = json_string_value(val);
        dims[n].value_len = json_string_length(val);
        if (memchr(dims[n].value, '\0', dims[n].value_len)) {
            char shown[40];
            excerpt(name, strlen(name), shown, sizeof(shown));
            return eg_err(db, ENGRAM_INVALID, "invalid_scope",
                          "scope dimension '%s': value must not contain control characters",
                          shown);
        }
        n++;
    }
    return canonical(db, dims, n, out_path);
}

int eg_scope_from_text(engram *db, const char *text, char **out_path)
{
    json_t *v;
    int rc;

    *out_path = NULL;
    if (!text)
        return eg_err(db, ENGRAM_INVALID, "invalid_scope", "scope is required");
    if (text[0] != '{')
        return parse_path(db, text, out_path);
    v = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!v)
        return eg_err(db, ENGRAM_INVALID, "invalid_scope", "scope is not valid JSON");
    rc = eg_scope_from_json(db, v, out_path);
    json_decref(v);
    return rc;
}

/* Split a canonical path into dims pointing into it; returns the count. */
static size_t split(const char *path, struct dim *dims)
{
    size_t n = 0;
    const char *p = path;

    while (*p && n < EG_SCOPE_MAX_DIMS) {
        const char *s1 = strchr(p, '/'), *s2;
        if (!s1)
            break;
        s2 = strchr(s1 + 1, '/');
        dims[n].name = p;
        dims[n].name_len = (size_t)(s1 - p);
        dims[n].value = s1 + 1;
        dims[n].value_len = s2 ? (size_t)(s2 - s1 - 1) : strlen(s1 + 1);
        n++;
        if (!s2)
            break;
        p = s2 + 1;
    }
    return n;
}

json_t *eg_scope_to_json(const char *path)
{
    struct dim dims[EG_SCOPE_MAX_DIMS];
    size_t n = split(path, dims);
    json_t *o = json_object();

    for (size_t i = 0; o && i < n; i++) {
        char name[33];
        memcpy(name, dims[i].name, dims[i].name_len);
        name[dims[i].name_len] = '\0';
        if (json_object_set_new(o, name, json_stringn(dims[i].value, dims[i].value_len))) {
            json_decref(o);
            return NULL;
        }
    }
    return o;
}

int eg_scope_write(struct eg_buf *b, const char *path)
{
    struct dim dims[EG_SCOPE_MAX_DIMS];
    size_t n = split(path, dims);
    int rc = eg_buf_puts(b, "{");

    for (size_t i = 0; rc == ENGRAM_OK && i < n; i++) {
        if ((i && (rc = eg_buf_puts(b, ",")) != ENGRAM_OK) ||
            (rc = eg_buf_json_strn(b, dims[i].name, dims[i].name_len)) != ENGRAM_OK ||
            (rc = eg_buf_puts(b, ":")) != ENGRAM_OK)
            break;
        rc = eg_buf_json_strn(b, dims[i].value, dims[i].value_len);
    }
    return rc == ENGRAM_OK ? eg_buf_puts(b, "}") : rc;
}

char *eg_scope_dim(const char *path, const char *name)
{
    struct dim dims[EG_SCOPE_MAX_DIMS];
    size_t n = split(path, dims);

    for (size_t i = 0; i < n; i++) {
        if (dims[i].name_len == strlen(name) && !memcmp(dims[i].name, name, dims[i].name_len))
            return strndup(dims[i].value, dims[i].value_len);
    }
    return NULL;
}

/* 1 when every dim of a is in b. */
static int subset(const struct dim *a, size_t na, const struct dim *b, size_t nb)
{
    for (size_t i = 0; i < na; i++) {
        int found = 0;
        for (size_t j = 0; j < nb && !found; j++)
            found = a[i].name_len == b[j].name_len && a[i].value_len == b[j].value_len &&
                    !memcmp(a[i].name, b[j].name, a[i].name_len) &&
                    !memcmp(a[i].value, b[j].value, a[i].value_len);
        if (!found)
            return 0;
    }
    return 1;
}

int eg_scope_floor_list(const char *path, const char *floor, char ***out, size_t *out_n)
{
    struct dim dims[EG_SCOPE_MAX_DIMS], fl[EG_SCOPE_MAX_DIMS];
    size_t n = split(path, dims), nf = floor ? split(floor, fl) : 0, count = 0;
    char **list;

    *out = NULL;
    *out_n = 0;
    list = calloc((size_t)1 << n, sizeof(*list));
    if (!list)
        return ENGRAM_NOMEM;
    for (unsigned mask = 1; mask < (1u << n); mask++) {
        struct dim sub[EG_SCOPE_MAX_DIMS];
        struct eg_buf b = {0};
        size_t k = 0;
        int rc = ENGRAM_OK;

        for (size_t i = 0; i < n; i++) {
            if (mask & (1u << i))
                sub[k++] = dims[i];
        }
        if (nf && !subset(fl, nf, sub, k))
            continue;
        for (size_t i = 0; i < k && rc == ENGRAM_OK; i++) {
            if (i)
                rc = eg_buf_append(&b, "/", 1);
            if (rc == ENGRAM_OK)
                rc = eg_buf_append(&b, sub[i].name, sub[i].name_len);
            if (rc == ENGRAM_OK)
                rc = eg_buf_append(&b, "/", 1);
            if (rc == ENGRAM_OK)
                rc = eg_buf_append(&b, sub[i].value, sub[i].value_len);
        }
        if (rc != ENGRAM_OK || !(list[count] = eg_buf_detach(&b))) {
            eg_buf_reset(&b);
            eg_scope_list_free(list, count);
            return ENGRAM_NOMEM;
        }
        count++;
    }
    *out = list;
    *out_n = count;
    return ENGRAM_OK;
}

void eg_scope_list_free(char **list, size_t n)
{
    if (!list)
        return;
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

/* A canonical path we trust only after checking it: used on untrusted arguments. */
static size_t split_checked(const char *path, struct dim *dims, int *ok)
{
    size_t n = split(path, dims), total = 0;

    for (size_t i = 0; i < n; i++)
        total += dims[i].name_len + dims[i].value_len + 2;
    *ok = n > 0 && total == strlen(path) + 1;
    return n;
}

int engram_scope_within(const char *inner, const char *outer)
{
    struct dim a[EG_SCOPE_MAX_DIMS], b[EG_SCOPE_MAX_DIMS];
    int ok1, ok2;
    size_t na, nb;

    if (!inner || !outer)
        return -1;
    na = split_checked(inner, a, &ok1);
    nb = split_checked(outer, b, &ok2);
    if (!ok1 || !ok2)
        return -1;
    return subset(a, na, b, nb);
}
