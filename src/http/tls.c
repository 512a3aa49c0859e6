/*
 * tls.c - the server's one SSL_CTX (TLS 1.2 and 1.3), optional client
 * certificates, and what a handler may learn about the TLS peer: its
 * certificate, chain, whether it verified, and the channel binding.
 *
 * Client certificates are optional (RFC 7030 3.3.2: EST may authenticate
 * by certificate or by password), so the handshake never fails on one:
 * the verify callback records the outcome and the handler decides.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509_vfy.h>

#include "http/server_int.h"

/* RFC 9266 2: the exporter label of tls-exporter, 32 bytes, no context. */
#define CB_EXPORTER_LABEL "EXPORTER-Channel-Binding"
#define CB_EXPORTER_LEN 32

/* Session ids are scoped to this context (needed with client certs). */
static const unsigned char sid_ctx[] = "pkid";

/*
 * Accept every client certificate so the handshake completes, but note
 * any failure in the connection: peer_verified is then 0.
 */
static int
verify_cb(int ok, X509_STORE_CTX *x)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(x,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct pkid_http_conn *cs = ssl != NULL ? SSL_get_app_data(ssl) : NULL;

	if (!ok && cs != NULL) {
		cs->verify_failed = 1;
		if (cs->verify_err == 0)
			cs->verify_err = X509_STORE_CTX_get_error(x);
	}
	return 1;
}

/* Key domain of the handshake's chain results in the client cert cache:
 * the SSL_CTX's store, purpose and depth. */
#define TLS_CC_DOMAIN 0x746c7300u

/*
 * OpenSSL's chain check of a client certificate, through the cache: a
 * chain that verified cleanly before (same leaf, same certificates sent,
 * unexpired, no invalidation since) is not built again. The handshake
 * still checks the client's CertificateVerify signature with the leaf's
 * key. Only clean results are stored: verify_cb accepts failures, so
 * X509_verify_cert returns 1 for them too.
 */
static int
cert_verify_cb(X509_STORE_CTX *x, void *arg)
{
	struct pkid_ccache *cc = arg;
	SSL *ssl = X509_STORE_CTX_get_ex_data(x,
	    SSL_get_ex_data_X509_STORE_CTX_idx());
	struct pkid_http_conn *cs = ssl != NULL ? SSL_get_app_data(ssl) : NULL;
	struct pkid_ccache_key k;
	time_t now = time(NULL);	/* what X509_verify_cert uses here */
	int r;

	if (pkid_ccache_lookup(cc, TLS_CC_DOMAIN, X509_STORE_CTX_get0_cert(x),
	    X509_STORE_CTX_get0_untrusted(x), now, &k))
		return 1;
	r = X509_verify_cert(x);
	if (r == 1 && cs != NULL && !cs->verify_failed &&
	    X509_STORE_CTX_get_error(x) == X509_V_OK)
		pkid_ccache_store(cc, &k, x, now);
	return r;
}

/* Note finished handshakes: a connection closed before one is counted
 * as a TLS failure. */
static void
info_cb(const SSL *ssl, int where, int ret)
{
	struct pkid_http_conn *cs;

	(void)ret;
	if ((where & SSL_CB_HANDSHAKE_DONE) == 0)
		return;
	cs = SSL_get_app_data(ssl);
	if (cs != NULL)
		cs->hs_done = 1;
}

static enum pkid_code
check_readable(const char *what, const char *path, struct pkid_err *e)
{
	if (path == NULL || *path == '\0')
		return PKID_ERR(e, PKID_E_CONFIG_BAD_VALUE,
		    "the TLS listener needs a %s file", what);
	if (access(path, R_OK) != 0)
		return PKID_ERR(e, PKID_E_IO_OPEN, "cannot read %s file %s: %s",
		    what, path, strerror(errno));
	return PKID_OK;
}

static enum pkid_code
load_client_ca(SSL_CTX *ctx, const char *path, struct pkid_ccache *cc,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	STACK_OF(X509_NAME) *names = NULL;

	PKID_TRY(check_readable("client CA", path, e));
	PKID_OSSL(SSL_CTX_load_verify_locations(ctx, path, NULL),
	    PKID_E_CERT_MALFORMED, "client CA file %s holds no usable "
	    "certificate", path);
	/* The CertificateRequest names these issuers so that clients with
	 * several certificates pick the right one (RFC 8446 4.2.4). */
	names = SSL_load_client_CA_file(path);
	PKID_OSSL_PTR(names, PKID_E_CERT_MALFORMED,
	    "client CA file %s holds no certificate names", path);
	SSL_CTX_set_client_CA_list(ctx, names);	/* ctx owns names now */
	names = NULL;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, verify_cb);
	SSL_CTX_set_verify_depth(ctx, PKID_MAX_CHAIN_DEPTH);
	if (cc != NULL)
		SSL_CTX_set_cert_verify_callback(ctx, cert_verify_cb, cc);
	rc = PKID_OK;
