/*
 * client.h - pkid's EST client (RFC 7030, RFC 8951): CA certificates
 * (with bootstrap by fingerprint, RFC 7030 4.1.1), CSR attributes,
 * simpleenroll and simplereenroll with channel binding (RFC 7030 3.5),
 * 202 + Retry-After polling and 503 back-off with jitter; the returned
 * certificate is verified against the CA before it is handed back.
 *
 * The transport is http/client.h. The library never prints; progress
 * notes (waiting for approval) go through an optional callback.
 */
#ifndef PKID_EST_CLIENT_H
#define PKID_EST_CLIENT_H

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/err.h"

/* How to reach and trust the server, and who we are. */
struct pkid_est_client_opts {
	const char *server;	/* https://HOST[:PORT] (a path is kept) */
	const char *label;	/* EST label, NULL or "" for the default */
	STACK_OF(X509) *trust;	/* anchors (borrowed), or NULL with
				 * fingerprint set: bootstrap */
	const char *fingerprint; /* SHA-256 of a CA certificate in
				 * /cacerts, hex with or without ':' */
	X509 *cert;		/* TLS client certificate or NULL */
	STACK_OF(X509) *chain;	/* its intermediates or NULL */
	EVP_PKEY *cert_key;	/* its key */
	const char *user;	/* HTTP Basic user or NULL */
	const char *password;	/* its password */
	int timeout_s;		/* per request; 0: the default */
	int tls_max;		/* highest TLS version, 0: the library's */
	int max_wait_s;		/* total wait for approval (202); 0:
				 * PKID_EST_DEFAULT_MAX_WAIT_S */
	int poll_interval_s;	/* longest pause between polls; 0: the
				 * server's Retry-After (bounded) */
	int busy_retries;	/* 503 answers retried in place: 0:
				 * PKID_EST_503_RETRIES; < 0: none, the
				 * 503 is returned at once (rate-limited)
				 * for the caller to schedule the retry
				 * (pkictl agent; see _last()) */
	void (*note)(void *arg, const char *msg); /* progress, or NULL */
	void *note_arg;		/* its argument */
};

/* What to ask for. */
struct pkid_est_csr_spec {
	X509_NAME *subject;	/* borrowed; NULL: empty subject */
	GENERAL_NAMES *sans;	/* borrowed; NULL or empty: none */
};

struct pkid_est_client;

/*
 * Connect-free setup; with a fingerprint and no trust, fetch /cacerts
 * unverified, pick the CA certificate with that fingerprint as the
 * anchor and check the server's TLS chain against it afterwards.
 * Errors: usage, fingerprint-mismatch, the transport's codes.
 */
struct pkid_est_client *pkid_est_client_new(
    const struct pkid_est_client_opts *o, struct pkid_err *e);
void pkid_est_client_free(struct pkid_est_client *c);

/*
 * The HTTP status of the last answer (0 when none came) and its
 * Retry-After in seconds (-1 when absent or an HTTP-date, RFC 9110
 * 10.2.3), for callers that schedule their own retries.
 */
void pkid_est_client_last(const struct pkid_est_client *c, int *status,
    int *retry_after_s);

/*
 * The certificate the server issued for the last enroll when it was not
 * accepted after all (it did not verify to the anchors, or /cacerts could
 * not be read): borrowed, valid until _free; NULL when none. *cas is the
 * server's /cacerts as read (borrowed; NULL when not read).
 */
X509 *pkid_est_client_unverified(const struct pkid_est_client *c,
    STACK_OF(X509) **cas);

/* The CA certificates (/cacerts); borrowed, valid until _free. */
enum pkid_code pkid_est_client_cacerts(struct pkid_est_client *c,
    STACK_OF(X509) **out, struct pkid_err *e);

/*
 * simpleenroll (reenroll 0) or simplereenroll (1) for key with spec.
 * The CSR carries the channel binding when the server's csrattrs lists
 * challengePassword. *out (the caller's) is the new certificate,
 * verified to the anchors and holding key's public key. Errors: the
 * server's own code when its error body names one, auth-failed (401),
 * forbidden (403), request-pending (still 202 after max_wait_s),
 * http-status, the transport's and the verifier's codes.
 */
enum pkid_code pkid_est_client_enroll(struct pkid_est_client *c,
    int reenroll, EVP_PKEY *key, const struct pkid_est_csr_spec *spec,
    X509 **out, struct pkid_err *e);

/*
 * The certificates of a certs-only PKCS#7 body in base64 (RFC 8951 3),
 * appended to *out (created when NULL). Errors: base64-bad and the
 * loaders' (unknown-format, trailing-data, too-large).
 */
enum pkid_code pkid_est_certs_parse(const uint8_t *body, size_t len,
    STACK_OF(X509) **out, struct pkid_err *e);

/*
 * 1 when a base64 CsrAttrs body (RFC 7030 4.5.2) lists challengePassword
 * (as OID or attribute), 0 when not; -1 when it cannot be read.
 */
int pkid_est_csrattrs_wants_cb(const uint8_t *body, size_t len);

/*
 * A PKCS#10 request for key with spec, and challengePassword when cb is
 * not NULL (base64 of the binding, RFC 7030 3.5). *out is the caller's.
 */
enum pkid_code pkid_est_csr_build(EVP_PKEY *key,
    const struct pkid_est_csr_spec *spec, const uint8_t *cb, size_t cblen,
    X509_REQ **out, struct pkid_err *e);

#endif
