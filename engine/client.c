/* The client endpoint: one session at a time over several candidate
 * transports. Receive and timer paths only report facts (acks, silence,
 * link state); evaluate() alone turns them into fsm events. */
#include <sodium.h>
#include <string.h>

#include "core/select.h"
#include "engine/internal.h"

#define MIN_LOSS_SAMPLES 3

static struct jv_path tpath(const struct jv_client *c, int t)
{
	struct jv_path p;

	memset(&p, 0, sizeof(p));
	p.proto = c->tr[t].cfg.proto;
	p.local = (uint16_t)t;
	return p;
}

static const char *tname(const struct jv_client *c, int t)
{
	return t >= 0 ? c->tr[t].cfg.id : NULL;
}

/* How long a probe may go unanswered. Before a path's first RTT sample
 * nothing says its round trip fits in a heartbeat interval: it gets the
 * silence a path is allowed (a path slower than that is dead anyway). */
static uint64_t probe_timeout(const struct jv_endpoint *ep,
			      const struct jv_ctransport *tr)
{
	uint64_t t = ep->policy.heartbeat_interval_ms;

	if (tr->health.srtt_ms == 0)
		return ep->policy.heartbeat_volatile_ms > t
			       ? ep->policy.heartbeat_volatile_ms : t;
	if (2ull * tr->health.srtt_ms > t)
		t = 2ull * tr->health.srtt_ms;
	return t;
}

/* How long a datagram sent on t now may still be on its way. */
static uint64_t in_flight_ms(const struct jv_endpoint *ep, int t)
{
	uint32_t srtt = t >= 0 ? ep->u.c.tr[t].health.srtt_ms : 0;

	return srtt ? srtt : ep->policy.heartbeat_volatile_ms;
}

/* A loss window holds at least MIN_LOSS_SAMPLES + 1 probes at the slowest
 * rate they go out: heartbeats on the active path; on standbys
 * probe_interval_ms, or heartbeat_interval_ms while no transport is
 * authoritative. A shorter one never has enough samples to call a path
 * fit (a policy with loss_window_ms 900 and probes every 500 ms would
 * leave a recovered path unused until the TTL). */
static uint64_t loss_window(const struct jv_endpoint *ep, int standby)
{
	const struct jv_policy *p = &ep->policy;
	uint64_t period = p->heartbeat_interval_ms, w = p->loss_window_ms;

	if (standby && p->probe_interval_ms > period)
		period = p->probe_interval_ms;
	if (w < (MIN_LOSS_SAMPLES + 1) * period)
		w = (MIN_LOSS_SAMPLES + 1) * period;
	return w;
}

static bool allowed_proto(const struct jv_endpoint *ep, uint8_t proto)
{
	return (ep->policy.allowed_protocols & proto) != 0;
}

/* Timer hooks (section "timers" below): named after what happened. */
static void session_started(struct jv_endpoint *ep, uint64_t now);
static void session_ended(struct jv_endpoint *ep, uint64_t now);
static void client_policy_changed(struct jv_endpoint *ep, uint64_t now);
static void state_changed(struct jv_endpoint *ep, uint64_t now);
static void keepalives_changed(struct jv_endpoint *ep, uint64_t now);
static void probe_answered(struct jv_endpoint *ep, int t, uint64_t now);
static void failback_changed(struct jv_endpoint *ep, uint64_t now);
static void heard_on(struct jv_endpoint *ep, int t, uint64_t now);
static void probes_changed(struct jv_endpoint *ep, int t, uint64_t now);
static void data_watch_reset(struct jv_endpoint *ep);
static void data_sent_on(struct jv_endpoint *ep, int t, uint64_t now);
static void data_heard_on(struct jv_endpoint *ep, int t);
static void data_watch_changed(struct jv_endpoint *ep);

/* One fsm step of the client's session (the table picks the state); the
 * timers follow the state. */
static bool step(struct jv_endpoint *ep, enum jv_reason event,
		 const char *transport, uint64_t now)
{
	if (!jv_session_step(ep, &ep->u.c.s, event, transport, now))
		return false;
	state_changed(ep, now);
	return true;
}

static void set_tr_state(struct jv_endpoint *ep, int t, int state,
			 uint64_t now)
{
	ep->u.c.tr[t].state = state;
	keepalives_changed(ep, now);
}

static void mark_dead(struct jv_endpoint *ep, int t, uint64_t now)
{
	struct jv_ctransport *tr = &ep->u.c.tr[t];

	tr->dead_since_ms = now;
	tr->flaps++;
	tr->healthy_since_ms = NEVER;
	set_tr_state(ep, t, TR_DEAD, now);
}

/* ---- sessions and the handshake ---- */

/* The server's cookie for transport t's source address, while it lasts. */
static const uint8_t *hs_cookie(const struct jv_client *c, int t,
				uint64_t now)
{
	if (t < 0 || !c->cookie[t].has || now >= c->cookie[t].until_ms)
		return NULL;
	return c->cookie[t].cookie;
}

/* HS_INIT is sent again every heartbeat_volatile_ms, but at least four
 * times before the handshake gives up at transport_lost_ttl_ms: a policy
 * with a TTL shorter than the retry interval would otherwise give one lost
 * reply the whole session. The first retries come sooner, doubling from
 * JV_HS_RETRY_FIRST_MS up to that interval: one HS_INIT lost (a receive
 * queue a flood keeps full drops it) costs a quarter second, not a whole
 * interval; a reply slower than that still completes (the last JV_HS_KEEP
 * HS_INITs are kept). tries: HS_INITs sent in this handshake before. */
static uint64_t hs_retry_ms(const struct jv_endpoint *ep, uint32_t tries)
{
	uint64_t r = ep->policy.heartbeat_volatile_ms;
	uint64_t q = ep->policy.transport_lost_ttl_ms / 4;

	if (q && q < r)
		r = q;
	if (tries < 8 && ((uint64_t)JV_HS_RETRY_FIRST_MS << tries) < r)
		return (uint64_t)JV_HS_RETRY_FIRST_MS << tries;
	return r;
}

static void hs_send(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_hs_init_payload pl;
	struct jv_hs_hdr hh = { .type = JV_MSG_HS_INIT,
				.sender_index = c->s.local_index };
	uint8_t e[32], body[JV_HS_INIT_PAYLOAD];
	uint8_t *out = ep->scratch;
	struct jv_path path = tpath(c, c->hs_transport);
	size_t n = 0;
	uint64_t ts = now + (uint64_t)ep->cfg.ts_offset_ms;
	struct jv_noise *hs;

	memset(&pl, 0, sizeof(pl));
	memcpy(pl.session_id, c->s.id, 16);
	memcpy(pl.prev_session_id, c->s.prev_id, 16);
	/* strictly increasing, even if the clock is not */
	pl.timestamp_ms = ts > c->hs_last_ts ? ts : c->hs_last_ts + 1;
	c->hs_last_ts = pl.timestamp_ms;
	jv_wire_tid_set(&pl.tid, c->tr[c->hs_transport].cfg.proto,
			c->tr[c->hs_transport].cfg.id);
	jv_hs_init_payload_encode(&pl, body);

	jv_random(ep, e, sizeof(e));
	c->hs_newest = (c->hs_newest + 1) % JV_HS_KEEP;
	c->hs_mac1_open[c->hs_newest] = false;
	hs = &c->hs[c->hs_newest];
	jv_noise_wipe(hs);
	jv_noise_init(hs, true, (const uint8_t *)JV_PROLOGUE,
		      strlen(JV_PROLOGUE), ep->cfg.private_key,
		      ep->cfg.server_public_key, ep->cfg.psk);
	jv_hs_hdr_encode(&hh, out, sizeof(ep->scratch));
	if (jv_noise_write_msg1(hs, e, body, sizeof(body),
				out + JV_HS_INIT_HDR_LEN,
				JV_HS_INIT_MAC1_OFF - JV_HS_INIT_HDR_LEN,
				&n) == 0) {
		const uint8_t *cookie = hs_cookie(c, c->hs_transport, now);

		jv_hs_init_macs(&c->ck, cookie, out);
		memcpy(c->hs_mac1[c->hs_newest], out + JV_HS_INIT_MAC1_OFF,
		       JV_MAC_LEN);
		c->hs_mac1_open[c->hs_newest] = true;
		c->hs_had_mac2[c->hs_newest] = cookie != NULL;
		jv_send_raw(ep, &path, out, JV_HS_INIT_LEN);
	}
	sodium_memzero(e, sizeof(e));
	sodium_memzero(body, sizeof(body));
	jv_timer_arm(&c->timers, CT_HS_RETRY, now + hs_retry_ms(ep, c->hs_sent));
	if (c->hs_sent < UINT32_MAX)
		c->hs_sent++;
}

