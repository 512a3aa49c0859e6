/*
 * verify_bench.c - validations per second of a 3-certificate chain (root,
 * intermediate, leaf; EC P-256 or RSA-2048, made in-process) by pkid's
 * verifier and by OpenSSL's X509_verify_cert, in the same process.
 *
 *   cold:  every chain is new: leaf and intermediate decoded from DER on
 *          every iteration, no cache, each leaf seen once.
 *   warm:  a server's view: the same intermediate on every handshake and
 *          returning clients (a pool of WARM_CLIENTS leaves), chains
 *          arriving as DER; pkid uses its shared cache (vcache.h), OpenSSL
 *          is given the intermediate already parsed.
 *   warm-new-leaf: as warm, but every leaf is seen once (only the
 *          intermediate's signature and parse can be reused).
 *
 * Both sides check the same things that matter here: path to the root,
 * signatures, validity, server purpose, host name in the SAN.
 *
 * usage: verify_bench [--key ec-p256|rsa-2048] [--count N]
 *                     [--case cold|warm|warm-new-leaf]
 * Prints one line of JSON per case with rates and the pkid/OpenSSL ratio.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/clock.h"
#include "core/err.h"
#include "verify/vcache.h"
#include "verify/verify.h"

/* Returning clients in the warm case. */
#define WARM_CLIENTS 64
/* Timed rounds per measurement; the best is kept (shared machines). */
#define ROUNDS 5

/* The chains under test, as DER, and the parsed root. */
struct chains {
	X509 *root;		/* the trust anchor */
	unsigned char *ica;	/* intermediate DER */
	int ica_len;		/* its length */
	unsigned char **leaf;	/* count leaves' DER */
	int *leaf_len;		/* their lengths */
	int count;		/* leaves */
};

static void
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v;
	X509_EXTENSION *ext;

	X509V3_set_ctx(&v, issuer, x, NULL, NULL, 0);
	ext = X509V3_EXT_conf_nid(NULL, &v, nid, value);
	if (ext == NULL || X509_add_ext(x, ext, -1) != 1) {
		fprintf(stderr, "verify_bench: extension %d\n", nid);
		exit(1);
	}
	X509_EXTENSION_free(ext);
}

static X509 *
make_cert(const char *cn, X509 *issuer, EVP_PKEY *ikey, EVP_PKEY *key,
    long serial, const char *san)
{
	X509 *x = X509_new();
	X509_NAME *n = X509_NAME_new();

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 30L * 86400);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
	    (const unsigned char *)cn, -1, -1, 0);
	X509_set_subject_name(x, n);
	X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : n);
	X509_set_pubkey(x, key);
	add_ext(x, issuer != NULL ? issuer : x, NID_subject_key_identifier,
	    "hash");
	if (issuer != NULL)
		add_ext(x, issuer, NID_authority_key_identifier, "keyid");
	if (san == NULL) {
		add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE");
		add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign");
	} else {
		add_ext(x, x, NID_basic_constraints, "critical,CA:FALSE");
		add_ext(x, x, NID_key_usage, "critical,digitalSignature");
		add_ext(x, x, NID_ext_key_usage, "serverAuth");
		add_ext(x, x, NID_subject_alt_name, san);
	}
	X509_sign(x, ikey, EVP_sha256());
	X509_NAME_free(n);
	return x;
}

static EVP_PKEY *
make_key(int rsa)
{
	return rsa ? EVP_RSA_gen(2048) : EVP_EC_gen("P-256");
}

