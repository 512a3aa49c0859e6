/*
 * show.c - JSON descriptions of certificates, CSRs, CRLs, PKCS#7 bundles
 * and private keys (see show.h). Everything is read through OpenSSL's
 * accessors; nothing is parsed here.
 */
#include "x509/show.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include "core/buf.h"
#include "core/clock.h"
#include "x509/csr.h"
#include "x509/show_int.h"

/* ---- names, numbers, times, keys ---------------------------------------- */

static enum pkid_code
put_name(json_t *o, const char *k, const X509_NAME *n, struct pkid_err *e)
{
	char buf[4096] = "";

	if (n != NULL) {
		pkid_x509_name_text(n, buf, sizeof(buf));
		/* RFC 2253 printing fails on strings that do not convert to
		 * UTF-8; the one-line form escapes them instead. */
		if (buf[0] == '\0' && X509_NAME_entry_count(n) > 0 &&
		    X509_NAME_oneline(n, buf, sizeof(buf)) == NULL)
			buf[0] = '\0';
	}
	ERR_clear_error();
	return jput(o, k, jstr(buf), e);
}

static enum pkid_code
put_serial(json_t *o, const char *k, const ASN1_INTEGER *s,
    struct pkid_err *e)
{
	char buf[256];

	pkid_x509_serial_hex(s, buf, sizeof(buf));
	return jput(o, k, jstr(buf), e);
}

/* ASN1_TIME to seconds; 0 when absent or not a valid time. */
static int
time_of(const ASN1_TIME *t, time_t *out)
{
	struct tm tm;

	/* ASN1_TIME_to_tm(NULL) would mean "now": check first. */
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
		ERR_clear_error();
		return 0;
	}
	*out = timegm(&tm);
	return 1;
}

static enum pkid_code
put_time(json_t *o, const char *k, time_t t, struct pkid_err *e)
{
	char ts[32];

	return jput(o, k, jstr(pkid_time_fmt(t, ts, sizeof(ts))), e);
}

/* "status" and "validity" of a certificate at now. */
static enum pkid_code
put_validity(json_t *o, X509 *x, time_t now, json_t *warn,
    struct pkid_err *e)
{
	char d[64], txt[128];
	const char *status;
	time_t nb, na;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (!time_of(X509_get0_notBefore(x), &nb) ||
	    !time_of(X509_get0_notAfter(x), &na)) {
		PKID_TRY(warnf(warn, e, "the validity is not a valid time "
		    "(RFC 5280 4.1.2.5)"));
		PKID_TRY(jput(o, "status", json_string("unknown"), e));
		rc = PKID_OK;
		goto out;
	}
	PKID_TRY(put_time(o, "not_before", nb, e));
	PKID_TRY(put_time(o, "not_after", na, e));
	if (nb > na)
		PKID_TRY(warnf(warn, e, "notBefore is after notAfter: the "
		    "certificate is never valid"));
	if (now < nb) {
		status = "not-yet-valid";
		snprintf(txt, sizeof(txt), "not yet valid for %s",
		    pkid_duration_fmt((int64_t)(nb - now), d, sizeof(d)));
	} else if (now > na) {
		status = "expired";
		snprintf(txt, sizeof(txt), "expired %s ago",
		    pkid_duration_fmt((int64_t)(now - na), d, sizeof(d)));
	} else {
		status = "valid";
		snprintf(txt, sizeof(txt), "expires in %s",
		    pkid_duration_fmt((int64_t)(na - now), d, sizeof(d)));
	}
	PKID_TRY(jput(o, "status", json_string(status), e));
	PKID_TRY(jput(o, "validity", jstr(txt), e));
	rc = PKID_OK;
out:
	return rc;
}

