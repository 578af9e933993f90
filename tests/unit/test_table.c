/* Session table: lookups by index and id, bounded capacity, and the timer
 * wheel, checked directly and against a plain reference model. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/table.h"

static uint64_t rng_state;

static uint32_t rnd(void *ctx)
{
	uint64_t *s = ctx ? ctx : &rng_state;

	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return (uint32_t)(*s >> 32);
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

static void test_bounds(void **state)
{
	struct jv_table *t;

	(void)state;
	assert_int_equal(jv_table_new(&t, 0, rnd, NULL), JV_ERR_INVAL);
	assert_null(t);
	assert_int_equal(jv_table_new(&t, (1u << 20) + 1, rnd, NULL),
			 JV_ERR_INVAL);
	assert_int_equal(jv_table_new(&t, 1, rnd, NULL), 0);
	jv_table_free(t);
}

static void test_insert_lookup_remove(void **state)
{
	struct jv_table *t = table(100);
	uint32_t idx[100];
	uint8_t id[16];

	(void)state;
	for (uint32_t i = 0; i < 100; i++) {
		make_id(id, i);
		assert_int_equal(jv_table_insert(t, id, &tag[i], &idx[i]), 0);
		assert_int_not_equal(idx[i], 0);
	}
	assert_int_equal(jv_table_count(t), 100);
	for (uint32_t i = 0; i < 100; i++) {
		make_id(id, i);
		assert_ptr_equal(jv_table_by_index(t, idx[i]), &tag[i]);
		assert_ptr_equal(jv_table_by_id(t, id), &tag[i]);
	}
	make_id(id, 5);
	assert_int_equal(jv_table_insert(t, id, &tag[0], &idx[0]), JV_ERR_INVAL);
	jv_table_remove(t, idx[5]);
	assert_null(jv_table_by_index(t, idx[5]));
	assert_null(jv_table_by_id(t, id));
	make_id(id, 6);
	assert_ptr_equal(jv_table_by_id(t, id), &tag[6]);
	assert_int_equal(jv_table_count(t), 99);
	assert_null(jv_table_by_index(t, 0));
	jv_table_free(t);
}

static void test_stale_index(void **state)
{
	struct jv_table *t = table(1);
	uint32_t a, b;
	uint8_t id[16];

	(void)state;
	make_id(id, 1);
	assert_int_equal(jv_table_insert(t, id, &tag[1], &a), 0);
	jv_table_remove(t, a);
	make_id(id, 2);
	assert_int_equal(jv_table_insert(t, id, &tag[2], &b), 0);
	/* same slot, fresh random bits: the old index names nothing */
	assert_int_not_equal(a, b);
	assert_null(jv_table_by_index(t, a));
	assert_ptr_equal(jv_table_by_index(t, b), &tag[2]);
	jv_table_free(t);
}

static void test_full(void **state)
{
	struct jv_table *t = table(3);
	uint32_t idx[4];
	uint8_t id[16];

	(void)state;
	for (uint32_t i = 0; i < 3; i++) {
		make_id(id, i);
		assert_int_equal(jv_table_insert(t, id, &tag[i], &idx[i]), 0);
	}
	make_id(id, 3);
	assert_int_equal(jv_table_insert(t, id, &tag[3], &idx[3]), JV_ERR_FULL);
	jv_table_remove(t, idx[1]);
	assert_int_equal(jv_table_insert(t, id, &tag[3], &idx[3]), 0);
	jv_table_free(t);
}

static void test_iterate(void **state)
{
	struct jv_table *t = table(50);
	uint32_t idx[50], cur = 0, seen = 0;
	uint8_t id[16];
	int count[50] = { 0 };
	void *u;

	(void)state;
	for (uint32_t i = 0; i < 50; i++) {
		make_id(id, i);
		jv_table_insert(t, id, &tag[i], &idx[i]);
	}
	for (uint32_t i = 0; i < 50; i += 3)
		jv_table_remove(t, idx[i]);
	while ((u = jv_table_next(t, &cur))) {
		count[(int *)u - tag]++;
		seen++;
	}
	assert_int_equal(seen, jv_table_count(t));
	for (uint32_t i = 0; i < 50; i++)
		assert_int_equal(count[i], i % 3 ? 1 : 0);
	jv_table_free(t);
}

static void test_timer_exact(void **state)
{
	struct jv_table *t = table(8);
	uint32_t a, b, got;
	uint8_t id[16];

	(void)state;
	make_id(id, 1);
	jv_table_insert(t, id, &tag[1], &a);
	make_id(id, 2);
	jv_table_insert(t, id, &tag[2], &b);
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	jv_table_set_deadline(t, a, 1000);
	assert_true(jv_table_next_deadline(t) <= 1000);
	assert_null(jv_table_expire(t, 999, &got));
	assert_ptr_equal(jv_table_expire(t, 1000, &got), &tag[1]);
	assert_int_equal(got, a);
	assert_null(jv_table_expire(t, 1000, &got));
	/* replace, then cancel */
	jv_table_set_deadline(t, b, 2000);
	jv_table_set_deadline(t, b, 1500);
	assert_ptr_equal(jv_table_expire(t, 1600, &got), &tag[2]);
	jv_table_set_deadline(t, b, 3000);
	jv_table_set_deadline(t, b, UINT64_MAX);
	assert_null(jv_table_expire(t, 5000, &got));
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	/* removal cancels */
	jv_table_set_deadline(t, a, 6000);
	jv_table_remove(t, a);
	assert_null(jv_table_expire(t, 7000, &got));
	jv_table_free(t);
}

