/*
 * auth.c - who an EST client is: HTTP Basic against password hashes in
 * the store (with a small cache of recently verified credentials), or a
 * TLS client certificate verified here, with X509_verify_cert, to this
 * CA or a label's client_ca, or for simplereenroll on an RA label to the
 * upstream's CA (ra.c) (the server's own handshake check is not trusted
 * for this: its store holds every label's issuers).
 *
 * A chain that verified is remembered (verify/ccache.h) per trust store,
 * leaf and chain sent, until its earliest notAfter or PKID_CCACHE_TTL_S;
 * the trust stores are fixed for the life of the process. Revocation is
 * not cached: the store's record of our own certificates is read on every
 * request, so a revocation refuses the next request at once.
 *
 * HTTP Basic is throttled (throttle.h): a user name or address locked out
 * after failed logins is refused before the store or the KDF is touched,
 * and an unknown user costs one KDF run on a dummy hash, like a known
 * one, so neither the answer nor its timing tells which users exist.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "core/clock.h"
#include "core/log.h"
#include "est/est_int.h"
#include "est/msg.h"
#include "est/passwd.h"
#include "est/throttle.h"
#include "verify/verify.h"
#include "x509/load.h"

void
pkid_est_creds_init(struct est_cred_cache *c)
{
	memset(c, 0, sizeof(*c));
	pthread_mutex_init(&c->mu, NULL);
	c->off = RAND_priv_bytes(c->key, sizeof(c->key)) != 1;
}

void
pkid_est_creds_free(struct est_cred_cache *c)
{
	pthread_mutex_destroy(&c->mu);
	OPENSSL_cleanse(c, sizeof(*c));
}

/* HMAC(key, user NUL password NUL stored): a changed hash in the store
 * (a new password) never matches an old entry. */
static int
cred_mac(const struct est_cred_cache *c, const char *user, const char *pw,
    const char *stored, uint8_t mac[32])
{
	uint8_t msg[PKID_MAX_EST_USER + PKID_MAX_EST_PASSWORD +
	    PKID_MAX_PASSWORD_HASH + 3];
	size_t nu = strlen(user), np = strlen(pw), ns = strlen(stored);
	unsigned int mlen = 0;
	int ok;

	if (nu > PKID_MAX_EST_USER || np > PKID_MAX_EST_PASSWORD ||
	    ns > PKID_MAX_PASSWORD_HASH)
		return 0;
	memcpy(msg, user, nu + 1);
	memcpy(msg + nu + 1, pw, np + 1);
	memcpy(msg + nu + np + 2, stored, ns + 1);
	ok = HMAC(EVP_sha256(), c->key, sizeof(c->key), msg, nu + np + ns + 3,
	    mac, &mlen) != NULL && mlen == 32;
	OPENSSL_cleanse(msg, sizeof(msg));
	return ok;
}

static int
cache_hit(struct est_cred_cache *c, const char *user, const uint8_t *mac)
{
	int64_t now = (int64_t)pkid_now();
	size_t i;
	int hit = 0;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < PKID_EST_AUTH_CACHE && !hit; i++)
		hit = c->ent[i].until > now &&
		    strcmp(c->ent[i].user, user) == 0 &&
		    CRYPTO_memcmp(c->ent[i].mac, mac, 32) == 0;
	pthread_mutex_unlock(&c->mu);
	return hit;
}

static void
cache_put(struct est_cred_cache *c, const char *user, const uint8_t *mac)
{
	struct est_cred *slot = NULL;
	size_t i;

	pthread_mutex_lock(&c->mu);
	for (i = 0; i < PKID_EST_AUTH_CACHE && slot == NULL; i++)
		if (strcmp(c->ent[i].user, user) == 0)
			slot = &c->ent[i];
	if (slot == NULL) {
		/* Round robin: the oldest insertion goes first. */
		slot = &c->ent[c->next];
		c->next = (c->next + 1) % PKID_EST_AUTH_CACHE;
	}
	snprintf(slot->user, sizeof(slot->user), "%s", user);
	memcpy(slot->mac, mac, 32);
	slot->until = (int64_t)pkid_now() + PKID_EST_AUTH_CACHE_TTL_S;
	pthread_mutex_unlock(&c->mu);
}

