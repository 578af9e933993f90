/* Noise IK and IKpsk2 against the published cacophony vectors, byte for
 * byte, plus tampering, truncation and a second, naive HMAC computation. */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "proto/noise.h"
#include "tests/unit/unit.h"

struct blob {
	uint8_t b[512];
	size_t n;
};

struct vector {
	char name[64];
	struct blob prologue, i_s, i_e, i_rs, r_s, r_e, psk, hash;
	bool has_psk;
	struct blob payload[8], cipher[8];
	size_t nmsg;
};

static struct vector vecs[2];

static void hex(struct blob *out, json_t *v)
{
	const char *s = json_string_value(v);

	assert_non_null(s);
	assert_int_equal(sodium_hex2bin(out->b, sizeof(out->b), s, strlen(s),
					NULL, &out->n, NULL), 0);
}

static int load(void **state)
{
	const char *dir = getenv("JV_VECTORS");
	char path[512];
	json_error_t jerr;
	json_t *root, *arr;

	(void)state;
	if (sodium_init() < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/noise-ik-25519-chachapoly-blake2b.json",
		 dir ? dir : "tests/vectors");
	root = json_load_file(path, 0, &jerr);
	if (!root) {
		fprintf(stderr, "%s: %s\n", path, jerr.text);
		return -1;
	}
	arr = json_object_get(root, "vectors");
	if (json_array_size(arr) != 2)
		return -1;
	for (size_t i = 0; i < 2; i++) {
		json_t *v = json_array_get(arr, i), *m;
		struct vector *t = &vecs[i];

		snprintf(t->name, sizeof(t->name), "%s",
			 json_string_value(json_object_get(v, "protocol_name")));
		hex(&t->prologue, json_object_get(v, "init_prologue"));
		hex(&t->i_s, json_object_get(v, "init_static"));
		hex(&t->i_e, json_object_get(v, "init_ephemeral"));
		hex(&t->i_rs, json_object_get(v, "init_remote_static"));
		hex(&t->r_s, json_object_get(v, "resp_static"));
		hex(&t->r_e, json_object_get(v, "resp_ephemeral"));
		hex(&t->hash, json_object_get(v, "handshake_hash"));
		if (json_object_get(v, "init_psks")) {
			t->has_psk = true;
			hex(&t->psk, json_array_get(
				json_object_get(v, "init_psks"), 0));
		}
		m = json_object_get(v, "messages");
		t->nmsg = json_array_size(m);
		if (t->nmsg < 3 || t->nmsg > 8)
			return -1;
		for (size_t j = 0; j < t->nmsg; j++) {
			hex(&t->payload[j],
			    json_object_get(json_array_get(m, j), "payload"));
			hex(&t->cipher[j],
			    json_object_get(json_array_get(m, j), "ciphertext"));
		}
	}
	json_decref(root);
	return 0;
}

typedef int write_msg_fn(struct jv_noise *hs, const uint8_t e_priv[32],
			 const uint8_t *payload, size_t payload_len,
			 uint8_t *out, size_t cap, size_t *out_len);
typedef int read_msg_fn(struct jv_noise *hs, const uint8_t *in, size_t len,
			uint8_t *payload, size_t cap, size_t *payload_len);

/* Handshake message i of vector t: written by `from` with the ephemeral
 * key e, it is the vector's ciphertext byte for byte, and `to` reads the
 * vector's payload back from it. */
static void vector_msg(const struct vector *t, size_t i,
		       write_msg_fn *write_msg, struct jv_noise *from,
		       const uint8_t *e, read_msg_fn *read_msg,
		       struct jv_noise *to)
{
	uint8_t out[600], pt[600];
	size_t n, pn;

	assert_int_equal(write_msg(from, e, t->payload[i].b, t->payload[i].n,
				   out, sizeof(out), &n), 0);
	assert_int_equal(n, t->cipher[i].n);
	assert_memory_equal(out, t->cipher[i].b, n);
	assert_int_equal(read_msg(to, out, n, pt, sizeof(pt), &pn), 0);
	assert_int_equal(pn, t->payload[i].n);
	assert_memory_equal(pt, t->payload[i].b, pn);
}

