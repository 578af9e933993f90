/* The client driver: one socket per candidate transport (UDP, or TCP
 * reconnected after a delay), each optionally bound to a device whose
 * link state the rtnetlink monitor reports to the engine. A device that
 * is missing (at start, or deleted) is waited for: the transport is
 * link_down meanwhile, and gets a new socket once a device of that name
 * is back and up (io/link.h, struct jv_link_pin). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include "cli/dns.h"
#include "cli/drv.h"
#include "cli/util.h"
#include "io/link.h"
#include "io/route.h"

#define TCP_RETRY_MS 1000       /* reconnect delay */
#define REOPEN_RETRY_MS 1000    /* a socket for a device that is back failed */
#define RESOLVE_RETRY_MS 5000   /* a host name that could not be looked up */
/* A TCP transport reconnects every TCP_RETRY_MS while its path is down;
 * its name is looked up again at most this often: a lookup blocks the
 * loop (the other transports) for as long as DNS takes. */
#define TCP_RESOLVE_MS 30000

struct ctransport {             /* one candidate */
	struct daemon *d;
	uint32_t index;
	const struct jv_transport_io_cfg *cfg;
	struct jv_udp *udp;
	struct jv_tcp_conn *tcp;
	uint64_t retry_at;          /* TCP reconnect, UDP reopen; UINT64_MAX:
				     * none */
	bool connected;             /* TCP: told up to the engine */
	struct jv_link_pin pin;     /* bind_device: the socket's device */
	bool reopen_failed;         /* said once, until a socket is bound */
	bool unresolved;            /* no address yet: down, looked up again */
	bool resolve_failed;        /* said once, until a lookup succeeds */
	uint64_t resolved_at;       /* the last lookup for a TCP reconnect */
	struct jv_udp_stray stray;  /* UDP: datagrams not from the remote */
	/* a full tunnel: the fwmark that keeps this socket's packets out of
	 * it (the main table's route, its own uplink); 0: none */
	uint32_t mark;
};

struct client {
	struct ctransport tr[JV_MAX_TRANSPORTS];
	uint32_t ntr;               /* opened so far */
	struct jv_linkmon *lm;
	struct jv_dns dns;          /* config dns: applied, undone at close */
	bool ended;                 /* no session live: names looked up */
};

static struct client *client_of(struct daemon *d)
{
	return d->priv;
}

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

static void on_udp_rx(void *ctx, const struct sockaddr *from,
		      socklen_t from_len, const struct jv_udp_local *local,
		      uint8_t *buf, size_t len)
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

static void on_udp(void *ctx, uint32_t events)
{
	struct ctransport *t = ctx;

	(void)events;
	jv_daemon_udp_read(t->d, t->udp, on_udp_rx, t);
}

static void on_tcp_rx(void *ctx, uint8_t *buf, size_t len)
{
	struct ctransport *t = ctx;
	struct jv_path p = { .proto = JV_PROTO_TCP, .local = (uint16_t)t->index };

	jv_endpoint_recv(t->d->ep, &p, buf, len, jv_mono_ms());
}

static void on_tcp(void *ctx, uint32_t events)
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
		rc = jv_tcp_read(t->tcp, on_tcp_rx, t);
	if (rc < 0)
		tcp_down(t, now);
	else
		jv_daemon_tcp_interest(t->d, t->tcp);
	jv_daemon_settle(t->d);
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
	    jv_loop_add(t->d->loop, t->tcp->fd, EPOLLIN | EPOLLOUT, on_tcp,
			t) != 0) {
		jv_tcp_close(t->tcp);
		t->retry_at = jv_mono_ms() + TCP_RETRY_MS;
	}
}

static int udp_open(struct ctransport *t, struct jv_error *err)
{
	const struct jv_transport_io_cfg *c = t->cfg;

	if (jv_udp_open(t->udp, c->remote.ss.ss_family,
			(const struct sockaddr *)&c->bind_address.ss,
			c->bind_address.len, c->bind_device, false, err) != 0)
		return JV_ERR_INVAL;
	t->udp->tx_dropped_to = &t->d->drops[JV_DROP_UDP_SEND];
	t->udp->rx_overflow_to = &t->d->drops[JV_DROP_UDP_RX_QUEUE];
	t->udp->gso_sends_to = &t->d->udp_gso;
	t->udp->rx_gro_to = &t->d->udp_gro;
	if (t->d->udp_pool)
		(void)jv_udp_use_pool(t->udp, t->d->udp_pool);
	if (t->mark && jv_sock_mark(t->udp->fd, t->mark, err) != 0) {
		jv_udp_close(t->udp);
		return JV_ERR_INVAL;
	}
	if (jv_loop_add(t->d->loop, t->udp->fd, EPOLLIN, on_udp, t) != 0) {
		jv_udp_close(t->udp);
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "cannot set up the event loop");
	}
	return 0;
}

