/*
 * load.c - PEM/DER detection and decoding over OpenSSL.
 */
#include "x509/load.h"

#include <ctype.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>

#include "core/limits.h"
#include "x509/csr.h"

void
pkid_obj_clear(struct pkid_obj *o)
{
	if (o == NULL)
		return;
	X509_free(o->cert);
	X509_REQ_free(o->csr);
	X509_CRL_free(o->crl);
	sk_X509_pop_free(o->certs, X509_free);
	sk_X509_CRL_pop_free(o->crls, X509_CRL_free);
	EVP_PKEY_free(o->key);
	memset(o, 0, sizeof(*o));
}

static int
looks_pem(const uint8_t *p, size_t len)
{
	/* RFC 7468 allows explanatory text before the first block. */
	static const char tag[] = "-----BEGIN ";
	size_t i;

	for (i = 0; i + sizeof(tag) - 1 <= len; i++)
		if (memcmp(p + i, tag, sizeof(tag) - 1) == 0)
			return 1;
	return 0;
}

/* Decode one DER PKCS#7 into certs and CRLs of o. */
static enum pkid_code
p7_take(PKCS7 *p7, struct pkid_obj *o, struct pkid_err *e)
{
	STACK_OF(X509) *c = NULL;
	STACK_OF(X509_CRL) *r = NULL;
	int i;

	if (PKCS7_type_is_signed(p7) && p7->d.sign != NULL) {
		c = p7->d.sign->cert;
		r = p7->d.sign->crl;
	} else if (PKCS7_type_is_signedAndEnveloped(p7) &&
	    p7->d.signed_and_enveloped != NULL) {
		c = p7->d.signed_and_enveloped->cert;
		r = p7->d.signed_and_enveloped->crl;
	} else {
		return PKID_ERR(e, PKID_E_UNKNOWN_FORMAT,
		    "PKCS#7 of type %s holds no certificates",
		    OBJ_nid2sn(OBJ_obj2nid(p7->type)));
	}
	o->kind = PKID_OBJ_PKCS7;
	o->certs = sk_X509_new_null();
	o->crls = sk_X509_CRL_new_null();
	if (o->certs == NULL || o->crls == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	if (sk_X509_num(c) > PKID_MAX_BUNDLE_CERTS)
		return PKID_ERR(e, PKID_E_TOO_LARGE,
		    "PKCS#7 holds %d certificates, more than %d",
		    sk_X509_num(c), PKID_MAX_BUNDLE_CERTS);
	for (i = 0; i < sk_X509_num(c); i++) {
		X509 *x = sk_X509_value(c, i);

		if (!X509_up_ref(x) || !sk_X509_push(o->certs, x)) {
			X509_free(x);
			return PKID_ERR(e, PKID_E_NOMEM, "no memory");
		}
	}
	for (i = 0; i < sk_X509_CRL_num(r); i++) {
		X509_CRL *x = sk_X509_CRL_value(r, i);

		if (!X509_CRL_up_ref(x) || !sk_X509_CRL_push(o->crls, x)) {
			X509_CRL_free(x);
			return PKID_ERR(e, PKID_E_NOMEM, "no memory");
		}
	}
	return PKID_OK;
}

/* d2i_X509_REQ's shape for TRY_DER, without the key decoder (csr.h). */
static X509_REQ *
csr_d2i(X509_REQ **unused, const unsigned char **pp, long len)
{
	(void)unused;
	return pkid_csr_d2i(pp, len);
}

/*
 * Decode one DER object of a known or guessed type. When name is NULL,
 * try certificate, CSR, CRL, PKCS#7, then private key.
 */
static enum pkid_code
decode_der(const char *name, const uint8_t *p, size_t len,
    struct pkid_obj *o, struct pkid_err *e)
{
	const unsigned char *q;
	PKCS7 *p7 = NULL;
	enum pkid_code rc;
	long l = (long)len;

	memset(o, 0, sizeof(*o));
#define TRY_DER(cond, member, fn, k)					\
	if (cond) {							\
		q = p;							\
		o->member = fn(NULL, &q, l);				\
		if (o->member != NULL) {				\
			o->kind = k;					\
			if (q != p + len)				\
				return PKID_ERR(e, PKID_E_TRAILING_DATA, \
				    "%zu bytes after the end of the DER " \
				    "object", (size_t)(p + len - q));	\
			return PKID_OK;					\
		}							\
		ERR_clear_error();					\
	}
	TRY_DER(name == NULL || strcmp(name, "CERTIFICATE") == 0 ||
	    strcmp(name, "X509 CERTIFICATE") == 0, cert, d2i_X509,
	    PKID_OBJ_CERT)
	/* openssl x509 -trustout: the certificate, then its trust settings. */
	TRY_DER(name != NULL && strcmp(name, "TRUSTED CERTIFICATE") == 0, cert,
	    d2i_X509_AUX, PKID_OBJ_CERT)
	TRY_DER(name == NULL || strcmp(name, "CERTIFICATE REQUEST") == 0 ||
	    strcmp(name, "NEW CERTIFICATE REQUEST") == 0, csr, csr_d2i,
	    PKID_OBJ_CSR)
	TRY_DER(name == NULL || strcmp(name, "X509 CRL") == 0, crl,
	    d2i_X509_CRL, PKID_OBJ_CRL)
	if (name == NULL || strcmp(name, "PKCS7") == 0 ||
	    strcmp(name, "CMS") == 0) {
		q = p;
		p7 = d2i_PKCS7(NULL, &q, l);
		if (p7 != NULL) {
			if (q != p + len) {
				PKCS7_free(p7);
				return PKID_ERR(e, PKID_E_TRAILING_DATA,
				    "%zu bytes after the end of the PKCS#7",
				    (size_t)(p + len - q));
			}
			rc = p7_take(p7, o, e);
			PKCS7_free(p7);
			return rc;
		}
		ERR_clear_error();
	}
	TRY_DER(name == NULL || strstr(name, "PRIVATE KEY") != NULL, key,
	    d2i_AutoPrivateKey, PKID_OBJ_KEY)
#undef TRY_DER
	if (name != NULL)
		return PKID_ERR(e, PKID_E_PEM_GARBAGE,
		    "PEM block '%s' does not hold a valid DER object", name);
	return PKID_ERR(e, PKID_E_UNKNOWN_FORMAT,
	    "%zu bytes that are neither PEM nor a DER certificate, CSR, CRL, "
	    "PKCS#7 or private key", len);
}

static int
only_space(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!isspace(p[i]))
			return 0;
	return 1;
}

