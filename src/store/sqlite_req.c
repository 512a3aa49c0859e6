/*
 * sqlite_req.c - enrollment requests and users in the SQLite store.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "store/sqlite_int.h"

static const char *
col(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? (const char *)t : NULL;
}

enum pkid_code
pkid_sq_request_insert(struct pkid_sq *s, const struct pkid_request *r,
    int64_t *id, struct pkid_err *e)
{
	sqlite3_stmt *st;
	int64_t now = (int64_t)pkid_now();
	enum pkid_code rc;

	/* First, so a challenge another request took meanwhile refuses
	 * this one before anything is written (the savepoint drops the
	 * rest of its write, e.g. its certificate). */
	if (r->challenge_hash != NULL && (rc = pkid_sq_challenge_use(s,
	    r->challenge_hash, now, e)) != PKID_OK)
		return rc;
	if ((st = pkid_sq_wstmt(s, WS_REQUEST_INSERT, e)) == NULL)
		return e != NULL ? e->code : PKID_E_STORE_IO;
	pkid_sq_bind_text(st, 1, r->kind);
	pkid_sq_bind_text(st, 2, r->transaction_id);
	pkid_sq_bind_text(st, 3, r->state);
	pkid_sq_bind_text(st, 4, r->profile);
	pkid_sq_bind_text(st, 5, r->requester);
	if (r->csr_der != NULL)
		sqlite3_bind_blob(st, 6, r->csr_der, (int)r->csr_len,
		    SQLITE_STATIC);
	pkid_sq_bind_text(st, 7, r->csr_digest);
	pkid_sq_bind_text(st, 8, r->cert_serial);
	sqlite3_bind_int64(st, 9, now);
	sqlite3_bind_int64(st, 10, now);
	pkid_sq_bind_text(st, 11, r->detail != NULL ? r->detail : "");
	if (r->cert_der != NULL)
		sqlite3_bind_blob(st, 12, r->cert_der, (int)r->cert_len,
		    SQLITE_STATIC);
	rc = pkid_sq_step_done(s->wdb, st, "request insert", e);
	if (rc == PKID_OK && id != NULL)
		*id = sqlite3_last_insert_rowid(s->wdb);
	/* Unbind now: the blobs are the caller's (SQLITE_STATIC). */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static enum pkid_code
apply_request_add(struct pkid_sq *s, struct wop *w)
{
	return pkid_sq_request_insert(s, w->arg, w->out, &w->err);
}

enum pkid_code
pkid_sqs_request_add(struct pkid_sq *s, const struct pkid_request *r,
    int64_t *id, struct pkid_err *e)
{
	return pkid_sq_submit(s, apply_request_add, r, id, e);
}

#define REQ_COLS "id, kind, transaction_id, state, profile, requester, " \
	"csr_der, csr_digest, cert_serial, created_at, updated_at, detail, " \
	"cert_der"

/*
 * Rows of request matching where, in id order. The per-request lookups
 * (which < RS_MAX: every SCEP message and EST retry) keep their statement;
 * listings prepare theirs.
 */
static enum pkid_code
request_query(struct pkid_sq *s, enum rstmt which, const char *where,
    const char *p1, const char *p2, int64_t id, pkid_request_fn fn,
    void *arg, int *found, struct pkid_err *e)
{
	char sql[512];
	sqlite3_stmt *st = NULL, *kept = NULL;
	struct pkid_request r;
	enum pkid_code rc = PKID_E_INTERNAL;
	int q;

	*found = 0;
	snprintf(sql, sizeof(sql), "SELECT " REQ_COLS " FROM request WHERE %s "
	    "ORDER BY id", where);
	pthread_mutex_lock(&s->rmu);
	if (which < RS_MAX) {
		kept = st = pkid_sq_rstmt(s, which, sql, e);
		if (st == NULL) {
			rc = e != NULL ? e->code : PKID_E_STORE_IO;
			goto out;
		}
	} else if ((q = sqlite3_prepare_v2(s->rdb, sql, -1, &st, NULL)) !=
	    SQLITE_OK) {
		rc = pkid_sq_db_err(e, s->rdb, q, "prepare");
		goto out;
	}
	if (id > 0)
		sqlite3_bind_int64(st, 1, id);
	else {
		pkid_sq_bind_text(st, 1, p1);
		pkid_sq_bind_text(st, 2, p2);
	}
	while ((q = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&r, 0, sizeof(r));
		r.id = sqlite3_column_int64(st, 0);
		r.kind = col(st, 1);
		r.transaction_id = col(st, 2);
		r.state = col(st, 3);
		r.profile = col(st, 4);
		r.requester = col(st, 5);
		r.csr_der = sqlite3_column_blob(st, 6);
		r.csr_len = (size_t)sqlite3_column_bytes(st, 6);
		r.csr_digest = col(st, 7);
		r.cert_serial = col(st, 8);
		r.created_at = sqlite3_column_int64(st, 9);
		r.updated_at = sqlite3_column_int64(st, 10);
		r.detail = col(st, 11);
		r.cert_der = sqlite3_column_blob(st, 12);
		r.cert_len = (size_t)sqlite3_column_bytes(st, 12);
		(*found)++;
		if ((rc = fn(&r, arg, e)) != PKID_OK)
			goto out;
	}
	if (q != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, q, "request query");
		goto out;
	}
	rc = PKID_OK;
