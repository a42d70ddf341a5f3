/*
 * store_pg.c - the PostgreSQL backend (libpq): the same store as store_sqlite.c for many
 * `engram serve` processes sharing one database.
 *
 * Owns the PostgreSQL schema (versioned in table schema_version, each migration step in its
 * own transaction under a cluster-wide advisory lock so two processes starting at once
 * cannot both migrate), a per-connection cache of prepared statements, the mapping of
 * SQLSTATEs to ENGRAM_* codes, and reconnection after the database restarts.
 *
 * Behaviour matches store_sqlite.c operation by operation: the same ORDER BY clauses (with
 * COLLATE "C" on every text key, so ties and scope lists sort bytewise as in SQLite), the
 * same NOTFOUND / CONFLICT cases, NULL for an absent id or time. Full-text search uses a
 * generated tsvector column over the 'english' configuration (Snowball, the stemmer of our
 * SQLite tokenizer) with a GIN index; scores are ts_rank, higher-is-better.
 *
 * Concurrency. One engram handle owns one connection and api.c serialises calls on it, so
 * nothing here locks; a server process that wants N concurrent store calls opens N handles
 * (docs/SCALING.md). Between processes:
 *   - Writers are serialised per (context, scope) with pg_advisory_xact_lock, taken by the
 *     first write of a transaction that touches the scope (turn_put, entity_ensure,
 *     attr_put, attr_close, erase_scope, job_claim). Ingest writes the turn before it reads
 *     the active attributes, and under READ COMMITTED every later statement sees what the
 *     previous lock holder committed, so supersession never leaves two active values for a
 *     single-valued key (tests/pg/test_two_servers.sh checks this).
 *   - idem_get locks (context, key) first, so two racing retries of one request answer the
 *     same as on SQLite (the second waits and replays) rather than a 409.
 *   - Jobs are claimed with FOR UPDATE SKIP LOCKED. A job left 'running' by a crashed node
 *     is claimable again once its lease (JOB_LEASE_MS since its last update) has run out;
 *     SQLite's "reset running jobs on open" would steal live jobs from other nodes.
 *
 * Tenancy (Citus). Every tenant table carries context and scope, with `context` first in
 * its primary key, and is distributed by it; foreign keys stay inside one context. jobs
 * (context, scope, a queue claimed across tenants) and api_keys (a reference table) are
 * the exceptions. See docs/SCALING.md.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/internal.h"
#include "util/buf.h"

#define STMT_CACHE   96
#define MAX_PARAMS   20
#define LOCK_CACHE   16
#define JOB_LEASE_MS 60000 /* a running job not touched for this long is presumed orphaned */

/* pg_advisory_xact_lock(bigint) key that serialises migrations across processes. */
#define MIGRATION_LOCK "7310150745117812736" /* "engram" + schema, any fixed number */

struct eg_store {
    PGconn *conn;
    int in_tx;  /* a BEGIN is open on conn */
    int broken; /* the connection failed; reset before the next transaction */
    int busy_ms;
    char err[512];
    struct {
        char *sql;
        char name[16];
    } cache[STMT_CACHE];
    int ncache;
    unsigned next_stmt;
    uint64_t locked[LOCK_CACHE]; /* scope locks held by the open transaction */
    int nlocked;
    int8_t *vec; /* decode buffer for vec_scan rows */
    size_t vec_cap;
};

/* Text-format parameters for one statement; numbers are formatted into num[]. */
struct params {
    const char *v[MAX_PARAMS];
    char num[MAX_PARAMS][32];
    int n;
};

static void p_text(struct params *p, const char *v)
{
    p->v[p->n++] = v;
}

/* An id or optional string: "" is stored as NULL, as store_sqlite's bind_id does. */
static void p_id(struct params *p, const char *v)
{
    p->v[p->n++] = v && *v ? v : NULL;
}

static void p_int(struct params *p, int64_t v)
{
    snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)v);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

/* A time where 0 means "none" (valid_until). */
static void p_time(struct params *p, int64_t v)
{
    if (v)
        p_int(p, v);
    else
        p->v[p->n++] = NULL;
}

static void p_double(struct params *p, double v)
{
    /* %.17g round-trips every double exactly, so a value reads back bit-identical. */
    snprintf(p->num[p->n], sizeof(p->num[0]), "%.17g", v);
    p->v[p->n] = p->num[p->n];
    p->n++;
}

/* ---- schema -------------------------------------------------------------------------- */

/* Migration i brings schema_version from i to i+1. Append only; never edit a shipped step.
 * Text keys are COLLATE "C" so ordering and equality are bytewise, as in SQLite, whatever
 * the database's locale. */
static const char *const migrations[] = {
    /* 1: the data model of DESIGN.md section 2. */
    "CREATE TABLE sessions("
    "  context text COLLATE \"C\" NOT NULL, id text COLLATE \"C\" NOT NULL,"
    "  scope text COLLATE \"C\" NOT NULL, created_at bigint NOT NULL,"
    "  metadata text NOT NULL DEFAULT '{}', PRIMARY KEY (context, id));"
    "CREATE INDEX sessions_by_scope ON sessions(context, scope, created_at);"
    "CREATE TABLE turns("
    "  context text COLLATE \"C\" NOT NULL, id text COLLATE \"C\" NOT NULL,"
    "  rid bigserial NOT NULL, scope text COLLATE \"C\" NOT NULL,"
    "  session_id text COLLATE \"C\", role text COLLATE \"C\" NOT NULL,"
    "  content text NOT NULL, created_at bigint NOT NULL, recorded_at bigint NOT NULL,"
    "  metadata text NOT NULL DEFAULT '{}',"
    "  tsv tsvector GENERATED ALWAYS AS (to_tsvector('english'::regconfig, content)) STORED,"
    "  PRIMARY KEY (context, id),"
    "  FOREIGN KEY (context, session_id) REFERENCES sessions(context, id));"
    "CREATE INDEX turns_by_session ON turns(context, session_id, created_at, rid);"
    "CREATE INDEX turns_by_scope ON turns(context, scope, created_at, rid);"
    "CREATE INDEX turns_fts ON turns USING gin(tsv);"
    "CREATE TABLE entities("
    "  context text COLLATE \"C\" NOT NULL, id text COLLATE \"C\" NOT NULL,"
    "  scope text COLLATE \"C\" NOT NULL, type text COLLATE \"C\" NOT NULL,"
    "  name text COLLATE \"C\" NOT NULL, created_at bigint NOT NULL,"
    "  PRIMARY KEY (context, id), UNIQUE (context, scope, type, name));"
    "CREATE TABLE attributes("
    "  context text COLLATE \"C\" NOT NULL, id text COLLATE \"C\" NOT NULL,"
    "  rid bigserial NOT NULL, scope text COLLATE \"C\" NOT NULL,"
    "  entity_id text COLLATE \"C\" NOT NULL, category text COLLATE \"C\" NOT NULL,"
    "  key text COLLATE \"C\" NOT NULL, value text COLLATE \"C\" NOT NULL,"
    "  confidence double precision NOT NULL, importance double precision NOT NULL,"
    "  source_turn text COLLATE \"C\", valid_from bigint NOT NULL, valid_until bigint,"
    "  recorded_at bigint NOT NULL, supersedes text COLLATE \"C\","
    "  PRIMARY KEY (context, id),"
    "  FOREIGN KEY (context, entity_id) REFERENCES entities(context, id));"
    "CREATE INDEX attrs_by_scope ON attributes(context, scope, valid_until);"
    "CREATE INDEX attrs_by_entity ON attributes(context, entity_id, key, valid_until);"
    "CREATE INDEX attrs_by_id ON attributes(id);"
    "CREATE TABLE audit("
    "  context text COLLATE \"C\" NOT NULL, id text COLLATE \"C\" NOT NULL,"
    "  rid bigserial NOT NULL, scope text COLLATE \"C\" NOT NULL, at bigint NOT NULL,"
    "  actor text NOT NULL, action text NOT NULL, target text NOT NULL,"
    "  detail text NOT NULL DEFAULT '{}', request_id text, PRIMARY KEY (context, id));"
    "CREATE INDEX audit_by_scope ON audit(context, scope, at, rid);"
    "CREATE TABLE jobs("
    "  rid bigserial PRIMARY KEY, context text COLLATE \"C\" NOT NULL,"
    "  turn_id text COLLATE \"C\" NOT NULL, state text NOT NULL DEFAULT 'pending',"
    "  attempts integer NOT NULL DEFAULT 0, created_at bigint NOT NULL,"
    "  updated_at bigint NOT NULL, last_error text);"
    "CREATE INDEX jobs_open ON jobs(rid) WHERE state IN ('pending', 'running');"
    "CREATE INDEX jobs_by_turn ON jobs(context, turn_id);"
    "CREATE TABLE idempotency("
    "  context text COLLATE \"C\" NOT NULL, key text COLLATE \"C\" NOT NULL,"
    "  scope text COLLATE \"C\" NOT NULL, request_hash text NOT NULL, response text NOT NULL,"
    "  created_at bigint NOT NULL, PRIMARY KEY (context, key));"
    "CREATE INDEX idempotency_by_scope ON idempotency(context, scope);"
    "CREATE TABLE api_keys("
    "  id text COLLATE \"C\" PRIMARY KEY, context text COLLATE \"C\" NOT NULL,"
    "  scope_floor text COLLATE \"C\" NOT NULL DEFAULT '', grants text NOT NULL,"
    "  hash bytea NOT NULL, created_at bigint NOT NULL, revoked_at bigint);",
    /* 2: item vectors for retrieval (store_sqlite's migration 3), keyed by scope first so
     * a context query reads one scope's vectors as one index range. */
    "CREATE TABLE item_vectors("
    "  context text COLLATE \"C\" NOT NULL, scope text COLLATE \"C\" NOT NULL,"
    "  kind text COLLATE \"C\" NOT NULL, item_id text COLLATE \"C\" NOT NULL,"
    "  at bigint NOT NULL, dim integer NOT NULL, scale double precision NOT NULL,"
    "  vec bytea NOT NULL, PRIMARY KEY (context, scope, kind, item_id));",
    /* 3: jobs carry their turn's scope (the tenant key, and the scope lock a claim takes
     * without a second query). */
    "ALTER TABLE jobs ADD COLUMN scope text COLLATE \"C\";"
    "UPDATE jobs j SET scope = t.scope FROM turns t WHERE t.context = j.context"
    "  AND t.id = j.turn_id;",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* ---- errors -------------------------------------------------------------------------- */

static int conn_lost(struct eg_store *s)
{
    return !s->conn || PQstatus(s->conn) != CONNECTION_OK;
}

/* Describe the server without the URI, which may hold a password. */
static void where(struct eg_store *s, char *out, size_t n)
{
    const char *h = s->conn ? PQhost(s->conn) : NULL, *p = s->conn ? PQport(s->conn) : NULL;
    const char *d = s->conn ? PQdb(s->conn) : NULL;

    snprintf(out, n, "%s:%s/%s", h && *h ? h : "localhost", p && *p ? p : "5432", d ? d : "");
}

/* One line of libpq's (possibly multi-line) message. */
static void first_line(const char *msg, char *out, size_t n)
{
    size_t len = strcspn(msg ? msg : "", "\n");

    if (len >= n)
        len = n - 1;
    memcpy(out, msg ? msg : "", len);
    out[len] = '\0';
}

static int unavailable(struct eg_store *s, const char *msg)
{
    char at[120], line[240];

    s->broken = 1;
    where(s, at, sizeof(at));
    first_line(msg, line, sizeof(line));
    snprintf(s->err, sizeof(s->err), "PostgreSQL at %s is unavailable (%s); retry when it is back",
             at, *line ? line : "connection lost");
    return ENGRAM_UNAVAILABLE;
}

/* Map a failed result (or none) to an ENGRAM_* code and s->err; clears res. */
static int fail(struct eg_store *s, PGresult *res)
{
    const char *field = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    char line[400], code[8] = "", *state = NULL;
    int rc = ENGRAM_ERROR;

    if (field) { /* copied: it lives in res, which we free here */
        snprintf(code, sizeof(code), "%s", field);
        state = code;
    }
    /* The primary message alone ("duplicate key value violates ..."), without libpq's
     * "ERROR:  " prefix and DETAIL lines, reads well inside an HTTP error body. */
    first_line(primary ? primary
               : res   ? PQresultErrorMessage(res)
                       : PQerrorMessage(s->conn),
               line, sizeof(line));
    if (!*line && s->conn)
        first_line(PQerrorMessage(s->conn), line, sizeof(line));
    if (res)
        PQclear(res);
    if (conn_lost(s) || (state && (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
                                   strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0 ||
                                   strncmp(state, "53", 2) == 0)))
        return unavailable(s, line);
    if (state) {
        if (strncmp(state, "23", 2) == 0) /* unique, foreign key, not null, check */
            rc = ENGRAM_CONFLICT;
        else if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
                 strcmp(state, "55P03") == 0 || strcmp(state, "57014") == 0)
            rc = ENGRAM_BUSY; /* serialization, deadlock, lock or statement timeout */
        else if (strncmp(state, "54", 2) == 0) /* program limit: e.g. tsvector too long */
            rc = ENGRAM_TOOBIG;
        else if (strcmp(state, "22021") == 0 || strcmp(state, "22P05") == 0)
            rc = ENGRAM_INVALID; /* bytes PostgreSQL cannot store in text */
    }
    snprintf(s->err, sizeof(s->err), "postgresql: %s%s%s%s", line, state ? " (SQLSTATE " : "",
             state ? state : "", state ? ")" : "");
    return rc;
}

