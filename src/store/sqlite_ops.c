/*
 * sqlite_ops.c - the store's operations: each write is a wop applied by the
 * committer (sqlite.c), each read a prepared statement on the read
 * connection.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "store/sqlite_int.h"

/* ---- reads ---------------------------------------------------------------- */

/* ---- CA generations --------------------------------------------------- */

static enum pkid_code
apply_ca_gen_add(struct pkid_sq *s, struct wop *w)
{
	const struct pkid_ca_gen *g = w->arg;
	sqlite3_stmt *st = NULL;
	enum pkid_code rc;
	int r;

	r = sqlite3_prepare_v2(s->wdb, "INSERT INTO ca_generation (ca_name, "
	    "generation, role, state, subject, not_before, not_after, "
	    "cert_der, key_ref, activate_at) VALUES (?,?,?,?,?,?,?,?,?,?)", -1,
	    &st, NULL);
	if (r != SQLITE_OK)
		return pkid_sq_db_err(&w->err, s->wdb, r, "prepare");
	pkid_sq_bind_text(st, 1, g->ca_name);
	sqlite3_bind_int(st, 2, g->generation);
	pkid_sq_bind_text(st, 3, g->role);
	pkid_sq_bind_text(st, 4, g->state);
	pkid_sq_bind_text(st, 5, g->subject);
	sqlite3_bind_int64(st, 6, g->not_before);
	sqlite3_bind_int64(st, 7, g->not_after);
	sqlite3_bind_blob(st, 8, g->der, (int)g->der_len, SQLITE_STATIC);
	pkid_sq_bind_text(st, 9, g->key_ref);
	sqlite3_bind_int64(st, 10, g->activate_at);
	rc = pkid_sq_step_done(s->wdb, st, "ca generation insert", &w->err);
	if (rc == PKID_OK)
		*(int64_t *)w->out = sqlite3_last_insert_rowid(s->wdb);
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_ca_gen_add(struct pkid_sq *s, struct pkid_ca_gen *g,
    struct pkid_err *e)
{
	return pkid_sq_submit(s, apply_ca_gen_add, g, &g->id, e);
}

enum pkid_code
pkid_sqs_ca_gen_list(struct pkid_sq *s, const char *ca_name,
    pkid_ca_gen_fn fn, void *arg, struct pkid_err *e)
{
	sqlite3_stmt *st = NULL;
	struct pkid_ca_gen g;
	enum pkid_code rc = PKID_E_INTERNAL;
	int r;

	pthread_mutex_lock(&s->rmu);
	PKID_TRY(pkid_sq_rprepare(s,
	    "SELECT id, ca_name, generation, role, state, "
	    "subject, not_before, not_after, cert_der, key_ref, activate_at "
	    "FROM ca_generation WHERE (? IS NULL OR ca_name = ?) ORDER BY id",
	    &st, e));
	pkid_sq_bind_text(st, 1, ca_name);
	pkid_sq_bind_text(st, 2, ca_name);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&g, 0, sizeof(g));
		g.id = sqlite3_column_int64(st, 0);
		snprintf(g.ca_name, sizeof(g.ca_name), "%s", pkid_sq_text(st,
		    1));
		g.generation = sqlite3_column_int(st, 2);
		snprintf(g.role, sizeof(g.role), "%s", pkid_sq_text(st, 3));
		snprintf(g.state, sizeof(g.state), "%s", pkid_sq_text(st, 4));
		snprintf(g.subject, sizeof(g.subject), "%s", pkid_sq_text(st,
		    5));
		g.not_before = sqlite3_column_int64(st, 6);
		g.not_after = sqlite3_column_int64(st, 7);
		g.der = sqlite3_column_blob(st, 8);
		g.der_len = (size_t)sqlite3_column_bytes(st, 8);
		snprintf(g.key_ref, sizeof(g.key_ref), "%s", pkid_sq_text(st,
		    9));
		g.activate_at = sqlite3_column_int64(st, 10);
		PKID_TRY(fn(&g, arg, e));
	}
	if (r != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, r, "ca generation list");
		goto out;
	}
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

