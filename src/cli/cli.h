/*
 * cli.h - what every pkictl subcommand shares: rendering errors, exit codes,
 * option helpers. Only cli/ and pkid.c print.
 */
#ifndef PKID_CLI_CLI_H
#define PKID_CLI_CLI_H

#include <stdint.h>
#include <stdio.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/err.h"

/* Exit status: 0 success, 1 the operation or check failed (not-found
 * too), 2 usage/config (README "Exit status"). */
enum pkictl_exit {
	PKICTL_EXIT_OK = 0,
	PKICTL_EXIT_FAIL = 1,
	PKICTL_EXIT_USAGE = 2,
};

/*
 * Print an error as
 *   error: <code>: <message>
 *   fix: <remedy>
 * on stderr, or as one JSON object {"code","message","remedy",...} on
 * stdout when json is set. Returns the exit status the error maps to
 * (2 for USAGE-category codes but not-found, 1 otherwise).
 */
int pkictl_print_err(const struct pkid_err *e, int json);
/* Exit status for a code (as pkictl_print_err). */
int pkictl_exit_for(enum pkid_code code);
/* Print "error: usage: <msg>" and the usage text; returns 2. */
int pkictl_usage_err(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * s for a terminal: control characters (escape sequences a requester
 * could have put in a name) become '?'; cut to fit out (len bytes).
 */
const char *pkictl_safe(const char *s, char *out, size_t len);
struct json_t;
/*
 * A JSON string of s (NULL: ""), with bytes that are not UTF-8 replaced
 * by '?' rather than losing the value (jansson refuses them). New ref.
 */
struct json_t *pkictl_json_str(const char *s);
/*
 * A time from the command line: RFC 3339 (offsets allowed), or a
 * duration back from now ("7d", "12h", "30m"). bad-time otherwise.
 */
enum pkid_code pkictl_time_or_ago(const char *s, int64_t *out,
    struct pkid_err *e);

/* The CA directory: --dir value, else $PKID_DIR, else ./var/demo. */
const char *pkictl_dir(const char *opt);

/*
 * A password from --password VALUE (opt; other users see it in the
 * process list), else --password-file FILE (file; "-" is standard
 * input; its first line, without the line end), else the environment
 * variable env (NULL: none). opt and the variable's value are wiped in
 * place once read. Giving both opt and file is a usage error.
 * out (len bytes, wiped on error) gets it, "" when none was given; the
 * caller wipes it after use (OPENSSL_cleanse). Errors: usage (both, too
 * long, an empty file), io-open, io-read.
 */
enum pkid_code pkictl_password(const char *opt, const char *file,
    const char *env, char *out, size_t len, struct pkid_err *e);

/* pkictl ca plan --simulate and its options (cmd_plan_sim.c). */
struct pkictl_sim_args {
	int on;			/* --simulate */
	uint32_t devices;	/* --devices N (10,000) */
	int years;		/* --years Y (6) */
	uint64_t seed;		/* --seed S (1) */
	const char *timers;	/* --timers ios|pkid|FILE (pkid) */
	int json;		/* --json */
};
/* Run the fleet simulator and print what it measured; exit status. */
int pkictl_plan_simulate(const struct pkictl_sim_args *a);
/* pkictl ca plan (cmd_plan.c): argv[0] is "plan". */
int pkictl_cmd_ca_plan(int argc, char **argv);

/* Each subcommand: argv[0] is the subcommand's own name. */
int pkictl_cmd_ca(int argc, char **argv);
struct pkid_ca;
/* pkictl ca show / ca rollover (cmd_ca_gen.c). */
int pkictl_ca_show(struct pkid_ca *ca, int json, struct pkid_err *e);
int pkictl_ca_rollover(struct pkid_ca *ca, int now, const char *activate_at,
    int json, struct pkid_err *e);
int pkictl_cmd_show(int argc, char **argv);
int pkictl_cmd_verify(int argc, char **argv);
int pkictl_cmd_diagnose(int argc, char **argv);
int pkictl_cmd_explain(int argc, char **argv);
int pkictl_cmd_scep(int argc, char **argv);
int pkictl_cmd_est(int argc, char **argv);
/* pkictl ca audit (cmd_ca_audit.c): argv[0] is "audit". */
int pkictl_cmd_ca_audit(int argc, char **argv);
/* pkictl trust bundle|import|list|remove|export|status (cmd_trust.c). */
int pkictl_cmd_trust(int argc, char **argv);
/* pkictl enroll|renew est|scep: argv[1] picks the protocol. */
int pkictl_cmd_enroll(int argc, char **argv);
int pkictl_cmd_renew(int argc, char **argv);
/* pkictl agent --config FILE [--once] (cmd_agent.c). */
int pkictl_cmd_agent(int argc, char **argv);
/* The SCEP client's halves (cmd_scep_client.c); argv[0] is "scep". */
int pkictl_cmd_enroll_scep(int argc, char **argv);
int pkictl_cmd_renew_scep(int argc, char **argv);
/* SCEP client (cmd_scep_client.c): argv[0] is "scep" for enroll and
 * renew, the operation ("getcaps", "getca", "getnextca") for get. */
int pkictl_cmd_enroll_scep(int argc, char **argv);
int pkictl_cmd_renew_scep(int argc, char **argv);
int pkictl_cmd_scep_get(int argc, char **argv);
/*
 * A certificate the server issued that pkictl could not accept or write
 * (orphan.c): written as OUT.unverified.pem (or OUT.orphan.pem when it
 * verified and only writing failed) with the CA certificates the server
 * sent, and the key pkictl made as OUT.unverified.key (0600); then, on
 * stderr, the serial, the files and a remedy naming the trust to pass.
 */
struct pkictl_orphan {
	X509 *cert;		/* what the server issued */
	STACK_OF(X509) *cas;	/* the CA certificates it sent, or NULL */
	EVP_PKEY *new_key;	/* the key pkictl made for it, or NULL */
	const char *key_path;	/* else the key's own file, or NULL */
	const char *out;	/* --out */
	int verified;		/* it verified: only the write failed */
	const char *cacert;	/* the --cacert given, or NULL */
	const char *retry;	/* the command to run again, e.g. "pkictl
				 * enroll est --server URL ..." */
};
void pkictl_orphan_save(const struct pkictl_orphan *o);

/* pkictl CMD... --help and pkictl help [CMD...] (help.c): argv holds
 * the command words (options are dropped). */
int pkictl_help(int argc, char **argv);
/* pkictl help --scdoc: pkictl(1) as scdoc source, from the same table. */
int pkictl_help_scdoc(void);

#endif
