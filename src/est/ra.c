/*
 * ra.c - registration-authority mode: a label with upstream = URL
 * authenticates and authorises the device here (server.c), then forwards
 * the request to the upstream EST CA over TLS with the RA's own client
 * certificate (RFC 7030 3.2.3: "an RA ... authenticates to the CA").
 *
 * The upstream call blocks the worker thread that handles the device's
 * request, with a hard total deadline of upstream_timeout (connect, TLS
 * and response together); while it waits, that worker serves no other
 * connection. Acceptable for now: an RA forwards a few enrollments at a
 * time; an event-driven forward on the worker's own base is the next step.
 *
 * Connections to the upstream are kept alive and reused (a small pool,
 * PKID_EST_UPSTREAM_POOL per label, idle at most PKID_EST_UPSTREAM_IDLE_S).
 * Each failure is classified by the HTTPS client (the same verifier and
 * phases as pkictl diagnose) and mapped to its own upstream-* code.
 *
 * serverkeygen through the RA sends upstream only the request rekeyed
 * with the key made here (pkid_est_ra_keygen). simplereenroll checks a
 * device's certificate from the upstream to upstream_cacert, with the
 * upstream's /cacerts, kept a while, as intermediates
 * (pkid_est_ra_verify_client), then its revocation in its issuer's CRL
 * (pkid_est_ra_revocation, ra_crl.c), as SCEP's RenewalReq does.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/trace.h"
#include "est/certsrv.h"
#include "est/client.h"
#include "est/est_int.h"
#include "est/msg.h"
#include "est/ra_crl.h"
#include "http/client.h"
#include "http/get.h"
#include "verify/ccache.h"
#include "verify/verify.h"
#include "x509/load.h"

struct est_upstream {
	const struct pkid_est_label *cfg;	/* its label (borrowed) */
	STACK_OF(X509) *trust;			/* upstream_cacert */
	STACK_OF(X509) *certs;		/* upstream_cert: leaf first */
	STACK_OF(X509) *chain;		/* certs without the leaf */
	EVP_PKEY *key;				/* upstream_key */
	X509_STORE *anchors;			/* trust, for devices' certs */
	pthread_mutex_t mu;			/* guards below */
	enum pkid_code logged;			/* cause last logged */
	STACK_OF(X509) *cas;		/* upstream /cacerts, NULL: none yet */
	uint64_t cas_ms;		/* when cas came, mono ms */
	uint64_t cas_failed_ms;		/* last failed fetch, mono ms, 0 none */
	struct pkid_err cas_last;	/* why the last fetch failed */
	int nidle;				/* sessions in idle */
	struct pkid_https *idle[PKID_EST_UPSTREAM_POOL]; /* kept alive */
	uint64_t since[PKID_EST_UPSTREAM_POOL];	/* idle since, mono ms */
	struct pkid_ra_crl *crls;	/* the upstream's CRLs, NULL when
					 * upstream_revocation = off */
	struct pkid_ccache *chains;	/* devices' chains that verified to
					 * anchors (keyed with the CAs used
					 * as intermediates); revocation is
					 * checked every time */
	struct pkid_certsrv *cs;	/* an AD CS (certsrv) upstream, NULL
					 * for an EST one */
};

/* How the CRL cache fetches: the upstream's budget; an https CRL server
 * must chain to upstream_cacert, as the upstream does. */
static enum pkid_code
crl_fetch(void *arg, const char *url, size_t max, struct pkid_buf *out,
    struct pkid_err *e)
{
	struct est_upstream *up = arg;

	return pkid_http_get(url, up->trust, up->cfg->upstream_timeout, max,
	    out, e);
}

/* Revocation of devices' certificates from the upstream: its CRLs, or,
 * when the operator turned that off, a warning. */
static enum pkid_code
revocation_new(struct est_upstream *up, const char *name,
    struct pkid_err *e)
{
	const struct pkid_est_label *cfg = up->cfg;

	if (cfg->upstream_revocation == PKID_UPSTREAM_REV_OFF) {
		pkid_log(PKID_LOG_WARN, "est label %s: renewals through label "
		    "%s are forwarded without a revocation check "
		    "(upstream_revocation = off): a revoked device certificate "
		    "from %s still renews", name, name, cfg->upstream);
		return PKID_OK;
	}
	up->crls = pkid_ra_crl_new(cfg->upstream, cfg->upstream_crl,
	    crl_fetch, up, cfg->upstream_timeout, e);
	if (up->crls == NULL)
		return e->code;
	pkid_log(PKID_LOG_INFO, "est label %s: renewals with a certificate "
	    "from the upstream are forwarded only when its issuer's CRL says "
	    "it is not revoked (its CRL distribution points%s%s)", name,
	    cfg->upstream_crl[0] != '\0' ? ", then " : "", cfg->upstream_crl);
	return PKID_OK;
}

