/* Daemon configuration (CONTRACT section 5): one YAML file per node, loaded
 * with the same strictness as a policy: unknown keys, wrong types and bad
 * values are refused with file, line, key and what is allowed. */
#ifndef JV_CLI_CONFIG_H
#define JV_CLI_CONFIG_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>

#include "cli/addr.h"
#include "core/allowedips.h"
#include "core/err.h"
#include "core/policy.h"
#include "engine/endpoint.h"

#define JV_CFG_MAX_LISTEN 16
#define JV_CFG_PATH_MAX 256
#define JV_CFG_MAX_DNS 8                 /* glibc reads the first 3 */
#define JV_CFG_MAX_DNS_SEARCH 6          /* glibc's MAXDNSRCH */
#define JV_CFG_DNS_NAME_MAX 253          /* a domain name, no final dot */
/* client routes: as many as wg-quick users list in AllowedIPs (a full
 * tunnel "minus the private ranges" is some 30 prefixes) */
#define JV_CFG_MAX_ROUTES 64
/* the fwmark, and the number of the routing table of a full tunnel */
#define JV_CFG_FWMARK_DEFAULT 51821

#define JV_TUN_MAX_ADDRS 8

/* server: one socket to listen on */
struct jv_listen_cfg {
	char id[JV_TID_MAX + 1];
	uint8_t proto;                   /* JV_PROTO_UDP or JV_PROTO_TCP */
	struct jv_sockaddr addr;         /* "0.0.0.0:51820", "[::]:443", a
					  * name: jv_config_resolve */
	int line_address;                /* where address is in the file */
};

/* client: one candidate transport, in order of preference */
struct jv_transport_io_cfg {
	char id[JV_TID_MAX + 1];
	uint8_t proto;
	struct jv_sockaddr remote;       /* "192.0.2.1:51820", "[v6]:PORT",
					  * "NAME:PORT" (jv_config_resolve) */
	char bind_device[IFNAMSIZ];      /* "" = none (SO_BINDTODEVICE) */
	struct jv_sockaddr bind_address; /* len 0 = none; port may be 0 */
	int line, line_remote, line_bind_device, line_bind_address;
					  /* 0: not given */
};

/* client dns: one resolver address */
struct jv_dns_server {
	int family;                      /* AF_INET or AF_INET6 */
	uint8_t addr[16];                /* network order */
};

struct jv_tun_cfg {
	char name[IFNAMSIZ];             /* "jvpn0" */
	/* the node's addresses with their prefix lengths, IPv4 and IPv6
	 * ("10.77.0.2/24": host bits kept, unlike allowed_ips) */
	struct jv_prefix addr[JV_TUN_MAX_ADDRS];
	uint32_t naddr;                  /* 1..JV_TUN_MAX_ADDRS */
	uint32_t mtu;                    /* 576..9000; default 1420 */
	int line, line_name;
};

struct jv_config {
	char file[JV_CFG_PATH_MAX];
	enum jv_role role;
	char node_id[64];
	uint8_t private_key[32];
	bool has_psk;
	uint8_t psk[32];
	/* key files named, resolved; read by jv_config_read_files */
	char private_key_file[JV_CFG_PATH_MAX], psk_file[JV_CFG_PATH_MAX];
	int line_private_key_file, line_psk_file, line_policy_file;
	/* server */
	struct jv_listen_cfg listen[JV_CFG_MAX_LISTEN];
	uint32_t nlisten;
	struct jv_peer_cfg peers[JV_MAX_PEERS];
	uint32_t npeers;
	uint32_t max_sessions;           /* default 1024 */
	uint32_t cookie_threshold_per_s; /* handshake.*: default 500 */
	uint32_t per_source_per_s;       /* default 20 */
	/* client */
	uint8_t server_public_key[32];
	struct jv_transport_io_cfg transports[JV_MAX_TRANSPORTS];
	uint32_t ntransports;
	bool reconnect;                  /* on_terminated: reconnect|exit */
	/* DNS while the tunnel is up (cli/dns.c): resolvers, search domains */
	struct jv_dns_server dns[JV_CFG_MAX_DNS];
	uint32_t ndns;
	char dns_search[JV_CFG_MAX_DNS_SEARCH][JV_CFG_DNS_NAME_MAX + 1];
	uint32_t ndns_search;
	int line_dns;
	/* CONTRACT section 8: destinations sent into the tunnel (0.0.0.0/0,
	 * ::/0: a full tunnel) and the fwmark of the outer sockets then */
	struct jv_prefix routes[JV_CFG_MAX_ROUTES];
	uint32_t nroutes;
	uint32_t fwmark;                 /* default JV_CFG_FWMARK_DEFAULT */
	int line_routes, line_fwmark;
	/* both */
	struct jv_tun_cfg tun;
	char audit_path[JV_CFG_PATH_MAX];      /* "-" = stdout */
	char control_socket[108];              /* sun_path */
	int line_audit_path, line_control_socket;
	/* GET /metrics over HTTP: "ADDR:PORT", len 0 when not set */
	struct jv_sockaddr metrics_listen;
	int line_metrics_listen;
	/* run at up (after the TUN device is up) and down (before it goes):
	 * executables, "" when not set */
	char on_up[JV_CFG_PATH_MAX], on_down[JV_CFG_PATH_MAX];
	int line_on_up, line_on_down;
	char policy_file[JV_CFG_PATH_MAX];     /* "" when the policy is inline */
	struct jv_policy policy;               /* effective, validated */
};

