/* Operations on a running engine: the gateway's peers replaced
 * (jv_endpoint_set_peers, what `jvpn ctl reload` and SIGHUP apply) and the
 * operator's switch on the client (jv_endpoint_switch, `jvpn ctl switch`).
 * Three clients, alice, bob and carol; the gateway starts knowing alice. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "engine/endpoint.h"

#include "tests/unit/world.h"
#include "tests/unit/unit.h"

#define NCL 3

struct net {
	struct node srv;
	struct node cl[NCL];
	struct jv_peer_cfg peers[NCL];      /* alice, bob, carol */
	uint8_t cpriv[NCL][32];
	uint8_t spub[32];
	uint64_t now;
};

static void new_client(struct net *n, int i)
{
	struct jv_endpoint_cfg cc;

	jv_endpoint_free(n->cl[i].ep);
	memset(&n->cl[i], 0, sizeof(n->cl[i]));
	gateway_client_cfg(&cc, n->peers[i].name, n->cpriv[i], n->spub,
			   &n->cl[i]);
	cc.server_allowed[0] = prefix4(0x0a000000, 8);
	cc.nserver_allowed = 1;
	n->cl[i].rng = 300 + (uint64_t)i;
	assert_int_equal(jv_endpoint_new(&cc, n->now, &n->cl[i].ep), 0);
}

static struct net *make_net(void)
{
	static const char *const names[NCL] = { "alice", "bob", "carol" };
	struct net *n = calloc(1, sizeof(*n));
	struct jv_endpoint_cfg sc;
	uint8_t spriv[32];

	assert_non_null(n);
	n->srv.rng = 100;
	world_random(&n->srv, spriv, 32);
	crypto_scalarmult_base(n->spub, spriv);
	for (int i = 0; i < NCL; i++) {
		struct node tmp = { .rng = 200 + (uint64_t)i };

		world_random(&tmp, n->cpriv[i], 32);
		snprintf(n->peers[i].name, sizeof(n->peers[i].name), "%s",
			 names[i]);
		crypto_scalarmult_base(n->peers[i].public_key, n->cpriv[i]);
		n->peers[i].allowed[0] = prefix4(0x0a4d0002 + (uint32_t)i, 32);
		n->peers[i].nallowed = 1;
		new_client(n, i);
	}
	memset(&sc, 0, sizeof(sc));
	sc.role = JV_ROLE_SERVER;
	snprintf(sc.node_id, sizeof(sc.node_id), "gw-1");
	memcpy(sc.private_key, spriv, 32);
	jv_policy_defaults(&sc.policy);
	sc.peers = n->peers;
	sc.npeers = 1;                       /* alice only */
	sc.max_sessions = 8;
	sc.ops = world_ops;
	sc.ctx = &n->srv;
	assert_int_equal(jv_endpoint_new(&sc, 0, &n->srv.ep), 0);
	return n;
}

static void free_net(struct net *n)
{
	gateway_free(&n->srv, n->cl, NCL);
	free(n);
}

static void pump_net(struct net *n)
{
	gateway_pump(&n->srv, n->cl, NCL, n->now);
}

static void attach(struct net *n, int i)
{
	jv_endpoint_start(n->cl[i].ep, n->now);
	pump_net(n);
	assert_int_equal(jv_endpoint_client_state(n->cl[i].ep),
			 JV_STATE_ATTACHED);
}

/* The server's live session of peer name (false: none). */
static bool session_of(struct net *n, const char *name,
		       struct jv_session_info *out)
{
	uint32_t cur = 0;

	while (jv_endpoint_session_next(n->srv.ep, &cur, n->now, out))
		if (strcmp(out->peer, name) == 0 &&
		    out->state != JV_STATE_TERMINATED)
			return true;
	return false;
}

