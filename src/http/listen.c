/*
 * listen.c - the listening sockets: one per worker, all bound to the same
 * ADDR:PORT with SO_REUSEPORT, so the kernel spreads connections over the
 * workers without a shared accept lock.
 */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "core/clock.h"
#include "http/server_int.h"

/* Split "ADDR:PORT", "[V6]:PORT", ":PORT" or "*:PORT"; host "" = any. */
static enum pkid_code
split_spec(const char *spec, char *host, size_t hlen, char *port,
    size_t plen, struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	const char *colon = strrchr(spec, ':');
	size_t n;

	PKID_CHECK(colon != NULL && colon[1] != '\0',
	    PKID_E_CONFIG_BAD_VALUE,
	    "listen address '%.200s' has no port; write ADDR:PORT, e.g. "
	    "0.0.0.0:8443 or [::1]:8443", spec);
	n = (size_t)(colon - spec);
	if (n >= 2 && spec[0] == '[' && spec[n - 1] == ']') {
		spec++;
		n -= 2;
	}
	PKID_CHECK(n < hlen && strlen(colon + 1) < plen,
	    PKID_E_CONFIG_BAD_VALUE, "listen address '%.200s' is too long",
	    spec);
	memcpy(host, spec, n);
	host[n] = '\0';
	if (strcmp(host, "*") == 0)
		host[0] = '\0';
	snprintf(port, plen, "%s", colon + 1);
	rc = PKID_OK;
out:
	return rc;
}

static enum pkid_code
resolve(const char *spec, struct sockaddr_storage *ss, socklen_t *sslen,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	struct addrinfo hints, *res = NULL;
	char host[256], port[16];
	int64_t pn;
	int g;

	PKID_TRY(split_spec(spec, host, sizeof(host), port, sizeof(port), e));
	PKID_CHECK(pkid_parse_int(port, 0, 65535, &pn, NULL) == PKID_OK,
	    PKID_E_CONFIG_BAD_VALUE, "listen address '%.200s': port '%s' is "
	    "not a number in [0, 65535]", spec, port);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
	g = getaddrinfo(host[0] != '\0' ? host : "0.0.0.0", port, &hints,
	    &res);
	PKID_CHECK(g == 0 && res != NULL, PKID_E_NET_LISTEN,
	    "cannot listen on %.200s: address: %s", spec, gai_strerror(g));
	PKID_CHECK(res->ai_addrlen <= sizeof(*ss), PKID_E_NET_LISTEN,
	    "cannot listen on %.200s: address too long", spec);
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	*sslen = res->ai_addrlen;
	rc = PKID_OK;
out:
	if (res != NULL)
		freeaddrinfo(res);
	return rc;
}

static void
set_port(struct sockaddr_storage *ss, int port)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons((uint16_t)port);
	else if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port =
		    htons((uint16_t)port);
}

static int
get_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) != 0)
		return -1;
	if (ss.ss_family == AF_INET)
		return ntohs(((struct sockaddr_in *)&ss)->sin_port);
	if (ss.ss_family == AF_INET6)
		return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	return -1;
}

/*
 * One socket bound to ss. reuseport 0 makes a probe: it fails when any
 * process listens on the port, even one using SO_REUSEPORT itself, which
 * a REUSEPORT bind would silently share the port with.
 */
static int
bind_one(const struct sockaddr_storage *ss, socklen_t sslen, int reuseport,
    int do_listen)
{
	int fd, one = 1, saved;

	fd = socket(ss->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
	    0);
	if (fd < 0)
		return -1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0)
		goto fail;
	if (reuseport && setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one,
	    sizeof(one)) != 0)
		goto fail;
	/* Accepted sockets inherit TCP_NODELAY on Linux; conn.c sets it
	 * again on each connection for the systems where they do not. */
	if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one)) != 0)
		goto fail;
	if (bind(fd, (const struct sockaddr *)ss, sslen) != 0)
		goto fail;
	if (do_listen && listen(fd, PKID_HTTP_BACKLOG) != 0)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

enum pkid_code
pkid_http_listen_open(const char *spec, int n, int *fds, int *port,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	struct sockaddr_storage ss;
	socklen_t sslen = 0;
	int i, probe = -1;

	for (i = 0; i < n; i++)
		fds[i] = -1;
	*port = 0;
	PKID_TRY(resolve(spec, &ss, &sslen, e));
	probe = bind_one(&ss, sslen, 0, 0);
	PKID_CHECK(probe >= 0, PKID_E_NET_LISTEN, "cannot listen on %.200s: "
	    "%s", spec, strerror(errno));
	*port = get_port(probe);
	PKID_CHECK(*port > 0, PKID_E_NET_LISTEN,
	    "cannot listen on %.200s: getsockname: %s", spec,
	    strerror(errno));
	close(probe);
	probe = -1;
	/* With port 0 the probe chose the port; the workers share it. */
	set_port(&ss, *port);
	for (i = 0; i < n; i++) {
		fds[i] = bind_one(&ss, sslen, 1, 1);
		PKID_CHECK(fds[i] >= 0, PKID_E_NET_LISTEN,
		    "cannot listen on %.200s (port %d, socket %d of %d): %s",
		    spec, *port, i + 1, n, strerror(errno));
	}
	rc = PKID_OK;
out:
	if (probe >= 0)
		close(probe);
	if (rc != PKID_OK) {
		for (i = 0; i < n; i++) {
			if (fds[i] >= 0)
				close(fds[i]);
			fds[i] = -1;
		}
	}
	return rc;
}
