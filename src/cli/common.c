/*
 * common.c - error rendering and option helpers shared by subcommands.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <jansson.h>

#include "cli/cli.h"

int
pkictl_exit_for(enum pkid_code code)
{
	if (code == PKID_OK)
		return PKICTL_EXIT_OK;
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
