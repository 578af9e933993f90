/* Handshakes under load (CONTRACT section 9, docs/protocol.md): mac1 before
 * any Diffie-Hellman, cookies under load, per-source token buckets, and no
 * unauthenticated message answered with more bytes than it carried. */
#include <sodium.h>
#include <string.h>

#include "proto/cookie.h"
#include "tests/unit/world.h"
#include "tests/unit/unit.h"

static bool server_has_session(struct world *w)
{
	struct jv_session_info si;
	uint32_t cur = 0;

	return jv_endpoint_session_next(w->s.ep, &cur, w->now, &si);
}

/* The client's first HS_INIT, taken off its queue. */
static struct dgram first_init(struct world *w)
{
	struct dgram d;

	jv_endpoint_start(w->c.ep, w->now);
	assert_int_equal(w->c.nout, 1);
	d = w->c.out[0];
	w->c.nout = 0;
	assert_int_equal(d.len, JV_HS_INIT_LEN);
	return d;
}

/* An HS_INIT anyone who knows the server's public key can make: a right
 * mac1 on a Noise message that will not open. */
static struct dgram junk_init(const struct world *w, uint8_t seed)
{
	struct jv_cookie_keys k;
	struct dgram d;

	memset(&d, 0, sizeof(d));
	memset(d.buf, seed, JV_HS_INIT_LEN);
	d.buf[0] = JV_MSG_HS_INIT;
	d.buf[1] = d.buf[2] = d.buf[3] = 0;
	d.len = JV_HS_INIT_LEN;
	d.path.proto = JV_PROTO_UDP;
	jv_cookie_keys_init(&k, w->server_pub);
	jv_hs_init_macs(&k, NULL, d.buf);
	return d;
}

static void to_server_path(struct world *w, const struct dgram *d,
			   const struct jv_path *p)
{
	jv_endpoint_recv(w->s.ep, p, d->buf, d->len, w->now);
}

/* ---- mac1 ---- */

JV_TEST(test_mac1_right)
{
	struct world *w = make_world(NULL);
	struct dgram d = first_init(w);
	struct jv_cookie_keys k;
	uint8_t other[32];

	jv_cookie_keys_init(&k, w->server_pub);
	assert_true(jv_hs_init_mac1_ok(&k, d.buf));
	/* without a cookie, mac2 is zero */
	for (int i = 0; i < JV_MAC_LEN; i++)
		assert_int_equal(d.buf[JV_HS_INIT_MAC2_OFF + i], 0);
	/* another server's key */
	memcpy(other, w->server_pub, 32);
	other[0] ^= 1;
	jv_cookie_keys_init(&k, other);
	assert_false(jv_hs_init_mac1_ok(&k, d.buf));
	to_server(w, &d, 0);
	assert_int_equal(w->s.nout, 1);
	assert_int_equal(w->s.out[0].buf[0], JV_MSG_HS_RESP);
	assert_int_equal(node_stats(&w->s).hs_ok, 1);
	free_world(w);
}

/* What fails mac1 is dropped before any Diffie-Hellman: no reply, no
 * state, no event, counted as bad_mac (not failed, which a DH would be). */
static void assert_dropped_bad_mac(struct world *w, const struct dgram *d,
				   uint64_t n)
{
	int nev = w->s.nevents;

	to_server(w, d, 0);
	assert_int_equal(w->s.nout, 0);
	assert_int_equal(w->s.nevents, nev);
	assert_false(server_has_session(w));
	assert_int_equal(node_stats(&w->s).hs_bad_mac, n);
	assert_int_equal(node_stats(&w->s).hs_failed, 0);
	assert_int_equal(node_stats(&w->s).hs_ok, 0);
}

