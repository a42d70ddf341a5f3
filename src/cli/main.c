/*
 * main.c - the engram command: global options, the sub-command table, and the helpers
 * every sub-command shares (opening the store, printing answers and errors). Answers are
 * the same JSON the HTTP API gives, on stdout; errors are one line on stderr; exit 1 for
 * bad input, 2 for any other failure (DESIGN.md section 5).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*fn)(struct cli *, int, char **);
    const char *usage;
} commands[] = {
    {"turn", cmd_turn,
     "turn --context C (--scope PATH | --session ID) --role R --content TEXT [--at ISO8601]\n"
     "          [--metadata JSON] [--idempotency-key K] [--async]"},
    {"context", cmd_context,
     "context --context C (--scope PATH | --session ID) --query TEXT [--top-k N]\n"
     "          [--max-tokens N] [--as-of T]"},
    {"profile", cmd_profile, "profile --context C --scope PATH [--as-of T]"},
    {"forget", cmd_forget,
     "forget --context C --scope PATH [--entity TYPE/NAME] [--key K] [--category C] [--dry-run]"},
    {"attributes", cmd_attributes,
     "attributes --context C --scope PATH [--include-expired] [--key K] [--category C]"},
    {"session", cmd_session,
     "session create --context C --scope PATH [--metadata JSON] | session get --context C ID"},
    {"audit", cmd_audit, "audit --context C --scope PATH [--limit N]"},
    {"export", cmd_export, "export --context C --scope PATH > file.jsonl"},
    {"import", cmd_import, "import --context C FILE.jsonl   (- reads stdin)"},
    {"erase", cmd_erase, "erase --context C --scope PATH"},
    {"jobs", cmd_jobs, "jobs run [--max N]   (drain turns queued with --async)"},
    {"eval", cmd_eval, "eval locomo FILE [--max-tokens 1000] [--limit-conversations N]"},
    {"serve", cmd_serve, "serve [--listen ADDR:PORT] [--max-body BYTES] [--threads N]"},
    {"keys", cmd_keys,
     "keys create --context C [--scope-floor PATH] [--grant read,write,forget,erase]\n"
     "          | keys list | keys revoke ID"},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
    fprintf(f, "engram %s: persistent memory for LLM applications\n\n"
               "usage: engram [--db URI] COMMAND [options]\n\n"
               "  --db URI   a SQLite file (default $ENGRAM_DB, else ./engram.db)\n"
               "             or postgresql://user@host:port/dbname\n\ncommands:\n",
            engram_libversion());
    for (size_t i = 0; i < NCOMMANDS; i++)
        fprintf(f, "  engram %s\n", commands[i].usage);
    fprintf(f, "\nScopes are paths like user/alice or org/acme/user/alice, or JSON objects.\n"
               "Answers are JSON on stdout; exit 1 means bad input, 2 any other failure.\n");
}

void cli_options(engram_options *opt, int want_worker)
{
    const char *dim = getenv("ENGRAM_EMBED_DIM");

    memset(opt, 0, sizeof(*opt));
    opt->size = sizeof(*opt);
    opt->no_worker = !want_worker;
    opt->embed_url = getenv("ENGRAM_EMBED_URL");
    opt->embed_model = getenv("ENGRAM_EMBED_MODEL");
    opt->embed_api_key = getenv("ENGRAM_EMBED_API_KEY");
    opt->embed_dim = dim ? (int)strtol(dim, NULL, 10) : 0;
}

engram *cli_open(struct cli *cli, int want_worker)
{
    engram_options opt;
    int rc;

    if (cli->db)
        return cli->db;
    cli_options(&opt, want_worker);
    rc = engram_open(cli->db_uri, &opt, &cli->db);
    if (rc != ENGRAM_OK) {
        fprintf(stderr, "engram: cannot open %s: %s\n", cli->db_uri,
                cli->db ? engram_errmsg(cli->db) : engram_errstr(rc));
        engram_close(cli->db);
        cli->db = NULL;
    }
    return cli->db;
}

int cli_fail(struct cli *cli, int rc, const char *what)
{
    const char *msg = cli && cli->db ? engram_errmsg(cli->db) : engram_errstr(rc);

    fprintf(stderr, "engram: %s: %s\n", what, msg);
    switch (rc) {
    case ENGRAM_INVALID:
    case ENGRAM_NOTFOUND:
    case ENGRAM_FORBIDDEN:
    case ENGRAM_CONFLICT:
    case ENGRAM_TOOBIG:
        return CLI_EXIT_INVALID;
    default:
        return CLI_EXIT_FAILURE;
    }
}

int cli_usage(const char *fmt, ...)
{
    va_list ap;

    fputs("engram: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return CLI_EXIT_INVALID;
}

int cli_print_json(char *json)
{
    int bad;

    fputs(json, stdout);
    fputc('\n', stdout);
    engram_free(json);
    bad = fflush(stdout) != 0 || ferror(stdout);
    return bad ? CLI_EXIT_FAILURE : CLI_EXIT_OK;
}

int main(int argc, char **argv)
{
    struct cli cli = {0};
    int i = 1, code;

    cli.argv0 = argv[0];
    cli.db_uri = getenv("ENGRAM_DB");
    if (!cli.db_uri || !*cli.db_uri)
        cli.db_uri = "./engram.db";
    while (i < argc && strncmp(argv[i], "--", 2) == 0) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--version") == 0) {
            printf("engram %s\n", engram_libversion());
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--db") == 0 && i + 1 < argc) {
            cli.db_uri = argv[i + 1];
            i += 2;
        } else {
            return cli_usage("unknown option %s (see engram --help)", argv[i]);
        }
    }
    if (i >= argc) {
        usage(stderr);
        return CLI_EXIT_INVALID;
    }
    for (size_t k = 0; k < NCOMMANDS; k++) {
        if (strcmp(argv[i], commands[k].name) == 0) {
            code = commands[k].fn(&cli, argc - i, argv + i);
            engram_close(cli.db);
            return code;
        }
    }
    if (strcmp(argv[i], "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    return cli_usage("unknown command '%s' (see engram --help)", argv[i]);
}
