/* Daemon configuration (CONTRACT section 5). Every mapping is checked
 * against the keys it may hold, so a typo is an error with its line, never
 * a silent default. */
#include <arpa/inet.h>
#include <libgen.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/config.h"
#include "cli/util.h"
#include "core/yamlx.h"
#include "io/udp.h"

struct ctx {
	yaml_document_t *doc;
	const char *file;
	char dir[JV_CFG_PATH_MAX];
	struct jv_error *err;
	struct jv_config *cfg;
};

#define FAIL(c, node, ...) \
	jv_error_set((c)->err, JV_ERR_INVAL, (c)->file, \
		     (node) ? jv_yaml_line(node) : 0, __VA_ARGS__)

static yaml_node_t *node_at(struct ctx *c, int i)
{
	return yaml_document_get_node(c->doc, i);
}

/* Refuses keys not in allowed (NULL-terminated) and duplicates. */
static int check_keys(struct ctx *c, yaml_node_t *map, const char *where,
		      const char *const *allowed)
{
	yaml_node_pair_t *p, *q;

	if (!map || map->type != YAML_MAPPING_NODE)
		return FAIL(c, map, "%s: expected a mapping", where);
	for (p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		const char *name = jv_yaml_str(k);
		bool ok = false;

		if (!name)
			return FAIL(c, k, "%s: keys must be plain text", where);
		for (size_t i = 0; allowed[i] && !ok; i++)
			ok = strcmp(name, allowed[i]) == 0;
		if (!ok)
			return FAIL(c, k, "%s%s%.60s: unknown key", where,
				    *where ? "." : "", name);
		for (q = map->data.mapping.pairs.start; q < p; q++)
			if (strcmp(jv_yaml_str(node_at(c, q->key)), name) == 0)
				return FAIL(c, k, "%s%s%s: duplicate key (first "
					    "at line %d)", where,
					    *where ? "." : "", name,
					    jv_yaml_line(node_at(c, q->key)));
	}
	return 0;
}

