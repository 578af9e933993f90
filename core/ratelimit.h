/* Per-source token buckets in a fixed table (WireGuard's ratelimiter.c):
 * what one source may cost the server in handshakes, whatever it proves.
 * The caller names a source by a 64-bit tag, a keyed hash of its address
 * prefix (engine/server.c), so the table never holds an address and an
 * attacker cannot aim at one set. No allocation after init; an entry whose
 * bucket has refilled is as good as absent and is reused. */
#ifndef JV_RATELIMIT_H
#define JV_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

#define JV_RL_SETS 1024            /* power of two */
#define JV_RL_WAYS 4
#define JV_RL_ENTRIES (JV_RL_SETS * JV_RL_WAYS)
#define JV_RL_BURST_FACTOR 5       /* a bucket holds 5 s of its rate */

struct jv_rl_entry {
	uint64_t tag;                  /* 0: free */
	uint64_t ms;                   /* when tokens was last brought up */
	uint64_t milli;                /* tokens, in thousandths */
};

struct jv_ratelimit {
	uint32_t rate_per_s;           /* configured: tokens added per second */
	uint32_t refill_per_s;         /* now: 1..rate_per_s */
	uint64_t cap_milli;            /* burst, in thousandths */
	struct jv_rl_entry e[JV_RL_ENTRIES];
};

/* rate_per_s >= 1; the burst is JV_RL_BURST_FACTOR times it. */
void jv_ratelimit_init(struct jv_ratelimit *rl, uint32_t rate_per_s);
/* Takes one token from tag's bucket (a new tag starts full). false when
 * the bucket is empty. A set whose ways all hold live buckets gives up
 * the one with the most tokens, the source closest to idle: memory stays
 * bounded and what is forgotten costs at most one burst. */
bool jv_ratelimit_allow(struct jv_ratelimit *rl, uint64_t tag, uint64_t now);
/* Refills every bucket at rate_per_s tokens a second from now on (1 up
 * to the configured rate; 0 or more: the configured rate). The burst
 * stays what init gave, and a new source still starts with all of it. */
void jv_ratelimit_set_refill(struct jv_ratelimit *rl, uint32_t rate_per_s);
/* Sources that asked for a token at or after since. */
uint32_t jv_ratelimit_active(const struct jv_ratelimit *rl, uint64_t since);
/* Buckets not yet refilled at now (for tests and metrics). */
uint32_t jv_ratelimit_live(const struct jv_ratelimit *rl, uint64_t now);

#endif
