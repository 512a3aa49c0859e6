/*
 * hsm.c - CA keys in a PKCS#11 token: the pkcs11: URI (RFC 7512), the
 * PIN, the checks that give each failure its own code, and key
 * generation inside the token. Using the key is OpenSSL's job, through
 * the PKCS#11 engine (hsm_engine.c).
 */
#include "ca/hsm.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#include <p11-kit/pkcs11.h>

#include "x509/load.h"

int
pkid_hsm_is_uri(const char *ref)
{
	return ref != NULL && strncmp(ref, "pkcs11:", 7) == 0;
}

/* Percent-decode s[0..len) into out (at most max bytes); -1 when bad. */
static long
pct_decode(const char *s, size_t len, unsigned char *out, size_t max)
{
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (n >= max)
			return -1;
		if (s[i] == '%') {
			if (i + 2 >= len || (hi = OPENSSL_hexchar2int(
			    (unsigned char)s[i + 1])) < 0 ||
			    (lo = OPENSSL_hexchar2int(
			    (unsigned char)s[i + 2])) < 0)
				return -1;
			out[n++] = (unsigned char)(hi << 4 | lo);
			i += 2;
		} else
			out[n++] = (unsigned char)s[i];
	}
	return (long)n;
}

/* A label value: decoded, no NUL inside. */
static enum pkid_code
label_attr(const char *v, size_t len, char *out, const char *what,
    struct pkid_err *e)
{
	long n;

	n = pct_decode(v, len, (unsigned char *)out, PKID_HSM_MAX_LABEL);
	if (n < 0 || memchr(out, '\0', (size_t)n) != NULL)
		return PKID_ERR(e, PKID_E_USAGE, "pkcs11: URI: %s= is not a "
		    "label of at most %d bytes (percent-escapes as %%20)",
		    what, PKID_HSM_MAX_LABEL);
	out[n] = '\0';
	return PKID_OK;
}

enum pkid_code
pkid_hsm_uri_parse(const char *s, size_t len, struct pkid_hsm_uri *u,
    struct pkid_err *e)
{
	const char *p, *end, *a, *eq;
	size_t alen;
	long n;

	memset(u, 0, sizeof(*u));
	if (len > PKID_HSM_MAX_URI)
		return PKID_ERR(e, PKID_E_USAGE, "pkcs11: URI longer than %d "
		    "characters", PKID_HSM_MAX_URI);
	if (len < 7 || memcmp(s, "pkcs11:", 7) != 0)
		return PKID_ERR(e, PKID_E_USAGE, "'%.*s' is not a pkcs11: URI "
		    "(pkcs11:token=LABEL;object=LABEL)", (int)len, s);
	if ((p = memchr(s, '?', len)) != NULL) {
		if (p + 1 < s + len && (s + len - p > 10) &&
		    memmem(p, (size_t)(s + len - p), "pin-value", 9) != NULL)
			return PKID_ERR(e, PKID_E_USAGE, "pkcs11: URI: a PIN "
			    "in the URI is refused; name a file or an "
			    "environment variable in [hsm] (pin_file, "
			    "pin_env)");
		return PKID_ERR(e, PKID_E_USAGE, "pkcs11: URI: query "
		    "attributes (after '?') are not supported; the module "
		    "and PIN are [hsm] module, pin_file, pin_env");
	}
	for (p = s + 7, end = s + len; p < end; p = a + alen + 1) {
		a = p;
		alen = (size_t)(end - a);
		if ((eq = memchr(a, ';', alen)) != NULL)
			alen = (size_t)(eq - a);
		if (alen == 0)
			continue;
		if ((eq = memchr(a, '=', alen)) == NULL)
			return PKID_ERR(e, PKID_E_USAGE, "pkcs11: URI: '%.*s' is "
			    "not NAME=VALUE", (int)alen, a);
#define ATTR(name) ((size_t)(eq - a) == strlen(name) && \
	memcmp(a, name, strlen(name)) == 0)
		if (ATTR("token")) {
			if (label_attr(eq + 1, alen - (size_t)(eq - a) - 1,
			    u->token, "token", e) != PKID_OK)
				return e->code;
		} else if (ATTR("object")) {
			if (label_attr(eq + 1, alen - (size_t)(eq - a) - 1,
			    u->object, "object", e) != PKID_OK)
				return e->code;
		} else if (ATTR("id")) {
			n = pct_decode(eq + 1, alen - (size_t)(eq - a) - 1,
			    u->id, sizeof(u->id));
			if (n <= 0)
				return PKID_ERR(e, PKID_E_USAGE, "pkcs11: URI: "
				    "id= is not 1 to %d bytes (as %%01%%02)",
				    PKID_HSM_MAX_ID);
			u->id_len = (size_t)n;
		} else if (ATTR("type")) {
			if (alen - (size_t)(eq - a) - 1 != 7 ||
			    memcmp(eq + 1, "private", 7) != 0)
				return PKID_ERR(e, PKID_E_USAGE, "pkcs11: URI: "
				    "a CA key is type=private");
		} else
			return PKID_ERR(e, PKID_E_USAGE, "pkcs11: URI: "
			    "attribute '%.*s' is not supported (token, "
			    "object, id, type)", (int)(eq - a), a);
#undef ATTR
		if (a + alen >= end)
			break;
	}
	if (u->token[0] == '\0')
		return PKID_ERR(e, PKID_E_USAGE, "pkcs11: URI: token=LABEL is "
		    "required");
	if (u->object[0] == '\0' && u->id_len == 0)
		return PKID_ERR(e, PKID_E_USAGE, "pkcs11: URI: object=LABEL "
		    "(or id=) is required");
	return PKID_OK;
}