/* The server sends a packet to dst; returns which client got it, -1 none. */
static int route_to(struct net *n, uint32_t dst)
{
	int before[NCL];
	uint8_t pkt[40];

	for (int i = 0; i < NCL; i++)
		before[i] = n->cl[i].delivered;
	if (jv_endpoint_send_inner(n->srv.ep, ipv4(pkt, 0x0a4d0001, dst), 40,
				   n->now) != 0)
		return -1;
	pump_net(n);
	for (int i = 0; i < NCL; i++)
		if (n->cl[i].delivered != before[i])
			return i;
	return -1;
}

/* Client i sends a packet from src; whether the server delivered it. */
static bool from_client(struct net *n, int i, uint32_t src)
{
	int before = n->srv.delivered;
	uint8_t pkt[40];

	assert_int_equal(jv_endpoint_send_inner(n->cl[i].ep,
						ipv4(pkt, src, 0x0a4d0001),
						40, n->now), 0);
	pump_net(n);
	return n->srv.delivered == before + 1;
}

JV_TEST(added_peer_can_handshake)
{
	struct net *n = make_net();
	struct jv_session_info a0, a1, b;

	attach(n, 0);
	assert_true(session_of(n, "alice", &a0));
	/* bob is unknown: his HS_INIT goes nowhere */
	jv_endpoint_start(n->cl[1].ep, n->now);
	pump_net(n);
	assert_int_equal(jv_endpoint_client_state(n->cl[1].ep), JV_STATE_BIRTH);
	n->srv.nevents = 0;
	assert_int_equal(jv_endpoint_set_peers(n->srv.ep, n->peers, 2, n->now),
			 0);
	assert_int_equal(n->srv.nevents, 0);     /* nothing ended */
	/* a fresh client (a new handshake timestamp) attaches now */
	n->now += 10;
	new_client(n, 1);
	attach(n, 1);
	assert_true(session_of(n, "bob", &b));
	assert_int_equal(route_to(n, 0x0a4d0003), 1);
	assert_true(from_client(n, 1, 0x0a4d0003));
	/* alice's session is the same one, keys and all */
	assert_true(session_of(n, "alice", &a1));
	assert_memory_equal(a0.session_id, a1.session_id, 16);
	assert_int_equal(a1.state_version, a0.state_version);
	assert_int_equal(route_to(n, 0x0a4d0002), 0);
	assert_true(from_client(n, 0, 0x0a4d0002));
	assert_string_equal(jv_endpoint_peer_name(n->srv.ep, 1), "bob");
	free_net(n);
}

JV_TEST(unchanged_session_survives_a_reorder)
{
	struct net *n = make_net();
	struct jv_peer_cfg reordered[3];
	struct jv_session_info a0, a1, b0, b1;

	assert_int_equal(jv_endpoint_set_peers(n->srv.ep, n->peers, 2, n->now),
			 0);
	attach(n, 0);
	attach(n, 1);
	assert_true(session_of(n, "alice", &a0));
	assert_true(session_of(n, "bob", &b0));
	/* carol first, then bob, then alice: every index moves */
	reordered[0] = n->peers[2];
	reordered[1] = n->peers[1];
	reordered[2] = n->peers[0];
	n->srv.nevents = 0;
	assert_int_equal(jv_endpoint_set_peers(n->srv.ep, reordered, 3, n->now),
			 0);
	assert_false(has_event(&n->srv, "SessionTerminated"));
	assert_true(session_of(n, "alice", &a1));
	assert_true(session_of(n, "bob", &b1));
	assert_memory_equal(a0.session_id, a1.session_id, 16);
	assert_memory_equal(b0.session_id, b1.session_id, 16);
	assert_int_equal(a1.key_epoch, a0.key_epoch);
	/* routing follows the names, both ways */
	assert_int_equal(route_to(n, 0x0a4d0002), 0);
	assert_int_equal(route_to(n, 0x0a4d0003), 1);
	assert_true(from_client(n, 0, 0x0a4d0002));
	assert_true(from_client(n, 1, 0x0a4d0003));
	/* alice may not use bob's address */
	assert_false(from_client(n, 0, 0x0a4d0003));
	free_net(n);
}

