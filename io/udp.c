/* UDP: pinned sockets, recvmmsg/sendmmsg batches. No allocation per
 * packet: the batches live in struct jv_udp. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "io/udp.h"

/* Socket buffers the size of a burst at full rate: with the defaults
 * (212 KiB) a single TCP stream through the tunnel overflowed the
 * receiving daemon's socket tens of thousands of times in 8 s (bench/
 * tput.sh). A limit, not an allocation: memory is taken as datagrams
 * queue. FORCE passes net.core.rmem_max for a privileged daemon; else
 * the sysctl caps it. */
#define SOCK_BUF (4 << 20)

static void big_buffers(int fd)
{
	int v = SOCK_BUF;

	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v)))
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &v, sizeof(v));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)))
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
}

int jv_udp_open(struct jv_udp *u, int family,
		const struct sockaddr *bind_addr, socklen_t bind_len,
		const char *bind_device, bool dual_stack, struct jv_error *err)
{
	struct sockaddr_storage any = { .ss_family = (sa_family_t)family };
	int v6only = !dual_stack, one = 1;

	/* once per socket: the message headers must start zeroed (no
	 * control data, no flags) */
	memset(u, 0, sizeof(*u));
	u->family = (sa_family_t)family;
	u->fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (u->fd < 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0, "udp socket: %s",
				    strerror(errno));
	/* explicit both ways: net.ipv6.bindv6only must not decide */
	if (family == AF_INET6)
		setsockopt(u->fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only,
			   sizeof(v6only));
	if (bind_device && *bind_device &&
	    setsockopt(u->fd, SOL_SOCKET, SO_BINDTODEVICE, bind_device,
		       (socklen_t)strlen(bind_device)) != 0) {
		jv_error_set(err, JV_ERR_INVAL, "", 0,
			     "udp: cannot bind to device %s: %s", bind_device,
			     strerror(errno));
		goto fail;
	}
	if (!bind_len) {
		bind_addr = (const struct sockaddr *)&any;
		bind_len = family == AF_INET6 ? sizeof(struct sockaddr_in6)
					      : sizeof(struct sockaddr_in);
	}
	/* the kernel's count of what it dropped, in every datagram read:
	 * the tunnel's own losses made visible (jvpn_dropped_total) */
	(void)setsockopt(u->fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	big_buffers(u->fd);
	if (bind(u->fd, bind_addr, bind_len) != 0) {
		char a[80];

		jv_sockaddr_format(bind_addr, a, sizeof(a));
		jv_error_set(err, JV_ERR_INVAL, "", 0, "udp: cannot bind %s: %s",
			     a, strerror(errno));
		goto fail;
	}
	for (int i = 0; i < JV_UDP_BATCH; i++) {
		u->rx_iov[i].iov_base = u->rx_buf[i];
		u->rx_iov[i].iov_len = sizeof(u->rx_buf[i]);
		u->rx_msg[i].msg_hdr.msg_iov = &u->rx_iov[i];
		u->rx_msg[i].msg_hdr.msg_iovlen = 1;
		u->rx_msg[i].msg_hdr.msg_name = &u->rx_addr[i];
		u->rx_msg[i].msg_hdr.msg_control = u->rx_ctl[i].buf;
		u->tx_iov[i].iov_base = u->tx_buf[i];
		u->tx_msg[i].msg_hdr.msg_iov = &u->tx_iov[i];
		u->tx_msg[i].msg_hdr.msg_iovlen = 1;
		u->tx_msg[i].msg_hdr.msg_name = &u->tx_addr[i];
	}
	return 0;
fail:
	close(u->fd);
	u->fd = -1;
	return JV_ERR_INVAL;
}

void jv_udp_close(struct jv_udp *u)
{
	if (u->fd >= 0)
		close(u->fd);
	u->fd = -1;
}

void jv_udp_set_rcvbuf(struct jv_udp *u, int bytes)
{
	(void)setsockopt(u->fd, SOL_SOCKET, SO_RCVBUF, &bytes, sizeof(bytes));
}

int jv_udp_track_local(struct jv_udp *u, struct jv_error *err)
{
	int one = 1, rc;

	if (u->family == AF_INET6)
		rc = setsockopt(u->fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
				sizeof(one));
	else
		rc = setsockopt(u->fd, IPPROTO_IP, IP_PKTINFO, &one,
				sizeof(one));
	if (rc != 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "udp: cannot ask for arrival addresses: %s",
				    strerror(errno));
	u->track_local = true;
	return 0;
}

struct jv_udp_pool *jv_udp_pool_new(void)
{
	struct jv_udp_pool *p = malloc(sizeof(*p));

	if (!p)
		return NULL;
	memset(p->msg, 0, sizeof(p->msg));
	for (int i = 0; i < JV_UDP_POOL; i++) {
		p->iov[i].iov_base = p->buf[i];
		p->iov[i].iov_len = sizeof(p->buf[i]);
		p->msg[i].msg_hdr.msg_iov = &p->iov[i];
		p->msg[i].msg_hdr.msg_iovlen = 1;
		p->msg[i].msg_hdr.msg_name = &p->addr[i];
		p->msg[i].msg_hdr.msg_control = p->ctl[i].buf;
	}
	return p;
}

bool jv_udp_use_pool(struct jv_udp *u, struct jv_udp_pool *pool)
{
	int one = 1;

	u->pool = pool;
	u->gro = setsockopt(u->fd, SOL_UDP, UDP_GRO, &one, sizeof(one)) == 0;
	return u->gro;
}

/* The local address a datagram arrived at, from its control messages;
 * *ovfl: the socket's drop count, when the kernel said it; *gso: the size
 * of the datagrams GRO joined (0: one datagram). */
static void arrival(struct msghdr *h, struct jv_udp_local *l, uint32_t *ovfl,
		    int *gso)
{
	memset(l, 0, sizeof(*l));
	*gso = 0;
	if (!h->msg_control || (h->msg_flags & MSG_CTRUNC))
		return;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(h); c; c = CMSG_NXTHDR(h, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL &&
		    c->cmsg_len >= CMSG_LEN(sizeof(*ovfl))) {
			memcpy(ovfl, CMSG_DATA(c), sizeof(*ovfl));
		} else if (c->cmsg_level == SOL_UDP && c->cmsg_type == UDP_GRO &&
			   c->cmsg_len >= CMSG_LEN(sizeof(*gso))) {
			memcpy(gso, CMSG_DATA(c), sizeof(*gso));
		} else if (c->cmsg_level == IPPROTO_IP &&
			   c->cmsg_type == IP_PKTINFO &&
		    c->cmsg_len >= CMSG_LEN(sizeof(struct in_pktinfo))) {
			struct in_pktinfo pi;

			/* ipi_spec_dst, not ipi_addr: for unicast it is the
			 * destination, for a broadcast a local address fit
			 * to answer from */
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			l->family = AF_INET;
			l->addr.v4 = pi.ipi_spec_dst;
		} else if (c->cmsg_level == IPPROTO_IPV6 &&
			   c->cmsg_type == IPV6_PKTINFO &&
			   c->cmsg_len >=
			   CMSG_LEN(sizeof(struct in6_pktinfo))) {
			struct in6_pktinfo pi;

			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			/* a group address is no source to answer from */
			if (IN6_IS_ADDR_MULTICAST(&pi.ipi6_addr))
				continue;
			l->family = AF_INET6;
			l->addr.v6 = pi.ipi6_addr;
		}
	}
}

