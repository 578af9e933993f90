/* A client and a server endpoint wired together on a fake clock, for the
 * engine's unit tests: datagrams queue at each end and pump() carries them
 * across, client transport i <-> server path address byte i. */
#ifndef JV_TEST_WORLD_H
#define JV_TEST_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/endpoint.h"

#define MAXQ 64

struct dgram {
	struct jv_path path;
	size_t len;
	uint8_t buf[JV_WIRE_MAX];
};

struct node {
	struct jv_endpoint *ep;
	struct dgram out[MAXQ];
	int nout;
	char events[256][JV_EVENT_MAX];
	int nevents;
	int delivered;
	uint8_t last_inner[JV_INNER_MAX];
	size_t last_inner_len;
	uint64_t rng;
};

struct world {
	struct node c, s;
	uint64_t now;
	struct jv_peer_cfg peer;
	uint8_t server_pub[32];
	/* bit i set: datagrams on client transport i are lost that way */
	uint32_t lose_c2s, lose_s2c;
	/* optional: return false to drop (and keep a copy if you like) */
	bool (*filter)(struct world *w, bool c2s, struct dgram *d);
	void *filter_ctx;
};

extern const struct jv_endpoint_ops world_ops;
void world_random(void *ctx, uint8_t *buf, size_t len);

/* The default policy, or p when given. */
struct world *make_world(const struct jv_policy *p);
/* The same, with the server's handshake.cookie_threshold_per_s and
 * handshake.per_source_per_s (0: their defaults). */
struct world *make_world_hs(const struct jv_policy *p, uint32_t threshold,
			    uint32_t per_source);
void free_world(struct world *w);
/* make_world plus a completed handshake on transport 0. */
struct world *attached_world(const struct jv_policy *p);
/* Carries every queued datagram across once (client first). */
void pump(struct world *w);
/* Ticks both ends every 50 ms up to until, pumping in between; event
 * buffers are cleared each round. */
void run_until(struct world *w, uint64_t until);
/* The same, keeping the events (fails if the buffers would overflow). */
void run_until_keep(struct world *w, uint64_t until);
/* Delivers one datagram to the server as if from client address byte a. */
void to_server(struct world *w, const struct dgram *d, uint8_t a);

bool has_event(const struct node *n, const char *needle);
int count_events(const struct node *n, const char *needle);
struct jv_session_info server_session(struct world *w);
/* n inner packets each way between the tunnel addresses, all delivered. */
void data_both_ways(struct world *w, int n);
/* A 40-byte IPv4 packet from src to dst (host order). */
uint8_t *ipv4(uint8_t *p, uint32_t src, uint32_t dst);

#endif
