/* The client's timers: the deadline it reports is never later than the
 * first thing it does when ticked, and a tick at that deadline always has
 * something due. Fake clock, 1 ms steps, the world.h harness. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/world.h"
#include "tests/unit/unit.h"

/* ---- stepping on a 1 ms clock, ticking each end at its deadline ---- */

static uint64_t ev_ts(const char *line)
{
	const char *p = strstr(line, "\"ts_ms\":");

	assert_non_null(p);
	return strtoull(p + 8, NULL, 10);
}

/* The time of the last client event holding needle since the last call
 * (0 if none); clears both nodes' event buffers. */
static uint64_t take_event(struct world *w, const char *needle)
{
	uint64_t at = 0;

	for (int i = 0; i < w->c.nevents; i++)
		if (strstr(w->c.events[i], needle))
			at = ev_ts(w->c.events[i]);
	w->c.nevents = w->s.nevents = 0;
	return at;
}

/* One millisecond: what arrived is delivered, then each end is ticked if
 * its deadline has come (as the daemons and the simulator do). */
static void step(struct world *w)
{
	w->now++;
	pump(w);
	pump(w);
	world_tick_due(w);
	pump(w);
	pump(w);
}

/* Steps to until; returns the time of the first client event holding
 * needle on the way (0 if none). */
static uint64_t step_until(struct world *w, uint64_t until, const char *needle)
{
	uint64_t first = 0;

	while (w->now < until) {
		uint64_t at;

		step(w);
		at = take_event(w, needle ? needle : "\"never\"");
		if (needle && at && !first)
			first = at;
	}
	return first;
}

/* ---- the limiter's wake-up ---- */

/* At `at`, transport t's link goes down and comes back at once: the
 * client switches to the other one (it built a record meanwhile). */
static void link_flap_switches(struct world *w, uint32_t t, uint64_t at)
{
	step_until(w, at, NULL);
	jv_endpoint_transport_down(w->c.ep, t, JV_R_LINK_DOWN, w->now);
	pump(w);
	pump(w);
	assert_int_equal(take_event(w, "\"TransportSwitch\""), at);
	jv_endpoint_transport_up(w->c.ep, t, w->now);
}

/*
 * Two switches a minute are allowed. The client switches at 3007 and 8007;
 * a third switch at 14007 is denied (switch_rate_limited) and the session
 * waits in DEGRADED. The switch at 3007 leaves the sliding minute at 63007:
 * from then on the switch is allowed, so the client must be ticked then and
 * reattach at 63007, not at whatever timer happens to come next.
 */
JV_TEST(limiter_wakes_when_the_oldest_switch_leaves)
{
	struct jv_policy p;
	struct world *w;
	uint64_t at;

	jv_policy_defaults(&p);
	p.max_switches_per_min = 2;
	p.transport_lost_ttl_ms = 120000;
	w = attached_world(&p);

	link_flap_switches(w, 0, 3007);     /* switch 1: udp-a -> udp-b */
	link_flap_switches(w, 1, 8007);     /* switch 2: udp-b -> udp-a */

	step_until(w, 14007, NULL);
	jv_endpoint_transport_down(w->c.ep, 0, JV_R_LINK_DOWN, w->now);
	assert_true(has_event(&w->c, "switch_rate_limited"));
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_DEGRADED);
	take_event(w, "");

	/* just before the minute is free again, the client must already
	 * have asked to be woken no later than 63007 */
	step_until(w, 63006, NULL);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_DEGRADED);
	assert_true(jv_endpoint_deadline(w->c.ep) <= 63007);
	at = step_until(w, 64000, "\"ReattachAttempt\"");
	assert_int_equal(at, 63007);
	free_world(w);
}

