/* TUN device and its configuration over rtnetlink (no libnl: messages are
 * built by hand with explicit lengths, and every request is ACKed). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/tun.h"

int jv_tun_open(const char *name, int *fd, char out_name[IFNAMSIZ],
		struct jv_error *err)
{
	struct ifreq ifr;

	*fd = -1;
	if (strlen(name) >= IFNAMSIZ)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: name \"%s\" is longer than %d characters",
				    name, IFNAMSIZ - 1);
	*fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: cannot open /dev/net/tun: %s",
				    strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, strlen(name));
	if (ioctl(*fd, TUNSETIFF, &ifr) != 0) {
		int e = errno;

		close(*fd);
		*fd = -1;
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: cannot create %s: %s", name, strerror(e));
	}
	memcpy(out_name, ifr.ifr_name, IFNAMSIZ);
	out_name[IFNAMSIZ - 1] = '\0';
	return 0;
}

struct nlreq {
	struct nlmsghdr nh;
	union {
		struct ifinfomsg ifi;
		struct ifaddrmsg ifa;
	} u;
	uint8_t attrs[64];
};

static void add_attr(struct nlreq *r, unsigned short type, const void *data,
		     size_t len)
{
	struct rtattr *rta = (struct rtattr *)((uint8_t *)r +
					       NLMSG_ALIGN(r->nh.nlmsg_len));

	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = NLMSG_ALIGN(r->nh.nlmsg_len) + RTA_ALIGN(rta->rta_len);
}

/* Sends one request and waits for its ACK; returns 0 or -errno. */
static int transact(int fd, struct nlreq *r)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint8_t buf[4096];
	ssize_t n;

	r->nh.nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	if (sendto(fd, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		struct nlmsghdr *h;
		int left;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		left = (int)n;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != r->nh.nlmsg_seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
					return -EPROTO;
				return e->error;
			}
		}
	}
}

int jv_tun_configure(const char *name, uint32_t addr, uint8_t prefix,
		     uint32_t mtu, struct jv_error *err)
{
	unsigned idx = if_nametoindex(name);
	struct nlreq r;
	uint32_t a = htonl(addr);
	int fd, rc;
	const char *what = "";

	if (!idx)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: no interface %s: %s", name,
				    strerror(errno));
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: netlink socket: %s", strerror(errno));
	/* MTU and link up */
	memset(&r, 0, sizeof(r));
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
	r.nh.nlmsg_type = RTM_NEWLINK;
	r.nh.nlmsg_seq = 1;
	r.u.ifi.ifi_family = AF_UNSPEC;
	r.u.ifi.ifi_index = (int)idx;
	r.u.ifi.ifi_flags = IFF_UP;
	r.u.ifi.ifi_change = IFF_UP;
	add_attr(&r, IFLA_MTU, &mtu, sizeof(mtu));
	rc = transact(fd, &r);
	what = "set MTU and link up";
	if (rc == 0) {
		/* the address; replacing keeps a restart idempotent */
		memset(&r, 0, sizeof(r));
		r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifaddrmsg));
		r.nh.nlmsg_type = RTM_NEWADDR;
		r.nh.nlmsg_flags = NLM_F_CREATE | NLM_F_REPLACE;
		r.nh.nlmsg_seq = 2;
		r.u.ifa.ifa_family = AF_INET;
		r.u.ifa.ifa_prefixlen = prefix;
		r.u.ifa.ifa_index = idx;
		add_attr(&r, IFA_LOCAL, &a, sizeof(a));
		add_attr(&r, IFA_ADDRESS, &a, sizeof(a));
		rc = transact(fd, &r);
		what = "add its address";
	}
	close(fd);
	if (rc != 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: %s: cannot %s: %s", name, what,
				    strerror(-rc));
	return 0;
}
