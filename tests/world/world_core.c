/* The framework-free test world (world_core.h). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/world/world_core.h"

static void fail_abort(const char *what)
{
	fprintf(stderr, "test world: %s\n", what);
	abort();
}

void (*world_fail)(const char *what) = fail_abort;

void world_send(void *ctx, const struct jv_path *path, const uint8_t *buf,
		size_t len)
{
	struct node *n = ctx;

	if (len > JV_WIRE_MAX)
		world_fail("the engine sent more than JV_WIRE_MAX");
	n->sent++;
	if (n->nout == MAXQ) {
		if (!n->lossy)
			world_fail("a send queue overflowed");
		return;
	}
	n->out[n->nout].path = *path;
	n->out[n->nout].len = len;
	memcpy(n->out[n->nout].buf, buf, len);
	n->nout++;
}

static void on_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct node *n = ctx;

	if (len > JV_INNER_MAX)
		world_fail("the engine delivered more than JV_INNER_MAX");
	n->delivered++;
	if (n->on_inner)
		n->on_inner(n, pkt, len);
	memcpy(n->last_inner, pkt, len);
	n->last_inner_len = len;
}

static void on_event(void *ctx, const char *line, size_t len)
{
	struct node *n = ctx;

	if (len == 0 || len >= JV_EVENT_MAX || line[0] != '{' ||
	    line[len - 1] != '}' || memchr(line, '\n', len))
		world_fail("an event line is not one JSON object");
	n->events_seen++;
	if (memmem(line, len, "\"event_type\":\"Security", 22))
		n->security_events++;
	if (n->nevents == MAXEV) {
		if (!n->lossy)
			world_fail("an event log overflowed");
		return;
	}
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

/* Counts the server's bindings per path (protocol, address byte); a path
 * let go more often than it was bound breaks the engine's promise. */
static void on_path_bound(void *ctx, const struct jv_path *path, bool bound)
{
	struct node *n = ctx;
	int32_t *b = &n->bound[path->proto == JV_PROTO_TCP][path->addr[0]];

	if (!path->len)
		world_fail("an empty path was bound or let go");
	if (!bound && *b == 0)
		world_fail("a path let go that was not bound");
	*b += bound ? 1 : -1;
	n->binds += bound;
}

const struct jv_endpoint_ops world_ops = { world_send, on_deliver, on_event,
					   world_random, NULL,
					   on_format_path, on_path_bound };

int world_init(struct world *w, const struct world_opts *o)
{
	struct jv_endpoint_cfg cc, sc;
	uint8_t cpriv[32], spriv[32];
	int rc;

	if (sodium_init() < 0)
		return -1;
	memset(w, 0, sizeof(*w));
	w->c.rng = 1;
	w->s.rng = 2;
	w->c.lossy = w->s.lossy = o->lossy;
	world_random(&w->c, cpriv, 32);
	world_random(&w->s, spriv, 32);
	snprintf(w->peer.name, sizeof(w->peer.name), "laptop");
	crypto_scalarmult_base(w->peer.public_key, cpriv);
	w->peer.nallowed = 1;
	w->peer.allowed[0].addr = 0x0a4d0002;     /* 10.77.0.2/32 */
	w->peer.allowed[0].prefix = 32;

	memset(&cc, 0, sizeof(cc));
	cc.role = JV_ROLE_CLIENT;
	snprintf(cc.node_id, sizeof(cc.node_id), "laptop");
	memcpy(cc.private_key, cpriv, 32);
	crypto_scalarmult_base(cc.server_public_key, spriv);
	memcpy(w->server_pub, cc.server_public_key, 32);
	if (o->policy)
		cc.policy = *o->policy;
	else
		jv_policy_defaults(&cc.policy);
	cc.ntransports = 2;
	snprintf(cc.transports[0].id, sizeof(cc.transports[0].id), "udp-a");
	cc.transports[0].proto = JV_PROTO_UDP;
	snprintf(cc.transports[1].id, sizeof(cc.transports[1].id), "%s",
		 o->second_tcp ? "tcp-b" : "udp-b");
	cc.transports[1].proto = o->second_tcp ? JV_PROTO_TCP : JV_PROTO_UDP;
	if (o->third_tcp) {
		cc.ntransports = 3;
		snprintf(cc.transports[2].id, sizeof(cc.transports[2].id),
			 "tcp-b");
		cc.transports[2].proto = JV_PROTO_TCP;
	}
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
	sc.max_sessions = o->max_sessions ? o->max_sessions : 8;
	sc.cookie_threshold_per_s = o->cookie_threshold;
	sc.per_source_per_s = o->per_source;
	sc.ops = world_ops;
	sc.ctx = &w->s;
	sodium_memzero(cpriv, sizeof(cpriv));
	sodium_memzero(spriv, sizeof(spriv));

	rc = jv_endpoint_new(&cc, 0, &w->c.ep);
	if (rc == 0 && (rc = jv_endpoint_new(&sc, 0, &w->s.ep)) != 0) {
		jv_endpoint_free(w->c.ep);
		w->c.ep = NULL;
	}
	sodium_memzero(&cc, sizeof(cc));
	sodium_memzero(&sc, sizeof(sc));
	return rc;
}

void world_fini(struct world *w)
{
	jv_endpoint_free(w->c.ep);
	jv_endpoint_free(w->s.ep);
	w->c.ep = w->s.ep = NULL;
}

void to_server(struct world *w, const struct dgram *d, uint8_t a)
{
	struct jv_path p = { .proto = d->path.proto, .len = 1 };

	p.addr[0] = a;
	jv_endpoint_recv(w->s.ep, &p, d->buf, d->len, w->now);
}

static void to_client(struct world *w, const struct dgram *d)
{
	struct jv_path p = { .proto = d->path.proto,
			     .local = d->path.addr[0] };

	jv_endpoint_recv(w->c.ep, &p, d->buf, d->len, w->now);
}

void world_deliver(struct world *w, struct node *n, const struct dgram *d)
{
	if (n == &w->s)
		to_server(w, d, (uint8_t)d->path.local);
	else
		to_client(w, d);
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
		if ((w->lose_s2c >> q[i].path.addr[0]) & 1)
			continue;
		if (w->filter && !w->filter(w, false, &q[i]))
			continue;
		to_client(w, &q[i]);
	}
}

void world_run(struct world *w, uint64_t until, bool keep)
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

uint64_t world_next(const struct world *w, uint64_t t)
{
	if (jv_endpoint_deadline(w->c.ep) < t)
		t = jv_endpoint_deadline(w->c.ep);
	if (jv_endpoint_deadline(w->s.ep) < t)
		t = jv_endpoint_deadline(w->s.ep);
	return t;
}

void world_tick_due(struct world *w)
{
	if (jv_endpoint_deadline(w->c.ep) <= w->now)
		jv_endpoint_tick(w->c.ep, w->now);
	if (jv_endpoint_deadline(w->s.ep) <= w->now)
		jv_endpoint_tick(w->s.ep, w->now);
}

struct jv_endpoint_stats node_stats(const struct node *n)
{
	struct jv_endpoint_stats st;

	jv_endpoint_stats(n->ep, &st);
	return st;
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
