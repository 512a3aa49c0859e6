/*
 * tls.c - step 3 of the walk: TLS handshakes as an OpenSSL client with
 * SNI, SSL_VERIFY_NONE (the chain is judged by pkid's verifier, not here)
 * and optionally restricted signature algorithms; a failed handshake is
 * explained by the alert and, for version and cipher problems, by a
 * second "relaxed" probe that shows what the server does speak.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "core/clock.h"
#include "diag/diag_int.h"

/* SSL_connect rounds before giving up (each waits on the socket). */
#define MAX_ROUNDS 256

/* TLS alert numbers (RFC 8446 6.2) the classification looks at. */
#define ALERT_HANDSHAKE_FAILURE 40
#define ALERT_PROTOCOL_VERSION 70
#define ALERT_INSUFFICIENT_SECURITY 71

static const char *
sigalgs_for(enum pkid_diag_offer o)
{
	switch (o) {
	case PKID_DIAG_OFFER_ECDSA:
		return "ECDSA+SHA256:ECDSA+SHA384:ECDSA+SHA512";
	case PKID_DIAG_OFFER_RSA:
		return "RSA-PSS+SHA256:RSA-PSS+SHA384:RSA-PSS+SHA512:"
		    "rsa_pss_pss_sha256:rsa_pss_pss_sha384:rsa_pss_pss_sha512:"
		    "RSA+SHA256:RSA+SHA384:RSA+SHA512";
	case PKID_DIAG_OFFER_DEFAULT:
	default:
		return NULL;
	}
}

static void
info_cb(const SSL *s, int where, int ret)
{
	struct hs_out *h = SSL_get_app_data(s);

	if (h == NULL || !(where & SSL_CB_ALERT))
		return;
	if (where & SSL_CB_READ)
		h->alert_in = ret & 0xff;
	else
		h->alert_out = ret & 0xff;
}

void
dtls_hs_clear(struct hs_out *h)
{
	sk_X509_pop_free(h->chain, X509_free);
	memset(h, 0, sizeof(*h));
	h->alert_in = h->alert_out = -1;
}

static SSL_CTX *
make_ctx(int relaxed)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (ctx == NULL)
		return NULL;
	/* The chain is inspected and validated by pkid afterwards. */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_info_callback(ctx, info_cb);
	if (relaxed) {
		SSL_CTX_set_security_level(ctx, 0);
		SSL_CTX_set_min_proto_version(ctx, TLS1_VERSION);
		SSL_CTX_set_options(ctx, SSL_OP_LEGACY_SERVER_CONNECT);
		if (SSL_CTX_set_cipher_list(ctx,
		    "ALL:COMPLEMENTOFALL:@SECLEVEL=0") != 1) {
			SSL_CTX_free(ctx);
			return NULL;
		}
	}
	return ctx;
}

/* Drive SSL_connect until done, failed, or the deadline. */
static void
drive(SSL *ssl, int fd, uint64_t deadline, struct hs_out *h)
{
	int rounds, rv, err, w;

	for (rounds = 0; rounds < MAX_ROUNDS; rounds++) {
		ERR_clear_error();
		errno = 0;
		if ((rv = SSL_connect(ssl)) == 1) {
			h->ok = 1;
			return;
		}
		err = SSL_get_error(ssl, rv);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			w = dnet_wait(fd, err == SSL_ERROR_WANT_WRITE,
			    deadline);
			if (w == 0)
				h->timed_out = 1;
			if (w <= 0)
				return;
			continue;
		}
		h->reason = ERR_peek_error();
		if (err == SSL_ERROR_SYSCALL || err == SSL_ERROR_ZERO_RETURN)
			snprintf(h->sys, sizeof(h->sys), "%s", errno != 0 ?
			    strerror(errno) : "the server closed the "
			    "connection");
		return;
	}
	h->timed_out = 1;
}

static void
harvest(SSL *ssl, struct hs_out *h)
{
	STACK_OF(X509) *sk;

	h->version = SSL_version(ssl);
	snprintf(h->version_text, sizeof(h->version_text), "%s",
	    SSL_get_version(ssl));
	if (!h->ok)
		return;
	snprintf(h->cipher, sizeof(h->cipher), "%s",
	    SSL_get_cipher_name(ssl));
	/* Client side: the peer's chain, leaf included (borrowed). */
	sk = SSL_get_peer_cert_chain(ssl);
	if (sk != NULL && sk_X509_num(sk) > 0)
		h->chain = X509_chain_up_ref(sk);
}

