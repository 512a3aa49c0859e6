/*
 * http_precheck_test.c - the lexical pre-check of request heads alone:
 * what it accepts (fed at once and a byte at a time, same answer), each
 * refusal with its status and code, its limits, and where a head ends.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/precheck.h"

#define MAX_TARGET 64
#define MAX_FIELDS 256
#define MAX_BODY 1000

struct verdict {
	enum pkid_http_pc_rc rc;	/* last result */
	int status;			/* status of a refusal */
	struct pkid_err e;		/* its error */
	size_t used;			/* head bytes (DONE) */
	struct pkid_http_pc pc;		/* final state */
};

/* Feed raw (n bytes) in pieces of step bytes (0: all at once). */
static void
run(const char *raw, size_t n, size_t step, struct verdict *v)
{
	size_t off = 0, k, used;

	memset(v, 0, sizeof(*v));
	pkid_err_clear(&v->e);
	pkid_http_pc_init(&v->pc, MAX_TARGET, MAX_FIELDS, MAX_BODY);
	v->rc = PKID_HTTP_PC_MORE;
	while (off < n && v->rc == PKID_HTTP_PC_MORE) {
		k = step == 0 || n - off < step ? n - off : step;
		v->rc = pkid_http_pc_feed(&v->pc, (const uint8_t *)raw + off, k,
		    &used, &v->status, &v->e);
		if (v->rc == PKID_HTTP_PC_DONE)
			v->used = off + used;
		off += k;
	}
}

static void
expect_done(const char *raw, enum pkid_http_pc_body body, size_t head)
{
	struct verdict a, b;
	size_t n = strlen(raw);

	run(raw, n, 0, &a);
	run(raw, n, 1, &b);
	if (a.rc != PKID_HTTP_PC_DONE)
		fail_msg("refused (%d %s) '%s'", a.status, a.e.detail, raw);
	assert_int_equal(b.rc, PKID_HTTP_PC_DONE);
	assert_int_equal(a.pc.body, body);
	assert_int_equal(b.pc.body, body);
	assert_int_equal(a.used, head);
	assert_int_equal(b.used, head);
}

static void
expect_refused(const char *raw, size_t n, int status, enum pkid_code code,
    const char *needle)
{
	struct verdict a, b;

	run(raw, n, 0, &a);
	run(raw, n, 1, &b);
	if (a.rc != PKID_HTTP_PC_FAIL)
		fail_msg("not refused: '%.60s'", raw);
	assert_int_equal(b.rc, PKID_HTTP_PC_FAIL);
	assert_int_equal(a.status, status);
	assert_int_equal(b.status, status);
	assert_int_equal(a.e.code, code);
	assert_string_equal(a.e.detail, b.e.detail);
	if (strstr(a.e.detail, needle) == NULL)
		fail_msg("'%s' lacks '%s'", a.e.detail, needle);
}

/* raw is one whole head. */
#define DONE(raw, body) expect_done((raw), (body), sizeof(raw) - 1)

#define REFUSED(raw, status, code, needle) \
	expect_refused((raw), sizeof(raw) - 1, (status), (code), (needle))

static void
test_accepted(void **state)
{
	static const char get[] = "GET /scep?operation=GetCACaps HTTP/1.1\r\n"
	    "Host: x\r\nUser-Agent: t\r\n\r\n";
	static const char post[] = "POST /.well-known/est/simpleenroll "
	    "HTTP/1.1\r\nHost: x\r\nContent-Type: application/pkcs10\r\n"
	    "Content-Length:  12 \r\nExpect: 100-Continue\r\n\r\n";
	static const char chunked[] = "POST /scep HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: Chunked\r\n\r\n";
	char buf[512];

	(void)state;
	expect_done(get, PKID_HTTP_PC_NOBODY, sizeof(get) - 1);
	expect_done(post, PKID_HTTP_PC_LENGTH, sizeof(post) - 1);
	expect_done(chunked, PKID_HTTP_PC_CHUNKED, sizeof(chunked) - 1);
	/* Bare LF line ends (RFC 9112 2.2), HTTP/1.0, obs-text, tabs. */
	DONE("GET / HTTP/1.0\nX-A: caf\xc3\xa9\t x\n\n", PKID_HTTP_PC_NOBODY);
	DONE("OPTIONS * HTTP/1.1\r\n\r\n", PKID_HTTP_PC_NOBODY);
	DONE("GET http://localhost/healthz HTTP/1.1\r\n\r\n",
	    PKID_HTTP_PC_NOBODY);
	DONE("PUT /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
	    PKID_HTTP_PC_NOBODY);
	/* Repeated equal Content-Length values (RFC 9112 6.3). */
	DONE("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n"
	    "\r\n", PKID_HTTP_PC_LENGTH);
	/* What follows the head (body, next request) is not its business. */
	snprintf(buf, sizeof(buf), "%sGET \x01 garbage", get);
	expect_done(buf, PKID_HTTP_PC_NOBODY, sizeof(get) - 1);
	/* At the limits exactly. */
	memset(buf, 0, sizeof(buf));
	memcpy(buf, "GET /", 5);
	memset(buf + 5, 'a', MAX_TARGET - 1);
	strcat(buf, " HTTP/1.1\r\n\r\n");
	expect_done(buf, PKID_HTTP_PC_NOBODY, strlen(buf));
	DONE("POST / HTTP/1.1\r\nContent-Length: 1000\r\n\r\n",
	    PKID_HTTP_PC_LENGTH);
}

