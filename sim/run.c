/* The simulator's driver: both endpoints, simulated paths, a virtual clock.
 * Everything random comes from PRNGs seeded by the scenario's seed, and
 * every tie is broken by a sequence number, so a run is reproducible. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/endpoint.h"
#include "sim/sim.h"

#define MAX_IN_FLIGHT 65536
#define MAX_STEPS 50000000ull
#define INNER_LEN 64

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull);

	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

static double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

struct pkt {
	uint64_t at, seq;
	int to;                  /* 0 client, 1 server */
	int path;
	bool attacker;           /* to the server from the attacker's address */
	uint16_t len;
	uint8_t data[JV_WIRE_MAX];
};

struct dirstate {
	bool up;
	double loss;
	uint32_t latency_ms;
};

struct flap {
	bool on;
	uint64_t next, period, until;
	enum jv_sim_dir dir;
};

struct node {
	struct sim *sim;
	int id;
	struct rng rng;
	struct jv_endpoint *ep;
};

struct sim {
	const struct jv_scenario *sc;
	struct jv_sim_result *res;
	struct node nodes[2];
	struct rng net;
	struct dirstate dir[JV_SIM_MAX_PATHS][2];   /* [path][0 up, 1 down] */
	struct flap flaps[JV_SIM_MAX_PATHS];
	struct pkt **heap;
	size_t nheap, capheap;
	uint64_t seq, now;
	bool oom;
	/* the attacker's view */
	uint8_t last_req[JV_WIRE_MAX];
	size_t last_req_len;
	uint8_t last_ctrl[JV_WIRE_MAX];
	size_t last_ctrl_len;
	struct rng atk;          /* the bytes of forged HS_RESPs */
	uint32_t ack_drops;      /* downstream REATTACH_ACKs still to lose */
	int ack_drop_path;       /* -1 = any */
	const struct jv_sim_fault *relay, *forge_hs;   /* open windows */
};

/* The server sees the attacker at an address no path has: its first byte
 * is ATTACKER_ADDR | the index of the path whose protocol it uses. The
 * server's replies there reach nobody. */
#define ATTACKER_ADDR 0x80

