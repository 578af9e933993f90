/* The schema-row engine behind the policy, the daemon configuration and
 * the sim scenarios. A mapping is walked once, in document order: each key
 * finds its row (or the section its dotted rows live in), so an unknown
 * key, a key of the other role and a key given twice are refused where
 * they stand; then the required rows that were not seen are reported. */
#include "core/schema.h"

#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/yamlx.h"

#define MAX_ROWS 64      /* rows of one schema */
#define MAX_SECTIONS 16  /* sections seen in one mapping */

int jv_schema_fail(struct jv_sctx *c, int code, const yaml_node_t *n,
		   const char *fmt, ...)
{
	char msg[sizeof(c->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return jv_error_set(c->err, code, c->file, jv_yaml_line(n), "%s", msg);
}

/* Untrusted text quoted in a message: bounded, and printable ASCII only, so
 * a hostile file cannot put escape sequences on a terminal or bad UTF-8 in
 * an audit event. */
const char *jv_schema_shown(const char *s, size_t len, char *buf, size_t cap)
{
	size_t i, max = cap - 4;

	for (i = 0; i < len && i < max; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (i < len)
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

static const char *shown(const yaml_node_t *n, char *buf, size_t cap)
{
	return jv_schema_shown((const char *)n->data.scalar.value,
			       n->data.scalar.length, buf, cap);
}

const char *jv_schema_join(char *buf, size_t cap, const char *path,
			   const char *key)
{
	snprintf(buf, cap, "%s%s%s", path, *path && *key ? "." : "", key);
	return buf;
}

const char *jv_sname_of(const struct jv_sname *names, int value)
{
	for (; names && names->name; names++)
		if (names->value == value)
			return names->name;
	return NULL;
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

/* What the document holds instead, for "expected X, got Y". */
const char *jv_schema_describe(const yaml_node_t *n, char *buf, size_t cap)
{
	char text[48];

	if (!n)
		return "nothing";
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

int jv_schema_type_error(struct jv_sctx *c, const yaml_node_t *v,
			 const char *expect)
{
	char got[96];

	return jv_schema_fail(c, JV_ERR_INVAL, v, "%s: expected %s, got %s",
			      c->key, expect, jv_schema_describe(v, got, sizeof(got)));
}

int jv_schema_missing(struct jv_sctx *c, const yaml_node_t *map,
		      const char *key)
{
	return jv_schema_fail(c, JV_ERR_INVAL, map, "%s: required key missing",
			      key);
}

static int plain_key(struct jv_sctx *c, const yaml_node_t *k,
		     const char *path)
{
	char got[96];

	if (k && k->type == YAML_SCALAR_NODE)
		return JV_OK;
	return jv_schema_fail(c, JV_ERR_INVAL, k,
			      "%s%skeys must be plain names, got %s", path,
			      *path ? ": " : "", jv_schema_describe(k, got, sizeof(got)));
}

static bool same_key(const yaml_node_t *a, const yaml_node_t *b)
{
	return a->data.scalar.length == b->data.scalar.length &&
	       memcmp(a->data.scalar.value, b->data.scalar.value,
		      a->data.scalar.length) == 0;
}

int jv_schema_unique_keys(struct jv_sctx *c, const yaml_node_t *map,
			  const char *path)
{
	char name[160], t[48];
	int rc;

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(c->doc, p->key);

		if ((rc = plain_key(c, k, path)))
			return rc;
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start;
		     q < p; q++) {
			yaml_node_t *o = yaml_document_get_node(c->doc, q->key);

			if (same_key(o, k))
				return jv_schema_fail(
					c, JV_ERR_INVAL, k,
					"%s: duplicate key (first at line %d)",
					jv_schema_join(name, sizeof(name), path,
						       shown(k, t, sizeof(t))),
					jv_yaml_line(o));
		}
	}
	return JV_OK;
}

yaml_node_t *jv_schema_find(yaml_document_t *doc, yaml_node_t *map,
			    const char *key)
{
	char part[64];
	const char *dot;

	while (map && (dot = strchr(key, '.'))) {
		snprintf(part, sizeof(part), "%.*s", (int)(dot - key), key);
		map = jv_yaml_get(doc, map, part);
		key = dot + 1;
	}
	return jv_yaml_get(doc, map, key);
}

/* ---- values ---- */

static void *at(void *target, size_t off)
{
	return (char *)target + off;
}

static const void *cat(const void *target, size_t off)
{
	return (const char *)target + off;
}

static uint64_t get_uint(const struct jv_srow *r, const void *slot)
{
	if (r->type == JV_ST_U64)
		return *(const uint64_t *)slot;
	return *(const uint32_t *)slot;
}

static int check_uint(struct jv_sctx *c, const struct jv_srow *r, uint64_t u,
		      const char *text, const yaml_node_t *v)
{
	if (u < r->min || u > r->max)
		return jv_schema_fail(c, JV_ERR_RANGE, v,
				      "%s: value %s out of range (allowed %" PRIu64
				      "..%" PRIu64 ")", c->key, text, r->min,
				      r->max);
	if (r->step && u % r->step)
		return jv_schema_fail(c, JV_ERR_RANGE, v,
				      "%s: value %s is not a multiple of %" PRIu64,
				      c->key, text, r->step);
	return JV_OK;
}

static int check_double(struct jv_sctx *c, const struct jv_srow *r, double d,
			const char *text, const yaml_node_t *v)
{
	bool low = r->dmin_open ? !(d > r->dmin) : !(d >= r->dmin);

	if (isfinite(d) && !low && d <= r->dmax)
		return JV_OK;
	if (r->dmin_open)
		return jv_schema_fail(c, JV_ERR_RANGE, v,
				      "%s: value %s out of range (allowed %g..%g, %g excluded)",
				      c->key, text, r->dmin, r->dmax, r->dmin);
	return jv_schema_fail(c, JV_ERR_RANGE, v,
			      "%s: value %s out of range (allowed %g..%g)",
			      c->key, text, r->dmin, r->dmax);
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

static int parse_uint(struct jv_sctx *c, const struct jv_srow *r,
		      yaml_node_t *v, void *slot)
{
	char text[48];
	uint64_t u;
	int rc;

	if (jv_yaml_u64(v, &u) != 0) {
		if (!int_literal(v))
			return jv_schema_type_error(c, v, "an integer");
		return jv_schema_fail(c, JV_ERR_RANGE, v,
				      "%s: value %s out of range (allowed %" PRIu64
				      "..%" PRIu64 ")", c->key,
				      shown(v, text, sizeof(text)), r->min, r->max);
	}
	if ((rc = check_uint(c, r, u, shown(v, text, sizeof(text)), v)))
		return rc;
	if (r->type == JV_ST_U64)
		*(uint64_t *)slot = u;
	else
		*(uint32_t *)slot = (uint32_t)u;
	return JV_OK;
}

static int parse_double(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot)
{
	char text[48];
	double d;
	int rc;

	if (jv_yaml_double(v, &d) != 0)
		return jv_schema_type_error(c, v, "a number");
	if ((rc = check_double(c, r, d, shown(v, text, sizeof(text)), v)))
		return rc;
	*(double *)slot = d;
	return JV_OK;
}

/* Control characters (NUL included: libyaml keeps "\0" and C would cut
 * the string there) are refused in every string. */
int jv_schema_text(struct jv_sctx *c, const yaml_node_t *v, const char **s)
{
	*s = NULL;
	if (v->type != YAML_SCALAR_NODE)
		return jv_schema_type_error(c, v, "a single value");
	for (size_t i = 0; i < v->data.scalar.length; i++)
		if (v->data.scalar.value[i] < 0x20 ||
		    v->data.scalar.value[i] == 0x7f)
			return jv_schema_fail(c, JV_ERR_INVAL, v,
					      "%s: contains a control character",
					      c->key);
	*s = (const char *)v->data.scalar.value;
	return JV_OK;
}

static int parse_string(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot)
{
	size_t len, max = r->max ? r->max : r->size - 1;
	const char *s;
	int rc;

	if ((rc = jv_schema_text(c, v, &s)))
		return rc;
	len = v->data.scalar.length;
	if (len < r->min || len > max)
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: %zu characters (allowed %" PRIu64
				      "..%zu)", c->key, len, r->min, max);
	memcpy(slot, s, len + 1);
	return JV_OK;
}

static void store_int(void *slot, size_t size, int value)
{
	if (size == 1)
		*(uint8_t *)slot = (uint8_t)value;
	else
		*(int *)slot = value;
}

static int parse_enum(struct jv_sctx *c, const struct jv_srow *r,
		      yaml_node_t *v, void *slot)
{
	char list[160] = "", t[48];

	if (v->type != YAML_SCALAR_NODE)
		return jv_schema_type_error(c, v, "a single value");
	for (const struct jv_sname *n = r->names; n->name; n++) {
		if (scalar_is(v, n->name)) {
			store_int(slot, r->size, n->value);
			return JV_OK;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", n == r->names ? "" : ", ", n->name);
	}
	return jv_schema_fail(c, JV_ERR_INVAL, v, "%s: unknown %s '%s' (allowed %s)",
			      c->key, r->noun ? r->noun : "value",
			      shown(v, t, sizeof(t)), list);
}

static int parse_map(struct jv_sctx *c, const struct jv_schema *s,
		     yaml_node_t *map, const char *path, void *target,
		     int idx);

static int parse_list(struct jv_sctx *c, const struct jv_srow *r,
		      yaml_node_t *v, void *slot, void *target)
{
	char name[sizeof(c->key)], list[sizeof(c->key) - 16], got[96];
	int n, rc;

	if (v->type != YAML_SEQUENCE_NODE)
		return jv_schema_type_error(c, v, "a list");
	n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
	if ((uint64_t)n < r->min || (uint64_t)n > r->max)
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: %d entries (allowed %" PRIu64
				      "..%" PRIu64 ")", c->key, n, r->min, r->max);
	snprintf(list, sizeof(list), "%.*s", (int)sizeof(list) - 1, c->key);
	for (int i = 0; i < n; i++) {
		yaml_node_t *e = yaml_document_get_node(
			c->doc, v->data.sequence.items.start[i]);
		void *item = (char *)slot + (size_t)i * r->size;

		snprintf(name, sizeof(name), "%s[%d]", list, i);
		if (r->items && e->type != YAML_MAPPING_NODE)
			return jv_schema_fail(c, JV_ERR_INVAL, e,
					      "%s: expected a mapping, got %s",
					      name, jv_schema_describe(e, got, sizeof(got)));
		if (r->items) {
			if (r->items->init)
				r->items->init(item);
			rc = parse_map(c, r->items, e, name, item, i);
		} else {
			rc = jv_schema_value(c, r->item, e, name, item);
		}
		if (rc)
			return rc;
		if (r->count_off)
			*(uint32_t *)at(target, r->count_off) = (uint32_t)i + 1;
	}
	return JV_OK;
}

static int value(struct jv_sctx *c, const struct jv_srow *r, yaml_node_t *v,
		 void *target)
{
	void *slot = at(target, r->off);
	bool b;
	int rc = JV_OK;

	switch (r->type) {
	case JV_ST_U64:
	case JV_ST_U32:
		rc = parse_uint(c, r, v, slot);
		break;
	case JV_ST_DOUBLE:
		rc = parse_double(c, r, v, slot);
		break;
	case JV_ST_BOOL:
		if (jv_yaml_bool(v, &b) != 0)
			return jv_schema_type_error(c, v, "true or false");
		*(bool *)slot = b;
		break;
	case JV_ST_STRING:
		rc = parse_string(c, r, v, slot);
		break;
	case JV_ST_ENUM:
		rc = parse_enum(c, r, v, slot);
		break;
	case JV_ST_LIST:
		rc = parse_list(c, r, v, slot, target);
		break;
	case JV_ST_CUSTOM:
		return r->parse(c, r, v, slot);
	}
	if (rc == JV_OK && r->parse)
		rc = r->parse(c, r, v, slot);
	return rc;
}

int jv_schema_value(struct jv_sctx *c, const struct jv_srow *r,
		    yaml_node_t *v, const char *path, void *target)
{
	snprintf(c->key, sizeof(c->key), "%s", path);
	return value(c, r, v, target);
}

/* ---- mappings ---- */

struct frame {
	struct jv_sctx *c;
	const struct jv_schema *s;
	const char *path;
	void *target;
	int line[MAX_ROWS];            /* where each row's key is, 0: absent */
	struct {
		const char *key;       /* a row key whose section this is */
		size_t len;            /* of "section." in it */
		int line;
	} sec[MAX_SECTIONS];
	int nsec;
};

static bool role_ok(const struct jv_sctx *c, const struct jv_srow *r)
{
	return !r->roles || !c->role || (r->roles & c->role);
}

/* The row named prefix + k exactly, or NULL. */
static const struct jv_srow *find_row(const struct jv_schema *s,
				      const char *prefix, size_t plen,
				      const char *k, size_t klen)
{
	for (size_t i = 0; i < s->nrows; i++) {
		const char *key = s->rows[i].key;

		if (strlen(key) == plen + klen && !memcmp(key, prefix, plen) &&
		    !memcmp(key + plen, k, klen))
			return &s->rows[i];
	}
	return NULL;
}

/* The first row under section prefix + k, or NULL. */
static const struct jv_srow *find_section(const struct jv_schema *s,
					  const char *prefix, size_t plen,
					  const char *k, size_t klen)
{
	for (size_t i = 0; i < s->nrows; i++) {
		const char *key = s->rows[i].key;

		if (strlen(key) > plen + klen + 1 &&
		    !memcmp(key, prefix, plen) &&
		    !memcmp(key + plen, k, klen) && key[plen + klen] == '.')
			return &s->rows[i];
	}
	return NULL;
}

/* `session:` with nothing under it (all keys commented out) is an empty
 * section, not an error. */
static bool is_null(const yaml_node_t *v)
{
	return v->type == YAML_SCALAR_NODE &&
	       v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (scalar_is(v, "") || scalar_is(v, "~") || scalar_is(v, "null"));
}

/* A key written at another level: say where it belongs. */
static int unknown_key(struct frame *f, const yaml_node_t *k,
		       const char *name)
{
	const char *s = (const char *)k->data.scalar.value;
	size_t len = k->data.scalar.length;
	char hint[sizeof(f->c->key)];

	for (size_t i = 0; i < f->s->nrows; i++) {
		const char *key = f->s->rows[i].key;
		const char *last = strrchr(key, '.');

		if (last && text_is(s, len, last + 1))
			return jv_schema_fail(f->c, JV_ERR_INVAL, k,
					      "%s: unknown key (did you mean %s?)",
					      name,
					      jv_schema_join(hint, sizeof(hint),
							     f->path, key));
	}
	return jv_schema_fail(f->c, JV_ERR_INVAL, k, "%s: unknown key", name);
}

static int walk(struct frame *f, yaml_node_t *map, const char *prefix);

static int section(struct frame *f, const struct jv_srow *first,
		   yaml_node_t *k, yaml_node_t *v, const char *name,
		   size_t len)
{
	struct jv_sctx *c = f->c;
	char sub[sizeof(c->key)], got[96];

	for (int i = 0; i < f->nsec; i++)
		if (f->sec[i].len == len &&
		    !memcmp(f->sec[i].key, first->key, len))
			return jv_schema_fail(c, JV_ERR_INVAL, k,
					      "%s: duplicate key (first at line %d)",
					      name, f->sec[i].line);
	if (f->nsec == MAX_SECTIONS)
		return jv_schema_fail(c, JV_ERR_INVAL, k, "%s: too many sections",
				      name);
	f->sec[f->nsec].key = first->key;
	f->sec[f->nsec].len = len;
	f->sec[f->nsec++].line = jv_yaml_line(k);
	if (is_null(v))
		return JV_OK;
	if (v->type != YAML_MAPPING_NODE)
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: expected a mapping, got %s", name,
				      jv_schema_describe(v, got, sizeof(got)));
	snprintf(sub, sizeof(sub), "%.*s", (int)len, first->key);
	return walk(f, v, sub);
}

static int pair(struct frame *f, yaml_node_pair_t *p, const char *prefix)
{
	struct jv_sctx *c = f->c;
	const struct jv_srow *r;
	yaml_node_t *k = yaml_document_get_node(c->doc, p->key);
	yaml_node_t *v = yaml_document_get_node(c->doc, p->value);
	char name[sizeof(c->key)], rel[sizeof(c->key)], t[48];
	size_t plen = strlen(prefix), i;
	const char *ks;
	int rc;

	snprintf(rel, sizeof(rel), "%.*s", plen ? (int)plen - 1 : 0, prefix);
	if ((rc = plain_key(c, k, jv_schema_join(name, sizeof(name), f->path,
						 rel))))
		return rc;
	ks = (const char *)k->data.scalar.value;
	snprintf(rel, sizeof(rel), "%s%s", prefix, shown(k, t, sizeof(t)));
	jv_schema_join(name, sizeof(name), f->path, rel);
	r = find_row(f->s, prefix, plen, ks, k->data.scalar.length);
	if (!r) {
		r = find_section(f->s, prefix, plen, ks, k->data.scalar.length);
		if (!r)
			return unknown_key(f, k, name);
		return section(f, r, k, v, name,
			       plen + k->data.scalar.length + 1);
	}
	if (!role_ok(c, r))
		return jv_schema_fail(c, JV_ERR_INVAL, k, "%s: only for role %s",
				      name, c->role_names[__builtin_ctz(r->roles)]);
	i = (size_t)(r - f->s->rows);
	if (f->line[i])
		return jv_schema_fail(c, JV_ERR_INVAL, k,
				      "%s: duplicate key (first at line %d)",
				      name, f->line[i]);
	f->line[i] = jv_yaml_line(k);
	if (r->line_off)
		*(int *)at(f->target, r->line_off) = jv_yaml_line(v);
	snprintf(c->key, sizeof(c->key), "%s", name);
	return value(c, r, v, f->target);
}

static int walk(struct frame *f, yaml_node_t *map, const char *prefix)
{
	int rc;

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++)
		if ((rc = pair(f, p, prefix)))
			return rc;
	return JV_OK;
}

/* A required row not seen: at the line of the innermost section of it
 * that is there, else of the mapping itself. */
static int check_required(struct frame *f, yaml_node_t *map)
{
	char name[sizeof(f->c->key)];

	for (size_t i = 0; i < f->s->nrows; i++) {
		const struct jv_srow *r = &f->s->rows[i];
		int line = jv_yaml_line(map);
		size_t best = 0;

		if (!r->required || f->line[i] || !role_ok(f->c, r) ||
		    f->c->partial)
			continue;
		for (int j = 0; j < f->nsec; j++)
			/* strncmp: r->key may be shorter than the section
			 * ("version" against "volatility.") */
			if (f->sec[j].len > best &&
			    !strncmp(f->sec[j].key, r->key, f->sec[j].len)) {
				best = f->sec[j].len;
				line = f->sec[j].line;
			}
		return jv_error_set(f->c->err, JV_ERR_INVAL, f->c->file, line,
				    "%s: required key missing",
				    jv_schema_join(name, sizeof(name), f->path,
						   r->key));
	}
	return JV_OK;
}

static int parse_map(struct jv_sctx *c, const struct jv_schema *s,
		     yaml_node_t *map, const char *path, void *target, int idx)
{
	struct frame f = { .c = c, .s = s, .path = path, .target = target };
	char got[96];
	int rc;

	if (s->nrows > MAX_ROWS)
		return jv_schema_fail(c, JV_ERR_INVAL, map,
				      "%s: schema of more than %d rows", path,
				      MAX_ROWS);
	if (!map || map->type != YAML_MAPPING_NODE)
		return jv_schema_fail(c, JV_ERR_INVAL, map,
				      "%s%sexpected a mapping, got %s", path,
				      *path ? ": " : "",
				      jv_schema_describe(map, got, sizeof(got)));
	if ((rc = walk(&f, map, "")) || (rc = check_required(&f, map)))
		return rc;
	return s->check ? s->check(c, target, map, path, idx) : JV_OK;
}

int jv_schema_parse(struct jv_sctx *c, const struct jv_schema *s,
		    yaml_node_t *map, const char *path, void *target)
{
	return parse_map(c, s, map, path, target, -1);
}

void jv_schema_defaults(const struct jv_schema *s, void *target,
			unsigned role)
{
	for (size_t i = 0; i < s->nrows; i++) {
		const struct jv_srow *r = &s->rows[i];
		void *slot = at(target, r->off);

		if (role && r->roles && !(r->roles & role))
			continue;
		switch (r->type) {
		case JV_ST_U64:
			*(uint64_t *)slot = r->defu;
			break;
		case JV_ST_U32:
			*(uint32_t *)slot = (uint32_t)r->defu;
			break;
		case JV_ST_DOUBLE:
			*(double *)slot = r->defd;
			break;
		case JV_ST_BOOL:
			*(bool *)slot = r->defu != 0;
			break;
		case JV_ST_ENUM:
			store_int(slot, r->size, (int)r->defu);
			break;
		case JV_ST_STRING:
		case JV_ST_CUSTOM:
			if (r->defs)
				snprintf(slot, r->size, "%s", r->defs);
			else if (r->type == JV_ST_CUSTOM && r->size == 4)
				*(uint32_t *)slot = (uint32_t)r->defu;
			break;
		case JV_ST_LIST:
			break;
		}
	}
}

/* ---- values built in code ---- */

/* Shortest "%g" text that strtod reads back as exactly d, so a formatted
 * value parses back to the same bits; ".0" keeps it visibly a number. */
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

void jv_schema_format(const struct jv_srow *r, const void *target, char *buf,
		      size_t cap)
{
	const void *slot = cat(target, r->off);

	switch (r->type) {
	case JV_ST_U64:
	case JV_ST_U32:
		snprintf(buf, cap, "%" PRIu64, get_uint(r, slot));
		break;
	case JV_ST_DOUBLE:
		format_double(*(const double *)slot, buf, cap);
		break;
	case JV_ST_BOOL:
		snprintf(buf, cap, "%s", *(const bool *)slot ? "true" : "false");
		break;
	default:
		snprintf(buf, cap, "?");
		break;
	}
}

int jv_schema_check(struct jv_sctx *c, const struct jv_srow *r,
		    const void *target)
{
	const void *slot = cat(target, r->off);
	char text[64];

	jv_schema_format(r, target, text, sizeof(text));
	switch (r->type) {
	case JV_ST_U64:
	case JV_ST_U32:
		return check_uint(c, r, get_uint(r, slot), text, NULL);
	case JV_ST_DOUBLE:
		return check_double(c, r, *(const double *)slot, text, NULL);
	default:
		return JV_OK;
	}
}
