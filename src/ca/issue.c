/*
 * issue.c - issuance, revocation and CRLs of an open CA.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "ca/build.h"
#include "ca/ca.h"
#include "ca/ca_int.h"
#include "ca/policy.h"
#include "ca/signer.h"
#include "core/clock.h"
#include "x509/load.h"

void
pkid_issue_result_clear(struct pkid_issue_result *r)
{
	if (r == NULL)
		return;
	X509_free(r->cert);
	memset(r, 0, sizeof(*r));
}

/* notBefore/notAfter, capped at the issuer's notAfter. */
static void
validity(struct pkid_ca *ca, const struct pkid_profile *p, int64_t now,
    int64_t *nb, int64_t *na, struct pkid_issue_result *res)
{
	const ASN1_TIME *cap = X509_get0_notAfter(ca->issuing);
	struct tm tm;
	int64_t capt;
	char t1[32], t2[32];

	*nb = now - p->backdate;
	*na = now + p->lifetime;
	if (ASN1_TIME_to_tm(cap, &tm) != 1)
		return;
	capt = (int64_t)timegm(&tm);
	if (*na > capt) {
		res->capped = 1;
		snprintf(res->note, sizeof(res->note), "notAfter capped at the "
		    "issuing CA's notAfter %s (profile %s asked for %s)",
		    pkid_time_fmt((time_t)capt, t1, sizeof(t1)), p->name,
		    pkid_time_fmt((time_t)*na, t2, sizeof(t2)));
		*na = capt;
	}
}

/* What store_cert needs besides the certificate. */
struct store_args {
	const char *serial;		/* hex serial */
	const char *profile;		/* profile name */
	const char *requester;		/* who asked */
	const GENERAL_NAMES *sans;	/* its SANs */
	int64_t now;			/* issuance time */
	const struct pkid_request *record; /* request row to add, or NULL */
	int64_t *record_id;		/* its id */
};

static enum pkid_code
store_cert(struct pkid_ca *ca, X509 *x, const struct store_args *a,
    struct pkid_err *e)
{
	struct pkid_request req;
	struct pkid_cert_rec r;
	unsigned char *der = NULL;
	char subj[512], santext[2048], fp[65];
	struct tm tm;
	int len;
	enum pkid_code rc;

	if ((len = i2d_X509(x, &der)) <= 0)
		return PKID_ERR(e, PKID_E_CRYPTO, "encoding the certificate");
	memset(&r, 0, sizeof(r));
	r.serial = a->serial;
	r.ca_gen = ca->issuing_gen;
	r.subject = pkid_x509_name_text(X509_get_subject_name(x), subj,
	    sizeof(subj));
	r.sans = pkid_sans_text(a->sans, santext, sizeof(santext));
	r.profile = a->profile;
	r.requester = a->requester;
	ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm);
	r.not_before = (int64_t)timegm(&tm);
	ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm);
	r.not_after = (int64_t)timegm(&tm);
	r.issued_at = a->now;
	r.der = der;
	r.der_len = (size_t)len;
	pkid_x509_fingerprint(x, fp);
	r.fingerprint = fp;
	if (a->record != NULL) {
		req = *a->record;
		req.cert_serial = a->serial;
	}
	rc = pkid_store_cert_add_request(ca->store, &r, a->record != NULL ?
	    &req : NULL, a->record_id, e);
	OPENSSL_free(der);
	return rc;
}

static void
audit_refusal(struct pkid_ca *ca, X509_REQ *csr, const char *requester,
    const struct pkid_err *e)
{
	char subj[512], msg[1024];
	struct pkid_err ignore;

	pkid_err_clear(&ignore);
	pkid_x509_name_text(X509_REQ_get_subject_name(csr), subj,
	    sizeof(subj));
	(void)pkid_store_audit(ca->store, requester, "issue", subj,
	    pkid_err_id(e->code), pkid_err_message(e, msg, sizeof(msg)),
	    &ignore);
}

enum pkid_code
pkid_ca_issue(struct pkid_ca *ca, X509_REQ *csr, const char *profile,
    const struct pkid_requester *rq, struct pkid_issue_result *res,
    struct pkid_err *e)
{
	return pkid_ca_issue_record(ca, csr, profile, rq, NULL, res, e);
}

