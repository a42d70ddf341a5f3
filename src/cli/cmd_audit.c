/*
 * cmd_audit.c - engram audit: the audit log inside a scope's floor, newest first.
 */
#include "cli/args.h"

int cmd_audit(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--context", 0, NULL}, {"--scope", 0, NULL}, {"--limit", 0, NULL}};
    static const char *const need[] = {"--context", "--scope", NULL};
    json_t *req, *scope;
    int64_t limit = 100;

    if (cli_args("audit", argc, argv, o, 3, NULL, 0, NULL) || cli_require("audit", o, 3, need))
        return CLI_EXIT_INVALID;
    if (o[2].value && cli_int("audit", "--limit", o[2].value, 1, 10000, &limit))
        return CLI_EXIT_INVALID;
    if (!(scope = cli_scope("audit", o[1].value)))
        return CLI_EXIT_INVALID;
    req = json_pack("{s:o, s:I}", "scope", scope, "limit", (json_int_t)limit);
    return cli_call(cli, "audit", engram_audit_list, o[0].value, req);
}
