/* Transport health: exact loss ratios and window edges, when they next
 * change by ageing, drops and late acks, RTT smoothing and p95, receive
 * age, the full probe ring, and a differential run against a naive list
 * of every probe sent. */
#include <string.h>

#include "core/health.h"
#include "tests/unit/rng.h"
#include "tests/unit/unit.h"

JV_TEST(test_fresh)
{
	struct jv_health h;
	uint32_t n = 99;

	jv_health_init(&h);
	assert_true(jv_health_loss(&h, 1000, 1000, &n) == 0.0);
	assert_int_equal(n, 0);
	assert_int_equal(jv_health_rtt_p95(&h), 0);
	assert_int_equal(h.srtt_ms, 0);
	assert_int_equal(h.consecutive_drops, 0);
	assert_true(jv_health_rx_age(&h, 5000) == UINT64_MAX);
	assert_int_equal(jv_health_on_ack(&h, 1, 10), -1);   /* unknown */
	assert_int_equal(jv_health_expire(&h, 10000, 100), 0);
	assert_true(jv_health_loss(&h, 1000, 1000, NULL) == 0.0);
}

/* Ten probes 100 ms apart (seq 1..10 at t = 0..900); 4, 7 and 10 lost. */
static void ten_probes(struct jv_health *h)
{
	jv_health_init(h);
	for (uint32_t s = 1; s <= 10; s++)
		jv_health_on_sent(h, s, (s - 1) * 100);
	for (uint32_t s = 1; s <= 10; s++)
		if (s != 4 && s != 7 && s != 10)
			assert_int_equal(jv_health_on_ack(h, s,
							  (s - 1) * 100 + 50), 50);
}

JV_TEST(test_loss_exact)
{
	struct jv_health h;
	uint32_t n;

	ten_probes(&h);
	/* pending probes are not samples */
	assert_true(jv_health_loss(&h, 1000, 5000, &n) == 0.0);
	assert_int_equal(n, 7);
	assert_int_equal(jv_health_expire(&h, 1500, 1000), 1);   /* seq 4 */
	assert_true(jv_health_loss(&h, 1500, 5000, &n) == 1.0 / 8);
	assert_int_equal(n, 8);
	assert_int_equal(jv_health_expire(&h, 2000, 1000), 2);   /* 7, 10 */
	assert_int_equal(jv_health_expire(&h, 2000, 1000), 0);
	assert_true(jv_health_loss(&h, 2000, 5000, &n) == 3.0 / 10);
	assert_int_equal(n, 10);

	/* (now - window, now]: the probe sent at 100 is out at 1900 */
	assert_true(jv_health_loss(&h, 2000, 1900, &n) == 3.0 / 8);
	assert_int_equal(n, 8);
	assert_true(jv_health_loss(&h, 2000, 1901, &n) == 3.0 / 9);
	assert_int_equal(n, 9);
	/* a probe sent exactly at now is in; one sent after now is not */
	assert_true(jv_health_loss(&h, 900, 1, &n) == 1.0);
	assert_int_equal(n, 1);
	assert_true(jv_health_loss(&h, 899, 1000, &n) == 2.0 / 9);
	assert_int_equal(n, 9);
	assert_true(jv_health_loss(&h, 2000, 0, &n) == 0.0);
	assert_int_equal(n, 0);
	/* all lost */
	assert_true(jv_health_loss(&h, 1000, 101, &n) == 1.0);   /* seq 10 */
	assert_int_equal(n, 1);
}

/* When the ratio next changes by ageing: the send time of the oldest
 * settled sample in the window plus the window; pending probes, probes
 * sent after now and samples already out do not count. */
