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

#include "core/log.h"
#include "est/ra.h"
#include "scep/scep_int.h"
#include "x509/load.h"

enum pkid_code
pkid_scep_ra_new(struct pkid_scep *s, struct pkid_err *e)
{
	const struct pkid_config *c = &s->ca->cfg;
	const struct pkid_est_label *l;
	const char *name = c->scep_upstream_label;

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
	    c != PKID_E_UPSTREAM_AUTH_FAILED;
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