static void run_vector(const struct vector *t)
{
	struct jv_noise ini, res;
	uint8_t out[600], pt[600], k1i[32], k2i[32], k1r[32], k2r[32];
	uint8_t hi[64], hr[64];
	const uint8_t *psk = t->has_psk ? t->psk.b : NULL;

	assert_int_equal(jv_noise_init(&ini, true, t->prologue.b, t->prologue.n,
				       t->i_s.b, t->i_rs.b, psk), 0);
	{
		uint8_t pub[32];

		/* the responder with its public key given, as servers do */
		crypto_scalarmult_base(pub, t->r_s.b);
		assert_int_equal(jv_noise_init_keys(&res, false, t->prologue.b,
						    t->prologue.n, t->r_s.b, pub,
						    NULL, psk), 0);
	}
	vector_msg(t, 0, jv_noise_write_msg1, &ini, t->i_e.b,
		   jv_noise_read_msg1, &res);
	/* the responder learned the initiator's static key */
	{
		uint8_t pub[32];

		crypto_scalarmult_base(pub, t->i_s.b);
		assert_memory_equal(jv_noise_remote_static(&res), pub, 32);
	}
	vector_msg(t, 1, jv_noise_write_msg2, &res, t->r_e.b,
		   jv_noise_read_msg2, &ini);

	jv_noise_split(&ini, k1i, k2i, hi);
	jv_noise_split(&res, k1r, k2r, hr);
	assert_memory_equal(hi, t->hash.b, 64);
	assert_memory_equal(hr, t->hash.b, 64);
	assert_memory_equal(k1i, k1r, 32);
	assert_memory_equal(k2i, k2r, 32);

	/* transport messages alternate, counters per direction from 0 */
	for (size_t j = 2; j < t->nmsg; j++) {
		bool from_ini = (j % 2) == 0;
		uint64_t ctr = (j - 2) / 2;
		const uint8_t *k = from_ini ? k1i : k2i;

		assert_int_equal(jv_noise_encrypt(k, ctr, NULL, 0, t->payload[j].b,
						  t->payload[j].n, out), 0);
		assert_int_equal(t->payload[j].n + 16, t->cipher[j].n);
		assert_memory_equal(out, t->cipher[j].b, t->cipher[j].n);
		assert_int_equal(jv_noise_decrypt(from_ini ? k1r : k2r, ctr, NULL,
						  0, out, t->cipher[j].n, pt), 0);
		assert_memory_equal(pt, t->payload[j].b, t->payload[j].n);
		/* the wrong counter must not open it */
		assert_int_equal(jv_noise_decrypt(k, ctr + 1, NULL, 0, out,
						  t->cipher[j].n, pt),
				 JV_ERR_AUTH);
	}
	/* split wiped the handshake state */
	{
		static const struct jv_noise zero;

		assert_memory_equal(&ini, &zero, sizeof(zero));
	}
}

static uint8_t cached_ss[32];
static int ss_calls;

static int lookup_ss(void *ctx, const uint8_t rs[32], uint8_t ss[32])
{
	(void)ctx, (void)rs;
	ss_calls++;
	memcpy(ss, cached_ss, 32);
	return 0;
}