/* The device of a pinned socket is gone or was replaced: the socket is
 * bound to an ifindex that no longer exists. */
static void pin_close(struct ctransport *t)
{
	if (t->tcp) {
		if (t->tcp->fd >= 0)
			jv_loop_del(t->d->loop, t->tcp->fd);
		jv_tcp_close(t->tcp);
		t->connected = false;       /* link_down says it */
		t->retry_at = UINT64_MAX;   /* until the device is back */
		return;
	}
	if (t->udp->fd >= 0)
		jv_loop_del(t->d->loop, t->udp->fd);
	jv_udp_close(t->udp);
	t->udp->ntx = 0;
}

/* A new socket bound to the device of that name: UDP at once, TCP
 * connects (and retries on its own). Records the device it is bound to. */
static int pin_open(struct ctransport *t, struct jv_error *err)
{
	int fd, ifindex;

	if (t->tcp) {
		tcp_connect(t);
		fd = t->tcp->fd;
	} else if (udp_open(t, err) != 0) {
		return JV_ERR_INVAL;
	} else {
		fd = t->udp->fd;
	}
	if ((ifindex = jv_link_bound_ifindex(fd)) > 0)
		t->pin.ifindex = ifindex;
	return 0;
}

/* Not an error: a device not there yet (a modem not plugged in) is
 * waited for, the transport link_down until it is (client_start). */
static void warn_missing(struct daemon *d, uint32_t i)
{
	const struct jv_transport_io_cfg *c = &d->cfg.transports[i];
	struct jv_error w;
	char line[1024];

	jv_error_set(&w, JV_ERR_INVAL, "", 0,
		     "no such device \"%s\"; %s is link_down until it appears",
		     c->bind_device, c->id);
	jv_config_blame(&d->cfg, c->line_bind_device, &w,
			"transports[%u].bind_device", i);
	jv_error_format(&w, line, sizeof(line));
	fprintf(stderr, "jvpn: warning: %s\n", line);
}

/* Looks the remote's host name (or its scope's interface) up, at start
 * and again before a reconnect: the gateway may have moved. A failure
 * keeps the address known so far (none at start), said once until a
 * lookup succeeds. Returns 1 when the address changed, 0 when not, or
 * the error (JV_ERR_AGAIN: temporary). */
static int resolve(struct ctransport *t, struct jv_error *err)
{
	struct daemon *d = t->d;
	struct jv_transport_io_cfg *c = &d->cfg.transports[t->index];
	struct jv_sockaddr was = c->remote;
	char line[1024], a[80];
	int rc;

	if (!jv_addr_needs_lookup(&c->remote))
		return 0;
	if ((rc = jv_config_resolve_one(&d->cfg, true, t->index, err)) != 0) {
		jv_error_format(err, line, sizeof(line));
		if (!t->resolve_failed)
			fprintf(stderr, "jvpn: warning: %s (%s)\n", line,
				c->remote.len ? "keeping the last address"
					      : "the transport is down until "
						"it resolves");
		t->resolve_failed = true;
		return rc;
	}
	t->resolve_failed = false;
	if (was.len == c->remote.len &&
	    memcmp(&was.ss, &c->remote.ss, was.len) == 0)
		return 0;
	jv_sockaddr_format((const struct sockaddr *)&c->remote.ss, a, sizeof(a));
	fprintf(stderr, "jvpn: %s: %s is %s\n", c->id,
		c->remote.host[0] ? c->remote.host : c->remote.scope, a);
	return 1;
}

/* Before a new session: the names again. A UDP socket of the other
 * family (or bound to a device that went with a link-local scope) is
 * replaced. */
static void re_resolve(struct ctransport *t, uint64_t now)
{
	sa_family_t was = t->cfg->remote.ss.ss_family;
	struct jv_error err;

	if (t->unresolved || resolve(t, &err) != 1 || !t->udp ||
	    t->udp->fd < 0 || t->cfg->remote.ss.ss_family == was)
		return;
	pin_close(t);
	if (pin_open(t, &err) != 0) {
		fprintf(stderr, "jvpn: %s: %s (retrying)\n", t->cfg->id, err.msg);
		t->retry_at = now + REOPEN_RETRY_MS;
	}
}