out:
	if (kept != NULL)
		pkid_sq_rdone(kept);
	else
		sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

enum pkid_code
pkid_sqs_request_find(struct pkid_sq *s, const char *kind,
    const char *transaction_id, pkid_request_fn fn, void *arg,
    struct pkid_err *e)
{
	int found;
	enum pkid_code rc = request_query(s, RS_REQ_BY_TXN,
	    "kind = ? AND transaction_id = ?", kind, transaction_id, 0, fn,
	    arg, &found, e);

	if (rc == PKID_OK && found == 0)
		rc = PKID_ERR(e, PKID_E_NOT_FOUND, "no %s request with "
		    "transaction id %s", kind, transaction_id);
	return rc;
}

enum pkid_code
pkid_sqs_request_get(struct pkid_sq *s, int64_t id, pkid_request_fn fn,
    void *arg, struct pkid_err *e)
{
	int found;
	enum pkid_code rc;

	if (id <= 0)
		return PKID_ERR(e, PKID_E_NOT_FOUND, "no request %lld",
		    (long long)id);
	rc = request_query(s, RS_REQ_BY_ID, "id = ?", NULL, NULL, id, fn, arg,
	    &found, e);
	if (rc == PKID_OK && found == 0)
		rc = PKID_ERR(e, PKID_E_NOT_FOUND, "no request %lld",
		    (long long)id);
	return rc;
}

enum pkid_code
pkid_sqs_request_list(struct pkid_sq *s, const char *state,
    pkid_request_fn fn, void *arg, struct pkid_err *e)
{
	int found;

	return request_query(s, RS_MAX, "(? IS NULL OR state = ?)", state,
	    state, 0, fn, arg, &found, e);
}

struct request_set {
	int64_t id;			/* request */
	const char *state;		/* new state */
	const char *serial;		/* issued serial or NULL */
	const char *detail;		/* detail or NULL */
	const char *actor;		/* for the audit log */
	const uint8_t *der;		/* upstream certificate or NULL */
	size_t len;			/* its length */
};

static enum pkid_code
apply_request_set(struct pkid_sq *s, struct wop *w)
{
	const struct request_set *a = w->arg;
	sqlite3_stmt *st = NULL;
	char obj[32];
	enum pkid_code rc = PKID_E_INTERNAL;
	struct pkid_err *e = &w->err;
	int q;

	q = sqlite3_prepare_v2(s->wdb, "UPDATE request SET state = ?, "
	    "cert_serial = COALESCE(?, cert_serial), updated_at = ?, "
	    "detail = COALESCE(?, detail), cert_der = COALESCE(?, cert_der) "
	    "WHERE id = ?", -1, &st, NULL);
	if (q != SQLITE_OK)
		return pkid_sq_db_err(e, s->wdb, q, "prepare");
	pkid_sq_bind_text(st, 1, a->state);
	pkid_sq_bind_text(st, 2, a->serial);
	sqlite3_bind_int64(st, 3, (int64_t)pkid_now());
	pkid_sq_bind_text(st, 4, a->detail);
	if (a->der != NULL)
		sqlite3_bind_blob(st, 5, a->der, (int)a->len, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, a->id);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "request update", e));
	PKID_CHECK(sqlite3_changes(s->wdb) == 1, PKID_E_NOT_FOUND,
	    "no request %lld", (long long)a->id);
	snprintf(obj, sizeof(obj), "request:%lld", (long long)a->id);
	rc = pkid_sq_audit_ok(s, a->actor, a->state, obj, a->detail,
	    (int64_t)pkid_now(), e);
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_request_set(struct pkid_sq *s, int64_t id, const char *state,
    const char *cert_serial, const char *detail, const char *actor,
    struct pkid_err *e)
{
	struct request_set a = { id, state, cert_serial, detail, actor, NULL,
	    0 };

	return pkid_sq_submit(s, apply_request_set, &a, NULL, e);
}

struct request_retire {
	int64_t id;			/* the failed request */
	const char *actor;		/* for the audit log */
};

