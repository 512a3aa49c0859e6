/*
 * precheck.c - a bounded lexical pre-check of each request head.
 *
 * HTTP parsing is evhttp's (STYLE.md 5). But libevent 2.1 answers what
 * it refuses with its own HTML page and has no hook to change that, and
 * it accepts some heads it should not: NUL bytes (its C strings cut a
 * value short: "application/pkcs10\0x" passes as application/pkcs10),
 * Content-Length together with Transfer-Encoding (a request smuggling
 * vector, RFC 9112 6.1), obsolete line folding, HTTP/0.9. So the bytes of
 * every head pass through this check first (conn.c feeds it from the
 * connection's input buffer before evhttp reads them); on a fault the
 * server answers in pkid's own format and closes (refuse.c).
 *
 * This is not a second parser: nothing here is handed to a handler. It
 * walks the head once, byte by byte through the bounds-checked cursor,
 * keeps a few counters and at most 24 bytes of three fields
 * (Content-Length, Transfer-Encoding, Expect), and decides "acceptable
 * so far", "complete" or "refused, with this status". The grammar is the
 * strict subset of RFC 9112 that every EST and SCEP client sends:
 *
 *   request-line = method SP request-target SP HTTP-version CRLF
 *   field-line   = field-name ":" OWS field-value OWS CRLF
 *
 * with LF alone accepted as a line end (RFC 9112 2.2) and everything
 * else refused: a bare CR, white space before a colon (5.1), folding
 * (5.2), control bytes and NUL anywhere, an encoded NUL (%00) in the
 * target, HTTP versions other than 1.x.
 */
#include "http/precheck.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/buf.h"

/* Lexer states (pc->st). */
enum {
	ST_METHOD = 0,		/* in the method token */
	ST_TARGET,		/* in the request target */
	ST_VERSION,		/* in the HTTP version */
	ST_FIELD_START,		/* at the start of a header line */
	ST_NAME,		/* in a field name */
	ST_VALUE,		/* in a field value */
	ST_DONE,		/* the head was complete and acceptable */
	ST_FAIL,		/* the head was refused */
};

/* Fields whose value the check looks at (pc->field). */
enum {
	F_OTHER = 0,
	F_CL,			/* Content-Length */
	F_TE,			/* Transfer-Encoding */
	F_EXPECT,		/* Expect */
};

/* Methods evhttp knows; the router answers 405 for those a route does
 * not list. Others get 501 (RFC 9110 9.1). */
static const char *const known_methods[] = {
	"GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "PATCH", "TRACE",
};

/* Refuse: remember the state, set the status and the error. */
#define PC_REFUSE(pc, status, s, e, code, ...)				\
	((pc)->st = ST_FAIL, *(status) = (s),				\
	    (void)PKID_ERR((e), (code), __VA_ARGS__), PKID_HTTP_PC_FAIL)

void
pkid_http_pc_init(struct pkid_http_pc *pc, size_t max_target,
    size_t max_fields, uint64_t max_body)
{
	memset(pc, 0, sizeof(*pc));
	pc->st = ST_METHOD;
	pc->max_target = max_target;
	pc->max_fields = max_fields;
	pc->max_body = max_body;
}

/* RFC 9110 5.6.2 tchar. */
static int
is_tchar(uint8_t c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || (c != '\0' &&
	    strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int
is_digit(uint8_t c)
{
	return c >= '0' && c <= '9';
}

static enum pkid_http_pc_rc
method_byte(struct pkid_http_pc *pc, uint8_t b, int *status,
    struct pkid_err *e)
{
	if (b == ' ' && pc->mlen > 0) {
		pc->st = ST_TARGET;
		return PKID_HTTP_PC_MORE;
	}
	if (pc->mlen == 0 && b == 0x16)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "this looks like a TLS handshake on the plain HTTP port, "
		    "not a request line; use https:// and the TLS port");
	if (!is_tchar(b))
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "the request line holds byte 0x%02x where a method "
		    "should be (RFC 9112 3: METHOD TARGET HTTP/1.1)", b);
	if (pc->mlen >= PKID_HTTP_MAX_METHOD)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "the request line does not start with a method of at most "
		    "%d characters", PKID_HTTP_MAX_METHOD);
	pc->method[pc->mlen++] = (char)b;
	return PKID_HTTP_PC_MORE;
}

