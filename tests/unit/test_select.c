/* Candidate selection: each ranking key, the preference-order tie-break,
 * hysteresis at its exact edge, the candidate cap, the two denial
 * reasons, and a differential run against a naive filter-sort-compare
 * version. */
#include <stdlib.h>
#include <string.h>

#include "core/fsm.h"
#include "core/policy.h"
#include "core/select.h"
#include "tests/unit/rng.h"
#include "tests/unit/unit.h"

#define UDP JV_PROTO_UDP
#define TCP JV_PROTO_TCP

/* CONTRACT section 3 defaults, by hand (policy.c is not ours to call). */
static struct jv_policy pol(void)
{
	struct jv_policy p;

	memset(&p, 0, sizeof(p));
	p.loss_volatile_threshold = 0.20;
	p.max_switches_per_min = 8;
	p.switch_cooldown_ms = 1500;
	p.switch_improvement_factor = 1.10;
	p.max_candidate_count = 3;
	p.allowed_protocols = JV_PROTO_UDP | JV_PROTO_TCP;
	p.enforce_hysteresis = true;
	return p;
}

#define C(id, proto, usable, loss, rtt, flaps) \
	{ id, proto, usable, loss, rtt, flaps }
#define N(a) (sizeof(a) / sizeof((a)[0]))

static int sel(const struct jv_candidate *c, size_t n, int current,
	       int exclude, const struct jv_policy *p, int want_why)
{
	int why = -12345, r = jv_select(c, n, current, exclude, p, &why);

	assert_int_equal(why, r >= 0 ? JV_R_NONE : want_why);
	return r;
}

JV_TEST(test_rank_keys)
{
	struct jv_policy p = pol();
	/* loss first, whatever the rtt */
	const struct jv_candidate loss[] = {
		C("a", UDP, true, 0.10, 10, 0),
		C("b", UDP, true, 0.05, 300, 5),
	};
	/* equal loss: rtt, by the improvement factor (33 / 30 = 1.10) */
	const struct jv_candidate rtt[] = {
		C("a", UDP, true, 0.05, 33, 0),
		C("b", UDP, true, 0.05, 30, 9),
	};
	/* an rtt the fastest does not beat by the factor is as good: then
	 * flaps, then the order (31 / 30 < 1.10) */
	const struct jv_candidate near[] = {
		C("a", UDP, true, 0.05, 31, 1),
		C("b", UDP, true, 0.05, 30, 1),
		C("c", UDP, true, 0.05, 32, 0),
	};
	/* a LAN: 1 ms against 2 ms is the grain, not a difference (udp-b,
	 * first in the order, against tcp-b measured 1 ms faster: issue 11,
	 * tests/net/case-full-tunnel.sh) */
	const struct jv_candidate lan[] = {
		C("udp-b", UDP, true, 0.0, 2, 0),
		C("tcp-b", TCP, true, 0.0, 1, 0),
		C("udp-c", UDP, true, 0.0, 3, 0),
	};
	/* equal loss and rtt: flaps */
	const struct jv_candidate flaps[] = {
		C("a", UDP, true, 0.0, 30, 2),
		C("b", UDP, true, 0.0, 30, 1),
		C("c", UDP, true, 0.0, 30, 3),
	};
	/* all equal: the configured (list) order, not the ids' strcmp
	 * order (udp-b before tcp-b on the same path, issue 11) */
	const struct jv_candidate id[] = {
		C("tcp-z", UDP, false, 0.0, 30, 1),
		C("udp-b", UDP, true, 0.0, 30, 1),
		C("tcp-b", TCP, true, 0.0, 30, 1),
		C("udp-a", UDP, true, 0.0, 30, 1),
	};
	/* the same id twice (a caller bug): the earlier index */
	const struct jv_candidate same[] = {
		C("x", UDP, true, 0.0, 30, 1),
		C("x", UDP, true, 0.0, 30, 1),
	};
	/* an unknown rtt (0) ranks after any known one */
	const struct jv_candidate unknown[] = {
		C("a", UDP, true, 0.0, 0, 0),
		C("b", UDP, true, 0.0, 900, 0),
	};

	assert_int_equal(sel(loss, N(loss), -1, -1, &p, 0), 1);
	assert_int_equal(sel(rtt, N(rtt), -1, -1, &p, 0), 1);
	assert_int_equal(sel(near, N(near), -1, -1, &p, 0), 2);
	assert_int_equal(sel(near, 2, -1, -1, &p, 0), 0);
	assert_int_equal(sel(lan, 2, -1, -1, &p, 0), 0);
	/* 3 ms is more than the grain past 1 ms, and 3x: faster wins */
	assert_int_equal(sel(lan + 1, 2, -1, -1, &p, 0), 0);
	assert_int_equal(sel(flaps, N(flaps), -1, -1, &p, 0), 1);
	assert_int_equal(sel(id, N(id), -1, -1, &p, 0), 1);
	assert_int_equal(sel(same, N(same), -1, -1, &p, 0), 0);
	assert_int_equal(sel(unknown, N(unknown), -1, -1, &p, 0), 1);
	/* why may be NULL */
	assert_int_equal(jv_select(loss, N(loss), -1, -1, &p, NULL), 1);
}

