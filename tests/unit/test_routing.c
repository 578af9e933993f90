/* Cryptokey routing on the gateway (CONTRACT section 8): one server, a
 * few clients, prefixes that nest across peers, IPv4 and IPv6. Outbound,
 * the longest prefix names the session; inbound, a source that would not
 * route back to the sending peer is dropped, counted and reported. */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "engine/endpoint.h"

#include "tests/unit/world.h"
#include "tests/unit/unit.h"

#define NPEERS 4
#define NCLIENTS 3   /* the last peer never connects */

struct net {
	struct node srv;
	struct node cl[NCLIENTS];
	struct jv_peer_cfg peers[NPEERS];
	uint64_t now;
};

/* An IPv6 prefix from its first 64 bits (the rest zero) and a last byte. */
static struct jv_prefix p6(uint16_t a, uint16_t b, uint16_t c, uint16_t d,
			   uint8_t last, uint8_t len)
{
	struct jv_prefix p = { .prefix = len, .family = JV_IP6 };
	uint16_t w[4] = { a, b, c, d };

	for (int i = 0; i < 4; i++) {
		p.addr6[2 * i] = (uint8_t)(w[i] >> 8);
		p.addr6[2 * i + 1] = (uint8_t)w[i];
	}
	p.addr6[15] = last;
	return p;
}

/* The peers' allowed_ips: a wide site prefix with a phone's narrower one
 * inside it, in both families, and an idle peer. */
static void peer_prefixes(struct jv_peer_cfg *peers)
{
	static const char *const names[NPEERS] = { "laptop", "site", "phone",
						   "idle" };

	for (int i = 0; i < NPEERS; i++)
		snprintf(peers[i].name, sizeof(peers[i].name), "%s", names[i]);
	peers[0].allowed[0] = prefix4(0x0a4d0002, 32);            /* 10.77.0.2 */
	peers[0].allowed[1] = p6(0xfd77, 0, 0, 0, 2, 128);   /* fd77::2 */
	peers[0].nallowed = 2;
	peers[1].allowed[0] = prefix4(0x0a580000, 16);            /* 10.88/16 */
	peers[1].allowed[1] = prefix4(0x0a000000, 8);             /* 10/8 */
	peers[1].allowed[2] = p6(0xfd88, 0, 0, 0, 0, 32);    /* fd88::/32 */
	peers[1].nallowed = 3;
	peers[2].allowed[0] = prefix4(0x0a4d0003, 32);            /* 10.77.0.3 */
	peers[2].allowed[1] = prefix4(0x0a580500, 24);            /* 10.88.5/24 */
	peers[2].allowed[2] = p6(0xfd88, 0, 5, 0, 0, 64);    /* fd88:0:5::/64 */
	peers[2].nallowed = 3;
	peers[3].allowed[0] = prefix4(0x0a630000, 16);            /* 10.99/16 */
	peers[3].allowed[1] = p6(0xfd99, 0, 0, 0, 0, 32);
	peers[3].nallowed = 2;
}

static struct jv_endpoint_cfg server_cfg(struct net *n, uint8_t spriv[32])
{
	struct jv_endpoint_cfg sc;

	memset(&sc, 0, sizeof(sc));
	sc.role = JV_ROLE_SERVER;
	snprintf(sc.node_id, sizeof(sc.node_id), "gw-1");
	memcpy(sc.private_key, spriv, 32);
	jv_policy_defaults(&sc.policy);
	sc.peers = n->peers;
	sc.npeers = NPEERS;
	sc.max_sessions = 8;
	sc.ops = world_ops;
	sc.ctx = &n->srv;
	return sc;
}

static struct net *make_net(void)
{
	struct net *n = calloc(1, sizeof(*n));
	uint8_t spriv[32], cpriv[NPEERS][32], spub[32];
	struct jv_endpoint_cfg sc;

