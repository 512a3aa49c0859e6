/*
 * state.c - a trust store's state.json and status.json as text (store.h):
 * JSON through jansson, every field checked for type, form and length,
 * the whole file bounded. Times are RFC 3339 UTC strings.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/clock.h"
#include "trust/store.h"

#define STATE_FORMAT "pkid-trust-store"
#define STATUS_FORMAT "pkid-trust-status"
#define FORMAT_VERSION 1

void
pkid_trust_state_clear(struct pkid_trust_state *st)
{
	size_t i;

	if (st == NULL)
		return;
	for (i = 0; i < st->n; i++)
		X509_free(st->a[i].cert);
	free(st->a);
	memset(st, 0, sizeof(*st));
}

/* Lower-case hex of exactly want characters (0: any even length <= n). */
static int
hex_ok(const char *s, size_t want, size_t max)
{
	size_t i, n = strlen(s);

	if (want != 0 ? n != want : (n % 2 != 0 || n > max))
		return 0;
	for (i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]) ||
		    isupper((unsigned char)s[i]))
			return 0;
	return 1;
}

/* The string member key of o into out (n bytes); "" when absent and
 * optional. */
static enum pkid_code
get_str(json_t *o, const char *where, const char *key, int required,
    char *out, size_t n, struct pkid_err *e)
{
	json_t *v = json_object_get(o, key);

	out[0] = '\0';
	if (v == NULL && !required)
		return PKID_OK;
	if (!json_is_string(v))
		return PKID_ERR(e, PKID_E_STORE_IO, "%s: \"%s\" is missing or "
		    "not a string", where, key);
	if (json_string_length(v) >= n || strlen(json_string_value(v)) !=
	    json_string_length(v))
		return PKID_ERR(e, PKID_E_STORE_IO, "%s: \"%s\" is longer than "
		    "%zu bytes or holds a NUL", where, key, n - 1);
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return PKID_OK;
}

/* An RFC 3339 time member (absent or null: 0 unless required). */
static enum pkid_code
get_time(json_t *o, const char *where, const char *key, int required,
    int64_t *out, struct pkid_err *e)
{
	char buf[40];
	time_t t = 0;
	json_t *v = json_object_get(o, key);

	*out = 0;
	if ((v == NULL || json_is_null(v)) && !required)
		return PKID_OK;
	if (get_str(o, where, key, 1, buf, sizeof(buf), e) != PKID_OK)
		return e->code;
	if (pkid_time_parse(buf, &t, NULL) != PKID_OK)
		return PKID_ERR(e, PKID_E_STORE_IO, "%s: \"%s\" is not an RFC "
		    "3339 time: '%s'", where, key, buf);
	*out = (int64_t)t;
	return PKID_OK;
}

/* An integer member within [min, max]. */
static enum pkid_code
get_int(json_t *o, const char *where, const char *key, int64_t min,
    int64_t max, int64_t *out, struct pkid_err *e)
{
	json_t *v = json_object_get(o, key);

	if (!json_is_integer(v) || json_integer_value(v) < min ||
	    json_integer_value(v) > max)
		return PKID_ERR(e, PKID_E_STORE_IO, "%s: \"%s\" is not an "
		    "integer %lld..%lld", where, key, (long long)min,
		    (long long)max);
	*out = (int64_t)json_integer_value(v);
	return PKID_OK;
}

/* Parse the bounded text into a JSON object of the given format. */
static enum pkid_code
load_doc(const uint8_t *p, size_t len, const char *format, json_t **out,
    struct pkid_err *e)
{
	json_error_t je;
	json_t *doc;
	const char *f;
	int64_t v;

	*out = NULL;
	if (len > PKID_TRUST_MAX_STATE_SIZE)
		return PKID_ERR(e, PKID_E_TOO_LARGE, "%zu bytes, over the "
		    "limit of %d", len, PKID_TRUST_MAX_STATE_SIZE);
	doc = json_loadb((const char *)p, len, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL)
		return PKID_ERR(e, PKID_E_STORE_IO, "not JSON: line %d: %s",
		    je.line, je.text);
	if (!json_is_object(doc) || (f = json_string_value(json_object_get(
	    doc, "format"))) == NULL || strcmp(f, format) != 0) {
		json_decref(doc);
		return PKID_ERR(e, PKID_E_STORE_IO, "not a %s document (no "
		    "\"format\": \"%s\")", format, format);
	}
	if (get_int(doc, format, "version", 1, 1000000, &v, e) != PKID_OK) {
		json_decref(doc);
		return e->code;
	}
	if (v != FORMAT_VERSION) {
		json_decref(doc);
		return PKID_ERR(e, PKID_E_STORE_SCHEMA, "%s version %lld; this "
		    "pkid reads version %d", format, (long long)v,
		    FORMAT_VERSION);
	}
	*out = doc;
	return PKID_OK;
}

static enum pkid_code
parse_anchor(json_t *o, size_t i, struct pkid_trust_anchor *a,
    struct pkid_err *e)
{
	char where[48];
	enum pkid_code rc = PKID_E_INTERNAL;

