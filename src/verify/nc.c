/*
 * nc.c - name constraints (RFC 5280 4.2.1.10, 6.1.3 (b)-(c)): DNS, IP,
 * rfc822 and directory names; constraints of other types are refused
 * when the certificate has a name of that type (we cannot evaluate them).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>

#include "verify/internal.h"

/* One name of a certificate, as the constraints see it. */
struct ncname {
	int type;			/* GEN_* */
	const char *p;			/* DNS / email text, IP bytes */
	size_t len;			/* its length */
	const X509_NAME *dn;		/* GEN_DIRNAME */
};

static int
mask_ok(const unsigned char *m, size_t n)
{
	size_t i;
	int b, seen_zero = 0;

	for (i = 0; i < n; i++)
		for (b = 7; b >= 0; b--) {
			if (m[i] & (1u << b)) {
				if (seen_zero)
					return 0;
			} else {
				seen_zero = 1;
			}
		}
	return 1;
}

static int
subtree_ok(GENERAL_SUBTREE *st, char *why, size_t len)
{
	GENERAL_NAME *g = st->base;
	const char *p;
	int n;

	if ((st->minimum != NULL && ASN1_INTEGER_get(st->minimum) != 0) ||
	    st->maximum != NULL) {
		snprintf(why, len, "subtree minimum must be 0 and maximum "
		    "absent");
		return 0;
	}
	switch (g->type) {
	case GEN_DNS:
		p = (const char *)ASN1_STRING_get0_data(g->d.dNSName);
		n = ASN1_STRING_length(g->d.dNSName);
		if (n == 0 || vdns_syntax_ok(p, (size_t)n, 0))
			return 1;
		snprintf(why, len, "dNSName constraint '%.*s' is not a "
		    "domain name", n, p);
		return 0;
	case GEN_IPADD:
		n = ASN1_STRING_length(g->d.iPAddress);
		if ((n == 8 || n == 32) && mask_ok(ASN1_STRING_get0_data(
		    g->d.iPAddress) + n / 2, (size_t)n / 2))
			return 1;
		snprintf(why, len, "iPAddress constraint of %d octets is not "
		    "an address and CIDR mask", n);
		return 0;
	case GEN_EMAIL:
		p = (const char *)ASN1_STRING_get0_data(g->d.rfc822Name);
		n = ASN1_STRING_length(g->d.rfc822Name);
		if (memchr(p, '@', (size_t)n) != NULL ?
		    vemail_syntax_ok(p, (size_t)n) : (n > 0 &&
		    vdns_syntax_ok(p + (p[0] == '.'),
		    (size_t)n - (p[0] == '.'), 0)))
			return 1;
		snprintf(why, len, "rfc822Name constraint '%.*s' is neither "
		    "a mailbox nor a domain", n, p);
		return 0;
	default:
		return 1;
	}
}

int
vnc_syntax_ok(NAME_CONSTRAINTS *nc, char *why, size_t len)
{
	int np = sk_GENERAL_SUBTREE_num(nc->permittedSubtrees);
	int ne = sk_GENERAL_SUBTREE_num(nc->excludedSubtrees);
	int i;

	np = np < 0 ? 0 : np;
	ne = ne < 0 ? 0 : ne;
	if (np + ne == 0) {
		snprintf(why, len, "nameConstraints has neither permitted nor "
		    "excluded subtrees");
		return 0;
	}
	if (np + ne > PKID_VERIFY_MAX_NC_SUBTREES) {
		snprintf(why, len, "%d subtrees, pkid accepts at most %d",
		    np + ne, PKID_VERIFY_MAX_NC_SUBTREES);
		return 0;
	}
	for (i = 0; i < np; i++)
		if (!subtree_ok(sk_GENERAL_SUBTREE_value(
		    nc->permittedSubtrees, i), why, len))
			return 0;
	for (i = 0; i < ne; i++)
		if (!subtree_ok(sk_GENERAL_SUBTREE_value(
		    nc->excludedSubtrees, i), why, len))
			return 0;
	return 1;
}