/* The KDF, counted (est->kdf_runs: what the throttle saves). */
static enum pkid_code
kdf_verify(struct pkid_est *est, const char *pw, const char *stored,
    struct pkid_err *e)
{
	atomic_fetch_add(&est->kdf_runs, 1);
	return pkid_passwd_verify(pw, stored, e);
}

/* user's password: the credential cache, else the KDF. An unknown user
 * runs the same KDF on the dummy hash (same cost, same answer). */
static enum pkid_code
verify_user(struct pkid_est *est, const char *user, const char *pw,
    struct pkid_err *e)
{
	char stored[PKID_MAX_PASSWORD_HASH + 1];
	uint8_t mac[32];
	int have_mac = 0, known = 1;
	enum pkid_code rc;

	rc = pkid_store_user_get(est->ca->store, user, stored, sizeof(stored),
	    e);
	if (rc == PKID_E_NOT_FOUND) {
		pkid_err_clear(e);
		known = 0;
		snprintf(stored, sizeof(stored), "%s", est->dummy);
	} else if (rc != PKID_OK) {
		return rc;
	}
	if (known && !est->creds.off)
		have_mac = cred_mac(&est->creds, user, pw, stored, mac);
	if (have_mac && cache_hit(&est->creds, user, mac)) {
		rc = PKID_OK;
		goto out;
	}
	if (kdf_verify(est, pw, stored, e) != PKID_OK || !known) {
		pkid_err_clear(e);
		rc = PKID_ERR(e, PKID_E_AUTH_FAILED, "user '%s' is unknown or "
		    "the password is wrong", user);
		goto out;
	}
	if (have_mac)
		cache_put(&est->creds, user, mac);
	rc = PKID_OK;
out:
	OPENSSL_cleanse(mac, sizeof(mac));
	return rc;
}

/* Count a failure; audit and log a lock-out it starts, once. */
static void
note_failure(struct pkid_est *est, const struct est_label *l,
    const char *user, const char *addr)
{
	struct pkid_est_lock lk;
	struct pkid_err ae;
	char actor[128], detail[512];

	if (!pkid_est_throttle_fail(est->throttle, user, addr, pkid_now(),
	    &lk))
		return;
	snprintf(actor, sizeof(actor), "est:addr:%s", addr);
	snprintf(detail, sizeof(detail), "%u failed logins in a row for user "
	    "'%s', %u from %s: %s locked out for %d s", lk.user_fails, user,
	    lk.addr_fails, addr, lk.user_locked ? (lk.addr_locked ?
	    "user and address" : "user") : "address", lk.retry_s);
	pkid_log(PKID_LOG_WARN, "est auth throttle: %s", detail);
	pkid_err_clear(&ae);
	if (pkid_store_audit(est->ca->store, actor, "auth-throttle",
	    l->cfg->name[0] ? l->cfg->name : "est", "locked", detail,
	    &ae) != PKID_OK)
		pkid_log_err(PKID_LOG_WARN, &ae, "est audit");
}

enum pkid_code
pkid_est_basic_check(struct pkid_est *est, const struct est_label *l,
    const char *authz, const char *addr, struct est_peer *peer,
    struct pkid_err *e)
{
	char user[PKID_MAX_EST_USER + 1], pw[PKID_MAX_EST_PASSWORD + 1];
	struct pkid_est_lock lk;
	enum pkid_code rc = PKID_E_INTERNAL;

