/* Micro-benchmarks for docs/PERFORMANCE.md. Not a test: it asserts nothing
 * about time. Every figure is printed next to a baseline measured in the
 * same run on the same core (raw libsodium operations, or real time), so a
 * shared, noisy machine moves both together.
 *
 *   reattach   server-side handling of reattach requests (B1..B8):
 *              accepted switches, forged proofs, replays
 *   handshake  Noise IK handshakes completed as responder
 *   sim        simulated session-seconds per wall-clock second
 *   memory     bytes per idle session in the server's table
 */
#include <malloc.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/util.h"
#include "engine/internal.h"
#include "sim/sim.h"
#include "tests/world/world_core.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- a tiny two-node harness (captures datagrams) ----
 * The nodes are the test world's (tests/world/world_core.h), with ops that
 * neither check nor keep the events: only datagrams are captured, and
 * those past the queue's end dropped (the nodes are lossy). */

static void on_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	(void)ctx, (void)pkt, (void)len;
}

static void on_event(void *ctx, const char *line, size_t len)
{
	(void)line, (void)len;
	((struct node *)ctx)->nevents++;
}

static const struct jv_endpoint_ops ops = { world_send, on_deliver, on_event,
					    world_random };

static void bench_policy(struct jv_policy *p)
{
	jv_policy_defaults(p);
	p->max_lifetime_ms = 604800000;
	p->transport_lost_ttl_ms = 86400000;
	p->max_switches_per_min = 64;
	p->rekey_after_ms = 86400000;
}

static void client_cfg(struct jv_endpoint_cfg *cc, const uint8_t priv[32],
		       const uint8_t server_pub[32], struct node *n)
{
	memset(cc, 0, sizeof(*cc));
	cc->role = JV_ROLE_CLIENT;
	snprintf(cc->node_id, sizeof(cc->node_id), "bench-client");
	memcpy(cc->private_key, priv, 32);
	memcpy(cc->server_public_key, server_pub, 32);
	bench_policy(&cc->policy);
	cc->ntransports = 2;
	snprintf(cc->transports[0].id, sizeof(cc->transports[0].id), "udp-a");
	snprintf(cc->transports[1].id, sizeof(cc->transports[1].id), "udp-b");
	cc->transports[0].proto = cc->transports[1].proto = JV_PROTO_UDP;
	cc->ops = ops;
	cc->ctx = n;
}

static void server_cfg(struct jv_endpoint_cfg *sc, const uint8_t priv[32],
		       const struct jv_peer_cfg *peers, uint32_t npeers,
		       uint32_t max_sessions, struct node *n)
{
	memset(sc, 0, sizeof(*sc));
	sc->role = JV_ROLE_SERVER;
	snprintf(sc->node_id, sizeof(sc->node_id), "bench-gw");
	memcpy(sc->private_key, priv, 32);
	bench_policy(&sc->policy);
	sc->peers = peers;
	sc->npeers = npeers;
	sc->max_sessions = max_sessions;
	sc->ops = ops;
	sc->ctx = n;
}

static struct jv_path server_side_path(uint16_t t)
{
	struct jv_path p = { .proto = JV_PROTO_UDP, .len = 1 };

	p.addr[0] = (uint8_t)t;
	return p;
}

/* Delivers queued datagrams both ways until quiet. */
static void pump_nodes(struct node *c, struct node *s, uint64_t now)
{
	for (int round = 0; round < 8 && (c->nout || s->nout); round++) {
		struct dgram q[MAXQ];
		int n = c->nout;

		memcpy(q, c->out, sizeof(q[0]) * (size_t)n);
		c->nout = 0;
		for (int i = 0; i < n; i++) {
			struct jv_path p = server_side_path(q[i].path.local);

			jv_endpoint_recv(s->ep, &p, q[i].buf, q[i].len, now);
		}
		n = s->nout;
		memcpy(q, s->out, sizeof(q[0]) * (size_t)n);
		s->nout = 0;
		for (int i = 0; i < n; i++) {
			struct jv_path p = { .proto = JV_PROTO_UDP,
					     .local = q[i].path.addr[0] };

			jv_endpoint_recv(c->ep, &p, q[i].buf, q[i].len, now);
		}
	}
}