/*
 * PEM labels decode_der reads. Other blocks (EC PARAMETERS before a key
 * from 'openssl ecparam -genkey', PUBLIC KEY, DH PARAMETERS) are skipped.
 */
static int
pem_label_known(const char *name)
{
	static const char *const known[] = { "CERTIFICATE",
	    "X509 CERTIFICATE", "TRUSTED CERTIFICATE", "CERTIFICATE REQUEST",
	    "NEW CERTIFICATE REQUEST", "X509 CRL", "PKCS7", "CMS", NULL };
	int i;

	for (i = 0; known[i] != NULL; i++)
		if (strcmp(name, known[i]) == 0)
			return 1;
	return strstr(name, "PRIVATE KEY") != NULL;
}

static enum pkid_code
decode_pem_all(const uint8_t *p, size_t len, pkid_obj_fn fn, void *arg,
    struct pkid_err *e)
{
	BIO *bio = NULL;
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long dlen;
	int n = 0, used = 0;
	struct pkid_obj o;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&o, 0, sizeof(o));
	PKID_OSSL_PTR(bio = BIO_new_mem_buf(p, (int)len), PKID_E_NOMEM,
	    "no memory");
	for (;;) {
		if (!PEM_read_bio(bio, &name, &header, &data, &dlen)) {
			unsigned long oe = ERR_peek_last_error();

			if (n > 0 && ERR_GET_REASON(oe) == PEM_R_NO_START_LINE)
				break;
			ERR_clear_error();
			rc = PKID_ERR(e, n > 0 ? PKID_E_PEM_GARBAGE :
			    PKID_E_PEM_GARBAGE, "PEM block %d cannot be "
			    "decoded (broken base64, missing END line or "
			    "garbage inside the block)", n + 1);
			goto out;
		}
		n++;
		if (pem_label_known(name)) {
			used++;
			PKID_TRY(decode_der(name, data, (size_t)dlen, &o, e));
			PKID_TRY(fn(&o, arg, e));
			pkid_obj_clear(&o);
		}
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		name = header = NULL;
		data = NULL;
	}
	ERR_clear_error();
	PKID_CHECK(used > 0, PKID_E_UNKNOWN_FORMAT, "none of the %d PEM "
	    "blocks is a certificate, CSR, CRL, PKCS#7 or private key", n);
	rc = PKID_OK;
