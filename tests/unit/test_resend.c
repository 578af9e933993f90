/* The lossless switch (issue 11 item 4): each end keeps copies of the DATA
 * datagrams it sent (switching.resend_max_bytes) and re-sends those that
 * may have gone into a dead path on the new one right after the reattach;
 * the receiver's replay window drops what it already had. Fake clock, the
 * world.h harness (no latency), stepped deadline by deadline; udp-a
 * (transport 0, active) and udp-b. Each inner packet carries a sequence
 * number, so the tests see what was delivered and how often. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/world.h"
#include "tests/unit/unit.h"

#define MAXSEQ 4096
#define REC(len) (24 + (((len) + 7) & ~7u))   /* a copy in the store */
#define SEALED (16 + 40 + 16)                   /* one test packet */

static struct {
	/* deliveries per sequence number, each way */
	uint32_t up_seen[MAXSEQ], down_seen[MAXSEQ];
	uint32_t up_sent, down_sent;
	/* udp-a drops everything from cut_at on (0: never) */
	uint64_t cut_at;
	/* DATA datagrams the cut took, and the sequence numbers they carried
	 * (known from the send order: the n-th DATA datagram a node sends
	 * is its n-th packet until a re-send) */
	uint32_t up_lost, down_lost;
	/* of those, sealed in epoch >= min_epoch (see key change) */
	uint16_t min_epoch;
	uint32_t up_lost_recent;
	/* ReattachResult SUCCESS: resent_packets (-1: none seen) */
	long c_resent, s_resent;
	uint32_t held_max;           /* the client's held bytes, at most */
} R;

static uint32_t seq_of(const uint8_t *pkt)
{
	return (uint32_t)pkt[36] << 24 | (uint32_t)pkt[37] << 16 |
	       (uint32_t)pkt[38] << 8 | pkt[39];
}

static void seen_up(struct node *n, const uint8_t *pkt, size_t len)
{
	(void)n;
	assert_int_equal(len, 40);
	assert_true(seq_of(pkt) < MAXSEQ);
	R.up_seen[seq_of(pkt)]++;
}

static void seen_down(struct node *n, const uint8_t *pkt, size_t len)
{
	(void)n;
	assert_int_equal(len, 40);
	assert_true(seq_of(pkt) < MAXSEQ);
	R.down_seen[seq_of(pkt)]++;
}

static bool cut_filter(struct world *w, bool c2s, struct dgram *d)
{
	uint32_t t = c2s ? d->path.local : d->path.addr[0];
	struct jv_hdr h;

	if (!R.cut_at || w->now < R.cut_at || t != 0)
		return true;
	if (jv_hdr_decode(&h, d->buf, d->len) == 0 && h.type == JV_MSG_DATA) {
		if (c2s) {
			R.up_lost++;
			R.up_lost_recent += h.epoch >= R.min_epoch;
		} else {
			R.down_lost++;
		}
	}
	return false;
}

static long resent_of(const char *e)
{
	const char *r = strstr(e, "\"resent_packets\":");

	assert_non_null(r);
	return strtol(r + strlen("\"resent_packets\":"), NULL, 10);
}

static void scan(struct world *w)
{
	struct jv_resend_info ri;

	for (int i = 0; i < w->c.nevents; i++)
		if (strstr(w->c.events[i], "\"ReattachResult\"") &&
		    strstr(w->c.events[i], "\"SUCCESS\""))
			R.c_resent = resent_of(w->c.events[i]);
	for (int i = 0; i < w->s.nevents; i++)
		if (strstr(w->s.events[i], "\"ReattachResult\"") &&
		    strstr(w->s.events[i], "\"SUCCESS\""))
			R.s_resent = resent_of(w->s.events[i]);
	w->c.nevents = w->s.nevents = 0;
	jv_endpoint_resend_info(w->c.ep, NULL, &ri);
	if (ri.held_bytes > R.held_max)
		R.held_max = (uint32_t)ri.held_bytes;
}

static struct world *world_p(const struct jv_policy *p)
{
	struct world *w = attached_world(p);

	memset(&R, 0, sizeof(R));
	R.c_resent = R.s_resent = -1;
	w->filter = cut_filter;
	w->s.on_inner = seen_up;
	w->c.on_inner = seen_down;
	return w;
}

/* heartbeat 100 ms, volatile 300 ms (test_data_silence.c's), resend_max
 * bytes of copies (the default: 256 KiB) */
static struct world *world_hb(uint32_t resend_max)
{
	struct jv_policy p;

	jv_policy_defaults(&p);
	p.heartbeat_interval_ms = 100;
	p.heartbeat_volatile_ms = 300;
	p.resend_max_bytes = resend_max;
	return world_p(&p);
}

