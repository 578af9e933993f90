/* The switch limiter: cooldown and sliding-minute edges to the millisecond,
 * and a differential run against a naive list of every switch ever made. */
#include <string.h>

#include "core/fsm.h"
#include "core/limiter.h"
#include "core/policy.h"
#include "tests/unit/rng.h"
#include "tests/unit/unit.h"

/* CONTRACT section 3 defaults, by hand (policy.c is not ours to call). */
static void contract_policy(struct jv_policy *p)
{
	memset(p, 0, sizeof(*p));
	p->max_switches_per_min = 8;
	p->switch_cooldown_ms = 1500;
}

JV_TEST(test_fresh)
{
	struct jv_limiter l;
	struct jv_policy p;

	contract_policy(&p);
	jv_limiter_init(&l);
	assert_int_equal(jv_limiter_check(&l, &p, 0), 0);
	assert_int_equal(jv_limiter_check(&l, &p, 123456), 0);
	assert_int_equal(jv_limiter_count(&l, 0), 0);
}

JV_TEST(test_cooldown_edges)
{
	struct jv_limiter l;
	struct jv_policy p;

	contract_policy(&p);
	jv_limiter_init(&l);
	jv_limiter_record(&l, 1000);
	assert_int_equal(jv_limiter_check(&l, &p, 1000), JV_R_COOLDOWN_ACTIVE);
	assert_int_equal(jv_limiter_check(&l, &p, 2499), JV_R_COOLDOWN_ACTIVE);
	assert_int_equal(jv_limiter_check(&l, &p, 2500), 0);
	/* time going backwards never opens the gate */
	assert_int_equal(jv_limiter_check(&l, &p, 999), JV_R_COOLDOWN_ACTIVE);
	/* cooldown 0: only the rate applies */
	p.switch_cooldown_ms = 0;
	assert_int_equal(jv_limiter_check(&l, &p, 1000), 0);
}

/* Eight switches 1500 ms apart, from t = 0 to t = 10500. */
static void fill8(struct jv_limiter *l)
{
	jv_limiter_init(l);
	for (uint64_t t = 0; t <= 10500; t += 1500)
		jv_limiter_record(l, t);
}

JV_TEST(test_rate_edges)
{
	struct jv_limiter l;
	struct jv_policy p;

	contract_policy(&p);
	fill8(&l);
	assert_int_equal(jv_limiter_count(&l, 10500), 8);
	assert_int_equal(jv_limiter_check(&l, &p, 12000),
			 JV_R_SWITCH_RATE_LIMITED);
	/* the switch at 0 is inside (now - 60000, now] until 59999 ... */
	assert_int_equal(jv_limiter_count(&l, 59999), 8);
	assert_int_equal(jv_limiter_check(&l, &p, 59999),
			 JV_R_SWITCH_RATE_LIMITED);
	/* ... and out of it at 60000 */
	assert_int_equal(jv_limiter_count(&l, 60000), 7);
	assert_int_equal(jv_limiter_check(&l, &p, 60000), 0);
	assert_int_equal(jv_limiter_count(&l, 61499), 7);
	assert_int_equal(jv_limiter_count(&l, 61500), 6);
	assert_int_equal(jv_limiter_count(&l, 70500), 0);
	assert_int_equal(jv_limiter_count(&l, 70499), 1);

	/* seven in the minute is fine, the eighth fills it */
	p.max_switches_per_min = 9;
	assert_int_equal(jv_limiter_check(&l, &p, 12000), 0);
	p.max_switches_per_min = 1;
	assert_int_equal(jv_limiter_check(&l, &p, 69999),
			 JV_R_SWITCH_RATE_LIMITED);
	assert_int_equal(jv_limiter_check(&l, &p, 70500), 0);
}

JV_TEST(test_cooldown_first)
{
	struct jv_limiter l;
	struct jv_policy p;

	contract_policy(&p);
	fill8(&l);
	/* both apply at 11000: cooldown is reported */
	assert_int_equal(jv_limiter_check(&l, &p, 11000), JV_R_COOLDOWN_ACTIVE);
	assert_int_equal(jv_limiter_check(&l, &p, 11999), JV_R_COOLDOWN_ACTIVE);
	assert_int_equal(jv_limiter_check(&l, &p, 12000),
			 JV_R_SWITCH_RATE_LIMITED);
}

