/* Parses a `jvpn sim` scenario (CONTRACT section 7, plus the extensions in
 * docs/simulator.md). Strict: unknown keys, missing required keys and bad
 * values are errors naming file, line and key. */
#include <stdio.h>
#include <string.h>

#include "core/fsm.h"
#include "core/yamlx.h"
#include "sim/sim.h"

struct ctx {
	yaml_document_t *doc;
	const char *file;
	struct jv_error *err;
};

#define FAIL(c, node, ...) \
	jv_error_set((c)->err, JV_ERR_INVAL, (c)->file, jv_yaml_line(node), \
		     __VA_ARGS__)

static yaml_node_t *node_at(struct ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

/* Every key of map must be in the NULL-terminated list. */
static int check_keys(struct ctx *c, yaml_node_t *map, const char *where,
		      const char *const *allowed)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return FAIL(c, map, "%s: expected a mapping", where);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		const char *name = jv_yaml_str(k);
		bool ok = false;

		for (int i = 0; name && allowed[i]; i++)
			ok |= strcmp(name, allowed[i]) == 0;
		if (!ok)
			return FAIL(c, k, "%s: unknown key '%s'", where,
				    name ? name : "?");
	}
	return 0;
}

static int get_u64(struct ctx *c, yaml_node_t *map, const char *where,
		   const char *key, bool required, uint64_t max, uint64_t *out)
{
	yaml_node_t *v = jv_yaml_get(c->doc, map, key);

	if (!v) {
		if (required)
			return FAIL(c, map, "%s: missing required key '%s'",
				    where, key);
		return 0;
	}
	if (jv_yaml_u64(v, out) != 0 || *out > max)
		return FAIL(c, v, "%s.%s: '%s' is not an integer in 0..%llu",
			    where, key, jv_yaml_str(v) ? jv_yaml_str(v) : "?",
			    (unsigned long long)max);
	return 0;
}

static int get_ratio(struct ctx *c, yaml_node_t *map, const char *where,
		     const char *key, bool required, double *out)
{
	yaml_node_t *v = jv_yaml_get(c->doc, map, key);

	if (!v) {
		if (required)
			return FAIL(c, map, "%s: missing required key '%s'",
				    where, key);
		return 0;
	}
	if (jv_yaml_double(v, out) != 0 || !(*out >= 0.0 && *out <= 1.0))
		return FAIL(c, v, "%s.%s: '%s' is not a ratio in [0, 1]", where,
			    key, jv_yaml_str(v) ? jv_yaml_str(v) : "?");
	return 0;
}

static int get_str(struct ctx *c, yaml_node_t *map, const char *where,
		   const char *key, bool required, const char **out)
{
	yaml_node_t *v = jv_yaml_get(c->doc, map, key);

	*out = NULL;
	if (!v) {
		if (required)
			return FAIL(c, map, "%s: missing required key '%s'",
				    where, key);
		return 0;
	}
	*out = jv_yaml_str(v);
	if (!*out)
		return FAIL(c, v, "%s.%s: expected a string", where, key);
	return 0;
}

static int parse_proto(struct ctx *c, yaml_node_t *map, const char *where,
		       uint8_t *proto)
{
	const char *s;
	int rc = get_str(c, map, where, "proto", true, &s);

	if (rc)
		return rc;
	if (strcmp(s, "udp") == 0)
		*proto = JV_PROTO_UDP;
	else if (strcmp(s, "tcp") == 0)
		*proto = JV_PROTO_TCP;
	else
		return FAIL(c, jv_yaml_get(c->doc, map, "proto"),
			    "%s.proto: '%s' is not udp or tcp", where, s);
	return 0;
}

