#include "proto/cookie.h"

#include <sodium.h>
#include <string.h>

#include "core/err.h"

_Static_assert(JV_COOKIE_LEN >= crypto_generichash_KEYBYTES_MIN,
	       "a cookie keys mac2");
_Static_assert(JV_MAC_LEN >= crypto_generichash_BYTES_MIN, "MAC length");

static void hash_label(uint8_t out[32], const char label[8],
		       const uint8_t pub[32])
{
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	crypto_generichash_update(&st, (const uint8_t *)label, 8);
	crypto_generichash_update(&st, pub, 32);
	crypto_generichash_final(&st, out, 32);
}

static void mac(uint8_t out[JV_MAC_LEN], const uint8_t *key, size_t key_len,
		const uint8_t *msg, size_t len)
{
	crypto_generichash(out, JV_MAC_LEN, msg, len, key, key_len);
}

void jv_cookie_keys_init(struct jv_cookie_keys *k,
			 const uint8_t server_pub[32])
{
	hash_label(k->mac1, "mac1----", server_pub);
	hash_label(k->seal, "cookie--", server_pub);
}

void jv_hs_init_macs(const struct jv_cookie_keys *k, const uint8_t *cookie,
		     uint8_t msg[JV_HS_INIT_LEN])
{
	mac(msg + JV_HS_INIT_MAC1_OFF, k->mac1, sizeof(k->mac1), msg,
	    JV_HS_INIT_MAC1_OFF);
	if (cookie)
		mac(msg + JV_HS_INIT_MAC2_OFF, cookie, JV_COOKIE_LEN, msg,
		    JV_HS_INIT_MAC2_OFF);
	else
		memset(msg + JV_HS_INIT_MAC2_OFF, 0, JV_MAC_LEN);
}

bool jv_hs_init_mac1_ok(const struct jv_cookie_keys *k,
			const uint8_t msg[JV_HS_INIT_LEN])
{
	uint8_t want[JV_MAC_LEN];
	bool ok;

	mac(want, k->mac1, sizeof(k->mac1), msg, JV_HS_INIT_MAC1_OFF);
	ok = crypto_verify_16(want, msg + JV_HS_INIT_MAC1_OFF) == 0;
	sodium_memzero(want, sizeof(want));
	return ok;
}

void jv_cookie_checker_init(struct jv_cookie_checker *ck,
			    const uint8_t server_pub[32])
{
	memset(ck, 0, sizeof(*ck));
	jv_cookie_keys_init(&ck->keys, server_pub);
}

bool jv_cookie_secret_due(const struct jv_cookie_checker *ck, uint64_t now)
{
	return !ck->has_secret || now < ck->secret_ms ||
	       now - ck->secret_ms >= JV_COOKIE_SECRET_MS;
}

void jv_cookie_secret_set(struct jv_cookie_checker *ck,
			  const uint8_t secret[32], uint64_t now)
{
	memcpy(ck->secret, secret, sizeof(ck->secret));
	ck->secret_ms = now;
	ck->has_secret = true;
}

static void make_cookie(const struct jv_cookie_checker *ck, const uint8_t *src,
			size_t src_len, uint8_t cookie[JV_COOKIE_LEN])
{
	mac(cookie, ck->secret, sizeof(ck->secret), src, src_len);
}

bool jv_hs_init_mac2_ok(const struct jv_cookie_checker *ck,
			const uint8_t msg[JV_HS_INIT_LEN], const uint8_t *src,
			size_t src_len, uint64_t now)
{
	uint8_t cookie[JV_COOKIE_LEN], want[JV_MAC_LEN];
	bool ok;

	/* zeros: sent without a cookie (no MAC is worth two BLAKE2b to
	 * find wrong); a flood of those costs the check nothing */
	if (jv_cookie_secret_due(ck, now) ||
	    sodium_is_zero(msg + JV_HS_INIT_MAC2_OFF, JV_MAC_LEN))
		return false;
	make_cookie(ck, src, src_len, cookie);
	mac(want, cookie, sizeof(cookie), msg, JV_HS_INIT_MAC2_OFF);
	ok = crypto_verify_16(want, msg + JV_HS_INIT_MAC2_OFF) == 0;
	sodium_memzero(cookie, sizeof(cookie));
	sodium_memzero(want, sizeof(want));
	return ok;
}

int jv_cookie_reply_make(const struct jv_cookie_checker *ck,
			 const uint8_t msg[JV_HS_INIT_LEN], const uint8_t *src,
			 size_t src_len,
			 const uint8_t nonce[JV_COOKIE_NONCE_LEN], uint8_t *out,
			 size_t cap)
{
	struct jv_cookie_reply r;
	uint8_t cookie[JV_COOKIE_LEN];
	unsigned long long n = 0;
	int rc;

	if (!ck->has_secret)
		return JV_ERR_STATE;
	r.receiver_index = jv_get_le32(msg + 4);
	memcpy(r.nonce, nonce, sizeof(r.nonce));
	make_cookie(ck, src, src_len, cookie);
	crypto_aead_xchacha20poly1305_ietf_encrypt(
		r.sealed, &n, cookie, sizeof(cookie), msg + JV_HS_INIT_MAC1_OFF,
		JV_MAC_LEN, NULL, r.nonce, ck->keys.seal);
	rc = jv_cookie_reply_encode(&r, out, cap);
	sodium_memzero(cookie, sizeof(cookie));
	return rc;
}

int jv_cookie_reply_open(const struct jv_cookie_keys *k,
			 const struct jv_cookie_reply *r,
			 const uint8_t mac1[JV_MAC_LEN],
			 uint8_t cookie[JV_COOKIE_LEN])
{
	unsigned long long n = 0;

	if (crypto_aead_xchacha20poly1305_ietf_decrypt(
		    cookie, &n, NULL, r->sealed, sizeof(r->sealed), mac1,
		    JV_MAC_LEN, r->nonce, k->seal) != 0 ||
	    n != JV_COOKIE_LEN)
		return JV_ERR_AUTH;
	return JV_OK;
}
