/* Sliding anti-replay window for 64-bit counters (RFC 6479 bitmap). */
#ifndef JV_REPLAY_H
#define JV_REPLAY_H

#include <stdbool.h>
#include <stdint.h>

#define JV_REPLAY_MAX_BITS 2048   /* policy upper bound for replay_window_size */

struct jv_replay {
	uint64_t top;            /* highest counter accepted + 1; 0 = none */
	uint32_t bits;           /* window size in bits, multiple of 64 */
	uint64_t map[JV_REPLAY_MAX_BITS / 64 + 1];
};

/* bits: multiple of 64 in [64, JV_REPLAY_MAX_BITS]. */
void jv_replay_init(struct jv_replay *r, uint32_t bits);
/* Would counter be accepted? (does not record) */
bool jv_replay_check(const struct jv_replay *r, uint64_t counter);
/* Records counter. Returns 0, or JV_ERR_REPLAY if seen or too old.
 * Call only after the packet authenticated. */
int jv_replay_update(struct jv_replay *r, uint64_t counter);

#endif
