/* The engine driven directly on a fake clock: handshake, data, the
 * security checks on hostile datagrams, and malformed input of every type
 * and length. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/endpoint.h"

#include "tests/unit/world.h"
#include "tests/unit/unit.h"

/* A 40-byte inner packet src -> dst (host order) into pkt, sent by n at
 * 1 ms and carried across. */
static void send_across(struct world *w, struct node *n, uint8_t pkt[40],
			uint32_t src, uint32_t dst)
{
	assert_int_equal(jv_endpoint_send_inner(n->ep, ipv4(pkt, src, dst), 40,
						1), 0);
	pump(w);
}

/* A switch shows in the server's session info, and leaves it after a
 * minute. */
JV_TEST(test_switch_counted_on_server)
{
	struct world *w = attached_world(NULL);
	struct jv_session_info si;

	run_until(w, 5000);                  /* standby probes build a record */
	jv_endpoint_transport_down(w->c.ep, 0, JV_R_LINK_DOWN, w->now);
	pump(w);
	pump(w);
	si = server_session(w);
	assert_string_equal(si.transport, "udp-b");
	assert_int_equal(si.switches_last_min, 1);
	assert_int_equal(si.state_version, 4);
	run_until(w, 40000);
	assert_int_equal(server_session(w).switches_last_min, 1);
	run_until(w, 130000);
	assert_int_equal(server_session(w).switches_last_min, 0);
	free_world(w);
}

JV_TEST(test_handshake)
{
	struct world *w = attached_world(NULL);
	struct jv_session_info ci, si;
	uint32_t cur = 0;

	assert_true(jv_endpoint_session_next(w->c.ep, &cur, 0, &ci));
	si = server_session(w);
	assert_memory_equal(ci.session_id, si.session_id, 16);
	assert_string_equal(si.peer, "laptop");
	assert_string_equal(si.transport, "udp-a");
	assert_true(has_event(&w->c, "\"event_type\":\"SessionCreated\""));
	assert_true(has_event(&w->s, "\"previous_state\":\"BIRTH\",\"new_state\":\"ATTACHED\",\"reason_code\":\"handshake_ok\""));
	assert_true(has_event(&w->c, "\"new_state\":\"ATTACHED\""));
	free_world(w);
}

/* Every event about a session names the peer (the peer's configured
 * name on the server, the client's node_id on the client: the same) and
 * its outer address: the datagram's source, else the session's path. */
JV_TEST(test_events_carry_peer_and_remote)
{
	struct world *w = attached_world(NULL);
	struct jv_session_info ci;
	uint32_t cur = 0;

	for (int i = 0; i < w->s.nevents; i++)
		assert_non_null(strstr(w->s.events[i], "\"peer\":\"laptop\","
				       "\"remote\":\"path-0\""));
	for (int i = 0; i < w->c.nevents; i++)
		assert_non_null(strstr(w->c.events[i], "\"peer\":\"laptop\","
				       "\"remote\":\"path-0\""));
	assert_string_equal(server_session(w).remote, "path-0");
	assert_int_equal(server_session(w).proto, JV_PROTO_UDP);
	assert_true(jv_endpoint_session_next(w->c.ep, &cur, 0, &ci));
	assert_string_equal(ci.peer, "laptop");
	assert_string_equal(ci.remote, "path-0");

	/* a switch: the new path on both ends */
	run_until(w, 5000);
	w->c.nevents = w->s.nevents = 0;
	jv_endpoint_transport_down(w->c.ep, 0, JV_R_LINK_DOWN, w->now);
	pump(w);
	pump(w);
	assert_true(has_event(&w->s, "\"remote\":\"path-1\",\"previous_transport\""));
	assert_true(has_event(&w->c, "\"remote\":\"path-1\",\"previous_transport\""));
	assert_string_equal(server_session(w).remote, "path-1");

	/* no datagram: the bound path */
	w->c.nevents = w->s.nevents = 0;
	assert_int_equal(jv_endpoint_terminate(w->s.ep, NULL,
					       JV_R_OPERATOR_TERMINATED, w->now),
			 0);
	assert_true(has_event(&w->s, "\"event_type\":\"SessionTerminated\","
			      "\"node_id\":\"gw-1\""));
	assert_true(has_event(&w->s, "\"peer\":\"laptop\",\"remote\":\"path-1\","
			      "\"reason_code\":\"operator_terminated\",\"session_age_ms\""));
	free_world(w);
}

