/* The metrics endpoint (io/http.h): request heads to statuses, the
 * responses, and the responder on loopback: one request per connection,
 * requests split across reads, the size limit, the connection bound, the
 * timeout, and a reader that does not read never blocking the loop. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/http.h"
#include "io/loop.h"

#include "tests/unit/unit.h"

JV_TEST(test_parse)
{
	static const struct {
		const char *req;
		int status;
	} rows[] = {
		{ "", 0 },
		{ "GET /metrics HTTP/1.1\r\n", 0 },
		{ "GET /metrics HTTP/1.1\r\nHost: x\r\n", 0 },
		{ "GET /metrics HTTP/1.1\r\n\r\n", 200 },
		{ "GET /metrics HTTP/1.0\r\n\r\n", 200 },
		{ "GET /metrics HTTP/1.1\n\n", 200 },
		{ "GET /metrics HTTP/1.1\r\nHost: h:9100\r\nAccept: */*\r\n\r\n", 200 },
		{ "GET /metrics?name[]=x HTTP/1.1\r\n\r\n", 200 },
		{ "GET /metrics HTTP/1.1\r\n\r\nbody after the head", 200 },
		{ "GET /metricsx HTTP/1.1\r\n\r\n", 404 },
		{ "GET / HTTP/1.1\r\n\r\n", 404 },
		{ "GET /metric HTTP/1.1\r\n\r\n", 404 },
		{ "GET /Metrics HTTP/1.1\r\n\r\n", 404 },
		{ "POST /metrics HTTP/1.1\r\n\r\n", 405 },
		{ "HEAD /metrics HTTP/1.1\r\n\r\n", 405 },
		{ "get /metrics HTTP/1.1\r\n\r\n", 405 },
		{ "GET /metrics HTTP/2.0\r\n\r\n", 400 },
		{ "GET /metrics\r\n\r\n", 400 },
		{ "GET  /metrics HTTP/1.1\r\n\r\n", 400 },
		{ " GET /metrics HTTP/1.1\r\n\r\n", 400 },
		{ "GET /metrics HTTP/1.1 \r\n\r\n", 400 },
		{ "G(T /metrics HTTP/1.1\r\n\r\n", 400 },
		{ "\r\n\r\n", 400 },
		{ "\x16\x03\x01\x02\x01\x01\xfc\x03\x03\n\n", 400 },
	};
	char big[JV_HTTP_MAX_REQUEST + 10];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		int got = jv_http_parse(rows[i].req, strlen(rows[i].req));

		if (got != rows[i].status)
			fail_msg("\"%s\": %d, want %d", rows[i].req, got,
				 rows[i].status);
	}
	/* a head that does not end within the limit */
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
	assert_int_equal(jv_http_parse(big, JV_HTTP_MAX_REQUEST - 1), 0);
	assert_int_equal(jv_http_parse(big, JV_HTTP_MAX_REQUEST), 431);
	assert_int_equal(jv_http_parse(big, sizeof(big)), 431);
	/* one that ends at the limit is read; past it, what follows is not
	 * looked at */
	memcpy(big + JV_HTTP_MAX_REQUEST - 4, "\r\n\r\n", 4);
	assert_int_equal(jv_http_parse(big, JV_HTTP_MAX_REQUEST), 200);
	memcpy(big + JV_HTTP_MAX_REQUEST - 4, "aaaa", 4);
	memcpy(big + JV_HTTP_MAX_REQUEST - 2, "\r\n\r\n", 4);
	assert_int_equal(jv_http_parse(big, sizeof(big)), 431);
}

