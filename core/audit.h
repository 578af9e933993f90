/* Audit events (CONTRACT section 2): a tiny JSON object writer and the
 * per-node emitter that stamps the common fields and a gapless seq.
 * The emitter never does I/O: finished lines go to the caller's sink. */
#ifndef JV_AUDIT_H
#define JV_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JV_EVENT_MAX 1024   /* longest event line, bytes */
#define JV_RUN_ID_LEN 8     /* run_id bytes: 16 hex characters in events */

enum jv_role { JV_ROLE_CLIENT, JV_ROLE_SERVER };

/* JSON object writer into a fixed buffer; overflow is sticky and reported by
 * jv_json_end(). Keys are trusted literals; string values are escaped. */
struct jv_json {
	char *buf;
	size_t cap, len;
	bool first, overflow;
};

void jv_json_begin(struct jv_json *w, char *buf, size_t cap);
void jv_json_str(struct jv_json *w, const char *key, const char *val);
void jv_json_strn(struct jv_json *w, const char *key, const char *val, size_t n);
void jv_json_u64(struct jv_json *w, const char *key, uint64_t val);
void jv_json_i64(struct jv_json *w, const char *key, int64_t val);
/* Fixed 4 decimals (deterministic across runs), e.g. 0.2500 */
void jv_json_double(struct jv_json *w, const char *key, double val);
void jv_json_bool(struct jv_json *w, const char *key, bool val);
void jv_json_null(struct jv_json *w, const char *key);
/* Closes the object; returns its length or -1 on overflow. */
int jv_json_end(struct jv_json *w);

/* Lower-case hex of 16 bytes into out[33]. */
void jv_hex16(const uint8_t id[16], char out[33]);

typedef void (*jv_event_sink)(void *ctx, const char *line, size_t len);

struct jv_audit {
	char node_id[64];
	enum jv_role role;
	char policy_version[16];
	uint64_t seq;            /* last seq used; first event gets 1 */
	int64_t ts_offset_ms;    /* added to engine time: wall clock at the edge */
	char run_id[2 * JV_RUN_ID_LEN + 1];   /* "" until a run starts */
	uint64_t run_start_ms;   /* edge time, as ts_ms */
	jv_event_sink sink;
	void *sink_ctx;
	/* the event being built (its common fields are kept so that an
	 * overflowing event can still be emitted, truncated, with its seq) */
	uint64_t cur_ts;
	const char *cur_type;
	char cur_sid[33];
	char line[JV_EVENT_MAX];
	struct jv_json w;
};

void jv_audit_init(struct jv_audit *a, const char *node_id, enum jv_role role,
		   const char *policy_version, jv_event_sink sink, void *ctx);

/* Starts a run (one per daemon start): later events carry run_id (hex of
 * the caller's random bytes) and run_start_ms (now_ms at the edge, as
 * ts_ms) right after seq, and seq starts again at 1. Before the first
 * run, events carry neither field. Set ts_offset_ms first. */
void jv_audit_start_run(struct jv_audit *a,
			const uint8_t run_id[JV_RUN_ID_LEN], uint64_t now_ms);

/* Starts an event: ts_ms, seq, run_id and run_start_ms (in a run),
 * event_type, node_id, role, session_id (if session_id != NULL),
 * policy_version. Add extras with jv_json_* on &a->w, then
 * jv_audit_end(). */
struct jv_json *jv_audit_begin(struct jv_audit *a, uint64_t now_ms,
			       const char *event_type,
			       const uint8_t *session_id);
/* Finishes the line and hands it to the sink. */
void jv_audit_end(struct jv_audit *a);

#endif
