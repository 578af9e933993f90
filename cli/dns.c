/* The client's DNS: the method, the commands, the resolv.conf jvpn
 * writes and the state file that undoes it, also after a crash (dns.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/dns.h"
#include "cli/hook.h"

#define STATE_MAGIC "jvpn-dns 1\n"
#define HASH_HEX (crypto_generichash_BYTES * 2 + 1)

/* Where the helpers are looked for: a daemon's PATH may be short
 * (systemd's default lacks nothing here, but a shell's may). */
static const char *const bin_dirs[] = {
	"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin",
	"/bin",
};

static const char *const method_names[] = {
	[JV_DNS_FILE] = "file",
	[JV_DNS_RESOLVED] = "resolved",
	[JV_DNS_RESOLVCONF] = "resolvconf",
};

const char *jv_dns_method_name(enum jv_dns_method m)
{
	return method_names[m];
}

int jv_dns_method_of(const char *name)
{
	for (size_t i = 0; i < sizeof(method_names) / sizeof(method_names[0]);
	     i++)
		if (strcmp(name, method_names[i]) == 0)
			return (int)i;
	return -1;
}

/* ---- what the system looks like ---- */

static void find_program(const char *name, char *out, size_t cap)
{
	struct stat st;

	out[0] = '\0';
	for (size_t i = 0; i < sizeof(bin_dirs) / sizeof(bin_dirs[0]); i++) {
		snprintf(out, cap, "%s/%s", bin_dirs[i], name);
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(out, X_OK) == 0)
			return;
	}
	out[0] = '\0';
}

void jv_dns_facts(struct jv_dns_facts *f)
{
	char real[PATH_MAX];
	ssize_t n = -1;
	int fd;

	memset(f, 0, sizeof(*f));
	find_program("resolvectl", f->resolvectl, sizeof(f->resolvectl));
	find_program("resolvconf", f->resolvconf, sizeof(f->resolvconf));
	/* systemd 246 and later; the directory alone outlives the daemon */
	f->resolved_running =
		access("/run/systemd/resolve/io.systemd.Resolve", F_OK) == 0;
	if (realpath(JV_DNS_RESOLV_CONF, real))
		snprintf(f->target, sizeof(f->target), "%.*s",
			 (int)sizeof(f->target) - 1, real);
	fd = open(JV_DNS_RESOLV_CONF, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd >= 0) {
		n = read(fd, f->head, sizeof(f->head) - 1);
		close(fd);
	}
	f->head[n > 0 ? n : 0] = '\0';
}

static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

enum jv_dns_method jv_dns_choose(const struct jv_dns_facts *f)
{
	/* resolved's files are symlinked, or copied with its stub in them */
	bool resolved_file = starts(f->target, "/run/systemd/resolve/") ||
			     strstr(f->head, "nameserver 127.0.0.53");
	/* Debian's resolvconf links /run/resolvconf/resolv.conf; both it
	 * and openresolv say "resolvconf" in the file they write */
	bool resolvconf_file = starts(f->target, "/run/resolvconf/") ||
			       strstr(f->head, "resolvconf");

	if (f->resolvectl[0] && f->resolved_running && resolved_file)
		return JV_DNS_RESOLVED;
	if (f->resolvconf[0] && resolvconf_file)
		return JV_DNS_RESOLVCONF;
	return JV_DNS_FILE;
}

/* ---- the commands ---- */

struct argb {
	struct jv_dns_cmd *c;
	int argc;
	size_t used;
	bool full;
};

static void arg(struct argb *b, const char *s)
{
	size_t n = strlen(s) + 1;

	if (b->full || b->argc >= JV_DNS_ARGS_MAX ||
	    b->used + n > sizeof(b->c->store)) {
		b->full = true;
		return;
	}
	memcpy(b->c->store + b->used, s, n);
	b->c->argv[b->argc++] = b->c->store + b->used;
	b->c->argv[b->argc] = NULL;
	b->used += n;
}

