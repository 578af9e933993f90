/* TUN device and its configuration over rtnetlink: requests built and
 * replies walked with libmnl (bounds-checked attributes, no hand-computed
 * offsets), every request ACKed. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <libmnl/libmnl.h>
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
/* room for one request: headers and two small attributes */
#define REQ_MAX 128

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

/* Finds the kernel's own words in an extended ACK (NLMSGERR_ATTR_MSG), if
 * it sent any: "mtu less than device minimum" says more than EINVAL. */
static void ack_text(const struct nlmsghdr *h, char *txt, size_t cap)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
	size_t off = sizeof(*e);
	const struct nlattr *a;

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
	mnl_attr_for_each(a, h, off) {
		size_t n = mnl_attr_get_payload_len(a);

		if (mnl_attr_get_type(a) != NLMSGERR_ATTR_MSG || n == 0)
			continue;
		if (n >= cap)
			n = cap - 1;
		memcpy(txt, mnl_attr_get_payload(a), n);
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

	for (h = (const struct nlmsghdr *)buf; mnl_nlmsg_ok(h, left);
	     h = mnl_nlmsg_next(h, &left)) {
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);

		if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
			continue;
		if (h->nlmsg_len < mnl_nlmsg_size(sizeof(*e)) || e->error > 0) {
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
 * with the kernel's explanation in txt when it gave one. The reply is read
 * with recvfrom, not mnl_socket_recvfrom, to see who sent it. */
static int transact(struct mnl_socket *nl, const struct nlmsghdr *req,
		    char *txt, size_t cap)
{
	struct pollfd p = { .fd = mnl_socket_get_fd(nl), .events = POLLIN };
	_Alignas(struct nlmsghdr) uint8_t buf[4096];
	int rc;

	txt[0] = '\0';
	if (mnl_socket_sendto(nl, req, req->nlmsg_len) < 0)
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
		n = recvfrom(p.fd, buf, sizeof(buf), MSG_DONTWAIT,
			     (struct sockaddr *)&from, &flen);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -errno;
		/* only the kernel's word counts */
		if (flen < sizeof(from) || from.nl_pid != 0)
			continue;
		if (find_ack(buf, (int)n, req->nlmsg_seq, &rc, txt, cap))
			return rc;
	}
}

/* Starts a request in buf (the ACK asked for): *h is its header; returns
 * its family header, zeroed. */
static void *req_init(uint8_t *buf, struct nlmsghdr **h, uint16_t type,
		      uint16_t flags, uint32_t seq, size_t fam_len)
{
	*h = mnl_nlmsg_put_header(buf);
	(*h)->nlmsg_type = type;
	(*h)->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	(*h)->nlmsg_seq = seq;
	return mnl_nlmsg_put_extra_header(*h, fam_len);
}

/* Sends the kind ("address", "link") request h for interface name and
 * waits for the kernel's answer; fits: its attributes fitted the buffer
 * (running out of room is a programming error, caught here, not by the
 * kernel). what: what it does, for the error. */
static int request(struct mnl_socket *nl, struct nlmsghdr *h, bool fits,
		   const char *name, const char *kind, const char *what,
		   struct jv_error *err)
{
	char txt[128];
	int rc;

	if (!fits)
		return jv_error_set(err, JV_ERR_SHORT, "", 0,
				    "tun: %s: %s request too long", name, kind);
	rc = transact(nl, h, txt, sizeof(txt));
	if (rc)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: %s: cannot %s: %s%s%s", name, what,
				    strerror(-rc), txt[0] ? ": " : "", txt);
	return 0;
}

static int set_addr(struct mnl_socket *nl, const char *name, unsigned idx,
		    const struct jv_prefix *p, uint32_t seq,
		    struct jv_error *err)
{
	_Alignas(struct nlmsghdr) uint8_t buf[REQ_MAX];
	struct nlmsghdr *h;
	struct ifaddrmsg *ifa;
	uint8_t a[16];
	size_t n = p->family == JV_IP6 ? 16 : 4;
	/* nothing else answers on a TUN: duplicate address detection would
	 * only keep the address tentative (unusable) for a second or more */
	uint32_t flags = p->family == JV_IP6 ? IFA_F_NODAD : 0;
	char what[80], ip[INET6_ADDRSTRLEN];
	bool fits;

