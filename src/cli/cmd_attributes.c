/*
 * cmd_attributes.c - engram attributes: current facts with their supersession chains;
 * --include-expired shows the retired ones too.
 */
#include "cli/args.h"

int cmd_attributes(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--context", 0, NULL},         {"--scope", 0, NULL},
                          {"--include-expired", 1, NULL}, {"--key", 0, NULL},
                          {"--category", 0, NULL},        {"--as-of", 0, NULL}};
    static const char *const need[] = {"--context", "--scope", NULL};
    json_t *req, *scope;

    if (cli_args("attributes", argc, argv, o, 6, NULL, 0, NULL) ||
        cli_require("attributes", o, 6, need))
        return CLI_EXIT_INVALID;
    if (!(scope = cli_scope("attributes", o[1].value)))
        return CLI_EXIT_INVALID;
    req = json_pack("{s:o, s:b}", "scope", scope, "include_expired", o[2].value != NULL);
    if (req && o[3].value)
        json_object_set_new(req, "key", json_string(o[3].value));
    if (req && o[4].value)
        json_object_set_new(req, "category", json_string(o[4].value));
    if (req && o[5].value)
        json_object_set_new(req, "as_of", json_string(o[5].value));
    return cli_call(cli, "attributes", engram_attributes_list, o[0].value, req);
}
