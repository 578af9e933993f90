/* The server driver: the gateway's listeners. UDP datagrams answered
 * from the address they came to (the sticky source), accepted TCP
 * connections admitted through the gate of io/tcp.h, one established
 * connection per session. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cli/drv.h"

/* Pre-handshake connections are bounded by the gate in io/tcp.h;
 * established ones, one per session, by max_sessions up to TCP_EST_CAP
 * (each holds about 20 KiB of buffers; sessions beyond it use UDP), and
 * closed after transport_lost_ttl_ms without a datagram: by then the
 * session they served is gone. */
#define TCP_EST_CAP 4096
/* How often the idle limits are checked: a limit is kept within this. */
#define TCP_SWEEP_MS 500
/* Accepts per listener per loop turn: well below JV_TCP_PRE_MAX, so a
 * connection just accepted is read before a burst can push it out. */
#define TCP_ACCEPT_BATCH 16
/* Connected UDP sockets, one per bound session path (io/udp.h), at most
 * max_sessions and this many (each is a descriptor and ~1 KiB in the
 * kernel); sessions beyond them are read from the listener. */
#define UDP_CONN_CAP 4096
/* recvmmsg batches per turn: a listener that shares the loop with session
 * sockets reads one batch, so a flood at it delays a session's datagrams
 * by one batch's cost at most; a session socket reads as many as the
 * listener alone does. */
#define UDP_ROUNDS_SHARED 1
/* The UDP listener's receive buffer: the kernel's usual default, not the
 * 4 MiB of the sessions' own sockets (io/udp.c). The listener carries
 * handshakes and a session's first packets on a new path; a flood keeps
 * it full, and with 4 MiB there a new client's handshake took 1.8 s to
 * never (bench/flood.sh, full-rate phases) while the server read more
 * of the flood at the tunnel's expense (0.73 to 0.79 of its throughput);
 * with this, 0.3 to 0.8 s and 0.91 (docs/PERFORMANCE.md). Sessions
 * without a socket of their own (beyond UDP_CONN_CAP) are read here too. */
#define LISTEN_RCVBUF 212992
#define UDP_ROUNDS 4
/* Descriptors besides the loop's: stdio, audit log, epoll, an accept in
 * flight, and whatever libraries open. */
#define FD_SPARE 32
#define LOCAL6_MAX 32           /* IPv6 addresses answered from */

struct server;

struct listener {               /* one listen entry */
	struct server *s;
	uint16_t index;
	const struct jv_listen_cfg *cfg;
	struct jv_udp *udp;
	int tcp_fd;
	/* the IPv6 addresses UDP datagrams arrived at, in order of first
	 * sight; never reordered, so an index names one address for good */
	struct in6_addr local6[LOCAL6_MAX];
	uint32_t nlocal6;
	bool local6_full_told;
	bool dual;                  /* [::] taking IPv4 clients (mapped) */
};

struct tconn {                  /* one accepted TCP transport */
	struct server *s;
	uint32_t slot, gen;
	uint16_t listener;
	struct jv_tcp_conn *c;      /* NULL: no connection in this slot */
	struct sockaddr_storage peer;   /* the client's address and port */
	bool reading, doomed;       /* dropped while being read: later */
};

struct uconn {                  /* a bound session path's own socket */
	struct server *s;
	struct jv_path path;        /* path.len 0: a free entry */
	uint32_t refs;              /* sessions bound to the path */
	int fd;
	uint32_t ovfl;              /* its drop count (jv_udp_read_fd) */
	bool reading, doomed;       /* let go while being read: later */
};

struct server {
	struct daemon *d;
	struct uconn *uconns;       /* nuconns_cap entries */
	uint32_t nuconns_cap, nuconns;
	struct listener ls[JV_CFG_MAX_LISTEN];
	uint32_t nls;               /* opened so far */
	struct tconn *conns;        /* gate.nslots */
	struct jv_tcp_gate gate;
	uint64_t tcp_sweep_at;      /* 0: no connection to watch */
};

