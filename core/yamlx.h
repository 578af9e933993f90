/* Small helpers over a libyaml document: load from a buffer, walk mappings,
 * read scalars with their line numbers. Used by policy, config and sim. */
#ifndef JV_YAMLX_H
#define JV_YAMLX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "core/err.h"

/* Loads buf into doc. On a syntax error fills err (file, line) and returns
 * JV_ERR_INVAL; an empty document yields a NULL root. Caller deletes doc
 * with yaml_document_delete() on success. */
int jv_yaml_load(yaml_document_t *doc, const char *buf, size_t len,
		 const char *file, struct jv_error *err);

/* 1-based line of a node. */
int jv_yaml_line(const yaml_node_t *node);

/* Value node of key in a mapping, or NULL. */
yaml_node_t *jv_yaml_get(yaml_document_t *doc, yaml_node_t *map,
			 const char *key);

/* Scalar text of a node (NUL-terminated by libyaml), or NULL if the node is
 * not a scalar. */
const char *jv_yaml_str(const yaml_node_t *node);

/* Strict scalar conversions; return 0 or JV_ERR_INVAL. */
int jv_yaml_u64(const yaml_node_t *node, uint64_t *out);
int jv_yaml_double(const yaml_node_t *node, double *out);
int jv_yaml_bool(const yaml_node_t *node, bool *out);

#endif