static int first_usable_transport(const struct jv_endpoint *ep, int after)
{
	const struct jv_client *c = &ep->u.c;

	for (uint32_t i = 1; i <= c->ntr; i++) {
		int t = (int)((uint32_t)(after + (int)i) % c->ntr);
		if (c->tr[t].link_up && allowed_proto(ep, c->tr[t].cfg.proto))
			return t;
	}
	return after >= 0 ? after : 0;
}

static void new_session(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	uint8_t id[16], prev[16];
	bool had_prev = c->s.state == JV_STATE_TERMINATED && c->s.created_ms;
	struct jv_json *w;

	memcpy(prev, c->s.id, 16);
	jv_random(ep, id, sizeof(id));
	jv_session_init(ep, &c->s, id, now);
	if (had_prev)
		memcpy(c->s.prev_id, prev, 16);
	do
		jv_random(ep, &c->s.local_index, sizeof(c->s.local_index));
	while (c->s.local_index == 0);
	c->live = true;
	c->active = c->last_active = c->candidate = -1;
	c->hs_transport = first_usable_transport(ep, -1);
	c->hs_sent = 0;
	for (uint32_t i = 0; i < c->ntr; i++) {
		jv_health_init(&c->tr[i].health);
		c->tr[i].state = TR_STANDBY;
		c->tr[i].healthy_since_ms = NEVER;
	}
	jv_limiter_init(&c->limiter);
	session_started(ep, now);

	w = jv_ev_begin(ep, now, "SessionCreated", &c->s);
	if (had_prev) {
		char hex[33];
		jv_hex16(prev, hex);
		jv_json_str(w, "previous_session_id", hex);
	}
	jv_json_str(w, "transport_id", tname(c, c->hs_transport));
	jv_ev_end(ep);
	hs_send(ep, now);
}

static void hs_wipe_all(struct jv_client *c)
{
	for (int i = 0; i < JV_HS_KEEP; i++)
		jv_noise_wipe(&c->hs[i]);
	memset(c->hs_mac1_open, 0, sizeof(c->hs_mac1_open));
}

/* Reads msg2 against the kept handshake states, newest first. A state is
 * tried on a copy: a reply that fails to authenticate (a forgery from a
 * spoofed source, say) leaves every state as it was. */
static int hs_read_reply(struct jv_endpoint *ep, const uint8_t *buf,
			 size_t len, uint8_t k1[32], uint8_t k2[32])
{
	struct jv_client *c = &ep->u.c;
	uint8_t payload[JV_HS_RESP_PAYLOAD], h[64];
	struct jv_noise t;
	size_t plen = 0;
	int rc = JV_ERR_AUTH;

	for (int i = 0; i < JV_HS_KEEP && rc != 0; i++) {
		struct jv_noise *hs =
			&c->hs[(c->hs_newest + JV_HS_KEEP - (uint32_t)i) %
			       JV_HS_KEEP];

		if (!hs->initiator)
			continue;      /* never used, or wiped */
		t = *hs;
		if (jv_noise_read_msg2(&t, buf + JV_HS_RESP_HDR_LEN,
				       len - JV_HS_RESP_HDR_LEN, payload,
				       sizeof(payload), &plen) == 0 &&
		    plen == sizeof(payload) &&
		    sodium_memcmp(payload, c->s.id, 16) == 0) {
			jv_noise_split(&t, k1, k2, h);
			rc = 0;
		}
		jv_noise_wipe(&t);
	}
	sodium_memzero(payload, sizeof(payload));
	sodium_memzero(h, sizeof(h));
	return rc;
}

static void on_hs_resp(struct jv_endpoint *ep, const struct jv_path *path,
		       const uint8_t *buf, size_t len, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_session *s = &c->s;
	struct jv_hs_hdr hh;
	uint8_t k1[32], k2[32];
	int t = path->local;

	if (!c->live || !jv_session_takes(s, JV_R_HANDSHAKE_OK) ||
	    jv_hs_hdr_decode(&hh, buf, len) != 0 ||
	    hh.receiver_index != s->local_index || t >= (int)c->ntr)
		goto drop;
	if (hs_read_reply(ep, buf, len, k1, k2) != 0) {
		ep->stats.rx_auth_failed++;
		goto drop;
	}
	hs_wipe_all(c);
	jv_keys_init(&s->keys, k1, k2, true, ep->policy.replay_window_size);
	sodium_memzero(k1, sizeof(k1));
	sodium_memzero(k2, sizeof(k2));
	s->remote_index = hh.sender_index;
	s->last_rekey_ms = now;
	c->active = c->last_active = t;
	c->tr[t].state = TR_ACTIVE;
	jv_health_on_rx(&c->tr[t].health, now);
	heard_on(ep, t, now);
	data_heard_on(ep, t);
	ep->stats.handshakes_ok++;
	jv_timer_cancel(&c->timers, CT_HS_RETRY);
	jv_timer_cancel(&c->timers, CT_HS_GIVEUP);
	jv_timer_arm(&c->timers, CT_HEARTBEAT, now);
	/* the standbys at once: a backup within a few probes */
	for (uint32_t i = 0; i < c->ntr; i++)
		jv_timer_arm(&c->timers, CT_PROBE + i, now);
	step(ep, JV_R_HANDSHAKE_OK, tname(c, t), now);
	/* after the step: a session in BIRTH has no rekey deadline */
	jv_timer_arm(&c->timers, CT_REKEY, jv_session_rekey_deadline(ep, s));
	return;
drop:
	ep->stats.rx_dropped++;
}

/* The server is under load and wants our source address proved: it sent a
 * cookie, sealed to the mac1 of one of our HS_INITs. Each HS_INIT takes
 * one reply (a replayed reply finds its mac1 used). An HS_INIT that went
 * without a cookie is sent again at once with it, as QUIC answers a Retry;
 * one that had a cookie waits for the retry timer, so a server that keeps
 * refusing our cookie cannot pull HS_INITs from us a round trip apart. */
static void on_cookie_reply(struct jv_endpoint *ep, const struct jv_path *path,
			    const uint8_t *buf, size_t len, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_cookie_reply r;
	uint8_t cookie[JV_COOKIE_LEN];
	int t = path->local, k = -1;

	if (!c->live || !jv_session_takes(&c->s, JV_R_HANDSHAKE_OK) ||
	    jv_cookie_reply_decode(&r, buf, len) != 0 ||
	    r.receiver_index != c->s.local_index || t >= (int)c->ntr)
		goto drop;
	for (int i = 0; i < JV_HS_KEEP && k < 0; i++) {
		int j = (int)((c->hs_newest + JV_HS_KEEP - (uint32_t)i) %
			      JV_HS_KEEP);

		if (c->hs_mac1_open[j] &&
		    jv_cookie_reply_open(&c->ck, &r, c->hs_mac1[j], cookie) == 0)
			k = j;
	}
	if (k < 0) {
		ep->stats.rx_auth_failed++;
		goto drop;
	}
	c->hs_mac1_open[k] = false;
	memcpy(c->cookie[t].cookie, cookie, sizeof(cookie));
	c->cookie[t].until_ms = now + JV_COOKIE_VALID_MS;
	c->cookie[t].has = true;
	sodium_memzero(cookie, sizeof(cookie));
	if (!c->hs_had_mac2[k] && t == c->hs_transport)
		hs_send(ep, now);
	return;
drop:
	ep->stats.rx_dropped++;
}

/* Tells the peer (best effort) and terminates; reconnects if configured. */
static void terminate(struct jv_endpoint *ep, enum jv_reason why, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_session *s = &c->s;
	int t = c->active >= 0 ? c->active : c->last_active;

	if (!c->live)
		return;
	/* one message, never resent: it goes on the transport the session
	 * was on and on every other one that is up, so one lossy path does
	 * not leave the server waiting out its TTL */
	if (why != JV_R_PEER_TERMINATED && s->state != JV_STATE_BIRTH &&
	    t >= 0) {
		struct jv_ctrl m = { .type = JV_CTRL_TERMINATE };

		m.u.term.reason = jv_reason_to_wire(why);
		for (uint32_t i = 0; i < c->ntr; i++) {
			struct jv_path p = tpath(c, (int)i);

			if ((int)i == t || (c->tr[i].link_up &&
					    c->tr[i].state != TR_DEAD &&
					    allowed_proto(ep, c->tr[i].cfg.proto)))
				jv_send_ctrl(ep, s, &p, &m);
		}
	}
	jv_session_terminate(ep, s, why, NULL, now);
	hs_wipe_all(c);
	c->live = false;
	c->active = -1;
	session_ended(ep, now);
}

/* ---- health facts into decisions ---- */

static bool recently_heard(const struct jv_endpoint *ep,
			   const struct jv_ctransport *tr, uint64_t now)
{
	return jv_health_rx_age(&tr->health, now) <=
	       ep->policy.heartbeat_volatile_ms;
}

