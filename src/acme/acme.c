/*
 * acme.c - the ACME server (RFC 8555): routing, nonces, accounts, orders,
 * authorizations, http-01 validation, finalize, certificate download and
 * revocation. State is in memory (acme.h); every handler runs on a
 * handler thread, and the state's mutex is never held across a network
 * call or an issuance.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "acme/acme.h"
#include "acme/jws.h"
#include "ca/ca.h"
#include "ca/policy.h"
#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "http/get.h"

enum st { ST_PENDING, ST_READY, ST_PROCESSING, ST_VALID, ST_INVALID,
    ST_DEACTIVATED };
static const char *st_name[] = { "pending", "ready", "processing", "valid",
    "invalid", "deactivated" };

#define ID_LEN 25	/* 16 random bytes, base64url: 22 + NUL */
#define ID_CHARS 22

struct acct {
	char id[ID_LEN];	/* "" when the slot is free */
	char profile[64];
	char thumb[48];		/* RFC 7638 thumbprint of its key */
	EVP_PKEY *key;
	json_t *contact;
	enum st status;
};

struct authz {
	char id[ID_LEN];	/* also the challenge's id */
	char token[48];
	enum st status;		/* of the authorization */
	enum st chall;		/* of its http-01 challenge */
	char error[320];	/* why the challenge failed */
	int unreachable;	/* it failed to connect: "connection" */
	int64_t validated;
};

struct order {
	char id[ID_LEN];	/* "" when the slot is free */
	char acct[ID_LEN];
	char profile[64];
	enum st status;
	int64_t expires;
	int n;
	char names[PKID_ACME_MAX_IDS][254];
	struct authz az[PKID_ACME_MAX_IDS];
	char serial[48];	/* of the certificate, when valid */
	char *chain;		/* PEM, leaf first, when valid */
};

struct pkid_acme {
	struct pkid_ca *ca;
	pthread_mutex_t mu;
	char nonces[PKID_ACME_MAX_NONCES][ID_LEN];
	unsigned next_nonce;
	struct acct accts[PKID_ACME_MAX_ACCOUNTS];
	unsigned next_acct;
	struct order *orders;	/* PKID_ACME_MAX_ORDERS */
	unsigned next_order;
};

/* One request as the handlers see it. */
struct rq {
	struct pkid_acme *a;
	const struct pkid_http_req *req;
	struct pkid_http_resp *resp;
	const struct pkid_profile *profile;
	char base[512];		/* https://HOST/acme/PROFILE */
	const char *rest;	/* the path after base + "/" */
	struct pkid_jws jws;
	struct acct acct;	/* a copy of the request's account (key
				 * borrowed: accounts are never freed
				 * while the server runs but by eviction,
				 * so key is up-ref'd) */
};

static void
new_id(char out[ID_LEN])
{
	uint8_t r[16];

	if (RAND_bytes(r, sizeof(r)) != 1)
		abort();	/* no randomness: nothing is safe to do */
	if (!pkid_b64url_encode(r, sizeof(r), out, ID_LEN))
		abort();
}

/* ---- replies ---------------------------------------------------------- */

static void
add_nonce(struct rq *q)
{
	char n[ID_LEN];

	new_id(n);
	pthread_mutex_lock(&q->a->mu);
	memcpy(q->a->nonces[q->a->next_nonce++ % PKID_ACME_MAX_NONCES], n,
	    ID_LEN);
	pthread_mutex_unlock(&q->a->mu);
	pkid_http_resp_header(q->resp, "Replay-Nonce", n);
}

static void
add_link_index(struct rq *q)
{
	char v[600];

	snprintf(v, sizeof(v), "<%s/directory>;rel=\"index\"", q->base);
	pkid_http_resp_header(q->resp, "Link", v);
}

static void
reply_json(struct rq *q, int status, const char *ctype, json_t *j)
{
	struct pkid_err e;
	char *text = json_dumps(j, JSON_INDENT(2) | JSON_SORT_KEYS);

	pkid_err_clear(&e);
	json_decref(j);
	q->resp->status = status;
	if (text == NULL ||
	    pkid_http_resp_body(q->resp, ctype, text, strlen(text), &e) !=
	    PKID_OK) {
		q->resp->status = 500;
		q->resp->code = PKID_E_NOMEM;
	}
	free(text);
}

/* RFC 8555 6.7: the problem type of a pkid failure, and its status. */
static const char *
problem_type(enum pkid_code c, int *status)
{
	*status = 400;
	switch (c) {
	case PKID_E_ACME_MALFORMED:
		return "malformed";
	case PKID_E_ACME_BAD_NONCE:
		return "badNonce";
	case PKID_E_ACME_UNAUTHORIZED:
		*status = 403;
		return "unauthorized";
	case PKID_E_SAN_NOT_ALLOWED:
		return "rejectedIdentifier";
	case PKID_E_ACME_CSR_MISMATCH:
	case PKID_E_CSR_MALFORMED:
		return "badCSR";
	case PKID_E_ACME_ORDER_NOT_READY:
		*status = 403;
		return "orderNotReady";
	case PKID_E_ACME_VALIDATION_FAILED:
		*status = 403;
		return "incorrectResponse";
	case PKID_E_NOT_FOUND:
		*status = 404;
		return "malformed";
	case PKID_E_NOMEM:
	case PKID_E_INTERNAL:
	case PKID_E_CRYPTO:
	case PKID_E_STORE_IO:
	case PKID_E_STORE_BUSY:
	case PKID_E_STORE_UNAVAILABLE:
		*status = 500;
		return "serverInternal";
	default:
		/* The CA core's policy refusals of a CSR. */
		return "badCSR";
	}
}

