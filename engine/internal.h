/* Engine internals shared by session.c, client.c, server.c, endpoint.c. */
#ifndef JV_ENGINE_INTERNAL_H
#define JV_ENGINE_INTERNAL_H

#include "core/audit.h"
#include "core/health.h"
#include "core/limiter.h"
#include "core/ratelimit.h"
#include "core/table.h"
#include "engine/endpoint.h"
#include "engine/timers.h"
#include "proto/cookie.h"
#include "proto/keys.h"
#include "proto/noise.h"

#define NEVER UINT64_MAX

/* A security event budget (token bucket), see session.c. */
struct jv_sec_bucket {
	double tokens;
	uint64_t ms;
	uint32_t suppressed;         /* hidden since the last one emitted */
};

/* One session, on either end. Kept small: the server holds many. */
struct jv_session {
	uint8_t id[16];
	uint8_t prev_id[16];
	enum jv_state state;
	uint64_t state_version;
	uint32_t local_index;        /* ours: peers address us by it */
	uint32_t remote_index;       /* theirs */
	uint32_t attach_epoch;       /* successful attachments (shared count) */
	uint32_t reattach_failures;  /* fresh authenticated denials in a row */
	uint64_t created_ms;
	uint64_t left_attached_ms;   /* valid when state != ATTACHED */
	uint64_t state_since_ms;
	uint64_t last_rekey_ms;
	uint64_t bytes_in, bytes_out;
	struct jv_keys keys;
	struct jv_sec_bucket sec;    /* this session's security events */
	/* server only */
	struct jv_path path;         /* bound path */
	struct jv_wire_tid tid;      /* bound transport id (client's name) */
	uint64_t last_rx_bound_ms;
	uint32_t peer;
	bool confirmed;              /* an authenticated packet arrived */
	double tokens;               /* reattach token bucket (abuse bound) */
	uint64_t tokens_ms;
	uint64_t acc_counter;        /* the last accepted reattach request */
	bool has_acc;
	/* a reattach from a new path waits for the client to answer a
	 * challenge there: the arrival path, and one more where a copy of
	 * the same request came from (a relay may have been first) */
	struct {
		struct jv_path path[2];
		uint8_t npaths;
		uint8_t token[8];
		uint64_t req_counter;
		uint64_t until_ms;
		struct jv_wire_tid tid;
		/* the first copy came over another protocol than it names:
		 * a relay's; the client's own copy may follow */
		bool stashed;
	} pend;
	/* switches per minute for ctl: two 60 s buckets, the older one
	 * weighted by how much of it still lies in the last minute */
	uint64_t sw_bucket_ms;
	uint16_t sw_cur, sw_prev;
};

#define JV_HS_KEEP 3
/* The first HS_INIT retry, doubling up to the policy's interval
 * (client.c hs_retry_ms). */
#define JV_HS_RETRY_FIRST_MS 250

/* Client-side transport state. */
enum { TR_STANDBY, TR_ACTIVE, TR_DEAD };

struct jv_ctransport {
	struct jv_transport_cfg cfg;
	struct jv_health health;
	int state;                   /* TR_* */
	bool link_up;
	uint32_t flaps;
	uint64_t dead_since_ms;
	uint64_t probe_sent_ms;      /* the last probe sent on it */
	/* a standby earlier in the preference order than the active one
	 * fails back after failback_after_ms healthy: since when it has
	 * been (NEVER: not now; any loss or death restarts it) */
	uint64_t healthy_since_ms;
};

