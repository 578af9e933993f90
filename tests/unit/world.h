/* The engine's unit-test harness: the test world (tests/world/world_core.h)
 * with cmocka assertions, on a fake clock. */
#ifndef JV_TEST_WORLD_H
#define JV_TEST_WORLD_H

#include "tests/world/world_core.h"

/* The default policy, or p when given. */
struct world *make_world(const struct jv_policy *p);
/* The same, with the server's handshake.cookie_threshold_per_s and
 * handshake.per_source_per_s (0: their defaults). */
struct world *make_world_hs(const struct jv_policy *p, uint32_t threshold,
			    uint32_t per_source);
void free_world(struct world *w);
/* make_world plus a completed handshake on transport 0. */
struct world *attached_world(const struct jv_policy *p);
/* Ticks both ends every 50 ms up to until, pumping in between; event
 * buffers are cleared each round. */
void run_until(struct world *w, uint64_t until);
/* The same, keeping the events (fails if the buffers would overflow). */
void run_until_keep(struct world *w, uint64_t until);

struct jv_session_info server_session(struct world *w);
/* n inner packets each way between the tunnel addresses, all delivered. */
void data_both_ways(struct world *w, int n);

#endif
