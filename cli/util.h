/* CLI helpers: file reading with a size bound, key encoding, error output. */
#ifndef JV_CLI_UTIL_H
#define JV_CLI_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

#define JV_FILE_MAX (1u << 20)   /* config, policy and scenario files */

/* Reads a whole file (at most max bytes) into a NUL-terminated malloc'd
 * buffer. "-" reads stdin. On failure fills err and returns JV_ERR_*. */
int jv_read_file(const char *path, size_t max, char **buf, size_t *len,
		 struct jv_error *err);

struct jv_policy;
/* Reads, parses and validates the policy file at path into p (defaults
 * for what it leaves out). 0, or JV_ERR_* with err saying FILE:LINE. */
int jv_policy_load(const char *path, struct jv_policy *p,
		   struct jv_error *err);

/* Prints "jvpn: FILE:LINE: msg" to stderr. */
void jv_print_error(const struct jv_error *err);

/* Base64 (standard, padded, 44 chars) of a 32-byte key. out: 45 bytes. */
void jv_key_to_base64(const uint8_t key[32], char out[45]);
/* Parses a base64 key (surrounding whitespace ignored). 0 or JV_ERR_INVAL. */
int jv_key_from_base64(const char *s, uint8_t key[32]);

/* True if argv has -h or --help among its arguments (argv[1..argc)). */
int jv_wants_help(int argc, char **argv);

#endif
