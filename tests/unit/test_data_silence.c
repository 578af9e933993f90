/* Detection from the data path (issue 11 item 1): while inner packets go
 * out on the active transport, silence on it is death within
 * max(data_silence_rtts x SRTT, floor) + the suspicion probes' bound,
 * before the heartbeat timeout; an idle session is judged by heartbeats
 * alone, as before; a one-way flow on a healthy path, or one lost probe,
 * is never death. Fake clock, the world.h harness (no latency, so SRTT is
 * 0 and the floor rules), stepped deadline by deadline rather than every
 * 50 ms so times are exact. Transports udp-a (active) and udp-b. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/world.h"
#include "tests/unit/unit.h"

/* The client's first TransportDead: when and why (0, "": none). */
static uint64_t dead_at;
static char dead_reason[48];
static bool switched_to_b;
static uint64_t inner_sent;
/* s2c datagrams on transport 0 are lost before this time (0: none) */
static uint64_t mute_s2c_until;

static void scan_events(struct world *w)
{
	for (int i = 0; i < w->c.nevents; i++) {
		const char *e = w->c.events[i], *r;

		if (strstr(e, "\"TransportSwitch\"") &&
		    strstr(e, "\"new_transport\":\"udp-b\""))
			switched_to_b = true;
		if (dead_at || !strstr(e, "\"TransportDead\""))
			continue;
		dead_at = w->now;
		r = strstr(e, "\"reason_code\":\"");
		assert_non_null(r);
		r += strlen("\"reason_code\":\"");
		snprintf(dead_reason, sizeof(dead_reason), "%.*s",
			 (int)strcspn(r, "\""), r);
	}
	w->c.nevents = w->s.nevents = 0;
}

static bool mute_filter(struct world *w, bool c2s, struct dgram *d)
{
	return c2s || d->path.addr[0] != 0 || w->now >= mute_s2c_until;
}

/* Attached on udp-a at 0; the defaults, heartbeat 100 ms and volatile
 * 300 ms (the measurement), overridden by rtts/floor. */
static struct world *world_hb(uint32_t rtts, uint64_t floor)
{
	struct jv_policy p;
	struct world *w;

	jv_policy_defaults(&p);
	p.heartbeat_interval_ms = 100;
	p.heartbeat_volatile_ms = 300;
	p.data_silence_rtts = rtts;
	p.data_silence_floor_ms = floor;
	w = attached_world(&p);
	dead_at = 0;
	dead_reason[0] = '\0';
	switched_to_b = false;
	inner_sent = 0;
	mute_s2c_until = 0;
	w->filter = mute_filter;
	return w;
}

/* Runs to until deadline by deadline, the client sending an inner packet
 * every `every` ms (0: none; the server never sends any). */
static void run_data(struct world *w, uint64_t until, uint64_t every)
{
	uint8_t pkt[40];
	uint64_t next = every ? (w->now / every + 1) * every : UINT64_MAX;

	for (int guard = 0; guard < 1000000; guard++) {
		uint64_t t = world_next(w, next);

		if (t > until) {
			w->now = until;
			return;
		}
		if (t > w->now)
			w->now = t;
		if (next <= w->now) {
			if (jv_endpoint_send_inner(w->c.ep,
						   ipv4(pkt, 0x0a4d0002,
							0x0a4d0001),
						   40, w->now) == 0)
				inner_sent++;
			next += every;
		}
		world_tick_due(w);
		pump(w);
		pump(w);
		scan_events(w);
	}
	fail_msg("time stuck at %llu", (unsigned long long)w->now);
}

/* Both directions of udp-a lost from 5005 on, link up. */
static void silent_cut(struct world *w)
{
	w->lose_c2s |= 1;
	w->lose_s2c |= 1;
}

/*
 * Data every 10 ms, silent cut at 5005. The last thing heard is the
 * heartbeat ack at 5000; the packet of 5010 starts the watch; suspicion
 * at 5110 (the floor, 100 ms: SRTT is 0 here); suspicion probes at 5110,
 * 5144, 5178 (a third of the floor apart), none answered: death at 5212,
 * data_path_silent, and the switch to udp-b at once. The heartbeats
 * alone would wait until 5301 (300 ms of silence, heartbeat_timeout).
 */
JV_TEST(silent_cut_with_data_detected_from_the_data)
{
	struct world *w = world_hb(4, 100);

	run_data(w, 5005, 10);
	assert_int_equal(dead_at, 0);
	silent_cut(w);
	run_data(w, 6000, 10);
	assert_int_equal(dead_at, 5212);
	assert_string_equal(dead_reason, "data_path_silent");
	assert_true(switched_to_b);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	free_world(w);
}

/* The same with the watch off: the heartbeat timeout, as before. */
JV_TEST(silent_cut_with_data_and_the_watch_off)
{
	struct world *w = world_hb(0, 100);

	run_data(w, 5005, 10);
	silent_cut(w);
	run_data(w, 6000, 10);
	assert_int_equal(dead_at, 5301);
	assert_string_equal(dead_reason, "heartbeat_timeout");
	free_world(w);
}

