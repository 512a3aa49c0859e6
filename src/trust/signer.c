/*
 * signer.c - pkid's bundle-signing certificate (publish.h): a key of its
 * own and a certificate from the current root with the bundle-signing
 * extended key usage, made at ca init or at first need, issued again
 * after a root rollover or near its end.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "ca/build.h"
#include "ca/ca_int.h"
#include "ca/policy.h"
#include "ca/signer.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "trust/bundle.h"
#include "trust/publish.h"
#include "x509/load.h"

#define F_KEY "keys/bundle.key"
#define F_CERT "trust/bundle-signer.pem"

/* id-pkid-kp-trustBundleSigning as the certificate's EKU. */
static enum pkid_code
add_eku(X509 *x, struct pkid_err *e)
{
	EXTENDED_KEY_USAGE *eku = sk_ASN1_OBJECT_new_null();
	ASN1_OBJECT *o = pkid_trust_oid(PKID_TRUST_OID_EKU);
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(eku != NULL && o != NULL ? eku : NULL, PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL(sk_ASN1_OBJECT_push(eku, o), PKID_E_NOMEM, "no memory");
	o = NULL;
	PKID_OSSL(X509_add1_ext_i2d(x, NID_ext_key_usage, eku, 0,
	    X509V3_ADD_DEFAULT), PKID_E_CRYPTO, "adding the EKU");
	rc = PKID_OK;
out:
	ASN1_OBJECT_free(o);
	sk_ASN1_OBJECT_pop_free(eku, ASN1_OBJECT_free);
	return rc;
}

/* "<root's CN> Bundle Signer" (64 characters at most), else the CA's
 * name. */
static void
signer_cn(const char *ca_name, X509 *root, char *cn, size_t n)
{
	X509_NAME *rn = X509_get_subject_name(root);
	int i = X509_NAME_get_index_by_NID(rn, NID_commonName, -1);
	ASN1_STRING *d;

	if (i < 0) {
		snprintf(cn, n, "%.40s trust bundle signer", ca_name);
		return;
	}
	d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(rn, i));
	snprintf(cn, n, "%.*s Bundle Signer", ASN1_STRING_length(d) > 50 ?
	    50 : ASN1_STRING_length(d), ASN1_STRING_get0_data(d));
}

/* The signer certificate for key, issued by root/root_key. */
static enum pkid_code
issue(const char *ca_name, const char *digest, X509 *root,
    EVP_PKEY *root_key, EVP_PKEY *key, X509 **out, struct pkid_err *e)
{
	struct pkid_certspec s;
	struct pkid_signer *sg = NULL;
	X509_NAME *name = NULL;
	char cn[65], serial[48], when[32];
	int64_t now = (int64_t)pkid_now(), na = now +
	    PKID_TRUST_SIGNER_LIFETIME_S, rna = pkid_ca_cert_na(root);
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	if (rna < na)
		na = rna;
	PKID_CHECK(na > now + 3600, PKID_E_EXPIRED, "the root ends %s: too "
	    "soon to issue a bundle signer under it",
	    pkid_time_fmt((time_t)rna, when, sizeof(when)));
	signer_cn(ca_name, root, cn, sizeof(cn));
	PKID_OSSL_PTR(name = X509_NAME_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_NAME_add_entry_by_NID(name, NID_commonName,
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0),
	    PKID_E_CRYPTO, "subject");
	memset(&s, 0, sizeof(s));
	s.subject = name;
	s.pubkey = key;
	s.issuer = root;
	s.not_before = now - 300;
	s.not_after = na;
	s.pathlen = -1;
	s.key_usage = KU_DIGITAL_SIGNATURE;
	PKID_TRY(pkid_cert_build(&s, out, serial, e));
	PKID_TRY(add_eku(*out, e));
	PKID_TRY(pkid_lint_tbs(*out, e));
	PKID_OSSL_PTR(sg = pkid_signer_from_key(root_key, root, digest, e),
	    e->code, "signer");
	PKID_TRY(pkid_signer_sign_cert(sg, *out, e));
	rc = PKID_OK;
out:
	pkid_signer_free(sg);
	X509_NAME_free(name);
	if (rc != PKID_OK) {
		X509_free(*out);
		*out = NULL;
	}
	return rc;
}

