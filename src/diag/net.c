/*
 * net.c - steps 1 and 2 of the walk: the URL (libevent's URI parser),
 * name resolution (getaddrinfo) and a TCP connect with a deadline.
 */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/http.h>

#include "core/clock.h"
#include "diag/diag_int.h"

/* Most resolved addresses tried, like a client that falls back. */
#define MAX_ADDRS 8

static int
is_ip_literal(const char *s)
{
	unsigned char buf[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, s, buf) == 1 ||
	    inet_pton(AF_INET6, s, buf) == 1;
}

enum pkid_code
dnet_parse_url(struct dctx *d, struct pkid_err *e)
{
	struct pkid_diag_result *r = d->r;
	struct evhttp_uri *u = NULL;
	const char *scheme, *host, *path;
	enum pkid_code rc = PKID_E_INTERNAL;
	int port;

	PKID_CHECK(d->o->url != NULL && strlen(d->o->url) <= PKID_DIAG_MAX_URL,
	    PKID_E_USAGE, "give a URL of at most %d characters",
	    PKID_DIAG_MAX_URL);
	u = evhttp_uri_parse_with_flags(d->o->url, EVHTTP_URI_NONCONFORMANT);
	PKID_CHECK(u != NULL, PKID_E_USAGE, "'%s' is not a URL; write "
	    "https://HOST[:PORT]", d->o->url);
	scheme = evhttp_uri_get_scheme(u);
	host = evhttp_uri_get_host(u);
	path = evhttp_uri_get_path(u);
	PKID_CHECK(scheme != NULL && strcasecmp(scheme, "https") == 0,
	    PKID_E_USAGE, "'%s': only https:// URLs can be diagnosed",
	    d->o->url);
	PKID_CHECK(host != NULL && host[0] != '\0' && strlen(host) <
	    sizeof(r->host), PKID_E_USAGE, "'%s' has no host", d->o->url);
	PKID_CHECK(evhttp_uri_get_userinfo(u) == NULL &&
	    evhttp_uri_get_query(u) == NULL, PKID_E_USAGE, "'%s': give only "
	    "https://HOST[:PORT]", d->o->url);
	if (path != NULL && path[0] != '\0' && strcmp(path, "/") != 0)
		dnote(d, "the path %s is ignored: only the TLS layer is "
		    "diagnosed", path);
	port = evhttp_uri_get_port(u);
	PKID_CHECK(port == -1 || (port > 0 && port < 65536), PKID_E_USAGE,
	    "'%s': port out of range", d->o->url);
	snprintf(r->host, sizeof(r->host), "%s", host);
	snprintf(r->port, sizeof(r->port), "%d", port == -1 ? 443 : port);
	snprintf(r->name, sizeof(r->name), "%s",
	    d->o->sni != NULL ? d->o->sni : host);
	PKID_CHECK(r->name[0] != '\0', PKID_E_USAGE, "--sni is empty");
	r->name_is_ip = is_ip_literal(r->name);
	rc = PKID_OK;
out:
	if (u != NULL)
		evhttp_uri_free(u);
	return rc;
}

