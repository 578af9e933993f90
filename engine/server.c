/* The server endpoint: many sessions in a bounded table, each bound to the
 * path its client last proved. The server never picks a path itself: it
 * detects silence, and validates the client's reattach requests (checks
 * B1..B8, docs/protocol.md) before any state changes. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "engine/internal.h"

#define TOMBSTONE_MIN_MS 60000
/* A tombstone answers at most this many messages a second: one answer is
 * all an honest client needs, and nobody gets a flood of replies. */
#define TOMB_ANSWERS_PER_S 4
/* How many missed REATTACH_ACKs a client's attach epoch may lag by. */
#define ATTACH_LAG_MAX 8
/* Handshakes under load: HS_INITs are counted per second; the defaults of
 * handshake.cookie_threshold_per_s and handshake.per_source_per_s. */
#define LOAD_WINDOW_MS 1000
#define DEFAULT_COOKIE_THRESHOLD 500
#define DEFAULT_PER_SOURCE 20

static struct jv_server *S(struct jv_endpoint *ep)
{
	return &ep->u.s;
}

static uint32_t rand_u32(void *ctx)
{
	struct jv_endpoint *ep = ctx;
	uint32_t v;

	jv_random(ep, &v, sizeof(v));
	return v;
}

/* ---- scheduling ---- */

static uint64_t session_deadline(const struct jv_endpoint *ep,
				 const struct jv_session *s)
{
	const struct jv_policy *p = &ep->policy;
	uint64_t d = jv_session_ttl_deadline(ep, s), r;

	r = jv_session_rekey_deadline(ep, s);
	if (r < d)
		d = r;
	if (s->state == JV_STATE_ATTACHED) {
		r = s->last_rx_bound_ms + p->heartbeat_volatile_ms + 1;
		if (r < d)
			d = r;
	} else if (s->state == JV_STATE_VOLATILE) {
		r = s->state_since_ms + p->volatile_to_degraded_ms;
		if (r < d)
			d = r;
	}
	return d;
}

static void reschedule(struct jv_endpoint *ep, struct jv_session *s)
{
	jv_table_set_deadline(S(ep)->table, s->local_index,
			      session_deadline(ep, s));
}

/* ---- termination and tombstones ---- */

static enum jv_reason tomb_deny_reason(enum jv_reason why)
{
	switch (why) {
	case JV_R_TRANSPORT_TTL_EXCEEDED:
		return JV_R_TRANSPORT_TTL_EXCEEDED;
	case JV_R_SESSION_LIFETIME_EXCEEDED:
		return JV_R_SESSION_EXPIRED;
	default:
		return JV_R_INVALID_STATE_FOR_REATTACH;
	}
}

static void send_terminate(struct jv_endpoint *ep, struct jv_session *s,
			   enum jv_reason why)
{
	struct jv_ctrl m = { .type = JV_CTRL_TERMINATE };

	m.u.term.reason = jv_reason_to_wire(why);
	jv_send_ctrl(ep, s, &s->path, &m);
}

/* Ends a session: tells the peer (unless it told us), leaves a tombstone
 * that can still answer the client authentically, frees the slot. */
static void terminate(struct jv_endpoint *ep, struct jv_session *s,
		      enum jv_reason why, uint64_t now)
{
	struct jv_server *sv = S(ep);
	struct jv_tombstone *tb = &sv->tomb[sv->tomb_next];
	uint64_t keep = ep->policy.transport_lost_ttl_ms;

	if (why != JV_R_PEER_TERMINATED)
		send_terminate(ep, s, why);
	sodium_memzero(tb, sizeof(*tb));
	tb->used = true;
	tb->local_index = s->local_index;
	tb->remote_index = s->remote_index;
	memcpy(tb->ctrl_rx, s->keys.ctrl_rx, 32);
	memcpy(tb->ctrl_tx, s->keys.ctrl_tx, 32);
	tb->tx_counter = s->keys.tx_counter;
	tb->rx_top = s->keys.replay.top;
	tb->until_ms = now + (keep > TOMBSTONE_MIN_MS ? keep : TOMBSTONE_MIN_MS);
	tb->deny_reason = jv_reason_to_wire(tomb_deny_reason(why));
	sv->tomb_next = (sv->tomb_next + 1) % JV_TOMBSTONES;

	jv_session_terminate(ep, s, why, NULL, now);
	/* its copies were sealed under keys nobody holds any more, and the
	 * slot's index may name another session next */
	jv_resend_drop(ep, s->local_index);
	memcpy(sv->peer_ended[s->peer], s->id, 16);
	if (sv->peer_session[s->peer] == s->local_index)
		sv->peer_session[s->peer] = 0;
	jv_table_remove(sv->table, s->local_index);
	jv_path_bind(ep, s, NULL);
	sv->free_list[sv->nfree++] = (uint32_t)(s - sv->pool);
	sodium_memzero(s, sizeof(*s));
}

static struct jv_tombstone *tomb_find(struct jv_endpoint *ep, uint32_t index,
				      uint64_t now)
{
	struct jv_server *sv = S(ep);

	for (int i = 0; i < JV_TOMBSTONES; i++) {
		struct jv_tombstone *tb = &sv->tomb[i];
		if (tb->used && tb->local_index == index && now < tb->until_ms)
			return tb;
	}
	return NULL;
}

/* A terminated session's client still talks: answer authentically so it
 * learns the session is over, without any event (the session is closed). */
static void tomb_answer(struct jv_endpoint *ep, struct jv_tombstone *tb,
			const struct jv_path *path, const struct jv_hdr *h,
			const uint8_t *buf, size_t len, uint64_t now)
{
	struct jv_keys k;
	struct jv_ctrl in, out;
	uint8_t body[JV_CTRL_MAX_BODY];
	int n;

	/* only fresh counters, and a few a second: a captured message
	 * replayed from many sources draws no replies */
	if (h->type != JV_MSG_CONTROL || h->counter < tb->rx_top ||
	    len - JV_HDR_LEN - JV_TAG_LEN > sizeof(ep->plain))
		return;
	if (now - tb->window_ms >= 1000) {
		tb->window_ms = now;
		tb->answers = 0;
	}
	if (tb->answers >= TOMB_ANSWERS_PER_S)
		return;
	if (jv_noise_decrypt(tb->ctrl_rx, h->counter, buf, JV_HDR_LEN,
			     buf + JV_HDR_LEN, len - JV_HDR_LEN, ep->plain) != 0)
		return;
	tb->rx_top = h->counter + 1;
	tb->answers++;
	/* whatever the client sends, authentically, on whichever path, it
	 * learns the session is over: its TERMINATE may have been lost on a
	 * path that died, and a standby's probe is often the only packet
	 * that still arrives */
	if (jv_ctrl_decode(&in, h->subtype, ep->plain,
			   len - JV_HDR_LEN - JV_TAG_LEN) != 0 ||
	    in.type == JV_CTRL_TERMINATE)
		return;
	memset(&out, 0, sizeof(out));
	if (in.type == JV_CTRL_REATTACH_REQ) {
		out.type = JV_CTRL_REATTACH_DENY;
		out.u.deny.req_counter = h->counter;
		out.u.deny.reason = tb->deny_reason;
	} else {
		out.type = JV_CTRL_TERMINATE;
		out.u.term.reason = jv_reason_to_wire(JV_R_PEER_TERMINATED);
	}
	n = jv_ctrl_encode(&out, body, sizeof(body));
	memset(&k, 0, sizeof(k));
	memcpy(k.ctrl_tx, tb->ctrl_tx, 32);
	k.tx_counter = tb->tx_counter;
	n = jv_keys_seal(&k, JV_MSG_CONTROL, out.type, tb->remote_index, body,
			 (size_t)n, ep->scratch, sizeof(ep->scratch));
	tb->tx_counter = k.tx_counter;
	jv_keys_wipe(&k);
	if (n > 0)
		jv_send_raw(ep, path, ep->scratch, (size_t)n);
}