/* Percent-encode a label for a URI path attribute (RFC 7512 2.3). */
static void
pct_encode(const char *s, char *out, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t o = 0;

	for (; *s != '\0' && o + 4 < n; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~:[]@!$'()*+,&", c)) {
			out[o++] = (char)c;
		} else {
			out[o++] = '%';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
}

enum pkid_code
pkid_hsm_uri_with_object(const struct pkid_hsm_uri *u, const char *label,
    char *out, size_t n, struct pkid_err *e)
{
	char t[PKID_HSM_MAX_LABEL * 3 + 8], o[PKID_HSM_MAX_LABEL * 3 + 8];
	int w;

	if (strlen(label) > PKID_HSM_MAX_LABEL)
		return PKID_ERR(e, PKID_E_USAGE, "pkcs11: object label '%s' "
		    "longer than %d bytes", label, PKID_HSM_MAX_LABEL);
	pct_encode(u->token, t, sizeof(t));
	pct_encode(label, o, sizeof(o));
	w = snprintf(out, n, "pkcs11:token=%s;object=%s", t, o);
	if (w < 0 || (size_t)w >= n || w > PKID_HSM_MAX_URI)
		return PKID_ERR(e, PKID_E_USAGE, "pkcs11: URI for object %s "
		    "too long", label);
	return PKID_OK;
}

enum pkid_code
pkid_hsm_pin(const struct pkid_config *cfg, char *pin, size_t n,
    struct pkid_err *e)
{
	struct stat sb;
	const char *v;
	FILE *f;
	size_t l;

	pin[0] = '\0';
	if (cfg->hsm_pin_env[0] != '\0') {
		if ((v = getenv(cfg->hsm_pin_env)) == NULL || v[0] == '\0')
			return PKID_ERR(e, PKID_E_HSM_PIN, "[hsm] pin_env names "
			    "%s, which is not set in pkid's environment",
			    cfg->hsm_pin_env);
		if (strlen(v) >= n)
			return PKID_ERR(e, PKID_E_HSM_PIN, "the PIN in %s is "
			    "longer than %zu characters", cfg->hsm_pin_env,
			    n - 1);
		snprintf(pin, n, "%s", v);
		return PKID_OK;
	}
	if (cfg->hsm_pin_file[0] == '\0')
		return PKID_ERR(e, PKID_E_HSM_PIN, "the CA key is in a PKCS#11 "
		    "token and no PIN source is configured: set [hsm] "
		    "pin_file or pin_env in %s", cfg->path[0] != '\0' ?
		    cfg->path : "pkid.conf");
	if ((f = fopen(cfg->hsm_pin_file, "r")) == NULL)
		return PKID_ERR(e, PKID_E_HSM_PIN, "the PIN file %s cannot be "
		    "read: %s", cfg->hsm_pin_file, strerror(errno));
	if (fstat(fileno(f), &sb) == 0 && (sb.st_mode & S_IROTH) != 0) {
		fclose(f);
		return PKID_ERR(e, PKID_E_HSM_PIN, "the PIN file %s is "
		    "readable by every user: chmod 600 %s", cfg->hsm_pin_file,
		    cfg->hsm_pin_file);
	}
	if (fgets(pin, (int)n, f) == NULL)
		pin[0] = '\0';
	fclose(f);
	l = strcspn(pin, "\r\n");
	pin[l] = '\0';
	if (l == 0) {
		OPENSSL_cleanse(pin, n);
		return PKID_ERR(e, PKID_E_HSM_PIN, "the PIN file %s is empty",
		    cfg->hsm_pin_file);
	}
	return PKID_OK;
}

/* The module, opened; a session on the token after p11_login. */
struct p11 {
	void *dl;			/* dlopen handle */
	CK_FUNCTION_LIST_PTR f;		/* its functions */
	int inited;			/* we called C_Initialize */
	CK_SESSION_HANDLE sess;		/* session */
	int have_sess;			/* sess is open */
};

static enum pkid_code
p11_open(const char *module, struct p11 *p, struct pkid_err *e)
{
	CK_C_GetFunctionList gfl;
	CK_C_INITIALIZE_ARGS args;
	CK_RV rv;

	memset(p, 0, sizeof(*p));
	if ((p->dl = dlopen(module, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return PKID_ERR(e, PKID_E_HSM_MODULE, "the PKCS#11 module %s "
		    "cannot be loaded: %s", module, dlerror());
	*(void **)&gfl = dlsym(p->dl, "C_GetFunctionList");
	if (gfl == NULL || gfl(&p->f) != CKR_OK || p->f == NULL)
		return PKID_ERR(e, PKID_E_HSM_MODULE, "%s is not a PKCS#11 "
		    "module (no C_GetFunctionList)", module);
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = p->f->C_Initialize(&args);
	if (rv == CKR_OK)
		p->inited = 1;
	else if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		return PKID_ERR(e, PKID_E_HSM_MODULE, "the PKCS#11 module %s "
		    "does not initialise (CKR 0x%lx)%s", module,
		    (unsigned long)rv, getenv("SOFTHSM2_CONF") == NULL ? "" :
		    "; check SOFTHSM2_CONF and its tokendir");
	return PKID_OK;
}

static void
p11_close(struct p11 *p)
{
	if (p->have_sess)
		p->f->C_CloseSession(p->sess);
	/* C_Finalize only when nobody else (the engine) initialised the
	 * module in this process: it would end their sessions too. */
	if (p->inited)
		p->f->C_Finalize(NULL);
	if (p->dl != NULL)
		dlclose(p->dl);
	memset(p, 0, sizeof(*p));
}

/* The slot whose token's label is label. */
static enum pkid_code
p11_find_token(struct p11 *p, const char *label, CK_SLOT_ID *slot,
    struct pkid_err *e)
{
	CK_SLOT_ID ids[64];
	CK_ULONG n = 64, i;
	CK_TOKEN_INFO ti;
	char l[33];
	size_t k;

	if (p->f->C_GetSlotList(CK_TRUE, ids, &n) != CKR_OK)
		return PKID_ERR(e, PKID_E_HSM_TOKEN, "the PKCS#11 module "
		    "lists no slots");
	for (i = 0; i < n; i++) {
		if (p->f->C_GetTokenInfo(ids[i], &ti) != CKR_OK)
			continue;
		memcpy(l, ti.label, 32);
		l[32] = '\0';
		for (k = 32; k > 0 && l[k - 1] == ' '; k--)
			l[k - 1] = '\0';
		if (strcmp(l, label) == 0) {
			*slot = ids[i];
			return PKID_OK;
		}
	}
	return PKID_ERR(e, PKID_E_HSM_TOKEN, "no token labelled '%s' in the "
	    "PKCS#11 module (%lu token(s) present)", label, (unsigned long)n);
}

static enum pkid_code
p11_login(struct p11 *p, CK_SLOT_ID slot, const char *pin,
    struct pkid_err *e)
{
	CK_RV rv;

	rv = p->f->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION,
	    NULL, NULL, &p->sess);
	if (rv != CKR_OK)
		return PKID_ERR(e, PKID_E_HSM_TOKEN, "no session on the token "
		    "(CKR 0x%lx)", (unsigned long)rv);
	p->have_sess = 1;
	rv = p->f->C_Login(p->sess, CKU_USER, (CK_UTF8CHAR_PTR)pin,
	    (CK_ULONG)strlen(pin));
	if (rv == CKR_OK || rv == CKR_USER_ALREADY_LOGGED_IN)
		return PKID_OK;
	if (rv == CKR_PIN_LOCKED)
		return PKID_ERR(e, PKID_E_HSM_PIN, "the token's user PIN is "
		    "locked (too many wrong tries); the security officer must "
		    "reset it");
	if (rv == CKR_PIN_INCORRECT || rv == CKR_PIN_LEN_RANGE ||
	    rv == CKR_PIN_INVALID)
		return PKID_ERR(e, PKID_E_HSM_PIN, "the token refused the user "
		    "PIN (CKR 0x%lx)", (unsigned long)rv);
	return PKID_ERR(e, PKID_E_HSM_PIN, "logging in to the token failed "
	    "(CKR 0x%lx)", (unsigned long)rv);
}

/* 1 when a private key with the URI's label/id is in the token. */
static int
p11_has_key(struct p11 *p, const struct pkid_hsm_uri *u)
{
	CK_OBJECT_CLASS cls = CKO_PRIVATE_KEY;
	CK_ATTRIBUTE t[3];
	CK_OBJECT_HANDLE h;
	CK_ULONG n = 0, nt = 0;

	t[nt].type = CKA_CLASS;
	t[nt].pValue = &cls;
	t[nt++].ulValueLen = sizeof(cls);
	if (u->object[0] != '\0') {
		t[nt].type = CKA_LABEL;
		t[nt].pValue = (void *)u->object;
		t[nt++].ulValueLen = strlen(u->object);
	}
	if (u->id_len > 0) {
		t[nt].type = CKA_ID;
		t[nt].pValue = (void *)u->id;
		t[nt++].ulValueLen = u->id_len;
	}
	if (p->f->C_FindObjectsInit(p->sess, t, nt) != CKR_OK)
		return 0;
	if (p->f->C_FindObjects(p->sess, &h, 1, &n) != CKR_OK)
		n = 0;
	p->f->C_FindObjectsFinal(p->sess);
	return n > 0;
}

/* Module open, token found, logged in. */
static enum pkid_code
p11_session(const struct pkid_config *cfg, const struct pkid_hsm_uri *u,
    struct p11 *p, struct pkid_err *e)
{
	char pin[PKID_HSM_MAX_PIN + 1];
	CK_SLOT_ID slot = 0;
	enum pkid_code rc;

	/* Our messages are about the token, not OpenSSL's leftovers. */
	ERR_clear_error();
	if ((rc = pkid_hsm_pin(cfg, pin, sizeof(pin), e)) != PKID_OK)
		return rc;
	if ((rc = p11_open(cfg->hsm_module, p, e)) == PKID_OK &&
	    (rc = p11_find_token(p, u->token, &slot, e)) == PKID_OK)
		rc = p11_login(p, slot, pin, e);
	OPENSSL_cleanse(pin, sizeof(pin));
	return rc;
}

enum pkid_code
pkid_hsm_check(const struct pkid_config *cfg, const char *uri,
    struct pkid_err *e)
{
	struct pkid_hsm_uri u;
	struct p11 p;
	enum pkid_code rc;

	memset(&p, 0, sizeof(p));
	if ((rc = pkid_hsm_uri_parse(uri, strlen(uri), &u, e)) != PKID_OK)
		return rc;
	if ((rc = p11_session(cfg, &u, &p, e)) == PKID_OK && !p11_has_key(&p,
	    &u))
		rc = PKID_ERR(e, PKID_E_HSM_OBJECT, "token '%s' holds no "
		    "private key %s%s", u.token, u.object[0] != '\0' ?
		    "labelled " : "with the id given", u.object);
	p11_close(&p);
	return rc;
}

/* The DER of a named curve's OID (CKA_EC_PARAMS). */
static int
ec_params(int nid, unsigned char *out, size_t n)
{
	ASN1_OBJECT *o = OBJ_nid2obj(nid);
	unsigned char *q = out;
	int l;

	if (o == NULL || (l = i2d_ASN1_OBJECT(o, NULL)) <= 0 || (size_t)l > n)
		return -1;
	return i2d_ASN1_OBJECT(o, &q);
}

static enum pkid_code
p11_generate(struct p11 *p, const struct pkid_hsm_uri *u, const char *type,
    struct pkid_err *e)
{
	CK_BBOOL yes = CK_TRUE, no = CK_FALSE;
	CK_MECHANISM mech = { 0, NULL, 0 };
	CK_OBJECT_HANDLE pub, priv;
	CK_ATTRIBUTE pt[8], kt[10];
	CK_ULONG np = 0, nk = 0, bits = 0;
	unsigned char params[16], exp[3] = { 1, 0, 1 };
	unsigned char id[20];
	const char *lab = u->object;
	int nid = NID_undef, pl = 0;
	CK_RV rv;
	char *end;

	if (strcmp(type, "ec-p256") == 0)
		nid = NID_X9_62_prime256v1;
	else if (strcmp(type, "ec-p384") == 0)
		nid = NID_secp384r1;
	else if (strcmp(type, "ec-p521") == 0)
		nid = NID_secp521r1;
	else if (strncmp(type, "rsa-", 4) == 0) {
		bits = strtoul(type + 4, &end, 10);
		if (*end != '\0' || (bits != 2048 && bits != 3072 &&
		    bits != 4096))
			bits = 0;
	}
	if (nid == NID_undef && bits == 0)
		return PKID_ERR(e, PKID_E_USAGE, "--key %s cannot be made in "
		    "a PKCS#11 token (use ec-p256, ec-p384, ec-p521, rsa-2048, "
		    "rsa-3072 or rsa-4096)", type);
	/* CKA_ID: the label's SHA-1, so the engine pairs the halves. */
	if (u->id_len > 0)
		memcpy(id, u->id, u->id_len < sizeof(id) ? u->id_len :
		    sizeof(id));
	else
		EVP_Digest(lab, strlen(lab), id, NULL, EVP_sha1(), NULL);
#define A(t, n, ty, pv, l) do { t[n].type = (ty); t[n].pValue = (void *)(pv); \
	t[n++].ulValueLen = (l); } while (0)
	A(pt, np, CKA_TOKEN, &yes, sizeof(yes));
	A(pt, np, CKA_VERIFY, &yes, sizeof(yes));
	A(pt, np, CKA_LABEL, lab, strlen(lab));
	A(pt, np, CKA_ID, id, u->id_len > 0 && u->id_len < sizeof(id) ?
	    u->id_len : sizeof(id));
	A(kt, nk, CKA_TOKEN, &yes, sizeof(yes));
	A(kt, nk, CKA_PRIVATE, &yes, sizeof(yes));
	A(kt, nk, CKA_SENSITIVE, &yes, sizeof(yes));
	A(kt, nk, CKA_EXTRACTABLE, &no, sizeof(no));
	A(kt, nk, CKA_SIGN, &yes, sizeof(yes));
	A(kt, nk, CKA_LABEL, lab, strlen(lab));
	A(kt, nk, CKA_ID, id, u->id_len > 0 && u->id_len < sizeof(id) ?
	    u->id_len : sizeof(id));
	if (nid != NID_undef) {
		if ((pl = ec_params(nid, params, sizeof(params))) <= 0)
			return PKID_ERR(e, PKID_E_INTERNAL, "curve parameters");
		mech.mechanism = CKM_EC_KEY_PAIR_GEN;
		A(pt, np, CKA_EC_PARAMS, params, (CK_ULONG)pl);
	} else {
		mech.mechanism = CKM_RSA_PKCS_KEY_PAIR_GEN;
		A(pt, np, CKA_MODULUS_BITS, &bits, sizeof(bits));
		A(pt, np, CKA_PUBLIC_EXPONENT, exp, sizeof(exp));
		/* An RSA CA also decrypts SCEP requests with its key. */
		A(kt, nk, CKA_DECRYPT, &yes, sizeof(yes));
	}
#undef A
	rv = p->f->C_GenerateKeyPair(p->sess, &mech, pt, np, kt, nk, &pub,
	    &priv);
	if (rv != CKR_OK)
		return PKID_ERR(e, PKID_E_HSM_TOKEN, "the token did not "
		    "generate a %s key (CKR 0x%lx)", type, (unsigned long)rv);
	return PKID_OK;
}

enum pkid_code
pkid_hsm_keygen(const struct pkid_config *cfg, const char *uri,
    const char *type, int *created, struct pkid_err *e)
{
	struct pkid_hsm_uri u;
	struct p11 p;
	enum pkid_code rc;

	*created = 0;
	memset(&p, 0, sizeof(p));
	if ((rc = pkid_hsm_uri_parse(uri, strlen(uri), &u, e)) != PKID_OK)
		return rc;
	if (u.object[0] == '\0')
		return PKID_ERR(e, PKID_E_USAGE, "a key made in the token needs "
		    "a label: object=LABEL in %s", uri);
	if ((rc = p11_session(cfg, &u, &p, e)) == PKID_OK && !p11_has_key(&p,
	    &u)) {
		if ((rc = p11_generate(&p, &u, type, e)) == PKID_OK)
			*created = 1;
	}
	p11_close(&p);
	return rc;
}

enum pkid_code
pkid_hsm_load_key(const struct pkid_config *cfg, const char *uri,
    EVP_PKEY **out, struct pkid_err *e)
{
	char pin[PKID_HSM_MAX_PIN + 1];
	enum pkid_code rc;

	*out = NULL;
	if ((rc = pkid_hsm_check(cfg, uri, e)) != PKID_OK)
		return rc;
	if ((rc = pkid_hsm_pin(cfg, pin, sizeof(pin), e)) != PKID_OK)
		return rc;
	rc = pkid_hsm_engine_load(cfg->hsm_module, pin, uri, out, e);
	OPENSSL_cleanse(pin, sizeof(pin));
	return rc;
}

enum pkid_code
pkid_ca_key_load(const struct pkid_config *cfg, const char *dir,
    const char *ref, EVP_PKEY **out, struct pkid_err *e)
{
	char p[1400];

	*out = NULL;
	if (pkid_hsm_is_uri(ref))
		return pkid_hsm_load_key(cfg, ref, out, e);
	snprintf(p, sizeof(p), "%s/%s", dir, ref);
	return pkid_x509_load_key_file(p, out, e);
}
