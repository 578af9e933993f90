/* jvpn ctl: one request to a running daemon's control socket, the reply
 * as JSON (--json) or as text for people. */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/cmds.h"
#include "cli/ctl_reply.h"
#include "cli/util.h"

#define REPLY_MAX (1u << 20)
#define TIMEOUT_MS 5000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: jvpn ctl -s SOCKET CMD [ARGS] [--json]\n"
		"\n"
		"Talks to a running jvpn daemon through its control socket.\n"
		"\n"
		"commands:\n"
		"  status                   node, role, uptime, policy version, sessions by state\n"
		"  sessions                 every session: id, peer, state, transport, ages, switches, bytes\n"
		"  transports               the client's transports: state, loss, RTT, last receive\n"
		"  terminate SESSION_ID     end a session (operator_terminated); the peer is told;\n"
		"                           the id in full or its first 8+ hex digits\n"
		"  policy-reload FILE       validate a policy file and apply it atomically\n"
		"  metrics                  counters and gauges in Prometheus text format\n"
		"\n"
		"  --json                   print the daemon's JSON reply as it is\n"
		"\n"
		"Exit: 0 ok, 1 the daemon refused the request, 2 bad usage or no daemon.\n");
}

static int nargs_of(const char *cmd)
{
	static const struct { const char *name; int n; } cmds[] = {
		{ "status", 0 }, { "sessions", 0 }, { "transports", 0 },
		{ "metrics", 0 }, { "terminate", 1 }, { "policy-reload", 1 },
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		if (strcmp(cmd, cmds[i].name) == 0)
			return cmds[i].n;
	return -1;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	return fd;
}

/* Sends line, reads one reply line (bounded in size and time). */
static char *exchange(int fd, const char *line)
{
	size_t len = strlen(line), off = 0, cap = 4096;
	char *buf = malloc(cap);
	struct pollfd p = { .fd = fd, .events = POLLIN };

	if (!buf)
		return NULL;
	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);

		if (n < 0) {
			free(buf);
			return NULL;
		}
		off += (size_t)n;
	}
	off = 0;
	for (;;) {
		ssize_t n;
		char *nl;

		if (poll(&p, 1, TIMEOUT_MS) <= 0) {
			errno = ETIMEDOUT;
			break;
		}
		if (off + 1 >= cap) {
			char *q = cap >= REPLY_MAX ? NULL : realloc(buf, cap * 2);

			if (!q)
				break;
			buf = q;
			cap *= 2;
		}
		n = recv(fd, buf + off, cap - off - 1, 0);
		if (n <= 0) {
			errno = n == 0 ? ECONNRESET : errno;
			break;
		}
		off += (size_t)n;
		buf[off] = '\0';
		if ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			return buf;
		}
	}
	free(buf);
	return NULL;
}