JV_TEST(removed_peer_session_terminated)
{
	struct net *n = make_net();
	struct jv_session_info b;

	assert_int_equal(jv_endpoint_set_peers(n->srv.ep, n->peers, 2, n->now),
			 0);
	attach(n, 0);
	attach(n, 1);
	n->srv.nevents = n->cl[0].nevents = 0;
	/* alice removed: bob alone */
	assert_int_equal(jv_endpoint_set_peers(n->srv.ep, &n->peers[1], 1,
					       n->now), 0);
	assert_true(has_event(&n->srv, "\"event_type\":\"SessionTerminated\""));
	assert_true(has_event(&n->srv, "\"peer\":\"alice\""));
	assert_true(has_event(&n->srv, "\"reason_code\":\"operator_terminated\""));
	assert_false(session_of(n, "alice", &b));
	pump_net(n);       /* the TERMINATE reaches alice */
	assert_int_equal(jv_endpoint_client_state(n->cl[0].ep),
			 JV_STATE_TERMINATED);
	assert_true(has_event(&n->cl[0], "\"reason_code\":\"peer_terminated\""));
	/* bob carries on; nothing routes to alice's address any more */
	assert_true(session_of(n, "bob", &b));
	assert_int_equal(route_to(n, 0x0a4d0003), 1);
	assert_int_equal(route_to(n, 0x0a4d0002), -1);
	assert_null(jv_endpoint_peer_name(n->srv.ep, 1));
	/* and a new handshake from her is not answered */
	n->now += 10;
	new_client(n, 0);
	jv_endpoint_start(n->cl[0].ep, n->now);
	pump_net(n);
	assert_int_equal(jv_endpoint_client_state(n->cl[0].ep), JV_STATE_BIRTH);
	free_net(n);
}

JV_TEST(changed_allowed_ips_route_at_once)
{
	struct net *n = make_net();
	struct jv_peer_cfg p = n->peers[0];
	struct jv_session_info a0, a1;

	attach(n, 0);
	assert_true(session_of(n, "alice", &a0));
	assert_int_equal(route_to(n, 0x0a320101), -1);    /* 10.50.1.1 */
	assert_false(from_client(n, 0, 0x0a320101));
	p.allowed[1] = prefix4(0x0a320000, 16);                /* 10.50/16 */
	p.nallowed = 2;
	assert_int_equal(jv_endpoint_set_peers(n->srv.ep, &p, 1, n->now), 0);
	assert_int_equal(route_to(n, 0x0a320101), 0);
	assert_true(from_client(n, 0, 0x0a320101));
	assert_true(session_of(n, "alice", &a1));
	assert_memory_equal(a0.session_id, a1.session_id, 16);
	/* and taken away again */
	p.allowed[0] = prefix4(0x0a320000, 16);
	p.nallowed = 1;
	assert_int_equal(jv_endpoint_set_peers(n->srv.ep, &p, 1, n->now), 0);
	assert_int_equal(route_to(n, 0x0a4d0002), -1);
	assert_false(from_client(n, 0, 0x0a4d0002));
	assert_true(from_client(n, 0, 0x0a320101));
	free_net(n);
}

JV_TEST(changed_key_terminates)
{
	struct net *n = make_net();
	struct jv_peer_cfg p = n->peers[0];
	struct jv_session_info a;

	attach(n, 0);
	/* alice's entry now holds carol's key */
	memcpy(p.public_key, n->peers[2].public_key, 32);
	n->srv.nevents = 0;
	assert_int_equal(jv_endpoint_set_peers(n->srv.ep, &p, 1, n->now), 0);
	assert_true(has_event(&n->srv, "\"reason_code\":\"operator_terminated\""));
	assert_false(session_of(n, "alice", &a));
	free_net(n);
}

