/*
 * approve.c - enrollment with optional manual approval: requests that wait
 * are kept in the store; an operator approves or rejects them; a client's
 * retry of the same request then gets the certificate.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "ca/ca.h"
#include "ca/ca_int.h"
#include "core/buf.h"
#include "core/clock.h"
#include "x509/load.h"

void
pkid_csr_digest(X509_REQ *csr, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!X509_REQ_digest(csr, EVP_sha256(), md, &n) || n != 32) {
		out[0] = '\0';
		return;
	}
	pkid_hex(md, 32, out);
}

/* Copy of a request row that outlives the store's callback. */
struct req_copy {
	int64_t id;			/* row id */
	char state[16];			/* state */
	char profile[64];		/* profile */
	char requester[128];		/* requester */
	char serial[48];		/* issued serial, "" if none */
	char detail[256];		/* detail */
	struct pkid_buf csr;		/* CSR DER */
};

static enum pkid_code
copy_req(const struct pkid_request *r, void *arg, struct pkid_err *e)
{
	struct req_copy *c = arg;

	c->id = r->id;
	snprintf(c->state, sizeof(c->state), "%s", r->state);
	snprintf(c->profile, sizeof(c->profile), "%s", r->profile);
	snprintf(c->requester, sizeof(c->requester), "%s", r->requester);
	snprintf(c->serial, sizeof(c->serial), "%s",
	    r->cert_serial != NULL ? r->cert_serial : "");
	snprintf(c->detail, sizeof(c->detail), "%s",
	    r->detail != NULL ? r->detail : "");
	pkid_buf_free(&c->csr);
	pkid_buf_init(&c->csr, 1 << 20);
	return pkid_buf_append(&c->csr, r->csr_der, r->csr_len, e);
}

static enum pkid_code
take_cert(const struct pkid_cert_rec *r, void *arg, struct pkid_err *e)
{
	X509 **out = arg;
	const unsigned char *p = r->der;

	X509_free(*out);
	*out = d2i_X509(NULL, &p, (long)r->der_len);
	if (*out == NULL)
		return PKID_ERR(e, PKID_E_STORE_IO, "stored certificate %s "
		    "does not decode", r->serial);
	return PKID_OK;
}

enum pkid_code
pkid_ca_cert_by_serial(struct pkid_ca *ca, const char *serial, X509 **out,
    struct pkid_err *e)
{
	*out = NULL;
	return pkid_store_cert_get(ca->store, serial, take_cert, out, e);
}

/* Answer a known request: its certificate, or why not. */
static enum pkid_code
answer_known(struct pkid_ca *ca, struct req_copy *c,
    struct pkid_enroll_result *res, struct pkid_err *e)
{
	res->request_id = c->id;
	if (strcmp(c->state, "issued") == 0) {
		res->state = PKID_ENROLL_ISSUED;
		snprintf(res->issue.serial, sizeof(res->issue.serial), "%s",
		    c->serial);
		return pkid_ca_cert_by_serial(ca, c->serial, &res->issue.cert,
		    e);
	}
	if (strcmp(c->state, "pending") == 0) {
		res->state = PKID_ENROLL_PENDING;
		return PKID_OK;
	}
	res->state = PKID_ENROLL_REJECTED;
	return PKID_ERR(e, PKID_E_REQUEST_REJECTED, "request %lld was %s: %s",
	    (long long)c->id, c->state, c->detail[0] ? c->detail : "no reason");
}

enum pkid_code
pkid_ca_enroll(struct pkid_ca *ca, const char *kind, const char *tid,
    X509_REQ *csr, const char *profile, const struct pkid_requester *rq,
    struct pkid_enroll_result *res, struct pkid_err *e)
{
	return pkid_ca_enroll_challenge(ca, kind, tid, csr, profile, rq, NULL,
	    res, e);
}

