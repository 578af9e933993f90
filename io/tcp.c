/* TCP framing: [len:2 BE][datagram], both ways (proto/wire.h,
 * JV_TCP_LEN_BYTES). */
#include <errno.h>
#include <stdlib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <unistd.h>

#include "io/tcp.h"
#include "io/udp.h"

void jv_tcp_init(struct jv_tcp_conn *c)
{
	c->fd = -1;
	c->connecting = false;
	c->mark = 0;
	c->rxlen = c->txlen = 0;
	c->tx_dropped = 0;
}

static void tune(int fd)
{
	int one = 1;

	/* datagrams carry heartbeats: no Nagle delay */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

int jv_tcp_connect(struct jv_tcp_conn *c, const struct sockaddr *to,
		   socklen_t to_len, const struct sockaddr *bind_addr,
		   socklen_t bind_len, const char *bind_device,
		   struct jv_error *err)
{
	char a[80];

	jv_tcp_close(c);
	c->fd = socket(to->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       0);
	if (c->fd < 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0, "tcp socket: %s",
				    strerror(errno));
	tune(c->fd);
	if (bind_device && *bind_device &&
	    setsockopt(c->fd, SOL_SOCKET, SO_BINDTODEVICE, bind_device,
		       (socklen_t)strlen(bind_device)) != 0)
		goto fail;
	/* the route is chosen at connect: the mark must be there before */
	if (c->mark &&
	    setsockopt(c->fd, SOL_SOCKET, SO_MARK, &c->mark, sizeof(c->mark)) != 0)
		goto fail;
	if (bind_len && bind(c->fd, bind_addr, bind_len) != 0)
		goto fail;
	if (connect(c->fd, to, to_len) != 0 && errno != EINPROGRESS)
		goto fail;
	c->connecting = true;
	return 0;
fail:
	jv_sockaddr_format(to, a, sizeof(a));
	jv_error_set(err, JV_ERR_INVAL, "", 0, "tcp connect to %s: %s", a,
		     strerror(errno));
	jv_tcp_close(c);
	return JV_ERR_INVAL;
}

int jv_tcp_listen(const struct sockaddr *addr, socklen_t len,
		  bool dual_stack, struct jv_error *err)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0), one = 1, v6only = !dual_stack;
	char a[80];

	if (fd < 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0, "tcp socket: %s",
				    strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			   sizeof(v6only));
	if (bind(fd, addr, len) == 0 && listen(fd, 64) == 0)
		return fd;
	jv_sockaddr_format(addr, a, sizeof(a));
	jv_error_set(err, JV_ERR_INVAL, "", 0, "tcp: cannot listen on %s: %s",
		     a, strerror(errno));
	close(fd);
	return JV_ERR_INVAL;
}

