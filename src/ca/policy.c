/*
 * policy.c - key, name and SAN policy of profiles.
 */
#include "ca/policy.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>

#include "ca/ca.h"
#include "core/limits.h"

const char *
pkid_key_describe(EVP_PKEY *key, char *out, size_t len)
{
	char curve[64] = "";
	size_t cl = 0;

	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		snprintf(out, len, "RSA %d", EVP_PKEY_get_bits(key));
		break;
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_utf8_string_param(key,
		    OSSL_PKEY_PARAM_GROUP_NAME, curve, sizeof(curve), &cl))
			snprintf(curve, sizeof(curve), "unknown curve");
		snprintf(out, len, "EC %s",
		    strcmp(curve, "prime256v1") == 0 ? "P-256" :
		    strcmp(curve, "secp384r1") == 0 ? "P-384" :
		    strcmp(curve, "secp521r1") == 0 ? "P-521" : curve);
		break;
	case EVP_PKEY_ED25519:
		snprintf(out, len, "Ed25519");
		break;
	default:
		snprintf(out, len, "%s", OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
		break;
	}
	return out;
}

enum pkid_code
pkid_policy_check_key(const struct pkid_profile *p, EVP_PKEY *key,
    struct pkid_err *e)
{
	char desc[64];
	unsigned kt = 0;
	int bits = EVP_PKEY_get_bits(key);

	pkid_key_describe(key, desc, sizeof(desc));
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		kt = PKID_KT_RSA;
		if (bits < 2048 || bits < p->min_rsa_bits)
			return PKID_ERR(e, PKID_E_WEAK_KEY, "the request's key "
			    "is %s; profile %s wants RSA of at least %d bits",
			    desc, p->name, p->min_rsa_bits < 2048 ? 2048 :
			    p->min_rsa_bits);
		break;
	case EVP_PKEY_EC:
		if (strcmp(desc, "EC P-256") == 0)
			kt = PKID_KT_EC_P256;
		else if (strcmp(desc, "EC P-384") == 0)
			kt = PKID_KT_EC_P384;
		else if (strcmp(desc, "EC P-521") == 0)
			kt = PKID_KT_EC_P521;
		break;
	case EVP_PKEY_ED25519:
		kt = PKID_KT_ED25519;
		break;
	default:
		break;
	}
	if (kt == 0 || !(p->key_types & kt))
		return PKID_ERR(e, PKID_E_KEY_TYPE_NOT_ALLOWED,
		    "the request's key is %s, which profile %s does not allow",
		    desc, p->name);
	return PKID_OK;
}

/* A DNS name of letters, digits, '-' and dots (a '*.' wildcard allowed). */
static int
dns_name_ok(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > 253)
		return 0;
	if (len > 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		len -= 2;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!(isalnum(c) || (c == '-' && label > 0)) || ++label > 63)
			return 0;
	}
	return label > 0 && s[len - 1] != '-';
}

static int
dns_allowed(const struct pkid_profile *p, const char *name, size_t len)
{
	int i;

	if (p->allow_any_dns)
		return 1;
	for (i = 0; i < p->n_dns; i++) {
		size_t sl = strlen(p->san_dns[i]);

		if (len == sl && strncasecmp(name, p->san_dns[i], sl) == 0)
			return 1;
		if (len > sl + 1 && name[len - sl - 1] == '.' &&
		    strncasecmp(name + len - sl, p->san_dns[i], sl) == 0)
			return 1;
	}
	return 0;
}

static int
ip_allowed(const struct pkid_profile *p, const unsigned char *a, int alen)
{
	int i, fam = alen == 4 ? AF_INET : AF_INET6, bits, full;

	if (p->allow_any_ip)
		return 1;
	for (i = 0; i < p->n_ip; i++) {
		const struct pkid_iprange *r = &p->san_ip[i];

		if (r->family != fam)
			continue;
		bits = r->prefix;
		full = bits / 8;
		if (memcmp(a, r->addr, (size_t)full) != 0)
			continue;
		if (bits % 8 != 0) {
			unsigned char m = (unsigned char)(0xff << (8 - bits % 8));

			if ((a[full] & m) != (r->addr[full] & m))
				continue;
		}
		return 1;
	}
	return 0;
}

