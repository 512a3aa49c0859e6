/*
 * server.c - the EST operations (RFC 7030 4): a parsed request in, a
 * response out. Authentication lives in auth.c, encodings in msg.c.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ca/policy.h"
#include "core/log.h"
#include "core/trace.h"
#include "est/est_int.h"
#include "est/msg.h"
#include "x509/csr.h"
#include "x509/load.h"

#define EST_PREFIX "/.well-known/est/"

/* One request being answered. */
struct est_call {
	struct pkid_est *est;			/* server state */
	const struct pkid_http_req *req;	/* the request */
	struct pkid_http_resp *resp;		/* the response */
	const struct est_label *label;		/* resolved label */
	enum est_op op;				/* resolved operation */
	struct est_peer peer;			/* who asked */
	int lines;				/* base64 in lines of 64 */
	struct pkid_err e;			/* the first failure */
};

static const struct {
	const char *name;	/* path segment */
	enum est_op op;		/* operation */
	unsigned methods;	/* allowed methods */
} ops[] = {
	{ "cacerts", EST_CACERTS, PKID_HTTP_GET | PKID_HTTP_HEAD },
	{ "simpleenroll", EST_SIMPLEENROLL, PKID_HTTP_POST },
	{ "simplereenroll", EST_SIMPLEREENROLL, PKID_HTTP_POST },
	{ "fullcmc", EST_FULLCMC, PKID_HTTP_POST },
	{ "serverkeygen", EST_SERVERKEYGEN, PKID_HTTP_POST },
	{ "csrattrs", EST_CSRATTRS, PKID_HTTP_GET | PKID_HTTP_HEAD },
};

static const char *
op_name(enum est_op op)
{
	size_t i;

	for (i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op == op)
			return ops[i].name;
	return "?";
}

/* HTTP status for a failure code (RFC 7030 4.2.3: 4xx/5xx). */
static int
status_for(enum pkid_code code)
{
	switch (code) {
	case PKID_E_AUTH_REQUIRED:
	case PKID_E_AUTH_FAILED:
		return 401;
	case PKID_E_CONTENT_TYPE:
		return 415;
	case PKID_E_TOO_LARGE:
		return 413;
	case PKID_E_NO_ROUTE:
		return 404;
	case PKID_E_METHOD_NOT_ALLOWED:
		return 405;
	case PKID_E_NOT_IMPLEMENTED:
		return 501;
	case PKID_E_FORBIDDEN:
	case PKID_E_IDENTITY_MISMATCH:
	case PKID_E_KEY_COMPROMISED:
	case PKID_E_HTTPS_REQUIRED:
	case PKID_E_REQUEST_REJECTED:
	case PKID_E_CHANNEL_BINDING_MISMATCH:
	case PKID_E_REVOKED:
		return 403;
	case PKID_E_AUTH_THROTTLED:
		return 429;	/* RFC 6585 4, with Retry-After */
	case PKID_E_STORE_BUSY:
	case PKID_E_STORE_UNAVAILABLE:
	case PKID_E_RATE_LIMITED:
		return 503;
	case PKID_E_UPSTREAM_TIMEOUT:
		return 504;
	case PKID_E_UPSTREAM_UNTRUSTED:
	case PKID_E_UPSTREAM_NAME_MISMATCH:
	case PKID_E_UPSTREAM_DNS:
	case PKID_E_UPSTREAM_REFUSED:
	case PKID_E_UPSTREAM_AUTH_FAILED:
	case PKID_E_UPSTREAM_CLOCK:
	case PKID_E_UPSTREAM_TLS:
	case PKID_E_UPSTREAM_BAD_RESPONSE:
	case PKID_E_UPSTREAM_LOGIN_FAILED:
	case PKID_E_UPSTREAM_TEMPLATE:
		return 502;
	case PKID_E_UPSTREAM_DENIED:
		return 403;
	default:
		break;
	}
	switch ((unsigned)code >> 16) {
	case PKID_CAT_PARSE:
	case PKID_CAT_POLICY:
		return 400;
	case PKID_CAT_VERIFY:
		return 403;
	default:
		return 500;
	}
}

/* An operation that asks for a certificate. */
static int
is_enroll(enum est_op op)
{
	return op == EST_SIMPLEENROLL || op == EST_SIMPLEREENROLL ||
	    op == EST_SERVERKEYGEN;
}

