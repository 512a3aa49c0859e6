/*
 * gen.c - a CA as a sequence of generations in the store (DESIGN.md "CA
 * generations and rollover"): the current one signs; a shadow (the next)
 * is made ahead of time, published at once and takes over at its
 * activate_at; retired ones stay known while their certificates live.
 *
 * The store is the truth: every row holds its certificate and where its
 * key is (key_ref, relative to the CA directory). root.pem and issuing.pem
 * are exports of the current generation, rewritten at each activation.
 * A root key update also files the link certificates OldWithNew and
 * NewWithOld (RFC 4210 4.4; RFC 7030 4.1.3) under the new generation.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "ca/ca_int.h"
#include "ca/hsm.h"
#include "ca/policy.h"
#include "ca/rollover.h"
#include "ca/signer.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "x509/load.h"

#define ROLE_ROOT "root"
#define ROLE_ISSUING "issuing"
#define ROLE_OWN "oldwithnew"
#define ROLE_NWO "newwithold"

/* One ca_generation row, copied out of the store's callback. */
struct gen_row {
	int64_t id;		/* row id */
	int generation;		/* 1, 2, ... */
	char role[16];		/* root, issuing, ra, tls, link roles */
	char state[16];		/* current, shadow, retired */
	int64_t activate_at;	/* when a shadow takes over */
	int64_t not_after;	/* validity end */
	char key_ref[256];	/* key path relative to the CA directory */
	X509 *cert;		/* decoded certificate */
};

/* Every row of one CA, oldest first. */
struct gen_set {
	int n;						/* rows used */
	struct gen_row r[PKID_MAX_CA_GENERATIONS];	/* the rows */
};

static void
set_free(struct gen_set *s)
{
	int i;

	for (i = 0; i < s->n; i++)
		X509_free(s->r[i].cert);
	s->n = 0;
}

static enum pkid_code
collect_cb(const struct pkid_ca_gen *g, void *arg, struct pkid_err *e)
{
	struct gen_set *s = arg;
	struct gen_row *r;
	const unsigned char *p = g->der;

	if (s->n >= PKID_MAX_CA_GENERATIONS)
		return PKID_ERR(e, PKID_E_TOO_LARGE, "more than %d CA "
		    "generations in the store", PKID_MAX_CA_GENERATIONS);
	r = &s->r[s->n];
	memset(r, 0, sizeof(*r));
	r->cert = d2i_X509(NULL, &p, (long)g->der_len);
	if (r->cert == NULL)
		return PKID_ERR(e, PKID_E_STORE_IO, "CA generation %lld of %s "
		    "does not decode", (long long)g->id, g->ca_name);
	r->id = g->id;
	r->generation = g->generation;
	snprintf(r->role, sizeof(r->role), "%s", g->role);
	snprintf(r->state, sizeof(r->state), "%s", g->state);
	snprintf(r->key_ref, sizeof(r->key_ref), "%s", g->key_ref);
	r->activate_at = g->activate_at;
	r->not_after = g->not_after;
	s->n++;
	return PKID_OK;
}

static enum pkid_code
collect(struct pkid_ca *ca, struct gen_set *s, struct pkid_err *e)
{
	set_free(s);
	return pkid_store_ca_gen_list(ca->store, ca->cfg.ca_name, collect_cb,
	    s, e);
}

/* The newest row of role in state (NULL: any state), or NULL. */
static const struct gen_row *
find(const struct gen_set *s, const char *role, const char *state)
{
	const struct gen_row *best = NULL;
	int i;

	for (i = 0; i < s->n; i++) {
		if (strcmp(s->r[i].role, role) != 0 || (state != NULL &&
		    strcmp(s->r[i].state, state) != 0))
			continue;
		if (best == NULL || s->r[i].generation > best->generation)
			best = &s->r[i];
	}
	return best;
}

/*
 * The SCEP RA certificate (EC CAs have one: DIR/scep/ra.key) re-issued by
 * the signing CA that just became current, for the same key: clients'
 * cached RA certificates still encrypt to it, and GetCACert's RA chains
 * to the CA it is listed with (RFC 8894 4.2.1.2).
 */
/* A private key file below the CA directory; NULL (no error) when
 * missing and optional. */
