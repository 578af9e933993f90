/* Daemon configuration: the fixtures in tests/data/config parse to the
 * values they hold, the examples parse but for their key files, and every
 * kind of mistake is refused with its code, file, line and message. */
#include <netinet/in.h>
#include <sodium.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/config.h"
#include "cli/util.h"
#include "tests/unit/unit.h"

/* the keys in tests/data/config */
#define GW_KEY "YOlK0Fg0LhKyg18+q2Fh544qP3IpkGyZrqxDIAAdXXY="
#define GW_PUB "6vG5JrNARJw4O0LSTy9JE6YK0jPiAODYw0p+v+2P9UY="
#define LAPTOP_KEY "EBEq3dDaAia2zlW/MVaN5KxmPqDpqz9wdVrDEl3Z0UI="
#define LAPTOP_PUB "4Hu4SNOGvuO/6CTVrq8CwdbLPjRZFrKH0tIUc5jGMVk="
#define PHONE_PUB "HBMoQtKHqhRxlA0eWxakaX+7WmOrI7/qvD4HDlgwWT8="
#define PSK "EIVq5BVJY9hIZao+aHJkRx5hQEsUEso2WEI0Bazo+kQ="

/* The tests run on copies in a temporary directory, since a key file in
 * the source tree could not keep its mode 0600 through git. */
static char dir[256];
static char server_text[4096], client_text[4096];
static struct jv_config cfg;

static const char *datadir(void)
{
	const char *d = getenv("JV_TESTDATA");

	return d ? d : "tests/data";
}

static void write_file(const char *name, const char *text, mode_t mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static void read_data(const char *name, char *out, size_t cap)
{
	char path[512], *buf = NULL;
	struct jv_error err;
	size_t len = 0;

	snprintf(path, sizeof(path), "%s/%s", datadir(), name);
	if (jv_read_file(path, cap - 1, &buf, &len, &err) != 0)
		fail_msg("%s: %s", path, err.msg);
	memcpy(out, buf, len + 1);
	free(buf);
}

static void copy_data(const char *name)
{
	char text[4096], sub[300];

	snprintf(sub, sizeof(sub), "config/%s", name);
	read_data(sub, text, sizeof(text));
	write_file(name, text, 0644);
}

static int setup(void **state)
{
	char path[300];

	(void)state;
	if (sodium_init() < 0)
		return -1;
	snprintf(dir, sizeof(dir), "/tmp/jvcfg.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	read_data("config/server.yaml", server_text, sizeof(server_text));
	read_data("config/client.yaml", client_text, sizeof(client_text));
	copy_data("policy.yaml");
	copy_data("policy-bad.yaml");
	write_file("gw-1.key", "\n  " GW_KEY " \n", 0600);
	write_file("open.key", GW_KEY "\n", 0644);
	write_file("group.key", GW_KEY "\n", 0640);
	write_file("bad.key", "not a key\n", 0600);
	write_file("psk.key", PSK "\n", 0600);
	snprintf(path, sizeof(path), "%s/dir.key", dir);
	return mkdir(path, 0700);
}

static int teardown(void **state)
{
	static const char *const names[] = {
		"gw-1.key", "open.key", "group.key", "bad.key", "psk.key",
		"policy.yaml", "policy-bad.yaml", "server.yaml", "dir.key",
	};
	char path[512];

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		if (unlink(path) != 0)
			rmdir(path);
	}
	return rmdir(dir);
}

/* Parses text as if it were the file NAME in the temporary directory,
 * then reads the files it names, as jv_config_load does. */
static int parse_as(const char *name, const char *text, struct jv_error *err)
{
	char file[300];
	int rc;

	snprintf(file, sizeof(file), "%s/%s", dir, name);
	memset(err, 0x55, sizeof(*err));
	rc = jv_config_parse(&cfg, text, strlen(text), file, err);
	return rc ? rc : jv_config_read_files(&cfg, err);
}

static void key_of(const char *b64, uint8_t key[32])
{
	assert_int_equal(jv_key_from_base64(b64, key), 0);
}

JV_TEST(test_server)
{
	struct jv_endpoint_cfg ec;
	struct jv_error err;
	uint8_t key[32], pub[32], zero[32] = { 0 };

	if (parse_as("server.yaml", server_text, &err) != 0)
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(cfg.role, JV_ROLE_SERVER);
	assert_string_equal(cfg.node_id, "gw-1");
	key_of(GW_KEY, key);
	assert_memory_equal(cfg.private_key, key, 32);
	assert_true(cfg.has_psk);
	key_of(PSK, key);
	assert_memory_equal(cfg.psk, key, 32);

	assert_int_equal(cfg.nlisten, 3);
	assert_string_equal(cfg.listen[0].id, "udp-51820");
	assert_int_equal(cfg.listen[0].proto, JV_PROTO_UDP);
	assert_int_equal(cfg.listen[0].addr.ss.ss_family, AF_INET);
	assert_int_equal(ntohs(((struct sockaddr_in *)&cfg.listen[0].addr.ss)
			       ->sin_port), 51820);
	assert_int_equal(cfg.listen[2].proto, JV_PROTO_TCP);
	assert_int_equal(cfg.listen[2].addr.ss.ss_family, AF_INET6);
	assert_int_equal(cfg.listen[2].addr.len, sizeof(struct sockaddr_in6));

	assert_int_equal(cfg.npeers, 2);
	assert_string_equal(cfg.peers[0].name, "laptop");
	key_of(LAPTOP_PUB, key);
	assert_memory_equal(cfg.peers[0].public_key, key, 32);
	assert_int_equal(cfg.peers[0].nallowed, 2);
	assert_int_equal(cfg.peers[0].allowed[0].addr, 0x0a4d0002);
	assert_int_equal(cfg.peers[0].allowed[0].prefix, 32);
	assert_int_equal(cfg.peers[0].allowed[1].addr, 0x0a580000);
	assert_int_equal(cfg.peers[0].allowed[1].prefix, 16);
	assert_string_equal(cfg.peers[1].name, "phone");
	assert_int_equal(cfg.peers[1].nallowed, 1);
	assert_int_equal(cfg.peers[1].allowed[0].addr, 0x0a4d0003);

	assert_string_equal(cfg.tun.name, "jvpn0");
	assert_int_equal(cfg.tun.naddr, 1);
	assert_int_equal(cfg.tun.addr[0].family, JV_IP4);
	assert_int_equal(cfg.tun.addr[0].addr, 0x0a4d0001);
	assert_int_equal(cfg.tun.addr[0].prefix, 24);
	assert_int_equal(cfg.tun.mtu, 1400);
	assert_int_equal(cfg.max_sessions, 64);
	assert_string_equal(cfg.audit_path, "/var/log/jvpn/audit.jsonl");
	assert_string_equal(cfg.control_socket, "/run/jvpn/gw-1.sock");
	/* policy_file is relative to the config file's directory */
	assert_string_equal(cfg.policy_file + strlen(dir), "/policy.yaml");
	assert_memory_equal(cfg.policy_file, dir, strlen(dir));
	assert_string_equal(cfg.policy.version, "1.2");
	assert_int_equal(cfg.policy.max_switches_per_min, 6);
	assert_int_equal(cfg.policy.transport_lost_ttl_ms, 9000);

	jv_config_endpoint(&cfg, &ec);
	assert_int_equal(ec.role, JV_ROLE_SERVER);
	assert_string_equal(ec.node_id, "gw-1");
	assert_memory_equal(ec.private_key, cfg.private_key, 32);
	assert_ptr_equal(ec.psk, cfg.psk);
	assert_ptr_equal(ec.peers, cfg.peers);
	assert_int_equal(ec.npeers, 2);
	assert_int_equal(ec.max_sessions, 64);
	assert_int_equal(ec.ntransports, 0);
	assert_int_equal(ec.policy.max_switches_per_min, 6);
	assert_null(ec.ops.send);
	assert_null(ec.ctx);

	/* the client's server_public_key is this key's public half */
	crypto_scalarmult_base(pub, cfg.private_key);
	key_of(GW_PUB, key);
	assert_memory_equal(pub, key, 32);

	jv_config_wipe(&cfg);
	assert_memory_equal(cfg.private_key, zero, 32);
	assert_memory_equal(cfg.psk, zero, 32);
}


JV_TEST(test_client)
{
	struct jv_endpoint_cfg ec;
	struct jv_error err;
	uint8_t key[32];

	if (parse_as("client.yaml", client_text, &err) != 0)
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(cfg.role, JV_ROLE_CLIENT);
	assert_string_equal(cfg.node_id, "laptop");
	key_of(LAPTOP_KEY, key);
	assert_memory_equal(cfg.private_key, key, 32);
	assert_false(cfg.has_psk);
	key_of(GW_PUB, key);
	assert_memory_equal(cfg.server_public_key, key, 32);

	assert_int_equal(cfg.ntransports, 3);
	assert_string_equal(cfg.transports[0].id, "udp-a");
	assert_string_equal(cfg.transports[0].bind_device, "wlan0");
	assert_int_equal(cfg.transports[0].bind_address.len, 0);
	assert_int_equal(cfg.transports[1].bind_address.len,
			 sizeof(struct sockaddr_in));
	assert_string_equal(cfg.transports[1].bind_device, "");
	assert_int_equal(cfg.transports[2].proto, JV_PROTO_TCP);
	assert_int_equal(cfg.transports[2].remote.ss.ss_family, AF_INET6);
	assert_int_equal(cfg.transports[2].bind_address.ss.ss_family,
			 AF_INET6);
	assert_true(cfg.reconnect);
	assert_int_equal(cfg.tun.mtu, 1420);
	assert_int_equal(cfg.tun.addr[0].prefix, 24);
	assert_string_equal(cfg.audit_path, "-");
	assert_string_equal(cfg.policy_file, "");
	assert_int_equal(cfg.policy.recovery_window_ms, 3000);
	assert_int_equal(cfg.policy.max_switches_per_min, 4);

	jv_config_endpoint(&cfg, &ec);
	assert_int_equal(ec.role, JV_ROLE_CLIENT);
	assert_null(ec.psk);
	assert_memory_equal(ec.server_public_key, cfg.server_public_key, 32);
	assert_int_equal(ec.ntransports, 3);
	assert_string_equal(ec.transports[2].id, "tcp-a");
	assert_int_equal(ec.transports[2].proto, JV_PROTO_TCP);
	assert_int_equal(ec.transports[0].proto, JV_PROTO_UDP);
	assert_true(ec.reconnect);
	assert_int_equal(ec.npeers, 0);
}

/* Replaces the first `from` in base by `to`. A `from` of "HEAD...TAIL"
 * stands for everything from HEAD to the end of the TAIL that follows. */
static void edit(char *out, size_t cap, const char *base, const char *from,
		 const char *to)
{
	const char *dots = strstr(from, "..."), *p, *end;
	char head[256];

	snprintf(head, sizeof(head), "%.*s",
		 (int)(dots ? (size_t)(dots - from) : strlen(from)), from);
	p = strstr(base, head);
	if (!p)
		fail_msg("fixture lacks \"%s\"", head);
	end = p + strlen(head);
	if (dots) {
		end = strstr(end, dots + 3);
		if (!end)
			fail_msg("fixture lacks \"%s\" after \"%s\"", dots + 3,
				 head);
		end += strlen(dots + 3);
	}
	snprintf(out, cap, "%.*s%s%s", (int)(p - base), base, to, end);
}

/* Optional keys left out take their defaults; no policy means the
 * defaults of CONTRACT section 3. */
/* metrics_listen: optional on both roles, a numeric IP:PORT. */
JV_TEST(test_metrics_listen)
{
	char a[4096];
	struct jv_error err;

	assert_int_equal(parse_as("client.yaml", client_text, &err), 0);
	assert_int_equal(cfg.metrics_listen.len, 0);
	jv_config_wipe(&cfg);
	edit(a, sizeof(a), client_text, "control_socket: /run/jvpn/laptop.sock",
	     "control_socket: /run/jvpn/laptop.sock\n"
	     "metrics_listen: \"[::1]:9101\"");
	assert_int_equal(parse_as("client.yaml", a, &err), 0);
	assert_int_equal(cfg.metrics_listen.ss.ss_family, AF_INET6);
	assert_int_equal(cfg.line_metrics_listen, 13);
	jv_config_wipe(&cfg);
	edit(a, sizeof(a), server_text, "control_socket: /run/jvpn/gw-1.sock",
	     "control_socket: /run/jvpn/gw-1.sock\n"
	     "metrics_listen: \"127.0.0.1:9101\"");
	assert_int_equal(parse_as("server.yaml", a, &err), 0);
	assert_int_equal(cfg.metrics_listen.len, sizeof(struct sockaddr_in));
	jv_config_wipe(&cfg);
	edit(a, sizeof(a), server_text, "control_socket: /run/jvpn/gw-1.sock",
	     "control_socket: /run/jvpn/gw-1.sock\n"
	     "metrics_listen: \"127.0.0.1\"");
	assert_int_equal(parse_as("server.yaml", a, &err), JV_ERR_INVAL);
	assert_int_equal(err.line, 20);
	assert_non_null(strstr(err.msg, "metrics_listen: \"127.0.0.1\": no "
					"port"));
}

JV_TEST(test_defaults)
{
	char a[4096], b[4096];
	struct jv_policy def;
	struct jv_error err;

	edit(a, sizeof(a), client_text, "on_terminated: reconnect\n", "");
	edit(b, sizeof(b), a, "policy:\n", "x:\n");
	b[strstr(b, "x:\n") - b] = '\0';
	if (parse_as("client.yaml", b, &err) != 0)
		fail_msg("%d: %s", err.line, err.msg);
	assert_false(cfg.reconnect);
	assert_string_equal(cfg.policy_file, "");
	jv_policy_defaults(&def);
	assert_memory_equal(&cfg.policy, &def, sizeof(def));

	edit(a, sizeof(a), server_text, "max_sessions: 64\n", "");
	edit(b, sizeof(b), a, ", mtu: 1400", "");
	if (parse_as("server.yaml", b, &err) != 0)
		fail_msg("%d: %s", err.line, err.msg);
	assert_int_equal(cfg.max_sessions, 1024);
	assert_int_equal(cfg.tun.mtu, 1420);
	assert_int_equal(cfg.cookie_threshold_per_s, 500);
	assert_int_equal(cfg.per_source_per_s, 20);

	/* handshakes under load (CONTRACT section 9): the engine gets both */
	edit(a, sizeof(a), server_text, "max_sessions: 64\n",
	     "max_sessions: 64\nhandshake: { cookie_threshold_per_s: 1000, "
	     "per_source_per_s: 5 }\n");
	if (parse_as("server.yaml", a, &err) != 0)
		fail_msg("%d: %s", err.line, err.msg);
	assert_int_equal(cfg.cookie_threshold_per_s, 1000);
	assert_int_equal(cfg.per_source_per_s, 5);
	{
		struct jv_endpoint_cfg ec;

		jv_config_endpoint(&cfg, &ec);
		assert_int_equal(ec.cookie_threshold_per_s, 1000);
		assert_int_equal(ec.per_source_per_s, 5);
	}

	/* a relative audit path is taken from the config file's directory */
	edit(a, sizeof(a), server_text, "/var/log/jvpn/audit.jsonl",
	     "logs/audit.jsonl");
	assert_int_equal(parse_as("server.yaml", a, &err), 0);
	assert_memory_equal(cfg.audit_path, dir, strlen(dir));
	assert_string_equal(cfg.audit_path + strlen(dir), "/logs/audit.jsonl");

	/* a preshared key from a file, and a bind_address with a port */
	edit(a, sizeof(a), server_text, "preshared_key: \"" PSK "\"",
	     "preshared_key_file: psk.key");
	assert_int_equal(parse_as("server.yaml", a, &err), 0);
	assert_true(cfg.has_psk);
	edit(a, sizeof(a), client_text, "\"198.51.100.7\"",
	     "\"198.51.100.7:4000\"");
	assert_int_equal(parse_as("client.yaml", a, &err), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)
				&cfg.transports[1].bind_address.ss)->sin_port),
			 4000);
}

