/* jvpn server / jvpn client: the engine driven by real I/O. One thread, one
 * epoll loop: UDP and TCP transports, the TUN device, rtnetlink link
 * state, the control socket and signals. After every callback the UDP
 * send queues are flushed and the timer follows the engine's deadline. */
#include <errno.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "cli/config.h"
#include "cli/ctl_reply.h"
#include "cli/daemon.h"
#include "cli/util.h"
#include "io/ctl.h"
#include "io/link.h"
#include "io/loop.h"
#include "io/sink.h"
#include "io/tcp.h"
#include "io/tun.h"
#include "io/udp.h"

/* Server TCP: pre-handshake connections are bounded by the gate in
 * io/tcp.h; established ones, one per session, by max_sessions up to
 * TCP_EST_CAP (each holds about 20 KiB of buffers; sessions beyond it use
 * UDP), and closed after transport_lost_ttl_ms without a datagram: by then
 * the session they served is gone. */
#define TCP_EST_CAP 4096
/* How often the idle limits are checked: a limit is kept within this. */
#define TCP_SWEEP_MS 500
/* Accepts per listener per loop turn: well below JV_TCP_PRE_MAX, so a
 * connection just accepted is read before a burst can push it out. */
#define TCP_ACCEPT_BATCH 16
/* Descriptors besides the loop's: stdio, audit log, epoll, an accept in
 * flight, and whatever libraries open. */
#define FD_SPARE 32
#define TCP_RETRY_MS 1000       /* client: reconnect delay */
#define TUN_BATCH 64
#define LOCAL6_MAX 32           /* server: IPv6 addresses answered from */

struct daemon;

struct ctransport {             /* client: one candidate */
	struct daemon *d;
	uint32_t index;
	const struct jv_transport_io_cfg *cfg;
	struct jv_udp *udp;
	struct jv_tcp_conn *tcp;
	uint64_t retry_at;          /* TCP reconnect, UINT64_MAX: none */
	bool connected;             /* TCP: told up to the engine */
	bool link_up;               /* bind_device state */
	struct jv_udp_stray stray;  /* UDP: datagrams not from the remote */
};

struct listener {               /* server: one listen entry */
	struct daemon *d;
	uint16_t index;
	const struct jv_listen_cfg *cfg;
	struct jv_udp *udp;
	int tcp_fd;
	/* the IPv6 addresses UDP datagrams arrived at, in order of first
	 * sight; never reordered, so an index names one address for good */
	struct in6_addr local6[LOCAL6_MAX];
	uint32_t nlocal6;
	bool local6_full_told;
};

struct tconn {                  /* server: one accepted TCP transport */
	struct daemon *d;
	uint32_t slot, gen;
	uint16_t listener;
	struct jv_tcp_conn *c;      /* NULL: no connection in this slot */
	bool reading, doomed;       /* dropped while being read: later */
};

struct daemon {
	struct jv_config cfg;
	struct jv_loop *loop;
	struct jv_endpoint *ep;
	struct jv_sink sink;
	struct jv_linkmon *lm;
	struct jv_ctl *ctl;
	int tun_fd, sig_fd;
	char tun_name[IFNAMSIZ];
	uint64_t started;
	bool done;
	int exit_code;
	struct ctransport tr[JV_MAX_TRANSPORTS];
	struct listener ls[JV_CFG_MAX_LISTEN];
	struct tconn *conns;        /* gate.nslots */
	struct jv_tcp_gate gate;
	uint64_t tcp_sweep_at;      /* 0: no connection to watch */
	uint8_t pkt[JV_INNER_MAX + 64];
};

static bool is_client(const struct daemon *d)
{
	return d->cfg.role == JV_ROLE_CLIENT;
}

/* ---- engine callbacks ---- */

static void tcp_interest(struct daemon *d, struct jv_tcp_conn *c)
{
	if (c->fd >= 0)
		jv_loop_mod(d->loop, c->fd, EPOLLIN | (jv_tcp_wants_write(c)
						       ? EPOLLOUT : 0));
}

/*
 * A server UDP path holds the client's address and the server address it
 * wrote to, so that replies leave from there (a gateway with several
 * addresses otherwise answers from the kernel's choice, which the client
 * drops). IPv4: the sockaddr_in, then the local address (20 bytes).
 * IPv6: the sockaddr_in6 with sin6_flowinfo (always 0 from recvmsg)
 * replaced by the local address's index in the listener's table, 1-based
 * (28 bytes). Local unknown: zeros. The same client writing to the same
 * server address always gives the same bytes; another server address is
 * another path.
 */
