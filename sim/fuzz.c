/* The fault fuzzer: random valid scenarios, the real endpoints, and the
 * guarantees of the failure matrix and CONTRACT sections 1 and 2 checked
 * on every event stream; failing scenarios shrunk by delta debugging.
 *
 * The checker must not cry wolf: a rule fires only where the schedule makes
 * the guarantee unambiguous. "Viable" is defined on the schedule alone (see
 * viable_over); a rule about what the session should have done with a
 * viable path applies only when the path stayed viable for longer than
 * every timer the policy lets the engine take to notice, probe, wait out a
 * cooldown and reattach. */
#include <jansson.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/fsm.h"
#include "sim/fuzz.h"

/* ---- a seeded generator of its own: the run's streams stay as they are */

struct g {
	uint64_t x;
};

static uint64_t gnext(struct g *g)
{
	uint64_t z = (g->x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* uniform in [lo, hi] */
static uint64_t rnd(struct g *g, uint64_t lo, uint64_t hi)
{
	return hi <= lo ? lo : lo + gnext(g) % (hi - lo + 1);
}

static bool chance(struct g *g, unsigned pct)
{
	return gnext(g) % 100 < pct;
}

static const char *const rule_names[] = {
	[JV_FZ_OK] = "ok",
	[JV_FZ_SIM_ERROR] = "sim_error",
	[JV_FZ_AUDIT] = "audit_verify",
	[JV_FZ_SWITCH_RATE] = "switch_rate",
	[JV_FZ_SESSION_RESET] = "session_reset",
	[JV_FZ_FOREIGN_SESSION] = "foreign_session",
	[JV_FZ_TERM_REASON] = "unexplained_termination",
	[JV_FZ_TERM_EARLY] = "termination_early",
	[JV_FZ_TERM_LATE] = "termination_late",
	[JV_FZ_TTL_WITH_VIABLE] = "ttl_with_viable_path",
};

const char *jv_fuzz_rule_name(enum jv_fuzz_rule r)
{
	return r < JV_FZ__COUNT ? rule_names[r] : "?";
}

/* ---- the generator ---- */

static void add(struct jv_scenario *sc, struct jv_sim_fault f)
{
	if (sc->nfaults < JV_SIM_MAX_FAULTS)
		sc->faults[sc->nfaults++] = f;
}

static struct jv_sim_fault fault(uint64_t at, enum jv_sim_action a, int path)
{
	struct jv_sim_fault f;

	memset(&f, 0, sizeof(f));
	f.at_ms = at;
	f.action = a;
	f.path = path;
	f.via = -1;
	return f;
}

/* a time for the end of a window that starts at at */
static uint64_t later(struct g *g, uint64_t at, uint64_t lo, uint64_t hi)
{
	return at + rnd(g, lo, hi);
}

static void gen_policy(struct g *g, struct jv_scenario *sc)
{
	struct jv_policy *p = &sc->client_policy;

	jv_policy_defaults(p);
	p->heartbeat_interval_ms = chance(g, 50) ? 100 * rnd(g, 1, 10)
						 : rnd(g, 50, 1000);
	p->heartbeat_volatile_ms = p->heartbeat_interval_ms * rnd(g, 2, 6);
	p->loss_window_ms = 100 * rnd(g, 5, 40);
	if (p->loss_window_ms < p->heartbeat_interval_ms)
		p->loss_window_ms = p->heartbeat_interval_ms;
	p->loss_volatile_threshold = (double)rnd(g, 10, 50) / 100.0;
	p->max_consecutive_drops = (uint32_t)rnd(g, 1, 10);
	p->volatile_to_degraded_ms = 100 * rnd(g, 5, 60);
	p->latency_volatile_threshold_ms = chance(g, 15) ? 100 * rnd(g, 2, 6) : 0;
	p->max_switches_per_min = (uint32_t)rnd(g, 1, 10);
	p->switch_cooldown_ms = 100 * rnd(g, 0, 30);
	p->recovery_window_ms = 100 * rnd(g, 5, 100);
	p->switch_improvement_factor = (double)rnd(g, 100, 200) / 100.0;
	p->max_candidate_count = chance(g, 10) ? (uint32_t)rnd(g, 1, sc->npaths)
					      : (uint32_t)rnd(g, sc->npaths, 6);
	p->probe_interval_ms = 100 * rnd(g, 1, 20);
	p->enforce_hysteresis = chance(g, 50);
	p->reattach_proof_max_age_ms = 100 * rnd(g, 10, 100);
	p->replay_window_size = 64 * (uint32_t)rnd(g, 1, 32);
	p->max_reattach_failures = (uint32_t)rnd(g, 1, 5);
	if (chance(g, 50))
		p->rekey_after_ms = 1000 * rnd(g, 5, 60);
	p->transport_lost_ttl_ms = chance(g, 15) ? 1000 * rnd(g, 60, 90)
						 : 100 * rnd(g, 10, 300);
	if (chance(g, 15)) {
		uint64_t l = rnd(g, sc->duration_ms / 3, sc->duration_ms * 3 / 2);

		p->max_lifetime_ms = l < p->transport_lost_ttl_ms ?
					     p->transport_lost_ttl_ms : l;
		if (p->max_lifetime_ms < 1000)
			p->max_lifetime_ms = 1000;
	}
	if (jv_policy_validate(p, "fuzz", NULL) != 0)
		jv_policy_defaults(p);
	sc->server_policy = *p;
}

/* attacker: whether this seed's schedule may hold replays, forgeries and
 * relays (they switch off the rules about viable paths, so only some
 * seeds get them) */
/* f, and seven times in ten its undoing (heal) 0.2 to 20 s later. */
static void add_mostly_healed(struct g *g, struct jv_scenario *sc,
			      struct jv_sim_fault f, enum jv_sim_action heal)
{
	add(sc, f);
	if (chance(g, 70)) {
		f.action = heal;
		f.at_ms = later(g, f.at_ms, 200, 20000);
		add(sc, f);
	}
}

static void gen_fault(struct g *g, struct jv_scenario *sc, bool attacker)
{
	static const unsigned weight[] = {
		20, 15, 8, 8, 10, 6, 2, 5, 5, 4, 6, 4,
	};
	unsigned total = 0, pick, kind = 0;
	uint64_t d = sc->duration_ms;
	uint64_t at = rnd(g, 500, d - 500);
	int path = (int)rnd(g, 0, sc->npaths - 1);
	struct jv_sim_fault f;

	for (unsigned i = 0; i < sizeof(weight) / sizeof(weight[0]); i++)
		total += weight[i];
	do {
		pick = (unsigned)rnd(g, 0, total - 1);
		for (kind = 0; pick >= weight[kind]; kind++)
			pick -= weight[kind];
	} while (!attacker && (kind == 7 || kind == 8 || kind == 9 ||
			       kind == 11));
	switch (kind) {
	case 0:         /* a cut, mostly healed later */
		f = fault(at, JV_SIM_DOWN, path);
		f.dir = chance(g, 70) ? JV_SIM_BOTH :
			chance(g, 50) ? JV_SIM_UPSTREAM : JV_SIM_DOWNSTREAM;
		add_mostly_healed(g, sc, f, JV_SIM_UP);
		break;
	case 1:         /* loss: none, some, or most */
		f = fault(at, JV_SIM_LOSS, path);
		f.ratio = chance(g, 30) ? 0 :
			  chance(g, 40) ? (double)rnd(g, 1, 300) / 1000.0
					: (double)rnd(g, 300, 1000) / 1000.0;
		if (chance(g, 20))
			f.dir = chance(g, 50) ? JV_SIM_UPSTREAM : JV_SIM_DOWNSTREAM;
		add(sc, f);
		if (chance(g, 50)) {
			f.at_ms = later(g, at, 500, 20000);
			f.ratio = 0;
			add(sc, f);
		}
		break;
	case 2:
		f = fault(at, JV_SIM_LATENCY, path);
		f.ms = (uint32_t)rnd(g, 1, 300);
		add(sc, f);
		if (chance(g, 50)) {
			f.at_ms = later(g, at, 500, 20000);
			f.ms = sc->paths[path].latency_ms;
			add(sc, f);
		}
		break;
	case 3:
		f = fault(at, JV_SIM_FLAP, path);
		f.period_ms = 100 * rnd(g, 1, 30);
		f.until_ms = later(g, at, 1000, 30000);
		add(sc, f);
		break;
	case 4:
		add_mostly_healed(g, sc, fault(at, JV_SIM_LINK_DOWN, path),
				  JV_SIM_LINK_UP);
		break;
	case 5: {       /* a blackout shorter or longer than the TTL */
		uint64_t len = sc->client_policy.transport_lost_ttl_ms *
			       rnd(g, 30, 150) / 100;

		for (uint32_t i = 0; i < sc->npaths; i++)
			add(sc, fault(at, JV_SIM_DOWN, (int)i));
		for (uint32_t i = 0; i < sc->npaths; i++)
			add(sc, fault(at + len + 100 * i, JV_SIM_UP, (int)i));
		break;
	}
	case 6:
		f = fault(at, JV_SIM_OPERATOR_TERMINATE, -1);
		f.node = (int)rnd(g, 0, 1);
		add(sc, f);
		break;
	case 7:
	case 8:
		f = fault(at, kind == 7 ? JV_SIM_REPLAY : JV_SIM_FORGE,
			  chance(g, 50) ? path : -1);
		f.message = JV_SIM_MSG_REATTACH;
		add(sc, f);
		break;
	case 9:         /* forged HS_RESPs, often from the first handshake */
		f = fault(chance(g, 50) ? 0 : at, JV_SIM_FORGE,
			  chance(g, 50) ? path : -1);
		f.message = JV_SIM_MSG_HS_RESP;
		f.ms = (uint32_t)rnd(g, 1, 50);
		f.until_ms = chance(g, 30) ? UINT64_MAX
					   : later(g, f.at_ms, 1000, 20000);
		add(sc, f);
		break;
	case 10:
		f = fault(at, JV_SIM_DROP, chance(g, 50) ? path : -1);
		f.message = JV_SIM_MSG_REATTACH_ACK;
		f.count = (uint32_t)rnd(g, 1, 3);
		add(sc, f);
		break;
	default:
		f = fault(at, JV_SIM_RELAY, chance(g, 50) ? path : -1);
		f.message = JV_SIM_MSG_REATTACH;
		f.via = (int)rnd(g, 0, sc->npaths - 1);
		f.until_ms = chance(g, 30) ? UINT64_MAX
					   : later(g, at, 1000, 20000);
		add(sc, f);
		break;
	}
}

/* Same-time faults keep their order, as the parser does. */
static void sort_faults(struct jv_scenario *sc)
{
	jv_scenario_sort_faults(sc);
	for (uint32_t i = 0; i < sc->nfaults; i++)
		sc->faults[i].line = (int)i + 1;
}

void jv_fuzz_generate(uint64_t seed, struct jv_scenario *sc)
{
	struct g g = { seed * 0x2545f4914f6cdd1dull + 0x5eed };
	struct g fb = { 0xfa11bac4 };
	struct g ds = { 0xda7a5113 };
	bool attacker;
	unsigned n;

	memset(sc, 0, sizeof(*sc));
	snprintf(sc->file, sizeof(sc->file), "fuzz seed %llu",
		 (unsigned long long)seed);
	snprintf(sc->name, sizeof(sc->name), "fuzz seed %llu",
		 (unsigned long long)seed);
	sc->seed = seed;
	sc->final_client = sc->final_server = -1;
	sc->same_session = -1;
	sc->min_delivery = -1.0;
	sc->npaths = (uint32_t)rnd(&g, 2, 4);
	for (uint32_t i = 0; i < sc->npaths; i++) {
		struct jv_sim_path_cfg *p = &sc->paths[i];

		p->proto = chance(&g, 30) ? JV_PROTO_TCP : JV_PROTO_UDP;
		snprintf(p->id, sizeof(p->id), "%s-%c",
			 p->proto == JV_PROTO_TCP ? "tcp" : "udp", 'a' + i);
		p->latency_ms = (uint32_t)rnd(&g, 1, 60);
		p->loss = chance(&g, 20) ? (double)rnd(&g, 1, 30) / 1000.0 : 0;
	}
	sc->duration_ms = chance(&g, 10) ? 1000 * rnd(&g, 60, 120)
					 : 1000 * rnd(&g, 8, 60);
	sc->rate_pps = (uint32_t)(const uint32_t[]){ 0, 5, 20, 50 }[rnd(&g, 0, 3)];
	sc->reconnect = chance(&g, 30);
	gen_policy(&g, sc);
	n = (unsigned)rnd(&g, 0, 14);
	attacker = chance(&g, 35);
	for (unsigned i = 0; i < n; i++)
		gen_fault(&g, sc, attacker);
	sort_faults(sc);
	/* failback in half the seeds, from a stream of its own: every other
	 * draw of a seed stays what it was before the key existed */
	fb.x ^= seed;
	if (chance(&fb, 50)) {
		sc->client_policy.failback_after_ms = 100 * rnd(&fb, 5, 100);
		sc->server_policy.failback_after_ms =
			sc->client_policy.failback_after_ms;
	}
	/* the data-path watch (issue 11): off in one seed of five, else
	 * 1..8 SRTTs over a floor of 10..500 ms, from a stream of its own */
	ds.x ^= seed;
	sc->client_policy.data_silence_rtts =
		chance(&ds, 20) ? 0 : (uint32_t)rnd(&ds, 1, 8);
	sc->client_policy.data_silence_floor_ms = 10 * rnd(&ds, 1, 50);
	sc->server_policy.data_silence_rtts = sc->client_policy.data_silence_rtts;
	sc->server_policy.data_silence_floor_ms =
		sc->client_policy.data_silence_floor_ms;
}

/* ---- the schedule: which path is viable when ---- */

struct pstate {
	bool up[2];
	double loss[2];
	uint32_t lat[2];
	bool flap;
	uint64_t flap_until;
};

static void set2(struct pstate *s, enum jv_sim_dir dir, int what,
		 const struct jv_sim_fault *f)
{
	for (int d = 0; d < 2; d++) {
		if ((d == 0 && dir == JV_SIM_DOWNSTREAM) ||
		    (d == 1 && dir == JV_SIM_UPSTREAM))
			continue;
		if (what == 0)
			s->up[d] = f->action == JV_SIM_UP;
		else if (what == 1)
			s->loss[d] = f->ratio;
		else
			s->lat[d] = f->ms;
	}
}

/* The state of path p at time t, as sim/run.c makes it. */
static void path_at(const struct jv_scenario *sc, int p, uint64_t t,
		    struct pstate *s)
{
	memset(s, 0, sizeof(*s));
	for (int d = 0; d < 2; d++) {
		s->up[d] = true;
		s->loss[d] = sc->paths[p].loss;
		s->lat[d] = sc->paths[p].latency_ms;
	}
	for (uint32_t i = 0; i < sc->nfaults && sc->faults[i].at_ms <= t; i++) {
		const struct jv_sim_fault *f = &sc->faults[i];

		if (s->flap && s->flap_until <= f->at_ms) {
			s->flap = false;
			s->up[0] = s->up[1] = true;
		}
		if (f->path != p)
			continue;
		switch (f->action) {
		case JV_SIM_DOWN:
		case JV_SIM_UP:
			set2(s, f->dir, 0, f);
			s->flap = false;
			break;
		case JV_SIM_LINK_DOWN:
		case JV_SIM_LINK_UP:
			s->up[0] = s->up[1] = f->action == JV_SIM_LINK_UP;
			break;
		case JV_SIM_LOSS:
			set2(s, f->dir, 1, f);
			break;
		case JV_SIM_LATENCY:
			set2(s, f->dir, 2, f);
			break;
		case JV_SIM_FLAP:
			s->flap = true;
			s->flap_until = f->until_ms;
			break;
		default:
			break;
		}
	}
	if (s->flap && s->flap_until <= t) {
		s->flap = false;
		s->up[0] = s->up[1] = true;
	}
}

/* The latency a viable path may have: far below every timer that reads
 * it (proof age, heartbeat silence, the latency threshold). */
static uint64_t lat_max(const struct jv_policy *p)
{
	uint64_t m = 100;

	if (p->reattach_proof_max_age_ms / 4 < m)
		m = p->reattach_proof_max_age_ms / 4;
	if (p->heartbeat_volatile_ms / 4 < m)
		m = p->heartbeat_volatile_ms / 4;
	if (p->latency_volatile_threshold_ms &&
	    p->latency_volatile_threshold_ms / 4 < m)
		m = p->latency_volatile_threshold_ms / 4;
	return m;
}

/* Viable at one instant: a candidate the policy allows, up both ways, no
 * loss at all, not flapping, latency far below the timers. */
static bool viable_state(const struct jv_scenario *sc, const struct jv_policy *pol,
			 int p, const struct pstate *s)
{
	if ((uint32_t)p >= sc->client_policy.max_candidate_count ||
	    !(sc->client_policy.allowed_protocols & sc->paths[p].proto) ||
	    !(sc->server_policy.allowed_protocols & sc->paths[p].proto) ||
	    s->flap)
		return false;
	for (int d = 0; d < 2; d++)
		if (!s->up[d] || s->loss[d] > 0 || s->lat[d] > lat_max(pol))
			return false;
	return true;
}

/* Viable throughout [a, b]: at a and after every change of the schedule
 * up to b (a flap's end only makes a path better). */
static bool viable_over(const struct jv_scenario *sc,
			const struct jv_policy *pol, int p, uint64_t a,
			uint64_t b)
{
	struct pstate s;

	path_at(sc, p, a, &s);
	if (!viable_state(sc, pol, p, &s))
		return false;
	for (uint32_t i = 0; i < sc->nfaults; i++) {
		uint64_t t = sc->faults[i].at_ms;

		if (t <= a || t > b)
			continue;
		path_at(sc, p, t, &s);
		if (!viable_state(sc, pol, p, &s))
			return false;
	}
	return true;
}

static int viable_path(const struct jv_scenario *sc,
		       const struct jv_policy *pol, uint64_t a, uint64_t b)
{
	for (uint32_t p = 0; p < sc->npaths; p++)
		if (viable_over(sc, pol, (int)p, a, b))
			return (int)p;
	return -1;
}

/* replay, forge, relay: someone else's datagrams reach the server */
static bool has_attack(const struct jv_scenario *sc)
{
	for (uint32_t i = 0; i < sc->nfaults; i++) {
		enum jv_sim_action a = sc->faults[i].action;

		if (a == JV_SIM_REPLAY || a == JV_SIM_FORGE || a == JV_SIM_RELAY)
			return true;
	}
	return false;
}

static bool has_action(const struct jv_scenario *sc, enum jv_sim_action a)
{
	for (uint32_t i = 0; i < sc->nfaults; i++)
		if (sc->faults[i].action == a)
			return true;
	return false;
}

/* How long a session may take to find and attach a viable path it is not
 * on: notice the loss, wait for the window, probe, sit out a cooldown,
 * time out one recovery window and win the next, with room to spare. */
static uint64_t settle_ms(const struct jv_policy *p)
{
	return p->heartbeat_volatile_ms + p->volatile_to_degraded_ms +
	       p->loss_window_ms + 2 * p->probe_interval_ms +
	       p->switch_cooldown_ms + 2 * p->recovery_window_ms +
	       4 * lat_max(p) + 2000;
}

/* ---- the checker ---- */

struct fsess {
	char sid[33];
	int node;
	uint64_t created;
	bool term;
	uint32_t denied;           /* ReattachResult DENIED since a SUCCESS */
	struct times { int64_t *at; size_t n, cap; }
		sw,                /* its TransportSwitch times */
		att;               /* the client's ReattachAttempt times: what
				    * its limiter counts (a reattach to the
				    * same transport too) */
};

static bool times_push(struct times *t, int64_t at)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? 2 * t->cap : 16;
		int64_t *nw = realloc(t->at, ncap * sizeof(*nw));

		if (!nw)
			return false;
		t->at = nw;
		t->cap = ncap;
	}
	t->at[t->n++] = at;
	return true;
}