/* jv_config_parse reads the buffer and nothing else: inline keys are
 * decoded, named files only resolved, so a parser fed from memory (a
 * fuzzer) never touches the disk. */
JV_TEST(test_parse_buffer)
{
	char a[4096], b[4096];
	struct jv_error err;
	uint8_t key[32], zero[32] = { 0 };

	/* the client fixture: every key inline, the policy too */
	assert_int_equal(jv_config_parse(&cfg, client_text, strlen(client_text),
					 "/nowhere/client.yaml", &err), 0);
	key_of(LAPTOP_KEY, key);
	assert_memory_equal(cfg.private_key, key, 32);
	assert_string_equal(cfg.private_key_file, "");
	assert_int_equal(cfg.policy.max_switches_per_min, 4);

	/* the server fixture with its key inline: the policy file is named,
	 * resolved against a directory that does not exist, and not read */
	edit(a, sizeof(a), server_text, "private_key_file: gw-1.key",
	     "private_key: \"" GW_KEY "\"");
	assert_int_equal(jv_config_parse(&cfg, a, strlen(a),
					 "/nowhere/server.yaml", &err), 0);
	key_of(GW_KEY, key);
	assert_memory_equal(cfg.private_key, key, 32);
	assert_true(cfg.has_psk);
	assert_string_equal(cfg.policy_file, "/nowhere/policy.yaml");
	assert_int_equal(cfg.line_policy_file, 20);
	assert_int_equal(cfg.policy.max_switches_per_min, 8);  /* default */
	assert_int_equal(jv_config_read_files(&cfg, &err), JV_ERR_INVAL);
	assert_int_equal(err.line, 20);
	assert_non_null(strstr(err.msg, "policy_file: cannot read "
					 "/nowhere/policy.yaml"));
	assert_memory_equal(cfg.private_key, zero, 32);

	/* a key file named: resolved with its line, the key left empty */
	assert_int_equal(jv_config_parse(&cfg, server_text, strlen(server_text),
					 "/nowhere/server.yaml", &err), 0);
	assert_string_equal(cfg.private_key_file, "/nowhere/gw-1.key");
	assert_int_equal(cfg.line_private_key_file, 4);
	assert_memory_equal(cfg.private_key, zero, 32);
	jv_config_wipe(&cfg);

	/* a mistake in the buffer is reported with no file read at all */
	edit(b, sizeof(b), a, "mtu: 1400", "mtu: 1400, mtu: 1");
	assert_int_equal(jv_config_parse(&cfg, b, strlen(b),
					 "/nowhere/server.yaml", &err),
			 JV_ERR_INVAL);
	assert_int_equal(err.line, 10);
	assert_string_equal(err.msg, "tun.mtu: duplicate key (first at line 10)");
	assert_memory_equal(cfg.private_key, zero, 32);
}

/* jv_config_load reads the file and takes relative paths from its
 * directory, whatever the working directory. */
JV_TEST(test_load)
{
	char path[512];
	struct jv_error err;

	write_file("server.yaml", server_text, 0644);
	snprintf(path, sizeof(path), "%s/server.yaml", dir);
	if (jv_config_load(&cfg, path, &err) != 0)
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(cfg.npeers, 2);
	assert_string_equal(cfg.file, path);

	snprintf(path, sizeof(path), "%s/none.yaml", dir);
	assert_int_not_equal(jv_config_load(&cfg, path, &err), 0);
	assert_string_equal(err.file, path);
	assert_non_null(strstr(err.msg, "No such file"));
}

/* The shipped examples are complete but for their keys: the private key
 * files they name live beside them on a real machine and are never
 * shipped, and the other end's public key is a placeholder that is
 * refused as one, saying how to make a key. With real keys put in, they
 * run as written. */
JV_TEST(test_examples)
{
	static const struct {
		const char *name, *key_line, *placeholder, *msg;
		int line;
	} ex[] = {
		{ "server", "private_key_file: gw-1.key",
		  "\"REPLACE-WITH-LAPTOP-PUBLIC-KEY\"",
		  "peers[0].public_key: \"REPLACE-WITH-LAPTOP-PUBLIC-KEY\" is a "
		  "placeholder, not a key: put the other end's public key here",
		  15 },
		{ "client", "private_key_file: laptop.key",
		  "\"REPLACE-WITH-GATEWAY-PUBLIC-KEY\"",
		  "server_public_key: \"REPLACE-WITH-GATEWAY-PUBLIC-KEY\" is a "
		  "placeholder, not a key: put the other end's public key here",
		  9 },
	};
	char def[4096], got[4096];
	struct jv_policy p;

	jv_policy_defaults(&p);
	assert_true(jv_policy_format(&p, def, sizeof(def)) >= 0);
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		char path[512], text[4096], fixed[4096], keyed[4096];
		char *buf = NULL;
		struct jv_error err;
		size_t len;

		snprintf(path, sizeof(path), "%s/../../examples/%s.yaml",
			 datadir(), ex[i].name);
		assert_int_equal(jv_config_load(&cfg, path, &err),
				 JV_ERR_INVAL);
		assert_string_equal(err.file, path);
		assert_int_equal(err.line, ex[i].line);
		if (!strstr(err.msg, ex[i].msg) ||
		    !strstr(err.msg, "`umask 077; jvpn genkey > NAME.key`") ||
		    !strstr(err.msg, "`jvpn pubkey < NAME.key`"))
			fail_msg("%s: %s", path, err.msg);

		assert_int_equal(jv_read_file(path, 1 << 20, &buf, &len, &err),
				 0);
		snprintf(text, sizeof(text), "%s", buf);
		free(buf);
		/* a real public key: then only the key file is missing */
		edit(keyed, sizeof(keyed), text, ex[i].placeholder,
		     "\"" PHONE_PUB "\"");
		assert_int_equal(jv_config_parse(&cfg, keyed, strlen(keyed),
						 path, &err), 0);
		assert_int_equal(jv_config_read_files(&cfg, &err),
				 JV_ERR_INVAL);
		assert_int_equal(err.line, 5);
		if (!strstr(err.msg, "private_key_file: cannot read ") ||
		    !strstr(err.msg, ".key: No such file or directory"))
			fail_msg("%s: %s", path, err.msg);
		edit(fixed, sizeof(fixed), keyed, ex[i].key_line,
		     "private_key: \"" GW_KEY "\"");
		if (jv_config_parse(&cfg, fixed, strlen(fixed), path, &err) ||
		    jv_config_read_files(&cfg, &err))
			fail_msg("%s:%d: %s", path, err.line, err.msg);
		assert_int_equal(cfg.role, i == 0 ? JV_ROLE_SERVER
						  : JV_ROLE_CLIENT);
		assert_int_equal(i == 0 ? cfg.nlisten : cfg.ntransports, 3);
		/* examples/policy.yaml is the defaults, written out */
		assert_true(jv_policy_format(&cfg.policy, got, sizeof(got)) >= 0);
		assert_string_equal(got, def);
	}
}