JV_TEST(test_loss_ages_at)
{
	static const struct {
		uint64_t now, window, at;
	} rows[] = {
		/* seq 4, 7, 10 pending: the oldest settled one is seq 1 */
		{ 1000, 5000, 5000 },
		{ 999, 1000, 1000 },       /* seq 1 (sent 0) leaves at 1000 */
		{ 1000, 1000, 1100 },      /* seq 1 is out: seq 2 next */
		{ 650, 100, UINT64_MAX },  /* seq 7 pending, 8 sent after */
		{ 0, 1, 1 },               /* sent at now: in, leaves at now+1 */
		{ 750, 100, 800 },         /* seq 8 (sent 700) */
		{ 850, 100, 900 },         /* seq 9 (sent 800) */
		{ 899, 100, 900 },
		{ 900, 100, UINT64_MAX },  /* seq 9 out, seq 10 pending */
		{ 900, 0, UINT64_MAX },    /* an empty window */
	};
	struct jv_health h;
	uint32_t n0, n1;

	jv_health_init(&h);
	assert_true(jv_health_loss_ages_at(&h, 1000, 1000) == UINT64_MAX);
	ten_probes(&h);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		uint64_t at = jv_health_loss_ages_at(&h, rows[i].now,
						     rows[i].window);

		if (at != rows[i].at)
			fail_msg("row %zu: now %llu window %llu: want %llu "
				 "got %llu", i,
				 (unsigned long long)rows[i].now,
				 (unsigned long long)rows[i].window,
				 (unsigned long long)rows[i].at,
				 (unsigned long long)at);
	}

	/* settled: the lost ones count like the answered ones */
	assert_int_equal(jv_health_expire(&h, 2000, 1000), 3);
	assert_true(jv_health_loss_ages_at(&h, 900, 100) == 1000);
	assert_true(jv_health_loss_ages_at(&h, 2000, 1900) == 2100);
	assert_true(jv_health_loss_ages_at(&h, 2000, 1901) == 2001);
	assert_true(jv_health_loss_ages_at(&h, 2000, 1000) == UINT64_MAX);
	/* up to that moment the ratio stands; at it, it moves */
	jv_health_loss(&h, 2000, 1901, &n0);
	assert_int_equal(n0, 9);
	jv_health_loss(&h, 2001, 1901, &n1);
	assert_int_equal(n1, 8);
	/* forgotten losses leave nothing to age */
	jv_health_forget_losses(&h);
	assert_true(jv_health_loss_ages_at(&h, 1000, 101) == UINT64_MAX);
	assert_true(jv_health_loss_ages_at(&h, 1000, 201) == 1001);
	jv_health_reset_probes(&h);
	assert_true(jv_health_loss_ages_at(&h, 1000, 5000) == UINT64_MAX);
}

JV_TEST(test_expire_edge)
{
	struct jv_health h;

	jv_health_init(&h);
	jv_health_on_sent(&h, 7, 1000);
	assert_int_equal(jv_health_expire(&h, 1499, 500), 0);
	assert_int_equal(h.consecutive_drops, 0);
	assert_int_equal(jv_health_expire(&h, 1500, 500), 1);
	assert_int_equal(h.consecutive_drops, 1);
	/* timeout larger than now: nothing can be that old */
	jv_health_on_sent(&h, 8, 10);
	assert_int_equal(jv_health_expire(&h, 100, 1000), 0);
}

JV_TEST(test_drops_and_late_ack)
{
	struct jv_health h;
	uint32_t n;

	jv_health_init(&h);
	jv_health_on_sent(&h, 1, 0);
	jv_health_on_sent(&h, 2, 100);
	jv_health_on_sent(&h, 3, 200);
	assert_int_equal(jv_health_expire(&h, 1100, 1000), 2);
	assert_int_equal(h.consecutive_drops, 2);
	/* a late ack for a probe already declared lost changes nothing */
	assert_int_equal(jv_health_on_ack(&h, 1, 1150), -1);
	assert_int_equal(h.consecutive_drops, 2);
	assert_int_equal(h.rtt_count, 0);
	assert_int_equal(h.srtt_ms, 0);
	assert_int_equal(jv_health_expire(&h, 1200, 1000), 1);
	assert_int_equal(h.consecutive_drops, 3);
	/* an ack resets the run */
	jv_health_on_sent(&h, 4, 1300);
	assert_int_equal(jv_health_on_ack(&h, 4, 1342), 42);
	assert_int_equal(h.consecutive_drops, 0);
	assert_int_equal(h.srtt_ms, 42);
	/* a second ack for the same probe is ignored */
	assert_int_equal(jv_health_on_ack(&h, 4, 1400), -1);
	assert_int_equal(h.rtt_count, 1);
	/* and the loss counts all four */
	assert_true(jv_health_loss(&h, 1400, 10000, &n) == 3.0 / 4);
	assert_int_equal(n, 4);
}

static void ack_after(struct jv_health *h, uint32_t seq, uint64_t t,
		      uint32_t rtt)
{
	jv_health_on_sent(h, seq, t);
	assert_int_equal(jv_health_on_ack(h, seq, t + rtt), rtt);
}