/* ---- connection and statements ------------------------------------------------------- */

static void quiet_notices(void *arg, const char *msg)
{
    (void)arg;
    (void)msg; /* NOTICEs (stop-word-only queries, IF NOT EXISTS) are not errors */
}

static void forget_statements(struct eg_store *s)
{
    for (int i = 0; i < s->ncache; i++)
        free(s->cache[i].sql);
    s->ncache = 0;
}

/* Settings every fresh connection needs; run after connect and after each reset. */
static int session_setup(struct eg_store *s, int busy_ms)
{
    char sql[160];
    PGresult *res;

    PQsetNoticeProcessor(s->conn, quiet_notices, NULL);
    /* lock_timeout plays SQLite's busy_timeout: a writer queued behind another node's
     * transaction on the same scope waits this long, then answers ENGRAM_BUSY. */
    snprintf(sql, sizeof(sql),
             "SET lock_timeout = %d; SET client_min_messages = warning;"
             " SET application_name = 'engram'",
             busy_ms > 0 ? busy_ms : 5000);
    res = PQexec(s->conn, sql);
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        return fail(s, res);
    PQclear(res);
    return ENGRAM_OK;
}

/*
 * Make the connection usable before a statement that starts a unit of work: after a
 * failure (or a server restart noticed by libpq) reset it once. Inside a transaction a
 * lost connection cannot heal (the transaction is gone with it): ENGRAM_UNAVAILABLE.
 */
static int ready(struct eg_store *s)
{
    if (!s->broken && !conn_lost(s))
        return ENGRAM_OK;
    if (s->in_tx)
        return unavailable(s, PQerrorMessage(s->conn));
    PQreset(s->conn);
    forget_statements(s); /* server-side prepared statements died with the old session */
    if (PQstatus(s->conn) != CONNECTION_OK)
        return unavailable(s, PQerrorMessage(s->conn));
    s->broken = 0;
    return session_setup(s, s->busy_ms);
}

/* Run sql with params; *out is the result (PGRES_TUPLES_OK or COMMAND_OK) to PQclear. A
 * statement outside a transaction that failed only because the connection had died is
 * retried once on a fresh connection: outside a transaction we only read. */
static int run(struct eg_store *s, const char *sql, const struct params *p, PGresult **out)
{
    PGresult *res;
    const char *name = NULL;
    int i, attempt, rc;

    *out = NULL;
    for (attempt = 0; attempt < 2; attempt++) {
        if ((rc = ready(s)) != ENGRAM_OK)
            return rc;
        name = NULL;
        for (i = 0; i < s->ncache; i++) {
            if (strcmp(s->cache[i].sql, sql) == 0) {
                name = s->cache[i].name;
                break;
            }
        }
        if (!name) {
            char *copy = strdup(sql);
            if (!copy) {
                snprintf(s->err, sizeof(s->err), "out of memory");
                return ENGRAM_NOMEM;
            }
            if (s->ncache == STMT_CACHE) { /* evict the oldest; dynamic SQL can churn */
                char dealloc[48];
                snprintf(dealloc, sizeof(dealloc), "DEALLOCATE %s", s->cache[0].name);
                PQclear(PQexec(s->conn, dealloc)); /* a leaked server statement is harmless */
                free(s->cache[0].sql);
                memmove(&s->cache[0], &s->cache[1], sizeof(s->cache[0]) * (STMT_CACHE - 1));
                s->ncache--;
            }
            snprintf(s->cache[s->ncache].name, sizeof(s->cache[0].name), "eg%u", s->next_stmt++);
            res = PQprepare(s->conn, s->cache[s->ncache].name, sql, 0, NULL);
            if (PQresultStatus(res) != PGRES_COMMAND_OK) {
                free(copy);
                rc = fail(s, res);
                if (rc == ENGRAM_UNAVAILABLE && !s->in_tx && attempt == 0)
                    continue;
                return rc;
            }
            PQclear(res);
            s->cache[s->ncache].sql = copy;
            name = s->cache[s->ncache++].name;
        }
        res = PQexecPrepared(s->conn, name, p ? p->n : 0, p ? p->v : NULL, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK || PQresultStatus(res) == PGRES_COMMAND_OK) {
            *out = res;
            return ENGRAM_OK;
        }
        rc = fail(s, res);
        if (rc == ENGRAM_UNAVAILABLE && !s->in_tx && attempt == 0)
            continue;
        return rc;
    }
    return rc;
}

/* Run a statement whose rows we do not need; *out_changed (may be NULL) gets the count. */
static int run_done(struct eg_store *s, const char *sql, const struct params *p,
                    int64_t *out_changed)
{
    PGresult *res;
    int rc = run(s, sql, p, &res);

    if (rc != ENGRAM_OK)
        return rc;
    if (out_changed)
        *out_changed = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return ENGRAM_OK;
}

