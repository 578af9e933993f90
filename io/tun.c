/* TUN device and its configuration over rtnetlink (no libnl: messages are
 * built by hand with explicit lengths, and every request is ACKed). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/tun.h"

/* The kernel answers rtnetlink requests synchronously; this only bounds
 * the wait if it never does. */
#define ACK_TIMEOUT_MS 2000

int jv_tun_open(const char *name, int *fd, char out_name[IFNAMSIZ],
		struct jv_error *err)
{
	struct ifreq ifr;
	size_t n = strlen(name);

	*fd = -1;
	if (n >= IFNAMSIZ)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: name \"%s\" is longer than %d characters",
				    name, IFNAMSIZ - 1);
	*fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (*fd < 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: %s: cannot open /dev/net/tun: %s",
				    name, strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TUN | IFF_NO_PI;
	memcpy(ifr.ifr_name, name, n);
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

static void req_init(struct nlreq *r, uint16_t type, uint16_t flags,
		     uint32_t seq, size_t body)
{
	memset(r, 0, sizeof(*r));
	r->nh.nlmsg_len = NLMSG_LENGTH(body);
	r->nh.nlmsg_type = type;
	r->nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	r->nh.nlmsg_seq = seq;
}

/* Appends one attribute; the caller's attributes are fixed and small, so
 * running out of room is a programming error, caught here not by the
 * kernel. */
static int add_attr(struct nlreq *r, unsigned short type, const void *data,
		    size_t len)
{
	size_t off = NLMSG_ALIGN(r->nh.nlmsg_len);
	struct rtattr *rta;

	if (off + RTA_SPACE(len) > sizeof(*r))
		return -EMSGSIZE;
	rta = (struct rtattr *)((uint8_t *)r + off);
	rta->rta_type = type;
	rta->rta_len = (unsigned short)RTA_LENGTH(len);
	memcpy(RTA_DATA(rta), data, len);
	r->nh.nlmsg_len = (uint32_t)(off + RTA_SPACE(len));
	return 0;
}

/* The kernel's own words from an extended ACK (NLMSGERR_ATTR_MSG), if it
 * sent any: "mtu less than device minimum" says more than EINVAL. */
static void ack_text(const struct nlmsghdr *h, char *txt, size_t cap)
{
	const struct nlmsgerr *e = NLMSG_DATA(h);
	size_t off = NLMSG_LENGTH(sizeof(*e));
	const struct rtattr *a;
	int left;

	txt[0] = '\0';
	if (!(h->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	/* without NLM_F_CAPPED the request itself is echoed first */
	if (!(h->nlmsg_flags & NLM_F_CAPPED)) {
		if (e->msg.nlmsg_len < sizeof(struct nlmsghdr) ||
		    e->msg.nlmsg_len > h->nlmsg_len)
			return;
		off += e->msg.nlmsg_len - sizeof(struct nlmsghdr);
	}
	off = NLMSG_ALIGN(off);
	if (off >= h->nlmsg_len)
		return;
	left = (int)(h->nlmsg_len - off);
	for (a = (const struct rtattr *)((const uint8_t *)h + off);
	     RTA_OK(a, left); a = RTA_NEXT(a, left)) {
		size_t n = RTA_PAYLOAD(a);

		if (a->rta_type != NLMSGERR_ATTR_MSG || n == 0)
			continue;
		if (n >= cap)
			n = cap - 1;
		memcpy(txt, RTA_DATA(a), n);
		txt[n] = '\0';
		return;
	}
}

/* Finds the ACK for seq in one datagram: 1 and *rc set (0 or -errno),
 * or 0 if it is not there. */
static int find_ack(const uint8_t *buf, int left, uint32_t seq, int *rc,
		    char *txt, size_t cap)
{
	const struct nlmsghdr *h;

	for (h = (const struct nlmsghdr *)buf; NLMSG_OK(h, (unsigned)left);
	     h = NLMSG_NEXT(h, left)) {
		const struct nlmsgerr *e = NLMSG_DATA(h);

		if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
			continue;
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(*e)) || e->error > 0) {
			*rc = -EPROTO;
			return 1;
		}
		*rc = e->error;
		if (*rc)
			ack_text(h, txt, cap);
		return 1;
	}
	return 0;
}

/* Sends one request and waits (bounded) for its ACK; returns 0 or -errno,
 * with the kernel's explanation in txt when it gave one. */
static int transact(int fd, struct nlreq *r, char *txt, size_t cap)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct pollfd p = { .fd = fd, .events = POLLIN };
	uint8_t buf[4096];
	int rc;

	txt[0] = '\0';
	if (sendto(fd, r, r->nh.nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	for (;;) {
		struct sockaddr_nl from;
		socklen_t flen = sizeof(from);
		ssize_t n;
		int ready = poll(&p, 1, ACK_TIMEOUT_MS);

		if (ready < 0 && errno == EINTR)
			continue;
		if (ready < 0)
			return -errno;
		if (ready == 0)
			return -ETIMEDOUT;
		n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		/* only the kernel's word counts */
		if (flen < sizeof(from) || from.nl_pid != 0)
			continue;
		if (find_ack(buf, (int)n, r->nh.nlmsg_seq, &rc, txt, cap))
			return rc;
	}
}

static int nl_fail(struct jv_error *err, const char *name, const char *what,
		   int rc, const char *txt)
{
	return jv_error_set(err, JV_ERR_INVAL, "", 0, "tun: %s: cannot %s: %s%s%s",
			    name, what, strerror(-rc), txt[0] ? ": " : "", txt);
}

static int set_addr(int fd, const char *name, unsigned idx, uint32_t addr,
		    uint8_t prefix, struct jv_error *err)
{
	struct nlreq r;
	uint32_t a = htonl(addr);
	char txt[128];
	int rc;

	/* REPLACE: re-adding the same address/prefix after a restart is fine */
	req_init(&r, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, 1,
		 sizeof(struct ifaddrmsg));
	r.u.ifa.ifa_family = AF_INET;
	r.u.ifa.ifa_prefixlen = prefix;
	r.u.ifa.ifa_index = idx;
	if (add_attr(&r, IFA_LOCAL, &a, sizeof(a)) ||
	    add_attr(&r, IFA_ADDRESS, &a, sizeof(a)))
		return jv_error_set(err, JV_ERR_SHORT, "", 0,
				    "tun: %s: address request too long", name);
	rc = transact(fd, &r, txt, sizeof(txt));
	if (rc)
		return nl_fail(err, name, "add its address", rc, txt);
	return 0;
}

static int set_link(int fd, const char *name, unsigned idx, uint32_t mtu,
		    struct jv_error *err)
{
	struct nlreq r;
	char txt[128];
	int rc;

	req_init(&r, RTM_NEWLINK, 0, 2, sizeof(struct ifinfomsg));
	r.u.ifi.ifi_family = AF_UNSPEC;
	r.u.ifi.ifi_index = (int)idx;
	r.u.ifi.ifi_flags = IFF_UP;
	r.u.ifi.ifi_change = IFF_UP;
	if (add_attr(&r, IFLA_MTU, &mtu, sizeof(mtu)))
		return jv_error_set(err, JV_ERR_SHORT, "", 0,
				    "tun: %s: link request too long", name);
	rc = transact(fd, &r, txt, sizeof(txt));
	if (rc)
		return nl_fail(err, name, "set MTU and link up", rc, txt);
	return 0;
}

int jv_tun_configure(const char *name, uint32_t addr, uint8_t prefix,
		     uint32_t mtu, struct jv_error *err)
{
	const int one = 1;
	unsigned idx;
	int fd, rc;

	if (prefix > 32)
		return jv_error_set(err, JV_ERR_RANGE, "", 0,
				    "tun: %s: prefix /%u is not an IPv4 prefix",
				    name, prefix);
	idx = if_nametoindex(name);
	if (!idx)
		return jv_error_set(err, JV_ERR_NOTFOUND, "", 0,
				    "tun: no interface %s: %s", name,
				    strerror(errno));
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: %s: netlink socket: %s", name,
				    strerror(errno));
	/* best effort: older kernels simply send no text */
	(void)setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	/* address first: the link comes up already reachable */
	rc = set_addr(fd, name, idx, addr, prefix, err);
	if (rc == 0)
		rc = set_link(fd, name, idx, mtu, err);
	close(fd);
	return rc;
}
