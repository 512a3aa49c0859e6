/*
 * client_msg.c - the SCEP client's messages (RFC 8894 3, 4): caps,
 * CA certificates, requests and the CertRep check, over the pkiMessage
 * codec of msg.c. Bytes in, bytes out.
 */
#include "scep/client.h"

#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "scep/msg.h"
#include "x509/load.h"

/* GetCACaps keywords, RFC 8894 3.5.2 (SHA-384 is a common extension). */
static const struct {
	const char *word;	/* the keyword */
	unsigned bit;		/* its bit */
} cap_words[] = {
	{ "POSTPKIOperation", PKID_SCEP_CAP_POST },
	{ "Renewal", PKID_SCEP_CAP_RENEWAL },
	{ "GetNextCACert", PKID_SCEP_CAP_NEXTCA },
	{ "SCEPStandard", PKID_SCEP_CAP_STANDARD },
	{ "AES", PKID_SCEP_CAP_AES },
	{ "DES3", PKID_SCEP_CAP_DES3 },
	{ "SHA-1", PKID_SCEP_CAP_SHA1 },
	{ "SHA-256", PKID_SCEP_CAP_SHA256 },
	{ "SHA-384", PKID_SCEP_CAP_SHA384 },
	{ "SHA-512", PKID_SCEP_CAP_SHA512 },
};

unsigned
pkid_scep_caps_parse(const uint8_t *p, size_t len)
{
	struct pkid_cbs c;
	char word[64];
	size_t n = 0, i;
	uint8_t ch;
	unsigned caps = 0;
	int more;

	pkid_cbs_init(&c, p, len);
	do {
		more = pkid_cbs_get_u8(&c, &ch);
		if (more && ch != '\n' && ch != '\r') {
			if (n < sizeof(word) - 1 && ch != ' ' && ch != '\t')
				word[n++] = (char)ch;
			continue;
		}
		word[n] = '\0';
		for (i = 0; i < sizeof(cap_words) / sizeof(cap_words[0]); i++)
			if (strcasecmp(word, cap_words[i].word) == 0)
				caps |= cap_words[i].bit;
		n = 0;
	} while (more);
	/* RFC 8894 3.5.2: SCEPStandard means AES, SHA-256 and POST. */
	if (caps & PKID_SCEP_CAP_STANDARD)
		caps |= PKID_SCEP_CAP_AES | PKID_SCEP_CAP_SHA256 |
		    PKID_SCEP_CAP_POST;
	return caps;
}

enum pkid_code
pkid_scep_algs_pick(unsigned caps, int compat, struct pkid_scep_algs *a,
    struct pkid_err *e)
{
	memset(a, 0, sizeof(*a));
	if (caps & PKID_SCEP_CAP_SHA512)
		a->md = EVP_sha512();
	else if (caps & PKID_SCEP_CAP_SHA384)
		a->md = EVP_sha384();
	else if (caps & PKID_SCEP_CAP_SHA256)
		a->md = EVP_sha256();
	else if (compat)
		a->md = EVP_sha1();	/* RFC 8894 3.5.2: MD5 or SHA-1 */
	if (caps & PKID_SCEP_CAP_AES)
		a->cipher = EVP_aes_256_cbc();
	else if (compat && (caps & PKID_SCEP_CAP_DES3))
		a->cipher = EVP_des_ede3_cbc();
	else if (compat) {
		a->cipher = EVP_des_cbc();	/* the historical default */
		a->legacy = 1;
	}
	if (a->md != NULL && a->cipher != NULL)
		return PKID_OK;
	return PKID_ERR(e, PKID_E_SCEP_NO_COMMON_ALG, "GetCACaps lists %s%s%s"
	    "; without --compat pkictl sends only AES and SHA-256/384/512 "
	    "(RFC 8894 3.5.2)", a->cipher == NULL ? "no AES" : "",
	    a->cipher == NULL && a->md == NULL ? " and " : "",
	    a->md == NULL ? "no SHA-256/384/512" : "");
}

void
pkid_scep_cas_init(struct pkid_scep_cas *c)
{
	memset(c, 0, sizeof(*c));
}