/* Plain statements (transaction control, DDL): simple query protocol, no parameters. */
static int exec_simple(struct eg_store *s, const char *sql)
{
    PGresult *res = PQexec(s->conn, sql);

    if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK)
        return fail(s, res);
    PQclear(res);
    return ENGRAM_OK;
}

/* Column helpers: PQgetvalue gives "" for NULL, which is what rows want for ids. */
static char *col_view(const PGresult *r, int row, int c)
{
    return PQgetvalue(r, row, c);
}

static char *col_dup(const PGresult *r, int row, int c)
{
    return strdup(PQgetvalue(r, row, c));
}

static void col_id(const PGresult *r, int row, int c, char *out)
{
    snprintf(out, EG_ID_MAX, "%s", PQgetvalue(r, row, c));
}

static int64_t col_int(const PGresult *r, int row, int c)
{
    return PQgetisnull(r, row, c) ? 0 : strtoll(PQgetvalue(r, row, c), NULL, 10);
}

static double col_double(const PGresult *r, int row, int c)
{
    return strtod(PQgetvalue(r, row, c), NULL);
}

/*
 * A PostgreSQL array literal {"a","b"} of strings, for `= ANY($n::text[])`: one prepared
 * statement serves any number of scopes, where SQLite builds an IN (?,?,...) list.
 */
static int text_array(struct eg_buf *b, const char *const *v, size_t n)
{
    int rc = eg_buf_append(b, "{", 1);

    for (size_t i = 0; i < n && rc == ENGRAM_OK; i++) {
        if (i)
            rc = eg_buf_append(b, ",", 1);
        if (rc == ENGRAM_OK)
            rc = eg_buf_append(b, "\"", 1);
        for (const char *p = v[i]; *p && rc == ENGRAM_OK; p++)
            rc = *p == '"' || *p == '\\' ? eg_buf_printf(b, "\\%c", *p) : eg_buf_append(b, p, 1);
        if (rc == ENGRAM_OK)
            rc = eg_buf_append(b, "\"", 1);
    }
    return rc == ENGRAM_OK ? eg_buf_append(b, "}", 1) : rc;
}

/* ---- per-scope writer lock ----------------------------------------------------------- */

static uint64_t fnv(uint64_t h, const char *p)
{
    for (; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211ull;
    return (h ^ 0xff) * 1099511628211ull; /* separator, so ("ab","c") != ("a","bc") */
}

/*
 * Serialise writers of one (context, scope) across every process, until the transaction
 * ends. Taken once per transaction and scope; outside a transaction it is a no-op lock
 * that only lasts the statement, which is harmless.
 */
static int lock_scope(struct eg_store *s, const char *context, const char *scope)
{
    struct params p = {0};
    uint64_t h = fnv(fnv(14695981039346656037ull, context), scope);
    int rc;

    for (int i = 0; i < s->nlocked; i++) {
        if (s->locked[i] == h)
            return ENGRAM_OK;
    }
    p_text(&p, context);
    p_text(&p, scope);
    rc = run_done(s, "SELECT pg_advisory_xact_lock(hashtext($1), hashtext($2))", &p, NULL);
    if (rc == ENGRAM_OK && s->in_tx && s->nlocked < LOCK_CACHE)
        s->locked[s->nlocked++] = h;
    return rc;
}

/* ---- migrations ---------------------------------------------------------------------- */

static int migrate(struct eg_store *s)
{
    PGresult *res;
    int rc, version;

    for (;;) {
        /* One transaction per step; the advisory lock makes a second process starting at
         * the same moment wait, then see the new version and do nothing. */
        if ((rc = exec_simple(s, "BEGIN")) != ENGRAM_OK)
            return rc;
        if ((rc = exec_simple(s, "SELECT pg_advisory_xact_lock(" MIGRATION_LOCK ")")) !=
                ENGRAM_OK ||
            (rc = exec_simple(s, "CREATE TABLE IF NOT EXISTS schema_version("
                                 " version integer NOT NULL, applied_at timestamptz NOT NULL"
                                 " DEFAULT now())")) != ENGRAM_OK)
            goto rollback;
        res = PQexec(s->conn, "SELECT coalesce(max(version), 0) FROM schema_version");
        if (PQresultStatus(res) != PGRES_TUPLES_OK) {
            rc = fail(s, res);
            goto rollback;
        }
        version = (int)strtol(PQgetvalue(res, 0, 0), NULL, 10);
        PQclear(res);
        if (version > SCHEMA_VERSION) {
            snprintf(s->err, sizeof(s->err),
                     "store schema version %d is newer than this engram (%d); upgrade engram",
                     version, SCHEMA_VERSION);
            rc = ENGRAM_ERROR;
            goto rollback;
        }
        if (version == SCHEMA_VERSION)
            return exec_simple(s, "COMMIT");
        if ((rc = exec_simple(s, migrations[version])) != ENGRAM_OK) {
            char keep[sizeof(s->err)];
            memcpy(keep, s->err, sizeof(keep));
            snprintf(s->err, sizeof(s->err), "migration to schema %d failed: %.400s", version + 1,
                     keep);
            goto rollback;
        }
        {
            char sql[96];
            snprintf(sql, sizeof(sql), "INSERT INTO schema_version(version) VALUES (%d)",
                     version + 1);
            if ((rc = exec_simple(s, sql)) != ENGRAM_OK)
                goto rollback;
        }
        if ((rc = exec_simple(s, "COMMIT")) != ENGRAM_OK)
            return rc;
    }

rollback:
    PQclear(PQexec(s->conn, "ROLLBACK"));
    return rc;
}

/* ---- lifecycle ----------------------------------------------------------------------- */

static int pg_accepts(const char *uri)
{
    /* URIs, or a libpq key=value string ("host=db dbname=engram"); store_sqlite refuses
     * anything with '=' so a file can never be mistaken for one. */
    return strncmp(uri, "postgres://", 11) == 0 || strncmp(uri, "postgresql://", 13) == 0 ||
           strchr(uri, '=') != NULL;
}

static void pg_close(struct eg_store *s)
{
    if (!s)
        return;
    forget_statements(s);
    if (s->conn)
        PQfinish(s->conn);
    free(s->vec);
    free(s);
}

static int pg_open(const char *uri, int busy_ms, struct eg_store **out, char *err, size_t errlen)
{
    /* connect_timeout comes before dbname so a value in the URI overrides ours: without
     * one, libpq waits for the kernel's TCP timeout when the database host is down. */
    const char *keys[] = {"connect_timeout", "fallback_application_name", "dbname", NULL};
    const char *vals[] = {"5", "engram", uri, NULL};
    struct eg_store *s;
    int rc;

    *out = NULL;
    s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return ENGRAM_NOMEM;
    }
    s->busy_ms = busy_ms > 0 ? busy_ms : 5000;
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (!s->conn) {
        snprintf(err, errlen, "out of memory");
        pg_close(s);
        return ENGRAM_NOMEM;
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        char line[300], at[200];
        first_line(PQerrorMessage(s->conn), line, sizeof(line));
        where(s, at, sizeof(at));
        snprintf(err, errlen, "cannot connect to PostgreSQL store at %s: %s", at, line);
        pg_close(s);
        return ENGRAM_UNAVAILABLE;
    }
    if ((rc = session_setup(s, s->busy_ms)) != ENGRAM_OK || (rc = migrate(s)) != ENGRAM_OK) {
        snprintf(err, errlen, "cannot open PostgreSQL store: %s", s->err);
        pg_close(s);
        return rc;
    }
    *out = s;
    return ENGRAM_OK;
}

static const char *pg_errmsg(struct eg_store *s)
{
    return s->err;
}

static int pg_begin(struct eg_store *s, int write)
{
    PGresult *res;
    int rc, attempt;

    s->nlocked = 0;
    /* A write transaction is READ COMMITTED plus the per-scope advisory locks; a read
     * transaction (export) is one consistent snapshot, as SQLite's read transaction is. */
    for (attempt = 0; attempt < 2; attempt++) {
        if ((rc = ready(s)) != ENGRAM_OK)
            return rc;
        res = PQexec(s->conn, write ? "BEGIN" : "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
        if (PQresultStatus(res) == PGRES_COMMAND_OK) {
            PQclear(res);
            s->in_tx = 1;
            return ENGRAM_OK;
        }
        rc = fail(s, res); /* a restarted server: reset and try once more */
        if (rc != ENGRAM_UNAVAILABLE)
            return rc;
    }
    return rc;
}

static int pg_commit(struct eg_store *s)
{
    PGresult *res = PQexec(s->conn, "COMMIT");
    int rc = ENGRAM_OK;

    /* COMMIT of an aborted transaction "succeeds" as a ROLLBACK: that is a failure. */
    if (PQresultStatus(res) != PGRES_COMMAND_OK)
        rc = fail(s, res);
    else if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
        PQclear(res);
        snprintf(s->err, sizeof(s->err), "postgresql: transaction was aborted; rolled back");
        rc = ENGRAM_ERROR;
    } else
        PQclear(res);
    s->in_tx = 0;
    s->nlocked = 0;
    return rc;
}

static void pg_rollback(struct eg_store *s)
{
    if (s->in_tx && !conn_lost(s))
        PQclear(PQexec(s->conn, "ROLLBACK"));
    s->in_tx = 0;
    s->nlocked = 0;
}