JV_TEST(test_srtt)
{
	struct jv_health h;

	jv_health_init(&h);
	ack_after(&h, 1, 0, 100);
	assert_int_equal(h.srtt_ms, 100);               /* first sets it */
	ack_after(&h, 2, 1000, 200);
	assert_int_equal(h.srtt_ms, 113);               /* 112.5 */
	ack_after(&h, 3, 2000, 50);
	assert_int_equal(h.srtt_ms, 105);               /* 105.125 */
	ack_after(&h, 4, 3000, 105);
	assert_int_equal(h.srtt_ms, 105);

	/* a steady RTT pulls srtt to within 3 ms (truncation would stay 7
	 * below: (7 * 10 + 17) / 8 == 10) */
	jv_health_init(&h);
	ack_after(&h, 1, 0, 10);
	for (uint32_t s = 2; s < 60; s++)
		ack_after(&h, s, s * 1000, 17);
	assert_int_equal(h.srtt_ms, 14);
	/* and a first sample of 0 (under a millisecond) is a sample, of 1
	 * ms: srtt 0 means no sample, and a LAN path is not unknown */
	jv_health_init(&h);
	ack_after(&h, 1, 0, 0);
	assert_int_equal(h.srtt_ms, 1);
	ack_after(&h, 2, 10, 80);
	assert_int_equal(h.srtt_ms, 11);                /* (7 + 80 + 4) / 8 */
	/* ack before send time (clock skew in a caller) is 0, not huge */
	jv_health_on_sent(&h, 3, 500);
	assert_int_equal(jv_health_on_ack(&h, 3, 400), 0);
}

JV_TEST(test_p95)
{
	/* 1..20 in a scrambled order: ceil(0.95 * 20) = 19th smallest */
	static const uint32_t twenty[] = { 7, 20, 3, 14, 1, 19, 9, 12, 5, 16,
					   2, 18, 11, 6, 15, 4, 10, 17, 8, 13 };
	struct jv_health h;
	uint32_t seq = 1;

	jv_health_init(&h);
	ack_after(&h, seq++, 0, 250);
	assert_int_equal(jv_health_rtt_p95(&h), 250);   /* one sample */
	jv_health_init(&h);
	for (size_t i = 0; i < 20; i++)
		ack_after(&h, seq++, i * 1000, twenty[i]);
	assert_int_equal(jv_health_rtt_p95(&h), 19);
	/* 32 samples (12 more, 100..111): ceil(30.4) = 31st smallest = 110 */
	for (uint32_t i = 0; i < 12; i++)
		ack_after(&h, seq++, 50000 + i * 1000, 100 + i);
	assert_int_equal(h.rtt_count, 32);
	assert_int_equal(jv_health_rtt_p95(&h), 110);
	/* only the last 32 are remembered: 40 samples 1..40 keep 9..40 */
	jv_health_init(&h);
	for (uint32_t i = 1; i <= 40; i++)
		ack_after(&h, i, i * 1000, i);
	assert_int_equal(jv_health_rtt_p95(&h), 39);
	/* p95 of 1 big outlier among 31 small: ceil(30.4) = 31 -> small */
	jv_health_init(&h);
	for (uint32_t i = 1; i <= 31; i++)
		ack_after(&h, i, i * 1000, 10);
	ack_after(&h, 32, 40000, 5000);
	assert_int_equal(jv_health_rtt_p95(&h), 10);
	ack_after(&h, 33, 50000, 5000);              /* now 2 of 32 */
	assert_int_equal(jv_health_rtt_p95(&h), 5000);
}

JV_TEST(test_rx_age)
{
	struct jv_health h;

	jv_health_init(&h);
	assert_true(jv_health_rx_age(&h, 0) == UINT64_MAX);
	jv_health_on_rx(&h, 1000);
	assert_true(jv_health_rx_age(&h, 1000) == 0);
	assert_true(jv_health_rx_age(&h, 1600) == 600);
	assert_true(jv_health_rx_age(&h, 900) == 0);
	jv_health_on_rx(&h, 0);   /* received at time 0 is still received */
	assert_true(jv_health_rx_age(&h, 5) == 5);
}