void
pkid_scep_cas_free(struct pkid_scep_cas *c)
{
	if (c == NULL)
		return;
	sk_X509_pop_free(c->certs, X509_free);
	memset(c, 0, sizeof(*c));
}

static int
is_ca(X509 *x)
{
	return X509_check_ca(x) != 0;
}

/* The RA: not a CA, allowed to encipher keys (RFC 8894 2.2). */
static X509 *
find_ra(STACK_OF(X509) *certs)
{
	X509 *x;
	int i;

	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (!is_ca(x) && (!(X509_get_extension_flags(x) & EXFLAG_KUSAGE)
		    || (X509_get_key_usage(x) & KU_KEY_ENCIPHERMENT)))
			return x;
	}
	return NULL;
}

/* The issuing CA: the RA's issuer, else a CA that issued no other CA
 * of the set (the lowest one). */
static X509 *
find_ca(STACK_OF(X509) *certs, X509 *ra)
{
	X509 *x, *y;
	int i, j, issued;

	for (i = 0; i < sk_X509_num(certs); i++) {
		x = sk_X509_value(certs, i);
		if (!is_ca(x))
			continue;
		if (ra != NULL) {
			if (X509_check_issued(x, ra) == X509_V_OK)
				return x;
			continue;
		}
		for (issued = 0, j = 0; j < sk_X509_num(certs); j++) {
			y = sk_X509_value(certs, j);
			if (y != x && is_ca(y) &&
			    X509_check_issued(x, y) == X509_V_OK)
				issued = 1;
		}
		if (!issued)
			return x;
	}
	return NULL;
}

enum pkid_code
pkid_scep_cas_parse(const uint8_t *p, size_t len, struct pkid_scep_cas *c,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_scep_cas_free(c);
	PKID_TRY(pkid_x509_load_certs(p, len, &c->certs, e));
	if (sk_X509_num(c->certs) == 1) {
		/* RFC 8894 4.2.1.1: one CA certificate, which is also the
		 * recipient and the CertRep signer. */
		c->ca = c->ra = sk_X509_value(c->certs, 0);
	} else {
		c->ra = find_ra(c->certs);
		c->ca = find_ca(c->certs, c->ra);
		PKID_CHECK(c->ca != NULL, PKID_E_SCEP_REPLY_INVALID,
		    "RFC 8894 4.2.1.2: none of the %d certificates is the "
		    "issuing CA%s", sk_X509_num(c->certs), c->ra != NULL ?
		    " of the RA certificate" : "");
		if (c->ra == NULL)
			c->ra = c->ca;
	}
	PKID_CHECK(EVP_PKEY_get_base_id(X509_get0_pubkey(c->ra)) ==
	    EVP_PKEY_RSA, PKID_E_SCEP_REPLY_INVALID, "RFC 8894 2.2: the "
	    "certificate to encrypt to has no RSA key (PKCS#7 key transport "
	    "needs one)");
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		pkid_scep_cas_free(c);
	return rc;
}

enum pkid_code
pkid_scep_txn_init(struct pkid_scep_txn *t, int type, X509 *signer,
    EVP_PKEY *key, X509 *recipient, const struct pkid_scep_algs *algs,
    struct pkid_err *e)
{
	uint8_t rnd[16];

	memset(t, 0, sizeof(*t));
	if (RAND_bytes(rnd, sizeof(rnd)) != 1)
		return PKID_ERR(e, PKID_E_CRYPTO, "no random bytes");
	/* Hex: PrintableString-safe (RFC 8894 3.2.1.1). */
	pkid_hex(rnd, sizeof(rnd), t->tid);
	t->type = type;
	t->signer = signer;
	t->key = key;
	t->recipient = recipient;
	t->algs = *algs;
	return PKID_OK;
}

enum pkid_code
pkid_scep_txn_message(struct pkid_scep_txn *t, int type,
    const uint8_t *inner, size_t inner_len, struct pkid_buf *out,
    struct pkid_err *e)
{
	struct pkid_scep_out o;

