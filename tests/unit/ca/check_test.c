/*
 * check_test.c - the checks every request passes before pkid signs
 * (src/ca/check.c; issue 9 items 1, 2, 4, 6, 7, 8): each refusal with its
 * code, and what must still be issued.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "ca/policy.h"
#include "x509/load.h"

static char dir[256];
static struct pkid_ca *ca;
static struct pkid_requester boot = { "test", NULL };

static int
setup(void **state)
{
	char tmpl[] = "/tmp/pkid-check-test.XXXXXX";
	const char *sets[] = { "profile.tpl.subject=CN={cn},O=Acme",
	    "profile.tpl.san_dns_suffixes=example.com" };
	struct pkid_ca_init_opts o;
	struct pkid_err e;

	(void)state;
	if (mkdtemp(tmpl) == NULL)
		return -1;
	snprintf(dir, sizeof(dir), "%s/ca", tmpl);
	memset(&o, 0, sizeof(o));
	o.domain = "example.com";
	o.ip_ranges = "10.0.0.0/8";
	o.sets = sets;
	o.n_sets = 2;
	pkid_err_clear(&e);
	if (pkid_ca_init(dir, &o, &e) != PKID_OK ||
	    pkid_ca_open(dir, &ca, &e) != PKID_OK) {
		fprintf(stderr, "setup: %s\n", e.detail);
		return -1;
	}
	return 0;
}

static int
teardown(void **state)
{
	char cmd[300];

	(void)state;
	pkid_ca_close(ca);
	snprintf(cmd, sizeof(cmd), "rm -rf \"$(dirname '%s')\"", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* A CSR for key k with the attributes of n (NID, value, length; length
 * -1 is strlen) and SAN san (NULL: none). */
struct attr {
	int nid;		/* attribute */
	const char *v;		/* value */
	int len;		/* bytes, -1: strlen */
};

static X509_REQ *
csr_of(EVP_PKEY *k, const struct attr *a, int n, const char *san)
{
	X509_REQ *r = X509_REQ_new();
	X509_NAME *nm = X509_NAME_new();
	STACK_OF(X509_EXTENSION) *exts = sk_X509_EXTENSION_new_null();
	X509V3_CTX ctx;
	int i;

	for (i = 0; i < n; i++)
		assert_int_equal(X509_NAME_add_entry_by_NID(nm, a[i].nid,
		    V_ASN1_UTF8STRING, (const unsigned char *)a[i].v, a[i].len, -1,
		    0), 1);
	X509_REQ_set_subject_name(r, nm);
	X509_REQ_set_pubkey(r, k);
	if (san != NULL) {
		X509V3_set_ctx(&ctx, NULL, NULL, r, NULL, 0);
		sk_X509_EXTENSION_push(exts, X509V3_EXT_conf_nid(NULL, &ctx,
		    NID_subject_alt_name, san));
		X509_REQ_add_extensions(r, exts);
	}
	X509_REQ_sign(r, k, EVP_sha256());
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	X509_NAME_free(nm);
	return r;
}

static X509_REQ *
csr_cn(EVP_PKEY *k, const char *cn, const char *san)
{
	struct attr a = { NID_commonName, cn, -1 };

	return csr_of(k, &a, cn != NULL ? 1 : 0, san);
}

/* pkid_ca_check's code for this CN and SAN under profile device. */
static enum pkid_code
check_cn(const char *cn, const char *san)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509_REQ *r = csr_cn(k, cn, san);
	struct pkid_err e;
	enum pkid_code rc;

	pkid_err_clear(&e);
	rc = pkid_ca_check(ca, r, "device", &boot, &e);
	X509_REQ_free(r);
	EVP_PKEY_free(k);
	return rc;
}

/* Item 4: the limits apply to a DNS- or IP-looking CN. */
static void
test_cn_limits(void **state)
{
	(void)state;
	assert_int_equal(check_cn("evil.com", NULL), PKID_E_SAN_NOT_ALLOWED);
	assert_int_equal(check_cn("evil.com.", NULL), PKID_E_SAN_NOT_ALLOWED);
	assert_int_equal(check_cn("8.8.8.8", NULL), PKID_E_SAN_NOT_ALLOWED);
	assert_int_equal(check_cn("2001:db8::1", NULL),
	    PKID_E_SAN_NOT_ALLOWED);
	assert_int_equal(check_cn("*.evil.com", NULL), PKID_E_SAN_NOT_ALLOWED);
	assert_int_equal(check_cn("www.google.com", "DNS:a.example.com"),
	    PKID_E_SAN_NOT_ALLOWED);
	assert_int_equal(check_cn("a.example.com", "DNS:a.example.com"),
	    PKID_OK);
	assert_int_equal(check_cn("10.1.2.3", NULL), PKID_OK);
	assert_int_equal(check_cn("Router 17", NULL), PKID_OK);
	assert_int_equal(check_cn("FCW2140L0AB", NULL), PKID_OK);
	assert_int_equal(check_cn("example.com", NULL), PKID_OK);
}