	n->srv.rng = 100;
	world_random(&n->srv, spriv, 32);
	crypto_scalarmult_base(spub, spriv);
	peer_prefixes(n->peers);
	for (int i = 0; i < NPEERS; i++) {
		struct node tmp = { .rng = 200 + (uint64_t)i };

		world_random(&tmp, cpriv[i], 32);
		crypto_scalarmult_base(n->peers[i].public_key, cpriv[i]);
	}
	for (int i = 0; i < NCLIENTS; i++) {
		struct jv_endpoint_cfg cc;

		gateway_client_cfg(&cc, n->peers[i].name, cpriv[i], spub,
				   &n->cl[i]);
		/* what may come from the gateway: the tunnel's space */
		cc.server_allowed[0] = prefix4(0x0a000000, 8);
		cc.server_allowed[1] = p6(0xfd00, 0, 0, 0, 0, 8);
		cc.nserver_allowed = 2;
		n->cl[i].rng = 300 + (uint64_t)i;
		assert_int_equal(jv_endpoint_new(&cc, 0, &n->cl[i].ep), 0);
	}
	sc = server_cfg(n, spriv);
	assert_int_equal(jv_endpoint_new(&sc, 0, &n->srv.ep), 0);
	return n;
}

static void free_net(struct net *n)
{
	gateway_free(&n->srv, n->cl, NCLIENTS);
	free(n);
}

static void pump_net(struct net *n)
{
	gateway_pump(&n->srv, n->cl, NCLIENTS, n->now);
}

static struct net *attached_net(void)
{
	struct net *n = make_net();

	for (int i = 0; i < NCLIENTS; i++) {
		jv_endpoint_start(n->cl[i].ep, 0);
		pump_net(n);
		assert_int_equal(jv_endpoint_client_state(n->cl[i].ep),
				 JV_STATE_ATTACHED);
	}
	return n;
}

/* A 48-byte IPv6 packet (8 bytes of payload, no next header). */
static uint8_t *ipv6(uint8_t p[48], const struct jv_prefix *src,
		     const struct jv_prefix *dst)
{
	memset(p, 0, 48);
	p[0] = 0x60;
	p[5] = 8;
	p[6] = 59;
	p[7] = 64;
	memcpy(p + 8, src->addr6, 16);
	memcpy(p + 24, dst->addr6, 16);
	return p;
}

/* The server sends pkt to whoever routes it; returns the index of the one
 * client that received it, -1 if none, and checks the bytes. */
static int route(struct net *n, const uint8_t *pkt, size_t len)
{
	int before[NCLIENTS], got = -1;
	int rc;

	for (int i = 0; i < NCLIENTS; i++)
		before[i] = n->cl[i].delivered;
	rc = jv_endpoint_send_inner(n->srv.ep, pkt, len, n->now);
	pump_net(n);
	for (int i = 0; i < NCLIENTS; i++)
		if (n->cl[i].delivered != before[i]) {
			assert_int_equal(got, -1);
			assert_int_equal(n->cl[i].delivered, before[i] + 1);
			assert_int_equal(n->cl[i].last_inner_len, len);
			assert_memory_equal(n->cl[i].last_inner, pkt, len);
			got = i;
		}
	assert_int_equal(rc, got >= 0 ? 0 : JV_ERR_NOTFOUND);
	return got;
}

static int route4(struct net *n, uint32_t dst)
{
	uint8_t pkt[40];

	return route(n, ipv4(pkt, 0x0a4d0001, dst), 40);
}

static int route6(struct net *n, struct jv_prefix dst)
{
	struct jv_prefix src = p6(0xfd77, 0, 0, 0, 1, 128);
	uint8_t pkt[48];

	return route(n, ipv6(pkt, &src, &dst), 48);
}

