/* The policy of CONTRACT section 3: one schema table drives defaults,
 * required keys, bounds, validation messages and `jvpn policy check`. */
#ifndef JV_POLICY_H
#define JV_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/proto.h"
#include "core/schema.h"

struct yaml_document_s;
struct yaml_node_s;

/* The one table of protocol names: "udp", "tcp". */
extern const struct jv_sname jv_proto_names[];

/* "udp" or "tcp" for one JV_PROTO_* value, NULL for anything else. */
const char *jv_proto_name(unsigned proto);

/* The JV_PROTO_* value named s[0..len), 0 if none. */
unsigned jv_proto_from_name(const char *s, size_t len);

struct jv_policy {
	char version[16];                 /* "X.Y" */
	/* session */
	uint64_t max_lifetime_ms;
	uint64_t transport_lost_ttl_ms;
	/* volatility */
	uint64_t heartbeat_interval_ms;
	uint64_t heartbeat_volatile_ms;
	uint64_t loss_window_ms;
	double loss_volatile_threshold;   /* (0, 1] */
	uint32_t max_consecutive_drops;
	uint64_t volatile_to_degraded_ms;
	uint64_t latency_volatile_threshold_ms; /* 0 = off */
	uint32_t data_silence_rtts;       /* 0 = off */
	uint64_t data_silence_floor_ms;
	/* switching */
	uint32_t max_switches_per_min;
	uint64_t switch_cooldown_ms;
	uint64_t recovery_window_ms;
	double switch_improvement_factor;
	uint64_t failback_after_ms;       /* 0 = never */
	/* copies of sent data re-sent after a reattach, per session, in
	 * bytes of store (headers included); 0 = off */
	uint32_t resend_max_bytes;
	/* transport */
	uint32_t allowed_protocols;       /* JV_PROTO_* bits */
	uint32_t max_candidate_count;
	uint64_t probe_interval_ms;
	bool enforce_hysteresis;
	/* security */
	uint64_t reattach_proof_max_age_ms;
	uint32_t replay_window_size;      /* bits; multiple of 64 */
	uint32_t max_reattach_failures;
	uint64_t rekey_after_ms;
	/* observability */
	bool emit_switch_metrics;
	bool emit_security_events;
	bool include_latency_metrics;
};

/* Fills p with the defaults of CONTRACT section 3. */
void jv_policy_defaults(struct jv_policy *p);

/*
 * Parses a policy document held in buf[0..len) (YAML). Keys absent from the
 * document keep the value p already has, so callers start from
 * jv_policy_defaults() (a policy file) or from another policy (overrides).
 * With require_all, the seven required keys (version and the six marked
 * required in CONTRACT section 3) must be present.
 * Unknown keys, wrong types and out-of-range values are refused; err names
 * `file`, the line, the dotted key, the value and the allowed range.
 * On error p is left unchanged.
 */
int jv_policy_parse(struct jv_policy *p, const char *buf, size_t len,
		    const char *file, bool require_all, struct jv_error *err);

/* The same, from a mapping node inside an already-loaded YAML document
 * (an inline `policy:` in a config file or a sim scenario); path (NULL:
 * none) prefixes the key names in messages: "policy.session...". */
int jv_policy_parse_node(struct jv_policy *p, yaml_document_t *doc,
			 yaml_node_t *node, const char *file,
			 const char *path, bool require_all,
			 struct jv_error *err);

/* Cross-field checks (e.g. heartbeat_volatile_ms > heartbeat_interval_ms). */
int jv_policy_validate(const struct jv_policy *p, const char *file,
		       struct jv_error *err);

/* Writes the effective policy as YAML (all keys, schema order) into buf.
 * Returns the length written, or JV_ERR_SHORT. */
int jv_policy_format(const struct jv_policy *p, char *buf, size_t cap);

#endif
