/*
 * help.c - `pkictl CMD --help` for every subcommand (a screen each, with
 * an example), `pkictl help [CMD]`, and the same table as the scdoc
 * source of pkictl(1) (`pkictl help --scdoc`), so the manual and the
 * tool never drift apart.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

struct help {
	const char *cmd;	/* the words, "ca init" */
	const char *synopsis;	/* its command line */
	const char *what;	/* one line: what it does */
	const char *opts;	/* lines "  --opt  what", may be "" */
	const char *example;	/* one example */
};

/* SCEP client commands: --server, as EST's, with --url its alias. */
#define SCEP_SERVER_OPT "  --server URL     the SCEP URL, e.g. " \
	"http://HOST:8080/scep (alias --url)\n"

#define DIR_OPT "  --dir DIR        CA directory (default $PKID_DIR, then " \
	"./var/demo)\n"

static const struct help tab[] = {
	{ "ca init", "pkictl ca init [--dir DIR] [--subject DN] "
	    "[--domain SUFFIX,...] [--ip-ranges CIDR,...] [--key TYPE] "
	    "[--key-uri pkcs11:URI] [--days N] [--root-only] "
	    "[--set SECTION.KEY=VALUE]...",
	    "create a CA: root, issuing CA, pkid.conf, store, TLS and RA "
	    "certificates",
	    DIR_OPT "  --domain         DNS suffixes the profiles allow (\"*\": any)\n"
	    "  --ip-ranges      IP ranges the profiles allow\n"
	    "  --key            ec-p256 (default), ec-p384, rsa-2048..rsa-4096\n"
	    "  --key-uri        CA keys in a PKCS#11 token, made there unless\n"
	    "                   present (pkcs11:token=T;object=L; the root's\n"
	    "                   is L-root); PIN from --set hsm.pin_file=F\n"
	    "                   or hsm.pin_env=VAR, module hsm.module=SO\n"
	    "  --set            any pkid.conf key, e.g. server.listen=0.0.0.0:"
	    "8443\n",
	    "pkictl ca init --dir /var/lib/pkid --subject 'CN=Example CA' "
	    "--domain example.com" },
	{ "ca issue", "pkictl ca issue [--dir DIR] --csr FILE [--profile NAME] "
	    "[--out FILE] [--json]", "issue a certificate from a CSR, "
	    "offline, with every check pkid makes",
	    DIR_OPT "  --profile        profile of pkid.conf (default device)\n",
	    "pkictl ca issue --csr dev.csr --profile server --out dev.pem" },
	{ "ca chain", "pkictl ca chain [--dir DIR] [--out FILE]",
	    "the CA chain, issuing CA first, as PEM", DIR_OPT,
	    "pkictl ca chain --out chain.pem" },
	{ "ca list", "pkictl ca list [--dir DIR] [--expiring DURATION] "
	    "[--revoked] [--subject PATTERN] [--limit N] [--json]",
	    "the certificates in the store, or those a filter selects",
	    DIR_OPT "  --expiring       unrevoked, expiring within DURATION "
	    "(30d, 12h), soonest first\n"
	    "  --revoked        revoked ones (status on-hold: certificateHold)\n"
	    "  --subject        PATTERN in the subject or SANs; '*' any run\n",
	    "pkictl ca list --expiring 30d --subject '*.lab.example.com'" },
	{ "ca revoke", "pkictl ca revoke [--dir DIR] SERIAL [--reason R]",
	    "revoke a certificate (the next CRL lists it)",
	    DIR_OPT "  --reason         keyCompromise, superseded, "
	    "cessationOfOperation, ...\n",
	    "pkictl ca revoke 3f2a...c1 --reason keyCompromise" },
	{ "ca unrevoke", "pkictl ca unrevoke [--dir DIR] SERIAL",
	    "lift a certificateHold (other reasons are final)", DIR_OPT,
	    "pkictl ca unrevoke 3f2a...c1" },
	{ "ca crl", "pkictl ca crl [--dir DIR] [--out FILE] [--der]",
	    "make and sign a CRL now", DIR_OPT,
	    "pkictl ca crl --der --out ca.crl" },
	{ "ca pending", "pkictl ca pending [--dir DIR] [--json]",
	    "requests waiting for approval: subject, SANs, key, requester",
	    DIR_OPT "  --json           one array: id, kind, subject, sans, key, "
	    "requester, ...\n", "pkictl ca pending" },
	{ "ca approve", "pkictl ca approve [--dir DIR] ID [--out FILE]",
	    "issue a pending request and say what was issued; the client's "
	    "next poll gets it", DIR_OPT "  --out            write the "
	    "certificate (PEM) there too\n", "pkictl ca approve 17" },
	{ "ca reject", "pkictl ca reject [--dir DIR] ID [--reason TEXT]",
	    "refuse a pending request and say what was refused", DIR_OPT
	    "  --reason         why, for the client and the audit log\n",
	    "pkictl ca reject 17 --reason 'unknown device'" },
	{ "ca audit", "pkictl ca audit [--dir DIR] [--since TIME] [--limit N] "
	    "[--before ID] [--json]", "the append-only audit log, newest "
	    "last, a page at a time", DIR_OPT "  --since          RFC 3339 "
	    "time, or a duration back from now (7d, 12h)\n"
	    "  --limit          entries per page (default 50, at most 10000)\n"
	    "  --before         the page before entry ID (stderr names it)\n",
	    "pkictl ca audit --since 7d --limit 20" },
	{ "ca show", "pkictl ca show [--dir DIR] [--json]",
	    "the CA's generations and the dates of its next rollover", DIR_OPT,
	    "pkictl ca show" },
	{ "ca rollover", "pkictl ca rollover [--dir DIR] [--now | "
	    "--activate-at TIME]", "make the next CA generation now, or move "
	    "its activation", DIR_OPT "  --now            make it (or "
	    "activate it) now\n  --activate-at    when it takes over "
	    "issuance\n", "pkictl ca rollover --activate-at 2027-06-01T00:00:00Z" },
	{ "ca plan", "pkictl ca plan [--dir DIR] [--svg FILE | --html FILE] "
	    "[--json] [--at TIME] | pkictl ca plan --simulate [--devices N] "
	    "[--years Y] [--timers ios|pkid|FILE] [--seed S] [--json]",
	    "the rollover timeline as text, SVG or HTML; --simulate a fleet",
	    DIR_OPT "  --svg, --html    write the picture\n"
	    "  --simulate       renew a simulated fleet through rollovers\n",
	    "pkictl ca plan --html plan.html" },
	{ "show", "pkictl show [--json] [--at TIME] FILE...",
	    "describe certificates, CSRs, CRLs, PKCS#7, keys, EST bodies",
	    "  --at             judge validity at TIME instead of now\n",
	    "pkictl show dev.pem" },
	{ "verify", "pkictl verify [--trust FILE|DIR]... [--untrusted FILE]... "
	    "[--host NAME | --ip ADDR] [--purpose server|client|any] "
	    "[--at TIME] [--crl FILE]... [--json] CERT",
	    "validate a certificate path (RFC 5280) and say why not",
	    "  --trust          anchors (default: the system's)\n"
	    "  --untrusted      intermediates\n  --host, --ip     the name "
	    "to match (RFC 9525)\n  --purpose        what the key is "
	    "for (default: from its extKeyUsage)\n",
	    "pkictl verify --trust root.pem --untrusted issuing.pem --host "
	    "dev1.example.com dev.pem" },
	{ "diagnose", "pkictl diagnose https://HOST[:PORT] [--sni NAME] "
	    "[--trust FILE|DIR]... [--timeout S] [--json] | pkictl diagnose "
	    "certsrv+https://HOST/certsrv --trust FILE --user U "
	    "--password-file F [--auth basic|ntlm]",
	    "probe a TLS server step by step and explain each failure",
	    "  --trust          anchors for the server's chain\n"
	    "  --user, --password-file, --auth   AD CS web enrollment: log in\n"
	    "                   as the RA's service account after the TLS steps\n",
	    "pkictl diagnose https://localhost:8443 --trust var/demo/root.pem" },
	{ "explain", "pkictl explain CODE|NUMBER [--json] | pkictl explain "
	    "--list [--json]", "what an error code means and what to do",
	    "  CODE|NUMBER      its name, or the number explain prints "
	    "(65546, 0x01000a)\n  --list           every code of the "
	    "catalogue\n",
	    "pkictl explain unknown-issuer" },
	{ "scep challenge new", "pkictl scep challenge new [--dir DIR] "
	    "[--profile NAME] [--ttl 1h]", "a one-time SCEP challenge "
	    "password, printed on the last line", DIR_OPT "  --ttl            "
	    "how long it may be used (default 1h)\n",
	    "pkictl scep challenge new --profile device --ttl 30m" },
	{ "scep challenge list", "pkictl scep challenge list [--dir DIR] "
	    "[--json]", "one-time SCEP challenges: id, profile, dates, state "
	    "(never the secret)", DIR_OPT,
	    "pkictl scep challenge list" },
	{ "scep challenge revoke", "pkictl scep challenge revoke [--dir DIR] "
	    "ID", "make an unused one-time SCEP challenge unusable "
	    "(audited)", DIR_OPT "  ID               8 or more hex digits "
	    "of its id ('scep challenge list')\n",
	    "pkictl scep challenge revoke 3f2a9c01b7de" },
	{ "scep ra-cert", "pkictl scep ra-cert [--dir DIR]", "RA mode: a new "
	    "SCEP RA key and certificate from the upstream CA over EST",
	    DIR_OPT, "pkictl scep ra-cert --dir /var/lib/pkid-ra" },
	{ "scep getcaps", "pkictl scep getcaps --server URL [--ca NAME]",
	    "a SCEP server's capabilities (GetCACaps)", SCEP_SERVER_OPT,
	    "pkictl scep getcaps --server http://127.0.0.1:8080/scep" },
	{ "scep getca", "pkictl scep getca --server URL [--ca NAME] "
	    "[--out FILE] [--cacert FILE | --ca-fingerprint SHA256 | "
	    "--insecure-tofu]",
	    "a SCEP server's CA and RA certificates, with fingerprints",
	    SCEP_SERVER_OPT "  --out            write them (needs a pin or "
	    "--insecure-tofu)\n",
	    "pkictl scep getca --server http://127.0.0.1:8080/scep" },
	{ "scep getnextca", "pkictl scep getnextca --server URL [--ca NAME] "
	    "[--cacert FILE | --ca-fingerprint SHA256]",
	    "the next CA generation (GetNextCACert), its signature checked",
	    SCEP_SERVER_OPT, "pkictl scep getnextca --server "
	    "http://127.0.0.1:8080/scep --cacert root.pem" },
	{ "est user add", "pkictl est user add [--dir DIR] NAME "
	    "[--password-file FILE|-]", "add or change an EST HTTP Basic user "
	    "(password of 12 characters or more)", DIR_OPT
	    "  --password-file  first line of FILE (- is stdin), else "
	    "$PKID_EST_PASSWORD\n"
	    "  --password PW    works too, but others see it in the process "
	    "list\n", "pkictl est user add alice "
	    "--password-file alice.pw" },
	{ "est user list", "pkictl est user list [--dir DIR] [--json]",
	    "EST HTTP Basic users and when each was set",
	    DIR_OPT, "pkictl est user list" },
	{ "est user del", "pkictl est user del [--dir DIR] NAME",
	    "delete an EST user (their password stops working)", DIR_OPT,
	    "pkictl est user del alice" },
	{ "est user passwd", "pkictl est user passwd [--dir DIR] NAME "
	    "[--password-file FILE|-]", "a new password for an existing EST "
	    "user", DIR_OPT
	    "  --password-file  first line of FILE (- is stdin), else "
	    "$PKID_EST_PASSWORD\n",
	    "pkictl est user passwd alice --password-file alice.pw" },
	{ "enroll est", "pkictl enroll est --server URL [--label L] (--user U "
	    "[--password-file F] | --cert C --key K) (--cacert FILE | "
	    "--bootstrap-fingerprint SHA256) [--new-key ec-p256|rsa-2048] "
	    "[--subject DN] [--san DNS:N|IP:A]... --out FILE",
	    "get a certificate over EST (RFC 7030)",
	    "  --cacert         the CA the server must chain to\n"
	    "  --password-file  the password (else stdin or PKID_EST_PASSWORD);"
	    "\n                   never an argument: the process list shows "
	    "those\n"
	    "  --key-out        where a new key goes (default: --out with "
	    ".key)\n"
	    "  --password-file  the password's file (- is stdin), else "
	    "$PKID_EST_PASSWORD\n"
	    "  --password PW    works too, but others see it in the process "
	    "list\n", "pkictl enroll est --server https://localhost:8443 "
	    "--user alice --password-file alice.pw --cacert root.pem --san "
	    "DNS:dev2.example.com --out dev2.pem" },
	{ "enroll scep", "pkictl enroll scep --server URL --challenge PW "
	    "(--key FILE | --new-key rsa-2048) --subject DN [--san T:V]... "
	    "--out FILE (--cacert FILE | --ca-fingerprint SHA256 | "
	    "--insecure-tofu)", "get a certificate over SCEP (RFC 8894)",
	    SCEP_SERVER_OPT "  --cacert         the CA GetCACert's answer must "
	    "chain to\n",
	    "pkictl enroll scep --server http://127.0.0.1:8080/scep "
	    "--challenge PW --new-key rsa-2048 --subject CN=dev3.example.com "
	    "--cacert root.pem --out dev3.pem" },
	{ "renew est", "pkictl renew est --server URL [--label L] --cert C "
	    "--key K [--cacert FILE] [--new-key ec-p256|rsa-2048] --out FILE",
	    "renew a certificate over EST (simplereenroll)",
	    "  --new-key        a new key instead of K (to --key-out)\n",
	    "pkictl renew est --server https://localhost:8443 --cert dev2.pem "
	    "--key dev2.key --out dev2-new.pem" },
	{ "renew scep", "pkictl renew scep --server URL --cert FILE --key FILE "
	    "--out FILE [--cacert FILE] [--new-key rsa-2048 --key-out FILE]",
	    "renew a certificate over SCEP (RenewalReq)", SCEP_SERVER_OPT,
	    "pkictl renew scep --server http://127.0.0.1:8080/scep --cert "
	    "dev3.pem --key dev3.key --out dev3-new.pem" },
	{ "agent", "pkictl agent --config FILE [--once]", "keep the "
	    "identities of FILE renewed (EST or SCEP), ahead of CA rollovers",
	    "  --once           one pass, then exit (0: nothing failed)\n",
	    "pkictl agent --config /etc/pkid/agent.conf --once" },
	{ "trust bundle create", "pkictl trust bundle create --sign-cert C "
	    "--sign-key K [--chain FILE] --serial N --out BUNDLE.p7b "
	    "CERT|DIR...", "make a signed trust bundle (docs/trust-bundle.md)",
	    "  --serial         bundle serial; importers refuse a lower one\n"
	    "  --chain          certificates from the signer to the anchor\n",
	    "pkictl trust bundle create --sign-cert s.pem --sign-key s.key "
	    "--serial 7 --out roots.p7b roots/" },
	{ "trust bundle show", "pkictl trust bundle show [--anchor FILE]... "
	    "[--json] BUNDLE.p7b", "what a signed trust bundle holds, and "
	    "whether its signer chains to --anchor",
	    "  --anchor         pinned anchor the signer must chain to\n",
	    "pkictl trust bundle show --anchor pin.pem roots.p7b" },
	{ "trust import", "pkictl trust import --store DIR --anchor FILE... "
	    "[--tls-trust FILE|DIR] [--timeout S] [--every DURATION] [--json] "
	    "FILE|URL", "install a signed bundle into a trust store (with "
	    "--every: on a schedule)",
	    "  --anchor         pinned bundle anchor (repeatable)\n"
	    "  --every          e.g. 1d: import until stopped, with back-off\n",
	    "pkictl trust import --store /etc/pkid/trust --anchor pin.pem "
	    "https://pki.example.com/trust/bundle.p7b" },
	{ "trust list", "pkictl trust list --store DIR [--json]",
	    "the anchors of a trust store", "",
	    "pkictl trust list --store /etc/pkid/trust" },
	{ "trust remove", "pkictl trust remove --store DIR SHA256|SKI",
	    "remove one anchor from a trust store", "",
	    "pkictl trust remove --store /etc/pkid/trust 3f2a...c1" },
	{ "trust export", "pkictl trust export --store DIR --format "
	    "pem-dir|pem-bundle|p7b --out PATH", "write a trust store for "
	    "other software (OpenSSL CApath, a PEM bundle, PKCS#7)", "",
	    "pkictl trust export --store /etc/pkid/trust --format pem-bundle "
	    "--out /etc/ssl/pkid.pem" },
	{ "trust status", "pkictl trust status --store DIR [--json]",
	    "the last import's result and the next attempt", "",
	    "pkictl trust status --store /etc/pkid/trust" },
	{ "version", "pkictl version", "pkictl's and OpenSSL's versions", "",
	    "pkictl version" },
};