static void send_seq(struct world *w, bool up)
{
	uint8_t pkt[40];
	uint32_t *n = up ? &R.up_sent : &R.down_sent;

	assert_true(*n < MAXSEQ);
	if (up)
		ipv4(pkt, 0x0a4d0002, 0x0a4d0001);
	else
		ipv4(pkt, 0x0a4d0001, 0x0a4d0002);
	pkt[36] = (uint8_t)(*n >> 24);
	pkt[37] = (uint8_t)(*n >> 16);
	pkt[38] = (uint8_t)(*n >> 8);
	pkt[39] = (uint8_t)*n;
	if (jv_endpoint_send_inner(up ? w->c.ep : w->s.ep, pkt, 40, w->now) ==
	    0)
		(*n)++;
}

/* Runs to until deadline by deadline; the client sends a packet every
 * up ms, the server every down ms (0: none). */
static void run(struct world *w, uint64_t until, uint64_t up, uint64_t down)
{
	uint64_t nu = up ? (w->now / up + 1) * up : UINT64_MAX;
	uint64_t nd = down ? (w->now / down + 1) * down : UINT64_MAX;

	for (int guard = 0; guard < 1000000; guard++) {
		uint64_t t = world_next(w, nu < nd ? nu : nd);

		if (t > until) {
			w->now = until;
			return;
		}
		if (t > w->now)
			w->now = t;
		if (nu <= w->now) {
			send_seq(w, true);
			nu += up;
		}
		if (nd <= w->now) {
			send_seq(w, false);
			nd += down;
		}
		world_tick_due(w);
		pump(w);
		pump(w);
		pump(w);
		scan(w);
	}
	fail_msg("time stuck at %llu", (unsigned long long)w->now);
}

/* How many of the first n were delivered never, and more than once. */
static void tally(const uint32_t *seen, uint32_t n, uint32_t *missing,
		  uint32_t *twice)
{
	*missing = *twice = 0;
	for (uint32_t i = 0; i < n; i++) {
		*missing += seen[i] == 0;
		*twice += seen[i] > 1;
	}
}

/*
 * Data both ways every 10 ms, udp-a black-holed from 5005: the client
 * sees it from the data (dead at 5212, test_data_silence.c) and moves to
 * udp-b; the packets the cut took each way come again right after the
 * reattach, each end's ReattachResult says how many it re-sent (at least
 * those lost: the copies from a round trip before the last packet heard
 * are included), and not one packet reaches the TUN twice. With the
 * store off the same run loses packets.
 */
JV_TEST(silent_cut_loses_nothing_delivers_nothing_twice)
{
	uint32_t missing, twice;
	struct world *w = world_hb(262144);

	run(w, 5005, 10, 10);
	R.cut_at = 5005;
	run(w, 6000, 10, 10);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_true(R.up_lost >= 15);
	assert_true(R.down_lost >= 15);
	assert_true(R.c_resent >= (long)R.up_lost);
	assert_true(R.s_resent >= (long)R.down_lost);
	/* bounded by the look-back, not the whole history */
	assert_true(R.c_resent < (long)R.up_lost + 20);
	assert_true(R.s_resent < (long)R.down_lost + 20);
	tally(R.up_seen, R.up_sent, &missing, &twice);
	assert_int_equal(missing, 0);
	assert_int_equal(twice, 0);
	tally(R.down_seen, R.down_sent, &missing, &twice);
	assert_int_equal(missing, 0);
	assert_int_equal(twice, 0);
	/* the counters */
	assert_int_equal(node_stats(&w->c).resent_packets, R.c_resent);
	assert_int_equal(node_stats(&w->s).resent_packets, R.s_resent);
	assert_int_equal(node_stats(&w->c).resent_bytes,
			 (uint64_t)R.c_resent * SEALED);
	/* a duplicate is no forgery: nothing reported, nothing late */
	assert_int_equal(node_stats(&w->s).security_events, 0);
	assert_int_equal(node_stats(&w->c).security_events, 0);
	assert_int_equal(node_stats(&w->s).rx_auth_failed, 0);
	assert_int_equal(node_stats(&w->c).rx_auth_failed, 0);
	free_world(w);

	/* the store off: the same cut loses what went into udp-a */
	w = world_hb(0);
	run(w, 5005, 10, 10);
	R.cut_at = 5005;
	run(w, 6000, 10, 10);
	assert_int_equal(R.c_resent, 0);
	assert_int_equal(R.s_resent, 0);
	tally(R.up_seen, R.up_sent, &missing, &twice);
	assert_int_equal(missing, R.up_lost);
	tally(R.down_seen, R.down_sent, &missing, &twice);
	assert_int_equal(missing, R.down_lost);
	free_world(w);
}

