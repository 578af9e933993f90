#include "proto/wire.h"

#include <string.h>

#include "core/err.h"

int jv_wire_type(const uint8_t *buf, size_t len)
{
	if (len < 1)
		return 0;
	switch (buf[0]) {
	case JV_MSG_HS_INIT:
		return len == JV_HS_INIT_LEN ? JV_MSG_HS_INIT : 0;
	case JV_MSG_HS_RESP:
		return len == JV_HS_RESP_LEN ? JV_MSG_HS_RESP : 0;
	case JV_MSG_COOKIE_REPLY:
		return len == JV_COOKIE_REPLY_LEN ? JV_MSG_COOKIE_REPLY : 0;
	case JV_MSG_DATA:
	case JV_MSG_CONTROL:
		return len >= JV_HDR_LEN + JV_TAG_LEN && len <= JV_WIRE_MAX
			       ? buf[0] : 0;
	default:
		return 0;
	}
}

int jv_hdr_encode(const struct jv_hdr *h, uint8_t out[JV_HDR_LEN])
{
	out[0] = h->type;
	out[1] = h->subtype;
	jv_put_le16(out + 2, h->epoch);
	jv_put_le32(out + 4, h->receiver_index);
	jv_put_le64(out + 8, h->counter);
	return JV_HDR_LEN;
}

int jv_hdr_decode(struct jv_hdr *h, const uint8_t *buf, size_t len)
{
	if (len < JV_HDR_LEN + JV_TAG_LEN)
		return JV_ERR_SHORT;
	if (buf[0] != JV_MSG_DATA && buf[0] != JV_MSG_CONTROL)
		return JV_ERR_INVAL;
	h->type = buf[0];
	h->subtype = buf[1];
	h->epoch = jv_get_le16(buf + 2);
	h->receiver_index = jv_get_le32(buf + 4);
	h->counter = jv_get_le64(buf + 8);
	if (h->type == JV_MSG_DATA && h->subtype != 0)
		return JV_ERR_INVAL;
	if (h->type == JV_MSG_CONTROL &&
	    (h->subtype < JV_CTRL_HEARTBEAT ||
	     h->subtype > JV_CTRL__LAST))
		return JV_ERR_INVAL;
	return JV_OK;
}

int jv_hs_hdr_encode(const struct jv_hs_hdr *h, uint8_t *out, size_t cap)
{
	size_t n;

	if (h->type == JV_MSG_HS_INIT)
		n = JV_HS_INIT_HDR_LEN;
	else if (h->type == JV_MSG_HS_RESP)
		n = JV_HS_RESP_HDR_LEN;
	else
		return JV_ERR_INVAL;
	if (cap < n)
		return JV_ERR_SHORT;
	out[0] = h->type;
	out[1] = out[2] = out[3] = 0;
	jv_put_le32(out + 4, h->sender_index);
	if (h->type == JV_MSG_HS_RESP)
		jv_put_le32(out + 8, h->receiver_index);
	return (int)n;
}

int jv_hs_hdr_decode(struct jv_hs_hdr *h, const uint8_t *buf, size_t len)
{
	if (len < 1)
		return JV_ERR_SHORT;
	if (buf[0] != JV_MSG_HS_INIT && buf[0] != JV_MSG_HS_RESP)
		return JV_ERR_INVAL;
	if (len != (buf[0] == JV_MSG_HS_INIT ? JV_HS_INIT_LEN : JV_HS_RESP_LEN))
		return JV_ERR_SHORT;
	h->type = buf[0];
	h->sender_index = jv_get_le32(buf + 4);
	h->receiver_index =
		h->type == JV_MSG_HS_RESP ? jv_get_le32(buf + 8) : 0;
	return JV_OK;
}

int jv_cookie_reply_encode(const struct jv_cookie_reply *r, uint8_t *out,
			   size_t cap)
{
	if (cap < JV_COOKIE_REPLY_LEN)
		return JV_ERR_SHORT;
	out[0] = JV_MSG_COOKIE_REPLY;
	out[1] = out[2] = out[3] = 0;
	jv_put_le32(out + 4, r->receiver_index);
	memcpy(out + 8, r->nonce, JV_COOKIE_NONCE_LEN);
	memcpy(out + 8 + JV_COOKIE_NONCE_LEN, r->sealed, sizeof(r->sealed));
	return JV_COOKIE_REPLY_LEN;
}

