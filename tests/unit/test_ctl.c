/* The control commands (one table: handlers on real endpoints, renderers,
 * usage) and the control socket (a real Unix socket driven by the real
 * loop). */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/ctl_reply.h"
#include "core/audit.h"
#include "io/ctl.h"
#include "io/loop.h"
#include "tests/unit/world.h"
#include "tests/unit/unit.h"

static void nop_send(void *c, const struct jv_path *p, const uint8_t *b,
		     size_t l)
{
	(void)c, (void)p, (void)b, (void)l;
}

static void nop_deliver(void *c, const uint8_t *b, size_t l)
{
	(void)c, (void)b, (void)l;
}

static void nop_event(void *c, const char *b, size_t l)
{
	(void)c, (void)b, (void)l;
}

static void rnd(void *c, uint8_t *b, size_t l)
{
	(void)c;
	randombytes_buf(b, l);
}

static struct jv_endpoint *endpoint(enum jv_role role)
{
	static struct jv_peer_cfg peer = { .name = "laptop", .nallowed = 0 };
	struct jv_endpoint_cfg c;
	struct jv_endpoint *ep;

	memset(&c, 0, sizeof(c));
	c.role = role;
	snprintf(c.node_id, sizeof(c.node_id), "n\"1");
	randombytes_buf(c.private_key, 32);
	jv_policy_defaults(&c.policy);
	crypto_scalarmult_base(c.server_public_key, c.private_key);
	crypto_scalarmult_base(peer.public_key, c.server_public_key);
	c.ntransports = 2;
	snprintf(c.transports[0].id, sizeof(c.transports[0].id), "udp-a");
	snprintf(c.transports[1].id, sizeof(c.transports[1].id), "tcp-a");
	c.transports[0].proto = JV_PROTO_UDP;
	c.transports[1].proto = JV_PROTO_TCP;
	c.peers = &peer;
	c.npeers = 1;
	c.max_sessions = 4;
	c.ops = (struct jv_endpoint_ops){ nop_send, nop_deliver, nop_event, rnd };
	assert_int_equal(jv_endpoint_new(&c, 1000, &ep), 0);
	if (role == JV_ROLE_CLIENT)
		jv_endpoint_start(ep, 1000);
	return ep;
}

/* One request through the table, as the daemon makes it. */
static json_t *call_args(struct jv_ctl_node *n, const char *cmd,
			 const char *arg, uint64_t now)
{
	json_t *args = arg ? json_pack("[s]", arg) : json_array();
	json_t *r = jv_ctl_dispatch(n, cmd, args, now);

	json_decref(args);
	assert_non_null(r);
	return r;
}

/* String fields of a reply row, as expected: key, value, ..., NULL. */
static void assert_fields(const json_t *row, ...)
{
	const char *key, *want, *got;
	va_list ap;

	va_start(ap, row);
	while ((key = va_arg(ap, const char *)) != NULL) {
		want = va_arg(ap, const char *);
		got = json_string_value(json_object_get(row, key));
		if (!got || strcmp(got, want) != 0)
			fail_msg("%s: %s, expected %s", key,
				 got ? got : "(none)", want);
	}
	va_end(ap);
}

static json_t *call(struct jv_ctl_node *n, const char *cmd, uint64_t now)
{
	return call_args(n, cmd, NULL, now);
}

static void assert_refused(json_t *r, const char *why)
{
	const char *e = json_string_value(json_object_get(r, "error"));

	assert_true(json_is_false(json_object_get(r, "ok")));
	if (!e || !strstr(e, why))
		fail_msg("error \"%s\", want \"%s\"", e ? e : "(none)", why);
	json_decref(r);
}

