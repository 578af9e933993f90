/* UDP sockets for both daemons: pinned to a device or an address, batched
 * receive (recvmmsg) and batched send (sendmmsg) through a small queue
 * that the loop flushes after each round of input. A socket bound to a
 * wildcard address can learn the address each datagram arrived at and
 * answer from it (IP_PKTINFO / IPV6_PKTINFO). */
#ifndef JV_IO_UDP_H
#define JV_IO_UDP_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"
#include "proto/wire.h"

/* datagrams per recvmmsg and per send queue: a TUN read of 64 KiB
 * makes up to 48 of them */
#define JV_UDP_BATCH 64
/* the most segments one UDP_SEGMENT send may carry (the kernel's
 * UDP_MAX_SEGMENTS was 64 before 5.7) */
#define JV_UDP_GSO_MAX 64

/* A local address of this host: where a datagram arrived, or the source
 * a reply must leave from. family 0: unknown (the kernel picks). */
struct jv_udp_local {
	sa_family_t family;             /* 0, AF_INET or AF_INET6 */
	union {
		struct in_addr v4;
		struct in6_addr v6;
	} addr;
};

/* room for the control messages of one datagram: an in_pktinfo or
 * in6_pktinfo, the socket's drop count (SO_RXQ_OVFL) */
union jv_udp_ctl {
	struct cmsghdr align;
	uint8_t buf[96];
};

/* Receive buffers large enough for what UDP GRO hands over (up to 64 KiB
 * of datagrams from one sender, read at once), shared by the sockets of
 * one loop, which read one at a time: not 64 KiB per slot per socket
 * (the gateway has a socket per session). */
#define JV_UDP_POOL 32
#define JV_UDP_GRO_MAX 65536
struct jv_udp_pool {
	struct mmsghdr msg[JV_UDP_POOL];
	struct iovec iov[JV_UDP_POOL];
	struct sockaddr_storage addr[JV_UDP_POOL];
	union jv_udp_ctl ctl[JV_UDP_POOL];
	uint8_t buf[JV_UDP_POOL][JV_UDP_GRO_MAX];
};
/* NULL when out of memory; free() frees it. */
struct jv_udp_pool *jv_udp_pool_new(void);

struct jv_udp {
	int fd;
	sa_family_t family;
	bool track_local;               /* rx: read the arrival address */
	/* receive batch */
	struct mmsghdr rx_msg[JV_UDP_BATCH];
	struct iovec rx_iov[JV_UDP_BATCH];
	struct sockaddr_storage rx_addr[JV_UDP_BATCH];
	union jv_udp_ctl rx_ctl[JV_UDP_BATCH];
	uint8_t rx_buf[JV_UDP_BATCH][JV_WIRE_MAX];
	/* send queue */
	struct mmsghdr tx_msg[JV_UDP_BATCH];
	struct iovec tx_iov[JV_UDP_BATCH];
	struct sockaddr_storage tx_addr[JV_UDP_BATCH];
	union jv_udp_ctl tx_ctl[JV_UDP_BATCH];
	uint8_t tx_buf[JV_UDP_BATCH][JV_WIRE_MAX];
	unsigned ntx;
	/* runs of equal datagrams to one peer, one UDP_SEGMENT send each */
	struct mmsghdr gso_msg[JV_UDP_BATCH];
	union jv_udp_ctl gso_ctl[JV_UDP_BATCH];
	uint8_t gso_n[JV_UDP_BATCH];    /* datagrams in each */
	bool gso_off;                   /* the kernel refused it: never again */
	uint64_t gso_sends;             /* sends that carried several */
	uint64_t tx_dropped;
	uint32_t rx_ovfl;               /* the kernel's drop count, last seen */
	struct jv_udp_pool *pool;       /* NULL: rx_buf, no GRO */
	bool gro;                       /* UDP_GRO on: the kernel coalesces */
	uint64_t rx_gro;                /* reads that carried several */
	/* optional: also counted here (the daemon's drop counters, which
	 * outlive the socket) */
	uint64_t *tx_dropped_to;        /* a send that failed (queue full) */
	uint64_t *rx_overflow_to;       /* the socket's receive queue full */
	uint64_t *gso_sends_to, *rx_gro_to;     /* gso_sends, rx_gro */
};

/*
 * Opens a non-blocking UDP socket of family (AF_INET/AF_INET6). bind_addr
 * (len 0: any address, port 0) and bind_device ("" or NULL: none) pin it.
 * An IPv6 socket is IPV6_V6ONLY unless dual_stack: then IPv4 peers reach
 * it too, as IPv4-mapped addresses (::ffff:a.b.c.d).
 */
int jv_udp_open(struct jv_udp *u, int family,
		const struct sockaddr *bind_addr, socklen_t bind_len,
		const char *bind_device, bool dual_stack, struct jv_error *err);
void jv_udp_close(struct jv_udp *u);

