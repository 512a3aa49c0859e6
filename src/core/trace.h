/*
 * trace.h - what one request is, as the log line, the status page and
 * /metrics see it: its request id, protocol and operation, subject,
 * profile, outcome, and the upstream it went to in RA mode.
 *
 * The server makes a trace for every request and makes it current on the
 * thread that runs the handler (the event loop, or a handler-pool thread)
 * for the handler's duration. Code under the handler annotates it with
 * the functions below, and pkid_log() stamps every line written meanwhile
 * with the request id, so the lines of one request correlate, and the
 * HTTPS client sends the id upstream (X-Request-ID). A thread-local
 * "current request" (the logging world's mapped diagnostic context) and
 * not a parameter: the id must reach every log line and the upstream call
 * of the RA below four layers of protocol code that know nothing of it.
 * Outside a request every function here is a no-op and the id is "".
 */
#ifndef PKID_CORE_TRACE_H
#define PKID_CORE_TRACE_H

#include <stddef.h>

#include "core/err.h"

/* Longest request id, accepted or made (characters). */
#define PKID_TRACE_ID_MAX 64

/* How an operation ended, for enrollments per result. */
enum pkid_trace_result {
	PKID_TRACE_NONE = 0,	/* not an enrollment (cacerts, CRL...) */
	PKID_TRACE_ISSUED,	/* a certificate was returned */
	PKID_TRACE_PENDING,	/* waits for approval (202, PENDING) */
	PKID_TRACE_REFUSED,	/* refused (policy, auth, client error) */
	PKID_TRACE_FAILED,	/* failed on pkid's or the upstream's side */
};

/* One request's annotations. Strings are copied in, bounded. */
struct pkid_trace {
	char id[PKID_TRACE_ID_MAX + 1];	/* request id */
	char proto[8];			/* "est", "scep", "" */
	char op[24];			/* "simpleenroll", "PKCSReq", ... */
	char subject[256];		/* requested subject DN, "" none */
	char profile[64];		/* profile it was issued under */
	char user[72];			/* authenticated requester, "" */
	enum pkid_trace_result result;	/* enrollment outcome */
	enum pkid_code code;		/* catalogue code of the outcome */
	char detail[256];		/* its message, "" when none */
	char upstream[256];		/* RA: the upstream URL used, "" */
	enum pkid_code up_code;		/* its outcome (PKID_OK: answered) */
};

/* Clear t and give it a fresh random id (16 hex digits). */
void pkid_trace_init(struct pkid_trace *t);
/* Make t current on this thread (NULL: none); returns the previous. */
struct pkid_trace *pkid_trace_set(struct pkid_trace *t);
/* The current trace, NULL outside a request. */
struct pkid_trace *pkid_trace_get(void);
/* The current request id, "" outside a request. */
const char *pkid_trace_id(void);

/*
 * 1 when id is a request id pkid takes from a trusted peer: 1 to
 * PKID_TRACE_ID_MAX characters of letters, digits, '-', '_', '.', ':'
 * (a UUID, a hex string, "ra1-000123"); nothing that could end a log
 * line or a header, or quote its way out of one.
 */
int pkid_trace_id_ok(const char *id);
/* Use id (pkid_trace_id_ok) as the current request's id; 0 if refused. */
int pkid_trace_adopt_id(const char *id);

void pkid_trace_op(const char *proto, const char *op);
void pkid_trace_subject(const char *subject);
void pkid_trace_profile(const char *profile);
void pkid_trace_user(const char *user);
/* The outcome; code is the refusal's or failure's (PKID_OK otherwise). */
void pkid_trace_result(enum pkid_trace_result r, enum pkid_code code);
/* The outcome r of a refusal or failure e (code and message). */
void pkid_trace_fail(enum pkid_trace_result r, const struct pkid_err *e);
/* RA mode: the upstream url answered (PKID_OK) or failed with code. */
void pkid_trace_upstream(const char *url, enum pkid_code code);

/* "issued", "pending", "refused", "failed", "" for NONE. Static. */
const char *pkid_trace_result_name(enum pkid_trace_result r);

#endif