JV_TEST(test_mac1_wrong_key)
{
	struct world *w = make_world(NULL);
	struct jv_cookie_keys k;
	struct dgram d = first_init(w);
	uint8_t other[32];

	/* made for another server: right Noise for nobody, wrong mac1 */
	memcpy(other, w->server_pub, 32);
	other[31] ^= 0x40;
	jv_cookie_keys_init(&k, other);
	jv_hs_init_macs(&k, NULL, d.buf);
	assert_dropped_bad_mac(w, &d, 1);
	free_world(w);
}

JV_TEST(test_mac1_tampered)
{
	struct world *w = make_world(NULL);
	struct dgram d = first_init(w), t;
	uint64_t n = 0;

	/* any byte before mac2: the header, the Noise message, mac1 */
	for (size_t off = 0; off < JV_HS_INIT_MAC2_OFF; off += 7) {
		if (off == 0)
			continue;     /* the type byte: no longer an HS_INIT */
		t = d;
		t.buf[off] ^= 0x01;
		assert_dropped_bad_mac(w, &t, ++n);
	}
	/* the genuine one still goes through */
	to_server(w, &d, 0);
	assert_int_equal(w->s.nout, 1);
	assert_int_equal(node_stats(&w->s).hs_ok, 1);
	free_world(w);
}

JV_TEST(test_mac1_missing)
{
	struct world *w = make_world(NULL);
	struct dgram d = first_init(w);
	int nout;

	memset(d.buf + JV_HS_INIT_MAC1_OFF, 0, 2 * JV_MAC_LEN);
	assert_dropped_bad_mac(w, &d, 1);
	/* an HS_INIT of the old length (no MACs) is not an HS_INIT */
	nout = w->s.nout;
	jv_endpoint_recv(w->s.ep, &(struct jv_path){ .proto = JV_PROTO_UDP },
			 d.buf, JV_HS_INIT_MAC1_OFF, w->now);
	assert_int_equal(w->s.nout, nout);
	assert_int_equal(node_stats(&w->s).hs_bad_mac, 1);
	assert_false(server_has_session(w));
	free_world(w);
}

/* ---- load and cookies ---- */

/* Junk HS_INITs from address 9 until the server is under load. */
static void load_up(struct world *w, int n)
{
	for (int i = 0; i < n; i++) {
		struct dgram j = junk_init(w, (uint8_t)(0x30 + i));

		to_server(w, &j, 9);
	}
	w->s.nout = 0;
}

/* A server that takes one HS_INIT a second (and per_source a second from
 * a source), under load from two junk ones at 1000 ms. */
static struct world *loaded_world(uint32_t per_source)
{
	struct world *w = make_world_hs(NULL, 1, per_source);

	w->now = 1000;
	load_up(w, 2);
	return w;
}

/* The client starts and draws a cookie; *init is the HS_INIT with mac2 it
 * sends again, taken off its queue. Returns how many it had queued. */
static int init_with_cookie(struct world *w, struct dgram *init)
{
	int n;

	jv_endpoint_start(w->c.ep, w->now);
	pump(w);
	n = w->c.nout;
	*init = w->c.out[0];
	w->c.nout = 0;
	return n;
}