void
dtls_handshake(struct dctx *d, enum pkid_diag_offer offer, int relaxed,
    struct hs_out *h)
{
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	const char *sa = sigalgs_for(offer);
	int fd = -1;

	memset(h, 0, sizeof(*h));
	h->alert_in = h->alert_out = -1;
	if ((ctx = make_ctx(relaxed)) == NULL || (ssl = SSL_new(ctx)) ==
	    NULL) {
		snprintf(h->sys, sizeof(h->sys), "cannot set up OpenSSL");
		goto out;
	}
	SSL_set_app_data(ssl, h);
	/* RFC 6066 3: SNI carries host names only, never IP literals. */
	if (!d->r->name_is_ip &&
	    SSL_set_tlsext_host_name(ssl, d->r->name) != 1) {
		snprintf(h->sys, sizeof(h->sys), "the name '%.60s' cannot be "
		    "sent as SNI", d->r->name);
		goto out;
	}
	if (sa != NULL && SSL_set1_sigalgs_list(ssl, sa) != 1) {
		snprintf(h->sys, sizeof(h->sys), "cannot restrict signature "
		    "algorithms to %s", sa);
		goto out;
	}
	if ((fd = dnet_connect_fd(d, h->sys, sizeof(h->sys))) < 0)
		goto out;
	if (SSL_set_fd(ssl, fd) != 1)
		goto out;
	drive(ssl, fd, pkid_mono_ms() + (uint64_t)d->timeout_ms, h);
	harvest(ssl, h);
	if (h->ok)
		SSL_shutdown(ssl);
out:
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (fd >= 0)
		close(fd);
	ERR_clear_error();
}

static int
reason_in(unsigned long e, const int *set, size_t n)
{
	size_t i;

	if (e == 0 || ERR_GET_LIB(e) != ERR_LIB_SSL)
		return 0;
	for (i = 0; i < n; i++)
		if (ERR_GET_REASON(e) == set[i])
			return 1;
	return 0;
}

static int
is_version_problem(const struct hs_out *h)
{
	static const int r[] = { SSL_R_UNSUPPORTED_PROTOCOL,
	    SSL_R_NO_PROTOCOLS_AVAILABLE, SSL_R_TLSV1_ALERT_PROTOCOL_VERSION,
	    SSL_R_VERSION_TOO_LOW, SSL_R_VERSION_TOO_HIGH };

	return h->alert_in == ALERT_PROTOCOL_VERSION ||
	    h->alert_out == ALERT_PROTOCOL_VERSION ||
	    reason_in(h->reason, r, sizeof(r) / sizeof(r[0])) ||
	    (h->version > 0 && h->version < TLS1_2_VERSION);
}

static int
is_cipher_problem(const struct hs_out *h)
{
	static const int r[] = { SSL_R_NO_SHARED_CIPHER,
	    SSL_R_NO_CIPHERS_AVAILABLE, SSL_R_SSLV3_ALERT_HANDSHAKE_FAILURE,
	    SSL_R_TLSV1_ALERT_INSUFFICIENT_SECURITY };

	return h->alert_in == ALERT_HANDSHAKE_FAILURE ||
	    h->alert_in == ALERT_INSUFFICIENT_SECURITY ||
	    reason_in(h->reason, r, sizeof(r) / sizeof(r[0]));
}

static int
is_not_tls(const struct hs_out *h)
{
	static const int r[] = { SSL_R_WRONG_VERSION_NUMBER,
	    SSL_R_PACKET_LENGTH_TOO_LONG, SSL_R_RECORD_LENGTH_MISMATCH };

	return h->alert_in < 0 && reason_in(h->reason, r,
	    sizeof(r) / sizeof(r[0]));
}

/* "the server sent the alert 'handshake failure' (40)" and friends. */
static void
what_happened(const struct hs_out *h, char *out, size_t n)
{
	char rs[128];

	rs[0] = '\0';
	if (h->reason != 0)
		snprintf(rs, sizeof(rs), "; OpenSSL: %s",
		    ERR_reason_error_string(h->reason) != NULL ?
		    ERR_reason_error_string(h->reason) : "unknown reason");
	if (h->alert_in >= 0)
		snprintf(out, n, "the server sent the alert '%s' (%d)%s",
		    SSL_alert_desc_string_long(h->alert_in), h->alert_in, rs);
	else if (h->alert_out >= 0)
		snprintf(out, n, "this client sent the alert '%s' (%d)%s",
		    SSL_alert_desc_string_long(h->alert_out), h->alert_out,
		    rs);
	else if (h->sys[0] != '\0')
		snprintf(out, n, "%s%s", h->sys, rs);
	else
		snprintf(out, n, "the handshake failed%s", rs);
}