struct est_upstream *
pkid_est_ra_new(const struct pkid_est_label *cfg, struct pkid_err *e)
{
	struct est_upstream *up = calloc(1, sizeof(*up));
	const char *name = cfg->name[0] ? cfg->name : "(default)";
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	PKID_OSSL_PTR(up, PKID_E_NOMEM, "no memory");
	up->cfg = cfg;
	pthread_mutex_init(&up->mu, NULL);
	PKID_CHECK(cfg->upstream_cacert[0] != '\0', PKID_E_CONFIG_BAD_VALUE,
	    "EST label %s has upstream = %s but no upstream_cacert (the "
	    "root the upstream's TLS certificate chains to)", name,
	    cfg->upstream);
	PKID_TRY(pkid_x509_load_certs_file(cfg->upstream_cacert, &up->trust,
	    e));
	PKID_OSSL_PTR(up->anchors = X509_STORE_new(), PKID_E_NOMEM,
	    "no memory");
	for (i = 0; i < sk_X509_num(up->trust); i++)
		PKID_OSSL(X509_STORE_add_cert(up->anchors,
		    sk_X509_value(up->trust, i)), PKID_E_CRYPTO, "adding %s "
		    "certificate %d to a store", cfg->upstream_cacert, i);
	PKID_CHECK((cfg->upstream_cert[0] != '\0') ==
	    (cfg->upstream_key[0] != '\0'), PKID_E_CONFIG_BAD_VALUE, "EST "
	    "label %s: give both upstream_cert and upstream_key, or neither",
	    name);
	if (cfg->upstream_cert[0] != '\0') {
		PKID_TRY(pkid_x509_load_certs_file(cfg->upstream_cert,
		    &up->certs, e));
		PKID_TRY(pkid_x509_load_key_file(cfg->upstream_key, &up->key,
		    e));
		PKID_OSSL_PTR(up->chain = sk_X509_new_null(), PKID_E_NOMEM,
		    "no memory");
		for (i = 1; i < sk_X509_num(up->certs); i++)
			PKID_OSSL(sk_X509_push(up->chain,
			    sk_X509_value(up->certs, i)), PKID_E_NOMEM,
			    "no memory");
	}
	if (cfg->upstream_certsrv)
		PKID_OSSL_PTR(up->cs = pkid_certsrv_new(cfg, e), e->code,
		    "certsrv");
	pkid_log(PKID_LOG_INFO, "est label %s: registration authority for "
	    "%s (timeout %d s, %s)", name, cfg->upstream,
	    cfg->upstream_timeout, up->key != NULL ? "RA client certificate "
	    "from upstream_cert" : "no RA client certificate");
	PKID_TRY(revocation_new(up, name, e));
	PKID_OSSL_PTR(up->chains = pkid_ccache_new(0, e), e->code,
	    "no memory");
	rc = PKID_OK;
out:
	if (rc != PKID_OK) {
		pkid_err_ctx(e, "setting up the upstream of EST label %s",
		    name);
		pkid_est_ra_free(up);
		up = NULL;
	}
	return up;
}

void
pkid_est_ra_free(struct est_upstream *up)
{
	int i;

	if (up == NULL)
		return;
	for (i = 0; i < up->nidle; i++)
		pkid_https_free(up->idle[i]);
	sk_X509_pop_free(up->trust, X509_free);
	sk_X509_pop_free(up->certs, X509_free);
	sk_X509_free(up->chain);	/* members belong to certs */
	EVP_PKEY_free(up->key);
	X509_STORE_free(up->anchors);
	sk_X509_pop_free(up->cas, X509_free);
	pkid_ra_crl_free(up->crls);
	pkid_ccache_free(up->chains);
	pkid_certsrv_free(up->cs);
	pthread_mutex_destroy(&up->mu);
	free(up);
}