JV_TEST(test_filters)
{
	struct jv_policy p = pol();
	const struct jv_candidate c[] = {
		C("best-but-down", UDP, false, 0.0, 5, 0),
		C("at-threshold", UDP, true, 0.20, 6, 0),
		C("under", UDP, true, 0.1999, 500, 0),
	};

	assert_int_equal(sel(c, N(c), -1, -1, &p, 0), 2);
	/* loss exactly at the threshold is out */
	assert_int_equal(sel(c, 2, -1, -1, &p, JV_R_NO_VALID_CANDIDATE), -1);
	assert_int_equal(sel(c, 0, -1, -1, &p, JV_R_NO_VALID_CANDIDATE), -1);
}

JV_TEST(test_exclude)
{
	struct jv_policy p = pol();
	const struct jv_candidate c[] = {
		C("a", UDP, true, 0.0, 10, 0),
		C("b", UDP, true, 0.1, 90, 4),
	};

	assert_int_equal(sel(c, N(c), -1, 0, &p, 0), 1);
	assert_int_equal(sel(c, 1, -1, 0, &p, JV_R_NO_VALID_CANDIDATE), -1);
	/* excluded current: no hysteresis against it either */
	assert_int_equal(sel(c, N(c), 0, 0, &p, 0), 1);
	/* out-of-range indexes are harmless */
	assert_int_equal(sel(c, N(c), 7, 9, &p, 0), 0);
}

JV_TEST(test_hysteresis)
{
	struct jv_policy p = pol();
	struct jv_candidate c[] = {
		C("cur", UDP, true, 0.05, 110, 0),
		C("new", UDP, true, 0.05, 100, 0),
	};

	/* 110 / 100 is exactly the factor 1.10: enough */
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 1);
	/* 109 / 100 is not: as good, and first in the order, so cur is
	 * the best (0); with new as current, cur ranks first but does not
	 * beat it: stay (-1) */
	c[0].rtt_ms = 109;
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 0);
	assert_int_equal(sel(c, 2, 1, -1, &p, JV_R_NO_VALID_CANDIDATE), -1);
	/* with hysteresis off, any better candidate wins */
	p.enforce_hysteresis = false;
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 1);
	p.enforce_hysteresis = true;
	/* without a current, the best is simply taken: as good, the first */
	assert_int_equal(sel(c, 2, -1, -1, &p, 0), 0);
	c[0].rtt_ms = 110;
	assert_int_equal(sel(c, 2, -1, -1, &p, 0), 1);
	/* strictly lower loss is enough, even with a worse rtt */
	c[1].loss = 0.04;
	c[1].rtt_ms = 400;
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 1);
	/* better only on flaps or id: not enough */
	c[0] = (struct jv_candidate)C("zz-cur", UDP, true, 0.0, 50, 3);
	c[1] = (struct jv_candidate)C("aa-new", UDP, true, 0.0, 50, 0);
	assert_int_equal(sel(c, 2, 0, -1, &p, JV_R_NO_VALID_CANDIDATE), -1);
	/* current is itself the best: it is returned */
	c[0].flaps = 0;
	c[0].rtt_ms = 40;
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 0);
	/* an unacceptable current gets no protection */
	c[0].rtt_ms = 54;
	c[0].loss = 0.0;
	c[1].rtt_ms = 50;
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 0);   /* as good, first */
	c[0].usable = false;
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 1);
	c[0].usable = true;
	c[0].loss = 0.25;
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 1);
	c[0].loss = 0.0;
	c[0].proto = TCP;
	p.allowed_protocols = UDP;
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 1);
	/* a known rtt beats an unknown current one */
	p.allowed_protocols = UDP | TCP;
	c[0].rtt_ms = 0;
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 1);
	/* a larger factor demands more */
	c[0].rtt_ms = 100;
	c[1].rtt_ms = 50;
	p.switch_improvement_factor = 2.0;
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 1);
	c[1].rtt_ms = 51;    /* as good under 2.0: the current, first */
	assert_int_equal(sel(c, 2, 0, -1, &p, 0), 0);
	assert_int_equal(sel(c, 2, 1, -1, &p, JV_R_NO_VALID_CANDIDATE), -1);
}