/* The same for a standby: it hears from us once a probe period, up to
 * probe_interval_ms, so it may be silent that much longer. Otherwise a
 * policy whose probe interval exceeds heartbeat_volatile_ms (heartbeat
 * 100 ms, volatile 300 ms, probes every second) has a usable standby
 * only in the 300 ms after each probe's answer. */
static bool standby_heard(const struct jv_endpoint *ep,
			  const struct jv_ctransport *tr, uint64_t now)
{
	return jv_health_rx_age(&tr->health, now) <=
	       ep->policy.heartbeat_volatile_ms + ep->policy.probe_interval_ms;
}

/* Why transport t is not fit to be active, or JV_R_NONE. */
static enum jv_reason unfit(const struct jv_endpoint *ep, int t, uint64_t now)
{
	const struct jv_ctransport *tr = &ep->u.c.tr[t];
	const struct jv_policy *p = &ep->policy;
	uint32_t samples = 0;
	double loss;

	if (!tr->link_up)
		return JV_R_LINK_DOWN;
	if (t == ep->u.c.active && ep->u.c.data_silent)
		return JV_R_DATA_PATH_SILENT;
	if (!recently_heard(ep, tr, now))
		return JV_R_HEARTBEAT_TIMEOUT;
	if (tr->health.consecutive_drops >= p->max_consecutive_drops)
		return JV_R_CONSECUTIVE_DROP_EXCEEDED;
	loss = jv_health_loss(&tr->health, now, loss_window(ep, 0), &samples);
	/* Loss means a path that drops some and delivers some. While every
	 * loss is in the trailing run of drops, the path may as well be dead:
	 * the drop count or the heartbeat timeout will tell. */
	if (samples >= MIN_LOSS_SAMPLES && loss > p->loss_volatile_threshold &&
	    loss * samples > tr->health.consecutive_drops + 0.5)
		return JV_R_LOSS_THRESHOLD_EXCEEDED;
	if (p->latency_volatile_threshold_ms &&
	    tr->health.srtt_ms > p->latency_volatile_threshold_ms)
		return JV_R_LATENCY_THRESHOLD_EXCEEDED;
	return JV_R_NONE;
}

/* Positive evidence that transport t is fine again: fit, its last probe
 * answered, and its loss over the window under the threshold. */
static bool recovered(const struct jv_endpoint *ep, int t, uint64_t now)
{
	const struct jv_ctransport *tr = &ep->u.c.tr[t];
	uint32_t samples = 0;
	double loss = jv_health_loss(&tr->health, now, loss_window(ep, 0),
				     &samples);

	return unfit(ep, t, now) == JV_R_NONE &&
	       tr->health.consecutive_drops == 0 &&
	       samples >= MIN_LOSS_SAMPLES &&
	       loss <= ep->policy.loss_volatile_threshold;
}

static bool is_death(enum jv_reason r)
{
	return r == JV_R_HEARTBEAT_TIMEOUT || r == JV_R_CONSECUTIVE_DROP_EXCEEDED ||
	       r == JV_R_LINK_DOWN || r == JV_R_TRANSPORT_DEAD ||
	       r == JV_R_DATA_PATH_SILENT;
}

/* Whether transport t has a record to be chosen on: a path that answered
 * once after a silence has not shown it carries traffic yet. Its loss is
 * the standby window's (*loss, when given); jv_select judges that. */
static bool qualified(const struct jv_endpoint *ep, int t, uint64_t now,
		      double *loss)
{
	const struct jv_ctransport *tr = &ep->u.c.tr[t];
	uint32_t samples = 0;
	double l = jv_health_loss(&tr->health, now, loss_window(ep, 1),
				  &samples);

	if (loss)
		*loss = l;
	return tr->link_up && tr->state != TR_DEAD &&
	       samples >= MIN_LOSS_SAMPLES && standby_heard(ep, tr, now) &&
	       tr->health.consecutive_drops < ep->policy.max_consecutive_drops;
}

_Static_assert(JV_MAX_TRANSPORTS <= JV_SELECT_MAX, "jv_select looks at all");

static int fill_candidates(const struct jv_endpoint *ep, uint64_t now,
			   struct jv_candidate *cands)
{
	const struct jv_client *c = &ep->u.c;
	int usable = 0;

	for (uint32_t i = 0; i < c->ntr; i++) {
		const struct jv_ctransport *tr = &c->tr[i];

		cands[i].id = tr->cfg.id;
		cands[i].proto = tr->cfg.proto;
		cands[i].usable = qualified(ep, (int)i, now, &cands[i].loss);
		cands[i].rtt_ms = tr->health.srtt_ms;
		cands[i].flaps = tr->flaps;
		usable += cands[i].usable;
	}
	return usable;
}

static void emit_denied(struct jv_endpoint *ep, int t, int why, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_json *w = jv_ev_begin(ep, now, "TransportSwitchDenied", &c->s);

	if (t >= 0)
		jv_json_str(w, "transport_id", tname(c, t));
	else
		jv_json_null(w, "transport_id");
	jv_json_str(w, "reason_code", jv_reason_name((enum jv_reason)why));
	jv_ev_end(ep);
	c->last_denial = why;
}

static void send_reattach(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_session *s = &c->s;
	struct jv_ctrl m = { .type = JV_CTRL_REATTACH_REQ };
	struct jv_path p = tpath(c, c->candidate);

	memcpy(m.u.req.session_id, s->id, 16);
	m.u.req.counter = s->keys.tx_counter;   /* the counter seal will use */
	m.u.req.timestamp_ms = now - s->created_ms;
	m.u.req.attach_epoch = s->attach_epoch;
	jv_wire_tid_set(&m.u.req.tid, c->tr[c->candidate].cfg.proto,
			tname(c, c->candidate));
	jv_send_ctrl(ep, s, &p, &m);
	jv_timer_arm(&c->timers, CT_REATTACH_TX,
		     now + ep->policy.heartbeat_interval_ms);
}

static void start_reattach(struct jv_endpoint *ep, int t, enum jv_reason why,
			   uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_json *w;

	if (!jv_session_takes(&c->s, why)) {
		step(ep, why, NULL, now);   /* logs the refusal */
		return;
	}
	c->candidate = t;
	step(ep, why, NULL, now);
	/* counted from the start: the server may take it any time now */
	jv_limiter_record(&c->limiter, now);
	c->first_req_counter = c->s.keys.tx_counter;
	c->last_denial = 0;
	w = jv_ev_begin(ep, now, "ReattachAttempt", &c->s);
	jv_json_str(w, "candidate_transport", tname(c, t));
	jv_json_u64(w, "recovery_deadline_ms",
		    c->timers.at[CT_RECOVERY] + (uint64_t)ep->cfg.ts_offset_ms);
	jv_ev_end(ep);
	send_reattach(ep, now);
}

/*
 * Tries to move to a new transport from VOLATILE or DEGRADED. Returns 0 if
 * a reattach started, else the reason it did not (a JV_R_* code).
 */
static int try_switch(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_candidate cands[JV_MAX_TRANSPORTS];
	bool volatile_ = c->s.state == JV_STATE_VOLATILE;
	int current = -1, exclude = -1, why = JV_R_NO_VALID_CANDIDATE, t, r;

	fill_candidates(ep, now, cands);
	if (volatile_)
		exclude = c->last_active;   /* we are leaving it */
	else if (c->last_active >= 0 && cands[c->last_active].usable)
		current = c->last_active;   /* hysteresis keeps us on it */
	t = jv_select(cands, c->ntr, current, exclude, &ep->policy, &why);
	if (t < 0 && current >= 0) {
		/* nothing beats the old transport by enough: go back to it */
		uint32_t samples = 0;
		double loss = jv_health_loss(&c->tr[current].health, now,
					     loss_window(ep, 1), &samples);
		if (loss < ep->policy.loss_volatile_threshold &&
		    allowed_proto(ep, c->tr[current].cfg.proto))
			t = current;
	}
	if (t < 0)
		return why;
	r = jv_limiter_check(&c->limiter, &ep->policy, now);
	if (r) {
		if (volatile_ || r != c->last_denial)
			emit_denied(ep, t, r, now);
		return r;
	}
	start_reattach(ep, t,
		       t == c->last_active ? JV_R_HEALTH_RECOVERED
					   : JV_R_SWITCH_INITIATED,
		       now);
	return 0;
}

static bool enter_volatile(struct jv_endpoint *ep, enum jv_reason cause,
			   uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	int t = c->active;
	struct jv_ctransport *tr = &c->tr[t];

	if (!jv_session_takes(&c->s, cause))
		return false;
	if (is_death(cause)) {
		jv_ev_transport_dead(ep, &c->s, tname(c, t), cause,
				     jv_health_rx_age(&tr->health, now), now);
		mark_dead(ep, t, now);
	} else {
		set_tr_state(ep, t, TR_STANDBY, now);
	}
	c->last_active = t;
	c->active = -1;
	c->volatile_cause = cause;
	return step(ep, cause, NULL, now);
}

