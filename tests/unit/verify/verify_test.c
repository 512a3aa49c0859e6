/*
 * verify_test.c - the path builder and checks on certificates made here
 * with OpenSSL: cross-signing, same-subject issuers (backtracking), a
 * missing intermediate, wildcards, IP vs DNS SANs, pathLen, EKU.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "verify/verify.h"

/* Validation time of every test: 2023-11-14T22:13:20Z. */
#define T0 1700000000L
#define DAY 86400L

/* One certificate to make. */
struct spec {
	const char *cn;		/* subject CN */
	EVP_PKEY *key;		/* its key */
	X509 *issuer;		/* NULL: self-signed */
	EVP_PKEY *ikey;		/* issuer's key (key when self-signed) */
	long nb, na;		/* validity, seconds from T0 */
	const char *ext[6][2];	/* extensions (name, value), NULL ends */
};

static EVP_PKEY *
newkey(void)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	assert_non_null(k);
	return k;
}

static void
add_ext(X509 *x, X509V3_CTX *ctx, const char *name, const char *val)
{
	X509_EXTENSION *ex = X509V3_EXT_nconf(NULL, ctx, name, val);

	assert_non_null(ex);
	assert_int_equal(X509_add_ext(x, ex, -1), 1);
	X509_EXTENSION_free(ex);
}

static X509 *
mk(const struct spec *s)
{
	static long serial = 1000;
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();
	X509V3_CTX ctx;
	int i;

	assert_non_null(x);
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)s->cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, s->issuer != NULL ?
	    X509_get_subject_name(s->issuer) : n);
	X509_NAME_free(n);
	ASN1_TIME_set(X509_getm_notBefore(x), T0 + s->nb);
	ASN1_TIME_set(X509_getm_notAfter(x), T0 + s->na);
	X509_set_pubkey(x, s->key);
	X509V3_set_ctx(&ctx, s->issuer != NULL ? s->issuer : x, x, NULL,
	    NULL, 0);
	add_ext(x, &ctx, "subjectKeyIdentifier", "hash");
	if (s->issuer != NULL)
		add_ext(x, &ctx, "authorityKeyIdentifier", "keyid:always");
	for (i = 0; i < 6 && s->ext[i][0] != NULL; i++)
		add_ext(x, &ctx, s->ext[i][0], s->ext[i][1]);
	assert_true(X509_sign(x, s->ikey, EVP_sha256()) > 0);
	return x;
}

#define CA_EXT { "basicConstraints", "critical,CA:TRUE" }, \
	{ "keyUsage", "critical,keyCertSign,cRLSign" }

static X509 *
mk_root(const char *cn, EVP_PKEY *k, long nb, long na)
{
	struct spec s = { cn, k, NULL, k, nb, na, { CA_EXT } };

	return mk(&s);
}

static X509 *
mk_ca(const char *cn, EVP_PKEY *k, X509 *iss, EVP_PKEY *ik, long nb,
    long na)
{
	struct spec s = { cn, k, iss, ik, nb, na, { CA_EXT } };

	return mk(&s);
}

static X509 *
mk_leaf(const char *san, X509 *iss, EVP_PKEY *ik, const char *eku)
{
	EVP_PKEY *k = newkey();
	struct spec s = { "leaf", k, iss, ik, -DAY, 365 * DAY, {
	    { "basicConstraints", "critical,CA:FALSE" },
	    { "keyUsage", "critical,digitalSignature" },
	    { "subjectAltName", san },
	    { eku != NULL ? "extendedKeyUsage" : NULL, eku } } };
	X509 *x;

	if (san == NULL) {
		s.ext[2][0] = s.ext[3][0];
		s.ext[2][1] = s.ext[3][1];
		s.ext[3][0] = NULL;
	}
	x = mk(&s);
	EVP_PKEY_free(k);
	return x;
}

