/*
 * txn.c - what a decrypted SCEP request comes to (RFC 8894 3.3): the
 * transaction state lives in the store's request table (kind "scep",
 * keyed by transactionID), so retransmissions get the same answer and
 * CertPoll works after a restart.
 */
#include <stdio.h>
#include <string.h>

#include "core/trace.h"
#include "ca/policy.h"
#include "core/clock.h"
#include "core/log.h"
#include "scep/scep_int.h"
#include "x509/load.h"

void
pkid_scep_outcome_free(struct scep_outcome *o)
{
	X509_free(o->cert);
	X509_CRL_free(o->crl);
	o->cert = NULL;
	o->crl = NULL;
}

/* A request row copied out of the store's callback. */
struct txn {
	int found;		/* a row exists */
	int64_t id;		/* its id */
	char state[16];		/* pending, issued, rejected, failed */
	char digest[65];	/* CSR SHA-256 */
	char serial[48];	/* issued serial */
	char detail[256];	/* reason of a failure */
	struct pkid_buf csr;	/* CSR DER */
	struct pkid_buf cert;	/* certificate from an upstream CA (RA) */
};

static enum pkid_code
txn_copy(const struct pkid_request *r, void *arg, struct pkid_err *e)
{
	struct txn *t = arg;

	t->found = 1;
	t->id = r->id;
	snprintf(t->state, sizeof(t->state), "%s", r->state);
	snprintf(t->digest, sizeof(t->digest), "%s",
	    r->csr_digest != NULL ? r->csr_digest : "");
	snprintf(t->serial, sizeof(t->serial), "%s",
	    r->cert_serial != NULL ? r->cert_serial : "");
	snprintf(t->detail, sizeof(t->detail), "%s",
	    r->detail != NULL ? r->detail : "");
	pkid_buf_free(&t->csr);
	pkid_buf_init(&t->csr, PKID_MAX_CSR_SIZE);
	pkid_buf_free(&t->cert);
	pkid_buf_init(&t->cert, PKID_MAX_CERT_SIZE);
	if (r->cert_der != NULL && pkid_buf_append(&t->cert, r->cert_der,
	    r->cert_len, e) != PKID_OK)
		return e->code;
	return pkid_buf_append(&t->csr, r->csr_der, r->csr_len, e);
}

static enum pkid_code
txn_find(struct pkid_scep *s, const char *tid, struct txn *t,
    struct pkid_err *e)
{
	enum pkid_code rc;

	rc = pkid_store_request_find(s->ca->store, "scep", tid, txn_copy, t,
	    e);
	if (rc == PKID_E_NOT_FOUND) {
		pkid_err_clear(e);
		t->found = 0;
		return PKID_OK;
	}
	return rc;
}

static enum pkid_code
fail(struct scep_outcome *o, enum pkid_scep_fail f, enum pkid_code rc)
{
	o->status = PKID_SCEP_FAILURE;
	o->fail = f;
	return rc;
}

