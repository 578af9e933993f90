/* Parses a `jvpn sim` scenario (CONTRACT section 7, plus the extensions in
 * docs/simulator.md) as tables on core/schema.c. Strict: unknown keys,
 * keys given twice, missing required keys and bad values are errors
 * naming file, line and key. */
#include <stdio.h>
#include <string.h>

#include "core/fsm.h"
#include "core/schema.h"
#include "core/yamlx.h"
#include "sim/sim.h"

/* Read once every other key is: the policies layer in a fixed order, and
 * faults name paths. */
struct ctx {
	struct jv_scenario *sc;
	yaml_node_t *policy, *client_policy, *server_policy, *faults;
};

#define SC(st, m) offsetof(st, m), .size = sizeof(((st *)0)->m)

/* ---- values ---- */

static int stash(struct jv_sctx *c, const struct jv_srow *r, yaml_node_t *v,
		 void *slot)
{
	struct ctx *x = c->user;

	(void)slot;
	if (!strcmp(r->key, "policy"))
		x->policy = v;
	else if (!strcmp(r->key, "client_policy"))
		x->client_policy = v;
	else if (!strcmp(r->key, "server_policy"))
		x->server_policy = v;
	else
		x->faults = v;
	return JV_OK;
}

/* The index of the path named ("path", "via"). */
static int parse_path_ref(struct jv_sctx *c, const struct jv_srow *r,
			  yaml_node_t *v, void *slot)
{
	const struct jv_scenario *sc = ((struct ctx *)c->user)->sc;
	const char *id;
	char t[48];
	int rc;

	(void)r;
	if ((rc = jv_schema_text(c, v, &id)))
		return rc;
	for (uint32_t i = 0; i < sc->npaths; i++)
		if (strcmp(sc->paths[i].id, id) == 0) {
			*(int *)slot = (int)i;
			return JV_OK;
		}
	return jv_schema_fail(c, JV_ERR_INVAL, v, "%s: no path named '%s'",
			      c->key, jv_schema_shown(id, strlen(id), t, sizeof(t)));
}

static int parse_state(struct jv_sctx *c, const struct jv_srow *r,
		       yaml_node_t *v, void *slot)
{
	const char *s;
	char t[48];
	int rc;

	(void)r;
	if ((rc = jv_schema_text(c, v, &s)))
		return rc;
	*(int *)slot = jv_state_from_name(s);
	if (*(int *)slot < 0)
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: unknown session state '%s'", c->key,
				      jv_schema_shown(s, strlen(s), t, sizeof(t)));
	return JV_OK;
}

static const struct jv_srow ms_row = {
	.type = JV_ST_U64, .max = UINT64_MAX,
};

/* A matcher: event fields to compare as text, and an optional ts_ms
 * window; skip names keys someone else reads (a count's min and max). */
static int matcher(struct jv_sctx *c, yaml_node_t *m,
		   struct jv_sim_matcher *out, const char *const *skip)
{
	char path[sizeof(c->key)], name[sizeof(c->key)];
	int rc;

	memset(out, 0, sizeof(*out));
	out->before_ms = UINT64_MAX;
	out->line = jv_yaml_line(m);
	snprintf(path, sizeof(path), "%s", c->key);
	if (m->type != YAML_MAPPING_NODE)
		return jv_schema_type_error(c, m, "a mapping of event fields");
	if ((rc = jv_schema_unique_keys(c, m, path)))
		return rc;
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		yaml_node_t *kn = yaml_document_get_node(c->doc, p->key);
		yaml_node_t *vn = yaml_document_get_node(c->doc, p->value);
		const char *k = jv_yaml_str(kn), *v = jv_yaml_str(vn);
		bool skipped = false;

