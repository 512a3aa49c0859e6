/*
 * client.h - the SCEP client (RFC 8894): GetCACaps, GetCACert,
 * GetNextCACert and PKIOperation (PKCSReq, RenewalReq, CertPoll).
 *
 * Two layers. The message layer (client_msg.c) is bytes in, bytes out:
 * it parses capabilities and CA certificates, builds requests with the
 * pkiMessage codec of msg.h and checks CertReps; the benchmark and unit
 * tests use it alone. The exchange layer (client.c, client_http.c)
 * talks HTTP with libevent's evhttp client, polls PENDING requests on a
 * bounded schedule and backs off with jitter on 503. Nothing here
 * prints or exits.
 */
#ifndef PKID_SCEP_CLIENT_H
#define PKID_SCEP_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/provider.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/limits.h"

/* GetCACaps keywords (RFC 8894 3.5.2), as bits. */
enum pkid_scep_cap {
	PKID_SCEP_CAP_POST = 1 << 0,		/* POSTPKIOperation */
	PKID_SCEP_CAP_RENEWAL = 1 << 1,		/* Renewal */
	PKID_SCEP_CAP_NEXTCA = 1 << 2,		/* GetNextCACert */
	PKID_SCEP_CAP_STANDARD = 1 << 3,	/* SCEPStandard */
	PKID_SCEP_CAP_AES = 1 << 4,		/* AES */
	PKID_SCEP_CAP_DES3 = 1 << 5,		/* DES3 */
	PKID_SCEP_CAP_SHA1 = 1 << 6,		/* SHA-1 */
	PKID_SCEP_CAP_SHA256 = 1 << 7,		/* SHA-256 */
	PKID_SCEP_CAP_SHA384 = 1 << 8,		/* SHA-384 (not in RFC) */
	PKID_SCEP_CAP_SHA512 = 1 << 9,		/* SHA-512 */
};

/*
 * The capability bits of a GetCACaps body (one keyword a line, matched
 * without regard to case; unknown keywords are ignored, RFC 8894
 * 3.5.2). SCEPStandard implies AES, SHA-256 and POSTPKIOperation.
 */
unsigned pkid_scep_caps_parse(const uint8_t *p, size_t len);

/* What requests are signed and encrypted with. */
struct pkid_scep_algs {
	const EVP_MD *md;		/* signature digest */
	const EVP_CIPHER *cipher;	/* pkcsPKIEnvelope encryption */
	int legacy;			/* single DES: needs OpenSSL's legacy
					 * provider */
};

/*
 * The strongest algorithms caps allow: AES-256-CBC and SHA-512, SHA-384
 * or SHA-256. Without AES or SHA-2 only compat allows DES3, SHA-1 and,
 * when not even DES3 is listed, single DES (RFC 8894 3.5.2's defaults).
 * Error: scep-no-common-alg.
 */
enum pkid_code pkid_scep_algs_pick(unsigned caps, int compat,
    struct pkid_scep_algs *a, struct pkid_err *e);

/* A GetCACert answer. ca and ra point into certs (borrowed). */
struct pkid_scep_cas {
	STACK_OF(X509) *certs;		/* every certificate (owned) */
	X509 *ca;			/* the issuing CA */
	X509 *ra;			/* encrypt to / CertRep signer: the RA
					 * when there is one, else the CA */
};

void pkid_scep_cas_init(struct pkid_scep_cas *c);
/*
 * A GetNextCACert answer (RFC 8894 4.7.1): a SignedData over a degenerate
 * certs-only PKCS#7, signed by the RA or CA certificate of cur (the
 * current GetCACert answer). out receives the next CA certificates.
 * Errors: scep-reply-invalid (not signed, or not by cur), too-large.
 */
enum pkid_code pkid_scep_next_parse(const uint8_t *p, size_t len,
    const struct pkid_scep_cas *cur, struct pkid_scep_cas *out,
    struct pkid_err *e);
void pkid_scep_cas_free(struct pkid_scep_cas *c);