/* The responder with a cached static-static DH produces the same bytes. */
JV_TEST(test_vector_cached_ss)
{
	const struct vector *t = &vecs[0];
	struct jv_noise ini, res;
	uint8_t out[600], pt[600], ipub[32];
	size_t n, pn;

	crypto_scalarmult_base(ipub, t->i_s.b);
	assert_int_equal(crypto_scalarmult(cached_ss, t->r_s.b, ipub), 0);
	jv_noise_init(&ini, true, t->prologue.b, t->prologue.n, t->i_s.b,
		      t->i_rs.b, NULL);
	jv_noise_init(&res, false, t->prologue.b, t->prologue.n, t->r_s.b, NULL,
		      NULL);
	res.ss_lookup = lookup_ss;
	ini.ss_lookup = lookup_ss;
	ss_calls = 0;
	jv_noise_write_msg1(&ini, t->i_e.b, t->payload[0].b, t->payload[0].n,
			    out, sizeof(out), &n);
	assert_memory_equal(out, t->cipher[0].b, n);
	assert_int_equal(jv_noise_read_msg1(&res, out, n, pt, sizeof(pt), &pn), 0);
	jv_noise_write_msg2(&res, t->r_e.b, t->payload[1].b, t->payload[1].n,
			    out, sizeof(out), &n);
	assert_memory_equal(out, t->cipher[1].b, n);
	assert_int_equal(ss_calls, 2);
	/* a wrong cached value must break the handshake */
	cached_ss[0] ^= 1;
	jv_noise_init(&ini, true, t->prologue.b, t->prologue.n, t->i_s.b,
		      t->i_rs.b, NULL);
	jv_noise_init(&res, false, t->prologue.b, t->prologue.n, t->r_s.b, NULL,
		      NULL);
	res.ss_lookup = lookup_ss;
	jv_noise_write_msg1(&ini, t->i_e.b, NULL, 0, out, sizeof(out), &n);
	assert_int_equal(jv_noise_read_msg1(&res, out, n, pt, sizeof(pt), &pn),
			 JV_ERR_AUTH);
}

JV_TEST(test_vector_ik)
{
	assert_string_equal(vecs[0].name, "Noise_IK_25519_ChaChaPoly_BLAKE2b");
	assert_false(vecs[0].has_psk);
	run_vector(&vecs[0]);
}

JV_TEST(test_vector_ikpsk2)
{
	assert_string_equal(vecs[1].name,
			    "Noise_IKpsk2_25519_ChaChaPoly_BLAKE2b");
	assert_true(vecs[1].has_psk);
	run_vector(&vecs[1]);
}

/* A fresh msg1 from vector 0, for the hostile tests. */
static size_t make_msg1(struct jv_noise *res, uint8_t *out, const uint8_t *psk)
{
	const struct vector *t = &vecs[0];
	struct jv_noise ini;
	size_t n;

	jv_noise_init(&ini, true, t->prologue.b, t->prologue.n, t->i_s.b,
		      t->i_rs.b, psk);
	assert_int_equal(jv_noise_write_msg1(&ini, t->i_e.b, t->payload[0].b,
					     t->payload[0].n, out, 600, &n), 0);
	jv_noise_wipe(&ini);
	jv_noise_init(res, false, t->prologue.b, t->prologue.n, t->r_s.b, NULL,
		      psk);
	return n;
}

JV_TEST(test_tampered_msg1)
{
	uint8_t msg[600], pt[600];
	struct jv_noise res;
	size_t n, pn;

	n = make_msg1(&res, msg, NULL);
	for (size_t i = 0; i < n; i++) {
		make_msg1(&res, msg, NULL);
		msg[i] ^= 0x01;
		assert_int_equal(jv_noise_read_msg1(&res, msg, n, pt, sizeof(pt),
						    &pn), JV_ERR_AUTH);
	}
}

