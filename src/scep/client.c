/*
 * client.c - the SCEP client's exchanges (RFC 8894 4): GetCACaps,
 * GetCACert, GetNextCACert, and an enrollment as PKCSReq or RenewalReq
 * followed by CertPolls while the server answers PENDING.
 */
#include "scep/client.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509v3.h>

#include "core/clock.h"
#include "scep/msg.h"
#include "x509/csr.h"

enum pkid_code
pkid_scep_client_new(const struct pkid_scep_client_cfg *cfg,
    struct pkid_scep_client **out, struct pkid_err *e)
{
	struct pkid_scep_client *c;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	c->cfg = *cfg;
	c->last_retry_after = -1;
	if (c->cfg.timeout_s <= 0)
		c->cfg.timeout_s = PKID_SCEP_CLIENT_TIMEOUT_S;
	if (c->cfg.poll_interval_s <= 0)
		c->cfg.poll_interval_s = 10;
	if (c->cfg.max_wait_s <= 0)
		c->cfg.max_wait_s = PKID_SCEP_DEFAULT_MAX_WAIT_S;
	pkid_scep_cas_init(&c->cas);
	PKID_CHECK(cfg->url != NULL && strncasecmp(cfg->url, "http://", 7) ==
	    0, PKID_E_USAGE, "--server wants http://host[:port]/path, not '%s'",
	    cfg->url != NULL ? cfg->url : "");
	if (cfg->compat) {
		/* Single DES lives in the legacy provider; loading one
		 * provider disables the implicit default, so load both. */
		PKID_OSSL_PTR(c->deflt = OSSL_PROVIDER_load(NULL, "default"),
		    PKID_E_CRYPTO, "cannot load OpenSSL's default provider");
		PKID_OSSL_PTR(c->legacy = OSSL_PROVIDER_load(NULL, "legacy"),
		    PKID_E_CRYPTO, "--compat needs OpenSSL's legacy provider "
		    "(single DES) and it cannot be loaded");
	}
	*out = c;
	c = NULL;
	rc = PKID_OK;
out:
	pkid_scep_client_free(c);
	return rc;
}

void
pkid_scep_client_free(struct pkid_scep_client *c)
{
	if (c == NULL)
		return;
	pkid_scep_cas_free(&c->cas);
	X509_STORE_free(c->anchors);
	X509_free(c->unverified);
	if (c->legacy != NULL)
		OSSL_PROVIDER_unload(c->legacy);
	if (c->deflt != NULL)
		OSSL_PROVIDER_unload(c->deflt);
	free(c);
}

