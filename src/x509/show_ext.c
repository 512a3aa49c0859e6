/*
 * show_ext.c - the extensions part of the descriptions of show.c: each
 * common X.509v3 extension decoded by OpenSSL (X509V3_get_d2i) and
 * rendered as { "critical": bool, "values": [ text, ... ] }.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "x509/show.h"
#include "x509/show_int.h"

/* ---- extensions ---------------------------------------------------------- */

/* One GeneralName as "DNS:x", "IP:1.2.3.4", "URI:...", prefixed by pfx. */
static json_t *
gn_json(GENERAL_NAME *gn, const char *pfx)
{
	static const char ipa[] = "IP Address:";
	char tmp[256];
	char *p = NULL;
	long n = 0;
	json_t *j;
	BIO *b;

	if ((b = BIO_new(BIO_s_mem())) == NULL)
		return NULL;
	if (BIO_puts(b, pfx) < 0 || GENERAL_NAME_print(b, gn) <= 0 ||
	    (n = BIO_get_mem_data(b, &p)) < 0)
		n = 0;
	if (n == 0) {
		j = jstr("unprintable name");
	} else if (gn->type == GEN_IPADD && (size_t)n < sizeof(tmp) &&
	    (size_t)n > strlen(pfx) + sizeof(ipa) - 1) {
		/* "IP:" as openssl -addext and pkid's messages write it. */
		snprintf(tmp, sizeof(tmp), "%sIP:%.*s", pfx,
		    (int)((size_t)n - strlen(pfx) - (sizeof(ipa) - 1)),
		    p + strlen(pfx) + sizeof(ipa) - 1);
		j = jstr(tmp);
	} else {
		j = jstrn(p, (size_t)n);
	}
	BIO_free(b);
	ERR_clear_error();
	return j;
}

static enum pkid_code
push_names(json_t *vals, GENERAL_NAMES *gns, const char *pfx,
    struct pkid_err *e)
{
	enum pkid_code rc;
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(gns); i++)
		if ((rc = jpush(vals, gn_json(sk_GENERAL_NAME_value(gns, i),
		    pfx), e)) != PKID_OK)
			return rc;
	return PKID_OK;
}

/* Each handler gets the decoded extension d and fills ext / vals. */
typedef enum pkid_code (*ext_fn)(void *d, json_t *ext, json_t *vals,
    struct pkid_err *e);

static enum pkid_code
ext_names(void *d, json_t *ext, json_t *vals, struct pkid_err *e)
{
	return push_names(vals, d, "", e);
}

static enum pkid_code
ext_ku(void *d, json_t *ext, json_t *vals, struct pkid_err *e)
{
	/* RFC 5280 4.2.1.3, in bit order. */
	static const char *const names[] = { "digitalSignature",
	    "nonRepudiation", "keyEncipherment", "dataEncipherment",
	    "keyAgreement", "keyCertSign", "cRLSign", "encipherOnly",
	    "decipherOnly" };
	enum pkid_code rc;
	int i;

	for (i = 0; i < (int)(sizeof(names) / sizeof(names[0])); i++)
		if (ASN1_BIT_STRING_get_bit(d, i) &&
		    (rc = jpush(vals, json_string(names[i]), e)) != PKID_OK)
			return rc;
	return PKID_OK;
}

/* An OID as its short name ("serverAuth") or dotted when unknown. */
static json_t *
obj_json(const ASN1_OBJECT *obj, int long_name)
{
	char buf[128];
	int nid = OBJ_obj2nid(obj);

	if (nid != NID_undef)
		return jstr(long_name ? OBJ_nid2ln(nid) : OBJ_nid2sn(nid));
	if (OBJ_obj2txt(buf, sizeof(buf), obj, 1) <= 0)
		snprintf(buf, sizeof(buf), "unknown OID");
	return jstr(buf);
}

static enum pkid_code
ext_eku(void *d, json_t *ext, json_t *vals, struct pkid_err *e)
{
	EXTENDED_KEY_USAGE *eku = d;
	enum pkid_code rc;
	int i;

	for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++)
		if ((rc = jpush(vals, obj_json(sk_ASN1_OBJECT_value(eku, i), 0),
		    e)) != PKID_OK)
			return rc;
	return PKID_OK;
}

