/*
 * resp.c - the response a handler fills, and error responses in pkid's
 * one text format: "error: <id>: <message>\nfix: <remedy>\n".
 */
#include <stdio.h>
#include <string.h>

#include "http/server_int.h"

void
pkid_http_resp_init(struct pkid_http_resp *r)
{
	memset(r, 0, sizeof(*r));
	r->status = 200;
	r->code = PKID_OK;
	pkid_buf_init(&r->body, PKID_HTTP_MAX_RESP_BODY);
}

void
pkid_http_resp_free(struct pkid_http_resp *r)
{
	if (r == NULL)
		return;
	pkid_buf_free(&r->body);
	r->n_headers = 0;
}

/* RFC 9110 5.6.2 token characters: what a header name may hold. */
static int
is_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || strchr(extra, c) != NULL)
			continue;
		return 0;
	}
	return 1;
}

/* RFC 9110 5.5: visible characters, space and tab; no CR, LF or NUL. */
static int
is_field_value(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 && c != '\t')
			return 0;
		if (c == 0x7f)
			return 0;
	}
	return 1;
}

void
pkid_http_resp_header(struct pkid_http_resp *r, const char *name,
    const char *value)
{
	int i;

	if (r == NULL || name == NULL || value == NULL)
		return;
	if (r->n_headers >= PKID_HTTP_MAX_RESP_HEADERS)
		return;
	/* Refuse rather than truncate: half a header value is a lie. */
	if (strlen(name) >= sizeof(r->headers[0].name) ||
	    strlen(value) >= sizeof(r->headers[0].value))
		return;
	if (!is_token(name) || !is_field_value(value))
		return;
	i = r->n_headers++;
	snprintf(r->headers[i].name, sizeof(r->headers[i].name), "%s", name);
	snprintf(r->headers[i].value, sizeof(r->headers[i].value), "%s",
	    value);
}

enum pkid_code
pkid_http_resp_body(struct pkid_http_resp *r, const char *content_type,
    const void *p, size_t n, struct pkid_err *e)
{
	if (content_type != NULL)
		snprintf(r->content_type, sizeof(r->content_type), "%s",
		    content_type);
	pkid_buf_free(&r->body);
	return pkid_buf_append(&r->body, p, n, e);
}

void
pkid_http_resp_error(struct pkid_http_resp *r, int status,
    const struct pkid_err *e)
{
	char msg[1024];
	enum pkid_code code = e != NULL ? e->code : PKID_E_INTERNAL;

	if (code == PKID_OK)
		code = PKID_E_INTERNAL;
	r->status = status;
	r->code = code;
	snprintf(r->content_type, sizeof(r->content_type),
	    "text/plain; charset=utf-8");
	if (e != NULL && e->code != PKID_OK)
		pkid_err_message(e, msg, sizeof(msg));
	else
		snprintf(msg, sizeof(msg), "%s", pkid_err_summary(code));
	pkid_buf_free(&r->body);
	/* Only an allocation failure stops this; then the body stays empty
	 * and the status still tells the story. */
	if (pkid_buf_printf(&r->body, NULL, "error: %s: %s\nfix: %s\n",
	    pkid_err_id(code), msg, pkid_err_remedy(code)) != PKID_OK)
		pkid_buf_free(&r->body);
}

const char *
pkid_http_method_name(enum pkid_http_method m)
{
	switch (m) {
	case PKID_HTTP_GET:
		return "GET";
	case PKID_HTTP_POST:
		return "POST";
	case PKID_HTTP_HEAD:
		return "HEAD";
	case PKID_HTTP_OTHER:
	default:
		return "OTHER";
	}
}

/* Reason phrases evhttp 2.1 lacks or that we want spelled our way. */
static const struct {
	int status;		/* HTTP status */
	const char *text;	/* its reason phrase */
} status_texts[] = {
	{ 200, "OK" },
	{ 202, "Accepted" },
	{ 204, "No Content" },
	{ 400, "Bad Request" },
	{ 401, "Unauthorized" },
	{ 403, "Forbidden" },
	{ 404, "Not Found" },
	{ 405, "Method Not Allowed" },
	{ 413, "Content Too Large" },
	{ 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" },
	{ 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" },
	{ 501, "Not Implemented" },
	{ 503, "Service Unavailable" },
};

const char *
pkid_http_status_text(int status)
{
	size_t i;

	for (i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]); i++)
		if (status_texts[i].status == status)
			return status_texts[i].text;
	return NULL;
}