/* Answer with c->e; audit refusals (not the bare 401 of a client that
 * has not sent credentials yet: that is HTTP Basic's first leg; nor each
 * auth-throttled one: auth.c audits a lock-out once, when it starts). */
static void
fail(struct est_call *c)
{
	struct pkid_err ae;
	char msg[1024], ra[16];
	int status = status_for(c->e.code), retry = 0;

	/* RA mode: a renewal whose revocation could not be looked up for
	 * a reason that passes (CRL server down, CRL expired) may be sent
	 * again later: 503 + Retry-After, else 403 (ra_crl.c). */
	if (c->e.code == PKID_E_REVOCATION_UNKNOWN && c->label != NULL)
		retry = pkid_est_ra_retry_after(c->label->up,
		    c->req->peer_cert);
	/* The database is away (restarting, a failover): try again soon;
	 * pkid reconnects by itself. */
	if (c->e.code == PKID_E_STORE_UNAVAILABLE ||
	    c->e.code == PKID_E_STORE_BUSY) {
		unsigned char j = 0;

		/* Spread the retries of many clients a little. */
		(void)RAND_bytes(&j, 1);
		retry = PKID_PG_RETRY_AFTER_S + j % (PKID_PG_RETRY_AFTER_S + 1);
	}
	if (retry > 0)
		status = 503;
	pkid_http_resp_error(c->resp, status, &c->e);
	if (is_enroll(c->op))
		pkid_trace_fail(status >= 500 ? PKID_TRACE_FAILED :
		    PKID_TRACE_REFUSED, &c->e);
	if (retry > 0) {
		snprintf(ra, sizeof(ra), "%d", retry);
		pkid_http_resp_header(c->resp, "Retry-After", ra);
	}
	if (status == 401)
		pkid_http_resp_header(c->resp, "WWW-Authenticate",
		    "Basic realm=\"pkid EST\"");
	if (status == 405)
		pkid_http_resp_header(c->resp, "Allow", c->op == EST_CACERTS ||
		    c->op == EST_CSRATTRS ? "GET, HEAD" : "POST");
	if (c->e.code == PKID_E_AUTH_THROTTLED) {
		snprintf(ra, sizeof(ra), "%d", c->peer.retry_s > 0 ?
		    c->peer.retry_s : 1);
		pkid_http_resp_header(c->resp, "Retry-After", ra);
		return;	/* the access log has the line; no flood here */
	}
	pkid_err_message(&c->e, msg, sizeof(msg));
	/* ra.c and ra_crl.c log each upstream cause once, not every
	 * request. */
	if (status != 502 && status != 504 &&
	    c->e.code != PKID_E_REVOCATION_UNKNOWN)
		pkid_log(status >= 500 ? PKID_LOG_ERROR : PKID_LOG_INFO,
		    "est %s %s from %s: %d %s: %s", c->label != NULL &&
		    c->label->cfg->name[0] ? c->label->cfg->name : "-",
		    op_name(c->op), c->req->client_addr != NULL ?
		    c->req->client_addr : "?", status,
		    pkid_err_id(c->e.code), msg);
	if (c->e.code == PKID_E_AUTH_REQUIRED || status == 404 ||
	    status == 405)
		return;
	pkid_err_clear(&ae);
	if (pkid_store_audit(c->est->ca->store, c->peer.who[0] ?
	    c->peer.who : "est:anonymous", op_name(c->op), c->label != NULL &&
	    c->label->cfg->name[0] ? c->label->cfg->name : "est", "refused",
	    msg, &ae) != PKID_OK)
		pkid_log_err(PKID_LOG_WARN, &ae, "est audit");
}

