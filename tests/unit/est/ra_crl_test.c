/*
 * ra_crl_test.c - the RA's CRL cache and revocation check (ra_crl.c)
 * with a fake fetcher, no network: a CRL is parsed only when whole, DER,
 * from the certificate's issuer and signed by it; it is fetched once and
 * kept until its nextUpdate (at most PKID_RA_CRL_MAX_AGE_S); a failed
 * fetch is not repeated at once; revoked and unknown are told apart,
 * transient causes from lasting ones; the distribution point comes
 * before upstream_crl; the cache stays within its bound; threads share
 * one fetch. Also the RA keys of [est] and [ca] crl_url in pkid.conf.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/cfg.h"
#include "core/clock.h"
#include "core/limits.h"
#include "est/ra_crl.h"
#include "testcerts.h"

#define T TC_T2030
#define URL_A "http://crl.test/ica.crl"
#define URL_FB "http://fallback.test/ica.crl"

/* A CA, a CA of the same name with another key, and devices. */
struct fx {
	EVP_PKEY *ik, *bad, *lk;	/* keys */
	X509 *ica, *imp;		/* the CA, its impostor */
	X509 *a, *b, *c;		/* CDP URL_A; no CDP; CDP, revoked */
};

/* What the fake fetcher serves. */
struct fake {
	atomic_int calls;		/* fetches asked */
	const char *fail_url;		/* this URL fails, NULL none */
	unsigned char *der;		/* the body of every other URL */
	size_t len;			/* its length */
	char last[256];			/* the URL last asked */
};

static const char *const ca_exts[] = {
	"basicConstraints", "critical,CA:TRUE",
	"keyUsage", "critical,keyCertSign,cRLSign",
	"subjectKeyIdentifier", "hash", NULL,
};
static const char *const cdp_exts[] = {
	"basicConstraints", "critical,CA:FALSE",
	"keyUsage", "critical,digitalSignature",
	"crlDistributionPoints", "URI:ldap://crl.test/x,URI:" URL_A, NULL,
};
static const char *const plain_exts[] = {
	"basicConstraints", "critical,CA:FALSE",
	"keyUsage", "critical,digitalSignature", NULL,
};

static void
fx_make(struct fx *f)
{
	time_t nb = T - 30 * TC_DAY, na = T + 365 * TC_DAY;

	f->ik = tc_key_ec("P-256");
	f->bad = tc_key_ec("P-256");
	f->lk = tc_key_ec("P-256");
	f->ica = tc_cert("ICA", f->ik, NULL, NULL, 1, nb, na, ca_exts);
	f->imp = tc_cert("ICA", f->bad, NULL, NULL, 2, nb, na, ca_exts);
	f->a = tc_cert("dev-a", f->lk, f->ica, f->ik, 10, nb, na, cdp_exts);
	f->b = tc_cert("dev-b", f->lk, f->ica, f->ik, 11, nb, na,
	    plain_exts);
	f->c = tc_cert("dev-c", f->lk, f->ica, f->ik, 12, nb, na, cdp_exts);
}

static void
fx_free(struct fx *f)
{
	EVP_PKEY_free(f->ik);
	EVP_PKEY_free(f->bad);
	EVP_PKEY_free(f->lk);
	X509_free(f->ica);
	X509_free(f->imp);
	X509_free(f->a);
	X509_free(f->b);
	X509_free(f->c);
}

/* A CRL of the CA, signed with key, valid [tu, nu], revoking dev-c. */
static void
serve(struct fake *k, const struct fx *f, EVP_PKEY *key, time_t tu,
    time_t nu)
{
	static const struct tc_revoked rv[] = { { 12, T - 3600, 1 } };
	X509_CRL *crl = tc_crl(f->ica, key, tu, nu, 1, rv, 1);

	OPENSSL_free(k->der);
	k->der = tc_der_crl(crl, &k->len);
	X509_CRL_free(crl);
}

static enum pkid_code
fake_fetch(void *arg, const char *url, size_t max, struct pkid_buf *out,
    struct pkid_err *e)
{
	struct fake *k = arg;

	atomic_fetch_add(&k->calls, 1);
	snprintf(k->last, sizeof(k->last), "%s", url);
	pkid_buf_init(out, max);
	if (k->fail_url != NULL && strcmp(url, k->fail_url) == 0)
		return PKID_ERR(e, PKID_E_CONNECT_REFUSED, "%s: connection "
		    "failed", url);
	return pkid_buf_append(out, k->der, k->len, e);
}