JV_TEST(test_replies)
{
	struct jv_endpoint *ep = endpoint(JV_ROLE_CLIENT);
	struct jv_ctl_node n = { ep, "n\"1", JV_ROLE_CLIENT, 0 };
	json_t *r;
	const char *text;

	r = call(&n, "status", 5000);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r, "role")),
			    "client");
	assert_int_equal(json_integer_value(json_object_get(r, "uptime_ms")), 5000);
	assert_string_equal(json_string_value(json_object_get(r, "policy_version")),
			    "1.0");
	assert_int_equal(json_integer_value(json_object_get(
		json_object_get(r, "sessions"), "BIRTH")), 1);
	json_decref(r);

	r = call(&n, "sessions", 5000);
	assert_int_equal(json_array_size(json_object_get(r, "sessions")), 1);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(r, "sessions"), 0), "state")), "BIRTH");
	assert_int_equal(strlen(json_string_value(json_object_get(json_array_get(
		json_object_get(r, "sessions"), 0), "session_id"))), 32);
	json_decref(r);

	r = call(&n, "transports", 5000);
	assert_int_equal(json_array_size(json_object_get(r, "transports")), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
		json_object_get(r, "transports"), 1), "proto")), "tcp");
	json_decref(r);

	r = call(&n, "metrics", 5000);
	text = json_string_value(json_object_get(r, "text"));
	assert_non_null(text);
	/* the node label escapes its quote */
	assert_non_null(strstr(text, "jvpn_up{node=\"n\\\"1\"} 1\n"));
	assert_non_null(strstr(text, "jvpn_sessions{node=\"n\\\"1\",state=\"BIRTH\"} 1\n"));
	assert_non_null(strstr(text, "# TYPE jvpn_rx_packets_total counter\n"));
	/* one name, where the daemon lost packets as its label */
	assert_non_null(strstr(text, "jvpn_dropped_total{node=\"n\\\"1\","
			       "where=\"udp_rx_queue\"} 0\n"));
	assert_non_null(strstr(text, "jvpn_tun_offload{node=\"n\\\"1\","
			       "kind=\"tso\"} 0\n"));
	assert_non_null(strstr(text, "# TYPE jvpn_tun_gso_packets_total "
			       "counter\n"));
	assert_non_null(strstr(text, "jvpn_udp_offload_total{node=\"n\\\"1\","
			       "kind=\"gro_read\"} 0\n"));
	/* CONTRACT section 8 names this one */
	assert_non_null(strstr(text,
			       "# TYPE jvpn_inner_source_rejected_total counter\n"));
	/* one HELP and TYPE for the five results of jvpn_handshake_total */
	assert_non_null(strstr(text, "# TYPE jvpn_handshake_total counter\n"));
	assert_null(strstr(strstr(text, "# TYPE jvpn_handshake_total") + 1,
			   "# TYPE jvpn_handshake_total"));
	for (size_t i = 0; i < 5; i++) {
		static const char *const res[] = { "ok", "bad_mac", "cookie_sent",
						   "rate_limited", "failed" };
		char want[96];

		snprintf(want, sizeof(want),
			 "jvpn_handshake_total{node=\"n\\\"1\",result=\"%s\"} 0\n",
			 res[i]);
		assert_non_null(strstr(text, want));
	}
	assert_non_null(strstr(text, "jvpn_transport_up{node=\"n\\\"1\",transport=\"tcp-a\"}"));
	/* every sample line: name{labels} value */
	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		const char *sp = strchr(l, ' ');

		if (*l == '#')
			continue;
		assert_non_null(sp);
		assert_true(strncmp(l, "jvpn_", 5) == 0);
		assert_true(sp[1] >= '0' && sp[1] <= '9');
	}
	json_decref(r);
	jv_endpoint_free(ep);
}

/* ctl terminate takes the full id or the 8-hex prefix timeline and
 * metrics print; anything else is bad input. */
JV_TEST(test_session_id_arg)
{
	static const struct {
		const char *arg;
		int len;
		const char *hex;
	} rows[] = {
		{ "0123abcd", 8, "0123abcd" },
		{ "0123ABCD", 8, "0123abcd" },
		{ "0123abcd4", 9, "0123abcd4" },
		{ "00112233445566778899aabbccddeeff", 32,
		  "00112233445566778899aabbccddeeff" },
		{ "0123abc", JV_ERR_INVAL, NULL },            /* too short */
		{ "00112233445566778899aabbccddeeff0", JV_ERR_INVAL, NULL },
		{ "0123abcg", JV_ERR_INVAL, NULL },
		{ "0123abc ", JV_ERR_INVAL, NULL },
		{ " 0123abcd", JV_ERR_INVAL, NULL },
		{ "xyz", JV_ERR_INVAL, NULL },
		{ "", JV_ERR_INVAL, NULL },
	};
	char out[33];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int rc = jv_ctl_session_prefix(rows[i].arg, out);

		if (rc != rows[i].len)
			fail_msg("\"%s\": %d, want %d", rows[i].arg, rc,
				 rows[i].len);
		if (rows[i].hex)
			assert_string_equal(out, rows[i].hex);
	}
	assert_int_equal(jv_ctl_session_prefix(NULL, out), JV_ERR_INVAL);
}

JV_TEST(test_find_session)
{
	struct jv_endpoint *ep = endpoint(JV_ROLE_CLIENT);
	struct jv_session_info si;
	uint32_t cur = 0;
	uint8_t id[16];
	char hex[33], other[33];

	assert_true(jv_endpoint_session_next(ep, &cur, 1000, &si));
	jv_hex16(si.session_id, hex);
	memset(id, 0, sizeof(id));
	assert_int_equal(jv_ctl_find_session(ep, hex, 1000, id), 1);
	assert_memory_equal(id, si.session_id, 16);
	hex[8] = '\0';                    /* the short id */
	memset(id, 0, sizeof(id));
	assert_int_equal(jv_ctl_find_session(ep, hex, 1000, id), 1);
	assert_memory_equal(id, si.session_id, 16);
	/* another first digit: no session */
	snprintf(other, sizeof(other), "%c%s", hex[0] == '0' ? '1' : '0',
		 hex + 1);
	assert_int_equal(jv_ctl_find_session(ep, other, 1000, id), 0);
	jv_endpoint_free(ep);
}

/* Unknown commands and wrong argument counts are refused by the table,
 * before any handler runs. */
JV_TEST(test_dispatch_refuses)
{
	struct jv_endpoint *ep = endpoint(JV_ROLE_SERVER);
	struct jv_ctl_node n = { ep, "gw", JV_ROLE_SERVER, 0 };
	json_t *two = json_pack("[s, s]", "a", "b");

	assert_refused(call(&n, "nope", 10), "unknown command 'nope'");
	assert_refused(call_args(&n, "status", "x", 10),
		       "status: takes no arguments");
	assert_refused(call(&n, "terminate", 10), "terminate: takes SESSION_ID");
	assert_refused(jv_ctl_dispatch(&n, "policy-reload", two, 10),
		       "policy-reload: takes FILE");
	assert_refused(call(&n, "policy-reload", 10), "policy-reload: takes FILE");
	json_decref(two);
	jv_endpoint_free(ep);
}