JV_TEST(test_routes_by_longest_prefix)
{
	struct net *n = attached_net();

	assert_int_equal(route4(n, 0x0a4d0002), 0);      /* laptop's /32 */
	assert_int_equal(route4(n, 0x0a4d0003), 2);      /* phone's /32 */
	assert_int_equal(route4(n, 0x0a580101), 1);      /* site's /16 */
	assert_int_equal(route4(n, 0x0a580507), 2);      /* phone's /24 in it */
	assert_int_equal(route4(n, 0x0a5805ff), 2);
	assert_int_equal(route4(n, 0x0a580600), 1);
	assert_int_equal(route4(n, 0x0a010203), 1);      /* site's /8 */
	assert_int_equal(route4(n, 0x0a4d0009), 1);      /* 10.77.0.9: the /8 */
	/* the idle peer's prefix is its own: no session, no route, and not
	 * the wider /8 of another peer either */
	assert_int_equal(route4(n, 0x0a630001), -1);
	assert_int_equal(route4(n, 0xc0a80101), -1);     /* 192.168.1.1 */

	assert_int_equal(route6(n, p6(0xfd77, 0, 0, 0, 2, 128)), 0);
	assert_int_equal(route6(n, p6(0xfd77, 0, 0, 0, 3, 128)), -1);
	assert_int_equal(route6(n, p6(0xfd88, 0, 1, 0, 9, 128)), 1);
	assert_int_equal(route6(n, p6(0xfd88, 0, 5, 0, 9, 128)), 2);
	/* just past the phone's /64: the site's /32 */
	assert_int_equal(route6(n, p6(0xfd88, 0, 5, 1, 0, 128)), 1);
	assert_int_equal(route6(n, p6(0xfd88, 1, 5, 0, 9, 128)), -1);
	assert_int_equal(route6(n, p6(0xfd99, 0, 0, 0, 1, 128)), -1);
	/* an IPv4-mapped address is IPv6 here: no IPv4 prefix holds it */
	assert_int_equal(route6(n, p6(0, 0, 0, 0, 2, 128)), -1);
	free_net(n);
}

JV_TEST(test_route_follows_session)
{
	struct net *n = attached_net();

	assert_int_equal(route4(n, 0x0a580507), 2);
	/* the phone's session ends: its /24 goes nowhere, not to the site */
	assert_int_equal(jv_endpoint_terminate(n->cl[2].ep, NULL,
					       JV_R_OPERATOR_TERMINATED, n->now),
			 0);
	pump_net(n);
	assert_int_equal(route4(n, 0x0a580507), -1);
	assert_int_equal(route4(n, 0x0a580101), 1);
	assert_int_equal(route6(n, p6(0xfd88, 0, 5, 0, 9, 128)), -1);
	free_net(n);
}

/* Client i sends pkt; whether the server delivered it. */
static bool inbound(struct net *n, int i, const uint8_t *pkt, size_t len)
{
	int before = n->srv.delivered;

	assert_int_equal(jv_endpoint_send_inner(n->cl[i].ep, pkt, len, n->now),
			 0);
	pump_net(n);
	if (n->srv.delivered == before)
		return false;
	assert_int_equal(n->srv.delivered, before + 1);
	assert_memory_equal(n->srv.last_inner, pkt, len);
	return true;
}

static bool from4(struct net *n, int i, uint32_t src)
{
	uint8_t pkt[40];

	return inbound(n, i, ipv4(pkt, src, 0x0a4d0001), 40);
}

static bool from6(struct net *n, int i, struct jv_prefix src)
{
	struct jv_prefix dst = p6(0xfd77, 0, 0, 0, 1, 128);
	uint8_t pkt[48];

	return inbound(n, i, ipv6(pkt, &src, &dst), 48);
}

JV_TEST(test_inner_source_by_peer)
{
	struct net *n = attached_net();
	struct jv_endpoint_stats st;

	assert_true(from4(n, 0, 0x0a4d0002));
	assert_false(from4(n, 0, 0x0a4d0003));          /* the phone's */
	assert_true(from4(n, 1, 0x0a010101));
	assert_true(from4(n, 1, 0x0a580101));
	/* inside the site's /16, but the phone's /24: routes to the phone,
	 * so the site may not send from it */
	assert_false(from4(n, 1, 0x0a580505));
	assert_true(from4(n, 2, 0x0a580505));
	assert_false(from4(n, 2, 0x0a580605));          /* the site's */
	jv_endpoint_stats(n->srv.ep, &st);
	assert_int_equal(st.inner_source_rejected, 3);

	assert_true(from6(n, 0, p6(0xfd77, 0, 0, 0, 2, 128)));
	assert_false(from6(n, 0, p6(0xfd77, 0, 0, 0, 3, 128)));
	assert_true(from6(n, 1, p6(0xfd88, 0, 7, 0, 1, 128)));
	assert_false(from6(n, 1, p6(0xfd88, 0, 5, 0, 1, 128)));
	assert_true(from6(n, 2, p6(0xfd88, 0, 5, 0, 1, 128)));
	assert_false(from6(n, 2, p6(0x2001, 0xdb8, 0, 0, 1, 128)));
	/* the IPv4 address's bytes as an IPv6 source are not the IPv4 one */
	assert_false(from6(n, 0, p6(0x0a4d, 0x0002, 0, 0, 0, 128)));
	jv_endpoint_stats(n->srv.ep, &st);
	assert_int_equal(st.inner_source_rejected, 7);
	assert_int_equal(count_events(&n->srv,
				      "\"event_type\":\"SecurityInnerSourceRejected\""),
			 7);
	assert_int_equal(count_events(&n->srv,
				      "\"reason_code\":\"inner_source_not_allowed\""),
			 7);
	assert_int_equal(count_events(&n->srv, "\"reason_code\":\"inner_source_"
				      "not_allowed\",\"transport_id\":\"udp-a\""), 7);
	free_net(n);
}