static void
progress(struct pkid_scep_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
progress(struct pkid_scep_client *c, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	if (c->cfg.progress == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->cfg.progress(c->cfg.progress_arg, msg);
}

/* One exchange (pkid_scep_http_do), its status and Retry-After kept for
 * callers that schedule their own retries. */
static enum pkid_code
http_do(struct pkid_scep_client *c, const char *op, const char *msg,
    const struct pkid_buf *body, struct pkid_scep_http *h,
    struct pkid_err *e)
{
	enum pkid_code rc;

	rc = pkid_scep_http_do(c->cfg.url, op, msg, body, c->cfg.timeout_s,
	    c->cfg.busy_retries, h, e);
	c->last_status = h->status;
	c->last_retry_after = h->retry_after;
	return rc;
}

/* The first line of a body, at most 200 bytes, for a message. */
static int
first_line(const struct pkid_buf *b, const char **p)
{
	size_t n = 0;

	*p = b->p != NULL ? (const char *)b->p : "";
	while (n < b->len && n < 200 && (*p)[n] != '\n' && (*p)[n] != '\r')
		n++;
	return (int)n;
}

/* A status other than 200 as a catalogue code, with the server's text. */
static enum pkid_code
http_fail(const struct pkid_scep_client *c, const char *op,
    const struct pkid_scep_http *h, struct pkid_err *e)
{
	enum pkid_code code = PKID_E_HTTP_STATUS;
	const char *p;
	int n = first_line(&h->body, &p);

	if (h->status == 404)
		code = PKID_E_NO_ROUTE;
	else if (h->status == 405)
		code = PKID_E_METHOD_NOT_ALLOWED;
	return PKID_ERR(e, code, "%s %s: HTTP %d: %.*s", op, c->cfg.url,
	    h->status, n, p);
}

enum pkid_code
pkid_scep_client_caps(struct pkid_scep_client *c, struct pkid_buf *raw,
    struct pkid_err *e)
{
	struct pkid_scep_http h;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (raw != NULL)
		pkid_buf_init(raw, PKID_SCEP_CLIENT_MAX_RESPONSE);
	PKID_TRY(http_do(c, "GetCACaps", NULL, NULL, &h, e));
	/* RFC 8894 3.5.1: a server without GetCACaps may answer an error;
	 * that means "no capabilities", not a failure. */
	c->caps = h.status == 200 ? pkid_scep_caps_parse(h.body.p,
	    h.body.len) : 0;
	c->have_caps = 1;
	if (raw != NULL && h.status == 200)
		PKID_TRY(pkid_buf_append(raw, h.body.p, h.body.len, e));
	rc = PKID_OK;
out:
	pkid_buf_free(&h.body);
	return rc;
}

enum pkid_code
pkid_scep_client_cacert(struct pkid_scep_client *c, int next,
    struct pkid_scep_cas *out, struct pkid_err *e)
{
	struct pkid_scep_http h;
	const char *op = next ? "GetNextCACert" : "GetCACert";
	const char *p;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (out != NULL)
		pkid_scep_cas_init(out);
	/* The next CA's answer is checked against the current one. */
	if (next && c->cas.certs == NULL)
		PKID_TRY(pkid_scep_client_cacert(c, 0, NULL, e));
	PKID_TRY(http_do(c, op, c->cfg.ca_name, NULL, &h, e));
	if (next && h.status == 404) {
		n = first_line(&h.body, &p);
		PKID_CHECK(0, PKID_E_NO_NEXT_CA, "GetNextCACert %s: the "
		    "server has no next CA certificate yet (HTTP 404: %.*s)",
		    c->cfg.url, n, p);
	}
	if (h.status != 200) {
		rc = http_fail(c, op, &h, e);
		goto out;
	}
	if (!next)
		c->trusted = 0;	/* a new answer: check it again */
	rc = next ? pkid_scep_next_parse(h.body.p, h.body.len, &c->cas, out,
	    e) : pkid_scep_cas_parse(h.body.p, h.body.len, &c->cas, e);
	if (rc != PKID_OK)
		pkid_err_ctx(e, "while reading the %s answer (%s)", op,
		    h.ctype[0] != '\0' ? h.ctype : "no Content-Type");
out:
	pkid_buf_free(&h.body);
	return rc;
}

/* Caps, algorithms and CA certificates (checked against the pin),
 * once. */
static enum pkid_code
prepare(struct pkid_scep_client *c, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;

	if (!c->have_caps)
		PKID_TRY(pkid_scep_client_caps(c, NULL, e));
	PKID_TRY(pkid_scep_algs_pick(c->caps, c->cfg.compat, &c->algs, e));
	if (c->cas.certs == NULL)
		PKID_TRY(pkid_scep_client_cacert(c, 0, NULL, e));
	if (!c->trusted)
		PKID_TRY(pkid_scep_client_trust(c, e));
	rc = PKID_OK;
out:
	return rc;
}

/* Send one pkiMessage (POST when allowed, RFC 8894 4.3), check the
 * CertRep. */
static enum pkid_code
operation(struct pkid_scep_client *c, struct pkid_scep_txn *t, int type,
    const uint8_t *inner, size_t inner_len, struct pkid_scep_rep *rep,
    struct pkid_err *e)
{
	struct pkid_buf msg, b64;
	struct pkid_scep_http h;
	int post = (c->caps & PKID_SCEP_CAP_POST) != 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&b64, 1);
	memset(&h, 0, sizeof(h));
	PKID_TRY(pkid_scep_txn_message(t, type, inner, inner_len, &msg, e));
	if (!post)
		PKID_TRY(pkid_base64_encode(msg.p, msg.len, 0, &b64, e));
	PKID_TRY(http_do(c, "PKIOperation", post ? NULL : (const char *)b64.p,
	    post ? &msg : NULL, &h, e));
	if (h.status != 200) {
		rc = http_fail(c, pkid_scep_type_name(type), &h, e);
		goto out;
	}
	rc = pkid_scep_rep_check(t, &c->cas, c->cfg.compat, h.body.p,
	    h.body.len, rep, e);
out:
	pkid_buf_free(&h.body);
	pkid_buf_free(&b64);
	pkid_buf_free(&msg);
	return rc;
}

/* Did a certificate of cas issue x (name and signature)? */
static int
issued_by_cas(const struct pkid_scep_cas *cas, X509 *x)
{
	X509 *ca;
	int i;

	for (i = 0; i < sk_X509_num(cas->certs); i++) {
		ca = sk_X509_value(cas->certs, i);
		if (X509_check_issued(ca, x) == X509_V_OK &&
		    X509_verify(x, X509_get0_pubkey(ca)) == 1)
			return 1;
	}
	return 0;
}

/* The certificate of rep for csr's key, issued by the server's CA. */
static enum pkid_code
take_cert(struct pkid_scep_client *c, struct pkid_scep_rep *rep,
    X509_REQ *csr, X509 **out, struct pkid_err *e)
{
	X509 *x;
	EVP_PKEY *key = NULL;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_csr_key(csr, &key, e));
	for (i = 0; i < sk_X509_num(rep->certs); i++) {
		x = sk_X509_value(rep->certs, i);
		if (EVP_PKEY_eq(X509_get0_pubkey(x), key) != 1)
			continue;
		/* Issued: kept for the caller should a check below fail. */
		X509_free(c->unverified);
		PKID_OSSL(X509_up_ref(x), PKID_E_INTERNAL, "X509_up_ref");
		c->unverified = x;
		PKID_CHECK(issued_by_cas(&c->cas, x),
		    PKID_E_SCEP_REPLY_INVALID, "the certificate in the "
		    "CertRep is not signed by any CA certificate from "
		    "GetCACert");
		PKID_TRY(pkid_scep_client_verify_issued(c, x, e));
		*out = x;	/* the reference c->unverified held */
		c->unverified = NULL;
		rc = PKID_OK;
		goto out;
	}
	rc = PKID_ERR(e, PKID_E_SCEP_REPLY_INVALID, "RFC 8894 3.3.2: the "
	    "CertRep SUCCESS holds %d certificates, none for the requested "
	    "key", sk_X509_num(rep->certs));
out:
	EVP_PKEY_free(key);
	return rc;
}