static enum pkid_code
read_key(const struct pkid_ca *ca, const char *rel, int optional,
    EVP_PKEY **out, struct pkid_err *e)
{
	const char *dir = ca->dir;
	char p[1400];
	FILE *f;

	*out = NULL;
	/* A CA key in a PKCS#11 token (src/ca/hsm.h). */
	if (pkid_hsm_is_uri(rel))
		return pkid_ca_key_load(&ca->cfg, dir, rel, out, e);
	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	if ((f = fopen(p, "r")) == NULL)
		return optional ? PKID_OK : PKID_ERR(e, PKID_E_IO_OPEN,
		    "the key %s cannot be read", p);
	*out = PEM_read_PrivateKey(f, NULL, NULL, NULL);
	fclose(f);
	if (*out == NULL)
		return PKID_ERR(e, PKID_E_KEY_MALFORMED, "%s does not load", p);
	return PKID_OK;
}

/* pkid's TLS certificate and the SCEP RA certificate (EC CAs have one),
 * re-issued by the signing CA that just became current, for the keys
 * they have: clients' cached RA certificates still encrypt to it, and
 * both chain to the current CA (RFC 8894 4.2.1.2). */
static enum pkid_code
reissue_service(struct pkid_ca *ca, const struct gen_row *r,
    struct pkid_err *e)
{
	EVP_PKEY *ra = NULL, *tls = NULL, *key = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_TRY(read_key(ca, r->key_ref, 0, &key, e));
	PKID_TRY(read_key(ca, "tls/server.key", 1, &tls, e));
	if (tls != NULL)
		PKID_TRY(pkid_ca_issue_tls(ca->dir, &ca->cfg, ca->store, r->id,
		    r->cert, key, tls, e));
	/* An RSA CA decrypts SCEP with its own key: no RA then. */
	PKID_TRY(read_key(ca, "scep/ra.key", 1, &ra, e));
	if (ra != NULL)
		PKID_TRY(pkid_ca_issue_ra(ca->dir, &ca->cfg, ca->store,
		    r->cert, key, ra, r->generation, e));
	rc = PKID_OK;
out:
	EVP_PKEY_free(ra);
	EVP_PKEY_free(tls);
	EVP_PKEY_free(key);
	return rc;
}

/* Shadows whose time has come become current; root.pem and issuing.pem
 * follow, and the SCEP RA certificate is issued anew by the new signing
 * CA. *changed is set when the store changed. */