/* Item 7: names a relying party could read two ways. */
static void
test_odd_names(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	char long_cn[10001];
	const struct attr nul = { NID_commonName,
	    "good.example.com\0.evil.com", 26 };
	const struct attr two[] = { { NID_commonName, "a.example.com", -1 },
	    { NID_commonName, "b.example.com", -1 } };
	const struct attr country = { NID_countryName, "USA", -1 };
	const struct attr cn64[] = { { NID_commonName,
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	    -1 } };
	struct attr big = { NID_commonName, long_cn, -1 };
	X509_REQ *r;
	struct pkid_err e;
	size_t i;
	const struct { const struct attr *a; int n; const char *san;
	    enum pkid_code want; } cases[] = {
		{ &nul, 1, NULL, PKID_E_SUBJECT_INVALID },
		{ &big, 1, NULL, PKID_E_SUBJECT_INVALID },
		{ NULL, 0, NULL, PKID_E_SUBJECT_INVALID },
		{ two, 2, NULL, PKID_E_SUBJECT_INVALID },
		{ &country, 1, "DNS:c.example.com", PKID_E_SUBJECT_INVALID },
		{ NULL, 0, "DNS:s.example.com", PKID_OK },
		{ cn64, 1, NULL, PKID_OK },
	};

	(void)state;
	memset(long_cn, 'a', sizeof(long_cn) - 1);
	long_cn[sizeof(long_cn) - 1] = '\0';
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = csr_of(k, cases[i].a, cases[i].n, cases[i].san);
		pkid_err_clear(&e);
		assert_int_equal(pkid_ca_check(ca, r, "device", &boot, &e),
		    cases[i].want);
		X509_REQ_free(r);
	}
	EVP_PKEY_free(k);
}

/* Item 6: never a CA's subject. */
static void
test_ca_subjects_reserved(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *cas[2];
	X509_REQ *r;
	struct pkid_err e;
	int i;

	(void)state;
	cas[0] = ca->root;
	cas[1] = ca->issuing;
	for (i = 0; i < 2; i++) {
		r = X509_REQ_new();
		X509_REQ_set_subject_name(r, X509_get_subject_name(cas[i]));
		X509_REQ_set_pubkey(r, k);
		X509_REQ_sign(r, k, EVP_sha256());
		pkid_err_clear(&e);
		assert_int_equal(pkid_ca_check(ca, r, "device", &boot, &e),
		    PKID_E_SUBJECT_RESERVED);
		X509_REQ_free(r);
	}
	EVP_PKEY_free(k);
}

/* Issue cn/san under profile with key k; the certificate, re-decoded. */
static X509 *
issue(EVP_PKEY *k, const char *cn, const char *san, const char *profile)
{
	X509_REQ *r = csr_cn(k, cn, san);
	struct pkid_issue_result res;
	struct pkid_err e;
	X509 *x;

	pkid_err_clear(&e);
	assert_int_equal(pkid_ca_issue(ca, r, profile, &boot, &res, &e),
	    PKID_OK);
	x = res.cert;
	res.cert = NULL;
	assert_int_equal(pkid_x509_redecode(&x, &e), PKID_OK);
	pkid_issue_result_clear(&res);
	X509_REQ_free(r);
	return x;
}

