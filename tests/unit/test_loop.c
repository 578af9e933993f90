/* The event loop's watch table and the TCP transport's per-call read
 * budget on real descriptors, and the server's admission gate for TCP
 * connections (issue #7, findings 3 and 4). */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/loop.h"
#include "io/tcp.h"
#include "tests/unit/unit.h"

static void on_timeout(void *ctx)
{
	jv_loop_stop(ctx);
}

/* runs the loop for ms milliseconds */
static void run_for(struct jv_loop *l, uint64_t ms)
{
	jv_loop_set_timer(l, jv_mono_ms() + ms);
	assert_int_equal(jv_loop_run(l), 0);
}

#define MANY 300

struct hit {
	struct jv_loop *l;
	int fd;
	int calls;
};

static void on_hit(void *ctx, uint32_t events)
{
	struct hit *h = ctx;
	char b[16];

	(void)events;
	h->calls++;
	if (read(h->fd, b, sizeof(b)) <= 0)
		fail();
}

/* The table is not a fixed 64: a server with many TCP transports and the
 * control socket's clients all fit, and every one is served. */
JV_TEST(test_many_descriptors)
{
	struct jv_loop *l;
	struct hit *h = calloc(MANY, sizeof(*h));
	int sp[MANY][2];

	assert_non_null(h);
	assert_int_equal(jv_loop_new(&l), 0);
	jv_loop_on_timer(l, on_timeout, l);
	for (int i = 0; i < MANY; i++) {
		assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK,
					    0, sp[i]), 0);
		h[i].l = l;
		h[i].fd = sp[i][0];
		assert_int_equal(jv_loop_add(l, sp[i][0], EPOLLIN, on_hit, &h[i]),
				 0);
		assert_int_equal(write(sp[i][1], "x", 1), 1);
	}
	/* registered once only */
	assert_int_not_equal(jv_loop_add(l, sp[0][0], EPOLLIN, on_hit, &h[0]),
			     0);
	run_for(l, 50);
	for (int i = 0; i < MANY; i++)
		assert_int_equal(h[i].calls, 1);
	/* removing frees the entries: the same descriptors come back */
	for (int i = 0; i < MANY; i++)
		jv_loop_del(l, sp[i][0]);
	for (int i = 0; i < MANY; i++)
		assert_int_equal(jv_loop_add(l, sp[i][0], EPOLLIN, on_hit, &h[i]),
				 0);
	for (int i = 0; i < MANY; i++) {
		jv_loop_del(l, sp[i][0]);
		close(sp[i][0]);
		close(sp[i][1]);
	}
	jv_loop_free(l);
	free(h);
}

struct pair {
	struct jv_loop *l;
	int a[2], b[2];           /* a: the killer, b: its victim */
	int a_calls, b_calls, c_calls;
	int c[2];                 /* registered in b's place mid-round */
};

static void on_c(void *ctx, uint32_t events)
{
	struct pair *p = ctx;

	(void)events;
	p->c_calls++;
}

static void on_b(void *ctx, uint32_t events)
{
	struct pair *p = ctx;

	(void)events;
	p->b_calls++;
}

static void on_a(void *ctx, uint32_t events)
{
	struct pair *p = ctx;
	char x;

	(void)events;
	p->a_calls++;
	if (read(p->a[0], &x, 1) != 1)
		return;
	/* whichever of a and b the round reports first: b is gone, and a
	 * new descriptor (likely b's number, likely b's entry) takes its
	 * place; b's pending event must not reach it */
	jv_loop_del(p->l, p->b[0]);
	close(p->b[0]);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				    p->c), 0);
	assert_int_equal(jv_loop_add(p->l, p->c[0], EPOLLIN, on_c, p), 0);
}

