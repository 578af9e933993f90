/* UDP sockets for both daemons: pinned to a device or an address, batched
 * receive (recvmmsg) and batched send (sendmmsg) through a small queue
 * that the loop flushes after each round of input. */
#ifndef JV_IO_UDP_H
#define JV_IO_UDP_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"
#include "proto/wire.h"

#define JV_UDP_BATCH 32

struct jv_udp {
	int fd;
	/* receive batch */
	struct mmsghdr rx_msg[JV_UDP_BATCH];
	struct iovec rx_iov[JV_UDP_BATCH];
	struct sockaddr_storage rx_addr[JV_UDP_BATCH];
	uint8_t rx_buf[JV_UDP_BATCH][JV_WIRE_MAX];
	/* send queue */
	struct mmsghdr tx_msg[JV_UDP_BATCH];
	struct iovec tx_iov[JV_UDP_BATCH];
	struct sockaddr_storage tx_addr[JV_UDP_BATCH];
	uint8_t tx_buf[JV_UDP_BATCH][JV_WIRE_MAX];
	unsigned ntx;
	uint64_t tx_dropped;
};

/*
 * Opens a non-blocking UDP socket of family (AF_INET/AF_INET6). bind_addr
 * (len 0: any address, port 0) and bind_device ("" or NULL: none) pin it.
 */
int jv_udp_open(struct jv_udp *u, int family,
		const struct sockaddr *bind_addr, socklen_t bind_len,
		const char *bind_device, struct jv_error *err);
void jv_udp_close(struct jv_udp *u);

typedef void (*jv_udp_rx_cb)(void *ctx, const struct sockaddr *from,
			     socklen_t from_len, uint8_t *buf, size_t len);

/* Reads what is queued, up to rounds batches; calls cb per datagram.
 * Returns datagrams read, or a negative errno (not EAGAIN). */
int jv_udp_read(struct jv_udp *u, int rounds, jv_udp_rx_cb cb, void *ctx);

/* Queues one datagram (flushing first when the queue is full). */
void jv_udp_send(struct jv_udp *u, const struct sockaddr *to, socklen_t to_len,
		 const uint8_t *buf, size_t len);
/* Sends what is queued. Returns a negative errno of a failed send (the
 * datagrams that could not go are dropped and counted), else 0. */
int jv_udp_flush(struct jv_udp *u);

/* "a.b.c.d:port" / "[v6]:port" into addr; 0 or JV_ERR_INVAL. */
int jv_sockaddr_parse(const char *s, struct sockaddr_storage *ss,
		      socklen_t *len, int need_port);
/* Formats addr as "ip:port" into out. */
void jv_sockaddr_format(const struct sockaddr *sa, char *out, size_t cap);

#endif
