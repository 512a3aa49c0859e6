/*
 * sqlite_chal.c - SCEP one-time challenge passwords in the SQLite store.
 * Only hashes are kept. SCEP looks one up when it checks a request and
 * marks it used in the commit that records the accepted request
 * (pkid_sq_request_insert), so a refused request leaves it usable.
 */
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "store/sqlite_int.h"

struct chal_add {
	const char *hash;	/* hex SHA-256 of the challenge */
	const char *profile;	/* profile it enrolls under */
	int64_t expires_at;	/* epoch seconds */
};

static enum pkid_code
apply_chal_add(struct pkid_sq *s, struct wop *w)
{
	const struct chal_add *a = w->arg;
	struct pkid_err *e = &w->err;
	sqlite3_stmt *st = NULL;
	int64_t now = (int64_t)pkid_now();
	char id[PKID_CHALLENGE_ID_LEN + 1];
	enum pkid_code rc = PKID_E_INTERNAL;
	int q;

	q = sqlite3_prepare_v2(s->wdb, "INSERT INTO scep_challenge (hash, "
	    "profile, created_at, expires_at) VALUES (?,?,?,?)", -1, &st,
	    NULL);
	if (q != SQLITE_OK)
		return pkid_sq_db_err(e, s->wdb, q, "prepare");
	pkid_sq_bind_text(st, 1, a->hash);
	pkid_sq_bind_text(st, 2, a->profile);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, a->expires_at);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "challenge insert", e));
	/* The detail is its id (pkictl scep challenge list|revoke). */
	snprintf(id, sizeof(id), "%.*s", PKID_CHALLENGE_ID_LEN, a->hash);
	rc = pkid_sq_audit_ok(s, "cli", "scep-challenge-new", a->profile, id,
	    now, e);
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_challenge_add(struct pkid_sq *s, const char *hash,
    const char *profile, int64_t expires_at, struct pkid_err *e)
{
	struct chal_add a = { hash, profile, expires_at };

	return pkid_sq_submit(s, apply_chal_add, &a, NULL, e);
}

struct chal_take {
	const char *hash;	/* hex SHA-256 of the challenge offered */
	int64_t now;		/* epoch seconds */
	char *profile;		/* receives its profile */
	size_t len;		/* size of profile */
};

enum pkid_code
pkid_sq_challenge_use(struct pkid_sq *s, const char *hash, int64_t now,
    struct pkid_err *e)
{
	sqlite3_stmt *st = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	int q;

	q = sqlite3_prepare_v2(s->wdb, "UPDATE scep_challenge SET used_at = ? "
	    "WHERE hash = ? AND used_at IS NULL AND expires_at > ?", -1, &st,
	    NULL);
	if (q != SQLITE_OK)
		return pkid_sq_db_err(e, s->wdb, q, "prepare");
	sqlite3_bind_int64(st, 1, now);
	pkid_sq_bind_text(st, 2, hash);
	sqlite3_bind_int64(st, 3, now);
	PKID_TRY(pkid_sq_step_done(s->wdb, st, "challenge update", e));
	PKID_CHECK(sqlite3_changes(s->wdb) == 1, PKID_E_CHALLENGE_BAD,
	    "the one-time challenge is no longer unused and unexpired: "
	    "another request used it first, or it expired");
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

static enum pkid_code
apply_chal_take(struct pkid_sq *s, struct wop *w)
{
	const struct chal_take *t = w->arg;
	struct pkid_err *e = &w->err;
	sqlite3_stmt *st = NULL;
	const unsigned char *p;
	enum pkid_code rc = PKID_E_INTERNAL;
	int q;

	PKID_TRY(pkid_sq_challenge_use(s, t->hash, t->now, e));
	q = sqlite3_prepare_v2(s->wdb, "SELECT profile FROM scep_challenge "
	    "WHERE hash = ?", -1, &st, NULL);
	if (q != SQLITE_OK) {
		rc = pkid_sq_db_err(e, s->wdb, q, "prepare");
		goto out;
	}
	pkid_sq_bind_text(st, 1, t->hash);
	PKID_CHECK(sqlite3_step(st) == SQLITE_ROW, PKID_E_STORE_IO,
	    "challenge row vanished");
	p = sqlite3_column_text(st, 0);
	snprintf(t->profile, t->len, "%s", p != NULL ? (const char *)p : "");
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

enum pkid_code
pkid_sqs_challenge_peek(struct pkid_sq *s, const char *hash,
    int64_t now, char *profile, size_t len, struct pkid_err *e)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *p;
	enum pkid_code rc = PKID_E_INTERNAL;
	int q;

	if (len > 0)
		profile[0] = '\0';
	pthread_mutex_lock(&s->rmu);
	q = sqlite3_prepare_v2(s->rdb, "SELECT profile FROM scep_challenge "
	    "WHERE hash = ? AND used_at IS NULL AND expires_at > ?", -1, &st,
	    NULL);
	if (q != SQLITE_OK) {
		rc = pkid_sq_db_err(e, s->rdb, q, "prepare");
		goto out;
	}
	pkid_sq_bind_text(st, 1, hash);
	sqlite3_bind_int64(st, 2, now);
	q = sqlite3_step(st);
	if (q != SQLITE_ROW && q != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, q, "challenge lookup");
		goto out;
	}
	PKID_CHECK(q == SQLITE_ROW, PKID_E_CHALLENGE_BAD,
	    "no unused, unexpired one-time challenge matches");
	p = sqlite3_column_text(st, 0);
	snprintf(profile, len, "%s", p != NULL ? (const char *)p : "");
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

enum pkid_code
pkid_sqs_challenge_take(struct pkid_sq *s, const char *hash,
    int64_t now, char *profile, size_t len, struct pkid_err *e)
{
	struct chal_take t = { hash, now, profile, len };

	if (len > 0)
		profile[0] = '\0';
	return pkid_sq_submit(s, apply_chal_take, &t, NULL, e);
}
