/*
 * log.c - one line per event: time, level, then key=value text or a
 * JSON object (log.h).
 */
#include "core/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/clock.h"
#include "core/trace.h"

/* Longest line written; longer ones are cut (still one line). */
#define LOG_LINE_MAX 4096

static pkid_log_sink_fn log_sink;
static void *log_arg;
static enum pkid_log_level log_min = PKID_LOG_INFO;
static enum pkid_log_format log_fmt = PKID_LOG_TEXT;

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
pkid_log_set_format(enum pkid_log_format f)
{
	log_fmt = f;
}

/* A bounded line being built. */
struct line {
	char p[LOG_LINE_MAX];	/* the text */
	size_t n;		/* used, < sizeof(p) */
};

static void
put(struct line *l, const char *s, size_t n)
{
	if (n > sizeof(l->p) - 1 - l->n)
		n = sizeof(l->p) - 1 - l->n;
	memcpy(l->p + l->n, s, n);
	l->n += n;
	l->p[l->n] = '\0';
}

static void
puts_(struct line *l, const char *s)
{
	put(l, s, strlen(s));
}

/* s with control characters and bytes past ASCII as \xNN; in JSON
 * mode as a JSON string body (quotes and backslashes escaped too). */
static void
put_esc(struct line *l, const char *s, int json, int quoted)
{
	char hex[8];

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f || (!json && c >= 0x80)) {
			snprintf(hex, sizeof(hex), json ? "\\u%04x" : "\\x%02x",
			    c);
			puts_(l, hex);
		} else if ((json || quoted) && (c == '"' || c == '\\')) {
			put(l, "\\", 1);
			put(l, (const char *)&c, 1);
		} else {
			put(l, (const char *)&c, 1);
		}
	}
}

static int
needs_quotes(const char *v)
{
	return v[0] == '\0' || strpbrk(v, " \"=\\") != NULL;
}

static void
head(struct line *l, enum pkid_log_level lvl)
{
	char ts[32];
	const char *id = pkid_trace_id();

	pkid_time_fmt(pkid_now(), ts, sizeof(ts));
	if (log_fmt == PKID_LOG_JSON) {
		puts_(l, "{\"time\":\"");
		puts_(l, ts);
		puts_(l, "\",\"level\":\"");
		puts_(l, level_names[lvl]);
		puts_(l, "\"");
		if (id[0] != '\0') {
			puts_(l, ",\"id\":\"");
			put_esc(l, id, 1, 1);
			puts_(l, "\"");
		}
		return;
	}
	puts_(l, ts);
	puts_(l, " ");
	puts_(l, level_names[lvl]);
	puts_(l, " ");
}

static void
emit(enum pkid_log_level lvl, struct line *l)
{
	if (log_sink != NULL)
		log_sink(lvl, l->p, log_arg);
	else
		fprintf(stderr, "%s\n", l->p);
}

void
pkid_log(enum pkid_log_level lvl, const char *fmt, ...)
{
	static _Thread_local struct line l;
	char msg[LOG_LINE_MAX];
	const char *id = pkid_trace_id();
	va_list ap;

	if (lvl < log_min)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	l.n = 0;
	l.p[0] = '\0';
	head(&l, lvl);
	if (log_fmt == PKID_LOG_JSON) {
		puts_(&l, ",\"msg\":\"");
		put_esc(&l, msg, 1, 1);
		/* Room for the closing characters even when cut. */
		l.n = l.n < sizeof(l.p) - 3 ? l.n : sizeof(l.p) - 3;
		puts_(&l, "\"}");
	} else {
		if (id[0] != '\0') {
			puts_(&l, "id=");
			puts_(&l, id);
			puts_(&l, " ");
		}
		put_esc(&l, msg, 0, 0);
	}
	emit(lvl, &l);
}

void
pkid_log_event(enum pkid_log_level lvl, const char *event,
    const struct pkid_log_kv *kv, size_t n)
{
	static _Thread_local struct line l;
	int json = log_fmt == PKID_LOG_JSON;
	size_t i;
	int q;

	if (lvl < log_min)
		return;
	l.n = 0;
	l.p[0] = '\0';
	head(&l, lvl);
	if (json) {
		puts_(&l, ",\"event\":\"");
		put_esc(&l, event, 1, 1);
		puts_(&l, "\"");
	} else {
		put_esc(&l, event, 0, 0);
		if (pkid_trace_id()[0] != '\0') {
			puts_(&l, " id=");
			put_esc(&l, pkid_trace_id(), 0, 0);
		}
	}
	for (i = 0; i < n; i++) {
		if (kv[i].v == NULL)
			continue;
		if (json) {
			q = !kv[i].num;
			puts_(&l, ",\"");
			puts_(&l, kv[i].k);
			puts_(&l, q ? "\":\"" : "\":");
			put_esc(&l, kv[i].v, 1, 1);
			if (q)
				puts_(&l, "\"");
			continue;
		}
		q = kv[i].quote || needs_quotes(kv[i].v);
		puts_(&l, " ");
		puts_(&l, kv[i].k);
		puts_(&l, q ? "=\"" : "=");
		put_esc(&l, kv[i].v, 0, q);
		if (q)
			puts_(&l, "\"");
	}
	if (json) {
		l.n = l.n < sizeof(l.p) - 3 ? l.n : sizeof(l.p) - 3;
		puts_(&l, "}");
	}
	emit(lvl, &l);
}

void
pkid_log_err(enum pkid_log_level lvl, const struct pkid_err *e,
    const char *what)
{
	char msg[1024], q[2100];
	size_t i, o = 0;

	/* The message may quote what a client sent: its quotes and
	 * backslashes escaped, so it cannot close msg="..." early. */
	pkid_err_message(e, msg, sizeof(msg));
	for (i = 0; msg[i] != '\0' && o + 2 < sizeof(q); i++) {
		if (msg[i] == '"' || msg[i] == '\\')
			q[o++] = '\\';
		q[o++] = msg[i];
	}
	q[o] = '\0';
	pkid_log(lvl, "%s code=%s msg=\"%s\" fix=\"%s\"", what,
	    pkid_err_id(e->code), q, pkid_err_remedy(e->code));
}
