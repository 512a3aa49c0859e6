/*
 * init.c - EST server state: labels resolved against profiles, trust
 * stores for client certificates, cached cacerts and csrattrs responses;
 * the route; the client CA file the TLS server asks with (this CA's
 * chain, every client_ca, and each RA label's upstream_cacert).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/x509v3.h>

#include "core/log.h"
#include "est/csrattrs.h"
#include "est/est_int.h"
#include "est/msg.h"
#include "est/passwd.h"
#include "x509/load.h"

/* An X509_STORE with every certificate of a PEM/DER file as anchor. */
static enum pkid_code
store_from_file(const char *path, X509_STORE **out, struct pkid_err *e)
{
	STACK_OF(X509) *certs = NULL;
	X509_STORE *st = NULL;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_TRY(pkid_x509_load_certs_file(path, &certs, e));
	PKID_OSSL_PTR(st = X509_STORE_new(), PKID_E_NOMEM, "no memory");
	for (i = 0; i < sk_X509_num(certs); i++)
		PKID_OSSL(X509_STORE_add_cert(st, sk_X509_value(certs, i)),
		    PKID_E_CRYPTO, "adding %s certificate %d to a store",
		    path, i);
	*out = st;
	st = NULL;
	rc = PKID_OK;
out:
	X509_STORE_free(st);
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

static enum pkid_code
label_init(struct pkid_est *est, struct est_label *l,
    const struct pkid_est_label *cfg, struct pkid_err *e)
{
	struct pkid_buf der;
	const char *name = cfg->name[0] ? cfg->name : "(default)";
	char state[1200];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&der, 0, sizeof(der));
	l->cfg = cfg;
	l->profile = pkid_config_profile(&est->ca->cfg, cfg->profile);
	PKID_CHECK(l->profile != NULL, PKID_E_PROFILE_UNKNOWN, "EST label %s "
	    "names profile '%s', which %s does not define", name,
	    cfg->profile, est->ca->cfg.path);
	if (cfg->client_ca[0] != '\0') {
		if (store_from_file(cfg->client_ca, &l->extra, e) != PKID_OK) {
			pkid_err_ctx(e, "loading client_ca of EST label %s",
			    name);
			goto out;
		}
		pkid_log(PKID_LOG_INFO, "est label %s: client certificates "
		    "from %s accepted for simpleenroll; their revocation is "
		    "not checked (no CRL configured)", name, cfg->client_ca);
	}
	if (cfg->upstream[0] != '\0')
		PKID_OSSL_PTR(l->up = pkid_est_ra_new(cfg, e), e->code,
		    "upstream");
	if (l->up != NULL && cfg->upstream_certsrv) {
		snprintf(state, sizeof(state), "%s/certsrv-est%s%s.pending",
		    est->ca->dir, cfg->name[0] ? "-" : "", cfg->name);
		pkid_est_ra_state(l->up, state);
	}
	PKID_TRY(pkid_est_csrattrs_der(l->profile, cfg->channel_binding, &der,
	    e));
	PKID_TRY(pkid_base64_encode(der.p, der.len, 0, &l->csrattrs, e));
	rc = PKID_OK;
out:
	pkid_buf_free(&der);
	return rc;
}