static struct server *server_of(struct daemon *d)
{
	return d->priv;
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
	/* the source prefix the engine rate-limits handshakes by: the IPv4
	 * address, or the /64 of the IPv6 one (on_udp_rx unmaps an IPv4
	 * client of a dual-stack socket first, so none hides in the one
	 * /64 of every mapped address) */
	p->src_off = (uint8_t)(from->sa_family == AF_INET
				       ? offsetof(struct sockaddr_in, sin_addr)
				       : offsetof(struct sockaddr_in6, sin6_addr));
	p->src_len = from->sa_family == AF_INET ? 4 : 8;
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

/* An IPv4 path of a dual-stack listener, back in the IPv4-mapped form
 * its IPv6 socket sends to and from (IPV6_PKTINFO takes a mapped
 * source). */
static void map_path(struct sockaddr_storage *to, socklen_t *to_len,
		     struct jv_udp_local *from)
{
	struct sockaddr_in a4;
	struct sockaddr_in6 a6;

	memcpy(&a4, to, sizeof(a4));
	jv_sockaddr_map(&a4, &a6);
	memcpy(to, &a6, sizeof(a6));
	*to_len = sizeof(a6);
	if (from->family == AF_INET) {
		a4.sin_addr = from->addr.v4;
		jv_sockaddr_map(&a4, &a6);
		from->family = AF_INET6;
		from->addr.v6 = a6.sin6_addr;
	}
}

static void conn_drop(struct tconn *t)
{
	if (!t->c)
		return;
	if (t->reading) {
		t->doomed = true;
		return;
	}
	jv_loop_del(t->s->d->loop, t->c->fd);
	jv_tcp_close(t->c);
	free(t->c);
	t->c = NULL;
	jv_tcp_gate_release(&t->s->gate, t->slot);
}

static void conn_established(struct server *s, uint32_t slot)
{
	uint32_t lru;

	if (s->gate.slot[slot].state != JV_TCP_SLOT_PRE)
		return;
	/* all established slots taken: the least recently active goes */
	lru = jv_tcp_gate_promote(&s->gate, slot, jv_mono_ms());
	if (lru != JV_TCP_NONE)
		conn_drop(&s->conns[lru]);
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

static void on_udp_rx(void *ctx, const struct sockaddr *from,
			     socklen_t from_len,
			     const struct jv_udp_local *local, uint8_t *buf,
			     size_t len)
{
	struct listener *l = ctx;
	struct sockaddr_storage v4;
	struct jv_udp_local l4;
	struct jv_path p;

	/* an IPv4 client of a dual-stack listener: its path, rate limit and
	 * `remote` are IPv4 ones, as if it had come to 0.0.0.0 */
	if (from->sa_family == AF_INET6 && local->family != AF_INET &&
	    from_len <= sizeof(v4)) {
		memcpy(&v4, from, from_len);
		if (jv_sockaddr_unmap(&v4, &from_len)) {
			from = (const struct sockaddr *)&v4;
			memset(&l4, 0, sizeof(l4));
			if (local->family == AF_INET6 &&
			    IN6_IS_ADDR_V4MAPPED(&local->addr.v6)) {
				l4.family = AF_INET;
				memcpy(&l4.addr.v4, &local->addr.v6.s6_addr[12], 4);
			}
			local = &l4;
		}
	}
	udp_path_encode(l, from, from_len, local, &p);
	if (!p.len)
		return;
	jv_endpoint_recv(l->s->d->ep, &p, buf, len, jv_mono_ms());
}

static void on_udp(void *ctx, uint32_t events)
{
	struct listener *l = ctx;

	(void)events;
	jv_udp_read(l->udp, l->s->nuconns ? UDP_ROUNDS_SHARED : UDP_ROUNDS,
		    on_udp_rx, l);
	jv_daemon_settle(l->s->d);
}

/* ---- a socket of its own for each session's bound UDP path ---- */

static void uconn_close(struct uconn *u)
{
	if (u->reading) {
		u->doomed = true;
		return;
	}
	jv_loop_del(u->s->d->loop, u->fd);
	close(u->fd);
	u->fd = -1;
	u->refs = 0;
	u->doomed = false;
	u->path.len = 0;
	u->s->nuconns--;
}

static void on_uconn(void *ctx, uint32_t events)
{
	struct uconn *u = ctx;
	struct server *s = u->s;

	(void)events;
	u->reading = true;
	/* read through the listener: its buffers, its path encoding, so a
	 * session's datagrams name the same path whichever socket they took */
	jv_udp_read_fd(s->ls[u->path.local].udp, u->fd, &u->ovfl, UDP_ROUNDS,
		       on_udp_rx, &s->ls[u->path.local]);
	u->reading = false;
	if (u->doomed)
		uconn_close(u);
	jv_daemon_settle(s->d);
}

static struct uconn *uconn_find(struct server *s, const struct jv_path *p)
{
	for (uint32_t i = 0; i < s->nuconns_cap; i++) {
		struct uconn *u = &s->uconns[i];

		if (u->path.len && u->path.local == p->local &&
		    u->path.len == p->len &&
		    memcmp(u->path.addr, p->addr, p->len) == 0)
			return u;
	}
	return NULL;
}

/* The local end of a bound path: the address the client wrote to (or the
 * listener's own, when bound to one) and the listener's port. */
static bool uconn_local(const struct listener *l,
			const struct jv_udp_local *from,
			struct sockaddr_storage *ss, socklen_t *len)
{
	const struct sockaddr_storage *b = &l->cfg->addr.ss;

	*ss = *b;
	*len = l->cfg->addr.len;
	if (from->family == AF_INET && b->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_addr = from->addr.v4;
	else if (from->family == AF_INET6 && b->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_addr = from->addr.v6;
	else if (from->family || is_wildcard(b))
		return false;   /* the address it came to is unknown */
	return true;
}

/* The engine bound a session to path, or let it go: a UDP path gets a
 * connected socket while a session is bound to it. Best effort: a path
 * without one (no room, a socket error) is read from the listener. */
static void server_path_bound(struct daemon *d, const struct jv_path *p,
			      bool bound)
{
	struct server *s = server_of(d);
	struct sockaddr_storage to, local;
	struct jv_udp_local from;
	socklen_t to_len, local_len;
	struct listener *l;
	struct uconn *u;
	int fd;

	if (p->proto != JV_PROTO_UDP || p->local >= s->nls ||
	    !(l = &s->ls[p->local])->udp)
		return;
	u = uconn_find(s, p);
	if (!bound) {
		if (u && u->refs && --u->refs == 0)
			uconn_close(u);
		return;
	}
	if (u) {
		/* let go and bound again within one read */
		u->doomed = false;
		u->refs++;
		return;
	}
	if (s->nuconns == s->nuconns_cap ||
	    !udp_path_decode(l, p, &to, &to_len, &from) ||
	    !uconn_local(l, &from, &local, &local_len))
		return;
	fd = jv_udp_connected_open(l->udp, (struct sockaddr *)&local,
				   local_len, (struct sockaddr *)&to, to_len);
	if (fd < 0)
		return;
	for (uint32_t i = 0; i < s->nuconns_cap; i++)
		if (!s->uconns[i].path.len) {
			u = &s->uconns[i];
			break;
		}
	if (!u || jv_loop_add(d->loop, fd, EPOLLIN, on_uconn, u) != 0) {
		close(fd);
		return;
	}
	u->path = *p;
	u->refs = 1;
	u->fd = fd;
	u->ovfl = 0;
	s->nuconns++;
}

static void on_conn_rx(void *ctx, uint8_t *buf, size_t len)
{
	struct tconn *t = ctx;
	const struct jv_tcp_slot *g = &t->s->gate.slot[t->slot];
	struct jv_path p = { .proto = JV_PROTO_TCP, .local = t->listener,
			     .len = (uint8_t)(8 + g->srclen), .src_off = 8,
			     .src_len = g->srclen };
	uint64_t now = jv_mono_ms();

	/* the connection, then its source prefix (the gate's: the IPv4
	 * address or the IPv6 /64) for the engine's handshake rate limit */
	memcpy(p.addr, &t->slot, 4);
	memcpy(p.addr + 4, &t->gen, 4);
	memcpy(p.addr + 8, g->src, g->srclen);
	jv_tcp_gate_seen(&t->s->gate, t->slot, now);
	jv_endpoint_recv(t->s->d->ep, &p, buf, len, now);
}

static void on_conn(void *ctx, uint32_t events)
{
	struct tconn *t = ctx;
	struct daemon *d = t->s->d;
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
		jv_daemon_tcp_interest(d, t->c);
	}
	jv_daemon_settle(d);
}

/* Closes the connections past their idle limits (io/tcp.h gate). */
static void tcp_sweep(struct server *s, uint64_t now)
{
	uint64_t idle = jv_endpoint_policy(s->d->ep)->transport_lost_ttl_ms;
	bool live = false;

	for (uint32_t i = 0; i < s->gate.nslots; i++) {
		if (!s->conns[i].c)
			continue;
		if (jv_tcp_gate_expired(&s->gate, i, now, idle))
			conn_drop(&s->conns[i]);
		else
			live = true;
	}
	s->tcp_sweep_at = live ? now + TCP_SWEEP_MS : 0;
}

static void on_accept(void *ctx, uint32_t events)
{
	struct listener *l = ctx;
	struct server *s = l->s;
	struct daemon *d = s->d;

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
		/* an IPv4 client of a dual-stack listener: IPv4 it is */
		jv_sockaddr_unmap(&peer, &plen);
		/* always admitted; at the bound an older pre-handshake
		 * connection makes room */
		t = &s->conns[jv_tcp_gate_admit(&s->gate,
						(struct sockaddr *)&peer, now,
						&evict)];
		if (evict && t->c) {
			jv_loop_del(d->loop, t->c->fd);
			jv_tcp_close(t->c);
		}
		if (!t->c && !(t->c = malloc(sizeof(*t->c)))) {
			close(fd);
			jv_tcp_gate_release(&s->gate, t->slot);
			continue;
		}
		jv_tcp_adopt(t->c, fd);
		t->peer = peer;
		t->gen++;
		t->listener = l->index;
		if (jv_loop_add(d->loop, fd, EPOLLIN, on_conn, t) != 0) {
			conn_drop(t);
			continue;
		}
		if (!s->tcp_sweep_at)
			s->tcp_sweep_at = now + TCP_SWEEP_MS;
	}
	jv_daemon_settle(d);
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET
		       ? ((const struct sockaddr_in *)ss)->sin_port
		       : ((const struct sockaddr_in6 *)ss)->sin6_port;
}

/* "[::]:PORT" takes IPv4 clients too (as wg and most daemons do), unless
 * an IPv4 listener of the same protocol has that port: then the two
 * sockets split the families (both binds would clash otherwise). */
static bool dual_stack(const struct jv_config *cfg, uint32_t i)
{
	const struct jv_listen_cfg *c = &cfg->listen[i];

	if (c->addr.ss.ss_family != AF_INET6 || !is_wildcard(&c->addr.ss))
		return false;
	for (uint32_t j = 0; j < cfg->nlisten; j++)
		if (cfg->listen[j].proto == c->proto &&
		    cfg->listen[j].addr.ss.ss_family == AF_INET &&
		    port_of(&cfg->listen[j].addr.ss) == port_of(&c->addr.ss))
			return false;
	return true;
}

static int open_listener(struct daemon *d, uint32_t i, struct jv_error *err)
{
	struct server *s = server_of(d);
	struct listener *l = &s->ls[i];
	const struct jv_listen_cfg *c = &d->cfg.listen[i];
	bool dual = dual_stack(&d->cfg, i);
	int rc;

	l->s = s;
	l->index = (uint16_t)i;
	l->cfg = c;
	l->tcp_fd = -1;
	l->dual = dual;
	if (c->proto == JV_PROTO_TCP) {
		l->tcp_fd = jv_tcp_listen((const struct sockaddr *)&c->addr.ss,
					  c->addr.len, dual, err);
		if (l->tcp_fd < 0) {
			jv_config_blame(&d->cfg, c->line_address, err,
					"listen[%u].address", i);
			return JV_ERR_INVAL;
		}
		return jv_loop_add(d->loop, l->tcp_fd, EPOLLIN, on_accept, l);
	}
	l->udp = malloc(sizeof(*l->udp));
	if (!l->udp)
		return JV_ERR_NOMEM;
	if (jv_udp_open(l->udp, c->addr.ss.ss_family,
			(const struct sockaddr *)&c->addr.ss, c->addr.len, NULL,
			dual, err) != 0 ||
	    (is_wildcard(&c->addr.ss) && jv_udp_track_local(l->udp, err) != 0)) {
		jv_config_blame(&d->cfg, c->line_address, err,
				"listen[%u].address", i);
		return JV_ERR_INVAL;
	}
	l->udp->tx_dropped_to = &d->drops[JV_DROP_UDP_SEND];
	l->udp->rx_overflow_to = &d->drops[JV_DROP_UDP_RX_QUEUE];
	l->udp->gso_sends_to = &d->udp_gso;
	l->udp->rx_gro_to = &d->udp_gro;
	if (d->udp_pool)
		(void)jv_udp_use_pool(l->udp, d->udp_pool);
	jv_udp_set_rcvbuf(l->udp, LISTEN_RCVBUF);
	/* without it the sessions' own sockets fail to bind, and every
	 * datagram is read here, as before them */
	if (jv_udp_share(l->udp) != 0)
		fprintf(stderr, "jvpn: %s: cannot share port (SO_REUSEPORT): "
			"sessions are read from the listener\n", c->id);
	rc = jv_loop_add(d->loop, l->udp->fd, EPOLLIN, on_udp, l);
	/* the sessions' own sockets first: a flood keeps a listener busy */
	return rc ? rc : jv_loop_set_late(d->loop, l->udp->fd, true);
}

/* Sizes the server's TCP connection table, its connected UDP sockets and
 * the loop for the configured max_sessions, within the descriptors the
 * process may open. */
static int setup_tcp_server(struct daemon *d, struct jv_error *err)
{
	struct server *s = server_of(d);
	uint32_t est = d->cfg.max_sessions < TCP_EST_CAP ? d->cfg.max_sessions
							 : TCP_EST_CAP;
	uint32_t ucap = d->cfg.max_sessions < UDP_CONN_CAP
				? d->cfg.max_sessions : UDP_CONN_CAP;
	uint32_t fixed = 4 + d->cfg.nlisten + JV_CTL_FDS + FD_SPARE +
			 (d->cfg.metrics_listen.len ? JV_HTTP_FDS : 0);
	struct rlimit rl;
	int rc;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)fixed + JV_TCP_PRE_MAX + est + ucap) {
		rlim_t want = (rlim_t)fixed + JV_TCP_PRE_MAX + est + ucap;

		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
		/* what cannot be opened is not promised: fewer sessions with
		 * a UDP socket of their own, then fewer TCP sessions */
		if (rl.rlim_cur < (rlim_t)fixed + JV_TCP_PRE_MAX + 1)
			return jv_error_set(err, JV_ERR_INVAL, "", 0,
					    "too few file descriptors allowed "
					    "(ulimit -n %llu)",
					    (unsigned long long)rl.rlim_cur);
		if (rl.rlim_cur < (rlim_t)fixed + JV_TCP_PRE_MAX + est + ucap)
			ucap = rl.rlim_cur > (rlim_t)fixed + JV_TCP_PRE_MAX + est
				? (uint32_t)(rl.rlim_cur - fixed -
					     JV_TCP_PRE_MAX - est)
				: 0;
		if (rl.rlim_cur < (rlim_t)fixed + JV_TCP_PRE_MAX + est)
			est = (uint32_t)(rl.rlim_cur - fixed - JV_TCP_PRE_MAX);
	}
	s->uconns = calloc(ucap ? ucap : 1, sizeof(*s->uconns));
	if (!s->uconns)
		return JV_ERR_NOMEM;
	s->nuconns_cap = ucap;
	for (uint32_t i = 0; i < ucap; i++) {
		s->uconns[i].s = s;
		s->uconns[i].fd = -1;
	}
	rc = jv_tcp_gate_init(&s->gate, JV_TCP_PRE_MAX, JV_TCP_PRE_PER_SOURCE,
			      est);
	if (rc != 0)
		return rc;
	s->conns = calloc(s->gate.nslots, sizeof(*s->conns));
	if (!s->conns)
		return JV_ERR_NOMEM;
	for (uint32_t i = 0; i < s->gate.nslots; i++) {
		s->conns[i].s = s;
		s->conns[i].slot = i;
	}
	/* every owner has its own bound (the gate, JV_CTL_MAX_CLIENTS): a
	 * loop sized for their sum never turns one away for another */
	if (jv_loop_reserve(d->loop, fixed - FD_SPARE + s->gate.nslots +
				     ucap) != 0)
		return JV_ERR_NOMEM;
	return 0;
}

