/* Replies of the read-only control commands (CONTRACT section 6), built
 * from a running endpoint. Each returns a new JSON object with "ok": true
 * and the fields below, or NULL when out of memory. */
#ifndef JV_CLI_CTL_REPLY_H
#define JV_CLI_CTL_REPLY_H

#include <jansson.h>
#include <stdint.h>

#include "engine/endpoint.h"

struct jv_ctl_node {
	const struct jv_endpoint *ep;
	const char *node_id;
	enum jv_role role;
	uint64_t started_ms;             /* monotonic, when the daemon began */
};

/* node_id, role, uptime_ms, policy_version, sessions: {STATE: count} */
json_t *jv_ctl_reply_status(const struct jv_ctl_node *n, uint64_t now);
/* sessions: [{session_id, peer, state, state_version, transport (or null),
 * session_age_ms, transportless_age_ms, switches_last_min, bytes_in,
 * bytes_out, key_epoch}] */
json_t *jv_ctl_reply_sessions(const struct jv_ctl_node *n, uint64_t now);
/* transports: [{id, proto, state, loss_ratio, rtt_ms, last_rx_age_ms
 * (null when never)}]; empty on a server */
json_t *jv_ctl_reply_transports(const struct jv_ctl_node *n, uint64_t now);
/* text: the Prometheus text exposition of the counters and gauges */
json_t *jv_ctl_reply_metrics(const struct jv_ctl_node *n, uint64_t now);

/* A session id as an operator gives it: the 32 hex digits `ctl sessions`
 * prints, or a prefix of at least 8 (timeline and metrics print 8).
 * Writes it lowercased to out; returns its length, or JV_ERR_INVAL. */
int jv_ctl_session_prefix(const char *s, char out[33]);

/* How many live sessions (not TERMINATED) have an id that begins with
 * prefix (lowercase hex, from jv_ctl_session_prefix); id is the first. */
int jv_ctl_find_session(const struct jv_endpoint *ep, const char *prefix,
			uint64_t now, uint8_t id[16]);

#endif
