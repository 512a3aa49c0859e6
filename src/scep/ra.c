/*
 * ra.c - SCEP in registration-authority mode: pkid authorises a PKCSReq
 * (challenge, signature, algorithms: as when it issues itself) and the
 * upstream CA of an EST label issues, over EST simpleenroll with this
 * RA's client certificate (src/est/ra.c). Old SCEP-only devices in front
 * of a modern CA (RFC 8894 2.1 allows an RA between client and CA).
 *
 * The transaction stays in the local store (kind "scep"): "issued" with
 * the upstream's certificate, "ra-pending" while the upstream says
 * 202, "failed" when the upstream refused or could not be reached. A
 * retransmission gets the same answer; a CertPoll (or the same PKCSReq)
 * of an ra-pending transaction asks the upstream again.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "ca/policy.h"
#include "core/clock.h"
#include "core/log.h"
#include "est/ra.h"
#include "scep/scep_int.h"
#include "verify/verify.h"
#include "x509/load.h"

enum pkid_code
pkid_scep_ra_new(struct pkid_scep *s, struct pkid_err *e)
{
	const struct pkid_config *c = &s->ca->cfg;
	const struct pkid_est_label *l;
	const char *name = c->scep_upstream_label;
	char state[1200];

	l = pkid_config_est_label(c, name);
	if (l == NULL)
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE, "[scep] "
		    "upstream_label = %s names no [est %s] section in %s",
		    name, name, c->path);
	if (l->upstream[0] == '\0')
		return PKID_OK;
	if ((s->up = pkid_est_ra_new(l, e)) == NULL) {
		pkid_err_ctx(e, "setting up SCEP registration-authority mode");
		return e->code;
	}
	if (l->upstream_certsrv) {
		snprintf(state, sizeof(state), "%s/certsrv-scep.pending",
		    s->ca->dir);
		pkid_est_ra_state(s->up, state);
	}
	pkid_log(PKID_LOG_INFO, "scep: registration authority: requests "
	    "authorised here are issued by %s (EST label %s)", l->upstream,
	    name[0] != '\0' ? name : "(default)");
	return PKID_OK;
}

void
pkid_scep_ra_free(struct pkid_scep *s)
{
	pkid_est_ra_free(s->up);
	s->up = NULL;
}

/* Verify signer against cas, all of them anchors: they came from the
 * upstream over TLS authenticated with upstream_cacert. *verr:
 * X509_V_OK or why not. */
static enum pkid_code
chains_to(STACK_OF(X509) *cas, X509 *signer, int *verr, struct pkid_err *e)
{
	X509_STORE *st = NULL;
	X509_STORE_CTX *ctx = NULL;
	int i, n;
	enum pkid_code rc = PKID_E_INTERNAL;

	*verr = X509_V_ERR_UNSPECIFIED;
	PKID_OSSL_PTR(st = X509_STORE_new(), PKID_E_NOMEM, "no memory");
	for (i = 0; i < sk_X509_num(cas); i++)
		PKID_OSSL(X509_STORE_add_cert(st, sk_X509_value(cas, i)),
		    PKID_E_CRYPTO, "X509_STORE_add_cert");
	/* The upstream's issuing CA is enough when it lists no root. */
	PKID_OSSL(X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN),
	    PKID_E_CRYPTO, "X509_STORE_set_flags");
	PKID_OSSL(X509_STORE_set_depth(st, PKID_MAX_CHAIN_DEPTH),
	    PKID_E_CRYPTO, "X509_STORE_set_depth");
	PKID_OSSL_PTR(ctx = X509_STORE_CTX_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_STORE_CTX_init(ctx, st, signer, NULL), PKID_E_CRYPTO,
	    "X509_STORE_CTX_init");
	X509_STORE_CTX_set_time(ctx, 0, pkid_now());
	n = X509_verify_cert(ctx);
	PKID_CHECK(n >= 0, PKID_E_CRYPTO, "X509_verify_cert failed");
	*verr = n == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
	rc = PKID_OK;
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(st);
	return rc;
}