JV_TEST(test_truncated)
{
	const struct vector *t = &vecs[0];
	uint8_t msg[600], m2[600], pt[600];
	struct jv_noise res, ini;
	size_t n, n2, pn;

	n = make_msg1(&res, msg, NULL);
	for (size_t len = 0; len < n; len++) {
		int rc;

		make_msg1(&res, msg, NULL);
		rc = jv_noise_read_msg1(&res, msg, len, pt, sizeof(pt), &pn);
		assert_true(rc == JV_ERR_SHORT || rc == JV_ERR_AUTH);
	}
	/* msg2 truncated at every length */
	for (size_t len = 0; len < 64; len++) {
		int rc;

		make_msg1(&res, msg, NULL);
		jv_noise_init(&ini, true, t->prologue.b, t->prologue.n, t->i_s.b,
			      t->i_rs.b, NULL);
		jv_noise_write_msg1(&ini, t->i_e.b, NULL, 0, msg, sizeof(msg), &n);
		assert_int_equal(jv_noise_read_msg1(&res, msg, n, pt, sizeof(pt),
						    &pn), 0);
		assert_int_equal(pn, 0);
		assert_int_equal(jv_noise_write_msg2(&res, t->r_e.b, NULL, 0, m2,
						     sizeof(m2), &n2), 0);
		assert_int_equal(n2, JV_NOISE_MSG2_OVERHEAD);
		if (len >= n2)
			break;
		rc = jv_noise_read_msg2(&ini, m2, len, pt, sizeof(pt), &pn);
		assert_true(rc == JV_ERR_SHORT || rc == JV_ERR_AUTH);
	}
}

JV_TEST(test_wrong_responder_key)
{
	const struct vector *t = &vecs[0];
	uint8_t msg[600], pt[600], other[32];
	struct jv_noise res;
	size_t n, pn;

	n = make_msg1(&res, msg, NULL);
	memcpy(other, t->r_s.b, 32);
	other[5] ^= 0x40;
	jv_noise_init(&res, false, t->prologue.b, t->prologue.n, other, NULL,
		      NULL);
	assert_int_equal(jv_noise_read_msg1(&res, msg, n, pt, sizeof(pt), &pn),
			 JV_ERR_AUTH);
}

JV_TEST(test_wrong_psk)
{
	const struct vector *t = &vecs[1];
	uint8_t msg[600], m2[600], pt[600], bad[32];
	struct jv_noise ini, res;
	size_t n, pn;

	memcpy(bad, t->psk.b, 32);
	bad[0] ^= 1;
	jv_noise_init(&ini, true, t->prologue.b, t->prologue.n, t->i_s.b,
		      t->i_rs.b, t->psk.b);
	jv_noise_init(&res, false, t->prologue.b, t->prologue.n, t->r_s.b, NULL,
		      bad);
	assert_int_equal(jv_noise_write_msg1(&ini, t->i_e.b, NULL, 0, msg,
					     sizeof(msg), &n), 0);
	/* psk2 only enters at the end of message 2 */
	assert_int_equal(jv_noise_read_msg1(&res, msg, n, pt, sizeof(pt), &pn), 0);
	assert_int_equal(jv_noise_write_msg2(&res, t->r_e.b, NULL, 0, m2,
					     sizeof(m2), &n), 0);
	assert_int_equal(jv_noise_read_msg2(&ini, m2, n, pt, sizeof(pt), &pn),
			 JV_ERR_AUTH);
}

JV_TEST(test_small_buffers_and_order)
{
	const struct vector *t = &vecs[0];
	uint8_t msg[600], pt[600];
	struct jv_noise ini, res;
	size_t n, pn;

	jv_noise_init(&ini, true, t->prologue.b, t->prologue.n, t->i_s.b,
		      t->i_rs.b, NULL);
	assert_int_equal(jv_noise_write_msg1(&ini, t->i_e.b, pt, 10, msg,
					     10 + JV_NOISE_MSG1_OVERHEAD - 1, &n),
			 JV_ERR_SHORT);
	/* the responder cannot write msg1, the initiator cannot read it */
	jv_noise_init(&res, false, t->prologue.b, t->prologue.n, t->r_s.b, NULL,
		      NULL);
	assert_int_equal(jv_noise_write_msg1(&res, t->r_e.b, NULL, 0, msg,
					     sizeof(msg), &n), JV_ERR_STATE);
	assert_int_equal(jv_noise_write_msg2(&res, t->r_e.b, NULL, 0, msg,
					     sizeof(msg), &n), JV_ERR_STATE);
	/* payload buffer too small for msg1's payload */
	n = make_msg1(&res, msg, NULL);
	assert_int_equal(jv_noise_read_msg1(&res, msg, n, pt,
					    t->payload[0].n - 1, &pn),
			 JV_ERR_SHORT);
	/* an initiator without the responder's key is refused */
	assert_int_equal(jv_noise_init(&ini, true, NULL, 0, t->i_s.b, NULL,
				       NULL), JV_ERR_INVAL);
}