/* The certificate an upstream CA issued (RA mode), as stored. */
static enum pkid_code
upstream_cert(const struct pkid_buf *der, X509 **out, struct pkid_err *e)
{
	STACK_OF(X509) *certs = NULL;
	enum pkid_code rc;

	*out = NULL;
	rc = pkid_x509_load_certs(der->p, der->len, &certs, e);
	if (rc == PKID_OK) {
		*out = sk_X509_shift(certs);
		rc = *out != NULL ? PKID_OK : PKID_ERR(e, PKID_E_INTERNAL,
		    "no stored upstream certificate");
	}
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

/* Answer a transaction already known: its state decides. */
static enum pkid_code
answer_known(struct pkid_scep *s, struct txn *t, struct scep_outcome *o,
    struct pkid_err *e)
{
	enum pkid_code rc;

	o->request_id = t->id;
	if (strcmp(t->state, "ra-pending") == 0)
		return pkid_scep_ra_poll(s, t->id, &t->csr, o, e);
	if (strcmp(t->state, "issued") == 0) {
		snprintf(o->serial, sizeof(o->serial), "%s", t->serial);
		if (t->cert.len > 0)
			rc = upstream_cert(&t->cert, &o->cert, e);
		else
			rc = pkid_ca_cert_by_serial(s->ca, t->serial,
			    &o->cert, e);
		if (rc != PKID_OK)
			return fail(o, PKID_SCEP_BADCERTID, rc);
		o->status = PKID_SCEP_SUCCESS;
		return PKID_OK;
	}
	if (strcmp(t->state, "pending") == 0) {
		o->status = PKID_SCEP_PENDING;
		return PKID_OK;
	}
	return fail(o, PKID_SCEP_BADREQUEST, PKID_ERR(e,
	    PKID_E_REQUEST_REJECTED, "transaction request %lld is %s%s%s",
	    (long long)t->id, t->state, t->detail[0] != '\0' ? ": " : "",
	    t->detail));
}

/*
 * Issue under an auto-approved profile, storing the transaction record in
 * the same commit as the certificate, so a retransmission always finds
 * the answer it was given (RFC 8894 3.3.1). The one-time challenge once
 * (NULL: none) is used up in that commit too: a refusal leaves it usable,
 * and of two requests with it only one gets a certificate.
 */
static enum pkid_code
txn_issue(struct pkid_scep *s, const char *tid, X509_REQ *csr,
    const char *profile, const struct pkid_requester *rq, const char *once,
    struct scep_outcome *o, struct pkid_err *e)
{
	struct pkid_issue_result res;
	struct pkid_request r;
	unsigned char *der = NULL;
	char digest[65];
	int len = i2d_X509_REQ(csr, &der);
	enum pkid_code rc;

	if (len <= 0)
		return fail(o, PKID_SCEP_BADREQUEST, PKID_ERR(e, PKID_E_CRYPTO,
		    "encoding the CSR"));
	pkid_csr_digest(csr, digest);
	memset(&r, 0, sizeof(r));
	r.kind = "scep";
	r.transaction_id = tid;
	r.state = "issued";
	r.profile = profile;
	r.requester = rq->who;
	r.csr_der = der;
	r.csr_len = (size_t)len;
	r.csr_digest = digest;
	r.challenge_hash = once;
	rc = pkid_ca_issue_record(s->ca, csr, profile, rq, &r, &res, e);
	OPENSSL_free(der);
	if (rc != PKID_OK)
		return fail(o, PKID_SCEP_BADREQUEST, rc);
	o->request_id = res.request_id;
	o->status = PKID_SCEP_SUCCESS;
	o->cert = res.cert;
	res.cert = NULL;
	snprintf(o->serial, sizeof(o->serial), "%s", res.serial);
	pkid_issue_result_clear(&res);
	return PKID_OK;
}

/* Enroll a CSR under tid (new transaction): issue or leave pending;
 * the one-time challenge once (NULL: none) is used up only then. */
static enum pkid_code
enroll(struct pkid_scep *s, const char *tid, X509_REQ *csr,
    const char *profile, const struct pkid_requester *rq, const char *once,
    struct scep_outcome *o, struct pkid_err *e)
{
	const struct pkid_profile *p = pkid_config_profile(&s->ca->cfg,
	    profile);
	struct pkid_enroll_result res;
	struct scep_ra_req q = { tid, csr, profile, rq->who, once };
	enum pkid_code rc;

	if (s->up != NULL)
		return pkid_scep_ra_enroll(s, &q, o, e);
	if (p != NULL && !p->manual_approval)
		return txn_issue(s, tid, csr, profile, rq, once, o, e);
	/* Manual approval (or an unknown profile, which pkid_ca_enroll
	 * reports): the request waits in the store under tid. */
	rc = pkid_ca_enroll_challenge(s->ca, "scep", tid, csr, profile, rq,
	    once, &res, e);
	if (rc != PKID_OK)
		return fail(o, PKID_SCEP_BADREQUEST, rc);
	o->request_id = res.request_id;
	if (res.state == PKID_ENROLL_PENDING) {
		o->status = PKID_SCEP_PENDING;
		return PKID_OK;
	}
	o->status = PKID_SCEP_SUCCESS;
	o->cert = res.issue.cert;
	res.issue.cert = NULL;
	snprintf(o->serial, sizeof(o->serial), "%s", res.issue.serial);
	pkid_issue_result_clear(&res.issue);
	return PKID_OK;
}

/* The stored record of a certificate we issued, for renewal. */
struct own_cert {
	int found;		/* it is ours */
	int revoked;		/* and revoked */
	char profile[64];	/* its profile */
	struct pkid_buf der;	/* its DER */
};

static enum pkid_code
own_copy(const struct pkid_cert_rec *r, void *arg, struct pkid_err *e)
{
	struct own_cert *c = arg;

	c->found = 1;
	c->revoked = r->revoked;
	snprintf(c->profile, sizeof(c->profile), "%s", r->profile);
	pkid_buf_init(&c->der, PKID_MAX_CERT_SIZE);
	return pkid_buf_append(&c->der, r->der, r->der_len, e);
}

/* RFC 8894 3.3.1.2: RenewalReq is signed with a current certificate of
 * ours; profile receives the profile it was issued under. */
static enum pkid_code
check_renewal(struct pkid_scep *s, X509 *signer, char *profile,
    size_t len, struct pkid_err *e)
{
	struct own_cert c;
	unsigned char *der = NULL;
	char serial[48];
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&c, 0, sizeof(c));
	pkid_x509_serial_hex(X509_get0_serialNumber(signer), serial,
	    sizeof(serial));
	rc = pkid_store_cert_get(s->ca->store, serial, own_copy, &c, e);
	if (rc == PKID_E_NOT_FOUND)
		pkid_err_clear(e);
	else if (rc != PKID_OK)
		goto out;
	n = i2d_X509(signer, &der);
	PKID_CHECK(c.found && n > 0 && (size_t)n == c.der.len &&
	    memcmp(der, c.der.p, c.der.len) == 0, PKID_E_SCEP_RENEWAL_SIGNER,
	    "the RenewalReq signer (serial %s) is not a certificate this CA "
	    "issued", serial);
	PKID_CHECK(!c.revoked, PKID_E_SCEP_RENEWAL_SIGNER, "the RenewalReq "
	    "signer (serial %s) is revoked", serial);
	PKID_CHECK(X509_cmp_time(X509_get0_notAfter(signer), NULL) > 0,
	    PKID_E_SCEP_RENEWAL_SIGNER, "the RenewalReq signer (serial %s) "
	    "has expired", serial);
	snprintf(profile, len, "%s", c.profile);
	rc = PKID_OK;
out:
	OPENSSL_free(der);
	pkid_buf_free(&c.der);
	return rc;
}

