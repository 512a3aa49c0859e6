/*
 * ra_crl.c - the RA's cache of its upstream's CRLs and the revocation
 * check of a device's certificate against them (ra_crl.h; RFC 5280 6.3,
 * complete CRLs only).
 *
 * Locking: c->mu guards the slots; no thread holds it over a fetch. A
 * slot being fetched is marked busy (never evicted); other threads that
 * want the same URL wait on c->done for the result, so a burst of
 * renewals costs one fetch.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "core/clock.h"
#include "core/limits.h"
#include "core/log.h"
#include "est/ra_crl.h"
#include "verify/verify.h"
#include "x509/load.h"

/* One CRL URL and what its fetches brought. */
struct crl_ent {
	char url[PKID_RA_CRL_MAX_URL + 1];	/* "" for a free slot */
	X509_CRL *crl;		/* the last usable CRL, NULL none */
	X509 *signer;		/* the issuer certificate it verified with */
	time_t next_update;	/* crl's nextUpdate, pkid clock */
	time_t fetched;		/* when crl came, pkid clock */
	uint64_t failed_ms;	/* last failed fetch, mono ms; 0 none */
	struct pkid_err why;	/* why it failed */
	int transient;		/* why may pass by itself */
	int busy;		/* a thread fetches it now */
	enum pkid_code logged;	/* cause last logged, PKID_OK none */
	uint64_t used;		/* c->tick at its last use (LRU) */
};

struct pkid_ra_crl {
	char name[PKID_RA_CRL_MAX_URL + 1];	/* the upstream, messages */
	char fallback[PKID_RA_CRL_MAX_URL + 1];	/* upstream_crl, "" none */
	pkid_ra_crl_fetch_fn fetch;	/* how a CRL is fetched */
	void *arg;			/* its argument */
	int timeout_s;			/* one fetch's time budget */
	pthread_mutex_t mu;		/* guards below */
	pthread_cond_t done;		/* a fetch ended (CLOCK_MONOTONIC) */
	int nosrc_logged;		/* "no CRL source" was logged */
	unsigned long fetches;		/* fetches tried */
	uint64_t tick;			/* uses so far, for LRU */
	struct crl_ent ent[PKID_RA_CRL_CACHE];	/* the URLs */
};

/* The URLs to try for one certificate, in order. */
struct sources {
	int n;					/* entries used */
	char url[PKID_RA_CRL_MAX_URIS + 1][PKID_RA_CRL_MAX_URL + 1];
};

/* A slot's CRL and state, copied out for use without the lock. */
struct got {
	X509_CRL *crl;		/* a reference, NULL none */
	X509 *signer;		/* a reference, NULL none */
	struct pkid_err why;	/* the last failed fetch, if any */
};

struct pkid_ra_crl *
pkid_ra_crl_new(const char *name, const char *fallback,
    pkid_ra_crl_fetch_fn fetch, void *arg, int timeout_s,
    struct pkid_err *e)
{
	struct pkid_ra_crl *c = calloc(1, sizeof(*c));
	pthread_condattr_t ca;

	if (c == NULL) {
		PKID_ERR(e, PKID_E_NOMEM, "no memory for a CRL cache");
		return NULL;
	}
	snprintf(c->name, sizeof(c->name), "%s", name);
	snprintf(c->fallback, sizeof(c->fallback), "%s", fallback);
	c->fetch = fetch;
	c->arg = arg;
	c->timeout_s = timeout_s > 0 ? timeout_s : 1;
	pthread_mutex_init(&c->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&c->done, &ca);
	pthread_condattr_destroy(&ca);
	return c;
}

static void
ent_reset(struct crl_ent *t)
{
	X509_CRL_free(t->crl);
	X509_free(t->signer);
	memset(t, 0, sizeof(*t));
}

