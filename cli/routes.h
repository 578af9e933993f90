/* The routes a daemon installs (CONTRACT section 8), as sets: what the
 * configuration wants (a plan, pure, unit-tested) and what is installed;
 * jv_routes_apply turns one into the other, so start, reload and exit are
 * the same step. A client installs its `routes` on the TUN (a /0 as a
 * full tunnel: table fwmark and two policy rules per family, as
 * wg-quick); a gateway installs every peer's allowed_ips on its TUN (site
 * to site), again at each reload. */
#ifndef JV_CLI_ROUTES_H
#define JV_CLI_ROUTES_H

#include <stdbool.h>
#include <stdint.h>

#include "cli/config.h"
#include "io/route.h"

#define JV_ROUTES_MAX_RULES 4    /* two a family */

struct jv_rtset {
	struct jv_route *r;          /* heap, n of cap */
	uint32_t n, cap;
	struct jv_rule rules[JV_ROUTES_MAX_RULES];
	uint32_t nrules;
};

void jv_rtset_free(struct jv_rtset *s);

/* Whether the client's routes make a full tunnel of family (a /0). */
bool jv_routes_full(const struct jv_config *cfg, uint8_t family);

/* The tunnel's own subnets (the TUN's address prefixes): routes inside
 * them go there already. Returns how many were written (at most cap). */
uint32_t jv_routes_tun_subnets(const struct jv_config *cfg,
			       struct jv_prefix *out, uint32_t cap);

/* What cfg wants on the TUN of index ifindex: a client's routes and
 * rules, or a gateway's peer prefixes (none inside the tunnel's own
 * subnets, each once). Replaces out's contents. 0 or JV_ERR_NOMEM. */
int jv_routes_plan(const struct jv_config *cfg, int ifindex,
		   struct jv_rtset *out);

/* Which of cur's entries are not in want (del) and which of want's are
 * not in cur (add). Replaces del's and add's contents. 0 or
 * JV_ERR_NOMEM. */
int jv_routes_diff(const struct jv_rtset *cur, const struct jv_rtset *want,
		   struct jv_rtset *del, struct jv_rtset *add);

/* Makes the system hold want instead of *installed: deletes what is no
 * longer wanted (rules first), adds what is new (routes first). Goes on
 * past a failure; *installed ends as what this daemon created and did
 * not remove (what was there already is not its to remove). Returns 0 or
 * the first error (err says it; every failure also on stderr). */
int jv_routes_apply(struct jv_rtset *installed, const struct jv_rtset *want,
		    struct jv_error *err);

/* Removes what a killed client with this fwmark left: jvpn's rules and
 * the default routes of table fwmark, IPv4 and IPv6. Returns how many,
 * or a negative error (err). */
int jv_routes_clean_leftovers(uint32_t fwmark, struct jv_error *err);

#endif
