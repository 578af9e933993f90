/* Wire codec: round trips, exact sizes, and every malformed or truncated
 * input refused. */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/err.h"
#include "core/policy.h"
#include "proto/wire.h"
#include "tests/unit/unit.h"

JV_TEST(test_sizes)
{
	assert_int_equal(JV_HS_INIT_PAYLOAD, 74);
	/* the Noise message, then mac1 and mac2 outside it */
	assert_int_equal(JV_HS_INIT_MAC1_OFF, 8 + 96 + 74);
	assert_int_equal(JV_HS_INIT_MAC2_OFF, 8 + 96 + 74 + 16);
	assert_int_equal(JV_HS_INIT_LEN, 8 + 96 + 74 + 32);
	assert_int_equal(JV_HS_RESP_LEN, 12 + 48 + 16);
	assert_int_equal(JV_COOKIE_REPLY_LEN, 8 + 24 + 16 + 16);
	assert_int_equal(JV_HDR_LEN, 16);
}

JV_TEST(test_wire_type)
{
	uint8_t buf[JV_WIRE_MAX + 1];

	memset(buf, 0, sizeof(buf));
	assert_int_equal(jv_wire_type(buf, 0), 0);
	buf[0] = JV_MSG_HS_INIT;
	assert_int_equal(jv_wire_type(buf, JV_HS_INIT_LEN), JV_MSG_HS_INIT);
	assert_int_equal(jv_wire_type(buf, JV_HS_INIT_LEN - 1), 0);
	assert_int_equal(jv_wire_type(buf, JV_HS_INIT_LEN + 1), 0);
	buf[0] = JV_MSG_HS_RESP;
	assert_int_equal(jv_wire_type(buf, JV_HS_RESP_LEN), JV_MSG_HS_RESP);
	assert_int_equal(jv_wire_type(buf, JV_HS_RESP_LEN - 1), 0);
	buf[0] = JV_MSG_COOKIE_REPLY;
	assert_int_equal(jv_wire_type(buf, JV_COOKIE_REPLY_LEN),
			 JV_MSG_COOKIE_REPLY);
	assert_int_equal(jv_wire_type(buf, JV_COOKIE_REPLY_LEN - 1), 0);
	assert_int_equal(jv_wire_type(buf, JV_COOKIE_REPLY_LEN + 1), 0);
	buf[0] = JV_MSG_DATA;
	assert_int_equal(jv_wire_type(buf, 32), JV_MSG_DATA);
	assert_int_equal(jv_wire_type(buf, 31), 0);
	assert_int_equal(jv_wire_type(buf, JV_WIRE_MAX), JV_MSG_DATA);
	assert_int_equal(jv_wire_type(buf, JV_WIRE_MAX + 1), 0);
	buf[0] = 0;
	assert_int_equal(jv_wire_type(buf, 100), 0);
	buf[0] = 9;
	assert_int_equal(jv_wire_type(buf, 100), 0);
}

JV_TEST(test_hdr)
{
	struct jv_hdr h = { JV_MSG_CONTROL, JV_CTRL_PROBE, 0, 0xdeadbeef,
			    0x0102030405060708ull }, d;
	uint8_t buf[64] = { 0 };

	assert_int_equal(jv_hdr_encode(&h, buf), 16);
	assert_int_equal(buf[0], 4);
	assert_int_equal(buf[1], 3);
	assert_int_equal(buf[4], 0xef);
	assert_int_equal(buf[8], 0x08);
	assert_int_equal(jv_hdr_decode(&d, buf, 32), 0);
	assert_int_equal(d.receiver_index, 0xdeadbeef);
	assert_true(d.counter == 0x0102030405060708ull);
	assert_int_equal(jv_hdr_decode(&d, buf, 31), JV_ERR_SHORT);
	buf[1] = 0;    /* control subtype 0 */
	assert_int_equal(jv_hdr_decode(&d, buf, 32), JV_ERR_INVAL);
	buf[1] = 0x7f; /* unknown subtype */
	assert_int_equal(jv_hdr_decode(&d, buf, 32), JV_ERR_INVAL);
	buf[1] = 1;
	buf[2] = 1;    /* control carries the sender's data epoch too */
	assert_int_equal(jv_hdr_decode(&d, buf, 32), 0);
	assert_int_equal(d.epoch, 1);
	buf[0] = JV_MSG_DATA;
	buf[1] = 1;    /* data with a subtype */
	assert_int_equal(jv_hdr_decode(&d, buf, 32), JV_ERR_INVAL);
	buf[0] = JV_MSG_HS_INIT;
	assert_int_equal(jv_hdr_decode(&d, buf, 32), JV_ERR_INVAL);
}

