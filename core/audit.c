/* Audit events: a fixed-buffer JSON object writer and the per-node emitter.
 * Integers are formatted by hand: events sit on the switch and security
 * paths and snprintf costs more than the rest of an event together. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/audit.h"

/* The truncated fallback must always fit, or an event would vanish and
 * leave a gap in seq: every common field escaped at worst (6 bytes per
 * byte), three 20-digit numbers, the session and run ids, the keys and an
 * event type (a trusted literal, never escaped) of up to 64 bytes. */
_Static_assert((sizeof(((struct jv_audit *)0)->node_id) - 1) * 6 +
		       (sizeof(((struct jv_audit *)0)->policy_version) - 1) * 6 +
		       3 * 20 + 32 + 2 * JV_RUN_ID_LEN + 64 + 200 < JV_EVENT_MAX,
	       "common fields may not fit in JV_EVENT_MAX");

static void put(struct jv_json *w, const char *s, size_t n)
{
	if (w->overflow)
		return;
	/* keep one byte for the closing brace and one for the NUL */
	if (n + 2 > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void putc_(struct jv_json *w, char c)
{
	put(w, &c, 1);
}

/* ,"key": in one bounds check: every field starts here */
static void key(struct jv_json *w, const char *k)
{
	size_t kl = strlen(k), need = kl + 3 + !w->first;
	char *p;

	if (w->overflow)
		return;
	if (need + 2 > w->cap - w->len) {
		w->overflow = true;
		return;
	}
	p = w->buf + w->len;
	if (!w->first)
		*p++ = ',';
	w->first = false;
	*p++ = '"';
	memcpy(p, k, kl);
	p += kl;
	*p++ = '"';
	*p++ = ':';
	w->len = (size_t)(p - w->buf);
}

void jv_json_begin(struct jv_json *w, char *buf, size_t cap)
{
	w->buf = buf;
	w->cap = cap;
	w->len = 0;
	w->first = true;
	w->overflow = cap < 3;
	if (!w->overflow)
		buf[w->len++] = '{';
}

static void escaped(struct jv_json *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789abcdef";

	putc_(w, '"');
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		size_t run = i;

		/* copy runs of plain bytes at once */
		while (run < n && (unsigned char)s[run] >= 0x20 &&
		       s[run] != '"' && s[run] != '\\')
			run++;
		if (run > i) {
			put(w, s + i, run - i);
			i = run - 1;
			continue;
		}
		switch (c) {
		case '"': put(w, "\\\"", 2); break;
		case '\\': put(w, "\\\\", 2); break;
		case '\n': put(w, "\\n", 2); break;
		case '\t': put(w, "\\t", 2); break;
		case '\r': put(w, "\\r", 2); break;
		case '\b': put(w, "\\b", 2); break;
		case '\f': put(w, "\\f", 2); break;
		default: {
			char u[6] = { '\\', 'u', '0', '0', hex[c >> 4],
				      hex[c & 15] };
			put(w, u, 6);
		}
		}
	}
	putc_(w, '"');
}

/* A NULL string is written as null: an absent id must not crash the
 * event path. */
void jv_json_str(struct jv_json *w, const char *k, const char *val)
{
	jv_json_strn(w, k, val, val ? strlen(val) : 0);
}

void jv_json_strn(struct jv_json *w, const char *k, const char *val, size_t n)
{
	key(w, k);
	if (val)
		escaped(w, val, n);
	else
		put(w, "null", 4);
}

static void put_u64(struct jv_json *w, uint64_t v)
{
	char tmp[20];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(w, tmp + i, sizeof(tmp) - i);
}

void jv_json_u64(struct jv_json *w, const char *k, uint64_t val)
{
	key(w, k);
	put_u64(w, val);
}

void jv_json_i64(struct jv_json *w, const char *k, int64_t val)
{
	key(w, k);
	if (val < 0) {
		putc_(w, '-');
		put_u64(w, (uint64_t)0 - (uint64_t)val);
	} else {
		put_u64(w, (uint64_t)val);
	}
}

void jv_json_double(struct jv_json *w, const char *k, double val)
{
	/* room for any finite double: DBL_MAX has 309 integer digits */
	char tmp[320];
	int n;

	key(w, k);
	if (!isfinite(val)) {
		put(w, "null", 4);
		return;
	}
	n = snprintf(tmp, sizeof(tmp), "%.4f", val);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		put(w, "null", 4);
	else
		put(w, tmp, (size_t)n);
}

void jv_json_bool(struct jv_json *w, const char *k, bool val)
{
	key(w, k);
	if (val)
		put(w, "true", 4);
	else
		put(w, "false", 5);
}

void jv_json_null(struct jv_json *w, const char *k)
{
	key(w, k);
	put(w, "null", 4);
}

int jv_json_end(struct jv_json *w)
{
	if (w->overflow)
		return -1;
	/* put() always left room for these two */
	w->buf[w->len++] = '}';
	w->buf[w->len] = '\0';
	return (int)w->len;
}

void jv_hex16(const uint8_t id[16], char out[33])
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < 16; i++) {
		out[2 * i] = hex[id[i] >> 4];
		out[2 * i + 1] = hex[id[i] & 15];
	}
	out[32] = '\0';
}

