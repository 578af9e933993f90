/* Routes and policy rules over rtnetlink (io/route.h). Requests as
 * iproute2 builds them: a table above 255 goes in RTA_TABLE / FRA_TABLE,
 * a device route has link scope, a delete names what must match and
 * leaves the rest open. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/fib_rules.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "io/nl.h"
#include "io/route.h"

/* room for one request: headers and a few small attributes */
#define REQ_MAX 256

struct jv_rtnl {
	struct mnl_socket *nl;
	uint32_t seq;
};

int jv_rtnl_open(struct jv_rtnl **out, struct jv_error *err)
{
	struct jv_rtnl *r = calloc(1, sizeof(*r));

	*out = NULL;
	if (!r)
		return jv_error_set(err, JV_ERR_NOMEM, "", 0,
				    "routes: out of memory");
	if (!(r->nl = jv_nl_open())) {
		int e = errno;

		free(r);
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "routes: netlink socket: %s", strerror(e));
	}
	r->seq = 1;
	*out = r;
	return 0;
}

void jv_rtnl_close(struct jv_rtnl *nl)
{
	if (!nl)
		return;
	mnl_socket_close(nl->nl);
	free(nl);
}

static int af_of(uint8_t family)
{
	return family == JV_IP6 ? AF_INET6 : AF_INET;
}

/* ---- text ---- */

void jv_route_format(const struct jv_route *r, char *buf, size_t cap)
{
	char ip[INET6_ADDRSTRLEN], dev[IF_NAMESIZE] = "?";
	uint8_t b[16];

	jv_prefix_bytes(&r->dst, b);
	inet_ntop(af_of(r->dst.family), b, ip, sizeof(ip));
	if (r->ifindex > 0 && !if_indextoname((unsigned)r->ifindex, dev))
		snprintf(dev, sizeof(dev), "#%d", r->ifindex);
	snprintf(buf, cap, "%s/%u dev %s table %u", ip, r->dst.prefix, dev,
		 r->table);
}

void jv_rule_format(const struct jv_rule *r, char *buf, size_t cap)
{
	char mark[32] = "", sup[40] = "";

	if (r->fwmark)
		snprintf(mark, sizeof(mark), "%sfwmark %u ",
			 r->invert ? "not " : "", r->fwmark);
	if (r->suppress_prefixlen >= 0)
		snprintf(sup, sizeof(sup), " suppress_prefixlength %d",
			 r->suppress_prefixlen);
	snprintf(buf, cap, "%s %slookup %u%s pref %u",
		 r->family == JV_IP6 ? "IPv6" : "IPv4", mark, r->table, sup,
		 r->priority);
}

/* ---- what is jvpn's ---- */

void jv_rules_full_tunnel(uint8_t family, uint32_t fwmark,
			  struct jv_rule out[2])
{
	/* "not fwmark" on the suppress rule too: the same routing (marked
	 * packets reach the main table anyway), and each instance's rule
	 * is its own, found and removed by its fwmark alone */
	out[0] = (struct jv_rule){ .family = family,
				   .priority = JV_RULE_PRIO_SUPPRESS,
				   .table = JV_RT_TABLE_MAIN, .fwmark = fwmark,
				   .invert = true, .suppress_prefixlen = 0 };
	out[1] = (struct jv_rule){ .family = family,
				   .priority = JV_RULE_PRIO_FWMARK,
				   .table = fwmark, .fwmark = fwmark,
				   .invert = true, .suppress_prefixlen = -1 };
}

bool jv_rule_is_ours(const struct jv_rule *r, uint32_t fwmark)
{
	struct jv_rule want[2];

	jv_rules_full_tunnel(r->family, fwmark, want);
	for (int i = 0; i < 2; i++)
		if (r->priority == want[i].priority &&
		    r->table == want[i].table &&
		    r->fwmark == want[i].fwmark &&
		    r->invert == want[i].invert &&
		    r->suppress_prefixlen == want[i].suppress_prefixlen)
			return true;
	return false;
}

bool jv_route_is_ours(const struct jv_route *r, uint32_t fwmark)
{
	return r->table == fwmark && r->dst.prefix == 0 &&
	       r->table != JV_RT_TABLE_MAIN;
}

/* ---- requests ---- */

static int request(struct jv_rtnl *nl, struct nlmsghdr *h, bool fits,
		   bool adding, bool *created, const char *what,
		   struct jv_error *err)
{
	char txt[128];
	int rc;

	if (created)
		*created = false;
	if (!fits)
		return jv_error_set(err, JV_ERR_SHORT, "", 0,
				    "routes: %s: request too long", what);
	rc = jv_nl_transact(nl->nl, h, txt, sizeof(txt));
	if (created)
		*created = adding && rc == 0;
	/* idempotent: there already, or already gone */
	if (rc == 0 || (adding && rc == -EEXIST) ||
	    (!adding && (rc == -ENOENT || rc == -ESRCH)))
		return 0;
	return jv_error_set(err, JV_ERR_INVAL, "", 0,
			    "routes: cannot %s %s: %s%s%s",
			    adding ? "add" : "delete", what, strerror(-rc),
			    txt[0] ? ": " : "", txt);
}