void
pkid_ra_crl_free(struct pkid_ra_crl *c)
{
	int i;

	if (c == NULL)
		return;
	for (i = 0; i < PKID_RA_CRL_CACHE; i++)
		ent_reset(&c->ent[i]);
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

unsigned long
pkid_ra_crl_fetches(struct pkid_ra_crl *c)
{
	unsigned long n;

	pthread_mutex_lock(&c->mu);
	n = c->fetches;
	pthread_mutex_unlock(&c->mu);
	return n;
}

static time_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

enum pkid_code
pkid_ra_crl_parse(const uint8_t *der, size_t len, X509 *issuer,
    X509_CRL **out, struct pkid_err *e)
{
	const unsigned char *p = der;
	X509_CRL *crl = NULL;
	EVP_PKEY *k = X509_get0_pubkey(issuer);
	char want[200], have[200], buf[200];
	const char *bad;
	enum pkid_code rc = PKID_E_INTERNAL;

	*out = NULL;
	PKID_CHECK(len <= PKID_RA_CRL_MAX_SIZE, PKID_E_TOO_LARGE, "a CRL of "
	    "%zu bytes, more than %d", len, PKID_RA_CRL_MAX_SIZE);
	PKID_CHECK(len > 0 && (crl = d2i_X509_CRL(NULL, &p, (long)len)) !=
	    NULL, PKID_E_CRL_MALFORMED, "%zu bytes that are not a DER CRL "
	    "(RFC 5280 4.2.1.13)", len);
	PKID_CHECK(p == der + len, PKID_E_CRL_MALFORMED, "%zu bytes after "
	    "the CRL", (size_t)(der + len - p));
	pkid_x509_name_text(X509_get_subject_name(issuer), want, sizeof(want));
	pkid_x509_name_text(X509_CRL_get_issuer(crl), have, sizeof(have));
	PKID_CHECK(X509_NAME_cmp(X509_CRL_get_issuer(crl),
	    X509_get_subject_name(issuer)) == 0, PKID_E_CRL_PROBLEM, "the CRL "
	    "is issued by %s, not by %s", have, want);
	PKID_CHECK(k != NULL && X509_CRL_verify(crl, k) == 1,
	    PKID_E_CRL_PROBLEM, "RFC 5280 6.3.3: the CRL's signature does "
	    "not verify with the key of %s", want);
	bad = pkid_crl_unsupported(crl, issuer, buf, sizeof(buf));
	PKID_CHECK(bad == NULL, PKID_E_CRL_PROBLEM, "%s", bad);
	PKID_CHECK(X509_CRL_get0_nextUpdate(crl) != NULL, PKID_E_CRL_PROBLEM,
	    "RFC 5280 5.1.2.5: the CRL has no nextUpdate");
	*out = crl;
	crl = NULL;
	rc = PKID_OK;
out:
	X509_CRL_free(crl);
	return rc;
}

enum pkid_code
pkid_ra_crl_current(X509_CRL *crl, time_t now, struct pkid_err *e)
{
	time_t tu = asn1_time(X509_CRL_get0_lastUpdate(crl));
	time_t nu = asn1_time(X509_CRL_get0_nextUpdate(crl));
	char a[32], b[32];

	pkid_time_fmt(now, b, sizeof(b));
	if (tu > now + PKID_RA_CRL_SKEW_S)
		return PKID_ERR(e, PKID_E_CRL_PROBLEM, "RFC 5280 5.1.2.4: "
		    "thisUpdate %s is after pkid's time %s: a clock is wrong",
		    pkid_time_fmt(tu, a, sizeof(a)), b);
	if (nu <= now)
		return PKID_ERR(e, PKID_E_CRL_PROBLEM, "RFC 5280 5.1.2.5: "
		    "nextUpdate %s has passed (pkid's time %s)",
		    pkid_time_fmt(nu, a, sizeof(a)), b);
	return PKID_OK;
}

/* A distribution point name this RA can fetch: an http or https URI
 * without NUL, into out. */
static int
fetchable(const GENERAL_NAME *gn, char *out, size_t len)
{
	const ASN1_IA5STRING *s;
	int n;

	if (gn->type != GEN_URI)
		return 0;
	s = gn->d.uniformResourceIdentifier;
	n = ASN1_STRING_length(s);
	if (n <= 0 || (size_t)n >= len ||
	    memchr(ASN1_STRING_get0_data(s), '\0', (size_t)n) != NULL)
		return 0;
	memcpy(out, ASN1_STRING_get0_data(s), (size_t)n);
	out[n] = '\0';
	return strncasecmp(out, "http://", 7) == 0 ||
	    strncasecmp(out, "https://", 8) == 0;
}

static void
add_source(struct sources *s, const char *url)
{
	int i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->url[i], url) == 0)
			return;
	if (s->n < (int)(sizeof(s->url) / sizeof(s->url[0])))
		snprintf(s->url[s->n++], sizeof(s->url[0]), "%s", url);
}

