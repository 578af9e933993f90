/* Outer addresses (cli/addr.c): what the parser takes and refuses (IPv4,
 * [IPv6], link-local scopes, host names, ports), and the lookups left for
 * later: interface scopes and host names from the hosts file. */
#include <arpa/inet.h>
#include <net/if.h>
#include <stdio.h>
#include <netinet/in.h>
#include <string.h>

#include "cli/addr.h"
#include "tests/unit/unit.h"

#define PORT JV_ADDR_PORT
#define NAME JV_ADDR_NAME

static void ok(const char *s, unsigned flags, struct jv_sockaddr *a)
{
	const char *why = jv_addr_parse(s, flags, a);

	if (why)
		fail_msg("\"%s\": %s", s, why);
}

static void bad(const char *s, unsigned flags, const char *want)
{
	struct jv_sockaddr a;
	const char *why = jv_addr_parse(s, flags, &a);

	if (!why)
		fail_msg("\"%s\" was taken", s);
	if (!strstr(why, want))
		fail_msg("\"%s\": \"%s\", expected \"%s\"", s, why, want);
}

JV_TEST(test_parse_numeric)
{
	struct jv_sockaddr a;
	const struct sockaddr_in *a4 = (const void *)&a.ss;
	const struct sockaddr_in6 *a6 = (const void *)&a.ss;
	char buf[80];

	ok("192.0.2.1:51820", PORT, &a);
	assert_int_equal(a.len, sizeof(struct sockaddr_in));
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohs(a4->sin_port), 51820);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), 0xc0000201);
	assert_false(jv_addr_needs_lookup(&a));

	ok("[2001:db8::1]:1", PORT | NAME, &a);
	assert_int_equal(a.len, sizeof(struct sockaddr_in6));
	assert_int_equal(a6->sin6_family, AF_INET6);
	assert_int_equal(ntohs(a6->sin6_port), 1);
	assert_int_equal(a6->sin6_scope_id, 0);
	jv_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::1]:1");

	ok("[::]:65535", PORT, &a);
	assert_int_equal(ntohs(a6->sin6_port), 65535);
	/* a port is optional where it is not required */
	ok("198.51.100.7", 0, &a);
	assert_int_equal(a4->sin_port, 0);
	ok("2001:db8::7", 0, &a);
	assert_int_equal(a6->sin6_family, AF_INET6);
	ok("[2001:db8::7]", 0, &a);
	assert_int_equal(a6->sin6_family, AF_INET6);
}

JV_TEST(test_parse_scope)
{
	struct jv_sockaddr a;
	const struct sockaddr_in6 *a6 = (const void *)&a.ss;
	char buf[80];

	ok("[fe80::1%ca0]:51820", PORT, &a);
	assert_string_equal(a.scope, "ca0");
	assert_int_equal(a6->sin6_scope_id, 0);      /* looked up later */
	assert_int_equal(ntohs(a6->sin6_port), 51820);
	assert_true(jv_addr_needs_lookup(&a));
	jv_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "[fe80::1%ca0]:51820");

	ok("[fe80::1%7]:51820", PORT, &a);
	assert_string_equal(a.scope, "");
	assert_int_equal(a6->sin6_scope_id, 7);
	assert_false(jv_addr_needs_lookup(&a));
	jv_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "[fe80::1%7]:51820");

	ok("fe80::1%ca0", 0, &a);                    /* bind_address */
	assert_string_equal(a.scope, "ca0");
	ok("[ff02::1%ca0]:1", PORT, &a);             /* link-local multicast */

	bad("[fd00::1%ca0]:1", PORT, "only for a link-local address");
	bad("[2001:db8::1%1]:1", PORT, "only for a link-local address");
	bad("[fe80::1%]:1", PORT, "not an interface name");
	bad("[fe80::1%a/b]:1", PORT, "not an interface name");
	bad("[fe80::1%abcdefghijklmnop]:1", PORT, "not an interface name");
	bad("[fe80::1%0]:1", PORT, "scope index is out of range");
	bad("[fe80::1%4294967296]:1", PORT, "scope index is out of range");
	bad("[fe80::1%%ca0]:1", PORT, "not an interface name");
}

JV_TEST(test_parse_names)
{
	struct jv_sockaddr a;
	char buf[300], longest[300];

	ok("gw.example.org:51820", PORT | NAME, &a);
	assert_string_equal(a.host, "gw.example.org");
	assert_int_equal(a.port, 51820);
	assert_int_equal(a.len, 0);
	assert_true(jv_addr_needs_lookup(&a));
	jv_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "gw.example.org:51820");
	ok("localhost:1", PORT | NAME, &a);
	ok("gw.example.org.:443", PORT | NAME, &a);  /* rooted */
	ok("1gw.example:443", PORT | NAME, &a);
	ok("gw.1example:443", PORT | NAME, &a);

	/* 253 characters: four labels of 63 and one character */
	memset(longest, 'a', 253);
	longest[63] = longest[127] = longest[191] = '.';
	longest[253] = '\0';
	assert_int_equal(strlen(longest), 253);
	snprintf(buf, sizeof(buf), "%s:1", longest);
	ok(buf, PORT | NAME, &a);
	longest[250] = '.';
	snprintf(buf, sizeof(buf), "%sb:1", longest);
	bad(buf, PORT | NAME, "longer than 253");

	/* a name only where names are allowed */
	bad("gw.example.org:51820", PORT, "not a numeric address");
	bad("gw.example.org", NAME, "no port (NAME:PORT)");
	bad("gw.example.org", PORT | NAME, "no port");
	bad("gw_1.example:1", PORT | NAME, "neither an IP address nor a host name");
	bad("-gw.example:1", PORT | NAME, "neither");
	bad("gw-.example:1", PORT | NAME, "neither");
	bad("gw..example:1", PORT | NAME, "neither");
	bad(".gw.example:1", PORT | NAME, "neither");
	bad(":1", PORT | NAME, "neither");
	bad("10.0.0.256:1", PORT | NAME, "neither");   /* numeric last label */
	bad("10.1:1", PORT | NAME, "neither");
	bad("gw example:1", PORT | NAME, "neither");
	bad("gw.exa\xc3\xa9mple:1", PORT | NAME, "neither");
	memset(buf, 'a', 64);
	snprintf(buf + 64, sizeof(buf) - 64, ".example:1");
	bad(buf, PORT | NAME, "neither");               /* a label of 64 */
}

