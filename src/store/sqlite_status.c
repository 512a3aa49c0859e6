/*
 * sqlite_status.c - the bounded reads of the status page (store.h): each
 * an indexed query with a LIMIT, so the page costs the same with ten
 * certificates or ten million (DESIGN.md "src/status").
 */
#include <stdio.h>
#include <string.h>

#include "store/sqlite_int.h"

/* Run count_sql (a COUNT over a LIMITed subquery) with its bindings. */
static enum pkid_code
bounded_count(struct pkid_sq *s, sqlite3_stmt *st, int64_t *count,
    struct pkid_err *e)
{
	int r = sqlite3_step(st);

	if (r != SQLITE_ROW)
		return pkid_sq_db_err(e, s->rdb, r, "status count");
	*count = sqlite3_column_int64(st, 0);
	return PKID_OK;
}

/* "Not revoked" is a primary-key probe of revocation per row. */
#define EXPIRING_WHERE " FROM certificate c WHERE c.not_after >= ? AND " \
	"c.not_after < ? AND NOT EXISTS (SELECT 1 FROM revocation r " \
	"WHERE r.serial = c.serial)"

enum pkid_code
pkid_sqs_cert_expiring(struct pkid_sq *s, int64_t from, int64_t to,
    int limit, int count_max, pkid_cert_fn fn, void *arg, int64_t *count,
    struct pkid_err *e)
{
	sqlite3_stmt *st = NULL, *cs = NULL;
	struct pkid_cert_rec c;
	enum pkid_code rc = PKID_E_INTERNAL;
	int r;

	*count = 0;
	pthread_mutex_lock(&s->rmu);
	PKID_TRY(pkid_sq_rprepare(s, "SELECT c.serial, c.subject, c.profile, "
	    "c.not_after, c.requester" EXPIRING_WHERE " ORDER BY c.not_after "
	    "LIMIT ?", &st, e));
	sqlite3_bind_int64(st, 1, from);
	sqlite3_bind_int64(st, 2, to);
	sqlite3_bind_int(st, 3, limit);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&c, 0, sizeof(c));
		c.serial = pkid_sq_text(st, 0);
		c.subject = pkid_sq_text(st, 1);
		c.profile = pkid_sq_text(st, 2);
		c.not_after = sqlite3_column_int64(st, 3);
		c.requester = pkid_sq_text(st, 4);
		PKID_TRY(fn(&c, arg, e));
	}
	if (r != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, r, "expiring certificates");
		goto out;
	}
	PKID_TRY(pkid_sq_rprepare(s, "SELECT COUNT(*) FROM (SELECT 1"
	    EXPIRING_WHERE
	    " LIMIT ?)", &cs, e));
	sqlite3_bind_int64(cs, 1, from);
	sqlite3_bind_int64(cs, 2, to);
	sqlite3_bind_int(cs, 3, count_max);
	rc = bounded_count(s, cs, count, e);
out:
	sqlite3_finalize(st);
	sqlite3_finalize(cs);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

enum pkid_code
pkid_sqs_request_recent(struct pkid_sq *s, const char *state,
    int limit, int count_max, pkid_request_fn fn, void *arg, int64_t *count,
    struct pkid_err *e)
{
	sqlite3_stmt *st = NULL, *cs = NULL;
	struct pkid_request q;
	enum pkid_code rc = PKID_E_INTERNAL;
	int r;

	*count = 0;
	pthread_mutex_lock(&s->rmu);
	PKID_TRY(pkid_sq_rprepare(s,
	    "SELECT id, kind, transaction_id, state, profile, "
	    "requester, csr_der, created_at, updated_at FROM request WHERE "
	    "state = ? ORDER BY id LIMIT ?", &st, e));
	pkid_sq_bind_text(st, 1, state);
	sqlite3_bind_int(st, 2, limit);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&q, 0, sizeof(q));
		q.id = sqlite3_column_int64(st, 0);
		q.kind = pkid_sq_text(st, 1);
		q.transaction_id = pkid_sq_text(st, 2);
		q.state = pkid_sq_text(st, 3);
		q.profile = pkid_sq_text(st, 4);
		q.requester = pkid_sq_text(st, 5);
		q.csr_der = sqlite3_column_blob(st, 6);
		q.csr_len = (size_t)sqlite3_column_bytes(st, 6);
		q.created_at = sqlite3_column_int64(st, 7);
		q.updated_at = sqlite3_column_int64(st, 8);
		PKID_TRY(fn(&q, arg, e));
	}
	if (r != SQLITE_DONE) {
		rc = pkid_sq_db_err(e, s->rdb, r, "requests by state");
		goto out;
	}
	PKID_TRY(pkid_sq_rprepare(s,
	    "SELECT COUNT(*) FROM (SELECT 1 FROM request "
	    "WHERE state = ? LIMIT ?)", &cs, e));
	pkid_sq_bind_text(cs, 1, state);
	sqlite3_bind_int(cs, 2, count_max);
	rc = bounded_count(s, cs, count, e);
out:
	sqlite3_finalize(st);
	sqlite3_finalize(cs);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}

enum pkid_code
pkid_sqs_totals(struct pkid_sq *s, int64_t *certs, int64_t *revoked,
    struct pkid_err *e)
{
	sqlite3_stmt *st = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	int r;

	*certs = *revoked = 0;
	pthread_mutex_lock(&s->rmu);
	PKID_TRY(pkid_sq_rprepare(s,
	    "SELECT (SELECT COALESCE(MAX(rowid), 0) FROM "
	    "certificate), (SELECT COALESCE(MAX(rowid), 0) FROM revocation)",
	    &st, e));
	if ((r = sqlite3_step(st)) != SQLITE_ROW) {
		rc = pkid_sq_db_err(e, s->rdb, r, "totals");
		goto out;
	}
	*certs = sqlite3_column_int64(st, 0);
	*revoked = sqlite3_column_int64(st, 1);
	rc = PKID_OK;
out:
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->rmu);
	return rc;
}
