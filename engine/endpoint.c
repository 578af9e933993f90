/* The public endpoint API: one entry point per fact, dispatched to the
 * client or server half. */
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "core/limiter.h"
#include "engine/internal.h"

static bool is_client(const struct jv_endpoint *ep)
{
	return ep->cfg.role == JV_ROLE_CLIENT;
}

int jv_endpoint_new(const struct jv_endpoint_cfg *cfg, uint64_t now,
		    struct jv_endpoint **out)
{
	struct jv_endpoint *ep;
	uint8_t run_id[JV_RUN_ID_LEN];
	int rc;

	if (!cfg->ops.send || !cfg->ops.deliver || !cfg->ops.event ||
	    !cfg->ops.random)
		return JV_ERR_INVAL;
	if (sodium_init() < 0)
		return JV_ERR_INVAL;
	ep = calloc(1, sizeof(*ep));
	if (!ep)
		return JV_ERR_NOMEM;
	ep->cfg = *cfg;
	ep->cfg.peers = NULL;      /* copied by the server half */
	ep->half = is_client(ep) ? &jv_client_half : &jv_server_half;
	jv_lock(ep, ep, sizeof(*ep), true);
	ep->policy = cfg->policy;
	ep->started_ms = now;
	jv_sec_init(ep, now);
	crypto_scalarmult_base(ep->static_pub, cfg->private_key);
	jv_audit_init(&ep->audit, cfg->node_id, cfg->role, cfg->policy.version,
		      cfg->ops.event, cfg->ctx);
	ep->audit.ts_offset_ms = cfg->ts_offset_ms;
	/* one endpoint per daemon start: its events form one run */
	cfg->ops.random(cfg->ctx, run_id, sizeof(run_id));
	jv_audit_start_run(&ep->audit, run_id, now);
	ep->cfg.peers = cfg->peers;
	rc = ep->half->init(ep, now);
	ep->cfg.peers = NULL;
	if (rc != 0) {
		jv_endpoint_free(ep);
		return rc;
	}
	*out = ep;
	return 0;
}

void jv_endpoint_free(struct jv_endpoint *ep)
{
	void (*lock)(void *, void *, size_t, bool);
	void *ctx;

	if (!ep)
		return;
	ep->half->free(ep);
	jv_resend_free(ep);
	/* the ops live in ep: unlock through a copy */
	lock = ep->cfg.ops.lock;
	ctx = ep->cfg.ctx;
	sodium_memzero(ep, sizeof(*ep));
	if (lock)
		lock(ctx, ep, sizeof(*ep), false);
	free(ep);
}

void jv_endpoint_start(struct jv_endpoint *ep, uint64_t now)
{
	if (ep->half->start)
		ep->half->start(ep, now);
}

void jv_endpoint_recv(struct jv_endpoint *ep, const struct jv_path *path,
		      const uint8_t *buf, size_t len, uint64_t now)
{
	int type = jv_wire_type(buf, len);

	ep->stats.rx_packets++;
	ep->rx_path = path;
	if (type == JV_MSG_DATA || type == JV_MSG_CONTROL)
		ep->half->recv_sealed(ep, path, buf, len, now);
	else if (type >= 0 && type == ep->half->handshake_type)
		ep->half->recv_handshake(ep, path, buf, len, now);
	else if (type == JV_MSG_COOKIE_REPLY && ep->half->recv_cookie)
		ep->half->recv_cookie(ep, path, buf, len, now);
	else
		ep->stats.rx_dropped++;
	ep->rx_path = NULL;
	ep->ev_peer = NULL;
	sodium_memzero(ep->plain, sizeof(ep->plain));
}

int jv_endpoint_send_inner(struct jv_endpoint *ep, const uint8_t *pkt,
			   size_t len, uint64_t now)
{
	return ep->half->send_inner(ep, pkt, len, now);
}

void jv_endpoint_tick(struct jv_endpoint *ep, uint64_t now)
{
	ep->half->tick(ep, now);
}

uint64_t jv_endpoint_deadline(const struct jv_endpoint *ep)
{
	return ep->half->deadline(ep);
}

void jv_endpoint_transport_down(struct jv_endpoint *ep, uint32_t transport,
				enum jv_reason reason, uint64_t now)
{
	if (ep->half->transport_down)
		ep->half->transport_down(ep, transport, reason, now);
}

