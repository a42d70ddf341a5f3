/*
 * cmd_keys.c - `engram keys`: create, list and revoke the API keys engram serve checks.
 *
 *   engram keys create --context C [--scope-floor PATH] [--grant read,write,forget,erase]
 *   engram keys list
 *   engram keys revoke ID
 *
 * The store keeps only a hash: `create` prints the secret once, in its JSON answer.
 */
#include "cli/cli.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: engram keys create --context C [--scope-floor PATH] [--grant read,write,forget,erase]\n"
    "       engram keys list\n"
    "       engram keys revoke ID\n";

/* Append each comma-separated grant in s to arr. Returns 0, or -1 on an empty item. */
static int add_grants(json_t *arr, const char *s)
{
    while (*s) {
        size_t n = strcspn(s, ",");
        if (n == 0)
            return -1;
        json_array_append_new(arr, json_stringn(s, n));
        s += n;
        if (*s == ',')
            s++;
    }
    return 0;
}

static int keys_create(struct cli *cli, int argc, char **argv)
{
    json_t *req = json_object(), *grants = NULL;
    engram_call call = {sizeof(call), "cli", NULL, NULL, NULL};
    char *text = NULL, *out = NULL;
    engram *db;
    int i, rc, code = CLI_EXIT_INVALID;

    if (!req)
        return cli_fail(cli, ENGRAM_NOMEM, "keys create");
    for (i = 2; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!val) {
            cli_usage("keys create: %s needs a value", a);
            goto cleanup;
        }
        i++;
        if (strcmp(a, "--context") == 0) {
            json_object_set_new(req, "context", json_string(val));
        } else if (strcmp(a, "--scope-floor") == 0) {
            json_object_set_new(req, "scope_floor", json_string(val));
        } else if (strcmp(a, "--grant") == 0 || strcmp(a, "--grants") == 0) {
            if (!grants)
                grants = json_array();
            if (!grants || add_grants(grants, val) != 0) {
                cli_usage("keys create: --grant wants a list like read,write");
                goto cleanup;
            }
        } else {
            fputs(usage, stderr);
            cli_usage("keys create: unknown option %s", a);
            goto cleanup;
        }
    }
    if (!json_object_get(req, "context")) {
        fputs(usage, stderr);
        cli_usage("keys create: --context is required");
        goto cleanup;
    }
    if (grants)
        json_object_set(req, "grants", grants);
    text = json_dumps(req, JSON_COMPACT);
    if (!text) {
        code = cli_fail(cli, ENGRAM_NOMEM, "keys create");
        goto cleanup;
    }
    db = cli_open(cli, 0);
    if (!db) {
        code = CLI_EXIT_FAILURE;
        goto cleanup;
    }
    rc = engram_key_create(db, &call, text, &out);
    if (rc != ENGRAM_OK) {
        code = cli_fail(cli, rc, "keys create");
        goto cleanup;
    }
    code = cli_print_json(out);
cleanup:
    free(text);
    json_decref(grants);
    json_decref(req);
    return code;
}

int cmd_keys(struct cli *cli, int argc, char **argv)
{
    engram_call call = {sizeof(call), "cli", NULL, NULL, NULL};
    engram *db;
    char *out = NULL;
    int rc;

    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? CLI_EXIT_INVALID : CLI_EXIT_OK;
    }
    if (strcmp(argv[1], "create") == 0)
        return keys_create(cli, argc, argv);
    if (strcmp(argv[1], "list") == 0) {
        if (argc != 2)
            return cli_usage("keys list takes no arguments");
        db = cli_open(cli, 0);
        if (!db)
            return CLI_EXIT_FAILURE;
        rc = engram_key_list(db, &out);
        return rc == ENGRAM_OK ? cli_print_json(out) : cli_fail(cli, rc, "keys list");
    }
    if (strcmp(argv[1], "revoke") == 0) {
        json_t *ans;
        char *text;
        if (argc != 3)
            return cli_usage("usage: engram keys revoke ID");
        db = cli_open(cli, 0);
        if (!db)
            return CLI_EXIT_FAILURE;
        rc = engram_key_revoke(db, &call, argv[2]);
        if (rc != ENGRAM_OK)
            return cli_fail(cli, rc, "keys revoke");
        /* The same JSON-on-stdout contract as every other sub-command. */
        ans = json_pack("{s:s,s:b}", "id", argv[2], "revoked", 1);
        text = ans ? json_dumps(ans, JSON_COMPACT) : NULL;
        json_decref(ans);
        if (!text)
            return cli_fail(cli, ENGRAM_NOMEM, "keys revoke");
        puts(text);
        free(text);
        return CLI_EXIT_OK;
    }
    fputs(usage, stderr);
    return cli_usage("keys: unknown sub-command '%s'", argv[1]);
}