/* ---- the driver ---- */

static int server_open(struct daemon *d, struct jv_error *err)
{
	struct server *s = calloc(1, sizeof(*s));
	int rc;

	if (!(d->priv = s))
		return JV_ERR_NOMEM;
	s->d = d;
	if ((rc = setup_tcp_server(d, err)) != 0)
		return rc;
	for (; s->nls < d->cfg.nlisten; s->nls++)
		if ((rc = open_listener(d, s->nls, err)) != 0) {
			s->nls++;           /* closed with the rest */
			return rc;
		}
	return 0;
}

static void server_send(struct daemon *d, const struct jv_path *path,
			const uint8_t *buf, size_t len)
{
	struct server *s = server_of(d);

	if (path->proto == JV_PROTO_UDP) {
		struct sockaddr_storage to;
		struct jv_udp_local from;
		socklen_t to_len;

		if (path->local >= s->nls || !s->ls[path->local].udp ||
		    !udp_path_decode(&s->ls[path->local], path, &to, &to_len,
				     &from))
			return;
		if (s->ls[path->local].dual && to.ss_family == AF_INET)
			map_path(&to, &to_len, &from);
		jv_udp_send(s->ls[path->local].udp, (struct sockaddr *)&to,
			    to_len, &from, buf, len);
	} else {
		uint32_t slot, gen;

		memcpy(&slot, path->addr, 4);
		memcpy(&gen, path->addr + 4, 4);
		if (slot < s->gate.nslots && s->conns[slot].c &&
		    s->conns[slot].gen == gen) {
			/* the engine answers only what authenticated */
			conn_established(s, slot);
			if (jv_tcp_send(s->conns[slot].c, buf, len) ==
			    -ENOBUFS)
				d->drops[JV_DROP_TCP_QUEUE]++;
			jv_daemon_tcp_interest(d, s->conns[slot].c);
		}
	}
}

