/*
 * cmd_trust_import.c - pkictl trust import: one signed bundle into a
 * trust store with the statistics operators know (attempted, installed,
 * duplicates, expired, failed; a line per anchor), or, with --every, on
 * a schedule until SIGINT or SIGTERM: jittered, retried with back-off
 * after network failures (src/trust/import.h), the last result and the
 * next attempt in DIR/status.json (pkictl trust status).
 *
 *   pkictl trust import --store DIR --anchor FILE [--anchor FILE]...
 *       [--tls-trust FILE|DIR] [--timeout S] [--every DURATION] [--json]
 *       FILE|URL
 *
 * Exit 0 when the bundle was installed (or was current), 1 when it was
 * refused or could not be read, 2 on a usage error; with --every, 0 once
 * stopped by a signal.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "cli/cli.h"
#include "cli/trust_cli.h"
#include "cli/trust_load.h"
#include "core/clock.h"
#include "trust/import.h"

static json_t *
result_json(const struct pkid_trust_import_result *r, enum pkid_code rc,
    const struct pkid_err *e, const struct pkid_trust_status *st)
{
	json_t *certs = json_array();
	char msg[1024], t[32], n[32];
	size_t i;

	for (i = 0; i < r->n; i++) {
		const struct pkid_trust_outcome *c = &r->certs[i];

		json_array_append_new(certs, json_pack("{s:s, s:s, s:s, s:s, "
		    "s:s}", "verdict", pkid_trust_verdict_name(c->verdict),
		    "sha256", c->sha256, "subject", c->subject, "code",
		    pkid_err_id(c->code), "why", c->why));
	}
	msg[0] = '\0';
	if (rc != PKID_OK)
		pkid_err_message(e, msg, sizeof(msg));
	return json_pack("{s:b, s:s, s:s, s:s, s:I, s:I, s:s?, s:s, s:s, "
	    "s:b, s:i, s:i, s:i, s:i, s:i, s:o, s:s?}", "ok", rc == PKID_OK,
	    "code", pkid_err_id(rc), "message", msg, "remedy", rc == PKID_OK ?
	    "" : pkid_err_remedy(rc), "serial", (json_int_t)r->serial,
	    "previous", (json_int_t)r->previous, "signing_time",
	    r->signing_time ? pkid_time_fmt(r->signing_time, t, sizeof(t)) :
	    NULL, "signer", r->signer, "location", r->location, "unchanged",
	    r->unchanged, "attempted", r->attempted, "installed",
	    r->installed, "duplicates", r->duplicates, "expired", r->expired,
	    "failed", r->failed, "certificates", certs, "next_attempt",
	    st != NULL && st->next_attempt ? pkid_time_fmt(
	    (time_t)st->next_attempt, n, sizeof(n)) : NULL);
}

static void
result_text(const struct pkid_trust_import_result *r,
    const struct pkid_trust_status *st)
{
	char t[32];
	size_t i;

	if (r->fetched)
		printf("bundle: serial %lld signed %s by '%s' from %s%s\n",
		    (long long)r->serial, pkid_time_fmt(r->signing_time, t,
		    sizeof(t)), r->signer, r->location, r->unchanged ?
		    " (installed already: nothing to do)" : "");
	for (i = 0; i < r->n; i++) {
		const struct pkid_trust_outcome *c = &r->certs[i];

		printf("  %-13s %s (SHA-256 %.16s..)%s%s\n",
		    pkid_trust_verdict_name(c->verdict), c->subject, c->sha256,
		    c->why[0] != '\0' ? ": " : "", c->why);
	}
	if (r->fetched)
		printf("import: attempted %d, installed %d, duplicates %d, "
		    "expired %d, failed %d\n", r->attempted, r->installed,
		    r->duplicates, r->expired, r->failed);
	if (st != NULL && st->next_attempt != 0)
		printf("next attempt: %s\n", pkid_time_fmt(
		    (time_t)st->next_attempt, t, sizeof(t)));
	fflush(stdout);
}

/* Report one attempt; returns its exit status. */
static int
report(const struct trust_opts *o, const struct pkid_trust_import_result *r,
    enum pkid_code rc, const struct pkid_err *e,
    const struct pkid_trust_status *st)
{
	if (o->json) {
		pkictl_json_out(result_json(r, rc, e, st));
		fflush(stdout);
		return pkictl_exit_for(rc);
	}
	result_text(r, st);
	return rc == PKID_OK ? PKICTL_EXIT_OK : pkictl_print_err(e, 0);
}

/* Sleep until the next attempt; 0 when a stop signal came. */
static int
wait_next(const sigset_t *stop, int64_t next)
{
	struct timespec ts;
	int64_t left = next - (int64_t)pkid_now();

	if (left < 1)
		left = 1;
	ts.tv_sec = (time_t)left;
	ts.tv_nsec = 0;
	for (;;) {
		if (sigtimedwait(stop, NULL, &ts) >= 0)
			return 0;
		if (errno == EAGAIN)
			return 1;
		if (errno != EINTR)
			return 0;
	}
}

/* --every: attempts until SIGINT or SIGTERM. */
static int
every(const struct trust_opts *o, struct pkid_trust_import_opts *io)
{
	struct pkid_trust_import_result r;
	struct pkid_trust_status st;
	struct pkid_err e;
	sigset_t stop;
	enum pkid_code rc;

	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	/* Blocked, the signals wait for sigtimedwait: a stop during an
	 * import lets it finish its commit. */
	sigprocmask(SIG_BLOCK, &stop, NULL);
	memset(&r, 0, sizeof(r));
	do {
		pkid_err_clear(&e);
		memset(&st, 0, sizeof(st));
		rc = pkid_trust_import_scheduled(io, o->every, &r, &st, &e);
		(void)report(o, &r, rc, &e, &st);
		pkid_trust_import_result_clear(&r);
	} while (wait_next(&stop, st.next_attempt));
	return PKICTL_EXIT_OK;
}

int
pkictl_trust_import(struct trust_opts *o)
{
	struct pkid_trust_import_opts io;
	struct pkid_trust_import_result r;
	STACK_OF(X509) *anchors = NULL, *tls = NULL;
	struct pkid_err e;
	const char *tp[1];
	enum pkid_code rc;
	int status;

	memset(&r, 0, sizeof(r));
	pkid_err_clear(&e);
	if (o->store == NULL || o->nanchors == 0 || o->nargs != 2)
		return pkictl_usage_err(TRUST_USAGE, "import needs --store DIR, "
		    "--anchor FILE (the bundle publisher's anchor, e.g. a pkid "
		    "CA's root.pem) and one FILE or URL");
	tp[0] = o->tls_trust;
	if (pkictl_trust_load(o->anchors, (size_t)o->nanchors, &anchors,
	    &e) != PKID_OK || (o->tls_trust != NULL && pkictl_trust_load(tp,
	    1, &tls, &e) != PKID_OK)) {
		status = pkictl_print_err(&e, o->json);
		goto out;
	}
	memset(&io, 0, sizeof(io));
	io.store = o->store;
	io.source = o->args[1];
	io.anchors = anchors;
	io.tls_trust = tls;
	io.timeout_s = o->timeout_s;
	if (o->every > 0) {
		status = every(o, &io);
		goto out;
	}
	rc = pkid_trust_import_scheduled(&io, 0, &r, NULL, &e);
	status = report(o, &r, rc, &e, NULL);
out:
	pkid_trust_import_result_clear(&r);
	sk_X509_pop_free(anchors, X509_free);
	sk_X509_pop_free(tls, X509_free);
	return status;
}
