#include "core/fsm.h"

#include <string.h>

#include "core/err.h"

static const char *const state_names[JV_STATE__COUNT] = {
#define STATE_NAME(name) [JV_STATE_##name] = #name,
	JV_STATES(STATE_NAME)
#undef STATE_NAME
};

static const char *const reason_names[JV_R__COUNT] = {
	[JV_R_NONE] = "none",
	[JV_R_HANDSHAKE_OK] = "handshake_ok",
	[JV_R_HANDSHAKE_FAILED] = "handshake_failed",
	[JV_R_TRANSPORT_DEAD] = "transport_dead",
	[JV_R_LINK_DOWN] = "link_down",
	[JV_R_HEARTBEAT_TIMEOUT] = "heartbeat_timeout",
	[JV_R_LOSS_THRESHOLD_EXCEEDED] = "loss_threshold_exceeded",
	[JV_R_CONSECUTIVE_DROP_EXCEEDED] = "consecutive_drop_exceeded",
	[JV_R_LATENCY_THRESHOLD_EXCEEDED] = "latency_threshold_exceeded",
	[JV_R_PEER_PATH_CHANGE] = "peer_path_change",
	[JV_R_SWITCH_INITIATED] = "switch_initiated",
	[JV_R_HEALTH_RECOVERED] = "health_recovered",
	[JV_R_REATTACH_SUCCESS] = "reattach_success",
	[JV_R_REATTACH_VALIDATION_FAILED] = "reattach_validation_failed",
	[JV_R_RECOVERY_WINDOW_EXPIRED] = "recovery_window_expired",
	[JV_R_NO_VIABLE_TRANSPORT] = "no_viable_transport",
	[JV_R_VOLATILE_PERSISTED] = "volatile_persisted",
	[JV_R_SWITCH_RATE_LIMITED] = "switch_rate_limited",
	[JV_R_COOLDOWN_ACTIVE] = "cooldown_active",
	[JV_R_POLICY_DENIED] = "policy_denied",
	[JV_R_SESSION_LIFETIME_EXCEEDED] = "session_lifetime_exceeded",
	[JV_R_TRANSPORT_TTL_EXCEEDED] = "transport_ttl_exceeded",
	[JV_R_SECURITY_FAILURE] = "security_failure",
	[JV_R_OPERATOR_TERMINATED] = "operator_terminated",
	[JV_R_PEER_TERMINATED] = "peer_terminated",
	[JV_R_NO_VALID_CANDIDATE] = "no_valid_candidate",
	[JV_R_UNKNOWN_SESSION] = "unknown_session",
	[JV_R_INVALID_STATE_FOR_REATTACH] = "invalid_state_for_reattach",
	[JV_R_SESSION_EXPIRED] = "session_expired",
	[JV_R_BAD_PROOF] = "bad_proof",
	[JV_R_REPLAY_DETECTED] = "replay_detected",
	[JV_R_STALE_REQUEST] = "stale_request",
	[JV_R_INVALID_TRANSPORT_CANDIDATE] = "invalid_transport_candidate",
	[JV_R_STALE_STATE_VERSION] = "stale_state_version",
	[JV_R_RATE_LIMITED] = "rate_limited",
	[JV_R_INVALID_TRANSITION] = "invalid_transition",
	[JV_R_TIME_ELAPSED] = "time_elapsed",
	[JV_R_REATTACH_ACCEPTED] = "reattach_accepted",
	[JV_R_POLICY_VALID] = "policy_valid",
	[JV_R_POLICY_INVALID] = "policy_invalid",
	[JV_R_BAD_HANDSHAKE] = "bad_handshake",
	[JV_R_HANDSHAKE_REPLAY] = "handshake_replay",
	[JV_R_SESSION_REPLACED] = "session_replaced",
	[JV_R_BAD_DATA_KEY] = "bad_data_key",
	[JV_R_INNER_SOURCE_NOT_ALLOWED] = "inner_source_not_allowed",
	[JV_R_FAILBACK] = "failback",
	[JV_R_DATA_PATH_SILENT] = "data_path_silent",
};

#define ANY_LIVE 0xff /* from-wildcard: any state but TERMINATED */

