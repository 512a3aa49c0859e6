/*
 * responder.c - the delegated OCSP responder certificate (RFC 6960
 * 4.2.2.2): issued by each signing generation (current, or retired
 * while its certificates live) to a key of its own, with id-kp-OCSPSigning and id-pkix-ocsp-nocheck and a short
 * life, recorded in the store like every certificate the CA signs, kept
 * in DIR/ocsp/responder-N.pem and .key (0600) and renewed before its end.
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
#include "core/log.h"
#include "ocsp/ocsp_int.h"
#include "x509/load.h"

static void
paths(const struct pkid_ca *ca, int generation, char *pem, char *key,
    size_t len)
{
	snprintf(pem, len, "%s/ocsp/responder-%d.pem", ca->dir, generation);
	snprintf(key, len, "%s/ocsp/responder-%d.key", ca->dir, generation);
}

/* Kept files that still serve: issued by this generation, matching key,
 * more than the renewal margin left. */
static int
load_kept(struct pkid_ocsp *o, struct pkid_ocsp_gen *g, X509 **cert,
    EVP_PKEY **key)
{
	struct pkid_ca *ca = o->ca;
	struct pkid_err e;
	char pem[1200], kp[1200];
	EVP_PKEY *ipub;

	pkid_err_clear(&e);
	paths(ca, g->generation, pem, kp, sizeof(pem));
	if (pkid_x509_load_cert_file(pem, cert, &e) != PKID_OK)
		return 0;
	if (pkid_x509_load_key_file(kp, key, &e) != PKID_OK)
		goto no;
	ipub = X509_get0_pubkey(g->issuer);
	if (X509_check_private_key(*cert, *key) != 1 || ipub == NULL ||
	    X509_verify(*cert, ipub) != 1 ||
	    X509_check_issued(g->issuer, *cert) != X509_V_OK ||
	    pkid_ca_cert_na(*cert) - (int64_t)pkid_now() <=
	    PKID_OCSP_RESPONDER_RENEW_S)
		goto no;
	return 1;
no:
	X509_free(*cert);
	EVP_PKEY_free(*key);
	*cert = NULL;
	*key = NULL;
	return 0;
}

static enum pkid_code
record(struct pkid_ca *ca, int64_t gen_id, X509 *x, const char *serial,
    const struct pkid_certspec *s, struct pkid_err *e)
{
	struct pkid_cert_rec r;
	unsigned char *der = NULL;
	char subj[256], fp[65];
	int len = i2d_X509(x, &der);
	enum pkid_code rc;

	if (len <= 0)
		return PKID_ERR(e, PKID_E_CRYPTO, "encoding");
	memset(&r, 0, sizeof(r));
	r.serial = serial;
	r.ca_gen = gen_id;
	r.subject = pkid_x509_name_text(X509_get_subject_name(x), subj,
	    sizeof(subj));
	r.sans = "";
	r.profile = "pkid-ocsp";
	r.requester = "pkid";
	r.not_before = s->not_before;
	r.not_after = s->not_after;
	r.issued_at = (int64_t)pkid_now();
	r.der = der;
	r.der_len = (size_t)len;
	pkid_x509_fingerprint(x, fp);
	r.fingerprint = fp;
	rc = pkid_store_cert_add(ca->store, &r, e);
	OPENSSL_free(der);
	return rc;
}

static enum pkid_code
write_files(struct pkid_ca *ca, int generation, X509 *x, EVP_PKEY *k,
    struct pkid_err *e)
{
	struct pkid_buf b;
	char pem[1200], kp[1200], d[1100];
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&b, 1 << 16);
	snprintf(d, sizeof(d), "%s/ocsp", ca->dir);
	PKID_CHECK(mkdir(d, 0700) == 0 || errno == EEXIST, PKID_E_IO_WRITE,
	    "mkdir %s: %s", d, strerror(errno));
	paths(ca, generation, pem, kp, sizeof(pem));
	/* The key first: a certificate never lies beside a stale key. */
	PKID_TRY(pkid_x509_key_pem(k, &b, e));
	PKID_TRY(pkid_file_write(kp, b.p, b.len, 0600, e));
	pkid_buf_free(&b);
	pkid_buf_init(&b, 1 << 16);
	PKID_TRY(pkid_x509_cert_pem(x, &b, e));
	PKID_TRY(pkid_file_write(pem, b.p, b.len, 0644, e));
	rc = PKID_OK;
out:
	pkid_buf_free(&b);
	return rc;
}