JV_TEST(test_ring_full)
{
	struct jv_health h;
	uint32_t n;

	/* 64 unanswered: the 65th evicts the oldest, which counts as lost */
	jv_health_init(&h);
	for (uint32_t s = 1; s <= JV_HEALTH_SLOTS; s++)
		jv_health_on_sent(&h, s, s * 10);
	assert_int_equal(h.consecutive_drops, 0);
	jv_health_on_sent(&h, 65, 1000);
	assert_int_equal(h.consecutive_drops, 1);
	assert_int_equal(jv_health_on_ack(&h, 1, 1001), -1);
	assert_int_equal(jv_health_on_ack(&h, 2, 1002), 1002 - 20);
	assert_int_equal(h.consecutive_drops, 0);
	assert_int_equal(jv_health_on_ack(&h, 65, 1100), 100);
	/* the evicted probe is forgotten, not in the loss window */
	assert_true(jv_health_loss(&h, 1100, 100000, &n) == 0.0);
	assert_int_equal(n, 2);

	/* settled history is reused oldest first without new drops */
	jv_health_init(&h);
	for (uint32_t s = 1; s <= JV_HEALTH_SLOTS; s++)
		ack_after(&h, s, s * 10, 5);
	for (uint32_t s = 65; s <= 70; s++)
		jv_health_on_sent(&h, s, 1000);
	assert_int_equal(h.consecutive_drops, 0);
	assert_true(jv_health_loss(&h, 1000, 100000, &n) == 0.0);
	assert_int_equal(n, JV_HEALTH_SLOTS - 6);
	/* the 58 kept are exactly those sent at t >= 70 (seq 7..64) */
	assert_true(jv_health_loss(&h, 1000, 1000 - 69, &n) == 0.0);
	assert_int_equal(n, JV_HEALTH_SLOTS - 6);
	assert_true(jv_health_loss(&h, 1000, 1000 - 70, &n) == 0.0);
	assert_int_equal(n, JV_HEALTH_SLOTS - 7);

	/* a burst within one millisecond is still reused in send order */
	jv_health_init(&h);
	for (uint32_t s = 1; s <= JV_HEALTH_SLOTS + 6; s++)
		jv_health_on_sent(&h, s, 0);
	assert_int_equal(h.consecutive_drops, 6);
	for (uint32_t s = 1; s <= 6; s++)
		assert_int_equal(jv_health_on_ack(&h, s, 10), -1);
	for (uint32_t s = 7; s <= JV_HEALTH_SLOTS + 6; s++)
		assert_int_equal(jv_health_on_ack(&h, s, 10), 10);

	/* ... also across the seq wrap */
	jv_health_init(&h);
	for (uint32_t i = 0; i <= JV_HEALTH_SLOTS; i++)
		jv_health_on_sent(&h, UINT32_MAX - 10 + i, 0);
	assert_int_equal(jv_health_on_ack(&h, UINT32_MAX - 10, 1), -1);
	assert_int_equal(jv_health_on_ack(&h, UINT32_MAX - 9, 1), 1);
	assert_int_equal(jv_health_on_ack(&h, UINT32_MAX - 10 + JV_HEALTH_SLOTS,
					  1), 1);
}

JV_TEST(test_reset_probes)
{
	struct jv_health h;
	uint32_t n;

	jv_health_init(&h);
	jv_health_on_rx(&h, 50);
	ack_after(&h, 1, 0, 30);
	jv_health_on_sent(&h, 2, 100);
	jv_health_on_sent(&h, 3, 200);
	jv_health_expire(&h, 1200, 1000);
	assert_int_equal(h.consecutive_drops, 2);
	jv_health_on_sent(&h, 4, 1300);
	jv_health_reset_probes(&h);
	assert_int_equal(h.consecutive_drops, 0);
	assert_true(jv_health_loss(&h, 1300, 100000, &n) == 0.0);
	assert_int_equal(n, 0);
	assert_int_equal(jv_health_on_ack(&h, 4, 1310), -1);   /* forgotten */
	assert_int_equal(jv_health_expire(&h, 100000, 1), 0);
	assert_true(jv_health_rx_age(&h, 150) == 100);          /* kept */
	assert_int_equal(h.srtt_ms, 30);                        /* kept */
	assert_int_equal(jv_health_rtt_p95(&h), 30);
}

JV_TEST(test_forget_losses)
{
	struct jv_health h;
	uint32_t n;

	jv_health_init(&h);
	ack_after(&h, 1, 0, 30);
	jv_health_on_sent(&h, 2, 100);
	jv_health_on_sent(&h, 3, 200);
	jv_health_expire(&h, 1200, 1000);
	jv_health_on_sent(&h, 4, 1300);
	assert_int_equal(h.consecutive_drops, 2);
	jv_health_forget_losses(&h);
	assert_int_equal(h.consecutive_drops, 0);
	/* the answered probe stays, the lost ones are gone */
	assert_true(jv_health_loss(&h, 1300, 100000, &n) == 0.0);
	assert_int_equal(n, 1);
	/* the pending one can still be answered */
	assert_int_equal(jv_health_on_ack(&h, 4, 1310), 10);
	assert_true(jv_health_loss(&h, 1310, 100000, &n) == 0.0);
	assert_int_equal(n, 2);
}

