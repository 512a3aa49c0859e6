/*
 * ra_crl_fuzz.c - libFuzzer target: any bytes as the body an RA fetched
 * for a device certificate's CRL (est/ra_crl.c): parse, issuer and
 * signature checks, times, the lookup, through a fresh cache each time.
 * Deterministic: pkid's clock is fixed; the CA and the device's
 * certificate are made once.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "core/clock.h"
#include "core/log.h"
#include "est/ra_crl.h"

/* 2030-01-01T00:00:00Z */
#define FUZZ_NOW ((time_t)1893456000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The body every fetch returns: the fuzzer's input. */
struct body {
	const uint8_t *p;	/* borrowed */
	size_t len;		/* its length */
};

static X509 *ca, *leaf;

/* The cache logs each fetch; the fuzzer does not want the lines. */
static void
quiet(enum pkid_log_level lvl, const char *line, void *arg)
{
	(void)lvl;
	(void)line;
	(void)arg;
}

static enum pkid_code
serve(void *arg, const char *url, size_t max, struct pkid_buf *out,
    struct pkid_err *e)
{
	const struct body *b = arg;

	(void)url;
	pkid_buf_init(out, max);
	return pkid_buf_append(out, b->p, b->len, e);
}

/* A certificate for cn, signed by ikey (self-signed when iss is NULL). */
static X509 *
make(const char *cn, EVP_PKEY *key, X509 *iss, EVP_PKEY *ikey, int is_ca)
{
	X509 *x = X509_new();
	X509V3_CTX ctx;
	X509_EXTENSION *ex;

	if (x == NULL)
		abort();
	X509_set_version(x, X509_VERSION_3);
	ASN1_INTEGER_set(X509_get_serialNumber(x), is_ca ? 1 : 12);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN",
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(iss != NULL ? iss : x));
	ASN1_TIME_set(X509_getm_notBefore(x), FUZZ_NOW - 86400);
	ASN1_TIME_set(X509_getm_notAfter(x), FUZZ_NOW + 86400);
	X509_set_pubkey(x, key);
	X509V3_set_ctx(&ctx, iss != NULL ? iss : x, x, NULL, NULL, 0);
	ex = X509V3_EXT_conf_nid(NULL, &ctx, is_ca ? NID_key_usage :
	    NID_crl_distribution_points, is_ca ? "critical,keyCertSign,cRLSign"
	    : "URI:http://crl.example/ca.crl");
	if (ex == NULL || !X509_add_ext(x, ex, -1) ||
	    X509_sign(x, ikey, EVP_sha256()) <= 0)
		abort();
	X509_EXTENSION_free(ex);
	return x;
}

static void
setup(void)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");

	if (k == NULL)
		abort();
	ca = make("Fuzz CA", k, NULL, k, 1);
	leaf = make("dev", k, ca, k, 0);
	EVP_PKEY_free(k);
	pkid_clock_set(FUZZ_NOW);
	pkid_log_set_sink(quiet, NULL);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct body b = { data, size };
	struct pkid_ra_crl *c;
	struct pkid_err e;
	X509_CRL *crl = NULL;

	if (ca == NULL)
		setup();
	pkid_err_clear(&e);
	if (pkid_ra_crl_parse(data, size, ca, &crl, &e) == PKID_OK) {
		pkid_err_clear(&e);
		(void)pkid_ra_crl_current(crl, FUZZ_NOW, &e);
		X509_CRL_free(crl);
	}
	pkid_err_clear(&e);
	c = pkid_ra_crl_new("fuzz", "", serve, &b, 1, &e);
	if (c == NULL)
		return 0;
	pkid_err_clear(&e);
	(void)pkid_ra_crl_check(c, leaf, ca, NULL, 0, &e);
	pkid_ra_crl_free(c);
	ERR_clear_error();
	return 0;
}
