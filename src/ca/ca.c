/*
 * ca.c - create and open a CA directory.
 */
#include "ca/ca.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "ca/build.h"
#include "ca/ca_int.h"
#include "ca/hsm.h"
#include "ca/policy.h"
#include "ca/rollover.h"
#include "ca/signer.h"
#include "core/clock.h"
#include "core/log.h"
#include "trust/publish.h"
#include "x509/load.h"

/* Files of a CA directory, relative to it. */
#define F_CONF "pkid.conf"
#define F_DB "pkid.db"
#define F_ROOT "root.pem"
#define F_ISSUING "issuing.pem"
#define F_ROOT_KEY "keys/root.key"
#define F_ISSUING_KEY "keys/issuing.key"
#define F_TLS_CERT "tls/server.pem"
#define F_TLS_KEY "tls/server.key"

static void
path_of(char *out, size_t len, const char *dir, const char *file)
{
	snprintf(out, len, "%s/%s", dir, file);
}

/*
 * The store of the CA in dir: [store] url, "sqlite:PATH" relative to dir
 * (pkid.db by default) or a PostgreSQL URL as it is.
 */
static void
store_url(const char *dir, const struct pkid_config *cfg, char *out,
    size_t len)
{
	const char *u = cfg->store_url[0] != '\0' ? cfg->store_url :
	    "sqlite:" F_DB;

	if (strncmp(u, "sqlite:", 7) != 0)
		snprintf(out, len, "%s", u);
	else if (u[7] == '/')
		snprintf(out, len, "%s", u);
	else
		snprintf(out, len, "sqlite:%s/%s", dir, u + 7);
}

/* Counts the generations a store already has (ca init on a shared
 * database that holds a CA). */
static enum pkid_code
count_gen(const struct pkid_ca_gen *g, void *arg, struct pkid_err *e)
{
	(void)g;
	(void)e;
	(*(int *)arg)++;
	return PKID_OK;
}

static int
exists(const char *dir, const char *file)
{
	char p[1200];
	struct stat st;

	path_of(p, sizeof(p), dir, file);
	return stat(p, &st) == 0;
}

