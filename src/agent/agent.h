/*
 * agent.h - pkictl agent: keep identities (a key, its certificate, the CA
 * anchors it trusts) renewed over EST (RFC 7030) or SCEP (RFC 8894), and
 * follow the CA through a rollover, as certmonger does.
 *
 * The configuration is INI (config.c): an optional [agent] section and
 * one [identity NAME] section per identity. A pass (pass.c) looks at each
 * identity once: renews it when its renewal point (schedule.h) has come,
 * fetches the next CA ahead of need (trust.h), and says when it wants to
 * be looked at again. State that must survive a restart (back-off, the
 * failures in a row) lives in one JSON file per identity in state_dir.
 *
 * Nothing here prints or exits: decisions go to pkid_log(), errors to
 * struct pkid_err; cli/cmd_agent.c owns signals, the loop and the exit
 * status.
 */
#ifndef PKID_AGENT_AGENT_H
#define PKID_AGENT_AGENT_H

#include <signal.h>
#include <stdint.h>
#include <time.h>

#include "core/err.h"
#include "core/limits.h"
#include "core/log.h"

/* The protocol an identity renews over. */
enum pkid_agent_proto {
	PKID_AGENT_EST,		/* RFC 7030 simplereenroll */
	PKID_AGENT_SCEP,	/* RFC 8894 RenewalReq */
};

/* The keys of [identity NAME]; line[] is indexed by these. */
enum pkid_agent_key {
	PKID_AGENT_K_PROTOCOL,
	PKID_AGENT_K_URL,
	PKID_AGENT_K_LABEL,
	PKID_AGENT_K_CERT,
	PKID_AGENT_K_KEY,
	PKID_AGENT_K_CHAIN,
	PKID_AGENT_K_TRUST,
	PKID_AGENT_K_USER,
	PKID_AGENT_K_PASSWORD_FILE,
	PKID_AGENT_K_CHALLENGE_FILE,
	PKID_AGENT_K_CA,
	PKID_AGENT_K_COMPAT,
	PKID_AGENT_K_NEW_KEY,
	PKID_AGENT_K_RENEW_AT,
	PKID_AGENT_K_JITTER,
	PKID_AGENT_K_HOOK,
	PKID_AGENT_K_TIMEOUT,
	PKID_AGENT_K_MAX_WAIT,
	PKID_AGENT_K_COUNT,
};

/* One [identity NAME] section. Paths are as written in the file. */
struct pkid_agent_id {
	char name[PKID_AGENT_MAX_NAME + 1]; /* NAME */
	int line_section;		/* line of the [identity] header */
	int line[PKID_AGENT_K_COUNT];	/* line of each key, 0 unset */
	enum pkid_agent_proto proto;	/* protocol = est|scep */
	char url[PKID_AGENT_MAX_PATH];	/* EST https://HOST[:PORT], SCEP
					 * http://HOST[:PORT]/PATH */
	char label[64];			/* EST label, "" the default */
	char cert[PKID_AGENT_MAX_PATH];	/* the certificate (and, without
					 * chain, its intermediates) */
	char key[PKID_AGENT_MAX_PATH];	/* its private key (mode 0600) */
	char chain[PKID_AGENT_MAX_PATH]; /* intermediates output, "" none */
	char trust[PKID_AGENT_MAX_PATH]; /* PEM file or directory of the
					 * CA anchors, kept up to date */
	char user[PKID_MAX_EST_USER + 1]; /* EST HTTP Basic user, "" none */
	char password_file[PKID_AGENT_MAX_PATH]; /* its password */
	char challenge_file[PKID_AGENT_MAX_PATH]; /* SCEP challenge */
	char ca_name[128];		/* SCEP GetCACert message=, "" none */
	int compat;			/* SCEP: allow DES3 and SHA-1 */
	char new_key[16];		/* key type made at each renewal,
					 * "" keeps the key */
	int renew_pct;			/* renew at this % of lifetime */
	int jitter_pct;			/* jitter, % of the rest of the
					 * lifetime; -1: jitter_s instead */
	int64_t jitter_s;		/* jitter in seconds (jitter_pct -1) */
	char hook[PKID_MAX_CONFIG_VALUE]; /* sh -c command after a renewal
					 * or a trust update, "" none */
	int timeout_s;			/* one HTTP exchange, seconds */
	int max_wait_s;			/* approval wait in one pass */
};

/* The whole configuration. Large: allocate it (pkid_agent_cfg_new). */
struct pkid_agent_cfg {
	char path[PKID_AGENT_MAX_PATH];	/* the file, for messages */
	char state_dir[PKID_AGENT_MAX_PATH]; /* [agent] state_dir */
	int line_state_dir;		/* its line, 0 when defaulted */
	enum pkid_log_level log_level;	/* [agent] log_level */
	int hook_timeout_s;		/* [agent] hook_timeout */
	int64_t max_sleep_s;		/* [agent] max_sleep */
	int n_ids;			/* identities used in ids */
	struct pkid_agent_id ids[PKID_AGENT_MAX_IDENTITIES];
};

/* Defaults; the caller frees with pkid_agent_cfg_free. NULL: no memory. */
struct pkid_agent_cfg *pkid_agent_cfg_new(void);
void pkid_agent_cfg_free(struct pkid_agent_cfg *c);

/*
 * Parse text (named name in messages) into c, without looking at any
 * file it names. Errors, each naming name:line and the fix:
 * config-syntax, config-unknown-key, config-bad-value.
 */
enum pkid_code pkid_agent_cfg_parse(struct pkid_agent_cfg *c,
    const char *name, const char *text, size_t len, struct pkid_err *e);

/*
 * Read path and check everything it names before anything is renewed:
 * certificates and keys load and match, trust stores hold certificates,
 * password and challenge files are readable, output directories are
 * writable, a hook given by path is executable; state_dir is made (0700)
 * when missing. Errors: the parser's, io-open (a missing or unreadable
 * file, naming path:line), key-mismatch, the loaders'.
 */
enum pkid_code pkid_agent_cfg_load(struct pkid_agent_cfg *c,
    const char *path, struct pkid_err *e);

/* What one pass over every identity came to. */
struct pkid_agent_result {
	int renewed;			/* identities renewed */
	int not_due;			/* left alone: not yet due */
	int backing_off;		/* left alone after a failure */
	int failed;			/* failed: renewal or next CA */
	int overdue;			/* not renewable before notAfter */
	time_t next_wake;		/* earliest time any identity wants
					 * another look, 0 when none */
	struct pkid_err first;		/* the first failure, if any */
	struct pkid_err first_overdue;	/* the first renewal-overdue */
};

/*
 * One pass: each identity is looked at once, in order, at pkid_now().
 * Stops between identities when *stop becomes nonzero (SIGTERM). Every
 * decision is logged with its reason and the next wake-up. Failures are
 * counted in r, never returned: the return value is PKID_OK.
 */
enum pkid_code pkid_agent_pass(const struct pkid_agent_cfg *c,
    const volatile sig_atomic_t *stop, struct pkid_agent_result *r);

#endif
