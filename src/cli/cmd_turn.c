/*
 * cmd_turn.c - engram turn: record one turn (in a session, or session-less at a scope)
 * and print {turn, diff}: what the turn changed in memory.
 */
#include <stdlib.h>

#include "cli/args.h"

int cmd_turn(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--context", 0, NULL},  {"--scope", 0, NULL},
                          {"--session", 0, NULL},  {"--role", 0, NULL},
                          {"--content", 0, NULL},  {"--at", 0, NULL},
                          {"--async", 1, NULL},    {"--metadata", 0, NULL},
                          {"--idempotency-key", 0, NULL}};
    static const char *const need[] = {"--context", "--role", "--content", NULL};
    engram_call call = {sizeof(call), "cli", NULL, NULL, NULL};
    json_t *req, *content, *scope = NULL;
    char *text, *out = NULL;
    engram *db;
    int rc;

    if (cli_args("turn", argc, argv, o, 9, NULL, 0, NULL) || cli_require("turn", o, 9, need))
        return CLI_EXIT_INVALID;
    if (!o[1].value == !o[2].value)
        return cli_usage("turn: give exactly one of --scope and --session");
    if (o[1].value && !(scope = cli_scope("turn", o[1].value)))
        return CLI_EXIT_INVALID;
    if (!(content = cli_text("turn", "--content", o[4].value))) {
        json_decref(scope);
        return CLI_EXIT_INVALID;
    }
    req = json_pack("{s:s, s:o, s:b}", "role", o[3].value, "content", content, "async",
                    o[6].value != NULL);
    if (req && scope)
        json_object_set_new(req, "scope", scope);
    else
        json_decref(scope);
    if (req && o[5].value)
        json_object_set_new(req, "created_at", json_string(o[5].value));
    if (req && o[7].value) {
        json_t *m = json_loads(o[7].value, 0, NULL);
        if (!json_is_object(m)) {
            json_decref(m);
            json_decref(req);
            return cli_usage("turn: --metadata must be a JSON object");
        }
        json_object_set_new(req, "metadata", m);
    }
    text = req ? json_dumps(req, JSON_COMPACT) : NULL;
    json_decref(req);
    if (!text)
        return cli_fail(NULL, ENGRAM_NOMEM, "turn");
    if (!(db = cli_open(cli, 0))) {
        free(text);
        return CLI_EXIT_FAILURE;
    }
    call.idempotency_key = o[8].value;
    rc = engram_turn_add(db, &call, o[0].value, o[2].value, text, &out);
    free(text);
    if (rc != ENGRAM_OK)
        return cli_fail(cli, rc, "turn");
    return cli_print_json(out);
}
