/* Candidate selection: filter, rank by loss then latency then stability,
 * hysteresis against the current transport, ties to the preference
 * order. */
#ifndef JV_SELECT_H
#define JV_SELECT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/policy.h"

#define JV_SELECT_MAX 64

struct jv_candidate {
	const char *id;         /* transport id */
	uint32_t proto;         /* JV_PROTO_* */
	bool usable;            /* link up, not declared dead, has a recent ack */
	double loss;            /* loss ratio over the policy window */
	uint32_t rtt_ms;        /* smoothed RTT, 0 = unknown */
	uint32_t flaps;         /* recent deaths: lower is more stable */
};

/*
 * Picks the best candidate among cands[0..n), never `exclude` (index, or -1).
 * Filtered out: !usable, protocol not allowed, loss >= threshold, and any
 * beyond policy max_candidate_count in the given (preference) order.
 * Ranking: the candidates with the lowest loss whose rtt the fastest of
 * them does not beat by switch_improvement_factor (1.0 with hysteresis
 * off) and by more than 1 ms (the RTT's grain) are equally healthy; of those the fewest flaps, then
 * the first in the order of cands (the configured preference order).
 * At most JV_SELECT_MAX candidates are looked at.
 * If `current` >= 0 is itself acceptable and policy enforce_hysteresis is on,
 * the winner must beat it by switch_improvement_factor on rtt (or strictly on
 * loss) or -1 is returned.
 * Returns the chosen index or -1 (*why = JV_R_NO_VALID_CANDIDATE or
 * JV_R_POLICY_DENIED when only disallowed protocols were usable).
 */
int jv_select(const struct jv_candidate *cands, size_t n, int current,
	      int exclude, const struct jv_policy *p, int *why);

#endif