/*
 * A new transaction's record was refused because the same transactionID
 * was recorded meanwhile, or its one-time challenge was used meanwhile:
 * when a retransmission of this very request (same transactionID and
 * CSR) overtook it, answer what that one was answered (RFC 8894 3.3.1);
 * else keep the refusal rc.
 */
static enum pkid_code
overtaken(struct pkid_scep *s, const char *tid, const char *digest,
    enum pkid_code rc, struct scep_outcome *o, struct pkid_err *e)
{
	struct txn t;
	struct pkid_err fe;

	if (rc != PKID_E_CHALLENGE_BAD && rc != PKID_E_REQUEST_STATE &&
	    rc != PKID_E_STORE_CONSTRAINT)
		return rc;
	memset(&t, 0, sizeof(t));
	pkid_err_clear(&fe);
	if (txn_find(s, tid, &t, &fe) == PKID_OK && t.found &&
	    strcmp(t.digest, digest) == 0) {
		pkid_err_clear(e);
		pkid_scep_outcome_free(o);
		o->status = PKID_SCEP_FAILURE;
		o->fail = PKID_SCEP_BADREQUEST;
		rc = answer_known(s, &t, o, e);
	}
	pkid_buf_free(&t.csr);
	pkid_buf_free(&t.cert);
	return rc;
}

/* 1 when the request's public key is key (RFC 8894 2.3: a PKCSReq
 * and a CertPoll are signed with the request's key). */
static int
csr_key_is(X509_REQ *csr, EVP_PKEY *key)
{
	EVP_PKEY *mine = NULL;
	int same;

	if (pkid_csr_key(csr, &mine, NULL) != PKID_OK)
		return 0;
	same = EVP_PKEY_eq(mine, key) == 1;
	EVP_PKEY_free(mine);
	return same;
}

/*
 * RFC 8894 3.2.2: the reply is enveloped to the certificate that signed
 * the request, with PKCS#7 key transport, which needs an RSA key. A
 * request whose answer could never be read is refused before anything
 * is issued (badAlg), not issued and then answered 500.
 */
static enum pkid_code
check_recipient(const struct pkid_scep_msg *m, struct scep_outcome *o,
    struct pkid_err *e)
{
	EVP_PKEY *k = X509_get0_pubkey(m->signer);
	char desc[64] = "an undecodable key";