/* What apply_ca_gen_reschedule changes. */
struct gen_resched {
	int64_t id;		/* the shadow row */
	int64_t at;		/* its new activation */
	const char *actor;	/* for the audit log */
};

static enum pkid_code
apply_ca_gen_reschedule(struct pkid_sq *s, struct wop *w)
{
	const struct gen_resched *a = w->arg;
	struct pkid_err *e = &w->err;
	sqlite3_stmt *st = NULL;
	char obj[32], det[64];
	enum pkid_code rc = PKID_E_INTERNAL;
	int r;

	r = sqlite3_prepare_v2(s->wdb, "UPDATE ca_generation SET activate_at "
	    "= ? WHERE id = ? AND state = 'shadow'", -1, &st, NULL);
	if (r != SQLITE_OK)
		return pkid_sq_db_err(e, s->wdb, r, "prepare");
	sqlite3_bind_int64(st, 1, a->at);
	sqlite3_bind_int64(st, 2, a->id);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "reschedule generation", e));
	PKID_CHECK(sqlite3_changes(s->wdb) == 1, PKID_E_NOT_FOUND, "no shadow "
	    "generation row %lld", (long long)a->id);
	snprintf(obj, sizeof(obj), "%lld", (long long)a->id);
	snprintf(det, sizeof(det), "activate_at=%lld", (long long)a->at);
	rc = pkid_sq_audit_ok(s, a->actor, "rollover-reschedule", obj, det,
	    (int64_t)pkid_now(), e);
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_ca_gen_reschedule(struct pkid_sq *s, int64_t id, int64_t at,
    const char *actor, struct pkid_err *e)
{
	struct gen_resched a = { id, at, actor };

	return pkid_sq_submit(s, apply_ca_gen_reschedule, &a, NULL, e);
}

/* What apply_ca_gen_activate changes. */
struct gen_activate {
	const char *ca_name;	/* the CA */
	const char *role;	/* "root" or "issuing" */
	int64_t id;		/* the shadow row to make current */
	const char *actor;	/* for the audit log */
	int64_t now;		/* when */
};

static enum pkid_code
apply_ca_gen_activate(struct pkid_sq *s, struct wop *w)
{
	const struct gen_activate *a = w->arg;
	struct pkid_err *e = &w->err;
	sqlite3_stmt *st = NULL;
	char obj[96];
	enum pkid_code rc = PKID_E_INTERNAL;
	int r;

	r = sqlite3_prepare_v2(s->wdb, "UPDATE ca_generation SET state = "
	    "'retired' WHERE ca_name = ? AND role = ? AND state = 'current'",
	    -1, &st, NULL);
	if (r != SQLITE_OK)
		return pkid_sq_db_err(e, s->wdb, r, "prepare");
	pkid_sq_bind_text(st, 1, a->ca_name);
	pkid_sq_bind_text(st, 2, a->role);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "retire generation", e));
	sqlite3_finalize(st);
	st = NULL;
	r = sqlite3_prepare_v2(s->wdb, "UPDATE ca_generation SET state = "
	    "'current' WHERE id = ? AND ca_name = ? AND role = ? AND state = "
	    "'shadow'", -1, &st, NULL);
	if (r != SQLITE_OK) {
		rc = pkid_sq_db_err(e, s->wdb, r, "prepare");
		goto out;
	}
	sqlite3_bind_int64(st, 1, a->id);
	pkid_sq_bind_text(st, 2, a->ca_name);
	pkid_sq_bind_text(st, 3, a->role);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "activate generation", e));
	PKID_CHECK(sqlite3_changes(s->wdb) == 1, PKID_E_NOT_FOUND, "no shadow "
	    "%s generation %lld of CA %s", a->role, (long long)a->id,
	    a->ca_name);
	snprintf(obj, sizeof(obj), "%s/%s/%lld", a->ca_name, a->role,
	    (long long)a->id);
	rc = pkid_sq_audit_ok(s, a->actor, "rollover-activate", obj, "",
	    a->now, e);
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_ca_gen_activate(struct pkid_sq *s, const char *ca_name,
    const char *role, int64_t id, const char *actor, struct pkid_err *e)
{
	struct gen_activate a = { ca_name, role, id, actor,
	    (int64_t)pkid_now() };

	return pkid_sq_submit(s, apply_ca_gen_activate, &a, NULL, e);
}