JV_TEST(test_removed_in_round)
{
	struct pair p = { 0 };

	assert_int_equal(jv_loop_new(&p.l), 0);
	jv_loop_on_timer(p.l, on_timeout, p.l);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.a),
			 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, p.b),
			 0);
	/* b first: epoll reports in readiness order, so a comes first */
	assert_int_equal(write(p.a[1], "x", 1), 1);
	assert_int_equal(write(p.b[1], "y", 1), 1);
	assert_int_equal(jv_loop_add(p.l, p.a[0], EPOLLIN, on_a, &p), 0);
	assert_int_equal(jv_loop_add(p.l, p.b[0], EPOLLIN, on_b, &p), 0);
	run_for(p.l, 30);
	assert_int_equal(p.a_calls, 1);
	/* c has nothing to read: any call to it was b's stale event */
	assert_int_equal(p.c_calls, 0);
	assert_true(p.b_calls <= 1);
	jv_loop_del(p.l, p.a[0]);
	jv_loop_del(p.l, p.c[0]);
	close(p.a[0]);
	close(p.a[1]);
	close(p.b[1]);
	close(p.c[0]);
	close(p.c[1]);
	jv_loop_free(p.l);
}

static int order[4], norder;

static void on_first(void *ctx, uint32_t events)
{
	struct hit *h = ctx;
	char b[16];

	(void)events;
	if (read(h->fd, b, sizeof(b)) > 0 && norder < 4)
		order[norder++] = h->calls;
	jv_loop_stop(h->l);
}

/* A late descriptor waits for the others of its round, though epoll
 * reports it first (a flooded listener after the sessions' sockets). */
JV_TEST(test_late_served_last)
{
	struct jv_loop *l;
	int a[2], b[2];
	struct hit ha = { .calls = 1 }, hb = { .calls = 2 };

	assert_int_equal(jv_loop_new(&l), 0);
	jv_loop_on_timer(l, on_timeout, l);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, a),
			 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, b),
			 0);
	ha.l = hb.l = l;
	ha.fd = a[0];
	hb.fd = b[0];
	assert_int_equal(jv_loop_add(l, a[0], EPOLLIN, on_first, &ha), 0);
	assert_int_equal(jv_loop_add(l, b[0], EPOLLIN, on_first, &hb), 0);
	assert_int_equal(jv_loop_set_late(l, a[0], true), 0);
	assert_int_equal(jv_loop_set_late(l, 999, true), -ENOENT);
	/* a ready first: epoll reports in readiness order */
	assert_int_equal(write(a[1], "x", 1), 1);
	assert_int_equal(write(b[1], "y", 1), 1);
	norder = 0;
	/* the first callback stops the loop: whichever ran first is alone */
	run_for(l, 30);
	assert_int_equal(norder, 1);
	assert_int_equal(order[0], 2);
	for (int i = 0; i < 2; i++) {
		close(a[i]);
		close(b[i]);
	}
	jv_loop_free(l);
}

/* ---- the TCP read budget ---- */

struct frames {
	int n;
	int bad;
};

static void on_frame(void *ctx, uint8_t *buf, size_t len)
{
	struct frames *f = ctx;

	/* frame i carries i in its first two bytes, in order */
	if (len != 100 || buf[0] != (uint8_t)(f->n >> 8) ||
	    buf[1] != (uint8_t)f->n)
		f->bad++;
	f->n++;
}

#define NFRAMES 600

/* One connection streaming frames cannot keep one call reading: each call
 * returns after its budget, the rest waits for the next loop turn
 * (level-triggered epoll reports the socket again), nothing is lost. */