int jv_cookie_reply_decode(struct jv_cookie_reply *r, const uint8_t *buf,
			   size_t len)
{
	if (len < 1)
		return JV_ERR_SHORT;
	if (buf[0] != JV_MSG_COOKIE_REPLY)
		return JV_ERR_INVAL;
	if (len != JV_COOKIE_REPLY_LEN)
		return JV_ERR_SHORT;
	r->receiver_index = jv_get_le32(buf + 4);
	memcpy(r->nonce, buf + 8, JV_COOKIE_NONCE_LEN);
	memcpy(r->sealed, buf + 8 + JV_COOKIE_NONCE_LEN, sizeof(r->sealed));
	return JV_OK;
}

/* A reason added to enum jv_reason needs a wire code (and a case below,
 * which -Wswitch asks for): the two enums grow together. */
_Static_assert((int)JV_WR__COUNT == (int)JV_R__COUNT,
	       "every enum jv_reason has a wire code");
_Static_assert(JV_WR__COUNT <= 256, "a reason code is one byte");

uint8_t jv_reason_to_wire(enum jv_reason r)
{
	switch (r) {
	case JV_R_NONE: return JV_WR_NONE;
	case JV_R_HANDSHAKE_OK: return JV_WR_HANDSHAKE_OK;
	case JV_R_HANDSHAKE_FAILED: return JV_WR_HANDSHAKE_FAILED;
	case JV_R_TRANSPORT_DEAD: return JV_WR_TRANSPORT_DEAD;
	case JV_R_LINK_DOWN: return JV_WR_LINK_DOWN;
	case JV_R_HEARTBEAT_TIMEOUT: return JV_WR_HEARTBEAT_TIMEOUT;
	case JV_R_LOSS_THRESHOLD_EXCEEDED: return JV_WR_LOSS_THRESHOLD_EXCEEDED;
	case JV_R_CONSECUTIVE_DROP_EXCEEDED: return JV_WR_CONSECUTIVE_DROP_EXCEEDED;
	case JV_R_LATENCY_THRESHOLD_EXCEEDED: return JV_WR_LATENCY_THRESHOLD_EXCEEDED;
	case JV_R_PEER_PATH_CHANGE: return JV_WR_PEER_PATH_CHANGE;
	case JV_R_SWITCH_INITIATED: return JV_WR_SWITCH_INITIATED;
	case JV_R_HEALTH_RECOVERED: return JV_WR_HEALTH_RECOVERED;
	case JV_R_REATTACH_SUCCESS: return JV_WR_REATTACH_SUCCESS;
	case JV_R_REATTACH_VALIDATION_FAILED: return JV_WR_REATTACH_VALIDATION_FAILED;
	case JV_R_RECOVERY_WINDOW_EXPIRED: return JV_WR_RECOVERY_WINDOW_EXPIRED;
	case JV_R_NO_VIABLE_TRANSPORT: return JV_WR_NO_VIABLE_TRANSPORT;
	case JV_R_VOLATILE_PERSISTED: return JV_WR_VOLATILE_PERSISTED;
	case JV_R_SWITCH_RATE_LIMITED: return JV_WR_SWITCH_RATE_LIMITED;
	case JV_R_COOLDOWN_ACTIVE: return JV_WR_COOLDOWN_ACTIVE;
	case JV_R_POLICY_DENIED: return JV_WR_POLICY_DENIED;
	case JV_R_SESSION_LIFETIME_EXCEEDED: return JV_WR_SESSION_LIFETIME_EXCEEDED;
	case JV_R_TRANSPORT_TTL_EXCEEDED: return JV_WR_TRANSPORT_TTL_EXCEEDED;
	case JV_R_SECURITY_FAILURE: return JV_WR_SECURITY_FAILURE;
	case JV_R_OPERATOR_TERMINATED: return JV_WR_OPERATOR_TERMINATED;
	case JV_R_PEER_TERMINATED: return JV_WR_PEER_TERMINATED;
	case JV_R_NO_VALID_CANDIDATE: return JV_WR_NO_VALID_CANDIDATE;
	case JV_R_UNKNOWN_SESSION: return JV_WR_UNKNOWN_SESSION;
	case JV_R_INVALID_STATE_FOR_REATTACH: return JV_WR_INVALID_STATE_FOR_REATTACH;
	case JV_R_SESSION_EXPIRED: return JV_WR_SESSION_EXPIRED;
	case JV_R_BAD_PROOF: return JV_WR_BAD_PROOF;
	case JV_R_REPLAY_DETECTED: return JV_WR_REPLAY_DETECTED;
	case JV_R_STALE_REQUEST: return JV_WR_STALE_REQUEST;
	case JV_R_INVALID_TRANSPORT_CANDIDATE: return JV_WR_INVALID_TRANSPORT_CANDIDATE;
	case JV_R_STALE_STATE_VERSION: return JV_WR_STALE_STATE_VERSION;
	case JV_R_RATE_LIMITED: return JV_WR_RATE_LIMITED;
	case JV_R_INVALID_TRANSITION: return JV_WR_INVALID_TRANSITION;
	case JV_R_TIME_ELAPSED: return JV_WR_TIME_ELAPSED;
	case JV_R_REATTACH_ACCEPTED: return JV_WR_REATTACH_ACCEPTED;
	case JV_R_POLICY_VALID: return JV_WR_POLICY_VALID;
	case JV_R_POLICY_INVALID: return JV_WR_POLICY_INVALID;
	case JV_R_BAD_HANDSHAKE: return JV_WR_BAD_HANDSHAKE;
	case JV_R_HANDSHAKE_REPLAY: return JV_WR_HANDSHAKE_REPLAY;
	case JV_R_SESSION_REPLACED: return JV_WR_SESSION_REPLACED;
	case JV_R_BAD_DATA_KEY: return JV_WR_BAD_DATA_KEY;
	case JV_R_INNER_SOURCE_NOT_ALLOWED: return JV_WR_INNER_SOURCE_NOT_ALLOWED;
	case JV_R_FAILBACK: return JV_WR_FAILBACK;
	case JV_R_DATA_PATH_SILENT: return JV_WR_DATA_PATH_SILENT;
	case JV_R__COUNT: break;
	}
	return JV_WR_NONE;
}