static int route_req(struct jv_rtnl *nl, const struct jv_route *r, bool add,
		     bool *created, struct jv_error *err)
{
	_Alignas(struct nlmsghdr) uint8_t buf[REQ_MAX];
	struct nlmsghdr *h;
	struct rtmsg *rtm;
	char what[96];
	uint8_t dst[16];
	uint32_t oif = (uint32_t)r->ifindex;
	bool fits = true;

	rtm = jv_nl_req_init(buf, &h, add ? RTM_NEWROUTE : RTM_DELROUTE,
			     add ? NLM_F_CREATE | NLM_F_EXCL : 0, nl->seq++,
			     sizeof(*rtm));
	rtm->rtm_family = (uint8_t)af_of(r->dst.family);
	rtm->rtm_dst_len = r->dst.prefix;
	rtm->rtm_table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	if (add) {
		rtm->rtm_protocol = RTPROT_BOOT;
		rtm->rtm_scope = RT_SCOPE_LINK;   /* a device route */
		rtm->rtm_type = RTN_UNICAST;
	} else {
		rtm->rtm_scope = RT_SCOPE_NOWHERE;
	}
	jv_prefix_bytes(&r->dst, dst);
	if (r->dst.prefix)
		fits = mnl_attr_put_check(h, sizeof(buf), RTA_DST,
					  r->dst.family == JV_IP6 ? 16 : 4, dst);
	fits = fits && mnl_attr_put_u32_check(h, sizeof(buf), RTA_TABLE,
					      r->table);
	if (r->ifindex > 0)
		fits = fits && mnl_attr_put_u32_check(h, sizeof(buf), RTA_OIF,
						      oif);
	jv_route_format(r, what, sizeof(what));
	return request(nl, h, fits, add, created, what, err);
}

int jv_route_add(struct jv_rtnl *nl, const struct jv_route *r, bool *created,
		 struct jv_error *err)
{
	return route_req(nl, r, true, created, err);
}

int jv_route_del(struct jv_rtnl *nl, const struct jv_route *r,
		 struct jv_error *err)
{
	return route_req(nl, r, false, NULL, err);
}

static int rule_req(struct jv_rtnl *nl, const struct jv_rule *r, bool add,
		    bool *created, struct jv_error *err)
{
	_Alignas(struct nlmsghdr) uint8_t buf[REQ_MAX];
	struct nlmsghdr *h;
	struct fib_rule_hdr *frh;
	char what[96];
	bool fits;

	frh = jv_nl_req_init(buf, &h, add ? RTM_NEWRULE : RTM_DELRULE,
			     add ? NLM_F_CREATE | NLM_F_EXCL : 0, nl->seq++,
			     sizeof(*frh));
	frh->family = (uint8_t)af_of(r->family);
	frh->action = FR_ACT_TO_TBL;
	frh->table = r->table < 256 ? (uint8_t)r->table : RT_TABLE_UNSPEC;
	if (r->invert)
		frh->flags |= FIB_RULE_INVERT;
	fits = mnl_attr_put_u32_check(h, sizeof(buf), FRA_PRIORITY,
				      r->priority) &&
	       mnl_attr_put_u32_check(h, sizeof(buf), FRA_TABLE, r->table);
	if (r->fwmark)
		fits = fits && mnl_attr_put_u32_check(h, sizeof(buf), FRA_FWMARK,
						      r->fwmark);
	if (r->suppress_prefixlen >= 0)
		fits = fits && mnl_attr_put_u32_check(
				       h, sizeof(buf), FRA_SUPPRESS_PREFIXLEN,
				       (uint32_t)r->suppress_prefixlen);
	jv_rule_format(r, what, sizeof(what));
	return request(nl, h, fits, add, created, what, err);
}

int jv_rule_add(struct jv_rtnl *nl, const struct jv_rule *r, bool *created,
		struct jv_error *err)
{
	return rule_req(nl, r, true, created, err);
}

int jv_rule_del(struct jv_rtnl *nl, const struct jv_rule *r,
		struct jv_error *err)
{
	return rule_req(nl, r, false, NULL, err);
}

/* ---- dumps ---- */

struct walk {
	uint8_t family;
	uint32_t table;
	jv_route_cb route_cb;
	jv_rule_cb rule_cb;
	void *ctx;
};