/* How many of t lie in (since - 60 s, ...]. */
static size_t times_within_minute_of(const struct times *t, int64_t since)
{
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++)
		n += t->at[i] > since - 60000;
	return n;
}

struct chk {
	const struct jv_scenario *sc;      /* as the checker holds it */
	struct jv_fuzz_verdict *v;
	struct fsess *s;
	size_t ns, cs;
	int client_live;                   /* the client's latest session */
};

/* the policy the node runs (a scenario may give each its own) */
static const struct jv_policy *pol(const struct chk *c, int node)
{
	return node ? &c->sc->server_policy : &c->sc->client_policy;
}

static struct fsess *sess(struct chk *c, int node, const char *sid, bool make)
{
	struct fsess *n;

	for (size_t i = 0; i < c->ns; i++)
		if (c->s[i].node == node && strcmp(c->s[i].sid, sid) == 0)
			return &c->s[i];
	if (!make)
		return NULL;
	if (c->ns == c->cs) {
		size_t ncap = c->cs ? 2 * c->cs : 8;

		n = realloc(c->s, ncap * sizeof(*n));
		if (!n)
			return NULL;
		c->s = n;
		c->cs = ncap;
	}
	n = &c->s[c->ns++];
	memset(n, 0, sizeof(*n));
	snprintf(n->sid, sizeof(n->sid), "%s", sid);
	n->node = node;
	return n;
}

