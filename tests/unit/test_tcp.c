/* The TCP stream decoder (io/tcp.c, jv_tcp_frames): frames delivered in
 * order, an incomplete one left for the next read, a bad length refused
 * after the good frames before it. */
#include <errno.h>
#include <string.h>

#include "io/tcp.h"
#include "tests/unit/unit.h"

struct got {
	size_t n;
	size_t len[8];
	uint8_t first[8];
};

static void on_frame(void *ctx, uint8_t *buf, size_t len)
{
	struct got *g = ctx;

	assert_true(g->n < 8);
	g->len[g->n] = len;
	g->first[g->n] = buf[0];
	g->n++;
}

JV_TEST(tcp_frames_complete_and_partial)
{
	/* [3]"abc" [1]"z" [5]"hel" (incomplete) */
	uint8_t b[] = { 0, 3, 'a', 'b', 'c', 0, 1, 'z', 0, 5, 'h', 'e', 'l' };
	struct got g = { 0 };
	size_t used = 99, frames = 1;

	assert_int_equal(jv_tcp_frames(b, sizeof(b), &used, &frames, on_frame,
				       &g), 0);
	assert_int_equal(used, 8);
	assert_int_equal(frames, 3);          /* added to what it held */
	assert_int_equal(g.n, 2);
	assert_int_equal(g.len[0], 3);
	assert_int_equal(g.first[0], 'a');
	assert_int_equal(g.len[1], 1);
	assert_int_equal(g.first[1], 'z');
}

JV_TEST(tcp_frames_short_prefix_and_empty)
{
	uint8_t b[] = { 0 };
	struct got g = { 0 };
	size_t used = 99, frames = 0;

	assert_int_equal(jv_tcp_frames(b, 0, &used, &frames, on_frame, &g), 0);
	assert_int_equal(used, 0);
	assert_int_equal(jv_tcp_frames(b, 1, &used, &frames, on_frame, &g), 0);
	assert_int_equal(used, 0);
	assert_int_equal(frames, 0);
	assert_int_equal(g.n, 0);
}

JV_TEST(tcp_frames_bad_length_after_good)
{
	static uint8_t b[8 + JV_WIRE_MAX];
	struct got g = { 0 };
	size_t used = 99, frames = 0;

	/* [1]"x" then a zero length */
	memcpy(b, (uint8_t[]){ 0, 1, 'x', 0, 0 }, 5);
	assert_int_equal(jv_tcp_frames(b, 5, &used, &frames, on_frame, &g),
			 -EPROTO);
	assert_int_equal(g.n, 1);
	assert_int_equal(used, 3);
	/* the largest length is taken, one more is refused */
	memset(&g, 0, sizeof(g));
	jv_put_be16(b, JV_WIRE_MAX);
	b[2] = 'm';
	assert_int_equal(jv_tcp_frames(b, 2 + JV_WIRE_MAX, &used, &frames,
				       on_frame, &g), 0);
	assert_int_equal(g.n, 1);
	assert_int_equal(g.len[0], JV_WIRE_MAX);
	jv_put_be16(b, JV_WIRE_MAX + 1);
	assert_int_equal(jv_tcp_frames(b, 2 + JV_WIRE_MAX + 1, &used, &frames,
				       on_frame, &g), -EPROTO);
	assert_int_equal(used, 0);
	assert_int_equal(g.n, 1);
}
