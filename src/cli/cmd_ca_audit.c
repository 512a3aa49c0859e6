/*
 * cmd_ca_audit.c - pkictl ca audit: pages of the store's append-only audit
 * log, newest last, each an indexed read of at most --limit entries
 * (pkid_store_audit_page), with --before to page back.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/limits.h"

static const char usage_audit[] =
    "pkictl ca audit [--dir DIR] [--since TIME] [--limit N] [--before ID] "
    "[--json]\n"
    "  TIME is RFC 3339 (2030-01-01T00:00:00Z) or a duration back from now "
    "(7d, 12h, 30m)";

/* One page's output: JSON array or text. */
struct audit_ctx {
	json_t *arr;		/* --json: the array, else NULL */
	int n;			/* entries shown */
};

static enum pkid_code
audit_one(const struct pkid_audit_rec *a, void *arg, struct pkid_err *e)
{
	struct audit_ctx *c = arg;
	char t[32], actor[128], action[64], object[160], result[64];
	char detail[512];

	c->n++;
	pkid_time_fmt((time_t)a->at, t, sizeof(t));
	if (c->arr != NULL) {
		/* Values from the network may not be UTF-8: kept, marked. */
		json_t *o = json_pack("{s:I, s:s, s:o, s:o, s:o, s:o, s:o}",
		    "id", (json_int_t)a->id, "at", t, "actor",
		    pkictl_json_str(a->actor), "action",
		    pkictl_json_str(a->action), "object",
		    pkictl_json_str(a->object), "result",
		    pkictl_json_str(a->result), "detail",
		    pkictl_json_str(a->detail));

		if (o == NULL || json_array_append_new(c->arr, o) != 0)
			return PKID_ERR(e, PKID_E_NOMEM, "JSON of audit entry "
			    "%lld", (long long)a->id);
		return PKID_OK;
	}
	/* Requesters and subjects come from the network: no terminal
	 * escapes through. */
	printf("%-6lld %-20s %-24s %-22s %-8s %s%s%s\n", (long long)a->id, t,
	    pkictl_safe(a->actor, actor, sizeof(actor)),
	    pkictl_safe(a->action, action, sizeof(action)),
	    pkictl_safe(a->result, result, sizeof(result)),
	    pkictl_safe(a->object, object, sizeof(object)),
	    a->detail[0] != '\0' ? "  " : "",
	    pkictl_safe(a->detail, detail, sizeof(detail)));
	return PKID_OK;
}

int
pkictl_cmd_ca_audit(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "before", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct audit_ctx c = { NULL, 0 };
	struct pkid_ca *ca = NULL;
	struct pkid_err e;
	const char *dir = NULL, *since_s = NULL;
	int64_t since = INT64_MIN, before = 0, older = 0, n;
	int ch, json = 0, limit = PKID_AUDIT_PAGE_DEFAULT, rc;

	pkid_err_clear(&e);
	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'd': dir = optarg; break;
		case 's': since_s = optarg; break;
		case 'j': json = 1; break;
		case 'l':
			if (pkid_parse_int(optarg, 1, PKID_AUDIT_PAGE_MAX, &n,
			    NULL) != PKID_OK)
				return pkictl_usage_err(usage_audit, "--limit "
				    "takes 1..%d, not '%s'",
				    PKID_AUDIT_PAGE_MAX, optarg);
			limit = (int)n;
			break;
		case 'b':
			if (pkid_parse_int(optarg, 1, INT64_MAX, &before,
			    NULL) != PKID_OK)
				return pkictl_usage_err(usage_audit, "--before "
				    "takes an entry ID, not '%s'", optarg);
			break;
		default:
			return pkictl_usage_err(usage_audit, "unknown or "
			    "incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return pkictl_usage_err(usage_audit, "unexpected '%s'",
		    argv[optind]);
	if (since_s != NULL && pkictl_time_or_ago(since_s, &since, &e) !=
	    PKID_OK)
		return pkictl_print_err(&e, json);
	if (pkid_ca_open(pkictl_dir(dir), &ca, &e) != PKID_OK)
		return pkictl_print_err(&e, json);
	c.arr = json ? json_array() : NULL;
	if (!json)
		printf("%-6s %-20s %-24s %-22s %-8s %s\n", "ID", "TIME",
		    "ACTOR", "ACTION", "RESULT", "OBJECT  DETAIL");
	if (pkid_store_audit_page(ca->store, since, before, limit, audit_one,
	    &c, &older, &e) != PKID_OK) {
		rc = pkictl_print_err(&e, json);
		goto out;
	}
	if (c.arr != NULL) {
		json_dumpf(c.arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	} else if (c.n == 0)
		printf("no audit entries%s\n", since_s != NULL ?
		    " in that time" : "");
	/* The way back, on stderr so --json stays one array. */
	if (older > 0)
		fprintf(stderr, "older entries: pkictl ca audit --before %lld"
		    "%s%s\n", (long long)older, since_s != NULL ?
		    " --since " : "", since_s != NULL ? since_s : "");
	rc = PKICTL_EXIT_OK;
out:
	json_decref(c.arr);
	pkid_ca_close(ca);
	return rc;
}
