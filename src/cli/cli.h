/*
 * cli.h - shared by the engram command's sub-commands. Each sub-command is one
 * cmd_<name>.c file with one entry point registered in main.c's table. Sub-commands use
 * only engram.h and src/util/, like any other application of the library.
 */
#ifndef EG_CLI_H
#define EG_CLI_H

#include "engram.h"

/* Exit codes (DESIGN.md section 5). */
#define CLI_EXIT_OK      0
#define CLI_EXIT_INVALID 1 /* bad input: usage, invalid scope, unknown session, ... */
#define CLI_EXIT_FAILURE 2 /* anything else: I/O, store, out of memory */

struct cli {
    const char *db_uri;  /* --db, else $ENGRAM_DB, else ./engram.db */
    engram *db;          /* opened lazily by cli_open() */
    const char *argv0;
};

/* Options every handle of this process uses: the worker switch, plus the optional
 * embeddings provider from $ENGRAM_EMBED_URL, $ENGRAM_EMBED_MODEL, $ENGRAM_EMBED_API_KEY
 * and $ENGRAM_EMBED_DIM (environment, so a key never shows in `ps`). */
void cli_options(engram_options *opt, int want_worker);

/* Open the store once (worker thread off unless want_worker). NULL after printing why. */
engram *cli_open(struct cli *cli, int want_worker);

/* Print "engram: <what>: <errmsg>" to stderr; map rc to an exit code. */
int cli_fail(struct cli *cli, int rc, const char *what);

/* Print "engram: <msg>" to stderr and return CLI_EXIT_INVALID. */
int cli_usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print a JSON answer (plus newline) to stdout and free it; returns CLI_EXIT_OK. */
int cli_print_json(char *json);

/* Sub-commands. argv[0] is the sub-command's name. */
int cmd_turn(struct cli *cli, int argc, char **argv);
int cmd_context(struct cli *cli, int argc, char **argv);
int cmd_profile(struct cli *cli, int argc, char **argv);
int cmd_forget(struct cli *cli, int argc, char **argv);
int cmd_attributes(struct cli *cli, int argc, char **argv);
int cmd_export(struct cli *cli, int argc, char **argv);
int cmd_import(struct cli *cli, int argc, char **argv);
int cmd_erase(struct cli *cli, int argc, char **argv);
int cmd_session(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_jobs(struct cli *cli, int argc, char **argv);
int cmd_serve(struct cli *cli, int argc, char **argv); /* src/cli/cmd_serve.c -> src/server/ */
int cmd_keys(struct cli *cli, int argc, char **argv);
int cmd_eval(struct cli *cli, int argc, char **argv);

#endif