static void
make_chains(struct chains *c, int rsa, int count)
{
	EVP_PKEY *rk = make_key(rsa), *ik = make_key(rsa), *lk;
	X509 *ica, *leaf;
	char san[64], cn[32];
	int i;

	c->root = make_cert("Bench Root", NULL, rk, rk, 1, NULL);
	ica = make_cert("Bench ICA", c->root, rk, ik, 2, NULL);
	c->ica_len = i2d_X509(ica, &c->ica);
	c->count = count;
	c->leaf = calloc((size_t)count, sizeof(*c->leaf));
	c->leaf_len = calloc((size_t)count, sizeof(*c->leaf_len));
	/* Leaves share one key: the key does not change the work. */
	lk = make_key(rsa);
	for (i = 0; i < count; i++) {
		snprintf(cn, sizeof(cn), "leaf%d", i);
		snprintf(san, sizeof(san), "DNS:leaf%d.example.test", i);
		leaf = make_cert(cn, ica, ik, lk, 100 + i, san);
		c->leaf_len[i] = i2d_X509(leaf, &c->leaf[i]);
		X509_free(leaf);
	}
	X509_free(ica);
	EVP_PKEY_free(rk);
	EVP_PKEY_free(ik);
	EVP_PKEY_free(lk);
}

static X509 *
d2i(const unsigned char *p, int len)
{
	X509 *x = d2i_X509(NULL, &p, len);

	if (x == NULL) {
		fprintf(stderr, "verify_bench: d2i failed\n");
		exit(1);
	}
	return x;
}

/* One OpenSSL validation; ica NULL means decode it from DER. */
static int
ossl_one(X509_STORE *store, const struct chains *c, int i, X509 *ica)
{
	STACK_OF(X509) *untrusted = sk_X509_new_null();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	X509 *leaf = d2i(c->leaf[i], c->leaf_len[i]);
	X509 *im = ica != NULL ? ica : d2i(c->ica, c->ica_len);
	char host[32];
	int ok;

	snprintf(host, sizeof(host), "leaf%d.example.test", i);
	sk_X509_push(untrusted, im);
	X509_STORE_CTX_init(ctx, store, leaf, untrusted);
	X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
	X509_VERIFY_PARAM_set1_host(X509_STORE_CTX_get0_param(ctx), host, 0);
	ok = X509_verify_cert(ctx) == 1;
	X509_STORE_CTX_free(ctx);
	sk_X509_free(untrusted);
	if (ica == NULL)
		X509_free(im);
	X509_free(leaf);
	return ok;
}

/* One pkid validation; vc NULL means no cache (plain d2i). */
static int
pkid_one(const struct chains *c, int i, struct pkid_vcache *vc)
{
	struct pkid_verify_ctx *ctx;
	struct pkid_verify_result res;
	struct pkid_verify_opts o;
	struct pkid_err e;
	X509 *leaf = NULL, *ica = NULL;
	char host[32];
	int ok = 0;

	pkid_err_clear(&e);
	if ((ctx = pkid_verify_ctx_new(&e)) == NULL)
		return 0;
	pkid_verify_set_cache(ctx, vc);
	if (pkid_vcache_d2i(vc, c->leaf[i], (size_t)c->leaf_len[i], &leaf,
	    &e) != PKID_OK || pkid_vcache_d2i(vc, c->ica,
	    (size_t)c->ica_len, &ica, &e) != PKID_OK ||
	    pkid_verify_add_trusted(ctx, c->root, &e) != PKID_OK ||
	    pkid_verify_add_untrusted(ctx, ica, &e) != PKID_OK)
		goto out;
	snprintf(host, sizeof(host), "leaf%d.example.test", i);
	pkid_verify_opts_init(&o);
	o.host = host;
	ok = pkid_verify_run(ctx, &o, leaf, &res, &e) == PKID_OK;
	pkid_verify_result_clear(&res);
out:
	pkid_verify_ctx_free(ctx);
	X509_free(leaf);
	X509_free(ica);
	return ok;
}

enum bcase { COLD, WARM, WARM_NEW_LEAF };

