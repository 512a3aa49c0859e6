/*
 * sim.h - the fleet simulator behind pkictl ca plan --simulate.
 *
 * N devices enroll, renew and ask for the next CA certificate (SCEP
 * GetNextCACert) over virtual years against one CA server, in virtual
 * time: an event queue, no sleeping. The server's generations come from
 * rollover.h: the next generation's validity from
 * pkid_rollover_next_not_after, a leaf's end from pkid_rollover_leaf_end,
 * and, with derived timers, the shadow and activation dates from
 * pkid_rollover_plan. Memory is O(devices); the run is deterministic for
 * a seed.
 *
 * The model (README "CA rollover" states it for readers):
 * - devices enroll at uniform random seconds of [start, start +
 *   enroll_period);
 * - a device renews at renew_pct of its certificate's actual (possibly
 *   capped) lifetime, plus a uniform jitter of up to renew_jitter_pct of
 *   the rest of it;
 * - at its renewal a device asks GetNextCACert first when the CA that
 *   issued its certificate ends within ask_before and it knows no newer
 *   one; a 200 gives it the newest generation, and its certificate
 *   request then goes to that generation (IOS's "shadow" enrollment); a
 *   404 (no next generation yet) is retried;
 * - the server serves at most server_per_min requests in each calendar
 *   minute, in arrival order; the rest are refused (503) and retried;
 * - a retry waits retry_base (fixed), or retry_base doubled at each
 *   failure up to retry_max, drawn uniformly from [d/2, d] (backoff);
 * - a device lapses when it holds no unexpired certificate: a new one
 *   came after the old one's notAfter, or none came before the end.
 */
#ifndef PKID_SIM_SIM_H
#define PKID_SIM_SIM_H

#include <stdint.h>

#include "core/err.h"

/* The timers of a simulated CA and its fleet (a preset or an INI file). */
struct pkid_sim_timers {
	char name[64];		/* "ios", "pkid", or the file's name */
	int64_t start;		/* the first generation's notBefore */
	int64_t ca_life;	/* a generation's lifetime, seconds */
	int64_t overlap;	/* next generation made this long before the
				 * current one ends; 0: derived, L + margin
				 * (rollover.h) */
	int64_t margin;		/* M for a derived overlap */
	int activate_at_end;	/* 1: the next generation takes over
				 * issuance at the current one's notAfter
				 * (IOS); 0: at notAfter - L (rollover.h) */
	int64_t leaf_life;	/* L: device certificate lifetime */
	int renew_pct;		/* devices renew at this percent of it */
	int renew_jitter_pct;	/* plus up to this percent of the rest */
	int64_t ask_before;	/* a renewing device asks GetNextCACert when
				 * its CA ends within this; 0: when a new
				 * certificate would outlive the CA (= L) */
	int retry_backoff;	/* 0: retry every retry_base; 1: exponential
				 * backoff with jitter */
	int64_t retry_base;	/* the fixed period, or the first delay */
	int64_t retry_max;	/* the longest backoff delay */
	int server_per_min;	/* requests the server answers per minute */
	int64_t enroll_period;	/* devices enroll spread over this */
};

/* One step of one device, for a trace (unit tests, debugging). */
enum pkid_sim_step {
	PKID_SIM_ISSUED,	/* a certificate was issued to it */
	PKID_SIM_NEXTCA_OK,	/* GetNextCACert answered 200 */
	PKID_SIM_NEXTCA_404,	/* GetNextCACert answered 404 */
	PKID_SIM_REFUSED,	/* a request refused: server over capacity */
	PKID_SIM_LAPSED,	/* its certificate had expired */
};

struct pkid_sim_trace {
	int64_t t;		/* when */
	uint32_t dev;		/* which device */
	enum pkid_sim_step step; /* what happened */
	int gen;		/* generation concerned (1, 2, ...) */
	int64_t not_after;	/* ISSUED: the certificate's notAfter */
};

typedef void (*pkid_sim_trace_fn)(void *arg, const struct pkid_sim_trace *s);

/* How to run. */
struct pkid_sim_opts {
	uint32_t devices;	/* fleet size */
	int years;		/* virtual years of 365 days */
	uint64_t seed;		/* the run is a function of it */
	pkid_sim_trace_fn trace; /* each device step, NULL: none */
	void *trace_arg;	/* passed to trace */
};

/* Most generations a run keeps dates of. */
#define PKID_SIM_MAX_GENS 64

/* One CA generation of the run. */
struct pkid_sim_gen {
	int64_t not_before;	/* made (the shadow appears) */
	int64_t not_after;	/* its end */
	int64_t shadow_at;	/* its successor is made */
	int64_t activate_at;	/* its successor takes over issuance */
	int64_t active_from;	/* it issues from here */
};

/* What a run measured. */
struct pkid_sim_result {
	uint64_t requests;	/* requests offered to the server */
	uint64_t served;	/* answered (within capacity) */
	uint64_t refused;	/* refused over capacity (503) */
	uint64_t nextca_ok;	/* GetNextCACert answered 200 */
	uint64_t nextca_404;	/* GetNextCACert answered 404 */
	uint64_t issued;	/* certificates issued (enrollments too) */
	uint64_t peak;		/* most requests offered in one minute */
	int64_t peak_minute;	/* the first minute with that many */
	uint64_t peak_served;	/* most answered in one minute */
	uint64_t lapsed_devices; /* devices that lapsed at least once */
	uint64_t lapses;	/* lapses over all devices */
	int64_t first_404;	/* first 404, 0: none */
	int64_t last_404;	/* last 404, 0: none */
	int64_t last_ok;	/* last GetNextCACert 200, 0: none */
	uint64_t events;	/* queue entries processed */
	int64_t end;		/* the virtual end of the run */
	int n_gens;		/* generations made during the run */
	struct pkid_sim_gen gens[PKID_SIM_MAX_GENS]; /* their dates */
	enum pkid_code verdict;	/* what pkid_rollover_plan says of these
				 * timers (PKID_OK: pkid would run them) */
	char verdict_detail[512]; /* its message */
};

/* Fill t with a preset: "ios" or "pkid"; usage error otherwise. */
enum pkid_code pkid_sim_timers_preset(const char *name,
    struct pkid_sim_timers *t, struct pkid_err *e);
/*
 * Read timers from an INI file: [timers] with the keys of
 * pkid_sim_timers (README "CA rollover"), over the "pkid" preset.
 * Errors: io-open, config-syntax, config-unknown-key, config-bad-value.
 */
enum pkid_code pkid_sim_timers_load(const char *path,
    struct pkid_sim_timers *t, struct pkid_err *e);
/* The same from text (name is used in messages). */
enum pkid_code pkid_sim_timers_parse(const char *name, const char *text,
    struct pkid_sim_timers *t, struct pkid_err *e);

/*
 * The succession dates of generation g under t: g->not_before and
 * g->not_after in, g->shadow_at and g->activate_at out (from
 * pkid_rollover_plan; IOS's activation at notAfter when
 * t->activate_at_end). verdict receives what pkid_rollover_plan says of
 * the dates (cleared when pkid would run them). Errors: nomem.
 */
enum pkid_code pkid_sim_gen_dates(const struct pkid_sim_timers *t,
    struct pkid_sim_gen *g, struct pkid_err *verdict, struct pkid_err *e);

/*
 * Run o->devices devices for o->years under t; r receives the counts.
 * Errors: usage (devices or years out of range, see limits.h), nomem.
 */
enum pkid_code pkid_sim_run(const struct pkid_sim_timers *t,
    const struct pkid_sim_opts *o, struct pkid_sim_result *r,
    struct pkid_err *e);

#endif