/* The client's timers (engine/timers.h); client.c alone arms them. */
enum jv_ctimer {
	CT_RECONNECT,                /* no live session: start the next */
	CT_HS_RETRY,                 /* BIRTH: send HS_INIT again */
	CT_HS_GIVEUP,                /* BIRTH: handshake_failed */
	CT_LIFETIME,                 /* session_lifetime_exceeded */
	CT_TRANSPORT_TTL,            /* transport_ttl_exceeded */
	CT_REKEY,                    /* time to rotate the send key */
	CT_HEARTBEAT,                /* held while no transport takes them */
	CT_VOLATILE,                 /* volatile_to_degraded_ms passed */
	CT_RECOVERY,                 /* recovery_window_expired */
	CT_REATTACH_TX,              /* send the reattach request again */
	CT_COOLDOWN,                 /* the switch cooldown ends */
	CT_RATE_WINDOW,              /* the sliding minute has room again */
	CT_FAILBACK,                 /* a preferred standby stayed healthy
					failback_after_ms */
	CT_DATA_SILENCE,             /* inner packets went out on the active
					transport and nothing came back: the
					next step of the data-path watch */
	CT_PROBE,                    /* + t: probe transport t (held when
					not probed) */
	CT_PROBE_TIMEOUT = CT_PROBE + JV_MAX_TRANSPORTS, /* + t: a probe of
							    t is lost */
	CT_RX_SILENCE = CT_PROBE_TIMEOUT + JV_MAX_TRANSPORTS, /* + t: t has
						been silent heartbeat_volatile_ms */
	CT_LOSS_AGE = CT_RX_SILENCE + JV_MAX_TRANSPORTS, /* + t: a sample of
						t leaves a loss window in use */
	CT__COUNT = CT_LOSS_AGE + JV_MAX_TRANSPORTS
};
_Static_assert(CT__COUNT <= JV_TIMERS_MAX, "client timers fit");

struct jv_client {
	struct jv_ctransport tr[JV_MAX_TRANSPORTS];
	uint32_t ntr;
	struct jv_session s;
	bool live;                   /* s is a session not yet terminated */
	int active;                  /* transport index or -1 */
	int last_active;             /* the transport before we left ATTACHED */
	int candidate;               /* reattach target in RECOVERING */
	/* handshake (BIRTH): the states of the last HS_INITs sent, newest at
	 * hs_newest, so a slow reply to an earlier one still completes */
	struct jv_noise hs[JV_HS_KEEP];
	uint32_t hs_newest;
	int hs_transport;
	uint32_t hs_sent;            /* HS_INITs sent for this session */
	uint64_t hs_last_ts;         /* last HS_INIT timestamp sent */
	/* per kept HS_INIT: its mac1, the AD of a COOKIE_REPLY to it, until
	 * one reply to it has been taken; and whether it carried a mac2 */
	uint8_t hs_mac1[JV_HS_KEEP][JV_MAC_LEN];
	bool hs_mac1_open[JV_HS_KEEP];
	bool hs_had_mac2[JV_HS_KEEP];
	struct jv_cookie_keys ck;    /* from the server's public key */
	/* the server's cookie for our source address on each transport */
	struct {
		uint8_t cookie[JV_COOKIE_LEN];
		uint64_t until_ms;
		bool has;
	} cookie[JV_MAX_TRANSPORTS];
	struct jv_timers timers;     /* indexed by enum jv_ctimer */
	uint32_t hb_seq;
	uint64_t first_req_counter;  /* of the current reattach attempt */
	enum jv_reason volatile_cause;
	int last_denial;             /* last TransportSwitchDenied reason */
	struct jv_limiter limiter;
	bool stop;                   /* no reconnect (operator, shutdown) */
	/* the data-path watch of the active transport (issue 11): since when
	 * inner packets have gone out on it with nothing heard back (NEVER:
	 * none unanswered), how many suspicion probes went out since, and
	 * whether the silence is confirmed (evaluate() reads it) */
	uint64_t data_unanswered_ms;
	uint32_t data_probes;
	bool data_silent;
};

struct jv_tombstone {
	uint32_t local_index, remote_index;
	uint8_t ctrl_rx[32], ctrl_tx[32];
	uint64_t tx_counter;
	uint64_t rx_top;             /* answer only counters above this */
	uint64_t until_ms;
	uint64_t window_ms;          /* answers in the second from window_ms */
	uint32_t answers;
	uint8_t deny_reason;
	bool used;
};

#define JV_TOMBSTONES 64

/* The keys of a handshake an unconfirmed session redid (its HS_INIT came
 * again): the client may complete the earlier one, when its first reply
 * was slow rather than lost. */
struct jv_hs_prev {
	uint32_t local_index;
	uint64_t until_ms;
	struct jv_keys keys;
};

#define JV_HS_PREV 16

