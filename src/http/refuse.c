/*
 * refuse.c - pkid answers a connection itself, in its own error format,
 * and closes it: a head the pre-check refused, a head or body past its
 * deadline, a chunked body past the limit.
 *
 * evhttp cannot be asked to send such an answer (it has no request
 * object for a head it never parsed), so the connection is taken from it:
 * the bufferevent gets our callbacks, the unread input is dropped, the
 * answer goes into the output buffer, and once it is written pkid sends
 * its half-close and keeps reading (and dropping) for a moment, so that
 * unread client data does not turn the close into a reset that destroys
 * the answer (RFC 9112 9.6). Then evhttp_connection_free closes it for
 * good, through the usual close callback.
 *
 * The backstop: evhttp still refuses a few things on its own (a bad chunk
 * size in a body) with an HTML page, written straight into the output
 * buffer while no response of pkid's is in progress. tx_cb sees those
 * bytes arrive, and replaces them with pkid's format for the same status
 * before anything is sent; evhttp closes the connection after it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/err.h>

#include "core/log.h"
#include "http/server_int.h"

/* A refusal waiting for the connection's timer callback. */
struct pkid_http_refusal {
	int status;		/* HTTP status */
	int retry_s;		/* Retry-After seconds, 0 = none */
	struct pkid_err e;	/* what to say */
};

static void
arm_ms(struct pkid_http_conn *cs, int ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	evtimer_add(cs->timer, &tv);
}

/* Reads while refusing are dropped. The argument may be evhttp's (its
 * deferred read calls this with its own), so it is not used. */
static void
linger_read_cb(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);

	(void)arg;
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void
linger_write_cb(struct bufferevent *bev, void *arg)
{
	struct pkid_http_conn *cs = arg;
	evutil_socket_t fd;

	if (cs->lingering ||
	    evbuffer_get_length(bufferevent_get_output(bev)) > 0)
		return;
	/* The answer is out: close_notify and FIN, then read what the
	 * client still sends for PKID_HTTP_LINGER_MS. */
	cs->lingering = 1;
	if (cs->ssl != NULL && SSL_is_init_finished(cs->ssl))
		(void)SSL_shutdown(cs->ssl);
	ERR_clear_error();
	fd = bufferevent_getfd(bev);
	if (fd >= 0)
		(void)shutdown(fd, SHUT_WR);
	arm_ms(cs, PKID_HTTP_LINGER_MS);
}

static void
linger_event_cb(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	(void)what;
	/* EOF, error or the write timeout: done. */
	pkid_http_conn_close(arg);
}

void
pkid_http_refuse(struct pkid_http_conn *cs, int status,
    const struct pkid_err *e, int retry_s)
{
	struct timeval wtv = { PKID_HTTP_REFUSE_WRITE_MS / 1000,
	    (PKID_HTTP_REFUSE_WRITE_MS % 1000) * 1000 };
	struct evbuffer *in = bufferevent_get_input(cs->bev);
	struct pkid_http_resp resp;

	if (cs->phase >= PKID_HTTP_PH_REFUSE || cs->evcon == NULL)
		return;
	pkid_http_idle_remove(cs);
	free(cs->pending);
	cs->pending = NULL;
	cs->phase = PKID_HTTP_PH_REFUSE;
	event_del(cs->timer);
	pkid_http_conn_mark(cs, 0, 1);	/* a stop waits for it */
	/* From here evhttp never sees this connection's bytes again. */
	bufferevent_setcb(cs->bev, linger_read_cb, linger_write_cb,
	    linger_event_cb, cs);
	evbuffer_drain(in, evbuffer_get_length(in));
	pkid_http_resp_init(&resp);
	if (retry_s > 0)
		pkid_http_resp_503(&resp, retry_s, e);
	else
		pkid_http_resp_error(&resp, status, e);
	resp.status = status;
	if (pkid_http_resp_write(bufferevent_get_output(cs->bev), &resp) != 0)
		cs->lingering = 1;	/* nothing to send: just close */
	pkid_http_account(cs->w, cs->pc.mlen > 0 ? cs->pc.method : "-", "-",
	    cs->addr, cs->tls, &resp, cs->t0, NULL);
	pkid_http_resp_free(&resp);
	bufferevent_set_timeouts(cs->bev, NULL, &wtv);
	arm_ms(cs, cs->lingering ? 0 : PKID_HTTP_REFUSE_WRITE_MS +
	    PKID_HTTP_LINGER_MS);
	bufferevent_enable(cs->bev, EV_READ | EV_WRITE);
}