/*
 * Parse a GetCACert or GetNextCACert body: one DER certificate
 * (application/x-x509-ca-cert) or a certificates-only PKCS#7 with the
 * CA, RA and chain (RFC 8894 4.2.1.2). The RA is the certificate that
 * is not a CA and may encipher keys; the CA is the RA's issuer, or
 * the CA certificate no other one names as issuer. The RA must hold an
 * RSA key (PKCS#7 key transport). Errors: cert-malformed,
 * unknown-format, scep-reply-invalid.
 */
enum pkid_code pkid_scep_cas_parse(const uint8_t *p, size_t len,
    struct pkid_scep_cas *c, struct pkid_err *e);

/* One transaction, as the client keeps it between messages. */
struct pkid_scep_txn {
	int type;			/* PKCSReq or RenewalReq */
	char tid[PKID_SCEP_MAX_TID + 1]; /* transactionID */
	uint8_t nonce[16];		/* senderNonce of the last message */
	X509 *signer;			/* signs the messages (borrowed) */
	EVP_PKEY *key;			/* its key (borrowed) */
	X509 *recipient;		/* RA the envelope is for (borrowed) */
	struct pkid_scep_algs algs;	/* digest and cipher */
};

/*
 * Start a transaction: a fresh random transactionID (RFC 8894 3.2.1.1:
 * unique per request). All pointers borrowed; they must outlive t.
 */
enum pkid_code pkid_scep_txn_init(struct pkid_scep_txn *t, int type,
    X509 *signer, EVP_PKEY *key, X509 *recipient,
    const struct pkid_scep_algs *algs, struct pkid_err *e);

/*
 * Build the next pkiMessage (DER, into out, initialised here) of t:
 * messageType type with inner (CSR DER, or IssuerAndSubject for a
 * CertPoll) enveloped to t->recipient, under a fresh senderNonce kept
 * in t->nonce for the CertRep check.
 */
enum pkid_code pkid_scep_txn_message(struct pkid_scep_txn *t, int type,
    const uint8_t *inner, size_t inner_len, struct pkid_buf *out,
    struct pkid_err *e);

/*
 * A self-signed certificate for key (RFC 8894 2.3: the signer of a
 * first request), subject name subj (borrowed), valid for one day,
 * signed with md. Caller frees *out.
 */
enum pkid_code pkid_scep_selfsigned(EVP_PKEY *key, const X509_NAME *subj,
    const EVP_MD *md, X509 **out, struct pkid_err *e);

/*
 * One complete PKCSReq pkiMessage (DER, into out, initialised here) for
 * csr, whose key is key, encrypted to ra: self-signed signer, random
 * transactionID and senderNonce, AES-256-CBC and SHA-256. Meant for
 * load generators that build requests ahead of time: every call makes
 * a new self-signed certificate (one signature with key) and one
 * envelope (one RSA encryption to ra). csr, key, ra are borrowed. When
 * signer is not NULL it receives the self-signed signer (caller frees):
 * the CertRep's envelope is for it.
 */
enum pkid_code pkid_scep_pkcsreq_build(X509_REQ *csr, EVP_PKEY *key,
    X509 *ra, struct pkid_buf *out, X509 **signer, struct pkid_err *e);

/* What a CertRep said. */
struct pkid_scep_rep {
	int status;			/* enum pkid_scep_status */
	int fail_info;			/* failInfo of FAILURE, else -1 */
	STACK_OF(X509) *certs;		/* SUCCESS: the certificates sent
					 * (owned), else NULL */
};

void pkid_scep_rep_free(struct pkid_scep_rep *r);

/*
 * Check a CertRep against the transaction t: signed by cas' RA or CA
 * (signature verified; SHA-1 only with compat), messageType CertRep,
 * the same transactionID, recipientNonce equal to t's senderNonce
 * (RFC 8894 3.2.1.5). On SUCCESS the pkcsPKIEnvelope is opened with
 * t's signer and key (AES, and with compat DES3 and single DES) and its
 * certificates go to r->certs. A FAILURE is returned as
 * PKID_OK with r->status FAILURE: see pkid_scep_fail_code().
 * Errors: scep-reply-invalid, scep-malformed, scep-bad-alg.
 */