static bool pkt_less(const struct pkt *a, const struct pkt *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_push(struct sim *sm, struct pkt *p)
{
	size_t i;

	if (sm->nheap == sm->capheap) {
		size_t ncap = sm->capheap ? sm->capheap * 2 : 256;
		struct pkt **nh = realloc(sm->heap, ncap * sizeof(*nh));

		if (!nh) {
			free(p);
			sm->oom = true;
			return;
		}
		sm->heap = nh;
		sm->capheap = ncap;
	}
	i = sm->nheap++;
	while (i > 0 && pkt_less(p, sm->heap[(i - 1) / 2])) {
		sm->heap[i] = sm->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	sm->heap[i] = p;
}

static struct pkt *heap_pop(struct sim *sm)
{
	struct pkt *top = sm->heap[0], *last = sm->heap[--sm->nheap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= sm->nheap)
			break;
		if (c + 1 < sm->nheap && pkt_less(sm->heap[c + 1], sm->heap[c]))
			c++;
		if (!pkt_less(sm->heap[c], last))
			break;
		sm->heap[i] = sm->heap[c];
		i = c;
	}
	if (sm->nheap)
		sm->heap[i] = last;
	return top;
}

/* A datagram enters path in direction d (0 up: client->server). */
static void transmit(struct sim *sm, int path, int d, const uint8_t *buf,
		     size_t len)
{
	struct dirstate *ds = &sm->dir[path][d];
	struct pkt *p;

	if (!ds->up || len > JV_WIRE_MAX)
		return;
	if (ds->loss > 0 && rng_unit(&sm->net) < ds->loss)
		return;
	if (sm->nheap >= MAX_IN_FLIGHT)
		return;
	p = malloc(sizeof(*p));
	if (!p) {
		sm->oom = true;
		return;
	}
	p->at = sm->now + ds->latency_ms;
	p->seq = ++sm->seq;
	p->to = d == 0 ? 1 : 0;
	p->path = path;
	p->attacker = false;
	p->len = (uint16_t)len;
	memcpy(p->data, buf, len);
	heap_push(sm, p);
}

/* The attacker's datagram, due after delay: it travels on the attacker's
 * own link, none of the path's faults apply. Queued before the datagram
 * that caused it, it wins a tie with it. */
static void inject(struct sim *sm, int to, int path, uint32_t delay,
		   const uint8_t *buf, size_t len)
{
	struct pkt *p;

	if (len > JV_WIRE_MAX || sm->nheap >= MAX_IN_FLIGHT)
		return;
	p = malloc(sizeof(*p));
	if (!p) {
		sm->oom = true;
		return;
	}
	p->at = sm->now + delay;
	p->seq = ++sm->seq;
	p->to = to;
	p->path = path;
	p->attacker = to == 1;
	p->len = (uint16_t)len;
	memcpy(p->data, buf, len);
	heap_push(sm, p);
}

static bool window_open(const struct sim *sm, const struct jv_sim_fault *f,
			int path)
{
	return f && sm->now < f->until_ms && (f->path < 0 || f->path == path);
}

/* An off-path attacker read the sender index of the client's HS_INIT
 * (bytes 4..8, in clear) and answers it `ms` later: the right receiver
 * index, noise where the Noise message should be. */
static void forge_hs_resp(struct sim *sm, int path, const uint8_t *init)
{
	uint8_t buf[JV_HS_RESP_LEN];

	for (size_t i = 0; i < sizeof(buf); i += 8) {
		uint64_t v = rng_next(&sm->atk);
		size_t k = sizeof(buf) - i < 8 ? sizeof(buf) - i : 8;

		memcpy(buf + i, &v, k);
	}
	buf[0] = JV_MSG_HS_RESP;
	buf[1] = buf[2] = buf[3] = 0;
	memcpy(buf + 8, init + 4, 4);
	inject(sm, 0, path, sm->forge_hs->ms, buf, sizeof(buf));
}

/* A simulated remote: the path's id ("sim:udp-a"); an attacker's source
 * on that path is another address ("sim:attacker:udp-a"). */
static size_t on_format_path(void *ctx, const struct jv_path *path, char *buf,
			     size_t cap)
{
	struct node *n = ctx;
	const struct jv_scenario *sc = n->sim->sc;
	int pi = n->id == 0 ? path->local
		 : path->len ? path->addr[0] & ~ATTACKER_ADDR : -1;
	bool attacker = n->id == 1 && path->len &&
			(path->addr[0] & ATTACKER_ADDR);
	int w;

	if (pi < 0 || pi >= (int)sc->npaths)
		return 0;
	w = snprintf(buf, cap, "sim:%s%s", attacker ? "attacker:" : "",
		     sc->paths[pi].id);
	return w < 0 || (size_t)w >= cap ? 0 : (size_t)w;
}

static void on_send(void *ctx, const struct jv_path *path, const uint8_t *buf,
		    size_t len)
{
	struct node *n = ctx;
	struct sim *sm = n->sim;
	int pi = n->id == 0 ? path->local : path->addr[0];

	if (pi < 0 || pi >= (int)sm->sc->npaths)
		return;
	if (n->id == 0 && len >= JV_HDR_LEN && buf[0] == JV_MSG_CONTROL) {
		/* an on-path attacker records what the client sends */
		memcpy(sm->last_ctrl, buf, len);
		sm->last_ctrl_len = len;
		if (buf[1] == JV_CTRL_REATTACH_REQ) {
			memcpy(sm->last_req, buf, len);
			sm->last_req_len = len;
			/* an observer of the path sends its copy first */
			if (window_open(sm, sm->relay, pi))
				inject(sm, 1, sm->relay->via, 0, buf, len);
		}
	}
	if (n->id == 0 && len >= 8 && buf[0] == JV_MSG_HS_INIT &&
	    window_open(sm, sm->forge_hs, pi))
		forge_hs_resp(sm, pi, buf);
	/* the header is in clear: a lossy path can single out a message */
	if (n->id == 1 && sm->ack_drops && len >= JV_HDR_LEN &&
	    buf[0] == JV_MSG_CONTROL && buf[1] == JV_CTRL_REATTACH_ACK &&
	    (sm->ack_drop_path < 0 || sm->ack_drop_path == pi)) {
		sm->ack_drops--;
		return;
	}
	transmit(sm, pi, n->id == 0 ? 0 : 1, buf, len);
}

static void on_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct node *n = ctx;

	(void)pkt;
	if (len == INNER_LEN)
		n->sim->res->delivered[n->id == 1 ? 0 : 1]++;
}