/* Runs vector 0 up to a written msg2; returns its length. */
static size_t make_msg2(struct jv_noise *ini, struct jv_noise *res,
			uint8_t *m2)
{
	const struct vector *t = &vecs[0];
	uint8_t m1[600], pt[600];
	size_t n, pn;

	jv_noise_init(ini, true, t->prologue.b, t->prologue.n, t->i_s.b,
		      t->i_rs.b, NULL);
	jv_noise_init(res, false, t->prologue.b, t->prologue.n, t->r_s.b, NULL,
		      NULL);
	assert_int_equal(jv_noise_write_msg1(ini, t->i_e.b, NULL, 0, m1,
					     sizeof(m1), &n), 0);
	assert_int_equal(jv_noise_read_msg1(res, m1, n,
					    pt, sizeof(pt), &pn), 0);
	assert_int_equal(jv_noise_write_msg2(res, t->r_e.b, t->payload[1].b,
					     t->payload[1].n, m2, 600, &n), 0);
	return n;
}

static void assert_wiped(const struct jv_noise *hs)
{
	static const struct jv_noise zero;

	assert_memory_equal(hs, &zero, sizeof(zero));
}

JV_TEST(test_tampered_msg2)
{
	uint8_t m2[600], pt[600];
	struct jv_noise ini, res;
	size_t n, pn;

	n = make_msg2(&ini, &res, m2);
	for (size_t i = 0; i < n; i++) {
		make_msg2(&ini, &res, m2);
		m2[i] ^= 0x80;
		assert_int_equal(jv_noise_read_msg2(&ini, m2, n, pt, sizeof(pt),
						    &pn), JV_ERR_AUTH);
		/* a failed handshake is spent and holds no secret */
		assert_wiped(&ini);
		m2[i] ^= 0x80;
		assert_int_equal(jv_noise_read_msg2(&ini, m2, n, pt, sizeof(pt),
						    &pn), JV_ERR_STATE);
	}
}

/* test_order's moves: either side writes or reads message 1 or 2, or
 * splits. A move is who | what | which message (0 for 1, 1 for 2). A
 * message written is kept (m[0], m[1]) for the reads that follow; a write
 * that fails leaves the last one as it was. */
enum { BY_RES = 8, WRITE = 0, READ = 2, SPLIT = 4 };

enum order_move {
	INI_WRITE1 = WRITE, INI_READ1 = READ, INI_READ2 = READ | 1,
	INI_SPLIT = SPLIT, RES_READ1 = BY_RES | READ,
	RES_WRITE2 = BY_RES | WRITE | 1, RES_SPLIT = BY_RES | SPLIT,
};

struct order {
	const struct vector *t;
	struct jv_noise ini, res;
	uint8_t m[2][600];
	size_t n[2];
};

static int order_move(struct order *o, enum order_move move)
{
	static write_msg_fn *const write_msg[2] = { jv_noise_write_msg1,
						    jv_noise_write_msg2 };
	static read_msg_fn *const read_msg[2] = { jv_noise_read_msg1,
						  jv_noise_read_msg2 };
	bool by_res = move & BY_RES;
	struct jv_noise *hs = by_res ? &o->res : &o->ini;
	const uint8_t *e = by_res ? o->t->r_e.b : o->t->i_e.b;
	uint8_t out[600], k1[32], k2[32], h[64];
	size_t n, pn;
	int i = move & 1, rc;

	switch (move & (READ | SPLIT)) {
	case WRITE:
		rc = write_msg[i](hs, e, NULL, 0, out, sizeof(out), &n);
		if (rc == 0) {
			memcpy(o->m[i], out, n);
			o->n[i] = n;
		}
		return rc;
	case READ:
		return read_msg[i](hs, o->m[i], o->n[i], out, sizeof(out), &pn);
	default:
		jv_noise_split(hs, k1, k2, h);
		return 0;
	}
}

