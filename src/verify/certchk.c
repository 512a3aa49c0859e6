/*
 * certchk.c - the checks of one certificate that depend only on it and its
 * role on the path: RFC 5280 encoding and extension rules, the key and
 * signature algorithm policy, and the CA/Browser Forum profile (WEBPKI).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "verify/internal.h"

/* -1 when absent, else the critical flag of the extension. */
static int
ext_crit(X509 *x, int nid)
{
	int i = X509_get_ext_by_NID(x, nid, -1);

	if (i < 0)
		return -1;
	return X509_EXTENSION_get_critical(X509_get_ext(x, i)) ? 1 : 0;
}

static int
is_ca(X509 *x)
{
	BASIC_CONSTRAINTS *bc;
	int ca;

	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	ca = bc != NULL && bc->ca;
	BASIC_CONSTRAINTS_free(bc);
	return ca;
}

/* Extensions pkid processes, so they may be critical. */
static int
understood(int nid)
{
	switch (nid) {
	case NID_basic_constraints:
	case NID_key_usage:
	case NID_ext_key_usage:
	case NID_subject_alt_name:
	case NID_name_constraints:
	case NID_policy_constraints:
	case NID_certificate_policies:
	case NID_inhibit_any_policy:
	case NID_policy_mappings:
		return 1;
	default:
		return 0;
	}
}

static int
ext_decodes(X509_EXTENSION *ex)
{
	const X509V3_EXT_METHOD *m = X509V3_EXT_get(ex);
	void *d;

	if (m == NULL)
		return 1;
	if ((d = X509V3_EXT_d2i(ex)) == NULL) {
		ERR_clear_error();
		return 0;
	}
	if (m->it != NULL)
		ASN1_item_free(d, ASN1_ITEM_ptr(m->it));
	else if (m->ext_free != NULL)
		m->ext_free(d);
	return 1;
}

/* Duplicates, undecodable and unknown critical extensions. */
static void
check_ext_list(X509 *x, int depth, struct vfind_set *s)
{
	int i, j, n = X509_get_ext_count(x);
	char oid[80];

	for (i = 0; i < n; i++) {
		X509_EXTENSION *ex = X509_get_ext(x, i);
		ASN1_OBJECT *obj = X509_EXTENSION_get_object(ex);
		int nid = OBJ_obj2nid(obj);

		OBJ_obj2txt(oid, sizeof(oid), obj, 0);
		for (j = 0; j < i; j++)
			if (OBJ_cmp(obj, X509_EXTENSION_get_object(
			    X509_get_ext(x, j))) == 0)
				break;
		if (j < i) {
			vfind(s, PKID_E_CERT_INVALID, depth, x, NULL,
			    "RFC 5280 4.2: extension %s appears twice", oid);
			continue;
		}
		if (!ext_decodes(ex)) {
			vfind(s, PKID_E_CERT_INVALID, depth, x, NULL,
			    "RFC 5280 4.2: extension %s cannot be decoded",
			    oid);
			continue;
		}
		if (X509_EXTENSION_get_critical(ex) && !understood(nid) &&
		    nid != NID_authority_key_identifier &&
		    nid != NID_subject_key_identifier &&
		    nid != NID_info_access)
			vfind(s, PKID_E_UNHANDLED_CRITICAL, depth, x, NULL,
			    "RFC 5280 4.2: critical extension %s is not "
			    "understood", oid);
	}
}

static void
check_serial(X509 *x, int depth, struct vfind_set *s)
{
	const ASN1_INTEGER *sn = X509_get0_serialNumber(x);
	const unsigned char *d = ASN1_STRING_get0_data(sn);
	int len = ASN1_STRING_length(sn), i, zero = 1, octets;

	for (i = 0; i < len; i++)
		if (d[i] != 0)
			zero = 0;
	if (ASN1_STRING_type(sn) == V_ASN1_NEG_INTEGER)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.1.2.2: serial number is negative, want positive");
	else if (zero)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.1.2.2: serial number is zero, want positive");
	/* DER content octets: the magnitude plus a sign octet if needed. */
	octets = len + ((len > 0 && (d[0] & 0x80)) ? 1 : 0);
	if (octets > 20)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.1.2.2: serial number is %d octets, at most 20 allowed",
		    octets);
}