enum pkid_code
pkid_ca_enroll_challenge(struct pkid_ca *ca, const char *kind,
    const char *tid, X509_REQ *csr, const char *profile,
    const struct pkid_requester *rq, const char *challenge,
    struct pkid_enroll_result *res, struct pkid_err *e)
{
	const struct pkid_profile *p = pkid_config_profile(&ca->cfg, profile);
	struct pkid_ca_checked chk;
	struct pkid_request r;
	struct req_copy c;
	char digest[65];
	unsigned char *der = NULL;
	int len;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	memset(&chk, 0, sizeof(chk));
	PKID_CHECK(p != NULL, PKID_E_PROFILE_UNKNOWN, "no profile '%s'",
	    profile);
	if (!p->manual_approval) {
		/* No request row to consume a challenge with: such callers
		 * use pkid_ca_issue_record. */
		PKID_CHECK(challenge == NULL, PKID_E_INTERNAL, "profile %s "
		    "is auto-approved: its challenge goes with "
		    "pkid_ca_issue_record", profile);
		res->state = PKID_ENROLL_ISSUED;
		return pkid_ca_issue(ca, csr, profile, rq, &res->issue, e);
	}
	pkid_csr_digest(csr, digest);
	if (tid == NULL)
		tid = digest;
	rc = pkid_store_request_find(ca->store, kind, tid, copy_req, &c, e);
	if (rc == PKID_OK) {
		rc = answer_known(ca, &c, res, e);
		goto out;
	}
	PKID_CHECK(rc == PKID_E_NOT_FOUND, rc, "request lookup");
	pkid_err_clear(e);
	/* A new request: check it now, with the credential that sent it
	 * (the approval later issues as the operator), so the operator never
	 * sees one that could not be issued anyway. */
	PKID_TRY(pkid_ca_check_request(ca, p, csr, rq, &chk, e));
	PKID_CHECK((len = i2d_X509_REQ(csr, &der)) > 0, PKID_E_CRYPTO,
	    "encoding the request");
	memset(&r, 0, sizeof(r));
	r.kind = kind;
	r.transaction_id = tid;
	r.state = "pending";
	r.profile = profile;
	r.requester = rq != NULL && rq->who != NULL ? rq->who : "?";
	r.csr_der = der;
	r.csr_len = (size_t)len;
	r.csr_digest = digest;
	r.challenge_hash = challenge;
	PKID_TRY(pkid_store_request_add(ca->store, &r, &res->request_id, e));
	res->state = PKID_ENROLL_PENDING;
	rc = PKID_OK;
out:
	pkid_ca_checked_free(&chk);
	OPENSSL_free(der);
	pkid_buf_free(&c.csr);
	return rc;
}

enum pkid_code
pkid_ca_approve(struct pkid_ca *ca, int64_t id, const char *actor,
    struct pkid_issue_result *res, struct pkid_err *e)
{
	struct pkid_requester rq;
	struct req_copy c;
	X509_REQ *csr = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	PKID_TRY(pkid_store_request_get(ca->store, id, copy_req, &c, e));
	PKID_CHECK(strcmp(c.state, "pending") == 0, PKID_E_REQUEST_STATE,
	    "request %lld is %s, not pending", (long long)id, c.state);
	PKID_TRY(pkid_x509_load_csr(c.csr.p, c.csr.len, &csr, e));
	/* The requester's identity binding was checked when the request
	 * was stored; the operator's approval issues it. */
	rq.who = c.requester;
	rq.bound = NULL;
	rc = pkid_ca_issue(ca, csr, c.profile, &rq, res, e);
	if (rc != PKID_OK) {
		char msg[256];
		struct pkid_err ignore;

		pkid_err_clear(&ignore);
		pkid_err_message(e, msg, sizeof(msg));
		(void)pkid_store_request_set(ca->store, id, "failed", NULL,
		    msg, actor, &ignore);
		goto out;
	}
	PKID_TRY(pkid_store_request_set(ca->store, id, "issued", res->serial,
	    NULL, actor, e));
out:
	X509_REQ_free(csr);
	pkid_buf_free(&c.csr);
	return rc;
}

enum pkid_code
pkid_ca_reject(struct pkid_ca *ca, int64_t id, const char *actor,
    const char *reason, struct pkid_err *e)
{
	struct req_copy c;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&c, 0, sizeof(c));
	PKID_TRY(pkid_store_request_get(ca->store, id, copy_req, &c, e));
	PKID_CHECK(strcmp(c.state, "pending") == 0, PKID_E_REQUEST_STATE,
	    "request %lld is %s, not pending", (long long)id, c.state);
	rc = pkid_store_request_set(ca->store, id, "rejected", NULL,
	    reason != NULL ? reason : "rejected by the operator", actor, e);
out:
	pkid_buf_free(&c.csr);
	return rc;
}
