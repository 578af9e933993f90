/* Routes and policy rules over rtnetlink (libmnl, io/nl.h), IPv4 and
 * IPv6: what `ip route add PREFIX dev TUN table T` and `ip rule add not
 * fwmark M table M` do, idempotent, so a daemon can put back what a
 * killed run left and remove it again. A full tunnel is done as wg-quick
 * does it: the default route in a table of its own (numbered as the
 * fwmark), "not fwmark M lookup M" for unmarked traffic, "lookup main
 * suppress_prefixlength 0" before it so that the main table's specific
 * routes still win, and the daemon's own outer sockets marked M
 * (SO_MARK) so they keep the main table's uplinks. The suppress rule
 * carries "not fwmark M" too (the same routing: marked packets reach the
 * main table after it anyway), which makes it this instance's own. */
#ifndef JV_IO_ROUTE_H
#define JV_IO_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/allowedips.h"
#include "core/err.h"

#define JV_RT_TABLE_MAIN 254
/* jvpn's own rule priorities, fixed so that the rules of a killed run are
 * found again; below the main table's 32766 so that they come first, the
 * suppress rule before the fwmark rule (as wg-quick's order). */
#define JV_RULE_PRIO_SUPPRESS 32760u
#define JV_RULE_PRIO_FWMARK 32761u

struct jv_route {
	struct jv_prefix dst;
	uint32_t table;              /* JV_RT_TABLE_MAIN or the fwmark */
	int ifindex;                 /* the output device */
};

struct jv_rule {
	uint8_t family;              /* JV_IP4, JV_IP6 */
	uint32_t priority;
	uint32_t table;
	uint32_t fwmark;             /* 0: none */
	bool invert;                 /* "not fwmark ..." */
	int32_t suppress_prefixlen;  /* -1: none */
};

struct jv_rtnl;

int jv_rtnl_open(struct jv_rtnl **out, struct jv_error *err);
void jv_rtnl_close(struct jv_rtnl *nl);

/* Adds (NLM_F_EXCL) or deletes one route or rule. Idempotent: adding
 * what is there (EEXIST) and deleting what is not (ENOENT, ESRCH) are
 * success; *created (NULL: not asked) says whether an add made it.
 * Errors say what was asked and the kernel's reason. */
int jv_route_add(struct jv_rtnl *nl, const struct jv_route *r, bool *created,
		 struct jv_error *err);
int jv_route_del(struct jv_rtnl *nl, const struct jv_route *r,
		 struct jv_error *err);
int jv_rule_add(struct jv_rtnl *nl, const struct jv_rule *r, bool *created,
		struct jv_error *err);
int jv_rule_del(struct jv_rtnl *nl, const struct jv_rule *r,
		struct jv_error *err);

/* Every unicast route of family in table, and every rule of family, as
 * the kernel lists them (a dump). Returns 0 or JV_ERR_INVAL. */
typedef void (*jv_route_cb)(void *ctx, const struct jv_route *r);
typedef void (*jv_rule_cb)(void *ctx, const struct jv_rule *r);
int jv_route_list(struct jv_rtnl *nl, uint8_t family, uint32_t table,
		  jv_route_cb cb, void *ctx, struct jv_error *err);
int jv_rule_list(struct jv_rtnl *nl, uint8_t family, jv_rule_cb cb,
		 void *ctx, struct jv_error *err);

/* The two rules of a full tunnel of family for fwmark: out[0] the
 * suppress rule, out[1] the fwmark rule. */
void jv_rules_full_tunnel(uint8_t family, uint32_t fwmark,
			  struct jv_rule out[2]);
/* Whether r is one of those rules (for any family): at jvpn's priority,
 * of that shape, for that fwmark. What a killed run may have left. */
bool jv_rule_is_ours(const struct jv_rule *r, uint32_t fwmark);
/* Whether r is what a full tunnel puts in table fwmark: a default route. */
bool jv_route_is_ours(const struct jv_route *r, uint32_t fwmark);

/* "10.0.0.0/8 table 254", "not fwmark 0xca6d lookup 51821 pref 32761". */
void jv_route_format(const struct jv_route *r, char *buf, size_t cap);
void jv_rule_format(const struct jv_rule *r, char *buf, size_t cap);

/* Marks a socket's packets (SO_MARK): the policy rules send them by the
 * main table. 0 or JV_ERR_INVAL. */
int jv_sock_mark(int fd, uint32_t mark, struct jv_error *err);

#endif