#define NTAB (sizeof(tab) / sizeof(tab[0]))

/* The entry whose words begin argv (longest first), or NULL. */
static const struct help *
find(int argc, char **argv)
{
	char words[64];
	size_t i;
	int n;

	for (n = argc < 3 ? argc : 3; n >= 1; n--) {
		if (n == 3)
			snprintf(words, sizeof(words), "%s %s %s", argv[0],
			    argv[1], argv[2]);
		else if (n == 2)
			snprintf(words, sizeof(words), "%s %s", argv[0],
			    argv[1]);
		else
			snprintf(words, sizeof(words), "%s", argv[0]);
		for (i = 0; i < NTAB; i++)
			if (strcmp(tab[i].cmd, words) == 0)
				return &tab[i];
	}
	return NULL;
}

/* Print s wrapped at 78 columns, continuation lines indented. */
static void
wrap(const char *s, int start, int indent)
{
	int col = start, first = 1;
	size_t n;

	while (*s != '\0') {
		n = strcspn(s, " ");
		if (!first && col + 1 + (int)n > 78) {
			printf("\n%*s", indent, "");
			col = indent;
		} else if (!first) {
			putchar(' ');
			col++;
		}
		printf("%.*s", (int)n, s);
		col += (int)n;
		first = 0;
		s += n;
		s += strspn(s, " ");
	}
	putchar('\n');
}

