/*
 * csr.c - PKCS#10 requests decoded without OpenSSL 3.0's per-key decoder
 * (see csr.h for why).
 */
#include "x509/csr.h"

#include <pthread.h>
#include <string.h>

#include <openssl/asn1t.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/provider.h>

/* A library context with nothing but the null provider: no decoder in it
 * can take a public key, so X509_PUBKEY's d2i leaves the key undecoded. */
static OSSL_LIB_CTX *bare_ctx;
static pthread_once_t bare_once = PTHREAD_ONCE_INIT;

static void
bare_init(void)
{
	OSSL_LIB_CTX *c = OSSL_LIB_CTX_new();

	/* Loading a provider explicitly stops the default one from being
	 * loaded into this context on first use. */
	if (c != NULL && OSSL_PROVIDER_load(c, "null") == NULL) {
		OSSL_LIB_CTX_free(c);
		c = NULL;
	}
	bare_ctx = c;
}

/* The key types pkid_csr_key builds itself. */
static int
fast_kind(X509_REQ *r)
{
	ASN1_OBJECT *obj;
	const X509_ALGOR *alg;
	const void *pv;
	int pt;

	if (!X509_PUBKEY_get0_param(&obj, NULL, NULL, (X509_ALGOR **)&alg,
	    X509_REQ_get_X509_PUBKEY(r)))
		return 0;
	X509_ALGOR_get0(NULL, &pt, &pv, alg);
	switch (OBJ_obj2nid(obj)) {
	case NID_X9_62_id_ecPublicKey:
		return pt == V_ASN1_OBJECT &&
		    OBJ_obj2nid((const ASN1_OBJECT *)pv) != NID_undef;
	case NID_rsaEncryption:
		return pt == V_ASN1_NULL || pt == V_ASN1_UNDEF;
	default:
		return 0;
	}
}

X509_REQ *
pkid_csr_d2i(const unsigned char **pp, long len)
{
	const unsigned char *start = *pp;
	X509_REQ *r;

	pthread_once(&bare_once, bare_init);
	if (bare_ctx == NULL)
		return d2i_X509_REQ(NULL, pp, len);
	ERR_set_mark();
	r = (X509_REQ *)ASN1_item_d2i_ex(NULL, pp, len,
	    ASN1_ITEM_rptr(X509_REQ), bare_ctx, NULL);
	if (r == NULL) {
		ERR_clear_last_mark();
		return NULL;
	}
	/* The key decoder found nothing in bare_ctx: not an error. */
	ERR_pop_to_mark();
	if (fast_kind(r))
		return r;
	/* Ed25519, RSA-PSS, explicit curves...: OpenSSL's own decoder. */
	X509_REQ_free(r);
	*pp = start;
	return d2i_X509_REQ(NULL, pp, len);
}

static EVP_PKEY *
ec_key(const ASN1_OBJECT *curve, const unsigned char *pub, int publen)
{
	EVP_PKEY_CTX *c;
	EVP_PKEY *k = NULL;
	OSSL_PARAM ps[3];
	const char *group = OBJ_nid2sn(OBJ_obj2nid(curve));

	if (group == NULL)
		return NULL;
	ps[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    (char *)group, 0);
	ps[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    (void *)pub, (size_t)publen);
	ps[2] = OSSL_PARAM_construct_end();
	c = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (c == NULL || EVP_PKEY_fromdata_init(c) <= 0 ||
	    EVP_PKEY_fromdata(c, &k, EVP_PKEY_PUBLIC_KEY, ps) <= 0) {
		EVP_PKEY_free(k);
		k = NULL;
	}
	EVP_PKEY_CTX_free(c);
	return k;
}

enum pkid_code
pkid_csr_key(X509_REQ *csr, EVP_PKEY **out, struct pkid_err *e)
{
	ASN1_OBJECT *obj;
	X509_ALGOR *alg;
	const unsigned char *pub, *q;
	const void *pv;
	EVP_PKEY *k;
	int publen, pt, nid;

	*out = NULL;
	ERR_set_mark();
	k = X509_REQ_get0_pubkey(csr);
	ERR_pop_to_mark();
	if (k != NULL) {
		if (!EVP_PKEY_up_ref(k))
			return PKID_ERR(e, PKID_E_NOMEM, "no memory");
		*out = k;
		return PKID_OK;
	}
	if (!X509_PUBKEY_get0_param(&obj, &pub, &publen, &alg,
	    X509_REQ_get_X509_PUBKEY(csr)))
		return PKID_ERR(e, PKID_E_CSR_MALFORMED,
		    "the request has no public key");
	X509_ALGOR_get0(NULL, &pt, &pv, alg);
	nid = OBJ_obj2nid(obj);
	if (nid == NID_X9_62_id_ecPublicKey && pt == V_ASN1_OBJECT) {
		k = ec_key(pv, pub, publen);
	} else if (nid == NID_rsaEncryption) {
		q = pub;
		k = d2i_PublicKey(EVP_PKEY_RSA, NULL, &q, publen);
		if (k != NULL && q != pub + publen) {
			EVP_PKEY_free(k);
			k = NULL;
		}
	}
	if (k == NULL)
		return PKID_ERR(e, PKID_E_CSR_MALFORMED, "the request's %s "
		    "public key cannot be decoded (not on its curve, a bad "
		    "encoding, or an algorithm this OpenSSL does not know)",
		    nid != NID_undef ? OBJ_nid2sn(nid) : "unknown");
	*out = k;
	return PKID_OK;
}