/* RFC 5280 4.2.1.13: leaf's distribution points, then upstream_crl. */
static void
sources_of(const struct pkid_ra_crl *c, X509 *leaf, struct sources *s)
{
	CRL_DIST_POINTS *cdp;
	GENERAL_NAMES *full;
	DIST_POINT *dp;
	char url[PKID_RA_CRL_MAX_URL + 1];
	int i, j;

	s->n = 0;
	cdp = X509_get_ext_d2i(leaf, NID_crl_distribution_points, NULL, NULL);
	for (i = 0; i < sk_DIST_POINT_num(cdp); i++) {
		dp = sk_DIST_POINT_value(cdp, i);
		/* RFC 5280 6.3.3: a point for some reasons only, or served
		 * by another CRL issuer, is not the issuer's complete CRL. */
		if (dp->reasons != NULL || dp->CRLissuer != NULL ||
		    dp->distpoint == NULL || dp->distpoint->type != 0)
			continue;
		full = dp->distpoint->name.fullname;
		for (j = 0; j < sk_GENERAL_NAME_num(full) &&
		    s->n < PKID_RA_CRL_MAX_URIS; j++)
			if (fetchable(sk_GENERAL_NAME_value(full, j), url,
			    sizeof(url)))
				add_source(s, url);
	}
	CRL_DIST_POINTS_free(cdp);
	ERR_clear_error();
	if (c->fallback[0] != '\0')
		add_source(s, c->fallback);
}

/* Failures of a fetch that may pass by themselves. */
static int
fetch_transient(enum pkid_code code)
{
	return code != PKID_E_USAGE && code != PKID_E_TOO_LARGE &&
	    ((unsigned)code >> 16) != PKID_CAT_VERIFY;
}

/* Fetch url and check what came for issuer at now (no lock held);
 * *transient: the failure may pass by itself. */
static enum pkid_code
fetch_one(struct pkid_ra_crl *c, const char *url, X509 *issuer, time_t now,
    X509_CRL **out, int *transient, struct pkid_err *e)
{
	struct pkid_buf body;
	enum pkid_code rc;

	*out = NULL;
	memset(&body, 0, sizeof(body));
	rc = c->fetch(c->arg, url, PKID_RA_CRL_MAX_SIZE, &body, e);
	*transient = rc != PKID_OK && fetch_transient(rc);
	if (rc == PKID_OK)
		rc = pkid_ra_crl_parse(body.p, body.len, issuer, out, e);
	if (rc == PKID_OK && (rc = pkid_ra_crl_current(*out, now, e)) !=
	    PKID_OK) {
		/* The issuer may publish a newer one. */
		*transient = 1;
		X509_CRL_free(*out);
		*out = NULL;
	}
	pkid_buf_free(&body);
	return rc;
}

/* The slot of url: its own, a free one or the least recently used idle
 * one (c->mu held); NULL when every slot is being fetched. */
static struct crl_ent *
ent_get(struct pkid_ra_crl *c, const char *url)
{
	struct crl_ent *t, *v = NULL;
	int i;

	for (i = 0; i < PKID_RA_CRL_CACHE; i++)
		if (strcmp(c->ent[i].url, url) == 0)
			return &c->ent[i];
	for (i = 0; i < PKID_RA_CRL_CACHE; i++) {
		t = &c->ent[i];
		if (t->busy)
			continue;
		if (t->url[0] == '\0') {
			v = t;
			break;
		}
		if (v == NULL || t->used < v->used)
			v = t;
	}
	if (v == NULL)
		return NULL;
	ent_reset(v);
	snprintf(v->url, sizeof(v->url), "%s", url);
	return v;
}

/* What a thread that wants a slot's CRL does next. */
enum step {
	STEP_USE,	/* take what the slot holds */
	STEP_FETCH,	/* fetch it */
	STEP_WAIT,	/* another thread fetches it */
};

/* Less than PKID_RA_CRL_RETRY_S since the failure at since (mono ms). */
static int
resting(uint64_t since, uint64_t mono)
{
	return since != 0 && (mono < since ||
	    mono - since < (uint64_t)PKID_RA_CRL_RETRY_S * 1000);
}