out:
	sk_X509_NAME_pop_free(names, X509_NAME_free);
	return rc;
}

/* Load the key apart from using it, so a bad file and a key that is not
 * the certificate's get their own codes. */
static enum pkid_code
use_key(SSL_CTX *ctx, const struct pkid_server_opts *o, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	EVP_PKEY *key = NULL;
	BIO *b = NULL;

	b = BIO_new_file(o->key_file, "r");
	PKID_OSSL_PTR(b, PKID_E_IO_OPEN, "cannot open server key file %s",
	    o->key_file);
	key = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL);
	PKID_OSSL_PTR(key, PKID_E_KEY_MALFORMED, "server key file %s holds "
	    "no usable unencrypted PEM private key", o->key_file);
	PKID_OSSL(SSL_CTX_use_PrivateKey(ctx, key) == 1 &&
	    SSL_CTX_check_private_key(ctx) == 1, PKID_E_KEY_MISMATCH,
	    "server key %s does not match the certificate in %s",
	    o->key_file, o->cert_file);
	rc = PKID_OK;
out:
	EVP_PKEY_free(key);
	BIO_free(b);
	return rc;
}

enum pkid_code
pkid_http_tls_ctx_new(const struct pkid_server_opts *o,
    struct pkid_ccache *cc, SSL_CTX **out, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	SSL_CTX *ctx = NULL;

	*out = NULL;
	PKID_TRY(check_readable("server certificate", o->cert_file, e));
	PKID_TRY(check_readable("server key", o->key_file, e));
	ctx = SSL_CTX_new(TLS_server_method());
	PKID_OSSL_PTR(ctx, PKID_E_CRYPTO, "cannot create the TLS context");
	PKID_OSSL(SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION),
	    PKID_E_CRYPTO, "cannot set TLS 1.2 as the lowest version");
	PKID_OSSL(SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION),
	    PKID_E_CRYPTO, "cannot set TLS 1.3 as the highest version");
	/* No renegotiation (a CPU sink and a tls-unique trap); tolerate
	 * peers that close without close_notify, as HTTP allows. */
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION |
	    SSL_OP_IGNORE_UNEXPECTED_EOF);
	PKID_OSSL(SSL_CTX_use_certificate_chain_file(ctx, o->cert_file),
	    PKID_E_CERT_MALFORMED, "server certificate file %s holds no "
	    "usable PEM certificate chain (leaf first)", o->cert_file);
	PKID_TRY(use_key(ctx, o, e));
	PKID_OSSL(SSL_CTX_set_session_id_context(ctx, sid_ctx,
	    sizeof(sid_ctx) - 1), PKID_E_CRYPTO,
	    "cannot set the TLS session id context");
	SSL_CTX_set_info_callback(ctx, info_cb);
	/* An idle connection keeps no read or write buffer (about 34 KiB
	 * each otherwise): thousands of idle devices cost little. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	/* TLS 1.2 sessions kept for resumption: a bound of our own, below
	 * OpenSSL's 20480 (TLS 1.3 tickets are stateless). */
	SSL_CTX_sess_set_cache_size(ctx, PKID_TLS_SESSION_CACHE);
	/* TLS 1.3 tickets: OpenSSL sends two after every full handshake,
	 * each re-encoding the session (with the client certificate) and
	 * sealing it; EST and SCEP clients rarely resume, and a mutual-TLS
	 * re-enrollment spent about a quarter of its server CPU on them.
	 * Default 0 ([server] tls_tickets); TLS 1.2 session ids still
	 * resume from the cache above. */
	PKID_OSSL(SSL_CTX_set_num_tickets(ctx, (size_t)o->tls_tickets),
	    PKID_E_CRYPTO, "cannot set the number of TLS session tickets");
	if (o->client_ca != NULL)
		PKID_TRY(load_client_ca(ctx, o->client_ca, cc, e));
	*out = ctx;
	ctx = NULL;
	rc = PKID_OK;
out:
	SSL_CTX_free(ctx);
	return rc;
}

void
pkid_http_tls_peer(struct pkid_http_conn *cs, int client_ca,
    struct pkid_http_req *req, STACK_OF(X509) **chain)
{
	STACK_OF(X509) *sent, *sk;
	X509 *leaf;
	int i;

	*chain = NULL;
	if (cs == NULL || cs->ssl == NULL)
		return;
	leaf = SSL_get0_peer_certificate(cs->ssl);
	if (leaf == NULL)
		return;
	req->peer_cert = leaf;
	req->peer_verified = client_ca && !cs->verify_failed &&
	    SSL_get_verify_result(cs->ssl) == X509_V_OK;
	/* On a server OpenSSL keeps the chain without the leaf; hand the
	 * handler the chain as sent, leaf first. */
	sent = SSL_get_peer_cert_chain(cs->ssl);
	sk = sk_X509_new_null();
	if (sk == NULL || !sk_X509_push(sk, leaf)) {
		sk_X509_free(sk);
		return;
	}
	for (i = 0; i < sk_X509_num(sent); i++) {
		X509 *x = sk_X509_value(sent, i);

		if (i == 0 && X509_cmp(x, leaf) == 0)
			continue;
		if (!sk_X509_push(sk, x))
			break;
	}
	req->peer_chain = sk;
	*chain = sk;
}