JV_TEST(test_tcp_read_budget)
{
	struct jv_tcp_conn *c = malloc(sizeof(*c));
	struct frames f = { 0 };
	uint8_t fr[102];
	int sp[2], calls = 0, rc, prev = 0;
	int sz = 1 << 20;

	assert_non_null(c);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp),
			 0);
	setsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	setsockopt(sp[0], SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	for (int i = 0; i < NFRAMES; i++) {
		memset(fr, 0xab, sizeof(fr));
		fr[0] = 0;
		fr[1] = 100;
		fr[2] = (uint8_t)(i >> 8);
		fr[3] = (uint8_t)i;
		assert_int_equal(write(sp[1], fr, sizeof(fr)), (ssize_t)sizeof(fr));
	}
	jv_tcp_init(c);
	c->fd = sp[0];
	while (f.n < NFRAMES && calls < NFRAMES) {
		rc = jv_tcp_read(c, on_frame, &f);
		assert_int_equal(rc, 0);
		calls++;
		/* each call: something, and at most the budget plus what
		 * was already buffered */
		assert_true(f.n > prev);
		assert_true(f.n - prev <= JV_TCP_READ_FRAMES +
				 JV_TCP_RXBUF / 102 + 1);
		prev = f.n;
	}
	assert_int_equal(f.n, NFRAMES);
	assert_int_equal(f.bad, 0);
	assert_true(calls >= NFRAMES / (JV_TCP_READ_FRAMES + JV_TCP_RXBUF / 102 + 1));
	/* drained: the next call finds nothing and says so */
	assert_int_equal(jv_tcp_read(c, on_frame, &f), 0);
	assert_int_equal(f.n, NFRAMES);
	/* EOF ends it */
	close(sp[1]);
	assert_int_equal(jv_tcp_read(c, on_frame, &f), -EPIPE);
	jv_tcp_close(c);
	free(c);
}

/* ---- the server's admission gate ---- */

static const struct sockaddr *src4(const char *ip)
{
	static struct sockaddr_in sa[8];
	static int k;
	struct sockaddr_in *a = &sa[k++ % 8];

	memset(a, 0, sizeof(*a));
	a->sin_family = AF_INET;
	a->sin_port = htons((uint16_t)(40000 + k));
	assert_int_equal(inet_pton(AF_INET, ip, &a->sin_addr), 1);
	return (const struct sockaddr *)a;
}

static const struct sockaddr *src6(const char *ip)
{
	static struct sockaddr_in6 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sin6_family = AF_INET6;
	assert_int_equal(inet_pton(AF_INET6, ip, &sa.sin6_addr), 1);
	return (const struct sockaddr *)&sa;
}

static uint32_t admit(struct jv_tcp_gate *g, const struct sockaddr *sa,
		      uint64_t now, bool want_evict)
{
	bool evict;
	uint32_t i = jv_tcp_gate_admit(g, sa, now, &evict);

	assert_true(i < g->nslots);
	assert_int_equal(evict, want_evict);
	assert_int_equal(g->slot[i].state, JV_TCP_SLOT_PRE);
	assert_int_equal(g->slot[i].since_ms, now);
	return i;
}

/* The bookkeeping agrees with itself: counts, lists, free stack, bounds. */
static void check_invariants(const struct jv_tcp_gate *g)
{
	uint32_t pre = 0, est = 0, fr = 0;

	for (uint32_t i = 0; i < g->nslots; i++) {
		const struct jv_tcp_slot *s = &g->slot[i];
		uint32_t same = 0;

		pre += s->state == JV_TCP_SLOT_PRE;
		est += s->state == JV_TCP_SLOT_EST;
		fr += s->state == JV_TCP_SLOT_FREE;
		if (s->state != JV_TCP_SLOT_PRE)
			continue;
		for (uint32_t j = 0; j < g->nslots; j++)
			same += g->slot[j].state == JV_TCP_SLOT_PRE &&
				g->slot[j].srclen == s->srclen &&
				memcmp(g->slot[j].src, s->src, s->srclen) == 0;
		assert_true(same <= g->per_source);
	}
	assert_int_equal(pre, g->npre);
	assert_int_equal(est, g->nest);
	assert_int_equal(fr, g->nfree);
	assert_true(g->npre <= g->pre_max);
	assert_true(g->nest <= g->est_max);
	for (uint32_t k = 0; k < g->npre; k++)
		assert_int_equal(g->slot[g->pre[k]].state, JV_TCP_SLOT_PRE);
	for (uint32_t k = 0; k < g->nfree; k++)
		assert_int_equal(g->slot[g->free[k]].state, JV_TCP_SLOT_FREE);
}

