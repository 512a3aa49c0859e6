/*
 * pg.c - the PostgreSQL store: a small pool of libpq connections shared by
 * pkid's workers, statements prepared once per connection, one
 * transaction per write (it returns once COMMIT did, synchronous_commit
 * being on: the durability rule of store.h), and the schema created or
 * migrated at open under an advisory lock, so nodes starting together
 * never race.
 *
 * Several pkid processes may share one database: every rule that must
 * hold across them is the database's (a unique serial, a CRL number
 * taken by one UPDATE, a challenge used by one UPDATE ... WHERE unused),
 * never a lock in this process.
 *
 * A lost connection (the server restarted) is store-unavailable, which
 * the HTTP layer answers 503 with Retry-After; the connection is made
 * again at its next use, so service resumes by itself. While the
 * database is away, requests fail at once: after a failed connect only
 * one attempt at a time is made (every PKID_PG_RECONNECT_MS at most),
 * and no libpq call can block for long (connect_timeout, TCP keepalive,
 * TCP_USER_TIMEOUT, lock_timeout; a bounded wait for a pooled
 * connection).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "store/pg_int.h"

/* Lock key of the schema migration (pg_advisory_xact_lock): "pkid". */
#define PG_SCHEMA_LOCK "1886087524"

/*
 * The schema, by version. One step makes a new database current at
 * once; later versions add a step that migrates from the one before
 * (as schema.c does for SQLite). The tables and columns are SQLite's;
 * ids are BIGSERIAL where SQLite has a rowid.
 */
static const struct {
	int from;		/* version the step starts at */
	int to;			/* version it leaves */
	const char *sql;	/* what it runs */
} steps[] = {
	{ 0, 8,
	"CREATE TABLE schema_version (version BIGINT NOT NULL);"
	"CREATE TABLE ca_generation ("
	" id BIGSERIAL PRIMARY KEY,"
	" ca_name TEXT NOT NULL,"
	" generation BIGINT NOT NULL,"
	" role TEXT NOT NULL,"
	" state TEXT NOT NULL,"
	" subject TEXT NOT NULL,"
	" not_before BIGINT NOT NULL,"
	" not_after BIGINT NOT NULL,"
	" cert_der BYTEA NOT NULL,"
	" key_ref TEXT NOT NULL,"
	" activate_at BIGINT NOT NULL DEFAULT 0,"
	" UNIQUE (ca_name, role, generation));"
	"CREATE TABLE certificate ("
	" serial TEXT PRIMARY KEY,"
	" id BIGSERIAL UNIQUE,"
	" ca_gen BIGINT NOT NULL REFERENCES ca_generation (id),"
	" subject TEXT NOT NULL,"
	" sans TEXT NOT NULL,"
	" profile TEXT NOT NULL,"
	" requester TEXT NOT NULL,"
	" request_id BIGINT,"
	" not_before BIGINT NOT NULL,"
	" not_after BIGINT NOT NULL,"
	" issued_at BIGINT NOT NULL,"
	" der BYTEA NOT NULL,"
	" fingerprint TEXT NOT NULL);"
	"CREATE INDEX certificate_ca ON certificate (ca_gen);"
	"CREATE INDEX certificate_not_after ON certificate (not_after);"
	"CREATE TABLE revocation ("
	" serial TEXT PRIMARY KEY REFERENCES certificate (serial),"
	" id BIGSERIAL UNIQUE,"
	" revoked_at BIGINT NOT NULL,"
	" reason BIGINT NOT NULL);"
	"CREATE TABLE request ("
	" id BIGSERIAL PRIMARY KEY,"
	" kind TEXT NOT NULL,"
	" transaction_id TEXT,"
	" state TEXT NOT NULL,"
	" profile TEXT NOT NULL,"
	" requester TEXT NOT NULL,"
	" csr_der BYTEA,"
	" csr_digest TEXT,"
	" cert_serial TEXT,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" detail TEXT NOT NULL,"
	" cert_der BYTEA,"
	" UNIQUE (kind, transaction_id));"
	"CREATE INDEX request_state ON request (state);"
	"CREATE TABLE crl_state ("
	" ca_name TEXT PRIMARY KEY,"
	" crl_number BIGINT NOT NULL);"
	"CREATE TABLE audit ("
	" id BIGSERIAL PRIMARY KEY,"
	" at BIGINT NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" object TEXT NOT NULL,"
	" result TEXT NOT NULL,"
	" detail TEXT NOT NULL);"
	"CREATE FUNCTION pkid_audit_append_only() RETURNS trigger"
	" LANGUAGE plpgsql AS $$ BEGIN"
	" RAISE EXCEPTION 'the audit log is append-only'; END $$;"
	"CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON audit"
	" FOR EACH ROW EXECUTE FUNCTION pkid_audit_append_only();"
	"CREATE TABLE app_user ("
	" name TEXT PRIMARY KEY,"
	" password_hash TEXT NOT NULL,"
	" created_at BIGINT NOT NULL);"
	"CREATE TABLE scep_challenge ("
	" hash TEXT PRIMARY KEY,"
	" profile TEXT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL,"
	" used_at BIGINT);"
	"CREATE TABLE compromised_key ("
	" spki_sha256 TEXT PRIMARY KEY,"
	" serial TEXT NOT NULL,"
	" revoked_at BIGINT NOT NULL);"
	"CREATE TABLE revocation_lifted ("
	" id BIGSERIAL PRIMARY KEY,"
	" serial TEXT NOT NULL,"
	" rev_rowid BIGINT NOT NULL,"
	" revoked_at BIGINT NOT NULL,"
	" reason BIGINT NOT NULL,"
	" lifted_at BIGINT NOT NULL,"
	" actor TEXT NOT NULL);"
	"INSERT INTO schema_version (version) VALUES (8);" },
};

