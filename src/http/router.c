/*
 * router.c - path to handler. The longest matching route wins; exact
 * routes match their path only, prefix routes match whole segments.
 * No route: 404 no-route; a route without the method: 405
 * method-not-allowed with an Allow header (RFC 9110 15.5.6), naming the
 * method as the client sent it.
 */
#include <stdlib.h>
#include <string.h>

#include "http/server_int.h"

#define METHODS_ALL \
	(PKID_HTTP_GET | PKID_HTTP_POST | PKID_HTTP_HEAD | PKID_HTTP_OTHER)

struct route {
	char *path;		/* path or prefix, owned */
	size_t len;		/* strlen(path) */
	int prefix;		/* 1: matches path and below */
	unsigned methods;	/* mask of enum pkid_http_method */
	int offload;		/* run on the handler pool */
	pkid_http_handler fn;	/* the handler */
	void *ctx;		/* its first argument (borrowed) */
};

struct pkid_router {
	struct route *routes;	/* n routes, owned */
	size_t n;		/* routes used */
	size_t cap;		/* routes allocated */
};

struct pkid_router *
pkid_router_new(void)
{
	return calloc(1, sizeof(struct pkid_router));
}

void
pkid_router_free(struct pkid_router *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++)
		free(r->routes[i].path);
	free(r->routes);
	free(r);
}

static enum pkid_code
route_check(const struct pkid_router *r, const char *path, int prefix,
    unsigned methods, pkid_http_handler fn, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	size_t i, len;

	PKID_CHECK(r != NULL && path != NULL && fn != NULL, PKID_E_INTERNAL,
	    "route: router, path and handler are required");
	len = strlen(path);
	PKID_CHECK(path[0] == '/', PKID_E_INTERNAL,
	    "route '%.64s': a path starts with '/'", path);
	PKID_CHECK(len <= PKID_HTTP_MAX_ROUTE_PATH, PKID_E_INTERNAL,
	    "route '%.64s...': %zu bytes, more than %d", path, len,
	    PKID_HTTP_MAX_ROUTE_PATH);
	methods &= ~PKID_ROUTE_OFFLOAD;
	PKID_CHECK(methods != 0 && (methods & ~(unsigned)METHODS_ALL) == 0,
	    PKID_E_INTERNAL, "route '%.64s': method mask 0x%x is not a set "
	    "of PKID_HTTP_* methods", path, methods);
	PKID_CHECK(r->n < PKID_HTTP_MAX_ROUTES, PKID_E_INTERNAL,
	    "route '%.64s': the router already holds %d routes", path,
	    PKID_HTTP_MAX_ROUTES);
	for (i = 0; i < r->n; i++)
		PKID_CHECK(r->routes[i].prefix != !!prefix ||
		    strcmp(r->routes[i].path, path) != 0, PKID_E_INTERNAL,
		    "route '%.64s' (%s) is registered twice", path,
		    prefix ? "prefix" : "exact");
	rc = PKID_OK;
out:
	return rc;
}

enum pkid_code
pkid_router_add(struct pkid_router *r, const char *path, int prefix,
    unsigned methods, pkid_http_handler fn, void *ctx, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	struct route *nr;
	char *copy = NULL;
	size_t ncap;

	PKID_TRY(route_check(r, path, prefix, methods, fn, e));
	copy = strdup(path);
	PKID_CHECK(copy != NULL, PKID_E_NOMEM, "route '%.64s': no memory",
	    path);
	if (r->n == r->cap) {
		ncap = r->cap > 0 ? r->cap * 2 : 16;
		nr = realloc(r->routes, ncap * sizeof(*nr));
		PKID_CHECK(nr != NULL, PKID_E_NOMEM,
		    "route '%.64s': no memory", path);
		r->routes = nr;
		r->cap = ncap;
	}
	r->routes[r->n].path = copy;
	r->routes[r->n].len = strlen(copy);
	r->routes[r->n].prefix = !!prefix;
	r->routes[r->n].methods = methods & ~PKID_ROUTE_OFFLOAD;
	r->routes[r->n].offload = (methods & PKID_ROUTE_OFFLOAD) != 0;
	r->routes[r->n].fn = fn;
	r->routes[r->n].ctx = ctx;
	r->n++;
	copy = NULL;	/* owned by the router now */
	rc = PKID_OK;
out:
	free(copy);
	return rc;
}

