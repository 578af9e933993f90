/* The event loop's watch table and the TCP transport's per-call read
 * budget (issue #7, findings 3 and 4), on real descriptors. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/loop.h"
#include "io/tcp.h"

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
static void test_many_descriptors(void **state)
{
	struct jv_loop *l;
	struct hit *h = calloc(MANY, sizeof(*h));
	int sp[MANY][2];

	(void)state;
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

static void test_removed_in_round(void **state)
{
	struct pair p = { 0 };

	(void)state;
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
static void test_tcp_read_budget(void **state)
{
	struct jv_tcp_conn *c = malloc(sizeof(*c));
	struct frames f = { 0 };
	uint8_t fr[102];
	int sp[2], calls = 0, rc, prev = 0;
	int sz = 1 << 20;

	(void)state;
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_descriptors),
		cmocka_unit_test(test_removed_in_round),
		cmocka_unit_test(test_tcp_read_budget),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
