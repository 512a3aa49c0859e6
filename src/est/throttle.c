/*
 * throttle.c - per-user and per-address lock-outs after failed EST HTTP
 * Basic logins (throttle.h). The answer while locked out is RFC 6585 4's
 * 429 with Retry-After (RFC 9110 10.2.3), given by est/server.c.
 */
#include "est/throttle.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "core/limits.h"

#define ID_LEN 16

/* One key's record. */
struct slot {
	uint8_t id[ID_LEN];	/* keyed hash of the user name or address */
	uint8_t used;		/* 1 when the slot holds a key */
	uint32_t fails;		/* failures in a row */
	int64_t last;		/* last failure, epoch seconds */
	int64_t until;		/* locked out until, epoch seconds */
};

/* One table: users or addresses. */
struct table {
	struct slot s[PKID_EST_THROTTLE_SLOTS];	/* fixed; never grows */
};

struct pkid_est_throttle {
	pthread_mutex_t mu;	/* guards both tables */
	uint8_t key[32];	/* HMAC key of the slot ids */
	struct table users;	/* by user name */
	struct table addrs;	/* by client address (IPv6: its /64) */
};

struct pkid_est_throttle *
pkid_est_throttle_new(struct pkid_err *e)
{
	struct pkid_est_throttle *t = calloc(1, sizeof(*t));

	if (t == NULL) {
		PKID_ERR(e, PKID_E_NOMEM, "no memory for the EST login "
		    "throttle");
		return NULL;
	}
	if (RAND_priv_bytes(t->key, sizeof(t->key)) != 1) {
		free(t);
		PKID_ERR(e, PKID_E_CRYPTO, "no random key for the EST login "
		    "throttle");
		return NULL;
	}
	if (pthread_mutex_init(&t->mu, NULL) != 0) {
		OPENSSL_cleanse(t->key, sizeof(t->key));
		free(t);
		PKID_ERR(e, PKID_E_INTERNAL, "cannot create the EST login "
		    "throttle mutex");
		return NULL;
	}
	return t;
}

void
pkid_est_throttle_free(struct pkid_est_throttle *t)
{
	if (t == NULL)
		return;
	pthread_mutex_destroy(&t->mu);
	OPENSSL_clear_free(t, sizeof(*t));
}

int
pkid_est_throttle_lock_s(uint32_t n, uint32_t free_fails)
{
	uint32_t shift;
	long s;

	if (n < free_fails || n == 0)
		return 0;
	shift = n - free_fails;
	/* BASE << 30 already passes any sane MAX; stop before overflow. */
	if (shift > 30)
		return PKID_EST_THROTTLE_MAX_S;
	s = (long)PKID_EST_THROTTLE_BASE_S << shift;
	return s > PKID_EST_THROTTLE_MAX_S ? PKID_EST_THROTTLE_MAX_S : (int)s;
}

/* HMAC(key, domain || bytes), truncated: the slot id of a key. */
static void
key_id(const struct pkid_est_throttle *t, char domain, const void *p,
    size_t n, uint8_t id[ID_LEN])
{
	uint8_t msg[1 + 256], mac[32];
	unsigned int mlen = 0;

	msg[0] = (uint8_t)domain;
	if (n > sizeof(msg) - 1)
		n = sizeof(msg) - 1;
	memcpy(msg + 1, p, n);
	if (HMAC(EVP_sha256(), t->key, sizeof(t->key), msg, n + 1, mac,
	    &mlen) == NULL || mlen != sizeof(mac))
		memset(mac, 0xff, sizeof(mac));	/* one shared slot */
	memcpy(id, mac, ID_LEN);
	OPENSSL_cleanse(msg, sizeof(msg));
}

/* The id of a user name. */
static void
user_id(const struct pkid_est_throttle *t, const char *user,
    uint8_t id[ID_LEN])
{
	key_id(t, 'u', user, strlen(user), id);
}

/* The id of a client address: IPv4 whole, IPv6 by its /64 (one host
 * holds a /64 at least), other text as is. */
static void
addr_id(const struct pkid_est_throttle *t, const char *addr,
    uint8_t id[ID_LEN])
{
	uint8_t a[16];

	if (inet_pton(AF_INET, addr, a) == 1) {
		key_id(t, '4', a, 4, id);
	} else if (inet_pton(AF_INET6, addr, a) == 1) {
		if (!IN6_IS_ADDR_V4MAPPED((struct in6_addr *)a))
			memset(a + 8, 0, 8);
		key_id(t, '6', a, 16, id);
	} else {
		key_id(t, 't', addr, strlen(addr), id);
	}
}

