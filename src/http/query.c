/*
 * query.c - query string parameters through libevent's own parser.
 */
#include "http/query.h"

#include <stdlib.h>
#include <string.h>

#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

enum pkid_code
pkid_http_query_get(const char *query, const char *name, size_t max,
    char **out, struct pkid_err *e)
{
	struct evkeyvalq kv;
	const char *v;
	enum pkid_code rc = PKID_OK;

	*out = NULL;
	if (query == NULL)
		return PKID_OK;
	if (strlen(query) > max)
		return PKID_ERR(e, PKID_E_TOO_LARGE, "query string longer than "
		    "%zu bytes", max);
	TAILQ_INIT(&kv);
	if (evhttp_parse_query_str(query, &kv) != 0) {
		evhttp_clear_headers(&kv);
		return PKID_ERR(e, PKID_E_HTTP_MALFORMED, "the query string "
		    "is not name=value pairs joined by '&'");
	}
	if ((v = evhttp_find_header(&kv, name)) != NULL &&
	    (*out = strdup(v)) == NULL)
		rc = PKID_ERR(e, PKID_E_NOMEM, "no memory");
	evhttp_clear_headers(&kv);
	return rc;
}