static enum pkid_code
mkdirs(const char *dir, struct pkid_err *e)
{
	char p[1200];
	size_t i;
	const char *subs[] = { "keys", "tls" };

	snprintf(p, sizeof(p), "%s", dir);
	for (i = 1; p[i] != '\0'; i++) {
		if (p[i] != '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			return PKID_ERR(e, PKID_E_IO_WRITE, "mkdir %s: %s", p,
			    strerror(errno));
		p[i] = '/';
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		return PKID_ERR(e, PKID_E_IO_WRITE, "mkdir %s: %s", dir,
		    strerror(errno));
	for (i = 0; i < 2; i++) {
		path_of(p, sizeof(p), dir, subs[i]);
		if (mkdir(p, 0700) != 0 && errno != EEXIST)
			return PKID_ERR(e, PKID_E_IO_WRITE, "mkdir %s: %s", p,
			    strerror(errno));
	}
	return PKID_OK;
}

enum pkid_code
pkid_ca_write_pem(const char *dir, const char *file, X509 *cert,
    EVP_PKEY *key, X509 *extra, struct pkid_err *e)
{
	struct pkid_buf b;
	char p[1200];
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_buf_init(&b, 1 << 20);
	if (cert != NULL)
		PKID_TRY(pkid_x509_cert_pem(cert, &b, e));
	if (extra != NULL)
		PKID_TRY(pkid_x509_cert_pem(extra, &b, e));
	if (key != NULL)
		PKID_TRY(pkid_x509_key_pem(key, &b, e));
	path_of(p, sizeof(p), dir, file);
	rc = pkid_file_write(p, b.p, b.len, key != NULL ? 0600 : 0644, e);
out:
	pkid_buf_free(&b);
	return rc;
}

/* CN of name with suffix appended (" Root CA" / " Issuing CA"). */
static enum pkid_code
suffixed_name(const X509_NAME *base, const char *suffix, X509_NAME **out,
    struct pkid_err *e)
{
	X509_NAME *n = X509_NAME_dup(base);
	ASN1_STRING *d;
	char cn[256];
	int i;

	*out = NULL;
	if (n == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	i = X509_NAME_get_index_by_NID(n, NID_commonName, -1);
	if (i < 0) {
		X509_NAME_free(n);
		return PKID_ERR(e, PKID_E_SUBJECT_INVALID,
		    "the CA subject needs a CN");
	}
	d = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(n, i));
	snprintf(cn, sizeof(cn), "%.*s%s", ASN1_STRING_length(d),
	    ASN1_STRING_get0_data(d), suffix);
	/* Replace the entry (setting its data in place would leave the
	 * name's cached DER stale). */
	X509_NAME_ENTRY_free(X509_NAME_delete_entry(n, i));
	if (!X509_NAME_add_entry_by_NID(n, NID_commonName, MBSTRING_UTF8,
	    (unsigned char *)cn, -1, i, 0)) {
		X509_NAME_free(n);
		return PKID_ERR(e, PKID_E_SUBJECT_INVALID,
		    "CN '%s' is too long (64 characters at most)", cn);
	}
	*out = n;
	return PKID_OK;
}

enum pkid_code
pkid_ca_make_cert(const X509_NAME *subject, EVP_PKEY *key, X509 *issuer,
    EVP_PKEY *issuer_key, int64_t nb, int64_t na, int pathlen,
    const struct pkid_config *cfg, int root_gen, X509 **out,
    struct pkid_err *e)
{
	struct pkid_certspec s;
	struct pkid_signer *sg = NULL;
	char serial[48], cdp[PKID_RA_CRL_MAX_URL + 32];
	char aia[PKID_RA_CRL_MAX_URL + 32];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&s, 0, sizeof(s));
	s.subject = subject;
	s.pubkey = key;
	s.issuer = issuer;
	s.not_before = nb;
	s.not_after = na;
	s.is_ca = 1;
	s.pathlen = pathlen;
	if (root_gen > 0) {
		s.crl_url = pkid_ca_pub_url(cfg, PKID_PUB_CRL, 1, root_gen, cdp,
		    sizeof(cdp));
		s.aia_url = pkid_ca_pub_url(cfg, PKID_PUB_CA_ISSUERS, 1,
		    root_gen, aia, sizeof(aia));
	}
	PKID_TRY(pkid_cert_build(&s, out, serial, e));
	PKID_TRY(pkid_lint_tbs(*out, e));
	sg = pkid_signer_from_key(issuer_key, issuer, cfg->digest, e);
	PKID_CHECK(sg != NULL, e->code, "signer");
	PKID_TRY(pkid_signer_sign_cert(sg, *out, e));
	rc = PKID_OK;
out:
	pkid_signer_free(sg);
	if (rc != PKID_OK) {
		X509_free(*out);
		*out = NULL;
	}
	return rc;
}

int64_t
pkid_ca_cert_na(X509 *x)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

int64_t
pkid_ca_cert_nb(X509 *x)
{
	struct tm tm;

	if (ASN1_TIME_to_tm(X509_get0_notBefore(x), &tm) != 1)
		return 0;
	return (int64_t)timegm(&tm);
}

enum pkid_code
pkid_ca_record_gen(struct pkid_store *st, const char *ca_name,
    const char *role, X509 *x, const char *key_ref, int64_t *id,
    struct pkid_err *e)
{
	return pkid_ca_record_gen_n(st, ca_name, role, 1, x, key_ref, id, e);
}

enum pkid_code
pkid_ca_record_gen_n(struct pkid_store *st, const char *ca_name,
    const char *role, int n, X509 *x, const char *key_ref, int64_t *id,
    struct pkid_err *e)
{
	struct pkid_ca_gen g;
	unsigned char *der = NULL;
	int len = i2d_X509(x, &der);
	enum pkid_code rc;

	if (len <= 0)
		return PKID_ERR(e, PKID_E_CRYPTO, "encoding CA certificate");
	memset(&g, 0, sizeof(g));
	snprintf(g.ca_name, sizeof(g.ca_name), "%s", ca_name);
	g.generation = n;
	snprintf(g.role, sizeof(g.role), "%s", role);
	snprintf(g.state, sizeof(g.state), "current");
	pkid_x509_name_text(X509_get_subject_name(x), g.subject,
	    sizeof(g.subject));
	g.not_before = pkid_ca_cert_nb(x);
	g.not_after = pkid_ca_cert_na(x);
	g.der = der;
	g.der_len = (size_t)len;
	snprintf(g.key_ref, sizeof(g.key_ref), "%s", key_ref);
	rc = pkid_store_ca_gen_add(st, &g, e);
	if (id != NULL)
		*id = g.id;
	OPENSSL_free(der);
	return rc;
}