static struct jv_ctl_node server_node(struct world *w)
{
	return (struct jv_ctl_node){ w->s.ep, "gw-1", JV_ROLE_SERVER, 0 };
}

/* terminate on a gateway with an attached client: by the short id, the
 * session ends operator_terminated and the client is told. */
JV_TEST(test_terminate)
{
	struct world *w = attached_world(NULL);
	struct jv_ctl_node n = server_node(w);
	struct jv_session_info si = server_session(w);
	char hex[33], other[33];
	json_t *r;

	jv_hex16(si.session_id, hex);
	assert_refused(call_args(&n, "terminate", "xyz", w->now),
		       "terminate: not a session id");
	snprintf(other, sizeof(other), "%c%.7s", hex[0] == '0' ? '1' : '0',
		 hex + 1);
	r = call_args(&n, "terminate", other, w->now);
	assert_refused(r, "terminate: no live session ");
	w->s.nevents = w->c.nevents = 0;
	hex[8] = '\0';
	for (char *p = hex; *p; p++)       /* operators may type capitals */
		*p = (char)(*p >= 'a' ? *p - 'a' + 'A' : *p);
	r = call_args(&n, "terminate", hex, w->now);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_int_equal(json_object_size(r), 1);
	json_decref(r);
	assert_true(has_event(&w->s, "\"reason_code\":\"operator_terminated\""));
	r = call(&n, "status", w->now);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(r,
				"sessions"), "ATTACHED")), 0);
	json_decref(r);
	pump(w);
	assert_true(has_event(&w->c, "\"reason_code\":\"peer_terminated\""));
	/* a second time: no live session by that id */
	assert_refused(call_args(&n, "terminate", hex, w->now),
		       "no live session");
	free_world(w);
}

/* sessions and transports name the peer and its outer address on both
 * ends (CONTRACT section 8); the gateway lists its bound transports. */
JV_TEST(test_peer_and_remote)
{
	struct world *w = attached_world(NULL);
	struct jv_ctl_node sn = server_node(w);
	struct jv_ctl_node cn = { w->c.ep, "laptop", JV_ROLE_CLIENT, 0 };
	json_t *r, *row;

	r = call(&sn, "sessions", w->now);
	row = json_array_get(json_object_get(r, "sessions"), 0);
	assert_fields(row, "peer", "laptop", "remote", "path-0", NULL);
	json_decref(r);
	r = call(&cn, "sessions", w->now);
	row = json_array_get(json_object_get(r, "sessions"), 0);
	assert_fields(row, "peer", "laptop", "remote", "path-0", NULL);
	json_decref(r);

	r = call(&cn, "transports", w->now);
	assert_int_equal(json_array_size(json_object_get(r, "transports")), 2);
	row = json_array_get(json_object_get(r, "transports"), 1);
	assert_fields(row, "id", "udp-b", "remote", "path-1", "peer", "laptop",
		      NULL);
	/* the fields it had are all still there */
	assert_non_null(json_object_get(row, "rtt_ms"));
	assert_non_null(json_object_get(row, "last_rx_age_ms"));
	json_decref(r);
	r = call(&sn, "transports", w->now);
	assert_int_equal(json_array_size(json_object_get(r, "transports")), 1);
	row = json_array_get(json_object_get(r, "transports"), 0);
	assert_fields(row, "id", "udp-a", "proto", "udp", "state", "active",
		      "peer", "laptop", "remote", "path-0", NULL);
	assert_true(json_is_null(json_object_get(row, "rtt_ms")));
	json_decref(r);
	free_world(w);
}

/* Metric names follow Prometheus conventions: counters end in _total,
 * units are base units, and no label is per session. */
JV_TEST(test_metrics_conventions)
{
	struct world *w = attached_world(NULL);
	struct jv_ctl_node nodes[2] = {
		server_node(w), { w->c.ep, "laptop", JV_ROLE_CLIENT, 0 } };

	data_both_ways(w, 3);
	for (int k = 0; k < 2; k++) {
		char *text = jv_ctl_metrics_text(&nodes[k], w->now);

		assert_non_null(text);
		for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
			char name[128], type[16];

			if (sscanf(l, "# TYPE %127s %15s", name, type) == 2 &&
			    strcmp(type, "counter") == 0) {
				size_t n = strlen(name);

				if (n < 6 || strcmp(name + n - 6, "_total"))
					fail_msg("counter %s: no _total", name);
			}
			if (*l == '#')
				continue;
			if (strstr(l, "session=") || strstr(l, "_ms{") ||
			    strstr(l, "_ms "))
				fail_msg("%.*s", (int)strcspn(l, "\n"), l);
		}
		/* the bytes carried, as counters over the run */
		assert_null(strstr(text, "jvpn_inner_received_bytes_total{"
					 "node=\"gw-1\"} 0\n"));
		assert_non_null(strstr(text, "jvpn_inner_received_bytes_total{"));
		if (k == 0) {
			/* per configured peer: bounded by the config */
			assert_non_null(strstr(text, "jvpn_peer_attached{node=\"gw-1\","
						     "peer=\"laptop\"} 1\n"));
			assert_null(strstr(text, "jvpn_transport_rtt_seconds"));
		} else {
			assert_non_null(strstr(text, "# TYPE jvpn_transport_rtt_seconds gauge\n"));
			assert_null(strstr(text, "jvpn_peer_attached"));
		}
		free(text);
	}
	free_world(w);
}