/* Check one SAN entry against the profile. */
static enum pkid_code
check_gn(const struct pkid_profile *p, const GENERAL_NAME *gn,
    struct pkid_err *e)
{
	char ip[INET6_ADDRSTRLEN] = "";
	const unsigned char *d;
	int len;

	switch (gn->type) {
	case GEN_DNS:
		d = ASN1_STRING_get0_data(gn->d.dNSName);
		len = ASN1_STRING_length(gn->d.dNSName);
		if (!dns_name_ok((const char *)d, (size_t)len) ||
		    memchr(d, '\0', (size_t)len) != NULL)
			return PKID_ERR(e, PKID_E_SAN_NOT_ALLOWED,
			    "DNS SAN '%.*s' is not a valid host name", len, d);
		if (!dns_allowed(p, (const char *)d, (size_t)len))
			return PKID_ERR(e, PKID_E_SAN_NOT_ALLOWED,
			    "DNS SAN '%.*s' is outside profile %s's allowed "
			    "suffixes (san_dns_suffixes)", len, d, p->name);
		return PKID_OK;
	case GEN_IPADD:
		d = ASN1_STRING_get0_data(gn->d.iPAddress);
		len = ASN1_STRING_length(gn->d.iPAddress);
		if (len != 4 && len != 16)
			return PKID_ERR(e, PKID_E_SAN_NOT_ALLOWED,
			    "IP SAN of %d bytes is not an IPv4/IPv6 address",
			    len);
		inet_ntop(len == 4 ? AF_INET : AF_INET6, d, ip, sizeof(ip));
		if (!ip_allowed(p, d, len))
			return PKID_ERR(e, PKID_E_SAN_NOT_ALLOWED,
			    "IP SAN %s is outside profile %s's allowed ranges "
			    "(san_ip_ranges)", ip, p->name);
		return PKID_OK;
	default:
		return PKID_ERR(e, PKID_E_SAN_NOT_ALLOWED,
		    "SAN of type %d (not DNS or IP) is not allowed by profile "
		    "%s", gn->type, p->name);
	}
}

enum pkid_code
pkid_policy_names_allowed(const struct pkid_profile *p,
    const GENERAL_NAMES *g, struct pkid_err *e)
{
	enum pkid_code rc;
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(g); i++)
		if ((rc = check_gn(p, sk_GENERAL_NAME_value(g, i), e)) !=
		    PKID_OK)
			return rc;
	return PKID_OK;
}

GENERAL_NAMES *
pkid_csr_sans(X509_REQ *csr)
{
	STACK_OF(X509_EXTENSION) *exts = X509_REQ_get_extensions(csr);
	GENERAL_NAMES *g = NULL;

	if (exts != NULL)
		g = X509V3_get_d2i(exts, NID_subject_alt_name, NULL, NULL);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return g;
}

static GENERAL_NAMES *
sans_from_cn(const X509_NAME *subject)
{
	int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
	ASN1_STRING *cn;
	GENERAL_NAMES *g;
	GENERAL_NAME *gn;
	ASN1_IA5STRING *ia5;

	if (i < 0)
		return NULL;
	cn = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
	if ((g = GENERAL_NAMES_new()) == NULL)
		return NULL;
	gn = GENERAL_NAME_new();
	ia5 = ASN1_IA5STRING_new();
	if (gn == NULL || ia5 == NULL || !ASN1_STRING_set(ia5,
	    ASN1_STRING_get0_data(cn), ASN1_STRING_length(cn))) {
		GENERAL_NAME_free(gn);
		ASN1_IA5STRING_free(ia5);
		GENERAL_NAMES_free(g);
		return NULL;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, ia5);
	if (!sk_GENERAL_NAME_push(g, gn)) {
		GENERAL_NAME_free(gn);
		GENERAL_NAMES_free(g);
		return NULL;
	}
	return g;
}

