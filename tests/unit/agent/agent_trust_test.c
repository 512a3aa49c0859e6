/*
 * agent_trust_test.c - how pkictl agent takes the next CA into an
 * identity's trust store: a new issuing CA under a trusted root, a new
 * root through its NewWithOld link certificate (RFC 4210 4.4), never a
 * root on first use, never a link, a non-CA or an expired certificate;
 * old anchors kept while the identity depends on them; files and
 * directories written back.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/trust.h"
#include "testcerts.h"

static const char *const ca_ext[] = {
	"basicConstraints", "critical,CA:TRUE",
	"keyUsage", "critical,keyCertSign,cRLSign",
	"subjectKeyIdentifier", "hash",
	"authorityKeyIdentifier", "keyid:always",
	NULL,
};
static const char *const leaf_ext[] = {
	"basicConstraints", "critical,CA:FALSE",
	"keyUsage", "critical,digitalSignature,keyEncipherment",
	"authorityKeyIdentifier", "keyid:always",
	NULL,
};

#define NOW (TC_T2030 + 100 * TC_DAY)

/* Two generations of a PKI: root R1 (key k1) with issuing CA I1, and
 * root R2 (k2, same name "Root") with I2, the links between the roots,
 * a device certificate under I1, an RA certificate. */
struct pki {
	EVP_PKEY *k1, *k2, *ki1, *ki2, *kd, *kx;
	X509 *r1, *i1, *r2, *i2, *new_with_old, *old_with_new, *dev, *ra;
	X509 *i1b;		/* another issuing CA under R1 (new key) */
	X509 *stranger;		/* a root nobody vouches for */
	X509 *bad_link;		/* R2's key and name, by stranger */
};

static void
pki_make(struct pki *p)
{
	time_t nb = TC_T2030, na = TC_T2030 + 400 * TC_DAY;

	memset(p, 0, sizeof(*p));
	p->k1 = tc_key_ec("P-256");
	p->k2 = tc_key_ec("P-256");
	p->ki1 = tc_key_ec("P-256");
	p->ki2 = tc_key_ec("P-256");
	p->kd = tc_key_ec("P-256");
	p->kx = tc_key_ec("P-256");
	p->r1 = tc_cert("Root", p->k1, NULL, NULL, 1, nb, na, ca_ext);
	p->i1 = tc_cert("Issuing", p->ki1, p->r1, p->k1, 2, nb, na, ca_ext);
	p->i1b = tc_cert("Issuing G2", p->ki2, p->r1, p->k1, 3, nb, na,
	    ca_ext);
	p->r2 = tc_cert("Root", p->k2, NULL, NULL, 10, NOW - TC_DAY,
	    NOW + 800 * TC_DAY, ca_ext);
	p->i2 = tc_cert("Issuing", p->ki2, p->r2, p->k2, 11, NOW - TC_DAY,
	    NOW + 700 * TC_DAY, ca_ext);
	/* NewWithOld: R2's key and name, signed by R1's key. */
	p->new_with_old = tc_cert("Root", p->k2, p->r1, p->k1, 12,
	    NOW - TC_DAY, na, ca_ext);
	/* OldWithNew: R1's key signed by R2's. */
	p->old_with_new = tc_cert("Root", p->k1, p->r2, p->k2, 13,
	    NOW - TC_DAY, na, ca_ext);
	p->dev = tc_cert("dev", p->kd, p->i1, p->ki1, 20, nb, na, leaf_ext);
	p->ra = tc_cert("RA", p->kd, p->i1, p->ki1, 21, nb, na, leaf_ext);
	p->stranger = tc_cert("Stranger", p->kx, NULL, NULL, 30, nb, na,
	    ca_ext);
	p->bad_link = tc_cert("Root", p->k2, p->stranger, p->kx, 31, nb, na,
	    ca_ext);
}

