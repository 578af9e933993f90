/* The metrics endpoint (metrics_listen, CONTRACT section 8): a tiny HTTP/1.1
 * responder on the daemon's loop. One request per connection, then the
 * connection closes; GET /metrics is answered 200 with the Prometheus text
 * format, any other target 404, any other method 405, anything not HTTP
 * 400, a request head over JV_HTTP_MAX_REQUEST bytes 431. Bounded: at most
 * JV_HTTP_MAX_CONNS connections (the oldest makes room for a new one), each
 * given JV_HTTP_TIMEOUT_MS from accept to its last byte sent. Never blocks:
 * every socket is non-blocking, a response is written as the peer takes it. */
#ifndef JV_IO_HTTP_H
#define JV_IO_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"
#include "io/loop.h"

#define JV_HTTP_MAX_CONNS 8
#define JV_HTTP_MAX_REQUEST 4096    /* request line and headers */
#define JV_HTTP_TIMEOUT_MS 5000
#define JV_HTTP_ACCEPT_BATCH 8
/* Descriptors the responder may hold: the listener and its connections. */
#define JV_HTTP_FDS (1 + JV_HTTP_MAX_CONNS)

#define JV_HTTP_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* What a request head asks for: the HTTP status to answer, or 0 while the
 * head is not complete (no empty line yet) and within the limit. */
int jv_http_parse(const char *buf, size_t len);

/* The whole response for a status (body: the metrics text for 200, NULL
 * otherwise; a 200 with no body becomes 500). malloc'd and NUL-terminated,
 * *len its length; NULL when out of memory. */
char *jv_http_response(int status, const char *body, size_t *len);

/* The metrics text, malloc'd (freed by the caller), NULL on failure. */
typedef char *(*jv_http_body_fn)(void *ctx);

struct jv_http;

/* Binds and listens on addr (TCP), registers with the loop. err names the
 * address on failure (err->file empty: the caller blames its key). */
int jv_http_open(struct jv_http **out, struct jv_loop *loop,
		 const struct sockaddr *addr, socklen_t len,
		 jv_http_body_fn body, void *ctx, struct jv_error *err);
/* The port bound (for tests binding port 0). */
uint16_t jv_http_port(const struct jv_http *h);
/* Closes connections past their time; returns when to call again
 * (UINT64_MAX: no connection). */
uint64_t jv_http_sweep(struct jv_http *h, uint64_t now);
/* Closes every connection and the listener. NULL: nothing. */
void jv_http_close(struct jv_http *h);

#endif
