/* Session table: lookups by index and id, bounded capacity, and the timer
 * wheel, checked directly and against a plain reference model. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/table.h"
#include "tests/unit/unit.h"

#define DAY 86400000ull

static uint64_t rng_state;

static uint32_t rnd(void *ctx)
{
	uint64_t *s = ctx ? ctx : &rng_state;

	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 32);
}

/* Scripted randomness: key draws and index draws from a list. */
struct script {
	const uint32_t *v;
	size_t n, pos;
};

static uint32_t scripted(void *ctx)
{
	struct script *sc = ctx;
	uint32_t r = sc->pos < sc->n ? sc->v[sc->pos] : 0;

	sc->pos++;
	return r;
}

static void make_id(uint8_t id[16], uint32_t n)
{
	memset(id, 0xab, 16);
	memcpy(id + 12, &n, 4);   /* ids share a long prefix on purpose */
}

static int tag[4096];

static struct jv_table *table(uint32_t cap)
{
	struct jv_table *t;

	rng_state = 42;
	assert_int_equal(jv_table_new(&t, cap, rnd, NULL), 0);
	return t;
}

/* Inserts n entries with ids 0..n-1 and users &tag[i]. */
static void fill(struct jv_table *t, uint32_t n, uint32_t *idx)
{
	uint8_t id[16];

	for (uint32_t i = 0; i < n; i++) {
		make_id(id, i);
		assert_int_equal(jv_table_insert(t, id, &tag[i], &idx[i]), 0);
	}
}

/* A table of capacity cap, full: ids 0..cap-1, users &tag[i]. */
static struct jv_table *full_table(uint32_t cap, uint32_t *idx)
{
	struct jv_table *t = table(cap);

	fill(t, cap, idx);
	return t;
}

/* A table of 8 for the timer tests: session a (id 1, user &tag[1]) and,
 * unless b is NULL, session b (id 2, user &tag[2]). */
static struct jv_table *table_ab(uint32_t *a, uint32_t *b)
{
	struct jv_table *t = table(8);
	uint8_t id[16];

	make_id(id, 1);
	jv_table_insert(t, id, &tag[1], a);
	if (b) {
		make_id(id, 2);
		jv_table_insert(t, id, &tag[2], b);
	}
	return t;
}

JV_TEST(test_bounds)
{
	struct jv_table *t = (struct jv_table *)&tag[0];

	assert_int_equal(jv_table_new(&t, 0, rnd, NULL), JV_ERR_INVAL);
	assert_null(t);
	assert_int_equal(jv_table_new(&t, (1u << 20) + 1, rnd, NULL),
			 JV_ERR_INVAL);
	assert_null(t);
	assert_int_equal(jv_table_new(&t, UINT32_MAX, rnd, NULL), JV_ERR_INVAL);
	assert_int_equal(jv_table_new(&t, 16, NULL, NULL), JV_ERR_INVAL);
	assert_int_equal(jv_table_new(&t, 1, rnd, NULL), 0);
	jv_table_free(t);
	jv_table_free(NULL);
}

/* The largest table fills exactly to its capacity. */
JV_TEST(test_max_capacity)
{
	const uint32_t cap = 1u << 20;
	struct jv_table *t = table(cap);
	uint32_t idx, first = 0;
	uint8_t id[16];

	for (uint32_t i = 0; i < cap; i++) {
		make_id(id, i);
		assert_int_equal(jv_table_insert(t, id, &tag[i % 4096], &idx),
				 0);
		assert_int_not_equal(idx, 0);
		assert_int_equal(idx & (cap - 1), i);
		if (i == 0)
			first = idx;
	}
	assert_int_equal(jv_table_count(t), cap);
	make_id(id, cap);
	assert_int_equal(jv_table_insert(t, id, &tag[0], &idx), JV_ERR_FULL);
	jv_table_remove(t, first);
	assert_int_equal(jv_table_insert(t, id, &tag[1], &idx), 0);
	assert_ptr_equal(jv_table_by_id(t, id), &tag[1]);
	make_id(id, cap - 1);
	assert_ptr_equal(jv_table_by_id(t, id), &tag[(cap - 1) % 4096]);
	jv_table_free(t);
}