/* name is c or below it (c empty matches every name). */
static int
dns_within(const char *name, size_t nl, const char *c, size_t cl)
{
	if (cl == 0)
		return 1;
	if (nl == cl)
		return strncasecmp(name, c, cl) == 0;
	return nl > cl && name[nl - cl - 1] == '.' &&
	    strncasecmp(name + nl - cl, c, cl) == 0;
}

/*
 * A SAN "*.rest" stands for every one-label child of rest. excluded: may
 * any of them fall in c; otherwise: do all of them.
 */
static int
dns_match(const struct ncname *nm, const char *c, size_t cl, int excluded)
{
	const char *rest;
	size_t rl;

	if (nm->len < 2 || nm->p[0] != '*' || nm->p[1] != '.')
		return dns_within(nm->p, nm->len, c, cl);
	rest = nm->p + 2;
	rl = nm->len - 2;
	if (dns_within(rest, rl, c, cl))
		return 1;
	if (!excluded || cl <= rl + 1)
		return 0;
	/* c is exactly one label under rest: "*.rest" can name c. */
	return dns_within(c, cl, rest, rl) &&
	    memchr(c, '.', cl - rl - 1) == NULL;
}

static int
ip_match(const struct ncname *nm, const ASN1_OCTET_STRING *c)
{
	const unsigned char *b = ASN1_STRING_get0_data(c);
	size_t cl = (size_t)ASN1_STRING_length(c), i;

	if (cl != nm->len * 2)
		return 0;
	for (i = 0; i < nm->len; i++)
		if (((unsigned char)nm->p[i] & b[nm->len + i]) !=
		    (b[i] & b[nm->len + i]))
			return 0;
	return 1;
}

static int
email_match(const struct ncname *nm, const char *c, size_t cl)
{
	const char *at = memchr(nm->p, '@', nm->len);
	const char *dom;
	size_t dl;

	if (at == NULL)
		return 0;
	dom = at + 1;
	dl = nm->len - (size_t)(dom - nm->p);
	if (memchr(c, '@', cl) != NULL) {
		const char *cat = memchr(c, '@', cl);
		size_t ll = (size_t)(cat - c);

		/* Local parts compare exactly ('*' is a plain letter). */
		return ll == (size_t)(at - nm->p) &&
		    memcmp(c, nm->p, ll) == 0 && dl == cl - ll - 1 &&
		    strncasecmp(dom, cat + 1, dl) == 0;
	}
	if (cl > 0 && c[0] == '.')
		return dl > cl - 1 && dns_within(dom, dl, c + 1, cl - 1) &&
		    dl != cl - 1;
	return dl == cl && strncasecmp(dom, c, cl) == 0;
}

/* RDN-wise prefix: the first RDNs of name equal those of c. */
static int
dn_match(const X509_NAME *name, const X509_NAME *c)
{
	int k = X509_NAME_entry_count(c), i, ok;
	X509_NAME *pre;

	if (k == 0)
		return 1;
	if (X509_NAME_entry_count(name) < k)
		return 0;
	if (X509_NAME_entry_count(name) > k &&
	    X509_NAME_ENTRY_set(X509_NAME_get_entry(name, k)) ==
	    X509_NAME_ENTRY_set(X509_NAME_get_entry(name, k - 1)))
		return 0; /* c ends inside a multi-valued RDN */
	if ((pre = X509_NAME_new()) == NULL)
		return 0;
	for (i = 0; i < k; i++) {
		const X509_NAME_ENTRY *ne = X509_NAME_get_entry(name, i);
		int set = i > 0 && X509_NAME_ENTRY_set(ne) ==
		    X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i - 1));

		if (!X509_NAME_add_entry(pre, ne, -1, set ? -1 : 0)) {
			X509_NAME_free(pre);
			return 0;
		}
	}
	ok = X509_NAME_cmp(pre, c) == 0;
	X509_NAME_free(pre);
	return ok;
}

