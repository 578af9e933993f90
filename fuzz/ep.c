/* The endpoint harness (fuzz.h) and the property the endpoint targets
 * check on every record: input that fails authentication changes no
 * session, handshake or transport state. */
#include <math.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

static void on_send(void *ctx, const struct jv_path *path, const uint8_t *buf,
		    size_t len)
{
	struct fz_node *n = ctx;

	if (len > JV_WIRE_MAX)
		abort();                  /* the engine never sends more */
	n->sent++;
	if (n->nq < FZ_MAXQ) {
		n->q[n->nq].path = *path;
		n->q[n->nq].len = len;
		memcpy(n->q[n->nq].buf, buf, len);
		n->nq++;
	}
}

static void on_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct fz_node *n = ctx;

	(void)pkt;
	if (len > JV_INNER_MAX)
		abort();
	n->delivered++;
}

static void on_event(void *ctx, const char *line, size_t len)
{
	struct fz_node *n = ctx;

	if (len == 0 || len >= JV_EVENT_MAX || line[0] != '{' ||
	    line[len - 1] != '}' || memchr(line, '\n', len))
		abort();                  /* one JSON object per line */
	n->events++;
	if (memmem(line, len, "\"event_type\":\"Security", 22))
		n->security_events++;
}

static void rng(void *ctx, uint8_t *buf, size_t len)
{
	struct fz_node *n = ctx;

	for (size_t i = 0; i < len; i++) {
		n->rng = n->rng * 6364136223846793005ull + 1442695040888963407ull;
		buf[i] = (uint8_t)(n->rng >> 56);
	}
}

static const struct jv_endpoint_ops ops = { on_send, on_deliver, on_event,
					    rng, NULL };

void fz_world_init(struct fz_world *w)
{
	struct jv_endpoint_cfg cc, sc;
	uint8_t cpriv[32], spriv[32];

	if (sodium_init() < 0)
		abort();
	memset(w, 0, sizeof(*w));
	w->c.rng = 1;
	w->s.rng = 2;
	rng(&w->c, cpriv, 32);
	rng(&w->s, spriv, 32);
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
	jv_policy_defaults(&cc.policy);
	cc.ntransports = 2;
	snprintf(cc.transports[0].id, sizeof(cc.transports[0].id), "udp-a");
	cc.transports[0].proto = JV_PROTO_UDP;
	snprintf(cc.transports[1].id, sizeof(cc.transports[1].id), "tcp-b");
	cc.transports[1].proto = JV_PROTO_TCP;
	cc.server_allowed[0].addr = 0x0a4d0000;   /* 10.77.0.0/24 */
	cc.server_allowed[0].prefix = 24;
	cc.nserver_allowed = 1;
	cc.ops = ops;
	cc.ctx = &w->c;

	memset(&sc, 0, sizeof(sc));
	sc.role = JV_ROLE_SERVER;
	snprintf(sc.node_id, sizeof(sc.node_id), "gw-1");
	memcpy(sc.private_key, spriv, 32);
	sc.policy = cc.policy;
	sc.peers = &w->peer;
	sc.npeers = 1;
	sc.max_sessions = 4;
	sc.ops = ops;
	sc.ctx = &w->s;
	sodium_memzero(cpriv, sizeof(cpriv));
	sodium_memzero(spriv, sizeof(spriv));

	if (jv_endpoint_new(&cc, 0, &w->c.ep) != 0 ||
	    jv_endpoint_new(&sc, 0, &w->s.ep) != 0)
		abort();
}

void fz_world_free(struct fz_world *w)
{
	jv_endpoint_free(w->c.ep);
	jv_endpoint_free(w->s.ep);
	w->c.ep = w->s.ep = NULL;
}

void fz_deliver(struct fz_world *w, struct fz_node *n,
		const struct fz_dgram *d)
{
	struct jv_path p = { .proto = d->path.proto };

	if (n == &w->s) {
		p.len = 1;
		p.addr[0] = (uint8_t)d->path.local;
	} else {
		p.local = d->path.addr[0];
	}
	jv_endpoint_recv(n->ep, &p, d->buf, d->len, w->now);
}

