/*
 * keys.c - API keys for engram serve. A key is "egk_" + its id's ULID + "." + 32 random
 * bytes in hex; only a BLAKE2b hash of the secret is stored. Secrets are 256 random bits,
 * so a fast keyed-free hash is enough (a slow password hash protects low-entropy secrets
 * and would cost milliseconds per request); comparison is constant time.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "lib/api_int.h"

static const char *const grant_names[] = {"read", "write", "forget", "erase"};

static int grants_text(engram *db, const json_t *g, char *out, size_t outlen)
{
    size_t i;
    json_t *v;

    out[0] = '\0';
    if (!g || json_is_null(g)) {
        snprintf(out, outlen, "read,write,forget,erase");
        return ENGRAM_OK;
    }
    if (json_is_string(g)) { /* "read,write" from the CLI */
        json_t *arr = json_array();
        char *copy = strdup(json_string_value(g)), *p = copy, *comma;
        int rc = ENGRAM_OK;
        if (!arr || !copy) {
            json_decref(arr);
            free(copy);
            return eg_err(db, ENGRAM_NOMEM, NULL, "out of memory");
        }
        for (; p && rc == ENGRAM_OK; p = comma ? comma + 1 : NULL) {
            comma = strchr(p, ',');
            if (comma)
                *comma = '\0';
            if (*p && json_array_append_new(arr, json_string(p)))
                rc = ENGRAM_NOMEM;
        }
        free(copy);
        if (rc == ENGRAM_OK)
            rc = grants_text(db, arr, out, outlen);
        json_decref(arr);
        return rc;
    }
    if (!json_is_array(g) || json_array_size(g) == 0)
        return eg_err(db, ENGRAM_INVALID, "invalid_field",
                      "field 'grants' must list some of read, write, forget, erase");
    json_array_foreach((json_t *)g, i, v)
    {
        size_t k;
        for (k = 0; k < 4; k++) {
            if (json_is_string(v) && strcmp(json_string_value(v), grant_names[k]) == 0)
                break;
        }
        if (k == 4)
            return eg_err(db, ENGRAM_INVALID, "invalid_field",
                          "field 'grants': each grant must be read, write, forget or erase");
        if (!strstr(out, grant_names[k])) {
            size_t n = strlen(out);
            snprintf(out + n, outlen - n, "%s%s", n ? "," : "", grant_names[k]);
        }
    }
    return ENGRAM_OK;
}

static json_t *key_json(const struct eg_key *k)
{
    json_t *grants = json_array();
    char copy[64], *p, *comma;

    snprintf(copy, sizeof(copy), "%s", k->grants);
    for (p = copy; p && grants; p = comma ? comma + 1 : NULL) {
        comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        if (*p)
            json_array_append_new(grants, json_string(p));
    }
    return json_pack("{s:s, s:s, s:o, s:o, s:o, s:o}", "id", k->id, "context", k->context,
                     "scope_floor",
                     k->scope_floor && *k->scope_floor ? json_string(k->scope_floor)
                                                       : json_null(),
                     "grants", grants ? grants : json_array(), "created_at",
                     eg_json_time(k->created_at), "revoked_at", eg_json_time(k->revoked_at));
}

int engram_key_create(engram *db, const engram_call *call, const char *req_json,
                      char **out_json)
{
    struct eg_key k = {0};
    json_t *req = NULL, *answer;
    const char *context, *floor;
    unsigned char secret[32];
    char hex[65], key[EG_ID_MAX + 72], grants[64], *floor_path = NULL;
    int rc;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    if ((rc = eg_req_parse(db, req_json, &req)) != ENGRAM_OK ||
        (rc = eg_req_str(db, req, "context", 1, &context)) != ENGRAM_OK ||
        (rc = eg_check_context(db, context)) != ENGRAM_OK ||
        (rc = eg_req_str(db, req, "scope_floor", 0, &floor)) != ENGRAM_OK ||
        (rc = grants_text(db, json_object_get(req, "grants"), grants, sizeof(grants))) !=
            ENGRAM_OK)
        goto cleanup;
    if (floor && *floor && (rc = eg_scope_from_text(db, floor, &floor_path)) != ENGRAM_OK)
        goto cleanup;
    eg_id_new(db, "key", k.id);
    randombytes_buf(secret, sizeof(secret));
    sodium_bin2hex(hex, sizeof(hex), secret, sizeof(secret));
    snprintf(key, sizeof(key), "egk_%.40s.%.64s", k.id + 4, hex);
    crypto_generichash(k.hash, sizeof(k.hash), (const unsigned char *)key, strlen(key), NULL, 0);
    k.context = (char *)context;
    k.scope_floor = floor_path ? floor_path : "";
    k.grants = grants;
    k.created_at = eg_now_ms();
    if ((rc = db->ops->begin(db->store, 1)) != ENGRAM_OK ||
        (rc = db->ops->key_put(db->store, &k)) != ENGRAM_OK ||
        (rc = db->ops->commit(db->store)) != ENGRAM_OK) {
        rc = eg_err_store(db, rc, "key");
        db->ops->rollback(db->store);
        goto cleanup;
    }
    answer = key_json(&k);
    if (answer && json_object_set_new(answer, "key", json_string(key)) == 0)
        rc = eg_json_out(db, answer, out_json);
    else
        rc = eg_json_out(db, NULL, out_json);
    (void)call;
cleanup:
    sodium_memzero(secret, sizeof(secret));
    sodium_memzero(key, sizeof(key));
    free(floor_path);
    json_decref(req);
    return eg_leave(db, rc);
}

