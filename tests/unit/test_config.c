/* Daemon configuration: valid server and client files, the examples, and
 * one test per kind of mistake (code, line and message). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/util.h"

static char dir[256];
#define KEY "YNqHxBQ0rP3hGdzOTy3QRGEI1P7D3gk2LVMVqHdAR2s="
#define PUB "wgugwXuQf3m+pjP9CT6ugWAr3+WF7l/ijR5cylQtp1A="

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/jvcfg.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	write_file("k.key", KEY "\n", 0600);
	write_file("open.key", KEY "\n", 0644);
	write_file("bad.key", "not a key\n", 0600);
	write_file("policy.yaml",
		   "version: \"1.0\"\n"
		   "session: { max_lifetime_ms: 60000, transport_lost_ttl_ms: 5000 }\n"
		   "volatility: { loss_volatile_threshold: 0.3 }\n"
		   "switching: { max_switches_per_min: 4, recovery_window_ms: 3000 }\n"
		   "security: { reattach_proof_max_age_ms: 2000 }\n", 0644);
	write_file("badpolicy.yaml",
		   "version: \"1.0\"\n"
		   "session: { max_lifetime_ms: 60000, transport_lost_ttl_ms: 5000 }\n"
		   "volatility: { loss_volatile_threshold: 0.3 }\n"
		   "switching: { max_switches_per_min: 0, recovery_window_ms: 3000 }\n"
		   "security: { reattach_proof_max_age_ms: 2000 }\n", 0644);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char SERVER[] =
	"role: server\n"
	"node_id: gw-1\n"
	"private_key_file: k.key\n"
	"listen:\n"
	"  - { id: udp-51820, proto: udp, address: \"0.0.0.0:51820\" }\n"
	"  - { id: tcp-443, proto: tcp, address: \"[::]:443\" }\n"
	"tun: { name: jvpn0, address: 10.77.0.1/24, mtu: 1420 }\n"
	"peers:\n"
	"  - { name: laptop, public_key: \"" PUB "\", allowed_ips: [10.77.0.2/32, 10.88.0.0/16] }\n"
	"audit: { path: \"-\" }\n"
	"control_socket: /run/jvpn/gw-1.sock\n"
	"policy_file: policy.yaml\n";

static const char CLIENT[] =
	"role: client\n"
	"node_id: laptop\n"
	"private_key: \"" KEY "\"\n"
	"server_public_key: \"" PUB "\"\n"
	"transports:\n"
	"  - { id: udp-a, proto: udp, remote: \"192.0.2.1:51820\", bind_device: wlan0 }\n"
	"  - { id: tcp-a, proto: tcp, remote: \"192.0.2.1:443\", bind_address: \"192.0.2.77\" }\n"
	"tun: { name: jvpn0, address: 10.77.0.2/24 }\n"
	"audit: { path: /var/log/jvpn/audit.jsonl }\n"
	"control_socket: /run/jvpn/laptop.sock\n"
	"on_terminated: reconnect\n"
	"policy:\n"
	"  version: \"1.0\"\n"
	"  session: { max_lifetime_ms: 60000, transport_lost_ttl_ms: 5000 }\n"
	"  volatility: { loss_volatile_threshold: 0.3 }\n"
	"  switching: { max_switches_per_min: 4, recovery_window_ms: 3000 }\n"
	"  security: { reattach_proof_max_age_ms: 2000 }\n";

static int parse(struct jv_config *cfg, const char *text, struct jv_error *err)
{
	char file[300];

	snprintf(file, sizeof(file), "%s/test.yaml", dir);
	memset(err, 0, sizeof(*err));
	return jv_config_parse(cfg, text, strlen(text), file, err);
}

/* Parses base with the first occurrence of `from` replaced by `to`, and
 * expects an error at line with needle in the message. */
static void bad(const char *base, const char *from, const char *to, int line,
		const char *needle)
{
	static struct jv_config cfg;
	struct jv_error err;
	char text[4096];
	const char *p = strstr(base, from);

	assert_non_null(p);
	snprintf(text, sizeof(text), "%.*s%s%s", (int)(p - base), base, to,
		 p + strlen(from));
	if (parse(&cfg, text, &err) == 0)
		fail_msg("accepted: %s -> %s", from, to);
	if (err.line != line || !strstr(err.msg, needle))
		fail_msg("%s -> %s: expected line %d '%s', got %d: %s", from, to,
			 line, needle, err.line, err.msg);
}

