/*
 * client.h - pkid's HTTPS client (the EST client and the RA's upstream
 * calls): libevent's evhttp over bufferevent_openssl, so requests and
 * responses are written and parsed by libevent, never by hand.
 *
 * The server's certificate is judged by pkid's verifier (verify/), and
 * every failure is classified by the phase it happened in (DNS, TCP
 * connect, TLS, response) into the catalogue codes pkictl diagnose uses:
 * dns-failure, connect-refused, connect-timeout, tls-handshake, and the
 * verifier's codes (unknown-issuer, name-mismatch, not-yet-valid, ...).
 *
 * A session keeps its connection between requests (HTTP/1.1 keep-alive),
 * so a channel binding read after one request holds for the next.
 * Requests block the calling thread for at most the session's timeout.
 */
#ifndef PKID_HTTP_CLIENT_H
#define PKID_HTTP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"
#include "http/http.h"

/* Where a request failed. */
enum pkid_https_phase {
	PKID_HTTPS_OK = 0,	/* it did not */
	PKID_HTTPS_DNS,		/* resolving the host name */
	PKID_HTTPS_CONNECT,	/* the TCP connection */
	PKID_HTTPS_TLS,		/* the handshake, the server's cert */
	PKID_HTTPS_RESPONSE,	/* sending the request, reading the reply */
};

/* What a session is for; everything is borrowed for the session's life. */
struct pkid_https_opts {
	const char *url;	/* https://HOST[:PORT][/PATH], the base URL */
	STACK_OF(X509) *trust;	/* anchors for the server's certificate;
				 * NULL: not verified (EST bootstrap,
				 * RFC 7030 4.1.1: check it afterwards) */
	X509 *cert;		/* TLS client certificate, or NULL */
	STACK_OF(X509) *chain;	/* its intermediates, or NULL */
	EVP_PKEY *key;		/* the client certificate's key */
	const char *user;	/* HTTP Basic user (RFC 7617), or NULL */
	const char *password;	/* its password */
	int timeout_s;		/* budget of one request, connect to last
				 * byte; 0: PKID_EST_CLIENT_TIMEOUT_S */
	size_t max_body;	/* largest response body; 0: the default
				 * PKID_EST_CLIENT_MAX_RESPONSE */
	int tls_max;		/* highest TLS version (TLS1_2_VERSION ..),
				 * 0: the library's */
};

/* One response. */
struct pkid_https_resp {
	int status;			/* HTTP status */
	char content_type[128];		/* Content-Type, "" when none */
	char retry_after[32];		/* Retry-After, "" when none */
	char location[1024];		/* Location (a redirect), "" when
					 * none or longer */
	struct pkid_buf body;		/* the body (owned) */
};

struct pkid_https;

/*
 * A session for o (copied, but the certificates and key stay borrowed).
 * Nothing is sent yet. NULL with e set: usage (not an https URL),
 * crypto-failed, out-of-memory.
 */
struct pkid_https *pkid_https_new(const struct pkid_https_opts *o,
    struct pkid_err *e);
void pkid_https_free(struct pkid_https *h);

/*
 * Send method path (appended to the base URL's path) with body of type
 * ctype (NULL: none) and wait for the answer, within the timeout. Any
 * HTTP status is success: r (initialised here, the caller frees its body)
 * holds it. Failures are classified: dns-failure, connect-refused,
 * connect-timeout (the message says which phase), tls-handshake, the
 * verifier's codes for the server's certificate, too-large,
 * http-malformed; pkid_https_phase() tells the phase.
 */
enum pkid_code pkid_https_request(struct pkid_https *h,
    enum pkid_http_method method, const char *path, const char *ctype,
    const uint8_t *body, size_t len, struct pkid_https_resp *r,
    struct pkid_err *e);
void pkid_https_resp_free(struct pkid_https_resp *r);

/* The phase the last request failed in, PKID_HTTPS_OK when it did not. */
enum pkid_https_phase pkid_https_phase(const struct pkid_https *h);
/* "dns", "connect", "TLS", "response". */
const char *pkid_https_phase_name(enum pkid_https_phase p);

/*
 * The server's chain as presented on the last connection, leaf first
 * (borrowed, NULL before any handshake): what bootstrap checks.
 */
STACK_OF(X509) *pkid_https_peer_chain(const struct pkid_https *h);

/*
 * The channel binding of the open connection (RFC 7030 3.5): tls-exporter
 * (RFC 9266) on TLS 1.3, tls-unique (RFC 5929) on TLS 1.2, as the server
 * computes it. *len is the size of out on entry. Errors:
 * no-channel-binding when no connection is open.
 */
enum pkid_code pkid_https_channel_binding(struct pkid_https *h,
    uint8_t *out, size_t *len, const char **type, struct pkid_err *e);

/* The host and port of the base URL ("host:port"), for messages. */
const char *pkid_https_target(const struct pkid_https *h);

#endif