JV_TEST(test_responses)
{
	size_t len;
	char *r = jv_http_response(200, "jvpn_up 1\n", &len);

	assert_int_equal(len, strlen(r));
	assert_string_equal(r,
		"HTTP/1.1 200 OK\r\n"
		"Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
		"Content-Length: 10\r\nConnection: close\r\n\r\njvpn_up 1\n");
	free(r);
	r = jv_http_response(404, NULL, &len);
	assert_non_null(strstr(r, "HTTP/1.1 404 Not Found\r\n"));
	assert_non_null(strstr(r, "Content-Length: 14\r\n"));
	assert_non_null(strstr(r, "\r\n\r\n404 Not Found\n"));
	free(r);
	r = jv_http_response(405, NULL, &len);
	assert_non_null(strstr(r, "HTTP/1.1 405 Method Not Allowed\r\n"));
	assert_non_null(strstr(r, "Allow: GET\r\n"));
	free(r);
	/* no body for a 200: the metrics could not be made */
	r = jv_http_response(200, NULL, &len);
	assert_non_null(strstr(r, "HTTP/1.1 500 "));
	free(r);
}

/* ---- on loopback ---- */

static size_t body_size = 10;
static int bodies;

static char *body(void *ctx)
{
	char *b = malloc(body_size + 1);

	(void)ctx;
	bodies++;
	memset(b, 'x', body_size);
	if (body_size >= 10)
		memcpy(b, "jvpn_up 1\n", 10);
	b[body_size] = '\0';
	return b;
}

static void on_timeout(void *ctx)
{
	jv_loop_stop(ctx);
}

struct conv {
	struct jv_loop *loop;
	int fd;
	char buf[8192];
	size_t len;
	bool eof;
};

static void on_reply(void *ctx, uint32_t events)
{
	struct conv *c = ctx;
	ssize_t n;

	(void)events;
	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len, 0);
	if (n <= 0) {
		c->eof = true;
		jv_loop_stop(c->loop);
		return;
	}
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
}

