/*
 * precheck.h - a bounded lexical check of an HTTP/1.1 request head
 * (RFC 9112 2-6), run on the bytes before evhttp parses them, so that
 * what evhttp would refuse with its own HTML page, and what it would
 * wrongly accept (NUL bytes, Content-Length with Transfer-Encoding), is
 * answered in pkid's error format instead. See precheck.c.
 */
#ifndef PKID_HTTP_PRECHECK_H
#define PKID_HTTP_PRECHECK_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/limits.h"

/* What a request head says about the body that follows it. */
enum pkid_http_pc_body {
	PKID_HTTP_PC_NOBODY = 0,	/* none */
	PKID_HTTP_PC_LENGTH = 1,	/* Content-Length bytes (pc.cl) */
	PKID_HTTP_PC_CHUNKED = 2,	/* Transfer-Encoding: chunked */
};

/* Result of pkid_http_pc_feed. */
enum pkid_http_pc_rc {
	PKID_HTTP_PC_MORE = 0,		/* head not complete, no fault yet */
	PKID_HTTP_PC_DONE = 1,		/* head complete and acceptable */
	PKID_HTTP_PC_FAIL = 2,		/* refused: status and error set */
};

/* Lexer state of one request head; pkid_http_pc_init before each. */
struct pkid_http_pc {
	int st;			/* lexer state (precheck.c) */
	int cr;			/* the last byte was a CR, LF must follow */
	size_t max_target;	/* longest request target, bytes */
	size_t max_fields;	/* largest header block, bytes */
	uint64_t max_body;	/* largest Content-Length */
	size_t tlen;		/* request-target bytes so far */
	size_t block;		/* header-block bytes so far */
	unsigned nfields;	/* header fields so far */
	char method[PKID_HTTP_MAX_METHOD + 1]; /* method as sent */
	size_t mlen;		/* its length */
	char tstart[9];		/* first bytes of the request target */
	int pct;		/* bytes of "%00" matched in the target */
	char version[16];	/* HTTP-version as sent */
	size_t vlen;		/* its length */
	int http10;		/* the version is HTTP/1.0 */
	char name[24];		/* field name, lower case, cut when long */
	size_t nlen;		/* its length */
	int field;		/* which field of interest (precheck.c) */
	char val[24];		/* value of a field of interest, cut */
	size_t vallen;		/* its length */
	int val_long;		/* the value did not fit in val */
	int val_digits;		/* the value is all digits so far */
	int has_cl;		/* a Content-Length field was seen */
	uint64_t cl;		/* its value */
	int has_te;		/* a Transfer-Encoding field was seen */
	enum pkid_http_pc_body body; /* set when the head is DONE */
};

/* Start a head with these limits (bytes). */
void pkid_http_pc_init(struct pkid_http_pc *pc, size_t max_target,
    size_t max_fields, uint64_t max_body);

/*
 * Feed the next n bytes of the stream. On PKID_HTTP_PC_DONE *used is how
 * many of them belong to the head (the rest is body or the next request);
 * on PKID_HTTP_PC_FAIL *status is the HTTP status to answer (400, 413,
 * 414, 417, 431, 501, 505) and e the error (http-malformed, too-large,
 * method-not-allowed). Once DONE or FAIL, further calls return the same.
 */
enum pkid_http_pc_rc pkid_http_pc_feed(struct pkid_http_pc *pc,
    const uint8_t *p, size_t n, size_t *used, int *status,
    struct pkid_err *e);

#endif
