/*
 * pkictl.c - the tool's main: dispatch to subcommands.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli/cli.h"

static const char usage[] =
    "usage: pkictl COMMAND ...\n"
    "  ca init|issue|chain|list|revoke|unrevoke|crl|pending|approve|"
    "reject\n"
    "  ca show|rollover|plan                 CA administration (--dir DIR)\n"
    "  show FILE...                          describe certificates, CSRs, "
    "CRLs,\n"
    "                                        PKCS#7, EST bodies\n"
    "  verify [--trust F] [--host N] CERT    validate a certificate path\n"
    "  diagnose https://HOST[:PORT]          why a TLS client fails there\n"
    "  explain CODE | --list                 what an error code means\n"
    "  ca pending|approve|reject|audit       approvals and the audit log\n"
    "  scep challenge new|list|revoke        one-time SCEP challenges\n"
    "  est user add|list|del|passwd          EST HTTP Basic users\n"
    "  scep ra-cert                          RA mode: the SCEP RA "
    "certificate\n"
    "  scep getcaps|getca|getnextca --server URL  ask a SCEP server\n"
    "  enroll est|scep --server URL ... --out F  get a certificate\n"
    "  renew est|scep --server URL --cert C --key K --out F  renew it\n"
    "  agent --config FILE [--once]          keep identities renewed\n"
    "  trust bundle create|show, import, list, remove, export, status\n"
    "                                        signed trust bundles and "
    "trust stores\n"
    "  version, help [COMMAND]\n"
    "pkictl COMMAND --help: its options and an example; pkictl help: all\n";

struct subcmd {
	const char *name;		/* first word */
	int (*fn)(int, char **);	/* its entry point */
};

static const struct subcmd cmds[] = {
	{ "ca", pkictl_cmd_ca },
	{ "show", pkictl_cmd_show },
	{ "verify", pkictl_cmd_verify },
	{ "diagnose", pkictl_cmd_diagnose },
	{ "explain", pkictl_cmd_explain },
	{ "scep", pkictl_cmd_scep },
	{ "est", pkictl_cmd_est },
	{ "enroll", pkictl_cmd_enroll },
	{ "renew", pkictl_cmd_renew },
	{ "agent", pkictl_cmd_agent },
	{ "trust", pkictl_cmd_trust },
	{ NULL, NULL },
};

int
main(int argc, char **argv)
{
	int i, rc;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? PKICTL_EXIT_USAGE : PKICTL_EXIT_OK;
	}
	if (strcmp(argv[1], "help") == 0) {
		if (argc == 3 && strcmp(argv[2], "--scdoc") == 0)
			return pkictl_help_scdoc();
		return pkictl_help(argc - 2, argv + 2);
	}
	/* CMD [SUB] ... --help: one screen with an example. */
	for (i = 2; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") ==
		    0)
			return pkictl_help(i - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0 ||
	    strcmp(argv[1], "--version") == 0) {
		printf("pkictl %s (%s)\n", PKID_VERSION,
		    OpenSSL_version(OPENSSL_VERSION));
		return PKICTL_EXIT_OK;
	}
	for (i = 0; cmds[i].name != NULL; i++) {
		if (strcmp(cmds[i].name, argv[1]) == 0) {
			rc = cmds[i].fn(argc - 1, argv + 1);
			OPENSSL_cleanup();
			return rc;
		}
	}
	fprintf(stderr, "error: usage: unknown command '%s'\nfix: run "
	    "'pkictl --help' for the list of commands\n", argv[1]);
	return PKICTL_EXIT_USAGE;
}