static enum pkid_code
promote(struct pkid_ca *ca, const struct gen_set *s, int64_t now,
    int *changed, struct pkid_err *e)
{
	static const char *const roles[] = { ROLE_ROOT, ROLE_ISSUING };
	const struct gen_row *r;
	size_t i;
	enum pkid_code rc = PKID_E_INTERNAL;

	*changed = 0;
	for (i = 0; i < sizeof(roles) / sizeof(roles[0]); i++) {
		r = find(s, roles[i], "shadow");
		if (r == NULL || r->activate_at > now)
			continue;
		PKID_TRY(pkid_store_ca_gen_activate(ca->store,
		    ca->cfg.ca_name, roles[i], r->id, "pkid", e));
		PKID_TRY(pkid_ca_write_pem(ca->dir, i == 0 ? "root.pem" :
		    "issuing.pem", r->cert, NULL, NULL, e));
		pkid_log(PKID_LOG_INFO, "rollover: %s CA generation %d of %s "
		    "is current from now", roles[i], r->generation,
		    ca->cfg.ca_name);
		*changed = 1;
		/* The signing role: the issuing CA, or a root that signs. */
		if (i == 1 || find(s, ROLE_ISSUING, NULL) == NULL)
			PKID_TRY(reissue_service(ca, r, e));
	}
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
push_ref(STACK_OF(X509) *sk, X509 *x, struct pkid_err *e)
{
	if (!X509_up_ref(x))
		return PKID_ERR(e, PKID_E_INTERNAL, "reference");
	if (!sk_X509_push(sk, x)) {
		X509_free(x);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	return PKID_OK;
}

/* Retired signing CAs and roots still valid; links of the newest root
 * key update while the old root lives. */
static enum pkid_code
load_others(struct pkid_ca *ca, const struct gen_set *s, int64_t now,
    const char *sign_role, struct pkid_err *e)
{
	const struct gen_row *nr = find(s, ROLE_ROOT, NULL);
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	for (i = 0; i < s->n; i++) {
		const struct gen_row *r = &s->r[i];

		if (strcmp(r->state, "retired") == 0 && r->not_after > now &&
		    (strcmp(r->role, sign_role) == 0 ||
		    strcmp(r->role, ROLE_ROOT) == 0))
			PKID_TRY(push_ref(ca->retired, r->cert, e));
		if (nr != NULL && r->generation == nr->generation &&
		    (strcmp(r->role, ROLE_OWN) == 0 ||
		    strcmp(r->role, ROLE_NWO) == 0) && r->not_after > now)
			PKID_TRY(push_ref(ca->links, r->cert, e));
	}
	rc = PKID_OK;
out:
	return rc;
}

/* Fill ca from the rows: current root and signing CA, signer, chain,
 * shadow, retired, links. */
static enum pkid_code
load_set(struct pkid_ca *ca, const struct gen_set *s, int64_t now,
    struct pkid_err *e)
{
	const struct gen_row *root = find(s, ROLE_ROOT, "current");
	const struct gen_row *sign, *next, *next_root;
	EVP_PKEY *key = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	ca->root_only = find(s, ROLE_ISSUING, NULL) == NULL;
	sign = ca->root_only ? root : find(s, ROLE_ISSUING, "current");
	PKID_CHECK(root != NULL && sign != NULL, PKID_E_STORE_SCHEMA,
	    "the store of %s has no current generation of a CA named '%s' "
	    "(the [ca] name in %s)", ca->dir, ca->cfg.ca_name, ca->cfg.path);
	ca->root = X509_dup(root->cert);
	ca->issuing = X509_dup(sign->cert);
	PKID_OSSL_PTR(ca->root != NULL && ca->issuing != NULL ? ca->root :
	    NULL, PKID_E_NOMEM, "no memory");
	ca->issuing_gen = sign->id;
	ca->generation = sign->generation;
	snprintf(ca->issuing_key_ref, sizeof(ca->issuing_key_ref), "%s",
	    sign->key_ref);
	PKID_TRY(pkid_ca_key_load(&ca->cfg, ca->dir, sign->key_ref, &key, e));
	ca->signer = pkid_signer_from_key(key, ca->issuing, ca->cfg.digest, e);
	EVP_PKEY_free(key);
	key = NULL;
	PKID_CHECK(ca->signer != NULL, e->code, "signer of %s",
	    sign->key_ref);
	PKID_OSSL_PTR(ca->chain = sk_X509_new_null(), PKID_E_NOMEM, "memory");
	PKID_OSSL_PTR(ca->retired = sk_X509_new_null(), PKID_E_NOMEM, "mem");
	PKID_OSSL_PTR(ca->links = sk_X509_new_null(), PKID_E_NOMEM, "mem");
	PKID_TRY(push_ref(ca->chain, ca->issuing, e));
	if (!ca->root_only)
		PKID_TRY(push_ref(ca->chain, ca->root, e));
	next = find(s, ca->root_only ? ROLE_ROOT : ROLE_ISSUING, "shadow");
	next_root = ca->root_only ? NULL : find(s, ROLE_ROOT, "shadow");
	if (next != NULL) {
		PKID_OSSL_PTR(ca->next = X509_dup(next->cert), PKID_E_NOMEM,
		    "no memory");
		ca->next_gen = next->id;
		ca->next_activate = next->activate_at;
	}
	if (next_root != NULL)
		PKID_OSSL_PTR(ca->next_root = X509_dup(next_root->cert),
		    PKID_E_NOMEM, "no memory");
	rc = load_others(ca, s, now, ca->root_only ? ROLE_ROOT : ROLE_ISSUING,
	    e);
out:
	EVP_PKEY_free(key);
	return rc;
}

void
pkid_ca_gens_free(struct pkid_ca *ca)
{
	pkid_signer_free(ca->signer);
	sk_X509_pop_free(ca->chain, X509_free);
	sk_X509_pop_free(ca->retired, X509_free);
	sk_X509_pop_free(ca->links, X509_free);
	X509_free(ca->issuing);
	X509_free(ca->root);
	X509_free(ca->next);
	X509_free(ca->next_root);
	ca->signer = NULL;
	ca->chain = ca->retired = ca->links = NULL;
	ca->issuing = ca->root = ca->next = ca->next_root = NULL;
	ca->issuing_gen = ca->next_gen = ca->next_activate = 0;
	ca->generation = 0;
}

enum pkid_code
pkid_ca_gens_load(struct pkid_ca *ca, struct pkid_err *e)
{
	struct gen_set *s = calloc(1, sizeof(*s));
	int64_t now = (int64_t)pkid_now();
	int changed = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(s, PKID_E_NOMEM, "no memory");
	PKID_TRY(collect(ca, s, e));
	PKID_TRY(promote(ca, s, now, &changed, e));
	if (changed)
		PKID_TRY(collect(ca, s, e));
	rc = load_set(ca, s, now, e);
out:
	if (s != NULL)
		set_free(s);
	free(s);
	if (rc != PKID_OK)
		pkid_ca_gens_free(ca);
	return rc;
}

STACK_OF(X509) *
pkid_ca_published(const struct pkid_ca *ca)
{
	STACK_OF(X509) *sk = sk_X509_new_null();
	X509 *one[2];
	int i, ok = sk != NULL;

	for (i = 0; ok && i < sk_X509_num(ca->chain); i++)
		ok = push_ref(sk, sk_X509_value(ca->chain, i), NULL) == PKID_OK;
	one[0] = ca->next;
	one[1] = ca->next_root;
	for (i = 0; ok && i < 2; i++)
		ok = one[i] == NULL || push_ref(sk, one[i], NULL) == PKID_OK;
	for (i = 0; ok && i < sk_X509_num(ca->links); i++)
		ok = push_ref(sk, sk_X509_value(ca->links, i), NULL) == PKID_OK;
	for (i = 0; ok && i < sk_X509_num(ca->retired); i++)
		ok = push_ref(sk, sk_X509_value(ca->retired, i), NULL) ==
		    PKID_OK;
	if (!ok) {
		sk_X509_pop_free(sk, X509_free);
		return NULL;
	}
	return sk;
}

enum pkid_code
pkid_ca_root_key(struct pkid_ca *ca, EVP_PKEY **out, struct pkid_err *e)
{
	struct gen_set *s = calloc(1, sizeof(*s));
	const struct gen_row *r;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_OSSL_PTR(s, PKID_E_NOMEM, "no memory");
	PKID_TRY(collect(ca, s, e));
	r = find(s, ROLE_ROOT, "current");
	PKID_CHECK(r != NULL && X509_cmp(r->cert, ca->root) == 0,
	    PKID_E_STORE_SCHEMA, "the store of %s has no current root "
	    "matching root.pem", ca->dir);
	PKID_TRY(read_key(ca, r->key_ref, 0, out, e));
	PKID_CHECK(X509_check_private_key(ca->root, *out) == 1,
	    PKID_E_KEY_MISMATCH, "%s%s%s is not the key of the current root",
	    pkid_hsm_is_uri(r->key_ref) ? "" : ca->dir,
	    pkid_hsm_is_uri(r->key_ref) ? "" : "/", r->key_ref);
	rc = PKID_OK;
out:
	if (s != NULL)
		set_free(s);
	free(s);
	if (rc != PKID_OK) {
		EVP_PKEY_free(*out);
		*out = NULL;
	}
	return rc;
}

int
pkid_ca_issued_by_us(const struct pkid_ca *ca, X509 *x)
{
	int i;

	if (X509_check_issued(ca->issuing, x) == X509_V_OK ||
	    (ca->next != NULL && X509_check_issued(ca->next, x) == X509_V_OK))
		return 1;
	for (i = 0; i < sk_X509_num(ca->retired); i++)
		if (X509_check_issued(sk_X509_value(ca->retired, i), x) ==
		    X509_V_OK)
			return 1;
	return 0;
}

int
pkid_ca_rollover_due(const struct pkid_ca *ca)
{
	struct pkid_rollover_plan plan;
	int64_t now = (int64_t)pkid_now();

	if (ca->next != NULL)
		return ca->next_activate <= now;
	if (pkid_rollover_plan(&ca->cfg, pkid_ca_cert_nb(ca->issuing),
	    pkid_ca_cert_na(ca->issuing), &plan, NULL) != PKID_OK)
		return 0;
	return now >= plan.shadow_at;
}
