/*
 * client_tls.c - the HTTPS client's TLS: the client certificate, SNI,
 * the server's chain judged by pkid's verifier (the same one pkictl
 * verify and pkictl diagnose use, so the codes and messages agree), the
 * handshake's progress for classifying failures, channel bindings.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "http/client_int.h"
#include "verify/verify.h"

/* RFC 9266 2: the exporter label of tls-exporter, 32 bytes, no context. */
#define CB_EXPORTER_LABEL "EXPORTER-Channel-Binding"
#define CB_EXPORTER_LEN 32

/* Handshake progress: what classification needs to name the phase. */
static void
info_cb(const SSL *s, int where, int ret)
{
	struct pkid_https *h = SSL_get_app_data(s);

	if (h == NULL)
		return;
	if (where & SSL_CB_HANDSHAKE_START)
		h->tls_started = 1;
	if (where & SSL_CB_HANDSHAKE_DONE)
		h->hs_done = 1;
	if ((where & SSL_CB_ALERT) && (where & SSL_CB_READ))
		h->alert_in = ret & 0xff;
}

/* Any record from the server means TCP and the server's TLS are up. */
static void
msg_cb(int write_p, int version, int content_type, const void *buf,
    size_t len, SSL *s, void *arg)
{
	struct pkid_https *h = SSL_get_app_data(s);

	if (h != NULL && !write_p)
		h->server_spoke = 1;
}

/* Keep the presented chain (leaf first) for bootstrap and messages. */
static void
keep_chain(struct pkid_https *h, X509_STORE_CTX *sc)
{
	STACK_OF(X509) *u = X509_STORE_CTX_get0_untrusted(sc);
	X509 *leaf = X509_STORE_CTX_get0_cert(sc);
	int i;

	sk_X509_pop_free(h->peer, X509_free);
	if ((h->peer = sk_X509_new_null()) == NULL)
		return;
	if (leaf != NULL && sk_X509_push(h->peer, leaf))
		X509_up_ref(leaf);
	for (i = 0; i < sk_X509_num(u); i++) {
		X509 *x = sk_X509_value(u, i);

		if (X509_cmp(x, leaf) != 0 && sk_X509_push(h->peer, x))
			X509_up_ref(x);
	}
}

/* Run pkid's verifier on the presented chain for the URL's host. */
static int
judge(struct pkid_https *h, X509 *leaf)
{
	struct pkid_verify_ctx *vc = NULL;
	struct pkid_verify_result res;
	struct pkid_verify_opts vo;
	struct pkid_err *e = &h->verr;
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	memset(&res, 0, sizeof(res));
	pkid_err_clear(e);
	PKID_CHECK((vc = pkid_verify_ctx_new(e)) != NULL, PKID_E_NOMEM,
	    "no memory");
	for (i = 0; i < sk_X509_num(h->o.trust); i++)
		PKID_TRY(pkid_verify_add_trusted(vc,
		    sk_X509_value(h->o.trust, i), e));
	for (i = 1; i < sk_X509_num(h->peer); i++)
		PKID_TRY(pkid_verify_add_untrusted(vc,
		    sk_X509_value(h->peer, i), e));
	pkid_verify_opts_init(&vo);
	vo.purpose = PKID_PURPOSE_SERVER;
	if (h->host_is_ip)
		vo.ip = h->host;
	else
		vo.host = h->host;
	rc = pkid_verify_run(vc, &vo, leaf, &res, e);
out:
	pkid_verify_result_clear(&res);
	pkid_verify_ctx_free(vc);
	return rc == PKID_OK;
}

/*
 * Replaces X509_verify_cert (SSL_CTX_set_cert_verify_callback): the
 * handshake fails with bad_certificate when the verifier refuses.
 */
static int
verify_cb(X509_STORE_CTX *sc, void *arg)
{
	struct pkid_https *h = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(sc);

	keep_chain(h, sc);
	if (h->o.trust == NULL)
		return 1;	/* bootstrap: the caller checks afterwards */
	if (leaf != NULL && judge(h, leaf))
		return 1;
	h->verified_bad = 1;
	if (leaf == NULL)
		PKID_ERR(&h->verr, PKID_E_CERT_INVALID, "the server sent no "
		    "certificate");
	X509_STORE_CTX_set_error(sc, X509_V_ERR_APPLICATION_VERIFICATION);
	return 0;
}

