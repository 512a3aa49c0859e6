/*
 * pathchk.c - checks that need the whole candidate path: validity at the
 * validation time, CA status, pathLenConstraint, the intermediate count,
 * keyUsage and extKeyUsage for the purpose. Then the per-certificate,
 * name-constraint, name and revocation checks.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "core/clock.h"
#include "verify/internal.h"

static const char *
asn1_time_text(const ASN1_TIME *t, char *out, size_t len)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm)) {
		snprintf(out, len, "(unreadable)");
		return out;
	}
	return pkid_time_fmt(timegm(&tm), out, len);
}

static void
check_validity(struct vrun *r, X509 *x, int depth, int anchor,
    struct vfind_set *s)
{
	char when[32], at[32], rem[640], subj[256];
	const ASN1_TIME *nb = X509_get0_notBefore(x);
	const ASN1_TIME *na = X509_get0_notAfter(x);

	pkid_time_fmt(r->at, at, sizeof(at));
	vname(x, subj, sizeof(subj));
	if (ASN1_TIME_cmp_time_t(na, r->at) < 0) {
		snprintf(rem, sizeof(rem), "%s cert[%d] '%s'; if it should "
		    "still be valid, check this machine's clock",
		    anchor ? "replace the expired trust anchor" : "renew",
		    depth, subj);
		vfind(s, PKID_E_EXPIRED, depth, x, rem, "RFC 5280 4.1.2.5: "
		    "notAfter %s is before the validation time %s",
		    asn1_time_text(na, when, sizeof(when)), at);
	}
	if (ASN1_TIME_cmp_time_t(nb, r->at) > 0) {
		snprintf(rem, sizeof(rem), "check the clock (NTP) of this "
		    "machine and of the issuer of cert[%d] '%s'; wait until "
		    "notBefore or reissue it", depth, subj);
		vfind(s, PKID_E_NOT_YET_VALID, depth, x, rem, "RFC 5280 "
		    "4.1.2.5: notBefore %s is after the validation time %s",
		    asn1_time_text(nb, when, sizeof(when)), at);
	}
}

/* The child's AKI keyIdentifier names the issuer's SKI (4.2.1.1). */
static void
check_akid_link(X509 *child, int depth, X509 *issuer, struct vfind_set *s)
{
	const ASN1_OCTET_STRING *aki = X509_get0_authority_key_id(child);
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	char sub[256];

	if (aki == NULL || ski == NULL || ASN1_OCTET_STRING_cmp(aki, ski) == 0)
		return;
	vname(issuer, sub, sizeof(sub));
	vfind(s, PKID_E_CERT_INVALID, depth, child, NULL, "RFC 5280 4.2.1.1: "
	    "authorityKeyIdentifier differs from the subjectKeyIdentifier of "
	    "its issuer '%s'", sub);
}

/* Certificate i signs certificate i-1: RFC 5280 6.1.4 (k) and (n). */
static void
check_issuer(X509 *x, int depth, int role, struct vfind_set *s)
{
	int anchor = (role & VROLE_ANCHOR) != 0;
	BASIC_CONSTRAINTS *bc;
	uint32_t ku = X509_get_key_usage(x);
	int crit = 0, i;

	bc = X509_get_ext_d2i(x, NID_basic_constraints, &crit, NULL);
	if (bc == NULL || !bc->ca) {
		/* A version 1 trust anchor carries no extensions at all. */
		if (!(anchor && X509_get_version(x) == X509_VERSION_1))
			vfind(s, PKID_E_NOT_A_CA, depth, x, NULL, "RFC 5280 "
			    "6.1.4 (k): basicConstraints %s, want cA=TRUE",
			    bc == NULL ? "absent" : "cA=FALSE");
	} else if (!(role & VROLE_ROOT)) {
		/* A root states cA=TRUE either way; criticality is how a CA
		 * encodes it, and real roots (Go Daddy Class 2, ePKI) differ. */
		i = X509_get_ext_by_NID(x, NID_basic_constraints, -1);
		if (!X509_EXTENSION_get_critical(X509_get_ext(x, i)))
			vfind(s, PKID_E_CERT_INVALID, depth, x, NULL,
			    "RFC 5280 4.2.1.9: basicConstraints of a CA must "
			    "be critical");
	}
	BASIC_CONSTRAINTS_free(bc);
	if (ku != UINT32_MAX && !(ku & KU_KEY_CERT_SIGN))
		vfind(s, PKID_E_KEY_USAGE, depth, x, NULL, "RFC 5280 6.1.4 "
		    "(n): keyUsage lacks keyCertSign, yet it signs cert[%d]",
		    depth - 1);
	ERR_clear_error();
}

/* RFC 5280 6.1.4 (l) and (m), the anchor's constraint included. */
static void
check_pathlen(struct vrun *r, const size_t *p, size_t n, int complete,
    struct vfind_set *s)
{
	long max = -1, pl;	/* -1: unlimited */
	size_t i, setter = 0;
	char sub[256];

	for (i = n - 1; i >= 1; i--) {
		X509 *x = r->pool[p[i]].x;
		int anchor = complete && i == n - 1;

		if (!anchor && !r->pool[p[i]].self_issued) {
			if (max == 0) {
				vname(r->pool[p[setter]].x, sub, sizeof(sub));
				vfind(s, PKID_E_PATH_LENGTH_EXCEEDED, (int)i,
				    x, NULL, "RFC 5280 6.1.4 (l): cert[%zu] "
				    "'%s' has pathLenConstraint allowing no "
				    "further CA below it", setter, sub);
				return;
			}
			if (max > 0)
				max--;
		}
		pl = X509_get_pathlen(x);
		if (pl >= 0 && (max < 0 || pl < max)) {
			max = pl;
			setter = i;
		}
	}
}