static void testdata(char *out, size_t cap, const char *name)
{
	const char *d = getenv("JV_TESTDATA");

	snprintf(out, cap, "%s/policy/%s", d ? d : "tests/data", name);
}

/* policy-reload applies a valid file (PolicyLoaded) and refuses a bad one
 * with the loader's FILE:LINE message (PolicyRejected), the old policy
 * still in force. */
JV_TEST(test_policy_reload)
{
	struct world *w = attached_world(NULL);
	struct jv_ctl_node n = server_node(w);
	char path[512];
	json_t *r;

	w->s.nevents = 0;
	testdata(path, sizeof(path), "tuned.yaml");
	r = call_args(&n, "policy-reload", path, w->now);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_string_equal(json_string_value(json_object_get(r,
				"policy_version")), "1.2");
	json_decref(r);
	assert_string_equal(jv_endpoint_policy(w->s.ep)->version, "1.2");
	assert_true(has_event(&w->s, "\"event_type\":\"PolicyLoaded\""));

	w->s.nevents = 0;
	testdata(path, sizeof(path), "cross-field.yaml");
	r = call_args(&n, "policy-reload", path, w->now);
	assert_refused(r, "cross-field.yaml:");
	assert_true(has_event(&w->s, "\"event_type\":\"PolicyRejected\""));
	assert_string_equal(jv_endpoint_policy(w->s.ep)->version, "1.2");

	w->s.nevents = 0;
	assert_refused(call_args(&n, "policy-reload", "/nonexistent/p.yaml",
				 w->now), "/nonexistent/p.yaml: cannot open");
	assert_true(has_event(&w->s, "\"event_type\":\"PolicyRejected\""));
	free_world(w);
}

/* The daemon's reload, as the ctl row sees it: what it says, or why not. */
static int fake_reload(void *ctx, uint64_t now, char *msg, size_t cap)
{
	int *calls = ctx;

	(void)now;
	if ((*calls)++ == 0) {
		snprintf(msg, cap, "1 peers (0 added, 1 changed, 0 removed)");
		return 0;
	}
	snprintf(msg, cap, "/etc/jvpn/gw.yaml:0: listen: changed; a restart "
		 "is needed to apply it");
	return JV_ERR_INVAL;
}

JV_TEST(test_reload_row)
{
	struct world *w = attached_world(NULL);
	struct jv_ctl_node n = server_node(w);
	int calls = 0;
	json_t *r;

	assert_refused(call(&n, "reload", w->now), "reload: not available");
	n.reload = fake_reload;
	n.ctx = &calls;
	r = call(&n, "reload", w->now);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_fields(r, "detail", "1 peers (0 added, 1 changed, 0 removed)",
		      "policy_version", "1.0", NULL);
	json_decref(r);
	assert_refused(call(&n, "reload", w->now),
		       "reload: /etc/jvpn/gw.yaml:0: listen: changed");
	assert_refused(call_args(&n, "reload", "x", w->now),
		       "reload: takes no arguments");
	assert_int_equal(calls, 2);
	free_world(w);
}

JV_TEST(test_switch_row)
{
	struct world *w = attached_world(NULL);
	struct jv_ctl_node s = server_node(w);
	struct jv_ctl_node n = { w->c.ep, "laptop", JV_ROLE_CLIENT, 0 };
	json_t *r;

	assert_int_equal(jv_ctl_cmd_find("switch")->arg,
			 JV_CTL_ARG_TRANSPORT_ID);
	assert_refused(call(&n, "switch", w->now), "switch: takes TRANSPORT_ID");
	assert_refused(call_args(&s, "switch", "udp-b", w->now),
		       "switch: only a client");
	assert_refused(call_args(&n, "switch", "nope", w->now),
		       "switch: no transport 'nope' (the configured ones: "
		       "udp-a, udp-b)");
	assert_refused(call_args(&n, "switch", "udp-a", w->now),
		       "udp-a is the active transport already");
	w->c.nevents = 0;
	r = call_args(&n, "switch", "udp-b", w->now);
	assert_true(json_is_true(json_object_get(r, "ok")));
	assert_fields(r, "transport", "udp-b", NULL);
	json_decref(r);
	assert_true(has_event(&w->c, "\"event_type\":\"ReattachAttempt\""));
	assert_refused(call_args(&n, "switch", "udp-a", w->now),
		       "not now: a reattach is under way");
	run_until(w, w->now + 500);
	assert_string_equal(server_session(w).transport, "udp-b");
	/* back at once: the limiter's cooldown */
	w->c.nevents = 0;
	assert_refused(call_args(&n, "switch", "udp-a", w->now),
		       "switch: denied (cooldown_active)");
	assert_true(has_event(&w->c, "\"event_type\":\"TransportSwitchDenied\""));
	free_world(w);
}

/* What `jvpn ctl` prints for each reply: byte for byte what it printed
 * before the table (tests/net grep these). */
