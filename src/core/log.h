/*
 * log.h - structured log lines. The library only calls pkid_log(); where
 * lines go is the program's choice (pkid_log_set_sink), stderr by default.
 */
#ifndef PKID_CORE_LOG_H
#define PKID_CORE_LOG_H

#include "core/err.h"

enum pkid_log_level {
	PKID_LOG_DEBUG,
	PKID_LOG_INFO,
	PKID_LOG_WARN,
	PKID_LOG_ERROR,
};

typedef void (*pkid_log_sink_fn)(enum pkid_log_level lvl, const char *line,
    void *arg);

void pkid_log_set_sink(pkid_log_sink_fn fn, void *arg);
void pkid_log_set_level(enum pkid_log_level lvl);
void pkid_log(enum pkid_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Log an error with its code and remedy: "code=... msg=... fix=...". */
void pkid_log_err(enum pkid_log_level lvl, const struct pkid_err *e,
    const char *what);

#endif