static void test_timer_past_and_same_ms(void **state)
{
	struct jv_table *t = table(8);
	uint32_t a, got;
	uint8_t id[16];

	(void)state;
	make_id(id, 1);
	jv_table_insert(t, id, &tag[1], &a);
	assert_null(jv_table_expire(t, 10000, &got));
	/* set in the past: due at once, and next_deadline is not late */
	jv_table_set_deadline(t, a, 50);
	assert_true(jv_table_next_deadline(t) <= 10000);
	assert_ptr_equal(jv_table_expire(t, 10000, &got), &tag[1]);
	/* set for the very ms just processed */
	jv_table_set_deadline(t, a, 10000);
	assert_true(jv_table_next_deadline(t) <= 10000);
	assert_ptr_equal(jv_table_expire(t, 10000, &got), &tag[1]);
	jv_table_free(t);
}

/* An entry not due on its bucket's turn must not hold time still. */
static void test_timer_not_due_moves_on(void **state)
{
	struct jv_table *t = table(8);
	uint32_t a, got;
	uint8_t id[16];
	uint64_t d1, d2;

	(void)state;
	make_id(id, 1);
	jv_table_insert(t, id, &tag[1], &a);
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

static void test_timer_far_and_jumps(void **state)
{
	struct jv_table *t = table(64);
	uint32_t idx[64], got;
	uint8_t id[16];
	const uint64_t day = 86400000;

	(void)state;
	for (uint32_t i = 0; i < 64; i++) {
		make_id(id, i);
		jv_table_insert(t, id, &tag[i], &idx[i]);
	}
	jv_table_set_deadline(t, idx[0], 5 * day + 7);
	jv_table_set_deadline(t, idx[1], 4096 * 3 + 1);
	for (uint32_t i = 2; i < 64; i++)
		jv_table_set_deadline(t, idx[i], 777);
	/* many due the same ms, in a deterministic order, all of them */
	{
		int n = 0;

		while (jv_table_expire(t, 777, &got))
			n++;
		assert_int_equal(n, 62);
	}
	assert_null(jv_table_expire(t, 4096 * 3, &got));
	assert_ptr_equal(jv_table_expire(t, 4096 * 3 + 1, &got), &tag[1]);
	assert_true(jv_table_next_deadline(t) <= 5 * day + 7);
	assert_null(jv_table_expire(t, 5 * day + 6, &got));
	assert_ptr_equal(jv_table_expire(t, 9 * day, &got), &tag[0]);
	assert_int_equal(jv_table_next_deadline(t), UINT64_MAX);
	jv_table_free(t);
}

/* Differential: random operations against a reference array. */
#define REF 512
struct ref {
	bool live;
	uint32_t idx;
	uint64_t deadline;
	uint8_t id[16];
};

static void test_differential(void **state)
{
	static struct ref ref[REF];
	struct jv_table *t = table(REF / 2);
	uint64_t r = 7, now = 0;
	uint32_t live = 0, next_id = 0;

	(void)state;
	memset(ref, 0, sizeof(ref));
	for (int op = 0; op < 200000; op++) {
		uint32_t k = rnd(&r) % REF, what = rnd(&r) % 100;

		if (what < 30 && !ref[k].live) {
			make_id(ref[k].id, next_id++);
			int rc = jv_table_insert(t, ref[k].id, &ref[k], &ref[k].idx);
			if (live == REF / 2) {
				assert_int_equal(rc, JV_ERR_FULL);
				continue;
			}
			assert_int_equal(rc, 0);
			ref[k].live = true;
			ref[k].deadline = UINT64_MAX;
			live++;
		} else if (what < 45 && ref[k].live) {
			jv_table_remove(t, ref[k].idx);
			assert_null(jv_table_by_index(t, ref[k].idx));
			assert_null(jv_table_by_id(t, ref[k].id));
			ref[k].live = false;
			live--;
		} else if (what < 75 && ref[k].live) {
			uint32_t span = rnd(&r) % 3 == 0 ? 20000 : 300;
			uint64_t at = now + rnd(&r) % span;

			if (rnd(&r) % 10 == 0)
				at = UINT64_MAX;
			jv_table_set_deadline(t, ref[k].idx, at);
			ref[k].deadline = at;
		} else if (what < 95) {
			uint64_t earliest = UINT64_MAX;
			uint32_t got;
			struct ref *e;

			for (int i = 0; i < REF; i++)
				if (ref[i].live && ref[i].deadline < earliest)
					earliest = ref[i].deadline;
			assert_true(jv_table_next_deadline(t) <= earliest);
			now += rnd(&r) % (rnd(&r) % 50 == 0 ? 30000 : 40);
			while ((e = jv_table_expire(t, now, &got))) {
				assert_true(e->live);
				assert_int_equal(got, e->idx);
				assert_true(e->deadline <= now);
				e->deadline = UINT64_MAX;
			}
			for (int i = 0; i < REF; i++)
				if (ref[i].live)
					assert_true(ref[i].deadline > now);
			/* nothing due: the next wake-up lies ahead */
			assert_true(jv_table_next_deadline(t) > now);
		} else if (ref[k].live) {
			assert_ptr_equal(jv_table_by_index(t, ref[k].idx), &ref[k]);
			assert_ptr_equal(jv_table_by_id(t, ref[k].id), &ref[k]);
		}
		assert_int_equal(jv_table_count(t), live);
	}
	jv_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds),
		cmocka_unit_test(test_insert_lookup_remove),
		cmocka_unit_test(test_stale_index),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_iterate),
		cmocka_unit_test(test_timer_exact),
		cmocka_unit_test(test_timer_past_and_same_ms),
		cmocka_unit_test(test_timer_not_due_moves_on),
		cmocka_unit_test(test_timer_far_and_jumps),
		cmocka_unit_test(test_differential),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
