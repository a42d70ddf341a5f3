/*
 * cmd_session.c - engram session create|get: sessions hold a conversation's turns.
 */
#include <string.h>

#include "cli/args.h"

int cmd_session(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--context", 0, NULL}, {"--scope", 0, NULL}, {"--metadata", 0, NULL}};
    const char *pos[2];
    size_t npos;
    char *out = NULL;
    engram *db;
    int rc;

    if (cli_args("session", argc, argv, o, 3, pos, 2, &npos))
        return CLI_EXIT_INVALID;
    if (npos == 0 || !o[0].value)
        return cli_usage("session: use 'session create --context C --scope PATH' or "
                         "'session get --context C ID'");
    if (strcmp(pos[0], "create") == 0 && npos == 1) {
        json_t *scope, *req;
        if (!o[1].value)
            return cli_usage("session create: --scope is required");
        if (!(scope = cli_scope("session", o[1].value)))
            return CLI_EXIT_INVALID;
        req = json_pack("{s:o}", "scope", scope);
        if (req && o[2].value) {
            json_t *m = json_loads(o[2].value, 0, NULL);
            if (!json_is_object(m)) {
                json_decref(m);
                json_decref(req);
                return cli_usage("session: --metadata must be a JSON object");
            }
            json_object_set_new(req, "metadata", m);
        }
        return cli_call(cli, "session create", engram_session_create, o[0].value, req);
    }
    if (strcmp(pos[0], "get") == 0 && npos == 2) {
        if (!(db = cli_open(cli, 0)))
            return CLI_EXIT_FAILURE;
        rc = engram_session_get(db, NULL, o[0].value, pos[1], &out);
        return rc == ENGRAM_OK ? cli_print_json(out) : cli_fail(cli, rc, "session get");
    }
    return cli_usage("session: use 'session create --context C --scope PATH' or "
                     "'session get --context C ID'");
}
