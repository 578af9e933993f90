/* UDP sockets on loopback only: a socket bound to the wildcard address
 * learns the address each datagram arrived at and answers from it (the
 * multihomed gateway of issue #7 finding 6: 127.0.0.2 plays the gateway's
 * second address, 127.0.0.1 the one the kernel would pick); the stray
 * datagram report is rate-limited. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/udp.h"
#include "tests/unit/unit.h"

struct got {
	int n;
	struct sockaddr_storage from;
	socklen_t from_len;
	struct jv_udp_local local;
	uint8_t buf[64];
	size_t len;
};

static void on_rx(void *ctx, const struct sockaddr *from, socklen_t from_len,
		  const struct jv_udp_local *local, uint8_t *buf, size_t len)
{
	struct got *g = ctx;

	g->n++;
	memcpy(&g->from, from, from_len);
	g->from_len = from_len;
	g->local = *local;
	g->len = len < sizeof(g->buf) ? len : sizeof(g->buf);
	memcpy(g->buf, buf, g->len);
}

static void wait_readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 2000), 1);
}

static struct sockaddr_in v4(const char *ip, uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port) };

	assert_int_equal(inet_pton(AF_INET, ip, &a.sin_addr), 1);
	return a;
}

static uint16_t bound_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&ss, &len), 0);
	return ntohs(ss.ss_family == AF_INET
			     ? ((struct sockaddr_in *)&ss)->sin_port
			     : ((struct sockaddr_in6 *)&ss)->sin6_port);
}

/* A gateway socket on 0.0.0.0, tracking arrival addresses or not. */
static struct jv_udp *gateway(int family, int track)
{
	struct jv_udp *u = malloc(sizeof(*u));
	struct jv_error err;

	assert_non_null(u);
	assert_int_equal(jv_udp_open(u, family, NULL, 0, NULL, false, &err), 0);
	if (track)
		assert_int_equal(jv_udp_track_local(u, &err), 0);
	return u;
}

static void gateway_free(struct jv_udp *u)
{
	jv_udp_close(u);
	free(u);
}

/* The client: a plain socket on 127.0.0.1 writing to 127.0.0.2. */
static int client4(void)
{
	struct sockaddr_in me = v4("127.0.0.1", 0);
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof(me)), 0);
	return fd;
}

/* "ping" from the client socket fd to the gateway u at to: u reads it,
 * one datagram, into g. */
static void ping(int fd, const struct sockaddr *to, socklen_t to_len,
		 struct jv_udp *u, struct got *g)
{
	assert_int_equal(sendto(fd, "ping", 4, 0, to, to_len), 4);
	wait_readable(u->fd);
	assert_int_equal(jv_udp_read(u, 1, on_rx, g), 1);
}

static void reply_source(int fd, struct sockaddr_in *src, const char *want)
{
	socklen_t len = sizeof(*src);
	char buf[64];

	wait_readable(fd);
	assert_int_equal(recvfrom(fd, buf, sizeof(buf), 0,
				  (struct sockaddr *)src, &len), 4);
	assert_memory_equal(buf, "pong", 4);
	assert_int_equal(len, sizeof(*src));
	assert_string_equal(inet_ntoa(src->sin_addr), want);
}