/* ---- sessions ------------------------------------------------------------------------ */

static int pg_session_put(struct eg_store *s, const struct eg_session *in)
{
    struct params p = {0};

    p_text(&p, in->id);
    p_text(&p, in->context);
    p_text(&p, in->scope);
    p_int(&p, in->created_at);
    p_text(&p, in->metadata ? in->metadata : "{}");
    return run_done(s,
                    "INSERT INTO sessions(id, context, scope, created_at, metadata)"
                    " VALUES ($1,$2,$3,$4,$5)",
                    &p, NULL);
}

static void read_session(const PGresult *r, int row, struct eg_session *out, int view)
{
    col_id(r, row, 0, out->id);
    out->context = view ? col_view(r, row, 1) : col_dup(r, row, 1);
    out->scope = view ? col_view(r, row, 2) : col_dup(r, row, 2);
    out->created_at = col_int(r, row, 3);
    out->metadata = view ? col_view(r, row, 4) : col_dup(r, row, 4);
}

static int pg_session_get(struct eg_store *s, const char *context, const char *id,
                          struct eg_session *out, int64_t *out_turns)
{
    struct params p = {0};
    PGresult *res;
    int rc;

    memset(out, 0, sizeof(*out));
    p_text(&p, context);
    p_text(&p, id);
    rc = run(s,
             "SELECT id, context, scope, created_at, metadata,"
             " (SELECT count(*) FROM turns t WHERE t.context = sessions.context"
             "  AND t.session_id = sessions.id)"
             " FROM sessions WHERE context = $1 AND id = $2",
             &p, &res);
    if (rc != ENGRAM_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        snprintf(s->err, sizeof(s->err), "no session '%.60s' in context '%.60s'", id, context);
        return ENGRAM_NOTFOUND;
    }
    read_session(res, 0, out, 0);
    if (out_turns)
        *out_turns = col_int(res, 0, 5);
    PQclear(res);
    if (!out->context || !out->scope || !out->metadata) {
        eg_session_clear(out);
        return ENGRAM_NOMEM;
    }
    return ENGRAM_OK;
}

static int pg_sessions_in_scope(struct eg_store *s, const char *context, const char *scope,
                                eg_session_cb cb, void *arg)
{
    struct params p = {0};
    PGresult *res;
    int rc, cbrc = ENGRAM_OK;

    p_text(&p, context);
    p_text(&p, scope);
    rc = run(s,
             "SELECT id, context, scope, created_at, metadata FROM sessions"
             " WHERE context = $1 AND scope = $2 ORDER BY created_at, id",
             &p, &res);
    if (rc != ENGRAM_OK)
        return rc;
    for (int i = 0; i < PQntuples(res) && cbrc == ENGRAM_OK; i++) {
        struct eg_session row;
        read_session(res, i, &row, 1);
        cbrc = cb(arg, &row);
    }
    PQclear(res);
    return cbrc;
}

/* ---- turns --------------------------------------------------------------------------- */

#define TURN_COLS                                                                                  \
    "t.id, t.session_id, t.context, t.scope, t.role, t.content, t.created_at, t.recorded_at,"      \
    " t.metadata"

static void read_turn(const PGresult *r, int row, struct eg_turn *out, int view)
{
    col_id(r, row, 0, out->id);
    col_id(r, row, 1, out->session_id);
    out->context = view ? col_view(r, row, 2) : col_dup(r, row, 2);
    out->scope = view ? col_view(r, row, 3) : col_dup(r, row, 3);
    snprintf(out->role, sizeof(out->role), "%s", PQgetvalue(r, row, 4));
    out->content = view ? col_view(r, row, 5) : col_dup(r, row, 5);
    out->created_at = col_int(r, row, 6);
    out->recorded_at = col_int(r, row, 7);
    out->metadata = view ? col_view(r, row, 8) : col_dup(r, row, 8);
}

