/*
 * get.h - one bounded GET of an http:// or https:// URL, for the signed
 * objects relying parties fetch (CRLs, AIA caIssuers; RFC 5280 4.2.1.13,
 * 4.2.2.1): libevent's evhttp for http, pkid's HTTPS client (client.h)
 * for https, each within a time budget (connect to last byte) and a size
 * bound. Blocks the calling thread; holds no lock of the caller's.
 */
#ifndef PKID_HTTP_GET_H
#define PKID_HTTP_GET_H

#include <stddef.h>

#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"

/*
 * GET url and put the 200 answer's body in out (initialised here with
 * max as its bound; the caller frees it, also on failure). trust: the
 * anchors of an https server's certificate (borrowed; NULL refuses
 * https URLs). Errors: usage (not an http or https URL, https without
 * trust), dns-failure, connect-refused, connect-timeout (no answer
 * within timeout_s), too-large (more than max bytes), not-found (any
 * status but 200, quoted), the HTTPS client's TLS and verifier codes,
 * out-of-memory.
 */
enum pkid_code pkid_http_get(const char *url, STACK_OF(X509) *trust,
    int timeout_s, size_t max, struct pkid_buf *out, struct pkid_err *e);

#endif