static void
check_time_enc(X509 *x, int depth, const ASN1_TIME *t, const char *which,
    struct vfind_set *s)
{
	struct tm tm;

	if (!ASN1_TIME_check(t) || !ASN1_TIME_to_tm(t, &tm)) {
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.1.2.5: %s is not a valid time", which);
		return;
	}
	if ((ASN1_STRING_type(t) == V_ASN1_UTCTIME) !=
	    (tm.tm_year + 1900 < 2050))
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.1.2.5: %s year %d must be a %s", which,
		    tm.tm_year + 1900, tm.tm_year + 1900 < 2050 ?
		    "UTCTime" : "GeneralizedTime");
}

static void
check_encoding(X509 *x, int depth, int role, struct vfind_set *s)
{
	const X509_ALGOR *outer;

	X509_get0_signature(NULL, &outer, x);
	if (X509_ALGOR_cmp(outer, X509_get0_tbs_sigalg(x)) != 0)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.1.1.2: signatureAlgorithm differs from the TBS "
		    "signature field");
	if (X509_get_ext_count(x) > 0 && X509_get_version(x) != X509_VERSION_3)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.1.2.1: extensions in a version %ld certificate",
		    X509_get_version(x) + 1);
	check_serial(x, depth, s);
	if (X509_NAME_entry_count(X509_get_issuer_name(x)) == 0)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.1.2.4: issuer name is empty");
	if (X509_NAME_entry_count(X509_get_subject_name(x)) == 0 &&
	    ((role & VROLE_ISSUER) || is_ca(x)))
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.1.2.6: a CA's subject name must not be empty");
	if (X509_NAME_entry_count(X509_get_subject_name(x)) >
	    PKID_VERIFY_MAX_NAME_ENTRIES)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "subject has "
		    "%d attributes, pkid accepts at most %d",
		    X509_NAME_entry_count(X509_get_subject_name(x)),
		    PKID_VERIFY_MAX_NAME_ENTRIES);
	check_time_enc(x, depth, X509_get0_notBefore(x), "notBefore", s);
	check_time_enc(x, depth, X509_get0_notAfter(x), "notAfter", s);
}

static void
check_san_syntax(X509 *x, int depth, struct vfind_set *s)
{
	GENERAL_NAMES *gens;
	int i, n;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	if (gens == NULL)
		return;
	n = sk_GENERAL_NAME_num(gens);
	if (n == 0)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.6: subjectAltName is empty");
	if (X509_NAME_entry_count(X509_get_subject_name(x)) == 0 &&
	    ext_crit(x, NID_subject_alt_name) == 0)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.6: subject is empty, so subjectAltName must be "
		    "critical");
	if (n > PKID_VERIFY_MAX_SANS)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "%d SAN "
		    "entries, pkid accepts at most %d", n,
		    PKID_VERIFY_MAX_SANS);
	for (i = 0; i < n && n <= PKID_VERIFY_MAX_SANS; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		int len;

		if (g->type == GEN_IPADD) {
			len = ASN1_STRING_length(g->d.iPAddress);
			if (len != 4 && len != 16)
				vfind(s, PKID_E_CERT_INVALID, depth, x, NULL,
				    "RFC 5280 4.2.1.6: iPAddress SAN of %d "
				    "octets, want 4 or 16", len);
		} else if (g->type == GEN_EMAIL && !vemail_syntax_ok(
		    (const char *)ASN1_STRING_get0_data(g->d.rfc822Name),
		    (size_t)ASN1_STRING_length(g->d.rfc822Name))) {
			vfind(s, PKID_E_CERT_INVALID, depth, x, NULL,
			    "RFC 5280 4.2.1.6: rfc822Name SAN '%.*s' is not "
			    "a mailbox", ASN1_STRING_length(g->d.rfc822Name),
			    ASN1_STRING_get0_data(g->d.rfc822Name));
		}
	}
	GENERAL_NAMES_free(gens);
}