struct jv_server {
	struct jv_peer_cfg *peers;
	uint32_t npeers;
	uint64_t *peer_last_hs_ts;   /* per peer: newest HS_INIT timestamp */
	uint8_t (*peer_ended)[16];   /* per peer: its last ended session id */
	uint32_t *peer_session;      /* per peer: live session index or 0 */
	uint8_t (*peer_ss)[32];      /* per peer: DH(our static, its static) */
	struct jv_aip *routes;       /* the peers' allowed_ips: peer index */
	struct jv_table *table;
	struct jv_session *pool;     /* max_sessions entries */
	uint32_t *free_list, nfree;
	struct jv_tombstone tomb[JV_TOMBSTONES];
	uint32_t tomb_next;
	struct jv_hs_prev hs_prev[JV_HS_PREV];
	uint32_t hs_prev_next;
	/* handshakes under load (docs/protocol.md) */
	struct jv_cookie_checker cookie;
	/* COOKIE_REPLY nonces: a random prefix drawn with each secret and a
	 * count, unique without a system call per reply */
	uint8_t cookie_nonce[JV_COOKIE_NONCE_LEN - 8];
	uint64_t cookie_nonce_n;
	struct jv_ratelimit *rl;     /* per source prefix, allocated at init */
	uint8_t rl_key[16];          /* keys the hash naming a prefix */
	uint32_t load_threshold;     /* HS_INITs a second before load */
	struct {
		uint64_t win_ms;         /* the current one-second window */
		uint32_t count, prev;    /* HS_INITs in it and the one before */
		uint32_t sources;        /* asking in the one before */
		bool under;
	} load;
};

/* The re-send store (resend.c): copies of the DATA datagrams sent, all
 * sessions in one ring, taken at the first copy kept. */
struct jv_resend {
	uint8_t *buf;
	size_t cap;                  /* bytes of buf */
	uint64_t head, tail;         /* positions: the oldest record, the end */
	uint64_t last;               /* the newest record (when head < tail) */
	uint32_t walked;             /* records the last re-send looked at */
	uint64_t live;               /* bytes of the records not dropped */
	uint32_t nlive;
};

#define JV_RESEND_NO_TR 0xff

/* Which copies a re-send takes: one session's, sent from since_ms on,
 * not on transport skip_tr (JV_RESEND_NO_TR: any), of its send epoch
 * (or the one before, if prev_epoch_ok), counters the peer's replay
 * window (window, below tx_counter) still takes; the newest max_bytes
 * of them (record bytes). */
struct jv_resend_sel {
	uint32_t owner;
	uint8_t skip_tr;
	uint64_t since_ms;
	uint16_t epoch;
	bool prev_epoch_ok;
	uint64_t tx_counter;
	uint32_t window;
	uint64_t max_bytes;
};

struct jv_endpoint {
	const struct jv_half *half;
	struct jv_endpoint_cfg cfg;
	struct jv_policy policy;
	struct jv_audit audit;
	struct jv_endpoint_stats stats;
	uint8_t static_pub[32];
	uint64_t started_ms;
	/* security event budgets: events tied to no session, and all the
	 * sessions' events together */
	struct jv_sec_bucket sec_node, sec_sessions;
	/* what events about a peer say (`peer`, `remote`): the datagram being
	 * handled (set by jv_endpoint_recv), and the configured peer a
	 * session-less security event concerns (a known key's handshake) */
	const struct jv_path *rx_path;
	const char *ev_peer;
	struct jv_resend resend;
	union {
		struct jv_client c;
		struct jv_server s;
	} u;
	uint8_t scratch[JV_WIRE_MAX];  /* one datagram: no per-packet malloc */
	uint8_t plain[JV_WIRE_MAX];
};

/* session.c */
void jv_session_init(struct jv_endpoint *ep, struct jv_session *s,
		     const uint8_t id[16], uint64_t now);
/* Whether the fsm table takes event in the session's state (pure: ask
 * before any side effect of the step). */
bool jv_session_takes(const struct jv_session *s, enum jv_reason event);
/* One step of the state machine: the table decides the next state for
 * event (a reason code) and it is applied (SessionStateChange), or the
 * step is refused, nothing changes and TransitionRejected is logged.
 * Returns true if applied. transport: the active one, for ATTACHED. */
bool jv_session_step(struct jv_endpoint *ep, struct jv_session *s,
		     enum jv_reason event, const char *transport, uint64_t now);
/* →TERMINATED, SessionTerminated; wipes keys. Caller tells the peer first. */
void jv_session_terminate(struct jv_endpoint *ep, struct jv_session *s,
			  enum jv_reason why, const char *transport,
			  uint64_t now);