/* A scalar string value: required or not, with a length bound. */
static int get_str(struct ctx *c, yaml_node_t *map, const char *where,
		   const char *key, bool required, char *out, size_t cap,
		   yaml_node_t **node)
{
	yaml_node_t *v = jv_yaml_get(c->doc, map, key);
	const char *s;

	if (node)
		*node = v;
	if (!v) {
		if (required)
			return FAIL(c, map, "%s%s%s: required key missing", where,
				    *where ? "." : "", key);
		return 0;
	}
	s = jv_yaml_str(v);
	if (!s)
		return FAIL(c, v, "%s%s%s: expected a string", where,
			    *where ? "." : "", key);
	if (strlen(s) >= cap || !*s)
		return FAIL(c, v, "%s%s%s: must be 1..%zu characters", where,
			    *where ? "." : "", key, cap - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

static int get_u64(struct ctx *c, yaml_node_t *map, const char *where,
		   const char *key, uint64_t lo, uint64_t hi, uint64_t *out)
{
	yaml_node_t *v = jv_yaml_get(c->doc, map, key);

	if (!v)
		return 0;
	if (jv_yaml_u64(v, out) != 0 || *out < lo || *out > hi)
		return FAIL(c, v, "%s.%s: value %.40s out of range (allowed "
			    "%llu..%llu)", where, key,
			    jv_yaml_str(v) ? jv_yaml_str(v) : "?",
			    (unsigned long long)lo, (unsigned long long)hi);
	return 0;
}

static yaml_node_t *get_seq(struct ctx *c, yaml_node_t *map, const char *key)
{
	yaml_node_t *v = jv_yaml_get(c->doc, map, key);

	return v && v->type == YAML_SEQUENCE_NODE ? v : NULL;
}

static int seq_len(yaml_node_t *seq)
{
	return (int)(seq->data.sequence.items.top -
		     seq->data.sequence.items.start);
}

static yaml_node_t *seq_item(struct ctx *c, yaml_node_t *seq, int i)
{
	return node_at(c, seq->data.sequence.items.start[i]);
}

static int need_seq(struct ctx *c, yaml_node_t *map, const char *key,
		    int max, yaml_node_t **out)
{
	yaml_node_t *v = jv_yaml_get(c->doc, map, key);

	if (!v)
		return FAIL(c, map, "%s: required key missing", key);
	if (v->type != YAML_SEQUENCE_NODE || seq_len(v) < 1 ||
	    seq_len(v) > max)
		return FAIL(c, v, "%s: expected a list of 1..%d entries", key, max);
	*out = v;
	return 0;
}

static int get_proto(struct ctx *c, yaml_node_t *map, const char *where,
		     uint8_t *proto)
{
	char s[8];
	yaml_node_t *v;
	int rc = get_str(c, map, where, "proto", true, s, sizeof(s), &v);

	if (rc)
		return rc;
	if (strcmp(s, "udp") == 0)
		*proto = JV_PROTO_UDP;
	else if (strcmp(s, "tcp") == 0)
		*proto = JV_PROTO_TCP;
	else
		return FAIL(c, v, "%s.proto: \"%s\" is not one of udp, tcp",
			    where, s);
	return 0;
}

static int get_addr(struct ctx *c, yaml_node_t *map, const char *where,
		    const char *key, bool required, bool need_port,
		    struct jv_sockaddr *out)
{
	char s[80];
	yaml_node_t *v;
	int rc = get_str(c, map, where, key, required, s, sizeof(s), &v);

	if (rc || !v)
		return rc;
	if (jv_sockaddr_parse(s, &out->ss, &out->len, need_port) != 0)
		return FAIL(c, v, "%s.%s: \"%s\" is not %s", where, key, s,
			    need_port ? "IP:PORT (numeric, port 1..65535; "
					"[v6]:PORT for IPv6)"
				      : "an IP address (optionally IP:PORT)");
	return 0;
}

static bool id_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

static int get_id(struct ctx *c, yaml_node_t *map, const char *where,
		  const char *key, char *out, size_t cap)
{
	yaml_node_t *v;
	int rc = get_str(c, map, where, key, true, out, cap, &v);

	if (rc == 0 && !id_ok(out))
		return FAIL(c, v, "%s.%s: \"%s\" may hold only letters, digits, "
			    ". _ and -", where, key, out);
	return rc;
}

/* "10.77.0.2/32" */
static int parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	char *end;
	unsigned long p;

	if (!slash || (size_t)(slash - s) >= sizeof(ip) || !slash[1])
		return -1;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	p = strtoul(slash + 1, &end, 10);
	if (*end || p > 32 || slash[1] == '-' || slash[1] == '+' ||
	    inet_pton(AF_INET, ip, &a) != 1)
		return -1;
	*addr = ntohl(a.s_addr);
	*prefix = (uint8_t)p;
	return 0;
}

/* A file path in the config is relative to the config file's directory. */
static void resolve(struct ctx *c, const char *path, char *out, size_t cap)
{
	int n;

	if (path[0] == '/' || !c->dir[0])
		n = snprintf(out, cap, "%s", path);
	else
		n = snprintf(out, cap, "%s/%s", c->dir, path);
	if (n < 0 || (size_t)n >= cap)
		out[0] = '\0';   /* too long: fails as a missing file */
}

/* A key inline (BASE64) or in a file; exactly one of the two. */
static int get_key(struct ctx *c, yaml_node_t *root, const char *inline_key,
		   const char *file_key, bool required, uint8_t key[32],
		   bool *present)
{
	char val[JV_CFG_PATH_MAX], path[JV_CFG_PATH_MAX * 2];
	yaml_node_t *vi, *vf;
	struct stat st;
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = get_str(c, root, "", inline_key, false, val, sizeof(val),
			  &vi)) ||
	    (rc = get_str(c, root, "", file_key, false, val, sizeof(val), &vf)))
		return rc;
	*present = vi || vf;
	if (vi && vf)
		return FAIL(c, vf, "%s and %s: give one of them, not both",
			    inline_key, file_key);
	if (!vi && !vf)
		return required ? FAIL(c, root, "%s: required key missing (or "
				       "%s)", file_key, inline_key) : 0;
	if (vi) {
		if (jv_key_from_base64(jv_yaml_str(vi), key) != 0)
			return FAIL(c, vi, "%s: not a base64 X25519 key (44 "
				    "characters, as `jvpn genkey` prints)",
				    inline_key);
		return 0;
	}
	resolve(c, val, path, sizeof(path));
	if (stat(path, &st) != 0)
		return FAIL(c, vf, "%s: cannot read %s: %m", file_key, path);
	if (st.st_mode & 077)
		return FAIL(c, vf, "%s: %s is accessible by others (mode %04o); "
			    "chmod 600 it", file_key, path,
			    (unsigned)(st.st_mode & 07777));
	rc = jv_read_file(path, 4096, &buf, &len, c->err);
	if (rc)
		return rc;
	rc = jv_key_from_base64(buf, key);
	sodium_memzero(buf, len);
	free(buf);
	if (rc)
		return FAIL(c, vf, "%s: %s does not hold a base64 X25519 key",
			    file_key, path);
	return 0;
}