static enum step
ent_step(const struct crl_ent *t, time_t now, uint64_t mono)
{
	if (t->crl != NULL && now < t->next_update &&
	    now - t->fetched < PKID_RA_CRL_MAX_AGE_S)
		return STEP_USE;
	if (t->busy)
		return STEP_WAIT;
	/* After a failure the URL rests: the last CRL (when still
	 * current) or the failure serve meanwhile. */
	if (resting(t->failed_ms, mono))
		return STEP_USE;
	return STEP_FETCH;
}

/* Log a slot's cause once, until it changes (c->mu held). */
static void
ent_log(struct pkid_ra_crl *c, struct crl_ent *t, const struct pkid_err *fe)
{
	char msg[512];

	if (fe->code == t->logged)
		return;
	if (fe->code == PKID_OK) {
		pkid_log(PKID_LOG_INFO, "est ra: CRL %s of upstream %s can be "
		    "fetched again", t->url, c->name);
	} else {
		pkid_err_message(fe, msg, sizeof(msg));
		pkid_log(PKID_LOG_ERROR, "est ra: CRL %s of upstream %s: %s: "
		    "%s: %s; renewals it is needed for are refused; fix: %s "
		    "(logged once until the cause changes)", t->url, c->name,
		    pkid_err_id(PKID_E_REVOCATION_UNKNOWN),
		    pkid_err_id(fe->code), msg,
		    pkid_err_remedy(PKID_E_REVOCATION_UNKNOWN));
	}
	t->logged = fe->code;
}

/* Keep what a fetch of t brought (c->mu held): the CRL fresh (taken),
 * or why it failed. */
static void
ent_store(struct pkid_ra_crl *c, struct crl_ent *t, X509_CRL *fresh,
    X509 *issuer, const struct pkid_err *fe, int transient, time_t now)
{
	char nu[32];

	c->fetches++;
	ent_log(c, t, fe);
	if (fresh == NULL) {
		t->failed_ms = pkid_mono_ms();
		if (t->failed_ms == 0)
			t->failed_ms = 1;
		t->why = *fe;
		t->transient = transient;
		return;
	}
	X509_CRL_free(t->crl);
	X509_free(t->signer);
	X509_up_ref(issuer);
	t->crl = fresh;
	t->signer = issuer;
	t->next_update = asn1_time(X509_CRL_get0_nextUpdate(fresh));
	t->fetched = now;
	t->failed_ms = 0;
	pkid_err_clear(&t->why);
	pkid_log(PKID_LOG_INFO, "est ra: CRL %s of upstream %s: %d revoked, "
	    "nextUpdate %s, kept at most %d s", t->url, c->name,
	    sk_X509_REVOKED_num(X509_CRL_get_REVOKED(fresh)),
	    pkid_time_fmt(t->next_update, nu, sizeof(nu)),
	    PKID_RA_CRL_MAX_AGE_S);
}

/* Fetch t's URL without the lock, then keep the result (c->mu held on
 * entry and on return). */
static void
ent_fetch(struct pkid_ra_crl *c, struct crl_ent *t, X509 *issuer,
    time_t now)
{
	char url[PKID_RA_CRL_MAX_URL + 1];
	X509_CRL *fresh = NULL;
	struct pkid_err fe;
	int transient = 0;

	pkid_err_clear(&fe);
	snprintf(url, sizeof(url), "%s", t->url);
	t->busy = 1;
	pthread_mutex_unlock(&c->mu);
	(void)fetch_one(c, url, issuer, now, &fresh, &transient, &fe);
	pthread_mutex_lock(&c->mu);
	ent_store(c, t, fresh, issuer, &fe, transient, now);
	t->busy = 0;
	pthread_cond_broadcast(&c->done);
}

/* Wait until another thread's fetch ends, at most until *dl; 0 when
 * woken in time (c->mu held). */
static int
wait_fetch(struct pkid_ra_crl *c, const struct timespec *dl)
{
	return pthread_cond_timedwait(&c->done, &c->mu, dl);
}

/* url's CRL as the cache has it, fetched when due; g is the caller's.
 * Error: revocation-unknown when no slot or a fetch takes too long. */
static enum pkid_code
crl_get(struct pkid_ra_crl *c, const char *url, X509 *issuer, time_t now,
    struct got *g, struct pkid_err *e)
{
	struct crl_ent *t;
	struct timespec dl;
	enum step st = STEP_WAIT;