uint64_t jv_session_transportless_age(const struct jv_session *s,
				      uint64_t now);
/* Session TTL deadline (lifetime or transportless TTL), NEVER if none. */
uint64_t jv_session_ttl_deadline(const struct jv_endpoint *ep,
				 const struct jv_session *s);
/* The TTL reason due at now, or JV_R_NONE. */
enum jv_reason jv_session_ttl_due(const struct jv_endpoint *ep,
				  const struct jv_session *s, uint64_t now);
/* Rotates the data send key if due; emits KeyRotated. */
void jv_session_maybe_rekey(struct jv_endpoint *ep, struct jv_session *s,
			    uint64_t now);
uint64_t jv_session_rekey_deadline(const struct jv_endpoint *ep,
				   const struct jv_session *s);

/* Switch counting on the server (the client has its limiter). */
void jv_session_count_switch(struct jv_session *s, uint64_t now);
uint32_t jv_session_switches_last_min(const struct jv_session *s,
				      uint64_t now);

/* Seals and sends a control message on path. */
void jv_send_ctrl(struct jv_endpoint *ep, struct jv_session *s,
		  const struct jv_path *path, const struct jv_ctrl *c);
void jv_send_raw(struct jv_endpoint *ep, const struct jv_path *path,
		 const uint8_t *buf, size_t len);

/* Event helpers. */
struct jv_json *jv_ev_begin(struct jv_endpoint *ep, uint64_t now,
			    const char *type, const struct jv_session *s);
void jv_ev_end(struct jv_endpoint *ep);
/* The peer's name and the remote end of a path into buf (cap bytes):
 * what `peer` and `remote` say (endpoint.c). */
const char *jv_peer_name(const struct jv_endpoint *ep,
			 const struct jv_session *s);
size_t jv_format_path(const struct jv_endpoint *ep, const struct jv_path *p,
		      char *buf, size_t cap);
/* The client's transport for a session's `remote` when no datagram is
 * being handled: the active one, else the reattach candidate, else the
 * one the handshake goes on, else the one it left (-1: none). */
int jv_client_path_transport(const struct jv_client *c);
/* Security events are rate limited, per session (s) or per node (NULL).
 * jv_sec_allow counts the event and returns 0 if the limit hides it, else
 * 1 + how many the same budget hid since its last event. */
void jv_sec_init(struct jv_endpoint *ep, uint64_t now);
uint32_t jv_sec_allow(struct jv_endpoint *ep, struct jv_session *s,
		      uint64_t now);
/* Whether a security event could be emitted now (consumes nothing). */
bool jv_sec_would_allow(const struct jv_endpoint *ep,
			const struct jv_session *s, uint64_t now);
/* Begins a security event if the budget allows (adds `suppressed` when
 * events were hidden before it); NULL if hidden. End with jv_ev_end. */
struct jv_json *jv_ev_security_begin(struct jv_endpoint *ep,
				     struct jv_session *s, const char *type,
				     uint64_t now);
void jv_ev_security(struct jv_endpoint *ep, struct jv_session *s,
		    const char *type, enum jv_reason why,
		    const char *transport, uint64_t now);
/* An inner packet whose source lies outside the peer's prefixes: counted
 * and reported (SecurityInnerSourceRejected, rate limited). */
/* A session's packet that did not open (JV_ERR_AUTH): counted; a DATA
 * packet reported (bad_data_key) unless it is from an epoch already left
 * behind (late, counted in rx_late). */
void jv_data_auth_failed(struct jv_endpoint *ep, struct jv_session *s,
			 const struct jv_hdr *h, const char *transport,
			 uint64_t now);
void jv_inner_source_rejected(struct jv_endpoint *ep, struct jv_session *s,
			      const char *transport, uint64_t now);
/* resent: on SUCCESS, the copies re-sent (resent_packets, resent_bytes);
 * NULL on a denial */
struct jv_resent {
	uint32_t packets;
	uint64_t bytes;
};
void jv_ev_reattach_result(struct jv_endpoint *ep, const struct jv_session *s,
			   bool ok, enum jv_reason why, const char *candidate,
			   const struct jv_resent *resent, uint64_t now);
