/* The checker behind `jvpn audit verify`: reconstructs every session's
 * timeline, per node, from JSONL events and checks the rules of CONTRACT
 * sections 1 and 2. Lines of several nodes and files may be interleaved;
 * each node's own lines must be in its emission order. */
#ifndef JV_CLI_VERIFY_H
#define JV_CLI_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct jv_verify;

/* max_switches_per_min: TransportSwitch events allowed per session and
 * node in any sliding 60 s. NULL on allocation failure. */
struct jv_verify *jv_verify_new(uint32_t max_switches_per_min);
void jv_verify_free(struct jv_verify *v);

/* Checks one line (without its newline). Returns 0, or JV_ERR_INVAL with
 * err = "FILE:LINE: what is wrong" at the first violation. */
int jv_verify_line(struct jv_verify *v, const char *line, size_t len,
		   const char *file, int lineno, struct jv_error *err);

/* End-of-input checks (a ->TERMINATED change without its
 * SessionTerminated). */
int jv_verify_finish(struct jv_verify *v, struct jv_error *err);

struct jv_verify_counts {
	uint64_t events, sessions, nodes;
};
void jv_verify_counts(const struct jv_verify *v, struct jv_verify_counts *out);

#endif
