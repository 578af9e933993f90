/* Candidate selection. One pass, no sorting: the order of cands is the
 * preference order, and ties end on it (the first wins), so the same
 * inputs always give the same answer. */
#include "core/select.h"

#include "core/fsm.h"

/* Unknown RTT (0) ranks after every known one. */
static uint64_t rtt_key(const struct jv_candidate *c)
{
	return c->rtt_ms ? c->rtt_ms : (uint64_t)UINT32_MAX + 1;
}

/* <0 if a ranks before b: lower loss, lower rtt, fewer flaps; 0 when
 * they are equally healthy (the caller keeps the earlier in the
 * configured order: the user's preference, udp-b before tcp-b on one
 * path, not the ids' spelling). */
static int rank_cmp(const struct jv_candidate *a, const struct jv_candidate *b)
{
	if (a->loss != b->loss)
		return a->loss < b->loss ? -1 : 1;
	if (rtt_key(a) != rtt_key(b))
		return rtt_key(a) < rtt_key(b) ? -1 : 1;
	if (a->flaps != b->flaps)
		return a->flaps < b->flaps ? -1 : 1;
	return 0;
}

/* Does w beat the current transport cur by enough to leave it? */
static bool beats(const struct jv_candidate *w, const struct jv_candidate *cur,
		  double factor)
{
	if (w->loss < cur->loss)
		return true;
	if (w->loss > cur->loss)
		return false;
	/* dividing keeps decimal edges exact: 110 / 100 is the double 1.10 */
	return (double)rtt_key(cur) / (double)rtt_key(w) >= factor;
}

int jv_select(const struct jv_candidate *cands, size_t n, int current,
	      int exclude, const struct jv_policy *p, int *why)
{
	int best = -1, denied = 0;
	bool cur_ok = false;
	uint32_t taken = 0;
	int dummy;

	if (!why)
		why = &dummy;
	for (size_t i = 0; i < n; i++) {
		const struct jv_candidate *c = &cands[i];

		if ((int)i == exclude || !c->usable ||
		    !(c->loss < p->loss_volatile_threshold))
			continue;
		if (!(c->proto & p->allowed_protocols)) {
			denied++;   /* it would do, but the policy says no */
			continue;
		}
		/* only the first max_candidate_count survivors, in the
		 * caller's preference order, are ranked */
		if (taken >= p->max_candidate_count)
			continue;
		taken++;
		if ((int)i == current)
			cur_ok = true;
		if (best < 0 || rank_cmp(c, &cands[best]) < 0)
			best = (int)i;
	}
	if (best < 0) {
		*why = denied ? JV_R_POLICY_DENIED : JV_R_NO_VALID_CANDIDATE;
		return -1;
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