/* ---- certificates ---------------------------------------------------------- */

static enum pkid_code
apply_cert_add(struct pkid_sq *s, struct wop *w)
{
	const struct pkid_cert_rec *c = w->arg;
	sqlite3_stmt *st = pkid_sq_wstmt(s, WS_CERT_INSERT, &w->err);
	struct audit_arg a;
	enum pkid_code rc;

	if (st == NULL)
		return w->err.code;
	pkid_sq_bind_text(st, 1, c->serial);
	sqlite3_bind_int64(st, 2, c->ca_gen);
	pkid_sq_bind_text(st, 3, c->subject);
	pkid_sq_bind_text(st, 4, c->sans != NULL ? c->sans : "");
	pkid_sq_bind_text(st, 5, c->profile);
	pkid_sq_bind_text(st, 6, c->requester);
	if (c->request_id > 0)
		sqlite3_bind_int64(st, 7, c->request_id);
	sqlite3_bind_int64(st, 8, c->not_before);
	sqlite3_bind_int64(st, 9, c->not_after);
	sqlite3_bind_int64(st, 10, c->issued_at);
	sqlite3_bind_blob(st, 11, c->der, (int)c->der_len, SQLITE_STATIC);
	pkid_sq_bind_text(st, 12, c->fingerprint);
	rc = pkid_sq_step_done(s->wdb, st, "certificate insert", &w->err);
	sqlite3_reset(st);
	if (rc != PKID_OK)
		return rc;
	a.actor = c->requester;
	a.action = "issue";
	a.object = c->serial;
	a.result = "ok";
	a.detail = c->subject;
	a.at = c->issued_at;
	return pkid_sq_audit_insert(s, &a, &w->err);
}

enum pkid_code
pkid_sqs_cert_add(struct pkid_sq *s, const struct pkid_cert_rec *r,
    struct pkid_err *e)
{
	return pkid_sq_submit(s, apply_cert_add, r, NULL, e);
}

/* A certificate and the request it answers, for one commit. */
struct cert_req {
	const struct pkid_cert_rec *cert;	/* the certificate */
	const struct pkid_request *req;		/* its request row */
};

static enum pkid_code
apply_cert_add_request(struct pkid_sq *s, struct wop *w)
{
	const struct cert_req *cr = w->arg;
	struct wop inner = *w;
	enum pkid_code rc;

	inner.arg = cr->cert;
	if ((rc = apply_cert_add(s, &inner)) != PKID_OK) {
		w->err = inner.err;
		return rc;
	}
	rc = pkid_sq_request_insert(s, cr->req, w->out, &w->err);
	/* A duplicate (kind, transaction id) is not a serial collision the
	 * caller should retry: say what it is. */
	if (rc == PKID_E_STORE_CONSTRAINT) {
		pkid_err_clear(&w->err);
		rc = PKID_ERR(&w->err, PKID_E_REQUEST_STATE,
		    "a %s request with "
		    "transaction id %s is already recorded", cr->req->kind,
		    cr->req->transaction_id != NULL ?
		    cr->req->transaction_id : "(none)");
	}
	return rc;
}

enum pkid_code
pkid_sqs_cert_add_request(struct pkid_sq *s,
    const struct pkid_cert_rec *r, const struct pkid_request *req,
    int64_t *req_id, struct pkid_err *e)
{
	struct cert_req cr = { r, req };

	if (req == NULL)
		return pkid_sqs_cert_add(s, r, e);
	return pkid_sq_submit(s, apply_cert_add_request, &cr, req_id, e);
}

