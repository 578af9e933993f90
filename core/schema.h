/* One binder from YAML to C structs: a table of rows (key path, type,
 * offset, bounds, default, required, roles, hook) drives parsing, defaults
 * and every message. The policy, the daemon configuration and the sim
 * scenarios are each such a table. Messages read
 * "FILE:LINE: key.path: what is wrong (allowed ...)". No file I/O. */
#ifndef JV_SCHEMA_H
#define JV_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "core/err.h"

enum jv_stype {
	JV_ST_U64,      /* uint64_t in min..max, a multiple of step */
	JV_ST_U32,      /* uint32_t, the same */
	JV_ST_DOUBLE,   /* double in dmin..dmax (dmin excluded if dmin_open) */
	JV_ST_BOOL,     /* bool: true or false */
	JV_ST_STRING,   /* char[size], min..max characters, no control bytes */
	JV_ST_ENUM,     /* one of names: its value stored in size bytes */
	JV_ST_LIST,     /* min..max entries: mappings (items) or values (item) */
	JV_ST_CUSTOM,   /* parse does it all */
};

/* A name and the value it stands for; a table ends with name NULL. */
struct jv_sname {
	const char *name;
	int value;
};

struct jv_schema;
struct jv_srow;

/*
 * The state of one parse. A hook reads what it needs from here (the
 * document, the caller's state in user) and reports through
 * jv_schema_fail(); key holds the full dotted path of the value at hand.
 */
struct jv_sctx {
	yaml_document_t *doc;
	const char *file;
	struct jv_error *err;
	unsigned role;                   /* rows of other roles are refused */
	bool partial;                    /* required rows need not be there */
	const char *const *role_names;   /* by bit: "only for role NAME" */
	void *user;
	char key[128];
};

/* CUSTOM: parses v into slot. Other types: a check once the value is in
 * slot. Returns 0 or what jv_schema_fail returned. */
typedef int (*jv_shook)(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot);

struct jv_srow {
	const char *key;              /* dotted: "tun.mtu" sits in map "tun" */
	enum jv_stype type;
	size_t off;                   /* of the value in the target */
	size_t size;                  /* STRING capacity, ENUM width, LIST item */
	unsigned roles;               /* 0: every role */
	bool required;
	uint64_t min, max, step;      /* integers; STRING length; LIST entries */
	double dmin, dmax;
	bool dmin_open;
	uint64_t defu;                /* defaults: integers, bools, enums */
	double defd;
	const char *defs;
	const struct jv_sname *names; /* ENUM */
	const char *noun;             /* ENUM: "unknown NOUN 'x'" ("value") */
	const struct jv_schema *items;/* LIST of mappings */
	const struct jv_srow *item;   /* LIST of single values */
	size_t count_off;             /* LIST: uint32_t number of entries */
	jv_shook parse;
	const char *expect;           /* CUSTOM: "expected EXPECT, got ..." */
	size_t line_off;              /* int receiving the value's line; 0: none */
};

struct jv_schema {
	const struct jv_srow *rows;
	size_t nrows;
	/* before a list entry is read */
	void (*init)(void *target);
	/* once every key of the mapping is read: checks across keys and,
	 * for a list entry (idx >= 0), against the entries before it */
	int (*check)(struct jv_sctx *c, void *target, yaml_node_t *map,
		     const char *path, int idx);
};

/* Reads mapping map into target: unknown keys, keys of another role, keys
 * given twice, wrong types, values out of bounds and missing required
 * keys are refused. path prefixes every key in messages ("" for none).
 * Absent keys leave target as it was (see jv_schema_defaults). */
int jv_schema_parse(struct jv_sctx *c, const struct jv_schema *s,
		    yaml_node_t *map, const char *path, void *target);

/* Reads one value as row r says, named path in messages. */
int jv_schema_value(struct jv_sctx *c, const struct jv_srow *r,
		    yaml_node_t *v, const char *path, void *target);

/* Writes each row's default for role (0: all rows) into target. */
void jv_schema_defaults(const struct jv_schema *s, void *target,
			unsigned role);

/* The text of an integer, double or bool value in target (a policy
 * written out); "?" for other types. */
void jv_schema_format(const struct jv_srow *r, const void *target, char *buf,
		      size_t cap);

/* Checks the bounds of a value built in code, as if read from a document
 * (named c->key, no line). */
int jv_schema_check(struct jv_sctx *c, const struct jv_srow *r,
		    const void *target);

/* Fills c->err with code, c->file, the line of n (0 if NULL) and the
 * message; returns code. */
int jv_schema_fail(struct jv_sctx *c, int code, const yaml_node_t *n,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "KEY: expected EXPECT, got WHAT-THE-DOCUMENT-HOLDS", KEY being c->key. */
int jv_schema_type_error(struct jv_sctx *c, const yaml_node_t *v,
			 const char *expect);

/* The text of a single value with no control character in it (NUL
 * included), else an error naming c->key. */
int jv_schema_text(struct jv_sctx *c, const yaml_node_t *v, const char **s);

/* "KEY: required key missing" at map's line. */
int jv_schema_missing(struct jv_sctx *c, const yaml_node_t *map,
		      const char *key);

/* Refuses a mapping that holds one key twice (libyaml keeps both) or a
 * key that is not a plain value; for maps a table does not describe. */
int jv_schema_unique_keys(struct jv_sctx *c, const yaml_node_t *map,
			  const char *path);

/* What the document holds, for "expected X, got Y": "a list", "'5000'",
 * "the quoted string \"5000\"", "nothing" for NULL. */
const char *jv_schema_describe(const yaml_node_t *n, char *buf, size_t cap);

/* Untrusted text fit for a message: printable ASCII, bounded. */
const char *jv_schema_shown(const char *s, size_t len, char *buf, size_t cap);

/* The name of value in names, or NULL. */
const char *jv_sname_of(const struct jv_sname *names, int value);

/* The node at dotted key below map ("session.max_lifetime_ms"), or NULL. */
yaml_node_t *jv_schema_find(yaml_document_t *doc, yaml_node_t *map,
			    const char *key);

/* "path.key" or "key": the name of a key inside path. */
const char *jv_schema_join(char *buf, size_t cap, const char *path,
			   const char *key);

#endif