static int attach_transport(struct daemon *d, uint32_t i,
			    struct jv_error *err);

static int open_transport(struct daemon *d, uint32_t i, struct jv_error *err)
{
	struct ctransport *t = &client_of(d)->tr[i];
	const struct jv_transport_io_cfg *c = &d->cfg.transports[i];

	t->d = d;
	t->index = i;
	t->cfg = c;
	t->retry_at = UINT64_MAX;
	t->pin.up = true;           /* what the engine assumes */
	if (jv_routes_full(&d->cfg, JV_IP4) || jv_routes_full(&d->cfg, JV_IP6))
		t->mark = d->cfg.fwmark;
	if (c->proto == JV_PROTO_TCP) {
		t->tcp = malloc(sizeof(*t->tcp));
		if (!t->tcp)
			return JV_ERR_NOMEM;
		jv_tcp_init(t->tcp);
		t->tcp->mark = t->mark;
	} else {
		t->udp = malloc(sizeof(*t->udp));
		if (!t->udp)
			return JV_ERR_NOMEM;
		t->udp->fd = -1;
		t->udp->ntx = 0;
	}
	/* looked up before (cli/daemon.c): no address means the lookup
	 * failed for now, said there; retried */
	if (!c->remote.len) {
		t->unresolved = true;
		t->resolve_failed = true;
		t->retry_at = jv_mono_ms() + RESOLVE_RETRY_MS;
		return 0;
	}
	return attach_transport(d, i, err);
}

/* The socket of a transport whose address is known. */
static int attach_transport(struct daemon *d, uint32_t i,
			    struct jv_error *err)
{
	struct ctransport *t = &client_of(d)->tr[i];
	const struct jv_transport_io_cfg *c = &d->cfg.transports[i];
	int ifindex = 0;

	if (c->bind_device[0] &&
	    jv_link_query(c->bind_device, &ifindex) == JV_LINK_GONE) {
		warn_missing(d, i);
		return 0;
	}
	t->pin.ifindex = ifindex;
	if (t->tcp) {
		pin_open(t, err);
		return 0;
	}
	if (pin_open(t, err) != 0) {
		/* gone in between */
		if (c->bind_device[0] &&
		    jv_link_query(c->bind_device, &ifindex) == JV_LINK_GONE) {
			t->pin.ifindex = 0;
			warn_missing(d, i);
			return 0;
		}
		if (c->bind_address.len)
			jv_config_blame(&d->cfg, c->line_bind_address, err,
					"transports[%u].bind_address", i);
		else if (c->bind_device[0])
			jv_config_blame(&d->cfg, c->line_bind_device, err,
					"transports[%u].bind_device", i);
		else
			jv_config_blame(&d->cfg, c->line, err, "transports[%u]",
					i);
		return JV_ERR_INVAL;
	}
	return 0;
}

/* ---- link state ---- */

/* One report on the device a transport is pinned to: close, reopen,
 * then tell the engine (jv_link_pin_step). */
static void pin_report(struct ctransport *t, int ifindex,
		       enum jv_link_status st, uint64_t now)
{
	struct daemon *d = t->d;
	bool was_up = t->pin.up;
	unsigned steps = jv_link_pin_step(&t->pin, ifindex, st);
	struct jv_error err = { .file = "" };

	if (steps & JV_PIN_CLOSE) {
		pin_close(t);
		fprintf(stderr, "jvpn: %s: %s %s: socket closed\n", t->cfg->id,
			t->cfg->bind_device,
			st == JV_LINK_GONE ? "is gone" : "was replaced");
	}
	if (steps & JV_PIN_OPEN) {
		t->retry_at = UINT64_MAX;
		if (pin_open(t, &err) != 0) {
			steps &= ~JV_PIN_UP;
			steps |= jv_link_pin_open_failed(&t->pin, was_up);
			if (!t->reopen_failed)
				fprintf(stderr, "jvpn: %s: %s: %s (retrying)\n",
					t->cfg->id, t->cfg->bind_device,
					err.msg);
			t->reopen_failed = true;
			t->retry_at = now + REOPEN_RETRY_MS;
		} else {
			t->reopen_failed = false;
			fprintf(stderr, "jvpn: %s: %s is up: new socket\n",
				t->cfg->id, t->cfg->bind_device);
		}
	}
	if (steps & JV_PIN_UP)
		jv_endpoint_transport_up(d->ep, t->index, now);
	else if (steps & JV_PIN_DOWN)
		jv_endpoint_transport_down(d->ep, t->index, JV_R_LINK_DOWN, now);
}