	snprintf(where, sizeof(where), "anchors[%zu]", i);
	PKID_CHECK(json_is_object(o), PKID_E_STORE_IO, "%s: not an object",
	    where);
	PKID_TRY(get_str(o, where, "sha256", 1, a->sha256, sizeof(a->sha256),
	    e));
	PKID_CHECK(hex_ok(a->sha256, 64, 0), PKID_E_STORE_IO, "%s: sha256 is "
	    "not 64 lower-case hex digits", where);
	PKID_TRY(get_str(o, where, "ski", 1, a->ski, sizeof(a->ski), e));
	PKID_CHECK(a->ski[0] != '\0' && hex_ok(a->ski, 0, 128),
	    PKID_E_STORE_IO, "%s: ski is not lower-case hex", where);
	PKID_TRY(get_str(o, where, "subject", 1, a->subject,
	    sizeof(a->subject), e));
	PKID_TRY(get_str(o, where, "source", 1, a->source, sizeof(a->source),
	    e));
	PKID_TRY(get_time(o, where, "not_before", 1, &a->not_before, e));
	PKID_TRY(get_time(o, where, "not_after", 1, &a->not_after, e));
	PKID_TRY(get_time(o, where, "added", 1, &a->added, e));
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
parse_source(json_t *o, size_t i, struct pkid_trust_source *s,
    struct pkid_err *e)
{
	char where[48];
	enum pkid_code rc = PKID_E_INTERNAL;

