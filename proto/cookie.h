/* DoS cookies for the handshake (WireGuard's cookie.c and its whitepaper,
 * section 5.4.7), on libsodium.
 *
 * Every HS_INIT ends in two MACs that nothing inside Noise covers:
 *   mac1 = MAC(HASH("mac1----" || server_pub), msg[0..JV_HS_INIT_MAC1_OFF))
 *   mac2 = MAC(cookie, msg[0..JV_HS_INIT_MAC2_OFF)), or zeros with no cookie
 * mac1 shows the sender knows the server's public key; the server checks it
 * before any Diffie-Hellman. Under load the server answers an HS_INIT that
 * has no valid mac2 with a COOKIE_REPLY instead:
 *   cookie = MAC(secret, source path bytes), the secret random and
 *            replaced every JV_COOKIE_SECRET_MS
 *   sealed = XChaCha20-Poly1305(key = HASH("cookie--" || server_pub),
 *            nonce = 24 bytes never used before (the server: a random
 *            16-byte prefix per secret and a count), AD = the HS_INIT's
 *            mac1, cookie)
 * so only a sender that receives at its source address can produce mac2.
 *
 * WireGuard's MAC is keyed BLAKE2s-128 and its HASH BLAKE2s-256; jvpn uses
 * libsodium's BLAKE2b for both (crypto_generichash: keyed with a 16-byte
 * output for MAC, unkeyed with 32 bytes for HASH), as its Noise suite
 * already does. Randomness (nonces, secrets) comes from the caller. */
#ifndef JV_COOKIE_H
#define JV_COOKIE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

#define JV_COOKIE_SECRET_MS 120000
/* The initiator stops using a cookie this long before the server's secret
 * could have changed under it (WireGuard's COOKIE_SECRET_LATENCY). */
#define JV_COOKIE_LATENCY_MS 5000
#define JV_COOKIE_VALID_MS (JV_COOKIE_SECRET_MS - JV_COOKIE_LATENCY_MS)

/* The two keys derived from the server's public key: both ends hold them. */
struct jv_cookie_keys {
	uint8_t mac1[32];
	uint8_t seal[32];
};

void jv_cookie_keys_init(struct jv_cookie_keys *k,
			 const uint8_t server_pub[32]);

/* Initiator: writes mac1 and mac2 (zeros when cookie is NULL) at the end of
 * a whole HS_INIT msg whose Noise message is in place. */
void jv_hs_init_macs(const struct jv_cookie_keys *k, const uint8_t *cookie,
		     uint8_t msg[JV_HS_INIT_LEN]);

/* Responder: whether a whole HS_INIT's mac1 is right (constant time). */
bool jv_hs_init_mac1_ok(const struct jv_cookie_keys *k,
			const uint8_t msg[JV_HS_INIT_LEN]);

/* The responder's cookie state. */
struct jv_cookie_checker {
	struct jv_cookie_keys keys;
	uint8_t secret[32];
	uint64_t secret_ms;            /* when secret was drawn */
	bool has_secret;
};

void jv_cookie_checker_init(struct jv_cookie_checker *ck,
			    const uint8_t server_pub[32]);
/* Whether the secret must be replaced before a cookie is made at now (none
 * yet, or JV_COOKIE_SECRET_MS old). */
bool jv_cookie_secret_due(const struct jv_cookie_checker *ck, uint64_t now);
/* Installs a fresh random secret drawn by the caller at now. */
void jv_cookie_secret_set(struct jv_cookie_checker *ck,
			  const uint8_t secret[32], uint64_t now);

/* Responder: whether a whole HS_INIT's mac2 is right for a cookie made
 * from src (the source path bytes) under the current secret. An expired
 * secret makes every mac2 wrong; so do zeros (no cookie), found without
 * any hash. */
bool jv_hs_init_mac2_ok(const struct jv_cookie_checker *ck,
			const uint8_t msg[JV_HS_INIT_LEN], const uint8_t *src,
			size_t src_len, uint64_t now);

/* Responder: the COOKIE_REPLY for HS_INIT msg from src, with the caller's
 * nonce (never one used before: the seal key does not change). The secret must be current (jv_cookie_secret_due false).
 * Writes JV_COOKIE_REPLY_LEN bytes; returns that or a negative error. */
int jv_cookie_reply_make(const struct jv_cookie_checker *ck,
			 const uint8_t msg[JV_HS_INIT_LEN], const uint8_t *src,
			 size_t src_len,
			 const uint8_t nonce[JV_COOKIE_NONCE_LEN], uint8_t *out,
			 size_t cap);

/* Initiator: opens a decoded COOKIE_REPLY against the mac1 of the HS_INIT
 * it would answer. JV_OK with the cookie, or JV_ERR_AUTH. */
int jv_cookie_reply_open(const struct jv_cookie_keys *k,
			 const struct jv_cookie_reply *r,
			 const uint8_t mac1[JV_MAC_LEN],
			 uint8_t cookie[JV_COOKIE_LEN]);

#endif
