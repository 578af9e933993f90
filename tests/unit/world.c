/* The engine test harness (world.h): the test world's failures become
 * cmocka failures. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

#include "tests/unit/world.h"

static void fail_test(const char *what)
{
	fail_msg("%s", what);
}

__attribute__((constructor)) static void fail_in_cmocka(void)
{
	world_fail = fail_test;
}

struct world *make_world(const struct jv_policy *p)
{
	return make_world_hs(p, 0, 0);
}

struct world *make_world_hs(const struct jv_policy *p, uint32_t threshold,
			    uint32_t per_source)
{
	struct world_opts o = { .policy = p, .cookie_threshold = threshold,
				.per_source = per_source };
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	assert_int_equal(world_init(w, &o), 0);
	return w;
}

void free_world(struct world *w)
{
	world_fini(w);
	free(w);
}

struct jv_session_info server_session(struct world *w)
{
	struct jv_session_info si;
	uint32_t cur = 0;

	assert_true(jv_endpoint_session_next(w->s.ep, &cur, w->now, &si));
	return si;
}

struct world *attached_world(const struct jv_policy *p)
{
	struct world *w = make_world(p);

	jv_endpoint_start(w->c.ep, 0);
	assert_int_equal(w->c.nout, 1);
	assert_int_equal(w->c.out[0].len, JV_HS_INIT_LEN);
	pump(w);       /* HS_INIT -> server, HS_RESP -> client */
	assert_int_equal(jv_endpoint_client_state(w->c.ep), JV_STATE_ATTACHED);
	assert_int_equal(server_session(w).state, JV_STATE_ATTACHED);
	return w;
}

void run_until(struct world *w, uint64_t until)
{
	world_run(w, until, false);
}

void run_until_keep(struct world *w, uint64_t until)
{
	world_run(w, until, true);
}

void data_both_ways(struct world *w, int n)
{
	uint8_t pkt[40];
	int cd = w->c.delivered, sd = w->s.delivered;

	for (int i = 0; i < n; i++) {
		assert_int_equal(jv_endpoint_send_inner(w->c.ep,
				 ipv4(pkt, 0x0a4d0002, 0x0a4d0001), 40, w->now), 0);
		assert_int_equal(jv_endpoint_send_inner(w->s.ep,
				 ipv4(pkt, 0x0a4d0001, 0x0a4d0002), 40, w->now), 0);
		pump(w);
		pump(w);
	}
	assert_int_equal(w->s.delivered - sd, n);
	assert_int_equal(w->c.delivered - cd, n);
}

struct jv_prefix prefix4(uint32_t addr, uint8_t len)
{
	return (struct jv_prefix){ .addr = addr, .prefix = len,
				   .family = JV_IP4 };
}

void gateway_client_cfg(struct jv_endpoint_cfg *cc, const char *name,
			const uint8_t priv[32], const uint8_t server_pub[32],
			struct node *ctx)
{
	memset(cc, 0, sizeof(*cc));
	cc->role = JV_ROLE_CLIENT;
	snprintf(cc->node_id, sizeof(cc->node_id), "%s", name);
	memcpy(cc->private_key, priv, 32);
	memcpy(cc->server_public_key, server_pub, 32);
	jv_policy_defaults(&cc->policy);
	cc->ntransports = 1;
	snprintf(cc->transports[0].id, sizeof(cc->transports[0].id), "udp-a");
	cc->transports[0].proto = JV_PROTO_UDP;
	cc->ops = world_ops;
	cc->ctx = ctx;
}

void gateway_pump(struct node *srv, struct node *cl, int ncl, uint64_t now)
{
	for (int i = 0; i < ncl; i++) {
		struct node *c = &cl[i];

		for (int k = 0; k < c->nout; k++) {
			struct jv_path p = { .proto = c->out[k].path.proto,
					     .len = 1 };

			p.addr[0] = (uint8_t)i;
			jv_endpoint_recv(srv->ep, &p, c->out[k].buf,
					 c->out[k].len, now);
		}
		c->nout = 0;
	}
	for (int k = 0; k < srv->nout; k++) {
		struct dgram *d = &srv->out[k];
		struct jv_path p = { .proto = d->path.proto, .local = 0 };

		assert_true(d->path.addr[0] < ncl);
		jv_endpoint_recv(cl[d->path.addr[0]].ep, &p, d->buf, d->len,
				 now);
	}
	srv->nout = 0;
}

void gateway_free(struct node *srv, struct node *cl, int ncl)
{
	for (int i = 0; i < ncl; i++)
		jv_endpoint_free(cl[i].ep);
	jv_endpoint_free(srv->ep);
}