static void on_event(void *ctx, const char *line, size_t len)
{
	struct node *n = ctx;
	struct jv_sim_result *res = n->sim->res;
	char *copy;

	if (res->nlines == res->cap) {
		size_t ncap = res->cap ? res->cap * 2 : 256;
		char **nl = realloc(res->lines, ncap * sizeof(*nl));

		if (!nl) {
			n->sim->oom = true;
			return;
		}
		res->lines = nl;
		res->cap = ncap;
	}
	copy = malloc(len + 1);
	if (!copy) {
		n->sim->oom = true;
		return;
	}
	memcpy(copy, line, len);
	copy[len] = '\0';
	res->lines[res->nlines++] = copy;
}

static void on_random(void *ctx, uint8_t *buf, size_t len)
{
	struct node *n = ctx;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = rng_next(&n->rng);
		size_t k = len - i < 8 ? len - i : 8;

		memcpy(buf + i, &v, k);
	}
}

static void set_dir(struct sim *sm, int path, enum jv_sim_dir dir,
		    void (*fn)(struct dirstate *, const struct jv_sim_fault *),
		    const struct jv_sim_fault *f)
{
	if (dir != JV_SIM_DOWNSTREAM)
		fn(&sm->dir[path][0], f);
	if (dir != JV_SIM_UPSTREAM)
		fn(&sm->dir[path][1], f);
}

static void f_down(struct dirstate *d, const struct jv_sim_fault *f)
{
	(void)f;
	d->up = false;
}

static void f_up(struct dirstate *d, const struct jv_sim_fault *f)
{
	(void)f;
	d->up = true;
}

static void f_loss(struct dirstate *d, const struct jv_sim_fault *f)
{
	d->loss = f->ratio;
}

static void f_latency(struct dirstate *d, const struct jv_sim_fault *f)
{
	d->latency_ms = f->ms;
}

static int active_path(struct sim *sm)
{
	struct jv_transport_info ti;

	for (uint32_t i = 0; jv_endpoint_transport(sm->nodes[0].ep, i, sm->now,
						   &ti); i++)
		if (strcmp(ti.state, "active") == 0)
			return (int)i;
	return 0;
}

/* The attacker's datagram goes straight onto the path: it is not the
 * client's, so it bypasses the client endpoint entirely. */
static void attack(struct sim *sm, const struct jv_sim_fault *f)
{
	int path = f->path >= 0 ? f->path : active_path(sm);
	uint8_t buf[JV_WIRE_MAX];
	size_t len;

	if (f->action == JV_SIM_REPLAY) {
		if (!sm->last_req_len)
			return;
		len = sm->last_req_len;
		memcpy(buf, sm->last_req, len);
	} else {
		if (sm->last_req_len) {
			len = sm->last_req_len;
			memcpy(buf, sm->last_req, len);
		} else if (sm->last_ctrl_len) {
			len = sm->last_ctrl_len;
			memcpy(buf, sm->last_ctrl, len);
			buf[1] = JV_CTRL_REATTACH_REQ;
		} else {
			return;
		}
		/* a fresh counter and a proof the attacker cannot compute */
		jv_put_le64(buf + 8, jv_get_le64(buf + 8) + 1000000);
		for (size_t i = JV_HDR_LEN; i < len; i++)
			buf[i] ^= (uint8_t)rng_next(&sm->net);
	}
	transmit(sm, path, 0, buf, len);
}