static enum pkid_code
issue(struct pkid_ocsp *o, struct pkid_ocsp_gen *g, X509 **cert,
    EVP_PKEY **key, struct pkid_err *e)
{
	struct pkid_ca *ca = o->ca;
	struct pkid_signer *sg = NULL;
	X509 *gcert = NULL;
	int64_t gid = 0;
	struct pkid_certspec s;
	X509_NAME *subj = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	char serial[48], cn[160];
	int64_t now = (int64_t)pkid_now(), ina;
	enum pkid_code rc = PKID_E_INTERNAL;

	/* P-256 whatever the CA's key: every OCSP client verifies it, and
	 * a signature costs tens of microseconds. */
	PKID_TRY(pkid_key_generate("ec-p256", &k, e));
	snprintf(cn, sizeof(cn), "CN=%s OCSP responder %d", ca->cfg.ca_name,
	    g->generation);
	PKID_TRY(pkid_name_parse(cn, &subj, e));
	memset(&s, 0, sizeof(s));
	s.subject = subj;
	s.pubkey = k;
	s.issuer = g->issuer;
	s.not_before = now - 300;
	s.not_after = now + PKID_OCSP_RESPONDER_LIFETIME_S;
	ina = pkid_ca_cert_na(g->issuer);
	if (ina < s.not_after)
		s.not_after = ina;
	s.pathlen = -1;
	s.key_usage = KU_DIGITAL_SIGNATURE;
	s.eku = PKID_EKU_OCSP;
	s.ocsp_nocheck = 1;
	PKID_TRY(pkid_cert_build(&s, &x, serial, e));
	PKID_TRY(pkid_lint_tbs(x, e));
	/* The current generation signs through the CA's own signer; a
	 * retired one through a signer of its key. */
	if (g->generation == ca->generation)
		PKID_TRY(pkid_signer_sign_cert(ca->signer, x, e));
	else {
		PKID_TRY(pkid_ca_gen_signer(ca, g->generation, &gcert, &sg,
		    &gid, e));
		PKID_TRY(pkid_signer_sign_cert(sg, x, e));
	}
	PKID_TRY(record(ca, g->gen_id, x, serial, &s, e));
	PKID_TRY(write_files(ca, g->generation, x, k, e));
	pkid_log(PKID_LOG_INFO, "ocsp responder ca=%s generation=%d "
	    "serial=%s not_after=%lld", ca->cfg.ca_name, g->generation,
	    serial, (long long)s.not_after);
	*cert = x;
	*key = k;
	x = NULL;
	k = NULL;
	rc = PKID_OK;
out:
	pkid_signer_free(sg);
	X509_free(gcert);
	X509_NAME_free(subj);
	X509_free(x);
	EVP_PKEY_free(k);
	return rc;
}

int
pkid_ocsp_responder_due(struct pkid_ocsp *o, struct pkid_ocsp_gen *g)
{
	int due;

	pthread_mutex_lock(&o->mu);
	due = g->rcert != NULL && g->r_not_after - (int64_t)pkid_now() <=
	    PKID_OCSP_RESPONDER_RENEW_S;
	pthread_mutex_unlock(&o->mu);
	return due;
}

/* Take references under mu; 1 when there was a usable certificate. */
static int
take(struct pkid_ocsp *o, struct pkid_ocsp_gen *g, int force, X509 **cert,
    EVP_PKEY **key)
{
	int ok = 0;

	pthread_mutex_lock(&o->mu);
	if (g->rcert != NULL && (!force || g->r_not_after -
	    (int64_t)pkid_now() > PKID_OCSP_RESPONDER_RENEW_S) &&
	    X509_up_ref(g->rcert) == 1) {
		if (EVP_PKEY_up_ref(g->rkey) == 1) {
			*cert = g->rcert;
			*key = g->rkey;
			ok = 1;
		} else {
			X509_free(g->rcert);
		}
	}
	pthread_mutex_unlock(&o->mu);
	return ok;
}

enum pkid_code
pkid_ocsp_responder_get(struct pkid_ocsp *o, struct pkid_ocsp_gen *g,
    int force, X509 **cert, EVP_PKEY **key, struct pkid_err *e)
{
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	enum pkid_code rc = PKID_OK;

	*cert = NULL;
	*key = NULL;
	if (take(o, g, force, cert, key))
		return PKID_OK;
	pthread_mutex_lock(&o->issue_mu);
	/* Another thread may have made it meanwhile. */
	if (take(o, g, force, cert, key)) {
		pthread_mutex_unlock(&o->issue_mu);
		return PKID_OK;
	}
	if (!load_kept(o, g, &x, &k))
		rc = issue(o, g, &x, &k, e);
	if (rc == PKID_OK) {
		pthread_mutex_lock(&o->mu);
		X509_free(g->rcert);
		EVP_PKEY_free(g->rkey);
		g->rcert = x;
		g->rkey = k;
		g->r_not_after = pkid_ca_cert_na(x);
		pthread_mutex_unlock(&o->mu);
		if (!take(o, g, 0, cert, key))
			rc = PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	pthread_mutex_unlock(&o->issue_mu);
	return rc;
}
