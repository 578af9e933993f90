/* The routes a daemon installs, as sets (cli/routes.c), and what counts
 * as a killed run's leftover (io/route.c): pure, no kernel. */
#include <string.h>

#include "cli/routes.h"
#include "tests/unit/unit.h"

#define IFX 7

static struct jv_config cfg;

static struct jv_prefix v4(uint32_t addr, uint8_t len)
{
	struct jv_prefix p;

	memset(&p, 0, sizeof(p));
	p.family = JV_IP4;
	p.addr = addr;
	p.prefix = len;
	return p;
}

static struct jv_prefix v6(uint8_t b0, uint8_t b1, uint8_t len)
{
	struct jv_prefix p;

	memset(&p, 0, sizeof(p));
	p.family = JV_IP6;
	p.addr6[0] = b0;
	p.addr6[1] = b1;
	p.prefix = len;
	return p;
}

static void client(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.role = JV_ROLE_CLIENT;
	cfg.tun.addr[0].family = JV_IP4;    /* 10.77.0.2/24 */
	cfg.tun.addr[0].addr = 0x0a4d0002;
	cfg.tun.addr[0].prefix = 24;
	cfg.tun.naddr = 1;
	cfg.fwmark = 51821;
}

static void server(void)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.role = JV_ROLE_SERVER;
	cfg.tun.addr[0].family = JV_IP4;    /* 10.77.0.1/24 */
	cfg.tun.addr[0].addr = 0x0a4d0001;
	cfg.tun.addr[0].prefix = 24;
	cfg.tun.naddr = 1;
}

static const struct jv_route *find(const struct jv_rtset *s,
				   const struct jv_prefix *p, uint32_t table)
{
	for (uint32_t i = 0; i < s->n; i++) {
		uint8_t a[16], b[16];

		jv_prefix_bytes(&s->r[i].dst, a);
		jv_prefix_bytes(p, b);
		if (s->r[i].dst.family == p->family &&
		    s->r[i].dst.prefix == p->prefix && !memcmp(a, b, 16) &&
		    s->r[i].table == table)
			return &s->r[i];
	}
	return NULL;
}

/* Routes that are not /0 go to the main table, as wg-quick's; none, no
 * rules, no mark. */
JV_TEST(test_client_split_tunnel)
{
	struct jv_rtset s = { 0 };
	struct jv_prefix a = v4(0x0a580000, 16), b = v6(0xfd, 0x88, 64);

	client();
	assert_int_equal(jv_routes_plan(&cfg, IFX, &s), 0);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.nrules, 0);
	cfg.routes[0] = a;
	cfg.routes[1] = b;
	cfg.nroutes = 2;
	assert_int_equal(jv_routes_plan(&cfg, IFX, &s), 0);
	assert_int_equal(s.n, 2);
	assert_non_null(find(&s, &a, JV_RT_TABLE_MAIN));
	assert_non_null(find(&s, &b, JV_RT_TABLE_MAIN));
	assert_int_equal(s.r[0].ifindex, IFX);
	assert_int_equal(s.nrules, 0);
	assert_false(jv_routes_full(&cfg, JV_IP4));
	assert_false(jv_routes_full(&cfg, JV_IP6));
	jv_rtset_free(&s);
}

/* 0.0.0.0/0: the default route in table fwmark and the two rules of that
 * family, suppress first; ::/0 adds the IPv6 pair. A route inside the
 * tunnel's own subnet is there already. */
