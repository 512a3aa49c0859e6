/*
 * sqlite.c - the SQLite store: WAL, synchronous=FULL, schema migrations at
 * open, and group commit through one committer thread.
 */
#include "store/store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

#include <openssl/x509.h>
#include <sqlite3.h>

#include "x509/load.h"

#include "core/clock.h"
#include "core/limits.h"
#include "store/schema.h"
#include "store/sqlite_int.h"

static const char *const wsql[WS_MAX] = {
	[WS_CERT_INSERT] = ("INSERT INTO certificate (serial, ca_gen, "
	"subject, sans, profile, requester, request_id, not_before, "
	"not_after, issued_at, der, fingerprint) VALUES "
	"(?,?,?,?,?,?,?,?,?,?,?,?)"),
	[WS_AUDIT_INSERT] = ("INSERT INTO audit (at, actor, action, object, "
	"result, detail) VALUES (?,?,?,?,?,?)"),
	[WS_BEGIN] = "BEGIN IMMEDIATE",
	[WS_COMMIT] = "COMMIT",
	[WS_SAVEPOINT] = "SAVEPOINT op",
	[WS_ROLLBACK_TO] = "ROLLBACK TO op",
	[WS_RELEASE] = "RELEASE op",
	[WS_REQUEST_INSERT] = ("INSERT INTO request (kind, transaction_id, "
	    "state, profile, requester, csr_der, csr_digest, cert_serial, "
	    "created_at, updated_at, detail, cert_der) VALUES "
	    "(?,?,?,?,?,?,?,?,?,?,?,?)"),
};

/* Run one of the cached statements that return no rows. */
static enum pkid_code
wexec(struct pkid_sq *s, enum wstmt which, struct pkid_err *e)
{
	sqlite3_stmt *st = pkid_sq_wstmt(s, which, e);
	enum pkid_code rc;

	if (st == NULL)
		return e != NULL ? e->code : PKID_E_STORE_IO;
	rc = pkid_sq_step_done(s->wdb, st, wsql[which], e);
	sqlite3_reset(st);
	return rc;
}

enum pkid_code
pkid_sq_db_err(struct pkid_err *e, sqlite3 *db, int r, const char *what)
{
	enum pkid_code code = PKID_E_STORE_IO;

	if (r == SQLITE_BUSY || r == SQLITE_LOCKED)
		code = PKID_E_STORE_BUSY;
	else if ((r & 0xff) == SQLITE_CONSTRAINT)
		code = PKID_E_STORE_CONSTRAINT;
	return PKID_ERR(e, code, "%s: %s", what, db != NULL ?
	    sqlite3_errmsg(db) : sqlite3_errstr(r));
}

enum pkid_code
pkid_sq_exec_sql(sqlite3 *db, const char *sql, struct pkid_err *e)
{
	char *msg = NULL;
	int r = sqlite3_exec(db, sql, NULL, NULL, &msg);

	if (r == SQLITE_OK)
		return PKID_OK;
	PKID_ERR(e, (r == SQLITE_BUSY) ? PKID_E_STORE_BUSY : PKID_E_STORE_IO,
	    "%.60s: %s", sql, msg != NULL ? msg : sqlite3_errstr(r));
	sqlite3_free(msg);
	return e != NULL ? e->code : PKID_E_STORE_IO;
}

/*
 * SQL function pkid_spki_sha256(der): hex SHA-256 of a DER certificate's
 * SubjectPublicKeyInfo, NULL when it does not decode (the compromised_key
 * rows of keyCompromise revocations, schema 5).
 */
static void
spki_sha256_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *p = sqlite3_value_blob(argv[0]);
	int n = sqlite3_value_bytes(argv[0]);
	char hex[65];
	X509 *x;

	(void)argc;
	if (p == NULL || n <= 0 || (x = d2i_X509(NULL, &p, n)) == NULL) {
		sqlite3_result_null(ctx);
		return;
	}
	if (pkid_x509_spki_sha256_hex(X509_get_X509_PUBKEY(x), hex) == 0)
		sqlite3_result_text(ctx, hex, -1, SQLITE_TRANSIENT);
	else
		sqlite3_result_null(ctx);
	X509_free(x);
}

