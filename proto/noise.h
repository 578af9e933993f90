/* Noise_IK_25519_ChaChaPoly_BLAKE2b (and IKpsk2) over libsodium.
 * Sans-I/O: ephemeral private keys come from the caller. */
#ifndef JV_NOISE_H
#define JV_NOISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define JV_NOISE_HASHLEN 64
#define JV_NOISE_DHLEN 32
#define JV_NOISE_KEYLEN 32
#define JV_NOISE_TAGLEN 16
/* msg1 = e(32) + enc(s)(32+16) + enc(payload)(len+16) */
#define JV_NOISE_MSG1_OVERHEAD (32 + 48 + 16)
/* msg2 = e(32) + enc(payload)(len+16) */
#define JV_NOISE_MSG2_OVERHEAD (32 + 16)

struct jv_noise {
	uint8_t ck[JV_NOISE_HASHLEN];
	uint8_t h[JV_NOISE_HASHLEN];
	uint8_t k[JV_NOISE_KEYLEN];
	uint64_t n;
	bool has_k;
	bool initiator;
	bool has_psk;
	uint8_t psk[32];
	uint8_t s_priv[32], s_pub[32];
	uint8_t e_priv[32], e_pub[32];
	uint8_t rs[32], re[32];
	/* Optional: the static-static DH is the same for every handshake
	 * between two keys, so a caller may keep it. Given rs, fills ss and
	 * returns 0, or returns nonzero to have it computed. */
	int (*ss_lookup)(void *ctx, const uint8_t rs[32], uint8_t ss[32]);
	void *ss_ctx;
};

/*
 * Initializes a handshake. prologue may be empty. s_priv is our static key.
 * rs: the responder's static public key (initiator only; NULL for the
 * responder). psk: NULL for IK, or 32 bytes for IKpsk2.
 */
int jv_noise_init(struct jv_noise *hs, bool initiator, const uint8_t *prologue,
		  size_t prologue_len, const uint8_t s_priv[32],
		  const uint8_t *rs, const uint8_t *psk);

/* The same, with our static public key given (it costs a scalar
 * multiplication to derive, as much as a DH). */
int jv_noise_init_keys(struct jv_noise *hs, bool initiator,
		       const uint8_t *prologue, size_t prologue_len,
		       const uint8_t s_priv[32], const uint8_t s_pub[32],
		       const uint8_t *rs, const uint8_t *psk);

/* Initiator: -> e, es, s, ss [, psk]. Writes payload_len + 96 bytes. */
int jv_noise_write_msg1(struct jv_noise *hs, const uint8_t e_priv[32],
			const uint8_t *payload, size_t payload_len,
			uint8_t *out, size_t cap, size_t *out_len);
/* Responder: reads msg1, learns rs (jv_noise_remote_static()).
 * Returns JV_ERR_AUTH if any tag fails, JV_ERR_SHORT if truncated. */
int jv_noise_read_msg1(struct jv_noise *hs, const uint8_t *in, size_t len,
		       uint8_t *payload, size_t cap, size_t *payload_len);
/* Responder: <- e, ee, se [, psk]. Writes payload_len + 48 bytes. */
int jv_noise_write_msg2(struct jv_noise *hs, const uint8_t e_priv[32],
			const uint8_t *payload, size_t payload_len,
			uint8_t *out, size_t cap, size_t *out_len);
/* Initiator: reads msg2. */
int jv_noise_read_msg2(struct jv_noise *hs, const uint8_t *in, size_t len,
		       uint8_t *payload, size_t cap, size_t *payload_len);

const uint8_t *jv_noise_remote_static(const struct jv_noise *hs);

/* Split(): k1 (initiator->responder), k2 (responder->initiator) and the
 * handshake hash; then wipes the handshake state. */
void jv_noise_split(struct jv_noise *hs, uint8_t k1[32], uint8_t k2[32],
		    uint8_t hash[JV_NOISE_HASHLEN]);

/* Noise CipherState AEAD (ChaChaPoly, nonce = 32 zero bits || LE64(n)).
 * out gets len + 16 bytes (encrypt) or len - 16 (decrypt). */
int jv_noise_encrypt(const uint8_t k[32], uint64_t n, const uint8_t *ad,
		     size_t ad_len, const uint8_t *pt, size_t len, uint8_t *out);
int jv_noise_decrypt(const uint8_t k[32], uint64_t n, const uint8_t *ad,
		     size_t ad_len, const uint8_t *ct, size_t len, uint8_t *out);

/* HKDF with HMAC-BLAKE2b as Noise defines it: 2 or 3 outputs of 64 bytes.
 * out3 may be NULL. */
void jv_noise_hkdf(const uint8_t ck[JV_NOISE_HASHLEN], const uint8_t *ikm,
		   size_t ikm_len, uint8_t out1[64], uint8_t out2[64],
		   uint8_t *out3);

/* Wipes all secrets in hs. */
void jv_noise_wipe(struct jv_noise *hs);

#endif