enum { SRV, CLI };

/* One mistake: in fixture base, replace from by to; expect the error in
 * file (NULL: the config itself) at line, its message holding msg. */
struct mistake {
	int base;
	const char *from, *to;
	const char *file;
	int line;
	const char *msg;
};

static const struct mistake mistakes[] = {
	/* keys: unknown, twice, of the other role */
	{ SRV, "node_id: gw-1", "node_id: gw-1\nnodeid: x", NULL, 4,
	  "nodeid: unknown key" },
	{ SRV, "mtu: 1400", "mtu: 1400, mut: 1", NULL, 10, "tun.mut: unknown key" },
	{ SRV, "proto: tcp", "proto: tcp, port: 1", NULL, 9,
	  "listen[2].port: unknown key" },
	{ SRV, "    allowed_ips:", "    allowed_ip: []\n    allowed_ips:", NULL,
	  15, "peers[1].allowed_ip: unknown key" },
	{ CLI, "bind_device: wlan0", "bind_device: wlan0, device: x", NULL, 7,
	  "transports[0].device: unknown key" },
	{ SRV, "node_id: gw-1", "node_id: gw-1\nnode_id: gw-2", NULL, 4,
	  "node_id: duplicate key (first at line 3)" },
	{ SRV, "mtu: 1400", "mtu: 1400, mtu: 1500", NULL, 10,
	  "tun.mtu: duplicate key (first at line 10)" },
	{ SRV, "role: server", "role: router", NULL, 2,
	  "role: unknown role 'router' (allowed server, client)" },
	{ SRV, "role: server", "role: client", NULL, 6,
	  "listen: only for role server" },
	{ CLI, "node_id: laptop", "node_id: laptop\nlisten: []", NULL, 4,
	  "listen: only for role server" },
	{ CLI, "on_terminated", "max_sessions: 4\non_terminated", NULL, 13,
	  "max_sessions: only for role server" },
	{ SRV, "max_sessions: 64", "on_terminated: exit", NULL, 17,
	  "on_terminated: only for role client" },
	{ SRV, "max_sessions: 64", "transports: []", NULL, 17,
	  "transports: only for role client" },

	/* required keys */
	{ SRV, "role: server\n", "", NULL, 2, "role: required key missing" },
	{ SRV, "node_id: gw-1\n", "", NULL, 2, "node_id: required key missing" },
	{ SRV, "private_key_file: gw-1.key\n", "", NULL, 2,
	  "private_key_file: required key missing (or private_key)" },
	{ SRV, "tun: { name: jvpn0, address: 10.77.0.1/24, mtu: 1400 }\n", "",
	  NULL, 2, "tun.name: required key missing" },
	{ SRV, "name: jvpn0, ", "", NULL, 10, "tun.name: required key missing" },
	{ SRV, "address: 10.77.0.1/24, ", "", NULL, 10,
	  "tun.address: required key missing" },
	{ SRV, "audit: { path: /var/log/jvpn/audit.jsonl }\n", "", NULL, 2,
	  "audit.path: required key missing" },
	{ SRV, "path: /var/log/jvpn/audit.jsonl", "", NULL, 18,
	  "audit.path: required key missing" },
	{ SRV, "control_socket: /run/jvpn/gw-1.sock\n", "", NULL, 2,
	  "control_socket: required key missing" },
	{ SRV, "listen:\n", "listen_:\n", NULL, 6, "listen_: unknown key" },
	{ SRV, "peers:\n  - { name: laptop", "peer:\n  - { name: laptop", NULL,
	  11, "peer: unknown key" },
	{ SRV, "max_sessions: 64\n", "peers: []\n", NULL, 17,
	  "peers: duplicate key (first at line 11)" },
	{ SRV, "proto: tcp, ", "", NULL, 9, "listen[2].proto: required key missing" },
	{ SRV, "id: udp-443, ", "", NULL, 8, "listen[1].id: required key missing" },
	{ SRV, "address: \"0.0.0.0:443\"", "", NULL, 8,
	  "listen[1].address: required key missing" },
	{ SRV, "name: laptop, ", "", NULL, 12, "peers[0].name: required key missing" },
	{ SRV, "    public_key: \"" PHONE_PUB "\"\n", "", NULL, 13,
	  "peers[1].public_key: required key missing" },
	{ SRV, ", allowed_ips: [10.77.0.2/32, 10.88.0.0/16]", "", NULL, 12,
	  "peers[0].allowed_ips: required key missing" },
	{ CLI, "server_public_key: \"" GW_PUB "\"\n", "", NULL, 2,
	  "server_public_key: required key missing" },
	{ CLI, "remote: \"192.0.2.1:51820\", ", "", NULL, 7,
	  "transports[0].remote: required key missing" },
	{ CLI, "id: udp-b, ", "", NULL, 8, "transports[1].id: required key missing" },

	/* wrong types */
	{ SRV, "node_id: gw-1", "node_id: [gw-1]", NULL, 3,
	  "node_id: expected a single value, got a list" },
	{ SRV, "tun: {", "tun: [", NULL, 10, "YAML syntax error" },
	{ SRV, "tun: { name: jvpn0, address: 10.77.0.1/24, mtu: 1400 }",
	  "tun: jvpn0", NULL, 10, "tun: expected a mapping, got 'jvpn0'" },
	{ SRV, "audit: { path: /var/log/jvpn/audit.jsonl }", "audit: stdout", NULL,
	  18, "audit: expected a mapping, got 'stdout'" },
	{ SRV, "listen:\n...\ntun:", "listen: udp\ntun:", NULL, 6,
	  "listen: expected a list, got 'udp'" },
	{ SRV, "  - { id: udp-443, proto: udp, address: \"0.0.0.0:443\" }",
	  "  - udp-443", NULL, 8, "listen[1]: expected a mapping, got 'udp-443'" },
	{ SRV, "mtu: 1400", "mtu: big", NULL, 10,
	  "tun.mtu: expected an integer, got 'big'" },
	{ SRV, "mtu: 1400", "mtu: \"1400\"", NULL, 10,
	  "tun.mtu: expected an integer" },
	{ SRV, "max_sessions: 64", "max_sessions: -1", NULL, 17,
	  "max_sessions: value -1 out of range (allowed 1..1048576)" },
	{ SRV, "max_sessions: 64", "max_sessions: 0", NULL, 17,
	  "max_sessions: value 0 out of range (allowed 1..1048576)" },
	{ SRV, "max_sessions: 64", "max_sessions: 1048577", NULL, 17,
	  "max_sessions: value 1048577 out of range (allowed 1..1048576)" },
	{ SRV, "max_sessions: 64", "max_sessions: 64\nhandshake: "
	  "{ cookie_threshold_per_s: 0 }", NULL, 18,
	  "handshake.cookie_threshold_per_s: value 0 out of range (allowed "
	  "1..1000000)" },
	{ SRV, "max_sessions: 64", "max_sessions: 64\nhandshake: "
	  "{ cookie_threshold_per_s: 1000001 }", NULL, 18,
	  "handshake.cookie_threshold_per_s: value 1000001 out of range "
	  "(allowed 1..1000000)" },
	{ SRV, "max_sessions: 64", "max_sessions: 64\nhandshake: "
	  "{ per_source_per_s: 0 }", NULL, 18,
	  "handshake.per_source_per_s: value 0 out of range (allowed "
	  "1..100000)" },
	{ SRV, "max_sessions: 64", "max_sessions: 64\nhandshake: "
	  "{ per_source_per_s: 100001 }", NULL, 18,
	  "handshake.per_source_per_s: value 100001 out of range (allowed "
	  "1..100000)" },
	{ SRV, "max_sessions: 64", "max_sessions: 64\nhandshake: "
	  "{ cookies: 1 }", NULL, 18, "handshake.cookies: unknown key" },
	{ CLI, "on_terminated", "handshake: { per_source_per_s: 5 }\n"
	  "on_terminated", NULL, 13,
	  "handshake.per_source_per_s: only for role server" },
	{ SRV, "allowed_ips: [10.77.0.2/32, 10.88.0.0/16]",
	  "allowed_ips: 10.77.0.2/32", NULL, 12,
	  "peers[0].allowed_ips: expected a list, got '10.77.0.2/32'" },
	{ SRV, "      - 10.77.0.3/32", "      - [10.77.0.3/32]", NULL, 16,
	  "peers[1].allowed_ips[0]: expected a single value, got a list" },
	{ SRV, "peers:\n...10.77.0.3/32\n", "peers: { a: 1 }\n", NULL, 11, "peers: expected a list, got a mapping" },
	{ CLI, "transports:\n...\ntun:", "transports: []\ntun:", NULL, 6,
	  "transports: 0 entries (allowed 1..16)" },
	{ CLI, "policy:\n...2000 }\n", "policy: strict\n", NULL, 14,
	  "policy: a policy is a mapping of sections" },
	{ SRV, "{ name: jvpn0,", "{ ? [a] : 1, name: jvpn0,", NULL, 10,
	  "tun: keys must be plain names, got a list" },
	{ SRV, "node_id: gw-1", "node_id: \"gw\\e[2J\"", NULL, 3,
	  "node_id: contains a control character" },
	{ SRV, "node_id: gw-1", "node_id: \"gw-1\\0x\"", NULL, 3,
	  "node_id: contains a control character" },

	/* node_id, names, interfaces, paths */
	{ SRV, "node_id: gw-1", "node_id: gw 1", NULL, 3,
	  "node_id: \"gw 1\" has characters other than letters, digits, '.', "
	  "'_' and '-'" },
	{ SRV, "node_id: gw-1", "node_id: gw/1", NULL, 3, "\"gw/1\" has characters" },
	{ SRV, "node_id: gw-1", "node_id: \"gw-\xc3\xa9\"", NULL, 3,
	  "\"gw-??\" has characters" },
	{ SRV, "node_id: gw-1", "node_id: \"\"", NULL, 3,
	  "node_id: 0 characters (allowed 1..63)" },
	{ SRV, "node_id: gw-1", "node_id: "
	  "a123456789b123456789c123456789d123456789e123456789f123456789abcd",
	  NULL, 3, "node_id: 64 characters (allowed 1..63)" },
	{ SRV, "id: udp-443", "id: a123456789b123456789c123456789d12", NULL, 8,
	  "listen[1].id: 33 characters (allowed 1..32)" },
	{ SRV, "name: phone", "name: \"ph one\"", NULL, 13,
	  "peers[1].name: \"ph one\" has characters" },
	{ SRV, "name: jvpn0", "name: jvpn0-sixteen-ch", NULL, 10,
	  "tun.name: 16 characters (allowed 1..15)" },
	{ SRV, "name: jvpn0", "name: \"jv/pn0\"", NULL, 10,
	  "tun.name: \"jv/pn0\" is not an interface name" },
	{ CLI, "bind_device: wlan0", "bind_device: \"wlan0:1\"", NULL, 7,
	  "transports[0].bind_device: \"wlan0:1\" is not an interface name" },
	{ CLI, "bind_device: wlan0", "bind_device: \"..\"", NULL, 7,
	  "is not an interface name" },
	{ SRV, "control_socket: /run/jvpn/gw-1.sock",
	  "control_socket: /run/jvpn/"
	  "a123456789b123456789c123456789d123456789e123456789"
	  "f123456789g123456789h123456789i123456789j12.sock", NULL, 19,
	  "control_socket: 108 characters (allowed 1..107)" },

	/* addresses */
	{ SRV, "\"0.0.0.0:51820\"", "\"0.0.0.0\"", NULL, 7,
	  "listen[0].address: \"0.0.0.0\": no port (ADDRESS:PORT) (allowed: "
	  "A.B.C.D:PORT, [IPv6]:PORT, [fe80::1%IFNAME]:PORT or NAME:PORT, "
	  "port 1..65535)" },
	{ SRV, "\"0.0.0.0:51820\"", "\"0.0.0.0:0\"", NULL, 7,
	  "\"0.0.0.0:0\": the port is out of range (1..65535)" },
	{ SRV, "\"0.0.0.0:51820\"", "\"0.0.0.0:65536\"", NULL, 7,
	  "\"0.0.0.0:65536\": the port is out of range" },
	{ SRV, "\"0.0.0.0:51820\"", "\"0.0.0.0:0000051820\"", NULL, 7,
	  "the port is out of range" },
	{ SRV, "\"0.0.0.0:51820\"", "\"0.0.0.0:-1\"", NULL, 7,
	  "the port is not a number" },
	{ SRV, "\"0.0.0.0:51820\"", "\"0.0.0.0: 51820\"", NULL, 7,
	  "the port is not a number" },
	{ SRV, "\"0.0.0.0:51820\"", "\"0.0.0.0:518x\"", NULL, 7,
	  "the port is not a number" },
	{ SRV, "\"0.0.0.0:51820\"", "\"gw_1.example.org:51820\"", NULL, 7,
	  "\"gw_1.example.org:51820\": neither an IP address nor a host name" },
	{ SRV, "\"0.0.0.0:51820\"", "\"10.1:51820\"", NULL, 7,
	  "neither an IP address nor a host name" },
	{ SRV, "\"0.0.0.0:51820\"", "\"10.0.0.256:51820\"", NULL, 7,
	  "neither an IP address nor a host name" },
	{ SRV, "\"0.0.0.0:51820\"", "\"-gw.example:51820\"", NULL, 7,
	  "neither an IP address nor a host name" },
	{ SRV, "\"0.0.0.0:51820\"", "\"gw-.example:51820\"", NULL, 7,
	  "neither an IP address nor a host name" },
	{ SRV, "\"0.0.0.0:51820\"", "\"gw..example:51820\"", NULL, 7,
	  "neither an IP address nor a host name" },
	{ SRV, "\"0.0.0.0:51820\"", "\"a123456789b123456789c123456789d123456789"
	  "e123456789f123456789g1234.example:51820\"", NULL, 7,
	  "neither an IP address nor a host name" },
	{ SRV, "\"0.0.0.0:51820\"", "\"gw.example:51820:1\"", NULL, 7,
	  "not an address (too many ':'" },
	{ SRV, "\"0.0.0.0:51820\"", "\"gw.example:\"", NULL, 7,
	  "the port is not a number" },
	{ SRV, "\"0.0.0.0:51820\"", "\":51820\"", NULL, 7,
	  "neither an IP address nor a host name" },
	{ SRV, "\"[::]:443\"", "\"[::]443\"", NULL, 9,
	  "\"[::]443\": ':PORT' must follow ']'" },
	{ SRV, "\"[::]:443\"", "\"[::1:443\"", NULL, 9,
	  "no ']' after the IPv6 address" },
	{ SRV, "\"[::]:443\"", "\"::1:443\"", NULL, 9,
	  "an IPv6 address with a port is written [ADDRESS]:PORT" },
	{ SRV, "\"[::]:443\"", "\"[::1]:\"", NULL, 9, "the port is not a number" },
	{ SRV, "\"[::]:443\"", "\"[1.2.3.4]:443\"", NULL, 9,
	  "not an IPv6 address" },
	{ SRV, "\"[::]:443\"", "\"[gw.example]:443\"", NULL, 9,
	  "not an IPv6 address" },
	{ SRV, "\"[::]:443\"", "\"[fd00::1%eth0]:443\"", NULL, 9,
	  "a scope (%IFNAME) is only for a link-local address (fe80::/10)" },
	{ SRV, "\"[::]:443\"", "\"[fe80::1%]:443\"", NULL, 9,
	  "the scope after '%' is not an interface name" },
	{ SRV, "\"[::]:443\"", "\"[fe80::1%eth0-sixteen-chr]:443\"", NULL, 9,
	  "the scope after '%' is not an interface name" },
	{ SRV, "\"[::]:443\"", "\"[fe80::1%0]:443\"", NULL, 9,
	  "the scope index is out of range" },
	{ SRV, "\"[::]:443\"", "\"[fe80::1%eth0%1]:443\"", NULL, 9,
	  "the scope after '%' is not an interface name" },
	{ CLI, "\"198.51.100.1:443\"", "\"198.51.100.1\"", NULL, 8,
	  "transports[1].remote: \"198.51.100.1\": no port" },
	{ CLI, "\"198.51.100.1:443\"", "\"gw.example\"", NULL, 8,
	  "transports[1].remote: \"gw.example\": no port" },
	{ CLI, "\"198.51.100.1:443\"", "\"gw.example:99999\"", NULL, 8,
	  "transports[1].remote: \"gw.example:99999\": the port is out of "
	  "range (1..65535)" },
	{ CLI, "\"198.51.100.7\"", "\"198.51.100.7:0\"", NULL, 8,
	  "transports[1].bind_address: \"198.51.100.7:0\": the port is out of "
	  "range (1..65535) (allowed: an IP address, A.B.C.D:PORT or "
	  "[IPv6]:PORT)" },
	{ CLI, "\"198.51.100.7\"", "\"wan.example\"", NULL, 8,
	  "transports[1].bind_address: \"wan.example\": not a numeric address" },
	{ SRV, "audit:", "metrics_listen: \"metrics.example:9100\"\naudit:",
	  NULL, 18, "metrics_listen: \"metrics.example:9100\": not a numeric "
	  "address (allowed: A.B.C.D:PORT or [IPv6]:PORT, port 1..65535)" },
	{ CLI, "\"198.51.100.7\"", "\"2001:db8::9\"", NULL, 8,
	  "transports[1].bind_address: not of the address family of remote" },
	{ SRV, "address: \"0.0.0.0:443\"", "address: \"0.0.0.0:51820\"", NULL, 8,
	  "listen[1].address: the same udp socket as listen[0]" },
	{ SRV, "\"0.0.0.0:51820\"...\"0.0.0.0:443\"",
	  "\"gw.example:443\" }\n  - { id: udp-443, proto: udp, address: "
	  "\"gw.example:443\"", NULL, 8,
	  "listen[1].address: the same udp socket as listen[0]" },
	{ SRV, "id: udp-443", "id: udp-51820", NULL, 8,
	  "listen[1].id: \"udp-51820\" is used twice (also listen[0])" },
	{ CLI, "id: tcp-a", "id: udp-a", NULL, 9,
	  "transports[2].id: \"udp-a\" is used twice (also transports[0])" },
	{ SRV, "proto: udp, address: \"0.0.0.0:51820\"",
	  "proto: sctp, address: \"0.0.0.0:51820\"", NULL, 7,
	  "listen[0].proto: unknown protocol 'sctp' (allowed udp, tcp)" },
	{ CLI, "id: udp-a, proto: udp", "id: udp-a, proto: UDP", NULL, 7,
	  "transports[0].proto: unknown protocol 'UDP' (allowed udp, tcp)" },

	/* prefixes */
	{ SRV, "10.77.0.2/32", "10.77.0.2/33", NULL, 12,
	  "peers[0].allowed_ips[0]: \"10.77.0.2/33\" is not an IPv4 or IPv6 "
	  "prefix like 10.77.0.2/32 or fd77::2/128" },
	{ SRV, "10.77.0.2/32", "10.77.0.2", NULL, 12, "is not an IPv4 or IPv6 prefix" },
	{ SRV, "10.77.0.2/32", "10.77.0.2/", NULL, 12, "is not an IPv4 or IPv6 prefix" },
	{ SRV, "10.77.0.2/32", "\"10.77.0.2/ 8\"", NULL, 12,
	  "is not an IPv4 or IPv6 prefix" },
	{ SRV, "10.77.0.2/32", "10.77.0.2/-1", NULL, 12, "is not an IPv4 or IPv6 prefix" },
	{ SRV, "10.77.0.2/32", "10.77.2/32", NULL, 12, "is not an IPv4 or IPv6 prefix" },
	{ SRV, "10.77.0.2/32", "\"fd00::2/129\"", NULL, 12,
	  "\"fd00::2/129\" is not an IPv4 or IPv6 prefix" },
	{ SRV, "10.77.0.2/32", "\"fd00::2/0128\"", NULL, 12,
	  "is not an IPv4 or IPv6 prefix" },
	{ SRV, "10.77.0.2/32", "\"fd00::2\"", NULL, 12,
	  "is not an IPv4 or IPv6 prefix" },
	{ SRV, "10.77.0.2/32", "\"fd00::g/64\"", NULL, 12,
	  "is not an IPv4 or IPv6 prefix" },
	{ SRV, "10.77.0.2/32", "\"10.77.0.2/32/1\"", NULL, 12,
	  "is not an IPv4 or IPv6 prefix" },
	{ SRV, "10.88.0.0/16", "10.88.0.1/16", NULL, 12,
	  "peers[0].allowed_ips[1]: \"10.88.0.1/16\" has host bits set" },
	{ SRV, "10.88.0.0/16", "\"fd77::1/64\"", NULL, 12,
	  "peers[0].allowed_ips[1]: \"fd77::1/64\" has host bits set" },
	/* the same prefix twice; nested ones are fine (tests below) */
	{ SRV, "10.77.0.3/32", "10.88.0.0/16", NULL, 16,
	  "peers[1].allowed_ips[0]: the same prefix is in peers[0] (laptop)" },
	{ SRV, "10.88.0.0/16", "10.77.0.2/32", NULL, 12,
	  "peers[0].allowed_ips[1]: listed twice (also allowed_ips[0])" },
	{ SRV, "[10.77.0.2/32, 10.88.0.0/16]",
	  "[10.77.0.2/32, \"fd77::2/128\", \"fd77:0::2/128\"]", NULL, 12,
	  "peers[0].allowed_ips[2]: listed twice (also allowed_ips[1])" },
	{ SRV, "      - 10.77.0.3/32",
	  "      - \"fd77::3/128\"\n      - \"fd77:0:0:0::3/128\"", NULL, 17,
	  "peers[1].allowed_ips[1]: listed twice (also allowed_ips[0])" },
	{ SRV, "[10.77.0.2/32, 10.88.0.0/16]", "[]", NULL, 12,
	  "peers[0].allowed_ips: 0 entries (allowed 1..128)" },
	/* tun.address: one CIDR or a list, IPv4 and IPv6 */
	{ SRV, "address: 10.77.0.1/24", "address: 10.77.0.1", NULL, 10,
	  "tun.address: \"10.77.0.1\" is not an address with a prefix "
	  "length, like 10.77.0.1/24 or fd77::1/64" },
	{ SRV, "address: 10.77.0.1/24", "address: 10.77.0.1/33", NULL, 10,
	  "tun.address: \"10.77.0.1/33\" is not an address with a prefix" },
	{ SRV, "address: 10.77.0.1/24", "address: \"fd00::1/129\"", NULL, 10,
	  "tun.address: \"fd00::1/129\" is not an address with a prefix" },
	{ SRV, "address: 10.77.0.1/24", "address: \"fd00::1\"", NULL, 10,
	  "is not an address with a prefix" },
	{ SRV, "address: 10.77.0.1/24", "address: [10.77.0.1/24, bogus]", NULL,
	  10, "tun.address[1]: \"bogus\" is not an address with a prefix" },
	{ SRV, "address: 10.77.0.1/24", "address: []", NULL, 10,
	  "tun.address: 0 entries (allowed 1..8)" },
	{ SRV, "address: 10.77.0.1/24",
	  "address: [10.0.0.1/8, 10.0.0.2/8, 10.0.0.3/8, 10.0.0.4/8, "
	  "10.0.0.5/8, 10.0.0.6/8, 10.0.0.7/8, 10.0.0.8/8, 10.0.0.9/8]", NULL,
	  10, "tun.address: 9 entries (allowed 1..8)" },
	{ SRV, "address: 10.77.0.1/24",
	  "address: [10.77.0.1/24, \"fd77::1/64\", 10.77.0.1/16]", NULL, 10,
	  "tun.address[2]: listed twice (also tun.address[0])" },
	{ SRV, "address: 10.77.0.1/24",
	  "address: [\"fd77::1/64\", \"fd77:0::1/48\"]", NULL, 10,
	  "tun.address[1]: listed twice (also tun.address[0])" },
	{ SRV, "address: 10.77.0.1/24", "address: 0.0.0.0/0", NULL, 10,
	  "tun.address: \"0.0.0.0/0\" is not a unicast address" },
	{ SRV, "address: 10.77.0.1/24", "address: [10.77.0.1/24, 224.0.0.1/4]",
	  NULL, 10, "tun.address[1]: \"224.0.0.1/4\" is not a unicast address" },
	{ SRV, "address: 10.77.0.1/24", "address: [\"ff02::1/64\"]", NULL, 10,
	  "tun.address[0]: \"ff02::1/64\" is not a unicast address" },
	{ SRV, "address: 10.77.0.1/24", "address: \"::/0\"", NULL, 10,
	  "is not a unicast address" },
	{ SRV, "address: 10.77.0.1/24", "address: { a: b }", NULL, 10,
	  "tun.address: expected" },
	{ SRV, "address: 10.77.0.1/24, mtu: 1400",
	  "address: [10.77.0.1/24, \"fd77::1/64\"], mtu: 1200", NULL, 10,
	  "tun.mtu: 1200 is below 1280, the least IPv6 needs (tun.address[1] "
	  "is IPv6)" },

	/* keys */
	{ SRV, "public_key: \"" LAPTOP_PUB "\"", "public_key: \"abc\"", NULL, 12,
	  "peers[0].public_key: not a base64 key (44 characters" },
	{ SRV, "    public_key: \"" PHONE_PUB "\"",
	  "    public_key: \"" LAPTOP_PUB "\"", NULL, 14,
	  "peers[1].public_key: the same key as peers[0] (laptop)" },
	{ SRV, "name: phone", "name: laptop", NULL, 13,
	  "peers[1].name: \"laptop\" is used twice (also peers[0])" },
	{ CLI, "server_public_key: \"" GW_PUB "\"",
	  "server_public_key: \"6vG5JrNARJw4O0LSTy9JE6YK0jPiAODYw0p+v+2P9U=\"",
	  NULL, 5, "server_public_key: not a base64 key" },
	{ CLI, "private_key: \"" LAPTOP_KEY "\"",
	  "private_key: \"" LAPTOP_KEY "AA\"", NULL, 4,
	  "private_key: not a base64 key" },
	{ CLI, "private_key: \"" LAPTOP_KEY "\"",
	  "private_key: \"REPLACE-WITH-BASE64-KEY\"", NULL, 4,
	  "private_key: \"REPLACE-WITH-BASE64-KEY\" is a placeholder, not a "
	  "key: put the base64 key here (a key pair: `umask 077; jvpn genkey "
	  "> NAME.key`" },
	{ CLI, "private_key: \"" LAPTOP_KEY "\"",
	  "private_key: \"" LAPTOP_KEY "\"\nprivate_key_file: gw-1.key", NULL, 5,
	  "private_key and private_key_file: give one of them, not both" },
	{ SRV, "private_key_file: gw-1.key", "private_key_file: open.key", NULL,
	  4, "private_key_file: private key file " },
	{ SRV, "private_key_file: gw-1.key", "private_key_file: open.key", NULL,
	  4, "/open.key is accessible by others (mode 0644); chmod 600 it" },
	{ SRV, "private_key_file: gw-1.key", "private_key_file: group.key", NULL,
	  4, "is accessible by others (mode 0640); chmod 600 it" },
	{ SRV, "private_key_file: gw-1.key", "private_key_file: none.key", NULL,
	  4, "/none.key: No such file or directory" },
	{ SRV, "private_key_file: gw-1.key", "private_key_file: bad.key", NULL,
	  4, "/bad.key does not hold a base64 key" },
	{ SRV, "private_key_file: gw-1.key", "private_key_file: dir.key", NULL,
	  4, "/dir.key is not a regular file" },
	{ SRV, "private_key_file: gw-1.key", "private_key_file: \"\"", NULL,
	  4, "private_key_file: empty path" },
	{ SRV, "preshared_key: \"" PSK "\"",
	  "preshared_key: \"" PSK "\"\npreshared_key_file: psk.key", NULL, 6,
	  "preshared_key and preshared_key_file: give one of them, not both" },
	{ SRV, "preshared_key: \"" PSK "\"", "preshared_key: \"!!\"", NULL, 5,
	  "preshared_key: not a base64 key" },
	{ SRV, "preshared_key: \"" PSK "\"", "preshared_key_file: open.key",
	  NULL, 5, "preshared key file " },

	/* values */
	{ SRV, "mtu: 1400", "mtu: 575", NULL, 10,
	  "tun.mtu: value 575 out of range (allowed 576..9000)" },
	{ SRV, "mtu: 1400", "mtu: 9001", NULL, 10,
	  "tun.mtu: value 9001 out of range (allowed 576..9000)" },
	{ CLI, "on_terminated: reconnect", "on_terminated: retry", NULL, 13,
	  "on_terminated: unknown value 'retry' (allowed exit, reconnect)" },

	/* policy */
	{ SRV, "policy_file: policy.yaml", "policy_file: policy-bad.yaml",
	  "policy-bad.yaml", 5,
	  "switching.max_switches_per_min: value 0 out of range (allowed 1..64)" },
	{ SRV, "policy_file: policy.yaml", "policy_file: nopolicy.yaml", NULL, 20,
	  "policy_file: cannot read " },
	{ SRV, "policy_file: policy.yaml", "policy_file: nopolicy.yaml", NULL, 20,
	  "/nopolicy.yaml" },
	{ SRV, "policy_file: policy.yaml",
	  "policy_file: policy.yaml\npolicy: { version: \"1.0\" }", NULL, 20,
	  "policy and policy_file: give one of them, not both" },
	{ CLI, "max_switches_per_min: 4", "max_switches_per_min: 65", NULL, 18,
	  "policy.switching.max_switches_per_min: value 65 out of range (allowed "
	  "1..64)" },
	{ CLI, "  version: \"1.0\"\n", "", NULL, 15,
	  "policy.version: required key missing" },
	{ CLI, "  security:", "  securty:", NULL, 19, "securty" },
	{ CLI, "transport_lost_ttl_ms: 5000", "transport_lost_ttl_ms: 70000",
	  NULL, 16, "policy.session.transport_lost_ttl_ms (70000) must not "
	  "exceed policy.session.max_lifetime_ms (60000)" },

	/* dns, dns_search: client only, addresses, domain names */
	{ SRV, "max_sessions: 64", "dns: [10.77.0.1]", NULL, 17,
	  "dns: only for role client" },
	{ SRV, "max_sessions: 64", "dns_search: [corp.example.com]", NULL, 17,
	  "dns_search: only for role client" },
	{ CLI, "on_terminated", "dns: [10.77.0.256]\non_terminated", NULL, 13,
	  "dns[0]: \"10.77.0.256\" is not an IPv4 or IPv6 address like "
	  "10.77.0.1 or fd77::1" },
	{ CLI, "on_terminated", "dns: [10.77.0.1, \"10.77.0.2:53\"]\n"
	  "on_terminated", NULL, 13,
	  "dns[1]: \"10.77.0.2:53\" is not an IPv4 or IPv6 address" },
	{ CLI, "on_terminated", "dns: [\"fe80::1%eth0\"]\non_terminated", NULL,
	  13, "dns[0]: \"fe80::1%eth0\" is not an IPv4 or IPv6 address" },
	{ CLI, "on_terminated", "dns: [dns.example.com]\non_terminated", NULL,
	  13, "dns[0]: \"dns.example.com\" is not an IPv4 or IPv6 address" },
	{ CLI, "on_terminated", "dns: 10.77.0.1\non_terminated", NULL, 13,
	  "dns: expected a list, got '10.77.0.1'" },
	{ CLI, "on_terminated", "dns: []\non_terminated", NULL, 13,
	  "dns: 0 entries (allowed 1..8)" },
	{ CLI, "on_terminated", "dns: [1.1.1.1, 1.1.1.2, 1.1.1.3, 1.1.1.4, "
	  "1.1.1.5, 1.1.1.6, 1.1.1.7, 1.1.1.8, 1.1.1.9]\non_terminated", NULL,
	  13, "dns: 9 entries (allowed 1..8)" },
	{ CLI, "on_terminated", "dns: [10.77.0.1, 10.77.0.1]\non_terminated",
	  NULL, 13, "dns[1]: listed twice (also dns[0])" },
	{ CLI, "on_terminated", "dns:\n  - \"fd77::1\"\n  - 10.77.0.1\n"
	  "  - \"fd77:0:0::1\"\non_terminated", NULL, 16,
	  "dns[2]: listed twice (also dns[0])" },
	{ CLI, "on_terminated", "dns: [10.77.0.1]\ndns_search: [\"-corp.example\"]"
	  "\non_terminated", NULL, 14,
	  "dns_search[0]: \"-corp.example\" is not a domain name like "
	  "corp.example.com (labels of letters, digits and '-', 1..63 "
	  "characters, joined by '.', no final '.')" },
	{ CLI, "on_terminated", "dns: [10.77.0.1]\ndns_search: [lab, corp..example]"
	  "\non_terminated", NULL, 14,
	  "dns_search[1]: \"corp..example\" is not a domain name" },
	{ CLI, "on_terminated", "dns: [10.77.0.1]\ndns_search: [corp.example.]"
	  "\non_terminated", NULL, 14,
	  "dns_search[0]: \"corp.example.\" is not a domain name" },
	{ CLI, "on_terminated", "dns: [10.77.0.1]\ndns_search: [\"a b\"]"
	  "\non_terminated", NULL, 14, "dns_search[0]: \"a b\" is not a domain" },
	{ CLI, "on_terminated", "dns: [10.77.0.1]\ndns_search: [\"ex;ample\"]"
	  "\non_terminated", NULL, 14, "\"ex;ample\" is not a domain name" },
	{ CLI, "on_terminated", "dns: [10.77.0.1]\ndns_search: [corp-.example]"
	  "\non_terminated", NULL, 14, "\"corp-.example\" is not a domain name" },
	{ CLI, "on_terminated", "dns: [10.77.0.1]\ndns_search: [a"
	  "123456789b123456789c123456789d123456789e123456789f123456789abcd.x]"
	  "\non_terminated", NULL, 14, "is not a domain name" },
	{ CLI, "on_terminated", "dns: [10.77.0.1]\ndns_search: [\"\"]"
	  "\non_terminated", NULL, 14,
	  "dns_search[0]: 0 characters (allowed 1..253)" },
	{ CLI, "on_terminated", "dns: [10.77.0.1]\ndns_search: [a, b, c, d, e, f, g]"
	  "\non_terminated", NULL, 14, "dns_search: 7 entries (allowed 1..6)" },
	{ CLI, "on_terminated", "dns: [10.77.0.1]\ndns_search: [Corp.Example, "
	  "corp.example]\non_terminated", NULL, 14,
	  "dns_search[1]: listed twice (also dns_search[0])" },
	{ CLI, "on_terminated", "dns_search: [corp.example]\non_terminated",
	  NULL, 13, "dns_search: needs dns (the resolvers to ask for these "
	  "domains)" },
	/* routes and fwmark (CONTRACT section 8): the client's only */
#define ROUTES(v) "routes: " v "\non_terminated"
#define FWMARK(v) "fwmark: " v "\non_terminated"
	{ CLI, "on_terminated", ROUTES("[10.88.0.1/16]"), NULL, 13,
	  "routes[0]: \"10.88.0.1/16\" has host bits set (the prefix must be a "
	  "network address)" },
	{ CLI, "on_terminated", ROUTES("[0.0.0.0/0, \"fd88::1/64\"]"), NULL, 13,
	  "routes[1]: \"fd88::1/64\" has host bits set" },
	{ CLI, "on_terminated", ROUTES("[10.88.0.0]"), NULL, 13,
	  "routes[0]: \"10.88.0.0\" is not an IPv4 or IPv6 prefix like "
	  "10.77.0.2/32 or fd77::2/128" },
	{ CLI, "on_terminated", ROUTES("[10.0.0.0/33]"), NULL, 13,
	  "routes[0]: \"10.0.0.0/33\" is not an IPv4 or IPv6 prefix" },
	{ CLI, "on_terminated", ROUTES("[\"::/129\"]"), NULL, 13,
	  "routes[0]: \"::/129\" is not an IPv4 or IPv6 prefix" },
	{ CLI, "on_terminated", ROUTES("[default]"), NULL, 13,
	  "routes[0]: \"default\" is not an IPv4 or IPv6 prefix" },
	{ CLI, "on_terminated", ROUTES("0.0.0.0/0"), NULL, 13,
	  "routes: expected a list, got '0.0.0.0/0'" },
	{ CLI, "on_terminated", ROUTES("[[0.0.0.0/0]]"), NULL, 13,
	  "routes[0]: expected a single value, got a list" },
	{ CLI, "on_terminated", ROUTES("[0.0.0.0/0, 10.0.0.0/8, 0.0.0.0/0]"),
	  NULL, 13, "routes[2]: listed twice (also routes[0])" },
	{ CLI, "on_terminated", ROUTES("[\"::/0\", \"0::/0\"]"), NULL, 13,
	  "routes[1]: listed twice (also routes[0])" },
	{ CLI, "on_terminated", "routes: []\nroutes: []\non_terminated", NULL,
	  14, "routes: duplicate key (first at line 13)" },
	{ CLI, "on_terminated", FWMARK("0"), NULL, 13,
	  "fwmark: value 0 out of range (allowed 1..4294967295)" },
	{ CLI, "on_terminated", FWMARK("4294967296"), NULL, 13,
	  "fwmark: value 4294967296 out of range (allowed 1..4294967295)" },
	{ CLI, "on_terminated", FWMARK("-1"), NULL, 13,
	  "fwmark: value -1 out of range (allowed 1..4294967295)" },
	{ CLI, "on_terminated", FWMARK("0xca6d"), NULL, 13,
	  "fwmark: expected an integer, got '0xca6d'" },
	{ CLI, "on_terminated", FWMARK("[1]"), NULL, 13,
	  "fwmark: expected an integer, got a list" },
	{ CLI, "on_terminated", FWMARK("253"), NULL, 13,
	  "fwmark: 253 is the kernel's default routing table, which a full "
	  "tunnel would fill with its own default route (allowed 1..252, "
	  "256..4294967295)" },
	{ CLI, "on_terminated", FWMARK("254"), NULL, 13,
	  "fwmark: 254 is the kernel's main routing table" },
	{ CLI, "on_terminated", FWMARK("255"), NULL, 13,
	  "fwmark: 255 is the kernel's local routing table" },
	{ SRV, "max_sessions: 64", "routes: [0.0.0.0/0]\nmax_sessions: 64", NULL,
	  17, "routes: only for role client" },
	{ SRV, "max_sessions: 64", "fwmark: 51821\nmax_sessions: 64", NULL, 17,
	  "fwmark: only for role client" },
#undef ROUTES
#undef FWMARK

	/* the document */
	{ SRV, "role: server", "role: [server", NULL, 3, "YAML syntax error" },
};

