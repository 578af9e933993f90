/* The initiator's handshake state survives whatever fails to authenticate:
 * a forged HS_RESP from a spoofed source, and a genuine reply that arrives
 * after the HS_INIT it answers has been sent again. */
#include <sodium.h>
#include <string.h>

#include "tests/unit/world.h"
#include "tests/unit/unit.h"

static const struct jv_path cpath = { .proto = JV_PROTO_UDP, .local = 0 };

/* An off-path attacker's HS_RESP: the receiver index is in clear in
 * HS_INIT, the rest is noise. */
static void forge_resp(const struct dgram *init, uint8_t *buf, uint8_t seed)
{
	memset(buf, seed, JV_HS_RESP_LEN);
	buf[0] = JV_MSG_HS_RESP;
	buf[1] = buf[2] = buf[3] = 0;
	memcpy(buf + 8, init->buf + 4, 4);
}

JV_TEST(test_forged_resp_first)
{
	struct world *w = make_world(NULL);
	struct dgram init, resp;
	uint8_t forged[JV_HS_RESP_LEN];

	jv_endpoint_start(w->c.ep, 0);
	init = w->c.out[0];
	w->c.nout = 0;
	to_server(w, &init, 0);
	resp = w->s.out[0];
	w->s.nout = 0;
	/* the forgery wins the race, several times and in every shape */
	for (int i = 0; i < JV_HS_RESP_LEN; i++) {
		forge_resp(&init, forged, (uint8_t)i);
		jv_endpoint_recv(w->c.ep, &cpath, forged, sizeof(forged), 1);
	}
	memcpy(forged, resp.buf, resp.len);
	forged[40] ^= 1;
	jv_endpoint_recv(w->c.ep, &cpath, forged, sizeof(forged), 1);
	/* nothing resent in reaction, nothing changed */
	assert_int_equal(w->c.nout, 0);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_BIRTH);
	jv_endpoint_recv(w->c.ep, &cpath, resp.buf, resp.len, 2);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	data_both_ways(w, 1);
	free_world(w);
}

/* Every HS_INIT drawn an instant forgery: the session still comes up. */
static bool forge_every_reply(struct world *w, bool c2s, struct dgram *d)
{
	uint8_t forged[JV_HS_RESP_LEN];

	if (c2s && d->buf[0] == JV_MSG_HS_INIT) {
		forge_resp(d, forged, 0x33);
		jv_endpoint_recv(w->c.ep, &cpath, forged, sizeof(forged),
				 w->now);
	}
	return true;
}

JV_TEST(test_forgery_for_every_init)
{
	struct world *w = make_world(NULL);

	w->filter = forge_every_reply;
	jv_endpoint_start(w->c.ep, 0);
	run_until_keep(w, 1000);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_int_equal(count_events(&w->s, "\"event_type\":\"SessionCreated\""),
			 1);
	free_world(w);
}

/* Round trip longer than the retry interval: the server's reply to the
 * first HS_INIT is held back (*resp1) until the client has sent its next
 * HS_INIT, which is handed back in *init2. */
static struct world *slow_reply(struct dgram *resp1, struct dgram *init2)
{
	struct world *w = make_world(NULL);
	struct dgram init1;

	jv_endpoint_start(w->c.ep, 0);
	init1 = w->c.out[0];
	w->c.nout = 0;
	to_server(w, &init1, 0);
	*resp1 = w->s.out[0];
	w->s.nout = 0;
	w->now = jv_endpoint_policy(w->c.ep)->heartbeat_volatile_ms + 10;
	jv_endpoint_tick(w->c.ep, w->now);
	assert_int_equal(w->c.nout, 1);
	*init2 = w->c.out[0];
	w->c.nout = 0;
	return w;
}

/* The second HS_INIT reached the server, which redid the keys; the reply
 * to the first arrives first. */