static void apply_fault(struct sim *sm, const struct jv_sim_fault *f)
{
	struct jv_endpoint *c = sm->nodes[0].ep;

	switch (f->action) {
	case JV_SIM_DOWN:
		set_dir(sm, f->path, f->dir, f_down, f);
		sm->flaps[f->path].on = false;
		break;
	case JV_SIM_UP:
		set_dir(sm, f->path, f->dir, f_up, f);
		sm->flaps[f->path].on = false;
		break;
	case JV_SIM_LOSS:
		set_dir(sm, f->path, f->dir, f_loss, f);
		break;
	case JV_SIM_LATENCY:
		set_dir(sm, f->path, f->dir, f_latency, f);
		break;
	case JV_SIM_FLAP:
		sm->flaps[f->path] = (struct flap){
			.on = true, .next = sm->now, .period = f->period_ms,
			.until = f->until_ms, .dir = f->dir,
		};
		break;
	case JV_SIM_OPERATOR_TERMINATE:
		jv_endpoint_terminate(sm->nodes[f->node].ep, NULL,
				      JV_R_OPERATOR_TERMINATED, sm->now);
		break;
	case JV_SIM_REPLAY:
		attack(sm, f);
		break;
	case JV_SIM_FORGE:
		if (f->message == JV_SIM_MSG_HS_RESP)
			sm->forge_hs = f;
		else
			attack(sm, f);
		break;
	case JV_SIM_DROP:
		sm->ack_drops = f->count;
		sm->ack_drop_path = f->path;
		break;
	case JV_SIM_RELAY:
		sm->relay = f;
		break;
	case JV_SIM_LINK_DOWN:
		set_dir(sm, f->path, JV_SIM_BOTH, f_down, f);
		jv_endpoint_transport_down(c, (uint32_t)f->path, JV_R_LINK_DOWN,
					   sm->now);
		break;
	case JV_SIM_LINK_UP:
		set_dir(sm, f->path, JV_SIM_BOTH, f_up, f);
		jv_endpoint_transport_up(c, (uint32_t)f->path, sm->now);
		break;
	}
}

/* A flap starts down and toggles every period until `until`, then stays up. */
static void run_flaps(struct sim *sm)
{
	for (uint32_t i = 0; i < sm->sc->npaths; i++) {
		struct flap *fl = &sm->flaps[i];
		struct jv_sim_fault f = { 0 };

		while (fl->on && fl->next <= sm->now) {
			if (fl->next >= fl->until) {
				set_dir(sm, (int)i, fl->dir, f_up, &f);
				fl->on = false;
				break;
			}
			bool up = sm->dir[i][fl->dir == JV_SIM_DOWNSTREAM].up;
			set_dir(sm, (int)i, fl->dir, up ? f_down : f_up, &f);
			fl->next += fl->period;
		}
	}
}

static void inner_packet(uint8_t *p, uint32_t src, uint32_t dst, uint64_t n)
{
	memset(p, 0, INNER_LEN);
	p[0] = 0x45;
	p[2] = INNER_LEN >> 8;
	p[3] = INNER_LEN & 0xff;
	p[8] = 64;
	p[9] = 17;
	for (int i = 0; i < 4; i++) {
		p[12 + i] = (uint8_t)(src >> (24 - 8 * i));
		p[16 + i] = (uint8_t)(dst >> (24 - 8 * i));
	}
	jv_put_le64(p + 20, n);
}

#define CLIENT_IP 0x0a4d0002u   /* 10.77.0.2 */
#define SERVER_IP 0x0a4d0001u   /* 10.77.0.1 */