JV_TEST(test_insert_lookup_remove)
{
	uint32_t idx[100];
	struct jv_table *t = full_table(100, idx);
	uint8_t id[16];

	assert_int_equal(jv_table_count(t), 100);
	for (uint32_t i = 0; i < 100; i++) {
		make_id(id, i);
		assert_int_not_equal(idx[i], 0);
		assert_ptr_equal(jv_table_by_index(t, idx[i]), &tag[i]);
		assert_ptr_equal(jv_table_by_id(t, id), &tag[i]);
	}
	/* a duplicate id is refused and changes nothing */
	make_id(id, 5);
	assert_int_equal(jv_table_insert(t, id, &tag[0], &idx[0]),
			 JV_ERR_INVAL);
	assert_ptr_equal(jv_table_by_id(t, id), &tag[5]);
	assert_int_equal(jv_table_count(t), 100);
	jv_table_remove(t, idx[5]);
	assert_null(jv_table_by_index(t, idx[5]));
	assert_null(jv_table_by_id(t, id));
	/* removing again, or an unknown index, is a no-op */
	jv_table_remove(t, idx[5]);
	jv_table_remove(t, 0);
	jv_table_remove(t, idx[6] ^ 0x80000000u);
	make_id(id, 6);
	assert_ptr_equal(jv_table_by_id(t, id), &tag[6]);
	assert_ptr_equal(jv_table_by_index(t, idx[6]), &tag[6]);
	assert_int_equal(jv_table_count(t), 99);
	assert_null(jv_table_by_index(t, 0));
	/* the id may come back once its session is gone */
	make_id(id, 5);
	assert_int_equal(jv_table_insert(t, id, &tag[7], &idx[5]), 0);
	assert_ptr_equal(jv_table_by_id(t, id), &tag[7]);
	jv_table_free(t);
}

JV_TEST(test_stale_index)
{
	struct jv_table *t = table(1);
	uint32_t a, b;
	uint8_t id[16];

	make_id(id, 1);
	assert_int_equal(jv_table_insert(t, id, &tag[1], &a), 0);
	jv_table_remove(t, a);
	make_id(id, 2);
	assert_int_equal(jv_table_insert(t, id, &tag[2], &b), 0);
	/* same slot, fresh random bits: the old index names nothing */
	assert_int_not_equal(a, b);
	assert_null(jv_table_by_index(t, a));
	assert_ptr_equal(jv_table_by_index(t, b), &tag[2]);
	/* and cannot touch the new occupant */
	jv_table_set_deadline(t, a, 10);
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	jv_table_remove(t, a);
	assert_int_equal(jv_table_count(t), 1);
	assert_ptr_equal(jv_table_by_index(t, b), &tag[2]);
	jv_table_free(t);
}

/* Indices from slots past a non-power-of-two capacity name nothing. */
JV_TEST(test_index_outside_capacity)
{
	uint32_t idx[5];
	struct jv_table *t = full_table(5, idx);

	for (uint32_t s = 5; s < 8; s++) {
		assert_null(jv_table_by_index(t, (idx[0] & ~7u) | s));
		jv_table_remove(t, (idx[0] & ~7u) | s);
		jv_table_set_deadline(t, (idx[0] & ~7u) | s, 1);
	}
	assert_int_equal(jv_table_count(t), 5);
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	jv_table_free(t);
}

/* Index 0 means "none": it must not name free slot 0 either. */
JV_TEST(test_index_zero_on_free_slot)
{
	struct jv_table *t = table(4);
	uint32_t idx[2];

	jv_table_remove(t, 0);
	jv_table_set_deadline(t, 0, 5);
	assert_null(jv_table_by_index(t, 0));
	assert_int_equal(jv_table_count(t), 0);
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	fill(t, 2, idx);
	jv_table_remove(t, idx[0]);
	jv_table_remove(t, 0);
	assert_int_equal(jv_table_count(t), 1);
	assert_ptr_equal(jv_table_by_index(t, idx[1]), &tag[1]);
	jv_table_free(t);
}