/* ---- baselines ---- */

static double baseline_aead_open(size_t len, uint32_t n)
{
	uint8_t k[32] = { 7 }, nonce[12] = { 0 }, pt[256] = { 0 }, ct[256 + 16];
	uint8_t ad[16] = { 1 };
	unsigned long long clen;
	double t0;
	uint32_t ok = 0;

	crypto_aead_chacha20poly1305_ietf_encrypt(ct, &clen, pt, len, ad, 16,
						  NULL, nonce, k);
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++)
		ok += crypto_aead_chacha20poly1305_ietf_decrypt(
			pt, NULL, NULL, ct, clen, ad, 16, nonce, k) == 0;
	if (ok != n)
		fprintf(stderr, "baseline: decrypt failed\n");
	return n / (now_s() - t0);
}

static double baseline_x25519(uint32_t n)
{
	uint8_t a[32], b[32], out[32];
	double t0;

	randombytes_buf(a, 32);
	randombytes_buf(b, 32);
	crypto_scalarmult_base(b, b);
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		a[0] = (uint8_t)i;
		if (crypto_scalarmult(out, a, b) != 0)
			fprintf(stderr, "baseline: x25519 failed\n");
	}
	return n / (now_s() - t0);
}

/* ---- reattach ---- */

struct pair {
	struct node c, s;
	struct jv_peer_cfg peer;
	uint64_t now;
};

static int attach_pair(struct pair *w)
{
	struct jv_endpoint_cfg cc, sc;
	uint8_t cpriv[32], spriv[32], spub[32];

	memset(w, 0, sizeof(*w));
	w->c.rng = 11;
	w->s.rng = 12;
	w->c.lossy = w->s.lossy = true;
	world_random(&w->c, cpriv, 32);
	world_random(&w->s, spriv, 32);
	crypto_scalarmult_base(spub, spriv);
	snprintf(w->peer.name, sizeof(w->peer.name), "laptop");
	crypto_scalarmult_base(w->peer.public_key, cpriv);
	client_cfg(&cc, cpriv, spub, &w->c);
	server_cfg(&sc, spriv, &w->peer, 1, 16, &w->s);
	if (jv_endpoint_new(&cc, 0, &w->c.ep) || jv_endpoint_new(&sc, 0, &w->s.ep))
		return -1;
	jv_endpoint_start(w->c.ep, 0);
	pump_nodes(&w->c, &w->s, 0);
	w->now = 1;
	if (jv_endpoint_client_state(w->c.ep) != JV_STATE_ATTACHED)
		return -1;
	/* one heartbeat confirms the session on the server */
	jv_endpoint_tick(w->c.ep, 600);
	pump_nodes(&w->c, &w->s, 600);
	w->now = 600;
	return 0;
}

static void free_pair(struct pair *w)
{
	jv_endpoint_free(w->c.ep);
	jv_endpoint_free(w->s.ep);
}

/* A reattach request as the client would send it, sealed with its keys. */
static void make_request(struct pair *w, uint32_t t, uint32_t epoch,
			 uint64_t at, struct dgram *out)
{
	struct jv_session *cs = &w->c.ep->u.c.s;
	struct jv_ctrl m = { .type = JV_CTRL_REATTACH_REQ };
	struct jv_path p = { .proto = JV_PROTO_UDP, .local = (uint16_t)t };

	memcpy(m.u.req.session_id, cs->id, 16);
	/* every other counter: the path response to request i takes the
	 * one after it, so the server's replay window sees them in order */
	cs->keys.tx_counter += cs->keys.tx_counter & 1;
	m.u.req.counter = cs->keys.tx_counter;
	m.u.req.timestamp_ms = at - cs->created_ms;
	m.u.req.attach_epoch = epoch;
	jv_wire_tid_set(&m.u.req.tid, JV_PROTO_UDP, t ? "udp-b" : "udp-a");
	w->c.nout = 0;
	jv_send_ctrl(w->c.ep, cs, &p, &m);
	*out = w->c.out[0];
	w->c.nout = 0;
	cs->keys.tx_counter++;    /* left for the response */
}

