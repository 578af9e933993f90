#include "proto/wire.h"

#include <string.h>

#include "core/err.h"
#include "core/policy.h"

int jv_wire_type(const uint8_t *buf, size_t len)
{
	if (len < 1)
		return 0;
	switch (buf[0]) {
	case JV_MSG_HS_INIT:
		return len == JV_HS_INIT_LEN ? JV_MSG_HS_INIT : 0;
	case JV_MSG_HS_RESP:
		return len == JV_HS_RESP_LEN ? JV_MSG_HS_RESP : 0;
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

int jv_wire_tid_set(struct jv_wire_tid *t, uint8_t proto, const char *id)
{
	size_t n = strlen(id);

	if (n == 0 || n > JV_TID_MAX)
		return JV_ERR_INVAL;
	if (proto != JV_PROTO_UDP && proto != JV_PROTO_TCP)
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