/* ---- parameters and columns --------------------------------------------- */

void
pkid_pg_ptext(struct pg_params *p, const char *v)
{
	if (p->n >= PG_MAXP)
		return;
	p->v[p->n] = v;
	p->len[p->n] = 0;
	p->fmt[p->n] = 0;
	p->n++;
}

void
pkid_pg_pint(struct pg_params *p, int64_t v)
{
	if (p->n >= PG_MAXP)
		return;
	snprintf(p->num[p->n], sizeof(p->num[0]), "%lld", (long long)v);
	pkid_pg_ptext(p, p->num[p->n]);
}

void
pkid_pg_pblob(struct pg_params *p, const uint8_t *v, size_t len)
{
	if (p->n >= PG_MAXP)
		return;
	p->v[p->n] = (const char *)v;
	p->len[p->n] = (int)len;
	p->fmt[p->n] = 1;
	p->n++;
}

const char *
pkid_pg_str(const PGresult *res, int r, int i)
{
	if (PQgetisnull(res, r, i))
		return NULL;
	return PQgetvalue(res, r, i);
}

const char *
pkid_pg_text(const PGresult *res, int r, int i)
{
	const char *v = pkid_pg_str(res, r, i);

	return v != NULL ? v : "";
}

int64_t
pkid_pg_int(const PGresult *res, int r, int i)
{
	const unsigned char *p;
	uint64_t v = 0;
	int n, k;

	if (PQgetisnull(res, r, i))
		return 0;
	p = (const unsigned char *)PQgetvalue(res, r, i);
	n = PQgetlength(res, r, i);
	/* Binary integers are big-endian, 2, 4 or 8 bytes, signed. */
	for (k = 0; k < n && k < 8; k++)
		v = (v << 8) | p[k];
	if (n == 4)
		return (int64_t)(int32_t)(uint32_t)v;
	if (n == 2)
		return (int64_t)(int16_t)(uint16_t)v;
	return (int64_t)v;
}

const uint8_t *
pkid_pg_blob(const PGresult *res, int r, int i, size_t *len)
{
	*len = 0;
	if (PQgetisnull(res, r, i))
		return NULL;
	*len = (size_t)PQgetlength(res, r, i);
	return (const uint8_t *)PQgetvalue(res, r, i);
}

/* ---- running statements ------------------------------------------------- */

/* Drop a connection that failed: the next acquire makes a new one. */
static void
conn_lost(struct pg_conn *c)
{
	PQfinish(c->c);
	c->c = NULL;
	c->nprep = 0;
}