static int
base_match(const struct ncname *nm, const GENERAL_NAME *b, int excluded)
{
	switch (nm->type) {
	case GEN_DNS:
		return dns_match(nm, (const char *)ASN1_STRING_get0_data(
		    b->d.dNSName), (size_t)ASN1_STRING_length(b->d.dNSName),
		    excluded);
	case GEN_IPADD:
		return ip_match(nm, b->d.iPAddress);
	case GEN_EMAIL:
		return email_match(nm, (const char *)ASN1_STRING_get0_data(
		    b->d.rfc822Name),
		    (size_t)ASN1_STRING_length(b->d.rfc822Name));
	case GEN_DIRNAME:
		return dn_match(nm->dn, b->d.directoryName);
	default:
		return 0;
	}
}

static int
supported(int type)
{
	return type == GEN_DNS || type == GEN_IPADD || type == GEN_EMAIL ||
	    type == GEN_DIRNAME;
}

/* 1 when nc has a subtree of that name type. */
static int
has_type(NAME_CONSTRAINTS *nc, int type)
{
	int i;

	for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees); i++)
		if (sk_GENERAL_SUBTREE_value(nc->excludedSubtrees,
		    i)->base->type == type)
			return 1;
	for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++)
		if (sk_GENERAL_SUBTREE_value(nc->permittedSubtrees,
		    i)->base->type == type)
			return 1;
	return 0;
}

/* 0 when allowed; else writes why. */
static int
name_denied(NAME_CONSTRAINTS *nc, const struct ncname *nm, char *why,
    size_t len)
{
	int i, have_perm = 0, permitted = 0;
	GENERAL_SUBTREE *st;

	/* A malformed dNSName (".example.com") cannot be placed in or out
	 * of any DNS subtree: every name MUST be within (6.1.3 (b)). */
	if (nm->type == GEN_DNS && !vdns_syntax_ok(nm->p, nm->len, 1) &&
	    has_type(nc, GEN_DNS)) {
		snprintf(why, len, "is not a valid domain name, so no DNS "
		    "constraint can admit it");
		return 1;
	}

	for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->excludedSubtrees); i++) {
		st = sk_GENERAL_SUBTREE_value(nc->excludedSubtrees, i);
		if (st->base->type != nm->type)
			continue;
		if (!supported(nm->type) || base_match(nm, st->base, 1)) {
			snprintf(why, len, supported(nm->type) ?
			    "is in an excluded subtree" : "has a name type "
			    "whose constraints pkid cannot evaluate");
			return 1;
		}
	}
	for (i = 0; i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); i++) {
		st = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
		if (st->base->type != nm->type)
			continue;
		have_perm = 1;
		if (supported(nm->type) && base_match(nm, st->base, 0))
			permitted = 1;
	}
	if (have_perm && !permitted) {
		snprintf(why, len, supported(nm->type) ? "is outside every "
		    "permitted subtree" : "has a name type whose constraints "
		    "pkid cannot evaluate");
		return 1;
	}
	return 0;
}

static void
deny(struct vfind_set *s, X509 *x, int depth, X509 *ca, int cadepth,
    const struct ncname *nm, const char *why)
{
	char cas[256], rem[768], txt[200];

	vname(ca, cas, sizeof(cas));
	if (nm->type == GEN_DIRNAME)
		X509_NAME_oneline(nm->dn, txt, sizeof(txt));
	else if (nm->type == GEN_DNS || nm->type == GEN_EMAIL ||
	    nm->type == GEN_URI)
		snprintf(txt, sizeof(txt), "%.*s", (int)nm->len, nm->p);
	else if (nm->type == GEN_IPADD && (nm->len == 4 || nm->len == 16))
		inet_ntop(nm->len == 4 ? AF_INET : AF_INET6, nm->p, txt,
		    sizeof(txt));
	else
		snprintf(txt, sizeof(txt), "(type %d)", nm->type);
	snprintf(rem, sizeof(rem), "reissue cert[%d] without '%s', or have "
	    "it issued under a CA whose constraints allow it (cert[%d] '%s' "
	    "does not)", depth, txt, cadepth, cas);
	vfind(s, PKID_E_NAME_CONSTRAINTS, depth, x, rem, "RFC 5280 "
	    "4.2.1.10: name '%s' %s of cert[%d] '%s'", txt, why, cadepth,
	    cas);
}