/* 1-based index of an IPv6 address in l's table, added on first sight;
 * 0 when unknown or the table is full (the kernel picks the source). */
static uint32_t local6_index(struct listener *l,
			     const struct jv_udp_local *local)
{
	if (local->family != AF_INET6)
		return 0;
	for (uint32_t i = 0; i < l->nlocal6; i++)
		if (IN6_ARE_ADDR_EQUAL(&l->local6[i], &local->addr.v6))
			return i + 1;
	if (l->nlocal6 == LOCAL6_MAX) {
		if (!l->local6_full_told)
			fprintf(stderr, "jvpn: %s: over %d local IPv6 "
				"addresses; replies to the rest leave from "
				"the kernel's choice\n", l->cfg->id, LOCAL6_MAX);
		l->local6_full_told = true;
		return 0;
	}
	l->local6[l->nlocal6++] = local->addr.v6;
	return l->nlocal6;
}

static void udp_path_encode(struct listener *l, const struct sockaddr *from,
			    socklen_t from_len,
			    const struct jv_udp_local *local, struct jv_path *p)
{
	p->proto = JV_PROTO_UDP;
	p->local = l->index;
	if (from->sa_family == AF_INET &&
	    from_len == sizeof(struct sockaddr_in)) {
		struct in_addr a = { 0 };

		if (local->family == AF_INET)
			a = local->addr.v4;
		memcpy(p->addr, from, from_len);
		memcpy(p->addr + from_len, &a, sizeof(a));
		p->len = (uint8_t)(from_len + sizeof(a));
	} else if (from->sa_family == AF_INET6 &&
		   from_len == sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 a;

		memcpy(&a, from, sizeof(a));
		a.sin6_flowinfo = local6_index(l, local);
		memcpy(p->addr, &a, sizeof(a));
		p->len = sizeof(a);
	} else {
		p->len = 0;
	}
}

/* The inverse: the client's address and the source to answer from.
 * Returns false for bytes no listener wrote. */
static bool udp_path_decode(const struct listener *l, const struct jv_path *p,
			    struct sockaddr_storage *to, socklen_t *to_len,
			    struct jv_udp_local *from)
{
	memset(to, 0, sizeof(*to));
	memset(from, 0, sizeof(*from));
	if (p->len == sizeof(struct sockaddr_in) + sizeof(struct in_addr)) {
		*to_len = sizeof(struct sockaddr_in);
		memcpy(to, p->addr, *to_len);
		memcpy(&from->addr.v4, p->addr + *to_len, sizeof(from->addr.v4));
		if (from->addr.v4.s_addr != htonl(INADDR_ANY))
			from->family = AF_INET;
		return to->ss_family == AF_INET;
	}
	if (p->len == sizeof(struct sockaddr_in6)) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)to;
		uint32_t idx;

		*to_len = sizeof(*a);
		memcpy(a, p->addr, sizeof(*a));
		idx = a->sin6_flowinfo;
		a->sin6_flowinfo = 0;
		if (idx && idx <= l->nlocal6) {
			from->family = AF_INET6;
			from->addr.v6 = l->local6[idx - 1];
		}
		return a->sin6_family == AF_INET6;
	}
	return false;
}

static void conn_drop(struct tconn *t)
{
	if (!t->c)
		return;
	if (t->reading) {
		t->doomed = true;
		return;
	}
	jv_loop_del(t->d->loop, t->c->fd);
	jv_tcp_close(t->c);
	free(t->c);
	t->c = NULL;
	jv_tcp_gate_release(&t->d->gate, t->slot);
}

static void conn_established(struct daemon *d, uint32_t slot)
{
	uint32_t lru;

	if (d->gate.slot[slot].state != JV_TCP_SLOT_PRE)
		return;
	/* all established slots taken: the least recently active goes */
	lru = jv_tcp_gate_promote(&d->gate, slot, jv_mono_ms());
	if (lru != JV_TCP_NONE)
		conn_drop(&d->conns[lru]);
}