#define CERT_COLS "c.serial, c.ca_gen, c.subject, c.sans, c.profile, " \
	"c.requester, c.request_id, c.not_before, c.not_after, c.issued_at, " \
	"c.der, c.fingerprint, r.revoked_at, r.reason"
#define CERT_FROM " FROM certificate c LEFT JOIN revocation r " \
	"ON r.serial = c.serial"

static void
cert_from_row(sqlite3_stmt *st, struct pkid_cert_rec *c)
{
	memset(c, 0, sizeof(*c));
	c->serial = pkid_sq_text(st, 0);
	c->ca_gen = sqlite3_column_int64(st, 1);
	c->subject = pkid_sq_text(st, 2);
	c->sans = pkid_sq_text(st, 3);
	c->profile = pkid_sq_text(st, 4);
	c->requester = pkid_sq_text(st, 5);
	c->request_id = sqlite3_column_int64(st, 6);
	c->not_before = sqlite3_column_int64(st, 7);
	c->not_after = sqlite3_column_int64(st, 8);
	c->issued_at = sqlite3_column_int64(st, 9);
	c->der = sqlite3_column_blob(st, 10);
	c->der_len = (size_t)sqlite3_column_bytes(st, 10);
	c->fingerprint = pkid_sq_text(st, 11);
	c->revoked = sqlite3_column_type(st, 12) != SQLITE_NULL;
	c->revoked_at = sqlite3_column_int64(st, 12);
	c->reason = sqlite3_column_int(st, 13);
}

static enum pkid_code
cert_query(struct pkid_sq *s, const char *serial, pkid_cert_fn fn,
    void *arg, int *found, struct pkid_err *e)
{
	sqlite3_stmt *st = NULL, *cached = NULL;
	struct pkid_cert_rec c;
	enum pkid_code rc = PKID_E_INTERNAL;
	int r;

	*found = 0;
	pthread_mutex_lock(&s->rmu);
	/* One serial (every client certificate check) uses the primary
	 * key through a kept statement; "? IS NULL OR" would scan. */
	if (serial != NULL) {
		cached = pkid_sq_rstmt(s, RS_CERT_BY_SERIAL, "SELECT "
		    CERT_COLS CERT_FROM " WHERE c.serial = ?", e);
		PKID_CHECK(cached != NULL, e->code, "certificate query");
		pkid_sq_bind_text(cached, 1, serial);
	} else {
		PKID_TRY(pkid_sq_rprepare(s, "SELECT " CERT_COLS CERT_FROM
		    " ORDER BY c.issued_at, c.serial", &st, e));
	}
	while ((r = sqlite3_step(cached != NULL ? cached : st)) ==
	    SQLITE_ROW) {
		cert_from_row(cached != NULL ? cached : st, &c);
		(*found)++;
		PKID_TRY(fn(&c, arg, e));
	}
	if (r != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, r, "certificate query");
		goto out;
	}
	rc = PKID_OK;
out:
	pkid_sq_rdone(cached);
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

enum pkid_code
pkid_sqs_cert_get(struct pkid_sq *s, const char *serial, pkid_cert_fn fn,
    void *arg, struct pkid_err *e)
{
	int found;
	enum pkid_code rc = cert_query(s, serial, fn, arg, &found, e);

	if (rc == PKID_OK && found == 0)
		rc = PKID_ERR(e, PKID_E_NOT_FOUND,
		    "no certificate with serial %s", serial);
	return rc;
}

enum pkid_code
pkid_sqs_cert_list(struct pkid_sq *s, pkid_cert_fn fn, void *arg,
    struct pkid_err *e)
{
	int found;

	return cert_query(s, NULL, fn, arg, &found, e);
}

/* PATTERN to a LIKE operand: '*' is any run, the rest literal; without a
 * '*' the pattern may match anywhere. */