/* ---- differential test ---- */

#define STEPS 4000

/* Every probe ever sent, in send order; the ring remembers the last 64. */
struct naive {
	struct { uint64_t sent; uint32_t seq; int st; } p[STEPS];
	size_t n;
	uint32_t drops;
};

enum { N_PENDING = 1, N_ACKED, N_LOST };

static size_t first_kept(const struct naive *m)
{
	return m->n > JV_HEALTH_SLOTS ? m->n - JV_HEALTH_SLOTS : 0;
}

static void differential(uint64_t seed)
{
	static struct naive m;
	struct jv_health h;
	uint64_t now = 0;
	uint32_t seq = (uint32_t)seed;   /* wraps for some seeds */
	int acks = 0, lost = 0, evicted = 0;
	/* odd seeds: a slow clock, so full rings evict pending probes */
	uint64_t step = seed % 2 ? 6 : 300;

	rng_state = seed;
	memset(&m, 0, sizeof(m));
	jv_health_init(&h);
	for (int i = 0; i < STEPS; i++) {
		uint64_t x = rnd();

		now += (x >> 8) % 4 == 0 ? 0 : (x >> 16) % step;
		switch (x % 8) {
		case 0: case 1: case 2: {   /* send */
			if (m.n >= JV_HEALTH_SLOTS &&
			    m.p[m.n - JV_HEALTH_SLOTS].st == N_PENDING) {
				m.drops++;
				evicted++;
			}
			m.p[m.n].sent = now;
			m.p[m.n].seq = seq;
			m.p[m.n].st = N_PENDING;
			m.n++;
			jv_health_on_sent(&h, seq++, now);
			break;
		}
		case 3: case 4: case 5: {   /* ack a recent seq, maybe stale */
			uint32_t back = (x >> 24) % 4 ? (x >> 32) % 6
						      : (x >> 32) % 80;
			uint32_t s = seq - 1 - back;
			int64_t want = -1, got;

			for (size_t k = first_kept(&m); k < m.n; k++)
				if (m.p[k].seq == s && m.p[k].st == N_PENDING) {
					m.p[k].st = N_ACKED;
					m.drops = 0;
					want = (int64_t)(now - m.p[k].sent);
					acks++;
				}
			got = jv_health_on_ack(&h, s, now);
			if (got != want)
				fail_msg("seed %llu step %d: ack %u: want "
					 "%lld got %lld",
					 (unsigned long long)seed, i, s,
					 (long long)want, (long long)got);
			break;
		}
		case 6: {                   /* expire */
			uint64_t to = 100 + (x >> 24) % 1500;
			int want = 0;

			for (size_t k = first_kept(&m); k < m.n; k++)
				if (m.p[k].st == N_PENDING &&
				    m.p[k].sent + to <= now) {
					m.p[k].st = N_LOST;
					m.drops++;
					want++;
				}
			lost += want;
			assert_int_equal(jv_health_expire(&h, now, to), want);
			break;
		}
		default: {                  /* loss over a random window */
			uint64_t w = (x >> 24) % 5000;
			uint32_t settled = 0, nl = 0, n;
			uint64_t ages = UINT64_MAX;
			double got;

			for (size_t k = first_kept(&m); k < m.n; k++)
				if (m.p[k].st != N_PENDING &&
				    m.p[k].sent + w > now) {
					settled++;
					nl += m.p[k].st == N_LOST;
				}
			got = jv_health_loss(&h, now, w, &n);
			assert_int_equal(n, settled);
			assert_true(got == (settled ? (double)nl / settled
						    : 0.0));
			for (size_t k = first_kept(&m); k < m.n; k++)
				if (m.p[k].st != N_PENDING &&
				    m.p[k].sent + w > now &&
				    m.p[k].sent + w < ages)
					ages = m.p[k].sent + w;
			assert_true(jv_health_loss_ages_at(&h, now, w) == ages);
			break;
		}
		}
		assert_int_equal(h.consecutive_drops, m.drops);
	}
	assert_true(acks > 100 && lost > 100);
	if (seed % 2)
		assert_true(evicted > 20);
}

JV_TEST(test_differential)
{
	for (uint64_t seed = 1; seed <= 10; seed++)
		differential(seed);
	differential(UINT32_MAX - 500);   /* seq wraps during the run */
}
