/*
 * server.c - the SCEP HTTP endpoint (RFC 8894 4): /scep and
 * /cgi-bin/pkiclient.exe, GET and POST, operation= dispatch.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/rand.h>

#include "core/clock.h"
#include "ca/ca_int.h"
#include "ca/hsm.h"
#include "ca/rollover.h"
#include "core/log.h"
#include "core/trace.h"
#include "http/query.h"
#include "scep/scep_int.h"
#include "x509/load.h"

/*
 * RFC 8894 3.5.2. strongSwan 5.9 only takes AES and SHA-256 when SHA-384
 * and DES3 are listed too; listing DES3 does not make pkid accept it
 * without [scep] compat = on (the CertRep then says badAlg).
 */
static const char caps[] = "POSTPKIOperation\nSHA-256\nSHA-384\n"
    "SHA-512\nAES\nDES3\nRenewal\nGetNextCACert\nSCEPStandard\n";

/* The RA (or the RSA CA) certificate and key; both NULL when none. */
static enum pkid_code
load_ra(struct pkid_scep *s, struct pkid_err *e)
{
	struct pkid_ca *ca = s->ca;
	struct stat st;
	char cert[1200], key[1200];
	int root_only = ca->root_only;

	snprintf(cert, sizeof(cert), "%s/scep/ra.pem", ca->dir);
	snprintf(key, sizeof(key), "%s/scep/ra.key", ca->dir);
	if (stat(cert, &st) == 0) {
		if (pkid_x509_load_cert_file(cert, &s->ra, e) != PKID_OK ||
		    pkid_x509_load_key_file(key, &s->ra_key, e) != PKID_OK)
			return e->code;
		if (X509_check_private_key(s->ra, s->ra_key) != 1)
			return PKID_ERR(e, PKID_E_KEY_MISMATCH, "%s does not "
			    "match %s", key, cert);
		return PKID_OK;
	}
	if (EVP_PKEY_get_base_id(X509_get0_pubkey(ca->issuing)) !=
	    EVP_PKEY_RSA)
		return PKID_OK;
	/* An RSA CA decrypts with the signing CA's own key (a file or in
	 * a PKCS#11 token, src/ca/hsm.h). */
	(void)root_only;
	if (pkid_ca_key_load(&ca->cfg, ca->dir, ca->issuing_key_ref,
	    &s->ra_key, e) != PKID_OK)
		return e->code;
	if (!X509_up_ref(ca->issuing))
		return PKID_ERR(e, PKID_E_INTERNAL, "ref");
	s->ra = ca->issuing;
	return PKID_OK;
}

enum pkid_code
pkid_scep_new(struct pkid_ca *ca, struct pkid_scep **out, struct pkid_err *e)
{
	struct pkid_scep *s;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	s->ca = ca;
	s->compat = ca->cfg.scep_compat;
	if (load_ra(s, e) != PKID_OK || pkid_scep_ra_new(s, e) != PKID_OK) {
		pkid_scep_free(s);
		return e->code;
	}
	if (s->ra == NULL)
		pkid_log(PKID_LOG_WARN, "scep code=scep-unavailable msg=\"no "
		    "RA certificate in %s/scep and the CA key is not RSA: "
		    "PKIOperation is refused\"", ca->dir);
	if (s->compat)
		pkid_log(PKID_LOG_WARN, "scep compat=on: DES3 and SHA-1 are "
		    "accepted for old clients");
	*out = s;
	return PKID_OK;
}

void
pkid_scep_free(struct pkid_scep *s)
{
	if (s == NULL)
		return;
	pkid_scep_ra_free(s);
	X509_free(s->ra);
	EVP_PKEY_free(s->ra_key);
	free(s);
}

void
pkid_scep_get_stats(const struct pkid_scep *s, struct pkid_scep_stats *o)
{
	memset(o, 0, sizeof(*o));
	if (s == NULL)
		return;
	o->operations = atomic_load(&s->n_ops);
	o->issued = atomic_load(&s->n_issued);
	o->pending = atomic_load(&s->n_pending);
	o->failed = atomic_load(&s->n_failed);
	o->bad_requests = atomic_load(&s->n_bad);
	o->no_next_ca = atomic_load(&s->n_no_next_ca);
	o->compat = s->compat;
}