/* Run the verifier; trusted and untrusted are NULL-terminated. */
static enum pkid_code
run(X509 *leaf, X509 **trusted, X509 **untrusted,
    const struct pkid_verify_opts *o, struct pkid_verify_result *res)
{
	struct pkid_verify_ctx *c;
	struct pkid_err e;
	enum pkid_code rc;

	pkid_err_clear(&e);
	c = pkid_verify_ctx_new(&e);
	assert_non_null(c);
	for (; trusted != NULL && *trusted != NULL; trusted++)
		assert_int_equal(pkid_verify_add_trusted(c, *trusted, &e),
		    PKID_OK);
	for (; untrusted != NULL && *untrusted != NULL; untrusted++)
		assert_int_equal(pkid_verify_add_untrusted(c, *untrusted, &e),
		    PKID_OK);
	rc = pkid_verify_run(c, o, leaf, res, &e);
	assert_int_equal(rc, res->valid ? PKID_OK : res->findings[0].code);
	pkid_verify_ctx_free(c);
	return rc;
}

static void
opts(struct pkid_verify_opts *o, const char *host)
{
	pkid_verify_opts_init(o);
	o->at = T0;
	o->host = host;
}

/* A three-certificate chain, the fixture most tests start from. */
struct pki {
	EVP_PKEY *rk, *ik;	/* root and intermediate keys */
	X509 *root, *ica;	/* root and intermediate */
};

static void
pki_make(struct pki *p)
{
	p->rk = newkey();
	p->ik = newkey();
	p->root = mk_root("Root", p->rk, -10 * DAY, 3650 * DAY);
	p->ica = mk_ca("ICA", p->ik, p->root, p->rk, -10 * DAY, 1000 * DAY);
}

static void
pki_free(struct pki *p)
{
	X509_free(p->root);
	X509_free(p->ica);
	EVP_PKEY_free(p->rk);
	EVP_PKEY_free(p->ik);
}

static void
test_chain_ok(void **state)
{
	struct pki p;
	struct pkid_verify_opts o;
	struct pkid_verify_result res;
	X509 *leaf;

	(void)state;
	pki_make(&p);
	leaf = mk_leaf("DNS:www.example.com", p.ica, p.ik, "serverAuth");
	opts(&o, "www.example.com");
	assert_int_equal(run(leaf, (X509 *[]){ p.root, NULL },
	    (X509 *[]){ p.ica, NULL }, &o, &res), PKID_OK);
	assert_int_equal(sk_X509_num(res.path), 3);
	assert_true(res.path_complete);
	pkid_verify_result_clear(&res);
	X509_free(leaf);
	pki_free(&p);
}

static void
test_missing_intermediate(void **state)
{
	struct pki p;
	struct pkid_verify_opts o;
	struct pkid_verify_result res;
	X509 *leaf;

	(void)state;
	pki_make(&p);
	leaf = mk_leaf("DNS:www.example.com", p.ica, p.ik, NULL);
	opts(&o, "www.example.com");
	assert_int_equal(run(leaf, (X509 *[]){ p.root, NULL }, NULL, &o,
	    &res), PKID_E_MISSING_INTERMEDIATE);
	assert_int_equal(res.findings[0].depth, 0);
	assert_non_null(strstr(res.findings[0].remedy, "ICA"));
	pkid_verify_result_clear(&res);
	X509_free(leaf);
	pki_free(&p);
}

/*
 * Cross-signing: the ICA key is certified by an untrusted "Other" root
 * (listed first, equally ranked) and by the trusted root. The builder
 * must back out of the dead end and take the second certificate.
 */
static void
test_cross_sign_backtrack(void **state)
{
	struct pki p;
	struct pkid_verify_opts o;
	struct pkid_verify_result res;
	EVP_PKEY *ok = newkey();
	X509 *other = mk_root("Other", ok, -DAY, 3650 * DAY);
	X509 *cross = mk_ca("ICA", p.ik = newkey(), other, ok, -DAY,
	    1000 * DAY);
	X509 *leaf;

	(void)state;
	p.rk = newkey();
	p.root = mk_root("Root", p.rk, -DAY, 3650 * DAY);
	p.ica = mk_ca("ICA", p.ik, p.root, p.rk, -DAY, 1000 * DAY);
	leaf = mk_leaf("DNS:a.example.com", p.ica, p.ik, NULL);
	opts(&o, "a.example.com");
	assert_int_equal(run(leaf, (X509 *[]){ p.root, NULL },
	    (X509 *[]){ cross, p.ica, NULL }, &o, &res), PKID_OK);
	assert_int_equal(X509_cmp(sk_X509_value(res.path, 1), p.ica), 0);
	assert_true(res.paths_tried >= 2);
	pkid_verify_result_clear(&res);
	X509_free(leaf);
	X509_free(cross);
	X509_free(other);
	EVP_PKEY_free(ok);
	pki_free(&p);
}

