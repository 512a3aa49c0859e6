/*
 * name.c - the service identity check of RFC 9525: DNS names against SAN
 * dNSName with the wildcard rules, IP addresses only against iPAddress
 * SANs, mailboxes against rfc822Name; CN only as an opt-in fallback. And
 * the CA/Browser Forum rule that a CN must copy a SAN entry.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>

#include "verify/internal.h"

/* Longest DNS name (RFC 1035 2.3.4) and label. */
#define DNS_MAX 253
#define LABEL_MAX 63

int
vdns_syntax_ok(const char *s, size_t len, int allow_wild)
{
	size_t i, lab = 0;

	if (len == 0 || len > DNS_MAX)
		return 0;
	if (allow_wild && len > 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		len -= 2;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (lab == 0 || s[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!isalnum(c) && c != '-')
			return 0;
		if ((lab == 0 && c == '-') || ++lab > LABEL_MAX)
			return 0;
	}
	return lab > 0 && s[len - 1] != '-';
}

int
vemail_syntax_ok(const char *s, size_t len)
{
	const char *at = memchr(s, '@', len);
	size_t i, ll;

	if (at == NULL || memchr(at + 1, '@', len - (size_t)(at - s) - 1))
		return 0;
	ll = (size_t)(at - s);
	if (ll == 0)
		return 0;
	for (i = 0; i < ll; i++)
		if ((unsigned char)s[i] <= ' ' || (unsigned char)s[i] >= 0x7f)
			return 0;
	return vdns_syntax_ok(at + 1, len - ll - 1, 0);
}

/* Number of labels of a syntactically valid name. */
static size_t
labels(const char *s, size_t len)
{
	size_t i, n = 1;

	for (i = 0; i < len; i++)
		n += s[i] == '.';
	return n;
}

/*
 * RFC 9525 6.3 with CABF limits: "*" is the whole leftmost label, it
 * matches one non-empty label, and what follows has at least two labels
 * and is not a public suffix.
 */
static int
dns_match(struct vrun *r, const char *pat, size_t pl, const char *host,
    int *psl_hit)
{
	const struct pkid_psl *psl;
	const char *dot;
	char rest[DNS_MAX + 1];

	if (!vdns_syntax_ok(pat, pl, 1))
		return 0;
	if (pat[0] != '*')
		return strlen(host) == pl && strncasecmp(pat, host, pl) == 0;
	if ((dot = strchr(host, '.')) == NULL || dot == host)
		return 0;
	if (strlen(dot + 1) != pl - 2 ||
	    strncasecmp(dot + 1, pat + 2, pl - 2) != 0)
		return 0;
	if (labels(pat + 2, pl - 2) < 2)
		return 0;
	snprintf(rest, sizeof(rest), "%.*s", (int)(pl - 2), pat + 2);
	for (char *c = rest; *c != '\0'; c++)
		*c = (char)tolower((unsigned char)*c);
	psl = vpsl(r);
	if (psl != NULL && pkid_psl_is_suffix(psl, rest)) {
		*psl_hit = 1;
		return 0;
	}
	return 1;
}

/* Up to a few SAN values as text, for the message. */
static void
san_list(GENERAL_NAMES *gens, int type, char *out, size_t len)
{
	char ip[64];
	size_t used = 0;
	int i, shown = 0;

	out[0] = '\0';
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && used + 1 < len; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d;
		int n;

		if (g->type != type)
			continue;
		if (shown++ == 6) {
			snprintf(out + used, len - used, ", ...");
			return;
		}
		d = ASN1_STRING_get0_data(g->d.ia5);
		n = ASN1_STRING_length(g->d.ia5);
		if (type == GEN_IPADD && (n == 4 || n == 16)) {
			inet_ntop(n == 4 ? AF_INET : AF_INET6, d, ip,
			    sizeof(ip));
			snprintf(out + used, len - used, "%s%s",
			    used ? ", " : "", ip);
		} else {
			snprintf(out + used, len - used, "%s%.*s",
			    used ? ", " : "", n, d);
		}
		used = strlen(out);
	}
	if (out[0] == '\0')
		snprintf(out, len, "none");
}

