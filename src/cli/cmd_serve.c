/*
 * cmd_serve.c - `engram serve`: parse the server's options, open the store with its
 * background job worker, and hand both to src/server/ until SIGTERM or SIGINT.
 *
 *   engram [--db URI] serve [--listen HOST:PORT] [--max-body BYTES] [--max-import BYTES]
 *                           [--max-inflight N] [--max-connections N] [--threads N]
 *                           [--readers N] [--timeout SECONDS] [--drain-timeout SECONDS]
 *                           [--no-access-log]
 */
#include "cli/cli.h"
#include "server/server.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: engram serve [--listen HOST:PORT] [--max-body BYTES] [--max-import BYTES]\n"
    "                    [--max-inflight N] [--max-connections N] [--threads N]\n"
    "                    [--readers N] [--timeout SECONDS] [--drain-timeout SECONDS]\n"
    "                    [--no-access-log]\n"
    "  --threads 0 (default) serves each connection on its own thread; N > 0 uses a pool\n"
    "  of N epoll workers instead.\n"
    "  --readers N opens N more store handles for reads (default: one per core), so reads\n"
    "  run in parallel with each other and with writes.\n";

/* Parse a whole decimal number in [lo, hi]. Returns 0, or -1 after printing why. */
static int parse_num(const char *opt, const char *s, unsigned long long lo, unsigned long long hi,
                     unsigned long long *out)
{
    char *end;
    unsigned long long v;

    errno = 0;
    if (!s || !*s || *s == '-')
        goto bad;
    v = strtoull(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        goto bad;
    *out = v;
    return 0;
bad:
    cli_usage("serve: %s wants a number from %llu to %llu, got '%s'", opt, lo, hi, s ? s : "");
    return -1;
}

int cmd_serve(struct cli *cli, int argc, char **argv)
{
    struct srv_config cfg;
    engram *db, **readers = NULL;
    unsigned n = 0;
    int i, code;

    srv_config_defaults(&cfg);
    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        const char *eq = strchr(a, '=');
        char name[32];
        unsigned long long v;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(usage, stdout);
            return CLI_EXIT_OK;
        }
        if (strcmp(a, "--no-access-log") == 0) {
            cfg.access_log = 0;
            continue;
        }
        /* --opt VALUE and --opt=VALUE both work. */
        if (eq && (size_t)(eq - a) < sizeof(name)) {
            memcpy(name, a, (size_t)(eq - a));
            name[eq - a] = '\0';
            val = eq + 1;
        } else {
            snprintf(name, sizeof(name), "%s", a);
            if (i + 1 < argc)
                val = argv[++i];
        }
        if (!val) {
            fputs(usage, stderr);
            return cli_usage("serve: %s needs a value", name);
        }
        if (strcmp(name, "--listen") == 0) {
            cfg.listen = val;
        } else if (strcmp(name, "--max-body") == 0) {
            if (parse_num(name, val, 1, 1ull << 30, &v))
                return CLI_EXIT_INVALID;
            cfg.max_body = (size_t)v;
        } else if (strcmp(name, "--max-import") == 0) {
            if (parse_num(name, val, 1, 4ull << 30, &v))
                return CLI_EXIT_INVALID;
            cfg.max_import = (size_t)v;
        } else if (strcmp(name, "--max-inflight") == 0) {
            if (parse_num(name, val, 1, 1000000, &v))
                return CLI_EXIT_INVALID;
            cfg.max_inflight = (unsigned)v;
        } else if (strcmp(name, "--max-connections") == 0) {
            if (parse_num(name, val, 1, 1000000, &v))
                return CLI_EXIT_INVALID;
            cfg.max_connections = (unsigned)v;
        } else if (strcmp(name, "--threads") == 0) {
            if (parse_num(name, val, 0, 1024, &v))
                return CLI_EXIT_INVALID;
            cfg.threads = (unsigned)v;
        } else if (strcmp(name, "--readers") == 0) {
            if (parse_num(name, val, 0, 256, &v))
                return CLI_EXIT_INVALID;
            cfg.readers = (unsigned)v;
        } else if (strcmp(name, "--timeout") == 0) {
            if (parse_num(name, val, 1, 86400, &v))
                return CLI_EXIT_INVALID;
            cfg.timeout_s = (unsigned)v;
        } else if (strcmp(name, "--drain-timeout") == 0) {
            if (parse_num(name, val, 0, 86400, &v))
                return CLI_EXIT_INVALID;
            cfg.drain_s = (unsigned)v;
        } else {
            fputs(usage, stderr);
            return cli_usage("serve: unknown option %s", name);
        }
    }

    db = cli_open(cli, 1);
    if (!db)
        return CLI_EXIT_FAILURE;
    /* Read handles: opened like cli_open() does, minus the worker (one is enough). An
     * in-memory or otherwise unshareable store simply gets none. */
    if (strcmp(cli->db_uri, ":memory:") == 0 || strstr(cli->db_uri, "mode=memory") ||
        strncmp(cli->db_uri, "file::memory:", 13) == 0)
        cfg.readers = 0; /* every handle would be a separate, empty store */
    if (cfg.readers > 0) {
        readers = calloc(cfg.readers, sizeof(*readers));
        if (!readers) {
            engram_close(db);
            cli->db = NULL;
            return cli_fail(cli, ENGRAM_NOMEM, "serve");
        }
    }
    for (n = 0; n < cfg.readers; n++) {
        engram_options opt;
        cli_options(&opt, 0);
        if (engram_open(cli->db_uri, &opt, &readers[n]) != ENGRAM_OK) {
            fprintf(stderr, "engram: serve: read handle %u: %s; serving reads on the writer\n",
                    n + 1, readers[n] ? engram_errmsg(readers[n]) : "out of memory");
            engram_close(readers[n]);
            break;
        }
    }
    code = srv_run(db, readers, n, &cfg);
    /* Close here, after the daemon has stopped, so no request is still inside the
     * library; the worker finishes its current job inside engram_close(). */
    while (n > 0)
        engram_close(readers[--n]);
    free(readers);
    engram_close(db);
    cli->db = NULL;
    return code;
}