static void evaluate(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_session *s = &c->s;
	enum jv_reason why;
	int r;

	switch (s->state) {
	case JV_STATE_ATTACHED:
		why = unfit(ep, c->active, now);
		if (why == JV_R_NONE)
			return;
		if (!enter_volatile(ep, why, now))
			return;
		/* decide at once */
		/* fall through */
	case JV_STATE_VOLATILE:
		if (c->tr[c->last_active].state != TR_DEAD &&
		    recovered(ep, c->last_active, now) &&
		    jv_limiter_check(&c->limiter, &ep->policy, now) == 0) {
			start_reattach(ep, c->last_active,
				       JV_R_HEALTH_RECOVERED, now);
			return;
		}
		r = try_switch(ep, now);
		if (r == 0)
			return;
		if (r == JV_R_SWITCH_RATE_LIMITED || r == JV_R_COOLDOWN_ACTIVE) {
			step(ep, (enum jv_reason)r, NULL, now);
		} else if (r == JV_R_POLICY_DENIED) {
			emit_denied(ep, -1, r, now);
			step(ep, JV_R_POLICY_DENIED, NULL, now);
		} else if (is_death(c->volatile_cause) ||
			   c->tr[c->last_active].state == TR_DEAD) {
			step(ep, JV_R_NO_VIABLE_TRANSPORT, NULL, now);
		} else if (jv_timer_due(&c->timers, CT_VOLATILE, now)) {
			step(ep, JV_R_VOLATILE_PERSISTED, NULL, now);
		}
		return;
	case JV_STATE_RECOVERING:
		if (jv_timer_due(&c->timers, CT_RECOVERY, now)) {
			/* the server may still take this attempt: a path
			 * response we sent can land a one-way trip from now
			 * (dated before the step, whose hooks read it) */
			if (jv_session_takes(&c->s, JV_R_RECOVERY_WINDOW_EXPIRED))
				jv_limiter_retime(&c->limiter,
						  now + in_flight_ms(ep,
								     c->candidate));
			if (!step(ep, JV_R_RECOVERY_WINDOW_EXPIRED, NULL, now))
				return;
			c->candidate = -1;
			/* DEGRADED now: decide at once, not at whatever timer
			 * comes next */
			try_switch(ep, now);
			return;
		}
		if (jv_timer_due(&c->timers, CT_REATTACH_TX, now))
			send_reattach(ep, now);
		return;
	case JV_STATE_DEGRADED:
		try_switch(ep, now);
		return;
	default:
		return;
	}
}

/* ---- failback ---- */

/* Whether standby t could take the session: a record (qualified), its
 * loss under the threshold, its protocol allowed. */
static bool failback_fit(const struct jv_endpoint *ep, int t, uint64_t now)
{
	double loss = 0;

	return qualified(ep, t, now, &loss) &&
	       loss < ep->policy.loss_volatile_threshold &&
	       allowed_proto(ep, ep->u.c.tr[t].cfg.proto);
}

/* Since when standby t counts as healthy for a failback from the current
 * active transport: its streak, but not before the session attached
 * there (a switch chose the active over it; it must show it is fine for
 * failback_after_ms after that, not before). NEVER: no streak. */
static uint64_t failback_since(const struct jv_client *c, int t)
{
	uint64_t since = c->tr[t].healthy_since_ms;

	if (since == NEVER)
		return NEVER;
	return since > c->s.state_since_ms ? since : c->s.state_since_ms;
}

/* A probe of standby t was answered: a streak starts if none runs and t
 * is fit (one that is not starts at a later answer). */
static void standby_answered(struct jv_endpoint *ep, int t, uint64_t now)
{
	struct jv_ctransport *tr = &ep->u.c.tr[t];

	if (tr->healthy_since_ms != NEVER || t == ep->u.c.active ||
	    !failback_fit(ep, t, now))
		return;
	tr->healthy_since_ms = now;
	failback_changed(ep, now);
}

/* Arms CT_FAILBACK: while ATTACHED with failback_after_ms set, at the
 * first moment a standby earlier in the preference order than the active
 * one has been healthy that long, and the limiter allows a switch (a
 * failback is counted like any switch; it waits for the limiter rather
 * than be denied). */
static void failback_changed(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	const struct jv_policy *p = &ep->policy;
	uint64_t at = NEVER, v;

	if (c->live && c->s.state == JV_STATE_ATTACHED &&
	    p->failback_after_ms && c->active > 0) {
		for (int t = 0; t < c->active; t++) {
			uint64_t since = failback_since(c, t);

			if (since != NEVER && since + p->failback_after_ms < at)
				at = since + p->failback_after_ms;
		}
	}
	if (at != NEVER) {
		v = jv_limiter_cooldown_end(&c->limiter, p);
		if (v > at)
			at = v;
		v = jv_limiter_window_free_at(&c->limiter, p,
					      at > now ? at : now);
		if (v != NEVER && v > at)
			at = v;
	}
	jv_timer_arm(&c->timers, CT_FAILBACK, at);
}

/*
 * CT_FAILBACK is due: the most preferred standby ahead of the active one
 * whose streak has lasted failback_after_ms takes the session back, by
 * the path any switch takes (ATTACHED -> VOLATILE, reason `failback`;
 * VOLATILE -> RECOVERING, switch_initiated; a reattach validated as
 * always). A due standby that is no longer fit, or beyond
 * max_candidate_count in the preference order, loses its streak.
 */
static void failback_due(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	const struct jv_policy *p = &ep->policy;
	uint32_t fit_before = 0;
	int to = -1;

	if (c->s.state == JV_STATE_ATTACHED && p->failback_after_ms) {
		for (int t = 0; t < c->active && to < 0; t++) {
			struct jv_ctransport *tr = &c->tr[t];
			uint64_t since = failback_since(c, t);
			bool fit = failback_fit(ep, t, now);

			if (since != NEVER && since + p->failback_after_ms <= now) {
				if (fit && fit_before < p->max_candidate_count)
					to = t;
				else
					tr->healthy_since_ms = NEVER;
			}
			fit_before += fit;
		}
	}
	if (to < 0 || jv_limiter_check(&c->limiter, p, now) != 0) {
		failback_changed(ep, now);
		return;
	}
	set_tr_state(ep, c->active, TR_STANDBY, now);
	c->last_active = c->active;
	c->active = -1;
	c->volatile_cause = JV_R_FAILBACK;
	if (!step(ep, JV_R_FAILBACK, NULL, now))
		return;
	start_reattach(ep, to, JV_R_SWITCH_INITIATED, now);
}

/* ---- receive ---- */

/* The copies to re-send after a reattach to t from transport prev (-1:
 * none): those sent since the last packet heard on prev, less a round
 * trip (max of SRTT and RTT p95; before a sample, heartbeat_volatile_ms)
 * -- a packet sent then crossed the point of a cut that the last one
 * heard had just passed. Not those sent on t itself when it is another
 * transport: the server takes data from any path of the session. */
static void resend_select(struct jv_endpoint *ep, int prev, int t,
			  uint64_t now, struct jv_resend_sel *sel)
{
	const struct jv_client *c = &ep->u.c;
	uint64_t since = 0, back;

	if (prev >= 0 && c->tr[prev].health.has_rx) {
		const struct jv_health *h = &c->tr[prev].health;

		back = h->srtt_ms;
		if (jv_health_rtt_p95(h) > back)
			back = jv_health_rtt_p95(h);
		if (!h->rtt_count)
			back = ep->policy.heartbeat_volatile_ms;
		since = h->last_rx_ms > back ? h->last_rx_ms - back : 0;
	}
	jv_resend_sel_init(ep, &c->s, since, now, sel);
	if (t != prev)
		sel->skip_tr = (uint8_t)t;
}

