/* The control commands: one table (ctl_reply.h) and, per command, the
 * daemon's handler and the renderer `jvpn ctl` prints its reply with. */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/ctl_reply.h"
#include "cli/util.h"
#include "core/policy.h"

static json_t *reply_error(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static json_t *reply_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

/* ---- handlers: request -> reply ---- */

static json_t *do_status(struct jv_ctl_node *n, json_t *args, uint64_t now)
{
	struct jv_endpoint_stats st;
	json_t *by = json_object();

	(void)args;
	jv_endpoint_stats(n->ep, &st);
	for (int s = 0; s < JV_STATE__COUNT; s++)
		json_object_set_new(by, jv_state_name((enum jv_state)s),
				    json_integer((json_int_t)st.sessions_by_state[s]));
	return json_pack("{s:b, s:s, s:s, s:I, s:s, s:o}", "ok", 1,
			 "node_id", n->node_id,
			 "role", n->role == JV_ROLE_CLIENT ? "client" : "server",
			 "uptime_ms", (json_int_t)(now - n->started_ms),
			 "policy_version", jv_endpoint_policy(n->ep)->version,
			 "sessions", by);
}

/* The outer address and port, or null when not known. */
static json_t *remote_value(const char *remote)
{
	return remote[0] ? json_string(remote) : json_null();
}

static json_t *do_sessions(struct jv_ctl_node *n, json_t *args, uint64_t now)
{
	json_t *arr = json_array();
	struct jv_session_info si;
	uint32_t cur = 0;

	(void)args;
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
		json_object_set_new(json_array_get(arr, json_array_size(arr) - 1),
				    "remote", remote_value(si.remote));
	}
	return json_pack("{s:b, s:o}", "ok", 1, "sessions", arr);
}

static json_t *do_transports(struct jv_ctl_node *n, json_t *args, uint64_t now)
{
	json_t *arr = json_array();
	struct jv_transport_info ti;

	struct jv_session_info si;
	uint32_t cur = 0;

	(void)args;
	for (uint32_t i = 0; jv_endpoint_transport(n->ep, i, now, &ti); i++)
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:s, s:f, s:I, s:o, s:s, s:o}", "id", ti.id,
			"proto", ti.proto == JV_PROTO_TCP ? "tcp" : "udp",
			"state", ti.state, "loss_ratio", ti.loss_ratio,
			"rtt_ms", (json_int_t)ti.rtt_ms, "last_rx_age_ms",
			ti.last_rx_age_ms == UINT64_MAX
				? json_null()
				: json_integer((json_int_t)ti.last_rx_age_ms),
			"peer", n->node_id, "remote", remote_value(ti.remote)));
	/* the gateway has no candidates of its own: each session's bound
	 * transport (the client's name for it), the peer and its address;
	 * the client measures loss and RTT, the gateway does not */
	while (n->role == JV_ROLE_SERVER &&
	       jv_endpoint_session_next(n->ep, &cur, now, &si)) {
		if (!si.transport[0])
			continue;
		json_array_append_new(arr, json_pack(
			"{s:s, s:s, s:s, s:n, s:n, s:n, s:s, s:o}",
			"id", si.transport,
			"proto", si.proto == JV_PROTO_TCP ? "tcp" : "udp",
			"state", "active", "loss_ratio", "rtt_ms",
			"last_rx_age_ms", "peer", si.peer,
			"remote", remote_value(si.remote)));
	}
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

/* The HELP and TYPE lines of one metric. */
static void head(struct text *t, const char *name, const char *type,
		 const char *help)
{
	put(t, "# HELP jvpn_%s %s\n# TYPE jvpn_%s %s\n", name, help, name,
	    type);
}