/* ---- timers ---- */

static bool load_update(struct jv_endpoint *ep, bool arrival, uint64_t now);

static void session_timers(struct jv_endpoint *ep, struct jv_session *s,
			   uint64_t now)
{
	const struct jv_policy *p = &ep->policy;
	enum jv_reason ttl = jv_session_ttl_due(ep, s, now);

	if (ttl != JV_R_NONE) {
		terminate(ep, s, ttl, now);
		return;
	}
	jv_session_maybe_rekey(ep, s, now);
	if (jv_session_takes(s, JV_R_HEARTBEAT_TIMEOUT) &&
	    now - s->last_rx_bound_ms > p->heartbeat_volatile_ms) {
		jv_ev_transport_dead(ep, s, s->tid.id, JV_R_HEARTBEAT_TIMEOUT,
				     now - s->last_rx_bound_ms, now);
		jv_session_step(ep, s, JV_R_HEARTBEAT_TIMEOUT, NULL, now);
	}
	if (jv_session_takes(s, JV_R_VOLATILE_PERSISTED) &&
	    now - s->state_since_ms >= p->volatile_to_degraded_ms)
		jv_session_step(ep, s, JV_R_VOLATILE_PERSISTED, NULL, now);
	reschedule(ep, s);
}

static void server_tick(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_server *sv = S(ep);
	struct jv_session *s;
	uint32_t index;

	while ((s = jv_table_expire(sv->table, now, &index)) != NULL)
		session_timers(ep, s, now);
	if (sv->load.under)
		load_update(ep, false, now);
	for (int i = 0; i < JV_TOMBSTONES; i++)
		if (sv->tomb[i].used && now >= sv->tomb[i].until_ms)
			sodium_memzero(&sv->tomb[i], sizeof(sv->tomb[i]));
}

static uint64_t server_deadline(const struct jv_endpoint *ep)
{
	const struct jv_server *sv = &ep->u.s;
	uint64_t d = jv_table_next_deadline(sv->table);

	for (int i = 0; i < JV_TOMBSTONES; i++)
		if (sv->tomb[i].used && sv->tomb[i].until_ms < d)
			d = sv->tomb[i].until_ms;
	/* leaving load mode is reported when the quiet second ends */
	if (sv->load.under && sv->load.win_ms + LOAD_WINDOW_MS < d)
		d = sv->load.win_ms + LOAD_WINDOW_MS;
	return d;
}

/* ---- handshakes under load (docs/protocol.md) ---- */

/* What a cookie binds: the path's protocol and address bytes, as the
 * driver gave them. Returns the length written to out. */
static size_t path_bytes(const struct jv_path *p, uint8_t out[1 + 28])
{
	size_t n = p->len <= sizeof(p->addr) ? p->len : sizeof(p->addr);

	out[0] = p->proto;
	memcpy(out + 1, p->addr, n);
	return 1 + n;
}

/* The rate limiter's name for the path's source prefix, over UDP and TCP
 * alike: a keyed hash, so nobody can choose addresses that share one set
 * of the table. */
static uint64_t source_tag(const struct jv_server *sv,
			   const struct jv_path *p)
{
	uint8_t h[crypto_shorthash_BYTES];
	size_t off = 0, n = p->len <= sizeof(p->addr) ? p->len : sizeof(p->addr);
	uint64_t tag;

	if (p->src_len && (size_t)p->src_off + p->src_len <= n) {
		off = p->src_off;
		n = p->src_len;
	}
	crypto_shorthash(h, p->addr + off, n, sv->rl_key);
	memcpy(&tag, h, sizeof(tag));
	return tag;
}

/* Counts HS_INITs (arrival) in one-second windows: the server is under
 * load while the current or the last whole window held more than the
 * threshold. Reports a change of mode (HandshakeLoad). */
static bool load_update(struct jv_endpoint *ep, bool arrival, uint64_t now)
{
	struct jv_server *sv = S(ep);
	bool rolled = false, under;

	if (now - sv->load.win_ms >= LOAD_WINDOW_MS) {
		rolled = true;
		sv->load.prev = now - sv->load.win_ms < 2 * LOAD_WINDOW_MS
					? sv->load.count : 0;
		sv->load.count = 0;
		/* sources heard since the window began (a scan of the fixed
		 * table, once a second at most) */
		sv->load.sources = jv_ratelimit_active(sv->rl,
						       sv->load.win_ms);
		sv->load.win_ms = now;
	}
	if (arrival && sv->load.count < UINT32_MAX)
		sv->load.count++;
	under = sv->load.count > sv->load_threshold ||
		sv->load.prev > sv->load_threshold;
	/* Under load the sources share the threshold: each bucket refills
	 * at threshold / sources a second (at least 1, at most
	 * per_source_per_s), so a flood from many addresses that answers
	 * its cookies costs about the threshold in DHs; a source new to the
	 * table still starts with its whole burst. Both inputs change only
	 * here: at a window's end or a change of mode. */
	if (rolled || under != sv->load.under) {
		uint32_t share = sv->load_threshold /
				 (sv->load.sources ? sv->load.sources : 1);

		jv_ratelimit_set_refill(sv->rl,
					!under ? 0 : share ? share : 1);
	}
	if (under != sv->load.under) {
		struct jv_json *w;

		sv->load.under = under;
		w = jv_ev_begin(ep, now, "HandshakeLoad", NULL);
		jv_json_bool(w, "under_load", under);
		jv_json_u64(w, "cookie_threshold_per_s", sv->load_threshold);
		jv_ev_end(ep);
	}
	return under;
}

/* Under load, an HS_INIT without a valid mac2 costs one MAC and one small
 * AEAD: the answer carries a cookie for its source, sealed to the key
 * only the initiator's mac1 (and the server's public key) give. */
static void send_cookie(struct jv_endpoint *ep, const struct jv_path *path,
			const uint8_t *buf, const uint8_t *src,
			size_t src_len, uint64_t now)
{
	struct jv_server *sv = S(ep);
	uint8_t nonce[JV_COOKIE_NONCE_LEN];
	int n;

	if (jv_cookie_secret_due(&sv->cookie, now)) {
		uint8_t secret[32];

		jv_random(ep, secret, sizeof(secret));
		jv_cookie_secret_set(&sv->cookie, secret, now);
		sodium_memzero(secret, sizeof(secret));
		jv_random(ep, sv->cookie_nonce, sizeof(sv->cookie_nonce));
		sv->cookie_nonce_n = 0;
	}
	/* the seal key never changes (it comes from our public key): the
	 * nonce must never repeat, which a 128-bit random prefix per secret
	 * and a count under it give, with no system call per reply */
	memcpy(nonce, sv->cookie_nonce, sizeof(sv->cookie_nonce));
	jv_put_le64(nonce + sizeof(sv->cookie_nonce), sv->cookie_nonce_n++);
	n = jv_cookie_reply_make(&sv->cookie, buf, src, src_len, nonce,
				 ep->scratch, sizeof(ep->scratch));
	if (n > 0)
		jv_send_raw(ep, path, ep->scratch, (size_t)n);
}