/* "[label/]op" below the prefix into label and op. */
static enum pkid_code
route(struct est_call *c)
{
	struct pkid_err *e = &c->e;
	const char *rest = c->req->path + strlen(EST_PREFIX), *slash;
	char label[64] = "";
	size_t i, n;
	int found = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	slash = strchr(rest, '/');
	if (slash != NULL) {
		n = (size_t)(slash - rest);
		PKID_CHECK(n > 0 && n < sizeof(label), PKID_E_NO_ROUTE,
		    "no EST label in %s", c->req->path);
		memcpy(label, rest, n);
		label[n] = '\0';
		rest = slash + 1;
	}
	for (i = 0; i < (size_t)c->est->n_labels && c->label == NULL; i++)
		if (strcmp(c->est->labels[i].cfg->name, label) == 0)
			c->label = &c->est->labels[i];
	PKID_CHECK(c->label != NULL, PKID_E_NO_ROUTE, "no EST label '%s' "
	    "here; configure [est %s] in pkid.conf", label, label);
	for (i = 0; i < sizeof(ops) / sizeof(ops[0]) && !found; i++) {
		if (strcmp(ops[i].name, rest) != 0)
			continue;
		found = 1;
		c->op = ops[i].op;
		PKID_CHECK(c->req->method & ops[i].methods,
		    PKID_E_METHOD_NOT_ALLOWED, "EST %s takes %s, not %s",
		    ops[i].name, ops[i].methods & PKID_HTTP_GET ? "GET" :
		    "POST", pkid_http_method_name(c->req->method));
	}
	PKID_CHECK(found, PKID_E_NO_ROUTE, "no EST operation '%s' (RFC 7030 "
	    "3.2.2: cacerts, simpleenroll, simplereenroll, fullcmc, "
	    "serverkeygen, csrattrs)", rest);
	rc = PKID_OK;
out:
	return rc;
}

/* RFC 7030 3.5: challengePassword = base64 of the channel binding. */
static enum pkid_code
check_binding(struct est_call *c, X509_REQ *csr)
{
	struct pkid_err *e = &c->e;
	uint8_t cb[PKID_HTTP_CB_MAX];
	size_t cblen = sizeof(cb);
	char pw[256];
	const char *type = NULL;
	struct pkid_buf want;
	int present = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&want, 0, sizeof(want));
	if (c->label->cfg->channel_binding == PKID_CB_OFF)
		return PKID_OK;
	PKID_TRY(pkid_est_csr_challenge(csr, pw, sizeof(pw), &present, e));
	if (!present && c->label->cfg->channel_binding == PKID_CB_OPTIONAL)
		return PKID_OK;
	PKID_CHECK(present, PKID_E_CHANNEL_BINDING_MISMATCH, "this EST label "
	    "requires the TLS channel binding as challengePassword, and the "
	    "request has none");
	PKID_TRY(pkid_http_req_channel_binding(c->req, cb, &cblen, &type,
	    e));
	PKID_TRY(pkid_base64_encode(cb, cblen, 0, &want, e));
	PKID_CHECK(strlen(pw) == want.len && CRYPTO_memcmp(pw, want.p,
	    want.len) == 0, PKID_E_CHANNEL_BINDING_MISMATCH, "the "
	    "request's challengePassword is not this connection's %s value",
	    type != NULL ? type : "channel binding");
	rc = PKID_OK;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	pkid_buf_free(&want);
	return rc;
}

/*
 * The certificate whose names this request must keep, NULL when its
 * credential may ask for any name inside the profile's limits (README
 * "Security model"): a client certificate this CA issued (or, for
 * simplereenroll through an RA, the upstream) renews only its own subject
 * and SANs, whether the operation is simplereenroll (RFC 7030 4.2.2) or
 * simpleenroll/serverkeygen. A certificate from the label's client_ca
 * (a manufacturer's bootstrap certificate), an RA's certificate from this
 * CA (id-kp-cmcRA: it asks on behalf of devices) and an EST user are
 * bootstrap credentials. allow_subject_change = yes lifts the binding
 * (opt-in, warned about at start).
 */
static X509 *
bound_cert(const struct est_call *c)
{
	X509 *x = c->req->peer_cert;

	if (x == NULL || c->label->cfg->allow_subject_change)
		return NULL;
	if (c->op == EST_SIMPLEREENROLL)
		return x;
	if (c->peer.cert_own && !pkid_cert_is_ra(x))
		return x;
	return NULL;
}

