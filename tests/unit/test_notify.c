/* sd_notify without libsystemd (io/notify.c): the datagram reaches a
 * listener at a path and at an abstract name, and nothing is sent when
 * the daemon was not started by a service manager. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/notify.h"
#include "tests/unit/unit.h"

/* A datagram socket bound to name ('@' first: abstract). */
static int listener(const char *name)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	memcpy(sa.sun_path, name, n);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	assert_int_equal(bind(fd, (struct sockaddr *)&sa,
			      (socklen_t)(offsetof(struct sockaddr_un,
						   sun_path) + n +
					  (name[0] == '/'))), 0);
	return fd;
}

static void expect_datagram(int fd, const char *want)
{
	char buf[256];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	assert_true(n >= 0);
	buf[n] = '\0';
	assert_string_equal(buf, want);
}

JV_TEST(unset_sends_nothing)
{
	unsetenv("NOTIFY_SOCKET");
	assert_int_equal(jv_sd_notify("READY=1"), 0);
	setenv("NOTIFY_SOCKET", "", 1);
	assert_int_equal(jv_sd_notify("READY=1"), 0);
}

JV_TEST(path_socket)
{
	char dir[] = "/tmp/jvpn-notify-XXXXXX", path[64];
	int fd;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/notify", dir);
	fd = listener(path);
	setenv("NOTIFY_SOCKET", path, 1);
	assert_int_equal(jv_sd_notify("READY=1\nSTATUS=running"), 1);
	expect_datagram(fd, "READY=1\nSTATUS=running");
	assert_int_equal(jv_sd_notify("STOPPING=1"), 1);
	expect_datagram(fd, "STOPPING=1");
	close(fd);
	unlink(path);
	rmdir(dir);
	/* nobody listens any more: an error, not a crash or a hang */
	assert_true(jv_sd_notify("READY=1") < 0);
	unsetenv("NOTIFY_SOCKET");
}

JV_TEST(abstract_socket)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@jvpn-test-notify-%ld", (long)getpid());
	fd = listener(name);
	setenv("NOTIFY_SOCKET", name, 1);
	assert_int_equal(jv_sd_notify("READY=1"), 1);
	expect_datagram(fd, "READY=1");
	close(fd);
	unsetenv("NOTIFY_SOCKET");
}

JV_TEST(other_addresses_refused)
{
	char longname[200];

	setenv("NOTIFY_SOCKET", "vsock:2:1234", 1);
	assert_int_equal(jv_sd_notify("READY=1"), -EAFNOSUPPORT);
	memset(longname, 'a', sizeof(longname) - 1);
	longname[0] = '/';
	longname[sizeof(longname) - 1] = '\0';
	setenv("NOTIFY_SOCKET", longname, 1);
	assert_int_equal(jv_sd_notify("READY=1"), -ENAMETOOLONG);
	unsetenv("NOTIFY_SOCKET");
}