/* GetCACert lists the upstream's CAs and the RA: a client that checks
 * the CertRep signer against them (certmonger) needs an RA certificate
 * the upstream issued. Say so when it is not. */
static void
warn_foreign_ra(struct pkid_scep *s, STACK_OF(X509) *cas)
{
	struct pkid_err ve;
	char subj[256];
	int verr = X509_V_OK;

	pkid_err_clear(&ve);
	if (s->ra == NULL || chains_to(cas, s->ra, &verr, &ve) != PKID_OK ||
	    verr == X509_V_OK)
		return;
	pkid_log(PKID_LOG_WARN, "scep ra: the RA certificate (%s) does not "
	    "chain to the CA certificates of upstream %s (%s): clients that "
	    "verify CertRep signatures against GetCACert (certmonger) will "
	    "refuse them; install in %s/scep/ra.pem a certificate the "
	    "upstream issued for %s/scep/ra.key (digitalSignature, "
	    "keyEncipherment, no extendedKeyUsage)",
	    pkid_x509_name_text(X509_get_subject_name(s->ra), subj,
	    sizeof(subj)), pkid_est_ra_url(s->up),
	    X509_verify_cert_error_string(verr), s->ca->dir, s->ca->dir);
}

enum pkid_code
pkid_scep_ra_cacerts(struct pkid_scep *s, int refresh, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	int fetched = 0;
	enum pkid_code rc;

	rc = pkid_est_ra_cas(s->up, refresh, out, &fetched, e);
	if (rc == PKID_OK && fetched)
		warn_foreign_ra(s, *out);
	return rc;
}

enum pkid_code
pkid_scep_ra_ca_cert(struct pkid_scep *s, struct pkid_buf *out,
    struct pkid_err *e)
{
	STACK_OF(X509) *up = NULL, *certs = NULL;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, 1);
	PKID_TRY(pkid_scep_ra_cacerts(s, 0, &up, e));
	PKID_OSSL_PTR(certs = sk_X509_new_null(), PKID_E_NOMEM, "no memory");
	/* The issuing CA first, then the RA, as for a local CA. */
	for (i = 0; i < sk_X509_num(up); i++) {
		PKID_OSSL(sk_X509_push(certs, sk_X509_value(up, i)),
		    PKID_E_NOMEM, "no memory");
		if (i == 0 && s->ra != NULL)
			PKID_OSSL(sk_X509_push(certs, s->ra), PKID_E_NOMEM,
			    "no memory");
	}
	rc = pkid_scep_certs_only(certs, NULL, out, e);
out:
	sk_X509_free(certs);		/* members belong to up and s */
	sk_X509_pop_free(up, X509_free);
	return rc;
}

/* The signer chains to the upstream's CAs: the cached copy, else (the
 * upstream may have a new CA since) a fresh one. */
static enum pkid_code
check_chain(struct pkid_scep *s, X509 *signer, const char *serial,
    struct pkid_err *e)
{
	STACK_OF(X509) *cas = NULL;
	int verr = X509_V_OK;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_scep_ra_cacerts(s, 0, &cas, e));
	PKID_TRY(chains_to(cas, signer, &verr, e));
	if (verr != X509_V_OK && verr != X509_V_ERR_CERT_HAS_EXPIRED &&
	    verr != X509_V_ERR_CERT_NOT_YET_VALID) {
		sk_X509_pop_free(cas, X509_free);
		cas = NULL;
		PKID_TRY(pkid_scep_ra_cacerts(s, 1, &cas, e));
		PKID_TRY(chains_to(cas, signer, &verr, e));
	}
	PKID_CHECK(verr == X509_V_OK, PKID_E_SCEP_RENEWAL_SIGNER, "the "
	    "RenewalReq signer (serial %s) does not verify against the %d CA "
	    "certificate(s) of upstream %s: %s: %s", serial, sk_X509_num(cas),
	    pkid_est_ra_url(s->up), pkid_err_id(pkid_verify_map_x509_err(
	    verr)), X509_verify_cert_error_string(verr));
	rc = PKID_OK;
out:
	sk_X509_pop_free(cas, X509_free);
	return rc;
}

