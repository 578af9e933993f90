/* The replay window, after WireGuard's counter self-test: tables of
 * (counter, verdict) walked in order, for several window sizes, and a
 * differential run against a naive model (every counter ever accepted plus
 * the window rule). */
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/replay.h"
#include "tests/unit/rng.h"
#include "tests/unit/unit.h"

static const uint32_t sizes[] = { 64, 128, 2048 };

struct row {
	uint64_t counter;
	bool ok;
};

/* Checks then records each row; check must predict update's verdict. */
static void walk(struct jv_replay *r, const struct row *rows, size_t n,
		 uint32_t w)
{
	for (size_t i = 0; i < n; i++) {
		bool pred = jv_replay_check(r, rows[i].counter);
		int rc = jv_replay_update(r, rows[i].counter);

		if (pred != rows[i].ok || (rc == 0) != rows[i].ok ||
		    (rc != 0 && rc != JV_ERR_REPLAY))
			fail_msg("window %u, row %zu: counter %llu: want %s, "
				 "check %d update %d", w, i + 1,
				 (unsigned long long)rows[i].counter,
				 rows[i].ok ? "accept" : "reject", pred, rc);
	}
}

/* fn(r, W) for each window size W, r a window of W set up for it. */
static void each_size(void (*fn)(struct jv_replay *r, uint64_t W))
{
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		struct jv_replay r;

		jv_replay_init(&r, sizes[k]);
		fn(&r, sizes[k]);
	}
}

#define ROWS(...) do {                                                 \
		const struct row rows_[] = { __VA_ARGS__ };            \
		walk(r, rows_, sizeof(rows_) / sizeof(rows_[0]), W);   \
	} while (0)

/* The window holds W counters: [top - W, top), top = highest + 1. */
static void table_rows(struct jv_replay *r, uint64_t W)
{
	assert_int_equal(r->bits, W);
	ROWS({ 0, true },               /* first packet is 0 */
	     { 1, true },               /* in order */
	     { 1, false },              /* duplicate */
	     { 9, true },               /* gap */
	     { 8, true },               /* out of order in window */
	     { 7, true },
	     { 7, false },
	     { 0, false },              /* old duplicate */
	     { W + 10, true },          /* top W+11: edge is 11 */
	     { 11, true },              /* exactly at the edge */
	     { 10, false },             /* one past it, never seen */
	     { 11, false },
	     { W + 9, true },           /* just under top */
	     { W + 9, false },
	     { 12, true },
	     { W + 10, false },         /* the highest, again */
	     { 2 * W, true },           /* top 2W+1: edge W+1 */
	     { W + 1, true },
	     { W, false },
	     { W + 10, false },         /* still in window, seen */
	     { W + 11, true },          /* in window, never seen */
	     { 12 * W, true },          /* jump over several rings */
	     { 2 * W, false },
	     { 11 * W + 1, true },      /* edge: block was wiped */
	     { 11 * W, false },
	     { 12 * W - 1, true },
	     { 12 * W + W / 2, true },  /* jump inside one ring */
	     { 11 * W + W / 2 + 1, true }, /* new edge */
	     { 11 * W + W / 2, false },
	     { 12 * W, false },
	     { 12 * W + 1, true });     /* wiped block, in window */

	/* far jump from a small top to the last usable counter */
	jv_replay_init(r, (uint32_t)W);
	ROWS({ 5, true },
	     { UINT64_MAX - 1, true },
	     { 5, false },
	     { UINT64_MAX - W, true },      /* edge */
	     { UINT64_MAX - W - 1, false }, /* one past */
	     { UINT64_MAX - 1, false });

	/* near the top of the counter space */
	jv_replay_init(r, (uint32_t)W);
	ROWS({ UINT64_MAX - 3, true },  /* first packet, huge */
	     { UINT64_MAX, false },     /* top would wrap to 0 */
	     { UINT64_MAX - 1, true },
	     { UINT64_MAX - 1, false },
	     { UINT64_MAX, false },
	     { UINT64_MAX - 3, false },
	     { UINT64_MAX - 2, true },
	     { UINT64_MAX - 2, false },
	     { UINT64_MAX - W, true },
	     { UINT64_MAX - W - 1, false },
	     { 0, false },
	     { UINT64_MAX, false });
}

JV_TEST(test_table)
{
	each_size(table_rows);
}

/* WireGuard's loops, with our window of W counters (WireGuard's holds
 * W + 1, so its edge rows move by one). */