/* One source at its bound evicts its own oldest, never another's. */
JV_TEST(test_gate_per_source)
{
	struct jv_tcp_gate g;
	uint32_t a[3], b;

	assert_int_equal(jv_tcp_gate_init(&g, 8, 3, 2), 0);
	b = admit(&g, src4("192.0.2.9"), 5, false);
	for (int i = 0; i < 3; i++)
		a[i] = admit(&g, src4("192.0.2.1"), 10 + (uint64_t)i, false);
	/* the fourth from .1 replaces the oldest of .1 */
	assert_int_equal(admit(&g, src4("192.0.2.1"), 20, true), a[0]);
	assert_int_equal(admit(&g, src4("192.0.2.1"), 21, true), a[1]);
	assert_int_equal(admit(&g, src4("192.0.2.1"), 22, true), a[2]);
	assert_int_equal(admit(&g, src4("192.0.2.1"), 23, true), a[0]);
	assert_int_equal(g.slot[b].since_ms, 5);     /* untouched */
	assert_int_equal(g.npre, 4);
	check_invariants(&g);
	/* IPv6: one /64 is one source */
	admit(&g, src6("2001:db8:1:2::1"), 30, false);
	admit(&g, src6("2001:db8:1:2::2"), 31, false);
	admit(&g, src6("2001:db8:1:2:ffff::3"), 32, false);
	admit(&g, src6("2001:db8:1:2::4"), 33, true);
	admit(&g, src6("2001:db8:1:3::1"), 34, false);
	check_invariants(&g);
	jv_tcp_gate_free(&g);
}

/* All slots taken: the oldest connection of the source holding the most
 * goes, so an honest client with one connection outlasts a flood from a
 * few addresses however long it goes on. */
JV_TEST(test_gate_flood_evicts_itself)
{
	static const char *const flood[] = { "198.51.100.1", "198.51.100.2",
					     "198.51.100.3" };
	struct jv_tcp_gate g;
	uint32_t honest, victim_of[2];
	uint64_t t = 100;

	assert_int_equal(jv_tcp_gate_init(&g, 6, 4, 2), 0);
	/* .1 x4, .2 x2: full */
	for (int i = 0; i < 4; i++)
		admit(&g, src4(flood[0]), t++, false);
	victim_of[0] = g.pre[0];
	admit(&g, src4(flood[1]), t++, false);
	admit(&g, src4(flood[1]), t++, false);
	/* a newcomer evicts .1's oldest (.1 holds the most) */
	honest = admit(&g, src4("203.0.113.7"), t++, true);
	assert_int_equal(honest, victim_of[0]);
	/* .1 x3, .2 x2, honest x1: a tie between equals goes to the older */
	victim_of[1] = admit(&g, src4(flood[2]), t++, true);
	assert_int_equal(g.slot[victim_of[1]].src[3], 3);
	for (int i = 0; i < 1000; i++) {
		admit(&g, src4(flood[i % 3]), t++, true);
		check_invariants(&g);
		assert_int_equal(g.slot[honest].state, JV_TCP_SLOT_PRE);
		assert_int_equal(g.slot[honest].since_ms, 106);
	}
	/* it answers: established, out of the pre-handshake bound */
	assert_int_equal(jv_tcp_gate_promote(&g, honest, t), JV_TCP_NONE);
	assert_int_equal(g.slot[honest].state, JV_TCP_SLOT_EST);
	assert_int_equal(g.npre, 5);
	assert_int_equal(g.nest, 1);
	/* a pre slot is free again: the next one evicts nobody */
	admit(&g, src4("203.0.113.8"), t++, false);
	check_invariants(&g);
	jv_tcp_gate_free(&g);
}

