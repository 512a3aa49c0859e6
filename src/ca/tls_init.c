/*
 * tls_init.c - pkid's own TLS server certificate, made at ca init.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "ca/build.h"
#include "ca/ca.h"
#include "ca/ca_int.h"
#include "ca/policy.h"
#include "ca/signer.h"
#include "core/clock.h"
#include "x509/load.h"

/* Append "localhost", "127.0.0.1" or "fd00::1" as DNS or IP name. */
static enum pkid_code
push_name(GENERAL_NAMES *g, const char *name, struct pkid_err *e)
{
	unsigned char ip[16];
	GENERAL_NAME *gn = GENERAL_NAME_new();
	ASN1_OCTET_STRING *os = NULL;
	int len = 0;

	if (gn == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	if (inet_pton(AF_INET, name, ip) == 1)
		len = 4;
	else if (inet_pton(AF_INET6, name, ip) == 1)
		len = 16;
	os = len > 0 ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
	if (os == NULL || !ASN1_STRING_set(os, len > 0 ? (void *)ip :
	    (void *)name, len > 0 ? len : (int)strlen(name))) {
		ASN1_STRING_free(os);
		GENERAL_NAME_free(gn);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	GENERAL_NAME_set0_value(gn, len > 0 ? GEN_IPADD : GEN_DNS, os);
	if (!sk_GENERAL_NAME_push(g, gn)) {
		GENERAL_NAME_free(gn);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	return PKID_OK;
}

static enum pkid_code
tls_names(const struct pkid_config *cfg, GENERAL_NAMES **out,
    struct pkid_err *e)
{
	GENERAL_NAMES *g = GENERAL_NAMES_new();
	char tmp[sizeof(cfg->tls_names)], *tok, *save = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(g, PKID_E_NOMEM, "no memory");
	PKID_TRY(push_name(g, "localhost", e));
	PKID_TRY(push_name(g, "127.0.0.1", e));
	PKID_TRY(push_name(g, "::1", e));
	snprintf(tmp, sizeof(tmp), "%s", cfg->tls_names);
	for (tok = strtok_r(tmp, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save))
		PKID_TRY(push_name(g, tok, e));
	*out = g;
	g = NULL;
	rc = PKID_OK;
out:
	GENERAL_NAMES_free(g);
	return rc;
}

static enum pkid_code
record(struct pkid_store *st, int64_t gen, X509 *x, const char *serial,
    const GENERAL_NAMES *g, int64_t now, struct pkid_err *e)
{
	struct pkid_cert_rec r;
	unsigned char *der = NULL;
	char subj[256], sans[1024], fp[65];
	int len = i2d_X509(x, &der);
	enum pkid_code rc;

	if (len <= 0)
		return PKID_ERR(e, PKID_E_CRYPTO, "encoding");
	memset(&r, 0, sizeof(r));
	r.serial = serial;
	r.ca_gen = gen;
	r.subject = pkid_x509_name_text(X509_get_subject_name(x), subj,
	    sizeof(subj));
	r.sans = pkid_sans_text(g, sans, sizeof(sans));
	r.profile = "pkid-tls";
	r.requester = "init";
	r.not_before = now - 300;
	r.not_after = now + 365 * 86400;
	r.issued_at = now;
	r.der = der;
	r.der_len = (size_t)len;
	pkid_x509_fingerprint(x, fp);
	r.fingerprint = fp;
	rc = pkid_store_cert_add(st, &r, e);
	OPENSSL_free(der);
	return rc;
}

enum pkid_code
pkid_ca_init_tls(const char *dir, const struct pkid_config *cfg,
    struct pkid_store *st, int64_t gen, X509 *issuer, EVP_PKEY *issuer_key,
    struct pkid_err *e)
{
	return pkid_ca_issue_tls(dir, cfg, st, gen, issuer, issuer_key, NULL,
	    e);
}

enum pkid_code
pkid_ca_issue_tls(const char *dir, const struct pkid_config *cfg,
    struct pkid_store *st, int64_t gen, X509 *issuer, EVP_PKEY *issuer_key,
    EVP_PKEY *reuse, struct pkid_err *e)
{
	struct pkid_certspec s;
	struct pkid_signer *sg = NULL;
	GENERAL_NAMES *g = NULL;
	EVP_PKEY *key = NULL;
	X509_NAME *subj = NULL;
	X509 *x = NULL;
	struct pkid_buf b;
	char serial[48], p[1200];
	int64_t now = (int64_t)pkid_now();
	struct tm tm;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&b, 1 << 16);
	if (reuse != NULL) {
		PKID_OSSL(EVP_PKEY_up_ref(reuse), PKID_E_INTERNAL, "ref");
		key = reuse;
	} else {
		PKID_TRY(pkid_key_generate("ec-p256", &key, e));
	}
	PKID_TRY(pkid_name_parse("CN=localhost", &subj, e));
	PKID_TRY(tls_names(cfg, &g, e));
	memset(&s, 0, sizeof(s));
	s.subject = subj;
	s.pubkey = key;
	s.issuer = issuer;
	s.not_before = now - 300;
	s.not_after = now + 365 * 86400;
	if (ASN1_TIME_to_tm(X509_get0_notAfter(issuer), &tm) == 1 &&
	    (int64_t)timegm(&tm) < s.not_after)
		s.not_after = (int64_t)timegm(&tm);
	s.pathlen = -1;
	s.key_usage = KU_DIGITAL_SIGNATURE;
	s.eku = PKID_EKU_SERVER;
	s.sans = g;
	PKID_TRY(pkid_cert_build(&s, &x, serial, e));
	PKID_TRY(pkid_lint_tbs(x, e));
	PKID_OSSL_PTR(sg = pkid_signer_from_key(issuer_key, issuer,
	    cfg->digest, e), e->code, "signer");
	PKID_TRY(pkid_signer_sign_cert(sg, x, e));
	PKID_TRY(record(st, gen, x, serial, g, now, e));
	PKID_TRY(pkid_x509_cert_pem(x, &b, e));
	PKID_TRY(pkid_x509_cert_pem(issuer, &b, e));
	snprintf(p, sizeof(p), "%s/tls/server.pem", dir);
	PKID_TRY(pkid_file_write(p, b.p, b.len, 0644, e));
	pkid_buf_free(&b);
	pkid_buf_init(&b, 1 << 16);
	PKID_TRY(pkid_x509_key_pem(key, &b, e));
	snprintf(p, sizeof(p), "%s/tls/server.key", dir);
	PKID_TRY(pkid_file_write(p, b.p, b.len, 0600, e));
	rc = PKID_OK;
out:
	pkid_buf_free(&b);
	pkid_signer_free(sg);
	GENERAL_NAMES_free(g);
	EVP_PKEY_free(key);
	X509_NAME_free(subj);
	X509_free(x);
	return rc;
}