/* A switch to a new path completes when the client answers the server's
 * PATH_CHALLENGE there: open the challenge with the client's keys and send
 * the response as the client would. Part of what an accepted switch costs. */
static bool answer_challenge(struct pair *w, const struct jv_path *sp,
			     uint64_t at, struct dgram *resp)
{
	struct jv_session *cs = &w->c.ep->u.c.s;
	struct jv_ctrl ch, r = { .type = JV_CTRL_PATH_RESPONSE };
	struct jv_path cp = { .proto = JV_PROTO_UDP, .local = sp->addr[0] };
	uint8_t plain[JV_WIRE_MAX];
	struct jv_hdr h;
	bool adv;
	int n;

	for (int i = 0; i < w->s.nout; i++) {
		struct dgram *d = &w->s.out[i];

		if (d->buf[0] != JV_MSG_CONTROL ||
		    d->buf[1] != JV_CTRL_PATH_CHALLENGE ||
		    jv_hdr_decode(&h, d->buf, d->len) != 0)
			continue;
		n = jv_keys_open(&cs->keys, &h, d->buf, d->len, plain,
				 sizeof(plain), at, 0, &adv);
		if (n < 0 || jv_ctrl_decode(&ch, h.subtype, plain, (size_t)n))
			continue;
		r.u.path = ch.u.path;
		w->c.nout = 0;
		cs->keys.tx_counter = ch.u.path.req_counter + 1;
		jv_send_ctrl(w->c.ep, cs, &cp, &r);
		*resp = w->c.out[0];
		w->c.nout = 0;
		w->s.nout = 0;
		return true;
	}
	return false;
}

struct result {
	double rate, base;
};

enum reattach_kind { RA_ACCEPTED, RA_FORGED, RA_REPLAYED };

static struct result bench_reattach(enum reattach_kind kind, uint32_t n,
				    double base)
{
	struct pair w;
	struct dgram *reqs = calloc(n, sizeof(*reqs));
	struct jv_endpoint_stats st0, st1;
	uint32_t epoch;
	uint64_t t, step = 500;
	double t0, dt, client_s = 0;
	struct result r = { 0, base };

	if (!reqs || attach_pair(&w) != 0) {
		fprintf(stderr, "reattach: setup failed\n");
		exit(1);
	}
	{
		uint32_t cur = 0;
		struct jv_session *ss = jv_table_next(w.s.ep->u.s.table, &cur);

		epoch = ss->attach_epoch;
	}
	/* accepted: alternate transports, each a real switch; time moves so
	 * that the abuse bound (2 x max_switches_per_min) never trips */
	for (uint32_t i = 0; i < n; i++) {
		t = w.now + (uint64_t)(i + 1) * step;
		make_request(&w, (i + 1) % 2, epoch + i, t, &reqs[i]);
		if (kind == RA_FORGED)
			reqs[i].buf[reqs[i].len - 1] ^= 0x80;
		if (kind == RA_REPLAYED && i > 0)
			reqs[i] = reqs[0];
	}
	jv_endpoint_stats(w.s.ep, &st0);
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		struct jv_path p = server_side_path(reqs[i].path.local);

		w.s.nout = 0;
		{
		/* accepted switches are spaced as the policy allows; a
		 * hostile flood arrives at a million a second */
		uint64_t at = kind == RA_ACCEPTED
				      ? w.now + (uint64_t)(i + 1) * step
				      : w.now + 1 + i / 1000;

		jv_endpoint_recv(w.s.ep, &p, reqs[i].buf, reqs[i].len, at);
		if (kind == RA_ACCEPTED) {
			/* the client's side of the challenge is not the
			 * server's cost: the clock stops for it */
			struct dgram resp;
			bool ok;

			client_s -= now_s();
			ok = answer_challenge(&w, &p, at, &resp);
			client_s += now_s();
			if (ok)
				jv_endpoint_recv(w.s.ep, &p, resp.buf,
						 resp.len, at);
		}
		}
	}
	dt = now_s() - t0 - client_s;
	jv_endpoint_stats(w.s.ep, &st1);
	if (kind == RA_ACCEPTED && st1.reattach_ok - st0.reattach_ok != n)
		fprintf(stderr, "reattach: only %llu of %u accepted\n",
			(unsigned long long)(st1.reattach_ok - st0.reattach_ok),
			n);
	if (kind != RA_ACCEPTED && st1.reattach_ok - st0.reattach_ok >
				   (kind == RA_REPLAYED ? 1u : 0u))
		fprintf(stderr, "reattach: a hostile request was accepted\n");
	r.rate = n / dt;
	free_pair(&w);
	free(reqs);
	return r;
}

