/* TCP framing: [len:2 BE][datagram], both ways. */
#include <errno.h>
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
		  struct jv_error *err)
{
	int fd = socket(addr->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
			0), one = 1;
	char a[80];

	if (fd < 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0, "tcp socket: %s",
				    strerror(errno));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (addr->sa_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	if (bind(fd, addr, len) == 0 && listen(fd, 64) == 0)
		return fd;
	jv_sockaddr_format(addr, a, sizeof(a));
	jv_error_set(err, JV_ERR_INVAL, "", 0, "tcp: cannot listen on %s: %s",
		     a, strerror(errno));
	close(fd);
	return JV_ERR_INVAL;
}

int jv_tcp_accept(int lfd, struct jv_tcp_conn *c,
		  struct sockaddr_storage *peer, socklen_t *peer_len)
{
	int fd;

	*peer_len = sizeof(*peer);
	fd = accept4(lfd, (struct sockaddr *)peer, peer_len,
		     SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return -errno;
	jv_tcp_init(c);
	c->fd = fd;
	tune(fd);
	return 0;
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
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		c->rxlen += (size_t)n;
		bytes += (size_t)n;
		while (c->rxlen - off >= 2) {
			size_t len = (size_t)c->rx[off] << 8 | c->rx[off + 1];

			if (len == 0 || len > JV_WIRE_MAX)
				return -EPROTO;
			if (c->rxlen - off - 2 < len)
				break;
			cb(ctx, c->rx + off + 2, len);
			off += 2 + len;
			frames++;
		}
		memmove(c->rx, c->rx + off, c->rxlen - off);
		c->rxlen -= off;
	}
	return 0;
}

static int push(struct jv_tcp_conn *c)
{
	while (c->txlen) {
		ssize_t n = send(c->fd, c->tx, c->txlen, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return -errno;
		}
		memmove(c->tx, c->tx + n, c->txlen - (size_t)n);
		c->txlen -= (size_t)n;
	}
	return 0;
}

int jv_tcp_send(struct jv_tcp_conn *c, const uint8_t *buf, size_t len)
{
	if (c->fd < 0 || len == 0 || len > JV_WIRE_MAX)
		return -EINVAL;
	if (sizeof(c->tx) - c->txlen < len + 2) {
		c->tx_dropped++;
		return -ENOBUFS;
	}
	c->tx[c->txlen] = (uint8_t)(len >> 8);
	c->tx[c->txlen + 1] = (uint8_t)len;
	memcpy(c->tx + c->txlen + 2, buf, len);
	c->txlen += len + 2;
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
