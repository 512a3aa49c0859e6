/*
 * crl.c - CRLs derived from the store (RFC 5280 section 5).
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "ca/hsm.h"
#include "ca/signer.h"
#include "core/clock.h"

/*
 * What the CRL being built needs per entry: the entries are made in place
 * (the serial and date of a new X509_REVOKED set where they lie, one
 * reasonCode value per reason), since a CRL may list
 * 100,000 certificates and per-entry allocations and encodings were most
 * of its cost.
 */
struct crl_build {
	X509_CRL *crl;
	ASN1_ENUMERATED *reason[11];	/* reasonCode values by code, made
					 * on first use (RFC 5280 5.3.1) */
	unsigned char sn[64];		/* serial bytes, scratch */
};

/* A stored serial (hex) as the magnitude an ASN1_INTEGER holds: big-endian
 * bytes without leading zero bytes (the encoder adds the sign byte). */
static enum pkid_code
serial_bytes(const char *hex, unsigned char *b, size_t cap, size_t *len,
    struct pkid_err *e)
{
	size_t n = strlen(hex), i, j, k;
	int hi, lo;

	if (n == 0 || (n + 1) / 2 > cap)
		return PKID_ERR(e, PKID_E_INTERNAL, "stored serial '%s' is "
		    "empty or over %zu bytes", hex, cap);
	for (i = 0, j = 0; i < n; j++) {
		hi = (n - i) % 2 == 1 && i == 0 ? 0 :
		    OPENSSL_hexchar2int((unsigned char)hex[i++]);
		lo = OPENSSL_hexchar2int((unsigned char)hex[i++]);
		if (hi < 0 || lo < 0)
			return PKID_ERR(e, PKID_E_INTERNAL, "stored serial "
			    "'%s' is not hex", hex);
		b[j] = (unsigned char)(hi << 4 | lo);
	}
	for (k = 0; k + 1 < j && b[k] == 0; k++)
		;
	memmove(b, b + k, j - k);
	*len = j - k;
	return PKID_OK;
}

static ASN1_ENUMERATED *
reason_value(struct crl_build *cb, int code)
{
	ASN1_ENUMERATED *v;

	if (cb->reason[code] != NULL)
		return cb->reason[code];
	if ((v = ASN1_ENUMERATED_new()) == NULL)
		return NULL;
	if (!ASN1_ENUMERATED_set(v, code)) {
		ASN1_ENUMERATED_free(v);
		return NULL;
	}
	return cb->reason[code] = v;
}

static enum pkid_code
add_revoked(const struct pkid_revoked *r, void *arg, struct pkid_err *e)
{
	struct crl_build *cb = arg;
	X509_REVOKED *rv = NULL;
	ASN1_ENUMERATED *v;
	size_t len = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(serial_bytes(r->serial, cb->sn, sizeof(cb->sn), &len, e));
	PKID_OSSL_PTR(rv = X509_REVOKED_new(), PKID_E_NOMEM, "no memory");
	/* X509_REVOKED_new made both fields; filled where they lie rather
	 * than set from copies. */
	PKID_OSSL(ASN1_STRING_set((ASN1_INTEGER *)
	    X509_REVOKED_get0_serialNumber(rv), cb->sn, (int)len),
	    PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(ASN1_TIME_set((ASN1_TIME *)
	    X509_REVOKED_get0_revocationDate(rv), (time_t)r->revoked_at),
	    PKID_E_NOMEM, "no memory");
	/* RFC 5280 5.3.1: omit reasonCode rather than use unspecified. */
	if (r->reason > 0) {
		if (r->reason > 10) {
			rc = PKID_ERR(e, PKID_E_INTERNAL, "stored reason %d "
			    "of serial %s is not a CRL reason", r->reason,
			    r->serial);
			goto out;
		}
		PKID_OSSL_PTR(v = reason_value(cb, r->reason), PKID_E_NOMEM,
		    "no memory");
		/* Encodes the value into a new extension it keeps (no copy of
		 * a ready extension: X509_REVOKED_add_ext would dup it). */
		PKID_OSSL(X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, v, 0,
		    0), PKID_E_CRYPTO, "reason code");
	}
	PKID_OSSL(X509_CRL_add0_revoked(cb->crl, rv), PKID_E_NOMEM,
	    "no memory");
	rv = NULL;
	rc = PKID_OK;
out:
	X509_REVOKED_free(rv);
	return rc;
}

