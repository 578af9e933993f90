/* The routes of a daemon as sets (cli/routes.h): plans and differences
 * are pure; jv_routes_apply and jv_routes_clean_leftovers do the
 * rtnetlink calls (io/route.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/routes.h"

void jv_rtset_free(struct jv_rtset *s)
{
	free(s->r);
	memset(s, 0, sizeof(*s));
}

static int push(struct jv_rtset *s, const struct jv_route *r)
{
	if (s->n == s->cap) {
		uint32_t cap = s->cap ? s->cap * 2 : 16;
		struct jv_route *n = realloc(s->r, cap * sizeof(*n));

		if (!n)
			return JV_ERR_NOMEM;
		s->r = n;
		s->cap = cap;
	}
	s->r[s->n++] = *r;
	return 0;
}

static void push_rule(struct jv_rtset *s, const struct jv_rule *r)
{
	if (s->nrules < JV_ROUTES_MAX_RULES)
		s->rules[s->nrules++] = *r;
}

/* A route with every byte defined (compared whole, sorted). */
static struct jv_route route_of(const struct jv_prefix *p, uint32_t table,
				int ifindex)
{
	struct jv_route r;

	memset(&r, 0, sizeof(r));
	r.dst.family = p->family;
	r.dst.prefix = p->prefix;
	if (p->family == JV_IP6)
		memcpy(r.dst.addr6, p->addr6, 16);
	else
		r.dst.addr = p->addr;
	r.table = table;
	r.ifindex = ifindex;
	return r;
}

bool jv_routes_full(const struct jv_config *cfg, uint8_t family)
{
	for (uint32_t i = 0; i < cfg->nroutes; i++)
		if (cfg->routes[i].family == family && cfg->routes[i].prefix == 0)
			return true;
	return false;
}

uint32_t jv_routes_tun_subnets(const struct jv_config *cfg,
			       struct jv_prefix *out, uint32_t cap)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < cfg->tun.naddr && n < cap; i++)
		out[n++] = jv_tun_subnet(&cfg->tun.addr[i]);
	return n;
}

/* Whether p lies within subnet (the same or narrower). */
static bool inside(const struct jv_prefix *p, const struct jv_prefix *subnet)
{
	uint8_t b[16];

	if (p->family != subnet->family || p->prefix < subnet->prefix)
		return false;
	jv_prefix_bytes(p, b);
	return jv_prefix_match(subnet, p->family, b);
}

static bool in_tunnel(const struct jv_prefix *p, const struct jv_prefix *own,
		      uint32_t nown)
{
	for (uint32_t i = 0; i < nown; i++)
		if (inside(p, &own[i]))
			return true;
	return false;
}

int jv_routes_plan(const struct jv_config *cfg, int ifindex,
		   struct jv_rtset *out)
{
	/* one a tun.address, however many there are */
	struct jv_prefix own[JV_PEER_MAX_IPS];
	uint32_t nown = jv_routes_tun_subnets(cfg, own, JV_PEER_MAX_IPS);
	static const uint8_t families[] = { JV_IP4, JV_IP6 };
	struct jv_route r;
	int rc;

	out->n = 0;
	out->nrules = 0;
	if (cfg->role == JV_ROLE_SERVER) {
		/* the config holds no prefix twice (check_same_prefix) */
		for (uint32_t i = 0; i < cfg->npeers; i++)
			for (uint32_t k = 0; k < cfg->peers[i].nallowed; k++) {
				const struct jv_prefix *p = &cfg->peers[i].allowed[k];

				if (in_tunnel(p, own, nown))
					continue;
				r = route_of(p, JV_RT_TABLE_MAIN, ifindex);
				if ((rc = push(out, &r)))
					return rc;
			}
		return 0;
	}
	for (uint32_t i = 0; i < cfg->nroutes; i++) {
		const struct jv_prefix *p = &cfg->routes[i];

		/* a default route: table fwmark, reached through the rules */
		if (p->prefix && in_tunnel(p, own, nown))
			continue;
		r = route_of(p, p->prefix ? JV_RT_TABLE_MAIN : cfg->fwmark,
			     ifindex);
		if ((rc = push(out, &r)))
			return rc;
	}
	for (size_t f = 0; f < sizeof(families); f++) {
		struct jv_rule two[2];

		if (!jv_routes_full(cfg, families[f]))
			continue;
		jv_rules_full_tunnel(families[f], cfg->fwmark, two);
		push_rule(out, &two[0]);
		push_rule(out, &two[1]);
	}
	return 0;
}