/* Every check an HS_INIT passes before any Diffie-Hellman: mac1, then
 * under load mac2 (else a cookie), then its source's token bucket. The
 * bucket comes after the cookie on purpose: anyone can forge a source
 * address, and a bucket that cookie replies drew from would let a forger
 * spend a victim's budget so that it never gets a cookie; a mac2 proves
 * the sender receives at that address. None allocates, and nothing
 * answers with more bytes than it was sent. Returns whether the
 * handshake may go on. */
static bool hs_admit(struct jv_endpoint *ep, const struct jv_path *path,
		     const uint8_t *buf, uint64_t now)
{
	struct jv_server *sv = S(ep);
	uint8_t src[1 + 28];
	size_t src_len;

	if (!jv_hs_init_mac1_ok(&sv->cookie.keys, buf)) {
		ep->stats.hs_bad_mac++;
		return false;
	}
	src_len = path_bytes(path, src);
	/* a TCP stream has proved its source in its own handshake: a cookie
	 * would add a round trip and nothing else */
	if (load_update(ep, true, now) && path->proto != JV_PROTO_TCP &&
	    !jv_hs_init_mac2_ok(&sv->cookie, buf, src, src_len, now)) {
		send_cookie(ep, path, buf, src, src_len, now);
		ep->stats.hs_cookie_sent++;
		return false;
	}
	if (!jv_ratelimit_allow(sv->rl, source_tag(sv, path), now)) {
		ep->stats.hs_rate_limited++;
		return false;
	}
	return true;
}

/* ---- handshake ---- */

static int find_peer(const struct jv_server *sv, const uint8_t pub[32])
{
	int found = -1;

	/* constant time in the key: every peer is compared */
	for (uint32_t i = 0; i < sv->npeers; i++)
		if (sodium_memcmp(sv->peers[i].public_key, pub, 32) == 0)
			found = (int)i;
	return found;
}

/* The static-static DH with each peer, computed once at start. */
static int peer_ss(void *ctx, const uint8_t rs[32], uint8_t ss[32])
{
	const struct jv_server *sv = ctx;
	int peer = find_peer(sv, rs);

	if (peer < 0)
		return -1;
	memcpy(ss, sv->peer_ss[peer], 32);
	return 0;
}

/* The client may complete a handshake we redid since: keep its keys until
 * a packet confirms one of them (or the client retries past them). */
static void hs_prev_keep(struct jv_endpoint *ep, struct jv_session *s,
			 uint64_t now)
{
	struct jv_server *sv = S(ep);
	struct jv_hs_prev *e = &sv->hs_prev[sv->hs_prev_next];

	sv->hs_prev_next = (sv->hs_prev_next + 1) % JV_HS_PREV;
	jv_keys_wipe(&e->keys);
	e->keys = s->keys;
	e->local_index = s->local_index;
	e->until_ms = now + ep->policy.transport_lost_ttl_ms;
}

static void hs_prev_drop(struct jv_endpoint *ep, uint32_t index)
{
	struct jv_server *sv = S(ep);

	for (int i = 0; i < JV_HS_PREV; i++)
		if (sv->hs_prev[i].local_index == index)
			sodium_memzero(&sv->hs_prev[i], sizeof(sv->hs_prev[i]));
}

/* A packet for an unconfirmed session that the current keys do not open:
 * try the keys of the handshakes it replaced. Adopts the ones that open. */
static int hs_prev_open(struct jv_endpoint *ep, struct jv_session *s,
			const struct jv_hdr *h, const uint8_t *buf, size_t len,
			uint64_t now)
{
	struct jv_server *sv = S(ep);
	bool adv;

	for (int i = 0; i < JV_HS_PREV; i++) {
		struct jv_hs_prev *e = &sv->hs_prev[i];
		int n;

		if (e->local_index != s->local_index || now >= e->until_ms)
			continue;
		n = jv_keys_open(&e->keys, h, buf, len, ep->plain,
				 sizeof(ep->plain), now,
				 ep->policy.heartbeat_volatile_ms, &adv);
		if (n >= 0) {
			jv_keys_wipe(&s->keys);
			s->keys = e->keys;
			hs_prev_drop(ep, s->local_index);
			/* sealed under the keys just left */
			jv_resend_drop(ep, s->local_index);
			return n;
		}
	}
	return JV_ERR_AUTH;
}

