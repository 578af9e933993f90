/* Replies of the read-only control commands, from the endpoint's own
 * introspection (sessions, transports, counters). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctl_reply.h"

static const char *role_name(enum jv_role r)
{
	return r == JV_ROLE_CLIENT ? "client" : "server";
}

json_t *jv_ctl_reply_status(const struct jv_ctl_node *n, uint64_t now)
{
	struct jv_endpoint_stats st;
	json_t *by = json_object();

	jv_endpoint_stats(n->ep, &st);
	for (int s = 0; s < JV_STATE__COUNT; s++)
		json_object_set_new(by, jv_state_name((enum jv_state)s),
				    json_integer((json_int_t)st.sessions_by_state[s]));
	return json_pack("{s:b, s:s, s:s, s:I, s:s, s:o}", "ok", 1,
			 "node_id", n->node_id, "role", role_name(n->role),
			 "uptime_ms", (json_int_t)(now - n->started_ms),
			 "policy_version", jv_endpoint_policy(n->ep)->version,
			 "sessions", by);
}

json_t *jv_ctl_reply_sessions(const struct jv_ctl_node *n, uint64_t now)
{
	json_t *arr = json_array();
	struct jv_session_info si;
	uint32_t cur = 0;

	while (jv_endpoint_session_next(n->ep, &cur, now, &si)) {
		char hex[33];

		jv_hex16(si.session_id, hex);
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:s, s:I, s:o, s:I, s:I, s:I, s:I, s:I, s:I}",
			"session_id", hex, "peer", si.peer,
			"state", jv_state_name(si.state),
			"state_version", (json_int_t)si.state_version,
			"transport", si.transport[0] ? json_string(si.transport)
						     : json_null(),
			"session_age_ms", (json_int_t)si.session_age_ms,
			"transportless_age_ms", (json_int_t)si.transportless_age_ms,
			"switches_last_min", (json_int_t)si.switches_last_min,
			"bytes_in", (json_int_t)si.bytes_in,
			"bytes_out", (json_int_t)si.bytes_out,
			"key_epoch", (json_int_t)si.key_epoch));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "sessions", arr);
}

json_t *jv_ctl_reply_transports(const struct jv_ctl_node *n, uint64_t now)
{
	json_t *arr = json_array();
	struct jv_transport_info ti;

	for (uint32_t i = 0; jv_endpoint_transport(n->ep, i, now, &ti); i++)
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:s, s:f, s:I, s:o}", "id", ti.id,
			"proto", ti.proto == JV_PROTO_TCP ? "tcp" : "udp",
			"state", ti.state, "loss_ratio", ti.loss_ratio,
			"rtt_ms", (json_int_t)ti.rtt_ms, "last_rx_age_ms",
			ti.last_rx_age_ms == UINT64_MAX
				? json_null()
				: json_integer((json_int_t)ti.last_rx_age_ms)));
	return json_pack("{s:b, s:o}", "ok", 1, "transports", arr);
}

/* Prometheus label values escape \, " and newlines. */
static void label(char *out, size_t cap, const char *s)
{
	size_t o = 0;

	for (; *s && o + 3 < cap; s++) {
		if (*s == '\\' || *s == '"' || *s == '\n') {
			out[o++] = '\\';
			out[o++] = *s == '\n' ? 'n' : *s;
		} else {
			out[o++] = *s;
		}
	}
	out[o] = '\0';
}

struct text {
	char *buf;
	size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct text *t, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(t->buf + t->len, t->cap - t->len, fmt, ap);
		va_end(ap);
		if (n < 0)
			return;
		if ((size_t)n < t->cap - t->len) {
			t->len += (size_t)n;
			return;
		}
		char *p = realloc(t->buf, t->cap * 2 + (size_t)n);

		if (!p)
			return;
		t->buf = p;
		t->cap = t->cap * 2 + (size_t)n;
	}
}

static void counter(struct text *t, const char *node, const char *name,
		    const char *help, uint64_t v)
{
	put(t, "# HELP jvpn_%s %s\n# TYPE jvpn_%s counter\n"
	       "jvpn_%s{node=\"%s\"} %llu\n", name, help, name, name, node,
	    (unsigned long long)v);
}