JV_TEST(test_events_are_json_with_gapless_seq)
{
	struct world *w = attached_world(NULL);
	struct node *nodes[2] = { &w->c, &w->s };

	for (int k = 0; k < 2; k++)
		for (int i = 0; i < nodes[k]->nevents; i++) {
			json_error_t e;
			json_t *ev = json_loads(nodes[k]->events[i], 0, &e);

			assert_non_null(ev);
			assert_int_equal(json_integer_value(json_object_get(ev, "seq")),
					 i + 1);
			assert_non_null(json_string_value(json_object_get(ev, "policy_version")));
			json_decref(ev);
		}
	free_world(w);
}

JV_TEST(test_data_both_ways)
{
	struct world *w = attached_world(NULL);
	uint8_t pkt[40];

	w->c.nout = w->s.nout = 0;
	send_across(w, &w->c, pkt, 0x0a4d0002, 0x0a4d0001);
	assert_int_equal(w->s.delivered, 1);
	assert_memory_equal(w->s.last_inner, pkt, 40);
	send_across(w, &w->s, pkt, 0x0a4d0001, 0x0a4d0002);
	assert_int_equal(w->c.delivered, 1);
	/* no route on the server for an address outside allowed_ips */
	assert_int_equal(jv_endpoint_send_inner(w->s.ep, ipv4(pkt, 0x0a4d0001,
						0x0a4d0009), 40, 1),
			 JV_ERR_NOTFOUND);
	/* a client spoofing another source address is dropped */
	send_across(w, &w->c, pkt, 0x0a4d0005, 0x0a4d0001);
	assert_int_equal(w->s.delivered, 1);
	free_world(w);
}

/* Inner packets from the server must come from the prefixes behind it:
 * anything else is dropped, counted and reported, on both ends. */
JV_TEST(test_inner_source_filtered)
{
	struct world *w = attached_world(NULL);
	uint8_t pkt[40];

	send_across(w, &w->s, pkt, 0x0a090909, 0x0a4d0002);
	assert_int_equal(w->c.delivered, 0);
	assert_true(node_stats(&w->c).inner_source_rejected == 1);
	assert_true(has_event(&w->c, "\"event_type\":\"SecurityInnerSourceRejected\""));
	assert_true(has_event(&w->c, "\"reason_code\":\"inner_source_not_allowed\""));
	send_across(w, &w->s, pkt, 0x0a4d0001, 0x0a4d0002);
	assert_int_equal(w->c.delivered, 1);
	/* the server side: a client spoofing another source */
	send_across(w, &w->c, pkt, 0x0a4d0005, 0x0a4d0001);
	assert_int_equal(w->s.delivered, 0);
	assert_true(node_stats(&w->s).inner_source_rejected == 1);
	assert_true(has_event(&w->s, "SecurityInnerSourceRejected"));
	free_world(w);
}

/* A flood of forged packets against one session cannot hide the events
 * of another, and what the budget hides is counted. */
