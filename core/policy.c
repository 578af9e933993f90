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

#include "core/schema.h"
#include "core/yamlx.h"

/* A compile error unless the struct member has the C type the row claims,
 * so a row cannot drift from struct jv_policy. */
#define IS(name, ctype) (0 * sizeof(char[_Generic( \
	((struct jv_policy *)0)->name, ctype: 1, default: -1)]))
#define ROW(sec, name, t, ctype, req) \
	.key = sec "." #name, .type = t, .required = req, \
	.off = offsetof(struct jv_policy, name) + IS(name, ctype)
#define U64(sec, name, req, lo, hi, def) \
	ROW(sec, name, JV_ST_U64, uint64_t, req), .min = lo, .max = hi, \
	.defu = def
#define U32(sec, name, req, lo, hi, def) \
	ROW(sec, name, JV_ST_U32, uint32_t, req), .min = lo, .max = hi, \
	.defu = def
#define DBL(sec, name, req, lo, hi, def) \
	ROW(sec, name, JV_ST_DOUBLE, double, req), .dmin = lo, .dmax = hi, \
	.defd = def
#define BOOL(sec, name, def) \
	ROW(sec, name, JV_ST_BOOL, bool, false), .defu = def
#define PROTOS(sec, name, def) \
	ROW(sec, name, JV_ST_CUSTOM, uint32_t, false), .defu = def, \
	.size = sizeof(uint32_t), .parse = parse_protos
#define VERSION(name, req, def) \
	.key = #name, .type = JV_ST_CUSTOM, .required = req, .defs = def, \
	.off = offsetof(struct jv_policy, name) + IS(name, char *), \
	.size = sizeof(((struct jv_policy *)0)->name), .parse = parse_version

static int parse_protos(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot);
static int parse_version(struct jv_sctx *c, const struct jv_srow *r,
			 yaml_node_t *v, void *slot);

static const struct jv_srow rows[] = {
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
	{ U32("volatility", data_silence_rtts, false, 0, 100, 4) },
	{ U64("volatility", data_silence_floor_ms, false, 10, 60000, 100) },
	{ U32("switching", max_switches_per_min, true, 1, 64, 8) },
	{ U64("switching", switch_cooldown_ms, false, 0, 600000, 1500) },
	{ U64("switching", recovery_window_ms, true, 100, 600000, 8000) },
	{ DBL("switching", switch_improvement_factor, false, 1.0, 10.0, 1.10) },
	{ U64("switching", failback_after_ms, false, 0, 600000, 0) },
	/* 16 MiB: a few congestion windows of a fast flow; 0 = off */
	{ U32("switching", resend_max_bytes, false, 0, 16777216, 262144) },
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

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static int check_policy(struct jv_sctx *c, void *target, yaml_node_t *map,
			const char *path, int idx);

static const struct jv_schema schema = {
	.rows = rows, .nrows = NROWS, .check = check_policy,
};

const struct jv_sname jv_proto_names[] = {
	{ "udp", JV_PROTO_UDP }, { "tcp", JV_PROTO_TCP }, { NULL, 0 },
};

const char *jv_proto_name(unsigned proto)
{
	return jv_sname_of(jv_proto_names, (int)proto);
}

unsigned jv_proto_from_name(const char *s, size_t len)
{
	for (const struct jv_sname *n = jv_proto_names; n->name; n++)
		if (strlen(n->name) == len && memcmp(n->name, s, len) == 0)
			return (unsigned)n->value;
	return 0;
}

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

/* quoted or plain: `version: 1.0` is as clear as "1.0" */
static int parse_version(struct jv_sctx *c, const struct jv_srow *r,
			 yaml_node_t *v, void *slot)
{
	(void)r;
	if (v->type != YAML_SCALAR_NODE ||
	    !version_ok((const char *)v->data.scalar.value,
			v->data.scalar.length))
		return jv_schema_type_error(c, v, "a version string \"X.Y\"");
	memcpy(slot, v->data.scalar.value, v->data.scalar.length + 1);
	return JV_OK;
}

static int parse_protos(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot)
{
	static const char expect[] = "a list of protocols such as [udp, tcp]";
	char text[48];
	uint32_t bits = 0;

	(void)r;
	if (v->type != YAML_SEQUENCE_NODE)
		return jv_schema_type_error(c, v, expect);
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++) {
		yaml_node_t *n = yaml_document_get_node(c->doc, *it);
		uint32_t bit;

		if (n->type != YAML_SCALAR_NODE)
			return jv_schema_type_error(c, n, expect);
		jv_schema_shown((const char *)n->data.scalar.value,
				n->data.scalar.length, text, sizeof(text));
		bit = jv_proto_from_name((const char *)n->data.scalar.value,
					 n->data.scalar.length);
		if (!bit)
			return jv_schema_fail(c, JV_ERR_INVAL, n,
					      "%s: unknown protocol '%s' (allowed udp, tcp)",
					      c->key, text);
		if (bits & bit)
			return jv_schema_fail(c, JV_ERR_INVAL, n,
					      "%s: %s listed twice", c->key, text);
		bits |= bit;
	}
	if (!bits)
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: empty list (name at least one of udp, tcp)",
				      c->key);
	*(uint32_t *)slot = bits;
	return JV_OK;
}

static const struct jv_srow *row_at(size_t off)
{
	for (size_t i = 0; i < NROWS; i++)
		if (rows[i].off == off)
			return &rows[i];
	return NULL;
}

static uint64_t get_uint(const struct jv_policy *p, const struct jv_srow *r)
{
	const char *at = (const char *)p + r->off;

	if (r->type == JV_ST_U64)
		return *(const uint64_t *)at;
	return *(const uint32_t *)at;
}