/* ---- property: the deadline is never late, and never needlessly early --
 *
 * Random runs: each seed drives faults on the client's two transports
 * (link down/up as driver facts, a path that loses everything one way or
 * both, random loss of single datagrams, random latency). The clock moves
 * 1 ms at a time and the client is ticked at EVERY millisecond, not only
 * at its deadline; the server is ticked at its own deadline.
 *
 * Never late: a tick at a time before the deadline the client reported
 * (after whatever happened last: a datagram, a fault, a tick) sends
 * nothing, emits nothing and changes no state (state, state_version,
 * a transport's state). What the client does when a datagram or a driver
 * fact arrives is a reaction, not a timer, and is not checked.
 *
 * Never needlessly early, to the timer granularity (1 ms): when the
 * deadline D is reached, something is due: the tick at D consumes it, so
 * the deadline reported after that tick lies after D (a deadline that
 * stays at or before the time it was just ticked at would spin the
 * driver). Not every due timer changes what can be seen from outside:
 * some confirm a fact (silence on a transport already dead, a cooldown
 * that ends while the sliding minute still denies). Those "quiet" wakes
 * are counted, and must stay a minority of all wakes.
 */

#define PROP_SEEDS 24
#define PROP_MS 75000
#define MAXDELAY 64

struct delayed {
	bool c2s;
	uint64_t at;
	struct dgram d;
};

struct prop {
	uint64_t rng;
	uint32_t loss_pct;          /* per datagram */
	uint32_t latency_ms[2];     /* per transport */
	struct delayed q[MAXDELAY];
	int nq;
};

static struct prop P;

static uint32_t prand(uint32_t n)
{
	P.rng = P.rng * 6364136223846793005ull + 1442695040888963407ull;
	return n ? (uint32_t)(P.rng >> 33) % n : 0;
}

/* Loses some, delays the rest by the path's latency. */
static bool prop_filter(struct world *w, bool c2s, struct dgram *d)
{
	uint32_t t = c2s ? d->path.local : d->path.addr[0];

	if (prand(100) < P.loss_pct)
		return false;
	if (P.latency_ms[t & 1] == 0 || P.nq == MAXDELAY)
		return true;
	P.q[P.nq].c2s = c2s;
	P.q[P.nq].at = w->now + P.latency_ms[t & 1];
	P.q[P.nq].d = *d;
	P.nq++;
	return false;
}

static void deliver_delayed(struct world *w)
{
	for (int i = 0; i < P.nq;) {
		struct delayed *q = &P.q[i];

		if (q->at > w->now) {
			i++;
			continue;
		}
		if (q->c2s) {
			to_server(w, &q->d, (uint8_t)q->d.path.local);
		} else {
			struct jv_path p = { .proto = q->d.path.proto,
					     .local = q->d.path.addr[0] };

			jv_endpoint_recv(w->c.ep, &p, q->d.buf, q->d.len, w->now);
		}
		*q = P.q[--P.nq];
	}
}

struct snap {
	enum jv_state state;
	uint64_t version;
	char tr_state[2][8];
};

static void snap(struct world *w, struct snap *s)
{
	struct jv_session_info si;
	struct jv_transport_info ti;
	uint32_t cur = 0;

	memset(s, 0, sizeof(*s));
	s->state = jv_endpoint_client_state(w->c.ep);
	if (jv_endpoint_session_next(w->c.ep, &cur, w->now, &si))
		s->version = si.state_version;
	for (uint32_t i = 0; i < 2; i++) {
		assert_true(jv_endpoint_transport(w->c.ep, i, w->now, &ti));
		snprintf(s->tr_state[i], sizeof(s->tr_state[i]), "%s", ti.state);
	}
}

static void random_fault(struct world *w)
{
	uint32_t t = prand(2);

	switch (prand(8)) {
	case 0:
		jv_endpoint_transport_down(w->c.ep, t,
					   prand(2) ? JV_R_LINK_DOWN
						    : JV_R_TRANSPORT_DEAD,
					   w->now);
		break;
	case 1:
		jv_endpoint_transport_up(w->c.ep, t, w->now);
		break;
	case 2:
		w->lose_c2s ^= 1u << t;
		break;
	case 3:
		w->lose_s2c ^= 1u << t;
		break;
	case 4:
		P.loss_pct = prand(3) ? 0 : prand(60);
		break;
	case 5:
		P.latency_ms[t] = prand(4) ? prand(40) : prand(400);
		break;
	default:
		/* heal everything: runs need calm stretches too */
		w->lose_c2s = w->lose_s2c = 0;
		P.loss_pct = 0;
		jv_endpoint_transport_up(w->c.ep, 0, w->now);
		jv_endpoint_transport_up(w->c.ep, 1, w->now);
		break;
	}
}

