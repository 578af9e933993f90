/* The engine test harness (world.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/world.h"

static void on_send(void *ctx, const struct jv_path *path, const uint8_t *buf,
		    size_t len)
{
	struct node *n = ctx;

	assert_true(n->nout < MAXQ);
	n->out[n->nout].path = *path;
	n->out[n->nout].len = len;
	memcpy(n->out[n->nout].buf, buf, len);
	n->nout++;
}

static void on_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct node *n = ctx;

	n->delivered++;
	memcpy(n->last_inner, pkt, len);
	n->last_inner_len = len;
}

static void on_event(void *ctx, const char *line, size_t len)
{
	struct node *n = ctx;

	assert_true(n->nevents < 256 && len < JV_EVENT_MAX);
	memcpy(n->events[n->nevents], line, len);
	n->events[n->nevents][len] = '\0';
	n->nevents++;
}

void world_random(void *ctx, uint8_t *buf, size_t len)
{
	struct node *n = ctx;

	for (size_t i = 0; i < len; i++) {
		n->rng = n->rng * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (uint8_t)(n->rng >> 56);
	}
}

/* A path's remote: "path-N", N the client's transport (the server sees
 * it in addr[0], the client in local). */
static size_t on_format_path(void *ctx, const struct jv_path *path, char *buf,
			     size_t cap)
{
	int n = snprintf(buf, cap, "path-%u",
			 path->len ? path->addr[0] : path->local);

	(void)ctx;
	return n < 0 || (size_t)n >= cap ? 0 : (size_t)n;
}

const struct jv_endpoint_ops world_ops = { on_send, on_deliver, on_event,
					   world_random, NULL,
					   on_format_path };

struct world *make_world(const struct jv_policy *p)
{
	return make_world_hs(p, 0, 0);
}

struct world *make_world_hs(const struct jv_policy *p, uint32_t threshold,
			    uint32_t per_source)
{
	struct world *w = calloc(1, sizeof(*w));
	struct jv_endpoint_cfg cc, sc;
	uint8_t cpriv[32], spriv[32];

	w->c.rng = 1;
	w->s.rng = 2;
	world_random(&w->c, cpriv, 32);
	world_random(&w->s, spriv, 32);
	snprintf(w->peer.name, sizeof(w->peer.name), "laptop");
	crypto_scalarmult_base(w->peer.public_key, cpriv);
	w->peer.nallowed = 1;
	w->peer.allowed[0].addr = 0x0a4d0002;
	w->peer.allowed[0].prefix = 32;

	memset(&cc, 0, sizeof(cc));
	cc.role = JV_ROLE_CLIENT;
	snprintf(cc.node_id, sizeof(cc.node_id), "laptop");
	memcpy(cc.private_key, cpriv, 32);
	crypto_scalarmult_base(cc.server_public_key, spriv);
	memcpy(w->server_pub, cc.server_public_key, 32);
	if (p)
		cc.policy = *p;
	else
		jv_policy_defaults(&cc.policy);
	cc.ntransports = 2;
	snprintf(cc.transports[0].id, sizeof(cc.transports[0].id), "udp-a");
	cc.transports[0].proto = JV_PROTO_UDP;
	snprintf(cc.transports[1].id, sizeof(cc.transports[1].id), "udp-b");
	cc.transports[1].proto = JV_PROTO_UDP;
	cc.server_allowed[0].addr = 0x0a4d0000;   /* 10.77.0.0/24 */
	cc.server_allowed[0].prefix = 24;
	cc.nserver_allowed = 1;
	cc.ops = world_ops;
	cc.ctx = &w->c;

	memset(&sc, 0, sizeof(sc));
	sc.role = JV_ROLE_SERVER;
	snprintf(sc.node_id, sizeof(sc.node_id), "gw-1");
	memcpy(sc.private_key, spriv, 32);
	sc.policy = cc.policy;
	sc.peers = &w->peer;
	sc.npeers = 1;
	sc.max_sessions = 8;
	sc.cookie_threshold_per_s = threshold;
	sc.per_source_per_s = per_source;
	sc.ops = world_ops;
	sc.ctx = &w->s;

	assert_int_equal(jv_endpoint_new(&cc, 0, &w->c.ep), 0);
	assert_int_equal(jv_endpoint_new(&sc, 0, &w->s.ep), 0);
	return w;
}