JV_TEST(test_late_genuine_reply)
{
	struct dgram init2, resp1, resp2;
	struct world *w = slow_reply(&resp1, &init2);

	to_server(w, &init2, 0);
	resp2 = w->s.out[0];
	w->s.nout = 0;
	jv_endpoint_recv(w->c.ep, &cpath, resp1.buf, resp1.len, w->now);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	jv_endpoint_recv(w->c.ep, &cpath, resp2.buf, resp2.len, w->now);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	/* the client's first packet (a heartbeat) tells the server which
	 * handshake completed; until then it sends under the newest */
	w->now += 10;
	jv_endpoint_tick(w->c.ep, w->now);
	pump(w);
	data_both_ways(w, 1);
	run_until(w, 10000);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_int_equal(server_session(w).state, JV_STATE_ATTACHED);
	free_world(w);
}

/* The same, with the second HS_INIT lost on the way. */
JV_TEST(test_late_reply_second_init_lost)
{
	struct dgram init2, resp1;
	struct world *w = slow_reply(&resp1, &init2);

	jv_endpoint_recv(w->c.ep, &cpath, resp1.buf, resp1.len, w->now);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	data_both_ways(w, 1);
	free_world(w);
}

/* The driver hears which path the session is bound to: a resent HS_INIT
 * from the same path binds nothing more, one from another path (the
 * client's NAT rebound between them) moves the binding there. */
JV_TEST(test_resent_init_binding)
{
	struct dgram init2, resp1;
	struct world *w = slow_reply(&resp1, &init2);

	assert_int_equal(w->s.bound[0][0], 1);
	assert_int_equal(w->s.binds, 1);
	to_server(w, &init2, 0);
	assert_int_equal(w->s.nout, 1);
	assert_int_equal(w->s.bound[0][0], 1);
	assert_int_equal(w->s.binds, 1);
	w->s.nout = 0;
	to_server(w, &init2, 3);
	/* the replay guard refuses the very same HS_INIT: nothing moves */
	assert_int_equal(w->s.bound[0][0], 1);
	assert_int_equal(w->s.bound[0][3], 0);
	w->now += jv_endpoint_policy(w->c.ep)->heartbeat_volatile_ms;
	jv_endpoint_tick(w->c.ep, w->now);
	assert_true(w->c.nout >= 1);
	to_server(w, &w->c.out[w->c.nout - 1], 3);
	w->c.nout = 0;
	assert_int_equal(w->s.bound[0][0], 0);
	assert_int_equal(w->s.bound[0][3], 1);
	assert_int_equal(w->s.binds, 2);
	jv_endpoint_terminate(w->s.ep, NULL, JV_R_OPERATOR_TERMINATED, w->now);
	assert_int_equal(w->s.bound[0][3], 0);
	free_world(w);
}

/* HS_INIT send times, with every one of them lost. */
static uint64_t sent_at[16];
static int nsent, losses;

static bool lose_inits(struct world *w, bool c2s, struct dgram *d)
{
	if (c2s && d->buf[0] == JV_MSG_HS_INIT) {
		if (nsent < 16)
			sent_at[nsent++] = w->now;
		return nsent > losses;
	}
	return true;
}

/* The first retries come soon and back off, doubling from 250 ms up to
 * heartbeat_volatile_ms (2 s by default): a flood that fills the
 * server's receive queue costs a new client a quarter second per lost
 * HS_INIT at first, and steady retries cost the server no more than the
 * policy allows. */
JV_TEST(test_init_retry_backs_off)
{
	/* sent at 0 (carried across at the first pump, 50) and then */
	static const uint64_t want[] = { 50, 250, 750, 1750, 3750, 5750 };
	struct world *w = make_world(NULL);

	nsent = 0;
	losses = 100;
	w->filter = lose_inits;
	jv_endpoint_start(w->c.ep, 0);
	run_until(w, 6000);
	assert_int_equal(nsent, 6);
	for (int i = 0; i < 6; i++)
		assert_int_equal(sent_at[i], want[i]);
	free_world(w);
}

/* One HS_INIT lost: the session is up a quarter second later. */
JV_TEST(test_one_lost_init_costs_little)
{
	struct world *w = make_world(NULL);

	nsent = 0;
	losses = 1;
	w->filter = lose_inits;
	jv_endpoint_start(w->c.ep, 0);
	run_until(w, 300);
	assert_int_equal(nsent, 2);
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	free_world(w);
}