static void prop_policy(struct jv_policy *p, uint64_t hb_ms, uint64_t probe_ms)
{
	jv_policy_defaults(p);
	p->heartbeat_interval_ms = hb_ms;
	p->heartbeat_volatile_ms = 300;
	p->max_consecutive_drops = 2;
	p->loss_window_ms = 1000;
	p->volatile_to_degraded_ms = 700;
	p->probe_interval_ms = probe_ms;
	p->max_switches_per_min = 4;
	p->switch_cooldown_ms = 150;
	p->recovery_window_ms = 900;
	p->transport_lost_ttl_ms = 70000;
	p->rekey_after_ms = 3000;
}

struct prop_stats {
	uint64_t wakes, quiet_wakes, checked_ticks;
};

static void prop_run(uint64_t seed, const struct jv_policy *pol,
		     struct prop_stats *st)
{
	struct world *w;
	uint64_t next_fault;

	memset(&P, 0, sizeof(P));
	P.rng = seed * 0x9e3779b97f4a7c15ull + 1;
	w = make_world(pol);
	w->filter = prop_filter;
	/* after a long outage the copies re-sent on the new path
	 * (switching.resend_max_bytes) are more than a queue holds: what
	 * does not fit is lost, as any burst may be */
	w->c.lossy = w->s.lossy = true;
	jv_endpoint_start(w->c.ep, 0);
	next_fault = 1000 + prand(3000);

	while (w->now < PROP_MS) {
		struct snap before, after;
		uint64_t d;
		int nout, nev;

		w->now++;
		if (w->now >= next_fault) {
			random_fault(w);
			next_fault = w->now + 1 + prand(prand(2) ? 300 : 3000);
		}
		deliver_delayed(w);
		pump(w);
		pump(w);
		if (jv_endpoint_deadline(w->s.ep) <= w->now)
			jv_endpoint_tick(w->s.ep, w->now);
		pump(w);
		w->c.nevents = w->s.nevents = 0;

		/* inner packets every 20 ms, so the data-path watch runs
		 * (its timer is one of those checked) */
		if (w->now % 20 == 0) {
			uint8_t pkt[40];

			jv_endpoint_send_inner(w->c.ep,
					       ipv4(pkt, 0x0a4d0002, 0x0a4d0001),
					       40, w->now);
		}
		/* the client, ticked every millisecond */
		d = jv_endpoint_deadline(w->c.ep);
		snap(w, &before);
		nout = w->c.nout;
		nev = w->c.nevents;
		jv_endpoint_tick(w->c.ep, w->now);
		snap(w, &after);
		if (w->now < d) {
			st->checked_ticks++;
			if (w->c.nout != nout || w->c.nevents != nev ||
			    memcmp(&before, &after, sizeof(before)) != 0)
				fail_msg("seed %llu: the client acted at %llu "
					 "before its deadline %llu%s%s",
					 (unsigned long long)seed,
					 (unsigned long long)w->now,
					 (unsigned long long)d,
					 w->c.nevents ? ": " : "",
					 w->c.nevents ? w->c.events[0] : "");
		} else {
			uint64_t nd = jv_endpoint_deadline(w->c.ep);
			int again = 0;

			st->wakes++;
			if (w->c.nout == nout && w->c.nevents == nev &&
			    memcmp(&before, &after, sizeof(before)) == 0)
				st->quiet_wakes++;
			/* a tick may make something due at once (a probe
			 * schedule that resumes): the driver ticks again at
			 * the same time, and that must settle */
			while (nd <= w->now && again++ < 2) {
				pump(w);
				jv_endpoint_tick(w->c.ep, w->now);
				nd = jv_endpoint_deadline(w->c.ep);
			}
			if (nd <= w->now)
				fail_msg("seed %llu: at %llu (deadline %llu) the "
					 "ticks left the deadline at %llu",
					 (unsigned long long)seed,
					 (unsigned long long)w->now,
					 (unsigned long long)d,
					 (unsigned long long)nd);
		}
		pump(w);
		pump(w);
		w->c.nevents = w->s.nevents = 0;
	}
	free_world(w);
}