static void
problem_as(struct rq *q, const char *type, int status,
    const struct pkid_err *e)
{
	char detail[2048];
	json_t *j;

	snprintf(detail, sizeof(detail), "%s: %s (fix: %s)",
	    pkid_err_id(e->code), e->detail, pkid_err_remedy(e->code));
	j = json_pack("{s:s+, s:s, s:i}", "type",
	    "urn:ietf:params:acme:error:", type, "detail", detail, "status",
	    status);
	q->resp->code = e->code;
	pkid_log(PKID_LOG_INFO, "acme client=%s path=%s refused: %s: %s",
	    q->req->client_addr, q->req->path, pkid_err_id(e->code),
	    e->detail);
	reply_json(q, status, "application/problem+json", j);
}

static void
problem(struct rq *q, const struct pkid_err *e)
{
	int status;
	const char *type = problem_type(e->code, &status);

	problem_as(q, type, status, e);
}

/* ---- nonces, accounts ------------------------------------------------ */

/* Use nonce n once: 1 when it was outstanding. */
static int
nonce_take(struct pkid_acme *a, const char *n)
{
	int i, ok = 0;

	if (strlen(n) != ID_CHARS)
		return 0;
	pthread_mutex_lock(&a->mu);
	for (i = 0; i < PKID_ACME_MAX_NONCES; i++)
		if (a->nonces[i][0] != '\0' && strcmp(a->nonces[i], n) == 0) {
			a->nonces[i][0] = '\0';
			ok = 1;
			break;
		}
	pthread_mutex_unlock(&a->mu);
	return ok;
}

/* Copy of the account with id (key up-ref'd) or with thumbprint. 1 if
 * found. Called with the mutex held. */
static int
acct_find(struct pkid_acme *a, const char *profile, const char *id,
    const char *thumb, struct acct *out)
{
	int i;

	for (i = 0; i < PKID_ACME_MAX_ACCOUNTS; i++) {
		struct acct *c = &a->accts[i];

		if (c->id[0] == '\0' || strcmp(c->profile, profile) != 0)
			continue;
		if ((id != NULL && strcmp(c->id, id) == 0) ||
		    (thumb != NULL && strcmp(c->thumb, thumb) == 0)) {
			*out = *c;
			EVP_PKEY_up_ref(c->key);
			json_incref(c->contact);
			return 1;
		}
	}
	return 0;
}

static void
acct_clear(struct acct *c)
{
	EVP_PKEY_free(c->key);
	json_decref(c->contact);
	memset(c, 0, sizeof(*c));
}

static json_t *
acct_json(struct rq *q, const struct acct *c)
{
	char orders[600];

	snprintf(orders, sizeof(orders), "%s/acct/%s/orders", q->base, c->id);
	return json_pack("{s:s, s:O, s:s}", "status", st_name[c->status],
	    "contact", c->contact != NULL ? c->contact : json_array(),
	    "orders", orders);
}

/* ---- the JWS of a POST ----------------------------------------------- */

/*
 * Parse, check url and nonce, find the account (kid) or take the jwk
 * (need_jwk), verify the signature. On failure the problem is sent.
 */
static int
check_post(struct rq *q, int need_jwk)
{
	struct pkid_err e;
	char url[700], kidp[600];
	size_t kl;
	EVP_PKEY *key;
	int found;

	pkid_err_clear(&e);
	if (pkid_jws_parse(q->req->body, q->req->body_len, &q->jws, &e) !=
	    PKID_OK)
		goto fail;
	snprintf(url, sizeof(url), "%s/%s", q->base, q->rest);
	if (strcmp(q->jws.url, url) != 0) {
		PKID_ERR(&e, PKID_E_ACME_UNAUTHORIZED, "the protected "
		    "header's url '%.200s' is not the URL requested, %s "
		    "(RFC 8555 6.4)", q->jws.url, url);
		goto fail;
	}
	if (!nonce_take(q->a, q->jws.nonce)) {
		PKID_ERR(&e, PKID_E_ACME_BAD_NONCE, "nonce '%.40s' is not one "
		    "pkid gave out, or was used already", q->jws.nonce);
		goto fail;
	}
	if (need_jwk && q->jws.jwk == NULL) {
		PKID_ERR(&e, PKID_E_ACME_MALFORMED, "newAccount and revokeCert "
		    "by certificate key are signed with a jwk, not a kid");
		goto fail;
	}
	if (q->jws.kid != NULL) {
		snprintf(kidp, sizeof(kidp), "%s/acct/", q->base);
		kl = strlen(kidp);
		pthread_mutex_lock(&q->a->mu);
		found = strncmp(q->jws.kid, kidp, kl) == 0 &&
		    acct_find(q->a, q->profile->name, q->jws.kid + kl, NULL,
		    &q->acct);
		pthread_mutex_unlock(&q->a->mu);
		if (!found) {
			PKID_ERR(&e, PKID_E_ACME_UNAUTHORIZED, "kid '%.200s' "
			    "names no account of profile %s", q->jws.kid,
			    q->profile->name);
			problem_as(q, "accountDoesNotExist", 400, &e);
			return 0;
		}
		if (q->acct.status != ST_VALID) {
			PKID_ERR(&e, PKID_E_ACME_UNAUTHORIZED, "account %s is "
			    "%s", q->acct.id, st_name[q->acct.status]);
			goto fail;
		}
		key = q->acct.key;
	} else {
		key = q->jws.jwk_key;
	}
	if (pkid_jws_verify(&q->jws, key, &e) != PKID_OK)
		goto fail;
	return 1;
fail:
	problem(q, &e);
	return 0;
}

/* ---- handlers -------------------------------------------------------- */

static void
directory(struct rq *q)
{
	char u[4][600];

	snprintf(u[0], sizeof(u[0]), "%s/new-nonce", q->base);
	snprintf(u[1], sizeof(u[1]), "%s/new-account", q->base);
	snprintf(u[2], sizeof(u[2]), "%s/new-order", q->base);
	snprintf(u[3], sizeof(u[3]), "%s/revoke-cert", q->base);
	reply_json(q, 200, "application/json", json_pack("{s:s, s:s, s:s, "
	    "s:s, s:{s:b}}", "newNonce", u[0], "newAccount", u[1],
	    "newOrder", u[2], "revokeCert", u[3], "meta",
	    "externalAccountRequired", 0));
}