out:
	pkid_obj_clear(&o);
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return rc;
}

enum pkid_code
pkid_x509_decode_all(const uint8_t *p, size_t len, pkid_obj_fn fn, void *arg,
    struct pkid_err *e)
{
	struct pkid_obj o;
	enum pkid_code rc;

	if (len > PKID_MAX_FILE_SIZE)
		return PKID_ERR(e, PKID_E_TOO_LARGE,
		    "input of %zu bytes is over the limit of %d", len,
		    PKID_MAX_FILE_SIZE);
	if (len == 0 || only_space(p, len))
		return PKID_ERR(e, PKID_E_UNKNOWN_FORMAT, "the input is empty");
	if (looks_pem(p, len))
		return decode_pem_all(p, len, fn, arg, e);
	if ((rc = decode_der(NULL, p, len, &o, e)) == PKID_OK)
		rc = fn(&o, arg, e);
	pkid_obj_clear(&o);
	return rc;
}

static enum pkid_code
take_csr(struct pkid_obj *o, void *arg, struct pkid_err *e)
{
	X509_REQ **out = arg;

	if (o->kind != PKID_OBJ_CSR)
		return PKID_ERR(e, PKID_E_CSR_MALFORMED,
		    "expected a certificate request, found %s",
		    o->kind == PKID_OBJ_CERT ? "a certificate" :
		    o->kind == PKID_OBJ_KEY ? "a private key" : "another object");
	if (*out != NULL)
		return PKID_ERR(e, PKID_E_CSR_MALFORMED,
		    "more than one certificate request in the input");
	*out = o->csr;
	o->csr = NULL;
	return PKID_OK;
}

enum pkid_code
pkid_x509_load_csr(const uint8_t *p, size_t len, X509_REQ **out,
    struct pkid_err *e)
{
	X509_REQ *req = NULL;
	enum pkid_code rc;

	*out = NULL;
	if (len > PKID_MAX_CSR_SIZE)
		return PKID_ERR(e, PKID_E_TOO_LARGE,
		    "certificate request of %zu bytes is over the limit of %d",
		    len, PKID_MAX_CSR_SIZE);
	rc = pkid_x509_decode_all(p, len, take_csr, &req, e);
	if (rc == PKID_OK && req == NULL)
		rc = PKID_ERR(e, PKID_E_CSR_MALFORMED,
		    "no certificate request in the input");
	if (rc != PKID_OK) {
		X509_REQ_free(req);
		/* Anything that is not a CSR is a malformed CSR here. */
		if (e != NULL && e->code != PKID_E_TOO_LARGE &&
		    e->code != PKID_E_NOMEM && e->code != PKID_E_PEM_GARBAGE &&
		    e->code != PKID_E_TRAILING_DATA)
			e->code = PKID_E_CSR_MALFORMED;
		return e != NULL ? e->code : rc;
	}
	*out = req;
	return PKID_OK;
}

struct certs_acc {
	STACK_OF(X509) *sk;	/* appended to */
	int added;		/* how many were added */
};

static enum pkid_code
take_certs(struct pkid_obj *o, void *arg, struct pkid_err *e)
{
	struct certs_acc *a = arg;
	X509 *x;

	if (o->kind == PKID_OBJ_CERT) {
		if (sk_X509_num(a->sk) >= PKID_MAX_BUNDLE_CERTS)
			return PKID_ERR(e, PKID_E_TOO_LARGE,
			    "more than %d certificates", PKID_MAX_BUNDLE_CERTS);
		if (!sk_X509_push(a->sk, o->cert))
			return PKID_ERR(e, PKID_E_NOMEM, "no memory");
		o->cert = NULL;
		a->added++;
		return PKID_OK;
	}
	if (o->kind == PKID_OBJ_PKCS7) {
		while ((x = sk_X509_shift(o->certs)) != NULL) {
			if (sk_X509_num(a->sk) >= PKID_MAX_BUNDLE_CERTS ||
			    !sk_X509_push(a->sk, x)) {
				X509_free(x);
				return PKID_ERR(e, PKID_E_TOO_LARGE,
				    "more than %d certificates",
				    PKID_MAX_BUNDLE_CERTS);
			}
			a->added++;
		}
		return PKID_OK;
	}
	/* Other PEM blocks (keys, CRLs) beside certificates are skipped. */
	return PKID_OK;
}

