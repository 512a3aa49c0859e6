/*
 * client.c - the EST client's operations (RFC 7030 4.1, 4.2, 4.5) over
 * the HTTPS session of http/client.h: bootstrap, cacerts, csrattrs,
 * enroll with 202 polling and 503 back-off, and the final check of the
 * certificate against the CA.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "core/clock.h"
#include "core/limits.h"
#include "est/client.h"
#include "est/msg.h"
#include "http/client.h"
#include "verify/verify.h"
#include "x509/load.h"

struct pkid_est_client {
	struct pkid_est_client_opts o;	/* options (borrowed members) */
	char base[PKID_DIAG_MAX_URL + 1]; /* server + /.well-known/est[/L] */
	STACK_OF(X509) *anchors;	/* owned: the trust in use */
	STACK_OF(X509) *cacerts;	/* owned: /cacerts, NULL until read */
	X509 *unverified;		/* owned: issued, then not accepted */
	struct pkid_https *s;		/* the session */
	int last_status;		/* status of the last answer, 0 none */
	int last_retry_after;		/* its Retry-After s, -1 none */
};

/* Keep the status and Retry-After of an answer for pkid_est_client_last. */
static void
remember(struct pkid_est_client *c, const struct pkid_https_resp *r)
{
	int64_t v;

	c->last_status = r->status;
	c->last_retry_after = -1;
	if (r->retry_after[0] != '\0' && pkid_parse_int(r->retry_after, 0,
	    PKID_CLIENT_MAX_RETRY_AFTER_S, &v, NULL) == PKID_OK)
		c->last_retry_after = (int)v;
}

void
pkid_est_client_last(const struct pkid_est_client *c, int *status,
    int *retry_after_s)
{
	*status = c->last_status;
	*retry_after_s = c->last_retry_after;
}