void jv_audit_init(struct jv_audit *a, const char *node_id, enum jv_role role,
		   const char *policy_version, jv_event_sink sink, void *ctx)
{
	memset(a, 0, sizeof(*a));
	snprintf(a->node_id, sizeof(a->node_id), "%s", node_id);
	snprintf(a->policy_version, sizeof(a->policy_version), "%s",
		 policy_version);
	a->role = role;
	a->sink = sink;
	a->sink_ctx = ctx;
}

/* The fields every event carries. */
static void common(struct jv_audit *a, uint64_t ts, uint64_t seq,
		   const char *type, const char *sid)
{
	struct jv_json *w = &a->w;

	jv_json_begin(w, a->line, sizeof(a->line));
	jv_json_u64(w, "ts_ms", ts);
	jv_json_u64(w, "seq", seq);
	if (a->run_id[0]) {
		jv_json_str(w, "run_id", a->run_id);
		jv_json_u64(w, "run_start_ms", a->run_start_ms);
	}
	jv_json_str(w, "event_type", type);
	jv_json_str(w, "node_id", a->node_id);
	jv_json_str(w, "role", a->role == JV_ROLE_CLIENT ? "client" : "server");
	if (sid[0])
		jv_json_str(w, "session_id", sid);
	jv_json_str(w, "policy_version", a->policy_version);
}

/* Engine time to edge time (Unix ms in daemons). */
static uint64_t edge_ms(const struct jv_audit *a, uint64_t now_ms)
{
	uint64_t off = (uint64_t)a->ts_offset_ms;

	/* wraps modulo 2^64 to the right sum; a negative total means a
	 * clock set before 1970: pin it to 0 rather than print 1.8e19 */
	if (a->ts_offset_ms < 0 && (uint64_t)0 - off > now_ms)
		return 0;
	return now_ms + off;
}

void jv_audit_start_run(struct jv_audit *a,
			const uint8_t run_id[JV_RUN_ID_LEN], uint64_t now_ms)
{
	static const char hex[] = "0123456789abcdef";

	for (int i = 0; i < JV_RUN_ID_LEN; i++) {
		a->run_id[2 * i] = hex[run_id[i] >> 4];
		a->run_id[2 * i + 1] = hex[run_id[i] & 15];
	}
	a->run_id[2 * JV_RUN_ID_LEN] = '\0';
	a->run_start_ms = edge_ms(a, now_ms);
	a->seq = 0;
}

struct jv_json *jv_audit_begin(struct jv_audit *a, uint64_t now_ms,
			       const char *event_type,
			       const uint8_t *session_id)
{
	a->seq++;
	a->cur_ts = edge_ms(a, now_ms);
	a->cur_type = event_type;
	a->cur_sid[0] = '\0';
	if (session_id)
		jv_hex16(session_id, a->cur_sid);
	common(a, a->cur_ts, a->seq, event_type, a->cur_sid);
	return &a->w;
}

void jv_audit_end(struct jv_audit *a)
{
	int n = jv_json_end(&a->w);

	if (n < 0) {
		/* too long: the same seq, only the common fields, flagged */
		common(a, a->cur_ts, a->seq, a->cur_type, a->cur_sid);
		jv_json_bool(&a->w, "truncated", true);
		n = jv_json_end(&a->w);
	}
	if (n >= 0 && a->sink)
		a->sink(a->sink_ctx, a->line, (size_t)n);
}
