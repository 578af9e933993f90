/* Standbys (issue 11): ready within a few probes of the session starting,
 * chosen in the configured preference order when equally healthy, and
 * failback to a preferred candidate that has stayed healthy for
 * switching.failback_after_ms. Fake clock, the world.h harness: client
 * transports udp-a, udp-b and tcp-b (preference order), no latency. */
#include <stdlib.h>
#include <string.h>

#include "tests/unit/world.h"
#include "tests/unit/unit.h"

/* Datagrams the client sent on each transport (a pump filter). */
static uint32_t sent_on[3];

static bool count_sent(struct world *w, bool c2s, struct dgram *d)
{
	(void)w;
	if (c2s && d->path.local < 3)
		sent_on[d->path.local]++;
	return true;
}

/* Three transports, attached on udp-a at 0. */
static struct world *world3(const struct jv_policy *p)
{
	struct world_opts o = { .policy = p, .third_tcp = true };
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_int_equal(world_init(w, &o), 0);
	jv_endpoint_start(w->c.ep, 0);
	pump(w);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	memset(sent_on, 0, sizeof(sent_on));
	w->filter = count_sent;
	return w;
}

/* The link of client transport t goes down (as rtnetlink says) or up;
 * nothing crosses it while down. */
static void link_set(struct world *w, uint32_t t, bool up)
{
	if (up) {
		w->lose_c2s &= ~(1u << t);
		w->lose_s2c &= ~(1u << t);
		jv_endpoint_transport_up(w->c.ep, t, w->now);
	} else {
		w->lose_c2s |= 1u << t;
		w->lose_s2c |= 1u << t;
		jv_endpoint_transport_down(w->c.ep, t, JV_R_LINK_DOWN, w->now);
	}
	pump(w);
	pump(w);
}

/* ---- item 2: standbys ready from the start ---- */

/*
 * The active link goes down 1.2 s after the handshake. The standbys were
 * probed at the heartbeat rate (500 ms) from the handshake on, so both
 * have three settled probes: the session moves to udp-b at once (no
 * DEGRADED, no no_viable_transport), and to udp-b rather than tcp-b, as
 * healthy and after it in the preference order.
 */
JV_TEST(standby_usable_one_second_after_attach)
{
	struct world *w = world3(NULL);

	run_until(w, 1200);
	link_set(w, 0, false);
	assert_true(has_event(&w->c, "\"ReattachAttempt\""));
	assert_true(has_event(&w->c, "\"candidate_transport\":\"udp-b\""));
	assert_false(has_event(&w->c, "\"new_state\":\"DEGRADED\""));
	assert_false(has_event(&w->c, "no_viable_transport"));
	run_until_keep(w, 1500);
	assert_true(has_event(&w->c, "\"new_transport\":\"udp-b\""));
	assert_false(has_event(&w->c, "tcp-b"));
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	free_world(w);
}

/* Once qualified, a standby is probed at probe_interval_ms as before:
 * fast probing costs a few datagrams at the start, not a doubled rate. */
JV_TEST(standby_probes_slow_down_once_qualified)
{
	struct jv_policy p;
	struct world *w;

	jv_policy_defaults(&p);
	p.heartbeat_interval_ms = 200;
	p.heartbeat_volatile_ms = 800;
	p.probe_interval_ms = 2000;
	w = world3(&p);

	/* the first three probes, 200 ms apart, from the handshake on */
	run_until(w, 450);
	assert_int_equal(sent_on[1], 3);
	assert_int_equal(sent_on[2], 3);
	/* then one every 2 s: at 2400, 4400, ..., 20400 */
	run_until(w, 20450);
	assert_int_equal(sent_on[1], 3 + 10);
	assert_int_equal(sent_on[2], 3 + 10);
	free_world(w);
}

/* A standby that never answers keeps being probed at the heartbeat rate:
 * it has not qualified, and the moment it answers it should. */
