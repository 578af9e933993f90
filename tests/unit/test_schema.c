/* The schema-row engine (core/schema.c) on a small table of every type,
 * and the sim scenario parser on it: duplicate keys, stray keys, the
 * common wording of its messages. */
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/schema.h"
#include "core/yamlx.h"
#include "sim/sim.h"
#include "tests/unit/unit.h"

struct item {
	char name[8];
	uint32_t weight;
};

struct toy {
	uint64_t big;
	uint32_t small;
	double ratio;
	bool flag;
	char label[8];
	int color;
	uint32_t hooked;
	struct item items[3];
	uint32_t nitems;
	uint32_t ports[4];
	uint32_t nports;
	uint32_t server_only;
	int line_small;
};

enum { R_A = 1, R_B = 2 };
static const char *const role_names[] = { "a", "b" };

static const struct jv_sname colors[] = {
	{ "red", 1 }, { "green", 2 }, { NULL, 0 },
};

/* A custom value: an even number written as text "evenN". */
static int parse_even(struct jv_sctx *c, const struct jv_srow *r,
		      yaml_node_t *v, void *slot)
{
	const char *s;
	int rc;

	(void)r;
	if ((rc = jv_schema_text(c, v, &s)))
		return rc;
	if (strncmp(s, "even", 4) || (atoi(s + 4) & 1))
		return jv_schema_type_error(c, v, "evenN with N even");
	*(uint32_t *)slot = (uint32_t)atoi(s + 4);
	return JV_OK;
}

static int check_item(struct jv_sctx *c, void *target, yaml_node_t *map,
		      const char *path, int idx)
{
	const struct item *it = target;

	if (idx > 0 && !strcmp(it->name, "first"))
		return jv_schema_fail(c, JV_ERR_INVAL, map,
				      "%s.name: 'first' only first", path);
	return JV_OK;
}

static const struct jv_srow item_rows[] = {
	{ .key = "name", .type = JV_ST_STRING, .off = offsetof(struct item, name),
	  .size = 8, .min = 1, .required = true },
	{ .key = "weight", .type = JV_ST_U32,
	  .off = offsetof(struct item, weight), .max = 10, .defu = 5 },
};
static const struct jv_schema item_schema = {
	item_rows, 2, .check = check_item,
};
static const struct jv_srow port_row = {
	.type = JV_ST_U32, .min = 1, .max = 65535,
};

#define T struct toy
static const struct jv_srow rows[] = {
	{ .key = "big", .type = JV_ST_U64, .off = offsetof(T, big),
	  .max = UINT64_MAX, .required = true, .defu = 7 },
	{ .key = "sec.small", .type = JV_ST_U32, .off = offsetof(T, small),
	  .min = 2, .max = 100, .step = 2, .defu = 4,
	  .line_off = offsetof(T, line_small) },
	{ .key = "sec.ratio", .type = JV_ST_DOUBLE, .off = offsetof(T, ratio),
	  .dmin = 0, .dmax = 1, .dmin_open = true, .defd = 0.5 },
	{ .key = "sec.deep.flag", .type = JV_ST_BOOL, .off = offsetof(T, flag),
	  .defu = true, .required = true },
	{ .key = "label", .type = JV_ST_STRING, .off = offsetof(T, label),
	  .size = 8, .min = 1 },
	{ .key = "color", .type = JV_ST_ENUM, .off = offsetof(T, color),
	  .size = sizeof(int), .names = colors, .noun = "color", .defu = 2 },
	{ .key = "hooked", .type = JV_ST_CUSTOM, .off = offsetof(T, hooked),
	  .parse = parse_even },
	{ .key = "items", .type = JV_ST_LIST, .off = offsetof(T, items),
	  .size = sizeof(struct item), .max = 3, .items = &item_schema,
	  .count_off = offsetof(T, nitems) },
	{ .key = "ports", .type = JV_ST_LIST, .off = offsetof(T, ports),
	  .size = sizeof(uint32_t), .min = 1, .max = 4, .item = &port_row,
	  .count_off = offsetof(T, nports) },
	{ .key = "server_only", .type = JV_ST_U32,
	  .off = offsetof(T, server_only), .roles = R_A, .max = 9, .defu = 3 },
};
#undef T
static const struct jv_schema toy_schema = { rows, 10, NULL, NULL };