void fz_handshake(struct fz_world *w)
{
	jv_endpoint_start(w->c.ep, w->now);
	if (w->c.nq != 1 || w->c.q[0].len != JV_HS_INIT_LEN)
		abort();
	w->c.nq = 0;
	fz_deliver(w, &w->s, &w->c.q[0]);
	if (w->s.nq != 1)
		abort();
	w->s.nq = 0;
	fz_deliver(w, &w->c, &w->s.q[0]);
	if (jv_endpoint_client_state(w->c.ep) != JV_STATE_ATTACHED)
		abort();
	w->c.nq = w->s.nq = 0;
}

/* ---- the property ---- */

#define FZ_MAXS 8
#define FZ_MAXT 4

/* What the endpoint shows of itself, at one instant. */
struct snap {
	struct jv_endpoint_stats st;
	uint32_t nsess;
	struct jv_session_info si[FZ_MAXS];
	int cstate;
	uint32_t ntr;
	struct jv_transport_info tr[FZ_MAXT];
	uint64_t sent, delivered, events, security_events;
};

static void take(const struct fz_world *w, const struct fz_node *n,
		 struct snap *s)
{
	uint32_t cur = 0;

	memset(s, 0, sizeof(*s));
	jv_endpoint_stats(n->ep, &s->st);
	while (s->nsess < FZ_MAXS &&
	       jv_endpoint_session_next(n->ep, &cur, w->now, &s->si[s->nsess]))
		s->nsess++;
	s->cstate = n == &w->c ? (int)jv_endpoint_client_state(n->ep) : -1;
	while (n == &w->c && s->ntr < FZ_MAXT &&
	       jv_endpoint_transport(n->ep, s->ntr, w->now, &s->tr[s->ntr]))
		s->ntr++;
	s->sent = n->sent;
	s->delivered = n->delivered;
	s->events = n->events;
	s->security_events = n->security_events;
}

static bool same_session(const struct jv_session_info *a,
			 const struct jv_session_info *b)
{
	return !memcmp(a->session_id, b->session_id, 16) &&
	       !strcmp(a->peer, b->peer) && a->state == b->state &&
	       a->state_version == b->state_version &&
	       !strcmp(a->transport, b->transport) &&
	       a->session_age_ms == b->session_age_ms &&
	       a->transportless_age_ms == b->transportless_age_ms &&
	       a->switches_last_min == b->switches_last_min &&
	       a->bytes_in == b->bytes_in && a->bytes_out == b->bytes_out &&
	       a->key_epoch == b->key_epoch;
}

static bool same_transport(const struct jv_transport_info *a,
			   const struct jv_transport_info *b)
{
	return !strcmp(a->id, b->id) && a->proto == b->proto &&
	       !strcmp(a->state, b->state) &&
	       (a->loss_ratio == b->loss_ratio ||
		(isnan(a->loss_ratio) && isnan(b->loss_ratio))) &&
	       a->rtt_ms == b->rtt_ms && a->last_rx_age_ms == b->last_rx_age_ms;
}

/* Every counter but the ones a refused datagram may move. */
static bool only_drops_moved(const struct snap *a, const struct snap *b)
{
	struct jv_endpoint_stats x = a->st, y = b->st;

	x.rx_packets = y.rx_packets = 0;
	x.rx_dropped = y.rx_dropped = 0;
	x.rx_auth_failed = y.rx_auth_failed = 0;
	x.security_events = y.security_events = 0;
	x.security_suppressed = y.security_suppressed = 0;
	return !memcmp(&x, &y, sizeof(x)) && a->delivered == b->delivered &&
	       a->events - a->security_events ==
		       b->events - b->security_events;
}

/* How often the property was put to the test; JV_FUZZ_STATS=1 prints it
 * at exit (docs/FUZZING.md), to see that the checks are not vacuous. */
static uint64_t n_records, n_refused, n_auth_failed;

__attribute__((destructor)) static void print_stats(void)
{
	if (n_records && getenv("JV_FUZZ_STATS"))
		fprintf(stderr, "datagrams %llu, refused %llu, of which "
			"failed authentication %llu\n",
			(unsigned long long)n_records,
			(unsigned long long)n_refused,
			(unsigned long long)n_auth_failed);
}

