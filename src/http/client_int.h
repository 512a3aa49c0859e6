/*
 * client_int.h - the HTTPS client's state, shared by client.c and
 * client_tls.c only.
 */
#ifndef PKID_HTTP_CLIENT_INT_H
#define PKID_HTTP_CLIENT_INT_H

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <openssl/ssl.h>

#include "core/limits.h"
#include "http/client.h"

struct pkid_https {
	struct pkid_https_opts o;	/* options; strings below */
	char url[PKID_DIAG_MAX_URL + 1]; /* base URL */
	char user[PKID_MAX_EST_USER + 1]; /* Basic user, "" none */
	char auth[512];		/* Authorization header, "" none */
	char host[256];			/* host of the URL */
	int port;			/* its port */
	char path[512];		/* the URL's path, no trailing '/' */
	char target[300];		/* "host:port" for messages */
	int host_is_ip;			/* host is an IP literal */
	char addrs[PKID_HTTPS_MAX_ADDRS][64]; /* resolved, numeric */
	int naddrs;		/* entries in addrs, 0: not resolved */
	int cur;			/* the address in use */
	struct event_base *base;	/* one per session */
	SSL_CTX *ctx;			/* TLS settings */
	struct evhttp_connection *conn;	/* the connection, NULL none */
	SSL *ssl;			/* its TLS (owned by conn's bev) */
	int conn_dead;			/* the server closed it */
	int conn_used;			/* a request completed on it */
	/* What the current connection's handshake showed. */
	struct bufferevent *bev;	/* conn's bufferevent (conn owns) */
	int tls_started;		/* ClientHello made (maybe unsent) */
	int server_spoke;		/* a TLS record came from the server */
	int tcp_up;			/* the TCP connection was seen up */
	int hs_done;			/* handshake completed */
	int alert_in;			/* alert received, -1 none */
	int verified_bad;		/* the verifier refused the chain */
	struct pkid_err verr;		/* its finding */
	STACK_OF(X509) *peer;		/* owned: presented chain */
	enum pkid_https_phase phase;	/* of the last failure */
};

/* client_tls.c */
SSL_CTX *pkid_https_ctx_new(struct pkid_https *h, struct pkid_err *e);
/* A new SSL for one connection, SNI and callbacks set. */
SSL *pkid_https_ssl_new(struct pkid_https *h, struct pkid_err *e);

#endif