/* The endpoint's counters, each one sample labelled with the node. */
static const struct {
	const char *name, *help;
	size_t off;                      /* in struct jv_endpoint_stats */
	/* one more label, "key=\"value\"", or NULL; rows of one name follow
	 * each other and share its HELP and TYPE lines */
	const char *label;
} counters[] = {
#define C(name, field, help) { name, help, offsetof(struct jv_endpoint_stats, field), NULL }
#define HS(result, field) \
	{ "handshake_total", "HS_INITs by what became of them (CONTRACT " \
	  "section 9).", offsetof(struct jv_endpoint_stats, field), \
	  "result=\"" result "\"" }
	C("rx_packets_total", rx_packets, "Datagrams received."),
	C("tx_packets_total", tx_packets, "Datagrams sent."),
	C("rx_dropped_total", rx_dropped,
	  "Datagrams dropped (malformed, unauthentic, replayed)."),
	C("inner_delivered_total", inner_delivered,
	  "Inner packets delivered to the TUN device."),
	C("inner_sent_total", inner_sent, "Inner packets sent."),
	C("handshakes_total", handshakes_ok, "Handshakes completed."),
	C("reattach_ok_total", reattach_ok, "Reattach requests accepted."),
	C("reattach_denied_total", reattach_denied, "Reattach requests denied."),
	C("security_events_total", security_events,
	  "Replays, forged proofs and other security findings."),
	C("security_events_suppressed_total", security_suppressed,
	  "Security findings the audit log's rate limit left out."),
	C("rx_late_total", rx_late,
	  "A session's packets delivered late (e.g. by a TCP connection "
	  "through a blackout): data from a key epoch already left, reattach "
	  "requests older than one accepted since; dropped, not reported."),
	C("rx_auth_failed_total", rx_auth_failed,
	  "A session's packets that did not authenticate (forged, or keys "
	  "out of step)."),
	C("inner_source_rejected_total", inner_source_rejected,
	  "Inner packets whose source lies outside the peer's prefixes."),
	C("inner_received_bytes_total", bytes_in,
	  "Inner bytes received from peers, every session of the run."),
	C("inner_sent_bytes_total", bytes_out,
	  "Inner bytes sent to peers, every session of the run."),
	C("resent_packets_total", resent_packets,
	  "Data packets sent again on the new path after a reattach "
	  "(switching.resend_max_bytes)."),
	C("resent_bytes_total", resent_bytes,
	  "Bytes of the data packets sent again after a reattach."),
	HS("ok", hs_ok),
	HS("bad_mac", hs_bad_mac),
	HS("cookie_sent", hs_cookie_sent),
	HS("rate_limited", hs_rate_limited),
	HS("failed", hs_failed),
#undef HS
#undef C
};

const char *const jv_drop_names[JV_DROP__COUNT] = {
	[JV_DROP_UDP_SEND] = "udp_send",
	[JV_DROP_UDP_RX_QUEUE] = "udp_rx_queue",
	[JV_DROP_TCP_QUEUE] = "tcp_queue",
	[JV_DROP_TUN_QUEUE] = "tun_queue",
	[JV_DROP_TUN_WRITE] = "tun_write",
	[JV_DROP_NO_SESSION] = "no_session",
	[JV_DROP_TUN_INVALID] = "tun_invalid",
};

/* Per transport gauges (the client's candidates: bounded by its config);
 * values in the order of transport_value(). */
static const struct {
	const char *name, *help, *fmt;
} tgauges[] = {
	{ "transport_up", "Whether a transport is usable (active or standby).",
	  "%.0f" },
	{ "transport_loss_ratio", "Probe loss over the loss window.", "%.4f" },
	{ "transport_rtt_seconds", "Smoothed round-trip time (0: no sample "
	  "yet).", "%.3f" },
};

static double transport_value(const struct jv_transport_info *ti, size_t g)
{
	const double v[] = { strcmp(ti->state, "dead") != 0, ti->loss_ratio,
			     ti->rtt_ms / 1000.0 };

	return v[g];
}

/* Prometheus text exposition format 0.0.4. Every label set is bounded by
 * configuration: node, state (the six states), transport (the client's
 * candidates), peer (the gateway's configured peers); nothing is
 * labelled by session. */