enum pkid_code
pkid_policy_sans(const struct pkid_profile *p, X509_REQ *csr,
    const X509_NAME *subject, GENERAL_NAMES **out, struct pkid_err *e)
{
	GENERAL_NAMES *g;
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	*out = NULL;
	g = p->san_mode == PKID_SAN_TAKE ? pkid_csr_sans(csr) :
	    sans_from_cn(subject);
	if (g == NULL)
		return PKID_OK;
	PKID_CHECK(sk_GENERAL_NAME_num(g) <= PKID_MAX_SAN_COUNT,
	    PKID_E_SAN_NOT_ALLOWED, "%d SAN entries, more than the limit of %d",
	    sk_GENERAL_NAME_num(g), PKID_MAX_SAN_COUNT);
	for (i = 0; i < sk_GENERAL_NAME_num(g); i++)
		PKID_TRY(check_gn(p, sk_GENERAL_NAME_value(g, i), e));
	if (sk_GENERAL_NAME_num(g) == 0) {
		GENERAL_NAMES_free(g);
		g = NULL;
	}
	*out = g;
	g = NULL;
	rc = PKID_OK;
out:
	GENERAL_NAMES_free(g);
	return rc;
}

const char *
pkid_sans_text(const GENERAL_NAMES *g, char *out, size_t len)
{
	char ip[INET6_ADDRSTRLEN];
	size_t used = 0;
	int i, n;

	out[0] = '\0';
	for (i = 0; i < sk_GENERAL_NAME_num(g) && used < len; i++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, i);
		const char *sep = i > 0 ? ", " : "";

		if (gn->type == GEN_DNS) {
			n = snprintf(out + used, len - used, "%sDNS:%.*s", sep,
			    ASN1_STRING_length(gn->d.dNSName),
			    ASN1_STRING_get0_data(gn->d.dNSName));
		} else if (gn->type == GEN_IPADD) {
			int l = ASN1_STRING_length(gn->d.iPAddress);

			if (inet_ntop(l == 4 ? AF_INET : AF_INET6,
			    ASN1_STRING_get0_data(gn->d.iPAddress), ip,
			    sizeof(ip)) == NULL)
				snprintf(ip, sizeof(ip), "?");
			n = snprintf(out + used, len - used, "%sIP:%s", sep, ip);
		} else {
			n = snprintf(out + used, len - used, "%sother:%d", sep,
			    gn->type);
		}
		if (n < 0)
			break;
		used += (size_t)n;
	}
	return out;
}

/* ---- names a relying party may match ---------------------------------- */

/* RFC 5280 Appendix A upper bounds, in characters, of the attributes a
 * subject usually has; others get PKID_MAX_NAME_VALUE. */
static const struct {
	int nid;	/* attribute */
	int max;	/* most characters */
} ub[] = {
	{ NID_commonName, 64 },			/* ub-common-name */
	{ NID_organizationName, 64 },		/* ub-organization-name */
	{ NID_organizationalUnitName, 64 },	/* ub-organizational-unit */
	{ NID_localityName, 128 },		/* ub-locality-name */
	{ NID_stateOrProvinceName, 128 },	/* ub-state-name */
	{ NID_countryName, 2 },			/* x520countryName SIZE(2) */
	{ NID_serialNumber, 64 },		/* ub-serial-number */
	{ NID_title, 64 },			/* ub-title */
	{ NID_pseudonym, 128 },			/* ub-pseudonym */
	{ NID_pkcs9_emailAddress, 255 },	/* ub-emailaddress-length */
	{ NID_domainComponent, 63 },		/* one DNS label */
};

static int
ub_of(int nid)
{
	size_t i;

	for (i = 0; i < sizeof(ub) / sizeof(ub[0]); i++)
		if (ub[i].nid == nid)
			return ub[i].max;
	return PKID_MAX_NAME_VALUE;
}

/* Characters of a UTF-8 string (continuation bytes not counted). */
static size_t
utf8_chars(const unsigned char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		c += (s[i] & 0xc0) != 0x80;
	return c;
}