static void
check_nc_ext(struct vrun *r, X509 *x, int depth, struct vfind_set *s)
{
	NAME_CONSTRAINTS *nc;
	char why[200];
	int crit = ext_crit(x, NID_name_constraints);

	if (crit < 0)
		return;
	if (!is_ca(x))
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.10: nameConstraints in a certificate that is not "
		    "a CA");
	if (crit == 0 && r->o->profile == PKID_PROFILE_RFC5280)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.10: nameConstraints must be critical");
	nc = X509_get_ext_d2i(x, NID_name_constraints, NULL, NULL);
	if (nc == NULL) {
		ERR_clear_error();
		return; /* reported as undecodable */
	}
	if (!vnc_syntax_ok(nc, why, sizeof(why)))
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.10: %s", why);
	NAME_CONSTRAINTS_free(nc);
}

static void
check_aki_ski(struct vrun *r, size_t idx, X509 *x, int depth, int role,
    struct vfind_set *s)
{
	const ASN1_OCTET_STRING *akid = X509_get0_authority_key_id(x);

	if (ext_crit(x, NID_authority_key_identifier) == 1)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.1: authorityKeyIdentifier must not be critical");
	if (ext_crit(x, NID_subject_key_identifier) == 1)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.2: subjectKeyIdentifier must not be critical");
	/*
	 * A root needs neither (TWCA Global Root CA has no SKI); a trusted
	 * certificate another CA signed (a cross-certificate) was issued
	 * like any other and must name its issuer's key.
	 */
	if (role & VROLE_ROOT)
		return;
	if (akid == NULL && !vself_signed(r, idx))
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.1: authorityKeyIdentifier keyIdentifier missing "
		    "in a certificate that is not self-signed");
	if (X509_get0_subject_key_id(x) == NULL && (role & VROLE_ISSUER))
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.2: subjectKeyIdentifier missing in a CA "
		    "certificate");
}

static void
check_bc_ku(X509 *x, int depth, struct vfind_set *s)
{
	BASIC_CONSTRAINTS *bc;
	ASN1_BIT_STRING *ku;
	int ca = 0, pl = 0, certsign = -1;

	bc = X509_get_ext_d2i(x, NID_basic_constraints, NULL, NULL);
	if (bc != NULL) {
		ca = bc->ca != 0;
		pl = bc->pathlen != NULL;
	}
	BASIC_CONSTRAINTS_free(bc);
	ku = X509_get_ext_d2i(x, NID_key_usage, NULL, NULL);
	if (ku != NULL) {
		certsign = ASN1_BIT_STRING_get_bit(ku, 5);
		if (ASN1_STRING_length(ku) == 0)
			vfind(s, PKID_E_CERT_INVALID, depth, x, NULL,
			    "RFC 5280 4.2.1.3: keyUsage with no bit set");
	}
	ASN1_BIT_STRING_free(ku);
	if (pl && (!ca || certsign == 0))
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.9: pathLenConstraint without cA=TRUE and "
		    "keyCertSign");
	if (certsign == 1 && !ca)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.3: keyCertSign asserted but cA is not TRUE");
}

static void
check_misc_ext(X509 *x, int depth, struct vfind_set *s)
{
	EXTENDED_KEY_USAGE *eku;
	AUTHORITY_INFO_ACCESS *aia;
	POLICY_CONSTRAINTS *pc;
	int crit;

	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	if (eku != NULL && sk_ASN1_OBJECT_num(eku) == 0)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.12: extKeyUsage lists no purpose");
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	if ((crit = ext_crit(x, NID_info_access)) == 1)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.2.1: authorityInfoAccess must not be critical");
	aia = X509_get_ext_d2i(x, NID_info_access, NULL, NULL);
	if (crit >= 0 && aia != NULL &&
	    sk_ACCESS_DESCRIPTION_num(aia) == 0)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.2.1: authorityInfoAccess has no access description");
	AUTHORITY_INFO_ACCESS_free(aia);
	if ((crit = ext_crit(x, NID_policy_constraints)) == 0)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.11: policyConstraints must be critical");
	pc = X509_get_ext_d2i(x, NID_policy_constraints, NULL, NULL);
	if (pc != NULL && pc->requireExplicitPolicy == NULL &&
	    pc->inhibitPolicyMapping == NULL)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.2.1.11: policyConstraints is empty");
	POLICY_CONSTRAINTS_free(pc);
	ERR_clear_error();
}