char *jv_ctl_metrics_text(struct jv_ctl_node *n, uint64_t now)
{
	struct text t = { malloc(4096), 0, 4096 };
	struct jv_endpoint_stats st;
	struct jv_transport_info ti;
	struct jv_session_info si;
	char node[160], id[160];
	uint64_t switches = 0;
	uint32_t cur = 0, npeers = 0;
	const char *pn;
	uint8_t *peer_up = NULL;
	uint32_t *peer_sw = NULL;

	if (!t.buf)
		return NULL;
	t.buf[0] = '\0';
	label(node, sizeof(node), n->node_id);
	jv_endpoint_stats(n->ep, &st);
	while (jv_endpoint_peer_name(n->ep, npeers))
		npeers++;
	if (npeers) {
		peer_up = calloc(npeers, sizeof(*peer_up));
		peer_sw = calloc(npeers, sizeof(*peer_sw));
		if (!peer_up || !peer_sw) {
			free(peer_up);
			free(peer_sw);
			free(t.buf);
			return NULL;
		}
	}
	while (jv_endpoint_session_next(n->ep, &cur, now, &si)) {
		if (si.state == JV_STATE_TERMINATED)
			continue;
		switches += si.switches_last_min;
		/* peer names are unique in a config: the first match */
		for (uint32_t p = 0; p < npeers; p++)
			if (strcmp(jv_endpoint_peer_name(n->ep, p), si.peer) == 0) {
				peer_up[p] |= si.state == JV_STATE_ATTACHED;
				peer_sw[p] += si.switches_last_min;
				break;
			}
	}
	head(&t, "up", "gauge", "Whether the daemon is running.");
	put(&t, "jvpn_up{node=\"%s\"} 1\n", node);
	head(&t, "uptime_seconds", "gauge", "Seconds since the daemon started.");
	put(&t, "jvpn_uptime_seconds{node=\"%s\"} %.3f\n", node,
	    (double)(now - n->started_ms) / 1000.0);
	head(&t, "sessions", "gauge", "Sessions by state.");
	for (int s = 0; s < JV_STATE__COUNT; s++)
		put(&t, "jvpn_sessions{node=\"%s\",state=\"%s\"} %llu\n", node,
		    jv_state_name((enum jv_state)s),
		    (unsigned long long)st.sessions_by_state[s]);
	for (size_t c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
		uint64_t v;

		memcpy(&v, (const char *)&st + counters[c].off, sizeof(v));
		if (c == 0 || strcmp(counters[c - 1].name, counters[c].name))
			head(&t, counters[c].name, "counter", counters[c].help);
		put(&t, "jvpn_%s{node=\"%s\"%s%s} %llu\n", counters[c].name,
		    node, counters[c].label ? "," : "",
		    counters[c].label ? counters[c].label : "",
		    (unsigned long long)v);
	}
	head(&t, "dropped_total", "counter",
	     "Packets the daemon lost on its own path, by where: udp_send "
	     "(socket buffer full), udp_rx_queue (a socket's receive queue "
	     "overflowed), tcp_queue, tun_queue (the kernel's queue to the daemon "
	     "overflowed), tun_write, no_session and tun_invalid "
	     "(read from the TUN, nowhere to send).");
	for (int w = 0; w < JV_DROP__COUNT; w++)
		put(&t, "jvpn_dropped_total{node=\"%s\",where=\"%s\"} %llu\n",
		    node, jv_drop_names[w],
		    (unsigned long long)(n->drops ? n->drops[w] : 0));
	head(&t, "tun_offload", "gauge",
	     "Offloads the TUN device gives: csum (partial checksums), tso "
	     "and uso (reads of up to 64 KiB, split by the daemon).");
	for (int k = 0; k < 3; k++)
		put(&t, "jvpn_tun_offload{node=\"%s\",kind=\"%s\"} %u\n", node,
		    (const char *const[]){ "csum", "tso", "uso" }[k],
		    (n->tun_offload >> (k + 1)) & 1);
	head(&t, "tun_gso_packets_total", "counter",
	     "Super packets (TSO, USO) read from the TUN and split.");
	put(&t, "jvpn_tun_gso_packets_total{node=\"%s\"} %llu\n", node,
	    (unsigned long long)n->tun_gso);
	head(&t, "udp_offload_total", "counter",
	     "UDP system calls that carried several datagrams: gso_send "
	     "(UDP_SEGMENT), gro_read (UDP GRO).");
	put(&t, "jvpn_udp_offload_total{node=\"%s\",kind=\"gso_send\"} %llu\n"
		"jvpn_udp_offload_total{node=\"%s\",kind=\"gro_read\"} %llu\n",
	    node, (unsigned long long)n->udp_gso, node,
	    (unsigned long long)n->udp_gro);
	for (size_t g = 0; jv_endpoint_transport(n->ep, 0, now, &ti) &&
			   g < sizeof(tgauges) / sizeof(tgauges[0]); g++) {
		head(&t, tgauges[g].name, "gauge", tgauges[g].help);
		for (uint32_t i = 0; jv_endpoint_transport(n->ep, i, now, &ti); i++) {
			label(id, sizeof(id), ti.id);
			put(&t, "jvpn_%s{node=\"%s\",transport=\"%s\"} ",
			    tgauges[g].name, node, id);
			put(&t, tgauges[g].fmt, transport_value(&ti, g));
			put(&t, "\n");
		}
	}
	head(&t, "switches_last_minute", "gauge",
	     "Transport switches in the last 60 s, all sessions together.");
	put(&t, "jvpn_switches_last_minute{node=\"%s\"} %llu\n", node,
	    (unsigned long long)switches);
	if (npeers) {
		head(&t, "peer_attached", "gauge",
		     "Whether the configured peer has an ATTACHED session.");
		for (uint32_t p = 0; (pn = jv_endpoint_peer_name(n->ep, p)); p++) {
			label(id, sizeof(id), pn);
			put(&t, "jvpn_peer_attached{node=\"%s\",peer=\"%s\"} %u\n",
			    node, id, peer_up[p]);
		}
		head(&t, "peer_switches_last_minute", "gauge",
		     "Transport switches of the peer's sessions in the last 60 s.");
		for (uint32_t p = 0; (pn = jv_endpoint_peer_name(n->ep, p)); p++) {
			label(id, sizeof(id), pn);
			put(&t, "jvpn_peer_switches_last_minute{node=\"%s\","
				"peer=\"%s\"} %u\n", node, id, peer_sw[p]);
		}
	}
	free(peer_up);
	free(peer_sw);
	return t.buf;
}