JV_TEST(test_index_never_zero)
{
	/* 4 key draws, then index draws: 0 and 0 must be redrawn */
	static const uint32_t v[] = { 1, 2, 3, 4, 0, 0, 0x700 };
	struct script sc = { v, sizeof(v) / sizeof(v[0]), 0 };
	struct jv_table *t;
	uint32_t idx;
	uint8_t id[16];

	assert_int_equal(jv_table_new(&t, 1, scripted, &sc), 0);
	make_id(id, 1);
	assert_int_equal(jv_table_insert(t, id, &tag[1], &idx), 0);
	assert_int_equal(idx, 0x700);
	assert_int_equal(sc.pos, 7);
	jv_table_remove(t, idx);
	/* a source stuck at 0 still yields a non-zero index for slot 0 */
	assert_int_equal(jv_table_insert(t, id, &tag[1], &idx), 0);
	assert_int_not_equal(idx, 0);
	assert_ptr_equal(jv_table_by_index(t, idx), &tag[1]);
	jv_table_free(t);

	/* each insert draws afresh: slot in the low bits, draw above */
	static const uint32_t w[] = { 0, 0, 0, 0, 0xdead0000, 0xbeef0003 };
	struct script sw = { w, sizeof(w) / sizeof(w[0]), 0 };
	uint32_t a, b;

	assert_int_equal(jv_table_new(&t, 4, scripted, &sw), 0);
	make_id(id, 1);
	assert_int_equal(jv_table_insert(t, id, &tag[1], &a), 0);
	make_id(id, 2);
	assert_int_equal(jv_table_insert(t, id, &tag[2], &b), 0);
	assert_int_equal(a, 0xdead0000);
	assert_int_equal(b, 0xbeef0001);
	jv_table_free(t);
}

JV_TEST(test_full)
{
	uint32_t idx[4];
	struct jv_table *t = full_table(3, idx);
	uint8_t id[16];

	make_id(id, 3);
	assert_int_equal(jv_table_insert(t, id, &tag[3], &idx[3]), JV_ERR_FULL);
	assert_null(jv_table_by_id(t, id));
	assert_int_equal(jv_table_count(t), 3);
	jv_table_remove(t, idx[1]);
	assert_int_equal(jv_table_insert(t, id, &tag[3], &idx[3]), 0);
	assert_ptr_equal(jv_table_by_index(t, idx[3]), &tag[3]);
	make_id(id, 4);
	assert_int_equal(jv_table_insert(t, id, &tag[4], &idx[3]), JV_ERR_FULL);
	jv_table_free(t);
}

JV_TEST(test_iterate)
{
	uint32_t idx[50], cur = 0, seen = 0, last = 0;
	struct jv_table *t = full_table(50, idx);
	int count[50] = { 0 };
	void *u;

	for (uint32_t i = 0; i < 50; i += 3)
		jv_table_remove(t, idx[i]);
	while ((u = jv_table_next(t, &cur))) {
		count[(int *)u - tag]++;
		seen++;
		assert_true(cur > last);
		last = cur;
	}
	assert_int_equal(seen, jv_table_count(t));
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(count[i], i % 3 ? 1 : 0);
	assert_null(jv_table_next(t, &cur));
	/* removing the entry just returned does not disturb the walk */
	cur = 0;
	seen = 0;
	while ((u = jv_table_next(t, &cur))) {
		jv_table_remove(t, idx[(int *)u - tag]);
		seen++;
	}
	assert_int_equal(seen, 33);
	assert_int_equal(jv_table_count(t), 0);
	cur = 0;
	assert_null(jv_table_next(t, &cur));
	jv_table_free(t);
}

static void prefix_id(uint8_t id[16], uint32_t i, uint32_t n)
{
	memset(id, i < n ? 0x5a : 0xa5, 16);
	id[i < n ? 14 : 0] = (uint8_t)(i >> 8);
	id[i < n ? 15 : 1] = (uint8_t)i;
}

/* 65536 ids equal in 14 of 16 bytes, then equal in all but the first two:
 * SipHash must spread both, and probing must tell them apart. */
JV_TEST(test_shared_prefix)
{
	const uint32_t n = 1u << 16;
	struct jv_table *t = table(2 * n);
	uint32_t *idx = calloc(2 * n, sizeof(*idx));
	uint8_t id[16];

	assert_non_null(idx);
	for (uint32_t i = 0; i < 2 * n; i++) {
		prefix_id(id, i, n);
		assert_int_equal(jv_table_insert(t, id, &tag[i % 4096],
						 &idx[i]), 0);
	}
	for (uint32_t i = 0; i < 2 * n; i += 2)
		jv_table_remove(t, idx[i]);
	assert_int_equal(jv_table_count(t), n);
	for (uint32_t i = 0; i < 2 * n; i++) {
		prefix_id(id, i, n);
		if (i % 2)
			assert_ptr_equal(jv_table_by_id(t, id), &tag[i % 4096]);
		else
			assert_null(jv_table_by_id(t, id));
	}
	memset(id, 0x5a, 16);
	id[7] = 0;
	assert_null(jv_table_by_id(t, id));
	free(idx);
	jv_table_free(t);
}

