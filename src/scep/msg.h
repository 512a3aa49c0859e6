/*
 * msg.h - SCEP pkiMessages (RFC 8894 3): parse and verify a signed
 * pkiMessage, open its pkcsPKIEnvelope, build pkiMessages and degenerate
 * certificates-only SignedData. Bytes in, struct out: no network, no
 * store, so the fuzzer and unit tests drive it alone.
 */
#ifndef PKID_SCEP_MSG_H
#define PKID_SCEP_MSG_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/limits.h"

/* messageType values (RFC 8894 3.2.1.2). */
enum pkid_scep_type {
	PKID_SCEP_CERTREP = 3,
	PKID_SCEP_RENEWALREQ = 17,
	PKID_SCEP_PKCSREQ = 19,
	PKID_SCEP_CERTPOLL = 20,
	PKID_SCEP_GETCERT = 21,
	PKID_SCEP_GETCRL = 22,
};

/* pkiStatus values (RFC 8894 3.2.1.3). */
enum pkid_scep_status {
	PKID_SCEP_SUCCESS = 0,
	PKID_SCEP_FAILURE = 2,
	PKID_SCEP_PENDING = 3,
};

/* failInfo values (RFC 8894 3.2.1.4); NONE when not failed. */
enum pkid_scep_fail {
	PKID_SCEP_FAIL_NONE = -1,
	PKID_SCEP_BADALG = 0,
	PKID_SCEP_BADMESSAGECHECK = 1,
	PKID_SCEP_BADREQUEST = 2,
	PKID_SCEP_BADTIME = 3,
	PKID_SCEP_BADCERTID = 4,
};

/* A parsed pkiMessage. */
struct pkid_scep_msg {
	int type;			/* messageType, 0 when absent */
	char tid[PKID_SCEP_MAX_TID + 1]; /* transactionID, "" if absent */
	uint8_t snonce[PKID_SCEP_MAX_NONCE]; /* senderNonce */
	size_t snonce_len;		/* its length, 0 when absent */
	uint8_t rnonce[PKID_SCEP_MAX_NONCE]; /* recipientNonce (CertRep) */
	size_t rnonce_len;		/* its length, 0 when absent */
	int status;			/* pkiStatus (CertRep), -1 if absent */
	int fail_info;			/* failInfo (CertRep), -1 if absent */
	int md_nid;			/* digest of the signature */
	int64_t signing_time;		/* signingTime, 0 when absent */
	X509 *signer;			/* signer's certificate (owned) */
	struct pkid_buf content;	/* signed content: the envelope DER */
	int can_reply;			/* signer, transactionID and nonce
					 * known: a CertRep can answer */
	enum pkid_scep_fail fail;	/* failInfo a failed parse earns */
};

void pkid_scep_msg_init(struct pkid_scep_msg *m);
void pkid_scep_msg_free(struct pkid_scep_msg *m);

/*
 * Parse and verify a DER pkiMessage. The signature is checked with the
 * signer certificate the message carries (RFC 8894 3.2.2: self-signed or
 * an earlier certificate; its trust is the caller's business). Digests
 * SHA-256/384/512 always, SHA-1 only with compat. On failure m->fail is
 * the failInfo and m->can_reply says whether a CertRep can carry it.
 * Errors: scep-malformed, trailing-data, scep-bad-signature, scep-bad-alg.
 */
enum pkid_code pkid_scep_msg_parse(const uint8_t *p, size_t len, int compat,
    struct pkid_scep_msg *m, struct pkid_err *e);

/*
 * Open a pkcsPKIEnvelope (EnvelopedData DER) with cert/key into out
 * (initialised here; caller frees). *cipher_nid gets the content
 * encryption algorithm: AES-128/192/256-CBC always, DES-EDE3-CBC only
 * with compat, single DES-CBC only with compat 2 (the client reading an
 * old server's CertRep; needs OpenSSL's legacy provider loaded). *fail
 * gets the failInfo on error. Errors: scep-malformed,
 * scep-bad-alg, scep-wrong-recipient.
 */
enum pkid_code pkid_scep_envelope_open(const uint8_t *p, size_t len,
    X509 *cert, EVP_PKEY *key, int compat, struct pkid_buf *out,
    int *cipher_nid, enum pkid_scep_fail *fail, struct pkid_err *e);

/* What a pkiMessage to build holds. All pointers borrowed. */
struct pkid_scep_out {
	int type;			/* messageType */
	const char *tid;		/* transactionID */
	const uint8_t *snonce;		/* senderNonce */
	size_t snonce_len;		/* its length */
	const uint8_t *rnonce;		/* recipientNonce, NULL for none */
	size_t rnonce_len;		/* its length */
	int status;			/* pkiStatus (CertRep), else -1 */
	int fail_info;			/* failInfo (FAILURE), else -1 */
	X509 *signer;			/* signer certificate */
	EVP_PKEY *key;			/* its key */
	const EVP_MD *md;		/* signature digest */
	const uint8_t *inner;		/* envelope plaintext, NULL: none */
	size_t inner_len;		/* its length */
	X509 *recipient;		/* who the envelope is for */
	const EVP_CIPHER *cipher;	/* content encryption */
};

/* Build a signed pkiMessage (DER) into out (initialised here). */
enum pkid_code pkid_scep_msg_build(const struct pkid_scep_out *o,
    struct pkid_buf *out, struct pkid_err *e);

/*
 * A degenerate certificates-only SignedData (RFC 8894 3.4) holding certs
 * (may be NULL) and crl (may be NULL), DER into out (initialised here).
 */
enum pkid_code pkid_scep_certs_only(STACK_OF(X509) *certs, X509_CRL *crl,
    struct pkid_buf *out, struct pkid_err *e);

/*
 * The issuer and serial of a GetCert/GetCRL (IssuerAndSerialNumber) or
 * issuer and subject of a CertPoll (IssuerAndSubject, RFC 8894 3.3.3).
 * Names are copied into *issuer (and *subject or *serial); caller frees.
 */
enum pkid_code pkid_scep_ias_parse(const uint8_t *p, size_t len,
    X509_NAME **issuer, ASN1_INTEGER **serial, struct pkid_err *e);
enum pkid_code pkid_scep_iasubj_parse(const uint8_t *p, size_t len,
    X509_NAME **issuer, X509_NAME **subject, struct pkid_err *e);
/* Encode IssuerAndSubject (for clients and tests), into out. */
enum pkid_code pkid_scep_iasubj_encode(const X509_NAME *issuer,
    const X509_NAME *subject, struct pkid_buf *out, struct pkid_err *e);

/* "PKCSReq", "CertRep", ... or "unknown"; static text. */
const char *pkid_scep_type_name(int type);
/* "badAlg", ... or "none"; static text. */
const char *pkid_scep_fail_name(int fail);

#endif