/* Items 1 and 2: a certificate renews its own names only. */
static void
test_identity_binding(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
	X509 *dev1 = issue(k, "dev1.example.com",
	    "DNS:dev1.example.com,IP:10.0.0.1", "device");
	X509 *tpl = issue(k, "t1.example.com", "DNS:t1.example.com", "tpl");
	struct pkid_requester rq = { "est:cert:dev1", dev1 };
	struct pkid_requester rqt = { "est:cert:t1", tpl };
	struct pkid_err e;
	const struct { const char *cn, *san; enum pkid_code want; } c[] = {
		{ "dev2.example.com", "DNS:dev1.example.com,IP:10.0.0.1",
		    PKID_E_IDENTITY_MISMATCH },
		{ "dev1.example.com", "DNS:dev1.example.com",
		    PKID_E_IDENTITY_MISMATCH },
		{ "dev1.example.com", "DNS:dev1.example.com,IP:10.0.0.1,"
		    "DNS:x.example.com", PKID_E_IDENTITY_MISMATCH },
		{ "dev1.example.com", NULL, PKID_E_IDENTITY_MISMATCH },
		{ "dev1.example.com", "IP:10.0.0.1,DNS:dev1.example.com",
		    PKID_OK },
	};
	X509_REQ *r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		r = csr_cn(k2, c[i].cn, c[i].san);
		pkid_err_clear(&e);
		assert_int_equal(pkid_ca_check(ca, r, "device", &rq, &e),
		    c[i].want);
		X509_REQ_free(r);
	}
	/* A subject template: the final names are compared, so the device
	 * sends its CN and gets O=Acme back as before. */
	r = csr_cn(k2, "t1.example.com", "DNS:t1.example.com");
	pkid_err_clear(&e);
	assert_int_equal(pkid_ca_check(ca, r, "tpl", &rqt, &e), PKID_OK);
	X509_REQ_free(r);
	r = csr_cn(k2, "t2.example.com", "DNS:t1.example.com");
	assert_int_equal(pkid_ca_check(ca, r, "tpl", &rqt, &e),
	    PKID_E_IDENTITY_MISMATCH);
	X509_REQ_free(r);
	X509_free(dev1);
	X509_free(tpl);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* Item 8: a key revoked for keyCompromise is never certified again;
 * another reason does not bar the key. */
static void
test_compromised_key(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256"), *k2 = EVP_EC_gen("P-256");
	X509 *a = issue(k, "kc.example.com", NULL, "device");
	X509 *b = issue(k2, "sup.example.com", NULL, "device");
	char serial[80];
	struct pkid_err e;
	X509_REQ *r;

	(void)state;
	pkid_err_clear(&e);
	pkid_x509_serial_hex(X509_get0_serialNumber(a), serial,
	    sizeof(serial));
	assert_int_equal(pkid_ca_revoke(ca, serial, 1, "test", &e), PKID_OK);
	pkid_x509_serial_hex(X509_get0_serialNumber(b), serial,
	    sizeof(serial));
	assert_int_equal(pkid_ca_revoke(ca, serial, 4, "test", &e), PKID_OK);
	r = csr_cn(k, "kc2.example.com", NULL);
	assert_int_equal(pkid_ca_check(ca, r, "device", &boot, &e),
	    PKID_E_KEY_COMPROMISED);
	assert_non_null(strstr(e.detail, "keyCompromise"));
	X509_REQ_free(r);
	r = csr_cn(k2, "sup2.example.com", NULL);
	pkid_err_clear(&e);
	assert_int_equal(pkid_ca_check(ca, r, "device", &boot, &e), PKID_OK);
	X509_REQ_free(r);
	X509_free(a);
	X509_free(b);
	EVP_PKEY_free(k);
	EVP_PKEY_free(k2);
}

/* Item 5: the suffix ca init derives from a subject. */
static void
test_subject_domain(void **state)
{
	char d[256];

	(void)state;
	assert_int_equal(pkid_ca_subject_domain("CN=Acme,DC=acme,DC=net", d,
	    sizeof(d)), 1);
	assert_string_equal(d, "acme.net");
	assert_int_equal(pkid_ca_subject_domain("CN=example.com Root", d,
	    sizeof(d)), 1);
	assert_string_equal(d, "example.com");
	assert_int_equal(pkid_ca_subject_domain("CN=Lab,O=lab.example.org",
	    d, sizeof(d)), 1);
	assert_string_equal(d, "lab.example.org");
	assert_int_equal(pkid_ca_subject_domain("CN=pkid Demo CA", d,
	    sizeof(d)), 0);
	assert_int_equal(pkid_ca_subject_domain("CN=CA v1.2", d, sizeof(d)),
	    0);
	assert_int_equal(pkid_ca_subject_domain("CN=10.0.0.1", d, sizeof(d)),
	    0);
	assert_int_equal(pkid_ca_subject_domain(NULL, d, sizeof(d)), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cn_limits),
		cmocka_unit_test(test_odd_names),
		cmocka_unit_test(test_ca_subjects_reserved),
		cmocka_unit_test(test_identity_binding),
		cmocka_unit_test(test_compromised_key),
		cmocka_unit_test(test_subject_domain),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
