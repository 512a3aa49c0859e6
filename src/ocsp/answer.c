/*
 * answer.c - OCSP responses (RFC 6960 4.2) and the cache of pre-signed
 * ones (RFC 5019 2.2.1: a response without a nonce may be made ahead and
 * served to every asker until its nextUpdate).
 *
 * A request without a nonce for one certificate is answered from the
 * cache when the certificate's status, read from the store for each
 * request (one indexed row), is what the kept response states and the
 * response is in the first half of its validity: no signature on that
 * path. The housekeeping tick re-signs kept responses before they pass
 * half their validity and when revocations changed, so askers rarely
 * wait for a signature. A nonce (RFC 8954) binds an answer to one
 * request: those are signed for it, always.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509v3.h>

#include "ca/ca.h"
#include "ca/ca_int.h"
#include "core/clock.h"
#include "core/log.h"
#include "ocsp/ocsp_int.h"
#include "x509/load.h"

#define SET_WAYS 4

void
pkid_ocsp_answer_init(struct pkid_ocsp_answer *a)
{
	memset(a, 0, sizeof(*a));
	pkid_buf_init(&a->der, PKID_MAX_HTTP_BODY);
}

void
pkid_ocsp_answer_free(struct pkid_ocsp_answer *a)
{
	pkid_buf_free(&a->der);
}

/* Retired signing generations still valid, after the current one. */
static enum pkid_code
gen_cb(const struct pkid_ca_gen *g, void *arg, struct pkid_err *e)
{
	struct pkid_ocsp *o = arg;
	struct pkid_ocsp_gen *og;
	const unsigned char *p = g->der;

	if (strcmp(g->role, o->ca->root_only ? "root" : "issuing") != 0 ||
	    strcmp(g->state, "retired") != 0 ||
	    g->generation == o->ca->generation ||
	    g->not_after <= (int64_t)pkid_now() ||
	    o->n_gens >= PKID_OCSP_MAX_GENS)
		return PKID_OK;
	og = &o->gens[o->n_gens];
	if ((og->issuer = d2i_X509(NULL, &p, (long)g->der_len)) == NULL)
		return PKID_ERR(e, PKID_E_STORE_IO, "generation %d does not "
		    "decode", g->generation);
	og->generation = g->generation;
	og->gen_id = g->id;
	o->n_gens++;
	return PKID_OK;
}

struct pkid_ocsp *
pkid_ocsp_new(struct pkid_ca *ca, struct pkid_err *e)
{
	struct pkid_ocsp *o = calloc(1, sizeof(*o));

	if (o == NULL || (o->cache = calloc(PKID_OCSP_CACHE_SLOTS,
	    sizeof(*o->cache))) == NULL) {
		free(o);
		PKID_ERR(e, PKID_E_NOMEM, "no memory for the OCSP responder");
		return NULL;
	}
	o->ca = ca;
	pthread_mutex_init(&o->mu, NULL);
	pthread_mutex_init(&o->issue_mu, NULL);
	if (X509_up_ref(ca->issuing) != 1) {
		PKID_ERR(e, PKID_E_NOMEM, "no memory");
		pkid_ocsp_free(o);
		return NULL;
	}
	o->gens[0].generation = ca->generation;
	o->gens[0].gen_id = ca->issuing_gen;
	o->gens[0].issuer = ca->issuing;
	o->n_gens = 1;
	if (pkid_store_ca_gen_list(ca->store, ca->cfg.ca_name, gen_cb, o,
	    e) != PKID_OK) {
		pkid_ocsp_free(o);
		return NULL;
	}
	return o;
}

static void
entry_clear(struct pkid_ocsp_entry *en)
{
	OCSP_CERTID_free(en->cid);
	OPENSSL_free(en->der);
	memset(en, 0, sizeof(*en));
}