/* A word of letters, digits and '-' labels with a dot, the last label
 * not all digits: a domain name, not an address or a version. */
static int
is_domain(const char *w, size_t n)
{
	size_t i, label = 0, last = 0;
	int dots = 0, alpha = 0;

	if (n == 0 || n > 253 || w[0] == '.' || w[n - 1] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		if (w[i] == '.') {
			if (label == 0)
				return 0;
			dots++;
			label = 0;
			last = i + 1;
			alpha = 0;
			continue;
		}
		if (!isalnum((unsigned char)w[i]) && w[i] != '-')
			return 0;
		alpha |= isalpha((unsigned char)w[i]) != 0;
		if (++label > 63)
			return 0;
	}
	return dots > 0 && alpha && last < n;
}

int
pkid_ca_subject_domain(const char *subject, char *out, size_t len)
{
	static const int words_of[] = { NID_commonName,
	    NID_organizationName, NID_organizationalUnitName };
	X509_NAME *n = NULL;
	const char *v, *w;
	size_t used = 0, k, wl;
	int i;

	out[0] = '\0';
	if (subject == NULL || len == 0 ||
	    pkid_name_parse(subject, &n, NULL) != PKID_OK)
		return 0;
	for (i = 0; i < X509_NAME_entry_count(n); i++) {
		X509_NAME_ENTRY *ne = X509_NAME_get_entry(n, i);
		ASN1_STRING *d = X509_NAME_ENTRY_get_data(ne);

		if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(ne)) !=
		    NID_domainComponent)
			continue;
		used += (size_t)snprintf(out + used, used < len ? len - used :
		    0, "%s%.*s", used > 0 ? "." : "", ASN1_STRING_length(d),
		    (const char *)ASN1_STRING_get0_data(d));
	}
	if (used > 0 && used < len && is_domain(out, used)) {
		X509_NAME_free(n);
		return 1;
	}
	out[0] = '\0';
	for (k = 0; k < sizeof(words_of) / sizeof(words_of[0]); k++) {
		i = X509_NAME_get_index_by_NID(n, words_of[k], -1);
		if (i < 0)
			continue;
		v = (const char *)ASN1_STRING_get0_data(X509_NAME_ENTRY_get_data(
		    X509_NAME_get_entry(n, i)));
		for (w = v; *w != '\0'; w += wl) {
			w += strspn(w, " ");
			wl = strcspn(w, " ");
			if (is_domain(w, wl) && wl < len) {
				snprintf(out, len, "%.*s", (int)wl, w);
				X509_NAME_free(n);
				return 1;
			}
		}
	}
	X509_NAME_free(n);
	return 0;
}

/*
 * The names every profile allows, from --domain (or the subject) and
 * --ip-ranges: never "any name" unless "*" is written (README "Security
 * model"). --set profile.NAME.san_* may still change one profile.
 */
static enum pkid_code
init_names(const struct pkid_ca_init_opts *o, struct pkid_config *cfg,
    struct pkid_err *e)
{
	char dom[512], set[PKID_MAX_CONFIG_VALUE + 128];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (o->domain != NULL)
		snprintf(dom, sizeof(dom), "%s", o->domain);
	else if (!pkid_ca_subject_domain(o->subject, dom, sizeof(dom)))
		return PKID_ERR(e, PKID_E_USAGE, "say which DNS names devices "
		    "may get: --domain SUFFIX (e.g. --domain example.com; "
		    "several as a,b; '*' allows any name), or a --subject "
		    "with DC= parts or a domain name (%s has none)",
		    o->subject != NULL ? o->subject : "CN=pkid Demo CA");
	for (i = 0; i < cfg->n_profiles; i++) {
		snprintf(set, sizeof(set), "profile.%s.san_dns_suffixes=%s",
		    cfg->profiles[i].name, dom);
		PKID_TRY(pkid_config_set(cfg, set, e));
		snprintf(set, sizeof(set), "profile.%s.san_ip_ranges=%s",
		    cfg->profiles[i].name, o->ip_ranges != NULL ?
		    o->ip_ranges : "");
		PKID_TRY(pkid_config_set(cfg, set, e));
	}
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
init_config(const struct pkid_ca_init_opts *o, struct pkid_config *cfg,
    struct pkid_err *e)
{
	int i;