JV_TEST(test_timer_exact)
{
	uint32_t a, b, got;
	struct jv_table *t = table_ab(&a, &b);

	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	jv_table_set_deadline(t, a, 1000);
	assert_true(jv_table_next_deadline(t) <= 1000);
	assert_null(jv_table_expire(t, 999, &got));
	/* within one revolution this wheel knows the exact ms */
	assert_int_equal(jv_table_next_deadline(t), 1000);
	assert_ptr_equal(jv_table_expire(t, 1000, &got), &tag[1]);
	assert_int_equal(got, a);
	assert_null(jv_table_expire(t, 1000, &got));
	/* replace, earlier then later */
	jv_table_set_deadline(t, b, 2000);
	jv_table_set_deadline(t, b, 1500);
	assert_null(jv_table_expire(t, 1499, &got));
	assert_ptr_equal(jv_table_expire(t, 1600, &got), &tag[2]);
	jv_table_set_deadline(t, b, 1700);
	jv_table_set_deadline(t, b, 1900);
	assert_null(jv_table_expire(t, 1899, &got));
	assert_ptr_equal(jv_table_expire(t, 1900, &got), &tag[2]);
	/* cancel */
	jv_table_set_deadline(t, a, 2500);
	jv_table_set_deadline(t, b, 3000);
	jv_table_set_deadline(t, a, UINT64_MAX);
	assert_int_equal(jv_table_next_deadline(t), 3000);
	jv_table_set_deadline(t, b, UINT64_MAX);
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	assert_null(jv_table_expire(t, 5000, &got));
	/* removal cancels */
	jv_table_set_deadline(t, a, 6000);
	jv_table_remove(t, a);
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	assert_null(jv_table_expire(t, 7000, &got));
	jv_table_free(t);
}

JV_TEST(test_timer_past_and_same_ms)
{
	uint32_t a, b, got;
	struct jv_table *t = table_ab(&a, &b);

	assert_null(jv_table_expire(t, 10000, &got));
	/* set in the past: due at once, and next_deadline is not late */
	jv_table_set_deadline(t, a, 50);
	assert_true(jv_table_next_deadline(t) <= 50);
	assert_ptr_equal(jv_table_expire(t, 10000, &got), &tag[1]);
	assert_null(jv_table_expire(t, 10000, &got));
	/* set for the very ms just processed */
	jv_table_set_deadline(t, a, 10000);
	assert_true(jv_table_next_deadline(t) <= 10000);
	assert_ptr_equal(jv_table_expire(t, 10000, &got), &tag[1]);
	/* in the past, then time moves on a little before the call */
	jv_table_set_deadline(t, a, 9000);
	jv_table_set_deadline(t, b, 10003);
	assert_ptr_equal(jv_table_expire(t, 10005, &got), &tag[1]);
	assert_ptr_equal(jv_table_expire(t, 10005, &got), &tag[2]);
	assert_null(jv_table_expire(t, 10005, &got));
	/* in the past, then a jump of days */
	jv_table_set_deadline(t, a, 1);
	assert_ptr_equal(jv_table_expire(t, 3 * DAY, &got), &tag[1]);
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	jv_table_free(t);
}

/* now earlier than a previous call: nothing not yet due comes out. */
JV_TEST(test_timer_backwards)
{
	uint32_t a, got;
	struct jv_table *t = table_ab(&a, NULL);

	assert_null(jv_table_expire(t, 50000, &got));
	jv_table_set_deadline(t, a, 49950);
	assert_null(jv_table_expire(t, 49900, &got));
	assert_true(jv_table_next_deadline(t) <= 49950);
	assert_ptr_equal(jv_table_expire(t, 49950, &got), &tag[1]);
	jv_table_set_deadline(t, a, 50010);
	assert_null(jv_table_expire(t, 40000, &got));
	assert_null(jv_table_expire(t, 50009, &got));
	assert_ptr_equal(jv_table_expire(t, 50010, &got), &tag[1]);
	jv_table_free(t);
}