/* A kept-alive session, or a new one. */
static struct pkid_https *
take(struct est_upstream *up, struct pkid_err *e)
{
	struct pkid_https_opts o;
	struct pkid_https *h = NULL, *stale[PKID_EST_UPSTREAM_POOL];
	uint64_t now = pkid_mono_ms();
	int i, nstale = 0;

	pthread_mutex_lock(&up->mu);
	while (up->nidle > 0 && h == NULL) {
		up->nidle--;
		if (now - up->since[up->nidle] <
		    (uint64_t)PKID_EST_UPSTREAM_IDLE_S * 1000)
			h = up->idle[up->nidle];
		else
			stale[nstale++] = up->idle[up->nidle];
	}
	pthread_mutex_unlock(&up->mu);
	for (i = 0; i < nstale; i++)
		pkid_https_free(stale[i]);
	if (h != NULL)
		return h;
	memset(&o, 0, sizeof(o));
	o.url = up->cfg->upstream;
	o.trust = up->trust;
	o.cert = sk_X509_value(up->certs, 0);
	o.chain = up->chain;
	o.key = up->key;
	o.timeout_s = up->cfg->upstream_timeout;
	return pkid_https_new(&o, e);
}

/* Back to the pool (or freed when it is full). */
static void
give_back(struct est_upstream *up, struct pkid_https *h)
{
	pthread_mutex_lock(&up->mu);
	if (up->nidle < PKID_EST_UPSTREAM_POOL) {
		up->since[up->nidle] = pkid_mono_ms();
		up->idle[up->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&up->mu);
	pkid_https_free(h);
}

/* The upstream code for a failure the HTTPS client classified. */
static enum pkid_code
upstream_code(enum pkid_code c)
{
	switch (c) {
	case PKID_E_DNS_FAILURE:
		return PKID_E_UPSTREAM_DNS;
	case PKID_E_CONNECT_REFUSED:
	case PKID_E_NO_ROUTE:
		return PKID_E_UPSTREAM_REFUSED;
	case PKID_E_CONNECT_TIMEOUT:
		return PKID_E_UPSTREAM_TIMEOUT;
	case PKID_E_NAME_MISMATCH:
	case PKID_E_IP_NOT_IN_SAN:
		return PKID_E_UPSTREAM_NAME_MISMATCH;
	case PKID_E_EXPIRED:
	case PKID_E_NOT_YET_VALID:
	case PKID_E_CLOCK_SKEW:
		return PKID_E_UPSTREAM_CLOCK;
	case PKID_E_TLS_HANDSHAKE:
	case PKID_E_TLS_VERSION:
	case PKID_E_NO_SHARED_CIPHER:
		return PKID_E_UPSTREAM_TLS;
	case PKID_E_AUTH_REQUIRED:
	case PKID_E_AUTH_FAILED:
	case PKID_E_FORBIDDEN:
		return PKID_E_UPSTREAM_AUTH_FAILED;
	default:
		break;
	}
	if (((unsigned)c >> 16) == PKID_CAT_VERIFY)
		return PKID_E_UPSTREAM_UNTRUSTED;
	return PKID_E_UPSTREAM_BAD_RESPONSE;
}

/* Log a cause once (until it changes or the upstream works again). */
static void
log_cause(struct est_upstream *up, const struct pkid_err *e)
{
	char msg[1024];
	int fresh;

	pthread_mutex_lock(&up->mu);
	fresh = up->logged != e->code;
	up->logged = e->code;
	pthread_mutex_unlock(&up->mu);
	if (!fresh)
		return;
	if (e->code == PKID_OK) {
		pkid_log(PKID_LOG_INFO, "est upstream %s answers again",
		    up->cfg->upstream);
		return;
	}
	pkid_err_message(e, msg, sizeof(msg));
	pkid_log(PKID_LOG_ERROR, "est upstream %s: %s: %s; fix: %s (logged "
	    "once until the cause changes)", up->cfg->upstream,
	    pkid_err_id(e->code), msg, pkid_err_remedy(e->code));
}

/* The first line of an upstream body, for messages. */
static void
quote(const struct pkid_https_resp *r, char *out, size_t n)
{
	size_t len = r->body.len < n - 1 ? r->body.len : n - 1;
	char *nl;

	memcpy(out, r->body.p != NULL ? (const char *)r->body.p : "", len);
	out[len] = '\0';
	if ((nl = strchr(out, '\n')) != NULL)
		*nl = '\0';
}

/* The upstream's answer to the device. */
static enum pkid_code
relay(struct est_upstream *up, const char *op, struct pkid_https_resp *r,
    struct pkid_http_resp *resp, struct pkid_err *e)
{
	struct pkid_buf one;
	STACK_OF(X509) *certs = NULL;
	char q[240];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&one, 0, sizeof(one));
	quote(r, q, sizeof(q));
	PKID_CHECK(r->status != 401 && r->status != 403,
	    PKID_E_UPSTREAM_AUTH_FAILED, "upstream %s refused this RA's "
	    "credentials for %s: %d %s", up->cfg->upstream, op, r->status, q);
	PKID_CHECK(r->status == 200 || r->status == 202 || (r->status >= 400
	    && r->status < 500), PKID_E_UPSTREAM_BAD_RESPONSE, "upstream %s "
	    "answered %s with %d: %s", up->cfg->upstream, op, r->status, q);
	if (r->status == 200) {
		/* Relay only what is what it says: a certs-only PKCS#7. */
		if (pkid_est_certs_parse(r->body.p, r->body.len, &certs, e) !=
		    PKID_OK) {
			pkid_err_clear(e);
			PKID_CHECK(0, PKID_E_UPSTREAM_BAD_RESPONSE, "upstream "
			    "%s answered %s with 200 but no certs-only "
			    "PKCS#7 (%s)", up->cfg->upstream, op,
			    r->content_type);
		}
		/* Encoded anew on one line; the EST server lays it out for
		 * its client (pkid_est_resp_b64). */
		PKID_TRY(pkid_est_certs_b64(certs, &one, e));
		PKID_TRY(pkid_est_resp_b64(resp, PKID_EST_CT_CERTS, &one, 0,
		    e));
		rc = PKID_OK;
		goto out;
	}
	/* 202 + Retry-After (RFC 7030 4.2.3) and the upstream's client
	 * errors (bad CSR, policy) go to the device as they are. */
	PKID_TRY(pkid_http_resp_body(resp, r->content_type[0] ?
	    r->content_type : "text/plain", r->body.p, r->body.len, e));
	resp->status = r->status;
	if (r->retry_after[0] != '\0')
		pkid_http_resp_header(resp, "Retry-After", r->retry_after);
	rc = PKID_OK;
out:
	pkid_buf_free(&one);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/* One of the upstream-* codes (logged once per cause)? */
static int
is_upstream_code(enum pkid_code c)
{
	return (c >= PKID_E_UPSTREAM_UNTRUSTED &&
	    c <= PKID_E_UPSTREAM_BAD_RESPONSE) ||
	    c == PKID_E_UPSTREAM_LOGIN_FAILED ||
	    c == PKID_E_UPSTREAM_TEMPLATE || c == PKID_E_UPSTREAM_DENIED;
}

/*
 * An AD CS upstream (certsrv.c) answers as an EST upstream would: the
 * CA certificate for cacerts, 200 with the issued certificate (and its
 * chain), or 202 + Retry-After while a CA manager has not approved it.
 */
static enum pkid_code
certsrv_forward(struct est_upstream *up, const char *op,
    const struct pkid_buf *body, struct pkid_http_resp *resp,
    struct pkid_err *e)
{
	static const char wait[] = "the AD CS upstream holds the request for "
	    "a CA manager's approval; send the same request again later\n";
	STACK_OF(X509) *certs = NULL;
	struct pkid_buf der, one;
	X509_REQ *csr = NULL;
	char ra[16];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&der, 0, sizeof(der));
	memset(&one, 0, sizeof(one));
	if (strcmp(op, "cacerts") == 0)
		PKID_TRY(pkid_certsrv_cacerts(up->cs, &certs, e));
	else {
		PKID_CHECK(body != NULL, PKID_E_INTERNAL, "no request");
		PKID_TRY(pkid_base64_decode((const char *)body->p, body->len,
		    &der, PKID_MAX_CSR_SIZE, e));
		PKID_TRY(pkid_x509_load_csr(der.p, der.len, &csr, e));
		PKID_TRY(pkid_certsrv_enroll(up->cs, csr, &certs, e));
	}
	if (certs == NULL) {
		PKID_TRY(pkid_http_resp_body(resp, "text/plain", wait,
		    sizeof(wait) - 1, e));
		resp->status = 202;
		snprintf(ra, sizeof(ra), "%d", PKID_CERTSRV_RETRY_AFTER_S);
		pkid_http_resp_header(resp, "Retry-After", ra);
		rc = PKID_OK;
		goto out;
	}
	PKID_TRY(pkid_est_certs_b64(certs, &one, e));
	PKID_TRY(pkid_est_resp_b64(resp, PKID_EST_CT_CERTS, &one, 0, e));
	rc = PKID_OK;
out:
	pkid_buf_free(&der);
	pkid_buf_free(&one);
	X509_REQ_free(csr);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

enum pkid_code
pkid_est_ra_forward(struct est_upstream *up, const char *op,
    const struct pkid_buf *body, struct pkid_http_resp *resp,
    struct pkid_err *e)
{
	struct pkid_https *h = NULL;
	struct pkid_https_resp r;
	struct pkid_err ie;
	char path[64], msg[1024];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&r, 0, sizeof(r));
	pkid_err_clear(&ie);
	if (up->cs != NULL) {
		rc = certsrv_forward(up, op, body, resp, e);
		goto out;
	}
	snprintf(path, sizeof(path), "/%s", op);
	if ((h = take(up, &ie)) == NULL ||
	    pkid_https_request(h, body != NULL ? PKID_HTTP_POST :
	    PKID_HTTP_GET, path, body != NULL ? PKID_EST_CT_PKCS10 : NULL,
	    body != NULL ? body->p : NULL, body != NULL ? body->len : 0, &r,
	    &ie) != PKID_OK) {
		pkid_err_message(&ie, msg, sizeof(msg));
		rc = PKID_ERR(e, upstream_code(ie.code), "upstream %s, %s "
		    "phase: %s: %s", up->cfg->upstream, h != NULL ?
		    pkid_https_phase_name(pkid_https_phase(h)) : "setup",
		    pkid_err_id(ie.code), msg);
		goto out;
	}
	if ((rc = relay(up, op, &r, resp, e)) != PKID_OK)
		goto out;
	give_back(up, h);
	h = NULL;
	rc = PKID_OK;
out:
	if (rc == PKID_OK || is_upstream_code(e->code)) {
		log_cause(up, rc == PKID_OK ? &ie : e);
		pkid_trace_upstream(up->cfg->upstream, rc == PKID_OK ?
		    PKID_OK : e->code);
	}
	pkid_https_free(h);
	pkid_https_resp_free(&r);
	return rc;
}

