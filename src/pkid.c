/*
 * pkid.c - the server's main: open the CA, build the routes, run the
 * HTTP(S) listeners until SIGINT/SIGTERM, then drain and close the store.
 */
#include <getopt.h>
#include <sys/resource.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ca/ca.h"
#include "ca/rollover.h"
#include "core/clock.h"
#include "core/log.h"
#include "est/est.h"
#include "http/http.h"
#include "server/app.h"
#include "server/live.h"
#include "status/status.h"

/* The one server the signal handler stops, and what it serves (main.c
 * owns globals). */
static struct pkid_server *the_server;
static struct pkid_live *the_live;

static void
on_signal(int sig)
{
	if (sig == SIGHUP) {
		pkid_live_reload(the_live);
		return;
	}
	if (the_server != NULL)
		pkid_server_stop(the_server);
}

static const char usage[] =
    "usage: pkid [--dir DIR] [--config FILE] [--listen ADDR:PORT]\n"
    "            [--http ADDR:PORT|off] [--workers N] [--quiet] [--check]\n"
    "  --check opens the CA and its configuration, prints every setting\n"
    "  that weakens security, and exits (0: usable, 1: warnings, 2: errors)\n"
    "  DIR defaults to the directory of FILE, then $PKID_DIR, then\n"
    "  ./var/demo (made by pkictl ca init); FILE defaults to DIR/pkid.conf;\n"
    "  --listen and --http override the configuration's listeners\n";

struct opts {
	const char *dir;	/* CA directory */
	const char *config;	/* configuration file, NULL = DIR's */
	char dirbuf[1024];	/* dirname of config */
	const char *listen;	/* TLS listener override */
	const char *http;	/* plain listener override */
	int workers;		/* worker threads override, 0 = config */
	int quiet;		/* no access log */
	int check;		/* --check: validate, warn, exit */
};

static int
parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "http", required_argument, NULL, 'p' },
		{ "workers", required_argument, NULL, 'w' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t n;
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'c': o->config = optarg; break;
		case 'l': o->listen = optarg; break;
		case 'p': o->http = optarg; break;
		case 'w':
			if (pkid_parse_int(optarg, 1, 256, &n, NULL) !=
			    PKID_OK) {
				fprintf(stderr, "error: usage: --workers takes "
				    "1..256, not '%s'\nfix: %s", optarg, usage);
				return 2;
			}
			o->workers = (int)n;
			break;
		case 'q': o->quiet = 1; break;
		case 'C': o->check = 1; break;
		case 'h': fputs(usage, stdout); exit(0);
		default:
			fprintf(stderr, "error: usage: unknown or incomplete "
			    "option '%s'\nfix: %s", argv[optind - 1], usage);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "error: usage: unexpected '%s'\nfix: %s",
		    argv[optind], usage);
		return 2;
	}
	if (o->dir == NULL && o->config != NULL) {
		const char *slash = strrchr(o->config, '/');

		snprintf(o->dirbuf, sizeof(o->dirbuf), "%.*s",
		    slash == NULL ? 1 : (int)(slash - o->config),
		    slash == NULL ? "." : o->config);
		o->dir = o->dirbuf;
	}
	if (o->dir == NULL)
		o->dir = getenv("PKID_DIR");
	if (o->dir == NULL || o->dir[0] == '\0')
		o->dir = "./var/demo";
	return 0;
}

static int
fail(const struct pkid_err *e)
{
	char msg[1024];
	unsigned cat = (unsigned)e->code >> 16;

	fprintf(stderr, "error: %s: %s\nfix: %s\n", pkid_err_id(e->code),
	    pkid_err_message(e, msg, sizeof(msg)), pkid_err_remedy(e->code));
	return cat == PKID_CAT_USAGE ? 2 : 1;
}

/*
 * Every connection costs a descriptor: raise the soft RLIMIT_NOFILE to
 * the hard one, and when even that cannot hold max_conns (plus what the
 * store, listeners and workers use), serve fewer and say so (issue 12:
 * with 'ulimit -n 1024' accept(2) failed with EMFILE and connections
 * waited unanswered in the backlog).
 */