	jv_prefix_bytes(p, a);
	/* REPLACE: re-adding the same address/prefix after a restart is fine */
	ifa = req_init(buf, &h, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, seq,
		       sizeof(*ifa));
	ifa->ifa_family = p->family == JV_IP6 ? AF_INET6 : AF_INET;
	ifa->ifa_prefixlen = p->prefix;
	ifa->ifa_flags = (uint8_t)flags;
	ifa->ifa_index = idx;
	/* the attributes are fixed and small */
	fits = mnl_attr_put_check(h, sizeof(buf), IFA_LOCAL, n, a) &&
	       mnl_attr_put_check(h, sizeof(buf), IFA_ADDRESS, n, a) &&
	       mnl_attr_put_check(h, sizeof(buf), IFA_FLAGS, sizeof(flags),
				  &flags);
	inet_ntop(ifa->ifa_family, a, ip, sizeof(ip));
	snprintf(what, sizeof(what), "add address %s/%u", ip, p->prefix);
	return request(nl, h, fits, name, "address", what, err);
}

/* A new device inherits net.ipv6.conf.default.disable_ipv6: an IPv6
 * address on it is refused until IPv6 is switched on for it. */
static int enable_ipv6(const char *name, struct jv_error *err)
{
	char path[96], v = '1';
	int fd;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: %s: IPv6 is not available (%s: %s)",
				    name, path, strerror(errno));
	if (read(fd, &v, 1) == 1 && v == '0') {
		close(fd);
		return 0;
	}
	if (pwrite(fd, "0\n", 2, 0) != 2) {
		int e = errno;

		close(fd);
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: %s: cannot enable IPv6 (%s: %s)",
				    name, path, strerror(e));
	}
	close(fd);
	return 0;
}

static int set_link(struct mnl_socket *nl, const char *name, unsigned idx,
		    uint32_t mtu, struct jv_error *err)
{
	_Alignas(struct nlmsghdr) uint8_t buf[REQ_MAX];
	struct nlmsghdr *h;
	struct ifinfomsg *ifi;
	bool fits;

	ifi = req_init(buf, &h, RTM_NEWLINK, 0, 2, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)idx;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	fits = mnl_attr_put_check(h, sizeof(buf), IFLA_MTU, sizeof(mtu), &mtu);
	return request(nl, h, fits, name, "link", "set MTU and link up", err);
}

int jv_tun_configure(const char *name, const struct jv_prefix *addrs,
		     uint32_t naddrs, uint32_t mtu, struct jv_error *err)
{
	int one = 1;
	struct mnl_socket *nl;
	bool v6 = false;
	unsigned idx;
	int rc = 0;

	for (uint32_t i = 0; i < naddrs; i++) {
		if (addrs[i].prefix > jv_ip_bits(addrs[i].family) ||
		    !jv_ip_bits(addrs[i].family))
			return jv_error_set(err, JV_ERR_RANGE, "", 0,
					    "tun: %s: prefix /%u is too long for "
					    "an IPv%c address", name,
					    addrs[i].prefix,
					    addrs[i].family == JV_IP6 ? '6' : '4');
		v6 |= addrs[i].family == JV_IP6;
	}
	idx = if_nametoindex(name);
	if (!idx)
		return jv_error_set(err, JV_ERR_NOTFOUND, "", 0,
				    "tun: no interface %s: %s", name,
				    strerror(errno));
	nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);
	if (!nl)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: %s: netlink socket: %s", name,
				    strerror(errno));
	/* best effort: older kernels simply send no text */
	(void)mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (v6)
		rc = enable_ipv6(name, err);
	/* addresses first: the link comes up already reachable */
	for (uint32_t i = 0; rc == 0 && i < naddrs; i++)
		rc = set_addr(nl, name, idx, &addrs[i], 10 + i, err);
	if (rc == 0)
		rc = set_link(nl, name, idx, mtu, err);
	mnl_socket_close(nl);
	return rc;
}
