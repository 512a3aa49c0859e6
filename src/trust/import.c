/*
 * import.c - a signed trust bundle into a trust store (import.h): fetch,
 * verify, the rollback rule, each anchor judged, one atomic commit; and
 * the schedule of automatic imports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <openssl/rand.h>

#include "core/buf.h"
#include "core/clock.h"
#include "core/limits.h"
#include "http/get.h"
#include "trust/bundle.h"
#include "trust/import.h"
#include "x509/load.h"

void
pkid_trust_import_result_clear(struct pkid_trust_import_result *r)
{
	if (r == NULL)
		return;
	free(r->certs);
	memset(r, 0, sizeof(*r));
	r->serial = r->previous = -1;
}

const char *
pkid_trust_verdict_name(enum pkid_trust_verdict v)
{
	switch (v) {
	case PKID_TRUST_INSTALLED:
		return "installed";
	case PKID_TRUST_DUPLICATE:
		return "duplicate";
	case PKID_TRUST_EXPIRED:
		return "expired";
	case PKID_TRUST_FAILED:
		return "failed";
	case PKID_TRUST_NOT_INSTALLED:
	default:
		return "not-installed";
	}
}

static int
is_url(const char *s)
{
	return strncasecmp(s, "http://", 7) == 0 ||
	    strncasecmp(s, "https://", 8) == 0;
}

/* The pinned anchors plus the store's, for an https server. */
static enum pkid_code
tls_anchors(const struct pkid_trust_import_opts *o, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	struct pkid_trust_store *s = NULL;
	STACK_OF(X509) *sk = NULL;
	struct pkid_err ignore;
	X509 *x;
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_OSSL_PTR(*out = sk_X509_dup(o->anchors), PKID_E_NOMEM,
	    "no memory");
	for (i = 0; i < sk_X509_num(*out); i++)
		X509_up_ref(sk_X509_value(*out, i));
	pkid_err_clear(&ignore);
	/* A store not made yet has no anchors to add. */
	if (pkid_trust_store_open(o->store, PKID_TRUST_READ, o->lock_wait_ms,
	    &s, &ignore) == PKID_OK) {
		PKID_OSSL_PTR(sk = pkid_trust_store_certs(s), PKID_E_NOMEM,
		    "no memory");
		while ((x = sk_X509_shift(sk)) != NULL)
			if (!sk_X509_push(*out, x))
				X509_free(x);
	}
	rc = PKID_OK;
out:
	sk_X509_pop_free(sk, X509_free);
	pkid_trust_store_close(s);
	return rc;
}

/* The bundle's bytes from a file or a URL. */
static enum pkid_code
fetch(const struct pkid_trust_import_opts *o,
    struct pkid_trust_import_result *r, struct pkid_buf *out,
    struct pkid_err *e)
{
	struct pkid_http_follow info;
	STACK_OF(X509) *tls = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&info, 0, sizeof(info));
	snprintf(r->location, sizeof(r->location), "%s", o->source);
	if (!is_url(o->source)) {
		rc = pkid_buf_read_file(out, o->source,
		    PKID_TRUST_MAX_BUNDLE_SIZE, e);
		goto out;
	}
	if (strncasecmp(o->source, "https://", 8) == 0 &&
	    o->tls_trust == NULL)
		PKID_TRY(tls_anchors(o, &tls, e));
	rc = pkid_http_get_follow(o->source, o->tls_trust != NULL ?
	    o->tls_trust : tls, o->timeout_s > 0 ? o->timeout_s :
	    PKID_TRUST_FETCH_TIMEOUT_S, PKID_TRUST_MAX_BUNDLE_SIZE,
	    PKID_TRUST_MAX_REDIRECTS, out, &info, e);
	r->http_status = info.status;
	if (info.url[0] != '\0')
		snprintf(r->location, sizeof(r->location), "%s", info.url);
out:
	sk_X509_pop_free(tls, X509_free);
	return rc;
}