/*
 * Loads and validates a config file (and the key and policy files it names,
 * relative paths taken from the config file's directory): jv_config_parse
 * then jv_config_read_files. Every error fills err with "FILE:LINE: key:
 * what is wrong (allowed ...)" and returns JV_ERR_INVAL (or the error of
 * the file it could not read).
 */
int jv_config_load(struct jv_config *cfg, const char *path,
		   struct jv_error *err);

/*
 * Parses a config held in buf[0..len), named file in messages, and reads
 * nothing else: inline keys and an inline policy are decoded; the key and
 * policy files it names are only resolved (relative to dirname(file)) into
 * private_key_file, psk_file and policy_file. No file I/O, no exit: the
 * entry point for tests and fuzzers. On error the keys are wiped.
 */
int jv_config_parse(struct jv_config *cfg, const char *buf, size_t len,
		    const char *file, struct jv_error *err);

/* Reads the key files and the policy file a parsed cfg names; errors name
 * the config file and the line of the key (or the policy file and its
 * line). On error the keys are wiped. */
int jv_config_read_files(struct jv_config *cfg, struct jv_error *err);

/*
 * Looks up what the parser left for later (CONTRACT section 8): host names
 * in listen[].address and transports[].remote (the family of bind_address
 * when it is given, the first result), interfaces named as the scope of a
 * link-local address. A name that does not exist is an error naming
 * FILE:LINE and the key; a temporary failure (JV_ERR_AGAIN) too, the
 * caller deciding whether to go on without that address (the client does,
 * its transport down and retried). jv_config_resolve_one does one entry:
 * listen (transport false) or transports, index i.
 */
int jv_config_resolve(struct jv_config *cfg, struct jv_error *err);
int jv_config_resolve_one(struct jv_config *cfg, bool transport, uint32_t i,
			  struct jv_error *err);

/* The subnet of a TUN address: host bits cleared. */
struct jv_prefix jv_tun_subnet(const struct jv_prefix *addr);

/* Formats a TUN address ("fd77::2/64") into out (64 bytes do). */
void jv_tun_format(const struct jv_prefix *addr, char *out, size_t cap);

/* Fills an endpoint configuration from cfg (peers pointer into cfg). */
void jv_config_endpoint(const struct jv_config *cfg,
			struct jv_endpoint_cfg *out);

/* The effective configuration for `jvpn config check`: role, node_id,
 * listeners or transports, tun, peers and their allowed_ips, hooks,
 * policy version, as YAML; no secrets. */
void jv_config_print(const struct jv_config *cfg, FILE *f);

/*
 * A reload: 0 when next differs from cur only in what a running daemon
 * can take without a restart (the peers, the policy, the hooks), else
 * JV_ERR_INVAL with err naming the first key that needs a restart
 * ("FILE:LINE: listen: changed; a restart is needed to apply it").
 */
int jv_config_reloadable(const struct jv_config *cur,
			 const struct jv_config *next, struct jv_error *err);

/* Wipes the keys held in cfg. */
void jv_config_wipe(struct jv_config *cfg);

/*
 * For a failure found only when a value is used (a device that does not
 * exist, a port in use, a directory missing): rewrites err as "FILE:LINE:
 * KEY: what went wrong", FILE being cfg's file, LINE the line of the key
 * (0: the file alone) and KEY printf-style (NULL: none). A file err named
 * (the audit log, the socket) stays in the message.
 */
void jv_config_blame(const struct jv_config *cfg, int line,
		     struct jv_error *err, const char *key, ...)
	__attribute__((format(printf, 4, 5)));

#endif