static void
addr_text(const struct sockaddr *sa, socklen_t len, char *out, size_t n)
{
	char h[NI_MAXHOST], s[NI_MAXSERV];

	if (getnameinfo(sa, len, h, sizeof(h), s, sizeof(s),
	    NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
		snprintf(out, n, "(unknown address)");
		return;
	}
	snprintf(out, n, sa->sa_family == AF_INET6 ? "[%s]:%s" : "%s:%s", h,
	    s);
}

/* Wait until fd is readable (or writable); 1 ready, 0 deadline, -1 error. */
int
dnet_wait(int fd, int for_write, uint64_t deadline_ms)
{
	struct pollfd p;
	uint64_t now;
	int n;

	for (;;) {
		now = pkid_mono_ms();
		if (now >= deadline_ms)
			return 0;
		p.fd = fd;
		p.events = for_write ? POLLOUT : POLLIN;
		p.revents = 0;
		n = poll(&p, 1, (int)(deadline_ms - now));
		if (n > 0)
			return 1;
		if (n == 0)
			return 0;
		if (errno != EINTR)
			return -1;
	}
}

/* A connected non-blocking socket, or -1 with *err = errno/ETIMEDOUT. */
static int
connect_to(const struct sockaddr *sa, socklen_t len, int timeout_ms,
    int *err)
{
	socklen_t elen = sizeof(*err);
	int fd, w;

	*err = 0;
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0) {
		*err = errno;
		return -1;
	}
	if (connect(fd, sa, len) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		*err = errno;
		close(fd);
		return -1;
	}
	w = dnet_wait(fd, 1, pkid_mono_ms() + (uint64_t)timeout_ms);
	if (w <= 0) {
		*err = w == 0 ? ETIMEDOUT : errno;
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, err, &elen) != 0)
		*err = errno;
	if (*err != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

int
dnet_connect_fd(struct dctx *d, char *why, size_t len)
{
	int fd, err;

	fd = connect_to((struct sockaddr *)&d->sa, d->salen, d->timeout_ms,
	    &err);
	if (fd < 0)
		snprintf(why, len, "connect to %s: %s", d->r->addr,
		    strerror(err));
	return fd;
}

/* RFC 6761 6.4: names under .invalid never resolve; do not ask DNS. */
static int
is_invalid_tld(const char *h)
{
	size_t n = strlen(h);

	if (n > 0 && h[n - 1] == '.')
		n--;
	return (n == 7 && strncasecmp(h, "invalid", 7) == 0) || (n > 8 &&
	    strncasecmp(h + n - 8, ".invalid", 8) == 0);
}

static struct addrinfo *
resolve(struct dctx *d)
{
	struct pkid_diag_result *r = d->r;
	struct addrinfo hints, *ai = NULL;
	int g;

	if (is_invalid_tld(r->host)) {
		dstep(d, PKID_DIAG_DNS, 0, "%s: not resolved (RFC 6761: "
		    ".invalid)", r->host);
		dfind(d, PKID_E_DNS_FAILURE, PKID_DIAG_DNS, -1, NULL, NULL,
		    "the name '%s' cannot be resolved: names under .invalid "
		    "never exist (RFC 6761 6.4)", r->host);
		return NULL;
	}
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	g = getaddrinfo(r->host, r->port, &hints, &ai);
	if (g != 0 || ai == NULL) {
		dstep(d, PKID_DIAG_DNS, 0, "%s: %s", r->host, gai_strerror(g));
		dfind(d, PKID_E_DNS_FAILURE, PKID_DIAG_DNS, -1, NULL, NULL,
		    "the name '%s' cannot be resolved: %s", r->host,
		    g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
		return NULL;
	}
	return ai;
}

static void
connect_failed(struct dctx *d, const char *tried, int timed_out,
    int err)
{
	enum pkid_code code = timed_out ? PKID_E_CONNECT_TIMEOUT :
	    PKID_E_CONNECT_REFUSED;

	dstep(d, PKID_DIAG_TCP, 0, "%s: %s", tried, strerror(err));
	if (timed_out)
		dfind(d, code, PKID_DIAG_TCP, -1, NULL, NULL, "no answer "
		    "from %s within %d s (%s): packets are dropped on the way "
		    "or the host is down", tried, d->timeout_ms / 1000,
		    strerror(err));
	else
		dfind(d, code, PKID_DIAG_TCP, -1, NULL, NULL, "%s refused "
		    "the connection (%s): nothing listens on port %s there",
		    tried, strerror(err), d->r->port);
}

int
dnet_resolve_connect(struct dctx *d)
{
	struct addrinfo *ai, *p;
	char list[240], one[80], tried[240];
	uint64_t t0;
	size_t used = 0, tused = 0;
	int fd = -1, err = 0, timed_out = 0, n = 0;

	if ((ai = resolve(d)) == NULL)
		return 0;
	list[0] = tried[0] = '\0';
	for (p = ai; p != NULL && n < MAX_ADDRS; p = p->ai_next, n++) {
		addr_text(p->ai_addr, p->ai_addrlen, one, sizeof(one));
		used += (size_t)snprintf(list + used, used < sizeof(list) ?
		    sizeof(list) - used : 0, "%s%s", n ? ", " : "", one);
		if (used >= sizeof(list))
			used = sizeof(list) - 1;
	}
	dstep(d, PKID_DIAG_DNS, 1, "%s -> %s", d->r->host, list);
	for (p = ai, n = 0; p != NULL && n < MAX_ADDRS && fd < 0;
	    p = p->ai_next, n++) {
		addr_text(p->ai_addr, p->ai_addrlen, one, sizeof(one));
		tused += (size_t)snprintf(tried + tused, tused < sizeof(tried) ?
		    sizeof(tried) - tused : 0, "%s%s", n ? ", " : "", one);
		if (tused >= sizeof(tried))
			tused = sizeof(tried) - 1;
		t0 = pkid_mono_ms();
		fd = connect_to(p->ai_addr, p->ai_addrlen, d->timeout_ms, &err);
		if (fd < 0 && err != ECONNREFUSED)
			timed_out = 1;
		if (fd < 0)
			continue;
		memcpy(&d->sa, p->ai_addr, p->ai_addrlen);
		d->salen = p->ai_addrlen;
		snprintf(d->r->addr, sizeof(d->r->addr), "%s", one);
		dstep(d, PKID_DIAG_TCP, 1, "connected to %s in %llu ms", one,
		    (unsigned long long)(pkid_mono_ms() - t0));
		close(fd);
	}
	freeaddrinfo(ai);
	if (d->salen == 0) {
		connect_failed(d, tried, timed_out, err);
		return 0;
	}
	return 1;
}
