/*
 * sqlite_admin.c - what pkictl's administrative commands read and change
 * besides certificates: EST users (names and dates, never their hashes),
 * SCEP one-time challenges (by a prefix of their hash, never the text)
 * and pages of the append-only audit log, read backwards through its
 * primary key so a page costs the same however long the log is.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "store/sqlite_int.h"

/* ---- EST users ------------------------------------------------------------ */

enum pkid_code
pkid_sqs_user_list(struct pkid_sq *s, pkid_user_fn fn, void *arg,
    struct pkid_err *e)
{
	sqlite3_stmt *st = NULL;
	struct pkid_user_rec u;
	enum pkid_code rc = PKID_E_INTERNAL;
	int q;

	pthread_mutex_lock(&s->rmu);
	/* The hash column is never selected. */
	PKID_TRY(pkid_sq_rprepare(s,
	    "SELECT name, created_at FROM app_user ORDER BY "
	    "name", &st, e));
	while ((q = sqlite3_step(st)) == SQLITE_ROW) {
		u.name = pkid_sq_text(st, 0);
		u.created_at = sqlite3_column_int64(st, 1);
		PKID_TRY(fn(&u, arg, e));
	}
	if (q != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, q, "user list");
		goto out;
	}
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

struct user_change {
	const char *name;	/* user */
	const char *hash;	/* new password hash, NULL: delete */
	const char *actor;	/* for the audit log */
};