static enum pkid_code
use_client_cert(struct pkid_https *h, SSL_CTX *ctx, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	PKID_OSSL(SSL_CTX_use_certificate(ctx, h->o.cert), PKID_E_CRYPTO,
	    "cannot use the client certificate");
	for (i = 0; i < sk_X509_num(h->o.chain); i++)
		PKID_OSSL(SSL_CTX_add1_chain_cert(ctx,
		    sk_X509_value(h->o.chain, i)), PKID_E_CRYPTO,
		    "cannot add intermediate %d of the client certificate", i);
	PKID_CHECK(h->o.key != NULL, PKID_E_USAGE, "a client certificate "
	    "needs its private key");
	PKID_OSSL(SSL_CTX_use_PrivateKey(ctx, h->o.key), PKID_E_KEY_MISMATCH,
	    "cannot use the client key");
	PKID_OSSL(SSL_CTX_check_private_key(ctx), PKID_E_KEY_MISMATCH,
	    "the client key does not belong to the client certificate");
	rc = PKID_OK;
out:
	return rc;
}

SSL_CTX *
pkid_https_ctx_new(struct pkid_https *h, struct pkid_err *e)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(ctx, PKID_E_CRYPTO, "cannot set up TLS");
	PKID_OSSL(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION),
	    PKID_E_CRYPTO, "cannot require TLS 1.2");
	/* SSL_VERIFY_PEER makes OpenSSL call verify_cb and fail on 0. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_cb, h);
	SSL_CTX_set_info_callback(ctx, info_cb);
	SSL_CTX_set_msg_callback(ctx, msg_cb);
	if (h->o.tls_max != 0)
		PKID_OSSL(SSL_CTX_set_max_proto_version(ctx, h->o.tls_max),
		    PKID_E_USAGE, "cannot limit TLS to version %#x",
		    h->o.tls_max);
	if (h->o.cert != NULL)
		PKID_TRY(use_client_cert(h, ctx, e));
	rc = PKID_OK;
out:
	if (rc != PKID_OK) {
		SSL_CTX_free(ctx);
		ctx = NULL;
	}
	return ctx;
}

SSL *
pkid_https_ssl_new(struct pkid_https *h, struct pkid_err *e)
{
	SSL *ssl = SSL_new(h->ctx);
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(ssl, PKID_E_CRYPTO, "cannot set up TLS");
	SSL_set_app_data(ssl, h);
	/* RFC 6066 3: SNI carries host names only, never IP literals. */
	if (!h->host_is_ip)
		PKID_OSSL(SSL_set_tlsext_host_name(ssl, h->host),
		    PKID_E_USAGE, "'%s' cannot be sent as SNI", h->host);
	rc = PKID_OK;
out:
	if (rc != PKID_OK) {
		SSL_free(ssl);
		ssl = NULL;
	}
	return ssl;
}

/* RFC 5929 3.1: the first Finished of the latest handshake. */
static enum pkid_code
tls_unique(SSL *ssl, uint8_t *out, size_t *len, struct pkid_err *e)
{
	size_t n;

	/* In a full handshake the client finishes first; resumed, the
	 * server does. */
	if (SSL_session_reused(ssl))
		n = SSL_get_peer_finished(ssl, out, *len);
	else
		n = SSL_get_finished(ssl, out, *len);
	if (n == 0 || n > *len)
		return PKID_ERR(e, PKID_E_NO_CHANNEL_BINDING, "tls-unique: "
		    "no Finished message of %zu bytes at most", *len);
	*len = n;
	return PKID_OK;
}

enum pkid_code
pkid_https_channel_binding(struct pkid_https *h, uint8_t *out, size_t *len,
    const char **type, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;

	*type = NULL;
	PKID_CHECK(h->conn != NULL && !h->conn_dead && h->ssl != NULL &&
	    SSL_is_init_finished(h->ssl), PKID_E_NO_CHANNEL_BINDING,
	    "no TLS connection to %s is open", h->target);
	if (SSL_version(h->ssl) >= TLS1_3_VERSION) {
		PKID_CHECK(*len >= CB_EXPORTER_LEN, PKID_E_INTERNAL,
		    "tls-exporter needs %d bytes", CB_EXPORTER_LEN);
		PKID_OSSL(SSL_export_keying_material(h->ssl, out,
		    CB_EXPORTER_LEN, CB_EXPORTER_LABEL,
		    sizeof(CB_EXPORTER_LABEL) - 1, NULL, 0, 0), PKID_E_CRYPTO,
		    "tls-exporter: keying material export failed");
		*len = CB_EXPORTER_LEN;
		*type = "tls-exporter";
	} else {
		PKID_TRY(tls_unique(h->ssl, out, len, e));
		*type = "tls-unique";
	}
	rc = PKID_OK;
out:
	return rc;
}
