/* Audit events (CONTRACT section 2): a tiny JSON object writer and the
 * per-node emitter that stamps the common fields and a gapless seq.
 * The emitter never does I/O: finished lines go to the caller's sink. */
#ifndef JV_AUDIT_H
#define JV_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JV_EVENT_MAX 1024   /* longest event line, bytes */

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

/* Starts an event: ts_ms, seq, event_type, node_id, role, session_id (if
 * session_id != NULL), policy_version. Add extras with jv_json_* on
 * &a->w, then jv_audit_end(). */
struct jv_json *jv_audit_begin(struct jv_audit *a, uint64_t now_ms,
			       const char *event_type,
			       const uint8_t *session_id);
/* Finishes the line and hands it to the sink. */
void jv_audit_end(struct jv_audit *a);

#endif
