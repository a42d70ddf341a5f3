/*
 * args.h - the sub-commands' option parser: "--name value" options and "--flag" flags,
 * declared as a table, with one clear line on stderr for anything unexpected.
 */
#ifndef EG_CLI_ARGS_H
#define EG_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

struct cli_opt {
    const char *name; /* "--scope" */
    int flag;         /* 1: takes no value */
    const char *value; /* set by cli_args(); "1" for a flag that was given */
};

/*
 * Fill opts from argv[1..argc) (argv[0] is the sub-command). Positional arguments are
 * collected into pos (up to max_pos). Returns 0, or CLI_EXIT_INVALID after printing why.
 */
int cli_args(const char *cmd, int argc, char **argv, struct cli_opt *opts, size_t nopts,
             const char **pos, size_t max_pos, size_t *out_npos);

/* The option's value or NULL. */
const char *cli_get(const struct cli_opt *opts, size_t nopts, const char *name);

/* Require options to be present; prints "CMD: --x is required" and returns
 * CLI_EXIT_INVALID when one is missing. names is NULL-terminated. */
int cli_require(const char *cmd, const struct cli_opt *opts, size_t nopts, const char *const *names);

/* Parse a whole decimal integer in [lo, hi]; prints why and returns CLI_EXIT_INVALID. */
int cli_int(const char *cmd, const char *name, const char *text, int64_t lo, int64_t hi,
            int64_t *out);


#include <jansson.h>
#include "cli/cli.h"

/* A --scope value as JSON: an object when the text is a JSON object, else the path
 * string (the library validates both). NULL after printing why. */
json_t *cli_scope(const char *cmd, const char *text);

/* A JSON string of UTF-8 text; NULL after printing why (names the option). */
json_t *cli_text(const char *cmd, const char *name, const char *text);

/* Run one request/answer operation: open the store, send req (stolen), print the answer.
 * Returns the exit code. */
typedef int (*cli_op)(engram *db, const engram_call *call, const char *context,
                      const char *req_json, char **out_json);
int cli_call(struct cli *cli, const char *cmd, cli_op op, const char *context, json_t *req);

#endif
