/* Keys rotate on a timer whether or not data flows; both directions must
 * stay decryptable however long a session idles, and a data packet that no
 * longer opens must show, not vanish. */
#include <sodium.h>
#include <string.h>

#include "tests/unit/world.h"
#include "tests/unit/unit.h"

JV_TEST(test_idle_fast_rekey)
{
	struct jv_policy p;
	struct world *w;

	jv_policy_defaults(&p);
	p.rekey_after_ms = 1000;
	w = attached_world(&p);
	data_both_ways(w, 3);
	run_until(w, 4500);                 /* idle: heartbeats only */
	data_both_ways(w, 10);
	run_until(w, 9000);
	data_both_ways(w, 10);
	free_world(w);
}

JV_TEST(test_idle_default_rekey)
{
	struct world *w = attached_world(NULL);

	run_until(w, 250000);               /* two default rekey periods */
	data_both_ways(w, 10);
	free_world(w);
}

/* Data flowing one way only: the other direction keeps up too. */
JV_TEST(test_one_way_traffic)
{
	struct jv_policy p;
	struct world *w;
	uint8_t pkt[40];

	jv_policy_defaults(&p);
	p.rekey_after_ms = 1000;
	w = attached_world(&p);
	while (w->now < 6000) {
		w->now += 50;
		jv_endpoint_send_inner(w->c.ep, ipv4(pkt, 0x0a4d0002,
				       0x0a4d0001), 40, w->now);
		jv_endpoint_tick(w->c.ep, w->now);
		jv_endpoint_tick(w->s.ep, w->now);
		pump(w);
		pump(w);
		w->c.nevents = w->s.nevents = 0;
	}
	data_both_ways(w, 5);
	free_world(w);
}

/* A data packet that does not open for a live session is counted and
 * reported (rate-limited), so a key mismatch is visible. */
JV_TEST(test_undecryptable_data_shows)
{
	struct world *w = attached_world(NULL);
	uint8_t pkt[40];

	w->c.nevents = w->s.nevents = 0;
	jv_endpoint_send_inner(w->c.ep, ipv4(pkt, 0x0a4d0002, 0x0a4d0001), 40,
			       w->now);
	w->c.out[0].buf[20] ^= 1;
	pump(w);
	assert_int_equal(w->s.delivered, 0);
	assert_true(node_stats(&w->s).rx_auth_failed == 1);
	assert_true(has_event(&w->s, "\"reason_code\":\"bad_data_key\""));
	free_world(w);
}

/* Both ends rotate on their own timer, idle or not. */
JV_TEST(test_both_ends_rotate)
{
	struct jv_policy p;
	struct world *w;
	int c = 0, s = 0;

	jv_policy_defaults(&p);
	p.rekey_after_ms = 1000;
	w = attached_world(&p);
	while (w->now < 4500) {
		w->c.nevents = w->s.nevents = 0;
		run_until_keep(w, w->now + 50);
		c += count_events(&w->c, "\"event_type\":\"KeyRotated\"");
		s += count_events(&w->s, "\"event_type\":\"KeyRotated\"");
	}
	assert_int_equal(c, 4);
	assert_int_equal(s, 4);
	free_world(w);
}

/* A data packet held back past a rekey (a TCP connection through a
 * blackout hands it over late) does not open, and is late, not forged:
 * counted, not reported as bad_data_key (found by the chaos soak). */
JV_TEST(test_late_packet_not_reported)
{
	struct jv_policy p;
	struct world *w;
	struct jv_endpoint_stats st;
	struct dgram held;
	uint8_t pkt[40];

	jv_policy_defaults(&p);
	p.rekey_after_ms = 1000;
	w = attached_world(&p);
	jv_endpoint_send_inner(w->s.ep, ipv4(pkt, 0x0a4d0001, 0x0a4d0002), 40,
			       w->now);
	held = w->s.out[w->s.nout - 1];
	w->s.nout--;
	run_until(w, 6000);              /* several epochs and graces later */
	w->c.nevents = 0;
	jv_endpoint_recv(w->c.ep, &(struct jv_path){ .proto = JV_PROTO_UDP },
			 held.buf, held.len, w->now);
	assert_int_equal(w->c.delivered, 0);
	jv_endpoint_stats(w->c.ep, &st);
	assert_true(st.rx_late == 1);
	assert_false(has_event(&w->c, "bad_data_key"));
	free_world(w);
}

/* A forged DATA packet naming an epoch the session never had (here:
 * 0x8001 "behind" epoch 0, modulo 2^16) is not late: it is reported as
 * bad_data_key, not hidden in rx_late (found by the fuzz helper). */
JV_TEST(test_forged_epoch_never_had_is_reported)
{
	struct world *w = attached_world(NULL);
	struct jv_endpoint_stats st;
	struct dgram d;
	uint8_t pkt[40];

	jv_endpoint_send_inner(w->s.ep, ipv4(pkt, 0x0a4d0001, 0x0a4d0002), 40,
			       w->now);
	d = w->s.out[w->s.nout - 1];
	w->s.nout--;
	d.buf[2] = 0x01;                 /* epoch 0x8001, little-endian */
	d.buf[3] = 0x80;
	w->c.nevents = 0;
	jv_endpoint_recv(w->c.ep, &(struct jv_path){ .proto = JV_PROTO_UDP },
			 d.buf, d.len, w->now);
	assert_int_equal(w->c.delivered, 0);
	jv_endpoint_stats(w->c.ep, &st);
	assert_true(st.rx_late == 0);
	assert_true(has_event(&w->c, "bad_data_key"));
	free_world(w);
}
