/* Every jvpn wire message and protocol constant (docs/protocol.md explains
 * them). All integers in a message are little-endian; the one big-endian
 * integer is the TCP transport's length prefix (below). Decoders take
 * explicit lengths and reject the first inconsistency; nothing is cast from
 * the buffer. */
#ifndef JV_WIRE_H
#define JV_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/fsm.h"
#include "core/proto.h"
#include "proto/noise.h"

#define JV_PROLOGUE "jvpn/1"

enum jv_msg_type {
	JV_MSG_HS_INIT = 1,
	JV_MSG_HS_RESP = 2,
	JV_MSG_DATA = 3,
	JV_MSG_CONTROL = 4,
	/* the server's answer to an HS_INIT under load (docs/protocol.md,
	 * "Handshakes under load") */
	JV_MSG_COOKIE_REPLY = 5,
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

/* HS_INIT: type(1) rsv(3) sender_index(4) noise_msg1(96 + payload)
 * mac1(16) mac2(16). The MACs follow the Noise message and nothing inside
 * Noise covers them (proto/cookie.h). */
#define JV_HS_INIT_HDR_LEN 8
#define JV_HS_INIT_PAYLOAD (16 + 16 + 8 + 1 + 1 + JV_TID_MAX)
#define JV_MAC_LEN 16
#define JV_HS_INIT_MAC1_OFF \
	(JV_HS_INIT_HDR_LEN + JV_NOISE_MSG1_OVERHEAD + JV_HS_INIT_PAYLOAD)
#define JV_HS_INIT_MAC2_OFF (JV_HS_INIT_MAC1_OFF + JV_MAC_LEN)
#define JV_HS_INIT_LEN (JV_HS_INIT_MAC2_OFF + JV_MAC_LEN)
/* HS_RESP: type(1) rsv(3) sender_index(4) receiver_index(4) noise_msg2 */
#define JV_HS_RESP_HDR_LEN 12
#define JV_HS_RESP_PAYLOAD 16
#define JV_HS_RESP_LEN \
	(JV_HS_RESP_HDR_LEN + JV_NOISE_MSG2_OVERHEAD + JV_HS_RESP_PAYLOAD)

/* COOKIE_REPLY: type(1) rsv(3) receiver_index(4) nonce(24) cookie(16)
 * sealed with XChaCha20-Poly1305 (+16 tag). Smaller than the HS_INIT it
 * answers, so it cannot amplify. */
#define JV_COOKIE_LEN 16
#define JV_COOKIE_NONCE_LEN 24
#define JV_COOKIE_REPLY_LEN (8 + JV_COOKIE_NONCE_LEN + JV_COOKIE_LEN + JV_TAG_LEN)
_Static_assert(JV_COOKIE_REPLY_LEN < JV_HS_INIT_LEN,
	       "a cookie reply is smaller than what asks for it");
_Static_assert(JV_HS_RESP_LEN < JV_HS_INIT_LEN,
	       "a handshake reply is smaller than what asks for it");

struct jv_cookie_reply {
	uint32_t receiver_index;  /* the HS_INIT's sender_index */
	uint8_t nonce[JV_COOKIE_NONCE_LEN];
	uint8_t sealed[JV_COOKIE_LEN + JV_TAG_LEN];
};

/* The clear header in front of the Noise message of HS_INIT and HS_RESP.
 * The reserved bytes are sent as zero and ignored on receipt. */
struct jv_hs_hdr {
	uint8_t type;             /* JV_MSG_HS_INIT or JV_MSG_HS_RESP */
	uint32_t sender_index;    /* the sender's receiver index */
	uint32_t receiver_index;  /* HS_RESP only: the initiator's index */
};

/* The transport protocol byte of a transport id. The engine, the policy and
 * the drivers use core's names (core/proto.h, below proto/ in the layering);
 * these are the bytes they stand for on the wire. */
#define JV_WIRE_PROTO_UDP 1
#define JV_WIRE_PROTO_TCP 2
_Static_assert(JV_PROTO_UDP == JV_WIRE_PROTO_UDP &&
		       JV_PROTO_TCP == JV_WIRE_PROTO_TCP,
	       "JV_PROTO_* are the transport id's protocol byte on the wire");

/* A transport id with its protocol, as carried in HS_INIT and REATTACH_REQ. */
struct jv_wire_tid {
	uint8_t proto;            /* JV_WIRE_PROTO_UDP or JV_WIRE_PROTO_TCP */
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
		/* reason: a wire code, enum jv_wire_reason */
		struct { uint64_t req_counter; uint8_t reason; } deny;
		struct { uint8_t reason; } term;
		/* PATH_CHALLENGE, PATH_RESPONSE: the request being validated
		 * and the server's random token, echoed */
		struct { uint64_t req_counter; uint8_t token[8]; } path;
	} u;
};

#define JV_CTRL_MAX_BODY 80

/* The reason byte of REATTACH_DENY and TERMINATE. The numbers are the
 * protocol: they were the ordinals of enum jv_reason (core/fsm.h) when the
 * byte was the ordinal, and stay so whatever order that enum takes. The
 * engine converts with jv_reason_to_wire / jv_reason_from_wire. Every reason
 * has a code, though a server denies with only a few (session_expired,
 * transport_ttl_exceeded, invalid_state_for_reattach, stale_state_version,
 * policy_denied, rate_limited) and a TERMINATE carries the sender's
 * termination reason, which the receiver does not act on. A new reason
 * takes the next free number. */