static void
fit_fd_limit(struct pkid_server_opts *so)
{
	struct rlimit rl;
	struct pkid_err e;
	long room;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
		(void)getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return;
	room = (long)rl.rlim_cur - PKID_FD_RESERVE;
	if (so->max_conns <= room)
		return;
	pkid_err_clear(&e);
	PKID_ERR(&e, PKID_E_FD_LIMIT, "this process may open %llu files; "
	    "[server] max_conns = %d needs %d more (%d kept for the store, "
	    "listeners and workers); serving at most %ld connections",
	    (unsigned long long)rl.rlim_cur, so->max_conns,
	    so->max_conns - (int)room, PKID_FD_RESERVE, room > 16 ? room : 16);
	pkid_log_err(PKID_LOG_WARN, &e, "pkid");
	so->max_conns = room > 16 ? (int)room : 16;
}

/* Name every setting that weakens security; returns how many. */
static int
warn_all(const struct pkid_ca *ca, FILE *out)
{
	struct pkid_warning w[32];
	int i, n = pkid_ca_warnings(ca, w, 32);

	for (i = 0; i < n && i < 32; i++)
		fprintf(out, "pkid: warning: %s: %s\nfix: %s\n",
		    pkid_err_id(w[i].code), w[i].text,
		    pkid_err_remedy(w[i].code));
	if (n > 32)
		fprintf(out, "pkid: warning: %d more\n", n - 32);
	return n;
}

/* pkid --check: the CA opens, its EST labels and SCEP settings load. */
static int
check_only(struct pkid_ca *ca)
{
	struct pkid_rollover_plan plan;
	struct pkid_app *app = NULL;
	struct pkid_router *router = NULL;
	struct pkid_err e;
	int n, rc;

	pkid_err_clear(&e);
	if (pkid_ca_check_plan(ca, &plan, &e) != PKID_OK ||
	    pkid_live_build(ca, NULL, &app, &router, &e) != PKID_OK) {
		rc = fail(&e);
		goto out;
	}
	n = warn_all(ca, stdout);
	printf("pkid: %s: configuration usable, %d warning%s\n",
	    ca->cfg.path, n, n == 1 ? "" : "s");
	rc = n > 0 ? 1 : 0;
out:
	pkid_router_free(router);
	if (app != NULL)
		pkid_app_free(app);
	free(app);
	return rc;
}

/* What issued certificates name as their CRL and issuer certificate. */
static void
announce_pub(const struct pkid_config *cfg)
{
	static const struct {
		enum pkid_pub_kind kind;
		const char *what, *key;
	} k[] = {
		{ PKID_PUB_CRL, "CRL distribution point", "crl_url" },
		{ PKID_PUB_CA_ISSUERS, "AIA caIssuers", "ca_issuers_url" },
		{ PKID_PUB_OCSP, "AIA OCSP", "ocsp_url" },
	};
	char u[PKID_RA_CRL_MAX_URL + 1];
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		if (pkid_config_pub_url(cfg, k[i].kind, u, sizeof(u), &why))
			printf("pkid: certificates name %s %s\n", k[i].what, u);
		else
			printf("pkid: certificates name no %s ([ca] %s: %s)\n",
			    k[i].what, k[i].key, why);
	}
}

