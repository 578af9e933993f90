/* Routes and rules over rtnetlink (io/route.c) in a private network
 * namespace of this process (root only; skipped otherwise): added twice,
 * deleted twice, listed back as the kernel holds them; and a killed
 * client's leftovers (cli/routes.c) removed without touching anyone
 * else's rules or routes. */
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/routes.h"
#include "io/route.h"
#include "io/tun.h"
#include "tests/unit/unit.h"

static int tun_fd = -1;
static int ifx;

static int setup(void **state)
{
	const struct jv_prefix addr = { .family = JV_IP4, .addr = 0x0a4d0002,
					.prefix = 24 };
	char name[IFNAMSIZ];
	struct jv_error err;

	(void)state;
	if (jv_tun_open("jvrt0", &tun_fd, name, &err) != 0 ||
	    jv_tun_configure(name, &addr, 1, 1400, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	ifx = (int)if_nametoindex(name);
	return ifx ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	if (tun_fd >= 0)
		close(tun_fd);
	tun_fd = -1;
	return 0;
}

struct seen {
	struct jv_route routes[32];
	struct jv_rule rules[32];
	int nroutes, nrules;
};

static void on_route(void *ctx, const struct jv_route *r)
{
	struct seen *s = ctx;

	if (s->nroutes < 32)
		s->routes[s->nroutes++] = *r;
}

static void on_rule(void *ctx, const struct jv_rule *r)
{
	struct seen *s = ctx;

	if (s->nrules < 32)
		s->rules[s->nrules++] = *r;
}

static struct seen list(struct jv_rtnl *nl, uint8_t family, uint32_t table)
{
	struct seen s;
	struct jv_error err;

	memset(&s, 0, sizeof(s));
	assert_int_equal(jv_route_list(nl, family, table, on_route, &s, &err),
			 0);
	assert_int_equal(jv_rule_list(nl, family, on_rule, &s, &err), 0);
	return s;
}

static int count_ours(const struct seen *s, uint32_t fwmark)
{
	int n = 0;

	for (int i = 0; i < s->nrules; i++)
		n += jv_rule_is_ours(&s->rules[i], fwmark);
	return n;
}

/* Added twice: once there; deleted twice: gone, no error. */
JV_TEST(test_route_idempotent)
{
	struct jv_route r = { .dst = { .addr = 0x0a580000, .prefix = 16 },
			      .table = 51821, .ifindex = 0 };
	struct jv_rtnl *nl;
	struct jv_error err;
	struct seen s;
	bool created;

	r.ifindex = ifx;
	assert_int_equal(jv_rtnl_open(&nl, &err), 0);
	assert_int_equal(jv_route_add(nl, &r, &created, &err), 0);
	assert_true(created);
	assert_int_equal(jv_route_add(nl, &r, &created, &err), 0);
	assert_false(created);
	s = list(nl, JV_IP4, 51821);
	assert_int_equal(s.nroutes, 1);
	assert_int_equal(s.routes[0].dst.addr, 0x0a580000);
	assert_int_equal(s.routes[0].dst.prefix, 16);
	assert_int_equal(s.routes[0].ifindex, ifx);
	assert_int_equal(s.routes[0].table, 51821);
	assert_int_equal(jv_route_del(nl, &r, &err), 0);
	assert_int_equal(jv_route_del(nl, &r, &err), 0);
	assert_int_equal(list(nl, JV_IP4, 51821).nroutes, 0);

	/* IPv6, the main table (below 256: in the header too) */
	memset(&r.dst, 0, sizeof(r.dst));
	r.dst.family = JV_IP6;
	r.dst.addr6[0] = 0xfd;
	r.dst.addr6[1] = 0x88;
	r.dst.prefix = 64;
	r.table = JV_RT_TABLE_MAIN;
	assert_int_equal(jv_route_add(nl, &r, &created, &err), 0);
	assert_true(created);
	s = list(nl, JV_IP6, JV_RT_TABLE_MAIN);
	assert_true(s.nroutes >= 1);
	assert_int_equal(jv_route_del(nl, &r, &err), 0);
	assert_int_equal(jv_route_del(nl, &r, &err), 0);

	/* a device that is not there: the kernel's reason is said */
	r.ifindex = 9999;
	assert_int_equal(jv_route_add(nl, &r, &created, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "routes: cannot add fd88::/64 dev "));
	jv_rtnl_close(nl);
}

JV_TEST(test_rule_idempotent)
{
	struct jv_rule two[2];
	struct jv_rtnl *nl;
	struct jv_error err;
	struct seen s;
	bool created;

	assert_int_equal(jv_rtnl_open(&nl, &err), 0);
	for (uint8_t f = JV_IP4; f <= JV_IP6; f++) {
		jv_rules_full_tunnel(f, 51821, two);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(jv_rule_add(nl, &two[i], &created,
						     &err), 0);
			assert_true(created);
			assert_int_equal(jv_rule_add(nl, &two[i], &created,
						     &err), 0);
			assert_false(created);
		}
		s = list(nl, f, 0);
		assert_int_equal(count_ours(&s, 51821), 2);
		assert_int_equal(count_ours(&s, 51822), 0);
		for (int i = 0; i < 2; i++) {
			assert_int_equal(jv_rule_del(nl, &two[i], &err), 0);
			assert_int_equal(jv_rule_del(nl, &two[i], &err), 0);
		}
		s = list(nl, f, 0);
		assert_int_equal(count_ours(&s, 51821), 0);
	}
	jv_rtnl_close(nl);
}

/* What a killed client left is removed; another fwmark's rules, a rule
 * at another priority and a route of another table stay. */
JV_TEST(test_leftovers)
{
	struct jv_rule mine[2], other[2], moved;
	struct jv_route def = { .table = 51821 }, more = { .table = 51821 },
			main4 = { .table = JV_RT_TABLE_MAIN };
	struct jv_rtnl *nl;
	struct jv_error err;
	struct seen s;

	def.ifindex = more.ifindex = main4.ifindex = ifx;
	more.dst.addr = 0x0a590000;
	more.dst.prefix = 16;
	main4.dst.addr = 0x0a5a0000;
	main4.dst.prefix = 16;
	assert_int_equal(jv_rtnl_open(&nl, &err), 0);
	jv_rules_full_tunnel(JV_IP4, 51821, mine);
	jv_rules_full_tunnel(JV_IP6, 51822, other);
	moved = mine[1];
	moved.priority = 100;
	for (int i = 0; i < 2; i++) {
		assert_int_equal(jv_rule_add(nl, &mine[i], NULL, &err), 0);
		assert_int_equal(jv_rule_add(nl, &other[i], NULL, &err), 0);
	}
	assert_int_equal(jv_rule_add(nl, &moved, NULL, &err), 0);
	assert_int_equal(jv_route_add(nl, &def, NULL, &err), 0);
	assert_int_equal(jv_route_add(nl, &more, NULL, &err), 0);
	assert_int_equal(jv_route_add(nl, &main4, NULL, &err), 0);
	def.dst.family = JV_IP6;
	assert_int_equal(jv_route_add(nl, &def, NULL, &err), 0);

	assert_int_equal(jv_routes_clean_leftovers(51821, &err), 4);
	assert_int_equal(jv_routes_clean_leftovers(51821, &err), 0);

	s = list(nl, JV_IP4, 51821);
	assert_int_equal(count_ours(&s, 51821), 0);
	assert_int_equal(s.nroutes, 1);               /* 10.89.0.0/16 */
	assert_int_equal(s.routes[0].dst.prefix, 16);
	assert_int_equal(list(nl, JV_IP4, JV_RT_TABLE_MAIN).nroutes, 2);
	assert_int_equal(list(nl, JV_IP6, 51821).nroutes, 0);
	s = list(nl, JV_IP6, 0);
	assert_int_equal(count_ours(&s, 51822), 2);
	assert_int_equal(jv_rule_del(nl, &moved, &err), 0);
	assert_int_equal(jv_route_del(nl, &more, &err), 0);
	assert_int_equal(jv_route_del(nl, &main4, &err), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(jv_rule_del(nl, &other[i], &err), 0);
	jv_rtnl_close(nl);
}

/* Start, reload, exit as the daemons do them: jv_routes_apply makes the
 * system hold the plan, and the empty plan removes what it installed
 * but not what was there before it. */
JV_TEST(test_apply)
{
	static struct jv_config cfg;
	struct jv_rtset installed = { 0 }, want = { 0 }, none = { 0 };
	struct jv_route pre = { .dst = { .addr = 0x0a580000, .prefix = 16 },
				.table = JV_RT_TABLE_MAIN };
	struct jv_rtnl *nl;
	struct jv_error err;
	struct seen s;

	cfg.role = JV_ROLE_CLIENT;
	cfg.tun.addr[0].family = JV_IP4;
	cfg.tun.addr[0].addr = 0x0a4d0002;
	cfg.tun.addr[0].prefix = 24;
	cfg.tun.naddr = 1;
	cfg.fwmark = 51821;
	cfg.routes[0].prefix = 0;                    /* 0.0.0.0/0 */
	cfg.routes[1].addr = 0x0a580000;             /* 10.88.0.0/16 */
	cfg.routes[1].prefix = 16;
	cfg.routes[2].family = JV_IP6;               /* ::/0 */
	cfg.nroutes = 3;
	pre.ifindex = ifx;
	assert_int_equal(jv_rtnl_open(&nl, &err), 0);
	/* someone else's, the same as one of the plan's */
	assert_int_equal(jv_route_add(nl, &pre, NULL, &err), 0);

	assert_int_equal(jv_routes_plan(&cfg, ifx, &want), 0);
	assert_int_equal(jv_routes_apply(&installed, &want, &err), 0);
	assert_int_equal(installed.n, 2);            /* not 10.88/16 */
	assert_int_equal(installed.nrules, 4);
	s = list(nl, JV_IP4, 51821);
	assert_int_equal(count_ours(&s, 51821), 2);
	assert_int_equal(s.nroutes, 1);
	s = list(nl, JV_IP6, 51821);
	assert_int_equal(count_ours(&s, 51821), 2);
	assert_int_equal(s.nroutes, 1);

	/* again: nothing to do */
	assert_int_equal(jv_routes_apply(&installed, &want, &err), 0);
	assert_int_equal(installed.n, 2);

	assert_int_equal(jv_routes_apply(&installed, &none, &err), 0);
	assert_int_equal(installed.n + installed.nrules, 0);
	s = list(nl, JV_IP4, 51821);
	assert_int_equal(count_ours(&s, 51821), 0);
	assert_int_equal(s.nroutes, 0);
	s = list(nl, JV_IP6, 51821);
	assert_int_equal(count_ours(&s, 51821), 0);
	assert_int_equal(s.nroutes, 0);
	/* still there */
	assert_int_equal(list(nl, JV_IP4, JV_RT_TABLE_MAIN).nroutes, 2);
	assert_int_equal(jv_route_del(nl, &pre, &err), 0);
	jv_rtset_free(&want);
	jv_rtset_free(&installed);
	jv_rtnl_close(nl);
}

/* a namespace of our own: nothing on the host is touched */
static const char *own_namespace(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0 ||
	    access("/dev/net/tun", R_OK | W_OK) != 0)
		return "needs root, network namespaces and /dev/net/tun";
	return NULL;
}

JV_TEST_GROUP_SKIP(setup, teardown, own_namespace);