	pkid_config_defaults(cfg);
	if (init_names(o, cfg, e) != PKID_OK)
		return e->code;
	for (i = 0; i < o->n_sets; i++)
		if (pkid_config_set(cfg, o->sets[i], e) != PKID_OK)
			return e->code;
	return PKID_OK;
}

struct init_state {
	EVP_PKEY *root_key, *iss_key;	/* keys made */
	char root_ref[PKID_HSM_MAX_URI + 1]; /* their key_ref: a path */
	char iss_ref[PKID_HSM_MAX_URI + 1];  /* below DIR or a pkcs11: URI */
	X509 *root, *iss;		/* certificates made */
	X509_NAME *base, *rname, *iname; /* names */
	struct pkid_store *store;	/* the new store */
};

static void
init_state_free(struct init_state *s)
{
	EVP_PKEY_free(s->root_key);
	EVP_PKEY_free(s->iss_key);
	X509_free(s->root);
	X509_free(s->iss);
	X509_NAME_free(s->base);
	X509_NAME_free(s->rname);
	X509_NAME_free(s->iname);
	pkid_store_close(s->store);
}

/* One CA key inside a PKCS#11 token, made unless there. */
static enum pkid_code
token_keygen(const struct pkid_config *cfg, const char *uri,
    const char *type, struct pkid_err *e)
{
	int created = 0;

	if (pkid_hsm_keygen(cfg, uri, type, &created, e) != PKID_OK) {
		pkid_err_ctx(e, "CA key %s", uri);
		return e->code;
	}
	pkid_log(PKID_LOG_INFO, "ca init: %s CA key %s in the token",
	    created ? "made" : "using the existing", uri);
	return PKID_OK;
}

/* The CA keys: files (written later) or in a token (o->key_uri). */
static enum pkid_code
init_keys(const struct pkid_ca_init_opts *o, const struct pkid_config *cfg,
    struct init_state *s, struct pkid_err *e)
{
	const char *type = o->key != NULL ? o->key : "ec-p256";
	char lab[PKID_HSM_MAX_LABEL + 8];
	struct pkid_hsm_uri u;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (o->key_uri == NULL) {
		snprintf(s->root_ref, sizeof(s->root_ref), "%s", F_ROOT_KEY);
		snprintf(s->iss_ref, sizeof(s->iss_ref), "%s", F_ISSUING_KEY);
		PKID_TRY(pkid_key_generate(type, &s->root_key, e));
		if (!o->root_only)
			PKID_TRY(pkid_key_generate(type, &s->iss_key, e));
		return PKID_OK;
	}
	PKID_TRY(pkid_hsm_uri_parse(o->key_uri, strlen(o->key_uri), &u, e));
	PKID_CHECK(u.object[0] != '\0', PKID_E_USAGE, "--key-uri needs "
	    "object=LABEL (the key's label in the token)");
	if (o->root_only) {
		snprintf(s->root_ref, sizeof(s->root_ref), "%s", o->key_uri);
		PKID_TRY(token_keygen(cfg, s->root_ref, type, e));
		return pkid_hsm_load_key(cfg, s->root_ref, &s->root_key, e);
	}
	snprintf(s->iss_ref, sizeof(s->iss_ref), "%s", o->key_uri);
	snprintf(lab, sizeof(lab), "%s-root", u.object);
	PKID_TRY(pkid_hsm_uri_with_object(&u, lab, s->root_ref,
	    sizeof(s->root_ref), e));
	/* Both made before either is loaded: the engine lists a token's
	 * keys once. */
	PKID_TRY(token_keygen(cfg, s->root_ref, type, e));
	PKID_TRY(token_keygen(cfg, s->iss_ref, type, e));
	PKID_TRY(pkid_hsm_load_key(cfg, s->root_ref, &s->root_key, e));
	rc = pkid_hsm_load_key(cfg, s->iss_ref, &s->iss_key, e);
out:
	return rc;
}

static enum pkid_code
init_certs(const struct pkid_ca_init_opts *o, const struct pkid_config *cfg,
    struct init_state *s, struct pkid_err *e)
{
	int64_t now = (int64_t)pkid_now();
	int64_t days = o->days > 0 ? o->days : 3650;
	int64_t nb = now - 300, rna = now + days * 86400, ina;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(pkid_name_parse(o->subject != NULL ? o->subject :
	    "CN=pkid Demo CA", &s->base, e));
	PKID_TRY(init_keys(o, cfg, s, e));
	if (o->root_only) {
		PKID_TRY(pkid_ca_make_cert(s->base, s->root_key, NULL, s->root_key,
		    nb, rna, -1, cfg, 0, &s->root, e));
		return PKID_OK;
	}
	PKID_TRY(suffixed_name(s->base, " Root CA", &s->rname, e));
	PKID_TRY(suffixed_name(s->base, " Issuing CA", &s->iname, e));
	PKID_TRY(pkid_ca_make_cert(s->rname, s->root_key, NULL, s->root_key, nb,
	    rna, -1, cfg, 0, &s->root, e));
	/* The issuing CA lives half the root's lifetime: room to roll over
	 * under the same root. */
	ina = now + days * 86400 / 2;
	PKID_TRY(pkid_ca_make_cert(s->iname, s->iss_key, s->root, s->root_key, nb,
	    ina > nb + 86400 ? ina : rna, 0, cfg, 1, &s->iss, e));
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_ca_init(const char *dir, const struct pkid_ca_init_opts *o,
    struct pkid_err *e)
{
	struct pkid_rollover_plan plan;
	struct init_state s;
	struct pkid_config *cfg = NULL;
	struct pkid_buf conf;
	char p[1200], url[PKID_STORE_URL_MAX + 1200];
	int64_t iss_id = 0;
	int ngen = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&s, 0, sizeof(s));
	pkid_buf_init(&conf, 1);
	PKID_CHECK(!exists(dir, F_CONF) && !exists(dir, F_DB) &&
	    !exists(dir, F_ROOT), PKID_E_CA_EXISTS,
	    "%s already holds a CA (pkid.conf, pkid.db or root.pem)", dir);
	PKID_OSSL_PTR(cfg = calloc(1, sizeof(*cfg)), PKID_E_NOMEM, "no memory");
	PKID_TRY(init_config(o, cfg, e));
	PKID_TRY(init_certs(o, cfg, &s, e));
	/* The settings must let the issuing CA roll over in time; refuse
	 * before anything is written. */
	PKID_TRY(pkid_rollover_plan(cfg, pkid_ca_cert_nb(s.iss != NULL ? s.iss :
	    s.root), pkid_ca_cert_na(s.iss != NULL ? s.iss : s.root), &plan, e));
	PKID_TRY(mkdirs(dir, e));
	/* The store first: a shared database that holds a CA already
	 * refuses before any key is written. */
	store_url(dir, cfg, url, sizeof(url));
	PKID_TRY(pkid_store_open(url, &s.store, e));
	PKID_TRY(pkid_store_ca_gen_list(s.store, NULL, count_gen, &ngen, e));
	PKID_CHECK(ngen == 0, PKID_E_CA_EXISTS, "the store of [store] url "
	    "already holds a CA (%d generations): one CA per database",
	    ngen);
	/* Keys in a token stay there: no file. */
	if (!pkid_hsm_is_uri(s.root_ref))
		PKID_TRY(pkid_ca_write_pem(dir, F_ROOT_KEY, NULL, s.root_key,
		    NULL, e));
	PKID_TRY(pkid_ca_write_pem(dir, F_ROOT, s.root, NULL, NULL, e));
	if (s.iss != NULL) {
		if (!pkid_hsm_is_uri(s.iss_ref))
			PKID_TRY(pkid_ca_write_pem(dir, F_ISSUING_KEY, NULL,
			    s.iss_key, NULL, e));
		PKID_TRY(pkid_ca_write_pem(dir, F_ISSUING, s.iss, NULL, NULL, e));
	}
	PKID_TRY(pkid_ca_record_gen(s.store, cfg->ca_name, "root", s.root,
	    s.root_ref, s.iss == NULL ? &iss_id : NULL, e));
	if (s.iss != NULL)
		PKID_TRY(pkid_ca_record_gen(s.store, cfg->ca_name, "issuing",
		    s.iss, s.iss_ref, &iss_id, e));
	PKID_TRY(pkid_ca_init_tls(dir, cfg, s.store, iss_id,
	    s.iss != NULL ? s.iss : s.root,
	    s.iss != NULL ? s.iss_key : s.root_key, e));
	/* SCEP needs an RSA key; an RSA CA decrypts with its own. */
	if (EVP_PKEY_get_base_id(s.iss != NULL ? s.iss_key : s.root_key) !=
	    EVP_PKEY_RSA)
		PKID_TRY(pkid_ca_init_ra(dir, cfg, s.store,
		    s.iss != NULL ? s.iss : s.root,
		    s.iss != NULL ? s.iss_key : s.root_key, e));
	/* The key and certificate that sign the trust bundle pkid
	 * publishes (src/trust/publish.h), issued by the root. */
	PKID_TRY(pkid_trust_signer_init(dir, cfg->ca_name, cfg->digest, s.root,
	    s.root_key, e));
	PKID_TRY(pkid_store_audit(s.store, "cli", "ca-init", cfg->ca_name,
	    "ok", dir, e));
	PKID_TRY(pkid_config_write(cfg, &conf, e));
	path_of(p, sizeof(p), dir, F_CONF);
	/* 0600: it may hold a static SCEP challenge password. */
	PKID_TRY(pkid_file_write(p, conf.p, conf.len, 0600, e));
	rc = PKID_OK;
out:
	pkid_buf_free(&conf);
	init_state_free(&s);
	free(cfg);
	return rc;
}

enum pkid_code
pkid_ca_open(const char *dir, struct pkid_ca **out, struct pkid_err *e)
{
	return pkid_ca_open_config(dir, NULL, out, e);
}

enum pkid_code
pkid_ca_open_config(const char *dir, const char *conf, struct pkid_ca **out,
    struct pkid_err *e)
{
	struct pkid_ca *ca;
	char p[1200], url[PKID_STORE_URL_MAX + 1200];
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	if (!exists(dir, F_ROOT) || (conf == NULL && !exists(dir, F_CONF)))
		return PKID_ERR(e, PKID_E_CA_MISSING, "no CA in %s "
		    "(no %s)", dir, exists(dir, F_ROOT) ? F_CONF : F_ROOT);
	if ((ca = calloc(1, sizeof(*ca))) == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	snprintf(ca->dir, sizeof(ca->dir), "%s", dir);
	pkid_config_defaults(&ca->cfg);
	if (conf != NULL)
		snprintf(p, sizeof(p), "%s", conf);
	else
		path_of(p, sizeof(p), dir, F_CONF);
	PKID_TRY(pkid_config_load(&ca->cfg, p, e));
	store_url(dir, &ca->cfg, url, sizeof(url));
	PKID_TRY(pkid_store_open(url, &ca->store, e));
	/* The generations in the store are the truth; root.pem and
	 * issuing.pem are exports of the current ones (gen.c). */
	PKID_TRY(pkid_ca_gens_load(ca, e));
	*out = ca;
	return PKID_OK;
out:
	pkid_ca_close(ca);
	return rc;
}

void
pkid_ca_close(struct pkid_ca *ca)
{
	if (ca == NULL)
		return;
	pkid_ca_gens_free(ca);
	pkid_store_close(ca->store);
	free(ca);
}

enum pkid_code
pkid_ca_check_plan(struct pkid_ca *ca, struct pkid_rollover_plan *plan,
    struct pkid_err *e)
{
	int64_t now = (int64_t)pkid_now(), nb = pkid_ca_cert_nb(ca->issuing);
	char t1[32], t2[32];

	if (now < nb)
		return PKID_ERR(e, PKID_E_CLOCK_BEFORE_CA, "this machine's "
		    "clock says %s, before the issuing CA's notBefore %s",
		    pkid_time_fmt((time_t)now, t1, sizeof(t1)),
		    pkid_time_fmt((time_t)nb, t2, sizeof(t2)));
	return pkid_rollover_plan(&ca->cfg, nb, pkid_ca_cert_na(ca->issuing),
	    plan, e);
}