static void op_send(void *ctx, const struct jv_path *path, const uint8_t *buf,
		    size_t len)
{
	struct daemon *d = ctx;

	if (is_client(d)) {
		struct ctransport *t;

		if (path->local >= d->cfg.ntransports)
			return;
		t = &d->tr[path->local];
		if (t->udp) {
			jv_udp_send(t->udp, (const struct sockaddr *)&t->cfg->remote.ss,
				    t->cfg->remote.len, NULL, buf, len);
		} else if (t->connected) {
			jv_tcp_send(t->tcp, buf, len);
			tcp_interest(d, t->tcp);
		}
		return;
	}
	if (path->proto == JV_PROTO_UDP) {
		struct sockaddr_storage to;
		struct jv_udp_local from;
		socklen_t to_len;

		if (path->local >= d->cfg.nlisten || !d->ls[path->local].udp ||
		    !udp_path_decode(&d->ls[path->local], path, &to, &to_len,
				     &from))
			return;
		jv_udp_send(d->ls[path->local].udp, (struct sockaddr *)&to,
			    to_len, &from, buf, len);
	} else {
		uint32_t slot, gen;

		memcpy(&slot, path->addr, 4);
		memcpy(&gen, path->addr + 4, 4);
		if (slot < d->gate.nslots && d->conns[slot].c &&
		    d->conns[slot].gen == gen) {
			/* the engine answers only what authenticated */
			conn_established(d, slot);
			jv_tcp_send(d->conns[slot].c, buf, len);
			tcp_interest(d, d->conns[slot].c);
		}
	}
}

static void op_deliver(void *ctx, const uint8_t *pkt, size_t len)
{
	struct daemon *d = ctx;

	/* the TUN queue full: the inner packet is lost, as on any link */
	if (write(d->tun_fd, pkt, len) < 0 && errno != EAGAIN)
		fprintf(stderr, "jvpn: %s: write: %s\n", d->tun_name,
			strerror(errno));
}

static void op_event(void *ctx, const char *line, size_t len)
{
	jv_sink_write(&((struct daemon *)ctx)->sink, line, len);
}

static void op_random(void *ctx, uint8_t *buf, size_t len)
{
	(void)ctx;
	randombytes_buf(buf, len);
}

/* Key memory stays out of swap and core dumps where RLIMIT_MEMLOCK
 * allows; past the limit it is simply not locked. */
static void op_lock(void *ctx, void *ptr, size_t len, bool on)
{
	(void)ctx;
	if (on)
		(void)sodium_mlock(ptr, len);
	else
		(void)sodium_munlock(ptr, len);
}

/* ---- after every callback ---- */

static void settle(struct daemon *d)
{
	uint64_t at = jv_endpoint_deadline(d->ep);

	for (uint32_t i = 0; i < d->cfg.ntransports; i++) {
		if (d->tr[i].udp)
			jv_udp_flush(d->tr[i].udp);
		if (d->tr[i].retry_at < at)
			at = d->tr[i].retry_at;
	}
	for (uint32_t i = 0; i < d->cfg.nlisten; i++)
		if (d->ls[i].udp)
			jv_udp_flush(d->ls[i].udp);
	if (d->tcp_sweep_at && d->tcp_sweep_at < at)
		at = d->tcp_sweep_at;
	jv_loop_set_timer(d->loop, at);
	if (is_client(d) && !d->cfg.reconnect &&
	    jv_endpoint_client_state(d->ep) == JV_STATE_TERMINATED) {
		d->done = true;
		jv_loop_stop(d->loop);
	}
}

/* ---- client transports ---- */

static void tcp_down(struct ctransport *t, uint64_t now)
{
	struct daemon *d = t->d;

	if (t->tcp->fd >= 0)
		jv_loop_del(d->loop, t->tcp->fd);
	jv_tcp_close(t->tcp);
	if (t->connected)
		jv_endpoint_transport_down(d->ep, t->index, JV_R_TRANSPORT_DEAD,
					   now);
	t->connected = false;
	t->retry_at = now + TCP_RETRY_MS;
}

/* Said, because a gateway answering from another of its addresses looks
 * from here like a dead path; rate-limited, because anyone can send. */
static void stray_udp(struct ctransport *t, const struct sockaddr *from,
		      uint64_t now)
{
	uint64_t n = jv_udp_stray_note(&t->stray, now);
	char got[80], want[80];

	if (!n)
		return;
	jv_sockaddr_format(from, got, sizeof(got));
	jv_sockaddr_format((const struct sockaddr *)&t->cfg->remote.ss, want,
			   sizeof(want));
	fprintf(stderr, "jvpn: %s: dropped %llu datagram%s from %s (expected "
		"%s)\n", t->cfg->id, (unsigned long long)n, n == 1 ? "" : "s",
		got, want);
}

static void on_client_udp_rx(void *ctx, const struct sockaddr *from,
			     socklen_t from_len,
			     const struct jv_udp_local *local, uint8_t *buf,
			     size_t len)
{
	struct ctransport *t = ctx;
	struct jv_path p = { .proto = JV_PROTO_UDP, .local = (uint16_t)t->index };
	uint64_t now = jv_mono_ms();

	(void)local;
	/* only the server answers on this socket */
	if (from_len != t->cfg->remote.len ||
	    memcmp(from, &t->cfg->remote.ss, from_len) != 0) {
		stray_udp(t, from, now);
		return;
	}
	jv_endpoint_recv(t->d->ep, &p, buf, len, now);
}