enum pkid_code pkid_scep_rep_check(const struct pkid_scep_txn *t,
    const struct pkid_scep_cas *cas, int compat, const uint8_t *p,
    size_t len, struct pkid_scep_rep *r, struct pkid_err *e);

/* The catalogue code of a failInfo (scep-fail-bad-alg, ...). */
enum pkid_code pkid_scep_fail_code(int fail_info);

/*
 * A CSR for key: subject text (pkid_name_parse syntax), sans ("DNS:a",
 * "IP:1.2.3.4", "email:x", "URI:u"; may be NULL when nsans is 0),
 * challengePassword (NULL: none), signed with md. Caller frees *out.
 * Errors: subject-invalid, usage (a bad SAN), crypto-failed.
 */
enum pkid_code pkid_scep_csr_build(EVP_PKEY *key, const char *subject,
    const char *const *sans, size_t nsans, const char *challenge,
    const EVP_MD *md, X509_REQ **out, struct pkid_err *e);

/*
 * A renewal CSR (RFC 8894 3.3.1.2) for key: the subject and
 * subjectAltName of old, and challenge when not NULL (RFC 8894 needs
 * none; micromdm/scep checks it on renewals too). Caller frees *out.
 */
enum pkid_code pkid_scep_csr_renewal(X509 *old, EVP_PKEY *key,
    const char *challenge, const EVP_MD *md, X509_REQ **out,
    struct pkid_err *e);

/* ---- the exchange layer --------------------------------------------- */

/* Progress callback: one line of text, e.g. "PENDING, polling in 4 s". */
typedef void (*pkid_scep_progress_fn)(void *arg, const char *msg);

/*
 * How the client knows GetCACert's answer is the CA's (SCEP runs over
 * plain HTTP): one of trust, fingerprint or issued_by, else tofu.
 */
struct pkid_scep_client_cfg {
	const char *url;		/* http://host[:port]/path */
	const char *ca_name;		/* GetCACert message=, NULL none */
	STACK_OF(X509) *trust;		/* anchors (borrowed): GetCACert's
					 * CA and RA must chain to one */
	const char *fingerprint;	/* SHA-256 (hex, ':' allowed) of a
					 * certificate of GetCACert, which
					 * then is the anchor */
	X509 *issued_by;		/* renewal (borrowed): a certificate
					 * of GetCACert whose key signed it
					 * is the anchor */
	int tofu;			/* none of those: take GetCACert as
					 * it comes (--insecure-tofu) */
	int compat;			/* allow DES3, SHA-1, single DES */
	int timeout_s;			/* per HTTP exchange; 0: 30 s */
	int poll_interval_s;		/* first CertPoll pause, 0: 10 s */
	int max_wait_s;			/* PENDING budget, 0: default */
	int busy_retries;		/* 503s retried in place: 0:
					 * PKID_SCEP_503_RETRIES; < 0: none,
					 * rate-limited at once (pkictl
					 * agent schedules its own retry) */
	pkid_scep_progress_fn progress;	/* may be NULL */
	void *progress_arg;		/* its argument */
};

/* A client: configuration, what the server said, providers held. */
struct pkid_scep_client {
	struct pkid_scep_client_cfg cfg; /* copy; strings borrowed */
	unsigned caps;			/* GetCACaps bits, once fetched */
	int have_caps;			/* caps fetched */
	struct pkid_scep_cas cas;	/* GetCACert, once fetched */
	struct pkid_scep_algs algs;	/* chosen from caps */
	OSSL_PROVIDER *legacy;		/* single DES (compat) */
	OSSL_PROVIDER *deflt;		/* default, kept beside legacy */
	int trusted;			/* cas checked by
					 * pkid_scep_client_trust */
	X509_STORE *anchors;		/* what cas chains to (owned); NULL
					 * when taken on first use */
	int last_status;		/* HTTP status of the last answer,
					 * 0 when none came */
	X509 *unverified;		/* owned: the certificate a CertRep
					 * SUCCESS held for the request's key
					 * that failed its checks, or NULL */
	int last_retry_after;		/* its Retry-After, seconds; -1
					 * when absent or an HTTP-date */
};