static void
print_one(const struct help *h)
{
	printf("usage: ");
	wrap(h->synopsis, 7, 7);
	printf("%s\n", h->what);
	if (h->opts[0] != '\0')
		printf("%s", h->opts);
	printf("example:\n  ");
	wrap(h->example, 2, 4);
	printf("pkictl explain CODE tells what an error code means.\n");
}

/* How many entries of tab lie under the words w ("ca", "trust bundle"). */
static size_t
count_under(const char *w)
{
	size_t i, n = strlen(w), under = 0;

	for (i = 0; i < NTAB; i++)
		under += strncmp(tab[i].cmd, w, n) == 0 && tab[i].cmd[n] == ' ';
	return under;
}

int
pkictl_help(int argc, char **argv)
{
	const struct help *h;
	char words[64], alias[2][16];
	char *av[3];
	size_t i, n, under;
	int k;

	/* The command words end at the first option: "ca init --dir X
	 * --help" is "ca init". */
	for (k = 0; k < argc && argv[k][0] != '-'; k++)
		;
	argc = k;
	/* pkictl scep enroll|renew: the alias of enroll|renew scep. */
	if (argc >= 2 && strcmp(argv[0], "scep") == 0 &&
	    (strcmp(argv[1], "enroll") == 0 || strcmp(argv[1], "renew") ==
	    0)) {
		snprintf(alias[0], sizeof(alias[0]), "%s", argv[1]);
		snprintf(alias[1], sizeof(alias[1]), "scep");
		av[0] = alias[0];
		av[1] = alias[1];
		av[2] = argc > 2 ? argv[2] : NULL;
		argv = av;
		argc = argc > 3 ? 3 : argc;
	}
	if (argc > 0 && (h = find(argc, argv)) != NULL) {
		print_one(h);
		return PKICTL_EXIT_OK;
	}
	/* "pkictl est --help", "pkictl trust bundle --help": the commands
	 * under those words, in full when they fit on a screen, else one
	 * line each. */
	if (argc == 1 || argc == 2) {
		snprintf(words, sizeof(words), "%s%s%s", argv[0], argc == 2 ?
		    " " : "", argc == 2 ? argv[1] : "");
		n = strlen(words);
		under = count_under(words);
		for (i = 0; i < NTAB && under > 0; i++) {
			if (strncmp(tab[i].cmd, words, n) != 0 ||
			    tab[i].cmd[n] != ' ')
				continue;
			if (under <= 2)
				print_one(&tab[i]);
			else
				printf("  pkictl %-19s %.50s\n", tab[i].cmd,
				    tab[i].what);
		}
		if (under > 2)
			printf("pkictl %s SUBCOMMAND --help: its options and an "
			    "example\n", words);
		if (under > 0)
			return PKICTL_EXIT_OK;
	}
	if (argc > 0) {
		/* No such command: say so, as running it would. */
		fprintf(stderr, "error: usage: no command 'pkictl %s%s%s'\n"
		    "fix: run 'pkictl help' for the list of commands\n",
		    argv[0], argc > 1 && count_under(argv[0]) > 0 ? " " : "",
		    argc > 1 && count_under(argv[0]) > 0 ? argv[1] : "");
		return PKICTL_EXIT_USAGE;
	}
	printf("usage: pkictl COMMAND [options]; pkictl COMMAND --help for "
	    "one\n");
	for (i = 0; i < NTAB; i++)
		printf("  %-22s %.54s\n", tab[i].cmd, tab[i].what);
	return PKICTL_EXIT_OK;
}