static void
new_account(struct rq *q)
{
	struct pkid_err e;
	struct acct c, *slot;
	char thumb[48], loc[600];
	json_t *only, *contact;
	int found;

	pkid_err_clear(&e);
	memset(&c, 0, sizeof(c));
	if (!check_post(q, 1))
		return;
	if (pkid_jwk_thumbprint(q->jws.jwk, thumb, &e) != PKID_OK) {
		problem(q, &e);
		return;
	}
	only = q->jws.payload ? json_object_get(q->jws.payload,
	    "onlyReturnExisting") : NULL;
	contact = q->jws.payload ? json_object_get(q->jws.payload,
	    "contact") : NULL;
	if (contact != NULL && (!json_is_array(contact) ||
	    json_array_size(contact) > 4)) {
		PKID_ERR(&e, PKID_E_ACME_MALFORMED, "contact is an array of "
		    "at most 4 URLs");
		problem(q, &e);
		return;
	}
	pthread_mutex_lock(&q->a->mu);
	found = acct_find(q->a, q->profile->name, NULL, thumb, &c);
	if (!found && !json_is_true(only)) {
		slot = &q->a->accts[q->a->next_acct++ %
		    PKID_ACME_MAX_ACCOUNTS];
		acct_clear(slot);
		new_id(slot->id);
		snprintf(slot->profile, sizeof(slot->profile), "%s",
		    q->profile->name);
		memcpy(slot->thumb, thumb, sizeof(thumb));
		slot->key = q->jws.jwk_key;
		EVP_PKEY_up_ref(slot->key);
		slot->contact = contact != NULL ? json_deep_copy(contact) :
		    json_array();
		slot->status = ST_VALID;
		c = *slot;
		EVP_PKEY_up_ref(c.key);
		json_incref(c.contact);
	}
	pthread_mutex_unlock(&q->a->mu);
	if (!found && json_is_true(only)) {
		PKID_ERR(&e, PKID_E_ACME_UNAUTHORIZED, "no account of profile "
		    "%s has this key (onlyReturnExisting)", q->profile->name);
		problem_as(q, "accountDoesNotExist", 400, &e);
		return;
	}
	snprintf(loc, sizeof(loc), "%s/acct/%s", q->base, c.id);
	pkid_http_resp_header(q->resp, "Location", loc);
	if (!found)
		pkid_log(PKID_LOG_INFO, "acme account %s created (profile %s, "
		    "client %s)", c.id, q->profile->name,
		    q->req->client_addr);
	reply_json(q, found ? 200 : 201, "application/json",
	    acct_json(q, &c));
	acct_clear(&c);
}

static void
account(struct rq *q, const char *id)
{
	struct pkid_err e;
	const char *st;
	int i;

	pkid_err_clear(&e);
	if (!check_post(q, 0))
		return;
	if (strcmp(id, q->acct.id) != 0) {
		PKID_ERR(&e, PKID_E_ACME_UNAUTHORIZED, "account %.40s is not "
		    "the signer's", id);
		problem(q, &e);
		return;
	}
	st = q->jws.payload ? json_string_value(json_object_get(
	    q->jws.payload, "status")) : NULL;
	if (st != NULL && strcmp(st, "deactivated") == 0) {
		pthread_mutex_lock(&q->a->mu);
		for (i = 0; i < PKID_ACME_MAX_ACCOUNTS; i++)
			if (strcmp(q->a->accts[i].id, id) == 0)
				q->a->accts[i].status = ST_DEACTIVATED;
		pthread_mutex_unlock(&q->a->mu);
		q->acct.status = ST_DEACTIVATED;
	}
	reply_json(q, 200, "application/json", acct_json(q, &q->acct));
}

/* The order with id of the request's account; mutex held. */
static struct order *
order_find(struct rq *q, const char *id)
{
	int i;

	for (i = 0; i < PKID_ACME_MAX_ORDERS; i++) {
		struct order *o = &q->a->orders[i];

		if (o->id[0] != '\0' && strcmp(o->id, id) == 0 &&
		    strcmp(o->acct, q->acct.id) == 0)
			return o;
	}
	return NULL;
}

/* The order holding authorization id, *k its index; mutex held. */
static struct order *
authz_find(struct rq *q, const char *id, int *k)
{
	int i, j;

	for (i = 0; i < PKID_ACME_MAX_ORDERS; i++) {
		struct order *o = &q->a->orders[i];

		if (o->id[0] == '\0' || strcmp(o->acct, q->acct.id) != 0)
			continue;
		for (j = 0; j < o->n; j++)
			if (strcmp(o->az[j].id, id) == 0) {
				*k = j;
				return o;
			}
	}
	return NULL;
}

static void
rfc3339(int64_t t, char out[32])
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* Expire and settle an order's state; mutex held. */
static void
order_update(struct order *o)
{
	int j, valid = 0;

	if (o->status == ST_PENDING && (int64_t)pkid_now() > o->expires)
		o->status = ST_INVALID;
	for (j = 0; j < o->n; j++) {
		if (o->az[j].status == ST_INVALID && o->status == ST_PENDING)
			o->status = ST_INVALID;
		valid += o->az[j].status == ST_VALID;
	}
	if (o->status == ST_PENDING && valid == o->n)
		o->status = ST_READY;
}

/* Mutex held. */
static json_t *
order_json(struct rq *q, const struct order *o)
{
	json_t *ids = json_array(), *azs = json_array(), *j;
	char u[600], exp[32];
	int k;

	for (k = 0; k < o->n; k++) {
		json_array_append_new(ids, json_pack("{s:s, s:s}", "type",
		    "dns", "value", o->names[k]));
		snprintf(u, sizeof(u), "%s/authz/%s", q->base, o->az[k].id);
		json_array_append_new(azs, json_string(u));
	}
	rfc3339(o->expires, exp);
	snprintf(u, sizeof(u), "%s/finalize/%s", q->base, o->id);
	j = json_pack("{s:s, s:s, s:o, s:o, s:s}", "status",
	    st_name[o->status], "expires", exp, "identifiers", ids,
	    "authorizations", azs, "finalize", u);
	if (o->status == ST_VALID) {
		snprintf(u, sizeof(u), "%s/cert/%s", q->base, o->id);
		json_object_set_new(j, "certificate", json_string(u));
	}
	return j;
}