static void on_reattach_ack(struct jv_endpoint *ep, const struct jv_ctrl *m,
			    int t, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_session *s = &c->s;
	struct jv_candidate cands[JV_MAX_TRANSPORTS];
	int prev = c->last_active;

	struct jv_resend_sel sel;
	struct jv_resent rs;
	struct jv_path p = tpath(c, t);

	/* the server's epoch may be more than one ahead: ACKs of earlier
	 * attempts were lost, and it counted those attachments */
	if (!jv_session_takes(s, JV_R_REATTACH_SUCCESS) || t != c->candidate ||
	    m->u.ack.req_counter < c->first_req_counter ||
	    m->u.ack.attach_epoch <= s->attach_epoch)
		return;
	resend_select(ep, prev, t, now, &sel);
	jv_resend_run(ep, &sel, NULL, &rs.packets, &rs.bytes);
	jv_ev_reattach_result(ep, s, true, JV_R_REATTACH_SUCCESS, tname(c, t),
			      &rs, now);
	if (t != prev) {
		struct jv_json *w;
		uint32_t samples = 0;
		int count = fill_candidates(ep, now, cands);

		w = jv_ev_begin(ep, now, "TransportSwitch", s);
		if (prev >= 0)
			jv_json_str(w, "previous_transport", tname(c, prev));
		else
			jv_json_null(w, "previous_transport");
		jv_json_str(w, "new_transport", tname(c, t));
		jv_json_u64(w, "candidate_count", (uint64_t)count);
		if (ep->policy.emit_switch_metrics) {
			jv_json_double(w, "loss_ratio",
				       jv_health_loss(&c->tr[t].health, now,
						      loss_window(ep, 1),
						      &samples));
			if (ep->policy.include_latency_metrics)
				jv_json_u64(w, "latency_estimate_ms",
					    c->tr[t].health.srtt_ms);
		}
		jv_json_bool(w, "explicit", true);
		jv_ev_end(ep);
	}
	/* dated when it happens, as TransportSwitch dates it: an attempt
	 * takes its time, and the next one is measured from here */
	jv_limiter_retime(&c->limiter, now);
	s->attach_epoch = m->u.ack.attach_epoch;
	s->reattach_failures = 0;
	if (prev >= 0 && prev != t && c->tr[prev].state == TR_ACTIVE)
		c->tr[prev].state = TR_STANDBY;
	c->tr[t].state = TR_ACTIVE;
	c->tr[t].healthy_since_ms = NEVER;   /* a streak is a standby's */
	c->active = c->last_active = t;
	c->candidate = -1;
	jv_health_reset_probes(&c->tr[t].health);
	probes_changed(ep, t, now);
	jv_timer_arm(&c->timers, CT_HEARTBEAT, now);
	step(ep, JV_R_REATTACH_SUCCESS, tname(c, t), now);
	/* on the new path at once: what went into the old one since it
	 * fell silent may never have arrived (the counts are in the
	 * ReattachResult above) */
	jv_resend_run(ep, &sel, &p, &rs.packets, &rs.bytes);
}

/* The server asks us to show we are on the path our request came from:
 * answered only for the reattach under way, on its candidate. */
static void on_path_challenge(struct jv_endpoint *ep, const struct jv_ctrl *m,
			      int t)
{
	struct jv_client *c = &ep->u.c;
	struct jv_ctrl r = { .type = JV_CTRL_PATH_RESPONSE };
	struct jv_path p = tpath(c, t);

	if (c->s.state != JV_STATE_RECOVERING || t != c->candidate ||
	    m->u.path.req_counter < c->first_req_counter)
		return;
	r.u.path = m->u.path;
	jv_send_ctrl(ep, &c->s, &p, &r);
}

/* Inner packets from the server must come from the prefixes behind it
 * (the tunnel subnets, the routes), IPv4 or IPv6, as WireGuard's
 * allowed_ips. An endpoint configured with none accepts any source.
 * *ip tells whether pkt was an IP packet at all (only those are
 * reported). */
static bool inner_source_ok(const struct jv_endpoint *ep, const uint8_t *pkt,
			    size_t len, bool *ip)
{
	const struct jv_endpoint_cfg *cfg = &ep->cfg;
	const uint8_t *src;
	uint8_t fam;

	*ip = jv_ip_packet_addr(pkt, len, false, &fam, &src);
	if (cfg->nserver_allowed == 0)
		return true;
	if (!*ip)
		return false;
	for (uint32_t i = 0; i < cfg->nserver_allowed; i++)
		if (jv_prefix_match(&cfg->server_allowed[i], fam, src))
			return true;
	return false;
}

static bool final_denial(enum jv_reason reason)
{
	return reason == JV_R_SESSION_EXPIRED ||
	       reason == JV_R_TRANSPORT_TTL_EXCEEDED ||
	       reason == JV_R_UNKNOWN_SESSION ||
	       reason == JV_R_INVALID_STATE_FOR_REATTACH;
}

static void on_reattach_deny(struct jv_endpoint *ep, const struct jv_ctrl *m,
			     uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_session *s = &c->s;
	enum jv_reason why = JV_R_POLICY_DENIED;    /* a code we do not know */

	jv_reason_from_wire(m->u.deny.reason, &why);

	if (!jv_session_takes(s, JV_R_REATTACH_VALIDATION_FAILED) ||
	    m->u.deny.req_counter < c->first_req_counter)
		return;
	jv_ev_reattach_result(ep, s, false, why, tname(c, c->candidate), NULL,
			      now);
	c->candidate = -1;
	s->reattach_failures++;
	step(ep, JV_R_REATTACH_VALIDATION_FAILED, NULL, now);
	if (final_denial(why))
		terminate(ep, JV_R_PEER_TERMINATED, now);
	else if (s->reattach_failures > ep->policy.max_reattach_failures)
		terminate(ep, JV_R_SECURITY_FAILURE, now);
}

static void on_sealed(struct jv_endpoint *ep, const struct jv_path *path,
		      const uint8_t *buf, size_t len, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_session *s = &c->s;
	struct jv_hdr h;
	struct jv_ctrl m;
	bool adv, ip;
	int t = path->local, n;

	if (!c->live || s->state == JV_STATE_BIRTH || t >= (int)c->ntr ||
	    jv_hdr_decode(&h, buf, len) != 0 ||
	    h.receiver_index != s->local_index)
		goto drop;
	n = jv_keys_open(&s->keys, &h, buf, len, ep->plain, sizeof(ep->plain),
			 now, ep->policy.heartbeat_volatile_ms, &adv);
	if (n == JV_ERR_AUTH)
		jv_data_auth_failed(ep, s, &h, tname(c, t), now);
	if (n < 0)
		goto drop;
	if (c->tr[t].state == TR_DEAD && c->tr[t].link_up) {
		/* back from the dead: its losses while dead say nothing about
		 * it now; flapping is bounded by the switch limiter and shows
		 * in its flap count, which ranking weighs */
		jv_health_forget_losses(&c->tr[t].health);
		set_tr_state(ep, t, TR_STANDBY, now);
	}
	jv_health_on_rx(&c->tr[t].health, now);
	heard_on(ep, t, now);
	data_heard_on(ep, t);
	if (h.type == JV_MSG_DATA) {
		if (!inner_source_ok(ep, ep->plain, (size_t)n, &ip)) {
			/* link chatter of the gateway's TUN is dropped
			 * unreported, as on the server */
			if (ip && !jv_ip_packet_link_scoped(ep->plain, (size_t)n))
				jv_inner_source_rejected(ep, s, tname(c, t),
							 now);
			goto drop;
		}
		s->bytes_in += (uint64_t)n;
		ep->stats.inner_delivered++;
		if (n > 0)
			ep->cfg.ops.deliver(ep->cfg.ctx, ep->plain, (size_t)n);
		goto out;
	}
	if (jv_ctrl_decode(&m, h.subtype, ep->plain, (size_t)n) != 0)
		goto drop;
	switch (m.type) {
	case JV_CTRL_HEARTBEAT_ACK:
		jv_health_on_ack(&c->tr[t].health, m.u.hb.seq, now);
		probes_changed(ep, t, now);
		/* the server no longer holds our binding (it saw silence we
		 * did not): reattach on the same transport */
		if ((m.u.hb.flags & JV_HB_REATTACH_NEEDED) &&
		    s->state == JV_STATE_ATTACHED && t == c->active)
			enter_volatile(ep, JV_R_PEER_PATH_CHANGE, now);
		break;
	case JV_CTRL_PROBE_ACK:
		jv_health_on_ack(&c->tr[t].health, m.u.hb.seq, now);
		probes_changed(ep, t, now);
		probe_answered(ep, t, now);
		standby_answered(ep, t, now);
		break;
	case JV_CTRL_REATTACH_ACK:
		on_reattach_ack(ep, &m, t, now);
		break;
	case JV_CTRL_REATTACH_DENY:
		on_reattach_deny(ep, &m, now);
		break;
	case JV_CTRL_PATH_CHALLENGE:
		on_path_challenge(ep, &m, t);
		break;
	case JV_CTRL_TERMINATE:
		terminate(ep, JV_R_PEER_TERMINATED, now);
		return;
	default:
		goto drop;
	}
out:
	if (c->live)
		evaluate(ep, now);
	return;
drop:
	ep->stats.rx_dropped++;
}

/* ---- send ---- */

/* Where best-effort traffic goes when no transport is authoritative. */
static int tx_transport(const struct jv_endpoint *ep, uint64_t now)
{
	const struct jv_client *c = &ep->u.c;
	int best = -1;

	if (c->active >= 0)
		return c->active;
	if (c->candidate >= 0)
		return c->candidate;
	if (c->last_active >= 0 && c->tr[c->last_active].state != TR_DEAD)
		return c->last_active;
	for (uint32_t i = 0; i < c->ntr; i++)
		if (c->tr[i].state != TR_DEAD && recently_heard(ep, &c->tr[i], now)) {
			best = (int)i;
			break;
		}
	return best >= 0 ? best : c->last_active;
}