	pkid_buf_init(out, 1);
	if (RAND_bytes(t->nonce, sizeof(t->nonce)) != 1)
		return PKID_ERR(e, PKID_E_CRYPTO, "no random bytes");
	memset(&o, 0, sizeof(o));
	o.type = type;
	o.tid = t->tid;
	o.snonce = t->nonce;
	o.snonce_len = sizeof(t->nonce);
	o.status = -1;
	o.fail_info = -1;
	o.signer = t->signer;
	o.key = t->key;
	o.md = t->algs.md;
	o.inner = inner;
	o.inner_len = inner_len;
	o.recipient = t->recipient;
	o.cipher = t->algs.cipher;
	return pkid_scep_msg_build(&o, out, e);
}

enum pkid_code
pkid_scep_selfsigned(EVP_PKEY *key, const X509_NAME *subj, const EVP_MD *md,
    X509 **out, struct pkid_err *e)
{
	X509 *x = X509_new();
	uint8_t serial[8];
	BIGNUM *bn = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_OSSL_PTR(x, PKID_E_NOMEM, "no memory");
	PKID_OSSL(RAND_bytes(serial, sizeof(serial)), PKID_E_CRYPTO, "RAND");
	serial[0] &= 0x7f;
	serial[0] |= 0x01;	/* positive, never zero */
	PKID_OSSL_PTR(bn = BN_bin2bn(serial, sizeof(serial), NULL),
	    PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)),
	    PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_set_version(x, X509_VERSION_3), PKID_E_CRYPTO,
	    "version");
	PKID_OSSL(X509_set_subject_name(x, subj), PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_set_issuer_name(x, subj), PKID_E_NOMEM, "no memory");
	/* Back an hour for clock skew; one day is plenty for a request. */
	PKID_OSSL_PTR(X509_gmtime_adj(X509_getm_notBefore(x), -3600),
	    PKID_E_CRYPTO, "time");
	PKID_OSSL_PTR(X509_gmtime_adj(X509_getm_notAfter(x), 86400),
	    PKID_E_CRYPTO, "time");
	PKID_OSSL(X509_set_pubkey(x, key), PKID_E_CRYPTO, "public key");
	PKID_OSSL(X509_sign(x, key, EVP_PKEY_get_base_id(key) ==
	    EVP_PKEY_ED25519 ? NULL : md), PKID_E_CRYPTO, "signing the "
	    "self-signed request certificate");
	*out = x;
	x = NULL;
	rc = PKID_OK;
out:
	BN_free(bn);
	X509_free(x);
	return rc;
}

enum pkid_code
pkid_scep_pkcsreq_build(X509_REQ *csr, EVP_PKEY *key, X509 *ra,
    struct pkid_buf *out, X509 **signer, struct pkid_err *e)
{
	struct pkid_scep_algs algs = { EVP_sha256(), EVP_aes_256_cbc(), 0 };
	struct pkid_scep_txn t;
	X509 *self = NULL;
	unsigned char *der = NULL;
	int n;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(out, 1);
	PKID_TRY(pkid_scep_selfsigned(key, X509_REQ_get_subject_name(csr),
	    algs.md, &self, e));
	PKID_TRY(pkid_scep_txn_init(&t, PKID_SCEP_PKCSREQ, self, key, ra,
	    &algs, e));
	PKID_CHECK((n = i2d_X509_REQ(csr, &der)) > 0, PKID_E_CRYPTO,
	    "encoding the CSR");
	rc = pkid_scep_txn_message(&t, PKID_SCEP_PKCSREQ, der, (size_t)n,
	    out, e);
	if (rc == PKID_OK && signer != NULL) {
		*signer = self;
		self = NULL;
	}
out:
	OPENSSL_free(der);
	X509_free(self);
	return rc;
}

void
pkid_scep_rep_free(struct pkid_scep_rep *r)
{
	if (r == NULL)
		return;
	sk_X509_pop_free(r->certs, X509_free);
	r->certs = NULL;
}