/* The outcome of a final CertRep: the certificate, or the FAILURE. */
static enum pkid_code
settle(struct pkid_scep_client *c, const struct pkid_scep_txn *t,
    struct pkid_scep_rep *rep, X509_REQ *csr, X509 **out,
    struct pkid_err *e)
{
	if (rep->status == PKID_SCEP_SUCCESS)
		return take_cert(c, rep, csr, out, e);
	return PKID_ERR(e, pkid_scep_fail_code(rep->fail_info), "%s %s: "
	    "CertRep FAILURE, failInfo %s (%d), transactionID %s",
	    pkid_scep_type_name(t->type), c->cfg.url,
	    pkid_scep_fail_name(rep->fail_info), rep->fail_info, t->tid);
}

/* CertPoll (RFC 8894 3.3.3) until not PENDING or the budget is spent. */
static enum pkid_code
poll_pending(struct pkid_scep_client *c, struct pkid_scep_txn *t,
    X509_REQ *csr, struct pkid_scep_rep *rep, struct pkid_err *e)
{
	struct pkid_buf ias;
	time_t start = pkid_now();
	long pause = c->cfg.poll_interval_s;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_scep_iasubj_encode(X509_get_subject_name(c->cas.ca),
	    X509_REQ_get_subject_name(csr), &ias, e));
	for (n = 0; rep->status == PKID_SCEP_PENDING; n++) {
		PKID_CHECK(n < PKID_SCEP_MAX_POLLS && (long)(pkid_now() -
		    start) + pause <= c->cfg.max_wait_s,
		    PKID_E_REQUEST_PENDING, "%s: still PENDING after %d "
		    "polls over %lld s (transactionID %s); ask the CA operator "
		    "to approve it, then enroll again", c->cfg.url, n,
		    (long long)(pkid_now() - start), t->tid);
		progress(c, "PENDING (transactionID %s): polling in %ld s",
		    t->tid, pause);
		pkid_scep_sleep_jitter(pause * 1000L, 10);
		pkid_scep_rep_free(rep);
		PKID_TRY(operation(c, t, PKID_SCEP_CERTPOLL, ias.p, ias.len,
		    rep, e));
		pause = pause * 2 > PKID_SCEP_POLL_MAX_INTERVAL_S ?
		    PKID_SCEP_POLL_MAX_INTERVAL_S : pause * 2;
	}
	rc = PKID_OK;
out:
	pkid_buf_free(&ias);
	return rc;
}

enum pkid_code
pkid_scep_client_enroll(struct pkid_scep_client *c, X509_REQ *csr,
    EVP_PKEY *key, X509 *old, EVP_PKEY *old_key, X509 **out,
    struct pkid_err *e)
{
	struct pkid_scep_txn t;
	struct pkid_scep_rep rep;
	X509 *self = NULL;
	unsigned char *der = NULL;
	int n, type = old != NULL ? PKID_SCEP_RENEWALREQ : PKID_SCEP_PKCSREQ;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	memset(&rep, 0, sizeof(rep));
	PKID_TRY(prepare(c, e));
	PKID_CHECK(old == NULL || (c->caps & PKID_SCEP_CAP_RENEWAL),
	    PKID_E_NOT_IMPLEMENTED, "%s: GetCACaps does not list Renewal "
	    "(RFC 8894 3.5.2); enroll anew with a challenge", c->cfg.url);
	/* RFC 8894 2.3: a first request is signed by a self-signed
	 * certificate of the requested key; a renewal by the old one. */
	if (old == NULL)
		PKID_TRY(pkid_scep_selfsigned(key, X509_REQ_get_subject_name(
		    csr), c->algs.md, &self, e));
	PKID_TRY(pkid_scep_txn_init(&t, type, old != NULL ? old : self,
	    old != NULL ? old_key : key, c->cas.ra, &c->algs, e));
	PKID_CHECK((n = i2d_X509_REQ(csr, &der)) > 0, PKID_E_CRYPTO,
	    "encoding the CSR");
	progress(c, "%s (transactionID %s) to %s, %s and %s",
	    pkid_scep_type_name(type), t.tid, c->cfg.url,
	    EVP_CIPHER_get0_name(c->algs.cipher), EVP_MD_get0_name(
	    c->algs.md));
	PKID_TRY(operation(c, &t, type, der, (size_t)n, &rep, e));
	PKID_TRY(poll_pending(c, &t, csr, &rep, e));
	rc = settle(c, &t, &rep, csr, out, e);
out:
	pkid_scep_rep_free(&rep);
	OPENSSL_free(der);
	X509_free(self);
	return rc;
}