static void fill_window(struct jv_replay *r, uint64_t W)
{
	for (uint64_t i = 1; i < W; i++)
		ROWS({ i, true });
	ROWS({ 0, true }, { 0, false });   /* top W: edge 0 */

	jv_replay_init(r, (uint32_t)W);
	for (uint64_t i = 1; i <= W; i++)
		ROWS({ i, true });
	ROWS({ 0, false });                /* top W+1: edge 1 */

	jv_replay_init(r, (uint32_t)W);
	for (uint64_t i = 2; i <= W; i++)
		ROWS({ i, true });
	ROWS({ 1, true }, { 0, false }, { 1, false });

	/* descending: the whole window filled from the top */
	jv_replay_init(r, (uint32_t)W);
	for (uint64_t i = W; i-- > 0;)
		ROWS({ i, true });
	for (uint64_t i = 0; i < W; i++)
		ROWS({ i, false });

	jv_replay_init(r, (uint32_t)W);
	for (uint64_t i = W + 1; i-- > 1;)
		ROWS({ i, true });
	ROWS({ 0, false }, { W + 1, true }, { 1, false }, { 2, false });

	jv_replay_init(r, (uint32_t)W);
	for (uint64_t i = W; i-- > 1;)
		ROWS({ i, true });
	ROWS({ 0, true }, { W, true }, { 0, false });
}

JV_TEST(test_fill_window)
{
	each_size(fill_window);
}

/* A long in-order run: the ring wraps many times, and every counter of
 * the window is rejected afterwards. */
static void long_run(struct jv_replay *r, uint64_t W)
{
	const uint64_t end = 20 * W + 7;

	for (uint64_t i = 0; i < end; i++)
		assert_int_equal(jv_replay_update(r, i), 0);
	for (uint64_t i = 0; i < end; i++)
		assert_false(jv_replay_check(r, i));
	assert_int_equal(r->top, end);
}

JV_TEST(test_long_run)
{
	each_size(long_run);
}

JV_TEST(test_init_clamps)
{
	struct jv_replay r;

	jv_replay_init(&r, 0);
	assert_int_equal(r.bits, 64);
	jv_replay_init(&r, 100);
	assert_int_equal(r.bits, 64);
	jv_replay_init(&r, 1000000);
	assert_int_equal(r.bits, JV_REPLAY_MAX_BITS);
	assert_int_equal(r.top, 0);
	assert_true(jv_replay_check(&r, 0));
	assert_true(jv_replay_check(&r, UINT64_MAX - 1));
	assert_false(jv_replay_check(&r, UINT64_MAX));
}

/* ---- differential test ---- */

struct naive {
	uint64_t *seen;
	size_t n;
	uint64_t top;
	uint64_t w;
};

static bool naive_accepts(const struct naive *m, uint64_t c)
{
	if (c == UINT64_MAX)
		return false;
	if (c < m->top && m->top - c > m->w)
		return false;
	for (size_t i = 0; i < m->n; i++)
		if (m->seen[i] == c)
			return false;
	return true;
}

/* Counters clustered around the window: in order, behind (some past the
 * edge), exactly on and one past the edge, repeats, jumps of every size. */
static uint64_t next_counter(const struct naive *m, uint64_t last)
{
	uint64_t x = rnd(), top = m->top, back;

	switch (x % 20) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6:
		return top + (x >> 8) % 3;
	case 7: case 8: case 9: case 10: case 11:
		back = 1 + (x >> 8) % (m->w + m->w / 2);
		return top > back ? top - back : (x >> 32) % 4;
	case 12:
		return top > m->w ? top - m->w : 0;
	case 13:
		return top > m->w + 1 ? top - m->w - 1 : 0;
	case 14: case 15:
		return last;
	case 16: case 17:
		return top + (x >> 8) % (3 * m->w);
	case 18:
		return top + (x >> 8) % (1ull << 40);
	default:
		return top + (x >> 8) % (m->w / 64 + 1) * 64;
	}
}

static void differential(uint32_t w, uint64_t seed, uint64_t start, int steps)
{
	struct jv_replay r;
	struct naive m = { .w = w };
	uint64_t last = start;
	int accepted = 0, rejected = 0;

	rng_state = seed;
	m.seen = calloc((size_t)steps, sizeof(*m.seen));
	assert_non_null(m.seen);
	jv_replay_init(&r, w);
	m.top = 0;
	for (int i = 0; i < steps; i++) {
		uint64_t c = i == 0 ? start : next_counter(&m, last);
		bool want = naive_accepts(&m, c);
		bool pred = jv_replay_check(&r, c);
		int rc = jv_replay_update(&r, c);

		if (pred != want || (rc == 0) != want)
			fail_msg("window %u seed %llu step %d: counter %llu "
				 "(top %llu): want %d, check %d update %d", w,
				 (unsigned long long)seed, i,
				 (unsigned long long)c,
				 (unsigned long long)m.top, want, pred, rc);
		if (want) {
			m.seen[m.n++] = c;
			if (c >= m.top)
				m.top = c + 1;
			accepted++;
		} else {
			rejected++;
		}
		assert_int_equal(r.top, m.top);
		last = c;
	}
	/* the mix really exercised both verdicts */
	assert_true(accepted > steps / 4);
	assert_true(rejected > steps / 10);
	free(m.seen);
}

JV_TEST(test_differential)
{
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		differential(sizes[k], 1, 0, 4000);
		differential(sizes[k], 0xfeedface, 1000, 4000);
		differential(sizes[k], 42, 12345, 4000);
	}
	differential(192, 7, 0, 4000);   /* a ring of 4 blocks, not 2^n */
	differential(960, 8, 0, 4000);
}