	clock_gettime(CLOCK_MONOTONIC, &dl);
	dl.tv_sec += c->timeout_s + 1;
	pthread_mutex_lock(&c->mu);
	while ((t = ent_get(c, url)) != NULL &&
	    (st = ent_step(t, now, pkid_mono_ms())) == STEP_WAIT)
		if (wait_fetch(c, &dl) != 0)
			break;
	if (t == NULL || st == STEP_WAIT) {
		pthread_mutex_unlock(&c->mu);
		return PKID_ERR(e, PKID_E_REVOCATION_UNKNOWN, "CRL %s: %s",
		    url, t == NULL ? "every CRL slot is being fetched" :
		    "another fetch of it did not end in time");
	}
	if (st == STEP_FETCH)
		ent_fetch(c, t, issuer, now);
	t->used = ++c->tick;
	if (t->crl != NULL && X509_CRL_up_ref(t->crl) == 1)
		g->crl = t->crl;
	if (t->signer != NULL && X509_up_ref(t->signer) == 1)
		g->signer = t->signer;
	g->why = t->why;
	pthread_mutex_unlock(&c->mu);
	return PKID_OK;
}

/* detail without a leading "url: " (fetch errors name the URL). */
static const char *
after_url(const char *detail, const char *url)
{
	size_t n = strlen(url);

	if (strncmp(detail, url, n) == 0 && strncmp(detail + n, ": ", 2) == 0)
		return detail + n + 2;
	return detail;
}

/* Why g holds no CRL usable at now, as revocation-unknown. */
static enum pkid_code
unusable(const struct got *g, const char *url, time_t now,
    struct pkid_err *e)
{
	struct pkid_err ce;

	pkid_err_clear(&ce);
	if (g->crl != NULL &&
	    pkid_ra_crl_current(g->crl, now, &ce) != PKID_OK) {
		if (g->why.code == PKID_OK)
			return PKID_ERR(e, PKID_E_REVOCATION_UNKNOWN, "CRL %s: "
			    "crl-problem: %s", url, ce.detail);
		return PKID_ERR(e, PKID_E_REVOCATION_UNKNOWN, "CRL %s: %s; "
		    "no newer one: %s: %s", url, ce.detail,
		    pkid_err_id(g->why.code), after_url(g->why.detail, url));
	}
	return PKID_ERR(e, PKID_E_REVOCATION_UNKNOWN, "CRL %s: %s: %s", url,
	    pkid_err_id(g->why.code), after_url(g->why.detail, url));
}

/* RFC 5280 6.3.3: is leaf on crl (signed by signer), which should be
 * the CRL of issuer? */
static enum pkid_code
lookup(X509_CRL *crl, X509 *signer, X509 *leaf, X509 *issuer,
    const char *url, struct pkid_err *e)
{
	X509_REVOKED *rev = NULL;
	ASN1_ENUMERATED *why;
	char when[32], serial[80];
	long reason = -1;

	/* The slot was verified with another CA certificate: this one
	 * must have signed it too (the same key after a reissue). */
	if (X509_cmp(signer, issuer) != 0 && (X509_NAME_cmp(
	    X509_CRL_get_issuer(crl), X509_get_subject_name(issuer)) != 0 ||
	    X509_CRL_verify(crl, X509_get0_pubkey(issuer)) != 1)) {
		ERR_clear_error();
		return PKID_ERR(e, PKID_E_REVOCATION_UNKNOWN, "CRL %s: "
		    "crl-problem: not signed by the certificate's issuer",
		    url);
	}
	if (X509_CRL_get0_by_cert(crl, &rev, leaf) != 1)
		return PKID_OK;
	why = X509_REVOKED_get_ext_d2i(rev, NID_crl_reason, NULL, NULL);
	if (why != NULL)
		reason = ASN1_ENUMERATED_get(why);
	ASN1_ENUMERATED_free(why);
	ERR_clear_error();
	pkid_time_fmt(asn1_time(X509_REVOKED_get0_revocationDate(rev)), when,
	    sizeof(when));
	pkid_x509_serial_hex(X509_get0_serialNumber(leaf), serial,
	    sizeof(serial));
	return PKID_ERR(e, PKID_E_REVOKED, "RFC 5280 6.3: certificate serial "
	    "%s was revoked on %s, reason %s (RFC 5280 5.3.1), per the CRL "
	    "at %s", serial, when, pkid_crl_reason_name(reason), url);
}