/* ---- differences ---- */

static int cmp_route(const void *a, const void *b)
{
	const struct jv_route *x = a, *y = b;
	uint8_t bx[16], by[16];
	int c;

	if (x->table != y->table)
		return x->table < y->table ? -1 : 1;
	if (x->ifindex != y->ifindex)
		return x->ifindex < y->ifindex ? -1 : 1;
	if (x->dst.family != y->dst.family)
		return x->dst.family < y->dst.family ? -1 : 1;
	if (x->dst.prefix != y->dst.prefix)
		return x->dst.prefix < y->dst.prefix ? -1 : 1;
	jv_prefix_bytes(&x->dst, bx);
	jv_prefix_bytes(&y->dst, by);
	c = memcmp(bx, by, 16);
	return c;
}

static bool same_rule(const struct jv_rule *a, const struct jv_rule *b)
{
	return a->family == b->family && a->priority == b->priority &&
	       a->table == b->table && a->fwmark == b->fwmark &&
	       a->invert == b->invert &&
	       a->suppress_prefixlen == b->suppress_prefixlen;
}

static bool has_rule(const struct jv_rtset *s, const struct jv_rule *r)
{
	for (uint32_t i = 0; i < s->nrules; i++)
		if (same_rule(&s->rules[i], r))
			return true;
	return false;
}

static int sorted_copy(const struct jv_rtset *s, struct jv_route **out)
{
	*out = malloc((s->n ? s->n : 1) * sizeof(**out));
	if (!*out)
		return JV_ERR_NOMEM;
	if (s->n)
		memcpy(*out, s->r, s->n * sizeof(**out));
	qsort(*out, s->n, sizeof(**out), cmp_route);
	return 0;
}

/* keep (NULL: not wanted): what is in both. A sorted merge: a gateway's
 * set runs to tens of thousands. */
static int diff(const struct jv_rtset *cur, const struct jv_rtset *want,
		struct jv_rtset *del, struct jv_rtset *add,
		struct jv_rtset *keep)
{
	struct jv_route *a = NULL, *b = NULL;
	uint32_t i = 0, j = 0;
	int rc;

	del->n = add->n = 0;
	del->nrules = add->nrules = 0;
	if (keep)
		keep->n = keep->nrules = 0;
	if ((rc = sorted_copy(cur, &a)) || (rc = sorted_copy(want, &b)))
		goto out;
	while (rc == 0 && (i < cur->n || j < want->n)) {
		int c = i == cur->n ? 1 : j == want->n ? -1
			: cmp_route(&a[i], &b[j]);

		if (c < 0)
			rc = push(del, &a[i++]);
		else if (c > 0)
			rc = push(add, &b[j++]);
		else if (keep)
			rc = push(keep, &a[i++]), j++;
		else
			i++, j++;
		/* a set holding one route twice: the second is the same */
		while (i && i < cur->n && !cmp_route(&a[i], &a[i - 1]))
			i++;
		while (j && j < want->n && !cmp_route(&b[j], &b[j - 1]))
			j++;
	}
	for (uint32_t k = 0; k < cur->nrules; k++)
		if (!has_rule(want, &cur->rules[k]))
			push_rule(del, &cur->rules[k]);
		else if (keep)
			push_rule(keep, &cur->rules[k]);
	for (uint32_t k = 0; k < want->nrules; k++)
		if (!has_rule(cur, &want->rules[k]))
			push_rule(add, &want->rules[k]);
out:
	free(a);
	free(b);
	return rc;
}

int jv_routes_diff(const struct jv_rtset *cur, const struct jv_rtset *want,
		   struct jv_rtset *del, struct jv_rtset *add)
{
	return diff(cur, want, del, add, NULL);
}

/* ---- the system ---- */

static void failed(struct jv_error *first, int *rc, const struct jv_error *e)
{
	fprintf(stderr, "jvpn: %s\n", e->msg);
	if (*rc == 0) {
		*first = *e;
		*rc = JV_ERR_INVAL;
	}
}