/*
 * Asks the kernel for the address each datagram arrives at (IP_PKTINFO,
 * IPV6_RECVPKTINFO): a socket bound to a wildcard address on a host with
 * several addresses must answer from the one the peer wrote to, or the
 * peer sees replies from a stranger. 0 or JV_ERR_INVAL.
 */
int jv_udp_track_local(struct jv_udp *u, struct jv_error *err);

/* Sets u's receive buffer to bytes (the kernel doubles it; capped by
 * net.core.rmem_max), instead of jv_udp_open's 4 MiB. */
void jv_udp_set_rcvbuf(struct jv_udp *u, int bytes);

/*
 * u reads into pool from now on (and its connected sockets too) and asks
 * the kernel for UDP GRO: a run of datagrams from one sender arrives as
 * one read, split here. Without GRO in the kernel the pool is used all
 * the same. Returns whether GRO is on.
 */
bool jv_udp_use_pool(struct jv_udp *u, struct jv_udp_pool *pool);

/*
 * Lets sockets of this process bind the port u is bound to (SO_REUSEPORT,
 * set after u's own bind, so that a port another program holds still
 * fails to bind): the connected sockets below. 0 or a negative errno.
 */
int jv_udp_share(struct jv_udp *u);

/*
 * A socket of its own for one peer of the shared socket l: bound to local
 * (an address of this host and l's port) and connected to peer. The
 * kernel prefers a connected socket for its 4-tuple, so the peer's
 * datagrams queue here, not behind whatever else arrives at l (a flood
 * of handshakes). It has no buffers: read it with jv_udp_read_fd and
 * l's; datagrams that arrived before connect() may come from elsewhere,
 * and say so. It asks for arrival addresses when l does. Returns the
 * descriptor (non-blocking) or a negative errno.
 */
int jv_udp_connected_open(const struct jv_udp *l, const struct sockaddr *local,
			  socklen_t local_len, const struct sockaddr *peer,
			  socklen_t peer_len);

/* local: where the datagram arrived (family 0 unless tracked). */
typedef void (*jv_udp_rx_cb)(void *ctx, const struct sockaddr *from,
			     socklen_t from_len,
			     const struct jv_udp_local *local, uint8_t *buf,
			     size_t len);

/* Reads what is queued, up to rounds batches; calls cb per datagram.
 * Returns datagrams read, or a negative errno (not EAGAIN). What the
 * kernel dropped since the last read (its receive queue full: SO_RXQ_OVFL)
 * is added to *u->rx_overflow_to. */
int jv_udp_read(struct jv_udp *u, int rounds, jv_udp_rx_cb cb, void *ctx);
/* The same from fd (a connected socket of u's) into u's buffers; *ovfl
 * keeps fd's drop count as last seen (0 when opened). */
int jv_udp_read_fd(struct jv_udp *u, int fd, uint32_t *ovfl, int rounds,
		   jv_udp_rx_cb cb, void *ctx);

/* Queues one datagram (flushing first when the queue is full). from
 * (NULL or family 0: the kernel's choice) is its source address; a from
 * the host no longer holds makes the send fail and the datagram count as
 * dropped. */
void jv_udp_send(struct jv_udp *u, const struct sockaddr *to, socklen_t to_len,
		 const struct jv_udp_local *from, const uint8_t *buf,
		 size_t len);
/* Sends what is queued: a run of datagrams to the same peer from the same
 * source, all of one size but the last (which may be shorter), goes as
 * one send with UDP_SEGMENT (the kernel segments it) unless the kernel
 * refused that once. Returns a negative errno of a failed send (the
 * datagrams that could not go are dropped and counted), else 0. */
int jv_udp_flush(struct jv_udp *u);

/* Datagrams a client drops because of their source, reported at most once
 * per JV_UDP_STRAY_REPORT_MS so that a flood cannot flood the log. */
#define JV_UDP_STRAY_REPORT_MS 10000
struct jv_udp_stray {
	uint64_t pending;               /* dropped since the last report */
	uint64_t reported_at;
	bool reported;
};
/* Counts one dropped datagram at now (ms). Returns how many to report now
 * (this one and those kept quiet since the last report), or 0. */
uint64_t jv_udp_stray_note(struct jv_udp_stray *s, uint64_t now);

/* An IPv4-mapped IPv6 address (a dual-stack socket's IPv4 peer) becomes
 * the IPv4 sockaddr it stands for; returns whether it was one. */
bool jv_sockaddr_unmap(struct sockaddr_storage *ss, socklen_t *len);
/* The IPv4-mapped IPv6 form of a4, to send to it from a dual-stack
 * socket. */
void jv_sockaddr_map(const struct sockaddr_in *a4, struct sockaddr_in6 *a6);
/* Formats addr as "ip:port" into out ("[v6%SCOPE_ID]:port"). */
void jv_sockaddr_format(const struct sockaddr *sa, char *out, size_t cap);

#endif