static struct jv_error err;
static struct toy toy;

static int parse(const char *text, unsigned role, bool partial)
{
	struct jv_sctx c = { .file = "t.yaml", .err = &err, .role = role,
			     .role_names = role_names, .partial = partial };
	yaml_document_t doc;
	int rc;

	memset(&err, 0, sizeof(err));
	memset(&toy, 0, sizeof(toy));
	jv_schema_defaults(&toy_schema, &toy, role);
	rc = jv_yaml_load(&doc, text, strlen(text), "t.yaml", &err);
	if (rc)
		return rc;
	c.doc = &doc;
	rc = jv_schema_parse(&c, &toy_schema, yaml_document_get_root_node(&doc),
			     "toy", &toy);
	yaml_document_delete(&doc);
	return rc;
}

static void expect(const char *text, unsigned role, int code, int line,
		   const char *msg)
{
	int rc = parse(text, role, false);

	if (rc != code || err.line != line || strcmp(err.msg, msg))
		fail_msg("%s\n  expected %d :%d: %s\n  got      %d :%d: %s", text,
			 code, line, msg, rc, err.line, err.msg);
	assert_string_equal(err.file, "t.yaml");
}

JV_TEST(test_defaults)
{
	memset(&toy, 0, sizeof(toy));
	jv_schema_defaults(&toy_schema, &toy, R_B);
	assert_int_equal(toy.big, 7);
	assert_int_equal(toy.small, 4);
	assert_true(toy.ratio == 0.5);
	assert_true(toy.flag);
	assert_int_equal(toy.color, 2);
	assert_int_equal(toy.server_only, 0);   /* not for role b */
	jv_schema_defaults(&toy_schema, &toy, R_A);
	assert_int_equal(toy.server_only, 3);
}

JV_TEST(test_every_type)
{
	const char *text =
		"big: 18446744073709551615\n"
		"sec:\n"
		"  small: 42\n"
		"  ratio: 1\n"
		"  deep: { flag: false }\n"
		"label: \"abc\"\n"
		"color: red\n"
		"hooked: even8\n"
		"items:\n"
		"  - { name: first }\n"
		"  - { name: two, weight: 10 }\n"
		"ports: [1, 65535]\n"
		"server_only: 9\n";

	if (parse(text, R_A, false))
		fail_msg("%d: %s", err.line, err.msg);
	assert_true(toy.big == UINT64_MAX);
	assert_int_equal(toy.small, 42);
	assert_int_equal(toy.line_small, 3);
	assert_true(toy.ratio == 1.0);
	assert_false(toy.flag);
	assert_string_equal(toy.label, "abc");
	assert_int_equal(toy.color, 1);
	assert_int_equal(toy.hooked, 8);
	assert_int_equal(toy.nitems, 2);
	assert_string_equal(toy.items[0].name, "first");
	assert_int_equal(toy.items[0].weight, 0);   /* no init: untouched */
	assert_int_equal(toy.items[1].weight, 10);
	assert_int_equal(toy.nports, 2);
	assert_int_equal(toy.ports[1], 65535);
	assert_int_equal(toy.server_only, 9);
}

/* One of two words, as its value; anything else fails the test. */
static int one_of(const char *v, const char *a, int va, const char *b, int vb)
{
	if (v && strcmp(v, a) == 0)
		return va;
	if (v && strcmp(v, b) == 0)
		return vb;
	fail_msg("'%s': expected %s or %s", v ? v : "(none)", a, b);
	return -1;
}