static bool fail(struct chk *c, enum jv_fuzz_rule r, int node, uint64_t at,
		 const char *reason, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static bool fail(struct chk *c, enum jv_fuzz_rule r, int node, uint64_t at,
		 const char *reason, const char *fmt, ...)
{
	va_list ap;
	int n;

	c->v->rule = r;
	c->v->role = node;
	c->v->at_ms = at;
	snprintf(c->v->reason, sizeof(c->v->reason), "%s", reason ? reason : "");
	n = snprintf(c->v->why, sizeof(c->v->why), "%s at %llu ms: ",
		     node ? "server" : "client", (unsigned long long)at);
	va_start(ap, fmt);
	vsnprintf(c->v->why + n, sizeof(c->v->why) - (size_t)n, fmt, ap);
	va_end(ap);
	return true;
}

static const char *jstr(json_t *e, const char *k)
{
	const char *s = json_string_value(json_object_get(e, k));

	return s ? s : "";
}

static uint64_t jint(json_t *e, const char *k)
{
	return (uint64_t)json_integer_value(json_object_get(e, k));
}

/* At most max switches of one session in any (ts - 60 s, ts]. */
static bool on_switch(struct chk *c, struct fsess *s, uint64_t ts)
{
	uint32_t max = pol(c, s->node)->max_switches_per_min, n;

	if (!times_push(&s->sw, (int64_t)ts))
		return false;
	n = (uint32_t)times_within_minute_of(&s->sw, (int64_t)ts);
	if (n > max) {
		c->v->max = max;
		return fail(c, JV_FZ_SWITCH_RATE, s->node, ts, NULL,
			    "%u switches of session %.8s within 60 s, "
			    "max_switches_per_min is %u", n, s->sid, max);
	}
	return false;
}

/* A ->TERMINATED change: may the schedule explain its reason? */
static bool on_terminate(struct chk *c, struct fsess *s, const char *why,
			 uint64_t ts)
{
	const struct jv_scenario *sc = c->sc;
	const struct jv_policy *p = pol(c, s->node);
	struct fsess *o;

	s->term = true;
	c->v->st.terms++;
	c->v->st.ttl_terms += !strcmp(why, "transport_ttl_exceeded");
	if (!strcmp(why, "operator_terminated")) {
		for (uint32_t i = 0; i < sc->nfaults; i++)
			if (sc->faults[i].action == JV_SIM_OPERATOR_TERMINATE &&
			    sc->faults[i].node == s->node &&
			    sc->faults[i].at_ms <= ts)
				return false;
		return fail(c, JV_FZ_TERM_REASON, s->node, ts, why,
			    "operator_terminated, no operator did");
	}
	if (!strcmp(why, "peer_terminated")) {
		o = sess(c, !s->node, s->sid, false);
		/* the peer ended it first; or a server session the client
		 * never had (a handshake it gave up on) */
		if ((o && o->term) || (!o && s->node == 1))
			return false;
		return fail(c, JV_FZ_TERM_REASON, s->node, ts, why,
			    "peer_terminated, but the peer still holds "
			    "session %.8s", s->sid);
	}
	if (!strcmp(why, "security_failure") && s->denied <= p->max_reattach_failures)
		return fail(c, JV_FZ_TERM_REASON, s->node, ts, why,
			    "security_failure after %u denied reattaches "
			    "(max_reattach_failures %u)", s->denied,
			    p->max_reattach_failures);
	/* no attacker, and a path that never faltered: only the clocks, an
	 * operator or the peer end a session */
	if ((!strcmp(why, "security_failure") || !strcmp(why, "handshake_failed")) &&
	    !has_attack(sc) && viable_path(sc, p, 0, sc->duration_ms) >= 0)
		return fail(c, JV_FZ_TERM_REASON, s->node, ts, why,
			    "%s with no attacker and path %s healthy "
			    "throughout", why,
			    sc->paths[viable_path(sc, p, 0, sc->duration_ms)].id);
	return false;
}

/* A termination for a limit: the age it reports (age_name) is the
 * policy's limit (limit_name) or one tick past it, never short of it. */
static bool term_at_limit(struct chk *c, const struct fsess *s, uint64_t ts,
			  const char *why, const char *age_name, uint64_t age,
			  const char *limit_name, uint64_t limit)
{
	if (age < limit)
		return fail(c, JV_FZ_TERM_EARLY, s->node, ts, why,
			    "%s %llu < %s %llu", age_name,
			    (unsigned long long)age, limit_name,
			    (unsigned long long)limit);
	if (age > limit + 1)
		return fail(c, JV_FZ_TERM_LATE, s->node, ts, why,
			    "%s %llu, %s %llu", age_name,
			    (unsigned long long)age, limit_name,
			    (unsigned long long)limit);
	return false;
}

/* SessionTerminated: the ages against the policy; TTL expiry while a
 * viable path stood by long enough to be taken. */
static bool on_terminated(struct chk *c, struct fsess *s, json_t *e,
			  uint64_t ts)
{
	const struct jv_scenario *sc = c->sc;
	const struct jv_policy *p = pol(c, s->node);
	const char *why = jstr(e, "reason_code");
	uint64_t age = jint(e, "session_age_ms");
	uint64_t lost = jint(e, "transportless_age_ms");
	uint64_t m = settle_ms(p);
	struct fsess *cl;
	uint32_t recent = 0;
	int vp;

	if (!strcmp(why, "session_lifetime_exceeded") &&
	    term_at_limit(c, s, ts, why, "session_age_ms", age,
			  "max_lifetime_ms", p->max_lifetime_ms))
		return true;
	if (strcmp(why, "transport_ttl_exceeded"))
		return false;
	if (term_at_limit(c, s, ts, why, "transportless_age_ms", lost,
			  "transport_lost_ttl_ms", p->transport_lost_ttl_ms))
		return true;
	if (has_attack(sc) || has_action(sc, JV_SIM_DROP) || lost < m || ts < m)
		return false;
	c->v->st.ttl_checked++;
	/* a limiter that had no switch left may keep it waiting: it counts
	 * every reattach the client started */
	cl = sess(c, 0, s->sid, false);
	if (cl)
		recent = (uint32_t)times_within_minute_of(&cl->att,
							  (int64_t)(ts - m));
	if (recent + 1 >= p->max_switches_per_min)
		return false;
	if ((vp = viable_path(sc, p, ts - m, ts)) < 0)
		return false;
	return fail(c, JV_FZ_TTL_WITH_VIABLE, s->node, ts, why,
		    "transport_ttl_exceeded (transportless %llu ms) while "
		    "path %s was viable for the last %llu ms", (unsigned long long)lost,
		    sc->paths[vp].id, (unsigned long long)m);
}

static bool check_event(struct chk *c, json_t *e)
{
	const char *type = jstr(e, "event_type"), *sid = jstr(e, "session_id");
	int node = strcmp(jstr(e, "role"), "client") != 0;
	uint64_t ts = jint(e, "ts_ms");
	struct fsess *s;

	c->v->st.events++;
	c->v->st.denials += !strcmp(type, "TransportSwitchDenied");
	c->v->st.switches += !strcmp(type, "TransportSwitch") && node == 0;
	if (!*sid)
		return false;
	if (node == 0 && !strcmp(type, "SessionCreated")) {
		if (c->client_live >= 0 && !c->s[c->client_live].term)
			return fail(c, JV_FZ_SESSION_RESET, 0, ts, NULL,
				    "SessionCreated %.8s while session %.8s lives",
				    sid, c->s[c->client_live].sid);
		s = sess(c, 0, sid, true);
		if (!s)
			return false;
		s->created = ts;
		c->client_live = (int)(s - c->s);
		return false;
	}
	if (node == 0 && (c->client_live < 0 ||
			  strcmp(c->s[c->client_live].sid, sid) != 0))
		return fail(c, JV_FZ_FOREIGN_SESSION, 0, ts, NULL,
			    "%s of session %.8s, the client's is %.8s", type,
			    sid, c->client_live < 0 ? "(none)"
						    : c->s[c->client_live].sid);
	s = sess(c, node, sid, true);
	if (!s)
		return false;
	if (!strcmp(type, "SessionCreated"))
		s->created = ts;
	else if (!strcmp(type, "TransportSwitch"))
		return on_switch(c, s, ts);
	else if (!strcmp(type, "ReattachAttempt") && node == 0)
		times_push(&s->att, (int64_t)ts);   /* lost on OOM: only looser */
	else if (!strcmp(type, "ReattachResult"))
		s->denied = strcmp(jstr(e, "status"), "DENIED") ? 0 : s->denied + 1;
	else if (!strcmp(type, "SessionStateChange") &&
		 !strcmp(jstr(e, "new_state"), "TERMINATED"))
		return on_terminate(c, s, jstr(e, "reason_code"), ts);
	else if (!strcmp(type, "SessionTerminated"))
		return on_terminated(c, s, e, ts);
	return false;
}

int jv_fuzz_run(const struct jv_scenario *sc, const struct jv_fuzz_opts *o,
		struct jv_fuzz_verdict *v)
{
	struct jv_scenario *run = malloc(sizeof(*run));
	struct jv_sim_result res;
	struct chk c = { .sc = sc, .v = v, .client_live = -1 };
	int rc;

	memset(v, 0, sizeof(*v));
	if (!run)
		return JV_ERR_NOMEM;
	*run = *sc;
	/* the planted bug: the endpoints' limiter allows one switch more */
	if (o->plant_limiter) {
		run->client_policy.max_switches_per_min++;
		run->server_policy.max_switches_per_min++;
	}
	rc = jv_sim_run(run, &res);
	free(run);
	if (rc != 0) {
		v->rule = JV_FZ_SIM_ERROR;
		snprintf(v->why, sizeof(v->why), "%s", res.why);
		jv_sim_result_free(&res);
		return 0;
	}
	v->st.attacked_runs = has_attack(sc);
	v->st.quiet_runs = !has_attack(sc) &&
			   viable_path(sc, &sc->client_policy, 0, sc->duration_ms) >= 0;
	for (size_t i = 0; i < res.nlines; i++) {
		json_t *e = json_loads(res.lines[i], 0, NULL);
		bool bad = e && check_event(&c, e);

		json_decref(e);
		if (bad)
			break;
	}
	for (size_t i = 0; i < c.ns; i++) {
		free(c.s[i].sw.at);
		free(c.s[i].att.at);
	}
	free(c.s);
	/* one limit for both nodes: the larger (each is held to its own
	 * above) */
	if (v->rule == JV_FZ_OK && o->verify &&
	    o->verify(res.lines, res.nlines,
		      sc->client_policy.max_switches_per_min >
				      sc->server_policy.max_switches_per_min ?
			      sc->client_policy.max_switches_per_min :
			      sc->server_policy.max_switches_per_min,
		      v->why, sizeof(v->why)) != 0)
		v->rule = JV_FZ_AUDIT;
	jv_sim_result_free(&res);
	return 0;
}

/* ---- shrinking ---- */

struct shrink {
	const struct jv_fuzz_opts *o;
	struct jv_fuzz_verdict want;
	unsigned runs, budget;
};

/* Does cand break the same rule (with the same reason)? */
static bool still(struct shrink *k, const struct jv_scenario *cand,
		  struct jv_fuzz_verdict *out)
{
	struct jv_fuzz_verdict v;

	if (k->runs >= k->budget)
		return false;
	k->runs++;
	if (jv_fuzz_run(cand, k->o, &v) != 0 || v.rule != k->want.rule ||
	    strcmp(v.reason, k->want.reason) != 0)
		return false;
	*out = v;
	return true;
}

static bool faults_ok(const struct jv_scenario *sc)
{
	for (uint32_t i = 0; i < sc->nfaults; i++)
		if (sc->faults[i].at_ms > sc->duration_ms)
			return false;
	return true;
}

/* ddmin over the fault list: drop chunks while the failure stays. */
static void ddmin(struct shrink *k, struct jv_scenario *sc,
		  struct jv_scenario *t, struct jv_fuzz_verdict *v)
{
	uint32_t n = 2;

	while (sc->nfaults > 0) {
		uint32_t nf = sc->nfaults, chunk = (nf + n - 1) / n;
		bool cut = false;

		if (chunk == 0)
			chunk = 1;
		for (uint32_t start = 0; start < nf; start += chunk) {
			uint32_t end = start + chunk < nf ? start + chunk : nf;

			*t = *sc;
			t->nfaults = 0;
			for (uint32_t i = 0; i < nf; i++)
				if (i < start || i >= end)
					t->faults[t->nfaults++] = sc->faults[i];
			if (still(k, t, v)) {
				*sc = *t;
				n = n > 2 ? n - 1 : 2;
				cut = true;
				break;
			}
		}
		if (cut)
			continue;
		if (n >= nf)
			break;
		n = 2 * n < nf ? 2 * n : nf;
	}
}

/* Without path p: its faults go, later paths move down one. */
static void drop_path(const struct jv_scenario *sc, struct jv_scenario *t,
		      int p)
{
	*t = *sc;
	for (uint32_t i = (uint32_t)p; i + 1 < sc->npaths; i++)
		t->paths[i] = sc->paths[i + 1];
	t->npaths--;
	t->nfaults = 0;
	for (uint32_t i = 0; i < sc->nfaults; i++) {
		struct jv_sim_fault f = sc->faults[i];

		if (f.path == p || f.via == p)
			continue;
		if (f.path > p)
			f.path--;
		if (f.via > p)
			f.via--;
		t->faults[t->nfaults++] = f;
	}
	if (t->client_policy.max_candidate_count > t->npaths &&
	    sc->client_policy.max_candidate_count > sc->npaths)
		t->client_policy.max_candidate_count =
			t->server_policy.max_candidate_count = t->npaths;
}

#define PF(f) { offsetof(struct jv_policy, f), \
		sizeof(((struct jv_policy *)0)->f) }