/* Fills the control message c with len bytes of data; returns the room
 * it takes. */
static size_t put_cmsg(struct cmsghdr *c, int level, int type,
		       const void *data, size_t len)
{
	c->cmsg_level = level;
	c->cmsg_type = type;
	c->cmsg_len = CMSG_LEN(len);
	memcpy(CMSG_DATA(c), data, len);
	return CMSG_SPACE(len);
}

/* Writes the control message that sends from `from` into ctl; returns its
 * length (0: none, the kernel picks the source). ipi_ifindex stays 0 so
 * the reply follows the routing table, which may leave by another device
 * than the request came in on. */
static size_t source_ctl(union jv_udp_ctl *ctl, sa_family_t family,
			 const struct jv_udp_local *from)
{
	struct msghdr h = { .msg_control = ctl->buf,
			    .msg_controllen = sizeof(ctl->buf) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&h);

	if (!from || from->family != family)
		return 0;
	memset(ctl, 0, sizeof(*ctl));
	if (family == AF_INET) {
		struct in_pktinfo pi = { .ipi_spec_dst = from->addr.v4 };

		return put_cmsg(c, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	}
	if (family == AF_INET6) {
		struct in6_pktinfo pi = { .ipi6_addr = from->addr.v6 };

		return put_cmsg(c, IPPROTO_IPV6, IPV6_PKTINFO, &pi, sizeof(pi));
	}
	return 0;
}

int jv_udp_share(struct jv_udp *u)
{
	int one = 1;

	return setsockopt(u->fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))
		       ? -errno : 0;
}