JV_TEST(test_client_full_tunnel)
{
	struct jv_rtset s = { 0 };
	struct jv_prefix d4 = v4(0, 0), d6 = v6(0, 0, 0);

	client();
	cfg.routes[0] = d4;
	cfg.routes[1] = v4(0x0a4d0000, 25);       /* inside 10.77.0.0/24 */
	cfg.routes[2] = v4(0x0a000000, 8);        /* holds it: installed */
	cfg.nroutes = 3;
	assert_int_equal(jv_routes_plan(&cfg, IFX, &s), 0);
	assert_int_equal(s.n, 2);
	assert_non_null(find(&s, &d4, 51821));
	assert_non_null(find(&s, &cfg.routes[2], JV_RT_TABLE_MAIN));
	assert_int_equal(s.nrules, 2);
	assert_int_equal(s.rules[0].family, JV_IP4);
	assert_int_equal(s.rules[0].priority, JV_RULE_PRIO_SUPPRESS);
	assert_int_equal(s.rules[0].table, JV_RT_TABLE_MAIN);
	assert_int_equal(s.rules[0].suppress_prefixlen, 0);
	assert_int_equal(s.rules[0].fwmark, 51821);
	assert_true(s.rules[0].invert);
	assert_int_equal(s.rules[1].priority, JV_RULE_PRIO_FWMARK);
	assert_int_equal(s.rules[1].table, 51821);
	assert_int_equal(s.rules[1].fwmark, 51821);
	assert_true(s.rules[1].invert);
	assert_int_equal(s.rules[1].suppress_prefixlen, -1);
	assert_true(s.rules[0].priority < s.rules[1].priority);
	assert_true(s.rules[1].priority < 32766);  /* before main */
	assert_true(jv_routes_full(&cfg, JV_IP4));
	assert_false(jv_routes_full(&cfg, JV_IP6));

	cfg.routes[3] = d6;
	cfg.nroutes = 4;
	cfg.fwmark = 7;
	assert_int_equal(jv_routes_plan(&cfg, IFX, &s), 0);
	assert_int_equal(s.n, 3);
	assert_non_null(find(&s, &d6, 7));
	assert_int_equal(s.nrules, 4);
	assert_int_equal(s.rules[2].family, JV_IP6);
	assert_int_equal(s.rules[3].family, JV_IP6);
	assert_int_equal(s.rules[3].fwmark, 7);
	assert_true(jv_routes_full(&cfg, JV_IP6));
	jv_rtset_free(&s);
}

/* The gateway: every peer's prefixes, IPv4 and IPv6, on its TUN in the
 * main table, but those inside the tunnel's subnet (the TUN's address
 * routes them already); no rules. */
JV_TEST(test_gateway_plan)
{
	struct jv_rtset s = { 0 };

	server();
	cfg.npeers = 2;
	cfg.peers[0].allowed[0] = v4(0x0a4d0002, 32);
	cfg.peers[0].allowed[1] = v4(0x0a580000, 24);
	cfg.peers[0].allowed[2] = v6(0xfd, 0x88, 64);
	cfg.peers[0].nallowed = 3;
	cfg.peers[1].allowed[0] = v4(0x0a4d0003, 32);
	cfg.peers[1].allowed[1] = v4(0x0a580100, 28); /* nested: both */
	cfg.peers[1].allowed[2] = v4(0x0a4c0000, 15); /* holds 10.77/16 */
	cfg.peers[1].nallowed = 3;
	assert_int_equal(jv_routes_plan(&cfg, IFX, &s), 0);
	assert_int_equal(s.n, 4);
	assert_non_null(find(&s, &cfg.peers[0].allowed[1], JV_RT_TABLE_MAIN));
	assert_non_null(find(&s, &cfg.peers[0].allowed[2], JV_RT_TABLE_MAIN));
	assert_non_null(find(&s, &cfg.peers[1].allowed[1], JV_RT_TABLE_MAIN));
	assert_non_null(find(&s, &cfg.peers[1].allowed[2], JV_RT_TABLE_MAIN));
	assert_null(find(&s, &cfg.peers[0].allowed[0], JV_RT_TABLE_MAIN));
	assert_int_equal(s.nrules, 0);
	jv_rtset_free(&s);
}

/* A reload: the routes of removed prefixes go, those of added ones come,
 * the others are left alone; the same for rules. */