static void test_server(void **state)
{
	static struct jv_config cfg;
	struct jv_endpoint_cfg ec;
	struct jv_error err;
	uint8_t key[32];

	(void)state;
	assert_int_equal(parse(&cfg, SERVER, &err), 0);
	assert_int_equal(cfg.role, JV_ROLE_SERVER);
	assert_string_equal(cfg.node_id, "gw-1");
	jv_key_from_base64(KEY, key);
	assert_memory_equal(cfg.private_key, key, 32);
	assert_int_equal(cfg.nlisten, 2);
	assert_int_equal(cfg.listen[1].proto, JV_PROTO_TCP);
	assert_int_equal(cfg.listen[1].addr.ss.ss_family, AF_INET6);
	assert_int_equal(cfg.npeers, 1);
	assert_int_equal(cfg.peers[0].nallowed, 2);
	assert_int_equal(cfg.peers[0].allowed[1].addr, 0x0a580000);
	assert_int_equal(cfg.peers[0].allowed[1].prefix, 16);
	assert_int_equal(cfg.tun.addr, 0x0a4d0001);
	assert_int_equal(cfg.tun.prefix, 24);
	assert_int_equal(cfg.tun.mtu, 1420);
	assert_int_equal(cfg.max_sessions, 1024);
	assert_string_equal(cfg.audit_path, "-");
	assert_int_equal(cfg.policy.max_switches_per_min, 4);
	assert_non_null(strstr(cfg.policy_file, "/policy.yaml"));
	jv_config_endpoint(&cfg, &ec);
	assert_int_equal(ec.npeers, 1);
	assert_ptr_equal(ec.peers, cfg.peers);
	assert_null(ec.psk);
	jv_config_wipe(&cfg);
	memset(key, 0, 32);
	assert_memory_equal(cfg.private_key, key, 32);
}

static void test_client(void **state)
{
	static struct jv_config cfg;
	struct jv_endpoint_cfg ec;
	struct jv_error err;

	(void)state;
	assert_int_equal(parse(&cfg, CLIENT, &err), 0);
	assert_int_equal(cfg.role, JV_ROLE_CLIENT);
	assert_int_equal(cfg.ntransports, 2);
	assert_string_equal(cfg.transports[0].bind_device, "wlan0");
	assert_int_equal(cfg.transports[1].bind_address.len,
			 sizeof(struct sockaddr_in));
	assert_true(cfg.reconnect);
	assert_int_equal(cfg.tun.mtu, 1420);
	assert_int_equal(cfg.policy.recovery_window_ms, 3000);
	assert_string_equal(cfg.policy_file, "");
	jv_config_endpoint(&cfg, &ec);
	assert_int_equal(ec.ntransports, 2);
	assert_string_equal(ec.transports[1].id, "tcp-a");
	assert_int_equal(ec.transports[1].proto, JV_PROTO_TCP);
	assert_true(ec.reconnect);
}

static void test_examples(void **state)
{
	static struct jv_config cfg;
	const char *root = getenv("JV_TESTDATA");
	static const char *const names[] = { "server", "client" };

	(void)state;
	for (int i = 0; i < 2; i++) {
		char path[512], *buf = NULL, text[4096], pol[300];
		struct jv_error err;
		size_t len;
		const char *k, *p, *e;

		snprintf(path, sizeof(path), "%s/../../examples/%s.yaml",
			 root ? root : "tests/data", names[i]);
		assert_int_equal(jv_read_file(path, 1 << 20, &buf, &len, &err), 0);
		/* the examples name files on the gateway: point them here */
		k = strstr(buf, "private_key_file:");
		e = strchr(k, '\n');
		p = strstr(buf, "policy_file:");
		assert_non_null(k);
		assert_non_null(p);
		snprintf(pol, sizeof(pol), "policy_file: %s/../../examples/"
			 "policy.yaml", root ? root : "tests/data");
		snprintf(text, sizeof(text), "%.*sprivate_key: \"" KEY "\"%.*s%s\n",
			 (int)(k - buf), buf, (int)(p - e), e, pol);
		if (parse(&cfg, text, &err) != 0)
			fail_msg("examples/%s.yaml: %s:%d: %s", names[i], err.file,
				 err.line, err.msg);
		free(buf);
	}
}

