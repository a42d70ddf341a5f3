/*
 * cmd_export.c - engram export: a scope and everything narrower, as JSON Lines on stdout.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cli/args.h"

static int write_stdout(void *arg, const char *line, size_t len)
{
    (void)arg;
    return fwrite(line, 1, len, stdout) == len ? 0 : -1;
}

int cmd_export(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--context", 0, NULL}, {"--scope", 0, NULL}};
    static const char *const need[] = {"--context", "--scope", NULL};
    engram_call call = {sizeof(call), "cli", NULL, NULL, NULL};
    json_t *scope, *req;
    char *text;
    engram *db;
    int rc;

    if (cli_args("export", argc, argv, o, 2, NULL, 0, NULL) || cli_require("export", o, 2, need))
        return CLI_EXIT_INVALID;
    if (!(scope = cli_scope("export", o[1].value)))
        return CLI_EXIT_INVALID;
    req = json_pack("{s:o}", "scope", scope);
    text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text)
        return cli_fail(NULL, ENGRAM_NOMEM, "export");
    if (!(db = cli_open(cli, 0))) {
        free(text);
        return CLI_EXIT_FAILURE;
    }
    rc = engram_export(db, &call, o[0].value, text, write_stdout, NULL);
    free(text);
    if (rc != ENGRAM_OK)
        return cli_fail(cli, rc, "export");
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