static void violation(const char *what)
{
	fprintf(stderr, "fuzz property violated: %s\n", what);
	abort();
}

/* A datagram that failed authentication (rx_auth_failed grew) may only
 * be counted, dropped and reported as a security event: no session,
 * handshake, transport or binding changes, nothing is sent. A datagram
 * that was only dropped (nothing but the drop counters and security
 * events moved) changes no state either, though it may draw an answer
 * (a copy of a reattach answer, a tombstone's). */
static void check(const struct snap *a, const struct snap *b)
{
	bool auth_failed = b->st.rx_auth_failed > a->st.rx_auth_failed;
	bool dropped = only_drops_moved(a, b) &&
		       (auth_failed || b->st.rx_dropped > a->st.rx_dropped ||
			b->security_events > a->security_events);

	if (auth_failed && !only_drops_moved(a, b))
		violation("a datagram that failed authentication moved a "
			  "counter or emitted a non-security event");
	n_records++;
	if (!dropped)
		return;
	n_refused++;
	n_auth_failed += auth_failed;
	if (auth_failed && b->sent != a->sent)
		violation("a datagram that failed authentication drew an "
			  "answer");
	if (a->nsess != b->nsess)
		violation("a dropped datagram changed the session count");
	for (uint32_t i = 0; i < a->nsess; i++)
		if (!same_session(&a->si[i], &b->si[i]))
			violation("a dropped datagram changed a session");
	if (a->cstate != b->cstate)
		violation("a dropped datagram changed the client's state");
	if (a->ntr != b->ntr)
		violation("a dropped datagram changed the transports");
	for (uint32_t i = 0; i < a->ntr; i++)
		if (!same_transport(&a->tr[i], &b->tr[i]))
			violation("a dropped datagram changed a transport");
}

bool fz_record(struct fz_world *w, struct fz_node *n, const uint8_t **p,
	       size_t *left)
{
	struct snap a, b;
	uint8_t h;
	unsigned what, path;

	if (*left == 0)
		return false;
	h = **p;
	(*p)++;
	(*left)--;
	path = h & 3;
	what = h >> 6;
	w->now += ((h >> 3) & 7) * FZ_TICK_MS;
	jv_endpoint_tick(n->ep, w->now);
	if (what != 0) {
		if (n == &w->c && what == 2)
			jv_endpoint_transport_down(n->ep, path, JV_R_LINK_DOWN,
						   w->now);
		else if (n == &w->c && what == 3)
			jv_endpoint_transport_up(n->ep, path, w->now);
		else if (what == 2)
			jv_endpoint_terminate(n->ep, NULL,
					      JV_R_OPERATOR_TERMINATED, w->now);
		return true;
	}
	if (*left < 2) {
		*left = 0;
		return false;
	}
	size_t len = (size_t)((*p)[0] | (*p)[1] << 8);
	*p += 2;
	*left -= 2;
	if (len > *left)
		len = *left;
	if (len > FZ_DGRAM_MAX)
		len = FZ_DGRAM_MAX;
	/* a copy of exactly len bytes, so ASan sees any overread */
	uint8_t *buf = malloc(len ? len : 1);
	struct jv_path jp = { .proto = (h & 4) ? JV_PROTO_TCP : JV_PROTO_UDP };

	if (!buf)
		abort();
	memcpy(buf, *p, len);
	*p += len;
	*left -= len;
	if (n == &w->s) {
		jp.len = 1;
		jp.addr[0] = (uint8_t)path;
	} else {
		jp.local = (uint16_t)path;
	}
	take(w, n, &a);
	jv_endpoint_recv(n->ep, &jp, buf, len, w->now);
	take(w, n, &b);
	check(&a, &b);
	free(buf);
	return true;
}

void fz_records(struct fz_world *w, struct fz_node *n, const uint8_t *data,
		size_t size)
{
	for (int i = 0; i < FZ_MAX_RECORDS && fz_record(w, n, &data, &size);
	     i++)
		;
}