void
pkid_est_ra_state(struct est_upstream *up, const char *path)
{
	if (up != NULL && up->cs != NULL)
		pkid_certsrv_state(up->cs, path);
}

const char *
pkid_est_ra_url(const struct est_upstream *up)
{
	return up->cfg->upstream;
}

/* The certificate of certs for the key of csr, up-referenced. */
static X509 *
cert_for(STACK_OF(X509) *certs, X509_REQ *csr)
{
	EVP_PKEY *want = NULL;
	X509 *c, *found = NULL;
	int i;

	if (pkid_csr_key(csr, &want, NULL) != PKID_OK)
		return NULL;
	for (i = 0; i < sk_X509_num(certs) && found == NULL; i++) {
		c = sk_X509_value(certs, i);
		if (EVP_PKEY_eq(X509_get0_pubkey(c), want) == 1 &&
		    X509_up_ref(c) == 1)
			found = c;
	}
	EVP_PKEY_free(want);
	return found;
}

/* simpleenroll csr upstream, the answer in resp; on 200 *cert is the
 * certificate for the CSR's key (up-referenced), else NULL. */
static enum pkid_code
enroll_into(struct est_upstream *up, X509_REQ *csr,
    struct pkid_http_resp *resp, X509 **cert, struct pkid_err *e)
{
	struct pkid_buf b64;
	STACK_OF(X509) *certs = NULL;
	unsigned char *der = NULL;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	*cert = NULL;
	memset(&b64, 0, sizeof(b64));
	PKID_OSSL((n = i2d_X509_REQ(csr, &der)), PKID_E_CRYPTO,
	    "encoding the request");
	PKID_TRY(pkid_base64_encode(der, (size_t)n, 0, &b64, e));
	PKID_TRY(pkid_est_ra_forward(up, "simpleenroll", &b64, resp, e));
	if (resp->status == 200) {
		PKID_TRY(pkid_est_certs_parse(resp->body.p, resp->body.len,
		    &certs, e));
		PKID_CHECK((*cert = cert_for(certs, csr)) != NULL,
		    PKID_E_UPSTREAM_BAD_RESPONSE, "upstream %s answered "
		    "simpleenroll with %d certificate(s), none for the "
		    "request's key", up->cfg->upstream, sk_X509_num(certs));
	}
	rc = PKID_OK;
out:
	sk_X509_pop_free(certs, X509_free);
	OPENSSL_free(der);
	pkid_buf_free(&b64);
	return rc;
}

