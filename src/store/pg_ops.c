/*
 * pg_ops.c - the store's operations on PostgreSQL: each write one
 * transaction through pkid_pg_write (pg.c), each read one statement whose
 * whole result is fetched before the connection goes back to the pool,
 * so callbacks never hold a connection. The SQL is SQLite's (sqlite_*.c)
 * with $n parameters; where several nodes could race, the database
 * decides: a unique serial, one UPDATE ... RETURNING for a CRL number or
 * a one-time challenge.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509.h>

#include "core/clock.h"
#include "core/limits.h"
#include "store/pg_int.h"
#include "x509/load.h"

/* ---- CA generations ------------------------------------------------------ */

static enum pkid_code
w_ca_gen_add(struct pg_conn *c, const void *arg, void *out,
    struct pkid_err *e)
{
	const struct pkid_ca_gen *g = arg;
	struct pg_params p = { .n = 0 };
	PGresult *res;

	pkid_pg_ptext(&p, g->ca_name);
	pkid_pg_pint(&p, g->generation);
	pkid_pg_ptext(&p, g->role);
	pkid_pg_ptext(&p, g->state);
	pkid_pg_ptext(&p, g->subject);
	pkid_pg_pint(&p, g->not_before);
	pkid_pg_pint(&p, g->not_after);
	pkid_pg_pblob(&p, g->der, g->der_len);
	pkid_pg_ptext(&p, g->key_ref);
	pkid_pg_pint(&p, g->activate_at);
	res = pkid_pg_run(c, "INSERT INTO ca_generation (ca_name, generation, "
	    "role, state, subject, not_before, not_after, cert_der, key_ref, "
	    "activate_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10) RETURNING id",
	    &p, 1, e);
	if (res == NULL)
		return pkid_pg_fail(e);
	*(int64_t *)out = pkid_pg_int(res, 0, 0);
	PQclear(res);
	return PKID_OK;
}

enum pkid_code
pkid_pgs_ca_gen_add(struct pkid_pg *s, struct pkid_ca_gen *g,
    struct pkid_err *e)
{
	return pkid_pg_write(s, w_ca_gen_add, g, &g->id, e);
}