/* CONTRACT section 1, row for row (plus `failback` and `data_path_silent`,
 * ATTACHED -> VOLATILE, added by issue 11): in `from`, each event of the
 * row moves the session to `to`. An event may appear in several rows, from different
 * states (switch_initiated from VOLATILE and from DEGRADED; the terminal
 * reasons from any live state), never twice for one state. */
static const struct {
	uint8_t from, to;
	uint8_t events[9];
} table[] = {
	{ JV_STATE_BIRTH, JV_STATE_ATTACHED, { JV_R_HANDSHAKE_OK } },
	{ JV_STATE_BIRTH, JV_STATE_TERMINATED, { JV_R_HANDSHAKE_FAILED } },
	{ JV_STATE_ATTACHED, JV_STATE_VOLATILE,
	  { JV_R_TRANSPORT_DEAD, JV_R_LINK_DOWN, JV_R_HEARTBEAT_TIMEOUT,
	    JV_R_LOSS_THRESHOLD_EXCEEDED, JV_R_CONSECUTIVE_DROP_EXCEEDED,
	    JV_R_LATENCY_THRESHOLD_EXCEEDED, JV_R_PEER_PATH_CHANGE,
	    JV_R_FAILBACK, JV_R_DATA_PATH_SILENT } },
	{ JV_STATE_VOLATILE, JV_STATE_RECOVERING,
	  { JV_R_SWITCH_INITIATED, JV_R_HEALTH_RECOVERED } },
	{ JV_STATE_DEGRADED, JV_STATE_RECOVERING,
	  { JV_R_SWITCH_INITIATED, JV_R_HEALTH_RECOVERED } },
	{ JV_STATE_RECOVERING, JV_STATE_ATTACHED, { JV_R_REATTACH_SUCCESS } },
	{ JV_STATE_RECOVERING, JV_STATE_DEGRADED,
	  { JV_R_REATTACH_VALIDATION_FAILED, JV_R_RECOVERY_WINDOW_EXPIRED } },
	{ JV_STATE_VOLATILE, JV_STATE_DEGRADED,
	  { JV_R_NO_VIABLE_TRANSPORT, JV_R_VOLATILE_PERSISTED,
	    JV_R_SWITCH_RATE_LIMITED, JV_R_COOLDOWN_ACTIVE, JV_R_POLICY_DENIED } },
	{ ANY_LIVE, JV_STATE_TERMINATED,
	  { JV_R_SESSION_LIFETIME_EXCEEDED, JV_R_TRANSPORT_TTL_EXCEEDED,
	    JV_R_SECURITY_FAILURE, JV_R_OPERATOR_TERMINATED,
	    JV_R_PEER_TERMINATED } },
};

const char *jv_reason_name(enum jv_reason r)
{
	if ((unsigned)r >= JV_R__COUNT || !reason_names[r])
		return "?";
	return reason_names[r];
}

const char *jv_state_name(enum jv_state s)
{
	if ((unsigned)s >= JV_STATE__COUNT)
		return "?";
	return state_names[s];
}

int jv_reason_from_name(const char *name)
{
	for (int i = 0; i < JV_R__COUNT; i++)
		if (reason_names[i] && strcmp(reason_names[i], name) == 0)
			return i;
	return -1;
}

int jv_state_from_name(const char *name)
{
	for (int i = 0; i < JV_STATE__COUNT; i++)
		if (strcmp(state_names[i], name) == 0)
			return i;
	return -1;
}

int jv_fsm_next(enum jv_state from, enum jv_reason event,
		enum jv_state *next)
{
	if (event == JV_R_NONE || (unsigned)from >= JV_STATE__COUNT ||
	    (unsigned)event >= JV_R__COUNT)
		return JV_ERR_STATE;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		if (table[i].from == ANY_LIVE ? from == JV_STATE_TERMINATED
					      : table[i].from != from)
			continue;
		for (size_t j = 0; j < sizeof(table[i].events); j++)
			if (table[i].events[j] == event) {
				*next = (enum jv_state)table[i].to;
				return 0;
			}
	}
	return JV_ERR_STATE;
}

bool jv_fsm_allowed(enum jv_state from, enum jv_state to, enum jv_reason r)
{
	enum jv_state next;

	return jv_fsm_next(from, r, &next) == 0 && next == to;
}