/* An entry not due on its bucket's turn must not hold time still. */
JV_TEST(test_timer_not_due_moves_on)
{
	uint32_t a, got;
	struct jv_table *t = table_ab(&a, NULL);
	uint64_t d1, d2;

	jv_table_set_deadline(t, a, 20000);
	d1 = jv_table_next_deadline(t);
	assert_true(d1 <= 20000);
	assert_null(jv_table_expire(t, d1, &got));
	d2 = jv_table_next_deadline(t);
	assert_true(d2 > d1 && d2 <= 20000);
	/* the same ms processed twice, then a deadline for that ms */
	assert_null(jv_table_expire(t, d1, &got));
	jv_table_set_deadline(t, a, d1);
	assert_true(jv_table_next_deadline(t) <= d1);
	assert_ptr_equal(jv_table_expire(t, d1, &got), &tag[1]);
	jv_table_free(t);
}

JV_TEST(test_timer_far_and_jumps)
{
	uint32_t idx[64], got;
	struct jv_table *t = full_table(64, idx);
	int n = 0;

	jv_table_set_deadline(t, idx[0], 5 * DAY + 7);
	jv_table_set_deadline(t, idx[1], 4096 * 3 + 1);
	for (uint32_t i = 2; i < 64; i++)
		jv_table_set_deadline(t, idx[i], 777);
	/* many due the same ms: all of them, each once */
	while (jv_table_expire(t, 777, &got)) {
		assert_ptr_equal(jv_table_by_index(t, got), &tag[got & 63]);
		assert_true((got & 63) >= 2);
		n++;
	}
	assert_int_equal(n, 62);
	/* idx[1] shares a bucket with 1 and 4097 and 8193: not due there */
	assert_null(jv_table_expire(t, 4096 * 3, &got));
	assert_ptr_equal(jv_table_expire(t, 4096 * 3 + 1, &got), &tag[1]);
	assert_true(jv_table_next_deadline(t) <= 5 * DAY + 7);
	assert_null(jv_table_expire(t, 5 * DAY + 6, &got));
	assert_ptr_equal(jv_table_expire(t, 9 * DAY, &got), &tag[0]);
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	jv_table_free(t);
}

/* Days pass between calls: due entries in every bucket come out, the
 * rest stay, and a first call far from 0 works too. */
JV_TEST(test_timer_day_jump)
{
	static uint32_t idx[4096];
	struct jv_table *t = full_table(4096, idx);
	const uint64_t base = 1700000000000ull;
	uint32_t got, n = 0;
	void *u;

	for (uint32_t i = 0; i < 4096; i++)
		jv_table_set_deadline(t, idx[i], base + i * 997ull % (4 * DAY));
	while ((u = jv_table_expire(t, base + 2 * DAY, &got))) {
		uint32_t i = (uint32_t)((int *)u - tag);

		assert_true(i * 997ull % (4 * DAY) <= 2 * DAY);
		n++;
	}
	for (uint32_t i = 0; i < 4096; i++)
		if (i * 997ull % (4 * DAY) <= 2 * DAY)
			n--;
	assert_int_equal(n, 0);
	assert_true(jv_table_next_deadline(t) > base + 2 * DAY);
	while (jv_table_expire(t, UINT64_MAX, &got))
		n++;
	assert_int_equal(n, 0);   /* nothing left: all were <= 4 days */
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	jv_table_free(t);
}

/* A jump of days interrupted after one pop: the entries left are as due
 * as before, to next_deadline and to a caller whose clock reads behind. */
JV_TEST(test_timer_jump_interrupted)
{
	static const uint64_t at[4] = { 100, 200, 300, 20 * DAY };
	struct jv_table *t = table(8);
	uint32_t idx[4], got;
	bool done[4] = { false };
	uint64_t min = UINT64_MAX;
	int *u;

	fill(t, 4, idx);
	for (int i = 0; i < 4; i++)
		jv_table_set_deadline(t, idx[i], at[i]);
	u = jv_table_expire(t, 10 * DAY, &got);
	assert_non_null(u);
	assert_true(u - tag < 3);
	done[u - tag] = true;
	for (int i = 0; i < 4; i++)
		if (!done[i] && at[i] < min)
			min = at[i];
	assert_true(jv_table_next_deadline(t) <= min);
	while ((u = jv_table_expire(t, 250, &got))) {
		assert_false(done[u - tag]);
		assert_true(at[u - tag] <= 250);
		done[u - tag] = true;
	}
	assert_true(done[0] && done[1]);
	if (!done[2]) {
		assert_true(jv_table_next_deadline(t) <= 300);
		assert_ptr_equal(jv_table_expire(t, 10 * DAY, &got), &tag[2]);
	}
	assert_null(jv_table_expire(t, 10 * DAY, &got));
	assert_true(jv_table_next_deadline(t) <= 20 * DAY);
	assert_null(jv_table_expire(t, 20 * DAY - 1, &got));
	assert_ptr_equal(jv_table_expire(t, 20 * DAY, &got), &tag[3]);
	jv_table_free(t);
}