/* RSA size, EC curve encoding and name, DSA; weak digests. */
static void
check_key(struct vrun *r, X509 *x, int depth, struct vfind_set *s)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	X509_PUBKEY *xpk = X509_get_X509_PUBKEY(x);
	const X509_ALGOR *pa = NULL;
	const void *pval;
	int ptype = 0, bits, webpki = r->o->profile == PKID_PROFILE_WEBPKI;
	int minbits = r->o->min_rsa_bits > 0 ? r->o->min_rsa_bits : 2048;
	char grp[64] = "";

	X509_PUBKEY_get0_param(NULL, NULL, NULL, (X509_ALGOR **)&pa, xpk);
	if (pa != NULL)
		X509_ALGOR_get0(NULL, &ptype, &pval, pa);
	if (k == NULL) {
		ERR_clear_error();
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "RFC 5280 "
		    "4.1.2.7: the public key cannot be decoded");
		return;
	}
	bits = EVP_PKEY_get_bits(k);
	if (EVP_PKEY_is_a(k, "RSA") || EVP_PKEY_is_a(k, "RSA-PSS")) {
		if (bits < minbits)
			vfind(s, PKID_E_WEAK_ALGORITHM, depth, x, NULL,
			    "RSA key of %d bits, at least %d required",
			    bits, minbits);
		else if (webpki && bits % 8 != 0)
			vfind(s, PKID_E_WEAK_ALGORITHM, depth, x, NULL,
			    "CABF BR 6.1.5: RSA modulus of %d bits is not a "
			    "multiple of 8", bits);
	} else if (EVP_PKEY_is_a(k, "EC")) {
		if (ptype != V_ASN1_OBJECT)
			vfind(s, PKID_E_CERT_INVALID, depth, x, NULL,
			    "RFC 5480 2.1.1: EC key with explicit curve "
			    "parameters, want a namedCurve");
		else if (EVP_PKEY_get_utf8_string_param(k,
		    OSSL_PKEY_PARAM_GROUP_NAME, grp, sizeof(grp), NULL) &&
		    webpki && strcmp(grp, "prime256v1") != 0 &&
		    strcmp(grp, "secp384r1") != 0 &&
		    strcmp(grp, "secp521r1") != 0)
			vfind(s, PKID_E_WEAK_ALGORITHM, depth, x, NULL,
			    "CABF BR 6.1.5: EC curve %s is not allowed "
			    "(P-256, P-384, P-521)", grp);
	} else if (EVP_PKEY_is_a(k, "DSA") && webpki) {
		vfind(s, PKID_E_WEAK_ALGORITHM, depth, x, NULL, "CABF BR "
		    "6.1.5: DSA keys are not allowed");
	}
	ERR_clear_error();
}

static void
check_sigalg(struct vrun *r, X509 *x, int depth, int role,
    struct vfind_set *s)
{
	int md = NID_undef, pk = NID_undef;

	/* An anchor's own signature is never relied on. */
	if (role & VROLE_ANCHOR)
		return;
	if (!OBJ_find_sigid_algs(X509_get_signature_nid(x), &md, &pk))
		return;
	if (md == NID_md5 || md == NID_md4 || md == NID_md2)
		vfind(s, PKID_E_WEAK_ALGORITHM, depth, x, NULL, "signed "
		    "with %s, which is broken", OBJ_nid2sn(md));
	else if (md == NID_sha1 && !r->o->allow_sha1)
		vfind(s, PKID_E_WEAK_ALGORITHM, depth, x, NULL, "signed "
		    "with SHA-1 below the trust anchor");
}

/*
 * CABF BR 7.1.2.1.3: a root's AKI holds keyIdentifier equal to its SKI.
 * Roots older than that profile (QuoVadis Root CA 2, Certigna) also name
 * their own issuer and serial there: accepted, as they name nothing else.
 */
static void
check_root_akid(X509 *x, int depth, AUTHORITY_KEYID *akid,
    struct vfind_set *s)
{
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(x);
	GENERAL_NAME *g = NULL;
	int self = 1;

