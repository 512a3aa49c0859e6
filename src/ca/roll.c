/*
 * roll.c - making the next generation of a CA (pkid_ca_rollover): a new
 * key of the same type, a certificate with the same subject and a new key
 * identifier; a new root too when the current one would not outlive the
 * next rollover, with the link certificates of a root key update (RFC
 * 4210 4.4: OldWithNew is the old public key signed by the new key,
 * NewWithOld the new public key signed by the old key), so a device that
 * trusts only one of the two roots validates the other.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>

#include "ca/ca.h"
#include "ca/ca_int.h"
#include "ca/policy.h"
#include "ca/hsm.h"
#include "ca/rollover.h"
#include "core/clock.h"
#include "core/log.h"
#include "x509/load.h"

/* What one rollover makes. */
struct roll {
	struct pkid_ca *ca;		/* the CA */
	int64_t now;			/* when */
	int64_t activate_at;		/* when the shadow takes over */
	int gen;			/* the new generation's number */
	EVP_PKEY *old_root_key;		/* loaded for NewWithOld */
	EVP_PKEY *root_key, *key;	/* new root key (or NULL), new key */
	X509 *root, *cert;		/* new root (or NULL), new signer */
	X509 *own, *nwo;		/* OldWithNew, NewWithOld */
	char root_ref[256], ref[256];	/* their key_ref when in a PKCS#11
					 * token (hsm.h), else "" (files) */
};

static void
roll_free(struct roll *r)
{
	EVP_PKEY_free(r->old_root_key);
	EVP_PKEY_free(r->root_key);
	EVP_PKEY_free(r->key);
	X509_free(r->root);
	X509_free(r->cert);
	X509_free(r->own);
	X509_free(r->nwo);
}

/* "ec-p256", "rsa-2048", ...: the type of x's key, for the next key. */
static enum pkid_code
key_type_of(X509 *x, char *out, size_t len, struct pkid_err *e)
{
	EVP_PKEY *k = X509_get0_pubkey(x);
	char d[64];

	if (k == NULL)
		return PKID_ERR(e, PKID_E_CRYPTO, "the CA certificate's key "
		    "does not decode");
	pkid_key_describe(k, d, sizeof(d));
	if (strcmp(d, "EC P-256") == 0 || strcmp(d, "EC P-384") == 0 ||
	    strcmp(d, "EC P-521") == 0)
		snprintf(out, len, "ec-p%s", d + 5);
	else if (strncmp(d, "RSA ", 4) == 0)
		snprintf(out, len, "rsa-%s", d + 4);
	else if (strcmp(d, "Ed25519") == 0)
		snprintf(out, len, "ed25519");
	else
		return PKID_ERR(e, PKID_E_KEY_TYPE_NOT_ALLOWED, "the CA's key "
		    "is %s, for which pkid makes no successor", d);
	return PKID_OK;
}

static enum pkid_code
load_key(const struct pkid_ca *ca, const char *ref, EVP_PKEY **out,
    struct pkid_err *e)
{
	const char *dir = ca->dir;
	char p[1400];
	FILE *f;

	if (pkid_hsm_is_uri(ref))
		return pkid_ca_key_load(&ca->cfg, dir, ref, out, e);
	snprintf(p, sizeof(p), "%s/%s", dir, ref);
	if ((f = fopen(p, "r")) == NULL)
		return PKID_ERR(e, PKID_E_IO_OPEN, "the CA key %s cannot be "
		    "read", p);
	*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*out == NULL)
		return PKID_ERR(e, PKID_E_KEY_MALFORMED, "the CA key %s does "
		    "not load", p);
	return PKID_OK;
}

/* The store row of the current root, for its key. */
struct root_ref {
	char key_ref[256];	/* its key path */
	int cur_gen;		/* its generation number */
	int max_gen[2];		/* highest root, issuing generation */
};

static enum pkid_code
root_ref_cb(const struct pkid_ca_gen *g, void *arg, struct pkid_err *e)
{
	struct root_ref *r = arg;
	int i = strcmp(g->role, "root") == 0 ? 0 :
	    strcmp(g->role, "issuing") == 0 ? 1 : -1;

	(void)e;
	if (i < 0)
		return PKID_OK;
	if (g->generation > r->max_gen[i])
		r->max_gen[i] = g->generation;
	if (i == 0 && strcmp(g->state, "current") == 0) {
		snprintf(r->key_ref, sizeof(r->key_ref), "%s", g->key_ref);
		r->cur_gen = g->generation;
	}
	return PKID_OK;
}