	user[0] = pw[0] = '\0';
	if (addr == NULL)
		addr = "?";
	PKID_CHECK(pkid_est_basic_parse(authz, user, sizeof(user), pw,
	    sizeof(pw)) == 0, PKID_E_AUTH_FAILED, "the Authorization header "
	    "is not HTTP Basic user:password in base64 (RFC 7617) within "
	    "%d/%d bytes", PKID_MAX_EST_USER, PKID_MAX_EST_PASSWORD);
	/* Before the store and the KDF: a locked-out guess costs nothing. */
	if (pkid_est_throttle_check(est->throttle, user, addr, pkid_now(),
	    &lk)) {
		peer->retry_s = lk.retry_s;
		PKID_CHECK(0, PKID_E_AUTH_THROTTLED, "%s locked out after "
		    "%u failed logins (user '%s') and %u (from %s); the "
		    "password was not checked; retry in %d s (RFC 6585 4)",
		    lk.user_locked ? (lk.addr_locked ? "user and address" :
		    "user") : "address", lk.user_fails, user, lk.addr_fails,
		    addr, lk.retry_s);
	}
	rc = verify_user(est, user, pw, e);
	if (rc == PKID_E_AUTH_FAILED)
		note_failure(est, l, user, addr);
	PKID_TRY(rc);
	rc = PKID_E_INTERNAL;
	pkid_est_throttle_ok(est->throttle, user);
	snprintf(peer->who, sizeof(peer->who), "est:user:%s", user);
	rc = PKID_OK;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	return rc;
}

/* Key domains of chain results in est->chains: one per trust store. */
#define DOMAIN_OWN 1u			/* est->own */
#define DOMAIN_LABEL(i) (2u + (unsigned)(i))	/* labels[i].extra */

/*
 * X509_verify_cert at pkid's clock, for TLS client use, through the
 * chain cache (domain names the store; revocation is the caller's).
 */
static enum pkid_code
verify_chain(struct pkid_est *est, unsigned domain, X509_STORE *st,
    STACK_OF(X509) *untrusted, X509 *leaf, const char *what,
    struct pkid_err *e)
{
	X509_STORE_CTX *ctx = NULL;
	time_t now = pkid_now();
	char subj[256];
	int err, hit = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(ctx = X509_STORE_CTX_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_STORE_CTX_init(ctx, st, leaf, untrusted),
	    PKID_E_CRYPTO, "starting the client certificate check");
	X509_STORE_CTX_set_time(ctx, 0, now);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(ctx),
	    PKID_MAX_CHAIN_DEPTH);
	if (pkid_ccache_verify(est->chains, domain, ctx, now, &hit) != 1) {
		pkid_x509_name_text(X509_get_subject_name(leaf), subj,
		    sizeof(subj));
		err = X509_STORE_CTX_get_error(ctx);
		rc = PKID_ERR(e, pkid_verify_map_x509_err(err), "client "
		    "certificate %s does not verify to %s: %s (depth %d)",
		    subj, what, X509_verify_cert_error_string(err),
		    X509_STORE_CTX_get_error_depth(ctx));
		e->depth = X509_STORE_CTX_get_error_depth(ctx);
		goto out;
	}
	rc = PKID_OK;
out:
	X509_STORE_CTX_free(ctx);
	return rc;
}

/* The store's view of a certificate this CA issued. */
struct rec_state {
	int found;		/* a record exists */
	int revoked;		/* it is revoked */
	char fp[65];		/* its fingerprint */
};

static enum pkid_code
rec_cb(const struct pkid_cert_rec *r, void *arg, struct pkid_err *e)
{
	struct rec_state *s = arg;

	(void)e;
	s->found = 1;
	s->revoked = r->revoked;
	snprintf(s->fp, sizeof(s->fp), "%s",
	    r->fingerprint != NULL ? r->fingerprint : "");
	return PKID_OK;
}

