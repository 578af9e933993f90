/* The policy of CONTRACT section 3. The schema table below is the only
 * place a key, its type, bounds, default and required flag are written:
 * defaults, parsing, bounds, messages and the formatter all walk it. */
#include "core/policy.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/yamlx.h"

enum ftype { T_VERSION, T_U64, T_U32, T_DOUBLE, T_BOOL, T_PROTOS };

struct field {
	const char *section;	/* NULL: a top-level key */
	const char *key;
	enum ftype type;
	size_t off;
	bool required;
	uint64_t min, max;	/* integers, inclusive */
	uint64_t step;		/* integers: a multiple of step (0: any) */
	double dmin, dmax;	/* doubles, inclusive... */
	bool dmin_open;		/* ...except dmin when set */
	uint64_t defu;		/* default of integers, bools, protocol bits */
	double defd;
	const char *defs;
};

/* A compile error unless the struct member has the C type the row claims,
 * so a row cannot drift from struct jv_policy. */
#define IS(name, ctype) (0 * sizeof(char[_Generic( \
	((struct jv_policy *)0)->name, ctype: 1, default: -1)]))
#define ROW(sec, name, t, ctype, req) \
	.section = sec, .key = #name, .type = t, .required = req, \
	.off = offsetof(struct jv_policy, name) + IS(name, ctype)
#define U64(sec, name, req, lo, hi, def) \
	ROW(sec, name, T_U64, uint64_t, req), .min = lo, .max = hi, .defu = def
#define U32(sec, name, req, lo, hi, def) \
	ROW(sec, name, T_U32, uint32_t, req), .min = lo, .max = hi, .defu = def
#define DBL(sec, name, req, lo, hi, def) \
	ROW(sec, name, T_DOUBLE, double, req), .dmin = lo, .dmax = hi, \
	.defd = def
#define BOOL(sec, name, def) ROW(sec, name, T_BOOL, bool, false), .defu = def
#define PROTOS(sec, name, def) \
	ROW(sec, name, T_PROTOS, uint32_t, false), .defu = def
#define VERSION(name, req, def) \
	ROW(NULL, name, T_VERSION, char *, req), .defs = def

static const struct field schema[] = {
	{ VERSION(version, true, "1.0") },
	{ U64("session", max_lifetime_ms, true, 1000, 604800000, 28800000) },
	{ U64("session", transport_lost_ttl_ms, true, 100, 86400000, 15000) },
	{ U64("volatility", heartbeat_interval_ms, false, 10, 60000, 500) },
	{ U64("volatility", heartbeat_volatile_ms, false, 20, 600000, 2000) },
	{ U64("volatility", loss_window_ms, false, 100, 600000, 2000) },
	{ DBL("volatility", loss_volatile_threshold, true, 0.0, 1.0, 0.20),
	  .dmin_open = true },
	{ U32("volatility", max_consecutive_drops, false, 1, 1000, 3) },
	{ U64("volatility", volatile_to_degraded_ms, false, 10, 600000, 4000) },
	{ U64("volatility", latency_volatile_threshold_ms, false, 0, 600000, 0) },
	{ U32("switching", max_switches_per_min, true, 1, 64, 8) },
	{ U64("switching", switch_cooldown_ms, false, 0, 600000, 1500) },
	{ U64("switching", recovery_window_ms, true, 100, 600000, 8000) },
	{ DBL("switching", switch_improvement_factor, false, 1.0, 10.0, 1.10) },
	{ PROTOS("transport", allowed_protocols, JV_PROTO_UDP | JV_PROTO_TCP) },
	{ U32("transport", max_candidate_count, false, 1, 16, 3) },
	{ U64("transport", probe_interval_ms, false, 10, 600000, 1000) },
	{ BOOL("transport", enforce_hysteresis, true) },
	{ U64("security", reattach_proof_max_age_ms, true, 100, 600000, 5000) },
	/* the window is a bitmap of 64-bit words */
	{ U32("security", replay_window_size, false, 64, 2048, 2048),
	  .step = 64 },
	{ U32("security", max_reattach_failures, false, 1, 100, 3) },
	{ U64("security", rekey_after_ms, false, 1000, 86400000, 120000) },
	{ BOOL("observability", emit_switch_metrics, true) },
	{ BOOL("observability", emit_security_events, true) },
	{ BOOL("observability", include_latency_metrics, true) },
};