static int parse_paths(struct ctx *c, struct jv_scenario *sc, yaml_node_t *n)
{
	static const char *const keys[] = { "id", "proto", "latency_ms", "loss",
					    NULL };
	char where[32];
	uint64_t v;
	int rc;

	if (!n || n->type != YAML_SEQUENCE_NODE ||
	    n->data.sequence.items.top == n->data.sequence.items.start)
		return FAIL(c, n, "paths: expected a non-empty list");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *m = node_at(c, *it);
		struct jv_sim_path_cfg *p = &sc->paths[sc->npaths];
		struct jv_wire_tid tid;
		const char *id;

		snprintf(where, sizeof(where), "paths[%u]", sc->npaths);
		if (sc->npaths == JV_SIM_MAX_PATHS)
			return FAIL(c, m, "paths: at most %d paths",
				    JV_SIM_MAX_PATHS);
		if ((rc = check_keys(c, m, where, keys)) ||
		    (rc = get_str(c, m, where, "id", true, &id)) ||
		    (rc = parse_proto(c, m, where, &p->proto)))
			return rc;
		if (jv_wire_tid_set(&tid, p->proto, id) != 0)
			return FAIL(c, m, "%s.id: '%s' must be 1..%d characters of [A-Za-z0-9._:-]",
				    where, id, JV_TID_MAX);
		for (uint32_t i = 0; i < sc->npaths; i++)
			if (strcmp(sc->paths[i].id, id) == 0)
				return FAIL(c, m, "%s.id: '%s' is used twice",
					    where, id);
		memcpy(p->id, tid.id, sizeof(p->id));
		v = 0;
		if ((rc = get_u64(c, m, where, "latency_ms", true, 60000, &v)))
			return rc;
		p->latency_ms = (uint32_t)v;
		if ((rc = get_ratio(c, m, where, "loss", false, &p->loss)))
			return rc;
		sc->npaths++;
	}
	return 0;
}

/* The index of the path named by key ("path", "via"), -1 if not given. */
static int path_key(struct ctx *c, const struct jv_scenario *sc,
		    yaml_node_t *m, const char *where, const char *key,
		    bool required, int *out)
{
	const char *id;
	int rc = get_str(c, m, where, key, required, &id);

	*out = -1;
	if (rc || !id)
		return rc;
	for (uint32_t i = 0; i < sc->npaths; i++)
		if (strcmp(sc->paths[i].id, id) == 0) {
			*out = (int)i;
			return 0;
		}
	return FAIL(c, jv_yaml_get(c->doc, m, key),
		    "%s.%s: no path named '%s'", where, key, id);
}

static const struct {
	const char *name;
	enum jv_sim_action action;
	bool needs_path;
} actions[] = {
	{ "down", JV_SIM_DOWN, true },
	{ "up", JV_SIM_UP, true },
	{ "loss", JV_SIM_LOSS, true },
	{ "latency", JV_SIM_LATENCY, true },
	{ "flap", JV_SIM_FLAP, true },
	{ "operator_terminate", JV_SIM_OPERATOR_TERMINATE, false },
	{ "replay", JV_SIM_REPLAY, false },
	{ "forge", JV_SIM_FORGE, false },
	{ "link_down", JV_SIM_LINK_DOWN, true },
	{ "link_up", JV_SIM_LINK_UP, true },
	{ "drop", JV_SIM_DROP, false },
	{ "relay", JV_SIM_RELAY, false },
};

/* The message an attacker action is about; each action knows a few. */
static int parse_message(struct ctx *c, yaml_node_t *m, const char *where,
			 struct jv_sim_fault *f)
{
	static const char *const names[] = {
		[JV_SIM_MSG_REATTACH] = "reattach",
		[JV_SIM_MSG_REATTACH_ACK] = "reattach_ack",
		[JV_SIM_MSG_HS_RESP] = "hs_resp",
	};
	unsigned known = 1u << JV_SIM_MSG_REATTACH;
	const char *s, *list = "reattach";
	int rc;

	if (f->action == JV_SIM_FORGE) {
		known |= 1u << JV_SIM_MSG_HS_RESP;
		list = "reattach or hs_resp";
	} else if (f->action == JV_SIM_DROP) {
		known = 1u << JV_SIM_MSG_REATTACH_ACK;
		list = "reattach_ack";
	}
	if ((rc = get_str(c, m, where, "message", true, &s)))
		return rc;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if ((known >> i) & 1 && strcmp(s, names[i]) == 0) {
			f->message = (enum jv_sim_msg)i;
			return 0;
		}
	return FAIL(c, jv_yaml_get(c->doc, m, "message"),
		    "%s.message: '%s' is not %s", where, s, list);
}