/* ---- handshakes ---- */

static struct result bench_handshake(uint32_t n, double base)
{
	enum { PEERS = 64 };
	static struct jv_peer_cfg peers[PEERS];
	static uint8_t cpriv[PEERS][32];
	struct node s = { .rng = 21, .lossy = true },
		    c = { .rng = 22, .lossy = true };
	struct dgram *inits = calloc(n, sizeof(*inits));
	struct jv_endpoint_cfg sc, cc;
	struct jv_endpoint_stats st;
	uint8_t spriv[32], spub[32];
	double t0, dt;
	struct result r = { 0, base };

	world_random(&s, spriv, 32);
	crypto_scalarmult_base(spub, spriv);
	for (int i = 0; i < PEERS; i++) {
		world_random(&c, cpriv[i], 32);
		snprintf(peers[i].name, sizeof(peers[i].name), "peer-%d", i);
		crypto_scalarmult_base(peers[i].public_key, cpriv[i]);
	}
	/* HS_INITs made up front by real client endpoints (not timed) */
	for (uint32_t i = 0; i < n; i++) {
		client_cfg(&cc, cpriv[i % PEERS], spub, &c);
		c.nout = 0;
		if (jv_endpoint_new(&cc, i + 1, &c.ep) != 0) {
			fprintf(stderr, "handshake: cannot create a client\n");
			exit(1);
		}
		jv_endpoint_start(c.ep, i + 1);
		inits[i] = c.out[0];
		jv_endpoint_free(c.ep);
	}
	server_cfg(&sc, spriv, peers, PEERS, 2 * PEERS, &s);
	/* a thousand HS_INITs a virtual second: what is timed is the
	 * handshake, not the load mode's cookies or the per-source limit */
	sc.cookie_threshold_per_s = UINT32_MAX;
	sc.per_source_per_s = 1000000;
	if (jv_endpoint_new(&sc, 0, &s.ep) != 0) {
		fprintf(stderr, "handshake: cannot create the server\n");
		exit(1);
	}
	t0 = now_s();
	for (uint32_t i = 0; i < n; i++) {
		struct jv_path p = server_side_path((uint16_t)(i % PEERS));

		s.nout = 0;
		jv_endpoint_recv(s.ep, &p, inits[i].buf, inits[i].len, n + i);
	}
	dt = now_s() - t0;
	jv_endpoint_stats(s.ep, &st);
	if (st.handshakes_ok != n)
		fprintf(stderr, "handshake: only %llu of %u completed\n",
			(unsigned long long)st.handshakes_ok, n);
	r.rate = st.handshakes_ok / dt;
	jv_endpoint_free(s.ep);
	free(inits);
	return r;
}

/* ---- simulator ---- */

static struct result bench_sim(const char *file)
{
	struct jv_scenario *sc = calloc(1, sizeof(*sc));
	struct jv_sim_result res;
	struct jv_error err;
	char *buf = NULL;
	size_t len;
	double t0, dt, simulated = 0;
	struct result r = { 0, 1.0 };
	int runs = 0;