/*
 * Make a client (caller frees with pkid_scep_client_free). With compat
 * it loads OpenSSL's legacy provider (single DES, as micromdm/scep
 * answers) next to the default one. Errors: usage (URL), crypto-failed.
 */
enum pkid_code pkid_scep_client_new(const struct pkid_scep_client_cfg *cfg,
    struct pkid_scep_client **out, struct pkid_err *e);
void pkid_scep_client_free(struct pkid_scep_client *c);

/* GetCACaps: the raw text (into raw, initialised here; may be NULL) and
 * c->caps. */
enum pkid_code pkid_scep_client_caps(struct pkid_scep_client *c,
    struct pkid_buf *raw, struct pkid_err *e);

/* GetCACert (next == 0) into c->cas, or GetNextCACert (next == 1) into
 * *out (initialised here; caller frees). Error no-next-ca on 404. */
enum pkid_code pkid_scep_client_cacert(struct pkid_scep_client *c,
    int next, struct pkid_scep_cas *out, struct pkid_err *e);

/*
 * Check c->cas (fetched first when not yet) against the configured pin:
 * the CA and the RA certificate must chain (X509_verify_cert, at
 * pkid_now(), an intermediate may be the anchor) to cfg.trust, to the
 * certificate with cfg.fingerprint, or to the one whose key signed
 * cfg.issued_by; with none of those, cfg.tofu takes them as they are.
 * Sets c->trusted. Errors: trust-not-pinned (no pin and no tofu, or
 * issued_by signed by none), fingerprint-mismatch, the verifier's codes
 * (unknown-issuer, expired...).
 */
enum pkid_code pkid_scep_client_trust(struct pkid_scep_client *c,
    struct pkid_err *e);

/*
 * Does x chain to c's anchors (GetCACert's certificates as
 * intermediates)? PKID_OK also when c was taken on first use.
 */
enum pkid_code pkid_scep_client_verify_issued(const struct pkid_scep_client *c,
    X509 *x, struct pkid_err *e);

/*
 * Enroll: PKCSReq signed by a self-signed certificate of key (old ==
 * NULL), or RenewalReq signed by old and old_key. Fetches caps and CA
 * certificates first when not done yet, and checks them
 * (pkid_scep_client_trust) before anything is sent; the certificate
 * received must chain to the same anchors; polls PENDING with CertPoll
 * (pauses doubling from poll_interval_s, at most PKID_SCEP_MAX_POLLS
 * and max_wait_s). *out gets the certificate for csr's key (caller
 * frees). Errors: scep-fail-* (FAILURE), request-pending (budget
 * spent), scep-reply-invalid, rate-limited, connect-*, http-status.
 */
enum pkid_code pkid_scep_client_enroll(struct pkid_scep_client *c,
    X509_REQ *csr, EVP_PKEY *key, X509 *old, EVP_PKEY *old_key,
    X509 **out, struct pkid_err *e);

/* ---- client_http.c ---------------------------------------------------- */

/* One HTTP answer. */
struct pkid_scep_http {
	int status;			/* HTTP status */
	int retry_after;		/* Retry-After seconds, -1 if none */
	char ctype[128];		/* Content-Type, "" if none */
	struct pkid_buf body;		/* body (owned) */
};

/*
 * One SCEP HTTP exchange: GET url?operation=op[&message=msg] (msg is
 * URL-encoded here), or POST of body when body != NULL. A 503 is
 * retried up to retries times (< 0: none; 0: PKID_SCEP_503_RETRIES)
 * after its Retry-After (when
 * absent 1, 2, 4 ... s; at most PKID_SCEP_MAX_RETRY_AFTER_S) plus up to
 * 50 % random jitter. r is initialised here; caller frees r->body.
 * Errors: usage, connect-refused, connect-timeout, too-large,
 * rate-limited.
 */
enum pkid_code pkid_scep_http_do(const char *url, const char *op,
    const char *msg, const struct pkid_buf *body, int timeout_s,
    int retries, struct pkid_scep_http *r, struct pkid_err *e);

/* Sleep ms milliseconds plus a random 0..jitter_pct % more. */
void pkid_scep_sleep_jitter(long ms, int jitter_pct);

#endif
