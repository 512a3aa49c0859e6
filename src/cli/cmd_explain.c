/*
 * cmd_explain.c - pkictl explain CODE | --list [--json]: the catalogue as a
 * user-facing reference. CODE is the name (weak-key) or the number this
 * prints beside it, decimal or 0x hex.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "cli/cli.h"

static const char *const cat_names[] = {
	"ok", "usage", "io", "parse", "policy", "verify", "protocol", "store",
	"internal",
};

static const char *
cat_name(enum pkid_code c)
{
	unsigned cat = (unsigned)c >> 16;

	return cat < sizeof(cat_names) / sizeof(cat_names[0]) ?
	    cat_names[cat] : "?";
}

/*
 * A code by the number explain prints ("(usage, 65546)"), in decimal, or
 * in hex as 0x01000a (tests/unit/core/err_codes.txt); NULL when arg is
 * not a number or no code has it.
 */
static const struct pkid_errinfo *
bynumber(const char *arg)
{
	const struct pkid_errinfo *t;
	unsigned long v;
	char *end;
	size_t n, k;

	if (arg[0] < '0' || arg[0] > '9' || strlen(arg) > 16)
		return NULL;
	errno = 0;
	v = strtoul(arg, &end, arg[0] == '0' && (arg[1] == 'x' ||
	    arg[1] == 'X') ? 16 : 10);
	if (errno != 0 || *end != '\0' || v == 0)
		return NULL;
	t = pkid_err_table(&n);
	for (k = 1; k < n; k++)
		if ((unsigned long)t[k].code == v)
			return &t[k];
	return NULL;
}

static json_t *
info_json(const struct pkid_errinfo *i)
{
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s, s:s}", "code", i->id,
	    "number", (int)i->code, "category", cat_name(i->code), "summary",
	    i->summary, "remedy", i->remedy, "causes", i->causes, "related",
	    i->related);
}

static int
explain_list(int json)
{
	const struct pkid_errinfo *t;
	size_t n, k;
	json_t *arr;

	t = pkid_err_table(&n);
	if (!json) {
		for (k = 1; k < n; k++)
			printf("%-30s %-9s %s\n", t[k].id, cat_name(t[k].code),
			    t[k].summary);
		return PKICTL_EXIT_OK;
	}
	arr = json_array();
	for (k = 1; k < n && arr != NULL; k++)
		json_array_append_new(arr, info_json(&t[k]));
	json_dumpf(arr, stdout, JSON_INDENT(2));
	fputc('\n', stdout);
	json_decref(arr);
	return PKICTL_EXIT_OK;
}

int
pkictl_cmd_explain(int argc, char **argv)
{
	static const char usage[] = "pkictl explain CODE|NUMBER [--json] | "
	    "pkictl explain --list [--json]";
	const struct pkid_errinfo *i;
	const char *code = NULL;
	int json = 0, list = 0, k;
	struct pkid_err e;

	for (k = 1; k < argc; k++) {
		if (strcmp(argv[k], "--json") == 0)
			json = 1;
		else if (strcmp(argv[k], "--list") == 0)
			list = 1;
		else if (argv[k][0] == '-' || code != NULL)
			return pkictl_usage_err(usage, "unexpected '%s'",
			    argv[k]);
		else
			code = argv[k];
	}
	if (list)
		return explain_list(json);
	if (code == NULL)
		return pkictl_usage_err(usage, "name a code");
	if ((i = pkid_err_byid(code)) == NULL && (i = bynumber(code)) ==
	    NULL) {
		pkid_err_clear(&e);
		PKID_ERR(&e, PKID_E_UNKNOWN_CODE, "no code '%s' (give its "
		    "name, e.g. weak-key, or the number explain prints)", code);
		return pkictl_print_err(&e, json);
	}
	if (json) {
		json_t *o = info_json(i);

		json_dumpf(o, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(o);
		return PKICTL_EXIT_OK;
	}
	printf("%s (%s, %d)\n\n  what:    %s\n  causes:  %s\n  fix:     %s\n",
	    i->id, cat_name(i->code), (int)i->code, i->summary, i->causes,
	    i->remedy);
	if (i->related[0] != '\0')
		printf("  related: %s\n", i->related);
	return PKICTL_EXIT_OK;
}