JV_TEST(test_cookie_only_under_load)
{
	struct world *w = make_world_hs(NULL, 3, 0);
	struct dgram d;

	w->now = 1000;
	/* three a second is not load: each goes to the DH (and fails) */
	for (int i = 0; i < 3; i++) {
		d = junk_init(w, (uint8_t)i);
		to_server(w, &d, 9);
	}
	assert_int_equal(w->s.nout, 0);
	assert_int_equal(node_stats(&w->s).hs_failed, 3);
	assert_int_equal(node_stats(&w->s).hs_cookie_sent, 0);
	assert_false(has_event(&w->s, "HandshakeLoad"));
	/* the fourth is: it draws a cookie, never a DH */
	d = junk_init(w, 3);
	to_server(w, &d, 9);
	assert_int_equal(w->s.nout, 1);
	assert_int_equal(w->s.out[0].buf[0], JV_MSG_COOKIE_REPLY);
	assert_int_equal(w->s.out[0].len, JV_COOKIE_REPLY_LEN);
	assert_true(w->s.out[0].len <= d.len);
	assert_int_equal(node_stats(&w->s).hs_failed, 3);
	assert_int_equal(node_stats(&w->s).hs_cookie_sent, 1);
	assert_int_equal(count_events(&w->s, "\"event_type\":\"HandshakeLoad\""),
			 1);
	assert_true(has_event(&w->s, "\"under_load\":true"));
	/* a quiet second later, the next second is judged on its own; the
	 * mode ends when a whole second stayed under the threshold, told by
	 * the server's deadline, with no HS_INIT needed */
	assert_true(jv_endpoint_deadline(w->s.ep) <= 2000);
	w->now = 2000;
	jv_endpoint_tick(w->s.ep, w->now);
	assert_false(has_event(&w->s, "\"under_load\":false"));
	assert_true(jv_endpoint_deadline(w->s.ep) <= 3000);
	w->now = 3000;
	jv_endpoint_tick(w->s.ep, w->now);
	assert_true(has_event(&w->s, "\"under_load\":false"));
	assert_int_equal(count_events(&w->s, "\"event_type\":\"HandshakeLoad\""),
			 2);
	free_world(w);
}

JV_TEST(test_handshake_under_load)
{
	struct world *w = loaded_world(0);

	/* HS_INIT -> COOKIE_REPLY -> HS_INIT with mac2 -> HS_RESP */
	jv_endpoint_start(w->c.ep, w->now);
	pump(w);
	/* the first junk HS_INIT was within the threshold (a DH that
	 * failed), the second drew a cookie, then the client's */
	assert_int_equal(node_stats(&w->s).hs_cookie_sent, 2);
	assert_int_equal(w->c.nout, 1);          /* sent again at once */
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_BIRTH);
	pump(w);
	pump(w);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_int_equal(server_session(w).state, JV_STATE_ATTACHED);
	assert_int_equal(node_stats(&w->s).hs_ok, 1);
	assert_int_equal(node_stats(&w->s).hs_cookie_sent, 2);
	data_both_ways(w, 2);
	free_world(w);
}

/* Holds back what the server sends (cookie replies included). */
static struct dgram held[8];
static int nheld;

static bool hold_s2c(struct world *w, bool c2s, struct dgram *d)
{
	(void)w;
	if (c2s)
		return true;
	if (nheld < 8)
		held[nheld++] = *d;
	return false;
}

JV_TEST(test_cookie_wrong_source)
{
	struct world *w = loaded_world(0);
	struct dgram init2;

	/* a cookie for address 0 */
	assert_int_equal(init_with_cookie(w, &init2), 1);
	/* the same HS_INIT from another address: the cookie is not its own */
	to_server(w, &init2, 7);
	assert_int_equal(w->s.nout, 1);
	assert_int_equal(w->s.out[0].buf[0], JV_MSG_COOKIE_REPLY);
	assert_int_equal(node_stats(&w->s).hs_ok, 0);
	assert_false(server_has_session(w));
	w->s.nout = 0;
	/* from the address the cookie was made for, it goes through */
	to_server(w, &init2, 0);
	assert_int_equal(w->s.nout, 1);
	assert_int_equal(w->s.out[0].buf[0], JV_MSG_HS_RESP);
	assert_int_equal(node_stats(&w->s).hs_ok, 1);
	free_world(w);
}

JV_TEST(test_cookie_expired_secret)
{
	struct world *w = loaded_world(0);
	struct dgram init2;

	init_with_cookie(w, &init2);
	/* two minutes on, under load still: the secret that made the cookie
	 * is gone, and a new one is drawn for the next cookie */
	w->now += JV_COOKIE_SECRET_MS;
	load_up(w, 2);
	to_server(w, &init2, 0);
	assert_int_equal(w->s.nout, 1);
	assert_int_equal(w->s.out[0].buf[0], JV_MSG_COOKIE_REPLY);
	assert_int_equal(node_stats(&w->s).hs_ok, 0);
	free_world(w);
}

