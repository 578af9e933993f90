/* Session keys: seal/open both ways, tamper, replay after authentication,
 * the rekey ratchet with its grace window, and wiping. */
#include <sodium.h>
#include <string.h>

#include "core/err.h"
#include "proto/keys.h"
#include "tests/unit/unit.h"

struct pair {
	struct jv_keys i, r;
};

static void make(struct pair *p)
{
	uint8_t k1[32], k2[32];

	memset(k1, 0x11, 32);
	memset(k2, 0x22, 32);
	jv_keys_init(&p->i, k1, k2, true, 2048);
	jv_keys_init(&p->r, k1, k2, false, 2048);
}

/* A pair whose initiator has rotated its sending keys k times. */
static void make_ahead(struct pair *p, int k)
{
	make(p);
	for (int i = 0; i < k; i++)
		jv_keys_rotate_tx(&p->i);
}

static int deliver(struct jv_keys *to, const uint8_t *pkt, int len,
		   uint8_t *out, uint64_t now, bool *adv)
{
	struct jv_hdr h;

	assert_int_equal(jv_hdr_decode(&h, pkt, (size_t)len), 0);
	return jv_keys_open(to, &h, pkt, (size_t)len, out, JV_WIRE_MAX, now,
			    1000, adv);
}

JV_TEST(test_directions)
{
	struct pair p;
	uint8_t pkt[JV_WIRE_MAX], out[JV_WIRE_MAX];
	bool adv;
	int n;

	make(&p);
	/* the two directions use different keys */
	assert_memory_equal(p.i.data_tx, p.r.data_rx, 32);
	assert_memory_equal(p.r.data_tx, p.i.data_rx, 32);
	assert_memory_not_equal(p.i.data_tx, p.i.data_rx, 32);
	assert_memory_not_equal(p.i.data_tx, p.i.ctrl_tx, 32);

	n = jv_keys_seal(&p.i, JV_MSG_DATA, 0, 42, (const uint8_t *)"hello", 5,
			 pkt, sizeof(pkt));
	assert_int_equal(n, 16 + 5 + 16);
	assert_int_equal(deliver(&p.r, pkt, n, out, 0, &adv), 5);
	assert_memory_equal(out, "hello", 5);
	/* a second copy is authentic but replayed */
	assert_int_equal(deliver(&p.r, pkt, n, out, 0, &adv), JV_ERR_REPLAY);
	/* the initiator cannot open its own packet */
	assert_int_equal(deliver(&p.i, pkt, n, out, 0, &adv), JV_ERR_AUTH);

	n = jv_keys_seal(&p.r, JV_MSG_CONTROL, JV_CTRL_PROBE, 7,
			 (const uint8_t *)"\1\0\0\0", 4, pkt, sizeof(pkt));
	assert_int_equal(deliver(&p.i, pkt, n, out, 0, &adv), 4);
	/* a control packet relabelled as data fails: keys and AD differ */
	pkt[0] = JV_MSG_DATA;
	pkt[1] = 0;
	assert_int_equal(deliver(&p.i, pkt, n, out, 0, &adv), JV_ERR_AUTH);
}

JV_TEST(test_tamper)
{
	struct pair p;
	uint8_t pkt[JV_WIRE_MAX], bad[JV_WIRE_MAX], out[JV_WIRE_MAX];
	bool adv;
	int n;

	make(&p);
	n = jv_keys_seal(&p.i, JV_MSG_DATA, 0, 42, (const uint8_t *)"payload", 7,
			 pkt, sizeof(pkt));
	for (int byte = 0; byte < n; byte++) {
		struct jv_hdr h;

		memcpy(bad, pkt, (size_t)n);
		bad[byte] ^= 0x01;
		if (jv_hdr_decode(&h, bad, (size_t)n) != 0)
			continue;  /* header no longer parses: dropped earlier */
		assert_int_equal(jv_keys_open(&p.r, &h, bad, (size_t)n, out,
					      sizeof(out), 0, 1000, &adv),
				 JV_ERR_AUTH);
	}
	/* the untouched packet still opens: failures left no state behind */
	assert_int_equal(deliver(&p.r, pkt, n, out, 0, &adv), 7);
}

JV_TEST(test_counters_and_reorder)
{
	struct pair p;
	uint8_t pkt[3][JV_WIRE_MAX], out[JV_WIRE_MAX];
	int n[3];
	bool adv;

	make(&p);
	for (int i = 0; i < 3; i++)
		n[i] = jv_keys_seal(&p.i, JV_MSG_DATA, 0, 1, (const uint8_t *)"x",
				    1, pkt[i], sizeof(pkt[i]));
	assert_true(p.i.tx_counter == 3);
	assert_int_equal(deliver(&p.r, pkt[2], n[2], out, 0, &adv), 1);
	assert_int_equal(deliver(&p.r, pkt[0], n[0], out, 0, &adv), 1);
	assert_int_equal(deliver(&p.r, pkt[1], n[1], out, 0, &adv), 1);
	assert_int_equal(deliver(&p.r, pkt[1], n[1], out, 0, &adv),
			 JV_ERR_REPLAY);
}

