/* Daemon configuration (CONTRACT section 5). Every mapping is checked
 * against the keys it may hold, so a typo is an error with its line, never
 * a silent default; and every value is checked before any of it is used. */
#include <arpa/inet.h>
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/util.h"
#include "core/yamlx.h"
#include "io/udp.h"

#define KEY_FILE_MAX 1024      /* a key file is one line of base64 */

enum { R_SERVER = 1, R_CLIENT = 2, R_BOTH = R_SERVER | R_CLIENT };

/* A key a mapping may hold, and the roles it belongs to. */
struct keydef {
	const char *name;
	unsigned roles;
};

static const struct keydef root_keys[] = {
	{ "role", R_BOTH },
	{ "node_id", R_BOTH },
	{ "private_key", R_BOTH },
	{ "private_key_file", R_BOTH },
	{ "preshared_key", R_BOTH },
	{ "preshared_key_file", R_BOTH },
	{ "tun", R_BOTH },
	{ "audit", R_BOTH },
	{ "control_socket", R_BOTH },
	{ "policy_file", R_BOTH },
	{ "policy", R_BOTH },
	{ "listen", R_SERVER },
	{ "peers", R_SERVER },
	{ "max_sessions", R_SERVER },
	{ "server_public_key", R_CLIENT },
	{ "transports", R_CLIENT },
	{ "on_terminated", R_CLIENT },
	{ NULL, 0 },
};
static const struct keydef tun_keys[] = {
	{ "name", R_BOTH }, { "address", R_BOTH }, { "mtu", R_BOTH },
	{ NULL, 0 },
};
static const struct keydef audit_keys[] = { { "path", R_BOTH }, { NULL, 0 } };
static const struct keydef listen_keys[] = {
	{ "id", R_BOTH }, { "proto", R_BOTH }, { "address", R_BOTH },
	{ NULL, 0 },
};
static const struct keydef peer_keys[] = {
	{ "name", R_BOTH }, { "public_key", R_BOTH }, { "allowed_ips", R_BOTH },
	{ NULL, 0 },
};
static const struct keydef transport_keys[] = {
	{ "id", R_BOTH }, { "proto", R_BOTH }, { "remote", R_BOTH },
	{ "bind_device", R_BOTH }, { "bind_address", R_BOTH }, { NULL, 0 },
};

static const char *const roles[] = { "server", "client", NULL };
static const char *const protos[] = { "udp", "tcp", NULL };
static const uint8_t proto_ids[] = { JV_PROTO_UDP, JV_PROTO_TCP };
static const char *const on_terminated[] = { "exit", "reconnect", NULL };

/* A secret given inline or in a file: exactly one of the two. */
struct keysrc {
	const char *inline_key, *file_key, *noun;
};
static const struct keysrc private_src = {
	"private_key", "private_key_file", "private key"
};
static const struct keysrc psk_src = {
	"preshared_key", "preshared_key_file", "preshared key"
};