static bool check_mistake(const struct mistake *m)
{
	const char *base = m->base == SRV ? server_text : client_text;
	const char *name = m->base == SRV ? "server.yaml" : "client.yaml";
	char text[8192], file[300];
	uint8_t zero[32] = { 0 };
	struct jv_error err;
	int rc;

	edit(text, sizeof(text), base, m->from, m->to);
	snprintf(file, sizeof(file), "%s/%s", dir, m->file ? m->file : name);
	rc = parse_as(name, text, &err);
	if (rc == 0) {
		print_error("\"%s\" -> \"%s\": accepted\n", m->from, m->to);
		return false;
	}
	/* no key is left behind in a refused config */
	assert_memory_equal(cfg.private_key, zero, 32);
	assert_memory_equal(cfg.psk, zero, 32);
	if (rc == JV_ERR_INVAL && err.line == m->line &&
	    strcmp(err.file, file) == 0 && strstr(err.msg, m->msg))
		return true;
	print_error("\"%s\" -> \"%s\"\n  expected %d %s:%d: %s\n"
		    "  got      %d %s:%d: %s\n", m->from, m->to, JV_ERR_INVAL,
		    file, m->line, m->msg, rc, err.file, err.line, err.msg);
	return false;
}

JV_TEST(test_mistakes)
{
	int failed = 0;

	/* all of them, so one run shows every message that drifted */
	for (size_t i = 0; i < sizeof(mistakes) / sizeof(mistakes[0]); i++)
		failed += !check_mistake(&mistakes[i]);
	assert_int_equal(failed, 0);
}