/* until_ms of a window that may stay open to the end of the run. */
static int parse_window(struct ctx *c, yaml_node_t *m, const char *where,
			struct jv_sim_fault *f)
{
	int rc;

	f->until_ms = UINT64_MAX;
	if ((rc = get_u64(c, m, where, "until_ms", false, UINT32_MAX,
			  &f->until_ms)))
		return rc;
	if (f->until_ms <= f->at_ms)
		return FAIL(c, m, "%s: until_ms must be > at_ms", where);
	return 0;
}

static int parse_fault(struct ctx *c, struct jv_scenario *sc, yaml_node_t *m,
		       const char *where, struct jv_sim_fault *f)
{
	static const char *const keys[] = { "at_ms", "path", "action", "ratio",
					    "ms", "period_ms", "until_ms",
					    "node", "message", "direction",
					    "count", "via", NULL };
	const char *a, *s;
	uint64_t v;
	int rc, k = -1;

	memset(f, 0, sizeof(*f));
	f->line = jv_yaml_line(m);
	if ((rc = check_keys(c, m, where, keys)) ||
	    (rc = get_u64(c, m, where, "at_ms", true, UINT32_MAX, &f->at_ms)) ||
	    (rc = get_str(c, m, where, "action", true, &a)))
		return rc;
	for (size_t i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, a) == 0)
			k = (int)i;
	if (k < 0)
		return FAIL(c, jv_yaml_get(c->doc, m, "action"),
			    "%s.action: unknown action '%s' (down, up, loss, latency, flap, operator_terminate, replay, forge, link_down, link_up, drop, relay)",
			    where, a);
	f->action = actions[k].action;
	f->via = -1;
	if ((rc = path_key(c, sc, m, where, "path", actions[k].needs_path,
			   &f->path)))
		return rc;
	if ((rc = get_str(c, m, where, "direction", false, &s)))
		return rc;
	if (s) {
		if (strcmp(s, "up") == 0)
			f->dir = JV_SIM_UPSTREAM;
		else if (strcmp(s, "down") == 0)
			f->dir = JV_SIM_DOWNSTREAM;
		else if (strcmp(s, "both") != 0)
			return FAIL(c, jv_yaml_get(c->doc, m, "direction"),
				    "%s.direction: '%s' is not up, down or both",
				    where, s);
	}
	switch (f->action) {
	case JV_SIM_LOSS:
		return get_ratio(c, m, where, "ratio", true, &f->ratio);
	case JV_SIM_LATENCY:
		v = 0;
		rc = get_u64(c, m, where, "ms", true, 60000, &v);
		f->ms = (uint32_t)v;
		return rc;
	case JV_SIM_FLAP:
		if ((rc = get_u64(c, m, where, "period_ms", true, 3600000,
				  &f->period_ms)) ||
		    (rc = get_u64(c, m, where, "until_ms", true, UINT32_MAX,
				  &f->until_ms)))
			return rc;
		if (f->period_ms == 0 || f->until_ms <= f->at_ms)
			return FAIL(c, m, "%s: flap needs period_ms > 0 and until_ms > at_ms",
				    where);
		return 0;
	case JV_SIM_OPERATOR_TERMINATE:
		if ((rc = get_str(c, m, where, "node", true, &s)))
			return rc;
		if (strcmp(s, "client") == 0)
			f->node = 0;
		else if (strcmp(s, "server") == 0)
			f->node = 1;
		else
			return FAIL(c, jv_yaml_get(c->doc, m, "node"),
				    "%s.node: '%s' is not client or server",
				    where, s);
		return 0;
	case JV_SIM_REPLAY:
		return parse_message(c, m, where, f);
	case JV_SIM_FORGE:
		if ((rc = parse_message(c, m, where, f)))
			return rc;
		if (f->message == JV_SIM_MSG_HS_RESP) {
			/* the attacker is quick, not instant: an instant
			 * answer to an instant retry would stop the clock */
			v = 1;
			rc = get_u64(c, m, where, "ms", false, 60000, &v);
			if (rc == 0 && v == 0)
				rc = FAIL(c, jv_yaml_get(c->doc, m, "ms"),
					  "%s.ms: must be at least 1", where);
			f->ms = (uint32_t)v;
			return rc ? rc : parse_window(c, m, where, f);
		}
		if (jv_yaml_get(c->doc, m, "until_ms"))
			return FAIL(c, jv_yaml_get(c->doc, m, "until_ms"),
				    "%s.until_ms: a forged reattach is one datagram; until_ms is for message: hs_resp",
				    where);
		return 0;
	case JV_SIM_DROP:
		v = 1;
		if ((rc = parse_message(c, m, where, f)) ||
		    (rc = get_u64(c, m, where, "count", false, 1000000, &v)))
			return rc;
		if (v == 0)
			return FAIL(c, jv_yaml_get(c->doc, m, "count"),
				    "%s.count: must be at least 1", where);
		f->count = (uint32_t)v;
		return 0;
	case JV_SIM_RELAY:
		if ((rc = parse_message(c, m, where, f)) ||
		    (rc = path_key(c, sc, m, where, "via", true, &f->via)))
			return rc;
		return parse_window(c, m, where, f);
	default:
		return 0;
	}
}