		for (int i = 0; skip && skip[i]; i++)
			skipped |= strcmp(k, skip[i]) == 0;
		if (skipped)
			continue;
		jv_schema_join(name, sizeof(name), path, k);
		if (!strcmp(k, "after_ms") &&
		    (rc = jv_schema_value(c, &ms_row, vn, name, &out->after_ms)))
			return rc;
		if (!strcmp(k, "before_ms") &&
		    (rc = jv_schema_value(c, &ms_row, vn, name, &out->before_ms)))
			return rc;
		if (!strcmp(k, "after_ms") || !strcmp(k, "before_ms"))
			continue;
		if (!v)
			return jv_schema_fail(c, JV_ERR_INVAL, kn,
					      "%s: keys and values must be scalars",
					      path);
		if (out->n == JV_SIM_MAX_KV || strlen(k) >= sizeof(out->key[0]) ||
		    strlen(v) >= sizeof(out->val[0]))
			return jv_schema_fail(c, JV_ERR_INVAL, kn,
					      "%s: too many or too long fields",
					      path);
		snprintf(out->key[out->n], sizeof(out->key[0]), "%s", k);
		snprintf(out->val[out->n], sizeof(out->val[0]), "%s", v);
		out->n++;
	}
	if (out->n == 0 && out->after_ms == 0 && out->before_ms == UINT64_MAX)
		return jv_schema_fail(c, JV_ERR_INVAL, m,
				      "%s: a matcher needs at least one field",
				      path);
	return JV_OK;
}

static int parse_matcher(struct jv_sctx *c, const struct jv_srow *r,
			 yaml_node_t *v, void *slot)
{
	(void)r;
	return matcher(c, v, slot, NULL);
}

static int parse_count(struct jv_sctx *c, const struct jv_srow *r,
		       yaml_node_t *v, void *slot)
{
	static const char *const bounds[] = { "min", "max", NULL };
	static const struct jv_srow bound = { .type = JV_ST_U64, .max = 1000000 };
	struct jv_sim_count *k = slot;
	char path[sizeof(c->key)], name[sizeof(c->key)];
	int64_t *out[] = { &k->min, &k->max };
	int rc;

	(void)r;
	snprintf(path, sizeof(path), "%s", c->key);
	if ((rc = matcher(c, v, &k->m, bounds)))
		return rc;
	for (int i = 0; i < 2; i++) {
		yaml_node_t *n = jv_yaml_get(c->doc, v, bounds[i]);
		uint64_t u;

		*out[i] = -1;
		if (!n)
			continue;
		rc = jv_schema_value(c, &bound, n,
				     jv_schema_join(name, sizeof(name), path,
						    bounds[i]), &u);
		if (rc)
			return rc;
		*out[i] = (int64_t)u;
	}
	if (k->min < 0 && k->max < 0)
		return jv_schema_fail(c, JV_ERR_INVAL, v, "%s: needs min or max",
				      path);
	return JV_OK;
}

/* ---- paths ---- */

static int check_path(struct jv_sctx *c, void *target, yaml_node_t *map,
		      const char *path, int idx)
{
	const struct jv_scenario *sc = ((struct ctx *)c->user)->sc;
	struct jv_sim_path_cfg *p = target;
	struct jv_wire_tid tid;

	if (jv_wire_tid_set(&tid, p->proto, p->id) != 0)
		return jv_schema_fail(c, JV_ERR_INVAL, map,
				      "%s.id: '%s' must be 1..%d characters of [A-Za-z0-9._:-]",
				      path, p->id, JV_TID_MAX);
	for (int i = 0; i < idx; i++)
		if (strcmp(sc->paths[i].id, p->id) == 0)
			return jv_schema_fail(c, JV_ERR_INVAL, map,
					      "%s.id: '%s' is used twice (also paths[%d])",
					      path, p->id, i);
	return JV_OK;
}

#define PC struct jv_sim_path_cfg
static const struct jv_srow path_rows[] = {
	{ .key = "id", .type = JV_ST_STRING, .off = SC(PC, id), .min = 1,
	  .required = true },
	{ .key = "proto", .type = JV_ST_ENUM, .off = SC(PC, proto),
	  .names = jv_proto_names, .noun = "protocol", .required = true },
	{ .key = "latency_ms", .type = JV_ST_U32, .off = SC(PC, latency_ms),
	  .max = 60000, .required = true },
	{ .key = "loss", .type = JV_ST_DOUBLE, .off = SC(PC, loss), .dmax = 1 },
};
#undef PC
static const struct jv_schema path_schema = {
	path_rows, sizeof(path_rows) / sizeof(path_rows[0]),
	.check = check_path,
};

