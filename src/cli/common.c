/*
 * common.c - error rendering and option helpers shared by subcommands.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "cli/cli.h"
#include "core/clock.h"

int
pkictl_exit_for(enum pkid_code code)
{
	if (code == PKID_OK)
		return PKICTL_EXIT_OK;
	/* Catalogued under USAGE long ago (codes are never renumbered),
	 * but a serial, request or user that is not there is a failed
	 * operation, not a malformed command line (README: exit 1). */
	if (code == PKID_E_NOT_FOUND)
		return PKICTL_EXIT_FAIL;
	if ((code >> 16) == PKID_CAT_USAGE)
		return PKICTL_EXIT_USAGE;
	return PKICTL_EXIT_FAIL;
}

int
pkictl_print_err(const struct pkid_err *e, int json)
{
	char msg[1024];

	pkid_err_message(e, msg, sizeof(msg));
	if (json) {
		json_t *o = json_pack("{s:s, s:s, s:s}", "code",
		    pkid_err_id(e->code), "message", msg, "remedy",
		    pkid_err_remedy(e->code));

		if (o != NULL) {
			if (e->depth >= 0)
				json_object_set_new(o, "depth",
				    json_integer(e->depth));
			if (e->subject[0] != '\0')
				json_object_set_new(o, "subject",
				    json_string(e->subject));
			json_dumpf(o, stdout, JSON_COMPACT);
			fputc('\n', stdout);
			json_decref(o);
		}
	} else {
		fprintf(stderr, "error: %s: %s\nfix: %s\n",
		    pkid_err_id(e->code), msg, pkid_err_remedy(e->code));
	}
	return pkictl_exit_for(e->code);
}

int
pkictl_usage_err(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "error: usage: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nfix: %s\n", usage);
	return PKICTL_EXIT_USAGE;
}

const char *
pkictl_safe(const char *s, char *out, size_t len)
{
	size_t i;

	size_t o = 0;

	if (len == 0)
		return "";
	for (i = 0; s != NULL && s[i] != '\0' && o < len - 1; i++) {
		unsigned char c = (unsigned char)s[i];

		/* C0, DEL, and C1 in its UTF-8 form (U+0080..U+009F: some
		 * terminals take U+009B as CSI). */
		if (c == 0xc2 && (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f) {
			out[o++] = '?';
			i++;
		} else
			out[o++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
	}
	out[o] = '\0';
	return out;
}

json_t *
pkictl_json_str(const char *s)
{
	json_t *j;
	char *c;
	size_t i;

	if (s == NULL)
		s = "";
	if ((j = json_string(s)) != NULL)
		return j;
	/* Not UTF-8: keep the ASCII, mark the rest. */
	if ((c = strdup(s)) == NULL)
		return json_string("");
	for (i = 0; c[i] != '\0'; i++)
		if ((unsigned char)c[i] >= 0x80)
			c[i] = '?';
	j = json_string(c);
	free(c);
	return j != NULL ? j : json_string("");
}

enum pkid_code
pkictl_time_or_ago(const char *s, int64_t *out, struct pkid_err *e)
{
	int64_t ago;
	time_t t;

	*out = 0;
	if (pkid_duration_parse(s, &ago, NULL) == PKID_OK && ago >= 0) {
		*out = (int64_t)pkid_now() - ago;
		return PKID_OK;
	}
	if (pkid_time_parse_rfc3339(s, &t, NULL) == PKID_OK ||
	    pkid_time_parse(s, &t, NULL) == PKID_OK) {
		*out = (int64_t)t;
		return PKID_OK;
	}
	return PKID_ERR(e, PKID_E_BAD_TIME, "'%.64s' is neither an RFC 3339 "
	    "time (2030-01-01T00:00:00Z) nor a duration back from now (7d, "
	    "12h, 30m)", s);
}

const char *
pkictl_dir(const char *opt)
{
	const char *env;

	if (opt != NULL)
		return opt;
	env = getenv("PKID_DIR");
	if (env != NULL && env[0] != '\0')
		return env;
	return "./var/demo";
}

/* The first line of f into out, without its line end. */
static enum pkid_code
first_line(FILE *f, const char *name, char *out, size_t len,
    struct pkid_err *e)
{
	char buf[1024];
	size_t n;
	enum pkid_code rc = PKID_E_INTERNAL;

	PKID_CHECK(len <= sizeof(buf) - 1, PKID_E_INTERNAL, "password "
	    "buffer of %zu bytes", len);
	if (fgets(buf, (int)len + 1, f) == NULL) {
		PKID_CHECK(!ferror(f), PKID_E_IO_READ, "reading the password "
		    "from %s: %s", name, strerror(errno));
		buf[0] = '\0';
	}
	n = strcspn(buf, "\r\n");
	PKID_CHECK(buf[n] != '\0' || strlen(buf) < len, PKID_E_USAGE,
	    "the password in %s is longer than %zu bytes", name, len - 1);
	buf[n] = '\0';
	memcpy(out, buf, n + 1);
	rc = PKID_OK;
out:
	OPENSSL_cleanse(buf, sizeof(buf));
	return rc;
}

enum pkid_code
pkictl_password(const char *opt, const char *file, const char *env,
    char *out, size_t len, struct pkid_err *e)
{
	const char *v = NULL;
	FILE *f = NULL;
	enum pkid_code rc = PKID_E_INTERNAL;

	out[0] = '\0';
	PKID_CHECK(opt == NULL || file == NULL, PKID_E_USAGE, "give "
	    "--password or --password-file, not both");
	if (file != NULL) {
		f = strcmp(file, "-") == 0 ? stdin : fopen(file, "r");
		PKID_CHECK(f != NULL, PKID_E_IO_OPEN, "cannot open password "
		    "file %s: %s", file, strerror(errno));
		PKID_TRY(first_line(f, strcmp(file, "-") == 0 ?
		    "standard input" : file, out, len, e));
		PKID_CHECK(out[0] != '\0', PKID_E_USAGE, "%s holds no "
		    "password on its first line", strcmp(file, "-") == 0 ?
		    "standard input" : file);
		rc = PKID_OK;
		goto out;
	}
	v = opt != NULL ? opt : env != NULL ? getenv(env) : NULL;
	if (v == NULL || v[0] == '\0') {
		rc = PKID_OK;	/* none given */
		goto out;
	}
	PKID_CHECK(strlen(v) < len, PKID_E_USAGE, "the password in %s is "
	    "longer than %zu bytes", opt != NULL ? "--password" : env,
	    len - 1);
	memcpy(out, v, strlen(v) + 1);
	/* Wipe the argument or variable in place: /proc/PID/cmdline and
	 * /proc/PID/environ read this very memory, and nothing here needs
	 * it again (for --password this shortens the window in which the
	 * process list shows it; it does not close it). */
	OPENSSL_cleanse((char *)v, strlen(v));
	rc = PKID_OK;
out:
	if (f != NULL && f != stdin)
		fclose(f);
	if (rc != PKID_OK)
		OPENSSL_cleanse(out, len);
	return rc;
}
