/* The control commands (CONTRACT section 6), one table: each command's
 * arguments, the daemon's handler (request -> JSON reply, from a running
 * endpoint), the renderer `jvpn ctl` prints a reply with, and the help
 * line its usage is made of. Adding a command is one row. */
#ifndef JV_CLI_CTL_REPLY_H
#define JV_CLI_CTL_REPLY_H

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>

#include "core/err.h"
#include "engine/endpoint.h"

/* Where the daemon itself lost a packet (jvpn_dropped_total{where}); the
 * engine's own drops have counters of their own (rx_dropped_total,
 * rx_auth_failed_total, inner_source_rejected_total...). */
enum jv_drop {
	JV_DROP_UDP_SEND,           /* sendmmsg failed: socket buffer full */
	JV_DROP_UDP_RX_QUEUE,       /* the kernel: a UDP socket's queue full */
	JV_DROP_TCP_QUEUE,          /* a TCP transport's send buffer full */
	JV_DROP_TUN_QUEUE,          /* the kernel: the TUN's queue to us full */
	JV_DROP_TUN_WRITE,          /* writing to the TUN failed (queue full) */
	JV_DROP_NO_SESSION,         /* read from the TUN, no session for it */
	JV_DROP_TUN_INVALID,        /* read from the TUN, not sendable */
	JV_DROP__COUNT
};
extern const char *const jv_drop_names[JV_DROP__COUNT];

/* What a handler acts on: the daemon's endpoint and who it is. */
struct jv_ctl_node {
	struct jv_endpoint *ep;
	const char *node_id;
	enum jv_role role;
	uint64_t started_ms;             /* monotonic, when the daemon began */
	/* `reload`: re-reads the daemon's configuration and applies it, or
	 * refuses it (a nonzero return) and keeps the old one; msg says
	 * what was done or what is wrong. NULL: not available. */
	int (*reload)(void *ctx, uint64_t now, char *msg, size_t cap);
	void *ctx;
	/* JV_DROP__COUNT counters; NULL: all 0 */
	const uint64_t *drops;
	/* the TUN's offloads (JV_TUN_*, io/tun.h) and the super packets
	 * read and split (jvpn_tun_offload, jvpn_tun_gso_packets_total) */
	unsigned tun_offload;
	uint64_t tun_gso;
	/* UDP sends that carried several datagrams (UDP_SEGMENT), reads
	 * that did (GRO): jvpn_udp_offload_total{kind} */
	uint64_t udp_gso, udp_gro;
};

/* What a command's argument means; both sides check it. */
enum jv_ctl_arg {
	JV_CTL_ARG_NONE,
	/* the 32 hex digits `ctl sessions` prints, or the first 8 or more
	 * (timeline and metrics print 8) */
	JV_CTL_ARG_SESSION_ID,
	/* a file the daemon reads: `jvpn ctl` sends it as an absolute path,
	 * the daemon runs in another directory */
	JV_CTL_ARG_FILE,
	/* one of the client's transport ids (config transports[].id) */
	JV_CTL_ARG_TRANSPORT_ID,
};

/* The most arguments a command takes. */
#define JV_CTL_ARGS_MAX 2

struct jv_ctl_cmd {
	const char *name;
	uint8_t min_args, max_args;
	enum jv_ctl_arg arg;
	const char *help;                /* lines for the usage, '\n' between */
	/* Daemon side: args is the request's array of strings, its length
	 * already within min_args..max_args. Returns a new reply: "ok": true
	 * and the command's fields, or "ok": false and "error". */
	json_t *(*handle)(struct jv_ctl_node *n, json_t *args, uint64_t now);
	/* ctl side: prints an "ok": true reply for people. */
	void (*render)(FILE *f, const struct jv_ctl_cmd *c, json_t *reply);
	const char *rows;                /* render_rows: the reply's array */
	const char *const *cols;         /* and its columns, in order */
};

/* The node's metrics in the Prometheus text exposition format (0.0.4),
 * what `metrics` replies and metrics_listen serves; malloc'd, NULL when
 * out of memory. */
char *jv_ctl_metrics_text(struct jv_ctl_node *n, uint64_t now);

/* The command named name, or NULL. */
const struct jv_ctl_cmd *jv_ctl_cmd_find(const char *name);

/* The commands for a usage text: "  NAME ARG   help", one per row. */
void jv_ctl_cmd_usage(FILE *f);

/* Daemon side: one request. Unknown commands and wrong argument counts
 * get an "ok": false reply. Never NULL unless out of memory.
 *
 * Replies (CONTRACT section 6):
 *   status:     node_id, role, uptime_ms, policy_version,
 *               sessions: {STATE: count}
 *   sessions:   sessions: [{session_id, peer, state, state_version,
 *               transport (or null), session_age_ms, transportless_age_ms,
 *               switches_last_min, bytes_in, bytes_out, key_epoch}]
 *   transports: transports: [{id, proto, state, loss_ratio, rtt_ms,
 *               last_rx_age_ms (null when never)}]; empty on a server
 *   metrics:    text: the Prometheus text exposition
 *   terminate:  nothing more; the session ends operator_terminated
 *   policy-reload: policy_version; PolicyLoaded or PolicyRejected is
 *               emitted either way
 *   reload:     detail: what the reload changed (peers added, changed,
 *               removed; the policy)
 *   switch:     transport: the reattach to it has started */
json_t *jv_ctl_dispatch(struct jv_ctl_node *n, const char *cmd, json_t *args,
			uint64_t now);

/* Both sides: 0 when c takes nargs arguments, else JV_ERR_INVAL and msg
 * says what it takes ("terminate: takes SESSION_ID"). */
int jv_ctl_check_nargs(const struct jv_ctl_cmd *c, size_t nargs, char *msg,
		       size_t cap);

/* ctl side: checks argument in of c as its meaning asks and writes what
 * to send to out (a session id lowercased; a file's absolute path).
 * 0, or JV_ERR_INVAL with err saying what is wrong. */
int jv_ctl_arg_prepare(const struct jv_ctl_cmd *c, const char *in,
		       char *out, size_t cap, struct jv_error *err);

/* ctl side: the request line, '\n'-terminated, malloc'd (NULL: no
 * memory). */
char *jv_ctl_request(const char *cmd, char *const *args, int nargs);

/* A session id as an operator gives it: the 32 hex digits `ctl sessions`
 * prints, or a prefix of at least 8 (timeline and metrics print 8).
 * Writes it lowercased to out; returns its length, or JV_ERR_INVAL. */
int jv_ctl_session_prefix(const char *s, char out[33]);

/* How many live sessions (not TERMINATED) have an id that begins with
 * prefix (lowercase hex, from jv_ctl_session_prefix); id is the first. */
int jv_ctl_find_session(const struct jv_endpoint *ep, const char *prefix,
			uint64_t now, uint8_t id[16]);

#endif