static int dial(uint16_t port)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_port = htons(port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

/* Runs the loop for ms (or until a conversation stops it). */
static void turn(struct jv_loop *l, uint64_t ms)
{
	jv_loop_set_timer(l, jv_mono_ms() + ms);
	assert_int_equal(jv_loop_run(l), 0);
}

/* Sends the parts (the loop runs between them), reads to the end. */
static void talk(struct jv_loop *l, uint16_t port, const char *const *parts,
		 char *out, size_t cap)
{
	struct conv c = { .loop = l };

	c.fd = dial(port);
	for (int i = 0; parts[i]; i++) {
		assert_int_equal(send(c.fd, parts[i], strlen(parts[i]), 0),
				 (ssize_t)strlen(parts[i]));
		if (parts[i + 1])
			turn(l, 20);
	}
	assert_int_equal(jv_loop_add(l, c.fd, EPOLLIN, on_reply, &c), 0);
	turn(l, 2000);
	assert_true(c.eof);                /* answered, then closed */
	jv_loop_del(l, c.fd);
	close(c.fd);
	snprintf(out, cap, "%s", c.buf);
}

static struct jv_http *open_http(struct jv_loop **l)
{
	struct sockaddr_in a = { .sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct jv_http *h;
	struct jv_error err;

	assert_int_equal(jv_loop_new(l), 0);
	jv_loop_on_timer(*l, on_timeout, *l);
	assert_int_equal(jv_http_open(&h, *l, (struct sockaddr *)&a, sizeof(a),
				      body, NULL, &err), 0);
	assert_true(jv_http_port(h) != 0);
	return h;
}

JV_TEST(test_loopback)
{
	struct jv_loop *l;
	struct jv_http *h = open_http(&l);
	uint16_t port = jv_http_port(h);
	char out[8192];

	body_size = 10;
	bodies = 0;
	talk(l, port, (const char *const[]){ "GET /metrics HTTP/1.1\r\n"
					     "Host: x\r\n\r\n", NULL },
	     out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	assert_non_null(strstr(out, "Content-Type: text/plain; version=0.0.4"));
	assert_non_null(strstr(out, "\r\n\r\njvpn_up 1\n"));
	assert_int_equal(bodies, 1);
	/* a head in pieces */
	talk(l, port, (const char *const[]){ "GET /met", "rics HTTP/1.1\r\n",
					     "\r\n", NULL },
	     out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	/* the rest answered without the metrics being made */
	talk(l, port, (const char *const[]){ "GET /x HTTP/1.1\r\n\r\n", NULL },
	     out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 404 Not Found\r\n"));
	talk(l, port, (const char *const[]){ "DELETE /metrics HTTP/1.1\r\n\r\n",
					     NULL }, out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 405 "));
	talk(l, port, (const char *const[]){ "hello\r\n\r\n", NULL }, out,
	     sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 400 "));
	assert_int_equal(bodies, 2);
	/* a head with no end: answered 431 at the limit, not read on */
	{
		char big[JV_HTTP_MAX_REQUEST + 1];

		memset(big, 'a', sizeof(big) - 1);
		big[sizeof(big) - 1] = '\0';
		memcpy(big, "GET /metrics HTTP/1.1\r\nX: ", 26);
		talk(l, port, (const char *const[]){ big, NULL }, out,
		     sizeof(out));
		assert_non_null(strstr(out, "HTTP/1.1 431 "));
	}
	/* one request per connection: what follows the first is not
	 * answered */
	talk(l, port, (const char *const[]){ "GET /metrics HTTP/1.1\r\n\r\n"
					     "GET /metrics HTTP/1.1\r\n\r\n",
					     NULL }, out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	assert_null(strstr(strstr(out, "HTTP/1.1") + 1, "HTTP/1.1"));
	jv_http_close(h);
	jv_loop_free(l);
}

/* Silent clients are closed at their time; past the bound the oldest
 * makes room. */
JV_TEST(test_bounds)
{
	struct jv_loop *l;
	struct jv_http *h = open_http(&l);
	uint16_t port = jv_http_port(h);
	int fds[JV_HTTP_MAX_CONNS + 1];
	char out[8192], ch;

	body_size = 10;
	for (int i = 0; i <= JV_HTTP_MAX_CONNS; i++) {
		fds[i] = dial(port);
		turn(l, 10);
	}
	/* the first went for the last */
	assert_int_equal(recv(fds[0], &ch, 1, MSG_DONTWAIT), 0);
	assert_int_equal(recv(fds[1], &ch, 1, MSG_DONTWAIT), -1);
	assert_true(errno == EAGAIN || errno == EWOULDBLOCK);
	/* a deadline is reported while connections wait */
	assert_true(jv_http_sweep(h, jv_mono_ms()) <=
		    jv_mono_ms() + JV_HTTP_TIMEOUT_MS);
	/* their time is up: all closed, none answered */
	assert_int_equal(jv_http_sweep(h, jv_mono_ms() + JV_HTTP_TIMEOUT_MS + 1),
			 UINT64_MAX);
	for (int i = 1; i <= JV_HTTP_MAX_CONNS; i++) {
		assert_int_equal(recv(fds[i], &ch, 1, 0), 0);
		close(fds[i]);
	}
	close(fds[0]);
	/* and it still answers */
	talk(l, port, (const char *const[]){ "GET /metrics HTTP/1.1\r\n\r\n",
					     NULL }, out, sizeof(out));
	assert_non_null(strstr(out, "HTTP/1.1 200 OK\r\n"));
	jv_http_close(h);
	jv_loop_free(l);
}

/* A client that asks for a large response and does not read: the loop
 * goes on (its timer fires), the response is written as the client
 * takes it. */
JV_TEST(test_slow_reader)
{
	struct jv_loop *l;
	struct jv_http *h = open_http(&l);
	const char *req = "GET /metrics HTTP/1.1\r\n\r\n";
	size_t got = 0;
	int fd, rcv = 4096;
	char buf[65536];
	uint64_t t0;

	body_size = 8u << 20;
	fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
	{
		struct sockaddr_in a = {
			.sin_family = AF_INET, .sin_port = htons(jv_http_port(h)),
			.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	}
	assert_int_equal(send(fd, req, strlen(req), 0), (ssize_t)strlen(req));
	t0 = jv_mono_ms();
	turn(l, 50);                   /* returns: nothing waits on the client */
	assert_true(jv_mono_ms() - t0 < 1000);
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (int rounds = 0; rounds < 100000; rounds++) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n == 0)
			break;
		if (n > 0)
			got += (size_t)n;
		else
			turn(l, 1);
	}
	assert_true(got > body_size);
	close(fd);
	body_size = 10;
	jv_http_close(h);
	jv_loop_free(l);
}