static int client_send_inner(struct jv_endpoint *ep, const uint8_t *pkt,
			     size_t len, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_session *s = &c->s;
	struct jv_path p;
	int t, n;

	if (len > JV_INNER_MAX)
		return JV_ERR_INVAL;
	if (!c->live || s->state == JV_STATE_BIRTH)
		return JV_ERR_NOTFOUND;
	t = tx_transport(ep, now);
	if (t < 0)
		return JV_ERR_NOTFOUND;
	n = jv_keys_seal(&s->keys, JV_MSG_DATA, 0, s->remote_index, pkt, len,
			 ep->scratch, sizeof(ep->scratch));
	if (n < 0)
		return n;
	p = tpath(c, t);
	s->bytes_out += len;
	ep->stats.inner_sent++;
	jv_send_raw(ep, &p, ep->scratch, (size_t)n);
	jv_resend_keep(ep, s->local_index, (uint8_t)t, ep->scratch, (size_t)n,
		       now);
	data_sent_on(ep, t, now);
	return 0;
}

/* ---- timers ---- */

static void send_hb(struct jv_endpoint *ep, int t, uint8_t type, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_ctrl m = { .type = type };
	struct jv_path p = tpath(c, t);

	m.u.hb.seq = ++c->hb_seq;
	jv_health_on_sent(&c->tr[t].health, m.u.hb.seq, now);
	probes_changed(ep, t, now);
	jv_send_ctrl(ep, &c->s, &p, &m);
}

/* The transport heartbeats go to: the active one, or while VOLATILE the
 * one we left, to see whether it recovers. */
static int hb_transport(const struct jv_client *c)
{
	if (c->s.state == JV_STATE_ATTACHED)
		return c->active;
	if (c->s.state == JV_STATE_VOLATILE && c->last_active >= 0 &&
	    c->tr[c->last_active].state != TR_DEAD)
		return c->last_active;
	return -1;
}

/* Whether transport t gets health probes: every usable one except the one
 * carrying heartbeats and the one a reattach is under way on. A candidate
 * the policy forbids is probed too, so a denial can say policy_denied
 * rather than "nothing there". */
static bool probed(const struct jv_client *c, int t, int hb)
{
	if (t == hb || !c->tr[t].link_up)
		return false;
	return !(c->s.state == JV_STATE_RECOVERING && t == c->candidate);
}

/* The hooks that arm and cancel the timers (enum jv_ctimer). */

/* Timers that count from the session's state: the transport TTL from the
 * moment it left ATTACHED, volatile_to_degraded_ms, the recovery window,
 * and the limiter's wake-ups while a switch may be denied. */
static void arm_state_timers(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	const struct jv_session *s = &c->s;
	const struct jv_policy *p = &ep->policy;
	struct jv_timers *tm = &c->timers;
	uint64_t v;

	if (s->state == JV_STATE_ATTACHED || s->state == JV_STATE_BIRTH)
		jv_timer_cancel(tm, CT_TRANSPORT_TTL);
	else
		jv_timer_arm(tm, CT_TRANSPORT_TTL,
			     s->left_attached_ms + p->transport_lost_ttl_ms + 1);
	if (s->state == JV_STATE_VOLATILE)
		jv_timer_arm(tm, CT_VOLATILE,
			     s->state_since_ms + p->volatile_to_degraded_ms);
	else
		jv_timer_cancel(tm, CT_VOLATILE);
	if (s->state != JV_STATE_RECOVERING) {
		jv_timer_cancel(tm, CT_RECOVERY);
		jv_timer_cancel(tm, CT_REATTACH_TX);
	}
	jv_timer_cancel(tm, CT_COOLDOWN);
	jv_timer_cancel(tm, CT_RATE_WINDOW);
	if (s->state == JV_STATE_VOLATILE || s->state == JV_STATE_DEGRADED) {
		/* only ahead of now: a switch is tried at once anyway */
		v = jv_limiter_cooldown_end(&c->limiter, p);
		if (v > now)
			jv_timer_arm(tm, CT_COOLDOWN, v);
		v = jv_limiter_window_free_at(&c->limiter, p, now);
		if (v != NEVER && v > now)
			jv_timer_arm(tm, CT_RATE_WINDOW, v);
	}
}

/* The loss ratios the decisions read change when a settled sample ages
 * out of its window, and no fact reports that: t is woken then. Read are
 * the active window of the transport that is (unfit) or was (recovered)
 * active, and while a switch is sought the standby window of every
 * transport (fill_candidates). A transport down or dead is judged on
 * that, not on its losses. */
static void arm_loss_age(struct jv_endpoint *ep, int t, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	const struct jv_ctransport *tr = &c->tr[t];
	enum jv_state st = c->s.state;
	uint64_t d = NEVER, v;

	if (tr->link_up && tr->state != TR_DEAD) {
		if ((st == JV_STATE_ATTACHED && t == c->active) ||
		    (st == JV_STATE_VOLATILE && t == c->last_active))
			d = jv_health_loss_ages_at(&tr->health, now,
						   loss_window(ep, 0));
		if (st == JV_STATE_VOLATILE || st == JV_STATE_DEGRADED) {
			v = jv_health_loss_ages_at(&tr->health, now,
						   loss_window(ep, 1));
			if (v < d)
				d = v;
		}
	}
	jv_timer_arm(&c->timers, CT_LOSS_AGE + (unsigned)t, d);
}

/* Every transition of a live session. */
static void state_changed(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	if (c->s.state == JV_STATE_RECOVERING)
		jv_timer_arm(&c->timers, CT_RECOVERY,
			     now + ep->policy.recovery_window_ms);
	arm_state_timers(ep, now);
	keepalives_changed(ep, now);
	failback_changed(ep, now);
	/* a watch is of one active transport in ATTACHED */
	data_watch_reset(ep);
}

/* Which transport takes heartbeats and which take probes changed (state,
 * active, candidate, a transport's state or link): their schedules pause
 * or resume, and the loss windows the decisions read are others. */
static void keepalives_changed(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	int hb = hb_transport(c);

	jv_timer_hold(&c->timers, CT_HEARTBEAT, hb < 0);
	for (uint32_t i = 0; i < c->ntr; i++) {
		jv_timer_hold(&c->timers, CT_PROBE + i, !probed(c, (int)i, hb));
		arm_loss_age(ep, (int)i, now);
	}
}

/* An authenticated packet arrived on t: it falls silent
 * heartbeat_volatile_ms from now, and silent for a standby a probe
 * interval later (silence_seen). */
static void heard_on(struct jv_endpoint *ep, int t, uint64_t now)
{
	jv_timer_arm(&ep->u.c.timers, CT_RX_SILENCE + (unsigned)t,
		     now + ep->policy.heartbeat_volatile_ms + 1);
}

static void silence_seen(struct jv_endpoint *ep, int t, uint64_t now)
{
	const struct jv_health *h = &ep->u.c.tr[t].health;
	uint64_t at = h->last_rx_ms + ep->policy.heartbeat_volatile_ms +
		      ep->policy.probe_interval_ms + 1;

	if (h->has_rx && at > now)
		jv_timer_arm(&ep->u.c.timers, CT_RX_SILENCE + (unsigned)t, at);
	else
		jv_timer_cancel(&ep->u.c.timers, CT_RX_SILENCE + (unsigned)t);
}

/* A probe of t was sent, answered, given up or forgotten: the oldest one
 * still pending is lost at its timeout, and the loss windows age anew. */
static void probes_changed(struct jv_endpoint *ep, int t, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	const struct jv_ctransport *tr = &c->tr[t];
	uint64_t to = probe_timeout(ep, tr), d = NEVER;

	for (int k = 0; k < JV_HEALTH_SLOTS; k++)
		if (tr->health.probes[k].status == 1 &&
		    tr->health.probes[k].sent_ms + to < d)
			d = tr->health.probes[k].sent_ms + to;
	jv_timer_arm(&c->timers, CT_PROBE_TIMEOUT + (unsigned)t, d);
	arm_loss_age(ep, t, now);
}

static void session_started(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	const struct jv_policy *p = &ep->policy;

	jv_timers_init(&c->timers);
	data_watch_reset(ep);
	jv_timer_arm(&c->timers, CT_LIFETIME,
		     c->s.created_ms + p->max_lifetime_ms + 1);
	jv_timer_arm(&c->timers, CT_HS_GIVEUP,
		     c->s.created_ms + p->transport_lost_ttl_ms + 1);
	keepalives_changed(ep, now);
}

/* The session is over: nothing is due but the next one, if any. */
static void session_ended(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	/* its copies go with it: the next session has other keys */
	jv_resend_free(ep);
	jv_timers_init(&c->timers);
	if (ep->cfg.reconnect && !c->stop)
		jv_timer_arm(&c->timers, CT_RECONNECT,
			     now + ep->policy.heartbeat_volatile_ms);
}