JV_TEST(test_v4_answers_from_arrival_address)
{
	struct jv_udp *u = gateway(AF_INET, 1);
	struct sockaddr_in to = v4("127.0.0.2", bound_port(u->fd)), src;
	struct got g = { 0 };
	int fd = client4();

	ping(fd, (struct sockaddr *)&to, sizeof(to), u, &g);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len, 4);
	assert_int_equal(g.local.family, AF_INET);
	assert_int_equal(g.local.addr.v4.s_addr, to.sin_addr.s_addr);

	/* from the arrival address: what the client wrote to */
	jv_udp_send(u, (struct sockaddr *)&g.from, g.from_len, &g.local,
		    (const uint8_t *)"pong", 4);
	assert_int_equal(jv_udp_flush(u), 0);
	reply_source(fd, &src, "127.0.0.2");
	assert_int_equal(src.sin_port, to.sin_port);

	/* the premise: left to the kernel, the reply comes from 127.0.0.1,
	 * a stranger to the client */
	jv_udp_send(u, (struct sockaddr *)&g.from, g.from_len, NULL,
		    (const uint8_t *)"pong", 4);
	assert_int_equal(jv_udp_flush(u), 0);
	reply_source(fd, &src, "127.0.0.1");

	/* one batch, sources mixed per datagram */
	jv_udp_send(u, (struct sockaddr *)&g.from, g.from_len, NULL,
		    (const uint8_t *)"pong", 4);
	jv_udp_send(u, (struct sockaddr *)&g.from, g.from_len, &g.local,
		    (const uint8_t *)"pong", 4);
	assert_int_equal(jv_udp_flush(u), 0);
	reply_source(fd, &src, "127.0.0.1");
	reply_source(fd, &src, "127.0.0.2");
	assert_int_equal(u->tx_dropped, 0);
	close(fd);
	gateway_free(u);
}

/* Nothing queued on fd right now. */
static void assert_quiet(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	assert_int_equal(poll(&p, 1, 50), 0);
}

/* A connected socket of the gateway's takes its peer's datagrams apart
 * from the shared socket's queue, arrival address and all; another
 * source still reaches the shared socket; and sharing the port lets no
 * other socket that did not ask for it bind there. */
/* A run of equal datagrams to one peer leaves as one UDP_SEGMENT send
 * (the last of it shorter), and the peer reads them one by one, each as
 * queued; a datagram to another peer in between ends a run. */
JV_TEST(test_gso_runs)
{
	struct jv_udp *u = gateway(AF_INET, 0);
	int fa = client4(), fb = client4();
	struct sockaddr_in a = v4("127.0.0.1", bound_port(fa)),
			   b = v4("127.0.0.1", bound_port(fb));
	uint8_t buf[1500], in[2000];
	/* to a: 20 of 1200, one of 700; to b: one; to a: 5 of 1200 */
	static const struct { int to_b; size_t len; } q[] = {
		{ 0, 1200 }, { 0, 1200 }, { 0, 1200 }, { 0, 1200 }, { 0, 1200 },
		{ 0, 1200 }, { 0, 1200 }, { 0, 1200 }, { 0, 1200 }, { 0, 1200 },
		{ 0, 1200 }, { 0, 1200 }, { 0, 1200 }, { 0, 1200 }, { 0, 1200 },
		{ 0, 1200 }, { 0, 1200 }, { 0, 1200 }, { 0, 1200 }, { 0, 1200 },
		{ 0, 700 }, { 1, 1200 }, { 0, 1200 }, { 0, 1200 }, { 0, 1200 },
		{ 0, 1200 }, { 0, 1200 },
	};
	const size_t nq = sizeof(q) / sizeof(q[0]);

	for (size_t i = 0; i < nq; i++) {
		memset(buf, (int)i, q[i].len);
		jv_udp_send(u, (struct sockaddr *)(q[i].to_b ? &b : &a),
			    sizeof(a), NULL, buf, q[i].len);
	}
	assert_int_equal(jv_udp_flush(u), 0);
	assert_int_equal(u->tx_dropped, 0);
	/* 0-20 (ended by the shorter), 21 alone, 22-26 */
	assert_int_equal(u->gso_sends, 2);
	for (size_t i = 0; i < nq; i++) {
		int fd = q[i].to_b ? fb : fa;
		ssize_t n;

		wait_readable(fd);
		n = recv(fd, in, sizeof(in), MSG_DONTWAIT);
		assert_int_equal(n, (ssize_t)q[i].len);
		memset(buf, (int)i, q[i].len);
		assert_memory_equal(in, buf, q[i].len);
	}
	assert_int_equal(recv(fa, in, sizeof(in), MSG_DONTWAIT), -1);
	close(fa);
	close(fb);
	gateway_free(u);
}

/* Every datagram handed on: its length and whether it is filled with one
 * byte, that byte. */
struct each {
	int n;
	size_t len[32];
	int fill[32];                   /* -1: not one byte throughout */
};