void
pkid_ocsp_free(struct pkid_ocsp *o)
{
	int i;

	if (o == NULL)
		return;
	for (i = 0; i < PKID_OCSP_CACHE_SLOTS; i++)
		entry_clear(&o->cache[i]);
	free(o->cache);
	for (i = 0; i < o->n_gens; i++) {
		X509_free(o->gens[i].issuer);
		X509_free(o->gens[i].rcert);
		EVP_PKEY_free(o->gens[i].rkey);
	}
	pthread_mutex_destroy(&o->mu);
	pthread_mutex_destroy(&o->issue_mu);
	free(o);
}

/* Which of o's generations signed the certificate cid is about (same
 * hash of the issuer's name and key, RFC 6960 4.1.1); -1 when none. */
static int
ours(struct pkid_ocsp *o, OCSP_CERTID *cid)
{
	ASN1_OBJECT *md_obj = NULL;
	const EVP_MD *md;
	OCSP_CERTID *mine;
	int i, r = -1;

	if (!OCSP_id_get0_info(NULL, &md_obj, NULL, NULL, cid) ||
	    (md = EVP_get_digestbyobj(md_obj)) == NULL)
		return -1;
	for (i = 0; i < o->n_gens && r < 0; i++) {
		if ((mine = OCSP_cert_to_id(md, NULL, o->gens[i].issuer)) ==
		    NULL)
			return -1;
		if (OCSP_id_issuer_cmp(mine, cid) == 0)
			r = i;
		OCSP_CERTID_free(mine);
	}
	return r;
}

struct lookup {
	int64_t gen_id;			/* the issuer's generation row */
	struct pkid_ocsp_status *st;	/* filled */
};

static enum pkid_code
lookup_cb(const struct pkid_cert_rec *r, void *arg, struct pkid_err *e)
{
	struct lookup *l = arg;

	(void)e;
	if (r->ca_gen != l->gen_id)
		return PKID_OK;		/* another generation's: unknown */
	l->st->status = r->revoked ? V_OCSP_CERTSTATUS_REVOKED :
	    V_OCSP_CERTSTATUS_GOOD;
	l->st->revoked_at = r->revoked ? r->revoked_at : 0;
	l->st->reason = r->revoked ? r->reason : 0;
	return PKID_OK;
}

/* The serial of cid in hex ("" when longer than RFC 5280 4.1.2.2's 20
 * octets: no certificate of ours), and its status. */
static enum pkid_code
status_of(struct pkid_ocsp *o, int gen, OCSP_CERTID *cid, char serial[48],
    struct pkid_ocsp_status *st, struct pkid_err *e)
{
	ASN1_INTEGER *sn = NULL;
	struct lookup l;
	enum pkid_code rc;

	memset(st, 0, sizeof(*st));
	st->status = V_OCSP_CERTSTATUS_UNKNOWN;
	serial[0] = '\0';
	if (!OCSP_id_get0_info(NULL, NULL, NULL, &sn, cid) || sn == NULL ||
	    ASN1_STRING_length(sn) < 1 || ASN1_STRING_length(sn) > 20 ||
	    ASN1_STRING_type(sn) != V_ASN1_INTEGER)
		return PKID_OK;
	pkid_x509_serial_hex(sn, serial, 48);
	l.gen_id = o->gens[gen].gen_id;
	l.st = st;
	rc = pkid_store_cert_get(o->ca->store, serial, lookup_cb, &l, e);
	if (rc == PKID_E_NOT_FOUND) {
		pkid_err_clear(e);
		rc = PKID_OK;
	}
	return rc;
}

/* An unsuccessful answer (RFC 6960 4.2.1): just the status. */
static enum pkid_code
fail_answer(struct pkid_ocsp_answer *a, int status, enum pkid_code why,
    struct pkid_err *e)
{
	OCSP_RESPONSE *r = OCSP_response_create(status, NULL);
	unsigned char *der = NULL;
	int len;
	enum pkid_code rc;

	a->code = why;
	a->cacheable = 0;
	if (r == NULL || (len = i2d_OCSP_RESPONSE(r, &der)) <= 0) {
		OCSP_RESPONSE_free(r);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	}
	a->der.len = 0;
	rc = pkid_buf_append(&a->der, der, (size_t)len, e);
	OPENSSL_free(der);
	OCSP_RESPONSE_free(r);
	return rc;
}