	if (akid->keyid == NULL || (ski != NULL &&
	    ASN1_OCTET_STRING_cmp(akid->keyid, ski) != 0))
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "CABF BR "
		    "7.1.2.1.3: root authorityKeyIdentifier keyIdentifier %s",
		    akid->keyid == NULL ? "is missing" : "differs from its "
		    "subjectKeyIdentifier");
	if (akid->issuer == NULL && akid->serial == NULL)
		return;
	if (akid->issuer == NULL || akid->serial == NULL ||
	    sk_GENERAL_NAME_num(akid->issuer) != 1)
		self = 0;
	else
		g = sk_GENERAL_NAME_value(akid->issuer, 0);
	if (self && (g->type != GEN_DIRNAME || X509_NAME_cmp(g->d.dirn,
	    X509_get_issuer_name(x)) != 0 || ASN1_INTEGER_cmp(akid->serial,
	    X509_get0_serialNumber(x)) != 0))
		self = 0;
	if (!self)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "CABF BR "
		    "7.1.2.1.3: root authorityKeyIdentifier names an issuer or "
		    "serial other than its own");
}

static int
has_any_eku(X509 *x)
{
	EXTENDED_KEY_USAGE *eku;
	int i, any = 0;

	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
		if (OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) ==
		    NID_anyExtendedKeyUsage)
			any = 1;
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	ERR_clear_error();
	return any;
}

/* CA/Browser Forum Baseline Requirements 7.1.2. */
static void
check_webpki(struct vrun *r, size_t idx, X509 *x, int depth, int role,
    struct vfind_set *s)
{
	AUTHORITY_KEYID *akid;
	int eku = ext_crit(x, NID_ext_key_usage);

	if ((role & VROLE_LEAF) && !(role & VROLE_ANCHOR)) {
		if (eku < 0)
			vfind(s, PKID_E_EKU_MISMATCH, depth, x, NULL, "CABF "
			    "BR 7.1.2.7.6: extKeyUsage is required in a "
			    "subscriber certificate");
		if (eku == 1)
			vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "CABF "
			    "BR 7.1.2.7.6: extKeyUsage must not be critical");
		if (is_ca(x))
			vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "CABF "
			    "BR 7.1.2.7.8: a subscriber certificate must not "
			    "be a CA (cA=TRUE)");
		if (ext_crit(x, NID_subject_alt_name) < 0)
			vfind(s, PKID_E_NAME_MISMATCH, depth, x, NULL, "CABF "
			    "BR 7.1.2.7.12: subjectAltName is required");
		if (has_any_eku(x))
			vfind(s, PKID_E_EKU_MISMATCH, depth, x, NULL, "CABF "
			    "BR 7.1.2.7.10: anyExtendedKeyUsage must not appear "
			    "in a subscriber certificate");
		vcheck_cn_copy(r, x, s);
	}
	if (!(role & VROLE_ROOT))
		return;
	if (eku >= 0)
		vfind(s, PKID_E_CERT_INVALID, depth, x, NULL, "CABF BR "
		    "7.1.2.1.2: a root CA must not have extKeyUsage");
	akid = X509_get_ext_d2i(x, NID_authority_key_identifier, NULL, NULL);
	if (akid != NULL)
		check_root_akid(x, depth, akid, s);
	AUTHORITY_KEYID_free(akid);
}

void
vcheck_cert(struct vrun *r, size_t idx, int depth, int role,
    struct vfind_set *s)
{
	X509 *x = r->pool[idx].x;

	/* What the certificate states and what pkid uses: every role. */
	check_ext_list(x, depth, s);
	check_nc_ext(r, x, depth, s);
	check_bc_ku(x, depth, s);
	check_key(r, x, depth, s);
	check_sigalg(r, x, depth, role, s);
	/*
	 * How an issuing CA encoded it: not asked of a root anchor, which
	 * the user chose as name + key (RFC 5280 6.1.1 (d)); real roots have
	 * serial 0 (Starfield G2), GeneralizedTime before 2050 (Certum
	 * Trusted Network CA 2) or no SKI (TWCA Global Root CA).
	 */
	if (!(role & VROLE_ROOT)) {
		check_encoding(x, depth, role, s);
		check_san_syntax(x, depth, s);
		check_misc_ext(x, depth, s);
	}
	check_aki_ski(r, idx, x, depth, role, s);
	if (r->o->profile == PKID_PROFILE_WEBPKI)
		check_webpki(r, idx, x, depth, role, s);
	ERR_clear_error();
}