static int make_nodes(struct sim *sm)
{
	const struct jv_scenario *sc = sm->sc;
	struct jv_endpoint_cfg cc, sc_cfg;
	struct jv_peer_cfg peer;
	uint8_t cpriv[32], spriv[32];
	int rc;

	for (int i = 0; i < 2; i++) {
		sm->nodes[i].sim = sm;
		sm->nodes[i].id = i;
		rng_seed(&sm->nodes[i].rng, sc->seed, (uint64_t)i + 1);
	}
	rng_seed(&sm->net, sc->seed, 3);
	rng_seed(&sm->atk, sc->seed, 4);
	on_random(&sm->nodes[0], cpriv, 32);
	on_random(&sm->nodes[1], spriv, 32);

	memset(&peer, 0, sizeof(peer));
	snprintf(peer.name, sizeof(peer.name), "client");
	crypto_scalarmult_base(peer.public_key, cpriv);
	peer.nallowed = 1;
	peer.allowed[0].addr = CLIENT_IP;
	peer.allowed[0].prefix = 32;

	memset(&cc, 0, sizeof(cc));
	cc.role = JV_ROLE_CLIENT;
	snprintf(cc.node_id, sizeof(cc.node_id), "client");
	memcpy(cc.private_key, cpriv, 32);
	crypto_scalarmult_base(cc.server_public_key, spriv);
	cc.policy = sc->client_policy;
	cc.reconnect = sc->reconnect;
	cc.ntransports = sc->npaths;
	for (uint32_t i = 0; i < sc->npaths; i++) {
		memcpy(cc.transports[i].id, sc->paths[i].id,
		       sizeof(cc.transports[i].id));
		cc.transports[i].proto = sc->paths[i].proto;
	}
	cc.ops = (struct jv_endpoint_ops){ on_send, on_deliver, on_event,
					   on_random, NULL, on_format_path };
	cc.ctx = &sm->nodes[0];

	memset(&sc_cfg, 0, sizeof(sc_cfg));
	sc_cfg.role = JV_ROLE_SERVER;
	snprintf(sc_cfg.node_id, sizeof(sc_cfg.node_id), "server");
	memcpy(sc_cfg.private_key, spriv, 32);
	sc_cfg.policy = sc->server_policy;
	sc_cfg.peers = &peer;
	sc_cfg.npeers = 1;
	sc_cfg.max_sessions = 16;
	sc_cfg.ops = cc.ops;
	sc_cfg.ctx = &sm->nodes[1];

	rc = jv_endpoint_new(&cc, 0, &sm->nodes[0].ep);
	if (rc == 0)
		rc = jv_endpoint_new(&sc_cfg, 0, &sm->nodes[1].ep);
	sodium_memzero(cpriv, sizeof(cpriv));
	sodium_memzero(spriv, sizeof(spriv));
	sodium_memzero(&cc, sizeof(cc));
	sodium_memzero(&sc_cfg, sizeof(sc_cfg));
	return rc;
}

static void tmin(uint64_t *t, uint64_t v)
{
	if (v < *t)
		*t = v;
}

static int server_state(struct sim *sm)
{
	struct jv_session_info si, ci;
	uint32_t cur = 0, ccur = 0;
	int st = JV_STATE_TERMINATED;
	bool have_client = jv_endpoint_session_next(sm->nodes[0].ep, &ccur,
						    sm->now, &ci);

	while (jv_endpoint_session_next(sm->nodes[1].ep, &cur, sm->now, &si)) {
		if (!have_client ||
		    memcmp(si.session_id, ci.session_id, 16) == 0)
			st = si.state;
	}
	return st;
}