JV_TEST(unanswered_standby_probed_at_heartbeat_rate)
{
	struct jv_policy p;
	struct world *w;

	jv_policy_defaults(&p);
	w = world3(&p);
	w->lose_s2c |= 1u << 2;      /* tcp-b's answers never arrive */
	run_until(w, 10000);
	/* every 500 ms from 50 ms on: 20 probes, against 10 at 1 s */
	assert_int_equal(sent_on[2], 20);
	/* and when it answers, it qualifies in three probes and slows down */
	w->lose_s2c = 0;
	run_until(w, 11000);
	memset(sent_on, 0, sizeof(sent_on));
	run_until(w, 21000);
	assert_int_equal(sent_on[2], 10);
	free_world(w);
}

/*
 * Heartbeat 100 ms, volatile 300 ms, probes every 1000 ms (the policy the
 * measurement in issue 11 ran): a qualified standby is silent for most of
 * each probe interval. It stays usable (a standby may be silent a probe
 * interval longer than the active path), so a cut 950 ms after its last
 * answer still finds it.
 */
JV_TEST(standby_usable_between_slow_probes)
{
	struct jv_policy p;
	struct world *w;

	jv_policy_defaults(&p);
	p.heartbeat_interval_ms = 100;
	p.heartbeat_volatile_ms = 300;
	w = world3(&p);
	/* probes at 50, 150, 250, then 1250: cut at 1200 */
	run_until(w, 1200);
	assert_int_equal(sent_on[1], 3);
	link_set(w, 0, false);
	assert_true(has_event(&w->c, "\"candidate_transport\":\"udp-b\""));
	assert_false(has_event(&w->c, "\"new_state\":\"DEGRADED\""));
	run_until_keep(w, 1500);
	assert_true(has_event(&w->c, "\"new_transport\":\"udp-b\""));
	free_world(w);
}

/* ---- item 3: failback ---- */

static bool active_is(struct world *w, const char *id)
{
	struct jv_transport_info ti;

	for (uint32_t i = 0; jv_endpoint_transport(w->c.ep, i, w->now, &ti); i++)
		if (strcmp(ti.state, "active") == 0)
			return strcmp(ti.id, id) == 0;
	return false;
}

/* Runs 50 ms at a time to until; returns the time of the first round
 * whose client events hold needle (0: none), and counts them in *n. */
static uint64_t run_watch(struct world *w, uint64_t until, const char *needle,
			  int *n)
{
	uint64_t first = 0;

	while (w->now < until) {
		int k;

		run_until_keep(w, w->now + 50);
		k = count_events(&w->c, needle);
		if (k && !first)
			first = w->now;
		if (n)
			*n += k;
		w->c.nevents = w->s.nevents = 0;
	}
	return first;
}

static struct jv_policy failback_policy(uint64_t after)
{
	struct jv_policy p;

	jv_policy_defaults(&p);
	p.failback_after_ms = after;
	p.transport_lost_ttl_ms = 120000;
	return p;
}

/* udp-a's link goes down at 1200 (the session moves to udp-b) and comes
 * back at 2000: its first probe is answered at 2050. */
static struct world *moved_to_udp_b(const struct jv_policy *p)
{
	struct world *w = world3(p);

	run_until(w, 1200);
	link_set(w, 0, false);
	run_until(w, 2000);
	assert_true(active_is(w, "udp-b"));
	link_set(w, 0, true);
	return w;
}

/*
 * failback_after_ms 5000: udp-a, first in the preference order, answers
 * again from 2050 on without a loss; at 7050 the session moves back to it
 * (ATTACHED -> VOLATILE `failback`, then a normal reattach), and stays.
 */
JV_TEST(failback_after_the_time)
{
	struct jv_policy p = failback_policy(5000);
	struct world *w = moved_to_udp_b(&p);
	int n = 0;

	assert_int_equal(run_watch(w, 7000, "failback", NULL), 0);
	assert_true(active_is(w, "udp-b"));
	run_until_keep(w, 7050);
	assert_true(has_event(&w->c, "\"previous_state\":\"ATTACHED\","
				     "\"new_state\":\"VOLATILE\","
				     "\"reason_code\":\"failback\""));
	assert_true(has_event(&w->c, "\"reason_code\":\"switch_initiated\""));
	assert_true(has_event(&w->c, "\"previous_transport\":\"udp-b\","
				     "\"new_transport\":\"udp-a\""));
	assert_true(active_is(w, "udp-a"));
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	/* the gateway followed, and nothing moves again */
	assert_string_equal(server_session(w).transport, "udp-a");
	w->c.nevents = w->s.nevents = 0;
	run_watch(w, 60000, "\"TransportSwitch\"", &n);
	assert_int_equal(n, 0);
	free_world(w);
}

