/*
 * limit.c - per-client-address request rate: one fixed-size table of
 * token buckets shared by all workers under one mutex. A bucket holds up
 * to rate_per_min tokens and refills at rate_per_min per minute, so a
 * client may burst a minute's worth and then keeps to the rate.
 *
 * The table never grows: an address hashes to PKID_HTTP_RATE_PROBES
 * slots, and when all are taken by other addresses the one idle longest
 * is reused (its client starts again with a full bucket). Memory stays
 * bounded whatever the number of clients.
 *
 * Also: how many connections each client address has open, over all
 * workers (max_conns_per_addr), and when to give freed heap back.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/rand.h>

#include "compat/memtrim.h"
#include "core/clock.h"
#include "http/server_int.h"

struct rate_slot {
	char addr[64];		/* client address text, "" when free */
	uint64_t last_ms;	/* last refill, monotonic ms */
	double tokens;		/* tokens left */
};

struct pkid_http_rate {
	pthread_mutex_t mu;	/* guards slots */
	int per_min;		/* tokens per minute and bucket size */
	struct rate_slot slots[PKID_HTTP_RATE_SLOTS]; /* the table */
};

enum pkid_code
pkid_http_rate_new(int per_min, struct pkid_http_rate **out,
    struct pkid_err *e)
{
	enum pkid_code rc = PKID_E_INTERNAL;
	struct pkid_http_rate *r;

	*out = NULL;
	r = calloc(1, sizeof(*r));
	PKID_CHECK(r != NULL, PKID_E_NOMEM, "no memory for the rate table");
	if (pthread_mutex_init(&r->mu, NULL) != 0) {
		free(r);
		r = NULL;
		PKID_CHECK(0, PKID_E_INTERNAL, "cannot create the rate mutex");
	}
	r->per_min = per_min;
	*out = r;
	rc = PKID_OK;
out:
	return rc;
}

void
pkid_http_rate_free(struct pkid_http_rate *r)
{
	if (r == NULL)
		return;
	pthread_mutex_destroy(&r->mu);
	free(r);
}