static void on_client_udp(void *ctx, uint32_t events)
{
	struct ctransport *t = ctx;

	(void)events;
	jv_udp_read(t->udp, 4, on_client_udp_rx, t);
	settle(t->d);
}

static void on_client_tcp_rx(void *ctx, uint8_t *buf, size_t len)
{
	struct ctransport *t = ctx;
	struct jv_path p = { .proto = JV_PROTO_TCP, .local = (uint16_t)t->index };

	jv_endpoint_recv(t->d->ep, &p, buf, len, jv_mono_ms());
}

static void on_client_tcp(void *ctx, uint32_t events)
{
	struct ctransport *t = ctx;
	uint64_t now = jv_mono_ms();
	int rc = 0;

	if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) {
		bool was = t->tcp->connecting;

		rc = jv_tcp_on_writable(t->tcp);
		if (rc == 0 && was && !t->tcp->connecting) {
			t->connected = true;
			jv_endpoint_transport_up(t->d->ep, t->index, now);
		}
	}
	if (rc == 0 && (events & (EPOLLIN | EPOLLHUP)))
		rc = jv_tcp_read(t->tcp, on_client_tcp_rx, t);
	if (rc < 0)
		tcp_down(t, now);
	else
		tcp_interest(t->d, t->tcp);
	settle(t->d);
}

static void tcp_connect(struct ctransport *t)
{
	const struct jv_transport_io_cfg *c = t->cfg;
	struct jv_error err;

	t->retry_at = UINT64_MAX;
	if (jv_tcp_connect(t->tcp, (const struct sockaddr *)&c->remote.ss,
			   c->remote.len,
			   (const struct sockaddr *)&c->bind_address.ss,
			   c->bind_address.len, c->bind_device, &err) != 0 ||
	    jv_loop_add(t->d->loop, t->tcp->fd, EPOLLIN | EPOLLOUT,
			on_client_tcp, t) != 0) {
		jv_tcp_close(t->tcp);
		t->retry_at = jv_mono_ms() + TCP_RETRY_MS;
	}
}

static int open_client_transport(struct daemon *d, uint32_t i,
				 struct jv_error *err)
{
	struct ctransport *t = &d->tr[i];
	const struct jv_transport_io_cfg *c = &d->cfg.transports[i];

	t->d = d;
	t->index = i;
	t->cfg = c;
	t->retry_at = UINT64_MAX;
	t->link_up = true;
	if (c->proto == JV_PROTO_TCP) {
		t->tcp = malloc(sizeof(*t->tcp));
		if (!t->tcp)
			return JV_ERR_NOMEM;
		jv_tcp_init(t->tcp);
		tcp_connect(t);
		return 0;
	}
	t->udp = malloc(sizeof(*t->udp));
	if (!t->udp)
		return JV_ERR_NOMEM;
	if (jv_udp_open(t->udp, c->remote.ss.ss_family,
			(const struct sockaddr *)&c->bind_address.ss,
			c->bind_address.len, c->bind_device, err) != 0) {
		if (c->bind_device[0] && if_nametoindex(c->bind_device) == 0) {
			jv_error_set(err, JV_ERR_INVAL, "", 0,
				     "no such device \"%s\"", c->bind_device);
			jv_config_blame(&d->cfg, c->line_bind_device, err,
					"transports[%u].bind_device", i);
		} else if (c->bind_address.len) {
			jv_config_blame(&d->cfg, c->line_bind_address, err,
					"transports[%u].bind_address", i);
		} else {
			jv_config_blame(&d->cfg, c->line, err, "transports[%u]",
					i);
		}
		return JV_ERR_INVAL;
	}
	return jv_loop_add(d->loop, t->udp->fd, EPOLLIN, on_client_udp, t);
}

/* ---- link state ---- */

static void on_link(void *ctx, const char *ifname, bool up)
{
	struct daemon *d = ctx;
	uint64_t now = jv_mono_ms();

	for (uint32_t i = 0; i < d->cfg.ntransports; i++) {
		struct ctransport *t = &d->tr[i];

		if (strcmp(t->cfg->bind_device, ifname) != 0 || t->link_up == up)
			continue;
		t->link_up = up;
		if (up)
			jv_endpoint_transport_up(d->ep, i, now);
		else
			jv_endpoint_transport_down(d->ep, i, JV_R_LINK_DOWN, now);
	}
}