int jv_udp_connected_open(const struct jv_udp *l, const struct sockaddr *local,
			  socklen_t local_len, const struct sockaddr *peer,
			  socklen_t peer_len)
{
	int one = 1, e, fd;

	if (local->sa_family != l->family || peer->sa_family != l->family)
		return -EAFNOSUPPORT;
	fd = socket(l->family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if ((l->family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one))) ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)) ||
	    (l->track_local && l->family == AF_INET6 &&
	     setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one,
			sizeof(one))) ||
	    (l->track_local && l->family == AF_INET &&
	     setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one))) ||
	    (l->gro && setsockopt(fd, SOL_UDP, UDP_GRO, &one, sizeof(one))) ||
	    bind(fd, local, local_len) || connect(fd, peer, peer_len)) {
		e = -errno;
		close(fd);
		return e;
	}
	big_buffers(fd);
	return fd;
}

int jv_udp_read(struct jv_udp *u, int rounds, jv_udp_rx_cb cb, void *ctx)
{
	return jv_udp_read_fd(u, u->fd, &u->rx_ovfl, rounds, cb, ctx);
}

int jv_udp_read_fd(struct jv_udp *u, int fd, uint32_t *ovfl, int rounds,
		   jv_udp_rx_cb cb, void *ctx)
{
	/* the shared pool when there is one, else the socket's own */
	struct mmsghdr *msg = u->pool ? u->pool->msg : u->rx_msg;
	struct sockaddr_storage *addr = u->pool ? u->pool->addr : u->rx_addr;
	unsigned cap = u->pool ? JV_UDP_POOL : JV_UDP_BATCH;
	uint32_t seen = *ovfl;
	int total = 0;

	for (int r = 0; r < rounds; r++) {
		int n;

		for (unsigned i = 0; i < cap; i++) {
			struct msghdr *h = &msg[i].msg_hdr;

			/* the kernel shrinks both to what it wrote */
			h->msg_namelen = sizeof(addr[i]);
			h->msg_controllen = sizeof(union jv_udp_ctl);
		}
		n = recvmmsg(fd, msg, cap, MSG_DONTWAIT, NULL);
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK ||
			    errno == EINTR)
				break;
			/* ICMP errors of earlier sends surface here */
			if (errno == ECONNREFUSED || errno == EHOSTUNREACH ||
			    errno == ENETUNREACH)
				continue;
			return -errno;
		}
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &msg[i].msg_hdr;
			uint8_t *b = h->msg_iov->iov_base;
			size_t len = msg[i].msg_len, step;
			struct jv_udp_local local;
			int gso;

			/* a truncated datagram is not ours */
			if (h->msg_flags & MSG_TRUNC)
				continue;
			arrival(h, &local, &seen, &gso);
			/* GRO: datagrams of gso bytes each, the last shorter */
			step = gso > 0 ? (size_t)gso : len;
			if (step < len) {
				u->rx_gro++;
				if (u->rx_gro_to)
					(*u->rx_gro_to)++;
			}
			for (size_t off = 0; off < len || !len; off += step) {
				size_t k = len - off < step ? len - off : step;

				cb(ctx, (const struct sockaddr *)&addr[i],
				   h->msg_namelen, &local, b + off, k);
				total++;
				if (!len)
					break;
			}
		}
		if ((unsigned)n < cap)
			break;
	}
	/* a counter of the socket's: what it dropped since the last look */
	if (seen != *ovfl && u->rx_overflow_to)
		*u->rx_overflow_to += (uint32_t)(seen - *ovfl);
	*ovfl = seen;
	return total;
}

