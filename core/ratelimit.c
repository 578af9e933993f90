#include "core/ratelimit.h"

#include <string.h>

void jv_ratelimit_init(struct jv_ratelimit *rl, uint32_t rate_per_s)
{
	memset(rl, 0, sizeof(*rl));
	rl->rate_per_s = rate_per_s ? rate_per_s : 1;
	rl->refill_per_s = rl->rate_per_s;
	rl->cap_milli = (uint64_t)rl->rate_per_s * JV_RL_BURST_FACTOR * 1000;
}

void jv_ratelimit_set_refill(struct jv_ratelimit *rl, uint32_t rate_per_s)
{
	rl->refill_per_s = rate_per_s && rate_per_s < rl->rate_per_s
				   ? rate_per_s : rl->rate_per_s;
}

/* The bucket's tokens at now (r tokens a second is r thousandths a
 * millisecond). */
static uint64_t level(const struct jv_ratelimit *rl,
		      const struct jv_rl_entry *e, uint64_t now)
{
	uint64_t dt = now > e->ms ? now - e->ms : 0;
	uint64_t room = rl->cap_milli - e->milli;
	uint64_t r = rl->refill_per_s;

	if (dt >= room / r + 1)
		return rl->cap_milli;
	return e->milli + dt * r < rl->cap_milli ? e->milli + dt * r
						  : rl->cap_milli;
}

static bool live(const struct jv_ratelimit *rl, const struct jv_rl_entry *e,
		 uint64_t now)
{
	return e->tag != 0 && level(rl, e, now) < rl->cap_milli;
}

bool jv_ratelimit_allow(struct jv_ratelimit *rl, uint64_t tag, uint64_t now)
{
	struct jv_rl_entry *set, *e = NULL, *spare = NULL;
	uint64_t most = 0;

	if (tag == 0)
		tag = 1;               /* 0 marks a free entry */
	set = &rl->e[(tag & (JV_RL_SETS - 1)) * JV_RL_WAYS];
	for (int i = 0; i < JV_RL_WAYS && !e; i++)
		if (set[i].tag == tag)
			e = &set[i];
	if (!e) {
		/* a free or refilled way, else the fullest live bucket */
		for (int i = 0; i < JV_RL_WAYS; i++) {
			uint64_t l = set[i].tag ? level(rl, &set[i], now)
						: rl->cap_milli;

			if (!spare || l > most) {
				spare = &set[i];
				most = l;
			}
		}
		e = spare;
		e->tag = tag;
		e->milli = rl->cap_milli;
		e->ms = now;
	}
	e->milli = level(rl, e, now);
	e->ms = now;
	if (e->milli < 1000)
		return false;
	e->milli -= 1000;
	return true;
}

uint32_t jv_ratelimit_live(const struct jv_ratelimit *rl, uint64_t now)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < JV_RL_ENTRIES; i++)
		n += live(rl, &rl->e[i], now);
	return n;
}

uint32_t jv_ratelimit_active(const struct jv_ratelimit *rl, uint64_t since)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < JV_RL_ENTRIES; i++)
		n += rl->e[i].tag != 0 && rl->e[i].ms >= since;
	return n;
}
