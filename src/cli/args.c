/*
 * args.c - option parsing for the engram sub-commands. See args.h.
 */
#include "cli/args.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

int cli_args(const char *cmd, int argc, char **argv, struct cli_opt *opts, size_t nopts,
             const char **pos, size_t max_pos, size_t *out_npos)
{
    size_t npos = 0;

    if (out_npos)
        *out_npos = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        size_t k;
        if (strncmp(a, "--", 2) != 0 || a[2] == '\0') {
            if (npos == max_pos)
                return cli_usage("%s: unexpected argument '%s'", cmd, a);
            pos[npos++] = a;
            continue;
        }
        for (k = 0; k < nopts; k++) {
            if (strcmp(opts[k].name, a) == 0)
                break;
        }
        if (k == nopts)
            return cli_usage("%s: unknown option %s (see engram --help)", cmd, a);
        if (opts[k].flag) {
            opts[k].value = "1";
            continue;
        }
        if (i + 1 >= argc)
            return cli_usage("%s: %s needs a value", cmd, a);
        opts[k].value = argv[++i];
    }
    if (out_npos)
        *out_npos = npos;
    return 0;
}

const char *cli_get(const struct cli_opt *opts, size_t nopts, const char *name)
{
    for (size_t k = 0; k < nopts; k++) {
        if (strcmp(opts[k].name, name) == 0)
            return opts[k].value;
    }
    return NULL;
}

int cli_require(const char *cmd, const struct cli_opt *opts, size_t nopts,
                const char *const *names)
{
    for (; *names; names++) {
        if (!cli_get(opts, nopts, *names))
            return cli_usage("%s: %s is required", cmd, *names);
    }
    return 0;
}

int cli_int(const char *cmd, const char *name, const char *text, int64_t lo, int64_t hi,
            int64_t *out)
{
    char *end;
    long long v;

    errno = 0;
    v = strtoll(text, &end, 10);
    if (errno || end == text || *end || v < lo || v > hi)
        return cli_usage("%s: %s wants a whole number from %lld to %lld, got '%s'", cmd, name,
                         (long long)lo, (long long)hi, text);
    *out = v;
    return 0;
}

json_t *cli_scope(const char *cmd, const char *text)
{
    json_t *v;

    if (text[0] != '{')
        v = json_string(text);
    else
        v = json_loads(text, JSON_REJECT_DUPLICATES, NULL);
    if (!v)
        cli_usage("%s: --scope must be a path like user/alice or a JSON object", cmd);
    return v;
}

json_t *cli_text(const char *cmd, const char *name, const char *text)
{
    json_t *v = json_string(text);

    if (!v)
        cli_usage("%s: %s is not valid UTF-8", cmd, name);
    return v;
}

int cli_call(struct cli *cli, const char *cmd, cli_op op, const char *context, json_t *req)
{
    engram_call call = {sizeof(call), "cli", NULL, NULL, NULL};
    char *text = req ? json_dumps(req, JSON_COMPACT) : NULL, *out = NULL;
    engram *db;
    int rc;

    json_decref(req);
    if (!text)
        return cli_fail(NULL, ENGRAM_NOMEM, cmd);
    db = cli_open(cli, 0);
    if (!db) {
        free(text);
        return CLI_EXIT_FAILURE;
    }
    rc = op(db, &call, context, text, &out);
    free(text);
    if (rc != ENGRAM_OK)
        return cli_fail(cli, rc, cmd);
    return cli_print_json(out);
}
