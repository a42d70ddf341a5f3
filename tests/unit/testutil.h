/*
 * testutil.h - shared by the unit tests: cmocka includes, a fresh store per test in a
 * private temp directory, and JSON helpers that print both sides when they fail.
 *
 * With ENGRAM_TEST_PG set to a PostgreSQL URI (postgresql://user@host:port/db, as printed
 * by scripts/pg-test.sh), each store is instead a fresh database created on that server
 * and dropped by tstore_close(), so the same tests run against both backends. The temp
 * directory still exists (tests may put SQLite files of their own in it).
 */
#ifndef EG_TESTUTIL_H
#define EG_TESTUTIL_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>
#include <libpq-fe.h>
#include <sqlite3.h>

#include "engram.h"

struct tstore {
    char dir[256];
    char path[512];
    char pgdb[64]; /* the database made for this store, "" on SQLite */
    engram *db;
};

/* The first column of the one row sql gives, read with a plain SQLite connection; fails the
 * test when there is no row. */
static inline sqlite3_int64 sqlite_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st;
    sqlite3_int64 v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

/* Run one statement on the server of ENGRAM_TEST_PG (its own database); fails the test. */
static inline void tstore_pg_exec(const char *base, const char *sql)
{
    PGconn *c = PQconnectdb(base);
    PGresult *r;

    if (PQstatus(c) != CONNECTION_OK)
        fail_msg("ENGRAM_TEST_PG=%s: %s", base, PQerrorMessage(c));
    r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK)
        fail_msg("%s: %s", sql, PQerrorMessage(c));
    PQclear(r);
    PQfinish(c);
}

/* A new database on the ENGRAM_TEST_PG server; t->path becomes its URI. */
static inline void tstore_pg_create(struct tstore *t, const char *base)
{
    static unsigned seq;
    const char *host = strstr(base, "://"), *slash, *query;
    char sql[160];
    int n;

    assert_non_null(host);
    slash = strchr(host + 3, '/');
    if (!slash)
        slash = base + strlen(base);
    query = strchr(slash, '?');
    snprintf(t->pgdb, sizeof(t->pgdb), "engram_t%ld_%u", (long)getpid(), ++seq);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s TEMPLATE template0", t->pgdb);
    tstore_pg_exec(base, sql);
    n = snprintf(t->path, sizeof(t->path), "%.*s/%s%s", (int)(slash - base), base, t->pgdb,
                 query ? query : "");
    assert_true(n > 0 && (size_t)n < sizeof(t->path));
}

static inline void tstore_open(struct tstore *t)
{
    engram_options opt = {0};
    const char *pg = getenv("ENGRAM_TEST_PG");
    int rc;

    if (!t->dir[0]) {
        snprintf(t->dir, sizeof(t->dir), "/tmp/engram-test-XXXXXX");
        assert_non_null(mkdtemp(t->dir));
        snprintf(t->path, sizeof(t->path), "%s/test.db", t->dir);
        if (pg && *pg)
            tstore_pg_create(t, pg);
    }
    opt.size = sizeof(opt);
    opt.no_worker = 1;
    rc = engram_open(t->path, &opt, &t->db);
    if (rc != ENGRAM_OK)
        fail_msg("engram_open(%s): %s", t->path, engram_errmsg(t->db));
}

static inline void tstore_reopen(struct tstore *t)
{
    engram_close(t->db);
    t->db = NULL;
    tstore_open(t);
}

static inline void tstore_close(struct tstore *t)
{
    char cmd[400];

    engram_close(t->db);
    t->db = NULL;
    if (t->pgdb[0]) {
        char sql[160];
        snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", t->pgdb);
        tstore_pg_exec(getenv("ENGRAM_TEST_PG"), sql);
        t->pgdb[0] = '\0';
    }
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", t->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", t->dir);
}

/* Check an engram_* call that must succeed and parse its answer (freed here). Usage:
 *   char *out; json_t *j = ok_json(db, engram_profile_get(db, NULL, "c", req, &out), &out,
 *                                  "profile");
 * The answer is read through the pointer after the call has set it. */
static inline json_t *ok_json(engram *db, int rc, char **outp, const char *what)
{
    char *out = *outp;
    json_t *j;

    if (rc != ENGRAM_OK)
        fail_msg("%s failed: rc=%d %s (%s)", what, rc, engram_errmsg(db), engram_errname(db));
    j = json_loads(out, 0, NULL);
    if (!j)
        fail_msg("%s answered invalid JSON: %s", what, out);
    engram_free(out);
    *outp = NULL;
    return j;
}

/* Check that a call failed with the expected status; prints both sides. */
static inline void want_rc(engram *db, int rc, int want, const char *what)
{
    if (rc != want)
        fail_msg("%s: got rc=%d (%s), want %d", what, rc, rc ? engram_errmsg(db) : "ok", want);
}

static inline const char *jstr(json_t *o, const char *path)
{
    /* "a.b.c" path of object keys; a numeric part indexes an array ("diff.0.key") */
    char buf[128], *p, *dot;
    json_t *v = o;

    snprintf(buf, sizeof(buf), "%s", path);
    for (p = buf; v && p; p = dot ? dot + 1 : NULL) {
        dot = strchr(p, '.');
        if (dot)
            *dot = '\0';
        v = json_is_array(v) ? json_array_get(v, strtoul(p, NULL, 10)) : json_object_get(v, p);
    }
    return json_string_value(v);
}

#endif