/* Serial rule against what the store installed from this publisher. */
static enum pkid_code
check_rollback(struct pkid_trust_store *s, const struct pkid_trust_bundle *b,
    struct pkid_trust_import_result *r, struct pkid_err *e)
{
	struct pkid_trust_source *src = pkid_trust_store_source(s,
	    r->publisher, 0);
	char when[32];

	if (src == NULL)
		return PKID_OK;
	r->previous = src->serial;
	if (b->serial < src->serial)
		return PKID_ERR(e, PKID_E_BUNDLE_ROLLBACK, "bundle serial %lld "
		    "signed %s is older than serial %lld, installed from the "
		    "same publisher (%s) on %s", (long long)b->serial,
		    r->signer, (long long)src->serial, src->location,
		    pkid_time_fmt((time_t)src->installed_at, when,
		    sizeof(when)));
	if (b->serial == src->serial &&
	    strcmp(b->content_sha256, src->content_sha256) != 0)
		return PKID_ERR(e, PKID_E_BUNDLE_ROLLBACK, "bundle serial %lld "
		    "is installed already with other contents (SHA-256 %.16s.., "
		    "this one %.16s..): a publisher changes the serial with "
		    "the contents", (long long)b->serial, src->content_sha256,
		    b->content_sha256);
	r->unchanged = b->serial == src->serial;
	return PKID_OK;
}

/* Judge anchor i of the bundle; returns its verdict. */
static enum pkid_trust_verdict
judge(struct pkid_trust_store *s, const struct pkid_trust_bundle *b, int i,
    time_t now, struct pkid_trust_outcome *c)
{
	X509 *x = sk_X509_value(b->anchors, i);
	char na[32];
	struct tm tm;
	int k;

	pkid_x509_fingerprint(x, c->sha256);
	pkid_x509_name_text(X509_get_subject_name(x), c->subject,
	    sizeof(c->subject));
	for (k = 0; k < i; k++)
		if (X509_cmp(sk_X509_value(b->anchors, k), x) == 0)
			return PKID_TRUST_DUPLICATE;
	if (!pkid_trust_is_ca(x)) {
		c->code = PKID_E_BUNDLE_NOT_CA;
		snprintf(c->why, sizeof(c->why), "not a CA certificate "
		    "(basicConstraints cA is not TRUE; RFC 5280 4.2.1.9)");
		return PKID_TRUST_FAILED;
	}
	if (X509_cmp_time(X509_get0_notAfter(x), &now) <= 0) {
		c->code = PKID_E_EXPIRED;
		memset(&tm, 0, sizeof(tm));
		snprintf(na, sizeof(na), "?");
		if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) == 1)
			pkid_time_fmt(timegm(&tm), na, sizeof(na));
		snprintf(c->why, sizeof(c->why), "expired (notAfter %s): "
		    "skipped", na);
		return PKID_TRUST_EXPIRED;
	}
	if (pkid_trust_store_find(s, c->sha256) >= 0)
		return PKID_TRUST_DUPLICATE;
	return PKID_TRUST_INSTALLED;
}

