/*
 * pg_req.c - enrollment requests, EST users, SCEP one-time challenges and
 * the status page's bounded reads in the PostgreSQL store (the SQLite
 * side is sqlite_req.c, sqlite_chal.c, sqlite_admin.c, sqlite_status.c).
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/limits.h"
#include "store/pg_int.h"

/* ---- requests ------------------------------------------------------------ */

#define REQ_COLS "id, kind, transaction_id, state, profile, requester, " \
	"csr_der, csr_digest, cert_serial, created_at, updated_at, detail, " \
	"cert_der"

/* Every row of res (REQ_COLS) to fn. */
static enum pkid_code
reqs_to(PGresult *res, pkid_request_fn fn, void *arg, struct pkid_err *e)
{
	struct pkid_request q;
	enum pkid_code rc = PKID_OK;
	int r;

	for (r = 0; r < PQntuples(res) && rc == PKID_OK; r++) {
		memset(&q, 0, sizeof(q));
		q.id = pkid_pg_int(res, r, 0);
		q.kind = pkid_pg_str(res, r, 1);
		q.transaction_id = pkid_pg_str(res, r, 2);
		q.state = pkid_pg_str(res, r, 3);
		q.profile = pkid_pg_str(res, r, 4);
		q.requester = pkid_pg_str(res, r, 5);
		q.csr_der = pkid_pg_blob(res, r, 6, &q.csr_len);
		q.csr_digest = pkid_pg_str(res, r, 7);
		q.cert_serial = pkid_pg_str(res, r, 8);
		q.created_at = pkid_pg_int(res, r, 9);
		q.updated_at = pkid_pg_int(res, r, 10);
		q.detail = pkid_pg_str(res, r, 11);
		q.cert_der = pkid_pg_blob(res, r, 12, &q.cert_len);
		rc = fn(&q, arg, e);
	}
	return rc;
}

enum pkid_code
pkid_pgs_request_find(struct pkid_pg *s, const char *kind,
    const char *transaction_id, pkid_request_fn fn, void *arg,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	enum pkid_code rc;

	pkid_pg_ptext(&p, kind);
	pkid_pg_ptext(&p, transaction_id);
	if ((res = pkid_pg_read(s, "SELECT " REQ_COLS " FROM request WHERE "
	    "kind = $1 AND transaction_id = $2 ORDER BY id", &p, 1, e)) ==
	    NULL)
		return pkid_pg_fail(e);
	if (PQntuples(res) == 0)
		rc = PKID_ERR(e, PKID_E_NOT_FOUND, "no %s request with "
		    "transaction id %s", kind, transaction_id);
	else
		rc = reqs_to(res, fn, arg, e);
	PQclear(res);
	return rc;
}