static const struct {
	size_t off, size;
} policy_fields[] = {
	PF(max_lifetime_ms), PF(transport_lost_ttl_ms),
	PF(heartbeat_interval_ms), PF(heartbeat_volatile_ms),
	PF(loss_window_ms), PF(loss_volatile_threshold),
	PF(max_consecutive_drops), PF(volatile_to_degraded_ms),
	PF(latency_volatile_threshold_ms), PF(max_switches_per_min),
	PF(switch_cooldown_ms), PF(recovery_window_ms),
	PF(switch_improvement_factor), PF(allowed_protocols),
	PF(max_candidate_count), PF(probe_interval_ms),
	PF(enforce_hysteresis), PF(reattach_proof_max_age_ms),
	PF(replay_window_size), PF(max_reattach_failures), PF(rekey_after_ms),
	PF(failback_after_ms), PF(data_silence_rtts),
	PF(data_silence_floor_ms), PF(resend_max_bytes),
};
#undef PF

/* Tries one simplification; keeps it if the failure stays. */
static bool try(struct shrink *k, struct jv_scenario *sc,
		struct jv_scenario *t, struct jv_fuzz_verdict *v)
{
	if (!faults_ok(t) ||
	    jv_policy_validate(&t->client_policy, "fuzz", NULL) != 0 ||
	    !still(k, t, v))
		return false;
	*sc = *t;
	return true;
}

