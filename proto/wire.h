/* Every jvpn wire message and protocol constant (docs/protocol.md explains
 * them). All integers are little-endian. Decoders take explicit lengths and
 * reject the first inconsistency; nothing is cast from the buffer. */
#ifndef JV_WIRE_H
#define JV_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/noise.h"

#define JV_PROLOGUE "jvpn/1"

enum jv_msg_type {
	JV_MSG_HS_INIT = 1,
	JV_MSG_HS_RESP = 2,
	JV_MSG_DATA = 3,
	JV_MSG_CONTROL = 4,
};

enum jv_ctrl_type {
	JV_CTRL_HEARTBEAT = 1,
	JV_CTRL_HEARTBEAT_ACK = 2,
	JV_CTRL_PROBE = 3,
	JV_CTRL_PROBE_ACK = 4,
	JV_CTRL_REATTACH_REQ = 5,
	JV_CTRL_REATTACH_ACK = 6,
	JV_CTRL_REATTACH_DENY = 7,
	JV_CTRL_TERMINATE = 8,
	/* path validation (QUIC's, RFC 9000 section 8.2): the server moves a
	 * binding only once the client answers a challenge on the new path */
	JV_CTRL_PATH_CHALLENGE = 9,
	JV_CTRL_PATH_RESPONSE = 10,
	JV_CTRL__LAST = JV_CTRL_PATH_RESPONSE,
};

#define JV_TID_MAX 32             /* transport id, bytes, incl. no NUL */
#define JV_INNER_MAX 1500         /* largest inner packet (TUN MTU bound) */
#define JV_TAG_LEN 16
#define JV_HDR_LEN 16             /* data and control header */
#define JV_WIRE_MAX (JV_HDR_LEN + JV_INNER_MAX + JV_TAG_LEN)

/* HS_INIT: type(1) rsv(3) sender_index(4) noise_msg1(96 + payload) */
#define JV_HS_INIT_PAYLOAD (16 + 16 + 8 + 1 + 1 + JV_TID_MAX)
#define JV_HS_INIT_LEN (8 + JV_NOISE_MSG1_OVERHEAD + JV_HS_INIT_PAYLOAD)
/* HS_RESP: type(1) rsv(3) sender_index(4) receiver_index(4) noise_msg2 */
#define JV_HS_RESP_PAYLOAD 16
#define JV_HS_RESP_LEN (12 + JV_NOISE_MSG2_OVERHEAD + JV_HS_RESP_PAYLOAD)

/* A transport id with its protocol, as carried in HS_INIT and REATTACH_REQ. */
struct jv_wire_tid {
	uint8_t proto;            /* JV_PROTO_UDP or JV_PROTO_TCP */
	uint8_t len;              /* 1..JV_TID_MAX */
	char id[JV_TID_MAX + 1];  /* NUL-terminated copy */
};

/* The encrypted payload of HS_INIT. */
struct jv_hs_init_payload {
	uint8_t session_id[16];
	uint8_t prev_session_id[16];   /* zero when none */
	uint64_t timestamp_ms;         /* initiator's clock; must increase */
	struct jv_wire_tid tid;
};

/* Header shared by DATA (subtype = 0, epoch = key epoch) and CONTROL
 * (subtype = enum jv_ctrl_type, epoch = 0). It is the AEAD's AD. */
struct jv_hdr {
	uint8_t type;
	uint8_t subtype;
	uint16_t epoch;
	uint32_t receiver_index;
	uint64_t counter;
};

/* Control bodies (plaintext, inside the AEAD). */
struct jv_ctrl {
	uint8_t type;
	union {
		/* HEARTBEAT(_ACK), PROBE(_ACK); flags only on HEARTBEAT_ACK */
		struct { uint32_t seq; uint8_t flags; } hb;
		struct {
			uint8_t session_id[16];
			uint64_t counter;        /* must equal the header counter */
			uint64_t timestamp_ms;   /* initiator's session age */
			uint32_t attach_epoch;   /* successful attachments so far */
			struct jv_wire_tid tid;  /* the candidate transport */
		} req;
		struct { uint64_t req_counter; uint32_t attach_epoch; } ack;
		struct { uint64_t req_counter; uint8_t reason; } deny;
		struct { uint8_t reason; } term;
		/* PATH_CHALLENGE, PATH_RESPONSE: the request being validated
		 * and the server's random token, echoed */
		struct { uint64_t req_counter; uint8_t token[8]; } path;
	} u;
};

#define JV_CTRL_MAX_BODY 80

/* HEARTBEAT_ACK flag: the server holds no binding for this session (it saw
 * the path go silent); the client must reattach to be ATTACHED again. */
#define JV_HB_REATTACH_NEEDED 0x01

/* Message type of a datagram, or 0 if too short / unknown. */
int jv_wire_type(const uint8_t *buf, size_t len);

int jv_hdr_encode(const struct jv_hdr *h, uint8_t out[JV_HDR_LEN]);
int jv_hdr_decode(struct jv_hdr *h, const uint8_t *buf, size_t len);

int jv_hs_init_payload_encode(const struct jv_hs_init_payload *p,
			      uint8_t out[JV_HS_INIT_PAYLOAD]);
int jv_hs_init_payload_decode(struct jv_hs_init_payload *p,
			      const uint8_t *buf, size_t len);

/* Encodes a control body; returns its length or a negative error. */
int jv_ctrl_encode(const struct jv_ctrl *c, uint8_t *out, size_t cap);
/* Decodes body of the given control type (from the header subtype). */
int jv_ctrl_decode(struct jv_ctrl *c, uint8_t type, const uint8_t *buf,
		   size_t len);

/* Validates and copies a transport id (printable ASCII [A-Za-z0-9._:-]). */
int jv_wire_tid_set(struct jv_wire_tid *t, uint8_t proto, const char *id);

static inline void jv_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void jv_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline void jv_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static inline uint16_t jv_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}
static inline uint32_t jv_get_le32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 3; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}
static inline uint64_t jv_get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

#endif