static void client_policy_changed(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	const struct jv_policy *p = &ep->policy;

	if (!c->live)
		return;
	jv_timer_arm(&c->timers, CT_LIFETIME,
		     c->s.created_ms + p->max_lifetime_ms + 1);
	if (c->s.state == JV_STATE_BIRTH) {
		jv_timer_arm(&c->timers, CT_HS_GIVEUP,
			     c->s.created_ms + p->transport_lost_ttl_ms + 1);
		return;
	}
	jv_timer_arm(&c->timers, CT_REKEY, jv_session_rekey_deadline(ep, &c->s));
	arm_state_timers(ep, now);
	failback_changed(ep, now);
	data_watch_changed(ep);
	for (uint32_t i = 0; i < c->ntr; i++) {
		const struct jv_health *h = &c->tr[i].health;

		if (h->has_rx)
			heard_on(ep, (int)i, h->last_rx_ms);
		probes_changed(ep, (int)i, now);
	}
}

/* What the expired timers mean, in the order the session must see it. */

static void handshake_failed(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	jv_session_terminate(ep, &c->s, JV_R_HANDSHAKE_FAILED, NULL, now);
	c->live = false;
	session_ended(ep, now);
}

static void handshake_retry(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	c->hs_transport = first_usable_transport(ep, c->hs_transport);
	hs_send(ep, now);
}

static void rekey_due(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	jv_session_maybe_rekey(ep, &c->s, now);
	jv_timer_arm(&c->timers, CT_REKEY, jv_session_rekey_deadline(ep, &c->s));
}

static void probe_lost(struct jv_endpoint *ep, int t, uint64_t now)
{
	struct jv_ctransport *tr = &ep->u.c.tr[t];

	if (jv_health_expire(&tr->health, now, probe_timeout(ep, tr)) > 0 &&
	    tr->healthy_since_ms != NEVER) {
		tr->healthy_since_ms = NEVER;   /* a loss restarts the streak */
		failback_changed(ep, now);
	}
	probes_changed(ep, t, now);
}

/* A standby that stopped answering is dead like an active one: when it
 * answers again it starts a fresh history. */
static void standbys_checked(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	for (uint32_t i = 0; i < c->ntr; i++) {
		struct jv_ctransport *tr = &c->tr[i];

		if (tr->state == TR_STANDBY && (int)i != c->active &&
		    (tr->health.consecutive_drops >=
			     ep->policy.max_consecutive_drops ||
		     !standby_heard(ep, tr, now)))
			mark_dead(ep, (int)i, now);
	}
}

static void heartbeat_due(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	send_hb(ep, hb_transport(c), JV_CTRL_HEARTBEAT, now);
	jv_timer_arm(&c->timers, CT_HEARTBEAT,
		     now + ep->policy.heartbeat_interval_ms);
}

/* How often standby t is probed: every probe_interval_ms while ATTACHED
 * once it has a record; at the heartbeat rate (or probe_interval_ms if
 * that is faster) while no transport is authoritative, and until it has
 * a record, so that a session has a backup a few probes after it starts
 * rather than three probe intervals (issue 11). A path that never
 * answers stays on the fast rate: the moment it does, it qualifies. */
static uint64_t probe_period(const struct jv_endpoint *ep, int t, uint64_t now)
{
	const struct jv_policy *p = &ep->policy;
	uint64_t fast = p->heartbeat_interval_ms < p->probe_interval_ms
				? p->heartbeat_interval_ms
				: p->probe_interval_ms;

	if (ep->u.c.s.state == JV_STATE_ATTACHED && qualified(ep, t, now, NULL))
		return p->probe_interval_ms;
	return fast;
}

static void probe_due(struct jv_endpoint *ep, int t, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	send_hb(ep, t, JV_CTRL_PROBE, now);
	c->tr[t].probe_sent_ms = now;
	jv_timer_arm(&c->timers, CT_PROBE + (unsigned)t,
		     now + probe_period(ep, t, now));
}

/* A probe of t was answered: if that gave t its record, its next probe
 * goes at the slower rate, counted from the last one sent. */
static void probe_answered(struct jv_endpoint *ep, int t, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	unsigned i = CT_PROBE + (unsigned)t;
	uint64_t at = c->tr[t].probe_sent_ms + probe_period(ep, t, now);

	if (jv_timer_armed(&c->timers, i) && at > c->timers.at[i])
		jv_timer_arm(&c->timers, i, at);
}

/* ---- the data-path watch (issue 11) ----
 *
 * While inner packets go out on the active transport, a silent path shows
 * in the data before the heartbeats time out. Nothing heard on it for
 * data_silence_after() since the first packet sent after the last thing
 * heard raises suspicion: DATA_PROBES heartbeats go out on it a
 * data_probe_gap() apart, and the standbys are probed at once so a backup
 * has a fresh record. Nothing heard by the last gap's end is death,
 * data_path_silent. Anything heard ends the watch (a one-way flow hears
 * the heartbeat acks); an idle session never starts one, so heartbeats
 * alone judge it, as before. */

#define DATA_PROBES 3

/* max(data_silence_rtts x SRTT, floor): how long data goes unanswered
 * before suspicion. */
static uint64_t data_silence_after(const struct jv_endpoint *ep, int t)
{
	const struct jv_policy *p = &ep->policy;
	uint64_t w = (uint64_t)p->data_silence_rtts *
		     ep->u.c.tr[t].health.srtt_ms;

	return w > p->data_silence_floor_ms ? w : p->data_silence_floor_ms;
}

/* The suspicion probes go out a gap apart; the last one has a gap to be
 * answered. The whole bound is max(DATA_PROBES x SRTT, 2 x the RTT p95,
 * floor): one lost probe, or a round trip slower than the average, is
 * not death. */
static uint64_t data_probe_gap(const struct jv_endpoint *ep, int t)
{
	const struct jv_health *h = &ep->u.c.tr[t].health;
	uint64_t b = ep->policy.data_silence_floor_ms;

	if ((uint64_t)DATA_PROBES * h->srtt_ms > b)
		b = (uint64_t)DATA_PROBES * h->srtt_ms;
	if (2ull * jv_health_rtt_p95(h) > b)
		b = 2ull * jv_health_rtt_p95(h);
	return (b + DATA_PROBES - 1) / DATA_PROBES;
}

static void data_watch_reset(struct jv_endpoint *ep)
{
	struct jv_client *c = &ep->u.c;

	c->data_unanswered_ms = NEVER;
	c->data_probes = 0;
	c->data_silent = false;
	jv_timer_cancel(&c->timers, CT_DATA_SILENCE);
}

/* An inner packet went out on t: the watch starts if t is the active
 * transport, none runs, and t has an RTT sample (before one, nothing says
 * how long an answer may take: a path slower than the floor would die
 * right after the handshake). */
static void data_sent_on(struct jv_endpoint *ep, int t, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	if (c->s.state != JV_STATE_ATTACHED || t != c->active ||
	    !ep->policy.data_silence_rtts || c->data_unanswered_ms != NEVER ||
	    c->tr[t].health.rtt_count == 0)
		return;
	c->data_unanswered_ms = now;
	jv_timer_arm(&c->timers, CT_DATA_SILENCE,
		     now + data_silence_after(ep, t));
}

static void data_heard_on(struct jv_endpoint *ep, int t)
{
	struct jv_client *c = &ep->u.c;

	if (t == c->active && c->data_unanswered_ms != NEVER)
		data_watch_reset(ep);
}

/* The policy changed: a watch not yet suspicious waits the new time. */
static void data_watch_changed(struct jv_endpoint *ep)
{
	struct jv_client *c = &ep->u.c;

	if (!ep->policy.data_silence_rtts || c->active < 0)
		data_watch_reset(ep);
	else if (c->data_unanswered_ms != NEVER && c->data_probes == 0)
		jv_timer_arm(&c->timers, CT_DATA_SILENCE,
			     c->data_unanswered_ms +
				     data_silence_after(ep, c->active));
}

static void data_silence_due(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	int t = c->active;
	struct jv_ctrl m = { .type = JV_CTRL_HEARTBEAT };
	struct jv_path path;

	if (c->s.state != JV_STATE_ATTACHED || t < 0 ||
	    c->data_unanswered_ms == NEVER) {
		data_watch_reset(ep);
		return;
	}
	if (c->data_probes >= DATA_PROBES) {
		/* confirmed: evaluate() makes it the transport's death */
		jv_timer_cancel(&c->timers, CT_DATA_SILENCE);
		c->data_silent = true;
		return;
	}
	if (c->data_probes == 0) {
		/* the standbys at once, unless probed within a heartbeat
		 * interval: a one-way flow raises suspicion every few round
		 * trips, and standbys may be metered */
		for (uint32_t i = 0; i < c->ntr; i++)
			if ((int)i != t && probed(c, (int)i, t) &&
			    c->tr[i].probe_sent_ms +
					    ep->policy.heartbeat_interval_ms <=
				    now)
				probe_due(ep, (int)i, now);
	}
	/* not in the health record: the heartbeats' loss and drop counts
	 * stay theirs; any answer (anything heard) ends the watch */
	m.u.hb.seq = ++c->hb_seq;
	path = tpath(c, t);
	jv_send_ctrl(ep, &c->s, &path, &m);
	c->data_probes++;
	jv_timer_arm(&c->timers, CT_DATA_SILENCE,
		     now + data_probe_gap(ep, t));
}