/* RFC 5929 3.1: the first Finished of the latest handshake. */
static enum pkid_code
tls_unique(SSL *ssl, uint8_t *out, size_t *outlen, struct pkid_err *e)
{
	size_t n;

	/* In a full handshake the client finishes first; in a resumed one
	 * the server does. */
	if (SSL_session_reused(ssl))
		n = SSL_get_finished(ssl, out, *outlen);
	else
		n = SSL_get_peer_finished(ssl, out, *outlen);
	if (n == 0)
		return PKID_ERR(e, PKID_E_NO_CHANNEL_BINDING,
		    "tls-unique: the handshake has no Finished message yet");
	if (n > *outlen)
		return PKID_ERR(e, PKID_E_INTERNAL,
		    "tls-unique: %zu bytes do not fit in %zu", n, *outlen);
	*outlen = n;
	return PKID_OK;
}

/* The binding of a live session (loop thread only). */
static enum pkid_code
cb_compute(SSL *ssl, const char *client, uint8_t *out, size_t *outlen,
    const char **type, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(ssl != NULL, PKID_E_NO_CHANNEL_BINDING, "the request came "
	    "over plain HTTP from %s; channel bindings need TLS",
	    client != NULL ? client : "?");
	PKID_CHECK(SSL_is_init_finished(ssl), PKID_E_NO_CHANNEL_BINDING,
	    "the TLS handshake with %s has not finished",
	    client != NULL ? client : "?");
	if (SSL_version(ssl) >= TLS1_3_VERSION) {
		PKID_CHECK(*outlen >= CB_EXPORTER_LEN, PKID_E_INTERNAL,
		    "tls-exporter: needs %d bytes, buffer has %zu",
		    CB_EXPORTER_LEN, *outlen);
		PKID_OSSL(SSL_export_keying_material(ssl, out,
		    CB_EXPORTER_LEN, CB_EXPORTER_LABEL,
		    sizeof(CB_EXPORTER_LABEL) - 1, NULL, 0, 0),
		    PKID_E_CRYPTO, "tls-exporter: keying material export "
		    "failed");
		*outlen = CB_EXPORTER_LEN;
		*type = "tls-exporter";
	} else {
		PKID_TRY(tls_unique(ssl, out, outlen, e));
		*type = "tls-unique";
	}
	rc = PKID_OK;
out:
	return rc;
}

void
pkid_http_tls_cb_snapshot(SSL *ssl, const char *client,
    struct pkid_http_rctx *x)
{
	x->cb_len = sizeof(x->cb);
	x->cb_type = NULL;
	pkid_err_clear(&x->cb_err);
	if (cb_compute(ssl, client, x->cb, &x->cb_len, &x->cb_type,
	    &x->cb_err) != PKID_OK)
		x->cb_len = 0;
	x->cb_ready = 1;
}

enum pkid_code
pkid_http_req_channel_binding(const struct pkid_http_req *r, uint8_t *out,
    size_t *outlen, const char **type, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	const struct pkid_http_rctx *x;
	const char *t = NULL;

	if (type != NULL)
		*type = NULL;
	PKID_CHECK(r != NULL && out != NULL && outlen != NULL,
	    PKID_E_INTERNAL, "channel binding: request and buffer required");
	x = r->rctx;
	PKID_CHECK(r->tls && x != NULL && (x->cb_ready || x->ssl != NULL),
	    PKID_E_NO_CHANNEL_BINDING, "the request came over plain HTTP "
	    "from %s; channel bindings need TLS",
	    r->client_addr != NULL ? r->client_addr : "?");
	if (!x->cb_ready) {
		PKID_TRY(cb_compute(x->ssl, r->client_addr, out, outlen, &t,
		    e));
	} else if (x->cb_err.code != PKID_OK) {
		/* Computed before the request left the loop. */
		if (e != NULL && e->code == PKID_OK)
			*e = x->cb_err;
		rc = x->cb_err.code;
		goto out;
	} else {
		PKID_CHECK(*outlen >= x->cb_len, PKID_E_INTERNAL,
		    "channel binding: needs %zu bytes, buffer has %zu",
		    x->cb_len, *outlen);
		memcpy(out, x->cb, x->cb_len);
		*outlen = x->cb_len;
		t = x->cb_type;
	}
	if (type != NULL)
		*type = t;
	rc = PKID_OK;
out:
	return rc;
}