static void
check_intermediates(struct vrun *r, const size_t *p, size_t n,
    int complete, struct vfind_set *s)
{
	size_t i, cnt = 0, end = complete ? n - 1 : n;

	if (r->o->max_intermediates < 0)
		return;
	for (i = 1; i < end; i++)
		if (!r->pool[p[i]].self_issued)
			cnt++;
	if (cnt > (size_t)r->o->max_intermediates)
		vfind(s, PKID_E_CHAIN_TOO_LONG, 0, r->pool[p[0]].x, NULL,
		    "the path has %zu intermediate CA certificates, at most "
		    "%d allowed", cnt, r->o->max_intermediates);
}

/* 1 if the EKU allows nid (absent EKU allows everything). */
static int
eku_allows(X509 *x, int nid, int any_ok, int *present)
{
	EXTENDED_KEY_USAGE *eku;
	int i, ok = 0;

	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	*present = eku != NULL;
	if (eku == NULL) {
		ERR_clear_error();
		return 1;
	}
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
		int e = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i));

		if (e == nid || (any_ok && e == NID_anyExtendedKeyUsage))
			ok = 1;
	}
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return ok;
}

static void
check_eku(struct vrun *r, const size_t *p, size_t n, int complete,
    struct vfind_set *s)
{
	int nid, present, webpki = r->o->profile == PKID_PROFILE_WEBPKI;
	const char *want;
	char rem[640], sub[256];
	size_t i;

	if (r->o->purpose == PKID_PURPOSE_ANY)
		return;
	nid = r->o->purpose == PKID_PURPOSE_SERVER ? NID_server_auth :
	    NID_client_auth;
	want = r->o->purpose == PKID_PURPOSE_SERVER ? "serverAuth" :
	    "clientAuth";
	for (i = 0; i < n; i++) {
		X509 *x = r->pool[p[i]].x;

		/* WEBPKI: no anyExtendedKeyUsage in leaves (BR 7.1.2.7.10) */
		if (eku_allows(x, nid, !(webpki && i == 0), &present))
			continue;
		if (webpki && complete && i == n - 1)
			continue; /* reported: roots carry no EKU at all */
		vname(x, sub, sizeof(sub));
		snprintf(rem, sizeof(rem), "reissue cert[%zu] '%s' with "
		    "extKeyUsage %s%s", i, sub, want, i > 0 ?
		    " (or without extKeyUsage)" : "");
		vfind(s, PKID_E_EKU_MISMATCH, (int)i, x, rem, "RFC 5280 "
		    "4.2.1.12: extKeyUsage does not include %s%s", want,
		    i > 0 ? ", and a CA's EKU restricts the path" : "");
	}
}

static void
check_leaf_ku(struct vrun *r, X509 *x, struct vfind_set *s)
{
	uint32_t ku = X509_get_key_usage(x);
	unsigned want = r->o->required_ku;

	if (ku == UINT32_MAX)
		return;
	if (want != 0 && (ku & want) != want) {
		vfind(s, PKID_E_KEY_USAGE, 0, x, NULL, "RFC 5280 4.2.1.3: "
		    "keyUsage 0x%x lacks required bits 0x%x", ku, want);
		return;
	}
	/* RFC 5280 itself ties no keyUsage to TLS; CABF 7.1.2.7.11 does. */
	if (r->o->profile == PKID_PROFILE_WEBPKI &&
	    r->o->purpose != PKID_PURPOSE_ANY && !(ku & (KU_DIGITAL_SIGNATURE |
	    KU_KEY_ENCIPHERMENT | KU_KEY_AGREEMENT)))
		vfind(s, PKID_E_KEY_USAGE, 0, x, NULL, "CABF BR 7.1.2.7.11: "
		    "keyUsage allows neither digitalSignature, "
		    "keyEncipherment nor keyAgreement, needed for TLS");
}

void
vcheck_path(struct vrun *r, const size_t *p, size_t n, int complete,
    struct vfind_set *s)
{
	size_t i;

	for (i = 0; i < n; i++) {
		int anchor = complete && i == n - 1;
		int role = (i == 0 ? VROLE_LEAF : VROLE_ISSUER) |
		    (anchor ? VROLE_ANCHOR : 0);
		X509 *x = r->pool[p[i]].x;

		if (anchor && vanchor_is_root(r, p[i]))
			role |= VROLE_ROOT;

		vcheck_cert(r, p[i], (int)i, role, s);
		check_validity(r, x, (int)i, anchor, s);
		if (i > 0) {
			check_issuer(x, (int)i, role, s);
			check_akid_link(r->pool[p[i - 1]].x, (int)i - 1, x, s);
		}
	}
	check_pathlen(r, p, n, complete, s);
	check_intermediates(r, p, n, complete, s);
	check_eku(r, p, n, complete, s);
	check_leaf_ku(r, r->pool[p[0]].x, s);
	vcheck_nc(r, p, n, s);
	vcheck_name(r, r->pool[p[0]].x, s);
	if (n > 1)
		vcheck_crl(r, p, n, s);
}