/* One bucket holding entries due now between entries whole revolutions
 * away (4096 ms, the smallest wheel), changed between pops: removing the
 * entry the walk would look at next, relinking into the bucket, and a new
 * deadline for the very ms being walked. */
JV_TEST(test_timer_bucket_changes_between_pops)
{
	struct jv_table *t = table(16);
	uint32_t idx[6], got;
	bool seen[6] = { false };
	int *u;

	fill(t, 6, idx);
	/* linked at the head: the bucket reads 0, 1, 2, 3, 4 */
	jv_table_set_deadline(t, idx[4], 100);
	jv_table_set_deadline(t, idx[3], 100 + 2 * 4096);
	jv_table_set_deadline(t, idx[2], 100);
	jv_table_set_deadline(t, idx[1], 100 + 4096);
	jv_table_set_deadline(t, idx[0], 100);
	u = jv_table_expire(t, 100, &got);
	assert_non_null(u);
	seen[u - tag] = true;
	/* whichever came first, take out the far ones around it */
	jv_table_remove(t, idx[1]);
	assert_non_null(u = jv_table_expire(t, 100, &got));
	seen[u - tag] = true;
	jv_table_set_deadline(t, idx[3], 100 + 5 * 4096);
	jv_table_set_deadline(t, idx[5], 100);
	while ((u = jv_table_expire(t, 100, &got)))
		seen[u - tag] = true;
	assert_true(seen[0] && seen[2] && seen[4] && seen[5]);
	assert_false(seen[1] || seen[3]);
	assert_null(jv_table_expire(t, 100 + 5 * 4096 - 1, &got));
	assert_ptr_equal(jv_table_expire(t, 100 + 5 * 4096, &got), &tag[3]);
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	jv_table_free(t);
}

/* Once the last overdue entry is gone, the answer is exact again rather
 * than the old overdue time, which would wake the caller for nothing. */
JV_TEST(test_timer_overdue_gone)
{
	struct jv_table *t = table(8);
	uint32_t idx[2], got;

	fill(t, 2, idx);
	assert_null(jv_table_expire(t, 10000, &got));
	jv_table_set_deadline(t, idx[0], 50);
	jv_table_set_deadline(t, idx[1], 12000);
	assert_int_equal(jv_table_next_deadline(t), 50);
	jv_table_set_deadline(t, idx[0], UINT64_MAX);
	assert_int_equal(jv_table_next_deadline(t), 12000);
	jv_table_set_deadline(t, idx[0], 60);
	assert_ptr_equal(jv_table_expire(t, 10000, &got), &tag[0]);
	assert_int_equal(jv_table_next_deadline(t), 12000);
	jv_table_free(t);
}

/* The caller may remove or reschedule entries between pops. */
JV_TEST(test_timer_changes_while_expiring)
{
	struct jv_table *t = table(8);
	uint32_t idx[3], got;
	void *u;

	fill(t, 3, idx);
	for (int i = 0; i < 3; i++)
		jv_table_set_deadline(t, idx[i], 100);
	u = jv_table_expire(t, 100, &got);
	assert_non_null(u);
	/* remove one still due, reschedule the popped one into the past */
	jv_table_remove(t, idx[((int *)u - tag + 1) % 3]);
	jv_table_set_deadline(t, got, 90);
	assert_non_null(jv_table_expire(t, 100, &got));
	assert_non_null(jv_table_expire(t, 100, &got));
	assert_null(jv_table_expire(t, 100, &got));
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	jv_table_free(t);
}

/* Same operations, same order of expiry. */
static void run_order(uint32_t *out, int n)
{
	static uint32_t idx[256];
	struct jv_table *t = full_table(256, idx);
	uint64_t r = 99;
	int k = 0;

	for (int i = 0; i < 256; i++)
		jv_table_set_deadline(t, idx[i], 500 + rnd(&r) % 8);
	jv_table_remove(t, idx[17]);
	jv_table_set_deadline(t, idx[3], 200);
	while (k < n && jv_table_expire(t, 507, &out[k]))
		k++;
	assert_int_equal(k, n);
	assert_null(jv_table_expire(t, 507, &out[0]));
	jv_table_free(t);
}