static int parse_faults(struct ctx *c, struct jv_scenario *sc, yaml_node_t *n)
{
	char where[32];
	int rc;

	if (n->type != YAML_SEQUENCE_NODE)
		return FAIL(c, n, "faults: expected a list");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		if (sc->nfaults == JV_SIM_MAX_FAULTS)
			return FAIL(c, node_at(c, *it), "faults: at most %d",
				    JV_SIM_MAX_FAULTS);
		snprintf(where, sizeof(where), "faults[%u]", sc->nfaults);
		rc = parse_fault(c, sc, node_at(c, *it), where,
				 &sc->faults[sc->nfaults]);
		if (rc)
			return rc;
		sc->nfaults++;
	}
	/* stable by time: same-time faults apply in file order */
	for (uint32_t i = 1; i < sc->nfaults; i++) {
		struct jv_sim_fault f = sc->faults[i];
		uint32_t j = i;

		while (j > 0 && sc->faults[j - 1].at_ms > f.at_ms) {
			sc->faults[j] = sc->faults[j - 1];
			j--;
		}
		sc->faults[j] = f;
	}
	return 0;
}

static int parse_matcher(struct ctx *c, yaml_node_t *m, const char *where,
			 struct jv_sim_matcher *out, const char *skip)
{
	memset(out, 0, sizeof(*out));
	out->before_ms = UINT64_MAX;
	out->line = jv_yaml_line(m);
	if (!m || m->type != YAML_MAPPING_NODE)
		return FAIL(c, m, "%s: expected a mapping of event fields",
			    where);
	for (yaml_node_pair_t *p = m->data.mapping.pairs.start;
	     p < m->data.mapping.pairs.top; p++) {
		const char *k = jv_yaml_str(node_at(c, p->key));
		const char *v = jv_yaml_str(node_at(c, p->value));

		if (skip && k && strstr(skip, k))
			continue;
		if (k && (strcmp(k, "after_ms") == 0 ||
			  strcmp(k, "before_ms") == 0)) {
			uint64_t t;

			if (jv_yaml_u64(node_at(c, p->value), &t) != 0)
				return FAIL(c, node_at(c, p->value),
					    "%s.%s: expected milliseconds", where, k);
			if (k[0] == 'a')
				out->after_ms = t;
			else
				out->before_ms = t;
			continue;
		}
		if (!k || !v)
			return FAIL(c, node_at(c, p->key),
				    "%s: keys and values must be scalars", where);
		if (out->n == JV_SIM_MAX_KV || strlen(k) >= sizeof(out->key[0]) ||
		    strlen(v) >= sizeof(out->val[0]))
			return FAIL(c, node_at(c, p->key),
				    "%s: too many or too long fields", where);
		snprintf(out->key[out->n], sizeof(out->key[0]), "%s", k);
		snprintf(out->val[out->n], sizeof(out->val[0]), "%s", v);
		out->n++;
	}
	if (out->n == 0 && out->after_ms == 0 && out->before_ms == UINT64_MAX)
		return FAIL(c, m, "%s: a matcher needs at least one field",
			    where);
	return 0;
}

