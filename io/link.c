/* rtnetlink link monitor: RTM_NEWLINK / RTM_DELLINK as they happen. */
#include <errno.h>
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
	int fd;
	uint8_t buf[16384];
};

int jv_linkmon_open(struct jv_linkmon **out, struct jv_error *err)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK };
	struct jv_linkmon *m;

	*out = NULL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return jv_error_set(err, JV_ERR_NOMEM, "", 0,
				    "link monitor: out of memory");
	m->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC,
		       NETLINK_ROUTE);
	if (m->fd < 0) {
		int e = errno;

		free(m);
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "link monitor: netlink socket: %s",
				    strerror(e));
	}
	if (bind(m->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(m->fd);
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
	close(m->fd);
	free(m);
}

int jv_linkmon_fd(const struct jv_linkmon *m)
{
	return m->fd;
}

static void report(const struct nlmsghdr *h, jv_link_cb cb, void *ctx)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	const struct rtattr *a;
	char name[IFNAMSIZ] = "";

	if (len < 0)
		return;
	for (a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t n = RTA_PAYLOAD(a);

		if (a->rta_type != IFLA_IFNAME)
			continue;
		if (n >= IFNAMSIZ)
			n = IFNAMSIZ - 1;
		memcpy(name, RTA_DATA(a), n);
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

	for (h = (const struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)left);
	     h = NLMSG_NEXT(h, left))
		if (h->nlmsg_type == RTM_NEWLINK || h->nlmsg_type == RTM_DELLINK)
			report(h, cb, ctx);
}

int jv_linkmon_read(struct jv_linkmon *m, jv_link_cb cb, void *ctx)
{
	for (;;) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t n = recvfrom(m->fd, m->buf, sizeof(m->buf), MSG_TRUNC,
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