static void on_hs_init(struct jv_endpoint *ep, const struct jv_path *path,
		       const uint8_t *buf, size_t len, uint64_t now)
{
	struct jv_server *sv = S(ep);
	struct jv_noise hs;
	struct jv_hs_init_payload pl;
	uint8_t payload[JV_HS_INIT_PAYLOAD], e[32], k1[32], k2[32], h[64];
	uint8_t *out = ep->scratch;
	struct jv_session *s;
	size_t plen = 0, n = 0;
	struct jv_hs_hdr hh;
	uint32_t sender, index = 0;
	int peer;
	bool retransmit = false, ok = false;
	struct jv_json *w;

	if (jv_hs_hdr_decode(&hh, buf, len) != 0)
		return;
	if (!hs_admit(ep, path, buf, now)) {
		ep->stats.rx_dropped++;
		return;
	}
	sender = hh.sender_index;
	jv_noise_init_keys(&hs, false, (const uint8_t *)JV_PROLOGUE,
			   strlen(JV_PROLOGUE), ep->cfg.private_key,
			   ep->static_pub, NULL, ep->cfg.psk);
	hs.ss_lookup = peer_ss;
	hs.ss_ctx = sv;
	peer = -1;
	if (jv_noise_read_msg1(&hs, buf + JV_HS_INIT_HDR_LEN,
			       JV_HS_INIT_MAC1_OFF - JV_HS_INIT_HDR_LEN, payload,
			       sizeof(payload), &plen) == 0)
		peer = find_peer(sv, jv_noise_remote_static(&hs));
	/* a known key: its findings name the peer (`peer`) */
	if (peer >= 0)
		ep->ev_peer = sv->peers[peer].name;
	if (peer < 0 || jv_hs_init_payload_decode(&pl, payload, plen) != 0 ||
	    sender == 0) {
		jv_ev_security(ep, NULL, "SecurityValidationFailed",
			       JV_R_BAD_HANDSHAKE, NULL, now);
		goto out;
	}
	if (pl.timestamp_ms <= sv->peer_last_hs_ts[peer]) {
		/* an old HS_INIT seen again: never a new session */
		struct jv_json *rw = jv_ev_security_begin(
			ep, NULL, "SecurityReplayDetected", now);

		if (rw) {
			jv_json_str(rw, "reason_code",
				    jv_reason_name(JV_R_REPLAY_DETECTED));
			jv_json_str(rw, "transport_id", pl.tid.id);
			jv_json_str(rw, "freshness_marker_type", "timestamp");
			jv_ev_end(ep);
		}
		goto out;
	}
	if (!(ep->policy.allowed_protocols & pl.tid.proto) ||
	    pl.tid.proto != path->proto) {
		jv_ev_security(ep, NULL, "SecurityValidationFailed",
			       JV_R_POLICY_DENIED, pl.tid.id, now);
		goto out;
	}
	/* a retransmitted HS_INIT of a session that has ended (an operator
	 * ended it before the client saw our reply): never the same session
	 * again; the client starts a new one when its handshake fails */
	if (sodium_memcmp(sv->peer_ended[peer], pl.session_id, 16) == 0) {
		jv_ev_security(ep, NULL, "SecurityValidationFailed",
			       JV_R_SESSION_EXPIRED, pl.tid.id, now);
		goto out;
	}
	s = jv_table_by_id(sv->table, pl.session_id);
	if (s) {
		/* the same client again before any packet confirmed the
		 * session: its HS_RESP was lost. Redo the keys, no events. */
		if (s->peer != (uint32_t)peer || s->confirmed) {
			jv_ev_security(ep, NULL, "SecurityValidationFailed",
				       JV_R_BAD_HANDSHAKE, pl.tid.id, now);
			goto out;
		}
		retransmit = true;
	} else {
		if (sv->peer_session[peer]) {
			struct jv_session *old = jv_table_by_index(
				sv->table, sv->peer_session[peer]);
			/* the peer started anew: its old session is over */
			if (old)
				terminate(ep, old, JV_R_PEER_TERMINATED, now);
		}
		if (sv->nfree == 0) {
			ep->stats.rx_dropped++;
			goto out;
		}
		s = &sv->pool[sv->free_list[sv->nfree - 1]];
		jv_session_init(ep, s, pl.session_id, now);
		if (jv_table_insert(sv->table, pl.session_id, s, &index) != 0)
			goto out;
		sv->nfree--;
		s->local_index = index;
		s->peer = (uint32_t)peer;
		memcpy(s->prev_id, pl.prev_session_id, 16);
		s->tokens = 2.0 * ep->policy.max_switches_per_min;
		s->tokens_ms = now;
		sv->peer_session[peer] = index;
	}
	sv->peer_last_hs_ts[peer] = pl.timestamp_ms;
	s->remote_index = sender;
	jv_path_bind(ep, s, path);
	s->tid = pl.tid;
	s->last_rx_bound_ms = now;

	jv_random(ep, e, sizeof(e));
	hh = (struct jv_hs_hdr){ .type = JV_MSG_HS_RESP,
				 .sender_index = s->local_index,
				 .receiver_index = sender };
	jv_hs_hdr_encode(&hh, out, sizeof(ep->scratch));
	if (jv_noise_write_msg2(&hs, e, pl.session_id, 16,
				out + JV_HS_RESP_HDR_LEN,
				sizeof(ep->scratch) - JV_HS_RESP_HDR_LEN,
				&n) != 0)
		goto out;
	jv_noise_split(&hs, k1, k2, h);
	if (retransmit) {
		hs_prev_keep(ep, s, now);
		/* copies sealed under keys the client may never hold */
		jv_resend_drop(ep, s->local_index);
	}
	jv_keys_wipe(&s->keys);
	jv_keys_init(&s->keys, k1, k2, false, ep->policy.replay_window_size);
	s->last_rekey_ms = now;

	if (!retransmit) {
		static const uint8_t zero[16];

		w = jv_ev_begin(ep, now, "SessionCreated", s);
		if (sodium_memcmp(s->prev_id, zero, 16) != 0) {
			char hex[33];
			jv_hex16(s->prev_id, hex);
			jv_json_str(w, "previous_session_id", hex);
		}
		jv_json_str(w, "transport_id", s->tid.id);
		jv_ev_end(ep);
		jv_session_step(ep, s, JV_R_HANDSHAKE_OK, s->tid.id, now);
		ep->stats.handshakes_ok++;
	}
	jv_send_raw(ep, path, out, JV_HS_RESP_HDR_LEN + n);
	reschedule(ep, s);
	ok = true;
out:
	if (ok)
		ep->stats.hs_ok++;
	else
		ep->stats.hs_failed++;
	jv_noise_wipe(&hs);
	sodium_memzero(e, sizeof(e));
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	sodium_memzero(h, sizeof(h));
	sodium_memzero(payload, sizeof(payload));
}

/* ---- reattach: checks B1..B8 (docs/protocol.md) ---- */

static bool take_token(struct jv_endpoint *ep, struct jv_session *s,
		       uint64_t now)
{
	/* an abuse bound, not the policy limiter (which the client runs):
	 * twice the policy's rate, so honest clients never meet it */
	double cap = 2.0 * ep->policy.max_switches_per_min;

	s->tokens += (double)(now - s->tokens_ms) * cap / 60000.0;
	if (s->tokens > cap)
		s->tokens = cap;
	s->tokens_ms = now;
	if (s->tokens < 1.0)
		return false;
	s->tokens -= 1.0;
	return true;
}

static void send_ack(struct jv_endpoint *ep, struct jv_session *s,
		     const struct jv_path *path, uint64_t req_counter)
{
	struct jv_ctrl m = { .type = JV_CTRL_REATTACH_ACK };

	m.u.ack.req_counter = req_counter;
	m.u.ack.attach_epoch = s->attach_epoch;
	jv_send_ctrl(ep, s, path, &m);
}

/* A reattach the server acts on: unless it only repeats the current
 * binding, the session leaves ATTACHED for RECOVERING; then
 * ReattachAttempt. Returns whether it repeats the binding. */
static bool begin_attempt(struct jv_endpoint *ep, struct jv_session *s,
			  const struct jv_path *path, const char *cand,
			  uint64_t now)
{
	bool same_tid = strcmp(cand, s->tid.id) == 0;
	bool same = s->state == JV_STATE_ATTACHED && same_tid &&
		    jv_path_eq(path, &s->path);
	struct jv_json *w;

	enum jv_reason why = same_tid ? JV_R_HEALTH_RECOVERED
				      : JV_R_SWITCH_INITIATED;

	/* the client left its binding: ATTACHED -> VOLATILE -> RECOVERING,
	 * as far as the session is not there yet */
	if (!same) {
		if (jv_session_takes(s, JV_R_PEER_PATH_CHANGE))
			jv_session_step(ep, s, JV_R_PEER_PATH_CHANGE, NULL, now);
		if (jv_session_takes(s, why))
			jv_session_step(ep, s, why, NULL, now);
	}
	w = jv_ev_begin(ep, now, "ReattachAttempt", s);
	jv_json_str(w, "candidate_transport", cand);
	jv_json_u64(w, "recovery_deadline_ms",
		    now + ep->policy.recovery_window_ms +
			    (uint64_t)ep->cfg.ts_offset_ms);
	jv_ev_end(ep);
	return same;
}