enum pkid_code
pkid_policy_name_check(const X509_NAME *n, struct pkid_err *e)
{
	unsigned char *u = NULL;
	const char *sn;
	int i, len, cns = 0, count = X509_NAME_entry_count(n);
	size_t chars;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(count <= PKID_MAX_SUBJECT_ENTRIES, PKID_E_SUBJECT_INVALID,
	    "the subject has %d attributes, more than the limit of %d",
	    count, PKID_MAX_SUBJECT_ENTRIES);
	for (i = 0; i < count; i++) {
		const X509_NAME_ENTRY *ne = X509_NAME_get_entry(n, i);
		int nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne));

		sn = nid != NID_undef ? OBJ_nid2sn(nid) : "attribute";
		cns += nid == NID_commonName;
		OPENSSL_free(u);
		u = NULL;
		len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(ne));
		PKID_CHECK(len >= 0, PKID_E_SUBJECT_INVALID, "subject %s is "
		    "not a character string pkid can read", sn);
		PKID_CHECK(memchr(u, '\0', (size_t)len) == NULL,
		    PKID_E_SUBJECT_INVALID, "subject %s '%s' holds a NUL "
		    "character: a relying party may read only the part before "
		    "it", sn, (const char *)u);
		chars = utf8_chars(u, (size_t)len);
		PKID_CHECK(chars > 0, PKID_E_SUBJECT_INVALID, "subject %s is "
		    "empty", sn);
		PKID_CHECK(chars <= (size_t)ub_of(nid), PKID_E_SUBJECT_INVALID,
		    "subject %s of %zu characters; RFC 5280 Appendix A allows "
		    "at most %d", sn, chars, ub_of(nid));
	}
	PKID_CHECK(cns <= 1, PKID_E_SUBJECT_INVALID, "the subject has %d CN "
	    "attributes; a certificate names one (relying parties differ in "
	    "which CN they read)", cns);
	rc = PKID_OK;
out:
	OPENSSL_free(u);
	return rc;
}

/*
 * What a CN looks like to a relying party that matches it as a host
 * name: an IP address (inet_pton), a DNS name (a dot, and only letters,
 * digits, '-', '_', '*' and dots), or free text (a person's or a device's
 * name, never matched as a host).
 */
enum cn_kind { CN_TEXT, CN_DNS, CN_IP4, CN_IP6 };

static enum cn_kind
cn_kind(const char *s, size_t n, unsigned char ip[16])
{
	size_t i;
	int dot = 0;

	if (inet_pton(AF_INET, s, ip) == 1)
		return CN_IP4;
	if (inet_pton(AF_INET6, s, ip) == 1)
		return CN_IP6;
	if (n == 0 || n > 253 + 1)
		return CN_TEXT;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		dot |= c == '.';
		if (!isalnum(c) && c != '-' && c != '_' && c != '*' &&
		    c != '.')
			return CN_TEXT;
	}
	return dot ? CN_DNS : CN_TEXT;
}

enum pkid_code
pkid_policy_cn(const struct pkid_profile *p, const X509_NAME *subject,
    struct pkid_err *e)
{
	unsigned char *u = NULL, ip[16];
	char text[INET6_ADDRSTRLEN];
	enum cn_kind k;
	int i, len;
	size_t n;
	enum pkid_code rc = PKID_E_INTERNAL;