/* The seal key never changes, so no two COOKIE_REPLYs may share a nonce:
 * not within one secret's life, not across a rotation. */
JV_TEST(test_cookie_nonces_never_repeat)
{
	struct world *w = loaded_world(0);
	uint8_t seen[12][JV_COOKIE_NONCE_LEN];
	int n = 0;

	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 6; i++) {
			struct dgram d = junk_init(w, (uint8_t)(0x80 + i));
			struct jv_cookie_reply r;

			w->s.nout = 0;
			to_server(w, &d, (uint8_t)(20 + i));
			assert_int_equal(w->s.nout, 1);
			assert_int_equal(jv_cookie_reply_decode(
						 &r, w->s.out[0].buf,
						 w->s.out[0].len), 0);
			for (int j = 0; j < n; j++)
				assert_memory_not_equal(seen[j], r.nonce,
							JV_COOKIE_NONCE_LEN);
			memcpy(seen[n++], r.nonce, JV_COOKIE_NONCE_LEN);
		}
		w->now += JV_COOKIE_SECRET_MS;
		load_up(w, 2);
	}
	free_world(w);
}

/* An HS_INIT whose mac2 is zeros (sent without a cookie) and one whose
 * mac2 is wrong both draw a cookie under load, never a DH. */
JV_TEST(test_cookie_zero_or_wrong_mac2)
{
	struct world *w = loaded_world(0);
	struct dgram d = junk_init(w, 0x55);
	uint64_t sent = node_stats(&w->s).hs_cookie_sent;
	uint64_t failed = node_stats(&w->s).hs_failed;

	to_server(w, &d, 21);
	d.buf[JV_HS_INIT_MAC2_OFF] ^= 1;
	to_server(w, &d, 21);
	assert_int_equal(w->s.nout, 2);
	assert_int_equal(w->s.out[0].buf[0], JV_MSG_COOKIE_REPLY);
	assert_int_equal(w->s.out[1].buf[0], JV_MSG_COOKIE_REPLY);
	assert_int_equal(node_stats(&w->s).hs_cookie_sent, sent + 2);
	assert_int_equal(node_stats(&w->s).hs_failed, failed);
	free_world(w);
}

/* The same at the level of proto/cookie.c: a cookie stands while its
 * secret does, and no longer. */
