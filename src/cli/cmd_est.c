/*
 * cmd_est.c - pkictl est user add: HTTP Basic users of the EST server,
 * with passwords of at least PKID_EST_MIN_PASSWORD characters.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "ca/ca.h"
#include "cli/cli.h"
#include "core/limits.h"
#include "est/passwd.h"

static const char usage_est[] =
    "pkictl est user add [--dir DIR] NAME [--password-file FILE|-]\n"
    "    [--password PW]\n"
    "  The password (at least 12 characters) is the first line of\n"
    "  --password-file FILE (- is standard input), else $PKID_EST_PASSWORD,\n"
    "  else the first line of standard input. --password PW works too,\n"
    "  but other users of this machine see it in the process list.\n";

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
	if (!user_name_ok(name))
		return pkictl_usage_err(usage_est, "user name '%s' must be 1 "
		    "to %d letters, digits, '-', '_', '.' or '@'", name,
		    PKID_MAX_EST_USER);
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

int
pkictl_cmd_est(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "password", required_argument, NULL, 'p' },
		{ "password-file", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *pw = NULL, *pwfile = NULL;
	int c;

	if (argc < 3 || strcmp(argv[1], "user") != 0 ||
	    strcmp(argv[2], "add") != 0) {
		if (argc >= 2 && strcmp(argv[1], "--help") == 0) {
			fputs(usage_est, stdout);
			return PKICTL_EXIT_OK;
		}
		return pkictl_usage_err(usage_est, "expected 'est user add'");
	}
	argc -= 2;
	argv += 2;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': dir = optarg; break;
		case 'p': pw = optarg; break;
		case 'f': pwfile = optarg; break;
		case 'h': fputs(usage_est, stdout); return PKICTL_EXIT_OK;
		default:
			return pkictl_usage_err(usage_est, "unknown or "
			    "incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pkictl_usage_err(usage_est, "est user add takes one "
		    "NAME");
	return user_add(pkictl_dir(dir), argv[optind], pw, pwfile);
}