/* ---- faults ---- */

/* The keys a fault may hold besides at_ms, action and direction; which of
 * them an action needs and reads is in its row below. */
enum {
	K_PATH = 1 << 0, K_RATIO = 1 << 1, K_MS = 1 << 2, K_PERIOD = 1 << 3,
	K_UNTIL = 1 << 4, K_NODE = 1 << 5, K_MESSAGE = 1 << 6,
	K_COUNT = 1 << 7, K_VIA = 1 << 8,
};
static const char *const kname[] = {
	"path", "ratio", "ms", "period_ms", "until_ms", "node", "message",
	"count", "via",
};
#define M(x) (1u << JV_SIM_MSG_##x)

static const struct action {
	unsigned needs, takes;   /* K_*; what is not taken keeps its zero */
	unsigned messages;       /* M(): the messages it is about */
} actions[] = {
	[JV_SIM_DOWN] = { K_PATH, K_PATH, 0 },
	[JV_SIM_UP] = { K_PATH, K_PATH, 0 },
	[JV_SIM_LOSS] = { K_PATH | K_RATIO, K_PATH | K_RATIO, 0 },
	[JV_SIM_LATENCY] = { K_PATH | K_MS, K_PATH | K_MS, 0 },
	[JV_SIM_FLAP] = { K_PATH | K_PERIOD | K_UNTIL,
	  K_PATH | K_PERIOD | K_UNTIL, 0 },
	[JV_SIM_OPERATOR_TERMINATE] = { K_NODE, K_PATH | K_NODE, 0 },
	[JV_SIM_REPLAY] = { K_MESSAGE, K_PATH | K_MESSAGE, M(REATTACH) },
	/* hs_resp: ms (default 1) and until_ms, as for a window below */
	[JV_SIM_FORGE] = { K_MESSAGE, K_PATH | K_MESSAGE,
	  M(REATTACH) | M(HS_RESP) },
	[JV_SIM_LINK_DOWN] = { K_PATH, K_PATH, 0 },
	[JV_SIM_LINK_UP] = { K_PATH, K_PATH, 0 },
	[JV_SIM_DROP] = { K_MESSAGE, K_PATH | K_MESSAGE | K_COUNT,
	  M(REATTACH_ACK) },
	[JV_SIM_RELAY] = { K_MESSAGE | K_VIA, K_PATH | K_MESSAGE | K_VIA | K_UNTIL,
	  M(REATTACH) },
};

static const struct jv_sname action_names[] = {
	{ "down", JV_SIM_DOWN }, { "up", JV_SIM_UP }, { "loss", JV_SIM_LOSS },
	{ "latency", JV_SIM_LATENCY }, { "flap", JV_SIM_FLAP },
	{ "operator_terminate", JV_SIM_OPERATOR_TERMINATE },
	{ "replay", JV_SIM_REPLAY }, { "forge", JV_SIM_FORGE },
	{ "link_down", JV_SIM_LINK_DOWN }, { "link_up", JV_SIM_LINK_UP },
	{ "drop", JV_SIM_DROP }, { "relay", JV_SIM_RELAY }, { NULL, 0 },
};
static const struct jv_sname message_names[] = {
	{ "reattach", JV_SIM_MSG_REATTACH },
	{ "reattach_ack", JV_SIM_MSG_REATTACH_ACK },
	{ "hs_resp", JV_SIM_MSG_HS_RESP }, { NULL, 0 },
};
static const struct jv_sname direction_names[] = {
	{ "up", JV_SIM_UPSTREAM }, { "down", JV_SIM_DOWNSTREAM },
	{ "both", JV_SIM_BOTH }, { NULL, 0 },
};
static const struct jv_sname node_names[] = {
	{ "client", 0 }, { "server", 1 }, { NULL, 0 },
};

static void init_fault(void *target)
{
	struct jv_sim_fault *f = target;

	memset(f, 0, sizeof(*f));
	f->path = f->via = -1;
}