static struct pkid_ra_crl *
cache(struct fake *k, const char *fallback)
{
	struct pkid_err e;
	struct pkid_ra_crl *c;

	pkid_err_clear(&e);
	c = pkid_ra_crl_new("https://up.test/.well-known/est", fallback,
	    fake_fetch, k, 5, &e);
	assert_non_null(c);
	return c;
}

static enum pkid_code
check(struct pkid_ra_crl *c, X509 *leaf, X509 *iss, struct pkid_err *e)
{
	char how[300];

	pkid_err_clear(e);
	return pkid_ra_crl_check(c, leaf, iss, how, sizeof(how), e);
}

static void
test_parse(void **state)
{
	struct fx f;
	struct pkid_err e;
	X509_CRL *crl = NULL, *other;
	unsigned char *der, *two;
	size_t len, len2;

	(void)state;
	fx_make(&f);
	other = tc_crl(f.ica, f.ik, T, T + TC_DAY, 1, NULL, 0);
	der = tc_der_crl(other, &len);
	pkid_err_clear(&e);
	assert_int_equal(pkid_ra_crl_parse(der, len, f.ica, &crl, &e),
	    PKID_OK);
	X509_CRL_free(crl);
	/* Trailing bytes, garbage, a size past the bound. */
	two = tc_cat(der, len, (const unsigned char *)"x", 1, &len2);
	pkid_err_clear(&e);
	assert_int_equal(pkid_ra_crl_parse(two, len2, f.ica, &crl, &e),
	    PKID_E_CRL_MALFORMED);
	assert_null(crl);
	pkid_err_clear(&e);
	assert_int_equal(pkid_ra_crl_parse((const uint8_t *)"<html>", 6,
	    f.ica, &crl, &e), PKID_E_CRL_MALFORMED);
	pkid_err_clear(&e);
	assert_int_equal(pkid_ra_crl_parse(der, PKID_RA_CRL_MAX_SIZE + 1,
	    f.ica, &crl, &e), PKID_E_TOO_LARGE);
	/* The same name, another key: not the issuer's signature. */
	pkid_err_clear(&e);
	assert_int_equal(pkid_ra_crl_parse(der, len, f.imp, &crl, &e),
	    PKID_E_CRL_PROBLEM);
	assert_non_null(strstr(e.detail, "signature"));
	/* Another CA's CRL. */
	X509_CRL_free(other);
	OPENSSL_free(der);
	X509_free(f.b);
	f.b = tc_cert("Other CA", f.lk, NULL, NULL, 3, T - TC_DAY,
	    T + TC_DAY, ca_exts);
	other = tc_crl(f.b, f.lk, T, T + TC_DAY, 1, NULL, 0);
	der = tc_der_crl(other, &len);
	pkid_err_clear(&e);
	assert_int_equal(pkid_ra_crl_parse(der, len, f.ica, &crl, &e),
	    PKID_E_CRL_PROBLEM);
	assert_non_null(strstr(e.detail, "issued by"));
	X509_CRL_free(other);
	OPENSSL_free(der);
	OPENSSL_free(two);
	fx_free(&f);
}

static void
test_current(void **state)
{
	struct fx f;
	struct pkid_err e;
	X509_CRL *crl;

	(void)state;
	fx_make(&f);
	crl = tc_crl(f.ica, f.ik, T, T + TC_DAY, 1, NULL, 0);
	pkid_err_clear(&e);
	assert_int_equal(pkid_ra_crl_current(crl, T, &e), PKID_OK);
	/* A CA clock a little ahead is tolerated, a lot is not. */
	assert_int_equal(pkid_ra_crl_current(crl, T - PKID_RA_CRL_SKEW_S, &e),
	    PKID_OK);
	assert_int_equal(pkid_ra_crl_current(crl, T - PKID_RA_CRL_SKEW_S - 1,
	    &e), PKID_E_CRL_PROBLEM);
	assert_non_null(strstr(e.detail, "thisUpdate"));
	pkid_err_clear(&e);
	assert_int_equal(pkid_ra_crl_current(crl, T + TC_DAY, &e),
	    PKID_E_CRL_PROBLEM);
	assert_non_null(strstr(e.detail, "nextUpdate"));
	X509_CRL_free(crl);
	fx_free(&f);
}

