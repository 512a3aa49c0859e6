/*
 * show_int.h - what show.c and show_ext.c share: small JSON helpers (static
 * inline, so nothing is exported) and the extension renderer.
 * Internal to src/x509/; not part of any public interface.
 */
#ifndef PKID_X509_SHOW_INT_H
#define PKID_X509_SHOW_INT_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/x509.h>

#include "core/buf.h"
#include "core/err.h"

/* ---- JSON helpers ------------------------------------------------------- */

/* o[k] = v, taking v; a NULL v (allocation failure) is out-of-memory. */
static inline enum pkid_code
jput(json_t *o, const char *k, json_t *v, struct pkid_err *e)
{
	/* json_object_set_new releases v itself when it fails. */
	if (json_object_set_new(o, k, v) != 0)
		return PKID_ERR(e, PKID_E_NOMEM, "cannot build JSON member %s",
		    k);
	return PKID_OK;
}

/* Append v to the array a, taking v. */
static inline enum pkid_code
jpush(json_t *a, json_t *v, struct pkid_err *e)
{
	if (json_array_append_new(a, v) != 0)
		return PKID_ERR(e, PKID_E_NOMEM, "cannot build JSON array");
	return PKID_OK;
}

/*
 * A JSON string of n bytes. Names and SANs come from outside and may hold
 * bytes that are not UTF-8, which JSON cannot carry: those bytes are
 * written as \xNN so the description stays valid and shows what is there.
 */
static inline json_t *
jstrn(const char *p, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	json_t *j;
	char *q;
	size_t i, k = 0;

	if ((j = json_stringn(p, n)) != NULL)
		return j;
	if (n > (SIZE_MAX - 1) / 4 || (q = malloc(4 * n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c < 0x80) {
			q[k++] = (char)c;
			continue;
		}
		q[k++] = '\\';
		q[k++] = 'x';
		q[k++] = hex[c >> 4];
		q[k++] = hex[c & 15];
	}
	j = json_stringn(q, k);
	free(q);
	return j;
}

static inline json_t *
jstr(const char *s)
{
	return jstrn(s, strlen(s));
}

/* Lower-case hex of n bytes as a JSON string. */
static inline json_t *
jhex(const unsigned char *p, size_t n)
{
	json_t *j;
	char *h;

	if (n > (SIZE_MAX - 1) / 2 || (h = malloc(2 * n + 1)) == NULL)
		return NULL;
	pkid_hex(p, n, h);
	j = json_string(h);
	free(h);
	return j;
}

static inline enum pkid_code warnf(json_t *warn, struct pkid_err *e,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Add one line to the description's "warnings". */
static inline enum pkid_code
warnf(json_t *warn, struct pkid_err *e, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return jpush(warn, jstr(buf), e);
}

/* Set "warnings" when there are any; warn stays the caller's. */
static inline enum pkid_code
put_warnings(json_t *o, json_t *warn, struct pkid_err *e)
{
	if (json_array_size(warn) == 0)
		return PKID_OK;
	return jput(o, "warnings", json_incref(warn), e);
}

/*
 * Describe every extension of a certificate, CSR or CRL into o: the common
 * ones by name ("san", "key_usage", ...), the others in "other_extensions";
 * duplicates and undecodable ones become lines of warn.
 */
enum pkid_code pkid_x509_show_exts(json_t *o,
    const STACK_OF(X509_EXTENSION) *exts, json_t *warn, struct pkid_err *e);

#endif
