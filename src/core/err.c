/*
 * err.c - the catalogue lookups and the error carrier.
 */
#include "core/err.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

static const struct pkid_errinfo table[] = {
#define PKID_ERRDEF(sym, cat, n, id, sum, rem, causes, rel) \
	{ PKID_E_##sym, #sym, id, sum, rem, causes, rel },
#include "core/errtab.def"
#undef PKID_ERRDEF
};

void
pkid_err_clear(struct pkid_err *e)
{
	if (e == NULL)
		return;
	memset(e, 0, sizeof(*e));
	e->depth = -1;
}

enum pkid_code
pkid_err_set(struct pkid_err *e, enum pkid_code code, const char *file,
    int line, const char *fmt, ...)
{
	va_list ap;
	unsigned long oe;

	if (e == NULL)
		return code;
	/* Drain OpenSSL's queue in every case so a stale entry never leaks
	 * into an unrelated later error. */
	oe = ERR_peek_error();
	if (e->code != PKID_OK) {
		ERR_clear_error();
		return e->code;
	}
	e->code = code;
	e->file = file;
	e->line = line;
	e->ossl_err = oe;
	ERR_clear_error();
	va_start(ap, fmt);
	vsnprintf(e->detail, sizeof(e->detail), fmt, ap);
	va_end(ap);
	return code;
}

void
pkid_err_ctx(struct pkid_err *e, const char *fmt, ...)
{
	va_list ap;
	size_t used;

	if (e == NULL)
		return;
	used = strlen(e->context);
	if (used + 3 >= sizeof(e->context))
		return;
	if (used > 0) {
		memcpy(e->context + used, "; ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(e->context + used, sizeof(e->context) - used, fmt, ap);
	va_end(ap);
}

const struct pkid_errinfo *
pkid_err_info(enum pkid_code code)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].code == code)
			return &table[i];
	return NULL;
}

const struct pkid_errinfo *
pkid_err_byid(const char *id)
{
	size_t i;

	for (i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].id, id) == 0)
			return &table[i];
	return NULL;
}

const struct pkid_errinfo *
pkid_err_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

const char *
pkid_err_id(enum pkid_code code)
{
	const struct pkid_errinfo *i = pkid_err_info(code);

	return i != NULL ? i->id : "internal";
}

const char *
pkid_err_remedy(enum pkid_code code)
{
	const struct pkid_errinfo *i = pkid_err_info(code);

	return i != NULL ? i->remedy : "report this as a bug";
}

const char *
pkid_err_summary(enum pkid_code code)
{
	const struct pkid_errinfo *i = pkid_err_info(code);

	return i != NULL ? i->summary : "unknown error";
}

const char *
pkid_err_message(const struct pkid_err *e, char *buf, size_t len)
{
	const char *d = e->detail[0] != '\0' ? e->detail :
	    pkid_err_summary(e->code);
	char ossl[160] = "";

	if (e->ossl_err != 0) {
		const char *r = ERR_reason_error_string(e->ossl_err);

		if (r != NULL)
			snprintf(ossl, sizeof(ossl), " (openssl: %s)", r);
	}
	snprintf(buf, len, "%s%s%s%s", d,
	    e->context[0] != '\0' ? " (while " : "",
	    e->context[0] != '\0' ? e->context : "",
	    e->context[0] != '\0' ? ")" : "");
	if (ossl[0] != '\0') {
		size_t used = strlen(buf);

		snprintf(buf + used, len - used, "%s", ossl);
	}
	return buf;
}