static char *render(const char *cmd, const char *reply)
{
	const struct jv_ctl_cmd *c = jv_ctl_cmd_find(cmd);
	json_t *r = json_loads(reply, 0, NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(c);
	assert_non_null(r);
	c->render(f, c, r);
	fclose(f);
	json_decref(r);
	return buf;
}

JV_TEST(test_render)
{
	static const struct {
		const char *cmd, *reply, *text;
	} rows[] = {
		{ "status",
		  "{\"ok\": true, \"node_id\": \"gw-1\", \"role\": \"server\", "
		  "\"uptime_ms\": 1234, \"policy_version\": \"1.0\", \"sessions\": "
		  "{\"BIRTH\": 0, \"ATTACHED\": 1, \"TERMINATED\": 12}}",
		  "node_id          gw-1  \n"
		  "role             server  \n"
		  "uptime_ms        1234  \n"
		  "policy_version   1.0  \n"
		  "sessions:\n"
		  "  BIRTH        0\n"
		  "  ATTACHED     1\n"
		  "  TERMINATED   12\n" },
		{ "sessions",
		  "{\"ok\": true, \"sessions\": [{\"session_id\": "
		  "\"00112233445566778899aabbccddeeff\", \"peer\": \"laptop\", "
		  "\"state\": \"ATTACHED\", \"state_version\": 3, \"transport\": "
		  "\"udp-a\", \"session_age_ms\": 123456, \"transportless_age_ms\": "
		  "0, \"switches_last_min\": 1, \"bytes_in\": 1000, \"bytes_out\": "
		  "20000000, \"key_epoch\": 0, \"remote\": \"[2001:db8::1]:443\"}, "
		  "{\"session_id\": "
		  "\"ffeeddccbbaa99887766554433221100\", \"peer\": "
		  "\"phone-with-long-name\", \"state\": \"DEGRADED\", "
		  "\"state_version\": 12, \"transport\": null, \"session_age_ms\": "
		  "5, \"transportless_age_ms\": 4, \"switches_last_min\": 0, "
		  "\"bytes_in\": 0, \"bytes_out\": 0, \"key_epoch\": 2}]}",
		  "session_id                        peer                  remote             state     state_version  transport  session_age_ms  transportless_age_ms  switches_last_min  bytes_in  bytes_out  \n"
		  "00112233445566778899aabbccddeeff  laptop                [2001:db8::1]:443  ATTACHED              3  udp-a              123456                     0                  1      1000   20000000  \n"
		  "ffeeddccbbaa99887766554433221100  phone-with-long-name  -                  DEGRADED             12  -                       5                     4                  0         0          0  \n" },
		{ "transports",
		  "{\"ok\": true, \"transports\": [{\"id\": \"udp-a\", \"proto\": "
		  "\"udp\", \"state\": \"active\", \"loss_ratio\": 0.0, \"rtt_ms\": "
		  "12, \"last_rx_age_ms\": 40, \"peer\": \"laptop\", \"remote\": "
		  "\"192.0.2.1:51820\"}, {\"id\": \"tcp-backup-b\", "
		  "\"proto\": \"tcp\", \"state\": \"dead\", \"loss_ratio\": 1.0, "
		  "\"rtt_ms\": 0, \"last_rx_age_ms\": null}]}",
		  "id            proto  state   loss_ratio  rtt_ms  last_rx_age_ms  peer    remote           \n"
		  "udp-a         udp    active      0.0000      12              40  laptop  192.0.2.1:51820  \n"
		  "tcp-backup-b  tcp    dead        1.0000       0  -               -       -                \n" },
		{ "transports", "{\"ok\": true, \"transports\": []}",
		  "id  proto  state  loss_ratio  rtt_ms  last_rx_age_ms  peer  remote  \n" },
		{ "metrics",
		  "{\"ok\": true, \"text\": \"# HELP jvpn_up x\\njvpn_up{node=\\\"a\\\"} 1\\n\"}",
		  "# HELP jvpn_up x\njvpn_up{node=\"a\"} 1\n" },
		{ "terminate", "{\"ok\": true}", "ok\n" },
		{ "policy-reload", "{\"ok\": true, \"policy_version\": \"2\"}",
		  "ok\n" },
		{ "reload", "{\"ok\": true, \"detail\": \"2 peers (1 added, 0 "
		  "changed, 0 removed); policy 1.0 unchanged\"}",
		  "2 peers (1 added, 0 changed, 0 removed); policy 1.0 unchanged\n" },
		{ "switch", "{\"ok\": true, \"transport\": \"udp-b\"}", "ok\n" },
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *got = render(rows[i].cmd, rows[i].reply);

		if (strcmp(got, rows[i].text) != 0)
			fail_msg("%s:\n%s\nwant:\n%s", rows[i].cmd, got,
				 rows[i].text);
		free(got);
	}
}

/* The usage lists every command of the table, its argument and help. */
JV_TEST(test_usage)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	jv_ctl_cmd_usage(f);
	fclose(f);
	assert_string_equal(buf,
		"  status                   node, role, uptime, policy version, sessions by state\n"
		"  sessions                 every session: id, peer, remote, state, transport, ages,\n"
		"                           switches, bytes\n"
		"  transports               the client's transports (state, loss, RTT, last receive)\n"
		"                           or the gateway's bound ones; peer and remote address\n"
		"  terminate SESSION_ID     end a session (operator_terminated); the peer is told;\n"
		"                           the id in full or its first 8+ hex digits\n"
		"  policy-reload FILE       validate a policy file and apply it atomically\n"
		"  reload                   re-read the configuration file: peers added, changed,\n"
		"                           removed, the policy; refused (old one kept) when invalid or\n"
		"                           when it changes what needs a restart\n"
		"  switch TRANSPORT_ID      client: move to that transport now (the switch limiter\n"
		"                           applies; TransportSwitch or TransportSwitchDenied)\n"
		"  metrics                  counters and gauges in Prometheus text format\n");
	free(buf);
}

