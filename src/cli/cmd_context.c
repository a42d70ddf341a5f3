/*
 * cmd_context.c - engram context: the memories relevant to a message, packed into a
 * token budget, with the text ready to inject into a prompt.
 */
#include <stdlib.h>

#include "cli/args.h"

int cmd_context(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--context", 0, NULL}, {"--scope", 0, NULL},      {"--session", 0, NULL},
                          {"--query", 0, NULL},   {"--top-k", 0, NULL},      {"--max-tokens", 0, NULL},
                          {"--as-of", 0, NULL}};
    static const char *const need[] = {"--context", "--query", NULL};
    engram_call call = {sizeof(call), "cli", NULL, NULL, NULL};
    json_t *req, *query, *scope = NULL;
    int64_t top_k = 10, max_tokens = 1000;
    char *text, *out = NULL;
    engram *db;
    int rc;

    if (cli_args("context", argc, argv, o, 7, NULL, 0, NULL) || cli_require("context", o, 7, need))
        return CLI_EXIT_INVALID;
    if (!o[1].value == !o[2].value)
        return cli_usage("context: give exactly one of --scope and --session");
    if ((o[4].value && cli_int("context", "--top-k", o[4].value, 1, 100, &top_k)) ||
        (o[5].value && cli_int("context", "--max-tokens", o[5].value, 1, 100000, &max_tokens)))
        return CLI_EXIT_INVALID;
    if (o[1].value && !(scope = cli_scope("context", o[1].value)))
        return CLI_EXIT_INVALID;
    if (!(query = cli_text("context", "--query", o[3].value))) {
        json_decref(scope);
        return CLI_EXIT_INVALID;
    }
    req = json_pack("{s:o, s:I, s:I}", "query", query, "top_k", (json_int_t)top_k, "max_tokens",
                    (json_int_t)max_tokens);
    if (req && scope)
        json_object_set_new(req, "scope", scope);
    else
        json_decref(scope);
    if (req && o[6].value)
        json_object_set_new(req, "as_of", json_string(o[6].value));
    text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text)
        return cli_fail(NULL, ENGRAM_NOMEM, "context");
    if (!(db = cli_open(cli, 0))) {
        free(text);
        return CLI_EXIT_FAILURE;
    }
    rc = engram_context_query(db, &call, o[0].value, o[2].value, text, &out);
    free(text);
    if (rc != ENGRAM_OK)
        return cli_fail(cli, rc, "context");
    return cli_print_json(out);
}