void free_world(struct world *w)
{
	jv_endpoint_free(w->c.ep);
	jv_endpoint_free(w->s.ep);
	free(w);
}

void to_server(struct world *w, const struct dgram *d, uint8_t a)
{
	struct jv_path p = { .proto = d->path.proto, .len = 1 };

	p.addr[0] = a;
	jv_endpoint_recv(w->s.ep, &p, d->buf, d->len, w->now);
}

void pump(struct world *w)
{
	struct dgram q[MAXQ];
	int n;

	n = w->c.nout;
	memcpy(q, w->c.out, sizeof(q[0]) * (size_t)n);
	w->c.nout = 0;
	for (int i = 0; i < n; i++) {
		if ((w->lose_c2s >> q[i].path.local) & 1)
			continue;
		if (w->filter && !w->filter(w, true, &q[i]))
			continue;
		to_server(w, &q[i], (uint8_t)q[i].path.local);
	}
	n = w->s.nout;
	memcpy(q, w->s.out, sizeof(q[0]) * (size_t)n);
	w->s.nout = 0;
	for (int i = 0; i < n; i++) {
		struct jv_path p = { .proto = q[i].path.proto,
				     .local = q[i].path.addr[0] };

		if ((w->lose_s2c >> p.local) & 1)
			continue;
		if (w->filter && !w->filter(w, false, &q[i]))
			continue;
		jv_endpoint_recv(w->c.ep, &p, q[i].buf, q[i].len, w->now);
	}
}

bool has_event(const struct node *n, const char *needle)
{
	for (int i = 0; i < n->nevents; i++)
		if (strstr(n->events[i], needle))
			return true;
	return false;
}

int count_events(const struct node *n, const char *needle)
{
	int k = 0;

	for (int i = 0; i < n->nevents; i++)
		k += strstr(n->events[i], needle) != NULL;
	return k;
}

struct jv_session_info server_session(struct world *w)
{
	struct jv_session_info si;
	uint32_t cur = 0;

	assert_true(jv_endpoint_session_next(w->s.ep, &cur, w->now, &si));
	return si;
}

struct world *attached_world(const struct jv_policy *p)
{
	struct world *w = make_world(p);

	jv_endpoint_start(w->c.ep, 0);
	assert_int_equal(w->c.nout, 1);
	assert_int_equal(w->c.out[0].len, JV_HS_INIT_LEN);
	pump(w);       /* HS_INIT -> server, HS_RESP -> client */
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_int_equal(server_session(w).state, JV_STATE_ATTACHED);
	return w;
}

static void run(struct world *w, uint64_t until, bool keep)
{
	while (w->now < until) {
		w->now += 50;
		jv_endpoint_tick(w->c.ep, w->now);
		jv_endpoint_tick(w->s.ep, w->now);
		pump(w);
		pump(w);
		if (!keep)
			w->c.nevents = w->s.nevents = 0;
	}
}

void run_until(struct world *w, uint64_t until)
{
	run(w, until, false);
}

void run_until_keep(struct world *w, uint64_t until)
{
	run(w, until, true);
}

uint8_t *ipv4(uint8_t *p, uint32_t src, uint32_t dst)
{
	memset(p, 0, 40);
	p[0] = 0x45;
	p[3] = 40;
	for (int i = 0; i < 4; i++) {
		p[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		p[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	return p;
}

void data_both_ways(struct world *w, int n)
{
	uint8_t pkt[40];
	int cd = w->c.delivered, sd = w->s.delivered;

	for (int i = 0; i < n; i++) {
		assert_int_equal(jv_endpoint_send_inner(w->c.ep,
				 ipv4(pkt, 0x0a4d0002, 0x0a4d0001), 40, w->now), 0);
		assert_int_equal(jv_endpoint_send_inner(w->s.ep,
				 ipv4(pkt, 0x0a4d0001, 0x0a4d0002), 40, w->now), 0);
		pump(w);
		pump(w);
	}
	assert_int_equal(w->s.delivered - sd, n);
	assert_int_equal(w->c.delivered - cd, n);
}