static enum pkid_http_pc_rc
target_byte(struct pkid_http_pc *pc, uint8_t b, int *status,
    struct pkid_err *e)
{
	if (b == ' ' && pc->tlen > 0) {
		pc->st = ST_VERSION;
		return PKID_HTTP_PC_MORE;
	}
	if (b == '\0')
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "a NUL byte in the request target");
	if (b <= 0x20 || b >= 0x7f)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "byte 0x%02x in the request target (RFC 3986 2: only "
		    "visible ASCII, the rest percent-encoded)", b);
	if (++pc->tlen > pc->max_target)
		return PC_REFUSE(pc, status, 414, e, PKID_E_TOO_LARGE,
		    "request URI of more than %zu bytes", pc->max_target);
	if (pc->tlen < sizeof(pc->tstart))
		pc->tstart[pc->tlen - 1] = (char)b;
	/* "%00" decodes to NUL (RFC 3986 2.1): never let it reach the
	 * path or a handler's query. */
	if (b == '%')
		pc->pct = 1;
	else if (b == '0' && pc->pct == 1)
		pc->pct = 2;
	else if (b == '0' && pc->pct == 2)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "an encoded NUL (%%00) in the request target");
	else
		pc->pct = 0;
	return PKID_HTTP_PC_MORE;
}

static enum pkid_http_pc_rc
version_byte(struct pkid_http_pc *pc, uint8_t b, int *status,
    struct pkid_err *e)
{
	if (b <= 0x20 || b >= 0x7f || pc->vlen + 1 >= sizeof(pc->version))
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "the request line does not end in an HTTP version such as "
		    "HTTP/1.1 (RFC 9112 2.3)");
	pc->version[pc->vlen++] = (char)b;
	return PKID_HTTP_PC_MORE;
}

/* HTTP/1.x; other versions 505 (RFC 9110 15.6.6), non-versions 400. */
static enum pkid_http_pc_rc
check_version(struct pkid_http_pc *pc, int *status, struct pkid_err *e)
{
	const char *v = pc->version;

	if (pc->vlen != 8 || strncmp(v, "HTTP/", 5) != 0 ||
	    !is_digit((uint8_t)v[5]) || v[6] != '.' || !is_digit((uint8_t)v[7]))
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "'%.15s' is not an HTTP version; send HTTP/1.1 "
		    "(RFC 9112 2.3)", v);
	if (v[5] == '2' && strcmp(pc->method, "PRI") == 0)
		return PC_REFUSE(pc, status, 505, e, PKID_E_HTTP_MALFORMED,
		    "the HTTP/2 connection preface (PRI * HTTP/2.0): pkid "
		    "speaks HTTP/1.1 only (RFC 9113 3.4); send HTTP/1.1, or "
		    "let TLS ALPN pick it");
	if (v[5] != '1')
		return PC_REFUSE(pc, status, 505, e, PKID_E_HTTP_MALFORMED,
		    "%s is not supported; pkid speaks HTTP/1.1", v);
	pc->http10 = v[7] == '0';
	return PKID_HTTP_PC_MORE;
}

static enum pkid_http_pc_rc
check_method(struct pkid_http_pc *pc, int *status, struct pkid_err *e)
{
	size_t i;

	for (i = 0; i < sizeof(known_methods) / sizeof(known_methods[0]);
	    i++)
		if (strcmp(pc->method, known_methods[i]) == 0)
			return PKID_HTTP_PC_MORE;
	if (strcmp(pc->method, "CONNECT") == 0)
		return PC_REFUSE(pc, status, 501, e,
		    PKID_E_METHOD_NOT_ALLOWED, "CONNECT: pkid is not a "
		    "proxy; it serves GET, HEAD and POST");
	return PC_REFUSE(pc, status, 501, e, PKID_E_METHOD_NOT_ALLOWED,
	    "method '%s' is not implemented; pkid serves GET, HEAD and POST "
	    "(RFC 9110 9.1)", pc->method);
}