/* The first line of an upstream answer held in resp, for messages. */
static void
quote_resp(const struct pkid_http_resp *resp, char *q, size_t len)
{
	size_t n = resp->body.len < len - 1 ? resp->body.len : len - 1;

	memcpy(q, resp->body.p != NULL ? (const char *)resp->body.p : "", n);
	q[n] = '\0';
	q[strcspn(q, "\r\n")] = '\0';
}

enum pkid_code
pkid_est_ra_enroll(struct est_upstream *up, X509_REQ *csr, X509 **cert,
    struct pkid_err *e)
{
	struct pkid_http_resp resp;
	char q[240];
	enum pkid_code rc = PKID_E_INTERNAL;

	*cert = NULL;
	pkid_http_resp_init(&resp);
	PKID_TRY(enroll_into(up, csr, &resp, cert, e));
	if (resp.status == 202) {
		/* RFC 7030 4.2.3: the same request again, later. */
		rc = PKID_OK;
		goto out;
	}
	quote_resp(&resp, q, sizeof(q));
	PKID_CHECK(resp.status == 200, PKID_E_UPSTREAM_BAD_RESPONSE,
	    "upstream %s refused simpleenroll: %d %s", up->cfg->upstream,
	    resp.status, q);
	rc = PKID_OK;
out:
	pkid_http_resp_free(&resp);
	return rc;
}