/* "EC P-256", "RSA 2048", "Ed25519": key_type, key_bits, key text. */
static void
key_text(EVP_PKEY *k, const char **type, char *txt, size_t len)
{
	char grp[80];
	const char *nist;
	int bits = EVP_PKEY_get_bits(k);

	switch (EVP_PKEY_get_base_id(k)) {
	case EVP_PKEY_EC:
		*type = "EC";
		if (EVP_PKEY_get_group_name(k, grp, sizeof(grp), NULL) != 1) {
			snprintf(txt, len, "EC %d-bit, explicit curve", bits);
			break;
		}
		nist = EC_curve_nid2nist(OBJ_sn2nid(grp));
		snprintf(txt, len, "EC %s", nist != NULL ? nist : grp);
		break;
	case EVP_PKEY_RSA:
		*type = "RSA";
		snprintf(txt, len, "RSA %d", bits);
		break;
	case EVP_PKEY_RSA_PSS:
		*type = "RSA-PSS";
		snprintf(txt, len, "RSA-PSS %d", bits);
		break;
	case EVP_PKEY_ED25519:
		*type = "Ed25519";
		snprintf(txt, len, "Ed25519");
		break;
	case EVP_PKEY_ED448:
		*type = "Ed448";
		snprintf(txt, len, "Ed448");
		break;
	default:
		*type = EVP_PKEY_get0_type_name(k);
		if (*type == NULL)
			*type = "unknown";
		snprintf(txt, len, "%s %d", *type, bits);
		break;
	}
}

