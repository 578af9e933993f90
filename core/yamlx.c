/* Small helpers over libyaml's document API. The conversions are strict on
 * purpose: a policy or config value that is not exactly what it looks like
 * (a quoted "500", "0x10", " 5", "yes") is refused rather than guessed at. */
#include "core/yamlx.h"

#include <errno.h>
#include <math.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

/* libyaml frees without wiping, and a config may hold a private key
 * inline: every copy of the text it made is zeroed before it goes. What
 * libyaml's scanner reallocates while it grows a scalar is out of reach. */
static void wipe_parser(yaml_parser_t *p)
{
	if (p->raw_buffer.start)
		sodium_memzero(p->raw_buffer.start,
			       (size_t)(p->raw_buffer.end - p->raw_buffer.start));
	if (p->buffer.start)
		sodium_memzero(p->buffer.start,
			       (size_t)(p->buffer.end - p->buffer.start));
	/* scanned ahead of a syntax error and never parsed */
	for (yaml_token_t *t = p->tokens.head; t && t < p->tokens.tail; t++)
		if (t->type == YAML_SCALAR_TOKEN && t->data.scalar.value)
			sodium_memzero(t->data.scalar.value,
				       t->data.scalar.length);
	yaml_parser_delete(p);
}

static void wipe_event(yaml_event_t *ev)
{
	if (ev->type == YAML_SCALAR_EVENT && ev->data.scalar.value)
		sodium_memzero(ev->data.scalar.value, ev->data.scalar.length);
	yaml_event_delete(ev);
}

static int syntax_error(yaml_parser_t *parser, const char *file,
			struct jv_error *err)
{
	int line = (int)parser->problem_mark.line + 1;

	if (parser->error == YAML_MEMORY_ERROR)
		return jv_error_set(err, JV_ERR_NOMEM, file, 0, "out of memory");
	if (parser->context)
		return jv_error_set(err, JV_ERR_INVAL, file, line,
				    "YAML syntax error: %s (%s)",
				    parser->problem ? parser->problem : "?",
				    parser->context);
	return jv_error_set(err, JV_ERR_INVAL, file, line,
			    "YAML syntax error: %s",
			    parser->problem ? parser->problem : "?");
}

/* Far deeper than any policy, config or scenario needs: libyaml's scanner
 * slows down quadratically with flow nesting ("[[[[..."), so a hostile
 * megabyte would take minutes to load. */
#define MAX_DEPTH 64

static int check_event(const yaml_event_t *ev, int *depth, int *docs,
		       const char *file, struct jv_error *err)
{
	int line = (int)ev->start_mark.line + 1;

	switch (ev->type) {
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++*depth > MAX_DEPTH)
			return jv_error_set(err, JV_ERR_INVAL, file, line,
					    "nested deeper than %d levels",
					    MAX_DEPTH);
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		--*depth;
		break;
	case YAML_DOCUMENT_START_EVENT:
		/* yaml_parser_load() stops after the first document: a second
		 * one, or garbage after "...", would be silently ignored */
		if (++*docs > 1)
			return jv_error_set(err, JV_ERR_INVAL, file, line,
					    "more than one YAML document");
		break;
	default:
		break;
	}
	return JV_OK;
}

/* A pass over the event stream, before building any node: every syntax
 * error in the whole stream, the depth bound and the one-document rule. */
static int prescan(const char *buf, size_t len, const char *file,
		   struct jv_error *err)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int depth = 0, docs = 0, rc = JV_OK;
	bool end = false;

	if (!yaml_parser_initialize(&parser))
		return jv_error_set(err, JV_ERR_NOMEM, file, 0, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	while (!end && rc == JV_OK) {
		if (!yaml_parser_parse(&parser, &ev)) {
			rc = syntax_error(&parser, file, err);
			break;
		}
		end = ev.type == YAML_STREAM_END_EVENT;
		rc = check_event(&ev, &depth, &docs, file, err);
		wipe_event(&ev);
	}
	wipe_parser(&parser);
	return rc;
}

int jv_yaml_load(yaml_document_t *doc, const char *buf, size_t len,
		 const char *file, struct jv_error *err)
{
	yaml_parser_t parser;
	int rc;

	rc = prescan(buf, len, file, err);
	if (rc)
		return rc;
	if (!yaml_parser_initialize(&parser))
		return jv_error_set(err, JV_ERR_NOMEM, file, 0, "out of memory");
	yaml_parser_set_input_string(&parser, (const unsigned char *)buf, len);
	if (!yaml_parser_load(&parser, doc))
		rc = syntax_error(&parser, file, err);
	wipe_parser(&parser);
	return rc;
}

int jv_yaml_line(const yaml_node_t *node)
{
	return node ? (int)node->start_mark.line + 1 : 0;
}

yaml_node_t *jv_yaml_get(yaml_document_t *doc, yaml_node_t *map,
			 const char *key)
{
	size_t klen = strlen(key);

	if (!map || map->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = yaml_document_get_node(doc, p->key);

		if (k && k->type == YAML_SCALAR_NODE &&
		    k->data.scalar.length == klen &&
		    memcmp(k->data.scalar.value, key, klen) == 0)
			return yaml_document_get_node(doc, p->value);
	}
	return NULL;
}

const char *jv_yaml_str(const yaml_node_t *node)
{
	if (!node || node->type != YAML_SCALAR_NODE)
		return NULL;
	return (const char *)node->data.scalar.value;
}

/* Plain (unquoted) scalar text with no embedded NUL, or NULL. */
static const char *plain_text(const yaml_node_t *node, size_t *len)
{
	const char *s = jv_yaml_str(node);

	if (!s || node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return NULL;
	*len = node->data.scalar.length;
	if (memchr(s, '\0', *len))
		return NULL;
	return s;
}

int jv_yaml_u64(const yaml_node_t *node, uint64_t *out)
{
	size_t len;
	const char *s = plain_text(node, &len);
	uint64_t v = 0;

	if (!s || len == 0)
		return JV_ERR_INVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned d = (unsigned char)s[i] - '0';

		if (d > 9 || v > (UINT64_MAX - d) / 10)
			return JV_ERR_INVAL;
		v = v * 10 + d;
	}
	*out = v;
	return JV_OK;
}

int jv_yaml_double(const yaml_node_t *node, double *out)
{
	size_t len;
	const char *s = plain_text(node, &len);
	char *end;
	double v;

	/* decimal notation only: strtod would also take hex floats,
	 * "infinity" and leading spaces */
	if (!s || len == 0 || strspn(s, "0123456789+-.eE") != len)
		return JV_ERR_INVAL;
	errno = 0;
	v = strtod(s, &end);
	if (end != s + len || errno == ERANGE || !isfinite(v))
		return JV_ERR_INVAL;
	*out = v;
	return JV_OK;
}

int jv_yaml_bool(const yaml_node_t *node, bool *out)
{
	size_t len;
	const char *s = plain_text(node, &len);

	if (s && len == 4 && memcmp(s, "true", 4) == 0)
		*out = true;
	else if (s && len == 5 && memcmp(s, "false", 5) == 0)
		*out = false;
	else
		return JV_ERR_INVAL;
	return JV_OK;
}