/* The error cases are data, tests/data/schema/toy-errors.json: each a
 * YAML text, the role parsing it (a or b), and the code (inval or range),
 * line and message it must fail with. */
JV_TEST(test_messages)
{
	const char *dir = getenv("JV_TESTDATA");
	char path[512];
	json_error_t jerr;
	json_t *cases, *c;
	size_t i;

	snprintf(path, sizeof(path), "%s/schema/toy-errors.json",
		 dir ? dir : "tests/data");
	cases = json_load_file(path, 0, &jerr);
	if (!cases)
		fail_msg("%s: %s (set JV_TESTDATA)", path, jerr.text);
	assert_int_equal(json_array_size(cases), 30);
	json_array_foreach(cases, i, c) {
		const char *text = json_string_value(json_object_get(c, "text"));
		const char *msg = json_string_value(json_object_get(c, "msg"));
		const char *role = json_string_value(json_object_get(c, "role"));
		const char *code = json_string_value(json_object_get(c, "code"));
		json_t *line = json_object_get(c, "line");

		if (!text || !msg || !json_is_integer(line))
			fail_msg("%s: case %zu: text, line and msg wanted", path,
				 i);
		expect(text, (unsigned)one_of(role, "a", R_A, "b", R_B),
		       one_of(code, "inval", JV_ERR_INVAL, "range", JV_ERR_RANGE),
		       (int)json_integer_value(line), msg);
	}
	json_decref(cases);
	/* an override layer needs no required key */
	assert_int_equal(parse("sec: {small: 6}\n", R_A, true), 0);
	assert_int_equal(toy.small, 6);
	assert_int_equal(toy.big, 7);
}

JV_TEST(test_unique_keys)
{
	const char *text = "a: 1\nb: 2\na: 3\n";
	struct jv_sctx c = { .file = "u.yaml", .err = &err };
	yaml_document_t doc;

	assert_int_equal(jv_yaml_load(&doc, text, strlen(text), "u.yaml", &err),
			 0);
	c.doc = &doc;
	assert_int_equal(jv_schema_unique_keys(&c,
					       yaml_document_get_root_node(&doc),
					       "m"), JV_ERR_INVAL);
	assert_int_equal(err.line, 3);
	assert_string_equal(err.msg, "m.a: duplicate key (first at line 1)");
	yaml_document_delete(&doc);
}

/* ---- scenarios ---- */

static const char scenario[] =
	"name: s\n"                                              /* 1 */
	"seed: 1\n"                                              /* 2 */
	"duration_ms: 1000\n"                                    /* 3 */
	"faults:\n"                                              /* 4 */
	"  - { at_ms: 500, path: b, action: down, ratio: 0.5 }\n" /* 5 */
	"  - { at_ms: 100, action: drop, message: reattach_ack }\n" /* 6 */
	"paths:\n"                                               /* 7 */
	"  - { id: a, proto: udp, latency_ms: 10 }\n"            /* 8 */
	"  - { id: b, proto: tcp, latency_ms: 20 }\n"            /* 9 */
	"client_policy: { switching: { max_switches_per_min: 2 } }\n" /* 10 */
	"policy: { switching: { max_switches_per_min: 3 } }\n"   /* 11 */
	"expect:\n"                                              /* 12 */
	"  sequence:\n"                                          /* 13 */
	"    - { role: client, event_type: X }\n"                /* 14 */
	"  count:\n"                                             /* 15 */
	"    - { event_type: Y, min: 1 }\n";                     /* 16 */

static int parse_scenario(const char *text, struct jv_scenario *sc)
{
	memset(&err, 0, sizeof(err));
	return jv_scenario_parse(sc, text, strlen(text), "s.yaml", &err);
}