static enum pkid_code
apply_request_retire(struct pkid_sq *s, struct wop *w)
{
	const struct request_retire *a = w->arg;
	sqlite3_stmt *st = NULL;
	char obj[32];
	enum pkid_code rc = PKID_E_INTERNAL;
	struct pkid_err *e = &w->err;
	int q;

	q = sqlite3_prepare_v2(s->wdb, "UPDATE request SET transaction_id = "
	    "transaction_id || '#' || id, updated_at = ? WHERE id = ? AND "
	    "state = 'failed'", -1, &st, NULL);
	if (q != SQLITE_OK)
		return pkid_sq_db_err(e, s->wdb, q, "prepare");
	sqlite3_bind_int64(st, 1, (int64_t)pkid_now());
	sqlite3_bind_int64(st, 2, a->id);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "request retire", e));
	PKID_CHECK(sqlite3_changes(s->wdb) == 1, PKID_E_REQUEST_STATE,
	    "request %lld is not a failed request", (long long)a->id);
	snprintf(obj, sizeof(obj), "request:%lld", (long long)a->id);
	rc = pkid_sq_audit_ok(s, a->actor, "retire", obj, "failed; its "
	    "transaction id is free for a new request", (int64_t)pkid_now(),
	    e);
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_request_retire(struct pkid_sq *s, int64_t id,
    const char *actor, struct pkid_err *e)
{
	struct request_retire a = { id, actor };

	return pkid_sq_submit(s, apply_request_retire, &a, NULL, e);
}

enum pkid_code
pkid_sqs_request_set_cert(struct pkid_sq *s, int64_t id,
    const char *cert_serial, const uint8_t *der, size_t len,
    const char *actor, struct pkid_err *e)
{
	struct request_set a = { id, "issued", cert_serial, "issued by the "
	    "upstream CA", actor, der, len };

	if (der == NULL || len == 0 || len > PKID_MAX_CERT_SIZE)
		return PKID_ERR(e, PKID_E_USAGE, "no upstream certificate or "
		    "one of %zu bytes", len);
	return pkid_sq_submit(s, apply_request_set, &a, NULL, e);
}

struct user_put {
	const char *name;	/* user */
	const char *hash;	/* password hash */
};

static enum pkid_code
apply_user_put(struct pkid_sq *s, struct wop *w)
{
	const struct user_put *u = w->arg;
	sqlite3_stmt *st = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	struct pkid_err *e = &w->err;
	int q;

	/* Delete then insert: portable "replace". */
	q = sqlite3_prepare_v2(s->wdb, "DELETE FROM app_user WHERE name = ?",
	    -1, &st, NULL);
	if (q != SQLITE_OK)
		return pkid_sq_db_err(e, s->wdb, q, "prepare");
	pkid_sq_bind_text(st, 1, u->name);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "user delete", e));
	sqlite3_finalize(st);
	st = NULL;
	q = sqlite3_prepare_v2(s->wdb, "INSERT INTO app_user (name, "
	    "password_hash, created_at) VALUES (?,?,?)", -1, &st, NULL);
	if (q != SQLITE_OK) {
		rc = pkid_sq_db_err(e, s->wdb, q, "prepare");
		goto out;
	}
	pkid_sq_bind_text(st, 1, u->name);
	pkid_sq_bind_text(st, 2, u->hash);
	sqlite3_bind_int64(st, 3, (int64_t)pkid_now());
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "user insert", e));
	rc = pkid_sq_audit_ok(s, "cli", "user-set", u->name, "",
	    (int64_t)pkid_now(), e);
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_user_put(struct pkid_sq *s, const char *name, const char *hash,
    struct pkid_err *e)
{
	struct user_put u = { name, hash };

	return pkid_sq_submit(s, apply_user_put, &u, NULL, e);
}

enum pkid_code
pkid_sqs_user_get(struct pkid_sq *s, const char *name, char *out,
    size_t len, struct pkid_err *e)
{
	sqlite3_stmt *st = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	int q;

	pthread_mutex_lock(&s->rmu);
	/* Every HTTP Basic request asks: a kept statement. */
	st = pkid_sq_rstmt(s, RS_USER_GET, "SELECT password_hash FROM "
	    "app_user WHERE name = ?", e);
	if (st == NULL) {
		rc = e->code;
		goto out;
	}
	pkid_sq_bind_text(st, 1, name);
	q = sqlite3_step(st);
	if (q == SQLITE_DONE) {
		rc = PKID_ERR(e, PKID_E_NOT_FOUND, "no user '%s'", name);
		goto out;
	}
	if (q != SQLITE_ROW) {
		rc = pkid_sq_db_err(e, s->rdb, q, "user query");
		goto out;
	}
	snprintf(out, len, "%s", col(st, 0) != NULL ? col(st, 0) : "");
	rc = PKID_OK;
out:
	pkid_sq_rdone(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}