static json_t *do_metrics(struct jv_ctl_node *n, json_t *args, uint64_t now)
{
	char *text = jv_ctl_metrics_text(n, now);
	json_t *r;

	(void)args;
	if (!text)
		return NULL;
	r = json_pack("{s:b, s:s}", "ok", 1, "text", text);
	free(text);
	return r;
}

/* By the full id or the 8-hex prefix that timeline and metrics print. */
static json_t *do_terminate(struct jv_ctl_node *n, json_t *args, uint64_t now)
{
	const char *arg = json_string_value(json_array_get(args, 0));
	char hex[33];
	uint8_t id[16];
	int found;

	if (jv_ctl_session_prefix(arg, hex) < 0)
		return reply_error("terminate: not a session id (32 hex "
				   "digits, or the first 8 or more)");
	found = jv_ctl_find_session(n->ep, hex, now, id);
	if (found > 1)
		return reply_error("terminate: %s matches %d live sessions; "
				   "give more of the id", hex, found);
	if (found == 0 || jv_endpoint_terminate(n->ep, id,
						JV_R_OPERATOR_TERMINATED, now) != 0)
		return reply_error("terminate: no live session %s", hex);
	return json_pack("{s:b}", "ok", 1);
}

static json_t *do_policy_reload(struct jv_ctl_node *n, json_t *args,
				uint64_t now)
{
	const char *path = json_string_value(json_array_get(args, 0));
	struct jv_policy p;
	struct jv_error err;
	char msg[800];

	if (jv_policy_load(path, &p, &err) != 0) {
		jv_error_format(&err, msg, sizeof(msg));
		jv_endpoint_policy_rejected(n->ep, msg, now);
		return reply_error("%s", msg);
	}
	jv_endpoint_set_policy(n->ep, &p, now);
	return json_pack("{s:b, s:s}", "ok", 1, "policy_version", p.version);
}