/* A download alone: the client sends no data, the heartbeats find the
 * cut (300 ms); the server re-sends after the path validation on udp-b. */
JV_TEST(silent_cut_download_resent_by_the_server)
{
	uint32_t missing, twice;
	struct world *w = world_hb(262144);

	run(w, 5005, 0, 10);
	R.cut_at = 5005;
	run(w, 6000, 0, 10);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_true(R.down_lost >= 25);
	assert_true(R.s_resent >= (long)R.down_lost);
	assert_int_equal(R.c_resent, 0);
	tally(R.down_seen, R.down_sent, &missing, &twice);
	assert_int_equal(missing, 0);
	assert_int_equal(twice, 0);
	free_world(w);
}

/*
 * Bounded: 2048 bytes of store, one packet every 2 ms (about 100 lost in
 * the cut): the store never holds more than 2048 bytes, and the re-send
 * takes the newest copies that fit (2048 / 96 = 21 copies of 72-byte
 * datagrams), the last ones sent into udp-a.
 */
JV_TEST(resend_bounded_newest_within_the_cap)
{
	struct world *w = world_hb(2048);
	struct jv_resend_info ri;
	uint32_t missing, twice, last_a;

	run(w, 5005, 2, 0);
	jv_endpoint_resend_info(w->c.ep, NULL, &ri);
	assert_int_equal(ri.pool_bytes, 2048);
	assert_int_equal(ri.held_packets, 2048 / REC(SEALED));
	R.cut_at = 5005;
	run(w, 6000, 2, 0);
	assert_true(R.up_lost > 80);
	assert_int_equal(R.c_resent, 2048 / REC(SEALED));
	assert_true(R.held_max <= 2048);
	jv_endpoint_resend_info(w->c.ep, NULL, &ri);
	assert_int_equal(ri.pool_bytes, 2048);
	tally(R.up_seen, R.up_sent, &missing, &twice);
	assert_int_equal(twice, 0);
	assert_int_equal(missing, R.up_lost - (uint32_t)R.c_resent);
	/* the lost ones are a run of sequence numbers after the cut; the
	 * newest 21 of them came again, the older ones did not */
	last_a = 0;
	for (uint32_t i = 0; i < R.up_sent; i++)
		if (!R.up_seen[i])
			last_a = i;
	assert_true(last_a > 0);
	for (uint32_t i = last_a + 1; i <= last_a + 2048 / REC(SEALED); i++)
		assert_int_equal(R.up_seen[i], 1);
	free_world(w);
}

/*
 * A full store is not walked whole: a re-send starts from the newest
 * copy and goes back only to the first one older than the window (or
 * until the bound is full). 15 s of a packet every 5 ms fill 256 KiB
 * (2730 copies); the cut loses a few dozen, and the re-send looks at
 * about as many, not 2730. (Walking the whole 16 MiB store of a gateway took
 * 13 ms before each reattach's ACK in bench/tunnel.sh.)
 */
JV_TEST(resend_walks_back_from_the_newest)
{
	struct world *w = world_hb(256 * 1024);
	struct jv_resend_info ri;

	run(w, 15005, 5, 0);
	jv_endpoint_resend_info(w->c.ep, NULL, &ri);
	assert_int_equal(ri.held_packets, 256 * 1024 / REC(SEALED));
	R.cut_at = 15005;
	run(w, 16000, 5, 0);
	assert_true(R.up_lost > 20);
	assert_true(R.c_resent >= R.up_lost);   /* and the round trip before */
	jv_endpoint_resend_info(w->c.ep, NULL, &ri);
	assert_true(ri.last_walk >= R.c_resent);
	assert_true(ri.last_walk < R.c_resent + 50);
	free_world(w);
}

/* Dropped on termination: the copies of a session go with it, on both
 * ends (the client's store is freed). */