static void
set_body(struct pkid_http_resp *resp, const char *ctype, const void *p,
    size_t n)
{
	struct pkid_err e;

	pkid_err_clear(&e);
	if (pkid_http_resp_body(resp, ctype, p, n, &e) != PKID_OK)
		pkid_http_resp_error(resp, 500, &e);
}

/* GetCACert in RA mode: the upstream's CAs and this RA; 503 with
 * Retry-After while the upstream's could not be fetched yet (its cause
 * is logged once by the RA forwarding). */
static void
get_ra_ca_cert(struct pkid_scep *s, struct pkid_http_resp *resp)
{
	struct pkid_buf b;
	struct pkid_err e;
	char ra[16];
	enum pkid_code rc;

	pkid_err_clear(&e);
	if ((rc = pkid_scep_ra_ca_cert(s, &b, &e)) == PKID_OK) {
		set_body(resp, "application/x-x509-ca-ra-cert", b.p, b.len);
	} else if (rc >= PKID_E_UPSTREAM_UNTRUSTED &&
	    rc <= PKID_E_UPSTREAM_BAD_RESPONSE) {
		/* RFC 9110 15.6.4: try again later. */
		snprintf(ra, sizeof(ra), "%d", PKID_EST_RA_CACERTS_RETRY_S);
		pkid_http_resp_error(resp, 503, &e);
		pkid_http_resp_header(resp, "Retry-After", ra);
	} else {
		pkid_log_err(PKID_LOG_ERROR, &e, "scep GetCACert");
		pkid_http_resp_error(resp, 500, &e);
	}
	pkid_buf_free(&b);
}

/* GetCACert (RFC 8894 4.2): DER of a lone root CA, else the chain with
 * the RA as certificates-only PKCS#7; in RA mode the upstream's chain. */
static void
get_ca_cert(struct pkid_scep *s, struct pkid_http_resp *resp)
{
	STACK_OF(X509) *certs = NULL;
	struct pkid_buf b;
	struct pkid_err e;
	unsigned char *der = NULL;
	int n, i;

	pkid_err_clear(&e);
	pkid_buf_init(&b, 1);
	if (s->up != NULL) {
		get_ra_ca_cert(s, resp);
		return;
	}
	if ((s->ra == NULL || s->ra == s->ca->issuing) &&
	    sk_X509_num(s->ca->chain) == 1) {
		if ((n = i2d_X509(s->ca->issuing, &der)) > 0)
			set_body(resp, "application/x-x509-ca-cert", der,
			    (size_t)n);
		OPENSSL_free(der);
		return;
	}
	/* Issuing CA first, then the RA, then the rest of the chain. */
	if ((certs = sk_X509_new_null()) == NULL ||
	    !sk_X509_push(certs, s->ca->issuing) ||
	    (s->ra != NULL && s->ra != s->ca->issuing &&
	    !sk_X509_push(certs, s->ra))) {
		PKID_ERR(&e, PKID_E_NOMEM, "no memory");
		pkid_http_resp_error(resp, 500, &e);
		goto out;
	}
	for (i = 1; i < sk_X509_num(s->ca->chain); i++)
		if (!sk_X509_push(certs, sk_X509_value(s->ca->chain, i)))
			break;
	if (pkid_scep_certs_only(certs, NULL, &b, &e) != PKID_OK) {
		pkid_http_resp_error(resp, 500, &e);
		goto out;
	}
	set_body(resp, "application/x-x509-ca-ra-cert", b.p, b.len);
out:
	sk_X509_free(certs);
	pkid_buf_free(&b);
}

/*
 * GetNextCACert (RFC 8894 3.5.2, 4.7): the next generation of the CA
 * (and its new root when the root rolls over too) as a degenerate
 * certs-only PKCS#7, wrapped in a SignedData signed by the current RA (or
 * CA) certificate, so a client checks it with what GetCACert gave it.
 */
