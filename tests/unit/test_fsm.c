/* The transition table against CONTRACT section 1, written out again here
 * by hand: every (from, to, reason) in the cube is checked. */
#include <stdio.h>
#include <string.h>

#include "core/err.h"
#include "core/fsm.h"
#include "tests/unit/unit.h"

/* Copied from the contract's table, a row a line: FROM -> TO: REASONS;
 * "*" = any state but TERMINATED. `failback` and `data_path_silent`
 * (ATTACHED -> VOLATILE) are issue 11's additions to the table. */
static const char *const contract[] = {
	"BIRTH -> ATTACHED: handshake_ok",
	"BIRTH -> TERMINATED: handshake_failed",
	"ATTACHED -> VOLATILE: transport_dead link_down heartbeat_timeout loss_threshold_exceeded consecutive_drop_exceeded latency_threshold_exceeded peer_path_change failback data_path_silent",
	"VOLATILE -> RECOVERING: switch_initiated health_recovered",
	"DEGRADED -> RECOVERING: switch_initiated health_recovered",
	"RECOVERING -> ATTACHED: reattach_success",
	"RECOVERING -> DEGRADED: reattach_validation_failed recovery_window_expired",
	"VOLATILE -> DEGRADED: no_viable_transport volatile_persisted switch_rate_limited cooldown_active policy_denied",
	"* -> TERMINATED: session_lifetime_exceeded transport_ttl_exceeded security_failure operator_terminated peer_terminated",
};

static bool word_in(const char *list, const char *w)
{
	size_t n = strlen(w);

	for (const char *p = list; (p = strstr(p, w)) != NULL; p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || p[n] == '\0'))
			return true;
	return false;
}

static bool naive(int from, int to, int r)
{
	for (size_t i = 0; i < sizeof(contract) / sizeof(contract[0]); i++) {
		char f[16], t[16];
		int at = 0;
		bool from_ok;

		if (sscanf(contract[i], "%15s -> %15[A-Z]:%n", f, t, &at) != 2 ||
		    at == 0)
			fail_msg("not a contract row: %s", contract[i]);
		from_ok = strcmp(f, "*") == 0
				  ? from != JV_STATE_TERMINATED
				  : strcmp(f, jv_state_name(from)) == 0;
		if (from_ok && strcmp(t, jv_state_name(to)) == 0 &&
		    word_in(contract[i] + at + 1, jv_reason_name(r)))
			return true;
	}
	return false;
}

JV_TEST(test_cube)
{
	int allowed = 0;

	for (int f = 0; f < JV_STATE__COUNT; f++)
		for (int t = 0; t < JV_STATE__COUNT; t++)
			for (int r = 0; r < JV_R__COUNT; r++) {
				bool want = naive(f, t, r);
				if (jv_fsm_allowed(f, t, r) != want)
					fail_msg("%s -> %s (%s): table says %d",
						 jv_state_name(f), jv_state_name(t),
						 jv_reason_name(r), !want);
				allowed += want;
			}
	/* 1+1+9+2+2+1+2+5 rows plus 5 reasons from each of 5 live states */
	assert_int_equal(allowed, 23 + 25);
}

JV_TEST(test_terminated_absorbing)
{
	for (int t = 0; t < JV_STATE__COUNT; t++)
		for (int r = 0; r < JV_R__COUNT; r++)
			assert_false(jv_fsm_allowed(JV_STATE_TERMINATED, t, r));
}

JV_TEST(test_attached_only_two_ways)
{
	for (int f = 0; f < JV_STATE__COUNT; f++)
		for (int r = 0; r < JV_R__COUNT; r++)
			if (jv_fsm_allowed(f, JV_STATE_ATTACHED, r))
				assert_true((f == JV_STATE_BIRTH &&
					     r == JV_R_HANDSHAKE_OK) ||
					    (f == JV_STATE_RECOVERING &&
					     r == JV_R_REATTACH_SUCCESS));
}