static json_t *do_reload(struct jv_ctl_node *n, json_t *args, uint64_t now)
{
	char msg[1024];

	(void)args;
	if (!n->reload)
		return reply_error("reload: not available here");
	if (n->reload(n->ctx, now, msg, sizeof(msg)) != 0)
		return reply_error("reload: %s", msg);
	return json_pack("{s:b, s:s, s:s}", "ok", 1, "detail", msg,
			 "policy_version", jv_endpoint_policy(n->ep)->version);
}

static json_t *do_switch(struct jv_ctl_node *n, json_t *args, uint64_t now)
{
	const char *id = json_string_value(json_array_get(args, 0));
	struct jv_transport_info ti;
	char ids[256] = "";
	size_t used = 0;
	uint32_t i;
	int rc;

	if (n->role != JV_ROLE_CLIENT)
		return reply_error("switch: only a client switches transports");
	for (i = 0; jv_endpoint_transport(n->ep, i, now, &ti); i++) {
		if (id && strcmp(ti.id, id) == 0)
			break;
		used += (size_t)snprintf(ids + used, used < sizeof(ids)
				? sizeof(ids) - used : 0, "%s%s",
				i ? ", " : "", ti.id);
		if (used >= sizeof(ids))
			used = sizeof(ids) - 1;
	}
	if (!jv_endpoint_transport(n->ep, i, now, &ti))
		return reply_error("switch: no transport '%s' (the configured "
				   "ones: %s)", id ? id : "", ids);
	rc = jv_endpoint_switch(n->ep, i, now);
	if (rc == 0)
		return json_pack("{s:b, s:s}", "ok", 1, "transport", ti.id);
	if (rc == JV_ERR_EXISTS)
		return reply_error("switch: %s is the active transport already",
				   ti.id);
	if (rc > 0)
		return reply_error("switch: denied (%s); see "
				   "TransportSwitchDenied",
				   jv_reason_name((enum jv_reason)rc));
	return reply_error("switch: not now: %s", jv_endpoint_client_state(
		n->ep) == JV_STATE_TERMINATED ? "no session"
		: jv_endpoint_client_state(n->ep) == JV_STATE_BIRTH
			? "the handshake is not done"
		: jv_endpoint_client_state(n->ep) == JV_STATE_RECOVERING
			? "a reattach is under way"
			: "that transport is down");
}

/* ---- renderers: reply -> text for people ---- */

static void print_value(FILE *f, json_t *v, int width, bool right)
{
	char tmp[64];
	const char *s = tmp;

	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(tmp, sizeof(tmp), "%.4f", json_real_value(v));
	else if (json_is_true(v) || json_is_false(v))
		s = json_is_true(v) ? "true" : "false";
	else
		s = "-";
	fprintf(f, right ? "%*s  " : "%-*s  ", width, s);
}

#define MAX_COLS 16

/* An aligned table of the reply's array c->rows, columns c->cols. */
static void render_rows(FILE *f, const struct jv_ctl_cmd *c, json_t *r)
{
	json_t *rows = json_object_get(r, c->rows), *row;
	int width[MAX_COLS] = { 0 }, ncols = 0;
	size_t i;

	while (ncols < MAX_COLS && c->cols[ncols])
		ncols++;
	for (int k = 0; k < ncols; k++)
		width[k] = (int)strlen(c->cols[k]);
	json_array_foreach(rows, i, row)
		for (int k = 0; k < ncols; k++) {
			char tmp[64];
			json_t *v = json_object_get(row, c->cols[k]);
			int w = json_is_string(v) ? (int)strlen(json_string_value(v))
				: json_is_real(v) ? 6
				: json_is_integer(v)
					? snprintf(tmp, sizeof(tmp), "%lld",
						   (long long)json_integer_value(v))
					: 5;

			if (w > width[k])
				width[k] = w;
		}
	for (int k = 0; k < ncols; k++)
		fprintf(f, "%-*s  ", width[k], c->cols[k]);
	fprintf(f, "\n");
	json_array_foreach(rows, i, row) {
		for (int k = 0; k < ncols; k++) {
			json_t *v = json_object_get(row, c->cols[k]);

			print_value(f, v, width[k], json_is_number(v));
		}
		fprintf(f, "\n");
	}
}