static void
note(struct pkid_est_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
note(struct pkid_est_client *c, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	if (c->o.note == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->o.note(c->o.note_arg, msg);
}

static enum pkid_code
session(struct pkid_est_client *c, STACK_OF(X509) *trust, int auth,
    struct pkid_https **out, struct pkid_err *e)
{
	struct pkid_https_opts ho;

	memset(&ho, 0, sizeof(ho));
	ho.url = c->base;
	ho.trust = trust;
	ho.timeout_s = c->o.timeout_s;
	ho.tls_max = c->o.tls_max;
	if (auth) {
		ho.cert = c->o.cert;
		ho.chain = c->o.chain;
		ho.key = c->o.cert_key;
		ho.user = c->o.user;
		ho.password = c->o.password;
	}
	*out = pkid_https_new(&ho, e);
	return *out != NULL ? PKID_OK : e->code;
}

/* "error: <id>: message" of a pkid error body: that code, else dflt. */
static enum pkid_code
status_err(const struct pkid_https_resp *r, const char *what,
    enum pkid_code dflt, struct pkid_err *e)
{
	const struct pkid_errinfo *ei = NULL;
	char body[300], id[64], *msg = body;
	size_t n = r->body.len < sizeof(body) - 1 ? r->body.len :
	    sizeof(body) - 1;
	char *nl;

	memcpy(body, r->body.p != NULL ? (const char *)r->body.p : "", n);
	body[n] = '\0';
	if ((nl = strchr(body, '\n')) != NULL)
		*nl = '\0';
	if (sscanf(body, "error: %63[a-z0-9-]:", id) == 1)
		ei = pkid_err_byid(id);
	/* Quote the server's message without its "error: <id>: ". */
	if (ei != NULL)
		msg = body + strlen("error: ") + strlen(id) + 1;
	while (*msg == ' ')
		msg++;
	return PKID_ERR(e, ei != NULL ? ei->code : dflt, "%s: the server "
	    "answered %d%s%s", what, r->status, msg[0] ? ": " : "", msg);
}

static int
hexval(int ch)
{
	return isdigit(ch) ? ch - '0' : tolower(ch) - 'a' + 10;
}

/* The CA certificate whose SHA-256 is fp (hex, ':' and spaces ignored). */
static X509 *
find_fp(STACK_OF(X509) *certs, const char *fp)
{
	char want[65], got[65];
	size_t n = 0;
	int i;

	for (; *fp != '\0' && n < 64; fp++) {
		if (*fp == ':' || *fp == ' ')
			continue;
		if (!isxdigit((unsigned char)*fp))
			return NULL;
		want[n++] = (char)("0123456789abcdef"[hexval(
		    (unsigned char)*fp)]);
	}
	want[n] = '\0';
	if (n != 64 || *fp != '\0')
		return NULL;
	for (i = 0; i < sk_X509_num(certs); i++) {
		pkid_x509_fingerprint(sk_X509_value(certs, i), got);
		if (strcmp(got, want) == 0)
			return sk_X509_value(certs, i);
	}
	return NULL;
}

/* Validate leaf (with the cacerts as intermediates) to the anchors. */
static enum pkid_code
check_to_anchors(struct pkid_est_client *c, X509 *leaf,
    enum pkid_verify_purpose purpose, const char *host, struct pkid_err *e)
{
	struct pkid_verify_ctx *vc = NULL;
	struct pkid_verify_result res;
	struct pkid_verify_opts vo;
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	memset(&res, 0, sizeof(res));
	PKID_CHECK((vc = pkid_verify_ctx_new(e)) != NULL, PKID_E_NOMEM,
	    "no memory");
	for (i = 0; i < sk_X509_num(c->anchors); i++)
		PKID_TRY(pkid_verify_add_trusted(vc,
		    sk_X509_value(c->anchors, i), e));
	for (i = 0; i < sk_X509_num(c->cacerts); i++)
		PKID_TRY(pkid_verify_add_untrusted(vc,
		    sk_X509_value(c->cacerts, i), e));
	pkid_verify_opts_init(&vo);
	vo.purpose = purpose;
	vo.host = host;
	rc = pkid_verify_run(vc, &vo, leaf, &res, e);
out:
	pkid_verify_result_clear(&res);
	pkid_verify_ctx_free(vc);
	return rc;
}

static enum pkid_code
fetch_cacerts(struct pkid_est_client *c, struct pkid_https *s,
    struct pkid_err *e)
{
	struct pkid_https_resp r;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&r, 0, sizeof(r));
	PKID_TRY(pkid_https_request(s, PKID_HTTP_GET, "/cacerts", NULL, NULL,
	    0, &r, e));
	remember(c, &r);
	if (r.status != 200) {
		rc = status_err(&r, "GET /cacerts", PKID_E_HTTP_STATUS, e);
		goto out;
	}
	sk_X509_pop_free(c->cacerts, X509_free);
	c->cacerts = NULL;
	PKID_TRY(pkid_est_certs_parse(r.body.p, r.body.len, &c->cacerts, e));
	rc = PKID_OK;
out:
	pkid_https_resp_free(&r);
	return rc;
}

/* RFC 7030 4.1.1: cacerts without trust, then the fingerprint decides,
 * and the TLS server's chain must reach the anchor it picked. */
static enum pkid_code
bootstrap(struct pkid_est_client *c, struct pkid_err *e)
{
	struct pkid_https *s = NULL;
	STACK_OF(X509) *peer;
	X509 *anchor;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(session(c, NULL, 0, &s, e));
	PKID_TRY(fetch_cacerts(c, s, e));
	anchor = find_fp(c->cacerts, c->o.fingerprint);
	PKID_CHECK(anchor != NULL, PKID_E_FINGERPRINT_MISMATCH, "none of "
	    "the %d CA certificates %s sent has the SHA-256 fingerprint %s",
	    sk_X509_num(c->cacerts), pkid_https_target(s), c->o.fingerprint);
	PKID_OSSL_PTR(c->anchors = sk_X509_new_null(), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL(sk_X509_push(c->anchors, anchor), PKID_E_NOMEM,
	    "no memory");
	X509_up_ref(anchor);
	peer = pkid_https_peer_chain(s);
	PKID_CHECK(sk_X509_num(peer) > 0, PKID_E_CERT_INVALID, "%s sent no "
	    "TLS certificate", pkid_https_target(s));
	if (check_to_anchors(c, sk_X509_value(peer, 0), PKID_PURPOSE_SERVER,
	    NULL, e) != PKID_OK) {
		rc = e->code;
		pkid_err_ctx(e, "the TLS certificate of %s does not chain to "
		    "the bootstrapped CA", pkid_https_target(s));
		goto out;
	}
	note(c, "bootstrapped trust: CA certificate %s", c->o.fingerprint);
	rc = PKID_OK;
out:
	pkid_https_free(s);
	return rc;
}

static enum pkid_code
make_base(struct pkid_est_client *c, struct pkid_err *e)
{
	const char *s = c->o.server;
	const char *l = c->o.label;
	size_t n;
	int w;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(s != NULL && s[0] != '\0', PKID_E_USAGE, "give --server "
	    "https://HOST[:PORT]");
	n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		n--;
	PKID_CHECK(l == NULL || strchr(l, '/') == NULL, PKID_E_USAGE,
	    "an EST label is one path segment, not '%s'", l);
	w = snprintf(c->base, sizeof(c->base), "%.*s/.well-known/est%s%s",
	    (int)n, s, l != NULL && l[0] ? "/" : "", l != NULL ? l : "");
	PKID_CHECK(w > 0 && (size_t)w < sizeof(c->base), PKID_E_USAGE,
	    "server URL too long");
	rc = PKID_OK;
out:
	return rc;
}

struct pkid_est_client *
pkid_est_client_new(const struct pkid_est_client_opts *o, struct pkid_err *e)
{
	struct pkid_est_client *c = calloc(1, sizeof(*c));
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	PKID_OSSL_PTR(c, PKID_E_NOMEM, "no memory");
	c->o = *o;
	c->last_retry_after = -1;
	PKID_TRY(make_base(c, e));
	PKID_CHECK(o->trust != NULL || o->fingerprint != NULL, PKID_E_USAGE,
	    "give --cacert FILE or --bootstrap-fingerprint SHA256");
	if (o->trust == NULL) {
		PKID_TRY(bootstrap(c, e));
	} else {
		PKID_OSSL_PTR(c->anchors = sk_X509_new_null(), PKID_E_NOMEM,
		    "no memory");
		for (i = 0; i < sk_X509_num(o->trust); i++) {
			PKID_OSSL(sk_X509_push(c->anchors,
			    sk_X509_value(o->trust, i)), PKID_E_NOMEM,
			    "no memory");
			X509_up_ref(sk_X509_value(o->trust, i));
		}
	}
	PKID_TRY(session(c, c->anchors, 1, &c->s, e));
	rc = PKID_OK;
out:
	if (rc != PKID_OK) {
		pkid_est_client_free(c);
		c = NULL;
	}
	return c;
}

void
pkid_est_client_free(struct pkid_est_client *c)
{
	if (c == NULL)
		return;
	pkid_https_free(c->s);
	sk_X509_pop_free(c->anchors, X509_free);
	sk_X509_pop_free(c->cacerts, X509_free);
	X509_free(c->unverified);
	free(c);
}

X509 *
pkid_est_client_unverified(const struct pkid_est_client *c,
    STACK_OF(X509) **cas)
{
	*cas = c->cacerts;
	return c->unverified;
}

enum pkid_code
pkid_est_client_cacerts(struct pkid_est_client *c, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_OK;

	*out = NULL;
	if (c->cacerts == NULL)
		rc = fetch_cacerts(c, c->s, e);
	if (rc == PKID_OK)
		*out = c->cacerts;
	return rc;
}

/* GET csrattrs: 1 when the server wants the channel binding. */
static enum pkid_code
wants_binding(struct pkid_est_client *c, int *want, struct pkid_err *e)
{
	struct pkid_https_resp r;
	enum pkid_code rc = PKID_E_INTERNAL;

	*want = 0;
	PKID_TRY(pkid_https_request(c->s, PKID_HTTP_GET, "/csrattrs", NULL,
	    NULL, 0, &r, e));
	remember(c, &r);
	/* RFC 7030 4.5.2: 204 or 404 mean "nothing in particular". */
	if (r.status == 200)
		*want = pkid_est_csrattrs_wants_cb(r.body.p, r.body.len) == 1;
	rc = PKID_OK;
out:
	pkid_https_resp_free(&r);
	return rc;
}

/* The request body: the CSR, with this connection's binding if asked. */
static enum pkid_code
csr_body(struct pkid_est_client *c, int want_cb, EVP_PKEY *key,
    const struct pkid_est_csr_spec *spec, struct pkid_buf *out,
    struct pkid_err *e)
{
	uint8_t cb[64];
	size_t cblen = sizeof(cb);
	const char *type;
	X509_REQ *csr = NULL;
	unsigned char *der = NULL;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (want_cb)
		PKID_TRY(pkid_https_channel_binding(c->s, cb, &cblen, &type,
		    e));
	PKID_TRY(pkid_est_csr_build(key, spec, want_cb ? cb : NULL, cblen,
	    &csr, e));
	PKID_OSSL((n = i2d_X509_REQ(csr, &der)), PKID_E_CRYPTO,
	    "encoding the request");
	pkid_buf_free(out);
	PKID_TRY(pkid_base64_encode(der, (size_t)n, 0, out, e));
	rc = PKID_OK;
out:
	OPENSSL_free(der);
	X509_REQ_free(csr);
	return rc;
}

/* Seconds to wait: Retry-After (delta-seconds) bounded, else dflt. */
static int
retry_after(const struct pkid_https_resp *r, int dflt, int cap)
{
	struct pkid_err e;
	int64_t v;

	pkid_err_clear(&e);
	if (r->retry_after[0] == '\0' || pkid_parse_int(r->retry_after, 0,
	    PKID_EST_POLL_MAX_INTERVAL_S, &v, &e) != PKID_OK)
		v = dflt;
	if (cap > 0 && v > cap)
		v = cap;
	return v < 1 ? 1 : (int)v;
}

/* 503: exponential back-off with up to 100% random jitter. */
static int
backoff(const struct pkid_https_resp *r, int attempt)
{
	unsigned char rnd = 0;
	int base = PKID_EST_503_BACKOFF_S << attempt;

	if (r->retry_after[0] != '\0')
		return retry_after(r, base, PKID_EST_POLL_MAX_INTERVAL_S);
	(void)RAND_bytes(&rnd, 1);
	return base + (base * rnd) / 255;
}

static void
pause_s(int s)
{
	struct timespec ts = { s, 0 };

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* What one POST gave. */
enum post_state {
	POST_DONE,	/* certificates in *certs */
	POST_PENDING,	/* 202: wait and send the same request again */
	POST_BUSY,	/* 503: back off and send it again */
};

static enum pkid_code
post_once(struct pkid_est_client *c, int reenroll, const struct pkid_buf *b,
    enum post_state *st, int *wait, int busy, STACK_OF(X509) **certs,
    struct pkid_err *e)
{
	const char *op = reenroll ? "/simplereenroll" : "/simpleenroll";
	struct pkid_https_resp r;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_https_request(c->s, PKID_HTTP_POST, op,
	    PKID_EST_CT_PKCS10, b->p, b->len, &r, e));
	remember(c, &r);
	switch (r.status) {
	case 200:
		*st = POST_DONE;
		rc = pkid_est_certs_parse(r.body.p, r.body.len, certs, e);
		break;
	case 202:
		/* RFC 7030 4.2.3: Retry-After, then the same request. */
		*st = POST_PENDING;
		*wait = retry_after(&r, PKID_EST_RETRY_AFTER_S,
		    c->o.poll_interval_s);
		rc = PKID_OK;
		break;
	case 503:
		/* The caller schedules the retry itself (pkictl agent). */
		if (c->o.busy_retries < 0) {
			rc = status_err(&r, op + 1, PKID_E_RATE_LIMITED, e);
			break;
		}
		*st = POST_BUSY;
		*wait = backoff(&r, busy);
		rc = PKID_OK;
		break;
	case 401:
		rc = status_err(&r, op + 1, PKID_E_AUTH_FAILED, e);
		break;
	case 403:
		rc = status_err(&r, op + 1, PKID_E_FORBIDDEN, e);
		break;
	default:
		rc = status_err(&r, op + 1, PKID_E_HTTP_STATUS, e);
		break;
	}
out:
	pkid_https_resp_free(&r);
	return rc;
}

/* Wait for the next try, or fail when the budget is spent. */
static enum pkid_code
next_try(struct pkid_est_client *c, enum post_state st, int wait,
    int *polls, int *busy, uint64_t deadline, struct pkid_err *e)
{
	int retries = c->o.busy_retries > 0 ? c->o.busy_retries :
	    PKID_EST_503_RETRIES;

	if (st == POST_BUSY) {
		if (++*busy > retries)
			return PKID_ERR(e, PKID_E_RATE_LIMITED, "the server "
			    "was busy (503) %d times in a row", retries + 1);
		note(c, "server busy (503); trying again in %d s", wait);
	} else {
		if (++*polls > PKID_EST_MAX_POLLS || pkid_mono_ms() +
		    (uint64_t)wait * 1000 > deadline)
			return PKID_ERR(e, PKID_E_REQUEST_PENDING, "the "
			    "request still waits for approval after %d polls; "
			    "run the same command again later", *polls - 1);
		note(c, "request waits for approval (202); polling again in "
		    "%d s", wait);
	}
	pause_s(wait);
	return PKID_OK;
}

/* The certificate for key among certs, verified to the anchors. */
static enum pkid_code
pick_and_check(struct pkid_est_client *c, STACK_OF(X509) *certs,
    EVP_PKEY *key, X509 **out, struct pkid_err *e)
{
	STACK_OF(X509) *ca;
	X509 *leaf = NULL;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	for (i = 0; i < sk_X509_num(certs) && leaf == NULL; i++)
		if (EVP_PKEY_eq(X509_get0_pubkey(sk_X509_value(certs, i)),
		    key) == 1)
			leaf = sk_X509_value(certs, i);
	PKID_CHECK(leaf != NULL, PKID_E_KEY_MISMATCH, "none of the %d "
	    "certificates the server returned holds the request's public "
	    "key", sk_X509_num(certs));
	/* Issued: kept, so a failure from here on loses nothing. */
	X509_free(c->unverified);
	X509_up_ref(leaf);
	c->unverified = leaf;
	PKID_TRY(pkid_est_client_cacerts(c, &ca, e));
	if (check_to_anchors(c, leaf, PKID_PURPOSE_ANY, NULL, e) != PKID_OK) {
		rc = e->code;
		pkid_err_ctx(e, "checking the certificate the server issued");
		goto out;
	}
	X509_up_ref(leaf);
	*out = leaf;
	X509_free(c->unverified);
	c->unverified = NULL;
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_est_client_enroll(struct pkid_est_client *c, int reenroll,
    EVP_PKEY *key, const struct pkid_est_csr_spec *spec, X509 **out,
    struct pkid_err *e)
{
	STACK_OF(X509) *certs = NULL;
	struct pkid_buf body;
	enum post_state st = POST_DONE;
	uint64_t deadline;
	int want_cb = 0, polls = 0, busy = 0, wait = 0, first = 1;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	memset(&body, 0, sizeof(body));
	deadline = pkid_mono_ms() + (uint64_t)(c->o.max_wait_s > 0 ?
	    c->o.max_wait_s : PKID_EST_DEFAULT_MAX_WAIT_S) * 1000;
	PKID_TRY(wants_binding(c, &want_cb, e));
	for (;;) {
		/* A binding belongs to one connection: after a pause the
		 * connection may be new, so the request is made again. */
		if (want_cb && !first)
			PKID_TRY(wants_binding(c, &want_cb, e));
		if (first || want_cb)
			PKID_TRY(csr_body(c, want_cb, key, spec, &body, e));
		first = 0;
		PKID_TRY(post_once(c, reenroll, &body, &st, &wait, busy,
		    &certs, e));
		if (st == POST_DONE)
			break;
		PKID_TRY(next_try(c, st, wait, &polls, &busy, deadline, e));
	}
	PKID_TRY(pick_and_check(c, certs, key, out, e));
	rc = PKID_OK;
out:
	sk_X509_pop_free(certs, X509_free);
	pkid_buf_free(&body);
	return rc;
}