JV_TEST(test_diff)
{
	struct jv_rtset cur = { 0 }, want = { 0 }, del = { 0 }, add = { 0 };
	struct jv_prefix gone4, gone6;

	server();
	cfg.npeers = 2;
	cfg.peers[0].allowed[0] = v4(0x0a580000, 24);
	cfg.peers[0].allowed[1] = v6(0xfd, 0x88, 64);
	cfg.peers[0].nallowed = 2;
	cfg.peers[1].allowed[0] = v4(0x0a590000, 24);
	cfg.peers[1].nallowed = 1;
	assert_int_equal(jv_routes_plan(&cfg, IFX, &cur), 0);

	/* nothing changed */
	assert_int_equal(jv_routes_diff(&cur, &cur, &del, &add), 0);
	assert_int_equal(del.n + add.n + del.nrules + add.nrules, 0);

	/* peer 1 removed, peer 2 added, peer 0 loses its IPv6 prefix */
	cfg.peers[0].nallowed = 1;
	cfg.peers[1].allowed[0] = v4(0x0a5a0000, 24);
	cfg.peers[1].allowed[1] = v6(0xfd, 0x90, 48);
	cfg.peers[1].nallowed = 2;
	assert_int_equal(jv_routes_plan(&cfg, IFX, &want), 0);
	assert_int_equal(jv_routes_diff(&cur, &want, &del, &add), 0);
	assert_int_equal(del.n, 2);
	gone4 = v4(0x0a590000, 24);
	gone6 = v6(0xfd, 0x88, 64);
	assert_non_null(find(&del, &gone4, JV_RT_TABLE_MAIN));
	assert_non_null(find(&del, &gone6, JV_RT_TABLE_MAIN));
	assert_int_equal(add.n, 2);
	assert_non_null(find(&add, &cfg.peers[1].allowed[0], JV_RT_TABLE_MAIN));
	assert_non_null(find(&add, &cfg.peers[1].allowed[1], JV_RT_TABLE_MAIN));

	/* everything goes at exit */
	jv_rtset_free(&want);
	assert_int_equal(jv_routes_diff(&cur, &want, &del, &add), 0);
	assert_int_equal(del.n, cur.n);
	assert_int_equal(add.n, 0);

	/* another device is another route */
	assert_int_equal(jv_routes_plan(&cfg, IFX + 1, &want), 0);
	assert_int_equal(jv_routes_plan(&cfg, IFX, &cur), 0);
	assert_int_equal(jv_routes_diff(&cur, &want, &del, &add), 0);
	assert_int_equal(del.n, cur.n);
	assert_int_equal(add.n, want.n);

	/* rules: a client going from IPv4 to dual-stack full tunnel */
	client();
	cfg.routes[0] = v4(0, 0);
	cfg.nroutes = 1;
	assert_int_equal(jv_routes_plan(&cfg, IFX, &cur), 0);
	cfg.routes[1] = v6(0, 0, 0);
	cfg.nroutes = 2;
	assert_int_equal(jv_routes_plan(&cfg, IFX, &want), 0);
	assert_int_equal(jv_routes_diff(&cur, &want, &del, &add), 0);
	assert_int_equal(del.n + del.nrules, 0);
	assert_int_equal(add.n, 1);
	assert_int_equal(add.nrules, 2);
	assert_int_equal(add.rules[0].family, JV_IP6);
	assert_int_equal(jv_routes_diff(&want, &cur, &del, &add), 0);
	assert_int_equal(del.nrules, 2);
	assert_int_equal(del.rules[1].family, JV_IP6);
	assert_int_equal(add.n + add.nrules, 0);
	jv_rtset_free(&cur);
	jv_rtset_free(&want);
	jv_rtset_free(&del);
	jv_rtset_free(&add);
}

/* A gateway's set is large: the difference is a sorted merge, not a
 * product (256 peers of 128 prefixes each in well under a second). */
