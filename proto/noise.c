/* Noise_IK_25519_ChaChaPoly_BLAKE2b and its psk2 variant (Noise rev. 34),
 * built from libsodium's X25519, ChaCha20-Poly1305 (IETF) and BLAKE2b.
 * HMAC is RFC 2104 over BLAKE2b with its 128-byte block, as Noise requires;
 * libsodium's keyed BLAKE2b is a different function. */
#include <sodium.h>
#include <string.h>

#include "core/err.h"
#include "proto/noise.h"

#define BLOCKLEN 128

static const char NAME_IK[] = "Noise_IK_25519_ChaChaPoly_BLAKE2b";
static const char NAME_IKPSK2[] = "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b";

static void hash2(uint8_t out[64], const uint8_t *a, size_t alen,
		  const uint8_t *b, size_t blen)
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 64);
	crypto_generichash_update(&st, a, alen);
	crypto_generichash_update(&st, b, blen);
	crypto_generichash_final(&st, out, 64);
}

/* HMAC-BLAKE2b over the concatenation of two message parts. */
static void hmac(uint8_t out[64], const uint8_t *key, size_t key_len,
		 const uint8_t *m1, size_t m1_len, const uint8_t *m2,
		 size_t m2_len)
{
	uint8_t k[BLOCKLEN] = { 0 }, pad[BLOCKLEN], inner[64];
	crypto_generichash_state st;

	if (key_len > BLOCKLEN)
		crypto_generichash(k, 64, key, key_len, NULL, 0);
	else
		memcpy(k, key, key_len);
	for (int i = 0; i < BLOCKLEN; i++)
		pad[i] = k[i] ^ 0x36;
	crypto_generichash_init(&st, NULL, 0, 64);
	crypto_generichash_update(&st, pad, BLOCKLEN);
	crypto_generichash_update(&st, m1, m1_len);
	if (m2_len)
		crypto_generichash_update(&st, m2, m2_len);
	crypto_generichash_final(&st, inner, 64);
	for (int i = 0; i < BLOCKLEN; i++)
		pad[i] = k[i] ^ 0x5c;
	hash2(out, pad, BLOCKLEN, inner, 64);
	sodium_memzero(k, sizeof(k));
	sodium_memzero(pad, sizeof(pad));
	sodium_memzero(inner, sizeof(inner));
}

void jv_noise_hkdf(const uint8_t ck[JV_NOISE_HASHLEN], const uint8_t *ikm,
		   size_t ikm_len, uint8_t out1[64], uint8_t out2[64],
		   uint8_t *out3)
{
	static const uint8_t b1 = 1, b2 = 2, b3 = 3;
	uint8_t tk[64];

	hmac(tk, ck, JV_NOISE_HASHLEN, ikm, ikm_len, NULL, 0);
	hmac(out1, tk, 64, &b1, 1, NULL, 0);
	hmac(out2, tk, 64, out1, 64, &b2, 1);
	if (out3)
		hmac(out3, tk, 64, out2, 64, &b3, 1);
	sodium_memzero(tk, sizeof(tk));
}

static void nonce_of(uint8_t nonce[12], uint64_t n)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

int jv_noise_encrypt(const uint8_t k[32], uint64_t n, const uint8_t *ad,
		     size_t ad_len, const uint8_t *pt, size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	nonce_of(nonce, n);
	crypto_aead_chacha20poly1305_ietf_encrypt(out, NULL, pt, len, ad,
						  ad_len, NULL, nonce, k);
	return 0;
}

int jv_noise_decrypt(const uint8_t k[32], uint64_t n, const uint8_t *ad,
		     size_t ad_len, const uint8_t *ct, size_t len, uint8_t *out)
{
	uint8_t nonce[12];

	if (len < JV_NOISE_TAGLEN)
		return JV_ERR_SHORT;
	nonce_of(nonce, n);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(out, NULL, NULL, ct, len,
						      ad, ad_len, nonce,
						      k) != 0)
		return JV_ERR_AUTH;
	return 0;
}

