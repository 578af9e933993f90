/* The per-source token buckets (core/ratelimit.c): each source its own
 * bucket, refilled at its rate, in a table that never grows. */
#include <string.h>

#include "core/ratelimit.h"
#include "tests/unit/unit.h"

static struct jv_ratelimit rl;

/* Tags in distinct sets, so the table never has to choose. */
#define TAG(i) ((uint64_t)(i) * 0x10001 + 7)

/* A table of 20 a second, and the source's whole burst (100) taken at
 * now: one more is refused. */
static void spend_burst(uint64_t tag, uint64_t now)
{
	jv_ratelimit_init(&rl, 20);
	for (int i = 0; i < 100; i++)
		assert_true(jv_ratelimit_allow(&rl, tag, now));
	assert_false(jv_ratelimit_allow(&rl, tag, now));
}

JV_TEST(test_bucket_per_source)
{
	/* a burst of 5 s worth, then nothing until it refills */
	spend_burst(TAG(1), 1000);
	/* another source is not touched */
	assert_true(jv_ratelimit_allow(&rl, TAG(2), 1000));
	assert_int_equal(jv_ratelimit_live(&rl, 1000), 2);
}

JV_TEST(test_bucket_refill)
{
	spend_burst(TAG(1), 0);
	/* 20 a second: one every 50 ms */
	assert_false(jv_ratelimit_allow(&rl, TAG(1), 49));
	assert_true(jv_ratelimit_allow(&rl, TAG(1), 50));
	assert_false(jv_ratelimit_allow(&rl, TAG(1), 50));
	/* a second later: 20 more, not 21 */
	for (int i = 0; i < 20; i++)
		assert_true(jv_ratelimit_allow(&rl, TAG(1), 1050));
	assert_false(jv_ratelimit_allow(&rl, TAG(1), 1050));
	/* refilled to the burst, not beyond, and then as good as gone */
	assert_int_equal(jv_ratelimit_live(&rl, 1050), 1);
	assert_int_equal(jv_ratelimit_live(&rl, 1050 + 5000), 0);
	for (int i = 0; i < 100; i++)
		assert_true(jv_ratelimit_allow(&rl, TAG(1), 100000));
	assert_false(jv_ratelimit_allow(&rl, TAG(1), 100000));
	/* a clock that steps back refills nothing */
	assert_false(jv_ratelimit_allow(&rl, TAG(1), 50));
}

/* The refill rate may be lowered and raised (a server under load shares
 * its threshold among the sources): the burst stays, a fresh source
 * still starts full, and the sources heard since a time are counted. */
JV_TEST(test_bucket_refill_rate)
{
	spend_burst(TAG(1), 0);
	jv_ratelimit_set_refill(&rl, 2);
	/* 2 a second: one every 500 ms, not one every 50 */
	assert_false(jv_ratelimit_allow(&rl, TAG(1), 499));
	assert_true(jv_ratelimit_allow(&rl, TAG(1), 500));
	assert_false(jv_ratelimit_allow(&rl, TAG(1), 950));
	/* a fresh source has its whole burst */
	for (int i = 0; i < 100; i++)
		assert_true(jv_ratelimit_allow(&rl, TAG(2), 960));
	assert_false(jv_ratelimit_allow(&rl, TAG(2), 960));
	assert_int_equal(jv_ratelimit_active(&rl, 950), 2);
	assert_int_equal(jv_ratelimit_active(&rl, 951), 1);
	assert_int_equal(jv_ratelimit_active(&rl, 961), 0);
	/* back to the configured rate; 0 is taken as it (never stuck) */
	jv_ratelimit_set_refill(&rl, 0);
	/* 0.9 token at 950 (450 ms at 2 a second), + 1050 ms at 20 */
	for (int i = 0; i < 21; i++)
		assert_true(jv_ratelimit_allow(&rl, TAG(1), 2000));
	assert_false(jv_ratelimit_allow(&rl, TAG(1), 2000));
	/* never above the configured rate */
	jv_ratelimit_set_refill(&rl, 1000);
	for (int i = 0; i < 20; i++)
		assert_true(jv_ratelimit_allow(&rl, TAG(1), 3000));
	assert_false(jv_ratelimit_allow(&rl, TAG(1), 3000));
}

JV_TEST(test_table_bounded)
{
	jv_ratelimit_init(&rl, 1);
	/* far more sources than entries: each new one gets a bucket (the
	 * fullest one in its set gives way) and the table stays its size */
	for (uint64_t i = 1; i <= 10 * JV_RL_ENTRIES; i++)
		assert_true(jv_ratelimit_allow(&rl, i * 0x9e3779b97f4a7c15ull,
						0));
	assert_int_equal(jv_ratelimit_live(&rl, 0), JV_RL_ENTRIES);
	/* a source that spent its burst keeps its empty bucket: a fresh
	 * source takes the place of a fuller one */
	jv_ratelimit_init(&rl, 1);
	for (int i = 0; i < 5; i++)
		assert_true(jv_ratelimit_allow(&rl, TAG(3), 0));
	for (uint64_t i = 1; i <= JV_RL_WAYS * 4; i++)
		assert_true(jv_ratelimit_allow(&rl, TAG(3) + i * JV_RL_SETS, 0));
	assert_false(jv_ratelimit_allow(&rl, TAG(3), 0));
	/* tag 0 is a source like any other */
	assert_true(jv_ratelimit_allow(&rl, 0, 0));
}

/* Against a naive model: one bucket per source, in thousandths. */
JV_TEST(test_bucket_model)
{
	uint64_t model[8], at[8], now = 0, rng = 42;

	jv_ratelimit_init(&rl, 7);
	for (int i = 0; i < 8; i++) {
		model[i] = 35000;
		at[i] = 0;
	}
	for (int step = 0; step < 20000; step++) {
		int i;
		bool want;

		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		now += (rng >> 33) % 97;
		i = (int)((rng >> 20) % 8);
		model[i] += (now - at[i]) * 7;
		if (model[i] > 35000)
			model[i] = 35000;
		at[i] = now;
		want = model[i] >= 1000;
		if (want)
			model[i] -= 1000;
		assert_int_equal(jv_ratelimit_allow(&rl, TAG(i + 1), now), want);
	}
}