enum pkid_code
pkid_ca_issue_record(struct pkid_ca *ca, X509_REQ *csr, const char *profile,
    const struct pkid_requester *rq, const struct pkid_request *record,
    struct pkid_issue_result *res, struct pkid_err *e)
{
	const char *requester = rq != NULL && rq->who != NULL ? rq->who : "?";
	struct store_args sa;
	const struct pkid_profile *p;
	struct pkid_certspec spec;
	struct pkid_ca_checked c;
	char cdp[PKID_RA_CRL_MAX_URL + 32], aia[PKID_RA_CRL_MAX_URL + 32];
	char ocsp[PKID_RA_CRL_MAX_URL + 32];
	X509 *x = NULL;
	int64_t now = (int64_t)pkid_now();
	int attempt;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(res, 0, sizeof(*res));
	memset(&c, 0, sizeof(c));
	p = pkid_config_profile(&ca->cfg, profile);
	PKID_CHECK(p != NULL, PKID_E_PROFILE_UNKNOWN,
	    "no profile '%s' in %s", profile, ca->cfg.path);
	PKID_TRY(pkid_ca_check_request(ca, p, csr, rq, &c, e));
	memset(&spec, 0, sizeof(spec));
	spec.subject = c.subject;
	spec.pubkey = c.key;
	spec.spki = X509_REQ_get_X509_PUBKEY(csr);
	spec.issuer = ca->issuing;
	spec.pathlen = -1;
	spec.key_usage = p->key_usage;
	spec.eku = p->eku;
	spec.sans = c.sans;
	/* Each certificate names the CRL and certificate of its own
	 * issuer's generation (pub.c), after a rollover too. */
	spec.crl_url = pkid_ca_pub_url(&ca->cfg, PKID_PUB_CRL, 0,
	    ca->generation, cdp, sizeof(cdp));
	spec.aia_url = pkid_ca_pub_url(&ca->cfg, PKID_PUB_CA_ISSUERS, 0,
	    ca->generation, aia, sizeof(aia));
	/* One responder URL for every generation (src/ocsp/). */
	if (pkid_config_pub_url(&ca->cfg, PKID_PUB_OCSP, ocsp, sizeof(ocsp),
	    NULL))
		spec.ocsp_url = ocsp;
	validity(ca, p, now, &spec.not_before, &spec.not_after, res);
	/* A serial collision (2^-64 odds per pair) is redrawn, twice. */
	for (attempt = 0; attempt < 3; attempt++) {
		X509_free(x);
		x = NULL;
		PKID_TRY(pkid_cert_build(&spec, &x, res->serial, e));
		PKID_TRY(pkid_lint_tbs(x, e));
		PKID_TRY(pkid_signer_sign_cert(ca->signer, x, e));
		memset(&sa, 0, sizeof(sa));
		sa.serial = res->serial;
		sa.profile = p->name;
		sa.requester = requester;
		sa.sans = c.sans;
		sa.now = now;
		sa.record = record;
		sa.record_id = &res->request_id;
		rc = store_cert(ca, x, &sa, e);
		if (rc != PKID_E_STORE_CONSTRAINT)
			break;
		pkid_err_clear(e);
	}
	if (rc == PKID_E_STORE_CONSTRAINT)
		rc = PKID_ERR(e, PKID_E_SERIAL_COLLISION,
		    "serial %s drawn three times", res->serial);
	if (rc != PKID_OK)
		goto out;
	res->cert = x;
	x = NULL;
out:
	if (rc != PKID_OK && e != NULL)
		audit_refusal(ca, csr, requester, e);
	pkid_ca_checked_free(&c);
	X509_free(x);
	return rc;
}

static const char *const reasons[] = {
	"unspecified", "keyCompromise", "cACompromise", "affiliationChanged",
	"superseded", "cessationOfOperation", "certificateHold", NULL,
	"removeFromCRL", "privilegeWithdrawn", "aACompromise",
};

int
pkid_ca_reason_code(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i] != NULL && strcasecmp(reasons[i], name) == 0)
			return (int)i;
	return -1;
}

const char *
pkid_ca_reason_name(int code)
{
	if (code < 0 || (size_t)code >= sizeof(reasons) / sizeof(reasons[0]) ||
	    reasons[code] == NULL)
		return "unknown";
	return reasons[code];
}

/* Accept 0x prefixes, colons and upper case; the store keeps lower-case
 * hex of whole octets, as pkid_x509_serial_hex writes it (BN_bn2hex), so
 * pad to even length and drop zero octets. */
static enum pkid_code
serial_norm(const char *serial, char *norm, size_t len, struct pkid_err *e)
{
	size_t i, n = 0;

	if (strncasecmp(serial, "0x", 2) == 0)
		serial += 2;
	for (i = 0; serial[i] != '\0' && n + 1 < len; i++) {
		char c = serial[i];

		if (c == ':')
			continue;
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
		    (c >= 'A' && c <= 'F')))
			return PKID_ERR(e, PKID_E_USAGE,
			    "serial '%s' is not hexadecimal", serial);
		norm[n++] = (char)((c >= 'A' && c <= 'F') ? c + 32 : c);
	}
	norm[n] = '\0';
	if (n == 0)
		return PKID_ERR(e, PKID_E_USAGE, "empty serial");
	if (n % 2 == 1) {
		memmove(norm + 1, norm, n + 1);
		norm[0] = '0';
		n++;
	}
	while (n > 2 && norm[0] == '0' && norm[1] == '0') {
		memmove(norm, norm + 2, n - 1);
		n -= 2;
	}
	return PKID_OK;
}

enum pkid_code
pkid_ca_revoke(struct pkid_ca *ca, const char *serial, int reason,
    const char *actor, struct pkid_err *e)
{
	char norm[48];

	if (serial_norm(serial, norm, sizeof(norm), e) != PKID_OK)
		return e->code;
	return pkid_store_revoke(ca->store, norm, reason, (int64_t)pkid_now(),
	    actor, e);
}

enum pkid_code
pkid_ca_unrevoke(struct pkid_ca *ca, const char *serial, const char *actor,
    struct pkid_err *e)
{
	char norm[48];

	if (serial_norm(serial, norm, sizeof(norm), e) != PKID_OK)
		return e->code;
	return pkid_store_unrevoke(ca->store, norm, (int64_t)pkid_now(), actor,
	    e);
}
