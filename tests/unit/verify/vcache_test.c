/*
 * vcache_test.c - the verifier's shared cache: parsed certificates and
 * signature results are reused, failures are never cached, the tables stay
 * within their bounds, and a validation through the cache gives the same
 * verdict as without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "testcerts.h"
#include "verify/vcache.h"
#include "verify/verify.h"

/* A root, an intermediate and a leaf, valid around TC_T2030. */
struct fx {
	EVP_PKEY *rk, *ik, *lk;	/* keys */
	X509 *root, *ica, *leaf; /* certificates */
};

/* Extensions as "name", "value" pairs (testcerts.h). */
static const char *const ca_exts[] = {
	"basicConstraints", "critical,CA:TRUE",
	"keyUsage", "critical,keyCertSign,cRLSign",
	"subjectKeyIdentifier", "hash", NULL,
};
static const char *const ica_exts[] = {
	"basicConstraints", "critical,CA:TRUE",
	"keyUsage", "critical,keyCertSign,cRLSign",
	"subjectKeyIdentifier", "hash",
	"authorityKeyIdentifier", "keyid", NULL,
};
static const char *const leaf_exts[] = {
	"basicConstraints", "critical,CA:FALSE",
	"keyUsage", "critical,digitalSignature",
	"extendedKeyUsage", "serverAuth",
	"subjectAltName", "DNS:a.example.test",
	"subjectKeyIdentifier", "hash",
	"authorityKeyIdentifier", "keyid", NULL,
};

static void
fx_make(struct fx *f)
{
	time_t nb = TC_T2030 - TC_DAY, na = TC_T2030 + 30 * TC_DAY;

	f->rk = tc_key_ec("P-256");
	f->ik = tc_key_ec("P-256");
	f->lk = tc_key_ec("P-256");
	f->root = tc_cert("Root", f->rk, NULL, NULL, 1, nb, na, ca_exts);
	f->ica = tc_cert("ICA", f->ik, f->root, f->rk, 2, nb, na, ica_exts);
	f->leaf = tc_cert("a.example.test", f->lk, f->ica, f->ik, 3, nb, na,
	    leaf_exts);
}

static void
fx_free(struct fx *f)
{
	X509_free(f->root);
	X509_free(f->ica);
	X509_free(f->leaf);
	EVP_PKEY_free(f->rk);
	EVP_PKEY_free(f->ik);
	EVP_PKEY_free(f->lk);
}

static void
test_d2i_reuses(void **state)
{
	struct pkid_vcache_stats st;
	struct pkid_vcache *vc;
	struct pkid_err e;
	struct fx f;
	unsigned char *der, *bad;
	size_t len;
	X509 *a = NULL, *b = NULL;

	(void)state;
	fx_make(&f);
	pkid_err_clear(&e);
	assert_non_null(vc = pkid_vcache_new(16, 8, &e));
	der = tc_der_cert(f.ica, &len);
	assert_int_equal(pkid_vcache_d2i(vc, der, len, &a, &e), PKID_OK);
	assert_int_equal(pkid_vcache_d2i(vc, der, len, &b, &e), PKID_OK);
	assert_ptr_equal(a, b);
	assert_int_equal(X509_cmp(a, f.ica), 0);
	pkid_vcache_stats(vc, &st);
	assert_int_equal(st.cert_hits, 1);
	assert_int_equal(st.cert_misses, 1);
	X509_free(a);
	X509_free(b);
	/* Trailing bytes and garbage are refused, cache or not. */
	bad = OPENSSL_malloc(len + 1);
	memcpy(bad, der, len);
	bad[len] = 0;
	a = NULL;
	assert_int_equal(pkid_vcache_d2i(vc, bad, len + 1, &a, &e),
	    PKID_E_TRAILING_DATA);
	assert_null(a);
	pkid_err_clear(&e);
	assert_int_equal(pkid_vcache_d2i(vc, der, len / 2, &a, &e),
	    PKID_E_CERT_MALFORMED);
	assert_null(a);
	OPENSSL_free(bad);
	OPENSSL_free(der);
	pkid_vcache_free(vc);
	fx_free(&f);
}