JV_TEST(test_early_clock_and_future)
{
	struct jv_limiter l;

	jv_limiter_init(&l);
	jv_limiter_record(&l, 0);
	assert_int_equal(jv_limiter_count(&l, 0), 1);
	assert_int_equal(jv_limiter_count(&l, 59999), 1);
	assert_int_equal(jv_limiter_count(&l, 60000), 0);
	jv_limiter_record(&l, 5000);
	/* a switch dated after now (it may still land) counts already */
	assert_int_equal(jv_limiter_count(&l, 4999), 2);
	assert_int_equal(jv_limiter_count(&l, 5000), 2);
	assert_int_equal(jv_limiter_count(&l, 60000), 1);
	assert_int_equal(jv_limiter_count(&l, 65000), 0);
}

/* An attempt is recorded when it starts and dated when it lands, or as
 * late as it may land when it is given up; never earlier. */
JV_TEST(test_retime)
{
	struct jv_limiter l;
	struct jv_policy p;

	jv_policy_defaults(&p);
	p.max_switches_per_min = 1;
	p.switch_cooldown_ms = 1000;
	jv_limiter_init(&l);
	jv_limiter_retime(&l, 10);                  /* nothing to move */
	assert_int_equal(jv_limiter_count(&l, 10), 0);
	jv_limiter_record(&l, 1000);
	jv_limiter_retime(&l, 1300);                /* landed */
	jv_limiter_retime(&l, 1200);                /* never earlier */
	assert_true(jv_limiter_cooldown_end(&l, &p) == 2300);
	assert_int_equal(jv_limiter_count(&l, 61299), 1);
	assert_int_equal(jv_limiter_count(&l, 61300), 0);
	assert_true(jv_limiter_window_free_at(&l, &p, 5000) == 61300);
	/* given up at 70000, may land until 70400 */
	jv_limiter_record(&l, 69000);
	jv_limiter_retime(&l, 70400);
	assert_int_equal(jv_limiter_check(&l, &p, 70000),
			 JV_R_COOLDOWN_ACTIVE);
	assert_int_equal(jv_limiter_check(&l, &p, 72000),
			 JV_R_SWITCH_RATE_LIMITED);
	assert_true(jv_limiter_window_free_at(&l, &p, 72000) == 130400);
	assert_int_equal(jv_limiter_check(&l, &p, 130400), 0);
}

JV_TEST(test_ring_wraps)
{
	struct jv_limiter l;
	struct jv_policy p;

	contract_policy(&p);
	p.max_switches_per_min = JV_LIMITER_MAX;
	p.switch_cooldown_ms = 0;
	jv_limiter_init(&l);
	for (uint64_t i = 0; i < 3 * JV_LIMITER_MAX + 5; i++)
		jv_limiter_record(&l, 100000 + i * 10);
	assert_int_equal(l.count, JV_LIMITER_MAX);
	/* every one of the last 64 is in the minute: the bound is reached */
	assert_int_equal(jv_limiter_count(&l, 100000 + 200 * 10),
			 JV_LIMITER_MAX);
	assert_int_equal(jv_limiter_check(&l, &p, 100000 + 200 * 10),
			 JV_R_SWITCH_RATE_LIMITED);
	/* the newest is at 100000 + 196 * 10; the oldest kept at 133 * 10 */
	assert_int_equal(jv_limiter_count(&l, 160000 + 133 * 10), 63);
	assert_int_equal(jv_limiter_count(&l, 160000 + 196 * 10), 0);
	assert_int_equal(jv_limiter_count(&l, 160000 + 196 * 10 - 1), 1);
}

/* ---- differential test ---- */

#define STEPS 3000

struct naive {
	uint64_t at[STEPS];
	size_t n;
};

static uint32_t naive_count(const struct naive *m, uint64_t now)
{
	uint32_t c = 0;

	for (size_t i = 0; i < m->n; i++)
		if (m->at[i] <= now && m->at[i] + 60000 > now)
			c++;
	return c;
}