JV_TEST(resend_dropped_on_termination)
{
	struct world *w = world_hb(262144);
	struct jv_session_info si;
	struct jv_resend_info ri;

	run(w, 3000, 10, 10);
	si = server_session(w);
	jv_endpoint_resend_info(w->s.ep, si.session_id, &ri);
	assert_true(ri.held_packets > 0);
	assert_true(ri.pool_bytes > 0);
	jv_endpoint_resend_info(w->c.ep, si.session_id, &ri);
	assert_true(ri.held_packets > 0);
	assert_int_equal(jv_endpoint_terminate(w->c.ep, NULL,
					       JV_R_OPERATOR_TERMINATED,
					       w->now),
			 0);
	pump(w);
	jv_endpoint_resend_info(w->c.ep, NULL, &ri);
	assert_int_equal(ri.pool_bytes, 0);
	assert_int_equal(ri.held_bytes, 0);
	jv_endpoint_resend_info(w->s.ep, NULL, &ri);
	assert_int_equal(ri.held_bytes, 0);
	assert_int_equal(ri.held_packets, 0);
	free_world(w);

	/* and the server's own termination */
	w = world_hb(262144);
	run(w, 3000, 10, 10);
	si = server_session(w);
	assert_int_equal(jv_endpoint_terminate(w->s.ep, si.session_id,
					       JV_R_OPERATOR_TERMINATED,
					       w->now),
			 0);
	jv_endpoint_resend_info(w->s.ep, NULL, &ri);
	assert_int_equal(ri.held_packets, 0);
	pump(w);
	jv_endpoint_resend_info(w->c.ep, NULL, &ri);
	assert_int_equal(ri.pool_bytes, 0);
	free_world(w);
}

/*
 * Never across a key change the peer cannot open: rekey every second,
 * the heartbeats alone judge (2 s), the cut at 5005. Two rotations fall
 * in the outage (6000, 7000); the switch comes at 7001, when the server
 * keeps the key of epoch 6 but no longer that of epoch 5. The copies of
 * epoch 5 are not sent (no packet of them delivered, nothing late or
 * failed at the server); those of epochs 6 and 7 are, all delivered.
 */
JV_TEST(resend_never_across_a_key_change_the_peer_cannot_open)
{
	struct jv_policy p;
	struct world *w;
	struct jv_endpoint_stats before, after;
	uint32_t missing, twice;

	jv_policy_defaults(&p);
	p.data_silence_rtts = 0;
	p.rekey_after_ms = 1000;
	w = world_p(&p);
	R.min_epoch = 6;
	run(w, 5005, 50, 0);
	before = node_stats(&w->s);
	R.cut_at = 5005;
	run(w, 8000, 50, 0);
	after = node_stats(&w->s);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_true(R.up_lost > R.up_lost_recent);
	assert_true(R.up_lost_recent >= 15);
	assert_int_equal(R.c_resent, R.up_lost_recent);
	assert_int_equal(after.rx_late, before.rx_late);
	assert_int_equal(after.rx_auth_failed, before.rx_auth_failed);
	assert_int_equal(after.security_events, before.security_events);
	tally(R.up_seen, R.up_sent, &missing, &twice);
	assert_int_equal(missing, R.up_lost - R.up_lost_recent);
	assert_int_equal(twice, 0);
	free_world(w);
}

/* An idle session takes no store: no data, no memory, on either end. */
JV_TEST(idle_session_takes_no_store)
{
	struct world *w = world_hb(262144);
	struct jv_resend_info ri;

	run(w, 10000, 0, 0);
	jv_endpoint_resend_info(w->s.ep, NULL, &ri);
	assert_int_equal(ri.pool_bytes, 0);
	jv_endpoint_resend_info(w->c.ep, NULL, &ri);
	assert_int_equal(ri.pool_bytes, 0);
	/* a cut and a switch change nothing */
	R.cut_at = 10005;
	run(w, 11000, 0, 0);
	assert_int_equal(R.c_resent, 0);
	assert_int_equal(R.s_resent, 0);
	jv_endpoint_resend_info(w->s.ep, NULL, &ri);
	assert_int_equal(ri.pool_bytes, 0);
	free_world(w);
}

/* A handshake the server redoes (its HS_RESP was lost, the HS_INIT came
 * again) drops the session's copies: they were sealed under keys the
 * client may never hold, and a re-send of them would be a bad key. */
JV_TEST(resend_dropped_when_the_handshake_is_redone)
{
	struct world *w = make_world(NULL);
	struct jv_resend_info ri;
	uint8_t pkt[40];

	w->lose_s2c = 1;
	jv_endpoint_start(w->c.ep, 0);
	pump(w);            /* HS_INIT in, HS_RESP lost */
	assert_int_equal(jv_endpoint_send_inner(w->s.ep,
						ipv4(pkt, 0x0a4d0001,
						     0x0a4d0002),
						40, 10),
			 0);
	jv_endpoint_resend_info(w->s.ep, NULL, &ri);
	assert_int_equal(ri.held_packets, 1);
	w->now = jv_endpoint_deadline(w->c.ep);
	jv_endpoint_tick(w->c.ep, w->now);   /* the HS_INIT again */
	assert_int_equal(w->c.nout, 1);
	pump(w);
	jv_endpoint_resend_info(w->s.ep, NULL, &ri);
	assert_int_equal(ri.held_packets, 0);
	free_world(w);
}