struct pkid_est *
pkid_est_new(struct pkid_ca *ca, struct pkid_err *e)
{
	struct pkid_est *est = calloc(1, sizeof(*est));
	STACK_OF(X509) *pub = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	PKID_OSSL_PTR(est, PKID_E_NOMEM, "no memory");
	est->ca = ca;
	pkid_est_creds_init(&est->creds);
	PKID_OSSL_PTR(est->chains = pkid_ccache_new(0, e), e->code,
	    "client certificate cache");
	PKID_OSSL_PTR(est->throttle = pkid_est_throttle_new(e), e->code,
	    "login throttle");
	PKID_TRY(pkid_passwd_dummy(est->dummy, sizeof(est->dummy), e));
	PKID_OSSL_PTR(est->own = X509_STORE_new(), PKID_E_NOMEM, "no memory");
	/* Through a rollover a device's certificate may come from the
	 * current, the next or a retired generation: every root is an
	 * anchor, every other CA certificate an intermediate. */
	PKID_OSSL_PTR(pub = pkid_ca_published(ca), PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(est->inter = sk_X509_new_null(), PKID_E_NOMEM, "memory");
	for (i = 0; i < sk_X509_num(pub); i++) {
		X509 *x = sk_X509_value(pub, i);

		if (X509_check_issued(x, x) == X509_V_OK)
			PKID_OSSL(X509_STORE_add_cert(est->own, x),
			    PKID_E_CRYPTO, "adding a root to the client "
			    "certificate store");
		else
			PKID_OSSL(sk_X509_push(est->inter, x) && X509_up_ref(x),
			    PKID_E_NOMEM, "no memory");
	}
	/* RFC 7030 4.1.3: the chain, the next generation and the Root CA
	 * Key Update certificates. */
	PKID_TRY(pkid_est_certs_b64(pub, &est->cacerts, e));
	for (i = 0; i < ca->cfg.n_est && i < PKID_MAX_EST_LABELS; i++) {
		PKID_TRY(label_init(est, &est->labels[i], &ca->cfg.est[i], e));
		est->n_labels = i + 1;
	}
	rc = PKID_OK;
out:
	sk_X509_pop_free(pub, X509_free);
	if (rc != PKID_OK) {
		pkid_est_free(est);
		est = NULL;
	}
	return est;
}

void
pkid_est_set_https_port(struct pkid_est *est, int port)
{
	est->https_port = port;
}

void
pkid_est_free(struct pkid_est *est)
{
	int i;

	if (est == NULL)
		return;
	for (i = 0; i < PKID_MAX_EST_LABELS; i++) {
		X509_STORE_free(est->labels[i].extra);
		pkid_est_ra_free(est->labels[i].up);
		pkid_buf_free(&est->labels[i].csrattrs);
	}
	X509_STORE_free(est->own);
	sk_X509_pop_free(est->inter, X509_free);
	pkid_buf_free(&est->cacerts);
	pkid_est_creds_free(&est->creds);
	pkid_ccache_free(est->chains);
	pkid_est_throttle_free(est->throttle);
	free(est);
}

enum pkid_code
pkid_est_routes(struct pkid_est *est, struct pkid_router *r,
    struct pkid_err *e)
{
	/* Offloaded: password hashing, signing and the durable commit of
	 * an enrollment must not stall the event loop's other clients. */
	return pkid_router_add(r, "/.well-known/est/", 1, PKID_HTTP_GET |
	    PKID_HTTP_HEAD | PKID_HTTP_POST | PKID_ROUTE_OFFLOAD,
	    pkid_est_handle, est, e);
}

/* Append the PEM of every certificate in path. */
static enum pkid_code
append_file(struct pkid_buf *b, const char *path, struct pkid_err *e)
{
	STACK_OF(X509) *certs = NULL;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_x509_load_certs_file(path, &certs, e));
	for (i = 0; i < sk_X509_num(certs); i++)
		PKID_TRY(pkid_x509_cert_pem(sk_X509_value(certs, i), b, e));
	rc = PKID_OK;
out:
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

enum pkid_code
pkid_est_write_client_ca(struct pkid_ca *ca, const char *path,
    struct pkid_err *e)
{
	STACK_OF(X509) *pub = NULL;
	struct pkid_buf b;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&b, PKID_MAX_FILE_SIZE);
	PKID_OSSL_PTR(pub = pkid_ca_published(ca), PKID_E_NOMEM, "no memory");
	for (i = 0; i < sk_X509_num(pub); i++)
		PKID_TRY(pkid_x509_cert_pem(sk_X509_value(pub, i), &b, e));
	for (i = 0; i < ca->cfg.n_est; i++) {
		if (ca->cfg.est[i].client_ca[0] != '\0')
			PKID_TRY(append_file(&b, ca->cfg.est[i].client_ca, e));
		/* RA mode: devices re-enroll with certificates the upstream
		 * issued, verified to these anchors (ra.c). */
		if (ca->cfg.est[i].upstream[0] != '\0' &&
		    ca->cfg.est[i].upstream_cacert[0] != '\0')
			PKID_TRY(append_file(&b, ca->cfg.est[i].upstream_cacert,
			    e));
	}
	if (ca->cfg.client_ca[0] != '\0')
		PKID_TRY(append_file(&b, ca->cfg.client_ca, e));
	/* The status page's client certificates ([status] client_ca): only
	 * named in the handshake's request; the page checks them itself. */
	if (ca->cfg.status_client_ca[0] != '\0')
		PKID_TRY(append_file(&b, ca->cfg.status_client_ca, e));
	PKID_TRY(pkid_file_write(path, b.p, b.len, 0644, e));
	rc = PKID_OK;
out:
	sk_X509_pop_free(pub, X509_free);
	pkid_buf_free(&b);
	return rc;
}