JV_TEST(test_cookie_secret_rotation)
{
	struct jv_cookie_checker ck;
	struct jv_cookie_reply r;
	uint8_t pub[32], secret[32], nonce[24], msg[JV_HS_INIT_LEN];
	uint8_t out[JV_COOKIE_REPLY_LEN], cookie[JV_COOKIE_LEN];
	const uint8_t src[] = { 1, 10, 0, 0, 1 };

	memset(pub, 0x11, 32);
	memset(secret, 0x22, 32);
	memset(nonce, 0x33, 24);
	memset(msg, 0x44, sizeof(msg));
	jv_cookie_checker_init(&ck, pub);
	assert_true(jv_cookie_secret_due(&ck, 0));
	jv_cookie_secret_set(&ck, secret, 1000);
	assert_false(jv_cookie_secret_due(&ck, 1000));
	jv_hs_init_macs(&ck.keys, NULL, msg);
	assert_int_equal(jv_cookie_reply_make(&ck, msg, src, sizeof(src), nonce,
					      out, sizeof(out)),
			 JV_COOKIE_REPLY_LEN);
	assert_int_equal(jv_cookie_reply_decode(&r, out, sizeof(out)), 0);
	assert_int_equal(jv_cookie_reply_open(&ck.keys, &r,
					      msg + JV_HS_INIT_MAC1_OFF, cookie),
			 0);
	/* the AD is the mac1 of the HS_INIT it answers, and nothing else */
	{
		uint8_t mac1[JV_MAC_LEN];

		memcpy(mac1, msg + JV_HS_INIT_MAC1_OFF, JV_MAC_LEN);
		mac1[0] ^= 1;
		assert_int_equal(jv_cookie_reply_open(&ck.keys, &r, mac1,
						      cookie + 0),
				 JV_ERR_AUTH);
	}
	assert_int_equal(jv_cookie_reply_open(&ck.keys, &r,
					      msg + JV_HS_INIT_MAC1_OFF, cookie),
			 0);
	jv_hs_init_macs(&ck.keys, cookie, msg);
	assert_true(jv_hs_init_mac2_ok(&ck, msg, src, sizeof(src), 1000));
	assert_true(jv_hs_init_mac2_ok(&ck, msg, src,
				       sizeof(src), 1000 + JV_COOKIE_SECRET_MS - 1));
	assert_false(jv_hs_init_mac2_ok(&ck, msg, src, sizeof(src) - 1, 1000));
	assert_false(jv_hs_init_mac2_ok(&ck, msg, src,
					sizeof(src), 1000 + JV_COOKIE_SECRET_MS));
	assert_true(jv_cookie_secret_due(&ck, 1000 + JV_COOKIE_SECRET_MS));
	secret[0] ^= 1;
	jv_cookie_secret_set(&ck, secret, 1000 + JV_COOKIE_SECRET_MS);
	assert_false(jv_hs_init_mac2_ok(&ck, msg, src,
					sizeof(src), 1000 + JV_COOKIE_SECRET_MS));
	/* mac1 is unchanged by mac2: the Noise message and mac1 are what
	 * mac2 covers, and mac1 covers only the Noise message */
	assert_true(jv_hs_init_mac1_ok(&ck.keys, msg));
}

JV_TEST(test_cookie_reply_replayed)
{
	struct world *w = loaded_world(0);
	struct jv_path cp = { .proto = JV_PROTO_UDP, .local = 0 };
	struct dgram reply;

	nheld = 0;
	w->filter = hold_s2c;
	jv_endpoint_start(w->c.ep, w->now);
	pump(w);
	assert_int_equal(nheld, 1);
	reply = held[0];
	assert_int_equal(reply.buf[0], JV_MSG_COOKIE_REPLY);
	jv_endpoint_recv(w->c.ep, &cp, reply.buf, reply.len, w->now);
	assert_int_equal(w->c.nout, 1);          /* HS_INIT with mac2 */
	w->c.nout = 0;
	/* the same reply again: its HS_INIT has had its answer */
	jv_endpoint_recv(w->c.ep, &cp, reply.buf, reply.len, w->now);
	assert_int_equal(w->c.nout, 0);
	assert_int_equal(node_stats(&w->c).rx_auth_failed, 1);
	/* nor does a reply tampered with, or for another index, do anything */
	reply.buf[40] ^= 1;
	jv_endpoint_recv(w->c.ep, &cp, reply.buf, reply.len, w->now);
	assert_int_equal(w->c.nout, 0);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_BIRTH);
	free_world(w);
}

/* A cookie reply to an HS_INIT that already carried a cookie does not
 * draw another HS_INIT at once: the retry timer sends the next. */
JV_TEST(test_cookie_no_ping_pong)
{
	struct world *w = loaded_world(0);
	struct jv_path cp = { .proto = JV_PROTO_UDP, .local = 0 };
	struct dgram init2;

	nheld = 0;
	w->filter = hold_s2c;
	jv_endpoint_start(w->c.ep, w->now);
	pump(w);
	jv_endpoint_recv(w->c.ep, &cp, held[0].buf, held[0].len, w->now);
	init2 = w->c.out[0];
	w->c.nout = 0;
	nheld = 0;
	to_server(w, &init2, 5);  /* wrong address: another cookie */
	assert_int_equal(w->s.nout, 1);
	jv_endpoint_recv(w->c.ep, &cp, w->s.out[0].buf, w->s.out[0].len,
			 w->now);
	assert_int_equal(w->c.nout, 0);
	free_world(w);
}