/* FNV-1a: spreads addresses over the table. */
static uint32_t
addr_hash(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/* The slot of addr, claiming a free or the stalest one when absent. */
static struct rate_slot *
slot_get(struct pkid_http_rate *r, const char *addr, uint64_t now_ms)
{
	struct rate_slot *free_slot = NULL, *stale = NULL, *s;
	uint32_t h = addr_hash(addr);
	int i;

	for (i = 0; i < PKID_HTTP_RATE_PROBES; i++) {
		s = &r->slots[(h + (uint32_t)i) % PKID_HTTP_RATE_SLOTS];
		if (s->addr[0] == '\0') {
			if (free_slot == NULL)
				free_slot = s;
			continue;
		}
		if (strcmp(s->addr, addr) == 0)
			return s;
		if (stale == NULL || s->last_ms < stale->last_ms)
			stale = s;
	}
	s = free_slot != NULL ? free_slot : stale;
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->last_ms = now_ms;
	s->tokens = r->per_min;
	return s;
}

int
pkid_http_rate_take(struct pkid_http_rate *r, const char *addr,
    uint64_t now_ms, int *wait_s)
{
	struct rate_slot *s;
	double need;
	int ok;

	*wait_s = 0;
	if (r == NULL || r->per_min <= 0)
		return 1;
	pthread_mutex_lock(&r->mu);
	s = slot_get(r, addr != NULL ? addr : "", now_ms);
	if (now_ms > s->last_ms) {
		s->tokens += (double)(now_ms - s->last_ms) * r->per_min /
		    60000.0;
		if (s->tokens > r->per_min)
			s->tokens = r->per_min;
		s->last_ms = now_ms;
	}
	ok = s->tokens >= 1.0;
	if (ok) {
		s->tokens -= 1.0;
	} else {
		need = (1.0 - s->tokens) * 60.0 / r->per_min;
		*wait_s = need < 1.0 ? 1 : (int)ceil(need);
	}
	pthread_mutex_unlock(&r->mu);
	return ok;
}

int
pkid_http_jitter(int base_s, int spread_s)
{
	unsigned char b[2];
	unsigned r;
	int v = base_s < 1 ? 1 : base_s;

	/* Jitter spreads a fleet that was refused together, so it does not
	 * come back together (DESIGN.md: clients honour it with jitter). */
	if (spread_s > 0 && RAND_bytes(b, sizeof(b)) == 1) {
		r = (unsigned)b[0] << 8 | b[1];
		v += (int)(r % (unsigned)(spread_s + 1));
	}
	return v > PKID_HTTP_MAX_RETRY_S ? PKID_HTTP_MAX_RETRY_S : v;
}

/* ---- open connections per client address ---- */

struct addr_node {
	struct addr_node *next;	/* chain in the bucket */
	unsigned n;		/* connections open from addr */
	char addr[64];		/* client address text */
};

struct pkid_http_addrs {
	pthread_mutex_t mu;	/* guards b */
	struct addr_node *b[PKID_HTTP_ADDR_BUCKETS]; /* chains by hash */
};

enum pkid_code
pkid_http_addrs_new(struct pkid_http_addrs **out, struct pkid_err *e)
{
	struct pkid_http_addrs *a;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return PKID_ERR(e, PKID_E_NOMEM, "no memory for the address "
		    "table");
	if (pthread_mutex_init(&a->mu, NULL) != 0) {
		free(a);
		return PKID_ERR(e, PKID_E_INTERNAL, "cannot create the "
		    "address table's mutex");
	}
	*out = a;
	return PKID_OK;
}

void
pkid_http_addrs_free(struct pkid_http_addrs *a)
{
	struct addr_node *n;
	size_t i;

	if (a == NULL)
		return;
	for (i = 0; i < PKID_HTTP_ADDR_BUCKETS; i++) {
		while ((n = a->b[i]) != NULL) {
			a->b[i] = n->next;
			free(n);
		}
	}
	pthread_mutex_destroy(&a->mu);
	free(a);
}

unsigned
pkid_http_addrs_add(struct pkid_http_addrs *a, const char *addr)
{
	struct addr_node **pp, *n;
	unsigned count = 0;

	if (a == NULL)
		return 0;
	pthread_mutex_lock(&a->mu);
	pp = &a->b[addr_hash(addr) & (PKID_HTTP_ADDR_BUCKETS - 1)];
	for (n = *pp; n != NULL; n = n->next)
		if (strcmp(n->addr, addr) == 0)
			break;
	if (n == NULL && (n = calloc(1, sizeof(*n))) != NULL) {
		snprintf(n->addr, sizeof(n->addr), "%s", addr);
		n->next = *pp;
		*pp = n;
	}
	if (n != NULL)
		count = ++n->n;
	pthread_mutex_unlock(&a->mu);
	return count;
}

void
pkid_http_addrs_del(struct pkid_http_addrs *a, const char *addr)
{
	struct addr_node **pp, *n;

	if (a == NULL)
		return;
	pthread_mutex_lock(&a->mu);
	pp = &a->b[addr_hash(addr) & (PKID_HTTP_ADDR_BUCKETS - 1)];
	for (; (n = *pp) != NULL; pp = &n->next) {
		if (strcmp(n->addr, addr) != 0)
			continue;
		/* The last connection gone: the entry goes too, so the
		 * table holds only addresses with connections open. */
		if (--n->n == 0) {
			*pp = n->next;
			free(n);
		}
		break;
	}
	pthread_mutex_unlock(&a->mu);
}

void
pkid_http_trim_check(struct pkid_server *s)
{
	unsigned long long last, now;

	if (atomic_load(&s->c.closes_since_trim) < PKID_HTTP_TRIM_CLOSES)
		return;
	now = pkid_mono_ms();
	last = atomic_load(&s->c.last_trim_ms);
	if (now - last < PKID_HTTP_TRIM_INTERVAL_MS ||
	    !atomic_compare_exchange_strong(&s->c.last_trim_ms, &last, now))
		return;
	atomic_store(&s->c.closes_since_trim, 0);
	pkid_mem_trim();
}