/* scdoc text: *, _, and \ would start markup. */
static void
sc(const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '*' || *s == '_' || *s == '\\' || *s == '<')
			putchar('\\');
		putchar(*s);
	}
}

int
pkictl_help_scdoc(void)
{
	const char *p, *nl;
	size_t i;

	printf("pkictl(1)\n\n# NAME\n\npkictl - administer a pkid CA, "
	    "enroll, verify and diagnose certificates\n\n# SYNOPSIS\n\n"
	    "*pkictl* _COMMAND_ [_options_]\n\n*pkictl* _COMMAND_ *--help*\n\n"
	    "# DESCRIPTION\n\npkictl is the tool of pkid(8): CA administration "
	    "over the CA directory pkid serves (pkid.conf(5)), EST and SCEP "
	    "clients, path validation, TLS diagnosis and the error catalogue."
	    " Every failure prints *error:* _code_*:* _message_ and *fix:* "
	    "_remedy_; the exit status is 0 on success, 1 when the operation "
	    "or check failed, 2 for usage and configuration errors.\n\n"
	    "# COMMANDS\n\n");
	for (i = 0; i < NTAB; i++) {
		printf("*");
		sc(tab[i].cmd);
		printf("*\n\t");
		sc(tab[i].what);
		printf(".\n\n\t");
		sc(tab[i].synopsis);
		printf("\n\n");
		for (p = tab[i].opts; *p != '\0'; p = nl + 1) {
			char opt[128], desc[256];
			size_t k;

			if ((nl = strchr(p, '\n')) == NULL)
				break;
			p += strspn(p, " ");
			/* "--opt ARG    what": the option, then its text. */
			for (k = 0; p + k < nl && !(p[k] == ' ' &&
			    p[k + 1] == ' '); k++)
				;
			snprintf(opt, sizeof(opt), "%.*s", (int)k, p);
			p += k;
			p += strspn(p, " ");
			snprintf(desc, sizeof(desc), "%.*s", (int)(nl - p), p);
			printf("\t*");
			sc(opt);
			printf("*: ");
			sc(desc);
			printf("\n\n");
		}
		printf("\tExample: ");
		sc(tab[i].example);
		printf("\n\n");
	}
	printf("# ENVIRONMENT\n\n*PKID_DIR*\n\tthe CA directory when --dir is "
	    "not given.\n\n*PKID_EST_PASSWORD*\n\tthe EST password when no "
	    "--password-file is given.\n\n# SEE ALSO\n\npkid(8), pkid.conf(5)"
	    "\n");
	return PKICTL_EXIT_OK;
}