/* Version or cipher problem: ask again with everything allowed. */
static void
explain_by_probe(struct dctx *d, const struct hs_out *h, const char *what)
{
	struct hs_out g;
	const char *a = d->r->addr;

	dtls_handshake(d, PKID_DIAG_OFFER_DEFAULT, 1, &g);
	if (g.ok && g.version < TLS1_2_VERSION)
		dfind(d, PKID_E_TLS_VERSION, PKID_DIAG_TLS, -1, NULL, NULL,
		    "%s speaks only %s (a probe allowing every version "
		    "negotiated %s with %s); this client requires TLS 1.2 or "
		    "later (%s)", a, g.version_text, g.version_text, g.cipher,
		    what);
	else if (g.ok)
		dfind(d, PKID_E_NO_SHARED_CIPHER, PKID_DIAG_TLS, -1, NULL,
		    NULL, "%s accepts only cipher suites this client does not "
		    "offer by default: a probe offering every suite "
		    "negotiated %s over %s (%s)", a, g.cipher, g.version_text,
		    what);
	else if (is_version_problem(h))
		dfind(d, PKID_E_TLS_VERSION, PKID_DIAG_TLS, -1, NULL, NULL,
		    "%s refused every TLS version this client offers, even "
		    "TLS 1.0 to 1.3 at security level 0 (%s)", a, what);
	else
		dfind(d, PKID_E_TLS_HANDSHAKE, PKID_DIAG_TLS, -1, NULL,
		    "check the server's cipher and client-certificate "
		    "settings; a handshake failure alert also means 'a "
		    "client certificate is required' on TLS 1.2 servers",
		    "handshake with %s failed even offering every version "
		    "and suite: %s", a, what);
	dtls_hs_clear(&g);
}

static void
classify(struct dctx *d, const struct hs_out *h)
{
	char what[320];
	const char *a = d->r->addr;

	what_happened(h, what, sizeof(what));
	dstep(d, PKID_DIAG_TLS, 0, "handshake with %s (SNI %s) failed: %s", a,
	    d->r->name_is_ip ? "none" : d->r->name, what);
	if (h->timed_out) {
		dfind(d, PKID_E_CONNECT_TIMEOUT, PKID_DIAG_TLS, -1, NULL,
		    "check that this port serves TLS (not plain HTTP or "
		    "another protocol) and that the server is not overloaded",
		    "%s accepted the TCP connection but gave no TLS answer "
		    "within %d s", a, d->timeout_ms / 1000);
		return;
	}
	if (is_not_tls(h)) {
		dfind(d, PKID_E_TLS_HANDSHAKE, PKID_DIAG_TLS, -1, NULL,
		    "use the TLS port of the server (https), or enable TLS "
		    "on this port", "%s does not answer with TLS (%s): "
		    "probably plain HTTP or another protocol on this port", a,
		    what);
		return;
	}
	if (is_version_problem(h) || is_cipher_problem(h)) {
		explain_by_probe(d, h, what);
		return;
	}
	dfind(d, PKID_E_TLS_HANDSHAKE, PKID_DIAG_TLS, -1, NULL, NULL,
	    "handshake with %s (SNI %s) failed: %s", a, d->r->name_is_ip ?
	    "none" : d->r->name, what);
}

int
dtls_step(struct dctx *d)
{
	struct pkid_diag_chain *c = &d->r->chains[PKID_DIAG_OFFER_DEFAULT];
	struct hs_out h;

	dtls_handshake(d, PKID_DIAG_OFFER_DEFAULT, 0, &h);
	c->tried = 1;
	if (!h.ok || h.chain == NULL) {
		if (h.ok)
			snprintf(h.sys, sizeof(h.sys), "the server sent no "
			    "certificate");
		h.ok = 0;
		classify(d, &h);
		what_happened(&h, c->failure, sizeof(c->failure));
		dtls_hs_clear(&h);
		return 0;
	}
	c->present = 1;
	snprintf(c->version, sizeof(c->version), "%s", h.version_text);
	snprintf(c->cipher, sizeof(c->cipher), "%s", h.cipher);
	dstep(d, PKID_DIAG_TLS, 1, "%s %s with %s, SNI %s", h.version_text,
	    h.cipher, d->r->addr, d->r->name_is_ip ? "none (IP literal)" :
	    d->r->name);
	d->presented[PKID_DIAG_OFFER_DEFAULT] = h.chain;
	h.chain = NULL;
	dtls_hs_clear(&h);
	return 1;
}
