/*
 * queue.h - the simulator's event queue (private to src/sim/).
 *
 * An entry is a cohort: devices that act at the same second in the same
 * way, a FIFO list of device numbers. Entries come out in time order,
 * and in insertion order at equal times, so a run is a function of its
 * seed. A device is in at most one entry, so the queue needs about as
 * many entries as devices: memory is fixed at init.
 *
 * Cohorts keep fixed-period retry loops cheap: thousands of devices
 * retrying every minute share about 60 entries (one per second of the
 * minute), each moved as a whole.
 *
 * Entries come from a binary heap, or from a ring: a FIFO for entries
 * appended in time order (a fixed-period retry loop appends each entry
 * at now + period, so its entries stay sorted). pkid_simq_pop takes the
 * earlier of the two heads, so the ring's entries can be looked at
 * together (and moved in time together) while the heap holds the rest.
 */
#ifndef PKID_SIM_QUEUE_H
#define PKID_SIM_QUEUE_H

#include <stdint.h>

#include "core/err.h"

#define PKID_SIMQ_NONE UINT32_MAX

/* One entry. */
struct pkid_simq_ent {
	int64_t t;		/* when */
	uint64_t seq;		/* insertion order, breaks ties */
	uint32_t head;		/* first device, PKID_SIMQ_NONE: empty */
	uint32_t tail;		/* last device */
	uint32_t count;		/* devices in the list */
	int kind;		/* what they do (the simulator's action) */
	int ring;		/* 1: appended to the ring (and popped from
				 * it), 0: the heap */
};

struct pkid_simq {
	struct pkid_simq_ent *ent; /* entry pool, cap entries */
	uint32_t *heap;		/* binary min-heap of entry numbers */
	uint32_t n;		/* entries in the heap */
	uint32_t cap;		/* pool size */
	uint32_t free_head;	/* free entries, linked through head */
	uint32_t *next;		/* per device: the next in its list */
	uint32_t devices;	/* devices the lists may hold */
	uint64_t seq;		/* next insertion number */
	uint32_t *ring;		/* FIFO of entry numbers, cap long */
	uint32_t ring_head;	/* index of its first entry */
	uint32_t ring_n;	/* entries in it */
};

/* The i-th entry of the ring (0 is the first). */
#define PKID_SIMQ_RING(q, i) ((q)->ring[((q)->ring_head + (i)) % (q)->cap])

/* Room for lists of devices devices in entries entries; nomem. */
enum pkid_code pkid_simq_init(struct pkid_simq *q, uint32_t devices,
    uint32_t entries, struct pkid_err *e);
void pkid_simq_free(struct pkid_simq *q);
/* A new empty entry at t (not yet queued); PKID_SIMQ_NONE when full. */
uint32_t pkid_simq_new(struct pkid_simq *q, int64_t t, int kind);
/* Append device dev to entry id's list. */
void pkid_simq_add(struct pkid_simq *q, uint32_t id, uint32_t dev);
/* Queue entry id at time t (a fresh insertion number). */
void pkid_simq_push(struct pkid_simq *q, uint32_t id, int64_t t);
/* Append entry id at t to the ring: t must not be before its last. */
void pkid_simq_append(struct pkid_simq *q, uint32_t id, int64_t t);
/* Take the earliest entry out of the heap or the ring (ent.ring says
 * which); PKID_SIMQ_NONE when both are empty. */
uint32_t pkid_simq_pop(struct pkid_simq *q);
/* The earliest time in the heap; INT64_MAX when it is empty. */
int64_t pkid_simq_heap_next(const struct pkid_simq *q);
/* Return entry id (out of the heap) to the pool. */
void pkid_simq_release(struct pkid_simq *q, uint32_t id);
/* Detach the first device of entry id's list; PKID_SIMQ_NONE: empty. */
uint32_t pkid_simq_take(struct pkid_simq *q, uint32_t id);
/* Move src's devices to the end of dst's list; src is left empty. */
void pkid_simq_splice(struct pkid_simq *q, uint32_t dst, uint32_t src);

#endif