static json_t *
chall_json(struct rq *q, const struct authz *z)
{
	char u[600], t[32];
	json_t *j;

	snprintf(u, sizeof(u), "%s/chall/%s", q->base, z->id);
	j = json_pack("{s:s, s:s, s:s, s:s}", "type", "http-01", "url", u,
	    "token", z->token, "status", st_name[z->chall]);
	if (z->chall == ST_VALID) {
		rfc3339(z->validated, t);
		json_object_set_new(j, "validated", json_string(t));
	}
	if (z->chall == ST_INVALID)
		json_object_set_new(j, "error", json_pack("{s:s+, s:s, s:i}",
		    "type", "urn:ietf:params:acme:error:", z->unreachable ?
		    "connection" : "incorrectResponse", "detail", z->error,
		    "status", 403));
	return j;
}

/* Is name a DNS name the profile allows? san-not-allowed if not. */
static enum pkid_code
name_allowed(const struct pkid_profile *p, const char *name,
    struct pkid_err *e)
{
	GENERAL_NAMES *g = NULL;
	GENERAL_NAME *gn;
	ASN1_IA5STRING *s;
	X509_REQ *req = NULL;
	enum pkid_code rc = PKID_E_NOMEM;

	/* pkid_policy_sans checks each name against the profile. */
	if ((req = X509_REQ_new()) == NULL || (g = GENERAL_NAMES_new()) ==
	    NULL || (gn = GENERAL_NAME_new()) == NULL)
		goto out;
	if ((s = ASN1_IA5STRING_new()) == NULL ||
	    !ASN1_STRING_set(s, name, (int)strlen(name))) {
		ASN1_IA5STRING_free(s);
		GENERAL_NAME_free(gn);
		goto out;
	}
	GENERAL_NAME_set0_value(gn, GEN_DNS, s);
	if (!sk_GENERAL_NAME_push(g, gn)) {
		GENERAL_NAME_free(gn);
		goto out;
	}
	rc = pkid_policy_names_allowed(p, g, e);
out:
	if (rc == PKID_E_NOMEM)
		PKID_ERR(e, rc, "no memory");
	GENERAL_NAMES_free(g);
	X509_REQ_free(req);
	return rc;
}

static void
new_order(struct rq *q)
{
	struct pkid_err e;
	struct order *o, tmp;
	json_t *ids, *it;
	size_t i;
	int k;
	char loc[600];

	pkid_err_clear(&e);
	if (!check_post(q, 0))
		return;
	memset(&tmp, 0, sizeof(tmp));
	ids = q->jws.payload ? json_object_get(q->jws.payload,
	    "identifiers") : NULL;
	if (!json_is_array(ids) || json_array_size(ids) == 0 ||
	    json_array_size(ids) > PKID_ACME_MAX_IDS) {
		PKID_ERR(&e, PKID_E_ACME_MALFORMED, "newOrder needs "
		    "identifiers, an array of 1 to %d", PKID_ACME_MAX_IDS);
		problem(q, &e);
		return;
	}
	json_array_foreach(ids, i, it) {
		const char *type = json_string_value(json_object_get(it,
		    "type"));
		const char *v = json_string_value(json_object_get(it,
		    "value"));

		if (type == NULL || strcmp(type, "dns") != 0 || v == NULL) {
			PKID_ERR(&e, PKID_E_SAN_NOT_ALLOWED, "identifier of "
			    "type '%s': pkid's ACME validates dns only",
			    type ? type : "(none)");
			problem_as(q, "unsupportedIdentifier", 400, &e);
			return;
		}
		if (strlen(v) >= sizeof(tmp.names[0]) || v[0] == '*' ||
		    name_allowed(q->profile, v, &e) != PKID_OK) {
			if (e.code == PKID_E_OK)
				PKID_ERR(&e, PKID_E_SAN_NOT_ALLOWED, "'%.80s' "
				    "is not a name pkid validates (no "
				    "wildcards: http-01 cannot prove them)",
				    v);
			problem(q, &e);
			return;
		}
		for (k = 0; k < tmp.n; k++)
			if (strcasecmp(tmp.names[k], v) == 0)
				break;
		if (k < tmp.n)
			continue;
		snprintf(tmp.names[tmp.n], sizeof(tmp.names[0]), "%s", v);
		for (k = 0; tmp.names[tmp.n][k] != '\0'; k++)
			tmp.names[tmp.n][k] = (char)tolower(
			    (unsigned char)tmp.names[tmp.n][k]);
		new_id(tmp.az[tmp.n].id);
		new_id(tmp.az[tmp.n].token);
		tmp.az[tmp.n].status = ST_PENDING;
		tmp.az[tmp.n].chall = ST_PENDING;
		tmp.n++;
	}
	new_id(tmp.id);
	memcpy(tmp.acct, q->acct.id, ID_LEN);
	snprintf(tmp.profile, sizeof(tmp.profile), "%s", q->profile->name);
	tmp.status = ST_PENDING;
	tmp.expires = (int64_t)pkid_now() + PKID_ACME_ORDER_LIFETIME_S;
	pthread_mutex_lock(&q->a->mu);
	o = &q->a->orders[q->a->next_order++ % PKID_ACME_MAX_ORDERS];
	free(o->chain);
	*o = tmp;
	snprintf(loc, sizeof(loc), "%s/order/%s", q->base, o->id);
	pkid_http_resp_header(q->resp, "Location", loc);
	reply_json(q, 201, "application/json", order_json(q, o));
	pthread_mutex_unlock(&q->a->mu);
}

