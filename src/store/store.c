/*
 * store.c - the store's front: pkid_store_open picks the implementation
 * by the URL ("sqlite:PATH" or a plain path: SQLite; "postgresql://..."
 * or a libpq conninfo string: PostgreSQL) and every other function of
 * store.h forwards to it, so callers never know which one they use.
 */
#include <stdlib.h>
#include <string.h>

#include "store/backend.h"

struct pkid_store {
	struct pkid_sq *sq;	/* SQLite, or NULL */
	struct pkid_pg *pg;	/* PostgreSQL, or NULL */
};

int
pkid_store_url_is_pg(const char *url)
{
	size_t n = strspn(url, "abcdefghijklmnopqrstuvwxyz_");

	if (strncmp(url, "postgresql://", 13) == 0 ||
	    strncmp(url, "postgres://", 11) == 0)
		return 1;
	/* A libpq "keyword = value ..." string ("host=/run/postgresql
	 * dbname=pkid"); a path never starts with a keyword and '='. */
	return n > 0 && url[n + strspn(url + n, " ")] == '=';
}

enum pkid_code
pkid_store_open(const char *url, struct pkid_store **out,
    struct pkid_err *e)
{
	struct pkid_store *s;
	enum pkid_code rc;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for the store");
	if (strncmp(url, "sqlite:", 7) == 0)
		rc = pkid_sqs_open(url + 7, &s->sq, e);
	else if (pkid_store_url_is_pg(url))
		rc = pkid_pgs_open(url, &s->pg, e);
	else
		rc = pkid_sqs_open(url, &s->sq, e);
	if (rc != PKID_OK) {
		free(s);
		return rc;
	}
	*out = s;
	return PKID_OK;
}

void
pkid_store_close(struct pkid_store *s)
{
	if (s == NULL)
		return;
	pkid_pgs_close(s->pg);
	pkid_sqs_close(s->sq);
	free(s);
}

enum pkid_code
pkid_store_ca_gen_add(struct pkid_store *s, struct pkid_ca_gen *g,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_ca_gen_add(s->pg, g, e);
	return pkid_sqs_ca_gen_add(s->sq, g, e);
}

enum pkid_code
pkid_store_ca_gen_list(struct pkid_store *s, const char *ca_name,
    pkid_ca_gen_fn fn, void *arg, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_ca_gen_list(s->pg, ca_name, fn, arg, e);
	return pkid_sqs_ca_gen_list(s->sq, ca_name, fn, arg, e);
}

enum pkid_code
pkid_store_ca_gen_reschedule(struct pkid_store *s, int64_t id, int64_t at,
    const char *actor, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_ca_gen_reschedule(s->pg, id, at, actor, e);
	return pkid_sqs_ca_gen_reschedule(s->sq, id, at, actor, e);
}

enum pkid_code
pkid_store_ca_gen_activate(struct pkid_store *s, const char *ca_name,
    const char *role, int64_t id, const char *actor, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_ca_gen_activate(s->pg, ca_name, role, id, actor,
		    e);
	return pkid_sqs_ca_gen_activate(s->sq, ca_name, role, id, actor, e);
}

enum pkid_code
pkid_store_cert_add(struct pkid_store *s, const struct pkid_cert_rec *r,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_cert_add(s->pg, r, e);
	return pkid_sqs_cert_add(s->sq, r, e);
}

enum pkid_code
pkid_store_cert_add_request(struct pkid_store *s,
    const struct pkid_cert_rec *r, const struct pkid_request *req,
    int64_t *req_id, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_cert_add_request(s->pg, r, req, req_id, e);
	return pkid_sqs_cert_add_request(s->sq, r, req, req_id, e);
}

enum pkid_code
pkid_store_cert_get(struct pkid_store *s, const char *serial, pkid_cert_fn fn,
    void *arg, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_cert_get(s->pg, serial, fn, arg, e);
	return pkid_sqs_cert_get(s->sq, serial, fn, arg, e);
}

enum pkid_code
pkid_store_cert_find(struct pkid_store *s, const struct pkid_cert_filter *f,
    pkid_cert_fn fn, void *arg, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_cert_find(s->pg, f, fn, arg, e);
	return pkid_sqs_cert_find(s->sq, f, fn, arg, e);
}

enum pkid_code
pkid_store_cert_list(struct pkid_store *s, pkid_cert_fn fn, void *arg,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_cert_list(s->pg, fn, arg, e);
	return pkid_sqs_cert_list(s->sq, fn, arg, e);
}

enum pkid_code
pkid_store_cert_count(struct pkid_store *s, int64_t *n, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_cert_count(s->pg, n, e);
	return pkid_sqs_cert_count(s->sq, n, e);
}