static void
test_request_line(void **state)
{
	(void)state;
	REFUSED("HELLO\r\n\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "is not METHOD TARGET HTTP/1.1");
	REFUSED("\r\nGET / HTTP/1.1\r\n\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "an empty line");
	REFUSED("\x16\x03\x01\x02\x00\x01", 400, PKID_E_HTTP_MALFORMED,
	    "TLS handshake on the plain HTTP port");
	REFUSED(" GET / HTTP/1.1\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "byte 0x20 where a method should be");
	REFUSED("GET  / HTTP/1.1\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "byte 0x20 in the request target");
	REFUSED("GET / HTTP/1.1 x\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "does not end in an HTTP version");
	REFUSED("GET / HTTP/1.1\r\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "a CR not followed by LF");
	REFUSED("GET /healthz\r\n", 505, PKID_E_HTTP_MALFORMED, "HTTP/0.9");
	REFUSED("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505,
	    PKID_E_HTTP_MALFORMED, "HTTP/2 connection preface");
	REFUSED("GET / HTTP/3.0\r\n", 505, PKID_E_HTTP_MALFORMED,
	    "HTTP/3.0 is not supported");
	REFUSED("GET / HTTP/1.10\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "'HTTP/1.10' is not an HTTP version");
	REFUSED("GET / FTP/1.1\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "is not an HTTP version");
	REFUSED("CONNECT example.com:443 HTTP/1.1\r\n", 501,
	    PKID_E_METHOD_NOT_ALLOWED, "CONNECT: pkid is not a proxy");
	REFUSED("get / HTTP/1.1\r\n", 501, PKID_E_METHOD_NOT_ALLOWED,
	    "method 'get' is not implemented");
	REFUSED("ABCDEFGHIJKLMNOPQ / HTTP/1.1\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "at most 16 characters");
	REFUSED("GET * HTTP/1.1\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "must start with '/'");
	REFUSED("GET ftp://x/ HTTP/1.1\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "must start with '/'");
}

static void
test_target(void **state)
{
	char big[MAX_TARGET + 64];

	(void)state;
	REFUSED("GET /scep?operation=GetCACaps%00x HTTP/1.1\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "encoded NUL (%00)");
	REFUSED("GET /a%%00 HTTP/1.1\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "encoded NUL");
	REFUSED("GET /a\0b HTTP/1.1\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "a NUL byte in the request target");
	REFUSED("GET /caf\xc3\xa9 HTTP/1.1\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "byte 0xc3 in the request target");
	REFUSED("GET /a\tb HTTP/1.1\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "byte 0x09");
	/* "%2500" is "%25" "00": a percent sign, then zeros. */
	DONE("GET /a%2500 HTTP/1.1\r\n\r\n", PKID_HTTP_PC_NOBODY);
	memset(big, 0, sizeof(big));
	memcpy(big, "GET /", 5);
	memset(big + 5, 'a', MAX_TARGET);
	expect_refused(big, strlen(big), 414, PKID_E_TOO_LARGE,
	    "request URI of more than 64 bytes");
}

static void
test_fields(void **state)
{
	(void)state;
	REFUSED("GET / HTTP/1.1\r\nContent-Type: application/pkcs10\0x\r\n"
	    "\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "a NUL byte in the value of header 'content-type'");
	REFUSED("GET / HTTP/1.1\r\nX-A\0B: c\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "a NUL byte in a header name");
	REFUSED("GET / HTTP/1.1\r\nX-A: \x01\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "control byte 0x01");
	REFUSED("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "a CR not followed by LF");
	REFUSED("GET / HTTP/1.1\r\nX-A : a\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "white space between the header name "
	    "'x-a' and its colon");
	REFUSED("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "obsolete line folding");
	REFUSED("GET / HTTP/1.1\r\nX-A\r\n\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "header line 'x-a' has no colon");
	REFUSED("GET / HTTP/1.1\r\n: a\r\n\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "byte 0x3a in a header name");
	REFUSED("GET / HTTP/1.1\r\nX(A): a\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "byte 0x28 in a header name");
	REFUSED("POST / HTTP/1.1\r\nExpect: 200-ok\r\n\r\n", 417,
	    PKID_E_HTTP_MALFORMED, "Expect '200-ok' is not supported");
}

static void
test_body_framing(void **state)
{
	(void)state;
	REFUSED("POST / HTTP/1.1\r\nContent-Length: abc\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "Content-Length 'abc' is not a number");
	REFUSED("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "Content-Length '-1'");
	REFUSED("POST / HTTP/1.1\r\nContent-Length: 1 2\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "Content-Length '1 2'");
	REFUSED("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "Content-Length '5, 5'");
	REFUSED("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "Content-Length ''");
	REFUSED("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6"
	    "\r\n\r\n", 400, PKID_E_HTTP_MALFORMED, "two Content-Length");
	REFUSED("POST / HTTP/1.1\r\nContent-Length: 1001\r\n\r\n", 413,
	    PKID_E_TOO_LARGE, "request body of 1001 bytes");
	REFUSED("POST / HTTP/1.1\r\nContent-Length: "
	    "99999999999999999999999999999\r\n\r\n", 413, PKID_E_TOO_LARGE,
	    "more than 1000");
	REFUSED("POST / HTTP/1.1\r\nContent-Length: 5\r\nTransfer-Encoding: "
	    "chunked\r\n\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "both Content-Length and Transfer-Encoding");
	REFUSED("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
	    501, PKID_E_HTTP_MALFORMED, "Transfer-Encoding 'gzip, chunked'");
	REFUSED("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400, PKID_E_HTTP_MALFORMED,
	    "more than one Transfer-Encoding");
	REFUSED("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "in an HTTP/1.0 request");
	REFUSED("HEAD / HTTP/1.1\r\nContent-Length: 3\r\n\r\n", 400,
	    PKID_E_HTTP_MALFORMED, "a HEAD request with a body");
}

static void
test_limits(void **state)
{
	char buf[2048];
	size_t n;
	int i;

	(void)state;
	/* A header block past MAX_FIELDS bytes. */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\nX-A: ");
	memset(buf + n, 'a', MAX_FIELDS);
	buf[n + MAX_FIELDS] = '\0';
	expect_refused(buf, strlen(buf), 431, PKID_E_TOO_LARGE,
	    "request header fields of more than 256 bytes");
	/* More than PKID_HTTP_MAX_HEADER_COUNT fields (short ones, under
	 * the byte limit of a roomier check). */
	n = (size_t)snprintf(buf, sizeof(buf), "GET / HTTP/1.1\r\n");
	for (i = 0; i <= PKID_HTTP_MAX_HEADER_COUNT; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "A:\n");
	{
		struct pkid_http_pc pc;
		struct pkid_err e;
		size_t used;
		int status = 0;

		pkid_err_clear(&e);
		pkid_http_pc_init(&pc, MAX_TARGET, sizeof(buf), MAX_BODY);
		assert_int_equal(pkid_http_pc_feed(&pc, (uint8_t *)buf, n, &used,
		    &status, &e), PKID_HTTP_PC_FAIL);
		assert_int_equal(status, 431);
		assert_non_null(strstr(e.detail, "more than 100 request "
		    "header fields"));
		/* Refused stays refused. */
		pkid_err_clear(&e);
		assert_int_equal(pkid_http_pc_feed(&pc, (uint8_t *)"x", 1,
		    &used, &status, &e), PKID_HTTP_PC_FAIL);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_target),
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_body_framing),
		cmocka_unit_test(test_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