static void
like_operand(const char *pat, char *out, size_t len)
{
	size_t n = 0;
	int star = strchr(pat, '*') != NULL;

	if (!star && n + 1 < len)
		out[n++] = '%';
	for (; *pat != '\0' && n + 3 < len; pat++) {
		if (*pat == '*') {
			out[n++] = '%';
			continue;
		}
		if (*pat == '%' || *pat == '_' || *pat == '\\')
			out[n++] = '\\';
		out[n++] = *pat;
	}
	if (!star && n + 1 < len)
		out[n++] = '%';
	out[n] = '\0';
}

enum pkid_code
pkid_sqs_cert_find(struct pkid_sq *s, const struct pkid_cert_filter *f,
    pkid_cert_fn fn, void *arg, struct pkid_err *e)
{
	char sql[1024], like[2 * PKID_CERT_PATTERN_MAX + 3];
	sqlite3_stmt *st = NULL;
	struct pkid_cert_rec c;
	enum pkid_code rc = PKID_E_INTERNAL;
	int r, k = 1;

	if (f->subject != NULL && strlen(f->subject) > PKID_CERT_PATTERN_MAX)
		return PKID_ERR(e, PKID_E_USAGE, "the subject pattern is "
		    "longer than %d characters", PKID_CERT_PATTERN_MAX);
	/* Fixed fragments only; every value is bound. With --expiring the
	 * not_after index bounds the walk; "revoked" turns the LEFT JOIN
	 * into a join SQLite drives from revocation. */
	snprintf(sql, sizeof(sql), "SELECT " CERT_COLS CERT_FROM " WHERE 1%s%s"
	    "%s%s ORDER BY %s LIMIT ?",
	    f->expires_to > 0 ? " AND c.not_after >= ? AND c.not_after < ?" :
	    "", f->expires_to > 0 ? " AND r.serial IS NULL" : "",
	    f->revoked ? " AND r.serial IS NOT NULL" : "",
	    f->subject != NULL ? " AND (c.subject LIKE ? ESCAPE '\\' OR "
	    "c.sans LIKE ? ESCAPE '\\')" : "",
	    f->expires_to > 0 ? "c.not_after, c.serial" :
	    "c.issued_at, c.serial");
	pthread_mutex_lock(&s->rmu);
	PKID_TRY(pkid_sq_rprepare(s, sql, &st, e));
	if (f->expires_to > 0) {
		sqlite3_bind_int64(st, k++, f->expires_from);
		sqlite3_bind_int64(st, k++, f->expires_to);
	}
	if (f->subject != NULL) {
		like_operand(f->subject, like, sizeof(like));
		pkid_sq_bind_text(st, k++, like);
		pkid_sq_bind_text(st, k++, like);
	}
	sqlite3_bind_int64(st, k, f->limit > 0 ? f->limit : -1);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		cert_from_row(st, &c);
		PKID_TRY(fn(&c, arg, e));
	}
	if (r != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, r, "certificate query");
		goto out;
	}
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

static enum pkid_code
count_query(struct pkid_sq *s, const char *sql, const char *p1,
    const char *p2, int64_t *n, struct pkid_err *e);

enum pkid_code
pkid_sqs_revoked_count(struct pkid_sq *s, int64_t ca_gen, int64_t *n,
    struct pkid_err *e)
{
	char gen[32];

	snprintf(gen, sizeof(gen), "%lld", (long long)ca_gen);
	return count_query(s, "SELECT COUNT(*) FROM revocation r JOIN "
	    "certificate c ON c.serial = r.serial WHERE c.ca_gen = "
	    "CAST(? AS INTEGER)", gen, NULL, n, e);
}

enum pkid_code
pkid_sqs_revoked_mark(struct pkid_sq *s, int64_t *mark,
    struct pkid_err *e)
{
	/* The newest revocation row: one step down the rowid B-tree, however
	 * many revocations there are. */
	return count_query(s, "SELECT MAX((SELECT COALESCE(MAX(rowid), 0) "
	    "FROM revocation), (SELECT COALESCE(MAX(rev_rowid), 0) FROM "
	    "revocation_lifted)) + (SELECT COALESCE(MAX(id), 0) FROM "
	    "revocation_lifted)", NULL, NULL, mark, e);
}