/* What the action does not read goes back to its zero, so a stray key
 * changes nothing; defaults and the checks across keys. */
static int check_fault(struct jv_sctx *c, void *target, yaml_node_t *map,
		       const char *path, int idx)
{
	struct jv_sim_fault *f = target, zero;
	const struct action *a = &actions[f->action];
	unsigned given = 0, takes = a->takes;
	bool hs = f->action == JV_SIM_FORGE &&
		  f->message == JV_SIM_MSG_HS_RESP;
	char list[64] = "";

	(void)idx;
	init_fault(&zero);
	f->line = jv_yaml_line(map);
	for (unsigned k = 0; k < sizeof(kname) / sizeof(kname[0]); k++)
		if (jv_yaml_get(c->doc, map, kname[k]))
			given |= 1u << k;
	for (unsigned k = 0; k < sizeof(kname) / sizeof(kname[0]); k++)
		if ((a->needs & ~given) & (1u << k))
			return jv_schema_fail(c, JV_ERR_INVAL, map,
					      "%s.%s: required key missing", path,
					      kname[k]);
	if (a->messages && !(a->messages & (1u << f->message))) {
		for (const struct jv_sname *n = message_names; n->name; n++)
			if (a->messages & (1u << n->value))
				snprintf(list + strlen(list),
					 sizeof(list) - strlen(list), "%s%s",
					 *list ? ", " : "", n->name);
		return jv_schema_fail(c, JV_ERR_INVAL,
				      jv_yaml_get(c->doc, map, "message"),
				      "%s.message: '%s' is not for action %s (allowed %s)",
				      path, jv_sname_of(message_names, f->message),
				      jv_sname_of(action_names, (int)f->action),
				      list);
	}
	if (f->action == JV_SIM_FORGE && !hs && (given & K_UNTIL))
		return jv_schema_fail(c, JV_ERR_INVAL,
				      jv_yaml_get(c->doc, map, "until_ms"),
				      "%s.until_ms: a forged reattach is one datagram; until_ms is for message: hs_resp",
				      path);
	if (hs)
		takes |= K_MS | K_UNTIL;
	if (!(takes & K_RATIO))
		f->ratio = zero.ratio;
	if (!(takes & K_MS))
		f->ms = zero.ms;
	if (!(takes & K_PERIOD))
		f->period_ms = zero.period_ms;
	if (!(takes & K_UNTIL))
		f->until_ms = zero.until_ms;
	if (!(takes & K_NODE))
		f->node = zero.node;
	if (!(takes & K_COUNT))
		f->count = zero.count;
	if (!(takes & K_MESSAGE))
		f->message = zero.message;
	if (!(takes & K_VIA))
		f->via = zero.via;
	/* the attacker is quick, not instant: an instant answer to an
	 * instant retry would stop the clock */
	if (hs && !(given & K_MS))
		f->ms = 1;
	if (hs && f->ms == 0)
		return jv_schema_fail(c, JV_ERR_INVAL,
				      jv_yaml_get(c->doc, map, "ms"),
				      "%s.ms: value 0 out of range (allowed 1..60000)",
				      path);
	if (f->action == JV_SIM_DROP && !(given & K_COUNT))
		f->count = 1;
	if ((takes & K_UNTIL) && !(given & K_UNTIL))
		f->until_ms = UINT64_MAX;
	if (f->action == JV_SIM_FLAP && f->period_ms == 0)
		return jv_schema_fail(c, JV_ERR_INVAL, map,
				      "%s.period_ms: value 0 out of range (allowed 1..3600000)",
				      path);
	if ((takes & K_UNTIL) && f->until_ms <= f->at_ms)
		return jv_schema_fail(c, JV_ERR_INVAL, map,
				      "%s: until_ms must be > at_ms", path);
	return JV_OK;
}