static void simplify(struct shrink *k, struct jv_scenario *sc,
		     struct jv_scenario *t, struct jv_fuzz_verdict *v)
{
	struct jv_policy def;

	/* fewer paths */
	for (int p = (int)sc->npaths - 1; p >= 0 && sc->npaths > 1; p--) {
		drop_path(sc, t, p);
		try(k, sc, t, v);
	}
	/* shorter: end soon after the violation, or at half */
	if (v->at_ms && v->at_ms + 1000 < sc->duration_ms) {
		*t = *sc;
		t->duration_ms = (v->at_ms / 1000 + 2) * 1000;
		try(k, sc, t, v);
	}
	while (sc->duration_ms > 2000) {
		*t = *sc;
		t->duration_ms = sc->duration_ms / 2000 * 1000;
		if (!try(k, sc, t, v))
			break;
	}
	/* plainer values */
	*t = *sc;
	t->reconnect = false;
	try(k, sc, t, v);
	for (uint32_t r = 0; r < 2 && sc->rate_pps; r++) {
		*t = *sc;
		t->rate_pps = r == 0 ? 0 : 20;
		if (t->rate_pps < sc->rate_pps && try(k, sc, t, v))
			break;
	}
	for (uint32_t i = 0; i < sc->npaths; i++) {
		*t = *sc;
		t->paths[i].loss = 0;
		if (sc->paths[i].loss > 0)
			try(k, sc, t, v);
		*t = *sc;
		t->paths[i].latency_ms = 10;
		if (sc->paths[i].latency_ms != 10)
			try(k, sc, t, v);
	}
	for (uint32_t i = 0; i < sc->nfaults; i++) {
		struct jv_sim_fault *f = &t->faults[i];

		*t = *sc;
		if (f->dir != JV_SIM_BOTH) {
			f->dir = JV_SIM_BOTH;
			try(k, sc, t, v);
			*t = *sc;
		}
		if (f->action == JV_SIM_LOSS && f->ratio > 0 && f->ratio < 1) {
			f->ratio = 1;
			try(k, sc, t, v);
		}
	}
	/* the policy back to its defaults, one key at a time */
	jv_policy_defaults(&def);
	for (size_t i = 0; i < sizeof(policy_fields) / sizeof(policy_fields[0]); i++) {
		size_t off = policy_fields[i].off, sz = policy_fields[i].size;

		if (!memcmp((char *)&sc->client_policy + off, (char *)&def + off, sz))
			continue;
		*t = *sc;
		memcpy((char *)&t->client_policy + off, (char *)&def + off, sz);
		memcpy((char *)&t->server_policy + off, (char *)&def + off, sz);
		try(k, sc, t, v);
	}
}