static enum pkid_code
next_ca_body(struct pkid_scep *s, struct pkid_buf *out, struct pkid_err *e)
{
	STACK_OF(X509) *certs = sk_X509_new_null(), *chain = NULL;
	struct pkid_buf inner;
	int i;
	BIO *in = NULL, *bo = NULL;
	PKCS7 *p7 = NULL;
	BUF_MEM *bm;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&inner, 1);
	PKID_OSSL_PTR(certs, PKID_E_NOMEM, "no memory");
	PKID_OSSL(sk_X509_push(certs, s->ca->next), PKID_E_NOMEM, "memory");
	if (s->ca->next_root != NULL)
		PKID_OSSL(sk_X509_push(certs, s->ca->next_root), PKID_E_NOMEM,
		    "no memory");
	if (s->ca->next_root != NULL || s->ca->root_only) {
		/* A root key update: the links too (NewWithOld lets a device
		 * that trusts only the old root accept the new one). */
		for (i = 0; i < sk_X509_num(s->ca->links); i++)
			PKID_OSSL(sk_X509_push(certs, sk_X509_value(
			    s->ca->links, i)), PKID_E_NOMEM, "no memory");
	}
	PKID_TRY(pkid_scep_certs_only(certs, NULL, &inner, e));
	PKID_OSSL_PTR(in = BIO_new_mem_buf(inner.p, (int)inner.len),
	    PKID_E_NOMEM, "no memory");
	/* The signer's issuer rides along, so the signature can be checked
	 * with the root alone. */
	PKID_OSSL_PTR(chain = sk_X509_new_null(), PKID_E_NOMEM, "no memory");
	if (s->ra != s->ca->issuing)
		PKID_OSSL(sk_X509_push(chain, s->ca->issuing), PKID_E_NOMEM,
		    "no memory");
	PKID_OSSL_PTR(p7 = PKCS7_sign(s->ra, s->ra_key, chain, in,
	    PKCS7_BINARY), PKID_E_CRYPTO, "signing the GetNextCACert answer");
	PKID_OSSL_PTR(bo = BIO_new(BIO_s_mem()), PKID_E_NOMEM, "no memory");
	PKID_OSSL(i2d_PKCS7_bio(bo, p7), PKID_E_CRYPTO, "encoding");
	BIO_get_mem_ptr(bo, &bm);
	pkid_buf_init(out, PKID_HTTP_MAX_RESP_BODY);
	rc = pkid_buf_append(out, bm->data, bm->length, e);
out:
	BIO_free(bo);
	BIO_free(in);
	PKCS7_free(p7);
	pkid_buf_free(&inner);
	sk_X509_free(certs);
	sk_X509_free(chain);
	return rc;
}

/* Before any shadow exists: a 404 that says when, so clients do not
 * loop (RFC 8894 4.7 has no "none yet" answer); pkid makes the next
 * generation before a device can need it (src/ca/rollover.h). */
static void
get_next_ca_cert(struct pkid_scep *s, struct pkid_http_resp *resp)
{
	struct pkid_rollover_plan plan;
	struct pkid_buf b;
	struct pkid_err e;
	char until[32] = "its notAfter", due[32] = "before then";

	pkid_err_clear(&e);
	pkid_buf_init(&b, 1);
	if (s->ca->next != NULL) {
		if (next_ca_body(s, &b, &e) != PKID_OK) {
			pkid_log_err(PKID_LOG_ERROR, &e, "scep GetNextCACert");
			pkid_http_resp_error(resp, 500, &e);
		} else {
			set_body(resp, "application/x-x509-next-ca-cert", b.p,
			    b.len);
		}
		pkid_buf_free(&b);
		return;
	}
	atomic_fetch_add(&s->n_no_next_ca, 1);
	pkid_time_fmt((time_t)pkid_ca_cert_na(s->ca->issuing), until,
	    sizeof(until));
	if (pkid_rollover_plan(&s->ca->cfg, pkid_ca_cert_nb(s->ca->issuing),
	    pkid_ca_cert_na(s->ca->issuing), &plan, NULL) == PKID_OK)
		pkid_time_fmt((time_t)plan.shadow_at, due, sizeof(due));
	PKID_ERR(&e, PKID_E_NO_NEXT_CA, "no next CA certificate exists yet; "
	    "the current CA is valid until %s and its successor is published "
	    "here from %s", until, due);
	pkid_log_err(PKID_LOG_INFO, &e, "scep GetNextCACert");
	pkid_http_resp_error(resp, 404, &e);
}

/* The pkiMessage: the POST body, or GET's base64 message= (RFC 8894
 * 4.1), which some clients send with '+' unescaped. */