void jv_udp_send(struct jv_udp *u, const struct sockaddr *to, socklen_t to_len,
		 const struct jv_udp_local *from, const uint8_t *buf,
		 size_t len)
{
	struct msghdr *h;
	unsigned i;

	if (u->fd < 0 || len > JV_WIRE_MAX || to_len > sizeof(u->tx_addr[0]))
		return;
	if (u->ntx == JV_UDP_BATCH)
		jv_udp_flush(u);
	i = u->ntx++;
	memcpy(u->tx_buf[i], buf, len);
	u->tx_iov[i].iov_len = len;
	memcpy(&u->tx_addr[i], to, to_len);
	h = &u->tx_msg[i].msg_hdr;
	h->msg_namelen = to_len;
	h->msg_controllen = source_ctl(&u->tx_ctl[i], u->family, from);
	h->msg_control = h->msg_controllen ? u->tx_ctl[i].buf : NULL;
}

uint64_t jv_udp_stray_note(struct jv_udp_stray *s, uint64_t now)
{
	uint64_t n;

	s->pending++;
	if (s->reported && now - s->reported_at < JV_UDP_STRAY_REPORT_MS)
		return 0;
	n = s->pending;
	s->pending = 0;
	s->reported = true;
	s->reported_at = now;
	return n;
}

/* One sendmmsg after another until msgs[0..n) went or failed: a failed
 * one is skipped, its datagrams (cnt[i] each; NULL: 1) dropped. But a
 * send of several that the kernel refuses as such (EIO, EINVAL) stops
 * it: *stop is its index (else n), for the caller to send them singly.
 * Returns the last failed send's negative errno, else 0. */
static int send_all(struct jv_udp *u, struct mmsghdr *msgs, unsigned n,
		    const uint8_t *cnt, unsigned *stop)
{
	unsigned done = 0;
	int rc = 0;

	*stop = n;
	while (done < n) {
		int k = sendmmsg(u->fd, msgs + done, n - done, MSG_DONTWAIT);
		unsigned lost = cnt ? cnt[done] : 1;

		if (k > 0) {
			done += (unsigned)k;
			continue;
		}
		if (k < 0 && errno == EINTR)
			continue;
		rc = k < 0 ? -errno : 0;
		if (lost > 1 && (rc == -EIO || rc == -EINVAL)) {
			*stop = done;
			return rc;
		}
		/* full buffer or a dead route: UDP may lose it; skip one */
		u->tx_dropped += lost;
		if (u->tx_dropped_to)
			*u->tx_dropped_to += lost;
		done++;
	}
	return rc;
}

static bool same_dest(const struct msghdr *a, const struct msghdr *b)
{
	return a->msg_namelen == b->msg_namelen &&
	       memcmp(a->msg_name, b->msg_name, a->msg_namelen) == 0 &&
	       a->msg_controllen == b->msg_controllen &&
	       (!a->msg_controllen ||
		memcmp(a->msg_control, b->msg_control, a->msg_controllen) == 0);
}

/* The queue as runs (core of jv_udp_flush): gso_msg[0..) with gso_n
 * datagrams each; returns how many sends. */