static void on_each(void *ctx, const struct sockaddr *from, socklen_t from_len,
		    const struct jv_udp_local *local, uint8_t *buf, size_t len)
{
	struct each *e = ctx;

	(void)from, (void)from_len, (void)local;
	assert_true(e->n < 32);
	e->len[e->n] = len;
	e->fill[e->n] = len ? buf[0] : -1;
	for (size_t i = 1; i < len; i++)
		if (buf[i] != buf[0])
			e->fill[e->n] = -1;
	e->n++;
}

/* UDP GRO into the shared pool: a sender's UDP_SEGMENT send (10 of 1000
 * bytes, one of 500) arrives as one read and is handed on as the 11
 * datagrams it was, each as sent. */
JV_TEST(test_gro_split)
{
	struct jv_udp *u = gateway(AF_INET, 0);
	struct jv_udp_pool *pool = jv_udp_pool_new();
	struct sockaddr_in to = v4("127.0.0.1", bound_port(u->fd));
	int fa = client4(), seg = 1000;
	static uint8_t buf[10500];
	struct each e = { 0 };

	assert_non_null(pool);
	assert_true(jv_udp_use_pool(u, pool));
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i / 1000 + 1);
	assert_int_equal(setsockopt(fa, SOL_UDP, UDP_SEGMENT, &seg,
				    sizeof(seg)), 0);
	assert_int_equal(sendto(fa, buf, sizeof(buf), 0,
				(struct sockaddr *)&to, sizeof(to)),
			 (ssize_t)sizeof(buf));
	for (int tries = 0; e.n < 11 && tries < 20; tries++) {
		wait_readable(u->fd);
		assert_true(jv_udp_read(u, 1, on_each, &e) >= 0);
	}
	assert_int_equal(e.n, 11);
	for (int i = 0; i < 11; i++) {
		assert_int_equal(e.len[i], i < 10 ? 1000 : 500);
		assert_int_equal(e.fill[i], i + 1);
	}
	/* joined by the kernel, split here */
	assert_int_equal(u->rx_gro, 1);
	close(fa);
	gateway_free(u);
	free(pool);
}

/* What the kernel dropped because the socket's queue was full is counted
 * (SO_RXQ_OVFL): 300 datagrams into a queue of a few, all read, then one
 * more that carries the count: read + counted == sent. */
JV_TEST(test_rx_queue_overflow_counted)
{
	struct jv_udp *u = gateway(AF_INET, 0);
	struct sockaddr_in to = v4("127.0.0.1", bound_port(u->fd));
	uint64_t dropped = 0;
	struct got g = { 0 };
	int fa = client4(), small = 1024, n = 0;

	u->rx_overflow_to = &dropped;
	assert_int_equal(setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &small,
				    sizeof(small)), 0);
	for (int i = 0; i < 300; i++)
		assert_int_equal(sendto(fa, "flood", 5, 0,
					(struct sockaddr *)&to, sizeof(to)), 5);
	while ((g.n = 0, jv_udp_read(u, 4, on_rx, &g)) > 0)
		n += g.n;
	assert_true(n > 0 && n < 300);
	assert_int_equal(sendto(fa, "last", 4, 0, (struct sockaddr *)&to,
				sizeof(to)), 4);
	wait_readable(u->fd);
	g.n = 0;
	assert_int_equal(jv_udp_read(u, 1, on_rx, &g), 1);
	assert_int_equal((int)dropped, 300 - n);
	close(fa);
	gateway_free(u);
}

