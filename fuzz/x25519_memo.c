/* The libFuzzer programs only (fuzz/meson.build, docs/FUZZING.md "Speed"):
 * X25519 remembered. Every endpoint input rebuilds the same world from
 * the same keys and runs the same handshake, so the same few scalar
 * multiplications (public keys, the static-static DH, the handshake's
 * ephemeral DHs) recur on every input and were half of the time. These
 * definitions take the place of libsodium's for the engine linked into
 * the program: a result already computed for the same scalar and point
 * comes from a small table, anything else from libsodium's
 * crypto_scalarmult_curve25519, which crypto_scalarmult is. The results,
 * the return codes and so the behaviour are libsodium's, whatever the
 * table holds: an input does the same alone as after a million others.
 * It keeps private keys in memory: never in anything but a fuzz build. */
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#error "fuzz/x25519_memo.c belongs in the libFuzzer programs only"
#endif

#include <sodium.h>
#include <stdbool.h>
#include <string.h>

#define MEMO_SLOTS 256          /* a power of two; the world needs ~12 */

struct memo {
	bool used;
	bool base;
	uint8_t n[32], p[32], q[32];
};

static struct memo memo[MEMO_SLOTS];

static struct memo *slot(const uint8_t *n, const uint8_t *p)
{
	uint32_t h = 2166136261u;

	for (int i = 0; i < 32; i++)
		h = (h ^ n[i]) * 16777619u;
	for (int i = 0; p && i < 32; i++)
		h = (h ^ p[i]) * 16777619u;
	h ^= h >> 16;      /* the low bits, the slot, from every byte */
	return &memo[h & (MEMO_SLOTS - 1)];
}

/* Only successes are kept: a refused point (low order) goes to libsodium
 * every time, which decides what q holds then. */
static int remembered(uint8_t *q, const uint8_t *n, const uint8_t *p)
{
	struct memo *m = slot(n, p);
	int rc;

	if (m->used && m->base == !p && !memcmp(m->n, n, 32) &&
	    (!p || !memcmp(m->p, p, 32))) {
		memcpy(q, m->q, 32);
		return 0;
	}
	rc = p ? crypto_scalarmult_curve25519(q, n, p)
	       : crypto_scalarmult_curve25519_base(q, n);
	if (rc != 0)
		return rc;
	m->used = true;
	m->base = !p;
	memcpy(m->n, n, 32);
	if (p)
		memcpy(m->p, p, 32);
	memcpy(m->q, q, 32);
	return 0;
}

int crypto_scalarmult(unsigned char *q, const unsigned char *n,
		      const unsigned char *p)
{
	return remembered(q, n, p);
}

int crypto_scalarmult_base(unsigned char *q, const unsigned char *n)
{
	return remembered(q, n, NULL);
}
