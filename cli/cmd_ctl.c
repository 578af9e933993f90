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

static void help(FILE *f)
{
	fprintf(f,
		"Talks to a running jvpn daemon through its control socket.\n"
		"\n"
		"commands:\n");
	jv_ctl_cmd_usage(f);
	fprintf(f,
		"\n"
		"  -s, --socket SOCKET      the daemon's control_socket\n"
		"  --json                   print the daemon's JSON reply as it is\n"
		"\n"
		"Exit: 0 ok, 1 the daemon refused the request, 2 bad usage or no daemon.\n");
}

static const struct jv_cmd_spec spec = {
	"ctl", "usage: jvpn ctl -s SOCKET CMD [ARGS] [--json]\n", help,
	1, 1 + JV_CTL_ARGS_MAX,
};

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

int jv_cmd_ctl(int argc, char **argv)
{
	const struct jv_ctl_cmd *c;
	const char *sock = NULL;
	char sent[JV_CTL_ARGS_MAX][PATH_MAX], *args[JV_CTL_ARGS_MAX];
	bool json = false;
	int first, nargs, fd, rc;
	struct jv_error err;
	const struct jv_opt opts[] = {
		{ "socket", 's', "SOCKET", &sock, NULL },
		{ "json", 0, NULL, &json, NULL },
		{ NULL, 0, NULL, NULL, NULL },
	};
	json_t *r;
	char *line, *reply, msg[128];

	if ((rc = jv_args_parse(&spec, opts, argc, argv, &first)) != JV_ARGS_RUN)
		return rc;
	if (!(c = jv_ctl_cmd_find(argv[first])))
		return jv_args_error(&spec, "unknown command '%s'", argv[first]);
	nargs = argc - first - 1;
	if (jv_ctl_check_nargs(c, (size_t)nargs, msg, sizeof(msg)) != 0)
		return jv_args_error(&spec, "%s", msg);
	if (!sock)
		return jv_args_error(&spec, "-s SOCKET is needed");
	for (int i = 0; i < nargs; i++) {
		if (jv_ctl_arg_prepare(c, argv[first + 1 + i], sent[i],
				       sizeof(sent[i]), &err) != 0) {
			jv_print_error(&err);
			return 2;
		}
		args[i] = sent[i];
	}
	line = jv_ctl_request(c->name, args, nargs);
	if (!line)
		return 2;
	fd = connect_to(sock);
	if (fd < 0) {
		fprintf(stderr, "jvpn: %s: %s\n", sock, strerror(errno));
		free(line);
		return 2;
	}
	reply = exchange(fd, line);
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
		c->render(stdout, c, r);
	free(reply);
	json_decref(r);
	return rc;
}