static const enum jv_reason reason_of_code[JV_WR__COUNT] = {
	[JV_WR_NONE] = JV_R_NONE,
	[JV_WR_HANDSHAKE_OK] = JV_R_HANDSHAKE_OK,
	[JV_WR_HANDSHAKE_FAILED] = JV_R_HANDSHAKE_FAILED,
	[JV_WR_TRANSPORT_DEAD] = JV_R_TRANSPORT_DEAD,
	[JV_WR_LINK_DOWN] = JV_R_LINK_DOWN,
	[JV_WR_HEARTBEAT_TIMEOUT] = JV_R_HEARTBEAT_TIMEOUT,
	[JV_WR_LOSS_THRESHOLD_EXCEEDED] = JV_R_LOSS_THRESHOLD_EXCEEDED,
	[JV_WR_CONSECUTIVE_DROP_EXCEEDED] = JV_R_CONSECUTIVE_DROP_EXCEEDED,
	[JV_WR_LATENCY_THRESHOLD_EXCEEDED] = JV_R_LATENCY_THRESHOLD_EXCEEDED,
	[JV_WR_PEER_PATH_CHANGE] = JV_R_PEER_PATH_CHANGE,
	[JV_WR_SWITCH_INITIATED] = JV_R_SWITCH_INITIATED,
	[JV_WR_HEALTH_RECOVERED] = JV_R_HEALTH_RECOVERED,
	[JV_WR_REATTACH_SUCCESS] = JV_R_REATTACH_SUCCESS,
	[JV_WR_REATTACH_VALIDATION_FAILED] = JV_R_REATTACH_VALIDATION_FAILED,
	[JV_WR_RECOVERY_WINDOW_EXPIRED] = JV_R_RECOVERY_WINDOW_EXPIRED,
	[JV_WR_NO_VIABLE_TRANSPORT] = JV_R_NO_VIABLE_TRANSPORT,
	[JV_WR_VOLATILE_PERSISTED] = JV_R_VOLATILE_PERSISTED,
	[JV_WR_SWITCH_RATE_LIMITED] = JV_R_SWITCH_RATE_LIMITED,
	[JV_WR_COOLDOWN_ACTIVE] = JV_R_COOLDOWN_ACTIVE,
	[JV_WR_POLICY_DENIED] = JV_R_POLICY_DENIED,
	[JV_WR_SESSION_LIFETIME_EXCEEDED] = JV_R_SESSION_LIFETIME_EXCEEDED,
	[JV_WR_TRANSPORT_TTL_EXCEEDED] = JV_R_TRANSPORT_TTL_EXCEEDED,
	[JV_WR_SECURITY_FAILURE] = JV_R_SECURITY_FAILURE,
	[JV_WR_OPERATOR_TERMINATED] = JV_R_OPERATOR_TERMINATED,
	[JV_WR_PEER_TERMINATED] = JV_R_PEER_TERMINATED,
	[JV_WR_NO_VALID_CANDIDATE] = JV_R_NO_VALID_CANDIDATE,
	[JV_WR_UNKNOWN_SESSION] = JV_R_UNKNOWN_SESSION,
	[JV_WR_INVALID_STATE_FOR_REATTACH] = JV_R_INVALID_STATE_FOR_REATTACH,
	[JV_WR_SESSION_EXPIRED] = JV_R_SESSION_EXPIRED,
	[JV_WR_BAD_PROOF] = JV_R_BAD_PROOF,
	[JV_WR_REPLAY_DETECTED] = JV_R_REPLAY_DETECTED,
	[JV_WR_STALE_REQUEST] = JV_R_STALE_REQUEST,
	[JV_WR_INVALID_TRANSPORT_CANDIDATE] = JV_R_INVALID_TRANSPORT_CANDIDATE,
	[JV_WR_STALE_STATE_VERSION] = JV_R_STALE_STATE_VERSION,
	[JV_WR_RATE_LIMITED] = JV_R_RATE_LIMITED,
	[JV_WR_INVALID_TRANSITION] = JV_R_INVALID_TRANSITION,
	[JV_WR_TIME_ELAPSED] = JV_R_TIME_ELAPSED,
	[JV_WR_REATTACH_ACCEPTED] = JV_R_REATTACH_ACCEPTED,
	[JV_WR_POLICY_VALID] = JV_R_POLICY_VALID,
	[JV_WR_POLICY_INVALID] = JV_R_POLICY_INVALID,
	[JV_WR_BAD_HANDSHAKE] = JV_R_BAD_HANDSHAKE,
	[JV_WR_HANDSHAKE_REPLAY] = JV_R_HANDSHAKE_REPLAY,
	[JV_WR_SESSION_REPLACED] = JV_R_SESSION_REPLACED,
	[JV_WR_BAD_DATA_KEY] = JV_R_BAD_DATA_KEY,
	[JV_WR_INNER_SOURCE_NOT_ALLOWED] = JV_R_INNER_SOURCE_NOT_ALLOWED,
	[JV_WR_FAILBACK] = JV_R_FAILBACK,
	[JV_WR_DATA_PATH_SILENT] = JV_R_DATA_PATH_SILENT,
};