unsigned jv_fuzz_shrink(struct jv_scenario *sc, const struct jv_fuzz_opts *o,
			struct jv_fuzz_verdict *v)
{
	struct shrink k = { .o = o, .want = *v, .budget = 4000 };
	struct jv_scenario *t = malloc(sizeof(*t));

	if (!t)
		return 0;
	for (int round = 0; round < 2; round++) {
		ddmin(&k, sc, t, v);
		simplify(&k, sc, t, v);
	}
	ddmin(&k, sc, t, v);
	free(t);
	return k.runs;
}

/* ---- the scenario file ---- */

static const char *action_name(enum jv_sim_action a)
{
	static const char *const n[] = {
		[JV_SIM_DOWN] = "down", [JV_SIM_UP] = "up",
		[JV_SIM_LOSS] = "loss", [JV_SIM_LATENCY] = "latency",
		[JV_SIM_FLAP] = "flap",
		[JV_SIM_OPERATOR_TERMINATE] = "operator_terminate",
		[JV_SIM_REPLAY] = "replay", [JV_SIM_FORGE] = "forge",
		[JV_SIM_LINK_DOWN] = "link_down", [JV_SIM_LINK_UP] = "link_up",
		[JV_SIM_DROP] = "drop", [JV_SIM_RELAY] = "relay",
	};
	return n[a];
}