enum pkid_code
pkid_store_request_add(struct pkid_store *s, const struct pkid_request *r,
    int64_t *id, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_request_add(s->pg, r, id, e);
	return pkid_sqs_request_add(s->sq, r, id, e);
}

enum pkid_code
pkid_store_request_find(struct pkid_store *s, const char *kind,
    const char *transaction_id, pkid_request_fn fn, void *arg,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_request_find(s->pg, kind, transaction_id, fn,
		    arg, e);
	return pkid_sqs_request_find(s->sq, kind, transaction_id, fn, arg, e);
}

enum pkid_code
pkid_store_request_get(struct pkid_store *s, int64_t id, pkid_request_fn fn,
    void *arg, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_request_get(s->pg, id, fn, arg, e);
	return pkid_sqs_request_get(s->sq, id, fn, arg, e);
}

enum pkid_code
pkid_store_request_list(struct pkid_store *s, const char *state,
    pkid_request_fn fn, void *arg, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_request_list(s->pg, state, fn, arg, e);
	return pkid_sqs_request_list(s->sq, state, fn, arg, e);
}

enum pkid_code
pkid_store_request_set(struct pkid_store *s, int64_t id, const char *state,
    const char *cert_serial, const char *detail, const char *actor,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_request_set(s->pg, id, state, cert_serial,
		    detail, actor, e);
	return pkid_sqs_request_set(s->sq, id, state, cert_serial, detail,
	    actor, e);
}

enum pkid_code
pkid_store_request_retire(struct pkid_store *s, int64_t id, const char *actor,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_request_retire(s->pg, id, actor, e);
	return pkid_sqs_request_retire(s->sq, id, actor, e);
}

enum pkid_code
pkid_store_request_set_cert(struct pkid_store *s, int64_t id,
    const char *cert_serial, const uint8_t *der, size_t len, const char *actor,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_request_set_cert(s->pg, id, cert_serial, der,
		    len, actor, e);
	return pkid_sqs_request_set_cert(s->sq, id, cert_serial, der, len,
	    actor, e);
}

enum pkid_code
pkid_store_user_put(struct pkid_store *s, const char *name, const char *hash,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_user_put(s->pg, name, hash, e);
	return pkid_sqs_user_put(s->sq, name, hash, e);
}

enum pkid_code
pkid_store_user_get(struct pkid_store *s, const char *name, char *out,
    size_t len, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_user_get(s->pg, name, out, len, e);
	return pkid_sqs_user_get(s->sq, name, out, len, e);
}

enum pkid_code
pkid_store_challenge_add(struct pkid_store *s, const char *hash,
    const char *profile, int64_t expires_at, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_challenge_add(s->pg, hash, profile, expires_at,
		    e);
	return pkid_sqs_challenge_add(s->sq, hash, profile, expires_at, e);
}

enum pkid_code
pkid_store_challenge_peek(struct pkid_store *s, const char *hash, int64_t now,
    char *profile, size_t len, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_challenge_peek(s->pg, hash, now, profile, len,
		    e);
	return pkid_sqs_challenge_peek(s->sq, hash, now, profile, len, e);
}

enum pkid_code
pkid_store_challenge_take(struct pkid_store *s, const char *hash, int64_t now,
    char *profile, size_t len, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_challenge_take(s->pg, hash, now, profile, len,
		    e);
	return pkid_sqs_challenge_take(s->sq, hash, now, profile, len, e);
}

enum pkid_code
pkid_store_revoke(struct pkid_store *s, const char *serial, int reason,
    int64_t when, const char *actor, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_revoke(s->pg, serial, reason, when, actor, e);
	return pkid_sqs_revoke(s->sq, serial, reason, when, actor, e);
}

enum pkid_code
pkid_store_unrevoke(struct pkid_store *s, const char *serial, int64_t when,
    const char *actor, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_unrevoke(s->pg, serial, when, actor, e);
	return pkid_sqs_unrevoke(s->sq, serial, when, actor, e);
}

enum pkid_code
pkid_store_revoked_list(struct pkid_store *s, int64_t ca_gen,
    pkid_revoked_fn fn, void *arg, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_revoked_list(s->pg, ca_gen, fn, arg, e);
	return pkid_sqs_revoked_list(s->sq, ca_gen, fn, arg, e);
}

enum pkid_code
pkid_store_revoked_mark(struct pkid_store *s, int64_t *mark,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_revoked_mark(s->pg, mark, e);
	return pkid_sqs_revoked_mark(s->sq, mark, e);
}

enum pkid_code
pkid_store_revoked_count(struct pkid_store *s, int64_t ca_gen, int64_t *n,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_revoked_count(s->pg, ca_gen, n, e);
	return pkid_sqs_revoked_count(s->sq, ca_gen, n, e);
}

