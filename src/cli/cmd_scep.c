/*
 * cmd_scep.c - pkictl scep challenge new|list|revoke: one-time SCEP
 * challenge passwords (RFC 8894 2.3), printed once and stored only as a
 * hash, listed and revoked by an id (a prefix of that hash); the client
 * subcommands (getcaps, getca, getnextca, enroll, renew) are
 * dispatched to cmd_scep_client.c.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "scep/scep.h"
#include "x509/load.h"

static const char usage_scep[] =
    "pkictl scep challenge new [--dir DIR] [--profile NAME] [--ttl 1h]\n"
    "  prints a one-time challenge password on its last line; the first\n"
    "  SCEP PKCSReq with it that is accepted (issued or pending) uses it\n"
    "  up; a refused one leaves it for a corrected request\n"
    "pkictl scep challenge list [--dir DIR] [--json]\n"
    "  id, profile, created, expires and used/unused of each (never the "
    "secret)\n"
    "pkictl scep challenge revoke [--dir DIR] ID\n"
    "  an unused challenge can no longer be used (audited)\n"
    "pkictl scep ra-cert [--dir DIR]\n"
    "  RA mode: a new SCEP RA key and its certificate from the upstream\n"
    "  CA over EST, into DIR/scep/ra.key and ra.pem (restart pkid)\n"
    "pkictl scep getcaps|getca|getnextca --server URL [--ca NAME] "
    "[--out FILE]\n"
    "pkictl scep enroll|renew ...: as pkictl enroll|renew scep ...\n";

struct scep_opts {
	const char *dir;	/* --dir */
	const char *profile;	/* --profile */
	int64_t ttl;		/* --ttl, seconds */
	int json;		/* --json */
	const char *arg;	/* one positional argument */
};

static int
parse_opts(int argc, char **argv, struct scep_opts *o)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "profile", required_argument, NULL, 'p' },
		{ "ttl", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->ttl = 3600;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'p': o->profile = optarg; break;
		case 'j': o->json = 1; break;
		case 't':
			if (pkid_duration_parse(optarg, &o->ttl, NULL) !=
			    PKID_OK || o->ttl <= 0)
				return pkictl_usage_err(usage_scep, "--ttl "
				    "takes a duration such as 1h or 30m, not "
				    "'%s'", optarg);
			break;
		default:
			return pkictl_usage_err(usage_scep, "unknown or "
			    "incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		o->arg = argv[optind++];
	if (optind < argc)
		return pkictl_usage_err(usage_scep, "unexpected '%s'",
		    argv[optind]);
	o->dir = pkictl_dir(o->dir);
	return 0;
}

/* pkictl scep ra-cert: the RA certificate from the upstream CA. */
static int
cmd_ra_cert(int argc, char **argv)
{
	struct scep_opts o;
	struct pkid_err e;
	struct pkid_ca *ca = NULL;
	X509 *x = NULL;
	char subj[512], iss[512], serial[48];
	int rc;

	if ((rc = parse_opts(argc, argv, &o)) != 0)
		return rc;
	if (o.profile != NULL)
		return pkictl_usage_err(usage_scep, "ra-cert takes no "
		    "--profile: the upstream's EST label decides");
	if (o.arg != NULL)
		return pkictl_usage_err(usage_scep, "unexpected '%s'", o.arg);
	pkid_err_clear(&e);
	if (pkid_ca_open(o.dir, &ca, &e) != PKID_OK)
		return pkictl_print_err(&e, 0);
	if (pkid_scep_ra_cert_enroll(ca, &x, &e) != PKID_OK) {
		rc = pkictl_print_err(&e, 0);
		goto out;
	}
	pkid_x509_serial_hex(X509_get0_serialNumber(x), serial,
	    sizeof(serial));
	printf("SCEP RA certificate %s serial %s issued by %s\n"
	    "written to %s/scep/ra.pem (key %s/scep/ra.key); restart pkid\n",
	    pkid_x509_name_text(X509_get_subject_name(x), subj, sizeof(subj)),
	    serial, pkid_x509_name_text(X509_get_issuer_name(x), iss,
	    sizeof(iss)), o.dir, o.dir);
	rc = 0;
out:
	X509_free(x);
	pkid_ca_close(ca);
	return rc;
}

/* "unused", "used", "expired" at now. */
static const char *
chal_state(const struct pkid_challenge_rec *c, int64_t now)
{
	if (c->used_at != 0)
		return "used";
	return c->expires_at <= now ? "expired" : "unused";
}

static enum pkid_code
chal_one(const struct pkid_challenge_rec *c, void *arg, struct pkid_err *e)
{
	json_t *arr = arg;
	int64_t now = (int64_t)pkid_now();
	char cr[32], ex[32], us[32], prof[64];

	(void)e;
	pkid_time_fmt((time_t)c->created_at, cr, sizeof(cr));
	pkid_time_fmt((time_t)c->expires_at, ex, sizeof(ex));
	if (c->used_at != 0)
		pkid_time_fmt((time_t)c->used_at, us, sizeof(us));
	if (arr != NULL) {
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:s, s:o}", "id", c->id, "profile", c->profile, "state",
		    chal_state(c, now), "created", cr, "expires", ex, "used",
		    c->used_at != 0 ? json_string(us) : json_null()));
		return PKID_OK;
	}
	printf("%-12s  %-7s  %-12s  %-20s  %-20s  %s\n", c->id,
	    chal_state(c, now), pkictl_safe(c->profile, prof, sizeof(prof)),
	    cr, ex, c->used_at != 0 ? us : "-");
	return PKID_OK;
}

