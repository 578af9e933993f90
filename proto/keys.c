#include "proto/keys.h"

#include <sodium.h>
#include <string.h>

#include "core/err.h"
#include "proto/noise.h"

/* A PRF step: BLAKE2b-256 keyed with key over a label. */
static void kdf(uint8_t out[32], const uint8_t key[32], const char *label)
{
	crypto_generichash(out, 32, (const uint8_t *)label, strlen(label), key,
			   32);
}

void jv_keys_init(struct jv_keys *k, const uint8_t k1[32], const uint8_t k2[32],
		  bool initiator, uint32_t replay_bits)
{
	const uint8_t *tx = initiator ? k1 : k2, *rx = initiator ? k2 : k1;

	memset(k, 0, sizeof(*k));
	kdf(k->data_tx, tx, "jvpn/1 data");
	kdf(k->data_rx, rx, "jvpn/1 data");
	kdf(k->ctrl_tx, tx, "jvpn/1 control");
	kdf(k->ctrl_rx, rx, "jvpn/1 control");
	jv_replay_init(&k->replay, replay_bits);
}

void jv_keys_wipe(struct jv_keys *k)
{
	sodium_memzero(k, sizeof(*k));
}

static void ratchet(uint8_t key[32])
{
	uint8_t next[32];

	kdf(next, key, "jvpn/1 rekey");
	memcpy(key, next, 32);
	sodium_memzero(next, sizeof(next));
}

void jv_keys_rotate_tx(struct jv_keys *k)
{
	ratchet(k->data_tx);
	k->tx_epoch++;
}

int jv_keys_seal(struct jv_keys *k, uint8_t type, uint8_t subtype,
		 uint32_t receiver_index, const uint8_t *pt, size_t len,
		 uint8_t *out, size_t cap)
{
	struct jv_hdr h = {
		.type = type,
		.subtype = subtype,
		/* control messages carry it too: the peer follows our
		 * rotations whether or not data flows */
		.epoch = k->tx_epoch,
		.receiver_index = receiver_index,
		.counter = k->tx_counter,
	};

	if (cap < JV_HDR_LEN + len + JV_TAG_LEN || len > JV_INNER_MAX)
		return JV_ERR_SHORT;
	jv_hdr_encode(&h, out);
	jv_noise_encrypt(type == JV_MSG_DATA ? k->data_tx : k->ctrl_tx,
			 h.counter, out, JV_HDR_LEN, pt, len, out + JV_HDR_LEN);
	k->tx_counter++;
	return (int)(JV_HDR_LEN + len + JV_TAG_LEN);
}

/* Moves the receive ratchet d epochs forward; the key of the epoch before
 * the new one is kept for packets in flight. */
static void rx_advance(struct jv_keys *k, uint16_t d, uint64_t now,
		       uint64_t grace_ms)
{
	for (uint16_t i = 0; i < d; i++) {
		memcpy(k->data_rx_prev, k->data_rx, 32);
		ratchet(k->data_rx);
	}
	k->rx_prev_valid = true;
	k->rx_prev_until_ms = now + grace_ms;
	k->rx_epoch = (uint16_t)(k->rx_epoch + d);
}

int jv_keys_open(struct jv_keys *k, const struct jv_hdr *h, const uint8_t *pkt,
		 size_t len, uint8_t *out, size_t cap, uint64_t now,
		 uint64_t grace_ms, bool *epoch_advanced)
{
	size_t ct_len = len - JV_HDR_LEN;
	uint16_t ahead = (uint16_t)(h->epoch - k->rx_epoch);
	uint8_t next[32];
	const uint8_t *key;
	int rc;

	*epoch_advanced = false;
	if (len < JV_HDR_LEN + JV_TAG_LEN || cap < ct_len - JV_TAG_LEN)
		return JV_ERR_SHORT;
	if (h->type == JV_MSG_CONTROL) {
		key = k->ctrl_rx;
	} else if (ahead == 0) {
		key = k->data_rx;
	} else if (ahead <= JV_EPOCH_DATA_AHEAD) {
		/* an unauthenticated packet may cost this many hashes */
		memcpy(next, k->data_rx, 32);
		for (uint16_t i = 0; i < ahead; i++)
			ratchet(next);
		key = next;
	} else if (ahead == 0xffff && k->rx_prev_valid &&
		   now < k->rx_prev_until_ms) {
		key = k->data_rx_prev;
	} else {
		return JV_ERR_AUTH;
	}
	rc = jv_noise_decrypt(key, h->counter, pkt, JV_HDR_LEN, pkt + JV_HDR_LEN,
			      ct_len, out);
	if (rc != 0) {
		rc = JV_ERR_AUTH;
		goto out;
	}
	if (jv_replay_update(&k->replay, h->counter) != 0) {
		/* authentic, so out is kept: the caller may log what was replayed */
		rc = JV_ERR_REPLAY;
		goto out;
	}
	/* Authentic and fresh: follow the peer's send epoch. A control
	 * message may move it any distance up to half the epoch space (an
	 * idle peer keeps rotating); a data packet as far as it was tried. */
	if (ahead != 0 && ahead <= JV_EPOCH_SYNC_MAX &&
	    (h->type == JV_MSG_CONTROL || ahead <= JV_EPOCH_DATA_AHEAD)) {
		rx_advance(k, ahead, now, grace_ms);
		*epoch_advanced = true;
	}
	rc = (int)(ct_len - JV_TAG_LEN);
out:
	sodium_memzero(next, sizeof(next));
	return rc;
}