enum pkid_code
pkid_est_ra_keygen(struct est_upstream *up, X509_REQ *csr,
    struct pkid_http_resp *resp, X509 **cert, struct pkid_err *e)
{
	struct pkid_http_resp r;
	char q[240];
	enum pkid_code rc = PKID_E_INTERNAL;

	*cert = NULL;
	pkid_http_resp_init(&r);
	PKID_TRY(enroll_into(up, csr, &r, cert, e));
	if (*cert != NULL) {
		rc = PKID_OK;
		goto out;
	}
	/* A 202 cannot be relayed: the device would ask again, and the RA
	 * would generate another key, so another request, each time. */
	quote_resp(&r, q, sizeof(q));
	PKID_CHECK(r.status != 202, PKID_E_NOT_IMPLEMENTED, "upstream %s "
	    "holds serverkeygen's request for approval (202: %s), and pkid "
	    "keeps no generated key waiting; use simpleenroll with a key of "
	    "the device's own", up->cfg->upstream, q);
	/* The upstream's client error (bad request, policy) goes to the
	 * device as it is, as for simpleenroll. */
	pkid_http_resp_free(resp);
	*resp = r;
	pkid_http_resp_init(&r);
	rc = PKID_OK;
out:
	if (rc != PKID_OK) {
		X509_free(*cert);
		*cert = NULL;
	}
	pkid_http_resp_free(&r);
	return rc;
}

enum pkid_code
pkid_est_ra_cacerts(struct est_upstream *up, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	struct pkid_http_resp resp;
	STACK_OF(X509) *certs = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	pkid_http_resp_init(&resp);
	PKID_TRY(pkid_est_ra_forward(up, "cacerts", NULL, &resp, e));
	PKID_CHECK(resp.status == 200, PKID_E_UPSTREAM_BAD_RESPONSE,
	    "upstream %s answered cacerts with %d, want 200 (RFC 7030 "
	    "4.1.3)", up->cfg->upstream, resp.status);
	PKID_TRY(pkid_est_certs_parse(resp.body.p, resp.body.len, &certs, e));
	PKID_CHECK(sk_X509_num(certs) > 0 && sk_X509_num(certs) <=
	    PKID_MAX_CHAIN_DEPTH, PKID_E_UPSTREAM_BAD_RESPONSE, "upstream %s "
	    "answered cacerts with %d certificates (want 1 to %d)",
	    up->cfg->upstream, sk_X509_num(certs), PKID_MAX_CHAIN_DEPTH);
	*out = certs;
	certs = NULL;
	rc = PKID_OK;
out:
	sk_X509_pop_free(certs, X509_free);
	pkid_http_resp_free(&resp);
	return rc;
}

/* Whether to fetch the upstream's CA certificates now (up->mu held). */
static int
cas_due(const struct est_upstream *up, int refresh, uint64_t now)
{
	uint64_t retry = (uint64_t)PKID_EST_RA_CACERTS_RETRY_S * 1000;
	uint64_t age = now - up->cas_ms;

	/* Do not hold every request up on an upstream that just failed. */
	if (up->cas_failed_ms != 0 && now - up->cas_failed_ms < retry)
		return 0;
	if (up->cas == NULL ||
	    age >= (uint64_t)PKID_EST_RA_CACERTS_TTL_S * 1000)
		return 1;
	return refresh && age >= retry;
}