/* The copies to re-send when session s moves: those sent to its bound
 * path since the last packet heard there, less a round trip. The server
 * measures no RTT: it takes the path challenge's round trip when there
 * was one (the new path's, standing in for the old one's) and at least
 * heartbeat_interval_ms; more only re-sends what the replay window drops,
 * and resend_max_bytes keeps the newest. */
static void resend_select(struct jv_endpoint *ep, const struct jv_session *s,
			  uint64_t now, struct jv_resend_sel *sel)
{
	const struct jv_policy *p = &ep->policy;
	uint64_t back = p->heartbeat_interval_ms, sent;

	if (s->pend.npaths && s->pend.until_ms >= p->recovery_window_ms) {
		sent = s->pend.until_ms - p->recovery_window_ms;
		if (now > sent && now - sent > back)
			back = now - sent;
		if (back > p->heartbeat_volatile_ms)
			back = p->heartbeat_volatile_ms;
	}
	jv_resend_sel_init(ep, s, s->last_rx_bound_ms > back
				      ? s->last_rx_bound_ms - back : 0,
			   now, sel);
}

/* The request is the session's own and the client is on path: move the
 * binding there. Events in the contract's order; a request that only
 * repeats the current binding changes no state. */
static void commit_reattach(struct jv_endpoint *ep, struct jv_session *s,
			    const struct jv_path *path,
			    const struct jv_wire_tid *tid, uint64_t req_counter,
			    uint64_t now)
{
	const char *cand = tid->id;
	bool same_tid = strcmp(cand, s->tid.id) == 0;
	bool same = begin_attempt(ep, s, path, cand, now);
	struct jv_resend_sel sel = { 0 };
	struct jv_resent rs = { 0, 0 };
	struct jv_json *w;

	if (!same && !jv_session_takes(s, JV_R_REATTACH_SUCCESS)) {
		/* nothing moves: the refusal is logged */
		jv_session_step(ep, s, JV_R_REATTACH_SUCCESS, NULL, now);
		return;
	}
	/* a binding that only repeats itself lost nothing */
	if (!same) {
		resend_select(ep, s, now, &sel);
		jv_resend_run(ep, &sel, NULL, &rs.packets, &rs.bytes);
	}
	jv_ev_reattach_result(ep, s, true, JV_R_REATTACH_SUCCESS, cand, &rs,
			      now);
	if (!same_tid) {
		jv_session_count_switch(s, now);
		w = jv_ev_begin(ep, now, "TransportSwitch", s);
		jv_json_str(w, "previous_transport", s->tid.id);
		jv_json_str(w, "new_transport", cand);
		/* the server sees one path per client: it has no ranking */
		jv_json_u64(w, "candidate_count", 1);
		jv_json_null(w, "loss_ratio");
		jv_json_null(w, "latency_estimate_ms");
		jv_json_bool(w, "explicit", true);
		jv_ev_end(ep);
	}
	jv_path_bind(ep, s, path);
	s->tid = *tid;
	s->attach_epoch++;
	s->reattach_failures = 0;
	s->last_rx_bound_ms = now;
	s->acc_counter = req_counter;
	s->has_acc = true;
	memset(&s->pend, 0, sizeof(s->pend));
	if (!same)
		jv_session_step(ep, s, JV_R_REATTACH_SUCCESS, s->tid.id, now);
	send_ack(ep, s, path, req_counter);
	/* after the ACK, which the client waits for: what went to the old
	 * path since it fell silent, on the new one */
	if (!same)
		jv_resend_run(ep, &sel, path, &rs.packets, &rs.bytes);
}

static void send_challenge(struct jv_endpoint *ep, struct jv_session *s,
			   const struct jv_path *path)
{
	struct jv_ctrl c = { .type = JV_CTRL_PATH_CHALLENGE };

	c.u.path.req_counter = s->pend.req_counter;
	memcpy(c.u.path.token, s->pend.token, 8);
	jv_send_ctrl(ep, s, path, &c);
}

static bool pending(const struct jv_session *s, uint64_t now)
{
	return s->pend.npaths > 0 && now < s->pend.until_ms;
}

/* A copy of a request already seen (the replay window caught it): the
 * accepted one is answered again wherever the copy comes from; the one
 * under validation is challenged on this path too, since the first copy
 * may have been a relay's. Neither changes the session. */
static void on_reattach(struct jv_endpoint *ep, struct jv_session *s,
			const struct jv_path *path, const struct jv_ctrl *m,
			uint64_t hdr_counter, uint64_t now);

static bool stashed(const struct jv_session *s, uint64_t counter,
		    uint64_t now)
{
	return s->pend.stashed && counter == s->pend.req_counter &&
	       now < s->pend.until_ms;
}

/* Whether a copy of the request under validation from path would get a
 * challenge: a path not challenged yet, while there is room. Decided
 * before any AEAD work, so replayed copies cost nothing. */
static bool challenge_wanted(const struct jv_session *s,
			     const struct jv_path *path)
{
	if (s->pend.npaths >= 2)
		return false;
	for (int i = 0; i < s->pend.npaths; i++)
		if (jv_path_eq(path, &s->pend.path[i]))
			return false;
	return true;
}

static void on_request_copy(struct jv_endpoint *ep, struct jv_session *s,
			    const struct jv_path *path, const struct jv_ctrl *m,
			    uint64_t counter, uint64_t now)
{
	if (stashed(s, counter, now)) {
		/* the relay's copy was first: this one is the request */
		memset(&s->pend, 0, sizeof(s->pend));
		on_reattach(ep, s, path, m, counter, now);
		return;
	}
	if (s->has_acc && counter == s->acc_counter &&
	    s->state == JV_STATE_ATTACHED) {
		send_ack(ep, s, path, counter);
		return;
	}
	if (pending(s, now) && counter == s->pend.req_counter &&
	    challenge_wanted(s, path)) {
		s->pend.path[s->pend.npaths++] = *path;
		send_challenge(ep, s, path);
	}
}

static void on_path_response(struct jv_endpoint *ep, struct jv_session *s,
			     const struct jv_path *path,
			     const struct jv_ctrl *m, uint64_t now)
{
	bool on_path = false;

	if (!pending(s, now) || m->u.path.req_counter != s->pend.req_counter ||
	    sodium_memcmp(m->u.path.token, s->pend.token, 8) != 0)
		return;
	for (int i = 0; i < s->pend.npaths; i++)
		on_path |= jv_path_eq(path, &s->pend.path[i]);
	if (!on_path)
		return;
	{
		struct jv_wire_tid tid = s->pend.tid;

		commit_reattach(ep, s, path, &tid, s->pend.req_counter, now);
	}
}