static enum pkid_code
apply_user_change(struct pkid_sq *s, struct wop *w)
{
	const struct user_change *u = w->arg;
	struct pkid_err *e = &w->err;
	sqlite3_stmt *st = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	int q;

	if (u->hash != NULL) {
		q = sqlite3_prepare_v2(s->wdb, "UPDATE app_user SET "
		    "password_hash = ? WHERE name = ?", -1, &st, NULL);
		if (q != SQLITE_OK)
			return pkid_sq_db_err(e, s->wdb, q, "prepare");
		pkid_sq_bind_text(st, 1, u->hash);
		pkid_sq_bind_text(st, 2, u->name);
	} else {
		q = sqlite3_prepare_v2(s->wdb, "DELETE FROM app_user WHERE "
		    "name = ?", -1, &st, NULL);
		if (q != SQLITE_OK)
			return pkid_sq_db_err(e, s->wdb, q, "prepare");
		pkid_sq_bind_text(st, 1, u->name);
	}
	PKID_TRY(pkid_sq_step_done(s->wdb, st, u->hash != NULL ?
	    "user update" : "user delete", e));
	PKID_CHECK(sqlite3_changes(s->wdb) == 1, PKID_E_NOT_FOUND,
	    "no EST user '%s' ('pkictl est user list' shows them; 'pkictl "
	    "est user add' makes one)", u->name);
	rc = pkid_sq_audit_ok(s, u->actor, u->hash != NULL ? "user-passwd" :
	    "user-del", u->name, "", (int64_t)pkid_now(), e);
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_user_passwd(struct pkid_sq *s, const char *name,
    const char *hash, const char *actor, struct pkid_err *e)
{
	struct user_change u = { name, hash, actor };

	if (hash == NULL)
		return PKID_ERR(e, PKID_E_INTERNAL, "no password hash");
	return pkid_sq_submit(s, apply_user_change, &u, NULL, e);
}

enum pkid_code
pkid_sqs_user_del(struct pkid_sq *s, const char *name,
    const char *actor, struct pkid_err *e)
{
	struct user_change u = { name, NULL, actor };

	return pkid_sq_submit(s, apply_user_change, &u, NULL, e);
}

/* ---- SCEP one-time challenges ---------------------------------------------- */

enum pkid_code
pkid_sqs_challenge_list(struct pkid_sq *s, pkid_challenge_fn fn,
    void *arg, struct pkid_err *e)
{
	sqlite3_stmt *st = NULL;
	struct pkid_challenge_rec c;
	enum pkid_code rc = PKID_E_INTERNAL;
	int q;

	pthread_mutex_lock(&s->rmu);
	PKID_TRY(pkid_sq_rprepare(s,
	    "SELECT hash, profile, created_at, expires_at, "
	    "used_at FROM scep_challenge ORDER BY created_at, hash", &st, e));
	while ((q = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		/* Only the prefix leaves the store. */
		snprintf(c.id, sizeof(c.id), "%.*s", PKID_CHALLENGE_ID_LEN,
		    pkid_sq_text(st, 0));
		c.profile = pkid_sq_text(st, 1);
		c.created_at = sqlite3_column_int64(st, 2);
		c.expires_at = sqlite3_column_int64(st, 3);
		c.used_at = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 :
		    sqlite3_column_int64(st, 4);
		PKID_TRY(fn(&c, arg, e));
	}
	if (q != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, q, "challenge list");
		goto out;
	}
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

struct chal_revoke {
	const char *id;		/* hash prefix, lower-case hex */
	const char *actor;	/* for the audit log */
	struct pkid_challenge_rec *out;	/* what was revoked */
	char profile[64];	/* its profile (out->profile points here) */
};

static enum pkid_code
apply_chal_revoke(struct pkid_sq *s, struct wop *w)
{
	struct chal_revoke *a = w->out;
	struct pkid_err *e = &w->err;
	sqlite3_stmt *st = NULL;
	char hash[65], lo[65], hi[66], t[32], det[96];
	int64_t used_at = 0;
	enum pkid_code rc = PKID_E_INTERNAL;
	int q, n = 0;

	/* The prefix as a key range: [id, id + "g"), hex sorting below
	 * 'g', so the primary key finds it. */
	snprintf(lo, sizeof(lo), "%s", a->id);
	snprintf(hi, sizeof(hi), "%sg", a->id);
	q = sqlite3_prepare_v2(s->wdb, "SELECT hash, profile, created_at, "
	    "expires_at, used_at FROM scep_challenge WHERE hash >= ? AND "
	    "hash < ? ORDER BY hash LIMIT 2", -1, &st, NULL);
	if (q != SQLITE_OK)
		return pkid_sq_db_err(e, s->wdb, q, "prepare");
	pkid_sq_bind_text(st, 1, lo);
	pkid_sq_bind_text(st, 2, hi);
	while ((q = sqlite3_step(st)) == SQLITE_ROW) {
		if (n++ > 0)
			break;
		snprintf(hash, sizeof(hash), "%s", pkid_sq_text(st, 0));
		snprintf(a->profile, sizeof(a->profile), "%s", pkid_sq_text(st,
		    1));
		snprintf(a->out->id, sizeof(a->out->id), "%.*s",
		    PKID_CHALLENGE_ID_LEN, hash);
		a->out->profile = a->profile;
		a->out->created_at = sqlite3_column_int64(st, 2);
		a->out->expires_at = sqlite3_column_int64(st, 3);
		used_at = sqlite3_column_type(st, 4) == SQLITE_NULL ? 0 :
		    sqlite3_column_int64(st, 4);
		a->out->used_at = used_at;
	}
	if (q != SQLITE_ROW && q != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->wdb, q, "challenge lookup");
		goto out;
	}
	PKID_CHECK(n > 0, PKID_E_NOT_FOUND, "no SCEP challenge with id %s "
	    "('pkictl scep challenge list' shows the ids)", a->id);
	PKID_CHECK(n == 1, PKID_E_USAGE, "more than one SCEP challenge has "
	    "an id beginning with %s: give more of it", a->id);
	PKID_CHECK(used_at == 0, PKID_E_REQUEST_STATE, "SCEP challenge %s "
	    "was used at %s: the request it came with is in the store "
	    "('pkictl ca pending' if it waits for approval, else 'pkictl ca "
	    "revoke' its certificate)", a->out->id,
	    pkid_time_fmt((time_t)used_at, t, sizeof(t)));
	sqlite3_finalize(st);
	st = NULL;
	q = sqlite3_prepare_v2(s->wdb, "DELETE FROM scep_challenge WHERE "
	    "hash = ? AND used_at IS NULL", -1, &st, NULL);
	if (q != SQLITE_OK) {
		rc = pkid_sq_db_err(e, s->wdb, q, "prepare");
		goto out;
	}
	pkid_sq_bind_text(st, 1, hash);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "challenge delete", e));
	PKID_CHECK(sqlite3_changes(s->wdb) == 1, PKID_E_STORE_IO,
	    "challenge row %s vanished", a->out->id);
	snprintf(det, sizeof(det), "unused, profile %s", a->profile);
	rc = pkid_sq_audit_ok(s, a->actor, "scep-challenge-revoke",
	    a->out->id, det, (int64_t)pkid_now(), e);
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_challenge_revoke(struct pkid_sq *s, const char *id,
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
	/* Stored lower-case; either case is accepted. */
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
	rc = pkid_sq_submit(s, apply_chal_revoke, NULL, &a, e);
	/* out->profile outlives a (store.h: valid until the next call). */
	snprintf(profile, sizeof(profile), "%s", a.profile);
	if (out->profile != NULL)
		out->profile = profile;
	return rc;
}