/* Does route t match path? Prefixes match whole segments only. */
static int
route_match(const struct route *t, const char *path)
{
	if (!t->prefix)
		return strcmp(t->path, path) == 0;
	if (strncmp(t->path, path, t->len) != 0)
		return 0;
	return t->path[t->len - 1] == '/' || path[t->len] == '\0' ||
	    path[t->len] == '/';
}

static const struct route *
route_find(const struct pkid_router *r, const char *path)
{
	const struct route *best = NULL;
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct route *t = &r->routes[i];

		if (!route_match(t, path))
			continue;
		/* Longer wins; at equal length an exact route beats a
		 * prefix. */
		if (best == NULL || t->len > best->len ||
		    (t->len == best->len && best->prefix && !t->prefix))
			best = t;
	}
	return best;
}

/* The Allow header value of a method mask (RFC 9110 10.2.1). */
static void
allow_text(unsigned m, char *out, size_t len)
{
	static const struct {
		unsigned bit;		/* method bit */
		const char *name;	/* its name */
	} names[] = {
		{ PKID_HTTP_GET, "GET" },
		{ PKID_HTTP_HEAD, "HEAD" },
		{ PKID_HTTP_POST, "POST" },
	};
	size_t i, used = 0;

	out[0] = '\0';
	if (m & PKID_HTTP_GET)
		m |= PKID_HTTP_HEAD;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		int n;

		if ((m & names[i].bit) == 0)
			continue;
		n = snprintf(out + used, len - used, "%s%s",
		    used > 0 ? ", " : "", names[i].name);
		if (n < 0 || (size_t)n >= len - used)
			return;
		used += (size_t)n;
	}
}

int
pkid_router_route(const struct pkid_router *r,
    const struct pkid_http_req *req, struct pkid_http_resp *resp,
    struct pkid_http_route_hit *hit)
{
	const struct route *t;
	const char *name;
	struct pkid_err e;
	char allow[64];

	pkid_err_clear(&e);
	memset(hit, 0, sizeof(*hit));
	t = r != NULL && req->path != NULL ? route_find(r, req->path) : NULL;
	if (t == NULL) {
		PKID_ERR(&e, PKID_E_NO_ROUTE, "no endpoint at '%.200s'",
		    req->path != NULL ? req->path : "");
		pkid_http_resp_error(resp, 404, &e);
		return 0;
	}
	hit->fn = t->fn;
	hit->ctx = t->ctx;
	hit->offload = t->offload;
	hit->method = req->method;
	/* RFC 9110 9.3.2: HEAD is GET without the content. */
	if (req->method == PKID_HTTP_HEAD &&
	    (t->methods & PKID_HTTP_HEAD) == 0 &&
	    (t->methods & PKID_HTTP_GET) != 0) {
		hit->method = PKID_HTTP_GET;
		return 1;
	}
	if ((t->methods & (unsigned)req->method) != 0)
		return 1;
	allow_text(t->methods, allow, sizeof(allow));
	name = req->method_name != NULL ? req->method_name :
	    pkid_http_method_name(req->method);
	PKID_ERR(&e, PKID_E_METHOD_NOT_ALLOWED,
	    "%s is not allowed on '%.200s'; allowed: %s", name, req->path,
	    allow[0] != '\0' ? allow : "none");
	pkid_http_resp_error(resp, 405, &e);
	if (allow[0] != '\0')
		pkid_http_resp_header(resp, "Allow", allow);
	return 0;
}

void
pkid_router_dispatch(const struct pkid_router *r,
    const struct pkid_http_req *req, struct pkid_http_resp *resp)
{
	struct pkid_http_route_hit hit;
	struct pkid_http_req as;

	if (!pkid_router_route(r, req, resp, &hit))
		return;
	as = *req;
	as.method = hit.method;
	hit.fn(hit.ctx, &as, resp);
}
