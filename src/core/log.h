/*
 * log.h - one line per event. The library only calls pkid_log() and
 * pkid_log_event(); where lines go is the program's choice
 * (pkid_log_set_sink), stderr by default.
 *
 * Two formats ([log] format): text, "TIME LEVEL [id=REQUEST] message" or
 * "TIME LEVEL EVENT key=value ...", and json, one object per line:
 * {"time":..,"level":..,"id":..,"msg":..} or {"time":..,"level":..,
 * "event":..,"key":"value",...}. A line written while a request is being
 * served carries its id (core/trace.h). Whatever a client controls
 * (subjects, user names, paths) is escaped, so it can neither end a line
 * nor forge a field: in text, control characters and bytes past ASCII
 * become \xNN and a value with a space, '"', '=' or '\' is quoted with
 * '"' and '\' escaped; in JSON, by the JSON string rules.
 */
#ifndef PKID_CORE_LOG_H
#define PKID_CORE_LOG_H

#include <stddef.h>

#include "core/err.h"

enum pkid_log_level {
	PKID_LOG_DEBUG,
	PKID_LOG_INFO,
	PKID_LOG_WARN,
	PKID_LOG_ERROR,
};

enum pkid_log_format {
	PKID_LOG_TEXT,		/* key=value text (default) */
	PKID_LOG_JSON,		/* one JSON object per line */
};

/* One field of an event. */
struct pkid_log_kv {
	const char *k;		/* key: [a-z_] only, never escaped */
	const char *v;		/* value, NULL: the field is left out */
	int num;		/* 1: a number, bare in JSON */
	int quote;		/* 1: always quoted in text */
};

typedef void (*pkid_log_sink_fn)(enum pkid_log_level lvl, const char *line,
    void *arg);

void pkid_log_set_sink(pkid_log_sink_fn fn, void *arg);
void pkid_log_set_level(enum pkid_log_level lvl);
void pkid_log_set_format(enum pkid_log_format f);
void pkid_log(enum pkid_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* One event with fields, in the configured format. */
void pkid_log_event(enum pkid_log_level lvl, const char *event,
    const struct pkid_log_kv *kv, size_t n);
/* Log an error with its code and remedy: "code=... msg=... fix=...". */
void pkid_log_err(enum pkid_log_level lvl, const struct pkid_err *e,
    const char *what);

#endif
