/* The client's timers: the deadline it reports is never later than the
 * first thing it does when ticked, and a tick at that deadline always has
 * something due. Fake clock, 1 ms steps, the world.h harness. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/world.h"

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
	if (jv_endpoint_deadline(w->c.ep) <= w->now)
		jv_endpoint_tick(w->c.ep, w->now);
	if (jv_endpoint_deadline(w->s.ep) <= w->now)
		jv_endpoint_tick(w->s.ep, w->now);
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

/*
 * Two switches a minute are allowed. The client switches at 3007 and 8007;
 * a third switch at 14007 is denied (switch_rate_limited) and the session
 * waits in DEGRADED. The switch at 3007 leaves the sliding minute at 63007:
 * from then on the switch is allowed, so the client must be ticked then and
 * reattach at 63007, not at whatever timer happens to come next.
 */
static void limiter_wakes_when_the_oldest_switch_leaves(void **state)
{
	struct jv_policy p;
	struct world *w;
	uint64_t at;

	(void)state;
	jv_policy_defaults(&p);
	p.max_switches_per_min = 2;
	p.transport_lost_ttl_ms = 120000;
	w = attached_world(&p);

	step_until(w, 3007, NULL);          /* transport 1 builds a record */
	jv_endpoint_transport_down(w->c.ep, 0, JV_R_LINK_DOWN, w->now);
	pump(w);
	pump(w);
	at = take_event(w, "\"TransportSwitch\"");
	assert_int_equal(at, 3007);         /* switch 1: udp-a -> udp-b */
	jv_endpoint_transport_up(w->c.ep, 0, w->now);

	step_until(w, 8007, NULL);
	jv_endpoint_transport_down(w->c.ep, 1, JV_R_LINK_DOWN, w->now);
	pump(w);
	pump(w);
	at = take_event(w, "\"TransportSwitch\"");
	assert_int_equal(at, 8007);         /* switch 2: udp-b -> udp-a */
	jv_endpoint_transport_up(w->c.ep, 1, w->now);

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(limiter_wakes_when_the_oldest_switch_leaves),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