int jv_reason_from_wire(uint8_t code, enum jv_reason *r)
{
	if (code >= JV_WR__COUNT)
		return JV_ERR_INVAL;
	*r = reason_of_code[code];
	return JV_OK;
}

int jv_wire_tid_set(struct jv_wire_tid *t, uint8_t proto, const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > JV_TID_MAX)
		return JV_ERR_INVAL;
	if (proto != JV_WIRE_PROTO_UDP && proto != JV_WIRE_PROTO_TCP)
		return JV_ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == ':' || c == '-'))
			return JV_ERR_INVAL;
	}
	t->proto = proto;
	t->len = (uint8_t)n;
	memcpy(t->id, id, n);
	t->id[n] = '\0';
	return JV_OK;
}

/* proto(1) len(1) id(JV_TID_MAX, zero padded) */
#define TID_WIRE_LEN (2 + JV_TID_MAX)

static void tid_encode(const struct jv_wire_tid *t, uint8_t *out)
{
	out[0] = t->proto;
	out[1] = t->len;
	memset(out + 2, 0, JV_TID_MAX);
	memcpy(out + 2, t->id, t->len);
}

static int tid_decode(struct jv_wire_tid *t, const uint8_t *in)
{
	char id[JV_TID_MAX + 1];

	if (in[1] == 0 || in[1] > JV_TID_MAX)
		return JV_ERR_INVAL;
	for (size_t i = in[1]; i < JV_TID_MAX; i++)
		if (in[2 + i] != 0)
			return JV_ERR_INVAL;
	memcpy(id, in + 2, in[1]);
	id[in[1]] = '\0';
	if (memchr(id, '\0', in[1]))
		return JV_ERR_INVAL;
	return jv_wire_tid_set(t, in[0], id);
}

int jv_hs_init_payload_encode(const struct jv_hs_init_payload *p,
			      uint8_t out[JV_HS_INIT_PAYLOAD])
{
	memcpy(out, p->session_id, 16);
	memcpy(out + 16, p->prev_session_id, 16);
	jv_put_le64(out + 32, p->timestamp_ms);
	tid_encode(&p->tid, out + 40);
	return JV_HS_INIT_PAYLOAD;
}

int jv_hs_init_payload_decode(struct jv_hs_init_payload *p,
			      const uint8_t *buf, size_t len)
{
	if (len != JV_HS_INIT_PAYLOAD)
		return JV_ERR_SHORT;
	memcpy(p->session_id, buf, 16);
	memcpy(p->prev_session_id, buf + 16, 16);
	p->timestamp_ms = jv_get_le64(buf + 32);
	return tid_decode(&p->tid, buf + 40);
}

