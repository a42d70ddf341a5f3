/*
 * cmd_import.c - engram import: load JSON Lines in export's format (ids kept), all or
 * nothing, from a file or stdin.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "util/buf.h"

/* Imports are bounded so a wrong file cannot exhaust memory (1 GiB). */
#define IMPORT_MAX ((size_t)1 << 30)

int cmd_import(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--context", 0, NULL}};
    engram_call call = {sizeof(call), "cli", NULL, NULL, NULL};
    struct eg_buf data = {0};
    const char *pos[1];
    char chunk[65536], *out = NULL;
    size_t npos, n;
    FILE *f;
    engram *db;
    int rc, code;

    data.limit = IMPORT_MAX;
    if (cli_args("import", argc, argv, o, 1, pos, 1, &npos))
        return CLI_EXIT_INVALID;
    if (!o[0].value || npos != 1)
        return cli_usage("import: use 'import --context C FILE.jsonl' (- for stdin)");
    f = strcmp(pos[0], "-") == 0 ? stdin : fopen(pos[0], "rb");
    if (!f)
        return cli_usage("import: cannot open %s", pos[0]);
    rc = ENGRAM_OK;
    while (rc == ENGRAM_OK && (n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        rc = eg_buf_append(&data, chunk, n);
    if (rc == ENGRAM_OK && ferror(f))
        rc = ENGRAM_ERROR;
    if (f != stdin)
        fclose(f);
    if (rc != ENGRAM_OK) {
        eg_buf_reset(&data);
        if (rc == ENGRAM_TOOBIG)
            return cli_usage("import: %s is over 1 GiB", pos[0]);
        return cli_usage("import: cannot read %s", pos[0]);
    }
    if (!(db = cli_open(cli, 0))) {
        eg_buf_reset(&data);
        return CLI_EXIT_FAILURE;
    }
    rc = engram_import(db, &call, o[0].value, data.p ? data.p : "", data.len, &out);
    eg_buf_reset(&data);
    code = rc == ENGRAM_OK ? cli_print_json(out) : cli_fail(cli, rc, "import");
    return code;
}