static void on_reattach(struct jv_endpoint *ep, struct jv_session *s,
			const struct jv_path *path, const struct jv_ctrl *m,
			uint64_t hdr_counter, uint64_t now)
{
	const struct jv_policy *p = &ep->policy;
	const char *cand = m->u.req.tid.id;
	uint64_t age = now - s->created_ms, ts = m->u.req.timestamp_ms;
	uint32_t epoch = m->u.req.attach_epoch;
	bool on_path = jv_path_eq(path, &s->path);
	bool same_tid = strcmp(cand, s->tid.id) == 0;
	enum jv_reason deny = JV_R_NONE;
	struct jv_ctrl d = { .type = JV_CTRL_REATTACH_DENY };

	/* B5 passed (the AEAD opened). B6: binding and freshness. A request
	 * failing here may be an attacker's copy: logged, never counted. */
	if (m->u.req.counter != hdr_counter ||
	    sodium_memcmp(m->u.req.session_id, s->id, 16) != 0) {
		jv_ev_security(ep, s, "SecurityValidationFailed", JV_R_BAD_PROOF,
			       cand, now);
		return;
	}
	if ((ts > age ? ts - age : age - ts) > p->reattach_proof_max_age_ms) {
		/* older than a request already accepted: an authentic copy a
		 * transport held back (a TCP send queue through a blackout),
		 * superseded, harmless. Counted, not reported. */
		if (s->has_acc && m->u.req.counter < s->acc_counter) {
			ep->stats.rx_late++;
			return;
		}
		jv_ev_security(ep, s, "SecurityValidationFailed",
			       JV_R_STALE_REQUEST, cand, now);
		return;
	}
	/* B8: an honest client names the protocol it sends on. A mismatch
	 * is a copy relayed over another protocol: logged, never counted. */
	if (m->u.req.tid.proto != path->proto) {
		jv_ev_security(ep, s, "SecurityValidationFailed",
			       JV_R_INVALID_TRANSPORT_CANDIDATE, cand, now);
		if (!pending(s, now)) {
			memset(&s->pend, 0, sizeof(s->pend));
			s->pend.stashed = true;
			s->pend.req_counter = hdr_counter;
			s->pend.until_ms = now + p->reattach_proof_max_age_ms;
		}
		return;
	}
	/* our ACK was lost: the client asks again, with the attach epoch it
	 * had, for the binding it already has. Answered again, no events. */
	if (epoch < s->attach_epoch && s->attach_epoch - epoch <= ATTACH_LAG_MAX &&
	    same_tid && on_path && s->state == JV_STATE_ATTACHED) {
		send_ack(ep, s, path, hdr_counter);
		return;
	}
	/* The client repeats its request until it hears back: a repeat of
	 * the attempt under validation, from a path already challenged, is
	 * the same attempt. Challenged again, nothing counted or spent (a
	 * round trip longer than the client's retry interval must not drain
	 * the abuse bound). */
	if (pending(s, now) && !on_path &&
	    strcmp(cand, s->pend.tid.id) == 0 &&
	    !challenge_wanted(s, path) && s->pend.npaths > 0) {
		for (int i = 0; i < s->pend.npaths; i++)
			if (jv_path_eq(path, &s->pend.path[i])) {
				send_challenge(ep, s, path);
				return;
			}
	}
	/* From here on the request is the session's own, fresh and
	 * authentic: a denial counts toward max_reattach_failures. An epoch
	 * behind ours only means ACKs were lost: the client's request is
	 * still current for it. */
	if (s->state == JV_STATE_BIRTH || s->state == JV_STATE_TERMINATED)
		deny = JV_R_INVALID_STATE_FOR_REATTACH;             /* B2 */
	else if (epoch > s->attach_epoch ||
		 s->attach_epoch - epoch > ATTACH_LAG_MAX)
		deny = JV_R_STALE_STATE_VERSION;                    /* B6 */
	else if (!(p->allowed_protocols & m->u.req.tid.proto))
		deny = JV_R_POLICY_DENIED;                          /* B7 */
	else if (!take_token(ep, s, now))
		deny = JV_R_RATE_LIMITED;                           /* B7 */

	if (deny != JV_R_NONE) {
		begin_attempt(ep, s, path, cand, now);
		jv_ev_reattach_result(ep, s, false, deny, cand, NULL, now);
		if (jv_session_takes(s, JV_R_REATTACH_VALIDATION_FAILED))
			jv_session_step(ep, s, JV_R_REATTACH_VALIDATION_FAILED,
					NULL, now);
		d.u.deny.req_counter = hdr_counter;
		d.u.deny.reason = jv_reason_to_wire(deny);
		jv_send_ctrl(ep, s, path, &d);
		if (++s->reattach_failures > p->max_reattach_failures)
			terminate(ep, s, JV_R_SECURITY_FAILURE, now);
		return;
	}
	if (on_path) {
		commit_reattach(ep, s, path, &m->u.req.tid, hdr_counter, now);
		return;
	}
	/* A new path: the request proves the keys, not that the client is
	 * there (a copy may come from anyone who saw it). Nothing moves
	 * until the client answers a challenge on that path. */
	memset(&s->pend, 0, sizeof(s->pend));
	s->pend.path[0] = *path;
	s->pend.npaths = 1;
	s->pend.req_counter = hdr_counter;
	s->pend.until_ms = now + p->recovery_window_ms;
	s->pend.tid = m->u.req.tid;
	jv_random(ep, s->pend.token, sizeof(s->pend.token));
	send_challenge(ep, s, path);
}

/* ---- data and control ---- */