static unsigned make_runs(struct jv_udp *u)
{
	unsigned m = 0;

	for (unsigned i = 0; i < u->ntx; m++) {
		struct msghdr *first = &u->tx_msg[i].msg_hdr, *h;
		size_t size = u->tx_iov[i].iov_len, total = size;
		unsigned j = i + 1;
		uint16_t seg = (uint16_t)size;

		/* equal sizes; a shorter one ends the run */
		while (j < u->ntx && j - i < JV_UDP_GSO_MAX &&
		       u->tx_iov[j].iov_len <= size &&
		       total + u->tx_iov[j].iov_len <= 65000 &&
		       same_dest(first, &u->tx_msg[j].msg_hdr)) {
			total += u->tx_iov[j].iov_len;
			if (u->tx_iov[j++].iov_len < size)
				break;
		}
		h = &u->gso_msg[m].msg_hdr;
		*h = *first;
		h->msg_iov = &u->tx_iov[i];
		h->msg_iovlen = j - i;
		u->gso_n[m] = (uint8_t)(j - i);
		if (j - i > 1) {
			/* the source (if any), then the segment size */
			if (first->msg_controllen)
				memcpy(u->gso_ctl[m].buf, first->msg_control,
				       first->msg_controllen);
			h->msg_control = u->gso_ctl[m].buf;
			h->msg_controllen = first->msg_controllen +
				put_cmsg((struct cmsghdr *)(u->gso_ctl[m].buf +
							   first->msg_controllen),
					 SOL_UDP, UDP_SEGMENT, &seg, sizeof(seg));
			u->gso_sends++;
			if (u->gso_sends_to)
				(*u->gso_sends_to)++;
		}
		i = j;
	}
	return m;
}

int jv_udp_flush(struct jv_udp *u)
{
	unsigned stop, m, skip = 0;
	int rc;

	if (!u->ntx)
		return 0;
	if (u->gso_off || u->ntx == 1)
		goto plain;
	m = make_runs(u);
	if (m == u->ntx)
		goto plain;     /* nothing to join */
	rc = send_all(u, u->gso_msg, m, u->gso_n, &stop);
	if (stop == m) {
		u->ntx = 0;
		return rc;
	}
	/* refused (no checksum offload on the route's device, an old
	 * kernel): from the first refused on, one by one, now and after */
	u->gso_off = true;
	for (unsigned k = 0; k < stop; k++)
		skip += u->gso_n[k];
	rc = send_all(u, u->tx_msg + skip, u->ntx - skip, NULL, &stop);
	u->ntx = 0;
	return rc;
plain:
	rc = send_all(u, u->tx_msg, u->ntx, NULL, &stop);
	u->ntx = 0;
	return rc;
}

bool jv_sockaddr_unmap(struct sockaddr_storage *ss, socklen_t *len)
{
	const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)ss;
	struct sockaddr_in a4 = { .sin_family = AF_INET };

	if (ss->ss_family != AF_INET6 || *len < sizeof(*a6) ||
	    !IN6_IS_ADDR_V4MAPPED(&a6->sin6_addr))
		return false;
	a4.sin_port = a6->sin6_port;
	memcpy(&a4.sin_addr, &a6->sin6_addr.s6_addr[12], 4);
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, &a4, sizeof(a4));
	*len = sizeof(a4);
	return true;
}

void jv_sockaddr_map(const struct sockaddr_in *a4, struct sockaddr_in6 *a6)
{
	memset(a6, 0, sizeof(*a6));
	a6->sin6_family = AF_INET6;
	a6->sin6_port = a4->sin_port;
	a6->sin6_addr.s6_addr[10] = 0xff;
	a6->sin6_addr.s6_addr[11] = 0xff;
	memcpy(&a6->sin6_addr.s6_addr[12], &a4->sin_addr, 4);
}

void jv_sockaddr_format(const struct sockaddr *sa, char *out, size_t cap)
{
	char ip[INET6_ADDRSTRLEN] = "?";

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &a->sin_addr, ip, sizeof(ip));
		snprintf(out, cap, "%s:%u", ip, ntohs(a->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &a->sin6_addr, ip, sizeof(ip));
		if (a->sin6_scope_id)
			snprintf(out, cap, "[%s%%%u]:%u", ip, a->sin6_scope_id,
				 ntohs(a->sin6_port));
		else
			snprintf(out, cap, "[%s]:%u", ip, ntohs(a->sin6_port));
	} else {
		snprintf(out, cap, "?");
	}
}