/* The request line ended (CRLF or LF). */
static enum pkid_http_pc_rc
line_end(struct pkid_http_pc *pc, int *status, struct pkid_err *e)
{
	enum pkid_http_pc_rc rc;

	if (pc->st == ST_METHOD && pc->mlen == 0)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "an empty line where the request line should be");
	if (pc->st == ST_METHOD)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "the request line '%s' is not METHOD TARGET HTTP/1.1 "
		    "(RFC 9112 3)", pc->method);
	if (pc->st == ST_TARGET)
		return PC_REFUSE(pc, status, 505, e, PKID_E_HTTP_MALFORMED,
		    "a request line without an HTTP version (HTTP/0.9) is not "
		    "supported; send HTTP/1.1");
	if ((rc = check_version(pc, status, e)) != PKID_HTTP_PC_MORE ||
	    (rc = check_method(pc, status, e)) != PKID_HTTP_PC_MORE)
		return rc;
	/* Origin-form, absolute-form, or "*" for OPTIONS (RFC 9112 3.2). */
	if (pc->tstart[0] != '/' && strncasecmp(pc->tstart, "http://", 7) !=
	    0 && strncasecmp(pc->tstart, "https://", 8) != 0 &&
	    !(strcmp(pc->tstart, "*") == 0 &&
	    strcmp(pc->method, "OPTIONS") == 0))
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "the request target must start with '/' (RFC 9112 3.2)");
	pc->st = ST_FIELD_START;
	return PKID_HTTP_PC_MORE;
}

static enum pkid_http_pc_rc
name_byte(struct pkid_http_pc *pc, uint8_t b, int *status,
    struct pkid_err *e)
{
	if (is_tchar(b)) {
		if (pc->nlen + 1 < sizeof(pc->name))
			pc->name[pc->nlen++] = (char)(b >= 'A' && b <= 'Z' ?
			    b + 32 : b);
		return PKID_HTTP_PC_MORE;
	}
	if (b == ':' && pc->nlen > 0) {
		pc->name[pc->nlen] = '\0';
		pc->field = strcmp(pc->name, "content-length") == 0 ? F_CL :
		    strcmp(pc->name, "transfer-encoding") == 0 ? F_TE :
		    strcmp(pc->name, "expect") == 0 ? F_EXPECT : F_OTHER;
		pc->vallen = 0;
		pc->val_long = 0;
		pc->val_digits = 1;
		pc->st = ST_VALUE;
		return PKID_HTTP_PC_MORE;
	}
	pc->name[pc->nlen] = '\0';
	if (b == ' ' || b == '\t')
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "white space between the header name '%s' and its colon "
		    "(RFC 9112 5.1)", pc->name);
	if (b == '\0')
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "a NUL byte in a header name");
	return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
	    "byte 0x%02x in a header name (RFC 9110 5.1)", b);
}

static enum pkid_http_pc_rc
value_byte(struct pkid_http_pc *pc, uint8_t b, int *status,
    struct pkid_err *e)
{
	if (b == '\0')
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "a NUL byte in the value of header '%s'", pc->name);
	if ((b < 0x20 && b != '\t') || b == 0x7f)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "control byte 0x%02x in the value of header '%s' "
		    "(RFC 9110 5.5)", b, pc->name);
	if (pc->field == F_OTHER || (pc->vallen == 0 && (b == ' ' ||
	    b == '\t')))
		return PKID_HTTP_PC_MORE;
	if (!is_digit(b) && b != ' ' && b != '\t')
		pc->val_digits = 0;
	if (pc->vallen + 1 < sizeof(pc->val))
		pc->val[pc->vallen++] = (char)b;
	else
		pc->val_long = 1;
	return PKID_HTTP_PC_MORE;
}