/* A TUN with IPv6 up talks to its link on its own (here the router
 * solicitation a client's TUN sent in the net tests): not delivered, and
 * not reported as a spoofed source, on either end. */
JV_TEST(test_link_chatter_dropped_quietly)
{
	struct net *n = attached_net();
	struct jv_prefix ll = p6(0xfe80, 0, 0, 0, 0x17, 128);
	struct jv_prefix routers = p6(0xff02, 0, 0, 0, 2, 128);
	struct jv_prefix laptop = p6(0xfd77, 0, 0, 0, 2, 128);
	struct jv_endpoint_stats st, st0;
	uint8_t pkt[48];

	jv_endpoint_stats(n->srv.ep, &st0);
	assert_false(inbound(n, 0, ipv6(pkt, &ll, &routers), 48));
	jv_endpoint_stats(n->srv.ep, &st);
	assert_int_equal(st.inner_source_rejected, 0);
	assert_int_equal(st.rx_dropped, st0.rx_dropped + 1);
	assert_false(has_event(&n->srv, "SecurityInnerSourceRejected"));
	/* the gateway's link-local source towards the laptop */
	assert_int_equal(jv_endpoint_send_inner(n->srv.ep, ipv6(pkt, &ll, &laptop),
						48, n->now), 0);
	pump_net(n);
	assert_int_equal(n->cl[0].delivered, 0);
	jv_endpoint_stats(n->cl[0].ep, &st);
	assert_int_equal(st.inner_source_rejected, 0);
	assert_false(has_event(&n->cl[0], "SecurityInnerSourceRejected"));
	/* a routable spoofed source is still reported */
	assert_false(from6(n, 0, p6(0xfd77, 0, 0, 0, 3, 128)));
	jv_endpoint_stats(n->srv.ep, &st);
	assert_int_equal(st.inner_source_rejected, 1);
	free_net(n);
}

/* Neither IPv4 nor IPv6: not routed, and dropped on arrival without an
 * inner source event (there is no source to speak of). */
JV_TEST(test_not_ip)
{
	struct net *n = attached_net();
	struct jv_endpoint_stats st;
	uint8_t pkt[48] = { 0x50 };

	assert_int_equal(jv_endpoint_send_inner(n->srv.ep, pkt, 48, n->now),
			 JV_ERR_INVAL);
	pkt[0] = 0x60;
	assert_int_equal(jv_endpoint_send_inner(n->srv.ep, pkt, 39, n->now),
			 JV_ERR_INVAL);
	pkt[0] = 0x50;
	assert_false(inbound(n, 0, pkt, 48));
	pkt[0] = 0x45;
	assert_false(inbound(n, 0, pkt, 19));
	jv_endpoint_stats(n->srv.ep, &st);
	assert_int_equal(st.inner_source_rejected, 0);
	assert_true(st.rx_dropped >= 2);
	assert_false(has_event(&n->srv, "SecurityInnerSourceRejected"));
	free_net(n);
}

