/* Candidate selection. No sorting: the order of cands is the preference
 * order, and ties end on it (the first wins), so the same inputs always
 * give the same answer. */
#include "core/select.h"

#include "core/fsm.h"

/* Unknown RTT (0) ranks after every known one. */
static uint64_t rtt_key(const struct jv_candidate *c)
{
	return c->rtt_ms ? c->rtt_ms : (uint64_t)UINT32_MAX + 1;
}

/* RTTs are whole milliseconds (a sub-ms sample is 1): two within one of
 * each other cannot be told apart. */
#define RTT_GRAIN_MS 1

/* Is an RTT of fast enough better than one of slow to matter: by the
 * policy's improvement factor, and by more than the grain? Both the
 * ranking and the hysteresis use it, so a candidate that would not be
 * worth a switch is no better in the ranking either. */
static bool enough_faster(uint64_t fast, uint64_t slow, double factor)
{
	/* dividing keeps decimal edges exact: 110 / 100 is the double 1.10 */
	return (double)slow / (double)fast >= factor &&
	       slow > fast + RTT_GRAIN_MS;
}

/* Does w beat the current transport cur by enough to leave it? */
static bool beats(const struct jv_candidate *w, const struct jv_candidate *cur,
		  double factor)
{
	if (w->loss < cur->loss)
		return true;
	if (w->loss > cur->loss)
		return false;
	return enough_faster(rtt_key(w), rtt_key(cur), factor);
}

int jv_select(const struct jv_candidate *cands, size_t n, int current,
	      int exclude, const struct jv_policy *p, int *why)
{
	uint8_t pool[JV_SELECT_MAX];
	size_t k = 0;
	int best = -1, denied = 0;
	bool cur_ok = false;
	double loss = 0;
	uint64_t fastest = 0;
	double band;
	int dummy;

	if (!why)
		why = &dummy;
	if (n > JV_SELECT_MAX)
		n = JV_SELECT_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct jv_candidate *c = &cands[i];

		if ((int)i == exclude || !c->usable ||
		    !(c->loss < p->loss_volatile_threshold))
			continue;
		if (!(c->proto & p->allowed_protocols)) {
			denied++;   /* it would do, but the policy says no */
			continue;
		}
		/* the cap counts candidates that pass the filters, in the
		 * preference order */
		if (k >= p->max_candidate_count)
			continue;
		pool[k++] = (uint8_t)i;
		if ((int)i == current)
			cur_ok = true;
		/* the lowest loss, and the lowest RTT among those */
		if (k == 1 || c->loss < loss) {
			loss = c->loss;
			fastest = rtt_key(c);
		} else if (c->loss == loss && rtt_key(c) < fastest) {
			fastest = rtt_key(c);
		}
	}
	if (k == 0) {
		*why = denied ? JV_R_POLICY_DENIED : JV_R_NO_VALID_CANDIDATE;
		return -1;
	}
	/* equally healthy: the lowest loss and an RTT the fastest does not
	 * beat by enough (by the factor while hysteresis is on, else by the
	 * grain alone); of those the fewest flaps, then the first in the
	 * preference order (udp-b before tcp-b on one path, issue 11) */
	band = p->enforce_hysteresis ? p->switch_improvement_factor : 1.0;
	for (size_t j = 0; j < k; j++) {
		const struct jv_candidate *c = &cands[pool[j]];

		if (c->loss != loss || enough_faster(fastest, rtt_key(c), band))
			continue;
		if (best < 0 || c->flaps < cands[best].flaps)
			best = pool[j];
	}
	if (cur_ok && best != current && p->enforce_hysteresis &&
	    !beats(&cands[best], &cands[current], p->switch_improvement_factor)) {
		/* nothing is enough better: stay where we are */
		*why = JV_R_NO_VALID_CANDIDATE;
		return -1;
	}
	*why = JV_R_NONE;
	return best;
}