static void resync_links(struct daemon *d)
{
	for (uint32_t i = 0; i < d->cfg.ntransports; i++)
		if (d->tr[i].cfg->bind_device[0])
			on_link(d, d->tr[i].cfg->bind_device,
				jv_link_state(d->tr[i].cfg->bind_device) == 1);
}

static void on_linkmon(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;

	(void)events;
	/* an overrun lost messages: ask the kernel for the current state */
	if (jv_linkmon_read(d->lm, on_link, d) == JV_ERR_FULL)
		resync_links(d);
	settle(d);
}

/* ---- server listeners ---- */

static void on_server_udp_rx(void *ctx, const struct sockaddr *from,
			     socklen_t from_len,
			     const struct jv_udp_local *local, uint8_t *buf,
			     size_t len)
{
	struct listener *l = ctx;
	struct jv_path p;

	udp_path_encode(l, from, from_len, local, &p);
	if (!p.len)
		return;
	jv_endpoint_recv(l->d->ep, &p, buf, len, jv_mono_ms());
}

static void on_server_udp(void *ctx, uint32_t events)
{
	struct listener *l = ctx;

	(void)events;
	jv_udp_read(l->udp, 4, on_server_udp_rx, l);
	settle(l->d);
}

static void on_conn_rx(void *ctx, uint8_t *buf, size_t len)
{
	struct tconn *t = ctx;
	struct jv_path p = { .proto = JV_PROTO_TCP, .local = t->listener,
			     .len = 8 };
	uint64_t now = jv_mono_ms();

	memcpy(p.addr, &t->slot, 4);
	memcpy(p.addr + 4, &t->gen, 4);
	jv_tcp_gate_seen(&t->d->gate, t->slot, now);
	jv_endpoint_recv(t->d->ep, &p, buf, len, now);
}