/* The first line of libpq's message. */
static const char *
first_line(const char *m, char *buf, size_t len)
{
	size_t n = strcspn(m != NULL ? m : "", "\n");

	snprintf(buf, len, "%.*s", (int)n, m != NULL ? m : "");
	return buf;
}

/* A failed result (or none) to a pkid code. */
static enum pkid_code
result_err(struct pg_conn *c, PGresult *res, const char *sql,
    struct pkid_err *e)
{
	const char *st = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	char msg[256];
	enum pkid_code code = PKID_E_STORE_IO;

	first_line(res != NULL ? PQresultErrorMessage(res) :
	    PQerrorMessage(c->c), msg, sizeof(msg));
	if (PQstatus(c->c) != CONNECTION_OK || st == NULL ||
	    strncmp(st, "08", 2) == 0 || strncmp(st, "57P", 3) == 0)
		code = PKID_E_STORE_UNAVAILABLE;
	else if (strncmp(st, "23", 2) == 0)
		code = PKID_E_STORE_CONSTRAINT;
	else if (strcmp(st, "40001") == 0 || strcmp(st, "40P01") == 0 ||
	    strcmp(st, "55P03") == 0)
		code = PKID_E_STORE_BUSY;
	PKID_ERR(e, code, "%.60s: %s", sql, msg[0] != '\0' ? msg :
	    "the connection to PostgreSQL was lost");
	if (code == PKID_E_STORE_UNAVAILABLE)
		conn_lost(c);
	return code;
}

PGresult *
pkid_pg_run(struct pg_conn *c, const char *sql, const struct pg_params *p,
    int cache, struct pkid_err *e)
{
	PGresult *res = NULL;
	ExecStatusType t;
	char name[16];
	int i;

	if (c->c == NULL) {
		PKID_ERR(e, PKID_E_STORE_UNAVAILABLE, "no connection to "
		    "PostgreSQL");
		return NULL;
	}
	if (p == NULL)
		cache = 0;
	for (i = 0; cache && i < c->nprep; i++)
		if (c->prep[i] == sql)
			break;
	if (cache && i == c->nprep && i < PKID_PG_PREPARED_MAX) {
		snprintf(name, sizeof(name), "p%d", i);
		res = PQprepare(c->c, name, sql, 0, NULL);
		if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
			result_err(c, res, sql, e);
			PQclear(res);
			return NULL;
		}
		PQclear(res);
		c->prep[c->nprep++] = sql;
	}
	if (p == NULL) {
		/* No parameters: the simple protocol, which runs several
		 * statements (BEGIN, a schema step); text results. */
		res = PQexec(c->c, sql);
	} else if (cache && i < c->nprep) {
		snprintf(name, sizeof(name), "p%d", i);
		res = PQexecPrepared(c->c, name, p->n, p->v, p->len, p->fmt, 1);
	} else {
		res = PQexecParams(c->c, sql, p->n, NULL, p->v, p->len, p->fmt,
		    1);
	}
	t = res != NULL ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (t == PGRES_COMMAND_OK || t == PGRES_TUPLES_OK)
		return res;
	result_err(c, res, sql, e);
	PQclear(res);
	return NULL;
}

enum pkid_code
pkid_pg_exec(struct pg_conn *c, const char *sql, const struct pg_params *p,
    struct pkid_err *e)
{
	PGresult *res = pkid_pg_run(c, sql, p, p != NULL, e);

	if (res == NULL)
		return e != NULL && e->code != PKID_OK ? e->code :
		    PKID_E_STORE_IO;
	PQclear(res);
	return PKID_OK;
}

/* ---- reads and writes of one statement ------------------------------- */

/*
 * One read on a pooled connection; NULL with e set on failure. Once more
 * on a connection found dead (the server restarted since its last use).
 */