JV_TEST(test_diff_large)
{
	struct jv_rtset cur = { 0 }, want = { 0 }, del = { 0 }, add = { 0 };

	server();
	cfg.npeers = JV_MAX_PEERS;
	for (uint32_t i = 0; i < JV_MAX_PEERS; i++) {
		for (uint32_t k = 0; k < JV_PEER_MAX_IPS; k++)
			cfg.peers[i].allowed[k] =
				v4(0x64000000 | i << 16 | k << 8, 24);
		cfg.peers[i].nallowed = JV_PEER_MAX_IPS;
	}
	assert_int_equal(jv_routes_plan(&cfg, IFX, &cur), 0);
	assert_int_equal(cur.n, JV_MAX_PEERS * JV_PEER_MAX_IPS);
	cfg.peers[3].nallowed = 0;
	cfg.peers[9].allowed[0] = v4(0x0b000000, 8);
	assert_int_equal(jv_routes_plan(&cfg, IFX, &want), 0);
	assert_int_equal(jv_routes_diff(&cur, &want, &del, &add), 0);
	assert_int_equal(del.n, JV_PEER_MAX_IPS + 1);
	assert_int_equal(add.n, 1);
	jv_rtset_free(&cur);
	jv_rtset_free(&want);
	jv_rtset_free(&del);
	jv_rtset_free(&add);
}

/* A killed run's leftovers: jvpn's two rules of that fwmark at jvpn's
 * priorities, either family, and default routes in table fwmark. Another
 * fwmark's rules, rules of the same shape at other priorities (a user's,
 * wg-quick's), and other routes are not jvpn's. */
JV_TEST(test_leftover_matching)
{
	struct jv_rule r[2], x;
	struct jv_route rt;

	for (uint8_t f = JV_IP4; f <= JV_IP6; f++) {
		jv_rules_full_tunnel(f, 51821, r);
		assert_true(jv_rule_is_ours(&r[0], 51821));
		assert_true(jv_rule_is_ours(&r[1], 51821));
		/* another instance's fwmark */
		assert_false(jv_rule_is_ours(&r[1], 51822));
		x = r[1], x.table = 51822;
		assert_false(jv_rule_is_ours(&x, 51821));
		x = r[1], x.invert = false;
		assert_false(jv_rule_is_ours(&x, 51821));
		x = r[1], x.priority = 32765;        /* wg-quick's place */
		assert_false(jv_rule_is_ours(&x, 51821));
		x = r[0], x.priority = 32764;
		assert_false(jv_rule_is_ours(&x, 51821));
		x = r[0], x.suppress_prefixlen = -1;
		assert_false(jv_rule_is_ours(&x, 51821));
		x = r[0], x.table = 100;
		assert_false(jv_rule_is_ours(&x, 51821));
		x = r[0], x.fwmark = 5;
		assert_false(jv_rule_is_ours(&x, 51821));
		/* wg-quick's suppress rule, shared by every instance */
		x = r[0], x.fwmark = 0, x.invert = false;
		assert_false(jv_rule_is_ours(&x, 51821));
		assert_false(jv_rule_is_ours(&r[0], 51822));
	}
	memset(&rt, 0, sizeof(rt));
	rt.table = 51821;
	rt.ifindex = 3;
	assert_true(jv_route_is_ours(&rt, 51821));
	rt.dst.family = JV_IP6;
	assert_true(jv_route_is_ours(&rt, 51821));
	assert_false(jv_route_is_ours(&rt, 51822));
	rt.dst.prefix = 8;
	assert_false(jv_route_is_ours(&rt, 51821));
	rt.dst.prefix = 0;
	rt.table = JV_RT_TABLE_MAIN;
	assert_false(jv_route_is_ours(&rt, JV_RT_TABLE_MAIN));
}

/* What the messages say. */
JV_TEST(test_format)
{
	struct jv_rule r[2];
	struct jv_route rt;
	char buf[128];

	jv_rules_full_tunnel(JV_IP6, 51821, r);
	jv_rule_format(&r[0], buf, sizeof(buf));
	assert_string_equal(buf, "IPv6 not fwmark 51821 lookup 254 "
				 "suppress_prefixlength 0 pref 32760");
	jv_rule_format(&r[1], buf, sizeof(buf));
	assert_string_equal(buf, "IPv6 not fwmark 51821 lookup 51821 pref 32761");
	memset(&rt, 0, sizeof(rt));
	rt.dst = v6(0xfd, 0x88, 64);
	rt.table = 254;
	jv_route_format(&rt, buf, sizeof(buf));
	assert_string_equal(buf, "fd88::/64 dev ? table 254");
}