/*
 * The next key of a CA whose key is old_ref: a file (written with the
 * row, store_one) or, when old_ref is a pkcs11: URI, a key made in the
 * same token, labelled as the old one with "-gN" for generation gen
 * (ca -> ca-g2, ca-g2 -> ca-g3); its URI into ref.
 */
static enum pkid_code
next_key(struct roll *r, const char *old_ref, const char *type, int gen,
    EVP_PKEY **out, char *ref, size_t n, struct pkid_err *e)
{
	struct pkid_hsm_uri u;
	char lab[PKID_HSM_MAX_LABEL + 16];
	size_t l;
	int created;

	ref[0] = '\0';
	if (!pkid_hsm_is_uri(old_ref))
		return pkid_key_generate(type, out, e);
	if (pkid_hsm_uri_parse(old_ref, strlen(old_ref), &u, e) != PKID_OK)
		return e->code;
	if (u.object[0] == '\0')
		return PKID_ERR(e, PKID_E_USAGE, "the CA key %s has no label "
		    "(object=) to name its successor after", old_ref);
	l = strlen(u.object);
	while (l > 0 && u.object[l - 1] >= '0' && u.object[l - 1] <= '9')
		l--;
	if (l >= 2 && l < strlen(u.object) && u.object[l - 1] == 'g' &&
	    u.object[l - 2] == '-')
		u.object[l - 2] = '\0';
	snprintf(lab, sizeof(lab), "%s-g%d", u.object, gen);
	if (pkid_hsm_uri_with_object(&u, lab, ref, n, e) != PKID_OK ||
	    pkid_hsm_keygen(&r->ca->cfg, ref, type, &created, e) != PKID_OK ||
	    pkid_hsm_load_key(&r->ca->cfg, ref, out, e) != PKID_OK)
		return e->code;
	pkid_log(PKID_LOG_INFO, "rollover: %s key %s in the token",
	    created ? "made the" : "using the existing", ref);
	return PKID_OK;
}

/* A new root with the current root's subject and lifetime, and its two
 * link certificates. */
static enum pkid_code
make_root(struct roll *r, const struct root_ref *rr, const char *type,
    struct pkid_err *e)
{
	struct pkid_ca *ca = r->ca;
	X509 *old = ca->root;
	int64_t life = pkid_ca_cert_na(old) - pkid_ca_cert_nb(old);
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(next_key(r, rr->key_ref, type, rr->max_gen[0] + 1,
	    &r->root_key, r->root_ref, sizeof(r->root_ref), e));
	PKID_TRY(pkid_ca_make_cert(X509_get_subject_name(old), r->root_key,
	    NULL, r->root_key, r->now - 300, r->now + life, -1,
	    &ca->cfg, 0, &r->root, e));
	/* OldWithNew: the old key under the new one, as long as the old
	 * root lives; NewWithOld: the new key under the old one. */
	PKID_TRY(pkid_ca_make_cert(X509_get_subject_name(old),
	    X509_get0_pubkey(old), r->root, r->root_key, r->now - 300,
	    pkid_ca_cert_na(old), -1, &ca->cfg, rr->max_gen[0] + 1, &r->own,
	    e));
	PKID_TRY(pkid_ca_make_cert(X509_get_subject_name(old),
	    r->root_key, old, r->old_root_key, r->now - 300,
	    pkid_ca_cert_na(old), -1, &ca->cfg, rr->cur_gen, &r->nwo, e));
	rc = PKID_OK;
out:
	return rc;
}

/* Does a new issuing CA under the current root leave room for its own
 * rollover? If not, the root rolls over too. */
static int
root_must_roll(struct pkid_ca *ca, int64_t now)
{
	struct pkid_rollover_plan plan;
	int64_t na = pkid_rollover_next_not_after(now,
	    pkid_ca_cert_nb(ca->issuing), pkid_ca_cert_na(ca->issuing),
	    pkid_ca_cert_na(ca->root));

	return pkid_rollover_plan(&ca->cfg, now, na, &plan, NULL) != PKID_OK;
}