struct ctx {
	yaml_document_t *doc;
	const char *file;
	char dir[JV_CFG_PATH_MAX];
	unsigned role;             /* R_SERVER or R_CLIENT */
	struct jv_error *err;
	struct jv_config *cfg;
};

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(struct ctx *c, const yaml_node_t *n, const char *fmt, ...)
{
	char msg[sizeof(c->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return jv_error_set(c->err, JV_ERR_INVAL, c->file, jv_yaml_line(n),
			    "%s", msg);
}

/* "where.key", or "key" at the top level. */
static const char *kp(char *buf, size_t cap, const char *where,
		      const char *key)
{
	snprintf(buf, cap, "%s%s%s", where, *where ? "." : "", key);
	return buf;
}

/* Text from the file quoted in a message: bounded and printable ASCII, so
 * a hostile file cannot put escape sequences on an operator's terminal. */
static const char *shown(const char *s, char *buf, size_t cap)
{
	size_t i, max = cap - 4;

	for (i = 0; s[i] && i < max; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i])
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

static const char *describe(const yaml_node_t *n)
{
	if (n->type == YAML_SEQUENCE_NODE)
		return "a list";
	if (n->type == YAML_MAPPING_NODE)
		return "a mapping";
	return "a single value";
}

static yaml_node_t *node_at(struct ctx *c, int i)
{
	return yaml_document_get_node(c->doc, i);
}

static int seq_len(const yaml_node_t *seq)
{
	return (int)(seq->data.sequence.items.top -
		     seq->data.sequence.items.start);
}

static yaml_node_t *seq_item(struct ctx *c, const yaml_node_t *seq, int i)
{
	return node_at(c, seq->data.sequence.items.start[i]);
}

static const struct keydef *find_key(const struct keydef *defs,
				     const yaml_node_t *k)
{
	for (; defs->name; defs++)
		if (strlen(defs->name) == k->data.scalar.length &&
		    memcmp(defs->name, k->data.scalar.value,
			   k->data.scalar.length) == 0)
			return defs;
	return NULL;
}

/* Refuses keys a mapping may not hold (unknown, or of the other role) and
 * keys given twice: libyaml keeps both, and we would read only the first. */
static int check_keys(struct ctx *c, const yaml_node_t *map, const char *where,
		      const struct keydef *defs)
{
	char name[96], t[64];

	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		const struct keydef *d;

		if (!k || k->type != YAML_SCALAR_NODE)
			return fail(c, k, "%s: keys must be plain names, got %s",
				    *where ? where : "config",
				    k ? describe(k) : "nothing");
		d = find_key(defs, k);
		kp(name, sizeof(name), where,
		   shown((const char *)k->data.scalar.value, t, sizeof(t)));
		if (!d)
			return fail(c, k, "%s: unknown key", name);
		if (!(d->roles & c->role))
			return fail(c, k, "%s: only for role %s", name,
				    d->roles == R_SERVER ? "server" : "client");
		for (yaml_node_pair_t *q = map->data.mapping.pairs.start; q < p;
		     q++)
			if (find_key(defs, node_at(c, q->key)) == d)
				return fail(c, k, "%s: duplicate key (first at "
					    "line %d)", name,
					    jv_yaml_line(node_at(c, q->key)));
	}
	return 0;
}

/* The mapping under key, its keys checked; *out NULL if absent and not
 * required. */
static int get_map(struct ctx *c, yaml_node_t *map, const char *where,
		   const char *key, bool required, const struct keydef *defs,
		   yaml_node_t **out)
{
	yaml_node_t *v = jv_yaml_get(c->doc, map, key);
	char name[96];

	*out = NULL;
	kp(name, sizeof(name), where, key);
	if (!v)
		return required ? fail(c, map, "%s: required key missing", name)
				: 0;
	if (v->type != YAML_MAPPING_NODE)
		return fail(c, v, "%s: expected a mapping, got %s", name,
			    describe(v));
	*out = v;
	return check_keys(c, v, name, defs);
}

/* The list under key, of 1..max entries. */
static int get_seq(struct ctx *c, yaml_node_t *map, const char *where,
		   const char *key, int max, yaml_node_t **out)
{
	yaml_node_t *v = jv_yaml_get(c->doc, map, key);
	char name[96];

	kp(name, sizeof(name), where, key);
	if (!v)
		return fail(c, map, "%s: required key missing", name);
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(c, v, "%s: expected a list, got %s", name,
			    describe(v));
	if (seq_len(v) < 1 || seq_len(v) > max)
		return fail(c, v, "%s: %d entries (allowed 1..%d)", name,
			    seq_len(v), max);
	*out = v;
	return 0;
}

/* A scalar's text. Control characters (NUL included: libyaml keeps "\0"
 * and C would silently cut the string there) are refused everywhere. */
static int text_of(struct ctx *c, const yaml_node_t *v, const char *name,
		   const char **s)
{
	*s = NULL;
	if (v->type != YAML_SCALAR_NODE)
		return fail(c, v, "%s: expected a single value, got %s", name,
			    describe(v));
	for (size_t i = 0; i < v->data.scalar.length; i++)
		if (v->data.scalar.value[i] < 0x20 ||
		    v->data.scalar.value[i] == 0x7f)
			return fail(c, v, "%s: contains a control character",
				    name);
	*s = (const char *)v->data.scalar.value;
	return 0;
}

/* The scalar under key; *v and *s NULL when absent (an error if
 * required). */
static int get_scalar(struct ctx *c, yaml_node_t *map, const char *where,
		      const char *key, bool required, yaml_node_t **v,
		      const char **s)
{
	char name[96];

	kp(name, sizeof(name), where, key);
	*s = NULL;
	*v = jv_yaml_get(c->doc, map, key);
	if (!*v)
		return required ? fail(c, map, "%s: required key missing", name)
				: 0;
	return text_of(c, *v, name, s);
}

/* A string of 1..cap-1 characters; out untouched when absent. */
static int get_str(struct ctx *c, yaml_node_t *map, const char *where,
		   const char *key, bool required, char *out, size_t cap)
{
	char name[96];
	yaml_node_t *v;
	const char *s;
	int rc = get_scalar(c, map, where, key, required, &v, &s);

	if (rc || !s)
		return rc;
	if (!*s || strlen(s) >= cap)
		return fail(c, v, "%s: %zu characters (allowed 1..%zu)",
			    kp(name, sizeof(name), where, key), strlen(s),
			    cap - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

/* Ids and names end up in audit events, ctl replies and on the wire. */
static bool ident_ok(const char *s)
{
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' ||
		      *s == '.'))
			return false;
	return true;
}

static int get_ident(struct ctx *c, yaml_node_t *map, const char *where,
		     const char *key, char *out, size_t cap)
{
	char name[96], t[64];
	int rc = get_str(c, map, where, key, true, out, cap);

	if (rc == 0 && !ident_ok(out))
		return fail(c, jv_yaml_get(c->doc, map, key),
			    "%s: \"%s\" has characters other than letters, "
			    "digits, '.', '_' and '-'",
			    kp(name, sizeof(name), where, key),
			    shown(out, t, sizeof(t)));
	return rc;
}

/* As the kernel's dev_valid_name(): an ifname the ioctls will take. */
static bool ifname_ok(const char *s)
{
	if (!strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	return strpbrk(s, "/: \t") == NULL;
}

static int get_ifname(struct ctx *c, yaml_node_t *map, const char *where,
		      const char *key, bool required, char out[IFNAMSIZ])
{
	char name[96], t[64];
	int rc = get_str(c, map, where, key, required, out, IFNAMSIZ);

	if (rc == 0 && out[0] && !ifname_ok(out))
		return fail(c, jv_yaml_get(c->doc, map, key),
			    "%s: \"%s\" is not an interface name (no '/', ':' "
			    "or spaces)", kp(name, sizeof(name), where, key),
			    shown(out, t, sizeof(t)));
	return rc;
}

/* An integer in lo..hi; *out untouched when absent (the default). */
static int get_uint(struct ctx *c, yaml_node_t *map, const char *where,
		    const char *key, uint64_t lo, uint64_t hi, uint64_t *out)
{
	char name[96], t[64];
	yaml_node_t *v;
	const char *s;
	uint64_t u;
	int rc = get_scalar(c, map, where, key, false, &v, &s);

	if (rc || !s)
		return rc;
	kp(name, sizeof(name), where, key);
	if (jv_yaml_u64(v, &u) != 0)
		return fail(c, v, "%s: expected an integer, got \"%s\"", name,
			    shown(s, t, sizeof(t)));
	if (u < lo || u > hi)
		return fail(c, v, "%s: value %s out of range (allowed %llu..%llu)",
			    name, s, (unsigned long long)lo,
			    (unsigned long long)hi);
	*out = u;
	return 0;
}

/* One of names (NULL-terminated); *idx untouched when absent. */
static int get_choice(struct ctx *c, yaml_node_t *map, const char *where,
		      const char *key, bool required,
		      const char *const *names, int *idx)
{
	char name[96], t[64], list[64] = "";
	yaml_node_t *v;
	const char *s;
	int rc = get_scalar(c, map, where, key, required, &v, &s);

	if (rc || !s)
		return rc;
	for (int i = 0; names[i]; i++) {
		if (strcmp(s, names[i]) == 0) {
			*idx = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "%s%s", i ? ", " : "", names[i]);
	}
	return fail(c, v, "%s: \"%s\" is not one of %s",
		    kp(name, sizeof(name), where, key), shown(s, t, sizeof(t)),
		    list);
}

static int get_proto(struct ctx *c, yaml_node_t *map, const char *where,
		     uint8_t *proto)
{
	int i = 0;
	int rc = get_choice(c, map, where, "proto", true, protos, &i);

	*proto = proto_ids[i];
	return rc;
}

/* A numeric address: "a.b.c.d:port" or "[v6]:port"; with need_port false
 * also a bare address. Names are refused: a daemon must not depend on DNS
 * to find the path it would need to reach DNS. */
static int get_addr(struct ctx *c, yaml_node_t *map, const char *where,
		    const char *key, bool required, bool need_port,
		    struct jv_sockaddr *out)
{
	char name[96], t[64];
	yaml_node_t *v;
	const char *s;
	int rc = get_scalar(c, map, where, key, required, &v, &s);

	if (rc || !s)
		return rc;
	if (jv_sockaddr_parse(s, &out->ss, &out->len, need_port) != 0)
		return fail(c, v, "%s: \"%s\" is not %s",
			    kp(name, sizeof(name), where, key),
			    shown(s, t, sizeof(t)),
			    need_port ? "IP:PORT (numeric a.b.c.d:PORT or "
					"[IPv6]:PORT, port 1..65535)"
				      : "an IP address or IP:PORT (numeric)");
	return 0;
}

/* "10.77.0.2/32": a dotted quad, '/', one or two digits up to 32. */
static int parse_cidr(const char *s, uint32_t *addr, uint8_t *prefix)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	struct in_addr a;
	size_t n;

	if (!slash || (size_t)(slash - s) >= sizeof(ip))
		return -1;
	n = strlen(slash + 1);
	if (n < 1 || n > 2 || strspn(slash + 1, "0123456789") != n ||
	    atoi(slash + 1) > 32)
		return -1;
	memcpy(ip, s, (size_t)(slash - s));
	ip[slash - s] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -1;
	*addr = ntohl(a.s_addr);
	*prefix = (uint8_t)atoi(slash + 1);
	return 0;
}

static uint32_t mask_of(uint8_t prefix)
{
	return prefix ? 0xffffffffu << (32 - prefix) : 0;
}

/* A path in the config is relative to the config file's directory. */
static int resolve(struct ctx *c, const yaml_node_t *v, const char *name,
		   const char *path, char *out, size_t cap)
{
	int n;

	if (path[0] == '/')
		n = snprintf(out, cap, "%s", path);
	else
		n = snprintf(out, cap, "%s/%s", c->dir, path);
	if (n < 0 || (size_t)n >= cap)
		return fail(c, v, "%s: path longer than %zu characters once "
			    "resolved", name, cap - 1);
	return 0;
}

static int decode_key(struct ctx *c, const yaml_node_t *v, const char *name,
		      const char *s, uint8_t key[32])
{
	if (jv_key_from_base64(s, key) != 0)
		return fail(c, v, "%s: not a base64 key (44 characters, as "
			    "`jvpn genkey` and `jvpn pubkey` print)", name);
	return 0;
}

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
static int read_key_file(struct ctx *c, const struct keysrc *src,
			 const yaml_node_t *v, const char *val, uint8_t key[32])
{
	char path[JV_CFG_PATH_MAX * 2], t[96], e[64];
	char buf[KEY_FILE_MAX + 1];
	struct stat st;
	size_t len = 0;
	int rc;

	if ((rc = resolve(c, v, src->file_key, val, path, sizeof(path))))
		return rc;
	shown(path, t, sizeof(t));
	rc = read_secret(path, buf, KEY_FILE_MAX, &len, &st);
	buf[len] = '\0';
	if (rc == -EISDIR || (rc == 0 && !S_ISREG(st.st_mode)))
		rc = fail(c, v, "%s: %s is not a regular file", src->file_key,
			  t);
	else if (rc == 0 && (st.st_mode & 077))
		rc = fail(c, v, "%s: %s file %s is accessible by others (mode "
			  "%04o); chmod 600 it", src->file_key, src->noun, t,
			  (unsigned)(st.st_mode & 07777));
	else if (rc)
		rc = fail(c, v, "%s: cannot read %s: %s", src->file_key, t,
			  read_error(rc, KEY_FILE_MAX, e, sizeof(e)));
	else if (jv_key_from_base64(buf, key) != 0)
		rc = fail(c, v, "%s: %s does not hold a base64 key (as `jvpn "
			  "genkey` prints)", src->file_key, t);
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

static int get_secret(struct ctx *c, yaml_node_t *root,
		      const struct keysrc *src, bool required, uint8_t key[32],
		      bool *present)
{
	yaml_node_t *vi, *vf;
	const char *si, *sf;
	int rc;

	if ((rc = get_scalar(c, root, "", src->inline_key, false, &vi, &si)) ||
	    (rc = get_scalar(c, root, "", src->file_key, false, &vf, &sf)))
		return rc;
	*present = si || sf;
	if (si && sf)
		return fail(c, vf, "%s and %s: give one of them, not both",
			    src->inline_key, src->file_key);
	if (!si && !sf)
		return required ? fail(c, root, "%s: required key missing (or "
				       "%s)", src->file_key, src->inline_key)
				: 0;
	if (sf && !*sf)
		return fail(c, vf, "%s: empty path", src->file_key);
	if (sf)
		return read_key_file(c, src, vf, sf, key);
	rc = decode_key(c, vi, src->inline_key, si, key);
	/* the document is freed without wiping: leave no copy in it */
	sodium_memzero(vi->data.scalar.value, vi->data.scalar.length);
	return rc;
}

/* ---- sections ---- */

static int parse_tun(struct ctx *c, yaml_node_t *root)
{
	struct jv_tun_cfg *t = &c->cfg->tun;
	yaml_node_t *m, *v;
	const char *s;
	char q[64];
	uint64_t mtu = 1420;
	int rc;

	if ((rc = get_map(c, root, "", "tun", true, tun_keys, &m)) ||
	    (rc = get_ifname(c, m, "tun", "name", true, t->name)) ||
	    (rc = get_scalar(c, m, "tun", "address", true, &v, &s)) ||
	    (rc = get_uint(c, m, "tun", "mtu", 576, 9000, &mtu)))
		return rc;
	t->line = jv_yaml_line(m);
	t->line_name = jv_yaml_line(jv_yaml_get(c->doc, m, "name"));
	if (parse_cidr(s, &t->addr, &t->prefix) != 0)
		return fail(c, v, "tun.address: \"%s\" is not an IPv4 address "
			    "with a prefix length, like 10.77.0.1/24",
			    shown(s, q, sizeof(q)));
	t->mtu = (uint32_t)mtu;
	return 0;
}

static int parse_listen(struct ctx *c, yaml_node_t *root)
{
	struct jv_config *cfg = c->cfg;
	yaml_node_t *seq;
	int rc = get_seq(c, root, "", "listen", JV_CFG_MAX_LISTEN, &seq);

	for (int i = 0; rc == 0 && i < seq_len(seq); i++) {
		struct jv_listen_cfg *l = &cfg->listen[i];
		yaml_node_t *m = seq_item(c, seq, i);
		char where[32];

		snprintf(where, sizeof(where), "listen[%d]", i);
		if (m->type != YAML_MAPPING_NODE)
			return fail(c, m, "%s: expected a mapping, got %s", where,
				    describe(m));
		if ((rc = check_keys(c, m, where, listen_keys)) ||
		    (rc = get_ident(c, m, where, "id", l->id, sizeof(l->id))) ||
		    (rc = get_proto(c, m, where, &l->proto)) ||
		    (rc = get_addr(c, m, where, "address", true, true,
				   &l->addr)))
			return rc;
		l->line_address = jv_yaml_line(jv_yaml_get(c->doc, m,
							   "address"));
		for (int j = 0; j < i; j++) {
			const struct jv_listen_cfg *o = &cfg->listen[j];

			if (strcmp(o->id, l->id) == 0)
				return fail(c, m, "%s.id: \"%s\" is used twice "
					    "(also listen[%d])", where, l->id, j);
			/* the second bind() would fail at startup */
			if (o->proto == l->proto && o->addr.len == l->addr.len &&
			    memcmp(&o->addr.ss, &l->addr.ss, l->addr.len) == 0)
				return fail(c, m, "%s.address: the same %s socket "
					    "as listen[%d]", where,
					    protos[l->proto == JV_PROTO_TCP], j);
		}
		cfg->nlisten++;
	}
	return rc;
}

/* The server routes an inner packet to the first live peer whose
 * allowed_ips hold its destination: overlapping prefixes would send one
 * peer's traffic to another. */
static int check_overlap(struct ctx *c, const yaml_node_t *e,
			 const char *where, int i, uint32_t a, uint8_t pfx)
{
	for (int j = 0; j < i; j++) {
		const struct jv_peer_cfg *o = &c->cfg->peers[j];

		for (uint32_t k = 0; k < o->nallowed; k++) {
			uint32_t m = mask_of(pfx < o->allowed[k].prefix ?
					     pfx : o->allowed[k].prefix);

			if ((a & m) == (o->allowed[k].addr & m))
				return fail(c, e, "%s: overlaps peers[%d] (%s)",
					    where, j, o->name);
		}
	}
	return 0;
}

static int parse_allowed_ips(struct ctx *c, yaml_node_t *m, const char *where,
			     int i)
{
	struct jv_peer_cfg *p = &c->cfg->peers[i];
	yaml_node_t *ips;
	char name[96], t[64];
	int rc = get_seq(c, m, where, "allowed_ips", JV_PEER_MAX_IPS, &ips);

	for (int j = 0; rc == 0 && j < seq_len(ips); j++) {
		yaml_node_t *e = seq_item(c, ips, j);
		const char *s;
		uint32_t a;
		uint8_t pfx;

		snprintf(name, sizeof(name), "%s.allowed_ips[%d]", where, j);
		if ((rc = text_of(c, e, name, &s)))
			return rc;
		if (parse_cidr(s, &a, &pfx) != 0)
			return fail(c, e, "%s: \"%s\" is not an IPv4 prefix like "
				    "10.77.0.2/32", name, shown(s, t, sizeof(t)));
		if (a & ~mask_of(pfx))
			return fail(c, e, "%s: \"%s\" has host bits set (the "
				    "prefix must be a network address)", name, s);
		if ((rc = check_overlap(c, e, name, i, a, pfx)))
			return rc;
		p->allowed[j].addr = a;
		p->allowed[j].prefix = pfx;
		p->nallowed++;
	}
	return rc;
}

static int parse_peer(struct ctx *c, yaml_node_t *m, int i)
{
	struct jv_peer_cfg *p = &c->cfg->peers[i];
	char where[32], name[96];
	yaml_node_t *v;
	const char *s;
	int rc;

	snprintf(where, sizeof(where), "peers[%d]", i);
	if (m->type != YAML_MAPPING_NODE)
		return fail(c, m, "%s: expected a mapping, got %s", where,
			    describe(m));
	if ((rc = check_keys(c, m, where, peer_keys)) ||
	    (rc = get_ident(c, m, where, "name", p->name, sizeof(p->name))) ||
	    (rc = get_scalar(c, m, where, "public_key", true, &v, &s)) ||
	    (rc = decode_key(c, v, kp(name, sizeof(name), where, "public_key"),
			     s, p->public_key)))
		return rc;
	for (int j = 0; j < i; j++) {
		if (strcmp(c->cfg->peers[j].name, p->name) == 0)
			return fail(c, m, "%s.name: \"%s\" is used twice (also "
				    "peers[%d])", where, p->name, j);
		if (memcmp(c->cfg->peers[j].public_key, p->public_key, 32) == 0)
			return fail(c, v, "%s.public_key: the same key as "
				    "peers[%d] (%s)", where, j,
				    c->cfg->peers[j].name);
	}
	return parse_allowed_ips(c, m, where, i);
}

static int parse_server(struct ctx *c, yaml_node_t *root)
{
	yaml_node_t *seq;
	uint64_t max = 1024;
	int rc;

	if ((rc = parse_listen(c, root)) ||
	    (rc = get_seq(c, root, "", "peers", JV_MAX_PEERS, &seq)))
		return rc;
	for (int i = 0; i < seq_len(seq); i++) {
		if ((rc = parse_peer(c, seq_item(c, seq, i), i)))
			return rc;
		c->cfg->npeers++;
	}
	if ((rc = get_uint(c, root, "", "max_sessions", 1, 1u << 20, &max)))
		return rc;
	c->cfg->max_sessions = (uint32_t)max;
	return 0;
}

static int parse_transport(struct ctx *c, yaml_node_t *m, int i)
{
	struct jv_transport_io_cfg *t = &c->cfg->transports[i];
	char where[32];
	int rc;

	snprintf(where, sizeof(where), "transports[%d]", i);
	if (m->type != YAML_MAPPING_NODE)
		return fail(c, m, "%s: expected a mapping, got %s", where,
			    describe(m));
	if ((rc = check_keys(c, m, where, transport_keys)) ||
	    (rc = get_ident(c, m, where, "id", t->id, sizeof(t->id))) ||
	    (rc = get_proto(c, m, where, &t->proto)) ||
	    (rc = get_addr(c, m, where, "remote", true, true, &t->remote)) ||
	    (rc = get_ifname(c, m, where, "bind_device", false,
			     t->bind_device)) ||
	    (rc = get_addr(c, m, where, "bind_address", false, false,
			   &t->bind_address)))
		return rc;
	t->line = jv_yaml_line(m);
	t->line_bind_device = jv_yaml_line(jv_yaml_get(c->doc, m,
						       "bind_device"));
	t->line_bind_address = jv_yaml_line(jv_yaml_get(c->doc, m,
							"bind_address"));
	if (t->bind_address.len &&
	    t->bind_address.ss.ss_family != t->remote.ss.ss_family)
		return fail(c, jv_yaml_get(c->doc, m, "bind_address"),
			    "%s.bind_address: not of the address family of "
			    "remote (IPv4 and IPv6 do not mix)", where);
	for (int j = 0; j < i; j++)
		if (strcmp(c->cfg->transports[j].id, t->id) == 0)
			return fail(c, m, "%s.id: \"%s\" is used twice (also "
				    "transports[%d])", where, t->id, j);
	return 0;
}

static int parse_client(struct ctx *c, yaml_node_t *root)
{
	yaml_node_t *seq, *v;
	const char *s;
	int ot = 0, rc;

	if ((rc = get_scalar(c, root, "", "server_public_key", true, &v, &s)) ||
	    (rc = decode_key(c, v, "server_public_key", s,
			     c->cfg->server_public_key)) ||
	    (rc = get_seq(c, root, "", "transports", JV_MAX_TRANSPORTS, &seq)))
		return rc;
	for (int i = 0; i < seq_len(seq); i++) {
		if ((rc = parse_transport(c, seq_item(c, seq, i), i)))
			return rc;
		c->cfg->ntransports++;
	}
	if ((rc = get_choice(c, root, "", "on_terminated", false,
			     on_terminated, &ot)))
		return rc;
	c->cfg->reconnect = ot == 1;
	return 0;
}

/* An inline policy's errors come from the policy parser, which knows
 * neither that its keys sit under policy: nor where the map begins. */
static int inline_policy_error(struct ctx *c, const yaml_node_t *inl, int rc)
{
	struct jv_error *e = c->err;
	char msg[sizeof(e->msg)];
	size_t n;

	if (!e)
		return rc;
	n = strspn(e->msg, "abcdefghijklmnopqrstuvwxyz0123456789_.");
	snprintf(msg, sizeof(msg), "policy%s%.*s",
		 n && (e->msg[n] == ':' || !strncmp(e->msg + n, " (", 2)) ?
		 "." : ": ",
		 (int)sizeof(msg) - 9, e->msg);
	memcpy(e->msg, msg, sizeof(msg));
	if (!e->line)
		e->line = jv_yaml_line(inl);
	return rc;
}

/* A policy file, an inline policy, or none: CONTRACT section 5 says a
 * daemon with no policy runs on the defaults of section 3. */
static int parse_policy(struct ctx *c, yaml_node_t *root)
{
	struct jv_config *cfg = c->cfg;
	yaml_node_t *inl = jv_yaml_get(c->doc, root, "policy"), *vf;
	struct jv_error rerr;
	const char *sf;
	char *buf = NULL, t[96];
	size_t len = 0;
	int rc;

	jv_policy_defaults(&cfg->policy);
	if ((rc = get_scalar(c, root, "", "policy_file", false, &vf, &sf)))
		return rc;
	if (inl && sf)
		return fail(c, vf, "policy_file and policy: give one of them, "
			    "not both");
	if (inl) {
		if ((rc = jv_policy_parse_node(&cfg->policy, c->doc, inl,
					       c->file, NULL, true, c->err)) ||
		    (rc = jv_policy_validate(&cfg->policy, c->file, c->err)))
			return inline_policy_error(c, inl, rc);
		return 0;
	}
	if (!sf)
		return jv_policy_validate(&cfg->policy, c->file, c->err);
	if (!*sf)
		return fail(c, vf, "policy_file: empty path");
	if ((rc = resolve(c, vf, "policy_file", sf, cfg->policy_file,
			  sizeof(cfg->policy_file))))
		return rc;
	if (jv_read_file(cfg->policy_file, JV_FILE_MAX, &buf, &len, &rerr))
		return fail(c, vf, "policy_file: cannot read %s: %s",
			    shown(cfg->policy_file, t, sizeof(t)), rerr.msg);
	/* from here on errors name the policy file and its line */
	rc = jv_policy_parse(&cfg->policy, buf, len, cfg->policy_file, true,
			     c->err);
	free(buf);
	return rc ? rc : jv_policy_validate(&cfg->policy, cfg->policy_file,
					    c->err);
}

/* "-" is stdout; a relative path is taken from the config file's
 * directory like every other path, not from wherever the daemon started. */
static int parse_audit(struct ctx *c, yaml_node_t *root)
{
	char path[JV_CFG_PATH_MAX];
	yaml_node_t *audit;
	int rc;

	if ((rc = get_map(c, root, "", "audit", true, audit_keys, &audit)) ||
	    (rc = get_str(c, audit, "audit", "path", true, path, sizeof(path))))
		return rc;
	c->cfg->line_audit_path = jv_yaml_line(jv_yaml_get(c->doc, audit,
							   "path"));
	if (strcmp(path, "-") == 0) {
		memcpy(c->cfg->audit_path, "-", 2);
		return 0;
	}
	return resolve(c, jv_yaml_get(c->doc, audit, "path"), "audit.path",
		       path, c->cfg->audit_path, sizeof(c->cfg->audit_path));
}

static int parse_common(struct ctx *c, yaml_node_t *root)
{
	struct jv_config *cfg = c->cfg;
	bool present;
	int rc;

	if ((rc = get_ident(c, root, "", "node_id", cfg->node_id,
			    sizeof(cfg->node_id))) ||
	    (rc = get_secret(c, root, &private_src, true, cfg->private_key,
			     &present)) ||
	    (rc = get_secret(c, root, &psk_src, false, cfg->psk,
			     &cfg->has_psk)) ||
	    (rc = parse_tun(c, root)) ||
	    (rc = parse_audit(c, root)) ||
	    (rc = get_str(c, root, "", "control_socket", true,
			  cfg->control_socket, sizeof(cfg->control_socket))))
		return rc;
	cfg->line_control_socket = jv_yaml_line(jv_yaml_get(c->doc, root,
							    "control_socket"));
	return parse_policy(c, root);
}

static int parse_root(struct ctx *c, yaml_node_t *root)
{
	int role = 0, rc;

	if (!root || root->type != YAML_MAPPING_NODE)
		return fail(c, root, "expected a mapping of configuration keys, "
			    "got %s", root ? describe(root) : "an empty file");
	/* the role decides which keys belong: read it before the others */
	if ((rc = get_choice(c, root, "", "role", true, roles, &role)))
		return rc;
	c->role = role == 0 ? R_SERVER : R_CLIENT;
	c->cfg->role = role == 0 ? JV_ROLE_SERVER : JV_ROLE_CLIENT;
	if ((rc = check_keys(c, root, "", root_keys)) ||
	    (rc = parse_common(c, root)))
		return rc;
	return c->role == R_SERVER ? parse_server(c, root)
				   : parse_client(c, root);
}

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

int jv_config_parse(struct jv_config *cfg, const char *buf, size_t len,
		    const char *file, struct jv_error *err)
{
	struct ctx c = { .file = file, .err = err, .cfg = cfg };
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
		snprintf(c.dir, sizeof(c.dir), ".");
	else if ((size_t)(slash - file) >= sizeof(c.dir))
		return jv_error_set(err, JV_ERR_INVAL, file, 0,
				    "path longer than %zu characters",
				    sizeof(c.dir) - 1);
	else
		snprintf(c.dir, sizeof(c.dir), "%.*s",
			 slash == file ? 1 : (int)(slash - file), file);
	rc = jv_yaml_load(&doc, buf, len, file, err);
	if (rc)
		return rc;
	c.doc = &doc;
	root = yaml_document_get_root_node(&doc);
	rc = parse_root(&c, root);
	wipe_doc_secrets(&doc, root);
	yaml_document_delete(&doc);
	if (rc)
		jv_config_wipe(cfg);
	/* the policy reports values out of range as JV_ERR_RANGE; for the
	 * caller a bad config is one kind of error */
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
		/* what may come from the server: the tunnel subnet */
		uint32_t mask = cfg->tun.prefix == 0
					? 0 : 0xffffffffu << (32 - cfg->tun.prefix);

		out->server_allowed[0].addr = cfg->tun.addr & mask;
		out->server_allowed[0].prefix = cfg->tun.prefix;
		out->nserver_allowed = 1;
	}
	out->peers = cfg->peers;
	out->npeers = cfg->npeers;
	out->max_sessions = cfg->max_sessions;
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
