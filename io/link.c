/* rtnetlink link monitor: RTM_NEWLINK / RTM_DELLINK as they happen. The
 * socket and the message walk are libmnl's. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/link.h"

struct jv_linkmon {
	struct mnl_socket *nl;
	_Alignas(struct nlmsghdr) uint8_t buf[16384];
};

int jv_linkmon_open(struct jv_linkmon **out, struct jv_error *err)
{
	struct jv_linkmon *m;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return jv_error_set(err, JV_ERR_NOMEM, "", 0,
				    "link monitor: out of memory");
	m->nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (!m->nl) {
		int e = errno;

		free(m);
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "link monitor: netlink socket: %s",
				    strerror(e));
	}
	if (mnl_socket_bind(m->nl, RTMGRP_LINK, MNL_SOCKET_AUTOPID) != 0) {
		int e = errno;

		mnl_socket_close(m->nl);
		free(m);
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "link monitor: cannot join RTMGRP_LINK: %s",
				    strerror(e));
	}
	*out = m;
	return 0;
}

void jv_linkmon_close(struct jv_linkmon *m)
{
	if (!m)
		return;
	mnl_socket_close(m->nl);
	free(m);
}

int jv_linkmon_fd(const struct jv_linkmon *m)
{
	return mnl_socket_get_fd(m->nl);
}

static void report(const struct nlmsghdr *h, jv_link_cb cb, void *ctx)
{
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(h);
	const struct nlattr *a;
	char name[IFNAMSIZ] = "";

	if (h->nlmsg_len < mnl_nlmsg_size(sizeof(*ifi)))
		return;
	mnl_attr_for_each(a, h, sizeof(*ifi)) {
		size_t n = mnl_attr_get_payload_len(a);

		if (mnl_attr_get_type(a) != IFLA_IFNAME)
			continue;
		if (n >= IFNAMSIZ)
			n = IFNAMSIZ - 1;
		memcpy(name, mnl_attr_get_payload(a), n);
		name[n] = '\0';
	}
	if (!name[0])
		return;
	cb(ctx, name, h->nlmsg_type == RTM_NEWLINK &&
		      (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING));
}

static void parse(const uint8_t *buf, int left, jv_link_cb cb, void *ctx)
{
	const struct nlmsghdr *h;

	for (h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
	     h = mnl_nlmsg_next(h, &left))
		if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
			report(h, cb, ctx);
}

int jv_linkmon_read(struct jv_linkmon *m, jv_link_cb cb, void *ctx)
{
	for (;;) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		/* recvfrom, not mnl_socket_recvfrom: the sender and the
		 * datagram's full length are needed */
		ssize_t n = recvfrom(mnl_socket_get_fd(m->nl), m->buf,
				     sizeof(m->buf), MSG_TRUNC,
				     (struct sockaddr *)&from, &flen);

		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			/* the kernel dropped messages: the caller resyncs */
			return errno == ENOBUFS ? JV_ERR_FULL : -errno;
		}
		/* a link state is the kernel's to report, nobody else's */
		if (flen < sizeof(from) || from.nl_pid != 0)
			continue;
		/* the tail of a truncated datagram is lost, like an overrun */
		if ((size_t)n > sizeof(m->buf))
			return JV_ERR_FULL;
		parse(m->buf, (int)n, cb, ctx);
	}
}

/* ENODEV/ENXIO (and a name no interface can have) mean "no such
 * interface"; any other failure cannot vouch for the link, so it counts
 * as not usable. */
int jv_link_state(const char *ifname)
{
	size_t n = strlen(ifname);
	struct ifreq ifr;
	int fd, rc, e;

	if (n == 0 || n >= IFNAMSIZ)
		return -1;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return 0;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, n);
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	e = errno;
	close(fd);
	if (rc != 0)
		return e == ENODEV || e == ENXIO ? -1 : 0;
	return (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
}