JV_TEST(test_security_budget_per_session)
{
	struct world *w = attached_world(NULL);
	struct dgram junk;
	uint8_t pkt[40];

	jv_endpoint_send_inner(w->c.ep, ipv4(pkt, 0x0a4d0002, 0x0a4d0001), 40,
			       1);
	junk = w->c.out[0];
	w->c.nout = 0;
	junk.buf[20] ^= 1;
	w->s.nevents = 0;
	/* 200 session-less forgeries (unknown index) */
	for (int i = 0; i < 200; i++) {
		struct dgram d = junk;

		d.buf[1] = JV_CTRL_REATTACH_REQ;
		d.buf[0] = JV_MSG_CONTROL;
		jv_put_le32(d.buf + 4, 0x12345678u + (uint32_t)i);
		to_server(w, &d, 0);
	}
	/* then a targeted one at the session: still logged */
	to_server(w, &junk, 0);
	assert_true(has_event(&w->s, "\"reason_code\":\"bad_data_key\""));
	assert_true(node_stats(&w->s).security_suppressed >= 150);
	/* the next session-less event that gets through says how many the
	 * budget hid before it */
	w->now = 5000;
	{
		struct dgram d = junk;

		d.buf[0] = JV_MSG_CONTROL;
		d.buf[1] = JV_CTRL_REATTACH_REQ;
		jv_put_le32(d.buf + 4, 0x1u);
		to_server(w, &d, 0);
	}
	assert_true(has_event(&w->s, "\"suppressed\":"));
	free_world(w);
}

/* A terminated session's tombstone answers the client once, not every
 * replayed copy from every spoofed source, and only a few a second. */
JV_TEST(test_tombstone_answers_fresh_only)
{
	struct world *w = attached_world(NULL);
	struct jv_session_info si = server_session(w);
	struct dgram hb[8];
	int n = 0;

	/* heartbeats the server never sees, as if lost on the way */
	for (int i = 0; i < 8; i++) {
		w->now += 600;
		jv_endpoint_tick(w->c.ep, w->now);
		assert_true(w->c.nout >= 1);
		hb[i] = w->c.out[0];
		w->c.nout = 0;
	}
	assert_int_equal(jv_endpoint_terminate(w->s.ep, si.session_id,
					       JV_R_OPERATOR_TERMINATED, w->now), 0);
	w->s.nout = 0;
	/* one captured message from 100 sources: one answer */
	for (int a = 0; a < 100; a++)
		to_server(w, &hb[0], (uint8_t)(a + 10));
	assert_int_equal(w->s.nout, 1);
	/* fresh ones, all at once: a few answers a second */
	w->s.nout = 0;
	for (int i = 1; i < 8; i++)
		to_server(w, &hb[i], 0);
	n = w->s.nout;
	assert_true(n >= 1 && n <= 4);
	free_world(w);
}

/* Memory that holds keys is offered to the driver to lock, and released
 * before it is freed. */
static int locked;
static struct node lock_node;

static void count_lock(void *ctx, void *ptr, size_t len, bool on)
{
	(void)ctx, (void)ptr;
	assert_true(len > 0);
	locked += on ? 1 : -1;
}

JV_TEST(test_key_memory_locked)
{
	struct jv_endpoint_cfg sc;
	struct jv_endpoint *ep;
	struct jv_peer_cfg peer;

	memset(&sc, 0, sizeof(sc));
	memset(&peer, 0, sizeof(peer));
	sc.role = JV_ROLE_SERVER;
	snprintf(sc.node_id, sizeof(sc.node_id), "gw-1");
	memset(sc.private_key, 3, 32);
	memset(peer.public_key, 9, 32);
	jv_policy_defaults(&sc.policy);
	sc.peers = &peer;
	sc.npeers = 1;
	sc.max_sessions = 4;
	sc.ops = world_ops;
	sc.ops.lock = count_lock;
	sc.ctx = &lock_node;
	locked = 0;
	assert_int_equal(jv_endpoint_new(&sc, 0, &ep), 0);
	assert_true(locked >= 3);      /* the endpoint, the pool, the DH cache */
	jv_endpoint_free(ep);
	assert_int_equal(locked, 0);
}