json_t *jv_ctl_reply_metrics(const struct jv_ctl_node *n, uint64_t now)
{
	struct text t = { malloc(4096), 0, 4096 };
	struct jv_endpoint_stats st;
	struct jv_transport_info ti;
	struct jv_session_info si;
	char node[160], id[80];
	uint32_t cur = 0;
	json_t *r;

	if (!t.buf)
		return NULL;
	t.buf[0] = '\0';
	label(node, sizeof(node), n->node_id);
	jv_endpoint_stats(n->ep, &st);
	put(&t, "# HELP jvpn_up Whether the daemon is running.\n"
		"# TYPE jvpn_up gauge\njvpn_up{node=\"%s\"} 1\n", node);
	put(&t, "# HELP jvpn_uptime_seconds Seconds since the daemon started.\n"
		"# TYPE jvpn_uptime_seconds gauge\n"
		"jvpn_uptime_seconds{node=\"%s\"} %.3f\n", node,
	    (double)(now - n->started_ms) / 1000.0);
	put(&t, "# HELP jvpn_sessions Sessions by state.\n"
		"# TYPE jvpn_sessions gauge\n");
	for (int s = 0; s < JV_STATE__COUNT; s++)
		put(&t, "jvpn_sessions{node=\"%s\",state=\"%s\"} %llu\n", node,
		    jv_state_name((enum jv_state)s),
		    (unsigned long long)st.sessions_by_state[s]);
	counter(&t, node, "rx_packets_total", "Datagrams received.",
		st.rx_packets);
	counter(&t, node, "tx_packets_total", "Datagrams sent.", st.tx_packets);
	counter(&t, node, "rx_dropped_total",
		"Datagrams dropped (malformed, unauthentic, replayed).",
		st.rx_dropped);
	counter(&t, node, "inner_delivered_total",
		"Inner packets delivered to the TUN device.", st.inner_delivered);
	counter(&t, node, "inner_sent_total", "Inner packets sent.",
		st.inner_sent);
	counter(&t, node, "handshakes_total", "Handshakes completed.",
		st.handshakes_ok);
	counter(&t, node, "reattach_ok_total", "Reattach requests accepted.",
		st.reattach_ok);
	counter(&t, node, "reattach_denied_total", "Reattach requests denied.",
		st.reattach_denied);
	counter(&t, node, "security_events_total",
		"Replays, forged proofs and other security findings.",
		st.security_events);
	counter(&t, node, "security_events_suppressed_total",
		"Security findings the audit log's rate limit left out.",
		st.security_suppressed);
	counter(&t, node, "rx_auth_failed_total",
		"A session's packets that did not authenticate (forged, or "
		"keys out of step).", st.rx_auth_failed);
	counter(&t, node, "inner_source_rejected_total",
		"Inner packets whose source lies outside the peer's prefixes.",
		st.inner_source_rejected);
	if (jv_endpoint_transport(n->ep, 0, now, &ti)) {
		put(&t, "# HELP jvpn_transport_up Whether a transport is usable "
			"(active or standby).\n# TYPE jvpn_transport_up gauge\n");
		for (uint32_t i = 0; jv_endpoint_transport(n->ep, i, now, &ti); i++) {
			label(id, sizeof(id), ti.id);
			put(&t, "jvpn_transport_up{node=\"%s\",transport=\"%s\"} "
				"%d\n", node, id, strcmp(ti.state, "dead") != 0);
		}
		put(&t, "# HELP jvpn_transport_loss_ratio Probe loss over the "
			"loss window.\n# TYPE jvpn_transport_loss_ratio gauge\n");
		for (uint32_t i = 0; jv_endpoint_transport(n->ep, i, now, &ti); i++) {
			label(id, sizeof(id), ti.id);
			put(&t, "jvpn_transport_loss_ratio{node=\"%s\",transport="
				"\"%s\"} %.4f\n", node, id, ti.loss_ratio);
		}
		put(&t, "# HELP jvpn_transport_rtt_ms Smoothed round-trip time.\n"
			"# TYPE jvpn_transport_rtt_ms gauge\n");
		for (uint32_t i = 0; jv_endpoint_transport(n->ep, i, now, &ti); i++) {
			label(id, sizeof(id), ti.id);
			put(&t, "jvpn_transport_rtt_ms{node=\"%s\",transport="
				"\"%s\"} %u\n", node, id, ti.rtt_ms);
		}
	}
	put(&t, "# HELP jvpn_session_switches_last_minute Transport switches "
		"in the last 60 s.\n# TYPE jvpn_session_switches_last_minute "
		"gauge\n");
	while (jv_endpoint_session_next(n->ep, &cur, now, &si)) {
		char hex[33];

		jv_hex16(si.session_id, hex);
		put(&t, "jvpn_session_switches_last_minute{node=\"%s\",session="
			"\"%.8s\"} %u\n", node, hex, si.switches_last_min);
	}
	r = json_pack("{s:b, s:s}", "ok", 1, "text", t.buf);
	free(t.buf);
	return r;
}

int jv_ctl_session_prefix(const char *s, char out[33])
{
	size_t n = s ? strlen(s) : 0;

	if (n < 8 || n > 32)
		return JV_ERR_INVAL;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];

		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'f')))
			return JV_ERR_INVAL;
		out[i] = ch;
	}
	out[n] = '\0';
	return (int)n;
}

int jv_ctl_find_session(const struct jv_endpoint *ep, const char *prefix,
			uint64_t now, uint8_t id[16])
{
	struct jv_session_info si;
	uint32_t cur = 0;
	size_t n = strlen(prefix);
	int found = 0;

	while (jv_endpoint_session_next(ep, &cur, now, &si)) {
		char hex[33];

		jv_hex16(si.session_id, hex);
		if (si.state == JV_STATE_TERMINATED || strncmp(hex, prefix, n))
			continue;
		if (found++ == 0)
			memcpy(id, si.session_id, 16);
	}
	return found;
}