void jv_endpoint_transport_up(struct jv_endpoint *ep, uint32_t transport,
			      uint64_t now)
{
	if (ep->half->transport_up)
		ep->half->transport_up(ep, transport, now);
}

int jv_endpoint_terminate(struct jv_endpoint *ep, const uint8_t *session_id,
			  enum jv_reason reason, uint64_t now)
{
	return ep->half->terminate(ep, session_id, reason, now);
}

int jv_endpoint_switch(struct jv_endpoint *ep, uint32_t transport,
		       uint64_t now)
{
	if (!ep->half->switch_to)
		return JV_ERR_STATE;
	return ep->half->switch_to(ep, transport, now);
}

int jv_endpoint_set_peers(struct jv_endpoint *ep,
			  const struct jv_peer_cfg *peers, uint32_t n,
			  uint64_t now)
{
	if (!ep->half->set_peers)
		return JV_ERR_STATE;
	return ep->half->set_peers(ep, peers, n, now);
}

static void policy_event(struct jv_endpoint *ep, const char *type,
			 enum jv_reason why, const char *detail, uint64_t now)
{
	struct jv_json *w = jv_ev_begin(ep, now, type, NULL);

	jv_json_str(w, "reason_code", jv_reason_name(why));
	jv_json_str(w, "detail", detail);
	jv_ev_end(ep);
}

void jv_endpoint_set_policy(struct jv_endpoint *ep, const struct jv_policy *p,
			    uint64_t now)
{
	char detail[64];

	ep->policy = *p;
	/* a store of another size starts empty */
	jv_resend_policy_changed(ep);
	if (ep->half->policy_changed)
		ep->half->policy_changed(ep, now);
	memcpy(ep->audit.policy_version, p->version,
	       sizeof(ep->audit.policy_version));
	snprintf(detail, sizeof(detail), "policy %s in force", p->version);
	policy_event(ep, "PolicyLoaded", JV_R_POLICY_VALID, detail, now);
}

void jv_endpoint_policy_rejected(struct jv_endpoint *ep, const char *detail,
				 uint64_t now)
{
	policy_event(ep, "PolicyRejected", JV_R_POLICY_INVALID, detail, now);
}

const struct jv_policy *jv_endpoint_policy(const struct jv_endpoint *ep)
{
	return &ep->policy;
}

const char *jv_peer_name(const struct jv_endpoint *ep,
			 const struct jv_session *s)
{
	if (is_client(ep))
		return ep->cfg.node_id;
	return ep->u.s.peers[s->peer].name;
}

size_t jv_format_path(const struct jv_endpoint *ep, const struct jv_path *p,
		      char *buf, size_t cap)
{
	size_t n;

	if (!cap)
		return 0;
	buf[0] = '\0';
	if (!ep->cfg.ops.format_path)
		return 0;
	n = ep->cfg.ops.format_path(ep->cfg.ctx, p, buf, cap);
	if (n >= cap)
		n = 0;
	buf[n] = '\0';
	return n;
}

int jv_client_path_transport(const struct jv_client *c)
{
	int t = c->active >= 0 ? c->active
		: c->candidate >= 0 ? c->candidate
		: c->s.state == JV_STATE_BIRTH ? c->hs_transport
		: c->last_active;

	return t >= 0 && (uint32_t)t < c->ntr ? t : -1;
}

static void session_info(const struct jv_endpoint *ep,
			 const struct jv_session *s, const char *peer,
			 const char *transport, uint32_t switches, uint64_t now,
			 struct jv_session_info *out)
{
	memset(out, 0, sizeof(*out));
	memcpy(out->session_id, s->id, 16);
	snprintf(out->peer, sizeof(out->peer), "%s", peer);
	out->state = s->state;
	out->state_version = s->state_version;
	snprintf(out->transport, sizeof(out->transport), "%s",
		 s->state == JV_STATE_ATTACHED && transport ? transport : "");
	out->session_age_ms = now - s->created_ms;
	out->transportless_age_ms = jv_session_transportless_age(s, now);
	out->switches_last_min = switches;
	out->bytes_in = s->bytes_in;
	out->bytes_out = s->bytes_out;
	out->key_epoch = s->keys.tx_epoch;
	(void)ep;
}

