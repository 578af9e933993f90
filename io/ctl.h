/* The control socket server (CONTRACT section 6): a Unix stream socket,
 * mode 0600, one JSON request per line, one JSON reply per line. Bounded:
 * at most JV_CTL_MAX_CLIENTS connections, JV_CTL_MAX_LINE bytes a request.
 * The daemon answers requests through a handler; this file only moves
 * lines. */
#ifndef JV_IO_CTL_H
#define JV_IO_CTL_H

#include <jansson.h>

#include "core/err.h"
#include "io/loop.h"

#define JV_CTL_MAX_CLIENTS 16
#define JV_CTL_MAX_LINE 4096
/* Requests answered per client per loop turn: a client pipelining
 * requests (a reply may be a large sessions list) waits its turn like
 * every other descriptor. */
#define JV_CTL_REQ_BUDGET 8
/* Descriptors the control socket may hold: the listener and its clients. */
#define JV_CTL_FDS (1 + JV_CTL_MAX_CLIENTS)

/* req is {"cmd": "status", "args": [...]}. Returns a new reference to the
 * reply object; the reply always has "ok": true|false and, when false,
 * "error": "what is wrong". */
typedef json_t *(*jv_ctl_handler)(void *ctx, const char *cmd, json_t *args);

struct jv_ctl;

/* One request line (len bytes, without its newline; need not be
 * NUL-terminated) to its reply, with no socket: the JSON is parsed and
 * checked ("cmd" a string, "args" absent or an array of strings) before
 * handler sees it; else an "ok": false reply. Returns a new reference
 * (NULL only when out of memory). */
json_t *jv_ctl_answer(const char *line, size_t len, jv_ctl_handler handler,
		      void *ctx);

/* Binds path, listens, registers with the loop. A socket file at path
 * that no one answers on (left by a daemon that died) is replaced; one a
 * live daemon answers on is left alone and JV_ERR_STATE returned; anything
 * else at path is left alone and JV_ERR_INVAL returned. err->file is path. */
int jv_ctl_open(struct jv_ctl **out, struct jv_loop *loop, const char *path,
		jv_ctl_handler handler, void *ctx, struct jv_error *err);
/* Closes every connection and unlinks the socket file if it is still the
 * one jv_ctl_open() bound. */
void jv_ctl_close(struct jv_ctl *c);

#endif
