/*
 * ra_init.c - the SCEP RA certificate, made at ca init when the CA key is
 * not RSA: SCEP clients encrypt their requests with RSA key transport
 * (RFC 8894 3.1), so an EC CA needs an RSA key beside it that decrypts
 * requests and signs CertRep messages.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509v3.h>

#include "ca/build.h"
#include "ca/ca.h"
#include "ca/ca_int.h"
#include "ca/policy.h"
#include "ca/signer.h"
#include "core/clock.h"
#include "x509/load.h"

/* "<issuer's CN> SCEP RA", other attributes of the issuer kept. */
static enum pkid_code
ra_name(X509 *issuer, X509_NAME **out, struct pkid_err *e)
{
	X509_NAME *n = X509_NAME_dup(X509_get_subject_name(issuer));
	ASN1_STRING *d;
	char cn[64];
	int i;

	*out = NULL;
	if (n == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	if (i >= 0) {
		d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
		/* Keep the CN within ub-common-name (64). */
		snprintf(cn, sizeof(cn), "%.*s SCEP RA",
		    ASN1_STRING_length(d) > 55 ? 55 : ASN1_STRING_length(d),
		    ASN1_STRING_get0_data(d));
		X509_NAME_ENTRY_free(X509_NAME_delete_entry(n, i));
	} else {
		snprintf(cn, sizeof(cn), "pkid SCEP RA");
		i = -1;
	}
	if (!X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8,
	    (unsigned char *)cn, -1, i, 0)) {
		X509_NAME_free(n);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	*out = n;
	return PKID_OK;
}

enum pkid_code
pkid_ca_ra_write(const char *dir, const char *file, X509 *x, EVP_PKEY *k,
    struct pkid_err *e)
{
	struct pkid_buf b;
	char p[1200];
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&b, 1 << 16);
	if (x != NULL)
		PKID_TRY(pkid_x509_cert_pem(x, &b, e));
	else
		PKID_TRY(pkid_x509_key_pem(k, &b, e));
	snprintf(p, sizeof(p), "%s/scep/%s", dir, file);
	rc = pkid_file_write(p, b.p, b.len, k != NULL ? 0600 : 0644, e);
out:
	pkid_buf_free(&b);
	return rc;
}

enum pkid_code
pkid_ca_init_ra(const char *dir, const struct pkid_config *cfg,
    struct pkid_store *st, X509 *issuer, EVP_PKEY *issuer_key,
    struct pkid_err *e)
{
	return pkid_ca_issue_ra(dir, cfg, st, issuer, issuer_key, NULL, 1, e);
}

enum pkid_code
pkid_ca_issue_ra(const char *dir, const struct pkid_config *cfg,
    struct pkid_store *st, X509 *issuer, EVP_PKEY *issuer_key,
    EVP_PKEY *reuse, int generation, struct pkid_err *e)
{
	struct pkid_certspec s;
	struct pkid_signer *sg = NULL;
	EVP_PKEY *key = NULL;
	X509_NAME *subj = NULL;
	X509 *x = NULL;
	char serial[48], p[1200];
	int64_t now = (int64_t)pkid_now();
	struct tm tm;
	enum pkid_code rc = PKID_E_INTERNAL;

	snprintf(p, sizeof(p), "%s/scep", dir);
	PKID_CHECK(mkdir(p, 0700) == 0 || errno == EEXIST, PKID_E_IO_WRITE,
	    "mkdir %s: %s", p, strerror(errno));
	if (reuse != NULL) {
		PKID_OSSL(EVP_PKEY_up_ref(reuse), PKID_E_INTERNAL, "ref");
		key = reuse;
	} else {
		PKID_TRY(pkid_key_generate("rsa-2048", &key, e));
	}
	PKID_TRY(ra_name(issuer, &subj, e));
	memset(&s, 0, sizeof(s));
	s.subject = subj;
	s.pubkey = key;
	s.issuer = issuer;
	s.not_before = now - 300;
	/* The RA lives as long as its issuer: it is renewed with it. */
	s.not_after = now + 3650LL * 86400;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(issuer), &tm) == 1 &&
	    (int64_t)timegm(&tm) < s.not_after)
		s.not_after = (int64_t)timegm(&tm);
	s.pathlen = -1;
	/* RFC 8894 2.2: the RA decrypts (keyEncipherment) and signs. */
	s.key_usage = KU_DIGITAL_SIGNATURE | KU_KEY_ENCIPHERMENT;
	PKID_TRY(pkid_cert_build(&s, &x, serial, e));
	PKID_TRY(pkid_lint_tbs(x, e));
	PKID_OSSL_PTR(sg = pkid_signer_from_key(issuer_key, issuer,
	    cfg->digest, e), e->code, "signer");
	PKID_TRY(pkid_signer_sign_cert(sg, x, e));
	if (reuse == NULL)
		PKID_TRY(pkid_ca_ra_write(dir, "ra.key", NULL, key, e));
	PKID_TRY(pkid_ca_ra_write(dir, "ra.pem", x, NULL, e));
	PKID_TRY(pkid_ca_record_gen_n(st, cfg->ca_name, "ra", generation, x,
	    "scep/ra.key", NULL, e));
	rc = PKID_OK;
out:
	pkid_signer_free(sg);
	EVP_PKEY_free(key);
	X509_NAME_free(subj);
	X509_free(x);
	return rc;
}