/* One SingleResponse per CertID, the nonce copied when req has one. */
static enum pkid_code
sign_answer(struct pkid_ocsp *o, int gen, OCSP_REQUEST *req,
    OCSP_CERTID **ids,
    const struct pkid_ocsp_status *st, int n, int64_t now,
    unsigned char **der, int *len, int64_t *next, struct pkid_err *e)
{
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	ASN1_TIME *tu = NULL, *nu = NULL, *rt = NULL;
	X509 *rcert = NULL;
	EVP_PKEY *rkey = NULL;
	int64_t na;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	*der = NULL;
	PKID_TRY(pkid_ocsp_responder_get(o, &o->gens[gen], 0, &rcert, &rkey,
	    e));
	/* Never beyond the responder certificate's end. */
	na = now + o->ca->cfg.ocsp_next_update;
	if (pkid_ca_cert_na(rcert) < na)
		na = pkid_ca_cert_na(rcert);
	PKID_OSSL_PTR(bs = OCSP_BASICRESP_new(), PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(tu = ASN1_GENERALIZEDTIME_set(NULL, (time_t)now),
	    PKID_E_NOMEM, "no memory");
	PKID_OSSL_PTR(nu = ASN1_GENERALIZEDTIME_set(NULL, (time_t)na),
	    PKID_E_NOMEM, "no memory");
	for (i = 0; i < n; i++) {
		ASN1_TIME_free(rt);
		rt = NULL;
		if (st[i].status == V_OCSP_CERTSTATUS_REVOKED)
			PKID_OSSL_PTR(rt = ASN1_GENERALIZEDTIME_set(NULL,
			    (time_t)st[i].revoked_at), PKID_E_NOMEM,
			    "no memory");
		/* RFC 5280 5.3.1: no reason rather than unspecified. */
		PKID_OSSL_PTR(OCSP_basic_add1_status(bs, ids[i], st[i].status,
		    st[i].reason > 0 ? st[i].reason : -1, rt, tu, nu),
		    PKID_E_CRYPTO, "OCSP SingleResponse");
	}
	if (req != NULL && OCSP_REQUEST_get_ext_by_NID(req,
	    NID_id_pkix_OCSP_Nonce, -1) >= 0)
		PKID_OSSL(OCSP_copy_nonce(bs, req), PKID_E_CRYPTO,
		    "OCSP nonce");
	/* Responder named by key hash (RFC 6960 4.2.2.3, smaller); its
	 * certificate included so a client can check the delegation. */
	PKID_OSSL(OCSP_basic_sign(bs, rcert, rkey, EVP_sha256(), NULL,
	    OCSP_RESPID_KEY), PKID_E_CRYPTO, "signing the OCSP response");
	PKID_OSSL_PTR(resp = OCSP_response_create(
	    OCSP_RESPONSE_STATUS_SUCCESSFUL, bs), PKID_E_NOMEM, "no memory");
	PKID_OSSL(*len = i2d_OCSP_RESPONSE(resp, der), PKID_E_CRYPTO,
	    "encoding the OCSP response");
	*next = na;
	rc = PKID_OK;
out:
	ASN1_TIME_free(tu);
	ASN1_TIME_free(nu);
	ASN1_TIME_free(rt);
	OCSP_BASICRESP_free(bs);
	OCSP_RESPONSE_free(resp);
	X509_free(rcert);
	EVP_PKEY_free(rkey);
	return rc;
}

static unsigned
slot_hash(const char *serial, int nid)
{
	unsigned h = 2166136261u;	/* FNV-1a */

	for (; *serial != '\0'; serial++)
		h = (h ^ (unsigned char)*serial) * 16777619u;
	return (h ^ (unsigned)nid) * 16777619u;
}

static int
cid_nid(OCSP_CERTID *cid)
{
	ASN1_OBJECT *md_obj = NULL;

	if (!OCSP_id_get0_info(NULL, &md_obj, NULL, NULL, cid))
		return NID_undef;
	return OBJ_obj2nid(md_obj);
}

/* The slot holding (serial, nid), else NULL; under mu. */
static struct pkid_ocsp_entry *
slot_find(struct pkid_ocsp *o, const char *serial, int nid)
{
	unsigned set = slot_hash(serial, nid) % (PKID_OCSP_CACHE_SLOTS /
	    SET_WAYS);
	int i;

	for (i = 0; i < SET_WAYS; i++) {
		struct pkid_ocsp_entry *en = &o->cache[set * SET_WAYS + i];

		if (en->der != NULL && strcmp(en->serial, serial) == 0 &&
		    cid_nid(en->cid) == nid)
			return en;
	}
	return NULL;
}

/* The slot for (serial, nid): its own, a free one, or the least used of
 * its set (cleared). Under mu. */
static struct pkid_ocsp_entry *
slot_take(struct pkid_ocsp *o, const char *serial, int nid)
{
	unsigned set = slot_hash(serial, nid) % (PKID_OCSP_CACHE_SLOTS /
	    SET_WAYS);
	struct pkid_ocsp_entry *en, *best = NULL;
	int i;

	if ((en = slot_find(o, serial, nid)) != NULL)
		return en;
	for (i = 0; i < SET_WAYS; i++) {
		en = &o->cache[set * SET_WAYS + i];
		if (en->der == NULL) {
			best = en;
			break;
		}
		if (best == NULL || en->used < best->used)
			best = en;
	}
	entry_clear(best);
	return best;
}

static void
etag_of(const unsigned char *der, size_t len, char out[40])
{
	unsigned char md[32];
	char hex[33];

	/* 128 bits of SHA-256 name the response's bytes. */
	if (EVP_Digest(der, len, md, NULL, EVP_sha256(), NULL) != 1)
		memset(md, 0, sizeof(md));
	pkid_hex(md, 16, hex);
	snprintf(out, 40, "\"%s\"", hex);
}

/*
 * Keep a signed response (der, consumed) for (serial, cid). Under mu.
 */
static void
keep(struct pkid_ocsp *o, int gen, const char *serial, OCSP_CERTID *cid,
    const struct pkid_ocsp_status *st, unsigned char *der, int len,
    int64_t now, int64_t next)
{
	struct pkid_ocsp_entry *en = slot_take(o, serial, cid_nid(cid));
	OCSP_CERTID *dup = OCSP_CERTID_dup(cid);

	if (dup == NULL) {
		entry_clear(en);
		OPENSSL_free(der);
		return;
	}
	OCSP_CERTID_free(en->cid);
	OPENSSL_free(en->der);
	snprintf(en->serial, sizeof(en->serial), "%s", serial);
	en->cid = dup;
	en->gen = gen;
	en->status = st->status;
	en->revoked_at = st->revoked_at;
	en->reason = st->reason;
	en->der = der;
	en->len = (size_t)len;
	en->this_update = now;
	en->next_update = next;
	/* Served until half its validity has passed; the tick makes the
	 * next one from a third on, so askers rarely meet a signature. */
	en->refresh_at = now + (next - now) / 2;
	en->resign_at = now + (next - now) / 3;
	etag_of(der, (size_t)len, en->etag);
	if (en->used < now)
		en->used = now;
}

static int
same_status(const struct pkid_ocsp_entry *en,
    const struct pkid_ocsp_status *st)
{
	return en->status == st->status && en->revoked_at == st->revoked_at &&
	    en->reason == st->reason;
}

/* A kept answer for (serial, cid) with status st, copied into a. */
static int
from_cache(struct pkid_ocsp *o, const char *serial, OCSP_CERTID *cid,
    const struct pkid_ocsp_status *st, int64_t now,
    struct pkid_ocsp_answer *a, struct pkid_err *e)
{
	struct pkid_ocsp_entry *en;
	int hit = 0;

	pthread_mutex_lock(&o->mu);
	en = slot_find(o, serial, cid_nid(cid));
	if (en != NULL && same_status(en, st) && now < en->refresh_at &&
	    OCSP_id_cmp(en->cid, cid) == 0 &&
	    pkid_buf_append(&a->der, en->der, en->len, e) == PKID_OK) {
		a->this_update = en->this_update;
		a->next_update = en->next_update;
		memcpy(a->etag, en->etag, sizeof(a->etag));
		en->used = now;
		hit = 1;
	}
	pthread_mutex_unlock(&o->mu);
	return hit;
}

static enum pkid_code
answer_ok(struct pkid_ocsp *o, OCSP_REQUEST *req, struct pkid_ocsp_answer *a,
    struct pkid_err *e)
{
	OCSP_CERTID *ids[PKID_OCSP_MAX_IDS];
	struct pkid_ocsp_status st[PKID_OCSP_MAX_IDS];
	char serial[PKID_OCSP_MAX_IDS][48];
	unsigned char *der = NULL;
	int64_t now = (int64_t)pkid_now(), next = 0;
	int i, n = OCSP_request_onereq_count(req), len = 0, nonce, g, gen = 0;
	enum pkid_code rc = PKID_E_INTERNAL;

	nonce = OCSP_REQUEST_get_ext_by_NID(req, NID_id_pkix_OCSP_Nonce,
	    -1) >= 0;
	for (i = 0; i < n && i < PKID_OCSP_MAX_IDS; i++) {
		ids[i] = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req, i));
		/* RFC 6960 2.3: not authoritative for another issuer; one
		 * responder certificate signs, so one generation per
		 * request. */
		if ((g = ours(o, ids[i])) < 0 || (i > 0 && g != gen)) {
			pkid_err_clear(e);
			PKID_ERR(e, PKID_E_NOT_FOUND, "OCSP: CertID %d names "
			    "%s than CA %s's signing generations", i,
			    g < 0 ? "an issuer other" : "another generation",
			    o->ca->cfg.ca_name);
			return fail_answer(a, OCSP_RESPONSE_STATUS_UNAUTHORIZED,
			    PKID_E_NOT_FOUND, e);
		}
		gen = g;
		if (status_of(o, gen, ids[i], serial[i], &st[i], e) !=
		    PKID_OK)
			return fail_answer(a, OCSP_RESPONSE_STATUS_TRYLATER,
			    e->code, e);
	}
	if (n == 1 && !nonce && serial[0][0] != '\0' &&
	    from_cache(o, serial[0], ids[0], &st[0], now, a, e)) {
		a->cacheable = 1;
		a->presigned = 1;
		return PKID_OK;
	}
	if ((rc = sign_answer(o, gen, req, ids, st, n, now, &der, &len,
	    &next, e)) != PKID_OK) {
		pkid_log_err(PKID_LOG_ERROR, e, "ocsp");
		return fail_answer(a, OCSP_RESPONSE_STATUS_INTERNALERROR,
		    e->code, e);
	}
	a->der.len = 0;
	if ((rc = pkid_buf_append(&a->der, der, (size_t)len, e)) != PKID_OK) {
		OPENSSL_free(der);
		return rc;
	}
	a->this_update = now;
	a->next_update = next;
	if (n == 1 && !nonce) {
		a->cacheable = 1;
		etag_of(der, (size_t)len, a->etag);
		if (serial[0][0] != '\0') {
			pthread_mutex_lock(&o->mu);
			keep(o, gen, serial[0], ids[0], &st[0], der, len, now,
			    next);
			pthread_mutex_unlock(&o->mu);
			der = NULL;
		}
	}
	OPENSSL_free(der);
	return PKID_OK;
}