/* ---- sections ---- */

static int parse_tun(struct ctx *c, yaml_node_t *root)
{
	static const char *const keys[] = { "name", "address", "mtu", NULL };
	struct jv_tun_cfg *t = &c->cfg->tun;
	yaml_node_t *m = jv_yaml_get(c->doc, root, "tun"), *v;
	char cidr[64];
	uint64_t mtu = 1420;
	int rc;

	if (!m)
		return FAIL(c, root, "tun: required key missing");
	if ((rc = check_keys(c, m, "tun", keys)) ||
	    (rc = get_str(c, m, "tun", "name", true, t->name, sizeof(t->name),
			  NULL)) ||
	    (rc = get_str(c, m, "tun", "address", true, cidr, sizeof(cidr),
			  &v)) ||
	    (rc = get_u64(c, m, "tun", "mtu", 576, 9000, &mtu)))
		return rc;
	if (parse_cidr(cidr, &t->addr, &t->prefix) != 0)
		return FAIL(c, v, "tun.address: \"%s\" is not an IPv4 address "
			    "with a prefix length, like 10.77.0.1/24", cidr);
	t->mtu = (uint32_t)mtu;
	return 0;
}

static int parse_listen(struct ctx *c, yaml_node_t *root)
{
	static const char *const keys[] = { "id", "proto", "address", NULL };
	yaml_node_t *seq;
	int rc = need_seq(c, root, "listen", JV_CFG_MAX_LISTEN, &seq);

	for (int i = 0; rc == 0 && i < seq_len(seq); i++) {
		struct jv_listen_cfg *l = &c->cfg->listen[i];
		yaml_node_t *m = seq_item(c, seq, i);
		char where[32];

		snprintf(where, sizeof(where), "listen[%d]", i);
		if ((rc = check_keys(c, m, where, keys)) ||
		    (rc = get_id(c, m, where, "id", l->id, sizeof(l->id))) ||
		    (rc = get_proto(c, m, where, &l->proto)) ||
		    (rc = get_addr(c, m, where, "address", true, true, &l->addr)))
			break;
		for (int j = 0; j < i; j++)
			if (strcmp(c->cfg->listen[j].id, l->id) == 0)
				return FAIL(c, m, "%s.id: \"%s\" is used twice",
					    where, l->id);
		c->cfg->nlisten++;
	}
	return rc;
}