/* Content type, body, signature, channel binding, identity. */
static enum pkid_code
read_csr(struct est_call *c, X509_REQ **out)
{
	struct pkid_err *e = &c->e;
	X509_REQ *csr = NULL;
	EVP_PKEY *pk = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_CHECK(pkid_est_media_is(c->req->content_type,
	    PKID_EST_CT_PKCS10), PKID_E_CONTENT_TYPE, "EST %s wants "
	    "Content-Type: application/pkcs10 (RFC 7030 4.2.1), not '%s'",
	    op_name(c->op), c->req->content_type != NULL ?
	    c->req->content_type : "(none)");
	PKID_TRY(pkid_est_csr_decode(c->req->body, c->req->body_len, &csr,
	    e));
	{
		char subj[256];

		pkid_trace_subject(pkid_x509_name_text(
		    X509_REQ_get_subject_name(csr), subj, sizeof(subj)));
	}
	/* Proof of possession (RFC 7030 3.4). A request this CA issues
	 * from has it checked once, by pkid_ca_enroll; one that is
	 * forwarded or rekeyed is checked here. */
	if (c->label->up != NULL || c->op == EST_SERVERKEYGEN) {
		PKID_TRY(pkid_csr_key(csr, &pk, e));
		PKID_CHECK(X509_REQ_verify(csr, pk) == 1,
		    PKID_E_CSR_BAD_SIGNATURE, "the request's signature does "
		    "not verify with its own public key");
	}
	PKID_TRY(check_binding(c, csr));
	/* A request this CA issues from has its identity checked on the
	 * certificate's final names (pkid_ca_check); one passed upstream
	 * as it is, here. */
	if (c->label->up != NULL && bound_cert(c) != NULL)
		PKID_TRY(pkid_policy_csr_same_identity(csr, bound_cert(c), e));
	*out = csr;
	csr = NULL;
	rc = PKID_OK;
out:
	EVP_PKEY_free(pk);
	X509_REQ_free(csr);
	return rc;
}

static enum pkid_code
send_cert(struct est_call *c, X509 *cert)
{
	STACK_OF(X509) *one = sk_X509_new_null();
	struct pkid_buf b64;
	enum pkid_code rc = PKID_E_INTERNAL;
	struct pkid_err *e = &c->e;

	memset(&b64, 0, sizeof(b64));
	PKID_OSSL_PTR(one, PKID_E_NOMEM, "no memory");
	PKID_OSSL(sk_X509_push(one, cert), PKID_E_NOMEM, "no memory");
	PKID_TRY(pkid_est_certs_b64(one, &b64, e));
	PKID_TRY(pkid_est_resp_b64(c->resp, PKID_EST_CT_CERTS, &b64, c->lines,
	    e));
	rc = PKID_OK;
out:
	sk_X509_free(one);
	pkid_buf_free(&b64);
	return rc;
}

/* The outcome of an upstream's answer relayed to the device: issued,
 * pending, or refused with the code its "error: CODE:" body names. */
static void
relayed_result(struct pkid_http_resp *resp)
{
	const struct pkid_errinfo *ei = NULL;
	struct pkid_err e;
	char id[64];
	size_t n = 0;

	if (resp->status == 200) {
		pkid_trace_result(PKID_TRACE_ISSUED, PKID_OK);
		return;
	}
	if (resp->status == 202) {
		pkid_trace_result(PKID_TRACE_PENDING, PKID_OK);
		return;
	}
	if (resp->body.len > 7 && memcmp(resp->body.p, "error: ", 7) == 0) {
		while (n + 1 < sizeof(id) && 7 + n < resp->body.len &&
		    resp->body.p[7 + n] != ':')
			n++;
		memcpy(id, resp->body.p + 7, n);
		id[n] = '\0';
		ei = pkid_err_byid(id);
	}
	pkid_err_clear(&e);
	PKID_ERR(&e, ei != NULL ? ei->code : PKID_E_REQUEST_REJECTED, "the "
	    "upstream refused the request: %d", resp->status);
	resp->code = e.code;
	pkid_trace_fail(PKID_TRACE_REFUSED, &e);
}

/*
 * How this client gets its base64 (RFC 2045 6.8 via RFC 7030: lines of
 * at most 76 characters, which libEST's clients need to decode). auto:
 * one line to a client that sends no User-Agent, as strongSwan's pki,
 * which refuses line breaks.
 */
static int
wants_lines(const struct est_call *c)
{
	switch (c->label->cfg->base64) {
	case PKID_EST_B64_LINES:
		return 1;
	case PKID_EST_B64_ONE_LINE:
		return 0;
	case PKID_EST_B64_AUTO:
	default:
		return pkid_http_req_header(c->req, "User-Agent") != NULL;
	}
}

/* An upstream's certificates, relayed on one line, laid out for this
 * client. */
static enum pkid_code
relayout(struct est_call *c, struct pkid_err *e)
{
	struct pkid_buf one = c->resp->body;
	enum pkid_code rc;

	if (!c->lines || c->resp->status != 200 ||
	    strcmp(c->resp->content_type, PKID_EST_CT_CERTS) != 0)
		return PKID_OK;
	memset(&c->resp->body, 0, sizeof(c->resp->body));
	rc = pkid_est_b64_layout(&one, 1, &c->resp->body, e);
	pkid_buf_free(&one);
	return rc;
}