static void print_value(json_t *v, int width, bool right)
{
	char tmp[64];
	const char *s = tmp;

	if (json_is_string(v))
		s = json_string_value(v);
	else if (json_is_integer(v))
		snprintf(tmp, sizeof(tmp), "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(tmp, sizeof(tmp), "%.4f", json_real_value(v));
	else if (json_is_true(v) || json_is_false(v))
		s = json_is_true(v) ? "true" : "false";
	else
		s = "-";
	printf(right ? "%*s  " : "%-*s  ", width, s);
}

/* An aligned table of the array's objects, columns in the given order. */
static void table(json_t *rows, const char *const *cols)
{
	int width[16] = { 0 }, ncols = 0;
	size_t i;
	json_t *row;

	while (cols[ncols])
		ncols++;
	for (int c = 0; c < ncols; c++)
		width[c] = (int)strlen(cols[c]);
	json_array_foreach(rows, i, row)
		for (int c = 0; c < ncols; c++) {
			char tmp[64];
			json_t *v = json_object_get(row, cols[c]);
			int w = json_is_string(v) ? (int)strlen(json_string_value(v))
				: json_is_real(v) ? 6
				: json_is_integer(v)
					? snprintf(tmp, sizeof(tmp), "%lld",
						   (long long)json_integer_value(v))
					: 5;

			if (w > width[c])
				width[c] = w;
		}
	for (int c = 0; c < ncols; c++)
		printf("%-*s  ", width[c], cols[c]);
	printf("\n");
	json_array_foreach(rows, i, row) {
		for (int c = 0; c < ncols; c++) {
			json_t *v = json_object_get(row, cols[c]);

			print_value(v, width[c], json_is_number(v));
		}
		printf("\n");
	}
}

static void print_human(const char *cmd, json_t *r)
{
	static const char *const scols[] = {
		"session_id", "peer", "state", "state_version", "transport",
		"session_age_ms", "transportless_age_ms", "switches_last_min",
		"bytes_in", "bytes_out", NULL,
	};
	static const char *const tcols[] = {
		"id", "proto", "state", "loss_ratio", "rtt_ms", "last_rx_age_ms",
		NULL,
	};

	if (strcmp(cmd, "sessions") == 0) {
		table(json_object_get(r, "sessions"), scols);
	} else if (strcmp(cmd, "transports") == 0) {
		table(json_object_get(r, "transports"), tcols);
	} else if (strcmp(cmd, "metrics") == 0) {
		fputs(json_string_value(json_object_get(r, "text")) ?: "", stdout);
	} else if (strcmp(cmd, "status") == 0) {
		const char *k;
		json_t *v;

		json_object_foreach(r, k, v) {
			if (strcmp(k, "ok") == 0)
				continue;
			if (json_is_object(v)) {
				const char *k2;
				json_t *v2;

				printf("%s:\n", k);
				json_object_foreach(v, k2, v2)
					printf("  %-12s %lld\n", k2,
					       (long long)json_integer_value(v2));
				continue;
			}
			printf("%-16s ", k);
			print_value(v, 0, false);
			printf("\n");
		}
	} else {
		printf("ok\n");
	}
}

int jv_cmd_ctl(int argc, char **argv)
{
	const char *sock = NULL, *cmd = NULL;
	const char *args[2] = { NULL, NULL };
	char real[PATH_MAX], id[33];
	bool json = false;
	int nargs = 0, want, fd, rc;
	json_t *req, *r;
	char *line, *reply;

	if (jv_wants_help(argc, argv)) {
		usage(stdout);
		return 0;
	}
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-s") == 0 && i + 1 < argc)
			sock = argv[++i];
		else if (strcmp(argv[i], "--json") == 0)
			json = true;
		else if (!cmd)
			cmd = argv[i];
		else if (nargs < 2)
			args[nargs++] = argv[i];
		else
			nargs = 3;
	}
	if (!sock || !cmd || (want = nargs_of(cmd)) < 0 || want != nargs) {
		if (cmd && nargs_of(cmd) < 0)
			fprintf(stderr, "jvpn ctl: unknown command '%s'\n", cmd);
		usage(stderr);
		return 2;
	}
	if (strcmp(cmd, "terminate") == 0 &&
	    jv_ctl_session_prefix(args[0], id) < 0) {
		fprintf(stderr, "jvpn ctl: terminate: not a session id (32 hex "
			"digits as `ctl sessions` prints, or the first 8 or "
			"more as timeline and metrics print)\n");
		return 2;
	}
	/* the daemon runs elsewhere: a relative path means ours */
	if (strcmp(cmd, "policy-reload") == 0) {
		if (!realpath(args[0], real)) {
			fprintf(stderr, "jvpn: %s: %s\n", args[0], strerror(errno));
			return 2;
		}
		args[0] = real;
	}
	req = json_pack("{s:s, s:[]}", "cmd", cmd, "args");
	for (int i = 0; i < nargs; i++)
		json_array_append_new(json_object_get(req, "args"),
				      json_string(args[i]));
	line = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	fd = connect_to(sock);
	if (fd < 0) {
		fprintf(stderr, "jvpn: %s: %s\n", sock, strerror(errno));
		free(line);
		return 2;
	}
	{
		size_t n = strlen(line);
		char *withnl = malloc(n + 2);

		if (!withnl) {
			free(line);
			close(fd);
			return 2;
		}
		memcpy(withnl, line, n);
		memcpy(withnl + n, "\n", 2);
		reply = exchange(fd, withnl);
		free(withnl);
	}
	free(line);
	close(fd);
	if (!reply) {
		fprintf(stderr, "jvpn: %s: no reply: %s\n", sock, strerror(errno));
		return 2;
	}
	r = json_loads(reply, 0, NULL);
	if (!json_is_object(r)) {
		fprintf(stderr, "jvpn: %s: the reply is not JSON\n", sock);
		free(reply);
		json_decref(r);
		return 2;
	}
	rc = json_is_true(json_object_get(r, "ok")) ? 0 : 1;
	if (json)
		printf("%s\n", reply);
	else if (rc)
		fprintf(stderr, "jvpn: %s\n",
			json_string_value(json_object_get(r, "error")) ?: "refused");
	else
		print_human(cmd, r);
	free(reply);
	json_decref(r);
	return rc;
}