/* ---- the per-source token bucket ---- */

JV_TEST(test_rate_limit_per_source)
{
	struct world *w = make_world_hs(NULL, 0, 1);   /* 1/s, burst 5 */
	struct jv_path a = { .proto = JV_PROTO_UDP, .len = 5,
			     .addr = { 10, 0, 0, 1, 1 }, .src_len = 4 };
	struct jv_path b = a, c = a;
	struct dgram d;

	b.addr[4] = 2;           /* another port: the same prefix */
	c.addr[3] = 2;           /* another prefix */
	w->now = 1000;
	for (int i = 0; i < 5; i++) {
		d = junk_init(w, (uint8_t)i);
		to_server_path(w, &d, i % 2 ? &a : &b);
	}
	assert_int_equal(node_stats(&w->s).hs_failed, 5);
	d = junk_init(w, 9);
	to_server_path(w, &d, &b);
	to_server_path(w, &d, &a);
	assert_int_equal(node_stats(&w->s).hs_failed, 5);
	assert_int_equal(node_stats(&w->s).hs_rate_limited, 2);
	assert_int_equal(w->s.nout, 0);
	to_server_path(w, &d, &c);
	assert_int_equal(node_stats(&w->s).hs_failed, 6);
	/* one a second comes back */
	w->now += 1000;
	to_server_path(w, &d, &a);
	to_server_path(w, &d, &a);
	assert_int_equal(node_stats(&w->s).hs_failed, 7);
	assert_int_equal(node_stats(&w->s).hs_rate_limited, 3);
	free_world(w);
}

/* A cookie reply never draws from the source's bucket: a forger of a
 * victim's address could otherwise spend the victim's budget so that it
 * never gets a cookie under load. Valid mac1s from one source are all
 * answered; the bucket stays full for that source's mac2. */
JV_TEST(test_cookie_replies_spend_no_tokens)
{
	struct world *w = loaded_world(1);            /* 1/s, burst 5 */
	struct jv_path a = { .proto = JV_PROTO_UDP, .len = 5,
			     .addr = { 10, 0, 0, 1, 1 }, .src_len = 4 };
	uint64_t sent = node_stats(&w->s).hs_cookie_sent;
	struct dgram d;

	for (int i = 0; i < 8; i++) {
		d = junk_init(w, (uint8_t)i);
		to_server_path(w, &d, &a);
		w->s.nout = 0;
	}
	assert_int_equal(node_stats(&w->s).hs_cookie_sent, sent + 8);
	assert_int_equal(node_stats(&w->s).hs_rate_limited, 0);
	free_world(w);
}

/* Under load the sources heard in the last second share
 * cookie_threshold_per_s: each bucket refills at threshold / sources
 * (at least 1, at most per_source_per_s), so a flood from many addresses
 * costs about the threshold in answers and DHs, not sources x
 * per_source_per_s; a source new to the table still has its burst. */
JV_TEST(test_sources_share_threshold_under_load)
{
	struct world *w = loaded_world(20);   /* threshold 1/s; burst 100 */
	struct dgram init2;

	init_with_cookie(w, &init2);
	/* the first does the DH (ok), replays of it fail after theirs,
	 * until the burst of 100 is spent */
	for (int i = 0; i < 101; i++) {
		to_server(w, &init2, 0);
		w->s.nout = 0;
	}
	assert_int_equal(node_stats(&w->s).hs_ok, 1);
	assert_int_equal(node_stats(&w->s).hs_rate_limited, 1);
	/* a second later: 1 more (threshold 1 / 2 sources, at least 1),
	 * not the 20 of per_source_per_s */
	w->now += 1000;
	for (int i = 0; i < 30; i++) {
		to_server(w, &init2, 0);
		w->s.nout = 0;
	}
	assert_int_equal(node_stats(&w->s).hs_rate_limited, 1 + 29);
	free_world(w);
}

