/*
 * ccache_test.c - the client certificate chain cache: a chain is built
 * once and then answered from the cache (hit), a different leaf, chain or
 * domain is a miss, failures are never kept, entries end at the chain's
 * notAfter and at the TTL, invalidation drops everything (also results of
 * checks that were in flight), and the table stays within its bound.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "core/limits.h"
#include "testcerts.h"
#include "verify/ccache.h"

/* A root, an intermediate, two leaves; leaf b ends an hour after T. */
struct fx {
	EVP_PKEY *rk, *ik, *lk;		/* keys */
	X509 *root, *ica, *a, *b;	/* certificates */
	X509_STORE *st;			/* root as anchor */
	STACK_OF(X509) *chain;		/* ica, as a client sends it */
};

#define T TC_T2030

static const char *const ca_exts[] = {
	"basicConstraints", "critical,CA:TRUE",
	"keyUsage", "critical,keyCertSign,cRLSign",
	"subjectKeyIdentifier", "hash", NULL,
};
static const char *const leaf_exts[] = {
	"basicConstraints", "critical,CA:FALSE",
	"keyUsage", "critical,digitalSignature",
	"extendedKeyUsage", "clientAuth",
	"subjectKeyIdentifier", "hash",
	"authorityKeyIdentifier", "keyid", NULL,
};

static void
fx_make(struct fx *f)
{
	time_t nb = T - TC_DAY, na = T + 30 * TC_DAY;

	f->rk = tc_key_ec("P-256");
	f->ik = tc_key_ec("P-256");
	f->lk = tc_key_ec("P-256");
	f->root = tc_cert("Root", f->rk, NULL, NULL, 1, nb, na, ca_exts);
	f->ica = tc_cert("ICA", f->ik, f->root, f->rk, 2, nb, na, ca_exts);
	f->a = tc_cert("dev-a", f->lk, f->ica, f->ik, 3, nb, na, leaf_exts);
	f->b = tc_cert("dev-b", f->lk, f->ica, f->ik, 4, nb, T + 3600,
	    leaf_exts);
	assert_non_null(f->st = X509_STORE_new());
	assert_int_equal(X509_STORE_add_cert(f->st, f->root), 1);
	assert_non_null(f->chain = sk_X509_new_null());
	assert_int_equal(sk_X509_push(f->chain, f->ica), 1);
}

static void
fx_free(struct fx *f)
{
	sk_X509_free(f->chain);
	X509_STORE_free(f->st);
	X509_free(f->root);
	X509_free(f->ica);
	X509_free(f->a);
	X509_free(f->b);
	EVP_PKEY_free(f->rk);
	EVP_PKEY_free(f->ik);
	EVP_PKEY_free(f->lk);
}

/* pkid_ccache_verify of leaf with chain at time now; *hit as reported. */
static int
check(struct pkid_ccache *cc, unsigned domain, struct fx *f, X509 *leaf,
    STACK_OF(X509) *chain, time_t now, int *hit)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int r;

	assert_non_null(ctx);
	assert_int_equal(X509_STORE_CTX_init(ctx, f->st, leaf, chain), 1);
	X509_STORE_CTX_set_time(ctx, 0, now);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
	r = pkid_ccache_verify(cc, domain, ctx, now, hit);
	X509_STORE_CTX_free(ctx);
	return r;
}

static void
test_hit_and_miss(void **state)
{
	struct pkid_ccache_stats s;
	struct pkid_ccache *cc;
	struct pkid_err e;
	struct fx f;
	int hit = -1;

	(void)state;
	fx_make(&f);
	pkid_err_clear(&e);
	assert_non_null(cc = pkid_ccache_new(0, &e));
	assert_int_equal(check(cc, 1, &f, f.a, f.chain, T, &hit), 1);
	assert_int_equal(hit, 0);
	assert_int_equal(check(cc, 1, &f, f.a, f.chain, T + 10, &hit), 1);
	assert_int_equal(hit, 1);
	/* Another leaf, another domain (trust store): built again. */
	assert_int_equal(check(cc, 1, &f, f.b, f.chain, T, &hit), 1);
	assert_int_equal(hit, 0);
	assert_int_equal(check(cc, 2, &f, f.a, f.chain, T, &hit), 1);
	assert_int_equal(hit, 0);
	/* Without the intermediate the chain does not build: a miss that
	 * fails, and the failure is not kept. */
	assert_int_equal(check(cc, 1, &f, f.a, NULL, T, &hit), 0);
	assert_int_equal(hit, 0);
	assert_int_equal(check(cc, 1, &f, f.a, NULL, T, &hit), 0);
	assert_int_equal(hit, 0);
	pkid_ccache_stats(cc, &s);
	assert_int_equal(s.hits, 1);
	assert_int_equal(s.misses, 5);
	assert_int_equal(s.stored, 3);
	pkid_ccache_free(cc);
	fx_free(&f);
}

