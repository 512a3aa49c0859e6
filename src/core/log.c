/*
 * log.c - one line per event: time, level, then key=value text.
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>

#include "core/clock.h"

static pkid_log_sink_fn log_sink;
static void *log_arg;
static enum pkid_log_level log_min = PKID_LOG_INFO;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
pkid_log_set_sink(pkid_log_sink_fn fn, void *arg)
{
	log_sink = fn;
	log_arg = arg;
}

void
pkid_log_set_level(enum pkid_log_level lvl)
{
	log_min = lvl;
}

void
pkid_log(enum pkid_log_level lvl, const char *fmt, ...)
{
	char line[2048], ts[32];
	va_list ap;
	int n;

	if (lvl < log_min)
		return;
	n = snprintf(line, sizeof(line), "%s %s ",
	    pkid_time_fmt(pkid_now(), ts, sizeof(ts)), level_names[lvl]);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	if (log_sink != NULL)
		log_sink(lvl, line, log_arg);
	else
		fprintf(stderr, "%s\n", line);
}

void
pkid_log_err(enum pkid_log_level lvl, const struct pkid_err *e,
    const char *what)
{
	char msg[1024];

	pkid_log(lvl, "%s code=%s msg=\"%s\" fix=\"%s\"", what,
	    pkid_err_id(e->code), pkid_err_message(e, msg, sizeof(msg)),
	    pkid_err_remedy(e->code));
}