static enum pkid_code
trust_dir(const char *dir, struct pkid_err *e)
{
	char p[1200];

	snprintf(p, sizeof(p), "%s/trust", dir);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		return PKID_ERR(e, PKID_E_IO_WRITE, "mkdir %s: %s", p,
		    strerror(errno));
	return PKID_OK;
}

enum pkid_code
pkid_trust_signer_init(const char *dir, const char *ca_name,
    const char *digest, X509 *root, EVP_PKEY *root_key, struct pkid_err *e)
{
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(trust_dir(dir, e));
	PKID_TRY(pkid_key_generate("ec-p256", &key, e));
	PKID_TRY(issue(ca_name, digest, root, root_key, key, &x, e));
	PKID_TRY(pkid_ca_write_pem(dir, F_KEY, NULL, key, NULL, e));
	PKID_TRY(pkid_ca_write_pem(dir, F_CERT, x, NULL, NULL, e));
	rc = PKID_OK;
out:
	X509_free(x);
	EVP_PKEY_free(key);
	return rc;
}

/* DIR/keys/bundle.key, made when missing. */
static enum pkid_code
signer_key(struct pkid_ca *ca, EVP_PKEY **key, struct pkid_err *e)
{
	char p[1200];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", ca->dir, F_KEY);
	if (stat(p, &st) == 0)
		return pkid_x509_load_key_file(p, key, e);
	if (pkid_key_generate("ec-p256", key, e) != PKID_OK ||
	    pkid_ca_write_pem(ca->dir, F_KEY, NULL, *key, NULL, e) != PKID_OK)
		return e->code;
	pkid_log(PKID_LOG_INFO, "trust: made the bundle-signing key %s", p);
	return PKID_OK;
}

/* 1 when cert can go on signing for key under the current root. */
static int
signer_current(struct pkid_ca *ca, X509 *cert, EVP_PKEY *key)
{
	EVP_PKEY *rk = X509_get0_pubkey(ca->root);
	int64_t now = (int64_t)pkid_now();
	int ok;

	ok = X509_check_private_key(cert, key) == 1 && rk != NULL &&
	    X509_check_issued(ca->root, cert) == X509_V_OK &&
	    X509_verify(cert, rk) == 1 &&
	    pkid_ca_cert_na(cert) - now > PKID_TRUST_SIGNER_RENEW_S;
	ERR_clear_error();
	return ok;
}

enum pkid_code
pkid_trust_signer_ensure(struct pkid_ca *ca, X509 **cert, EVP_PKEY **key,
    struct pkid_err *e)
{
	EVP_PKEY *rk = NULL;
	struct pkid_err ignore;
	char p[1200];
	enum pkid_code rc = PKID_E_INTERNAL;

	*cert = NULL;
	*key = NULL;
	PKID_TRY(trust_dir(ca->dir, e));
	PKID_TRY(signer_key(ca, key, e));
	snprintf(p, sizeof(p), "%s/%s", ca->dir, F_CERT);
	pkid_err_clear(&ignore);
	if (pkid_x509_load_cert_file(p, cert, &ignore) == PKID_OK &&
	    signer_current(ca, *cert, *key)) {
		rc = PKID_OK;
		goto out;
	}
	X509_free(*cert);
	*cert = NULL;
	PKID_TRY(pkid_ca_root_key(ca, &rk, e));
	PKID_TRY(issue(ca->cfg.ca_name, ca->cfg.digest, ca->root, rk, *key,
	    cert, e));
	PKID_TRY(pkid_ca_write_pem(ca->dir, F_CERT, *cert, NULL, NULL, e));
	/* Used as if read from the file (CMS takes its names' encodings,
	 * which a certificate built in memory does not have cached). */
	PKID_TRY(pkid_x509_redecode(cert, e));
	PKID_TRY(pkid_store_audit(ca->store, "pkid", "bundle-signer",
	    ca->cfg.ca_name, "ok", p, e));
	pkid_log(PKID_LOG_INFO, "trust: issued the bundle signer %s", p);
	rc = PKID_OK;
out:
	EVP_PKEY_free(rk);
	if (rc != PKID_OK) {
		X509_free(*cert);
		EVP_PKEY_free(*key);
		*cert = NULL;
		*key = NULL;
	}
	return rc;
}