static enum pkid_code
request_der(const struct pkid_http_req *req, struct pkid_buf *out,
    struct pkid_err *e)
{
	char *msg = NULL;
	size_t i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, PKID_MAX_SCEP_MESSAGE);
	if (req->method == PKID_HTTP_POST) {
		PKID_CHECK(req->body_len <= PKID_MAX_SCEP_MESSAGE,
		    PKID_E_TOO_LARGE, "pkiMessage of %zu bytes (at most %d)",
		    req->body_len, PKID_MAX_SCEP_MESSAGE);
		return pkid_buf_append(out, req->body, req->body_len, e);
	}
	PKID_TRY(pkid_http_query_get(req->query, "message",
	    PKID_MAX_URI_LENGTH, &msg, e));
	PKID_CHECK(msg != NULL && msg[0] != '\0', PKID_E_SCEP_MALFORMED,
	    "RFC 8894 4.1: PKIOperation by GET needs message=<base64>");
	/* Base64 has no spaces: a space here was a '+' decoded as a form. */
	for (i = 0; msg[i] != '\0'; i++)
		if (msg[i] == ' ')
			msg[i] = '+';
	rc = pkid_base64_decode(msg, strlen(msg), out, PKID_MAX_SCEP_MESSAGE,
	    e);
out:
	free(msg);
	return rc;
}

/* Build the CertRep (RFC 8894 3.3.2) for outcome o and send it. */
static enum pkid_code
certrep(struct pkid_scep *s, const struct pkid_scep_msg *m,
    const struct scep_outcome *o, int cipher_nid,
    struct pkid_http_resp *resp, struct pkid_err *e)
{
	struct pkid_scep_out r;
	struct pkid_buf inner, der;
	STACK_OF(X509) *certs = NULL;
	uint8_t nonce[16];
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&inner, 1);
	pkid_buf_init(&der, 1);
	memset(&r, 0, sizeof(r));
	PKID_OSSL(RAND_bytes(nonce, sizeof(nonce)), PKID_E_CRYPTO, "RAND");
	r.type = PKID_SCEP_CERTREP;
	r.tid = m->tid;
	r.snonce = nonce;
	r.snonce_len = sizeof(nonce);
	r.rnonce = m->snonce;
	r.rnonce_len = m->snonce_len;
	r.status = o->status;
	r.fail_info = o->status == PKID_SCEP_FAILURE ? (int)o->fail : -1;
	r.signer = s->ra;
	r.key = s->ra_key;
	/* SHA-256, unless an old client (compat) signed with SHA-1. */
	r.md = m->md_nid == NID_sha1 && s->compat ? EVP_sha1() : EVP_sha256();
	if (o->status == PKID_SCEP_SUCCESS) {
		PKID_OSSL_PTR(certs = sk_X509_new_null(), PKID_E_NOMEM, "mem");
		if (o->cert != NULL)
			PKID_OSSL(sk_X509_push(certs, o->cert), PKID_E_NOMEM,
			    "no memory");
		PKID_TRY(pkid_scep_certs_only(certs, o->crl, &inner, e));
		r.inner = inner.p;
		r.inner_len = inner.len;
		r.recipient = m->signer;
		PKID_OSSL_PTR(r.cipher = EVP_get_cipherbynid(cipher_nid),
		    PKID_E_CRYPTO, "cipher %d", cipher_nid);
	}
	PKID_TRY(pkid_scep_msg_build(&r, &der, e));
	rc = pkid_http_resp_body(resp, "application/x-pki-message", der.p,
	    der.len, e);
out:
	sk_X509_free(certs);
	pkid_buf_free(&inner);
	pkid_buf_free(&der);
	return rc;
}

static void
count(struct pkid_scep *s, const struct scep_outcome *o)
{
	if (o->status == PKID_SCEP_SUCCESS)
		atomic_fetch_add(&s->n_issued, 1);
	else if (o->status == PKID_SCEP_PENDING)
		atomic_fetch_add(&s->n_pending, 1);
	else
		atomic_fetch_add(&s->n_failed, 1);
}

/* The outcome for the request log, the status page and /metrics: an
 * enrollment (PKCSReq, RenewalReq, CertPoll) issued, pending, refused
 * or failed; GetCert and GetCRL only by a FAILURE's code. */
