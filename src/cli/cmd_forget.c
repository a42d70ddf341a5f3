/*
 * cmd_forget.c - engram forget: retire facts by entity, entity + key, key or category.
 * Retired records stay readable with `attributes --include-expired`.
 */
#include <string.h>

#include "cli/args.h"

int cmd_forget(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--context", 0, NULL}, {"--scope", 0, NULL},    {"--entity", 0, NULL},
                          {"--key", 0, NULL},     {"--category", 0, NULL}, {"--dry-run", 1, NULL}};
    static const char *const need[] = {"--context", "--scope", NULL};
    json_t *req, *scope;

    if (cli_args("forget", argc, argv, o, 6, NULL, 0, NULL) || cli_require("forget", o, 6, need))
        return CLI_EXIT_INVALID;
    if (!(scope = cli_scope("forget", o[1].value)))
        return CLI_EXIT_INVALID;
    req = json_pack("{s:o, s:b}", "scope", scope, "dry_run", o[5].value != NULL);
    if (req && o[2].value) {
        const char *slash = strchr(o[2].value, '/');
        if (!slash || slash == o[2].value || !slash[1]) {
            json_decref(req);
            return cli_usage("forget: --entity wants TYPE/NAME, e.g. Person/alice");
        }
        json_object_set_new(req, "entity_type",
                            json_stringn(o[2].value, (size_t)(slash - o[2].value)));
        json_object_set_new(req, "entity_name", json_string(slash + 1));
    }
    if (req && o[3].value)
        json_object_set_new(req, "attribute_key", json_string(o[3].value));
    if (req && o[4].value)
        json_object_set_new(req, "category", json_string(o[4].value));
    return cli_call(cli, "forget", engram_forget, o[0].value, req);
}