static void
announce(const char *dir, const char *ca_name,
    const struct pkid_server_opts *so, struct pkid_server *srv)
{
	int tp = pkid_server_tls_port(srv), hp = pkid_server_http_port(srv);

	if (tp > 0)
		printf("pkid: https on port %d (%s)\n", tp, so->listen);
	if (hp > 0)
		printf("pkid: http  on port %d (%s)\n", hp, so->http);
	if (tp > 0)
		printf("pkid: try   curl --cacert %s/root.pem "
		    "https://localhost:%d/healthz\n", dir, tp);
	if (hp > 0)
		printf("pkid: CRL   curl -o ca.crl http://127.0.0.1:%d/crl/%s.crl"
		    "\n", hp, ca_name);
	printf("pkid: ready (Ctrl-C to stop)\n");
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct pkid_err e;
	struct pkid_ca *ca = NULL;
	struct pkid_router *router = NULL;
	struct pkid_server_opts so;
	struct pkid_rollover_plan plan;
	struct pkid_app *app = NULL;
	struct pkid_status *status = NULL;
	char cert[1200], key[1200], cca[1200], ca_name[64];
	int rc;

	if ((rc = parse(argc, argv, &o)) != 0)
		return rc;
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	pkid_err_clear(&e);
	if (o.quiet)
		pkid_log_set_level(PKID_LOG_WARN);
	if (pkid_ca_open_config(o.dir, o.config, &ca, &e) != PKID_OK)
		return fail(&e);
	if (o.check) {
		rc = check_only(ca);
		pkid_ca_close(ca);
		return rc;
	}
	(void)warn_all(ca, stderr);
	pkid_log_set_format(ca->cfg.log_json ? PKID_LOG_JSON : PKID_LOG_TEXT);
	if ((status = pkid_status_new()) == NULL) {
		PKID_ERR(&e, PKID_E_NOMEM, "no memory for the status counters");
		rc = fail(&e);
		goto out;
	}
	if (pkid_ca_check_plan(ca, &plan, &e) != PKID_OK ||
	    pkid_live_build(ca, status, &app, &router, &e) != PKID_OK) {
		rc = fail(&e);
		goto out;
	}
	snprintf(cert, sizeof(cert), "%s/tls/server.pem", o.dir);
	snprintf(key, sizeof(key), "%s/tls/server.key", o.dir);
	memset(&so, 0, sizeof(so));
	so.listen = o.listen != NULL ? o.listen : ca->cfg.listen;
	so.http = o.http != NULL ? o.http : ca->cfg.http;
	so.workers = o.workers > 0 ? o.workers : ca->cfg.workers;
	so.max_conns = ca->cfg.max_conns;
	fit_fd_limit(&so);
	so.rate_per_min = ca->cfg.rate_per_min;
	so.max_body = (size_t)ca->cfg.max_body;
	so.max_conns_per_addr = ca->cfg.max_conns_per_addr > 0 ?
	    ca->cfg.max_conns_per_addr : -1;
	so.header_timeout_ms = ca->cfg.header_timeout * 1000;
	so.body_timeout_ms = ca->cfg.body_timeout * 1000;
	so.handler_threads = ca->cfg.handler_threads;
	so.max_queue_delay_ms = ca->cfg.max_queue_delay_ms;
	so.tls_tickets = ca->cfg.tls_tickets;
	so.cert_file = cert;
	so.key_file = key;
	/* Ask for (never require) client certificates from this CA's chain
	 * and every EST label's issuers: EST re-enrollment and certificate
	 * authentication need them (RFC 7030 3.3.2). */
	snprintf(cca, sizeof(cca), "%s/tls/client-ca.pem", o.dir);
	if (pkid_est_write_client_ca(ca, cca, &e) != PKID_OK) {
		rc = fail(&e);
		goto out;
	}
	so.client_ca = cca;
	so.status = status;
	if ((the_server = pkid_server_new(&so, router, &e)) == NULL) {
		rc = fail(&e);
		goto out;
	}
	app->srv = the_server;
	pkid_est_set_https_port(app->est, pkid_server_tls_port(the_server));
	snprintf(ca_name, sizeof(ca_name), "%s", ca->cfg.ca_name);
	announce_pub(&ca->cfg);
	/* From here the live state owns ca, app and router. */
	the_live = pkid_live_new(o.dir, o.config, ca, app, router, the_server,
	    &e);
	ca = NULL;
	app = NULL;
	router = NULL;
	if (the_live == NULL || pkid_live_start(the_live, &e) != PKID_OK) {
		rc = fail(&e);
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	announce(o.dir, ca_name, &so, the_server);
	rc = pkid_server_run(the_server, &e) == PKID_OK ? 0 : fail(&e);
	printf("pkid: stopped\n");
out:
	/* The housekeeping thread ends before the server is freed. */
	pkid_live_free(the_live);
	the_live = NULL;
	pkid_server_free(the_server);
	the_server = NULL;
	pkid_router_free(router);
	if (app != NULL)
		pkid_app_free(app);
	free(app);
	pkid_ca_close(ca);
	pkid_status_free(status);
	return rc;
}