static size_t server_format_path(struct daemon *d, const struct jv_path *path,
				 char *buf, size_t cap)
{
	struct server *s = server_of(d);

	buf[0] = '\0';
	if (path->proto == JV_PROTO_UDP) {
		struct sockaddr_storage to;
		struct jv_udp_local from;
		socklen_t to_len;

		if (path->local < s->nls &&
		    udp_path_decode(&s->ls[path->local], path, &to, &to_len,
				    &from))
			jv_sockaddr_format((struct sockaddr *)&to, buf, cap);
	} else if (path->len >= 8) {
		uint32_t slot, gen;

		memcpy(&slot, path->addr, 4);
		memcpy(&gen, path->addr + 4, 4);
		/* a closed connection's address is gone with it */
		if (slot < s->gate.nslots && s->conns[slot].c &&
		    s->conns[slot].gen == gen)
			jv_sockaddr_format((struct sockaddr *)&s->conns[slot].peer,
					   buf, cap);
	}
	return strlen(buf);
}

static uint64_t server_settle(struct daemon *d)
{
	struct server *s = server_of(d);

	for (uint32_t i = 0; i < s->nls; i++)
		if (s->ls[i].udp)
			jv_udp_flush(s->ls[i].udp);
	return s->tcp_sweep_at ? s->tcp_sweep_at : UINT64_MAX;
}

