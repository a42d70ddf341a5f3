/*
 * cmd_profile.c - engram profile: what engram knows about a scope, with the summary a
 * system prompt can take as is.
 */
#include "cli/args.h"

int cmd_profile(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--context", 0, NULL}, {"--scope", 0, NULL}, {"--as-of", 0, NULL}};
    static const char *const need[] = {"--context", "--scope", NULL};
    json_t *req, *scope;

    if (cli_args("profile", argc, argv, o, 3, NULL, 0, NULL) || cli_require("profile", o, 3, need))
        return CLI_EXIT_INVALID;
    if (!(scope = cli_scope("profile", o[1].value)))
        return CLI_EXIT_INVALID;
    req = json_pack("{s:o}", "scope", scope);
    if (req && o[2].value)
        json_object_set_new(req, "as_of", json_string(o[2].value));
    return cli_call(cli, "profile", engram_profile_get, o[0].value, req);
}
