/*
 * cmd_est.c - pkictl est user add: HTTP Basic users of the EST server.
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
    "pkictl est user add [--dir DIR] NAME [--password PW]\n"
    "  without --password, the password is the first line of stdin\n";

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

/* The first line of stdin, without its line end. */
static int
read_password(char *pw, size_t len)
{
	size_t n;

	if (fgets(pw, (int)len, stdin) == NULL)
		return -1;
	n = strcspn(pw, "\r\n");
	if (pw[n] == '\0' && n == len - 1)
		return -1;	/* longer than the buffer */
	pw[n] = '\0';
	return 0;
}

static int
user_add(const char *dir, const char *name, const char *pwopt)
{
	struct pkid_err e;
	struct pkid_ca *ca = NULL;
	char pw[PKID_MAX_EST_PASSWORD + 2], hash[PKID_MAX_PASSWORD_HASH + 1];
	int rc = PKICTL_EXIT_FAIL;

	pkid_err_clear(&e);
	if (!user_name_ok(name))
		return pkictl_usage_err(usage_est, "user name '%s' must be 1 "
		    "to %d letters, digits, '-', '_', '.' or '@'", name,
		    PKID_MAX_EST_USER);
	if (pwopt != NULL)
		snprintf(pw, sizeof(pw), "%s", pwopt);
	else if (read_password(pw, sizeof(pw)) != 0)
		return pkictl_usage_err(usage_est, "no password on stdin, or "
		    "longer than %d bytes", PKID_MAX_EST_PASSWORD);
	if (pw[0] == '\0' || strlen(pw) > PKID_MAX_EST_PASSWORD) {
		rc = pkictl_usage_err(usage_est, "the password must be 1 to %d "
		    "bytes", PKID_MAX_EST_PASSWORD);
		goto out;
	}
	if (pkid_passwd_hash(pw, hash, sizeof(hash), &e) != PKID_OK ||
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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *dir = NULL, *pw = NULL;
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
		case 'h': fputs(usage_est, stdout); return PKICTL_EXIT_OK;
		default:
			return pkictl_usage_err(usage_est, "unknown or "
			    "incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return pkictl_usage_err(usage_est, "est user add takes one "
		    "NAME");
	return user_add(pkictl_dir(dir), argv[optind], pw);
}