/* allowed_ips takes IPv6 prefixes too, and prefixes of two peers may nest
 * (the longest wins); the same prefix in two peers is refused. */
JV_TEST(test_allowed_ips_ipv6_and_nested)
{
	static const uint8_t fd77_2[16] = { 0xfd, 0x77, [15] = 2 };
	static const uint8_t fd77_1[16] = { 0xfd, 0x77, 0, 1 };
	static const uint8_t zero[16];
	char a[4096], b[4096];
	struct jv_error err;

	edit(a, sizeof(a), server_text, "[10.77.0.2/32, 10.88.0.0/16]",
	     "[10.77.0.2/32, 10.0.0.0/8, \"fd77::2/128\", \"::/0\"]");
	edit(b, sizeof(b), a, "      - 10.77.0.3/32",
	     "      - 10.77.0.3/32\n      - 10.88.1.0/24\n"
	     "      - \"fd77:1::/48\"");
	if (parse_as("server.yaml", b, &err) != 0)
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(cfg.peers[0].nallowed, 4);
	assert_int_equal(cfg.peers[0].allowed[0].family, JV_IP4);
	assert_int_equal(cfg.peers[0].allowed[0].addr, 0x0a4d0002);
	assert_int_equal(cfg.peers[0].allowed[1].family, JV_IP4);
	assert_int_equal(cfg.peers[0].allowed[1].addr, 0x0a000000);
	assert_int_equal(cfg.peers[0].allowed[1].prefix, 8);
	assert_int_equal(cfg.peers[0].allowed[2].family, JV_IP6);
	assert_memory_equal(cfg.peers[0].allowed[2].addr6, fd77_2, 16);
	assert_int_equal(cfg.peers[0].allowed[2].prefix, 128);
	assert_int_equal(cfg.peers[0].allowed[3].family, JV_IP6);
	assert_memory_equal(cfg.peers[0].allowed[3].addr6, zero, 16);
	assert_int_equal(cfg.peers[0].allowed[3].prefix, 0);
	assert_int_equal(cfg.peers[1].nallowed, 3);
	assert_int_equal(cfg.peers[1].allowed[1].addr, 0x0a580100);
	assert_int_equal(cfg.peers[1].allowed[1].prefix, 24);
	assert_int_equal(cfg.peers[1].allowed[2].family, JV_IP6);
	assert_memory_equal(cfg.peers[1].allowed[2].addr6, fd77_1, 16);
	assert_int_equal(cfg.peers[1].allowed[2].prefix, 48);

	/* the same IPv6 prefix, written another way, in the second peer */
	edit(b, sizeof(b), a, "      - 10.77.0.3/32",
	     "      - 10.77.0.3/32\n      - \"fd77:0::2/128\"");
	assert_int_equal(parse_as("server.yaml", b, &err), JV_ERR_INVAL);
	assert_int_equal(err.line, 17);
	assert_string_equal(err.msg, "peers[1].allowed_ips[1]: the same prefix "
			    "is in peers[0] (laptop)");
}

