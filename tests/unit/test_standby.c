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