/* Even a valid cookie does not buy more than the source's bucket. */
JV_TEST(test_rate_limit_with_cookie)
{
	struct world *w = loaded_world(1);
	struct dgram init2;

	init_with_cookie(w, &init2);
	for (int i = 0; i < 8; i++)
		to_server(w, &init2, 0);
	/* the first does the DH; then replays of it (failed) until the
	 * bucket of 5 is empty (one more failed: the first junk HS_INIT) */
	assert_int_equal(node_stats(&w->s).hs_ok, 1);
	assert_int_equal(node_stats(&w->s).hs_failed, 1 + 4);
	assert_int_equal(node_stats(&w->s).hs_rate_limited, 3);
	free_world(w);
}

/* ---- no reply larger than what asked for it ---- */

/* Delivers the client's datagrams one by one and checks every server
 * datagram each one draws against its size; what the server sends is then
 * carried to the client unless lose_s2c. HEARTBEAT_ACK (37 bytes for a
 * 36-byte HEARTBEAT) is the one exception: it answers only a fresh,
 * authentic heartbeat of a live session. */
static int checked;

static void step_checked(struct world *w, bool deliver)
{
	struct dgram q[MAXQ];
	int n = w->c.nout;

	memcpy(q, w->c.out, sizeof(q[0]) * (size_t)n);
	w->c.nout = 0;
	for (int i = 0; i < n; i++) {
		int before = w->s.nout;

		if ((w->lose_c2s >> q[i].path.local) & 1)
			continue;
		to_server(w, &q[i], (uint8_t)q[i].path.local);
		for (int j = before; j < w->s.nout; j++) {
			const struct dgram *r = &w->s.out[j];

			if (r->buf[0] == JV_MSG_CONTROL &&
			    r->buf[1] == JV_CTRL_HEARTBEAT_ACK)
				continue;
			assert_true(r->len <= q[i].len);
			checked++;
		}
	}
	if (!deliver)
		w->s.nout = 0;
	pump(w);
}

static void run_checked(struct world *w, uint64_t until, bool deliver)
{
	while (w->now < until) {
		w->now += 50;
		jv_endpoint_tick(w->c.ep, w->now);
		jv_endpoint_tick(w->s.ep, w->now);
		step_checked(w, deliver);
		step_checked(w, deliver);
		w->c.nevents = w->s.nevents = 0;
	}
}

JV_TEST(test_reply_size_handshake)
{
	struct world *w = loaded_world(0);

	checked = 0;
	jv_endpoint_start(w->c.ep, w->now);
	/* COOKIE_REPLY, then HS_RESP */
	run_checked(w, 1200, true);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_true(checked >= 2);
	assert_true(JV_COOKIE_REPLY_LEN <= JV_HS_INIT_LEN);
	assert_true(JV_HS_RESP_LEN <= JV_HS_INIT_LEN);
	free_world(w);
}

JV_TEST(test_reply_size_path_challenge)
{
	struct world *w = attached_world(NULL);

	checked = 0;
	run_checked(w, 3000, true);
	/* to udp-b: a request from a new path draws a PATH_CHALLENGE */
	jv_endpoint_transport_down(w->c.ep, 0, JV_R_LINK_DOWN, w->now);
	w->lose_c2s = w->lose_s2c = 1u << 0;
	run_checked(w, 12000, true);
	assert_string_equal(server_session(w).transport, "udp-b");
	assert_true(checked >= 2);   /* the challenge and the ACK at least */
	free_world(w);
}

JV_TEST(test_reply_size_tombstone)
{
	struct world *w = attached_world(NULL);

	checked = 0;
	/* the server ends the session; the client never hears it and talks
	 * on (heartbeats, probes, then reattach requests) to the tombstone */
	w->lose_s2c = ~0u;
	jv_endpoint_terminate(w->s.ep, NULL, JV_R_OPERATOR_TERMINATED, w->now);
	w->s.nout = 0;
	run_checked(w, 20000, false);
	assert_true(checked >= 4);
	free_world(w);
}
