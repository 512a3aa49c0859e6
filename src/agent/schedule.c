/*
 * schedule.c - renewal points, jitter, back-off and sleeps (schedule.h).
 */
#include "agent/schedule.h"

#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>

#include "core/limits.h"

void
pkid_agent_plan(int64_t nb, int64_t na, int renew_pct, int jitter_pct,
    int64_t jitter_s, uint64_t draw, struct pkid_agent_plan *out)
{
	int64_t life = na > nb ? na - nb : 0;
	int64_t window;

	memset(out, 0, sizeof(*out));
	if (renew_pct < 1)
		renew_pct = 1;
	if (renew_pct > 99)
		renew_pct = 99;
	/* life / 100 * pct + remainder: no overflow for any time_t span. */
	out->base = nb + life / 100 * renew_pct + life % 100 * renew_pct /
	    100;
	window = na > out->base ? na - out->base : 0;
	if (jitter_pct >= 0)
		out->jitter_max = window / 100 * (jitter_pct > 100 ? 100 :
		    jitter_pct) + window % 100 * jitter_pct / 100;
	else
		out->jitter_max = jitter_s < 0 ? 0 : jitter_s > window ?
		    window : jitter_s;
	out->jitter = out->jitter_max > 0 ? (int64_t)(draw %
	    ((uint64_t)out->jitter_max + 1)) : 0;
	out->renew_at = out->base + out->jitter;
}

uint64_t
pkid_agent_draw(const char *name, const uint8_t *der, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	uint64_t v = 0;
	int i, ok;

	ok = ctx != NULL && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1 &&
	    EVP_DigestUpdate(ctx, name, strlen(name) + 1) == 1 &&
	    EVP_DigestUpdate(ctx, der, len) == 1 &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) == 1 && mdlen >= 8;
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return 0;	/* no jitter rather than none at all */
	for (i = 0; i < 8; i++)
		v = v << 8 | md[i];
	return v;
}

int64_t
pkid_agent_backoff(int failures, int64_t retry_after, uint32_t rnd,
    int64_t now, int64_t not_after)
{
	int64_t step = PKID_AGENT_BACKOFF_MIN_S, half, d, left;
	int i;

	for (i = 1; i < failures && step < PKID_AGENT_BACKOFF_MAX_S; i++)
		step *= 2;
	if (step > PKID_AGENT_BACKOFF_MAX_S)
		step = PKID_AGENT_BACKOFF_MAX_S;
	/* Equal jitter: [step / 2, step]. */
	half = step / 2;
	d = half + (int64_t)(rnd % (uint64_t)(step - half + 1));
	/* Keep trying while the certificate lasts: half of what is left,
	 * not less than the first step. */
	left = not_after - now;
	if (left > 0 && d > left / 2)
		d = left / 2 > PKID_AGENT_BACKOFF_MIN_S ? left / 2 :
		    PKID_AGENT_BACKOFF_MIN_S;
	if (retry_after > PKID_AGENT_MAX_RETRY_AFTER_S)
		retry_after = PKID_AGENT_MAX_RETRY_AFTER_S;
	if (retry_after > d)
		d = retry_after;
	return d;
}

int
pkid_agent_overdue(int64_t now, int64_t next_try, int64_t not_after)
{
	return now >= not_after || next_try >= not_after;
}

int64_t
pkid_agent_sleep_s(int64_t now, int64_t wake, int64_t max_sleep)
{
	int64_t s = wake > 0 ? wake - now : max_sleep;

	if (s > max_sleep)
		s = max_sleep;
	if (s < PKID_AGENT_MIN_SLEEP_S)
		s = PKID_AGENT_MIN_SLEEP_S;
	return s;
}

const char *
pkid_agent_dur_text(int64_t secs, char *out, size_t len)
{
	int64_t a = secs < 0 ? -secs : secs;
	const char *sign = secs < 0 ? "-" : "";

	if (a >= 86400)
		snprintf(out, len, "%s%lld.%lld d", sign, (long long)(a /
		    86400), (long long)(a % 86400 * 10 / 86400));
	else if (a >= 3600)
		snprintf(out, len, "%s%lld.%lld h", sign, (long long)(a / 3600),
		    (long long)(a % 3600 * 10 / 3600));
	else if (a >= 120)
		snprintf(out, len, "%s%lld min", sign, (long long)(a / 60));
	else
		snprintf(out, len, "%s%lld s", sign, (long long)a);
	return out;
}