/* A RenewalReq refused for the revocation of its signer: audited, as
 * EST refusals are. */
static void
audit_refusal(struct pkid_scep *s, const char *subject,
    const struct pkid_err *e)
{
	struct pkid_err ae;
	char who[300], text[400], msg[512];

	pkid_err_clear(&ae);
	snprintf(who, sizeof(who), "scep:cert:%s", subject);
	pkid_err_message(e, text, sizeof(text));
	snprintf(msg, sizeof(msg), "%.40s: %s", pkid_err_id(e->code), text);
	if (pkid_store_audit(s->ca->store, who, "RenewalReq", "scep",
	    "refused", msg, &ae) != PKID_OK)
		pkid_log_err(PKID_LOG_WARN, &ae, "scep audit");
}

enum pkid_code
pkid_scep_ra_check_renewal(struct pkid_scep *s, X509 *signer,
    X509_REQ *csr, char *profile, size_t len, struct pkid_err *e)
{
	char serial[48], have[256], how[300];
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_x509_serial_hex(X509_get0_serialNumber(signer), serial,
	    sizeof(serial));
	pkid_x509_name_text(X509_get_subject_name(signer), have,
	    sizeof(have));
	PKID_CHECK(X509_check_ca(signer) == 0, PKID_E_SCEP_RENEWAL_SIGNER,
	    "the RenewalReq signer (serial %s) is a CA certificate", serial);
	/* A renewal keeps the identity and changes the key (RFC 8894
	 * 3.3.1.2): the upstream issues what the CSR asks, so its subject
	 * and subjectAltNames are checked here. */
	PKID_TRY(check_chain(s, signer, serial, e));
	PKID_TRY(pkid_policy_csr_same_identity(csr, signer, e));
	/* Revoked (or not known) refuses as a FAILURE badRequest (RFC 8894
	 * 3.2.1.4: "transaction not permitted"): the signer was identified,
	 * so badCertId would misstate it. */
	if ((rc = pkid_est_ra_revocation(s->up, signer, how, sizeof(how),
	    e)) != PKID_OK) {
		audit_refusal(s, have, e);
		goto out;
	}
	pkid_log(PKID_LOG_INFO, "scep ra: RenewalReq signer serial %s (%s) "
	    "chains to upstream %s, %s", serial, have,
	    pkid_est_ra_url(s->up), how);
	snprintf(profile, len, "%s", s->ca->cfg.scep_profile);
	rc = PKID_OK;
out:
	return rc;
}

/* Record a new transaction in state with the upstream's cert (or none)
 * and the reason of a failure (or none). */
static enum pkid_code
record(struct pkid_scep *s, const struct scep_ra_req *q, const char *state,
    X509 *cert, const char *detail, struct scep_outcome *o,
    struct pkid_err *e)
{
	struct pkid_request r;
	unsigned char *csr = NULL, *der = NULL;
	char digest[65];
	int clen, dlen = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&r, 0, sizeof(r));
	pkid_csr_digest(q->csr, digest);
	PKID_OSSL((clen = i2d_X509_REQ(q->csr, &csr)), PKID_E_CRYPTO,
	    "encoding the CSR");
	if (cert != NULL)
		PKID_OSSL((dlen = i2d_X509(cert, &der)), PKID_E_CRYPTO,
		    "encoding the upstream certificate");
	r.kind = "scep";
	r.transaction_id = q->tid;
	r.state = state;
	r.profile = q->profile;
	r.requester = q->requester;
	r.csr_der = csr;
	r.csr_len = (size_t)clen;
	r.csr_digest = digest;
	r.cert_serial = o->serial[0] != '\0' ? o->serial : NULL;
	r.detail = detail;
	r.cert_der = der;
	r.cert_len = (size_t)dlen;
	/* Issued or queued upstream: the one-time challenge is used up in
	 * this commit. A refusal leaves it to a corrected request. */
	if (strcmp(state, "failed") != 0)
		r.challenge_hash = q->challenge;
	rc = pkid_store_request_add(s->ca->store, &r, &o->request_id, e);