/* Describe a public key; xpk names the algorithm when k did not decode. */
static enum pkid_code
put_key(json_t *o, EVP_PKEY *k, const X509_PUBKEY *xpk, struct pkid_err *e)
{
	ASN1_OBJECT *alg = NULL;
	const char *type = "unknown";
	char txt[160], oid[80] = "";
	enum pkid_code rc = PKID_E_INTERNAL;

	if (k == NULL) {
		if (xpk != NULL && X509_PUBKEY_get0_param(&alg, NULL, NULL,
		    NULL, xpk) == 1 && alg != NULL)
			OBJ_obj2txt(oid, sizeof(oid), alg, 0);
		ERR_clear_error();
		snprintf(txt, sizeof(txt), "unsupported or broken key (%s)",
		    oid[0] != '\0' ? oid : "unknown algorithm");
		return jput(o, "key", jstr(txt), e);
	}
	key_text(k, &type, txt, sizeof(txt));
	PKID_TRY(jput(o, "key", jstr(txt), e));
	PKID_TRY(jput(o, "key_type", jstr(type), e));
	PKID_TRY(jput(o, "key_bits", json_integer(EVP_PKEY_get_bits(k)), e));
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
put_alg(json_t *o, const X509_ALGOR *a, struct pkid_err *e)
{
	const ASN1_OBJECT *obj = NULL;
	char buf[128] = "";

	if (a != NULL)
		X509_ALGOR_get0(&obj, NULL, NULL, a);
	if (obj == NULL || OBJ_obj2txt(buf, sizeof(buf), obj, 0) <= 0)
		snprintf(buf, sizeof(buf), "unknown");
	return jput(o, "signature_algorithm", jstr(buf), e);
}

/* ---- certificates -------------------------------------------------- */

static enum pkid_code
cert_fill(json_t *o, X509 *x, time_t now, json_t *warn, struct pkid_err *e)
{
	const X509_ALGOR *alg = NULL;
	char fp[65];
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(jput(o, "type", json_string("certificate"), e));
	PKID_TRY(jput(o, "version", json_integer(X509_get_version(x) + 1), e));
	PKID_TRY(put_name(o, "subject", X509_get_subject_name(x), e));
	PKID_TRY(put_name(o, "issuer", X509_get_issuer_name(x), e));
	PKID_TRY(put_serial(o, "serial", X509_get0_serialNumber(x), e));
	PKID_TRY(jput(o, "self_signed", json_boolean(X509_self_signed(x, 0) ==
	    1), e));
	ERR_clear_error();
	PKID_TRY(put_validity(o, x, now, warn, e));
	PKID_TRY(put_key(o, X509_get0_pubkey(x), X509_get_X509_PUBKEY(x), e));
	ERR_clear_error();
	X509_get0_signature(NULL, &alg, x);
	PKID_TRY(put_alg(o, alg, e));
	PKID_TRY(pkid_x509_show_exts(o, X509_get0_extensions(x), warn, e));
	if (X509_get_extension_flags(x) & EXFLAG_INVALID)
		PKID_TRY(warnf(warn, e, "OpenSSL finds the extensions invalid; "
		    "verifiers will reject this certificate"));
	ERR_clear_error();
	pkid_x509_fingerprint(x, fp);
	PKID_TRY(jput(o, "fingerprint_sha256", json_string(fp), e));
	rc = PKID_OK;
out:
	return rc;
}

/* ---- CSRs ---------------------------------------------------------------- */

static enum pkid_code
csr_exts(json_t *o, X509_REQ *r, json_t *warn, struct pkid_err *e)
{
	STACK_OF(X509_EXTENSION) *exts;
	enum pkid_code rc = PKID_OK;

	exts = X509_REQ_get_extensions(r);
	ERR_clear_error();
	if (exts == NULL && X509_REQ_get_attr_by_NID(r, NID_ext_req, -1) >= 0)
		rc = warnf(warn, e, "the extension request does not decode");
	if (rc == PKID_OK && exts != NULL)
		rc = pkid_x509_show_exts(o, exts, warn, e);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

static enum pkid_code
csr_fill(json_t *o, X509_REQ *r, json_t *warn, struct pkid_err *e)
{
	const X509_ALGOR *alg = NULL;
	EVP_PKEY *pk = NULL;
	int ok;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(jput(o, "type", json_string("csr"), e));
	PKID_TRY(jput(o, "version", json_integer(X509_REQ_get_version(r) + 1),
	    e));
	PKID_TRY(put_name(o, "subject", X509_REQ_get_subject_name(r), e));
	if (pkid_csr_key(r, &pk, NULL) != PKID_OK)
		pk = NULL;
	ERR_clear_error();
	PKID_TRY(put_key(o, pk, X509_REQ_get_X509_PUBKEY(r), e));
	X509_REQ_get0_signature(r, NULL, &alg);
	PKID_TRY(put_alg(o, alg, e));
	/* RFC 2986 4.2: the request is signed with its own key. */
	ok = pk != NULL && X509_REQ_verify(r, pk) == 1;
	ERR_clear_error();
	PKID_TRY(jput(o, "signature", json_string(ok ? "valid" :
	    "invalid: does not verify with the request's own key"), e));
	PKID_TRY(jput(o, "signature_valid", json_boolean(ok), e));
	/* The challenge password is a secret: say only that it is there. */
	if (X509_REQ_get_attr_by_NID(r, NID_pkcs9_challengePassword, -1) >= 0)
		PKID_TRY(jput(o, "challenge_password",
		    json_string("present (not shown)"), e));
	PKID_TRY(csr_exts(o, r, warn, e));
	rc = PKID_OK;
out:
	EVP_PKEY_free(pk);
	return rc;
}

/* ---- CRLs ---------------------------------------------------------------- */

/* this_update, next_update, and how fresh the CRL is at now. */
static enum pkid_code
crl_times(json_t *o, X509_CRL *crl, time_t now, json_t *warn,
    struct pkid_err *e)
{
	char d[64], txt[128];
	const char *status;
	time_t tu, nu;
	int has_next;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (!time_of(X509_CRL_get0_lastUpdate(crl), &tu)) {
		PKID_TRY(warnf(warn, e, "thisUpdate is not a valid time"));
		PKID_TRY(jput(o, "status", json_string("unknown"), e));
		rc = PKID_OK;
		goto out;
	}
	PKID_TRY(put_time(o, "this_update", tu, e));
	has_next = time_of(X509_CRL_get0_nextUpdate(crl), &nu);
	if (has_next)
		PKID_TRY(put_time(o, "next_update", nu, e));
	else
		PKID_TRY(jput(o, "next_update", json_null(), e));
	if (now < tu) {
		status = "not-yet-valid";
		snprintf(txt, sizeof(txt), "issued in the future: thisUpdate "
		    "in %s", pkid_duration_fmt((int64_t)(tu - now), d,
		    sizeof(d)));
	} else if (!has_next) {
		status = "current";
		snprintf(txt, sizeof(txt), "no next update announced");
	} else if (now > nu) {
		status = "stale";
		snprintf(txt, sizeof(txt), "next update overdue by %s",
		    pkid_duration_fmt((int64_t)(now - nu), d, sizeof(d)));
	} else {
		status = "current";
		snprintf(txt, sizeof(txt), "next update in %s",
		    pkid_duration_fmt((int64_t)(nu - now), d, sizeof(d)));
	}
	PKID_TRY(jput(o, "status", json_string(status), e));
	PKID_TRY(jput(o, "validity", jstr(txt), e));
	rc = PKID_OK;
out:
	return rc;
}

/* RFC 5280 5.3.1 reason codes; 7 is unused. */
static const char *
reason_name(long r)
{
	static const char *const names[] = { "unspecified", "keyCompromise",
	    "cACompromise", "affiliationChanged", "superseded",
	    "cessationOfOperation", "certificateHold", NULL, "removeFromCRL",
	    "privilegeWithdrawn", "aACompromise" };

	if (r < 0 || r >= (long)(sizeof(names) / sizeof(names[0])))
		return NULL;
	return names[r];
}

static json_t *
revoked_json(X509_REVOKED *rv, struct pkid_err *e)
{
	ASN1_ENUMERATED *reason = NULL;
	json_t *o = NULL;
	const char *rn;
	char buf[48];
	time_t t;
	int crit;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK((o = json_object()) != NULL, PKID_E_NOMEM, "no memory");
	PKID_TRY(put_serial(o, "serial", X509_REVOKED_get0_serialNumber(rv),
	    e));
	if (time_of(X509_REVOKED_get0_revocationDate(rv), &t))
		PKID_TRY(put_time(o, "date", t, e));
	reason = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason, &crit, NULL);
	ERR_clear_error();
	if (reason != NULL) {
		rn = reason_name(ASN1_ENUMERATED_get(reason));
		if (rn == NULL) {
			snprintf(buf, sizeof(buf), "reason %ld",
			    ASN1_ENUMERATED_get(reason));
			rn = buf;
		}
		PKID_TRY(jput(o, "reason", jstr(rn), e));
	}
	rc = PKID_OK;
out:
	ASN1_ENUMERATED_free(reason);
	ERR_clear_error();
	if (rc != PKID_OK) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

static enum pkid_code
crl_revoked(json_t *o, X509_CRL *crl, struct pkid_err *e)
{
	STACK_OF(X509_REVOKED) *rs = X509_CRL_get_REVOKED(crl);
	json_t *arr = NULL;
	int i, n = sk_X509_REVOKED_num(rs);
	enum pkid_code rc = PKID_E_INTERNAL;

	if (n < 0)
		n = 0;
	PKID_TRY(jput(o, "revoked_count", json_integer(n), e));
	PKID_CHECK((arr = json_array()) != NULL, PKID_E_NOMEM, "no memory");
	for (i = 0; i < n && i < PKID_SHOW_MAX_REVOKED; i++) {
		json_t *r = revoked_json(sk_X509_REVOKED_value(rs, i), e);

		PKID_CHECK(r != NULL, e != NULL ? e->code : PKID_E_NOMEM,
		    "no memory");
		PKID_TRY(jpush(arr, r, e));
	}
	if (n > PKID_SHOW_MAX_REVOKED)
		PKID_TRY(jput(o, "revoked_truncated", json_true(), e));
	rc = jput(o, "revoked", arr, e);
	arr = NULL;
out:
	json_decref(arr);
	return rc;
}

static enum pkid_code
crl_fill(json_t *o, X509_CRL *crl, time_t now, json_t *warn,
    struct pkid_err *e)
{
	const X509_ALGOR *alg = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(jput(o, "type", json_string("crl"), e));
	PKID_TRY(jput(o, "version", json_integer(X509_CRL_get_version(crl) +
	    1), e));
	PKID_TRY(put_name(o, "issuer", X509_CRL_get_issuer(crl), e));
	PKID_TRY(crl_times(o, crl, now, warn, e));
	X509_CRL_get0_signature(crl, NULL, &alg);
	PKID_TRY(put_alg(o, alg, e));
	PKID_TRY(pkid_x509_show_exts(o, X509_CRL_get0_extensions(crl), warn,
	    e));
	PKID_TRY(crl_revoked(o, crl, e));
	if (X509_CRL_digest(crl, EVP_sha256(), md, &mdlen) == 1 &&
	    mdlen == 32)
		PKID_TRY(jput(o, "fingerprint_sha256", jhex(md, mdlen), e));
	ERR_clear_error();
	rc = PKID_OK;
out:
	return rc;
}

/*
 * One certificate, CSR or CRL described: its fill, then the warnings it
 * gathered. NULL on error.
 */
static json_t *
show_obj(enum pkid_obj_kind kind, void *obj, time_t now, struct pkid_err *e)
{
	json_t *o = NULL, *warn = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK((o = json_object()) != NULL, PKID_E_NOMEM, "no memory");
	PKID_CHECK((warn = json_array()) != NULL, PKID_E_NOMEM, "no memory");
	switch (kind) {
	case PKID_OBJ_CERT:
		PKID_TRY(cert_fill(o, obj, now, warn, e));
		break;
	case PKID_OBJ_CSR:
		PKID_TRY(csr_fill(o, obj, warn, e));
		break;
	default:
		PKID_TRY(crl_fill(o, obj, now, warn, e));
		break;
	}
	PKID_TRY(put_warnings(o, warn, e));
	rc = PKID_OK;
out:
	json_decref(warn);
	if (rc != PKID_OK) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

json_t *
pkid_x509_show_cert(X509 *x, time_t now, struct pkid_err *e)
{
	return show_obj(PKID_OBJ_CERT, x, now, e);
}

json_t *
pkid_x509_show_csr(X509_REQ *r, time_t now, struct pkid_err *e)
{
	return show_obj(PKID_OBJ_CSR, r, now, e);
}

json_t *
pkid_x509_show_crl(X509_CRL *crl, time_t now, struct pkid_err *e)
{
	return show_obj(PKID_OBJ_CRL, crl, now, e);
}

/* ---- bundles, keys, any object ----------------------------------- */

static enum pkid_code
p7_fill(json_t *o, const struct pkid_obj *p7, time_t now, struct pkid_err *e)
{
	json_t *certs, *crls, *j;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(jput(o, "type", json_string("pkcs7"), e));
	certs = json_array();
	PKID_TRY(jput(o, "certificates", certs, e));
	crls = json_array();
	PKID_TRY(jput(o, "crls", crls, e));
	/* certs and crls are borrowed from o from here on. */
	for (i = 0; i < sk_X509_num(p7->certs); i++) {
		j = pkid_x509_show_cert(sk_X509_value(p7->certs, i), now, e);
		PKID_CHECK(j != NULL, PKID_E_NOMEM, "no memory");
		PKID_TRY(jpush(certs, j, e));
	}
	for (i = 0; i < sk_X509_CRL_num(p7->crls); i++) {
		j = pkid_x509_show_crl(sk_X509_CRL_value(p7->crls, i), now, e);
		PKID_CHECK(j != NULL, PKID_E_NOMEM, "no memory");
		PKID_TRY(jpush(crls, j, e));
	}
	rc = PKID_OK;
out:
	return rc;
}

json_t *
pkid_x509_show_obj(const struct pkid_obj *ob, time_t now, struct pkid_err *e)
{
	json_t *o = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	switch (ob->kind) {
	case PKID_OBJ_CERT:
		return pkid_x509_show_cert(ob->cert, now, e);
	case PKID_OBJ_CSR:
		return pkid_x509_show_csr(ob->csr, now, e);
	case PKID_OBJ_CRL:
		return pkid_x509_show_crl(ob->crl, now, e);
	case PKID_OBJ_PKCS7:
		PKID_CHECK((o = json_object()) != NULL, PKID_E_NOMEM,
		    "no memory");
		PKID_TRY(p7_fill(o, ob, now, e));
		break;
	case PKID_OBJ_KEY:
		/* The public half only: a secret never reaches the output. */
		PKID_CHECK((o = json_object()) != NULL, PKID_E_NOMEM,
		    "no memory");
		PKID_TRY(jput(o, "type", json_string("private-key"), e));
		PKID_TRY(put_key(o, ob->key, NULL, e));
		break;
	case PKID_OBJ_NONE:
	default:
		PKID_CHECK(0, PKID_E_INTERNAL, "object of kind %d cannot be "
		    "described", (int)ob->kind);
	}
	rc = PKID_OK;
out:
	if (rc != PKID_OK) {
		json_decref(o);
		o = NULL;
	}
	return o;
}

struct show_acc {
	json_t *arr;	/* descriptions are appended here (borrowed) */
	time_t now;	/* reference time */
};

static enum pkid_code
show_cb(struct pkid_obj *o, void *arg, struct pkid_err *e)
{
	struct show_acc *a = arg;
	json_t *j = pkid_x509_show_obj(o, a->now, e);

	if (j == NULL)
		return e != NULL && e->code != PKID_OK ? e->code :
		    PKID_E_NOMEM;
	return jpush(a->arr, j, e);
}

/*
 * Base64 text of a DER object, as an EST response body (RFC 7030 4.1.3,
 * RFC 8951 3) is: printable ASCII only, starting (after white space) with
 * "MI", the base64 of a DER SEQUENCE with a long-form length (0x30 0x8x).
 * Neither PEM (looked for first) nor DER (whose first byte 0x30 is '0')
 * starts so.
 */
static int
looks_base64(const uint8_t *p, size_t len)
{
	size_t i = 0, k;

	while (i < len && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' ||
	    p[i] == '\n'))
		i++;
	if (len - i < 4 || p[i] != 'M' || p[i + 1] != 'I')
		return 0;
	for (k = i; k < len; k++)
		if ((p[k] < 0x20 || p[k] > 0x7e) && p[k] != '\t' &&
		    p[k] != '\r' && p[k] != '\n')
			return 0;
	return 1;
}

enum pkid_code
pkid_x509_show_all(const uint8_t *p, size_t len, time_t now, json_t *arr,
    struct pkid_err *e)
{
	struct show_acc a;
	struct pkid_buf der;
	size_t i, first = json_array_size(arr);
	enum pkid_code rc = PKID_E_INTERNAL;

	a.arr = arr;
	a.now = now;
	if (len > PKID_MAX_FILE_SIZE || !looks_base64(p, len))
		return pkid_x509_decode_all(p, len, show_cb, &a, e);
	memset(&der, 0, sizeof(der));
	if (pkid_base64_decode((const char *)p, len, &der, PKID_MAX_FILE_SIZE,
	    e) != PKID_OK) {
		pkid_err_ctx(e, "the input looks like base64 (an EST body) "
		    "but does not decode");
		return e->code;
	}
	if ((rc = pkid_x509_decode_all(der.p, der.len, show_cb, &a, e)) !=
	    PKID_OK)
		pkid_err_ctx(e, "decoding the DER inside the base64");
	/* Say how it was read: "base64" beside every description. */
	for (i = first; i < json_array_size(arr); i++)
		if (json_object_set_new(json_array_get(arr, i), "encoding",
		    json_string("base64")) != 0 && rc == PKID_OK)
			rc = PKID_ERR(e, PKID_E_NOMEM, "no memory");
	pkid_buf_free(&der);
	return rc;
}
