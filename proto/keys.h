/* A session's traffic keys: derived from the handshake's Split(), data keys
 * ratcheted forward on rekey (epoch in the header), control keys fixed for
 * the session. One counter space per direction and one receive replay
 * window cover both data and control packets. */
#ifndef JV_KEYS_H
#define JV_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/replay.h"
#include "proto/wire.h"

struct jv_keys {
	uint8_t data_tx[32];
	uint8_t data_rx[32];
	uint8_t data_rx_prev[32];   /* previous epoch, for in-flight packets */
	uint8_t ctrl_tx[32];
	uint8_t ctrl_rx[32];
	uint64_t tx_counter;        /* next counter to send */
	uint64_t rx_prev_until_ms;  /* data_rx_prev accepted before this */
	uint16_t tx_epoch, rx_epoch;
	bool rx_prev_valid;
	struct jv_replay replay;
};

/* How many epochs ahead an unauthenticated DATA packet may be tried (each
 * step is one hash), and how far an authenticated message may move the
 * receive ratchet (half the 16-bit epoch space: the rest is the past). */
#define JV_EPOCH_DATA_AHEAD 2
#define JV_EPOCH_SYNC_MAX 0x7fff

/* Derives the four keys from Split()'s k1 (initiator->responder) and k2. */
void jv_keys_init(struct jv_keys *k, const uint8_t k1[32], const uint8_t k2[32],
		  bool initiator, uint32_t replay_bits);
void jv_keys_wipe(struct jv_keys *k);

/* Ratchets the data send key one epoch forward (the old one is wiped). */
void jv_keys_rotate_tx(struct jv_keys *k);

/*
 * Seals a DATA (subtype 0) or CONTROL packet for the peer's receiver index:
 * header + AEAD(pt) under the data or control key, next tx counter.
 * Returns the datagram length or JV_ERR_SHORT.
 */
int jv_keys_seal(struct jv_keys *k, uint8_t type, uint8_t subtype,
		 uint32_t receiver_index, const uint8_t *pt, size_t len,
		 uint8_t *out, size_t cap);

/*
 * Opens a DATA or CONTROL datagram whose header h was decoded from pkt.
 * Authenticates first; then the replay window: returns JV_ERR_AUTH (tag
 * failed, unknown epoch), JV_ERR_REPLAY (authentic but counter seen or too
 * old; out still holds the plaintext, for logging) or the plaintext length
 * written to out (cap >= len - 32).
 * Every message carries its sender's data send epoch in the header. An
 * authentic, fresh message from a later epoch moves the receive ratchet
 * forward (a DATA packet at most JV_EPOCH_DATA_AHEAD, a CONTROL message up
 * to JV_EPOCH_SYNC_MAX) and keeps the key of the epoch before for grace_ms.
 * *epoch_advanced is set if so.
 */
int jv_keys_open(struct jv_keys *k, const struct jv_hdr *h, const uint8_t *pkt,
		 size_t len, uint8_t *out, size_t cap, uint64_t now,
		 uint64_t grace_ms, bool *epoch_advanced);

#endif
