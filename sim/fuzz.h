/* The fault fuzzer behind `jvpn sim --fuzz`: deterministic simulation
 * testing in the manner of FoundationDB's simulator and TigerBeetle's VOPR.
 * Per seed it draws a valid policy and a fault schedule over 2-4 paths,
 * runs the real endpoints (sim/run.c) and checks invariants on the event
 * stream; a failing scenario is shrunk to a small one that still fails the
 * same way and can be written as a scenario file (docs/simulator.md). */
#ifndef JV_SIM_FUZZ_H
#define JV_SIM_FUZZ_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sim/sim.h"

/* The audit checker (`jvpn audit verify`) lives in the CLI; the caller
 * hands it in. Returns 0 if the lines pass, else writes why. */
typedef int (*jv_fuzz_verify_fn)(char *const *lines, size_t n,
				 uint32_t max_switches_per_min, char *why,
				 size_t cap);

struct jv_fuzz_opts {
	jv_fuzz_verify_fn verify;
	/* Test hook, never in a daemon: the endpoints run with
	 * max_switches_per_min one above the scenario's while the checker
	 * holds them to the scenario's (a limiter that forgets one switch). */
	bool plant_limiter;
};

/* The invariant a run broke. */
enum jv_fuzz_rule {
	JV_FZ_OK,
	JV_FZ_SIM_ERROR,         /* the run could not finish (time stuck, ...) */
	JV_FZ_AUDIT,             /* `jvpn audit verify` refuses the stream */
	JV_FZ_SWITCH_RATE,       /* more than max_switches_per_min in 60 s */
	JV_FZ_SESSION_RESET,     /* a new session while the old one lives */
	JV_FZ_FOREIGN_SESSION,   /* a client event of another session */
	JV_FZ_TERM_REASON,       /* a termination the schedule cannot explain */
	JV_FZ_TERM_EARLY,        /* a TTL/lifetime termination before its time */
	JV_FZ_TERM_LATE,         /* ... or after it (the engine's deadline) */
	JV_FZ_TTL_WITH_VIABLE,   /* TTL expiry while a viable path stood by */
	JV_FZ__COUNT,
};

const char *jv_fuzz_rule_name(enum jv_fuzz_rule r);

struct jv_fuzz_verdict {
	enum jv_fuzz_rule rule;
	char why[640];
	/* where, for the expect block */
	int role;                /* 0 client, 1 server */
	uint64_t at_ms;
	char reason[40];         /* the termination's reason_code */
	uint32_t max;            /* JV_FZ_SWITCH_RATE: the limit */
	/* how often the rules had something to check */
	struct jv_fuzz_stats {
		uint64_t events, switches, denials, terms, ttl_terms,
			 attacked_runs, quiet_runs, ttl_checked;
	} st;
};

/* Draws the scenario of one seed. */
void jv_fuzz_generate(uint64_t seed, struct jv_scenario *sc);

/* Runs sc and checks every invariant into v; 0 or a negative error. */
int jv_fuzz_run(const struct jv_scenario *sc, const struct jv_fuzz_opts *o,
		struct jv_fuzz_verdict *v);

/* Shrinks sc in place to a smaller scenario that breaks the same rule;
 * v is updated to its verdict. Returns the number of runs it took. */
unsigned jv_fuzz_shrink(struct jv_scenario *sc, const struct jv_fuzz_opts *o,
			struct jv_fuzz_verdict *v);

/* Writes sc as a scenario file, with an expect block that encodes the
 * broken guarantee where one can (a comment says which). */
int jv_fuzz_write(FILE *f, const struct jv_scenario *sc,
		  const struct jv_fuzz_verdict *v);

#endif