static void start(struct argb *b, struct jv_dns_cmd *c, const char *prog)
{
	memset(c, 0, sizeof(*c));
	*b = (struct argb){ .c = c };
	arg(b, prog);
}

static void server_text(const struct jv_dns_server *s, char *buf, size_t cap)
{
	inet_ntop(s->family, s->addr, buf, (socklen_t)cap);
}

/* "nameserver A\n...search D...\n" into buf at *off; false if full */
static bool resolver_lines(const struct jv_config *cfg, char *buf,
			   size_t cap, size_t *off)
{
	char ip[INET6_ADDRSTRLEN];
	int n;

	for (uint32_t i = 0; i < cfg->ndns; i++) {
		server_text(&cfg->dns[i], ip, sizeof(ip));
		n = snprintf(buf + *off, cap - *off, "nameserver %s\n", ip);
		if (n < 0 || (size_t)n >= cap - *off)
			return false;
		*off += (size_t)n;
	}
	for (uint32_t i = 0; i < cfg->ndns_search; i++) {
		n = snprintf(buf + *off, cap - *off, "%s%s%s",
			     i ? " " : "search ", cfg->dns_search[i],
			     i + 1 == cfg->ndns_search ? "\n" : "");
		if (n < 0 || (size_t)n >= cap - *off)
			return false;
		*off += (size_t)n;
	}
	return true;
}

int jv_dns_plan_down(enum jv_dns_method m, const struct jv_dns_facts *f,
		     const char *ifname, struct jv_dns_plan *p)
{
	struct argb b;

	memset(&p->down, 0, sizeof(p->down));
	p->method = m;
	p->has_down = m != JV_DNS_FILE;
	if (m == JV_DNS_RESOLVED) {
		start(&b, &p->down, f->resolvectl);
		arg(&b, "revert");
		arg(&b, ifname);
	} else if (m == JV_DNS_RESOLVCONF) {
		start(&b, &p->down, f->resolvconf);
		arg(&b, "-d");
		arg(&b, ifname);
		arg(&b, "-f");
	} else {
		return 0;
	}
	return b.full ? -1 : 0;
}

int jv_dns_plan(enum jv_dns_method m, const struct jv_dns_facts *f,
		const struct jv_config *cfg, const char *ifname,
		struct jv_dns_plan *p)
{
	char ip[INET6_ADDRSTRLEN];
	bool full = false;
	struct argb b = { 0 };   /* read at the end whatever the method */
	size_t off = 0;

	memset(p, 0, sizeof(*p));
	if (jv_dns_plan_down(m, f, ifname, p) != 0)
		return -1;
	if (m == JV_DNS_RESOLVED) {
		start(&b, &p->up[0], f->resolvectl);
		arg(&b, "dns");
		arg(&b, ifname);
		for (uint32_t i = 0; i < cfg->ndns; i++) {
			server_text(&cfg->dns[i], ip, sizeof(ip));
			arg(&b, ip);
		}
		full = b.full;
		/* "~.": every query goes to this link's servers, as a full
		 * tunnel wants; the search domains after it */
		start(&b, &p->up[1], f->resolvectl);
		arg(&b, "domain");
		arg(&b, ifname);
		arg(&b, "~.");
		for (uint32_t i = 0; i < cfg->ndns_search; i++)
			arg(&b, cfg->dns_search[i]);
		p->nup = 2;
	} else if (m == JV_DNS_RESOLVCONF) {
		/* -m 0: before other interfaces; -x: exclusive (openresolv) */
		start(&b, &p->up[0], f->resolvconf);
		arg(&b, "-a");
		arg(&b, ifname);
		arg(&b, "-m");
		arg(&b, "0");
		arg(&b, "-x");
		full = !resolver_lines(cfg, p->up[0].input,
				       sizeof(p->up[0].input), &off);
		p->nup = 1;
	}
	return full || b.full ? -1 : 0;
}