/* ---- SymmetricState ---- */

static void mix_hash(struct jv_noise *hs, const uint8_t *data, size_t len)
{
	hash2(hs->h, hs->h, JV_NOISE_HASHLEN, data, len);
}

static void mix_key(struct jv_noise *hs, const uint8_t *ikm, size_t len)
{
	uint8_t tk[64];

	jv_noise_hkdf(hs->ck, ikm, len, hs->ck, tk, NULL);
	memcpy(hs->k, tk, JV_NOISE_KEYLEN);
	hs->n = 0;
	hs->has_k = true;
	sodium_memzero(tk, sizeof(tk));
}

static void mix_key_and_hash(struct jv_noise *hs, const uint8_t *ikm,
			     size_t len)
{
	uint8_t th[64], tk[64];

	jv_noise_hkdf(hs->ck, ikm, len, hs->ck, th, tk);
	mix_hash(hs, th, sizeof(th));
	memcpy(hs->k, tk, JV_NOISE_KEYLEN);
	hs->n = 0;
	hs->has_k = true;
	sodium_memzero(th, sizeof(th));
	sodium_memzero(tk, sizeof(tk));
}

/* out gets len (+16 once a key exists) bytes; h absorbs the ciphertext. */
static size_t encrypt_and_hash(struct jv_noise *hs, const uint8_t *pt,
			       size_t len, uint8_t *out)
{
	size_t n = len;

	if (hs->has_k) {
		jv_noise_encrypt(hs->k, hs->n++, hs->h, JV_NOISE_HASHLEN, pt,
				 len, out);
		n += JV_NOISE_TAGLEN;
	} else if (len) {
		memmove(out, pt, len);
	}
	mix_hash(hs, out, n);
	return n;
}

static int decrypt_and_hash(struct jv_noise *hs, const uint8_t *ct,
			    size_t len, uint8_t *out)
{
	uint8_t h[JV_NOISE_HASHLEN];

	memcpy(h, hs->h, sizeof(h));
	mix_hash(hs, ct, len);
	if (!hs->has_k) {
		if (len)
			memmove(out, ct, len);
		return 0;
	}
	if (jv_noise_decrypt(hs->k, hs->n, h, sizeof(h), ct, len, out) != 0)
		return JV_ERR_AUTH;
	hs->n++;
	return 0;
}

static int dh(uint8_t out[32], const uint8_t priv[32], const uint8_t pub[32])
{
	/* crypto_scalarmult refuses low-order points (all-zero output) */
	return crypto_scalarmult(out, priv, pub) == 0 ? 0 : JV_ERR_AUTH;
}