static int parse_peer(struct ctx *c, yaml_node_t *m, int i)
{
	static const char *const keys[] = { "name", "public_key", "allowed_ips",
					    NULL };
	struct jv_peer_cfg *p = &c->cfg->peers[i];
	char where[32], key[64];
	yaml_node_t *v, *ips;
	int rc;

	snprintf(where, sizeof(where), "peers[%d]", i);
	if ((rc = check_keys(c, m, where, keys)) ||
	    (rc = get_id(c, m, where, "name", p->name, sizeof(p->name))) ||
	    (rc = get_str(c, m, where, "public_key", true, key, sizeof(key), &v)))
		return rc;
	if (jv_key_from_base64(key, p->public_key) != 0)
		return FAIL(c, v, "%s.public_key: not a base64 X25519 key", where);
	ips = get_seq(c, m, "allowed_ips");
	if (!ips || seq_len(ips) < 1 || seq_len(ips) > JV_PEER_MAX_IPS)
		return FAIL(c, ips ? ips : m, "%s.allowed_ips: expected a list of "
			    "1..%d IPv4 prefixes", where, JV_PEER_MAX_IPS);
	for (int j = 0; j < seq_len(ips); j++) {
		yaml_node_t *e = seq_item(c, ips, j);
		const char *s = jv_yaml_str(e);
		uint32_t a;
		uint8_t pfx;

		if (!s || parse_cidr(s, &a, &pfx) != 0)
			return FAIL(c, e, "%s.allowed_ips[%d]: \"%.40s\" is not an "
				    "IPv4 prefix like 10.77.0.2/32", where, j,
				    s ? s : "?");
		if (pfx < 32 && (a & (0xffffffffu >> pfx)))
			return FAIL(c, e, "%s.allowed_ips[%d]: %s has host bits "
				    "set", where, j, s);
		p->allowed[j].addr = a;
		p->allowed[j].prefix = pfx;
		p->nallowed++;
	}
	for (int j = 0; j < i; j++) {
		if (strcmp(c->cfg->peers[j].name, p->name) == 0)
			return FAIL(c, m, "%s.name: \"%s\" is used twice", where,
				    p->name);
		if (memcmp(c->cfg->peers[j].public_key, p->public_key, 32) == 0)
			return FAIL(c, v, "%s.public_key: the same key as "
				    "peers[%d]", where, j);
	}
	return 0;
}

static int parse_server(struct ctx *c, yaml_node_t *root)
{
	yaml_node_t *seq;
	uint64_t max = 1024;
	int rc;

	if ((rc = parse_listen(c, root)) ||
	    (rc = need_seq(c, root, "peers", JV_MAX_PEERS, &seq)))
		return rc;
	for (int i = 0; i < seq_len(seq); i++) {
		if ((rc = parse_peer(c, seq_item(c, seq, i), i)))
			return rc;
		c->cfg->npeers++;
	}
	if ((rc = get_u64(c, root, "", "max_sessions", 1, 1u << 20, &max)))
		return rc;
	c->cfg->max_sessions = (uint32_t)max;
	return 0;
}

static int parse_transport(struct ctx *c, yaml_node_t *m, int i)
{
	static const char *const keys[] = { "id", "proto", "remote",
					    "bind_device", "bind_address", NULL };
	struct jv_transport_io_cfg *t = &c->cfg->transports[i];
	char where[32];
	int rc;

	snprintf(where, sizeof(where), "transports[%d]", i);
	if ((rc = check_keys(c, m, where, keys)) ||
	    (rc = get_id(c, m, where, "id", t->id, sizeof(t->id))) ||
	    (rc = get_proto(c, m, where, &t->proto)) ||
	    (rc = get_addr(c, m, where, "remote", true, true, &t->remote)) ||
	    (rc = get_str(c, m, where, "bind_device", false, t->bind_device,
			  sizeof(t->bind_device), NULL)) ||
	    (rc = get_addr(c, m, where, "bind_address", false, false,
			   &t->bind_address)))
		return rc;
	if (t->bind_address.len &&
	    t->bind_address.ss.ss_family != t->remote.ss.ss_family)
		return FAIL(c, m, "%s: bind_address and remote are of different "
			    "address families", where);
	for (int j = 0; j < i; j++)
		if (strcmp(c->cfg->transports[j].id, t->id) == 0)
			return FAIL(c, m, "%s.id: \"%s\" is used twice", where,
				    t->id);
	return 0;
}