/* dns and dns_search: parsed, printed by config check, and a change
 * needs a restart. */
JV_TEST(test_dns)
{
	static const uint8_t fd77_1[16] = { 0xfd, 0x77, [15] = 1 };
	static struct jv_config cur;
	char a[4096], *out = NULL;
	struct jv_error err;
	size_t outlen = 0;
	FILE *f;

	assert_int_equal(parse_as("client.yaml", client_text, &err), 0);
	assert_int_equal(cfg.ndns, 0);
	assert_int_equal(cfg.ndns_search, 0);
	jv_config_wipe(&cfg);
	edit(a, sizeof(a), client_text, "on_terminated",
	     "dns: [10.77.0.1, \"fd77::1\"]\n"
	     "dns_search: [corp.example.com, Lab_1]\non_terminated");
	if (parse_as("client.yaml", a, &err) != 0)
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	assert_int_equal(cfg.ndns, 2);
	assert_int_equal(cfg.dns[0].family, AF_INET);
	assert_memory_equal(cfg.dns[0].addr, "\x0a\x4d\x00\x01", 4);
	assert_int_equal(cfg.dns[1].family, AF_INET6);
	assert_memory_equal(cfg.dns[1].addr, fd77_1, 16);
	assert_int_equal(cfg.line_dns, 13);
	assert_int_equal(cfg.ndns_search, 2);
	assert_string_equal(cfg.dns_search[0], "corp.example.com");
	assert_string_equal(cfg.dns_search[1], "Lab_1");

	f = open_memstream(&out, &outlen);
	jv_config_print(&cfg, f);
	fclose(f);
	assert_non_null(strstr(out, "\ndns: [\"10.77.0.1\", \"fd77::1\"]\n"
				    "dns_search: [corp.example.com, Lab_1]\n"));
	free(out);

	/* the same: a reload takes it; another server or domain: not */
	cur = cfg;
	assert_int_equal(parse_as("client.yaml", a, &err), 0);
	assert_int_equal(jv_config_reloadable(&cur, &cfg, &err), 0);
	edit(a, sizeof(a), client_text, "on_terminated",
	     "dns: [10.77.0.1]\ndns_search: [corp.example.com, Lab_1]\n"
	     "on_terminated");
	assert_int_equal(parse_as("client.yaml", a, &err), 0);
	assert_int_equal(jv_config_reloadable(&cur, &cfg, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "dns: changed; a restart is needed"));
	edit(a, sizeof(a), client_text, "on_terminated",
	     "dns: [10.77.0.1, \"fd77::1\"]\ndns_search: [corp.example.com]\n"
	     "on_terminated");
	assert_int_equal(parse_as("client.yaml", a, &err), 0);
	assert_int_equal(jv_config_reloadable(&cur, &cfg, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "dns_search: changed; a restart"));
	jv_config_wipe(&cfg);
	jv_config_wipe(&cur);
}