#define F struct jv_sim_fault
static const struct jv_srow fault_rows[] = {
	{ .key = "at_ms", .type = JV_ST_U64, .off = SC(F, at_ms),
	  .max = UINT32_MAX, .required = true },
	{ .key = "action", .type = JV_ST_ENUM, .off = SC(F, action),
	  .names = action_names, .noun = "action", .required = true },
	{ .key = "path", .type = JV_ST_CUSTOM, .off = SC(F, path),
	  .parse = parse_path_ref },
	{ .key = "direction", .type = JV_ST_ENUM, .off = SC(F, dir),
	  .names = direction_names, .noun = "direction" },
	{ .key = "ratio", .type = JV_ST_DOUBLE, .off = SC(F, ratio), .dmax = 1 },
	{ .key = "ms", .type = JV_ST_U32, .off = SC(F, ms), .max = 60000 },
	{ .key = "period_ms", .type = JV_ST_U64, .off = SC(F, period_ms),
	  .max = 3600000 },
	{ .key = "until_ms", .type = JV_ST_U64, .off = SC(F, until_ms),
	  .max = UINT32_MAX },
	{ .key = "node", .type = JV_ST_ENUM, .off = SC(F, node),
	  .names = node_names, .noun = "node" },
	{ .key = "message", .type = JV_ST_ENUM, .off = SC(F, message),
	  .names = message_names, .noun = "message" },
	{ .key = "count", .type = JV_ST_U32, .off = SC(F, count), .min = 1,
	  .max = 1000000 },
	{ .key = "via", .type = JV_ST_CUSTOM, .off = SC(F, via),
	  .parse = parse_path_ref },
};
#undef F
static const struct jv_schema fault_schema = {
	fault_rows, sizeof(fault_rows) / sizeof(fault_rows[0]),
	.init = init_fault, .check = check_fault,
};

#define S struct jv_scenario
static const struct jv_srow faults_row = {
	.key = "faults", .type = JV_ST_LIST, .off = offsetof(S, faults),
	.size = sizeof(struct jv_sim_fault), .max = JV_SIM_MAX_FAULTS,
	.items = &fault_schema, .count_off = offsetof(S, nfaults),
};

/* ---- the scenario ---- */

static const struct jv_srow matcher_row = {
	.type = JV_ST_CUSTOM, .parse = parse_matcher,
};
static const struct jv_srow count_row = {
	.type = JV_ST_CUSTOM, .parse = parse_count,
};
static const struct jv_sname bools[] = {
	{ "false", 0 }, { "true", 1 }, { NULL, 0 },
};
/* traffic.direction: up = client to server only */
static const struct jv_sname directions[] = {
	{ "both", 0 }, { "up", 1 }, { "down", 2 }, { NULL, 0 },
};

static const struct jv_sname on_terminated[] = {
	{ "exit", false }, { "reconnect", true }, { NULL, 0 },
};

#define MATCHERS(k, name, n) \
	.key = "expect." k, .type = JV_ST_LIST, .off = offsetof(S, name), \
	.size = sizeof(((S *)0)->name[0]), .max = JV_SIM_MAX_MATCH, \
	.count_off = offsetof(S, n)

static int check_scenario(struct jv_sctx *c, void *target, yaml_node_t *map,
			  const char *path, int idx);