enum pkid_code
pkid_pgs_request_get(struct pkid_pg *s, int64_t id, pkid_request_fn fn,
    void *arg, struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	enum pkid_code rc;

	if (id <= 0)
		return PKID_ERR(e, PKID_E_NOT_FOUND, "no request %lld",
		    (long long)id);
	pkid_pg_pint(&p, id);
	if ((res = pkid_pg_read(s, "SELECT " REQ_COLS " FROM request WHERE "
	    "id = $1", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	if (PQntuples(res) == 0)
		rc = PKID_ERR(e, PKID_E_NOT_FOUND, "no request %lld",
		    (long long)id);
	else
		rc = reqs_to(res, fn, arg, e);
	PQclear(res);
	return rc;
}

enum pkid_code
pkid_pgs_request_list(struct pkid_pg *s, const char *state,
    pkid_request_fn fn, void *arg, struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	enum pkid_code rc;

	pkid_pg_ptext(&p, state);
	if ((res = pkid_pg_read(s, "SELECT " REQ_COLS " FROM request WHERE "
	    "($1::text IS NULL OR state = $1) ORDER BY id", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	rc = reqs_to(res, fn, arg, e);
	PQclear(res);
	return rc;
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
w_request_set(struct pg_conn *c, const void *arg, void *out,
    struct pkid_err *e)
{
	const struct request_set *a = arg;
	struct pg_params p = { .n = 0 };
	char obj[32];
	int n = 0;

	pkid_pg_ptext(&p, a->state);
	pkid_pg_ptext(&p, a->serial);
	pkid_pg_pint(&p, (int64_t)pkid_now());
	pkid_pg_ptext(&p, a->detail);
	pkid_pg_pblob(&p, a->der, a->len);
	pkid_pg_pint(&p, a->id);
	PG_TRY(pkid_pg_wexec(c, "UPDATE request SET state = $1, cert_serial = "
	    "COALESCE($2, cert_serial), updated_at = $3, detail = "
	    "COALESCE($4, detail), cert_der = COALESCE($5, cert_der) WHERE "
	    "id = $6", &p, &n, e));
	if (n != 1)
		return PKID_ERR(e, PKID_E_NOT_FOUND, "no request %lld",
		    (long long)a->id);
	snprintf(obj, sizeof(obj), "request:%lld", (long long)a->id);
	return pkid_pg_audit_ins(c, a->actor, a->state, obj, "ok", a->detail,
	    (int64_t)pkid_now(), e);
}

enum pkid_code
pkid_pgs_request_set(struct pkid_pg *s, int64_t id, const char *state,
    const char *cert_serial, const char *detail, const char *actor,
    struct pkid_err *e)
{
	struct request_set a = { id, state, cert_serial, detail, actor, NULL,
	    0 };

	return pkid_pg_write(s, w_request_set, &a, NULL, e);
}

enum pkid_code
pkid_pgs_request_set_cert(struct pkid_pg *s, int64_t id,
    const char *cert_serial, const uint8_t *der, size_t len,
    const char *actor, struct pkid_err *e)
{
	struct request_set a = { id, "issued", cert_serial, "issued by the "
	    "upstream CA", actor, der, len };

	if (der == NULL || len == 0 || len > PKID_MAX_CERT_SIZE)
		return PKID_ERR(e, PKID_E_USAGE, "no upstream certificate or "
		    "one of %zu bytes", len);
	return pkid_pg_write(s, w_request_set, &a, NULL, e);
}

struct request_retire {
	int64_t id;			/* the failed request */
	const char *actor;		/* for the audit log */
};

static enum pkid_code
w_request_retire(struct pg_conn *c, const void *arg, void *out,
    struct pkid_err *e)
{
	const struct request_retire *a = arg;
	struct pg_params p = { .n = 0 };
	char obj[32];
	int n = 0;

	pkid_pg_pint(&p, (int64_t)pkid_now());
	pkid_pg_pint(&p, a->id);
	PG_TRY(pkid_pg_wexec(c, "UPDATE request SET transaction_id = "
	    "transaction_id || '#' || id, updated_at = $1 WHERE id = $2 AND "
	    "state = 'failed'", &p, &n, e));
	if (n != 1)
		return PKID_ERR(e, PKID_E_REQUEST_STATE, "request %lld is not "
		    "a failed request", (long long)a->id);
	snprintf(obj, sizeof(obj), "request:%lld", (long long)a->id);
	return pkid_pg_audit_ins(c, a->actor, "retire", obj, "ok", "failed; "
	    "its transaction id is free for a new request",
	    (int64_t)pkid_now(), e);
}

enum pkid_code
pkid_pgs_request_retire(struct pkid_pg *s, int64_t id, const char *actor,
    struct pkid_err *e)
{
	struct request_retire a = { id, actor };

	return pkid_pg_write(s, w_request_retire, &a, NULL, e);
}

/* ---- EST users ----------------------------------------------------------- */

/* A user change: put (hash, create or replace), passwd (hash, existing
 * only) or delete (no hash). */
struct user_change {
	const char *name;	/* user */
	const char *hash;	/* password hash, NULL: delete */
	const char *actor;	/* for the audit log */
	int create;		/* put: create when absent */
};

static enum pkid_code
w_user_change(struct pg_conn *c, const void *arg, void *out,
    struct pkid_err *e)
{
	const struct user_change *u = arg;
	struct pg_params p = { .n = 0 };
	int n = 0;

	if (u->create) {
		pkid_pg_ptext(&p, u->name);
		pkid_pg_ptext(&p, u->hash);
		pkid_pg_pint(&p, (int64_t)pkid_now());
		PG_TRY(pkid_pg_wexec(c, "INSERT INTO app_user (name, "
		    "password_hash, created_at) VALUES ($1,$2,$3) ON CONFLICT "
		    "(name) DO UPDATE SET password_hash = EXCLUDED."
		    "password_hash, created_at = EXCLUDED.created_at", &p, NULL,
		    e));
		return pkid_pg_audit_ins(c, "cli", "user-set", u->name, "ok",
		    "", (int64_t)pkid_now(), e);
	}
	if (u->hash != NULL) {
		pkid_pg_ptext(&p, u->hash);
		pkid_pg_ptext(&p, u->name);
		PG_TRY(pkid_pg_wexec(c, "UPDATE app_user SET password_hash = "
		    "$1 WHERE name = $2", &p, &n, e));
	} else {
		pkid_pg_ptext(&p, u->name);
		PG_TRY(pkid_pg_wexec(c, "DELETE FROM app_user WHERE name = $1",
		    &p, &n, e));
	}
	if (n != 1)
		return PKID_ERR(e, PKID_E_NOT_FOUND, "no EST user '%s' "
		    "('pkictl est user list' shows them; 'pkictl est user add' "
		    "makes one)", u->name);
	return pkid_pg_audit_ins(c, u->actor, u->hash != NULL ? "user-passwd" :
	    "user-del", u->name, "ok", "", (int64_t)pkid_now(), e);
}

enum pkid_code
pkid_pgs_user_put(struct pkid_pg *s, const char *name, const char *hash,
    struct pkid_err *e)
{
	struct user_change u = { name, hash, "cli", 1 };

	return pkid_pg_write(s, w_user_change, &u, NULL, e);
}

enum pkid_code
pkid_pgs_user_passwd(struct pkid_pg *s, const char *name, const char *hash,
    const char *actor, struct pkid_err *e)
{
	struct user_change u = { name, hash, actor, 0 };

	if (hash == NULL)
		return PKID_ERR(e, PKID_E_INTERNAL, "no password hash");
	return pkid_pg_write(s, w_user_change, &u, NULL, e);
}

enum pkid_code
pkid_pgs_user_del(struct pkid_pg *s, const char *name, const char *actor,
    struct pkid_err *e)
{
	struct user_change u = { name, NULL, actor, 0 };

	return pkid_pg_write(s, w_user_change, &u, NULL, e);
}

enum pkid_code
pkid_pgs_user_get(struct pkid_pg *s, const char *name, char *out, size_t len,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	enum pkid_code rc = PKID_OK;

	pkid_pg_ptext(&p, name);
	if ((res = pkid_pg_read(s, "SELECT password_hash FROM app_user WHERE "
	    "name = $1", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	if (PQntuples(res) == 0)
		rc = PKID_ERR(e, PKID_E_NOT_FOUND, "no user '%s'", name);
	else
		snprintf(out, len, "%s", pkid_pg_text(res, 0, 0));
	PQclear(res);
	return rc;
}

enum pkid_code
pkid_pgs_user_list(struct pkid_pg *s, pkid_user_fn fn, void *arg,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	struct pkid_user_rec u;
	PGresult *res;
	enum pkid_code rc = PKID_OK;
	int r;

	/* The hash column is never selected. */
	if ((res = pkid_pg_read(s, "SELECT name, created_at FROM app_user "
	    "ORDER BY name", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	for (r = 0; r < PQntuples(res) && rc == PKID_OK; r++) {
		u.name = pkid_pg_text(res, r, 0);
		u.created_at = pkid_pg_int(res, r, 1);
		rc = fn(&u, arg, e);
	}
	PQclear(res);
	return rc;
}

/* ---- SCEP one-time challenges -------------------------------------------- */

struct chal_add {
	const char *hash;	/* hex SHA-256 of the challenge */
	const char *profile;	/* profile it enrolls under */
	int64_t expires_at;	/* epoch seconds */
};

static enum pkid_code
w_chal_add(struct pg_conn *c, const void *arg, void *out, struct pkid_err *e)
{
	const struct chal_add *a = arg;
	struct pg_params p = { .n = 0 };
	int64_t now = (int64_t)pkid_now();
	char id[PKID_CHALLENGE_ID_LEN + 1];

	pkid_pg_ptext(&p, a->hash);
	pkid_pg_ptext(&p, a->profile);
	pkid_pg_pint(&p, now);
	pkid_pg_pint(&p, a->expires_at);
	PG_TRY(pkid_pg_wexec(c, "INSERT INTO scep_challenge (hash, profile, "
	    "created_at, expires_at) VALUES ($1,$2,$3,$4)", &p, NULL, e));
	snprintf(id, sizeof(id), "%.*s", PKID_CHALLENGE_ID_LEN, a->hash);
	return pkid_pg_audit_ins(c, "cli", "scep-challenge-new", a->profile,
	    "ok", id, now, e);
}

enum pkid_code
pkid_pgs_challenge_add(struct pkid_pg *s, const char *hash,
    const char *profile, int64_t expires_at, struct pkid_err *e)
{
	struct chal_add a = { hash, profile, expires_at };

	return pkid_pg_write(s, w_chal_add, &a, NULL, e);
}

enum pkid_code
pkid_pgs_challenge_peek(struct pkid_pg *s, const char *hash, int64_t now,
    char *profile, size_t len, struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	PGresult *res;
	enum pkid_code rc = PKID_OK;

	if (len > 0)
		profile[0] = '\0';
	pkid_pg_ptext(&p, hash);
	pkid_pg_pint(&p, now);
	if ((res = pkid_pg_read(s, "SELECT profile FROM scep_challenge WHERE "
	    "hash = $1 AND used_at IS NULL AND expires_at > $2", &p, 1, e)) ==
	    NULL)
		return pkid_pg_fail(e);
	if (PQntuples(res) == 0)
		rc = PKID_ERR(e, PKID_E_CHALLENGE_BAD, "no unused, unexpired "
		    "one-time challenge matches");
	else
		snprintf(profile, len, "%s", pkid_pg_text(res, 0, 0));
	PQclear(res);
	return rc;
}

struct chal_take {
	const char *hash;	/* hex SHA-256 of the challenge offered */
	int64_t now;		/* epoch seconds */
	char *profile;		/* receives its profile */
	size_t len;		/* size of profile */
};

static enum pkid_code
w_chal_take(struct pg_conn *c, const void *arg, void *out,
    struct pkid_err *e)
{
	const struct chal_take *t = arg;
	struct pg_params p = { .n = 0 };
	PGresult *res;
	int n;

	/* One UPDATE ... RETURNING: atomic across nodes. */
	pkid_pg_pint(&p, t->now);
	pkid_pg_ptext(&p, t->hash);
	if ((res = pkid_pg_run(c, "UPDATE scep_challenge SET used_at = $1 "
	    "WHERE hash = $2 AND used_at IS NULL AND expires_at > $1 "
	    "RETURNING profile", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	n = PQntuples(res);
	if (n == 1)
		snprintf(t->profile, t->len, "%s", pkid_pg_text(res, 0, 0));
	PQclear(res);
	if (n != 1)
		return PKID_ERR(e, PKID_E_CHALLENGE_BAD, "the one-time "
		    "challenge is no longer unused and unexpired: another "
		    "request used it first, or it expired");
	return PKID_OK;
}

enum pkid_code
pkid_pgs_challenge_take(struct pkid_pg *s, const char *hash, int64_t now,
    char *profile, size_t len, struct pkid_err *e)
{
	struct chal_take t = { hash, now, profile, len };

	if (len > 0)
		profile[0] = '\0';
	return pkid_pg_write(s, w_chal_take, &t, NULL, e);
}

enum pkid_code
pkid_pgs_challenge_list(struct pkid_pg *s, pkid_challenge_fn fn, void *arg,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 };
	struct pkid_challenge_rec c;
	PGresult *res;
	enum pkid_code rc = PKID_OK;
	int r;

	if ((res = pkid_pg_read(s, "SELECT hash, profile, created_at, "
	    "expires_at, used_at FROM scep_challenge ORDER BY created_at, hash",
	    &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	for (r = 0; r < PQntuples(res) && rc == PKID_OK; r++) {
		memset(&c, 0, sizeof(c));
		/* Only the prefix leaves the store. */
		snprintf(c.id, sizeof(c.id), "%.*s", PKID_CHALLENGE_ID_LEN,
		    pkid_pg_text(res, r, 0));
		c.profile = pkid_pg_text(res, r, 1);
		c.created_at = pkid_pg_int(res, r, 2);
		c.expires_at = pkid_pg_int(res, r, 3);
		c.used_at = pkid_pg_int(res, r, 4);
		rc = fn(&c, arg, e);
	}
	PQclear(res);
	return rc;
}

struct chal_revoke {
	const char *id;		/* hash prefix, lower-case hex */
	const char *actor;	/* for the audit log */
	struct pkid_challenge_rec *out;	/* what was revoked */
	char profile[64];	/* its profile (out->profile points here) */
};

static enum pkid_code
w_chal_revoke(struct pg_conn *c, const void *arg, void *out,
    struct pkid_err *e)
{
	struct chal_revoke *a = out;
	struct pg_params p = { .n = 0 }, q = { .n = 0 };
	PGresult *res = NULL;
	char hash[65], lo[65], hi[66], t[32], det[96];
	int64_t used_at = 0;
	enum pkid_code rc = PKID_E_INTERNAL;
	int n = 0;

	/* The prefix as a key range in byte order ("C"): [id, id + "g"). */
	snprintf(lo, sizeof(lo), "%s", a->id);
	snprintf(hi, sizeof(hi), "%sg", a->id);
	pkid_pg_ptext(&p, lo);
	pkid_pg_ptext(&p, hi);
	if ((res = pkid_pg_run(c, "SELECT hash, profile, created_at, "
	    "expires_at, used_at FROM scep_challenge WHERE hash COLLATE \"C\" "
	    ">= $1 AND hash COLLATE \"C\" < $2 ORDER BY hash LIMIT 2 FOR "
	    "UPDATE", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	n = PQntuples(res);
	PKID_CHECK(n > 0, PKID_E_NOT_FOUND, "no SCEP challenge with id %s "
	    "('pkictl scep challenge list' shows the ids)", a->id);
	PKID_CHECK(n == 1, PKID_E_USAGE, "more than one SCEP challenge has "
	    "an id beginning with %s: give more of it", a->id);
	snprintf(hash, sizeof(hash), "%s", pkid_pg_text(res, 0, 0));
	snprintf(a->profile, sizeof(a->profile), "%s",
	    pkid_pg_text(res, 0, 1));
	snprintf(a->out->id, sizeof(a->out->id), "%.*s",
	    PKID_CHALLENGE_ID_LEN, hash);
	a->out->profile = a->profile;
	a->out->created_at = pkid_pg_int(res, 0, 2);
	a->out->expires_at = pkid_pg_int(res, 0, 3);
	used_at = pkid_pg_int(res, 0, 4);
	a->out->used_at = used_at;
	PKID_CHECK(used_at == 0, PKID_E_REQUEST_STATE, "SCEP challenge %s "
	    "was used at %s: the request it came with is in the store "
	    "('pkictl ca pending' if it waits for approval, else 'pkictl ca "
	    "revoke' its certificate)", a->out->id,
	    pkid_time_fmt((time_t)used_at, t, sizeof(t)));
	pkid_pg_ptext(&q, hash);
	PKID_TRY(pkid_pg_wexec(c, "DELETE FROM scep_challenge WHERE hash = $1 "
	    "AND used_at IS NULL", &q, &n, e));
	PKID_CHECK(n == 1, PKID_E_STORE_IO, "challenge row %s vanished",
	    a->out->id);
	snprintf(det, sizeof(det), "unused, profile %s", a->profile);
	rc = pkid_pg_audit_ins(c, a->actor, "scep-challenge-revoke",
	    a->out->id, "ok", det, (int64_t)pkid_now(), e);
out:
	PQclear(res);
	return rc;
}

enum pkid_code
pkid_pgs_challenge_revoke(struct pkid_pg *s, const char *id,
    const char *actor, struct pkid_challenge_rec *out, struct pkid_err *e)
{
	static _Thread_local char profile[64];
	struct chal_revoke a;
	enum pkid_code rc;
	char low[65];
	size_t i, n = strlen(id);

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	if (n < PKID_CHALLENGE_ID_MIN || n > 64)
		return PKID_ERR(e, PKID_E_USAGE, "a SCEP challenge id is %d "
		    "to 64 hex digits, not '%.80s'", PKID_CHALLENGE_ID_MIN,
		    id);
	for (i = 0; i < n; i++) {
		char c = id[i];

		if (c >= 'A' && c <= 'F')
			c = (char)(c - 'A' + 'a');
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
			return PKID_ERR(e, PKID_E_USAGE, "a SCEP challenge id "
			    "is hex digits, not '%.80s'", id);
		low[i] = c;
	}
	low[n] = '\0';
	a.id = low;
	a.actor = actor;
	a.out = out;
	rc = pkid_pg_write(s, w_chal_revoke, NULL, &a, e);
	/* out->profile outlives a (store.h: valid until the next call). */
	snprintf(profile, sizeof(profile), "%s", a.profile);
	if (out->profile != NULL)
		out->profile = profile;
	return rc;
}

/* ---- bounded reads of the status page ------------------------------------ */

#define EXPIRING_WHERE " FROM certificate c WHERE c.not_after >= $1 AND " \
	"c.not_after < $2 AND NOT EXISTS (SELECT 1 FROM revocation r " \
	"WHERE r.serial = c.serial)"

enum pkid_code
pkid_pgs_cert_expiring(struct pkid_pg *s, int64_t from, int64_t to,
    int limit, int count_max, pkid_cert_fn fn, void *arg, int64_t *count,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 }, q = { .n = 0 };
	struct pkid_cert_rec c;
	PGresult *res;
	enum pkid_code rc = PKID_OK;
	int r;

	*count = 0;
	pkid_pg_pint(&p, from);
	pkid_pg_pint(&p, to);
	pkid_pg_pint(&p, limit);
	if ((res = pkid_pg_read(s, "SELECT c.serial, c.subject, c.profile, "
	    "c.not_after, c.requester" EXPIRING_WHERE " ORDER BY c.not_after "
	    "LIMIT $3", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	for (r = 0; r < PQntuples(res) && rc == PKID_OK; r++) {
		memset(&c, 0, sizeof(c));
		c.serial = pkid_pg_text(res, r, 0);
		c.subject = pkid_pg_text(res, r, 1);
		c.profile = pkid_pg_text(res, r, 2);
		c.not_after = pkid_pg_int(res, r, 3);
		c.requester = pkid_pg_text(res, r, 4);
		rc = fn(&c, arg, e);
	}
	PQclear(res);
	if (rc != PKID_OK)
		return rc;
	pkid_pg_pint(&q, from);
	pkid_pg_pint(&q, to);
	pkid_pg_pint(&q, count_max);
	if ((res = pkid_pg_read(s, "SELECT COUNT(*) FROM (SELECT 1"
	    EXPIRING_WHERE " LIMIT $3) AS w", &q, 1, e)) == NULL)
		return pkid_pg_fail(e);
	*count = pkid_pg_int(res, 0, 0);
	PQclear(res);
	return PKID_OK;
}

enum pkid_code
pkid_pgs_request_recent(struct pkid_pg *s, const char *state, int limit,
    int count_max, pkid_request_fn fn, void *arg, int64_t *count,
    struct pkid_err *e)
{
	struct pg_params p = { .n = 0 }, q = { .n = 0 };
	struct pkid_request rq;
	PGresult *res;
	enum pkid_code rc = PKID_OK;
	int r;

	*count = 0;
	pkid_pg_ptext(&p, state);
	pkid_pg_pint(&p, limit);
	if ((res = pkid_pg_read(s, "SELECT id, kind, transaction_id, state, "
	    "profile, requester, csr_der, created_at, updated_at FROM request "
	    "WHERE state = $1 ORDER BY id LIMIT $2", &p, 1, e)) == NULL)
		return pkid_pg_fail(e);
	for (r = 0; r < PQntuples(res) && rc == PKID_OK; r++) {
		memset(&rq, 0, sizeof(rq));
		rq.id = pkid_pg_int(res, r, 0);
		rq.kind = pkid_pg_text(res, r, 1);
		rq.transaction_id = pkid_pg_text(res, r, 2);
		rq.state = pkid_pg_text(res, r, 3);
		rq.profile = pkid_pg_text(res, r, 4);
		rq.requester = pkid_pg_text(res, r, 5);
		rq.csr_der = pkid_pg_blob(res, r, 6, &rq.csr_len);
		rq.created_at = pkid_pg_int(res, r, 7);
		rq.updated_at = pkid_pg_int(res, r, 8);
		rc = fn(&rq, arg, e);
	}
	PQclear(res);
	if (rc != PKID_OK)
		return rc;
	pkid_pg_ptext(&q, state);
	pkid_pg_pint(&q, count_max);
	if ((res = pkid_pg_read(s, "SELECT COUNT(*) FROM (SELECT 1 FROM "
	    "request WHERE state = $1 LIMIT $2) AS w", &q, 1, e)) == NULL)
		return pkid_pg_fail(e);
	*count = pkid_pg_int(res, 0, 0);
	PQclear(res);
	return PKID_OK;
}