static enum pkid_code
ext_bc(void *d, json_t *ext, json_t *vals, struct pkid_err *e)
{
	BASIC_CONSTRAINTS *bc = d;
	char buf[64];
	long pl;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(jput(ext, "ca", json_boolean(bc->ca != 0), e));
	PKID_TRY(jpush(vals, json_string(bc->ca ? "CA:TRUE" : "CA:FALSE"), e));
	if (bc->pathlen != NULL) {
		pl = ASN1_INTEGER_get(bc->pathlen);
		ERR_clear_error();
		if (pl < 0) {
			PKID_TRY(jpush(vals, json_string("pathlen:invalid"),
			    e));
		} else {
			snprintf(buf, sizeof(buf), "pathlen:%ld", pl);
			PKID_TRY(jpush(vals, json_string(buf), e));
			PKID_TRY(jput(ext, "path_len", json_integer(pl), e));
		}
	}
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
ext_octets(void *d, json_t *ext, json_t *vals, struct pkid_err *e)
{
	const ASN1_OCTET_STRING *s = d;

	return jpush(vals, jhex(ASN1_STRING_get0_data(s),
	    (size_t)ASN1_STRING_length(s)), e);
}

static enum pkid_code
ext_aki(void *d, json_t *ext, json_t *vals, struct pkid_err *e)
{
	AUTHORITY_KEYID *a = d;
	char buf[256], sn[200];
	enum pkid_code rc = PKID_E_INTERNAL;

	if (a->keyid != NULL) {
		PKID_TRY(jpush(vals, jhex(ASN1_STRING_get0_data(a->keyid),
		    (size_t)ASN1_STRING_length(a->keyid)), e));
		PKID_TRY(jput(ext, "key_id", jhex(ASN1_STRING_get0_data(
		    a->keyid), (size_t)ASN1_STRING_length(a->keyid)), e));
	}
	if (a->issuer != NULL)
		PKID_TRY(push_names(vals, a->issuer, "issuer ", e));
	if (a->serial != NULL) {
		snprintf(buf, sizeof(buf), "serial %s",
		    pkid_x509_serial_hex(a->serial, sn, sizeof(sn)));
		PKID_TRY(jpush(vals, jstr(buf), e));
	}
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
ext_aia(void *d, json_t *ext, json_t *vals, struct pkid_err *e)
{
	AUTHORITY_INFO_ACCESS *aia = d;
	ACCESS_DESCRIPTION *ad;
	char pfx[160], oid[128];
	enum pkid_code rc;
	int i;

	for (i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
		ad = sk_ACCESS_DESCRIPTION_value(aia, i);
		switch (OBJ_obj2nid(ad->method)) {
		case NID_ad_OCSP:
			snprintf(pfx, sizeof(pfx), "OCSP - ");
			break;
		case NID_ad_ca_issuers:
			snprintf(pfx, sizeof(pfx), "CA Issuers - ");
			break;
		default:
			if (OBJ_obj2txt(oid, sizeof(oid), ad->method, 0) <= 0)
				snprintf(oid, sizeof(oid), "unknown method");
			snprintf(pfx, sizeof(pfx), "%s - ", oid);
			break;
		}
		if ((rc = jpush(vals, gn_json(ad->location, pfx), e)) !=
		    PKID_OK)
			return rc;
	}
	return PKID_OK;
}

static enum pkid_code
ext_crldp(void *d, json_t *ext, json_t *vals, struct pkid_err *e)
{
	CRL_DIST_POINTS *dps = d;
	DIST_POINT *dp;
	enum pkid_code rc = PKID_E_INTERNAL;
	int i;

	for (i = 0; i < sk_DIST_POINT_num(dps); i++) {
		dp = sk_DIST_POINT_value(dps, i);
		if (dp->distpoint != NULL && dp->distpoint->type == 0)
			PKID_TRY(push_names(vals, dp->distpoint->name.fullname,
			    "", e));
		else if (dp->distpoint != NULL)
			PKID_TRY(jpush(vals, json_string("relative name"), e));
		if (dp->CRLissuer != NULL)
			PKID_TRY(push_names(vals, dp->CRLissuer, "CRL issuer ",
			    e));
	}
	rc = PKID_OK;
out:
	return rc;
}

/* An INTEGER extension (CRL number, delta CRL base) in decimal. */
static enum pkid_code
ext_int(void *d, json_t *ext, json_t *vals, struct pkid_err *e)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(d, NULL);
	char *s = bn != NULL ? BN_bn2dec(bn) : NULL;
	enum pkid_code rc;

	rc = jpush(vals, jstr(s != NULL ? s : "invalid"), e);
	OPENSSL_free(s);
	BN_free(bn);
	ERR_clear_error();
	return rc;
}

/* The extensions described by name; others are listed by OID. */
static const struct ext_kind {
	int nid;		/* the extension */
	const char *key;	/* its member in the description */
	ext_fn fn;		/* renders it */
} ext_kinds[] = {
	{ NID_subject_alt_name, "san", ext_names },
	{ NID_key_usage, "key_usage", ext_ku },
	{ NID_ext_key_usage, "ext_key_usage", ext_eku },
	{ NID_basic_constraints, "basic_constraints", ext_bc },
	{ NID_subject_key_identifier, "ski", ext_octets },
	{ NID_authority_key_identifier, "aki", ext_aki },
	{ NID_info_access, "aia", ext_aia },
	{ NID_crl_distribution_points, "crl_dp", ext_crldp },
	{ NID_crl_number, "crl_number", ext_int },
	{ NID_delta_crl, "delta_crl_base", ext_int },
};

#define N_EXT_KINDS ((int)(sizeof(ext_kinds) / sizeof(ext_kinds[0])))

/* Free what X509V3_get_d2i returned for nid. */
static void
ext_free(int nid, void *d)
{
	const X509V3_EXT_METHOD *m = X509V3_EXT_get_nid(nid);

	if (d == NULL || m == NULL)
		return;
	if (m->it != NULL)
		ASN1_item_free(d, ASN1_ITEM_ptr(m->it));
	else if (m->ext_free != NULL)
		m->ext_free(d);
}

/* Build { "critical": c, "values": [...] } for one decoded extension. */
static enum pkid_code
put_ext(json_t *o, const struct ext_kind *k, void *d, int crit,
    struct pkid_err *e)
{
	json_t *ext = NULL, *vals;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK((ext = json_object()) != NULL, PKID_E_NOMEM, "no memory");
	PKID_TRY(jput(ext, "critical", json_boolean(crit > 0), e));
	vals = json_array();
	PKID_TRY(jput(ext, "values", vals, e));
	/* vals is borrowed from ext from here on. */
	PKID_TRY(k->fn(d, ext, vals, e));
	rc = jput(o, k->key, ext, e);
	ext = NULL;
out:
	json_decref(ext);
	return rc;
}

/* Extensions pkid does not describe: name or OID, and criticality. */
static enum pkid_code
put_other_exts(json_t *o, const STACK_OF(X509_EXTENSION) *exts,
    struct pkid_err *e)
{
	json_t *arr = NULL, *x = NULL;
	X509_EXTENSION *ex;
	char oid[128];
	int i, j, nid;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK((arr = json_array()) != NULL, PKID_E_NOMEM, "no memory");
	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		ex = sk_X509_EXTENSION_value(exts, i);
		nid = OBJ_obj2nid(X509_EXTENSION_get_object(ex));
		for (j = 0; j < N_EXT_KINDS && ext_kinds[j].nid != nid; j++)
			continue;
		if (nid != NID_undef && j < N_EXT_KINDS)
			continue;
		if (OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ex),
		    1) <= 0)
			snprintf(oid, sizeof(oid), "unknown OID");
		PKID_CHECK((x = json_object()) != NULL, PKID_E_NOMEM,
		    "no memory");
		PKID_TRY(jput(x, "name", obj_json(X509_EXTENSION_get_object(ex),
		    1), e));
		PKID_TRY(jput(x, "oid", jstr(oid), e));
		PKID_TRY(jput(x, "critical", json_boolean(
		    X509_EXTENSION_get_critical(ex) > 0), e));
		rc = jpush(arr, x, e);
		x = NULL;
		if (rc != PKID_OK)
			goto out;
	}
	rc = PKID_OK;
	if (json_array_size(arr) > 0) {
		rc = jput(o, "other_extensions", arr, e);
		arr = NULL;
	}
out:
	json_decref(x);
	json_decref(arr);
	return rc;
}

/* Every extension of a certificate, CSR or CRL into o (show_int.h). */
enum pkid_code
pkid_x509_show_exts(json_t *o, const STACK_OF(X509_EXTENSION) *exts,
    json_t *warn, struct pkid_err *e)
{
	const struct ext_kind *k;
	void *d;
	int i, crit;
	enum pkid_code rc;

	for (i = 0; i < N_EXT_KINDS; i++) {
		k = &ext_kinds[i];
		d = X509V3_get_d2i(exts, k->nid, &crit, NULL);
		ERR_clear_error();
		if (d == NULL && crit == -2)
			rc = warnf(warn, e, "%s appears more than once "
			    "(RFC 5280 4.2)", OBJ_nid2ln(k->nid));
		else if (d == NULL && crit >= 0)
			rc = warnf(warn, e, "%s does not decode",
			    OBJ_nid2ln(k->nid));
		else if (d == NULL)
			rc = PKID_OK;
		else
			rc = put_ext(o, k, d, crit, e);
		ext_free(k->nid, d);
		if (rc != PKID_OK)
			return rc;
	}
	return put_other_exts(o, exts, e);
}