static enum pkid_code
make_certs(struct roll *r, const struct root_ref *rr, struct pkid_err *e)
{
	struct pkid_ca *ca = r->ca;
	char type[96];
	X509 *iss;
	EVP_PKEY *iss_key;
	int64_t na;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(key_type_of(ca->issuing, type, sizeof(type), e));
	if (ca->root_only || root_must_roll(ca, r->now)) {
		PKID_TRY(load_key(ca, rr->key_ref, &r->old_root_key, e));
		PKID_TRY(make_root(r, rr, type, e));
	}
	if (ca->root_only) {
		r->gen = rr->max_gen[0] + 1;
		return PKID_OK;
	}
	r->gen = rr->max_gen[1] + 1;
	iss = r->root != NULL ? r->root : ca->root;
	if (r->root != NULL) {
		iss_key = r->root_key;
	} else {
		PKID_TRY(load_key(ca, rr->key_ref, &r->old_root_key, e));
		iss_key = r->old_root_key;
	}
	na = pkid_rollover_next_not_after(r->now, pkid_ca_cert_nb(ca->issuing),
	    pkid_ca_cert_na(ca->issuing), pkid_ca_cert_na(iss));
	PKID_TRY(next_key(r, ca->issuing_key_ref, type, r->gen, &r->key,
	    r->ref, sizeof(r->ref), e));
	PKID_TRY(pkid_ca_make_cert(X509_get_subject_name(ca->issuing), r->key,
	    iss, iss_key, r->now - 300, na, 0, &ca->cfg, r->root != NULL ?
	    rr->max_gen[0] + 1 : rr->cur_gen, &r->cert, e));
	rc = PKID_OK;
out:
	return rc;
}

/* One row: the certificate, its key (written to keys/), its export. */
static enum pkid_code
store_one(struct roll *r, const char *role, int gen, X509 *x, EVP_PKEY *k,
    const char *uri, const char *state, struct pkid_err *e)
{
	struct pkid_ca_gen g;
	unsigned char *der = NULL;
	char file[96];
	int len;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&g, 0, sizeof(g));
	if (k != NULL && uri != NULL && uri[0] != '\0') {
		/* In the token: no file. */
		snprintf(g.key_ref, sizeof(g.key_ref), "%s", uri);
	} else if (k != NULL) {
		snprintf(g.key_ref, sizeof(g.key_ref), "keys/%s-%d.key", role,
		    gen);
		PKID_TRY(pkid_ca_write_pem(r->ca->dir, g.key_ref, NULL, k,
		    NULL, e));
	}
	snprintf(file, sizeof(file), "%s-%d.pem", role, gen);
	PKID_TRY(pkid_ca_write_pem(r->ca->dir, file, x, NULL, NULL, e));
	PKID_OSSL((len = i2d_X509(x, &der)) > 0, PKID_E_CRYPTO, "encoding");
	snprintf(g.ca_name, sizeof(g.ca_name), "%s", r->ca->cfg.ca_name);
	g.generation = gen;
	snprintf(g.role, sizeof(g.role), "%s", role);
	snprintf(g.state, sizeof(g.state), "%s", state);
	pkid_x509_name_text(X509_get_subject_name(x), g.subject,
	    sizeof(g.subject));
	g.not_before = pkid_ca_cert_nb(x);
	g.not_after = pkid_ca_cert_na(x);
	g.der = der;
	g.der_len = (size_t)len;
	g.activate_at = strcmp(state, "shadow") == 0 ? r->activate_at : 0;
	rc = pkid_store_ca_gen_add(r->ca->store, &g, e);
out:
	OPENSSL_free(der);
	return rc;
}

static enum pkid_code
store_all(struct roll *r, const struct root_ref *rr, struct pkid_err *e)
{
	int rgen = rr->max_gen[0] + 1;
	enum pkid_code rc = PKID_E_INTERNAL;

	if (r->root != NULL) {
		PKID_TRY(store_one(r, "root", rgen, r->root, r->root_key,
		    r->root_ref, "shadow", e));
		/* Links are published from now: clients fetch them ahead. */
		PKID_TRY(store_one(r, "oldwithnew", rgen, r->own, NULL, NULL,
		    "current", e));
		PKID_TRY(store_one(r, "newwithold", rgen, r->nwo, NULL, NULL,
		    "current", e));
	}
	if (r->cert != NULL)
		PKID_TRY(store_one(r, "issuing", r->gen, r->cert, r->key,
		    r->ref, "shadow", e));
	rc = PKID_OK;
out:
	return rc;
}