void jv_ev_transport_dead(struct jv_endpoint *ep, const struct jv_session *s,
			  const char *transport, enum jv_reason why,
			  uint64_t last_rx_age, uint64_t now);

void jv_random(struct jv_endpoint *ep, void *buf, size_t len);
/* Asks the driver to lock (on) or unlock memory that holds keys. */
void jv_lock(struct jv_endpoint *ep, void *ptr, size_t len, bool on);
bool jv_path_eq(const struct jv_path *a, const struct jv_path *b);
/* Server: tells the driver the session's bound path is path now (NULL:
 * none, the session ends), and sets s->path. */
void jv_path_bind(struct jv_endpoint *ep, struct jv_session *s,
		  const struct jv_path *path);

/* resend.c: keeps a copy of a sealed DATA datagram of session owner
 * (its local index), sent on client transport tr (server:
 * JV_RESEND_NO_TR); drops a session's copies; the bytes and copies a
 * session holds (tests); frees the ring; frees it if the policy changed
 * its size. */
void jv_resend_keep(struct jv_endpoint *ep, uint32_t owner, uint8_t tr,
		    const uint8_t *dg, size_t len, uint64_t now);
void jv_resend_drop(struct jv_endpoint *ep, uint32_t owner);
uint64_t jv_resend_held(const struct jv_endpoint *ep, uint32_t owner,
			uint32_t *n);
void jv_resend_free(struct jv_endpoint *ep);
void jv_resend_policy_changed(struct jv_endpoint *ep);
/* The selection for session s: copies sent from since_ms on, its epoch
 * rules, the policy's bounds. */
void jv_resend_sel_init(const struct jv_endpoint *ep,
			const struct jv_session *s, uint64_t since_ms,
			uint64_t now, struct jv_resend_sel *sel);
/* Sends the copies sel takes on path, oldest first (path NULL: only
 * counts them); *pkts, *bytes: how many, datagram bytes. */
void jv_resend_run(struct jv_endpoint *ep, const struct jv_resend_sel *sel,
		   const struct jv_path *path, uint32_t *pkts, uint64_t *bytes);

/* The client or the server half of an endpoint: endpoint.c dispatches
 * every entry point through it. NULL where a half has nothing to do. */
struct jv_half {
	int (*init)(struct jv_endpoint *ep, uint64_t now);
	void (*free)(struct jv_endpoint *ep);
	void (*start)(struct jv_endpoint *ep, uint64_t now);
	/* the handshake message this half takes (HS_RESP or HS_INIT) */
	uint8_t handshake_type;
	void (*recv_handshake)(struct jv_endpoint *ep,
			       const struct jv_path *path, const uint8_t *buf,
			       size_t len, uint64_t now);
	/* COOKIE_REPLY (the client's) */
	void (*recv_cookie)(struct jv_endpoint *ep, const struct jv_path *path,
			    const uint8_t *buf, size_t len, uint64_t now);
	/* DATA and CONTROL: sealed under a session's keys */
	void (*recv_sealed)(struct jv_endpoint *ep, const struct jv_path *path,
			    const uint8_t *buf, size_t len, uint64_t now);
	int (*send_inner)(struct jv_endpoint *ep, const uint8_t *pkt,
			  size_t len, uint64_t now);
	void (*tick)(struct jv_endpoint *ep, uint64_t now);
	uint64_t (*deadline)(const struct jv_endpoint *ep);
	void (*transport_down)(struct jv_endpoint *ep, uint32_t t,
			       enum jv_reason why, uint64_t now);
	void (*transport_up)(struct jv_endpoint *ep, uint32_t t, uint64_t now);
	/* session_id NULL: all */
	int (*terminate)(struct jv_endpoint *ep, const uint8_t *session_id,
			 enum jv_reason why, uint64_t now);
	/* the operator's switch to transport t (client) */
	int (*switch_to)(struct jv_endpoint *ep, uint32_t t, uint64_t now);
	/* the peers replaced (server) */
	int (*set_peers)(struct jv_endpoint *ep, const struct jv_peer_cfg *peers,
			 uint32_t n, uint64_t now);
	/* the policy changed: timers that count from it are armed again */
	void (*policy_changed)(struct jv_endpoint *ep, uint64_t now);
};

extern const struct jv_half jv_client_half;   /* client.c */
extern const struct jv_half jv_server_half;   /* server.c */

#endif
