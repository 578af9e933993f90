/* The checker behind `jvpn audit verify`: reconstructs every session's
 * timeline, per node, from JSONL events and checks the rules of CONTRACT
 * sections 1 and 2 against the one transition table (core/fsm.c). Lines of
 * several nodes and files may be interleaved; each node's own lines must be
 * in its emission order (its seq), the files of one node oldest first
 * (audit.jsonl.1 before audit.jsonl). A node's events are checked per run
 * (run_id: one daemon start); where a node's events open a file, its run
 * may be seen from the middle (a rotated file). */
#ifndef JV_CLI_VERIFY_H
#define JV_CLI_VERIFY_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

struct jv_verify;

/* max_switches_per_min: TransportSwitch events allowed per session and
 * node in any sliding 60 s (0 allows none). NULL on allocation failure. */
struct jv_verify *jv_verify_new(uint32_t max_switches_per_min);
void jv_verify_free(struct jv_verify *v);

/* Checks one line of len bytes (without its newline; need not be
 * NUL-terminated) of file (lines of one file in a row: a change of file
 * name starts a new file). Returns 0, or JV_ERR_INVAL (JV_ERR_NOMEM) with err =
 * FILE:LINE and a message naming the event, its node and session, at the
 * first violation. After a violation the checker's state is unspecified. */
int jv_verify_line(struct jv_verify *v, const char *line, size_t len,
		   const char *file, int lineno, struct jv_error *err);

/* End-of-input checks: a ->TERMINATED change not followed by its
 * SessionTerminated. err points at the change's line. */
int jv_verify_finish(struct jv_verify *v, struct jv_error *err);

struct jv_verify_counts {
	uint64_t events;     /* lines checked */
	uint64_t sessions;   /* distinct session_id values */
	uint64_t timelines;  /* (node_id, run_id, session_id) triples */
	uint64_t nodes;      /* distinct node_id values */
	uint64_t runs;       /* (node_id, run_id) pairs */
};
void jv_verify_counts(const struct jv_verify *v, struct jv_verify_counts *out);

#endif