enum pkid_code
pkid_store_key_compromised(struct pkid_store *s, const char *spki_sha256,
    char *serial, size_t len, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_key_compromised(s->pg, spki_sha256, serial, len,
		    e);
	return pkid_sqs_key_compromised(s->sq, spki_sha256, serial, len, e);
}

enum pkid_code
pkid_store_crl_number_next(struct pkid_store *s, const char *ca_name,
    int64_t *out, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_crl_number_next(s->pg, ca_name, out, e);
	return pkid_sqs_crl_number_next(s->sq, ca_name, out, e);
}

enum pkid_code
pkid_store_audit(struct pkid_store *s, const char *actor, const char *action,
    const char *object, const char *result, const char *detail,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_audit(s->pg, actor, action, object, result,
		    detail, e);
	return pkid_sqs_audit(s->sq, actor, action, object, result, detail, e);
}

enum pkid_code
pkid_store_audit_count(struct pkid_store *s, const char *action,
    const char *result, int64_t *n, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_audit_count(s->pg, action, result, n, e);
	return pkid_sqs_audit_count(s->sq, action, result, n, e);
}

void
pkid_store_health(struct pkid_store *s, struct pkid_err *last)
{
	if (s->pg != NULL)
		pkid_pgs_health(s->pg, last);
	else
		pkid_sqs_health(s->sq, last);
}

void
pkid_store_commit_stats(struct pkid_store *s, uint64_t *commits, uint64_t *ops)
{
	if (s->pg != NULL)
		pkid_pgs_commit_stats(s->pg, commits, ops);
	else
		pkid_sqs_commit_stats(s->sq, commits, ops);
}

void
pkid_store_set_commit_hook(struct pkid_store *s, pkid_store_commit_fn fn,
    void *arg)
{
	if (s->pg != NULL)
		pkid_pgs_set_commit_hook(s->pg, fn, arg);
	else
		pkid_sqs_set_commit_hook(s->sq, fn, arg);
}

enum pkid_code
pkid_store_cert_expiring(struct pkid_store *s, int64_t from, int64_t to,
    int limit, int count_max, pkid_cert_fn fn, void *arg, int64_t *count,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_cert_expiring(s->pg, from, to, limit, count_max,
		    fn, arg,
		    count, e);
	return pkid_sqs_cert_expiring(s->sq, from, to, limit, count_max, fn,
	    arg,
	    count, e);
}

enum pkid_code
pkid_store_request_recent(struct pkid_store *s, const char *state, int limit,
    int count_max, pkid_request_fn fn, void *arg, int64_t *count,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_request_recent(s->pg, state, limit, count_max,
		    fn, arg, count,
		    e);
	return pkid_sqs_request_recent(s->sq, state, limit, count_max, fn, arg,
	    count,
	    e);
}

enum pkid_code
pkid_store_totals(struct pkid_store *s, int64_t *certs, int64_t *revoked,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_totals(s->pg, certs, revoked, e);
	return pkid_sqs_totals(s->sq, certs, revoked, e);
}

enum pkid_code
pkid_store_user_list(struct pkid_store *s, pkid_user_fn fn, void *arg,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_user_list(s->pg, fn, arg, e);
	return pkid_sqs_user_list(s->sq, fn, arg, e);
}

enum pkid_code
pkid_store_user_passwd(struct pkid_store *s, const char *name,
    const char *hash, const char *actor, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_user_passwd(s->pg, name, hash, actor, e);
	return pkid_sqs_user_passwd(s->sq, name, hash, actor, e);
}

enum pkid_code
pkid_store_user_del(struct pkid_store *s, const char *name, const char *actor,
    struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_user_del(s->pg, name, actor, e);
	return pkid_sqs_user_del(s->sq, name, actor, e);
}

enum pkid_code
pkid_store_challenge_list(struct pkid_store *s, pkid_challenge_fn fn,
    void *arg, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_challenge_list(s->pg, fn, arg, e);
	return pkid_sqs_challenge_list(s->sq, fn, arg, e);
}

enum pkid_code
pkid_store_challenge_revoke(struct pkid_store *s, const char *id,
    const char *actor, struct pkid_challenge_rec *out, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_challenge_revoke(s->pg, id, actor, out, e);
	return pkid_sqs_challenge_revoke(s->sq, id, actor, out, e);
}

enum pkid_code
pkid_store_audit_page(struct pkid_store *s, int64_t since, int64_t before,
    int limit, pkid_audit_fn fn, void *arg, int64_t *older, struct pkid_err *e)
{
	if (s->pg != NULL)
		return pkid_pgs_audit_page(s->pg, since, before, limit, fn, arg,
		    older, e);
	return pkid_sqs_audit_page(s->sq, since, before, limit, fn, arg, older,
	    e);
}
