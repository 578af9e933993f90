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

/* One gateway and several clients, for the multi-peer tests: */
/* an IPv4 prefix (host order) */
struct jv_prefix prefix4(uint32_t addr, uint8_t len);
/* A client named name with one UDP transport "udp-a", the default policy
 * and world_ops on ctx: everything but its accepted server prefixes. */
void gateway_client_cfg(struct jv_endpoint_cfg *cc, const char *name,
			const uint8_t priv[32], const uint8_t server_pub[32],
			struct node *ctx);
/* Carries every queued datagram across once: client i reaches the server
 * from path address byte i, and the server's answers go back by it. */
void gateway_pump(struct node *srv, struct node *cl, int ncl, uint64_t now);
void gateway_free(struct node *srv, struct node *cl, int ncl);
/* n inner packets each way between the tunnel addresses, all delivered. */
void data_both_ways(struct world *w, int n);

#endif
