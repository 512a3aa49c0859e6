/*
 * cmd_est.c - pkictl est user add|list|del|passwd: HTTP Basic users of
 * the EST server, with passwords of at least PKID_EST_MIN_PASSWORD
 * characters, kept only as hashes (which are never shown).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <jansson.h>
#include <openssl/crypto.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/limits.h"
#include "est/passwd.h"

static const char usage_est[] =
    "pkictl est user add [--dir DIR] NAME [--password-file FILE|-]\n"
    "    [--password PW]\n"
    "  The password (at least 12 characters) is the first line of\n"
    "  --password-file FILE (- is standard input), else $PKID_EST_PASSWORD,\n"
    "  else the first line of standard input. --password PW works too,\n"
    "  but other users of this machine see it in the process list.\n"
    "pkictl est user list [--dir DIR] [--json]\n"
    "pkictl est user del [--dir DIR] NAME\n"
    "pkictl est user passwd [--dir DIR] NAME [--password-file FILE|-]\n"
    "    [--password PW]\n"
    "  passwd changes the password of an existing user, read as add\n"
    "  reads it.\n";

/* RFC 7617 2: a user-id holds no ':'; we also keep it printable and
 * short, as it goes into logs and the audit trail. */
static int
user_name_ok(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > PKID_MAX_EST_USER)
		return 0;
	for (i = 0; i < n; i++) {
		char c = s[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '@'))
			return 0;
	}
	return 1;
}

/* The password: options, environment, else standard input. */
static enum pkid_code
get_password(const char *pwopt, const char *pwfile, char *pw, size_t len,
    struct pkid_err *e)
{
	enum pkid_code rc;

	rc = pkictl_password(pwopt, pwfile, "PKID_EST_PASSWORD", pw, len, e);
	if (rc == PKID_OK && pw[0] == '\0')
		rc = pkictl_password(NULL, "-", NULL, pw, len, e);
	if (rc != PKID_OK)
		return rc;
	if (pkid_passwd_chars(pw) < PKID_EST_MIN_PASSWORD)
		return PKID_ERR(e, PKID_E_PASSWORD_WEAK, "the password has "
		    "%zu characters; an EST user's needs at least %d (it is "
		    "all that stands between the network and a certificate)",
		    pkid_passwd_chars(pw), PKID_EST_MIN_PASSWORD);
	return PKID_OK;
}

static int
user_add(const char *dir, const char *name, const char *pwopt,
    const char *pwfile)
{
	struct pkid_err e;
	struct pkid_ca *ca = NULL;
	char pw[PKID_MAX_EST_PASSWORD + 1], hash[PKID_MAX_PASSWORD_HASH + 1];
	int rc = PKICTL_EXIT_FAIL;

	pkid_err_clear(&e);
	if (get_password(pwopt, pwfile, pw, sizeof(pw), &e) != PKID_OK ||
	    pkid_passwd_hash(pw, hash, sizeof(hash), &e) != PKID_OK ||
	    pkid_ca_open(dir, &ca, &e) != PKID_OK ||
	    pkid_store_user_put(ca->store, name, hash, &e) != PKID_OK) {
		rc = pkictl_print_err(&e, 0);
		goto out;
	}
	printf("EST user %s set in %s (PBKDF2-HMAC-SHA256)\n", name, dir);
	rc = PKICTL_EXIT_OK;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	pkid_ca_close(ca);
	return rc;
}

/* A new password for an existing user (not-found: nothing created). */
static int
user_passwd(const char *dir, const char *name, const char *pwopt,
    const char *pwfile)
{
	struct pkid_err e;
	struct pkid_ca *ca = NULL;
	char pw[PKID_MAX_EST_PASSWORD + 1], hash[PKID_MAX_PASSWORD_HASH + 1];
	int rc = PKICTL_EXIT_FAIL;

	pkid_err_clear(&e);
	/* Open first: no password prompt for a CA that is not there. */
	if (pkid_ca_open(dir, &ca, &e) != PKID_OK ||
	    get_password(pwopt, pwfile, pw, sizeof(pw), &e) != PKID_OK ||
	    pkid_passwd_hash(pw, hash, sizeof(hash), &e) != PKID_OK ||
	    pkid_store_user_passwd(ca->store, name, hash, "cli", &e) !=
	    PKID_OK) {
		rc = pkictl_print_err(&e, 0);
		goto out;
	}
	printf("EST user %s: new password set in %s (PBKDF2-HMAC-SHA256)\n",
	    name, dir);
	rc = PKICTL_EXIT_OK;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(hash, sizeof(hash));
	pkid_ca_close(ca);
	return rc;
}