static void client_tick(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	struct jv_timers *tm = &c->timers;

	if (!c->live) {
		if (jv_timer_due(tm, CT_RECONNECT, now))
			new_session(ep, now);
		return;
	}
	if (jv_timer_due(tm, CT_LIFETIME, now)) {
		terminate(ep, JV_R_SESSION_LIFETIME_EXCEEDED, now);
		return;
	}
	if (jv_timer_due(tm, CT_TRANSPORT_TTL, now)) {
		terminate(ep, JV_R_TRANSPORT_TTL_EXCEEDED, now);
		return;
	}
	if (c->s.state == JV_STATE_BIRTH) {
		if (jv_timer_due(tm, CT_HS_GIVEUP, now))
			handshake_failed(ep, now);
		else if (jv_timer_due(tm, CT_HS_RETRY, now))
			handshake_retry(ep, now);
		return;
	}
	if (jv_timer_due(tm, CT_REKEY, now))
		rekey_due(ep, now);
	for (uint32_t i = 0; i < c->ntr; i++) {
		if (jv_timer_due(tm, CT_PROBE_TIMEOUT + i, now))
			probe_lost(ep, (int)i, now);
		/* silence is a fact the checks below read */
		if (jv_timer_due(tm, CT_RX_SILENCE + i, now))
			silence_seen(ep, (int)i, now);
		/* so is a sample leaving a loss window: evaluate() below
		 * reads the ratio without it */
		if (jv_timer_due(tm, CT_LOSS_AGE + i, now))
			arm_loss_age(ep, (int)i, now);
	}
	standbys_checked(ep, now);
	if (jv_timer_due(tm, CT_HEARTBEAT, now))
		heartbeat_due(ep, now);
	for (uint32_t i = 0; i < c->ntr; i++)
		if (jv_timer_due(tm, CT_PROBE + i, now))
			probe_due(ep, (int)i, now);
	/* after the probes due: a suspicion probes the standbys not probed
	 * just now; a confirmed silence is read by evaluate() */
	if (jv_timer_due(tm, CT_DATA_SILENCE, now))
		data_silence_due(ep, now);
	/* the limiter may allow a switch now: evaluate() asks it */
	if (jv_timer_due(tm, CT_COOLDOWN, now))
		jv_timer_cancel(tm, CT_COOLDOWN);
	if (jv_timer_due(tm, CT_RATE_WINDOW, now))
		jv_timer_cancel(tm, CT_RATE_WINDOW);
	evaluate(ep, now);
	/* after evaluate(): an active path that is itself failing is left
	 * for its own reason, not for failback */
	if (c->live && jv_timer_due(tm, CT_FAILBACK, now))
		failback_due(ep, now);
}

static uint64_t client_deadline(const struct jv_endpoint *ep)
{
	return jv_timers_next(&ep->u.c.timers, CT__COUNT);
}

/* ---- driver facts ---- */

static void client_transport_down(struct jv_endpoint *ep, uint32_t t,
				  enum jv_reason why, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	if (t >= c->ntr)
		return;
	if (why == JV_R_LINK_DOWN) {
		c->tr[t].link_up = false;
		keepalives_changed(ep, now);
	}
	if (c->live && c->s.state == JV_STATE_ATTACHED && (int)t == c->active) {
		enter_volatile(ep, why, now);
		evaluate(ep, now);
		return;
	}
	if (c->tr[t].state != TR_DEAD)
		mark_dead(ep, (int)t, now);
	if (c->live)
		evaluate(ep, now);
}

static void client_transport_up(struct jv_endpoint *ep, uint32_t t,
				uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	if (t >= c->ntr)
		return;
	c->tr[t].link_up = true;
	/* probe it at once (a session in BIRTH schedules its probes when
	 * the handshake completes) */
	if (c->live && c->s.state != JV_STATE_BIRTH)
		jv_timer_arm(&c->timers, CT_PROBE + t, now);
	keepalives_changed(ep, now);
}

static int client_terminate(struct jv_endpoint *ep, const uint8_t *session_id,
			    enum jv_reason why, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	if (session_id && c->live &&
	    sodium_memcmp(session_id, c->s.id, 16) != 0)
		return JV_ERR_NOTFOUND;
	c->stop = true;
	if (!c->live)
		return JV_ERR_NOTFOUND;
	if (c->s.state == JV_STATE_BIRTH) {
		/* nothing to tell: the server has no keys for us yet */
		jv_session_terminate(ep, &c->s, why, NULL, now);
		c->live = false;
		session_ended(ep, now);
		return 0;
	}
	terminate(ep, why, now);
	return 0;
}

/* The operator asks for transport t now: the path any switch takes (the
 * limiter, ReattachAttempt, TransportSwitch on the ACK), from ATTACHED
 * through VOLATILE since only RECOVERING leads back to ATTACHED. The
 * contract's reason for leaving ATTACHED on a move the session did not
 * detect itself is peer_path_change: it keeps the log inside CONTRACT
 * section 1's table. */
static int client_switch(struct jv_endpoint *ep, uint32_t t, uint64_t now)
{
	struct jv_client *c = &ep->u.c;
	enum jv_state st = c->s.state;
	int r;

	if (t >= c->ntr)
		return JV_ERR_NOTFOUND;
	if (!c->live || st == JV_STATE_BIRTH || st == JV_STATE_RECOVERING)
		return JV_ERR_STATE;
	if (st == JV_STATE_ATTACHED && (int)t == c->active)
		return JV_ERR_EXISTS;
	if (!c->tr[t].link_up || c->tr[t].state == TR_DEAD)
		return JV_ERR_STATE;
	if (!allowed_proto(ep, c->tr[t].cfg.proto)) {
		emit_denied(ep, (int)t, JV_R_POLICY_DENIED, now);
		return JV_R_POLICY_DENIED;
	}
	r = jv_limiter_check(&c->limiter, &ep->policy, now);
	if (r) {
		emit_denied(ep, (int)t, r, now);
		/* a denied switch leaves a VOLATILE session DEGRADED, as any
		 * denial does; an ATTACHED one stays where it is */
		if (st == JV_STATE_VOLATILE)
			step(ep, (enum jv_reason)r, NULL, now);
		return r;
	}
	if (st == JV_STATE_ATTACHED) {
		set_tr_state(ep, c->active, TR_STANDBY, now);
		c->last_active = c->active;
		c->active = -1;
		c->volatile_cause = JV_R_PEER_PATH_CHANGE;
		if (!step(ep, JV_R_PEER_PATH_CHANGE, NULL, now))
			return JV_ERR_STATE;
	}
	start_reattach(ep, (int)t, (int)t == c->last_active
					   ? JV_R_HEALTH_RECOVERED
					   : JV_R_SWITCH_INITIATED, now);
	return 0;
}

static int client_init(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	(void)now;
	if (ep->cfg.ntransports == 0 || ep->cfg.ntransports > JV_MAX_TRANSPORTS)
		return JV_ERR_INVAL;
	memset(c, 0, sizeof(*c));
	c->ntr = ep->cfg.ntransports;
	for (uint32_t i = 0; i < c->ntr; i++) {
		c->tr[i].cfg = ep->cfg.transports[i];
		c->tr[i].link_up = true;
		c->tr[i].healthy_since_ms = NEVER;
		jv_health_init(&c->tr[i].health);
	}
	c->active = c->last_active = c->candidate = -1;
	jv_timers_init(&c->timers);
	data_watch_reset(ep);
	c->s.state = JV_STATE_TERMINATED;
	jv_cookie_keys_init(&c->ck, ep->cfg.server_public_key);
	return 0;
}

static void client_start(struct jv_endpoint *ep, uint64_t now)
{
	struct jv_client *c = &ep->u.c;

	if (!c->live)
		new_session(ep, now);
}

static void client_free(struct jv_endpoint *ep)
{
	struct jv_client *c = &ep->u.c;

	hs_wipe_all(c);
	jv_keys_wipe(&c->s.keys);
}

const struct jv_half jv_client_half = {
	.init = client_init,
	.free = client_free,
	.start = client_start,
	.handshake_type = JV_MSG_HS_RESP,
	.recv_handshake = on_hs_resp,
	.recv_cookie = on_cookie_reply,
	.recv_sealed = on_sealed,
	.send_inner = client_send_inner,
	.tick = client_tick,
	.deadline = client_deadline,
	.transport_down = client_transport_down,
	.transport_up = client_transport_up,
	.terminate = client_terminate,
	.switch_to = client_switch,
	.policy_changed = client_policy_changed,
};