static int pg_turn_put(struct eg_store *s, const struct eg_turn *in)
{
    struct params p = {0};
    int rc;

    /* The turn is the first write of an ingest: lock its scope before resolve reads the
     * active attributes, so a second node ingesting for this scope waits for our commit. */
    if ((rc = lock_scope(s, in->context, in->scope)) != ENGRAM_OK)
        return rc;
    p_text(&p, in->id);
    p_id(&p, in->session_id);
    p_text(&p, in->context);
    p_text(&p, in->scope);
    p_text(&p, in->role);
    p_text(&p, in->content);
    p_int(&p, in->created_at);
    p_int(&p, in->recorded_at);
    p_text(&p, in->metadata ? in->metadata : "{}");
    return run_done(s,
                    "INSERT INTO turns(id, session_id, context, scope, role, content,"
                    " created_at, recorded_at, metadata) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                    &p, NULL);
}

static int pg_turn_get(struct eg_store *s, const char *context, const char *id, struct eg_turn *out)
{
    struct params p = {0};
    PGresult *res;
    int rc;

    memset(out, 0, sizeof(*out));
    p_text(&p, context);
    p_text(&p, id);
    rc = run(s, "SELECT " TURN_COLS " FROM turns t WHERE t.context = $1 AND t.id = $2", &p, &res);
    if (rc != ENGRAM_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        snprintf(s->err, sizeof(s->err), "no turn '%.60s'", id);
        return ENGRAM_NOTFOUND;
    }
    read_turn(res, 0, out, 0);
    PQclear(res);
    if (!out->context || !out->scope || !out->content || !out->metadata) {
        eg_turn_clear(out);
        return ENGRAM_NOMEM;
    }
    return ENGRAM_OK;
}

/*
 * BM25 as SQLite's FTS5 computes it (k1 = 1.2, b = 0.75, idf = ln((N - n + 0.5) / (n + 0.5))
 * floored at 1e-6), so both stores pick much the same candidates: retrieve.c keeps only the
 * best TURN_CANDIDATES hits, and a ranking without idf (ts_rank) lets common words crowd
 * out the rare ones that carry a question.
 *
 * Each query word is stemmed by the 'english' configuration (Snowball, as our SQLite
 * tokenizer): plainto_tsquery builds the match (OR of the words, stop words dropped), and
 * the lexemes to count are read back out of that query's text ('lexeme', quotes doubled),
 * which costs far less than a second pass through the dictionaries. Term frequencies come
 * from the positions in each matching turn's tsvector; document length is the turn's
 * length in characters (bm25 only uses its ratio to the average). The statistics are those
 * of the reader's floor (N turns, their average length, n matching turns per term) where
 * FTS5 uses the whole table: the same weighting, at a cost bounded by the floor rather than
 * the store (on LoCoMo it recalls slightly more evidence than the global statistics).
 * MATERIALIZED keeps each CTE computed once (inlined, the statistics were recomputed per
 * row). Parameters: $1 context, $2 scopes, $3 words, $4 limit, $5 as_of (optional).
 */
#define BM25_SQL(ASOF)                                                                             \
    "WITH q AS MATERIALIZED (SELECT string_agg('(' || x::text || ')', ' | ')::tsquery AS q"        \
    "  FROM unnest($3::text[]) AS w, plainto_tsquery('english', w) AS x WHERE numnode(x) > 0),"    \
    " terms AS MATERIALIZED (SELECT array_agg(DISTINCT replace(m[1], '''''', '''')) AS lx"         \
    "  FROM q, regexp_matches(q.q::text, '''((?:[^'']|'''')+)''', 'g') AS m),"                     \
    " st AS MATERIALIZED (SELECT count(*)::float8 AS n,"                                           \
    "  coalesce(avg(char_length(t.content)), 1)::float8 AS avgdl FROM turns t"                     \
    "  WHERE t.context = $1 AND t.scope = ANY($2::text[])" ASOF "),"                               \
    " hit AS MATERIALIZED (SELECT t.id, char_length(t.content) AS dl, u.lexeme,"                   \
    "  coalesce(array_length(u.positions, 1), 1) AS tf FROM turns t, q, terms, unnest(t.tsv) u"    \
    "  WHERE t.context = $1 AND t.scope = ANY($2::text[])" ASOF " AND t.tsv @@ q.q"                \
    "  AND u.lexeme = ANY(terms.lx)),"                                                             \
    " df AS MATERIALIZED (SELECT lexeme, count(*)::float8 AS n FROM hit GROUP BY lexeme),"         \
    " sc AS (SELECT hit.id, sum(greatest(ln((st.n - df.n + 0.5) / (df.n + 0.5)), 1e-6)"            \
    "  * hit.tf * 2.2 / (hit.tf + 1.2 * (0.25 + 0.75 * greatest(hit.dl, 1) / st.avgdl)))"          \
    "  AS score FROM hit JOIN df USING (lexeme), st GROUP BY hit.id)"                              \
    " SELECT " TURN_COLS ", sc.score FROM sc JOIN turns t ON t.context = $1 AND t.id = sc.id"      \
    " ORDER BY sc.score DESC, t.rid LIMIT $4"

static int pg_turns_search(struct eg_store *s, const char *context, const char *const *scopes,
                           size_t nscopes, const char *const *terms, size_t nterms, int64_t as_of,
                           int limit, eg_turn_cb cb, void *arg)
{
    struct eg_buf sc = {0}, tm = {0};
    struct params p = {0};
    PGresult *res = NULL;
    int rc, cbrc = ENGRAM_OK;

    if (nscopes == 0 || nterms == 0)
        return ENGRAM_OK;
    if ((rc = text_array(&sc, scopes, nscopes)) != ENGRAM_OK ||
        (rc = text_array(&tm, terms, nterms)) != ENGRAM_OK)
        goto cleanup;
    p_text(&p, context);
    p_text(&p, sc.p);
    p_text(&p, tm.p);
    p_int(&p, limit > 0 ? limit : 100);
    if (as_of)
        p_int(&p, as_of);
    rc = run(s, as_of ? BM25_SQL(" AND t.created_at <= $5") : BM25_SQL(""), &p, &res);
    if (rc != ENGRAM_OK)
        goto cleanup;
    for (int i = 0; i < PQntuples(res) && cbrc == ENGRAM_OK; i++) {
        struct eg_turn row;
        read_turn(res, i, &row, 1);
        cbrc = cb(arg, &row, col_double(res, i, 9));
    }
    rc = cbrc;
cleanup:
    PQclear(res);
    eg_buf_reset(&sc);
    eg_buf_reset(&tm);
    return rc;
}

static int pg_turns_list(struct eg_store *s, const char *context, const char *session_id,
                         const char *scope, int64_t after, int limit, eg_turn_cb cb, void *arg)
{
    struct params p = {0};
    PGresult *res;
    int rc, cbrc = ENGRAM_OK;

    p_text(&p, context);
    p_text(&p, session_id ? session_id : scope);
    p_int(&p, after);
    if (limit > 0)
        p_int(&p, limit);
    else
        p_text(&p, NULL); /* LIMIT NULL: no limit */
    rc = run(s,
             session_id ? "SELECT " TURN_COLS " FROM turns t WHERE t.context = $1"
                          " AND t.session_id = $2 AND t.created_at >= $3"
                          " ORDER BY t.created_at, t.rid LIMIT $4"
                        : "SELECT " TURN_COLS " FROM turns t WHERE t.context = $1"
                          " AND t.scope = $2 AND t.created_at >= $3"
                          " ORDER BY t.created_at, t.rid LIMIT $4",
             &p, &res);
    if (rc != ENGRAM_OK)
        return rc;
    for (int i = 0; i < PQntuples(res) && cbrc == ENGRAM_OK; i++) {
        struct eg_turn row;
        read_turn(res, i, &row, 1);
        cbrc = cb(arg, &row, 0);
    }
    PQclear(res);
    return cbrc;
}

static int near_rows(PGresult *res, int sign, eg_turn_cb cb, void *arg)
{
    int cbrc = ENGRAM_OK;

    for (int i = 0; i < PQntuples(res) && cbrc == ENGRAM_OK; i++) {
        struct eg_turn row;
        read_turn(res, i, &row, 1);
        cbrc = cb(arg, &row, (double)(sign * (i + 1)));
    }
    PQclear(res);
    return cbrc;
}

static int pg_turns_near(struct eg_store *s, const char *context, const char *session_id,
                         const char *turn_id, int before, int after, eg_turn_cb cb, void *arg)
{
    struct params p = {0};
    PGresult *res;
    int rc = ENGRAM_OK;

    p_text(&p, context);
    p_text(&p, session_id);
    if (!turn_id) {
        p_int(&p, before);
        rc = run(s,
                 "SELECT " TURN_COLS " FROM turns t WHERE t.context = $1 AND"
                 " t.session_id = $2 ORDER BY t.created_at DESC, t.rid DESC LIMIT $3",
                 &p, &res);
        return rc == ENGRAM_OK ? near_rows(res, -1, cb, arg) : rc;
    }
    /* Row-value comparison on (created_at, rid), as store_sqlite: turns imported with one
     * timestamp per session still have a definite order. */
    p_text(&p, turn_id);
    if (before > 0) {
        p_int(&p, before);
        rc = run(s,
                 "SELECT " TURN_COLS " FROM turns t, turns h WHERE h.context = $1 AND"
                 " h.id = $3 AND t.context = $1 AND t.session_id = $2 AND"
                 " (t.created_at, t.rid) < (h.created_at, h.rid)"
                 " ORDER BY t.created_at DESC, t.rid DESC LIMIT $4",
                 &p, &res);
        if (rc == ENGRAM_OK)
            rc = near_rows(res, -1, cb, arg);
        p.n--;
    }
    if (rc == ENGRAM_OK && after > 0) {
        p_int(&p, after);
        rc = run(s,
                 "SELECT " TURN_COLS " FROM turns t, turns h WHERE h.context = $1 AND"
                 " h.id = $3 AND t.context = $1 AND t.session_id = $2 AND"
                 " (t.created_at, t.rid) > (h.created_at, h.rid)"
                 " ORDER BY t.created_at, t.rid LIMIT $4",
                 &p, &res);
        if (rc == ENGRAM_OK)
            rc = near_rows(res, 1, cb, arg);
    }
    return rc;
}

/* ---- item vectors -------------------------------------------------------------------- */

static const char hexdig[] = "0123456789abcdef";

static int unhex(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Bytes as bytea hex input, "\x0a1b..." (text-format parameters carry bytea this way). */
static int bytea_hex(struct eg_buf *b, const unsigned char *v, size_t n)
{
    int rc = eg_buf_append(b, "\\x", 2);

    for (size_t i = 0; i < n && rc == ENGRAM_OK; i++) {
        char two[2] = {hexdig[v[i] >> 4], hexdig[v[i] & 15]};
        rc = eg_buf_append(b, two, 2);
    }
    return rc;
}

/* Decode bytea hex output into out (n bytes); 0 on success, -1 when malformed. */
static int bytea_unhex(const char *h, unsigned char *out, size_t n)
{
    if (strlen(h) != 2 + 2 * n || h[0] != '\\' || h[1] != 'x')
        return -1;
    for (size_t i = 0; i < n; i++) {
        int hi = unhex(h[2 + 2 * i]), lo = unhex(h[3 + 2 * i]);
        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int pg_vec_put(struct eg_store *s, const char *context, const char *scope,
                      const char *item_id, const char *kind, int64_t at, const int8_t *v, int dim,
                      float scale)
{
    struct eg_buf hex = {0};
    struct params p = {0};
    int rc;

    if (dim < 0)
        return ENGRAM_MISUSE;
    if ((rc = bytea_hex(&hex, (const unsigned char *)v, (size_t)dim)) != ENGRAM_OK)
        return rc;
    p_text(&p, context);
    p_text(&p, scope);
    p_text(&p, kind);
    p_text(&p, item_id);
    p_int(&p, at);
    p_int(&p, dim);
    p_double(&p, scale);
    p_text(&p, hex.p);
    rc = run_done(s,
                  "INSERT INTO item_vectors(context, scope, kind, item_id, at, dim, scale,"
                  " vec) VALUES ($1,$2,$3,$4,$5,$6,$7,$8::bytea)"
                  " ON CONFLICT (context, scope, kind, item_id) DO UPDATE SET"
                  " at = excluded.at, dim = excluded.dim, scale = excluded.scale,"
                  " vec = excluded.vec",
                  &p, NULL);
    eg_buf_reset(&hex);
    return rc;
}

static int pg_vec_scan(struct eg_store *s, const char *context, const char *const *scopes,
                       size_t nscopes, const char *kind, int64_t as_of, eg_vec_cb cb, void *arg)
{
    struct eg_buf sc = {0};
    struct params p = {0};
    PGresult *res;
    int rc, cbrc = ENGRAM_OK;

    if (nscopes == 0)
        return ENGRAM_OK;
    if ((rc = text_array(&sc, scopes, nscopes)) != ENGRAM_OK)
        return rc;
    p_text(&p, context);
    p_text(&p, sc.p);
    p_text(&p, kind);
    p_int(&p, as_of ? as_of : INT64_MAX);
    /* Rows in the order of the scopes given, as store_sqlite's one-query-per-scope. */
    rc = run(s,
             "SELECT v.item_id, v.dim, v.scale, v.vec FROM item_vectors v,"
             " unnest($2::text[]) WITH ORDINALITY AS f(scope, n)"
             " WHERE v.context = $1 AND v.scope = f.scope AND v.kind = $3 AND v.at <= $4"
             " ORDER BY f.n, v.item_id",
             &p, &res);
    eg_buf_reset(&sc);
    if (rc != ENGRAM_OK)
        return rc;
    for (int i = 0; i < PQntuples(res) && cbrc == ENGRAM_OK; i++) {
        int64_t dim = col_int(res, i, 1);
        if (dim <= 0 || dim > 65536)
            continue; /* a damaged row is no vector, not a failed query */
        if ((size_t)dim > s->vec_cap) {
            int8_t *nv = realloc(s->vec, (size_t)dim);
            if (!nv) {
                cbrc = ENGRAM_NOMEM;
                break;
            }
            s->vec = nv;
            s->vec_cap = (size_t)dim;
        }
        if (bytea_unhex(PQgetvalue(res, i, 3), (unsigned char *)s->vec, (size_t)dim) != 0)
            continue;
        cbrc = cb(arg, col_view(res, i, 0), s->vec, (int)dim, (float)col_double(res, i, 2));
    }
    PQclear(res);
    return cbrc;
}

/* ---- idempotency --------------------------------------------------------------------- */

static int pg_idem_get(struct eg_store *s, const char *context, const char *key, char **out_hash,
                       char **out_response)
{
    struct params p = {0};
    PGresult *res;
    int rc;

    *out_hash = *out_response = NULL;
    p_text(&p, context);
    p_text(&p, key);
    /* Lock the key first: a racing retry on another node waits for the first attempt's
     * commit and then replays its answer, as SQLite's single writer makes it do. */
    if (s->in_tx &&
        (rc = run_done(s, "SELECT pg_advisory_xact_lock(hashtext($1), hashtext('idem:' || $2))", &p,
                       NULL)) != ENGRAM_OK)
        return rc;
    rc = run(s, "SELECT request_hash, response FROM idempotency WHERE context = $1 AND key = $2",
             &p, &res);
    if (rc != ENGRAM_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ENGRAM_NOTFOUND;
    }
    *out_hash = col_dup(res, 0, 0);
    *out_response = col_dup(res, 0, 1);
    PQclear(res);
    if (!*out_hash || !*out_response) {
        free(*out_hash);
        free(*out_response);
        *out_hash = *out_response = NULL;
        return ENGRAM_NOMEM;
    }
    return ENGRAM_OK;
}

static int pg_idem_put(struct eg_store *s, const char *context, const char *scope, const char *key,
                       const char *hash, const char *response, int64_t at)
{
    struct params p = {0};

    p_text(&p, context);
    p_text(&p, key);
    p_text(&p, scope);
    p_text(&p, hash);
    p_text(&p, response);
    p_int(&p, at);
    return run_done(s,
                    "INSERT INTO idempotency(context, key, scope, request_hash, response,"
                    " created_at) VALUES ($1,$2,$3,$4,$5,$6)",
                    &p, NULL);
}

/* ---- entities ------------------------------------------------------------------------ */

static int pg_entity_ensure(struct eg_store *s, const struct eg_entity *in, char *out_id)
{
    struct params p = {0};
    PGresult *res;
    int rc;

    if ((rc = lock_scope(s, in->context, in->scope)) != ENGRAM_OK)
        return rc;
    p_text(&p, in->context);
    p_text(&p, in->scope);
    p_text(&p, in->type);
    p_text(&p, in->name);
    rc = run(s,
             "SELECT id FROM entities WHERE context = $1 AND scope = $2 AND type = $3"
             " AND name = $4",
             &p, &res);
    if (rc != ENGRAM_OK)
        return rc;
    if (PQntuples(res) > 0) {
        col_id(res, 0, 0, out_id);
        PQclear(res);
        return ENGRAM_OK;
    }
    PQclear(res);
    p_text(&p, in->id);
    p_int(&p, in->created_at);
    rc = run_done(s,
                  "INSERT INTO entities(context, scope, type, name, id, created_at)"
                  " VALUES ($1,$2,$3,$4,$5,$6)",
                  &p, NULL);
    if (rc == ENGRAM_OK)
        snprintf(out_id, EG_ID_MAX, "%s", in->id);
    return rc;
}

static int pg_entities_in_scope(struct eg_store *s, const char *context, const char *scope,
                                eg_entity_cb cb, void *arg)
{
    struct params p = {0};
    PGresult *res;
    int rc, cbrc = ENGRAM_OK;

    p_text(&p, context);
    p_text(&p, scope);
    rc = run(s,
             "SELECT id, context, scope, type, name, created_at FROM entities"
             " WHERE context = $1 AND scope = $2 ORDER BY created_at, id",
             &p, &res);
    if (rc != ENGRAM_OK)
        return rc;
    for (int i = 0; i < PQntuples(res) && cbrc == ENGRAM_OK; i++) {
        struct eg_entity e;
        col_id(res, i, 0, e.id);
        e.context = col_view(res, i, 1);
        e.scope = col_view(res, i, 2);
        e.type = col_view(res, i, 3);
        e.name = col_view(res, i, 4);
        e.created_at = col_int(res, i, 5);
        cbrc = cb(arg, &e);
    }
    PQclear(res);
    return cbrc;
}

/* ---- attributes ---------------------------------------------------------------------- */

static int pg_attr_put(struct eg_store *s, const struct eg_attr *in)
{
    struct params p = {0};
    int rc;

    if ((rc = lock_scope(s, in->context, in->scope)) != ENGRAM_OK)
        return rc;
    p_text(&p, in->id);
    p_text(&p, in->context);
    p_text(&p, in->scope);
    p_text(&p, in->entity_id);
    p_text(&p, in->category);
    p_text(&p, in->key);
    p_text(&p, in->value);
    p_double(&p, in->confidence);
    p_double(&p, in->importance);
    p_id(&p, in->source_turn);
    p_int(&p, in->valid_from);
    p_time(&p, in->valid_until);
    p_int(&p, in->recorded_at);
    p_id(&p, in->supersedes);
    return run_done(s,
                    "INSERT INTO attributes(id, context, scope, entity_id, category, key,"
                    " value, confidence, importance, source_turn, valid_from, valid_until,"
                    " recorded_at, supersedes)"
                    " VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14)",
                    &p, NULL);
}

static int pg_attr_close(struct eg_store *s, const char *id, int64_t valid_until)
{
    struct params p = {0};
    PGresult *res;
    int rc;

    /* The interface names the attribute by id alone: find its tenant to take the scope
     * lock (a forget racing an ingest on another node then cannot interleave). */
    p_text(&p, id);
    rc = run(s, "SELECT context, scope FROM attributes WHERE id = $1 AND valid_until IS NULL", &p,
             &res);
    if (rc != ENGRAM_OK)
        return rc;
    for (int i = 0; i < PQntuples(res) && rc == ENGRAM_OK; i++)
        rc = lock_scope(s, PQgetvalue(res, i, 0), PQgetvalue(res, i, 1));
    PQclear(res);
    if (rc != ENGRAM_OK)
        return rc;
    p.n = 0;
    p_int(&p, valid_until);
    p_text(&p, id);
    return run_done(s,
                    "UPDATE attributes SET valid_until = $1 WHERE id = $2"
                    " AND valid_until IS NULL",
                    &p, NULL);
}

static int pg_attr_set_confidence(struct eg_store *s, const char *id, double confidence)
{
    struct params p = {0};

    p_double(&p, confidence);
    p_text(&p, id);
    return run_done(s, "UPDATE attributes SET confidence = $1 WHERE id = $2", &p, NULL);
}

/* Append pre + "$<next parameter number>" + post, binding v to that parameter. */
static int cond(struct eg_buf *sql, struct params *p, const char *pre, const char *v,
                const char *post)
{
    p_text(p, v);
    return eg_buf_printf(sql, "%s$%d%s", pre, p->n, post);
}

static int pg_attrs_query(struct eg_store *s, const struct eg_attr_filter *f, eg_attr_cb cb,
                          void *arg)
{
    struct eg_buf sql = {0}, sc = {0};
    struct params p = {0};
    PGresult *res = NULL;
    int rc, cbrc = ENGRAM_OK;

    p_text(&p, f->context);
    rc = eg_buf_puts(&sql, "SELECT a.id, a.context, a.scope, a.entity_id, e.type, e.name,"
                           " a.category, a.key, a.value, a.confidence, a.importance,"
                           " a.source_turn, a.valid_from, a.valid_until, a.recorded_at,"
                           " a.supersedes FROM attributes a JOIN entities e"
                           " ON e.context = a.context AND e.id = a.entity_id"
                           " WHERE a.context = $1");
    if (rc == ENGRAM_OK && f->scopes) {
        static const char *const none[] = {""};
        rc = f->nscopes ? text_array(&sc, f->scopes, f->nscopes) : text_array(&sc, none, 1);
        if (rc == ENGRAM_OK)
            rc = cond(&sql, &p, " AND a.scope = ANY(", sc.p, "::text[])");
    }
    if (rc == ENGRAM_OK && f->id)
        rc = cond(&sql, &p, " AND a.id = ", f->id, "");
    if (rc == ENGRAM_OK && f->entity_id)
        rc = cond(&sql, &p, " AND a.entity_id = ", f->entity_id, "");
    if (rc == ENGRAM_OK && f->entity_type)
        rc = cond(&sql, &p, " AND e.type = ", f->entity_type, "");
    if (rc == ENGRAM_OK && f->entity_name)
        rc = cond(&sql, &p, " AND e.name = ", f->entity_name, "");
    if (rc == ENGRAM_OK && f->key)
        rc = cond(&sql, &p, " AND a.key = ", f->key, "");
    if (rc == ENGRAM_OK && f->category)
        rc = cond(&sql, &p, " AND a.category = ", f->category, "");
    /* COLLATE "C": lower() folds ASCII only, exactly as SQLite's lower() does. */
    if (rc == ENGRAM_OK && f->value)
        rc = cond(&sql, &p, " AND lower(a.value) = lower(", f->value, "::text COLLATE \"C\")");
    if (rc == ENGRAM_OK && f->as_of) {
        p_int(&p, f->as_of);
        rc = eg_buf_printf(&sql,
                           " AND a.valid_from <= $%d AND (a.valid_until IS NULL OR"
                           " a.valid_until > $%d)",
                           p.n, p.n);
    } else if (rc == ENGRAM_OK && !f->include_expired)
        rc = eg_buf_puts(&sql, " AND a.valid_until IS NULL");
    if (rc == ENGRAM_OK && !f->unordered)
        rc = eg_buf_puts(&sql, " ORDER BY CASE a.category WHEN 'identity' THEN 0"
                               " WHEN 'knowledge' THEN 1 WHEN 'context' THEN 2"
                               " WHEN 'instructions' THEN 3 ELSE 4 END,"
                               " a.confidence DESC, a.valid_from DESC, a.id DESC");
    if (rc == ENGRAM_OK && f->limit > 0) {
        p_int(&p, f->limit);
        rc = eg_buf_printf(&sql, " LIMIT $%d", p.n);
    }
    if (rc != ENGRAM_OK)
        goto cleanup;
    if ((rc = run(s, sql.p, &p, &res)) != ENGRAM_OK)
        goto cleanup;
    for (int i = 0; i < PQntuples(res) && cbrc == ENGRAM_OK; i++) {
        struct eg_attr a;
        col_id(res, i, 0, a.id);
        a.context = col_view(res, i, 1);
        a.scope = col_view(res, i, 2);
        col_id(res, i, 3, a.entity_id);
        a.entity_type = col_view(res, i, 4);
        a.entity_name = col_view(res, i, 5);
        a.category = col_view(res, i, 6);
        a.key = col_view(res, i, 7);
        a.value = col_view(res, i, 8);
        a.confidence = col_double(res, i, 9);
        a.importance = col_double(res, i, 10);
        col_id(res, i, 11, a.source_turn);
        a.valid_from = col_int(res, i, 12);
        a.valid_until = col_int(res, i, 13);
        a.recorded_at = col_int(res, i, 14);
        col_id(res, i, 15, a.supersedes);
        cbrc = cb(arg, &a);
    }
    rc = cbrc;
cleanup:
    PQclear(res);
    eg_buf_reset(&sql);
    eg_buf_reset(&sc);
    return rc;
}

/* ---- audit --------------------------------------------------------------------------- */

static int pg_audit_put(struct eg_store *s, const struct eg_audit *in)
{
    struct params p = {0};

    p_text(&p, in->id);
    p_text(&p, in->context);
    p_text(&p, in->scope);
    p_int(&p, in->at);
    p_text(&p, in->actor ? in->actor : "local");
    p_text(&p, in->action);
    p_text(&p, in->target ? in->target : "");
    p_text(&p, in->detail ? in->detail : "{}");
    p_text(&p, in->request_id);
    return run_done(s,
                    "INSERT INTO audit(id, context, scope, at, actor, action, target, detail,"
                    " request_id) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9)",
                    &p, NULL);
}

static int audit_rows(PGresult *res, eg_audit_cb cb, void *arg)
{
    int cbrc = ENGRAM_OK;

    for (int i = 0; i < PQntuples(res) && cbrc == ENGRAM_OK; i++) {
        struct eg_audit a;
        col_id(res, i, 0, a.id);
        a.context = col_view(res, i, 1);
        a.scope = col_view(res, i, 2);
        a.at = col_int(res, i, 3);
        a.actor = col_view(res, i, 4);
        a.action = col_view(res, i, 5);
        a.target = col_view(res, i, 6);
        a.detail = col_view(res, i, 7);
        a.request_id = PQgetisnull(res, i, 8) ? NULL : col_view(res, i, 8);
        cbrc = cb(arg, &a);
    }
    PQclear(res);
    return cbrc;
}

static int pg_audit_list(struct eg_store *s, const char *context, const char *const *scopes,
                         size_t nscopes, int limit, eg_audit_cb cb, void *arg)
{
    static const char *const none[] = {""};
    struct eg_buf sc = {0};
    struct params p = {0};
    PGresult *res;
    int rc;

    rc = nscopes ? text_array(&sc, scopes, nscopes) : text_array(&sc, none, 1);
    if (rc != ENGRAM_OK)
        return rc;
    p_text(&p, context);
    p_text(&p, sc.p);
    p_int(&p, limit > 0 ? limit : 100);
    rc = run(s,
             "SELECT id, context, scope, at, actor, action, target, detail, request_id"
             " FROM audit WHERE context = $1 AND scope = ANY($2::text[])"
             " ORDER BY at DESC, rid DESC LIMIT $3",
             &p, &res);
    if (rc == ENGRAM_OK)
        rc = audit_rows(res, cb, arg);
    eg_buf_reset(&sc);
    return rc;
}

static int pg_audit_in_scope(struct eg_store *s, const char *context, const char *scope,
                             eg_audit_cb cb, void *arg)
{
    struct params p = {0};
    PGresult *res;
    int rc;

    p_text(&p, context);
    p_text(&p, scope);
    rc = run(s,
             "SELECT id, context, scope, at, actor, action, target, detail, request_id"
             " FROM audit WHERE context = $1 AND scope = $2 ORDER BY at, rid",
             &p, &res);
    return rc == ENGRAM_OK ? audit_rows(res, cb, arg) : rc;
}

/* ---- jobs ---------------------------------------------------------------------------- */

static int pg_job_put(struct eg_store *s, const char *context, const char *turn_id, int64_t at)
{
    struct params p = {0};

    p_text(&p, context);
    p_text(&p, turn_id);
    p_int(&p, at);
    return run_done(s,
                    "INSERT INTO jobs(context, turn_id, scope, created_at, updated_at)"
                    " VALUES ($1, $2, (SELECT scope FROM turns WHERE context = $1 AND id = $2),"
                    " $3, $3)",
                    &p, NULL);
}

static int pg_job_claim(struct eg_store *s, int64_t now, struct eg_job *out)
{
    struct params p = {0};
    PGresult *res;
    int rc;

    memset(out, 0, sizeof(*out));
    p_int(&p, now);
    p_int(&p, now - JOB_LEASE_MS);
    /* SKIP LOCKED: each node takes a different job instead of queueing on the same row.
     * A 'running' job whose lease ran out belongs to a node that died mid-job. */
    rc = run(s,
             "UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = $1"
             " WHERE rid = (SELECT rid FROM jobs WHERE state = 'pending'"
             "  OR (state = 'running' AND updated_at < $2)"
             "  ORDER BY rid LIMIT 1 FOR UPDATE SKIP LOCKED)"
             " RETURNING rid, context, turn_id, attempts - 1, scope",
             &p, &res);
    if (rc != ENGRAM_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ENGRAM_NOTFOUND;
    }
    out->rid = col_int(res, 0, 0);
    out->context = col_dup(res, 0, 1);
    col_id(res, 0, 2, out->turn_id);
    out->attempts = (int)col_int(res, 0, 3);
    /* The job will resolve facts for its turn's scope: take that scope's writer lock now,
     * before resolve reads the active attributes. No scope: the turn is gone (erased), and
     * the job will find nothing to do. */
    if (!out->context)
        rc = ENGRAM_NOMEM;
    else if (!PQgetisnull(res, 0, 4))
        rc = lock_scope(s, out->context, PQgetvalue(res, 0, 4));
    PQclear(res);
    if (rc != ENGRAM_OK)
        eg_job_clear(out);
    return rc;
}

static int pg_job_done(struct eg_store *s, int64_t rid)
{
    struct params p = {0};

    p_int(&p, rid);
    return run_done(s, "DELETE FROM jobs WHERE rid = $1", &p, NULL);
}

static int pg_job_fail(struct eg_store *s, int64_t rid, const char *err, int64_t now)
{
    struct params p = {0};

    /* Retry a few times (a busy store heals); then park it as 'failed' for inspection. */
    p_text(&p, err);
    p_int(&p, now);
    p_int(&p, rid);
    return run_done(s,
                    "UPDATE jobs SET state = CASE WHEN attempts >= 5 THEN 'failed'"
                    " ELSE 'pending' END, last_error = $1, updated_at = $2 WHERE rid = $3",
                    &p, NULL);
}

static int count_query(struct eg_store *s, const char *sql, int64_t *out)
{
    PGresult *res;
    int rc;

    *out = 0;
    if ((rc = run(s, sql, NULL, &res)) != ENGRAM_OK)
        return rc;
    if (PQntuples(res) > 0)
        *out = col_int(res, 0, 0);
    PQclear(res);
    return ENGRAM_OK;
}

static int pg_jobs_pending(struct eg_store *s, int64_t *out_n)
{
    return count_query(s, "SELECT count(*) FROM jobs WHERE state IN ('pending','running')", out_n);
}

/* ---- keys ---------------------------------------------------------------------------- */

static int pg_key_put(struct eg_store *s, const struct eg_key *in)
{
    struct eg_buf hex = {0};
    struct params p = {0};
    int rc;

    if ((rc = bytea_hex(&hex, in->hash, sizeof(in->hash))) != ENGRAM_OK)
        return rc;
    p_text(&p, in->id);
    p_text(&p, in->context);
    p_text(&p, in->scope_floor ? in->scope_floor : "");
    p_text(&p, in->grants);
    p_text(&p, hex.p);
    p_int(&p, in->created_at);
    rc = run_done(s,
                  "INSERT INTO api_keys(id, context, scope_floor, grants, hash, created_at)"
                  " VALUES ($1,$2,$3,$4,$5::bytea,$6)",
                  &p, NULL);
    eg_buf_reset(&hex);
    return rc;
}

static void read_key(const PGresult *r, int row, struct eg_key *k, int view)
{
    col_id(r, row, 0, k->id);
    k->context = view ? col_view(r, row, 1) : col_dup(r, row, 1);
    k->scope_floor = view ? col_view(r, row, 2) : col_dup(r, row, 2);
    k->grants = view ? col_view(r, row, 3) : col_dup(r, row, 3);
    /* A malformed hash matches no presented key: the key is unusable, not a crash. */
    if (bytea_unhex(PQgetvalue(r, row, 4), k->hash, sizeof(k->hash)) != 0)
        memset(k->hash, 0, sizeof(k->hash));
    k->created_at = col_int(r, row, 5);
    k->revoked_at = col_int(r, row, 6);
}

static int pg_key_get(struct eg_store *s, const char *id, struct eg_key *out)
{
    struct params p = {0};
    PGresult *res;
    int rc;

    memset(out, 0, sizeof(*out));
    p_text(&p, id);
    rc = run(s,
             "SELECT id, context, scope_floor, grants, hash, created_at, revoked_at"
             " FROM api_keys WHERE id = $1",
             &p, &res);
    if (rc != ENGRAM_OK)
        return rc;
    if (PQntuples(res) == 0) {
        PQclear(res);
        return ENGRAM_NOTFOUND;
    }
    read_key(res, 0, out, 0);
    PQclear(res);
    if (!out->context || !out->scope_floor || !out->grants) {
        eg_key_clear(out);
        return ENGRAM_NOMEM;
    }
    return ENGRAM_OK;
}

static int pg_keys_list(struct eg_store *s, eg_key_cb cb, void *arg)
{
    PGresult *res;
    int rc, cbrc = ENGRAM_OK;

    rc = run(s,
             "SELECT id, context, scope_floor, grants, hash, created_at, revoked_at"
             " FROM api_keys ORDER BY created_at, id",
             NULL, &res);
    if (rc != ENGRAM_OK)
        return rc;
    for (int i = 0; i < PQntuples(res) && cbrc == ENGRAM_OK; i++) {
        struct eg_key k;
        read_key(res, i, &k, 1);
        cbrc = cb(arg, &k);
    }
    PQclear(res);
    return cbrc;
}

static int pg_key_revoke(struct eg_store *s, const char *id, int64_t at)
{
    struct params p = {0};
    int64_t n = 0;
    int rc;

    p_int(&p, at);
    p_text(&p, id);
    rc = run_done(s, "UPDATE api_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", &p,
                  &n);
    if (rc == ENGRAM_OK && n == 0) {
        snprintf(s->err, sizeof(s->err), "no active key '%.60s'", id);
        return ENGRAM_NOTFOUND;
    }
    return rc;
}

/* ---- erase / export support ---------------------------------------------------------- */

static int pg_scopes_list(struct eg_store *s, const char *context, eg_scope_cb cb, void *arg)
{
    struct params p = {0};
    PGresult *res;
    int rc, cbrc = ENGRAM_OK;

    p_text(&p, context);
    rc = run(s,
             "SELECT scope FROM sessions WHERE context = $1"
             " UNION SELECT scope FROM turns WHERE context = $1"
             " UNION SELECT scope FROM entities WHERE context = $1"
             " UNION SELECT scope FROM audit WHERE context = $1"
             " UNION SELECT scope FROM idempotency WHERE context = $1 ORDER BY 1",
             &p, &res);
    if (rc != ENGRAM_OK)
        return rc;
    for (int i = 0; i < PQntuples(res) && cbrc == ENGRAM_OK; i++)
        cbrc = cb(arg, col_view(res, i, 0));
    PQclear(res);
    return cbrc;
}

static int erase_one(struct eg_store *s, const char *sql, const char *context, const char *scope,
                     int64_t *count)
{
    struct params p = {0};
    int64_t n = 0;
    int rc;

    p_text(&p, context);
    p_text(&p, scope);
    rc = run_done(s, sql, &p, &n);
    if (rc == ENGRAM_OK && count)
        *count += n;
    return rc;
}

static int pg_erase_scope(struct eg_store *s, const char *context, const char *scope,
                          struct eg_counts *c)
{
    int rc;

    /* Under the scope's writer lock, so an ingest on another node cannot add a turn to
     * the scope between our deletes. Children before parents, so foreign keys hold. */
    if ((rc = lock_scope(s, context, scope)) ||
        (rc = erase_one(s,
                        "DELETE FROM jobs WHERE context = $1 AND turn_id IN (SELECT id FROM"
                        " turns WHERE context = $1 AND scope = $2)",
                        context, scope, &c->jobs)) ||
        (rc = erase_one(s, "DELETE FROM item_vectors WHERE context = $1 AND scope = $2", context,
                        scope, NULL)) ||
        (rc = erase_one(s, "DELETE FROM attributes WHERE context = $1 AND scope = $2", context,
                        scope, &c->attributes)) ||
        (rc = erase_one(s, "DELETE FROM entities WHERE context = $1 AND scope = $2", context, scope,
                        &c->entities)) ||
        (rc = erase_one(s, "DELETE FROM turns WHERE context = $1 AND scope = $2", context, scope,
                        &c->turns)) ||
        (rc = erase_one(s, "DELETE FROM sessions WHERE context = $1 AND scope = $2", context, scope,
                        &c->sessions)) ||
        (rc = erase_one(s, "DELETE FROM idempotency WHERE context = $1 AND scope = $2", context,
                        scope, NULL)) ||
        (rc = erase_one(s, "DELETE FROM audit WHERE context = $1 AND scope = $2", context, scope,
                        &c->audit)))
        return rc;
    return ENGRAM_OK;
}

static int pg_stats(struct eg_store *s, char **out_json)
{
    static const char *const names[] = {"sessions", "turns",        "entities",   "attributes",
                                        "audit",    "jobs_pending", "jobs_failed"};
    /* As in store_sqlite: max(rid) is an index lookup where count(*) scans millions of
     * rows; an upper bound is good enough for a gauge. Tables without a rid use the
     * planner's row estimate, also O(1). */
    static const char *const sqls[] = {
        "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'sessions'::regclass",
        "SELECT max(rid) FROM turns",
        "SELECT greatest(reltuples, 0)::bigint FROM pg_class WHERE oid = 'entities'::regclass",
        "SELECT max(rid) FROM attributes",
        "SELECT max(rid) FROM audit",
        "SELECT count(*) FROM jobs WHERE state IN ('pending','running')",
        "SELECT count(*) FROM jobs WHERE state = 'failed'"};
    json_t *o = json_object();
    int rc = o ? ENGRAM_OK : ENGRAM_NOMEM;

    for (size_t i = 0; rc == ENGRAM_OK && i < sizeof(names) / sizeof(names[0]); i++) {
        int64_t n;
        rc = count_query(s, sqls[i], &n);
        if (rc == ENGRAM_OK && json_object_set_new(o, names[i], json_integer(n)))
            rc = ENGRAM_NOMEM;
    }
    if (rc == ENGRAM_OK && json_object_set_new(o, "backend", json_string("postgresql")))
        rc = ENGRAM_NOMEM;
    *out_json = rc == ENGRAM_OK ? json_dumps(o, JSON_COMPACT) : NULL;
    if (rc == ENGRAM_OK && !*out_json)
        rc = ENGRAM_NOMEM;
    json_decref(o);
    return rc;
}

const struct eg_store_ops eg_store_pg = {
    .name = "postgresql",
    .accepts = pg_accepts,
    .open = pg_open,
    .close = pg_close,
    .errmsg = pg_errmsg,
    .begin = pg_begin,
    .commit = pg_commit,
    .rollback = pg_rollback,
    .session_put = pg_session_put,
    .session_get = pg_session_get,
    .sessions_in_scope = pg_sessions_in_scope,
    .turn_put = pg_turn_put,
    .turn_get = pg_turn_get,
    .turns_search = pg_turns_search,
    .turns_list = pg_turns_list,
    .idem_get = pg_idem_get,
    .idem_put = pg_idem_put,
    .entity_ensure = pg_entity_ensure,
    .entities_in_scope = pg_entities_in_scope,
    .attr_put = pg_attr_put,
    .attr_close = pg_attr_close,
    .attr_set_confidence = pg_attr_set_confidence,
    .attrs_query = pg_attrs_query,
    .audit_put = pg_audit_put,
    .audit_list = pg_audit_list,
    .job_put = pg_job_put,
    .job_claim = pg_job_claim,
    .job_done = pg_job_done,
    .job_fail = pg_job_fail,
    .jobs_pending = pg_jobs_pending,
    .key_put = pg_key_put,
    .key_get = pg_key_get,
    .keys_list = pg_keys_list,
    .key_revoke = pg_key_revoke,
    .scopes_list = pg_scopes_list,
    .erase_scope = pg_erase_scope,
    .audit_in_scope = pg_audit_in_scope,
    .vec_put = pg_vec_put,
    .vec_scan = pg_vec_scan,
    .turns_near = pg_turns_near,
    .stats = pg_stats,
};
