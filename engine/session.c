/* What both ends do with a session: transitions through the one fsm table,
 * the events that go with them, TTLs, rekey, and sealing control messages. */
#include <sodium.h>
#include <string.h>

#include "engine/internal.h"

/* Security event budgets (events per second, burst): see jv_sec_allow. */
#define NODE_RATE 20.0
#define NODE_BURST 20.0
#define SESSION_RATE 5.0
#define SESSION_BURST 10.0
#define SESSIONS_RATE 200.0
#define SESSIONS_BURST 200.0

static void bucket_init(struct jv_sec_bucket *b, double burst, uint64_t now);

void jv_random(struct jv_endpoint *ep, void *buf, size_t len)
{
	ep->cfg.ops.random(ep->cfg.ctx, buf, len);
}

void jv_lock(struct jv_endpoint *ep, void *ptr, size_t len, bool on)
{
	if (ep->cfg.ops.lock && ptr && len)
		ep->cfg.ops.lock(ep->cfg.ctx, ptr, len, on);
}

bool jv_path_eq(const struct jv_path *a, const struct jv_path *b)
{
	return a->proto == b->proto && a->local == b->local &&
	       a->len == b->len && memcmp(a->addr, b->addr, a->len) == 0;
}

void jv_path_bind(struct jv_endpoint *ep, struct jv_session *s,
		  const struct jv_path *path)
{
	void (*cb)(void *, const struct jv_path *, bool) =
		ep->cfg.ops.path_bound;

	if (s->path.proto && path && jv_path_eq(&s->path, path))
		return;
	if (s->path.proto && cb)
		cb(ep->cfg.ctx, &s->path, false);
	if (path) {
		s->path = *path;
		if (cb)
			cb(ep->cfg.ctx, path, true);
	} else {
		memset(&s->path, 0, sizeof(s->path));
	}
}

void jv_session_init(struct jv_endpoint *ep, struct jv_session *s,
		     const uint8_t id[16], uint64_t now)
{
	(void)ep;
	memset(s, 0, sizeof(*s));
	memcpy(s->id, id, 16);
	s->state = JV_STATE_BIRTH;
	s->created_ms = now;
	s->left_attached_ms = now;
	s->state_since_ms = now;
	s->last_rekey_ms = now;
	bucket_init(&s->sec, SESSION_BURST, now);
}

/* `peer` and `remote` (CONTRACT section 8) after the common fields:
 * remote is where the datagram being handled came from, else the
 * session's path (the server's bound one, the client's transport). */
static void peer_fields(struct jv_endpoint *ep, struct jv_json *w,
			const struct jv_session *s)
{
	const char *peer = s ? jv_peer_name(ep, s) : ep->ev_peer;
	char remote[JV_REMOTE_MAX];
	size_t n = 0;

	if (peer)
		jv_json_str(w, "peer", peer);
	if (ep->rx_path) {
		n = jv_format_path(ep, ep->rx_path, remote, sizeof(remote));
	} else if (s && ep->cfg.role == JV_ROLE_SERVER) {
		if (s->path.proto)
			n = jv_format_path(ep, &s->path, remote, sizeof(remote));
	} else if (s) {
		int t = jv_client_path_transport(&ep->u.c);
		struct jv_path p;

		if (t >= 0) {
			memset(&p, 0, sizeof(p));
			p.proto = ep->u.c.tr[t].cfg.proto;
			p.local = (uint16_t)t;
			n = jv_format_path(ep, &p, remote, sizeof(remote));
		}
	}
	if (n)
		jv_json_strn(w, "remote", remote, n);
}

struct jv_json *jv_ev_begin(struct jv_endpoint *ep, uint64_t now,
			    const char *type, const struct jv_session *s)
{
	struct jv_json *w = jv_audit_begin(&ep->audit, now, type,
					   s ? s->id : NULL);

	if (s)
		peer_fields(ep, w, s);
	return w;
}

void jv_ev_end(struct jv_endpoint *ep)
{
	jv_audit_end(&ep->audit);
}

static void json_tid(struct jv_json *w, const char *key, const char *tid)
{
	if (tid && *tid)
		jv_json_str(w, key, tid);
	else
		jv_json_null(w, key);
}

bool jv_session_takes(const struct jv_session *s, enum jv_reason event)
{
	enum jv_state next;

	return jv_fsm_next(s->state, event, &next) == 0;
}

static void reject(struct jv_endpoint *ep, const struct jv_session *s,
		   enum jv_reason event, uint64_t now)
{
	struct jv_json *w = jv_ev_begin(ep, now, "TransitionRejected", s);