static void on_conn(void *ctx, uint32_t events)
{
	struct tconn *t = ctx;
	struct daemon *d = t->d;
	int rc = 0;

	if (events & EPOLLOUT)
		rc = jv_tcp_on_writable(t->c);
	if (rc == 0 && (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		t->reading = true;
		rc = jv_tcp_read(t->c, on_conn_rx, t);
		t->reading = false;
	}
	if (rc < 0 || t->doomed) {
		/* the session stays: its client will reattach elsewhere */
		t->doomed = false;
		conn_drop(t);
	} else {
		tcp_interest(d, t->c);
	}
	settle(d);
}

/* Closes the connections past their idle limits (io/tcp.h gate). */
static void tcp_sweep(struct daemon *d, uint64_t now)
{
	uint64_t idle = jv_endpoint_policy(d->ep)->transport_lost_ttl_ms;
	bool live = false;

	for (uint32_t i = 0; i < d->gate.nslots; i++) {
		if (!d->conns[i].c)
			continue;
		if (jv_tcp_gate_expired(&d->gate, i, now, idle))
			conn_drop(&d->conns[i]);
		else
			live = true;
	}
	d->tcp_sweep_at = live ? now + TCP_SWEEP_MS : 0;
}

static void on_server_tcp(void *ctx, uint32_t events)
{
	struct listener *l = ctx;
	struct daemon *d = l->d;

	(void)events;
	for (int n = 0; n < TCP_ACCEPT_BATCH; n++) {
		struct sockaddr_storage peer;
		socklen_t plen;
		struct tconn *t;
		uint64_t now = jv_mono_ms();
		bool evict;
		int fd = jv_tcp_accept(l->tcp_fd, &peer, &plen);

		if (fd < 0)
			break;
		/* always admitted; at the bound an older pre-handshake
		 * connection makes room */
		t = &d->conns[jv_tcp_gate_admit(&d->gate,
						(struct sockaddr *)&peer, now,
						&evict)];
		if (evict && t->c) {
			jv_loop_del(d->loop, t->c->fd);
			jv_tcp_close(t->c);
		}
		if (!t->c && !(t->c = malloc(sizeof(*t->c)))) {
			close(fd);
			jv_tcp_gate_release(&d->gate, t->slot);
			continue;
		}
		jv_tcp_adopt(t->c, fd);
		t->gen++;
		t->listener = l->index;
		if (jv_loop_add(d->loop, fd, EPOLLIN, on_conn, t) != 0) {
			conn_drop(t);
			continue;
		}
		if (!d->tcp_sweep_at)
			d->tcp_sweep_at = now + TCP_SWEEP_MS;
	}
	settle(d);
}

/* Bound to every address: replies must name the one each request
 * came to. A socket bound to one address answers from it anyway. */
static bool is_wildcard(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET)
		return ((const struct sockaddr_in *)ss)->sin_addr.s_addr ==
		       htonl(INADDR_ANY);
	if (ss->ss_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(
			&((const struct sockaddr_in6 *)ss)->sin6_addr);
	return false;
}

static int open_listener(struct daemon *d, uint32_t i, struct jv_error *err)
{
	struct listener *l = &d->ls[i];
	const struct jv_listen_cfg *c = &d->cfg.listen[i];

	l->d = d;
	l->index = (uint16_t)i;
	l->cfg = c;
	l->tcp_fd = -1;
	if (c->proto == JV_PROTO_TCP) {
		l->tcp_fd = jv_tcp_listen((const struct sockaddr *)&c->addr.ss,
					  c->addr.len, err);
		if (l->tcp_fd < 0) {
			jv_config_blame(&d->cfg, c->line_address, err,
					"listen[%u].address", i);
			return JV_ERR_INVAL;
		}
		return jv_loop_add(d->loop, l->tcp_fd, EPOLLIN, on_server_tcp, l);
	}
	l->udp = malloc(sizeof(*l->udp));
	if (!l->udp)
		return JV_ERR_NOMEM;
	if (jv_udp_open(l->udp, c->addr.ss.ss_family,
			(const struct sockaddr *)&c->addr.ss, c->addr.len, NULL,
			err) != 0 ||
	    (is_wildcard(&c->addr.ss) && jv_udp_track_local(l->udp, err) != 0)) {
		jv_config_blame(&d->cfg, c->line_address, err,
				"listen[%u].address", i);
		return JV_ERR_INVAL;
	}
	return jv_loop_add(d->loop, l->udp->fd, EPOLLIN, on_server_udp, l);
}

/* ---- TUN, timer, signals ---- */

static void on_tun(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;

	(void)events;
	for (int i = 0; i < TUN_BATCH; i++) {
		ssize_t n = read(d->tun_fd, d->pkt, sizeof(d->pkt));

		if (n <= 0)
			break;
		jv_endpoint_send_inner(d->ep, d->pkt, (size_t)n, jv_mono_ms());
	}
	settle(d);
}

static void on_timer(void *ctx)
{
	struct daemon *d = ctx;
	uint64_t now = jv_mono_ms();

	jv_endpoint_tick(d->ep, now);
	if (d->tcp_sweep_at && now >= d->tcp_sweep_at)
		tcp_sweep(d, now);
	for (uint32_t i = 0; i < d->cfg.ntransports; i++)
		if (d->tr[i].tcp && d->tr[i].retry_at <= now)
			tcp_connect(&d->tr[i]);
	settle(d);
}

static void shutdown_now(struct daemon *d, const char *why)
{
	fprintf(stderr, "jvpn: %s: %s, terminating sessions\n",
		d->cfg.node_id, why);
	/* the peer is told; events say why */
	jv_endpoint_terminate(d->ep, NULL, JV_R_OPERATOR_TERMINATED,
			      jv_mono_ms());
	settle(d);
	for (uint32_t i = 0; i < d->cfg.ntransports; i++)
		if (d->tr[i].tcp && d->tr[i].tcp->fd >= 0)
			jv_tcp_on_writable(d->tr[i].tcp);
	for (uint32_t i = 0; d->conns && i < d->gate.nslots; i++)
		if (d->conns[i].c)
			jv_tcp_on_writable(d->conns[i].c);
	d->done = true;
	jv_loop_stop(d->loop);
}

static void on_signal(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;
	struct signalfd_siginfo si;
	struct jv_error err;

	(void)events;
	while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			if (jv_sink_reopen(&d->sink, &err) != 0)
				jv_print_error(&err);
		} else {
			shutdown_now(d, si.ssi_signo == SIGINT ? "SIGINT"
							       : "SIGTERM");
			return;
		}
	}
}

/* ---- control socket ---- */

static json_t *ctl_handler(void *ctx, const char *cmd, json_t *args)
{
	struct daemon *d = ctx;
	struct jv_ctl_node n = { d->ep, d->cfg.node_id, d->cfg.role, d->started };
	json_t *r = jv_ctl_dispatch(&n, cmd, args, jv_mono_ms());

	settle(d);
	return r;
}

/* ---- setup and teardown ---- */

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_fd < 0)
		return -errno;
	return jv_loop_add(d->loop, d->sig_fd, EPOLLIN, on_signal, d);
}

/* Sizes the server's TCP connection table and the loop for the configured
 * max_sessions, within the descriptors the process may open. */