PGresult *
pkid_pg_read(struct pkid_pg *s, const char *sql, const struct pg_params *p,
    int cache, struct pkid_err *e)
{
	struct pg_conn *c = NULL;
	PGresult *res = NULL;
	struct pkid_err le;
	int tries;

	for (tries = 0; tries < 2; tries++) {
		pkid_err_clear(&le);
		if (pkid_pg_acquire(s, &c, &le) != PKID_OK)
			break;
		res = pkid_pg_run(c, sql, p, cache, &le);
		pkid_pg_release(s, c);
		if (res != NULL || le.code != PKID_E_STORE_UNAVAILABLE)
			break;
	}
	if (res == NULL && e != NULL && e->code == PKID_OK)
		*e = le;
	return res;
}

/* The code of a failed rquery. */
enum pkid_code
pkid_pg_fail(const struct pkid_err *e)
{
	return e != NULL && e->code != PKID_OK ? e->code : PKID_E_STORE_IO;
}

/* Rows changed by a command. */
static int
changed(PGresult *res)
{
	const char *n = PQcmdTuples(res);

	return n != NULL && n[0] != '\0' ? (int)strtol(n, NULL, 10) : 0;
}

/* Run a write statement, *n receiving the rows it changed. */
enum pkid_code
pkid_pg_wexec(struct pg_conn *c, const char *sql, const struct pg_params *p,
    int *n, struct pkid_err *e)
{
	PGresult *res = pkid_pg_run(c, sql, p, 1, e);

	if (res == NULL)
		return pkid_pg_fail(e);
	if (n != NULL)
		*n = changed(res);
	PQclear(res);
	return PKID_OK;
}

/* ---- connections -------------------------------------------------------- */

/* Server notices (NOTICE, WARNING) are not pkid's log lines. */
static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

/* Connect c; store-unavailable naming where when it fails. */
static enum pkid_code
conn_open(struct pkid_pg *s, struct pg_conn *c, struct pkid_err *e)
{
	/* The defaults come before dbname, which the URL expands into:
	 * a setting in [store] url overrides them (libpq keeps the last). */
	static const char *const keys[] = { "keepalives", "keepalives_idle",
	    "keepalives_interval", "keepalives_count", "tcp_user_timeout",
	    "dbname", "connect_timeout", "application_name", NULL };
	char tmo[16], idle[16], ival[16], cnt[16], uto[16], msg[256];
	char where[sizeof(s->where)], set[160];
	const char *vals[9];
	PGresult *res;
	PGconn *pc;

	snprintf(tmo, sizeof(tmo), "%d", PKID_PG_CONNECT_TIMEOUT_S);
	snprintf(idle, sizeof(idle), "%d", PKID_PG_KEEPALIVE_IDLE_S);
	snprintf(ival, sizeof(ival), "%d", PKID_PG_KEEPALIVE_INTERVAL_S);
	snprintf(cnt, sizeof(cnt), "%d", PKID_PG_KEEPALIVE_COUNT);
	snprintf(uto, sizeof(uto), "%d", PKID_PG_TCP_USER_TIMEOUT_MS);
	vals[0] = "1";
	vals[1] = idle;
	vals[2] = ival;
	vals[3] = cnt;
	vals[4] = uto;
	vals[5] = s->conninfo;
	vals[6] = tmo;
	vals[7] = "pkid";
	vals[8] = NULL;
	/* expand_dbname: conninfo is a URL or key=value string. */
	pc = PQconnectdbParams(keys, vals, 1);
	if (pc == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for a PostgreSQL "
		    "connection");
	snprintf(where, sizeof(where), "host %s port %s database %s",
	    PQhost(pc) != NULL && PQhost(pc)[0] ? PQhost(pc) :
	    "(default socket)", PQport(pc) != NULL && PQport(pc)[0] ?
	    PQport(pc) : "5432", PQdb(pc) != NULL ? PQdb(pc) : "?");
	pthread_mutex_lock(&s->mu);
	snprintf(s->where, sizeof(s->where), "%s", where);
	pthread_mutex_unlock(&s->mu);
	if (PQstatus(pc) != CONNECTION_OK) {
		first_line(PQerrorMessage(pc), msg, sizeof(msg));
		PQfinish(pc);
		return PKID_ERR(e, PKID_E_STORE_UNAVAILABLE, "cannot connect "
		    "to PostgreSQL at %s: %s", where, msg);
	}
	PQsetNoticeProcessor(pc, quiet, NULL);
	/* No statement waits long on a row another node holds, and a node
	 * that stops inside a transaction does not keep its locks. */
	snprintf(set, sizeof(set), "SET lock_timeout = %d; "
	    "SET idle_in_transaction_session_timeout = %d",
	    PKID_PG_LOCK_TIMEOUT_MS, PKID_PG_IDLE_TX_TIMEOUT_MS);
	res = PQexec(pc, set);
	if (res == NULL || PQresultStatus(res) != PGRES_COMMAND_OK) {
		first_line(res != NULL ? PQresultErrorMessage(res) :
		    PQerrorMessage(pc), msg, sizeof(msg));
		PQclear(res);
		PQfinish(pc);
		return PKID_ERR(e, PKID_E_STORE_UNAVAILABLE, "cannot set up "
		    "the connection to PostgreSQL at %s: %s", where, msg);
	}
	PQclear(res);
	c->c = pc;
	c->nprep = 0;
	return PKID_OK;
}