enum pkid_code
pkid_x509_load_certs(const uint8_t *p, size_t len, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	struct certs_acc a;
	enum pkid_code rc;
	int created = 0;

	if (*out == NULL) {
		if ((*out = sk_X509_new_null()) == NULL)
			return PKID_ERR(e, PKID_E_NOMEM, "no memory");
		created = 1;
	}
	a.sk = *out;
	a.added = 0;
	rc = pkid_x509_decode_all(p, len, take_certs, &a, e);
	if (rc == PKID_OK && a.added == 0)
		rc = PKID_ERR(e, PKID_E_CERT_MALFORMED,
		    "no certificate found in the input");
	if (rc != PKID_OK && created) {
		sk_X509_pop_free(*out, X509_free);
		*out = NULL;
	}
	return rc;
}

enum pkid_code
pkid_x509_load_certs_file(const char *path, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	struct pkid_buf b;
	enum pkid_code rc;

	if ((rc = pkid_buf_read_file(&b, path, PKID_MAX_FILE_SIZE, e)) !=
	    PKID_OK)
		return rc;
	rc = pkid_x509_load_certs(b.p, b.len, out, e);
	if (rc != PKID_OK)
		pkid_err_ctx(e, "reading %s", path);
	pkid_buf_free(&b);
	return rc;
}

enum pkid_code
pkid_x509_load_cert_file(const char *path, X509 **out, struct pkid_err *e)
{
	STACK_OF(X509) *sk = NULL;
	enum pkid_code rc;

	*out = NULL;
	if ((rc = pkid_x509_load_certs_file(path, &sk, e)) != PKID_OK)
		return rc;
	*out = sk_X509_shift(sk);
	sk_X509_pop_free(sk, X509_free);
	return PKID_OK;
}

static enum pkid_code
take_crl(struct pkid_obj *o, void *arg, struct pkid_err *e)
{
	X509_CRL **out = arg;

	if (o->kind != PKID_OBJ_CRL || *out != NULL)
		return PKID_ERR(e, PKID_E_CRL_MALFORMED,
		    "expected exactly one CRL");
	*out = o->crl;
	o->crl = NULL;
	return PKID_OK;
}

enum pkid_code
pkid_x509_load_crl(const uint8_t *p, size_t len, X509_CRL **out,
    struct pkid_err *e)
{
	enum pkid_code rc;

	*out = NULL;
	if (len > PKID_MAX_CRL_SIZE)
		return PKID_ERR(e, PKID_E_TOO_LARGE, "CRL over the limit");
	rc = pkid_x509_decode_all(p, len, take_crl, out, e);
	if (rc == PKID_OK && *out == NULL)
		rc = PKID_ERR(e, PKID_E_CRL_MALFORMED, "no CRL in the input");
	if (rc != PKID_OK) {
		X509_CRL_free(*out);
		*out = NULL;
	}
	return rc;
}

static enum pkid_code
take_key(struct pkid_obj *o, void *arg, struct pkid_err *e)
{
	EVP_PKEY **out = arg;

	if (o->kind != PKID_OBJ_KEY)
		return PKID_OK;
	if (*out != NULL)
		return PKID_ERR(e, PKID_E_KEY_MALFORMED,
		    "more than one private key in the file");
	*out = o->key;
	o->key = NULL;
	return PKID_OK;
}