/* "key value" lines; an object's members indented below its key. */
static void render_status(FILE *f, const struct jv_ctl_cmd *c, json_t *r)
{
	const char *k;
	json_t *v;

	(void)c;
	json_object_foreach(r, k, v) {
		if (strcmp(k, "ok") == 0)
			continue;
		if (json_is_object(v)) {
			const char *k2;
			json_t *v2;

			fprintf(f, "%s:\n", k);
			json_object_foreach(v, k2, v2)
				fprintf(f, "  %-12s %lld\n", k2,
					(long long)json_integer_value(v2));
			continue;
		}
		fprintf(f, "%-16s ", k);
		print_value(f, v, 0, false);
		fprintf(f, "\n");
	}
}

static void render_text(FILE *f, const struct jv_ctl_cmd *c, json_t *r)
{
	(void)c;
	fputs(json_string_value(json_object_get(r, "text")) ?: "", f);
}

static void render_detail(FILE *f, const struct jv_ctl_cmd *c, json_t *r)
{
	(void)c;
	fprintf(f, "%s\n", json_string_value(json_object_get(r, "detail"))
				   ?: "ok");
}

static void render_ok(FILE *f, const struct jv_ctl_cmd *c, json_t *r)
{
	(void)c, (void)r;
	fprintf(f, "ok\n");
}

/* ---- the table ---- */

static const char *const session_cols[] = {
	"session_id", "peer", "remote", "state", "state_version", "transport",
	"session_age_ms", "transportless_age_ms", "switches_last_min",
	"bytes_in", "bytes_out", NULL,
};
static const char *const transport_cols[] = {
	"id", "proto", "state", "loss_ratio", "rtt_ms", "last_rx_age_ms",
	"peer", "remote", NULL,
};

static const struct jv_ctl_cmd cmds[] = {
	{ "status", 0, 0, JV_CTL_ARG_NONE,
	  "node, role, uptime, policy version, sessions by state",
	  do_status, render_status, NULL, NULL },
	{ "sessions", 0, 0, JV_CTL_ARG_NONE,
	  "every session: id, peer, remote, state, transport, ages,\n"
	  "switches, bytes",
	  do_sessions, render_rows, "sessions", session_cols },
	{ "transports", 0, 0, JV_CTL_ARG_NONE,
	  "the client's transports (state, loss, RTT, last receive)\n"
	  "or the gateway's bound ones; peer and remote address",
	  do_transports, render_rows, "transports", transport_cols },
	{ "terminate", 1, 1, JV_CTL_ARG_SESSION_ID,
	  "end a session (operator_terminated); the peer is told;\n"
	  "the id in full or its first 8+ hex digits",
	  do_terminate, render_ok, NULL, NULL },
	{ "policy-reload", 1, 1, JV_CTL_ARG_FILE,
	  "validate a policy file and apply it atomically",
	  do_policy_reload, render_ok, NULL, NULL },
	{ "reload", 0, 0, JV_CTL_ARG_NONE,
	  "re-read the configuration file: peers added, changed,\n"
	  "removed, the policy; refused (old one kept) when invalid or\n"
	  "when it changes what needs a restart",
	  do_reload, render_detail, NULL, NULL },
	{ "switch", 1, 1, JV_CTL_ARG_TRANSPORT_ID,
	  "client: move to that transport now (the switch limiter\n"
	  "applies; TransportSwitch or TransportSwitchDenied)",
	  do_switch, render_ok, NULL, NULL },
	{ "metrics", 0, 0, JV_CTL_ARG_NONE,
	  "counters and gauges in Prometheus text format",
	  do_metrics, render_text, NULL, NULL },
};

