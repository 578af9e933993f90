/* The TCP fallback transport: the same datagrams, each framed by a 2-byte
 * big-endian length (JV_TCP_LEN_BYTES in proto/wire.h), over one stream. Buffers are bounded: a datagram that
 * does not fit in the send buffer is dropped, as UDP would. */
#ifndef JV_IO_TCP_H
#define JV_IO_TCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/err.h"
#include "proto/wire.h"

#define JV_TCP_RXBUF (2 * JV_TCP_FRAME_MAX)
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
	uint32_t mark;            /* SO_MARK of the next connect; 0: none */
	size_t rxlen, txlen;
	uint64_t tx_dropped;
	uint8_t rx[JV_TCP_RXBUF];
	uint8_t tx[JV_TCP_TXBUF];
};

void jv_tcp_init(struct jv_tcp_conn *c);

/* Starts a non-blocking connect (pinned like UDP, marked with c->mark
 * before it connects). 0 when under way. */
int jv_tcp_connect(struct jv_tcp_conn *c, const struct sockaddr *to,
		   socklen_t to_len, const struct sockaddr *bind_addr,
		   socklen_t bind_len, const char *bind_device,
		   struct jv_error *err);

/* A listening socket, non-blocking; an IPv6 one is IPV6_V6ONLY unless
 * dual_stack (IPv4 peers then arrive IPv4-mapped). Returns the fd or
 * JV_ERR_INVAL. */
int jv_tcp_listen(const struct sockaddr *addr, socklen_t len,
		  bool dual_stack, struct jv_error *err);
/* Accepts one connection: its descriptor (non-blocking), or -EAGAIN /
 * -errno. The caller decides where it goes (jv_tcp_gate_admit), then
 * hands it to a connection with jv_tcp_adopt. */
int jv_tcp_accept(int lfd, struct sockaddr_storage *peer,
		  socklen_t *peer_len);
/* c (closed or fresh) takes over the accepted descriptor fd. */
void jv_tcp_adopt(struct jv_tcp_conn *c, int fd);

typedef void (*jv_tcp_rx_cb)(void *ctx, uint8_t *buf, size_t len);

/* The stream decoder jv_tcp_read runs on what it has read, with no I/O:
 * calls cb for each complete frame at the front of buf[0..len), in order,
 * adds their number to *frames and sets *used to the bytes they took (a
 * trailing incomplete frame is left). Returns 0, or -EPROTO at a frame of
 * length 0 or over JV_WIRE_MAX (the frames before it were delivered and
 * counted in *used). */
int jv_tcp_frames(uint8_t *buf, size_t len, size_t *used, size_t *frames,
		  jv_tcp_rx_cb cb, void *ctx);

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

/* ---- server: which accepted connections may stay (issue #7) ----
 *
 * A connection is pre-handshake until the engine first answers on it (it
 * answers only what authenticated: a valid handshake initiation, or a
 * sealed packet of a live session); then it is established. Anyone can
 * open TCP connections, so pre-handshake ones are bounded in number, per
 * source and in time; an authenticated peer's connection is bounded by
 * the sessions the server serves. When the bound is reached the new
 * connection is admitted and an old pre-handshake one goes: refusing new
 * ones would let whoever holds the slots lock honest clients out. The
 * victim is the oldest connection of the source holding the most, so a
 * flood from a few addresses evicts itself, not a client that has one
 * connection open. Pure bookkeeping over slot indices: no I/O, no clock. */

/* In all: four times the burst of accepts a listener takes per turn, so
 * a fresh connection survives the turns until its first datagram. */
#define JV_TCP_PRE_MAX 64
/* Per source (an IPv4 address, an IPv6 /64: what one host can cheaply
 * hold): one host behind NAT has few clients connecting at once. */
#define JV_TCP_PRE_PER_SOURCE 8
/* From accept to the first answer: the client sends its handshake right
 * after connecting, so one round trip and the handshake's work suffice;
 * 5 s leaves room for a slow path. Counted from accept, not from the last
 * datagram: junk keeps nothing alive. */
#define JV_TCP_PRE_TTL_MS 5000

#define JV_TCP_NONE UINT32_MAX

enum jv_tcp_slot_state {
	JV_TCP_SLOT_FREE,
	JV_TCP_SLOT_PRE,            /* accepted, nothing answered yet */
	JV_TCP_SLOT_EST,            /* the engine has answered on it */
};

struct jv_tcp_slot {
	uint8_t state;
	uint8_t srclen;
	uint8_t src[8];             /* IPv4 address, or IPv6 /64 prefix */
	uint64_t since_ms;          /* accepted */
	uint64_t last_ms;           /* last datagram received */
};

struct jv_tcp_gate {
	struct jv_tcp_slot *slot;   /* pre_max + est_max */
	uint32_t nslots, pre_max, per_source, est_max;
	uint32_t npre, nest;
	uint32_t *pre;              /* indices of the pre-handshake slots */
	uint32_t *free;             /* stack of free slot indices */
	uint32_t nfree;
};

/* Slots for pre_max pre-handshake and est_max established connections.
 * 0, JV_ERR_INVAL (a bound of 0) or JV_ERR_NOMEM. */
int jv_tcp_gate_init(struct jv_tcp_gate *g, uint32_t pre_max,
		     uint32_t per_source, uint32_t est_max);
void jv_tcp_gate_free(struct jv_tcp_gate *g);

/* A connection from src was accepted at now: returns its slot, marked
 * pre-handshake. *evict is true when the slot held a pre-handshake
 * connection that must be closed first (the bound was reached). */
uint32_t jv_tcp_gate_admit(struct jv_tcp_gate *g, const struct sockaddr *src,
			   uint64_t now, bool *evict);
/* A datagram arrived on slot i. */
void jv_tcp_gate_seen(struct jv_tcp_gate *g, uint32_t i, uint64_t now);
/* The engine answered on slot i: pre-handshake becomes established. When
 * est_max are established already, the least recently active one is freed
 * and its index returned (its connection must be closed); else
 * JV_TCP_NONE. */
uint32_t jv_tcp_gate_promote(struct jv_tcp_gate *g, uint32_t i, uint64_t now);
/* The connection in slot i is gone. */
void jv_tcp_gate_release(struct jv_tcp_gate *g, uint32_t i);
/* Whether slot i's connection is past its time: pre-handshake for
 * JV_TCP_PRE_TTL_MS since accept, or established and silent for
 * est_idle_ms. */
bool jv_tcp_gate_expired(const struct jv_tcp_gate *g, uint32_t i,
			 uint64_t now, uint64_t est_idle_ms);

#endif