JV_TEST(test_replayed_handshake)
{
	struct world *w = make_world(NULL);
	struct dgram init;

	jv_endpoint_start(w->c.ep, 0);
	init = w->c.out[0];
	pump(w);
	w->now = 100;
	jv_endpoint_recv(w->s.ep, &(struct jv_path){ .proto = JV_PROTO_UDP,
						     .len = 1 },
			 init.buf, init.len, w->now);
	assert_true(has_event(&w->s, "\"event_type\":\"SecurityReplayDetected\""));
	assert_true(has_event(&w->s, "\"freshness_marker_type\":\"timestamp\""));
	assert_int_equal(count_events(&w->s, "SessionCreated"), 1);
	/* a failed handshake from a known key names the peer and where the
	 * datagram came from */
	assert_true(has_event(&w->s, "\"event_type\":\"SecurityReplayDetected\""));
	assert_true(has_event(&w->s, "\"policy_version\":\"1.0\",\"peer\":"
			      "\"laptop\",\"remote\":\"path-0\",\"reason_code\":"
			      "\"replay_detected\""));
	assert_int_equal(w->s.nout, 0);
	free_world(w);
}

JV_TEST(test_unknown_peer)
{
	struct world *w = make_world(NULL);
	uint8_t other[32];

	/* the server only knows the peer's key: change it */
	memset(other, 9, 32);
	jv_endpoint_free(w->s.ep);
	{
		struct jv_endpoint_cfg sc;
		uint8_t spriv[32];

		w->s.rng = 2;
		world_random(&w->s, spriv, 32);
		memset(&sc, 0, sizeof(sc));
		sc.role = JV_ROLE_SERVER;
		snprintf(sc.node_id, sizeof(sc.node_id), "gw-1");
		memcpy(sc.private_key, spriv, 32);
		jv_policy_defaults(&sc.policy);
		crypto_scalarmult_base(w->peer.public_key, other);
		sc.peers = &w->peer;
		sc.npeers = 1;
		sc.ops = world_ops;
		sc.ctx = &w->s;
		assert_int_equal(jv_endpoint_new(&sc, 0, &w->s.ep), 0);
	}
	jv_endpoint_start(w->c.ep, 0);
	pump(w);
	assert_true(has_event(&w->s, "\"reason_code\":\"bad_handshake\""));
	/* an unknown key: where it came from, no peer */
	assert_true(has_event(&w->s, "\"remote\":\"path-0\",\"reason_code\":"
			      "\"bad_handshake\""));
	assert_false(has_event(&w->s, "\"peer\""));
	assert_false(has_event(&w->s, "SessionCreated"));
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_BIRTH);
	free_world(w);
}

/* Every datagram type, truncated at every length and with every single
 * byte flipped: dropped without a crash or a state change. */
JV_TEST(test_malformed)
{
	struct world *w = make_world(NULL);
	struct dgram init, resp, data, ctrl;
	uint8_t pkt[40], buf[JV_WIRE_MAX];
	struct jv_path sp = { .proto = JV_PROTO_UDP, .len = 1 };
	struct jv_path cp = { .proto = JV_PROTO_UDP };

	jv_endpoint_start(w->c.ep, 0);
	init = w->c.out[0];
	pump(w);
	resp = w->c.nout ? w->c.out[0] : w->s.out[0];
	(void)resp;
	w->c.nout = w->s.nout = 0;
	jv_endpoint_send_inner(w->c.ep, ipv4(pkt, 0x0a4d0002, 0x0a4d0001), 40, 1);
	data = w->c.out[0];
	w->c.nout = 0;
	w->now = 600;
	jv_endpoint_tick(w->c.ep, w->now);   /* heartbeat */
	ctrl = w->c.out[0];
	w->c.nout = 0;

	for (size_t n = 0; n < init.len; n++)
		jv_endpoint_recv(w->s.ep, &sp, init.buf, n, w->now);
	for (size_t n = 0; n < data.len; n++)
		jv_endpoint_recv(w->s.ep, &sp, data.buf, n, w->now);
	for (size_t n = 0; n < ctrl.len; n++)
		jv_endpoint_recv(w->s.ep, &sp, ctrl.buf, n, w->now);
	for (size_t i = 0; i < data.len; i++) {
		memcpy(buf, data.buf, data.len);
		buf[i] ^= 0x40;
		jv_endpoint_recv(w->s.ep, &sp, buf, data.len, w->now);
		memcpy(buf, ctrl.buf, ctrl.len);
		buf[i % ctrl.len] ^= 0x40;
		jv_endpoint_recv(w->s.ep, &sp, buf, ctrl.len, w->now);
	}
	for (size_t n = 0; n < JV_HS_RESP_LEN + 4; n++) {
		memset(buf, 0, sizeof(buf));
		buf[0] = JV_MSG_HS_RESP;
		jv_endpoint_recv(w->c.ep, &cp, buf, n, w->now);
	}
	assert_int_equal(w->s.delivered, 0);
	assert_int_equal(server_session(w).state, JV_STATE_ATTACHED);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_false(has_event(&w->s, "TransitionRejected"));
	assert_true(node_stats(&w->s).rx_dropped > 100);
	/* the genuine packets still work afterwards */
	jv_endpoint_recv(w->s.ep, &sp, data.buf, data.len, w->now);
	assert_int_equal(w->s.delivered, 1);
	free_world(w);
}