static uint32_t
id_index(const uint8_t id[ID_LEN])
{
	return (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 |
	    (uint32_t)id[2] << 8 | id[3];
}

/* Is a the better slot to give up than b? Unlocked before locked; then
 * the stalest, or the lock-out that ends first. */
static int
better_victim(const struct slot *a, const struct slot *b, int64_t now)
{
	int al = a->until > now, bl = b->until > now;

	if (al != bl)
		return !al;
	return al ? a->until < b->until : a->last < b->last;
}

/* The slot of id; with claim, a free or reused one when absent. */
static struct slot *
slot_get(struct table *tb, const uint8_t id[ID_LEN], int claim,
    int64_t now)
{
	struct slot *s, *free_slot = NULL, *victim = NULL;
	uint32_t h = id_index(id);
	int i;

	for (i = 0; i < PKID_EST_THROTTLE_PROBES; i++) {
		s = &tb->s[(h + (uint32_t)i) % PKID_EST_THROTTLE_SLOTS];
		if (!s->used) {
			if (free_slot == NULL)
				free_slot = s;
			continue;
		}
		if (CRYPTO_memcmp(s->id, id, ID_LEN) == 0)
			return s;
		if (victim == NULL || better_victim(s, victim, now))
			victim = s;
	}
	if (!claim)
		return NULL;
	s = free_slot != NULL ? free_slot : victim;
	memset(s, 0, sizeof(*s));
	memcpy(s->id, id, ID_LEN);
	s->used = 1;
	return s;
}

/* Seconds s stays locked out at now, 0 when it does not. */
static int
remaining(const struct slot *s, int64_t now)
{
	int64_t r;

	if (s == NULL || s->until <= now)
		return 0;
	r = s->until - now;
	/* A wall clock set back must not lock anyone out for longer. */
	return r > PKID_EST_THROTTLE_MAX_S ? PKID_EST_THROTTLE_MAX_S : (int)r;
}

int
pkid_est_throttle_check(struct pkid_est_throttle *t, const char *user,
    const char *addr, time_t now, struct pkid_est_lock *lk)
{
	uint8_t uid[ID_LEN], aid[ID_LEN];
	struct slot *us = NULL, *as = NULL;
	int ur, ar;

	memset(lk, 0, sizeof(*lk));
	if (user != NULL)
		user_id(t, user, uid);
	if (addr != NULL)
		addr_id(t, addr, aid);
	pthread_mutex_lock(&t->mu);
	if (user != NULL)
		us = slot_get(&t->users, uid, 0, now);
	if (addr != NULL)
		as = slot_get(&t->addrs, aid, 0, now);
	ur = remaining(us, now);
	ar = remaining(as, now);
	lk->user_fails = us != NULL ? us->fails : 0;
	lk->addr_fails = as != NULL ? as->fails : 0;
	pthread_mutex_unlock(&t->mu);
	lk->user_locked = ur > 0;
	lk->addr_locked = ar > 0;
	lk->retry_s = ur > ar ? ur : ar;
	return lk->retry_s > 0;
}

/* One more failure of s; 1 when it starts a lock-out. */
static int
count_fail(struct slot *s, uint32_t free_fails, int64_t now)
{
	int lock;

	if (s->until <= now && s->last + PKID_EST_THROTTLE_FORGET_S <= now)
		s->fails = 0;	/* quiet long enough: forgiven */
	if (s->fails < UINT32_MAX)
		s->fails++;
	s->last = now;
	lock = pkid_est_throttle_lock_s(s->fails, free_fails);
	if (lock > 0 && now + lock > s->until)
		s->until = now + lock;
	return lock > 0;
}

int
pkid_est_throttle_fail(struct pkid_est_throttle *t, const char *user,
    const char *addr, time_t now, struct pkid_est_lock *lk)
{
	uint8_t uid[ID_LEN], aid[ID_LEN];
	struct slot *us = NULL, *as = NULL;
	int started = 0, ur, ar;

	memset(lk, 0, sizeof(*lk));
	if (user != NULL)
		user_id(t, user, uid);
	if (addr != NULL)
		addr_id(t, addr, aid);
	pthread_mutex_lock(&t->mu);
	if (user != NULL) {
		us = slot_get(&t->users, uid, 1, now);
		started |= count_fail(us, PKID_EST_THROTTLE_USER_FREE, now);
	}
	/* An address pays only for users not yet throttled themselves. */
	if (addr != NULL) {
		as = slot_get(&t->addrs, aid, us == NULL ||
		    us->fails <= PKID_EST_THROTTLE_USER_FREE, now);
		if (as != NULL && (us == NULL ||
		    us->fails <= PKID_EST_THROTTLE_USER_FREE))
			started |= count_fail(as,
			    PKID_EST_THROTTLE_ADDR_FREE, now);
	}
	ur = remaining(us, now);
	ar = remaining(as, now);
	lk->user_fails = us != NULL ? us->fails : 0;
	lk->addr_fails = as != NULL ? as->fails : 0;
	pthread_mutex_unlock(&t->mu);
	lk->user_locked = ur > 0;
	lk->addr_locked = ar > 0;
	lk->retry_s = ur > ar ? ur : ar;
	return started;
}

void
pkid_est_throttle_ok(struct pkid_est_throttle *t, const char *user)
{
	uint8_t uid[ID_LEN];
	struct slot *s;

	user_id(t, user, uid);
	pthread_mutex_lock(&t->mu);
	s = slot_get(&t->users, uid, 0, 0);
	if (s != NULL)
		memset(s, 0, sizeof(*s));
	pthread_mutex_unlock(&t->mu);
}
