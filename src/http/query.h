/*
 * query.h - form-encoded query strings ("a=1&b=x%2By") for protocol code
 * that must not include libevent (SCEP's operation= and message=).
 */
#ifndef PKID_HTTP_QUERY_H
#define PKID_HTTP_QUERY_H

#include <stddef.h>

#include "core/err.h"

/*
 * The percent-decoded value of the first parameter name in query (a raw
 * query string, may be NULL) into *out (caller frees with free()), or
 * NULL when absent. '+' decodes to a space as in HTML forms. At most max
 * bytes of query are read. Errors: http-malformed, too-large, no memory.
 */
enum pkid_code pkid_http_query_get(const char *query, const char *name,
    size_t max, char **out, struct pkid_err *e);

#endif