JV_TEST(test_candidate_cap)
{
	struct jv_policy p = pol();
	struct jv_candidate c[] = {
		C("p1", UDP, true, 0.0, 40, 0),
		C("p2", UDP, true, 0.0, 30, 0),
		C("p3", UDP, true, 0.0, 20, 0),
		C("p4", UDP, true, 0.0, 10, 0),   /* best, but fourth */
	};

	assert_int_equal(sel(c, 4, -1, -1, &p, 0), 2);
	p.max_candidate_count = 4;
	assert_int_equal(sel(c, 4, -1, -1, &p, 0), 3);
	p.max_candidate_count = 1;
	assert_int_equal(sel(c, 4, -1, -1, &p, 0), 0);
	/* the cap counts candidates that pass the filters: with p2 down
	 * (or excluded) the fourth moves up into the first three */
	p.max_candidate_count = 3;
	c[1].usable = false;
	assert_int_equal(sel(c, 4, -1, -1, &p, 0), 3);
	c[1].usable = true;
	assert_int_equal(sel(c, 4, -1, 1, &p, 0), 3);
	/* a disallowed protocol does not use up a place either */
	c[0].proto = TCP;
	p.allowed_protocols = UDP;
	assert_int_equal(sel(c, 4, -1, -1, &p, 0), 3);
	/* a current beyond the cap is not protected by hysteresis */
	c[0].proto = UDP;
	p.allowed_protocols = UDP | TCP;
	p.max_candidate_count = 2;
	c[1].rtt_ms = 39;    /* 40 / 39 < 1.10: as good, p1 first */
	assert_int_equal(sel(c, 4, 1, -1, &p, JV_R_NO_VALID_CANDIDATE), -1);
	assert_int_equal(sel(c, 4, 3, -1, &p, 0), 0);
	c[1].rtt_ms = 36;    /* 40 / 36 >= 1.10: p2 is better */
	assert_int_equal(sel(c, 4, 3, -1, &p, 0), 1);
	p.max_candidate_count = 0;
	assert_int_equal(sel(c, 4, -1, -1, &p, JV_R_NO_VALID_CANDIDATE), -1);
}

JV_TEST(test_denials)
{
	struct jv_policy p = pol();
	struct jv_candidate c[] = {
		C("udp-a", UDP, false, 0.0, 10, 0),
		C("tcp-b", TCP, true, 0.0, 30, 0),
	};

	p.allowed_protocols = UDP;
	/* failure matrix 7: the only usable candidate is disallowed */
	assert_int_equal(sel(c, 2, -1, 0, &p, JV_R_POLICY_DENIED), -1);
	assert_int_equal(sel(c, 2, -1, -1, &p, JV_R_POLICY_DENIED), -1);
	/* the only allowed one is there but too lossy: still the policy is
	 * what stands in the way */
	c[0].usable = true;
	c[0].loss = 0.5;
	assert_int_equal(sel(c, 2, -1, -1, &p, JV_R_POLICY_DENIED), -1);
	/* the disallowed one would not do anyway: nothing valid */
	c[1].loss = 0.5;
	assert_int_equal(sel(c, 2, -1, -1, &p, JV_R_NO_VALID_CANDIDATE), -1);
	c[1].loss = 0.0;
	c[1].usable = false;
	assert_int_equal(sel(c, 2, -1, -1, &p, JV_R_NO_VALID_CANDIDATE), -1);
	/* an excluded disallowed one is not a reason either */
	c[1].usable = true;
	assert_int_equal(sel(c, 2, -1, 1, &p, JV_R_NO_VALID_CANDIDATE), -1);
	/* allowed again: chosen */
	p.allowed_protocols = UDP | TCP;
	assert_int_equal(sel(c, 2, -1, -1, &p, 0), 1);
	/* none usable */
	c[0].usable = c[1].usable = false;
	assert_int_equal(sel(c, 2, -1, -1, &p, JV_R_NO_VALID_CANDIDATE), -1);
}

/* ---- differential test ---- */

/* An unknown rtt (0) as a number above any known one. */
static uint64_t naive_rtt(const struct jv_candidate *c)
{
	return c->rtt_ms ? c->rtt_ms : 1ull << 40;
}