static int parse_client(struct ctx *c, yaml_node_t *root)
{
	char key[64], ot[16] = "exit";
	yaml_node_t *seq, *v;
	int rc;

	if ((rc = get_str(c, root, "", "server_public_key", true, key,
			  sizeof(key), &v)))
		return rc;
	if (jv_key_from_base64(key, c->cfg->server_public_key) != 0)
		return FAIL(c, v, "server_public_key: not a base64 X25519 key");
	if ((rc = need_seq(c, root, "transports", JV_MAX_TRANSPORTS, &seq)))
		return rc;
	for (int i = 0; i < seq_len(seq); i++) {
		if ((rc = parse_transport(c, seq_item(c, seq, i), i)))
			return rc;
		c->cfg->ntransports++;
	}
	if ((rc = get_str(c, root, "", "on_terminated", false, ot, sizeof(ot),
			  &v)))
		return rc;
	if (strcmp(ot, "reconnect") == 0)
		c->cfg->reconnect = true;
	else if (strcmp(ot, "exit") != 0)
		return FAIL(c, v, "on_terminated: \"%s\" is not one of reconnect, "
			    "exit", ot);
	return 0;
}

static int parse_policy(struct ctx *c, yaml_node_t *root)
{
	struct jv_config *cfg = c->cfg;
	yaml_node_t *inl = jv_yaml_get(c->doc, root, "policy"), *vf;
	char val[JV_CFG_PATH_MAX];
	char *buf = NULL;
	size_t len = 0;
	int rc;

	if ((rc = get_str(c, root, "", "policy_file", false, val, sizeof(val),
			  &vf)))
		return rc;
	if (inl && vf)
		return FAIL(c, vf, "policy_file and policy: give one of them, "
			    "not both");
	jv_policy_defaults(&cfg->policy);
	if (inl)
		rc = jv_policy_parse_node(&cfg->policy, c->doc, inl, c->file,
					  true, c->err);
	else if (!vf)
		return FAIL(c, root, "policy_file: required key missing (or an "
			    "inline policy)");
	else {
		resolve(c, val, cfg->policy_file, sizeof(cfg->policy_file));
		rc = jv_read_file(cfg->policy_file, JV_FILE_MAX, &buf, &len,
				  c->err);
		if (rc == 0)
			rc = jv_policy_parse(&cfg->policy, buf, len,
					     cfg->policy_file, true, c->err);
		free(buf);
	}
	if (rc == 0)
		rc = jv_policy_validate(&cfg->policy,
					vf ? cfg->policy_file : c->file, c->err);
	return rc;
}

static int parse_common(struct ctx *c, yaml_node_t *root)
{
	static const char *const audit_keys[] = { "path", NULL };
	struct jv_config *cfg = c->cfg;
	yaml_node_t *audit = jv_yaml_get(c->doc, root, "audit"), *v;
	bool present;
	int rc;

	if ((rc = get_id(c, root, "", "node_id", cfg->node_id,
			 sizeof(cfg->node_id))) ||
	    (rc = get_key(c, root, "private_key", "private_key_file", true,
			  cfg->private_key, &present)) ||
	    (rc = get_key(c, root, "preshared_key", "preshared_key_file", false,
			  cfg->psk, &cfg->has_psk)) ||
	    (rc = parse_tun(c, root)))
		return rc;
	if (!audit)
		return FAIL(c, root, "audit: required key missing");
	if ((rc = check_keys(c, audit, "audit", audit_keys)) ||
	    (rc = get_str(c, audit, "audit", "path", true, cfg->audit_path,
			  sizeof(cfg->audit_path), NULL)) ||
	    (rc = get_str(c, root, "", "control_socket", true,
			  cfg->control_socket, sizeof(cfg->control_socket), &v)))
		return rc;
	return parse_policy(c, root);
}