	if (k != NULL && EVP_PKEY_get_base_id(k) == EVP_PKEY_RSA)
		return PKID_OK;
	if (k != NULL)
		pkid_key_describe(k, desc, sizeof(desc));
	o->status = PKID_SCEP_FAILURE;
	o->fail = PKID_SCEP_BADALG;
	return PKID_ERR(e, PKID_E_SCEP_RECIPIENT_KEY, "the %s is signed with "
	    "a certificate of %s; the reply can only be encrypted to an RSA "
	    "key (RFC 8894 3.2.2, PKCS#7 key transport)", m->type ==
	    PKID_SCEP_RENEWALREQ ? "RenewalReq" : "PKCSReq", desc);
}

/* PKCSReq and RenewalReq (RFC 8894 3.3.1). */
static enum pkid_code
decide_enroll(struct pkid_scep *s, const struct pkid_scep_msg *m,
    const struct pkid_buf *inner, const char *client,
    struct scep_outcome *o, struct pkid_err *e)
{
	struct pkid_requester rq;
	struct txn t;
	X509_REQ *csr = NULL;
	char digest[65], profile[64], requester[128], once[65];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&t, 0, sizeof(t));
	once[0] = '\0';
	snprintf(requester, sizeof(requester), "scep:%s", client);
	/* A RenewalReq is bound to its signer's names (RFC 8894 3.3.1.2);
	 * a PKCSReq's challenge is a bootstrap credential. In RA mode the
	 * signer is the upstream's: pkid_scep_ra_check_renewal checks. */
	rq.who = requester;
	rq.bound = m->type == PKID_SCEP_RENEWALREQ && s->up == NULL ?
	    m->signer : NULL;
	if ((rc = pkid_x509_load_csr(inner->p, inner->len, &csr, e)) !=
	    PKID_OK) {
		fail(o, PKID_SCEP_BADREQUEST, rc);
		goto out;
	}
	pkid_csr_digest(csr, digest);
	pkid_trace_subject(pkid_x509_name_text(X509_REQ_get_subject_name(csr),
	    requester, sizeof(requester)));
	snprintf(requester, sizeof(requester), "scep:%s", client);
	PKID_TRY(txn_find(s, m->tid, &t, e));
	if (t.found) {
		/* RFC 8894 3.2.1.1: one transactionID, one request. One the
		 * upstream refused (RA mode) leaves it to a corrected
		 * request: strongSwan derives it from the key. */
		if (strcmp(t.digest, digest) != 0 &&
		    strcmp(t.state, "failed") != 0) {
			rc = fail(o, PKID_SCEP_BADREQUEST, PKID_ERR(e,
			    PKID_E_SCEP_TRANSACTION_CONFLICT, "transactionID "
			    "%s already holds request %lld with another CSR",
			    m->tid, (long long)t.id));
			goto out;
		}
		if (strcmp(t.digest, digest) == 0) {
			rc = answer_known(s, &t, o, e);
			goto out;
		}
	}
	if (m->type == PKID_SCEP_RENEWALREQ && s->up != NULL) {
		/* RA mode: the signer is the upstream's, not in our table. */
		rc = pkid_scep_ra_check_renewal(s, m->signer, csr, profile,
		    sizeof(profile), e);
	} else if (m->type == PKID_SCEP_RENEWALREQ) {
		rc = check_renewal(s, m->signer, profile, sizeof(profile), e);
	} else if (!csr_key_is(csr, X509_get0_pubkey(m->signer))) {
		rc = PKID_ERR(e, PKID_E_SCEP_KEY_MISMATCH, "RFC 8894 2.3: "
		    "the PKCSReq is signed with another key than the CSR's");
		o->fail = PKID_SCEP_BADMESSAGECHECK;
		o->status = PKID_SCEP_FAILURE;
		goto out;
	} else {
		rc = pkid_scep_challenge_check(s, csr, profile,
		    sizeof(profile), once, e);
	}
	if (rc == PKID_OK && t.found)
		rc = pkid_store_request_retire(s->ca->store, t.id, requester,
		    e);
	if (rc != PKID_OK) {
		fail(o, PKID_SCEP_BADREQUEST, rc);
		goto out;
	}
	if ((rc = check_recipient(m, o, e)) != PKID_OK)
		goto out;
	pkid_trace_profile(profile);
	rc = enroll(s, m->tid, csr, profile, &rq,
	    once[0] != '\0' ? once : NULL, o, e);
	if (rc != PKID_OK)
		rc = overtaken(s, m->tid, digest, rc, o, e);