int jv_dns_resolv_text(const struct jv_config *cfg, const char *ifname,
		       const char *old, char *buf, size_t cap)
{
	size_t off = 0;
	int n = snprintf(buf, cap, "# jvpn: the DNS of %s while the tunnel "
			 "is up; the previous file is put back when jvpn "
			 "stops\n", ifname);

	if (n < 0 || (size_t)n >= cap)
		return -1;
	off = (size_t)n;
	if (!resolver_lines(cfg, buf, cap, &off))
		return -1;
	/* options lines of the old file: local tuning (timeout, edns0) */
	for (const char *l = old; l && *l;) {
		const char *end = strchr(l, '\n');
		size_t len = end ? (size_t)(end - l) : strlen(l);
		const char *s = l;

		while (s < l + len && (*s == ' ' || *s == '\t'))
			s++;
		if (starts(s, "options") && (s[7] == ' ' || s[7] == '\t')) {
			if (off + len + 2 > cap)
				return -1;
			memcpy(buf + off, l, len);
			off += len;
			buf[off++] = '\n';
			buf[off] = '\0';
		}
		l = end ? end + 1 : l + len;
	}
	return (int)off;
}

int jv_dns_state_path(const struct jv_config *cfg, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s.dns", cfg->control_socket);

	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

/* ---- files ---- */

/* The whole file into a malloc'd, NUL-terminated buffer: 0, -ENOENT,
 * -EFBIG (over max) or another -errno. */
static int read_all(const char *path, size_t max, char **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	char *buf;
	size_t n = 0;
	int rc = 0;

	*out = NULL;
	*len = 0;
	if (fd < 0)
		return -errno;
	if (!(buf = malloc(max + 2))) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r = read(fd, buf + n, max + 1 - n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			rc = -EFBIG;
			break;
		}
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	size_t off = 0;

	while (off < len) {
		ssize_t w = write(fd, buf + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (size_t)w;
	}
	return 0;
}

/* In place: the same inode truncated and rewritten. A rename would
 * replace a bind mount's file only on the mount's source side, or fail
 * (EBUSY) on the mount point itself. */
static int write_in_place(const char *path, const char *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int rc;

	if (fd < 0)
		return -errno;
	rc = write_all(fd, buf, len);
	if (close(fd) != 0 && rc == 0)
		rc = -errno;
	return rc;
}

static void hash_hex(const char *buf, size_t len, char out[HASH_HEX])
{
	uint8_t h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof(h), (const uint8_t *)buf, len, NULL, 0);
	sodium_bin2hex(out, HASH_HEX, h, sizeof(h));
}

/* The state file, whole or not at all: written beside, synced, renamed. */
static int write_state(const char *state, const char *head,
		       const char *orig, size_t orig_len)
{
	char tmp[JV_CFG_PATH_MAX + 8];
	int fd, rc;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", state) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, head, strlen(head));
	if (rc == 0 && orig)
		rc = write_all(fd, orig, orig_len);
	if (rc == 0 && fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (rc == 0 && rename(tmp, state) != 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

/* The header: magic, method, interface, the hash of what was written
 * ("-" for the commands) and the old file's length ("none": there was
 * none); the old file follows. */
static int state_head(char *buf, size_t cap, enum jv_dns_method m,
		      const char *ifname, const char *hash, bool has_orig,
		      size_t orig_len)
{
	char len[32];
	int n;

	snprintf(len, sizeof(len), "%zu", orig_len);
	n = snprintf(buf, cap, STATE_MAGIC "method %s\niface %s\nwritten %s\n"
		     "original %s\n", jv_dns_method_name(m), ifname, hash,
		     has_orig ? len : "none");
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int jv_dns_file_apply(const char *resolv, const char *state,
		      const char *ifname, const char *text, char *msg,
		      size_t cap)
{
	char head[512], hash[HASH_HEX], *orig = NULL;
	size_t orig_len = 0, len = strlen(text);
	int rc = read_all(resolv, JV_DNS_FILE_MAX, &orig, &orig_len);

	if (rc != 0 && rc != -ENOENT) {
		snprintf(msg, cap, "cannot read %s: %s", resolv,
			 rc == -EFBIG ? "larger than 64 KiB" : strerror(-rc));
		return -1;
	}
	hash_hex(text, len, hash);
	if (state_head(head, sizeof(head), JV_DNS_FILE, ifname, hash,
		       orig != NULL, orig_len) != 0) {
		free(orig);
		snprintf(msg, cap, "interface name too long");
		return -1;
	}
	if ((rc = write_state(state, head, orig, orig_len)) != 0) {
		snprintf(msg, cap, "cannot save %s to %s: %s", resolv, state,
			 strerror(-rc));
		free(orig);
		return -1;
	}
	if ((rc = write_in_place(resolv, text, len)) != 0) {
		snprintf(msg, cap, "cannot write %s: %s", resolv,
			 strerror(-rc));
		/* truncated, perhaps: the old text back, then no state */
		if (orig)
			(void)write_in_place(resolv, orig, orig_len);
		else
			(void)unlink(resolv);
		unlink(state);
		free(orig);
		return -1;
	}
	free(orig);
	return 0;
}

/* ---- undoing a state file ---- */

struct state {
	enum jv_dns_method method;
	char iface[IFNAMSIZ];
	char written[HASH_HEX];
	bool has_orig;
	const char *orig;               /* into the file's buffer */
	size_t orig_len;
};

/* One "KEY VALUE\n" line at *p into val; false when it is not there. */
static bool field(const char **p, const char *end, const char *key,
		  char *val, size_t cap)
{
	size_t k = strlen(key);
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	size_t n;

	if (!nl || (size_t)(nl - *p) <= k + 1 || strncmp(*p, key, k) ||
	    (*p)[k] != ' ')
		return false;
	n = (size_t)(nl - *p) - k - 1;
	if (n >= cap || memchr(*p + k + 1, ' ', n))
		return false;
	memcpy(val, *p + k + 1, n);
	val[n] = '\0';
	*p = nl + 1;
	return true;
}

static bool parse_state(const char *buf, size_t len, struct state *s)
{
	const char *p = buf, *end = buf + len;
	char method[16], orig[32], *e;
	int m;

	memset(s, 0, sizeof(*s));
	if (!starts(buf, STATE_MAGIC))
		return false;
	p += strlen(STATE_MAGIC);
	if (!field(&p, end, "method", method, sizeof(method)) ||
	    (m = jv_dns_method_of(method)) < 0 ||
	    !field(&p, end, "iface", s->iface, sizeof(s->iface)) ||
	    !field(&p, end, "written", s->written, sizeof(s->written)) ||
	    !field(&p, end, "original", orig, sizeof(orig)))
		return false;
	s->method = (enum jv_dns_method)m;
	if (strcmp(orig, "none") == 0) {
		s->orig = "";
		return p == end;
	}
	errno = 0;
	s->orig_len = strtoul(orig, &e, 10);
	if (errno || *e || e == orig || s->orig_len != (size_t)(end - p))
		return false;
	s->has_orig = true;
	s->orig = p;
	return true;
}

/* The file method: back only while it holds what jvpn wrote. */
static enum jv_dns_undo undo_file(const char *resolv, const struct state *s,
				  char *msg, size_t cap)
{
	char hash[HASH_HEX], *cur = NULL;
	size_t cur_len = 0;
	int rc = read_all(resolv, JV_DNS_FILE_MAX, &cur, &cur_len);

	if (rc != 0 && rc != -ENOENT && rc != -EFBIG) {
		snprintf(msg, cap, "cannot read %s: %s", resolv, strerror(-rc));
		return JV_DNS_FAILED;
	}
	hash_hex(cur ? cur : "", cur_len, hash);
	if (cur && strcmp(hash, s->written) == 0) {
		rc = s->has_orig ? write_in_place(resolv, s->orig, s->orig_len)
				 : (unlink(resolv) == 0 ? 0 : -errno);
		free(cur);
		if (rc) {
			snprintf(msg, cap, "cannot restore %s: %s", resolv,
				 strerror(-rc));
			return JV_DNS_FAILED;
		}
		snprintf(msg, cap, "%s restored", resolv);
		return JV_DNS_RESTORED;
	}
	if ((!cur && !s->has_orig) ||
	    (cur && s->has_orig && cur_len == s->orig_len &&
	     memcmp(cur, s->orig, cur_len) == 0)) {
		free(cur);
		snprintf(msg, cap, "%s already holds its previous contents",
			 resolv);
		return JV_DNS_UNCHANGED;
	}
	free(cur);
	snprintf(msg, cap, "%s was changed by someone else since jvpn wrote "
		 "it: left as it is", resolv);
	return JV_DNS_LEFT;
}

enum jv_dns_undo jv_dns_undo_state(const char *resolv, const char *state,
				   const struct jv_dns_facts *f, char *msg,
				   size_t cap)
{
	struct jv_dns_facts own;
	struct jv_dns_plan plan;
	enum jv_dns_undo r;
	struct state s;
	char *buf = NULL, why[128];
	size_t len = 0;
	int rc = read_all(state, JV_DNS_FILE_MAX + 512, &buf, &len);

	if (rc == -ENOENT)
		return JV_DNS_NOTHING;
	if (rc != 0 || !parse_state(buf, len, &s)) {
		snprintf(msg, cap, "%s: %s; remove it once %s is right", state,
			 rc ? strerror(-rc) : "not a jvpn DNS state file",
			 resolv);
		free(buf);
		return JV_DNS_FAILED;
	}
	if (s.method == JV_DNS_FILE) {
		r = undo_file(resolv, &s, msg, cap);
	} else {
		if (!f) {
			jv_dns_facts(&own);
			f = &own;
		}
		if (jv_dns_plan_down(s.method, f, s.iface, &plan) != 0 ||
		    !plan.down.argv[0][0]) {
			snprintf(why, sizeof(why), "%s not found",
				 s.method == JV_DNS_RESOLVED ? "resolvectl"
							     : "resolvconf");
			rc = -1;
		} else {
			rc = jv_run(plan.down.argv, NULL, NULL,
				    JV_HOOK_TIMEOUT_MS, why, sizeof(why));
		}
		/* a command that failed is said; there is nothing to keep
		 * (a crashed client's interface went, and its settings with
		 * it in resolved) */
		if (rc)
			snprintf(msg, cap, "%s %s %s: %s", plan.down.argv[0][0]
				 ? plan.down.argv[0] : jv_dns_method_name(s.method),
				 s.method == JV_DNS_RESOLVED ? "revert" : "-d",
				 s.iface, why);
		else
			snprintf(msg, cap, "%s settings of %s removed",
				 jv_dns_method_name(s.method), s.iface);
		r = rc ? JV_DNS_LEFT : JV_DNS_RESTORED;
	}
	free(buf);
	if (r != JV_DNS_FAILED)
		unlink(state);
	return r;
}

/* ---- the client's calls ---- */

void jv_dns_recover(const struct jv_config *cfg)
{
	char state[JV_CFG_PATH_MAX], msg[512];
	enum jv_dns_undo r;

	if (jv_dns_state_path(cfg, state, sizeof(state)) != 0)
		return;
	r = jv_dns_undo_state(JV_DNS_RESOLV_CONF, state, NULL, msg,
			      sizeof(msg));
	if (r != JV_DNS_NOTHING)
		fprintf(stderr, "jvpn: dns: left by a previous run (%s): %s\n",
			state, msg);
}

static int run_up(const struct jv_dns_plan *p, char *msg, size_t cap)
{
	char why[128];

	for (int i = 0; i < p->nup; i++)
		if (jv_run(p->up[i].argv, NULL,
			   p->up[i].input[0] ? p->up[i].input : NULL,
			   JV_HOOK_TIMEOUT_MS, why, sizeof(why)) != 0) {
			snprintf(msg, cap, "%s %s: %s", p->up[i].argv[0],
				 p->up[i].argv[1], why);
			return -1;
		}
	return 0;
}

int jv_dns_up(struct jv_dns *d, const struct jv_config *cfg,
	      const char *ifname, struct jv_error *err)
{
	char *text = NULL, *old = NULL, head[512], msg[512] = "", ips[256] = "";
	struct jv_dns_facts f;
	struct jv_dns_plan p;
	size_t len;
	int rc = -1;

	memset(d, 0, sizeof(*d));
	if (!cfg->ndns)
		return 0;
	if (jv_dns_state_path(cfg, d->state, sizeof(d->state)) != 0) {
		snprintf(msg, sizeof(msg), "control_socket path too long for "
			 "its state file");
		goto out;
	}
	/* one jv_dns_recover could not undo: saving over it would lose the
	 * old resolv.conf it holds */
	if (access(d->state, F_OK) == 0) {
		snprintf(msg, sizeof(msg), "%s is still there from a previous "
			 "run; remove it once %s is right", d->state,
			 JV_DNS_RESOLV_CONF);
		goto out;
	}
	jv_dns_facts(&f);
	if (jv_dns_plan(jv_dns_choose(&f), &f, cfg, ifname, &p) != 0) {
		snprintf(msg, sizeof(msg), "too many servers or domains");
		goto out;
	}
	if (p.method == JV_DNS_FILE) {
		text = malloc(JV_DNS_TEXT_MAX + JV_DNS_FILE_MAX);
		(void)read_all(JV_DNS_RESOLV_CONF, JV_DNS_FILE_MAX, &old, &len);
		if (!text)
			snprintf(msg, sizeof(msg), "out of memory");
		else if (jv_dns_resolv_text(cfg, ifname, old, text,
					    JV_DNS_TEXT_MAX + JV_DNS_FILE_MAX) < 0)
			snprintf(msg, sizeof(msg), "the new %s is too long",
				 JV_DNS_RESOLV_CONF);
		else
			rc = jv_dns_file_apply(JV_DNS_RESOLV_CONF, d->state,
					       ifname, text, msg, sizeof(msg));
	} else if (state_head(head, sizeof(head), p.method, ifname, "-",
			      false, 0) != 0) {
		snprintf(msg, sizeof(msg), "interface name too long");
	} else if ((rc = write_state(d->state, head, NULL, 0)) != 0) {
		snprintf(msg, sizeof(msg), "cannot write %s: %s", d->state,
			 strerror(-rc));
	} else if ((rc = run_up(&p, msg, sizeof(msg))) != 0) {
		char why[128];

		/* half applied (resolvectl dns but not domain) */
		(void)jv_run(p.down.argv, NULL, NULL, JV_HOOK_TIMEOUT_MS, why,
			     sizeof(why));
		unlink(d->state);
	}
out:
	free(text);
	free(old);
	if (rc != 0)
		return jv_error_set(err, JV_ERR_INVAL, cfg->file, cfg->line_dns,
				    "dns: cannot set it for %s: %s", ifname,
				    msg);
	d->applied = true;
	for (uint32_t i = 0; i < cfg->ndns; i++) {
		char ip[INET6_ADDRSTRLEN];

		server_text(&cfg->dns[i], ip, sizeof(ip));
		snprintf(ips + strlen(ips), sizeof(ips) - strlen(ips), "%s%s",
			 i ? " " : "", ip);
	}
	fprintf(stderr, "jvpn: dns: %s via %s (%s)\n", ips,
		jv_dns_method_name(p.method),
		p.method == JV_DNS_FILE ? JV_DNS_RESOLV_CONF : ifname);
	return 0;
}

void jv_dns_down(struct jv_dns *d)
{
	char msg[512];
	enum jv_dns_undo r;

	if (!d->applied)
		return;
	d->applied = false;
	r = jv_dns_undo_state(JV_DNS_RESOLV_CONF, d->state, NULL, msg,
			      sizeof(msg));
	if (r == JV_DNS_NOTHING)
		fprintf(stderr, "jvpn: dns: %s is gone; nothing to undo\n",
			d->state);
	else
		fprintf(stderr, "jvpn: dns: %s\n", msg);
}
