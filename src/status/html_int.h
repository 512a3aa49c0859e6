/*
 * html_int.h - pieces of the status page shared by html.c and
 * html_svg.c; private to src/status.
 */
#ifndef PKID_STATUS_HTML_INT_H
#define PKID_STATUS_HTML_INT_H

#include "status/view.h"

/* "2026-12-07 19:34" (UTC) of t into buf. */
const char *pkid_status_day_time(int64_t t, char *buf, size_t len);
/* "3 d", "5 h", "12 min", "40 s" for a span of seconds. */
const char *pkid_status_span(int64_t s, char *buf, size_t len);
/* The rollover timeline: generations as bars, today, the next
 * generation's creation and activation (until the plan picture). */
enum pkid_code pkid_status_svg_timeline(const struct pkid_status_view *v,
    struct pkid_buf *b, struct pkid_err *e);
/* Enrollments per minute over the last hour, stacked by protocol. */
enum pkid_code pkid_status_svg_minutes(const struct pkid_status_view *v,
    struct pkid_buf *b, struct pkid_err *e);

#endif