JV_TEST(test_tid)
{
	struct jv_wire_tid t;
	char long_id[JV_TID_MAX + 2];

	assert_int_equal(jv_wire_tid_set(&t, JV_PROTO_UDP, "udp-a"), 0);
	assert_int_equal(t.len, 5);
	assert_string_equal(t.id, "udp-a");
	assert_int_equal(jv_wire_tid_set(&t, JV_PROTO_UDP, ""), JV_ERR_INVAL);
	assert_int_equal(jv_wire_tid_set(&t, 3, "x"), JV_ERR_INVAL);
	assert_int_equal(jv_wire_tid_set(&t, JV_PROTO_TCP, "a b"), JV_ERR_INVAL);
	assert_int_equal(jv_wire_tid_set(&t, JV_PROTO_TCP, "a\"b"), JV_ERR_INVAL);
	memset(long_id, 'x', sizeof(long_id));
	long_id[JV_TID_MAX] = '\0';
	assert_int_equal(jv_wire_tid_set(&t, JV_PROTO_TCP, long_id), 0);
	long_id[JV_TID_MAX] = 'x';
	long_id[JV_TID_MAX + 1] = '\0';
	assert_int_equal(jv_wire_tid_set(&t, JV_PROTO_TCP, long_id),
			 JV_ERR_INVAL);
}

JV_TEST(test_hs_payload)
{
	struct jv_hs_init_payload p, d;
	uint8_t buf[JV_HS_INIT_PAYLOAD];

	memset(&p, 0, sizeof(p));
	memset(p.session_id, 0xab, 16);
	memset(p.prev_session_id, 0xcd, 16);
	p.timestamp_ms = 123456789;
	jv_wire_tid_set(&p.tid, JV_PROTO_UDP, "udp-443");
	assert_int_equal(jv_hs_init_payload_encode(&p, buf), JV_HS_INIT_PAYLOAD);
	assert_int_equal(jv_hs_init_payload_decode(&d, buf, sizeof(buf)), 0);
	assert_memory_equal(d.session_id, p.session_id, 16);
	assert_memory_equal(d.prev_session_id, p.prev_session_id, 16);
	assert_true(d.timestamp_ms == 123456789);
	assert_string_equal(d.tid.id, "udp-443");
	for (size_t n = 0; n < sizeof(buf); n++)
		assert_int_not_equal(jv_hs_init_payload_decode(&d, buf, n), 0);
	buf[41] = 0;                 /* tid length 0 */
	assert_int_equal(jv_hs_init_payload_decode(&d, buf, sizeof(buf)),
			 JV_ERR_INVAL);
	buf[41] = 7;
	buf[42 + 10] = 'x';          /* garbage in the padding */
	assert_int_equal(jv_hs_init_payload_decode(&d, buf, sizeof(buf)),
			 JV_ERR_INVAL);
	buf[42 + 10] = 0;
	buf[42 + 2] = 0;             /* NUL inside the id */
	assert_int_equal(jv_hs_init_payload_decode(&d, buf, sizeof(buf)),
			 JV_ERR_INVAL);
}

static void roundtrip(const struct jv_ctrl *c, size_t want_len)
{
	uint8_t buf[JV_CTRL_MAX_BODY];
	struct jv_ctrl d;
	int n = jv_ctrl_encode(c, buf, sizeof(buf));

	assert_int_equal(n, (int)want_len);
	assert_int_equal(jv_ctrl_decode(&d, c->type, buf, (size_t)n), 0);
	assert_int_equal(d.type, c->type);
	/* every truncation and one byte too many are refused */
	for (int k = 0; k < n; k++)
		assert_int_not_equal(jv_ctrl_decode(&d, c->type, buf, (size_t)k), 0);
	assert_int_not_equal(jv_ctrl_decode(&d, c->type, buf, (size_t)n + 1), 0);
	assert_int_equal(jv_ctrl_encode(c, buf, (size_t)n - 1), JV_ERR_SHORT);
}