static enum pkid_http_pc_rc
content_length(struct pkid_http_pc *pc, int *status, struct pkid_err *e)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < pc->vallen; i++)
		if (!is_digit((uint8_t)pc->val[i]))
			break;
	if (pc->vallen == 0 || i < pc->vallen)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "Content-Length '%s%s' is not a number of bytes "
		    "(RFC 9110 8.6)", pc->val, pc->val_long ? "..." : "");
	if (pc->val_long || pc->vallen > 18)
		return PC_REFUSE(pc, status, 413, e, PKID_E_TOO_LARGE,
		    "request body of %s%s bytes (Content-Length), more than "
		    "%llu", pc->val, pc->val_long ? "..." : "",
		    (unsigned long long)pc->max_body);
	for (i = 0; i < pc->vallen; i++)
		v = v * 10 + (uint64_t)(pc->val[i] - '0');
	if (pc->has_cl && v != pc->cl)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "two Content-Length fields that differ (%llu, %llu; "
		    "RFC 9112 6.3)", (unsigned long long)pc->cl,
		    (unsigned long long)v);
	pc->has_cl = 1;
	pc->cl = v;
	return PKID_HTTP_PC_MORE;
}

/* One header line ended: check the fields of interest. */
static enum pkid_http_pc_rc
field_end(struct pkid_http_pc *pc, int *status, struct pkid_err *e)
{
	while (!pc->val_long && pc->vallen > 0 &&
	    (pc->val[pc->vallen - 1] == ' ' || pc->val[pc->vallen - 1] == '\t'))
		pc->vallen--;
	pc->val[pc->vallen] = '\0';
	pc->st = ST_FIELD_START;
	switch (pc->field) {
	case F_CL:
		return content_length(pc, status, e);
	case F_TE:
		if (pc->has_te)
			return PC_REFUSE(pc, status, 400, e,
			    PKID_E_HTTP_MALFORMED, "more than one "
			    "Transfer-Encoding field");
		pc->has_te = 1;
		if (pc->val_long || strcasecmp(pc->val, "chunked") != 0)
			return PC_REFUSE(pc, status, 501, e,
			    PKID_E_HTTP_MALFORMED, "Transfer-Encoding '%s%s' "
			    "is not supported; send Content-Length or "
			    "Transfer-Encoding: chunked (RFC 9112 6.1)",
			    pc->val, pc->val_long ? "..." : "");
		return PKID_HTTP_PC_MORE;
	case F_EXPECT:
		if (pc->val_long || strcasecmp(pc->val, "100-continue") != 0)
			return PC_REFUSE(pc, status, 417, e,
			    PKID_E_HTTP_MALFORMED, "Expect '%s%s' is not "
			    "supported, only 100-continue (RFC 9110 10.1.1)",
			    pc->val, pc->val_long ? "..." : "");
		return PKID_HTTP_PC_MORE;
	default:
		return PKID_HTTP_PC_MORE;
	}
}

/* The empty line after the header fields: is the body framed well? */
static enum pkid_http_pc_rc
head_end(struct pkid_http_pc *pc, int *status, struct pkid_err *e)
{
	if (pc->has_cl && pc->has_te)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "both Content-Length and Transfer-Encoding: the body's "
		    "length is ambiguous (RFC 9112 6.1); send one of them");
	if (pc->has_te && pc->http10)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "Transfer-Encoding in an HTTP/1.0 request (RFC 9112 6.1)");
	/* evhttp reads no body for these: its bytes would pass for the
	 * next request. */
	if ((pc->has_te || pc->cl > 0) && (strcmp(pc->method, "HEAD") == 0 ||
	    strcmp(pc->method, "TRACE") == 0))
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "a %s request with a body", pc->method);
	if (pc->has_cl && pc->cl > pc->max_body)
		return PC_REFUSE(pc, status, 413, e, PKID_E_TOO_LARGE,
		    "request body of %llu bytes (Content-Length), more than "
		    "%llu", (unsigned long long)pc->cl,
		    (unsigned long long)pc->max_body);
	pc->body = pc->has_te ? PKID_HTTP_PC_CHUNKED : pc->cl > 0 ?
	    PKID_HTTP_PC_LENGTH : PKID_HTTP_PC_NOBODY;
	pc->st = ST_DONE;
	return PKID_HTTP_PC_DONE;
}

