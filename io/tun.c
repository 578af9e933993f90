/* TUN device and its configuration over rtnetlink (io/nl.h: libmnl,
 * every request ACKed). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/nl.h"
#include "io/tun.h"

/* room for one request: headers and two small attributes */
#define REQ_MAX 128

/* offloads the kernel may hand over (linux/if_tun.h; USO since 6.2,
 * missing in older headers) */
#define F_CSUM 0x01
#define F_TSO4 0x02
#define F_TSO6 0x04
#define F_USO4 0x20
#define F_USO6 0x40

static int open_tun(const char *name, short extra, int *fd,
		    char out_name[IFNAMSIZ], struct jv_error *err)
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
	ifr.ifr_flags = (short)(IFF_TUN | IFF_NO_PI | extra);
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

int jv_tun_open(const char *name, int *fd, char out_name[IFNAMSIZ],
		struct jv_error *err)
{
	return open_tun(name, 0, fd, out_name, err);
}

int jv_tun_open_offload(const char *name, int *fd, char out_name[IFNAMSIZ],
			unsigned *offload, struct jv_error *err)
{
	int hl = JV_TUN_VNET_HDR_LEN, rc;

	*offload = 0;
	rc = open_tun(name, IFF_VNET_HDR, fd, out_name, err);
	if (rc != 0)
		return open_tun(name, 0, fd, out_name, err);
	*offload = JV_TUN_VNET;
	if (ioctl(*fd, TUNSETVNETHDRSZ, &hl) != 0)
		return 0;       /* the default is this size */
	/* UDP segmentation where the kernel has it, else TCP only, else
	 * none: the header stays, every read a plain packet */
	if (ioctl(*fd, TUNSETOFFLOAD, (unsigned long)(F_CSUM | F_TSO4 | F_TSO6 |
						      F_USO4 | F_USO6)) == 0)
		*offload |= JV_TUN_CSUM | JV_TUN_TSO | JV_TUN_USO;
	else if (ioctl(*fd, TUNSETOFFLOAD,
		       (unsigned long)(F_CSUM | F_TSO4 | F_TSO6)) == 0)
		*offload |= JV_TUN_CSUM | JV_TUN_TSO;
	else if (ioctl(*fd, TUNSETOFFLOAD, (unsigned long)F_CSUM) == 0)
		*offload |= JV_TUN_CSUM;
	return 0;
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
	rc = jv_nl_transact(nl, h, txt, sizeof(txt));
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
	ifa = jv_nl_req_init(buf, &h, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE, seq,
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
	/* the queue between the kernel and this daemon's reads: at the
	 * default 500 packets a single TCP stream overflowed it thousands of
	 * times in 5 s (bench/tput.sh), each drop a retransmission */
	uint32_t qlen = JV_TUN_TXQLEN;
	bool fits;

	ifi = jv_nl_req_init(buf, &h, RTM_NEWLINK, 0, 2, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)idx;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	fits = mnl_attr_put_check(h, sizeof(buf), IFLA_MTU, sizeof(mtu), &mtu) &&
	       mnl_attr_put_check(h, sizeof(buf), IFLA_TXQLEN, sizeof(qlen),
				  &qlen);
	return request(nl, h, fits, name, "link", "set MTU and link up", err);
}

int jv_tun_configure(const char *name, const struct jv_prefix *addrs,
		     uint32_t naddrs, uint32_t mtu, struct jv_error *err)
{
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
	nl = jv_nl_open();
	if (!nl)
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "tun: %s: netlink socket: %s", name,
				    strerror(errno));
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

int jv_tun_tx_dropped(const char *name, uint64_t *out)
{
	char path[96], v[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/tx_dropped",
		 name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, v, sizeof(v) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	v[n] = '\0';
	*out = strtoull(v, NULL, 10);
	return 0;
}