static void on_sealed(struct jv_endpoint *ep, const struct jv_path *path,
		      const uint8_t *buf, size_t len, uint64_t now)
{
	struct jv_server *sv = S(ep);
	struct jv_session *s;
	struct jv_tombstone *tb;
	struct jv_hdr h;
	struct jv_ctrl m, r;
	bool adv, is_req;
	const uint8_t *src;
	uint8_t fam;
	int n;

	if (jv_hdr_decode(&h, buf, len) != 0)
		goto drop;
	is_req = h.type == JV_MSG_CONTROL && h.subtype == JV_CTRL_REATTACH_REQ;
	s = jv_table_by_index(sv->table, h.receiver_index);
	if (s && session_deadline(ep, s) <= now) {
		/* due timers first, so B3/B4 see the session as it is now */
		session_timers(ep, s, now);
		s = jv_table_by_index(sv->table, h.receiver_index);
	}
	if (!s) {                                                   /* B1 */
		tb = tomb_find(ep, h.receiver_index, now);
		if (tb)
			tomb_answer(ep, tb, path, &h, buf, len, now);
		else if (is_req)
			jv_ev_security(ep, NULL, "SecurityValidationFailed",
				       JV_R_UNKNOWN_SESSION, NULL, now);
		goto drop;
	}
	/* An old counter is refused whatever it carries: spend no AEAD on it
	 * unless it is a copy of a request we may answer again, or the
	 * audit log could still take the event it is worth. */
	if (!jv_replay_check(&s->keys.replay, h.counter) &&
	    !(is_req && ((s->has_acc && h.counter == s->acc_counter) ||
			 (pending(s, now) && h.counter == s->pend.req_counter &&
			  challenge_wanted(s, path)) ||
			 stashed(s, h.counter, now) ||
			 jv_sec_would_allow(ep, s, now)))) {
		if (is_req)
			jv_sec_allow(ep, s, now);   /* counted as hidden */
		goto drop;
	}
	n = jv_keys_open(&s->keys, &h, buf, len, ep->plain, sizeof(ep->plain),
			 now, ep->policy.heartbeat_volatile_ms, &adv);
	if (n == JV_ERR_AUTH && !s->confirmed)
		n = hs_prev_open(ep, s, &h, buf, len, now);
	if (n == JV_ERR_REPLAY && is_req) {
		const char *cand = NULL;

		if (jv_ctrl_decode(&m, h.subtype, ep->plain, (size_t)(len -
				   JV_HDR_LEN - JV_TAG_LEN)) == 0) {
			cand = m.u.req.tid.id;
			on_request_copy(ep, s, path, &m, h.counter, now);
		}
		jv_ev_security(ep, s, "SecurityReplayDetected",
			       JV_R_REPLAY_DETECTED, cand, now);
		goto drop;
	}
	if (n < 0) {                                                /* B5 */
		if (is_req) {
			ep->stats.rx_auth_failed += n == JV_ERR_AUTH;
			jv_ev_security(ep, s, "SecurityValidationFailed",
				       JV_R_BAD_PROOF, NULL, now);
		} else if (n == JV_ERR_AUTH) {
			jv_data_auth_failed(ep, s, &h, NULL, now);
		}
		goto drop;
	}
	if (!s->confirmed)
		hs_prev_drop(ep, s->local_index);
	s->confirmed = true;
	if (jv_path_eq(path, &s->path))
		s->last_rx_bound_ms = now;
	if (h.type == JV_MSG_DATA) {
		/* not an IP packet: nothing to route, dropped */
		if (!jv_ip_packet_addr(ep->plain, (size_t)n, false, &fam, &src))
			goto drop;
		/* cryptokey routing: the source must route back to this
		 * session's peer, or a peer could speak for another */
		if (!jv_aip_owns(sv->routes, s->peer, fam, src)) {
			/* the client's TUN talking to its link (router
			 * solicitations): dropped, but no attack to report */
			if (!jv_ip_packet_link_scoped(ep->plain, (size_t)n))
				jv_inner_source_rejected(ep, s, s->tid.id, now);
			goto drop;
		}
		s->bytes_in += (uint64_t)n;
		ep->stats.inner_delivered++;
		ep->cfg.ops.deliver(ep->cfg.ctx, ep->plain, (size_t)n);
		goto out;
	}
	if (jv_ctrl_decode(&m, h.subtype, ep->plain, (size_t)n) != 0)
		goto drop;
	memset(&r, 0, sizeof(r));
	switch (m.type) {
	case JV_CTRL_HEARTBEAT:
		r.type = JV_CTRL_HEARTBEAT_ACK;
		r.u.hb.seq = m.u.hb.seq;
		if (s->state != JV_STATE_ATTACHED || !jv_path_eq(path, &s->path))
			r.u.hb.flags = JV_HB_REATTACH_NEEDED;
		jv_send_ctrl(ep, s, path, &r);
		break;
	case JV_CTRL_PROBE:
		r.type = JV_CTRL_PROBE_ACK;
		r.u.hb.seq = m.u.hb.seq;
		jv_send_ctrl(ep, s, path, &r);
		break;
	case JV_CTRL_REATTACH_REQ:
		on_reattach(ep, s, path, &m, h.counter, now);
		break;
	case JV_CTRL_PATH_RESPONSE:
		on_path_response(ep, s, path, &m, now);
		break;
	case JV_CTRL_TERMINATE:
		terminate(ep, s, JV_R_PEER_TERMINATED, now);
		return;
	default:
		goto drop;
	}
out:
	s = jv_table_by_index(sv->table, h.receiver_index);
	if (s)
		reschedule(ep, s);
	return;
drop:
	ep->stats.rx_dropped++;
}

static int server_send_inner(struct jv_endpoint *ep, const uint8_t *pkt,
			     size_t len, uint64_t now)
{
	struct jv_server *sv = S(ep);
	struct jv_session *s = NULL;
	const uint8_t *dst;
	uint8_t fam;
	int32_t peer;
	int n;

	if (len > JV_INNER_MAX || !jv_ip_packet_addr(pkt, len, true, &fam, &dst))
		return JV_ERR_INVAL;
	/* the longest prefix names the peer; if that peer has no session
	 * the packet goes nowhere, not to a peer with a wider prefix */
	peer = jv_aip_lookup(sv->routes, fam, dst);
	if (peer != JV_AIP_NONE && sv->peer_session[peer])
		s = jv_table_by_index(sv->table, sv->peer_session[peer]);
	if (!s)
		return JV_ERR_NOTFOUND;
	n = jv_keys_seal(&s->keys, JV_MSG_DATA, 0, s->remote_index, pkt, len,
			 ep->scratch, sizeof(ep->scratch));
	if (n < 0)
		return n;
	s->bytes_out += len;
	ep->stats.inner_sent++;
	jv_send_raw(ep, &s->path, ep->scratch, (size_t)n);
	jv_resend_keep(ep, s->local_index, JV_RESEND_NO_TR, ep->scratch,
		       (size_t)n, now);
	return 0;
}

static int server_terminate(struct jv_endpoint *ep, const uint8_t *session_id,
			    enum jv_reason why, uint64_t now)
{
	struct jv_server *sv = S(ep);
	struct jv_session *s;
	uint32_t cursor = 0;
	int found = 0;

	if (session_id) {
		s = jv_table_by_id(sv->table, session_id);
		if (!s)
			return JV_ERR_NOTFOUND;
		terminate(ep, s, why, now);
		return 0;
	}
	while ((s = jv_table_next(sv->table, &cursor)) != NULL) {
		terminate(ep, s, why, now);
		found++;
	}
	return found ? 0 : JV_ERR_NOTFOUND;
}

/* The routing table, built from the peers' allowed_ips at start and on
 * every set_peers: nothing on the packet path allocates. */
static int build_routes(const struct jv_peer_cfg *peers, uint32_t n,
			struct jv_aip **out)
{
	struct jv_aip *routes;
	uint32_t total = 0;
	int rc;

	*out = NULL;
	for (uint32_t i = 0; i < n; i++) {
		if (peers[i].nallowed > JV_PEER_MAX_IPS)
			return JV_ERR_INVAL;
		total += peers[i].nallowed;
	}
	if ((rc = jv_aip_new(total, &routes)) != 0)
		return rc;
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t k = 0; k < peers[i].nallowed; k++) {
			rc = jv_aip_insert(routes, &peers[i].allowed[k], i);
			if (rc == JV_ERR_EXISTS)
				rc = JV_ERR_INVAL;
			if (rc != 0) {
				jv_aip_free(routes);
				return rc;
			}
		}
	*out = routes;
	return JV_OK;
}

/* The per-peer state, one array each, sized for n peers. */
struct peer_arrays {
	struct jv_peer_cfg *peers;
	uint64_t *last_hs_ts;
	uint8_t (*ended)[16];
	uint32_t *session;
	uint8_t (*ss)[32];
	struct jv_aip *routes;
};

static void peer_arrays_free(struct jv_endpoint *ep, struct peer_arrays *a,
			     uint32_t n)
{
	free(a->peers);
	free(a->last_hs_ts);
	free(a->ended);
	free(a->session);
	if (a->ss) {
		sodium_memzero(a->ss, (size_t)n * 32);
		jv_lock(ep, a->ss, (size_t)n * 32, false);
	}
	free(a->ss);
	jv_aip_free(a->routes);
	memset(a, 0, sizeof(*a));
}