static void
pki_free(struct pki *p)
{
	EVP_PKEY *k[] = { p->k1, p->k2, p->ki1, p->ki2, p->kd, p->kx };
	X509 *x[] = { p->r1, p->i1, p->r2, p->i2, p->new_with_old,
	    p->old_with_new, p->dev, p->ra, p->i1b, p->stranger, p->bad_link };
	size_t i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++)
		EVP_PKEY_free(k[i]);
	for (i = 0; i < sizeof(x) / sizeof(x[0]); i++)
		X509_free(x[i]);
}

/* A trust store holding the given certificates (not from a file). */
static void
store(struct pkid_agent_trust *t, X509 **xs, int n)
{
	int i;

	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "test");
	t->certs = sk_X509_new_null();
	for (i = 0; i < n; i++) {
		X509_up_ref(xs[i]);
		sk_X509_push(t->certs, xs[i]);
	}
}

static STACK_OF(X509) *
stack(X509 **xs, int n)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	int i;

	for (i = 0; i < n; i++)
		sk_X509_push(sk, xs[i]);	/* borrowed */
	return sk;
}

/* What accept adds from offered (n), the identity holding held (h);
 * signed: a verified GetNextCACert answer. */
static int
accept_s(struct pkid_agent_trust *t, X509 **offered, int n, X509 **held,
    int h, int sig)
{
	STACK_OF(X509) *o = stack(offered, n), *hs = stack(held, h);
	struct pkid_err e;
	int added = -1;

	pkid_err_clear(&e);
	assert_int_equal(pkid_agent_trust_accept(t, o, hs, sig, NOW, &added,
	    &e), PKID_OK);
	sk_X509_free(o);
	sk_X509_free(hs);
	return added;
}

static int
accept_n(struct pkid_agent_trust *t, X509 **offered, int n, X509 **held,
    int h)
{
	return accept_s(t, offered, n, held, h, 0);
}

static void
test_next_issuing_ca(void **state)
{
	struct pkid_agent_trust t;
	struct pki p;

	(void)state;
	pki_make(&p);
	store(&t, &p.r1, 1);
	/* /cacerts with the CA the device already chains to: nothing new;
	 * with the next issuing CA under the same root: that one. */
	X509 *offer1[] = { p.i1, p.r1 };
	assert_int_equal(accept_n(&t, offer1, 2, &p.dev, 1), 0);
	X509 *offer2[] = { p.i1, p.i1b, p.r1, p.ra };
	assert_int_equal(accept_n(&t, offer2, 4, &p.dev, 1), 1);
	assert_int_equal(sk_X509_num(t.certs), 2);
	assert_true(pkid_agent_trust_has(&t, p.i1b));
	/* Offered again: already there. */
	assert_int_equal(accept_n(&t, offer2, 4, &p.dev, 1), 0);
	pkid_agent_trust_free(&t);
	/* The identity's file holds the next CA already (pkictl enroll
	 * writes all of /cacerts): still news for the store. */
	store(&t, &p.r1, 1);
	X509 *held[] = { p.dev, p.i1, p.i1b };
	assert_int_equal(accept_n(&t, offer2, 4, held, 3), 1);
	assert_true(pkid_agent_trust_has(&t, p.i1b));
	pkid_agent_trust_free(&t);
	pki_free(&p);
}

static void
test_new_root_needs_link(void **state)
{
	struct pkid_agent_trust t;
	struct pki p;

	(void)state;
	pki_make(&p);
	store(&t, &p.r1, 1);
	/* A new root alone is never taken on first use... */
	X509 *alone[] = { p.r2, p.i2 };
	assert_int_equal(accept_n(&t, alone, 2, &p.dev, 1), 0);
	/* ...nor with a "link" from a key nobody trusts... */
	X509 *forged[] = { p.r2, p.i2, p.bad_link, p.stranger };
	assert_int_equal(accept_n(&t, forged, 4, &p.dev, 1), 0);
	assert_int_equal(sk_X509_num(t.certs), 1);
	/* ...but with NewWithOld it is, then the CA it issued; the links
	 * themselves are not added. */
	X509 *rollover[] = { p.i2, p.old_with_new, p.new_with_old, p.r2,
	    p.i1, p.r1 };
	assert_int_equal(accept_n(&t, rollover, 6, &p.dev, 1), 2);
	assert_true(pkid_agent_trust_has(&t, p.r2));
	assert_true(pkid_agent_trust_has(&t, p.i2));
	assert_false(pkid_agent_trust_has(&t, p.new_with_old));
	assert_false(pkid_agent_trust_has(&t, p.old_with_new));
	assert_true(pkid_agent_trust_has(&t, p.r1));	/* kept */
	pkid_agent_trust_free(&t);
	pki_free(&p);
}