enum pkid_code
pkid_ocsp_answer(struct pkid_ocsp *o, OCSP_REQUEST *req,
    const struct pkid_err *perr, struct pkid_ocsp_answer *a,
    struct pkid_err *e)
{
	if (req == NULL)
		return fail_answer(a, OCSP_RESPONSE_STATUS_MALFORMEDREQUEST,
		    perr != NULL ? perr->code : PKID_E_OCSP_MALFORMED, e);
	return answer_ok(o, req, a, e);
}

/* Re-sign one kept response when due; 1 when a signature was made. */
static int
refresh_one(struct pkid_ocsp *o, int i, int recheck, int64_t now)
{
	struct pkid_ocsp_entry *en = &o->cache[i];
	struct pkid_ocsp_status st;
	struct pkid_err e;
	OCSP_CERTID *cid = NULL;
	unsigned char *der = NULL;
	char serial[48], s2[48];
	int64_t next = 0;
	int len = 0, due, made = 0, gen = 0;

	pkid_err_clear(&e);
	pthread_mutex_lock(&o->mu);
	due = en->der != NULL && (recheck || now >= en->resign_at);
	if (due) {
		snprintf(serial, sizeof(serial), "%s", en->serial);
		cid = OCSP_CERTID_dup(en->cid);
		gen = en->gen;
	}
	pthread_mutex_unlock(&o->mu);
	if (!due || cid == NULL)
		goto out;
	if (status_of(o, gen, cid, s2, &st, &e) != PKID_OK)
		goto out;
	pthread_mutex_lock(&o->mu);
	/* Only a change of status, or age, needs a signature. */
	due = en->der != NULL && strcmp(en->serial, serial) == 0 &&
	    (!same_status(en, &st) || now >= en->resign_at);
	pthread_mutex_unlock(&o->mu);
	if (!due)
		goto out;
	if (sign_answer(o, gen, NULL, &cid, &st, 1, now, &der, &len, &next,
	    &e) != PKID_OK) {
		pkid_log_err(PKID_LOG_ERROR, &e, "ocsp refresh");
		goto out;
	}
	pthread_mutex_lock(&o->mu);
	if (en->der != NULL && strcmp(en->serial, serial) == 0) {
		keep(o, gen, serial, cid, &st, der, len, now, next);
		der = NULL;
	}
	pthread_mutex_unlock(&o->mu);
	made = 1;
out:
	OPENSSL_free(der);
	OCSP_CERTID_free(cid);
	return made;
}