/* Signer, type, transactionID and recipientNonce of a parsed CertRep. */
static enum pkid_code
rep_matches(const struct pkid_scep_txn *t, const struct pkid_scep_cas *cas,
    const struct pkid_scep_msg *m, struct pkid_err *e)
{
	if (X509_cmp(m->signer, cas->ra) != 0 &&
	    X509_cmp(m->signer, cas->ca) != 0)
		return PKID_ERR(e, PKID_E_SCEP_REPLY_INVALID, "RFC 8894 "
		    "3.3.2: the CertRep is signed by a certificate that is "
		    "neither the RA nor the CA from GetCACert");
	if (m->type != PKID_SCEP_CERTREP)
		return PKID_ERR(e, PKID_E_SCEP_REPLY_INVALID, "RFC 8894 "
		    "3.2.1.2: the reply is a %s (%d), want CertRep (3)",
		    pkid_scep_type_name(m->type), m->type);
	if (strcmp(m->tid, t->tid) != 0)
		return PKID_ERR(e, PKID_E_SCEP_REPLY_INVALID, "RFC 8894 "
		    "3.2.1.1: the CertRep's transactionID '%.64s' is not the "
		    "request's '%s'", m->tid, t->tid);
	if (m->rnonce_len != sizeof(t->nonce) ||
	    CRYPTO_memcmp(m->rnonce, t->nonce, sizeof(t->nonce)) != 0)
		return PKID_ERR(e, PKID_E_SCEP_REPLY_INVALID, "RFC 8894 "
		    "3.2.1.5: the CertRep's recipientNonce is not the "
		    "senderNonce of the request (a replayed reply?)");
	if (m->status != PKID_SCEP_SUCCESS && m->status != PKID_SCEP_FAILURE
	    && m->status != PKID_SCEP_PENDING)
		return PKID_ERR(e, PKID_E_SCEP_REPLY_INVALID, "RFC 8894 "
		    "3.2.1.3: pkiStatus %d is not 0, 2 or 3", m->status);
	return PKID_OK;
}

enum pkid_code
pkid_scep_rep_check(const struct pkid_scep_txn *t,
    const struct pkid_scep_cas *cas, int compat, const uint8_t *p,
    size_t len, struct pkid_scep_rep *r, struct pkid_err *e)
{
	struct pkid_scep_msg m;
	struct pkid_buf inner;
	enum pkid_scep_fail fail;
	int nid;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	r->fail_info = -1;
	pkid_scep_msg_init(&m);
	pkid_buf_init(&inner, 1);
	PKID_TRY(pkid_scep_msg_parse(p, len, compat, &m, e));
	PKID_TRY(rep_matches(t, cas, &m, e));
	r->status = m.status;
	r->fail_info = m.status == PKID_SCEP_FAILURE ? m.fail_info : -1;
	if (m.status == PKID_SCEP_SUCCESS) {
		/* The envelope is for the request's signer (RFC 8894
		 * 3.3.2); single DES only for old servers, with compat. */
		PKID_TRY(pkid_scep_envelope_open(m.content.p, m.content.len,
		    t->signer, t->key, compat ? 2 : 0, &inner, &nid, &fail,
		    e));
		PKID_TRY(pkid_x509_load_certs(inner.p, inner.len, &r->certs,
		    e));
	}
	rc = PKID_OK;
out:
	if (rc == PKID_E_SCEP_BAD_ALG && !compat) {
		/* An old server's reply, not our request: say what to do. */
		pkid_err_clear(e);
		rc = PKID_ERR(e, PKID_E_SCEP_NO_COMMON_ALG, "the CertRep uses "
		    "%s%s; pkictl reads SHA-1, DES3 and single DES replies "
		    "only with --compat", m.md_nid != NID_undef ?
		    OBJ_nid2sn(m.md_nid) : "", r->status == PKID_SCEP_SUCCESS ?
		    " or an old cipher" : "");
	}
	if (rc != PKID_OK) {
		pkid_scep_rep_free(r);
		pkid_err_ctx(e, "checking the CertRep");
	}
	pkid_buf_free(&inner);
	pkid_scep_msg_free(&m);
	return rc;
}

enum pkid_code
pkid_scep_fail_code(int fail_info)
{
	switch (fail_info) {
	case PKID_SCEP_BADALG:
		return PKID_E_SCEP_FAIL_BAD_ALG;
	case PKID_SCEP_BADMESSAGECHECK:
		return PKID_E_SCEP_FAIL_BAD_MESSAGE_CHECK;
	case PKID_SCEP_BADTIME:
		return PKID_E_SCEP_FAIL_BAD_TIME;
	case PKID_SCEP_BADCERTID:
		return PKID_E_SCEP_FAIL_BAD_CERT_ID;
	case PKID_SCEP_BADREQUEST:
	default:
		return PKID_E_SCEP_FAIL_BAD_REQUEST;
	}
}