static void on_link(void *ctx, const char *ifname, int ifindex,
		    enum jv_link_status st)
{
	struct daemon *d = ctx;
	struct client *c = client_of(d);
	uint64_t now = jv_mono_ms();

	for (uint32_t i = 0; i < c->ntr; i++) {
		struct ctransport *t = &c->tr[i];

		if (!t->cfg->bind_device[0])
			continue;
		if (strcmp(t->cfg->bind_device, ifname) == 0)
			pin_report(t, ifindex, st, now);
		/* renamed: the name bound to is not that device's any more */
		else if (t->pin.ifindex && t->pin.ifindex == ifindex)
			pin_report(t, ifindex, JV_LINK_GONE, now);
	}
}

/* Asks the kernel for one pinned device's state. */
static void resync_link(struct ctransport *t, uint64_t now)
{
	int ifindex;
	enum jv_link_status st = jv_link_query(t->cfg->bind_device, &ifindex);

	pin_report(t, ifindex, st, now);
}

static void resync_links(struct daemon *d)
{
	struct client *c = client_of(d);
	uint64_t now = jv_mono_ms();

	for (uint32_t i = 0; i < c->ntr; i++)
		if (c->tr[i].cfg->bind_device[0])
			resync_link(&c->tr[i], now);
}

static void on_linkmon(void *ctx, uint32_t events)
{
	struct daemon *d = ctx;

	(void)events;
	/* an overrun lost messages: ask the kernel for the current state */
	if (jv_linkmon_read(client_of(d)->lm, on_link, d) == JV_ERR_FULL)
		resync_links(d);
	jv_daemon_settle(d);
}

/* ---- the driver ---- */

static int client_open(struct daemon *d, struct jv_error *err)
{
	struct client *c = calloc(1, sizeof(*c));
	int rc;

	if (!(d->priv = c))
		return JV_ERR_NOMEM;
	/* what a killed client left in resolv.conf, before anything else */
	jv_dns_recover(&d->cfg);
	for (; c->ntr < d->cfg.ntransports; c->ntr++)
		if ((rc = open_transport(d, c->ntr, err)) != 0) {
			c->ntr++;           /* closed with the rest */
			return rc;
		}
	if ((rc = jv_linkmon_open(&c->lm, err)) != 0) {
		jv_config_blame(&d->cfg, 0, err, NULL);
		return rc;
	}
	if ((rc = jv_loop_add(d->loop, jv_linkmon_fd(c->lm), EPOLLIN,
			      on_linkmon, d)) != 0)
		return jv_error_set(err, rc, d->cfg.file, 0,
				    "cannot set up the event loop");
	/* the TUN is up (and the routes in place): DNS last */
	return jv_dns_up(&c->dns, &d->cfg, d->tun_name, err);
}

static void client_start(struct daemon *d, uint64_t now)
{
	struct client *c = client_of(d);

	for (uint32_t i = 0; i < c->ntr; i++)
		if ((c->tr[i].tcp && !c->tr[i].connected) || c->tr[i].unresolved)
			jv_endpoint_transport_down(d->ep, i, JV_R_TRANSPORT_DEAD,
						   now);
	resync_links(d);
	jv_endpoint_start(d->ep, now);
}

static void client_send(struct daemon *d, const struct jv_path *path,
			const uint8_t *buf, size_t len)
{
	struct client *c = client_of(d);
	struct ctransport *t;

	if (path->local >= c->ntr)
		return;
	t = &c->tr[path->local];
	if (t->udp) {
		/* fd -1 (no device): jv_udp_send drops it */
		jv_udp_send(t->udp, (const struct sockaddr *)&t->cfg->remote.ss,
			    t->cfg->remote.len, NULL, buf, len);
	} else if (t->connected) {
		if (jv_tcp_send(t->tcp, buf, len) == -ENOBUFS)
			d->drops[JV_DROP_TCP_QUEUE]++;
		jv_daemon_tcp_interest(d, t->tcp);
	}
}