enum jv_wire_reason {
	JV_WR_NONE = 0,
	JV_WR_HANDSHAKE_OK = 1,
	JV_WR_HANDSHAKE_FAILED = 2,
	JV_WR_TRANSPORT_DEAD = 3,
	JV_WR_LINK_DOWN = 4,
	JV_WR_HEARTBEAT_TIMEOUT = 5,
	JV_WR_LOSS_THRESHOLD_EXCEEDED = 6,
	JV_WR_CONSECUTIVE_DROP_EXCEEDED = 7,
	JV_WR_LATENCY_THRESHOLD_EXCEEDED = 8,
	JV_WR_PEER_PATH_CHANGE = 9,
	JV_WR_SWITCH_INITIATED = 10,
	JV_WR_HEALTH_RECOVERED = 11,
	JV_WR_REATTACH_SUCCESS = 12,
	JV_WR_REATTACH_VALIDATION_FAILED = 13,
	JV_WR_RECOVERY_WINDOW_EXPIRED = 14,
	JV_WR_NO_VIABLE_TRANSPORT = 15,
	JV_WR_VOLATILE_PERSISTED = 16,
	JV_WR_SWITCH_RATE_LIMITED = 17,
	JV_WR_COOLDOWN_ACTIVE = 18,
	JV_WR_POLICY_DENIED = 19,
	JV_WR_SESSION_LIFETIME_EXCEEDED = 20,
	JV_WR_TRANSPORT_TTL_EXCEEDED = 21,
	JV_WR_SECURITY_FAILURE = 22,
	JV_WR_OPERATOR_TERMINATED = 23,
	JV_WR_PEER_TERMINATED = 24,
	JV_WR_NO_VALID_CANDIDATE = 25,
	JV_WR_UNKNOWN_SESSION = 26,
	JV_WR_INVALID_STATE_FOR_REATTACH = 27,
	JV_WR_SESSION_EXPIRED = 28,
	JV_WR_BAD_PROOF = 29,
	JV_WR_REPLAY_DETECTED = 30,
	JV_WR_STALE_REQUEST = 31,
	JV_WR_INVALID_TRANSPORT_CANDIDATE = 32,
	JV_WR_STALE_STATE_VERSION = 33,
	JV_WR_RATE_LIMITED = 34,
	JV_WR_INVALID_TRANSITION = 35,
	JV_WR_TIME_ELAPSED = 36,
	JV_WR_REATTACH_ACCEPTED = 37,
	JV_WR_POLICY_VALID = 38,
	JV_WR_POLICY_INVALID = 39,
	JV_WR_BAD_HANDSHAKE = 40,
	JV_WR_HANDSHAKE_REPLAY = 41,
	JV_WR_SESSION_REPLACED = 42,
	JV_WR_BAD_DATA_KEY = 43,
	JV_WR_INNER_SOURCE_NOT_ALLOWED = 44,
	JV_WR_FAILBACK = 45,
	JV_WR_DATA_PATH_SILENT = 46,
	JV_WR__COUNT
};

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

/* The reason code sent for r; JV_WR_NONE for a value outside enum
 * jv_reason. */
uint8_t jv_reason_to_wire(enum jv_reason r);
/* The reason a received code stands for: JV_OK, or JV_ERR_INVAL for a code
 * this version does not know (*r untouched). */
int jv_reason_from_wire(uint8_t code, enum jv_reason *r);

/* Writes the clear header of h->type (HS_INIT or HS_RESP) into out. Returns
 * its length (JV_HS_INIT_HDR_LEN or JV_HS_RESP_HDR_LEN), JV_ERR_INVAL for
 * another type or JV_ERR_SHORT when cap is smaller. */
int jv_hs_hdr_encode(const struct jv_hs_hdr *h, uint8_t *out, size_t cap);
/* Decodes the clear header of a whole HS_INIT or HS_RESP datagram of len
 * bytes; the Noise message follows at JV_HS_INIT_HDR_LEN or
 * JV_HS_RESP_HDR_LEN. JV_OK, JV_ERR_INVAL (not a handshake type) or
 * JV_ERR_SHORT (len is not that message's length). receiver_index is 0 for
 * HS_INIT. */
int jv_hs_hdr_decode(struct jv_hs_hdr *h, const uint8_t *buf, size_t len);

/* COOKIE_REPLY: encode writes JV_COOKIE_REPLY_LEN bytes (returns that, or
 * JV_ERR_SHORT when cap is smaller); decode takes a whole datagram of
 * exactly JV_COOKIE_REPLY_LEN bytes (JV_ERR_SHORT otherwise, JV_ERR_INVAL
 * for another type). Sealing and opening are proto/cookie.h's. */
int jv_cookie_reply_encode(const struct jv_cookie_reply *r, uint8_t *out,
			   size_t cap);
int jv_cookie_reply_decode(struct jv_cookie_reply *r, const uint8_t *buf,
			   size_t len);

/* Validates and copies a transport id (printable ASCII [A-Za-z0-9._:-]). */
int jv_wire_tid_set(struct jv_wire_tid *t, uint8_t proto, const char *id);

/* The TCP transport (io/tcp.c) carries the same datagrams on one stream,
 * each as [length (JV_TCP_LEN_BYTES, big-endian)][datagram]; a length of 0
 * or over JV_WIRE_MAX ends the connection. The prefix is big-endian, unlike
 * every integer inside a message, because it belongs to the stream, not to a
 * jvpn message (it is outside the AEAD and the same for every type), and
 * 2-byte stream framings are in network byte order: DNS over TCP (RFC 1035
 * section 4.2.2), RTP over TCP (RFC 4571), OpenVPN's TCP mode. */
#define JV_TCP_LEN_BYTES 2
#define JV_TCP_FRAME_MAX (JV_TCP_LEN_BYTES + JV_WIRE_MAX)
_Static_assert(JV_WIRE_MAX <= 0xffff, "a datagram's length fits the prefix");

static inline void jv_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline uint16_t jv_get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

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