/* RA mode: the device passed authentication, authorisation and the
 * CSR checks here; the upstream CA issues (RFC 7030 2.2). */
static enum pkid_code
forward(struct est_call *c, X509_REQ *csr)
{
	struct pkid_err *e = &c->e;
	struct pkid_buf b64;
	unsigned char *der = NULL;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&b64, 0, sizeof(b64));
	PKID_OSSL((n = i2d_X509_REQ(csr, &der)), PKID_E_CRYPTO,
	    "encoding the request");
	PKID_TRY(pkid_base64_encode(der, (size_t)n, 0, &b64, e));
	/* simplereenroll goes up as simpleenroll: the identity check
	 * against the device's certificate was made here (read_csr), and
	 * upstream the TLS client is the RA, not the device. */
	PKID_TRY(pkid_est_ra_forward(c->label->up, "simpleenroll", &b64,
	    c->resp, e));
	PKID_TRY(relayout(c, e));
	pkid_log(PKID_LOG_INFO, "est %s for %s forwarded upstream: %d",
	    op_name(c->op), c->peer.who, c->resp->status);
	relayed_result(c->resp);
	rc = PKID_OK;
out:
	OPENSSL_free(der);
	pkid_buf_free(&b64);
	return rc;
}

/* simpleenroll / simplereenroll (RFC 7030 4.2). */
static enum pkid_code
enroll(struct est_call *c)
{
	struct pkid_err *e = &c->e;
	struct pkid_enroll_result res;
	struct pkid_requester rq = { c->peer.who, bound_cert(c) };
	X509_REQ *csr = NULL;
	char ra[16];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&res, 0, sizeof(res));
	PKID_TRY(read_csr(c, &csr));
	pkid_trace_profile(c->label->cfg->profile);
	if (c->label->up != NULL) {
		rc = forward(c, csr);
		goto out;
	}
	PKID_TRY(pkid_ca_enroll(c->est->ca, "est", NULL, csr,
	    c->label->cfg->profile, &rq, &res, e));
	if (res.state == PKID_ENROLL_PENDING) {
		/* RFC 7030 4.2.3: 202 and Retry-After; the same request
		 * again gets the certificate once approved. */
		c->resp->status = 202;
		snprintf(ra, sizeof(ra), "%d", PKID_EST_RETRY_AFTER_S);
		pkid_http_resp_header(c->resp, "Retry-After", ra);
		PKID_TRY(pkid_buf_printf(&c->resp->body, e, "request %lld "
		    "waits for approval (pkictl ca approve %lld); retry the "
		    "same request later\n", (long long)res.request_id,
		    (long long)res.request_id));
		snprintf(c->resp->content_type, sizeof(c->resp->content_type),
		    "text/plain; charset=utf-8");
		pkid_trace_result(PKID_TRACE_PENDING, PKID_OK);
		rc = PKID_OK;
		goto out;
	}
	PKID_TRY(send_cert(c, res.issue.cert));
	pkid_trace_result(PKID_TRACE_ISSUED, PKID_OK);
	pkid_log(PKID_LOG_INFO, "est %s issued serial %s to %s",
	    op_name(c->op), res.issue.serial, c->peer.who);
	rc = PKID_OK;
out:
	pkid_issue_result_clear(&res.issue);
	X509_REQ_free(csr);
	return rc;
}

/*
 * Key type of a server-generated key: the type and size of the request's
 * own key when the profile allows them (RFC 7030 4.4.1 leaves it to the
 * server; devices send a CSR of the key type they can use, and libEST's
 * client expects an RSA key back for an RSA request), else refused with
 * key-type-not-allowed. pkid_policy_check_key names what is allowed.
 */
static enum pkid_code
keygen_type(const struct pkid_profile *p, X509_REQ *csr, char *out,
    size_t len, struct pkid_err *e)
{
	EVP_PKEY *k = NULL;
	char d[64];
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_csr_key(csr, &k, e));
	PKID_TRY(pkid_policy_check_key(p, k, e));
	pkid_key_describe(k, d, sizeof(d));
	if (strncmp(d, "EC P-", 5) == 0)
		snprintf(out, len, "ec-p%s", d + 5);
	else if (strncmp(d, "RSA ", 4) == 0)
		snprintf(out, len, "rsa-%s", d + 4);
	else if (strcmp(d, "Ed25519") == 0)
		snprintf(out, len, "ed25519");
	else
		PKID_CHECK(0, PKID_E_KEY_TYPE_NOT_ALLOWED, "serverkeygen makes "
		    "EC P-256/P-384/P-521, RSA or Ed25519 keys, not %s", d);
	rc = PKID_OK;