	snprintf(where, sizeof(where), "sources[%zu]", i);
	PKID_CHECK(json_is_object(o), PKID_E_STORE_IO, "%s: not an object",
	    where);
	PKID_TRY(get_str(o, where, "anchor", 1, s->anchor, sizeof(s->anchor),
	    e));
	PKID_TRY(get_str(o, where, "content_sha256", 1, s->content_sha256,
	    sizeof(s->content_sha256), e));
	PKID_CHECK(hex_ok(s->anchor, 64, 0) && hex_ok(s->content_sha256, 64,
	    0), PKID_E_STORE_IO, "%s: anchor or content_sha256 is not 64 "
	    "lower-case hex digits", where);
	PKID_TRY(get_int(o, where, "serial", 0, INT64_MAX, &s->serial, e));
	PKID_TRY(get_str(o, where, "location", 1, s->location,
	    sizeof(s->location), e));
	PKID_TRY(get_str(o, where, "signer", 1, s->signer, sizeof(s->signer),
	    e));
	PKID_TRY(get_time(o, where, "signing_time", 0, &s->signing_time, e));
	PKID_TRY(get_time(o, where, "installed_at", 0, &s->installed_at, e));
	rc = PKID_OK;
out:
	return rc;
}

/* Anchors array into st, refusing duplicates. */
static enum pkid_code
parse_anchors(json_t *arr, struct pkid_trust_state *st, struct pkid_err *e)
{
	size_t i, j, n = json_array_size(arr);
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(json_is_array(arr), PKID_E_STORE_IO, "\"anchors\" is "
	    "missing or not an array");
	PKID_CHECK(n <= PKID_TRUST_MAX_ANCHORS, PKID_E_TOO_LARGE, "%zu "
	    "anchors, more than %d", n, PKID_TRUST_MAX_ANCHORS);
	if (n > 0)
		PKID_OSSL_PTR(st->a = calloc(n, sizeof(*st->a)), PKID_E_NOMEM,
		    "no memory");
	st->cap = n;
	for (i = 0; i < n; i++) {
		PKID_TRY(parse_anchor(json_array_get(arr, i), i, &st->a[i],
		    e));
		for (j = 0; j < i; j++)
			PKID_CHECK(strcmp(st->a[j].sha256, st->a[i].sha256) !=
			    0, PKID_E_STORE_IO, "anchors[%zu] and [%zu] are "
			    "the same certificate", j, i);
		st->n++;
	}
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_trust_state_parse(const uint8_t *p, size_t len,
    struct pkid_trust_state *st, struct pkid_err *e)
{
	json_t *doc = NULL, *src;
	size_t i, n;
	enum pkid_code rc = PKID_E_INTERNAL;

	pkid_trust_state_clear(st);
	PKID_TRY(load_doc(p, len, STATE_FORMAT, &doc, e));
	PKID_TRY(parse_anchors(json_object_get(doc, "anchors"), st, e));
	src = json_object_get(doc, "sources");
	n = json_array_size(src);
	PKID_CHECK(json_is_array(src) && n <= PKID_TRUST_MAX_SOURCES,
	    PKID_E_STORE_IO, "\"sources\" is missing, not an array or longer "
	    "than %d", PKID_TRUST_MAX_SOURCES);
	for (i = 0; i < n; i++, st->nsrc++)
		PKID_TRY(parse_source(json_array_get(src, i), i,
		    &st->src[i], e));
	rc = PKID_OK;
out:
	json_decref(doc);
	if (rc != PKID_OK)
		pkid_trust_state_clear(st);
	return rc;
}

/* RFC 3339 text of t, or JSON null for 0. */
static json_t *
jtime(int64_t t)
{
	char buf[40];

	if (t == 0)
		return json_null();
	return json_string(pkid_time_fmt((time_t)t, buf, sizeof(buf)));
}

/* Dump doc (reference taken) as indented text into out. */
static enum pkid_code
dump(json_t *doc, struct pkid_buf *out, struct pkid_err *e)
{
	char *s;
	enum pkid_code rc;

	pkid_buf_init(out, PKID_TRUST_MAX_STATE_SIZE);
	s = doc != NULL ? json_dumps(doc, JSON_INDENT(1) |
	    JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (s == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory");
	rc = pkid_buf_append(out, s, strlen(s), e);
	if (rc == PKID_OK)
		rc = pkid_buf_append(out, "\n", 1, e);
	free(s);
	return rc;
}

enum pkid_code
pkid_trust_state_write(const struct pkid_trust_state *st,
    struct pkid_buf *out, struct pkid_err *e)
{
	json_t *doc, *arr = json_array(), *src = json_array();
	const struct pkid_trust_anchor *a;
	const struct pkid_trust_source *s;
	size_t i;

	for (i = 0; arr != NULL && i < st->n; i++) {
		a = &st->a[i];
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:o, "
		    "s:o, s:s, s:o}", "sha256", a->sha256, "ski", a->ski,
		    "subject", a->subject, "not_before", jtime(a->not_before),
		    "not_after", jtime(a->not_after), "source", a->source,
		    "added", jtime(a->added)));
	}
	for (i = 0; src != NULL && i < st->nsrc; i++) {
		s = &st->src[i];
		json_array_append_new(src, json_pack("{s:s, s:I, s:s, s:s, "
		    "s:s, s:o, s:o}", "anchor", s->anchor, "serial",
		    (json_int_t)s->serial, "content_sha256", s->content_sha256,
		    "location", s->location, "signer", s->signer,
		    "signing_time", jtime(s->signing_time), "installed_at",
		    jtime(s->installed_at)));
	}
	doc = json_pack("{s:s, s:i, s:o, s:o}", "format", STATE_FORMAT,
	    "version", FORMAT_VERSION, "anchors", arr, "sources", src);
	return dump(doc, out, e);
}

enum pkid_code
pkid_trust_status_parse(const uint8_t *p, size_t len,
    struct pkid_trust_status *s, struct pkid_err *e)
{
	json_t *doc = NULL;
	int64_t v[6];
	static const char *const counts[] = { "attempted", "installed",
	    "duplicates", "expired", "failed", "failures" };
	size_t i;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(s, 0, sizeof(*s));
	s->serial = -1;
	PKID_TRY(load_doc(p, len, STATUS_FORMAT, &doc, e));
	PKID_TRY(get_str(doc, "status", "source", 1, s->source,
	    sizeof(s->source), e));
	PKID_TRY(get_str(doc, "status", "result", 1, s->result,
	    sizeof(s->result), e));
	PKID_CHECK(strcmp(s->result, "installed") == 0 || strcmp(s->result,
	    "unchanged") == 0 || strcmp(s->result, "failed") == 0,
	    PKID_E_STORE_IO, "status: result '%s' is not installed, "
	    "unchanged or failed", s->result);
	PKID_TRY(get_str(doc, "status", "code", 1, s->code, sizeof(s->code),
	    e));
	PKID_TRY(get_str(doc, "status", "message", 0, s->message,
	    sizeof(s->message), e));
	PKID_TRY(get_time(doc, "status", "last_attempt", 1, &s->last_attempt,
	    e));
	PKID_TRY(get_time(doc, "status", "next_attempt", 0, &s->next_attempt,
	    e));
	PKID_TRY(get_time(doc, "status", "last_success", 0, &s->last_success,
	    e));
	PKID_TRY(get_int(doc, "status", "serial", -1, INT64_MAX, &s->serial,
	    e));
	for (i = 0; i < 6; i++)
		PKID_TRY(get_int(doc, "status", counts[i], 0, 1000000, &v[i],
		    e));
	s->attempted = (int)v[0];
	s->installed = (int)v[1];
	s->duplicates = (int)v[2];
	s->expired = (int)v[3];
	s->failed = (int)v[4];
	s->failures = (int)v[5];
	rc = PKID_OK;
out:
	json_decref(doc);
	return rc;
}

enum pkid_code
pkid_trust_status_write(const struct pkid_trust_status *s,
    struct pkid_buf *out, struct pkid_err *e)
{
	json_t *doc = json_pack("{s:s, s:i, s:s, s:o, s:s, s:s, s:s, s:i, "
	    "s:o, s:o, s:I, s:i, s:i, s:i, s:i, s:i}", "format",
	    STATUS_FORMAT, "version", FORMAT_VERSION, "source", s->source,
	    "last_attempt", jtime(s->last_attempt), "result", s->result,
	    "code", s->code, "message", s->message, "failures", s->failures,
	    "next_attempt", jtime(s->next_attempt), "last_success",
	    jtime(s->last_success), "serial", (json_int_t)s->serial,
	    "attempted", s->attempted, "installed", s->installed,
	    "duplicates", s->duplicates, "expired", s->expired, "failed",
	    s->failed);

	return dump(doc, out, e);
}