/* failback_after_ms 0 (the default): the session stays where it is. */
JV_TEST(no_failback_when_zero)
{
	struct jv_policy p = failback_policy(0);
	struct world *w = moved_to_udp_b(&p);
	int n = 0;

	run_watch(w, 60000, "\"TransportSwitch\"", &n);
	assert_int_equal(n, 0);
	assert_true(active_is(w, "udp-b"));
	free_world(w);
}

/*
 * A preferred path that keeps losing a probe now and then never takes the
 * session back: each loss restarts its healthy time. Here the losses are
 * 5 s apart, rarer than the 4 s loss window, so a loss has left the window
 * (the path looks fit) long before the 8 s are up: only the restart holds
 * the session. The limiter would allow every switch (64 a minute, no
 * cooldown). Once the losses stop, failback follows 8 s after the streak
 * restarts.
 */
JV_TEST(flapping_preferred_path_no_failback)
{
	struct jv_policy p = failback_policy(8000);
	struct world *w;
	uint64_t at;
	int n = 0;

	p.max_switches_per_min = 64;
	p.switch_cooldown_ms = 0;
	w = moved_to_udp_b(&p);
	/* udp-a loses everything for 1.1 s every 5 s (a probe or two each
	 * time), from 4000 to 30100 */
	for (uint64_t t = 4000; t <= 29000; t += 5000) {
		assert_int_equal(run_watch(w, t, "failback", &n), 0);
		w->lose_c2s |= 1u;
		assert_int_equal(run_watch(w, t + 1100, "failback", &n), 0);
		w->lose_c2s &= ~1u;
	}
	assert_true(active_is(w, "udp-b"));
	/* the last loss is seen at its probe's timeout (2 s without an RTT
	 * sample), after 32 s, and restarts the streak: failback no sooner
	 * than 8 s after that */
	at = run_watch(w, 60000, "\"reason_code\":\"failback\"", &n);
	assert_true(at >= 40000);
	assert_true(at <= 50000);
	assert_int_equal(n, 1);
	assert_true(active_is(w, "udp-a"));
	free_world(w);
}

/* A failback is a switch to the limiter: with one switch a minute, the
 * one at 1200 holds it back until 61200, then it happens at once. */
JV_TEST(failback_waits_for_the_limiter)
{
	struct jv_policy p = failback_policy(5000);
	struct world *w;
	uint64_t at;

	p.max_switches_per_min = 1;
	w = moved_to_udp_b(&p);
	at = run_watch(w, 70000, "\"reason_code\":\"failback\"", NULL);
	assert_int_equal(at, 61200);
	assert_true(active_is(w, "udp-a"));
	free_world(w);
}

/* The healthy time of a failback target counts from the session's move
 * to the active transport, not from before it: the operator moves the
 * session to tcp-b at 20000 while udp-a and udp-b have answered every
 * probe for 18 s; the session goes back to udp-a (the first in the
 * preference order) only 5 s later. */
JV_TEST(failback_counts_from_the_switch)
{
	struct jv_policy p = failback_policy(5000);
	struct world *w = world3(&p);
	uint64_t at;

	run_until(w, 20000);
	assert_int_equal(jv_endpoint_switch(w->c.ep, 2, w->now), 0);
	pump(w);
	pump(w);
	assert_true(active_is(w, "tcp-b"));
	at = run_watch(w, 30000, "\"reason_code\":\"failback\"", NULL);
	assert_int_equal(at, 25000);
	assert_true(active_is(w, "udp-a"));
	free_world(w);
}