/*
 * Connect c unless the database was found away a moment ago, or another
 * thread is trying it now: then fail at once with why the last attempt
 * failed. The first attempt after a failure that finds it back ends the
 * outage for all.
 */
static enum pkid_code
conn_reopen(struct pkid_pg *s, struct pg_conn *c, struct pkid_err *e)
{
	enum pkid_code rc;
	uint64_t now;
	int probe = 0;

	pthread_mutex_lock(&s->mu);
	/* Read under the lock: never before a down_at another thread set. */
	now = pkid_mono_ms();
	if (s->down_at != 0) {
		if (s->probing || now - s->down_at < PKID_PG_RECONNECT_MS) {
			if (e != NULL)
				*e = s->down;
			pthread_mutex_unlock(&s->mu);
			return PKID_E_STORE_UNAVAILABLE;
		}
		s->probing = probe = 1;
	}
	pthread_mutex_unlock(&s->mu);
	rc = conn_open(s, c, e);
	pthread_mutex_lock(&s->mu);
	if (probe)
		s->probing = 0;
	if (rc == PKID_OK) {
		s->down_at = 0;
	} else if (rc == PKID_E_STORE_UNAVAILABLE) {
		s->down_at = pkid_mono_ms();
		if (e != NULL)
			s->down = *e;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

enum pkid_code
pkid_pg_acquire(struct pkid_pg *s, struct pg_conn **out, struct pkid_err *e)
{
	struct pg_conn *c;
	enum pkid_code rc;

	struct timespec until;

	*out = NULL;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += PKID_PG_POOL_WAIT_MS / 1000;
	until.tv_nsec += (long)(PKID_PG_POOL_WAIT_MS % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&s->mu);
	while (s->free == NULL)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &until) ==
		    ETIMEDOUT && s->free == NULL) {
			pthread_mutex_unlock(&s->mu);
			return PKID_ERR(e, PKID_E_STORE_BUSY, "all %d "
			    "connections to PostgreSQL at %s stayed busy for "
			    "%d ms", PKID_PG_POOL, s->where,
			    PKID_PG_POOL_WAIT_MS);
		}
	c = s->free;
	s->free = c->next;
	pthread_mutex_unlock(&s->mu);
	if (c->c != NULL && PQstatus(c->c) != CONNECTION_OK)
		conn_lost(c);
	if (c->c == NULL && (rc = conn_reopen(s, c, e)) != PKID_OK) {
		pkid_pg_release(s, c);
		return rc;
	}
	*out = c;
	return PKID_OK;
}