	jv_json_str(w, "previous_state", jv_state_name(s->state));
	jv_json_str(w, "attempted_event", jv_reason_name(event));
	jv_json_str(w, "reason_code", jv_reason_name(JV_R_INVALID_TRANSITION));
	jv_ev_end(ep);
}

bool jv_session_step(struct jv_endpoint *ep, struct jv_session *s,
		     enum jv_reason event, const char *transport, uint64_t now)
{
	enum jv_state to;
	struct jv_json *w;

	if (jv_fsm_next(s->state, event, &to) != 0) {
		reject(ep, s, event, now);
		return false;
	}
	w = jv_ev_begin(ep, now, "SessionStateChange", s);
	jv_json_str(w, "previous_state", jv_state_name(s->state));
	jv_json_str(w, "new_state", jv_state_name(to));
	jv_json_str(w, "reason_code", jv_reason_name(event));
	jv_json_u64(w, "state_version", s->state_version + 1);
	json_tid(w, "transport_id", to == JV_STATE_ATTACHED ? transport : NULL);
	jv_ev_end(ep);

	if (s->state == JV_STATE_ATTACHED || s->state == JV_STATE_BIRTH)
		s->left_attached_ms = now;
	s->state = to;
	s->state_version++;
	s->state_since_ms = now;
	return true;
}

uint64_t jv_session_transportless_age(const struct jv_session *s,
				      uint64_t now)
{
	if (s->state == JV_STATE_ATTACHED || now < s->left_attached_ms)
		return 0;
	return now - s->left_attached_ms;
}

void jv_session_terminate(struct jv_endpoint *ep, struct jv_session *s,
			  enum jv_reason why, const char *transport,
			  uint64_t now)
{
	uint64_t tl = jv_session_transportless_age(s, now);
	struct jv_json *w;

	enum jv_state to;

	if (s->state == JV_STATE_TERMINATED)
		return;
	/* only an event that ends the session may end it */
	if (jv_fsm_next(s->state, why, &to) != 0 || to != JV_STATE_TERMINATED) {
		reject(ep, s, why, now);
		return;
	}
	jv_session_step(ep, s, why, transport, now);
	/* the run's byte totals keep what the session carried */
	ep->stats.bytes_in += s->bytes_in;
	ep->stats.bytes_out += s->bytes_out;
	w = jv_ev_begin(ep, now, "SessionTerminated", s);
	jv_json_str(w, "reason_code", jv_reason_name(why));
	jv_json_u64(w, "session_age_ms", now - s->created_ms);
	jv_json_u64(w, "transportless_age_ms", tl);
	jv_ev_end(ep);
	jv_keys_wipe(&s->keys);
}

uint64_t jv_session_ttl_deadline(const struct jv_endpoint *ep,
				 const struct jv_session *s)
{
	const struct jv_policy *p = &ep->policy;
	uint64_t d;

	if (s->state == JV_STATE_TERMINATED)
		return NEVER;
	/* "exceeds": the first millisecond past the limit */
	d = s->created_ms + p->max_lifetime_ms + 1;
	if (s->state != JV_STATE_ATTACHED && s->state != JV_STATE_BIRTH) {
		uint64_t t = s->left_attached_ms + p->transport_lost_ttl_ms + 1;
		if (t < d)
			d = t;
	}
	return d;
}

enum jv_reason jv_session_ttl_due(const struct jv_endpoint *ep,
				  const struct jv_session *s, uint64_t now)
{
	const struct jv_policy *p = &ep->policy;

	if (s->state == JV_STATE_TERMINATED)
		return JV_R_NONE;
	if (now - s->created_ms > p->max_lifetime_ms)
		return JV_R_SESSION_LIFETIME_EXCEEDED;
	if (s->state != JV_STATE_ATTACHED && s->state != JV_STATE_BIRTH &&
	    now - s->left_attached_ms > p->transport_lost_ttl_ms)
		return JV_R_TRANSPORT_TTL_EXCEEDED;
	return JV_R_NONE;
}

uint64_t jv_session_rekey_deadline(const struct jv_endpoint *ep,
				   const struct jv_session *s)
{
	if (s->state == JV_STATE_BIRTH || s->state == JV_STATE_TERMINATED)
		return NEVER;
	return s->last_rekey_ms + ep->policy.rekey_after_ms;
}

void jv_session_maybe_rekey(struct jv_endpoint *ep, struct jv_session *s,
			    uint64_t now)
{
	struct jv_json *w;

	if (now < jv_session_rekey_deadline(ep, s))
		return;
	jv_keys_rotate_tx(&s->keys);
	s->last_rekey_ms = now;
	w = jv_ev_begin(ep, now, "KeyRotated", s);
	jv_json_str(w, "reason_code", jv_reason_name(JV_R_TIME_ELAPSED));
	jv_json_u64(w, "key_epoch", s->keys.tx_epoch);
	jv_ev_end(ep);
}