/* Keep what a fetch brought (fresh, taken) or why it failed (up->mu
 * held). */
static void
cas_update(struct est_upstream *up, STACK_OF(X509) *fresh,
    const struct pkid_err *fe, uint64_t now)
{
	if (fe->code != PKID_OK) {
		/* pkid_est_ra_forward logged the cause once. */
		up->cas_failed_ms = now;
		up->cas_last = *fe;
		if (up->cas != NULL)
			pkid_log(PKID_LOG_WARN, "est ra: upstream %s CA "
			    "certificates not refreshed (%s), the copy of "
			    "%llu s ago stays in use", up->cfg->upstream,
			    pkid_err_id(fe->code),
			    (unsigned long long)(now - up->cas_ms) / 1000);
		return;
	}
	sk_X509_pop_free(up->cas, X509_free);
	up->cas = fresh;
	up->cas_ms = now;
	up->cas_failed_ms = 0;
	pkid_log(PKID_LOG_INFO, "est ra: %d CA certificate(s) from upstream "
	    "%s, kept %d s", sk_X509_num(fresh), up->cfg->upstream,
	    PKID_EST_RA_CACERTS_TTL_S);
}

enum pkid_code
pkid_est_ra_cas(struct est_upstream *up, int refresh, STACK_OF(X509) **out,
    int *fetched, struct pkid_err *e)
{
	STACK_OF(X509) *fresh = NULL;
	struct pkid_err fe;
	uint64_t now = pkid_mono_ms();
	int due;
	enum pkid_code rc;

	*out = NULL;
	if (fetched != NULL)
		*fetched = 0;
	pkid_err_clear(&fe);
	pthread_mutex_lock(&up->mu);
	due = cas_due(up, refresh, now);
	pthread_mutex_unlock(&up->mu);
	/* The fetch blocks up to upstream_timeout and takes up->mu itself
	 * (the connection pool): not under the lock. */
	if (due)
		(void)pkid_est_ra_cacerts(up, &fresh, &fe);
	pthread_mutex_lock(&up->mu);
	if (due)
		cas_update(up, fresh, &fe, now);
	if (up->cas == NULL) {
		*e = up->cas_last;
		rc = e->code != PKID_OK ? e->code : PKID_ERR(e,
		    PKID_E_INTERNAL, "no upstream CA certificates");
	} else if ((*out = X509_chain_up_ref(up->cas)) == NULL) {
		rc = PKID_ERR(e, PKID_E_NOMEM, "no memory");
	} else {
		rc = PKID_OK;
		if (fetched != NULL)
			*fetched = due && fe.code == PKID_OK;
	}
	pthread_mutex_unlock(&up->mu);
	return rc;
}

/* The kept upstream CA certificates for verifying a device, or NULL when
 * none could be had (the verification then says so). */
static STACK_OF(X509) *
cas_get(struct est_upstream *up, int refresh)
{
	STACK_OF(X509) *cas = NULL;
	struct pkid_err e;

	pkid_err_clear(&e);
	(void)pkid_est_ra_cas(up, refresh, &cas, NULL, &e);
	return cas;
}

/* X509_verify_cert of leaf to up->anchors with sent and cas as
 * intermediates, through the chain cache (a device renewing again within
 * the cache's life costs a digest, not a path validation: issue 12);
 * *verr and *depth say why not. */
static enum pkid_code
verify_to(struct est_upstream *up, X509 *leaf, STACK_OF(X509) *sent,
    STACK_OF(X509) *cas, int *verr, int *depth, struct pkid_err *e)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	int i, n, hit = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	*verr = X509_V_ERR_UNSPECIFIED;
	*depth = 0;
	PKID_OSSL_PTR(untrusted = sk_X509_new_null(), PKID_E_NOMEM,
	    "no memory");
	for (i = 0; i < sk_X509_num(sent); i++)
		PKID_OSSL(sk_X509_push(untrusted, sk_X509_value(sent, i)),
		    PKID_E_NOMEM, "no memory");
	for (i = 0; i < sk_X509_num(cas); i++)
		PKID_OSSL(sk_X509_push(untrusted, sk_X509_value(cas, i)),
		    PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(ctx = X509_STORE_CTX_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_STORE_CTX_init(ctx, up->anchors, leaf, untrusted),
	    PKID_E_CRYPTO, "starting the client certificate check");
	X509_STORE_CTX_set_time(ctx, 0, pkid_now());
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(ctx),
	    PKID_MAX_CHAIN_DEPTH);
	n = pkid_ccache_verify(up->chains, 1, ctx, pkid_now(), &hit);
	PKID_CHECK(n >= 0, PKID_E_CRYPTO, "X509_verify_cert failed");
	*verr = n == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	*depth = X509_STORE_CTX_get_error_depth(ctx);
	rc = PKID_OK;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);	/* members belong to sent and cas */
	return rc;
}

