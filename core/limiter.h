/* Switch limiter: at most max_switches_per_min in any sliding 60 s, and no
 * switch within switch_cooldown_ms of the previous one. */
#ifndef JV_LIMITER_H
#define JV_LIMITER_H

#include <stdint.h>

#include "core/policy.h"

#define JV_LIMITER_MAX 64   /* policy bound for max_switches_per_min */

struct jv_limiter {
	uint64_t at[JV_LIMITER_MAX]; /* ring of switch times */
	uint32_t head, count;
	uint64_t last_ms;
	int has_last;
};

void jv_limiter_init(struct jv_limiter *l);
/* 0 if a switch now is allowed, else JV_R_COOLDOWN_ACTIVE or
 * JV_R_SWITCH_RATE_LIMITED (cooldown checked first). */
int jv_limiter_check(const struct jv_limiter *l, const struct jv_policy *p,
		     uint64_t now);
/* Records a switch at now. */
void jv_limiter_record(struct jv_limiter *l, uint64_t now);
/* Moves the newest switch later, to at: a switch is recorded when its
 * attempt starts (it may land on the server any time after) and dated when
 * it lands, or as late as it may still land when the attempt is given up
 * (which can be after now). Never moves it earlier. */
void jv_limiter_retime(struct jv_limiter *l, uint64_t at);
/* Switches within (now - 60000, now], and any dated after now. */
uint32_t jv_limiter_count(const struct jv_limiter *l, uint64_t now);
/* When the cooldown after the last switch ends (0 if there was none). */
uint64_t jv_limiter_cooldown_end(const struct jv_limiter *l,
				 const struct jv_policy *p);
/* When the sliding minute stops holding max_switches_per_min switches, so
 * that the rate no longer denies a switch (assuming none is recorded
 * meanwhile); UINT64_MAX if it does not hold that many at now. */
uint64_t jv_limiter_window_free_at(const struct jv_limiter *l,
				   const struct jv_policy *p, uint64_t now);

#endif