void
pkid_pg_release(struct pkid_pg *s, struct pg_conn *c)
{
	if (c == NULL)
		return;
	/* A connection left inside a transaction is not reused. */
	if (c->c != NULL && PQtransactionStatus(c->c) != PQTRANS_IDLE)
		conn_lost(c);
	pthread_mutex_lock(&s->mu);
	c->next = s->free;
	s->free = c;
	pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* Note a write's failure for pkid_store_health. */
static void
note_health(struct pkid_pg *s, const struct pkid_err *e)
{
	if (e->code != PKID_E_STORE_IO && e->code != PKID_E_STORE_UNAVAILABLE)
		return;
	pthread_mutex_lock(&s->mu);
	s->health = *e;
	s->health_at = pkid_mono_ms();
	pthread_mutex_unlock(&s->mu);
}

enum pkid_code
pkid_pg_write(struct pkid_pg *s, pg_wfn fn, const void *arg, void *out,
    struct pkid_err *e)
{
	struct pg_conn *c = NULL;
	struct pkid_err we;
	enum pkid_code rc = PKID_E_INTERNAL;
	uint64_t t0 = 0, us;
	int tries, begun;

	for (tries = 0; tries < PKID_PG_RETRIES; tries++) {
		pkid_err_clear(&we);
		begun = 0;
		if ((rc = pkid_pg_acquire(s, &c, &we)) != PKID_OK)
			break;
		t0 = pkid_mono_us();
		if ((rc = pkid_pg_exec(c, "BEGIN", NULL, &we)) != PKID_OK)
			goto again;
		begun = 1;
		if ((rc = fn(c, arg, out, &we)) != PKID_OK)
			goto again;
		rc = pkid_pg_exec(c, "COMMIT", NULL, &we);
		if (rc == PKID_OK)
			break;
again:
		if (c->c != NULL && PQtransactionStatus(c->c) != PQTRANS_IDLE)
			(void)pkid_pg_exec(c, "ROLLBACK", NULL, NULL);
		pkid_pg_release(s, c);
		c = NULL;
		/* Again only when nothing can have been written: a
		 * connection found dead at BEGIN (the server restarted
		 * since its last use), or a serialization failure. */
		if (!(rc == PKID_E_STORE_BUSY || (rc ==
		    PKID_E_STORE_UNAVAILABLE && !begun)))
			break;
	}
	pkid_pg_release(s, c);
	if (rc != PKID_OK) {
		note_health(s, &we);
		if (e != NULL && e->code == PKID_OK)
			*e = we;
		return rc;
	}
	us = pkid_mono_us() - t0;
	pthread_mutex_lock(&s->mu);
	/* A commit after the database was lost: it is back, and /healthz
	 * need not wait out the window (a full disk is the database
	 * server's to report). */
	if (s->health.code == PKID_E_STORE_UNAVAILABLE)
		s->health_at = 0;
	s->commits++;
	s->ops++;
	if (s->commit_fn != NULL)
		s->commit_fn(s->commit_arg, us, 1);
	pthread_mutex_unlock(&s->mu);
	return PKID_OK;
}

/* ---- open, migrate, close ------------------------------------------------ */

static enum pkid_code
migrate(struct pkid_pg *s, struct pkid_err *e)
{
	struct pg_params np = { .n = 0 };
	struct pg_conn *c = NULL;
	PGresult *res = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	int64_t v = 0;
	size_t i;

	PKID_TRY(pkid_pg_acquire(s, &c, e));
	PKID_TRY(pkid_pg_exec(c, "BEGIN", NULL, e));
	/* One node migrates; the others wait here (as long as it takes:
	 * no lock_timeout), then find it done. */
	PKID_TRY(pkid_pg_exec(c, "SET LOCAL lock_timeout = 0", NULL, e));
	PKID_TRY(pkid_pg_exec(c, "SELECT pg_advisory_xact_lock("
	    PG_SCHEMA_LOCK ")", NULL, e));
	PKID_CHECK((res = pkid_pg_run(c, "SELECT to_regclass('schema_version')"
	    " IS NOT NULL", &np, 0, e)) != NULL, e->code, "schema");
	if (PQntuples(res) == 1 && pkid_pg_int(res, 0, 0) != 0) {
		PQclear(res);
		PKID_CHECK((res = pkid_pg_run(c, "SELECT version FROM "
		    "schema_version", &np, 0, e)) != NULL, e->code, "schema");
		if (PQntuples(res) > 0)
			v = pkid_pg_int(res, 0, 0);
	}
	PKID_CHECK(v <= PKID_STORE_SCHEMA, PKID_E_STORE_SCHEMA, "the "
	    "database at %s has schema version %lld; this pkid knows up to "
	    "%d", s->where, (long long)v, PKID_STORE_SCHEMA);
	for (i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		if (steps[i].from != v)
			continue;
		PKID_TRY(pkid_pg_exec(c, steps[i].sql, NULL, e));
		v = steps[i].to;
	}
	PKID_CHECK(v == PKID_STORE_SCHEMA, PKID_E_STORE_SCHEMA, "no "
	    "migration of the database at %s from schema version %lld",
	    s->where, (long long)v);
	PKID_TRY(pkid_pg_exec(c, "COMMIT", NULL, e));
	rc = PKID_OK;
out:
	PQclear(res);
	pkid_pg_release(s, c);
	if (rc != PKID_OK)
		pkid_err_ctx(e, "preparing the schema at %s", s->where);
	return rc;
}

enum pkid_code
pkid_pgs_open(const char *conninfo, struct pkid_pg **out, struct pkid_err *e)
{
	struct pkid_pg *s;
	pthread_condattr_t ca;
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	*out = NULL;
	if (strlen(conninfo) >= PKID_STORE_URL_MAX)
		return PKID_ERR(e, PKID_E_STORE_OPEN, "the store URL is longer "
		    "than %d bytes", PKID_STORE_URL_MAX - 1);
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for the store");
	snprintf(s->conninfo, sizeof(s->conninfo), "%s", conninfo);
	pthread_mutex_init(&s->mu, NULL);
	/* The bounded wait for a connection counts on the monotonic clock. */
	if (pthread_condattr_init(&ca) != 0 ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) != 0 ||
	    pthread_cond_init(&s->cv, &ca) != 0) {
		pthread_mutex_destroy(&s->mu);
		free(s);
		return PKID_ERR(e, PKID_E_INTERNAL, "cannot set up the "
		    "connection pool's condition variable");
	}
	pthread_condattr_destroy(&ca);
	for (i = PKID_PG_POOL - 1; i >= 0; i--) {
		s->conns[i].next = s->free;
		s->free = &s->conns[i];
	}
	PKID_TRY(migrate(s, e));
	*out = s;
	return PKID_OK;
out:
	pkid_pgs_close(s);
	return rc;
}

