/*
 * trust_cli.h - what the files of pkictl trust share (cmd_trust.c,
 * cmd_trust_import.c).
 */
#ifndef PKID_CLI_TRUST_CLI_H
#define PKID_CLI_TRUST_CLI_H

#include <stdint.h>

#include "core/err.h"

#define TRUST_USAGE \
	"pkictl trust bundle create --sign-cert C --sign-key K " \
	"[--chain FILE] --serial N --out BUNDLE.p7b CERT|DIR... | " \
	"trust bundle show [--anchor FILE]... [--json] BUNDLE.p7b | " \
	"trust import --store DIR --anchor FILE [--anchor FILE]... " \
	"[--tls-trust FILE|DIR] [--timeout S] [--every DURATION] [--json] " \
	"FILE|URL | trust list --store DIR [--json] | " \
	"trust remove --store DIR SHA256|SKI | " \
	"trust export --store DIR --format pem-dir|pem-bundle|p7b " \
	"--out PATH | trust status --store DIR [--json]"
/* Most --anchor and CERT arguments. */
#define TRUST_MAX_ARGS 64

/* The parsed command line of any trust subcommand. */
struct trust_opts {
	const char *store;		/* --store */
	const char *anchors[TRUST_MAX_ARGS]; /* --anchor values */
	int nanchors;			/* how many */
	const char *tls_trust;		/* --tls-trust */
	int timeout_s;			/* --timeout, 0: default */
	int64_t every;			/* --every seconds, 0: once */
	int json;			/* --json */
	const char *format;		/* --format */
	const char *out;		/* --out */
	const char *sign_cert;		/* --sign-cert */
	const char *sign_key;		/* --sign-key */
	const char *chain;		/* --chain */
	int64_t serial;			/* --serial, -1: not given */
	const char *args[TRUST_MAX_ARGS]; /* positional arguments */
	int nargs;			/* how many */
};

/* pkictl trust import (cmd_trust_import.c). */
int pkictl_trust_import(struct trust_opts *o);

#endif