int jv_routes_apply(struct jv_rtset *installed, const struct jv_rtset *want,
		    struct jv_error *err)
{
	struct jv_rtset del = { 0 }, add = { 0 }, now = { 0 };
	struct jv_rtnl *nl = NULL;
	struct jv_error e;
	int rc;
	bool created;

	if ((rc = diff(installed, want, &del, &add, &now)) != 0) {
		jv_error_set(err, rc, "", 0, "routes: out of memory");
		goto out;
	}
	/* nothing to do, or nothing done: what is installed stays so */
	if (del.n + del.nrules + add.n + add.nrules == 0 ||
	    (rc = jv_rtnl_open(&nl, err)) != 0)
		goto out;
	/* the rules first: no moment when they lead to an empty table */
	for (uint32_t i = 0; i < del.nrules; i++)
		if (jv_rule_del(nl, &del.rules[i], &e) != 0) {
			failed(err, &rc, &e);
			push_rule(&now, &del.rules[i]);
		}
	for (uint32_t i = 0; i < del.n; i++)
		if (jv_route_del(nl, &del.r[i], &e) != 0) {
			failed(err, &rc, &e);
			if (push(&now, &del.r[i]))
				break;
		}
	for (uint32_t i = 0; i < add.n; i++) {
		if (jv_route_add(nl, &add.r[i], &created, &e) != 0)
			failed(err, &rc, &e);
		else if (created && push(&now, &add.r[i]))
			break;
	}
	for (uint32_t i = 0; i < add.nrules; i++) {
		if (jv_rule_add(nl, &add.rules[i], &created, &e) != 0)
			failed(err, &rc, &e);
		else if (created)
			push_rule(&now, &add.rules[i]);
	}
	jv_rtnl_close(nl);
	jv_rtset_free(installed);
	*installed = now;
	memset(&now, 0, sizeof(now));
out:
	jv_rtset_free(&del);
	jv_rtset_free(&add);
	jv_rtset_free(&now);
	return rc;
}

/* ---- what a killed run left ---- */

#define LEFT_MAX 64                  /* a round; rounds until none */

struct leftovers {
	uint32_t fwmark;
	struct jv_rule rules[LEFT_MAX];
	struct jv_route routes[LEFT_MAX];
	uint32_t nrules, nroutes;
};

static void found_rule(void *ctx, const struct jv_rule *r)
{
	struct leftovers *l = ctx;

	if (jv_rule_is_ours(r, l->fwmark) && l->nrules < LEFT_MAX)
		l->rules[l->nrules++] = *r;
}

static void found_route(void *ctx, const struct jv_route *r)
{
	struct leftovers *l = ctx;

	if (jv_route_is_ours(r, l->fwmark) && l->nroutes < LEFT_MAX)
		l->routes[l->nroutes++] = *r;
}

int jv_routes_clean_leftovers(uint32_t fwmark, struct jv_error *err)
{
	static const uint8_t families[] = { JV_IP4, JV_IP6 };
	struct leftovers *l = calloc(1, sizeof(*l));
	struct jv_rtnl *nl = NULL;
	int rc, removed = 0;

	if (!l)
		return jv_error_set(err, JV_ERR_NOMEM, "", 0,
				    "routes: out of memory");
	l->fwmark = fwmark;
	if ((rc = jv_rtnl_open(&nl, err)) != 0)
		goto out;
	for (size_t f = 0; rc == 0 && f < sizeof(families); f++)
		for (int round = 0; rc == 0 && round < 16; round++) {
			l->nrules = l->nroutes = 0;
			if ((rc = jv_rule_list(nl, families[f], found_rule, l,
					       err)) ||
			    (rc = jv_route_list(nl, families[f], fwmark,
						found_route, l, err)))
				break;
			if (l->nrules + l->nroutes == 0)
				break;
			for (uint32_t i = 0; rc == 0 && i < l->nrules; i++)
				rc = jv_rule_del(nl, &l->rules[i], err);
			for (uint32_t i = 0; rc == 0 && i < l->nroutes; i++)
				rc = jv_route_del(nl, &l->routes[i], err);
			removed += (int)(l->nrules + l->nroutes);
		}
out:
	jv_rtnl_close(nl);
	free(l);
	return rc ? rc : removed;
}