/*
 * Same subject, same key: the ICA certified by root A (expired anchor) is
 * found first and fails; the builder backtracks to the ICA certified by
 * root B. With only the expired one, the finding is "expired" at depth 2.
 */
static void
test_same_subject_expired_backtrack(void **state)
{
	struct pkid_verify_opts o;
	struct pkid_verify_result res;
	EVP_PKEY *ka = newkey(), *kb = newkey(), *ki = newkey();
	X509 *ra = mk_root("Root A", ka, -900 * DAY, -DAY);
	X509 *rb = mk_root("Root B", kb, -DAY, 3650 * DAY);
	X509 *ia = mk_ca("ICA", ki, ra, ka, -800 * DAY, 900 * DAY);
	X509 *ib = mk_ca("ICA", ki, rb, kb, -DAY, 900 * DAY);
	X509 *leaf = mk_leaf("DNS:b.example.com", ia, ki, NULL);

	(void)state;
	opts(&o, "b.example.com");
	assert_int_equal(run(leaf, (X509 *[]){ ra, rb, NULL },
	    (X509 *[]){ ia, ib, NULL }, &o, &res), PKID_OK);
	assert_int_equal(X509_cmp(sk_X509_value(res.path, 2), rb), 0);
	pkid_verify_result_clear(&res);
	assert_int_equal(run(leaf, (X509 *[]){ ra, NULL },
	    (X509 *[]){ ia, NULL }, &o, &res), PKID_E_EXPIRED);
	assert_int_equal(res.findings[0].depth, 2);
	pkid_verify_result_clear(&res);
	X509_free(leaf);
	X509_free(ia);
	X509_free(ib);
	X509_free(ra);
	X509_free(rb);
	EVP_PKEY_free(ka);
	EVP_PKEY_free(kb);
	EVP_PKEY_free(ki);
}

static enum pkid_code
name_check(const char *san, const char *host, const char *ip)
{
	struct pki p;
	struct pkid_verify_opts o;
	struct pkid_verify_result res;
	enum pkid_code rc;
	X509 *leaf;

	pki_make(&p);
	leaf = mk_leaf(san, p.ica, p.ik, NULL);
	opts(&o, host);
	o.ip = ip;
	rc = run(leaf, (X509 *[]){ p.root, NULL }, (X509 *[]){ p.ica, NULL },
	    &o, &res);
	pkid_verify_result_clear(&res);
	X509_free(leaf);
	pki_free(&p);
	return rc;
}

static void
test_wildcards(void **state)
{
	(void)state;
	assert_int_equal(name_check("DNS:*.example.com", "foo.example.com",
	    NULL), PKID_OK);
	assert_int_equal(name_check("DNS:*.example.com", "FOO.Example.COM",
	    NULL), PKID_OK);
	assert_int_equal(name_check("DNS:*.example.com", "example.com",
	    NULL), PKID_E_NAME_MISMATCH);
	assert_int_equal(name_check("DNS:*.example.com", "a.b.example.com",
	    NULL), PKID_E_NAME_MISMATCH);
	assert_int_equal(name_check("DNS:f*.example.com", "foo.example.com",
	    NULL), PKID_E_NAME_MISMATCH);
	assert_int_equal(name_check("DNS:*.com", "example.com", NULL),
	    PKID_E_NAME_MISMATCH);
	assert_int_equal(name_check("DNS:*", "com", NULL),
	    PKID_E_NAME_MISMATCH);
	assert_int_equal(name_check("DNS:foo.*.example.com",
	    "foo.bar.example.com", NULL), PKID_E_NAME_MISMATCH);
}