/* The client takes IPv6 from the gateway only from its IPv6 prefixes. */
JV_TEST(test_client_checks_ipv6_source)
{
	struct net *n = attached_net();
	struct jv_prefix dst = p6(0xfd77, 0, 0, 0, 2, 128);   /* laptop */
	struct jv_prefix ok = p6(0xfd77, 0, 0, 0, 1, 128);
	struct jv_prefix bad = p6(0x2001, 0xdb8, 0, 0, 1, 128);
	struct jv_endpoint_stats st;
	uint8_t pkt[48];

	assert_int_equal(jv_endpoint_send_inner(n->srv.ep, ipv6(pkt, &bad, &dst),
						48, n->now), 0);
	pump_net(n);
	assert_int_equal(n->cl[0].delivered, 0);
	jv_endpoint_stats(n->cl[0].ep, &st);
	assert_int_equal(st.inner_source_rejected, 1);
	assert_true(has_event(&n->cl[0], "\"event_type\":\"SecurityInnerSourceRejected\""));
	assert_true(has_event(&n->cl[0], "\"reason_code\":\"inner_source_not_allowed\""));
	assert_int_equal(route(n, ipv6(pkt, &ok, &dst), 48), 0);
	jv_endpoint_stats(n->cl[0].ep, &st);
	assert_int_equal(st.inner_source_rejected, 1);
	free_net(n);
}

/* The one-peer harness (world.c) has an IPv4-only peer and client: IPv6
 * from the client is now checked and refused, not dropped unseen, and the
 * server has no IPv6 route to it. */
JV_TEST(test_ipv4_only_peer_refuses_ipv6)
{
	struct world *w = attached_world(NULL);
	struct jv_prefix src = p6(0xfd77, 0, 0, 0, 2, 128);
	struct jv_prefix dst = p6(0xfd77, 0, 0, 0, 1, 128);
	struct jv_endpoint_stats st;
	uint8_t pkt[48];

	assert_int_equal(jv_endpoint_send_inner(w->c.ep, ipv6(pkt, &src, &dst),
						48, 1), 0);
	pump(w);
	assert_int_equal(w->s.delivered, 0);
	jv_endpoint_stats(w->s.ep, &st);
	assert_int_equal(st.inner_source_rejected, 1);
	assert_true(has_event(&w->s, "SecurityInnerSourceRejected"));
	assert_int_equal(jv_endpoint_send_inner(w->s.ep, ipv6(pkt, &dst, &src),
						48, 1), JV_ERR_NOTFOUND);
	data_both_ways(w, 2);
	free_world(w);
}

/* A gateway whose peers hold the same prefix, or a malformed one, does
 * not start (the config refuses both before; this is the engine's own
 * guard). */
JV_TEST(test_server_refuses_bad_prefixes)
{
	struct net *n = calloc(1, sizeof(*n));
	struct jv_endpoint_cfg sc;
	struct jv_endpoint *ep = NULL;
	uint8_t spriv[32];

	n->srv.rng = 100;
	world_random(&n->srv, spriv, 32);
	peer_prefixes(n->peers);
	for (int i = 0; i < NPEERS; i++) {
		struct node tmp = { .rng = 200 + (uint64_t)i };
		uint8_t k[32];

		world_random(&tmp, k, 32);
		crypto_scalarmult_base(n->peers[i].public_key, k);
	}
	sc = server_cfg(n, spriv);
	assert_int_equal(jv_endpoint_new(&sc, 0, &ep), 0);
	jv_endpoint_free(ep);
	/* the phone's /24 given to the site as well */
	n->peers[1].allowed[n->peers[1].nallowed++] = prefix4(0x0a580500, 24);
	assert_int_equal(jv_endpoint_new(&sc, 0, &ep), JV_ERR_INVAL);
	n->peers[1].nallowed--;
	n->peers[3].allowed[0] = prefix4(0x0a630001, 16);      /* host bits */
	assert_int_equal(jv_endpoint_new(&sc, 0, &ep), JV_ERR_INVAL);
	n->peers[3].allowed[0] = p6(0xfd99, 0, 0, 0, 0, 129);
	assert_int_equal(jv_endpoint_new(&sc, 0, &ep), JV_ERR_INVAL);
	free(n);
}