static enum pkid_code
count_query(struct pkid_sq *s, const char *sql, const char *p1,
    const char *p2, int64_t *n, struct pkid_err *e)
{
	sqlite3_stmt *st = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	int r;

	pthread_mutex_lock(&s->rmu);
	PKID_TRY(pkid_sq_rprepare(s, sql, &st, e));
	if (p1 != NULL)
		pkid_sq_bind_text(st, 1, p1);
	if (p2 != NULL)
		pkid_sq_bind_text(st, 2, p2);
	if ((r = sqlite3_step(st)) != SQLITE_ROW) {
		rc = pkid_sq_db_err(e, s->rdb, r, "count");
		goto out;
	}
	*n = sqlite3_column_int64(st, 0);
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

enum pkid_code
pkid_sqs_cert_count(struct pkid_sq *s, int64_t *n, struct pkid_err *e)
{
	return count_query(s, "SELECT COUNT(*) FROM certificate", NULL, NULL,
	    n, e);
}

enum pkid_code
pkid_sqs_audit_count(struct pkid_sq *s, const char *action,
    const char *result, int64_t *n, struct pkid_err *e)
{
	return count_query(s, "SELECT COUNT(*) FROM audit WHERE action = ? "
	    "AND result = ?", action, result, n, e);
}

/* ---- revocation ------------------------------------------------------------ */

enum pkid_code
pkid_sqs_key_compromised(struct pkid_sq *s, const char *spki_sha256,
    char *serial, size_t len, struct pkid_err *e)
{
	sqlite3_stmt *st;
	enum pkid_code rc = PKID_E_INTERNAL;
	int r;

	pthread_mutex_lock(&s->rmu);
	st = pkid_sq_rstmt(s, RS_KEY_COMPROMISED, "SELECT serial FROM "
	    "compromised_key WHERE spki_sha256 = ?", e);
	if (st == NULL) {
		rc = e->code;
		goto out;
	}
	pkid_sq_bind_text(st, 1, spki_sha256);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		snprintf(serial, len, "%s", pkid_sq_text(st, 0));
		rc = PKID_OK;
	} else if (r == SQLITE_DONE) {
		rc = PKID_ERR(e, PKID_E_NOT_FOUND, "no certificate with this "
		    "key was revoked for keyCompromise");
	} else {
		rc = pkid_sq_db_err(e, s->rdb, r, "compromised key lookup");
	}
	pkid_sq_rdone(st);
out:
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

struct revoke_arg {
	const char *serial;	/* hex */
	int reason;		/* CRL reason */
	int64_t when;		/* epoch seconds */
	const char *actor;	/* for the audit log */
};

static enum pkid_code
apply_revoke(struct pkid_sq *s, struct wop *w)
{
	const struct revoke_arg *a = w->arg;
	sqlite3_stmt *st = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	struct pkid_err *e = &w->err;
	int r;

	r = sqlite3_prepare_v2(s->wdb, "SELECT c.serial, r.serial FROM "
	    "certificate c LEFT JOIN revocation r ON r.serial = c.serial "
	    "WHERE c.serial = ?", -1, &st, NULL);
	if (r != SQLITE_OK)
		return pkid_sq_db_err(e, s->wdb, r, "prepare");
	pkid_sq_bind_text(st, 1, a->serial);
	r = sqlite3_step(st);
	PKID_CHECK(r == SQLITE_ROW, PKID_E_NOT_FOUND,
	    "no certificate with serial %s", a->serial);
	PKID_CHECK(sqlite3_column_type(st, 1) == SQLITE_NULL,
	    PKID_E_REVOKED_ALREADY, "serial %s is already revoked", a->serial);
	sqlite3_finalize(st);
	st = NULL;
	/* Past every rowid a revocation ever had, lifted ones included, so
	 * that pkid_store_revoked_mark never returns a value twice. */
	r = sqlite3_prepare_v2(s->wdb, "INSERT INTO revocation (rowid, "
	    "serial, revoked_at, reason) VALUES (1 + MAX((SELECT "
	    "COALESCE(MAX(rowid), 0) FROM revocation), (SELECT "
	    "COALESCE(MAX(rev_rowid), 0) FROM revocation_lifted)),?,?,?)", -1,
	    &st, NULL);
	if (r != SQLITE_OK) {
		rc = pkid_sq_db_err(e, s->wdb, r, "prepare");
		goto out;
	}
	pkid_sq_bind_text(st, 1, a->serial);
	sqlite3_bind_int64(st, 2, a->when);
	sqlite3_bind_int(st, 3, a->reason);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "revocation insert", e));
	if (a->reason == 1) {
		/* keyCompromise: the key is refused from now on
		 * (pkid_store_key_compromised), once per key. */
		sqlite3_finalize(st);
		st = NULL;
		r = sqlite3_prepare_v2(s->wdb, "INSERT INTO compromised_key "
		    "(spki_sha256, serial, revoked_at) SELECT k, ?, ? FROM "
		    "(SELECT pkid_spki_sha256(der) AS k FROM certificate WHERE "
		    "serial = ?) WHERE k IS NOT NULL AND k NOT IN (SELECT "
		    "spki_sha256 FROM compromised_key)", -1, &st, NULL);
		if (r != SQLITE_OK) {
			rc = pkid_sq_db_err(e, s->wdb, r, "prepare");
			goto out;
		}
		pkid_sq_bind_text(st, 1, a->serial);
		sqlite3_bind_int64(st, 2, a->when);
		pkid_sq_bind_text(st, 3, a->serial);
		PKID_TRY(pkid_sq_step_done(s->wdb, st, "compromised key", e));
	}
	rc = pkid_sq_audit_ok(s, a->actor, "revoke", a->serial,
	    a->reason == 1 ? "keyCompromise: its key is refused from now on" :
	    "", a->when, e);
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_revoke(struct pkid_sq *s, const char *serial, int reason,
    int64_t when, const char *actor, struct pkid_err *e)
{
	struct revoke_arg a = { serial, reason, when, actor };

	return pkid_sq_submit(s, apply_revoke, &a, NULL, e);
}

