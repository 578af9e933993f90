/* The metrics endpoint: one request per connection, bounded (io/http.h). */
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "io/http.h"
#include "io/tcp.h"

struct conn {
	struct jv_http *h;
	int fd;                       /* -1: free */
	uint64_t until_ms;            /* closed at this time, done or not */
	uint64_t born;                /* accept order: the oldest goes first */
	size_t inlen;
	char in[JV_HTTP_MAX_REQUEST];
	char *out;                    /* the response, once the head is in */
	size_t outlen, outoff;
	/* all of it sent and our side shut: what the peer still sends is
	 * read and dropped until it closes (closing with unread bytes would
	 * reset the connection, and the response with it) */
	bool draining;
};

struct jv_http {
	struct jv_loop *loop;
	int fd;
	uint16_t port;
	jv_http_body_fn body;
	void *ctx;
	uint64_t accepted;
	struct conn c[JV_HTTP_MAX_CONNS];
};

/* ---- the protocol, no sockets ---- */

static const char *head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (i + 1 < len && buf[i + 1] == '\n')
			return buf + i + 2;
		if (i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			return buf + i + 3;
	}
	return NULL;
}

static bool is_tchar(char ch)
{
	return (ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
	       (ch >= '0' && ch <= '9') || (ch && strchr("!#$%&'*+-.^_`|~", ch));
}

int jv_http_parse(const char *buf, size_t len)
{
	const char *end, *sp1, *sp2, *eol;
	size_t mlen, tlen, vlen;

	if (len > JV_HTTP_MAX_REQUEST)
		len = JV_HTTP_MAX_REQUEST;
	end = head_end(buf, len);
	if (!end)
		return len >= JV_HTTP_MAX_REQUEST ? 431 : 0;
	/* the request line: METHOD SP TARGET SP HTTP/1.x */
	eol = memchr(buf, '\n', (size_t)(end - buf));
	if (eol > buf && eol[-1] == '\r')
		eol--;
	sp1 = memchr(buf, ' ', (size_t)(eol - buf));
	if (!sp1 || sp1 == buf)
		return 400;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(eol - sp1 - 1));
	if (!sp2 || sp2 == sp1 + 1)
		return 400;
	mlen = (size_t)(sp1 - buf);
	tlen = (size_t)(sp2 - sp1 - 1);
	vlen = (size_t)(eol - sp2 - 1);
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar(buf[i]))
			return 400;
	for (size_t i = 0; i < tlen; i++)
		if ((unsigned char)sp1[1 + i] <= ' ' || sp1[1 + i] == 0x7f)
			return 400;
	if (vlen != 8 || (memcmp(sp2 + 1, "HTTP/1.1", 8) != 0 &&
			  memcmp(sp2 + 1, "HTTP/1.0", 8) != 0))
		return 400;
	if (mlen != 3 || memcmp(buf, "GET", 3) != 0)
		return 405;
	if ((tlen == 8 || (tlen > 8 && sp1[9] == '?')) &&
	    memcmp(sp1 + 1, "/metrics", 8) == 0)
		return 200;
	return 404;
}

static const char *reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 431: return "Request Header Fields Too Large";
	default: return "Internal Server Error";
	}
}

char *jv_http_response(int status, const char *body, size_t *len)
{
	char msg[64];
	const char *type = JV_HTTP_CONTENT_TYPE;
	size_t blen, cap;
	char *out;
	int n;

	if (status == 200 && !body)
		status = 500;
	if (status != 200) {
		snprintf(msg, sizeof(msg), "%d %s\n", status, reason(status));
		body = msg;
		type = "text/plain; charset=utf-8";
	}
	blen = strlen(body);
	cap = blen + 256;
	if (!(out = malloc(cap)))
		return NULL;
	n = snprintf(out, cap,
		     "HTTP/1.1 %d %s\r\nContent-Type: %s\r\n"
		     "Content-Length: %zu\r\n%sConnection: close\r\n\r\n",
		     status, reason(status), type, blen,
		     status == 405 ? "Allow: GET\r\n" : "");
	if (n < 0 || (size_t)n + blen >= cap) {
		free(out);
		return NULL;
	}
	memcpy(out + n, body, blen);
	*len = (size_t)n + blen;
	out[*len] = '\0';
	return out;
}

/* ---- the sockets ---- */

/* recv without blocking: bytes read, 0 when the peer closed or the socket
 * failed, -1 when nothing is there yet. */
static ssize_t recv_nb(int fd, void *buf, size_t cap)
{
	for (;;) {
		ssize_t n = recv(fd, buf, cap, 0);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return -1;
		return n < 0 ? 0 : n;
	}
}