static void
test_ip_vs_dns(void **state)
{
	(void)state;
	/* An address written as a dNSName never matches (RFC 9525 6.2). */
	assert_int_equal(name_check("DNS:10.0.0.1", NULL, "10.0.0.1"),
	    PKID_E_IP_NOT_IN_SAN);
	assert_int_equal(name_check("DNS:10.0.0.1", "10.0.0.1", NULL),
	    PKID_E_IP_NOT_IN_SAN);
	assert_int_equal(name_check("IP:192.0.2.1", NULL, "192.0.2.1"),
	    PKID_OK);
	assert_int_equal(name_check("IP:2001:db8::1", NULL, "2001:db8::1"),
	    PKID_OK);
	assert_int_equal(name_check("IP:192.0.2.1", "192.0.2.1", NULL),
	    PKID_OK);
	/* A DNS name is never matched against an iPAddress SAN. */
	assert_int_equal(name_check("IP:192.0.2.1", "host.example.com", NULL),
	    PKID_E_NAME_MISMATCH);
}

static void
test_cn_fallback(void **state)
{
	struct pki p;
	struct pkid_verify_opts o;
	struct pkid_verify_result res;
	EVP_PKEY *k = newkey();
	struct spec s;
	X509 *leaf;

	(void)state;
	pki_make(&p);
	memset(&s, 0, sizeof(s));
	s.cn = "legacy.example.com";
	s.key = k;
	s.issuer = p.ica;
	s.ikey = p.ik;
	s.nb = -DAY;
	s.na = DAY;
	leaf = mk(&s);
	opts(&o, "legacy.example.com");
	assert_int_equal(run(leaf, (X509 *[]){ p.root, NULL },
	    (X509 *[]){ p.ica, NULL }, &o, &res), PKID_E_NAME_MISMATCH);
	pkid_verify_result_clear(&res);
	o.cn_fallback = 1;
	assert_int_equal(run(leaf, (X509 *[]){ p.root, NULL },
	    (X509 *[]){ p.ica, NULL }, &o, &res), PKID_OK);
	assert_true(res.cn_fallback_used);
	assert_true(res.nnotes > 0);
	pkid_verify_result_clear(&res);
	X509_free(leaf);
	EVP_PKEY_free(k);
	pki_free(&p);
}

static void
test_pathlen(void **state)
{
	struct pkid_verify_opts o;
	struct pkid_verify_result res;
	EVP_PKEY *rk = newkey(), *k1 = newkey(), *k2 = newkey();
	X509 *root = mk_root("Root", rk, -DAY, 3650 * DAY);
	struct spec s1 = { "ICA1", k1, root, rk, -DAY, 900 * DAY, {
	    { "basicConstraints", "critical,CA:TRUE,pathlen:0" },
	    { "keyUsage", "critical,keyCertSign" } } };
	X509 *i1 = mk(&s1);
	X509 *i2 = mk_ca("ICA2", k2, i1, k1, -DAY, 900 * DAY);
	X509 *leaf = mk_leaf("DNS:p.example.com", i2, k2, NULL);
	X509 *leaf1 = mk_leaf("DNS:p.example.com", i1, k1, NULL);

	(void)state;
	opts(&o, "p.example.com");
	assert_int_equal(run(leaf, (X509 *[]){ root, NULL },
	    (X509 *[]){ i1, i2, NULL }, &o, &res),
	    PKID_E_PATH_LENGTH_EXCEEDED);
	assert_int_equal(res.findings[0].depth, 1);
	pkid_verify_result_clear(&res);
	/* pathLen 0 still allows an end entity right below. */
	assert_int_equal(run(leaf1, (X509 *[]){ root, NULL },
	    (X509 *[]){ i1, NULL }, &o, &res), PKID_OK);
	pkid_verify_result_clear(&res);
	X509_free(leaf);
	X509_free(leaf1);
	X509_free(i2);
	X509_free(i1);
	X509_free(root);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(k1);
	EVP_PKEY_free(k2);
}

static void
test_eku(void **state)
{
	struct pki p;
	struct pkid_verify_opts o;
	struct pkid_verify_result res;
	X509 *leaf;

	(void)state;
	pki_make(&p);
	leaf = mk_leaf("DNS:c.example.com", p.ica, p.ik, "clientAuth");
	opts(&o, "c.example.com");
	assert_int_equal(run(leaf, (X509 *[]){ p.root, NULL },
	    (X509 *[]){ p.ica, NULL }, &o, &res), PKID_E_EKU_MISMATCH);
	assert_non_null(strstr(res.findings[0].remedy, "serverAuth"));
	pkid_verify_result_clear(&res);
	o.purpose = PKID_PURPOSE_CLIENT;
	assert_int_equal(run(leaf, (X509 *[]){ p.root, NULL },
	    (X509 *[]){ p.ica, NULL }, &o, &res), PKID_OK);
	pkid_verify_result_clear(&res);
	X509_free(leaf);
	pki_free(&p);
}