/* The ctl side: arguments checked and made absolute, the request line. */
JV_TEST(test_request)
{
	const struct jv_ctl_cmd *term = jv_ctl_cmd_find("terminate");
	const struct jv_ctl_cmd *reload = jv_ctl_cmd_find("policy-reload");
	char out[4096], cwd[4096], *args[1] = { out }, *line;
	struct jv_error err;

	assert_null(jv_ctl_cmd_find("nope"));
	assert_null(jv_ctl_cmd_find(NULL));
	assert_int_equal(jv_ctl_arg_prepare(term, "0123ABCD", out, sizeof(out),
					    &err), 0);
	assert_string_equal(out, "0123abcd");
	assert_int_equal(jv_ctl_arg_prepare(term, "0123", out, sizeof(out),
					    &err), JV_ERR_INVAL);
	assert_string_equal(err.file, "terminate");
	assert_non_null(strstr(err.msg, "not a session id"));
	/* the daemon runs in another directory: paths go absolute */
	assert_int_equal(jv_ctl_arg_prepare(reload, ".", out, sizeof(out),
					    &err), 0);
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_string_equal(out, cwd);
	assert_int_equal(jv_ctl_arg_prepare(reload, "/nonexistent/x", out,
					    sizeof(out), &err), JV_ERR_INVAL);
	assert_string_equal(err.file, "/nonexistent/x");

	snprintf(out, sizeof(out), "a\"b");
	line = jv_ctl_request("policy-reload", args, 1);
	assert_string_equal(line, "{\"cmd\":\"policy-reload\",\"args\":[\"a\\\"b\"]}\n");
	free(line);
	line = jv_ctl_request("status", NULL, 0);
	assert_string_equal(line, "{\"cmd\":\"status\",\"args\":[]}\n");
	free(line);
}

/* ---- the socket ---- */

struct conv {
	struct jv_loop *loop;
	int fd;
	char buf[8192];
	size_t len;
	int want_lines;
};

static int since_turn, max_since_turn;

static json_t *handler(void *ctx, const char *cmd, json_t *args)
{
	(void)ctx;
	if (++since_turn > max_since_turn)
		max_since_turn = since_turn;
	if (strcmp(cmd, "echo") == 0)
		return json_pack("{s:b, s:O}", "ok", 1, "args", args);
	return json_pack("{s:b, s:s}", "ok", 0, "error", "unknown command");
}