static size_t ctrl_len(uint8_t type)
{
	switch (type) {
	case JV_CTRL_HEARTBEAT:
	case JV_CTRL_PROBE:
	case JV_CTRL_PROBE_ACK:
		return 4;
	case JV_CTRL_HEARTBEAT_ACK:
		return 5;
	case JV_CTRL_REATTACH_REQ:
		return 16 + 8 + 8 + 4 + TID_WIRE_LEN;
	case JV_CTRL_REATTACH_ACK:
		return 8 + 4;
	case JV_CTRL_REATTACH_DENY:
		return 8 + 1;
	case JV_CTRL_TERMINATE:
		return 1;
	case JV_CTRL_PATH_CHALLENGE:
	case JV_CTRL_PATH_RESPONSE:
		return 8 + 8;
	default:
		return 0;
	}
}

int jv_ctrl_encode(const struct jv_ctrl *c, uint8_t *out, size_t cap)
{
	size_t n = ctrl_len(c->type);

	if (n == 0)
		return JV_ERR_INVAL;
	if (cap < n)
		return JV_ERR_SHORT;
	switch (c->type) {
	case JV_CTRL_HEARTBEAT:
	case JV_CTRL_HEARTBEAT_ACK:
	case JV_CTRL_PROBE:
	case JV_CTRL_PROBE_ACK:
		jv_put_le32(out, c->u.hb.seq);
		if (c->type == JV_CTRL_HEARTBEAT_ACK)
			out[4] = c->u.hb.flags;
		break;
	case JV_CTRL_REATTACH_REQ:
		memcpy(out, c->u.req.session_id, 16);
		jv_put_le64(out + 16, c->u.req.counter);
		jv_put_le64(out + 24, c->u.req.timestamp_ms);
		jv_put_le32(out + 32, c->u.req.attach_epoch);
		tid_encode(&c->u.req.tid, out + 36);
		break;
	case JV_CTRL_REATTACH_ACK:
		jv_put_le64(out, c->u.ack.req_counter);
		jv_put_le32(out + 8, c->u.ack.attach_epoch);
		break;
	case JV_CTRL_REATTACH_DENY:
		jv_put_le64(out, c->u.deny.req_counter);
		out[8] = c->u.deny.reason;
		break;
	case JV_CTRL_TERMINATE:
		out[0] = c->u.term.reason;
		break;
	case JV_CTRL_PATH_CHALLENGE:
	case JV_CTRL_PATH_RESPONSE:
		jv_put_le64(out, c->u.path.req_counter);
		memcpy(out + 8, c->u.path.token, 8);
		break;
	}
	return (int)n;
}

int jv_ctrl_decode(struct jv_ctrl *c, uint8_t type, const uint8_t *buf,
		   size_t len)
{
	size_t n = ctrl_len(type);

	if (n == 0)
		return JV_ERR_INVAL;
	if (len != n)
		return JV_ERR_SHORT;
	memset(c, 0, sizeof(*c));
	c->type = type;
	switch (type) {
	case JV_CTRL_HEARTBEAT:
	case JV_CTRL_HEARTBEAT_ACK:
	case JV_CTRL_PROBE:
	case JV_CTRL_PROBE_ACK:
		c->u.hb.seq = jv_get_le32(buf);
		if (type == JV_CTRL_HEARTBEAT_ACK) {
			c->u.hb.flags = buf[4];
			if (c->u.hb.flags & ~JV_HB_REATTACH_NEEDED)
				return JV_ERR_INVAL;
		}
		break;
	case JV_CTRL_REATTACH_REQ:
		memcpy(c->u.req.session_id, buf, 16);
		c->u.req.counter = jv_get_le64(buf + 16);
		c->u.req.timestamp_ms = jv_get_le64(buf + 24);
		c->u.req.attach_epoch = jv_get_le32(buf + 32);
		return tid_decode(&c->u.req.tid, buf + 36);
	case JV_CTRL_REATTACH_ACK:
		c->u.ack.req_counter = jv_get_le64(buf);
		c->u.ack.attach_epoch = jv_get_le32(buf + 8);
		break;
	case JV_CTRL_REATTACH_DENY:
		c->u.deny.req_counter = jv_get_le64(buf);
		c->u.deny.reason = buf[8];
		break;
	case JV_CTRL_TERMINATE:
		c->u.term.reason = buf[0];
		break;
	case JV_CTRL_PATH_CHALLENGE:
	case JV_CTRL_PATH_RESPONSE:
		c->u.path.req_counter = jv_get_le64(buf);
		memcpy(c->u.path.token, buf + 8, 8);
		break;
	}
	return JV_OK;
}