/* When the shadow takes over: asked for, else the plan's moment (now
 * when that has passed); never after the current generation ends. */
static enum pkid_code
activation(struct roll *r, const struct pkid_rollover_opts *o,
    struct pkid_err *e)
{
	struct pkid_rollover_plan plan;
	struct pkid_ca *ca = r->ca;
	int64_t na = pkid_ca_cert_na(ca->issuing);
	char t1[32], t2[32];

	if (o->activate_at > 0) {
		r->activate_at = o->activate_at;
	} else {
		(void)pkid_rollover_plan(&ca->cfg, pkid_ca_cert_nb(
		    ca->issuing), na, &plan, NULL);
		r->activate_at = plan.activate_at > r->now ?
		    plan.activate_at : r->now;
	}
	if (r->activate_at > na)
		return PKID_ERR(e, PKID_E_USAGE, "activation at %s is after the "
		    "current CA generation ends (%s); activate earlier",
		    pkid_time_fmt((time_t)r->activate_at, t1, sizeof(t1)),
		    pkid_time_fmt((time_t)na, t2, sizeof(t2)));
	return PKID_OK;
}

/* A shadow exists: move its activation when asked (--now, --activate-at),
 * else say when it takes over. */
static enum pkid_code
reschedule(struct pkid_ca *ca, const struct pkid_rollover_opts *o,
    struct pkid_err *e)
{
	char t1[32];
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(o->activate_at > 0, PKID_E_ROLLOVER_PENDING, "CA %s "
	    "already has a next generation, taking over at %s",
	    ca->cfg.ca_name, pkid_time_fmt((time_t)ca->next_activate, t1,
	    sizeof(t1)));
	PKID_CHECK(o->activate_at <= pkid_ca_cert_na(ca->issuing),
	    PKID_E_USAGE, "activation at %s is after the current CA "
	    "generation ends; activate earlier", pkid_time_fmt(
	    (time_t)o->activate_at, t1, sizeof(t1)));
	PKID_TRY(pkid_store_ca_gen_reschedule(ca->store, ca->next_gen,
	    o->activate_at, o->actor != NULL ? o->actor : "pkid", e));
	pkid_ca_gens_free(ca);
	rc = pkid_ca_gens_load(ca, e);
out:
	return rc;
}

enum pkid_code
pkid_ca_rollover(struct pkid_ca *ca, const struct pkid_rollover_opts *o,
    struct pkid_err *e)
{
	struct roll r;
	struct root_ref rr;
	char t1[32], obj[96];
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&r, 0, sizeof(r));
	memset(&rr, 0, sizeof(rr));
	r.ca = ca;
	r.now = (int64_t)pkid_now();
	if (ca->next != NULL)
		return reschedule(ca, o, e);
	PKID_TRY(activation(&r, o, e));
	PKID_TRY(pkid_store_ca_gen_list(ca->store, ca->cfg.ca_name,
	    root_ref_cb, &rr, e));
	PKID_TRY(make_certs(&r, &rr, e));
	PKID_TRY(store_all(&r, &rr, e));
	snprintf(obj, sizeof(obj), "%s/%s/%d", ca->cfg.ca_name, ca->root_only ?
	    "root" : "issuing", r.gen);
	PKID_TRY(pkid_store_audit(ca->store, o->actor != NULL ? o->actor :
	    "pkid", "rollover-shadow", obj, "ok", r.root != NULL ?
	    "with a new root and link certificates" : "", e));
	pkid_log(PKID_LOG_INFO, "rollover: generation %d of CA %s made%s; it "
	    "takes over at %s", r.gen, ca->cfg.ca_name, r.root != NULL ?
	    " with a new root" : "", pkid_time_fmt((time_t)r.activate_at, t1,
	    sizeof(t1)));
	pkid_ca_gens_free(ca);
	rc = pkid_ca_gens_load(ca, e);
out:
	roll_free(&r);
	return rc;
}
