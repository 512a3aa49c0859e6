/*
 * crl.c - revocation from the CRLs the caller gave (RFC 5280 6.3, complete
 * CRLs only): a CRL counts for a certificate when its issuer name is the
 * certificate's issuer and the path's issuer key verifies it. A CRL that
 * counts but is unusable fails the check (fail closed).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "core/clock.h"
#include "x509/load.h"
#include "verify/internal.h"

/* CRL extensions a complete, direct CRL may carry critical: none. */
const char *
pkid_crl_unsupported(X509_CRL *crl, X509 *issuer, char *buf, size_t len)
{
	uint32_t ku = X509_get_key_usage(issuer);
	int i, crit = 0;
	ASN1_INTEGER *num;

	if (ku != UINT32_MAX && !(ku & KU_CRL_SIGN))
		return "RFC 5280 4.2.1.3: the issuer's keyUsage lacks cRLSign";
	num = X509_CRL_get_ext_d2i(crl, NID_crl_number, &crit, NULL);
	ASN1_INTEGER_free(num);
	ERR_clear_error();
	if (num == NULL)
		return "RFC 5280 5.2.3: cRLNumber is missing";
	if (crit)
		return "RFC 5280 5.2.3: cRLNumber must not be critical";
	for (i = 0; i < X509_CRL_get_ext_count(crl); i++) {
		X509_EXTENSION *ex = X509_CRL_get_ext(crl, i);
		int nid = OBJ_obj2nid(X509_EXTENSION_get_object(ex));

		if (nid == NID_delta_crl ||
		    nid == NID_issuing_distribution_point) {
			snprintf(buf, len, "%s CRLs are not supported",
			    OBJ_nid2ln(nid));
			return buf;
		}
		if (X509_EXTENSION_get_critical(ex) &&
		    nid != NID_authority_key_identifier) {
			snprintf(buf, len, "RFC 5280 5.2: critical CRL "
			    "extension %s is not understood",
			    OBJ_nid2ln(nid));
			return buf;
		}
	}
	return NULL;
}

static const char *
crl_unusable(struct vrun *r, X509_CRL *crl, X509 *issuer, char *buf,
    size_t len)
{
	const ASN1_TIME *nu = X509_CRL_get0_nextUpdate(crl);
	const char *bad = pkid_crl_unsupported(crl, issuer, buf, len);

	if (bad != NULL)
		return bad;
	if (ASN1_TIME_cmp_time_t(X509_CRL_get0_lastUpdate(crl), r->at) > 0)
		return "RFC 5280 5.1.2.4: thisUpdate is after the validation "
		    "time";
	if (nu != NULL && ASN1_TIME_cmp_time_t(nu, r->at) < 0)
		return "RFC 5280 5.1.2.5: nextUpdate has passed; get a newer "
		    "CRL";
	return NULL;
}

/* RFC 5280 5.3.1 CRLReason names, by value. */
const char *
pkid_crl_reason_name(long rc)
{
	static const char *const names[] = { "unspecified", "keyCompromise",
	    "cACompromise", "affiliationChanged", "superseded",
	    "cessationOfOperation", "certificateHold", "(7)",
	    "removeFromCRL", "privilegeWithdrawn", "aACompromise" };

	if (rc < 0 || rc >= (long)(sizeof(names) / sizeof(names[0])))
		return "unspecified";
	return names[rc];
}

static void
report_revoked(X509 *x, int depth, X509_REVOKED *rev, struct vfind_set *s)
{
	ASN1_ENUMERATED *reason;
	char when[32], sn[80];
	long rc = -1;
	struct tm tm;

	reason = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
	if (reason != NULL)
		rc = ASN1_ENUMERATED_get(reason);
	ASN1_ENUMERATED_free(reason);
	ERR_clear_error();
	snprintf(when, sizeof(when), "(unknown)");
	if (ASN1_TIME_to_tm(X509_REVOKED_get0_revocationDate(rev), &tm))
		pkid_time_fmt(timegm(&tm), when, sizeof(when));
	pkid_x509_serial_hex(X509_get0_serialNumber(x), sn, sizeof(sn));
	vfind(s, PKID_E_REVOKED, depth, x, NULL, "RFC 5280 6.3: serial %s "
	    "revoked on %s, reason %s (RFC 5280 5.3.1)", sn, when,
	    pkid_crl_reason_name(rc));
}

void
vcheck_crl(struct vrun *r, const size_t *p, size_t n, struct vfind_set *s)
{
	STACK_OF(X509_CRL) *crls = r->c->crls;
	char buf[200];
	const char *bad;
	size_t i;
	int j, used;

	if (sk_X509_CRL_num(crls) == 0)
		return;
	for (i = 0; i + 1 < n; i++) {
		X509 *x = r->pool[p[i]].x, *iss = r->pool[p[i + 1]].x;
		EVP_PKEY *k = X509_get0_pubkey(iss);
		X509_REVOKED *rev = NULL;

		used = 0;
		for (j = 0; j < sk_X509_CRL_num(crls); j++) {
			X509_CRL *crl = sk_X509_CRL_value(crls, j);

			if (X509_NAME_cmp(X509_CRL_get_issuer(crl),
			    X509_get_issuer_name(x)) != 0 || k == NULL ||
			    X509_CRL_verify(crl, k) != 1) {
				ERR_clear_error();
				continue;
			}
			used = 1;
			if ((bad = crl_unusable(r, crl, iss, buf,
			    sizeof(buf))) != NULL) {
				vfind(s, PKID_E_CRL_PROBLEM, (int)i, x, NULL,
				    "the CRL of its issuer cannot be used: %s",
				    bad);
				continue;
			}
			if (X509_CRL_get0_by_cert(crl, &rev, x) == 1)
				report_revoked(x, (int)i, rev, s);
		}
		if (!used)
			vnote(r, "revocation of cert[%zu] not checked: no CRL "
			    "from its issuer", i);
	}
}