/* Builds everything for peers[0..n) or nothing: JV_ERR_INVAL for a bad
 * prefix, one prefix twice, or a key of low order. */
static int peer_arrays_new(struct jv_endpoint *ep,
			   const struct jv_peer_cfg *peers, uint32_t n,
			   struct peer_arrays *a)
{
	int rc;

	memset(a, 0, sizeof(*a));
	if (n == 0 || n > JV_MAX_PEERS)
		return JV_ERR_INVAL;
	a->peers = calloc(n, sizeof(*a->peers));
	a->last_hs_ts = calloc(n, sizeof(uint64_t));
	a->ended = calloc(n, 16);
	a->session = calloc(n, sizeof(uint32_t));
	a->ss = calloc(n, 32);
	if (!a->peers || !a->last_hs_ts || !a->ended || !a->session ||
	    !a->ss) {
		peer_arrays_free(ep, a, n);
		return JV_ERR_NOMEM;
	}
	jv_lock(ep, a->ss, (size_t)n * 32, true);
	memcpy(a->peers, peers, n * sizeof(*a->peers));
	rc = build_routes(a->peers, n, &a->routes);
	/* a peer key of low order can never complete a handshake */
	for (uint32_t i = 0; rc == 0 && i < n; i++)
		if (crypto_scalarmult(a->ss[i], ep->cfg.private_key,
				      a->peers[i].public_key) != 0)
			rc = JV_ERR_INVAL;
	if (rc != 0)
		peer_arrays_free(ep, a, n);
	return rc;
}

static void peer_arrays_install(struct jv_server *sv, struct peer_arrays *a,
				uint32_t n)
{
	sv->npeers = n;
	sv->peers = a->peers;
	sv->peer_last_hs_ts = a->last_hs_ts;
	sv->peer_ended = a->ended;
	sv->peer_session = a->session;
	sv->peer_ss = a->ss;
	sv->routes = a->routes;
}

static int peer_by_name(const struct jv_peer_cfg *peers, uint32_t n,
			const char *name)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(peers[i].name, name) == 0)
			return (int)i;
	return -1;
}

/* The peers replaced, matched by name: an unchanged peer (same key) keeps
 * its session, its handshake replay floor and its last ended session; a
 * removed peer's sessions, and those of a peer whose key changed, end
 * with operator_terminated (the peer is told); new allowed_ips route at
 * once. All or nothing: on error nothing changed. */
static int server_set_peers(struct jv_endpoint *ep,
			    const struct jv_peer_cfg *peers, uint32_t n,
			    uint64_t now)
{
	struct jv_server *sv = S(ep);
	struct peer_arrays a, old;
	int32_t map[JV_MAX_PEERS];      /* old index -> new, -1: gone */
	struct jv_session *s;
	uint32_t cursor = 0;
	int rc;

	if ((rc = peer_arrays_new(ep, peers, n, &a)) != 0)
		return rc;
	for (uint32_t i = 0; i < sv->npeers; i++) {
		int j = peer_by_name(a.peers, n, sv->peers[i].name);

		map[i] = j >= 0 && sodium_memcmp(a.peers[j].public_key,
						 sv->peers[i].public_key,
						 32) == 0 ? j : -1;
		if (map[i] < 0)
			continue;
		a.last_hs_ts[j] = sv->peer_last_hs_ts[i];
		memcpy(a.ended[j], sv->peer_ended[i], 16);
	}
	/* ended under the old arrays: events name the peer as it was */
	while ((s = jv_table_next(sv->table, &cursor)) != NULL)
		if (map[s->peer] < 0)
			terminate(ep, s, JV_R_OPERATOR_TERMINATED, now);
	for (uint32_t i = 0; i < sv->npeers; i++)
		if (map[i] >= 0)
			a.session[map[i]] = sv->peer_session[i];
	cursor = 0;
	while ((s = jv_table_next(sv->table, &cursor)) != NULL)
		s->peer = (uint32_t)map[s->peer];
	old = (struct peer_arrays){ sv->peers, sv->peer_last_hs_ts,
				    sv->peer_ended, sv->peer_session,
				    sv->peer_ss, sv->routes };
	peer_arrays_free(ep, &old, sv->npeers);
	peer_arrays_install(sv, &a, n);
	return 0;
}

static int server_init(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_server *sv = S(ep);
	uint32_t cap = ep->cfg.max_sessions ? ep->cfg.max_sessions : 1024;
	struct peer_arrays pa;
	int rc;

	memset(sv, 0, sizeof(*sv));
	if ((rc = peer_arrays_new(ep, ep->cfg.peers, ep->cfg.npeers, &pa)) != 0)
		return rc;
	peer_arrays_install(sv, &pa, ep->cfg.npeers);
	sv->pool = calloc(cap, sizeof(*sv->pool));
	sv->free_list = calloc(cap, sizeof(uint32_t));
	if (!sv->pool || !sv->free_list)
		return JV_ERR_NOMEM;
	jv_lock(ep, sv->pool, cap * sizeof(*sv->pool), true);
	for (uint32_t i = 0; i < cap; i++)
		sv->free_list[i] = cap - 1 - i;
	sv->nfree = cap;
	sv->rl = malloc(sizeof(*sv->rl));
	if (!sv->rl)
		return JV_ERR_NOMEM;
	jv_ratelimit_init(sv->rl, ep->cfg.per_source_per_s
					  ? ep->cfg.per_source_per_s
					  : DEFAULT_PER_SOURCE);
	sv->load_threshold = ep->cfg.cookie_threshold_per_s
				     ? ep->cfg.cookie_threshold_per_s
				     : DEFAULT_COOKIE_THRESHOLD;
	sv->load.win_ms = now;
	jv_cookie_checker_init(&sv->cookie, ep->static_pub);
	jv_random(ep, sv->rl_key, sizeof(sv->rl_key));
	rc = jv_table_new(&sv->table, cap, rand_u32, ep);
	return rc;
}

static void server_free(struct jv_endpoint *ep)
{
	struct jv_server *sv = S(ep);

	if (sv->pool) {
		uint32_t cap = ep->cfg.max_sessions ? ep->cfg.max_sessions : 1024;
		sodium_memzero(sv->pool, cap * sizeof(*sv->pool));
		jv_lock(ep, sv->pool, cap * sizeof(*sv->pool), false);
	}
	sodium_memzero(sv->tomb, sizeof(sv->tomb));
	sodium_memzero(&sv->cookie, sizeof(sv->cookie));
	free(sv->rl);
	jv_table_free(sv->table);
	{
		struct peer_arrays old = { sv->peers, sv->peer_last_hs_ts,
					   sv->peer_ended, sv->peer_session,
					   sv->peer_ss, sv->routes };

		peer_arrays_free(ep, &old, sv->npeers);
	}
	free(sv->pool);
	free(sv->free_list);
}

const struct jv_half jv_server_half = {
	.init = server_init,
	.free = server_free,
	.handshake_type = JV_MSG_HS_INIT,
	.recv_handshake = on_hs_init,
	.recv_sealed = on_sealed,
	.send_inner = server_send_inner,
	.tick = server_tick,
	.deadline = server_deadline,
	.terminate = server_terminate,
	.set_peers = server_set_peers,
};