void
pkid_pgs_close(struct pkid_pg *s)
{
	int i;

	if (s == NULL)
		return;
	for (i = 0; i < PKID_PG_POOL; i++)
		PQfinish(s->conns[i].c);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->cv);
	/* The conninfo may hold a password. */
	memset(s->conninfo, 0, sizeof(s->conninfo));
	free(s);
}

/* ---- health and statistics ---------------------------------------------- */

void
pkid_pgs_health(struct pkid_pg *s, struct pkid_err *last)
{
	pthread_mutex_lock(&s->mu);
	pkid_err_clear(last);
	if (s->health_at != 0 && pkid_mono_ms() - s->health_at <
	    (uint64_t)PKID_STORE_HEALTH_WINDOW_S * 1000)
		*last = s->health;
	pthread_mutex_unlock(&s->mu);
}

void
pkid_pgs_commit_stats(struct pkid_pg *s, uint64_t *commits, uint64_t *ops)
{
	pthread_mutex_lock(&s->mu);
	*commits = s->commits;
	*ops = s->ops;
	pthread_mutex_unlock(&s->mu);
}

void
pkid_pgs_set_commit_hook(struct pkid_pg *s, pkid_store_commit_fn fn,
    void *arg)
{
	pthread_mutex_lock(&s->mu);
	s->commit_fn = fn;
	s->commit_arg = arg;
	pthread_mutex_unlock(&s->mu);
}

/* ---- audit --------------------------------------------------------------- */

enum pkid_code
pkid_pg_audit_ins(struct pg_conn *c, const char *actor, const char *action,
    const char *object, const char *result, const char *detail, int64_t at,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };

	pkid_pg_pint(&p, at);
	pkid_pg_ptext(&p, actor != NULL ? actor : "");
	pkid_pg_ptext(&p, action != NULL ? action : "");
	pkid_pg_ptext(&p, object != NULL ? object : "");
	pkid_pg_ptext(&p, result != NULL ? result : "");
	pkid_pg_ptext(&p, detail != NULL ? detail : "");
	return pkid_pg_exec(c, "INSERT INTO audit (at, actor, action, object, "
	    "result, detail) VALUES ($1,$2,$3,$4,$5,$6)", &p, e);
}
