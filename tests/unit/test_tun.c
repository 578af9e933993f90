/* TUN device and link monitor, in a private network namespace of this
 * process (root only; skipped otherwise): the device carries a packet the
 * kernel answers, and link changes are reported as they happen. Tests
 * run in order on one device: configure, carry, reject, monitor (which
 * removes it), errors. Every wait has a deadline. */
#include <arpa/inet.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "io/link.h"
#include "io/tun.h"
#include "tests/unit/unit.h"

#define ADDR 0x0a630001u	/* 10.99.0.1 */

/* 10.99.0.1/24 and fd99::1/64 */
static const struct jv_prefix addrs[2] = {
	{ .addr = ADDR, .prefix = 24, .family = JV_IP4 },
	{ .addr6 = { 0xfd, 0x99, [15] = 1 }, .prefix = 64, .family = JV_IP6 },
};

static int tun_fd = -1;
static char name[IFNAMSIZ];

static int setup(void **state)
{
	struct jv_error err;

	(void)state;
	if (jv_tun_open("jvtest0", &tun_fd, name, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	if (tun_fd >= 0)
		close(tun_fd);
	tun_fd = -1;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left before deadline, 0 once it has passed. */
static int left_ms(int64_t deadline)
{
	int64_t d = deadline - now_ms();

	return d > 0 ? (int)d : 0;
}

static int ifreq_ioctl(unsigned long req, struct ifreq *ifr, bool clear)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	assert_true(fd >= 0);
	if (clear) {
		memset(ifr, 0, sizeof(*ifr));
		snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	}
	rc = ioctl(fd, req, ifr);
	close(fd);
	return rc;
}

/* IPv4 addresses on the device, as (address, prefix) counted. */
static int count_v4(uint32_t want, uint8_t prefix)
{
	struct ifaddrs *all, *i;
	int n = 0;

	assert_int_equal(getifaddrs(&all), 0);
	for (i = all; i; i = i->ifa_next) {
		const struct sockaddr_in *a = (void *)i->ifa_addr;
		const struct sockaddr_in *m = (void *)i->ifa_netmask;

		if (!a || a->sin_family != AF_INET || strcmp(i->ifa_name, name))
			continue;
		assert_int_equal(ntohl(a->sin_addr.s_addr), want);
		assert_int_equal(ntohl(m->sin_addr.s_addr),
				 prefix ? ~0u << (32 - prefix) : 0);
		n++;
	}
	freeifaddrs(all);
	return n;
}

/* fd99::1/64 on the device, counted. */
static int count_v6(void)
{
	struct ifaddrs *all, *i;
	int n = 0;

	assert_int_equal(getifaddrs(&all), 0);
	for (i = all; i; i = i->ifa_next) {
		const struct sockaddr_in6 *a = (void *)i->ifa_addr;

		if (!a || a->sin6_family != AF_INET6 || strcmp(i->ifa_name, name) ||
		    memcmp(&a->sin6_addr, addrs[1].addr6, 16))
			continue;
		n++;
	}
	freeifaddrs(all);
	return n;
}

static void check_configured(void)
{
	struct ifreq ifr;

	assert_int_equal(ifreq_ioctl(SIOCGIFMTU, &ifr, true), 0);
	assert_int_equal(ifr.ifr_mtu, 1400);
	assert_int_equal(ifreq_ioctl(SIOCGIFADDR, &ifr, true), 0);
	assert_int_equal(ntohl(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr),
			 ADDR);
	assert_int_equal(count_v4(ADDR, 24), 1);
	/* a TUN whose fd is open has carrier: up means running too */
	assert_int_equal(jv_link_state(name), 1);
}

JV_TEST(test_configure)
{
	struct jv_error err;

	assert_string_equal(name, "jvtest0");
	assert_int_equal(jv_link_state(name), 0);
	assert_int_equal(jv_tun_configure(name, addrs, 1, 1400, &err), 0);
	check_configured();
	/* a queue longer than the kernel's 500 (bench/tput.sh: its drops) */
	{
		struct ifreq ifr = { 0 };
		int sk = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
		assert_int_equal(ioctl(sk, SIOCGIFTXQLEN, &ifr), 0);
		assert_int_equal(ifr.ifr_qlen, JV_TUN_TXQLEN);
		close(sk);
	}
	/* again: a restart finds it configured, and nothing doubles */
	assert_int_equal(jv_tun_configure(name, addrs, 1, 1400, &err), 0);
	check_configured();
}

/* Both families; IPv6 switched on for a device that has it off (as
 * net.ipv6.conf.default.disable_ipv6=1 leaves a new one). */
JV_TEST(test_configure_ipv6)
{
	char path[96];
	struct jv_error err;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6",
		 name);
	if (!(f = fopen(path, "w")))
		skip();
	fputs("1\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(jv_tun_configure(name, addrs, 2, 1400, &err), 0);
	check_configured();
	assert_int_equal(count_v6(), 1);
	assert_int_equal(jv_tun_configure(name, addrs, 2, 1400, &err), 0);
	assert_int_equal(count_v6(), 1);
	assert_int_equal(count_v4(ADDR, 24), 1);
}

static uint16_t csum(const uint8_t *p, size_t n)
{
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)p[i] << 8 | p[i + 1];
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The echo reply to req, exactly: addresses swapped, type 0, same id,
 * sequence and payload, both checksums valid. */
static bool is_reply(const uint8_t *in, ssize_t n, const uint8_t *req,
		     size_t len)
{
	if (n != (ssize_t)len || in[0] != 0x45 || in[9] != 1)
		return false;
	if (memcmp(in + 12, req + 16, 4) || memcmp(in + 16, req + 12, 4))
		return false;
	assert_int_equal(csum(in, 20), 0);
	assert_int_equal(csum(in + 20, len - 20), 0);
	assert_int_equal(in[20], 0);	/* echo reply */
	assert_int_equal(in[21], 0);
	assert_memory_equal(in + 24, req + 24, len - 24);
	return true;
}

/* An ICMP echo from 10.99.0.2 written into the device: the kernel answers
 * through it. */
JV_TEST(test_carries_packets)
{
	uint8_t pkt[36] = {
		0x45, 0, 0, 36, 0x12, 0x34, 0, 0, 64, 1, 0, 0,
		10, 99, 0, 2, 10, 99, 0, 1,
		8, 0, 0, 0, 0xab, 0xcd, 0, 1,
		'j', 'v', 'p', 'n', '-', 't', 'u', 'n',
	};
	uint8_t in[2000];
	struct pollfd p = { .fd = tun_fd, .events = POLLIN };
	int64_t deadline;
	bool got = false;

	put16(pkt + 10, csum(pkt, 20));
	put16(pkt + 22, csum(pkt + 20, sizeof(pkt) - 20));
	assert_int_equal(write(tun_fd, pkt, sizeof(pkt)), sizeof(pkt));
	deadline = now_ms() + 1000;
	while (!got && left_ms(deadline) > 0) {
		ssize_t n;

		if (poll(&p, 1, left_ms(deadline)) <= 0)
			continue;
		n = read(tun_fd, in, sizeof(in));
		/* other packets (IPv6 router solicitations) may come first */
		got = is_reply(in, n, pkt, sizeof(pkt));
	}
	assert_true(got);
}

/* With IFF_VNET_HDR and offloads: every read and write carries the
 * virtio_net_hdr; a zeroed one on a write is a plain packet, and the
 * kernel's answer comes behind one (no GSO for a small reply). */
JV_TEST(test_offload_carries_packets)
{
	static const struct jv_prefix a = { .addr = 0x0a620001u,
					    .prefix = 24, .family = JV_IP4 };
	uint8_t pkt[10 + 36] = {
		[10] = 0x45, 0, 0, 36, 0x12, 0x34, 0, 0, 64, 1, 0, 0,
		10, 98, 0, 2, 10, 98, 0, 1,
		8, 0, 0, 0, 0xab, 0xcd, 0, 1,
		'j', 'v', 'p', 'n', '-', 't', 'u', 'n',
	};
	uint8_t in[70000];
	struct pollfd p = { .events = POLLIN };
	struct jv_error err;
	char n[IFNAMSIZ];
	unsigned off;
	int64_t deadline;
	bool got = false;

	assert_int_equal(jv_tun_open_offload("jvoff0", &p.fd, n, &off, &err), 0);
	assert_true(off & JV_TUN_VNET);
	assert_true(off & JV_TUN_CSUM);
	assert_true(off & JV_TUN_TSO);
	assert_int_equal(jv_tun_configure(n, &a, 1, 1400, &err), 0);
	put16(pkt + 20, csum(pkt + 10, 20));
	put16(pkt + 32, csum(pkt + 30, 16));
	assert_int_equal(write(p.fd, pkt, sizeof(pkt)), sizeof(pkt));
	deadline = now_ms() + 1000;
	while (!got && left_ms(deadline) > 0) {
		ssize_t r;

		if (poll(&p, 1, left_ms(deadline)) <= 0)
			continue;
		r = read(p.fd, in, sizeof(in));
		got = r > 10 && in[1] == 0 &&
		      is_reply(in + 10, r - 10, pkt + 10, 36);
	}
	assert_true(got);
	close(p.fd);
}

/* The kernel refuses; the message names the device and says why. */
JV_TEST(test_configure_rejected)
{
	struct jv_error err;

	struct jv_prefix long4 = { .addr = ADDR, .prefix = 33, .family = JV_IP4 };

	assert_int_equal(jv_tun_configure(name, addrs, 1, 50, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "jvtest0"));
	assert_non_null(strstr(err.msg, "MTU"));
	/* the kernel's extended ACK text, not just EINVAL */
	assert_non_null(strstr(err.msg, "device minimum"));
	assert_int_equal(jv_tun_configure(name, &long4, 1, 1400, &err),
			 JV_ERR_RANGE);
	assert_non_null(strstr(err.msg, "jvtest0"));
	/* neither attempt left a trace */
	check_configured();
}

struct seen {
	int reports;
	bool last_up, gone;
	int last_ifindex;
};

static void on_link(void *ctx, const char *ifname, int ifindex,
		    enum jv_link_status st)
{
	struct seen *s = ctx;

	if (strcmp(ifname, "jvtest0") != 0)
		return;
	s->reports++;
	s->last_up = st == JV_LINK_UP;
	s->last_ifindex = ifindex;
	s->gone = st == JV_LINK_GONE;
}

/* Reads reports until the device's last one says up (or 2 s pass); the
 * last one in *last (NULL: not wanted). */
static bool wait_for_seen(struct jv_linkmon *m, bool up, struct seen *last)
{
	struct pollfd p = { .fd = jv_linkmon_fd(m), .events = POLLIN };
	int64_t deadline = now_ms() + 2000;
	struct seen s = { 0 }, *sp = last ? last : &s;

	*sp = (struct seen){ 0 };

	while (left_ms(deadline) > 0) {
		int r = poll(&p, 1, left_ms(deadline));

		assert_true(r >= 0);
		if (r > 0)
			assert_int_equal(jv_linkmon_read(m, on_link, sp), 0);
		if (sp->reports && sp->last_up == up)
			return true;
	}
	return false;
}

static bool wait_for(struct jv_linkmon *m, bool up)
{
	return wait_for_seen(m, up, NULL);
}

static void set_up(bool up)
{
	struct ifreq ifr;

	assert_int_equal(ifreq_ioctl(SIOCGIFFLAGS, &ifr, true), 0);
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	assert_int_equal(ifreq_ioctl(SIOCSIFFLAGS, &ifr, false), 0);
}

JV_TEST(test_link_monitor)
{
	struct jv_linkmon *m;
	struct jv_error err;
	struct seen none = { 0 }, last;
	int ifindex, again;

	assert_int_equal(jv_link_query(name, &ifindex), JV_LINK_UP);
	assert_true(ifindex > 0);
	assert_int_equal(jv_linkmon_open(&m, &err), 0);
	/* nothing happened yet: nothing reported, nothing blocks */
	assert_int_equal(jv_linkmon_read(m, on_link, &none), 0);
	assert_int_equal(none.reports, 0);
	set_up(false);
	assert_true(wait_for_seen(m, false, &last));
	assert_false(last.gone);
	assert_int_equal(last.last_ifindex, ifindex);
	assert_int_equal(jv_link_state(name), 0);
	assert_int_equal(jv_link_query(name, &again), JV_LINK_DOWN);
	assert_int_equal(again, ifindex);
	set_up(true);
	assert_true(wait_for(m, true));
	assert_int_equal(jv_link_state(name), 1);
	/* closing the descriptor removes the device: RTM_DELLINK is gone,
	 * and names the ifindex that went */
	close(tun_fd);
	tun_fd = -1;
	assert_true(wait_for_seen(m, false, &last));
	assert_true(last.gone);
	assert_int_equal(last.last_ifindex, ifindex);
	assert_int_equal(jv_link_state("jvtest0"), -1);
	assert_int_equal(jv_link_query("jvtest0", &again), JV_LINK_GONE);
	assert_int_equal(again, 0);
	jv_linkmon_close(m);
}

/* The premise of struct jv_link_pin: a device deleted and re-created
 * under the same name has a new ifindex, and a socket bound to the name
 * before stays bound to the old one. */
JV_TEST(test_recreated_device)
{
	struct jv_error err;
	char n[IFNAMSIZ];
	int fd = -1, sock, first, second, ifindex;
	const char *dev = "jvpin0";

	assert_int_equal(jv_tun_open(dev, &fd, n, &err), 0);
	assert_int_equal(jv_link_query(dev, &first), JV_LINK_DOWN);
	sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(sock >= 0);
	assert_int_equal(jv_link_bound_ifindex(sock), 0);
	assert_int_equal(setsockopt(sock, SOL_SOCKET, SO_BINDTODEVICE, dev,
				    (socklen_t)strlen(dev)), 0);
	ifindex = jv_link_bound_ifindex(sock);
	assert_int_equal(ifindex, first);
	close(fd);
	assert_int_equal(jv_link_query(dev, &ifindex), JV_LINK_GONE);
	/* a name that is not there cannot be bound to */
	{
		int s2 = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

		assert_int_not_equal(setsockopt(s2, SOL_SOCKET,
						SO_BINDTODEVICE, dev,
						(socklen_t)strlen(dev)), 0);
		close(s2);
	}
	assert_int_equal(jv_tun_open(dev, &fd, n, &err), 0);
	assert_int_equal(jv_link_query(dev, &second), JV_LINK_DOWN);
	assert_int_not_equal(second, first);
	assert_int_equal(jv_link_bound_ifindex(sock), first);
	close(sock);
	close(fd);
}

JV_TEST(test_errors)
{
	struct jv_error err;
	int fd = 0;
	char n[IFNAMSIZ];

	assert_int_equal(jv_tun_open("jvtest-twenty-chars0", &fd, n, &err),
			 JV_ERR_INVAL);
	assert_int_equal(fd, -1);
	assert_non_null(strstr(err.msg, "jvtest-twenty-chars0"));
	assert_non_null(strstr(err.msg, "longer than 15"));
	assert_int_equal(jv_tun_configure("jvmissing0", addrs, 1, 1400, &err),
			 JV_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "jvmissing0"));
	assert_non_null(strstr(err.msg, "No such device"));
	assert_int_equal(jv_link_state("jvmissing0"), -1);
	assert_int_equal(jv_link_state("jvtest-twenty-chars0"), -1);
}

/* a namespace of our own: nothing on the host is touched */
static const char *own_namespace(void)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0 ||
	    access("/dev/net/tun", R_OK | W_OK) != 0)
		return "needs root, network namespaces and /dev/net/tun";
	return NULL;
}

JV_TEST_GROUP_SKIP(setup, teardown, own_namespace);