JV_TEST(test_names)
{
	for (int s = 0; s < JV_STATE__COUNT; s++)
		assert_int_equal(jv_state_from_name(jv_state_name(s)), s);
	for (int r = 0; r < JV_R__COUNT; r++) {
		assert_string_not_equal(jv_reason_name(r), "?");
		assert_int_equal(jv_reason_from_name(jv_reason_name(r)), r);
	}
	assert_string_equal(jv_state_name(JV_STATE__COUNT), "?");
	assert_string_equal(jv_reason_name(JV_R__COUNT), "?");
	assert_int_equal(jv_state_from_name("attached"), -1);
	assert_int_equal(jv_reason_from_name("HANDSHAKE_OK"), -1);
	assert_false(jv_fsm_allowed(JV_STATE__COUNT, JV_STATE_ATTACHED,
				    JV_R_HANDSHAKE_OK));
	assert_false(jv_fsm_allowed(JV_STATE_BIRTH, JV_STATE_ATTACHED,
				    JV_R_NONE));
}

/* jv_fsm_next against the contract: for every (state, event), the one
 * target the contract's rows give, or a refusal when none does. An event
 * never has two targets from one state. */
JV_TEST(test_next_cube)
{
	int steps = 0;

	for (int f = 0; f < JV_STATE__COUNT; f++)
		for (int r = 0; r < JV_R__COUNT; r++) {
			int want = -1, n = 0;
			enum jv_state next = JV_STATE__COUNT;
			int rc;

			for (int t = 0; t < JV_STATE__COUNT; t++)
				if (naive(f, t, r)) {
					want = t;
					n++;
				}
			assert_true(n <= 1);
			rc = jv_fsm_next(f, r, &next);
			if (want < 0) {
				if (rc != JV_ERR_STATE)
					fail_msg("%s on %s: expected a refusal",
						 jv_state_name(f),
						 jv_reason_name(r));
				assert_int_equal(next, JV_STATE__COUNT);
				continue;
			}
			if (rc != 0 || (int)next != want)
				fail_msg("%s on %s: got %d %s, want %s",
					 jv_state_name(f), jv_reason_name(r), rc,
					 jv_state_name(next),
					 jv_state_name(want));
			steps++;
		}
	assert_int_equal(steps, 23 + 25);
}

/* The rows the issue names: one event, several targets by state. */
JV_TEST(test_next_examples)
{
	enum jv_state n;

	assert_int_equal(jv_fsm_next(JV_STATE_VOLATILE, JV_R_SWITCH_INITIATED,
				     &n), 0);
	assert_int_equal(n, JV_STATE_RECOVERING);
	assert_int_equal(jv_fsm_next(JV_STATE_DEGRADED, JV_R_SWITCH_INITIATED,
				     &n), 0);
	assert_int_equal(n, JV_STATE_RECOVERING);
	assert_int_equal(jv_fsm_next(JV_STATE_ATTACHED, JV_R_SWITCH_INITIATED,
				     &n), JV_ERR_STATE);
	assert_int_equal(jv_fsm_next(JV_STATE_ATTACHED, JV_R_LINK_DOWN, &n), 0);
	assert_int_equal(n, JV_STATE_VOLATILE);
	assert_int_equal(jv_fsm_next(JV_STATE_VOLATILE, JV_R_LINK_DOWN, &n),
			 JV_ERR_STATE);
	assert_int_equal(jv_fsm_next(JV_STATE_RECOVERING,
				     JV_R_RECOVERY_WINDOW_EXPIRED, &n), 0);
	assert_int_equal(n, JV_STATE_DEGRADED);
	for (int f = JV_STATE_BIRTH; f < JV_STATE_TERMINATED; f++) {
		assert_int_equal(jv_fsm_next(f, JV_R_OPERATOR_TERMINATED, &n),
				 0);
		assert_int_equal(n, JV_STATE_TERMINATED);
	}
	assert_int_equal(jv_fsm_next(JV_STATE_TERMINATED,
				     JV_R_OPERATOR_TERMINATED, &n),
			 JV_ERR_STATE);
	/* not events: a denial reason, none, out of range */
	assert_int_equal(jv_fsm_next(JV_STATE_VOLATILE, JV_R_BAD_PROOF, &n),
			 JV_ERR_STATE);
	assert_int_equal(jv_fsm_next(JV_STATE_BIRTH, JV_R_NONE, &n),
			 JV_ERR_STATE);
	assert_int_equal(jv_fsm_next(JV_STATE__COUNT, JV_R_HANDSHAKE_OK, &n),
			 JV_ERR_STATE);
	assert_int_equal(jv_fsm_next(JV_STATE_BIRTH, JV_R__COUNT, &n),
			 JV_ERR_STATE);
}