JV_TEST(test_ctrl)
{
	struct jv_ctrl c, d;
	uint8_t buf[JV_CTRL_MAX_BODY];

	memset(&c, 0, sizeof(c));
	c.type = JV_CTRL_HEARTBEAT;
	c.u.hb.seq = 77;
	roundtrip(&c, 4);
	c.type = JV_CTRL_PROBE;
	roundtrip(&c, 4);
	c.type = JV_CTRL_PROBE_ACK;
	roundtrip(&c, 4);
	c.type = JV_CTRL_HEARTBEAT_ACK;
	c.u.hb.flags = JV_HB_REATTACH_NEEDED;
	roundtrip(&c, 5);
	jv_ctrl_encode(&c, buf, sizeof(buf));
	assert_int_equal(jv_ctrl_decode(&d, c.type, buf, 5), 0);
	assert_int_equal(d.u.hb.seq, 77);
	assert_int_equal(d.u.hb.flags, JV_HB_REATTACH_NEEDED);
	buf[4] = 0x80;   /* unknown flag */
	assert_int_equal(jv_ctrl_decode(&d, c.type, buf, 5), JV_ERR_INVAL);

	memset(&c, 0, sizeof(c));
	c.type = JV_CTRL_REATTACH_REQ;
	memset(c.u.req.session_id, 7, 16);
	c.u.req.counter = 99;
	c.u.req.timestamp_ms = 5000;
	c.u.req.attach_epoch = 3;
	jv_wire_tid_set(&c.u.req.tid, JV_PROTO_TCP, "tcp-443");
	roundtrip(&c, 70);
	jv_ctrl_encode(&c, buf, sizeof(buf));
	assert_int_equal(jv_ctrl_decode(&d, c.type, buf, 70), 0);
	assert_true(d.u.req.counter == 99 && d.u.req.timestamp_ms == 5000);
	assert_int_equal(d.u.req.attach_epoch, 3);
	assert_string_equal(d.u.req.tid.id, "tcp-443");
	assert_int_equal(d.u.req.tid.proto, JV_PROTO_TCP);
	buf[36] = 9;     /* bad protocol in the candidate */
	assert_int_equal(jv_ctrl_decode(&d, c.type, buf, 70), JV_ERR_INVAL);

	memset(&c, 0, sizeof(c));
	c.type = JV_CTRL_REATTACH_ACK;
	c.u.ack.req_counter = 5;
	c.u.ack.attach_epoch = 6;
	roundtrip(&c, 12);
	c.type = JV_CTRL_REATTACH_DENY;
	c.u.deny.req_counter = 5;
	c.u.deny.reason = 30;
	roundtrip(&c, 9);
	c.type = JV_CTRL_TERMINATE;
	c.u.term.reason = 3;
	roundtrip(&c, 1);
	/* path validation: request counter and token, every length refused
	 * but the right one */
	c.type = JV_CTRL_PATH_CHALLENGE;
	c.u.path.req_counter = 0x0102030405060708ull;
	memcpy(c.u.path.token, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
	roundtrip(&c, 16);
	c.type = JV_CTRL_PATH_RESPONSE;
	roundtrip(&c, 16);
	{
		struct jv_ctrl d2;

		assert_int_equal(jv_ctrl_encode(&c, buf, sizeof(buf)), 16);
		assert_int_equal(jv_ctrl_decode(&d2, c.type, buf, 16), 0);
		assert_true(d2.u.path.req_counter == c.u.path.req_counter);
		assert_memory_equal(d2.u.path.token, c.u.path.token, 8);
	}
	c.type = 0;
	assert_int_equal(jv_ctrl_encode(&c, buf, sizeof(buf)), JV_ERR_INVAL);
	assert_int_equal(jv_ctrl_decode(&d, 0, buf, 4), JV_ERR_INVAL);
	assert_int_equal(jv_ctrl_decode(&d, 99, buf, 4), JV_ERR_INVAL);
}

/* h encodes to hdr_len bytes, the want_len of want, writing nothing past
 * them and refusing a buffer one byte short; decoded from a message of
 * msg_len bytes it gives h back (receiver_index as want_receiver), and a
 * message one byte short is refused. buf holds the header after. */
static void hs_hdr_both_ways(const struct jv_hs_hdr *h, const uint8_t *want,
			     size_t want_len, size_t hdr_len, size_t msg_len,
			     uint32_t want_receiver, uint8_t *buf, size_t cap)
{
	struct jv_hs_hdr d;

	memset(buf, 0xee, cap);
	assert_int_equal(jv_hs_hdr_encode(h, buf, cap), (int)hdr_len);
	assert_memory_equal(buf, want, want_len);
	assert_int_equal(buf[hdr_len], 0xee);
	assert_int_equal(jv_hs_hdr_encode(h, buf, hdr_len - 1), JV_ERR_SHORT);
	memset(&d, 0xaa, sizeof(d));
	assert_int_equal(jv_hs_hdr_decode(&d, buf, msg_len), 0);
	assert_int_equal(d.type, h->type);
	assert_int_equal(d.sender_index, h->sender_index);
	assert_int_equal(d.receiver_index, want_receiver);
	assert_int_equal(jv_hs_hdr_decode(&d, buf, msg_len - 1), JV_ERR_SHORT);
}

JV_TEST(test_hs_hdr)
{
	static const uint8_t init_hdr[] = { 1, 0, 0, 0, 0x78, 0x56, 0x34, 0x12 };
	static const uint8_t resp_hdr[] = { 2, 0, 0, 0, 0xef, 0xbe, 0xad, 0xde,
					    0x78, 0x56, 0x34, 0x12 };
	struct jv_hs_hdr h = { .type = JV_MSG_HS_INIT,
			       .sender_index = 0x12345678,
			       .receiver_index = 0xffffffff }, d;
	uint8_t buf[JV_HS_INIT_LEN + 1];

	/* HS_INIT: type, 3 reserved zero bytes, sender_index; no receiver */
	hs_hdr_both_ways(&h, init_hdr, sizeof(init_hdr), JV_HS_INIT_HDR_LEN,
			 JV_HS_INIT_LEN, 0, buf, sizeof(buf));
	assert_int_equal(jv_hs_hdr_decode(&d, buf, JV_HS_INIT_LEN + 1),
			 JV_ERR_SHORT);
	assert_int_equal(jv_hs_hdr_decode(&d, buf, JV_HS_RESP_LEN),
			 JV_ERR_SHORT);
	assert_int_equal(jv_hs_hdr_decode(&d, buf, 0), JV_ERR_SHORT);
	/* the reserved bytes are ignored on receipt */
	buf[1] = buf[3] = 0x5a;
	assert_int_equal(jv_hs_hdr_decode(&d, buf, JV_HS_INIT_LEN), 0);
	assert_int_equal(d.sender_index, 0x12345678);

	/* HS_RESP: type, 3 reserved, sender_index, receiver_index */
	h.type = JV_MSG_HS_RESP;
	h.sender_index = 0xdeadbeef;
	h.receiver_index = 0x12345678;
	hs_hdr_both_ways(&h, resp_hdr, sizeof(resp_hdr), JV_HS_RESP_HDR_LEN,
			 JV_HS_RESP_LEN, 0x12345678, buf, sizeof(buf));
	assert_int_equal(jv_hs_hdr_decode(&d, buf, JV_HS_INIT_LEN),
			 JV_ERR_SHORT);

	/* other types are not handshake headers */
	h.type = JV_MSG_DATA;
	assert_int_equal(jv_hs_hdr_encode(&h, buf, sizeof(buf)), JV_ERR_INVAL);
	h.type = 0;
	assert_int_equal(jv_hs_hdr_encode(&h, buf, sizeof(buf)), JV_ERR_INVAL);
	for (unsigned t = 0; t < 256; t++) {
		if (t == JV_MSG_HS_INIT || t == JV_MSG_HS_RESP)
			continue;
		buf[0] = (uint8_t)t;
		assert_int_equal(jv_hs_hdr_decode(&d, buf, JV_HS_RESP_LEN),
				 JV_ERR_INVAL);
	}
}

JV_TEST(test_cookie_reply_codec)
{
	struct jv_cookie_reply r, d;
	uint8_t buf[JV_COOKIE_REPLY_LEN + 1];

	for (size_t i = 0; i < sizeof(r.nonce); i++)
		r.nonce[i] = (uint8_t)(0x40 + i);
	for (size_t i = 0; i < sizeof(r.sealed); i++)
		r.sealed[i] = (uint8_t)(0x80 + i);
	r.receiver_index = 0x04030201;
	assert_int_equal(jv_cookie_reply_encode(&r, buf, JV_COOKIE_REPLY_LEN - 1),
			 JV_ERR_SHORT);
	assert_int_equal(jv_cookie_reply_encode(&r, buf, sizeof(buf)),
			 JV_COOKIE_REPLY_LEN);
	/* type, 3 reserved zero bytes, the receiver index little-endian,
	 * the nonce, the sealed cookie */
	assert_int_equal(buf[0], JV_MSG_COOKIE_REPLY);
	assert_int_equal(buf[1] | buf[2] | buf[3], 0);
	assert_int_equal(buf[4], 0x01);
	assert_int_equal(buf[7], 0x04);
	assert_int_equal(buf[8], 0x40);
	assert_int_equal(buf[8 + 24], 0x80);
	assert_int_equal(jv_cookie_reply_decode(&d, buf, JV_COOKIE_REPLY_LEN), 0);
	assert_int_equal(d.receiver_index, r.receiver_index);
	assert_memory_equal(d.nonce, r.nonce, sizeof(r.nonce));
	assert_memory_equal(d.sealed, r.sealed, sizeof(r.sealed));
	assert_int_equal(jv_cookie_reply_decode(&d, buf, JV_COOKIE_REPLY_LEN - 1),
			 JV_ERR_SHORT);
	assert_int_equal(jv_cookie_reply_decode(&d, buf, JV_COOKIE_REPLY_LEN + 1),
			 JV_ERR_SHORT);
	assert_int_equal(jv_cookie_reply_decode(&d, buf, 0), JV_ERR_SHORT);
	buf[0] = JV_MSG_HS_RESP;
	assert_int_equal(jv_cookie_reply_decode(&d, buf, JV_COOKIE_REPLY_LEN),
			 JV_ERR_INVAL);
}

/* The reason byte of REATTACH_DENY and TERMINATE, written out: these
 * numbers are the protocol, whatever order enum jv_reason takes. */
static const struct {
	enum jv_reason r;
	uint8_t code;
} reason_codes[] = {
	{ JV_R_NONE, 0 },
	{ JV_R_HANDSHAKE_OK, 1 },
	{ JV_R_HANDSHAKE_FAILED, 2 },
	{ JV_R_TRANSPORT_DEAD, 3 },
	{ JV_R_LINK_DOWN, 4 },
	{ JV_R_HEARTBEAT_TIMEOUT, 5 },
	{ JV_R_LOSS_THRESHOLD_EXCEEDED, 6 },
	{ JV_R_CONSECUTIVE_DROP_EXCEEDED, 7 },
	{ JV_R_LATENCY_THRESHOLD_EXCEEDED, 8 },
	{ JV_R_PEER_PATH_CHANGE, 9 },
	{ JV_R_SWITCH_INITIATED, 10 },
	{ JV_R_HEALTH_RECOVERED, 11 },
	{ JV_R_REATTACH_SUCCESS, 12 },
	{ JV_R_REATTACH_VALIDATION_FAILED, 13 },
	{ JV_R_RECOVERY_WINDOW_EXPIRED, 14 },
	{ JV_R_NO_VIABLE_TRANSPORT, 15 },
	{ JV_R_VOLATILE_PERSISTED, 16 },
	{ JV_R_SWITCH_RATE_LIMITED, 17 },
	{ JV_R_COOLDOWN_ACTIVE, 18 },
	{ JV_R_POLICY_DENIED, 19 },
	{ JV_R_SESSION_LIFETIME_EXCEEDED, 20 },
	{ JV_R_TRANSPORT_TTL_EXCEEDED, 21 },
	{ JV_R_SECURITY_FAILURE, 22 },
	{ JV_R_OPERATOR_TERMINATED, 23 },
	{ JV_R_PEER_TERMINATED, 24 },
	{ JV_R_NO_VALID_CANDIDATE, 25 },
	{ JV_R_UNKNOWN_SESSION, 26 },
	{ JV_R_INVALID_STATE_FOR_REATTACH, 27 },
	{ JV_R_SESSION_EXPIRED, 28 },
	{ JV_R_BAD_PROOF, 29 },
	{ JV_R_REPLAY_DETECTED, 30 },
	{ JV_R_STALE_REQUEST, 31 },
	{ JV_R_INVALID_TRANSPORT_CANDIDATE, 32 },
	{ JV_R_STALE_STATE_VERSION, 33 },
	{ JV_R_RATE_LIMITED, 34 },
	{ JV_R_INVALID_TRANSITION, 35 },
	{ JV_R_TIME_ELAPSED, 36 },
	{ JV_R_REATTACH_ACCEPTED, 37 },
	{ JV_R_POLICY_VALID, 38 },
	{ JV_R_POLICY_INVALID, 39 },
	{ JV_R_BAD_HANDSHAKE, 40 },
	{ JV_R_HANDSHAKE_REPLAY, 41 },
	{ JV_R_SESSION_REPLACED, 42 },
	{ JV_R_BAD_DATA_KEY, 43 },
	{ JV_R_INNER_SOURCE_NOT_ALLOWED, 44 },
	{ JV_R_FAILBACK, 45 },
	{ JV_R_DATA_PATH_SILENT, 46 },
};

JV_TEST(test_reason_codes)
{
	size_t n = sizeof(reason_codes) / sizeof(reason_codes[0]);
	bool seen[256] = { false };
	enum jv_reason r;

	assert_int_equal(n, JV_R__COUNT);
	assert_int_equal(JV_WR__COUNT, JV_R__COUNT);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(jv_reason_to_wire(reason_codes[i].r),
				 reason_codes[i].code);
		assert_false(seen[reason_codes[i].code]);
		seen[reason_codes[i].code] = true;
		r = JV_R__COUNT;
		assert_int_equal(jv_reason_from_wire(reason_codes[i].code, &r),
				 0);
		assert_int_equal(r, reason_codes[i].r);
	}
	/* every reason round-trips, found by name so a table row cannot
	 * hide a missing one */
	for (int i = 0; i < JV_R__COUNT; i++) {
		r = JV_R__COUNT;
		assert_int_equal(
			jv_reason_from_wire(jv_reason_to_wire((enum jv_reason)i),
					    &r), 0);
		assert_string_equal(jv_reason_name(r),
				    jv_reason_name((enum jv_reason)i));
	}
	/* the ones the engine sends today */
	assert_int_equal(jv_reason_to_wire(JV_R_PEER_TERMINATED), 24);
	assert_int_equal(jv_reason_to_wire(JV_R_OPERATOR_TERMINATED), 23);
	assert_int_equal(jv_reason_to_wire(JV_R_SESSION_EXPIRED), 28);
	assert_int_equal(jv_reason_to_wire(JV_R_TRANSPORT_TTL_EXCEEDED), 21);
	assert_int_equal(jv_reason_to_wire(JV_R_INVALID_STATE_FOR_REATTACH), 27);
	assert_int_equal(jv_reason_to_wire(JV_R_STALE_STATE_VERSION), 33);
	assert_int_equal(jv_reason_to_wire(JV_R_POLICY_DENIED), 19);
	assert_int_equal(jv_reason_to_wire(JV_R_RATE_LIMITED), 34);
	/* codes this version does not know are refused, *r untouched */
	for (unsigned c = JV_WR__COUNT; c < 256; c++) {
		r = JV_R_POLICY_DENIED;
		assert_int_equal(jv_reason_from_wire((uint8_t)c, &r),
				 JV_ERR_INVAL);
		assert_int_equal(r, JV_R_POLICY_DENIED);
	}
	assert_int_equal(jv_reason_to_wire(JV_R__COUNT), JV_WR_NONE);
}