static void
get_order(struct rq *q, const char *id)
{
	struct pkid_err e;
	struct order *o;

	pkid_err_clear(&e);
	if (!check_post(q, 0))
		return;
	pthread_mutex_lock(&q->a->mu);
	if ((o = order_find(q, id)) != NULL) {
		order_update(o);
		reply_json(q, 200, "application/json", order_json(q, o));
	}
	pthread_mutex_unlock(&q->a->mu);
	if (o == NULL) {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "no order %.40s of this "
		    "account", id);
		problem(q, &e);
	}
}

static void
get_authz(struct rq *q, const char *id)
{
	struct pkid_err e;
	struct order *o;
	struct authz *z;
	char exp[32];
	int k;

	pkid_err_clear(&e);
	if (!check_post(q, 0))
		return;
	pthread_mutex_lock(&q->a->mu);
	if ((o = authz_find(q, id, &k)) != NULL) {
		z = &o->az[k];
		rfc3339(o->expires, exp);
		reply_json(q, 200, "application/json", json_pack("{s:s, s:s, "
		    "s:{s:s, s:s}, s:[o]}", "status", st_name[z->status],
		    "expires", exp, "identifier", "type", "dns", "value",
		    o->names[k], "challenges", chall_json(q, z)));
	}
	pthread_mutex_unlock(&q->a->mu);
	if (o == NULL) {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "no authorization %.40s of "
		    "this account", id);
		problem(q, &e);
	}
}

/* http-01 (RFC 8555 8.3): fetch the key authorization from name. */
static enum pkid_code
validate_http01(struct pkid_acme *a, const char *name, const char *token,
    const char *thumb, int *unreachable, struct pkid_err *e)
{
	const struct pkid_config *c = &a->ca->cfg;
	char host[300], url[700], want[128], map[sizeof(c->acme_resolve)];
	char *tok, *save = NULL, *eq;
	struct pkid_buf body;
	size_t n;
	enum pkid_code rc;

	snprintf(host, sizeof(host), "%s", name);
	snprintf(map, sizeof(map), "%s", c->acme_resolve);
	for (tok = strtok_r(map, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save))
		if ((eq = strchr(tok, '=')) != NULL && (size_t)(eq - tok) ==
		    strlen(name) && strncasecmp(tok, name, strlen(name)) == 0) {
			snprintf(host, sizeof(host), strchr(eq + 1, ':') ?
			    "[%s]" : "%s", eq + 1);
			break;
		}
	snprintf(url, sizeof(url), "http://%s:%d/.well-known/acme-challenge/%s",
	    host, c->acme_http_port, token);
	snprintf(want, sizeof(want), "%s.%s", token, thumb);
	rc = pkid_http_get_host(url, name, PKID_ACME_VALIDATE_TIMEOUT_S,
	    PKID_ACME_VALIDATE_MAX_BODY, &body, e);
	if (rc != PKID_OK) {
		char why[400];

		*unreachable = rc == PKID_E_CONNECT_REFUSED ||
		    rc == PKID_E_CONNECT_TIMEOUT || rc == PKID_E_DNS_FAILURE;
		snprintf(why, sizeof(why), "%.390s", e->detail);
		pkid_buf_free(&body);
		return PKID_ERR(e, PKID_E_ACME_VALIDATION_FAILED, "http-01 "
		    "for %s: GET %s failed: %s", name, url, why);
	}
	n = body.len;
	while (n > 0 && (body.p[n - 1] == '\n' || body.p[n - 1] == '\r' ||
	    body.p[n - 1] == ' ' || body.p[n - 1] == '\t'))
		n--;
	if (n != strlen(want) || memcmp(body.p, want, n) != 0) {
		pkid_buf_free(&body);
		return PKID_ERR(e, PKID_E_ACME_VALIDATION_FAILED, "http-01 "
		    "for %s: %s did not answer the key authorization "
		    "token.thumbprint of this account", name, url);
	}
	pkid_buf_free(&body);
	return PKID_OK;
}

static void
challenge(struct rq *q, const char *id)
{
	struct pkid_err e, ve;
	struct order *o;
	struct authz *z;
	char name[254], token[48], up[600];
	int k, go = 0, unreachable = 0;
	enum pkid_code vrc = PKID_OK;

	pkid_err_clear(&e);
	pkid_err_clear(&ve);
	if (!check_post(q, 0))
		return;
	pthread_mutex_lock(&q->a->mu);
	if ((o = authz_find(q, id, &k)) != NULL) {
		z = &o->az[k];
		/* A payload ({}) asks for validation; none only reads. */
		if (q->jws.payload != NULL && z->chall == ST_PENDING) {
			z->chall = ST_PROCESSING;
			memcpy(name, o->names[k], sizeof(name));
			memcpy(token, z->token, sizeof(token));
			go = 1;
		}
	}
	pthread_mutex_unlock(&q->a->mu);
	if (o == NULL) {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "no challenge %.40s of this "
		    "account", id);
		problem(q, &e);
		return;
	}
	if (go) {
		vrc = validate_http01(q->a, name, token, q->acct.thumb,
		    &unreachable, &ve);
		pkid_log(PKID_LOG_INFO, "acme http-01 %s for %s (account %s)%s"
		    "%s", vrc == PKID_OK ? "valid" : "invalid", name,
		    q->acct.id, vrc == PKID_OK ? "" : ": ", vrc == PKID_OK ?
		    "" : ve.detail);
	}
	pthread_mutex_lock(&q->a->mu);
	/* The order may have been evicted meanwhile. */
	if ((o = authz_find(q, id, &k)) != NULL) {
		z = &o->az[k];
		if (go && vrc == PKID_OK) {
			z->chall = z->status = ST_VALID;
			z->validated = (int64_t)pkid_now();
		} else if (go) {
			z->chall = z->status = ST_INVALID;
			z->unreachable = unreachable;
			snprintf(z->error, sizeof(z->error), "%s: %.280s",
			    pkid_err_id(ve.code), ve.detail);
		}
		order_update(o);
		snprintf(up, sizeof(up), "<%s/authz/%s>;rel=\"up\"", q->base,
		    z->id);
		pkid_http_resp_header(q->resp, "Link", up);
		reply_json(q, 200, "application/json", chall_json(q, z));
	}
	pthread_mutex_unlock(&q->a->mu);
	if (o == NULL) {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "challenge %.40s is gone", id);
		problem(q, &e);
	}
}

