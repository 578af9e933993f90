/* A client and a server endpoint wired together on a fake clock, without
 * a test framework: the engine's unit tests (tests/unit/world.h wraps it
 * in cmocka assertions), the fuzz targets' endpoint harness and the
 * benchmarks all build on it. Datagrams queue at each end and pump()
 * carries them across, client transport i <-> server path address byte i.
 * Errors come back as return values; a broken harness invariant (a full
 * queue, an event line that is not one JSON object) goes to world_fail. */
#ifndef JV_TEST_WORLD_CORE_H
#define JV_TEST_WORLD_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "engine/endpoint.h"

#define MAXQ 64
#define MAXEV 256

struct dgram {
	struct jv_path path;
	size_t len;
	uint8_t buf[JV_WIRE_MAX];
};

struct node {
	struct jv_endpoint *ep;
	struct dgram out[MAXQ];
	int nout;
	char events[MAXEV][JV_EVENT_MAX];
	int nevents;
	int delivered;
	uint8_t last_inner[JV_INNER_MAX];
	size_t last_inner_len;
	uint64_t rng;
	/* counted from the start, whatever was kept or cleared */
	uint64_t sent, events_seen, security_events;
	/* a full queue or event log drops what does not fit (counted above)
	 * instead of calling world_fail */
	bool lossy;
	/* server: sessions bound to each path (ops.path_bound), by
	 * [proto == TCP][address byte]; binds counts every binding */
	int32_t bound[2][256];
	uint64_t binds;
	/* optional: sees every inner packet delivered */
	void (*on_inner)(struct node *n, const uint8_t *pkt, size_t len);
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

struct world_opts {
	const struct jv_policy *policy;    /* NULL: the defaults */
	/* the server's handshake.cookie_threshold_per_s and
	 * handshake.per_source_per_s (0: their defaults) */
	uint32_t cookie_threshold, per_source;
	uint32_t max_sessions;             /* 0: 8 */
	bool second_tcp;    /* transport 1 is "tcp-b" over TCP, not "udp-b" */
	bool third_tcp;     /* a transport 2, "tcp-b" over TCP, after "udp-b" */
	bool lossy;         /* both nodes' (struct node) */
};

/* Called when the harness's own invariants break; prints what and aborts
 * unless pointed elsewhere (the cmocka harness fails the test). */
extern void (*world_fail)(const char *what);

/* The ops every world endpoint gets (ctx: its struct node): send queues
 * (world_send), deliver keeps the last inner packet, event keeps the line
 * and checks its shape, random (world_random) is a fixed generator seeded
 * by node->rng. */
extern const struct jv_endpoint_ops world_ops;
void world_send(void *ctx, const struct jv_path *path, const uint8_t *buf,
		size_t len);
void world_random(void *ctx, uint8_t *buf, size_t len);

/* Builds the pair into w (zeroed first) at now = 0, nothing sent yet;
 * the keys come from world_random seeded 1 (client) and 2 (server), the
 * client is "laptop" with 10.77.0.2/32 behind a server "gw-1" routing
 * 10.77.0.0/24. Returns 0, or the engine's error (nothing to free). */
int world_init(struct world *w, const struct world_opts *o);
void world_fini(struct world *w);

/* Hands d, sent by the other end, to n as the harness paths it: the
 * server sees client transport t as address byte t; the client sees the
 * server on transport t. */
void world_deliver(struct world *w, struct node *n, const struct dgram *d);
/* Delivers one datagram to the server as if from client address byte a. */
void to_server(struct world *w, const struct dgram *d, uint8_t a);
/* Carries every queued datagram across once (client first). */
void pump(struct world *w);
/* Ticks both ends every 50 ms up to until, pumping in between; event
 * buffers are cleared each round unless keep. */
void world_run(struct world *w, uint64_t until, bool keep);
/* The earliest of t and the two endpoints' deadlines: where a test that
 * steps from event to event goes next. */
uint64_t world_next(const struct world *w, uint64_t t);
/* Ticks each endpoint whose deadline has come (at w->now). */
void world_tick_due(struct world *w);

struct jv_endpoint_stats node_stats(const struct node *n);
bool has_event(const struct node *n, const char *needle);
int count_events(const struct node *n, const char *needle);
/* A 40-byte IPv4 packet from src to dst (host order). */
uint8_t *ipv4(uint8_t *p, uint32_t src, uint32_t dst);

#endif