/* tun.address as a list of both families: every address kept with its
 * prefix length, the client accepts inner sources from every tunnel
 * subnet, config check prints them all, and a change needs a restart. */
JV_TEST(test_tun_addresses)
{
	char text[4096], out[8192];
	struct jv_config *next = calloc(1, sizeof(*next));
	struct jv_endpoint_cfg ec;
	struct jv_error err;
	uint8_t fd77[16] = { 0xfd, 0x77, [15] = 2 };
	uint8_t net[16] = { 0xfd, 0x77 }, src[16] = { 0xfd, 0x77, [15] = 1 };
	uint8_t other[16] = { 0xfd, 0x78, [15] = 1 };
	FILE *f;

	assert_non_null(next);
	edit(text, sizeof(text), client_text, "address: 10.77.0.2/24",
	     "address: [10.77.0.2/24, \"fd77::2/64\"]");
	assert_int_equal(parse_as("client.yaml", text, &err), 0);
	assert_int_equal(cfg.tun.naddr, 2);
	assert_int_equal(cfg.tun.addr[0].family, JV_IP4);
	assert_int_equal(cfg.tun.addr[0].addr, 0x0a4d0002);
	assert_int_equal(cfg.tun.addr[1].family, JV_IP6);
	assert_int_equal(cfg.tun.addr[1].prefix, 64);
	assert_memory_equal(cfg.tun.addr[1].addr6, fd77, 16);

	jv_config_endpoint(&cfg, &ec);
	assert_int_equal(ec.nserver_allowed, 2);
	assert_int_equal(ec.server_allowed[0].addr, 0x0a4d0000);
	assert_int_equal(ec.server_allowed[0].prefix, 24);
	assert_true(jv_prefix_valid(&ec.server_allowed[1]));
	assert_memory_equal(ec.server_allowed[1].addr6, net, 16);
	assert_true(jv_prefix_match(&ec.server_allowed[1], JV_IP6, src));
	assert_false(jv_prefix_match(&ec.server_allowed[1], JV_IP6, other));
	sodium_memzero(&ec, sizeof(ec));

	f = fmemopen(out, sizeof(out), "w");
	assert_non_null(f);
	jv_config_print(&cfg, f);
	fclose(f);
	assert_non_null(strstr(out, "tun: { name: jvpn0, address: "
				    "[10.77.0.2/24, fd77::2/64], mtu: 1420 }\n"));

	/* the same addresses: reloadable; another one: a restart */
	assert_int_equal(jv_config_parse(next, text, strlen(text), cfg.file,
					 &err), 0);
	assert_int_equal(jv_config_reloadable(&cfg, next, &err), 0);
	edit(text, sizeof(text), client_text, "address: 10.77.0.2/24",
	     "address: [10.77.0.2/24, \"fd77::3/64\"]");
	assert_int_equal(jv_config_parse(next, text, strlen(text), cfg.file,
					 &err), 0);
	assert_int_equal(jv_config_reloadable(&cfg, next, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "tun: changed; a restart is needed"));

	/* one CIDR alone is a list of one; IPv6 alone is fine too */
	edit(text, sizeof(text), client_text, "address: 10.77.0.2/24",
	     "address: \"fd77::2/64\"");
	assert_int_equal(parse_as("client.yaml", text, &err), 0);
	assert_int_equal(cfg.tun.naddr, 1);
	assert_int_equal(cfg.tun.addr[0].family, JV_IP6);
	jv_config_wipe(next);
	free(next);
}

/* Host names and link-local scopes are kept for jv_config_resolve, not
 * looked up by the parser; config check prints them as written. */
JV_TEST(test_names_kept)
{
	char text[4096], out[8192];
	struct jv_error err;
	FILE *f;

	edit(text, sizeof(text), client_text, "\"192.0.2.1:51820\"",
	     "\"gw.example.org:51820\"");
	assert_int_equal(parse_as("client.yaml", text, &err), 0);
	assert_string_equal(cfg.transports[0].remote.host, "gw.example.org");
	assert_int_equal(cfg.transports[0].remote.port, 51820);
	assert_int_equal(cfg.transports[0].remote.len, 0);
	assert_int_equal(cfg.transports[0].line_remote, 7);
	f = fmemopen(out, sizeof(out), "w");
	assert_non_null(f);
	jv_config_print(&cfg, f);
	fclose(f);
	assert_non_null(strstr(out, "remote: \"gw.example.org:51820\""));

	/* bind_address decides the family a name is looked up in, so a
	 * name next to an IPv6 bind_address is no family mismatch */
	edit(text, sizeof(text), client_text, "\"[2001:db8::1]:443\"",
	     "\"gw.example.org:443\"");
	assert_int_equal(parse_as("client.yaml", text, &err), 0);

	edit(text, sizeof(text), server_text, "\"[::]:443\"",
	     "\"[fe80::1%eth0]:443\"");
	assert_int_equal(parse_as("server.yaml", text, &err), 0);
	assert_string_equal(cfg.listen[2].addr.scope, "eth0");
	f = fmemopen(out, sizeof(out), "w");
	assert_non_null(f);
	jv_config_print(&cfg, f);
	fclose(f);
	assert_non_null(strstr(out, "address: \"[fe80::1%eth0]:443\""));

	/* resolving: an interface that is not there names file, line, key */
	edit(text, sizeof(text), server_text, "\"[::]:443\"",
	     "\"[fe80::1%jvnosuch0]:443\"");
	assert_int_equal(parse_as("server.yaml", text, &err), 0);
	assert_int_equal(jv_config_resolve(&cfg, &err), JV_ERR_NOTFOUND);
	assert_int_equal(err.line, 9);
	assert_non_null(strstr(err.file, "server.yaml"));
	assert_non_null(strstr(err.msg, "listen[2].address: no interface "
					"\"jvnosuch0\""));
	edit(text, sizeof(text), server_text, "\"[::]:443\"",
	     "\"[fe80::1%lo]:443\"");
	assert_int_equal(parse_as("server.yaml", text, &err), 0);
	assert_int_equal(jv_config_resolve(&cfg, &err), 0);
	assert_true(((struct sockaddr_in6 *)&cfg.listen[2].addr.ss)
			    ->sin6_scope_id > 0);
}

/* Lists are bounded: one entry past the bound is refused. */
JV_TEST(test_too_many)
{
	char list[4096] = "", text[8192];
	struct jv_error err;

	for (int i = 0; i <= JV_MAX_TRANSPORTS; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list),
			 "  - { id: t%d, proto: udp, remote: \"192.0.2.1:%d\" }\n",
			 i, 1000 + i);
	edit(text, sizeof(text), client_text, "transports:\n",
	     "transports:\n");
	*strstr(text, "  - { id: udp-a") = '\0';
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s", list,
		 strstr(client_text, "tun:"));
	assert_int_equal(parse_as("client.yaml", text, &err), JV_ERR_INVAL);
	assert_int_equal(err.line, 7);
	assert_string_equal(err.msg, "transports: 17 entries (allowed 1..16)");

	/* exactly the bound is fine */
	*strstr(list, "  - { id: t16") = '\0';
	edit(text, sizeof(text), client_text, "transports:\n",
	     "transports:\n");
	*strstr(text, "  - { id: udp-a") = '\0';
	snprintf(text + strlen(text), sizeof(text) - strlen(text), "%s%s", list,
		 strstr(client_text, "tun:"));
	if (parse_as("client.yaml", text, &err) != 0)
		fail_msg("%d: %s", err.line, err.msg);
	assert_int_equal(cfg.ntransports, JV_MAX_TRANSPORTS);
}