static void
trace_outcome(const struct pkid_scep_msg *m, const struct scep_outcome *o,
    const struct pkid_err *e)
{
	int enroll = m->type == PKID_SCEP_PKCSREQ ||
	    m->type == PKID_SCEP_RENEWALREQ || m->type == PKID_SCEP_CERTPOLL;
	unsigned cat = (unsigned)e->code >> 16;

	pkid_trace_op("scep", pkid_scep_type_name(m->type));
	if (o->status == PKID_SCEP_FAILURE) {
		pkid_trace_fail(!enroll ? PKID_TRACE_NONE : cat ==
		    PKID_CAT_STORE || cat == PKID_CAT_INTERNAL || (e->code >=
		    PKID_E_UPSTREAM_UNTRUSTED && e->code <=
		    PKID_E_UPSTREAM_BAD_RESPONSE) ? PKID_TRACE_FAILED :
		    PKID_TRACE_REFUSED, e);
		return;
	}
	if (enroll)
		pkid_trace_result(o->status == PKID_SCEP_PENDING ?
		    PKID_TRACE_PENDING : PKID_TRACE_ISSUED, PKID_OK);
}

/* One line per operation: outcome, and the code of a FAILURE. */
static void
log_outcome(const struct pkid_scep_msg *m, const struct scep_outcome *o,
    const char *client, const struct pkid_err *e)
{
	char what[384];
	static const char *const st[] = { "SUCCESS", "?", "FAILURE",
	    "PENDING" };

	snprintf(what, sizeof(what), "scep op=%s tid=%s client=%s status=%s",
	    pkid_scep_type_name(m->type), m->tid, client,
	    st[o->status & 3]);
	if (o->status == PKID_SCEP_FAILURE) {
		pkid_log_err(PKID_LOG_WARN, e, what);
		return;
	}
	pkid_log(PKID_LOG_INFO, "%s serial=%s request=%lld", what,
	    o->serial[0] != '\0' ? o->serial : "-",
	    (long long)o->request_id);
}

/* Check time, open the envelope, decide. Fills o in every case. */
static void
process(struct pkid_scep *s, const struct pkid_scep_msg *m,
    const char *client, struct scep_outcome *o, int *cipher_nid,
    struct pkid_err *e)
{
	struct pkid_buf inner;
	int64_t skew = (int64_t)pkid_now() - m->signing_time;

	pkid_buf_init(&inner, 1);
	o->status = PKID_SCEP_FAILURE;
	o->fail = PKID_SCEP_BADREQUEST;
	if (m->type != PKID_SCEP_PKCSREQ && m->type != PKID_SCEP_RENEWALREQ &&
	    m->type != PKID_SCEP_CERTPOLL && m->type != PKID_SCEP_GETCERT &&
	    m->type != PKID_SCEP_GETCRL) {
		(void)pkid_scep_decide(s, m, &inner, client, o, e);
		return;
	}
	if (m->signing_time != 0 && (skew > PKID_SCEP_MAX_SKEW_S ||
	    -skew > PKID_SCEP_MAX_SKEW_S)) {
		o->fail = PKID_SCEP_BADTIME;
		PKID_ERR(e, PKID_E_SCEP_BAD_TIME, "signingTime is %lld "
		    "seconds off the server's clock (at most %d)",
		    (long long)skew, PKID_SCEP_MAX_SKEW_S);
		return;
	}
	if (pkid_scep_envelope_open(m->content.p, m->content.len, s->ra,
	    s->ra_key, s->compat, &inner, cipher_nid, &o->fail, e) !=
	    PKID_OK)
		return;
	(void)pkid_scep_decide(s, m, &inner, client, o, e);
	pkid_buf_free(&inner);
}