bool jv_endpoint_session_next(const struct jv_endpoint *ep, uint32_t *cursor,
			      uint64_t now, struct jv_session_info *out)
{
	if (is_client(ep)) {
		const struct jv_client *c = &ep->u.c;

		if (*cursor > 0 || !c->live)
			return false;
		(*cursor)++;
		int t = jv_client_path_transport(c);

		session_info(ep, &c->s, ep->cfg.node_id,
			     c->active >= 0 ? c->tr[c->active].cfg.id : NULL,
			     jv_limiter_count(&c->limiter, now), now, out);
		if (t >= 0) {
			struct jv_path p;

			memset(&p, 0, sizeof(p));
			p.proto = c->tr[t].cfg.proto;
			p.local = (uint16_t)t;
			jv_format_path(ep, &p, out->remote, sizeof(out->remote));
			out->proto = p.proto;
		}
		return true;
	}
	const struct jv_server *sv = &ep->u.s;
	const struct jv_session *s = jv_table_next(sv->table, cursor);

	if (!s)
		return false;
	session_info(ep, s, sv->peers[s->peer].name, s->tid.id,
		     jv_session_switches_last_min(s, now), now, out);
	if (s->path.proto)
		jv_format_path(ep, &s->path, out->remote, sizeof(out->remote));
	out->proto = s->path.proto;
	return true;
}

bool jv_endpoint_transport(const struct jv_endpoint *ep, uint32_t i,
			   uint64_t now, struct jv_transport_info *out)
{
	const struct jv_client *c = &ep->u.c;
	const struct jv_ctransport *tr;
	uint32_t samples;

	if (!is_client(ep) || i >= c->ntr)
		return false;
	tr = &c->tr[i];
	memset(out, 0, sizeof(*out));
	memcpy(out->id, tr->cfg.id, sizeof(out->id));
	out->proto = tr->cfg.proto;
	out->state = tr->state == TR_ACTIVE ? "active"
		     : tr->state == TR_DEAD || !tr->link_up ? "dead"
							     : "standby";
	out->loss_ratio = jv_health_loss(&tr->health, now,
					 ep->policy.loss_window_ms, &samples);
	out->rtt_ms = tr->health.srtt_ms;
	out->last_rx_age_ms = jv_health_rx_age(&tr->health, now);
	{
		struct jv_path p;

		memset(&p, 0, sizeof(p));
		p.proto = tr->cfg.proto;
		p.local = (uint16_t)i;
		jv_format_path(ep, &p, out->remote, sizeof(out->remote));
	}
	return true;
}

enum jv_state jv_endpoint_client_state(const struct jv_endpoint *ep)
{
	if (!is_client(ep) || !ep->u.c.live)
		return JV_STATE_TERMINATED;
	return ep->u.c.s.state;
}

void jv_endpoint_stats(const struct jv_endpoint *ep,
		       struct jv_endpoint_stats *out)
{
	struct jv_session_info si;
	uint32_t cursor = 0;

	*out = ep->stats;
	memset(out->sessions_by_state, 0, sizeof(out->sessions_by_state));
	while (jv_endpoint_session_next(ep, &cursor, ep->started_ms, &si)) {
		out->sessions_by_state[si.state]++;
		/* a terminated one's bytes are in the totals already */
		if (si.state == JV_STATE_TERMINATED)
			continue;
		out->bytes_in += si.bytes_in;
		out->bytes_out += si.bytes_out;
	}
}

void jv_endpoint_resend_info(const struct jv_endpoint *ep,
			     const uint8_t *session_id,
			     struct jv_resend_info *out)
{
	const struct jv_session *s = NULL;
	uint32_t cursor = 0;

	memset(out, 0, sizeof(*out));
	out->pool_bytes = ep->resend.buf ? ep->resend.cap : 0;
	out->last_walk = ep->resend.walked;
	if (!session_id) {
		out->held_bytes = ep->resend.live;
		out->held_packets = ep->resend.nlive;
		return;
	}
	if (is_client(ep)) {
		if (ep->u.c.live && !memcmp(ep->u.c.s.id, session_id, 16))
			s = &ep->u.c.s;
	} else {
		while ((s = jv_table_next(ep->u.s.table, &cursor)) != NULL &&
		       memcmp(s->id, session_id, 16) != 0)
			;
	}
	if (s)
		out->held_bytes = jv_resend_held(ep, s->local_index,
						 &out->held_packets);
}

const char *jv_endpoint_peer_name(const struct jv_endpoint *ep, uint32_t i)
{
	if (is_client(ep) || i >= ep->u.s.npeers)
		return NULL;
	return ep->u.s.peers[i].name;
}