static void
test_self_signed_and_not_ca(void **state)
{
	struct pkid_verify_opts o;
	struct pkid_verify_result res;
	EVP_PKEY *k = newkey(), *rk = newkey(), *ik = newkey();
	struct spec s = { "self.example.com", k, NULL, k, -DAY, DAY, {
	    { "subjectAltName", "DNS:self.example.com" } } };
	X509 *self = mk(&s);
	X509 *root = mk_root("Root", rk, -DAY, 3650 * DAY);
	struct spec si = { "NotCA", ik, root, rk, -DAY, DAY, {
	    { "basicConstraints", "critical,CA:FALSE" } } };
	X509 *ica = mk(&si);
	X509 *leaf = mk_leaf("DNS:d.example.com", ica, ik, NULL);

	(void)state;
	opts(&o, "self.example.com");
	assert_int_equal(run(self, (X509 *[]){ root, NULL }, NULL, &o, &res),
	    PKID_E_SELF_SIGNED_UNTRUSTED);
	pkid_verify_result_clear(&res);
	opts(&o, "d.example.com");
	assert_int_equal(run(leaf, (X509 *[]){ root, NULL },
	    (X509 *[]){ ica, NULL }, &o, &res), PKID_E_NOT_A_CA);
	assert_int_equal(res.findings[0].depth, 1);
	pkid_verify_result_clear(&res);
	X509_free(self);
	X509_free(root);
	X509_free(ica);
	X509_free(leaf);
	EVP_PKEY_free(k);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
}

static void
test_findings_ordered(void **state)
{
	struct pki p;
	struct pkid_verify_opts o;
	struct pkid_verify_result res;
	X509 *leaf;

	(void)state;
	pki_make(&p);
	leaf = mk_leaf("DNS:e.example.com", p.ica, p.ik, "clientAuth");
	opts(&o, "other.example.com");
	o.at = T0 + 400 * DAY; /* the leaf has expired by then */
	assert_int_equal(run(leaf, (X509 *[]){ p.root, NULL },
	    (X509 *[]){ p.ica, NULL }, &o, &res), PKID_E_EXPIRED);
	assert_true(res.nfindings >= 3);
	assert_int_equal(res.findings[1].code, PKID_E_NAME_MISMATCH);
	assert_int_equal(res.findings[2].code, PKID_E_EKU_MISMATCH);
	pkid_verify_result_clear(&res);
	X509_free(leaf);
	pki_free(&p);
}

static void
test_ossl_map(void **state)
{
	(void)state;
	assert_int_equal(pkid_verify_map_x509_err(X509_V_ERR_CERT_HAS_EXPIRED),
	    PKID_E_EXPIRED);
	assert_int_equal(pkid_verify_map_x509_err(
	    X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT),
	    PKID_E_SELF_SIGNED_UNTRUSTED);
	assert_int_equal(pkid_verify_map_x509_err(
	    X509_V_ERR_IP_ADDRESS_MISMATCH), PKID_E_IP_NOT_IN_SAN);
	assert_int_equal(pkid_verify_map_x509_err(-12345),
	    PKID_E_VERIFY_UNMAPPED);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_ok),
		cmocka_unit_test(test_missing_intermediate),
		cmocka_unit_test(test_cross_sign_backtrack),
		cmocka_unit_test(test_same_subject_expired_backtrack),
		cmocka_unit_test(test_wildcards),
		cmocka_unit_test(test_ip_vs_dns),
		cmocka_unit_test(test_cn_fallback),
		cmocka_unit_test(test_pathlen),
		cmocka_unit_test(test_eku),
		cmocka_unit_test(test_self_signed_and_not_ca),
		cmocka_unit_test(test_findings_ordered),
		cmocka_unit_test(test_ossl_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