/* The configured server address of the path's transport (resolved). */
static size_t client_format_path(struct daemon *d, const struct jv_path *path,
				 char *buf, size_t cap)
{
	const struct jv_sockaddr *a;

	buf[0] = '\0';
	if (path->local >= d->cfg.ntransports)
		return 0;
	a = &d->cfg.transports[path->local].remote;
	/* a link-local scope by its name, as configured ("%ca0", not "%3");
	 * a host name by the address it resolved to */
	if (a->len && a->scope[0])
		jv_addr_format(a, buf, cap);
	else if (a->len)
		jv_sockaddr_format((const struct sockaddr *)&a->ss, buf, cap);
	return strlen(buf);
}

static uint64_t client_settle(struct daemon *d)
{
	struct client *c = client_of(d);
	uint64_t at = UINT64_MAX;

	for (uint32_t i = 0; i < c->ntr; i++) {
		if (c->tr[i].udp)
			jv_udp_flush(c->tr[i].udp);
		if (c->tr[i].retry_at < at)
			at = c->tr[i].retry_at;
	}
	/* without reconnect the client lives as long as its session */
	if (jv_endpoint_client_state(d->ep) != JV_STATE_TERMINATED) {
		c->ended = false;
	} else if (!d->cfg.reconnect) {
		jv_daemon_stop(d);
	} else if (!c->ended) {
		/* the next session may find the gateway elsewhere */
		c->ended = true;
		for (uint32_t i = 0; i < c->ntr; i++)
			re_resolve(&c->tr[i], jv_mono_ms());
	}
	return at;
}

/* A transport whose name did not resolve at start: again, until it does
 * (or turns out not to exist, which is said and retried all the same: a
 * running client does not exit over DNS). */
static void retry_resolve(struct ctransport *t, uint64_t now)
{
	struct daemon *d = t->d;
	struct jv_error err;

	t->retry_at = now + RESOLVE_RETRY_MS;
	if (resolve(t, &err) < 0)
		return;
	t->unresolved = false;
	t->retry_at = UINT64_MAX;
	if (attach_transport(d, t->index, &err) != 0) {
		fprintf(stderr, "jvpn: %s: %s (retrying)\n", t->cfg->id, err.msg);
		t->retry_at = now + REOPEN_RETRY_MS;
		return;
	}
	/* TCP says so once connected; a device's state comes from it */
	if (t->udp && t->udp->fd >= 0 && !t->cfg->bind_device[0])
		jv_endpoint_transport_up(d->ep, t->index, now);
}

/* TCP connects again, to the name's address as it is now. */
static void reconnect_tcp(struct ctransport *t, uint64_t now)
{
	struct jv_error err;

	if (!t->resolved_at || now - t->resolved_at >= TCP_RESOLVE_MS) {
		t->resolved_at = now;
		(void)resolve(t, &err);
	}
	tcp_connect(t);
}

static void client_tick(struct daemon *d, uint64_t now)
{
	struct client *c = client_of(d);

	for (uint32_t i = 0; i < c->ntr; i++) {
		struct ctransport *t = &c->tr[i];

		if (t->retry_at > now)
			continue;
		if (t->unresolved)
			retry_resolve(t, now);
		else if (t->tcp)
			reconnect_tcp(t, now);
		else                        /* a socket failed: try again */
			resync_link(t, now);
	}
}

static void client_flush(struct daemon *d)
{
	struct client *c = client_of(d);

	for (uint32_t i = 0; i < c->ntr; i++)
		if (c->tr[i].tcp && c->tr[i].tcp->fd >= 0)
			jv_tcp_on_writable(c->tr[i].tcp);
}

static void client_close(struct daemon *d)
{
	struct client *c = client_of(d);

	if (!c)
		return;
	jv_dns_down(&c->dns);           /* before the TUN goes */
	for (uint32_t i = 0; i < c->ntr; i++) {
		jv_daemon_udp_free(c->tr[i].udp);
		if (c->tr[i].tcp) {
			jv_tcp_close(c->tr[i].tcp);
			free(c->tr[i].tcp);
		}
	}
	if (c->lm)
		jv_linkmon_close(c->lm);
	free(c);
	d->priv = NULL;
}

const struct jv_drv jv_drv_client = {
	.name = "client",
	.open = client_open,
	.start = client_start,
	.send = client_send,
	.format_path = client_format_path,
	.settle = client_settle,
	.tick = client_tick,
	.flush = client_flush,
	.close = client_close,
};
