/* The endpoint harness (fuzz.h) and the property the endpoint targets
 * check on every record: input that fails authentication changes no
 * session, handshake or transport state. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz.h"

void fz_world_init(struct world *w)
{
	struct world_opts o = { .max_sessions = 4, .second_tcp = true,
				.lossy = true };

	if (world_init(w, &o) != 0)
		abort();
}

void fz_handshake(struct world *w)
{
	jv_endpoint_start(w->c.ep, w->now);
	if (w->c.nout != 1 || w->c.out[0].len != JV_HS_INIT_LEN)
		abort();
	w->c.nout = 0;
	world_deliver(w, &w->s, &w->c.out[0]);
	if (w->s.nout != 1)
		abort();
	w->s.nout = 0;
	world_deliver(w, &w->c, &w->s.out[0]);
	if (jv_endpoint_client_state(w->c.ep) != JV_STATE_ATTACHED)
		abort();
	w->c.nout = w->s.nout = 0;
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

static void take(const struct world *w, const struct node *n,
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
	s->events = n->events_seen;
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
	x.rx_late = y.rx_late = 0;      /* the late among the unauthentic */
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

bool fz_record(struct world *w, struct node *n, const uint8_t **p,
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

void fz_records(struct world *w, struct node *n, const uint8_t *data,
		size_t size)
{
	for (int i = 0; i < FZ_MAX_RECORDS && fz_record(w, n, &data, &size);
	     i++)
		;
}