/* Is fast better than slow by the factor (1.10, or 1.00 with hysteresis
 * off) and by more than 1 ms? In integers. */
static bool naive_faster(const struct jv_policy *p, uint64_t fast,
			 uint64_t slow)
{
	return slow * 100 >= fast * (p->enforce_hysteresis ? 110 : 100) &&
	       slow > fast + 1;
}

/* Filter and cap; the lowest loss, the fastest rtt at that loss; of the
 * candidates at that loss which the fastest does not beat, the fewest
 * flaps, the first; hysteresis by the same rule. */
static int naive(const struct jv_candidate *c, int n, int cur, int excl,
		 const struct jv_policy *p, int *why)
{
	int pool[8];
	int k = 0, denied = 0, in_pool = 0, best = -1;
	double loss = 1e9;
	uint64_t fast = UINT64_MAX;

	for (int i = 0; i < n; i++) {
		bool ok = i != excl && c[i].usable &&
			  c[i].loss < p->loss_volatile_threshold;
		if (ok && !(c[i].proto & p->allowed_protocols))
			denied = 1;
		else if (ok && k < (int)p->max_candidate_count)
			pool[k++] = i;
	}
	if (k == 0) {
		*why = denied ? JV_R_POLICY_DENIED : JV_R_NO_VALID_CANDIDATE;
		return -1;
	}
	for (int j = 0; j < k; j++)
		if (c[pool[j]].loss < loss)
			loss = c[pool[j]].loss;
	for (int j = 0; j < k; j++)
		if (c[pool[j]].loss == loss && naive_rtt(&c[pool[j]]) < fast)
			fast = naive_rtt(&c[pool[j]]);
	for (int j = 0; j < k; j++) {
		const struct jv_candidate *x = &c[pool[j]];

		in_pool |= pool[j] == cur;
		if (x->loss == loss && !naive_faster(p, fast, naive_rtt(x)) &&
		    (best < 0 || x->flaps < c[best].flaps))
			best = pool[j];
	}
	if (in_pool && best != cur && p->enforce_hysteresis) {
		const struct jv_candidate *w = &c[best], *o = &c[cur];

		if (!(w->loss < o->loss) &&
		    !(w->loss == o->loss &&
		      naive_faster(p, naive_rtt(w), naive_rtt(o)))) {
			*why = JV_R_NO_VALID_CANDIDATE;
			return -1;
		}
	}
	*why = JV_R_NONE;
	return best;
}

JV_TEST(test_differential)
{
	static const char *const ids[] = { "a", "b", "c", "d", "e", "f" };
	static const double losses[] = { 0.0, 0.0, 0.05, 0.1, 0.2, 0.5 };
	static const uint32_t rtts[] = { 0, 1, 2, 10, 11, 20, 22, 30, 33, 100 };
	int chosen = 0, denied = 0, held = 0;

	rng_state = 2024;
	for (int t = 0; t < 20000; t++) {
		struct jv_candidate c[6];
		struct jv_policy p = pol();
		int n = 1 + (int)(rnd() % 6), cur, excl, want, got, ww, gw;

		for (int i = 0; i < n; i++) {
			uint64_t x = rnd();

			c[i] = (struct jv_candidate){
				.id = ids[(x >> 4) % 6],   /* repeats too */
				.proto = x % 3 == 0 ? TCP : UDP,
				.usable = (x >> 8) % 5 != 0,
				.loss = losses[(x >> 12) % 6],
				.rtt_ms = rtts[(x >> 16) % 10],
				.flaps = (uint32_t)((x >> 20) % 3),
			};
		}
		cur = (int)(rnd() % (uint64_t)(n + 1)) - 1;
		excl = (int)(rnd() % (uint64_t)(n + 2)) - 1;
		p.max_candidate_count = (uint32_t)(rnd() % 5);
		p.enforce_hysteresis = rnd() % 4 != 0;
		if (rnd() % 3 == 0)
			p.allowed_protocols = rnd() % 2 ? UDP : TCP;
		want = naive(c, n, cur, excl, &p, &ww);
		got = jv_select(c, (size_t)n, cur, excl, &p, &gw);
		if (want != got || ww != gw)
			fail_msg("case %d: want %d (%d), got %d (%d)", t, want,
				 ww, got, gw);
		assert_true(got < 0 || got != excl);
		chosen += got >= 0;
		denied += gw == JV_R_POLICY_DENIED;
		held += got < 0 && gw == JV_R_NO_VALID_CANDIDATE && cur >= 0;
	}
	assert_true(chosen > 1000 && denied > 100 && held > 100);
}