/* Each message once, in order; nothing after a failure or a split. */
JV_TEST(test_order)
{
	static const struct {
		enum order_move move;
		int want;
	} moves[] = {
		/* nothing before message 1 but writing it */
		{ INI_READ2, JV_ERR_STATE },
		{ INI_READ1, JV_ERR_STATE },
		{ RES_WRITE2, JV_ERR_STATE },
		{ INI_WRITE1, 0 },
		{ INI_WRITE1, JV_ERR_STATE },
		{ RES_READ1, 0 },
		{ RES_READ1, JV_ERR_STATE },
		{ RES_WRITE2, 0 },
		{ RES_WRITE2, JV_ERR_STATE },
		{ INI_READ2, 0 },
		{ INI_READ2, JV_ERR_STATE },
		/* a split ends it */
		{ INI_SPLIT, 0 },
		{ INI_WRITE1, JV_ERR_STATE },
		{ RES_SPLIT, 0 },
		{ RES_READ1, JV_ERR_STATE },
	};
	/* the reads before any write see 100 bytes */
	struct order o = { .t = &vecs[0], .n = { 100, 100 } };
	const struct vector *t = o.t;
	uint8_t m1[600], m2[600], pt[600];
	size_t n1, n2, pn;

	jv_noise_init(&o.ini, true, t->prologue.b, t->prologue.n, t->i_s.b,
		      t->i_rs.b, NULL);
	jv_noise_init(&o.res, false, t->prologue.b, t->prologue.n, t->r_s.b,
		      NULL, NULL);
	for (size_t i = 0; i < sizeof(moves) / sizeof(moves[0]); i++) {
		int rc = order_move(&o, moves[i].move);

		if (rc != moves[i].want)
			fail_msg("move %zu: %d, want %d", i, rc, moves[i].want);
	}

	/* a responder whose msg1 failed must not answer it */
	n1 = make_msg1(&o.res, m1, NULL);
	m1[n1 - 1] ^= 1;
	assert_int_equal(jv_noise_read_msg1(&o.res, m1, n1, pt, sizeof(pt), &pn),
			 JV_ERR_AUTH);
	assert_wiped(&o.res);
	assert_int_equal(jv_noise_write_msg2(&o.res, t->r_e.b, NULL, 0, m2,
					     sizeof(m2), &n2), JV_ERR_STATE);
}

/* All-zero public keys make the DH output zero: refused, not mixed. */
JV_TEST(test_low_order)
{
	const struct vector *t = &vecs[0];
	static const uint8_t zero[32];
	uint8_t m1[600], m2[600], pt[600];
	struct jv_noise ini, res;
	size_t n, pn;

	n = make_msg1(&res, m1, NULL);
	memset(m1, 0, 32);
	assert_int_equal(jv_noise_read_msg1(&res, m1, n, pt, sizeof(pt), &pn),
			 JV_ERR_AUTH);
	assert_wiped(&res);
	jv_noise_init(&ini, true, NULL, 0, t->i_s.b, zero, NULL);
	assert_int_equal(jv_noise_write_msg1(&ini, t->i_e.b, NULL, 0, m1,
					     sizeof(m1), &n), JV_ERR_AUTH);
	assert_wiped(&ini);
	n = make_msg2(&ini, &res, m2);
	memset(m2, 0, 32);
	assert_int_equal(jv_noise_read_msg2(&ini, m2, n, pt, sizeof(pt), &pn),
			 JV_ERR_AUTH);
}