	if (!sc || jv_read_file(file, JV_FILE_MAX, &buf, &len, &err) != 0 ||
	    jv_scenario_parse(sc, buf, len, file, &err) != 0) {
		jv_print_error(&err);
		exit(1);
	}
	t0 = now_s();
	do {
		if (jv_sim_run(sc, &res) != 0 || !res.pass)
			fprintf(stderr, "sim: %s did not pass\n", sc->name);
		jv_sim_result_free(&res);
		simulated += (double)sc->duration_ms / 1000.0;
		runs++;
	} while ((dt = now_s() - t0) < 1.0 && runs < 1000);
	r.rate = simulated / dt;
	free(buf);
	free(sc);
	return r;
}

/* ---- memory ---- */

static double bench_memory(uint32_t sessions, size_t *per_struct)
{
	static struct jv_peer_cfg peer;
	struct node s = { .rng = 31, .lossy = true };
	struct jv_endpoint_cfg sc;
	uint8_t spriv[32];
	struct mallinfo2 a, b;

	world_random(&s, spriv, 32);
	world_random(&s, peer.public_key, 32);
	crypto_scalarmult_base(peer.public_key, peer.public_key);
	server_cfg(&sc, spriv, &peer, 1, sessions, &s);
	a = mallinfo2();
	if (jv_endpoint_new(&sc, 0, &s.ep) != 0) {
		fprintf(stderr, "memory: cannot create the server\n");
		exit(1);
	}
	b = mallinfo2();
	jv_endpoint_free(s.ep);
	*per_struct = sizeof(struct jv_session);
	/* the endpoint itself is a fixed cost; it is < 0.1% at this size */
	return (double)((b.uordblks + b.hblkhd) - (a.uordblks + a.hblkhd)) /
	       sessions;
}

int main(int argc, char **argv)
{
	const char *scenario = argc > 1 ? argv[1] :
				"tests/sim/1.1-transport-death-backup.yaml";
	uint32_t nreq = 200000, nhs = 4000;
	double aead, dh;
	struct result ok, forged, replayed, hs, sim;
	size_t per_struct;
	double mem;

	if (argc > 1 && (strcmp(argv[1], "-h") == 0 ||
			 strcmp(argv[1], "--help") == 0)) {
		printf("usage: jvbench [SCENARIO.yaml]\n");
		return 0;
	}
	if (sodium_init() < 0)
		return 1;
	aead = baseline_aead_open(70, 1000000);
	dh = baseline_x25519(4000);
	ok = bench_reattach(RA_ACCEPTED, nreq, aead);
	forged = bench_reattach(RA_FORGED, nreq, aead);
	replayed = bench_reattach(RA_REPLAYED, nreq, aead);
	hs = bench_handshake(nhs, dh);
	sim = bench_sim(scenario);
	mem = bench_memory(65536, &per_struct);

	printf("%-34s %14s %14s %8s %12s\n", "benchmark", "rate/s",
	       "baseline/s", "ratio", "target");
	printf("%-34s %14.0f %14.0f %8.3f %12s\n", "reattach accepted (switch)",
	       ok.rate, ok.base, ok.rate / ok.base, ">= 1000000");
	printf("%-34s %14.0f %14.0f %8.3f %12s\n", "reattach forged proof (denied)",
	       forged.rate, forged.base, forged.rate / forged.base, ">= 1000000");
	printf("%-34s %14.0f %14.0f %8.3f %12s\n", "reattach replayed (denied)",
	       replayed.rate, replayed.base, replayed.rate / replayed.base,
	       ">= 1000000");
	printf("%-34s %14.0f %14.0f %8.3f %12s\n", "handshakes as responder",
	       hs.rate, hs.base, hs.rate / hs.base, ">= 5000");
	printf("%-34s %14.0f %14s %8s %12s\n", "sim session-seconds per second",
	       sim.rate, "1 (real time)", "", "");
	printf("%-34s %14.0f %14zu %8.3f %12s\n",
	       "bytes per idle session (table)", mem, per_struct,
	       mem / 1024.0, "<= 1024");
	printf("baselines: ChaCha20-Poly1305 open of 70 B; X25519 scalar mult\n");
	return 0;
}