static void drop(struct conn *c)
{
	if (c->fd < 0)
		return;
	jv_loop_del(c->h->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	free(c->out);
	c->out = NULL;
	c->inlen = c->outlen = c->outoff = 0;
	c->draining = false;
}

/* Writes what the peer takes; closes once all of it is sent. */
static void flush(struct conn *c)
{
	while (c->outoff < c->outlen) {
		ssize_t n = send(c->fd, c->out + c->outoff,
				 c->outlen - c->outoff, MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				jv_loop_mod(c->h->loop, c->fd, EPOLLOUT);
				return;
			}
			break;
		}
		c->outoff += (size_t)n;
	}
	if (c->outoff < c->outlen || shutdown(c->fd, SHUT_WR) != 0) {
		drop(c);
		return;
	}
	c->draining = true;
	jv_loop_mod(c->h->loop, c->fd, EPOLLIN);
}

static void drain(struct conn *c)
{
	char scrap[512];

	for (;;) {
		ssize_t n = recv_nb(c->fd, scrap, sizeof(scrap));

		if (n < 0)
			return;
		if (n == 0) {
			drop(c);
			return;
		}
	}
}

static void answer(struct conn *c, int status)
{
	char *body = NULL;

	if (status == 200)
		body = c->h->body(c->h->ctx);
	c->out = jv_http_response(status, body, &c->outlen);
	free(body);
	if (!c->out) {
		drop(c);
		return;
	}
	flush(c);
}

static void on_conn(void *ctx, uint32_t events)
{
	struct conn *c = ctx;
	int status;

	if (c->draining) {
		drain(c);
		return;
	}
	if (c->out) {
		if (events & (EPOLLERR | EPOLLHUP))
			drop(c);
		else
			flush(c);
		return;
	}
	for (;;) {
		ssize_t n = recv_nb(c->fd, c->in + c->inlen,
				    sizeof(c->in) - c->inlen);

		if (n < 0)
			break;
		if (n == 0) {
			/* closed or failed before a whole request */
			drop(c);
			return;
		}
		c->inlen += (size_t)n;
		if (c->inlen == sizeof(c->in))
			break;
	}
	if ((status = jv_http_parse(c->in, c->inlen)) != 0)
		answer(c, status);
}

static void on_accept(void *ctx, uint32_t events)
{
	struct jv_http *h = ctx;

	(void)events;
	for (int k = 0; k < JV_HTTP_ACCEPT_BATCH; k++) {
		struct sockaddr_storage peer;
		socklen_t plen;
		struct conn *c = NULL;
		int fd = jv_tcp_accept(h->fd, &peer, &plen);

		if (fd < 0)
			break;
		for (int i = 0; i < JV_HTTP_MAX_CONNS; i++) {
			if (h->c[i].fd < 0) {
				c = &h->c[i];
				break;
			}
			if (!c || h->c[i].born < c->born)
				c = &h->c[i];
		}
		drop(c);                  /* full: the oldest makes room */
		c->fd = fd;
		c->born = ++h->accepted;
		c->until_ms = jv_mono_ms() + JV_HTTP_TIMEOUT_MS;
		if (jv_loop_add(h->loop, fd, EPOLLIN, on_conn, c) != 0) {
			close(fd);
			c->fd = -1;
		}
	}
}

int jv_http_open(struct jv_http **out, struct jv_loop *loop,
		 const struct sockaddr *addr, socklen_t len,
		 jv_http_body_fn body, void *ctx, struct jv_error *err)
{
	struct jv_http *h = calloc(1, sizeof(*h));
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	int rc;

	if (!h)
		return jv_error_set(err, JV_ERR_NOMEM, "", 0, "out of memory");
	h->loop = loop;
	h->body = body;
	h->ctx = ctx;
	for (int i = 0; i < JV_HTTP_MAX_CONNS; i++) {
		h->c[i].h = h;
		h->c[i].fd = -1;
	}
	h->fd = jv_tcp_listen(addr, len, false, err);
	if (h->fd < 0) {
		free(h);
		return JV_ERR_INVAL;
	}
	if (getsockname(h->fd, (struct sockaddr *)&ss, &sl) == 0)
		h->port = ntohs(ss.ss_family == AF_INET6
					? ((struct sockaddr_in6 *)&ss)->sin6_port
					: ((struct sockaddr_in *)&ss)->sin_port);
	if ((rc = jv_loop_add(loop, h->fd, EPOLLIN, on_accept, h)) != 0) {
		close(h->fd);
		free(h);
		return jv_error_set(err, JV_ERR_INVAL, "", 0,
				    "metrics: cannot add to the loop (%d)", rc);
	}
	*out = h;
	return 0;
}

uint16_t jv_http_port(const struct jv_http *h)
{
	return h->port;
}

uint64_t jv_http_sweep(struct jv_http *h, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	if (!h)
		return next;
	for (int i = 0; i < JV_HTTP_MAX_CONNS; i++) {
		struct conn *c = &h->c[i];

		if (c->fd < 0)
			continue;
		if (now >= c->until_ms) {
			/* too slow: no answer */
			drop(c);
			continue;
		}
		if (c->until_ms < next)
			next = c->until_ms;
	}
	return next;
}

void jv_http_close(struct jv_http *h)
{
	if (!h)
		return;
	for (int i = 0; i < JV_HTTP_MAX_CONNS; i++)
		drop(&h->c[i]);
	jv_loop_del(h->loop, h->fd);
	close(h->fd);
	free(h);
}
