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
#include "core/limits.h"

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

/*
 * The same for an http:// URL only, sending host as its Host header
 * (ACME http-01, RFC 8555 8.3: the URL names the address validated).
 */
enum pkid_code pkid_http_get_host(const char *url, const char *host,
    int timeout_s, size_t max, struct pkid_buf *out, struct pkid_err *e);

/*
 * The same, following up to max_redirects redirects (301, 302, 303, 307,
 * 308 with a Location that is absolute, or a path on the same server;
 * http and https either way: for signed objects, whose signature is what
 * counts), each hop within timeout_s. info (NULL: not wanted) receives
 * the last status and the URL that answered it. Errors:
 * redirect-loop (more hops than max_redirects, or a URL met twice),
 * http-status (any other status, or a redirect without a usable
 * Location), dns-failure (also for http:// hosts), and pkid_http_get's
 * others.
 */
struct pkid_http_follow {
	int status;			/* last HTTP status, 0: none */
	int redirects;			/* redirects followed */
	char url[PKID_DIAG_MAX_URL + 1]; /* the URL that answered last */
};
enum pkid_code pkid_http_get_follow(const char *url, STACK_OF(X509) *trust,
    int timeout_s, size_t max, int max_redirects, struct pkid_buf *out,
    struct pkid_http_follow *info, struct pkid_err *e);

#endif