static const char *message_name(enum jv_sim_msg m)
{
	return m == JV_SIM_MSG_REATTACH ? "reattach" :
	       m == JV_SIM_MSG_REATTACH_ACK ? "reattach_ack" : "hs_resp";
}

/* The keys whose value differs from the defaults, under `policy:`. */
static void write_policy(FILE *f, const struct jv_policy *p)
{
	char a[4096], b[4096], sec[64] = "";
	struct jv_policy def;
	char *la, *lb, *sa, *sb;
	bool any = false, sec_out = false;

	jv_policy_defaults(&def);
	if (jv_policy_format(&def, a, sizeof(a)) < 0 ||
	    jv_policy_format(p, b, sizeof(b)) < 0)
		return;
	for (la = strtok_r(a, "\n", &sa), lb = strtok_r(b, "\n", &sb); la && lb;
	     la = strtok_r(NULL, "\n", &sa), lb = strtok_r(NULL, "\n", &sb)) {
		if (la[0] != ' ') {
			snprintf(sec, sizeof(sec), "%s", la);
			sec_out = false;
			continue;
		}
		if (!strcmp(la, lb))
			continue;
		if (!any)
			fprintf(f, "policy:\n");
		if (!sec_out)
			fprintf(f, "  %s\n", sec);
		fprintf(f, "  %s\n", lb);
		any = sec_out = true;
	}
}