void
pkid_http_refuse_later(struct pkid_http_conn *cs, int status,
    const struct pkid_err *e, int retry_s)
{
	struct pkid_http_refusal *r;
	struct evbuffer *in = bufferevent_get_input(cs->bev);

	/* What the client sent must not reach evhttp meanwhile. */
	evbuffer_drain(in, evbuffer_get_length(in));
	if (cs->pending != NULL || cs->phase >= PKID_HTTP_PH_REFUSE)
		return;
	r = calloc(1, sizeof(*r));
	if (r == NULL) {
		/* No memory for the answer: close without one. */
		cs->phase = PKID_HTTP_PH_REFUSE;
		event_active(cs->timer, EV_TIMEOUT, 1);
		return;
	}
	r->status = status;
	r->retry_s = retry_s;
	r->e = *e;
	cs->pending = r;
	event_active(cs->timer, EV_TIMEOUT, 1);
}

int
pkid_http_refuse_timer(struct pkid_http_conn *cs)
{
	struct pkid_http_refusal *r = cs->pending;

	if (r != NULL && cs->phase < PKID_HTTP_PH_REFUSE) {
		cs->pending = NULL;
		pkid_http_refuse(cs, r->status, &r->e, r->retry_s);
		free(r);
		return 1;
	}
	if (cs->phase == PKID_HTTP_PH_REFUSE) {
		pkid_http_conn_close(cs);
		return 1;
	}
	return 0;
}

/* The status of an HTTP/1.x status line at the start of p, or 0. */
static int
status_of(const char *p, size_t n)
{
	if (n < 13 || memcmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
	    p[9] < '1' || p[9] > '5' || p[10] < '0' || p[10] > '9' ||
	    p[11] < '0' || p[11] > '9' || p[12] != ' ')
		return 0;
	return (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
}

/* pkid's answer for an error evhttp found on its own. */
static void
backstop_resp(struct pkid_http_conn *cs, int status,
    struct pkid_http_resp *resp)
{
	struct pkid_err e;

	pkid_err_clear(&e);
	/* evhttp reports a corrupt chunk as "too long"; a chunked body
	 * that really is too long was refused by its wire size first. */
	if (status == 413 && cs->pc.body == PKID_HTTP_PC_CHUNKED)
		status = 400;
	if (status == 413)
		PKID_ERR(&e, PKID_E_TOO_LARGE, "the request body is larger "
		    "than %zu bytes", cs->w->srv->max_body);
	else if (status == 501 || status == 405)
		PKID_ERR(&e, PKID_E_METHOD_NOT_ALLOWED, "the method is not "
		    "implemented; pkid serves GET, HEAD and POST");
	else if (status < 500 && cs->pc.body == PKID_HTTP_PC_CHUNKED)
		PKID_ERR(&e, PKID_E_HTTP_MALFORMED, "the chunked request body "
		    "is malformed (RFC 9112 7.1: chunk-size in hex, CRLF, "
		    "chunk-data, CRLF, ending with a 0-size chunk)");
	else if (status < 500)
		PKID_ERR(&e, PKID_E_HTTP_MALFORMED, "the request is not "
		    "well-formed HTTP/1.1 (the parser answered %d)", status);
	else
		PKID_ERR(&e, PKID_E_INTERNAL, "the HTTP layer failed with "
		    "status %d", status);
	pkid_http_resp_error(resp, status, &e);
}

/* evhttp's own error page is entering the output buffer: swap it. */
void
pkid_http_tx_cb(struct evbuffer *buf, const struct evbuffer_cb_info *info,
    void *arg)
{
	struct pkid_http_conn *cs = arg;
	struct pkid_http_resp resp;
	struct evbuffer_ptr pos;
	char line[16], keep[64];
	ev_ssize_t n;
	int status;

	if (info->n_added == 0 || cs->busy || cs->in_tx ||
	    cs->phase >= PKID_HTTP_PH_REFUSE || info->orig_size > sizeof(keep))
		return;
	if (evbuffer_ptr_set(buf, &pos, info->orig_size,
	    EVBUFFER_PTR_SET) != 0)
		return;
	n = evbuffer_copyout_from(buf, &pos, line, sizeof(line));
	/* 1xx (100 Continue) is evhttp's to send. */
	if (n <= 0 || (status = status_of(line, (size_t)n)) < 400)
		return;
	cs->in_tx = 1;
	n = evbuffer_copyout(buf, keep, info->orig_size);
	evbuffer_drain(buf, evbuffer_get_length(buf));
	if (n > 0)
		evbuffer_add(buf, keep, (size_t)n);
	pkid_http_resp_init(&resp);
	backstop_resp(cs, status, &resp);
	(void)pkid_http_resp_write(buf, &resp);
	/* The rest evhttp adds to this answer (its headers and page) now
	 * fails; it sends what is there and closes (Connection: close). */
	evbuffer_freeze(buf, 0);
	cs->in_tx = 0;
	pkid_http_idle_remove(cs);
	cs->phase = PKID_HTTP_PH_CLOSING;
	event_del(cs->timer);
	pkid_http_conn_mark(cs, 0, 1);
	pkid_http_account(cs->w, cs->pc.mlen > 0 ? cs->pc.method : "-", "-",
	    cs->addr, cs->tls, &resp, cs->t0, NULL);
	pkid_http_resp_free(&resp);
}