/* Does the CSR name exactly the order's names? acme-csr-mismatch. */
static enum pkid_code
csr_names(X509_REQ *csr, const struct order *o, struct pkid_err *e)
{
	GENERAL_NAMES *g = pkid_csr_sans(csr);
	const X509_NAME *subj = X509_REQ_get_subject_name(csr);
	int i, k, n = g ? sk_GENERAL_NAME_num(g) : 0, seen[PKID_ACME_MAX_IDS];
	char cn[256];
	enum pkid_code rc = PKID_OK;

	memset(seen, 0, sizeof(seen));
	for (i = 0; i < n && rc == PKID_OK; i++) {
		GENERAL_NAME *gn = sk_GENERAL_NAME_value(g, i);
		const char *d;
		int len;

		if (gn->type != GEN_DNS) {
			rc = PKID_ERR(e, PKID_E_ACME_CSR_MISMATCH, "the CSR "
			    "asks for a name that is not a DNS name");
			break;
		}
		d = (const char *)ASN1_STRING_get0_data(gn->d.dNSName);
		len = ASN1_STRING_length(gn->d.dNSName);
		for (k = 0; k < o->n; k++)
			if ((size_t)len == strlen(o->names[k]) &&
			    strncasecmp(d, o->names[k], (size_t)len) == 0)
				break;
		if (k == o->n)
			rc = PKID_ERR(e, PKID_E_ACME_CSR_MISMATCH, "the CSR "
			    "names %.*s, which is not in the order", len > 100 ?
			    100 : len, d);
		else
			seen[k] = 1;
	}
	for (k = 0; k < o->n && rc == PKID_OK; k++)
		if (!seen[k])
			rc = PKID_ERR(e, PKID_E_ACME_CSR_MISMATCH, "the CSR "
			    "does not name %s, which the order does",
			    o->names[k]);
	if (rc == PKID_OK && X509_NAME_get_text_by_NID((X509_NAME *)subj,
	    NID_commonName, cn, sizeof(cn)) > 0) {
		for (k = 0; k < o->n; k++)
			if (strcasecmp(cn, o->names[k]) == 0)
				break;
		if (k == o->n)
			rc = PKID_ERR(e, PKID_E_ACME_CSR_MISMATCH, "the CSR's "
			    "CN %.100s is not one of the order's names", cn);
	}
	GENERAL_NAMES_free(g);
	return rc;
}

/* The PEM chain: the leaf and the CA certificates above it, but the
 * self-signed root (the relying party has it). */
static char *
chain_pem(struct pkid_ca *ca, X509 *leaf)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out = NULL;
	long n;
	int i;

	if (b == NULL || !PEM_write_bio_X509(b, leaf))
		goto out;
	for (i = 0; ca->chain != NULL && i < sk_X509_num(ca->chain); i++) {
		X509 *x = sk_X509_value(ca->chain, i);

		if (X509_check_issued(x, x) == X509_V_OK &&
		    sk_X509_num(ca->chain) > 1)
			continue;
		if (!PEM_write_bio_X509(b, x))
			goto out;
	}
	n = BIO_get_mem_data(b, &p);
	if (n > 0 && (out = malloc((size_t)n + 1)) != NULL) {
		memcpy(out, p, (size_t)n);
		out[n] = '\0';
	}
out:
	BIO_free(b);
	return out;
}

static void
finalize(struct rq *q, const char *id)
{
	struct pkid_err e;
	struct order *o, snap = { 0 };
	struct pkid_buf der;
	struct pkid_issue_result res;
	struct pkid_requester who;
	X509_REQ *csr = NULL;
	const uint8_t *p;
	const char *b64;
	char whos[80], loc[600], *chain = NULL;
	int ok;

	pkid_err_clear(&e);
	pkid_buf_init(&der, 0);
	memset(&res, 0, sizeof(res));
	if (!check_post(q, 0))
		return;
	pthread_mutex_lock(&q->a->mu);
	if ((o = order_find(q, id)) != NULL) {
		order_update(o);
		snap = *o;
		snap.chain = NULL;
		if (o->status == ST_READY)
			o->status = ST_PROCESSING;
	}
	pthread_mutex_unlock(&q->a->mu);
	if (o == NULL) {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "no order %.40s of this "
		    "account", id);
		goto fail;
	}
	if (snap.status != ST_READY) {
		PKID_ERR(&e, PKID_E_ACME_ORDER_NOT_READY, "order %s is %s, not "
		    "ready", id, st_name[snap.status]);
		goto fail;
	}
	b64 = q->jws.payload ? json_string_value(json_object_get(
	    q->jws.payload, "csr")) : NULL;
	if (b64 == NULL) {
		PKID_ERR(&e, PKID_E_ACME_MALFORMED, "finalize needs csr");
		goto back;
	}
	if (pkid_b64url_decode(b64, strlen(b64), &der, PKID_ACME_MAX_CSR,
	    &e) != PKID_OK)
		goto back;
	p = der.p;
	if ((csr = d2i_X509_REQ(NULL, &p, (long)der.len)) == NULL ||
	    p != der.p + der.len) {
		PKID_ERR(&e, PKID_E_CSR_MALFORMED, "csr is not one DER "
		    "PKCS#10 request");
		goto back;
	}
	if (csr_names(csr, &snap, &e) != PKID_OK)
		goto back;
	snprintf(whos, sizeof(whos), "acme:%s", q->acct.id);
	who.who = whos;
	who.bound = NULL;
	if (pkid_ca_issue(q->a->ca, csr, q->profile->name, &who, &res, &e) !=
	    PKID_OK)
		goto back;
	if ((chain = chain_pem(q->a->ca, res.cert)) == NULL) {
		PKID_ERR(&e, PKID_E_NOMEM, "no memory");
		goto back;
	}
	pkid_log(PKID_LOG_INFO, "acme issued serial %s for %s (account %s)",
	    res.serial, snap.names[0], q->acct.id);