static int mix_dh(struct jv_noise *hs, const uint8_t priv[32],
		  const uint8_t pub[32])
{
	uint8_t shared[32];
	int rc = dh(shared, priv, pub);

	if (rc == 0)
		mix_key(hs, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return rc;
}

/* The ss token: from the caller's cache when it has one. */
static int mix_ss(struct jv_noise *hs)
{
	uint8_t shared[32];

	if (!hs->ss_lookup || hs->ss_lookup(hs->ss_ctx, hs->rs, shared) != 0)
		return mix_dh(hs, hs->s_priv, hs->rs);
	mix_key(hs, shared, sizeof(shared));
	sodium_memzero(shared, sizeof(shared));
	return 0;
}

/* ---- HandshakeState ---- */

/*
 * The struct in noise.h has no step field, so the step is read from the
 * keys it holds: ck is never zero between init and split/wipe, e_pub is
 * set once we wrote our ephemeral and re once we read the peer's (an
 * all-zero re fails its DH, and every failure wipes). So each message is
 * accepted once, in order, and never on a spent or failed handshake.
 */
static bool live(const struct jv_noise *hs)
{
	return !sodium_is_zero(hs->ck, sizeof(hs->ck));
}

static bool sent_e(const struct jv_noise *hs)
{
	return !sodium_is_zero(hs->e_pub, sizeof(hs->e_pub));
}

static bool got_re(const struct jv_noise *hs)
{
	return !sodium_is_zero(hs->re, sizeof(hs->re));
}

/* A handshake that failed half-way is spent: drop its secrets now. */
static int fail(struct jv_noise *hs, int rc)
{
	jv_noise_wipe(hs);
	return rc;
}

int jv_noise_init_keys(struct jv_noise *hs, bool initiator,
		       const uint8_t *prologue, size_t prologue_len,
		       const uint8_t s_priv[32], const uint8_t s_pub[32],
		       const uint8_t *rs, const uint8_t *psk)
{
	const char *name = psk ? NAME_IKPSK2 : NAME_IK;

	if (initiator && !rs)
		return JV_ERR_INVAL;
	memset(hs, 0, sizeof(*hs));
	/* both names are shorter than HASHLEN: h = name, zero padded */
	memcpy(hs->h, name, strlen(name));
	memcpy(hs->ck, hs->h, JV_NOISE_HASHLEN);
	mix_hash(hs, prologue, prologue_len);
	hs->initiator = initiator;
	memcpy(hs->s_priv, s_priv, 32);
	memcpy(hs->s_pub, s_pub, 32);
	if (psk) {
		hs->has_psk = true;
		memcpy(hs->psk, psk, 32);
	}
	/* pre-message <- s */
	if (initiator) {
		memcpy(hs->rs, rs, 32);
		mix_hash(hs, hs->rs, 32);
	} else {
		mix_hash(hs, hs->s_pub, 32);
	}
	return 0;
}

int jv_noise_init(struct jv_noise *hs, bool initiator, const uint8_t *prologue,
		  size_t prologue_len, const uint8_t s_priv[32],
		  const uint8_t *rs, const uint8_t *psk)
{
	uint8_t pub[32];

	crypto_scalarmult_base(pub, s_priv);
	return jv_noise_init_keys(hs, initiator, prologue, prologue_len, s_priv,
				  pub, rs, psk);
}

static void write_e(struct jv_noise *hs, const uint8_t e_priv[32],
		    uint8_t *out)
{
	memcpy(hs->e_priv, e_priv, 32);
	crypto_scalarmult_base(hs->e_pub, e_priv);
	memcpy(out, hs->e_pub, 32);
	mix_hash(hs, hs->e_pub, 32);
	if (hs->has_psk)
		mix_key(hs, hs->e_pub, 32);
}

static void read_e(struct jv_noise *hs, const uint8_t *in)
{
	memcpy(hs->re, in, 32);
	mix_hash(hs, hs->re, 32);
	if (hs->has_psk)
		mix_key(hs, hs->re, 32);
}

int jv_noise_write_msg1(struct jv_noise *hs, const uint8_t e_priv[32],
			const uint8_t *payload, size_t payload_len,
			uint8_t *out, size_t cap, size_t *out_len)
{
	size_t off = 32;

	if (!hs->initiator || !live(hs) || sent_e(hs))
		return JV_ERR_STATE;
	if (cap < payload_len + JV_NOISE_MSG1_OVERHEAD)
		return JV_ERR_SHORT;
	write_e(hs, e_priv, out);                                  /* e */
	if (mix_dh(hs, hs->e_priv, hs->rs))                         /* es */
		return fail(hs, JV_ERR_AUTH);
	off += encrypt_and_hash(hs, hs->s_pub, 32, out + off);      /* s */
	if (mix_ss(hs))                                             /* ss */
		return fail(hs, JV_ERR_AUTH);
	off += encrypt_and_hash(hs, payload, payload_len, out + off);
	*out_len = off;
	return 0;
}

int jv_noise_read_msg1(struct jv_noise *hs, const uint8_t *in, size_t len,
		       uint8_t *payload, size_t cap, size_t *payload_len)
{
	size_t plen;

	if (hs->initiator || !live(hs) || got_re(hs))
		return JV_ERR_STATE;
	if (len < JV_NOISE_MSG1_OVERHEAD)
		return JV_ERR_SHORT;
	plen = len - JV_NOISE_MSG1_OVERHEAD;
	if (cap < plen)
		return JV_ERR_SHORT;
	read_e(hs, in);                                             /* e */
	if (mix_dh(hs, hs->s_priv, hs->re))                         /* es */
		return fail(hs, JV_ERR_AUTH);
	if (decrypt_and_hash(hs, in + 32, 48, hs->rs))              /* s */
		return fail(hs, JV_ERR_AUTH);
	if (mix_ss(hs))                                             /* ss */
		return fail(hs, JV_ERR_AUTH);
	if (decrypt_and_hash(hs, in + 80, plen + JV_NOISE_TAGLEN, payload))
		return fail(hs, JV_ERR_AUTH);
	*payload_len = plen;
	return 0;
}

int jv_noise_write_msg2(struct jv_noise *hs, const uint8_t e_priv[32],
			const uint8_t *payload, size_t payload_len,
			uint8_t *out, size_t cap, size_t *out_len)
{
	size_t off = 32;

	if (hs->initiator || !live(hs) || !got_re(hs) || sent_e(hs))
		return JV_ERR_STATE;
	if (cap < payload_len + JV_NOISE_MSG2_OVERHEAD)
		return JV_ERR_SHORT;
	write_e(hs, e_priv, out);                                  /* e */
	if (mix_dh(hs, hs->e_priv, hs->re))                         /* ee */
		return fail(hs, JV_ERR_AUTH);
	if (mix_dh(hs, hs->e_priv, hs->rs))                         /* se */
		return fail(hs, JV_ERR_AUTH);
	if (hs->has_psk)
		mix_key_and_hash(hs, hs->psk, 32);                  /* psk */
	off += encrypt_and_hash(hs, payload, payload_len, out + off);
	*out_len = off;
	return 0;
}

int jv_noise_read_msg2(struct jv_noise *hs, const uint8_t *in, size_t len,
		       uint8_t *payload, size_t cap, size_t *payload_len)
{
	size_t plen;

	if (!hs->initiator || !live(hs) || !sent_e(hs) || got_re(hs))
		return JV_ERR_STATE;
	if (len < JV_NOISE_MSG2_OVERHEAD)
		return JV_ERR_SHORT;
	plen = len - JV_NOISE_MSG2_OVERHEAD;
	if (cap < plen)
		return JV_ERR_SHORT;
	read_e(hs, in);                                             /* e */
	if (mix_dh(hs, hs->e_priv, hs->re))                         /* ee */
		return fail(hs, JV_ERR_AUTH);
	if (mix_dh(hs, hs->s_priv, hs->re))                         /* se */
		return fail(hs, JV_ERR_AUTH);
	if (hs->has_psk)
		mix_key_and_hash(hs, hs->psk, 32);                  /* psk */
	if (decrypt_and_hash(hs, in + 32, plen + JV_NOISE_TAGLEN, payload))
		return fail(hs, JV_ERR_AUTH);
	*payload_len = plen;
	return 0;
}

const uint8_t *jv_noise_remote_static(const struct jv_noise *hs)
{
	return hs->rs;
}

void jv_noise_split(struct jv_noise *hs, uint8_t k1[32], uint8_t k2[32],
		    uint8_t hash[JV_NOISE_HASHLEN])
{
	uint8_t t1[64], t2[64];

	jv_noise_hkdf(hs->ck, NULL, 0, t1, t2, NULL);
	memcpy(k1, t1, 32);
	memcpy(k2, t2, 32);
	memcpy(hash, hs->h, JV_NOISE_HASHLEN);
	sodium_memzero(t1, sizeof(t1));
	sodium_memzero(t2, sizeof(t2));
	jv_noise_wipe(hs);
}

void jv_noise_wipe(struct jv_noise *hs)
{
	sodium_memzero(hs, sizeof(*hs));
}