static enum pkid_code
crl_exts(X509 *issuer, X509_CRL *crl, int64_t number, struct pkid_err *e)
{
	ASN1_INTEGER *num = NULL;
	AUTHORITY_KEYID *akid = NULL;
	const ASN1_OCTET_STRING *ski = X509_get0_subject_key_id(issuer);
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(num = ASN1_INTEGER_new(), PKID_E_NOMEM, "no memory");
	ASN1_INTEGER_set_int64(num, number);
	PKID_OSSL(X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0),
	    PKID_E_CRYPTO, "CRL number");
	if (ski != NULL) {
		PKID_OSSL_PTR(akid = AUTHORITY_KEYID_new(), PKID_E_NOMEM,
		    "no memory");
		PKID_OSSL_PTR(akid->keyid = ASN1_OCTET_STRING_dup(ski),
		    PKID_E_NOMEM, "no memory");
		PKID_OSSL(X509_CRL_add1_ext_i2d(crl,
		    NID_authority_key_identifier, akid, 0, 0), PKID_E_CRYPTO,
		    "CRL AKI");
	}
	rc = PKID_OK;
out:
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(akid);
	return rc;
}

/* The CRL of one generation: issuer, its signer, its ca_generation id. */
static enum pkid_code
build_crl(struct pkid_ca *ca, X509 *issuer, struct pkid_signer *sg,
    int64_t gen_id, X509_CRL **out, struct pkid_err *e)
{
	X509_CRL *crl = NULL;
	ASN1_TIME *t = NULL;
	struct crl_build cb;
	int64_t now = (int64_t)pkid_now(), number = 0;
	enum pkid_code rc = PKID_E_INTERNAL;
	size_t i;

	*out = NULL;
	memset(&cb, 0, sizeof(cb));
	PKID_OSSL_PTR(crl = X509_CRL_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_CRL_set_version(crl, X509_CRL_VERSION_2), PKID_E_CRYPTO,
	    "CRL version");
	PKID_OSSL(X509_CRL_set_issuer_name(crl,
	    X509_get_subject_name(issuer)), PKID_E_CRYPTO, "CRL issuer");
	PKID_OSSL_PTR(t = ASN1_TIME_set(NULL, (time_t)now), PKID_E_NOMEM,
	    "no memory");
	PKID_OSSL(X509_CRL_set1_lastUpdate(crl, t), PKID_E_CRYPTO, "thisUpdate");
	PKID_OSSL_PTR(ASN1_TIME_set(t, (time_t)(now + ca->cfg.crl_next_update)),
	    PKID_E_NOMEM, "no memory");
	PKID_OSSL(X509_CRL_set1_nextUpdate(crl, t), PKID_E_CRYPTO,
	    "nextUpdate");
	cb.crl = crl;
	PKID_TRY(pkid_store_revoked_list(ca->store, gen_id, add_revoked, &cb,
	    e));
	X509_CRL_sort(crl);
	PKID_TRY(pkid_store_crl_number_next(ca->store, ca->cfg.ca_name,
	    &number, e));
	PKID_TRY(crl_exts(issuer, crl, number, e));
	PKID_TRY(pkid_signer_sign_crl(sg, crl, e));
	*out = crl;
	crl = NULL;
	rc = PKID_OK;
out:
	for (i = 0; i < sizeof(cb.reason) / sizeof(cb.reason[0]); i++)
		ASN1_ENUMERATED_free(cb.reason[i]);
	ASN1_TIME_free(t);
	X509_CRL_free(crl);
	return rc;
}

enum pkid_code
pkid_ca_crl(struct pkid_ca *ca, X509_CRL **out, struct pkid_err *e)
{
	return build_crl(ca, ca->issuing, ca->signer, ca->issuing_gen, out, e);
}

/* The signing row of one generation number. */
struct gen_find {
	const char *role;	/* "issuing" or "root" */
	int generation;		/* wanted */
	int64_t id;		/* found row, 0 if none */
	int64_t not_after;	/* its end */
	char key_ref[256];	/* its key */
	X509 *cert;		/* its certificate */
};

static enum pkid_code
gen_find_cb(const struct pkid_ca_gen *g, void *arg, struct pkid_err *e)
{
	struct gen_find *f = arg;
	const unsigned char *p = g->der;

	if (strcmp(g->role, f->role) != 0 || g->generation != f->generation ||
	    strcmp(g->state, "shadow") == 0)
		return PKID_OK;
	X509_free(f->cert);
	if ((f->cert = d2i_X509(NULL, &p, (long)g->der_len)) == NULL)
		return PKID_ERR(e, PKID_E_STORE_IO, "generation %d does not "
		    "decode", g->generation);
	f->id = g->id;
	f->not_after = g->not_after;
	snprintf(f->key_ref, sizeof(f->key_ref), "%s", g->key_ref);
	return PKID_OK;
}