static void on_reply(void *ctx, uint32_t events)
{
	struct conv *c = ctx;
	ssize_t n;
	int lines = 0;

	(void)events;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	if (n <= 0) {
		jv_loop_stop(c->loop);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	for (char *p = c->buf; (p = strchr(p, '\n')); p++)
		lines++;
	if (lines >= c->want_lines)
		jv_loop_stop(c->loop);
}

static void on_timeout(void *ctx)
{
	jv_loop_stop(ctx);
}

/* A new loop that stops when its timer fires. */
static struct jv_loop *loop_new(void)
{
	struct jv_loop *l;

	assert_int_equal(jv_loop_new(&l), 0);
	jv_loop_on_timer(l, on_timeout, l);
	return l;
}

static int dial(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/* Sends text, runs the loop until lines reply lines came (or 2 s). */
static void talk(struct jv_loop *l, const char *path, const char *text,
		 int lines, char *out, size_t cap)
{
	struct conv c = { .loop = l, .want_lines = lines };

	c.fd = dial(path);
	assert_int_equal(send(c.fd, text, strlen(text), 0), (ssize_t)strlen(text));
	assert_int_equal(jv_loop_add(l, c.fd, EPOLLIN, on_reply, &c), 0);
	jv_loop_set_timer(l, jv_mono_ms() + 2000);
	assert_int_equal(jv_loop_run(l), 0);
	jv_loop_del(l, c.fd);
	close(c.fd);
	snprintf(out, cap, "%s", c.buf);
}

/* The daemon at path answers an echo with no arguments. */
static void answers_echo(struct jv_loop *l, const char *path)
{
	char out[8192];

	talk(l, path, "{\"cmd\":\"echo\"}\n", 1, out, sizeof(out));
	assert_string_equal(out, "{\"ok\":true,\"args\":[]}\n");
}

JV_TEST(test_socket)
{
	struct jv_loop *l;
	struct jv_ctl *ctl;
	struct jv_error err;
	char path[108], out[8192], big[JV_CTL_MAX_LINE + 100];
	int fds[JV_CTL_MAX_CLIENTS + 1];

	snprintf(path, sizeof(path), "/tmp/jvctl-test.%d.sock", (int)getpid());
	l = loop_new();
	assert_int_equal(jv_ctl_open(&ctl, l, path, handler, NULL, &err), 0);

	talk(l, path, "{\"cmd\":\"echo\",\"args\":[\"a\"]}\n{\"cmd\":\"nope\"}\n", 2,
	     out, sizeof(out));
	assert_string_equal(out, "{\"ok\":true,\"args\":[\"a\"]}\n"
				 "{\"ok\":false,\"error\":\"unknown command\"}\n");
	talk(l, path, "not json\n", 1, out, sizeof(out));
	assert_non_null(strstr(out, "\"ok\":false"));
	talk(l, path, "{\"cmd\":\"echo\",\"args\":[1]}\n", 1, out, sizeof(out));
	assert_non_null(strstr(out, "must hold strings"));
	/* too long a line: an error, then the connection is closed */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	talk(l, path, big, 1, out, sizeof(out));
	assert_non_null(strstr(out, "longer than 4096"));
	/* bounded: the seventeenth client is turned away, the others work */
	for (int i = 0; i < JV_CTL_MAX_CLIENTS; i++) {
		/* let the server accept each: the backlog is short */
		fds[i] = dial(path);
		jv_loop_set_timer(l, jv_mono_ms() + 20);
		assert_int_equal(jv_loop_run(l), 0);
	}
	talk(l, path, "{\"cmd\":\"echo\"}\n", 1, out, sizeof(out));
	assert_string_equal(out, "");
	for (int i = 0; i < JV_CTL_MAX_CLIENTS; i++)
		close(fds[i]);
	jv_loop_set_timer(l, jv_mono_ms() + 200);
	assert_int_equal(jv_loop_run(l), 0);
	answers_echo(l, path);

	jv_ctl_close(ctl);
	assert_int_not_equal(access(path, F_OK), 0);   /* unlinked */
	jv_loop_free(l);
}

/* A loop and a daemon's control socket a on it, at a path of its own
 * (/tmp/jvctl-NAME.PID.sock) where no file was left. */
static struct jv_loop *first_daemon(char path[108], const char *name,
				    struct jv_ctl **a)
{
	struct jv_loop *l;
	struct jv_error err;

	snprintf(path, 108, "/tmp/jvctl-%s.%d.sock", name, (int)getpid());
	unlink(path);
	l = loop_new();
	assert_int_equal(jv_ctl_open(a, l, path, handler, NULL, &err), 0);
	return l;
}

/* A second daemon given the same control_socket must not take it over:
 * when it exited, the first could no longer be reached. */
JV_TEST(test_socket_taken)
{
	struct jv_loop *l;
	struct jv_ctl *a, *b = (struct jv_ctl *)1;
	struct jv_error err;
	char path[108];

	l = first_daemon(path, "taken", &a);
	memset(&err, 0, sizeof(err));
	assert_int_equal(jv_ctl_open(&b, l, path, handler, NULL, &err),
			 JV_ERR_STATE);
	assert_null(b);
	assert_string_equal(err.file, path);
	assert_non_null(strstr(err.msg, "another daemon answers"));
	/* the first still answers, and its socket file is still there */
	answers_echo(l, path);
	jv_ctl_close(a);
	assert_int_not_equal(access(path, F_OK), 0);
	jv_loop_free(l);
}

/* A socket file nobody listens on (its daemon died) is replaced; a file
 * that is not a socket is never removed. */
JV_TEST(test_socket_stale)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct jv_loop *l;
	struct jv_ctl *c;
	struct jv_error err;
	int fd;
	FILE *f;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/jvctl-stale.%d.sock",
		 (int)getpid());
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 1), 0);
	close(fd);                          /* the file stays, no listener */
	assert_int_equal(access(sa.sun_path, F_OK), 0);
	l = loop_new();
	assert_int_equal(jv_ctl_open(&c, l, sa.sun_path, handler, NULL, &err), 0);
	answers_echo(l, sa.sun_path);
	jv_ctl_close(c);

	f = fopen(sa.sun_path, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_not_equal(jv_ctl_open(&c, l, sa.sun_path, handler, NULL,
					 &err), 0);
	assert_non_null(strstr(err.msg, "not a socket"));
	assert_int_equal(access(sa.sun_path, F_OK), 0);
	unlink(sa.sun_path);
	jv_loop_free(l);
}

/* A daemon that exits removes its socket file only if the file is still
 * the one it bound: not one another daemon put there since. */
JV_TEST(test_socket_close_own_only)
{
	struct jv_loop *l;
	struct jv_ctl *a, *b;
	struct jv_error err;
	char path[108];

	l = first_daemon(path, "own", &a);
	assert_int_equal(unlink(path), 0);  /* an operator removed it */
	assert_int_equal(jv_ctl_open(&b, l, path, handler, NULL, &err), 0);
	jv_ctl_close(a);
	assert_int_equal(access(path, F_OK), 0);
	answers_echo(l, path);
	jv_ctl_close(b);
	assert_int_not_equal(access(path, F_OK), 0);
	jv_loop_free(l);
}

/* Always ready: called once per loop round, it marks the rounds. */
static void on_turn(void *ctx, uint32_t events)
{
	(void)ctx, (void)events;
	since_turn = 0;
}

/* A client pipelining many requests gets every answer, in order, but a
 * bounded number per loop round: the rest of the loop is served between. */