void
pkid_ocsp_tick(struct pkid_ocsp *o)
{
	struct pkid_err e;
	X509 *c = NULL;
	EVP_PKEY *k = NULL;
	int64_t now = (int64_t)pkid_now(), mark = 0;
	int i, made = 0, recheck, active = 0;

	pkid_err_clear(&e);
	pthread_mutex_lock(&o->mu);
	for (i = 0; i < o->n_gens; i++)
		active |= o->gens[i].rcert != NULL;
	pthread_mutex_unlock(&o->mu);
	if (!active)
		return;		/* nothing asked yet */
	for (i = 0; i < o->n_gens; i++) {
		if (!pkid_ocsp_responder_due(o, &o->gens[i]))
			continue;
		/* Kept responses stay valid: their nextUpdate is never past
		 * the old certificate's end. */
		if (pkid_ocsp_responder_get(o, &o->gens[i], 1, &c, &k, &e) !=
		    PKID_OK)
			pkid_log_err(PKID_LOG_ERROR, &e, "ocsp responder");
		X509_free(c);
		EVP_PKEY_free(k);
		c = NULL;
		k = NULL;
		pkid_err_clear(&e);
	}
	if (pkid_store_revoked_mark(o->ca->store, &mark, &e) != PKID_OK) {
		pkid_log_err(PKID_LOG_ERROR, &e, "ocsp");
		return;
	}
	pthread_mutex_lock(&o->mu);
	if (mark != o->mark) {
		/* Revocations changed: every kept response is checked
		 * against the store once, from the start. */
		o->mark = mark;
		o->sweep = 1;
		o->refresh_next = 0;
	}
	recheck = o->sweep;
	i = recheck ? o->refresh_next : 0;
	pthread_mutex_unlock(&o->mu);
	for (; i < PKID_OCSP_CACHE_SLOTS && made < PKID_OCSP_REFRESH_PER_TICK;
	    i++)
		made += refresh_one(o, i, recheck, now);
	pthread_mutex_lock(&o->mu);
	if (recheck && i < PKID_OCSP_CACHE_SLOTS) {
		o->refresh_next = i;	/* resumed next tick */
	} else if (recheck) {
		o->sweep = 0;
		o->refresh_next = 0;
	}
	pthread_mutex_unlock(&o->mu);
}