static void server_tick(struct daemon *d, uint64_t now)
{
	struct server *s = server_of(d);

	if (s->tcp_sweep_at && now >= s->tcp_sweep_at)
		tcp_sweep(s, now);
}

static void server_flush(struct daemon *d)
{
	struct server *s = server_of(d);

	for (uint32_t i = 0; s->conns && i < s->gate.nslots; i++)
		if (s->conns[i].c)
			jv_tcp_on_writable(s->conns[i].c);
}

static void server_close(struct daemon *d)
{
	struct server *s = server_of(d);

	if (!s)
		return;
	for (uint32_t i = 0; i < s->nls; i++) {
		jv_daemon_udp_free(s->ls[i].udp);
		if (s->ls[i].tcp_fd >= 0)
			close(s->ls[i].tcp_fd);
	}
	for (uint32_t i = 0; s->conns && i < s->gate.nslots; i++)
		conn_drop(&s->conns[i]);
	for (uint32_t i = 0; s->uconns && i < s->nuconns_cap; i++)
		if (s->uconns[i].path.len)
			uconn_close(&s->uconns[i]);
	free(s->uconns);
	free(s->conns);
	jv_tcp_gate_free(&s->gate);
	free(s);
	d->priv = NULL;
}

const struct jv_drv jv_drv_server = {
	.name = "server",
	.open = server_open,
	.start = NULL,
	.send = server_send,
	.format_path = server_format_path,
	.settle = server_settle,
	.tick = server_tick,
	.flush = server_flush,
	.path_bound = server_path_bound,
	.close = server_close,
};