static void
test_once_and_revoked(void **state)
{
	struct fx f;
	struct fake k;
	struct pkid_err e;
	struct pkid_ra_crl *c;
	char how[300];
	int i;

	(void)state;
	memset(&k, 0, sizeof(k));
	fx_make(&f);
	serve(&k, &f, f.ik, T, T + 3600);
	pkid_clock_set(T + 60);
	c = cache(&k, "");
	pkid_err_clear(&e);
	assert_int_equal(pkid_ra_crl_check(c, f.a, f.ica, how, sizeof(how),
	    &e), PKID_OK);
	assert_non_null(strstr(how, URL_A));
	/* The ldap URI is skipped: the http one is fetched. */
	assert_string_equal(k.last, URL_A);
	for (i = 0; i < 5; i++)
		assert_int_equal(check(c, f.a, f.ica, &e), PKID_OK);
	assert_int_equal(check(c, f.c, f.ica, &e), PKID_E_REVOKED);
	assert_non_null(strstr(e.detail, "keyCompromise"));
	assert_non_null(strstr(e.detail, "2029-12-31T23:00:00Z"));
	assert_non_null(strstr(e.detail, "serial 0c"));
	assert_int_equal(atomic_load(&k.calls), 1);
	assert_int_equal(pkid_ra_crl_fetches(c), 1);
	assert_int_equal(pkid_ra_crl_retry_after(c, f.c), 0);
	pkid_ra_crl_free(c);
	OPENSSL_free(k.der);
	pkid_clock_set(0);
	fx_free(&f);
}

static void
test_refetch_after_next_update(void **state)
{
	struct fx f;
	struct fake k;
	struct pkid_err e;
	struct pkid_ra_crl *c;

	(void)state;
	memset(&k, 0, sizeof(k));
	fx_make(&f);
	serve(&k, &f, f.ik, T, T + 3600);
	c = cache(&k, "");
	pkid_clock_set(T + 60);
	assert_int_equal(check(c, f.a, f.ica, &e), PKID_OK);
	pkid_clock_set(T + 1800);
	assert_int_equal(check(c, f.a, f.ica, &e), PKID_OK);
	assert_int_equal(atomic_load(&k.calls), 1);
	/* Past nextUpdate: fetched again, the new CRL serves. */
	serve(&k, &f, f.ik, T + 3600, T + 3 * 3600);
	pkid_clock_set(T + 3600);
	assert_int_equal(check(c, f.a, f.ica, &e), PKID_OK);
	assert_int_equal(atomic_load(&k.calls), 2);
	/* Before its nextUpdate, but kept the longest allowed. */
	pkid_clock_set(T + 3600 + PKID_RA_CRL_MAX_AGE_S - 1);
	assert_int_equal(check(c, f.a, f.ica, &e), PKID_OK);
	assert_int_equal(atomic_load(&k.calls), 2);
	pkid_clock_set(T + 3600 + PKID_RA_CRL_MAX_AGE_S);
	assert_int_equal(check(c, f.a, f.ica, &e), PKID_OK);
	assert_int_equal(atomic_load(&k.calls), 3);
	pkid_ra_crl_free(c);
	OPENSSL_free(k.der);
	pkid_clock_set(0);
	fx_free(&f);
}

static void
test_failure_backs_off(void **state)
{
	struct fx f;
	struct fake k;
	struct pkid_err e;
	struct pkid_ra_crl *c;
	int after;

	(void)state;
	memset(&k, 0, sizeof(k));
	fx_make(&f);
	serve(&k, &f, f.ik, T, T + 3600);
	k.fail_url = URL_A;
	pkid_clock_set(T + 60);
	c = cache(&k, "");
	assert_int_equal(check(c, f.a, f.ica, &e), PKID_E_REVOCATION_UNKNOWN);
	assert_non_null(strstr(e.detail, "connect-refused"));
	assert_non_null(strstr(e.detail, URL_A));
	after = pkid_ra_crl_retry_after(c, f.a);
	assert_true(after >= 1 && after <= PKID_RA_CRL_RETRY_S);
	/* Not fetched again at once, even when it would work now. */
	k.fail_url = NULL;
	assert_int_equal(check(c, f.a, f.ica, &e), PKID_E_REVOCATION_UNKNOWN);
	assert_int_equal(check(c, f.c, f.ica, &e), PKID_E_REVOCATION_UNKNOWN);
	assert_int_equal(atomic_load(&k.calls), 1);
	pkid_ra_crl_free(c);
	OPENSSL_free(k.der);
	pkid_clock_set(0);
	fx_free(&f);
}

