/* Switch limiter: the times of the last JV_LIMITER_MAX switches in a ring.
 * Since max_switches_per_min is bounded by JV_LIMITER_MAX, the ring always
 * holds enough history to tell whether the sliding minute is full. */
#include "core/limiter.h"

#include <string.h>

#include "core/fsm.h"

#define MINUTE_MS 60000u

void jv_limiter_init(struct jv_limiter *l)
{
	memset(l, 0, sizeof(*l));
}

/* (now - 60000, now], and a switch dated after now (one that may still
 * land on the server) counts too; written so now < 60000 cannot wrap */
static int in_window(uint64_t t, uint64_t now)
{
	return t > now || now - t < MINUTE_MS;
}

uint32_t jv_limiter_count(const struct jv_limiter *l, uint64_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < l->count; i++) {
		uint64_t t = l->at[(l->head + i) % JV_LIMITER_MAX];

		if (in_window(t, now))
			n++;
	}
	return n;
}

int jv_limiter_check(const struct jv_limiter *l, const struct jv_policy *p,
		     uint64_t now)
{
	/* a clock that went backwards is treated as inside the cooldown */
	if (l->has_last &&
	    (now < l->last_ms || now - l->last_ms < p->switch_cooldown_ms))
		return JV_R_COOLDOWN_ACTIVE;
	if (jv_limiter_count(l, now) >= p->max_switches_per_min)
		return JV_R_SWITCH_RATE_LIMITED;
	return 0;
}

void jv_limiter_record(struct jv_limiter *l, uint64_t now)
{
	if (l->count < JV_LIMITER_MAX) {
		l->at[(l->head + l->count) % JV_LIMITER_MAX] = now;
		l->count++;
	} else {
		l->at[l->head] = now;   /* overwrite the oldest */
		l->head = (l->head + 1) % JV_LIMITER_MAX;
	}
	l->last_ms = now;
	l->has_last = 1;
}

void jv_limiter_retime(struct jv_limiter *l, uint64_t at)
{
	uint64_t *newest;

	if (l->count == 0)
		return;
	newest = &l->at[(l->head + l->count - 1) % JV_LIMITER_MAX];
	if (at > *newest)
		*newest = at;
	if (at > l->last_ms)
		l->last_ms = at;
}

uint64_t jv_limiter_cooldown_end(const struct jv_limiter *l,
				 const struct jv_policy *p)
{
	return l->has_last ? l->last_ms + p->switch_cooldown_ms : 0;
}

uint64_t jv_limiter_window_free_at(const struct jv_limiter *l,
				   const struct jv_policy *p, uint64_t now)
{
	uint32_t n = jv_limiter_count(l, now), skip;

	if (n < p->max_switches_per_min)
		return UINT64_MAX;
	/* the ring runs oldest (at[head]) to newest: once the first
	 * n - max + 1 switches of the minute have left it, it has room */
	skip = n - p->max_switches_per_min;
	for (uint32_t i = 0; i < l->count; i++) {
		uint64_t t = l->at[(l->head + i) % JV_LIMITER_MAX];

		if (in_window(t, now) && skip-- == 0)
			return t + MINUTE_MS;
	}
	return UINT64_MAX;   /* not reached: n counted these */
}