out:
	EVP_PKEY_free(k);
	return rc;
}

/* The client's CSR with the key pkid generated (RFC 7030 4.4.1: the
 * request names the certificate; its key is not used). */
static enum pkid_code
rekey_csr(X509_REQ *in, EVP_PKEY *key, X509_REQ **out, struct pkid_err *e)
{
	X509_REQ *r = NULL;
	STACK_OF(X509_EXTENSION) *exts = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_OSSL_PTR(r = X509_REQ_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_REQ_set_subject_name(r, X509_REQ_get_subject_name(in)),
	    PKID_E_CRYPTO, "copying the subject");
	PKID_OSSL(X509_REQ_set_pubkey(r, key), PKID_E_CRYPTO,
	    "setting the generated key");
	exts = X509_REQ_get_extensions(in);
	if (exts != NULL && sk_X509_EXTENSION_num(exts) > 0)
		PKID_OSSL(X509_REQ_add_extensions(r, exts), PKID_E_CRYPTO,
		    "copying the requested extensions");
	PKID_OSSL(X509_REQ_sign(r, key, EVP_PKEY_get_id(key) ==
	    EVP_PKEY_ED25519 ? NULL : EVP_sha256()), PKID_E_CRYPTO,
	    "signing the request with the generated key");
	*out = r;
	r = NULL;
	rc = PKID_OK;
out:
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_REQ_free(r);
	return rc;
}

/* serverkeygen (RFC 7030 4.4). */
static enum pkid_code
serverkeygen(struct est_call *c)
{
	struct pkid_err *e = &c->e;
	struct pkid_issue_result res;
	struct pkid_requester rq = { c->peer.who, bound_cert(c) };
	X509_REQ *csr = NULL, *mine = NULL;
	X509 *upcert = NULL, *cert;
	EVP_PKEY *key = NULL;
	uint8_t rnd[16];
	char boundary[48], serial[80], ktype[80];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&res, 0, sizeof(res));
	/* In RA mode approval is the upstream's (pkid_est_ra_keygen). */
	PKID_CHECK(c->label->up != NULL || !c->label->profile->manual_approval,
	    PKID_E_NOT_IMPLEMENTED, "serverkeygen on profile '%s', which "
	    "needs manual approval: pkid does not keep generated keys "
	    "waiting; use simpleenroll", c->label->profile->name);
	PKID_TRY(read_csr(c, &csr));
	pkid_trace_profile(c->label->cfg->profile);
	PKID_TRY(keygen_type(c->label->profile, csr, ktype, sizeof(ktype), e));
	PKID_TRY(pkid_key_generate(ktype, &key, e));
	PKID_TRY(rekey_csr(csr, key, &mine, e));
	if (c->label->up != NULL) {
		/* RA mode: the key is made here and goes to the device
		 * only; the upstream issues for the rekeyed request. */
		PKID_TRY(pkid_est_ra_keygen(c->label->up, mine, c->resp,
		    &upcert, e));
		if (upcert == NULL) {
			pkid_log(PKID_LOG_INFO, "est serverkeygen for %s "
			    "refused upstream: %d", c->peer.who,
			    c->resp->status);
			relayed_result(c->resp);
			rc = PKID_OK;
			goto out;
		}
		cert = upcert;
		pkid_x509_serial_hex(X509_get0_serialNumber(cert), serial,
		    sizeof(serial));
	} else {
		PKID_TRY(pkid_ca_issue(c->est->ca, mine, c->label->cfg->profile,
		    &rq, &res, e));
		cert = res.cert;
		snprintf(serial, sizeof(serial), "%s", res.serial);
	}
	PKID_OSSL(RAND_bytes(rnd, sizeof(rnd)), PKID_E_CRYPTO,
	    "no random boundary");
	memcpy(boundary, "pkid-", 5);
	pkid_hex(rnd, sizeof(rnd), boundary + 5);
	PKID_TRY(pkid_est_resp_serverkeygen(c->resp, key, cert, boundary,
	    c->lines, e));
	pkid_trace_result(PKID_TRACE_ISSUED, PKID_OK);
	pkid_log(PKID_LOG_INFO, "est serverkeygen %s serial %s to %s",
	    upcert != NULL ? "got from upstream" : "issued", serial,
	    c->peer.who);
	rc = PKID_OK;