static int naive_check(const struct naive *m, const struct jv_policy *p,
		       uint64_t now)
{
	if (m->n && m->at[m->n - 1] + p->switch_cooldown_ms > now)
		return JV_R_COOLDOWN_ACTIVE;
	if (naive_count(m, now) >= p->max_switches_per_min)
		return JV_R_SWITCH_RATE_LIMITED;
	return 0;
}

static void differential(uint64_t seed)
{
	static struct naive m;
	struct jv_limiter l;
	struct jv_policy p;
	uint64_t now = seed % 5000;
	int verdicts[3] = { 0 };

	rng_state = seed;
	contract_policy(&p);
	p.max_switches_per_min = 1 + (uint32_t)(rnd() % JV_LIMITER_MAX);
	p.switch_cooldown_ms = rnd() % 4 == 0 ? 0 : rnd() % 3000;
	m.n = 0;
	jv_limiter_init(&l);
	for (int i = 0; i < STEPS; i++) {
		uint64_t x = rnd();
		int want, got;
		uint32_t nc;

		switch (x % 10) {
		case 0: break;                                /* same ms */
		case 1: now += 60000 - (x >> 8) % 3; break;   /* minute edge */
		case 2: now += 1 + (x >> 8) % 20000; break;
		default: now += 1 + (x >> 8) % 1600; break;
		}
		want = naive_check(&m, &p, now);
		got = jv_limiter_check(&l, &p, now);
		if (want != got)
			fail_msg("seed %llu step %d now %llu: want %d got %d",
				 (unsigned long long)seed, i,
				 (unsigned long long)now, want, got);
		verdicts[want == 0 ? 0 : want == JV_R_COOLDOWN_ACTIVE ? 1 : 2]++;
		/* the ring keeps the newest JV_LIMITER_MAX switches */
		nc = naive_count(&m, now);
		if (nc > JV_LIMITER_MAX)
			nc = JV_LIMITER_MAX;
		assert_int_equal(jv_limiter_count(&l, now), nc);
		/* switch when allowed; sometimes record anyway, as a caller
		 * that ignores the verdict would, to overfill the minute */
		if (want == 0 || (x >> 40) % 8 == 0) {
			jv_limiter_record(&l, now);
			m.at[m.n++] = now;
		}
	}
	assert_true(verdicts[0] > 0);
	if (p.switch_cooldown_ms > 0)
		assert_true(verdicts[1] > 0);
}

JV_TEST(test_differential)
{
	for (uint64_t seed = 1; seed <= 40; seed++)
		differential(seed * 7919);
}

/* The wake-up a rate-limited client needs: when the minute has room. The
 * ring's oldest entry is at[head]; after it wraps, head is not 0. */
JV_TEST(test_window_free_at)
{
	struct jv_limiter l;
	struct jv_policy p;

	contract_policy(&p);
	p.max_switches_per_min = 2;
	jv_limiter_init(&l);
	assert_int_equal(jv_limiter_window_free_at(&l, &p, 0), UINT64_MAX);
	jv_limiter_record(&l, 3000);
	assert_int_equal(jv_limiter_window_free_at(&l, &p, 3000), UINT64_MAX);
	jv_limiter_record(&l, 8000);
	assert_int_equal(jv_limiter_window_free_at(&l, &p, 9000), 63000);
	assert_int_equal(jv_limiter_check(&l, &p, 62999),
			 JV_R_SWITCH_RATE_LIMITED);
	assert_int_equal(jv_limiter_check(&l, &p, 63000), 0);
	/* a lower limit than the minute holds: more must leave first */
	p.max_switches_per_min = 1;
	assert_int_equal(jv_limiter_window_free_at(&l, &p, 9000), 68000);
	/* wrapped ring (head is not 0): 70 switches, only the last one in
	 * the minute */
	jv_limiter_init(&l);
	for (uint64_t i = 0; i < 70; i++)
		jv_limiter_record(&l, 1000 + i * 100000);
	p.max_switches_per_min = 1;
	assert_int_equal(jv_limiter_window_free_at(&l, &p, 6901000 + 10),
			 6901000 + 60000);
	assert_int_equal(jv_limiter_cooldown_end(&l, &p), 6901000 + 1500);
}
