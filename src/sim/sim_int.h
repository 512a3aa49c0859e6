/*
 * sim_int.h - the simulator's state, shared by sim.c (the run) and
 * skip.c (counting whole periods of a retry loop instead of running
 * them). Private to src/sim/.
 */
#ifndef PKID_SIM_SIM_INT_H
#define PKID_SIM_SIM_INT_H

#include <stdint.h>

#include "sim/queue.h"
#include "sim/sim.h"

/* What the devices of a queue entry do. */
enum sim_act {
	SIM_ISSUE,	/* ask for a certificate: enroll, renew, shadow */
	SIM_NEXTCA,	/* ask GetNextCACert */
	SIM_RENEW,	/* their renewal time: pick one of the two */
	SIM_N,
};

/* One device: 16 bytes. */
struct sim_dev {
	int64_t na;	/* its newest certificate's notAfter, 0: none */
	int16_t gen;	/* the generation that issued it (index) */
	int16_t trust;	/* newest generation whose CA certificate it
			 * holds, -1: none yet */
	uint8_t fails;	/* failed requests in a row (backoff) */
	uint8_t lapsed;	/* lapsed at least once */
};

/* A run. */
struct sim {
	const struct pkid_sim_timers *t; /* timers */
	const struct pkid_sim_opts *o;	/* devices, seed, trace */
	struct pkid_sim_result *r;	/* counts */
	struct pkid_simq q;		/* the event queue; its ring holds
					 * the GetNextCACert retry loop of
					 * fixed-period timers */
	struct sim_dev *dev;		/* o->devices devices */
	uint64_t rng;			/* splitmix64 state */
	int64_t now;			/* virtual time */
	int64_t ask;			/* ask_before resolved (0 is L) */
	int64_t minute;			/* the minute being counted */
	uint64_t in_min;		/* requests offered in it */
	uint64_t served_min;		/* answered in it */
	uint32_t rent[SIM_N];		/* fixed-period retry entry being
					 * filled, per action */
	int64_t rkey[SIM_N];		/* its time */
	int newest;			/* newest generation at now */
	int hungry;			/* 1: a device in the loop may lack
					 * the newest generation's CA
					 * certificate (its next answer
					 * may be 200); 0: every answer the
					 * loop gets is 404 */
};

/* Close the minute being counted: its peaks into the result. */
void sim_close_minute(struct sim *s);
/* The newest generation that exists at t. */
int sim_newest_at(const struct sim *s, int64_t t);
/*
 * When the loop's next entries come before anything else can change
 * (another event, a new generation, the end), count the whole periods
 * until then instead of running them, exactly as running them would
 * (skip.c).
 */
void sim_skip(struct sim *s);

#endif