int jv_sim_run(const struct jv_scenario *sc, struct jv_sim_result *res)
{
	struct sim *sm = calloc(1, sizeof(*sm));
	uint64_t next_traffic = 0, nsent = 0, steps = 0, stuck = 0, last_now = 0;
	uint32_t fi = 0;
	uint8_t inner[INNER_LEN];
	int rc = 0;

	memset(res, 0, sizeof(*res));
	if (!sm) {
		snprintf(res->why, sizeof(res->why), "out of memory");
		return JV_ERR_NOMEM;
	}
	sm->sc = sc;
	sm->res = res;
	for (uint32_t i = 0; i < sc->npaths; i++)
		for (int d = 0; d < 2; d++)
			sm->dir[i][d] = (struct dirstate){
				.up = true, .loss = sc->paths[i].loss,
				.latency_ms = sc->paths[i].latency_ms,
			};
	rc = make_nodes(sm);
	if (rc != 0) {
		snprintf(res->why, sizeof(res->why),
			 "cannot create endpoints (%d)", rc);
		goto out;
	}
	/* faults at 0 are in place before the client's first HS_INIT */
	while (fi < sc->nfaults && sc->faults[fi].at_ms == 0)
		apply_fault(sm, &sc->faults[fi++]);
	jv_endpoint_start(sm->nodes[0].ep, 0);
	if (sc->rate_pps == 0)
		next_traffic = UINT64_MAX;

	for (;;) {
		uint64_t t = UINT64_MAX;

		if (++steps > MAX_STEPS || sm->oom) {
			snprintf(res->why, sizeof(res->why),
				 sm->oom ? "out of memory" : "step limit reached");
			rc = JV_ERR_RANGE;
			goto out;
		}
		tmin(&t, jv_endpoint_deadline(sm->nodes[0].ep));
		tmin(&t, jv_endpoint_deadline(sm->nodes[1].ep));
		if (sm->nheap)
			tmin(&t, sm->heap[0]->at);
		if (fi < sc->nfaults)
			tmin(&t, sc->faults[fi].at_ms);
		for (uint32_t i = 0; i < sc->npaths; i++)
			if (sm->flaps[i].on)
				tmin(&t, sm->flaps[i].next);
		tmin(&t, next_traffic);
		if (t > sc->duration_ms)
			break;
		if (t > sm->now)
			sm->now = t;
		/* an engine that keeps asking for "now" would spin forever */
		stuck = sm->now == last_now ? stuck + 1 : 0;
		last_now = sm->now;
		if (stuck > 100000) {
			snprintf(res->why, sizeof(res->why),
				 "virtual time stuck at %llu ms (client "
				 "deadline %llu, server deadline %llu)",
				 (unsigned long long)sm->now,
				 (unsigned long long)jv_endpoint_deadline(
					 sm->nodes[0].ep),
				 (unsigned long long)jv_endpoint_deadline(
					 sm->nodes[1].ep));
			rc = JV_ERR_STATE;
			goto out;
		}

		while (fi < sc->nfaults && sc->faults[fi].at_ms <= sm->now)
			apply_fault(sm, &sc->faults[fi++]);
		run_flaps(sm);
		while (sm->nheap && sm->heap[0]->at <= sm->now) {
			struct pkt *p = heap_pop(sm);
			struct jv_path path;

			memset(&path, 0, sizeof(path));
			path.proto = sc->paths[p->path].proto;
			if (p->to == 0) {
				path.local = (uint16_t)p->path;
			} else {
				path.len = 1;
				path.addr[0] = (uint8_t)p->path;
				if (p->attacker)
					path.addr[0] |= ATTACKER_ADDR;
			}
			jv_endpoint_recv(sm->nodes[p->to].ep, &path, p->data,
					 p->len, sm->now);
			free(p);
		}
		if (next_traffic <= sm->now) {
			if (sc->traffic_one_way != 2) {
				inner_packet(inner, CLIENT_IP, SERVER_IP, nsent);
				res->sent[0]++;
				jv_endpoint_send_inner(sm->nodes[0].ep, inner,
						       sizeof(inner), sm->now);
			}
			if (sc->traffic_one_way != 1) {
				inner_packet(inner, SERVER_IP, CLIENT_IP, nsent);
				res->sent[1]++;
				jv_endpoint_send_inner(sm->nodes[1].ep, inner,
						       sizeof(inner), sm->now);
			}
			nsent++;
			next_traffic = nsent * 1000 / sc->rate_pps;
		}
		for (int i = 0; i < 2; i++)
			if (jv_endpoint_deadline(sm->nodes[i].ep) <= sm->now)
				jv_endpoint_tick(sm->nodes[i].ep, sm->now);
	}
	jv_sim_check(sc, res, (int)jv_endpoint_client_state(sm->nodes[0].ep),
		     server_state(sm));
out:
	for (int i = 0; i < 2; i++)
		jv_endpoint_free(sm->nodes[i].ep);
	while (sm->nheap)
		free(heap_pop(sm));
	free(sm->heap);
	free(sm);
	return rc;
}

void jv_sim_result_free(struct jv_sim_result *res)
{
	for (size_t i = 0; i < res->nlines; i++)
		free(res->lines[i]);
	free(res->lines);
	memset(res, 0, sizeof(*res));
}