JV_TEST(test_forged_reattach_changes_nothing)
{
	struct world *w = attached_world(NULL);
	struct jv_session_info before = server_session(w), after;
	struct jv_path sp = { .proto = JV_PROTO_UDP, .len = 1 };
	uint8_t buf[16 + 70 + 16];

	w->now = 600;
	jv_endpoint_tick(w->c.ep, w->now);
	memcpy(buf, w->c.out[0].buf, 16);
	buf[1] = 5;                  /* REATTACH_REQ */
	jv_put_le64(buf + 8, 1000);  /* fresh counter */
	memset(buf + 16, 0x5a, sizeof(buf) - 16);
	for (int i = 0; i < 10; i++) {
		sp.addr[0] = 1;
		jv_endpoint_recv(w->s.ep, &sp, buf, sizeof(buf), w->now);
	}
	after = server_session(w);
	assert_int_equal(count_events(&w->s, "\"reason_code\":\"bad_proof\""), 10);
	assert_int_equal(after.state, JV_STATE_ATTACHED);
	assert_true(after.state_version == before.state_version);
	assert_string_equal(after.transport, "udp-a");
	free_world(w);
}

JV_TEST(test_deadline_progresses)
{
	struct world *w = attached_world(NULL);

	/* ticks never ask to run again in the past: no busy loop */
	for (int i = 0; i < 200; i++) {
		uint64_t dc = jv_endpoint_deadline(w->c.ep);
		uint64_t ds = jv_endpoint_deadline(w->s.ep);

		w->now = dc < ds ? dc : ds;
		jv_endpoint_tick(w->c.ep, w->now);
		jv_endpoint_tick(w->s.ep, w->now);
		pump(w);
		assert_true(jv_endpoint_deadline(w->c.ep) > w->now);
		assert_true(jv_endpoint_deadline(w->s.ep) > w->now);
	}
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_int_equal(server_session(w).state, JV_STATE_ATTACHED);
	free_world(w);
}

JV_TEST(test_operator_terminate)
{
	struct world *w = attached_world(NULL);
	struct jv_session_info si = server_session(w);
	uint8_t unknown[16] = { 1 };
	uint32_t cur = 0;

	assert_int_equal(jv_endpoint_terminate(w->s.ep, unknown,
					       JV_R_OPERATOR_TERMINATED, 5),
			 JV_ERR_NOTFOUND);
	assert_int_equal(jv_endpoint_terminate(w->s.ep, si.session_id,
					       JV_R_OPERATOR_TERMINATED, 5), 0);
	pump(w);
	assert_false(jv_endpoint_session_next(w->s.ep, &cur, 5, &si));
	assert_int_equal(jv_endpoint_client_state(w->c.ep),
			 JV_STATE_TERMINATED);
	assert_true(has_event(&w->c, "\"reason_code\":\"peer_terminated\""));
	assert_true(has_event(&w->s, "\"event_type\":\"SessionTerminated\",\"node_id\"") ||
		    has_event(&w->s, "SessionTerminated"));
	free_world(w);
}
