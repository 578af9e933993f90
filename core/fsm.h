/* The session state machine of CONTRACT section 1: states, reason codes and
 * the one transition table. Nothing else in jvpn decides whether a transition
 * is legal. */
#ifndef JV_FSM_H
#define JV_FSM_H

#include <stdbool.h>
#include <stdint.h>

/* The states of CONTRACT section 1, in its order: the enum and the names
 * (core/fsm.c) are made from this one list. */
#define JV_STATES(X)                                                          \
	X(BIRTH) X(ATTACHED) X(VOLATILE) X(RECOVERING) X(DEGRADED)            \
	X(TERMINATED)

enum jv_state {
#define JV_STATE_ENUM(name) JV_STATE_##name,
	JV_STATES(JV_STATE_ENUM)
#undef JV_STATE_ENUM
	JV_STATE__COUNT
};

/* Every reason code that appears in an event, transition or denial. */
enum jv_reason {
	JV_R_NONE,
	/* transitions */
	JV_R_HANDSHAKE_OK,
	JV_R_HANDSHAKE_FAILED,
	JV_R_TRANSPORT_DEAD,
	JV_R_LINK_DOWN,
	JV_R_HEARTBEAT_TIMEOUT,
	JV_R_LOSS_THRESHOLD_EXCEEDED,
	JV_R_CONSECUTIVE_DROP_EXCEEDED,
	JV_R_LATENCY_THRESHOLD_EXCEEDED,
	JV_R_PEER_PATH_CHANGE,
	JV_R_SWITCH_INITIATED,
	JV_R_HEALTH_RECOVERED,
	JV_R_REATTACH_SUCCESS,
	JV_R_REATTACH_VALIDATION_FAILED,
	JV_R_RECOVERY_WINDOW_EXPIRED,
	JV_R_NO_VIABLE_TRANSPORT,
	JV_R_VOLATILE_PERSISTED,
	JV_R_SWITCH_RATE_LIMITED,
	JV_R_COOLDOWN_ACTIVE,
	JV_R_POLICY_DENIED,
	JV_R_SESSION_LIFETIME_EXCEEDED,
	JV_R_TRANSPORT_TTL_EXCEEDED,
	JV_R_SECURITY_FAILURE,
	JV_R_OPERATOR_TERMINATED,
	JV_R_PEER_TERMINATED,
	/* denials, security and other events */
	JV_R_NO_VALID_CANDIDATE,
	JV_R_UNKNOWN_SESSION,
	JV_R_INVALID_STATE_FOR_REATTACH,
	JV_R_SESSION_EXPIRED,
	JV_R_BAD_PROOF,
	JV_R_REPLAY_DETECTED,
	JV_R_STALE_REQUEST,
	JV_R_INVALID_TRANSPORT_CANDIDATE,
	JV_R_STALE_STATE_VERSION,
	JV_R_RATE_LIMITED,
	JV_R_INVALID_TRANSITION,
	JV_R_TIME_ELAPSED,
	JV_R_REATTACH_ACCEPTED,     /* ReattachResult SUCCESS */
	JV_R_POLICY_VALID,          /* PolicyLoaded */
	JV_R_POLICY_INVALID,        /* PolicyRejected */
	JV_R_BAD_HANDSHAKE,         /* SecurityValidationFailed on msg1 */
	JV_R_HANDSHAKE_REPLAY,      /* msg1 timestamp not newer than the last */
	JV_R_SESSION_REPLACED,      /* SessionTerminated: the peer started anew */
	JV_R_BAD_DATA_KEY,          /* a session's data packet did not open */
	JV_R_INNER_SOURCE_NOT_ALLOWED, /* inner source outside the prefixes */
	/* ATTACHED -> VOLATILE: a standby earlier in the preference order
	 * stayed healthy switching.failback_after_ms; the client moves back */
	JV_R_FAILBACK,
	/* ATTACHED -> VOLATILE: inner packets went out on the active transport
	 * and nothing came back, not even to the probes sent at once (issue
	 * 11, volatility.data_silence_*): death before the heartbeat timeout */
	JV_R_DATA_PATH_SILENT,
	JV_R__COUNT
};

/* Lower-case contract name, e.g. "handshake_ok"; "?" if out of range. */
const char *jv_reason_name(enum jv_reason r);
/* Upper-case contract name, e.g. "ATTACHED"; "?" if out of range. */
const char *jv_state_name(enum jv_state s);
/* Reverse look-ups; return -1 when the name is unknown. */
int jv_reason_from_name(const char *name);
int jv_state_from_name(const char *name);

/* The state machine decides: a session in `from` on `event` (a reason code
 * of the transition table, e.g. JV_R_LINK_DOWN) moves to *next. Returns 0,
 * or JV_ERR_STATE when the table has no row for (from, event): a refusal,
 * *next untouched. Pure: callers ask before any side effect. */
int jv_fsm_next(enum jv_state from, enum jv_reason event,
		enum jv_state *next);

/* True if (from, to, reason) is a row of the transition table, i.e.
 * jv_fsm_next(from, reason) gives to (for `jvpn audit verify`). */
bool jv_fsm_allowed(enum jv_state from, enum jv_state to, enum jv_reason r);

#endif