static int parse_matchers(struct ctx *c, yaml_node_t *n, const char *name,
			  struct jv_sim_matcher *out, uint32_t *count)
{
	char where[48];
	int rc;

	if (n->type != YAML_SEQUENCE_NODE)
		return FAIL(c, n, "expect.%s: expected a list", name);
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		if (*count == JV_SIM_MAX_MATCH)
			return FAIL(c, node_at(c, *it), "expect.%s: at most %d",
				    name, JV_SIM_MAX_MATCH);
		snprintf(where, sizeof(where), "expect.%s[%u]", name, *count);
		if ((rc = parse_matcher(c, node_at(c, *it), where, &out[*count],
					NULL)))
			return rc;
		(*count)++;
	}
	return 0;
}

static int parse_counts(struct ctx *c, struct jv_scenario *sc, yaml_node_t *n)
{
	char where[48];
	int rc;

	if (n->type != YAML_SEQUENCE_NODE)
		return FAIL(c, n, "expect.count: expected a list");
	for (yaml_node_item_t *it = n->data.sequence.items.start;
	     it < n->data.sequence.items.top; it++) {
		yaml_node_t *m = node_at(c, *it);
		struct jv_sim_count *k = &sc->counts[sc->ncounts];
		uint64_t v;

		if (sc->ncounts == JV_SIM_MAX_MATCH)
			return FAIL(c, m, "expect.count: at most %d",
				    JV_SIM_MAX_MATCH);
		snprintf(where, sizeof(where), "expect.count[%u]", sc->ncounts);
		if ((rc = parse_matcher(c, m, where, &k->m, "min max")))
			return rc;
		k->min = k->max = -1;
		v = UINT64_MAX;
		if ((rc = get_u64(c, m, where, "min", false, 1000000, &v)))
			return rc;
		if (v != UINT64_MAX)
			k->min = (int64_t)v;
		v = UINT64_MAX;
		if ((rc = get_u64(c, m, where, "max", false, 1000000, &v)))
			return rc;
		if (v != UINT64_MAX)
			k->max = (int64_t)v;
		if (k->min < 0 && k->max < 0)
			return FAIL(c, m, "%s: needs min or max", where);
		sc->ncounts++;
	}
	return 0;
}

static int parse_state(struct ctx *c, yaml_node_t *map, const char *key,
		       int *out)
{
	const char *s;
	int rc = get_str(c, map, "expect.final_state", key, false, &s);

	if (rc || !s)
		return rc;
	*out = jv_state_from_name(s);
	if (*out < 0)
		return FAIL(c, jv_yaml_get(c->doc, map, key),
			    "expect.final_state.%s: '%s' is not a session state",
			    key, s);
	return 0;
}

static int parse_expect(struct ctx *c, struct jv_scenario *sc, yaml_node_t *n)
{
	static const char *const keys[] = { "sequence", "absent", "count",
					    "final_state", "same_session",
					    "min_delivery", NULL };
	static const char *const fs_keys[] = { "client", "server", NULL };
	yaml_node_t *v;
	int rc;

	if ((rc = check_keys(c, n, "expect", keys)))
		return rc;
	if ((v = jv_yaml_get(c->doc, n, "sequence")) &&
	    (rc = parse_matchers(c, v, "sequence", sc->sequence,
				 &sc->nsequence)))
		return rc;
	if ((v = jv_yaml_get(c->doc, n, "absent")) &&
	    (rc = parse_matchers(c, v, "absent", sc->absent, &sc->nabsent)))
		return rc;
	if ((v = jv_yaml_get(c->doc, n, "count")) &&
	    (rc = parse_counts(c, sc, v)))
		return rc;
	if ((v = jv_yaml_get(c->doc, n, "final_state"))) {
		if ((rc = check_keys(c, v, "expect.final_state", fs_keys)) ||
		    (rc = parse_state(c, v, "client", &sc->final_client)) ||
		    (rc = parse_state(c, v, "server", &sc->final_server)))
			return rc;
	}
	if ((v = jv_yaml_get(c->doc, n, "same_session"))) {
		bool b;

		if (jv_yaml_bool(v, &b) != 0)
			return FAIL(c, v, "expect.same_session: expected true or false");
		sc->same_session = b;
	}
	if (jv_yaml_get(c->doc, n, "min_delivery"))
		return get_ratio(c, n, "expect", "min_delivery", false,
				 &sc->min_delivery);
	return 0;
}