#define NCMDS (sizeof(cmds) / sizeof(cmds[0]))

static const char *const arg_names[] = {
	[JV_CTL_ARG_NONE] = "",
	[JV_CTL_ARG_SESSION_ID] = "SESSION_ID",
	[JV_CTL_ARG_FILE] = "FILE",
	[JV_CTL_ARG_TRANSPORT_ID] = "TRANSPORT_ID",
};

const struct jv_ctl_cmd *jv_ctl_cmd_find(const char *name)
{
	for (size_t i = 0; name && i < NCMDS; i++)
		if (strcmp(name, cmds[i].name) == 0)
			return &cmds[i];
	return NULL;
}

void jv_ctl_cmd_usage(FILE *f)
{
	for (size_t i = 0; i < NCMDS; i++) {
		char syn[64];
		const char *h = cmds[i].help;

		snprintf(syn, sizeof(syn), "%s%s%s", cmds[i].name,
			 cmds[i].arg ? " " : "", arg_names[cmds[i].arg]);
		for (;;) {
			int n = (int)strcspn(h, "\n");

			fprintf(f, "  %-24s %.*s\n", syn, n, h);
			if (!h[n])
				break;
			h += n + 1;
			syn[0] = '\0';
		}
	}
}

json_t *jv_ctl_dispatch(struct jv_ctl_node *n, const char *cmd, json_t *args,
			uint64_t now)
{
	const struct jv_ctl_cmd *c = jv_ctl_cmd_find(cmd);
	size_t nargs = json_array_size(args);

	char msg[128];

	if (!c)
		return reply_error("unknown command '%s'", cmd ? cmd : "");
	if (jv_ctl_check_nargs(c, nargs, msg, sizeof(msg)) != 0)
		return reply_error("%s", msg);
	return c->handle(n, args, now);
}

int jv_ctl_check_nargs(const struct jv_ctl_cmd *c, size_t nargs, char *msg,
		       size_t cap)
{
	if (nargs >= c->min_args && nargs <= c->max_args)
		return 0;
	if (c->arg)
		snprintf(msg, cap, "%s: takes %s", c->name, arg_names[c->arg]);
	else
		snprintf(msg, cap, "%s: takes no arguments", c->name);
	return JV_ERR_INVAL;
}

int jv_ctl_arg_prepare(const struct jv_ctl_cmd *c, const char *in,
		       char *out, size_t cap, struct jv_error *err)
{
	char buf[PATH_MAX > 33 ? PATH_MAX : 33];

	switch (c->arg) {
	case JV_CTL_ARG_SESSION_ID:
		if (jv_ctl_session_prefix(in, buf) < 0)
			return jv_error_set(err, JV_ERR_INVAL, c->name, 0,
					    "not a session id (32 hex digits "
					    "as `ctl sessions` prints, or the "
					    "first 8 or more as timeline and "
					    "metrics print)");
		break;
	case JV_CTL_ARG_FILE:
		if (!realpath(in, buf))
			return jv_error_set(err, JV_ERR_INVAL, in, 0, "%s",
					    strerror(errno));
		break;
	default:
		snprintf(buf, sizeof(buf), "%s", in);
	}
	if (strlen(buf) >= cap)
		return jv_error_set(err, JV_ERR_INVAL, in, 0, "too long");
	memcpy(out, buf, strlen(buf) + 1);
	return 0;
}

char *jv_ctl_request(const char *cmd, char *const *args, int nargs)
{
	json_t *req = json_pack("{s:s, s:[]}", "cmd", cmd, "args");
	char *line, *withnl = NULL;

	for (int i = 0; req && i < nargs; i++)
		json_array_append_new(json_object_get(req, "args"),
				      json_string(args[i]));
	line = req ? json_dumps(req, JSON_COMPACT) : NULL;
	json_decref(req);
	if (line && (withnl = malloc(strlen(line) + 2)))
		sprintf(withnl, "%s\n", line);
	free(line);
	return withnl;
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
