/*
 * client_trust.c - what the SCEP client trusts. SCEP runs over plain
 * HTTP and GetCACert is unsigned (RFC 8894 4.2), so the CA and RA
 * certificates it returns are only as good as the pin they are checked
 * against: anchors given by the user (--cacert), one certificate of the
 * answer named by its SHA-256 (--ca-fingerprint, RFC 8894 2.2 says the
 * client verifies the CA certificate out of band, e.g. by fingerprint),
 * or, for a renewal, the CA that issued the certificate being renewed.
 * Every certificate the client then relies on (the RA it encrypts to,
 * the CA, the certificate it gets) must chain to that pin.
 */
#include <string.h>

#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "core/clock.h"
#include "core/limits.h"
#include "scep/client.h"
#include "verify/verify.h"
#include "x509/load.h"

/* An empty store that accepts an intermediate as anchor. */
static X509_STORE *
store_new(void)
{
	X509_STORE *st = X509_STORE_new();

	if (st != NULL)
		X509_STORE_set_flags(st, X509_V_FLAG_PARTIAL_CHAIN);
	return st;
}

static enum pkid_code
store_add(X509_STORE *st, X509 *x, struct pkid_err *e)
{
	if (X509_STORE_add_cert(st, x) != 1)
		return PKID_ERR(e, PKID_E_CRYPTO, "adding an anchor");
	return PKID_OK;
}

/* The certificate of cas with SHA-256 want (hex; ':' and case ignored). */
static X509 *
find_fp(const struct pkid_scep_cas *cas, const char *want)
{
	char fp[65], norm[65];
	size_t i, n = 0;
	int j;

	for (i = 0; want[i] != '\0' && n < sizeof(norm) - 1; i++)
		if (want[i] != ':' && want[i] != ' ')
			norm[n++] = (char)(want[i] | 0x20);
	norm[n] = '\0';
	for (j = 0; j < sk_X509_num(cas->certs); j++) {
		pkid_x509_fingerprint(sk_X509_value(cas->certs, j), fp);
		if (strcmp(fp, norm) == 0)
			return sk_X509_value(cas->certs, j);
	}
	return NULL;
}

/* The certificate of cas whose key signed x. */
static X509 *
find_signer(const struct pkid_scep_cas *cas, X509 *x)
{
	X509 *ca;
	int j;

	for (j = 0; j < sk_X509_num(cas->certs); j++) {
		ca = sk_X509_value(cas->certs, j);
		if (X509_check_issued(ca, x) == X509_V_OK &&
		    X509_verify(x, X509_get0_pubkey(ca)) == 1)
			return ca;
	}
	return NULL;
}

/* The anchors of the configured pin, into *out (NULL with tofu). */
static enum pkid_code
anchors(const struct pkid_scep_client *c, X509_STORE **out,
    struct pkid_err *e)
{
	const struct pkid_scep_client_cfg *cfg = &c->cfg;
	X509_STORE *st = NULL;
	X509 *x = NULL;
	char fp[65];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	if (cfg->trust == NULL && cfg->fingerprint == NULL &&
	    cfg->issued_by == NULL) {
		PKID_CHECK(cfg->tofu, PKID_E_TRUST_NOT_PINNED, "nothing pins "
		    "the CA of %s: GetCACert comes over plain HTTP, unsigned "
		    "(RFC 8894 4.2)", cfg->url);
		return PKID_OK;
	}
	PKID_OSSL_PTR(st = store_new(), PKID_E_NOMEM, "no memory");
	if (cfg->trust != NULL) {
		for (i = 0; i < sk_X509_num(cfg->trust); i++)
			PKID_TRY(store_add(st, sk_X509_value(cfg->trust, i),
			    e));
	} else if (cfg->fingerprint != NULL) {
		pkid_x509_fingerprint(c->cas.ca, fp);
		PKID_CHECK((x = find_fp(&c->cas, cfg->fingerprint)) != NULL,
		    PKID_E_FINGERPRINT_MISMATCH, "no certificate from "
		    "GetCACert %s has SHA-256 fingerprint %s; the CA's is %s",
		    cfg->url, cfg->fingerprint, fp);
		PKID_TRY(store_add(st, x, e));
	} else {
		pkid_x509_fingerprint(c->cas.ca, fp);
		PKID_CHECK((x = find_signer(&c->cas, cfg->issued_by)) !=
		    NULL, PKID_E_TRUST_NOT_PINNED, "no certificate from "
		    "GetCACert %s (CA SHA-256 %s) issued the certificate "
		    "being renewed, so nothing pins it", cfg->url, fp);
		PKID_TRY(store_add(st, x, e));
	}
	*out = st;
	st = NULL;
	rc = PKID_OK;
out:
	X509_STORE_free(st);
	return rc;
}

/* X509_verify_cert of x to st, cas' certificates as intermediates. */
static enum pkid_code
chain_to(X509_STORE *st, const struct pkid_scep_cas *cas, X509 *x,
    const char *what, struct pkid_err *e)
{
	X509_STORE_CTX *ctx = NULL;
	char subj[256];
	int err;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(ctx = X509_STORE_CTX_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_STORE_CTX_init(ctx, st, x, cas->certs), PKID_E_CRYPTO,
	    "starting a chain check");
	X509_STORE_CTX_set_time(ctx, 0, pkid_now());
	X509_VERIFY_PARAM_set_depth(X509_STORE_CTX_get0_param(ctx),
	    PKID_MAX_CHAIN_DEPTH);
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		rc = PKID_ERR(e, pkid_verify_map_x509_err(err), "%s %s does "
		    "not chain to the pinned CA: %s (depth %d)", what,
		    pkid_x509_name_text(X509_get_subject_name(x), subj,
		    sizeof(subj)), X509_verify_cert_error_string(err),
		    X509_STORE_CTX_get_error_depth(ctx));
		e->depth = X509_STORE_CTX_get_error_depth(ctx);
		goto out;
	}
	rc = PKID_OK;
out:
	X509_STORE_CTX_free(ctx);
	return rc;
}

enum pkid_code
pkid_scep_client_trust(struct pkid_scep_client *c, struct pkid_err *e)
{
	X509_STORE *st = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (c->cas.certs == NULL)
		PKID_TRY(pkid_scep_client_cacert(c, 0, NULL, e));
	PKID_TRY(anchors(c, &st, e));
	if (st != NULL) {
		PKID_TRY(chain_to(st, &c->cas, c->cas.ca, "GetCACert's CA "
		    "certificate", e));
		if (c->cas.ra != c->cas.ca)
			PKID_TRY(chain_to(st, &c->cas, c->cas.ra, "GetCACert's "
			    "RA certificate", e));
	}
	X509_STORE_free(c->anchors);
	c->anchors = st;
	st = NULL;
	c->trusted = 1;
	rc = PKID_OK;
out:
	X509_STORE_free(st);
	return rc;
}

enum pkid_code
pkid_scep_client_verify_issued(const struct pkid_scep_client *c, X509 *x,
    struct pkid_err *e)
{
	if (c->anchors == NULL)
		return PKID_OK;
	return chain_to(c->anchors, &c->cas, x, "the issued certificate", e);
}