static void
test_expiry(void **state)
{
	struct pkid_ccache *cc;
	struct pkid_err e;
	struct fx f;
	int hit = -1;

	(void)state;
	fx_make(&f);
	pkid_err_clear(&e);
	assert_non_null(cc = pkid_ccache_new(0, &e));
	/* Leaf b ends at T + 3600 (within the TTL): never past it. */
	assert_int_equal(check(cc, 1, &f, f.b, f.chain, T + 3600 -
	    PKID_CCACHE_TTL_S / 2, &hit), 1);
	assert_int_equal(hit, 0);
	assert_int_equal(check(cc, 1, &f, f.b, f.chain, T + 3599, &hit), 1);
	assert_int_equal(hit, 1);
	assert_int_equal(check(cc, 1, &f, f.b, f.chain, T + 3601, &hit), 0);
	assert_int_equal(hit, 0);
	/* Leaf a: the TTL ends the entry, then it is built again. */
	assert_int_equal(check(cc, 1, &f, f.a, f.chain, T, &hit), 1);
	assert_int_equal(hit, 0);
	assert_int_equal(check(cc, 1, &f, f.a, f.chain, T +
	    PKID_CCACHE_TTL_S - 1, &hit), 1);
	assert_int_equal(hit, 1);
	assert_int_equal(check(cc, 1, &f, f.a, f.chain, T +
	    PKID_CCACHE_TTL_S, &hit), 1);
	assert_int_equal(hit, 0);
	/* A clock set back before the chain's notBefore is no hit. */
	assert_int_equal(check(cc, 1, &f, f.a, f.chain, T - 2 * TC_DAY,
	    &hit), 0);
	assert_int_equal(hit, 0);
	pkid_ccache_free(cc);
	fx_free(&f);
}

static void
test_invalidation(void **state)
{
	struct pkid_ccache_key k;
	struct pkid_ccache_stats s;
	struct pkid_ccache *cc;
	X509_STORE_CTX *ctx;
	struct pkid_err e;
	struct fx f;
	int hit = -1;

	(void)state;
	fx_make(&f);
	pkid_err_clear(&e);
	assert_non_null(cc = pkid_ccache_new(0, &e));
	assert_int_equal(check(cc, 1, &f, f.a, f.chain, T, &hit), 1);
	assert_int_equal(check(cc, 1, &f, f.a, f.chain, T, &hit), 1);
	assert_int_equal(hit, 1);
	pkid_ccache_invalidate(cc);
	assert_int_equal(check(cc, 1, &f, f.a, f.chain, T, &hit), 1);
	assert_int_equal(hit, 0);
	assert_int_equal(check(cc, 1, &f, f.a, f.chain, T, &hit), 1);
	assert_int_equal(hit, 1);
	/* A check in flight across an invalidation stores nothing. */
	assert_int_equal(pkid_ccache_lookup(cc, 1, f.b, f.chain, T, &k), 0);
	assert_non_null(ctx = X509_STORE_CTX_new());
	assert_int_equal(X509_STORE_CTX_init(ctx, f.st, f.b, f.chain), 1);
	X509_STORE_CTX_set_time(ctx, 0, T);
	assert_int_equal(X509_verify_cert(ctx), 1);
	pkid_ccache_invalidate(cc);
	pkid_ccache_store(cc, &k, ctx, T);
	X509_STORE_CTX_free(ctx);
	assert_int_equal(pkid_ccache_lookup(cc, 1, f.b, f.chain, T, &k), 0);
	pkid_ccache_stats(cc, &s);
	assert_int_equal(s.invalidations, 2);
	assert_int_equal(s.stored, 2);
	pkid_ccache_free(cc);
	fx_free(&f);
}

static void
test_bounded(void **state)
{
	struct pkid_ccache_stats s;
	struct pkid_ccache *cc;
	struct pkid_err e;
	struct fx f;
	X509 *leaves[12];
	char cn[32];
	int i, hit, hits = 0;

	(void)state;
	fx_make(&f);
	pkid_err_clear(&e);
	/* One set of four ways. */
	assert_non_null(cc = pkid_ccache_new(4, &e));
	for (i = 0; i < 12; i++) {
		snprintf(cn, sizeof(cn), "dev-%d", i);
		leaves[i] = tc_cert(cn, f.lk, f.ica, f.ik, 10 + i,
		    T - TC_DAY, T + TC_DAY, leaf_exts);
		assert_int_equal(check(cc, 1, &f, leaves[i], f.chain, T,
		    &hit), 1);
	}
	for (i = 0; i < 12; i++) {
		assert_int_equal(check(cc, 1, &f, leaves[i], f.chain, T,
		    &hit), 1);
		hits += hit;
	}
	pkid_ccache_stats(cc, &s);
	assert_true(hits <= 4);
	assert_int_equal(s.hits, (uint64_t)hits);
	for (i = 0; i < 12; i++)
		X509_free(leaves[i]);
	pkid_ccache_free(cc);
	fx_free(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hit_and_miss),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_invalidation),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