JV_TEST(test_scenario)
{
	static struct jv_scenario sc;

	if (parse_scenario(scenario, &sc))
		fail_msg("%d: %s", err.line, err.msg);
	/* faults after paths whatever the order, sorted by time */
	assert_int_equal(sc.nfaults, 2);
	assert_int_equal(sc.faults[0].action, JV_SIM_DROP);
	assert_int_equal(sc.faults[0].count, 1);
	assert_int_equal(sc.faults[0].path, -1);
	assert_int_equal(sc.faults[1].path, 1);
	assert_int_equal(sc.faults[1].line, 5);
	/* a key the action does not read changes nothing */
	assert_true(sc.faults[1].ratio == 0.0);
	assert_int_equal(sc.paths[1].proto, JV_PROTO_TCP);
	/* policy first, then the per-node layer, whatever the order */
	assert_int_equal(sc.client_policy.max_switches_per_min, 2);
	assert_int_equal(sc.server_policy.max_switches_per_min, 3);
	assert_int_equal(sc.nsequence, 1);
	assert_int_equal(sc.ncounts, 1);
	assert_int_equal(sc.counts[0].min, 1);
	assert_int_equal(sc.counts[0].max, -1);
	assert_int_equal(sc.counts[0].m.n, 1);
	assert_int_equal(sc.same_session, -1);
}

JV_TEST(test_scenario_mistakes)
{
	static const struct { const char *from, *to; int line; const char *msg; } m[] = {
		{ "seed: 1\n", "seed: 1\nseed: 2\n", 3,
		  "seed: duplicate key (first at line 2)" },
		{ "action: down,", "action: down, action: up,", 5,
		  "faults[0].action: duplicate key (first at line 5)" },
		{ "{ role: client,", "{ role: client, role: server,", 14,
		  "expect.sequence[0].role: duplicate key (first at line 14)" },
		{ "min: 1 }", "min: 1, min: 2 }", 16,
		  "expect.count[0].min: duplicate key (first at line 16)" },
		{ "expect:\n", "expect:\n  count: []\n", 16,
		  "expect.count: duplicate key (first at line 13)" },
		{ "id: b,", "id: a,", 9, "paths[1].id: 'a' is used twice (also paths[0])" },
		{ "proto: tcp", "proto: sctp", 9,
		  "paths[1].proto: unknown protocol 'sctp' (allowed udp, tcp)" },
		{ "latency_ms: 20", "latency_ms: 70000", 9,
		  "paths[1].latency_ms: value 70000 out of range (allowed 0..60000)" },
		{ "path: b,", "path: c,", 5, "faults[0].path: no path named 'c'" },
		{ "path: b, action: down", "action: down", 5,
		  "faults[0].path: required key missing" },
		{ "message: reattach_ack", "message: reattach", 6,
		  "faults[1].message: 'reattach' is not for action drop (allowed reattach_ack)" },
		{ "action: drop", "action: explode", 6,
		  "faults[1].action: unknown action 'explode' (allowed down, up, loss, latency, flap, operator_terminate, replay, forge, link_down, link_up, drop, relay)" },
		{ "seed: 1\n", "", 1, "seed: required key missing" },
		{ "name: s", "nmae: s", 1, "nmae: unknown key" },
		{ "max_switches_per_min: 3", "max_switches_per_min: 99", 11,
		  "policy.switching.max_switches_per_min: value 99 out of range (allowed 1..64)" },
		{ "event_type: Y, min: 1", "event_type: Y", 16,
		  "expect.count[0]: needs min or max" },
	};
	static struct jv_scenario sc;
	char text[2048];
	int failed = 0;

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++) {
		const char *at = strstr(scenario, m[i].from);
		int rc;

		assert_non_null(at);
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(at - scenario),
			 scenario, m[i].to, at + strlen(m[i].from));
		rc = parse_scenario(text, &sc);
		if (rc != 0 && err.line == m[i].line && !strcmp(err.msg, m[i].msg))
			continue;
		print_error("%s -> %s\n  expected :%d: %s\n  got %d :%d: %s\n",
			    m[i].from, m[i].to, m[i].line, m[i].msg, rc,
			    err.line, err.msg);
		failed++;
	}
	assert_int_equal(failed, 0);
}