/* Parse the --san values into an extension on req. */
static enum pkid_code
add_sans(X509_REQ *req, const char *const *sans, size_t nsans,
    struct pkid_err *e)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *ext = NULL;
	struct pkid_buf txt;
	size_t i;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&txt, PKID_MAX_SUBJECT_TEXT * 4);
	PKID_CHECK(nsans <= PKID_MAX_SAN_COUNT, PKID_E_USAGE, "%zu SANs, at "
	    "most %d", nsans, PKID_MAX_SAN_COUNT);
	for (i = 0; i < nsans; i++) {
		PKID_CHECK(strchr(sans[i], ',') == NULL &&
		    strchr(sans[i], ':') != NULL, PKID_E_USAGE, "SAN '%s' is "
		    "not TYPE:value (DNS:, IP:, email:, URI:)", sans[i]);
		PKID_TRY(pkid_buf_printf(&txt, e, "%s%s", i > 0 ? "," : "",
		    sans[i]));
	}
	ext = X509V3_EXT_conf_nid(NULL, NULL, NID_subject_alt_name,
	    (char *)txt.p);
	PKID_CHECK(ext != NULL, PKID_E_USAGE, "SANs '%s' cannot be parsed "
	    "(use DNS:name, IP:address, email:addr or URI:uri)", txt.p);
	PKID_OSSL_PTR(exts = sk_X509_EXTENSION_new_null(), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL(sk_X509_EXTENSION_push(exts, ext), PKID_E_NOMEM,
	    "no memory");
	ext = NULL;	/* now the stack's */
	PKID_OSSL(X509_REQ_add_extensions(req, exts), PKID_E_NOMEM,
	    "no memory");
	rc = PKID_OK;
out:
	X509_EXTENSION_free(ext);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	pkid_buf_free(&txt);
	return rc;
}

/* RFC 8894 2.5: the PKCS#9 challengePassword attribute. */
static enum pkid_code
add_challenge(X509_REQ *req, const char *challenge, struct pkid_err *e)
{
	if (strlen(challenge) > PKID_SCEP_MAX_CHALLENGE)
		return PKID_ERR(e, PKID_E_USAGE, "challenge longer than %d "
		    "characters", PKID_SCEP_MAX_CHALLENGE);
	if (X509_REQ_add1_attr_by_NID(req, NID_pkcs9_challengePassword,
	    MBSTRING_UTF8, (const unsigned char *)challenge, -1) != 1)
		return PKID_ERR(e, PKID_E_USAGE, "the challenge password "
		    "cannot be encoded");
	return PKID_OK;
}

enum pkid_code
pkid_scep_csr_build(EVP_PKEY *key, const char *subject,
    const char *const *sans, size_t nsans, const char *challenge,
    const EVP_MD *md, X509_REQ **out, struct pkid_err *e)
{
	X509_REQ *req = X509_REQ_new();
	X509_NAME *name = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_OSSL_PTR(req, PKID_E_NOMEM, "no memory");
	PKID_TRY(pkid_name_parse(subject, &name, e));
	PKID_OSSL(X509_REQ_set_subject_name(req, name), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL(X509_REQ_set_pubkey(req, key), PKID_E_CRYPTO, "public key");
	if (nsans > 0)
		PKID_TRY(add_sans(req, sans, nsans, e));
	if (challenge != NULL)
		PKID_TRY(add_challenge(req, challenge, e));
	PKID_OSSL(X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) ==
	    EVP_PKEY_ED25519 ? NULL : md), PKID_E_CRYPTO, "signing the CSR");
	*out = req;
	req = NULL;
	rc = PKID_OK;
out:
	X509_NAME_free(name);
	X509_REQ_free(req);
	return rc;
}