void jv_send_raw(struct jv_endpoint *ep, const struct jv_path *path,
		 const uint8_t *buf, size_t len)
{
	ep->stats.tx_packets++;
	ep->cfg.ops.send(ep->cfg.ctx, path, buf, len);
}

void jv_send_ctrl(struct jv_endpoint *ep, struct jv_session *s,
		  const struct jv_path *path, const struct jv_ctrl *c)
{
	uint8_t body[JV_CTRL_MAX_BODY];
	int n = jv_ctrl_encode(c, body, sizeof(body));

	if (n < 0)
		return;
	n = jv_keys_seal(&s->keys, JV_MSG_CONTROL, c->type, s->remote_index,
			 body, (size_t)n, ep->scratch, sizeof(ep->scratch));
	sodium_memzero(body, sizeof(body));
	if (n > 0)
		jv_send_raw(ep, path, ep->scratch, (size_t)n);
}

/* Security events are rate limited so a flood of forged packets cannot
 * flood the audit log: events tied to no session share one node bucket;
 * each session has a bucket of its own, so an attack on one session is
 * still logged while a flood goes on elsewhere, and all session buckets
 * together are capped by a second node bucket. What a limit hides is
 * counted (stats.security_suppressed) and the next event of the same
 * bucket says how many it hid (`suppressed`). */

static double refill(const struct jv_sec_bucket *b, double rate, double burst,
		     uint64_t now)
{
	double t = b->tokens + (double)(now - b->ms) * rate / 1000.0;

	return t > burst ? burst : t;
}

static bool take(struct jv_sec_bucket *b, double rate, double burst,
		 uint64_t now)
{
	b->tokens = refill(b, rate, burst, now);
	b->ms = now;
	if (b->tokens < 1.0)
		return false;
	b->tokens -= 1.0;
	return true;
}

static void bucket_init(struct jv_sec_bucket *b, double burst, uint64_t now)
{
	b->tokens = burst;
	b->ms = now;
	b->suppressed = 0;
}

void jv_sec_init(struct jv_endpoint *ep, uint64_t now)
{
	bucket_init(&ep->sec_node, NODE_BURST, now);
	bucket_init(&ep->sec_sessions, SESSIONS_BURST, now);
}

bool jv_sec_would_allow(const struct jv_endpoint *ep,
			const struct jv_session *s, uint64_t now)
{
	if (!ep->policy.emit_security_events)
		return false;
	if (!s)
		return refill(&ep->sec_node, NODE_RATE, NODE_BURST, now) >= 1.0;
	return refill(&s->sec, SESSION_RATE, SESSION_BURST, now) >= 1.0 &&
	       refill(&ep->sec_sessions, SESSIONS_RATE, SESSIONS_BURST, now) >=
		       1.0;
}

uint32_t jv_sec_allow(struct jv_endpoint *ep, struct jv_session *s,
		      uint64_t now)
{
	struct jv_sec_bucket *b = s ? &s->sec : &ep->sec_node;
	uint32_t hidden;
	bool ok;

	ep->stats.security_events++;
	if (!ep->policy.emit_security_events)
		return 0;
	if (s)
		ok = jv_sec_would_allow(ep, s, now) &&
		     take(&s->sec, SESSION_RATE, SESSION_BURST, now) &&
		     take(&ep->sec_sessions, SESSIONS_RATE, SESSIONS_BURST, now);
	else
		ok = take(&ep->sec_node, NODE_RATE, NODE_BURST, now);
	if (!ok) {
		ep->stats.security_suppressed++;
		if (b->suppressed < UINT32_MAX)
			b->suppressed++;
		return 0;
	}
	hidden = b->suppressed;
	b->suppressed = 0;
	return hidden + 1;
}

struct jv_json *jv_ev_security_begin(struct jv_endpoint *ep,
				     struct jv_session *s, const char *type,
				     uint64_t now)
{
	uint32_t ok = jv_sec_allow(ep, s, now);
	struct jv_json *w;

	if (!ok)
		return NULL;
	w = jv_ev_begin(ep, now, type, s);
	/* a finding tied to no session: the datagram's source, and the
	 * peer when its key was known */
	if (!s)
		peer_fields(ep, w, NULL);
	if (ok > 1)
		jv_json_u64(w, "suppressed", ok - 1);
	return w;
}

void jv_ev_security(struct jv_endpoint *ep, struct jv_session *s,
		    const char *type, enum jv_reason why,
		    const char *transport, uint64_t now)
{
	struct jv_json *w = jv_ev_security_begin(ep, s, type, now);

	if (!w)
		return;
	jv_json_str(w, "reason_code", jv_reason_name(why));
	json_tid(w, "transport_id", transport);
	if (why == JV_R_REPLAY_DETECTED)
		jv_json_str(w, "freshness_marker_type", "counter");
	jv_ev_end(ep);
}