JV_TEST(invalid_peers_change_nothing)
{
	struct net *n = make_net();
	struct jv_peer_cfg two[2] = { n->peers[0], n->peers[1] };
	struct jv_session_info a;

	attach(n, 0);
	two[1].allowed[0] = two[0].allowed[0];      /* one prefix twice */
	n->srv.nevents = 0;
	assert_int_equal(jv_endpoint_set_peers(n->srv.ep, two, 2, n->now),
			 JV_ERR_INVAL);
	two[1] = n->peers[1];
	two[1].allowed[0].prefix = 8;                /* host bits set */
	assert_int_equal(jv_endpoint_set_peers(n->srv.ep, two, 2, n->now),
			 JV_ERR_INVAL);
	assert_int_equal(jv_endpoint_set_peers(n->srv.ep, two, 0, n->now),
			 JV_ERR_INVAL);
	assert_int_equal(n->srv.nevents, 0);
	assert_true(session_of(n, "alice", &a));
	assert_int_equal(route_to(n, 0x0a4d0002), 0);
	assert_null(jv_endpoint_peer_name(n->srv.ep, 1));
	/* a client has no peers to set */
	assert_int_equal(jv_endpoint_set_peers(n->cl[0].ep, two, 1, n->now),
			 JV_ERR_STATE);
	free_net(n);
}

/* ---- the operator's switch ---- */

JV_TEST(operator_switch_moves_the_session)
{
	struct world *w = attached_world(NULL);
	struct jv_session_info s0 = server_session(w), s1;
	struct jv_transport_info ti;

	run_until(w, 3000);
	w->c.nevents = 0;
	assert_int_equal(jv_endpoint_switch(w->c.ep, 7, w->now),
			 JV_ERR_NOTFOUND);
	assert_int_equal(jv_endpoint_switch(w->c.ep, 0, w->now), JV_ERR_EXISTS);
	assert_int_equal(jv_endpoint_switch(w->s.ep, 1, w->now), JV_ERR_STATE);
	assert_int_equal(jv_endpoint_switch(w->c.ep, 1, w->now), 0);
	assert_true(has_event(&w->c, "\"previous_state\":\"ATTACHED\","
				     "\"new_state\":\"VOLATILE\","
				     "\"reason_code\":\"peer_path_change\""));
	assert_true(has_event(&w->c, "\"reason_code\":\"switch_initiated\""));
	assert_true(has_event(&w->c, "\"event_type\":\"ReattachAttempt\""));
	/* a second one while the first is under way */
	assert_int_equal(jv_endpoint_switch(w->c.ep, 0, w->now), JV_ERR_STATE);
	run_until_keep(w, w->now + 500);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_true(has_event(&w->c, "\"event_type\":\"TransportSwitch\""));
	assert_true(has_event(&w->c, "\"new_transport\":\"udp-b\""));
	assert_true(has_event(&w->c, "\"explicit\":true"));
	assert_true(jv_endpoint_transport(w->c.ep, 1, w->now, &ti));
	assert_string_equal(ti.state, "active");
	s1 = server_session(w);
	assert_memory_equal(s0.session_id, s1.session_id, 16);
	assert_string_equal(s1.transport, "udp-b");
	/* straight back: within the cooldown, denied, and it stays */
	w->c.nevents = 0;
	assert_int_equal(jv_endpoint_switch(w->c.ep, 0, w->now),
			 JV_R_COOLDOWN_ACTIVE);
	assert_true(has_event(&w->c, "\"event_type\":\"TransportSwitchDenied\""));
	assert_true(has_event(&w->c, "\"reason_code\":\"cooldown_active\""));
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	/* after it, allowed */
	run_until(w, w->now + 2000);
	assert_int_equal(jv_endpoint_switch(w->c.ep, 0, w->now), 0);
	run_until(w, w->now + 500);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_string_equal(server_session(w).transport, "udp-a");
	free_world(w);
}

JV_TEST(operator_switch_to_a_dead_transport_refused)
{
	struct world *w = attached_world(NULL);

	jv_endpoint_transport_down(w->c.ep, 1, JV_R_LINK_DOWN, w->now);
	assert_int_equal(jv_endpoint_switch(w->c.ep, 1, w->now), JV_ERR_STATE);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	free_world(w);
}