enum pkid_code
pkid_scep_csr_renewal(X509 *old, EVP_PKEY *key, const char *challenge,
    const EVP_MD *md, X509_REQ **out, struct pkid_err *e)
{
	X509_REQ *req = X509_REQ_new();
	STACK_OF(X509_EXTENSION) *exts = NULL;
	X509_EXTENSION *san;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_OSSL_PTR(req, PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_REQ_set_subject_name(req, X509_get_subject_name(old)),
	    PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_REQ_set_pubkey(req, key), PKID_E_CRYPTO, "public key");
	if ((i = X509_get_ext_by_NID(old, NID_subject_alt_name, -1)) >= 0) {
		san = X509_get_ext(old, i);
		PKID_OSSL_PTR(exts = sk_X509_EXTENSION_new_null(),
		    PKID_E_NOMEM, "no memory");
		PKID_OSSL(sk_X509_EXTENSION_push(exts, san), PKID_E_NOMEM,
		    "no memory");
		PKID_OSSL(X509_REQ_add_extensions(req, exts), PKID_E_NOMEM,
		    "no memory");
	}
	if (challenge != NULL)
		PKID_TRY(add_challenge(req, challenge, e));
	PKID_OSSL(X509_REQ_sign(req, key, EVP_PKEY_get_base_id(key) ==
	    EVP_PKEY_ED25519 ? NULL : md), PKID_E_CRYPTO, "signing the CSR");
	*out = req;
	req = NULL;
	rc = PKID_OK;
out:
	sk_X509_EXTENSION_free(exts);	/* san stays old's */
	X509_REQ_free(req);
	return rc;
}

enum pkid_code
pkid_scep_next_parse(const uint8_t *p, size_t len,
    const struct pkid_scep_cas *cur, struct pkid_scep_cas *out,
    struct pkid_err *e)
{
	const unsigned char *q = p;
	STACK_OF(X509) *signers = sk_X509_new_null();
	PKCS7 *p7 = NULL;
	BIO *bo = NULL;
	BUF_MEM *bm;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_scep_cas_init(out);
	PKID_OSSL_PTR(signers, PKID_E_NOMEM, "no memory");
	PKID_CHECK(len <= PKID_SCEP_CLIENT_MAX_RESPONSE, PKID_E_TOO_LARGE,
	    "GetNextCACert answer of %zu bytes", len);
	p7 = d2i_PKCS7(NULL, &q, (long)len);
	PKID_CHECK(p7 != NULL && q == p + len && PKCS7_type_is_signed(p7),
	    PKID_E_SCEP_REPLY_INVALID, "RFC 8894 4.7.1: the GetNextCACert "
	    "answer is not a SignedData");
	PKID_CHECK(cur != NULL && cur->ra != NULL, PKID_E_SCEP_REPLY_INVALID,
	    "GetNextCACert needs the current CA certificates to check it");
	PKID_OSSL(sk_X509_push(signers, cur->ra), PKID_E_NOMEM, "no memory");
	if (cur->ca != cur->ra)
		PKID_OSSL(sk_X509_push(signers, cur->ca), PKID_E_NOMEM,
		    "no memory");
	PKID_OSSL_PTR(bo = BIO_new(BIO_s_mem()), PKID_E_NOMEM, "no memory");
	/* Signed by the current RA or CA (RFC 8894 4.7.1), as GetCACert
	 * gave them: the signer is looked up there only (NOINTERN). */
	PKID_CHECK(PKCS7_verify(p7, signers, NULL, NULL, bo, PKCS7_NOINTERN |
	    PKCS7_NOVERIFY | PKCS7_BINARY) == 1, PKID_E_SCEP_REPLY_INVALID,
	    "the GetNextCACert answer is not signed by the current CA or RA "
	    "certificate of GetCACert");
	BIO_get_mem_ptr(bo, &bm);
	/* The next CA (and its new root): no RA is needed among them, the
	 * current RA stays the recipient until the next one is current. */
	PKID_TRY(pkid_x509_load_certs((const uint8_t *)bm->data, bm->length,
	    &out->certs, e));
	PKID_CHECK(sk_X509_num(out->certs) > 0, PKID_E_SCEP_REPLY_INVALID,
	    "the GetNextCACert answer holds no certificate");
	out->ca = out->ra = sk_X509_value(out->certs, 0);
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		pkid_scep_cas_free(out);
	BIO_free(bo);
	PKCS7_free(p7);
	sk_X509_free(signers);
	return rc;
}