enum pkid_code
pkid_est_cert_verify_own(struct pkid_est *est, X509 *leaf,
    struct pkid_err *e)
{
	struct rec_state st;
	char serial[80], fp[65], subj[256];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&st, 0, sizeof(st));
	PKID_TRY(verify_chain(est, DOMAIN_OWN, est->own, est->inter, leaf,
	    "this CA", e));
	pkid_x509_name_text(X509_get_subject_name(leaf), subj, sizeof(subj));
	PKID_CHECK(pkid_ca_issued_by_us(est->ca, leaf),
	    PKID_E_FORBIDDEN, "client certificate %s was not issued by this "
	    "CA (any of its generations)", subj);
	pkid_x509_serial_hex(X509_get0_serialNumber(leaf), serial,
	    sizeof(serial));
	rc = pkid_store_cert_get(est->ca->store, serial, rec_cb, &st, e);
	if (rc == PKID_E_NOT_FOUND) {
		pkid_err_clear(e);
		PKID_CHECK(0, PKID_E_FORBIDDEN, "client certificate %s (serial "
		    "%s) is not in this CA's records", subj, serial);
	}
	PKID_TRY(rc);
	pkid_x509_fingerprint(leaf, fp);
	PKID_CHECK(strcmp(fp, st.fp) == 0, PKID_E_FORBIDDEN, "client "
	    "certificate %s (serial %s) differs from the one this CA issued",
	    subj, serial);
	PKID_CHECK(!st.revoked, PKID_E_REVOKED, "client certificate %s "
	    "(serial %s) is revoked", subj, serial);
	rc = PKID_OK;
out:
	return rc;
}

/* This CA first; then the label's client_ca (revocation of those is not
 * checked: no CRL is configured for them). */
static enum pkid_code
check_cert(struct pkid_est *est, const struct est_label *l,
    const struct pkid_http_req *req, struct est_peer *peer,
    struct pkid_err *e)
{
	char subj[160];
	enum pkid_code rc;

	pkid_x509_name_text(X509_get_subject_name(req->peer_cert), subj,
	    sizeof(subj));
	rc = pkid_est_cert_verify_own(est, req->peer_cert, e);
	if (rc == PKID_OK) {
		peer->cert_own = 1;
	} else if (l->extra != NULL) {
		pkid_err_clear(e);
		rc = verify_chain(est, DOMAIN_LABEL(l - est->labels),
		    l->extra, req->peer_chain, req->peer_cert,
		    "this CA or the label's client_ca", e);
	}
	if (rc == PKID_OK)
		snprintf(peer->who, sizeof(peer->who), "est:cert:%s", subj);
	return rc;
}

static void
take_err(struct pkid_err *e, const struct pkid_err *from)
{
	if (e->code == PKID_OK)
		*e = *from;
}

/* RFC 7030 4.2.2: the certificate being renewed authenticates. */
static enum pkid_code
auth_reenroll(struct pkid_est *est, const struct est_label *l,
    const struct pkid_http_req *req, struct est_peer *peer,
    struct pkid_err *e)
{
	const char *authz = pkid_http_req_header(req, "Authorization");
	struct est_peer bp;
	char subj[160];
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(req->peer_cert != NULL, PKID_E_AUTH_REQUIRED,
	    "RFC 7030 4.2.2: simplereenroll authenticates with the "
	    "certificate being renewed, and the TLS handshake carried no "
	    "client certificate");
	rc = pkid_est_cert_verify_own(est, req->peer_cert, e);
	if (rc != PKID_OK && l->up != NULL &&
	    !pkid_ca_issued_by_us(est->ca, req->peer_cert)) {
		/* RA mode: not this CA's certificate, the upstream may have
		 * issued it. One of ours keeps its own error (revoked,
		 * expired, unknown). */
		pkid_err_clear(e);
		PKID_TRY(pkid_est_ra_verify_client(l->up, req->peer_cert,
		    req->peer_chain, e));
	} else {
		PKID_TRY(rc);
		peer->cert_own = 1;
	}
	rc = PKID_E_INTERNAL;
	pkid_x509_name_text(X509_get_subject_name(req->peer_cert), subj,
	    sizeof(subj));
	snprintf(peer->who, sizeof(peer->who), "est:cert:%s", subj);
	if (l->cfg->auth == PKID_EST_AUTH_BASIC_AND_CERT) {
		PKID_CHECK(authz != NULL, PKID_E_AUTH_REQUIRED, "this EST "
		    "label wants HTTP Basic credentials as well");
		memset(&bp, 0, sizeof(bp));
		rc = pkid_est_basic_check(est, l, authz, req->client_addr,
		    &bp, e);
		peer->retry_s = bp.retry_s;
		PKID_TRY(rc);
	}
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_est_authenticate(struct pkid_est *est, const struct est_label *l,
    enum est_op op, const struct pkid_http_req *req, struct est_peer *peer,
    struct pkid_err *e)
{
	const char *authz = pkid_http_req_header(req, "Authorization");
	enum pkid_est_auth mode = l->cfg->auth;
	struct pkid_err ce, be;
	struct est_peer cp, bp;
	int cert_ok = 0, basic_ok = 0;