JV_TEST(test_v4_connected_socket_own_queue)
{
	struct jv_udp *u = gateway(AF_INET, 1), *other = malloc(sizeof(*other));
	struct sockaddr_in to = v4("127.0.0.2", bound_port(u->fd)), a;
	socklen_t len = sizeof(a);
	struct jv_error err;
	struct got g = { 0 };
	int fa = client4(), fb = client4(), cfd;
	uint32_t ovfl = 0;

	assert_int_equal(jv_udp_share(u), 0);
	assert_int_equal(getsockname(fa, (struct sockaddr *)&a, &len), 0);
	cfd = jv_udp_connected_open(u, (struct sockaddr *)&to, sizeof(to),
				    (struct sockaddr *)&a, sizeof(a));
	assert_true(cfd >= 0);

	assert_int_equal(sendto(fa, "ping", 4, 0, (struct sockaddr *)&to,
				sizeof(to)), 4);
	wait_readable(cfd);
	assert_quiet(u->fd);
	assert_int_equal(jv_udp_read_fd(u, cfd, &ovfl, 1, on_rx, &g), 1);
	assert_int_equal(g.n, 1);
	assert_memory_equal(&g.from, &a, sizeof(a));
	assert_int_equal(g.local.family, AF_INET);
	assert_int_equal(g.local.addr.v4.s_addr, to.sin_addr.s_addr);

	assert_int_equal(sendto(fb, "ping", 4, 0, (struct sockaddr *)&to,
				sizeof(to)), 4);
	wait_readable(u->fd);
	assert_quiet(cfd);
	assert_int_equal(jv_udp_read(u, 1, on_rx, &g), 1);
	assert_int_equal(g.n, 2);

	assert_non_null(other);
	assert_int_equal(jv_udp_open(other, AF_INET, (struct sockaddr *)&to,
				     sizeof(to), NULL, false, &err), JV_ERR_INVAL);
	free(other);
	close(cfd);
	close(fa);
	close(fb);
	gateway_free(u);
}

JV_TEST(test_v4_untracked)
{
	struct jv_udp *u = gateway(AF_INET, 0);
	struct sockaddr_in to = v4("127.0.0.2", bound_port(u->fd));
	struct got g = { 0 };
	int fd = client4();

	ping(fd, (struct sockaddr *)&to, sizeof(to), u, &g);
	assert_int_equal(g.local.family, 0);
	close(fd);
	gateway_free(u);
}

/* A source the host does not hold: the send fails, the datagram counts as
 * dropped, the next one still goes. */
JV_TEST(test_v4_foreign_source)
{
	struct jv_udp *u = gateway(AF_INET, 1);
	struct sockaddr_in to;
	struct jv_udp_local bad = { .family = AF_INET };
	int fd = client4();
	socklen_t len = sizeof(to);

	assert_int_equal(getsockname(fd, (struct sockaddr *)&to, &len), 0);
	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", &bad.addr.v4), 1);
	jv_udp_send(u, (struct sockaddr *)&to, sizeof(to), &bad,
		    (const uint8_t *)"pong", 4);
	jv_udp_send(u, (struct sockaddr *)&to, sizeof(to), NULL,
		    (const uint8_t *)"pong", 4);
	assert_true(jv_udp_flush(u) < 0);
	assert_int_equal(u->tx_dropped, 1);
	reply_source(fd, &to, "127.0.0.1");
	close(fd);
	gateway_free(u);
}

JV_TEST(test_v6_answers_from_arrival_address)
{
	struct sockaddr_in6 me = { .sin6_family = AF_INET6,
				   .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct sockaddr_in6 to = me, src;
	struct jv_udp *u;
	struct got g = { 0 };
	socklen_t len = sizeof(src);
	char buf[16];
	int fd = socket(AF_INET6, SOCK_DGRAM, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) != 0) {
		if (fd >= 0)
			close(fd);
		skip();   /* no IPv6 on this host */
	}
	u = gateway(AF_INET6, 1);
	to.sin6_port = htons(bound_port(u->fd));
	ping(fd, (struct sockaddr *)&to, sizeof(to), u, &g);
	assert_int_equal(g.local.family, AF_INET6);
	assert_memory_equal(&g.local.addr.v6, &in6addr_loopback, 16);
	jv_udp_send(u, (struct sockaddr *)&g.from, g.from_len, &g.local,
		    (const uint8_t *)"pong", 4);
	assert_int_equal(jv_udp_flush(u), 0);
	wait_readable(fd);
	assert_int_equal(recvfrom(fd, buf, sizeof(buf), 0,
				  (struct sockaddr *)&src, &len), 4);
	assert_memory_equal(&src.sin6_addr, &in6addr_loopback, 16);
	assert_int_equal(src.sin6_port, to.sin6_port);

	/* an IPv4 source on an IPv6 socket is not used */
	g.local.family = AF_INET;
	jv_udp_send(u, (struct sockaddr *)&g.from, g.from_len, &g.local,
		    (const uint8_t *)"pong", 4);
	assert_int_equal(jv_udp_flush(u), 0);
	wait_readable(fd);
	assert_int_equal(recv(fd, buf, sizeof(buf), 0), 4);
	close(fd);
	gateway_free(u);
}