static void test_mistakes(void **state)
{
	(void)state;
	bad(SERVER, "node_id: gw-1", "node_id: gw-1\nnodeid: x", 3,
	    "nodeid: unknown key");
	bad(SERVER, "node_id: gw-1", "node_id: gw-1\nnode_id: gw-2", 3,
	    "node_id: duplicate key (first at line 2)");
	bad(SERVER, "role: server", "role: router", 1,
	    "role: \"router\" is not one of server, client");
	bad(SERVER, "node_id: gw-1", "node_id: gw-1\non_terminated: exit", 3,
	    "on_terminated: only for role client");
	bad(CLIENT, "node_id: laptop", "node_id: laptop\nmax_sessions: 4", 3,
	    "max_sessions: only for role server");
	bad(SERVER, "tun: { name: jvpn0, address: 10.77.0.1/24, mtu: 1420 }\n",
	    "", 1, "tun: required key missing");
	bad(SERVER, "node_id: gw-1", "node_id: gw 1", 2,
	    "node_id: \"gw 1\" may hold only letters");
	bad(SERVER, "\"0.0.0.0:51820\"", "\"0.0.0.0\"", 5,
	    "listen[0].address: \"0.0.0.0\" is not IP:PORT");
	bad(SERVER, "\"0.0.0.0:51820\"", "\"0.0.0.0:0\"", 5, "is not IP:PORT");
	bad(SERVER, "\"0.0.0.0:51820\"", "\"0.0.0.0:65536\"", 5, "is not IP:PORT");
	bad(SERVER, "\"0.0.0.0:51820\"", "\"gw.example:51820\"", 5,
	    "is not IP:PORT");
	bad(SERVER, "\"[::]:443\"", "\"[::]443\"", 6, "is not IP:PORT");
	bad(SERVER, "proto: udp", "proto: sctp", 5,
	    "listen[0].proto: \"sctp\" is not one of udp, tcp");
	bad(SERVER, "id: tcp-443", "id: udp-51820", 6,
	    "listen[1].id: \"udp-51820\" is used twice");
	bad(SERVER, "10.77.0.2/32", "10.77.0.2/33", 9,
	    "peers[0].allowed_ips[0]: \"10.77.0.2/33\" is not an IPv4 prefix");
	bad(SERVER, "10.88.0.0/16", "10.88.0.1/16", 9, "has host bits set");
	bad(SERVER, "10.77.0.2/32", "fd00::2/128", 9, "is not an IPv4 prefix");
	bad(SERVER, "public_key: \"" PUB "\"", "public_key: \"abc\"", 9,
	    "peers[0].public_key: not a base64 X25519 key");
	bad(SERVER, "private_key_file: k.key",
	    "private_key_file: k.key\nprivate_key: \"" KEY "\"", 3,
	    "give one of them, not both");
	bad(SERVER, "private_key_file: k.key", "private_key_file: open.key", 3,
	    "is accessible by others (mode 0644); chmod 600 it");
	bad(SERVER, "private_key_file: k.key", "private_key_file: none.key", 3,
	    "cannot read");
	bad(SERVER, "private_key_file: k.key", "private_key_file: bad.key", 3,
	    "does not hold a base64 X25519 key");
	bad(SERVER, "mtu: 1420", "mtu: 100", 7,
	    "tun.mtu: value 100 out of range (allowed 576..9000)");
	bad(SERVER, "address: 10.77.0.1/24", "address: 10.77.0.1", 7,
	    "tun.address: \"10.77.0.1\" is not an IPv4 address with a prefix");
	bad(SERVER, "policy_file: policy.yaml", "policy_file: badpolicy.yaml", 4,
	    "switching.max_switches_per_min: value 0 out of range (allowed 1..64)");
	bad(SERVER, "policy_file: policy.yaml\n", "", 1,
	    "policy_file: required key missing");
	bad(SERVER, "control_socket: /run/jvpn/gw-1.sock",
	    "control_socket: /run/jvpn/"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock", 11,
	    "control_socket: must be 1..107 characters");
	bad(CLIENT, "on_terminated: reconnect", "on_terminated: retry", 11,
	    "on_terminated: \"retry\" is not one of reconnect, exit");
	bad(CLIENT, "id: tcp-a", "id: udp-a", 7,
	    "transports[1].id: \"udp-a\" is used twice");
	bad(CLIENT, "\"192.0.2.1:51820\"", "\"192.0.2.1\"", 6,
	    "transports[0].remote: \"192.0.2.1\" is not IP:PORT");
	bad(CLIENT, "bind_address: \"192.0.2.77\"", "bind_address: \"fd00::1\"", 7,
	    "different address families");
	bad(CLIENT, "max_switches_per_min: 4", "max_switches_per_min: 65", 16,
	    "switching.max_switches_per_min: value 65 out of range");
	bad(CLIENT, "transports:\n"
	    "  - { id: udp-a, proto: udp, remote: \"192.0.2.1:51820\", bind_device: wlan0 }\n"
	    "  - { id: tcp-a, proto: tcp, remote: \"192.0.2.1:443\", bind_address: \"192.0.2.77\" }\n",
	    "transports: []\n", 5, "transports: expected a list of 1..16 entries");
	bad(CLIENT, "role: client", "role: [client", 2, "YAML syntax error");
}

static void test_too_many_transports(void **state)
{
	static struct jv_config cfg;
	struct jv_error err;
	char text[8192], list[4096] = "";

	(void)state;
	for (int i = 0; i <= JV_MAX_TRANSPORTS; i++) {
		char line[128];

		snprintf(line, sizeof(line), "  - { id: t%d, proto: udp, remote: "
			 "\"192.0.2.1:%d\" }\n", i, 1000 + i);
		strcat(list, line);
	}
	snprintf(text, sizeof(text),
		 "role: client\nnode_id: x\nprivate_key: \"" KEY "\"\n"
		 "server_public_key: \"" PUB "\"\ntransports:\n%s"
		 "tun: { name: t0, address: 10.0.0.1/24 }\naudit: { path: \"-\" }\n"
		 "control_socket: /tmp/x.sock\npolicy_file: policy.yaml\n", list);
	assert_int_not_equal(parse(&cfg, text, &err), 0);
	assert_non_null(strstr(err.msg, "expected a list of 1..16 entries"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_server),
		cmocka_unit_test(test_client),
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_mistakes),
		cmocka_unit_test(test_too_many_transports),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