JV_TEST(test_request_budget)
{
	struct jv_loop *l;
	struct jv_ctl *ctl;
	struct jv_error err;
	char path[108], out[8192], req[64 * 40], *p = req;
	int sp[2], lines = 0;

	snprintf(path, sizeof(path), "/tmp/jvctl-budget.%d.sock", (int)getpid());
	l = loop_new();
	assert_int_equal(jv_ctl_open(&ctl, l, path, handler, NULL, &err), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sp),
			 0);
	assert_int_equal(write(sp[1], "x", 1), 1);
	assert_int_equal(jv_loop_add(l, sp[0], EPOLLIN, on_turn, NULL), 0);
	for (int i = 0; i < 40; i++)
		p += sprintf(p, "{\"cmd\":\"echo\",\"args\":[\"%d\"]}\n", i);
	max_since_turn = since_turn = 0;
	talk(l, path, req, 40, out, sizeof(out));
	p = out;
	for (int i = 0; i < 40; i++) {
		char want[64];
		size_t n = (size_t)snprintf(want, sizeof(want),
					    "{\"ok\":true,\"args\":[\"%d\"]}\n", i);

		assert_memory_equal(p, want, n);
		p += n;
		lines++;
	}
	assert_int_equal(lines, 40);
	/* a round may end one client's budget and start the next turn's */
	assert_true(max_since_turn <= 2 * JV_CTL_REQ_BUDGET);
	assert_true(max_since_turn >= JV_CTL_REQ_BUDGET);
	jv_loop_del(l, sp[0]);
	close(sp[0]);
	close(sp[1]);
	jv_ctl_close(ctl);
	jv_loop_free(l);
}

static json_t *dispatch_handler(void *ctx, const char *cmd, json_t *args)
{
	return jv_ctl_dispatch(ctx, cmd, args, 5000);
}

/* The whole chain: the request `jvpn ctl` builds, the socket, the table on
 * a gateway with an attached client, the reply rendered for people. */
JV_TEST(test_socket_dispatch)
{
	struct world *w = attached_world(NULL);
	struct jv_ctl_node n = server_node(w);
	struct jv_session_info si = server_session(w);
	struct jv_loop *l;
	struct jv_ctl *ctl;
	struct jv_error err;
	char path[108], out[8192], hex[33], *line, *text;

	jv_hex16(si.session_id, hex);
	snprintf(path, sizeof(path), "/tmp/jvctl-disp.%d.sock", (int)getpid());
	l = loop_new();
	assert_int_equal(jv_ctl_open(&ctl, l, path, dispatch_handler, &n, &err),
			 0);
	line = jv_ctl_request("sessions", NULL, 0);
	talk(l, path, line, 1, out, sizeof(out));
	free(line);
	text = render("sessions", out);
	assert_non_null(strstr(text, hex));
	assert_non_null(strstr(text, " ATTACHED "));
	free(text);
	line = jv_ctl_request("status", NULL, 0);
	talk(l, path, line, 1, out, sizeof(out));
	free(line);
	text = render("status", out);
	assert_non_null(strstr(text, "role             server  \n"));
	assert_non_null(strstr(text, "  ATTACHED     1\n"));
	free(text);
	talk(l, path, "{\"cmd\":\"bogus\"}\n", 1, out, sizeof(out));
	assert_string_equal(out, "{\"ok\":false,\"error\":\"unknown command 'bogus'\"}\n");
	jv_ctl_close(ctl);
	jv_loop_free(l);
	free_world(w);
}

/* jv_ctl_answer: the request line's checks before any handler runs. */
struct seen {
	int calls;
	char cmd[32];
	size_t nargs;
};

static json_t *record_handler(void *ctx, const char *cmd, json_t *args)
{
	struct seen *s = ctx;

	s->calls++;
	snprintf(s->cmd, sizeof(s->cmd), "%s", cmd);
	s->nargs = json_array_size(args);
	return json_pack("{s:b}", "ok", 1);
}

static void assert_answer_refused(const char *line, const char *why)
{
	struct seen s = { 0 };
	json_t *r = jv_ctl_answer(line, strlen(line), record_handler, &s);

	assert_non_null(r);
	assert_int_equal(s.calls, 0);
	assert_true(json_is_false(json_object_get(r, "ok")));
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
			       why));
	json_decref(r);
}

JV_TEST(test_answer_line)
{
	struct seen s = { 0 };
	/* not NUL-terminated where the line ends */
	const char line[] = "{\"cmd\":\"terminate\",\"args\":[\"abc\"]}XYZ";
	json_t *r = jv_ctl_answer(line, sizeof(line) - 4, record_handler, &s);

	assert_true(json_is_true(json_object_get(r, "ok")));
	json_decref(r);
	assert_int_equal(s.calls, 1);
	assert_string_equal(s.cmd, "terminate");
	assert_int_equal(s.nargs, 1);
	r = jv_ctl_answer("{\"cmd\":\"status\"}", 16, record_handler, &s);
	json_decref(r);
	assert_int_equal(s.calls, 2);
	assert_int_equal(s.nargs, 0);           /* no args: an empty array */

	assert_answer_refused("", "JSON object");
	assert_answer_refused("[1]", "JSON object");
	assert_answer_refused("{\"cmd\":1}", "JSON object");
	assert_answer_refused("{\"cmd\":\"status\",\"args\":{}}", "an array");
	assert_answer_refused("{\"cmd\":\"status\",\"args\":[1]}", "strings");
}