back:
	pthread_mutex_lock(&q->a->mu);
	if ((o = order_find(q, id)) != NULL) {
		if (chain != NULL) {
			o->status = ST_VALID;
			o->chain = chain;
			snprintf(o->serial, sizeof(o->serial), "%s",
			    res.serial);
			chain = NULL;
		} else {
			/* RFC 8555 7.4: a refused CSR leaves the order
			 * ready for another. */
			o->status = ST_READY;
		}
		ok = e.code == PKID_OK;
		if (ok) {
			snprintf(loc, sizeof(loc), "%s/order/%s", q->base,
			    o->id);
			pkid_http_resp_header(q->resp, "Location", loc);
			reply_json(q, 200, "application/json",
			    order_json(q, o));
		}
	}
	pthread_mutex_unlock(&q->a->mu);
	free(chain);
	X509_REQ_free(csr);
	pkid_buf_free(&der);
	pkid_issue_result_clear(&res);
	if (o == NULL && e.code == PKID_OK)
		PKID_ERR(&e, PKID_E_NOT_FOUND, "order %.40s is gone", id);
	if (e.code != PKID_OK)
		problem(q, &e);
	return;
fail:
	problem(q, &e);
}

static void
certificate(struct rq *q, const char *id)
{
	struct pkid_err e;
	struct order *o;
	struct pkid_err be;

	pkid_err_clear(&e);
	pkid_err_clear(&be);
	if (!check_post(q, 0))
		return;
	pthread_mutex_lock(&q->a->mu);
	if ((o = order_find(q, id)) != NULL && o->chain != NULL) {
		q->resp->status = 200;
		if (pkid_http_resp_body(q->resp, "application/pem-certificate-"
		    "chain", o->chain, strlen(o->chain), &be) != PKID_OK)
			pkid_http_resp_error(q->resp, 500, &be);
	}
	pthread_mutex_unlock(&q->a->mu);
	if (o == NULL || o->chain == NULL) {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "no certificate %.40s of this "
		    "account", id);
		problem(q, &e);
	}
}

/* RFC 8555 7.6: by the account that ordered it, or by its own key. */
static void
revoke(struct rq *q)
{
	struct pkid_err e;
	struct pkid_buf der;
	const uint8_t *p;
	const char *b64;
	X509 *x = NULL;
	EVP_PKEY *ckey;
	char serial[64] = "";
	ASN1_INTEGER *sn;
	BIGNUM *bn = NULL;
	char *hex = NULL;
	json_t *rj;
	int i, reason = 0, mine = 0;

	pkid_err_clear(&e);
	pkid_buf_init(&der, 0);
	if (!check_post(q, 0))
		return;
	b64 = q->jws.payload ? json_string_value(json_object_get(
	    q->jws.payload, "certificate")) : NULL;
	rj = q->jws.payload ? json_object_get(q->jws.payload, "reason") :
	    NULL;
	if (json_is_integer(rj))
		reason = (int)json_integer_value(rj);
	if (b64 == NULL || reason < 0 || reason > 10 || reason == 7) {
		PKID_ERR(&e, PKID_E_ACME_MALFORMED, "revokeCert needs "
		    "certificate and, if any, an RFC 5280 reason code");
		goto out;
	}
	if (pkid_b64url_decode(b64, strlen(b64), &der, PKID_ACME_MAX_CSR,
	    &e) != PKID_OK)
		goto out;
	p = der.p;
	if ((x = d2i_X509(NULL, &p, (long)der.len)) == NULL ||
	    !pkid_ca_issued_by_us(q->a->ca, x)) {
		PKID_ERR(&e, PKID_E_ACME_UNAUTHORIZED, "the certificate is "
		    "not one this CA issued");
		goto out;
	}
	sn = X509_get_serialNumber(x);
	if ((bn = ASN1_INTEGER_to_BN(sn, NULL)) == NULL ||
	    (hex = BN_bn2hex(bn)) == NULL) {
		PKID_ERR(&e, PKID_E_NOMEM, "no memory");
		goto out;
	}
	snprintf(serial, sizeof(serial), "%s", hex);
	for (i = 0; serial[i] != '\0'; i++)
		serial[i] = (char)tolower((unsigned char)serial[i]);
	if (q->jws.jwk_key != NULL) {
		ckey = X509_get0_pubkey(x);
		mine = ckey != NULL && EVP_PKEY_eq(ckey, q->jws.jwk_key) == 1;
	} else {
		pthread_mutex_lock(&q->a->mu);
		for (i = 0; i < PKID_ACME_MAX_ORDERS && !mine; i++) {
			struct order *o = &q->a->orders[i];

			mine = o->id[0] != '\0' && o->serial[0] != '\0' &&
			    strcmp(o->acct, q->acct.id) == 0 &&
			    strcasecmp(o->serial, serial) == 0;
		}
		pthread_mutex_unlock(&q->a->mu);
	}
	if (!mine) {
		PKID_ERR(&e, PKID_E_ACME_UNAUTHORIZED, "serial %s was not "
		    "ordered by this account, and the request is not signed "
		    "by the certificate's key", serial);
		goto out;
	}
	if (pkid_ca_revoke(q->a->ca, serial, reason, q->jws.jwk_key ?
	    "acme:certkey" : q->acct.id, &e) != PKID_OK)
		goto out;
	pkid_log(PKID_LOG_INFO, "acme revoked serial %s", serial);
	q->resp->status = 200;
out:
	if (e.code == PKID_E_REVOKED_ALREADY)
		problem_as(q, "alreadyRevoked", 400, &e);
	else if (e.code != PKID_OK)
		problem(q, &e);
	OPENSSL_free(hex);
	BN_free(bn);
	X509_free(x);
	pkid_buf_free(&der);
}