JV_TEST(test_timer_order_deterministic)
{
	static uint32_t a[255], b[255];

	run_order(a, 255);
	run_order(b, 255);
	assert_memory_equal(a, b, sizeof(a));
}

/* Differential: random operations on two tables in lockstep against a
 * reference array. The tables must agree with the model on every lookup
 * and count, return exactly the due entries, and agree with each other on
 * the order. */
#define REF 600
#define IDS 900
struct ref {
	bool live;
	uint32_t idx;
	uint64_t deadline;
	uint32_t id;
};

static struct ref ref[REF];
static int owner[IDS];         /* ref holding id n, or -1 */
static uint32_t nref, nids;    /* refs and ids in play: 2 and 3 per slot */

static uint64_t earliest(void)
{
	uint64_t e = UINT64_MAX;

	for (uint32_t i = 0; i < nref; i++)
		if (ref[i].live && ref[i].deadline < e)
			e = ref[i].deadline;
	return e;
}

static bool live_index(uint32_t index)
{
	for (uint32_t i = 0; i < nref; i++)
		if (ref[i].live && ref[i].idx == index)
			return true;
	return false;
}

/* A walk interrupted by pops stands a little behind now: deadlines just
 * before now land on its tick, and whole revolutions of a 4096- or
 * 8192-bucket wheel later in the bucket it is walking. */
static uint64_t pick_deadline_near(uint64_t *r, uint64_t now)
{
	return now > 40 ? now - rnd(r) % 40 : now;
}

static uint64_t pick_deadline(uint64_t *r, uint64_t now)
{
	switch (rnd(r) % 12) {
	case 0:
		return UINT64_MAX;
	case 1:
		return now > 5000 ? now - rnd(r) % 5000 : 0;
	case 2:
		return now + rnd(r) % 20000;
	case 3:
		return now + rnd(r) % (3 * DAY);
	case 4: {
		uint64_t rev = rnd(r) % 2 ? 4096 : 8192;

		return pick_deadline_near(r, now) + rev * (1 + rnd(r) % 3);
	}
	case 5:
		return pick_deadline_near(r, now);
	default:
		return now + rnd(r) % 300;
	}
}

static uint64_t pick_step(uint64_t *r)
{
	switch (rnd(r) % 100) {
	case 0:
		return DAY + rnd(r) % DAY;
	case 1: case 2:
		return rnd(r) % 30000;
	default:
		return rnd(r) % 40;
	}
}

static void diff_expire(struct jv_table *t, struct jv_table *t2, uint64_t q)
{
	uint32_t got, got2;
	struct ref *e;

	assert_true(jv_table_next_deadline(t) <= earliest());
	while ((e = jv_table_expire(t, q, &got))) {
		assert_ptr_equal(jv_table_expire(t2, q, &got2), e);
		assert_int_equal(got, got2);
		assert_true(e->live);
		assert_int_equal(got, e->idx);
		assert_true(e->deadline <= q);
		e->deadline = UINT64_MAX;
	}
	assert_null(jv_table_expire(t2, q, &got2));
	assert_true(earliest() > q);
	/* nothing due: the next wake-up lies ahead */
	assert_true(jv_table_next_deadline(t) > q);
}

/* One call, as a caller does between other work: it must return a due
 * entry whenever one exists, and nothing else. */
static void diff_pop(struct jv_table *t, struct jv_table *t2, uint64_t q)
{
	uint32_t got, got2;
	struct ref *e = jv_table_expire(t, q, &got);

	assert_ptr_equal(jv_table_expire(t2, q, &got2), e);
	if (!e) {
		assert_true(earliest() > q);
		return;
	}
	assert_int_equal(got, got2);
	assert_true(e->live);
	assert_int_equal(got, e->idx);
	assert_true(e->deadline <= q);
	e->deadline = UINT64_MAX;
}

static void diff_iterate(struct jv_table *t)
{
	static uint8_t seen[REF];
	uint32_t cur = 0, n = 0;
	struct ref *e;

	memset(seen, 0, sizeof(seen));
	while ((e = jv_table_next(t, &cur))) {
		assert_true(e->live);
		assert_int_equal(seen[e - ref]++, 0);
		n++;
	}
	assert_int_equal(n, jv_table_count(t));
}