/*
 * The cross-field rules. With map (a whole policy read from a document),
 * the error is at the line of the first key of the rule the document
 * sets; path prefixes the names.
 */
static int check_relations(struct jv_sctx *c, const struct jv_policy *p,
			   yaml_node_t *map, const char *path)
{
	char na[128], nb[128];

	for (size_t i = 0; i < sizeof(relations) / sizeof(relations[0]); i++) {
		const struct jv_srow *ra = row_at(relations[i].a);
		const struct jv_srow *rb = row_at(relations[i].b);
		uint64_t a = get_uint(p, ra), b = get_uint(p, rb);
		bool ok = relations[i].op == GT ? a > b :
			  relations[i].op == LE ? a <= b : a >= b;
		yaml_node_t *at = NULL;

		if (ok)
			continue;
		if (map && !(at = jv_schema_find(c->doc, map, ra->key)))
			at = jv_schema_find(c->doc, map, rb->key);
		return jv_schema_fail(c, JV_ERR_RANGE, at,
				      "%s (%" PRIu64 ") %s %s (%" PRIu64 ")",
				      jv_schema_join(na, sizeof(na), path, ra->key),
				      a, relations[i].says,
				      jv_schema_join(nb, sizeof(nb), path, rb->key),
				      b);
	}
	return JV_OK;
}

/* a complete policy can be checked as a whole here, where the lines are
 * known; overrides only once all layers are applied */
static int check_policy(struct jv_sctx *c, void *target, yaml_node_t *map,
			const char *path, int idx)
{
	(void)idx;
	return c->partial ? JV_OK : check_relations(c, target, map, path);
}

int jv_policy_parse_node(struct jv_policy *p, yaml_document_t *doc,
			 yaml_node_t *node, const char *file,
			 const char *path, bool require_all,
			 struct jv_error *err)
{
	struct jv_sctx c = { .doc = doc, .file = file, .err = err,
			     .partial = !require_all };
	struct jv_policy tmp = *p;
	char got[96];
	int rc;

	path = path ? path : "";
	if (!node || node->type != YAML_MAPPING_NODE)
		return jv_error_set(err, JV_ERR_INVAL, file, jv_yaml_line(node),
				    "%s%sa policy is a mapping of sections, got %s",
				    path, *path ? ": " : "",
				    jv_schema_describe(node, got, sizeof(got)));
	if ((rc = jv_schema_parse(&c, &schema, node, path, &tmp)))
		return rc;
	*p = tmp;
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
		rc = jv_policy_parse_node(p, &doc, root, file, NULL,
					  require_all, err);
	}
	yaml_document_delete(&doc);
	return rc;
}

void jv_policy_defaults(struct jv_policy *p)
{
	memset(p, 0, sizeof(*p));
	jv_schema_defaults(&schema, p, 0);
}

static void format_protos(uint32_t bits, char *buf, size_t cap)
{
	snprintf(buf, cap, "[%s%s%s]", bits & JV_PROTO_UDP ? "udp" : "",
		 (bits & JV_PROTO_UDP) && (bits & JV_PROTO_TCP) ? ", " : "",
		 bits & JV_PROTO_TCP ? "tcp" : "");
}

/* The value of one row as YAML text. */
static void format_value(const struct jv_policy *p, const struct jv_srow *r,
			 char *buf, size_t cap)
{
	if (r->parse == parse_version)
		snprintf(buf, cap, "\"%.*s\"", (int)sizeof(p->version) - 1,
			 p->version);
	else if (r->parse == parse_protos)
		format_protos(p->allowed_protocols, buf, cap);
	else
		jv_schema_format(r, p, buf, cap);
}

int jv_policy_validate(const struct jv_policy *p, const char *file,
		       struct jv_error *err)
{
	struct jv_sctx c = { .file = file, .err = err };
	uint32_t bits = p->allowed_protocols;
	char text[64];
	int rc;

	for (size_t i = 0; i < NROWS; i++) {
		const struct jv_srow *r = &rows[i];
		bool bad = false;

		snprintf(c.key, sizeof(c.key), "%s", r->key);
		if (r->parse == parse_version)
			bad = !version_ok(p->version,
					  strnlen(p->version, sizeof(p->version)));
		else if (r->parse == parse_protos)
			bad = !bits || (bits & ~(JV_PROTO_UDP | JV_PROTO_TCP));
		else if ((rc = jv_schema_check(&c, r, p)))
			return rc;
		if (!bad)
			continue;
		format_value(p, r, text, sizeof(text));
		return jv_error_set(err, JV_ERR_INVAL, file, 0,
				    "%s: invalid value %s", r->key, text);
	}
	return check_relations(&c, p, NULL, "");
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
	size_t seclen = 0;
	char val[64];

	if (!buf || cap == 0)
		return JV_ERR_SHORT;
	for (size_t i = 0; i < NROWS; i++) {
		const struct jv_srow *r = &rows[i];
		const char *dot = strchr(r->key, '.');

		if (dot && (!sec || (size_t)(dot - r->key) != seclen ||
			    strncmp(sec, r->key, seclen))) {
			sec = r->key;
			seclen = (size_t)(dot - r->key);
			emit(&o, "%.*s:\n", (int)seclen, sec);
		}
		format_value(p, r, val, sizeof(val));
		emit(&o, "%s%s: %s\n", dot ? "  " : "", dot ? dot + 1 : r->key,
		     val);
	}
	if (o.short_ || o.len > INT32_MAX)
		return JV_ERR_SHORT;
	return (int)o.len;
}