static int setup_tcp_server(struct daemon *d, struct jv_error *err)
{
	uint32_t est = d->cfg.max_sessions < TCP_EST_CAP ? d->cfg.max_sessions
							 : TCP_EST_CAP;
	uint32_t fixed = 4 + d->cfg.nlisten + JV_CTL_FDS + FD_SPARE;
	struct rlimit rl;
	int rc;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)fixed + JV_TCP_PRE_MAX + est) {
		rlim_t want = (rlim_t)fixed + JV_TCP_PRE_MAX + est;

		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		/* what cannot be opened is not promised: fewer TCP sessions */
		if (rl.rlim_cur < (rlim_t)fixed + JV_TCP_PRE_MAX + 1)
			return jv_error_set(err, JV_ERR_INVAL, "", 0,
					    "too few file descriptors allowed "
					    "(ulimit -n %llu)",
					    (unsigned long long)rl.rlim_cur);
		if (rl.rlim_cur < (rlim_t)fixed + JV_TCP_PRE_MAX + est)
			est = (uint32_t)(rl.rlim_cur - fixed - JV_TCP_PRE_MAX);
	}
	rc = jv_tcp_gate_init(&d->gate, JV_TCP_PRE_MAX, JV_TCP_PRE_PER_SOURCE,
			      est);
	if (rc != 0)
		return rc;
	d->conns = calloc(d->gate.nslots, sizeof(*d->conns));
	if (!d->conns)
		return JV_ERR_NOMEM;
	for (uint32_t i = 0; i < d->gate.nslots; i++) {
		d->conns[i].d = d;
		d->conns[i].slot = i;
	}
	/* every owner has its own bound (the gate, JV_CTL_MAX_CLIENTS): a
	 * loop sized for their sum never turns one away for another */
	if (jv_loop_reserve(d->loop, fixed - FD_SPARE + d->gate.nslots) != 0)
		return JV_ERR_NOMEM;
	return 0;
}

static int setup_io(struct daemon *d, struct jv_error *err)
{
	const struct jv_tun_cfg *tc = &d->cfg.tun;
	int rc;

	/* the I/O layer knows no config file: errors name the key here */
	if ((rc = jv_sink_open(&d->sink, d->cfg.audit_path, err)) != 0) {
		jv_config_blame(&d->cfg, d->cfg.line_audit_path, err,
				"audit.path");
		return rc;
	}
	if ((rc = jv_tun_open(tc->name, &d->tun_fd, d->tun_name, err)) != 0) {
		jv_config_blame(&d->cfg, tc->line_name, err, "tun.name");
		return rc;
	}
	if ((rc = jv_tun_configure(d->tun_name, tc->addr, tc->prefix, tc->mtu,
				   err)) != 0) {
		jv_config_blame(&d->cfg, tc->line, err, "tun");
		return rc;
	}
	if (jv_loop_add(d->loop, d->tun_fd, EPOLLIN, on_tun, d) != 0 ||
	    setup_signals(d) != 0)
		return jv_error_set(err, JV_ERR_INVAL, d->cfg.file, 0,
				    "cannot set up the event loop");
	if (is_client(d)) {
		for (uint32_t i = 0; i < d->cfg.ntransports; i++)
			if ((rc = open_client_transport(d, i, err)) != 0)
				return rc;
		if ((rc = jv_linkmon_open(&d->lm, err)) != 0) {
			jv_config_blame(&d->cfg, 0, err, NULL);
			return rc;
		}
		if ((rc = jv_loop_add(d->loop, jv_linkmon_fd(d->lm), EPOLLIN,
				      on_linkmon, d)) != 0)
			return jv_error_set(err, rc, d->cfg.file, 0,
					    "cannot set up the event loop");
	} else {
		if ((rc = setup_tcp_server(d, err)) != 0)
			return rc;
		for (uint32_t i = 0; i < d->cfg.nlisten; i++)
			if ((rc = open_listener(d, i, err)) != 0)
				return rc;
	}
	if ((rc = jv_ctl_open(&d->ctl, d->loop, d->cfg.control_socket,
			      ctl_handler, d, err)) != 0)
		jv_config_blame(&d->cfg, d->cfg.line_control_socket, err,
				"control_socket");
	return rc;
}

static int setup_engine(struct daemon *d)
{
	struct jv_endpoint_cfg ec;
	uint64_t now = jv_mono_ms();
	int rc;

	jv_config_endpoint(&d->cfg, &ec);
	ec.ops = (struct jv_endpoint_ops){ op_send, op_deliver, op_event,
					   op_random, op_lock };
	ec.ctx = d;
	/* events carry Unix time; the engine runs on the monotonic clock */
	ec.ts_offset_ms = (int64_t)(jv_wall_ms() - now);
	rc = jv_endpoint_new(&ec, now, &d->ep);
	sodium_memzero(&ec.private_key, sizeof(ec.private_key));
	if (rc != 0)
		return rc;
	if (is_client(d)) {
		for (uint32_t i = 0; i < d->cfg.ntransports; i++) {
			if (d->tr[i].tcp && !d->tr[i].connected)
				jv_endpoint_transport_down(d->ep, i,
							   JV_R_TRANSPORT_DEAD,
							   now);
		}
		resync_links(d);
		jv_endpoint_start(d->ep, now);
	}
	return 0;
}

