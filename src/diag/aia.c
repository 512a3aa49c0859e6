/*
 * aia.c - fetch an AIA caIssuers URL (RFC 5280 4.2.2.1): http only, one
 * GET bounded in size and time (http/get.c).
 */
#include <string.h>
#include <strings.h>

#include "core/buf.h"
#include "core/limits.h"
#include "diag/diag.h"
#include "http/get.h"
#include "x509/load.h"

enum pkid_code
pkid_aia_fetch(const char *url, int timeout_s, STACK_OF(X509) **out,
    struct pkid_err *e)
{
	struct pkid_buf body;
	enum pkid_code rc = PKID_E_INTERNAL;

	memset(&body, 0, sizeof(body));
	PKID_CHECK(strncasecmp(url, "http://", 7) == 0, PKID_E_USAGE, "%s: "
	    "only http caIssuers URLs are fetched (RFC 5280 4.2.2.1)", url);
	PKID_TRY(pkid_http_get(url, NULL, timeout_s, PKID_AIA_MAX_SIZE, &body,
	    e));
	PKID_TRY(pkid_x509_load_certs(body.p, body.len, out, e));
	rc = PKID_OK;
out:
	pkid_buf_free(&body);
	return rc;
}
