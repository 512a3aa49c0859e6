/*
 * cmd_agent.c - pkictl agent --config FILE [--once]: keep the identities
 * of FILE renewed (src/agent/). With --once, one pass and an exit status
 * for cron or a systemd timer; without, passes until SIGTERM or SIGINT,
 * sleeping until the earliest wake-up any identity asked for (at most
 * [agent] max_sleep). SIGHUP starts a pass at once.
 *
 * Exit status: 0 nothing failed; 1 a renewal or a next-CA fetch failed,
 * or (renewal-overdue) an identity cannot be renewed before its
 * certificate ends; 2 usage or a refused configuration (nothing renewed).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "agent/agent.h"
#include "agent/schedule.h"
#include "cli/cli.h"
#include "core/clock.h"
#include "core/log.h"

static const char usage[] =
    "usage: pkictl agent --config FILE [--once]\n"
    "  Renews each [identity NAME] of FILE (EST or SCEP) at renew_at of\n"
    "  its lifetime plus jitter, fetches the next CA ahead of a rollover,\n"
    "  and runs its hook. --once: one pass, then exit (0 when nothing\n"
    "  failed, 1 on a failure or renewal-overdue). Without --once it runs\n"
    "  until SIGTERM; SIGHUP starts a pass at once. See README \"Renewal\n"
    "  agent\" for the configuration.\n";

/* Set by the signal handler; the only mutable global of the command. */
static volatile sig_atomic_t got_stop;
static volatile sig_atomic_t got_hup;

static void
on_signal(int sig)
{
	if (sig == SIGHUP)
		got_hup = 1;
	else
		got_stop = 1;
}

static int
parse(int argc, char **argv, const char **config, int *once)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "once", no_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	optind = 1;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'c': *config = optarg; break;
		case 'o': *once = 1; break;
		case 'h': fputs(usage, stdout); return -1;
		default:
			return pkictl_usage_err(usage, "unknown or incomplete "
			    "option '%s'", argv[optind - 1]);
		}
	}
	if (optind != argc)
		return pkictl_usage_err(usage, "unexpected argument '%s'",
		    argv[optind]);
	if (*config == NULL)
		return pkictl_usage_err(usage, "--config FILE is required");
	return 0;
}

/* The exit status of a pass, with its error printed. */
static int
pass_status(const struct pkid_agent_result *r)
{
	if (r->overdue > 0) {
		(void)pkictl_print_err(&r->first_overdue, 0);
		return PKICTL_EXIT_FAIL;
	}
	if (r->failed > 0) {
		(void)pkictl_print_err(&r->first, 0);
		return PKICTL_EXIT_FAIL;
	}
	return PKICTL_EXIT_OK;
}

static void
install_handlers(sigset_t *set)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGTERM, &sa, NULL);
	(void)sigaction(SIGINT, &sa, NULL);
	(void)sigaction(SIGHUP, &sa, NULL);
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
}

/* Sleep s seconds or until a signal: signals are blocked outside this
 * wait and during it taken by sigtimedwait, so none is lost. */
static void
sleep_signalled(const sigset_t *set, int64_t s)
{
	struct timespec ts = { (time_t)s, 0 };
	int sig;

	sig = sigtimedwait(set, NULL, &ts);
	if (sig == SIGHUP)
		got_hup = 1;
	else if (sig == SIGTERM || sig == SIGINT)
		got_stop = 1;
}

/* Passes until a signal stops them. */
static int
run_loop(const struct pkid_agent_cfg *c)
{
	struct pkid_agent_result r;
	sigset_t set, old;
	char t[32];
	int64_t s;

	install_handlers(&set);
	(void)sigprocmask(SIG_BLOCK, &set, &old);
	pkid_log(PKID_LOG_INFO, "agent: started: %d identities from %s, "
	    "state in %s", c->n_ids, c->path, c->state_dir);
	while (!got_stop) {
		got_hup = 0;
		/* During a pass a signal only sets the flag: the pass ends
		 * the identity at hand (files are written whole) and stops. */
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		(void)pkid_agent_pass(c, &got_stop, &r);
		(void)sigprocmask(SIG_BLOCK, &set, NULL);
		if (got_stop)
			break;
		if (got_hup)
			continue;
		s = pkid_agent_sleep_s(pkid_now(), r.next_wake,
		    c->max_sleep_s);
		pkid_log(PKID_LOG_INFO, "agent: sleeping %lld s, until %s",
		    (long long)s, pkid_time_fmt(pkid_now() + s, t, sizeof(t)));
		sleep_signalled(&set, s);
	}
	pkid_log(PKID_LOG_INFO, "agent: stopping on a signal");
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return PKICTL_EXIT_OK;
}

int
pkictl_cmd_agent(int argc, char **argv)
{
	struct pkid_agent_cfg *c = NULL;
	struct pkid_agent_result r;
	struct pkid_err e;
	const char *config = NULL;
	int once = 0, rc;

	if ((rc = parse(argc, argv, &config, &once)) != 0)
		return rc < 0 ? PKICTL_EXIT_OK : rc;
	pkid_err_clear(&e);
	if ((c = pkid_agent_cfg_new()) == NULL) {
		PKID_ERR(&e, PKID_E_NOMEM, "no memory");
		return pkictl_print_err(&e, 0);
	}
	if (pkid_agent_cfg_load(c, config, &e) != PKID_OK) {
		/* A refused configuration renews nothing: exit 2. */
		(void)pkictl_print_err(&e, 0);
		pkid_agent_cfg_free(c);
		return PKICTL_EXIT_USAGE;
	}
	pkid_log_set_level(c->log_level);
	/* A server that closes mid-request is an error to back off from,
	 * not a reason to die. */
	(void)signal(SIGPIPE, SIG_IGN);
	if (once) {
		(void)pkid_agent_pass(c, NULL, &r);
		rc = pass_status(&r);
	} else {
		rc = run_loop(c);
	}
	pkid_agent_cfg_free(c);
	return rc;
}