static int route_msg(const struct nlmsghdr *h, void *ctx)
{
	const struct walk *w = ctx;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(h);
	const struct nlattr *a;
	struct jv_route r = { .dst.family = w->family };
	unsigned bytes = w->family == JV_IP6 ? 16 : 4;
	uint8_t dst[16] = { 0 };

	if (h->nlmsg_type != RTM_NEWROUTE ||
	    h->nlmsg_len < mnl_nlmsg_size(sizeof(*rtm)) ||
	    rtm->rtm_family != af_of(w->family) ||
	    rtm->rtm_type != RTN_UNICAST || rtm->rtm_dst_len > bytes * 8)
		return 0;
	r.table = rtm->rtm_table;
	r.dst.prefix = rtm->rtm_dst_len;
	mnl_attr_for_each(a, h, sizeof(*rtm)) {
		uint16_t t = mnl_attr_get_type(a);

		if (t == RTA_TABLE && mnl_attr_get_payload_len(a) >= 4)
			r.table = mnl_attr_get_u32(a);
		else if (t == RTA_OIF && mnl_attr_get_payload_len(a) >= 4)
			r.ifindex = (int)mnl_attr_get_u32(a);
		else if (t == RTA_DST && mnl_attr_get_payload_len(a) == bytes)
			memcpy(dst, mnl_attr_get_payload(a), bytes);
	}
	if (r.table != w->table)
		return 0;
	if (w->family == JV_IP6) {
		memcpy(r.dst.addr6, dst, 16);
	} else {
		uint32_t v;

		memcpy(&v, dst, 4);
		r.dst.addr = ntohl(v);
	}
	w->route_cb(w->ctx, &r);
	return 0;
}

static int rule_msg(const struct nlmsghdr *h, void *ctx)
{
	const struct walk *w = ctx;
	const struct fib_rule_hdr *frh = mnl_nlmsg_get_payload(h);
	const struct nlattr *a;
	struct jv_rule r = { .family = w->family, .suppress_prefixlen = -1 };

	if (h->nlmsg_type != RTM_NEWRULE ||
	    h->nlmsg_len < mnl_nlmsg_size(sizeof(*frh)) ||
	    frh->family != af_of(w->family) || frh->action != FR_ACT_TO_TBL)
		return 0;
	r.table = frh->table;
	r.invert = frh->flags & FIB_RULE_INVERT;
	mnl_attr_for_each(a, h, sizeof(*frh)) {
		uint16_t t = mnl_attr_get_type(a);

		if (mnl_attr_get_payload_len(a) < 4)
			continue;
		if (t == FRA_TABLE)
			r.table = mnl_attr_get_u32(a);
		else if (t == FRA_PRIORITY)
			r.priority = mnl_attr_get_u32(a);
		else if (t == FRA_FWMARK)
			r.fwmark = mnl_attr_get_u32(a);
		else if (t == FRA_SUPPRESS_PREFIXLEN)
			r.suppress_prefixlen = (int32_t)mnl_attr_get_u32(a);
	}
	w->rule_cb(w->ctx, &r);
	return 0;
}

static int dump(struct jv_rtnl *nl, uint16_t type, struct walk *w,
		jv_nl_dump_cb cb, const char *what, struct jv_error *err)
{
	_Alignas(struct nlmsghdr) uint8_t buf[REQ_MAX];
	struct nlmsghdr *h;
	struct rtmsg *rtm;
	int rc;

	/* an rtmsg and a fib_rule_hdr both start with the family */
	rtm = jv_nl_req_init(buf, &h, type, NLM_F_DUMP, nl->seq++,
			     sizeof(*rtm));
	h->nlmsg_flags &= (uint16_t)~NLM_F_ACK;
	rtm->rtm_family = (uint8_t)af_of(w->family);
	rc = jv_nl_dump(nl->nl, h, cb, w);
	if (rc)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "routes: cannot list the %s %s: %s",
				    w->family == JV_IP6 ? "IPv6" : "IPv4", what,
				    strerror(-rc));
	return 0;
}

int jv_route_list(struct jv_rtnl *nl, uint8_t family, uint32_t table,
		  jv_route_cb cb, void *ctx, struct jv_error *err)
{
	struct walk w = { .family = family, .table = table, .route_cb = cb,
			  .ctx = ctx };

	return dump(nl, RTM_GETROUTE, &w, route_msg, "routes", err);
}

int jv_rule_list(struct jv_rtnl *nl, uint8_t family, jv_rule_cb cb,
		 void *ctx, struct jv_error *err)
{
	struct walk w = { .family = family, .rule_cb = cb, .ctx = ctx };

	return dump(nl, RTM_GETRULE, &w, rule_msg, "rules", err);
}

int jv_sock_mark(int fd, uint32_t mark, struct jv_error *err)
{
	if (setsockopt(fd, SOL_SOCKET, SO_MARK, &mark, sizeof(mark)) != 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "cannot mark the socket (SO_MARK %u): %s",
				    mark, strerror(errno));
	return 0;
}