/* Validations per second of one side in one case, one round. */
static double
measure(const struct chains *c, enum bcase bc, int use_pkid, int n,
    X509_STORE *store, struct pkid_vcache_stats *st)
{
	struct pkid_vcache *vc = NULL;
	struct pkid_err e;
	X509 *ica = NULL;
	double rate;
	uint64_t t0;
	int i, leaf, ok;

	pkid_err_clear(&e);
	if (use_pkid && bc != COLD && (vc = pkid_vcache_new(0, 0, &e)) ==
	    NULL)
		exit(1);
	if (!use_pkid && bc != COLD)
		ica = d2i(c->ica, c->ica_len);
	t0 = pkid_mono_ms();
	for (i = 0; i < n; i++) {
		leaf = bc == WARM ? i % WARM_CLIENTS : i % c->count;
		ok = use_pkid ? pkid_one(c, leaf, vc) : ossl_one(store, c,
		    leaf, ica);
		if (!ok) {
			fprintf(stderr, "verify_bench: %s rejected chain %d\n",
			    use_pkid ? "pkid" : "OpenSSL", leaf);
			exit(1);
		}
	}
	rate = n * 1000.0 / (double)(pkid_mono_ms() - t0 + 1);
	if (vc != NULL)
		pkid_vcache_stats(vc, st);
	pkid_vcache_free(vc);
	X509_free(ica);
	return rate;
}

/*
 * Rounds alternate between the two sides so that load from elsewhere on
 * the machine hits both alike; the best round of each side is kept.
 */
static void
compare(const struct chains *c, enum bcase bc, int n, X509_STORE *store,
    double *p, double *o, struct pkid_vcache_stats *st)
{
	double x;
	int r;

	*p = *o = 0;
	for (r = 0; r < ROUNDS; r++) {
		if ((x = measure(c, bc, 1, n, store, st)) > *p)
			*p = x;
		if ((x = measure(c, bc, 0, n, store, st)) > *o)
			*o = x;
	}
}

int
main(int argc, char **argv)
{
	static const char *names[] = { "cold", "warm", "warm-new-leaf" };
	struct pkid_vcache_stats st;
	struct chains c;
	X509_STORE *store = X509_STORE_new();
	const char *key = "ec-p256", *only = NULL;
	struct pkid_err e;
	int64_t v;
	double p, o;
	int i, n = 4000, rsa;

	pkid_err_clear(&e);
	for (i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--key") == 0)
			key = argv[i + 1];
		else if (strcmp(argv[i], "--case") == 0)
			only = argv[i + 1];
		else if (strcmp(argv[i], "--count") == 0 &&
		    pkid_parse_int(argv[i + 1], 1, 1000000, &v, &e) == PKID_OK)
			n = (int)v;
	}
	rsa = strcmp(key, "rsa-2048") == 0;
	memset(&c, 0, sizeof(c));
	/* Enough leaves that cold and warm-new-leaf never repeat one. */
	make_chains(&c, rsa, n);
	X509_STORE_add_cert(store, c.root);
	for (i = COLD; i <= WARM_NEW_LEAF; i++) {
		if (only != NULL && strcmp(only, names[i]) != 0)
			continue;
		memset(&st, 0, sizeof(st));
		compare(&c, (enum bcase)i, n, store, &p, &o, &st);
		printf("{\"case\":\"%s\",\"key\":\"%s\",\"count\":%d,"
		    "\"pkid_per_s\":%.0f,\"openssl_per_s\":%.0f,"
		    "\"ratio\":%.2f,\"sig_hits\":%llu,\"sig_misses\":%llu,"
		    "\"parse_hits\":%llu,\"parse_misses\":%llu}\n", names[i],
		    key, n, p, o, p / o, (unsigned long long)st.sig_hits,
		    (unsigned long long)st.sig_misses,
		    (unsigned long long)st.cert_hits,
		    (unsigned long long)st.cert_misses);
		fflush(stdout);
	}
	for (i = 0; i < c.count; i++)
		OPENSSL_free(c.leaf[i]);
	free(c.leaf);
	free(c.leaf_len);
	OPENSSL_free(c.ica);
	X509_free(c.root);
	X509_STORE_free(store);
	return 0;
}