JV_TEST(test_proto_bytes)
{
	struct jv_hs_init_payload p;
	uint8_t buf[JV_HS_INIT_PAYLOAD];

	assert_int_equal(JV_WIRE_PROTO_UDP, 1);
	assert_int_equal(JV_WIRE_PROTO_TCP, 2);
	memset(&p, 0, sizeof(p));
	jv_wire_tid_set(&p.tid, JV_PROTO_TCP, "tcp-443");
	jv_hs_init_payload_encode(&p, buf);
	assert_int_equal(buf[40], 2);     /* proto */
	assert_int_equal(buf[41], 7);     /* length */
	assert_memory_equal(buf + 42, "tcp-443", 7);
}

JV_TEST(test_tcp_framing)
{
	uint8_t b[2];

	assert_int_equal(JV_TCP_LEN_BYTES, 2);
	assert_int_equal(JV_TCP_FRAME_MAX, 2 + JV_WIRE_MAX);
	/* network byte order: the length 0x0123 is 01 23 */
	jv_put_be16(b, 0x0123);
	assert_int_equal(b[0], 0x01);
	assert_int_equal(b[1], 0x23);
	assert_int_equal(jv_get_be16(b), 0x0123);
	jv_put_be16(b, JV_WIRE_MAX);
	assert_int_equal(jv_get_be16(b), JV_WIRE_MAX);
	b[0] = 0xff;
	b[1] = 0xfe;
	assert_int_equal(jv_get_be16(b), 0xfffe);
}
