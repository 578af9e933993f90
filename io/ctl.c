/* Control socket: JSON lines in, JSON lines out, bounded per client. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "io/ctl.h"

#define OUT_MAX (256 * 1024)
/* Lines left over after a turn's JV_CTL_REQ_BUDGET make the client ask
 * for EPOLLOUT, which a socket with room reports at once: the next turn
 * goes on with them. */

struct client {
	struct jv_ctl *ctl;
	int fd;                       /* -1: free */
	size_t inlen, outlen;
	char in[JV_CTL_MAX_LINE];
	char *out;                    /* OUT_MAX bytes */
	bool closing;                 /* close once out is sent */
};

struct jv_ctl {
	struct jv_loop *loop;
	int fd;
	char path[108];               /* "" once it is not ours to unlink */
	dev_t dev;                    /* the socket file we bound */
	ino_t ino;
	jv_ctl_handler handler;
	void *ctx;
	struct client c[JV_CTL_MAX_CLIENTS];
};

static void drop(struct client *cl)
{
	if (cl->fd < 0)
		return;
	jv_loop_del(cl->ctl->loop, cl->fd);
	close(cl->fd);
	cl->fd = -1;
	cl->inlen = cl->outlen = 0;
	cl->closing = false;
}

static bool has_line(const struct client *cl)
{
	return memchr(cl->in, '\n', cl->inlen) != NULL;
}

static void flush(struct client *cl)
{
	while (cl->outlen) {
		ssize_t n = send(cl->fd, cl->out, cl->outlen, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				drop(cl);
				return;
			}
			break;
		}
		memmove(cl->out, cl->out + n, cl->outlen - (size_t)n);
		cl->outlen -= (size_t)n;
	}
	if (!cl->outlen && cl->closing) {
		drop(cl);
		return;
	}
	jv_loop_mod(cl->ctl->loop, cl->fd,
		    (cl->closing ? 0 : EPOLLIN) |
		    (cl->outlen || (!cl->closing && has_line(cl)) ? EPOLLOUT
								   : 0));
}

static void reply(struct client *cl, json_t *r)
{
	char *s = r ? json_dumps(r, JSON_COMPACT) : NULL;
	size_t n = s ? strlen(s) : 0;

	json_decref(r);
	if (!s || cl->outlen + n + 1 > OUT_MAX) {
		/* a reader that does not read, or no memory: let it go */
		free(s);
		cl->closing = true;
		cl->outlen = 0;
		return;
	}
	memcpy(cl->out + cl->outlen, s, n);
	cl->out[cl->outlen + n] = '\n';
	cl->outlen += n + 1;
	free(s);
}

static json_t *error_reply(const char *msg)
{
	return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

json_t *jv_ctl_answer(const char *line, size_t len, jv_ctl_handler handler,
		     void *ctx)
{
	json_t *req = json_loadb(line, len, 0, NULL), *args, *r;
	const char *cmd;

	if (!json_is_object(req) ||
	    !(cmd = json_string_value(json_object_get(req, "cmd")))) {
		json_decref(req);
		return error_reply("a request is a JSON object with a "
				   "\"cmd\" string");
	}
	args = json_object_get(req, "args");
	if (args && !json_is_array(args)) {
		json_decref(req);
		return error_reply("\"args\" must be an array");
	}
	for (size_t i = 0; i < json_array_size(args); i++)
		if (!json_is_string(json_array_get(args, i))) {
			json_decref(req);
			return error_reply("\"args\" must hold strings");
		}
	if (!args)
		args = json_array();
	else
		json_incref(args);
	r = handler(ctx, cmd, args);
	json_decref(args);
	json_decref(req);
	return r;
}

static void request(struct client *cl, const char *line, size_t len)
{
	reply(cl, jv_ctl_answer(line, len, cl->ctl->handler, cl->ctl->ctx));
}

/* Answers the complete lines in cl->in, at most *budget of them. */
static void answer(struct client *cl, int *budget)
{
	char *nl;

	while (*budget > 0 && !cl->closing &&
	       (nl = memchr(cl->in, '\n', cl->inlen)) != NULL) {
		size_t len = (size_t)(nl - cl->in);

		request(cl, cl->in, len);
		memmove(cl->in, nl + 1, cl->inlen - len - 1);
		cl->inlen -= len + 1;
		(*budget)--;
	}
	if (!cl->closing && cl->inlen == sizeof(cl->in)) {
		reply(cl, error_reply("request longer than 4096 bytes"));
		cl->closing = true;
	}
}

static void on_client(void *ctx, uint32_t events)
{
	struct client *cl = ctx;
	int budget = JV_CTL_REQ_BUDGET;

	if (events & EPOLLOUT)
		flush(cl);
	if (cl->fd < 0)
		return;
	answer(cl, &budget);       /* lines left from the last turn */
	while (budget > 0 && !cl->closing &&
	       (events & (EPOLLIN | EPOLLHUP | EPOLLERR))) {
		ssize_t n = recv(cl->fd, cl->in + cl->inlen,
				 sizeof(cl->in) - cl->inlen, 0);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR &&
			       errno != EWOULDBLOCK)) {
			drop(cl);
			return;
		}
		if (n < 0)
			break;
		cl->inlen += (size_t)n;
		answer(cl, &budget);
	}
	flush(cl);
}