static int
user_del(const char *dir, const char *name)
{
	struct pkid_err e;
	struct pkid_ca *ca = NULL;
	int rc;

	pkid_err_clear(&e);
	if (pkid_ca_open(dir, &ca, &e) != PKID_OK ||
	    pkid_store_user_del(ca->store, name, "cli", &e) != PKID_OK) {
		rc = pkictl_print_err(&e, 0);
		goto out;
	}
	printf("EST user %s deleted from %s\n", name, dir);
	rc = PKICTL_EXIT_OK;
out:
	pkid_ca_close(ca);
	return rc;
}

static enum pkid_code
list_one(const struct pkid_user_rec *u, void *arg, struct pkid_err *e)
{
	json_t *arr = arg;
	char t[32], name[PKID_MAX_EST_USER + 1];

	(void)e;
	pkid_time_fmt((time_t)u->created_at, t, sizeof(t));
	if (arr != NULL) {
		json_array_append_new(arr, json_pack("{s:s, s:s}", "name",
		    u->name, "created", t));
		return PKID_OK;
	}
	printf("%-32s  %s\n", pkictl_safe(u->name, name, sizeof(name)), t);
	return PKID_OK;
}

static int
user_list(const char *dir, int json)
{
	struct pkid_err e;
	struct pkid_ca *ca = NULL;
	json_t *arr = json ? json_array() : NULL;
	int rc;

	pkid_err_clear(&e);
	if (pkid_ca_open(dir, &ca, &e) != PKID_OK) {
		rc = pkictl_print_err(&e, json);
		goto out;
	}
	if (!json)
		printf("%-32s  %s\n", "NAME", "SET");
	if (pkid_store_user_list(ca->store, list_one, arr, &e) != PKID_OK) {
		rc = pkictl_print_err(&e, json);
		goto out;
	}
	if (arr != NULL) {
		json_dumpf(arr, stdout, JSON_INDENT(2));
		fputc('\n', stdout);
	}
	rc = PKICTL_EXIT_OK;
out:
	json_decref(arr);
	pkid_ca_close(ca);
	return rc;
}

int
pkictl_cmd_est(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-file", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *pw = NULL, *pwfile = NULL, *sub;
	int c, json = 0, names;

	if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
		fputs(usage_est, stdout);
		return PKICTL_EXIT_OK;
	}
	if (argc < 3 || strcmp(argv[1], "user") != 0)
		return pkictl_usage_err(usage_est, "expected 'est user "
		    "add|list|del|passwd'");
	sub = argv[2];
	if (strcmp(sub, "add") != 0 && strcmp(sub, "list") != 0 &&
	    strcmp(sub, "del") != 0 && strcmp(sub, "passwd") != 0)
		return pkictl_usage_err(usage_est, "unknown 'est user %s': "
		    "expected add, list, del or passwd", sub);
	argc -= 2;
	argv += 2;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'p': pw = optarg; break;
		case 'f': pwfile = optarg; break;
		case 'j': json = 1; break;
		case 'h': fputs(usage_est, stdout); return PKICTL_EXIT_OK;
		default:
			return pkictl_usage_err(usage_est, "unknown or "
			    "incomplete option '%s'", argv[optind - 1]);
		}
	}
	names = argc - optind;
	if (strcmp(sub, "list") == 0) {
		if (names != 0 || pw != NULL || pwfile != NULL)
			return pkictl_usage_err(usage_est, "est user list "
			    "takes only --dir and --json");
		return user_list(pkictl_dir(dir), json);
	}
	if (names != 1)
		return pkictl_usage_err(usage_est, "est user %s takes one "
		    "NAME", sub);
	if (json)
		return pkictl_usage_err(usage_est, "--json is for est user "
		    "list");
	if (!user_name_ok(argv[optind]))
		return pkictl_usage_err(usage_est, "user name '%.80s' must "
		    "be 1 to %d letters, digits, '-', '_', '.' or '@'",
		    argv[optind], PKID_MAX_EST_USER);
	if (strcmp(sub, "del") == 0) {
		if (pw != NULL || pwfile != NULL)
			return pkictl_usage_err(usage_est, "est user del "
			    "takes no password");
		return user_del(pkictl_dir(dir), argv[optind]);
	}
	if (strcmp(sub, "passwd") == 0)
		return user_passwd(pkictl_dir(dir), argv[optind], pw, pwfile);
	return user_add(pkictl_dir(dir), argv[optind], pw, pwfile);
}