JV_TEST(test_rekey)
{
	struct pair p;
	uint8_t old_pkt[JV_WIRE_MAX], pkt[JV_WIRE_MAX], out[JV_WIRE_MAX];
	uint8_t before[32];
	bool adv = true;
	int n_old, n;

	make(&p);
	n_old = jv_keys_seal(&p.i, JV_MSG_DATA, 0, 1, (const uint8_t *)"old", 3,
			     old_pkt, sizeof(old_pkt));
	memcpy(before, p.i.data_tx, 32);
	jv_keys_rotate_tx(&p.i);
	assert_int_equal(p.i.tx_epoch, 1);
	assert_memory_not_equal(before, p.i.data_tx, 32);
	n = jv_keys_seal(&p.i, JV_MSG_DATA, 0, 1, (const uint8_t *)"new", 3,
			 pkt, sizeof(pkt));
	assert_int_equal(pkt[2], 1);   /* epoch in the header */
	assert_int_equal(deliver(&p.r, pkt, n, out, 100, &adv), 3);
	assert_true(adv);
	assert_int_equal(p.r.rx_epoch, 1);
	assert_memory_equal(p.r.data_rx, p.i.data_tx, 32);
	/* an in-flight packet of the old epoch is accepted within the grace */
	assert_int_equal(deliver(&p.r, old_pkt, n_old, out, 1099, &adv), 3);
	assert_false(adv);
	/* but not after it */
	make(&p);
	n_old = jv_keys_seal(&p.i, JV_MSG_DATA, 0, 1, (const uint8_t *)"old", 3,
			     old_pkt, sizeof(old_pkt));
	jv_keys_rotate_tx(&p.i);
	n = jv_keys_seal(&p.i, JV_MSG_DATA, 0, 1, (const uint8_t *)"new", 3,
			 pkt, sizeof(pkt));
	assert_int_equal(deliver(&p.r, pkt, n, out, 100, &adv), 3);
	assert_int_equal(deliver(&p.r, old_pkt, n_old, out, 1100, &adv),
			 JV_ERR_AUTH);
	/* a data packet may be two epochs ahead, not three: each step is a
	 * hash an unauthenticated packet makes us do */
	for (int i = 0; i < 3; i++)
		jv_keys_rotate_tx(&p.i);
	n = jv_keys_seal(&p.i, JV_MSG_DATA, 0, 1, (const uint8_t *)"far", 3,
			 pkt, sizeof(pkt));
	assert_int_equal(deliver(&p.r, pkt, n, out, 200, &adv), JV_ERR_AUTH);
	assert_int_equal(p.r.rx_epoch, 1);
	jv_keys_rotate_tx(&p.i);
	jv_keys_rotate_tx(&p.i);
	make_ahead(&p, 2);
	n = jv_keys_seal(&p.i, JV_MSG_DATA, 0, 1, (const uint8_t *)"two", 3,
			 pkt, sizeof(pkt));
	assert_int_equal(deliver(&p.r, pkt, n, out, 200, &adv), 3);
	assert_true(adv);
	assert_int_equal(p.r.rx_epoch, 2);
}

/* An idle sender keeps rotating: any authentic control message brings the
 * receiver to its epoch, however far, so data opens again at once. */
JV_TEST(test_rekey_follows_control)
{
	struct pair p;
	uint8_t pkt[JV_WIRE_MAX], out[JV_WIRE_MAX];
	bool adv;
	int n;

	make_ahead(&p, 300);
	n = jv_keys_seal(&p.i, JV_MSG_DATA, 0, 1, (const uint8_t *)"d", 1, pkt,
			 sizeof(pkt));
	assert_int_equal(deliver(&p.r, pkt, n, out, 10, &adv), JV_ERR_AUTH);
	n = jv_keys_seal(&p.i, JV_MSG_CONTROL, 1, 1, (const uint8_t *)"hbxx", 4,
			 pkt, sizeof(pkt));
	assert_int_equal(jv_get_le16(pkt + 2), 300);
	assert_int_equal(deliver(&p.r, pkt, n, out, 20, &adv), 4);
	assert_true(adv);
	assert_int_equal(p.r.rx_epoch, 300);
	assert_memory_equal(p.r.data_rx, p.i.data_tx, 32);
	n = jv_keys_seal(&p.i, JV_MSG_DATA, 0, 1, (const uint8_t *)"d", 1, pkt,
			 sizeof(pkt));
	assert_int_equal(deliver(&p.r, pkt, n, out, 30, &adv), 1);
	/* a forged control message claiming a far epoch moves nothing */
	pkt[0] = JV_MSG_CONTROL;
	pkt[1] = 1;
	jv_put_le16(pkt + 2, 9000);
	jv_put_le64(pkt + 8, 777);
	assert_int_equal(deliver(&p.r, pkt, n, out, 40, &adv), JV_ERR_AUTH);
	assert_int_equal(p.r.rx_epoch, 300);
}

JV_TEST(test_wipe)
{
	struct pair p;
	uint8_t zero[sizeof(struct jv_keys)];

	make(&p);
	jv_keys_wipe(&p.i);
	memset(zero, 0, sizeof(zero));
	assert_memory_equal(&p.i, zero, sizeof(zero));
}

JV_TEST(test_short)
{
	struct pair p;
	uint8_t pkt[64], big[JV_INNER_MAX + 1];

	make(&p);
	assert_int_equal(jv_keys_seal(&p.i, JV_MSG_DATA, 0, 1, big, 0, pkt,
				      31), JV_ERR_SHORT);
	assert_int_equal(jv_keys_seal(&p.i, JV_MSG_DATA, 0, 1, big,
				      sizeof(big), pkt, sizeof(pkt)),
			 JV_ERR_SHORT);
}