static void write_fault(FILE *f, const struct jv_scenario *sc,
			const struct jv_sim_fault *x)
{
	static const char *const dirs[] = { "both", "up", "down" };

	fprintf(f, "  - { at_ms: %llu, action: %s", (unsigned long long)x->at_ms,
		action_name(x->action));
	if (x->path >= 0)
		fprintf(f, ", path: %s", sc->paths[x->path].id);
	if (x->dir != JV_SIM_BOTH &&
	    (x->action == JV_SIM_DOWN || x->action == JV_SIM_UP ||
	     x->action == JV_SIM_LOSS || x->action == JV_SIM_LATENCY ||
	     x->action == JV_SIM_FLAP))
		fprintf(f, ", direction: %s", dirs[x->dir]);
	switch (x->action) {
	case JV_SIM_LOSS:
		fprintf(f, ", ratio: %.3f", x->ratio);
		break;
	case JV_SIM_LATENCY:
		fprintf(f, ", ms: %u", x->ms);
		break;
	case JV_SIM_FLAP:
		fprintf(f, ", period_ms: %llu, until_ms: %llu",
			(unsigned long long)x->period_ms,
			(unsigned long long)x->until_ms);
		break;
	case JV_SIM_OPERATOR_TERMINATE:
		fprintf(f, ", node: %s", x->node ? "server" : "client");
		break;
	case JV_SIM_REPLAY:
		fprintf(f, ", message: reattach");
		break;
	case JV_SIM_FORGE:
		fprintf(f, ", message: %s", message_name(x->message));
		if (x->message == JV_SIM_MSG_HS_RESP) {
			fprintf(f, ", ms: %u", x->ms);
			if (x->until_ms != UINT64_MAX)
				fprintf(f, ", until_ms: %llu",
					(unsigned long long)x->until_ms);
		}
		break;
	case JV_SIM_DROP:
		fprintf(f, ", message: reattach_ack, count: %u", x->count);
		break;
	case JV_SIM_RELAY:
		fprintf(f, ", message: reattach, via: %s", sc->paths[x->via].id);
		if (x->until_ms != UINT64_MAX)
			fprintf(f, ", until_ms: %llu",
				(unsigned long long)x->until_ms);
		break;
	default:
		break;
	}
	fprintf(f, " }\n");
}

int jv_fuzz_write(FILE *f, const struct jv_scenario *sc,
		  const struct jv_fuzz_verdict *v)
{
	const char *role = v->role ? "server" : "client";

	fprintf(f, "# Found by `jvpn sim --fuzz` (seed %llu) and shrunk.\n"
		"# Broken guarantee: %s\n#   %s\n",
		(unsigned long long)sc->seed, jv_fuzz_rule_name(v->rule), v->why);
	fprintf(f, "name: \"fuzz seed %llu: %s\"\nseed: %llu\nduration_ms: %llu\n",
		(unsigned long long)sc->seed, jv_fuzz_rule_name(v->rule),
		(unsigned long long)sc->seed,
		(unsigned long long)sc->duration_ms);
	write_policy(f, &sc->client_policy);
	fprintf(f, "paths:\n");
	for (uint32_t i = 0; i < sc->npaths; i++) {
		const struct jv_sim_path_cfg *p = &sc->paths[i];

		fprintf(f, "  - { id: %s, proto: %s, latency_ms: %u", p->id,
			jv_proto_name(p->proto), p->latency_ms);
		if (p->loss > 0)
			fprintf(f, ", loss: %.3f", p->loss);
		fprintf(f, " }\n");
	}
	if (sc->rate_pps)
		fprintf(f, "traffic: { rate_pps: %u }\n", sc->rate_pps);
	if (sc->reconnect)
		fprintf(f, "on_terminated: reconnect\n");
	if (sc->nfaults)
		fprintf(f, "faults:\n");
	for (uint32_t i = 0; i < sc->nfaults; i++)
		write_fault(f, sc, &sc->faults[i]);
	switch (v->rule) {
	case JV_FZ_SWITCH_RATE:
		fprintf(f, "expect:\n  count:\n"
			"    # the sliding 60 s that ends with the offending switch\n"
			"    - { role: %s, event_type: TransportSwitch, ", role);
		if (v->at_ms >= 59999)
			fprintf(f, "after_ms: %llu, ",
				(unsigned long long)v->at_ms - 59999);
		fprintf(f, "before_ms: %llu, max: %u }\n",
			(unsigned long long)v->at_ms + 1, v->max);
		break;
	case JV_FZ_TERM_REASON:
	case JV_FZ_TTL_WITH_VIABLE:
		fprintf(f, "expect:\n  absent:\n"
			"    - { role: %s, event_type: SessionTerminated, "
			"reason_code: %s }\n", role, v->reason);
		break;
	case JV_FZ_SESSION_RESET:
	case JV_FZ_FOREIGN_SESSION:
		fprintf(f, "# no expect key says \"no new session while one "
			"lives\"; `jvpn sim --invariants` does\n");
		break;
	case JV_FZ_AUDIT:
		fprintf(f, "# tests/sim/run-scenario.sh runs `jvpn audit verify` "
			"on the events\n");
		break;
	default:
		fprintf(f, "# no expect key encodes it; `jvpn sim --invariants` "
			"checks it\n");
		break;
	}
	return ferror(f) ? -1 : 0;
}