int jv_tcp_accept(int lfd, struct sockaddr_storage *peer,
		  socklen_t *peer_len)
{
	int fd;

	*peer_len = sizeof(*peer);
	fd = accept4(lfd, (struct sockaddr *)peer, peer_len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	tune(fd);
	return fd;
}

void jv_tcp_adopt(struct jv_tcp_conn *c, int fd)
{
	jv_tcp_init(c);
	c->fd = fd;
}

int jv_tcp_frames(uint8_t *buf, size_t len, size_t *used, size_t *frames,
		  jv_tcp_rx_cb cb, void *ctx)
{
	size_t off = 0;

	while (len - off >= JV_TCP_LEN_BYTES) {
		size_t n = jv_get_be16(buf + off);

		if (n == 0 || n > JV_WIRE_MAX) {
			*used = off;
			return -EPROTO;
		}
		if (len - off - JV_TCP_LEN_BYTES < n)
			break;
		cb(ctx, buf + off + JV_TCP_LEN_BYTES, n);
		off += JV_TCP_LEN_BYTES + n;
		(*frames)++;
	}
	*used = off;
	return 0;
}

/* After a read or send on the non-blocking socket failed (not EINTR):
 * 0 when it only would block (the loop calls again when it is ready),
 * else the error. */
static int drained_or_failed(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -errno;
}

int jv_tcp_read(struct jv_tcp_conn *c, jv_tcp_rx_cb cb, void *ctx)
{
	size_t frames = 0, bytes = 0;

	/* the buffer holds at most an incomplete frame between reads: what
	 * the budget leaves in the socket keeps it readable for the loop */
	while (frames < JV_TCP_READ_FRAMES && bytes < JV_TCP_READ_BYTES) {
		size_t off = 0;
		ssize_t n = read(c->fd, c->rx + c->rxlen,
				 sizeof(c->rx) - c->rxlen);

		if (n == 0)
			return -EPIPE;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return drained_or_failed();
		c->rxlen += (size_t)n;
		bytes += (size_t)n;
		if (jv_tcp_frames(c->rx, c->rxlen, &off, &frames, cb, ctx) != 0)
			return -EPROTO;
		memmove(c->rx, c->rx + off, c->rxlen - off);
		c->rxlen -= off;
	}
	return 0;
}

static int push(struct jv_tcp_conn *c)
{
	while (c->txlen) {
		ssize_t n = send(c->fd, c->tx, c->txlen, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return drained_or_failed();
		memmove(c->tx, c->tx + n, c->txlen - (size_t)n);
		c->txlen -= (size_t)n;
	}
	return 0;
}

int jv_tcp_send(struct jv_tcp_conn *c, const uint8_t *buf, size_t len)
{
	if (c->fd < 0 || len == 0 || len > JV_WIRE_MAX)
		return -EINVAL;
	if (sizeof(c->tx) - c->txlen < len + JV_TCP_LEN_BYTES) {
		c->tx_dropped++;
		return -ENOBUFS;
	}
	jv_put_be16(c->tx + c->txlen, (uint16_t)len);
	memcpy(c->tx + c->txlen + JV_TCP_LEN_BYTES, buf, len);
	c->txlen += JV_TCP_LEN_BYTES + len;
	return c->connecting ? 0 : push(c);
}

int jv_tcp_on_writable(struct jv_tcp_conn *c)
{
	if (c->connecting) {
		int e = 0;
		socklen_t l = sizeof(e);

		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &l) != 0)
			e = errno;
		if (e)
			return -e;
		c->connecting = false;
	}
	return push(c);
}

bool jv_tcp_wants_write(const struct jv_tcp_conn *c)
{
	return c->fd >= 0 && (c->connecting || c->txlen > 0);
}

void jv_tcp_close(struct jv_tcp_conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->connecting = false;
	c->rxlen = c->txlen = 0;
}

/* ---- server admission ---- */

int jv_tcp_gate_init(struct jv_tcp_gate *g, uint32_t pre_max,
		     uint32_t per_source, uint32_t est_max)
{
	memset(g, 0, sizeof(*g));
	if (!pre_max || !per_source || !est_max ||
	    (uint64_t)pre_max + est_max > UINT32_MAX / 2)
		return JV_ERR_INVAL;
	g->nslots = pre_max + est_max;
	g->pre_max = pre_max;
	g->per_source = per_source;
	g->est_max = est_max;
	g->slot = calloc(g->nslots, sizeof(*g->slot));
	g->pre = calloc(pre_max, sizeof(*g->pre));
	g->free = calloc(g->nslots, sizeof(*g->free));
	if (!g->slot || !g->pre || !g->free) {
		jv_tcp_gate_free(g);
		return JV_ERR_NOMEM;
	}
	/* lowest index on top */
	for (uint32_t i = g->nslots; i-- > 0;)
		g->free[g->nfree++] = i;
	return 0;
}

void jv_tcp_gate_free(struct jv_tcp_gate *g)
{
	free(g->slot);
	free(g->pre);
	free(g->free);
	memset(g, 0, sizeof(*g));
}

static void source_of(const struct sockaddr *sa, struct jv_tcp_slot *s)
{
	s->srclen = 0;
	if (sa->sa_family == AF_INET) {
		memcpy(s->src, &((const struct sockaddr_in *)sa)->sin_addr, 4);
		s->srclen = 4;
	} else if (sa->sa_family == AF_INET6) {
		memcpy(s->src, &((const struct sockaddr_in6 *)sa)->sin6_addr, 8);
		s->srclen = 8;
	}
}

static bool same_source(const struct jv_tcp_slot *a, const struct jv_tcp_slot *b)
{
	return a->srclen == b->srclen && memcmp(a->src, b->src, a->srclen) == 0;
}

