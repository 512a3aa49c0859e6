/*
 * ra_cert.c - the SCEP RA certificate of registration-authority mode,
 * from the upstream CA: clients that verify CertRep signatures against
 * the CA certificates GetCACert lists (certmonger) need an RA certificate
 * the upstream issued, since GetCACert lists the upstream's CAs (ra.c).
 * A fresh RSA-2048 key (RFC 8894 3.1: requests are encrypted to it with
 * RSA key transport), a CSR, simpleenroll at the upstream with the RA's
 * own upstream credentials (src/est/ra.c), then DIR/scep/ra.key and
 * DIR/scep/ra.pem, where pkid looks for them (server.c load_ra).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "core/buf.h"
#include "est/client.h"
#include "est/ra.h"
#include "scep/scep.h"
#include "x509/load.h"

/* The subject to ask for: the current RA certificate's, else one made
 * from the CA name. */
static enum pkid_code
ra_subject(struct pkid_ca *ca, X509_NAME **out, struct pkid_err *e)
{
	struct pkid_err ignore;
	X509 *old = NULL;
	char p[1200], cn[64];

	*out = NULL;
	pkid_err_clear(&ignore);
	snprintf(p, sizeof(p), "%s/scep/ra.pem", ca->dir);
	if (pkid_x509_load_cert_file(p, &old, &ignore) == PKID_OK) {
		*out = X509_NAME_dup(X509_get_subject_name(old));
		X509_free(old);
	} else {
		snprintf(cn, sizeof(cn), "%.48s SCEP RA", ca->cfg.ca_name);
		if ((*out = X509_NAME_new()) != NULL &&
		    !X509_NAME_add_entry_by_NID(*out, NID_commonName,
		    MBSTRING_UTF8, (unsigned char *)cn, -1, -1, 0)) {
			X509_NAME_free(*out);
			*out = NULL;
		}
	}
	return *out != NULL ? PKID_OK : PKID_ERR(e, PKID_E_NOMEM,
	    "no memory");
}

/* RFC 8894 2.2: the RA decrypts requests and signs CertReps. */
static enum pkid_code
check_usage(X509 *x, const char *url, struct pkid_err *e)
{
	uint32_t ku = X509_get_key_usage(x);

	if (ku != UINT32_MAX && (ku & (KU_DIGITAL_SIGNATURE |
	    KU_KEY_ENCIPHERMENT)) != (KU_DIGITAL_SIGNATURE |
	    KU_KEY_ENCIPHERMENT))
		return PKID_ERR(e, PKID_E_UPSTREAM_BAD_RESPONSE, "upstream %s "
		    "issued the SCEP RA certificate without digitalSignature "
		    "and keyEncipherment: the profile of its EST label must "
		    "allow both (RFC 8894 2.2)", url);
	return PKID_OK;
}

enum pkid_code
pkid_scep_ra_cert_enroll(struct pkid_ca *ca, X509 **out, struct pkid_err *e)
{
	const struct pkid_config *c = &ca->cfg;
	const struct pkid_est_label *l;
	struct pkid_est_csr_spec spec;
	struct est_upstream *up = NULL;
	EVP_PKEY *key = NULL;
	X509_NAME *subj = NULL;
	X509_REQ *csr = NULL;
	X509 *x = NULL;
	char p[1200], text[512];
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	l = pkid_config_est_label(c, c->scep_upstream_label);
	PKID_CHECK(l != NULL && l->upstream[0] != '\0',
	    PKID_E_CONFIG_BAD_VALUE, "SCEP is not in registration-authority "
	    "mode: the EST label '%s' ([scep] upstream_label) has no "
	    "upstream in %s", c->scep_upstream_label, c->path);
	PKID_OSSL_PTR(up = pkid_est_ra_new(l, e), e->code, "upstream");
	snprintf(p, sizeof(p), "%s/scep", ca->dir);
	PKID_CHECK(mkdir(p, 0700) == 0 || errno == EEXIST, PKID_E_IO_WRITE,
	    "mkdir %s: %s", p, strerror(errno));
	PKID_TRY(pkid_key_generate("rsa-2048", &key, e));
	PKID_TRY(ra_subject(ca, &subj, e));
	memset(&spec, 0, sizeof(spec));
	spec.subject = subj;
	PKID_TRY(pkid_est_csr_build(key, &spec, NULL, 0, &csr, e));
	PKID_TRY(pkid_est_ra_enroll(up, csr, &x, e));
	/* Nothing kept waiting: a new key is made when asked again. */
	PKID_CHECK(x != NULL, PKID_E_REQUEST_PENDING, "upstream %s holds the "
	    "SCEP RA certificate request for approval; approve it there, "
	    "then run this again", pkid_est_ra_url(up));
	PKID_TRY(check_usage(x, pkid_est_ra_url(up), e));
	/* The key first: pkid refuses a pair that does not match rather
	 * than use a certificate without its key. */
	PKID_TRY(pkid_ca_ra_write(ca->dir, "ra.key", NULL, key, e));
	PKID_TRY(pkid_ca_ra_write(ca->dir, "ra.pem", x, NULL, e));
	pkid_x509_name_text(X509_get_subject_name(x), text, sizeof(text));
	PKID_TRY(pkid_store_audit(ca->store, "cli", "scep-ra-cert", text,
	    "ok", pkid_est_ra_url(up), e));
	*out = x;
	x = NULL;
	rc = PKID_OK;
out:
	pkid_est_ra_free(up);
	EVP_PKEY_free(key);
	X509_NAME_free(subj);
	X509_REQ_free(csr);
	X509_free(x);
	return rc;
}