/* Established connections: est_max, then the least recently active goes. */
JV_TEST(test_gate_established)
{
	struct jv_tcp_gate g;
	uint32_t a, b, c;

	assert_int_equal(jv_tcp_gate_init(&g, 4, 4, 2), 0);
	a = admit(&g, src4("192.0.2.1"), 1, false);
	b = admit(&g, src4("192.0.2.2"), 2, false);
	c = admit(&g, src4("192.0.2.3"), 3, false);
	assert_int_equal(jv_tcp_gate_promote(&g, a, 10), JV_TCP_NONE);
	assert_int_equal(jv_tcp_gate_promote(&g, b, 11), JV_TCP_NONE);
	/* promoting twice, or a free slot, changes nothing */
	assert_int_equal(jv_tcp_gate_promote(&g, a, 12), JV_TCP_NONE);
	assert_int_equal(g.nest, 2);
	jv_tcp_gate_seen(&g, a, 20);              /* a active, b silent */
	assert_int_equal(jv_tcp_gate_promote(&g, c, 21), b);
	assert_int_equal(g.slot[b].state, JV_TCP_SLOT_FREE);
	assert_int_equal(g.slot[c].state, JV_TCP_SLOT_EST);
	check_invariants(&g);
	jv_tcp_gate_release(&g, a);
	jv_tcp_gate_release(&g, a);               /* twice: harmless */
	check_invariants(&g);
	assert_int_equal(g.nest, 1);
	jv_tcp_gate_free(&g);
	assert_int_equal(jv_tcp_gate_init(&g, 0, 1, 1), JV_ERR_INVAL);
}

/* Pre-handshake: JV_TCP_PRE_TTL_MS from accept, whatever arrives;
 * established: idle time since the last datagram. */
JV_TEST(test_gate_expiry)
{
	struct jv_tcp_gate g;
	uint32_t p, e;
	const uint64_t ttl = JV_TCP_PRE_TTL_MS, idle = 15000;

	assert_int_equal(jv_tcp_gate_init(&g, 4, 4, 4), 0);
	p = admit(&g, src4("192.0.2.1"), 1000, false);
	e = admit(&g, src4("192.0.2.2"), 1000, false);
	jv_tcp_gate_promote(&g, e, 1500);
	for (uint64_t t = 1000; t < 1000 + ttl; t += 100) {
		jv_tcp_gate_seen(&g, p, t);           /* junk keeps nothing alive */
		assert_false(jv_tcp_gate_expired(&g, p, t, idle));
	}
	assert_true(jv_tcp_gate_expired(&g, p, 1000 + ttl, idle));
	assert_false(jv_tcp_gate_expired(&g, e, 1500 + idle - 1, idle));
	assert_true(jv_tcp_gate_expired(&g, e, 1500 + idle, idle));
	jv_tcp_gate_seen(&g, e, 1500 + idle);
	assert_false(jv_tcp_gate_expired(&g, e, 1500 + idle + 1, idle));
	jv_tcp_gate_release(&g, p);
	assert_false(jv_tcp_gate_expired(&g, p, UINT64_MAX / 2, idle));
	jv_tcp_gate_free(&g);
}

/* Random admits, answers, closes: the bounds and bookkeeping hold. */
JV_TEST(test_gate_random)
{
	struct jv_tcp_gate g;
	uint64_t seed = 0x9e3779b97f4a7c15ull, t = 0;
	char ip[32];

	assert_int_equal(jv_tcp_gate_init(&g, 16, 3, 5), 0);
	for (int n = 0; n < 20000; n++) {
		uint32_t r, i;
		bool evict;

		seed = seed * 6364136223846793005ull + 1442695040888963407ull;
		r = (uint32_t)(seed >> 33);
		t += r % 7;
		i = (r >> 8) % g.nslots;
		switch (r % 4) {
		case 0:
		case 1:
			snprintf(ip, sizeof(ip), "10.0.0.%u", (r >> 16) % 12);
			jv_tcp_gate_admit(&g, src4(ip), t, &evict);
			break;
		case 2:
			if (g.slot[i].state == JV_TCP_SLOT_PRE)
				jv_tcp_gate_promote(&g, i, t);
			break;
		default:
			jv_tcp_gate_release(&g, i);
		}
		check_invariants(&g);
	}
	jv_tcp_gate_free(&g);
}
