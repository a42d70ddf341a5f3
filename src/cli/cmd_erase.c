/*
 * cmd_erase.c - engram erase: delete everything at a scope and every narrower scope,
 * leaving a tombstone in the audit log.
 */
#include "cli/args.h"

int cmd_erase(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--context", 0, NULL}, {"--scope", 0, NULL}};
    static const char *const need[] = {"--context", "--scope", NULL};
    json_t *scope;

    if (cli_args("erase", argc, argv, o, 2, NULL, 0, NULL) || cli_require("erase", o, 2, need))
        return CLI_EXIT_INVALID;
    if (!(scope = cli_scope("erase", o[1].value)))
        return CLI_EXIT_INVALID;
    return cli_call(cli, "erase", engram_erase, o[0].value, json_pack("{s:o}", "scope", scope));
}