	i = -1;
	while ((i = X509_NAME_get_index_by_NID(subject, NID_commonName, i))
	    >= 0) {
		OPENSSL_free(u);
		u = NULL;
		len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(subject, i)));
		PKID_CHECK(len >= 0, PKID_E_SUBJECT_INVALID, "the CN is not a "
		    "character string pkid can read");
		n = (size_t)len;
		k = cn_kind((const char *)u, n, ip);
		switch (k) {
		case CN_IP4:
		case CN_IP6:
			inet_ntop(k == CN_IP6 ? AF_INET6 : AF_INET, ip, text,
			    sizeof(text));
			PKID_CHECK(ip_allowed(p, ip, k == CN_IP6 ? 16 : 4),
			    PKID_E_SAN_NOT_ALLOWED, "CN %s is an IP address "
			    "outside profile %s's allowed ranges "
			    "(san_ip_ranges); relying parties may match a CN "
			    "as the server's address", text, p->name);
			break;
		case CN_DNS:
			/* "host.example.com." is the same name. */
			if (n > 1 && u[n - 1] == '.')
				n--;
			PKID_CHECK(dns_allowed(p, (const char *)u, n),
			    PKID_E_SAN_NOT_ALLOWED, "CN '%.*s' is a DNS name "
			    "outside profile %s's allowed suffixes "
			    "(san_dns_suffixes); relying parties may match a "
			    "CN as the host name", (int)n, u, p->name);
			break;
		case CN_TEXT:
		default:
			break;
		}
	}
	rc = PKID_OK;
out:
	OPENSSL_free(u);
	return rc;
}

int
pkid_cert_is_ra(X509 *x)
{
	EXTENDED_KEY_USAGE *eku;
	int i, ra = 0;

	eku = X509_get_ext_d2i(x, NID_ext_key_usage, NULL, NULL);
	for (i = 0; i < sk_ASN1_OBJECT_num(eku) && !ra; i++)
		ra = OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, i)) == NID_cmcRA;
	EXTENDED_KEY_USAGE_free(eku);
	return ra;
}

/* Every name of a is also in b (GENERAL_NAME_cmp). */
static int
all_in(const GENERAL_NAMES *a, int na, const GENERAL_NAMES *b, int nb)
{
	int i, j;

	for (i = 0; i < na; i++) {
		for (j = 0; j < nb; j++)
			if (GENERAL_NAME_cmp(sk_GENERAL_NAME_value(a, i),
			    sk_GENERAL_NAME_value(b, j)) == 0)
				break;
		if (j == nb)
			return 0;
	}
	return 1;
}

int
pkid_sans_same(const GENERAL_NAMES *a, const GENERAL_NAMES *b)
{
	int na = a != NULL ? sk_GENERAL_NAME_num(a) : 0;
	int nb = b != NULL ? sk_GENERAL_NAME_num(b) : 0;

	/* Both ways: the same set, whatever the order or repetitions. */
	return na <= PKID_MAX_SAN_COUNT && nb <= PKID_MAX_SAN_COUNT &&
	    all_in(a, na, b, nb) && all_in(b, nb, a, na);
}

enum pkid_code
pkid_policy_subject(const struct pkid_profile *p, X509_REQ *csr,
    X509_NAME **out, struct pkid_err *e)
{
	const X509_NAME *req = X509_REQ_get_subject_name(csr);
	char cn[256] = "", text[PKID_MAX_SUBJECT_TEXT + 1];
	const char *tpl = p->subject, *at;
	int i;

	*out = NULL;
	if (tpl[0] == '\0') {
		if ((*out = X509_NAME_dup(req)) == NULL)
			return PKID_ERR(e, PKID_E_NOMEM, "no memory");
		return PKID_OK;
	}
	i = X509_NAME_get_index_by_NID(req, NID_commonName, -1);
	if (i >= 0) {
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(req, i));

		const unsigned char *q = ASN1_STRING_get0_data(d);
		int k, n = ASN1_STRING_length(d);
		size_t o = 0;

		/* Escape the separators pkid_name_parse splits on. */
		for (k = 0; k < n && o + 3 < sizeof(cn); k++) {
			if (q[k] == ',' || q[k] == '\\' || q[k] == '/')
				cn[o++] = '\\';
			cn[o++] = (char)q[k];
		}
		cn[o] = '\0';
	}
	if ((at = strstr(tpl, "{cn}")) == NULL) {
		snprintf(text, sizeof(text), "%s", tpl);
	} else {
		if (cn[0] == '\0')
			return PKID_ERR(e, PKID_E_SUBJECT_INVALID,
			    "profile %s's subject template uses {cn} but the "
			    "request has no CN", p->name);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - tpl), tpl,
		    cn, at + 4);
	}
	return pkid_name_parse(text, out, e);
}