/* The pre-handshake connection to let go for a newcomer from src: the
 * oldest of src's own when src is at its bound, else (all slots taken) the
 * oldest of the source holding the most; JV_TCP_NONE while there is room.
 * O(pre_max^2) only when the bound is reached. */
static uint32_t victim(const struct jv_tcp_gate *g,
		       const struct jv_tcp_slot *src)
{
	uint32_t best = JV_TCP_NONE, best_n = 0, mine = 0, my_oldest = 0;

	for (uint32_t k = 0; k < g->npre; k++) {
		const struct jv_tcp_slot *s = &g->slot[g->pre[k]];

		if (!same_source(s, src))
			continue;
		if (!mine || s->since_ms < g->slot[g->pre[my_oldest]].since_ms)
			my_oldest = k;
		mine++;
	}
	if (mine >= g->per_source)
		return g->pre[my_oldest];
	if (g->npre < g->pre_max)
		return JV_TCP_NONE;
	for (uint32_t k = 0; k < g->npre; k++) {
		const struct jv_tcp_slot *s = &g->slot[g->pre[k]];
		uint32_t n = 0;

		for (uint32_t j = 0; j < g->npre; j++)
			n += same_source(&g->slot[g->pre[j]], s);
		if (n > best_n ||
		    (n == best_n && s->since_ms < g->slot[best].since_ms)) {
			best = g->pre[k];
			best_n = n;
		}
	}
	return best;
}

uint32_t jv_tcp_gate_admit(struct jv_tcp_gate *g, const struct sockaddr *src,
			   uint64_t now, bool *evict)
{
	struct jv_tcp_slot in = { .state = JV_TCP_SLOT_PRE, .since_ms = now,
				  .last_ms = now };
	uint32_t i;

	source_of(src, &in);
	i = victim(g, &in);
	*evict = i != JV_TCP_NONE;
	if (!*evict) {
		/* npre < pre_max and nest <= est_max: a slot is free */
		i = g->free[--g->nfree];
		g->pre[g->npre++] = i;
	}
	g->slot[i] = in;
	return i;
}

void jv_tcp_gate_seen(struct jv_tcp_gate *g, uint32_t i, uint64_t now)
{
	if (i < g->nslots && g->slot[i].state != JV_TCP_SLOT_FREE)
		g->slot[i].last_ms = now;
}

static void unlist_pre(struct jv_tcp_gate *g, uint32_t i)
{
	for (uint32_t k = 0; k < g->npre; k++)
		if (g->pre[k] == i) {
			g->pre[k] = g->pre[--g->npre];
			return;
		}
}

void jv_tcp_gate_release(struct jv_tcp_gate *g, uint32_t i)
{
	if (i >= g->nslots || g->slot[i].state == JV_TCP_SLOT_FREE)
		return;
	if (g->slot[i].state == JV_TCP_SLOT_PRE)
		unlist_pre(g, i);
	else
		g->nest--;
	g->slot[i].state = JV_TCP_SLOT_FREE;
	g->free[g->nfree++] = i;
}

uint32_t jv_tcp_gate_promote(struct jv_tcp_gate *g, uint32_t i, uint64_t now)
{
	uint32_t lru = JV_TCP_NONE;

	if (i >= g->nslots || g->slot[i].state != JV_TCP_SLOT_PRE)
		return JV_TCP_NONE;
	if (g->nest >= g->est_max) {
		for (uint32_t j = 0; j < g->nslots; j++)
			if (g->slot[j].state == JV_TCP_SLOT_EST &&
			    (lru == JV_TCP_NONE ||
			     g->slot[j].last_ms < g->slot[lru].last_ms))
				lru = j;
		jv_tcp_gate_release(g, lru);
	}
	unlist_pre(g, i);
	g->slot[i].state = JV_TCP_SLOT_EST;
	g->slot[i].last_ms = now;
	g->nest++;
	return lru;
}

bool jv_tcp_gate_expired(const struct jv_tcp_gate *g, uint32_t i,
			 uint64_t now, uint64_t est_idle_ms)
{
	const struct jv_tcp_slot *s;

	if (i >= g->nslots)
		return false;
	s = &g->slot[i];
	if (s->state == JV_TCP_SLOT_PRE)
		return now - s->since_ms >= JV_TCP_PRE_TTL_MS;
	return s->state == JV_TCP_SLOT_EST && now - s->last_ms >= est_idle_ms;
}
