/*
 * trace.c - the current request's annotations (trace.h).
 */
#include "core/trace.h"

#include <stdio.h>
#include <string.h>

#include <openssl/rand.h>

#include "core/buf.h"

/* The one thread-local: the request this thread is serving (trace.h). */
static _Thread_local struct pkid_trace *cur;

static void
copy(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

void
pkid_trace_init(struct pkid_trace *t)
{
	uint8_t r[8];

	memset(t, 0, sizeof(*t));
	if (RAND_bytes(r, sizeof(r)) != 1)
		memset(r, 0, sizeof(r));
	pkid_hex(r, sizeof(r), t->id);
}

struct pkid_trace *
pkid_trace_set(struct pkid_trace *t)
{
	struct pkid_trace *old = cur;

	cur = t;
	return old;
}

struct pkid_trace *
pkid_trace_get(void)
{
	return cur;
}

const char *
pkid_trace_id(void)
{
	return cur != NULL ? cur->id : "";
}

int
pkid_trace_id_ok(const char *id)
{
	size_t n;

	if (id == NULL)
		return 0;
	n = strlen(id);
	return n > 0 && n <= PKID_TRACE_ID_MAX && strspn(id,
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789-_.:") == n;
}

int
pkid_trace_adopt_id(const char *id)
{
	if (cur == NULL || !pkid_trace_id_ok(id))
		return 0;
	copy(cur->id, sizeof(cur->id), id);
	return 1;
}

void
pkid_trace_op(const char *proto, const char *op)
{
	if (cur == NULL)
		return;
	copy(cur->proto, sizeof(cur->proto), proto);
	copy(cur->op, sizeof(cur->op), op);
}

void
pkid_trace_subject(const char *subject)
{
	if (cur != NULL)
		copy(cur->subject, sizeof(cur->subject), subject);
}

void
pkid_trace_profile(const char *profile)
{
	if (cur != NULL)
		copy(cur->profile, sizeof(cur->profile), profile);
}

void
pkid_trace_user(const char *user)
{
	if (cur != NULL)
		copy(cur->user, sizeof(cur->user), user);
}

void
pkid_trace_result(enum pkid_trace_result r, enum pkid_code code)
{
	if (cur == NULL)
		return;
	cur->result = r;
	cur->code = code;
}

void
pkid_trace_fail(enum pkid_trace_result r, const struct pkid_err *e)
{
	if (cur == NULL)
		return;
	cur->result = r;
	cur->code = e->code;
	pkid_err_message(e, cur->detail, sizeof(cur->detail));
}

void
pkid_trace_upstream(const char *url, enum pkid_code code)
{
	if (cur == NULL)
		return;
	copy(cur->upstream, sizeof(cur->upstream), url);
	cur->up_code = code;
}

const char *
pkid_trace_result_name(enum pkid_trace_result r)
{
	switch (r) {
	case PKID_TRACE_ISSUED:
		return "issued";
	case PKID_TRACE_PENDING:
		return "pending";
	case PKID_TRACE_REFUSED:
		return "refused";
	case PKID_TRACE_FAILED:
		return "failed";
	case PKID_TRACE_NONE:
	default:
		return "";
	}
}