/* ---- the audit log ----------------------------------------------------------- */

enum pkid_code
pkid_sqs_audit_page(struct pkid_sq *s, int64_t since, int64_t before,
    int limit, pkid_audit_fn fn, void *arg, int64_t *older,
    struct pkid_err *e)
{
	sqlite3_stmt *st = NULL;
	struct pkid_audit_rec a;
	int64_t first = 0;
	enum pkid_code rc = PKID_E_INTERNAL;
	int q, past = 0;

	*older = 0;
	if (limit < 1)
		return PKID_ERR(e, PKID_E_INTERNAL, "audit page of %d", limit);
	if (before <= 0)
		before = INT64_MAX;
	pthread_mutex_lock(&s->rmu);
	/* Is there a row past the page that since still admits? */
	PKID_TRY(pkid_sq_rprepare(s,
	    "SELECT at FROM audit WHERE id < ? ORDER BY id "
	    "DESC LIMIT 1 OFFSET ?", &st, e));
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int(st, 2, limit);
	if ((q = sqlite3_step(st)) == SQLITE_ROW)
		past = sqlite3_column_int64(st, 0) >= since;
	else if (q != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, q, "audit page");
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	/*
	 * The newest limit rows below before, walked backwards through the
	 * primary key (the inner LIMIT bounds the walk: no scan of the rest
	 * of the log), then oldest first. Rows are appended with the clock
	 * of their time, so "at" grows with id and the rows older than
	 * since, if any, are the oldest of the window: filtered out, and
	 * nothing before them matches either.
	 */
	PKID_TRY(pkid_sq_rprepare(s,
	    "SELECT id, at, actor, action, object, result, "
	    "detail FROM (SELECT id, at, actor, action, object, result, "
	    "detail FROM audit WHERE id < ? ORDER BY id DESC LIMIT ?) "
	    "WHERE at >= ? ORDER BY id", &st, e));
	sqlite3_bind_int64(st, 1, before);
	sqlite3_bind_int(st, 2, limit);
	sqlite3_bind_int64(st, 3, since);
	while ((q = sqlite3_step(st)) == SQLITE_ROW) {
		a.id = sqlite3_column_int64(st, 0);
		a.at = sqlite3_column_int64(st, 1);
		a.actor = pkid_sq_text(st, 2);
		a.action = pkid_sq_text(st, 3);
		a.object = pkid_sq_text(st, 4);
		a.result = pkid_sq_text(st, 5);
		a.detail = pkid_sq_text(st, 6);
		if (first == 0)
			first = a.id;
		PKID_TRY(fn(&a, arg, e));
	}
	if (q != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, q, "audit page");
		goto out;
	}
	if (past && first > 0)
		*older = first;
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}