/* The CN values, first match wins: legacy fallback only. */
static int
cn_match(struct vrun *r, X509 *x, const char *host)
{
	X509_NAME *n = X509_get_subject_name(x);
	int i = -1, psl = 0;

	while ((i = X509_NAME_get_index_by_NID(n, NID_commonName, i)) >= 0) {
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(n, i));

		if (dns_match(r, (const char *)ASN1_STRING_get0_data(v),
		    (size_t)ASN1_STRING_length(v), host, &psl))
			return 1;
	}
	return 0;
}

static void
check_host(struct vrun *r, X509 *x, GENERAL_NAMES *gens,
    struct vfind_set *s)
{
	char host[DNS_MAX + 2], list[300], rem[1024], sub[256];
	size_t hl;
	int i, psl_hit = 0, has_id = 0;

	snprintf(host, sizeof(host), "%s", r->o->host);
	hl = strlen(host);
	if (hl > 0 && host[hl - 1] == '.')
		host[--hl] = '\0';
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_DNS || g->type == GEN_IPADD)
			has_id = 1;
		if (g->type == GEN_DNS && vdns_syntax_ok(host, hl, 0) &&
		    dns_match(r, (const char *)ASN1_STRING_get0_data(
		    g->d.dNSName), (size_t)ASN1_STRING_length(g->d.dNSName),
		    host, &psl_hit))
			return;
	}
	if (!has_id && r->o->cn_fallback && cn_match(r, x, host)) {
		r->cn_fallback_used = 1;
		vnote(r, "'%s' matched the subject CN only (legacy CN "
		    "fallback); the certificate should carry it in its SAN",
		    host);
		return;
	}
	san_list(gens, GEN_DNS, list, sizeof(list));
	vname(x, sub, sizeof(sub));
	snprintf(rem, sizeof(rem), "reissue cert[0] '%s' with DNS:%s in its "
	    "subjectAltName, or connect with a name it has (%s)", sub, host,
	    list);
	vfind(s, PKID_E_NAME_MISMATCH, 0, x, rem, "RFC 9525 6.3: '%s' %s; "
	    "SAN dNSName: %s%s", host, vdns_syntax_ok(host, hl, 0) ?
	    "matches no SAN dNSName" : "is not a valid DNS name", list,
	    psl_hit ? " (a wildcard over a public suffix never matches)" :
	    !has_id ? " (the CN is not used)" : "");
}

static void
check_ip(X509 *x, GENERAL_NAMES *gens, const char *ipstr,
    struct vfind_set *s)
{
	unsigned char want[16];
	char list[300], rem[768], sub[256];
	int i, wl, fam;

	fam = strchr(ipstr, ':') != NULL ? AF_INET6 : AF_INET;
	wl = fam == AF_INET ? 4 : 16;
	if (inet_pton(fam, ipstr, want) != 1) {
		vfind(s, PKID_E_IP_NOT_IN_SAN, 0, x, NULL, "'%s' is not an "
		    "IP address", ipstr);
		return;
	}
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);

		if (g->type == GEN_IPADD &&
		    ASN1_STRING_length(g->d.iPAddress) == wl &&
		    memcmp(ASN1_STRING_get0_data(g->d.iPAddress), want,
		    (size_t)wl) == 0)
			return;
	}
	san_list(gens, GEN_IPADD, list, sizeof(list));
	vname(x, sub, sizeof(sub));
	snprintf(rem, sizeof(rem), "reissue cert[0] '%s' with IP:%s in its "
	    "subjectAltName (an IP in a DNS SAN or the CN does not count), "
	    "or connect by a DNS name it has", sub, ipstr);
	vfind(s, PKID_E_IP_NOT_IN_SAN, 0, x, rem, "RFC 9525 6.2: %s matches "
	    "no SAN iPAddress; SAN iPAddress: %s", ipstr, list);
}