/*
 * The database and the -wal/-shm files SQLite makes beside it (with the
 * database's mode) hold every certificate, request and password hash:
 * owner only. An existing file of a looser mode is tightened.
 */
static enum pkid_code
private_file(const char *path, struct pkid_err *e)
{
	static const char *const sfx[] = { "", "-wal", "-shm", "-journal" };
	char p[4096];
	struct stat sb;
	size_t i;
	int fd;

	/*
	 * Create a new database 0600 before SQLite does. Never open and
	 * close an existing one here: closing any descriptor of the file
	 * drops every POSIX lock this process holds on it (fcntl(2)), those
	 * of another open store included, and SQLite's WAL would then be
	 * reset under it by another process.
	 */
	if (stat(path, &sb) != 0) {
		fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return PKID_ERR(e, PKID_E_STORE_OPEN, "%s: %s", path,
			    strerror(errno));
		if (fd >= 0)
			close(fd);
	}
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", path, sfx[i]);
		if (stat(p, &sb) == 0 && (sb.st_mode & 077) != 0 &&
		    chmod(p, sb.st_mode & 0700) != 0)
			return PKID_ERR(e, PKID_E_STORE_OPEN, "%s is readable "
			    "by others and cannot be made private: %s", p,
			    strerror(errno));
	}
	return PKID_OK;
}

static enum pkid_code
open_conn(const char *path, sqlite3 **out, struct pkid_err *e)
{
	sqlite3 *db = NULL;
	int r;

	r = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	if (r != SQLITE_OK) {
		PKID_ERR(e, PKID_E_STORE_OPEN, "%s: %s", path,
		    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(r));
		sqlite3_close(db);
		return PKID_E_STORE_OPEN;
	}
	sqlite3_busy_timeout(db, PKID_STORE_BUSY_MS);
	if (sqlite3_create_function(db, "pkid_spki_sha256", 1, SQLITE_UTF8 |
	    SQLITE_DETERMINISTIC, NULL, spki_sha256_fn, NULL, NULL) !=
	    SQLITE_OK) {
		PKID_ERR(e, PKID_E_STORE_OPEN, "%s: %s", path,
		    sqlite3_errmsg(db));
		sqlite3_close(db);
		return PKID_E_STORE_OPEN;
	}
	if (pkid_sq_exec_sql(db,
	    "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
	    "PRAGMA foreign_keys=ON;", e) != PKID_OK) {
		sqlite3_close(db);
		pkid_err_ctx(e, "opening %s", path);
		return e != NULL ? e->code : PKID_E_STORE_OPEN;
	}
	*out = db;
	return PKID_OK;
}