static int list_cb(void *arg, const struct eg_key *k)
{
    return json_array_append_new(arg, key_json(k)) ? ENGRAM_NOMEM : ENGRAM_OK;
}

int engram_key_list(engram *db, char **out_json)
{
    json_t *arr;
    int rc;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    arr = json_array();
    rc = arr ? db->ops->keys_list(db->store, list_cb, arr) : ENGRAM_NOMEM;
    if (rc == ENGRAM_OK)
        rc = eg_json_out(db, json_pack("{s:o}", "keys", arr), out_json);
    else
        json_decref(arr), rc = eg_err_store(db, rc, "keys");
    return eg_leave(db, rc);
}

int engram_key_revoke(engram *db, const engram_call *call, const char *key_id)
{
    int rc;

    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    (void)call;
    if (!key_id || !*key_id)
        return eg_leave(db, eg_err(db, ENGRAM_INVALID, NULL, "a key id is required"));
    if ((rc = db->ops->begin(db->store, 1)) == ENGRAM_OK &&
        (rc = db->ops->key_revoke(db->store, key_id, eg_now_ms())) == ENGRAM_OK)
        rc = db->ops->commit(db->store);
    if (rc != ENGRAM_OK) {
        rc = eg_err(db, rc, rc == ENGRAM_NOTFOUND ? "key_not_found" : NULL, "%s",
                    db->ops->errmsg(db->store));
        db->ops->rollback(db->store);
    }
    return eg_leave(db, rc);
}

struct count_arg {
    int n;
};

static int count_cb(void *arg, const struct eg_key *k)
{
    if (!k->revoked_at)
        ((struct count_arg *)arg)->n++;
    return ENGRAM_OK;
}

int engram_key_count(engram *db, int *out_count)
{
    struct count_arg c = {0};
    int rc;

    if (!out_count)
        return ENGRAM_MISUSE;
    *out_count = 0;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    rc = db->ops->keys_list(db->store, count_cb, &c);
    if (rc != ENGRAM_OK)
        rc = eg_err_store(db, rc, "keys");
    *out_count = c.n;
    return eg_leave(db, rc);
}

int engram_key_verify(engram *db, const char *secret, char **out_json)
{
    struct eg_key k;
    unsigned char hash[32];
    char id[EG_ID_MAX];
    const char *dot;
    int rc;

    if (!out_json)
        return ENGRAM_MISUSE;
    *out_json = NULL;
    if ((rc = eg_enter(db)) != ENGRAM_OK)
        return rc;
    /* The id inside the key finds the row; the hash comparison decides. */
    if (!secret || strncmp(secret, "egk_", 4) != 0 || !(dot = strchr(secret, '.')) ||
        (size_t)(dot - secret - 4) + 5 > sizeof(id))
        return eg_leave(db, eg_err(db, ENGRAM_NOTFOUND, "invalid_key", "unknown API key"));
    snprintf(id, sizeof(id), "key_%.*s", (int)(dot - secret - 4), secret + 4);
    rc = db->ops->key_get(db->store, id, &k);
    if (rc == ENGRAM_NOTFOUND)
        return eg_leave(db, eg_err(db, ENGRAM_NOTFOUND, "invalid_key", "unknown API key"));
    if (rc != ENGRAM_OK)
        return eg_leave(db, eg_err_store(db, rc, "keys"));
    crypto_generichash(hash, sizeof(hash), (const unsigned char *)secret, strlen(secret), NULL,
                       0);
    if (sodium_memcmp(hash, k.hash, sizeof(hash)) != 0 || k.revoked_at)
        rc = eg_err(db, ENGRAM_NOTFOUND, "invalid_key", "unknown or revoked API key");
    else
        rc = eg_json_out(db, key_json(&k), out_json);
    eg_key_clear(&k);
    return eg_leave(db, rc);
}