/* Every anchor judged and counted; failed ones refuse the bundle. */
static enum pkid_code
judge_all(struct pkid_trust_store *s, const struct pkid_trust_bundle *b,
    time_t now, struct pkid_trust_import_result *r, struct pkid_err *e)
{
	struct pkid_trust_outcome *c;
	int i, first = -1;

	r->attempted = sk_X509_num(b->anchors);
	if ((r->certs = calloc((size_t)r->attempted, sizeof(*r->certs))) ==
	    NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	for (i = 0; i < r->attempted; i++, r->n++) {
		c = &r->certs[i];
		c->verdict = judge(s, b, i, now, c);
		r->installed += c->verdict == PKID_TRUST_INSTALLED;
		r->duplicates += c->verdict == PKID_TRUST_DUPLICATE;
		r->expired += c->verdict == PKID_TRUST_EXPIRED;
		r->failed += c->verdict == PKID_TRUST_FAILED;
		if (c->verdict == PKID_TRUST_FAILED && first < 0)
			first = i;
	}
	if (first < 0)
		return PKID_OK;
	for (i = 0; i < r->attempted; i++)
		if (r->certs[i].verdict == PKID_TRUST_INSTALLED)
			r->certs[i].verdict = PKID_TRUST_NOT_INSTALLED;
	r->installed = 0;
	c = &r->certs[first];
	return PKID_ERR(e, c->code, "anchor[%d] '%s' (SHA-256 %s): %s; %d of "
	    "%d anchors refused, nothing of the bundle installed", first,
	    c->subject, c->sha256, c->why, r->failed, r->attempted);
}

/* Add what was judged installable, record the publisher, commit. */
static enum pkid_code
apply(struct pkid_trust_store *s, const struct pkid_trust_bundle *b,
    time_t now, struct pkid_trust_import_result *r, struct pkid_err *e)
{
	struct pkid_trust_source *src;
	char from[PKID_TRUST_MAX_SOURCE + 64];
	int i;
	enum pkid_code rc = PKID_E_INTERNAL;

	snprintf(from, sizeof(from), "bundle %s serial %lld", r->location,
	    (long long)b->serial);
	for (i = 0; i < r->attempted; i++)
		if (r->certs[i].verdict == PKID_TRUST_INSTALLED)
			PKID_TRY(pkid_trust_store_add(s, sk_X509_value(
			    b->anchors, i), from, (int64_t)now, e));
	src = pkid_trust_store_source(s, r->publisher, 1);
	PKID_CHECK(src != NULL, PKID_E_TOO_LARGE, "the store already "
	    "remembers %d bundle publishers, the most it may",
	    PKID_TRUST_MAX_SOURCES);
	src->serial = b->serial;
	snprintf(src->content_sha256, sizeof(src->content_sha256), "%s",
	    b->content_sha256);
	snprintf(src->location, sizeof(src->location), "%s", r->location);
	snprintf(src->signer, sizeof(src->signer), "%s", b->signer_subject);
	src->signing_time = (int64_t)b->signing_time;
	src->installed_at = (int64_t)now;
	PKID_TRY(pkid_trust_store_commit(s, e));
	r->committed = 1;
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_trust_import(const struct pkid_trust_import_opts *o,
    struct pkid_trust_import_result *r, struct pkid_err *e)
{
	struct pkid_trust_bundle *b = NULL;
	struct pkid_trust_store *s = NULL;
	struct pkid_buf raw;
	time_t now = o->now != 0 ? o->now : pkid_now();
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&raw, 0, sizeof(raw));
	memset(r, 0, sizeof(*r));
	r->serial = r->previous = -1;
	PKID_CHECK(o->store != NULL && o->source != NULL &&
	    sk_X509_num(o->anchors) > 0, PKID_E_USAGE, "an import needs a "
	    "store, a source and at least one pinned anchor");
	PKID_CHECK(strlen(o->source) <= PKID_TRUST_MAX_SOURCE, PKID_E_USAGE,
	    "source longer than %d bytes", PKID_TRUST_MAX_SOURCE);
	PKID_TRY(fetch(o, r, &raw, e));
	PKID_TRY(pkid_trust_bundle_open(raw.p, raw.len, o->anchors, now, &b,
	    e));
	r->fetched = 1;
	r->serial = b->serial;
	r->signing_time = b->signing_time;
	snprintf(r->signer, sizeof(r->signer), "%s", b->signer_subject);
	pkid_x509_fingerprint(b->pinned, r->publisher);
	PKID_TRY(pkid_trust_store_open(o->store, PKID_TRUST_WRITE,
	    o->lock_wait_ms > 0 ? o->lock_wait_ms : PKID_TRUST_LOCK_WAIT_MS,
	    &s, e));
	PKID_TRY(check_rollback(s, b, r, e));
	PKID_TRY(judge_all(s, b, now, r, e));
	if (!r->unchanged)
		PKID_TRY(apply(s, b, now, r, e));
	rc = PKID_OK;
out:
	if (rc != PKID_OK)
		pkid_err_ctx(e, "importing %s", o->source != NULL ? o->source :
		    "(none)");
	pkid_trust_store_close(s);
	pkid_trust_bundle_free(b);
	pkid_buf_free(&raw);
	return rc;
}

int
pkid_trust_failure_transient(enum pkid_code code, int http_status)
{
	switch (code) {
	case PKID_E_DNS_FAILURE:
	case PKID_E_CONNECT_REFUSED:
	case PKID_E_CONNECT_TIMEOUT:
	case PKID_E_TLS_HANDSHAKE:
	case PKID_E_IO_READ:
	case PKID_E_STORE_BUSY:
		return 1;
	case PKID_E_HTTP_STATUS:
		return http_status >= 500 || http_status == 429;
	default:
		return 0;
	}
}

int64_t
pkid_trust_next_delay(int64_t interval, int failures, int transient,
    uint32_t rnd)
{
	int64_t d = interval, j;
	int i;

	if (failures > 0 && transient) {
		d = PKID_TRUST_RETRY_BASE_S;
		for (i = 1; i < failures && d < PKID_TRUST_RETRY_MAX_S; i++)
			d *= 2;
		if (d > PKID_TRUST_RETRY_MAX_S)
			d = PKID_TRUST_RETRY_MAX_S;
		if (d > interval)
			d = interval;
	}
	j = d * PKID_TRUST_JITTER_PCT / 100;
	if (j > 0)
		d = d - j + (int64_t)(rnd % (uint64_t)(2 * j + 1));
	return d < 1 ? 1 : d;
}

/* The status record of an attempt that ended with rc. */
static void
fill_status(const struct pkid_trust_import_opts *o, int64_t interval,
    const struct pkid_trust_status *prev,
    const struct pkid_trust_import_result *r, enum pkid_code rc,
    const struct pkid_err *e, struct pkid_trust_status *st)
{
	int64_t now = (int64_t)pkid_now();
	uint32_t rnd = 0;

	memset(st, 0, sizeof(*st));
	snprintf(st->source, sizeof(st->source), "%s", o->source);
	st->last_attempt = now;
	snprintf(st->result, sizeof(st->result), "%s", rc != PKID_OK ?
	    "failed" : r->unchanged ? "unchanged" : "installed");
	snprintf(st->code, sizeof(st->code), "%s", pkid_err_id(rc));
	if (rc != PKID_OK)
		pkid_err_message(e, st->message, sizeof(st->message));
	st->failures = rc == PKID_OK ? 0 : strcmp(prev->source, o->source) ==
	    0 ? prev->failures + 1 : 1;
	if (st->failures > 1000000)
		st->failures = 1000000;
	st->last_success = rc == PKID_OK ? now : prev->last_success;
	st->serial = r->serial;
	st->attempted = r->attempted;
	st->installed = r->installed;
	st->duplicates = r->duplicates;
	st->expired = r->expired;
	st->failed = r->failed;
	if (interval > 0) {
		(void)RAND_bytes((unsigned char *)&rnd, sizeof(rnd));
		st->next_attempt = now + pkid_trust_next_delay(interval,
		    st->failures, pkid_trust_failure_transient(rc,
		    r->http_status), rnd);
	}
}

enum pkid_code
pkid_trust_import_scheduled(const struct pkid_trust_import_opts *o,
    int64_t interval, struct pkid_trust_import_result *r,
    struct pkid_trust_status *st, struct pkid_err *e)
{
	struct pkid_trust_status prev, cur;
	struct pkid_err ignore;
	enum pkid_code rc;

	pkid_err_clear(&ignore);
	if (pkid_trust_status_load(o->store, &prev, &ignore) != PKID_OK) {
		memset(&prev, 0, sizeof(prev));
		prev.serial = -1;
	}
	rc = pkid_trust_import(o, r, e);
	fill_status(o, interval, &prev, r, rc, e, &cur);
	if (st != NULL)
		*st = cur;
	pkid_err_clear(&ignore);
	if (pkid_trust_status_save(o->store, &cur, rc == PKID_OK ? e :
	    &ignore) != PKID_OK && rc == PKID_OK)
		return e->code;
	return rc;
}