static const struct jv_srow rows[] = {
	{ .key = "name", .type = JV_ST_STRING, .off = SC(S, name), .min = 1,
	  .required = true },
	{ .key = "seed", .type = JV_ST_U64, .off = SC(S, seed),
	  .max = UINT64_MAX, .required = true },
	{ .key = "duration_ms", .type = JV_ST_U64, .off = SC(S, duration_ms),
	  .max = 24ull * 3600 * 1000, .required = true },
	{ .key = "policy", .type = JV_ST_CUSTOM, .parse = stash },
	{ .key = "client_policy", .type = JV_ST_CUSTOM, .parse = stash },
	{ .key = "server_policy", .type = JV_ST_CUSTOM, .parse = stash },
	{ .key = "paths", .type = JV_ST_LIST, .off = offsetof(S, paths),
	  .size = sizeof(struct jv_sim_path_cfg), .min = 1,
	  .max = JV_SIM_MAX_PATHS, .required = true, .items = &path_schema,
	  .count_off = offsetof(S, npaths) },
	{ .key = "traffic.rate_pps", .type = JV_ST_U32, .off = SC(S, rate_pps),
	  .max = 10000 },
	{ .key = "traffic.direction", .type = JV_ST_ENUM,
	  .off = SC(S, traffic_one_way), .names = directions },
	{ .key = "faults", .type = JV_ST_CUSTOM, .parse = stash },
	{ MATCHERS("sequence", sequence, nsequence), .item = &matcher_row },
	{ MATCHERS("absent", absent, nabsent), .item = &matcher_row },
	{ MATCHERS("count", counts, ncounts), .item = &count_row },
	{ .key = "expect.final_state.client", .type = JV_ST_CUSTOM,
	  .off = SC(S, final_client), .parse = parse_state },
	{ .key = "expect.final_state.server", .type = JV_ST_CUSTOM,
	  .off = SC(S, final_server), .parse = parse_state },
	{ .key = "expect.same_session", .type = JV_ST_ENUM,
	  .off = SC(S, same_session), .names = bools },
	{ .key = "expect.min_delivery", .type = JV_ST_DOUBLE,
	  .off = SC(S, min_delivery), .dmax = 1 },
	{ .key = "on_terminated", .type = JV_ST_ENUM, .off = SC(S, reconnect),
	  .names = on_terminated },
};
#undef S
static const struct jv_schema schema = {
	rows, sizeof(rows) / sizeof(rows[0]), .check = check_scenario,
};

static int apply_policy(struct jv_sctx *c, yaml_node_t *v, const char *name,
			struct jv_policy *p)
{
	return v ? jv_policy_parse_node(p, c->doc, v, c->file, name, false,
					c->err)
		 : JV_OK;
}

void jv_scenario_sort_faults(struct jv_scenario *sc)
{
	for (uint32_t i = 1; i < sc->nfaults; i++) {
		struct jv_sim_fault f = sc->faults[i];
		uint32_t j = i;

		while (j > 0 && sc->faults[j - 1].at_ms > f.at_ms) {
			sc->faults[j] = sc->faults[j - 1];
			j--;
		}
		sc->faults[j] = f;
	}
}

static int check_scenario(struct jv_sctx *c, void *target, yaml_node_t *map,
			  const char *path, int idx)
{
	struct jv_scenario *sc = target;
	struct ctx *x = c->user;
	int rc;

	(void)map;
	(void)path;
	(void)idx;
	/* policy on top of the defaults; per-node overrides on top of it */
	if ((rc = apply_policy(c, x->policy, "policy", &sc->client_policy)))
		return rc;
	sc->server_policy = sc->client_policy;
	if ((rc = apply_policy(c, x->client_policy, "client_policy",
			       &sc->client_policy)) ||
	    (rc = apply_policy(c, x->server_policy, "server_policy",
			       &sc->server_policy)) ||
	    (rc = jv_policy_validate(&sc->client_policy, c->file, c->err)) ||
	    (rc = jv_policy_validate(&sc->server_policy, c->file, c->err)))
		return rc;
	if (x->faults &&
	    (rc = jv_schema_value(c, &faults_row, x->faults, "faults", sc)))
		return rc;
	jv_scenario_sort_faults(sc);
	return JV_OK;
}

int jv_scenario_parse(struct jv_scenario *sc, const char *buf, size_t len,
		      const char *file, struct jv_error *err)
{
	struct ctx x = { .sc = sc };
	struct jv_sctx c = { .file = file, .err = err, .user = &x };
	yaml_document_t doc;
	yaml_node_t *root;
	int rc;

	memset(sc, 0, sizeof(*sc));
	snprintf(sc->file, sizeof(sc->file), "%s", file);
	sc->final_client = sc->final_server = -1;
	sc->same_session = -1;
	sc->min_delivery = -1.0;
	jv_policy_defaults(&sc->client_policy);
	rc = jv_yaml_load(&doc, buf, len, file, err);
	if (rc)
		return rc;
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	if (!root)
		rc = jv_error_set(err, JV_ERR_INVAL, file, 0, "empty scenario");
	else
		rc = jv_schema_parse(&c, &schema, root, "", sc);
	yaml_document_delete(&doc);
	return rc;
}