/* The CRL of the generation-th certificate of role. */
static enum pkid_code
crl_of(struct pkid_ca *ca, const char *role, int generation, X509_CRL **out,
    int64_t *gen_id, struct pkid_err *e)
{
	struct gen_find f;
	struct pkid_signer *sg = NULL;
	EVP_PKEY *key = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	memset(&f, 0, sizeof(f));
	f.role = role;
	f.generation = generation;
	PKID_TRY(pkid_store_ca_gen_list(ca->store, ca->cfg.ca_name,
	    gen_find_cb, &f, e));
	PKID_CHECK(f.cert != NULL, PKID_E_NOT_FOUND, "CA %s has no %s "
	    "generation %d that issued certificates", ca->cfg.ca_name, role,
	    generation);
	PKID_CHECK(f.not_after > (int64_t)pkid_now(), PKID_E_NOT_FOUND,
	    "%s generation %d of CA %s has ended, and with it every "
	    "certificate it issued", role, generation, ca->cfg.ca_name);
	PKID_TRY(pkid_ca_key_load(&ca->cfg, ca->dir, f.key_ref, &key, e));
	sg = pkid_signer_from_key(key, f.cert, ca->cfg.digest, e);
	EVP_PKEY_free(key);
	PKID_OSSL_PTR(sg, e->code, "signer of %s generation %d", role,
	    generation);
	*gen_id = f.id;
	rc = build_crl(ca, f.cert, sg, f.id, out, e);
out:
	pkid_signer_free(sg);
	X509_free(f.cert);
	return rc;
}

enum pkid_code
pkid_ca_gen_signer(struct pkid_ca *ca, int generation, X509 **cert,
    struct pkid_signer **sg, int64_t *gen_id, struct pkid_err *e)
{
	struct gen_find f;
	char p[1400];
	enum pkid_code rc = PKID_E_INTERNAL;

	*cert = NULL;
	*sg = NULL;
	memset(&f, 0, sizeof(f));
	f.role = ca->root_only ? "root" : "issuing";
	f.generation = generation;
	PKID_TRY(pkid_store_ca_gen_list(ca->store, ca->cfg.ca_name,
	    gen_find_cb, &f, e));
	PKID_CHECK(f.cert != NULL, PKID_E_NOT_FOUND, "CA %s has no %s "
	    "generation %d that issued certificates", ca->cfg.ca_name, f.role,
	    generation);
	PKID_CHECK(f.not_after > (int64_t)pkid_now(), PKID_E_NOT_FOUND,
	    "%s generation %d of CA %s has ended", f.role, generation,
	    ca->cfg.ca_name);
	snprintf(p, sizeof(p), "%s/%s", ca->dir, f.key_ref);
	PKID_OSSL_PTR(*sg = pkid_signer_open(p, f.cert, ca->cfg.digest, e),
	    e->code, "signer of %s generation %d", f.role, generation);
	*gen_id = f.id;
	*cert = f.cert;
	f.cert = NULL;
	rc = PKID_OK;
out:
	X509_free(f.cert);
	return rc;
}

enum pkid_code
pkid_ca_crl_gen(struct pkid_ca *ca, int generation, X509_CRL **out,
    int64_t *gen_id, struct pkid_err *e)
{
	if (generation == ca->generation) {
		*gen_id = ca->issuing_gen;
		return pkid_ca_crl(ca, out, e);
	}
	return crl_of(ca, ca->root_only ? "root" : "issuing", generation, out,
	    gen_id, e);
}

enum pkid_code
pkid_ca_crl_root(struct pkid_ca *ca, int generation, X509_CRL **out,
    int64_t *gen_id, struct pkid_err *e)
{
	if (ca->root_only)
		return pkid_ca_crl_gen(ca, generation, out, gen_id, e);
	return crl_of(ca, "root", generation, out, gen_id, e);
}

/* Find any row (shadow too: its certificate is published ahead). */
struct der_find {
	const char *role;	/* "issuing" or "root" */
	int generation;		/* wanted */
	unsigned char *der;	/* copy, OPENSSL_malloc'd */
	size_t len;		/* its length */
};

static enum pkid_code
der_find_cb(const struct pkid_ca_gen *g, void *arg, struct pkid_err *e)
{
	struct der_find *f = arg;

	if (strcmp(g->role, f->role) != 0 || g->generation != f->generation ||
	    f->der != NULL)
		return PKID_OK;
	if ((f->der = OPENSSL_memdup(g->der, g->der_len)) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	f->len = g->der_len;
	return PKID_OK;
}

enum pkid_code
pkid_ca_gen_der(struct pkid_ca *ca, int root, int generation,
    unsigned char **der, size_t *len, struct pkid_err *e)
{
	struct der_find f;
	enum pkid_code rc = PKID_E_INTERNAL;

	*der = NULL;
	*len = 0;
	memset(&f, 0, sizeof(f));
	f.role = root || ca->root_only ? "root" : "issuing";
	f.generation = generation;
	PKID_TRY(pkid_store_ca_gen_list(ca->store, ca->cfg.ca_name,
	    der_find_cb, &f, e));
	PKID_CHECK(f.der != NULL, PKID_E_NOT_FOUND, "CA %s has no %s "
	    "generation %d", ca->cfg.ca_name, f.role, generation);
	*der = f.der;
	*len = f.len;
	f.der = NULL;
	rc = PKID_OK;
out:
	OPENSSL_free(f.der);
	return rc;
}
