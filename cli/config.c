/* Daemon configuration (CONTRACT section 5) as tables on core/schema.c:
 * every mapping is checked against the keys it may hold, so a typo is an
 * error with its line, never a silent default. jv_config_parse reads a
 * buffer and nothing else; jv_config_read_files then reads the key and
 * policy files the config names, and jv_config_load does both. */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/util.h"
#include "core/schema.h"
#include "core/yamlx.h"
#include "io/udp.h"

#define KEY_FILE_MAX 1024      /* a key file is one line of base64 */

/* the client accepts from the server its tunnel subnets and its routes */
_Static_assert(JV_CFG_MAX_ROUTES + JV_TUN_MAX_ADDRS <= JV_PEER_MAX_IPS,
	       "server_allowed cannot hold the tunnel subnets and the routes");

enum { R_SERVER = 1, R_CLIENT = 2 };

static const char *const role_names[] = { "server", "client" };

struct ctx {
	struct jv_config *cfg;
	char dir[JV_CFG_PATH_MAX];
};

/* ---- values ---- */

/* Ids and names end up in audit events, ctl replies and on the wire. */
static int check_ident(struct jv_sctx *c, const struct jv_srow *r,
		       yaml_node_t *v, void *slot)
{
	char t[64];

	(void)r;
	for (const char *s = slot; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return jv_schema_fail(c, JV_ERR_INVAL, v,
					      "%s: \"%s\" has characters other than "
					      "letters, digits, '.', '_' and '-'",
					      c->key, jv_schema_shown(slot, strlen(slot),
								      t, sizeof(t)));
	return JV_OK;
}

/* As the kernel's dev_valid_name(): an ifname the ioctls will take. */
static int check_ifname(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot)
{
	const char *s = slot;
	char t[64];

	(void)r;
	if (strcmp(s, ".") && strcmp(s, "..") && !strpbrk(s, "/: \t"))
		return JV_OK;
	return jv_schema_fail(c, JV_ERR_INVAL, v,
			      "%s: \"%s\" is not an interface name (no '/', ':' "
			      "or spaces)", c->key,
			      jv_schema_shown(s, strlen(s), t, sizeof(t)));
}

/* The examples' keys are placeholders that cannot pass for keys: the
 * message says what goes there and how to make it. */
#define JV_KEY_PLACEHOLDER "REPLACE-WITH-"

static int decode_key(struct jv_sctx *c, const yaml_node_t *v, const char *s,
		      uint8_t key[32])
{
	char t[64];

	if (strncmp(s, JV_KEY_PLACEHOLDER, strlen(JV_KEY_PLACEHOLDER)) == 0)
		return jv_schema_fail(
			c, JV_ERR_INVAL, v,
			"%s: \"%s\" is a placeholder, not a key: put the %s "
			"here (a key pair: `umask 077; jvpn genkey > NAME.key` "
			"on the machine it belongs to, then `jvpn pubkey < "
			"NAME.key` prints the public half to copy)", c->key,
			jv_schema_shown(s, strlen(s), t, sizeof(t)),
			strstr(c->key, "public_key") ? "other end's public key"
						      : "base64 key");
	if (jv_key_from_base64(s, key) != 0)
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: not a base64 key (44 characters, as "
				      "`jvpn genkey` and `jvpn pubkey` print)",
				      c->key);
	return JV_OK;
}

static int parse_key(struct jv_sctx *c, const struct jv_srow *r,
		     yaml_node_t *v, void *slot)
{
	const char *s;
	int rc;

	(void)r;
	if ((rc = jv_schema_text(c, v, &s)) == JV_OK)
		rc = decode_key(c, v, s, slot);
	return rc;
}

/* An inline secret: the document is freed without wiping, so no copy is
 * left in it. */
static int parse_secret(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot)
{
	int rc = parse_key(c, r, v, slot);

	if (v->type == YAML_SCALAR_NODE)
		sodium_memzero(v->data.scalar.value, v->data.scalar.length);
	return rc;
}

/* A path in the config is relative to the config file's directory; the
 * file itself is read later, by jv_config_read_files. */
static int resolve_path(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot)
{
	const struct ctx *x = c->user;
	char path[JV_CFG_PATH_MAX];
	int n;

	if (!*(char *)slot)
		return jv_schema_fail(c, JV_ERR_INVAL, v, "%s: empty path",
				      c->key);
	if (*(char *)slot == '/')
		return JV_OK;
	n = snprintf(path, sizeof(path), "%s/%s", x->dir, (char *)slot);
	if (n < 0 || (size_t)n >= r->size)
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: path longer than %zu characters once "
				      "resolved", c->key, r->size - 1);
	memcpy(slot, path, (size_t)n + 1);
	return JV_OK;
}

/* An address of family af, '/', and a prefix length of at most 32 or 128
 * digits written in full ("10.77.0.2/32", "fd77::2/128"); addr gets the
 * address in network order. */
static int parse_cidr_af(int af, const char *s, void *addr, uint8_t *prefix)
{
	char ip[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	int max = af == AF_INET ? 32 : 128;
	size_t n;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -1;
	n = strlen(slash + 1);
	if (n < 1 || n > (af == AF_INET ? 2u : 3u) ||
	    strspn(slash + 1, "0123456789") != n || atoi(slash + 1) > max)
		return -1;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (inet_pton(af, ip, addr) != 1)
		return -1;
	*prefix = (uint8_t)atoi(slash + 1);
	return 0;
}

/* "10.77.0.2/32": addr in host order. */
static int parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix)
{
	struct in_addr a;

	if (parse_cidr_af(AF_INET, s, &a, prefix) != 0)
		return -1;
	*addr = ntohl(a.s_addr);
	return 0;
}

/* One address of the TUN device with its prefix length, IPv4 or IPv6;
 * each address at most once. */
static int parse_tun_one(struct jv_sctx *c, const struct jv_srow *r,
			 yaml_node_t *v, void *slot)
{
	const struct ctx *x = c->user;
	const struct jv_tun_cfg *t = &x->cfg->tun;
	struct jv_prefix *a = slot;
	uint32_t idx = (uint32_t)(a - t->addr);
	uint8_t ab[16], ob[16];
	const char *s;
	char q[64];
	int rc;

	(void)r;
	if ((rc = jv_schema_text(c, v, &s)))
		return rc;
	jv_schema_shown(s, strlen(s), q, sizeof(q));
	memset(a, 0, sizeof(*a));
	if (parse_cidr(s, &a->addr, &a->prefix) == 0)
		a->family = JV_IP4;
	else if (parse_cidr_af(AF_INET6, s, a->addr6, &a->prefix) == 0)
		a->family = JV_IP6;
	else
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: \"%s\" is not an address with a prefix "
				      "length, like 10.77.0.1/24 or fd77::1/64",
				      c->key, q);
	jv_prefix_bytes(a, ab);
	if (!memcmp(ab, (uint8_t[16]){ 0 }, 16) ||
	    (a->family == JV_IP4 ? ab[0] >= 224 : ab[0] == 0xff))
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: \"%s\" is not a unicast address", c->key,
				      q);
	for (uint32_t j = 0; j < idx; j++) {
		jv_prefix_bytes(&t->addr[j], ob);
		if (t->addr[j].family == a->family && !memcmp(ab, ob, 16))
			return jv_schema_fail(c, JV_ERR_INVAL, v,
					      "%s: listed twice (also "
					      "tun.address[%u])", c->key, j);
	}
	return JV_OK;
}

