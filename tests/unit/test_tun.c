/* TUN device and link monitor, in a private network namespace of this
 * process (root only; skipped otherwise): the device carries a packet the
 * kernel answers, and link changes are reported as they happen. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/link.h"
#include "io/tun.h"

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

static int ifreq_ioctl(unsigned long req, struct ifreq *ifr)
{
	int fd = socket(AF_INET, SOCK_DGRAM, 0), rc;

	memset(ifr, 0, sizeof(*ifr));
	snprintf(ifr->ifr_name, IFNAMSIZ, "%s", name);
	rc = ioctl(fd, req, ifr);
	close(fd);
	return rc;
}

static void test_configure(void **state)
{
	struct jv_error err;
	struct ifreq ifr;

	(void)state;
	assert_string_equal(name, "jvtest0");
	assert_int_equal(jv_tun_configure(name, 0x0a630001, 24, 1400, &err), 0);
	assert_int_equal(ifreq_ioctl(SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1400);
	assert_int_equal(ifreq_ioctl(SIOCGIFADDR, &ifr), 0);
	assert_int_equal(ntohl(((struct sockaddr_in *)&ifr.ifr_addr)->sin_addr.s_addr),
			 0x0a630001);
	assert_int_equal(jv_link_state(name), 1);
	/* again: a restart finds it configured */
	assert_int_equal(jv_tun_configure(name, 0x0a630001, 24, 1400, &err), 0);
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

/* An ICMP echo from 10.99.0.2 written into the device: the kernel answers
 * through it. */
static void test_carries_packets(void **state)
{
	uint8_t pkt[28] = {
		0x45, 0, 0, 28, 0x12, 0x34, 0, 0, 64, 1, 0, 0,
		10, 99, 0, 2, 10, 99, 0, 1,
		8, 0, 0, 0, 0xab, 0xcd, 0, 1,
	};
	uint8_t in[2000];
	struct pollfd p = { .fd = tun_fd, .events = POLLIN };
	uint16_t c;
	bool got = false;

	(void)state;
	c = csum(pkt, 20);
	pkt[10] = (uint8_t)(c >> 8);
	pkt[11] = (uint8_t)c;
	c = csum(pkt + 20, 8);
	pkt[22] = (uint8_t)(c >> 8);
	pkt[23] = (uint8_t)c;
	assert_int_equal(write(tun_fd, pkt, sizeof(pkt)), sizeof(pkt));
	for (int i = 0; i < 20 && !got; i++) {
		ssize_t n;

		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(tun_fd, in, sizeof(in));
		/* other packets (IPv6 router solicitations) may come first */
		got = n >= 28 && in[0] == 0x45 && in[9] == 1 && in[20] == 0 &&
		      memcmp(in + 12, pkt + 16, 4) == 0 &&
		      in[24] == 0xab && in[25] == 0xcd;
	}
	assert_true(got);
}

struct seen {
	bool down, up, gone;
};

static void on_link(void *ctx, const char *ifname, bool up)
{
	struct seen *s = ctx;

	if (strcmp(ifname, "jvtest0") != 0)
		return;
	if (up)
		s->up = true;
	else
		s->down = true;
}

static bool wait_for(struct jv_linkmon *m, struct seen *s, bool *flag)
{
	struct pollfd p = { .fd = jv_linkmon_fd(m), .events = POLLIN };

	for (int i = 0; i < 20 && !*flag; i++)
		if (poll(&p, 1, 100) > 0)
			assert_int_equal(jv_linkmon_read(m, on_link, s), 0);
	return *flag;
}

static void set_up(bool up)
{
	struct ifreq ifr;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	assert_int_equal(ifreq_ioctl(SIOCGIFFLAGS, &ifr), 0);
	if (up)
		ifr.ifr_flags |= IFF_UP;
	else
		ifr.ifr_flags &= ~IFF_UP;
	assert_int_equal(ioctl(fd, SIOCSIFFLAGS, &ifr), 0);
	close(fd);
}

static void test_link_monitor(void **state)
{
	struct jv_linkmon *m;
	struct jv_error err;
	struct seen s = { 0 };

	(void)state;
	assert_int_equal(jv_linkmon_open(&m, &err), 0);
	set_up(false);
	assert_true(wait_for(m, &s, &s.down));
	assert_int_equal(jv_link_state(name), 0);
	s.up = false;
	set_up(true);
	assert_true(wait_for(m, &s, &s.up));
	assert_int_equal(jv_link_state(name), 1);
	/* closing the descriptor removes the device */
	s.down = false;
	close(tun_fd);
	tun_fd = -1;
	assert_true(wait_for(m, &s, &s.down));
	assert_int_equal(jv_link_state("jvtest0"), -1);
	jv_linkmon_close(m);
}

static void test_errors(void **state)
{
	struct jv_error err;
	int fd;
	char n[IFNAMSIZ];

	(void)state;
	assert_int_not_equal(jv_tun_open("a-name-far-too-long-for-linux", &fd, n,
					 &err), 0);
	assert_non_null(strstr(err.msg, "longer than 15"));
	assert_int_not_equal(jv_tun_configure("jvmissing0", 0x0a000001, 24, 1400,
					      &err), 0);
	assert_non_null(strstr(err.msg, "jvmissing0"));
	assert_int_equal(jv_link_state("jvmissing0"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_configure),
		cmocka_unit_test(test_carries_packets),
		cmocka_unit_test(test_link_monitor),
		cmocka_unit_test(test_errors),
	};

	/* a namespace of our own: nothing on the host is touched */
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0 ||
	    access("/dev/net/tun", R_OK | W_OK) != 0) {
		fprintf(stderr, "skipped: needs root, network namespaces and "
			"/dev/net/tun\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, setup, NULL);
}