static void
test_sources(void **state)
{
	struct fx f;
	struct fake k;
	struct pkid_err e;
	struct pkid_ra_crl *c;

	(void)state;
	memset(&k, 0, sizeof(k));
	fx_make(&f);
	serve(&k, &f, f.ik, T, T + 3600);
	pkid_clock_set(T + 60);
	/* No distribution point, no upstream_crl: nothing to fetch. */
	c = cache(&k, "");
	assert_int_equal(check(c, f.b, f.ica, &e), PKID_E_REVOCATION_UNKNOWN);
	assert_non_null(strstr(e.detail, "upstream_crl"));
	assert_int_equal(pkid_ra_crl_retry_after(c, f.b), 0);
	assert_int_equal(atomic_load(&k.calls), 0);
	pkid_ra_crl_free(c);
	/* upstream_crl serves it; and a failing distribution point. */
	c = cache(&k, URL_FB);
	assert_int_equal(check(c, f.b, f.ica, &e), PKID_OK);
	assert_string_equal(k.last, URL_FB);
	k.fail_url = URL_A;
	assert_int_equal(check(c, f.c, f.ica, &e), PKID_E_REVOKED);
	assert_int_equal(check(c, f.a, f.ica, &e), PKID_OK);
	assert_int_equal(atomic_load(&k.calls), 2);
	pkid_ra_crl_free(c);
	OPENSSL_free(k.der);
	pkid_clock_set(0);
	fx_free(&f);
}

static void
test_bad_crls(void **state)
{
	struct fx f;
	struct fake k;
	struct pkid_err e;
	struct pkid_ra_crl *c;

	(void)state;
	memset(&k, 0, sizeof(k));
	fx_make(&f);
	pkid_clock_set(T + 60);
	/* Wrong signer: lasting, so 403, not 503. */
	serve(&k, &f, f.bad, T, T + 3600);
	c = cache(&k, "");
	assert_int_equal(check(c, f.a, f.ica, &e), PKID_E_REVOCATION_UNKNOWN);
	assert_non_null(strstr(e.detail, "crl-problem"));
	assert_non_null(strstr(e.detail, "signature"));
	assert_int_equal(pkid_ra_crl_retry_after(c, f.a), 0);
	pkid_ra_crl_free(c);
	/* Expired: the CA may publish a newer one. */
	serve(&k, &f, f.ik, T - 7200, T - 3600);
	c = cache(&k, "");
	assert_int_equal(check(c, f.a, f.ica, &e), PKID_E_REVOCATION_UNKNOWN);
	assert_non_null(strstr(e.detail, "nextUpdate"));
	assert_true(pkid_ra_crl_retry_after(c, f.a) >= 1);
	pkid_ra_crl_free(c);
	/* Not a CRL at all. */
	OPENSSL_free(k.der);
	k.der = OPENSSL_memdup("<html>oops</html>", 17);
	k.len = 17;
	c = cache(&k, "");
	assert_int_equal(check(c, f.a, f.ica, &e), PKID_E_REVOCATION_UNKNOWN);
	assert_non_null(strstr(e.detail, "crl-malformed"));
	pkid_ra_crl_free(c);
	OPENSSL_free(k.der);
	pkid_clock_set(0);
	fx_free(&f);
}

static void
test_bounded(void **state)
{
	const char *exts[] = { "crlDistributionPoints", NULL, NULL };
	X509 *leaf[PKID_RA_CRL_CACHE + 2];
	char uri[PKID_RA_CRL_CACHE + 2][64];
	struct fx f;
	struct fake k;
	struct pkid_err e;
	struct pkid_ra_crl *c;
	int i, n = PKID_RA_CRL_CACHE + 2;

	(void)state;
	memset(&k, 0, sizeof(k));
	fx_make(&f);
	serve(&k, &f, f.ik, T, T + 3600);
	pkid_clock_set(T + 60);
	c = cache(&k, "");
	for (i = 0; i < n; i++) {
		snprintf(uri[i], sizeof(uri[i]), "URI:http://crl%d.test/c", i);
		exts[1] = uri[i];
		leaf[i] = tc_cert("dev", f.lk, f.ica, f.ik, 100 + i, T - 60,
		    T + TC_DAY, exts);
		assert_int_equal(check(c, leaf[i], f.ica, &e), PKID_OK);
	}
	assert_int_equal(atomic_load(&k.calls), n);
	/* The most recent ones are kept, the oldest made room. */
	assert_int_equal(check(c, leaf[n - 1], f.ica, &e), PKID_OK);
	assert_int_equal(atomic_load(&k.calls), n);
	assert_int_equal(check(c, leaf[0], f.ica, &e), PKID_OK);
	assert_int_equal(atomic_load(&k.calls), n + 1);
	for (i = 0; i < n; i++)
		X509_free(leaf[i]);
	pkid_ra_crl_free(c);
	OPENSSL_free(k.der);
	pkid_clock_set(0);
	fx_free(&f);
}