#define TA struct jv_tun_cfg
static const struct jv_srow tun_addr_row = {
	.type = JV_ST_CUSTOM, .parse = parse_tun_one,
};
static const struct jv_srow tun_addr_list = {
	.type = JV_ST_LIST, .off = offsetof(TA, addr),
	.size = sizeof(((TA *)0)->addr[0]), .min = 1, .max = JV_TUN_MAX_ADDRS,
	.item = &tun_addr_row, .count_off = offsetof(TA, naddr),
};
#undef TA

/* tun.address: one CIDR or a list of them, as wg-quick's Address. */
static int parse_tun_address(struct jv_sctx *c, const struct jv_srow *r,
			     yaml_node_t *v, void *slot)
{
	struct jv_tun_cfg *t = slot;
	char key[sizeof(c->key)];

	(void)r;
	t->naddr = 0;
	if (v->type != YAML_SEQUENCE_NODE) {
		int rc = parse_tun_one(c, &tun_addr_row, v, &t->addr[0]);

		if (rc == JV_OK)
			t->naddr = 1;
		return rc;
	}
	memcpy(key, c->key, sizeof(key));
	return jv_schema_value(c, &tun_addr_list, v, key, t);
}

/* One entry of allowed_ips: a network address, IPv4 or IPv6, and its
 * prefix length. */
static int parse_prefix(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot)
{
	struct jv_prefix *a = slot;
	const char *s;
	char t[64];
	int rc;

	(void)r;
	if ((rc = jv_schema_text(c, v, &s)))
		return rc;
	jv_schema_shown(s, strlen(s), t, sizeof(t));
	memset(a, 0, sizeof(*a));
	if (parse_cidr(s, &a->addr, &a->prefix) == 0)
		a->family = JV_IP4;
	else if (parse_cidr_af(AF_INET6, s, a->addr6, &a->prefix) == 0)
		a->family = JV_IP6;
	else
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: \"%s\" is not an IPv4 or IPv6 prefix "
				      "like 10.77.0.2/32 or fd77::2/128", c->key,
				      t);
	if (!jv_prefix_valid(a))
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: \"%s\" has host bits set (the prefix "
				      "must be a network address)", c->key, t);
	return JV_OK;
}

/* "a.b.c.d:port", "[v6]:port" or "[fe80::1%IFNAME]:port"; bind_address
 * may also be a bare address. Row min 1: a port is required; max 1: a
 * host name may stand for the address (listen and remote; looked up by
 * jv_config_resolve, not here). */
static int parse_sockaddr(struct jv_sctx *c, const struct jv_srow *r,
			  yaml_node_t *v, void *slot)
{
	unsigned flags = (r->min == 1 ? JV_ADDR_PORT : 0) |
			 (r->max == 1 ? JV_ADDR_NAME : 0);
	const char *s, *why;
	char t[64];
	int rc;

	if ((rc = jv_schema_text(c, v, &s)))
		return rc;
	if ((why = jv_addr_parse(s, flags, slot)))
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: \"%s\": %s (allowed: %s)", c->key,
				      jv_schema_shown(s, strlen(s), t, sizeof(t)),
				      why,
				      flags & JV_ADDR_NAME
				      ? "A.B.C.D:PORT, [IPv6]:PORT, "
					"[fe80::1%IFNAME]:PORT or NAME:PORT, "
					"port 1..65535"
				      : flags & JV_ADDR_PORT
				      ? "A.B.C.D:PORT or [IPv6]:PORT, port "
					"1..65535"
				      : "an IP address, A.B.C.D:PORT or "
					"[IPv6]:PORT");
	return JV_OK;
}

/* A resolver for dns: an IPv4 or IPv6 address, no port, no scope (what
 * resolv.conf and resolvectl both take). */
static int parse_dns_server(struct jv_sctx *c, const struct jv_srow *r,
			    yaml_node_t *v, void *slot)
{
	struct jv_dns_server *d = slot;
	const char *s;
	char t[64];
	int rc;

	(void)r;
	if ((rc = jv_schema_text(c, v, &s)))
		return rc;
	memset(d, 0, sizeof(*d));
	if (inet_pton(AF_INET, s, d->addr) == 1)
		d->family = AF_INET;
	else if (inet_pton(AF_INET6, s, d->addr) == 1)
		d->family = AF_INET6;
	else
		return jv_schema_fail(c, JV_ERR_INVAL, v,
				      "%s: \"%s\" is not an IPv4 or IPv6 address "
				      "like 10.77.0.1 or fd77::1", c->key,
				      jv_schema_shown(s, strlen(s), t, sizeof(t)));
	return JV_OK;
}

/* A search domain: labels of letters, digits, '-' and '_' (1..63
 * characters, no '-' at either end) joined by dots; no final dot. It
 * ends up in resolv.conf and on a command line, so nothing else. */
