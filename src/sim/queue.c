/*
 * queue.c - the simulator's event queue: a binary heap of cohorts
 * (queue.h).
 */
#include "sim/queue.h"

#include <stdlib.h>
#include <string.h>

enum pkid_code
pkid_simq_init(struct pkid_simq *q, uint32_t devices, uint32_t entries,
    struct pkid_err *e)
{
	uint32_t i;

	memset(q, 0, sizeof(*q));
	q->cap = entries > 0 ? entries : 1;
	q->devices = devices;
	q->ent = calloc(q->cap, sizeof(*q->ent));
	q->heap = calloc(q->cap, sizeof(*q->heap));
	q->next = calloc(devices > 0 ? devices : 1, sizeof(*q->next));
	q->ring = calloc(q->cap, sizeof(*q->ring));
	if (q->ent == NULL || q->heap == NULL || q->next == NULL ||
	    q->ring == NULL) {
		pkid_simq_free(q);
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for an event "
		    "queue of %u devices", devices);
	}
	for (i = 0; i < q->cap; i++)
		q->ent[i].head = i + 1 < q->cap ? i + 1 : PKID_SIMQ_NONE;
	q->free_head = 0;
	return PKID_OK;
}

void
pkid_simq_free(struct pkid_simq *q)
{
	free(q->ent);
	free(q->heap);
	free(q->next);
	free(q->ring);
	memset(q, 0, sizeof(*q));
}

uint32_t
pkid_simq_new(struct pkid_simq *q, int64_t t, int kind)
{
	uint32_t id = q->free_head;
	struct pkid_simq_ent *x;

	if (id == PKID_SIMQ_NONE)
		return PKID_SIMQ_NONE;
	x = &q->ent[id];
	q->free_head = x->head;
	x->t = t;
	x->seq = 0;
	x->head = x->tail = PKID_SIMQ_NONE;
	x->count = 0;
	x->kind = kind;
	x->ring = 0;
	return id;
}

void
pkid_simq_add(struct pkid_simq *q, uint32_t id, uint32_t dev)
{
	struct pkid_simq_ent *x = &q->ent[id];

	q->next[dev] = PKID_SIMQ_NONE;
	if (x->head == PKID_SIMQ_NONE)
		x->head = dev;
	else
		q->next[x->tail] = dev;
	x->tail = dev;
	x->count++;
}

uint32_t
pkid_simq_take(struct pkid_simq *q, uint32_t id)
{
	struct pkid_simq_ent *x = &q->ent[id];
	uint32_t dev = x->head;

	if (dev == PKID_SIMQ_NONE)
		return dev;
	x->head = q->next[dev];
	if (x->head == PKID_SIMQ_NONE)
		x->tail = PKID_SIMQ_NONE;
	x->count--;
	return dev;
}

void
pkid_simq_splice(struct pkid_simq *q, uint32_t dst, uint32_t src)
{
	struct pkid_simq_ent *d = &q->ent[dst], *s = &q->ent[src];

	if (s->head == PKID_SIMQ_NONE)
		return;
	if (d->head == PKID_SIMQ_NONE)
		d->head = s->head;
	else
		q->next[d->tail] = s->head;
	d->tail = s->tail;
	d->count += s->count;
	s->head = s->tail = PKID_SIMQ_NONE;
	s->count = 0;
}

void
pkid_simq_release(struct pkid_simq *q, uint32_t id)
{
	q->ent[id].head = q->free_head;
	q->free_head = id;
}

/* a before b: earlier time, else earlier insertion. */
static int
before(const struct pkid_simq *q, uint32_t a, uint32_t b)
{
	const struct pkid_simq_ent *x = &q->ent[a], *y = &q->ent[b];

	return x->t < y->t || (x->t == y->t && x->seq < y->seq);
}

static void
sift_up(struct pkid_simq *q, uint32_t i)
{
	uint32_t id = q->heap[i], p;

	while (i > 0) {
		p = (i - 1) / 2;
		if (!before(q, id, q->heap[p]))
			break;
		q->heap[i] = q->heap[p];
		i = p;
	}
	q->heap[i] = id;
}

static void
sift_down(struct pkid_simq *q, uint32_t i)
{
	uint32_t id = q->heap[i], c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= q->n)
			break;
		if (c + 1 < q->n && before(q, q->heap[c + 1], q->heap[c]))
			c++;
		if (!before(q, q->heap[c], id))
			break;
		q->heap[i] = q->heap[c];
		i = c;
	}
	q->heap[i] = id;
}

void
pkid_simq_push(struct pkid_simq *q, uint32_t id, int64_t t)
{
	q->ent[id].ring = 0;
	q->ent[id].t = t;
	q->ent[id].seq = q->seq++;
	q->heap[q->n] = id;
	sift_up(q, q->n++);
}

void
pkid_simq_append(struct pkid_simq *q, uint32_t id, int64_t t)
{
	q->ent[id].ring = 1;
	q->ent[id].t = t;
	q->ent[id].seq = q->seq++;
	PKID_SIMQ_RING(q, q->ring_n) = id;
	q->ring_n++;
}

static uint32_t
heap_pop(struct pkid_simq *q)
{
	uint32_t id = q->heap[0];

	if (--q->n > 0) {
		q->heap[0] = q->heap[q->n];
		sift_down(q, 0);
	}
	return id;
}

uint32_t
pkid_simq_pop(struct pkid_simq *q)
{
	uint32_t id;

	if (q->ring_n > 0 && (q->n == 0 ||
	    before(q, q->ring[q->ring_head], q->heap[0]))) {
		id = q->ring[q->ring_head];
		q->ring_head = (q->ring_head + 1) % q->cap;
		q->ring_n--;
		return id;
	}
	return q->n > 0 ? heap_pop(q) : PKID_SIMQ_NONE;
}

int64_t
pkid_simq_heap_next(const struct pkid_simq *q)
{
	return q->n > 0 ? q->ent[q->heap[0]].t : INT64_MAX;
}