static enum pkid_code
apply_unrevoke(struct pkid_sq *s, struct wop *w)
{
	const struct revoke_arg *a = w->arg;
	sqlite3_stmt *st = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	struct pkid_err *e = &w->err;
	int r, reason;

	r = sqlite3_prepare_v2(s->wdb, "SELECT c.serial, r.rowid, r.reason, "
	    "r.revoked_at FROM certificate c LEFT JOIN revocation r ON "
	    "r.serial = c.serial WHERE c.serial = ?", -1, &st, NULL);
	if (r != SQLITE_OK)
		return pkid_sq_db_err(e, s->wdb, r, "prepare");
	pkid_sq_bind_text(st, 1, a->serial);
	r = sqlite3_step(st);
	PKID_CHECK(r == SQLITE_ROW, PKID_E_NOT_FOUND,
	    "no certificate with serial %s", a->serial);
	PKID_CHECK(sqlite3_column_type(st, 1) != SQLITE_NULL,
	    PKID_E_NOT_REVOKED, "serial %s is not revoked", a->serial);
	reason = sqlite3_column_int(st, 2);
	PKID_CHECK(reason == 6, PKID_E_REVOCATION_FINAL, "serial %s was "
	    "revoked with reason %d, not certificateHold (6): it stays "
	    "revoked", a->serial, reason);
	sqlite3_finalize(st);
	st = NULL;
	r = sqlite3_prepare_v2(s->wdb, "INSERT INTO revocation_lifted "
	    "(serial, rev_rowid, revoked_at, reason, lifted_at, actor) SELECT "
	    "serial, rowid, revoked_at, reason, ?, ? FROM revocation WHERE "
	    "serial = ?", -1, &st, NULL);
	if (r != SQLITE_OK) {
		rc = pkid_sq_db_err(e, s->wdb, r, "prepare");
		goto out;
	}
	sqlite3_bind_int64(st, 1, a->when);
	pkid_sq_bind_text(st, 2, a->actor);
	pkid_sq_bind_text(st, 3, a->serial);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "revocation lift", e));
	sqlite3_finalize(st);
	st = NULL;
	r = sqlite3_prepare_v2(s->wdb, "DELETE FROM revocation WHERE serial "
	    "= ?", -1, &st, NULL);
	if (r != SQLITE_OK) {
		rc = pkid_sq_db_err(e, s->wdb, r, "prepare");
		goto out;
	}
	pkid_sq_bind_text(st, 1, a->serial);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "revocation delete", e));
	rc = pkid_sq_audit_ok(s, a->actor, "unrevoke", a->serial,
	    "certificateHold lifted", a->when, e);
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_unrevoke(struct pkid_sq *s, const char *serial, int64_t when,
    const char *actor, struct pkid_err *e)
{
	struct revoke_arg a = { serial, 6, when, actor };

	return pkid_sq_submit(s, apply_unrevoke, &a, NULL, e);
}