/* The floor scales detection: floor ms of silence, then 3 probes
 * ceil(floor / 3) apart; past the heartbeat timeout (5301), the heartbeats
 * come first. */
JV_TEST(silent_cut_floor_above_the_heartbeat_timeout)
{
	struct world *w = world_hb(4, 150);

	run_data(w, 5005, 10);
	silent_cut(w);
	run_data(w, 6000, 10);
	/* 5010 + 150 + 3 x 50 = 5310 > 5301: the heartbeats win */
	assert_int_equal(dead_at, 5301);
	assert_string_equal(dead_reason, "heartbeat_timeout");
	free_world(w);

	w = world_hb(4, 120);
	run_data(w, 5005, 10);
	silent_cut(w);
	run_data(w, 6000, 10);
	/* 5010 + 120 + 3 x 40 = 5250 */
	assert_int_equal(dead_at, 5250);
	assert_string_equal(dead_reason, "data_path_silent");
	free_world(w);
}

/* An idle session (no inner packets) is judged by its heartbeats alone:
 * the same death at the same time, and the very same datagrams sent, as
 * with the watch off. */
JV_TEST(idle_session_exactly_as_before)
{
	uint64_t sent[2], at[2];

	for (int k = 0; k < 2; k++) {
		struct world *w = world_hb(k ? 4 : 0, 100);

		run_data(w, 5005, 0);
		silent_cut(w);
		run_data(w, 8000, 0);
		assert_string_equal(dead_reason, "heartbeat_timeout");
		at[k] = dead_at;
		sent[k] = w->c.sent;
		free_world(w);
	}
	assert_int_equal(at[0], 5301);
	assert_int_equal(at[1], at[0]);
	assert_int_equal(sent[1], sent[0]);
}

/*
 * One-way data on a healthy path: the client sends every 10 ms, the
 * server sends no data, only heartbeat acks every 500 ms (the default
 * heartbeat). The watch raises suspicion about every 100 ms (the floor)
 * and each time the first suspicion probe is answered: never death.
 */
JV_TEST(one_way_data_on_a_healthy_path_is_not_death)
{
	struct jv_policy p;
	struct world *w;
	uint64_t quiet;

	jv_policy_defaults(&p);
	w = attached_world(&p);
	dead_at = 0;
	inner_sent = 0;
	run_data(w, 20000, 10);
	assert_int_equal(dead_at, 0);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_int_equal(inner_sent, 2000);
	/* suspicion did happen: besides the data, 40 heartbeats and about
	 * 20 + 40 standby probes, some 180 suspicion probes went out */
	assert_true(w->c.sent - inner_sent > 200);
	quiet = w->c.sent;
	free_world(w);

	/* and with the watch off, only the heartbeats and probes */
	p.data_silence_rtts = 0;
	w = attached_world(&p);
	inner_sent = 0;
	run_data(w, 20000, 10);
	assert_true(w->c.sent - inner_sent < 100);
	assert_true(quiet > w->c.sent);
	free_world(w);
}

/*
 * A lossy but alive path: from 5005 the server's datagrams on udp-a are
 * lost until 5120, so the heartbeat ack of 5100 and the answer to the
 * first suspicion probe (5110) are lost; the second probe (5144) is
 * answered. No death: one lost probe is not a confirmed silence.
 */
JV_TEST(one_lost_suspicion_probe_is_not_death)
{
	struct world *w = world_hb(4, 100);

	run_data(w, 5005, 10);
	mute_s2c_until = 5120;
	run_data(w, 8000, 10);
	assert_int_equal(dead_at, 0);
	assert_false(switched_to_b);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	free_world(w);
}

/* A policy reload: a watch under way waits the new time (a higher floor
 * moves the suspicion), and data_silence_rtts 0 ends it (the heartbeats
 * judge again). The cut at 5005; the watch started at 5010. */
JV_TEST(policy_reload_moves_or_ends_the_watch)
{
	struct world *w = world_hb(4, 100);
	struct jv_policy p = *jv_endpoint_policy(w->c.ep);

	run_data(w, 5005, 10);
	silent_cut(w);
	run_data(w, 5050, 10);
	/* floor 120: suspicion at 5130, probes 40 ms apart, dead at 5250 */
	p.data_silence_floor_ms = 120;
	jv_endpoint_set_policy(w->c.ep, &p, w->now);
	run_data(w, 6000, 10);
	assert_int_equal(dead_at, 5250);
	assert_string_equal(dead_reason, "data_path_silent");
	free_world(w);

	w = world_hb(4, 100);
	p = *jv_endpoint_policy(w->c.ep);
	run_data(w, 5005, 10);
	silent_cut(w);
	run_data(w, 5050, 10);
	p.data_silence_rtts = 0;
	jv_endpoint_set_policy(w->c.ep, &p, w->now);
	run_data(w, 6000, 10);
	assert_int_equal(dead_at, 5301);
	assert_string_equal(dead_reason, "heartbeat_timeout");
	free_world(w);
}