static int parse_policy(struct ctx *c, yaml_node_t *root, const char *key,
			struct jv_policy *p)
{
	yaml_node_t *v = jv_yaml_get(c->doc, root, key);

	if (!v)
		return 0;
	return jv_policy_parse_node(p, c->doc, v, c->file, NULL, false, c->err);
}

int jv_scenario_parse(struct jv_scenario *sc, const char *buf, size_t len,
		      const char *file, struct jv_error *err)
{
	static const char *const keys[] = { "name", "seed", "duration_ms",
					    "policy", "client_policy",
					    "server_policy", "paths", "traffic",
					    "faults", "expect", "on_terminated",
					    NULL };
	static const char *const traffic_keys[] = { "rate_pps", NULL };
	struct ctx c = { .file = file, .err = err };
	yaml_document_t doc;
	yaml_node_t *root, *v;
	const char *s;
	uint64_t u;
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
	if (!root) {
		rc = jv_error_set(err, JV_ERR_INVAL, file, 0, "empty scenario");
		goto out;
	}
	if ((rc = check_keys(&c, root, "scenario", keys)) ||
	    (rc = get_str(&c, root, "scenario", "name", true, &s)))
		goto out;
	snprintf(sc->name, sizeof(sc->name), "%s", s);
	if ((rc = get_u64(&c, root, "scenario", "seed", true, UINT64_MAX,
			  &sc->seed)) ||
	    (rc = get_u64(&c, root, "scenario", "duration_ms", true,
			  24ull * 3600 * 1000, &sc->duration_ms)))
		goto out;
	/* policy on top of the defaults; per-node overrides on top of it */
	if ((rc = parse_policy(&c, root, "policy", &sc->client_policy)))
		goto out;
	sc->server_policy = sc->client_policy;
	if ((rc = parse_policy(&c, root, "client_policy", &sc->client_policy)) ||
	    (rc = parse_policy(&c, root, "server_policy", &sc->server_policy)) ||
	    (rc = jv_policy_validate(&sc->client_policy, file, err)) ||
	    (rc = jv_policy_validate(&sc->server_policy, file, err)))
		goto out;
	if ((rc = parse_paths(&c, sc, jv_yaml_get(&doc, root, "paths"))))
		goto out;
	if ((v = jv_yaml_get(&doc, root, "traffic"))) {
		u = 0;
		if ((rc = check_keys(&c, v, "traffic", traffic_keys)) ||
		    (rc = get_u64(&c, v, "traffic", "rate_pps", false, 10000,
				  &u)))
			goto out;
		sc->rate_pps = (uint32_t)u;
	}
	if ((v = jv_yaml_get(&doc, root, "faults")) &&
	    (rc = parse_faults(&c, sc, v)))
		goto out;
	if ((rc = get_str(&c, root, "scenario", "on_terminated", false, &s)))
		goto out;
	if (s) {
		if (strcmp(s, "reconnect") == 0)
			sc->reconnect = true;
		else if (strcmp(s, "exit") != 0) {
			rc = FAIL(&c, jv_yaml_get(&doc, root, "on_terminated"),
				  "on_terminated: '%s' is not reconnect or exit",
				  s);
			goto out;
		}
	}
	if ((v = jv_yaml_get(&doc, root, "expect")) &&
	    (rc = parse_expect(&c, sc, v)))
		goto out;
out:
	yaml_document_delete(&doc);
	return rc;
}