	memset(peer, 0, sizeof(*peer));
	if (op == EST_SIMPLEREENROLL)
		return auth_reenroll(est, l, req, peer, e);
	pkid_err_clear(&ce);
	pkid_err_clear(&be);
	memset(&cp, 0, sizeof(cp));
	memset(&bp, 0, sizeof(bp));
	if (mode != PKID_EST_AUTH_BASIC && req->peer_cert != NULL)
		cert_ok = check_cert(est, l, req, &cp, &ce) == PKID_OK;
	if (mode != PKID_EST_AUTH_CERT && authz != NULL &&
	    !(cert_ok && mode == PKID_EST_AUTH_BASIC_OR_CERT))
		basic_ok = pkid_est_basic_check(est, l, authz,
		    req->client_addr, &bp, &be) == PKID_OK;
	*peer = cert_ok ? cp : bp;
	peer->retry_s = bp.retry_s;
	if (mode == PKID_EST_AUTH_BASIC_AND_CERT && cert_ok && basic_ok)
		snprintf(peer->who, sizeof(peer->who), "%.180s+%.180s",
		    bp.who, cp.who + 4);
	if ((mode == PKID_EST_AUTH_BASIC_AND_CERT && cert_ok && basic_ok) ||
	    (mode == PKID_EST_AUTH_BASIC_OR_CERT && (cert_ok || basic_ok)) ||
	    (mode == PKID_EST_AUTH_BASIC && basic_ok) ||
	    (mode == PKID_EST_AUTH_CERT && cert_ok))
		return PKID_OK;
	/* Report the most telling failure: a refused password, then a
	 * refused certificate, then what is missing. */
	if (be.code != PKID_OK)
		take_err(e, &be);
	else if (ce.code != PKID_OK)
		take_err(e, &ce);
	else if (mode == PKID_EST_AUTH_CERT || (mode ==
	    PKID_EST_AUTH_BASIC_AND_CERT && req->peer_cert == NULL))
		PKID_ERR(e, PKID_E_AUTH_REQUIRED, "this EST label wants a TLS "
		    "client certificate from this CA or its client_ca");
	else
		PKID_ERR(e, PKID_E_AUTH_REQUIRED, "this EST label wants HTTP "
		    "Basic credentials%s", mode == PKID_EST_AUTH_BASIC ? "" :
		    mode == PKID_EST_AUTH_BASIC_OR_CERT ?
		    " or a TLS client certificate" : " as well");
	return e->code;
}

enum pkid_code
pkid_est_user_auth(struct pkid_est *est, const char *authz, const char *addr,
    char *user, size_t len, struct pkid_err *e)
{
	struct est_peer p;
	enum pkid_code rc;

	memset(&p, 0, sizeof(p));
	user[0] = '\0';
	if (authz == NULL)
		return PKID_ERR(e, PKID_E_AUTH_REQUIRED, "HTTP Basic "
		    "credentials of a user named in [status] users wanted");
	rc = pkid_est_basic_check(est, &est->labels[0], authz, addr, &p, e);
	if (rc == PKID_OK)
		snprintf(user, len, "%s", p.who + strlen("est:user:"));
	return rc;
}