enum pkid_code
pkid_sqs_revoked_list(struct pkid_sq *s, int64_t ca_gen,
    pkid_revoked_fn fn, void *arg, struct pkid_err *e)
{
	sqlite3_stmt *st = NULL;
	struct pkid_revoked rv;
	enum pkid_code rc = PKID_E_INTERNAL;
	int r;

	pthread_mutex_lock(&s->rmu);
	/* CROSS JOIN keeps the revocations the outer loop (SQLite does not
	 * reorder it): one certificate lookup per revoked serial, rather
	 * than a revocation lookup per certificate of the generation, which
	 * may be millions. No ORDER BY: the CRL sorts its entries. */
	PKID_TRY(pkid_sq_rprepare(s, "SELECT r.serial, r.revoked_at, r.reason FROM "
	    "revocation r CROSS JOIN certificate c ON c.serial = r.serial "
	    "WHERE c.ca_gen = ? AND c.not_after >= ?", &st, e));
	sqlite3_bind_int64(st, 1, ca_gen);
	sqlite3_bind_int64(st, 2, (int64_t)pkid_now());
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		rv.serial = pkid_sq_text(st, 0);
		rv.revoked_at = sqlite3_column_int64(st, 1);
		rv.reason = sqlite3_column_int(st, 2);
		PKID_TRY(fn(&rv, arg, e));
	}
	if (r != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, r, "revocation list");
		goto out;
	}
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

/* ---- CRL numbers -------------------------------------------------------- */

static enum pkid_code
apply_crl_next(struct pkid_sq *s, struct wop *w)
{
	const char *name = w->arg;
	sqlite3_stmt *st = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	struct pkid_err *e = &w->err;
	int64_t n = 0;
	int r;

	r = sqlite3_prepare_v2(s->wdb, "SELECT crl_number FROM crl_state "
	    "WHERE ca_name = ?", -1, &st, NULL);
	if (r != SQLITE_OK)
		return pkid_sq_db_err(e, s->wdb, r, "prepare");
	pkid_sq_bind_text(st, 1, name);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	r = sqlite3_prepare_v2(s->wdb, n == 0 ?
	    "INSERT INTO crl_state (crl_number, ca_name) VALUES (?, ?)" :
	    "UPDATE crl_state SET crl_number = ? WHERE ca_name = ?", -1, &st,
	    NULL);
	if (r != SQLITE_OK) {
		rc = pkid_sq_db_err(e, s->wdb, r, "prepare");
		goto out;
	}
	sqlite3_bind_int64(st, 1, n + 1);
	pkid_sq_bind_text(st, 2, name);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "crl number", e));
	*(int64_t *)w->out = n + 1;
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_crl_number_next(struct pkid_sq *s, const char *ca_name,
    int64_t *out, struct pkid_err *e)
{
	return pkid_sq_submit(s, apply_crl_next, ca_name, out, e);
}