static int
gen_to_ncname(const GENERAL_NAME *g, struct ncname *nm)
{
	memset(nm, 0, sizeof(*nm));
	nm->type = g->type;
	switch (g->type) {
	case GEN_DNS:
	case GEN_EMAIL:
	case GEN_URI:
		nm->p = (const char *)ASN1_STRING_get0_data(g->d.ia5);
		nm->len = (size_t)ASN1_STRING_length(g->d.ia5);
		return 1;
	case GEN_IPADD:
		nm->p = (const char *)ASN1_STRING_get0_data(g->d.iPAddress);
		nm->len = (size_t)ASN1_STRING_length(g->d.iPAddress);
		/* Malformed lengths are reported by certchk.c. */
		return nm->len == 4 || nm->len == 16;
	case GEN_DIRNAME:
		nm->dn = g->d.directoryName;
		return 1;
	default:
		return 1;
	}
}

/* Every name of x against the constraints of ca. */
static void
check_one(X509 *x, int depth, X509 *ca, int cadepth, NAME_CONSTRAINTS *nc,
    struct vfind_set *s)
{
	GENERAL_NAMES *gens;
	struct ncname nm;
	const X509_NAME *subj = X509_get_subject_name(x);
	char why[120];
	int i, nnames, ntrees;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	nnames = 1 + X509_NAME_entry_count(subj) + sk_GENERAL_NAME_num(gens);
	ntrees = sk_GENERAL_SUBTREE_num(nc->permittedSubtrees) +
	    sk_GENERAL_SUBTREE_num(nc->excludedSubtrees);
	if ((long)nnames * ntrees > PKID_VERIFY_MAX_NC_WORK) {
		vfind(s, PKID_E_NAME_CONSTRAINTS, depth, x, NULL, "%d names "
		    "against %d constraints of cert[%d] is past pkid's limit",
		    nnames, ntrees, cadepth);
		goto out;
	}
	if (X509_NAME_entry_count(subj) > 0) {
		memset(&nm, 0, sizeof(nm));
		nm.type = GEN_DIRNAME;
		nm.dn = subj;
		if (name_denied(nc, &nm, why, sizeof(why)))
			deny(s, x, depth, ca, cadepth, &nm, why);
	}
	for (i = 0; i < X509_NAME_entry_count(subj); i++) {
		const X509_NAME_ENTRY *ne = X509_NAME_get_entry(subj, i);
		const ASN1_STRING *v = X509_NAME_ENTRY_get_data(ne);

		if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne)) !=
		    NID_pkcs9_emailAddress)
			continue;
		memset(&nm, 0, sizeof(nm));
		nm.type = GEN_EMAIL;
		nm.p = (const char *)ASN1_STRING_get0_data(v);
		nm.len = (size_t)ASN1_STRING_length(v);
		if (name_denied(nc, &nm, why, sizeof(why)))
			deny(s, x, depth, ca, cadepth, &nm, why);
	}
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		if (!gen_to_ncname(sk_GENERAL_NAME_value(gens, i), &nm))
			continue;
		if (name_denied(nc, &nm, why, sizeof(why)))
			deny(s, x, depth, ca, cadepth, &nm, why);
	}
out:
	GENERAL_NAMES_free(gens);
}

void
vcheck_nc(struct vrun *r, const size_t *p, size_t n, struct vfind_set *s)
{
	NAME_CONSTRAINTS *nc;
	char why[200];
	size_t i, j;

	for (i = 1; i < n; i++) {
		X509 *ca = r->pool[p[i]].x;

		nc = X509_get_ext_d2i(ca, NID_name_constraints, NULL, NULL);
		if (nc == NULL) {
			ERR_clear_error();
			continue;
		}
		if (!vnc_syntax_ok(nc, why, sizeof(why))) {
			/* Reported by certchk.c; nothing can be judged. */
			NAME_CONSTRAINTS_free(nc);
			continue;
		}
		for (j = 0; j < i; j++) {
			/* 6.1.3 (b): self-issued intermediates are exempt. */
			if (j > 0 && r->pool[p[j]].self_issued)
				continue;
			check_one(r->pool[p[j]].x, (int)j, ca, (int)i, nc, s);
		}
		NAME_CONSTRAINTS_free(nc);
	}
}