static int
schema_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int v = 0;

	if (sqlite3_prepare_v2(db, "SELECT version FROM schema_version", -1,
	    &st, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static enum pkid_code
migrate(sqlite3 *db, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	int v;
	size_t i;

	PKID_TRY(pkid_sq_exec_sql(db, "BEGIN IMMEDIATE", e));
	v = schema_version(db);
	if (v > PKID_STORE_SCHEMA) {
		rc = PKID_ERR(e, PKID_E_STORE_SCHEMA, "the store has schema "
		    "version %d; this pkid knows up to %d", v,
		    PKID_STORE_SCHEMA);
		goto out;
	}
	for (i = (size_t)v; i < pkid_schema_count; i++)
		PKID_TRY(pkid_sq_exec_sql(db, pkid_schema_steps[i], e));
	PKID_TRY(pkid_sq_exec_sql(db, "COMMIT", e));
	return PKID_OK;
out:
	(void)sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

static void *committer_main(void *arg);

#ifdef PKID_TEST_HOOKS
/* PKID_TEST_STORE_PAGES=N: the database may grow by N pages only, so a
 * test can fill the "disk" (SQLITE_FULL) and watch /healthz. */
static void
test_hooks(sqlite3 *db)
{
	const char *env = getenv("PKID_TEST_STORE_PAGES");
	char sql[96];
	sqlite3_stmt *st = NULL;
	long long pages = 0;

	if (env == NULL || sqlite3_prepare_v2(db, "PRAGMA page_count", -1,
	    &st, NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(st) == SQLITE_ROW)
		pages = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	snprintf(sql, sizeof(sql), "PRAGMA max_page_count = %lld",
	    pages + atoll(env));
	(void)sqlite3_exec(db, sql, NULL, NULL, NULL);
}
#else
static void
test_hooks(sqlite3 *db)
{
	(void)db;
}
#endif

enum pkid_code
pkid_sqs_open(const char *path, struct pkid_sq **out,
    struct pkid_err *e)
{
	struct pkid_sq *s;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for the store");
	pthread_mutex_init(&s->rmu, NULL);
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->work_cv, NULL);
	pthread_cond_init(&s->done_cv, NULL);
	PKID_TRY(private_file(path, e));
	PKID_TRY(open_conn(path, &s->wdb, e));
	PKID_TRY(migrate(s->wdb, e));
	test_hooks(s->wdb);
	PKID_TRY(open_conn(path, &s->rdb, e));
	if (pthread_create(&s->committer, NULL, committer_main, s) != 0) {
		rc = PKID_ERR(e, PKID_E_INTERNAL, "cannot start committer");
		goto out;
	}
	s->have_thread = 1;
	*out = s;
	return PKID_OK;
out:
	pkid_sqs_close(s);
	return rc;
}

void
pkid_sqs_close(struct pkid_sq *s)
{
	int i;

	if (s == NULL)
		return;
	if (s->have_thread) {
		pthread_mutex_lock(&s->mu);
		s->stopping = 1;
		pthread_cond_signal(&s->work_cv);
		pthread_mutex_unlock(&s->mu);
		pthread_join(s->committer, NULL);
	}
	for (i = 0; i < WS_MAX; i++)
		sqlite3_finalize(s->ws[i]);
	for (i = 0; i < RS_MAX; i++)
		sqlite3_finalize(s->rs[i]);
	sqlite3_close(s->rdb);
	sqlite3_close(s->wdb);
	pthread_mutex_destroy(&s->rmu);
	pthread_mutex_destroy(&s->mu);
	pthread_cond_destroy(&s->work_cv);
	pthread_cond_destroy(&s->done_cv);
	free(s);
}

/* A cached statement of the write connection, reset and ready to bind. */
sqlite3_stmt *
pkid_sq_wstmt(struct pkid_sq *s, enum wstmt which, struct pkid_err *e)
{
	if (s->ws[which] == NULL &&
	    sqlite3_prepare_v2(s->wdb, wsql[which], -1, &s->ws[which], NULL) !=
	    SQLITE_OK) {
		pkid_sq_db_err(e, s->wdb, sqlite3_errcode(s->wdb), "prepare");
		return NULL;
	}
	sqlite3_reset(s->ws[which]);
	sqlite3_clear_bindings(s->ws[which]);
	return s->ws[which];
}

sqlite3_stmt *
pkid_sq_rstmt(struct pkid_sq *s, enum rstmt which, const char *sql,
    struct pkid_err *e)
{
	int r;

	if (s->rs[which] == NULL && (r = sqlite3_prepare_v2(s->rdb, sql, -1,
	    &s->rs[which], NULL)) != SQLITE_OK) {
		pkid_sq_db_err(e, s->rdb, r, "prepare");
		return NULL;
	}
	return s->rs[which];
}

void
pkid_sq_rdone(sqlite3_stmt *st)
{
	if (st == NULL)
		return;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/*
 * Run one queued batch inside one transaction. *health receives the
 * batch's I/O failure (a full disk, a failed BEGIN or COMMIT), or is
 * cleared: what /healthz reports. *us: how long a commit that succeeded
 * took, 0 for one that failed.
 */
static void
commit_batch(struct pkid_sq *s, struct wop *batch, struct pkid_err *health,
    uint64_t *us)
{
	struct pkid_err e;
	struct wop *w;
	int n = 0;

	uint64_t t0 = pkid_mono_us();

	*us = 0;
	pkid_err_clear(&e);
	pkid_err_clear(health);
	if (wexec(s, WS_BEGIN, &e) != PKID_OK) {
		for (w = batch; w != NULL; w = w->next) {
			w->rc = e.code;
			w->err = e;
		}
		*health = e;
		return;
	}
	for (w = batch; w != NULL; w = w->next) {
		(void)wexec(s, WS_SAVEPOINT, NULL);
		w->rc = w->apply(s, w);
		if (w->rc != PKID_OK)
			(void)wexec(s, WS_ROLLBACK_TO, NULL);
		if (w->rc == PKID_E_STORE_IO && health->code == PKID_OK)
			*health = w->err;
		(void)wexec(s, WS_RELEASE, NULL);
		n++;
	}
	if (wexec(s, WS_COMMIT, &e) != PKID_OK) {
		(void)sqlite3_exec(s->wdb, "ROLLBACK", NULL, NULL, NULL);
		for (w = batch; w != NULL; w = w->next) {
			if (w->rc == PKID_OK) {
				w->rc = e.code;
				w->err = e;
			}
		}
		/* The first cause wins: after SQLITE_FULL, SQLite rolled the
		 * transaction back and COMMIT only says none is active. */
		if (health->code == PKID_OK)
			*health = e;
		return;
	}
	s->commits++;
	s->ops += (uint64_t)n;
	*us = pkid_mono_us() - t0;
}

void
pkid_sqs_health(struct pkid_sq *s, struct pkid_err *last)
{
	pthread_mutex_lock(&s->mu);
	pkid_err_clear(last);
	if (s->health_at != 0 && pkid_mono_ms() - s->health_at <
	    (uint64_t)PKID_STORE_HEALTH_WINDOW_S * 1000)
		*last = s->health;
	pthread_mutex_unlock(&s->mu);
}

static void *
committer_main(void *arg)
{
	struct pkid_sq *s = arg;
	struct wop *batch, *w, **tailp;
	struct pkid_err health;
	uint64_t us;
	int n, last = 0;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->head == NULL && !s->stopping)
			pthread_cond_wait(&s->work_cv, &s->mu);
		if (s->head == NULL && s->stopping)
			break;
		/*
		 * Group commit: when the last batch shared its fsync, other
		 * writers are busy; give them a moment to join this one. A
		 * lone writer (pkictl) never waits.
		 */
		if (last > 1 && !s->stopping) {
			struct timespec ts = { 0, PKID_STORE_GATHER_US * 1000 };

			pthread_mutex_unlock(&s->mu);
			nanosleep(&ts, NULL);
			pthread_mutex_lock(&s->mu);
		}
		/* Take up to PKID_STORE_MAX_BATCH writes. */
		batch = s->head;
		tailp = &batch;
		for (n = 0; *tailp != NULL && n < PKID_STORE_MAX_BATCH; n++)
			tailp = &(*tailp)->next;
		s->head = *tailp;
		if (s->head == NULL)
			s->tail = NULL;
		*tailp = NULL;
		last = n;
		pthread_mutex_unlock(&s->mu);
		commit_batch(s, batch, &health, &us);
		pthread_mutex_lock(&s->mu);
		if (us > 0 && s->commit_fn != NULL)
			s->commit_fn(s->commit_arg, us, (unsigned)n);
		if (health.code != PKID_OK) {
			s->health = health;
			s->health_at = pkid_mono_ms();
		}
		for (w = batch; w != NULL; w = w->next)
			w->done = 1;
		pthread_cond_broadcast(&s->done_cv);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Queue a write and wait until it is durable (or failed). */
enum pkid_code
pkid_sq_submit(struct pkid_sq *s, wop_fn fn, const void *arg, void *out,
    struct pkid_err *e)
{
	struct wop w;

	memset(&w, 0, sizeof(w));
	w.apply = fn;
	w.arg = arg;
	w.out = out;
	pkid_err_clear(&w.err);
	pthread_mutex_lock(&s->mu);
	if (s->tail != NULL)
		s->tail->next = &w;
	else
		s->head = &w;
	s->tail = &w;
	pthread_cond_signal(&s->work_cv);
	while (!w.done)
		pthread_cond_wait(&s->done_cv, &s->mu);
	pthread_mutex_unlock(&s->mu);
	if (w.rc != PKID_OK && e != NULL && e->code == PKID_OK)
		*e = w.err;
	return w.rc;
}

void
pkid_sqs_set_commit_hook(struct pkid_sq *s, pkid_store_commit_fn fn,
    void *arg)
{
	pthread_mutex_lock(&s->mu);
	s->commit_fn = fn;
	s->commit_arg = arg;
	pthread_mutex_unlock(&s->mu);
}

void
pkid_sqs_commit_stats(struct pkid_sq *s, uint64_t *commits,
    uint64_t *ops)
{
	pthread_mutex_lock(&s->mu);
	*commits = s->commits;
	*ops = s->ops;
	pthread_mutex_unlock(&s->mu);
}

enum pkid_code
pkid_sq_rprepare(struct pkid_sq *s, const char *sql, sqlite3_stmt **st,
    struct pkid_err *e)
{
	int r = sqlite3_prepare_v2(s->rdb, sql, -1, st, NULL);

	if (r != SQLITE_OK)
		return pkid_sq_db_err(e, s->rdb, r, "prepare");
	return PKID_OK;
}

const char *
pkid_sq_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : "";
}

/* ---- binding helpers --------------------------------------------------- */

int
pkid_sq_bind_text(sqlite3_stmt *st, int i, const char *v)
{
	if (v == NULL)
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, v, (int)strnlen(v, PKID_MAX_DB_TEXT),
	    SQLITE_STATIC);
}

enum pkid_code
pkid_sq_step_done(sqlite3 *db, sqlite3_stmt *st, const char *what,
    struct pkid_err *e)
{
	int r = sqlite3_step(st);

	if (r == SQLITE_DONE)
		return PKID_OK;
	return pkid_sq_db_err(e, db, r, what);
}

/* ---- audit -------------------------------------------------------------- */


enum pkid_code
pkid_sq_audit_insert(struct pkid_sq *s, const struct audit_arg *a,
    struct pkid_err *e)
{
	sqlite3_stmt *st = pkid_sq_wstmt(s, WS_AUDIT_INSERT, e);

	if (st == NULL)
		return e != NULL ? e->code : PKID_E_STORE_IO;
	sqlite3_bind_int64(st, 1, a->at);
	pkid_sq_bind_text(st, 2, a->actor);
	pkid_sq_bind_text(st, 3, a->action);
	pkid_sq_bind_text(st, 4, a->object);
	pkid_sq_bind_text(st, 5, a->result);
	pkid_sq_bind_text(st, 6, a->detail != NULL ? a->detail : "");
	return pkid_sq_step_done(s->wdb, st, "audit insert", e);
}

enum pkid_code
pkid_sq_audit_ok(struct pkid_sq *s, const char *actor, const char *action,
    const char *object, const char *detail, int64_t at, struct pkid_err *e)
{
	struct audit_arg au = { actor, action, object, "ok", detail, at };

	return pkid_sq_audit_insert(s, &au, e);
}

static enum pkid_code
apply_audit(struct pkid_sq *s, struct wop *w)
{
	return pkid_sq_audit_insert(s, w->arg, &w->err);
}

enum pkid_code
pkid_sqs_audit(struct pkid_sq *s, const char *actor, const char *action,
    const char *object, const char *result, const char *detail,
    struct pkid_err *e)
{
	struct audit_arg a = { actor, action, object, result, detail,
	    (int64_t)pkid_now() };

	return pkid_sq_submit(s, apply_audit, &a, NULL, e);
}

