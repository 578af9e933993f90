/* A jvpn endpoint: one client or one server, sans-I/O.
 *
 * The caller hands it datagrams (jv_endpoint_recv), inner packets
 * (jv_endpoint_send_inner), link facts and the current monotonic time; it
 * hands back datagrams to send, inner packets to deliver and audit event
 * lines through the ops callbacks, and tells the caller its next deadline.
 * Callbacks run synchronously inside the call that caused them and must not
 * call back into the endpoint. */
#ifndef JV_ENDPOINT_H
#define JV_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/allowedips.h"
#include "core/audit.h"
#include "core/fsm.h"
#include "core/policy.h"
#include "proto/wire.h"

/* Where a datagram came from / goes to. Opaque to the engine beyond
 * equality: the driver puts a socket address (or a simulated path id) in
 * addr. On the client, local is the transport index.
 *
 * On the server, addr[src_off .. src_off + src_len) names the source's
 * network prefix for the handshake rate limit (an IPv4 address, the /64 of
 * an IPv6 one): only the driver knows how it laid out addr, so it says
 * where the prefix lies rather than the engine parsing socket addresses.
 * src_len 0 (or a window outside len) means all of addr names the source. */
struct jv_path {
	uint8_t proto;          /* JV_PROTO_UDP or JV_PROTO_TCP */
	uint8_t len;            /* bytes of addr in use */
	uint16_t local;         /* client: transport index; server: listener */
	uint8_t addr[28];
	uint8_t src_off, src_len;
};

struct jv_transport_cfg {
	char id[JV_TID_MAX + 1];
	uint8_t proto;
};

/* A peer's allowed_ips (struct jv_prefix, core/allowedips.h: IPv4 or
 * IPv6; an IPv4 one is { .addr = host order, .prefix = N }) are its
 * cryptokey routes: the server sends an inner packet to the peer holding
 * the longest prefix for its destination, and takes an inner packet from
 * a peer only if its source would be routed back to that peer. Two peers
 * may not hold the same prefix (jv_endpoint_new fails). */
#define JV_PEER_MAX_IPS 128
struct jv_peer_cfg {
	char name[64];
	uint8_t public_key[32];
	uint32_t nallowed;
	struct jv_prefix allowed[JV_PEER_MAX_IPS];
};

struct jv_endpoint_ops {
	void (*send)(void *ctx, const struct jv_path *path, const uint8_t *buf,
		     size_t len);
	/* An authenticated inner packet for the TUN device. */
	void (*deliver)(void *ctx, const uint8_t *pkt, size_t len);
	/* One JSON event line (no newline). */
	void (*event)(void *ctx, const char *line, size_t len);
	/* Fills buf with random bytes (randombytes_buf in daemons). */
	void (*random)(void *ctx, uint8_t *buf, size_t len);
	/* Optional: memory that holds keys, to keep out of swap and core
	 * dumps (on) and to release before it is freed (off). Best effort. */
	void (*lock)(void *ctx, void *ptr, size_t len, bool on);
	/* Optional: the outer address and port at the far end of path, as
	 * text ("192.0.2.1:51820", "[2001:db8::1]:443"; the simulator names
	 * its path), for events (`remote`) and introspection. On the client
	 * path->local names the transport. Writes a NUL-terminated string
	 * and returns its length; 0 when unknown. */
	size_t (*format_path)(void *ctx, const struct jv_path *path, char *buf,
			      size_t cap);
	/* Optional, server: path became (bound) or stopped being (!bound)
	 * the path a session is bound to: at the handshake, when a reattach
	 * moves the session, when it ends. Calls pair up per session, so a
	 * path two sessions share is bound twice. The driver may give a
	 * bound path a socket of its own (cli/drv_server.c), so that its
	 * datagrams do not queue behind a flood at the listener. */
	void (*path_bound)(void *ctx, const struct jv_path *path, bool bound);
};

#define JV_MAX_TRANSPORTS 16
#define JV_MAX_PEERS 256