enum pkid_code
pkid_pgs_ca_gen_list(struct pkid_pg *s, const char *ca_name,
    pkid_ca_gen_fn fn, void *arg, struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	struct pkid_ca_gen g;
	PGresult *res;
	enum pkid_code rc = PKID_OK;
	int r;

	pkid_pg_ptext(&p, ca_name);
	if ((res = pkid_pg_read(s,
	    "SELECT id, ca_name, generation, role, state, "
	    "subject, not_before, not_after, cert_der, key_ref, activate_at "
	    "FROM ca_generation WHERE ($1::text IS NULL OR ca_name = $1) "
	    "ORDER BY id", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	for (r = 0; r < PQntuples(res) && rc == PKID_OK; r++) {
		memset(&g, 0, sizeof(g));
		g.id = pkid_pg_int(res, r, 0);
		snprintf(g.ca_name, sizeof(g.ca_name), "%s",
		    pkid_pg_text(res, r, 1));
		g.generation = (int)pkid_pg_int(res, r, 2);
		snprintf(g.role, sizeof(g.role), "%s", pkid_pg_text(res, r, 3));
		snprintf(g.state, sizeof(g.state), "%s",
		    pkid_pg_text(res, r, 4));
		snprintf(g.subject, sizeof(g.subject), "%s",
		    pkid_pg_text(res, r, 5));
		g.not_before = pkid_pg_int(res, r, 6);
		g.not_after = pkid_pg_int(res, r, 7);
		g.der = pkid_pg_blob(res, r, 8, &g.der_len);
		snprintf(g.key_ref, sizeof(g.key_ref), "%s",
		    pkid_pg_text(res, r, 9));
		g.activate_at = pkid_pg_int(res, r, 10);
		rc = fn(&g, arg, e);
	}
	PQclear(res);
	return rc;
}

/* What w_ca_gen_reschedule and w_ca_gen_activate change. */
struct gen_change {
	const char *ca_name;	/* the CA (activate) */
	const char *role;	/* its role (activate) */
	int64_t id;		/* the shadow row */
	int64_t at;		/* new activation (reschedule) */
	const char *actor;	/* for the audit log */
};

static enum pkid_code
w_ca_gen_reschedule(struct pg_conn *c, const void *arg, void *out,
    struct pkid_err *e)
{
	const struct gen_change *a = arg;
	struct pg_params p = { .n = 0 };
	char obj[32], det[64];
	enum pkid_code rc = PKID_E_INTERNAL;
	int n = 0;

	pkid_pg_pint(&p, a->at);
	pkid_pg_pint(&p, a->id);
	PKID_TRY(pkid_pg_wexec(c,
	    "UPDATE ca_generation SET activate_at = $1 WHERE "
	    "id = $2 AND state = 'shadow'", &p, &n, e));
	PKID_CHECK(n == 1, PKID_E_NOT_FOUND, "no shadow generation row %lld",
	    (long long)a->id);
	snprintf(obj, sizeof(obj), "%lld", (long long)a->id);
	snprintf(det, sizeof(det), "activate_at=%lld", (long long)a->at);
	rc = pkid_pg_audit_ins(c, a->actor, "rollover-reschedule", obj, "ok",
	    det, (int64_t)pkid_now(), e);
out:
	return rc;
}

enum pkid_code
pkid_pgs_ca_gen_reschedule(struct pkid_pg *s, int64_t id, int64_t at,
    const char *actor, struct pkid_err *e)
{
	struct gen_change a = { NULL, NULL, id, at, actor };

	return pkid_pg_write(s, w_ca_gen_reschedule, &a, NULL, e);
}

static enum pkid_code
w_ca_gen_activate(struct pg_conn *c, const void *arg, void *out,
    struct pkid_err *e)
{
	const struct gen_change *a = arg;
	struct pg_params p = { .n = 0 }, q = { .n = 0 };
	char obj[96];
	enum pkid_code rc = PKID_E_INTERNAL;
	int n = 0;

	pkid_pg_ptext(&p, a->ca_name);
	pkid_pg_ptext(&p, a->role);
	PKID_TRY(pkid_pg_wexec(c,
	    "UPDATE ca_generation SET state = 'retired' WHERE "
	    "ca_name = $1 AND role = $2 AND state = 'current'", &p, NULL, e));
	pkid_pg_pint(&q, a->id);
	pkid_pg_ptext(&q, a->ca_name);
	pkid_pg_ptext(&q, a->role);
	PKID_TRY(pkid_pg_wexec(c,
	    "UPDATE ca_generation SET state = 'current' WHERE "
	    "id = $1 AND ca_name = $2 AND role = $3 AND state = 'shadow'", &q,
	    &n, e));
	PKID_CHECK(n == 1, PKID_E_NOT_FOUND, "no shadow %s generation %lld of "
	    "CA %s", a->role, (long long)a->id, a->ca_name);
	snprintf(obj, sizeof(obj), "%s/%s/%lld", a->ca_name, a->role,
	    (long long)a->id);
	rc = pkid_pg_audit_ins(c, a->actor, "rollover-activate", obj, "ok", "",
	    (int64_t)pkid_now(), e);
out:
	return rc;
}

enum pkid_code
pkid_pgs_ca_gen_activate(struct pkid_pg *s, const char *ca_name,
    const char *role, int64_t id, const char *actor, struct pkid_err *e)
{
	struct gen_change a = { ca_name, role, id, 0, actor };

	return pkid_pg_write(s, w_ca_gen_activate, &a, NULL, e);
}

/* ---- requests (the insert, shared with certificates) --------------------- */

/* Mark one-time challenge hash used at now, inside a write; its profile
 * into profile (len bytes) when given. One UPDATE: of two nodes taking
 * it at once, the second waits for the first's row lock, then finds it
 * used (READ COMMITTED re-checks the WHERE). */
static enum pkid_code
chal_use(struct pg_conn *c, const char *hash, int64_t now, char *profile,
    size_t len, struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int n;

	pkid_pg_pint(&p, now);
	pkid_pg_ptext(&p, hash);
	if ((res = pkid_pg_run(c, "UPDATE scep_challenge SET used_at = $1 "
	    "WHERE hash = $2 AND used_at IS NULL AND expires_at > $1 "
	    "RETURNING profile", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	n = PQntuples(res);
	if (n == 1 && profile != NULL)
		snprintf(profile, len, "%s", pkid_pg_text(res, 0, 0));
	PQclear(res);
	if (n != 1)
		return PKID_ERR(e, PKID_E_CHALLENGE_BAD, "the one-time "
		    "challenge is no longer unused and unexpired: another "
		    "request used it first, or it expired");
	return PKID_OK;
}

static enum pkid_code
req_insert(struct pg_conn *c, const struct pkid_request *r, int64_t *id,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	int64_t now = (int64_t)pkid_now();
	PGresult *res;

	/* First, so a challenge another request took meanwhile refuses
	 * this one before anything is written. */
	if (r->challenge_hash != NULL)
		PG_TRY(chal_use(c, r->challenge_hash, now, NULL, 0, e));
	pkid_pg_ptext(&p, r->kind);
	pkid_pg_ptext(&p, r->transaction_id);
	pkid_pg_ptext(&p, r->state);
	pkid_pg_ptext(&p, r->profile);
	pkid_pg_ptext(&p, r->requester);
	pkid_pg_pblob(&p, r->csr_der, r->csr_len);
	pkid_pg_ptext(&p, r->csr_digest);
	pkid_pg_ptext(&p, r->cert_serial);
	pkid_pg_pint(&p, now);
	pkid_pg_ptext(&p, r->detail != NULL ? r->detail : "");
	pkid_pg_pblob(&p, r->cert_der, r->cert_len);
	if ((res = pkid_pg_run(c, "INSERT INTO request (kind, transaction_id, "
	    "state, profile, requester, csr_der, csr_digest, cert_serial, "
	    "created_at, updated_at, detail, cert_der) VALUES "
	    "($1,$2,$3,$4,$5,$6,$7,$8,$9,$9,$10,$11) RETURNING id", &p, 1,
	    e)) == NULL)
		return pkid_pg_fail(e);
	if (id != NULL)
		*id = pkid_pg_int(res, 0, 0);
	PQclear(res);
	return PKID_OK;
}

static enum pkid_code
w_request_add(struct pg_conn *c, const void *arg, void *out,
    struct pkid_err *e)
{
	return req_insert(c, arg, out, e);
}

enum pkid_code
pkid_pgs_request_add(struct pkid_pg *s, const struct pkid_request *r,
    int64_t *id, struct pkid_err *e)
{
	return pkid_pg_write(s, w_request_add, r, id, e);
}

/* ---- certificates -------------------------------------------------------- */

static enum pkid_code
cert_insert(struct pg_conn *c, const struct pkid_cert_rec *r,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };

	pkid_pg_ptext(&p, r->serial);
	pkid_pg_pint(&p, r->ca_gen);
	pkid_pg_ptext(&p, r->subject);
	pkid_pg_ptext(&p, r->sans != NULL ? r->sans : "");
	pkid_pg_ptext(&p, r->profile);
	pkid_pg_ptext(&p, r->requester);
	if (r->request_id > 0)
		pkid_pg_pint(&p, r->request_id);
	else
		pkid_pg_ptext(&p, NULL);
	pkid_pg_pint(&p, r->not_before);
	pkid_pg_pint(&p, r->not_after);
	pkid_pg_pint(&p, r->issued_at);
	pkid_pg_pblob(&p, r->der, r->der_len);
	pkid_pg_ptext(&p, r->fingerprint);
	PG_TRY(pkid_pg_wexec(c, "INSERT INTO certificate (serial, ca_gen, "
	    "subject, sans, profile, requester, request_id, not_before, "
	    "not_after, issued_at, der, fingerprint) VALUES "
	    "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)", &p, NULL, e));
	return pkid_pg_audit_ins(c, r->requester, "issue", r->serial, "ok",
	    r->subject, r->issued_at, e);
}

static enum pkid_code
w_cert_add(struct pg_conn *c, const void *arg, void *out, struct pkid_err *e)
{
	return cert_insert(c, arg, e);
}

enum pkid_code
pkid_pgs_cert_add(struct pkid_pg *s, const struct pkid_cert_rec *r,
    struct pkid_err *e)
{
	return pkid_pg_write(s, w_cert_add, r, NULL, e);
}

/* A certificate and the request it answers, for one commit. */
struct cert_req {
	const struct pkid_cert_rec *cert;	/* the certificate */
	const struct pkid_request *req;		/* its request row */
};

static enum pkid_code
w_cert_add_request(struct pg_conn *c, const void *arg, void *out,
    struct pkid_err *e)
{
	const struct cert_req *cr = arg;
	enum pkid_code rc;

	PG_TRY(cert_insert(c, cr->cert, e));
	rc = req_insert(c, cr->req, out, e);
	/* A duplicate (kind, transaction id) is not a serial collision the
	 * caller should retry: say what it is. */
	if (rc == PKID_E_STORE_CONSTRAINT) {
		pkid_err_clear(e);
		rc = PKID_ERR(e, PKID_E_REQUEST_STATE, "a %s request with "
		    "transaction id %s is already recorded", cr->req->kind,
		    cr->req->transaction_id != NULL ?
		    cr->req->transaction_id : "(none)");
	}
	return rc;
}

enum pkid_code
pkid_pgs_cert_add_request(struct pkid_pg *s, const struct pkid_cert_rec *r,
    const struct pkid_request *req, int64_t *req_id, struct pkid_err *e)
{
	struct cert_req cr = { r, req };

	if (req == NULL)
		return pkid_pgs_cert_add(s, r, e);
	return pkid_pg_write(s, w_cert_add_request, &cr, req_id, e);
}

#define CERT_COLS "c.serial, c.ca_gen, c.subject, c.sans, c.profile, " \
	"c.requester, c.request_id, c.not_before, c.not_after, c.issued_at, " \
	"c.der, c.fingerprint, r.revoked_at, r.reason"
#define CERT_FROM " FROM certificate c LEFT JOIN revocation r " \
	"ON r.serial = c.serial"

/* Every row of res to fn. */
static enum pkid_code
certs_to(PGresult *res, pkid_cert_fn fn, void *arg, struct pkid_err *e)
{
	struct pkid_cert_rec c;
	enum pkid_code rc = PKID_OK;
	int r;

	for (r = 0; r < PQntuples(res) && rc == PKID_OK; r++) {
		memset(&c, 0, sizeof(c));
		c.serial = pkid_pg_text(res, r, 0);
		c.ca_gen = pkid_pg_int(res, r, 1);
		c.subject = pkid_pg_text(res, r, 2);
		c.sans = pkid_pg_text(res, r, 3);
		c.profile = pkid_pg_text(res, r, 4);
		c.requester = pkid_pg_text(res, r, 5);
		c.request_id = pkid_pg_int(res, r, 6);
		c.not_before = pkid_pg_int(res, r, 7);
		c.not_after = pkid_pg_int(res, r, 8);
		c.issued_at = pkid_pg_int(res, r, 9);
		c.der = pkid_pg_blob(res, r, 10, &c.der_len);
		c.fingerprint = pkid_pg_text(res, r, 11);
		c.revoked = !PQgetisnull(res, r, 12);
		c.revoked_at = pkid_pg_int(res, r, 12);
		c.reason = (int)pkid_pg_int(res, r, 13);
		rc = fn(&c, arg, e);
	}
	return rc;
}

enum pkid_code
pkid_pgs_cert_get(struct pkid_pg *s, const char *serial, pkid_cert_fn fn,
    void *arg, struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	enum pkid_code rc;

	pkid_pg_ptext(&p, serial);
	if ((res = pkid_pg_read(s, "SELECT " CERT_COLS CERT_FROM
	    " WHERE c.serial "
	    "= $1", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	if (PQntuples(res) == 0)
		rc = PKID_ERR(e, PKID_E_NOT_FOUND, "no certificate with serial "
		    "%s", serial);
	else
		rc = certs_to(res, fn, arg, e);
	PQclear(res);
	return rc;
}

enum pkid_code
pkid_pgs_cert_list(struct pkid_pg *s, pkid_cert_fn fn, void *arg,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	enum pkid_code rc;

	if ((res = pkid_pg_read(s, "SELECT " CERT_COLS CERT_FROM " ORDER BY "
	    "c.issued_at, c.serial", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	rc = certs_to(res, fn, arg, e);
	PQclear(res);
	return rc;
}

/* PATTERN to an ILIKE operand: '*' is any run, the rest literal; without
 * a '*' the pattern may match anywhere (as sqlite_ops.c). */
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
pkid_pgs_cert_find(struct pkid_pg *s, const struct pkid_cert_filter *f,
    pkid_cert_fn fn, void *arg, struct pkid_err *e)
{
	char sql[1024], like[2 * PKID_CERT_PATTERN_MAX + 3];
	struct pg_params p = { .n = 0 };
	PGresult *res;
	enum pkid_code rc;

	if (f->subject != NULL && strlen(f->subject) > PKID_CERT_PATTERN_MAX)
		return PKID_ERR(e, PKID_E_USAGE, "the subject pattern is "
		    "longer than %d characters", PKID_CERT_PATTERN_MAX);
	/* Fixed fragments only; every value is a parameter, numbered in the
	 * order they are added below. */
	snprintf(sql, sizeof(sql), "SELECT " CERT_COLS CERT_FROM " WHERE "
	    "true%s%s%s ORDER BY %s LIMIT $%d",
	    f->expires_to > 0 ? " AND c.not_after >= $1 AND c.not_after < $2 "
	    "AND r.serial IS NULL" : "",
	    f->revoked ? " AND r.serial IS NOT NULL" : "",
	    f->subject != NULL ? (f->expires_to > 0 ?
	    " AND (c.subject ILIKE $3 OR c.sans ILIKE $3)" :
	    " AND (c.subject ILIKE $1 OR c.sans ILIKE $1)") : "",
	    f->expires_to > 0 ? "c.not_after, c.serial" :
	    "c.issued_at, c.serial",
	    1 + (f->expires_to > 0 ? 2 : 0) + (f->subject != NULL));
	if (f->expires_to > 0) {
		pkid_pg_pint(&p, f->expires_from);
		pkid_pg_pint(&p, f->expires_to);
	}
	if (f->subject != NULL) {
		like_operand(f->subject, like, sizeof(like));
		pkid_pg_ptext(&p, like);
	}
	if (f->limit > 0)
		pkid_pg_pint(&p, f->limit);
	else
		pkid_pg_ptext(&p, NULL);
	if ((res = pkid_pg_read(s, sql, &p, 0, e)) == NULL)
		return pkid_pg_fail(e);
	rc = certs_to(res, fn, arg, e);
	PQclear(res);
	return rc;
}

/* One integer: the first column of the first row of sql. */
static enum pkid_code
scalar(struct pkid_pg *s, const char *sql, const char *p1, const char *p2,
    int64_t *n, struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;

	*n = 0;
	if (p1 != NULL)
		pkid_pg_ptext(&p, p1);
	if (p2 != NULL)
		pkid_pg_ptext(&p, p2);
	if ((res = pkid_pg_read(s, sql, &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	if (PQntuples(res) > 0)
		*n = pkid_pg_int(res, 0, 0);
	PQclear(res);
	return PKID_OK;
}

enum pkid_code
pkid_pgs_cert_count(struct pkid_pg *s, int64_t *n, struct pkid_err *e)
{
	return scalar(s, "SELECT COUNT(*) FROM certificate", NULL, NULL, n, e);
}

enum pkid_code
pkid_pgs_audit_count(struct pkid_pg *s, const char *action,
    const char *result, int64_t *n, struct pkid_err *e)
{
	return scalar(s, "SELECT COUNT(*) FROM audit WHERE action = $1 AND "
	    "result = $2", action, result, n, e);
}

enum pkid_code
pkid_pgs_revoked_count(struct pkid_pg *s, int64_t ca_gen, int64_t *n,
    struct pkid_err *e)
{
	char gen[32];

	snprintf(gen, sizeof(gen), "%lld", (long long)ca_gen);
	return scalar(s, "SELECT COUNT(*) FROM revocation r JOIN certificate "
	    "c ON c.serial = r.serial WHERE c.ca_gen = $1::bigint", gen, NULL,
	    n, e);
}

enum pkid_code
pkid_pgs_revoked_mark(struct pkid_pg *s, int64_t *mark, struct pkid_err *e)
{
	/* Revocation ids come from a sequence: never reused, lifted or
	 * not (see sqlite_ops.c for the formula). */
	return scalar(s, "SELECT GREATEST((SELECT COALESCE(MAX(id), 0) FROM "
	    "revocation), (SELECT COALESCE(MAX(rev_rowid), 0) FROM "
	    "revocation_lifted)) + (SELECT COALESCE(MAX(id), 0) FROM "
	    "revocation_lifted)", NULL, NULL, mark, e);
}

enum pkid_code
pkid_pgs_totals(struct pkid_pg *s, int64_t *certs, int64_t *revoked,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;

	*certs = *revoked = 0;
	if ((res = pkid_pg_read(s, "SELECT (SELECT COALESCE(MAX(id), 0) FROM "
	    "certificate), (SELECT COALESCE(MAX(id), 0) FROM revocation)", &p,
	    1, e)) == NULL)
		return pkid_pg_fail(e);
	*certs = pkid_pg_int(res, 0, 0);
	*revoked = pkid_pg_int(res, 0, 1);
	PQclear(res);
	return PKID_OK;
}

/* ---- revocation ---------------------------------------------------------- */

enum pkid_code
pkid_pgs_key_compromised(struct pkid_pg *s, const char *spki_sha256,
    char *serial, size_t len, struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	enum pkid_code rc = PKID_OK;

	pkid_pg_ptext(&p, spki_sha256);
	if ((res = pkid_pg_read(s, "SELECT serial FROM compromised_key WHERE "
	    "spki_sha256 = $1", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	if (PQntuples(res) == 0)
		rc = PKID_ERR(e, PKID_E_NOT_FOUND, "no certificate with this "
		    "key was revoked for keyCompromise");
	else
		snprintf(serial, len, "%s", pkid_pg_text(res, 0, 0));
	PQclear(res);
	return rc;
}

struct revoke_arg {
	const char *serial;	/* hex */
	int reason;		/* CRL reason */
	int64_t when;		/* epoch seconds */
	const char *actor;	/* for the audit log */
};

/* The certificate row locked (FOR UPDATE: one revocation at a time per
 * certificate across nodes), its DER into *res. */
static enum pkid_code
cert_lock(struct pg_conn *c, const char *serial, PGresult **res,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };

	pkid_pg_ptext(&p, serial);
	if ((*res = pkid_pg_run(c, "SELECT c.der, r.id, r.reason FROM "
	    "certificate c LEFT JOIN revocation r ON r.serial = c.serial "
	    "WHERE c.serial = $1 FOR UPDATE OF c", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	if (PQntuples(*res) == 0) {
		PQclear(*res);
		*res = NULL;
		return PKID_ERR(e, PKID_E_NOT_FOUND, "no certificate with "
		    "serial %s", serial);
	}
	return PKID_OK;
}

static enum pkid_code
w_revoke(struct pg_conn *c, const void *arg, void *out, struct pkid_err *e)
{
	const struct revoke_arg *a = arg;
	struct pg_params p = { .n = 0 }, q = { .n = 0 };
	const unsigned char *der;
	PGresult *res = NULL;
	X509 *x = NULL;
	char hex[65];
	size_t len;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(cert_lock(c, a->serial, &res, e));
	PKID_CHECK(PQgetisnull(res, 0, 1), PKID_E_REVOKED_ALREADY, "serial %s "
	    "is already revoked", a->serial);
	pkid_pg_ptext(&p, a->serial);
	pkid_pg_pint(&p, a->when);
	pkid_pg_pint(&p, a->reason);
	PKID_TRY(pkid_pg_wexec(c,
	    "INSERT INTO revocation (serial, revoked_at, reason) "
	    "VALUES ($1,$2,$3)", &p, NULL, e));
	/* keyCompromise: the key is refused from now on, once per key. */
	der = pkid_pg_blob(res, 0, 0, &len);
	if (a->reason == 1 && der != NULL &&
	    (x = d2i_X509(NULL, &der, (long)len)) != NULL &&
	    pkid_x509_spki_sha256_hex(X509_get_X509_PUBKEY(x), hex) == 0) {
		pkid_pg_ptext(&q, hex);
		pkid_pg_ptext(&q, a->serial);
		pkid_pg_pint(&q, a->when);
		PKID_TRY(pkid_pg_wexec(c,
		    "INSERT INTO compromised_key (spki_sha256, "
		    "serial, revoked_at) VALUES ($1,$2,$3) ON CONFLICT DO "
		    "NOTHING", &q, NULL, e));
	}
	rc = pkid_pg_audit_ins(c, a->actor, "revoke", a->serial, "ok",
	    a->reason == 1 ? "keyCompromise: its key is refused from now on" :
	    "", a->when, e);
out:
	X509_free(x);
	PQclear(res);
	return rc;
}

enum pkid_code
pkid_pgs_revoke(struct pkid_pg *s, const char *serial, int reason,
    int64_t when, const char *actor, struct pkid_err *e)
{
	struct revoke_arg a = { serial, reason, when, actor };

	return pkid_pg_write(s, w_revoke, &a, NULL, e);
}

static enum pkid_code
w_unrevoke(struct pg_conn *c, const void *arg, void *out, struct pkid_err *e)
{
	const struct revoke_arg *a = arg;
	struct pg_params p = { .n = 0 }, q = { .n = 0 };
	PGresult *res = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	int reason;

	PKID_TRY(cert_lock(c, a->serial, &res, e));
	PKID_CHECK(!PQgetisnull(res, 0, 1), PKID_E_NOT_REVOKED, "serial %s is "
	    "not revoked", a->serial);
	reason = (int)pkid_pg_int(res, 0, 2);
	PKID_CHECK(reason == 6, PKID_E_REVOCATION_FINAL, "serial %s was "
	    "revoked with reason %d, not certificateHold (6): it stays "
	    "revoked", a->serial, reason);
	pkid_pg_pint(&p, a->when);
	pkid_pg_ptext(&p, a->actor);
	pkid_pg_ptext(&p, a->serial);
	PKID_TRY(pkid_pg_wexec(c,
	    "INSERT INTO revocation_lifted (serial, rev_rowid, "
	    "revoked_at, reason, lifted_at, actor) SELECT serial, id, "
	    "revoked_at, reason, $1, $2 FROM revocation WHERE serial = $3", &p,
	    NULL, e));
	pkid_pg_ptext(&q, a->serial);
	PKID_TRY(pkid_pg_wexec(c, "DELETE FROM revocation WHERE serial = $1",
	    &q, NULL,
	    e));
	rc = pkid_pg_audit_ins(c, a->actor, "unrevoke", a->serial, "ok",
	    "certificateHold lifted", a->when, e);
out:
	PQclear(res);
	return rc;
}

enum pkid_code
pkid_pgs_unrevoke(struct pkid_pg *s, const char *serial, int64_t when,
    const char *actor, struct pkid_err *e)
{
	struct revoke_arg a = { serial, 6, when, actor };

	return pkid_pg_write(s, w_unrevoke, &a, NULL, e);
}

enum pkid_code
pkid_pgs_revoked_list(struct pkid_pg *s, int64_t ca_gen, pkid_revoked_fn fn,
    void *arg, struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	struct pkid_revoked rv;
	PGresult *res;
	enum pkid_code rc = PKID_OK;
	int r;

	pkid_pg_pint(&p, ca_gen);
	pkid_pg_pint(&p, (int64_t)pkid_now());
	if ((res = pkid_pg_read(s,
	    "SELECT r.serial, r.revoked_at, r.reason FROM "
	    "revocation r JOIN certificate c ON c.serial = r.serial WHERE "
	    "c.ca_gen = $1 AND c.not_after >= $2 ORDER BY r.revoked_at, "
	    "r.serial", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	for (r = 0; r < PQntuples(res) && rc == PKID_OK; r++) {
		rv.serial = pkid_pg_text(res, r, 0);
		rv.revoked_at = pkid_pg_int(res, r, 1);
		rv.reason = (int)pkid_pg_int(res, r, 2);
		rc = fn(&rv, arg, e);
	}
	PQclear(res);
	return rc;
}

/* ---- CRL numbers --------------------------------------------------------- */

static enum pkid_code
w_crl_next(struct pg_conn *c, const void *arg, void *out, struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;

	/* One statement takes the row lock: numbers from several nodes
	 * never repeat and grow in commit order. */
	pkid_pg_ptext(&p, arg);
	if ((res = pkid_pg_run(c, "INSERT INTO crl_state (ca_name, crl_number) "
	    "VALUES ($1, 1) ON CONFLICT (ca_name) DO UPDATE SET crl_number = "
	    "crl_state.crl_number + 1 RETURNING crl_number", &p, 1, e)) ==
	    NULL)
		return pkid_pg_fail(e);
	*(int64_t *)out = pkid_pg_int(res, 0, 0);
	PQclear(res);
	return PKID_OK;
}

enum pkid_code
pkid_pgs_crl_number_next(struct pkid_pg *s, const char *ca_name,
    int64_t *out, struct pkid_err *e)
{
	return pkid_pg_write(s, w_crl_next, ca_name, out, e);
}

/* ---- audit --------------------------------------------------------------- */

struct audit_arg {
	const char *actor, *action, *object, *result, *detail;
	int64_t at;
};

static enum pkid_code
w_audit(struct pg_conn *c, const void *arg, void *out, struct pkid_err *e)
{
	const struct audit_arg *a = arg;

	return pkid_pg_audit_ins(c, a->actor, a->action, a->object, a->result,
	    a->detail, a->at, e);
}

enum pkid_code
pkid_pgs_audit(struct pkid_pg *s, const char *actor, const char *action,
    const char *object, const char *result, const char *detail,
    struct pkid_err *e)
{
	struct audit_arg a = { actor, action, object, result, detail,
	    (int64_t)pkid_now() };

	return pkid_pg_write(s, w_audit, &a, NULL, e);
}

enum pkid_code
pkid_pgs_audit_page(struct pkid_pg *s, int64_t since, int64_t before,
    int limit, pkid_audit_fn fn, void *arg, int64_t *older,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 }, q = { .n = 0 };
	struct pkid_audit_rec a;
	PGresult *res;
	int64_t first = 0;
	enum pkid_code rc = PKID_OK;
	int r, past = 0;

	*older = 0;
	if (limit < 1)
		return PKID_ERR(e, PKID_E_INTERNAL, "audit page of %d", limit);
	if (before <= 0)
		before = INT64_MAX;
	/* Is there a row past the page that since still admits? */
	pkid_pg_pint(&p, before);
	pkid_pg_pint(&p, limit);
	if ((res = pkid_pg_read(s,
	    "SELECT at FROM audit WHERE id < $1 ORDER BY id "
	    "DESC LIMIT 1 OFFSET $2", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	if (PQntuples(res) > 0)
		past = pkid_pg_int(res, 0, 0) >= since;
	PQclear(res);
	pkid_pg_pint(&q, before);
	pkid_pg_pint(&q, limit);
	pkid_pg_pint(&q, since);
	if ((res = pkid_pg_read(s,
	    "SELECT id, at, actor, action, object, result, "
	    "detail FROM (SELECT id, at, actor, action, object, result, "
	    "detail FROM audit WHERE id < $1 ORDER BY id DESC LIMIT $2) AS w "
	    "WHERE at >= $3 ORDER BY id", &q, 1, e)) == NULL)
		return pkid_pg_fail(e);
	for (r = 0; r < PQntuples(res) && rc == PKID_OK; r++) {
		a.id = pkid_pg_int(res, r, 0);
		a.at = pkid_pg_int(res, r, 1);
		a.actor = pkid_pg_text(res, r, 2);
		a.action = pkid_pg_text(res, r, 3);
		a.object = pkid_pg_text(res, r, 4);
		a.result = pkid_pg_text(res, r, 5);
		a.detail = pkid_pg_text(res, r, 6);
		if (first == 0)
			first = a.id;
		rc = fn(&a, arg, e);
	}
	PQclear(res);
	if (rc == PKID_OK && past && first > 0)
		*older = first;
	return rc;
}
