/* The TCP fallback transport: the same datagrams, each framed by a 2-byte
 * big-endian length, over one stream. Buffers are bounded: a datagram that
 * does not fit in the send buffer is dropped, as UDP would. */
#ifndef JV_IO_TCP_H
#define JV_IO_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"
#include "proto/wire.h"

#define JV_TCP_RXBUF (2 * (JV_WIRE_MAX + 2))
#define JV_TCP_TXBUF (16 * 1024)
/* What one jv_tcp_read call takes from the socket before it returns, so
 * one connection streaming frames (junk or not) cannot keep the loop from
 * the others: UDP stops after a few recvmmsg batches for the same reason.
 * 64 frames match two of UDP's 32-datagram batches; 64 KiB bounds the
 * bytes handed to the engine's AEAD per turn. The socket stays readable,
 * so the level-triggered loop comes back next turn. */
#define JV_TCP_READ_FRAMES 64
#define JV_TCP_READ_BYTES (64 * 1024)

struct jv_tcp_conn {
	int fd;                   /* -1: closed */
	bool connecting;
	size_t rxlen, txlen;
	uint64_t tx_dropped;
	uint8_t rx[JV_TCP_RXBUF];
	uint8_t tx[JV_TCP_TXBUF];
};

void jv_tcp_init(struct jv_tcp_conn *c);

/* Starts a non-blocking connect (pinned like UDP). 0 when under way. */
int jv_tcp_connect(struct jv_tcp_conn *c, const struct sockaddr *to,
		   socklen_t to_len, const struct sockaddr *bind_addr,
		   socklen_t bind_len, const char *bind_device,
		   struct jv_error *err);

/* A listening socket, non-blocking. Returns the fd or JV_ERR_INVAL. */
int jv_tcp_listen(const struct sockaddr *addr, socklen_t len,
		  struct jv_error *err);
/* Accepts one connection into c; 0, or -EAGAIN / -errno. */
int jv_tcp_accept(int lfd, struct jv_tcp_conn *c,
		  struct sockaddr_storage *peer, socklen_t *peer_len);

typedef void (*jv_tcp_rx_cb)(void *ctx, uint8_t *buf, size_t len);

/* Reads what is there, up to the per-call budget (JV_TCP_READ_FRAMES
 * frames or JV_TCP_READ_BYTES bytes, whichever comes first; frames already
 * read are always delivered), and calls cb per complete datagram. Returns
 * 0, or a negative errno when the connection is over (EOF: -EPIPE; a frame
 * of length 0 or over JV_WIRE_MAX: -EPROTO). */
int jv_tcp_read(struct jv_tcp_conn *c, jv_tcp_rx_cb cb, void *ctx);

/* Queues one framed datagram and tries to send. 0, or -ENOBUFS when it
 * was dropped for lack of room, or -errno when the connection failed. */
int jv_tcp_send(struct jv_tcp_conn *c, const uint8_t *buf, size_t len);

/* On EPOLLOUT: completes a connect (0 connected, -errno failed) and
 * sends what is queued. */
int jv_tcp_on_writable(struct jv_tcp_conn *c);

/* Whether EPOLLOUT is wanted (connecting, or bytes queued). */
bool jv_tcp_wants_write(const struct jv_tcp_conn *c);

void jv_tcp_close(struct jv_tcp_conn *c);

#endif