static void
test_signed_next_ca(void **state)
{
	struct pkid_agent_trust t;
	struct pki p;

	(void)state;
	pki_make(&p);
	store(&t, &p.r1, 1);
	/* GetNextCACert's SignedData, verified against GetCACert: its new
	 * root and the CA under it, without link certificates. */
	X509 *next[] = { p.i2, p.r2 };
	assert_int_equal(accept_s(&t, next, 2, &p.dev, 1, 1), 2);
	assert_true(pkid_agent_trust_has(&t, p.r2));
	assert_true(pkid_agent_trust_has(&t, p.i2));
	pkid_agent_trust_free(&t);
	/* Not a CA, or not yet valid: still not. */
	store(&t, &p.r1, 1);
	X509 *odd[] = { p.ra };
	assert_int_equal(accept_s(&t, odd, 1, NULL, 0, 1), 0);
	pkid_agent_trust_free(&t);
	pki_free(&p);
}

static void
test_refused_kinds(void **state)
{
	struct pkid_agent_trust t;
	struct pki p;
	EVP_PKEY *k = tc_key_ec("P-256");
	X509 *old;

	(void)state;
	pki_make(&p);
	old = tc_cert("Old CA", k, p.r1, p.k1, 40, TC_T2030, NOW - 1,
	    ca_ext);
	store(&t, &p.r1, 1);
	/* Not a CA (the RA), expired: not added even though they chain. */
	X509 *offer[] = { p.ra, old };
	assert_int_equal(accept_n(&t, offer, 2, NULL, 0), 0);
	pkid_agent_trust_free(&t);
	X509_free(old);
	EVP_PKEY_free(k);
	pki_free(&p);
}

static void
test_prune_keeps_what_is_used(void **state)
{
	struct pkid_agent_trust t;
	struct pki p;
	EVP_PKEY *kn = tc_key_ec("P-256");
	X509 *r1_old, *r1_new, *dev_old, *dev_new, *xs[2];
	STACK_OF(X509) *chain = sk_X509_new_null();

	(void)state;
	pki_make(&p);
	/* "Root" expired at NOW - 1; its successor of the same name. */
	r1_old = tc_cert("Root", p.k1, NULL, NULL, 50, TC_T2030, NOW - 1,
	    ca_ext);
	r1_new = tc_cert("Root", kn, NULL, NULL, 51, NOW - TC_DAY,
	    NOW + 900 * TC_DAY, ca_ext);
	dev_old = tc_cert("dev", p.kd, r1_old, p.k1, 52, TC_T2030, NOW - 1,
	    leaf_ext);
	dev_new = tc_cert("dev", p.kd, r1_new, kn, 53, NOW, NOW + 90 * TC_DAY,
	    leaf_ext);
	xs[0] = r1_old;
	xs[1] = r1_new;
	store(&t, xs, 2);
	/* The identity still holds a certificate under the old root. */
	assert_int_equal(pkid_agent_trust_prune(&t, dev_old, chain, NOW), 0);
	assert_int_equal(sk_X509_num(t.certs), 2);
	/* Renewed under the new one: the old root goes. */
	assert_int_equal(pkid_agent_trust_prune(&t, dev_new, chain, NOW), 1);
	assert_int_equal(sk_X509_num(t.certs), 1);
	assert_true(pkid_agent_trust_has(&t, r1_new));
	/* Never the last one. */
	assert_int_equal(pkid_agent_trust_prune(&t, dev_new, chain,
	    NOW + 1000 * TC_DAY), 0);
	pkid_agent_trust_free(&t);
	/* Not expired yet: kept, whatever depends on it. */
	xs[0] = p.r1;
	xs[1] = p.r2;
	store(&t, xs, 2);
	assert_int_equal(pkid_agent_trust_prune(&t, dev_new, chain, NOW), 0);
	pkid_agent_trust_free(&t);
	sk_X509_free(chain);
	X509_free(r1_old);
	X509_free(r1_new);
	X509_free(dev_old);
	X509_free(dev_new);
	EVP_PKEY_free(kn);
	pki_free(&p);
}