/* ---- routing --------------------------------------------------------- */

/* Is name listed in [acme] profiles? */
static int
profile_served(const struct pkid_config *c, const char *name, size_t n)
{
	char tmp[sizeof(c->acme_profiles)], *tok, *save = NULL;

	snprintf(tmp, sizeof(tmp), "%s", c->acme_profiles);
	for (tok = strtok_r(tmp, ", ", &save); tok != NULL;
	    tok = strtok_r(NULL, ", ", &save))
		if (strlen(tok) == n && strncmp(tok, name, n) == 0)
			return 1;
	return 0;
}

static void
acme_handler(void *ctx, const struct pkid_http_req *req,
    struct pkid_http_resp *resp)
{
	struct rq q;
	struct pkid_err e;
	const char *p = req->path + 6, *slash, *host;
	char pname[64];
	size_t n;

	memset(&q, 0, sizeof(q));
	pkid_err_clear(&e);
	q.a = ctx;
	q.req = req;
	q.resp = resp;
	pkid_jws_init(&q.jws);
	host = pkid_http_req_header(req, "Host");
	if ((slash = strchr(p, '/')) == NULL || (n = (size_t)(slash - p)) ==
	    0 || n >= sizeof(pname) || !profile_served(&q.a->ca->cfg, p, n)) {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "no ACME server at %.200s: "
		    "[acme] profiles lists the profiles served at "
		    "/acme/NAME/directory", req->path);
		snprintf(q.base, sizeof(q.base), "https://pkid/acme");
		problem(&q, &e);
		goto out;
	}
	memcpy(pname, p, n);
	pname[n] = '\0';
	q.profile = pkid_config_profile(&q.a->ca->cfg, pname);
	if (host == NULL || host[0] == '\0' || strlen(host) > 255 ||
	    strspn(host, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789.-:[]") != strlen(host) || q.profile == NULL) {
		PKID_ERR(&e, PKID_E_ACME_MALFORMED, "a request without a "
		    "valid Host header, or for an unknown profile");
		snprintf(q.base, sizeof(q.base), "https://pkid/acme");
		problem(&q, &e);
		goto out;
	}
	snprintf(q.base, sizeof(q.base), "https://%s/acme/%s", host, pname);
	q.rest = slash + 1;
	add_nonce(&q);
	if (strcmp(q.rest, "directory") == 0 && req->method != PKID_HTTP_POST) {
		pkid_http_resp_header(resp, "Cache-Control", "no-store");
		directory(&q);
		goto out;
	}
	add_link_index(&q);
	if (strcmp(q.rest, "new-nonce") == 0 &&
	    req->method != PKID_HTTP_POST) {
		pkid_http_resp_header(resp, "Cache-Control", "no-store");
		resp->status = req->method == PKID_HTTP_HEAD ? 200 : 204;
		goto out;
	}
	if (req->method != PKID_HTTP_POST) {
		PKID_ERR(&e, PKID_E_ACME_MALFORMED, "%s %s: ACME resources "
		    "are read with POST-as-GET (RFC 8555 6.3)",
		    pkid_http_method_name(req->method), req->path);
		problem_as(&q, "malformed", 405, &e);
		goto out;
	}
	if (req->content_type == NULL ||
	    strncasecmp(req->content_type, "application/jose+json", 21) != 0) {
		PKID_ERR(&e, PKID_E_ACME_MALFORMED, "Content-Type is not "
		    "application/jose+json (RFC 8555 6.2)");
		problem(&q, &e);
		goto out;
	}
#define UNDER(pfx) (strncmp(q.rest, pfx, strlen(pfx)) == 0 && \
	strlen(q.rest) < strlen(pfx) + ID_LEN)
	if (strcmp(q.rest, "new-account") == 0)
		new_account(&q);
	else if (strcmp(q.rest, "new-order") == 0)
		new_order(&q);
	else if (strcmp(q.rest, "revoke-cert") == 0)
		revoke(&q);
	else if (UNDER("acct/"))
		account(&q, q.rest + 5);
	else if (UNDER("order/"))
		get_order(&q, q.rest + 6);
	else if (UNDER("authz/"))
		get_authz(&q, q.rest + 6);
	else if (UNDER("chall/"))
		challenge(&q, q.rest + 6);
	else if (UNDER("finalize/"))
		finalize(&q, q.rest + 9);
	else if (UNDER("cert/"))
		certificate(&q, q.rest + 5);
	else {
		PKID_ERR(&e, PKID_E_NOT_FOUND, "no ACME resource %.200s",
		    req->path);
		problem(&q, &e);
	}
#undef UNDER
out:
	acct_clear(&q.acct);
	pkid_jws_free(&q.jws);
}

struct pkid_acme *
pkid_acme_new(struct pkid_ca *ca, struct pkid_err *e)
{
	struct pkid_acme *a;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (a->orders = calloc(PKID_ACME_MAX_ORDERS,
	    sizeof(*a->orders))) == NULL) {
		free(a);
		PKID_ERR(e, PKID_E_NOMEM, "no memory for the ACME server");
		return NULL;
	}
	a->ca = ca;
	pthread_mutex_init(&a->mu, NULL);
	return a;
}

void
pkid_acme_free(struct pkid_acme *a)
{
	int i;

	if (a == NULL)
		return;
	for (i = 0; i < PKID_ACME_MAX_ACCOUNTS; i++)
		acct_clear(&a->accts[i]);
	for (i = 0; i < PKID_ACME_MAX_ORDERS; i++)
		free(a->orders[i].chain);
	free(a->orders);
	pthread_mutex_destroy(&a->mu);
	free(a);
}

enum pkid_code
pkid_acme_routes(struct pkid_acme *a, struct pkid_router *r,
    struct pkid_err *e)
{
	return pkid_router_add(r, "/acme/", 1, PKID_HTTP_GET | PKID_HTTP_HEAD |
	    PKID_HTTP_POST | PKID_ROUTE_OFFLOAD, acme_handler, a, e);
}
