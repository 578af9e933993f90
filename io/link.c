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
	cb(ctx, name, ifi->ifi_index,
	   h->nlmsg_type == RTM_DELLINK ? JV_LINK_GONE
	   : (ifi->ifi_flags & IFF_UP) && (ifi->ifi_flags & IFF_RUNNING)
		   ? JV_LINK_UP
		   : JV_LINK_DOWN);
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
enum jv_link_status jv_link_query(const char *ifname, int *ifindex)
{
	size_t n = strlen(ifname);
	struct ifreq ifr;
	int fd, rc, e;
	short flags;

	*ifindex = 0;
	if (n == 0 || n >= IFNAMSIZ)
		return JV_LINK_GONE;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return JV_LINK_DOWN;
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, ifname, n);
	rc = ioctl(fd, SIOCGIFFLAGS, &ifr);
	e = errno;
	flags = ifr.ifr_flags;
	if (rc == 0) {
		/* the device may go between the two calls: then it is gone */
		rc = ioctl(fd, SIOCGIFINDEX, &ifr);
		e = errno;
		if (rc == 0)
			*ifindex = ifr.ifr_ifindex;
	}
	close(fd);
	if (rc != 0)
		return e == ENODEV || e == ENXIO ? JV_LINK_GONE : JV_LINK_DOWN;
	return (flags & IFF_UP) && (flags & IFF_RUNNING) ? JV_LINK_UP
							 : JV_LINK_DOWN;
}

int jv_link_state(const char *ifname)
{
	int ifindex;

	switch (jv_link_query(ifname, &ifindex)) {
	case JV_LINK_UP:
		return 1;
	case JV_LINK_DOWN:
		return 0;
	default:
		return -1;
	}
}

/* ---- a socket pinned to a device name ---- */

unsigned jv_link_pin_step(struct jv_link_pin *pin, int ifindex,
			  enum jv_link_status state)
{
	unsigned steps = 0;
	bool usable;

	if (ifindex <= 0)
		state = JV_LINK_GONE, ifindex = 0;
	/* the deletion of another device of that name than the one bound
	 * to: an older one, its report read after the current state was
	 * asked for (after an overrun) */
	if (state == JV_LINK_GONE && ifindex && pin->ifindex &&
	    ifindex != pin->ifindex)
		return 0;
	if (pin->ifindex && (state == JV_LINK_GONE || ifindex != pin->ifindex)) {
		steps |= JV_PIN_CLOSE;
		pin->ifindex = 0;
	}
	/* a socket for a device that is up; one that is down keeps its
	 * socket, as after `ip link set down` */
	if (state == JV_LINK_UP && !pin->ifindex) {
		steps |= JV_PIN_OPEN;
		pin->ifindex = ifindex;
	}
	usable = state == JV_LINK_UP;
	if (usable && (!pin->up || (steps & JV_PIN_OPEN)))
		steps |= JV_PIN_UP;
	else if (!usable && pin->up)
		steps |= JV_PIN_DOWN;
	pin->up = usable;
	return steps;
}

unsigned jv_link_pin_open_failed(struct jv_link_pin *pin, bool was_up)
{
	pin->ifindex = 0;
	pin->up = false;
	return was_up ? JV_PIN_DOWN : 0;
}

int jv_link_bound_ifindex(int fd)
{
#ifdef SO_BINDTOIFINDEX
	int ifindex = 0;
	socklen_t len = sizeof(ifindex);

	if (fd >= 0 &&
	    getsockopt(fd, SOL_SOCKET, SO_BINDTOIFINDEX, &ifindex, &len) == 0 &&
	    len == sizeof(ifindex) && ifindex > 0)
		return ifindex;
#else
	(void)fd;
#endif
	return 0;
}