static void on_listen(void *ctx, uint32_t events)
{
	struct jv_ctl *c = ctx;

	(void)events;
	/* a turn takes at most as many as there are places; the rest wait */
	for (int k = 0; k < JV_CTL_MAX_CLIENTS; k++) {
		int fd = accept4(c->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		struct client *cl = NULL;

		if (fd < 0)
			return;
		for (int i = 0; i < JV_CTL_MAX_CLIENTS && !cl; i++)
			if (c->c[i].fd < 0)
				cl = &c->c[i];
		if (!cl || jv_loop_add(c->loop, fd, EPOLLIN, on_client, cl) != 0) {
			close(fd);     /* bounded: no room for another */
			continue;
		}
		cl->fd = fd;
		cl->inlen = cl->outlen = 0;
		cl->closing = false;
	}
}

/* Who holds path: 0 when nothing answers there (no file, or a socket
 * left by a daemon that died, which is then removed), JV_ERR_STATE when a
 * daemon answers, JV_ERR_INVAL when it is something else. */
static int claim(const struct sockaddr_un *sa, struct jv_error *err)
{
	const char *path = sa->sun_path;
	struct stat st;
	int fd, rc, e;

	if (lstat(path, &st) != 0)
		return errno == ENOENT ? 0 : jv_error_set(err, JV_ERR_INVAL,
			path, 0, "cannot use the control socket: %s",
			strerror(errno));
	if (!S_ISSOCK(st.st_mode))
		return jv_error_set(err, JV_ERR_INVAL, path, 0,
				    "exists and is not a socket; it is left "
				    "alone");
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return jv_error_set(err, JV_ERR_INVAL, path, 0,
				    "cannot probe the control socket: %s",
				    strerror(errno));
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	e = errno;
	close(fd);
	/* EAGAIN: a listener whose backlog is full is alive too */
	if (rc == 0 || e == EAGAIN || e == EINPROGRESS)
		return jv_error_set(err, JV_ERR_STATE, path, 0,
				    "another daemon answers on this control "
				    "socket; stop it or give this one another "
				    "path");
	if (e == ENOENT)
		return 0;
	if (e != ECONNREFUSED)
		return jv_error_set(err, JV_ERR_INVAL, path, 0,
				    "cannot tell whether a daemon answers on "
				    "the control socket: %s", strerror(e));
	if (unlink(path) != 0 && errno != ENOENT)
		return jv_error_set(err, JV_ERR_INVAL, path, 0,
				    "cannot remove the stale control socket: "
				    "%s", strerror(errno));
	return 0;
}

int jv_ctl_open(struct jv_ctl **out, struct jv_loop *loop, const char *path,
		jv_ctl_handler handler, void *ctx, struct jv_error *err)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct jv_ctl *c;
	struct stat st;
	mode_t old;
	int rc;

	*out = NULL;
	if (strlen(path) >= sizeof(sa.sun_path))
		return jv_error_set(err, JV_ERR_INVAL, path, 0,
				    "control socket path too long");
	memcpy(sa.sun_path, path, strlen(path));
	if ((rc = claim(&sa, err)) != 0)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return jv_error_set(err, JV_ERR_NOMEM, path, 0, "out of memory");
	c->fd = -1;
	for (int i = 0; i < JV_CTL_MAX_CLIENTS; i++) {
		c->c[i].fd = -1;
		c->c[i].ctl = c;
		c->c[i].out = malloc(OUT_MAX);
		if (!c->c[i].out) {
			jv_ctl_close(c);
			return jv_error_set(err, JV_ERR_NOMEM, path, 0,
					    "out of memory");
		}
	}
	c->loop = loop;
	c->handler = handler;
	c->ctx = ctx;
	c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	old = umask(0177);
	/* bind() never replaces a file: a daemon that started since claim()
	 * keeps its socket and this one fails */
	rc = c->fd < 0 ? -1 : bind(c->fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc == 0 && lstat(path, &st) == 0) {
		memcpy(c->path, path, strlen(path) + 1);
		c->dev = st.st_dev;
		c->ino = st.st_ino;
	}
	if (rc != 0 || !c->path[0] || listen(c->fd, 8) != 0 ||
	    jv_loop_add(loop, c->fd, EPOLLIN, on_listen, c) != 0) {
		rc = jv_error_set(err, JV_ERR_INVAL, path, 0,
				  "cannot listen on the control socket: %s",
				  strerror(errno));
		jv_ctl_close(c);
		return rc;
	}
	*out = c;
	return 0;
}

void jv_ctl_close(struct jv_ctl *c)
{
	struct stat st;

	if (!c)
		return;
	for (int i = 0; i < JV_CTL_MAX_CLIENTS; i++) {
		drop(&c->c[i]);
		free(c->c[i].out);
	}
	if (c->fd >= 0) {
		jv_loop_del(c->loop, c->fd);
		close(c->fd);
	}
	/* only our own socket: the file may have been replaced since */
	if (c->path[0] && lstat(c->path, &st) == 0 && st.st_dev == c->dev &&
	    st.st_ino == c->ino)
		unlink(c->path);
	free(c);
}