/* leaf against the CRL at url: OK, revoked or revocation-unknown. */
static enum pkid_code
check_url(struct pkid_ra_crl *c, X509 *leaf, X509 *issuer, const char *url,
    char *how, size_t len, struct pkid_err *e)
{
	struct got g;
	time_t now = pkid_now();
	char nu[32];
	enum pkid_code rc;

	memset(&g, 0, sizeof(g));
	if ((rc = crl_get(c, url, issuer, now, &g, e)) != PKID_OK)
		return rc;
	if (g.crl == NULL || pkid_ra_crl_current(g.crl, now, NULL) != PKID_OK)
		rc = unusable(&g, url, now, e);
	else
		rc = lookup(g.crl, g.signer, leaf, issuer, url, e);
	if (rc == PKID_OK && how != NULL)
		snprintf(how, len, "not revoked per the CRL at %s (nextUpdate "
		    "%s)", url, pkid_time_fmt(asn1_time(
		    X509_CRL_get0_nextUpdate(g.crl)), nu, sizeof(nu)));
	X509_CRL_free(g.crl);
	X509_free(g.signer);
	return rc;
}

/* leaf names no CRL this RA can fetch and upstream_crl is not set. */
static enum pkid_code
no_source(struct pkid_ra_crl *c, X509 *leaf, struct pkid_err *e)
{
	char serial[80];
	int first;

	pkid_x509_serial_hex(X509_get0_serialNumber(leaf), serial,
	    sizeof(serial));
	PKID_ERR(e, PKID_E_REVOCATION_UNKNOWN, "certificate serial %s names "
	    "no http(s) CRL distribution point (RFC 5280 4.2.1.13) and "
	    "upstream_crl is not set for upstream %s", serial, c->name);
	pthread_mutex_lock(&c->mu);
	first = !c->nosrc_logged;
	c->nosrc_logged = 1;
	pthread_mutex_unlock(&c->mu);
	if (first)
		pkid_log(PKID_LOG_ERROR, "est ra: %s: %s; fix: %s (logged "
		    "once)", pkid_err_id(e->code), e->detail,
		    pkid_err_remedy(e->code));
	return e->code;
}

enum pkid_code
pkid_ra_crl_check(struct pkid_ra_crl *c, X509 *leaf, X509 *issuer,
    char *how, size_t len, struct pkid_err *e)
{
	struct sources s;
	struct pkid_err first, ue;
	int i;
	enum pkid_code rc;

	if (how != NULL && len > 0)
		how[0] = '\0';
	sources_of(c, leaf, &s);
	if (s.n == 0)
		return no_source(c, leaf, e);
	pkid_err_clear(&first);
	for (i = 0; i < s.n; i++) {
		pkid_err_clear(&ue);
		rc = check_url(c, leaf, issuer, s.url[i], how, len, &ue);
		if (rc != PKID_E_REVOCATION_UNKNOWN) {
			if (rc != PKID_OK)
				*e = ue;
			return rc;
		}
		if (first.code == PKID_OK)
			first = ue;
	}
	/* No CRL answered: the first source's reason (the certificate's
	 * own distribution point before upstream_crl). */
	*e = first;
	return e->code;
}

int
pkid_ra_crl_retry_after(struct pkid_ra_crl *c, X509 *leaf)
{
	struct sources s;
	struct crl_ent *t;
	uint64_t now = pkid_mono_ms(), left;
	uint64_t retry = (uint64_t)PKID_RA_CRL_RETRY_S * 1000;
	int i, j, after = 0;

	sources_of(c, leaf, &s);
	pthread_mutex_lock(&c->mu);
	for (i = 0; i < s.n && after == 0; i++)
		for (j = 0; j < PKID_RA_CRL_CACHE && after == 0; j++) {
			t = &c->ent[j];
			if (strcmp(t->url, s.url[i]) != 0 ||
			    t->failed_ms == 0 || !t->transient)
				continue;
			left = resting(t->failed_ms, now) && now >=
			    t->failed_ms ? retry - (now - t->failed_ms) : 0;
			after = (int)((left + 999) / 1000);
			if (after < 1)
				after = 1;
		}
	pthread_mutex_unlock(&c->mu);
	return after;
}