/* (now, what jv_udp_stray_note reports) in order: the first drop at once,
 * then at most one report per JV_UDP_STRAY_REPORT_MS, carrying the count
 * of the drops kept quiet since. */
/* A dual-stack [::] socket: an IPv4 client arrives IPv4-mapped, with the
 * mapped address it wrote to; unmapped, it is the client's IPv4 address;
 * mapped back, the reply leaves from the address the client wrote to. A
 * V6ONLY socket on the same port would not have heard it. */
JV_TEST(test_dual_stack_v4_client)
{
	struct jv_udp *u = malloc(sizeof(*u));
	struct sockaddr_in6 any = { .sin6_family = AF_INET6 }, m6;
	struct sockaddr_in to, src, back;
	struct sockaddr_storage peer;
	struct jv_udp_local from;
	struct jv_error err;
	struct got g = { 0 };
	socklen_t plen;
	int fd = client4();

	assert_non_null(u);
	assert_int_equal(jv_udp_open(u, AF_INET6, (struct sockaddr *)&any,
				     sizeof(any), NULL, true, &err), 0);
	assert_int_equal(jv_udp_track_local(u, &err), 0);
	to = v4("127.0.0.2", bound_port(u->fd));
	ping(fd, (struct sockaddr *)&to, sizeof(to), u, &g);
	assert_int_equal(g.from.ss_family, AF_INET6);
	assert_true(IN6_IS_ADDR_V4MAPPED(&((struct sockaddr_in6 *)&g.from)->sin6_addr));
	assert_int_equal(g.local.family, AF_INET6);
	assert_true(IN6_IS_ADDR_V4MAPPED(&g.local.addr.v6));
	assert_memory_equal(&g.local.addr.v6.s6_addr[12], &to.sin_addr, 4);

	peer = g.from;
	plen = g.from_len;
	assert_true(jv_sockaddr_unmap(&peer, &plen));
	assert_int_equal(plen, sizeof(struct sockaddr_in));
	memcpy(&back, &peer, sizeof(back));
	assert_string_equal(inet_ntoa(back.sin_addr), "127.0.0.1");
	assert_false(jv_sockaddr_unmap(&peer, &plen));     /* IPv4 already */

	/* the reply, mapped again: to the client, from 127.0.0.2 */
	jv_sockaddr_map(&back, &m6);
	assert_memory_equal(&m6, &g.from, sizeof(m6));
	from = g.local;
	jv_udp_send(u, (struct sockaddr *)&m6, sizeof(m6), &from,
		    (const uint8_t *)"pong", 4);
	assert_int_equal(jv_udp_flush(u), 0);
	reply_source(fd, &src, "127.0.0.2");
	close(fd);
	gateway_free(u);
}

JV_TEST(test_stray_report)
{
	static const struct { uint64_t now, report; } rows[] = {
		{ 5000, 1 },
		{ 5001, 0 },
		{ 9000, 0 },
		{ 14999, 0 },
		{ 15000, 4 },    /* 5001, 9000, 14999 and this one */
		{ 15000, 0 },
		{ 90000, 2 },    /* a quiet spell: the next one goes at once */
		{ 90000 + JV_UDP_STRAY_REPORT_MS - 1, 0 },
		{ 90000 + JV_UDP_STRAY_REPORT_MS, 2 },
	};
	struct jv_udp_stray s = { 0 };

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(jv_udp_stray_note(&s, rows[i].now),
				 rows[i].report);

	/* the first drop reports even at time 0 */
	memset(&s, 0, sizeof(s));
	assert_int_equal(jv_udp_stray_note(&s, 0), 1);
	assert_int_equal(jv_udp_stray_note(&s, 1), 0);
}