/* Too small a buffer on message 2 fails before any state change. */
JV_TEST(test_small_buffers_msg2)
{
	const struct vector *t = &vecs[0];
	uint8_t m1[600], m2[600], pt[600];
	struct jv_noise ini, res;
	size_t n, pn;

	jv_noise_init(&ini, true, t->prologue.b, t->prologue.n, t->i_s.b,
		      t->i_rs.b, NULL);
	jv_noise_init(&res, false, t->prologue.b, t->prologue.n, t->r_s.b, NULL,
		      NULL);
	jv_noise_write_msg1(&ini, t->i_e.b, NULL, 0, m1, sizeof(m1), &n);
	assert_int_equal(jv_noise_read_msg1(&res, m1, n,
					    pt, sizeof(pt), &pn), 0);
	assert_int_equal(jv_noise_write_msg2(&res, t->r_e.b, t->payload[1].b,
					     t->payload[1].n, m2,
					     t->payload[1].n +
					     JV_NOISE_MSG2_OVERHEAD - 1, &n),
			 JV_ERR_SHORT);
	assert_int_equal(jv_noise_write_msg2(&res, t->r_e.b, t->payload[1].b,
					     t->payload[1].n, m2, sizeof(m2),
					     &n), 0);
	assert_int_equal(n, t->payload[1].n + JV_NOISE_MSG2_OVERHEAD);
	assert_int_equal(jv_noise_read_msg2(&ini, m2, n, pt,
					    t->payload[1].n - 1, &pn),
			 JV_ERR_SHORT);
	assert_int_equal(jv_noise_read_msg2(&ini, m2, n, pt, t->payload[1].n,
					    &pn), 0);
	assert_int_equal(pn, t->payload[1].n);
	assert_memory_equal(pt, t->payload[1].b, pn);
}

/* HMAC computed a second way: one-shot hashes of explicit buffers. */
static void naive_hmac(uint8_t out[64], const uint8_t key[64],
		       const uint8_t *m, size_t mlen)
{
	uint8_t buf[128 + 200], inner[64];

	for (int i = 0; i < 128; i++)
		buf[i] = (uint8_t)((i < 64 ? key[i] : 0) ^ 0x36);
	memcpy(buf + 128, m, mlen);
	crypto_generichash(inner, 64, buf, 128 + mlen, NULL, 0);
	for (int i = 0; i < 128; i++)
		buf[i] = (uint8_t)((i < 64 ? key[i] : 0) ^ 0x5c);
	memcpy(buf + 128, inner, 64);
	crypto_generichash(out, 64, buf, 128 + 64, NULL, 0);
}

JV_TEST(test_hkdf_independent)
{
	uint8_t ck[64], ikm[40], o1[64], o2[64], o3[64], tk[64], e[65];
	uint8_t x1[64], x2[64], x3[64];

	for (int i = 0; i < 64; i++)
		ck[i] = (uint8_t)(i * 7 + 1);
	for (int i = 0; i < 40; i++)
		ikm[i] = (uint8_t)(200 - i);
	jv_noise_hkdf(ck, ikm, sizeof(ikm), o1, o2, o3);
	naive_hmac(tk, ck, ikm, sizeof(ikm));
	e[0] = 1;
	naive_hmac(x1, tk, e, 1);
	memcpy(e, x1, 64);
	e[64] = 2;
	naive_hmac(x2, tk, e, 65);
	memcpy(e, x2, 64);
	e[64] = 3;
	naive_hmac(x3, tk, e, 65);
	assert_memory_equal(o1, x1, 64);
	assert_memory_equal(o2, x2, 64);
	assert_memory_equal(o3, x3, 64);
	assert_memory_not_equal(o1, o2, 64);
}

JV_TEST(test_aead_short)
{
	uint8_t k[32] = { 1 }, out[16] = { 0 };

	assert_int_equal(jv_noise_decrypt(k, 0, NULL, 0, out, 15, out),
			 JV_ERR_SHORT);
}

JV_TEST_GROUP(load, NULL);