/* A line ended (CRLF or a lone LF, RFC 9112 2.2). */
static enum pkid_http_pc_rc
line_feed(struct pkid_http_pc *pc, int *status, struct pkid_err *e)
{
	switch (pc->st) {
	case ST_METHOD:
	case ST_TARGET:
	case ST_VERSION:
		return line_end(pc, status, e);
	case ST_FIELD_START:
		return head_end(pc, status, e);
	case ST_VALUE:
		return field_end(pc, status, e);
	default:
		pc->name[pc->nlen] = '\0';
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "header line '%s' has no colon (RFC 9112 5)", pc->name);
	}
}

static enum pkid_http_pc_rc
other_byte(struct pkid_http_pc *pc, uint8_t b, int *status,
    struct pkid_err *e)
{
	switch (pc->st) {
	case ST_METHOD:
		return method_byte(pc, b, status, e);
	case ST_TARGET:
		return target_byte(pc, b, status, e);
	case ST_VERSION:
		return version_byte(pc, b, status, e);
	case ST_FIELD_START:
		if (b == ' ' || b == '\t')
			return PC_REFUSE(pc, status, 400, e,
			    PKID_E_HTTP_MALFORMED, "a header line starts with "
			    "white space: obsolete line folding "
			    "(RFC 9112 5.2)");
		if (++pc->nfields > PKID_HTTP_MAX_HEADER_COUNT)
			return PC_REFUSE(pc, status, 431, e, PKID_E_TOO_LARGE,
			    "more than %d request header fields",
			    PKID_HTTP_MAX_HEADER_COUNT);
		pc->nlen = 0;
		pc->field = F_OTHER;
		pc->st = ST_NAME;
		return name_byte(pc, b, status, e);
	case ST_NAME:
		return name_byte(pc, b, status, e);
	default:
		return value_byte(pc, b, status, e);
	}
}

enum pkid_http_pc_rc
pkid_http_pc_feed(struct pkid_http_pc *pc, const uint8_t *p, size_t n,
    size_t *used, int *status, struct pkid_err *e)
{
	enum pkid_http_pc_rc rc = PKID_HTTP_PC_MORE;
	struct pkid_cbs c;
	uint8_t b;

	*used = 0;
	if (pc->st == ST_DONE)
		return PKID_HTTP_PC_DONE;
	if (pc->st == ST_FAIL)
		return PC_REFUSE(pc, status, 400, e, PKID_E_HTTP_MALFORMED,
		    "the request was refused already");
	pkid_cbs_init(&c, p, n);
	while (rc == PKID_HTTP_PC_MORE && pkid_cbs_get_u8(&c, &b)) {
		if (pc->st >= ST_FIELD_START && ++pc->block > pc->max_fields)
			return PC_REFUSE(pc, status, 431, e, PKID_E_TOO_LARGE,
			    "request header fields of more than %zu bytes",
			    pc->max_fields);
		if (pc->cr && b != '\n')
			return PC_REFUSE(pc, status, 400, e,
			    PKID_E_HTTP_MALFORMED, "a CR not followed by LF "
			    "(RFC 9112 2.2)");
		if (b == '\r') {
			pc->cr = 1;
			continue;
		}
		pc->cr = 0;
		rc = b == '\n' ? line_feed(pc, status, e) :
		    other_byte(pc, b, status, e);
	}
	*used = n - c.len;
	return rc;
}