out:
	OPENSSL_free(csr);
	OPENSSL_free(der);
	return rc;
}

/* The upstream issued cert: SUCCESS. */
static void
issued(struct scep_outcome *o, X509 *cert)
{
	o->status = PKID_SCEP_SUCCESS;
	o->cert = cert;
	pkid_x509_serial_hex(X509_get0_serialNumber(cert), o->serial,
	    sizeof(o->serial));
}

enum pkid_code
pkid_scep_ra_enroll(struct pkid_scep *s, const struct scep_ra_req *q,
    struct scep_outcome *o, struct pkid_err *e)
{
	struct pkid_err se;
	X509 *cert = NULL;
	char msg[512];
	enum pkid_code rc;

	pkid_err_clear(&se);
	o->status = PKID_SCEP_FAILURE;
	o->fail = PKID_SCEP_BADREQUEST;
	rc = pkid_est_ra_enroll(s->up, q->csr, &cert, e);
	if (rc != PKID_OK) {
		/* Recorded, so a retransmission gets this FAILURE again. */
		pkid_err_message(e, msg, sizeof(msg));
		if (record(s, q, "failed", NULL, msg, o, &se) != PKID_OK)
			pkid_log_err(PKID_LOG_ERROR, &se, "scep ra: recording "
			    "a failed transaction");
		return rc;
	}
	if (cert == NULL) {
		o->status = PKID_SCEP_PENDING;
		return record(s, q, "ra-pending", NULL, "waits for the "
		    "upstream CA", o, e);
	}
	issued(o, cert);
	return record(s, q, "issued", cert, "issued by the upstream CA", o,
	    e);
}

/* Was this a failure to reach the upstream (worth asking again)? */
static int
transient(enum pkid_code c)
{
	return c != PKID_E_UPSTREAM_BAD_RESPONSE &&
	    c != PKID_E_UPSTREAM_AUTH_FAILED &&
	    c != PKID_E_UPSTREAM_LOGIN_FAILED &&
	    c != PKID_E_UPSTREAM_TEMPLATE && c != PKID_E_UPSTREAM_DENIED;
}

enum pkid_code
pkid_scep_ra_poll(struct pkid_scep *s, int64_t id, const struct pkid_buf *der,
    struct scep_outcome *o, struct pkid_err *e)
{
	X509_REQ *csr = NULL;
	X509 *cert = NULL;
	unsigned char *cd = NULL;
	char msg[512];
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	o->status = PKID_SCEP_FAILURE;
	o->fail = PKID_SCEP_BADREQUEST;
	PKID_CHECK(s->up != NULL, PKID_E_REQUEST_REJECTED, "transaction "
	    "request %lld waits for an upstream CA, but no upstream is "
	    "configured any more", (long long)id);
	PKID_TRY(pkid_x509_load_csr(der->p, der->len, &csr, e));
	if ((rc = pkid_est_ra_enroll(s->up, csr, &cert, e)) != PKID_OK) {
		/* Unreachable: still pending, the device polls again. */
		if (transient(rc)) {
			o->status = PKID_SCEP_PENDING;
			pkid_log_err(PKID_LOG_WARN, e, "scep ra: CertPoll "
			    "left pending");
			pkid_err_clear(e);
			rc = PKID_OK;
			goto out;
		}
		pkid_err_message(e, msg, sizeof(msg));
		(void)pkid_store_request_set(s->ca->store, id, "failed", NULL,
		    msg, "scep-ra", e);
		goto out;
	}
	if (cert == NULL) {
		o->status = PKID_SCEP_PENDING;
		rc = PKID_OK;
		goto out;
	}
	PKID_OSSL((n = i2d_X509(cert, &cd)), PKID_E_CRYPTO, "encoding the "
	    "upstream certificate");
	issued(o, cert);
	cert = NULL;
	PKID_TRY(pkid_store_request_set_cert(s->ca->store, id, o->serial, cd,
	    (size_t)n, "scep-ra", e));
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		o->status = PKID_SCEP_FAILURE;
	X509_REQ_free(csr);
	X509_free(cert);
	OPENSSL_free(cd);
	return rc;
}