enum pkid_code
pkid_x509_load_key_file(const char *path, EVP_PKEY **out, struct pkid_err *e)
{
	struct pkid_buf b;
	enum pkid_code rc;

	*out = NULL;
	if ((rc = pkid_buf_read_file(&b, path, PKID_MAX_CERT_SIZE, e)) !=
	    PKID_OK)
		return rc;
	rc = pkid_x509_decode_all(b.p, b.len, take_key, out, e);
	if (rc == PKID_OK && *out == NULL)
		rc = PKID_ERR(e, PKID_E_KEY_MALFORMED,
		    "%s holds no unencrypted private key", path);
	if (rc != PKID_OK) {
		EVP_PKEY_free(*out);
		*out = NULL;
		pkid_err_ctx(e, "reading %s", path);
	}
	pkid_buf_free(&b);
	return rc;
}

static enum pkid_code
bio_to_buf(BIO *bio, struct pkid_buf *out, struct pkid_err *e)
{
	char *p;
	long n = BIO_get_mem_data(bio, &p);

	if (out->max == 0)
		pkid_buf_init(out, PKID_MAX_FILE_SIZE);
	return pkid_buf_append(out, p, (size_t)n, e);
}

#define PEM_WRITER(fname, type, call)					\
enum pkid_code								\
fname(type *x, struct pkid_buf *out, struct pkid_err *e)		\
{									\
	BIO *bio = BIO_new(BIO_s_mem());				\
	enum pkid_code rc;						\
									\
	if (bio == NULL)						\
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");		\
	if (!(call))							\
		rc = PKID_ERR(e, PKID_E_CRYPTO, "PEM encoding failed");	\
	else								\
		rc = bio_to_buf(bio, out, e);				\
	BIO_free(bio);							\
	return rc;							\
}

PEM_WRITER(pkid_x509_cert_pem, X509, PEM_write_bio_X509(bio, x))
PEM_WRITER(pkid_x509_crl_pem, X509_CRL, PEM_write_bio_X509_CRL(bio, x))
PEM_WRITER(pkid_x509_key_pem, EVP_PKEY,
    PEM_write_bio_PrivateKey(bio, x, NULL, NULL, 0, NULL, NULL))

enum pkid_code
pkid_x509_redecode(X509 **x, struct pkid_err *e)
{
	unsigned char *der = NULL;
	const unsigned char *p;
	X509 *y;
	int len = i2d_X509(*x, &der);

	if (len <= 0)
		return PKID_ERR(e, PKID_E_CRYPTO, "encoding the certificate");
	p = der;
	y = d2i_X509(NULL, &p, len);
	OPENSSL_free(der);
	if (y == NULL)
		return PKID_ERR(e, PKID_E_CRYPTO, "decoding the certificate");
	X509_free(*x);
	*x = y;
	return PKID_OK;
}

void
pkid_x509_fingerprint(X509 *x, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!X509_digest(x, EVP_sha256(), md, &n) || n != 32) {
		out[0] = '\0';
		return;
	}
	pkid_hex(md, 32, out);
}

const char *
pkid_x509_name_text(const X509_NAME *n, char *out, size_t len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *p;
	long l;

	out[0] = '\0';
	if (bio == NULL)
		return out;
	if (X509_NAME_print_ex(bio, n, 0, XN_FLAG_RFC2253 &
	    ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		l = BIO_get_mem_data(bio, &p);
		snprintf(out, len, "%.*s", (int)l, p);
	}
	BIO_free(bio);
	return out;
}

const char *
pkid_x509_serial_hex(const ASN1_INTEGER *s, char *out, size_t len)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(s, NULL);
	char *h = bn != NULL ? BN_bn2hex(bn) : NULL;
	size_t i;

	if (h == NULL) {
		snprintf(out, len, "?");
	} else {
		for (i = 0; h[i] != '\0'; i++)
			h[i] = (char)tolower((unsigned char)h[i]);
		snprintf(out, len, "%s", h);
	}
	OPENSSL_free(h);
	BN_free(bn);
	return out;
}

int
pkid_x509_spki_sha256_hex(const X509_PUBKEY *spki, char out[65])
{
	unsigned char *der = NULL, md[32];
	unsigned int mdlen = 0;
	int n, ok;

	out[0] = '\0';
	if (spki == NULL || (n = i2d_X509_PUBKEY(spki, &der)) <= 0)
		return -1;
	ok = EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL) &&
	    mdlen == 32;
	OPENSSL_free(der);
	if (!ok)
		return -1;
	pkid_hex(md, 32, out);
	return 0;
}