static void
check_email(struct vrun *r, X509 *x, GENERAL_NAMES *gens,
    struct vfind_set *s)
{
	const char *want = r->o->email, *at = strchr(want, '@');
	size_t wl = strlen(want), ll;
	int i;

	ll = at != NULL ? (size_t)(at - want) : wl;
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && at != NULL; i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const char *v;

		if (g->type != GEN_EMAIL)
			continue;
		v = (const char *)ASN1_STRING_get0_data(g->d.rfc822Name);
		if ((size_t)ASN1_STRING_length(g->d.rfc822Name) == wl &&
		    memcmp(v, want, ll + 1) == 0 &&
		    strncasecmp(v + ll + 1, at + 1, wl - ll - 1) == 0)
			return;
	}
	vfind(s, PKID_E_NAME_MISMATCH, 0, x, NULL, "RFC 8398: mailbox '%s' "
	    "is not an rfc822Name SAN of the certificate", want);
}

static int
is_ip(const char *s)
{
	unsigned char b[16];

	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

void
vcheck_name(struct vrun *r, X509 *leaf, struct vfind_set *s)
{
	GENERAL_NAMES *gens;

	if (r->o->host == NULL && r->o->ip == NULL && r->o->email == NULL)
		return;
	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	ERR_clear_error();
	/* RFC 9525 6.2: an address is only ever an iPAddress identity. */
	if (r->o->host != NULL && is_ip(r->o->host))
		check_ip(leaf, gens, r->o->host, s);
	else if (r->o->host != NULL)
		check_host(r, leaf, gens, s);
	if (r->o->ip != NULL)
		check_ip(leaf, gens, r->o->ip, s);
	if (r->o->email != NULL)
		check_email(r, leaf, gens, s);
	GENERAL_NAMES_free(gens);
}

/* 1 when v (n bytes) copies a SAN dNSName or an address's text form. */
static int
copies_san(GENERAL_NAMES *gens, const unsigned char *v, int n)
{
	char ip[64];
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
		const unsigned char *d = ASN1_STRING_get0_data(g->d.ia5);
		int dl = ASN1_STRING_length(g->d.ia5);

		if (g->type == GEN_DNS && dl == n && memcmp(d, v, n) == 0)
			return 1;
		/*
		 * The FQDN portion of a Wildcard Domain Name SAN: the domain
		 * the CA validated for "*.FQDN" (BR 3.2.2.6), so the CN names
		 * nothing the SAN does not vouch for (x509-limbo's wildcard
		 * cases carry CN=example.com beside SAN *.example.com).
		 */
		if (g->type == GEN_DNS && dl == n + 2 && d[0] == '*' &&
		    d[1] == '.' && memcmp(d + 2, v, n) == 0)
			return 1;
		if (g->type != GEN_IPADD || (dl != 4 && dl != 16))
			continue;
		/* inet_ntop writes RFC 3986 / RFC 5952 canonical text. */
		inet_ntop(dl == 4 ? AF_INET : AF_INET6, d, ip, sizeof(ip));
		if ((size_t)n == strlen(ip) && memcmp(ip, v, (size_t)n) == 0)
			return 1;
	}
	return 0;
}

void
vcheck_cn_copy(struct vrun *r, X509 *leaf, struct vfind_set *s)
{
	X509_NAME *n = X509_get_subject_name(leaf);
	GENERAL_NAMES *gens;
	int i = -1;

	gens = X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL);
	ERR_clear_error();
	while ((i = X509_NAME_get_index_by_NID(n, NID_commonName, i)) >= 0) {
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(n, i));

		if (gens != NULL && copies_san(gens, ASN1_STRING_get0_data(v),
		    ASN1_STRING_length(v)))
			continue;
		vfind(s, PKID_E_CERT_INVALID, 0, leaf, NULL, "CABF BR "
		    "7.1.4.3: subject CN '%.*s' is not a character-for-"
		    "character copy of a SAN entry", ASN1_STRING_length(v),
		    ASN1_STRING_get0_data(v));
	}
	GENERAL_NAMES_free(gens);
}