static void teardown(struct daemon *d)
{
	if (d->ctl)
		jv_ctl_close(d->ctl);
	if (d->ep)
		jv_endpoint_free(d->ep);   /* wipes the session keys */
	for (uint32_t i = 0; i < JV_MAX_TRANSPORTS; i++) {
		if (d->tr[i].udp) {
			jv_udp_close(d->tr[i].udp);
			free(d->tr[i].udp);
		}
		if (d->tr[i].tcp) {
			jv_tcp_close(d->tr[i].tcp);
			free(d->tr[i].tcp);
		}
	}
	for (uint32_t i = 0; i < JV_CFG_MAX_LISTEN; i++) {
		if (d->ls[i].udp) {
			jv_udp_close(d->ls[i].udp);
			free(d->ls[i].udp);
		}
		if (d->ls[i].tcp_fd >= 0)
			close(d->ls[i].tcp_fd);
	}
	for (uint32_t i = 0; d->conns && i < d->gate.nslots; i++)
		conn_drop(&d->conns[i]);
	free(d->conns);
	jv_tcp_gate_free(&d->gate);
	if (d->lm)
		jv_linkmon_close(d->lm);
	if (d->tun_fd >= 0)
		close(d->tun_fd);            /* the device goes with it */
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	jv_sink_close(&d->sink);
	jv_loop_free(d->loop);
	jv_config_wipe(&d->cfg);
}

static void usage(FILE *f, const char *role)
{
	fprintf(f,
		"usage: jvpn %s -c FILE\n"
		"\n"
		"Runs a jvpn %s in the foreground with the configuration in FILE\n"
		"(docs: README.md, examples/%s.yaml). Audit events go to the\n"
		"configured audit path; SIGHUP reopens it; SIGINT or SIGTERM\n"
		"terminates every session (the peer is told) and exits.\n"
		"\n"
		"Exit: 0 after a clean shutdown, 1 on a runtime failure, 2 on a bad\n"
		"configuration or bad usage.\n",
		role, role, role);
}

int jv_daemon_main(int argc, char **argv, enum jv_role role)
{
	const char *name = role == JV_ROLE_CLIENT ? "client" : "server";
	struct daemon *d;
	struct jv_error err = { .file = "-" };   /* printable if a path forgets it */
	const char *file = NULL;
	int rc;

	if (jv_wants_help(argc, argv)) {
		usage(stdout, name);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "-c") == 0)
		file = argv[2];
	if (!file) {
		usage(stderr, name);
		return 2;
	}
	d = calloc(1, sizeof(*d));
	if (!d || sodium_init() < 0)
		return 1;
	d->tun_fd = d->sig_fd = -1;
	for (uint32_t i = 0; i < JV_CFG_MAX_LISTEN; i++)
		d->ls[i].tcp_fd = -1;
	if (jv_config_load(&d->cfg, file, &err) != 0) {
		jv_print_error(&err);
		free(d);
		return 2;
	}
	if (d->cfg.role != role) {
		fprintf(stderr, "jvpn: %s: role is %s; use `jvpn %s -c %s`\n",
			file, role == JV_ROLE_CLIENT ? "server" : "client",
			role == JV_ROLE_CLIENT ? "server" : "client", file);
		jv_config_wipe(&d->cfg);
		free(d);
		return 2;
	}
	d->started = jv_mono_ms();
	rc = jv_loop_new(&d->loop);
	if (rc == 0)
		jv_loop_on_timer(d->loop, on_timer, d);
	if (rc == 0 && (rc = setup_io(d, &err)) != 0)
		jv_print_error(&err);
	if (rc == 0 && (rc = setup_engine(d)) != 0)
		fprintf(stderr, "jvpn: cannot start the engine (%d)\n", rc);
	if (rc == 0) {
		fprintf(stderr, "jvpn: %s %s running on %s\n", name,
			d->cfg.node_id, d->tun_name);
		settle(d);
		if (!d->done && jv_loop_run(d->loop) != 0)
			rc = 1;
	}
	teardown(d);
	free(d);
	return rc == 0 ? 0 : 1;
}