struct jv_endpoint_cfg {
	enum jv_role role;
	char node_id[64];
	uint8_t private_key[32];
	const uint8_t *psk;                 /* NULL, or 32 bytes (IKpsk2) */
	struct jv_policy policy;
	/* client */
	uint8_t server_public_key[32];
	struct jv_transport_cfg transports[JV_MAX_TRANSPORTS];
	uint32_t ntransports;
	bool reconnect;                     /* on_terminated: reconnect */
	/* inner sources accepted from the server (IPv4 and IPv6): the
	 * tunnel subnets and the routes; none configured accepts any */
	struct jv_prefix server_allowed[JV_PEER_MAX_IPS];
	uint32_t nserver_allowed;
	/* server */
	const struct jv_peer_cfg *peers;
	uint32_t npeers;
	uint32_t max_sessions;
	/* handshakes under load (docs/protocol.md): more HS_INITs a second
	 * than this and each must prove its source with a cookie (0: 500);
	 * HS_INITs one source prefix may have answered a second, burst 5x
	 * (0: 20) */
	uint32_t cookie_threshold_per_s;
	uint32_t per_source_per_s;
	/* the server's store of copies for re-sending after a reattach,
	 * shared by its sessions (0: switching.resend_max_bytes per session
	 * slot, at most 16 MiB); taken at the first copy kept */
	uint64_t resend_pool_bytes;
	/* events carry now_ms + ts_offset_ms (wall clock at the edge) */
	int64_t ts_offset_ms;
	struct jv_endpoint_ops ops;
	void *ctx;
};

struct jv_endpoint;

/* Creates an endpoint; cfg is copied (peers too). Emits nothing. Draws
 * its run_id from ops.random: all its events form one run, starting at
 * now (+ ts_offset_ms). JV_ERR_INVAL for a server whose peers hold a
 * malformed prefix or one prefix twice. */
int jv_endpoint_new(const struct jv_endpoint_cfg *cfg, uint64_t now,
		    struct jv_endpoint **out);
/* Wipes keys and frees. Does not emit: call jv_endpoint_shutdown first. */
void jv_endpoint_free(struct jv_endpoint *ep);

/* Client: starts the first session's handshake. Server: no-op. */
void jv_endpoint_start(struct jv_endpoint *ep, uint64_t now);

/* A datagram arrived on path. Never trusts it before authentication. */
void jv_endpoint_recv(struct jv_endpoint *ep, const struct jv_path *path,
		      const uint8_t *buf, size_t len, uint64_t now);

/* An inner packet from the TUN device: sealed and sent (client: on its
 * current transport; server: to the peer whose allowed_ips hold the
 * longest prefix for its IPv4 or IPv6 destination). Returns 0,
 * JV_ERR_NOTFOUND (no route, or that peer has no session) or JV_ERR_INVAL
 * (too long; server: not an IPv4 or IPv6 packet). */
int jv_endpoint_send_inner(struct jv_endpoint *ep, const uint8_t *pkt,
			   size_t len, uint64_t now);

/* Runs due timers. */
void jv_endpoint_tick(struct jv_endpoint *ep, uint64_t now);
/* Next time jv_endpoint_tick must run (may be early, never late). */
uint64_t jv_endpoint_deadline(const struct jv_endpoint *ep);

/* Client: the driver's facts about a transport. reason is JV_R_LINK_DOWN
 * (interface down) or JV_R_TRANSPORT_DEAD (socket error, TCP closed). */
void jv_endpoint_transport_down(struct jv_endpoint *ep, uint32_t transport,
				enum jv_reason reason, uint64_t now);
void jv_endpoint_transport_up(struct jv_endpoint *ep, uint32_t transport,
			      uint64_t now);

/* Terminates one session (session_id) or all (NULL) with reason
 * (JV_R_OPERATOR_TERMINATED on operator request); the peer is told.
 * Returns 0 or JV_ERR_NOTFOUND. A client with reconnect does not reconnect
 * after an operator termination or shutdown. */
int jv_endpoint_terminate(struct jv_endpoint *ep, const uint8_t *session_id,
			  enum jv_reason reason, uint64_t now);

/* Client: the operator asks to move to transport (an index) now, the
 * way any switch goes: the switch limiter, then the reattach
 * (ReattachAttempt; TransportSwitch, explicit, when it is acknowledged);
 * an ATTACHED session goes through VOLATILE (peer_path_change). Returns 0
 * (the reattach started), JV_ERR_NOTFOUND (no such transport),
 * JV_ERR_EXISTS (already the active one), JV_ERR_STATE (no session to
 * move, a reattach under way, the transport down or dead; a server), or
 * the reason it was denied, a positive enum jv_reason
 * (JV_R_SWITCH_RATE_LIMITED, JV_R_COOLDOWN_ACTIVE, JV_R_POLICY_DENIED),
 * after TransportSwitchDenied. */
int jv_endpoint_switch(struct jv_endpoint *ep, uint32_t transport,
		       uint64_t now);

/* Server: replaces the configured peers (copied), matched by name. A peer
 * whose name and key are unchanged keeps its session untouched (same id,
 * same keys), whatever became of its allowed_ips; the sessions of a peer
 * removed, or whose public key changed, end with operator_terminated (the
 * peer is told); the cryptokey routing table is rebuilt. All or nothing:
 * JV_ERR_INVAL (no peers, too many, a malformed prefix, one prefix twice,
 * a key of low order) or JV_ERR_NOMEM leave everything as it was;
 * JV_ERR_STATE on a client. */