static void
pki_operation(struct pkid_scep *s, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct pkid_scep_msg m;
	struct scep_outcome o;
	struct pkid_buf der;
	struct pkid_err e, e2;
	int cipher_nid = NID_undef;

	pkid_err_clear(&e);
	pkid_err_clear(&e2);
	pkid_scep_msg_init(&m);
	pkid_buf_init(&der, 1);
	memset(&o, 0, sizeof(o));
	atomic_fetch_add(&s->n_ops, 1);
	if (s->ra == NULL) {
		PKID_ERR(&e, PKID_E_SCEP_UNAVAILABLE, "no RA certificate in "
		    "%s/scep and the CA key is not RSA", s->ca->dir);
		pkid_http_resp_error(resp, 503, &e);
		goto out;
	}
	if (request_der(req, &der, &e) != PKID_OK ||
	    (pkid_scep_msg_parse(der.p, der.len, s->compat, &m, &e) !=
	    PKID_OK && !m.can_reply)) {
		/* RFC 8894 3.3.2.2: no CertRep without signer and nonce. */
		atomic_fetch_add(&s->n_bad, 1);
		pkid_log_err(PKID_LOG_WARN, &e, "scep PKIOperation 400");
		pkid_http_resp_error(resp, 400, &e);
		goto out;
	}
	if (e.code != PKID_OK) {
		o.status = PKID_SCEP_FAILURE;
		o.fail = m.fail;
	} else {
		process(s, &m, req->client_addr, &o, &cipher_nid, &e);
	}
	count(s, &o);
	trace_outcome(&m, &o, &e);
	log_outcome(&m, &o, req->client_addr, &e);
	if (e.code == PKID_E_STORE_UNAVAILABLE || e.code == PKID_E_STORE_BUSY) {
		/* The database is away: nothing was recorded, and a FAILURE
		 * would be final for the client. 503 + Retry-After: it sends
		 * the same transaction again (pkid reconnects by itself). */
		unsigned char j = 0;
		char ra[16];

		(void)RAND_bytes(&j, 1);
		snprintf(ra, sizeof(ra), "%d", PKID_PG_RETRY_AFTER_S +
		    j % (PKID_PG_RETRY_AFTER_S + 1));
		pkid_http_resp_error(resp, 503, &e);
		pkid_http_resp_header(resp, "Retry-After", ra);
		goto out;
	}
	if (certrep(s, &m, &o, cipher_nid, resp, &e2) != PKID_OK) {
		pkid_log_err(PKID_LOG_ERROR, &e2, "scep CertRep");
		pkid_http_resp_error(resp, 500, &e2);
	}
out:
	pkid_buf_free(&der);
	pkid_scep_outcome_free(&o);
	pkid_scep_msg_free(&m);
}

void
pkid_scep_handle(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct pkid_scep *s = ctx;
	struct pkid_err e;
	char *op = NULL;

	pkid_err_clear(&e);
	if (pkid_http_query_get(req->query, "operation", PKID_MAX_URI_LENGTH,
	    &op, &e) != PKID_OK) {
		pkid_http_resp_error(resp, 400, &e);
		return;
	}
	/* PKIOperation is named by its message type once parsed. */
	pkid_trace_op("scep", op == NULL || strcmp(op, "PKIOperation") == 0 ?
	    "other" : op);
	if (op == NULL) {
		PKID_ERR(&e, PKID_E_USAGE, "RFC 8894 4.1: operation= missing "
		    "(GetCACaps, GetCACert, GetNextCACert, PKIOperation)");
		pkid_http_resp_error(resp, 400, &e);
	} else if (strcmp(op, "GetCACaps") == 0) {
		set_body(resp, "text/plain", caps, sizeof(caps) - 1);
	} else if (strcmp(op, "GetCACert") == 0) {
		get_ca_cert(s, resp);
	} else if (strcmp(op, "GetNextCACert") == 0) {
		get_next_ca_cert(s, resp);
	} else if (strcmp(op, "PKIOperation") == 0) {
		pki_operation(s, req, resp);
	} else {
		PKID_ERR(&e, PKID_E_NOT_IMPLEMENTED, "operation '%.64s' is not "
		    "one of GetCACaps, GetCACert, GetNextCACert, PKIOperation",
		    op);
		pkid_log_err(PKID_LOG_INFO, &e, "scep");
		pkid_http_resp_error(resp, 400, &e);
	}
	free(op);
}

enum pkid_code
pkid_scep_routes(struct pkid_scep *s, struct pkid_router *r,
    struct pkid_err *e)
{
	/* Offloaded: decrypting and signing pkiMessages and the durable
	 * commit of an enrollment must not stall the event loop. */
	unsigned m = PKID_HTTP_GET | PKID_HTTP_POST | PKID_HTTP_HEAD |
	    PKID_ROUTE_OFFLOAD;
	enum pkid_code rc;

	if ((rc = pkid_router_add(r, "/scep", 1, m, pkid_scep_handle, s, e)) !=
	    PKID_OK)
		return rc;
	return pkid_router_add(r, "/cgi-bin/pkiclient.exe", 0, m,
	    pkid_scep_handle, s, e);
}