static void
test_sig_cached_only_when_good(void **state)
{
	struct pkid_vcache_stats st;
	struct pkid_vcache *vc;
	struct pkid_err e;
	struct fx f;

	(void)state;
	fx_make(&f);
	pkid_err_clear(&e);
	assert_non_null(vc = pkid_vcache_new(0, 0, &e));
	assert_int_equal(pkid_vcache_sig_ok(vc, f.leaf, f.ica), 1);
	assert_int_equal(pkid_vcache_sig_ok(vc, f.leaf, f.ica), 1);
	/* Wrong issuer key: checked each time, never remembered. */
	assert_int_equal(pkid_vcache_sig_ok(vc, f.leaf, f.root), 0);
	assert_int_equal(pkid_vcache_sig_ok(vc, f.leaf, f.root), 0);
	assert_int_equal(pkid_vcache_sig_ok(NULL, f.leaf, f.ica), 1);
	pkid_vcache_stats(vc, &st);
	assert_int_equal(st.sig_hits, 1);
	assert_int_equal(st.sig_misses, 3);
	pkid_vcache_free(vc);
	fx_free(&f);
}

static void
test_bounded(void **state)
{
	struct pkid_vcache_stats st;
	struct pkid_vcache *vc;
	struct pkid_err e;
	struct fx f;
	unsigned char *der[12];
	size_t len[12];
	X509 *x;
	int i;

	(void)state;
	fx_make(&f);
	pkid_err_clear(&e);
	/* One set of four ways: twelve certificates cannot all stay. */
	assert_non_null(vc = pkid_vcache_new(4, 4, &e));
	for (i = 0; i < 12; i++) {
		x = tc_cert("n", f.lk, f.ica, f.ik, 100 + i, TC_T2030,
		    TC_T2030 + TC_DAY, leaf_exts);
		der[i] = tc_der_cert(x, &len[i]);
		assert_int_equal(pkid_vcache_sig_ok(vc, x, f.ica), 1);
		X509_free(x);
		assert_int_equal(pkid_vcache_d2i(vc, der[i], len[i], &x, &e),
		    PKID_OK);
		X509_free(x);
	}
	/* The first ones were evicted: parsing them again misses. */
	assert_int_equal(pkid_vcache_d2i(vc, der[0], len[0], &x, &e),
	    PKID_OK);
	X509_free(x);
	pkid_vcache_stats(vc, &st);
	assert_int_equal(st.cert_hits, 0);
	assert_int_equal(st.cert_misses, 13);
	for (i = 0; i < 12; i++)
		OPENSSL_free(der[i]);
	pkid_vcache_flush(vc);
	pkid_vcache_free(vc);
	fx_free(&f);
}

static enum pkid_code
run(struct fx *f, struct pkid_vcache *vc, const char *host)
{
	struct pkid_verify_ctx *c;
	struct pkid_verify_result res;
	struct pkid_verify_opts o;
	struct pkid_err e;
	enum pkid_code rc;

	pkid_err_clear(&e);
	assert_non_null(c = pkid_verify_ctx_new(&e));
	pkid_verify_set_cache(c, vc);
	assert_int_equal(pkid_verify_add_trusted(c, f->root, &e), PKID_OK);
	assert_int_equal(pkid_verify_add_untrusted(c, f->ica, &e), PKID_OK);
	pkid_verify_opts_init(&o);
	o.at = TC_T2030;
	o.host = host;
	rc = pkid_verify_run(c, &o, f->leaf, &res, &e);
	pkid_verify_result_clear(&res);
	pkid_verify_ctx_free(c);
	return rc;
}

static void
test_same_verdicts(void **state)
{
	struct pkid_vcache_stats st;
	struct pkid_vcache *vc;
	struct pkid_err e;
	struct fx f;
	int i;

	(void)state;
	fx_make(&f);
	pkid_err_clear(&e);
	assert_non_null(vc = pkid_vcache_new(0, 0, &e));
	for (i = 0; i < 3; i++) {
		assert_int_equal(run(&f, vc, "a.example.test"), PKID_OK);
		assert_int_equal(run(&f, vc, "b.example.test"),
		    PKID_E_NAME_MISMATCH);
		assert_int_equal(run(&f, NULL, "a.example.test"), PKID_OK);
	}
	pkid_vcache_stats(vc, &st);
	assert_true(st.sig_hits >= 10);
	assert_int_equal(st.sig_misses, 2);
	pkid_vcache_free(vc);
	fx_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_d2i_reuses),
		cmocka_unit_test(test_sig_cached_only_when_good),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_same_verdicts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