out:
	pkid_issue_result_clear(&res);
	X509_free(upcert);
	EVP_PKEY_free(key);
	X509_REQ_free(csr);
	X509_REQ_free(mine);
	return rc;
}

static enum pkid_code
dispatch(struct est_call *c)
{
	struct pkid_err *e = &c->e;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(route(c));
	pkid_trace_op("est", op_name(c->op));
	if (is_enroll(c->op))
		pkid_trace_profile(c->label->cfg->profile);
	c->lines = wants_lines(c);
	switch (c->op) {
	case EST_CACERTS:
		/* RFC 7030 4.1.1: no authentication for the CA certs. */
		if (c->label->up != NULL) {
			PKID_TRY(pkid_est_ra_forward(c->label->up, "cacerts",
			    NULL, c->resp, e));
			return relayout(c, e);
		}
		return pkid_est_resp_b64(c->resp, PKID_EST_CT_CERTS,
		    &c->est->cacerts, c->lines, e);
	case EST_CSRATTRS:
		return pkid_est_resp_b64(c->resp, "application/csrattrs",
		    &c->label->csrattrs, c->lines, e);
	case EST_FULLCMC:
		PKID_CHECK(0, PKID_E_NOT_IMPLEMENTED, "EST fullcmc (RFC 7030 "
		    "4.3) is not implemented; use simpleenroll, "
		    "simplereenroll or serverkeygen");
		break;
	case EST_SIMPLEENROLL:
	case EST_SIMPLEREENROLL:
	case EST_SERVERKEYGEN:
	default:
		break;
	}
	PKID_TRY(pkid_est_authenticate(c->est, c->label, c->op, c->req,
	    &c->peer, e));
	pkid_trace_user(c->peer.who);
	/* An RA this CA certified (id-kp-cmcRA) forwards the device's
	 * request with its own request id: one id from device to CA. */
	if (c->peer.cert_own && pkid_cert_is_ra(c->req->peer_cert))
		(void)pkid_trace_adopt_id(pkid_http_req_header(c->req,
		    "X-Request-ID"));
	if (c->op == EST_SERVERKEYGEN)
		return serverkeygen(c);
	return enroll(c);
out:
	return rc;
}

/*
 * RFC 7030 3.2.3: EST runs over HTTPS only. On plain HTTP a password or a
 * server-generated key would cross the network in clear, and cacerts
 * could be replaced on the way: 403, naming the HTTPS URL.
 */
static void
refuse_plain(struct est_call *c)
{
	const char *host = pkid_http_req_header(c->req, "Host");
	char h[256] = "HOST", port[16] = "";
	size_t n;

	if (host != NULL) {
		/* The host part of "name:port" or "[v6]:port", if sane. */
		n = host[0] == '[' ? strcspn(host, "]") + 1 :
		    strcspn(host, ":");
		if (n > 0 && n < sizeof(h) && strspn(host, "abcdefghijklmnop"
		    "qrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-[]:") >= n)
			snprintf(h, sizeof(h), "%.*s", (int)n, host);
	}
	if (c->est->https_port > 0 && c->est->https_port != 443)
		snprintf(port, sizeof(port), ":%d", c->est->https_port);
	PKID_ERR(&c->e, PKID_E_HTTPS_REQUIRED, "EST is served only over HTTPS "
	    "(RFC 7030 3.2.3): use https://%s%s%s", h, port, c->req->path);
	fail(c);
}

void
pkid_est_handle(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct est_call c;

	memset(&c, 0, sizeof(c));
	c.est = ctx;
	c.req = req;
	c.resp = resp;
	c.op = EST_CACERTS;
	pkid_err_clear(&c.e);
	if (!req->tls) {
		refuse_plain(&c);
		return;
	}
	if (strncmp(req->path, EST_PREFIX, strlen(EST_PREFIX)) != 0) {
		PKID_ERR(&c.e, PKID_E_NO_ROUTE, "%s is not below %s",
		    req->path, EST_PREFIX);
		fail(&c);
		return;
	}
	if (dispatch(&c) != PKID_OK)
		fail(&c);
}