JV_TEST(test_parse_ports_and_garbage)
{
	bad("192.0.2.1:0", PORT, "out of range (1..65535)");
	bad("192.0.2.1:65536", PORT, "out of range");
	bad("192.0.2.1:99999999999999999999", PORT, "out of range");
	bad("192.0.2.1:000051820", PORT, "out of range");
	bad("192.0.2.1:-1", PORT, "not a number");
	bad("192.0.2.1:+1", PORT, "not a number");
	bad("192.0.2.1: 1", PORT, "not a number");
	bad("192.0.2.1:1x", PORT, "not a number");
	bad("192.0.2.1:", PORT, "not a number");
	bad("192.0.2.1", PORT, "no port");
	bad("[::1]", PORT, "no port");
	bad("[::1]:", PORT, "not a number");
	bad("[::1]:0", PORT, "out of range");
	bad("[::1]1", PORT, "':PORT' must follow ']'");
	bad("[::1:1", PORT, "no ']'");
	bad("::1:1", PORT, "[ADDRESS]:PORT");
	bad("[1.2.3.4]:1", PORT, "not an IPv6 address");
	bad("[::g]:1", PORT, "not an IPv6 address");
	bad("[]:1", PORT, "not an IPv6 address");
	bad("", PORT, "no port");
	bad("", 0, "not a numeric address");
	bad("", NAME, "neither");
	bad("1.2.3.4.5:1", PORT, "not a numeric address");
	bad("1.2.3.4:1:2", PORT, "too many ':'");
	bad("gw.example:1:2", PORT | NAME, "too many ':'");
	bad("[::1]:1]:2", PORT, "not a number");
}

JV_TEST(test_resolve)
{
	struct jv_sockaddr a, b;
	const struct sockaddr_in *a4 = (const void *)&a.ss;
	const struct sockaddr_in6 *a6 = (const void *)&a.ss;
	struct jv_error err;

	/* numeric: nothing to do */
	ok("192.0.2.1:51820", PORT, &a);
	b = a;
	assert_int_equal(jv_addr_resolve(&a, AF_UNSPEC, &err), 0);
	assert_memory_equal(&a, &b, sizeof(a));

	/* an interface scope: its index, and an error naming it if absent */
	ok("[fe80::1%lo]:1", PORT, &a);
	assert_int_equal(jv_addr_resolve(&a, AF_UNSPEC, &err), 0);
	assert_int_equal(a6->sin6_scope_id, if_nametoindex("lo"));
	ok("[fe80::1%jvnosuch0]:1", PORT, &a);
	assert_int_equal(jv_addr_resolve(&a, AF_UNSPEC, &err), JV_ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "no interface \"jvnosuch0\""));

	/* a name of the hosts file, in the family asked for */
	ok("localhost:51820", PORT | NAME, &a);
	if (jv_addr_resolve(&a, AF_INET, &err) != 0)
		skip();                    /* no hosts file to speak of */
	assert_int_equal(a.len, sizeof(struct sockaddr_in));
	assert_int_equal(a4->sin_family, AF_INET);
	assert_int_equal(ntohl(a4->sin_addr.s_addr), 0x7f000001);
	assert_int_equal(ntohs(a4->sin_port), 51820);
	assert_string_equal(a.host, "localhost");     /* for the next time */

	/* names compare by name, numbers by address and scope */
	ok("localhost:51820", PORT | NAME, &b);
	assert_true(jv_addr_same(&a, &b));
	ok("localhost:51821", PORT | NAME, &b);
	assert_false(jv_addr_same(&a, &b));
	ok("[fe80::1%ca0]:1", PORT, &a);
	ok("[fe80::1%cb0]:1", PORT, &b);
	assert_false(jv_addr_same(&a, &b));
	ok("[fe80::1%ca0]:1", PORT, &b);
	assert_true(jv_addr_same(&a, &b));
	/* a reload compares the file read again with the running copy,
	 * whose scope and name were looked up */
	ok("[fe80::1%lo]:1", PORT, &a);
	ok("[fe80::1%lo]:1", PORT, &b);
	assert_int_equal(jv_addr_resolve(&a, AF_UNSPEC, &err), 0);
	assert_true(jv_addr_same(&a, &b));
	ok("[fe80::2%lo]:1", PORT, &b);
	assert_false(jv_addr_same(&a, &b));
	ok("localhost:1", PORT | NAME, &a);
	ok("localhost:1", PORT | NAME, &b);
	assert_int_equal(jv_addr_resolve(&a, AF_INET, &err), 0);
	assert_true(jv_addr_same(&a, &b));
}