/* routes: IPv4 and IPv6, a full tunnel included; the client then accepts
 * from the server its tunnel subnet and every route (CONTRACT section 8);
 * fwmark defaults to wg-quick's neighbour 51821. */
JV_TEST(test_routes)
{
	static const uint8_t fd88[16] = { 0xfd, 0x88 };
	struct jv_endpoint_cfg ec;
	struct jv_error err;
	char text[4096], out[4096];
	FILE *f;

	assert_int_equal(parse_as("client.yaml", client_text, &err), 0);
	assert_int_equal(cfg.nroutes, 0);
	assert_int_equal(cfg.fwmark, 51821);
	jv_config_endpoint(&cfg, &ec);
	assert_int_equal(ec.nserver_allowed, 1);

	edit(text, sizeof(text), client_text, "on_terminated",
	     "routes: [0.0.0.0/0, 10.88.0.0/16, \"fd88::/64\", \"::/0\"]\n"
	     "fwmark: 4294967295\non_terminated");
	if (parse_as("client.yaml", text, &err) != 0)
		fail_msg("%d: %s", err.line, err.msg);
	assert_int_equal(cfg.nroutes, 4);
	assert_int_equal(cfg.line_routes, 13);
	assert_int_equal(cfg.fwmark, 4294967295u);
	assert_int_equal(cfg.routes[0].family, JV_IP4);
	assert_int_equal(cfg.routes[0].prefix, 0);
	assert_int_equal(cfg.routes[1].addr, 0x0a580000);
	assert_int_equal(cfg.routes[1].prefix, 16);
	assert_int_equal(cfg.routes[2].family, JV_IP6);
	assert_memory_equal(cfg.routes[2].addr6, fd88, 16);
	assert_int_equal(cfg.routes[3].prefix, 0);

	jv_config_endpoint(&cfg, &ec);
	assert_int_equal(ec.nserver_allowed, 5);
	assert_int_equal(ec.server_allowed[0].addr, 0x0a4d0000);
	assert_int_equal(ec.server_allowed[0].prefix, 24);
	assert_memory_equal(&ec.server_allowed[1], &cfg.routes[0],
			    4 * sizeof(cfg.routes[0]));

	/* config check shows both */
	f = fmemopen(out, sizeof(out), "w");
	assert_non_null(f);
	jv_config_print(&cfg, f);
	fclose(f);
	assert_non_null(strstr(out, "\nroutes: [0.0.0.0/0, 10.88.0.0/16, "
				    "fd88::/64, ::/0]\nfwmark: 4294967295\n"));

	/* the bound */
	{
		char list[4096] = "routes: [";

		for (int i = 0; i <= JV_CFG_MAX_ROUTES; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list),
				 "%s10.%d.0.0/16", i ? ", " : "", i);
		strcat(list, "]\non_terminated");
		edit(text, sizeof(text), client_text, "on_terminated", list);
		assert_int_equal(parse_as("client.yaml", text, &err),
				 JV_ERR_INVAL);
		assert_int_equal(err.line, 13);
		assert_string_equal(err.msg, "routes: 65 entries (allowed 0..64)");
		*strstr(list, ", 10.64.0.0/16") = '\0';
		strcat(list, "]\non_terminated");
		edit(text, sizeof(text), client_text, "on_terminated", list);
		if (parse_as("client.yaml", text, &err) != 0)
			fail_msg("%d: %s", err.line, err.msg);
		assert_int_equal(cfg.nroutes, JV_CFG_MAX_ROUTES);
		jv_config_endpoint(&cfg, &ec);
		assert_int_equal(ec.nserver_allowed, JV_CFG_MAX_ROUTES + 1);
	}
}

/* A change of routes or fwmark needs a restart: the reload says which. */
JV_TEST(test_routes_reload)
{
	static struct jv_config cur;
	struct jv_error err;
	char text[4096];

	edit(text, sizeof(text), client_text, "on_terminated",
	     "routes: [0.0.0.0/0]\non_terminated");
	assert_int_equal(parse_as("client.yaml", text, &err), 0);
	cur = cfg;
	assert_int_equal(parse_as("client.yaml", text, &err), 0);
	assert_int_equal(jv_config_reloadable(&cur, &cfg, &err), 0);

	edit(text, sizeof(text), client_text, "on_terminated",
	     "routes: [0.0.0.0/0, \"::/0\"]\non_terminated");
	assert_int_equal(parse_as("client.yaml", text, &err), 0);
	assert_int_equal(jv_config_reloadable(&cur, &cfg, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "routes: changed; a restart is needed"));

	edit(text, sizeof(text), client_text, "on_terminated",
	     "routes: [10.0.0.0/8]\non_terminated");
	assert_int_equal(parse_as("client.yaml", text, &err), 0);
	assert_int_equal(jv_config_reloadable(&cur, &cfg, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "routes: changed"));

	edit(text, sizeof(text), client_text, "on_terminated",
	     "routes: [0.0.0.0/0]\nfwmark: 7\non_terminated");
	assert_int_equal(parse_as("client.yaml", text, &err), 0);
	assert_int_equal(jv_config_reloadable(&cur, &cfg, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "fwmark: changed; a restart is needed"));
	jv_config_wipe(&cur);
}

/* Not a configuration at all. */
JV_TEST(test_not_a_config)
{
	struct jv_error err;

	assert_int_equal(parse_as("x.yaml", "", &err), JV_ERR_INVAL);
	assert_string_equal(err.msg,
			    "expected a mapping of configuration keys, got an "
			    "empty file");
	assert_int_equal(parse_as("x.yaml", "- role: server\n", &err),
			 JV_ERR_INVAL);
	assert_int_equal(err.line, 1);
	assert_non_null(strstr(err.msg, "got a list"));
	assert_int_equal(parse_as("x.yaml", "a: 1\n---\nb: 2\n", &err),
			 JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "more than one YAML document"));
}

/* A value that fails only when the daemon uses it (a device that does not
 * exist, a port in use, a missing directory) is reported at the line of
 * the key that asked for it, never at an empty place. */
JV_TEST(test_blame)
{
	struct jv_error err;
	char file[300], line[1024], want[1024];

	assert_int_equal(parse_as("client.yaml", client_text, &err), 0);
	snprintf(file, sizeof(file), "%s/client.yaml", dir);
	assert_int_equal(cfg.transports[0].line, 7);
	assert_int_equal(cfg.transports[0].line_bind_device, 7);
	assert_int_equal(cfg.transports[0].line_bind_address, 0);
	assert_int_equal(cfg.transports[2].line_bind_address, 9);
	assert_int_equal(cfg.tun.line_name, 10);
	assert_int_equal(cfg.line_audit_path, 11);
	assert_int_equal(cfg.line_control_socket, 12);

	/* as io/udp.c reports it: no place of its own */
	jv_error_set(&err, JV_ERR_INVAL, "", 0,
		     "udp: cannot bind to device wlan9: No such device");
	jv_config_blame(&cfg, cfg.transports[0].line_bind_device, &err,
			"transports[%d].bind_device", 0);
	jv_error_format(&err, line, sizeof(line));
	snprintf(want, sizeof(want), "%s:7: transports[0].bind_device: udp: "
		 "cannot bind to device wlan9: No such device", file);
	assert_string_equal(line, want);

	/* the file the error named stays in the message */
	jv_error_set(&err, JV_ERR_INVAL, "/nowhere/audit.jsonl", 0,
		     "cannot open the audit log: No such file or directory");
	jv_config_blame(&cfg, cfg.line_audit_path, &err, "audit.path");
	jv_error_format(&err, line, sizeof(line));
	snprintf(want, sizeof(want), "%s:11: audit.path: /nowhere/audit.jsonl: "
		 "cannot open the audit log: No such file or directory", file);
	assert_string_equal(line, want);

	/* no key: the config file at least */
	jv_error_set(&err, JV_ERR_INVAL, "", 0, "link monitor: no netlink");
	jv_config_blame(&cfg, 0, &err, NULL);
	jv_error_format(&err, line, sizeof(line));
	snprintf(want, sizeof(want), "%s: link monitor: no netlink", file);
	assert_string_equal(line, want);

	assert_int_equal(parse_as("server.yaml", server_text, &err), 0);
	assert_int_equal(cfg.listen[1].line_address, 8);
	assert_int_equal(cfg.tun.line, 10);
	assert_int_equal(cfg.line_control_socket, 19);
	jv_config_wipe(&cfg);
}

/* The paths that read and wipe secrets: a config with an inline key read
 * by jv_config_load, one whose YAML breaks after the key (libyaml's queued
 * tokens are wiped), key files too long, not regular or swapped for a
 * FIFO (which must not hang the daemon). Under ASan every wipe runs on
 * live memory; the wiped copies themselves are freed and out of sight. */
JV_TEST(test_secret_paths)
{
	char path[512], text[4200], big[2048], line[1024];
	uint8_t key[32], zero[32] = { 0 };
	struct jv_error err;

	write_file("client.yaml", client_text, 0600);
	snprintf(path, sizeof(path), "%s/client.yaml", dir);
	if (jv_config_load(&cfg, path, &err) != 0)
		fail_msg("%s:%d: %s", err.file, err.line, err.msg);
	key_of(LAPTOP_KEY, key);
	assert_memory_equal(cfg.private_key, key, 32);
	jv_config_wipe(&cfg);
	assert_memory_equal(cfg.private_key, zero, 32);

	/* a syntax error after the inline key: refused, nothing kept */
	snprintf(text, sizeof(text), "%s  - [unclosed\n", client_text);
	write_file("client.yaml", text, 0600);
	assert_int_equal(jv_config_load(&cfg, path, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "YAML syntax error"));
	assert_memory_equal(cfg.private_key, zero, 32);
	assert_int_equal(unlink(path), 0);

	/* longer than a key file may be */
	memset(big, 'A', sizeof(big) - 2);
	big[sizeof(big) - 2] = '\n';
	big[sizeof(big) - 1] = '\0';
	write_file("big.key", big, 0600);
	edit(text, sizeof(text), server_text, "gw-1.key", "big.key");
	assert_int_equal(parse_as("server.yaml", text, &err), JV_ERR_INVAL);
	jv_error_format(&err, line, sizeof(line));
	assert_non_null(strstr(line, "server.yaml:4: private_key_file: cannot "
				     "read "));
	assert_non_null(strstr(line, "big.key: file larger than 1024 bytes"));
	snprintf(path, sizeof(path), "%s/big.key", dir);
	assert_int_equal(unlink(path), 0);

	/* a FIFO, even one mode 0600 with no writer, is refused at once */
	snprintf(path, sizeof(path), "%s/fifo.key", dir);
	assert_int_equal(mkfifo(path, 0600), 0);
	edit(text, sizeof(text), server_text, "gw-1.key", "fifo.key");
	assert_int_equal(parse_as("server.yaml", text, &err), JV_ERR_INVAL);
	assert_non_null(strstr(err.msg, "fifo.key is not a regular file"));
	assert_int_equal(unlink(path), 0);
	assert_memory_equal(cfg.private_key, zero, 32);
}

JV_TEST_GROUP(setup, teardown);