int jv_endpoint_set_peers(struct jv_endpoint *ep,
			  const struct jv_peer_cfg *peers, uint32_t n,
			  uint64_t now);

/* Replaces the policy atomically; emits PolicyLoaded. */
void jv_endpoint_set_policy(struct jv_endpoint *ep, const struct jv_policy *p,
			    uint64_t now);
/* Emits PolicyRejected with detail (the caller's validation message). */
void jv_endpoint_policy_rejected(struct jv_endpoint *ep, const char *detail,
				 uint64_t now);
const struct jv_policy *jv_endpoint_policy(const struct jv_endpoint *ep);

/* Introspection for the control socket and the simulator. */
#define JV_REMOTE_MAX 64
struct jv_session_info {
	uint8_t session_id[16];
	/* the peer's configured name on the server; the client's node_id on
	 * the client (CONTRACT section 8): the same on both ends */
	char peer[64];
	char remote[JV_REMOTE_MAX];         /* outer address:port, "" unknown */
	uint8_t proto;                      /* of remote's path, 0 unknown */
	enum jv_state state;
	uint64_t state_version;
	char transport[JV_TID_MAX + 1];     /* active, "" when none */
	uint64_t session_age_ms;
	uint64_t transportless_age_ms;      /* 0 while ATTACHED */
	uint32_t switches_last_min;
	uint64_t bytes_in, bytes_out;
	uint32_t key_epoch;
};
/* Iterates live sessions; *cursor starts at 0. Returns false at the end. */
bool jv_endpoint_session_next(const struct jv_endpoint *ep, uint32_t *cursor,
			      uint64_t now, struct jv_session_info *out);

struct jv_transport_info {
	char id[JV_TID_MAX + 1];
	uint8_t proto;
	const char *state;                  /* "active", "standby", "dead" */
	double loss_ratio;
	uint32_t rtt_ms;
	uint64_t last_rx_age_ms;            /* UINT64_MAX: never */
	char remote[JV_REMOTE_MAX];         /* outer address:port, "" unknown */
};
/* Client transports, by index; false past the end (server: always). */
bool jv_endpoint_transport(const struct jv_endpoint *ep, uint32_t i,
			   uint64_t now, struct jv_transport_info *out);

/* Client: state of the current session (TERMINATED when none is live). */
enum jv_state jv_endpoint_client_state(const struct jv_endpoint *ep);

struct jv_endpoint_stats {
	uint64_t sessions_by_state[JV_STATE__COUNT];
	uint64_t rx_packets, tx_packets, rx_dropped;
	uint64_t inner_delivered, inner_sent;
	uint64_t handshakes_ok, reattach_ok, reattach_denied;
	uint64_t security_events;
	uint64_t security_suppressed;   /* rate limit hid the event */
	uint64_t rx_auth_failed;        /* a session's packet did not open */
	/* late, not forged: data from a key epoch already left, or a stale
	 * reattach request older than one already accepted */
	uint64_t rx_late;
	uint64_t inner_source_rejected; /* inner source outside the prefixes */
	/* server: what became of each HS_INIT (jvpn_handshake_total) */
	uint64_t hs_ok;                 /* answered with HS_RESP */
	uint64_t hs_bad_mac;            /* mac1 wrong: dropped before any DH */
	uint64_t hs_cookie_sent;        /* under load, no valid mac2 */
	uint64_t hs_rate_limited;       /* its source prefix over its rate */
	uint64_t hs_failed;             /* Noise, peer, replay or policy */
	/* inner bytes received from / sent to peers, every session of
	 * the run (ended ones and live ones) */
	uint64_t bytes_in, bytes_out;
	/* copies of data re-sent after a reattach (issue 11 item 4) */
	uint64_t resent_packets, resent_bytes;
};
void jv_endpoint_stats(const struct jv_endpoint *ep,
		       struct jv_endpoint_stats *out);
/* The store of copies re-sent after a reattach (switching.resend_max_bytes):
 * the memory it holds (0: none taken), and the bytes (record headers
 * included) and copies held for session_id (NULL: all sessions; unknown:
 * none). Walks the store: for tests and introspection, not per packet. */
struct jv_resend_info {
	uint64_t pool_bytes;
	uint64_t held_bytes;
	uint32_t held_packets;
	uint32_t last_walk;     /* copies the last re-send looked at */
};
void jv_endpoint_resend_info(const struct jv_endpoint *ep,
			     const uint8_t *session_id,
			     struct jv_resend_info *out);

/* Server: the configured peers' names, by index; NULL past the end
 * (client: always). */
const char *jv_endpoint_peer_name(const struct jv_endpoint *ep, uint32_t i);

#endif