/* cap: most entries in play; tcap: the table's capacity (>= cap). */
static void differential(uint32_t cap, uint32_t tcap, int ops, uint64_t r)
{
	struct jv_table *t, *t2;
	uint64_t s1 = r, s2 = r, now = 0;
	uint32_t live = 0, stale[16] = { 0 }, nstale = 0;
	uint8_t id[16];

	nref = 2 * cap;
	nids = 3 * cap;
	memset(ref, 0, sizeof(ref));
	memset(owner, -1, sizeof(owner));
	assert_int_equal(jv_table_new(&t, tcap, rnd, &s1), 0);
	assert_int_equal(jv_table_new(&t2, tcap, rnd, &s2), 0);
	for (int op = 0; op < ops; op++) {
		uint32_t k = rnd(&r) % nref, what = rnd(&r) % 100;
		struct ref *e = &ref[k];

		if (what < 25 && !e->live) {
			uint32_t n = rnd(&r) % nids, i2;
			int rc;

			make_id(id, n);
			rc = jv_table_insert(t, id, e, &e->idx);
			assert_int_equal(jv_table_insert(t2, id, e, &i2), rc);
			if (owner[n] >= 0) {
				assert_int_equal(rc, JV_ERR_INVAL);
			} else if (live == tcap) {
				assert_int_equal(rc, JV_ERR_FULL);
			} else {
				assert_int_equal(rc, 0);
				assert_int_equal(i2, e->idx);
				assert_int_not_equal(e->idx, 0);
				e->live = true;
				e->deadline = UINT64_MAX;
				e->id = n;
				owner[n] = (int)k;
				live++;
			}
		} else if (what < 37 && e->live) {
			jv_table_remove(t, e->idx);
			jv_table_remove(t2, e->idx);
			e->live = false;
			owner[e->id] = -1;
			stale[nstale++ % 16] = e->idx;
			live--;
			make_id(id, e->id);
			assert_null(jv_table_by_id(t, id));
		} else if (what < 62 && e->live) {
			uint64_t at = pick_deadline(&r, now);

			jv_table_set_deadline(t, e->idx, at);
			jv_table_set_deadline(t2, e->idx, at);
			e->deadline = at;
		} else if (what < 72) {
			now += pick_step(&r);
			diff_expire(t, t2, now);
		} else if (what < 84) {
			now += pick_step(&r);
			diff_pop(t, t2, now);
		} else if (what < 88) {
			diff_pop(t, t2, now);
		} else if (what < 90) {
			diff_pop(t, t2, now > 50 ? now - rnd(&r) % 50 : now);
		} else if (what < 92) {
			/* a caller whose clock reads a little behind */
			diff_expire(t, t2, now > 50 ? now - rnd(&r) % 50 : now);
		} else if (what < 93) {
			diff_iterate(t);
		} else {
			uint32_t sx = stale[rnd(&r) % 16], any = rnd(&r);

			if (!live_index(sx))
				assert_null(jv_table_by_index(t, sx));
			if (!live_index(any))
				assert_null(jv_table_by_index(t, any));
			if (e->live) {
				make_id(id, e->id);
				assert_ptr_equal(jv_table_by_index(t, e->idx),
						 e);
				assert_ptr_equal(jv_table_by_id(t, id), e);
			} else {
				uint32_t n = rnd(&r) % nids;

				make_id(id, n);
				assert_ptr_equal(jv_table_by_id(t, id),
						 owner[n] < 0 ? NULL :
						 &ref[owner[n]]);
			}
		}
		assert_int_equal(jv_table_count(t), live);
		assert_int_equal(jv_table_count(t2), live);
		assert_true(jv_table_next_deadline(t) <= earliest());
	}
	diff_iterate(t);
	jv_table_free(t);
	jv_table_free(t2);
}

/* Tiny tables wrap their probe chains around the hash array's end and hit
 * full often; the large one spreads timers over many buckets; the last
 * has room for 128Ki sessions and so a wheel of more than 4096 buckets. */
JV_TEST(test_differential)
{
	differential(300, 300, 200000, 7);
	differential(5, 5, 50000, 11);
	differential(2, 2, 20000, 13);
	differential(1, 1, 5000, 17);
	differential(300, 1u << 17, 100000, 19);
}