static int
chal_list(struct pkid_ca *ca, const struct scep_opts *o, struct pkid_err *e)
{
	json_t *arr = o->json ? json_array() : NULL;
	enum pkid_code rc;

	if (!o->json)
		printf("%-12s  %-7s  %-12s  %-20s  %-20s  %s\n", "ID", "STATE",
		    "PROFILE", "CREATED", "EXPIRES", "USED");
	rc = pkid_store_challenge_list(ca->store, chal_one, arr, e);
	if (rc != PKID_OK) {
		json_decref(arr);
		return pkictl_print_err(e, o->json);
	}
	if (arr != NULL) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
		json_decref(arr);
	}
	return 0;
}

static int
chal_revoke(struct pkid_ca *ca, const struct scep_opts *o, struct pkid_err *e)
{
	struct pkid_challenge_rec c;
	char ex[32], prof[64];

	if (o->arg == NULL)
		return pkictl_usage_err(usage_scep, "name the challenge ID "
		    "('pkictl scep challenge list' shows them)");
	if (pkid_store_challenge_revoke(ca->store, o->arg, "cli", &c, e) !=
	    PKID_OK)
		return pkictl_print_err(e, o->json);
	pkid_time_fmt((time_t)c.expires_at, ex, sizeof(ex));
	printf("revoked SCEP challenge %s (profile %s, was valid until %s)\n",
	    c.id, pkictl_safe(c.profile, prof, sizeof(prof)), ex);
	return 0;
}

/* pkictl scep challenge new|list|revoke: argv[0] is "challenge". */
static int
cmd_challenge(int argc, char **argv)
{
	struct scep_opts o;
	struct pkid_err e;
	struct pkid_ca *ca = NULL;
	char pw[64], until[32], id[PKID_CHALLENGE_ID_LEN + 1];
	const char *sub = argc >= 2 ? argv[1] : "";
	int rc;

	if (strcmp(sub, "new") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "revoke") != 0)
		return pkictl_usage_err(usage_scep, "want 'scep challenge "
		    "new', 'list' or 'revoke'");
	if ((rc = parse_opts(argc - 1, argv + 1, &o)) != 0)
		return rc;
	if (strcmp(sub, "new") == 0 && o.arg != NULL)
		return pkictl_usage_err(usage_scep, "unexpected '%s'", o.arg);
	if (strcmp(sub, "list") == 0 && o.arg != NULL)
		return pkictl_usage_err(usage_scep, "unexpected '%s'", o.arg);
	pkid_err_clear(&e);
	if (pkid_ca_open(o.dir, &ca, &e) != PKID_OK)
		return pkictl_print_err(&e, o.json);
	if (strcmp(sub, "list") == 0) {
		rc = chal_list(ca, &o, &e);
		goto out;
	}
	if (strcmp(sub, "revoke") == 0) {
		rc = chal_revoke(ca, &o, &e);
		goto out;
	}
	if (pkid_scep_challenge_new(ca, o.profile, o.ttl, pw, sizeof(pw), id,
	    &e) != PKID_OK) {
		rc = pkictl_print_err(&e, 0);
		goto out;
	}
	pkid_time_fmt(pkid_now() + (time_t)o.ttl, until, sizeof(until));
	printf("one-time SCEP challenge %s for profile %s, valid until %s:\n"
	    "%s\n", id, o.profile != NULL ? o.profile : ca->cfg.scep_profile,
	    until, pw);
	rc = 0;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	pkid_ca_close(ca);
	return rc;
}

int
pkictl_cmd_scep(int argc, char **argv)
{
	/* The client side lives in cmd_scep_client.c. */
	if (argc >= 2 && (strcmp(argv[1], "getcaps") == 0 ||
	    strcmp(argv[1], "getca") == 0 ||
	    strcmp(argv[1], "getnextca") == 0))
		return pkictl_cmd_scep_get(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "enroll") == 0)
		return pkictl_cmd_enroll_scep(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "renew") == 0)
		return pkictl_cmd_renew_scep(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "ra-cert") == 0)
		return cmd_ra_cert(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "challenge") == 0)
		return cmd_challenge(argc - 1, argv + 1);
	return pkictl_usage_err(usage_scep, "want 'scep challenge new|list|"
	    "revoke', 'scep ra-cert', or a client subcommand");
}