#define NFIELDS (sizeof(schema) / sizeof(schema[0]))

/* Cross-field rules, all between integer fields: a OP b. */
enum relop { GT, LE, GE };

static const struct {
	size_t a, b;
	enum relop op;
	const char *says;
} relations[] = {
	/* a path must be silent for longer than one beat to look volatile */
	{ offsetof(struct jv_policy, heartbeat_volatile_ms),
	  offsetof(struct jv_policy, heartbeat_interval_ms), GT,
	  "must be greater than" },
	{ offsetof(struct jv_policy, transport_lost_ttl_ms),
	  offsetof(struct jv_policy, max_lifetime_ms), LE,
	  "must not exceed" },
	/* a loss ratio over less than one heartbeat is meaningless */
	{ offsetof(struct jv_policy, loss_window_ms),
	  offsetof(struct jv_policy, heartbeat_interval_ms), GE,
	  "must be at least" },
};

struct ctx {
	yaml_document_t *doc;
	const char *file;
	struct jv_error *err;
	struct jv_policy tmp;		/* parsed into; copied out on success */
	int line[NFIELDS];		/* where each key was seen, 0: absent */
	int sec_line[NFIELDS];		/* sections, by their first field */
};

static void *slot(struct jv_policy *p, const struct field *f)
{
	return (char *)p + f->off;
}

static const void *cslot(const struct jv_policy *p, const struct field *f)
{
	return (const char *)p + f->off;
}

static const char *section_of(const struct field *f)
{
	return f->section ? f->section : "";
}

/* "session.max_lifetime_ms", or "version" for a top-level key. */
static const char *dotted(const struct field *f, char *buf, size_t cap)
{
	snprintf(buf, cap, "%s%s%s", section_of(f), f->section ? "." : "",
		 f->key);
	return buf;
}

static bool text_is(const char *s, size_t len, const char *want)
{
	return len == strlen(want) && memcmp(s, want, len) == 0;
}

static bool scalar_is(const yaml_node_t *n, const char *want)
{
	return n && n->type == YAML_SCALAR_NODE &&
	       text_is((const char *)n->data.scalar.value,
		       n->data.scalar.length, want);
}

/* Untrusted text quoted in a message: bounded, and printable ASCII only, so
 * a hostile file cannot put escape sequences on a terminal or bad UTF-8 in
 * an audit event. */