static int check_domain(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot)
{
	const char *s = slot, *label = s;
	char t[64];

	(void)r;
	for (const char *p = s;; p++) {
		if (*p == '.' || !*p) {
			size_t n = (size_t)(p - label);

			if (n < 1 || n > 63 || *label == '-' || p[-1] == '-')
				break;
			if (!*p)
				return JV_OK;
			label = p + 1;
		} else if (!((*p >= 'a' && *p <= 'z') ||
			     (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9') || *p == '-' ||
			     *p == '_')) {
			break;
		}
	}
	return jv_schema_fail(c, JV_ERR_INVAL, v,
			      "%s: \"%s\" is not a domain name like "
			      "corp.example.com (labels of letters, digits and "
			      "'-', 1..63 characters, joined by '.', no final '.')",
			      c->key, jv_schema_shown(s, strlen(s), t, sizeof(t)));
}

/* "-" is stdout */
static int resolve_audit(struct jv_sctx *c, const struct jv_srow *r,
			 yaml_node_t *v, void *slot)
{
	return strcmp(slot, "-") ? resolve_path(c, r, v, slot) : JV_OK;
}

static int one_of(struct jv_sctx *c, yaml_node_t *root, const char *a,
		  const char *b, bool required);

static int parse_policy(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot)
{
	yaml_node_t *root = yaml_document_get_root_node(c->doc);
	int rc;

	(void)r;
	if ((rc = one_of(c, root, "policy", "policy_file", false)))
		return rc;
	return jv_policy_parse_node(slot, c->doc, v, c->file, "policy", true,
				    c->err);
}

/* The fwmark numbers the full tunnel's routing table too (as wg-quick's
 * Table = auto): the kernel's own tables are not jvpn's to fill, and the
 * routes found in it at start are removed as a killed run's. */
static int check_fwmark(struct jv_sctx *c, const struct jv_srow *r,
			yaml_node_t *v, void *slot)
{
	uint32_t m = *(uint32_t *)slot;

	(void)r;
	if (m < 253 || m > 255)
		return JV_OK;
	return jv_schema_fail(c, JV_ERR_INVAL, v,
			      "%s: %u is the kernel's %s routing table, which "
			      "a full tunnel would fill with its own default "
			      "route (allowed 1..252, 256..4294967295)", c->key,
			      m, m == 253 ? "default" : m == 254 ? "main"
							: "local");
}

/* ---- tables ---- */

#define CFG(st, m) offsetof(st, m), .size = sizeof(((st *)0)->m)
#define STR(st, m, req, lo, hook) \
	.type = JV_ST_STRING, .off = CFG(st, m), .min = lo, \
	.required = req, .parse = hook
#define PROTO(st) \
	.key = "proto", .type = JV_ST_ENUM, .off = CFG(st, proto), \
	.names = jv_proto_names, .noun = "protocol", .required = true

static int check_listen(struct jv_sctx *c, void *target, yaml_node_t *map,
			const char *path, int idx);
static int check_peer(struct jv_sctx *c, void *target, yaml_node_t *map,
		      const char *path, int idx);
static int check_transport(struct jv_sctx *c, void *target, yaml_node_t *map,
			   const char *path, int idx);
static int check_config(struct jv_sctx *c, void *target, yaml_node_t *map,
			const char *path, int idx);

#define L struct jv_listen_cfg
static const struct jv_srow listen_rows[] = {
	{ .key = "id", STR(L, id, true, 1, check_ident) },
	{ PROTO(L) },
	{ .key = "address", .type = JV_ST_CUSTOM, .off = CFG(L, addr),
	  .required = true, .min = 1, .max = 1, .parse = parse_sockaddr,
	  .line_off = offsetof(L, line_address) },
};
#undef L
static const struct jv_schema listen_schema = {
	listen_rows, sizeof(listen_rows) / sizeof(listen_rows[0]),
	.check = check_listen,
};

#define P struct jv_peer_cfg
static const struct jv_srow prefix_row = {
	.type = JV_ST_CUSTOM, .parse = parse_prefix,
};
static const struct jv_srow peer_rows[] = {
	{ .key = "name", STR(P, name, true, 1, check_ident) },
	{ .key = "public_key", .type = JV_ST_CUSTOM, .off = CFG(P, public_key),
	  .required = true, .parse = parse_key },
	{ .key = "allowed_ips", .type = JV_ST_LIST,
	  .off = offsetof(P, allowed), .size = sizeof(((P *)0)->allowed[0]),
	  .required = true, .min = 1, .max = JV_PEER_MAX_IPS,
	  .item = &prefix_row, .count_off = offsetof(P, nallowed) },
};
#undef P
static const struct jv_schema peer_schema = {
	peer_rows, sizeof(peer_rows) / sizeof(peer_rows[0]),
	.check = check_peer,
};

#define T struct jv_transport_io_cfg
static const struct jv_srow transport_rows[] = {
	{ .key = "id", STR(T, id, true, 1, check_ident) },
	{ PROTO(T) },
	{ .key = "remote", .type = JV_ST_CUSTOM, .off = CFG(T, remote),
	  .required = true, .min = 1, .max = 1, .parse = parse_sockaddr,
	  .line_off = offsetof(T, line_remote) },
	{ .key = "bind_device", STR(T, bind_device, false, 1, check_ifname),
	  .line_off = offsetof(T, line_bind_device) },
	{ .key = "bind_address", .type = JV_ST_CUSTOM,
	  .off = CFG(T, bind_address), .parse = parse_sockaddr,
	  .line_off = offsetof(T, line_bind_address) },
};
#undef T
static const struct jv_schema transport_schema = {
	transport_rows, sizeof(transport_rows) / sizeof(transport_rows[0]),
	.check = check_transport,
};

static const struct jv_srow dns_row = {
	.type = JV_ST_CUSTOM, .parse = parse_dns_server,
};
static const struct jv_srow dns_search_row = {
	.type = JV_ST_STRING, .size = JV_CFG_DNS_NAME_MAX + 1, .min = 1,
	.parse = check_domain,
};

static const struct jv_sname roles[] = {
	{ "server", JV_ROLE_SERVER }, { "client", JV_ROLE_CLIENT }, { NULL, 0 },
};
static const struct jv_sname on_terminated[] = {
	{ "exit", false }, { "reconnect", true }, { NULL, 0 },
};

#define C struct jv_config
static const struct jv_srow rows[] = {
	{ .key = "role", .type = JV_ST_ENUM, .off = CFG(C, role),
	  .names = roles, .noun = "role", .required = true },
	{ .key = "node_id", STR(C, node_id, true, 1, check_ident) },
	{ .key = "private_key", .type = JV_ST_CUSTOM, .off = CFG(C, private_key),
	  .parse = parse_secret },
	{ .key = "private_key_file", STR(C, private_key_file, false, 0, resolve_path),
	  .line_off = offsetof(C, line_private_key_file) },
	{ .key = "preshared_key", .type = JV_ST_CUSTOM, .off = CFG(C, psk),
	  .parse = parse_secret },
	{ .key = "preshared_key_file", STR(C, psk_file, false, 0, resolve_path),
	  .line_off = offsetof(C, line_psk_file) },
	{ .key = "tun.name", STR(C, tun.name, true, 1, check_ifname),
	  .line_off = offsetof(C, tun.line_name) },
	{ .key = "tun.address", .type = JV_ST_CUSTOM, .off = CFG(C, tun),
	  .required = true, .parse = parse_tun_address },
	{ .key = "tun.mtu", .type = JV_ST_U32, .off = CFG(C, tun.mtu),
	  .min = 576, .max = 9000, .defu = 1420 },
	{ .key = "audit.path", STR(C, audit_path, true, 1, resolve_audit),
	  .line_off = offsetof(C, line_audit_path) },
	{ .key = "control_socket", STR(C, control_socket, true, 1, NULL),
	  .line_off = offsetof(C, line_control_socket) },
	{ .key = "metrics_listen", .type = JV_ST_CUSTOM,
	  .off = CFG(C, metrics_listen), .min = 1, .parse = parse_sockaddr,
	  .line_off = offsetof(C, line_metrics_listen) },
	{ .key = "on_up", STR(C, on_up, false, 0, resolve_path),
	  .line_off = offsetof(C, line_on_up) },
	{ .key = "on_down", STR(C, on_down, false, 0, resolve_path),
	  .line_off = offsetof(C, line_on_down) },
	{ .key = "policy_file", STR(C, policy_file, false, 0, resolve_path),
	  .line_off = offsetof(C, line_policy_file) },
	{ .key = "policy", .type = JV_ST_CUSTOM, .off = CFG(C, policy),
	  .parse = parse_policy },
	{ .key = "listen", .type = JV_ST_LIST, .off = offsetof(C, listen),
	  .size = sizeof(struct jv_listen_cfg), .roles = R_SERVER,
	  .required = true, .min = 1, .max = JV_CFG_MAX_LISTEN,
	  .items = &listen_schema, .count_off = offsetof(C, nlisten) },
	{ .key = "peers", .type = JV_ST_LIST, .off = offsetof(C, peers),
	  .size = sizeof(struct jv_peer_cfg), .roles = R_SERVER,
	  .required = true, .min = 1, .max = JV_MAX_PEERS,
	  .items = &peer_schema, .count_off = offsetof(C, npeers) },
	{ .key = "max_sessions", .type = JV_ST_U32, .off = CFG(C, max_sessions),
	  .roles = R_SERVER, .min = 1, .max = 1u << 20, .defu = 1024 },
	/* handshakes under load (CONTRACT section 9, docs/protocol.md) */
	{ .key = "handshake.cookie_threshold_per_s", .type = JV_ST_U32,
	  .off = CFG(C, cookie_threshold_per_s), .roles = R_SERVER,
	  .min = 1, .max = 1000000, .defu = 500 },
	{ .key = "handshake.per_source_per_s", .type = JV_ST_U32,
	  .off = CFG(C, per_source_per_s), .roles = R_SERVER,
	  .min = 1, .max = 100000, .defu = 20 },
	{ .key = "server_public_key", .type = JV_ST_CUSTOM,
	  .off = CFG(C, server_public_key), .roles = R_CLIENT,
	  .required = true, .parse = parse_key },
	{ .key = "transports", .type = JV_ST_LIST, .off = offsetof(C, transports),
	  .size = sizeof(struct jv_transport_io_cfg), .roles = R_CLIENT,
	  .required = true, .min = 1, .max = JV_MAX_TRANSPORTS,
	  .items = &transport_schema, .count_off = offsetof(C, ntransports) },
	{ .key = "on_terminated", .type = JV_ST_ENUM, .off = CFG(C, reconnect),
	  .roles = R_CLIENT, .names = on_terminated },
	{ .key = "dns", .type = JV_ST_LIST, .off = offsetof(C, dns),
	  .size = sizeof(struct jv_dns_server), .roles = R_CLIENT,
	  .min = 1, .max = JV_CFG_MAX_DNS, .item = &dns_row,
	  .count_off = offsetof(C, ndns), .line_off = offsetof(C, line_dns) },
	{ .key = "dns_search", .type = JV_ST_LIST, .off = offsetof(C, dns_search),
	  .size = JV_CFG_DNS_NAME_MAX + 1, .roles = R_CLIENT,
	  .min = 1, .max = JV_CFG_MAX_DNS_SEARCH, .item = &dns_search_row,
	  .count_off = offsetof(C, ndns_search) },
	/* CONTRACT section 8: wg-quick's AllowedIPs routes and FwMark */
	{ .key = "routes", .type = JV_ST_LIST, .off = offsetof(C, routes),
	  .size = sizeof(struct jv_prefix), .roles = R_CLIENT,
	  .max = JV_CFG_MAX_ROUTES, .item = &prefix_row,
	  .count_off = offsetof(C, nroutes),
	  .line_off = offsetof(C, line_routes) },
	{ .key = "fwmark", .type = JV_ST_U32, .off = CFG(C, fwmark),
	  .roles = R_CLIENT, .min = 1, .max = UINT32_MAX,
	  .defu = JV_CFG_FWMARK_DEFAULT, .parse = check_fwmark,
	  .line_off = offsetof(C, line_fwmark) },
};
#undef C
static const struct jv_schema schema = {
	rows, sizeof(rows) / sizeof(rows[0]), .check = check_config,
};

/* ---- checks across keys and entries ---- */

static int check_listen(struct jv_sctx *c, void *target, yaml_node_t *map,
			const char *path, int idx)
{
	const struct jv_listen_cfg *l = target;
	const struct ctx *x = c->user;

	for (int j = 0; j < idx; j++) {
		const struct jv_listen_cfg *o = &x->cfg->listen[j];

		if (strcmp(o->id, l->id) == 0)
			return jv_schema_fail(c, JV_ERR_INVAL, map,
					      "%s.id: \"%s\" is used twice (also "
					      "listen[%d])", path, l->id, j);
		/* the second bind() would fail at startup */
		if (o->proto == l->proto && jv_addr_same(&o->addr, &l->addr))
			return jv_schema_fail(c, JV_ERR_INVAL, map,
					      "%s.address: the same %s socket as "
					      "listen[%d]", path,
					      jv_proto_name(l->proto), j);
	}
	return JV_OK;
}

static bool same_prefix(const struct jv_prefix *a, const struct jv_prefix *b)
{
	uint8_t x[16], y[16];

	jv_prefix_bytes(a, x);
	jv_prefix_bytes(b, y);
	return a->family == b->family && a->prefix == b->prefix &&
	       memcmp(x, y, 16) == 0;
}

/* The server routes an inner packet to the peer holding the longest
 * prefix for its destination (cryptokey routing): nested prefixes of two
 * peers are fine, the narrower one wins; the same prefix twice would name
 * no peer in particular. */
static int check_same_prefix(struct jv_sctx *c, const struct jv_peer_cfg *p,
			 yaml_node_t *map, const char *path, int idx)
{
	const struct ctx *x = c->user;
	yaml_node_t *ips = jv_yaml_get(c->doc, map, "allowed_ips");

	for (uint32_t k = 0; k < p->nallowed; k++) {
		yaml_node_t *v = yaml_document_get_node(
			c->doc, ips->data.sequence.items.start[k]);

		for (uint32_t n = 0; n < k; n++)
			if (same_prefix(&p->allowed[k], &p->allowed[n]))
				return jv_schema_fail(
					c, JV_ERR_INVAL, v,
					"%s.allowed_ips[%u]: listed twice (also "
					"allowed_ips[%u])", path, k, n);
		for (int j = 0; j < idx; j++) {
			const struct jv_peer_cfg *o = &x->cfg->peers[j];

			for (uint32_t n = 0; n < o->nallowed; n++)
				if (same_prefix(&p->allowed[k], &o->allowed[n]))
					return jv_schema_fail(
						c, JV_ERR_INVAL, v,
						"%s.allowed_ips[%u]: the same "
						"prefix is in peers[%d] (%s)",
						path, k, j, o->name);
		}
	}
	return JV_OK;
}

static int check_peer(struct jv_sctx *c, void *target, yaml_node_t *map,
		      const char *path, int idx)
{
	const struct jv_peer_cfg *p = target;
	const struct ctx *x = c->user;

	for (int j = 0; j < idx; j++) {
		const struct jv_peer_cfg *o = &x->cfg->peers[j];

		if (strcmp(o->name, p->name) == 0)
			return jv_schema_fail(c, JV_ERR_INVAL, map,
					      "%s.name: \"%s\" is used twice (also "
					      "peers[%d])", path, p->name, j);
		if (memcmp(o->public_key, p->public_key, 32) == 0)
			return jv_schema_fail(c, JV_ERR_INVAL,
					      jv_yaml_get(c->doc, map, "public_key"),
					      "%s.public_key: the same key as "
					      "peers[%d] (%s)", path, j, o->name);
	}
	return check_same_prefix(c, p, map, path, idx);
}

static int check_transport(struct jv_sctx *c, void *target, yaml_node_t *map,
			   const char *path, int idx)
{
	struct jv_transport_io_cfg *t = target;
	const struct ctx *x = c->user;

	t->line = jv_yaml_line(map);
	/* a name is looked up in bind_address's family */
	if (t->bind_address.len && !t->remote.host[0] &&
	    t->bind_address.ss.ss_family != t->remote.ss.ss_family)
		return jv_schema_fail(c, JV_ERR_INVAL,
				      jv_yaml_get(c->doc, map, "bind_address"),
				      "%s.bind_address: not of the address family "
				      "of remote (IPv4 and IPv6 do not mix)", path);
	for (int j = 0; j < idx; j++)
		if (strcmp(x->cfg->transports[j].id, t->id) == 0)
			return jv_schema_fail(c, JV_ERR_INVAL, map,
					      "%s.id: \"%s\" is used twice (also "
					      "transports[%d])", path, t->id, j);
	return JV_OK;
}

/* Two ways to give one thing: exactly one of them, or neither. */
static int one_of(struct jv_sctx *c, yaml_node_t *root, const char *a,
		  const char *b, bool required)
{
	yaml_node_t *va = jv_yaml_get(c->doc, root, a);
	yaml_node_t *vb = jv_yaml_get(c->doc, root, b);

	if (va && vb)
		return jv_schema_fail(c, JV_ERR_INVAL, vb,
				      "%s and %s: give one of them, not both", a, b);
	if (required && !va && !vb)
		return jv_schema_fail(c, JV_ERR_INVAL, root,
				      "%s: required key missing (or %s)", b, a);
	return JV_OK;
}

/* dns and dns_search: each entry once; search domains need resolvers to
 * ask (with none, the file written would have no nameserver). */
static int check_dns(struct jv_sctx *c, const struct jv_config *cfg,
		     yaml_node_t *root)
{
	yaml_node_t *l = jv_yaml_get(c->doc, root, "dns");

	for (uint32_t k = 0; k < cfg->ndns; k++)
		for (uint32_t n = 0; n < k; n++)
			if (cfg->dns[k].family == cfg->dns[n].family &&
			    memcmp(cfg->dns[k].addr, cfg->dns[n].addr, 16) == 0)
				return jv_schema_fail(
					c, JV_ERR_INVAL, yaml_document_get_node(
						c->doc, l->data.sequence.items.start[k]),
					"dns[%u]: listed twice (also dns[%u])", k, n);
	l = jv_yaml_get(c->doc, root, "dns_search");
	for (uint32_t k = 0; k < cfg->ndns_search; k++)
		for (uint32_t n = 0; n < k; n++)
			if (strcasecmp(cfg->dns_search[k], cfg->dns_search[n]) == 0)
				return jv_schema_fail(
					c, JV_ERR_INVAL, yaml_document_get_node(
						c->doc, l->data.sequence.items.start[k]),
					"dns_search[%u]: listed twice (also "
					"dns_search[%u])", k, n);
	if (cfg->ndns_search && !cfg->ndns)
		return jv_schema_fail(c, JV_ERR_INVAL, l,
				      "dns_search: needs dns (the resolvers to "
				      "ask for these domains)");
	return JV_OK;
}

/* A route listed twice would be installed once and removed twice. */
static int check_routes(struct jv_sctx *c, const struct jv_config *cfg,
			yaml_node_t *root)
{
	yaml_node_t *list = jv_yaml_get(c->doc, root, "routes");

	for (uint32_t k = 0; k < cfg->nroutes; k++)
		for (uint32_t n = 0; n < k; n++)
			if (same_prefix(&cfg->routes[k], &cfg->routes[n]))
				return jv_schema_fail(
					c, JV_ERR_INVAL,
					yaml_document_get_node(
						c->doc,
						list->data.sequence.items.start[k]),
					"routes[%u]: listed twice (also "
					"routes[%u])", k, n);
	return JV_OK;
}

/* CONTRACT section 5: a daemon with no policy runs on the defaults of
 * section 3. */
static int check_config(struct jv_sctx *c, void *target, yaml_node_t *root,
			const char *path, int idx)
{
	struct jv_config *cfg = target;
	int rc;

	(void)path;
	(void)idx;
	if ((rc = one_of(c, root, "private_key", "private_key_file", true)) ||
	    (rc = one_of(c, root, "preshared_key", "preshared_key_file",
			 false)) ||
	    (rc = one_of(c, root, "policy", "policy_file", false)) ||
	    (rc = check_dns(c, cfg, root)))
		return rc;
	cfg->has_psk = jv_yaml_get(c->doc, root, "preshared_key") ||
		       cfg->psk_file[0];
	cfg->tun.line = jv_yaml_line(jv_yaml_get(c->doc, root, "tun"));
	if ((rc = check_routes(c, cfg, root)))
		return rc;
	/* the kernel turns IPv6 off on a link below 1280 (RFC 8200) */
	for (uint32_t i = 0; i < cfg->tun.naddr; i++)
		if (cfg->tun.addr[i].family == JV_IP6 && cfg->tun.mtu < 1280)
			return jv_schema_fail(c, JV_ERR_INVAL,
					      jv_schema_find(c->doc, root,
							     "tun.mtu"),
					      "tun.mtu: %u is below 1280, the "
					      "least IPv6 needs (tun.address[%u] "
					      "is IPv6)", cfg->tun.mtu, i);
	return jv_policy_validate(&cfg->policy, c->file, c->err);
}

/* ---- the buffer parser ---- */

/* Wipes inline secrets that are still in the document when parsing
 * stopped before reaching them. */
static void wipe_doc_secrets(yaml_document_t *doc, yaml_node_t *root)
{
	static const char *const keys[] = { "private_key", "preshared_key" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		yaml_node_t *v = jv_yaml_get(doc, root, keys[i]);

		if (v && v->type == YAML_SCALAR_NODE)
			sodium_memzero(v->data.scalar.value,
				       v->data.scalar.length);
	}
}

/* The role decides which keys belong: it is read before the others. */
static int parse_root(struct jv_sctx *c, struct jv_config *cfg,
		      yaml_node_t *root)
{
	yaml_node_t *v = jv_yaml_get(c->doc, root, "role");
	enum jv_role role;
	char got[96];
	int rc;

	if (!root || root->type != YAML_MAPPING_NODE)
		return jv_schema_fail(c, JV_ERR_INVAL, root,
				      "expected a mapping of configuration keys, "
				      "got %s", root ? jv_schema_describe(
						root, got, sizeof(got))
						   : "an empty file");
	if (!v)
		return jv_schema_missing(c, root, "role");
	if ((rc = jv_schema_value(c, &rows[0], v, "role", cfg)))
		return rc;
	role = cfg->role;
	c->role = role == JV_ROLE_SERVER ? R_SERVER : R_CLIENT;
	jv_schema_defaults(&schema, cfg, c->role);
	cfg->role = role;
	jv_policy_defaults(&cfg->policy);
	return jv_schema_parse(c, &schema, root, "", cfg);
}

int jv_config_parse(struct jv_config *cfg, const char *buf, size_t len,
		    const char *file, struct jv_error *err)
{
	struct ctx x = { .cfg = cfg };
	struct jv_sctx c = { .file = file, .err = err, .user = &x,
			     .role_names = role_names };
	const char *slash = strrchr(file, '/');
	yaml_document_t doc;
	yaml_node_t *root;
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	/* best effort: out of swap and core dumps where RLIMIT_MEMLOCK
	 * allows (sodium_mlock marks the pages MADV_DONTDUMP either way) */
	(void)sodium_mlock(cfg->private_key, sizeof(cfg->private_key));
	(void)sodium_mlock(cfg->psk, sizeof(cfg->psk));
	snprintf(cfg->file, sizeof(cfg->file), "%s", file);
	if (!slash)
		snprintf(x.dir, sizeof(x.dir), ".");
	else if ((size_t)(slash - file) >= sizeof(x.dir))
		return jv_error_set(err, JV_ERR_INVAL, file, 0,
				    "path longer than %zu characters",
				    sizeof(x.dir) - 1);
	else
		snprintf(x.dir, sizeof(x.dir), "%.*s",
			 slash == file ? 1 : (int)(slash - file), file);
	rc = jv_yaml_load(&doc, buf, len, file, err);
	if (rc)
		return rc;
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	rc = parse_root(&c, cfg, root);
	wipe_doc_secrets(&doc, root);
	yaml_document_delete(&doc);
	if (rc)
		jv_config_wipe(cfg);
	/* the policy reports values out of range as JV_ERR_RANGE; for the
	 * caller a bad config is one kind of error */
	return rc == JV_ERR_RANGE ? JV_ERR_INVAL : rc;
}

/* ---- the files a config names ---- */

/* Reads a file that may hold a secret (a key file, a config with an inline
 * key) into buf, at most max bytes, with read(2): no stdio buffer and no
 * realloc leave copies behind. O_NONBLOCK so a FIFO cannot hang the
 * daemon; st tells the caller what it opened. Returns 0 or -errno
 * (-EFBIG: longer than max). The caller wipes buf. */
static int read_secret(const char *path, char *buf, size_t max, size_t *len,
		       struct stat *st)
{
	int fd = strcmp(path, "-") == 0 ? dup(0)
		 : open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	size_t n = 0;
	int rc = 0;

	if (fd < 0)
		return -errno;
	if (fstat(fd, st) != 0) {
		rc = -errno;
		goto out;
	}
	if (S_ISDIR(st->st_mode)) {
		rc = -EISDIR;
		goto out;
	}
	for (;;) {
		char one;
		ssize_t r = n < max ? read(fd, buf + n, max - n)
				    : read(fd, &one, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		if (n == max) {
			rc = -EFBIG;
			break;
		}
		n += (size_t)r;
	}
out:
	close(fd);
	*len = n;
	return rc;
}

static const char *read_error(int rc, size_t max, char *buf, size_t cap)
{
	if (rc == -EFBIG)
		snprintf(buf, cap, "file larger than %zu bytes", max);
	else
		snprintf(buf, cap, "%s", strerror(-rc));
	return buf;
}

/* The secret in a key file: only the owner may read it, as with
 * WireGuard, since anyone who can read it can impersonate this node.
 * The checks are on the file opened, not on a path that could change. */
static int read_key_file(const struct jv_config *cfg, const char *key,
			 const char *noun, const char *path, int line,
			 uint8_t out[32], struct jv_error *err)
{
	char buf[KEY_FILE_MAX + 1], t[96], e[64];
	struct stat st;
	size_t len = 0;
	int rc;

	jv_schema_shown(path, strlen(path), t, sizeof(t));
	rc = read_secret(path, buf, KEY_FILE_MAX, &len, &st);
	buf[len] = '\0';
	if (rc == -EISDIR || (rc == 0 && !S_ISREG(st.st_mode)))
		rc = jv_error_set(err, JV_ERR_INVAL, cfg->file, line,
				  "%s: %s is not a regular file", key, t);
	else if (rc == 0 && (st.st_mode & 077))
		rc = jv_error_set(err, JV_ERR_INVAL, cfg->file, line,
				  "%s: %s file %s is accessible by others (mode "
				  "%04o); chmod 600 it", key, noun, t,
				  (unsigned)(st.st_mode & 07777));
	else if (rc)
		rc = jv_error_set(err, JV_ERR_INVAL, cfg->file, line,
				  "%s: cannot read %s: %s", key, t,
				  read_error(rc, KEY_FILE_MAX, e, sizeof(e)));
	else if (jv_key_from_base64(buf, out) != 0)
		rc = jv_error_set(err, JV_ERR_INVAL, cfg->file, line,
				  "%s: %s does not hold a base64 key (as `jvpn "
				  "genkey` prints)", key, t);
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

/* From here on errors name the policy file and its line. */
static int read_policy_file(struct jv_config *cfg, struct jv_error *err)
{
	struct jv_error rerr;
	char *buf = NULL, t[96];
	size_t len = 0;
	int rc;

	if (jv_read_file(cfg->policy_file, JV_FILE_MAX, &buf, &len, &rerr))
		return jv_error_set(err, JV_ERR_INVAL, cfg->file,
				    cfg->line_policy_file,
				    "policy_file: cannot read %s: %s",
				    jv_schema_shown(cfg->policy_file,
						    strlen(cfg->policy_file), t,
						    sizeof(t)), rerr.msg);
	rc = jv_policy_parse(&cfg->policy, buf, len, cfg->policy_file, true,
			     err);
	free(buf);
	return rc ? rc : jv_policy_validate(&cfg->policy, cfg->policy_file,
					    err);
}

/* A hook must be there and executable now, not when the TUN comes up. */
static int check_hook(const struct jv_config *cfg, const char *key,
		      const char *path, int line, struct jv_error *err)
{
	struct stat st;
	char t[96];

	if (!path[0])
		return JV_OK;
	jv_schema_shown(path, strlen(path), t, sizeof(t));
	if (stat(path, &st) != 0)
		return jv_error_set(err, JV_ERR_INVAL, cfg->file, line,
				    "%s: %s: %s", key, t, strerror(errno));
	if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0)
		return jv_error_set(err, JV_ERR_INVAL, cfg->file, line,
				    "%s: %s is not an executable file", key, t);
	return JV_OK;
}

int jv_config_read_files(struct jv_config *cfg, struct jv_error *err)
{
	int rc = JV_OK;

	if (cfg->private_key_file[0])
		rc = read_key_file(cfg, "private_key_file", "private key",
				   cfg->private_key_file,
				   cfg->line_private_key_file, cfg->private_key,
				   err);
	if (rc == JV_OK && cfg->psk_file[0])
		rc = read_key_file(cfg, "preshared_key_file", "preshared key",
				   cfg->psk_file, cfg->line_psk_file, cfg->psk,
				   err);
	if (rc == JV_OK && cfg->policy_file[0])
		rc = read_policy_file(cfg, err);
	if (rc == JV_OK)
		rc = check_hook(cfg, "on_up", cfg->on_up, cfg->line_on_up, err);
	if (rc == JV_OK)
		rc = check_hook(cfg, "on_down", cfg->on_down, cfg->line_on_down,
				err);
	if (rc)
		jv_config_wipe(cfg);
	return rc == JV_ERR_RANGE ? JV_ERR_INVAL : rc;
}

int jv_config_load(struct jv_config *cfg, const char *path,
		   struct jv_error *err)
{
	char *buf = malloc(JV_FILE_MAX + 1);
	struct stat st;
	size_t len = 0;
	int rc;

	if (!buf)
		return jv_error_set(err, JV_ERR_NOMEM, path, 0, "out of memory");
	/* one buffer, wiped: it may hold an inline private key */
	rc = read_secret(path, buf, JV_FILE_MAX, &len, &st);
	if (rc == 0) {
		buf[len] = '\0';
		rc = jv_config_parse(cfg, buf, len, path, err);
		if (rc == 0)
			rc = jv_config_read_files(cfg, err);
	} else if (rc == -EFBIG) {
		rc = jv_error_set(err, JV_ERR_RANGE, path, 0,
				  "file larger than %u bytes", JV_FILE_MAX);
	} else {
		rc = jv_error_set(err, JV_ERR_INVAL, path, 0, "cannot open: %s",
				  strerror(-rc));
	}
	sodium_memzero(buf, len + 1);
	free(buf);
	return rc;
}

int jv_config_resolve_one(struct jv_config *cfg, bool transport, uint32_t i,
			  struct jv_error *err)
{
	struct jv_sockaddr *a;
	int family = AF_UNSPEC, line, rc;

	if (transport) {
		struct jv_transport_io_cfg *t = &cfg->transports[i];

		a = &t->remote;
		line = t->line_remote;
		/* the family the socket will have anyway */
		if (t->bind_address.len)
			family = t->bind_address.ss.ss_family;
	} else {
		a = &cfg->listen[i].addr;
		line = cfg->listen[i].line_address;
	}
	if (!jv_addr_needs_lookup(a))
		return JV_OK;
	if ((rc = jv_addr_resolve(a, family, err)) != JV_OK) {
		jv_config_blame(cfg, line, err, "%s[%u].%s",
				transport ? "transports" : "listen", i,
				transport ? "remote" : "address");
		/* blame makes every error INVAL: the caller needs the kind */
		return rc;
	}
	return JV_OK;
}

int jv_config_resolve(struct jv_config *cfg, struct jv_error *err)
{
	int rc = JV_OK;

	for (uint32_t i = 0; rc == JV_OK && i < cfg->nlisten; i++)
		rc = jv_config_resolve_one(cfg, false, i, err);
	for (uint32_t i = 0; rc == JV_OK && i < cfg->ntransports; i++)
		rc = jv_config_resolve_one(cfg, true, i, err);
	return rc;
}

void jv_config_endpoint(const struct jv_config *cfg,
			struct jv_endpoint_cfg *out)
{
	memset(out, 0, sizeof(*out));
	out->role = cfg->role;
	memcpy(out->node_id, cfg->node_id, sizeof(out->node_id));
	memcpy(out->private_key, cfg->private_key, 32);
	out->psk = cfg->has_psk ? cfg->psk : NULL;
	out->policy = cfg->policy;
	memcpy(out->server_public_key, cfg->server_public_key, 32);
	for (uint32_t i = 0; i < cfg->ntransports; i++) {
		memcpy(out->transports[i].id, cfg->transports[i].id,
		       sizeof(out->transports[i].id));
		out->transports[i].proto = cfg->transports[i].proto;
	}
	out->ntransports = cfg->ntransports;
	out->reconnect = cfg->reconnect;
	if (cfg->role == JV_ROLE_CLIENT) {
		/* what may come from the server: the tunnel subnets */
		for (uint32_t i = 0; i < cfg->tun.naddr; i++)
			out->server_allowed[out->nserver_allowed++] =
				jv_tun_subnet(&cfg->tun.addr[i]);
	}
	/* and what the routes send into the tunnel: the answers come from
	 * there (a full tunnel accepts any source of its family) */
	for (uint32_t i = 0; cfg->role == JV_ROLE_CLIENT && i < cfg->nroutes &&
			     out->nserver_allowed < JV_PEER_MAX_IPS; i++)
		out->server_allowed[out->nserver_allowed++] = cfg->routes[i];
	out->peers = cfg->peers;
	out->npeers = cfg->npeers;
	out->max_sessions = cfg->max_sessions;
	out->cookie_threshold_per_s = cfg->cookie_threshold_per_s;
	out->per_source_per_s = cfg->per_source_per_s;
}

struct jv_prefix jv_tun_subnet(const struct jv_prefix *addr)
{
	struct jv_prefix p = *addr;
	unsigned bits = jv_ip_bits(p.family);

	if (p.family == JV_IP4) {
		p.addr &= p.prefix ? 0xffffffffu << (32 - p.prefix) : 0;
		return p;
	}
	for (unsigned i = p.prefix; i < bits; i++)
		p.addr6[i / 8] &= (uint8_t)~(0x80u >> (i % 8));
	return p;
}

void jv_tun_format(const struct jv_prefix *p, char *out, size_t cap)
{
	char buf[INET6_ADDRSTRLEN];
	uint8_t b[16];

	jv_prefix_bytes(p, b);
	inet_ntop(p->family == JV_IP4 ? AF_INET : AF_INET6, b, buf,
		  sizeof(buf));
	snprintf(out, cap, "%s/%u", buf, p->prefix);
}

static void print_prefix(FILE *f, const struct jv_prefix *p)
{
	char buf[64];

	jv_tun_format(p, buf, sizeof(buf));
	fputs(buf, f);
}

/* As configured: a host name is printed, not looked up. */
static void print_addr(FILE *f, const struct jv_sockaddr *a)
{
	char buf[JV_HOST_MAX + 16];

	jv_addr_format(a, buf, sizeof(buf));
	fprintf(f, "\"%s\"", buf);
}

static void print_dns(FILE *f, const struct jv_config *cfg)
{
	char buf[INET6_ADDRSTRLEN];

	if (cfg->ndns) {
		fprintf(f, "dns: [");
		for (uint32_t i = 0; i < cfg->ndns; i++) {
			inet_ntop(cfg->dns[i].family, cfg->dns[i].addr, buf,
				  sizeof(buf));
			fprintf(f, "%s\"%s\"", i ? ", " : "", buf);
		}
		fprintf(f, "]\n");
	}
	if (cfg->ndns_search) {
		fprintf(f, "dns_search: [");
		for (uint32_t i = 0; i < cfg->ndns_search; i++)
			fprintf(f, "%s%s", i ? ", " : "", cfg->dns_search[i]);
		fprintf(f, "]\n");
	}
}

void jv_config_print(const struct jv_config *cfg, FILE *f)
{
	fprintf(f, "role: %s\nnode_id: %s\n",
		cfg->role == JV_ROLE_SERVER ? "server" : "client",
		cfg->node_id);
	if (cfg->role == JV_ROLE_SERVER) {
		fprintf(f, "listen:\n");
		for (uint32_t i = 0; i < cfg->nlisten; i++) {
			fprintf(f, "  - { id: %s, proto: %s, address: ",
				cfg->listen[i].id,
				jv_proto_name(cfg->listen[i].proto));
			print_addr(f, &cfg->listen[i].addr);
			fprintf(f, " }\n");
		}
	} else {
		fprintf(f, "transports:\n");
		for (uint32_t i = 0; i < cfg->ntransports; i++) {
			const struct jv_transport_io_cfg *t = &cfg->transports[i];

			fprintf(f, "  - { id: %s, proto: %s, remote: ", t->id,
				jv_proto_name(t->proto));
			print_addr(f, &t->remote);
			if (t->bind_device[0])
				fprintf(f, ", bind_device: %s", t->bind_device);
			if (t->bind_address.len) {
				fprintf(f, ", bind_address: ");
				print_addr(f, &t->bind_address);
			}
			fprintf(f, " }\n");
		}
		fprintf(f, "on_terminated: %s\n",
			cfg->reconnect ? "reconnect" : "exit");
		print_dns(f, cfg);
		fprintf(f, "routes: [");
		for (uint32_t i = 0; i < cfg->nroutes; i++) {
			fprintf(f, i ? ", " : "");
			print_prefix(f, &cfg->routes[i]);
		}
		fprintf(f, "]\nfwmark: %u\n", cfg->fwmark);
	}
	/* as written: one address alone, several as a list */
	fprintf(f, "tun: { name: %s, address: %s", cfg->tun.name,
		cfg->tun.naddr > 1 ? "[" : "");
	for (uint32_t i = 0; i < cfg->tun.naddr; i++) {
		fprintf(f, i ? ", " : "");
		print_prefix(f, &cfg->tun.addr[i]);
	}
	fprintf(f, "%s, mtu: %u }\n", cfg->tun.naddr > 1 ? "]" : "",
		cfg->tun.mtu);
	if (cfg->role == JV_ROLE_SERVER) {
		fprintf(f, "peers:\n");
		for (uint32_t i = 0; i < cfg->npeers; i++) {
			const struct jv_peer_cfg *p = &cfg->peers[i];

			fprintf(f, "  - { name: %s, allowed_ips: [", p->name);
			for (uint32_t k = 0; k < p->nallowed; k++) {
				fprintf(f, k ? ", " : "");
				print_prefix(f, &p->allowed[k]);
			}
			fprintf(f, "] }\n");
		}
		fprintf(f, "max_sessions: %u\n", cfg->max_sessions);
	}
	fprintf(f, "audit: { path: \"%s\" }\ncontrol_socket: \"%s\"\n",
		cfg->audit_path, cfg->control_socket);
	if (cfg->metrics_listen.len) {
		fprintf(f, "metrics_listen: ");
		print_addr(f, &cfg->metrics_listen);
		fprintf(f, "\n");
	}
	if (cfg->on_up[0])
		fprintf(f, "on_up: \"%s\"\n", cfg->on_up);
	if (cfg->on_down[0])
		fprintf(f, "on_down: \"%s\"\n", cfg->on_down);
	fprintf(f, "policy_version: \"%s\"\n", cfg->policy.version);
}

static bool same_addr(const struct jv_sockaddr *a, const struct jv_sockaddr *b)
{
	return jv_addr_same(a, b);
}

static bool same_tun(const struct jv_tun_cfg *a, const struct jv_tun_cfg *b)
{
	if (strcmp(a->name, b->name) || a->mtu != b->mtu || a->naddr != b->naddr)
		return false;
	for (uint32_t i = 0; i < a->naddr; i++) {
		uint8_t x[16], y[16];

		jv_prefix_bytes(&a->addr[i], x);
		jv_prefix_bytes(&b->addr[i], y);
		if (a->addr[i].family != b->addr[i].family ||
		    a->addr[i].prefix != b->addr[i].prefix || memcmp(x, y, 16))
			return false;
	}
	return true;
}

/* What a listener or a transport is, the lines of the file aside. */
static bool same_listen(const struct jv_config *a, const struct jv_config *b)
{
	if (a->nlisten != b->nlisten)
		return false;
	for (uint32_t i = 0; i < a->nlisten; i++)
		if (strcmp(a->listen[i].id, b->listen[i].id) ||
		    a->listen[i].proto != b->listen[i].proto ||
		    !same_addr(&a->listen[i].addr, &b->listen[i].addr))
			return false;
	return true;
}

static bool same_transports(const struct jv_config *a,
			    const struct jv_config *b)
{
	if (a->ntransports != b->ntransports)
		return false;
	for (uint32_t i = 0; i < a->ntransports; i++) {
		const struct jv_transport_io_cfg *x = &a->transports[i],
						 *y = &b->transports[i];

		if (strcmp(x->id, y->id) || x->proto != y->proto ||
		    strcmp(x->bind_device, y->bind_device) ||
		    !same_addr(&x->remote, &y->remote) ||
		    !same_addr(&x->bind_address, &y->bind_address))
			return false;
	}
	return true;
}

int jv_config_reloadable(const struct jv_config *cur,
			 const struct jv_config *next, struct jv_error *err)
{
	const char *key = NULL;

#define DIFF(field) memcmp(&cur->field, &next->field, sizeof(cur->field))
	if (next->role != cur->role)
		key = "role";
	else if (strcmp(next->node_id, cur->node_id))
		key = "node_id";
	else if (sodium_memcmp(next->private_key, cur->private_key, 32))
		key = "private_key";
	else if (next->has_psk != cur->has_psk ||
		 (cur->has_psk && sodium_memcmp(next->psk, cur->psk, 32)))
		key = "preshared_key";
	else if (!same_listen(cur, next))
		key = "listen";
	else if (next->max_sessions != cur->max_sessions)
		key = "max_sessions";
	else if (next->cookie_threshold_per_s != cur->cookie_threshold_per_s ||
		 next->per_source_per_s != cur->per_source_per_s)
		key = "handshake";
	else if (DIFF(server_public_key))
		key = "server_public_key";
	else if (!same_transports(cur, next))
		key = "transports";
	else if (next->reconnect != cur->reconnect)
		key = "on_terminated";
	else if (next->ndns != cur->ndns || DIFF(dns))
		key = "dns";
	else if (next->ndns_search != cur->ndns_search || DIFF(dns_search))
		key = "dns_search";
	else if (next->nroutes != cur->nroutes ||
		 memcmp(next->routes, cur->routes,
			cur->nroutes * sizeof(cur->routes[0])))
		key = "routes";
	else if (next->fwmark != cur->fwmark)
		key = "fwmark";
	else if (!same_tun(&next->tun, &cur->tun))
		key = "tun";
	else if (strcmp(next->audit_path, cur->audit_path))
		key = "audit.path";
	else if (strcmp(next->control_socket, cur->control_socket))
		key = "control_socket";
	else if (!same_addr(&next->metrics_listen, &cur->metrics_listen))
		key = "metrics_listen";
#undef DIFF
	if (!key)
		return JV_OK;
	return jv_error_set(err, JV_ERR_INVAL, next->file, 0,
			    "%s: changed; a restart is needed to apply it (the "
			    "reload changes only peers, policy, on_up and "
			    "on_down)", key);
}

void jv_config_wipe(struct jv_config *cfg)
{
	/* zeroes, then unlocks what jv_config_parse locked */
	(void)sodium_munlock(cfg->private_key, sizeof(cfg->private_key));
	(void)sodium_munlock(cfg->psk, sizeof(cfg->psk));
}

void jv_config_blame(const struct jv_config *cfg, int line,
		     struct jv_error *err, const char *key, ...)
{
	char k[96] = "", msg[96 + 200 + sizeof(err->msg) + 8];
	bool named = err->file[0] && strcmp(err->file, "-") != 0;
	va_list ap;

	if (key) {
		va_start(ap, key);
		vsnprintf(k, sizeof(k), key, ap);
		va_end(ap);
	}
	snprintf(msg, sizeof(msg), "%s%s%.200s%s%s", k, *k ? ": " : "",
		 named ? err->file : "", named ? ": " : "", err->msg);
	jv_error_set(err, JV_ERR_INVAL, cfg->file, line, "%s", msg);
}
