/*
 * cmd_jobs.c - engram jobs run: drain queued extraction jobs (turns sent with --async)
 * in this process. engram serve drains them continuously; this is for CLI-only setups
 * and for resuming after a crash without starting a server.
 */
#include <stdio.h>
#include <string.h>

#include "cli/args.h"

int cmd_jobs(struct cli *cli, int argc, char **argv)
{
    struct cli_opt o[] = {{"--max", 0, NULL}};
    const char *pos[1];
    size_t npos;
    int64_t max = 1000000;
    int done = 0, rc;
    engram *db;

    if (cli_args("jobs", argc, argv, o, 1, pos, 1, &npos))
        return CLI_EXIT_INVALID;
    if (npos != 1 || strcmp(pos[0], "run") != 0)
        return cli_usage("jobs: use 'jobs run [--max N]'");
    if (o[0].value && cli_int("jobs", "--max", o[0].value, 1, 1000000000, &max))
        return CLI_EXIT_INVALID;
    if (!(db = cli_open(cli, 0)))
        return CLI_EXIT_FAILURE;
    rc = engram_jobs_run(db, (int)max, &done);
    if (rc != ENGRAM_OK)
        return cli_fail(cli, rc, "jobs run");
    printf("{\"done\":%d}\n", done);
    return fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}