static int parse_root(struct ctx *c, yaml_node_t *root)
{
	static const char *const server_keys[] = {
		"role", "node_id", "private_key", "private_key_file",
		"preshared_key", "preshared_key_file", "listen", "tun", "peers",
		"max_sessions", "audit", "control_socket", "policy_file",
		"policy", NULL,
	};
	static const char *const client_keys[] = {
		"role", "node_id", "private_key", "private_key_file",
		"preshared_key", "preshared_key_file", "server_public_key",
		"transports", "tun", "audit", "control_socket", "on_terminated",
		"policy_file", "policy", NULL,
	};
	char role[16];
	yaml_node_t *v;
	int rc;

	if (!root || root->type != YAML_MAPPING_NODE)
		return FAIL(c, root, "expected a mapping of configuration keys");
	if ((rc = get_str(c, root, "", "role", true, role, sizeof(role), &v)))
		return rc;
	if (strcmp(role, "server") == 0)
		c->cfg->role = JV_ROLE_SERVER;
	else if (strcmp(role, "client") == 0)
		c->cfg->role = JV_ROLE_CLIENT;
	else
		return FAIL(c, v, "role: \"%s\" is not one of server, client", role);
	rc = check_keys(c, root, "",
			c->cfg->role == JV_ROLE_SERVER ? server_keys : client_keys);
	if (rc) {
		/* say why a known key is refused */
		const char *const *other = c->cfg->role == JV_ROLE_SERVER
						   ? client_keys : server_keys;

		for (size_t i = 0; other[i]; i++)
			if (strstr(c->err->msg, other[i]) == c->err->msg &&
			    strstr(c->err->msg, ": unknown key") ==
				    c->err->msg + strlen(other[i]))
				snprintf(c->err->msg, sizeof(c->err->msg),
					 "%s: only for role %s", other[i],
					 role[0] == 's' ? "client" : "server");
		return rc;
	}
	if ((rc = parse_common(c, root)))
		return rc;
	return c->cfg->role == JV_ROLE_SERVER ? parse_server(c, root)
					      : parse_client(c, root);
}

int jv_config_parse(struct jv_config *cfg, const char *buf, size_t len,
		    const char *file, struct jv_error *err)
{
	struct ctx c = { .file = file, .err = err, .cfg = cfg };
	yaml_document_t doc;
	char tmp[JV_CFG_PATH_MAX];
	int rc;

	memset(cfg, 0, sizeof(*cfg));
	snprintf(cfg->file, sizeof(cfg->file), "%s", file);
	snprintf(tmp, sizeof(tmp), "%s", file);
	snprintf(c.dir, sizeof(c.dir), "%s", dirname(tmp));
	rc = jv_yaml_load(&doc, buf, len, file, err);
	if (rc)
		return rc;
	c.doc = &doc;
	rc = parse_root(&c, yaml_document_get_root_node(&doc));
	yaml_document_delete(&doc);
	if (rc)
		jv_config_wipe(cfg);
	return rc ? JV_ERR_INVAL : 0;
}

int jv_config_load(struct jv_config *cfg, const char *path,
		   struct jv_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	int rc = jv_read_file(path, JV_FILE_MAX, &buf, &len, err);

	if (rc)
		return rc;
	rc = jv_config_parse(cfg, buf, len, path, err);
	free(buf);
	return rc;
}

void jv_config_endpoint(const struct jv_config *cfg,
			struct jv_endpoint_cfg *out)
{
	memset(out, 0, sizeof(*out));
	out->role = cfg->role;
	snprintf(out->node_id, sizeof(out->node_id), "%s", cfg->node_id);
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
	out->peers = cfg->peers;
	out->npeers = cfg->npeers;
	out->max_sessions = cfg->max_sessions;
}

void jv_config_wipe(struct jv_config *cfg)
{
	sodium_memzero(cfg->private_key, sizeof(cfg->private_key));
	sodium_memzero(cfg->psk, sizeof(cfg->psk));
}