static void prop_report(const struct prop_stats *st)
{
	print_message("%llu wakes (%llu quiet), %llu ticks before a deadline\n",
		      (unsigned long long)st->wakes,
		      (unsigned long long)st->quiet_wakes,
		      (unsigned long long)st->checked_ticks);
	assert_true(st->checked_ticks > 0);
	assert_true(st->quiet_wakes * 2 < st->wakes);
}

/* prop_run over seeds 1 to PROP_SEEDS, on prop_policy with these
 * intervals. */
static void prop_seeds(uint64_t hb_ms, uint64_t probe_ms)
{
	struct prop_stats st = { 0 };
	struct jv_policy pol;

	prop_policy(&pol, hb_ms, probe_ms);
	for (uint64_t seed = 1; seed <= PROP_SEEDS; seed++)
		prop_run(seed, &pol, &st);
	prop_report(&st);
}

/* The heartbeat and probe intervals divide the loss windows here: a
 * sample leaves a window exactly when a heartbeat or probe is due. */
JV_TEST(deadline_never_late_never_early)
{
	prop_seeds(100, 200);
}

/*
 * The loss ratio over a window changes when a sample ages out of it, and
 * the client decides on it (unfit, recovered, fill_candidates): that moment
 * is a timer (CT_LOSS_AGE). With intervals that do not divide the windows
 * nothing else is due then; without it seed 5 went DEGRADED -> RECOVERING
 * at 5857 while its deadline was 5892.
 */
JV_TEST(loss_window_aging_is_a_timer)
{
	prop_seeds(130, 170);
}

/* A policy of its own for each seed: intervals, windows and limits drawn
 * so that neither interval need divide a loss window nor each other. Seed
 * 56 (one switch a minute) found recovery_window_expired leaving DEGRADED's
 * switch decision to whatever timer came next (63846, deadline 63870).
 * Runs of 700 seeds pass; 64 keep the suite quick. */
#define RANDOM_POLICY_SEEDS 64

static uint64_t between(uint64_t *rng, uint64_t lo, uint64_t hi)
{
	*rng = *rng * 6364136223846793005ull + 1442695040888963407ull;
	return lo + (*rng >> 33) % (hi - lo + 1);
}

static void random_policy(struct jv_policy *p, uint64_t seed)
{
	uint64_t r = seed ^ 0x5851f42d4c957f2dull;
	struct jv_error err;

	jv_policy_defaults(p);
	p->heartbeat_interval_ms = between(&r, 20, 400);
	p->heartbeat_volatile_ms =
		between(&r, p->heartbeat_interval_ms + 1,
			4 * p->heartbeat_interval_ms);
	p->loss_window_ms = between(&r, p->heartbeat_interval_ms, 3000);
	if (p->loss_window_ms < 100)
		p->loss_window_ms = 100;
	p->loss_volatile_threshold = (double)between(&r, 5, 60) / 100;
	p->probe_interval_ms = between(&r, 20, 900);
	p->max_consecutive_drops = (uint32_t)between(&r, 1, 5);
	p->volatile_to_degraded_ms = between(&r, 50, 2000);
	p->max_switches_per_min = (uint32_t)between(&r, 1, 8);
	p->switch_cooldown_ms = between(&r, 0, 1000);
	p->recovery_window_ms = between(&r, 100, 2000);
	p->transport_lost_ttl_ms = 70000;
	p->rekey_after_ms = between(&r, 1000, 10000);
	/* failback in three policies of four (drawn last: the draws above
	 * stay what they were) */
	p->failback_after_ms = between(&r, 0, 3) ? between(&r, 100, 5000) : 0;
	/* the data-path watch: off in one policy of four (drawn last too) */
	p->data_silence_rtts = between(&r, 0, 3) ? (uint32_t)between(&r, 1, 8)
						 : 0;
	p->data_silence_floor_ms = between(&r, 10, 500);
	assert_int_equal(jv_policy_validate(p, "random", &err), 0);
}

JV_TEST(deadline_exact_under_random_policies)
{
	struct prop_stats st = { 0 };
	struct jv_policy pol;

	for (uint64_t seed = 1; seed <= RANDOM_POLICY_SEEDS; seed++) {
		random_policy(&pol, seed);
		prop_run(seed, &pol, &st);
	}
	prop_report(&st);
}