out:
	if (rc != PKID_OK && o->status != PKID_SCEP_FAILURE)
		fail(o, PKID_SCEP_BADREQUEST, rc);
	X509_REQ_free(csr);
	pkid_buf_free(&t.csr);
	pkid_buf_free(&t.cert);
	return rc;
}

/* CertPoll (GetCertInitial, RFC 8894 3.3.2): the transaction's state,
 * for the key that started it. */
static enum pkid_code
decide_poll(struct pkid_scep *s, const struct pkid_scep_msg *m,
    const struct pkid_buf *inner, struct scep_outcome *o,
    struct pkid_err *e)
{
	struct txn t;
	X509_NAME *iss = NULL, *subj = NULL;
	X509_REQ *csr = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&t, 0, sizeof(t));
	o->fail = PKID_SCEP_BADREQUEST;
	PKID_TRY(pkid_scep_iasubj_parse(inner->p, inner->len, &iss, &subj, e));
	PKID_TRY(txn_find(s, m->tid, &t, e));
	o->fail = PKID_SCEP_BADCERTID;
	PKID_CHECK(t.found, PKID_E_NOT_FOUND, "no SCEP transaction %s",
	    m->tid);
	PKID_TRY(pkid_x509_load_csr(t.csr.p, t.csr.len, &csr, e));
	o->fail = PKID_SCEP_BADMESSAGECHECK;
	PKID_CHECK(csr_key_is(csr, X509_get0_pubkey(m->signer)),
	    PKID_E_SCEP_KEY_MISMATCH,
	    "the CertPoll for %s is signed with another key than its "
	    "request's", m->tid);
	rc = answer_known(s, &t, o, e);
out:
	if (rc != PKID_OK)
		o->status = PKID_SCEP_FAILURE;
	X509_NAME_free(iss);
	X509_NAME_free(subj);
	X509_REQ_free(csr);
	pkid_buf_free(&t.csr);
	pkid_buf_free(&t.cert);
	return rc;
}

/* GetCert and GetCRL (RFC 8894 3.3.3, 3.3.4): IssuerAndSerialNumber of
 * a certificate of ours. */
static enum pkid_code
decide_get(struct pkid_scep *s, const struct pkid_scep_msg *m,
    const struct pkid_buf *inner, struct scep_outcome *o,
    struct pkid_err *e)
{
	X509_NAME *iss = NULL;
	ASN1_INTEGER *sn = NULL;
	char serial[48];
	enum pkid_code rc = PKID_E_INTERNAL;

	o->fail = PKID_SCEP_BADREQUEST;
	PKID_TRY(pkid_scep_ias_parse(inner->p, inner->len, &iss, &sn, e));
	o->fail = PKID_SCEP_BADCERTID;
	PKID_CHECK(X509_NAME_cmp(iss, X509_get_subject_name(s->ca->issuing))
	    == 0, PKID_E_NOT_FOUND, "the issuer named is not this CA");
	pkid_x509_serial_hex(sn, serial, sizeof(serial));
	if (m->type == PKID_SCEP_GETCERT) {
		PKID_TRY(pkid_ca_cert_by_serial(s->ca, serial, &o->cert, e));
		snprintf(o->serial, sizeof(o->serial), "%s", serial);
	} else {
		o->fail = PKID_SCEP_BADREQUEST;
		PKID_TRY(pkid_ca_crl(s->ca, &o->crl, e));
	}
	o->status = PKID_SCEP_SUCCESS;
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		o->status = PKID_SCEP_FAILURE;
	X509_NAME_free(iss);
	ASN1_INTEGER_free(sn);
	return rc;
}

enum pkid_code
pkid_scep_decide(struct pkid_scep *s, const struct pkid_scep_msg *m,
    const struct pkid_buf *inner, const char *client,
    struct scep_outcome *o, struct pkid_err *e)
{
	o->status = PKID_SCEP_FAILURE;
	o->fail = PKID_SCEP_BADREQUEST;
	switch (m->type) {
	case PKID_SCEP_PKCSREQ:
	case PKID_SCEP_RENEWALREQ:
		return decide_enroll(s, m, inner, client, o, e);
	case PKID_SCEP_CERTPOLL:
		return decide_poll(s, m, inner, o, e);
	case PKID_SCEP_GETCERT:
	case PKID_SCEP_GETCRL:
		return decide_get(s, m, inner, o, e);
	default:
		return PKID_ERR(e, PKID_E_SCEP_UNKNOWN_TYPE, "RFC 8894 "
		    "3.2.1.2: messageType %d is not a request this server "
		    "handles", m->type);
	}
}
