/* Wire codec: round trips, exact sizes, and every malformed or truncated
 * input refused. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "core/err.h"
#include "core/policy.h"
#include "proto/wire.h"

static void test_sizes(void **state)
{
	(void)state;
	assert_int_equal(JV_HS_INIT_PAYLOAD, 74);
	assert_int_equal(JV_HS_INIT_LEN, 8 + 96 + 74);
	assert_int_equal(JV_HS_RESP_LEN, 12 + 48 + 16);
	assert_int_equal(JV_HDR_LEN, 16);
}

static void test_wire_type(void **state)
{
	uint8_t buf[JV_WIRE_MAX + 1];

	(void)state;
	memset(buf, 0, sizeof(buf));
	assert_int_equal(jv_wire_type(buf, 0), 0);
	buf[0] = JV_MSG_HS_INIT;
	assert_int_equal(jv_wire_type(buf, JV_HS_INIT_LEN), JV_MSG_HS_INIT);
	assert_int_equal(jv_wire_type(buf, JV_HS_INIT_LEN - 1), 0);
	assert_int_equal(jv_wire_type(buf, JV_HS_INIT_LEN + 1), 0);
	buf[0] = JV_MSG_HS_RESP;
	assert_int_equal(jv_wire_type(buf, JV_HS_RESP_LEN), JV_MSG_HS_RESP);
	assert_int_equal(jv_wire_type(buf, JV_HS_RESP_LEN - 1), 0);
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

static void test_hdr(void **state)
{
	struct jv_hdr h = { JV_MSG_CONTROL, JV_CTRL_PROBE, 0, 0xdeadbeef,
			    0x0102030405060708ull }, d;
	uint8_t buf[64] = { 0 };

	(void)state;
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

static void test_tid(void **state)
{
	struct jv_wire_tid t;
	char long_id[JV_TID_MAX + 2];

	(void)state;
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

static void test_hs_payload(void **state)
{
	struct jv_hs_init_payload p, d;
	uint8_t buf[JV_HS_INIT_PAYLOAD];

	(void)state;
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

static void test_ctrl(void **state)
{
	struct jv_ctrl c, d;
	uint8_t buf[JV_CTRL_MAX_BODY];

	(void)state;
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
	c.type = 0;
	assert_int_equal(jv_ctrl_encode(&c, buf, sizeof(buf)), JV_ERR_INVAL);
	assert_int_equal(jv_ctrl_decode(&d, 0, buf, 4), JV_ERR_INVAL);
	assert_int_equal(jv_ctrl_decode(&d, 99, buf, 4), JV_ERR_INVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_wire_type),
		cmocka_unit_test(test_hdr),
		cmocka_unit_test(test_tid),
		cmocka_unit_test(test_hs_payload),
		cmocka_unit_test(test_ctrl),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