/* One of the threads of test_threads. */
struct runner {
	struct pkid_ra_crl *c;	/* the shared cache */
	struct fx *f;		/* certificates */
	int bad;		/* checks that did not answer as expected */
};

static void *
run(void *arg)
{
	struct runner *r = arg;
	struct pkid_err e;
	int i;

	for (i = 0; i < 50; i++) {
		if (check(r->c, r->f->a, r->f->ica, &e) != PKID_OK)
			r->bad++;
		if (check(r->c, r->f->c, r->f->ica, &e) != PKID_E_REVOKED)
			r->bad++;
	}
	return NULL;
}

static void
test_threads(void **state)
{
	pthread_t th[8];
	struct runner r[8];
	struct fx f;
	struct fake k;
	int i;

	(void)state;
	memset(&k, 0, sizeof(k));
	fx_make(&f);
	serve(&k, &f, f.ik, T, T + 3600);
	pkid_clock_set(T + 60);
	for (i = 0; i < 8; i++) {
		r[i].c = i == 0 ? cache(&k, "") : r[0].c;
		r[i].f = &f;
		r[i].bad = 0;
	}
	for (i = 0; i < 8; i++)
		assert_int_equal(pthread_create(&th[i], NULL, run, &r[i]), 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(pthread_join(th[i], NULL), 0);
		assert_int_equal(r[i].bad, 0);
	}
	/* Threads that asked while the first fetch ran waited for it. */
	assert_int_equal(atomic_load(&k.calls), 1);
	pkid_ra_crl_free(r[0].c);
	OPENSSL_free(k.der);
	pkid_clock_set(0);
	fx_free(&f);
}

static enum pkid_code
parse(struct pkid_config *c, const char *text, struct pkid_err *e)
{
	pkid_config_defaults(c);
	pkid_err_clear(e);
	return pkid_config_parse(c, "t.conf", text, strlen(text), e);
}

static void
test_cfg(void **state)
{
	struct pkid_config c;
	struct pkid_err e;
	struct pkid_buf out;

	(void)state;
	assert_int_equal(parse(&c, "[est]\n", &e), PKID_OK);
	assert_int_equal(c.est[0].upstream_revocation, PKID_UPSTREAM_REV_CRL);
	assert_string_equal(c.est[0].upstream_crl, "");
	assert_string_equal(c.crl_url, "auto");
	assert_int_equal(parse(&c, "[ca]\ncrl_url = http://ca.test:8080/crl/"
	    "ca.crl\n[est x]\nupstream = https://ca/\nupstream_revocation = "
	    "off\nupstream_crl = https://ca/crl/ca.crl\n", &e), PKID_OK);
	assert_int_equal(c.est[1].upstream_revocation, PKID_UPSTREAM_REV_OFF);
	assert_string_equal(c.est[1].upstream_crl, "https://ca/crl/ca.crl");
	pkid_buf_init(&out, 1 << 20);
	assert_int_equal(pkid_config_write(&c, &out, &e), PKID_OK);
	assert_non_null(strstr((char *)out.p, "upstream_revocation = off"));
	assert_non_null(strstr((char *)out.p, "upstream_crl = https://ca/"));
	assert_non_null(strstr((char *)out.p,
	    "crl_url = http://ca.test:8080/crl/ca.crl"));
	pkid_buf_free(&out);
	assert_int_equal(parse(&c, "[est]\nupstream_revocation = ocsp\n", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	assert_int_equal(parse(&c, "[est]\nupstream_crl = ldap://x/\n", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	assert_int_equal(parse(&c, "[ca]\ncrl_url = https://ca/x.crl\n", &e),
	    PKID_E_CONFIG_BAD_VALUE);
	assert_int_equal(parse(&c, "[ca]\ncrl_url = http://ca/a b\n", &e),
	    PKID_E_CONFIG_BAD_VALUE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_current),
		cmocka_unit_test(test_once_and_revoked),
		cmocka_unit_test(test_refetch_after_next_update),
		cmocka_unit_test(test_failure_backs_off),
		cmocka_unit_test(test_sources),
		cmocka_unit_test(test_bad_crls),
		cmocka_unit_test(test_bounded),
		cmocka_unit_test(test_threads),
		cmocka_unit_test(test_cfg),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