static const char *shown(const yaml_node_t *n, char *buf, size_t cap)
{
	const char *s = (const char *)n->data.scalar.value;
	size_t len = n->data.scalar.length, i, max = cap - 4;

	for (i = 0; i < len && i < max; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (i < len)
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

/* What the document holds instead, for "expected X, got Y". */
static const char *describe(const yaml_node_t *n, char *buf, size_t cap)
{
	char text[48];

	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	if (n->data.scalar.length == 0 &&
	    n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		return "an empty value";
	if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
		snprintf(buf, cap, "'%s'", shown(n, text, sizeof(text)));
	else
		snprintf(buf, cap, "the quoted string \"%s\"",
			 shown(n, text, sizeof(text)));
	return buf;
}

static int fail(struct ctx *c, int code, const yaml_node_t *n,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static int fail(struct ctx *c, int code, const yaml_node_t *n,
		const char *fmt, ...)
{
	char msg[sizeof(c->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return jv_error_set(c->err, code, c->file, jv_yaml_line(n), "%s", msg);
}

static int type_error(struct ctx *c, const struct field *f,
		      const yaml_node_t *v)
{
	static const char *const expected[] = {
		[T_VERSION] = "a version string \"X.Y\"",
		[T_U64] = "an integer", [T_U32] = "an integer",
		[T_DOUBLE] = "a number", [T_BOOL] = "true or false",
		[T_PROTOS] = "a list of protocols such as [udp, tcp]",
	};
	char name[64], got[96];

	return fail(c, JV_ERR_INVAL, v, "%s: expected %s, got %s",
		    dotted(f, name, sizeof(name)), expected[f->type],
		    describe(v, got, sizeof(got)));
}

/* Bounds of one integer field; text is the value as written. */
static int check_uint(const struct field *f, uint64_t u, const char *text,
		      const char *file, int line, struct jv_error *err)
{
	char name[64];

	if (u < f->min || u > f->max)
		return jv_error_set(err, JV_ERR_RANGE, file, line,
				    "%s: value %s out of range (allowed %" PRIu64
				    "..%" PRIu64 ")", dotted(f, name, sizeof(name)),
				    text, f->min, f->max);
	if (f->step && u % f->step)
		return jv_error_set(err, JV_ERR_RANGE, file, line,
				    "%s: value %s is not a multiple of %" PRIu64,
				    dotted(f, name, sizeof(name)), text, f->step);
	return JV_OK;
}

static int check_double(const struct field *f, double d, const char *text,
			const char *file, int line, struct jv_error *err)
{
	char name[64];
	bool low = f->dmin_open ? !(d > f->dmin) : !(d >= f->dmin);

	if (!isfinite(d) || low || d > f->dmax) {
		dotted(f, name, sizeof(name));
		if (f->dmin_open)
			return jv_error_set(err, JV_ERR_RANGE, file, line,
					    "%s: value %s out of range (allowed %g..%g, %g excluded)",
					    name, text, f->dmin, f->dmax, f->dmin);
		return jv_error_set(err, JV_ERR_RANGE, file, line,
				    "%s: value %s out of range (allowed %g..%g)",
				    name, text, f->dmin, f->dmax);
	}
	return JV_OK;
}

/* "X.Y", digits only, short enough for struct jv_policy.version. */
static bool version_ok(const char *s, size_t len)
{
	size_t dot = 0, i;

	if (len == 0 || len >= sizeof(((struct jv_policy *)0)->version))
		return false;
	for (i = 0; i < len; i++) {
		if (s[i] == '.' && !dot && i > 0)
			dot = i;
		else if (s[i] < '0' || s[i] > '9')
			return false;
	}
	return dot && dot < len - 1;
}

static uint64_t get_uint(const struct jv_policy *p, const struct field *f)
{
	if (f->type == T_U64)
		return *(const uint64_t *)cslot(p, f);
	return *(const uint32_t *)cslot(p, f);
}

/* An integer literal the field cannot hold (negative or beyond 64 bits) is
 * a range error, not a type error: the user wrote a number. */
static bool int_literal(const yaml_node_t *v)
{
	const char *s = (const char *)v->data.scalar.value;
	size_t len = v->data.scalar.length, i = 0;

	if (v->type != YAML_SCALAR_NODE ||
	    v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	if (len > 0 && s[0] == '-')
		i = 1;
	if (i == len)
		return false;
	for (; i < len; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int parse_uint(struct ctx *c, const struct field *f, yaml_node_t *v)
{
	char text[48], name[64];
	uint64_t u;
	int rc;

	if (jv_yaml_u64(v, &u) != 0) {
		if (!int_literal(v))
			return type_error(c, f, v);
		return fail(c, JV_ERR_RANGE, v,
			    "%s: value %s out of range (allowed %" PRIu64
			    "..%" PRIu64 ")", dotted(f, name, sizeof(name)),
			    shown(v, text, sizeof(text)), f->min, f->max);
	}
	rc = check_uint(f, u, shown(v, text, sizeof(text)), c->file,
			jv_yaml_line(v), c->err);
	if (rc)
		return rc;
	if (f->type == T_U64)
		*(uint64_t *)slot(&c->tmp, f) = u;
	else
		*(uint32_t *)slot(&c->tmp, f) = (uint32_t)u;
	return JV_OK;
}

static int parse_protos(struct ctx *c, const struct field *f, yaml_node_t *v)
{
	static const struct { const char *name; uint32_t bit; } protos[] = {
		{ "udp", JV_PROTO_UDP }, { "tcp", JV_PROTO_TCP },
	};
	char name[64], text[48];
	uint32_t bits = 0;

	if (v->type != YAML_SEQUENCE_NODE)
		return type_error(c, f, v);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(c->doc, *it);
		uint32_t bit = 0;

		for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++)
			if (scalar_is(n, protos[i].name))
				bit = protos[i].bit;
		if (!bit && n->type != YAML_SCALAR_NODE)
			return type_error(c, f, n);
		if (!bit)
			return fail(c, JV_ERR_INVAL, n,
				    "%s: unknown protocol '%s' (allowed udp, tcp)",
				    dotted(f, name, sizeof(name)),
				    shown(n, text, sizeof(text)));
		if (bits & bit)
			return fail(c, JV_ERR_INVAL, n, "%s: %s listed twice",
				    dotted(f, name, sizeof(name)),
				    shown(n, text, sizeof(text)));
		bits |= bit;
	}
	if (!bits)
		return fail(c, JV_ERR_INVAL, v,
			    "%s: empty list (name at least one of udp, tcp)",
			    dotted(f, name, sizeof(name)));
	*(uint32_t *)slot(&c->tmp, f) = bits;
	return JV_OK;
}

static int parse_value(struct ctx *c, const struct field *f, yaml_node_t *v)
{
	char text[48];
	double d;
	bool b;
	int rc;

	switch (f->type) {
	case T_U64:
	case T_U32:
		return parse_uint(c, f, v);
	case T_DOUBLE:
		if (jv_yaml_double(v, &d) != 0)
			return type_error(c, f, v);
		rc = check_double(f, d, shown(v, text, sizeof(text)), c->file,
				  jv_yaml_line(v), c->err);
		if (rc == 0)
			*(double *)slot(&c->tmp, f) = d;
		return rc;
	case T_BOOL:
		if (jv_yaml_bool(v, &b) != 0)
			return type_error(c, f, v);
		*(bool *)slot(&c->tmp, f) = b;
		return JV_OK;
	case T_VERSION:
		/* quoted or plain: `version: 1.0` is as clear as "1.0" */
		if (v->type != YAML_SCALAR_NODE ||
		    !version_ok((const char *)v->data.scalar.value,
				v->data.scalar.length))
			return type_error(c, f, v);
		memcpy(slot(&c->tmp, f), v->data.scalar.value,
		       v->data.scalar.length + 1);
		return JV_OK;
	case T_PROTOS:
		return parse_protos(c, f, v);
	}
	return JV_ERR_INVAL;
}

static const struct field *find_field(const char *sec, const char *s,
				      size_t len)
{
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &schema[i];
		bool same_sec = sec ? f->section && !strcmp(sec, f->section)
				    : !f->section;

		if (same_sec && text_is(s, len, f->key))
			return f;
	}
	return NULL;
}

/* A section, named by the first schema row in it. */
static const struct field *find_section(const char *s, size_t len)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (schema[i].section && text_is(s, len, schema[i].section))
			return &schema[i];
	return NULL;
}

/* The key of a pair, which must be a scalar. */
static int key_of(struct ctx *c, yaml_node_pair_t *pair, yaml_node_t **k,
		  const char *where)
{
	*k = yaml_document_get_node(c->doc, pair->key);
	if (!*k || (*k)->type != YAML_SCALAR_NODE)
		return fail(c, JV_ERR_INVAL, *k, "%s%skeys must be plain names",
			    where, *where ? ": " : "");
	return JV_OK;
}

static int parse_key(struct ctx *c, const struct field *f, yaml_node_t *k,
		     yaml_node_t *v)
{
	size_t i = (size_t)(f - schema);
	char name[64];

	if (c->line[i])
		return fail(c, JV_ERR_INVAL, k,
			    "%s: duplicate key (first at line %d)",
			    dotted(f, name, sizeof(name)), c->line[i]);
	c->line[i] = jv_yaml_line(k);
	return parse_value(c, f, v);
}

static int parse_section(struct ctx *c, const char *sec, yaml_node_t *map)
{
	char text[48];
	int rc;

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		const struct field *f;
		yaml_node_t *k;

		if ((rc = key_of(c, p, &k, sec)))
			return rc;
		f = find_field(sec, (const char *)k->data.scalar.value,
			       k->data.scalar.length);
		if (!f)
			return fail(c, JV_ERR_INVAL, k, "%s.%s: unknown key",
				    sec, shown(k, text, sizeof(text)));
		rc = parse_key(c, f, k,
			       yaml_document_get_node(c->doc, p->value));
		if (rc)
			return rc;
	}
	return JV_OK;
}

/* `session:` with nothing under it (all keys commented out) is an empty
 * section, not an error. */
static bool is_null(const yaml_node_t *v)
{
	return v->type == YAML_SCALAR_NODE &&
	       v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (scalar_is(v, "") || scalar_is(v, "~") || scalar_is(v, "null"));
}

static int unknown_section(struct ctx *c, yaml_node_t *k)
{
	const char *s = (const char *)k->data.scalar.value;
	size_t len = k->data.scalar.length;
	char text[48];

	/* a section key written at the top level: say where it belongs */
	for (size_t i = 0; i < NFIELDS; i++)
		if (schema[i].section && text_is(s, len, schema[i].key))
			return fail(c, JV_ERR_INVAL, k,
				    "%s: unknown section (did you mean %s.%s?)",
				    shown(k, text, sizeof(text)),
				    schema[i].section, schema[i].key);
	return fail(c, JV_ERR_INVAL, k, "%s: unknown section",
		    shown(k, text, sizeof(text)));
}

static int parse_top_pair(struct ctx *c, yaml_node_pair_t *p)
{
	const struct field *f, *sec;
	yaml_node_t *k, *v;
	char got[96];
	size_t i;
	int rc;

	if ((rc = key_of(c, p, &k, "")))
		return rc;
	v = yaml_document_get_node(c->doc, p->value);
	f = find_field(NULL, (const char *)k->data.scalar.value,
		       k->data.scalar.length);
	if (f)
		return parse_key(c, f, k, v);
	sec = find_section((const char *)k->data.scalar.value,
			   k->data.scalar.length);
	if (!sec)
		return unknown_section(c, k);
	i = (size_t)(sec - schema);
	if (c->sec_line[i])
		return fail(c, JV_ERR_INVAL, k,
			    "%s: duplicate section (first at line %d)",
			    sec->section, c->sec_line[i]);
	c->sec_line[i] = jv_yaml_line(k);
	if (is_null(v))
		return JV_OK;
	if (v->type != YAML_MAPPING_NODE)
		return fail(c, JV_ERR_INVAL, v, "%s: expected a mapping, got %s",
			    sec->section, describe(v, got, sizeof(got)));
	return parse_section(c, sec->section, v);
}

static const struct field *field_at(size_t off)
{
	for (size_t i = 0; i < NFIELDS; i++)
		if (schema[i].off == off)
			return &schema[i];
	return NULL;
}

/*
 * The cross-field rules. line[] (may be NULL) holds where each key was
 * written, so a complete policy file gets a line number too: that of the
 * first key of the rule the file sets.
 */
static int check_relations(const struct jv_policy *p, const int *line,
			   const char *file, struct jv_error *err)
{
	char na[64], nb[64];

	for (size_t i = 0; i < sizeof(relations) / sizeof(relations[0]); i++) {
		const struct field *fa = field_at(relations[i].a);
		const struct field *fb = field_at(relations[i].b);
		uint64_t a = get_uint(p, fa), b = get_uint(p, fb);
		bool ok = relations[i].op == GT ? a > b :
			  relations[i].op == LE ? a <= b : a >= b;
		int at = 0;

		if (ok)
			continue;
		if (line)
			at = line[fa - schema] ? line[fa - schema]
					       : line[fb - schema];
		return jv_error_set(err, JV_ERR_RANGE, file, at,
				    "%s (%" PRIu64 ") %s %s (%" PRIu64 ")",
				    dotted(fa, na, sizeof(na)), a,
				    relations[i].says,
				    dotted(fb, nb, sizeof(nb)), b);
	}
	return JV_OK;
}

static int check_required(struct ctx *c)
{
	char name[64];

	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &schema[i];
		const struct field *sec;
		int line = 0;

		if (!f->required || c->line[i])
			continue;
		/* point at the section the key belongs in, if it is there */
		if (f->section) {
			sec = find_section(f->section, strlen(f->section));
			line = c->sec_line[sec - schema];
		}
		return jv_error_set(c->err, JV_ERR_INVAL, c->file, line,
				    "%s: required key missing",
				    dotted(f, name, sizeof(name)));
	}
	return JV_OK;
}

int jv_policy_parse_node(struct jv_policy *p, struct yaml_document_s *doc,
			 struct yaml_node_s *node, const char *file,
			 bool require_all, struct jv_error *err)
{
	struct ctx c = { .doc = doc, .file = file, .err = err, .tmp = *p };
	char got[96];
	int rc;

	if (!node || node->type != YAML_MAPPING_NODE)
		return jv_error_set(err, JV_ERR_INVAL, file, jv_yaml_line(node),
				    "a policy is a mapping of sections, got %s",
				    node ? describe(node, got, sizeof(got))
					 : "nothing");
	for (yaml_node_pair_t *pr = node->data.mapping.pairs.start;
	     pr < node->data.mapping.pairs.top; pr++)
		if ((rc = parse_top_pair(&c, pr)))
			return rc;
	/* a complete policy can be checked as a whole here, where the
	 * lines are known; overrides only once all layers are applied */
	if (require_all && ((rc = check_required(&c)) ||
			    (rc = check_relations(&c.tmp, c.line, file, err))))
		return rc;
	*p = c.tmp;
	return JV_OK;
}

int jv_policy_parse(struct jv_policy *p, const char *buf, size_t len,
		    const char *file, bool require_all, struct jv_error *err)
{
	yaml_document_t doc;
	yaml_node_t *root;
	int rc;

	rc = jv_yaml_load(&doc, buf, len, file, err);
	if (rc)
		return rc;
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		/* no overrides is a valid override file; no keys is not a
		 * valid policy file */
		if (require_all)
			rc = jv_error_set(err, JV_ERR_INVAL, file, 0,
					  "empty policy (version and the required keys are missing)");
	} else {
		rc = jv_policy_parse_node(p, &doc, root, file, require_all,
					  err);
	}
	yaml_document_delete(&doc);
	return rc;
}

void jv_policy_defaults(struct jv_policy *p)
{
	memset(p, 0, sizeof(*p));
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &schema[i];

		switch (f->type) {
		case T_U64:
			*(uint64_t *)slot(p, f) = f->defu;
			break;
		case T_U32:
		case T_PROTOS:
			*(uint32_t *)slot(p, f) = (uint32_t)f->defu;
			break;
		case T_DOUBLE:
			*(double *)slot(p, f) = f->defd;
			break;
		case T_BOOL:
			*(bool *)slot(p, f) = f->defu != 0;
			break;
		case T_VERSION:
			snprintf(slot(p, f), sizeof(p->version), "%s", f->defs);
			break;
		}
	}
}

/* Shortest "%g" text that strtod reads back as exactly d, so a formatted
 * policy parses back to the same bits; ".0" keeps it visibly a number. */
static void format_double(double d, char *buf, size_t cap)
{
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, cap, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (!strpbrk(buf, ".eEn"))
		strncat(buf, ".0", cap - strlen(buf) - 1);
}

static void format_protos(uint32_t bits, char *buf, size_t cap)
{
	snprintf(buf, cap, "[%s%s%s]", bits & JV_PROTO_UDP ? "udp" : "",
		 (bits & JV_PROTO_UDP) && (bits & JV_PROTO_TCP) ? ", " : "",
		 bits & JV_PROTO_TCP ? "tcp" : "");
}

/* The value of one field as YAML text. */
static void format_value(const struct jv_policy *p, const struct field *f,
			 char *buf, size_t cap)
{
	switch (f->type) {
	case T_U64:
	case T_U32:
		snprintf(buf, cap, "%" PRIu64, get_uint(p, f));
		break;
	case T_DOUBLE:
		format_double(*(const double *)cslot(p, f), buf, cap);
		break;
	case T_BOOL:
		snprintf(buf, cap, "%s",
			 *(const bool *)cslot(p, f) ? "true" : "false");
		break;
	case T_VERSION:
		snprintf(buf, cap, "\"%.*s\"", (int)sizeof(p->version) - 1,
			 (const char *)cslot(p, f));
		break;
	case T_PROTOS:
		format_protos(*(const uint32_t *)cslot(p, f), buf, cap);
		break;
	}
}

/* One field of a policy built in code, against the same bounds. */
static int check_value(const struct jv_policy *p, const struct field *f,
		       const char *file, struct jv_error *err)
{
	const char *v = cslot(p, f);
	uint32_t bits;
	char text[64], name[64];

	format_value(p, f, text, sizeof(text));
	switch (f->type) {
	case T_U64:
	case T_U32:
		return check_uint(f, get_uint(p, f), text, file, 0, err);
	case T_DOUBLE:
		return check_double(f, *(const double *)v, text, file, 0, err);
	case T_BOOL:
		return JV_OK;
	case T_VERSION:
		if (version_ok(v, strnlen(v, sizeof(p->version))))
			return JV_OK;
		break;
	case T_PROTOS:
		bits = *(const uint32_t *)v;
		if (bits && !(bits & ~(JV_PROTO_UDP | JV_PROTO_TCP)))
			return JV_OK;
		break;
	}
	return jv_error_set(err, JV_ERR_INVAL, file, 0, "%s: invalid value %s",
			    dotted(f, name, sizeof(name)), text);
}

int jv_policy_validate(const struct jv_policy *p, const char *file,
		       struct jv_error *err)
{
	int rc;

	for (size_t i = 0; i < NFIELDS; i++)
		if ((rc = check_value(p, &schema[i], file, err)))
			return rc;
	return check_relations(p, NULL, file, err);
}

struct out {
	char *buf;
	size_t cap, len;
	bool short_;
};

static void emit(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->short_)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->cap - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->cap - o->len)
		o->short_ = true;
	else
		o->len += (size_t)n;
}

int jv_policy_format(const struct jv_policy *p, char *buf, size_t cap)
{
	struct out o = { .buf = buf, .cap = cap };
	const char *sec = NULL;
	char val[64];

	if (!buf || cap == 0)
		return JV_ERR_SHORT;
	for (size_t i = 0; i < NFIELDS; i++) {
		const struct field *f = &schema[i];

		if (f->section && (!sec || strcmp(sec, f->section))) {
			emit(&o, "%s:\n", f->section);
			sec = f->section;
		}
		format_value(p, f, val, sizeof(val));
		emit(&o, "%s%s: %s\n", f->section ? "  " : "", f->key, val);
	}
	if (o.short_ || o.len > INT32_MAX)
		return JV_ERR_SHORT;
	return (int)o.len;
}