enum pkid_code
pkid_est_ra_verify_client(struct est_upstream *up, X509 *leaf,
    STACK_OF(X509) *sent, struct pkid_err *e)
{
	STACK_OF(X509) *cas = NULL;
	char subj[256];
	int verr = X509_V_OK, depth = 0, n;
	enum pkid_code rc = PKID_E_INTERNAL;

	cas = cas_get(up, 0);
	PKID_TRY(verify_to(up, leaf, sent, cas, &verr, &depth, e));
	if (verr != X509_V_OK && verr != X509_V_ERR_CERT_HAS_EXPIRED &&
	    verr != X509_V_ERR_CERT_NOT_YET_VALID) {
		/* The upstream may have a new CA since the kept copy. */
		sk_X509_pop_free(cas, X509_free);
		cas = cas_get(up, 1);
		PKID_TRY(verify_to(up, leaf, sent, cas, &verr, &depth, e));
	}
	pkid_x509_name_text(X509_get_subject_name(leaf), subj, sizeof(subj));
	if (verr != X509_V_OK) {
		n = cas != NULL ? sk_X509_num(cas) : 0;
		rc = PKID_ERR(e, pkid_verify_map_x509_err(verr), "client "
		    "certificate %s does not verify to upstream %s (anchors "
		    "from upstream_cacert %s, %d CA certificate(s) from its "
		    "/cacerts): %s (depth %d)", subj, up->cfg->upstream,
		    up->cfg->upstream_cacert, n,
		    X509_verify_cert_error_string(verr), depth);
		e->depth = depth;
		goto out;
	}
	rc = pkid_est_ra_revocation(up, leaf, NULL, 0, e);
out:
	sk_X509_pop_free(cas, X509_free);
	return rc;
}

/* The CA certificate among cas and trust that issued and signed leaf
 * (borrowed from them), or NULL. */
static X509 *
issuer_of(STACK_OF(X509) *cas, STACK_OF(X509) *trust, X509 *leaf)
{
	STACK_OF(X509) *sets[2] = { cas, trust };
	X509 *c;
	int i, j;

	for (i = 0; i < 2; i++)
		for (j = 0; j < sk_X509_num(sets[i]); j++) {
			c = sk_X509_value(sets[i], j);
			if (X509_check_issued(c, leaf) == X509_V_OK &&
			    X509_verify(leaf, X509_get0_pubkey(c)) == 1)
				return c;
		}
	ERR_clear_error();
	return NULL;
}

enum pkid_code
pkid_est_ra_revocation(struct est_upstream *up, X509 *leaf, char *how,
    size_t len, struct pkid_err *e)
{
	STACK_OF(X509) *cas = NULL;
	X509 *iss;
	char serial[80];
	enum pkid_code rc = PKID_E_INTERNAL;

	if (up->crls == NULL) {
		if (how != NULL)
			snprintf(how, len, "revocation not checked "
			    "(upstream_revocation = off)");
		return PKID_OK;
	}
	cas = cas_get(up, 0);
	if ((iss = issuer_of(cas, up->trust, leaf)) == NULL) {
		/* The upstream may have a new CA since the kept copy. */
		sk_X509_pop_free(cas, X509_free);
		cas = cas_get(up, 1);
		iss = issuer_of(cas, up->trust, leaf);
	}
	pkid_x509_serial_hex(X509_get0_serialNumber(leaf), serial,
	    sizeof(serial));
	PKID_CHECK(iss != NULL, PKID_E_REVOCATION_UNKNOWN, "the issuer of "
	    "certificate serial %s is not among the CA certificates of "
	    "upstream %s (its /cacerts) or upstream_cacert, so its CRL "
	    "cannot be verified", serial, up->cfg->upstream);
	rc = pkid_ra_crl_check(up->crls, leaf, iss, how, len, e);
out:
	sk_X509_pop_free(cas, X509_free);
	return rc;
}

int
pkid_est_ra_retry_after(struct est_upstream *up, X509 *leaf)
{
	if (up == NULL || up->crls == NULL || leaf == NULL)
		return 0;
	return pkid_ra_crl_retry_after(up->crls, leaf);
}