static void
write_pem(const char *path, X509 *x)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
}

static void
test_save_file_and_dir(void **state)
{
	struct pkid_agent_trust t;
	struct pkid_err e;
	struct pki p;
	char dir[] = "/tmp/agent_trust_XXXXXX", file[300], sub[300];
	X509 *offer[4];
	struct stat st;

	(void)state;
	pki_make(&p);
	pkid_err_clear(&e);
	assert_non_null(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/trust.pem", dir);
	snprintf(sub, sizeof(sub), "%s/d", dir);
	write_pem(file, p.r1);
	assert_int_equal(mkdir(sub, 0755), 0);
	snprintf(file + strlen(dir), sizeof(file) - strlen(dir), "/d/r1.pem");
	write_pem(file, p.r1);
	snprintf(file, sizeof(file), "%s/d/README", dir);
	assert_int_equal(access(sub, W_OK), 0);
	{
		FILE *f = fopen(file, "w");

		fputs("not a certificate\n", f);
		fclose(f);
	}
	offer[0] = p.r2;
	offer[1] = p.new_with_old;
	offer[2] = p.i2;
	offer[3] = p.r1;
	/* A file: rewritten whole, old anchor first. */
	snprintf(file, sizeof(file), "%s/trust.pem", dir);
	assert_int_equal(pkid_agent_trust_load(&t, file, &e), PKID_OK);
	assert_int_equal(accept_n(&t, offer, 4, &p.dev, 1), 2);
	assert_int_equal(pkid_agent_trust_save(&t, &e), PKID_OK);
	pkid_agent_trust_free(&t);
	assert_int_equal(pkid_agent_trust_load(&t, file, &e), PKID_OK);
	assert_int_equal(sk_X509_num(t.certs), 3);
	assert_int_equal(X509_cmp(sk_X509_value(t.certs, 0), p.r1), 0);
	assert_int_equal(stat(file, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0644);
	pkid_agent_trust_free(&t);
	/* A directory: one new file per certificate, the README left. */
	assert_int_equal(pkid_agent_trust_load(&t, sub, &e), PKID_OK);
	assert_true(t.is_dir);
	assert_int_equal(sk_X509_num(t.certs), 1);
	assert_int_equal(accept_n(&t, offer, 4, &p.dev, 1), 2);
	assert_int_equal(pkid_agent_trust_save(&t, &e), PKID_OK);
	pkid_agent_trust_free(&t);
	assert_int_equal(pkid_agent_trust_load(&t, sub, &e), PKID_OK);
	assert_int_equal(sk_X509_num(t.certs), 3);
	pkid_agent_trust_free(&t);
	/* Nothing to load: an error, not an empty trust. */
	snprintf(file, sizeof(file), "%s/missing.pem", dir);
	pkid_err_clear(&e);
	assert_int_equal(pkid_agent_trust_load(&t, file, &e),
	    PKID_E_IO_OPEN);
	pkid_agent_trust_free(&t);
	snprintf(file, sizeof(file), "rm -rf %s", dir);
	assert_int_equal(system(file), 0);
	pki_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next_issuing_ca),
		cmocka_unit_test(test_new_root_needs_link),
		cmocka_unit_test(test_signed_next_ca),
		cmocka_unit_test(test_refused_kinds),
		cmocka_unit_test(test_prune_keeps_what_is_used),
		cmocka_unit_test(test_save_file_and_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