void jv_data_auth_failed(struct jv_endpoint *ep, struct jv_session *s,
			 const struct jv_hdr *h, const char *transport,
			 uint64_t now)
{
	uint16_t behind = (uint16_t)(s->keys.rx_epoch - h->epoch);

	/* shown, not swallowed: a key mismatch is a dead tunnel. But a DATA
	 * packet from an epoch this end has moved past is late, not forged:
	 * a transport that held it (a TCP connection through a blackout)
	 * hands it over after a rekey. Counted, not reported. */
	ep->stats.rx_auth_failed++;
	if (h->type != JV_MSG_DATA)
		return;
	/* only an epoch the session has had: the epochs count up from 0,
	 * so at most rx_epoch of them lie behind (until the 16 bits wrap,
	 * after which late packets are reported, never forged ones hidden) */
	if (behind >= 1 && behind <= JV_EPOCH_SYNC_MAX &&
	    behind <= s->keys.rx_epoch) {
		ep->stats.rx_late++;
		return;
	}
	jv_ev_security(ep, s, "SecurityValidationFailed", JV_R_BAD_DATA_KEY,
		       transport, now);
}

void jv_inner_source_rejected(struct jv_endpoint *ep, struct jv_session *s,
			      const char *transport, uint64_t now)
{
	ep->stats.inner_source_rejected++;
	jv_ev_security(ep, s, "SecurityInnerSourceRejected",
		       JV_R_INNER_SOURCE_NOT_ALLOWED, transport, now);
}

void jv_ev_reattach_result(struct jv_endpoint *ep, const struct jv_session *s,
			   bool ok, enum jv_reason why, const char *candidate,
			   const struct jv_resent *resent, uint64_t now)
{
	struct jv_json *w = jv_ev_begin(ep, now, "ReattachResult", s);

	jv_json_str(w, "status", ok ? "SUCCESS" : "DENIED");
	jv_json_str(w, "reason_code", jv_reason_name(why));
	json_tid(w, "candidate_transport", candidate);
	if (ok && resent) {
		jv_json_u64(w, "resent_packets", resent->packets);
		jv_json_u64(w, "resent_bytes", resent->bytes);
	}
	jv_ev_end(ep);
	if (ok)
		ep->stats.reattach_ok++;
	else
		ep->stats.reattach_denied++;
}

void jv_ev_transport_dead(struct jv_endpoint *ep, const struct jv_session *s,
			  const char *transport, enum jv_reason why,
			  uint64_t last_rx_age, uint64_t now)
{
	struct jv_json *w = jv_ev_begin(ep, now, "TransportDead", s);

	json_tid(w, "transport_id", transport);
	jv_json_str(w, "reason_code", jv_reason_name(why));
	if (last_rx_age == NEVER)
		jv_json_null(w, "last_rx_age_ms");
	else
		jv_json_u64(w, "last_rx_age_ms", last_rx_age);
	jv_ev_end(ep);
}

#define SW_BUCKET_MS 60000

static void sw_roll(struct jv_session *s, uint64_t now)
{
	if (now - s->sw_bucket_ms < SW_BUCKET_MS)
		return;
	s->sw_prev = now - s->sw_bucket_ms < 2 * SW_BUCKET_MS ? s->sw_cur : 0;
	s->sw_cur = 0;
	s->sw_bucket_ms = now - (now - s->sw_bucket_ms) % SW_BUCKET_MS;
}

void jv_session_count_switch(struct jv_session *s, uint64_t now)
{
	if (!s->sw_bucket_ms)
		s->sw_bucket_ms = now ? now : 1;
	sw_roll(s, now);
	if (s->sw_cur < UINT16_MAX)
		s->sw_cur++;
}

uint32_t jv_session_switches_last_min(const struct jv_session *s,
				      uint64_t now)
{
	/* only the counters: a copy of the whole session would put its
	 * keys on the stack */
	struct jv_session t;
	uint64_t into;

	if (!s->sw_bucket_ms)
		return 0;
	t.sw_bucket_ms = s->sw_bucket_ms;
	t.sw_cur = s->sw_cur;
	t.sw_prev = s->sw_prev;
	sw_roll(&t, now);
	into = now - t.sw_bucket_ms;
	/* the part of the previous bucket still inside the last 60 s */
	return t.sw_cur + (uint32_t)((t.sw_prev * (SW_BUCKET_MS - into) +
				      SW_BUCKET_MS / 2) / SW_BUCKET_MS);
}
